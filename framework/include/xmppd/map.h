/*
 * map.h: a string-keyed hash table (routing tables, sessions, rooms).
 * Keys are copied; values are the caller's pointers (never freed by the map).
 * Keys may come from peers: each map hashes with SipHash keyed by its own
 * random seed, so no one can choose keys that collide.
 */
#ifndef XMPPD_MAP_H
#define XMPPD_MAP_H

#include <stddef.h>
#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xd_map xd_map;

/* An empty map with a fresh random hash seed; the caller owns it. Aborts
 * when the system has no randomness, as when it has no memory. */
xd_map *xd_map_new(void);
/* Frees the map and its key copies, not the values. NULL is a no-op. */
void xd_map_free(xd_map *m);
/* The value for key, or NULL. */
void *xd_map_get(const xd_map *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *xd_map_put(xd_map *m, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *xd_map_remove(xd_map *m, const char *key);
/* Number of keys held. */
size_t xd_map_count(const xd_map *m);
/* Calls fn for every entry; fn must not change the map. Order unspecified. */
void xd_map_each(const xd_map *m,
                 void (*fn)(const char *key, void *value, void *arg),
                 void *arg);
/* A snapshot of the values (*n of them, then NULL), for loops that change
 * the map as they go. The caller frees the array, not the values. */
void **xd_map_values(const xd_map *m, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
