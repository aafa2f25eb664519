/*
 * commands.c: administration of the service by its admins over XEP-0050
 * ad-hoc commands (in the spirit of XEP-0133): list the rooms, destroy a
 * room.
 */
#define XD_LOG_AREA "muc"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/command.h>
#include <xmppd/form.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>

#include "muc.h"

#define NODE_LIST    "urn:xmppd:muc:list-rooms"
#define NODE_DESTROY "urn:xmppd:muc:destroy-room"
/* Room JIDs one answer lists at most: 2,000 fit well within a stanza. */
#define LIST_MAX 2000

static int
is_admin(xd_component *c, const char *requester, const char *target, void *arg)
{
    const struct muc_service *svc = arg;
    xd_jid *j = NULL;
    int ok;

    (void)c;
    (void)target;
    if (requester == NULL || xd_jid_parse(requester, &j) != 0)
        return 0;
    ok = muc_is_service_admin(svc, xd_jid_bare_str(j));
    xd_jid_free(j);
    return ok;
}

struct listing {
    xd_elem *field;
    size_t n;
};

static void
add_room(const char *name, void *value, void *arg)
{
    const struct muc_room *r = value;
    struct listing *l = arg;

    (void)name;
    if (l->n++ < LIST_MAX)
        xd_form_field_add_value(l->field, r->jid);
}

static xd_command_status
list_rooms(xd_component *c, const xd_stanza *iq, const xd_elem *submitted,
           int stage, xd_elem *reply, void **state, void *arg)
{
    struct muc_service *svc = arg;
    char count[32];

    (void)c;
    (void)submitted;
    (void)state;
    if (stage < 0)
        return XD_COMMAND_COMPLETED;
    if (!is_admin(c, xd_stanza_from(iq), NULL, svc))
        return XD_COMMAND_FORBIDDEN;
    xd_elem *x = xd_form_add(reply, "result", "Rooms", NULL);
    snprintf(count, sizeof(count), "%zu", xd_map_count(svc->rooms));
    xd_form_add_field(x, "count", "text-single", "Number of rooms", count);
    struct listing l = {
        xd_form_add_field(x, "rooms", "jid-multi", "Rooms", NULL), 0
    };
    xd_map_each(svc->rooms, add_room, &l);
    if (l.n > LIST_MAX) {
        char text[96];
        snprintf(text, sizeof(text), "%d of the %zu rooms are listed.",
                 LIST_MAX, l.n);
        xd_elem *note = xd_elem_add_child(reply, "note", XD_NS_COMMANDS);
        xd_elem_set_attr(note, "type", "warn");
        xd_elem_add_text(note, text, strlen(text));
    }
    return XD_COMMAND_COMPLETED;
}

static xd_command_status
destroy_room(xd_component *c, const xd_stanza *iq, const xd_elem *submitted,
             int stage, xd_elem *reply, void **state, void *arg)
{
    struct muc_service *svc = arg;

    (void)state;
    if (stage < 0)
        return XD_COMMAND_COMPLETED;
    if (!is_admin(c, xd_stanza_from(iq), NULL, svc))
        return XD_COMMAND_FORBIDDEN;
    if (submitted == NULL) {
        xd_elem *x = xd_form_add(reply, "form", "Destroy a room",
                                 "The occupants are told, the room and its "
                                 "archive are deleted.");
        xd_elem *f = xd_form_add_field(x, "room", "jid-single", "Room", NULL);
        xd_elem_add_child(f, "required", NULL);
        xd_form_add_field(x, "reason", "text-single", "Reason", NULL);
        xd_form_add_field(x, "alternate", "jid-single", "Alternate venue",
                          NULL);
        return XD_COMMAND_EXECUTING;
    }
    const char *room_s = xd_form_value(submitted, "room");
    xd_jid *j = NULL;
    if (room_s == NULL || xd_jid_parse(room_s, &j) != 0 ||
        xd_jid_local(j) == NULL || strcmp(xd_jid_domain(j), svc->domain) != 0) {
        xd_jid_free(j);
        return XD_COMMAND_BAD_REQUEST;
    }
    struct muc_room *room = muc_room_find(svc, xd_jid_local(j));
    xd_elem *note = xd_elem_add_child(reply, "note", XD_NS_COMMANDS);
    if (room == NULL) {
        xd_elem_set_attr(note, "type", "error");
        xd_elem_add_text(note, "No such room.", strlen("No such room."));
    } else {
        const char *reason = xd_form_value(submitted, "reason");
        const char *alt = xd_form_value(submitted, "alternate");
        xd_log_info("%s: destroyed by the service admin %s", room->jid,
                    xd_stanza_from(iq));
        muc_room_destroy(room, reason && *reason ? reason : NULL,
                         alt && *alt ? alt : NULL, NULL);
        xd_elem_set_attr(note, "type", "info");
        xd_elem_add_text(note, "The room is destroyed.",
                         strlen("The room is destroyed."));
    }
    xd_jid_free(j);
    return XD_COMMAND_COMPLETED;
}

void
muc_commands_register(struct muc_service *svc)
{
    xd_component_add_command(svc->comp, NODE_LIST, "List rooms", list_rooms,
                             is_admin, svc);
    xd_component_add_command(svc->comp, NODE_DESTROY, "Destroy a room",
                             destroy_room, is_admin, svc);
}
