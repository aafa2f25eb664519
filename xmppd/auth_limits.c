/*
 * auth_limits.c: failed logins per client address (an IPv4 address, or an
 * IPv6 /64: one site). Within sasl_ip_block_s an address may fail
 * sasl_ip_max_failures times; past half of that each failure is answered a
 * second late (slowing a guesser down), past all of it the address gets
 * temporary-auth-failure until the window has passed. Exchanges opened
 * at once are checked again at their proof, so they get no more guesses
 * than one after the other would, and at most sasl_ip_max_concurrent are
 * under way per address.
 */
#define XD_LOG_AREA "auth"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmppd/log.h>

#include "router.h"

/* Addresses remembered at most; older entries go first when full. */
#define TRACKED_MAX 100000

struct failures {
    unsigned count;
    unsigned pending; /* exchanges begun and not yet ended */
    time_t first;     /* start of the window */
};

void
auth_limits_address(const char *peer, char *out, size_t size)
{
    const char *colon = strrchr(peer, ':');
    size_t len = colon ? (size_t)(colon - peer) : strlen(peer);
    char text[INET6_ADDRSTRLEN + 8];
    unsigned char a6[16];

    if (len >= 2 && peer[0] == '[' && peer[len - 1] == ']') {
        peer++;
        len -= 2;
    }
    if (len >= sizeof(text))
        len = sizeof(text) - 1;
    memcpy(text, peer, len);
    text[len] = '\0';
    /* One IPv6 site gets a /64 and can use any of its 2^64 addresses: the
     * limits key on the prefix. An IPv4-mapped address is the IPv4 one. */
    if (inet_pton(AF_INET6, text, a6) == 1) {
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0,    0,
                                                  0, 0, 0, 0, 0xff, 0xff };
        if (memcmp(a6, mapped, sizeof(mapped)) == 0) {
            inet_ntop(AF_INET, a6 + 12, text, sizeof(text));
        } else {
            memset(a6 + 8, 0, 8);
            inet_ntop(AF_INET6, a6, text, sizeof(text));
            strcat(text, "/64");
        }
    }
    snprintf(out, size, "%s", text);
}

static void
prune_one(const char *key, void *value, void *arg)
{
    struct router *r = arg;
    struct failures *f = value;

    (void)key;
    if (time(NULL) - f->first >= (time_t)r->conf.sasl_ip_block_s)
        f->count = 0; /* expired: reaped below, unless exchanges are open */
}

static void
collect_expired(const char *key, void *value, void *arg)
{
    char ***list = arg;

    const struct failures *f = value;

    if (f->count == 0 && f->pending == 0) {
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

/* The entry of an address, created when `create` (NULL when the table is
 * full of live entries). */
static struct failures *
entry(struct router *r, const char *peer, int create)
{
    struct failures *f = lookup(r, peer);
    char addr[64];

    if (f != NULL || !create)
        return f;
    if (xd_map_count(r->auth_failures) >= TRACKED_MAX)
        prune(r);
    if (xd_map_count(r->auth_failures) >= TRACKED_MAX)
        return NULL;
    auth_limits_address(peer, addr, sizeof(addr));
    f = xd_xcalloc(1, sizeof(*f));
    f->first = time(NULL);
    xd_map_put(r->auth_failures, addr, f);
    return f;
}

int
auth_limits_blocked(struct router *r, const char *peer)
{
    struct failures *f = lookup(r, peer);

    return f != NULL && f->count >= r->conf.sasl_ip_max_failures;
}

int
auth_limits_begin(struct router *r, const char *peer)
{
    struct failures *f;

    if (auth_limits_blocked(r, peer))
        return XD_ELIMIT;
    if ((f = entry(r, peer, 1)) != NULL) {
        if (f->pending >= r->conf.sasl_ip_max_concurrent)
            return XD_ELIMIT;
        f->pending++;
    }
    return 0;
}

void
auth_limits_end(struct router *r, const char *peer)
{
    struct failures *f = lookup(r, peer);

    if (f != NULL && f->pending > 0)
        f->pending--;
}

unsigned
auth_limits_failure(struct router *r, const char *peer)
{
    struct failures *f = entry(r, peer, 1);

    if (f == NULL)
        return 1000; /* under attack from everywhere: slow everyone */
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
