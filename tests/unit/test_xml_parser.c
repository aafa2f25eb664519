/*
 * Unit tests for xml_parser.c: streams fed whole, byte by byte and in
 * random chunks give the same stanzas; hostile documents are refused with
 * the right stream error before they cost memory; restarts; standalone
 * elements.
 */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/stanza.h>
#include <xmppd/xml_parser.h>

#define HEADER                                                                 \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "               \
    "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' "        \
    "version='1.0'>"

/* What the callbacks saw, serialised into one transcript. */
struct seen {
    xd_buf log;
    int opened, closed, errors, stanzas;
    char condition[64];
    size_t max_mem; /* largest stanza arena seen */
};

static void
on_open(void *arg, const xd_elem *header)
{
    struct seen *s = arg;

    s->opened++;
    xd_buf_appendf(&s->log, "[open to=%s]", xd_elem_attr(header, "to"));
}

static void
on_stanza(void *arg, xd_stanza *st)
{
    struct seen *s = arg;

    s->stanzas++;
    if (xd_stanza_mem(st) > s->max_mem)
        s->max_mem = xd_stanza_mem(st);
    xd_elem_serialise(xd_stanza_root(st), XD_NS_CLIENT, &s->log);
    xd_stanza_unref(st);
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

/* Feeds `doc` in chunks of `chunk` bytes (0: whole) and records. */
static void
parse(const char *doc, size_t len, size_t chunk, const xd_xml_limits *lim,
      struct seen *s)
{
    xd_xml_parser *p = xd_xml_parser_new(lim, &callbacks, s);

    memset(s, 0, sizeof(*s));
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (xd_xml_parser_feed(p, doc + off, n) != 0)
            break;
    }
    xd_xml_parser_free(p);
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
};

static void
test_chunking(void)
{
    for (size_t i = 0; i < XD_NELEM(good_streams); i++) {
        const char *doc = good_streams[i];
        size_t len = strlen(doc);
        struct seen whole, bytes, chunks;

        parse(doc, len, 0, NULL, &whole);
        CHECK(whole.errors == 0 && whole.opened == 1 && whole.stanzas >= 1,
              "stream %zu parses (%s)", i, whole.condition);
        parse(doc, len, 1, NULL, &bytes);
        CHECK(bytes.log.len == whole.log.len &&
                  memcmp(bytes.log.data, whole.log.data, whole.log.len) == 0,
              "stream %zu byte by byte: %s vs %s", i, bytes.log.data,
              whole.log.data);
        srand((unsigned)i);
        for (int round = 0; round < 20; round++) {
            parse(doc, len, 1 + (size_t)rand() % 17, NULL, &chunks);
            CHECK(chunks.log.len == whole.log.len &&
                      memcmp(chunks.log.data, whole.log.data, whole.log.len) ==
                          0,
                  "stream %zu in random chunks", i);
            xd_buf_free(&chunks.log);
        }
        xd_buf_free(&whole.log);
        xd_buf_free(&bytes.log);
    }
}

static void
test_content(void)
{
    struct seen s;

    parse(good_streams[0], strlen(good_streams[0]), 0, NULL, &s);
    CHECK(strstr(s.log.data, "<body>hi &amp; &lt;bye&gt;</body>") != NULL,
          "text is unescaped then escaped again: %s", s.log.data);
    CHECK(strstr(s.log.data, "[close]") != NULL && s.closed == 1,
          "stream close reported");
    xd_buf_free(&s.log);
    /* Server-to-server stanzas come out in the client namespace. */
    parse(good_streams[5], strlen(good_streams[5]), 0, NULL, &s);
    CHECK(strstr(s.log.data, "<message from='a@x' to='b@y'><body>") != NULL,
          "jabber:server folded into the stream's namespace: %s", s.log.data);
    xd_buf_free(&s.log);
    parse(good_streams[2], strlen(good_streams[2]), 0, NULL, &s);
    CHECK(strstr(s.log.data, "xml:lang='fr'") != NULL &&
              strstr(s.log.data, "<b xmlns='urn:x'>c</b>d") != NULL &&
              strstr(s.log.data, "<y xmlns='urn:y' xmlns:a0='urn:y' "
                                 "a0:attr='1'/>") != NULL,
          "mixed content, xml:lang and prefixes: %s", s.log.data);
    xd_buf_free(&s.log);
}

/* A big document for the size tests, built once. */
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
        { "DTD alone", "<!DOCTYPE stream:stream>" HEADER, "restricted-xml" },
        { "comment", HEADER "<!-- hi -->", "restricted-xml" },
        { "comment in a stanza", HEADER "<message><!-- hi --></message>",
          "restricted-xml" },
        { "processing instruction", HEADER "<?php echo 1; ?>",
          "restricted-xml" },
        { "undefined entity", HEADER "<message>&nbsp;</message>",
          "not-well-formed" },
        { "mismatched tags", HEADER "<message></iq>", "not-well-formed" },
        { "junk before the header", "hello" HEADER, "not-well-formed" },
        { "latin-1", "<?xml version='1.0' encoding='ISO-8859-1'?>" HEADER,
          "unsupported-encoding" },
        { "wrong stream namespace", "<stream:stream xmlns:stream='urn:nope'>",
          "invalid-namespace" },
        { "not a stream", "<html>", "bad-format" },
        { "too many attributes",
          HEADER "<message a='1' b='1' c='1' d='1' e='1' f='1' g='1' h='1' "
                 "i='1' j='1'/>",
          "policy-violation" },
    };
    xd_xml_limits lim;

    xd_xml_limits_default(&lim);
    lim.max_attrs = 8;
    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        for (size_t chunk = 0; chunk <= 1; chunk++) {
            struct seen s;
            parse(cases[i].doc, strlen(cases[i].doc), chunk, &lim, &s);
            CHECK(s.errors == 1 && strcmp(s.condition, cases[i].condition) == 0,
                  "%s (chunk %zu): want %s, got %s (%d errors)", cases[i].what,
                  chunk, cases[i].condition, s.condition, s.errors);
            xd_buf_free(&s.log);
        }
    }

    /* 10 MB in one text node, fed in 64 KiB chunks: refused within a slice
     * of the 256 KiB limit, long before the end, and nothing delivered. */
    char *big = repeat(HEADER "<message><body>", "x", 10 * 1024 * 1024,
                       "</body></message>");
    struct seen s;
    memset(&s, 0, sizeof(s));
    xd_xml_parser *p = xd_xml_parser_new(NULL, &callbacks, &s);
    size_t len = strlen(big), off = 0;
    while (off < len && xd_xml_parser_feed(p, big + off, 65536) == 0)
        off += 65536;
    CHECK(s.errors == 1 && strcmp(s.condition, "policy-violation") == 0 &&
              off <= 512 * 1024 && s.stanzas == 0,
          "10 MB stanza refused after %zu bytes (%s)", off, s.condition);
    CHECK(xd_xml_parser_feed(p, "<presence/>", 11) == XD_EPROTO,
          "nothing is parsed after an error");
    xd_xml_parser_free(p);
    xd_buf_free(&s.log);
    free(big);

    /* 10,000-deep nesting. */
    char *deep = repeat(HEADER, "<a>", 10000, "");
    parse(deep, strlen(deep), 4096, NULL, &s);
    CHECK(s.errors == 1 && strcmp(s.condition, "policy-violation") == 0,
          "10,000-deep nesting refused (%s)", s.condition);
    xd_buf_free(&s.log);
    free(deep);

    /* Too many children. */
    lim.max_children = 100;
    char *wide = repeat(HEADER "<message>", "<x/>", 101, "</message>");
    parse(wide, strlen(wide), 0, &lim, &s);
    CHECK(s.errors == 1 && strcmp(s.condition, "policy-violation") == 0,
          "too many children refused");
    xd_buf_free(&s.log);
    free(wide);

    /* Many stanzas, each under the limit, add up to far more than it. */
    lim.max_stanza_bytes = 4096;
    lim.max_children = XD_XML_MAX_CHILDREN_DEFAULT;
    char *many =
        repeat(HEADER, "<message><body>0123456789</body></message>", 20000, "");
    parse(many, strlen(many), 65536, &lim, &s);
    CHECK(s.errors == 0 && s.stanzas == 20000 && s.max_mem < 8192,
          "a long stream of small stanzas is fine (%d, %s, %zu bytes)",
          s.stanzas, s.condition, s.max_mem);
    xd_buf_free(&s.log);
    free(many);
}

static void
test_restart_and_standalone(void)
{
    struct seen s;
    xd_xml_parser *p = xd_xml_parser_new(NULL, &callbacks, &s);

    memset(&s, 0, sizeof(s));
    const char *one = HEADER "<starttls xmlns='urn:ietf:params:xml:ns:"
                             "xmpp-tls'/>";
    xd_xml_parser_feed(p, one, strlen(one));
    xd_xml_parser_reset(p);
    const char *two = HEADER "<presence/>";
    CHECK(xd_xml_parser_feed(p, two, strlen(two)) == 0 && s.opened == 2 &&
              s.stanzas == 2 && s.errors == 0,
          "a restarted stream opens again");
    xd_xml_parser_free(p);
    xd_buf_free(&s.log);

    xd_stanza *st = NULL;
    const char *el = "<message xmlns='jabber:component:accept' to='a@b'>"
                     "<body>x</body></message>";
    CHECK(xd_xml_parse_element(el, strlen(el), NULL, &st) == 0 &&
              xd_stanza_kind_of(st) == XD_STANZA_MESSAGE &&
              strcmp(xd_stanza_child_text(st, "body", XD_NS_CLIENT), "x") == 0,
          "standalone element, namespace folded");
    xd_stanza_unref(st);
    static const char *const bad[] = { "", "<a>", "<a/><b/>", "<a><!--x--></a>",
                                       "text" };
    for (size_t i = 0; i < XD_NELEM(bad); i++) {
        st = NULL;
        CHECK(xd_xml_parse_element(bad[i], strlen(bad[i]), NULL, &st) != 0 &&
                  st == NULL,
              "standalone %zu refused: %s", i, bad[i]);
    }
}

int
main(void)
{
    test_chunking();
    test_content();
    test_hostile();
    test_restart_and_standalone();
    return check_report();
}
