/* xmppd-echo: answers every message that has a body with the same body,
 * and shows itself online to those who add it to their roster. */
#define XD_LOG_AREA "echo"
#include <stdlib.h>

#include <xmppd/component.h>
#include <xmppd/config.h>
#include <xmppd/db.h>
#include <xmppd/log.h>
#include <xmppd/presence.h>
#include <xmppd/stanza.h>
#include <xmppd/version.h>

struct echo_conf {
    char *db_path; /* NULL: subscriptions in memory only */
};

static const xd_config_key echo_keys[] = {
    XD_CFG_FIELD_STRING(struct echo_conf, db_path, NULL,
                        "SQLite file keeping who subscribed to the service's "
                        "presence (unset: kept in memory, forgotten at exit)"),
    XD_CFG_END,
};

struct echo {
    xd_component *comp;
    struct echo_conf conf;
    xd_db *db;              /* or NULL */
    unsigned long answered; /* for the shutdown log line */
};

static xd_verdict
echo_message(xd_component *comp, const xd_stanza *in, void *arg)
{
    struct echo *e = arg;
    const char *body = xd_stanza_child_text(in, "body", XD_NS_CLIENT);

    /* Never answer errors or bodiless messages: two echoes would loop. */
    if (body == NULL || xd_stanza_is_error(in))
        return XD_PASS;
    xd_stanza *out = xd_stanza_reply(in); /* to/from swapped, type kept */
    xd_stanza_set_child_text(out, "body", XD_NS_CLIENT, body);
    xd_component_send(comp, out); /* takes ownership of out */
    e->answered++;
    return XD_HANDLED;
}

/* What --help and --version print: the [echo] section holds the library's
 * keys and db_path. */
static const xd_config_section echo_sections[] = {
    { "echo", "the component and its link to the router", xd_component_keys,
      echo_keys },
    { NULL, NULL, NULL, NULL },
};
static const xd_program echo_program = { "xmppd-echo", XD_VERSION, NULL,
                                         echo_sections };

int
main(int argc, char *argv[])
{
    struct echo e = { 0 };
    xd_presence *presence;
    xd_config *cfg = xd_config_main(argc, argv, &echo_program, NULL);

    xd_log_init("xmppd-echo", cfg);
    int rc =
        xd_component_new_with(cfg, "echo", NULL, echo_keys, &e.conf, &e.comp);
    if (rc != 0)
        xd_fatalx("[echo] section incomplete, see echo.ini.example");
    if (e.conf.db_path != NULL &&
        xd_db_open(e.conf.db_path, NULL, 0, &e.db) != 0)
        xd_fatalx("[echo] db_path %s cannot be opened", e.conf.db_path);
    /* Subscriptions to the domain are approved; it shows online. */
    if (xd_presence_enable(e.comp, e.db, &presence) != 0)
        xd_fatalx("the presence subscriptions cannot be read");
    xd_presence_set(presence, NULL, XD_PRESENCE_ONLINE,
                    "Send me a message, I send it back");
    xd_component_add_identity(e.comp, "component", "generic", "Echo");
    xd_component_on(e.comp, XD_STANZA_MESSAGE, NULL, echo_message, &e);
    rc = xd_component_run(e.comp); /* until SIGTERM or SIGINT */
    xd_log_info("stopping after %lu messages", e.answered);
    xd_component_free(e.comp); /* and its presence helper */
    xd_db_close(e.db);
    xd_config_unbind(echo_keys, &e.conf);
    xd_config_free(cfg);
    return rc == 0 ? 0 : 1;
}
