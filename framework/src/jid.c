/*
 * jid.c: XMPP addresses (RFC 7622). Parts are prepared with libidn's
 * stringprep profiles (RFC 6122's Nodeprep, Nameprep, Resourceprep), the
 * documented first step towards PRECIS; ASCII input, by far the most
 * common, takes a fast path with the same result.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <stringprep.h>

#include <xmppd/buf.h>
#include <xmppd/jid.h>

struct xd_jid {
    const char *local; /* NULL when absent */
    const char *domain;
    const char *resource; /* NULL when absent */
    const char *full;
    const char *bare;
    char buf[];
};

static int
is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* Runs a libidn profile on a copy; the caller owns *out. */
static int
stringprep_copy(const char *in, const Stringprep_profile *profile, char **out)
{
    size_t cap = strlen(in) * 4 + 16;
    char *buf = xd_xmalloc(cap);

    memcpy(buf, in, strlen(in) + 1);
    if (stringprep(buf, cap, 0, profile) != STRINGPREP_OK) {
        free(buf);
        return XD_EINVAL;
    }
    *out = buf;
    return 0;
}

static int
check_len(char *s, char **out)
{
    size_t len = strlen(s);

    if (len == 0 || len > XD_JID_PART_MAX) {
        free(s);
        return XD_EINVAL;
    }
    *out = s;
    return 0;
}

int
xd_jid_prep_local(const char *in, char **out)
{
    char *s;

    if (!is_ascii(in)) {
        if (stringprep_copy(in, stringprep_xmpp_nodeprep, &s) != 0)
            return XD_EINVAL;
        return check_len(s, out);
    }
    s = xd_xstrdup(in);
    for (char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        /* Nodeprep: ASCII space and controls are prohibited (C.1.1,
         * C.2.1), and so are the characters of RFC 6122 A.5. */
        if (c <= 0x20 || c == 0x7f || strchr("\"&'/:<>@", c) != NULL) {
            free(s);
            return XD_EINVAL;
        }
        if (c >= 'A' && c <= 'Z')
            *p = (char)(c + 32);
    }
    return check_len(s, out);
}

int
xd_jid_prep_resource(const char *in, char **out)
{
    char *s;

    if (!is_ascii(in)) {
        if (stringprep_copy(in, stringprep_xmpp_resourceprep, &s) != 0)
            return XD_EINVAL;
        return check_len(s, out);
    }
    /* Resourceprep maps nothing in ASCII and prohibits only controls. */
    for (const char *p = in; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return XD_EINVAL;
    return check_len(xd_xstrdup(in), out);
}

static int
valid_hostname(const char *s)
{
    size_t label = 0;

    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            if (label == 0 || label > 63)
                return 0;
            if (*p == '\0')
                return 1;
            label = 0;
            continue;
        }
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c >= 0x80))
            return 0;
        label++;
    }
}

int
xd_jid_prep_domain(const char *in, char **out)
{
    size_t len = strlen(in);
    char *s;

    if (len > 0 && in[0] == '[') {
        /* An IPv6 literal (RFC 7622 3.2). */
        struct in6_addr a6;
        char addr[64];
        if (len < 3 || len - 2 >= sizeof(addr) || in[len - 1] != ']')
            return XD_EINVAL;
        memcpy(addr, in + 1, len - 2);
        addr[len - 2] = '\0';
        if (inet_pton(AF_INET6, addr, &a6) != 1)
            return XD_EINVAL;
        *out = xd_xstrdup(in);
        return 0;
    }
    if (len > 1 && in[len - 1] == '.')
        len--; /* a fully qualified name's final dot is not part of it */
    s = xd_xstrndup(in, len);
    if (!is_ascii(s)) {
        char *prepped;
        int rc = stringprep_copy(s, stringprep_nameprep, &prepped);
        free(s);
        if (rc != 0)
            return XD_EINVAL;
        s = prepped;
    } else {
        for (char *p = s; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
    }
    if (!valid_hostname(s)) {
        free(s);
        return XD_EINVAL;
    }
    return check_len(s, out);
}

/* Makes the JID from prepared parts (takes ownership of them). */
static xd_jid *
assemble(char *local, char *domain, char *resource)
{
    size_t ll = local ? strlen(local) : 0, dl = strlen(domain);
    size_t rl = resource ? strlen(resource) : 0;
    size_t bare_len = (local ? ll + 1 : 0) + dl;
    size_t full_len = bare_len + (resource ? rl + 1 : 0);
    xd_jid *j =
        xd_xmalloc(sizeof(*j) + ll + dl + rl + 3 + full_len + 1 + bare_len + 1);
    char *p = j->buf;

    j->local = NULL;
    if (local) {
        memcpy(p, local, ll + 1);
        j->local = p;
        p += ll + 1;
    }
    memcpy(p, domain, dl + 1);
    j->domain = p;
    p += dl + 1;
    j->resource = NULL;
    if (resource) {
        memcpy(p, resource, rl + 1);
        j->resource = p;
        p += rl + 1;
    }
    j->bare = p;
    if (local) {
        memcpy(p, local, ll);
        p[ll] = '@';
        p += ll + 1;
    }
    memcpy(p, domain, dl + 1);
    p += dl + 1;
    j->full = resource ? p : j->bare;
    if (resource) {
        memcpy(p, j->bare, bare_len);
        p[bare_len] = '/';
        memcpy(p + bare_len + 1, resource, rl + 1);
    }
    free(local);
    free(domain);
    free(resource);
    return j;
}

int
xd_jid_make(const char *local, const char *domain, const char *resource,
            xd_jid **out)
{
    char *l = NULL, *d = NULL, *r = NULL;

    if (domain == NULL || (local && xd_jid_prep_local(local, &l) != 0) ||
        xd_jid_prep_domain(domain, &d) != 0 ||
        (resource && xd_jid_prep_resource(resource, &r) != 0)) {
        free(l);
        free(d);
        return XD_EINVAL;
    }
    *out = assemble(l, d, r);
    return 0;
}

int
xd_jid_parse(const char *s, xd_jid **out)
{
    const char *slash = strchr(s, '/');
    size_t head = slash ? (size_t)(slash - s) : strlen(s);
    const char *at = memchr(s, '@', head);
    char *local = NULL, *domain;
    int rc;

    if (slash != NULL && slash[1] == '\0')
        return XD_EINVAL; /* empty resource */
    if (at != NULL) {
        if (at == s)
            return XD_EINVAL; /* empty localpart */
        local = xd_xstrndup(s, (size_t)(at - s));
        domain = xd_xstrndup(at + 1, head - (size_t)(at + 1 - s));
    } else {
        domain = xd_xstrndup(s, head);
    }
    rc = xd_jid_make(local, domain, slash ? slash + 1 : NULL, out);
    free(local);
    free(domain);
    return rc;
}

xd_jid *
xd_jid_dup(const xd_jid *j)
{
    return assemble(xd_xstrdup(j->local), xd_xstrdup(j->domain),
                    xd_xstrdup(j->resource));
}

xd_jid *
xd_jid_bare(const xd_jid *j)
{
    return assemble(xd_xstrdup(j->local), xd_xstrdup(j->domain), NULL);
}

int
xd_jid_with_resource(const xd_jid *j, const char *resource, xd_jid **out)
{
    char *r = NULL;

    if (resource != NULL && xd_jid_prep_resource(resource, &r) != 0)
        return XD_EINVAL;
    *out = assemble(xd_xstrdup(j->local), xd_xstrdup(j->domain), r);
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

/* XEP-0106: the characters a localpart cannot hold and their escapes. */
static const char escapable[] = " \"&'/:<>@\\";

static const char *
escape_of(char c)
{
    static const char *const codes[] = {
        "\\20", "\\22", "\\26", "\\27", "\\2f",
        "\\3a", "\\3c", "\\3e", "\\40", "\\5c"
    };
    const char *p = strchr(escapable, c);

    return p && c ? codes[p - escapable] : NULL;
}

/* True when s starts with one of the ten escape sequences. */
static int
is_escape(const char *s)
{
    for (const char *c = escapable; *c; c++)
        if (strncmp(s, escape_of(*c), 3) == 0)
            return 1;
    return 0;
}

int
xd_jid_escape(const char *in, char **out)
{
    size_t len = strlen(in);
    xd_buf b = XD_BUF_INIT;
    char *prepped = NULL;

    /* XEP-0106 3.2: leading and trailing spaces cannot be escaped. */
    if (len == 0 || in[0] == ' ' || in[len - 1] == ' ')
        return XD_EINVAL;
    for (const char *p = in; *p; p++) {
        const char *e = escape_of(*p);
        /* A backslash is escaped only where it would start an escape. */
        if (e != NULL && (*p != '\\' || is_escape(p)))
            xd_buf_append(&b, e, 3);
        else
            xd_buf_append(&b, p, 1);
    }
    char *s = xd_buf_steal(&b);
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
        if (*p == '\\' && is_escape(p)) {
            for (const char *c = escapable; *c; c++)
                if (strncmp(p, escape_of(*c), 3) == 0) {
                    xd_buf_append(&b, c, 1);
                    break;
                }
            p += 3;
        } else {
            xd_buf_append(&b, p++, 1);
        }
    }
    return xd_buf_steal(&b);
}
