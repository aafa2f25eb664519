/*
 * Unit tests for element.c, arena.c and serialise.c: building and querying
 * trees, copies, removal, text joining, the arena's accounting, and the
 * serialiser's namespace declarations in each kind of stream.
 */
#include "check.h"
#include "parse_xml.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/element.h>
#include <xmppd/xml_parser.h>

/* Each input serialised into a stream of stream_ns (NULL: standalone). */
static const struct {
    const char *in, *stream_ns, *out;
} ser_cases[] = {
    /* A client stanza in a component stream: no xmlns at all. */
    { "<message xmlns='jabber:client' to='a@b' from='c@d'><body>hi</body>"
      "</message>",
      XD_NS_COMPONENT,
      "<message to='a@b' from='c@d'><body>hi</body></message>" },
    /* ... and the other way round (the parser folds the namespace). */
    { "<message xmlns='jabber:component:accept'><body>x</body></message>",
      XD_NS_CLIENT, "<message><body>x</body></message>" },
    { "<presence xmlns='jabber:server'/>", XD_NS_SERVER, "<presence/>" },
    { "<presence xmlns='jabber:client'/>", XD_NS_SERVER, "<presence/>" },
    /* Standalone: the root declares its namespace. */
    { "<message xmlns='jabber:client'/>", NULL,
      "<message xmlns='jabber:client'/>" },
    { "<message xmlns='jabber:server'><body>b</body></message>", NULL,
      "<message xmlns='jabber:client'><body>b</body></message>" },
    { "<a/>", NULL, "<a/>" },
    { "<a><b xmlns='urn:b'><c xmlns=''/></b></a>", NULL,
      "<a><b xmlns='urn:b'><c xmlns=''/></b></a>" },
    /* A stanza nested in a foreign namespace keeps jabber:client, whatever
     * the stream. */
    { "<message xmlns='jabber:client'><forwarded xmlns='urn:xmpp:forward:"
      "0'><message xmlns='jabber:client'><body>in</body></message>"
      "</forwarded></message>",
      XD_NS_CLIENT,
      "<message><forwarded xmlns='urn:xmpp:forward:0'><message "
      "xmlns='jabber:client'><body>in</body></message></forwarded>"
      "</message>" },
    { "<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2'>"
      "<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay'"
      " stamp='x'/><message xmlns='jabber:server' to='a'><body>in</body>"
      "</message></forwarded></result><body>out</body></message>",
      XD_NS_COMPONENT,
      "<message><result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:"
      "forward:0'><delay xmlns='urn:xmpp:delay' stamp='x'/><message xmlns="
      "'jabber:client' to='a'><body>in</body></message></forwarded>"
      "</result><body>out</body></message>" },
    /* A foreign namespace is declared once, where it starts. */
    { "<iq xmlns='jabber:client' type='result'><query xmlns='jabber:iq:"
      "roster'><item jid='a@b'><group>g</group></item></query></iq>",
      XD_NS_CLIENT,
      "<iq type='result'><query xmlns='jabber:iq:roster'><item jid='a@b'>"
      "<group>g</group></item></query></iq>" },
    /* Escaping in text and attributes. */
    { "<m xmlns='jabber:client' a='&apos;&quot;&lt;&amp;&gt;'>&lt;&amp;&gt;"
      "'\"</m>",
      XD_NS_CLIENT, "<m a='&apos;&quot;&lt;&amp;&gt;'>&lt;&amp;&gt;'\"</m>" },
    { "<m xmlns='jabber:client' a='x&#10;y&#9;z&#13;'>a&#13;b</m>",
      XD_NS_CLIENT, "<m a='x&#10;y&#9;z&#13;'>a&#13;b</m>" },
    /* The stream namespace gets the stream: prefix in a stream, and a
     * default declaration outside one. */
    { "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
      "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
      XD_NS_CLIENT,
      "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
      "</stream:features>" },
    { "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
      "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
      NULL,
      "<features xmlns='http://etherx.jabber.org/streams'><bind xmlns="
      "'urn:ietf:params:xml:ns:xmpp-bind'/></features>" },
    { "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>"
      "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
      "</stream:error>",
      XD_NS_COMPONENT,
      "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
      "</stream:error>" },
    /* Prefixed input comes out with default declarations. */
    { "<foo:bar xmlns:foo='urn:x'><foo:baz/></foo:bar>", NULL,
      "<bar xmlns='urn:x'><baz/></bar>" },
    { "<message xmlns='jabber:client' xmlns:e='urn:e'><e:x/><y/></message>",
      XD_NS_CLIENT, "<message><x xmlns='urn:e'/><y/></message>" },
    /* Mixed content keeps its order. */
    { "<p xmlns='jabber:client'>a<b/>c<d>e</d>f</p>", XD_NS_CLIENT,
      "<p>a<b/>c<d>e</d>f</p>" },
    /* xml:lang, and other namespaced attributes with their own prefix,
     * one per namespace on each element. */
    { "<p xmlns='jabber:client' xml:lang='de'/>", XD_NS_CLIENT,
      "<p xml:lang='de'/>" },
    { "<p xmlns='jabber:client' xmlns:q='urn:q' xmlns:r='urn:r' q:a='1' "
      "r:b='2' q:c='3'><i q:d='4'/></p>",
      XD_NS_CLIENT,
      "<p xmlns:a0='urn:q' a0:a='1' xmlns:a1='urn:r' a1:b='2' a0:c='3'>"
      "<i xmlns:a0='urn:q' a0:d='4'/></p>" },
};

static void
test_serialise(void)
{
    for (size_t i = 0; i < XD_NELEM(ser_cases); i++) {
        xd_stanza *st = parse(ser_cases[i].in);
        char *out =
            xd_elem_to_string(xd_stanza_root(st), ser_cases[i].stream_ns);
        CHECK(strcmp(out, ser_cases[i].out) == 0,
              "case %zu: %s\n  got  %s\n  want %s", i, ser_cases[i].in, out,
              ser_cases[i].out);
        /* What comes out reads back the same. */
        xd_stanza *again = NULL;
        int rc = xd_xml_parse_element(out, strlen(out), NULL, &again);
        if (rc == 0 && ser_cases[i].stream_ns == NULL) {
            char *out2 = xd_elem_to_string(xd_stanza_root(again), NULL);
            CHECK(strcmp(out, out2) == 0, "case %zu reads back: %s", i, out2);
            free(out2);
        }
        CHECK(ser_cases[i].stream_ns != NULL || rc == 0,
              "case %zu standalone output parses", i);
        xd_stanza_unref(again);
        free(out);
        xd_stanza_unref(st);
    }
}

/* Serialising something built by hand. */
static void
test_serialise_built(void)
{
    xd_stanza *st = xd_stanza_new("message", XD_NS_CLIENT);
    xd_elem *root = xd_stanza_root(st);

    xd_elem_set_attr(root, "xmlns", "urn:evil");        /* never written */
    xd_elem_set_attr(root, "xmlns:x", "urn:evil");      /* never written */
    xd_elem_set_attr_ns(root, XD_NS_XML, "lang", "en"); /* xml: prefix */
    xd_elem_set_child_text(root, "body", NULL, "a\x01<b");
    xd_elem *x = xd_elem_add_child(root, "x", "");
    xd_elem_add_child(x, "y", XD_NS_CLIENT);
    char *s = xd_elem_to_string(root, XD_NS_CLIENT);
    CHECK(strcmp(s,
                 "<message xml:lang='en'><body>a\xEF\xBF\xBD&lt;b</body>"
                 "<x xmlns=''><y xmlns='jabber:client'/></x></message>") == 0,
          "built: %s", s);
    free(s);
    xd_stanza_unref(st);

    /* A tree far deeper than any parse allows is still written. */
    st = xd_stanza_new("a", "urn:deep");
    xd_elem *e = xd_stanza_root(st);
    for (int i = 0; i < 10000; i++)
        e = xd_elem_add_child(e, "a", NULL);
    xd_elem_add_text(e, "bottom", 6);
    s = xd_elem_to_string(xd_stanza_root(st), NULL);
    size_t len = strlen(s);
    CHECK(strncmp(s, "<a xmlns='urn:deep'><a><a>", 26) == 0 &&
              strstr(s, "<a>bottom</a></a>") != NULL &&
              len == 20 + 10000 * 3 + 6 + 10001 * 4,
          "a 10,000-deep tree (%zu bytes)", len);
    free(s);
    xd_stanza *copy = xd_stanza_copy(xd_stanza_root(st));
    CHECK(strcmp(xd_elem_name(xd_elem_first(xd_stanza_root(copy))), "a") == 0,
          "copying a deep tree");
    xd_stanza_unref(copy);
    xd_stanza_unref(st);
}

static void
test_build_and_query(void)
{
    xd_stanza *st = xd_stanza_new("iq", XD_NS_CLIENT);
    xd_elem *root = xd_stanza_root(st);

    CHECK(xd_elem_stanza(root) == st && xd_elem_parent(root) == NULL,
          "root belongs to its stanza");
    xd_elem_set_attr(root, "type", "set");
    xd_elem_set_attr(root, "to", "example.com");
    xd_elem_set_attr(root, "type", "get"); /* replaces in place */
    const char *ns, *name, *value;
    xd_elem_attr_at(root, 0, &ns, &name, &value);
    CHECK(xd_elem_attr_count(root) == 2 && strcmp(name, "type") == 0 &&
              strcmp(value, "get") == 0 && strcmp(ns, "") == 0,
          "attributes keep their order when replaced");
    xd_elem_attr_at(root, 5, &ns, &name, &value);
    CHECK(ns == NULL && name == NULL && value == NULL, "attr_at past the end");
    xd_elem_set_attr_ns(root, XD_NS_XML, "lang", "en");
    CHECK(strcmp(xd_elem_attr_ns(root, XD_NS_XML, "lang"), "en") == 0 &&
              xd_elem_attr(root, "lang") == NULL &&
              xd_elem_attr_ns(root, NULL, "to") != NULL,
          "namespaced attributes are apart");

    xd_elem *q = xd_elem_add_child(root, "query", "jabber:iq:roster");
    xd_elem *item = xd_elem_add_child(q, "item", NULL);
    xd_elem_set_attr(item, "jid", "bob@example.com");
    xd_elem_set_child_text(item, "group", NULL, "Friends");
    xd_elem_set_child_text(item, "group", NULL, "Family"); /* replaces */
    CHECK(strcmp(xd_elem_ns(item), "jabber:iq:roster") == 0,
          "a child inherits its parent's namespace");
    CHECK(strcmp(xd_elem_child_text(item, "group", "jabber:iq:roster"),
                 "Family") == 0 &&
              xd_elem_child_count(item) == 1,
          "set_child_text replaces");
    CHECK(xd_elem_child(root, "query", "jabber:iq:roster") == q &&
              xd_elem_child(root, "query", "urn:other") == NULL &&
              xd_elem_child(root, NULL, NULL) == q &&
              xd_elem_child(NULL, NULL, NULL) == NULL &&
              xd_elem_parent(item) == q,
          "child lookup by name and namespace");
    CHECK(xd_elem_is(q, "query", NULL) &&
              xd_elem_is(q, "query",
                         "jabber:iq:"
                         "roster") &&
              !xd_elem_is(q, "query", XD_NS_CLIENT) &&
              !xd_elem_is(NULL, "query", NULL),
          "xd_elem_is");
    xd_elem_set_attr(item, "jid", NULL);
    xd_elem_set_attr(item, "nothere", NULL);
    CHECK(xd_elem_attr(item, "jid") == NULL && xd_elem_attr_count(item) == 0,
          "removing an attribute");

    /* Mixed content: text nodes around elements, joined on demand. */
    xd_elem *m = xd_elem_add_child(root, "m", "urn:m");
    CHECK(strcmp(xd_elem_text(m), "") == 0 && xd_elem_text(NULL)[0] == '\0',
          "no text is \"\"");
    xd_elem_add_text(m, "a", 1);
    xd_elem_add_text(m, "b", 1); /* same text node */
    xd_elem *x1 = xd_elem_add_child(m, "x", NULL);
    xd_elem_add_text(m, "c", 1);
    xd_elem *x2 = xd_elem_add_child(m, "y", NULL);
    xd_elem_add_text(m, "", 0);
    CHECK(strcmp(xd_elem_text(m), "abc") == 0, "text joins text nodes: %s",
          xd_elem_text(m));
    xd_elem_add_text(m, "d", 1);
    CHECK(strcmp(xd_elem_text(m), "abcd") == 0, "the join is refreshed");
    CHECK(xd_elem_child_count(m) == 2 && xd_elem_first(m) == x1 &&
              xd_elem_next(x1) == x2 && xd_elem_next(x2) == NULL &&
              xd_elem_next_match(x1, "y", "urn:m") == x2 &&
              xd_elem_next_match(x1, "y", "urn:n") == NULL,
          "element children skip text");
    char *s = xd_elem_to_string(m, NULL);
    CHECK(strcmp(s, "<m xmlns='urn:m'>ab<x/>c<y/>d</m>") == 0, "mixed: %s", s);
    free(s);
    xd_elem_remove(x1);
    xd_elem_remove(x1);   /* already gone: nothing */
    xd_elem_remove(root); /* the root: nothing */
    CHECK(xd_elem_child_count(m) == 1 && xd_elem_first(m) == x2 &&
              xd_elem_parent(x1) == NULL &&
              strcmp(xd_elem_text(m), "abcd") == 0,
          "remove unlinks");
    xd_elem_remove(x2);
    CHECK(xd_elem_first(m) == NULL, "remove the last one");
    xd_elem_add_text(m, "e", 1);
    s = xd_elem_to_string(m, NULL);
    CHECK(strcmp(s, "<m xmlns='urn:m'>abcde</m>") == 0, "after removal: %s", s);
    free(s);
    xd_elem_clear(m);
    CHECK(xd_elem_child_count(m) == 0 && strcmp(xd_elem_text(m), "") == 0,
          "clear");

    /* Copies: into a new stanza, into another stanza, into itself. */
    xd_stanza *copy = xd_stanza_copy(root);
    char *a = xd_elem_to_string(root, NULL);
    char *b = xd_elem_to_string(xd_stanza_root(copy), NULL);
    CHECK(strcmp(a, b) == 0, "a copy serialises like the original:\n%s\n%s", a,
          b);
    free(b);
    xd_stanza_unref(st); /* the copy owns everything it needs */
    b = xd_elem_to_string(xd_stanza_root(copy), NULL);
    CHECK(strcmp(a, b) == 0, "a copy outlives its original");
    free(a);
    free(b);
    root = xd_stanza_root(copy);
    q = xd_elem_child(root, "query", NULL);
    xd_elem *qq = xd_elem_add_copy(q, q);
    s = xd_elem_to_string(q, NULL);
    CHECK(qq != NULL && xd_elem_parent(qq) == q &&
              strcmp(s, "<query xmlns='jabber:iq:roster'><item><group>Family"
                        "</group></item><query><item><group>Family</group>"
                        "</item></query></query>") == 0,
          "copying an element into itself: %s", s);
    free(s);
    xd_stanza *other = xd_stanza_new("x", "urn:x");
    xd_elem_add_copy(xd_stanza_root(other), q);
    xd_stanza_unref(copy);
    s = xd_elem_to_string(xd_stanza_root(other), NULL);
    CHECK(strncmp(s, "<x xmlns='urn:x'><query xmlns='jabber:iq:roster'>", 49) ==
              0,
          "copying across stanzas: %s", s);
    free(s);

    xd_stanza *ref = xd_stanza_ref(other);
    xd_stanza_unref(other);
    CHECK(strcmp(xd_elem_name(xd_stanza_root(ref)), "x") == 0,
          "a reference keeps the stanza alive");
    xd_stanza_unref(ref);
    xd_stanza_unref(NULL);
}

static void
test_arena(void)
{
    xd_stanza *st = xd_stanza_new("message", XD_NS_CLIENT);
    size_t base = xd_stanza_mem(st);

    CHECK(base > 0 && base < 2048, "a new stanza is one small block (%zu)",
          base);
    xd_elem_set_attr(xd_stanza_root(st), "to", "juliet@example.com");
    xd_elem_set_child_text(xd_stanza_root(st), "body", NULL, "hi");
    CHECK(xd_stanza_mem(st) == base, "a small message fits the first block");

    /* A megabyte of text in one-byte pieces: linear, and bounded. */
    xd_elem *body = xd_elem_add_child(xd_stanza_root(st), "big", NULL);
    for (int i = 0; i < 1024 * 1024; i++) {
        char c = (char)('a' + i % 26);
        xd_elem_add_text(body, &c, 1);
        if (i % 4096 == 0) /* something else in between now and then */
            xd_elem_set_attr(body, "n", "x");
    }
    const char *t = xd_elem_text(body);
    CHECK(strlen(t) == 1024 * 1024 && t[27] == 'b' &&
              t[1024 * 1024 - 1] == (char)('a' + (1024 * 1024 - 1) % 26),
          "text in pieces");
    CHECK(xd_stanza_mem(st) < 8 * 1024 * 1024,
          "arena for 1 MB of text: %zu bytes", xd_stanza_mem(st));

    /* Many small allocations. */
    for (int i = 0; i < 10000; i++)
        xd_elem_add_child(body, "i", NULL);
    CHECK(xd_elem_child_count(body) == 10000, "10,000 children");
    xd_stanza_unref(st);
}

int
main(void)
{
    test_serialise();
    test_serialise_built();
    test_build_and_query();
    test_arena();
    return check_report();
}
