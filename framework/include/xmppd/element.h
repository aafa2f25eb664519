/*
 * element.h: XML element trees.
 *
 * An xd_stanza is one top-level element together with the arena that every
 * node, name, attribute and text of its tree is allocated from. Elements
 * (xd_elem) never outlive their stanza and are never freed one by one: free
 * (unref) the stanza. Stanzas are reference-counted so that one parsed stanza
 * can be queued to many receivers (MUC fan-out) without copies.
 *
 * Strings returned by getters are borrowed and live as long as the stanza.
 * Setters copy their arguments into the arena.
 */
#ifndef XMPPD_ELEMENT_H
#define XMPPD_ELEMENT_H

#include <stddef.h>
#include <xmppd/buf.h>
#include <xmppd/common.h>
#include <xmppd/ns.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xd_stanza xd_stanza;
typedef struct xd_elem xd_elem;

/* Creates a stanza whose root element is <name xmlns=ns/>, with a reference
 * count of 1. The caller owns the reference. */
xd_stanza *xd_stanza_new(const char *name, const char *ns);
/* Adds a reference; returns st. */
xd_stanza *xd_stanza_ref(xd_stanza *st);
/* Drops a reference; the last one frees the tree and its arena. NULL is a
 * no-op. */
void xd_stanza_unref(xd_stanza *st);
/* The root element; lives with st. */
xd_elem *xd_stanza_root(const xd_stanza *st);
/* Deep-copies e (any element of any stanza) into a new stanza of its own;
 * the caller owns it. */
xd_stanza *xd_stanza_copy(const xd_elem *e);
/* Bytes the arena holds (for limits and memory accounting). */
size_t xd_stanza_mem(const xd_stanza *st);

/* The stanza an element belongs to (borrowed). */
xd_stanza *xd_elem_stanza(const xd_elem *e);
/* Local name (borrowed, lives with the element). */
const char *xd_elem_name(const xd_elem *e);
/* Namespace URI; "" for no namespace; never NULL. */
const char *xd_elem_ns(const xd_elem *e);
/* Parent element, or NULL for the root. */
xd_elem *xd_elem_parent(const xd_elem *e);
/* True when e has this name (and this ns, unless ns is NULL). */
int xd_elem_is(const xd_elem *e, const char *name, const char *ns);

/* Attribute without namespace, or NULL if absent. */
const char *xd_elem_attr(const xd_elem *e, const char *name);
/* Namespaced attribute (e.g. XD_NS_XML, "lang"), or NULL if absent. */
const char *xd_elem_attr_ns(const xd_elem *e, const char *ns, const char *name);
/* Sets (value != NULL) or removes (value == NULL) an attribute. */
void xd_elem_set_attr(xd_elem *e, const char *name, const char *value);
void xd_elem_set_attr_ns(xd_elem *e, const char *ns, const char *name,
                         const char *value);
/* Number of attributes, and the i-th one (ns is "" when it has none). */
size_t xd_elem_attr_count(const xd_elem *e);
void xd_elem_attr_at(const xd_elem *e, size_t i, const char **ns,
                     const char **name, const char **value);

/* First child element matching name and ns; NULL matches any. NULL if none. */
xd_elem *xd_elem_child(const xd_elem *e, const char *name, const char *ns);
/* Element children in document order (text nodes are skipped). */
xd_elem *xd_elem_first(const xd_elem *e);
xd_elem *xd_elem_next(const xd_elem *e);
/* Next sibling after `after` that matches name and ns (NULL = any). */
xd_elem *xd_elem_next_match(const xd_elem *after, const char *name,
                            const char *ns);
/* Number of element children. */
size_t xd_elem_child_count(const xd_elem *e);

/* Concatenation of e's direct text children; "" when it has none. The first
 * call may join text nodes in the arena; the result lives with the stanza. */
const char *xd_elem_text(const xd_elem *e);
/* Text of the first matching child, or NULL when there is no such child. */
const char *xd_elem_child_text(const xd_elem *e, const char *name,
                               const char *ns);

/* Appends a new child <name/>; ns NULL inherits e's namespace. */
xd_elem *xd_elem_add_child(xd_elem *e, const char *name, const char *ns);
/* Appends character data (len bytes of UTF-8; need not be NUL-terminated). */
void xd_elem_add_text(xd_elem *e, const char *text, size_t len);
/* Appends NUL-terminated character data (NULL: nothing). */
void xd_elem_add_str(xd_elem *e, const char *text);
/* Appends a new child <name>text</name> (ns NULL inherits e's; text NULL
 * leaves it empty), even when e has one of that name already (several
 * <group/>s, <value/>s); returns it. */
xd_elem *xd_elem_add_child_text(xd_elem *e, const char *name, const char *ns,
                                const char *text);
/* Replaces the first matching child's content by text, adding the child if
 * absent; returns it. */
xd_elem *xd_elem_set_child_text(xd_elem *e, const char *name, const char *ns,
                                const char *text);
/* Appends a deep copy of src (from any stanza) as the last child of e. */
xd_elem *xd_elem_add_copy(xd_elem *e, const xd_elem *src);
/* Unlinks e from its parent (its memory stays in the arena until the stanza
 * goes). Removing the root is invalid. */
void xd_elem_remove(xd_elem *e);
/* Removes all children (elements and text) of e. */
void xd_elem_clear(xd_elem *e);

/*
 * Appends the XML of e to out. `stream_ns` is the default namespace of the
 * stream the element is written into (XD_NS_CLIENT, XD_NS_SERVER or
 * XD_NS_COMPONENT), or NULL for a standalone document; stanza-namespace
 * elements directly in that context are written without an xmlns, any other
 * namespace change is declared once where it starts. Text and attribute values
 * are escaped; xml:lang is written with the predefined xml prefix, other
 * namespaced attributes with prefixes declared on their element, and
 * unnamespaced attributes named xmlns or xmlns:* are not written at all.
 */
void xd_elem_serialise(const xd_elem *e, const char *stream_ns, xd_buf *out);
/* Convenience: the serialised element as a malloc()ed string; caller frees. */
char *xd_elem_to_string(const xd_elem *e, const char *stream_ns);

#ifdef __cplusplus
}
#endif
#endif
