/*
 * map.c: open-addressing hash table with linear probing and tombstones,
 * keyed by strings (FNV-1a).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/map.h>

#define TOMBSTONE ((char *)&tombstone_marker)
static const char tombstone_marker = 0;

struct slot {
    char *key; /* NULL: empty; TOMBSTONE: deleted */
    void *value;
    uint32_t hash;
};

struct xd_map {
    struct slot *slots;
    size_t cap;  /* power of two */
    size_t used; /* live entries */
    size_t dead; /* tombstones */
};

static uint32_t
hash_key(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

xd_map *
xd_map_new(void)
{
    xd_map *m = xd_xcalloc(1, sizeof(*m));

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
find(const xd_map *m, const char *key, uint32_t h)
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
    struct slot *s = find(m, key, hash_key(key));

    return s ? s->value : NULL;
}

void *
xd_map_put(xd_map *m, const char *key, void *value)
{
    uint32_t h = hash_key(key);
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
    struct slot *s = find(m, key, hash_key(key));

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
