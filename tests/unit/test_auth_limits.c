/*
 * test_auth_limits.c: the per-address limits of the router: the address
 * key (IPv6 by /64), failed logins with exchanges under way counted from
 * their <auth/> (auth_limits.c), and connections per address, in all and
 * per minute (conn_limits.c).
 */
#include <string.h>

#include <xmppd/map.h>

#include "check.h"
#include "router.h"

static void
test_address_key(void)
{
    static const struct {
        const char *peer, *key;
    } cases[] = {
        { "192.0.2.7:5222", "192.0.2.7" },
        { "192.0.2.7", "192.0.2.7" },
        { "[2001:db8:1:2:3:4:5:6]:40000", "2001:db8:1:2::/64" },
        { "[2001:db8:1:2:ffff:ffff:ffff:ffff]:1", "2001:db8:1:2::/64" },
        { "[2001:db8:1:3::1]:1", "2001:db8:1:3::/64" },
        { "[::1]:5222", "::/64" },
        { "[::ffff:192.0.2.7]:5222", "192.0.2.7" },
        { "?", "?" },
    };

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        char key[64];
        auth_limits_address(cases[i].peer, key, sizeof(key));
        CHECK(strcmp(key, cases[i].key) == 0, "case %zu: %s -> %s, not %s", i,
              cases[i].peer, key, cases[i].key);
    }
}

static void
test_exchanges_count(void)
{
    struct router r;
    const char *a = "[2001:db8::1]:1", *a2 = "[2001:db8::2]:2";

    memset(&r, 0, sizeof(r));
    r.auth_failures = xd_map_new();
    r.conf.sasl_ip_max_failures = 2;
    r.conf.sasl_ip_max_concurrent = 3;
    r.conf.sasl_ip_block_s = 300;
    /* Three exchanges at once are all the address may have, from any of
     * the addresses of its /64. */
    CHECK(auth_limits_begin(&r, a) == 0, "first exchange");
    CHECK(auth_limits_begin(&r, a2) == 0, "second, same /64");
    CHECK(auth_limits_begin(&r, a) == 0, "third");
    CHECK(auth_limits_begin(&r, a) == XD_ELIMIT, "a fourth at once");
    CHECK(auth_limits_begin(&r, "192.0.2.1:1") == 0, "another address");
    /* One fails: its place comes back, the failure counts. */
    auth_limits_end(&r, a);
    auth_limits_failure(&r, a);
    CHECK(!auth_limits_blocked(&r, a), "1 failure of 2: not blocked");
    CHECK(auth_limits_begin(&r, a) == 0, "a place under way again");
    /* A second failure: the proofs of the exchanges still under way are
     * no longer evaluated (c2s checks auth_limits_blocked at each). */
    auth_limits_end(&r, a);
    auth_limits_failure(&r, a);
    CHECK(auth_limits_blocked(&r, a) && auth_limits_begin(&r, a) != 0,
          "2 failures: blocked");
    auth_limits_end(&r, a);
    auth_limits_end(&r, a);
    auth_limits_end(&r, a); /* one too many: no underflow */
    CHECK(auth_limits_blocked(&r, a), "still blocked with nothing under way");
    CHECK(!auth_limits_blocked(&r, "192.0.2.1:1"), "the other address is not");
    auth_limits_free(&r);
}

static void
test_connections(void)
{
    struct router r;

    memset(&r, 0, sizeof(r));
    r.conf.c2s_max_connections = 3;
    r.conf.c2s_max_connections_per_address = 2;
    r.conf.c2s_connects_per_address_per_min = 3;
    CHECK(conn_limits_admit(&r, CONN_C2S, "a") == 0, "a 1");
    CHECK(conn_limits_admit(&r, CONN_C2S, "a") == 0, "a 2");
    CHECK(conn_limits_admit(&r, CONN_C2S, "a") == XD_ELIMIT,
          "a 3: per address");
    CHECK(conn_limits_admit(&r, CONN_C2S, "b") == 0, "b 1");
    CHECK(conn_limits_admit(&r, CONN_C2S, "c") == XD_ELIMIT, "c 1: in all");
    conn_limits_release(&r, CONN_C2S, "a");
    CHECK(r.conns[CONN_C2S].live == 2, "released: %llu open",
          r.conns[CONN_C2S].live);
    CHECK(conn_limits_admit(&r, CONN_C2S, "a") == 0, "a again after a release");
    conn_limits_release(&r, CONN_C2S, "a");
    CHECK(conn_limits_admit(&r, CONN_C2S, "a") == XD_ELIMIT,
          "a 4th connection within the minute: per minute");
    conn_limits_release(&r, CONN_C2S, "b");
    conn_limits_release(&r, CONN_C2S, "b"); /* one too many: no underflow */
    CHECK(r.conns[CONN_C2S].live == 1, "%llu open", r.conns[CONN_C2S].live);
    conn_limits_free(&r);
    conn_limits_release(&r, CONN_C2S,
                        "a"); /* after the table is gone: nothing */
    CHECK(r.conns[CONN_C2S].live == 0, "freed");
}

/* Incoming s2s connections are counted apart, under their own keys. */
static void
test_connection_kinds(void)
{
    struct router r;

    memset(&r, 0, sizeof(r));
    r.conf.c2s_max_connections = 1;
    r.conf.c2s_max_connections_per_address = 1;
    r.conf.s2s_max_connections = 2;
    r.conf.s2s_max_connections_per_address = 1;
    CHECK(conn_limits_admit(&r, CONN_C2S, "a") == 0, "c2s a");
    CHECK(conn_limits_admit(&r, CONN_S2S_IN, "a") == 0,
          "s2s a: not counted with c2s");
    CHECK(conn_limits_admit(&r, CONN_S2S_IN, "a") == XD_ELIMIT,
          "s2s a 2: s2s per address");
    CHECK(conn_limits_admit(&r, CONN_S2S_IN, "b") == 0, "s2s b");
    CHECK(conn_limits_admit(&r, CONN_S2S_IN, "c") == XD_ELIMIT,
          "s2s c: s2s in all");
    conn_limits_release(&r, CONN_S2S_IN, "a");
    CHECK(r.conns[CONN_S2S_IN].live == 1 && r.conns[CONN_C2S].live == 1,
          "released one s2s: %llu s2s, %llu c2s", r.conns[CONN_S2S_IN].live,
          r.conns[CONN_C2S].live);
    conn_limits_free(&r);
    CHECK(r.conns[CONN_S2S_IN].live == 0 && r.conns[CONN_C2S].live == 0,
          "freed");
}

int
main(void)
{
    test_address_key();
    test_exchanges_count();
    test_connections();
    test_connection_kinds();
    return check_report();
}
