/*
 * disco.c: XEP-0030 service discovery and XEP-0199 ping for a component's
 * own domain, answered from what the component registered.
 */
#include <stdlib.h>
#include <string.h>

#include "component_internal.h"

struct triple {
    char *a, *b, *c;
};

struct disco {
    struct triple *identities, *items;
    size_t nidentities, nitems;
    char **features;
    size_t nfeatures;
};

static const char *const builtin_features[] = {
    XD_NS_DISCO_INFO,
    XD_NS_DISCO_ITEMS,
    XD_NS_PING,
};

struct disco *
disco_new(void)
{
    return xd_xcalloc(1, sizeof(struct disco));
}

static void
free_triples(struct triple *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].a);
        free(t[i].b);
        free(t[i].c);
    }
    free(t);
}

void
disco_free(struct disco *d)
{
    if (d == NULL)
        return;
    free_triples(d->identities, d->nidentities);
    free_triples(d->items, d->nitems);
    for (size_t i = 0; i < d->nfeatures; i++)
        free(d->features[i]);
    free(d->features);
    free(d);
}

static void
push(struct triple **list, size_t *n, const char *a, const char *b,
     const char *c)
{
    *list = xd_xrealloc(*list, (*n + 1) * sizeof(**list));
    (*list)[*n].a = xd_xstrdup(a);
    (*list)[*n].b = xd_xstrdup(b);
    (*list)[*n].c = xd_xstrdup(c);
    (*n)++;
}

void
disco_add_identity(struct disco *d, const char *category, const char *type,
                   const char *name)
{
    push(&d->identities, &d->nidentities, category, type, name);
}

void
disco_add_item(struct disco *d, const char *jid, const char *node,
               const char *name)
{
    push(&d->items, &d->nitems, jid, node, name);
}

void
disco_add_feature(struct disco *d, const char *var)
{
    for (size_t i = 0; i < XD_NELEM(builtin_features); i++)
        if (strcmp(var, builtin_features[i]) == 0)
            return;
    for (size_t i = 0; i < d->nfeatures; i++)
        if (strcmp(var, d->features[i]) == 0)
            return;
    d->features =
        xd_xrealloc(d->features, (d->nfeatures + 1) * sizeof(*d->features));
    d->features[d->nfeatures++] = xd_xstrdup(var);
}

static void
add_attrs(xd_elem *e, const char *n1, const char *v1, const char *n2,
          const char *v2, const char *n3, const char *v3)
{
    xd_elem_set_attr(e, n1, v1);
    xd_elem_set_attr(e, n2, v2);
    xd_elem_set_attr(e, n3, v3);
}

static void
add_feature(xd_elem *q, const char *var)
{
    xd_elem_set_attr(xd_elem_add_child(q, "feature", NULL), "var", var);
}

xd_stanza *
disco_answer(const struct disco *d, const char *domain, const xd_stanza *iq)
{
    const char *to = xd_stanza_to(iq);
    const char *type = xd_stanza_type(iq);
    const xd_elem *q = xd_elem_first(xd_stanza_root(iq));

    if (to == NULL || strcmp(to, domain) != 0 || type == NULL ||
        strcmp(type, "get") != 0 || q == NULL)
        return NULL;
    const char *ns = xd_elem_ns(q);
    if (strcmp(ns, XD_NS_PING) == 0)
        return xd_stanza_reply(iq);
    int info = strcmp(ns, XD_NS_DISCO_INFO) == 0;
    if ((!info && strcmp(ns, XD_NS_DISCO_ITEMS) != 0) ||
        xd_elem_attr(q, "node") != NULL)
        return NULL;
    xd_stanza *res = xd_stanza_reply(iq);
    xd_elem *out = xd_elem_add_child(xd_stanza_root(res), "query", ns);
    if (info) {
        for (size_t i = 0; i < d->nidentities; i++)
            add_attrs(xd_elem_add_child(out, "identity", NULL), "category",
                      d->identities[i].a, "type", d->identities[i].b, "name",
                      d->identities[i].c);
        for (size_t i = 0; i < XD_NELEM(builtin_features); i++)
            add_feature(out, builtin_features[i]);
        for (size_t i = 0; i < d->nfeatures; i++)
            add_feature(out, d->features[i]);
    } else {
        for (size_t i = 0; i < d->nitems; i++)
            add_attrs(xd_elem_add_child(out, "item", NULL), "jid",
                      d->items[i].a, "node", d->items[i].b, "name",
                      d->items[i].c);
    }
    return res;
}
