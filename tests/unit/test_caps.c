/*
 * Unit tests for caps.c: XEP-0115's own examples as vectors (5.2, the
 * simple one, and 5.3, with an XEP-0128 extended form; their strings and
 * 'ver' values checked against the XEP's text), SHA-256, the answers 5.4
 * calls ill-formed, forms ignored for want of a hidden FORM_TYPE, and the
 * check of someone else's announcement.
 */
#include "check.h"
#include "parse_xml.h"
#include <stdlib.h>
#include <string.h>

#include <xmppd/caps.h>
#include <xmppd/xml_parser.h>

#define Q  "<query xmlns='http://jabber.org/protocol/disco#info'>"
#define QE "</query>"

/* XEP-0115 5.2. */
#define SIMPLE                                                                 \
    Q "<identity category='client' name='Exodus 0.9.1' type='pc'/>"            \
      "<feature var='http://jabber.org/protocol/caps'/>"                       \
      "<feature var='http://jabber.org/protocol/disco#info'/>"                 \
      "<feature var='http://jabber.org/protocol/disco#items'/>"                \
      "<feature var='http://jabber.org/protocol/muc'/>" QE

/* XEP-0115 5.3 (identities and features out of order on purpose, as in
 * the XEP). */
#define COMPLEX                                                                \
    Q "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"  \
      "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' "        \
      "type='pc'/>"                                                            \
      "<feature var='http://jabber.org/protocol/caps'/>"                       \
      "<feature var='http://jabber.org/protocol/disco#info'/>"                 \
      "<feature var='http://jabber.org/protocol/disco#items'/>"                \
      "<feature var='http://jabber.org/protocol/muc'/>"                        \
      "<x xmlns='jabber:x:data' type='result'>"                                \
      "<field var='FORM_TYPE' type='hidden'>"                                  \
      "<value>urn:xmpp:dataforms:softwareinfo</value></field>"                 \
      "<field var='ip_version' type='text-multi'>"                             \
      "<value>ipv4</value><value>ipv6</value></field>"                         \
      "<field var='os'><value>Mac</value></field>"                             \
      "<field var='os_version'><value>10.5.1</value></field>"                  \
      "<field var='software'><value>Psi</value></field>"                       \
      "<field var='software_version'><value>0.11</value></field>"              \
      "</x>" QE

#define SIMPLE_S                                                               \
    "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<"                 \
    "http://jabber.org/protocol/disco#info<"                                   \
    "http://jabber.org/protocol/disco#items<"                                  \
    "http://jabber.org/protocol/muc<"
#define COMPLEX_S                                                              \
    "client/pc/el/\xce\xa8 0.11<client/pc/en/Psi 0.11<"                        \
    "http://jabber.org/protocol/caps<"                                         \
    "http://jabber.org/protocol/disco#info<"                                   \
    "http://jabber.org/protocol/disco#items<"                                  \
    "http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<"          \
    "ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<"              \
    "software_version<0.11<"

#define FORM(type_attr, values)                                                \
    "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'" type_attr  \
    ">" values "</field><field var='a'><value>1</value></field></x>"

static const struct {
    const char *xml;
    int rc;           /* of xd_caps_string */
    const char *s;    /* the verification string, when rc == 0 */
    const char *sha1; /* its 'ver', NULL: not checked */
} cases[] = {
    { SIMPLE, 0, SIMPLE_S, "QgayPKawpkPSDYmwT/WM94uAlu0=" },
    { COMPLEX, 0, COMPLEX_S, "q07IKJEyjvHSyhy//CH0CxmKi8w=" },
    { Q QE, 0, "", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=" }, /* SHA-1 of "" */
    /* 5.4: the same identity twice, the same feature twice. */
    { Q "<identity category='a' type='b'/><identity category='a' type='b'/>" QE,
      XD_EINVAL, NULL, NULL },
    { Q "<feature var='x'/><feature var='x'/>" QE, XD_EINVAL, NULL, NULL },
    /* Same category and type, other language: two identities. */
    { Q "<identity category='a' type='b' xml:lang='fr'/>"
        "<identity category='a' type='b'/>" QE,
      0, "a/b//<a/b/fr/<", NULL },
    /* Field-wise order: "a" before "a-b", though '/' sorts after '-'. */
    { Q
      "<identity category='a-b' type='t'/><identity category='a' type='t'/>" QE,
      0, "a/t//<a-b/t//<", NULL },
    /* Two forms of one FORM_TYPE; a FORM_TYPE of two values. */
    { Q FORM(" type='hidden'", "<value>urn:f</value>")
          FORM(" type='hidden'", "<value>urn:f</value>") QE,
      XD_EINVAL, NULL, NULL },
    { Q FORM(" type='hidden'", "<value>urn:f</value><value>urn:g</value>") QE,
      XD_EINVAL, NULL, NULL },
    /* A form whose FORM_TYPE is not hidden, or that has none: ignored. */
    { Q "<feature var='f'/>" FORM("", "<value>urn:f</value>") QE, 0, "f<",
      NULL },
    { Q "<feature var='f'/><x xmlns='jabber:x:data' type='result'>"
        "<field var='a'><value>1</value></field></x>" QE,
      0, "f<", NULL },
    { Q "<feature var='f'/>" FORM(" type='hidden'", "<value>urn:f</value>") QE,
      0, "f<urn:f<a<1<", NULL },
    /* Not a disco#info query at all. */
    { "<query xmlns='jabber:iq:version'/>", XD_EINVAL, NULL, NULL },
};

int
main(void)
{
    xd_buf s = { 0 };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_stanza *st = parse(cases[i].xml);
        const xd_elem *q = xd_stanza_root(st);
        int rc = xd_caps_string(q, &s);
        CHECK(rc == cases[i].rc, "case %zu: rc %d, want %d (%s)", i, rc,
              cases[i].rc, cases[i].xml);
        if (rc == 0 && cases[i].s != NULL)
            CHECK(s.len == strlen(cases[i].s) &&
                      memcmp(s.data, cases[i].s, s.len) == 0,
                  "case %zu: S is \"%.*s\", want \"%s\"", i, (int)s.len, s.data,
                  cases[i].s);
        char *ver = NULL;
        rc = xd_caps_ver(q, XD_CAPS_SHA1, &ver);
        CHECK(rc == cases[i].rc, "case %zu: xd_caps_ver rc %d", i, rc);
        if (cases[i].sha1 != NULL)
            CHECK(ver != NULL && strcmp(ver, cases[i].sha1) == 0,
                  "case %zu: ver %s, want %s", i, ver ? ver : "(none)",
                  cases[i].sha1);
        if (cases[i].sha1 != NULL)
            CHECK(xd_caps_verify(q, "sha-1", cases[i].sha1) == 0,
                  "case %zu: verifies", i);
        if (cases[i].rc != 0)
            CHECK(xd_caps_verify(q, "sha-1", "AAAA") == XD_EINVAL,
                  "case %zu: an ill-formed answer never verifies", i);
        free(ver);
        xd_stanza_unref(st);
    }

    /* SHA-256 of the simple example's string, and someone else's claims. */
    xd_stanza *st = parse(SIMPLE);
    const xd_elem *q = xd_stanza_root(st);
    char *ver = NULL;
    CHECK(xd_caps_ver(q, XD_CAPS_SHA256, &ver) == 0 && ver != NULL &&
              strcmp(ver, "Wr6IGEKhx6b9627gBmi/cCmpxXBc/GYq5zWuYfWGWoc=") == 0,
          "SHA-256 ver (%s)", ver ? ver : "(none)");
    CHECK(xd_caps_verify(q, "sha-256", ver) == 0, "SHA-256 verifies");
    free(ver);
    CHECK(xd_caps_verify(q, "sha-1", "q07IKJEyjvHSyhy//CH0CxmKi8w=") ==
              XD_EPROTO,
          "another entity's ver does not verify");
    CHECK(xd_caps_verify(q, "md5", "QgayPKawpkPSDYmwT/WM94uAlu0=") == XD_EINVAL,
          "an unknown hash is refused");
    CHECK(xd_caps_verify(q, "sha-1", NULL) == XD_EINVAL, "no ver: refused");
    xd_caps_hash h;
    CHECK(xd_caps_hash_parse("sha-256", &h) == 0 && h == XD_CAPS_SHA256 &&
              strcmp(xd_caps_hash_name(h), "sha-256") == 0,
          "hash names");
    xd_stanza_unref(st);

    /* <c/> in a presence. */
    xd_stanza *p = xd_stanza_new("presence", XD_NS_CLIENT);
    xd_caps_add(xd_stanza_root(p), "urn:xmppd:test", "abc=");
    char *out = xd_elem_to_string(xd_stanza_root(p), NULL);
    CHECK(strstr(out,
                 "<c xmlns='http://jabber.org/protocol/caps' "
                 "hash='sha-1' node='urn:xmppd:test' ver='abc='/>") != NULL,
          "caps element: %s", out);
    free(out);
    xd_stanza_unref(p);
    xd_buf_free(&s);
    return check_report();
}
