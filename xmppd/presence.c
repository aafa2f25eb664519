/*
 * presence.c: presence subscriptions (RFC 6121 section 3) and presence
 * broadcast to contacts (section 4), for contacts on local hosts; contacts
 * elsewhere get their stanzas through the router like anything else.
 *
 * Each side keeps its own roster: the user's server changes the user's
 * item when the user sends a subscription stanza (outbound), the contact's
 * server changes the contact's item when it arrives (inbound). States are
 * none, to, from, both, plus "ask" (a request of ours is pending) and the
 * stored requests of others we have not answered (presence_pending).
 */
#define XD_LOG_AREA "presence"
#include <stdlib.h>
#include <string.h>

#include <xmppd/log.h>

#include "roster_store.h"
#include "router.h"

static int
eq(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

static int
has_to(const char *sub)
{
    return eq(sub, "to") || eq(sub, "both");
}

static int
has_from(const char *sub)
{
    return eq(sub, "from") || eq(sub, "both");
}

/* The state after adding or dropping one direction. */
static const char *
with(const char *sub, int to, int from)
{
    static const char *const names[2][2] = { { "none", "from" },
                                             { "to", "both" } };

    (void)sub;
    return names[to ? 1 : 0][from ? 1 : 0];
}

/* Writes the new state of `contact` on `account`'s roster and pushes it,
 * when it changed. */
static void
update_item(struct router *r, const xd_jid *account, const char *contact,
            const char *old_sub, int old_ask, const char *sub, int ask)
{
    long long version;

    if (old_sub != NULL && strcmp(old_sub, sub) == 0 && old_ask == ask)
        return;
    if (roster_set_subscription(r->db, xd_jid_domain(account),
                                xd_jid_local(account), contact, sub, ask,
                                &version) != 0) {
        xd_log_warnx("%s: cannot store the subscription to %s",
                     xd_jid_bare_str(account), contact);
        return;
    }
    struct roster_item it = { 0 };
    if (roster_get(r->db, xd_jid_domain(account), xd_jid_local(account),
                   contact, &it) == 1)
        roster_push(r, account, &it, 0, version);
    roster_item_clear(&it);
}

/* Sets or clears the pre-approval of `contact` and pushes the item. */
static void
set_approved(struct router *r, const xd_jid *account, const char *contact,
             int approved)
{
    long long version;
    struct roster_item it = { 0 };

    if (roster_set_approved(r->db, xd_jid_domain(account),
                            xd_jid_local(account), contact, approved,
                            &version) != 0) {
        xd_log_warnx("%s: cannot store the pre-approval of %s",
                     xd_jid_bare_str(account), contact);
        return;
    }
    if (roster_get(r->db, xd_jid_domain(account), xd_jid_local(account),
                   contact, &it) == 1)
        roster_push(r, account, &it, 0, version);
    roster_item_clear(&it);
}

/* Sends a copy of each available resource's last presence (or
 * unavailable) from that resource to `to`. */
static void
send_presence_of(struct router *r, const xd_jid *account, const char *to,
                 int unavailable)
{
    const struct user_sessions *us = sessions_of(r, xd_jid_bare_str(account));

    for (size_t i = 0; us != NULL && i < us->n; i++) {
        struct c2s *c = us->list[i];
        const xd_stanza *last = c2s_last_presence(c);
        if (!c2s_is_available(c) || last == NULL)
            continue;
        xd_stanza *p;
        if (unavailable) {
            p = xd_stanza_new("presence", XD_NS_CLIENT);
            xd_stanza_set_type(p, "unavailable");
        } else {
            p = xd_stanza_copy(xd_stanza_root(last));
        }
        xd_stanza_set_from(p, xd_jid_str(c2s_jid(c)));
        xd_stanza_set_to(p, to);
        router_route(r, p);
    }
}

void
presence_unavailable_to(struct router *r, const xd_jid *account, const char *to)
{
    send_presence_of(r, account, to, 1);
}

/* --- the user's side ------------------------------------------------ */

void
presence_outbound(struct router *r, struct c2s *c, xd_stanza *st)
{
    const xd_jid *me = c2s_jid(c);
    const char *type = xd_stanza_type(st);
    xd_jid *contact = NULL;
    struct roster_item it = { 0 };

    if (xd_jid_parse(xd_stanza_to(st), &contact) != 0) {
        router_bounce(r, st, "jid-malformed");
        return;
    }
    xd_jid *bare = xd_jid_bare(contact);
    xd_jid_free(contact);
    const char *cj = xd_jid_str(bare);
    /* RFC 6121 3.1.2: subscription stanzas go from and to bare JIDs. */
    xd_stanza_set_from(st, xd_jid_bare_str(me));
    xd_stanza_set_to(st, cj);
    int found = roster_get(r->db, xd_jid_domain(me), xd_jid_local(me), cj, &it);
    const char *sub = found == 1 ? it.subscription : "none";
    int ask = found == 1 ? it.ask : 0;

    if (eq(type, "subscribe")) {
        if (!has_to(sub))
            update_item(r, me, cj, found == 1 ? sub : NULL, ask, sub, 1);
    } else if (eq(type, "unsubscribe")) {
        update_item(r, me, cj, found == 1 ? sub : NULL, ask,
                    with(sub, 0, has_from(sub)), 0);
    } else if (eq(type, "subscribed")) {
        /* Approving a request we hold; without one, RFC 6121 3.4: a
         * pre-approval, kept on the roster item and not sent. */
        if (pending_remove(r->db, xd_jid_domain(me), xd_jid_local(me), cj) !=
            1) {
            if (!has_from(sub) && !(found == 1 && it.approved))
                set_approved(r, me, cj, 1);
            xd_stanza_unref(st);
            goto out;
        }
        update_item(r, me, cj, found == 1 ? sub : NULL, ask,
                    with(sub, has_to(sub), 1), ask);
        router_route(r, st);
        /* RFC 6121 3.1.5: the new subscriber learns our presence now. */
        send_presence_of(r, me, cj, 0);
        goto out;
    } else if (eq(type, "unsubscribed")) {
        int had =
            pending_remove(r->db, xd_jid_domain(me), xd_jid_local(me), cj) == 1;
        if (found == 1 && it.approved) /* RFC 6121 3.4: withdrawn */
            set_approved(r, me, cj, 0);
        if (has_from(sub)) {
            update_item(r, me, cj, sub, ask, with(sub, has_to(sub), 0), ask);
            send_presence_of(r, me, cj, 1);
        } else if (!had) {
            xd_stanza_unref(st);
            goto out;
        }
    }
    router_route(r, st);
out:
    roster_item_clear(&it);
    xd_jid_free(bare);
}

/* --- the contact's side ------------------------------------------------ */

/* Presence for the account: to every available resource. */
static void
to_resources(struct router *r, const xd_jid *account, xd_stanza *st)
{
    const struct user_sessions *us = sessions_of(r, xd_jid_bare_str(account));

    for (size_t i = 0; us != NULL && i < us->n; i++)
        if (c2s_is_available(us->list[i]))
            c2s_deliver(us->list[i], xd_stanza_ref(st));
    xd_stanza_unref(st);
}

void
presence_inbound(struct router *r, const xd_jid *to, xd_stanza *st)
{
    const char *type = xd_stanza_type(st);
    xd_jid *from = NULL, *bare = NULL;
    struct roster_item it = { 0 };
    xd_jid *account = xd_jid_bare(to);

    if (xd_stanza_from(st) == NULL ||
        xd_jid_parse(xd_stanza_from(st), &from) != 0) {
        xd_stanza_unref(st);
        goto out;
    }
    bare = xd_jid_bare(from);
    const char *fj = xd_jid_str(bare);
    int found = roster_get(r->db, xd_jid_domain(to), xd_jid_local(to), fj, &it);
    const char *sub = found == 1 ? it.subscription : "none";
    int ask = found == 1 ? it.ask : 0;

    if (eq(type, "probe")) {
        /* RFC 6121 4.3.2: answered for subscribers only, never shown. */
        if (has_from(sub))
            send_presence_of(r, account, xd_stanza_from(st), 0);
        xd_stanza_unref(st);
    } else if (eq(type, "subscribe")) {
        int pre = !has_from(sub) && found == 1 && it.approved;
        if (has_from(sub) || pre) {
            /* RFC 6121 3.1.3: already approved, or 3.4: pre-approved (the
             * user sees only the roster change): answered for the user. */
            if (pre)
                update_item(r, account, fj, sub, ask, with(sub, has_to(sub), 1),
                            ask);
            xd_stanza *ok = xd_stanza_new("presence", XD_NS_CLIENT);
            xd_stanza_set_type(ok, "subscribed");
            xd_stanza_set_from(ok, xd_jid_bare_str(account));
            xd_stanza_set_to(ok, fj);
            xd_stanza_unref(st);
            router_route(r, ok);
            if (pre)
                send_presence_of(r, account, fj, 0);
            goto out;
        }
        /* Kept until the user answers, and shown now if anyone is on. */
        char *xml = xd_elem_to_string(xd_stanza_root(st), NULL);
        pending_add(r->db, xd_jid_domain(to), xd_jid_local(to), fj, xml);
        free(xml);
        to_resources(r, account, st);
    } else if (eq(type, "subscribed")) {
        if (!ask) { /* nothing asked: ignored (RFC 6121 3.1.6) */
            xd_stanza_unref(st);
            goto out;
        }
        update_item(r, account, fj, sub, ask, with(sub, 1, has_from(sub)), 0);
        to_resources(r, account, st);
    } else if (eq(type, "unsubscribe")) {
        pending_remove(r->db, xd_jid_domain(to), xd_jid_local(to), fj);
        if (has_from(sub)) {
            update_item(r, account, fj, sub, ask, with(sub, has_to(sub), 0),
                        ask);
            send_presence_of(r, account, fj, 1);
        }
        to_resources(r, account, st);
    } else if (eq(type, "unsubscribed")) {
        if (has_to(sub) || ask)
            update_item(r, account, fj, sub, ask, with(sub, 0, has_from(sub)),
                        0);
        to_resources(r, account, st);
    } else {
        xd_stanza_unref(st);
    }
out:
    roster_item_clear(&it);
    xd_jid_free(from);
    xd_jid_free(bare);
    xd_jid_free(account);
}

/* --- broadcast ----------------------------------------------------------- */

struct contact {
    char *jid;
    int to, from;
};

struct contacts {
    struct contact *list;
    size_t n;
};

static void
collect(const struct roster_item *it, void *arg)
{
    struct contacts *cs = arg;

    if (!has_to(it->subscription) && !has_from(it->subscription))
        return;
    cs->list = xd_xrealloc(cs->list, (cs->n + 1) * sizeof(*cs->list));
    cs->list[cs->n].jid = xd_xstrdup(it->contact);
    cs->list[cs->n].to = has_to(it->subscription);
    cs->list[cs->n].from = has_from(it->subscription);
    cs->n++;
}

void
presence_broadcast(struct router *r, struct c2s *c, const xd_stanza *st,
                   int initial)
{
    const xd_jid *me = c2s_jid(c);
    struct contacts cs = { NULL, 0 };

    /* Collect first: routing while the roster query is open would re-enter
     * the database under it. */
    if (roster_each(r->db, xd_jid_domain(me), xd_jid_local(me), collect, &cs) !=
        0)
        xd_log_warnx("%s: cannot read the roster", xd_jid_bare_str(me));
    for (size_t i = 0; i < cs.n; i++) {
        if (cs.list[i].from) {
            xd_stanza *p = xd_stanza_copy(xd_stanza_root(st));
            xd_stanza_set_from(p, xd_jid_str(me));
            xd_stanza_set_to(p, cs.list[i].jid);
            router_route(r, p);
        }
        /* RFC 6121 4.2.2: initial presence probes the contacts we are
         * subscribed to. */
        if (initial && cs.list[i].to) {
            xd_stanza *p = xd_stanza_new("presence", XD_NS_CLIENT);
            xd_stanza_set_type(p, "probe");
            xd_stanza_set_from(p, xd_jid_bare_str(me));
            xd_stanza_set_to(p, cs.list[i].jid);
            router_route(r, p);
        }
        free(cs.list[i].jid);
    }
    free(cs.list);
}

struct pending_arg {
    struct router *r;
    struct c2s *c;
};

static void
pending_cb(const char *xml, void *arg)
{
    struct pending_arg *pa = arg;
    xd_stanza *st = NULL;

    if (stored_xml_parse(pa->r, xml, &st) == 0)
        c2s_deliver(pa->c, st);
}

void
presence_redeliver_pending(struct router *r, struct c2s *c)
{
    const xd_jid *me = c2s_jid(c);
    struct pending_arg pa = { r, c };

    pending_each(r->db, xd_jid_domain(me), xd_jid_local(me), pending_cb, &pa);
}
