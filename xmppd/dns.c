/*
 * dns.c: where to connect for a remote domain (RFC 6120 3.2). The
 * operator's static map (s2s_static_hosts: DOMAIN=HOST:PORT entries) wins;
 * with s2s_static_only nothing else is reached. Otherwise c-ares, on the
 * router's event loop (its socket-state callback drives libevent events, a
 * timer its time-outs): the SRV records of _xmpp-server._tcp.DOMAIN in RFC
 * 2782 order (priority, then weighted random), else the domain itself on
 * port 5269; each target's first address (A/AAAA) is looked up too, so
 * the stream connects to address literals. s2s_dns_server points c-ares
 * at other servers than resolv.conf's (tests).
 */
#define XD_LOG_AREA "s2s"
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <xmppd/log.h>

#include "router.h"

#define S2S_DEFAULT_PORT 5269

static int resolver_init(struct router *r);
static void resolver_free(struct router *r);

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
    if (rc == 0 && !r->conf.s2s_static_only)
        rc = resolver_init(r);
    return rc;
}

/* ------------------------------------------------------------------ */
/* RFC 2782 ordering */

/* Stable insertion sort (few records): priority ascending, weight 0 first
 * within a priority (RFC 2782), the answer's order otherwise. */
static void
sort_priority(struct s2s_srv *recs, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct s2s_srv t = recs[i];
        size_t j = i;
        while (j > 0 && (recs[j - 1].priority > t.priority ||
                         (recs[j - 1].priority == t.priority &&
                          recs[j - 1].weight != 0 && t.weight == 0))) {
            recs[j] = recs[j - 1];
            j--;
        }
        recs[j] = t;
    }
}

void
s2s_srv_order(struct s2s_srv *recs, size_t n, unsigned (*rnd)(void *),
              void *arg)
{
    sort_priority(recs, n);
    for (size_t i = 0; i < n;) {
        size_t end = i;
        while (end < n && recs[end].priority == recs[i].priority)
            end++;
        /* Fill position i..end-1 by weighted picks among the rest. */
        for (size_t k = i; k < end; k++) {
            unsigned long long sum = 0;
            for (size_t j = k; j < end; j++)
                sum += recs[j].weight;
            unsigned long long pick = sum ? (unsigned long long)rnd(arg) %
                                                (sum + 1)
                                          : 0,
                               run = 0;
            size_t chosen = k;
            for (size_t j = k; j < end; j++) {
                run += recs[j].weight;
                if (run >= pick) {
                    chosen = j;
                    break;
                }
            }
            struct s2s_srv t = recs[k];
            recs[k] = recs[chosen];
            recs[chosen] = t;
        }
        i = end;
    }
}

static unsigned
secure_rnd(void *arg)
{
    unsigned v = 0;

    (void)arg;
    if (xd_random_bytes(&v, sizeof(v)) != 0)
        v = 0;
    return v;
}

/* ------------------------------------------------------------------ */
/* c-ares on the loop */

struct ares_sock {
    ares_socket_t fd;
    struct event *ev;
};

struct s2s_resolver {
    struct router *r;
    ares_channel ch;
    struct event *timer;
    struct ares_sock *socks;
    size_t nsocks;
};

struct dns_target {
    struct s2s_dns_query *q;
    char *host;
    unsigned port;
    char addr[INET6_ADDRSTRLEN];
};

struct s2s_dns_query {
    struct s2s_resolver *res;
    char *domain;
    s2s_dns_cb cb;
    void *arg;
    int cancelled;
    unsigned pending; /* c-ares callbacks still to come */
    struct dns_target *t;
    size_t nt;
};

static void
rearm_timer(struct s2s_resolver *res)
{
    struct timeval tv, *tvp = ares_timeout(res->ch, NULL, &tv);

    if (tvp != NULL)
        evtimer_add(res->timer, tvp);
    else
        evtimer_del(res->timer);
}

static void
on_sock_event(evutil_socket_t fd, short what, void *arg)
{
    struct s2s_resolver *res = arg;

    ares_process_fd(res->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    rearm_timer(res);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct s2s_resolver *res = arg;

    (void)fd;
    (void)what;
    ares_process_fd(res->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm_timer(res);
}

static void
sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct s2s_resolver *res = data;
    size_t i = 0;

    while (i < res->nsocks && res->socks[i].fd != fd)
        i++;
    if (!readable && !writable) {
        if (i < res->nsocks) {
            event_free(res->socks[i].ev);
            res->socks[i] = res->socks[--res->nsocks];
        }
        return;
    }
    if (i == res->nsocks) {
        res->socks =
            xd_xrealloc(res->socks, (res->nsocks + 1) * sizeof(*res->socks));
        res->socks[i].fd = fd;
        res->socks[i].ev = NULL;
        res->nsocks++;
    }
    if (res->socks[i].ev != NULL)
        event_free(res->socks[i].ev);
    res->socks[i].ev = event_new(res->r->base, fd,
                                 EV_PERSIST | (readable ? EV_READ : 0) |
                                     (writable ? EV_WRITE : 0),
                                 on_sock_event, res);
    if (res->socks[i].ev == NULL || event_add(res->socks[i].ev, NULL) != 0)
        xd_log_warnx("DNS: cannot watch the resolver's socket %d", (int)fd);
}

static void
query_free(struct s2s_dns_query *q)
{
    for (size_t i = 0; i < q->nt; i++)
        free(q->t[i].host);
    free(q->t);
    free(q->domain);
    free(q);
}

/* Every answer is in: hand the targets with an address to the caller. */
static void
query_done(struct s2s_dns_query *q)
{
    if (--q->pending > 0)
        return;
    if (!q->cancelled) {
        struct s2s_target *out = xd_xcalloc(q->nt + 1, sizeof(*out));
        size_t n = 0;
        for (size_t i = 0; i < q->nt; i++)
            if (q->t[i].addr[0] != '\0') {
                out[n].addr = q->t[i].addr;
                out[n].port = q->t[i].port;
                n++;
            }
        if (n == 0)
            xd_log_info("DNS: %s: no address to connect to", q->domain);
        q->cb(q->arg, n ? 0 : XD_ENOTFOUND, out, n);
        free(out);
    }
    query_free(q);
}

static void
addr_answered(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
    struct dns_target *t = arg;

    (void)timeouts;
    if (status == ARES_SUCCESS && ai != NULL) {
        for (struct ares_addrinfo_node *n = ai->nodes; n != NULL;
             n = n->ai_next) {
            const void *a =
                n->ai_family == AF_INET6
                    ? (const void *)&((struct sockaddr_in6 *)n->ai_addr)
                          ->sin6_addr
                    : (const void *)&((struct sockaddr_in *)n->ai_addr)
                          ->sin_addr;
            if (inet_ntop(n->ai_family, a, t->addr, sizeof(t->addr)) != NULL)
                break;
            t->addr[0] = '\0';
        }
    } else if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
        t->q->cancelled = 1;
    } else {
        xd_log_info("DNS: %s: no address for %s (%s)", t->q->domain, t->host,
                    ares_strerror(status));
    }
    if (ai != NULL)
        ares_freeaddrinfo(ai);
    query_done(t->q);
}

static void
add_target(struct s2s_dns_query *q, const char *host, unsigned port)
{
    struct dns_target *t = &q->t[q->nt++];

    t->q = q;
    t->host = xd_xstrdup(host);
    t->port = port;
}

static void
srv_answered(void *arg, int status, int timeouts, unsigned char *buf, int len)
{
    struct s2s_dns_query *q = arg;
    struct ares_srv_reply *srv = NULL;

    (void)timeouts;
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED ||
        q->cancelled) {
        q->cancelled = 1;
        query_done(q);
        return;
    }
    if (status == ARES_SUCCESS &&
        ares_parse_srv_reply(buf, len, &srv) == ARES_SUCCESS && srv != NULL) {
        size_t n = 0;
        for (struct ares_srv_reply *s = srv; s != NULL; s = s->next)
            n++;
        struct s2s_srv *recs = xd_xcalloc(n, sizeof(*recs));
        n = 0;
        for (struct ares_srv_reply *s = srv; s != NULL; s = s->next) {
            /* "." alone: the service is decidedly not offered. */
            if (s->host[0] == '\0' || strcmp(s->host, ".") == 0)
                continue;
            recs[n].target = s->host;
            recs[n].priority = s->priority;
            recs[n].weight = s->weight;
            recs[n].port = s->port;
            n++;
        }
        s2s_srv_order(recs, n, secure_rnd, NULL);
        q->t = xd_xcalloc(n ? n : 1, sizeof(*q->t));
        for (size_t i = 0; i < n; i++)
            add_target(q, recs[i].target, recs[i].port);
        free(recs);
        ares_free_data(srv);
        if (n == 0)
            xd_log_info("DNS: %s offers no XMPP service (SRV \".\")",
                        q->domain);
    } else {
        if (status != ARES_ENOTFOUND && status != ARES_ENODATA)
            xd_log_info("DNS: SRV of %s: %s; trying its address", q->domain,
                        ares_strerror(status));
        q->t = xd_xcalloc(1, sizeof(*q->t));
        add_target(q, q->domain, S2S_DEFAULT_PORT);
    }
    struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC,
                                         .ai_socktype = SOCK_STREAM };
    for (size_t i = 0; i < q->nt; i++) {
        q->pending++;
        ares_getaddrinfo(q->res->ch, q->t[i].host, NULL, &hints, addr_answered,
                         &q->t[i]);
    }
    query_done(q);
}

static int
resolver_init(struct router *r)
{
    struct s2s_resolver *res = xd_xcalloc(1, sizeof(*res));
    struct ares_options opts = { .sock_state_cb = sock_state,
                                 .sock_state_cb_data = res,
                                 .timeout = 2000,
                                 .tries = 2 };

    res->r = r;
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
        free(res);
        xd_log_warnx("DNS: cannot initialise c-ares");
        return XD_EIO;
    }
    if (ares_init_options(&res->ch, &opts,
                          ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
                              ARES_OPT_TRIES) != ARES_SUCCESS) {
        ares_library_cleanup();
        free(res);
        xd_log_warnx("DNS: cannot set up the resolver (c-ares)");
        return XD_EIO;
    }
    r->s2s_resolver = res;
    if (r->conf.s2s_dns_server != NULL &&
        ares_set_servers_ports_csv(res->ch, r->conf.s2s_dns_server) !=
            ARES_SUCCESS) {
        xd_log_warnx("s2s_dns_server: '%s' is not ADDRESS[:PORT],...",
                     r->conf.s2s_dns_server);
        return XD_EINVAL;
    }
    res->timer = evtimer_new(r->base, on_timer, res);
    if (res->timer == NULL) {
        xd_log_warnx("DNS: cannot make the resolver's timer");
        return XD_EIO;
    }
    return 0;
}

static void
resolver_free(struct router *r)
{
    struct s2s_resolver *res = r->s2s_resolver;

    if (res == NULL)
        return;
    ares_destroy(res->ch); /* runs the pending callbacks: they free */
    for (size_t i = 0; i < res->nsocks; i++)
        event_free(res->socks[i].ev);
    free(res->socks);
    if (res->timer != NULL)
        event_free(res->timer);
    free(res);
    ares_library_cleanup();
    r->s2s_resolver = NULL;
}

struct s2s_dns_query *
s2s_dns_lookup(struct router *r, const char *domain, s2s_dns_cb cb, void *arg)
{
    const struct dns_static *e =
        r->s2s_static ? xd_map_get(r->s2s_static, domain) : NULL;

    if (e != NULL) {
        struct s2s_target t = { e->host, e->port };
        cb(arg, 0, &t, 1);
        return NULL;
    }
    if (r->conf.s2s_static_only || r->s2s_resolver == NULL) {
        cb(arg, XD_ENOTFOUND, NULL, 0);
        return NULL;
    }
    struct s2s_dns_query *q = xd_xcalloc(1, sizeof(*q));
    q->res = r->s2s_resolver;
    q->domain = xd_xstrdup(domain);
    q->cb = cb;
    q->arg = arg;
    q->pending = 1;
    char *name = xd_xasprintf("_xmpp-server._tcp.%s", domain);
    ares_query(q->res->ch, name, ns_c_in, ns_t_srv, srv_answered, q);
    free(name);
    rearm_timer(q->res);
    return q;
}

void
s2s_dns_cancel(struct s2s_dns_query *q)
{
    if (q != NULL)
        q->cancelled = 1;
}

void
s2s_dns_free(struct router *r)
{
    resolver_free(r);
    if (r->s2s_static == NULL)
        return;
    xd_map_each(r->s2s_static, free_entry, NULL);
    xd_map_free(r->s2s_static);
    r->s2s_static = NULL;
}
