/*
 * Unit tests for jid.c: the examples of RFC 7622 section 3.5, length
 * limits, preparation, bare/full, and XEP-0106 escaping.
 *
 * Preparation is RFC 6122 stringprep, the documented first step towards
 * PRECIS. Where the two differ on an RFC 7622 example the table holds the
 * stringprep result and says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/jid.h>

static int passed, failed;

static void
verdict(int ok, size_t i, const char *what, const char *in)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL %s case %zu: %s\n", what, i, in);
}

static int
same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int
main(void)
{
    static const struct {
        const char *in, *local, *domain, *resource;
        int rc;
    } cases[] = {
        /* RFC 7622 3.5.1: valid */
        { "juliet@example.com", "juliet", "example.com", NULL, 0 },
        { "juliet@example.com/foo", "juliet", "example.com", "foo", 0 },
        { "juliet@example.com/foo bar", "juliet", "example.com", "foo bar", 0 },
        { "juliet@example.com/foo@bar", "juliet", "example.com", "foo@bar", 0 },
        { "foo\\20bar@example.com", "foo\\20bar", "example.com", NULL, 0 },
        { "fussball@example.com", "fussball", "example.com", NULL, 0 },
        /* PRECIS keeps sharp s; stringprep's case folding makes it "ss":
         * a documented difference. */
        { "fu\xc3\x9f"
          "ball@example.com",
          "fussball", "example.com", NULL, 0 },
        { "\xcf\x80@example.com", "\xcf\x80", "example.com", NULL, 0 },
        /* Capital sigma: PRECIS and stringprep both fold to small sigma. */
        { "\xce\xa3@example.com/foo", "\xcf\x83", "example.com", "foo", 0 },
        { "\xcf\x83@example.com/foo", "\xcf\x83", "example.com", "foo", 0 },
        /* Final sigma: PRECIS keeps it; stringprep folds it to small
         * sigma: a documented difference. */
        { "\xcf\x82@example.com/foo", "\xcf\x83", "example.com", "foo", 0 },
        { "king@example.com/\xe2\x99\x9a", "king", "example.com",
          "\xe2\x99\x9a", 0 },
        { "example.com", NULL, "example.com", NULL, 0 },
        { "example.com/foobar", NULL, "example.com", "foobar", 0 },
        { "a.example.com/b@example.net", NULL, "a.example.com", "b@example.net",
          0 },
        /* RFC 7622 3.5.2: invalid */
        { "\"juliet\"@example.com", NULL, NULL, NULL, XD_EINVAL },
        { "foo bar@example.com", NULL, NULL, NULL, XD_EINVAL },
        { "@example.com/", NULL, NULL, NULL, XD_EINVAL },
        { "henry\xe2\x85\xa3@example.com", "henryiv", "example.com", NULL,
          0 }, /* PRECIS refuses U+2163; stringprep's NFKC maps it to "IV",
                  lower-cased: a documented difference */
        /* PRECIS refuses a symbol in a localpart; Nodeprep allows it: a
         * documented difference. */
        { "\xe2\x99\x9a@example.com", "\xe2\x99\x9a", "example.com", NULL, 0 },
        { "juliet@", NULL, NULL, NULL, XD_EINVAL },
        { "/foobar", NULL, NULL, NULL, XD_EINVAL },
        /* More */
        { "Juliet@Example.COM/Balcony", "juliet", "example.com", "Balcony", 0 },
        { "example.com.", NULL, "example.com", NULL, 0 },
        { "juliet@[::1]/x", "juliet", "[::1]", "x", 0 },
        { "juliet@127.0.0.1", "juliet", "127.0.0.1", NULL, 0 },
        { "juliet@[::1", NULL, NULL, NULL, XD_EINVAL },
        { "juliet@exa mple.com", NULL, NULL, NULL, XD_EINVAL },
        { "juliet@example..com", NULL, NULL, NULL, XD_EINVAL },
        { "juliet@example.com/", NULL, NULL, NULL, XD_EINVAL },
        { "a:b@example.com", NULL, NULL, NULL, XD_EINVAL },
        { "juliet@example.com/res\x01", NULL, NULL, NULL, XD_EINVAL },
        { "", NULL, NULL, NULL, XD_EINVAL },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_jid *j = NULL;
        int rc = xd_jid_parse(cases[i].in, &j);
        int ok = rc == cases[i].rc;
        if (ok && rc == 0)
            ok = same(xd_jid_local(j), cases[i].local) &&
                 same(xd_jid_domain(j), cases[i].domain) &&
                 same(xd_jid_resource(j), cases[i].resource);
        verdict(ok, i, "parse", cases[i].in);
        xd_jid_free(j);
    }

    /* Length limits: 1023 bytes per part. */
    char big[1100];
    memset(big, 'a', 1023);
    strcpy(big + 1023, "@example.com");
    xd_jid *j = NULL;
    verdict(xd_jid_parse(big, &j) == 0, 0, "limit", "1023-byte local");
    xd_jid_free(j);
    memset(big, 'a', 1024);
    strcpy(big + 1024, "@example.com");
    j = NULL;
    verdict(xd_jid_parse(big, &j) == XD_EINVAL && j == NULL, 1, "limit",
            "1024-byte local");

    /* Forms and comparison. */
    xd_jid *a = NULL, *b = NULL, *bare, *other = NULL;
    xd_jid_parse("Romeo@Montague.LIT/Orchard", &a);
    xd_jid_parse("romeo@montague.lit/Orchard", &b);
    verdict(xd_jid_equal(a, b) && xd_jid_bare_equal(a, b), 0, "equal",
            "case-folded local and domain");
    verdict(strcmp(xd_jid_str(a), "romeo@montague.lit/Orchard") == 0 &&
                strcmp(xd_jid_bare_str(a), "romeo@montague.lit") == 0,
            0, "forms", xd_jid_str(a));
    bare = xd_jid_bare(a);
    verdict(xd_jid_is_bare(bare) && !xd_jid_is_bare(a) &&
                strcmp(xd_jid_str(bare), "romeo@montague.lit") == 0,
            0, "bare", xd_jid_str(bare));
    int rc = xd_jid_with_resource(bare, "Garden", &other);
    verdict(rc == 0 && !xd_jid_equal(other, a) && xd_jid_bare_equal(other, a) &&
                strcmp(xd_jid_str(other), "romeo@montague.lit/Garden") == 0,
            0, "with_resource", "Garden");
    xd_jid *dup = xd_jid_dup(a);
    verdict(xd_jid_equal(dup, a), 0, "dup", xd_jid_str(dup));
    xd_jid_free(dup);
    xd_jid_free(a);
    xd_jid_free(b);
    xd_jid_free(bare);
    xd_jid_free(other);

    /* XEP-0106 section 5 examples: escaped and back. */
    static const struct {
        const char *raw, *escaped;
    } esc[] = {
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
    };
    for (size_t i = 0; i < XD_NELEM(esc); i++) {
        char *e = NULL;
        int ok = xd_jid_escape(esc[i].raw, &e) == 0 &&
                 strcmp(e, esc[i].escaped) == 0;
        verdict(ok, i, "escape", esc[i].raw);
        char *u = xd_jid_unescape(esc[i].escaped);
        verdict(strcmp(u, esc[i].raw) == 0, i, "unescape", esc[i].escaped);
        free(e);
        free(u);
    }
    char *e = NULL;
    verdict(xd_jid_escape(" leading", &e) == XD_EINVAL && e == NULL, 0,
            "escape", "leading space refused");
    verdict(xd_jid_escape("", &e) == XD_EINVAL, 0, "escape", "empty");

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
