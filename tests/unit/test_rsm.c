/*
 * Unit tests for rsm.c: XEP-0059 requests read from a table of <set/>
 * elements, and the result <set/> written for pages of each shape.
 */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/rsm.h>
#include <xmppd/xml_parser.h>

#define SET "<set xmlns='http://jabber.org/protocol/rsm'>"

static int
same(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void
test_parse(void)
{
    static const struct {
        const char *payload; /* inside <query xmlns='urn:q'> */
        int rc;
        long max;
        const char *after, *before;
        long index;
    } cases[] = {
        { "", 0, -1, NULL, NULL, -1 },
        { SET "</set>", 0, -1, NULL, NULL, -1 },
        { SET "<max>10</max></set>", 0, 10, NULL, NULL, -1 },
        { SET "<max>0</max></set>", 0, 0, NULL, NULL, -1 },
        { SET "<max>10</max><after>item-9</after></set>", 0, 10, "item-9", NULL,
          -1 },
        { SET "<max>10</max><before>item-9</before></set>", 0, 10, NULL,
          "item-9", -1 },
        { SET "<max>10</max><before/></set>", 0, 10, NULL, "", -1 },
        { SET "<max>5</max><index>371</index></set>", 0, 5, NULL, NULL, 371 },
        { SET "<max>-1</max></set>", XD_EINVAL, 0, NULL, NULL, 0 },
        { SET "<max>ten</max></set>", XD_EINVAL, 0, NULL, NULL, 0 },
        { SET "<max></max></set>", XD_EINVAL, 0, NULL, NULL, 0 },
        { SET "<max>99999999999999999999999</max></set>", XD_EINVAL, 0, NULL,
          NULL, 0 },
        { SET "<index>-3</index></set>", XD_EINVAL, 0, NULL, NULL, 0 },
        { SET "<index>1.5</index></set>", XD_EINVAL, 0, NULL, NULL, 0 },
        /* Another namespace's <set/> is no request. */
        { "<set xmlns='urn:other'><max>-1</max></set>", 0, -1, NULL, NULL, -1 },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        char *xml =
            xd_xasprintf("<query xmlns='urn:q'>%s</query>", cases[i].payload);
        xd_stanza *st = NULL;
        xd_rsm r;
        if (xd_xml_parse_element(xml, strlen(xml), NULL, &st) != 0) {
            CHECK(0, "case %zu: cannot parse %s", i, xml);
            free(xml);
            continue;
        }
        int rc = xd_rsm_parse(xd_stanza_root(st), &r);
        int ok = rc == cases[i].rc;
        if (ok && rc == 0)
            ok = r.max == cases[i].max && r.index == cases[i].index &&
                 same(r.after, cases[i].after) &&
                 same(r.before, cases[i].before);
        CHECK(ok, "case %zu: %s: rc %d max %ld index %ld", i, xml, rc, r.max,
              r.index);
        xd_stanza_unref(st);
        free(xml);
    }
    xd_rsm r;
    CHECK(xd_rsm_parse(NULL, &r) == 0 && r.max == -1 && r.after == NULL &&
              r.before == NULL && r.index == -1,
          "NULL parent: nothing given");
}

static void
test_result(void)
{
    static const struct {
        const char *first;
        long first_index;
        const char *last;
        long count;
        const char *xml;
    } cases[] = {
        { "a", 0, "j", 800,
          SET "<first index='0'>a</first><last>j</last><count>800</count>"
              "</set>" },
        { "k", -1, "t", -1, SET "<first>k</first><last>t</last></set>" },
        { NULL, 0, NULL, 800, SET "<count>800</count></set>" },
        { NULL, -1, NULL, 0, SET "<count>0</count></set>" },
        { "a&b", 12, "a&b", 13,
          SET "<first index='12'>a&amp;b</first><last>a&amp;b</last>"
              "<count>13</count></set>" },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_stanza *st = xd_stanza_new("query", "urn:q");
        xd_elem *set = xd_rsm_add_result(xd_stanza_root(st), cases[i].first,
                                         cases[i].first_index, cases[i].last,
                                         cases[i].count);
        char *s = xd_elem_to_string(set, NULL);
        CHECK(xd_elem_parent(set) == xd_stanza_root(st) &&
                  strcmp(s, cases[i].xml) == 0,
              "case %zu:\n got %s\nwant %s", i, s, cases[i].xml);
        free(s);
        xd_stanza_unref(st);
    }
}

int
main(void)
{
    test_parse();
    test_result();
    return check_report();
}
