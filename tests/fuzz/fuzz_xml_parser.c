/*
 * libFuzzer target for the stream parser. The first byte picks the chunk
 * size, the rest is fed as a stream; every stanza that comes out is
 * serialised and must parse again as a standalone element.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/xml_parser.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_stanza(void *arg, xd_stanza *st)
{
    xd_stanza *again = NULL;
    char *xml = xd_elem_to_string(xd_stanza_root(st), NULL);

    (void)arg;
    if (xd_xml_parse_element(xml, strlen(xml), NULL, &again) != 0)
        abort(); /* we wrote something we cannot read back */
    xd_stanza_unref(again);
    free(xml);
    xd_stanza_unref(st);
}

static const xd_xml_callbacks callbacks = { NULL, on_stanza, NULL, NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = 1 + data[0] % 64;
    xd_xml_limits lim;

    xd_xml_limits_default(&lim);
    lim.max_stanza_bytes = 65536;
    xd_xml_parser *p = xd_xml_parser_new(&lim, &callbacks, NULL);
    for (size_t off = 1; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (xd_xml_parser_feed(p, (const char *)data + off, n) != 0)
            break;
    }
    xd_xml_parser_free(p);
    return 0;
}
