/*
 * register.c: registering a nickname with a room (XEP-0045 7.10,
 * jabber:iq:register with the muc#register form). A registered nick is
 * reserved to its owner. Registering never makes anyone a member by itself:
 * in a members-only room a non-member's registration is a request, sent to
 * the room's owners and admins, and only an owner's or admin's approval
 * (the same form, submitted back to the room with muc#register_allow)
 * makes the requester a member with that nick.
 */
#define XD_LOG_AREA "muc"
#include <stdlib.h>
#include <string.h>

#include <xmppd/form.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>

#include "muc.h"

#define NS_REGISTER     "jabber:iq:register"
#define NS_MUC_REGISTER "http://jabber.org/protocol/muc#register"

struct approvers {
    struct muc_service *svc;
    const xd_stanza *request;
};

static void
send_to_approver(const char *jid, void *value, void *arg)
{
    const struct muc_affiliation_entry *e = value;
    struct approvers *a = arg;

    if (e->aff >= MUC_AFF_ADMIN)
        muc_send_copy(a->svc, a->request, jid);
}

/* XEP-0045 7.10 in a members-only room: the registration goes to the owners
 * and admins (their bare JIDs: they need not be in the room) as a form
 * they submit back to the room to approve it. */
static void
ask_approval(struct muc_room *room, const char *bare, const char *nick)
{
    xd_stanza *m = xd_stanza_message_new(NULL, NULL, room->jid, NULL);
    xd_elem *x = xd_form_add(xd_stanza_root(m), "form", "Registration request",
                             "To make this person a member of the room with "
                             "this nickname, select \"Allow\" and submit the "
                             "form to the room.");
    xd_form_add_form_type(x, NS_MUC_REGISTER);
    xd_form_add_field(x, "muc#jid", "jid-single", "User ID", bare);
    xd_form_add_field(x, "muc#register_roomnick", "text-single", "Nickname",
                      nick);
    xd_form_add_bool(x, "muc#register_allow", "Allow", 0);
    struct approvers a = { room->svc, m };
    xd_map_each(room->affiliations, send_to_approver, &a);
    xd_stanza_unref(m);
}

void
muc_register_decision(struct muc_room *room, const xd_stanza *in,
                      const xd_elem *form)
{
    struct muc_service *svc = room->svc;
    xd_jid *from = NULL, *who = NULL;
    const char *jid = xd_form_value(form, "muc#jid");
    const char *nick = xd_form_value(form, "muc#register_roomnick");
    char *prepped = NULL;
    int allow = 0;

    if (xd_jid_parse(xd_stanza_from(in), &from) != 0 ||
        muc_room_affiliation(room, xd_jid_bare_str(from)) < MUC_AFF_ADMIN) {
        muc_refuse(svc, in, "forbidden",
                   "only owners and admins approve registrations");
        goto done;
    }
    if (xd_form_bool(form, "muc#register_allow", &allow) != 0 || !allow)
        goto done; /* refused: nothing changes */
    if (jid == NULL || xd_jid_parse(jid, &who) != 0 || nick == NULL ||
        xd_jid_prep_resource(nick, &prepped) != 0) {
        muc_refuse(svc, in, "bad-request",
                   "the approval needs muc#jid and muc#register_roomnick");
        goto done;
    }
    const char *bare = xd_jid_bare_str(who);
    const char *holder = muc_room_nick_owner(room, prepped);
    if (holder != NULL && strcmp(holder, bare) != 0) {
        muc_refuse(svc, in, "conflict", "that nickname is taken");
        goto done;
    }
    /* An approval lifts no ban and lowers no one: only none -> member. */
    if (muc_room_affiliation(room, bare) != MUC_AFF_NONE) {
        muc_refuse(svc, in, "not-allowed",
                   "only a user with no affiliation can be made a member");
        goto done;
    }
    if (muc_room_set_affiliation(room, bare, MUC_AFF_MEMBER, NULL, prepped) !=
        0) {
        muc_refuse(svc, in, "internal-server-error", "could not be stored");
        goto done;
    }
    xd_log_info("%s: %s approved %s as the member %s", room->jid,
                xd_jid_bare_str(from), bare, prepped);
done:
    free(prepped);
    xd_jid_free(from);
    xd_jid_free(who);
}

void
muc_register_iq(struct muc_room *room, const xd_stanza *in, xd_iq_type type,
                const char *bare)
{
    struct muc_service *svc = room->svc;
    const xd_elem *query =
        xd_elem_child(xd_stanza_root(in), "query", NS_REGISTER);
    const char *nick = muc_room_reserved_nick(room, bare);
    enum muc_affiliation aff = muc_room_affiliation(room, bare);

    if (aff == MUC_AFF_OUTCAST) {
        muc_refuse(svc, in, "forbidden", "you are banned from this room");
        return;
    }
    if (type == XD_IQ_GET) {
        xd_stanza *r = xd_stanza_iq_result(in);
        xd_elem *q = xd_elem_add_child(xd_stanza_root(r), "query", NS_REGISTER);
        if (nick != NULL) {
            xd_elem_add_child(q, "registered", NULL);
            xd_elem_set_child_text(q, "username", NULL, nick);
        } else {
            xd_elem_set_child_text(q, "instructions", NULL,
                                   "Choose the nickname to reserve in this "
                                   "room.");
            xd_elem *x = xd_form_add(q, "form", "Nickname registration", NULL);
            xd_form_add_form_type(x, NS_MUC_REGISTER);
            xd_elem *f = xd_form_add_field(x, "muc#register_roomnick",
                                           "text-single", "Nickname", NULL);
            xd_elem_add_child(f, "required", NULL);
        }
        xd_component_send(svc->comp, r);
        return;
    }
    if (xd_elem_child(query, "remove", NS_REGISTER) != NULL) {
        if (nick == NULL && aff < MUC_AFF_MEMBER) {
            muc_refuse(svc, in, "item-not-found", "you are not registered");
            return;
        }
        muc_room_set_affiliation(
            room, bare, aff == MUC_AFF_MEMBER ? MUC_AFF_NONE : aff, NULL, NULL);
        xd_component_send(svc->comp, xd_stanza_iq_result(in));
        return;
    }
    const xd_elem *x = xd_form_find(query);
    const char *wanted = x ? xd_form_value(x, "muc#register_roomnick")
                           : xd_elem_child_text(query, "username", NS_REGISTER);
    char *prepped = NULL;
    if (x && xd_form_type(x) && strcmp(xd_form_type(x), "cancel") == 0) {
        xd_component_send(svc->comp, xd_stanza_iq_result(in));
        return;
    }
    if (wanted == NULL || *wanted == '\0' ||
        xd_jid_prep_resource(wanted, &prepped) != 0) {
        muc_refuse(svc, in, "not-acceptable",
                   "muc#register_roomnick is required");
        return;
    }
    const char *holder = muc_room_nick_owner(room, prepped);
    const struct muc_occupant *o = muc_occupant_by_nick(room, prepped);
    if ((holder && strcmp(holder, bare) != 0) ||
        (o && strcmp(o->bare, bare) != 0)) {
        free(prepped);
        muc_refuse(svc, in, "conflict", "that nickname is taken");
        return;
    }
    if (room->cfg.members_only && aff < MUC_AFF_MEMBER) {
        ask_approval(room, bare, prepped);
        xd_log_info("%s: %s asks to register as %s", room->jid, bare, prepped);
        free(prepped);
        xd_component_send(svc->comp, xd_stanza_iq_result(in));
        return;
    }
    if (muc_room_set_affiliation(room, bare, aff, NULL, prepped) != 0) {
        free(prepped);
        muc_refuse(svc, in, "internal-server-error", "could not be stored");
        return;
    }
    xd_log_info("%s: %s registered the nickname %s", room->jid, bare, prepped);
    free(prepped);
    xd_component_send(svc->comp, xd_stanza_iq_result(in));
}
