/*
 * message.c: messages to a room and its occupants: groupchat (7.4) with the
 * size and rate limits, subject changes (8.1), private messages (7.5),
 * mediated invitations and declines (7.8.2), voice requests (7.13 / 8.6),
 * and errors that mean an occupant is gone.
 */
#define XD_LOG_AREA "muc"
#include <stdlib.h>
#include <string.h>

#include <xmppd/buf.h>
#include <xmppd/form.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>

#include "muc.h"

#define NS_REQUEST  "http://jabber.org/protocol/muc#request"
#define NS_REGISTER "http://jabber.org/protocol/muc#register"

/* Token bucket per occupant: 1 when it may send `cost` messages now (and
 * they are counted), else 0. */
static int
rate_ok(struct muc_occupant *o, double cost)
{
    const struct muc_conf *conf = &o->room->svc->conf;
    int64_t now = muc_now_us();

    if (conf->occupant_rate == 0)
        return 1;
    o->tokens +=
        (double)(now - o->refilled_us) / 1e6 * (double)conf->occupant_rate;
    o->refilled_us = now;
    if (o->tokens > (double)conf->occupant_burst)
        o->tokens = (double)conf->occupant_burst;
    if (o->tokens < cost)
        return 0;
    o->tokens -= cost;
    return 1;
}

static size_t
payload_bytes(const xd_stanza *in, xd_buf *scratch)
{
    xd_buf_reset(scratch);
    xd_elem_serialise(xd_stanza_root(in), XD_NS_COMPONENT, scratch);
    return scratch->len;
}

/* The service's size and rate limits for what o sends, which counts as
 * `cost` messages: 1, or the error is sent and 0. */
static int
within_limits(struct muc_occupant *o, const xd_stanza *in, size_t cost)
{
    struct muc_service *svc = o->room->svc;

    if (payload_bytes(in, &svc->scratch) > svc->conf.max_message_bytes) {
        muc_refuse(svc, in, "not-acceptable", "the message is too long");
        return 0;
    }
    if (!rate_ok(o, (double)cost)) {
        xd_component_send(svc->comp, xd_stanza_error_reply(
                                         in, XD_ERRT_WAIT, "policy-violation",
                                         "too many messages: slow "
                                         "down and try again"));
        return 0;
    }
    return 1;
}

/* Removes what only the room may say from a client's message: occupant ids,
 * the room's stanza-ids, and muc#user data (an <item jid=/> in it would
 * claim a real JID). */
static void
strip_room_elements(xd_elem *root, const char *room_jid)
{
    for (xd_elem *e = xd_elem_first(root), *next; e; e = next) {
        next = xd_elem_next(e);
        if (xd_elem_is(e, "occupant-id", MUC_NS_OCCID) ||
            xd_elem_is(e, "x", MUC_NS_USER) ||
            (xd_elem_is(e, "stanza-id", MUC_NS_SID) && xd_elem_attr(e, "by") &&
             strcmp(xd_elem_attr(e, "by"), room_jid) == 0))
            xd_elem_remove(e);
    }
}

static void
add_recipients(const char *nick, void *value, void *arg)
{
    const struct muc_occupant *o = value;
    struct muc_room *room = arg;

    (void)nick;
    for (const struct muc_session *s = o->sessions; s; s = s->next)
        room->recipients[room->nrecipients++] = s->jid;
}

void
muc_broadcast(struct muc_room *room, const xd_stanza *st)
{
    if (room->recipients_stale || room->recipients == NULL) {
        free(room->recipients);
        room->recipients = xd_xcalloc(xd_map_count(room->sessions) + 1,
                                      sizeof(*room->recipients));
        room->nrecipients = 0;
        xd_map_each(room->occupants, add_recipients, room);
        room->recipients_stale = 0;
    }
    xd_component_send_each(room->svc->comp, st, room->recipients,
                           room->nrecipients);
}

static xd_stanza *
from_occupant(const xd_stanza *in, const struct muc_occupant *o)
{
    xd_stanza *out = xd_stanza_copy(xd_stanza_root(in));
    char *from = xd_xasprintf("%s/%s", o->room->jid, o->nick);

    xd_stanza_set_from(out, from);
    xd_stanza_set_to(out, NULL);
    free(from);
    strip_room_elements(xd_stanza_root(out), o->room->jid);
    xd_elem *oid =
        xd_elem_add_child(xd_stanza_root(out), "occupant-id", MUC_NS_OCCID);
    xd_elem_set_attr(oid, "id", o->occupant_id);
    return out;
}

static void
change_subject(struct muc_room *room, struct muc_occupant *o,
               const xd_stanza *in, const char *subject)
{
    if (o->role < MUC_ROLE_MODERATOR &&
        !(room->cfg.change_subject && o->role >= MUC_ROLE_PARTICIPANT)) {
        muc_refuse(room->svc, in, "forbidden",
                   "only moderators may change the subject in this room");
        return;
    }
    free(room->subject);
    free(room->subject_from);
    room->subject = xd_xstrdup(subject);
    room->subject_from = xd_xstrdup(o->nick);
    muc_room_save(room);
    xd_stanza *out = from_occupant(in, o);
    muc_broadcast(room, out);
    xd_stanza_unref(out);
}

static void
groupchat(struct muc_room *room, struct muc_occupant *o, const xd_stanza *in)
{
    struct muc_service *svc = room->svc;
    const char *subject = xd_stanza_child_text(in, "subject", XD_NS_CLIENT);
    const char *body = xd_stanza_child_text(in, "body", XD_NS_CLIENT);

    if (o->role < MUC_ROLE_PARTICIPANT) {
        muc_refuse(svc, in, "forbidden", "visitors may not speak in this room");
        return;
    }
    if (!within_limits(o, in, 1))
        return;
    if (subject != NULL && body == NULL) {
        change_subject(room, o, in, subject);
        return;
    }
    xd_stanza *out = from_occupant(in, o);
    if (muc_archive_message(room, out, o) != 0) {
        xd_stanza_unref(out);
        muc_refuse(svc, in, "internal-server-error",
                   "the message could not be stored");
        return;
    }
    if (body != NULL)
        muc_history_add(room->history, out, muc_now_us(),
                        (size_t)svc->conf.history_max);
    muc_broadcast(room, out);
    xd_stanza_unref(out);
}

static void
private_message(struct muc_room *room, struct muc_occupant *o, const char *nick,
                const xd_stanza *in)
{
    struct muc_service *svc = room->svc;
    struct muc_occupant *target = muc_occupant_by_nick(room, nick);
    const char *type = xd_stanza_type(in);
    int allowed;

    if (type && strcmp(type, "groupchat") == 0) {
        muc_refuse(svc, in, "bad-request",
                   "groupchat messages go to the room, not to an occupant");
        return;
    }
    if (target == NULL) {
        muc_refuse(svc, in, "item-not-found", "no occupant has that nickname");
        return;
    }
    switch (room->cfg.allowpm) {
    case MUC_PM_ANYONE:
        allowed = 1;
        break;
    case MUC_PM_PARTICIPANTS:
        allowed = o->role >= MUC_ROLE_PARTICIPANT;
        break;
    case MUC_PM_MODERATORS:
        allowed = o->role >= MUC_ROLE_MODERATOR;
        break;
    default:
        allowed = 0;
        break;
    }
    if (!allowed) {
        muc_refuse(svc, in, "forbidden",
                   "private messages are not allowed to you in this room");
        return;
    }
    if (!within_limits(o, in, 1))
        return;
    xd_stanza *out = from_occupant(in, o);
    if (xd_elem_child(xd_stanza_root(out), "x", MUC_NS_USER) == NULL)
        xd_elem_add_child(xd_stanza_root(out), "x", MUC_NS_USER);
    for (const struct muc_session *s = target->sessions; s; s = s->next)
        muc_send_copy(svc, out, s->jid);
    xd_stanza_unref(out);
}

/* --- invitations ---------------------------------------------------------- */

void
muc_invites_free(struct muc_room *room)
{
    while (room->invites != NULL) {
        struct muc_invite *i = room->invites;
        room->invites = i->next;
        free(i->invitee);
        free(i->inviter);
        free(i);
    }
    room->ninvites = 0;
}

/* Remembers that `inviter` invited `invitee`, forgetting the oldest past
 * max_pending_invites. */
static void
remember_invite(struct muc_room *room, const char *invitee, const char *inviter)
{
    struct muc_invite *i = xd_xcalloc(1, sizeof(*i));

    i->invitee = xd_xstrdup(invitee);
    i->inviter = xd_xstrdup(inviter);
    i->next = room->invites;
    room->invites = i;
    if (++room->ninvites <= room->svc->conf.max_pending_invites)
        return;
    struct muc_invite **pp = &room->invites;
    while ((*pp)->next != NULL)
        pp = &(*pp)->next;
    free((*pp)->invitee);
    free((*pp)->inviter);
    free(*pp);
    *pp = NULL;
    room->ninvites--;
}

/* Takes the invitation of `invitee` by `to` (its full JID, or its bare JID
 * when `to` is bare) out of the room's memory: its inviter's full JID (the
 * caller frees it), or NULL when there is none. */
static char *
take_invite(struct muc_room *room, const char *invitee, const xd_jid *to)
{
    for (struct muc_invite **pp = &room->invites; *pp; pp = &(*pp)->next) {
        struct muc_invite *i = *pp;
        if (strcmp(i->invitee, invitee) != 0)
            continue;
        size_t blen = strlen(xd_jid_bare_str(to));
        int match =
            xd_jid_resource(to) != NULL
                ? strcmp(i->inviter, xd_jid_str(to)) == 0
                : strncmp(i->inviter, xd_jid_bare_str(to), blen) == 0 &&
                      (i->inviter[blen] == '/' || i->inviter[blen] == '\0');
        if (!match)
            continue;
        char *inviter = i->inviter;
        *pp = i->next;
        free(i->invitee);
        free(i);
        room->ninvites--;
        return inviter;
    }
    return NULL;
}

static void
invite(struct muc_room *room, struct muc_occupant *o, const xd_elem *inv,
       const xd_stanza *in)
{
    struct muc_service *svc = room->svc;
    const char *to = xd_elem_attr(inv, "to");
    xd_jid *invitee = NULL;

    if (to == NULL || xd_jid_parse(to, &invitee) != 0) {
        muc_refuse(svc, in, "jid-malformed",
                   "the invitation needs a valid 'to'");
        return;
    }
    enum muc_affiliation aff = muc_occupant_affiliation(o);
    if (room->cfg.members_only && !room->cfg.allow_invites &&
        aff < MUC_AFF_ADMIN) {
        xd_jid_free(invitee);
        muc_refuse(svc, in, "forbidden",
                   "only admins may invite to this members-only room");
        return;
    }
    /* An invitation lifts no ban: only an admin's muc#admin change does. */
    const char *bare = xd_jid_bare_str(invitee);
    enum muc_affiliation theirs = muc_room_affiliation(room, bare);
    if (theirs == MUC_AFF_OUTCAST) {
        xd_jid_free(invitee);
        muc_refuse(svc, in, "forbidden", "that user is banned from the room");
        return;
    }
    if (room->cfg.members_only && theirs == MUC_AFF_NONE)
        muc_room_set_affiliation(room, bare, MUC_AFF_MEMBER, NULL, NULL);
    remember_invite(room, bare, xd_stanza_from(in));
    xd_stanza *m =
        xd_stanza_message_new(NULL, xd_jid_str(invitee), room->jid, NULL);
    xd_stanza_set_id(m, xd_stanza_id(in)); /* the inviter's, or none */
    xd_elem *x = xd_elem_add_child(xd_stanza_root(m), "x", MUC_NS_USER);
    xd_elem *i = xd_elem_add_child(x, "invite", NULL);
    xd_elem_set_attr(i, "from", xd_stanza_from(in));
    const char *reason = xd_elem_child_text(inv, "reason", MUC_NS_USER);
    if (reason)
        xd_elem_set_child_text(i, "reason", NULL, reason);
    if (room->cfg.password_protected && room->cfg.password)
        xd_elem_set_child_text(x, "password", NULL, room->cfg.password);
    char *body =
        xd_xasprintf("%s invites you to the room %s%s%s", xd_stanza_from(in),
                     room->jid, reason ? ": " : "", reason ? reason : "");
    xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, body);
    free(body);
    xd_component_send(svc->comp, m);
    xd_jid_free(invitee);
}

/* The invitations of one message: at most max_invites, within the size
 * limit, each counted against the sender's rate like a message. */
static void
invite_all(struct muc_room *room, struct muc_occupant *o, const xd_elem *first,
           const xd_stanza *in)
{
    size_t n = 0;

    for (const xd_elem *i = first; i;
         i = xd_elem_next_match(i, "invite", MUC_NS_USER))
        n++;
    if (n > room->svc->conf.max_invites) {
        muc_refuse(room->svc, in, "not-acceptable",
                   "too many invitations in one message");
        return;
    }
    if (!within_limits(o, in, n))
        return;
    for (const xd_elem *i = first; i;
         i = xd_elem_next_match(i, "invite", MUC_NS_USER))
        invite(room, o, i, in);
}

/* A decline goes to the one who invited the decliner, and to no one when
 * nobody did: the room relays no decline on anyone's word. */
static void
decline(struct muc_room *room, const xd_elem *dec, const xd_stanza *in)
{
    const char *to = xd_elem_attr(dec, "to");
    xd_jid *inviter = NULL, *from = NULL;

    if (to == NULL || xd_jid_parse(to, &inviter) != 0 ||
        xd_jid_parse(xd_stanza_from(in), &from) != 0) {
        xd_jid_free(inviter);
        muc_refuse(room->svc, in, "jid-malformed", "the decline needs a 'to'");
        return;
    }
    char *real = take_invite(room, xd_jid_bare_str(from), inviter);
    if (real == NULL) {
        muc_refuse(room->svc, in, "not-acceptable",
                   "no invitation from that user to decline");
        goto done;
    }
    xd_stanza *m = xd_stanza_message_new(NULL, real, room->jid, NULL);
    xd_elem *x = xd_elem_add_child(xd_stanza_root(m), "x", MUC_NS_USER);
    xd_elem *d = xd_elem_add_child(x, "decline", NULL);
    xd_elem_set_attr(d, "from", xd_jid_bare_str(from));
    const char *reason = xd_elem_child_text(dec, "reason", MUC_NS_USER);
    if (reason)
        xd_elem_set_child_text(d, "reason", NULL, reason);
    xd_component_send(room->svc->comp, m);
    free(real);
done:
    xd_jid_free(inviter);
    xd_jid_free(from);
}

/* --- voice requests ----------------------------------------------------------
 */

struct to_moderators {
    struct muc_service *svc;
    const xd_stanza *st;
};

static void
send_to_moderator(const char *nick, void *value, void *arg)
{
    const struct muc_occupant *o = value;
    struct to_moderators *t = arg;

    (void)nick;
    if (o->role != MUC_ROLE_MODERATOR)
        return;
    for (const struct muc_session *s = o->sessions; s; s = s->next)
        muc_send_copy(t->svc, t->st, s->jid);
}

static void
voice_request(struct muc_room *room, struct muc_occupant *o,
              const xd_elem *form, const xd_stanza *in)
{
    const char *type = xd_form_type(form);

    if (type && strcmp(type, "submit") == 0 && o->role == MUC_ROLE_MODERATOR) {
        /* A moderator's answer to a request. */
        int allow = 0;
        const char *nick = xd_form_value(form, "muc#roomnick");
        struct muc_occupant *who = muc_occupant_by_nick(room, nick);
        if (xd_form_bool(form, "muc#request_allow", &allow) == 0 && allow &&
            who != NULL && who->role == MUC_ROLE_VISITOR)
            muc_set_role(who, MUC_ROLE_PARTICIPANT, o->nick, NULL);
        return;
    }
    if (!room->cfg.voice_requests) {
        muc_refuse(room->svc, in, "forbidden",
                   "voice requests are not allowed in this room");
        return;
    }
    if (o->role != MUC_ROLE_VISITOR)
        return; /* has voice already */
    xd_stanza *m = xd_stanza_message_new(NULL, NULL, room->jid, NULL);
    xd_elem *x = xd_form_add(xd_stanza_root(m), "form", "Voice request",
                             "To approve this request for voice, select the "
                             "\"Grant voice\" checkbox and submit.");
    xd_form_add_form_type(x, NS_REQUEST);
    xd_form_add_field(x, "muc#role", "list-single", "Requested role",
                      "participant");
    xd_form_add_field(x, "muc#jid", "jid-single", "User ID", o->sessions->jid);
    xd_form_add_field(x, "muc#roomnick", "text-single", "Room nickname",
                      o->nick);
    xd_form_add_bool(x, "muc#request_allow", "Grant voice", 0);
    struct to_moderators t = { room->svc, m };
    xd_map_each(room->occupants, send_to_moderator, &t);
    xd_stanza_unref(m);
}

/* --- message in
 * ---------------------------------------------------------------- */

static int
gone_condition(const char *c)
{
    static const char *const gone[] = {
        "gone",
        "item-not-found",
        "recipient-unavailable",
        "redirect",
        "remote-server-not-found",
        "remote-server-timeout",
        "service-unavailable",
    };
    for (size_t i = 0; c && i < XD_NELEM(gone); i++)
        if (strcmp(c, gone[i]) == 0)
            return 1;
    return 0;
}

xd_verdict
muc_message_in(xd_component *c, const xd_stanza *in, void *arg)
{
    struct muc_service *svc = arg;
    const char *from = xd_stanza_from(in), *type = xd_stanza_type(in);
    xd_jid *to = NULL;

    (void)c;
    if (from == NULL || xd_stanza_to(in) == NULL ||
        xd_jid_parse(xd_stanza_to(in), &to) != 0)
        goto done;
    const char *name = xd_jid_local(to), *nick = xd_jid_resource(to);
    struct muc_room *room = muc_room_find(svc, name);
    if (type && strcmp(type, "error") == 0) {
        if (room && gone_condition(xd_stanza_error_condition(in)))
            muc_session_failed(room, from);
        goto done;
    }
    if (name == NULL)
        goto done; /* to the service itself: nothing to say */
    if (room == NULL) {
        muc_refuse(svc, in, "item-not-found", "no such room");
        goto done;
    }
    struct muc_occupant *o = muc_occupant_by_jid(room, from);
    const xd_elem *x = xd_elem_child(xd_stanza_root(in), "x", MUC_NS_USER);
    const xd_elem *decl = x ? xd_elem_child(x, "decline", MUC_NS_USER) : NULL;
    if (nick == NULL && decl != NULL) {
        decline(room, decl, in);
        goto done;
    }
    const xd_elem *form = xd_form_find(xd_stanza_root(in));
    const char *form_type = form ? xd_form_form_type(form) : NULL;
    if (nick == NULL && form_type && strcmp(form_type, NS_REGISTER) == 0) {
        muc_register_decision(room, in, form); /* admins may be outside */
        goto done;
    }
    if (o == NULL) {
        muc_refuse(svc, in, "not-acceptable",
                   "only occupants may send messages to the room");
        goto done;
    }
    if (nick != NULL) {
        private_message(room, o, nick, in);
        goto done;
    }
    if (type && strcmp(type, "groupchat") == 0) {
        groupchat(room, o, in);
        goto done;
    }
    const xd_elem *inv = x ? xd_elem_child(x, "invite", MUC_NS_USER) : NULL;
    if (inv != NULL) {
        invite_all(room, o, inv, in);
        goto done;
    }
    if (form_type && strcmp(form_type, NS_REQUEST) == 0) {
        voice_request(room, o, form, in);
        goto done;
    }
    muc_refuse(svc, in, "bad-request",
               "messages to the room are groupchat, invitations or requests");
done:
    xd_jid_free(to);
    return XD_HANDLED;
}
