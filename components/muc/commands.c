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
list_rooms(xd_command_ctx *cx, const xd_elem *values)
{
    struct muc_service *svc = xd_command_arg(cx);
    xd_elem *reply = xd_command_reply(cx);

    (void)values;
    xd_elem *x = xd_form_add(reply, "result", "Rooms", NULL);
    xd_form_add_int(x, "count", "text-single", "Number of rooms",
                    (long long)xd_map_count(svc->rooms));
    struct listing l = {
        xd_form_add_field(x, "rooms", "jid-multi", "Rooms", NULL), 0
    };
    xd_map_each(svc->rooms, add_room, &l);
    if (l.n > LIST_MAX) {
        char text[96];
        snprintf(text, sizeof(text), "%d of the %zu rooms are listed.",
                 LIST_MAX, l.n);
        xd_command_add_note(reply, XD_COMMAND_NOTE_WARN, text);
    }
    return XD_COMMAND_COMPLETED;
}

static void
destroy_form(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    xd_form_field_required(
        xd_form_add_field(x, "room", "jid-single", "Room", NULL));
    xd_form_add_field(x, "reason", "text-single", "Reason", NULL);
    xd_form_add_field(x, "alternate", "jid-single", "Alternate venue", NULL);
}

/* The form is checked (room a JID, alternate one or empty): the room must
 * be one of ours. */
static xd_command_status
destroy_room(xd_command_ctx *cx, const xd_elem *values)
{
    struct muc_service *svc = xd_command_arg(cx);
    xd_elem *reply = xd_command_reply(cx);
    xd_jid *j = NULL;

    if (xd_jid_parse(xd_form_value(values, "room"), &j) != 0 ||
        xd_jid_local(j) == NULL || strcmp(xd_jid_domain(j), svc->domain) != 0) {
        xd_jid_free(j);
        return XD_COMMAND_BAD_REQUEST;
    }
    struct muc_room *room = muc_room_find(svc, xd_jid_local(j));
    if (room == NULL) {
        xd_command_add_note(reply, XD_COMMAND_NOTE_ERROR, "No such room.");
    } else {
        const char *reason = xd_form_value(values, "reason");
        const char *alt = xd_form_value(values, "alternate");
        xd_log_info("%s: destroyed by the service admin %s", room->jid,
                    xd_command_requester(cx));
        muc_room_destroy(room, reason && *reason ? reason : NULL,
                         alt && *alt ? alt : NULL, NULL);
        xd_command_add_note(reply, XD_COMMAND_NOTE_INFO,
                            "The room is destroyed.");
    }
    xd_jid_free(j);
    return XD_COMMAND_COMPLETED;
}

static const xd_command list_cmd = {
    .node = NODE_LIST,
    .name = "List rooms",
    .run = list_rooms,
    .allowed = is_admin,
};

static const xd_command_stage destroy_stages[] = {
    { "Destroy a room",
      "The occupants are told, the room and its archive are deleted.",
      destroy_form, NULL },
};

static const xd_command destroy_cmd = {
    .node = NODE_DESTROY,
    .name = "Destroy a room",
    .stages = destroy_stages,
    .nstages = XD_NELEM(destroy_stages),
    .run = destroy_room,
    .allowed = is_admin,
};

void
muc_commands_register(struct muc_service *svc)
{
    /* Static tables: a failure is a bug, at start-up. */
    if (xd_component_add_command(svc->comp, &list_cmd, svc) != 0 ||
        xd_component_add_command(svc->comp, &destroy_cmd, svc) != 0)
        xd_fatalx("%s: the admin commands cannot be registered", svc->domain);
}
