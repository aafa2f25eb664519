/*
 * libFuzzer target for the stream parser and the serialiser.
 *
 * The first byte picks the chunk size the rest is fed in (low six bits)
 * and whether the limits are the defaults or tiny ones (bit 6). Fed in
 * those chunks or whole, the input must give the same stanzas. Every
 * stanza that comes out is serialised standalone and must parse again as
 * a standalone element and serialise to the same bytes; it is also written
 * into a component stream and must come back from a stream parser as the
 * same element. The whole input is also parsed as one standalone element.
 * Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/xml_parser.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STREAM_HEADER                                                          \
    "<stream:stream xmlns='jabber:component:accept' "                          \
    "xmlns:stream='http://etherx.jabber.org/streams'>"

/* Limits for reading back: serialising may grow text up to six times
 * (a quote becomes &quot;), nothing else changes. */
static xd_xml_limits relaxed;

struct echo {
    char *xml; /* what the stream parser of the second pass gave */
    int stanzas, errors;
};

static void
echo_stanza(void *arg, xd_stanza *st)
{
    struct echo *e = arg;

    if (e->stanzas++ == 0)
        e->xml = xd_elem_to_string(xd_stanza_root(st), NULL);
    xd_stanza_unref(st);
}

static void
echo_error(void *arg, const char *condition, const char *text)
{
    struct echo *e = arg;

    (void)condition;
    (void)text;
    e->errors++;
}

static const xd_xml_callbacks echo_callbacks = { NULL, echo_stanza, NULL,
                                                 echo_error };

static void
check_stanza(xd_stanza *st)
{
    char *one = xd_elem_to_string(xd_stanza_root(st), NULL);
    xd_stanza *again = NULL;

    if (xd_xml_parse_element(one, strlen(one), &relaxed, &again) != 0)
        abort(); /* we wrote something we cannot read back */
    char *two = xd_elem_to_string(xd_stanza_root(again), NULL);
    if (strcmp(one, two) != 0)
        abort(); /* reading back changed it */
    xd_stanza_unref(again);
    free(two);

    /* The same through a component stream, unless escaping made one of
     * its tags longer than a stream parser takes (16 KiB). */
    char *in_stream = xd_elem_to_string(xd_stanza_root(st), XD_NS_COMPONENT);
    if (strlen(in_stream) > 16384) {
        free(in_stream);
        free(one);
        return;
    }
    struct echo e = { NULL, 0, 0 };
    xd_xml_parser *p = xd_xml_parser_new(&relaxed, &echo_callbacks, &e);
    if (xd_xml_parser_feed(p, STREAM_HEADER, strlen(STREAM_HEADER)) != 0 ||
        xd_xml_parser_feed(p, in_stream, strlen(in_stream)) != 0 ||
        e.stanzas != 1 || e.errors != 0 || strcmp(e.xml, one) != 0)
        abort();
    xd_xml_parser_free(p);
    free(e.xml);
    free(in_stream);
    free(one);
}

/* What one pass over the input gave: every stanza written standalone. */
struct pass {
    xd_buf log;
    int errors;
};

static void
on_stanza(void *arg, xd_stanza *st)
{
    struct pass *pass = arg;

    check_stanza(st);
    xd_elem_serialise(xd_stanza_root(st), NULL, &pass->log);
    xd_stanza_unref(st);
}

static void
on_error(void *arg, const char *condition, const char *text)
{
    struct pass *pass = arg;

    (void)condition;
    (void)text;
    pass->errors++;
}

static const xd_xml_callbacks callbacks = { NULL, on_stanza, NULL, on_error };

static void
run(const uint8_t *data, size_t size, size_t chunk, const xd_xml_limits *lim,
    struct pass *pass)
{
    xd_xml_parser *p = xd_xml_parser_new(lim, &callbacks, pass);

    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (xd_xml_parser_feed(p, (const char *)data + off, n) != 0)
            break;
    }
    xd_xml_parser_free(p);
    if (pass->errors > 1)
        abort(); /* nothing is reported after an error */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xd_xml_limits lim;

    if (size == 0)
        return 0;
    size_t chunk = 1 + (data[0] & 63);
    xd_xml_limits_default(&lim);
    if (data[0] & 64) {
        lim.max_stanza_bytes = 512;
        lim.max_depth = 4;
        lim.max_attrs = 4;
        lim.max_children = 4;
    } else {
        lim.max_stanza_bytes = 65536;
    }
    relaxed = lim;
    relaxed.max_stanza_bytes = 8 * lim.max_stanza_bytes;

    /* In chunks, then whole: the same stanzas. Not always the same error,
     * or an error in both: expat may need to see past the end of the input
     * to find a bad token, and a stanza over its limit may be refused for
     * that before or after a syntax error further on is seen, depending on
     * where the chunks end. */
    struct pass a = { XD_BUF_INIT, 0 }, b = { XD_BUF_INIT, 0 };
    run(data + 1, size - 1, chunk, &lim, &a);
    run(data + 1, size - 1, size, &lim, &b);
    if (a.log.len != b.log.len ||
        (a.log.len > 0 && memcmp(a.log.data, b.log.data, a.log.len) != 0))
        abort();
    xd_buf_free(&a.log);
    xd_buf_free(&b.log);

    /* The same bytes as one standalone element. */
    xd_stanza *st = NULL;
    if (xd_xml_parse_element((const char *)data + 1, size - 1, &lim, &st) ==
        0) {
        check_stanza(st);
        xd_stanza_unref(st);
    }
    return 0;
}
