/*
 * auth_limits.c: failed logins per client address. Within sasl_ip_block_s
 * an address may fail sasl_ip_max_failures times; past half of that each
 * failure is answered a second late (slowing a guesser down), past all of
 * it the address gets temporary-auth-failure until the window has passed.
 */
#define XD_LOG_AREA "auth"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmppd/log.h>

#include "router.h"

/* Addresses remembered at most; older entries go first when full. */
#define TRACKED_MAX 100000

struct failures {
    unsigned count;
    time_t first; /* start of the window */
};

/* "1.2.3.4:5678" or "[::1]:5678" to the address alone. */
void
auth_limits_address(const char *peer, char *out, size_t size)
{
    const char *colon = strrchr(peer, ':');
    size_t len = colon ? (size_t)(colon - peer) : strlen(peer);

    if (len >= 2 && peer[0] == '[' && peer[len - 1] == ']') {
        peer++;
        len -= 2;
    }
    if (len >= size)
        len = size - 1;
    memcpy(out, peer, len);
    out[len] = '\0';
}

static void
prune_one(const char *key, void *value, void *arg)
{
    struct router *r = arg;
    struct failures *f = value;

    (void)key;
    if (time(NULL) - f->first >= (time_t)r->conf.sasl_ip_block_s)
        f->count = 0; /* expired: reaped below */
}

static void
collect_expired(const char *key, void *value, void *arg)
{
    char ***list = arg;

    if (((struct failures *)value)->count == 0) {
        **list = xd_xstrdup(key);
        (*list)++;
    }
}

/* Forgets expired windows, so the table stays bounded. */
static void
prune(struct router *r)
{
    size_t n = xd_map_count(r->auth_failures);
    char **keys = xd_xcalloc(n + 1, sizeof(char *)), **end = keys;

    xd_map_each(r->auth_failures, prune_one, r);
    xd_map_each(r->auth_failures, collect_expired, &end);
    for (char **k = keys; k < end; k++) {
        free(xd_map_remove(r->auth_failures, *k));
        free(*k);
    }
    free(keys);
}

static struct failures *
lookup(struct router *r, const char *peer)
{
    char addr[64];
    struct failures *f;

    auth_limits_address(peer, addr, sizeof(addr));
    f = xd_map_get(r->auth_failures, addr);
    if (f != NULL && time(NULL) - f->first >= (time_t)r->conf.sasl_ip_block_s) {
        f->count = 0; /* the window has passed */
        f->first = time(NULL);
    }
    return f;
}

int
auth_limits_blocked(struct router *r, const char *peer)
{
    struct failures *f = lookup(r, peer);

    return f != NULL && f->count >= r->conf.sasl_ip_max_failures;
}

unsigned
auth_limits_failure(struct router *r, const char *peer)
{
    struct failures *f = lookup(r, peer);
    char addr[64];

    if (f == NULL) {
        if (xd_map_count(r->auth_failures) >= TRACKED_MAX)
            prune(r);
        if (xd_map_count(r->auth_failures) >= TRACKED_MAX)
            return 1000; /* under attack from everywhere: slow everyone */
        auth_limits_address(peer, addr, sizeof(addr));
        f = xd_xcalloc(1, sizeof(*f));
        f->first = time(NULL);
        xd_map_put(r->auth_failures, addr, f);
    }
    f->count++;
    if (f->count == r->conf.sasl_ip_max_failures)
        xd_log_info("%s: %u failed logins, refused for %llu s", peer, f->count,
                    r->conf.sasl_ip_block_s);
    return f->count > r->conf.sasl_ip_max_failures / 2 ? 1000 : 0;
}

static void
free_entry(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    free(value);
}

void
auth_limits_free(struct router *r)
{
    if (r->auth_failures != NULL)
        xd_map_each(r->auth_failures, free_entry, NULL);
    xd_map_free(r->auth_failures);
}
