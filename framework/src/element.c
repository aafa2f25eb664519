/*
 * element.c: element trees living in one arena per stanza, and their
 * serialisation with minimal namespace declarations.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/element.h>

/* --- the arena ------------------------------------------------------- */

struct chunk {
    struct chunk *next;
    size_t size, used;
    alignas(max_align_t) char data[];
};

#define FIRST_CHUNK 1024
#define ALIGN       (sizeof(max_align_t))

struct xd_stanza {
    int refs;
    struct chunk *chunks; /* newest first */
    size_t mem;
    xd_elem *root;
};

struct attr {
    struct attr *next;
    const char *ns; /* "" when none */
    const char *name;
    const char *value;
};

struct xd_elem {
    xd_stanza *st;
    xd_elem *parent;
    xd_elem *first, *last, *next; /* children include text nodes */
    const char *name;             /* NULL for a text node */
    const char *ns;
    struct attr *attrs;
    size_t nattrs;
    size_t nchildren; /* element children */
    const char *text; /* text node: its text; element: joined cache */
    size_t text_len;
};

static void *
arena_alloc(xd_stanza *st, size_t n)
{
    struct chunk *c = st->chunks;

    n = (n + ALIGN - 1) & ~(ALIGN - 1);
    if (c == NULL || c->size - c->used < n) {
        size_t size = c ? c->size * 2 : FIRST_CHUNK;
        while (size < n)
            size *= 2;
        c = xd_xmalloc(sizeof(*c) + size);
        c->size = size;
        c->used = 0;
        c->next = st->chunks;
        st->chunks = c;
        st->mem += sizeof(*c) + size;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static void *
arena_zalloc(xd_stanza *st, size_t n)
{
    return memset(arena_alloc(st, n), 0, n);
}

/* Namespaces that occur in nearly every stanza are shared, not copied. */
static const char *const common_ns[] = {
    "",         XD_NS_CLIENT, XD_NS_STREAMS,    XD_NS_STANZA_ERRORS, XD_NS_SASL,
    XD_NS_BIND, XD_NS_XML,    XD_NS_DISCO_INFO, XD_NS_DISCO_ITEMS,   XD_NS_PING,
};

static const char *
arena_strndup(xd_stanza *st, const char *s, size_t len)
{
    char *d = arena_alloc(st, len + 1);

    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

static const char *
arena_strdup(xd_stanza *st, const char *s)
{
    return arena_strndup(st, s, strlen(s));
}

static const char *
intern_ns(xd_stanza *st, const char *ns)
{
    if (ns == NULL)
        return "";
    for (size_t i = 0; i < XD_NELEM(common_ns); i++)
        if (ns == common_ns[i] || strcmp(ns, common_ns[i]) == 0)
            return common_ns[i];
    return arena_strdup(st, ns);
}

/* --- stanzas --------------------------------------------------------- */

static xd_elem *
elem_new(xd_stanza *st, const char *name, const char *ns)
{
    xd_elem *e = arena_zalloc(st, sizeof(*e));

    e->st = st;
    e->name = arena_strdup(st, name);
    e->ns = intern_ns(st, ns);
    return e;
}

xd_stanza *
xd_stanza_new(const char *name, const char *ns)
{
    xd_stanza *st = xd_xcalloc(1, sizeof(*st));

    st->refs = 1;
    st->root = elem_new(st, name, ns);
    return st;
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
    for (struct chunk *c = st->chunks, *n; c != NULL; c = n) {
        n = c->next;
        free(c);
    }
    free(st);
}

xd_elem *
xd_stanza_root(const xd_stanza *st)
{
    return st->root;
}

size_t
xd_stanza_mem(const xd_stanza *st)
{
    return st->mem + sizeof(*st);
}

xd_stanza *
xd_stanza_copy(const xd_elem *e)
{
    xd_stanza *st = xd_stanza_new(e->name, e->ns);

    xd_elem_clear(st->root);
    for (size_t i = 0; i < e->nattrs; i++) {
        const char *ns, *name, *value;
        xd_elem_attr_at(e, i, &ns, &name, &value);
        xd_elem_set_attr_ns(st->root, ns, name, value);
    }
    for (const xd_elem *c = e->first; c != NULL; c = c->next) {
        if (c->name == NULL)
            xd_elem_add_text(st->root, c->text, c->text_len);
        else
            xd_elem_add_copy(st->root, c);
    }
    return st;
}

/* --- reading --------------------------------------------------------- */

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

int
xd_elem_is(const xd_elem *e, const char *name, const char *ns)
{
    return e != NULL && e->name != NULL && strcmp(e->name, name) == 0 &&
           (ns == NULL || strcmp(e->ns, ns) == 0);
}

static struct attr *
find_attr(const xd_elem *e, const char *ns, const char *name)
{
    for (struct attr *a = e->attrs; a != NULL; a = a->next)
        if (strcmp(a->name, name) == 0 && strcmp(a->ns, ns) == 0)
            return a;
    return NULL;
}

const char *
xd_elem_attr(const xd_elem *e, const char *name)
{
    struct attr *a = find_attr(e, "", name);

    return a ? a->value : NULL;
}

const char *
xd_elem_attr_ns(const xd_elem *e, const char *ns, const char *name)
{
    struct attr *a = find_attr(e, ns ? ns : "", name);

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
    struct attr *a = e->attrs;

    while (i-- > 0 && a != NULL)
        a = a->next;
    *ns = a ? a->ns : NULL;
    *name = a ? a->name : NULL;
    *value = a ? a->value : NULL;
}

static int
matches(const xd_elem *c, const char *name, const char *ns)
{
    return c->name != NULL && (name == NULL || strcmp(c->name, name) == 0) &&
           (ns == NULL || strcmp(c->ns, ns) == 0);
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
    /* Several text nodes (text around child elements): join them once. */
    char *joined = arena_alloc(e->st, len + 1), *p = joined;
    for (const xd_elem *c = e->first; c != NULL; c = c->next)
        if (c->name == NULL) {
            memcpy(p, c->text, c->text_len);
            p += c->text_len;
        }
    *p = '\0';
    ((xd_elem *)e)->text = joined;
    ((xd_elem *)e)->text_len = len;
    return joined;
}

const char *
xd_elem_child_text(const xd_elem *e, const char *name, const char *ns)
{
    xd_elem *c = xd_elem_child(e, name, ns);

    return c ? xd_elem_text(c) : NULL;
}

/* --- building -------------------------------------------------------- */

static void
link_child(xd_elem *e, xd_elem *c)
{
    c->parent = e;
    if (e->last)
        e->last->next = c;
    else
        e->first = c;
    e->last = c;
    if (c->name != NULL)
        e->nchildren++;
    e->text = NULL; /* drop the joined-text cache */
}

void
xd_elem_set_attr_ns(xd_elem *e, const char *ns, const char *name,
                    const char *value)
{
    struct attr **pp = &e->attrs;

    if (ns == NULL)
        ns = "";
    for (; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->name, name) == 0 && strcmp((*pp)->ns, ns) == 0)
            break;
    if (value == NULL) {
        if (*pp != NULL) {
            *pp = (*pp)->next;
            e->nattrs--;
        }
        return;
    }
    if (*pp == NULL) {
        struct attr *a = arena_zalloc(e->st, sizeof(*a));
        a->ns = intern_ns(e->st, ns);
        a->name = arena_strdup(e->st, name);
        *pp = a;
        e->nattrs++;
    }
    (*pp)->value = arena_strdup(e->st, value);
}

void
xd_elem_set_attr(xd_elem *e, const char *name, const char *value)
{
    xd_elem_set_attr_ns(e, "", name, value);
}

xd_elem *
xd_elem_add_child(xd_elem *e, const char *name, const char *ns)
{
    xd_elem *c = elem_new(e->st, name, ns ? ns : e->ns);

    link_child(e, c);
    return c;
}

void
xd_elem_add_text(xd_elem *e, const char *text, size_t len)
{
    if (len == 0)
        return;
    if (e->last != NULL && e->last->name == NULL) {
        /* Extend the last text node rather than adding another. */
        xd_elem *t = e->last;
        char *s = arena_alloc(e->st, t->text_len + len + 1);
        memcpy(s, t->text, t->text_len);
        memcpy(s + t->text_len, text, len);
        s[t->text_len + len] = '\0';
        t->text = s;
        t->text_len += len;
        e->text = NULL;
        return;
    }
    xd_elem *t = arena_zalloc(e->st, sizeof(*t));
    t->st = e->st;
    t->text = arena_strndup(e->st, text, len);
    t->text_len = len;
    link_child(e, t);
}

void
xd_elem_clear(xd_elem *e)
{
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
    xd_elem *c = xd_elem_add_child(e, src->name, src->ns);

    for (const struct attr *a = src->attrs; a != NULL; a = a->next)
        xd_elem_set_attr_ns(c, a->ns, a->name, a->value);
    for (const xd_elem *s = src->first; s != NULL; s = s->next) {
        if (s->name == NULL)
            xd_elem_add_text(c, s->text, s->text_len);
        else
            xd_elem_add_copy(c, s);
    }
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
        if (prev)
            prev->next = c->next;
        else
            p->first = c->next;
        if (p->last == c)
            p->last = prev;
        if (c->name != NULL)
            p->nchildren--;
        p->text = NULL;
        c->parent = NULL;
        c->next = NULL;
        return;
    }
}

/* --- serialising ----------------------------------------------------- */

static int
is_content_ns(const char *ns)
{
    return ns != NULL &&
           (strcmp(ns, XD_NS_CLIENT) == 0 || strcmp(ns, XD_NS_SERVER) == 0 ||
            strcmp(ns, XD_NS_COMPONENT) == 0);
}

static void
write_name(xd_buf *out, const xd_elem *e, int stream_prefix)
{
    if (stream_prefix)
        xd_buf_append(out, "stream:", 7);
    xd_buf_append_str(out, e->name);
}

/*
 * `scope` is the default namespace in force where e is written (NULL: none
 * declared). `in_stream` is true when writing into an XMPP stream, where the
 * stream: prefix is bound and the stanza namespaces are one.
 */
static void
serialise(const xd_elem *e, const char *scope, int in_stream, xd_buf *out)
{
    const char *child_scope = scope;
    int stream_prefix = in_stream && strcmp(e->ns, XD_NS_STREAMS) == 0;
    int declare = 0;

    if (!stream_prefix) {
        if (strcmp(e->ns, XD_NS_CLIENT) == 0 && in_stream &&
            is_content_ns(scope))
            declare = 0; /* a stanza namespace in its stream */
        else if (scope != NULL && strcmp(e->ns, scope) == 0)
            declare = 0;
        else if (scope == NULL && *e->ns == '\0')
            declare = 0;
        else
            declare = 1;
    }
    xd_buf_append(out, "<", 1);
    write_name(out, e, stream_prefix);
    if (declare) {
        xd_buf_append_str(out, " xmlns='");
        xd_buf_append_attr(out, e->ns, strlen(e->ns));
        xd_buf_append(out, "'", 1);
        child_scope = e->ns;
    }
    unsigned prefixes = 0;
    for (const struct attr *a = e->attrs; a != NULL; a = a->next) {
        xd_buf_append(out, " ", 1);
        if (strcmp(a->ns, XD_NS_XML) == 0) {
            xd_buf_append(out, "xml:", 4);
        } else if (*a->ns != '\0') {
            /* Rare: declare a prefix for this attribute alone. */
            xd_buf_appendf(out, "xmlns:a%u='", prefixes);
            xd_buf_append_attr(out, a->ns, strlen(a->ns));
            xd_buf_appendf(out, "' a%u:", prefixes);
            prefixes++;
        }
        xd_buf_append_str(out, a->name);
        xd_buf_append(out, "='", 2);
        xd_buf_append_attr(out, a->value, strlen(a->value));
        xd_buf_append(out, "'", 1);
    }
    if (e->first == NULL) {
        xd_buf_append(out, "/>", 2);
        return;
    }
    xd_buf_append(out, ">", 1);
    for (const xd_elem *c = e->first; c != NULL; c = c->next) {
        if (c->name == NULL)
            xd_buf_append_text(out, c->text, c->text_len);
        else
            serialise(c, child_scope, in_stream, out);
    }
    xd_buf_append(out, "</", 2);
    write_name(out, e, stream_prefix);
    xd_buf_append(out, ">", 1);
}

void
xd_elem_serialise(const xd_elem *e, const char *stream_ns, xd_buf *out)
{
    serialise(e, stream_ns, stream_ns != NULL, out);
}

char *
xd_elem_to_string(const xd_elem *e, const char *stream_ns)
{
    xd_buf b = XD_BUF_INIT;

    xd_elem_serialise(e, stream_ns, &b);
    return xd_buf_steal(&b);
}
