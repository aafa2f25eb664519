/*
 * stored_xml.c: reading back the stanzas the router stored (offline
 * messages, archives, private XML, pending subscriptions). They passed the
 * input limits once, but serialising can make them longer (escapes) and
 * storing adds an element or two (<delay/>, <stanza-id/>): they are read
 * with limits just above the input ones, so that nothing accepted is lost.
 */
#include <string.h>

#include "router.h"

int
stored_xml_parse(const struct router *r, const char *xml, xd_stanza **out)
{
    size_t len = strlen(xml);
    xd_xml_limits lim = r->limits;

    lim.max_stanza_bytes = len + 1;
    lim.max_depth += 2;
    lim.max_attrs += 8;
    lim.max_children += 8;
    return xd_xml_parse_element(xml, len, &lim, out);
}
