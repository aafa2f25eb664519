/*
 * Unit tests for command.c and its hooks in component.c: a component
 * talking to the fake router (fake_router.h) on a loopback socket
 * offers XEP-0050 commands. Each table row is a request the router sends
 * and what the answer must contain (and must not); sessions, cancel, the
 * time-out and xd_component_free hand the command its state back; entity
 * commands are offered at local@domain JIDs only, sessions stay at theirs.
 */
#include "check.h"
#include <stdarg.h>
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
    int calls, ends, states_live;
    int why[XD_COMMAND_END_SHUTDOWN + 1]; /* end calls by reason */
    char last_end_from[64];
    char last_end_bare[64]; /* xd_command_requester_bare */
    long long count;        /* xd_command_value_int of "count" in run */
    int notify, typed;      /* xd_command_value_bool of "notify", and 1 while
                             * other fields read as 0 */
};

/* No stages: one run, a note. */
static xd_command_status
run_hello(xd_command_ctx *cx, const xd_elem *values)
{
    struct counters *k = xd_command_arg(cx);

    (void)values;
    k->calls++;
    xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO, "Hello");
    return XD_COMMAND_COMPLETED;
}

static xd_command_status
run_deny(xd_command_ctx *cx, const xd_elem *values)
{
    (void)cx;
    (void)values;
    return XD_COMMAND_FORBIDDEN;
}

/* The end function of every test command: counts, frees the state. */
static void
end_count(xd_command_ctx *cx, xd_command_end why)
{
    struct counters *k = xd_command_arg(cx);
    void **state = xd_command_state(cx);

    if (k == NULL)
        return;
    k->ends++;
    k->why[why]++;
    snprintf(k->last_end_from, sizeof(k->last_end_from), "%s",
             xd_command_requester(cx));
    snprintf(k->last_end_bare, sizeof(k->last_end_bare), "%s",
             xd_command_requester_bare(cx));
    if (*state != NULL)
        k->states_live--;
    free(*state);
    *state = NULL;
}

/* One stage: an integer from 0 to 100. The state holds a malloc()ed copy of
 * the requester to prove that it travels and is freed by end. */
static void
config_form(xd_command_ctx *cx, xd_elem *x)
{
    struct counters *k = xd_command_arg(cx);
    void **state = xd_command_state(cx);

    if (*state == NULL) {
        *state = xd_xstrdup(xd_command_requester(cx));
        k->states_live++;
    }
    xd_form_field_validate_int(
        xd_form_add_field(x, "size", "text-single", "Size", "10"), 0, 100);
}

static xd_command_status
run_config(xd_command_ctx *cx, const xd_elem *values)
{
    struct counters *k = xd_command_arg(cx);
    const char *mine = *xd_command_state(cx);
    long long size = -1;
    char text[64];

    k->calls++;
    if (mine == NULL || strcmp(mine, xd_command_requester(cx)) != 0 ||
        xd_form_int(values, "size", 0, 100, &size) != 0)
        return XD_COMMAND_BAD_REQUEST; /* cannot happen: checked */
    snprintf(text, sizeof(text), "size %lld at stage %d", size,
             xd_command_current_stage(cx));
    xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO, text);
    return XD_COMMAND_COMPLETED;
}

/* Three stages with a field of every XEP-0004 type. */
static void
wizard_who(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    xd_form_field_required(
        xd_form_add_field(x, "name", "text-single", "Name", NULL));
    xd_form_add_field(x, "jid", "jid-single", "Address", NULL);
    xd_form_add_field(x, "friends", "jid-multi", "Friends", NULL);
}

static void
wizard_what(xd_command_ctx *cx, xd_elem *x)
{
    /* The earlier stage's values are there to build this one from. */
    char label[64];
    snprintf(label, sizeof(label), "Colour for %s",
             xd_command_value(cx, "name"));
    xd_elem *f = xd_form_field_required(
        xd_form_add_field(x, "colour", "list-single", label, NULL));
    xd_form_field_add_option(f, "Red", "red");
    xd_form_field_add_option(f, "Green", "green");
    f = xd_form_add_field(x, "pets", "list-multi", "Pets", NULL);
    xd_form_field_add_option(f, NULL, "cat");
    xd_form_field_add_option(f, NULL, "dog");
    xd_form_add_bool(x, "notify", "Notify me", 0);
    xd_form_field_validate_int(
        xd_form_add_int(x, "count", "text-single", "How many", 1), 1, 10);
}

static void
wizard_notes(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    xd_form_add_form_type(x, "urn:test:wizard");
    xd_form_add_field(x, NULL, "fixed", NULL, "The last step.");
    xd_form_add_field(x, "about", "text-multi", "About", NULL);
    xd_form_add_field(x, "secret", "text-private", "Secret", NULL);
}

/* Green is refused by the stage's own check, after the framework's. */
static xd_command_status
wizard_check_what(xd_command_ctx *cx, const xd_elem *values)
{
    (void)cx;
    return strcmp(xd_form_value(values, "colour"), "green") == 0
               ? XD_COMMAND_BAD_REQUEST
               : XD_COMMAND_EXECUTING;
}

static xd_command_status
run_wizard(xd_command_ctx *cx, const xd_elem *values)
{
    struct counters *k = xd_command_arg(cx);
    char text[160];

    k->calls++;
    k->count = xd_command_value_int(cx, "count");
    k->notify = xd_command_value_bool(cx, "notify");
    k->typed = xd_command_value_int(cx, "name") == 0 && /* "Ann" */
               xd_command_value_int(cx, "nosuch") == 0 &&
               xd_command_value_bool(cx, "colour") == 0 && /* "red" */
               xd_command_value_bool(cx, "nosuch") == 0;
    snprintf(text, sizeof(text),
             "%s likes %s x%s; secret %s; stage %d; extra %s",
             xd_form_value(xd_command_values(cx, 0), "name"),
             xd_command_value(cx, "colour"), xd_command_value(cx, "count"),
             xd_form_value(values, "secret"), xd_command_current_stage(cx),
             xd_command_value(cx, "extra") ? "kept" : "dropped");
    xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO, text);
    xd_elem *x = xd_form_add(xd_command_reply(cx), "result", "Done", NULL);
    xd_form_add_field(x, "name", "text-single", NULL,
                      xd_command_value(cx, "name"));
    return XD_COMMAND_COMPLETED;
}

static const xd_command hello_cmd = { .node = "hello",
                                      .name = "Say hello",
                                      .run = run_hello };
static const xd_command_stage config_stages[] = {
    { "Config", NULL, config_form, NULL },
};
static const xd_command config_cmd = {
    .node = "config",
    .name = "Configure",
    .stages = config_stages,
    .nstages = XD_NELEM(config_stages),
    .run = run_config,
    .end = end_count,
};
static const xd_command_stage wizard_stages[] = {
    { "Who", "Tell us who you are.", wizard_who, NULL },
    { "What", NULL, wizard_what, wizard_check_what },
    { "Notes", NULL, wizard_notes, NULL },
};
static const xd_command wizard_cmd = {
    .node = "wizard",
    .name = "Wizard",
    .stages = wizard_stages,
    .nstages = XD_NELEM(wizard_stages),
    .run = run_wizard,
    .end = end_count,
};
static const xd_command deny_cmd = {
    .node = "deny", .name = "Always no", .run = run_deny, .end = end_count
};
static const xd_command dup_cmd = { .node = "hello",
                                    .name = "Duplicate",
                                    .run = run_deny };
static const xd_command bad_cmd = { .node = "nameless", .run = run_deny };

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

static const xd_command admin_cmd = { .node = "admin",
                                      .name = "Admin only",
                                      .run = run_hello,
                                      .allowed = only_admin };
static const xd_command room_hello_cmd = { .node = "room-hello",
                                           .name = "Room hello",
                                           .run = run_hello };
static const xd_command room_one_cmd = { .node = "room-one",
                                         .name = "Room one only",
                                         .run = run_hello,
                                         .allowed = only_room1 };
static const xd_command room_config_cmd = {
    .node = "room-config",
    .name = "Room config",
    .stages = config_stages,
    .nstages = XD_NELEM(config_stages),
    .run = run_config,
    .end = end_count,
};

/* A handler for the commands namespace registered by the component runs
 * before the framework's commands. */
static xd_verdict
on_commands_iq(xd_component *c, const xd_stanza *in, xd_iq_type type, void *arg)
{
    const xd_elem *cmd = xd_elem_first(xd_stanza_root(in));
    const char *node = xd_elem_attr(cmd, "node");
    int *seen = arg;

    (void)type;
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

#define SUBMIT(fields) "<x xmlns='jabber:x:data' type='submit'>" fields "</x>"
#define FIELD(var, value)                                                      \
    "<field var='" var "'><value>" value "</value></field>"

/* One request of USER at comp.example: <command node= sessionid= (sid NULL:
 * none) action= (NULL: none)>form</command>; the answer must have each
 * string of the NULL-ended list (with a leading '!': must not). */
static void
step(xd_fake_router *r, const char *what, const char *node, const char *sid,
     const char *action, const char *form, ...)
{
    char xml[2048], attrs[256] = "";
    size_t n = 0;
    va_list ap;

    if (sid != NULL)
        n += (size_t)snprintf(attrs + n, sizeof(attrs) - n, " sessionid='%s'",
                              sid);
    if (action != NULL)
        snprintf(attrs + n, sizeof(attrs) - n, " action='%s'", action);
    snprintf(xml, sizeof(xml),
             "<iq type='set' id='i' to='comp.example' "
             "from='user@example.com/r'><command xmlns='" CMDS
             "' node='%s'%s>%s</command></iq>",
             node, attrs, form ? form : "");
    char *got = ask(r, xml);
    int ok = got != NULL;
    va_start(ap, form);
    for (const char *w; ok && (w = va_arg(ap, const char *)) != NULL;)
        ok = *w == '!' ? strstr(got, w + 1) == NULL : strstr(got, w) != NULL;
    va_end(ap);
    CHECK(ok, "%s: %s\n  answer: %s", what, xml, got ? got : "(none)");
    free(got);
}

#define BAD_PAYLOAD "<bad-payload xmlns='" CMDS "'/>"
#define BAD_ACTION  "<bad-action xmlns='" CMDS "'/>"

/* The three-stage wizard: next, prev (values kept), the check of every
 * field type with the error naming the field, a stage's own check,
 * complete, cancel. */
static void
test_wizard(xd_fake_router *r, struct counters *k)
{
    char sid[64];
    const char *stage0 = SUBMIT(FIELD("name", "Ann") FIELD(
        "jid", "ann@example.com") FIELD("friends", "bob@example.com"));
    const char *stage1 = SUBMIT(FIELD(
        "colour", "red") "<field "
                         "var='pets'><value>cat</value><value>dog</value></"
                         "field>" FIELD("notify", "true") FIELD("count", "3"));
    const char *stage2 = SUBMIT(FIELD(
        "FORM_TYPE", "urn:test:wizard") "<field var='about'><value>line "
                                        "one</value><value>line two</value>"
                                        "</field>" FIELD("secret", "s3"));

    step(r, "wizard opens", "wizard", NULL, "execute", NULL,
         "status='executing'", "<actions execute='next'><next/></actions>",
         "<title>Who</title>", "<instructions>Tell us who you are.",
         "<field var='name' type='text-single' label='Name'><required/>",
         "sessionid='", NULL);
    last_sessionid(r, sid, sizeof(sid));
    CHECK(strlen(sid) == 16, "a session id: %s", sid);
    step(r, "complete is not offered at stage 0", "wizard", sid, "complete",
         stage0, "<bad-request", BAD_ACTION, NULL);
    step(r, "prev is not offered at stage 0", "wizard", sid, "prev", NULL,
         "<bad-request", BAD_ACTION, NULL);
    step(r, "required field missing", "wizard", sid, "next",
         SUBMIT(FIELD("jid", "ann@example.com")), "<bad-request", BAD_PAYLOAD,
         "The field 'name' is required.", NULL);
    step(r, "required field empty", "wizard", sid, "next",
         SUBMIT(FIELD("name", "")), BAD_PAYLOAD, "'name'", NULL);
    step(r, "nothing submitted", "wizard", sid, "next", NULL, BAD_PAYLOAD,
         "'name' is required", NULL);
    step(r, "jid-single not a JID", "wizard", sid, "next",
         SUBMIT(FIELD("name", "Ann") FIELD("jid", "@example.com")), BAD_PAYLOAD,
         "The field 'jid' is not a valid JID.", NULL);
    step(r, "jid-single with two values", "wizard", sid, "next",
         SUBMIT(FIELD("name", "Ann") "<field var='jid'><value>a@b</value>"
                                     "<value>c@d</value></field>"),
         BAD_PAYLOAD, "The field 'jid' takes one value.", NULL);
    step(r, "text-single with two values", "wizard", sid, "next",
         SUBMIT("<field var='name'><value>A</value><value>B</value></field>"),
         BAD_PAYLOAD, "'name' takes one value", NULL);
    step(r, "jid-multi with a bad JID", "wizard", sid, "next",
         SUBMIT(FIELD("name", "Ann") "<field var='friends'><value>a@b</value>"
                                     "<value>x@</value></field>"),
         BAD_PAYLOAD, "'friends' is not a valid JID", NULL);
    /* The session outlived the errors; the stage's default action (next)
     * goes on, unknown fields are ignored. */
    step(r, "stage 0 accepted", "wizard", sid, NULL,
         SUBMIT(FIELD("name", "Ann") FIELD("jid", "ann@example.com")
                    FIELD("friends", "bob@example.com") FIELD("extra", "x")),
         "status='executing'",
         "<actions execute='next'><prev/><next/></actions>",
         "<title>What</title>", "label='Colour for Ann'", "!<required/><value",
         NULL);
    step(r, "list-single not an option", "wizard", sid, "next",
         SUBMIT(FIELD("colour", "blue")), BAD_PAYLOAD,
         "The field 'colour' is not one of the options.", NULL);
    step(r, "list-single missing", "wizard", sid, "next",
         SUBMIT(FIELD("pets", "cat")), BAD_PAYLOAD, "'colour' is required",
         NULL);
    step(r, "list-single with two values", "wizard", sid, "next",
         SUBMIT("<field var='colour'><value>red</value><value>green</value>"
                "</field>"),
         BAD_PAYLOAD, "'colour' takes one value", NULL);
    step(r, "list-multi not an option", "wizard", sid, "next",
         SUBMIT(FIELD("colour", "red") "<field var='pets'><value>cat</value>"
                                       "<value>fish</value></field>"),
         BAD_PAYLOAD, "'pets' is not one of the options", NULL);
    step(r, "a field given twice", "wizard", sid, "next",
         SUBMIT(FIELD("colour", "red") FIELD("pets", "cat")
                    FIELD("pets", "fish")),
         BAD_PAYLOAD, "The field 'pets' is given twice.", NULL);
    step(r, "boolean neither 0/1 nor false/true", "wizard", sid, "next",
         SUBMIT(FIELD("colour", "red") FIELD("notify", "yes")), BAD_PAYLOAD,
         "The field 'notify' is not a boolean.", NULL);
    step(r, "integer (XEP-0122) not a number", "wizard", sid, "next",
         SUBMIT(FIELD("colour", "red") FIELD("count", "3x")), BAD_PAYLOAD,
         "The field 'count' is not an integer from 1 to 10.", NULL);
    step(r, "integer out of range", "wizard", sid, "next",
         SUBMIT(FIELD("colour", "red") FIELD("count", "11")), BAD_PAYLOAD,
         "'count' is not an integer from 1 to 10", NULL);
    step(r, "the stage's own check refuses green", "wizard", sid, "next",
         SUBMIT(FIELD("colour", "green")), "<bad-request", BAD_PAYLOAD, NULL);
    /* prev: stage 0 again, with what was submitted for it. */
    step(r, "prev from stage 1", "wizard", sid, "prev", NULL,
         "status='executing'", "<actions execute='next'><next/></actions>",
         "<title>Who</title>",
         "<field var='name' type='text-single' label='Name'><required/>"
         "<value>Ann</value></field>",
         "<value>ann@example.com</value>", "!extra", NULL);
    step(r, "stage 0 again", "wizard", sid, "next",
         SUBMIT(FIELD("name", "Ann") FIELD("jid", "ann@example.com")
                    FIELD("extra", "x")),
         "<title>What</title>", NULL);
    step(r, "stage 1 accepted", "wizard", sid, "next", stage1,
         "status='executing'",
         "<actions execute='complete'><prev/><complete/></actions>",
         "<title>Notes</title>", "<value>The last step.</value>",
         "<value>urn:test:wizard</value>", NULL);
    step(r, "prev from stage 2 keeps stage 1's values", "wizard", sid, "prev",
         NULL, "<title>What</title>", "<value>red</value></field>",
         "<value>cat</value><value>dog</value>",
         "var='notify' type='boolean' label='Notify me'><value>true</value>",
         "var='count' type='text-single' label='How many'><validate",
         "<value>3</value>", NULL);
    step(r, "complete is not offered at stage 1", "wizard", sid, "complete",
         stage1, BAD_ACTION, NULL);
    step(r, "stage 1 once more", "wizard", sid, "execute", stage1,
         "<title>Notes</title>", NULL);
    step(r, "next is not offered at the last stage", "wizard", sid, "next",
         stage2, BAD_ACTION, NULL);
    step(r, "a FORM_TYPE of another form", "wizard", sid, "complete",
         SUBMIT(FIELD("FORM_TYPE", "urn:other")), BAD_PAYLOAD,
         "The form is not a urn:test:wizard form.", NULL);
    step(r, "text-private with two values", "wizard", sid, "complete",
         SUBMIT("<field var='secret'><value>a</value><value>b</value>"
                "</field>"),
         BAD_PAYLOAD, "'secret' takes one value", NULL);
    CHECK(k->calls == 0 && k->ends == 0, "no run, no end yet (%d, %d)",
          k->calls, k->ends);
    step(r, "complete", "wizard", sid, "complete", stage2, "status='completed'",
         sid, "!<actions",
         "<note type='info'>Ann likes red x3; secret s3; stage 3; extra "
         "dropped</note>",
         "<x xmlns='jabber:x:data' type='result'><title>Done</title>",
         "<value>Ann</value>", NULL);
    CHECK(k->calls == 1 && k->ends == 1 &&
              k->why[XD_COMMAND_END_COMPLETED] == 1,
          "run once, then end(COMPLETED) once (%d, %d)", k->calls, k->ends);
    CHECK(k->count == 3 && k->notify == 1 && k->typed == 1,
          "xd_command_value_int and _bool read count 3, notify true, and 0 "
          "for text or a missing field (%lld, %d, %d)",
          k->count, k->notify, k->typed);
    step(r, "the session is gone once completed", "wizard", sid, "complete",
         stage2, "<bad-request", "<bad-sessionid xmlns='" CMDS "'/>", NULL);

    /* Cancel at stage 1: end(CANCELED), the session is gone. */
    step(r, "a second wizard", "wizard", NULL, NULL, NULL, "status='executing'",
         NULL);
    last_sessionid(r, sid, sizeof(sid));
    step(r, "to stage 1", "wizard", sid, "next", stage0, "<title>What", NULL);
    step(r, "cancel", "wizard", sid, "cancel", NULL, "type='result'",
         "status='canceled'", sid, NULL);
    CHECK(k->ends == 2 && k->why[XD_COMMAND_END_CANCELED] == 1 &&
              k->calls == 1 && strcmp(k->last_end_from, USER) == 0,
          "cancel: end(CANCELED), no run (%d ends)", k->ends);
    step(r, "a canceled session", "wizard", sid, "next", stage1,
         "<bad-sessionid", NULL);
    /* A form with the first request is stage 0's. */
    step(r, "stage 0 submitted at once", "wizard", NULL, "execute", stage0,
         "status='executing'", "<title>What", NULL);
    last_sessionid(r, sid, sizeof(sid));
    step(r, "and cancelled", "wizard", sid, "cancel", NULL, "status='canceled'",
         NULL);
    step(r, "a bad form at once", "wizard", NULL, "execute",
         SUBMIT(FIELD("jid", "x")), BAD_PAYLOAD, "'name'", NULL);
    CHECK(k->ends == 4 && k->why[XD_COMMAND_END_REFUSED] == 1,
          "a refused first request ends its session (%d ends)", k->ends);

    /* What a session keeps is bounded: 16 KiB of values. */
    step(r, "a wizard for a large form", "wizard", NULL, NULL, NULL,
         "status='executing'", NULL);
    last_sessionid(r, sid, sizeof(sid));
    size_t big = 17000;
    char *xml = malloc(big + 512), *p = xml;
    p += sprintf(p,
                 "<iq type='set' id='i' to='comp.example' from='" USER
                 "'><command xmlns='" CMDS "' node='wizard' "
                 "sessionid='%s'><x xmlns='jabber:x:data' type='submit'>"
                 "<field var='name'><value>",
                 sid);
    memset(p, 'a', big);
    p += big;
    strcpy(p, "</value></field></x></command></iq>");
    char *got = ask(r, xml);
    CHECK(got != NULL && strstr(got, BAD_PAYLOAD) != NULL &&
              strstr(got, "The form is too large.") != NULL,
          "17 KB of values: bad-payload, too large");
    free(got);
    free(xml);
    step(r, "the session outlived it", "wizard", sid, "next", stage0,
         "<title>What", NULL);
    step(r, "cancelled", "wizard", sid, "cancel", NULL, "status='canceled'",
         NULL);

    /* One requester has 16 sessions open at most. */
    char sids[16][64];
    for (int i = 0; i < 16; i++) {
        step(r, "one of 16 sessions", "wizard", NULL, NULL, NULL,
             "status='executing'", NULL);
        last_sessionid(r, sids[i], sizeof(sids[i]));
    }
    step(r, "a 17th session", "wizard", NULL, NULL, NULL, "type='error'",
         "<resource-constraint", NULL);
    for (int i = 0; i < 16; i++)
        step(r, "cancel", "wizard", sids[i], "cancel", NULL,
             "status='canceled'", NULL);
    step(r, "a session again", "wizard", NULL, NULL, NULL, "status='executing'",
         NULL);
    last_sessionid(r, sid, sizeof(sid));
    step(r, "cancelled", "wizard", sid, "cancel", NULL, "status='canceled'",
         NULL);
    CHECK(k->ends == 22 && k->why[XD_COMMAND_END_CANCELED] == 20,
          "every session ended once (%d ends)", k->ends);
}

int
main(void)
{
    xd_fake_router *r = NULL;
    char ini[512], sid[64], sid2[64], xml[1024];
    xd_config *cfg = NULL;
    xd_component *comp = NULL;
    struct counters hello = { 0 }, config = { 0 }, ent = { 0 }, entcfg = { 0 };
    struct counters wizard = { 0 }, deny = { 0 };
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
          { "type='error'", "<item-not-found" } }, /* XEP-0030: no node */
        { IQ("set", USER) COMMAND "node='hello' action='execute'/></iq>",
          { "type='error'", "<service-unavailable" } },
    };
    run_rows(r, before, XD_NELEM(before), "no commands");

    CHECK(xd_component_add_command(comp, &hello_cmd, &hello) == 0 &&
              xd_component_add_command(comp, &config_cmd, &config) == 0 &&
              xd_component_add_command(comp, &admin_cmd, &hello) == 0 &&
              xd_component_add_command(comp, &deny_cmd, &deny) == 0 &&
              xd_component_add_command(comp, &wizard_cmd, &wizard) == 0,
          "commands registered");
    /* A second registration of a node changes nothing; a table without a
     * name is refused. */
    CHECK(xd_component_add_command(comp, &dup_cmd, NULL) == XD_EEXIST,
          "a node registered twice: XD_EEXIST");
    CHECK(xd_component_add_command(comp, &bad_cmd, NULL) == XD_EINVAL,
          "a command without a name: XD_EINVAL");
    xd_component_on_iq(comp, CMDS, 0, on_commands_iq, &handler_seen);

    static const struct row disco[] = {
        { IQ("get", USER) INFO "/></iq>",
          { "type='result'", "var='" CMDS "'", "var='urn:xmpp:ping'",
            "name='Test'" } },
        { IQ("get", USER) ITEMS "node='" CMDS "'/></iq>",
          { "node='" CMDS "'",
            "<item jid='comp.example' node='hello' name='Say hello'/>",
            "<item jid='comp.example' node='config' name='Configure'/>",
            "!node='admin'", "!Duplicate", "!nameless" } },
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
    CHECK(hello.calls == 3, "hello ran 3 times (%d)", hello.calls);
    CHECK(deny.ends == 1 && deny.why[XD_COMMAND_END_REFUSED] == 1,
          "a command without stages ends once too: end(REFUSED) after "
          "forbidden (%d)",
          deny.ends);

    /* One stage. */
    static const struct row stage0[] = {
        { IQ("set", USER) COMMAND "node='config' action='execute'/></iq>",
          { "status='executing'",
            "<actions execute='complete'><complete/></actions>",
            "<field var='size' type='text-single' label='Size'>",
            "<validate xmlns='http://jabber.org/protocol/xdata-validate' "
            "datatype='xs:integer'><range min='0' max='100'/></validate>",
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
    step(r, "an integer out of range", "config", sid, "complete",
         SUBMIT(FIELD("size", "500")), "<bad-request", BAD_PAYLOAD,
         "'size' is not an integer from 0 to 100", NULL);
    step(r, "complete", "config", sid, "complete", SUBMIT(FIELD("size", "42")),
         "status='completed'", "size 42 at stage 1", sid, "!<actions",
         "!type='error'", NULL);
    step(r, "the session is gone once completed", "config", sid, "complete",
         SUBMIT(FIELD("size", "42")), "<bad-sessionid", NULL);
    CHECK(config.states_live == 0 && config.ends == 1 &&
              config.why[XD_COMMAND_END_COMPLETED] == 1,
          "state freed by end(COMPLETED)");
    step(r, "a one-stage command submitted at once", "config", NULL, "complete",
         SUBMIT(FIELD("size", "7")), "status='completed'", "size 7 at stage 1",
         NULL);
    CHECK(config.states_live == 0 && config.ends == 2, "and ended");

    test_wizard(r, &wizard);

    /* Entity commands: at local@domain JIDs, not at the domain. */
    CHECK(xd_component_add_entity_command(comp, &room_hello_cmd, &ent) == 0 &&
              xd_component_add_entity_command(comp, &room_one_cmd, &ent) == 0 &&
              xd_component_add_entity_command(comp, &room_config_cmd,
                                              &entcfg) == 0,
          "entity commands registered");
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
        /* a form submitted at once is checked as stage 0's */
        { IQ_AT("set", USER, ROOM1) COMMAND
          "node='room-config'><x xmlns='jabber:x:data' type='submit'>"
          "<field var='size'><value>-1</value></field></x></command></iq>",
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
    CHECK(entcfg.states_live == 0 && entcfg.ends == 2,
          "the entity sessions' states are freed (%d ends)", entcfg.ends);

    /* Time-out: shortened to 100 ms here (10 minutes otherwise). */
    commands_set_timeout_ms(component_commands(comp), 100);
    free(ask(r, IQ("set", USER) COMMAND "node='wizard'/></iq>"));
    last_sessionid(r, sid, sizeof(sid));
    int ends = wizard.ends;
    xd_test_run_until(xd_fake_router_base(r), &wizard.ends, ends + 1);
    CHECK(wizard.ends == ends + 1 && wizard.why[XD_COMMAND_END_EXPIRED] == 1 &&
              strcmp(wizard.last_end_from, USER) == 0,
          "time-out: end(EXPIRED)");
    CHECK(strcmp(wizard.last_end_bare, "user@example.com") == 0,
          "xd_command_requester_bare: %s", wizard.last_end_bare);
    step(r, "an expired session", "wizard", sid, "next", NULL, "type='error'",
         "<not-allowed", "<session-expired xmlns='" CMDS "'/>",
         "!bad-sessionid", NULL);
    step(r, "an id never given", "wizard", "0123456789abcdef", "next", NULL,
         "<bad-sessionid", "!session-expired", NULL);

    /* A session still open when the component goes is ended too. */
    commands_set_timeout_ms(component_commands(comp), 600000);
    free(ask(r, IQ("set", ADMIN) COMMAND "node='config'/></iq>"));
    last_sessionid(r, sid2, sizeof(sid2));
    CHECK(config.states_live == 1 && strcmp(sid, sid2) != 0,
          "a new session with a new id");
    xd_component_free(comp);
    CHECK(config.why[XD_COMMAND_END_SHUTDOWN] == 1 && config.states_live == 0 &&
              strcmp(config.last_end_from, ADMIN) == 0,
          "xd_component_free: end(SHUTDOWN) for the last session");

    xd_fake_router_free(r);
    xd_config_free(cfg);
    return check_report();
}
