/*
 * libFuzzer target for jid.c. The input, as a C string, is parsed as a
 * JID, prepared as each kind of part, and escaped as a would-be localpart;
 * any broken invariant abort()s:
 * - a JID that parses reads back from its string form as the same JID,
 *   its parts are already prepared, and its bare form is bare and equal
 *   to it as a bare JID;
 * - preparing a prepared part changes nothing;
 * - XEP-0106 unescaping undoes escaping, and for ASCII input it still
 *   does after Nodeprep has lower-cased the escaped form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/jid.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

static int
same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void
check_jid(const xd_jid *j)
{
    xd_jid *again = NULL, *bare, *with = NULL, *dup;
    char *p = NULL;

    check(xd_jid_parse(xd_jid_str(j), &again) == 0);
    check(xd_jid_equal(j, again) &&
          strcmp(xd_jid_str(j), xd_jid_str(again)) == 0);
    check(same(xd_jid_local(j), xd_jid_local(again)) &&
          strcmp(xd_jid_domain(j), xd_jid_domain(again)) == 0 &&
          same(xd_jid_resource(j), xd_jid_resource(again)));
    xd_jid_free(again);

    if (xd_jid_local(j) != NULL) {
        check(xd_jid_prep_local(xd_jid_local(j), &p) == 0 &&
              strcmp(p, xd_jid_local(j)) == 0);
        free(p);
    }
    check(xd_jid_prep_domain(xd_jid_domain(j), &p) == 0 &&
          strcmp(p, xd_jid_domain(j)) == 0);
    free(p);

    bare = xd_jid_bare(j);
    check(xd_jid_is_bare(bare) && xd_jid_bare_equal(bare, j) &&
          strcmp(xd_jid_str(bare), xd_jid_bare_str(j)) == 0);
    check(xd_jid_with_resource(bare, xd_jid_resource(j), &with) == 0 &&
          xd_jid_equal(with, j));
    check(xd_jid_is_bare(j) == xd_jid_equal(bare, j));
    xd_jid_free(with);
    xd_jid_free(bare);

    dup = xd_jid_dup(j);
    check(xd_jid_equal(dup, j) &&
          strcmp(xd_jid_bare_str(dup), xd_jid_bare_str(j)) == 0);
    xd_jid_free(dup);
}

static void
check_prep(int (*prep)(const char *, char **), const char *s)
{
    char *once = NULL, *twice = NULL;

    if (prep(s, &once) != 0)
        return;
    check(prep(once, &twice) == 0 && strcmp(once, twice) == 0);
    free(once);
    free(twice);
}

static void
check_escape(const char *s)
{
    char *esc = NULL, *back, *prepped = NULL;
    int ascii = 1;

    if (xd_jid_escape(s, &esc) != 0)
        return;
    back = xd_jid_unescape(esc);
    check(strcmp(back, s) == 0);
    free(back);
    /* The escaped form is a valid localpart (xd_jid_escape promises so);
     * for ASCII, Nodeprep only lower-cases it, and unescaping that gives
     * the lower-cased input. */
    check(xd_jid_prep_local(esc, &prepped) == 0);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p >= 0x80)
            ascii = 0;
    if (ascii) {
        back = xd_jid_unescape(prepped);
        check(strlen(back) == strlen(s));
        for (size_t i = 0; s[i]; i++) {
            char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
            check(back[i] == c);
        }
        free(back);
    }
    free(prepped);
    free(esc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    xd_jid *j = NULL;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    if (xd_jid_parse(s, &j) == 0) {
        check(j != NULL);
        check_jid(j);
        xd_jid_free(j);
    }
    check_prep(xd_jid_prep_local, s);
    check_prep(xd_jid_prep_domain, s);
    check_prep(xd_jid_prep_resource, s);
    check_escape(s);
    free(xd_jid_unescape(s));
    free(s);
    return 0;
}
