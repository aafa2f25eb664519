/*
 * Unit tests for xml_parser.c: streams fed whole, byte by byte and in
 * random chunks give the same stanzas; parse, serialise and parse again is
 * stable; stanza namespaces are folded and written back for each stream;
 * hostile documents are refused with the right stream error before they
 * cost memory; stop, restarts and standalone elements.
 */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <xmppd/stanza.h>
#include <xmppd/xml_parser.h>

#define STREAM_ATTRS                                                           \
    "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' "        \
    "version='1.0'>"
#define HEADER                                                                 \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " STREAM_ATTRS
#define HEADER_COMPONENT                                                       \
    "<stream:stream xmlns='jabber:component:accept' " STREAM_ATTRS

/* What the callbacks saw, serialised into one transcript. */
struct seen {
    xd_buf log;
    const char *out_ns; /* stream namespace stanzas are written for */
    int standalone_out; /* write stanzas standalone instead */
    int opened, closed, errors, stanzas;
    char condition[64];
    size_t max_mem;  /* largest stanza arena seen */
    size_t max_heap; /* most heap in use after a feed, over the start */
    xd_xml_parser *parser;
    int stop_after;  /* call xd_xml_parser_stop after this many stanzas */
    int reset_after; /* call xd_xml_parser_reset after this many stanzas */
};

static void
on_open(void *arg, const xd_elem *header)
{
    struct seen *s = arg;
    const char *to = xd_elem_attr(header, "to");
    const char *lang = xd_elem_attr_ns(header, XD_NS_XML, "lang");

    s->opened++;
    xd_buf_appendf(&s->log, "[open to=%s%s%s]", to ? to : "-",
                   lang ? " lang=" : "", lang ? lang : "");
}

static void
on_stanza(void *arg, xd_stanza *st)
{
    struct seen *s = arg;

    s->stanzas++;
    if (xd_stanza_mem(st) > s->max_mem)
        s->max_mem = xd_stanza_mem(st);
    xd_elem_serialise(xd_stanza_root(st),
                      s->standalone_out ? NULL
                      : s->out_ns       ? s->out_ns
                                        : XD_NS_CLIENT,
                      &s->log);
    xd_stanza_unref(st);
    if (s->stanzas == s->stop_after)
        xd_xml_parser_stop(s->parser);
    if (s->stanzas == s->reset_after)
        xd_xml_parser_reset(s->parser);
}

static void
on_close(void *arg)
{
    struct seen *s = arg;

    s->closed++;
    xd_buf_append_str(&s->log, "[close]");
}

static void
on_error(void *arg, const char *condition, const char *text)
{
    struct seen *s = arg;

    (void)text;
    s->errors++;
    snprintf(s->condition, sizeof(s->condition), "%s", condition);
}

static const xd_xml_callbacks callbacks = { on_open, on_stanza, on_close,
                                            on_error };

/* Heap in use, where the C library tells; 0 elsewhere (and under
 * sanitizers, which replace malloc). */
static size_t
heap_in_use(void)
{
#ifdef __GLIBC__
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}

/* Feeds `doc` in chunks of `chunk` bytes (0: whole) and records into *s
 * (whose out_ns is kept). Returns the bytes fed before the parser refused
 * the input, or len. */
static size_t
parse(const char *doc, size_t len, size_t chunk, const xd_xml_limits *lim,
      struct seen *s)
{
    const char *out_ns = s->out_ns;
    int standalone_out = s->standalone_out;
    xd_xml_parser *p = xd_xml_parser_new(lim, &callbacks, s);
    size_t off;

    memset(s, 0, sizeof(*s));
    s->out_ns = out_ns;
    s->standalone_out = standalone_out;
    s->parser = p;
    if (chunk == 0)
        chunk = len ? len : 1;
    size_t heap0 = heap_in_use();
    for (off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        int rc = xd_xml_parser_feed(p, doc + off, n);
        size_t heap = heap_in_use();
        if (heap > heap0 && heap - heap0 > s->max_heap)
            s->max_heap = heap - heap0;
        if (rc != 0)
            break;
    }
    xd_xml_parser_free(p);
    return off < len ? off : len;
}

static const char *const good_streams[] = {
    HEADER "<message to='a@b' type='chat'><body>hi &amp; &lt;bye&gt;</body>"
           "</message></stream:stream>",
    HEADER "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>"
           "  <presence/>\n<presence type='unavailable'><status>z&#233;"
           "</status></presence></stream:stream>",
    HEADER "<message xml:lang='fr'><body>a<b xmlns='urn:x'>c</b>d</body>"
           "<x:y xmlns:x='urn:y' x:attr='1'/></message>",
    HEADER "<message><body><![CDATA[<not a tag>]]></body></message>",
    HEADER "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:"
           "xmpp-tls'><required/></starttls></stream:features>",
    "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx."
    "jabber.org/streams' to='x'><message from='a@x' to='b@y'><body>s2s"
    "</body></message></stream:stream>",
    HEADER "<message><body>\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 a\r\nb\rc"
           "</body></message>",
    "\n <stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
    "xml:lang='en' to='x'> <r xmlns='urn:xmpp:sm:3'/> \n\n "
    "<a xmlns='urn:xmpp:sm:3' h='1'/></stream:stream>  ",
};

static void
test_chunking(void)
{
    for (size_t i = 0; i < XD_NELEM(good_streams); i++) {
        const char *doc = good_streams[i];
        size_t len = strlen(doc);
        struct seen whole = { 0 }, bytes = { 0 }, chunks = { 0 };

        parse(doc, len, 0, NULL, &whole);
        CHECK(whole.errors == 0 && whole.opened == 1 && whole.stanzas >= 1,
              "stream %zu parses (%s)", i, whole.condition);
        parse(doc, len, 1, NULL, &bytes);
        CHECK(bytes.errors == 0 && bytes.log.len == whole.log.len &&
                  memcmp(bytes.log.data, whole.log.data, whole.log.len) == 0,
              "stream %zu byte by byte:\n  %s\n  %s", i, bytes.log.data,
              whole.log.data);
        srand((unsigned)i);
        for (int round = 0; round < 50; round++) {
            parse(doc, len, 1 + (size_t)rand() % 37, NULL, &chunks);
            CHECK(chunks.errors == 0 && chunks.log.len == whole.log.len &&
                      memcmp(chunks.log.data, whole.log.data, whole.log.len) ==
                          0,
                  "stream %zu in random chunks, round %d", i, round);
            xd_buf_free(&chunks.log);
        }
        xd_buf_free(&whole.log);
        xd_buf_free(&bytes.log);
    }
}

static void
test_content(void)
{
    static const struct {
        size_t stream;
        const char *want;
    } cases[] = {
        { 0, "[open to=example.com]<message to='a@b' type='chat'><body>hi "
             "&amp; &lt;bye&gt;</body></message>[close]" },
        { 1, "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>"
             "<presence/><presence type='unavailable'><status>z\xC3\xA9"
             "</status></presence>[close]" },
        { 2, "<message xml:lang='fr'><body>a<b xmlns='urn:x'>c</b>d</body>"
             "<y xmlns='urn:y' xmlns:a0='urn:y' a0:attr='1'/></message>" },
        { 3, "<message><body>&lt;not a tag&gt;</body></message>" },
        { 4, "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:"
             "xmpp-tls'><required/></starttls></stream:features>" },
        /* Server-to-server stanzas come out in the client namespace. */
        { 5, "<message from='a@x' to='b@y'><body>s2s</body></message>" },
        /* Line ends are normalised (XML 1.0 section 2.11). */
        { 6, "<body>\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 a\nb\nc</body>" },
        /* Whitespace between stanzas is not kept. */
        { 7, "[open to=x lang=en]<r xmlns='urn:xmpp:sm:3'/><a xmlns='urn:xmpp:"
             "sm:3' h='1'/>[close]" },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        struct seen s = { 0 };
        const char *doc = good_streams[cases[i].stream];
        parse(doc, strlen(doc), 0, NULL, &s);
        CHECK(s.log.data && strstr(s.log.data, cases[i].want) != NULL,
              "content %zu:\n  got  %s\n  want %s", i, s.log.data,
              cases[i].want);
        xd_buf_free(&s.log);
    }
}

/* Parse, serialise, parse again: the second serialisation is the first. */
static void
test_round_trips(void)
{
    static const char *const cases[] = {
        "<message xmlns='jabber:client' to='a@b' from='c@d/e' type='chat' "
        "id='x'><body>Hello</body><thread>t</thread></message>",
        "<p xmlns='jabber:client'>mixed <b>bold</b> and <i>italic</i>!</p>",
        "<m xmlns='jabber:client' a='&apos;&quot;&lt;&gt;&amp;' b=\"'\">"
        "&lt;&gt;&amp;'\"]]&gt;</m>",
        "<m xmlns='jabber:client' a='tab&#9;lf&#10;cr&#13;sp '>a&#13;&#10;b"
        "</m>",
        "<message xmlns='jabber:client' xml:lang='de'><body xml:lang='en'>"
        "x</body></message>",
        "<message xmlns='jabber:client'><forwarded xmlns='urn:xmpp:forward:0'>"
        "<message xmlns='jabber:client' to='a'><body>in</body></message>"
        "</forwarded></message>",
        "<iq xmlns='jabber:client'><query xmlns='jabber:iq:roster'><item "
        "jid='a@b' name='A'><group>g1</group><group>g2</group></item></query>"
        "</iq>",
        "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>"
        "SCRAM-SHA-1</mechanism></mechanisms></stream:features>",
        "<foo:bar xmlns:foo='urn:x'><foo:baz foo:attr='v'/><qux/></foo:bar>",
        "<a xmlns='urn:a'><b xmlns=''><c xmlns='urn:c'/></b></a>",
        "<x xmlns='urn:x' xmlns:p='urn:p' xmlns:q='urn:q' p:a='1' q:a='2' "
        "a='3'/>",
        "<e xmlns='jabber:client'>\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80</e>",
        "<e xmlns='jabber:client'><![CDATA[a<b&c]]></e>",
        "<e xmlns='jabber:client'>&#x1F600;&#233;</e>",
    };
    static const char *const stream_ns[] = { NULL, XD_NS_CLIENT, XD_NS_SERVER,
                                             XD_NS_COMPONENT };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_stanza *a = NULL;
        int rc = xd_xml_parse_element(cases[i], strlen(cases[i]), NULL, &a);
        CHECK(rc == 0, "round trip %zu parses: %s", i, cases[i]);
        if (rc != 0)
            continue;
        char *one = xd_elem_to_string(xd_stanza_root(a), NULL);
        for (size_t k = 0; k < XD_NELEM(stream_ns); k++) {
            /* Through a stream of each kind: what is read back, written
             * standalone, is what was written standalone before. */
            char *text = xd_elem_to_string(xd_stanza_root(a), stream_ns[k]);
            xd_buf got = XD_BUF_INIT;
            if (stream_ns[k] == NULL) {
                xd_stanza *b = NULL;
                if (xd_xml_parse_element(text, strlen(text), NULL, &b) == 0)
                    xd_elem_serialise(xd_stanza_root(b), NULL, &got);
                xd_stanza_unref(b);
            } else {
                xd_buf doc = XD_BUF_INIT;
                struct seen s = { 0 };
                xd_buf_appendf(&doc,
                               "<stream:stream xmlns='%s' xmlns:stream="
                               "'http://etherx.jabber.org/streams'>%s",
                               stream_ns[k], text);
                s.standalone_out = 1;
                parse(doc.data, doc.len, 0, NULL, &s);
                if (s.errors == 0 && s.stanzas == 1)
                    xd_buf_append_str(&got, s.log.data + 11); /* [open to=-] */
                xd_buf_free(&s.log);
                xd_buf_free(&doc);
            }
            CHECK(got.data != NULL && strcmp(got.data, one) == 0,
                  "round trip %zu through stream %zu:\n  %s\n  %s\n  %s", i, k,
                  text, got.data, one);
            xd_buf_free(&got);
            free(text);
        }
        xd_stanza *b = NULL;
        rc = xd_xml_parse_element(one, strlen(one), NULL, &b);
        char *two = rc == 0 ? xd_elem_to_string(xd_stanza_root(b), NULL) : NULL;
        CHECK(two != NULL && strcmp(one, two) == 0,
              "round trip %zu is stable:\n  %s\n  %s", i, one, two);
        free(two);
        free(one);
        xd_stanza_unref(b);
        xd_stanza_unref(a);
    }
}

/* A stanza read on one kind of stream and written into another. */
static void
test_namespace_mapping(void)
{
    static const struct {
        const char *doc, *out_ns, *want;
    } cases[] = {
        { HEADER_COMPONENT "<message to='a@b' from='c.x'><body>hi</body>"
                           "</message>",
          XD_NS_CLIENT,
          "<message to='a@b' from='c.x'><body>hi</body>"
          "</message>" },
        { HEADER "<message to='a@b' from='c@d/e'><body>hi</body></message>",
          XD_NS_COMPONENT,
          "<message to='a@b' from='c@d/e'><body>hi</body>"
          "</message>" },
        { HEADER "<message><body>hi</body></message>", XD_NS_SERVER,
          "<message><body>hi</body></message>" },
        /* Nested jabber:client under a foreign namespace keeps its xmlns. */
        { HEADER_COMPONENT
          "<message><received xmlns='urn:xmpp:carbons:2'><forwarded "
          "xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' "
          "to='a'><body>c</body></message></forwarded></received></message>",
          XD_NS_CLIENT,
          "<message><received xmlns='urn:xmpp:carbons:2'><forwarded "
          "xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' "
          "to='a'><body>c</body></message></forwarded></received></message>" },
        { HEADER "<message><forwarded xmlns='urn:xmpp:forward:0'><message "
                 "xmlns='jabber:component:accept'/></forwarded></message>",
          XD_NS_COMPONENT,
          "<message><forwarded xmlns='urn:xmpp:forward:0'><message "
          "xmlns='jabber:client'/></forwarded></message>" },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        struct seen s = { 0 };
        s.out_ns = cases[i].out_ns;
        parse(cases[i].doc, strlen(cases[i].doc), 0, NULL, &s);
        CHECK(s.errors == 0 && s.log.data &&
                  strstr(s.log.data, cases[i].want) != NULL,
              "mapping %zu:\n  got  %s\n  want %s", i, s.log.data,
              cases[i].want);
        xd_buf_free(&s.log);
    }
}

/* A big document for the size tests. */
static char *
repeat(const char *head, const char *unit, size_t times, const char *tail)
{
    size_t ul = strlen(unit), hl = strlen(head), tl = strlen(tail);
    char *d = malloc(hl + ul * times + tl + 1), *p = d;

    memcpy(p, head, hl);
    p += hl;
    for (size_t i = 0; i < times; i++, p += ul)
        memcpy(p, unit, ul);
    memcpy(p, tail, tl + 1);
    return d;
}

static void
test_hostile(void)
{
    static const struct {
        const char *what, *doc, *condition;
    } cases[] = {
        { "billion laughs",
          "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
          "<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
          "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>"
          "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
          "&lol3;",
          "restricted-xml" },
        { "external entity",
          "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY xxe SYSTEM "
          "'file:///etc/passwd'>]><x>&xxe;</x>",
          "restricted-xml" },
        { "external DTD",
          "<!DOCTYPE stream:stream SYSTEM 'http://example.com/x.dtd'>" HEADER,
          "restricted-xml" },
        { "DTD alone", "<!DOCTYPE stream:stream>" HEADER, "restricted-xml" },
        { "internal subset",
          "<!DOCTYPE s [<!ELEMENT s ANY><!ATTLIST s a CDATA 'x'>]>" HEADER,
          "restricted-xml" },
        { "comment", HEADER "<!-- hi -->", "restricted-xml" },
        { "comment before the header", "<!-- hi -->" HEADER, "restricted-xml" },
        { "comment in a stanza", HEADER "<message><!-- hi --></message>",
          "restricted-xml" },
        { "processing instruction", HEADER "<?php echo 1; ?>",
          "restricted-xml" },
        { "PI in a stanza", HEADER "<message><?x y?></message>",
          "restricted-xml" },
        { "undefined entity", HEADER "<message>&nbsp;</message>",
          "not-well-formed" },
        { "undefined entity in an attribute", HEADER "<message a='&x;'/>",
          "not-well-formed" },
        { "mismatched tags", HEADER "<message></iq>", "not-well-formed" },
        { "bad character reference", HEADER "<message>&#0;</message>",
          "not-well-formed" },
        { "control character", HEADER "<message>\x01</message>",
          "not-well-formed" },
        { "malformed UTF-8", HEADER "<message>\xC0\x80</message>",
          "not-well-formed" },
        { "duplicate attribute", HEADER "<message a='1' a='2'/>",
          "not-well-formed" },
        { "duplicate namespaced attribute",
          HEADER "<message xmlns:p='urn:p' xmlns:q='urn:p' p:a='1' q:a='2'/>",
          "not-well-formed" },
        { "junk before the header", "hello" HEADER, "not-well-formed" },
        { "junk after the stream", HEADER "</stream:stream><x/>",
          "not-well-formed" },
        { "XML declaration late", HEADER "<?xml version='1.0'?>",
          "not-well-formed" },
        { "unbound prefix", HEADER "<foo:bar/>", "bad-namespace-prefix" },
        { "header without the stream prefix",
          "<stream:stream xmlns='jabber:client'>", "bad-namespace-prefix" },
        { "latin-1", "<?xml version='1.0' encoding='ISO-8859-1'?>" HEADER,
          "unsupported-encoding" },
        { "UTF-16 declared", "<?xml version='1.0' encoding='UTF-16'?>" HEADER,
          "unsupported-encoding" },
        { "wrong stream namespace", "<stream:stream xmlns:stream='urn:nope'>",
          "invalid-namespace" },
        { "stream in no namespace", "<stream>", "invalid-namespace" },
        { "not a stream", "<html>", "bad-format" },
        { "too many attributes",
          HEADER "<message a='1' b='1' c='1' d='1' e='1' f='1' g='1' h='1' "
                 "i='1' j='1'/>",
          "policy-violation" },
        { "too many attributes on the header",
          "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
          "a='1' b='1' c='1' d='1' e='1' f='1' g='1' h='1' i='1'>",
          "policy-violation" },
        { "too deep",
          HEADER "<a><a><a><a><a><a><a><a><a></a></a></a></a></a></a></a></a>"
                 "</a>",
          "policy-violation" },
    };
    xd_xml_limits lim;

    xd_xml_limits_default(&lim);
    lim.max_attrs = 8;
    lim.max_depth = 8;
    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        for (size_t chunk = 0; chunk <= 1; chunk++) {
            struct seen s = { 0 };
            parse(cases[i].doc, strlen(cases[i].doc), chunk, &lim, &s);
            CHECK(s.errors == 1 && strcmp(s.condition, cases[i].condition) == 0,
                  "%zu %s (chunk %zu): want %s, got %s (%d errors)", i,
                  cases[i].what, chunk, cases[i].condition, s.condition,
                  s.errors);
            xd_buf_free(&s.log);
        }
    }
}

/* Documents refused for their size: each must be refused soon after its
 * limit, however much more of it there is. */
static void
test_sizes(void)
{
    static const struct {
        const char *what, *head, *unit, *tail;
        size_t times, chunk;
        size_t stop_by; /* bytes by which it must have been refused */
    } cases[] = {
        { "10 MB text node", HEADER "<message><body>", "x", "</body></message>",
          10u << 20, 65536, 512u << 10 },
        { "10 MB text node fed in 1 KiB", HEADER "<message><body>", "x",
          "</body></message>", 10u << 20, 1024, 300u << 10 },
        { "10 MB attribute value", HEADER "<message a='", "x", "'/>", 10u << 20,
          65536, 128u << 10 },
        { "10 MB element name", HEADER "<m", "x", "/>", 10u << 20, 65536,
          128u << 10 },
        { "10 MB comment", HEADER "<!--", "x", "-->", 10u << 20, 65536,
          128u << 10 },
        { "10 MB CDATA", HEADER "<message><![CDATA[", "x", "]]></message>",
          10u << 20, 65536, 512u << 10 },
        { "10 MB header",
          "<stream:stream xmlns:stream='http://etherx.jabber."
          "org/streams' a='",
          "x", "'>", 10u << 20, 65536, 128u << 10 },
        { "10 MB before the header", "", " ", HEADER, 10u << 20, 65536,
          128u << 10 },
        { "10,000-deep nesting", HEADER, "<a>", "", 10000, 4096, 8192 },
        { "10,000 attributes", HEADER "<message", " a0123456789='x'", "/>",
          10000, 4096, 128u << 10 },
        { "100,000 children", HEADER "<message>", "<x/>", "</message>", 100000,
          65536, 128u << 10 },
        { "many stanzas in one chunk, the last too big",
          HEADER "<message/><message/><message><body>", "0123456789",
          "</body></message>", 100000, 1 << 22, 1 << 22 },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        char *doc =
            repeat(cases[i].head, cases[i].unit, cases[i].times, cases[i].tail);
        size_t len = strlen(doc);
        struct seen s = { 0 };
        clock_t t0 = clock();
        size_t fed = parse(doc, len, cases[i].chunk, NULL, &s);
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        CHECK(s.errors == 1 && strcmp(s.condition, "policy-violation") == 0 &&
                  fed < len && fed <= cases[i].stop_by &&
                  s.max_mem < 4 * 1024 * 1024 && s.max_heap < 4 * 1024 * 1024 &&
                  secs < 5,
              "%zu %s: refused after %zu of %zu bytes (%s), largest stanza "
              "%zu bytes, heap grew by %zu bytes, %.2f s",
              i, cases[i].what, fed, len, s.condition, s.max_mem, s.max_heap,
              secs);
        xd_buf_free(&s.log);
        free(doc);
    }

    /* Too many children, exactly at the limit and one over. */
    xd_xml_limits lim;
    xd_xml_limits_default(&lim);
    lim.max_children = 100;
    for (size_t n = 100; n <= 101; n++) {
        char *wide = repeat(HEADER "<message>", "<x/>", n, "</message>");
        struct seen s = { 0 };
        parse(wide, strlen(wide), 0, &lim, &s);
        CHECK(n == 100 ? s.errors == 0 && s.stanzas == 1
                       : s.errors == 1 &&
                             strcmp(s.condition, "policy-violation") == 0,
              "%zu children with a limit of 100", n);
        xd_buf_free(&s.log);
        free(wide);
    }

    /* A stanza just under the byte limit passes, one just over does not. */
    lim.max_children = XD_XML_MAX_CHILDREN_DEFAULT;
    lim.max_stanza_bytes = 100000;
#define HEAD "<message><body>"
#define TAIL "</body></message>"
    size_t fixed = strlen(HEAD TAIL);
    for (size_t over = 0; over <= 1; over++) {
        size_t n = lim.max_stanza_bytes - fixed + over;
        char *doc = repeat(HEADER "\n\n  " HEAD, "y", n, TAIL);
        for (size_t chunk = 0; chunk <= 7; chunk += 7) {
            struct seen s = { 0 };
            parse(doc, strlen(doc), chunk ? chunk * 1000 : 0, &lim, &s);
            CHECK(over ? s.errors == 1 && s.stanzas == 0
                       : s.errors == 0 && s.stanzas == 1,
                  "a stanza of limit%s bytes, chunk %zu (%s)", over ? "+1" : "",
                  chunk * 1000, s.condition);
            xd_buf_free(&s.log);
        }
        free(doc);
    }

    /* Many stanzas, each under the limit, add up to far more than it, and
     * whitespace keepalives between them count for nothing. */
    lim.max_stanza_bytes = 4096;
    char *many = repeat(HEADER, "<message><body>0123456789</body></message> ",
                        20000, "");
    struct seen s = { 0 };
    parse(many, strlen(many), 65536, &lim, &s);
    CHECK(s.errors == 0 && s.stanzas == 20000 && s.max_mem < 2048 &&
              s.max_heap < 2 * 1024 * 1024,
          "a long stream of small stanzas is fine (%d, %s, %zu bytes, heap "
          "grew by %zu bytes)",
          s.stanzas, s.condition, s.max_mem, s.max_heap);
    xd_buf_free(&s.log);
    free(many);
    char *spaces = repeat(HEADER, " ", 1 << 20, "<presence/>");
    parse(spaces, strlen(spaces), 65536, &lim, &s);
    CHECK(s.errors == 0 && s.stanzas == 1, "1 MB of keepalives (%s)",
          s.condition);
    xd_buf_free(&s.log);
    free(spaces);

    /* A long tag just under the token limit, trickled in a byte at a time,
     * is fine; a text node of 200 kB in one piece is fine too. */
    char *tag = repeat(HEADER "<message a='", "t", 12000, "'/>");
    parse(tag, strlen(tag), 1, NULL, &s);
    CHECK(s.errors == 0 && s.stanzas == 1, "a 12 kB tag byte by byte (%s)",
          s.condition);
    xd_buf_free(&s.log);
    free(tag);
    char *text =
        repeat(HEADER "<message><body>", "t", 200000, "</body></message>");
    parse(text, strlen(text), 0, NULL, &s);
    CHECK(s.errors == 0 && s.stanzas == 1 && s.max_mem < 1024 * 1024,
          "200 kB of text (%s, %zu bytes)", s.condition, s.max_mem);
    xd_buf_free(&s.log);
    free(text);
}

/*
 * A long-lived stream of stanzas with ever new names: expat would keep
 * every name; the parser must replace it now and then, invisibly (same
 * stanzas however the bytes are split, namespaces still bound, offsets and
 * limits still right), and the heap must stay flat.
 */
/* The recycling test's stream: `n` stanzas with new names, then one of
 * `last` bytes, then the stream's end. */
static void
new_names(xd_buf *doc, int n, size_t last)
{
    xd_buf_reset(doc);
    xd_buf_append_str(doc, "<s:stream xmlns:s='http://etherx.jabber.org/"
                           "streams' xmlns='jabber:client' xmlns:x='urn:x'>");
    for (int i = 0; i < n; i++)
        xd_buf_appendf(doc,
                       "<message><x:y%d a%d='1' xmlns:p%d='urn:%d'/>"
                       "</message> ",
                       i, i, i, i);
    xd_buf_append_str(doc, "<m>");
    for (size_t i = 0; i < last - 7; i++)
        xd_buf_append(doc, "z", 1);
    xd_buf_append_str(doc, "</m></s:stream>");
}

static void
test_recycling(void)
{
    xd_buf doc = XD_BUF_INIT;
    xd_xml_limits lim;

    xd_xml_limits_default(&lim);
    lim.max_stanza_bytes = 200;
    new_names(&doc, 6000, 200); /* the last stanza exactly at the limit */
    struct seen whole = { 0 }, bytes = { 0 }, chunks = { 0 };
    parse(doc.data, doc.len, 65536, &lim, &whole);
    CHECK(whole.errors == 0 && whole.stanzas == 6001 && whole.closed == 1 &&
              strstr(whole.log.data, "<message><y5999 xmlns='urn:x' "
                                     "a5999='1'/></message><m>zz") != NULL,
          "a stream of new names (%s, %d stanzas)", whole.condition,
          whole.stanzas);
    CHECK(whole.max_heap < 1024 * 1024 + whole.log.cap,
          "heap grew by %zu bytes for %zu of transcript", whole.max_heap,
          whole.log.cap);
    parse(doc.data, doc.len, 1, &lim, &bytes);
    CHECK(bytes.errors == 0 && bytes.log.len == whole.log.len &&
              memcmp(bytes.log.data, whole.log.data, whole.log.len) == 0,
          "the same byte by byte (%s)", bytes.condition);
    srand(42);
    for (int round = 0; round < 5; round++) {
        parse(doc.data, doc.len, 1 + (size_t)rand() % 3000, &lim, &chunks);
        CHECK(chunks.errors == 0 && chunks.log.len == whole.log.len &&
                  memcmp(chunks.log.data, whole.log.data, whole.log.len) == 0,
              "the same in random chunks, round %d (%s)", round,
              chunks.condition);
        xd_buf_free(&chunks.log);
    }
    xd_buf_free(&whole.log);
    xd_buf_free(&bytes.log);

    /* One byte more is over the limit, still, after all the recycling. */
    new_names(&doc, 6000, 201);
    parse(doc.data, doc.len, 4096, &lim, &whole);
    CHECK(whole.errors == 1 && whole.stanzas == 6000 &&
              strcmp(whole.condition, "policy-violation") == 0,
          "the limit holds after recycling (%s, %d)", whole.condition,
          whole.stanzas);
    xd_buf_free(&whole.log);
    xd_buf_free(&doc);
}

/* Nothing is reported after an error, and nothing more is parsed. */
static void
test_after_error(void)
{
    struct seen s = { 0 };
    xd_xml_parser *p = xd_xml_parser_new(NULL, &callbacks, &s);
    const char *doc = HEADER "<message><!-- x --><presence/>";

    s.parser = p;
    CHECK(xd_xml_parser_feed(p, doc, strlen(doc)) == XD_EPROTO &&
              s.errors == 1 && s.stanzas == 0,
          "the error is reported once");
    CHECK(xd_xml_parser_feed(p, "</message><iq/>", 15) == XD_EPROTO &&
              s.errors == 1 && s.stanzas == 0,
          "nothing is parsed after an error");
    xd_xml_parser_free(p);
    xd_buf_free(&s.log);
}

/* xd_xml_parser_stop silences the rest of the current feed only. */
static void
test_stop(void)
{
    struct seen s = { 0 };
    xd_xml_parser *p = xd_xml_parser_new(NULL, &callbacks, &s);
    const char *one = HEADER "<a xmlns='urn:a'/><b xmlns='urn:a'/>"
                             "<c xmlns='urn:a'/>";
    const char *two = "<d xmlns='urn:a'/></stream:stream>";

    s.parser = p;
    s.stop_after = 1;
    CHECK(xd_xml_parser_feed(p, one, strlen(one)) == 0 && s.stanzas == 1 &&
              strstr(s.log.data, "<a xmlns='urn:a'/>") != NULL &&
              strstr(s.log.data, "<b") == NULL,
          "stop silences the rest of the feed: %s", s.log.data);
    CHECK(xd_xml_parser_feed(p, two, strlen(two)) == 0 && s.stanzas == 2 &&
              s.closed == 1 && strstr(s.log.data, "<d xmlns='urn:a'/>"),
          "the next feed reports again: %s", s.log.data);
    xd_xml_parser_free(p);
    xd_buf_free(&s.log);
}

static void
test_restart(void)
{
    struct seen s = { 0 };
    xd_xml_parser *p = xd_xml_parser_new(NULL, &callbacks, &s);
    const char *one = HEADER "<starttls xmlns='urn:ietf:params:xml:ns:"
                             "xmpp-tls'/>";
    const char *two = HEADER "<presence/>";

    s.parser = p;
    CHECK(xd_xml_parser_feed(p, one, strlen(one)) == 0, "before restart");
    xd_xml_parser_reset(p);
    CHECK(xd_xml_parser_feed(p, two, strlen(two)) == 0 && s.opened == 2 &&
              s.stanzas == 2 && s.errors == 0,
          "a restarted stream opens again");
    /* A reset also clears an error. */
    CHECK(xd_xml_parser_feed(p, "<x", 2) == 0 &&
              xd_xml_parser_feed(p, "<", 1) == XD_EPROTO && s.errors == 1,
          "an error");
    xd_xml_parser_reset(p);
    CHECK(xd_xml_parser_feed(p, two, strlen(two)) == 0 && s.opened == 3 &&
              s.stanzas == 3,
          "a reset parser works again after an error");
    xd_xml_parser_free(p);
    xd_buf_free(&s.log);

    /* A reset from a callback takes effect when the feed returns; the rest
     * of that buffer is dropped. */
    memset(&s, 0, sizeof(s));
    p = xd_xml_parser_new(NULL, &callbacks, &s);
    s.parser = p;
    s.reset_after = 1;
    const char *both = HEADER "<success xmlns='urn:ietf:params:xml:ns:xmpp-"
                              "sasl'/><dropped/>";
    CHECK(xd_xml_parser_feed(p, both, strlen(both)) == 0 && s.stanzas == 1 &&
              s.errors == 0,
          "reset from a callback");
    CHECK(xd_xml_parser_feed(p, two, strlen(two)) == 0 && s.opened == 2 &&
              s.stanzas == 2 && s.errors == 0,
          "the new stream after a reset from a callback (%s)", s.condition);
    xd_xml_parser_free(p);
    xd_buf_free(&s.log);
    xd_xml_parser_free(NULL);
}

/* xd_xml_parser_release frees expat between stanzas only; the stream goes
 * on as before, prefixes declared on the header still bound. */
static void
test_release(void)
{
    struct seen s = { 0 };
    xd_xml_parser *p = xd_xml_parser_new(NULL, &callbacks, &s);
    const char *one =
        "<?xml version='1.0'?><stream:stream xmlns='jabber:"
        "client' xmlns:x='urn:x' " STREAM_ATTRS "<message><x:y/></message>";
    const char *half = "<message><body>hal";
    const char *rest = "f</body></message>";
    const char *two = "<presence><x:z/></presence></stream:stream>";

    s.parser = p;
    CHECK(xd_xml_parser_release(p) == 0, "not before the header");
    CHECK(xd_xml_parser_feed(p, one, strlen(one)) == 0 && s.stanzas == 1,
          "a stanza");
    CHECK(xd_xml_parser_release(p) == 1 && xd_xml_parser_release(p) == 0,
          "released between stanzas; then there is nothing to release");
    CHECK(xd_xml_parser_feed(p, half, strlen(half)) == 0 &&
              xd_xml_parser_release(p) == 0,
          "not in the middle of a stanza");
    CHECK(xd_xml_parser_feed(p, rest, strlen(rest)) == 0 && s.stanzas == 2,
          "the stanza completes");
    CHECK(xd_xml_parser_feed(p, "<iq type='get' id='1'", 21) == 0 &&
              xd_xml_parser_release(p) == 0,
          "not with an unfinished tag");
    CHECK(xd_xml_parser_feed(p, "/>", 2) == 0 && s.stanzas == 3 &&
              xd_xml_parser_release(p) == 1,
          "released again");
    CHECK(xd_xml_parser_feed(p, two, strlen(two)) == 0 && s.stanzas == 4 &&
              s.closed == 1 && s.errors == 0 && s.opened == 1,
          "a rebuilt parser keeps the header's prefixes and opens nothing "
          "twice: %s",
          s.log.data);
    CHECK(strstr(s.log.data, "<x:z xmlns:x='urn:x'/>") != NULL ||
              strstr(s.log.data, "<z xmlns='urn:x'/>") != NULL,
          "the prefixed child after release: %s", s.log.data);
    xd_xml_parser_free(p);
    xd_buf_free(&s.log);
}

static void
test_standalone(void)
{
    static const struct {
        const char *xml;
        int rc;
        const char *out; /* serialised standalone when rc is 0 */
    } cases[] = {
        { "<message xmlns='jabber:component:accept' to='a@b'><body>x</body>"
          "</message>",
          0,
          "<message xmlns='jabber:client' to='a@b'><body>x</body>"
          "</message>" },
        { "<?xml version='1.0' encoding='utf-8'?>\n<a/>\n", 0, "<a/>" },
        { "  <a xmlns='urn:a'>t</a>", 0, "<a xmlns='urn:a'>t</a>" },
        { "", XD_EPROTO, NULL },
        { "   ", XD_EPROTO, NULL },
        { "<a>", XD_EPROTO, NULL },
        { "<a/><b/>", XD_EPROTO, NULL },
        { "<a><!--x--></a>", XD_EPROTO, NULL },
        { "<!DOCTYPE a><a/>", XD_EPROTO, NULL },
        { "text", XD_EPROTO, NULL },
        { "<a>&x;</a>", XD_EPROTO, NULL },
        { "<a/><?pi?>", XD_EPROTO, NULL },
        { "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a>"
          "<a><a><a><a><a><a><a><a><a><a><a><a/></a></a></a></a></a></a></a>"
          "</a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a>"
          "</a></a></a></a></a></a></a></a></a>",
          XD_ELIMIT, NULL },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_stanza *st = NULL;
        int rc =
            xd_xml_parse_element(cases[i].xml, strlen(cases[i].xml), NULL, &st);
        char *out =
            rc == 0 ? xd_elem_to_string(xd_stanza_root(st), NULL) : NULL;
        CHECK(
            rc == cases[i].rc && (rc != 0 || strcmp(out, cases[i].out) == 0) &&
                (rc == 0) == (st != NULL),
            "standalone %zu: %s -> %d %s", i, cases[i].xml, rc, out ? out : "");
        free(out);
        xd_stanza_unref(st);
    }

    /* Over the byte limit. */
    xd_xml_limits lim;
    xd_xml_limits_default(&lim);
    lim.max_stanza_bytes = 64;
    char *big = repeat("<a>", "x", 100, "</a>");
    xd_stanza *st = NULL;
    CHECK(xd_xml_parse_element(big, strlen(big), &lim, &st) == XD_ELIMIT &&
              st == NULL,
          "standalone over the byte limit");
    CHECK(xd_xml_parse_element(big, strlen(big), NULL, &st) == 0 && st != NULL,
          "the same under the default limit");
    xd_stanza_unref(st);
    free(big);
}

int
main(void)
{
    test_chunking();
    test_content();
    test_round_trips();
    test_namespace_mapping();
    test_hostile();
    test_sizes();
    test_recycling();
    test_after_error();
    test_stop();
    test_restart();
    test_release();
    test_standalone();
    return check_report();
}
