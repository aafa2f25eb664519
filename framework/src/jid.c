/*
 * jid.c: XMPP addresses (RFC 7622). Parts are prepared with libidn's
 * stringprep profiles (RFC 6122's Nodeprep, Nameprep, Resourceprep), the
 * documented first step towards PRECIS; ASCII input, by far the most
 * common, takes a fast path with the same result (tests/unit/test_jid.c
 * compares the two on every ASCII character).
 *
 * Domain parts must, once prepared, survive IDNA2003 ToASCII (RFC 6122
 * 2.2) and then consist of letters, digits and hyphens in labels of 1 to
 * 63 bytes. Unlike STD3 we allow a leading or trailing hyphen in a label:
 * XMPP does not need that rule and some test and internal hosts break it.
 * IPv4 literals pass as ordinary names; IPv6 literals are kept in brackets
 * in their canonical text form (RFC 5952, via inet_ntop).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idna.h>
#include <stringprep.h>

#include <xmppd/buf.h>
#include <xmppd/jid.h>

/* An input part longer than this is refused before preparation. Only a
 * string full of characters that preparation deletes (soft hyphens, zero
 * width joiners) could still fit in XD_JID_PART_MAX afterwards, and
 * nobody needs one; the bound keeps libidn's work proportionate. */
#define PART_INPUT_MAX (8 * XD_JID_PART_MAX)

/* The parts live in buf, after the struct, in one allocation:
 *   bare "local@domain\0", then full "local@domain/resource\0" when there
 *   is a resource, then "local\0" when there is a localpart.
 * domain points into bare and resource into full, so each part is still
 * NUL-terminated on its own. */
struct xd_jid {
    const char *local; /* NULL when absent */
    const char *domain;
    const char *resource; /* NULL when absent */
    const char *full;
    const char *bare;
    size_t local_len, domain_len, resource_len;
    char buf[];
};

enum part { PART_LOCAL, PART_DOMAIN, PART_RESOURCE };

/* A prepared part: at most XD_JID_PART_MAX bytes plus the NUL. */
struct prepped {
    size_t len;
    char s[XD_JID_PART_MAX + 1];
};

static int
is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

static char
ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* Letters, digits and hyphens in dot-separated labels of 1 to 63 bytes. */
static int
valid_ldh(const char *s, size_t len)
{
    size_t label = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (label == 0 || label > 63)
                return 0;
            label = 0;
            continue;
        }
        char c = ascii_lower(s[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
        label++;
    }
    return 1;
}

static int
store(struct prepped *out, const char *s, size_t len)
{
    if (len == 0 || len > XD_JID_PART_MAX)
        return XD_EINVAL;
    memcpy(out->s, s, len);
    out->s[len] = '\0';
    out->len = len;
    return 0;
}

/*
 * The ASCII fast paths. Each gives exactly what the libidn profile gives
 * for ASCII input: Nodeprep lower-cases and prohibits controls, space and
 * the eight characters of RFC 6122 A.5; Resourceprep maps nothing in ASCII
 * and prohibits only controls; Nameprep lower-cases and prohibits nothing
 * in ASCII (what it lets through, valid_ldh refuses).
 */
static int
fast_local(const char *in, size_t len, struct prepped *out)
{
    if (len == 0 || len > XD_JID_PART_MAX)
        return XD_EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= 0x20 || c == 0x7f || strchr("\"&'/:<>@", c) != NULL)
            return XD_EINVAL;
        out->s[i] = ascii_lower((char)c);
    }
    out->s[len] = '\0';
    out->len = len;
    return 0;
}

static int
fast_resource(const char *in, size_t len, struct prepped *out)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
            return XD_EINVAL;
    return store(out, in, len);
}

static int
fast_domain(const char *in, size_t len, struct prepped *out)
{
    /* The final dot of a fully qualified name is not part of the domain
     * (RFC 7622 3.2); only one is removed, "a.." stays invalid. */
    if (len > 1 && in[len - 1] == '.')
        len--;
    if (len == 0 || len > XD_JID_PART_MAX || !valid_ldh(in, len))
        return XD_EINVAL;
    for (size_t i = 0; i < len; i++)
        out->s[i] = ascii_lower(in[i]);
    out->s[len] = '\0';
    out->len = len;
    return 0;
}

/* "[v6 address]" to its canonical form, brackets kept. */
static int
ip6_literal(const char *in, size_t len, struct prepped *out)
{
    struct in6_addr a6;
    char addr[INET6_ADDRSTRLEN + 1];

    if (len < 3 || in[len - 1] != ']' || len - 2 >= sizeof(addr))
        return XD_EINVAL;
    memcpy(addr, in + 1, len - 2);
    addr[len - 2] = '\0';
    if (inet_pton(AF_INET6, addr, &a6) != 1 ||
        inet_ntop(AF_INET6, &a6, addr, sizeof(addr)) == NULL)
        return XD_EINVAL;
    out->len = (size_t)snprintf(out->s, sizeof(out->s), "[%s]", addr);
    return 0;
}

/* IDNA2003 treats U+3002 IDEOGRAPHIC FULL STOP as a label separator
 * (Nameprep already maps the fullwidth forms to it or to '.'). Replaces
 * it with '.' in place; returns the new length. */
static size_t
map_ideographic_dots(char *s, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        if (i + 2 < len && (unsigned char)s[i] == 0xe3 &&
            (unsigned char)s[i + 1] == 0x80 &&
            (unsigned char)s[i + 2] == 0x82) {
            s[o++] = '.';
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

/* The libidn path for input with non-ASCII bytes. libidn refuses invalid
 * UTF-8 (STRINGPREP_ICONV_ERROR). Unassigned code points are allowed
 * (flags 0), as RFC 3454 7 allows for queries and as the libidn XMPP
 * macros do: refusing them would refuse every newer emoji in resources. */
static int
slow_prep(enum part kind, const char *in, size_t len, struct prepped *out)
{
    static const char *const profiles[] = { "Nodeprep", "Nameprep",
                                            "Resourceprep" };
    char *copy = xd_xstrndup(in, len), *prepped = NULL, *ace = NULL;
    int rc = XD_EINVAL;

    if (strlen(copy) != len ||
        stringprep_profile(copy, &prepped, profiles[kind], 0) != STRINGPREP_OK)
        goto fail;
    len = strlen(prepped);
    if (kind == PART_DOMAIN) {
        len = map_ideographic_dots(prepped, len);
        if (len > 1 && prepped[len - 1] == '.')
            prepped[--len] = '\0';
        /* RFC 6122 2.2: each label must pass ToASCII; its output must
         * then be a host name (what STD3 would check, minus the hyphen
         * rule, as in fast_domain). */
        if (len == 0 ||
            idna_to_ascii_8z(prepped, &ace, IDNA_ALLOW_UNASSIGNED) !=
                IDNA_SUCCESS ||
            !valid_ldh(ace, strlen(ace)))
            goto fail;
    }
    rc = store(out, prepped, len);
fail:
    free(copy);
    free(prepped);
    free(ace);
    return rc;
}

static int
prep_once(enum part kind, const char *in, size_t len, struct prepped *out)
{
    if (len == 0 || len > PART_INPUT_MAX)
        return XD_EINVAL;
    if (kind == PART_DOMAIN && in[0] == '[')
        return ip6_literal(in, len, out);
    if (!is_ascii(in, len))
        return slow_prep(kind, in, len, out);
    switch (kind) {
    case PART_LOCAL:
        return fast_local(in, len, out);
    case PART_DOMAIN:
        return fast_domain(in, len, out);
    case PART_RESOURCE:
        return fast_resource(in, len, out);
    }
    return XD_EINVAL;
}

/* Prepares one part. Stringprep is not idempotent for every string (NFKC
 * after case folding can produce new foldable characters), and a JID must
 * read back as itself from its string form, so non-ASCII results are
 * prepared a second time and refused unless they are stable. */
static int
prep(enum part kind, const char *in, size_t len, struct prepped *out)
{
    struct prepped again;

    if (prep_once(kind, in, len, out) != 0)
        return XD_EINVAL;
    if (is_ascii(in, len))
        return 0;
    if (prep_once(kind, out->s, out->len, &again) != 0 ||
        again.len != out->len || memcmp(again.s, out->s, out->len) != 0)
        return XD_EINVAL;
    return 0;
}

static int
prep_dup(enum part kind, const char *in, char **out)
{
    struct prepped p;

    if (in == NULL || prep(kind, in, strlen(in), &p) != 0)
        return XD_EINVAL;
    *out = xd_xstrndup(p.s, p.len);
    return 0;
}

int
xd_jid_prep_local(const char *in, char **out)
{
    return prep_dup(PART_LOCAL, in, out);
}

int
xd_jid_prep_domain(const char *in, char **out)
{
    return prep_dup(PART_DOMAIN, in, out);
}

int
xd_jid_prep_resource(const char *in, char **out)
{
    return prep_dup(PART_RESOURCE, in, out);
}

/* Builds a JID from prepared parts (local and resource may be NULL) in a
 * single allocation. */
static xd_jid *
assemble(const char *local, size_t ll, const char *domain, size_t dl,
         const char *resource, size_t rl)
{
    size_t bare_len = (local ? ll + 1 : 0) + dl;
    size_t size = bare_len + 1;
    xd_jid *j;
    char *p;

    if (resource)
        size += bare_len + 1 + rl + 1;
    if (local)
        size += ll + 1;
    j = xd_xmalloc(sizeof(*j) + size);
    p = j->buf;

    j->bare = p;
    if (local) {
        memcpy(p, local, ll);
        p[ll] = '@';
        p += ll + 1;
    }
    j->domain = p;
    memcpy(p, domain, dl);
    p[dl] = '\0';
    p += dl + 1;

    j->full = j->bare;
    j->resource = NULL;
    if (resource) {
        j->full = p;
        memcpy(p, j->bare, bare_len);
        p[bare_len] = '/';
        p += bare_len + 1;
        j->resource = p;
        memcpy(p, resource, rl);
        p[rl] = '\0';
        p += rl + 1;
    }

    j->local = NULL;
    if (local) {
        j->local = p;
        memcpy(p, local, ll);
        p[ll] = '\0';
    }
    j->local_len = local ? ll : 0;
    j->domain_len = dl;
    j->resource_len = resource ? rl : 0;
    return j;
}

/* Prepares the parts given as (pointer, length) spans; NULL pointers are
 * absent parts. */
static int
make_spans(const char *local, size_t ll, const char *domain, size_t dl,
           const char *resource, size_t rl, xd_jid **out)
{
    struct prepped l, d, r;

    l.len = r.len = 0;
    if ((local && prep(PART_LOCAL, local, ll, &l) != 0) ||
        prep(PART_DOMAIN, domain, dl, &d) != 0 ||
        (resource && prep(PART_RESOURCE, resource, rl, &r) != 0))
        return XD_EINVAL;
    *out = assemble(local ? l.s : NULL, l.len, d.s, d.len,
                    resource ? r.s : NULL, r.len);
    return 0;
}

int
xd_jid_make(const char *local, const char *domain, const char *resource,
            xd_jid **out)
{
    if (domain == NULL)
        return XD_EINVAL;
    return make_spans(local, local ? strlen(local) : 0, domain, strlen(domain),
                      resource, resource ? strlen(resource) : 0, out);
}

/* RFC 7622 3.1: the resourcepart is everything after the first '/' (it
 * may hold '@' and '/'); the localpart is what precedes the first '@'
 * before that. A separator with nothing after (or before) it is an error,
 * which prep() reports through the empty part. */
int
xd_jid_parse(const char *s, xd_jid **out)
{
    const char *slash, *at, *domain;
    size_t head;

    if (s == NULL)
        return XD_EINVAL;
    slash = strchr(s, '/');
    head = slash ? (size_t)(slash - s) : strlen(s);
    at = memchr(s, '@', head);
    domain = at ? at + 1 : s;
    return make_spans(at ? s : NULL, at ? (size_t)(at - s) : 0, domain,
                      head - (size_t)(domain - s), slash ? slash + 1 : NULL,
                      slash ? strlen(slash + 1) : 0, out);
}

xd_jid *
xd_jid_dup(const xd_jid *j)
{
    return assemble(j->local, j->local_len, j->domain, j->domain_len,
                    j->resource, j->resource_len);
}

xd_jid *
xd_jid_bare(const xd_jid *j)
{
    return assemble(j->local, j->local_len, j->domain, j->domain_len, NULL, 0);
}

int
xd_jid_with_resource(const xd_jid *j, const char *resource, xd_jid **out)
{
    struct prepped r;

    if (resource != NULL &&
        prep(PART_RESOURCE, resource, strlen(resource), &r) != 0)
        return XD_EINVAL;
    *out = assemble(j->local, j->local_len, j->domain, j->domain_len,
                    resource ? r.s : NULL, resource ? r.len : 0);
    return 0;
}

void
xd_jid_free(xd_jid *j)
{
    free(j);
}

const char *
xd_jid_local(const xd_jid *j)
{
    return j->local;
}

const char *
xd_jid_domain(const xd_jid *j)
{
    return j->domain;
}

const char *
xd_jid_resource(const xd_jid *j)
{
    return j->resource;
}

const char *
xd_jid_str(const xd_jid *j)
{
    return j->full;
}

const char *
xd_jid_bare_str(const xd_jid *j)
{
    return j->bare;
}

int
xd_jid_bare_of(const char *s, char *buf, size_t len)
{
    xd_jid *j = NULL;
    int rc = XD_EINVAL;

    if (len > 0)
        buf[0] = '\0';
    if (s != NULL && xd_jid_parse(s, &j) == 0) {
        rc = strlen(j->bare) < len ? 0 : XD_ELIMIT;
        if (rc == 0)
            memcpy(buf, j->bare, strlen(j->bare) + 1);
    }
    xd_jid_free(j);
    return rc;
}

int
xd_jid_is_bare(const xd_jid *j)
{
    return j->resource == NULL;
}

int
xd_jid_equal(const xd_jid *a, const xd_jid *b)
{
    return strcmp(a->full, b->full) == 0;
}

int
xd_jid_bare_equal(const xd_jid *a, const xd_jid *b)
{
    return strcmp(a->bare, b->bare) == 0;
}

/*
 * XEP-0106. The ten characters and their escapes, in the same order; the
 * escapes are lower-case, and unescaping recognises only these exact
 * sequences ("CASE IS SIGNIFICANT", XEP-0106 3.1).
 */
static const char escapable[] = " \"&'/:<>@\\";
static const char *const escape_codes[] = { "\\20", "\\22", "\\26", "\\27",
                                            "\\2f", "\\3a", "\\3c", "\\3e",
                                            "\\40", "\\5c" };

/* The character that the escape at s stands for, or 0. With fold set the
 * hex digits match in either case: see xd_jid_escape. */
static char
escaped_char(const char *s, int fold)
{
    if (s[0] != '\\' || s[1] == '\0' || s[2] == '\0')
        return 0;
    for (size_t i = 0; i < XD_NELEM(escape_codes); i++) {
        const char *c = escape_codes[i];
        if (fold ? ascii_lower(s[1]) == c[1] && ascii_lower(s[2]) == c[2]
                 : s[1] == c[1] && s[2] == c[2])
            return escapable[i];
    }
    return 0;
}

/* XEP-0106 4.2: every disallowed character is escaped; a backslash only
 * when it starts what would be read as an escape, so that "c:\net" stays
 * readable as "c\3a\net". "\2F" counts as an escape here although
 * unescaping would keep it: Nodeprep lower-cases the localpart, after
 * which it would be one. A leading or trailing space is refused rather
 * than escaped (XEP-0106 3.2: \20 must not begin or end a localpart). */
int
xd_jid_escape(const char *in, char **out)
{
    size_t len = in ? strlen(in) : 0;
    xd_buf b = XD_BUF_INIT;
    char *s, *prepped = NULL;

    if (len == 0 || in[0] == ' ' || in[len - 1] == ' ')
        return XD_EINVAL;
    for (const char *p = in; *p; p++) {
        const char *c = strchr(escapable, *p);
        if (c != NULL && (*p != '\\' || escaped_char(p, 1) != 0))
            xd_buf_append(&b, escape_codes[c - escapable], 3);
        else
            xd_buf_append(&b, p, 1);
    }
    s = xd_buf_steal(&b);
    if (xd_jid_prep_local(s, &prepped) != 0) {
        free(s);
        return XD_EINVAL;
    }
    free(prepped);
    *out = s;
    return 0;
}

char *
xd_jid_unescape(const char *in)
{
    xd_buf b = XD_BUF_INIT;

    for (const char *p = in; *p;) {
        char c = escaped_char(p, 0);
        if (c != 0) {
            xd_buf_append(&b, &c, 1);
            p += 3;
        } else {
            xd_buf_append(&b, p++, 1);
        }
    }
    return xd_buf_steal(&b);
}
