/*
 * conn_limits.c: connections per address and in all, counted apart for
 * each kind (clients, incoming server-to-server streams) with the kind's
 * own keys. A connection
 * is admitted when it is accepted and released when its transport is freed
 * (whatever ended it; a session hibernating under XEP-0198 has no
 * connection). Addresses are keyed as auth_limits_address() does: an IPv4
 * address, or an IPv6 /64.
 */
#define XD_LOG_AREA "listener"
#include <stdlib.h>
#include <time.h>

#include <xmppd/log.h>

#include "router.h"

/* Addresses tracked at most: beyond it, new addresses wait for a prune. */
#define TRACKED_MAX 100000
/* Refusals are summed up in one line at most this often. */
#define REFUSED_LOG_S 10

struct conn_count {
    unsigned long long live;   /* connections open */
    time_t window;             /* start of the current minute */
    unsigned long long recent; /* connections accepted since then */
};

/* The keys of one kind; 0 per minute: no rate limit. */
struct kind_limits {
    unsigned long long max, per_address, per_min;
    const char *max_key, *per_address_key, *per_min_key;
};

static struct kind_limits
kind_limits(const struct xmppd_conf *c, enum conn_kind kind)
{
    if (kind == CONN_S2S_IN)
        return (struct kind_limits){
            c->s2s_max_connections, c->s2s_max_connections_per_address, 0,
            "s2s_max_connections",  "s2s_max_connections_per_address",  NULL,
        };
    return (struct kind_limits){
        c->c2s_max_connections,
        c->c2s_max_connections_per_address,
        c->c2s_connects_per_address_per_min,
        "c2s_max_connections",
        "c2s_max_connections_per_address",
        "c2s_connects_per_address_per_min",
    };
}

static void
collect_idle(const char *key, void *value, void *arg)
{
    struct conn_count *cc = value;
    char ***end = arg;

    if (cc->live == 0 && time(NULL) - cc->window >= 60) {
        **end = xd_xstrdup(key);
        (*end)++;
    }
}

/* Forgets addresses with nothing open and no connection in the last
 * minute. */
static void
prune(struct conn_table *t)
{
    size_t n = xd_map_count(t->addrs);
    char **keys = xd_xcalloc(n + 1, sizeof(char *)), **end = keys;

    xd_map_each(t->addrs, collect_idle, &end);
    for (char **k = keys; k < end; k++) {
        free(xd_map_remove(t->addrs, *k));
        free(*k);
    }
    free(keys);
}

static int
refuse(struct router *r, const char *addr, const char *why)
{
    time_t now = time(NULL);

    /* A flood of connections must not become a flood of log lines. */
    r->conn_refused++;
    if (now - r->conn_refused_logged >= REFUSED_LOG_S) {
        xd_log_info("%s: connection refused (%s); %lu refused in all since "
                    "the last such line",
                    addr, why, r->conn_refused);
        r->conn_refused = 0;
        r->conn_refused_logged = now;
    }
    return XD_ELIMIT;
}

int
conn_limits_admit(struct router *r, enum conn_kind kind, const char *addr)
{
    struct kind_limits k = kind_limits(&r->conf, kind);
    struct conn_table *t = &r->conns[kind];
    time_t now = time(NULL);

    if (t->addrs == NULL)
        t->addrs = xd_map_new();
    if (t->live >= k.max)
        return refuse(r, addr, k.max_key);
    struct conn_count *cc = xd_map_get(t->addrs, addr);
    if (cc == NULL) {
        /* A prune walks the whole table: once a second at most, or a
         * stream of new addresses would make each of them cost that. */
        if (xd_map_count(t->addrs) >= TRACKED_MAX && t->pruned != now) {
            t->pruned = now;
            prune(t);
        }
        if (xd_map_count(t->addrs) >= TRACKED_MAX)
            return refuse(r, addr, "too many addresses");
        cc = xd_xcalloc(1, sizeof(*cc));
        cc->window = now;
        xd_map_put(t->addrs, addr, cc);
    }
    if (now - cc->window >= 60) {
        cc->window = now;
        cc->recent = 0;
    }
    if (cc->live >= k.per_address)
        return refuse(r, addr, k.per_address_key);
    if (k.per_min != 0 && cc->recent >= k.per_min)
        return refuse(r, addr, k.per_min_key);
    cc->live++;
    cc->recent++;
    t->live++;
    return 0;
}

void
conn_limits_release(struct router *r, enum conn_kind kind, const char *addr)
{
    struct conn_table *t = &r->conns[kind];
    struct conn_count *cc =
        t->addrs != NULL ? xd_map_get(t->addrs, addr) : NULL;

    if (cc == NULL || cc->live == 0)
        return; /* the table is gone (shutdown) */
    cc->live--;
    t->live--;
    /* An address with nothing open stays for its minute's rate; the
     * table is pruned when it fills up. */
}

static void
free_entry(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    free(value);
}

void
conn_limits_free(struct router *r)
{
    for (int kind = 0; kind < CONN_KINDS; kind++) {
        struct conn_table *t = &r->conns[kind];

        if (t->addrs != NULL) {
            xd_map_each(t->addrs, free_entry, NULL);
            xd_map_free(t->addrs);
        }
        t->addrs = NULL;
        t->live = 0;
    }
}
