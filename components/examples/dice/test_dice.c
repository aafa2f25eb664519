/*
 * test_dice: the dice bot's handlers (main.c, included without its main)
 * against the fake router of
 * <xmppd/testing.h>, without xmppd: rolls and their checks, errors never
 * answered, the two stages of the settings command (a bad value refused,
 * next, complete), presence on subscription with the domain's caps, and
 * each user's state surviving a restart on the same SQLite file.
 */
#define DICE_NO_MAIN
#include "main.c"

#include <string.h>
#include <unistd.h>

#include <xmppd/caps.h>
#include <xmppd/testing.h>

#define BOT    "dice.example"
#define JULIET "juliet@example.org/balcony"

static int failures;

static void
check(int ok, const char *what)
{
    if (!ok) {
        failures++;
        fprintf(stderr, "FAIL: %s\n", what);
    } else
        printf("ok: %s\n", what);
}

struct rig {
    xd_fake_router *r;
    xd_config *cfg;
    struct dice d;
};

static void
rig_open(struct rig *g, const char *path)
{
    memset(g, 0, sizeof(*g));
    if (xd_fake_router_new(&g->r) != 0 ||
        xd_fake_router_config(g->r, "dice", BOT, NULL, &g->cfg) != 0 ||
        xd_component_new(g->cfg, "dice", xd_fake_router_base(g->r),
                         &g->d.comp) != 0 ||
        dice_setup(&g->d, path) != 0 ||
        xd_fake_router_start(g->r, g->d.comp) != 0) {
        fprintf(stderr, "cannot start the bot\n");
        exit(1);
    }
}

static void
rig_close(struct rig *g)
{
    xd_component_free(g->d.comp);
    xd_db_close(g->d.db);
    xd_fake_router_free(g->r);
    xd_config_free(g->cfg);
}

/* The bot's answer to a chat message from Juliet (its body, "" if none). */
static const char *
say(struct rig *g, const char *body)
{
    char xml[256];

    snprintf(xml, sizeof(xml),
             "<message from='" JULIET "' to='" BOT "' type='chat' id='m1'>"
             "<body>%s</body></message>",
             body);
    const xd_stanza *out = xd_fake_router_ask(g->r, xml);
    const char *t = out ? xd_stanza_child_text(out, "body", XD_NS_CLIENT) : 0;
    return t ? t : "";
}

/* 1 when text is n dice of 1..sides and their sum, at roll `roll`. */
static int
is_roll(const char *text, int n, int sides, int roll)
{
    int sum = 0, got = 0, v, used, total, r;

    for (;;) {
        if (sscanf(text, "%d%n", &v, &used) != 1 || v < 1 || v > sides)
            return 0;
        sum += v, got++, text += used;
        if (strncmp(text, " + ", 3) != 0)
            break;
        text += 3;
    }
    return sscanf(text, " = %d (roll %d)", &total, &r) == 2 && got == n &&
           total == sum && r == roll;
}

/* Sends a command request (sid "": a new one); returns the answer. */
static const xd_stanza *
command(struct rig *g, const char *sid, const char *action, const char *form)
{
    char xml[1024], attr[160] = "";

    if (*sid)
        snprintf(attr, sizeof(attr), " sessionid='%s'", sid);
    snprintf(xml, sizeof(xml),
             "<iq type='set' id='c' from='" JULIET "' to='" BOT "'>"
             "<command xmlns='" XD_NS_COMMANDS "' node='settings'%s"
             " action='%s'>%s</command></iq>",
             attr, action, form);
    return xd_fake_router_ask(g->r, xml);
}

/* The <command/> of a result, NULL for anything else. */
static xd_elem *
cmd_of(const xd_stanza *out)
{
    if (out == NULL || strcmp(xd_stanza_type(out), "result") != 0)
        return NULL;
    return xd_elem_child(xd_stanza_root(out), "command", XD_NS_COMMANDS);
}

static const char *
status_of(const xd_elem *cmd)
{
    const char *s = cmd ? xd_elem_attr(cmd, "status") : NULL;
    return s ? s : "";
}

static void
test_chat_and_command(struct rig *g)
{
    char sid[128];

    check(is_roll(say(g, "roll"), 2, 6, 1), "roll: two six-sided dice");
    check(is_roll(say(g, "again"), 2, 6, 2), "any message rolls: roll 2");
    int n = xd_fake_router_count(g->r);
    xd_fake_router_send(g->r, "<message from='" JULIET "' to='" BOT
                              "' type='error'><body>roll</body></message>");
    xd_test_run_for_ms(xd_fake_router_base(g->r), 100);
    check(xd_fake_router_count(g->r) == n, "an error is not answered");

    xd_elem *c = cmd_of(command(g, "", "execute", ""));
    xd_elem *x = c ? xd_form_find(c) : NULL;
    check(strcmp(status_of(c), "executing") == 0 && x &&
              strcmp(xd_form_value(x, "count"), "2") == 0 &&
              strcmp(xd_form_value(x, "sides"), "6") == 0,
          "the command's first stage shows the dice so far, 2d6");
    snprintf(sid, sizeof(sid), "%s", c ? xd_elem_attr(c, "sessionid") : "");
    const xd_stanza *err =
        command(g, sid, "next",
                "<x xmlns='jabber:x:data' type='submit'><field var='count'>"
                "<value>11</value></field><field var='sides'><value>20</value>"
                "</field></x>");
    check(err && xd_stanza_is_error(err) &&
              strcmp(xd_stanza_error_condition(err), "bad-request") == 0,
          "11 dice: bad-request, not the next stage");
    c = cmd_of(
        command(g, sid, "next",
                "<x xmlns='jabber:x:data' type='submit'><field var='count'>"
                "<value>4</value></field><field var='sides'><value>20</value>"
                "</field></x>"));
    x = c ? xd_form_find(c) : NULL;
    const char *fixed =
        x ? xd_elem_child_text(xd_elem_child(x, "field", NULL), "value", NULL)
          : NULL;
    check(fixed && strcmp(fixed, "You will roll 4d20.") == 0,
          "the second stage says what the first chose");
    c = cmd_of(command(g, sid, "complete",
                       "<x xmlns='jabber:x:data' type='submit'>"
                       "<field var='reset'><value>1</value></field></x>"));
    check(strcmp(status_of(c), "completed") == 0 && c &&
              strcmp(xd_elem_child_text(c, "note", NULL), "Saved.") == 0,
          "completed and saved");
    check(is_roll(say(g, "roll"), 4, 20, 1), "roll now throws 4d20, from 0");
}

static void
test_presence(struct rig *g)
{
    const char *node, *ver;
    int n = xd_fake_router_count(g->r);

    xd_fake_router_send(g->r, "<presence type='subscribe' "
                              "from='juliet@example.org' to='" BOT "'/>");
    xd_fake_router_wait(g->r, n + 2);
    const xd_stanza *sub = xd_fake_router_got(g->r, n);
    const xd_stanza *on = xd_fake_router_got(g->r, n + 1);
    xd_elem *caps =
        on ? xd_elem_child(xd_stanza_root(on), "c", XD_NS_CAPS) : NULL;
    check(sub && strcmp(xd_stanza_type(sub), "subscribed") == 0,
          "a subscription is approved");
    check(on && xd_stanza_type(on) == NULL &&
              strcmp(xd_stanza_child_text(on, "status", XD_NS_CLIENT),
                     "Say something: I roll") == 0,
          "then the bot is shown available");
    check(caps && xd_component_caps(g->d.comp, &node, &ver) == 0 &&
              strcmp(xd_elem_attr(caps, "ver"), ver) == 0,
          "with the domain's caps");
}

int
main(void)
{
    char dir[] = "/tmp/test_dice_XXXXXX", path[64];
    struct rig g;

    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/dice.db", dir);
    rig_open(&g, path);
    test_chat_and_command(&g);
    test_presence(&g);
    rig_close(&g);

    rig_open(&g, path); /* a restart: the same file */
    xd_fake_router_wait(g.r, 1);
    const xd_stanza *up = xd_fake_router_got(g.r, 0);
    check(up && xd_stanza_kind_of(up) == XD_STANZA_PRESENCE &&
              xd_stanza_type(up) == NULL &&
              strcmp(xd_stanza_to(up), "juliet@example.org") == 0,
          "after a restart the subscriber is told the bot is available");
    check(is_roll(say(&g, "roll"), 4, 20, 2), "after a restart: 4d20, roll 2");
    int n = xd_fake_router_count(g.r);
    xd_fake_router_send(g.r, "<presence type='probe' "
                             "from='juliet@example.org' to='" BOT "'/>");
    xd_fake_router_wait(g.r, n + 1);
    const xd_stanza *p = xd_fake_router_got(g.r, n);
    check(p && xd_stanza_type(p) == NULL, "the subscriber's probe: available");
    rig_close(&g);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
