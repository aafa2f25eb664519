/*
 * enter.c: occupants: entering a room (XEP-0045 7.2 with every check in
 * the XEP's order), presence updates, nick changes (7.6), leaving (7.14),
 * exit on error, and the presence broadcast all of them share.
 */
#define XD_LOG_AREA "muc"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/jid.h>
#include <xmppd/log.h>

#include "muc.h"

static const char *const aff_names[] = { "outcast", "none", "member", "admin",
                                         "owner" };
static const char *const role_names[] = { "none", "visitor", "participant",
                                          "moderator" };

const char *
muc_affiliation_name(enum muc_affiliation a)
{
    return aff_names[a];
}

const char *
muc_role_name(enum muc_role r)
{
    return role_names[r];
}

int
muc_affiliation_parse(const char *s, enum muc_affiliation *out)
{
    for (size_t i = 0; s && i < XD_NELEM(aff_names); i++)
        if (strcmp(s, aff_names[i]) == 0) {
            *out = (enum muc_affiliation)i;
            return 0;
        }
    return XD_EINVAL;
}

int
muc_role_parse(const char *s, enum muc_role *out)
{
    for (size_t i = 0; s && i < XD_NELEM(role_names); i++)
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum muc_role)i;
            return 0;
        }
    return XD_EINVAL;
}

enum muc_affiliation
muc_occupant_affiliation(const struct muc_occupant *o)
{
    return muc_room_affiliation(o->room, o->bare);
}

enum muc_role
muc_default_role(const struct muc_room *room, enum muc_affiliation aff)
{
    if (aff >= MUC_AFF_ADMIN)
        return MUC_ROLE_MODERATOR;
    if (aff == MUC_AFF_MEMBER || !room->cfg.moderated)
        return MUC_ROLE_PARTICIPANT;
    return MUC_ROLE_VISITOR;
}

/* Whether `viewer` may see the real JIDs of others. */
int
muc_sees_jids(const struct muc_occupant *viewer)
{
    return !viewer->room->cfg.semianon || viewer->role == MUC_ROLE_MODERATOR;
}

/* --- the presence of an occupant ------------------------------------------ */

/* Builds the presence of occupant o (from its session s) as broadcast: the
 * client's own payload, from room/nick, <x muc#user><item/></x>. */
static xd_stanza *
build_presence(const struct muc_occupant *o, const struct muc_session *s,
               const struct muc_change *ch, int with_jid)
{
    xd_stanza *st;

    if (ch && ch->unavailable) {
        st = xd_stanza_presence_new("unavailable", NULL, NULL);
        if (ch->status_text)
            xd_stanza_set_child_text(st, "status", XD_NS_CLIENT,
                                     ch->status_text);
    } else {
        st = xd_stanza_copy(xd_stanza_root(s->presence));
    }
    char *from = xd_xasprintf("%s/%s", o->room->jid, o->nick);
    xd_stanza_set_from(st, from);
    free(from);
    xd_elem *root = xd_stanza_root(st);
    xd_elem *x = xd_elem_add_child(root, "x", MUC_NS_USER);
    xd_elem *item = xd_elem_add_child(x, "item", NULL);
    /* XEP-0045 10.9: a destroyed room's occupants leave as none/none. */
    xd_elem_set_attr(
        item, "affiliation",
        aff_names[ch && ch->destroy ? MUC_AFF_NONE
                                    : muc_occupant_affiliation(o)]);
    /* A nick change (303) keeps the role; leaving is role none. */
    int gone = ch && ch->unavailable && ch->new_nick == NULL;
    xd_elem_set_attr(item, "role", role_names[gone ? MUC_ROLE_NONE : o->role]);
    if (with_jid)
        xd_elem_set_attr(item, "jid", s->jid);
    if (ch && ch->new_nick)
        xd_elem_set_attr(item, "nick", ch->new_nick);
    if (ch && ch->actor) {
        xd_elem *a = xd_elem_add_child(item, "actor", NULL);
        xd_elem_set_attr(a, "nick", ch->actor);
    }
    if (ch && ch->reason)
        xd_elem_set_child_text(item, "reason", NULL, ch->reason);
    if (ch && ch->destroy) {
        xd_elem *d = xd_elem_add_child(x, "destroy", NULL);
        if (ch->alt_jid)
            xd_elem_set_attr(d, "jid", ch->alt_jid);
        if (ch->alt_password)
            xd_elem_set_child_text(d, "password", NULL, ch->alt_password);
        if (ch->reason)
            xd_elem_set_child_text(d, "reason", NULL, ch->reason);
    }
    for (size_t i = 0; ch && i < ch->ncodes; i++) {
        char code[8];
        snprintf(code, sizeof(code), "%d", ch->codes[i]);
        xd_elem_set_attr(xd_elem_add_child(x, "status", NULL), "code", code);
    }
    xd_elem *oid = xd_elem_add_child(root, "occupant-id", MUC_NS_OCCID);
    xd_elem_set_attr(oid, "id", o->occupant_id);
    if (!gone)
        muc_hats_add_to(o->room, o->bare, root);
    return st;
}

static void
add_code(xd_stanza *st, int code)
{
    xd_elem *x = xd_elem_child(xd_stanza_root(st), "x", MUC_NS_USER);
    char c[8];

    snprintf(c, sizeof(c), "%d", code);
    xd_elem_set_attr(xd_elem_add_child(x, "status", NULL), "code", c);
}

void
muc_send_copy(struct muc_service *svc, const xd_stanza *st, const char *to)
{
    xd_stanza *c = xd_stanza_copy(xd_stanza_root(st));

    xd_stanza_set_to(c, to);
    xd_component_send(svc->comp, c);
}

/* Sends the presence of o (session s) to one recipient session. */
static void
send_presence_to(const struct muc_occupant *o, const struct muc_session *s,
                 const struct muc_change *ch, const struct muc_occupant *viewer,
                 const char *to)
{
    int self = viewer == o;
    xd_stanza *st = build_presence(o, s, ch, self || muc_sees_jids(viewer));

    if (self) {
        for (size_t i = 0; ch && i < ch->nself_codes; i++)
            add_code(st, ch->self_codes[i]);
        add_code(st, 110);
    }
    xd_stanza_set_to(st, to);
    xd_component_send(o->room->svc->comp, st);
}

struct bcast {
    const struct muc_occupant *o;
    const struct muc_session *s;
    const struct muc_change *ch;
    xd_stanza *plain, *with_jid; /* built once for all non-self viewers */
};

static void
bcast_one(const char *nick, void *value, void *arg)
{
    const struct muc_occupant *viewer = value;
    struct bcast *b = arg;

    (void)nick;
    if (viewer == b->o) {
        for (const struct muc_session *s = viewer->sessions; s; s = s->next)
            send_presence_to(b->o, b->s, b->ch, viewer, s->jid);
        return;
    }
    xd_stanza **st = muc_sees_jids(viewer) ? &b->with_jid : &b->plain;
    if (*st == NULL)
        *st = build_presence(b->o, b->s, b->ch, st == &b->with_jid);
    for (const struct muc_session *s = viewer->sessions; s; s = s->next)
        muc_send_copy(b->o->room->svc, *st, s->jid);
}

void
muc_broadcast_presence(const struct muc_occupant *o,
                       const struct muc_session *s, const struct muc_change *ch)
{
    struct muc_room *room = o->room;
    struct bcast b = { o, s, ch, NULL, NULL };

    if (!(room->cfg.presence_broadcast & MUC_ROLE_BIT(o->role)) &&
        !(ch && ch->unavailable && ch->ncodes > 0)) {
        /* Only the occupant itself learns of it. */
        for (const struct muc_session *t = o->sessions; t; t = t->next)
            send_presence_to(o, s, ch, o, t->jid);
        return;
    }
    xd_map_each(room->occupants, bcast_one, &b);
    if (b.plain)
        xd_stanza_unref(b.plain);
    if (b.with_jid)
        xd_stanza_unref(b.with_jid);
}

/* --- occupants -------------------------------------------------------------
 */

static struct muc_session *
session_new(const char *jid, const xd_stanza *presence)
{
    struct muc_session *s = xd_xcalloc(1, sizeof(*s));

    s->jid = xd_xstrdup(jid);
    s->presence = xd_stanza_copy(xd_stanza_root(presence));
    /* What the room adds is the room's: drop the client's join payload and
     * anything that looks like the room's own elements. */
    xd_elem *root = xd_stanza_root(s->presence);
    for (xd_elem *e = xd_elem_first(root), *next; e; e = next) {
        next = xd_elem_next(e);
        if (xd_elem_is(e, "x", MUC_NS) || xd_elem_is(e, "x", MUC_NS_USER) ||
            xd_elem_is(e, "occupant-id", MUC_NS_OCCID) ||
            xd_elem_is(e, "hats", MUC_NS_HATS))
            xd_elem_remove(e);
    }
    xd_stanza_set_to(s->presence, NULL);
    xd_stanza_set_from(s->presence, NULL);
    xd_stanza_set_id(s->presence, NULL);
    return s;
}

static void
session_free(struct muc_session *s)
{
    xd_stanza_unref(s->presence);
    free(s->jid);
    free(s);
}

static struct muc_session *
session_of(const struct muc_occupant *o, const char *jid)
{
    for (struct muc_session *s = o->sessions; s; s = s->next)
        if (strcmp(s->jid, jid) == 0)
            return s;
    return NULL;
}

static void
occupant_free(struct muc_occupant *o)
{
    while (o->sessions) {
        struct muc_session *s = o->sessions;
        o->sessions = s->next;
        session_free(s);
    }
    free(o->nick);
    free(o->bare);
    free(o);
}

/* Takes session s (by real JID) out of its occupant; the occupant leaves the
 * room with its last session. The caller has sent the presences. */
static void
remove_session(struct muc_occupant *o, const char *jid)
{
    struct muc_room *room = o->room;

    for (struct muc_session **pp = &o->sessions; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->jid, jid) == 0) {
            struct muc_session *s = *pp;
            *pp = s->next;
            xd_map_remove(room->sessions, s->jid);
            room->recipients_stale = 1;
            session_free(s);
            break;
        }
    if (o->sessions != NULL)
        return;
    xd_map_remove(room->occupants, o->nick);
    room->noccupants--;
    occupant_free(o);
}

/* Takes every session out of o, which leaves the room (and is freed). */
static void
remove_all_sessions(struct muc_occupant *o)
{
    while (o->sessions->next != NULL)
        remove_session(o, o->sessions->jid);
    remove_session(o, o->sessions->jid);
}

/* Removes occupant o from its room entirely, after telling everyone with
 * change ch (unavailable). Frees o. */
void
muc_occupant_remove(struct muc_occupant *o, const struct muc_change *ch)
{
    struct muc_room *room = o->room;

    muc_broadcast_presence(o, o->sessions, ch);
    while (o->sessions && o->sessions->next)
        remove_session(o, o->sessions->jid);
    remove_session(o, o->sessions->jid); /* frees o */
    if (!room->destroyed)
        muc_room_forget_if_unused(room);
}

struct muc_occupant *
muc_occupant_by_nick(const struct muc_room *room, const char *nick)
{
    return nick ? xd_map_get(room->occupants, nick) : NULL;
}

struct muc_occupant *
muc_occupant_by_jid(const struct muc_room *room, const char *full)
{
    return full ? xd_map_get(room->sessions, full) : NULL;
}

void
muc_occupants_evict_all(struct muc_room *room, const char *reason,
                        const char *alt_jid, const char *alt_password)
{
    size_t n;
    void **all = xd_map_values(room->occupants, &n);
    struct muc_change ch = { .unavailable = 1,
                             .destroy = 1,
                             .reason = reason,
                             .alt_jid = alt_jid,
                             .alt_password = alt_password };

    /* Each occupant is told alone: the others are leaving too. */
    for (size_t i = 0; i < n; i++) {
        struct muc_occupant *o = all[i];
        for (struct muc_session *s = o->sessions; s; s = s->next)
            send_presence_to(o, s, &ch, o, s->jid);
        remove_all_sessions(o);
    }
    free(all);
}

void
muc_occupants_drop_all(struct muc_room *room)
{
    size_t n;
    void **all = xd_map_values(room->occupants, &n);

    for (size_t i = 0; i < n; i++)
        remove_all_sessions(all[i]);
    free(all);
}

/* --- entering ------------------------------------------------------------ */

static void
refuse_entry(struct muc_service *svc, const xd_stanza *in,
             const char *condition, const char *text)
{
    xd_stanza *err = xd_stanza_error(in, condition, text);

    /* XEP-0045 7.2.x: the error carries the <x/> the client sent. */
    xd_elem *x = xd_elem_child(xd_stanza_root(in), "x", MUC_NS);
    if (x == NULL)
        xd_elem_add_child(xd_stanza_root(err), "x", MUC_NS);
    xd_component_send(svc->comp, err);
}

static int
may_create(const struct muc_service *svc, const char *bare)
{
    const char *list = svc->conf.room_creators;
    const char *at = strchr(bare, '@');
    const char *domain = at ? at + 1 : bare;

    if (muc_is_service_admin(svc, bare))
        return 1;
    if (list == NULL)
        return 0;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, " ,");
        if ((len == 1 && *p == '*') ||
            (len == strlen(bare) && strncmp(p, bare, len) == 0) ||
            (len == strlen(domain) && strncmp(p, domain, len) == 0))
            return 1;
        p += len;
    }
    return 0;
}

static void
send_existing(const char *nick, void *value, void *arg)
{
    const struct muc_occupant *o = value;
    struct muc_occupant *joiner = ((void **)arg)[0];
    const char *to = ((void **)arg)[1];

    (void)nick;
    if (o == joiner)
        return;
    if (!(o->room->cfg.presence_broadcast & MUC_ROLE_BIT(o->role)))
        return;
    send_presence_to(o, o->sessions, NULL, joiner, to);
}

static void
send_subject(struct muc_room *room, const char *to)
{
    char *from = room->subject_from
                     ? xd_xasprintf("%s/%s", room->jid, room->subject_from)
                     : xd_xstrdup(room->jid);
    xd_stanza *m = xd_stanza_message_new("groupchat", to, from, NULL);

    xd_stanza_set_child_text(m, "subject", XD_NS_CLIENT,
                             room->subject ? room->subject : "");
    free(from);
    xd_component_send(room->svc->comp, m);
}

static void
enter(struct muc_service *svc, struct muc_room *room, const char *name,
      const char *nick, int nick_changed, const char *from,
      const xd_jid *from_jid, const xd_stanza *in)
{
    const char *bare = xd_jid_bare_str(from_jid);
    const xd_elem *x = xd_elem_child(xd_stanza_root(in), "x", MUC_NS);
    int created = 0;

    if (room == NULL) {
        if (!may_create(svc, bare)) {
            refuse_entry(svc, in, "not-allowed",
                         "you may not create rooms here");
            return;
        }
        if (xd_map_count(svc->rooms) >= svc->conf.max_rooms) {
            refuse_entry(svc, in, "resource-constraint",
                         "the service has as many rooms as it may");
            return;
        }
        room = muc_room_create(svc, name, bare);
        created = 1;
        if (x == NULL) /* a client that does not speak MUC: instant room */
            room->locked = 0;
    }
    enum muc_affiliation aff = muc_room_affiliation(room, bare);
    if (room->locked && aff != MUC_AFF_OWNER) {
        refuse_entry(svc, in, "item-not-found",
                     "the room is being created: try again soon");
        return;
    }
    if (aff == MUC_AFF_OUTCAST) {
        refuse_entry(svc, in, "forbidden", "you are banned from this room");
        return;
    }
    if (room->cfg.members_only && aff < MUC_AFF_MEMBER) {
        refuse_entry(svc, in, "registration-required",
                     "this room is for members only");
        return;
    }
    struct muc_occupant *o = muc_occupant_by_nick(room, nick);
    if (o != NULL && strcmp(o->bare, bare) != 0) {
        refuse_entry(svc, in, "conflict", "that nickname is in use");
        return;
    }
    const char *holder = muc_room_nick_owner(room, nick);
    if (holder != NULL && strcmp(holder, bare) != 0) {
        refuse_entry(svc, in, "conflict",
                     "that nickname is registered by another");
        return;
    }
    if (o == NULL && aff < MUC_AFF_ADMIN &&
        (long)room->noccupants >= room->cfg.max_users) {
        refuse_entry(svc, in, "service-unavailable", "the room is full");
        return;
    }
    if (room->cfg.password_protected && aff < MUC_AFF_ADMIN) {
        const char *pw = x ? xd_elem_child_text(x, "password", MUC_NS) : NULL;
        if (pw == NULL || room->cfg.password == NULL ||
            strcmp(pw, room->cfg.password) != 0) {
            refuse_entry(svc, in, "not-authorized",
                         "a password is required to enter this room");
            return;
        }
    }
    int new_occupant = o == NULL;
    if (new_occupant) {
        o = xd_xcalloc(1, sizeof(*o));
        o->room = room;
        o->nick = xd_xstrdup(nick);
        o->bare = xd_xstrdup(bare);
        o->role = muc_default_role(room, aff);
        o->tokens = (double)svc->conf.occupant_burst;
        o->refilled_us = muc_now_us();
        muc_occupant_id(svc, room, bare, o->occupant_id);
        xd_map_put(room->occupants, o->nick, o);
        room->noccupants++;
    }
    struct muc_session *s = session_new(from, in);
    s->next = o->sessions;
    o->sessions = s;
    xd_map_put(room->sessions, s->jid, o);
    room->recipients_stale = 1;

    /* 7.2.3: the others' presences, then the joiner's to everyone. */
    void *args[2] = { o, (void *)from };
    xd_map_each(room->occupants, send_existing, args);
    int self_codes[5];
    size_t n = 0;
    if (!room->cfg.semianon)
        self_codes[n++] = 100;
    if (room->cfg.archive)
        self_codes[n++] = 170;
    if (created)
        self_codes[n++] = 201;
    if (nick_changed) /* the nick was normalised (PRECIS) */
        self_codes[n++] = 210;
    struct muc_change ch = { .self_codes = self_codes, .nself_codes = n };
    if (new_occupant) {
        muc_broadcast_presence(o, s, &ch);
    } else {
        /* Another session of the same occupant: it alone learns of itself
         * (the others already see the occupant). */
        send_presence_to(o, s, &ch, o, s->jid);
    }
    if (created && room->locked)
        xd_log_info("%s: waiting for %s to configure it", room->jid, bare);
    /* 7.2.15: every new occupant gets the subject (empty if none), the
     * creator of a locked room too: clients take the subject for the end
     * of the join, and one that never sees it thinks the server broken. */
    const xd_elem *hreq = x ? xd_elem_child(x, "history", MUC_NS) : NULL;
    muc_history_send(room, from, hreq);
    send_subject(room, from);
}

/* --- presence in ---------------------------------------------------------- */

static void
update(struct muc_occupant *o, const char *from, const xd_stanza *in)
{
    struct muc_session *s = session_of(o, from);
    struct muc_session *fresh = session_new(from, in);

    xd_stanza_unref(s->presence);
    s->presence = fresh->presence;
    fresh->presence = NULL;
    free(fresh->jid);
    free(fresh);
    muc_broadcast_presence(o, s, NULL);
}

static void
change_nick(struct muc_service *svc, struct muc_occupant *o, const char *from,
            const char *nick, const xd_stanza *in)
{
    struct muc_room *room = o->room;
    const char *holder = muc_room_nick_owner(room, nick);

    if (!room->cfg.allow_nick_change &&
        muc_occupant_affiliation(o) < MUC_AFF_ADMIN) {
        refuse_entry(svc, in, "not-acceptable",
                     "nickname changes are not allowed in this room");
        return;
    }
    if (muc_occupant_by_nick(room, nick) != NULL ||
        (holder != NULL && strcmp(holder, o->bare) != 0)) {
        refuse_entry(svc, in, "conflict", "that nickname is in use");
        return;
    }
    struct muc_session *s = session_of(o, from);
    int code = 303;
    struct muc_change ch = {
        .unavailable = 1, .codes = &code, .ncodes = 1, .new_nick = nick
    };
    muc_broadcast_presence(o, s, &ch);
    xd_map_remove(room->occupants, o->nick);
    free(o->nick);
    o->nick = xd_xstrdup(nick);
    xd_map_put(room->occupants, o->nick, o);
    update(o, from, in);
}

static void
leave(struct muc_occupant *o, const char *from, const xd_stanza *in)
{
    struct muc_change ch = {
        .unavailable = 1,
        .status_text = xd_stanza_child_text(in, "status", XD_NS_CLIENT),
    };

    if (o->sessions->next != NULL) {
        /* One of several sessions: only it is told it left. */
        send_presence_to(o, session_of(o, from), &ch, o, from);
        remove_session(o, from);
        return;
    }
    muc_occupant_remove(o, &ch);
}

/* XEP-0045 7.14 / 333: an error from an occupant's session means it is gone;
 * the occupant leaves with status 333. */
void
muc_session_failed(struct muc_room *room, const char *real_jid)
{
    struct muc_occupant *o = muc_occupant_by_jid(room, real_jid);
    int code = 333;
    struct muc_change ch = { .unavailable = 1, .codes = &code, .ncodes = 1 };

    if (o == NULL)
        return;
    xd_log_info("%s: %s (%s) removed after an error from it", room->jid,
                o->nick, real_jid);
    if (o->sessions->next != NULL) {
        remove_session(o, real_jid);
        return;
    }
    muc_occupant_remove(o, &ch);
}

xd_verdict
muc_presence_in(xd_component *c, const xd_stanza *in, void *arg)
{
    struct muc_service *svc = arg;
    const char *from = xd_stanza_from(in), *type = xd_stanza_type(in);
    xd_jid *to = NULL, *from_jid = NULL;

    (void)c;
    if (from == NULL || xd_jid_parse(from, &from_jid) != 0 ||
        xd_stanza_to(in) == NULL || xd_jid_parse(xd_stanza_to(in), &to) != 0)
        goto done;
    const char *name = xd_jid_local(to), *nick = xd_jid_resource(to);
    struct muc_room *room = muc_room_find(svc, name);
    int unavailable = type && strcmp(type, "unavailable") == 0;
    if (type && strcmp(type, "error") == 0) {
        if (room)
            muc_session_failed(room, from);
        goto done;
    }
    if (name == NULL || (type && !unavailable))
        goto done; /* to the service, or a subscription: nothing to do */
    struct muc_occupant *o = room ? muc_occupant_by_jid(room, from) : NULL;
    if (unavailable) {
        if (o != NULL)
            leave(o, from, in);
        goto done;
    }
    if (nick == NULL || *nick == '\0') {
        refuse_entry(svc, in, "jid-malformed", "a nickname is required");
        goto done;
    }
    /* Every presence is copied to every session in the room (and a joiner
     * gets everyone's): its size times the room's is what one stanza makes
     * the service send. */
    xd_buf_reset(&svc->scratch);
    xd_elem_serialise(xd_stanza_root(in), XD_NS_COMPONENT, &svc->scratch);
    if (svc->scratch.len > svc->conf.max_presence_bytes) {
        refuse_entry(svc, in, "not-acceptable",
                     "the presence is too large for this room");
        goto done;
    }
    const char *raw = strchr(xd_stanza_to(in), '/');
    if (o == NULL)
        enter(svc, room, name, nick, raw && strcmp(raw + 1, nick) != 0, from,
              from_jid, in);
    else if (strcmp(o->nick, nick) == 0)
        update(o, from, in);
    else
        change_nick(svc, o, from, nick, in);
done:
    xd_jid_free(to);
    xd_jid_free(from_jid);
    return XD_HANDLED;
}
