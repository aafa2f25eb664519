/*
 * arena.c: the per-stanza bump-pointer arena that every node, name,
 * attribute and text of a tree is allocated from, and the stanza's
 * reference count. The first XD_ARENA_FIRST bytes sit inside the stanza's
 * own allocation, so a typical stanza costs a single malloc(); bigger trees
 * add chunks of doubling size. Nothing is freed before the stanza goes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "element_internal.h"

/* Alignment of xd_arena_alloc(): enough for the nodes and attributes. */
#define ARENA_ALIGN alignof(struct xd_elem)
/* Chunks double up to this size; a request bigger than a quarter of it gets
 * a chunk of its own, so large texts do not waste a half-used chunk. */
#define CHUNK_MAX   65536
#define CHUNK_ALONE (CHUNK_MAX / 4)

/* Namespaces that nearly every stanza names, shared instead of copied (and
 * compared by pointer first in the serialiser). */
#define KNOWN(s)                                                               \
    {                                                                          \
        s, sizeof(s) - 1                                                       \
    }
static const struct {
    const char *s;
    size_t len;
} known_ns[] = {
    KNOWN(XD_NS_CLIENT),
    KNOWN(""),
    KNOWN(XD_NS_XML),
    KNOWN(XD_NS_STREAMS),
    KNOWN(XD_NS_STANZA_ERRORS),
    KNOWN(XD_NS_STREAM_ERRORS),
    KNOWN(XD_NS_SASL),
    KNOWN(XD_NS_TLS),
    KNOWN(XD_NS_BIND),
    KNOWN(XD_NS_SESSION),
    KNOWN(XD_NS_DISCO_INFO),
    KNOWN(XD_NS_DISCO_ITEMS),
    KNOWN(XD_NS_PING),
    KNOWN(XD_NS_ROSTER),
    KNOWN(XD_NS_VERSION),
    KNOWN(XD_NS_DATA_FORMS),
    KNOWN("http://jabber.org/protocol/chatstates"),
    KNOWN("http://jabber.org/protocol/caps"),
    KNOWN("urn:xmpp:delay"),
    KNOWN("urn:xmpp:receipts"),
    KNOWN("urn:xmpp:sm:3"),
    KNOWN("urn:xmpp:carbons:2"),
    KNOWN("urn:xmpp:forward:0"),
    KNOWN("urn:xmpp:mam:2"),
    KNOWN("urn:xmpp:sid:0"),
    KNOWN("http://jabber.org/protocol/muc"),
    KNOWN("http://jabber.org/protocol/muc#user"),
};

xd_stanza *
xd_arena_new(void)
{
    /* Not calloc(): the embedded chunk need not be zeroed. */
    xd_stanza *st = xd_xmalloc(sizeof(*st));

    st->refs = 1;
    st->root = NULL;
    st->top = st->first;
    st->end = st->first + sizeof(st->first);
    st->chunks = NULL;
    st->chunk_size = sizeof(st->first);
    st->mem = sizeof(*st);
    return st;
}

static struct xd_chunk *
chunk_new(xd_stanza *st, size_t size)
{
    if (size > SIZE_MAX - sizeof(struct xd_chunk))
        xd_xmalloc(SIZE_MAX); /* fatal, like any other out of memory */
    struct xd_chunk *c = xd_xmalloc(sizeof(*c) + size);

    c->size = size;
    c->next = st->chunks;
    st->chunks = c;
    st->mem += sizeof(*c) + size;
    return c;
}

/* Makes a new current chunk with at least `need` free bytes. */
static void
chunk_next(xd_stanza *st, size_t need)
{
    size_t size = st->chunk_size * 2;

    if (size > CHUNK_MAX)
        size = CHUNK_MAX;
    if (size < need)
        size = need;
    struct xd_chunk *c = chunk_new(st, size);
    st->chunk_size = size;
    st->top = c->data;
    st->end = c->data + size;
}

static char *
take(xd_stanza *st, size_t n, size_t align)
{
    size_t pad = (size_t)(-(uintptr_t)st->top & (align - 1));

    if ((size_t)(st->end - st->top) >= pad + n) {
        char *p = st->top + pad;
        st->top = p + n;
        return p;
    }
    if (n > CHUNK_ALONE)
        return chunk_new(st, n)->data; /* chunk data is max-aligned */
    chunk_next(st, n);
    char *p = st->top;
    st->top += n;
    return p;
}

void *
xd_arena_alloc(xd_stanza *st, size_t n)
{
    return take(st, n, ARENA_ALIGN);
}

char *
xd_arena_bytes(xd_stanza *st, size_t n)
{
    return take(st, n, 1);
}

const char *
xd_arena_strndup(xd_stanza *st, const char *s, size_t len)
{
    char *d = take(st, len + 1, 1);

    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

const char *
xd_arena_strdup(xd_stanza *st, const char *s)
{
    return xd_arena_strndup(st, s, strlen(s));
}

void
xd_arena_append(xd_stanza *st, char **s, size_t *slen, size_t *cap,
                const char *add, size_t len)
{
    char *d = *s;
    size_t have = *slen, need = have + len + 1;

    if (need > *cap && d + *cap == st->top &&
        (size_t)(st->end - st->top) >= need - *cap) {
        st->top += need - *cap;
        *cap = need;
    }
    if (need > *cap) {
        /* Move, with as much room again: each byte is then copied a
         * bounded number of times however many pieces the text comes in,
         * and whatever else is allocated between the pieces. */
        d = xd_arena_bytes(st, need * 2);
        memcpy(d, *s, have);
        *s = d;
        *cap = need * 2;
    }
    memcpy(d + have, add, len);
    d[have + len] = '\0';
    *slen = have + len;
}

const char *
xd_arena_ns(xd_stanza *st, const char *s, size_t len, const char *near)
{
    if (near != NULL && strncmp(near, s, len) == 0 && near[len] == '\0')
        return near;
    for (size_t i = 0; i < XD_NELEM(known_ns); i++)
        if (known_ns[i].len == len && memcmp(known_ns[i].s, s, len) == 0)
            return known_ns[i].s;
    return xd_arena_strndup(st, s, len);
}

xd_stanza *
xd_stanza_ref(xd_stanza *st)
{
    st->refs++;
    return st;
}

void
xd_stanza_unref(xd_stanza *st)
{
    if (st == NULL || --st->refs > 0)
        return;
    for (struct xd_chunk *c = st->chunks, *n; c != NULL; c = n) {
        n = c->next;
        free(c);
    }
    free(st);
}

size_t
xd_stanza_mem(const xd_stanza *st)
{
    return st->mem;
}
