/*
 * Unit tests for command.c's registries of their own (xd_commands_new, as
 * the router's XEP-0133 commands use): discovery and execution without a
 * component, a run that waits (xd_command_defer) and is resumed or ended
 * by xd_commands_free, xd_command_fail's conditions and texts, and error
 * answers that do not echo the submitted form.
 */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <xmppd/command.h>
#include <xmppd/form.h>
#include <xmppd/xml_parser.h>

#define CMDS "http://jabber.org/protocol/commands"
#define HOST "example.org"
#define IQ(type, id)                                                           \
    "<iq xmlns='jabber:client' type='" type "' id='" id "' "                   \
    "from='admin@example.org/pc' to='" HOST "'>"

struct test {
    char *sent[16]; /* answers, as strings */
    int nsent;
    xd_command_deferred *waiting;
    int ends, shutdowns, canceled_work;
    int component_null; /* allowed saw c == NULL */
};

static void
capture(xd_stanza *st, void *arg)
{
    struct test *t = arg;

    if (t->nsent < 16)
        t->sent[t->nsent++] = xd_elem_to_string(xd_stanza_root(st), NULL);
    xd_stanza_unref(st);
}

static int
allowed(xd_component *c, const char *requester, const char *target, void *arg)
{
    struct test *t = arg;

    (void)target;
    t->component_null += c == NULL;
    return strncmp(requester, "admin@", 6) == 0;
}

static void
slow_form(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    xd_form_field_required(
        xd_form_add_field(x, "secret", "text-private", "Secret", NULL));
}

static xd_command_status
slow_done(xd_command_ctx *cx, const xd_elem *values)
{
    xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO,
                        xd_form_value(values, "secret") ? "stored" : "none");
    return XD_COMMAND_COMPLETED;
}

static xd_command_status
slow_run(xd_command_ctx *cx, const xd_elem *values)
{
    struct test *t = xd_command_arg(cx);

    if (strcmp(xd_form_value(values, "secret"), "taken") == 0)
        return xd_command_fail(cx, "conflict", "It is taken.");
    if (strcmp(xd_form_value(values, "secret"), "bad") == 0)
        return xd_command_fail(cx, "bad-request", "Not that one.");
    t->waiting = xd_command_defer(cx);
    return t->waiting != NULL ? XD_COMMAND_PENDING : XD_COMMAND_COMPLETED;
}

static void
slow_end(xd_command_ctx *cx, xd_command_end why)
{
    struct test *t = xd_command_arg(cx);

    t->ends++;
    if (why == XD_COMMAND_END_SHUTDOWN) {
        t->shutdowns++;
        if (t->waiting != NULL) { /* the work is cancelled, never resumed */
            t->canceled_work++;
            t->waiting = NULL;
        }
    }
}

static xd_command_status
hello_run(xd_command_ctx *cx, const xd_elem *values)
{
    (void)values;
    /* Not a session's run: it cannot wait. */
    if (xd_command_defer(cx) != NULL || xd_command_component(cx) != NULL)
        return XD_COMMAND_FORBIDDEN;
    xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO, "Hello");
    return XD_COMMAND_COMPLETED;
}

static const xd_command_stage slow_stages[] = {
    { "Slow", NULL, slow_form, NULL },
};
static const xd_command slow_cmd = { "slow",   "Slow",   slow_stages, 1,
                                     slow_run, slow_end, allowed };
static const xd_command hello_cmd = { "hello",   "Hello", NULL,   0,
                                      hello_run, NULL,    allowed };

/* Hands `xml` to the registry; returns its verdict. */
static xd_verdict
handle(xd_commands *cmds, const char *xml)
{
    xd_stanza *st = NULL;

    if (xd_xml_parse_element(xml, strlen(xml), NULL, &st) != 0)
        return XD_PASS;
    xd_verdict v = xd_commands_handle(cmds, st);
    xd_stanza_unref(st);
    return v;
}

static int
has(const struct test *t, int i, const char *needle)
{
    return i < t->nsent && strstr(t->sent[i], needle) != NULL;
}

/* The sessionid attribute of answer i, copied into out. */
static void
sessionid(const struct test *t, int i, char *out, size_t len)
{
    const char *p = i < t->nsent ? strstr(t->sent[i], "sessionid='") : NULL;

    out[0] = '\0';
    if (p != NULL)
        snprintf(out, len, "%.*s", (int)strcspn(p + 11, "'"), p + 11);
}

static void
submit(xd_commands *cmds, const char *id, const char *sid, const char *value)
{
    char xml[1024];

    snprintf(xml, sizeof(xml),
             "<iq xmlns='jabber:client' type='set' id='%s' "
             "from='admin@example.org/pc' to='" HOST "'>"
             "<command xmlns='" CMDS "' node='slow' sessionid='%s'>"
             "<x xmlns='jabber:x:data' type='submit'><field var='secret'>"
             "<value>%s</value></field></x></command></iq>",
             id, sid, value);
    handle(cmds, xml);
}

int
main(void)
{
    struct event_base *base = event_base_new();
    struct test t = { 0 };
    char sid[64];
    xd_commands *cmds = xd_commands_new(base, HOST, capture, &t);

    CHECK(xd_commands_add(cmds, &slow_cmd, &t) == 0 &&
              xd_commands_add(cmds, &hello_cmd, &t) == 0,
          "commands added");
    CHECK(xd_commands_add(cmds, &hello_cmd, &t) == XD_EEXIST,
          "a node twice: XD_EEXIST");

    /* Not a command iq: passed on, nothing sent. */
    CHECK(handle(cmds, IQ("get", "p1") "<ping xmlns='urn:xmpp:ping'/></iq>") ==
                  XD_PASS &&
              t.nsent == 0,
          "a ping is not the registry's");
    CHECK(handle(cmds, IQ("get", "d1") "<query xmlns='http://jabber.org/"
                                       "protocol/disco#items' node='" CMDS
                                       "'/></iq>") == XD_HANDLED &&
              has(&t, 0, "node='slow'") && has(&t, 0, "node='hello'") &&
              has(&t, 0, "jid='" HOST "'") && t.component_null > 0,
          "disco#items lists both, allowed sees no component: %s",
          t.nsent ? t.sent[0] : "nothing");
    handle(cmds,
           "<iq xmlns='jabber:client' type='get' id='d2' "
           "from='eve@example.org/x' to='" HOST "'><query xmlns='"
           "http://jabber.org/protocol/disco#items' node='" CMDS "'/></iq>");
    CHECK(has(&t, 1, "type='result'") && !has(&t, 1, "<item"),
          "an other requester sees none");

    handle(cmds,
           IQ("set", "h1") "<command xmlns='" CMDS "' node='hello'/></iq>");
    CHECK(has(&t, 2, "status='completed'") && has(&t, 2, "Hello"),
          "a command without stages cannot defer, runs at once: %s",
          t.nsent > 2 ? t.sent[2] : "nothing");

    /* A run that waits, then is resumed. */
    handle(cmds,
           IQ("set", "s1") "<command xmlns='" CMDS "' node='slow'/></iq>");
    CHECK(has(&t, 3, "status='executing'"), "the form is shown");
    sessionid(&t, 3, sid, sizeof(sid));
    submit(cmds, "s2", sid, "hunter2");
    CHECK(t.nsent == 4 && t.waiting != NULL,
          "the submission waits: no answer yet");
    submit(cmds, "s3", sid, "again");
    CHECK(has(&t, 4, "<unexpected-request") && !has(&t, 4, "again"),
          "another request for the waiting session: unexpected-request, "
          "the form not echoed: %s",
          t.nsent > 4 ? t.sent[4] : "nothing");
    xd_command_deferred *d = t.waiting;
    t.waiting = NULL;
    xd_command_resume(d, slow_done);
    CHECK(has(&t, 5, "id='s2'") && has(&t, 5, "status='completed'") &&
              has(&t, 5, "stored") && t.ends == 1,
          "resumed: the answer to the submission, the end called: %s",
          t.nsent > 5 ? t.sent[5] : "nothing");

    /* xd_command_fail: a condition of the run's own, or bad-payload. */
    handle(cmds,
           IQ("set", "f1") "<command xmlns='" CMDS "' node='slow'/></iq>");
    sessionid(&t, 6, sid, sizeof(sid));
    submit(cmds, "f2", sid, "bad");
    CHECK(has(&t, 7, "<bad-request") && has(&t, 7, "<bad-payload") &&
              has(&t, 7, "Not that one.") && !has(&t, 7, "<value>bad"),
          "bad-request: bad-payload with the text, no form: %s",
          t.nsent > 7 ? t.sent[7] : "nothing");
    submit(cmds, "f3", sid, "taken");
    CHECK(has(&t, 8, "<conflict") && has(&t, 8, "It is taken.") && t.ends == 2,
          "the session stayed for a second try; conflict ends it: %s",
          t.nsent > 8 ? t.sent[8] : "nothing");

    /* Freed while a run waits: ended with SHUTDOWN, nothing sent. */
    handle(cmds,
           IQ("set", "w1") "<command xmlns='" CMDS "' node='slow'/></iq>");
    sessionid(&t, 9, sid, sizeof(sid));
    submit(cmds, "w2", sid, "pending");
    CHECK(t.waiting != NULL && t.nsent == 10, "waiting again");
    xd_commands_free(cmds);
    CHECK(t.shutdowns == 1 && t.canceled_work == 1 && t.ends == 3 &&
              t.nsent == 10,
          "free ends the waiting session once, sends nothing");

    for (int i = 0; i < t.nsent; i++)
        free(t.sent[i]);
    event_base_free(base);
    return check_report();
}
