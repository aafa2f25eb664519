/*
 * local.c: delivery to accounts of local hosts (RFC 6121 section 8.5).
 * A chat or normal message with a body that no resource can take is
 * stored offline (XEP-0160); when that is not possible it is bounced with
 * service-unavailable, as RFC 6121 8.5.2.1.1 allows.
 */
#define XD_LOG_AREA "local"
#include <string.h>

#include <xmppd/log.h>

#include "accounts.h"
#include "router.h"

static int
type_is(const xd_stanza *st, const char *type)
{
    const char *t = xd_stanza_type(st);

    return t != NULL && strcmp(t, type) == 0;
}

/* Delivers copies of st to the available resources that `pick` selects;
 * returns how many got one. Takes ownership of st. */
enum pick { PICK_TOP_PRIORITY, PICK_NON_NEGATIVE, PICK_ALL_AVAILABLE };

/* Who got a message directly, so that carbons skip them. */
#define GOT_MAX 64

static size_t
deliver_to_resources(const struct user_sessions *us, xd_stanza *st,
                     enum pick pick, struct c2s **got)
{
    int top = -129;
    size_t sent = 0;

    for (size_t i = 0; us != NULL && i < us->n; i++)
        if (c2s_is_available(us->list[i]) && c2s_priority(us->list[i]) > top)
            top = c2s_priority(us->list[i]);
    for (size_t i = 0; us != NULL && i < us->n; i++) {
        struct c2s *c = us->list[i];
        if (!c2s_is_available(c))
            continue;
        if ((pick == PICK_TOP_PRIORITY &&
             (c2s_priority(c) != top || top < 0)) ||
            (pick == PICK_NON_NEGATIVE && c2s_priority(c) < 0))
            continue;
        if (got != NULL && sent < GOT_MAX)
            got[sent] = c;
        c2s_deliver(c, xd_stanza_ref(st));
        sent++;
    }
    xd_stanza_unref(st);
    return sent;
}

/* No resource took a message for `to`: store it, drop it or bounce it. */
static void
undeliverable_message(struct router *r, const xd_jid *to, xd_stanza *st)
{
    const char *type = xd_stanza_type(st);
    int storable = type == NULL || strcmp(type, "chat") == 0 ||
                   strcmp(type, "normal") == 0;

    if (storable && xd_stanza_child_text(st, "body", XD_NS_CLIENT) == NULL) {
        /* Chat states and receipts mean nothing later: dropped. */
        xd_stanza_unref(st);
        return;
    }
    if (storable && offline_store(r, to, st) == 0) {
        xd_stanza_unref(st);
        return;
    }
    router_bounce(r, st, "service-unavailable");
}

static void
deliver_message_to_bare(struct router *r, const xd_jid *to,
                        const struct user_sessions *us, xd_stanza *st,
                        int carbons)
{
    if (type_is(st, "error")) {
        xd_stanza_unref(st);
        return;
    }
    if (type_is(st, "groupchat")) {
        router_bounce(r, st, "service-unavailable");
        return;
    }
    int headline = type_is(st, "headline");
    struct c2s *got[GOT_MAX];
    xd_stanza_ref(st);
    size_t n = deliver_to_resources(
        us, st, headline ? PICK_NON_NEGATIVE : PICK_TOP_PRIORITY, got);
    if (n > 0 && carbons && carbons_applies(st))
        carbons_copy(r, xd_jid_bare_str(to), st, "received", got,
                     n < GOT_MAX ? n : GOT_MAX);
    if (n == 0 && !headline)
        undeliverable_message(r, to, st);
    else
        xd_stanza_unref(st);
}

/* RFC 6121 8.5.1: the account does not exist. A subscription request or
 * a probe learns it as "unsubscribed", other presence is ignored, iqs and
 * messages are answered service-unavailable. */
static void
no_such_user(struct router *r, const xd_jid *to, xd_stanza *st)
{
    if (xd_stanza_kind_of(st) != XD_STANZA_PRESENCE) {
        router_bounce(r, st, "service-unavailable");
        return;
    }
    if ((type_is(st, "subscribe") || type_is(st, "probe")) &&
        xd_stanza_from(st) != NULL) {
        xd_stanza *no = xd_stanza_new("presence", XD_NS_CLIENT);
        xd_jid *bare = xd_jid_bare(to);
        xd_stanza_set_type(no, "unsubscribed");
        xd_stanza_set_from(no, xd_jid_str(bare));
        xd_stanza_set_to(no, xd_stanza_from(st));
        xd_jid_free(bare);
        router_route(r, no);
    }
    xd_stanza_unref(st);
}

void
local_deliver(struct router *r, const xd_jid *to, xd_stanza *st)
{
    xd_stanza_kind kind = xd_stanza_kind_of(st);
    const struct user_sessions *us = sessions_of(r, xd_jid_bare_str(to));

    if (us == NULL &&
        accounts_exists(r->db, xd_jid_domain(to), xd_jid_local(to)) != 1) {
        no_such_user(r, to, st);
        return;
    }
    if (xd_stanza_from(st) != NULL &&
        blocking_blocks(r, to, xd_stanza_from(st))) {
        /* XEP-0191 3.6: a blocked sender learns nothing more. */
        router_bounce(r, st, "service-unavailable");
        return;
    }
    if (kind == XD_STANZA_MESSAGE)
        mam_strip_forged_ids(st, to);
    if (kind == XD_STANZA_MESSAGE && xd_stanza_from(st) != NULL &&
        mam_archivable(st))
        mam_archive(r, to, xd_stanza_from(st), st, 1);
    if (kind == XD_STANZA_PRESENCE && xd_stanza_type(st) != NULL &&
        !type_is(st, "unavailable") && !type_is(st, "error")) {
        /* Subscriptions and probes are for the account, whatever the
         * resource (RFC 6121 3 and 4.3). */
        presence_inbound(r, to, st);
        return;
    }
    if (xd_jid_resource(to) != NULL) {
        struct c2s *c = sessions_get(r, xd_jid_str(to));
        if (c != NULL) {
            if (kind == XD_STANZA_MESSAGE && carbons_applies(st))
                carbons_copy(r, xd_jid_bare_str(to), st, "received", &c, 1);
            c2s_deliver(c, st);
            return;
        }
        /* RFC 6121 8.5.3.2: no such resource. */
        if (kind == XD_STANZA_MESSAGE && !type_is(st, "groupchat")) {
            deliver_message_to_bare(r, to, us, st, 1);
            return;
        }
        router_bounce(r, st, "service-unavailable");
        return;
    }
    switch (kind) {
    case XD_STANZA_MESSAGE:
        deliver_message_to_bare(r, to, us, st, 1);
        break;
    case XD_STANZA_PRESENCE:
        deliver_to_resources(us, st, PICK_ALL_AVAILABLE, NULL);
        break;
    case XD_STANZA_IQ:
        /* RFC 6120 10.5.3.1: the server answers for the bare JID. */
        server_handle(r, to, st);
        break;
    default:
        xd_stanza_unref(st);
        break;
    }
}

void
local_redeliver(struct router *r, const xd_jid *to, xd_stanza *st)
{
    const char *type = xd_stanza_type(st);

    switch (xd_stanza_kind_of(st)) {
    case XD_STANZA_MESSAGE:
        if (type_is(st, "groupchat")) {
            xd_stanza_unref(st); /* the room's history has it */
            return;
        }
        /* Other resources already had their carbon of it. */
        deliver_message_to_bare(r, to, sessions_of(r, xd_jid_bare_str(to)), st,
                                0);
        return;
    case XD_STANZA_IQ:
        if (type != NULL &&
            (strcmp(type, "get") == 0 || strcmp(type, "set") == 0)) {
            router_bounce(r, st, "service-unavailable");
            return;
        }
        break;
    default:
        break;
    }
    xd_stanza_unref(st);
}
