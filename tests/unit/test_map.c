/*
 * Unit tests for map.c: insert, replace, remove, growth, tombstones, values,
 * and a hash seeded per map (keys come from peers: with one fixed hash
 * function, keys chosen to collide turn every lookup into a scan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/map.h>

static int failed, passed;

static void
check(int ok, const char *what, int i)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL %s (case %d)\n", what, i);
}

static void
count_each(const char *key, void *value, void *arg)
{
    (void)key;
    (void)value;
    (*(size_t *)arg)++;
}

struct order {
    const char *keys[64];
    size_t n;
};

static void
record_order(const char *key, void *value, void *arg)
{
    struct order *o = arg;

    (void)value;
    if (o->n < XD_NELEM(o->keys))
        o->keys[o->n++] = key;
}

/* Two maps holding the same keys lay them out in different slots, so the
 * order xd_map_each visits them in differs: each map has its own seed.
 * With 64 keys the chance that two seeds give the same order is nil. */
static void
check_seeded(void)
{
    xd_map *a = xd_map_new(), *b = xd_map_new();
    struct order oa = { .n = 0 }, ob = { .n = 0 };
    char key[32];

    for (int i = 0; i < 64; i++) {
        snprintf(key, sizeof(key), "user%d@localhost", i);
        xd_map_put(a, key, a);
        xd_map_put(b, key, b);
    }
    xd_map_each(a, record_order, &oa);
    xd_map_each(b, record_order, &ob);
    int same = oa.n == ob.n;
    for (size_t i = 0; same && i < oa.n; i++)
        same = strcmp(oa.keys[i], ob.keys[i]) == 0;
    check(oa.n == 64 && ob.n == 64 && !same,
          "two maps place the same keys differently (seeded hash)", 0);
    xd_map_free(a);
    xd_map_free(b);
}

int
main(void)
{
    static const struct {
        const char *key;
        int value;
    } cases[] = {
        { "alice@localhost", 1 },
        { "bob@localhost", 2 },
        { "", 3 },
        { "echo.localhost", 4 },
        { "juliet@capulet.example/balcony", 5 },
    };
    int values[XD_NELEM(cases)];
    xd_map *m = xd_map_new();

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        values[i] = cases[i].value;
        check(xd_map_put(m, cases[i].key, &values[i]) == NULL, "put new",
              (int)i);
    }
    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        int *v = xd_map_get(m, cases[i].key);
        check(v != NULL && *v == cases[i].value, "get", (int)i);
    }
    check(xd_map_get(m, "nobody") == NULL, "get absent", 0);
    int other = 99;
    check(xd_map_put(m, "bob@localhost", &other) == &values[1], "replace", 0);
    check(xd_map_get(m, "bob@localhost") == &other, "replaced value", 0);
    check(xd_map_remove(m, "bob@localhost") == &other, "remove", 0);
    check(xd_map_get(m, "bob@localhost") == NULL, "removed", 0);
    check(xd_map_remove(m, "bob@localhost") == NULL, "remove twice", 0);
    check(xd_map_count(m) == XD_NELEM(cases) - 1, "count", 0);

    /* Growth and churn: many keys in, half out, all checked. */
    char key[32];
    static int big[5000];
    for (int i = 0; i < 5000; i++) {
        big[i] = i;
        snprintf(key, sizeof(key), "user%d@localhost", i);
        xd_map_put(m, key, &big[i]);
    }
    for (int i = 0; i < 5000; i += 2) {
        snprintf(key, sizeof(key), "user%d@localhost", i);
        xd_map_remove(m, key);
    }
    int bad = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "user%d@localhost", i);
        int *v = xd_map_get(m, key);
        if ((i % 2 == 0) != (v == NULL) || (v != NULL && *v != i))
            bad++;
    }
    check(bad == 0, "churn", bad);
    size_t n = 0;
    xd_map_each(m, count_each, &n);
    check(n == xd_map_count(m) && n == 2500 + XD_NELEM(cases) - 1, "each",
          (int)n);
    void **vals = xd_map_values(m, &n);
    long sum = 0, want = 0;
    for (size_t i = 0; i < n; i++)
        sum += *(int *)vals[i];
    for (int i = 1; i < 5000; i += 2)
        want += i;
    for (size_t i = 0; i < XD_NELEM(cases); i++)
        want += i == 1 ? 0 : cases[i].value;
    check(n == xd_map_count(m) && vals[n] == NULL && sum == want, "values",
          (int)n);
    free(vals);
    xd_map_free(m);
    check_seeded();

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
