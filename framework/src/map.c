/*
 * map.c: open-addressing hash table with linear probing and tombstones,
 * keyed by strings.
 *
 * Keys come from peers (JIDs, stanza ids, addresses), so the hash is
 * SipHash-1-3 keyed by 128 random bits drawn for each map: nobody outside
 * can compute which keys collide, and learning one map's layout says
 * nothing about another's. SipHash is Aumasson and Bernstein's keyed PRF
 * (https://www.aumasson.jp/siphash/siphash.pdf); 1-3 is the round count
 * hash tables use (Rust's HashMap, Python's str hash).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/map.h>

#define TOMBSTONE ((char *)&tombstone_marker)
static const char tombstone_marker = 0;

struct slot {
    char *key; /* NULL: empty; TOMBSTONE: deleted */
    void *value;
    uint64_t hash;
};

struct xd_map {
    uint64_t k0, k1; /* this map's SipHash key */
    struct slot *slots;
    size_t cap;  /* power of two */
    size_t used; /* live entries */
    size_t dead; /* tombstones */
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
    do {                                                                       \
        v0 += v1;                                                              \
        v1 = ROTL(v1, 13);                                                     \
        v1 ^= v0;                                                              \
        v0 = ROTL(v0, 32);                                                     \
        v2 += v3;                                                              \
        v3 = ROTL(v3, 16);                                                     \
        v3 ^= v2;                                                              \
        v0 += v3;                                                              \
        v3 = ROTL(v3, 21);                                                     \
        v3 ^= v0;                                                              \
        v2 += v1;                                                              \
        v1 = ROTL(v1, 17);                                                     \
        v1 ^= v2;                                                              \
        v2 = ROTL(v2, 32);                                                     \
    } while (0)
#define C_ROUNDS 1
#define D_ROUNDS 3

/* Little-endian 64-bit word of n <= 8 bytes, whatever the host order. */
static uint64_t
le_word(const unsigned char *p, size_t n)
{
    uint64_t w = 0;

    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

static uint64_t
hash_key(const xd_map *m, const char *key)
{
    const unsigned char *p = (const unsigned char *)key;
    size_t len = strlen(key), left = len;
    uint64_t v0 = m->k0 ^ 0x736f6d6570736575ULL;
    uint64_t v1 = m->k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = m->k0 ^ 0x6c7967656e657261ULL;
    uint64_t v3 = m->k1 ^ 0x7465646279746573ULL;

    for (; left >= 8; p += 8, left -= 8) {
        uint64_t w = le_word(p, 8);
        v3 ^= w;
        for (int r = 0; r < C_ROUNDS; r++)
            SIPROUND;
        v0 ^= w;
    }
    uint64_t last = le_word(p, left) | (uint64_t)len << 56;
    v3 ^= last;
    for (int r = 0; r < C_ROUNDS; r++)
        SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    for (int r = 0; r < D_ROUNDS; r++)
        SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

xd_map *
xd_map_new(void)
{
    xd_map *m = xd_xcalloc(1, sizeof(*m));
    unsigned char seed[16];

    /* Like running out of memory, running out of randomness is fatal. */
    if (xd_random_bytes(seed, sizeof(seed)) != 0) {
        fprintf(stderr, "fatal: no randomness for a hash seed\n");
        abort();
    }
    m->k0 = le_word(seed, 8);
    m->k1 = le_word(seed + 8, 8);

    m->cap = 16;
    m->slots = xd_xcalloc(m->cap, sizeof(*m->slots));
    return m;
}

void
xd_map_free(xd_map *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE)
            free(m->slots[i].key);
    free(m->slots);
    free(m);
}

/* The slot holding key, or NULL. */
static struct slot *
find(const xd_map *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1;

    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct slot *s = &m->slots[i];
        if (s->key == NULL)
            return NULL;
        if (s->key != TOMBSTONE && s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

static void
grow(xd_map *m)
{
    struct slot *old = m->slots;
    size_t oldcap = m->cap;

    /* Rehash into a table twice as large, or the same size when most of
     * the load is tombstones. */
    if (m->used * 2 >= oldcap)
        m->cap *= 2;
    m->slots = xd_xcalloc(m->cap, sizeof(*m->slots));
    m->dead = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].key == NULL || old[i].key == TOMBSTONE)
            continue;
        size_t j = old[i].hash & (m->cap - 1);
        while (m->slots[j].key != NULL)
            j = (j + 1) & (m->cap - 1);
        m->slots[j] = old[i];
    }
    free(old);
}

void *
xd_map_get(const xd_map *m, const char *key)
{
    struct slot *s = find(m, key, hash_key(m, key));

    return s ? s->value : NULL;
}

void *
xd_map_put(xd_map *m, const char *key, void *value)
{
    uint64_t h = hash_key(m, key);
    struct slot *s = find(m, key, h);

    if (s != NULL) {
        void *prev = s->value;
        s->value = value;
        return prev;
    }
    if ((m->used + m->dead + 1) * 4 > m->cap * 3)
        grow(m);
    size_t mask = m->cap - 1, i = h & mask;
    while (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE)
        i = (i + 1) & mask;
    if (m->slots[i].key == TOMBSTONE)
        m->dead--;
    m->slots[i].key = xd_xstrdup(key);
    m->slots[i].value = value;
    m->slots[i].hash = h;
    m->used++;
    return NULL;
}

void *
xd_map_remove(xd_map *m, const char *key)
{
    struct slot *s = find(m, key, hash_key(m, key));

    if (s == NULL)
        return NULL;
    void *prev = s->value;
    free(s->key);
    s->key = TOMBSTONE;
    s->value = NULL;
    m->used--;
    m->dead++;
    return prev;
}

size_t
xd_map_count(const xd_map *m)
{
    return m->used;
}

void
xd_map_each(const xd_map *m,
            void (*fn)(const char *key, void *value, void *arg), void *arg)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE)
            fn(m->slots[i].key, m->slots[i].value, arg);
}

void **
xd_map_values(const xd_map *m, size_t *n)
{
    void **all = xd_xcalloc(m->used + 1, sizeof(*all));
    size_t k = 0;

    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE)
            all[k++] = m->slots[i].value;
    *n = k;
    return all;
}
