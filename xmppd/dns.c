/*
 * dns.c: where to connect for a remote domain (RFC 6120 3.2). The resolver
 * sits behind s2s_dns_lookup(), which answers through a callback so that
 * an asynchronous one (c-ares SRV lookups) can take its place. Today: the
 * operator's static map (s2s_static_hosts: DOMAIN=HOST:PORT entries)
 * first, else the domain itself on port 5269, whose address the stream's
 * connect resolves (A/AAAA through evdns, never blocking); with
 * s2s_static_only, nothing else.
 */
#define XD_LOG_AREA "s2s"
#include <stdlib.h>
#include <string.h>

#include <xmppd/log.h>

#include "router.h"

#define S2S_DEFAULT_PORT 5269

struct dns_static {
    char *host;
    unsigned port;
};

static void
free_entry(const char *key, void *value, void *arg)
{
    struct dns_static *e = value;

    (void)key;
    (void)arg;
    free(e->host);
    free(e);
}

/* Parses one DOMAIN=HOST:PORT (HOST may be [IPv6]): 0, or XD_EINVAL. */
static int
parse_entry(struct router *r, char *item)
{
    char *eq = strchr(item, '=');
    char *domain = NULL;

    if (eq == NULL)
        return XD_EINVAL;
    *eq = '\0';
    char *host = eq + 1, *colon = strrchr(host, ':');
    if (colon == NULL || colon == host ||
        xd_jid_prep_domain(item, &domain) != 0)
        return XD_EINVAL;
    *colon = '\0';
    char *end = NULL;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port == 0 || port > 65535) {
        free(domain);
        return XD_EINVAL;
    }
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        host++;
    }
    struct dns_static *e = xd_xcalloc(1, sizeof(*e));
    e->host = xd_xstrdup(host);
    e->port = (unsigned)port;
    struct dns_static *old = xd_map_put(r->s2s_static, domain, e);
    if (old != NULL)
        free_entry(NULL, old, NULL);
    free(domain);
    return 0;
}

int
s2s_dns_init(struct router *r)
{
    const char *list = r->conf.s2s_static_hosts;
    char *copy = xd_xstrdup(list ? list : ""), *save = NULL;
    int rc = 0;

    r->s2s_static = xd_map_new();
    for (char *item = strtok_r(copy, " \t,", &save); item != NULL;
         item = strtok_r(NULL, " \t,", &save)) {
        char *text = xd_xstrdup(item);
        if (parse_entry(r, item) != 0) {
            xd_log_warnx("s2s_static_hosts: '%s' is not DOMAIN=HOST:PORT",
                         text);
            rc = XD_EINVAL;
        }
        free(text);
    }
    free(copy);
    return rc;
}

void
s2s_dns_lookup(struct router *r, const char *domain, s2s_dns_cb cb, void *arg)
{
    const struct dns_static *e =
        r->s2s_static ? xd_map_get(r->s2s_static, domain) : NULL;

    if (e != NULL)
        cb(arg, 0, e->host, e->port);
    else if (r->conf.s2s_static_only)
        cb(arg, XD_ENOTFOUND, NULL, 0);
    else
        cb(arg, 0, domain, S2S_DEFAULT_PORT);
}

void
s2s_dns_free(struct router *r)
{
    if (r->s2s_static == NULL)
        return;
    xd_map_each(r->s2s_static, free_entry, NULL);
    xd_map_free(r->s2s_static);
    r->s2s_static = NULL;
}
