/*
 * parse_xml.h: parse(), for unit tests that build their input from XML
 * text. Include it after check.h.
 */
#ifndef XMPPD_TEST_PARSE_XML_H
#define XMPPD_TEST_PARSE_XML_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/xml_parser.h>

/* The stanza of one standalone element (the caller owns it); a test whose
 * own input does not parse stops at once. */
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

#endif
