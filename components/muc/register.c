/*
 * register.c: registering a nickname with a room (XEP-0045 7.10,
 * jabber:iq:register with the muc#register form). A registered nick is
 * reserved to its owner, who becomes a member.
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

static xd_stanza *
result(const xd_stanza *in)
{
    xd_stanza *r = xd_stanza_reply(in);

    xd_stanza_set_type(r, "result");
    return r;
}

void
muc_register_iq(struct muc_room *room, const xd_stanza *in, const char *bare)
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
    if (strcmp(xd_stanza_type(in), "get") == 0) {
        xd_stanza *r = result(in);
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
        xd_component_send(svc->comp, result(in));
        return;
    }
    const xd_elem *x = xd_form_find(query);
    const char *wanted = x ? xd_form_value(x, "muc#register_roomnick")
                           : xd_elem_child_text(query, "username", NS_REGISTER);
    char *prepped = NULL;
    if (x && xd_form_type(x) && strcmp(xd_form_type(x), "cancel") == 0) {
        xd_component_send(svc->comp, result(in));
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
    if (muc_room_set_affiliation(room, bare,
                                 aff < MUC_AFF_MEMBER ? MUC_AFF_MEMBER : aff,
                                 NULL, prepped) != 0) {
        free(prepped);
        muc_refuse(svc, in, "internal-server-error", "could not be stored");
        return;
    }
    xd_log_info("%s: %s registered the nickname %s", room->jid, bare, prepped);
    free(prepped);
    xd_component_send(svc->comp, result(in));
}
