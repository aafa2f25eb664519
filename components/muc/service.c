/*
 * service.c: one MUC service (one domain, one component link): its
 * settings, its store, the stanza handlers, disco#info / disco#items of the
 * service and of its rooms, iqs to rooms and to occupants (XEP-0410
 * self-ping among them), and what happens when the link to the router goes.
 */
#define XD_LOG_AREA "muc"
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/command.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>
#include <xmppd/rsm.h>

#include "muc.h"

#define NS_REGISTER "jabber:iq:register"

const xd_config_key muc_keys[] = {
    XD_CFG_STRING("db_path", struct muc_conf, db_path, "muc.db",
                  "SQLite database of rooms, affiliations and archives"),
    XD_CFG_STRING("admins", struct muc_conf, admins, NULL,
                  "service admins (bare JIDs): owners of every room"),
    XD_CFG_STRING("room_creators", struct muc_conf, room_creators, "*",
                  "who may create rooms: * or bare JIDs and domains"),
    XD_CFG_UINT("max_rooms", struct muc_conf, max_rooms, 10000, 1, 100000000,
                "rooms the service holds at most"),
    XD_CFG_UINT("max_disco_items", struct muc_conf, max_disco_items, 100, 1,
                1000, "rooms listed per disco#items answer (XEP-0059 pages)"),
    XD_CFG_UINT("max_occupants", struct muc_conf, max_occupants, 1000, 1,
                1000000, "the largest maximum of occupants a room may set"),
    XD_CFG_UINT("default_max_users", struct muc_conf, default_max_users, 200, 1,
                1000000, "maximum occupants of a new room"),
    XD_CFG_UINT("max_message_bytes", struct muc_conf, max_message_bytes, 16384,
                256, 16777216, "largest message an occupant may send"),
    XD_CFG_UINT("occupant_rate", struct muc_conf, occupant_rate, 10, 0, 1000000,
                "messages per second an occupant may send (0: no limit)"),
    XD_CFG_UINT("occupant_burst", struct muc_conf, occupant_burst, 30, 1,
                1000000, "messages an occupant may send at once"),
    XD_CFG_UINT("max_invites", struct muc_conf, max_invites, 5, 1, 1000,
                "invitations one message may carry"),
    XD_CFG_UINT("max_pending_invites", struct muc_conf, max_pending_invites,
                100, 1, 100000,
                "invitations a room remembers for their declines"),
    XD_CFG_UINT("max_presence_bytes", struct muc_conf, max_presence_bytes, 8192,
                512, 262144, "largest presence an occupant may send to a room"),
    XD_CFG_UINT("history_default", struct muc_conf, history_default, 20, 0,
                100000, "messages of history sent on entry by default"),
    XD_CFG_UINT("history_max", struct muc_conf, history_max, 100, 0, 100000,
                "messages of history a room keeps for entries"),
    XD_CFG_BOOL("default_persistent", struct muc_conf, default_persistent, 0,
                "new rooms are persistent"),
    XD_CFG_BOOL("default_public", struct muc_conf, default_public, 1,
                "new rooms are listed"),
    XD_CFG_BOOL("default_archive", struct muc_conf, default_archive, 1,
                "new rooms archive their messages (XEP-0313)"),
    XD_CFG_BOOL("default_semianon", struct muc_conf, default_semianon, 1,
                "new rooms show real JIDs to moderators only"),
    XD_CFG_BOOL("default_change_subject", struct muc_conf,
                default_change_subject, 0,
                "participants of new rooms may change the subject (else "
                "moderators only)"),
    XD_CFG_END,
};

void
muc_refuse(struct muc_service *svc, const xd_stanza *in, const char *condition,
           const char *text)
{
    xd_stanza *err = xd_stanza_error(in, condition, text);

    if (err != NULL) /* NULL: `in` is an error, never answered */
        xd_component_send(svc->comp, err);
}

/* --- disco ------------------------------------------------------------------
 */

static int
by_jid(const void *a, const void *b)
{
    const struct muc_room *x = *(void *const *)a, *y = *(void *const *)b;

    return strcmp(x->jid, y->jid);
}

/* The public rooms, sorted by JID (the caller frees the array). */
static void **
public_rooms(const struct muc_service *svc, size_t *n)
{
    size_t all;
    void **rooms = xd_map_values(svc->rooms, &all);

    *n = 0;
    for (size_t i = 0; i < all; i++) {
        const struct muc_room *r = rooms[i];
        if (r->cfg.public_ && !r->locked)
            rooms[(*n)++] = rooms[i];
    }
    qsort(rooms, *n, sizeof(*rooms), by_jid);
    return rooms;
}

/* Where the page of `size` rooms starts in the sorted `rooms` (XEP-0059:
 * after an id, before one, the last page, or from an index). */
static size_t
page_start(void **rooms, size_t n, const xd_rsm *rsm, size_t size)
{
    size_t i = 0;

    if (rsm->after != NULL) {
        while (i < n &&
               strcmp(((struct muc_room *)rooms[i])->jid, rsm->after) <= 0)
            i++;
        return i;
    }
    if (rsm->before != NULL) {
        size_t end = *rsm->before == '\0' ? n : 0; /* "": the last page */
        while (end < n &&
               strcmp(((struct muc_room *)rooms[end])->jid, rsm->before) < 0)
            end++;
        return end > size ? end - size : 0;
    }
    if (rsm->index > 0)
        return (size_t)rsm->index < n ? (size_t)rsm->index : n;
    return 0;
}

/* disco#info and disco#items of a room (the framework's callback for the
 * domain's entity JIDs; room_iq lets those queries through only for rooms
 * that exist): the room's identity, features and muc#roominfo form; no
 * nodes, no items (its ad-hoc commands are the framework's). */
static int
room_disco(xd_component *c, const xd_stanza *in, xd_disco_kind kind,
           const char *node, xd_elem *q, void *arg)
{
    struct muc_service *svc = arg;
    struct muc_room *room = NULL;
    xd_jid *to = NULL;

    (void)c;
    if (xd_jid_parse(xd_stanza_to(in), &to) == 0)
        room = muc_room_find(svc, xd_jid_local(to));
    xd_jid_free(to);
    if (room == NULL || (kind == XD_DISCO_INFO && node != NULL))
        return XD_ENOTFOUND;
    if (kind == XD_DISCO_ITEMS)
        return 0;
    static const char *const features[] = {
        MUC_NS,         XD_NS_DISCO_INFO, XD_NS_DISCO_ITEMS, MUC_NS_MAM,
        MUC_NS_SID,     MUC_NS_OCCID,     XD_NS_PING,        NS_REGISTER,
        MUC_NS_HATS,    XD_NS_COMMANDS,   MUC_NS_MODERATE,   MUC_NS_MODERATE0,
        MUC_NS_REQUEST,
    };
    xd_disco_add_identity(q, "conference", "text",
                          room->cfg.name ? room->cfg.name : room->name);
    for (size_t i = 0; i < XD_NELEM(features); i++)
        xd_disco_add_feature(q, features[i]);
    muc_config_features(room, q);
    muc_config_roominfo(room, q);
    return 0;
}

/* XEP-0045 6.3: the public rooms as the service's items, in JID order and
 * in pages of at most max_disco_items (XEP-0059; a requester that asks for
 * no page gets the first one, with <set/> saying how many there are, as a
 * list of thousands would not fit in one stanza). disco#info of the domain
 * is the framework's. */
static xd_verdict
disco_items(xd_component *c, const xd_stanza *in, xd_iq_type type, void *arg)
{
    struct muc_service *svc = arg;
    const char *to = xd_stanza_to(in);
    const xd_elem *q = xd_elem_first(xd_stanza_root(in));
    xd_rsm rsm;
    size_t n;

    (void)c;
    if (to == NULL || strcmp(to, svc->domain) != 0 ||
        xd_elem_attr(q, "node") != NULL || type != XD_IQ_GET)
        return XD_PASS;
    if (xd_rsm_parse(q, &rsm) != 0) {
        muc_refuse(svc, in, "bad-request", "a malformed result set request");
        return XD_HANDLED;
    }
    void **rooms = public_rooms(svc, &n);
    size_t size = (size_t)svc->conf.max_disco_items;
    if (rsm.max >= 0 && (size_t)rsm.max < size)
        size = (size_t)rsm.max;
    size_t first = page_start(rooms, n, &rsm, size);
    size_t last = first + size < n ? first + size : n;
    xd_stanza *r = xd_stanza_iq_result(in);
    xd_elem *query =
        xd_elem_add_child(xd_stanza_root(r), "query", XD_NS_DISCO_ITEMS);
    for (size_t i = first; i < last; i++) {
        const struct muc_room *room = rooms[i];
        xd_elem *item = xd_elem_add_child(query, "item", NULL);
        xd_elem_set_attr(item, "jid", room->jid);
        xd_elem_set_attr(item, "name",
                         room->cfg.name ? room->cfg.name : room->name);
    }
    int asked = xd_elem_child(q, "set", XD_NS_RSM) != NULL;
    if (asked || last - first < n) {
        const struct muc_room *f = first < last ? rooms[first] : NULL;
        const struct muc_room *l = first < last ? rooms[last - 1] : NULL;
        xd_rsm_add_result(query, f ? f->jid : NULL, (long)first,
                          l ? l->jid : NULL, (long)n);
    }
    free(rooms);
    xd_component_send(svc->comp, r);
    return XD_HANDLED;
}

/* --- iqs to rooms and occupants
 * ----------------------------------------------- */

struct relay {
    struct muc_service *svc;
    char *id, *to, *from;
};

static void
relay_reply(xd_component *c, const xd_stanza *reply, void *arg)
{
    struct relay *rl = arg;

    if (reply != NULL) {
        xd_stanza *out = xd_stanza_copy(xd_stanza_root(reply));
        xd_stanza_set_id(out, rl->id);
        xd_stanza_set_to(out, rl->to);
        xd_stanza_set_from(out, rl->from);
        xd_component_send(c, out);
    } else {
        xd_stanza *err = xd_stanza_iq_new("error", rl->id, rl->to, rl->from);
        xd_elem *e = xd_elem_add_child(xd_stanza_root(err), "error", NULL);
        xd_elem_set_attr(e, "type", "wait");
        xd_elem_add_child(e, "recipient-unavailable", XD_NS_STANZA_ERRORS);
        xd_component_send(c, err);
    }
    free(rl->id);
    free(rl->to);
    free(rl->from);
    free(rl);
}

/* XEP-0045 7.7 iqs between occupants, and XEP-0410 self-pings. */
static void
occupant_iq(struct muc_room *room, const char *nick, const xd_stanza *in)
{
    struct muc_service *svc = room->svc;
    const char *from = xd_stanza_from(in);
    struct muc_occupant *me = muc_occupant_by_jid(room, from);
    struct muc_occupant *target = muc_occupant_by_nick(room, nick);
    const xd_elem *q = xd_elem_first(xd_stanza_root(in));

    if (me == NULL) {
        muc_refuse(svc, in, "not-acceptable", "you are not in this room");
        return;
    }
    if (target == NULL) {
        muc_refuse(svc, in, "item-not-found", "no occupant has that nickname");
        return;
    }
    if (me == target && q && xd_elem_is(q, "ping", XD_NS_PING)) {
        xd_component_send(svc->comp, xd_stanza_iq_result(in)); /* XEP-0410 */
        return;
    }
    struct relay *rl = xd_xcalloc(1, sizeof(*rl));
    rl->svc = svc;
    rl->id = xd_xstrdup(xd_stanza_id(in));
    rl->to = xd_xstrdup(from);
    rl->from = xd_xstrdup(xd_stanza_to(in));
    xd_stanza *fwd = xd_stanza_copy(xd_stanza_root(in));
    char *as = xd_xasprintf("%s/%s", room->jid, me->nick);
    xd_stanza_set_from(fwd, as);
    free(as);
    xd_stanza_set_to(fwd, target->sessions->jid);
    xd_elem_set_attr(xd_stanza_root(fwd), "id", NULL); /* ours, below */
    if (xd_component_iq(svc->comp, fwd, 0, relay_reply, rl) != 0)
        relay_reply(svc->comp, NULL, rl);
}

/* Who may read a room's archive: members and up, the occupants (who got in
 * past the members list and the password), and anyone at all only for a
 * public room that asks neither. A public password-protected room is
 * listed, but what is said in it is for those who know the password. */
static int
may_see_archive(const struct muc_room *room, const char *from, const char *bare)
{
    enum muc_affiliation aff = muc_room_affiliation(room, bare);

    if (aff == MUC_AFF_OUTCAST)
        return 0;
    if (aff >= MUC_AFF_MEMBER)
        return 1;
    if (room->cfg.members_only)
        return 0;
    return muc_occupant_by_jid(room, from) != NULL ||
           (room->cfg.public_ && !room->cfg.password_protected);
}

static xd_verdict
room_iq(xd_component *c, const xd_stanza *in, xd_iq_type type, void *arg)
{
    struct muc_service *svc = arg;
    xd_jid *to = NULL, *from = NULL;
    const xd_elem *q = xd_elem_first(xd_stanza_root(in));
    const char *ns = q ? xd_elem_ns(q) : NULL;
    xd_verdict v = XD_HANDLED;

    (void)c;
    if (xd_stanza_to(in) == NULL || xd_jid_parse(xd_stanza_to(in), &to) != 0 ||
        xd_stanza_from(in) == NULL ||
        xd_jid_parse(xd_stanza_from(in), &from) != 0 ||
        xd_jid_local(to) == NULL) {
        v = XD_PASS; /* to the service itself: commands, disco, ping */
        goto done;
    }
    struct muc_room *room = muc_room_find(svc, xd_jid_local(to));
    if (room == NULL) {
        muc_refuse(svc, in, "item-not-found", "no such room");
        goto done;
    }
    if (xd_jid_resource(to) != NULL) {
        occupant_iq(room, xd_jid_resource(to), in);
        goto done;
    }
    const char *bare = xd_jid_bare_str(from);
    int get = type == XD_IQ_GET;
    if (ns == NULL) {
        muc_refuse(svc, in, "bad-request", "an iq needs a payload");
    } else if (strcmp(ns, XD_NS_COMMANDS) == 0 ||
               (get && (strcmp(ns, XD_NS_DISCO_INFO) == 0 ||
                        strcmp(ns, XD_NS_DISCO_ITEMS) == 0))) {
        v = XD_PASS; /* the framework's: the room's ad-hoc commands (hats),
                        then room_disco */
    } else if (strcmp(ns, XD_NS_PING) == 0 && get) {
        xd_component_send(svc->comp, xd_stanza_iq_result(in));
    } else if (strcmp(ns, MUC_NS_ADMIN) == 0) {
        muc_admin_iq(room, in, type, bare);
    } else if (strcmp(ns, MUC_NS_OWNER) == 0) {
        muc_owner_iq(room, in, type, bare);
    } else if (strcmp(ns, NS_REGISTER) == 0) {
        muc_register_iq(room, in, type, bare);
    } else if (strcmp(ns, MUC_NS_MODERATE) == 0 ||
               strcmp(ns, MUC_NS_FASTEN) == 0) {
        muc_moderate_iq(room, in, type);
    } else if (strcmp(ns, MUC_NS_MAM) == 0) {
        if (!may_see_archive(room, xd_stanza_from(in), bare))
            muc_refuse(svc, in, "forbidden", "you may not read this archive");
        else
            muc_archive_query(room, in, type);
    } else {
        muc_refuse(svc, in, "service-unavailable", NULL);
    }
done:
    xd_jid_free(to);
    xd_jid_free(from);
    return v;
}

/* --- the link
 * ------------------------------------------------------------------ */

static void
drop_room_occupants(const char *name, void *value, void *arg)
{
    (void)name;
    (void)arg;
    muc_occupants_drop_all(value);
}

/* The router is gone: every session it carried is gone with it. Occupants
 * are dropped without presence (nobody could receive it) and temporary
 * rooms end; clients rejoin when the link is back. */
static void
on_link(xd_component *c, int up, void *arg)
{
    struct muc_service *svc = arg;

    (void)c;
    if (up) {
        xd_log_info("%s: linked to the router", svc->domain);
        return;
    }
    xd_map_each(svc->rooms, drop_room_occupants, NULL);
    size_t n;
    void **all = xd_map_values(svc->rooms, &n);
    for (size_t i = 0; i < n; i++)
        muc_room_forget_if_unused(all[i]);
    free(all);
    xd_log_info("%s: link lost: occupants removed, %zu room(s) kept",
                svc->domain, xd_map_count(svc->rooms));
}

/* --- setup -------------------------------------------------------------------
 */

static void
reap_rooms(xd_timer *t, void *arg)
{
    (void)t;
    muc_rooms_reap(arg);
}

struct muc_service *
muc_service_new(const xd_config *cfg, const char *section,
                struct event_base *base)
{
    struct muc_service *svc = xd_xcalloc(1, sizeof(*svc));

    if (xd_component_new_with(cfg, section, base, muc_keys, &svc->conf,
                              &svc->comp) != 0) {
        free(svc);
        return NULL;
    }
    svc->domain = xd_component_domain(svc->comp);
    if (svc->conf.history_default > svc->conf.history_max)
        svc->conf.history_default = svc->conf.history_max;
    if (svc->conf.default_max_users > svc->conf.max_occupants)
        svc->conf.default_max_users = svc->conf.max_occupants;
    svc->rooms = xd_map_new();
    svc->reap = xd_timer_new(xd_component_base(svc->comp), reap_rooms, svc);
    if (muc_store_open(svc->conf.db_path, &svc->db) != 0 ||
        muc_store_key(svc->db, svc->id_key) != 0 || muc_rooms_load(svc) != 0) {
        xd_log_warnx("[%s] %s: the database cannot be used", section,
                     svc->conf.db_path);
        muc_service_free(svc);
        return NULL;
    }
    xd_component_add_identity(svc->comp, "conference", "text",
                              "Multi-user chat");
    xd_component_add_feature(svc->comp, MUC_NS);
    xd_component_add_feature(svc->comp, MUC_NS_OCCID);
    xd_component_add_feature(svc->comp, XD_NS_DISCO_ITEMS);
    xd_component_on(svc->comp, XD_STANZA_PRESENCE, NULL, muc_presence_in, svc);
    xd_component_on(svc->comp, XD_STANZA_MESSAGE, NULL, muc_message_in, svc);
    xd_component_on_iq(svc->comp, XD_NS_DISCO_ITEMS, 0, disco_items, svc);
    xd_component_on_iq(svc->comp, NULL, 0, room_iq, svc);
    xd_component_disco_entities(svc->comp, room_disco, svc);
    xd_component_on_link(svc->comp, on_link, svc);
    muc_commands_register(svc);
    muc_hats_register(svc);
    return svc;
}

void
muc_service_free(struct muc_service *svc)
{
    if (svc == NULL)
        return;
    if (svc->rooms) {
        muc_rooms_free(svc);
        xd_map_free(svc->rooms);
    }
    xd_timer_free(svc->reap);
    xd_db_close(svc->db);
    xd_component_free(svc->comp);
    xd_config_unbind(muc_keys, &svc->conf);
    xd_buf_free(&svc->scratch);
    free(svc);
}
