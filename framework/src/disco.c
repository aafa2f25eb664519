/*
 * disco.c: what a component answers by itself about itself: XEP-0030
 * service discovery of its domain (from what it registered, and by
 * callback for nodes and entity JIDs), XEP-0115 caps of that disco#info,
 * XEP-0092 software version and XEP-0199 ping.
 */
#define XD_LOG_AREA "disco"
#include <stdlib.h>
#include <string.h>

#include <xmppd/caps.h>
#include <xmppd/command.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>

#include "component_internal.h"

struct triple {
    char *a, *b, *c;
};

/* A feature is listed while it was added (xd_component_add_feature) or
 * an iq handler for it is registered. */
struct feature {
    char *var;
    int added;
    unsigned handlers;
};

struct node_cb {
    char *node;
    xd_disco_fn fn;
    void *arg;
};

struct disco {
    struct triple *identities, *items;
    size_t nidentities, nitems;
    struct feature *features;
    size_t nfeatures;
    struct node_cb *nodes;
    size_t nnodes;
    xd_disco_fn entity_fn;
    void *entity_arg;
    char *version_name, *version; /* name NULL: not answered */
    char *caps_node;
    char *caps_ver;     /* NULL until computed; reset by every change */
    char *caps_nodever; /* caps_node#caps_ver */
    int caps_failed;    /* ill-formed since the last change (logged) */
};

static const char *const builtin_features[] = {
    XD_NS_DISCO_INFO,
    XD_NS_DISCO_ITEMS,
    XD_NS_PING,
};

struct disco *
disco_new(const char *program, const char *version)
{
    struct disco *d = xd_xcalloc(1, sizeof(struct disco));

    d->version_name = xd_xstrdup(program);
    d->version = xd_xstrdup(version);
    d->caps_node = xd_xasprintf("urn:xmppd:%s", program);
    return d;
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

/* The domain's disco#info changed: its caps must be computed again. */
static void
changed(struct disco *d)
{
    free(d->caps_ver);
    free(d->caps_nodever);
    d->caps_ver = d->caps_nodever = NULL;
    d->caps_failed = 0;
}

void
disco_free(struct disco *d)
{
    if (d == NULL)
        return;
    free_triples(d->identities, d->nidentities);
    free_triples(d->items, d->nitems);
    for (size_t i = 0; i < d->nfeatures; i++)
        free(d->features[i].var);
    free(d->features);
    for (size_t i = 0; i < d->nnodes; i++)
        free(d->nodes[i].node);
    free(d->nodes);
    free(d->version_name);
    free(d->version);
    free(d->caps_node);
    changed(d);
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
    changed(d);
}

void
disco_add_item(struct disco *d, const char *jid, const char *node,
               const char *name)
{
    push(&d->items, &d->nitems, jid, node, name);
}

/* The entry of var, made when `make`; NULL for a built-in feature (always
 * listed) or, when not `make`, an unknown one. */
static struct feature *
feature(struct disco *d, const char *var, int make)
{
    for (size_t i = 0; i < XD_NELEM(builtin_features); i++)
        if (strcmp(var, builtin_features[i]) == 0)
            return NULL;
    for (size_t i = 0; i < d->nfeatures; i++)
        if (strcmp(var, d->features[i].var) == 0)
            return &d->features[i];
    if (!make)
        return NULL;
    d->features =
        xd_xrealloc(d->features, (d->nfeatures + 1) * sizeof(*d->features));
    struct feature *f = &d->features[d->nfeatures++];
    f->var = xd_xstrdup(var);
    f->added = 0;
    f->handlers = 0;
    return f;
}

void
disco_add_feature(struct disco *d, const char *var)
{
    struct feature *f = feature(d, var, 1);

    if (f != NULL && !f->added) {
        f->added = 1;
        changed(d);
    }
}

void
disco_feature_ref(struct disco *d, const char *var)
{
    struct feature *f = feature(d, var, 1);

    if (f != NULL && f->handlers++ == 0 && !f->added)
        changed(d);
}

void
disco_feature_unref(struct disco *d, const char *var)
{
    struct feature *f = feature(d, var, 0);

    if (f != NULL && f->handlers > 0 && --f->handlers == 0 && !f->added)
        changed(d);
}

void
disco_set_version(struct disco *d, const char *name, const char *version)
{
    free(d->version_name);
    free(d->version);
    d->version_name = xd_xstrdup(name);
    d->version = name ? xd_xstrdup(version ? version : "") : NULL;
    changed(d);
}

int
disco_add_node(struct disco *d, const char *node, xd_disco_fn fn, void *arg)
{
    if (strcmp(node, XD_NS_COMMANDS) == 0)
        return XD_EEXIST;
    for (size_t i = 0; i < d->nnodes; i++)
        if (strcmp(d->nodes[i].node, node) == 0)
            return XD_EEXIST;
    d->nodes = xd_xrealloc(d->nodes, (d->nnodes + 1) * sizeof(*d->nodes));
    d->nodes[d->nnodes].node = xd_xstrdup(node);
    d->nodes[d->nnodes].fn = fn;
    d->nodes[d->nnodes].arg = arg;
    d->nnodes++;
    return 0;
}

void
disco_set_entities(struct disco *d, xd_disco_fn fn, void *arg)
{
    d->entity_fn = fn;
    d->entity_arg = arg;
}

/* --- building answers ---------------------------------------------------- */

void
xd_disco_add_identity(xd_elem *query, const char *category, const char *type,
                      const char *name)
{
    xd_elem *id = xd_elem_add_child(query, "identity", NULL);

    xd_elem_set_attr(id, "category", category);
    xd_elem_set_attr(id, "type", type);
    xd_elem_set_attr(id, "name", name);
}

void
xd_disco_add_feature(xd_elem *query, const char *var)
{
    xd_elem_set_attr(xd_elem_add_child(query, "feature", NULL), "var", var);
}

void
xd_disco_add_item(xd_elem *query, const char *jid, const char *node,
                  const char *name)
{
    xd_elem *it = xd_elem_add_child(query, "item", NULL);

    xd_elem_set_attr(it, "jid", jid);
    xd_elem_set_attr(it, "node", node);
    xd_elem_set_attr(it, "name", name);
}

/* The domain's own disco#info children. */
static void
domain_info(const struct disco *d, xd_elem *q)
{
    for (size_t i = 0; i < d->nidentities; i++)
        xd_disco_add_identity(q, d->identities[i].a, d->identities[i].b,
                              d->identities[i].c);
    for (size_t i = 0; i < XD_NELEM(builtin_features); i++)
        xd_disco_add_feature(q, builtin_features[i]);
    if (d->version_name != NULL)
        xd_disco_add_feature(q, XD_NS_VERSION);
    for (size_t i = 0; i < d->nfeatures; i++)
        if (d->features[i].added || d->features[i].handlers > 0)
            xd_disco_add_feature(q, d->features[i].var);
}

int
disco_caps(struct disco *d, const char *domain, const char **node,
           const char **ver)
{
    if (d->caps_failed)
        return XD_EINVAL;
    if (d->caps_ver == NULL) {
        xd_stanza *q = xd_stanza_new("query", XD_NS_DISCO_INFO);
        domain_info(d, xd_stanza_root(q));
        int rc = xd_caps_ver(xd_stanza_root(q), XD_CAPS_SHA1, &d->caps_ver);
        xd_stanza_unref(q);
        if (rc != 0) {
            xd_log_warnx("%s: no caps: the same identity or feature is "
                         "registered twice",
                         domain);
            d->caps_failed = 1;
            return rc;
        }
        d->caps_nodever = xd_xasprintf("%s#%s", d->caps_node, d->caps_ver);
    }
    *node = d->caps_node;
    *ver = d->caps_ver;
    return 0;
}

/* Runs a disco callback and sends what it made of the answer. */
static void
run_callback(xd_component *c, xd_disco_fn fn, void *arg, const xd_stanza *in,
             xd_disco_kind kind, const char *node)
{
    xd_stanza *res = xd_stanza_iq_result(in);
    xd_elem *q = xd_elem_add_child(xd_stanza_root(res), "query",
                                   kind == XD_DISCO_INFO ? XD_NS_DISCO_INFO
                                                         : XD_NS_DISCO_ITEMS);

    xd_elem_set_attr(q, "node", node);
    int rc = fn(c, in, kind, node, q, arg);
    if (rc == 0) {
        xd_component_send(c, res);
        return;
    }
    xd_stanza_unref(res);
    if (rc == XD_DISCO_ANSWERED)
        return;
    if (rc != XD_ENOTFOUND)
        xd_log_warnx("%s: a disco callback for %s failed (%s)",
                     xd_component_domain(c), xd_stanza_to(in), xd_strerror(rc));
    xd_component_send(
        c,
        rc == XD_ENOTFOUND
            ? xd_stanza_error_reply(in, XD_ERRT_CANCEL, "item-not-found", NULL)
            : xd_stanza_error_reply(in, XD_ERRT_WAIT, "internal-server-error",
                                    NULL));
}

/* 1 when `to` is an entity JID of domain: local@domain, no resource. */
static int
is_entity(const char *to, const char *domain)
{
    xd_jid *j = NULL;
    int yes = xd_jid_parse(to, &j) == 0 && xd_jid_local(j) != NULL &&
              xd_jid_resource(j) == NULL &&
              strcmp(xd_jid_domain(j), domain) == 0;

    xd_jid_free(j);
    return yes;
}

static xd_verdict
answer_version(const struct disco *d, xd_component *c, const xd_stanza *in)
{
    if (d->version_name == NULL)
        return XD_PASS;
    xd_stanza *res = xd_stanza_iq_result(in);
    xd_elem *q = xd_elem_add_child(xd_stanza_root(res), "query", XD_NS_VERSION);
    xd_elem_add_child_text(q, "name", NULL, d->version_name);
    xd_elem_add_child_text(q, "version", NULL, d->version);
    xd_component_send(c, res);
    return XD_HANDLED;
}

static xd_verdict
answer_domain(struct disco *d, xd_component *c, const xd_stanza *in,
              xd_disco_kind kind, const char *node)
{
    const char *cnode, *cver;

    if (node != NULL) {
        for (size_t i = 0; i < d->nnodes; i++)
            if (strcmp(d->nodes[i].node, node) == 0) {
                run_callback(c, d->nodes[i].fn, d->nodes[i].arg, in, kind,
                             node);
                return XD_HANDLED;
            }
        /* XEP-0115 6.2: node#ver is our disco#info, under that name. */
        if (kind != XD_DISCO_INFO ||
            disco_caps(d, xd_component_domain(c), &cnode, &cver) != 0 ||
            strcmp(node, d->caps_nodever) != 0) {
            xd_component_send(c, xd_stanza_error_reply(in, XD_ERRT_CANCEL,
                                                       "item-not-found", NULL));
            return XD_HANDLED;
        }
    }
    xd_stanza *res = xd_stanza_iq_result(in);
    xd_elem *out = xd_elem_add_child(xd_stanza_root(res), "query",
                                     kind == XD_DISCO_INFO ? XD_NS_DISCO_INFO
                                                           : XD_NS_DISCO_ITEMS);
    xd_elem_set_attr(out, "node", node);
    if (kind == XD_DISCO_INFO)
        domain_info(d, out);
    else
        for (size_t i = 0; i < d->nitems; i++)
            xd_disco_add_item(out, d->items[i].a, d->items[i].b, d->items[i].c);
    xd_component_send(c, res);
    return XD_HANDLED;
}

xd_verdict
disco_answer(struct disco *d, xd_component *c, const xd_stanza *iq,
             xd_iq_type type)
{
    const char *to = xd_stanza_to(iq), *domain = xd_component_domain(c);
    const xd_elem *q = xd_elem_first(xd_stanza_root(iq));

    if (to == NULL || type != XD_IQ_GET || q == NULL)
        return XD_PASS;
    const char *ns = xd_elem_ns(q), *node = xd_elem_attr(q, "node");
    int info = strcmp(ns, XD_NS_DISCO_INFO) == 0;
    int items = strcmp(ns, XD_NS_DISCO_ITEMS) == 0;
    xd_disco_kind kind = info ? XD_DISCO_INFO : XD_DISCO_ITEMS;
    if (strcmp(to, domain) != 0) {
        if (!(info || items) || d->entity_fn == NULL || !is_entity(to, domain))
            return XD_PASS;
        run_callback(c, d->entity_fn, d->entity_arg, iq, kind, node);
        return XD_HANDLED;
    }
    if (strcmp(ns, XD_NS_PING) == 0) {
        xd_component_send(c, xd_stanza_iq_result(iq));
        return XD_HANDLED;
    }
    if (strcmp(ns, XD_NS_VERSION) == 0)
        return answer_version(d, c, iq);
    if (!(info || items))
        return XD_PASS;
    return answer_domain(d, c, iq, kind, node);
}
