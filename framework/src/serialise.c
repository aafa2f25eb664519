/*
 * serialise.c: element trees to XML text, with as few namespace
 * declarations as the stream they are written into allows.
 *
 * `scope` below is the default namespace in force where an element is
 * written, NULL when none has been declared (a standalone document's root).
 * Inside a stream whose default namespace is one of the three stanza
 * namespaces, XD_NS_CLIENT elements directly in that default are written
 * without xmlns: that is how one parsed stanza goes out unchanged on a
 * client, server or component stream. Everywhere else an element declares
 * its namespace when it differs from the scope, e.g. a jabber:client
 * <message/> forwarded inside urn:xmpp:forward:0.
 */
#include <stdlib.h>
#include <string.h>

#include "element_internal.h"

/* The stack of open elements for the iterative walk; deeper trees than
 * this (only ever built by hand) move it to the heap. */
#define STACK_LOCAL 32
/* Namespaced attributes whose prefix is remembered per element; more
 * distinct namespaces than that on one element each get a new prefix. */
#define PREFIX_MAX 8

struct frame {
    const xd_elem *e;
    const char *scope; /* default namespace for e's children */
    int prefixed;      /* written as stream:name */
};

static int
ns_eq(const char *a, const char *b)
{
    return a == b || strcmp(a, b) == 0;
}

static int
is_stanza_ns(const char *ns)
{
    return ns_eq(ns, XD_NS_CLIENT) || ns_eq(ns, XD_NS_SERVER) ||
           ns_eq(ns, XD_NS_COMPONENT);
}

/* An unnamespaced attribute that would be read back as a namespace
 * declaration: writing it would change the meaning of the output. */
static int
is_xmlns(const char *name)
{
    return strncmp(name, "xmlns", 5) == 0 &&
           (name[5] == '\0' || name[5] == ':');
}

static void
write_attrs(const xd_elem *e, xd_buf *out)
{
    const char *prefix_ns[PREFIX_MAX];
    unsigned nprefix = 0;

    for (const struct xd_attr *a = e->attrs; a != NULL; a = a->next) {
        if (*a->ns == '\0') {
            if (is_xmlns(a->name))
                continue;
            xd_buf_append(out, " ", 1);
        } else if (ns_eq(a->ns, XD_NS_XML)) {
            xd_buf_append(out, " xml:", 5);
        } else {
            /* Rare: a prefix of our own, declared on this element. */
            unsigned k = 0, known = nprefix < PREFIX_MAX ? nprefix : PREFIX_MAX;
            while (k < known && !ns_eq(prefix_ns[k], a->ns))
                k++;
            if (k == known) {
                k = nprefix++;
                if (k < PREFIX_MAX)
                    prefix_ns[k] = a->ns;
                xd_buf_appendf(out, " xmlns:a%u='", k);
                xd_buf_append_attr(out, a->ns, strlen(a->ns));
                xd_buf_append(out, "'", 1);
            }
            xd_buf_appendf(out, " a%u:", k);
        }
        xd_buf_append_str(out, a->name);
        xd_buf_append(out, "='", 2);
        xd_buf_append_attr(out, a->value, strlen(a->value));
        xd_buf_append(out, "'", 1);
    }
}

/* Writes e's start tag without its closing '>' or "/>"; fills *f with what
 * its content and end tag need. */
static void
write_open(const xd_elem *e, const char *scope, const char *stream_ns,
           struct frame *f, xd_buf *out)
{
    f->e = e;
    f->scope = scope;
    f->prefixed = 0;
    xd_buf_append(out, "<", 1);
    if (stream_ns != NULL && ns_eq(e->ns, XD_NS_STREAMS)) {
        /* The stream header binds the prefix for the whole stream. */
        f->prefixed = 1;
        xd_buf_append(out, "stream:", 7);
        xd_buf_append_str(out, e->name);
    } else {
        xd_buf_append_str(out, e->name);
        int in_default;
        if (scope == NULL)
            in_default = *e->ns == '\0';
        else if (stream_ns != NULL && ns_eq(scope, stream_ns) &&
                 is_stanza_ns(stream_ns))
            in_default = ns_eq(e->ns, XD_NS_CLIENT) || ns_eq(e->ns, scope);
        else
            in_default = ns_eq(e->ns, scope);
        if (!in_default) {
            xd_buf_append(out, " xmlns='", 8);
            xd_buf_append_attr(out, e->ns, strlen(e->ns));
            xd_buf_append(out, "'", 1);
            f->scope = e->ns;
        }
    }
    write_attrs(e, out);
}

static void
write_close(const struct frame *f, xd_buf *out)
{
    xd_buf_append(out, "</", 2);
    if (f->prefixed)
        xd_buf_append(out, "stream:", 7);
    xd_buf_append_str(out, f->e->name);
    xd_buf_append(out, ">", 1);
}

void
xd_elem_serialise(const xd_elem *root, const char *stream_ns, xd_buf *out)
{
    struct frame local[STACK_LOCAL], *stack = local, f;
    size_t depth = 0, cap = STACK_LOCAL;
    const xd_elem *e = root;
    const char *scope = stream_ns;

    /* Iterative, so that no tree is too deep to write. */
    for (;;) {
        const xd_elem *n;
        write_open(e, scope, stream_ns, &f, out);
        if (e->first == NULL) {
            xd_buf_append(out, "/>", 2);
            if (e == root)
                break;
            n = e->next;
        } else {
            xd_buf_append(out, ">", 1);
            if (depth == cap) {
                cap *= 2;
                if (stack == local) {
                    stack = xd_xmalloc(cap * sizeof(*stack));
                    memcpy(stack, local, sizeof(local));
                } else {
                    stack = xd_xrealloc(stack, cap * sizeof(*stack));
                }
            }
            stack[depth++] = f;
            n = e->first;
        }
        /* Write text up to the next element, closing finished ones. */
        for (;;) {
            while (n != NULL && n->name == NULL) {
                xd_buf_append_text(out, n->text, n->text_len);
                n = n->next;
            }
            if (n != NULL)
                break;
            const struct frame *top = &stack[--depth];
            write_close(top, out);
            if (top->e == root)
                goto done;
            n = top->e->next;
        }
        e = n;
        scope = stack[depth - 1].scope;
    }
done:
    if (stack != local)
        free(stack);
}

char *
xd_elem_to_string(const xd_elem *e, const char *stream_ns)
{
    xd_buf b = XD_BUF_INIT;

    xd_elem_serialise(e, stream_ns, &b);
    return xd_buf_steal(&b);
}
