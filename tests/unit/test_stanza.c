/*
 * Unit tests for stanza.c: kinds, addressing shortcuts, replies, error
 * replies (RFC 6120 8.3) and the default error types (RFC 6120 8.3.3).
 */
#include "check.h"
#include "parse_xml.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/stanza.h>
#include <xmppd/xml_parser.h>

static void
test_kind(void)
{
    static const struct {
        const char *xml;
        xd_stanza_kind kind;
        int is_error;
    } cases[] = {
        { "<message xmlns='jabber:client'/>", XD_STANZA_MESSAGE, 0 },
        { "<message xmlns='jabber:server' type='error'/>", XD_STANZA_MESSAGE,
          1 },
        { "<presence xmlns='jabber:component:accept'/>", XD_STANZA_PRESENCE,
          0 },
        { "<iq xmlns='jabber:client' type='result'/>", XD_STANZA_IQ, 0 },
        { "<iq xmlns='urn:other'/>", XD_STANZA_OTHER, 0 },
        { "<iq/>", XD_STANZA_OTHER, 0 },
        { "<r xmlns='urn:xmpp:sm:3'/>", XD_STANZA_OTHER, 0 },
        { "<body xmlns='jabber:client'/>", XD_STANZA_OTHER, 0 },
        { "<message xmlns='jabber:client' type='Error'/>", XD_STANZA_MESSAGE,
          0 },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_stanza *st = parse(cases[i].xml);
        CHECK(xd_stanza_kind_of(st) == cases[i].kind &&
                  xd_stanza_is_error(st) == cases[i].is_error,
              "case %zu: %s", i, cases[i].xml);
        xd_stanza_unref(st);
    }
}

static void
test_addressing(void)
{
    xd_stanza *st = xd_stanza_new("message", XD_NS_CLIENT);

    CHECK(xd_stanza_to(st) == NULL && xd_stanza_from(st) == NULL &&
              xd_stanza_id(st) == NULL && xd_stanza_type(st) == NULL,
          "a new stanza has no addressing");
    xd_stanza_set_to(st, "juliet@example.com");
    xd_stanza_set_from(st, "romeo@example.net/orchard");
    xd_stanza_set_id(st, "m1");
    xd_stanza_set_type(st, "chat");
    xd_stanza_set_child_text(st, "body", XD_NS_CLIENT, "hi");
    xd_stanza_set_child_text(st, "body", XD_NS_CLIENT, "hello");
    CHECK(strcmp(xd_stanza_to(st), "juliet@example.com") == 0 &&
              strcmp(xd_stanza_from(st), "romeo@example.net/orchard") == 0 &&
              strcmp(xd_stanza_id(st), "m1") == 0 &&
              strcmp(xd_stanza_type(st), "chat") == 0 &&
              strcmp(xd_stanza_child_text(st, "body", XD_NS_CLIENT), "hello") ==
                  0 &&
              xd_stanza_child_text(st, "subject", XD_NS_CLIENT) == NULL,
          "setters and getters");
    xd_stanza_set_from(st, NULL);
    xd_stanza_set_to(st, NULL);
    char *s = xd_elem_to_string(xd_stanza_root(st), XD_NS_CLIENT);
    CHECK(strcmp(s, "<message id='m1' type='chat'><body>hello</body>"
                    "</message>") == 0,
          "NULL removes: %s", s);
    free(s);
    xd_stanza_unref(st);
}

static void
test_reply(void)
{
    /* id: "=" the request's is kept, "*" a fresh one, NULL none. A chat
     * reply that reused the user's id would be taken by clients for the
     * user's own message (corrections, receipts, de-duplication). */
    static const struct {
        const char *in, *out, *id;
    } cases[] = {
        { "<iq xmlns='jabber:client' from='a@x/r' to='x' id='7' type='get'>"
          "<ping xmlns='urn:xmpp:ping'/></iq>",
          "<iq to='a@x/r' from='x' type='result'/>", "=" },
        { "<iq xmlns='jabber:client' from='a@x/r' id='8' type='set'/>",
          "<iq to='a@x/r' type='result'/>", "=" },
        { "<message xmlns='jabber:client' from='a@x' to='b@y' type='chat' "
          "id='m'><body>hi</body></message>",
          "<message to='a@x' from='b@y' type='chat'/>", "*" },
        { "<presence xmlns='jabber:client' from='a@x' to='b@y' id='p' "
          "type='subscribe'/>",
          "<presence to='a@x' from='b@y' type='subscribe'/>", "=" },
        { "<presence xmlns='jabber:client' from='a@x' to='b@y'/>",
          "<presence to='a@x' from='b@y'/>", NULL },
        { "<message xmlns='jabber:client'/>", "<message/>", "*" },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_stanza *in = parse(cases[i].in);
        xd_stanza *r = xd_stanza_reply(in);
        const char *in_id = xd_stanza_id(in), *id = xd_stanza_id(r);
        const char *want = cases[i].id;
        int id_ok = want == NULL   ? id == NULL
                    : *want == '=' ? id && strcmp(id, in_id) == 0
                                   : id && strlen(id) == 16 &&
                                         (in_id == NULL || strcmp(id, in_id));
        CHECK(id_ok, "reply %zu: id %s", i, id ? id : "(none)");
        xd_stanza_set_id(r, NULL);
        char *s = xd_elem_to_string(xd_stanza_root(r), XD_NS_CLIENT);
        CHECK(strcmp(s, cases[i].out) == 0, "reply %zu: %s\n  got %s", i,
              cases[i].in, s);
        free(s);
        xd_stanza_unref(r);
        xd_stanza_unref(in);
    }
}

static void
test_error_reply(void)
{
    static const struct {
        const char *in, *condition, *text;
        xd_error_type type;
        const char *out; /* NULL: no reply */
    } cases[] = {
        { "<iq xmlns='jabber:client' from='a@x/r' to='x' id='7' type='get'>"
          "<ping xmlns='urn:xmpp:ping'/></iq>",
          "service-unavailable", "nope", XD_ERRT_CANCEL,
          "<iq to='a@x/r' from='x' id='7' type='error'><ping "
          "xmlns='urn:xmpp:ping'/><error type='cancel'><service-"
          "unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
          "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>nope</text>"
          "</error></iq>" },
        { "<message xmlns='jabber:client' from='a@x' to='b@x' type='chat' "
          "id='m7'><body>hi</body></message>",
          "recipient-unavailable", NULL, XD_ERRT_WAIT,
          "<message to='a@x' from='b@x' id='m7' type='error'><body>hi</body>"
          "<error "
          "type='wait'><recipient-unavailable xmlns='urn:ietf:params:xml:"
          "ns:xmpp-stanzas'/></error></message>" },
        { "<presence xmlns='jabber:client' from='a@x' to='b@x' "
          "type='subscribe'/>",
          "forbidden", NULL, XD_ERRT_AUTH,
          "<presence to='a@x' from='b@x' type='error'><error type='auth'>"
          "<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
          "</presence>" },
        { "<iq xmlns='jabber:client' id='1' type='set'/>", "bad-request",
          "a < b", XD_ERRT_MODIFY,
          "<iq id='1' type='error'><error type='modify'><bad-request "
          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:"
          "ietf:params:xml:ns:xmpp-stanzas'>a &lt; b</text></error></iq>" },
        /* Errors are never answered with errors. */
        { "<iq xmlns='jabber:client' id='1' type='error'/>", "bad-request",
          NULL, XD_ERRT_MODIFY, NULL },
        { "<message xmlns='jabber:client' type='error'><body>x</body>"
          "</message>",
          "service-unavailable", NULL, XD_ERRT_CANCEL, NULL },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_stanza *in = parse(cases[i].in);
        xd_stanza *e = xd_stanza_error_reply(in, cases[i].type,
                                             cases[i].condition, cases[i].text);
        if (cases[i].out == NULL) {
            CHECK(e == NULL, "error reply %zu: none to %s", i, cases[i].in);
        } else {
            char *s =
                e ? xd_elem_to_string(xd_stanza_root(e), XD_NS_CLIENT) : NULL;
            CHECK(s != NULL && strcmp(s, cases[i].out) == 0 &&
                      xd_stanza_is_error(e) &&
                      strcmp(xd_stanza_error_condition(e),
                             cases[i].condition) == 0,
                  "error reply %zu: %s\n  got %s", i, cases[i].in, s);
            free(s);
        }
        CHECK(xd_stanza_error_condition(in) == NULL || cases[i].out == NULL,
              "case %zu: no condition in a non-error", i);
        xd_stanza_unref(e);
        xd_stanza_unref(in);
    }

    /* The condition of errors received from elsewhere. */
    static const struct {
        const char *xml, *condition;
    } received[] = {
        { "<iq xmlns='jabber:client' type='error'><error type='cancel'><text "
          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>t</text><item-not-found "
          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
          "item-not-found" },
        { "<iq xmlns='jabber:client' type='error'><error type='cancel'/></iq>",
          NULL },
        { "<iq xmlns='jabber:client' type='error'><error type='cancel'><x "
          "xmlns='urn:app'/></error></iq>",
          NULL },
    };
    for (size_t i = 0; i < XD_NELEM(received); i++) {
        xd_stanza *st = parse(received[i].xml);
        const char *c = xd_stanza_error_condition(st);
        CHECK(received[i].condition ? c && strcmp(c, received[i].condition) == 0
                                    : c == NULL,
              "received %zu: %s", i, c ? c : "(null)");
        xd_stanza_unref(st);
    }
}

static void
test_default_types(void)
{
    /* RFC 6120 8.3.3, each defined condition with its usual type. */
    static const struct {
        const char *condition;
        xd_error_type type;
    } cases[] = {
        { "bad-request", XD_ERRT_MODIFY },
        { "conflict", XD_ERRT_CANCEL },
        { "feature-not-implemented", XD_ERRT_CANCEL },
        { "forbidden", XD_ERRT_AUTH },
        { "gone", XD_ERRT_CANCEL },
        { "internal-server-error", XD_ERRT_CANCEL },
        { "item-not-found", XD_ERRT_CANCEL },
        { "jid-malformed", XD_ERRT_MODIFY },
        { "not-acceptable", XD_ERRT_MODIFY },
        { "not-allowed", XD_ERRT_CANCEL },
        { "not-authorized", XD_ERRT_AUTH },
        { "policy-violation", XD_ERRT_MODIFY },
        { "recipient-unavailable", XD_ERRT_WAIT },
        { "redirect", XD_ERRT_MODIFY },
        { "registration-required", XD_ERRT_AUTH },
        { "remote-server-not-found", XD_ERRT_CANCEL },
        { "remote-server-timeout", XD_ERRT_WAIT },
        { "resource-constraint", XD_ERRT_WAIT },
        { "service-unavailable", XD_ERRT_CANCEL },
        { "subscription-required", XD_ERRT_AUTH },
        { "undefined-condition", XD_ERRT_CANCEL },
        { "unexpected-request", XD_ERRT_WAIT },
        { "no-such-condition", XD_ERRT_CANCEL },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++)
        CHECK(xd_stanza_error_default_type(cases[i].condition) == cases[i].type,
              "default type %zu: %s", i, cases[i].condition);
}

static void
test_iq_new(void)
{
    xd_stanza *a = xd_stanza_iq_new("get", NULL, "x", NULL);
    xd_stanza *b = xd_stanza_iq_new("get", NULL, NULL, NULL);
    xd_stanza *c = xd_stanza_iq_new("set", "fixed", "to@x", "from@y");

    CHECK(xd_stanza_kind_of(a) == XD_STANZA_IQ && xd_stanza_id(a) != NULL &&
              strlen(xd_stanza_id(a)) == 16 &&
              strcmp(xd_stanza_id(a), xd_stanza_id(b)) != 0 &&
              strcmp(xd_stanza_to(a), "x") == 0 && xd_stanza_from(a) == NULL &&
              strcmp(xd_stanza_type(a), "get") == 0,
          "iq_new makes a random id");
    char *s = xd_elem_to_string(xd_stanza_root(c), NULL);
    CHECK(strcmp(s, "<iq xmlns='jabber:client' type='set' id='fixed' "
                    "to='to@x' from='from@y'/>") == 0,
          "iq_new with everything: %s", s);
    free(s);
    xd_stanza_unref(a);
    xd_stanza_unref(b);
    xd_stanza_unref(c);
}

static void
test_builders(void)
{
    xd_stanza *m = xd_stanza_message_new("chat", "a@x/r", NULL, "hi <you>");
    xd_stanza *m2 = xd_stanza_message_new(NULL, "a@x", "b@y", NULL);
    const char *id = xd_stanza_id(m);

    CHECK(id && strlen(id) == 16 && strcmp(id, xd_stanza_id(m2)) != 0,
          "messages get a fresh id each");
    xd_stanza_set_id(m, NULL);
    xd_stanza_set_id(m2, NULL);

    xd_stanza *p = xd_stanza_presence_new(NULL, NULL, "bot.x");
    xd_stanza *p2 = xd_stanza_presence_new("subscribed", "a@x", "bot.x");
    xd_stanza *iq = parse("<iq xmlns='jabber:client' from='a@x/r' to='bot.x' "
                          "id='q1' type='get'><query xmlns='urn:v'/></iq>");
    xd_stanza *res = xd_stanza_iq_result(iq);
    xd_elem_add_child_text(xd_stanza_add_child(res, "query", "urn:v"), "name",
                           NULL, "bot");
    xd_elem *q = xd_elem_first(xd_stanza_root(res));
    xd_elem_add_child_text(q, "name", NULL, "twice");
    xd_elem_add_str(xd_elem_add_child(q, "os", NULL), "a&b");
    xd_elem_add_str(q, NULL);
    xd_stanza *err = xd_stanza_error(iq, "item-not-found", "no such thing");
    xd_stanza *werr = xd_stanza_error(iq, "resource-constraint", NULL);

    static const char *const want[] = {
        "<message type='chat' to='a@x/r'><body>hi &lt;you&gt;</body>"
        "</message>",
        "<message to='a@x' from='b@y'/>",
        "<presence from='bot.x'/>",
        "<presence type='subscribed' to='a@x' from='bot.x'/>",
        "<iq to='a@x/r' from='bot.x' id='q1' type='result'><query "
        "xmlns='urn:v'><name>bot</name><name>twice</name><os>a&amp;b</os>"
        "</query></iq>",
        "<iq to='a@x/r' from='bot.x' id='q1' type='error'><query "
        "xmlns='urn:v'/><error type='cancel'><item-not-found "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no such thing</text>"
        "</error></iq>",
        "<iq to='a@x/r' from='bot.x' id='q1' type='error'><query "
        "xmlns='urn:v'/><error type='wait'><resource-constraint "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
    };
    xd_stanza *got[] = { m, m2, p, p2, res, err, werr };
    for (size_t i = 0; i < XD_NELEM(got); i++) {
        char *s = xd_elem_to_string(xd_stanza_root(got[i]), XD_NS_CLIENT);
        CHECK(strcmp(s, want[i]) == 0, "builder %zu:\n  want %s\n  got  %s", i,
              want[i], s);
        free(s);
        xd_stanza_unref(got[i]);
    }

    /* Results only answer requests: never a result or an error, never a
     * message. */
    static const char *const not_requests[] = {
        "<iq xmlns='jabber:client' id='1' type='result'/>",
        "<iq xmlns='jabber:client' id='1' type='error'/>",
        "<iq xmlns='jabber:client' id='1'/>",
        "<message xmlns='jabber:client' type='chat'/>",
    };
    for (size_t i = 0; i < XD_NELEM(not_requests); i++) {
        xd_stanza *st = parse(not_requests[i]);
        CHECK(xd_stanza_iq_result(st) == NULL, "no result to %s",
              not_requests[i]);
        xd_stanza_unref(st);
    }
    xd_stanza *e = parse("<iq xmlns='jabber:client' id='1' type='error'/>");
    CHECK(xd_stanza_error(e, "bad-request", NULL) == NULL,
          "no error to an error");
    xd_stanza_unref(e);
    xd_stanza_unref(iq);
}

/* xd_stanza_message_reply: a reply with a body, a fresh id, the type
 * kept; nothing for an error or another kind. */
static void
test_message_reply(void)
{
    xd_stanza *in = parse("<message xmlns='jabber:client' from='a@x/r' "
                          "to='bot.x' id='m1' type='chat'><body>hi</body>"
                          "</message>");
    xd_stanza *err = parse("<message xmlns='jabber:client' from='a@x/r' "
                           "to='bot.x' id='m2' type='error'/>");
    xd_stanza *iq = parse("<iq xmlns='jabber:client' from='a@x/r' "
                          "to='bot.x' id='q' type='get'/>");
    xd_stanza *out = xd_stanza_message_reply(in, "hello");
    xd_stanza *bare = xd_stanza_message_reply(in, NULL);

    CHECK(out && !strcmp(xd_stanza_to(out), "a@x/r") &&
              !strcmp(xd_stanza_from(out), "bot.x") &&
              !strcmp(xd_stanza_type(out), "chat") &&
              strcmp(xd_stanza_id(out), "m1") != 0 &&
              !strcmp(xd_stanza_child_text(out, "body", XD_NS_CLIENT), "hello"),
          "message_reply: swapped, chat, a fresh id, the body");
    CHECK(bare && xd_stanza_child_text(bare, "body", XD_NS_CLIENT) == NULL,
          "message_reply with a NULL body: no body");
    CHECK(xd_stanza_message_reply(err, "x") == NULL &&
              xd_stanza_message_reply(iq, "x") == NULL,
          "message_reply: NULL for an error and for an iq");
    xd_stanza_unref(out);
    xd_stanza_unref(bare);
    xd_stanza_unref(in);
    xd_stanza_unref(err);
    xd_stanza_unref(iq);
}

int
main(void)
{
    test_kind();
    test_addressing();
    test_reply();
    test_error_reply();
    test_default_types();
    test_iq_new();
    test_builders();
    test_message_reply();
    return check_report();
}
