/*
 * element.c: building, reading and copying element trees. Every node lives
 * in its stanza's arena (arena.c); serialise.c writes the trees out.
 */
#include <stdlib.h>
#include <string.h>

#include "element_internal.h"

/* --- internal builders ------------------------------------------------ */

xd_elem *
xd_elem_alloc(xd_stanza *st, const char *name, const char *ns)
{
    xd_elem *e = xd_arena_alloc(st, sizeof(*e));

    e->next = NULL;
    e->name = name;
    e->text = NULL;
    e->text_len = 0;
    e->text_cap = 0;
    e->parent = NULL;
    e->st = st;
    e->ns = ns;
    e->first = e->last = NULL;
    e->attrs = NULL;
    e->nattrs = 0;
    e->nchildren = 0;
    return e;
}

void
xd_elem_link(xd_elem *parent, xd_elem *child)
{
    if (child->name != NULL) {
        child->parent = parent;
        parent->nchildren++;
    }
    if (parent->last != NULL)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
    parent->text = NULL; /* the joined-text cache */
}

void
xd_elem_push_attr(xd_elem *e, struct xd_attr **tail, const char *ns,
                  const char *name, const char *value)
{
    struct xd_attr *a = xd_arena_alloc(e->st, sizeof(*a));

    a->next = NULL;
    a->ns = ns;
    a->name = name;
    a->value = value;
    if (*tail != NULL)
        (*tail)->next = a;
    else
        e->attrs = a;
    *tail = a;
    e->nattrs++;
}

/* A namespace given by a caller, held by st: shared when it can be. */
static const char *
hold_ns(xd_stanza *st, const char *ns, const char *near)
{
    if (ns == NULL)
        return "";
    if (ns == near)
        return near;
    return xd_arena_ns(st, ns, strlen(ns), near);
}

/* A string of stanza `from` held by st: shared when it is the same stanza
 * (its arena lives exactly as long), copied otherwise. */
static const char *
hold_str(xd_stanza *st, const xd_stanza *from, const char *s)
{
    return st == from ? s : xd_arena_strdup(st, s);
}

/* --- stanzas ---------------------------------------------------------- */

xd_stanza *
xd_stanza_new(const char *name, const char *ns)
{
    xd_stanza *st = xd_arena_new();

    st->root =
        xd_elem_alloc(st, xd_arena_strdup(st, name), hold_ns(st, ns, NULL));
    return st;
}

xd_elem *
xd_stanza_root(const xd_stanza *st)
{
    return st->root;
}

/*
 * Copies the attributes and the content of src under dst, which is empty
 * and held by another (or the same) stanza. Iterative, so that a deep tree
 * cannot exhaust the stack.
 */
static void
copy_content(xd_elem *dst, const xd_elem *src)
{
    xd_stanza *st = dst->st;
    const xd_elem *s = src;
    xd_elem *d = dst;

    for (;;) {
        struct xd_attr *tail = NULL;
        for (const struct xd_attr *a = s->attrs; a != NULL; a = a->next)
            xd_elem_push_attr(d, &tail, hold_ns(st, a->ns, NULL),
                              hold_str(st, src->st, a->name),
                              hold_str(st, src->st, a->value));
        /* Descend to the first child element, copying text on the way. */
        const xd_elem *c = s->first;
        for (;;) {
            while (c != NULL && c->name == NULL) {
                xd_elem_add_text(d, c->text, c->text_len);
                c = c->next;
            }
            if (c != NULL)
                break;
            /* s is done: go up until an ancestor has more siblings. */
            if (s == src)
                return;
            c = s->next;
            s = s->parent;
            d = d->parent;
        }
        xd_elem *n = xd_elem_alloc(st, hold_str(st, src->st, c->name),
                                   hold_ns(st, c->ns, d->ns));
        xd_elem_link(d, n);
        s = c;
        d = n;
    }
}

xd_stanza *
xd_stanza_copy(const xd_elem *e)
{
    xd_stanza *st = xd_stanza_new(e->name, e->ns);

    copy_content(st->root, e);
    return st;
}

/* --- reading ---------------------------------------------------------- */

xd_stanza *
xd_elem_stanza(const xd_elem *e)
{
    return e->st;
}

const char *
xd_elem_name(const xd_elem *e)
{
    return e->name;
}

const char *
xd_elem_ns(const xd_elem *e)
{
    return e->ns;
}

xd_elem *
xd_elem_parent(const xd_elem *e)
{
    return e->parent;
}

static int
ns_eq(const char *a, const char *b)
{
    return a == b || strcmp(a, b) == 0;
}

/* Element node c has this name and ns (NULL matches any). */
static int
matches(const xd_elem *c, const char *name, const char *ns)
{
    return c->name != NULL && (name == NULL || strcmp(c->name, name) == 0) &&
           (ns == NULL || ns_eq(c->ns, ns));
}

int
xd_elem_is(const xd_elem *e, const char *name, const char *ns)
{
    return e != NULL && matches(e, name, ns);
}

static struct xd_attr *
find_attr(const xd_elem *e, const char *ns, const char *name)
{
    for (struct xd_attr *a = e->attrs; a != NULL; a = a->next)
        if (strcmp(a->name, name) == 0 && ns_eq(a->ns, ns))
            return a;
    return NULL;
}

const char *
xd_elem_attr(const xd_elem *e, const char *name)
{
    struct xd_attr *a = find_attr(e, "", name);

    return a ? a->value : NULL;
}

const char *
xd_elem_attr_ns(const xd_elem *e, const char *ns, const char *name)
{
    struct xd_attr *a = find_attr(e, ns ? ns : "", name);

    return a ? a->value : NULL;
}

size_t
xd_elem_attr_count(const xd_elem *e)
{
    return e->nattrs;
}

void
xd_elem_attr_at(const xd_elem *e, size_t i, const char **ns, const char **name,
                const char **value)
{
    const struct xd_attr *a = e->attrs;

    while (a != NULL && i-- > 0)
        a = a->next;
    *ns = a ? a->ns : NULL;
    *name = a ? a->name : NULL;
    *value = a ? a->value : NULL;
}

xd_elem *
xd_elem_child(const xd_elem *e, const char *name, const char *ns)
{
    if (e == NULL)
        return NULL;
    for (xd_elem *c = e->first; c != NULL; c = c->next)
        if (matches(c, name, ns))
            return c;
    return NULL;
}

xd_elem *
xd_elem_first(const xd_elem *e)
{
    return xd_elem_child(e, NULL, NULL);
}

xd_elem *
xd_elem_next(const xd_elem *e)
{
    return xd_elem_next_match(e, NULL, NULL);
}

xd_elem *
xd_elem_next_match(const xd_elem *after, const char *name, const char *ns)
{
    for (xd_elem *c = after->next; c != NULL; c = c->next)
        if (matches(c, name, ns))
            return c;
    return NULL;
}

size_t
xd_elem_child_count(const xd_elem *e)
{
    return e->nchildren;
}

const char *
xd_elem_text(const xd_elem *e)
{
    const xd_elem *only = NULL;
    size_t n = 0, len = 0;

    if (e == NULL)
        return "";
    if (e->text != NULL)
        return e->text;
    for (const xd_elem *c = e->first; c != NULL; c = c->next)
        if (c->name == NULL) {
            only = c;
            n++;
            len += c->text_len;
        }
    if (n == 0)
        return "";
    if (n == 1)
        return only->text;
    /* Text around child elements: join it once, in the arena. */
    xd_elem *w = (xd_elem *)e; /* the cache is not part of the value */
    char *joined = xd_arena_bytes(w->st, len + 1), *p = joined;
    for (const xd_elem *c = e->first; c != NULL; c = c->next)
        if (c->name == NULL) {
            memcpy(p, c->text, c->text_len);
            p += c->text_len;
        }
    *p = '\0';
    w->text = joined;
    w->text_len = len;
    return joined;
}

const char *
xd_elem_child_text(const xd_elem *e, const char *name, const char *ns)
{
    xd_elem *c = xd_elem_child(e, name, ns);

    return c ? xd_elem_text(c) : NULL;
}

/* --- building --------------------------------------------------------- */

void
xd_elem_set_attr_ns(xd_elem *e, const char *ns, const char *name,
                    const char *value)
{
    struct xd_attr **pp = &e->attrs, *tail = NULL;

    if (ns == NULL)
        ns = "";
    for (; *pp != NULL; tail = *pp, pp = &(*pp)->next)
        if (strcmp((*pp)->name, name) == 0 && ns_eq((*pp)->ns, ns))
            break;
    if (value == NULL) {
        if (*pp != NULL) {
            *pp = (*pp)->next; /* its memory stays in the arena */
            e->nattrs--;
        }
        return;
    }
    if (*pp != NULL) {
        (*pp)->value = xd_arena_strdup(e->st, value);
        return;
    }
    xd_elem_push_attr(e, &tail, hold_ns(e->st, ns, e->ns),
                      xd_arena_strdup(e->st, name),
                      xd_arena_strdup(e->st, value));
}

void
xd_elem_set_attr(xd_elem *e, const char *name, const char *value)
{
    xd_elem_set_attr_ns(e, "", name, value);
}

xd_elem *
xd_elem_add_child(xd_elem *e, const char *name, const char *ns)
{
    xd_elem *c = xd_elem_alloc(e->st, xd_arena_strdup(e->st, name),
                               ns ? hold_ns(e->st, ns, e->ns) : e->ns);

    xd_elem_link(e, c);
    return c;
}

void
xd_elem_add_text(xd_elem *e, const char *text, size_t len)
{
    xd_elem *t = e->last;

    if (len == 0)
        return;
    if (t != NULL && t->name == NULL) {
        /* Adjacent text is one node, however many pieces it came in. */
        xd_arena_append(e->st, &t->text, &t->text_len, &t->text_cap, text, len);
        e->text = NULL;
        return;
    }
    t = xd_arena_alloc(e->st, XD_TEXT_NODE_SIZE);
    t->next = NULL;
    t->name = NULL;
    t->text = xd_arena_bytes(e->st, len + 1);
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    t->text_len = len;
    t->text_cap = len + 1;
    xd_elem_link(e, t);
}

void
xd_elem_add_str(xd_elem *e, const char *text)
{
    if (text != NULL)
        xd_elem_add_text(e, text, strlen(text));
}

xd_elem *
xd_elem_add_child_text(xd_elem *e, const char *name, const char *ns,
                       const char *text)
{
    xd_elem *c = xd_elem_add_child(e, name, ns);

    xd_elem_add_str(c, text);
    return c;
}

void
xd_elem_clear(xd_elem *e)
{
    for (xd_elem *c = e->first; c != NULL; c = c->next)
        if (c->name != NULL)
            c->parent = NULL;
    e->first = e->last = NULL;
    e->nchildren = 0;
    e->text = NULL;
}

xd_elem *
xd_elem_set_child_text(xd_elem *e, const char *name, const char *ns,
                       const char *text)
{
    xd_elem *c = xd_elem_child(e, name, ns ? ns : e->ns);

    if (c == NULL)
        c = xd_elem_add_child(e, name, ns);
    xd_elem_clear(c);
    xd_elem_add_text(c, text, strlen(text));
    return c;
}

xd_elem *
xd_elem_add_copy(xd_elem *e, const xd_elem *src)
{
    xd_elem *c = xd_elem_alloc(e->st, hold_str(e->st, src->st, src->name),
                               hold_ns(e->st, src->ns, e->ns));

    /* Link after copying: src may be e itself or one of its ancestors. */
    copy_content(c, src);
    xd_elem_link(e, c);
    return c;
}

void
xd_elem_remove(xd_elem *e)
{
    xd_elem *p = e->parent, *prev = NULL;

    if (p == NULL)
        return;
    for (xd_elem *c = p->first; c != NULL; prev = c, c = c->next) {
        if (c != e)
            continue;
        if (prev != NULL)
            prev->next = c->next;
        else
            p->first = c->next;
        if (p->last == c)
            p->last = prev;
        p->nchildren--;
        p->text = NULL;
        c->parent = NULL;
        c->next = NULL;
        return;
    }
}
