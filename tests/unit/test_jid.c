/*
 * Unit tests for jid.c: the examples of RFC 7622 section 3.5, preparation
 * (the ASCII fast path against libidn itself), length limits, bare/full
 * forms, equality, and XEP-0106 escaping with the XEP's example table.
 *
 * Preparation is RFC 6122 stringprep, the documented first step towards
 * PRECIS. Where the two differ on an RFC 7622 example the table holds the
 * stringprep result and a comment saying so ("DEVIATION").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idna.h>
#include <stringprep.h>

#include <xmppd/jid.h>

#include "check.h"

static int
same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static const struct {
    const char *in, *local, *domain, *resource;
    int rc;
} parse_cases[] = {
    /* RFC 7622 3.5.1, Table 1: valid JIDs. */
    { "juliet@example.com", "juliet", "example.com", NULL, 0 },
    { "juliet@example.com/foo", "juliet", "example.com", "foo", 0 },
    { "juliet@example.com/foo bar", "juliet", "example.com", "foo bar", 0 },
    { "juliet@example.com/foo@bar", "juliet", "example.com", "foo@bar", 0 },
    { "foo\\20bar@example.com", "foo\\20bar", "example.com", NULL, 0 },
    { "fussball@example.com", "fussball", "example.com", NULL, 0 },
    /* DEVIATION: PRECIS keeps the sharp s (U+00DF); Nodeprep's case
     * folding (RFC 3454 B.2) makes it "ss". */
    { "fu\xc3\x9f"
      "ball@example.com",
      "fussball", "example.com", NULL, 0 },
    { "\xcf\x80@example.com", "\xcf\x80", "example.com", NULL, 0 },
    /* Capital sigma: PRECIS and Nodeprep both give small sigma. */
    { "\xce\xa3@example.com/foo", "\xcf\x83", "example.com", "foo", 0 },
    { "\xcf\x83@example.com/foo", "\xcf\x83", "example.com", "foo", 0 },
    /* DEVIATION: PRECIS keeps the final sigma (U+03C2); Nodeprep folds
     * it to small sigma (U+03C3). */
    { "\xcf\x82@example.com/foo", "\xcf\x83", "example.com", "foo", 0 },
    { "king@example.com/\xe2\x99\x9a", "king", "example.com", "\xe2\x99\x9a",
      0 },
    { "example.com", NULL, "example.com", NULL, 0 },
    { "example.com/foobar", NULL, "example.com", "foobar", 0 },
    { "a.example.com/b@example.net", NULL, "a.example.com", "b@example.net",
      0 },
    /* RFC 7622 3.5.2, Table 2: invalid JIDs. */
    { "\"juliet\"@example.com", NULL, NULL, NULL, XD_EINVAL },
    { "foo bar@example.com", NULL, NULL, NULL, XD_EINVAL },
    /* Table 2 lists a leading space in the resourcepart as invalid, but
     * erratum 4560 withdrew that: it is valid in both. */
    { "juliet@example.com/ foo", "juliet", "example.com", " foo", 0 },
    { "@example.com/", NULL, NULL, NULL, XD_EINVAL },
    /* DEVIATION: PRECIS refuses ROMAN NUMERAL FOUR (U+2163); Nodeprep
     * folds it to U+2173 and NFKC makes that "iv". */
    { "henry\xe2\x85\xa3@example.com", "henryiv", "example.com", NULL, 0 },
    /* DEVIATION: PRECIS refuses a symbol (BLACK CHESS KING, U+265A) in a
     * localpart; Nodeprep allows it. */
    { "\xe2\x99\x9a@example.com", "\xe2\x99\x9a", "example.com", NULL, 0 },
    { "juliet@", NULL, NULL, NULL, XD_EINVAL },
    { "/foobar", NULL, NULL, NULL, XD_EINVAL },
    /* Separators: the first '/' starts the resource, the first '@'
     * before it ends the localpart. */
    { "server/resource@foo", NULL, "server", "resource@foo", 0 },
    { "server/resource@foo/bar", NULL, "server", "resource@foo/bar", 0 },
    { "a@b/c@d/e", "a", "b", "c@d/e", 0 },
    { "node@/server", NULL, NULL, NULL, XD_EINVAL },
    { "@server", NULL, NULL, NULL, XD_EINVAL },
    { "@server/resource", NULL, NULL, NULL, XD_EINVAL },
    { "@/resource", NULL, NULL, NULL, XD_EINVAL },
    { "@/", NULL, NULL, NULL, XD_EINVAL },
    { "/", NULL, NULL, NULL, XD_EINVAL },
    { "@", NULL, NULL, NULL, XD_EINVAL },
    { "user@@", NULL, NULL, NULL, XD_EINVAL },
    { "user@@host", NULL, NULL, NULL, XD_EINVAL },
    { "user@@host/resource", NULL, NULL, NULL, XD_EINVAL },
    { "juliet@example.com/", NULL, NULL, NULL, XD_EINVAL },
    { "", NULL, NULL, NULL, XD_EINVAL },
    /* Case: local and domain fold, the resource keeps its case. */
    { "Juliet@Example.COM/Balcony", "juliet", "example.com", "Balcony", 0 },
    /* Domains: one final dot goes, IP literals, host name rules. */
    { "example.com.", NULL, "example.com", NULL, 0 },
    { "example.com..", NULL, NULL, NULL, XD_EINVAL },
    { ".", NULL, NULL, NULL, XD_EINVAL },
    { "juliet@127.0.0.1", "juliet", "127.0.0.1", NULL, 0 },
    { "juliet@[::1]/x", "juliet", "[::1]", "x", 0 },
    { "[0:0:0::1]", NULL, "[::1]", NULL, 0 },
    { "[2001:DB8::1]", NULL, "[2001:db8::1]", NULL, 0 },
    { "[::ffff:192.0.2.1]", NULL, "[::ffff:192.0.2.1]", NULL, 0 },
    { "juliet@[::1", NULL, NULL, NULL, XD_EINVAL },
    { "[]", NULL, NULL, NULL, XD_EINVAL },
    { "[192.0.2.1]", NULL, NULL, NULL, XD_EINVAL },
    { "[fe80::1%eth0]", NULL, NULL, NULL, XD_EINVAL },
    { "juliet@exa mple.com", NULL, NULL, NULL, XD_EINVAL },
    { "juliet@example..com", NULL, NULL, NULL, XD_EINVAL },
    { "juliet@under_score.com", NULL, NULL, NULL, XD_EINVAL },
    { "juliet@ex!ample.com", NULL, NULL, NULL, XD_EINVAL },
    { "-lead.trail-", NULL, "-lead.trail-", NULL, 0 },
    { "a:b@example.com", NULL, NULL, NULL, XD_EINVAL },
    { "juliet@example.com/res\x01", NULL, NULL, NULL, XD_EINVAL },
    { "juliet@example.com/res\x7f", NULL, NULL, NULL, XD_EINVAL },
    /* Internationalised domains: Nameprep, then the ToASCII check. */
    { "B\xc3\xbc"
      "cher.Example",
      NULL,
      "b\xc3\xbc"
      "cher.example",
      NULL, 0 },
    /* IDEOGRAPHIC and FULLWIDTH FULL STOP separate labels. */
    { "b\xc3\xbc"
      "cher\xe3\x80\x82"
      "example\xef\xbc\x8e",
      NULL,
      "b\xc3\xbc"
      "cher.example",
      NULL, 0 },
    /* A SOFT HYPHEN is mapped to nothing. */
    { "ex\xc2\xad"
      "ample.com",
      NULL, "example.com", NULL, 0 },
    /* FULLWIDTH COMMERCIAL AT becomes '@': not in a domain. */
    { "a@b\xef\xbc\xa0"
      "c",
      NULL, NULL, NULL, XD_EINVAL },
    /* FULLWIDTH COMMERCIAL AT in a localpart: Nodeprep prohibits the
     * '@' it becomes. */
    { "a\xef\xbc\xa0"
      "b@c",
      NULL, NULL, NULL, XD_EINVAL },
    /* Invalid UTF-8 anywhere. */
    { "\xff@example.com", NULL, NULL, NULL, XD_EINVAL },
    { "a@ex\xc3"
      "ample.com",
      NULL, NULL, NULL, XD_EINVAL },
    { "a@example.com/\xed\xa0\x80", NULL, NULL, NULL, XD_EINVAL },
    { "a@example.com/\xc0\xaf", NULL, NULL, NULL, XD_EINVAL },
    /* NFKC turns NO-BREAK SPACE and EM SPACE into a plain space:
     * prohibited in a localpart, allowed in a resourcepart. */
    { "a\xc2\xa0"
      "b@example.com",
      NULL, NULL, NULL, XD_EINVAL },
    { "a@example.com/a\xe2\x80\x83"
      "b",
      "a", "example.com", "a b", 0 },
    /* IDEOGRAPHIC SPACE (U+3000) likewise; OGHAM SPACE MARK (U+1680)
     * has no decomposition and stays a prohibited non-ASCII space. */
    { "a@example.com/\xe3\x80\x80", "a", "example.com", " ", 0 },
    { "a@example.com/\xe1\x9a\x80", NULL, NULL, NULL, XD_EINVAL },
};

static void
test_parse(void)
{
    for (size_t i = 0; i < XD_NELEM(parse_cases); i++) {
        xd_jid *j = NULL;
        int rc = xd_jid_parse(parse_cases[i].in, &j);
        int ok = rc == parse_cases[i].rc;
        if (ok && rc == 0)
            ok = same(xd_jid_local(j), parse_cases[i].local) &&
                 same(xd_jid_domain(j), parse_cases[i].domain) &&
                 same(xd_jid_resource(j), parse_cases[i].resource);
        if (ok && rc != 0)
            ok = j == NULL;
        CHECK(ok, "parse case %zu: %s: rc %d", i, parse_cases[i].in, rc);
        /* What parses reads back as itself. */
        if (rc == 0) {
            xd_jid *again = NULL;
            CHECK(xd_jid_parse(xd_jid_str(j), &again) == 0 &&
                      xd_jid_equal(j, again) &&
                      strcmp(xd_jid_str(again), xd_jid_str(j)) == 0,
                  "reparse case %zu: %s", i, xd_jid_str(j));
            xd_jid_free(again);
        }
        xd_jid_free(j);
    }
}

/*
 * The ASCII fast path against libidn. For each part and each ASCII
 * character c (and a table of longer strings), preparing through jid.c
 * must give what the libidn profile gives: the same verdict for local and
 * resource parts, the same string when both accept. For domains jid.c
 * also applies the host name rules, so it may refuse what Nameprep
 * accepts, but never the other way round.
 */
static int
libidn_prep(const char *profile, const char *in, char **out)
{
    *out = NULL;
    if (stringprep_profile(in, out, profile, 0) != STRINGPREP_OK)
        return -1;
    if (**out == '\0' || strlen(*out) > XD_JID_PART_MAX) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static void
agree(const char *in)
{
    char *mine = NULL, *ref = NULL;
    int rc, ref_rc;

    rc = xd_jid_prep_local(in, &mine);
    ref_rc = libidn_prep("Nodeprep", in, &ref);
    CHECK((rc == 0) == (ref_rc == 0) && (rc != 0 || strcmp(mine, ref) == 0),
          "Nodeprep disagrees on \"%s\": %d/%d", in, rc, ref_rc);
    free(mine);
    free(ref);

    mine = ref = NULL;
    rc = xd_jid_prep_resource(in, &mine);
    ref_rc = libidn_prep("Resourceprep", in, &ref);
    CHECK((rc == 0) == (ref_rc == 0) && (rc != 0 || strcmp(mine, ref) == 0),
          "Resourceprep disagrees on \"%s\": %d/%d", in, rc, ref_rc);
    free(mine);
    free(ref);

    /* Nameprep keeps a final dot, which jid.c removes. */
    mine = ref = NULL;
    rc = xd_jid_prep_domain(in, &mine);
    size_t len = strlen(in);
    char *stripped = strdup(in);
    if (len > 1 && stripped[len - 1] == '.')
        stripped[len - 1] = '\0';
    ref_rc = libidn_prep("Nameprep", stripped, &ref);
    CHECK(rc != 0 || (ref_rc == 0 && strcmp(mine, ref) == 0),
          "Nameprep disagrees on \"%s\": %d/%d", in, rc, ref_rc);
    free(stripped);
    free(mine);
    free(ref);
}

static void
test_fast_path_agrees(void)
{
    static const char *const strings[] = {
        "Juliet",
        "ROMEO",
        "a.b-c_d",
        "~!#$%^*()+=[]{}|;,.?`",
        "with space",
        "tab\there",
        "Caps.EXAMPLE.Com",
        "example.com.",
        "-lead.trail-",
        "x",
        "\\20\\5c",
        "127.0.0.1",
        "a..b",
        "\x7f",
    };
    char s[4];

    for (int c = 1; c < 128; c++) {
        snprintf(s, sizeof(s), "%c", c);
        agree(s);
        snprintf(s, sizeof(s), "a%cB", c);
        agree(s);
    }
    for (size_t i = 0; i < XD_NELEM(strings); i++)
        agree(strings[i]);

    /* And the domain rules themselves, which both paths share. */
    static const struct {
        const char *in;
        int rc;
    } domains[] = {
        { "example.com", 0 },
        { "a-b.c-d", 0 },
        { "a_b.com", XD_EINVAL },
        { "a b.com", XD_EINVAL },
        { "a.b.", 0 },
        { ".a.b", XD_EINVAL },
        { "a\tb", XD_EINVAL },
        { "b\xc3\xbc"
          "cher\xe2\x80\x83"
          "x.com",
          XD_EINVAL },
    };
    for (size_t i = 0; i < XD_NELEM(domains); i++) {
        char *out = NULL;
        int rc = xd_jid_prep_domain(domains[i].in, &out);
        CHECK(rc == domains[i].rc, "domain case %zu: %s: rc %d", i,
              domains[i].in, rc);
        free(out);
    }
}

/* XD_JID_PART_MAX bytes after preparation, for each part. */
static void
test_limits(void)
{
    char big[4200], *out = NULL;
    xd_jid *j = NULL;

    memset(big, 'a', 1023);
    strcpy(big + 1023, "@example.com");
    CHECK(xd_jid_parse(big, &j) == 0 && strlen(xd_jid_local(j)) == 1023,
          "1023-byte localpart");
    xd_jid_free(j);
    j = NULL;
    memset(big, 'a', 1024);
    strcpy(big + 1024, "@example.com");
    CHECK(xd_jid_parse(big, &j) == XD_EINVAL && j == NULL,
          "1024-byte localpart");

    strcpy(big, "example.com/");
    memset(big + 12, 'r', 1023);
    big[12 + 1023] = '\0';
    CHECK(xd_jid_parse(big, &j) == 0 && strlen(xd_jid_resource(j)) == 1023,
          "1023-byte resourcepart");
    xd_jid_free(j);
    j = NULL;
    strcpy(big + 12 + 1023, "r");
    CHECK(xd_jid_parse(big, &j) == XD_EINVAL, "1024-byte resourcepart");

    /* 16 labels of 63 bytes and their dots: 1023 bytes. */
    char *p = big;
    for (int i = 0; i < 16; i++) {
        memset(p, 'd', 63);
        p[63] = '.';
        p += 64;
    }
    p[-1] = '\0';
    CHECK(xd_jid_prep_domain(big, &out) == 0 && strlen(out) == 1023,
          "1023-byte domainpart");
    free(out);
    out = NULL;
    strcat(big, ".");
    CHECK(xd_jid_prep_domain(big, &out) == 0 && strlen(out) == 1023,
          "1023-byte domainpart and a final dot");
    free(out);
    out = NULL;
    /* 1024 bytes: the last label one byte shorter, then ".dd". */
    strcpy(big + 1023 - 2, ".dd");
    CHECK(strlen(big) == 1024 && xd_jid_prep_domain(big, &out) == XD_EINVAL,
          "1024-byte domainpart");
    memset(big, 'd', 64);
    strcpy(big + 64, ".com");
    CHECK(xd_jid_prep_domain(big, &out) == XD_EINVAL, "64-byte label");

    /* Non-ASCII, counted in bytes of UTF-8 after preparation: 511 "é"
     * and one "a" are 1023 bytes; 512 "é" are 1024. */
    for (int i = 0; i < 511; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2);
    strcpy(big + 1022, "a");
    CHECK(xd_jid_prep_resource(big, &out) == 0 && strlen(out) == 1023,
          "1023 bytes of UTF-8");
    free(out);
    out = NULL;
    strcpy(big + 1022, "\xc3\xa9");
    CHECK(xd_jid_prep_resource(big, &out) == XD_EINVAL, "1024 bytes of UTF-8");
    /* Upper-case input that folds to 1023 bytes. */
    for (int i = 0; i < 511; i++)
        memcpy(big + 2 * i, "\xc3\x89", 2);
    strcpy(big + 1022, "A");
    CHECK(xd_jid_prep_local(big, &out) == 0 && strlen(out) == 1023 &&
              memcmp(out, "\xc3\xa9", 2) == 0 && out[1022] == 'a',
          "1023 bytes of folded UTF-8");
    free(out);
    out = NULL;
    /* An internationalised label whose ACE form is over 63 bytes. */
    big[0] = '\0';
    for (int i = 0; i < 30; i++)
        strcat(big, "\xc3\xbc\xc3\xa9");
    strcat(big, ".com");
    CHECK(xd_jid_prep_domain(big, &out) == XD_EINVAL, "long IDN label");
}

/* Bare and full forms, equality, make, dup, with_resource. */
static void
test_forms(void)
{
    xd_jid *a = NULL, *b = NULL, *bare, *other = NULL, *dup, *m = NULL;

    CHECK(xd_jid_parse("Romeo@Montague.LIT/Orchard", &a) == 0 &&
              xd_jid_parse("romeo@montague.lit/Orchard", &b) == 0,
          "parse forms inputs");
    if (a == NULL || b == NULL)
        return;
    CHECK(xd_jid_equal(a, b) && xd_jid_bare_equal(a, b), "folded equal");
    CHECK(strcmp(xd_jid_str(a), "romeo@montague.lit/Orchard") == 0 &&
              strcmp(xd_jid_bare_str(a), "romeo@montague.lit") == 0 &&
              !xd_jid_is_bare(a),
          "forms of %s", xd_jid_str(a));

    bare = xd_jid_bare(a);
    CHECK(xd_jid_is_bare(bare) && xd_jid_resource(bare) == NULL &&
              strcmp(xd_jid_str(bare), "romeo@montague.lit") == 0 &&
              strcmp(xd_jid_bare_str(bare), xd_jid_str(bare)) == 0 &&
              !xd_jid_equal(bare, a) && xd_jid_bare_equal(bare, a),
          "bare %s", xd_jid_str(bare));

    CHECK(xd_jid_with_resource(bare, "Garden", &other) == 0 &&
              !xd_jid_equal(other, a) && xd_jid_bare_equal(other, a) &&
              strcmp(xd_jid_str(other), "romeo@montague.lit/Garden") == 0 &&
              strcmp(xd_jid_resource(other), "Garden") == 0,
          "with_resource Garden");
    xd_jid_free(other);
    other = NULL;
    CHECK(xd_jid_with_resource(a, NULL, &other) == 0 &&
              xd_jid_equal(other, bare),
          "with_resource NULL");
    xd_jid_free(other);
    other = NULL;
    CHECK(xd_jid_with_resource(a, "bad\x01", &other) == XD_EINVAL &&
              other == NULL,
          "with_resource refuses a control character");
    CHECK(xd_jid_with_resource(a, "", &other) == XD_EINVAL && other == NULL,
          "with_resource refuses an empty resource");

    dup = xd_jid_dup(a);
    CHECK(xd_jid_equal(dup, a) && dup != a &&
              strcmp(xd_jid_local(dup), "romeo") == 0 &&
              strcmp(xd_jid_domain(dup), "montague.lit") == 0,
          "dup %s", xd_jid_str(dup));
    xd_jid_free(dup);

    /* A domain-only JID has no localpart in either form. */
    CHECK(xd_jid_make(NULL, "Montague.LIT", "x", &m) == 0 &&
              xd_jid_local(m) == NULL &&
              strcmp(xd_jid_str(m), "montague.lit/x") == 0 &&
              strcmp(xd_jid_bare_str(m), "montague.lit") == 0,
          "make without localpart");
    xd_jid_free(m);
    m = NULL;
    CHECK(xd_jid_make("r", "example.com", "a/b@c", &m) == 0 &&
              strcmp(xd_jid_str(m), "r@example.com/a/b@c") == 0,
          "make with '/' and '@' in the resource");
    xd_jid_free(m);
    m = NULL;

    static const struct {
        const char *local, *domain, *resource;
    } bad_make[] = {
        { "", "example.com", NULL },
        { "a", "example.com", "" },
        { "a@b", "example.com", NULL },
        { "a/b", "example.com", NULL },
        { "a", NULL, NULL },
        { "a", "", NULL },
        { "a", "exa/mple.com", NULL },
        { "a", "a@example.com", NULL },
    };
    for (size_t i = 0; i < XD_NELEM(bad_make); i++) {
        m = NULL;
        CHECK(xd_jid_make(bad_make[i].local, bad_make[i].domain,
                          bad_make[i].resource, &m) == XD_EINVAL &&
                  m == NULL,
              "bad make case %zu", i);
    }

    /* Equality is on prepared forms only. */
    xd_jid *c = NULL, *d = NULL;
    CHECK(xd_jid_parse("fu\xc3\x9f"
                       "ball@example.com/x",
                       &c) == 0 &&
              xd_jid_parse("FUSSBALL@EXAMPLE.COM./x", &d) == 0 &&
              xd_jid_equal(c, d),
          "prepared equality");
    xd_jid_free(c);
    xd_jid_free(d);
    c = d = NULL;
    CHECK(xd_jid_parse("a@example.com/x", &c) == 0 &&
              xd_jid_parse("a@example.com/X", &d) == 0 && !xd_jid_equal(c, d) &&
              xd_jid_bare_equal(c, d),
          "resources compare case-sensitively");
    xd_jid_free(c);
    xd_jid_free(d);

    xd_jid_free(a);
    xd_jid_free(b);
    xd_jid_free(bare);
}

/* XEP-0106 section 5.1, the JID examples: user input and escaped form. */
static const struct {
    const char *raw, *escaped;
} escapes[] = {
    { "space cadet", "space\\20cadet" },
    { "call me \"ishmael\"", "call\\20me\\20\\22ishmael\\22" },
    { "at&t guy", "at\\26t\\20guy" },
    { "d'artagnan", "d\\27artagnan" },
    { "/.fanboy", "\\2f.fanboy" },
    { "::foo::", "\\3a\\3afoo\\3a\\3a" },
    { "<foo>", "\\3cfoo\\3e" },
    { "user@host", "user\\40host" },
    { "c:\\net", "c\\3a\\net" },
    { "c:\\\\net", "c\\3a\\\\net" },
    { "c:\\cool stuff", "c\\3a\\cool\\20stuff" },
    { "c:\\5commas", "c\\3a\\5c5commas" },
    /* XEP-0106 4.3, the Wireless Village address. */
    { "\\3and\\2is\\5cool", "\\5c3and\\2is\\5c5cool" },
    /* XEP-0106 4.4: partial and unknown sequences are left alone. */
    { "\\2plus\\2is\\4", "\\2plus\\2is\\4" },
    { "foo\\bar", "foo\\bar" },
    { "foob\\41r", "foob\\41r" },
    /* The email example of XEP-0106 5.2. */
    { "here's_a_wild_&_/cr%zy/_address",
      "here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address" },
    { "foo\\", "foo\\" },
    { "\\", "\\" },
    { "\\5c", "\\5c5c" },
};

static void
test_escaping(void)
{
    for (size_t i = 0; i < XD_NELEM(escapes); i++) {
        char *e = NULL, *u;
        CHECK(xd_jid_escape(escapes[i].raw, &e) == 0 &&
                  strcmp(e, escapes[i].escaped) == 0,
              "escape case %zu: %s -> %s", i, escapes[i].raw, e ? e : "-");
        u = xd_jid_unescape(escapes[i].escaped);
        CHECK(strcmp(u, escapes[i].raw) == 0, "unescape case %zu: %s -> %s", i,
              escapes[i].escaped, u);
        /* The escaped form is a valid localpart as it is. */
        xd_jid *j = NULL;
        char *jid = xd_xasprintf("%s@example.com", escapes[i].escaped);
        CHECK(xd_jid_parse(jid, &j) == 0 &&
                  strcmp(xd_jid_local(j), escapes[i].escaped) == 0,
              "escaped localpart case %zu: %s", i, jid);
        xd_jid_free(j);
        free(jid);
        free(e);
        free(u);
    }

    /* XEP-0106 3.3: unescaping a JID for display. */
    char *u = xd_jid_unescape("tr\xc3\xa9ville\\40musketeers.lit");
    CHECK(strcmp(u, "tr\xc3\xa9ville@musketeers.lit") == 0, "treville: %s", u);
    free(u);
    /* Escapes are lower-case; "\2F" is not one... */
    u = xd_jid_unescape("a\\2Fb\\5C");
    CHECK(strcmp(u, "a\\2Fb\\5C") == 0, "upper-case hex unescaped: %s", u);
    free(u);
    /* ...but Nodeprep would make it one, so escaping protects it. */
    char *e = NULL;
    CHECK(xd_jid_escape("a\\2Fb", &e) == 0 && strcmp(e, "a\\5c2Fb") == 0,
          "upper-case hex escaped: %s", e ? e : "-");
    free(e);

    static const char *const refused[] = {
        "",        " leading",  "trailing ",    " ",
        "ctl\x01", "tab\there", "nbsp\xc2\xa0", "\xff",
    };
    for (size_t i = 0; i < XD_NELEM(refused); i++) {
        e = NULL;
        CHECK(xd_jid_escape(refused[i], &e) == XD_EINVAL && e == NULL,
              "escape refuses case %zu: \"%s\"", i, refused[i]);
    }
}

/* Preparing a prepared part changes nothing. */
static void
test_idempotent(void)
{
    static const char *const inputs[] = {
        "Juliet",
        "fu\xc3\x9f"
        "ball",
        "\xce\xa3",
        "henry\xe2\x85\xa3",
        "\xef\xbc\xa1",
        "B\xc3\xbc"
        "cher",
        "\xe2\x84\xab",
        "x\xcc\x81",
    };
    int (*const preps[])(const char *, char **) = { xd_jid_prep_local,
                                                    xd_jid_prep_domain,
                                                    xd_jid_prep_resource };

    for (size_t i = 0; i < XD_NELEM(inputs); i++)
        for (size_t k = 0; k < XD_NELEM(preps); k++) {
            char *once = NULL, *twice = NULL;
            if (preps[k](inputs[i], &once) != 0)
                continue;
            CHECK(preps[k](once, &twice) == 0 && strcmp(once, twice) == 0,
                  "prep %zu not idempotent on case %zu", k, i);
            free(once);
            free(twice);
        }
}

/* xd_jid_bare_of: the prepared bare form of a string, or an error. */
static void
test_bare_of(void)
{
    static const struct {
        const char *in, *bare; /* bare "": none */
        size_t len;
        int rc;
    } cases[] = {
        { "Juliet@Example.COM/balcony", "juliet@example.com", 64, 0 },
        { "juliet@example.com", "juliet@example.com", 64, 0 },
        { "juliet@example.com", "juliet@example.com", 19, 0 },
        { "juliet@example.com", "", 18, XD_ELIMIT },
        { "example.com/r", "example.com", 64, 0 },
        { "@example.com", "", 64, XD_EINVAL },
        { "", "", 64, XD_EINVAL },
        { NULL, "", 64, XD_EINVAL },
    };
    char buf[XD_JID_BARE_MAX];

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        memset(buf, 'x', sizeof(buf));
        int rc = xd_jid_bare_of(cases[i].in, buf, cases[i].len);
        CHECK(rc == cases[i].rc && strcmp(buf, cases[i].bare) == 0,
              "bare_of case %zu (%s): %d %s", i,
              cases[i].in ? cases[i].in : "NULL", rc, buf);
    }
    /* The longest JID there is fits XD_JID_BARE_MAX. */
    char in[XD_JID_BARE_MAX + 16];
    memset(in, 'a', XD_JID_PART_MAX);
    in[XD_JID_PART_MAX] = '@';
    memset(in + XD_JID_PART_MAX + 1, 'b', 63);
    in[XD_JID_PART_MAX + 64] = '\0';
    CHECK(xd_jid_bare_of(in, buf, sizeof(buf)) == 0 &&
              strlen(buf) == XD_JID_PART_MAX + 64,
          "a long bare JID fits XD_JID_BARE_MAX");
}

int
main(void)
{
    test_parse();
    test_fast_path_agrees();
    test_limits();
    test_forms();
    test_escaping();
    test_idempotent();
    test_bare_of();
    return check_report();
}
