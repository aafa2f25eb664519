/*
 * element_internal.h: the layout of stanzas and elements and the arena they
 * live in, shared by arena.c, element.c, serialise.c and xml_parser.c. Not
 * installed; nothing outside framework/src may include it.
 */
#ifndef XMPPD_ELEMENT_INTERNAL_H
#define XMPPD_ELEMENT_INTERNAL_H

#include <stdalign.h>
#include <stddef.h>

#include <xmppd/element.h>

struct xd_attr {
    struct xd_attr *next;
    const char *ns; /* "" when none; often a shared (interned) string */
    const char *name;
    const char *value;
};

/*
 * One node of a tree. A text node is only the first five fields (see
 * XD_TEXT_NODE_SIZE): it is allocated short, so code must look at `name`
 * before touching anything below `text_cap`.
 */
struct xd_elem {
    xd_elem *next;    /* next sibling, element or text */
    const char *name; /* NULL for a text node */
    /* Text node: its bytes, NUL-terminated. Element: the joined text of its
     * direct text children (xd_elem_text's cache), or NULL. */
    char *text;
    size_t text_len;
    size_t text_cap; /* text node: bytes allocated at `text` */
    /* Elements only from here on. */
    xd_elem *parent;
    xd_stanza *st;
    const char *ns;        /* "" for no namespace; never NULL */
    xd_elem *first, *last; /* children in document order, text included */
    struct xd_attr *attrs; /* in the order they were set or parsed */
    unsigned nattrs;
    unsigned nchildren; /* element children only */
};

#define XD_TEXT_NODE_SIZE offsetof(struct xd_elem, parent)

struct xd_chunk {
    struct xd_chunk *next;
    size_t size;
    alignas(max_align_t) char data[];
};

/* Bytes of arena inside the stanza's own allocation: a typical message or
 * presence fits, so it costs one malloc(). */
#define XD_ARENA_FIRST 1024

struct xd_stanza {
    unsigned refs;
    xd_elem *root;
    char *top, *end;         /* free space of the current chunk */
    struct xd_chunk *chunks; /* chunks beyond the first, newest first */
    size_t chunk_size;       /* size of the newest chunk */
    size_t mem;              /* bytes held, this struct included */
    alignas(max_align_t) char first[XD_ARENA_FIRST];
};

/* arena.c: allocation from a stanza's arena; out of memory is fatal. */
void *xd_arena_alloc(xd_stanza *st, size_t n); /* pointer-aligned */
char *xd_arena_bytes(xd_stanza *st, size_t n); /* unaligned */
const char *xd_arena_strndup(xd_stanza *st, const char *s, size_t len);
const char *xd_arena_strdup(xd_stanza *st, const char *s);
/*
 * Appends len bytes to the NUL-terminated string *s of *slen bytes held in
 * *cap bytes of st's arena: in place when they fit or *s is the arena's last
 * allocation, else by moving it to a place twice the size, so that a text
 * built from many pieces costs linear time and space.
 */
void xd_arena_append(xd_stanza *st, char **s, size_t *slen, size_t *cap,
                     const char *add, size_t len);
/*
 * A namespace held by st: a shared static string when it is a well-known
 * one, `near` (a namespace st already holds, typically the parent's; may be
 * NULL) when equal to it, else a copy in the arena.
 */
const char *xd_arena_ns(xd_stanza *st, const char *s, size_t len,
                        const char *near);
/* A new stanza with an empty arena and no root yet; refs is 1. */
xd_stanza *xd_arena_new(void);

/* element.c: tree building shared with the parser and the copier. name and
 * ns must already be held by st (arena or static). */
xd_elem *xd_elem_alloc(xd_stanza *st, const char *name, const char *ns);
void xd_elem_link(xd_elem *parent, xd_elem *child);
/* Appends an attribute known not to be present yet (the parser's case:
 * expat refuses duplicates); ns, name and value must already be held by
 * the stanza. `tail` tracks the end of the list between calls: start it at
 * NULL for an element without attributes. */
void xd_elem_push_attr(xd_elem *e, struct xd_attr **tail, const char *ns,
                       const char *name, const char *value);

#endif
