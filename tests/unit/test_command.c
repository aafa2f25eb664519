/*
 * Unit tests for command.c and its hooks in component.c: a component
 * talking to the fake router of <xmppd/testing.h> on a loopback socket
 * offers XEP-0050 commands. Each table row is a request the router sends
 * and what the answer must contain (and must not); sessions, cancel, the
 * time-out and xd_component_free hand the command its state back; entity
 * commands are offered at local@domain JIDs only, sessions stay at theirs.
 */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/command.h>
#include <xmppd/form.h>

#include <xmppd/testing.h>

/* White box: the session time-out is shortened for the test. */
#include "../../framework/src/component_internal.h"

#define CMDS "http://jabber.org/protocol/commands"

/* Sends one request and returns the answer as a string (caller frees), or
 * NULL when none came. */
static char *
ask(xd_fake_router *r, const char *xml)
{
    int before = xd_fake_router_count(r);

    xd_fake_router_send(r, xml);
    xd_fake_router_wait(r, before + 1);
    if (xd_fake_router_count(r) != before + 1)
        return NULL;
    return xd_elem_to_string(xd_stanza_root(xd_fake_router_got(r, before)),
                             NULL);
}

/* --- the commands -------------------------------------------------------- */

struct counters {
    int calls, cancels, states_live;
    char last_cancel_from[64];
};

static xd_command_status
cmd_hello(xd_component *c, const xd_stanza *iq, const xd_elem *submitted,
          int stage, xd_elem *reply, void **state, void *arg)
{
    struct counters *k = arg;

    (void)c;
    (void)iq;
    (void)submitted;
    (void)state;
    k->calls++;
    if (stage < 0)
        return XD_COMMAND_COMPLETED;
    xd_elem *note = xd_elem_set_child_text(reply, "note", CMDS, "Hello");
    xd_elem_set_attr(note, "type", "info");
    return XD_COMMAND_COMPLETED;
}

/* Two stages: a form, then the submitted value; `state` holds a malloc()ed
 * copy of the requester to prove the state travels and is freed. */
static xd_command_status
cmd_config(xd_component *c, const xd_stanza *iq, const xd_elem *submitted,
           int stage, xd_elem *reply, void **state, void *arg)
{
    struct counters *k = arg;

    (void)c;
    k->calls++;
    if (stage < 0) {
        k->cancels++;
        snprintf(k->last_cancel_from, sizeof(k->last_cancel_from), "%s",
                 xd_stanza_from(iq));
        if (*state != NULL)
            k->states_live--;
        free(*state);
        *state = NULL;
        return XD_COMMAND_COMPLETED;
    }
    if (stage == 0) {
        if (submitted != NULL)
            return XD_COMMAND_BAD_REQUEST;
        *state = xd_xstrdup(xd_stanza_from(iq));
        k->states_live++;
        xd_elem *x = xd_form_add(reply, "form", "Config", NULL);
        xd_form_add_field(x, "size", "text-single", "Size", "10");
        return XD_COMMAND_EXECUTING;
    }
    const char *mine = *state;
    int same = mine != NULL && strcmp(mine, xd_stanza_from(iq)) == 0;
    unsigned long size = 0;
    free(*state);
    *state = NULL;
    k->states_live--;
    if (!same || xd_form_uint(submitted, "size", 100, &size) != 0)
        return XD_COMMAND_BAD_REQUEST;
    char text[32];
    snprintf(text, sizeof(text), "size %lu at stage %d", size, stage);
    xd_elem_set_child_text(reply, "note", CMDS, text);
    return XD_COMMAND_COMPLETED;
}

static xd_command_status
cmd_deny(xd_component *c, const xd_stanza *iq, const xd_elem *submitted,
         int stage, xd_elem *reply, void **state, void *arg)
{
    (void)c;
    (void)iq;
    (void)submitted;
    (void)stage;
    (void)reply;
    (void)state;
    (void)arg;
    return XD_COMMAND_FORBIDDEN;
}

static int
only_admin(xd_component *c, const char *requester, const char *target,
           void *arg)
{
    (void)c;
    (void)target;
    (void)arg;
    return strncmp(requester, "admin@example.com/", 18) == 0;
}

static int
only_room1(xd_component *c, const char *requester, const char *target,
           void *arg)
{
    (void)c;
    (void)requester;
    (void)arg;
    return strcmp(target, "r1@comp.example") == 0;
}

/* A handler for the commands namespace registered by the component runs
 * before the framework's commands. */
static xd_verdict
on_commands_iq(xd_component *c, const xd_stanza *in, void *arg)
{
    const xd_elem *cmd = xd_elem_first(xd_stanza_root(in));
    const char *node = xd_elem_attr(cmd, "node");
    int *seen = arg;

    if (node == NULL || strcmp(node, "mine") != 0)
        return XD_PASS;
    (*seen)++;
    xd_stanza *res = xd_stanza_reply(in);
    xd_elem_set_attr(xd_elem_add_child(xd_stanza_root(res), "command", CMDS),
                     "node", "handled-by-handler");
    xd_component_send(c, res);
    return XD_HANDLED;
}

/* --- requests ------------------------------------------------------------ */

#define IQ(type, from)                                                         \
    "<iq type='" type "' id='i' to='comp.example' from='" from "'>"
#define IQ_AT(type, from, to)                                                  \
    "<iq type='" type "' id='i' to='" to "' from='" from "'>"
#define ROOM1   "r1@comp.example"
#define ROOM2   "r2@comp.example"
#define USER    "user@example.com/r"
#define ADMIN   "admin@example.com/r"
#define ITEMS   "<query xmlns='http://jabber.org/protocol/disco#items' "
#define INFO    "<query xmlns='http://jabber.org/protocol/disco#info' "
#define COMMAND "<command xmlns='" CMDS "' "

struct row {
    const char *xml;
    /* Substrings the answer must have, or with a leading '!' must not. */
    const char *want[6];
};

static void
run_rows(xd_fake_router *r, const struct row *rows, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        char *got = ask(r, rows[i].xml);
        int ok = got != NULL;
        for (size_t j = 0; ok && j < 6 && rows[i].want[j]; j++) {
            const char *w = rows[i].want[j];
            ok =
                *w == '!' ? strstr(got, w + 1) == NULL : strstr(got, w) != NULL;
        }
        CHECK(ok, "%s row %zu: %s\n  answer: %s", what, i, rows[i].xml,
              got ? got : "(none)");
        free(got);
    }
}

/* Copies the sessionid of the last answer into sid. */
static void
last_sessionid(xd_fake_router *r, char *sid, size_t len)
{
    const xd_elem *cmd =
        xd_fake_router_count(r)
            ? xd_elem_child(xd_stanza_root(xd_fake_router_got(
                                r, xd_fake_router_count(r) - 1)),
                            "command", CMDS)
            : NULL;
    const char *s = cmd ? xd_elem_attr(cmd, "sessionid") : NULL;

    snprintf(sid, len, "%s", s ? s : "");
}

/* xd_command_add_note: one call, the three XEP-0050 types. */
static void
test_note(void)
{
    xd_stanza *st = xd_stanza_new("command", CMDS);
    xd_elem *cmd = xd_stanza_root(st);

    xd_command_add_note(cmd, XD_COMMAND_NOTE_INFO, "Done & dusted.");
    xd_command_add_note(cmd, XD_COMMAND_NOTE_WARN, "Careful");
    xd_command_add_note(cmd, XD_COMMAND_NOTE_ERROR, NULL);
    char *s = xd_elem_to_string(cmd, NULL);
    CHECK(strcmp(s, "<command xmlns='" CMDS "'><note type='info'>Done &amp; "
                    "dusted.</note><note type='warn'>Careful</note><note "
                    "type='error'/></command>") == 0,
          "notes: %s", s);
    free(s);
    xd_stanza_unref(st);
}

int
main(void)
{
    xd_fake_router *r = NULL;
    char ini[512], sid[64], sid2[64], xml[1024];
    xd_config *cfg = NULL;
    xd_component *comp = NULL;
    struct counters hello = { 0 }, config = { 0 }, ent = { 0 }, entcfg = { 0 };
    int handler_seen = 0;

    test_note();
    xd_fake_router_new(&r);
    snprintf(ini, sizeof(ini),
             "[c]\ndomain = comp.example\nsecret = s3cret\n"
             "router_host = 127.0.0.1\nrouter_port = %u\n",
             xd_fake_router_port(r));
    xd_config_load_string(ini, "test.ini", &cfg);
    CHECK(xd_component_new(cfg, "c", xd_fake_router_base(r), &comp) == 0,
          "component made");
    xd_component_add_identity(comp, "component", "generic", "Test");
    CHECK(xd_fake_router_start(r, comp) == 0 && xd_fake_router_handshakes(r),
          "link up");

    /* No command registered: disco exactly as before. */
    static const struct row before[] = {
        { IQ("get", USER) INFO "/></iq>",
          { "type='result'", "urn:xmpp:ping", "!" CMDS } },
        { IQ("get", USER) ITEMS "node='" CMDS "'/></iq>",
          { "type='error'", "<service-unavailable" } },
        { IQ("set", USER) COMMAND "node='hello' action='execute'/></iq>",
          { "type='error'", "<service-unavailable" } },
    };
    run_rows(r, before, XD_NELEM(before), "no commands");

    xd_component_add_command(comp, "hello", "Say hello", cmd_hello, NULL,
                             &hello);
    xd_component_add_command(comp, "config", "Configure", cmd_config, NULL,
                             &config);
    xd_component_add_command(comp, "admin", "Admin only", cmd_hello, only_admin,
                             &hello);
    xd_component_add_command(comp, "deny", "Always no", cmd_deny, NULL, NULL);
    /* A second registration of a node changes nothing. */
    xd_component_add_command(comp, "hello", "Duplicate", cmd_deny, NULL, NULL);
    xd_component_on(comp, XD_STANZA_IQ, CMDS, on_commands_iq, &handler_seen);

    static const struct row disco[] = {
        { IQ("get", USER) INFO "/></iq>",
          { "type='result'", "var='" CMDS "'", "var='urn:xmpp:ping'",
            "name='Test'" } },
        { IQ("get", USER) ITEMS "node='" CMDS "'/></iq>",
          { "node='" CMDS "'",
            "<item jid='comp.example' node='hello' name='Say hello'/>",
            "<item jid='comp.example' node='config' name='Configure'/>",
            "!node='admin'", "!Duplicate" } },
        { IQ("get", ADMIN) ITEMS "node='" CMDS "'/></iq>",
          { "<item jid='comp.example' node='admin' name='Admin only'/>",
            "node='hello'" } },
        /* The domain's own items stay as they were. */
        { IQ("get", USER) ITEMS "/></iq>",
          { "type='result'", "!node='hello'" } },
        { IQ("get", USER) INFO "node='config'/></iq>",
          { "node='config'",
            "<identity category='automation' type='command-node' "
            "name='Configure'/>",
            "var='" CMDS "'", "var='jabber:x:data'" } },
        { IQ("get", USER) INFO "node='admin'/></iq>", { "<forbidden" } },
        { IQ("get", USER) INFO "node='nosuch'/></iq>",
          { "type='error'", "!automation" } },
    };
    run_rows(r, disco, XD_NELEM(disco), "disco");

    static const struct row exec[] = {
        { IQ("set", USER) COMMAND "node='hello' action='execute'/></iq>",
          { "status='completed'", "node='hello'", "sessionid='",
            "<note type='info'>Hello</note>", "!<actions", "!type='error'" } },
        /* action defaults to execute */
        { IQ("set", USER) COMMAND "node='hello'/></iq>",
          { "status='completed'" } },
        { IQ("set", USER) COMMAND "node='nosuch'/></iq>",
          { "type='error'", "<item-not-found" } },
        { IQ("set", USER) COMMAND "/></iq>",
          { "type='error'", "<bad-request" } },
        { IQ("set", USER) COMMAND "node='admin'/></iq>",
          { "type='error'", "<forbidden" } },
        { IQ("set", ADMIN) COMMAND "node='admin'/></iq>",
          { "status='completed'" } },
        { IQ("set", USER) COMMAND "node='deny'/></iq>",
          { "type='error'", "<forbidden" } },
        { IQ("set", USER) COMMAND "node='hello' action='dance'/></iq>",
          { "<bad-request", "<malformed-action xmlns='" CMDS "'/>" } },
        { IQ("set", USER) COMMAND "node='hello' action='prev'/></iq>",
          { "<bad-request", "<bad-action xmlns='" CMDS "'/>" } },
        { IQ("set", USER) COMMAND "node='hello' sessionid='nope'/></iq>",
          { "<bad-request", "<bad-sessionid xmlns='" CMDS "'/>" } },
        /* cancel without a session: nothing to end */
        { IQ("set", USER) COMMAND "node='hello' action='cancel'/></iq>",
          { "status='canceled'" } },
        /* an iq get is no execution */
        { IQ("get", USER) COMMAND "node='hello'/></iq>",
          { "<service-unavailable" } },
        /* the component's own handler comes first */
        { IQ("set", USER) COMMAND "node='mine'/></iq>",
          { "node='handled-by-handler'" } },
    };
    run_rows(r, exec, XD_NELEM(exec), "execute");
    CHECK(handler_seen == 1, "the registered handler ran once");
    CHECK(hello.calls == 3 && hello.cancels == 0, "hello ran 3 times (%d)",
          hello.calls);

    /* Two stages. */
    static const struct row stage0[] = {
        { IQ("set", USER) COMMAND "node='config' action='execute'/></iq>",
          { "status='executing'",
            "<actions execute='complete'><complete/></actions>",
            "<field var='size' type='text-single' label='Size'>",
            "sessionid='" } },
    };
    run_rows(r, stage0, 1, "stage 0");
    last_sessionid(r, sid, sizeof(sid));
    CHECK(strlen(sid) == 16 && config.states_live == 1, "session %s open", sid);
    snprintf(xml, sizeof(xml),
             IQ("set", "other@example.com/r") COMMAND
             "node='config' sessionid='%s'/></iq>",
             sid);
    const struct row stolen[] = {
        { xml, { "<bad-sessionid" } },
    };
    run_rows(r, stolen, 1, "another requester's session");
    snprintf(xml, sizeof(xml),
             IQ("set", USER) COMMAND "node='hello' sessionid='%s'/></iq>", sid);
    const struct row wrongnode[] = {
        { xml, { "<bad-sessionid" } },
    };
    run_rows(r, wrongnode, 1, "session of another node");
    snprintf(xml, sizeof(xml),
             IQ("set", USER) COMMAND
             "node='config' sessionid='%s' action='complete'>"
             "<x xmlns='jabber:x:data' type='submit'><field var='size'>"
             "<value>42</value></field></x></command></iq>",
             sid);
    const struct row stage1[] = {
        { xml,
          { "status='completed'", "size 42 at stage 1", sid, "!<actions",
            "!type='error'" } },
        /* the session is gone once completed */
        { xml, { "<bad-sessionid" } },
    };
    run_rows(r, stage1, XD_NELEM(stage1), "stage 1");
    CHECK(config.states_live == 0 && config.cancels == 0,
          "state freed by the command, no cancel");

    /* A bad form ends the session with bad-request. */
    free(ask(r, IQ("set", USER) COMMAND "node='config'/></iq>"));
    last_sessionid(r, sid, sizeof(sid));
    snprintf(xml, sizeof(xml),
             IQ("set", USER) COMMAND "node='config' sessionid='%s'>"
                                     "<x xmlns='jabber:x:data' type='submit'>"
                                     "<field var='size'><value>500</value>"
                                     "</field></x></command></iq>",
             sid);
    const struct row badform[] = {
        { xml, { "<bad-request", "<bad-payload xmlns='" CMDS "'/>" } },
        { xml, { "<bad-sessionid" } },
    };
    run_rows(r, badform, XD_NELEM(badform), "bad form");
    CHECK(config.states_live == 0, "state freed after bad-request");

    /* Cancel: the command sees stage -1 and frees its state. */
    free(ask(r, IQ("set", USER) COMMAND "node='config'/></iq>"));
    last_sessionid(r, sid, sizeof(sid));
    snprintf(xml, sizeof(xml),
             IQ("set", USER) COMMAND
             "node='config' sessionid='%s' action='cancel'/></iq>",
             sid);
    const struct row cancel[] = {
        { xml, { "type='result'", "status='canceled'", sid } },
        { xml, { "<bad-sessionid" } },
    };
    run_rows(r, cancel, XD_NELEM(cancel), "cancel");
    CHECK(config.cancels == 1 && config.states_live == 0 &&
              strcmp(config.last_cancel_from, USER) == 0,
          "cancel ended the session (%d cancels, %d live)", config.cancels,
          config.states_live);

    /* Entity commands: at local@domain JIDs, not at the domain. */
    xd_component_add_entity_command(comp, "room-hello", "Room hello", cmd_hello,
                                    NULL, &ent);
    xd_component_add_entity_command(comp, "room-one", "Room one only",
                                    cmd_hello, only_room1, &ent);
    xd_component_add_entity_command(comp, "room-config", "Room config",
                                    cmd_config, NULL, &entcfg);
    static const struct row entity[] = {
        { IQ_AT("get", USER, ROOM1) ITEMS "node='" CMDS "'/></iq>",
          { "<item jid='" ROOM1 "' node='room-hello' name='Room hello'/>",
            "<item jid='" ROOM1 "' node='room-one' name='Room one only'/>",
            "!node='hello'", "!node='config'" } },
        { IQ_AT("get", USER, ROOM2) ITEMS "node='" CMDS "'/></iq>",
          { "node='room-hello'", "!node='room-one'" } },
        { IQ("get", USER) ITEMS "node='" CMDS "'/></iq>",
          { "node='hello'", "!room-hello" } },
        { IQ_AT("get", USER, ROOM1) INFO "node='room-hello'/></iq>",
          { "<identity category='automation' type='command-node' "
            "name='Room hello'/>" } },
        { IQ_AT("set", USER, ROOM1) COMMAND "node='room-hello'/></iq>",
          { "status='completed'", "<note type='info'>Hello</note>" } },
        { IQ_AT("set", USER, ROOM1) COMMAND "node='hello'/></iq>",
          { "<item-not-found" } },
        { IQ("set", USER) COMMAND "node='room-hello'/></iq>",
          { "<item-not-found" } },
        { IQ_AT("set", USER, ROOM2) COMMAND "node='room-one'/></iq>",
          { "<forbidden" } },
        { IQ_AT("set", USER, ROOM1) COMMAND "node='room-one'/></iq>",
          { "status='completed'" } },
        /* an occupant-style full JID is not an entity */
        { IQ_AT("set", USER, ROOM1 "/nick") COMMAND "node='room-hello'/></iq>",
          { "<service-unavailable" } },
        /* a form submitted at once reaches the first stage (which this
         * command refuses) */
        { IQ_AT("set", USER, ROOM1) COMMAND
          "node='room-config'><x xmlns='jabber:x:data' type='submit'>"
          "<field var='size'><value>1</value></field></x></command></iq>",
          { "<bad-request", "<bad-payload" } },
    };
    run_rows(r, entity, XD_NELEM(entity), "entity commands");
    CHECK(ent.calls == 2, "the entity commands ran twice (%d)", ent.calls);
    free(ask(r, IQ_AT("set", USER, ROOM1) COMMAND "node='room-config'/></iq>"));
    last_sessionid(r, sid, sizeof(sid));
    snprintf(xml, sizeof(xml),
             IQ_AT("set", USER, ROOM2) COMMAND
             "node='room-config' sessionid='%s'/></iq>",
             sid);
    const struct row elsewhere[] = {
        { xml, { "<bad-sessionid" } },
    };
    run_rows(r, elsewhere, 1, "a session continued at another entity");
    snprintf(xml, sizeof(xml),
             IQ_AT("set", USER, ROOM1) COMMAND
             "node='room-config' sessionid='%s'><x xmlns='jabber:x:data' "
             "type='submit'><field var='size'><value>7</value></field></x>"
             "</command></iq>",
             sid);
    const struct row there[] = {
        { xml, { "status='completed'", "size 7 at stage 1" } },
    };
    run_rows(r, there, 1, "the session continued at its entity");
    CHECK(entcfg.states_live == 0, "the entity session's state is freed");

    /* Time-out: shortened to 100 ms here (10 minutes otherwise). */
    commands_set_timeout_ms(component_commands(comp), 100);
    free(ask(r, IQ("set", USER) COMMAND "node='config'/></iq>"));
    last_sessionid(r, sid, sizeof(sid));
    xd_test_run_until(xd_fake_router_base(r), &config.cancels, 2);
    CHECK(config.cancels == 2 && config.states_live == 0 &&
              strcmp(config.last_cancel_from, USER) == 0,
          "time-out ended the session");
    snprintf(xml, sizeof(xml),
             IQ("set", USER) COMMAND "node='config' sessionid='%s'/></iq>",
             sid);
    const struct row expired[] = {
        { xml, { "<bad-sessionid" } },
    };
    run_rows(r, expired, 1, "expired session");

    /* A session still open when the component goes is ended too. */
    commands_set_timeout_ms(component_commands(comp), 600000);
    free(ask(r, IQ("set", ADMIN) COMMAND "node='config'/></iq>"));
    last_sessionid(r, sid2, sizeof(sid2));
    CHECK(config.states_live == 1 && strcmp(sid, sid2) != 0,
          "a new session with a new id");
    xd_component_free(comp);
    CHECK(config.cancels == 3 && config.states_live == 0 &&
              strcmp(config.last_cancel_from, ADMIN) == 0,
          "xd_component_free ended the last session");

    xd_fake_router_free(r);
    xd_config_free(cfg);
    return check_report();
}
