/*
 * conn_limits.c: client connections per address and in all. A connection
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
prune(struct router *r)
{
    size_t n = xd_map_count(r->conn_addrs);
    char **keys = xd_xcalloc(n + 1, sizeof(char *)), **end = keys;

    xd_map_each(r->conn_addrs, collect_idle, &end);
    for (char **k = keys; k < end; k++) {
        free(xd_map_remove(r->conn_addrs, *k));
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
conn_limits_admit(struct router *r, const char *addr)
{
    const struct xmppd_conf *c = &r->conf;
    time_t now = time(NULL);

    if (r->conn_addrs == NULL)
        r->conn_addrs = xd_map_new();
    if (r->c2s_connections >= c->c2s_max_connections)
        return refuse(r, addr, "c2s_max_connections");
    struct conn_count *cc = xd_map_get(r->conn_addrs, addr);
    if (cc == NULL) {
        /* A prune walks the whole table: once a second at most, or a
         * stream of new addresses would make each of them cost that. */
        if (xd_map_count(r->conn_addrs) >= TRACKED_MAX &&
            r->conn_pruned != now) {
            r->conn_pruned = now;
            prune(r);
        }
        if (xd_map_count(r->conn_addrs) >= TRACKED_MAX)
            return refuse(r, addr, "too many addresses");
        cc = xd_xcalloc(1, sizeof(*cc));
        cc->window = now;
        xd_map_put(r->conn_addrs, addr, cc);
    }
    if (now - cc->window >= 60) {
        cc->window = now;
        cc->recent = 0;
    }
    if (cc->live >= c->c2s_max_connections_per_address)
        return refuse(r, addr, "c2s_max_connections_per_address");
    if (c->c2s_connects_per_address_per_min != 0 &&
        cc->recent >= c->c2s_connects_per_address_per_min)
        return refuse(r, addr, "c2s_connects_per_address_per_min");
    cc->live++;
    cc->recent++;
    r->c2s_connections++;
    return 0;
}

void
conn_limits_release(struct router *r, const char *addr)
{
    struct conn_count *cc =
        r->conn_addrs != NULL ? xd_map_get(r->conn_addrs, addr) : NULL;

    if (cc == NULL || cc->live == 0)
        return; /* the table is gone (shutdown) */
    cc->live--;
    r->c2s_connections--;
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
    if (r->conn_addrs == NULL)
        return;
    xd_map_each(r->conn_addrs, free_entry, NULL);
    xd_map_free(r->conn_addrs);
    r->conn_addrs = NULL;
    r->c2s_connections = 0;
}
