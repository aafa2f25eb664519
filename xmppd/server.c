/*
 * server.c: what a host answers itself (RFC 6120 10.3 and 10.5.3.1):
 * XEP-0030 disco#info and disco#items, XEP-0199 ping and XEP-0092 software
 * version for the host, and ping and disco#info on behalf of an account's
 * bare JID. XEP-0050 commands at a host (XEP-0133 administration) go to
 * admin_commands.c. Anything else is service-unavailable.
 */
#define XD_LOG_AREA "server"
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <openssl/sha.h>

#include <xmppd/base64.h>
#include <xmppd/command.h>
#include <xmppd/log.h>

#include "router.h"

/* What the host's disco#info lists: one feature per line. */
static const char *const host_features[] = {
    XD_NS_DISCO_INFO,                /* XEP-0030 */
    XD_NS_DISCO_ITEMS,   XD_NS_PING, /* XEP-0199 */
    XD_NS_VERSION,                   /* XEP-0092 */
    "urn:xmpp:time",                 /* XEP-0202 */
    "jabber:iq:private",             /* XEP-0049 */
    "vcard-temp",                    /* XEP-0054 */
    XD_NS_CARBONS,                   /* XEP-0280 */
    XD_NS_BLOCKING,                  /* XEP-0191 */
    "jabber:iq:last",                /* XEP-0012 */
    XD_NS_COMMANDS,                  /* XEP-0050, for XEP-0133 */
};

static void
add_identity(xd_elem *query, const char *category, const char *type,
             const char *name)
{
    xd_elem *id = xd_elem_add_child(query, "identity", NULL);

    xd_elem_set_attr(id, "category", category);
    xd_elem_set_attr(id, "type", type);
    if (name != NULL)
        xd_elem_set_attr(id, "name", name);
}

static void
add_feature(xd_elem *query, const char *var)
{
    xd_elem_set_attr(xd_elem_add_child(query, "feature", NULL), "var", var);
}

struct items_ctx {
    struct router *r;
    xd_elem *query;
};

static void
add_component_item(const char *domain, void *value, void *arg)
{
    struct items_ctx *ctx = arg;
    struct comp_conf *cc = value;

    /* Each component once, under its main domain. */
    if (strcmp(domain, cc->domain) == 0)
        xd_elem_set_attr(xd_elem_add_child(ctx->query, "item", NULL), "jid",
                         domain);
}

/* Fills a result for a query to the host itself; 0, or a condition. */
static const char *
host_query(struct router *r, const xd_elem *q, const char *type,
           xd_elem *result_root)
{
    const char *ns = xd_elem_ns(q);

    if (strcmp(type, "get") != 0)
        return "service-unavailable";
    if (strcmp(ns, XD_NS_PING) == 0)
        return NULL;
    if (xd_elem_attr(q, "node") != NULL)
        return "item-not-found";
    xd_elem *out = xd_elem_add_child(result_root, "query", ns);
    if (strcmp(ns, XD_NS_DISCO_INFO) == 0 &&
        strcmp(xd_elem_name(q), "query") == 0) {
        add_identity(out, "server", "im", "xmppd");
        for (size_t i = 0; i < XD_NELEM(host_features); i++)
            add_feature(out, host_features[i]);
    } else if (strcmp(ns, XD_NS_DISCO_ITEMS) == 0) {
        struct items_ctx ctx = { r, out };
        xd_map_each(r->comp_confs, add_component_item, &ctx);
    } else if (strcmp(ns, "urn:xmpp:time") == 0) {
        /* XEP-0202: the host's clock, in UTC. */
        char utc[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(utc, sizeof(utc), "%Y-%m-%dT%H:%M:%SZ", &tm);
        xd_elem_remove(out);
        out = xd_elem_add_child(result_root, "time", ns);
        xd_elem_set_child_text(out, "tzo", ns, "+00:00");
        xd_elem_set_child_text(out, "utc", ns, utc);
    } else if (strcmp(ns, XD_NS_VERSION) == 0) {
        struct utsname u;
        xd_elem_set_child_text(out, "name", ns, "xmppd");
        xd_elem_set_child_text(out, "version", ns, XMPPD_VERSION);
        if (uname(&u) == 0)
            xd_elem_set_child_text(out, "os", ns, u.sysname);
    } else {
        xd_elem_remove(out);
        return "service-unavailable";
    }
    return NULL;
}

/* The same for a query to an account's bare JID. */
static const char *
account_query(struct router *r, const xd_jid *account, const xd_stanza *in,
              const xd_elem *q, const char *type, xd_elem *result_root)
{
    const char *ns = xd_elem_ns(q);
    int handled;
    const char *cond =
        account_data_iq(r, account, in, q, result_root, &handled);

    if (handled)
        return cond;
    if (strcmp(type, "get") != 0)
        return "service-unavailable";
    if (strcmp(ns, XD_NS_PING) == 0)
        return NULL;
    if (strcmp(ns, XD_NS_DISCO_INFO) == 0 && xd_elem_attr(q, "node") == NULL) {
        xd_elem *out = xd_elem_add_child(result_root, "query", ns);
        add_identity(out, "account", "registered", NULL);
        add_feature(out, XD_NS_DISCO_INFO);
        add_feature(out, XD_NS_MAM);
        add_feature(out, "urn:xmpp:sid:0");
        return NULL;
    }
    return "service-unavailable";
}

static int
by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
server_caps_ver(void)
{
    const char *sorted[XD_NELEM(host_features)];
    unsigned char digest[SHA_DIGEST_LENGTH];
    xd_buf s = XD_BUF_INIT;

    /* XEP-0115 5.1: identities, then features, each followed by '<'. */
    memcpy(sorted, host_features, sizeof(sorted));
    qsort(sorted, XD_NELEM(sorted), sizeof(sorted[0]), by_string);
    xd_buf_append_str(&s, "server/im//xmppd<");
    for (size_t i = 0; i < XD_NELEM(sorted); i++) {
        xd_buf_append_str(&s, sorted[i]);
        xd_buf_append(&s, "<", 1);
    }
    SHA1((const unsigned char *)s.data, s.len, digest);
    xd_buf_free(&s);
    return xd_base64_encode(digest, sizeof(digest));
}

void
server_handle(struct router *r, const xd_jid *to, xd_stanza *st)
{
    const char *type = xd_stanza_type(st);

    if (xd_stanza_kind_of(st) != XD_STANZA_IQ) {
        /* Messages and presence to a host are not for anyone. */
        xd_stanza_unref(st);
        return;
    }
    if (type == NULL ||
        (strcmp(type, "get") != 0 && strcmp(type, "set") != 0)) {
        /* Results and errors to the server end here. */
        xd_stanza_unref(st);
        return;
    }
    const xd_elem *q = xd_elem_first(xd_stanza_root(st));
    if (q == NULL || xd_elem_next(q) != NULL) {
        /* RFC 6120 8.2.3: exactly one payload child. */
        router_bounce(r, st, "bad-request");
        return;
    }
    /* Command discovery names a node, which host_query does not know. */
    if (xd_jid_local(to) == NULL &&
        admin_commands_handle(r, to, st) == XD_HANDLED) {
        xd_stanza_unref(st);
        return;
    }
    xd_stanza *res = xd_stanza_reply(st);
    xd_stanza_set_from(res, xd_jid_str(to));
    const char *cond;
    if (xd_elem_is(q, "query", "jabber:iq:last") && strcmp(type, "get") == 0)
        cond = last_activity(r, to, st, xd_stanza_root(res));
    else if (xd_jid_local(to) == NULL)
        cond = host_query(r, q, type, xd_stanza_root(res));
    else
        cond = account_query(r, to, st, q, type, xd_stanza_root(res));
    if (cond != NULL) {
        xd_stanza_unref(res);
        router_bounce(r, st, cond);
        return;
    }
    xd_stanza_unref(st);
    router_route(r, res);
}
