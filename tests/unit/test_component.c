/*
 * Unit tests for component.c, iq_tracker.c and disco.c, against a small
 * fake router on a loopback socket in the same event loop: the handshake
 * digest, a refused secret then a reconnect, stanzas queued while the link
 * is down and flushed in order, iq results, time-outs and link loss, the
 * automatic service-unavailable, disco#info and ping, and a burst of
 * output bigger than four times the link's high-water mark (one stanza in,
 * many big ones out, to a router that does not read for a while), which
 * the component holds while it stops reading instead of losing its link;
 * and the built-ins: XEP-0092 version (default, overridden, disabled), the
 * features of iq handlers, the iq type handlers get, caps of the domain's
 * disco#info, disco#info/items by callback for a node and entity JIDs.
 */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <xmppd/caps.h>
#include <xmppd/component.h>

#include <xmppd/testing.h>

struct waiter {
    int calls;
    int got_reply;
    char type[16];
};

static void
on_iq(xd_component *c, const xd_stanza *reply, void *arg)
{
    struct waiter *w = arg;

    (void)c;
    w->calls++;
    w->got_reply = reply != NULL;
    snprintf(w->type, sizeof(w->type), "%s",
             reply && xd_stanza_type(reply) ? xd_stanza_type(reply) : "");
}

static int links_up, links_down;

static void
on_link(xd_component *c, int up, void *arg)
{
    (void)c;
    (void)arg;
    if (up)
        links_up++;
    else
        links_down++;
}

static int messages_seen;

static xd_verdict
on_message(xd_component *c, const xd_stanza *in, void *arg)
{
    (void)c;
    (void)in;
    (void)arg;
    messages_seen++;
    return XD_HANDLED;
}

static const char *
got_text(xd_fake_router *r, int i, const char *child)
{
    return i < xd_fake_router_count(r)
               ? xd_stanza_child_text(xd_fake_router_got(r, i), child,
                                      XD_NS_CLIENT)
               : NULL;
}

/* A message of about 5 KB (over the test's max_stanza_bytes of 4096). */
static xd_stanza *
big_message(void)
{
    char body[5000];
    xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);

    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    xd_stanza_set_to(m, "user@example.com");
    xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, body);
    return m;
}

static xd_verdict
answer_big(xd_component *c, const xd_stanza *in, xd_iq_type type, void *arg)
{
    xd_stanza *r = xd_stanza_reply(in);
    xd_stanza *m = big_message();

    (void)arg;
    (void)type;
    xd_elem_add_copy(xd_stanza_root(r), xd_stanza_root(m));
    xd_stanza_unref(m);
    xd_component_send(c, r);
    return XD_HANDLED;
}

/* --- back-pressure: one stanza in, ~12 MB out ----------------------------- */

#define BURST_TO    80
#define BURST_BYTES 150000

struct burst {
    xd_stanza *big;           /* from room@comp.example, no to */
    const char *to[BURST_TO]; /* u0@example.com ... */
    char names[BURST_TO][32];
    int handled, up, down;
};

static xd_verdict
on_burst(xd_component *c, const xd_stanza *in, void *arg)
{
    struct burst *b = arg;
    const char *body = xd_stanza_child_text(in, "body", XD_NS_CLIENT);

    b->handled++;
    if (body != NULL && strcmp(body, "go") == 0) {
        xd_component_send_each(c, b->big, b->to, BURST_TO);
        return XD_HANDLED;
    }
    xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);
    xd_stanza_set_to(m, "last@example.com");
    xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, "last");
    xd_component_send(c, m);
    return XD_HANDLED;
}

static void
on_burst_link(xd_component *c, int up, void *arg)
{
    struct burst *b = arg;

    (void)c;
    if (up)
        b->up++;
    else
        b->down++;
}

/* held_max: the component's out_queue_max_bytes, 0 for its default (which
 * holds the whole burst). */
static void
backpressure(unsigned long held_max)
{
    xd_fake_router *r = NULL;
    struct burst b = { 0 };
    char ini[512], extra[64] = "", *body = xd_xmalloc(BURST_BYTES + 1);
    xd_config *cfg = NULL;
    xd_component *comp = NULL;

    xd_fake_router_new(&r);
    if (held_max > 0)
        snprintf(extra, sizeof(extra), "out_queue_max_bytes = %lu\n", held_max);
    snprintf(ini, sizeof(ini),
             "[c]\ndomain = comp.example\nsecret = s3cret\n"
             "router_host = 127.0.0.1\nrouter_port = %u\n%s",
             xd_fake_router_port(r), extra);
    xd_config_load_string(ini, "test.ini", &cfg);
    CHECK(xd_component_new(cfg, "c", xd_fake_router_base(r), &comp) == 0,
          "component made");
    xd_component_on(comp, XD_STANZA_MESSAGE, NULL, on_burst, &b);
    xd_component_on_link(comp, on_burst_link, &b);
    memset(body, 'x', BURST_BYTES);
    body[BURST_BYTES] = '\0';
    b.big = xd_stanza_new("message", XD_NS_CLIENT);
    xd_stanza_set_from(b.big, "room@comp.example");
    xd_stanza_set_child_text(b.big, "body", XD_NS_CLIENT, body);
    free(body);
    for (int i = 0; i < BURST_TO; i++) {
        snprintf(b.names[i], sizeof(b.names[i]), "u%d@example.com", i);
        b.to[i] = b.names[i];
    }
    xd_component_start(comp);
    xd_test_run_until(xd_fake_router_base(r), &b.up, 1);
    CHECK(b.up == 1, "the second component comes up");

    /* The router stops reading; one message makes 80 x 150 KB. */
    xd_stream_pause(xd_fake_router_stream(r));
    xd_fake_router_send(
        r, "<message from='a@example.com/r' to='room@comp.example'>"
           "<body>go</body></message>");
    xd_test_run_for_ms(xd_fake_router_base(r), 300);
    CHECK(b.handled == 1 && b.down == 0 && xd_component_is_up(comp),
          "a burst of 4x the high-water mark from one stanza keeps the link "
          "(handled %d, down %d)",
          b.handled, b.down);
    xd_fake_router_send(
        r, "<message from='a@example.com/r' to='room@comp.example'>"
           "<body>then</body></message>");
    xd_test_run_for_ms(xd_fake_router_base(r), 200);
    /* (With a small bound, what is held may all fit in the socket's buffers
     * by now, and reading resumes: nothing to check.) */
    CHECK(held_max > 0 || b.handled == 1,
          "while its output waits, the component reads nothing more "
          "(handled %d)",
          b.handled);

    /* The router reads again: everything arrives, in order (or, with a
     * small bound, what was held, then the next answer: the rest was
     * dropped but the link stayed). */
    xd_stream_resume(xd_fake_router_stream(r));
    int want = held_max ? 1 : BURST_TO + 1;
    for (int i = 0;
         i < 100 &&
         (xd_fake_router_count(r) < want || b.handled < 2 ||
          strcmp(got_text(r, xd_fake_router_count(r) - 1, "body") ?: "",
                 "last") != 0);
         i++)
        xd_test_run_for_ms(xd_fake_router_base(r), 100);
    if (held_max == 0)
        CHECK(xd_fake_router_count(r) == BURST_TO + 1 && b.handled == 2 &&
                  b.down == 0 &&
                  strcmp(got_text(r, BURST_TO, "body"), "last") == 0 &&
                  strcmp(xd_stanza_to(xd_fake_router_got(r, BURST_TO - 1)),
                         "u79@example.com") == 0,
              "all %d stanzas arrive in order once the router reads (got "
              "%d, handled %d, down %d)",
              BURST_TO + 1, xd_fake_router_count(r), b.handled, b.down);
    else
        CHECK(xd_fake_router_count(r) > 0 &&
                  xd_fake_router_count(r) < BURST_TO + 1 && b.handled == 2 &&
                  b.down == 0 &&
                  strcmp(got_text(r, xd_fake_router_count(r) - 1, "body"),
                         "last") == 0,
              "past out_queue_max_bytes stanzas are dropped, the link stays "
              "and the next answer arrives (got %d, handled %d, down %d)",
              xd_fake_router_count(r), b.handled, b.down);

    xd_stanza_unref(b.big);
    xd_component_free(comp);
    xd_fake_router_free(r);
    xd_config_free(cfg);
}

/* --- built-ins: version, features of iq handlers, iq types, disco by
 * callback, caps --------------------------------------------------------- */

struct seen {
    int get, set, calls;
};

static xd_verdict
on_typed(xd_component *c, const xd_stanza *in, xd_iq_type type, void *arg)
{
    struct seen *s = arg;

    s->calls++;
    if (type == XD_IQ_GET)
        s->get++;
    else if (type == XD_IQ_SET)
        s->set++;
    xd_component_send(c, xd_stanza_iq_result(in));
    return XD_HANDLED;
}

/* Node urn:example:node of the domain, and entities alice@ and bob@. */
static int
disco_cb(xd_component *c, const xd_stanza *in, xd_disco_kind kind,
         const char *node, xd_elem *q, void *arg)
{
    const char *to = xd_stanza_to(in);
    int *calls = arg;

    (void)c;
    (*calls)++;
    if (strcmp(to, "nobody@comp.example") == 0)
        return XD_ENOTFOUND;
    if (node != NULL && strcmp(node, "urn:example:node") != 0)
        return XD_ENOTFOUND;
    if (kind == XD_DISCO_INFO) {
        xd_disco_add_identity(q, "client", "bot", to);
        xd_disco_add_feature(q, "urn:example:cb");
    } else {
        xd_disco_add_item(q, "comp.example", "urn:example:sub", "Sub");
    }
    return 0;
}

/* Sends xml from the router and returns the component's one answer as a
 * string (the caller frees it), or NULL when none came. */
static char *
ask(xd_fake_router *r, const char *xml)
{
    const xd_stanza *a = xd_fake_router_ask(r, xml);

    return a ? xd_elem_to_string(xd_stanza_root(a), NULL) : NULL;
}

#define IQ_TO(type, id, to)                                                    \
    "<iq type='" type "' id='" id "' from='a@example.com/r' to='" to "'>"
#define INFO_Q  "<query xmlns='http://jabber.org/protocol/disco#info'"
#define ITEMS_Q "<query xmlns='http://jabber.org/protocol/disco#items'"

static const struct {
    const char *xml;
    const char *want[4]; /* substrings of the answer; "!x": x is absent */
} cb_rows[] = {
    { IQ_TO("get", "n1", "comp.example") INFO_Q " node='urn:example:node'/>"
                                                "</iq>",
      { "type='result'", "node='urn:example:node'",
        "<identity category='client' type='bot' name='comp.example'/>",
        "var='urn:example:cb'" } },
    { IQ_TO("get", "n2", "comp.example") ITEMS_Q " node='urn:example:node'/>"
                                                 "</iq>",
      { "type='result'", "node='urn:example:node'",
        "<item jid='comp.example' node='urn:example:sub' name='Sub'/>" } },
    { IQ_TO("get", "n3", "comp.example") INFO_Q " node='urn:example:none'/>"
                                                "</iq>",
      { "type='error'", "<item-not-found" } },
    { IQ_TO("get", "e1", "alice@comp.example") INFO_Q "/></iq>",
      { "type='result'", "from='alice@comp.example'",
        "name='alice@comp.example'", "!node=" } },
    { IQ_TO("get", "e2", "bob@comp.example") ITEMS_Q "/></iq>",
      { "type='result'", "node='urn:example:sub'" } },
    { IQ_TO("get", "e3", "alice@comp.example") INFO_Q
      " node='urn:example:node'/></iq>",
      { "type='result'", "node='urn:example:node'", "var='urn:example:cb'" } },
    { IQ_TO("get", "e4", "nobody@comp.example") INFO_Q "/></iq>",
      { "type='error'", "<item-not-found" } },
    /* A full JID is an iq handler's (none here): service-unavailable. */
    { IQ_TO("get", "e5", "alice@comp.example/r") INFO_Q "/></iq>",
      { "type='error'", "<service-unavailable" } },
};

static int
has_all(const char *s, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n && want[i] != NULL; i++) {
        int absent = want[i][0] == '!';
        if ((strstr(s, want[i] + absent) != NULL) == absent)
            return 0;
    }
    return 1;
}

/* A component made from a configuration that knows its program (as
 * xd_config_main's does) answers XEP-0092 with that program's name and
 * version, and names its caps node after it. */
static void
version_from_program(void)
{
    xd_fake_router *r = NULL;
    xd_config *cfg = NULL;
    xd_component *comp = NULL;
    const char *node = NULL, *ver = NULL;

    CHECK(xd_fake_router_new(&r) == 0 &&
              xd_fake_router_config(r, "c", "comp.example", NULL, &cfg) == 0,
          "fake router");
    xd_config_set_program(cfg, "xmppd-dice", "2.0.1");
    CHECK(xd_component_new(cfg, "c", xd_fake_router_base(r), &comp) == 0 &&
              xd_fake_router_start(r, comp) == 0,
          "component up");
    char *a =
        ask(r, IQ_TO("get", "v1",
                     "comp.example") "<query xmlns='jabber:iq:version'/></iq>");
    CHECK(a && strstr(a, "<name>xmppd-dice</name><version>2.0.1</version>"),
          "version from the program given to the configuration: %s",
          a ? a : "none");
    free(a);
    CHECK(xd_component_caps(comp, &node, &ver) == 0 &&
              strcmp(node, "urn:xmppd:xmppd-dice") == 0,
          "caps node named after the program");
    xd_component_free(comp);
    xd_fake_router_free(r);
    xd_config_free(cfg);
}

static void
builtins(void)
{
    xd_fake_router *r = NULL;
    struct seen typed = { 0 }, hidden = { 0 };
    int cb_calls = 0;
    char *a;
    xd_config *cfg = NULL;
    xd_component *comp = NULL;

    CHECK(xd_fake_router_new(&r) == 0 &&
              xd_fake_router_config(r, "c", "comp.example", NULL, &cfg) == 0,
          "fake router");
    CHECK(xd_component_new(cfg, "c", xd_fake_router_base(r), &comp) == 0,
          "component made");
    xd_component_add_identity(comp, "component", "generic", "Built-ins");
    xd_handler *auto_h =
        xd_component_on_iq(comp, "urn:example:auto", 0, on_typed, &typed);
    xd_component_on_iq(comp, "urn:example:hidden", XD_IQ_NO_FEATURE, on_typed,
                       &hidden);
    CHECK(xd_fake_router_start(r, comp) == 0, "link up");

    /* XEP-0092 from the program's name and libxmppd's version. */
    a = ask(r, IQ_TO("get", "v1",
                     "comp.example") "<query xmlns='jabber:iq:version'/></iq>");
    CHECK(a && strstr(a, "type='result'") &&
              strstr(a, "<name>test_component</name>") &&
              strstr(a, "<version>" XMPPD_VERSION "</version>") &&
              !strstr(a, "<os>"),
          "version answered with the program's name: %s", a ? a : "none");
    free(a);
    xd_component_set_version(comp, "Dice", "1.2");
    a = ask(r, IQ_TO("get", "v2",
                     "comp.example") "<query xmlns='jabber:iq:version'/></iq>");
    CHECK(a && strstr(a, "<name>Dice</name><version>1.2</version>"),
          "version overridden: %s", a ? a : "none");
    free(a);

    /* Features: built-ins, version, the iq handlers' but a hidden one. */
    a = ask(r, IQ_TO("get", "d1", "comp.example") INFO_Q "/></iq>");
    CHECK(a && strstr(a, "var='jabber:iq:version'") &&
              strstr(a, "var='urn:example:auto'") &&
              !strstr(a, "urn:example:hidden"),
          "an iq handler's namespace is listed unless told not to: %s",
          a ? a : "none");
    free(a);

    /* Caps: the 'ver' of what disco#info says, and node#ver answered. */
    const char *node = NULL, *ver = NULL;
    CHECK(xd_component_caps(comp, &node, &ver) == 0 && node && ver &&
              strcmp(node, "urn:xmppd:test_component") == 0,
          "caps of the domain");
    char *ver1 = xd_xstrdup(ver);
    const xd_stanza *answer = xd_fake_router_ask(
        r, IQ_TO("get", "d2", "comp.example") INFO_Q "/></iq>");
    char *theirs = NULL;
    if (answer != NULL) {
        const xd_elem *q = xd_elem_first(xd_stanza_root(answer));
        xd_caps_ver(q, XD_CAPS_SHA1, &theirs);
        CHECK(xd_caps_verify(q, "sha-1", ver1) == 0,
              "the caps ver verifies against the disco#info answer");
    }
    CHECK(theirs && strcmp(theirs, ver1) == 0, "caps ver %s, answer's %s", ver1,
          theirs ? theirs : "none");
    free(theirs);
    char xml[512];
    snprintf(xml, sizeof(xml),
             IQ_TO("get", "d3", "comp.example") INFO_Q " node='%s#%s'/></iq>",
             node, ver1);
    a = ask(r, xml);
    CHECK(a && strstr(a, "type='result'") && strstr(a, "#") &&
              strstr(a, "var='urn:example:auto'"),
          "disco#info of node#ver: %s", a ? a : "none");
    free(a);
    xd_stanza *p = xd_stanza_presence_new(NULL, NULL, NULL);
    CHECK(xd_component_add_caps(comp, p) == 0, "caps added to a presence");
    a = xd_elem_to_string(xd_stanza_root(p), NULL);
    CHECK(strstr(a, "<c xmlns='http://jabber.org/protocol/caps' "
                    "hash='sha-1' node='urn:xmppd:test_component' ver='") &&
              strstr(a, ver1),
          "<c/>: %s", a);
    free(a);
    xd_stanza_unref(p);

    /* Removing the handler, or the version, changes disco and caps. */
    xd_handler_remove(auto_h);
    xd_component_set_version(comp, NULL, NULL);
    CHECK(xd_component_caps(comp, &node, &ver) == 0 && strcmp(ver, ver1) != 0,
          "caps change with the features");
    free(ver1);
    a = ask(r, IQ_TO("get", "d4", "comp.example") INFO_Q "/></iq>");
    CHECK(a && !strstr(a, "urn:example:auto") && !strstr(a, "iq:version"),
          "a removed handler's feature and a disabled version are gone: %s",
          a ? a : "none");
    free(a);
    a = ask(r, IQ_TO("get", "v3",
                     "comp.example") "<query xmlns='jabber:iq:version'/></iq>");
    CHECK(a && strstr(a, "<service-unavailable"),
          "version disabled: service-unavailable: %s", a ? a : "none");
    free(a);

    /* The iq type reaches the handler as an enum; results never do. */
    xd_component_on_iq(comp, "urn:example:typed", 0, on_typed, &typed);
    typed.calls = 0;
    /* clang-format off */
    static const char typed_iqs[] =
        IQ_TO("get", "t1", "bot@comp.example")
        "<q xmlns='urn:example:typed'/></iq>"
        IQ_TO("set", "t2", "comp.example")
        "<q xmlns='urn:example:typed'/></iq>"
        IQ_TO("result", "t3", "comp.example")
        "<q xmlns='urn:example:typed'/></iq>"
        IQ_TO("set", "t4", "comp.example")
        "<q xmlns='urn:example:hidden'/></iq>";
    /* clang-format on */
    int before = xd_fake_router_count(r);
    xd_fake_router_send(r, typed_iqs);
    xd_fake_router_wait(r, before + 3);
    xd_test_run_for_ms(xd_fake_router_base(r), 30);
    CHECK(typed.calls == 2 && typed.get == 1 && typed.set == 1 &&
              hidden.set == 1 && xd_fake_router_count(r) == before + 3,
          "get and set reach handlers with their type, a result does not "
          "(calls %d get %d set %d, answers %d)",
          typed.calls, typed.get, typed.set, xd_fake_router_count(r) - before);

    /* Disco by callback: a node of the domain, entity JIDs. */
    CHECK(xd_component_disco_node(comp, "urn:example:node", disco_cb,
                                  &cb_calls) == 0 &&
              xd_component_disco_node(comp, "urn:example:node", disco_cb,
                                      &cb_calls) == XD_EEXIST,
          "a node has one callback");
    a = ask(r, IQ_TO("get", "e0", "alice@comp.example") INFO_Q "/></iq>");
    CHECK(a && strstr(a, "<service-unavailable"),
          "no entity callback: service-unavailable: %s", a ? a : "none");
    free(a);
    xd_component_disco_entities(comp, disco_cb, &cb_calls);
    for (size_t i = 0; i < XD_NELEM(cb_rows); i++) {
        a = ask(r, cb_rows[i].xml);
        CHECK(a && has_all(a, cb_rows[i].want, XD_NELEM(cb_rows[i].want)),
              "disco callback row %zu: %s\n  answer: %s", i, cb_rows[i].xml,
              a ? a : "none");
        free(a);
    }
    CHECK(cb_calls == 6, "the callbacks ran for nodes and entities (%d)",
          cb_calls);

    /* The same identity twice: no caps (XEP-0115 5.4), asked twice. */
    xd_component_add_identity(comp, "component", "generic", "Built-ins");
    CHECK(xd_component_caps(comp, &node, &ver) == XD_EINVAL &&
              xd_component_caps(comp, &node, &ver) == XD_EINVAL,
          "ill-formed disco: no caps");
    p = xd_stanza_presence_new(NULL, NULL, NULL);
    CHECK(xd_component_add_caps(comp, p) == XD_EINVAL &&
              xd_elem_first(xd_stanza_root(p)) == NULL,
          "nor a <c/>");
    xd_stanza_unref(p);

    xd_component_free(comp);
    xd_fake_router_free(r);
    xd_config_free(cfg);
}

int
main(void)
{
    xd_fake_router *r = NULL;
    char ini[512];
    xd_config *cfg = NULL;
    xd_component *comp = NULL;

    xd_fake_router_new(&r);
    snprintf(ini, sizeof(ini),
             "[c]\ndomain = comp.example\nsecret = s3cret\n"
             "router_host = 127.0.0.1\nrouter_port = %u\n"
             "reconnect_min_ms = 20\nreconnect_max_ms = 40\n"
             "iq_timeout_ms = 150\nqueue_max = 3\n"
             "max_stanza_bytes = 4096\n",
             xd_fake_router_port(r));
    xd_config_load_string(ini, "test.ini", &cfg);
    CHECK(xd_component_new(cfg, "c", xd_fake_router_base(r), &comp) == 0,
          "component made");
    xd_component_add_identity(comp, "component", "generic", "Test");
    xd_component_add_feature(comp, "urn:example:feature");
    xd_component_on(comp, XD_STANZA_MESSAGE, NULL, on_message, NULL);
    xd_component_on_link(comp, on_link, NULL);

    /* Queued before any link: three fit, the fourth does not. */
    for (int i = 0; i < 4; i++) {
        xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);
        char body[8];
        snprintf(body, sizeof(body), "%d", i);
        xd_stanza_set_to(m, "user@example.com");
        xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, body);
        int rc = xd_component_send(comp, m);
        CHECK(rc == (i < 3 ? 0 : XD_ELIMIT), "queue bound");
    }

    /* First handshake refused, then accepted after a backoff. */
    xd_fake_router_refuse(r, 1);
    xd_component_start(comp);
    xd_test_run_until(xd_fake_router_base(r), &links_up, 1);
    CHECK(xd_fake_router_connections(r) == 2 && links_up == 1 &&
              xd_component_is_up(comp),
          "reconnects after not-authorized and comes up");
    unsigned char d[SHA_DIGEST_LENGTH];
    char hex[41];
    SHA1((const unsigned char *)"streamids3cret", 14, d);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK(strcmp(xd_fake_router_last_handshake(r), hex) == 0,
          "handshake is hex(SHA-1(id + secret))");
    xd_fake_router_wait(r, 3);
    CHECK(xd_fake_router_count(r) == 3 &&
              strcmp(got_text(r, 0, "body"), "0") == 0 &&
              strcmp(got_text(r, 2, "body"), "2") == 0 &&
              strcmp(xd_stanza_from(xd_fake_router_got(r, 0)),
                     "comp.example") == 0,
          "queued stanzas flushed in order, from the domain");

    /* An iq answered by its addressee; one answered by someone else. */
    struct waiter w1 = { 0 }, w2 = { 0 }, w3 = { 0 };
    xd_stanza *iq = xd_stanza_iq_new("get", "q1", "x.example", NULL);
    xd_elem_add_child(xd_stanza_root(iq), "ping", XD_NS_PING);
    xd_component_iq(comp, iq, 0, on_iq, &w1);
    xd_fake_router_wait(r, 4);
    xd_fake_router_send(r, "<iq type='result' id='q1' from='evil.example' "
                           "to='comp.example'/>");
    xd_test_run_for_ms(xd_fake_router_base(r), 30);
    CHECK(w1.calls == 0, "an answer from someone else is ignored");
    xd_fake_router_send(r, "<iq type='result' id='q1' from='x.example' "
                           "to='comp.example'/>");
    xd_test_run_until(xd_fake_router_base(r), &w1.calls, 1);
    CHECK(w1.calls == 1 && w1.got_reply && strcmp(w1.type, "result") == 0,
          "iq result reaches its callback");

    /* A time-out. */
    xd_component_iq(comp, xd_stanza_iq_new("get", "q2", "x.example", NULL), 0,
                    on_iq, &w2);
    xd_test_run_until(xd_fake_router_base(r), &w2.calls, 1);
    CHECK(w2.calls == 1 && !w2.got_reply, "iq time-out calls back with NULL");

    /* Requests from the router. */
    int before = xd_fake_router_count(r);
    xd_fake_router_send(r,
                        "<iq type='get' id='d1' from='a@example.com/r' "
                        "to='comp.example'><query xmlns='http://jabber.org/"
                        "protocol/disco#info'/></iq>"
                        "<iq type='get' id='p1' from='a@example.com/r' "
                        "to='comp.example'><ping xmlns='urn:xmpp:ping'/></iq>"
                        "<iq type='set' id='u1' from='a@example.com/r' "
                        "to='bot@comp.example'><x xmlns='urn:unknown'/></iq>"
                        "<message from='a@example.com/r' to='bot@comp.example'>"
                        "<body>hi</body></message>");
    xd_fake_router_wait(r, before + 3);
    CHECK(xd_fake_router_count(r) == before + 3, "three answers");
    if (xd_fake_router_count(r) == before + 3) {
        char *info = xd_elem_to_string(
            xd_stanza_root(xd_fake_router_got(r, before)), NULL);
        CHECK(strstr(info, "type='result'") &&
                  strstr(info, "<identity category='component' "
                               "type='generic' name='Test'/>") &&
                  strstr(info, "var='urn:example:feature'") &&
                  strstr(info, "var='urn:xmpp:ping'"),
              "disco#info lists identity and features");
        free(info);
        CHECK(strcmp(xd_stanza_type(xd_fake_router_got(r, before + 1)),
                     "result") == 0 &&
                  strcmp(xd_stanza_id(xd_fake_router_got(r, before + 1)),
                         "p1") == 0,
              "ping answered");
        const char *cond =
            xd_stanza_error_condition(xd_fake_router_got(r, before + 2));
        CHECK(cond != NULL && strcmp(cond, "service-unavailable") == 0,
              "unhandled iq set: service-unavailable");
    }
    CHECK(messages_seen == 1, "the message handler ran");

    /* The link drops with an iq pending: the callback hears of it, and
     * the component comes back by itself. */
    xd_component_iq(comp, xd_stanza_iq_new("get", "q3", "x.example", NULL),
                    5000, on_iq, &w3);
    xd_test_run_for_ms(xd_fake_router_base(r), 20);
    xd_fake_router_hold(r, 1);
    xd_stream_error(xd_fake_router_stream(r), "system-shutdown", NULL);
    xd_test_run_until(xd_fake_router_base(r), &w3.calls, 1);
    CHECK(w3.calls == 1 && !w3.got_reply && links_down == 1,
          "link loss fails pending iqs and is reported");
    xd_fake_router_wait_connections(r, 3);
    CHECK(xd_fake_router_connections(r) == 3 && !xd_component_is_up(comp),
          "reconnecting; down until the handshake is answered");
    xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);
    xd_stanza_set_to(m, "user@example.com");
    xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, "after");
    xd_component_send(comp, m);
    before = xd_fake_router_count(r);
    xd_fake_router_answer(r);
    xd_fake_router_wait(r, before + 1);
    CHECK(links_up == 2 && xd_fake_router_count(r) == before + 1 &&
              strcmp(got_text(r, before, "body"), "after") == 0,
          "up again, and what was sent meanwhile arrives");

    /* Stanzas over max_stanza_bytes would end the link at the router: they
     * are not sent; an iq answer becomes <resource-constraint/>. */
    xd_component_on_iq(comp, "urn:example:big", 0, answer_big, NULL);
    before = xd_fake_router_count(r);
    xd_fake_router_send(r,
                        "<iq type='get' id='big1' from='a@example.com/r' "
                        "to='comp.example'><q xmlns='urn:example:big'/></iq>");
    xd_fake_router_wait(r, before + 1);
    const char *cond =
        xd_fake_router_count(r) > before
            ? xd_stanza_error_condition(xd_fake_router_got(r, before))
            : NULL;
    CHECK(cond != NULL && strcmp(cond, "resource-constraint") == 0 &&
              strcmp(xd_stanza_id(xd_fake_router_got(r, before)), "big1") ==
                  0 &&
              strcmp(xd_stanza_to(xd_fake_router_got(r, before)),
                     "a@example.com/r") == 0,
          "an answer over max_stanza_bytes: resource-constraint to the asker");
    xd_component_send(comp, big_message());
    m = xd_stanza_new("message", XD_NS_CLIENT);
    xd_stanza_set_to(m, "user@example.com");
    xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, "small");
    xd_component_send(comp, m);
    const char *big_to[] = { "u1@example.com", "u2@example.com" };
    xd_stanza *big = big_message();
    xd_stanza_set_to(big, NULL);
    xd_stanza_set_from(big, "room@comp.example");
    CHECK(xd_component_send_each(comp, big, big_to, 2) == XD_ELIMIT,
          "a broadcast over max_stanza_bytes: XD_ELIMIT");
    xd_stanza_unref(big);
    xd_fake_router_wait(r, before + 2);
    xd_test_run_for_ms(xd_fake_router_base(r), 50);
    CHECK(xd_fake_router_count(r) == before + 2 &&
              strcmp(got_text(r, before + 1, "body"), "small") == 0 &&
              xd_fake_router_stream(r) != NULL && xd_component_is_up(comp),
          "the big message is dropped, the next one arrives, the link "
          "stays up");

    xd_component_free(comp);
    xd_fake_router_free(r);
    xd_config_free(cfg);

    backpressure(0);
    backpressure(1048576);
    builtins();
    version_from_program();
    return check_report();
}
