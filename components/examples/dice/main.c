/* xmppd-dice: a dice bot on a domain of its own. Any message rolls your
 * dice; the ad-hoc command "settings" (two stages) chooses them; each
 * user's dice and count of rolls are kept in SQLite, with who subscribed.
 * The unit test includes this file with DICE_NO_MAIN defined. */
#define _DEFAULT_SOURCE /* arc4random_uniform */
#define XD_LOG_AREA     "dice"
#include <stdio.h>
#include <stdlib.h> /* arc4random_uniform */

#include <xmppd/command.h>
#include <xmppd/config.h>
#include <xmppd/form.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>
#include <xmppd/presence.h>

struct dice {
    xd_component *comp;
    xd_db *db;
    char *db_path; /* the one key of our own in [dice] */
};

static const char *const dice_schema[] = {
    "CREATE TABLE users (jid TEXT PRIMARY KEY, count INTEGER NOT NULL, "
    "sides INTEGER NOT NULL, rolls INTEGER NOT NULL)",
};
static const long long dice_sides[] = { 4, 6, 8, 10, 12, 20 };

static xd_verdict
dice_message(xd_component *c, const xd_stanza *in, void *arg)
{
    struct dice *d = arg;
    char text[256] = "Try again later.", who[XD_JID_BARE_MAX];
    long long n, sides, rolls, total = 0;
    int len = 0;

    if (xd_jid_bare_of(xd_stanza_from(in), who, sizeof(who)) != 0 ||
        xd_stanza_is_error(in) ||
        !xd_stanza_child_text(in, "body", XD_NS_CLIENT))
        return XD_PASS; /* never answer errors: two bots would loop */
    if (xd_db_get(
            d->db,
            "INSERT INTO users VALUES (?, 2, 6, 1) ON CONFLICT (jid) "
            "DO UPDATE SET rolls = rolls + 1 RETURNING count, sides, rolls",
            XD_DB_TEXT(who), XD_DB_OUT_INT(&n), XD_DB_OUT_INT(&sides),
            XD_DB_OUT_INT(&rolls)) == 0) {
        for (long long i = 0; i < n; i++) {
            long long r = 1 + arc4random_uniform((unsigned)sides);
            total += r;
            len += snprintf(text + len, sizeof(text) - len, "%s%lld",
                            i ? " + " : "", r);
        }
        snprintf(text + len, sizeof(text) - len, " = %lld (roll %lld)", total,
                 rolls);
    }
    xd_component_send(c, xd_stanza_message_reply(in, text));
    return XD_HANDLED;
}

/* Stage 0: how many dice, of how many sides (the user's so far). */
static void
dice_ask(xd_command_ctx *cx, xd_elem *x)
{
    struct dice *d = xd_command_arg(cx);
    long long n = 2, sides = 6;

    xd_db_get(d->db, "SELECT count, sides FROM users WHERE jid = ?",
              XD_DB_TEXT(xd_command_requester_bare(cx)), XD_DB_OUT_INT(&n),
              XD_DB_OUT_INT(&sides));
    xd_elem *f = xd_form_add_int(x, "count", "text-single", "Dice", n);
    xd_form_field_validate_int(xd_form_field_required(f), 1, 10);
    f = xd_form_add_int(x, "sides", "list-single", "Sides", sides);
    xd_form_field_add_int_options(xd_form_field_required(f), dice_sides,
                                  XD_NELEM(dice_sides));
}

/* Stage 1: what stage 0 chose, and whether to count from 0 again. */
static void
dice_confirm(xd_command_ctx *cx, xd_elem *x)
{
    xd_form_add_fixedf(x, "You will roll %sd%s.", xd_command_value(cx, "count"),
                       xd_command_value(cx, "sides"));
    xd_form_add_bool(x, "reset", "Count your rolls from 0 again", 0);
}

/* The values were checked by the framework against the forms above;
 * xd_command_value_* reads those of any stage, `values` the last one's. */
static xd_command_status
dice_save(xd_command_ctx *cx, const xd_elem *values)
{
    struct dice *d = xd_command_arg(cx);

    (void)values;
    int rc = xd_db_run(d->db,
                       "INSERT INTO users VALUES (?1, ?2, ?3, 0) ON CONFLICT "
                       "(jid) DO UPDATE SET count = ?2, sides = ?3, "
                       "rolls = CASE WHEN ?4 THEN 0 ELSE rolls END",
                       XD_DB_TEXT(xd_command_requester_bare(cx)),
                       XD_DB_INT(xd_command_value_int(cx, "count")),
                       XD_DB_INT(xd_command_value_int(cx, "sides")),
                       XD_DB_INT(xd_command_value_bool(cx, "reset")));
    xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO,
                        rc ? "Not saved: try again later." : "Saved.");
    return XD_COMMAND_COMPLETED;
}

static const xd_command_stage dice_stages[] = {
    { "Your dice", NULL, dice_ask, NULL },
    { "Confirm", NULL, dice_confirm, NULL },
};
static const xd_command dice_cmd = {
    "settings", "Choose your dice", dice_stages, 2, dice_save, NULL, NULL
};

/* Everything but the configuration: main() and the unit test call it. */
static int
dice_setup(struct dice *d, const char *db_path)
{
    int rc;

    if ((rc = xd_db_open(db_path, dice_schema, 1, &d->db)) != 0 ||
        (rc = xd_component_add_command(d->comp, &dice_cmd, d)) != 0 ||
        (rc = xd_presence_online(d->comp, d->db, "Say something: I roll")))
        return rc;
    xd_component_add_identity(d->comp, "component", "generic", "Dice");
    xd_component_on(d->comp, XD_STANZA_MESSAGE, NULL, dice_message, d);
    return 0;
}

#ifndef DICE_NO_MAIN
static const xd_config_key dice_keys[] = {
    XD_CFG_FIELD_STRING(struct dice, db_path, "dice.db",
                        "SQLite file: the users' dice and subscriptions"),
    XD_CFG_END,
};
static const xd_program dice_program = { "xmppd-dice", "1.0", NULL, NULL };

int
main(int argc, char *argv[])
{
    struct dice d = { 0 };
    xd_config *cfg = xd_component_main(argc, argv, &dice_program, "dice",
                                       dice_keys, &d, &d.comp);

    if (dice_setup(&d, d.db_path) != 0)
        xd_fatalx("[dice] db_path %s: cannot start", d.db_path);
    int rc = xd_component_run_main(d.comp, cfg, dice_keys, &d);
    xd_db_close(d.db); /* after the component, which borrowed it */
    return rc;
}
#endif
