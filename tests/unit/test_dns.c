/*
 * Unit tests for dns.c's RFC 2782 ordering of SRV records: priorities
 * ascending, and within a priority the weighted random pick, driven by a
 * fixed sequence of "random" numbers (weight 0 records first, taken only
 * when the pick is 0).
 */
#include "check.h"
#include <string.h>

#include "router.h"

struct seq {
    const unsigned *v;
    size_t n, i;
};

static unsigned
fixed_rnd(void *arg)
{
    struct seq *s = arg;

    return s->i < s->n ? s->v[s->i++] : 0;
}

static void
order(struct s2s_srv *recs, size_t n, const unsigned *v, size_t nv)
{
    struct seq s = { v, nv, 0 };

    s2s_srv_order(recs, n, fixed_rnd, &s);
}

static int
is(const struct s2s_srv *recs, const char *a, const char *b, const char *c)
{
    return strcmp(recs[0].target, a) == 0 && strcmp(recs[1].target, b) == 0 &&
           (c == NULL || strcmp(recs[2].target, c) == 0);
}

int
main(void)
{
    /* Priorities first, whatever the weights. */
    struct s2s_srv p[] = { { "b", 20, 90, 1 },
                           { "a", 10, 1, 2 },
                           { "c", 30, 50, 3 } };
    order(p, 3, (const unsigned[]){ 0, 0, 0 }, 3);
    CHECK(is(p, "a", "b", "c"), "priority order: %s %s %s", p[0].target,
          p[1].target, p[2].target);
    CHECK(p[0].port == 2 && p[2].port == 3, "ports follow their records");

    /* One priority, weights 10 and 30 (sum 40): pick = rnd % 41. */
    struct s2s_srv w1[] = { { "x", 5, 10, 1 }, { "y", 5, 30, 2 } };
    order(w1, 2, (const unsigned[]){ 5, 0 }, 2);
    CHECK(is(w1, "x", "y", NULL), "pick 5 takes the first (running sum 10)");
    struct s2s_srv w2[] = { { "x", 5, 10, 1 }, { "y", 5, 30, 2 } };
    order(w2, 2, (const unsigned[]){ 25, 0 }, 2);
    CHECK(is(w2, "y", "x", NULL), "pick 25 takes the second (running 40)");
    struct s2s_srv w3[] = { { "x", 5, 10, 1 }, { "y", 5, 30, 2 } };
    order(w3, 2, (const unsigned[]){ 41 + 11, 0 }, 2);
    CHECK(is(w3, "y", "x", NULL), "the pick is reduced modulo sum + 1");

    /* Weight 0 goes first in the list and is taken only on a pick of 0. */
    struct s2s_srv z1[] = { { "w", 1, 10, 1 }, { "z", 1, 0, 2 } };
    order(z1, 2, (const unsigned[]){ 0, 0 }, 2);
    CHECK(is(z1, "z", "w", NULL), "pick 0 takes the weight-0 record");
    struct s2s_srv z2[] = { { "w", 1, 10, 1 }, { "z", 1, 0, 2 } };
    order(z2, 2, (const unsigned[]){ 3, 0 }, 2);
    CHECK(is(z2, "w", "z", NULL), "pick 3 takes the weighted record");

    /* Priority groups are ordered each on its own. */
    struct s2s_srv g[] = { { "late", 2, 1, 1 },
                           { "a1", 1, 1, 1 },
                           { "a2", 1, 99, 1 } };
    order(g, 3, (const unsigned[]){ 50, 0, 0 }, 3);
    CHECK(is(g, "a2", "a1", "late"), "groups: %s %s %s", g[0].target,
          g[1].target, g[2].target);
    return check_report();
}
