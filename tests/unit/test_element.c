/*
 * Unit tests for element.c, stanza.c and buf.c: building, querying,
 * copying, serialising into each kind of stream, replies and errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/stanza.h>
#include <xmppd/xml_parser.h>

static int passed, failed;

static void
expect_str(const char *got, const char *want, const char *what)
{
    if (got != NULL && strcmp(got, want) == 0) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL %s:\n  got  %s\n  want %s\n", what,
            got ? got : "(null)", want);
}

static void
expect(int ok, const char *what)
{
    if (ok)
        passed++;
    else {
        failed++;
        fprintf(stderr, "FAIL %s\n", what);
    }
}

static xd_stanza *
parse(const char *xml)
{
    xd_stanza *st = NULL;

    if (xd_xml_parse_element(xml, strlen(xml), NULL, &st) != 0) {
        fprintf(stderr, "cannot parse %s\n", xml);
        exit(1);
    }
    return st;
}

static void
test_serialise(void)
{
    static const struct {
        const char *in, *stream_ns, *out;
    } cases[] = {
        /* A client stanza in a component stream: no xmlns at all. */
        { "<message xmlns='jabber:client' to='a@b'><body>hi</body></message>",
          XD_NS_COMPONENT, "<message to='a@b'><body>hi</body></message>" },
        { "<message xmlns='jabber:component:accept'><body>x</body></message>",
          XD_NS_CLIENT, "<message><body>x</body></message>" },
        /* Standalone: the root declares its namespace. */
        { "<message xmlns='jabber:client'/>", NULL,
          "<message xmlns='jabber:client'/>" },
        /* A stanza nested in a foreign namespace keeps jabber:client. */
        { "<message xmlns='jabber:client'><forwarded xmlns='urn:xmpp:forward:"
          "0'><message xmlns='jabber:client'><body>in</body></message>"
          "</forwarded></message>",
          XD_NS_CLIENT,
          "<message><forwarded xmlns='urn:xmpp:forward:0'><message "
          "xmlns='jabber:client'><body>in</body></message></forwarded>"
          "</message>" },
        /* Escaping in text and attributes. */
        { "<m xmlns='jabber:client' a='&apos;&quot;&lt;&amp;'>&lt;&amp;&gt;"
          "</m>",
          XD_NS_CLIENT, "<m a='&apos;&quot;&lt;&amp;'>&lt;&amp;&gt;</m>" },
        { "<m xmlns='jabber:client' a='x&#10;y'>a&#13;b</m>", XD_NS_CLIENT,
          "<m a='x&#10;y'>a&#13;b</m>" },
        /* The stream namespace gets the stream: prefix in a stream. */
        { "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
          "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
          XD_NS_CLIENT,
          "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
          "</stream:features>" },
        /* Mixed content keeps its order. */
        { "<p xmlns='jabber:client'>a<b/>c<d>e</d>f</p>", XD_NS_CLIENT,
          "<p>a<b/>c<d>e</d>f</p>" },
        { "<p xmlns='jabber:client' xml:lang='de'/>", XD_NS_CLIENT,
          "<p xml:lang='de'/>" },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_stanza *st = parse(cases[i].in);
        char *out = xd_elem_to_string(xd_stanza_root(st), cases[i].stream_ns);
        expect_str(out, cases[i].out, cases[i].in);
        free(out);
        xd_stanza_unref(st);
    }
}

static void
test_build_and_query(void)
{
    xd_stanza *st = xd_stanza_new("iq", XD_NS_CLIENT);
    xd_elem *root = xd_stanza_root(st);

    xd_stanza_set_type(st, "set");
    xd_stanza_set_to(st, "example.com");
    xd_elem *q = xd_elem_add_child(root, "query", "jabber:iq:roster");
    xd_elem *item = xd_elem_add_child(q, "item", NULL);
    xd_elem_set_attr(item, "jid", "bob@example.com");
    xd_elem_set_child_text(item, "group", NULL, "Friends");
    xd_elem_set_child_text(item, "group", NULL, "Family"); /* replaces */
    expect(strcmp(xd_elem_ns(item), "jabber:iq:roster") == 0,
           "a child inherits its parent's namespace");
    expect_str(xd_elem_child_text(item, "group", "jabber:iq:roster"), "Family",
               "set_child_text replaces");
    expect(xd_elem_child(root, "query", "jabber:iq:roster") == q &&
               xd_elem_child(root, "query", "urn:other") == NULL &&
               xd_elem_child(root, NULL, NULL) == q,
           "child lookup by name and namespace");
    expect(xd_stanza_kind_of(st) == XD_STANZA_IQ, "kind of an iq");
    xd_elem_set_attr(item, "jid", NULL);
    expect(xd_elem_attr(item, "jid") == NULL && xd_elem_attr_count(item) == 0,
           "removing an attribute");
    xd_elem_add_text(item, "a", 1);
    xd_elem_add_child(item, "x", NULL);
    xd_elem_add_text(item, "b", 1);
    expect_str(xd_elem_text(item), "ab", "text joins text nodes");
    expect(xd_elem_child_count(item) == 2, "two element children");

    xd_stanza *copy = xd_stanza_copy(q);
    char *a = xd_elem_to_string(q, NULL);
    char *b = xd_elem_to_string(xd_stanza_root(copy), NULL);
    expect_str(b, a, "a copy serialises like the original");
    free(a);
    free(b);
    xd_elem_remove(item);
    expect(xd_elem_first(q) == NULL && xd_elem_child_count(q) == 0,
           "remove unlinks");
    expect(xd_stanza_mem(st) > 0, "memory is accounted");
    xd_stanza_unref(copy);

    xd_stanza *ref = xd_stanza_ref(st);
    xd_stanza_unref(st);
    expect(strcmp(xd_stanza_type(ref), "set") == 0,
           "a reference keeps the stanza alive");
    xd_stanza_unref(ref);
}

static void
test_replies(void)
{
    xd_stanza *in = parse("<iq xmlns='jabber:client' from='a@x/r' to='x' "
                          "id='7' type='get'><ping xmlns='urn:xmpp:ping'/>"
                          "</iq>");
    xd_stanza *r = xd_stanza_reply(in);
    char *s = xd_elem_to_string(xd_stanza_root(r), XD_NS_CLIENT);
    expect_str(s, "<iq to='a@x/r' from='x' id='7' type='result'/>", "iq reply");
    free(s);
    xd_stanza_unref(r);

    xd_stanza *e = xd_stanza_error_reply(in, XD_ERRT_CANCEL,
                                         "service-unavailable", "nope");
    s = xd_elem_to_string(xd_stanza_root(e), XD_NS_CLIENT);
    expect_str(s,
               "<iq to='a@x/r' from='x' id='7' type='error'><ping "
               "xmlns='urn:xmpp:ping'/><error type='cancel'><service-"
               "unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
               "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>nope</text>"
               "</error></iq>",
               "error reply");
    expect_str(xd_stanza_error_condition(e), "service-unavailable",
               "condition read back");
    expect(xd_stanza_error_reply(e, XD_ERRT_CANCEL, "bad-request", NULL) ==
               NULL,
           "errors are never answered with errors");
    free(s);
    xd_stanza_unref(e);
    xd_stanza_unref(in);

    static const struct {
        const char *condition;
        xd_error_type type;
    } types[] = {
        { "bad-request", XD_ERRT_MODIFY },
        { "forbidden", XD_ERRT_AUTH },
        { "recipient-unavailable", XD_ERRT_WAIT },
        { "item-not-found", XD_ERRT_CANCEL },
        { "not-authorized", XD_ERRT_AUTH },
        { "resource-constraint", XD_ERRT_WAIT },
    };
    for (size_t i = 0; i < XD_NELEM(types); i++)
        expect(xd_stanza_error_default_type(types[i].condition) ==
                   types[i].type,
               types[i].condition);

    xd_stanza *iq = xd_stanza_iq_new("get", NULL, "x", NULL);
    expect(xd_stanza_id(iq) != NULL && strlen(xd_stanza_id(iq)) == 16 &&
               xd_stanza_from(iq) == NULL,
           "iq_new makes an id");
    xd_stanza_unref(iq);
}

static void
test_buf(void)
{
    xd_buf b = XD_BUF_INIT;

    for (int i = 0; i < 1000; i++)
        xd_buf_appendf(&b, "%d,", i);
    expect(b.len == strlen(b.data) && strncmp(b.data, "0,1,2,", 6) == 0,
           "appendf grows");
    xd_buf_reset(&b);
    xd_buf_append_text(&b, "a<b>&c\"'", 8);
    expect_str(b.data, "a&lt;b&gt;&amp;c\"'", "text escaping");
    xd_buf_reset(&b);
    xd_buf_append_attr(&b, "a<b>&c\"'", 8);
    expect_str(b.data, "a&lt;b&gt;&amp;c&quot;&apos;", "attribute escaping");
    char *s = xd_buf_steal(&b);
    expect(b.data == NULL && b.len == 0, "steal empties");
    free(s);
    xd_buf_free(&b);
}

int
main(void)
{
    test_serialise();
    test_build_and_query();
    test_replies();
    test_buf();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
