/*
 * admin.c: the muc#admin namespace: moderators change roles (kick, voice;
 * XEP-0045 8), admins and owners change affiliations (ban, members, admins,
 * owners; 9 and 10), and anyone entitled retrieves the lists. Every rule of
 * the XEP about who may do what to whom is checked before anything changes.
 */
#define XD_LOG_AREA "muc"
#include <stdlib.h>
#include <string.h>

#include <xmppd/jid.h>
#include <xmppd/log.h>

#include "muc.h"

void
muc_set_role(struct muc_occupant *o, enum muc_role role, const char *actor,
             const char *reason)
{
    if (role == MUC_ROLE_NONE) {
        int code = 307;
        struct muc_change ch = { .unavailable = 1,
                                 .codes = &code,
                                 .ncodes = 1,
                                 .actor = actor,
                                 .reason = reason };
        xd_log_info("%s: %s kicked by %s", o->room->jid, o->nick,
                    actor ? actor : "the service");
        muc_occupant_remove(o, &ch);
        return;
    }
    struct muc_change ch = { .actor = actor, .reason = reason };
    o->role = role;
    muc_broadcast_presence(o, o->sessions, &ch);
}

/* Applies a new affiliation to the occupants of `bare` in the room (one
 * account may be in it under several nicks): they leave (banned, or not
 * members of a members-only room) or get the affiliation's role. */
static void
affiliation_changed(struct muc_room *room, const char *bare,
                    enum muc_affiliation aff, const char *actor,
                    const char *reason)
{
    int code = aff == MUC_AFF_OUTCAST                           ? 301
               : room->cfg.members_only && aff < MUC_AFF_MEMBER ? 321
                                                                : 0;
    struct muc_change ch = { .unavailable = code != 0,
                             .codes = &code,
                             .ncodes = code != 0,
                             .actor = actor,
                             .reason = reason };
    size_t n;
    void **all = xd_map_values(room->occupants, &n);

    for (size_t i = 0; i < n; i++) {
        struct muc_occupant *o = all[i];
        if (strcmp(o->bare, bare) != 0)
            continue;
        if (code == 0) {
            o->role = muc_default_role(room, aff);
            muc_broadcast_presence(o, o->sessions, &ch);
            continue;
        }
        muc_occupant_remove(o, &ch);
        if (muc_room_find(room->svc, room->name) != room)
            break; /* a temporary room ended with its last occupant */
    }
    free(all);
}

/* --- lists --------------------------------------------------------------- */

struct list_ctx {
    xd_elem *query;
    enum muc_affiliation aff;
    enum muc_role role;
    int with_jid;
};

static void
list_aff(const char *jid, void *value, void *arg)
{
    const struct muc_affiliation_entry *e = value;
    struct list_ctx *l = arg;

    if (e->aff != l->aff)
        return;
    xd_elem *item = xd_elem_add_child(l->query, "item", NULL);
    xd_elem_set_attr(item, "affiliation", muc_affiliation_name(e->aff));
    xd_elem_set_attr(item, "jid", jid);
    if (e->nick)
        xd_elem_set_attr(item, "nick", e->nick);
    if (e->reason)
        xd_elem_set_child_text(item, "reason", NULL, e->reason);
}

static void
list_role(const char *nick, void *value, void *arg)
{
    const struct muc_occupant *o = value;
    struct list_ctx *l = arg;

    if (o->role != l->role)
        return;
    xd_elem *item = xd_elem_add_child(l->query, "item", NULL);
    xd_elem_set_attr(item, "nick", nick);
    xd_elem_set_attr(item, "role", muc_role_name(o->role));
    xd_elem_set_attr(item, "affiliation",
                     muc_affiliation_name(muc_occupant_affiliation(o)));
    if (l->with_jid)
        xd_elem_set_attr(item, "jid", o->bare);
}

static void
get_list(struct muc_room *room, const xd_stanza *in, const xd_elem *item,
         enum muc_affiliation my_aff, const struct muc_occupant *me)
{
    const char *aff_s = xd_elem_attr(item, "affiliation");
    const char *role_s = xd_elem_attr(item, "role");
    struct list_ctx l = { 0 };

    if (aff_s && muc_affiliation_parse(aff_s, &l.aff) == 0 &&
        l.aff != MUC_AFF_NONE) {
        int may = my_aff >= MUC_AFF_ADMIN ||
                  (l.aff == MUC_AFF_MEMBER && me != NULL &&
                   (room->cfg.getmemberlist & MUC_ROLE_BIT(me->role)));
        if (!may) {
            muc_refuse(room->svc, in, "forbidden",
                       "you may not retrieve that list");
            return;
        }
        xd_stanza *r = xd_stanza_iq_result(in);
        l.query = xd_elem_add_child(xd_stanza_root(r), "query", MUC_NS_ADMIN);
        xd_map_each(room->affiliations, list_aff, &l);
        xd_component_send(room->svc->comp, r);
        return;
    }
    if (role_s && muc_role_parse(role_s, &l.role) == 0 &&
        (l.role == MUC_ROLE_MODERATOR || l.role == MUC_ROLE_PARTICIPANT)) {
        if (me == NULL || me->role != MUC_ROLE_MODERATOR) {
            muc_refuse(room->svc, in, "forbidden",
                       "only moderators may retrieve that list");
            return;
        }
        xd_stanza *r = xd_stanza_iq_result(in);
        l.query = xd_elem_add_child(xd_stanza_root(r), "query", MUC_NS_ADMIN);
        l.with_jid = muc_sees_jids(me);
        xd_map_each(room->occupants, list_role, &l);
        xd_component_send(room->svc->comp, r);
        return;
    }
    muc_refuse(room->svc, in, "bad-request",
               "ask for one affiliation (not none) or the moderator or "
               "participant role");
}

/* --- changes ----------------------------------------------------------------
 */

struct change {
    int is_role;
    struct muc_occupant *target; /* role changes, while checking */
    char *bare;                  /* nick (roles) or bare JID (affiliations) */
    enum muc_role role;
    enum muc_affiliation aff;
    const char *reason;
};

/* Checks one item; 0 or sends the error and returns -1. */
static int
check_item(struct muc_room *room, const xd_stanza *in, const xd_elem *item,
           enum muc_affiliation my_aff, const struct muc_occupant *me,
           struct change *c, size_t *owners_left)
{
    const char *nick = xd_elem_attr(item, "nick");
    const char *jid = xd_elem_attr(item, "jid");
    const char *role_s = xd_elem_attr(item, "role");
    const char *aff_s = xd_elem_attr(item, "affiliation");

    c->reason = xd_elem_child_text(item, "reason", MUC_NS_ADMIN);
    if (role_s != NULL && aff_s == NULL) {
        c->is_role = 1;
        if (muc_role_parse(role_s, &c->role) != 0 || nick == NULL) {
            muc_refuse(room->svc, in, "bad-request",
                       "a role item needs a nick");
            return -1;
        }
        if (me == NULL || me->role != MUC_ROLE_MODERATOR) {
            muc_refuse(room->svc, in, "forbidden",
                       "only moderators may change roles");
            return -1;
        }
        c->bare = xd_xstrdup(nick);
        c->target = muc_occupant_by_nick(room, nick);
        if (c->target == NULL) {
            muc_refuse(room->svc, in, "item-not-found",
                       "no occupant has that nickname");
            return -1;
        }
        enum muc_affiliation t_aff = muc_occupant_affiliation(c->target);
        if (c->role == MUC_ROLE_MODERATOR ||
            c->target->role == MUC_ROLE_MODERATOR) {
            if (my_aff < MUC_AFF_ADMIN || t_aff > my_aff) {
                muc_refuse(room->svc, in, "not-allowed",
                           "only admins and owners may change moderators");
                return -1;
            }
        }
        if (c->role < MUC_ROLE_PARTICIPANT &&
            (t_aff >= MUC_AFF_ADMIN || t_aff > my_aff)) {
            muc_refuse(room->svc, in, "not-allowed",
                       "an admin or owner cannot be kicked or silenced");
            return -1;
        }
        return 0;
    }
    if (aff_s == NULL || muc_affiliation_parse(aff_s, &c->aff) != 0) {
        muc_refuse(room->svc, in, "bad-request",
                   "an item needs a role or an affiliation");
        return -1;
    }
    if (jid == NULL && nick != NULL) {
        struct muc_occupant *o = muc_occupant_by_nick(room, nick);
        if (o == NULL) {
            muc_refuse(room->svc, in, "item-not-found",
                       "no occupant has that nickname");
            return -1;
        }
        jid = o->bare;
    }
    xd_jid *j = NULL;
    if (jid == NULL || xd_jid_parse(jid, &j) != 0) {
        muc_refuse(room->svc, in, "jid-malformed", "an item needs a valid jid");
        return -1;
    }
    c->bare = xd_xstrdup(xd_jid_bare_str(j));
    xd_jid_free(j);
    if (my_aff < MUC_AFF_ADMIN) {
        muc_refuse(room->svc, in, "forbidden",
                   "only admins and owners may change affiliations");
        return -1;
    }
    enum muc_affiliation cur = MUC_AFF_NONE;
    const struct muc_affiliation_entry *e =
        xd_map_get(room->affiliations, c->bare);
    if (e)
        cur = e->aff;
    if (my_aff < MUC_AFF_OWNER && c->aff >= MUC_AFF_ADMIN) {
        muc_refuse(room->svc, in, "forbidden",
                   "only owners may grant admin and owner");
        return -1;
    }
    if (my_aff < MUC_AFF_OWNER && cur >= MUC_AFF_ADMIN) {
        muc_refuse(room->svc, in, "not-allowed",
                   "only owners may change an admin's or owner's affiliation");
        return -1;
    }
    if (cur == MUC_AFF_OWNER && c->aff != MUC_AFF_OWNER) {
        if (*owners_left <= 1) {
            muc_refuse(room->svc, in, "conflict", "a room keeps one owner");
            return -1;
        }
        --*owners_left;
    } else if (cur != MUC_AFF_OWNER && c->aff == MUC_AFF_OWNER) {
        ++*owners_left;
    }
    return 0;
}

static void
set_items(struct muc_room *room, const xd_stanza *in, const xd_elem *query,
          enum muc_affiliation my_aff, struct muc_occupant *me)
{
    size_t n = 0, owners_left = muc_room_owner_count(room);

    for (xd_elem *i = xd_elem_first(query); i; i = xd_elem_next(i))
        n += xd_elem_is(i, "item", MUC_NS_ADMIN);
    if (n == 0) {
        muc_refuse(room->svc, in, "bad-request", "no item to change");
        return;
    }
    struct change *ch = xd_xcalloc(n, sizeof(*ch));
    size_t k = 0;
    for (xd_elem *i = xd_elem_first(query); i; i = xd_elem_next(i)) {
        if (!xd_elem_is(i, "item", MUC_NS_ADMIN))
            continue;
        if (check_item(room, in, i, my_aff, me, &ch[k++], &owners_left) != 0)
            goto out;
    }
    const char *actor = me ? me->nick : NULL;
    char *room_name = xd_xstrdup(room->name);
    struct muc_service *svc = room->svc;
    xd_component_send(room->svc->comp, xd_stanza_iq_result(in));
    for (size_t j = 0; j < k; j++) {
        if (muc_room_find(svc, room_name) != room)
            break; /* the room ended */
        if (ch[j].is_role) {
            struct muc_occupant *t = muc_occupant_by_nick(room, ch[j].bare);
            if (t != NULL)
                muc_set_role(t, ch[j].role, actor, ch[j].reason);
            continue;
        }
        muc_room_set_affiliation(room, ch[j].bare, ch[j].aff, ch[j].reason,
                                 NULL);
        affiliation_changed(room, ch[j].bare, ch[j].aff, actor, ch[j].reason);
    }
    free(room_name);
out:
    for (size_t j = 0; j < k; j++)
        free(ch[j].bare);
    free(ch);
}

void
muc_admin_iq(struct muc_room *room, const xd_stanza *in, xd_iq_type type,
             const char *bare)
{
    const xd_elem *query =
        xd_elem_child(xd_stanza_root(in), "query", MUC_NS_ADMIN);
    struct muc_occupant *me = muc_occupant_by_jid(room, xd_stanza_from(in));
    enum muc_affiliation my_aff = muc_room_affiliation(room, bare);

    if (type == XD_IQ_GET) {
        const xd_elem *item = xd_elem_child(query, "item", MUC_NS_ADMIN);
        if (item == NULL)
            muc_refuse(room->svc, in, "bad-request", "which list?");
        else
            get_list(room, in, item, my_aff, me);
        return;
    }
    set_items(room, in, query, my_aff, me);
}
