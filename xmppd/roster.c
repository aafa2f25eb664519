/*
 * roster.c: roster management (RFC 6121 section 2): get with XEP-0237
 * versioning, set and remove with their checks, and pushes to every
 * interested resource (one that has asked for the roster).
 */
#define XD_LOG_AREA "roster"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/log.h>

#include "roster_store.h"
#include "router.h"

static void
add_item(xd_elem *query, const struct roster_item *it, int removed)
{
    xd_elem *item = xd_elem_add_child(query, "item", XD_NS_ROSTER);

    xd_elem_set_attr(item, "jid", it->contact);
    if (removed) {
        xd_elem_set_attr(item, "subscription", "remove");
        return;
    }
    if (it->name != NULL)
        xd_elem_set_attr(item, "name", it->name);
    xd_elem_set_attr(item, "subscription", it->subscription);
    if (it->ask)
        xd_elem_set_attr(item, "ask", "subscribe");
    if (it->approved)
        xd_elem_set_attr(item, "approved", "true");
    for (const char *g = it->groups; g != NULL && *g != '\0';) {
        const char *nl = strchr(g, '\n');
        size_t len = nl ? (size_t)(nl - g) : strlen(g);
        xd_elem_add_text(xd_elem_add_child(item, "group", XD_NS_ROSTER), g,
                         len);
        g = nl ? nl + 1 : g + len;
    }
}

static void
add_item_cb(const struct roster_item *it, void *arg)
{
    add_item(arg, it, 0);
}

static void
set_version(xd_elem *query, long long version)
{
    char ver[24];

    snprintf(ver, sizeof(ver), "%lld", version);
    xd_elem_set_attr(query, "ver", ver);
}

/* Sends the changed item to every resource that asked for the roster
 * (RFC 6121 2.1.6). */
void
roster_push(struct router *r, const xd_jid *account,
            const struct roster_item *it, int removed, long long version)
{
    const struct user_sessions *us = sessions_of(r, xd_jid_bare_str(account));

    for (size_t i = 0; us != NULL && i < us->n; i++) {
        struct c2s *c = us->list[i];
        if (!c2s_wants_roster(c))
            continue;
        xd_stanza *push =
            xd_stanza_iq_new("set", NULL, xd_jid_str(c2s_jid(c)), NULL);
        xd_elem *q =
            xd_elem_add_child(xd_stanza_root(push), "query", XD_NS_ROSTER);
        set_version(q, version);
        add_item(q, it, removed);
        c2s_deliver(c, push);
    }
}

static void
reply_error(struct c2s *c, const xd_stanza *in, const char *condition)
{
    c2s_deliver(
        c, xd_stanza_error_reply(in, xd_stanza_error_default_type(condition),
                                 condition, NULL));
}

static void
roster_get_iq(struct router *r, struct c2s *c, const xd_stanza *in,
              const xd_elem *query)
{
    const xd_jid *jid = c2s_jid(c);
    const char *host = xd_jid_domain(jid), *user = xd_jid_local(jid);
    const char *want = xd_elem_attr(query, "ver");
    long long version;
    char ver[24];

    if (roster_version(r->db, host, user, &version) != 0) {
        reply_error(c, in, "internal-server-error");
        return;
    }
    c2s_set_wants_roster(c);
    xd_stanza *res = xd_stanza_reply(in);
    snprintf(ver, sizeof(ver), "%lld", version);
    /* XEP-0237: an up-to-date client gets an empty result. */
    if (want == NULL || strcmp(want, ver) != 0) {
        xd_elem *q =
            xd_elem_add_child(xd_stanza_root(res), "query", XD_NS_ROSTER);
        xd_elem_set_attr(q, "ver", ver);
        if (roster_each(r->db, host, user, add_item_cb, q) != 0) {
            xd_stanza_unref(res);
            reply_error(c, in, "internal-server-error");
            return;
        }
    }
    c2s_deliver(c, res);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Joins the <group/> children of item with '\n'; NULL and a condition on
 * a bad group. The caller frees the result. RFC 6121 2.3.3: the same
 * group twice is a bad request; with up to max_children groups, the names
 * are sorted to find one (n log n comparisons, whatever the names). */
static char *
join_groups(const xd_elem *item, const char **condition)
{
    xd_buf b = XD_BUF_INIT;
    const char **names = NULL;
    size_t n = 0, cap = 0;

    xd_buf_append(&b, "", 0);
    for (const xd_elem *g = xd_elem_child(item, "group", XD_NS_ROSTER);
         g != NULL; g = xd_elem_next_match(g, "group", XD_NS_ROSTER)) {
        const char *name = xd_elem_text(g);
        if (*name == '\0' || strchr(name, '\n') != NULL ||
            strlen(name) > 1023) {
            *condition = "not-acceptable";
            goto fail;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            names = xd_xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = name;
        if (b.len > 0)
            xd_buf_append(&b, "\n", 1);
        xd_buf_append_str(&b, name);
    }
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            *condition = "bad-request";
            goto fail;
        }
    free(names);
    return xd_buf_steal(&b);
fail:
    free(names);
    xd_buf_free(&b);
    return NULL;
}

static void
roster_set_iq(struct router *r, struct c2s *c, const xd_stanza *in,
              const xd_elem *query)
{
    const xd_jid *jid = c2s_jid(c);
    const char *host = xd_jid_domain(jid), *user = xd_jid_local(jid);
    const xd_elem *item = xd_elem_child(query, "item", XD_NS_ROSTER);
    const char *condition = "bad-request";
    xd_jid *contact = NULL;
    char *groups = NULL;
    struct roster_item old = { 0 };
    long long version, count;
    int rc;

    /* RFC 6121 2.3.3: exactly one item, with a valid JID, and no
     * subscription attribute but "remove". */
    if (item == NULL || xd_elem_child_count(query) != 1 ||
        xd_elem_attr(item, "jid") == NULL ||
        xd_jid_parse(xd_elem_attr(item, "jid"), &contact) != 0)
        goto refuse;
    xd_jid *bare = xd_jid_bare(contact);
    xd_jid_free(contact);
    contact = bare;
    const char *sub = xd_elem_attr(item, "subscription");
    struct roster_item it = { .contact = xd_jid_str(contact) };
    if (sub != NULL && strcmp(sub, "remove") == 0) {
        rc = roster_remove(r->db, host, user, it.contact, &version);
        if (rc == XD_ENOTFOUND) {
            condition = "item-not-found";
            goto refuse;
        }
        if (rc != 0) {
            condition = "internal-server-error";
            goto refuse;
        }
        c2s_deliver(c, xd_stanza_reply(in));
        roster_push(r, jid, &it, 1, version);
        goto done;
    }
    if (sub != NULL)
        goto refuse;
    const char *name = xd_elem_attr(item, "name");
    if (name != NULL && strlen(name) > 1023) {
        condition = "not-acceptable";
        goto refuse;
    }
    if ((groups = join_groups(item, &condition)) == NULL)
        goto refuse;
    int exists = roster_get(r->db, host, user, it.contact, &old);
    if (exists < 0 || roster_count(r->db, host, user, &count) != 0) {
        condition = "internal-server-error";
        goto refuse;
    }
    if (!exists && (unsigned long long)count >= r->conf.roster_max_items) {
        xd_log_info("%s: roster full (%lld items)", xd_jid_bare_str(jid),
                    count);
        condition = "not-allowed";
        goto refuse;
    }
    it.name = name;
    it.groups = groups;
    it.subscription = exists ? old.subscription : "none";
    it.ask = exists ? old.ask : 0;
    it.approved = exists ? old.approved : 0;
    rc = roster_put(r->db, host, user, &it, &version);
    if (rc == 0) {
        c2s_deliver(c, xd_stanza_reply(in));
        roster_push(r, jid, &it, 0, version);
    }
    if (rc != 0) {
        condition = "internal-server-error";
        goto refuse;
    }
    goto done;
refuse:
    reply_error(c, in, condition);
done:
    roster_item_clear(&old);
    free(groups);
    xd_jid_free(contact);
}

void
roster_iq(struct router *r, struct c2s *c, xd_stanza *st)
{
    const char *type = xd_stanza_type(st);
    const xd_elem *query =
        xd_elem_child(xd_stanza_root(st), "query", XD_NS_ROSTER);

    if (type != NULL && strcmp(type, "get") == 0)
        roster_get_iq(r, c, st, query);
    else if (type != NULL && strcmp(type, "set") == 0)
        roster_set_iq(r, c, st, query);
    /* Results of our pushes, and errors, need no answer. */
    xd_stanza_unref(st);
}
