/*
 * commands.c: administration of the service by its admins over XEP-0050
 * ad-hoc commands (in the spirit of XEP-0133): list the rooms, create a
 * room (as if its owner had created and configured it), destroy a room.
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
#define NODE_CREATE  "urn:xmppd:muc:create-room"
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

static void
create_form(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    xd_form_field_required(
        xd_form_add_field(x, "room", "jid-single", "Room", NULL));
    xd_form_add_field(x, "name", "text-single", "Name", NULL);
    xd_form_add_field(x, "description", "text-single", "Description", NULL);
    xd_form_add_bool(x, "persistent", "Persistent", 1);
    xd_form_add_bool(x, "public", "Public (listed in the room directory)", 1);
    xd_form_add_bool(x, "members-only", "Members only", 0);
    xd_form_add_field(x, "owner", "jid-single", "Owner (empty: you)", NULL);
}

/* A boolean of the checked form, or `dflt` when it was left out. */
static int
form_flag(const xd_elem *values, const char *var, int dflt)
{
    int v;

    return xd_form_bool(values, var, &v) == 0 ? v : dflt;
}

static void
set_text(char **field, const char *value)
{
    free(*field);
    *field = value != NULL && *value != '\0' ? xd_xstrdup(value) : NULL;
}

/* The form is checked (room and owner JIDs, booleans): the room must be a
 * new one of ours. It is made as its owner would (muc_room_create), given
 * the form's configuration and unlocked, then stored when persistent. */
static xd_command_status
create_room(xd_command_ctx *cx, const xd_elem *values)
{
    struct muc_service *svc = xd_command_arg(cx);
    const char *owner_s = xd_form_value(values, "owner");
    xd_jid *j = NULL, *owner = NULL;
    xd_command_status st = XD_COMMAND_COMPLETED;

    if (xd_jid_parse(xd_form_value(values, "room"), &j) != 0 ||
        xd_jid_local(j) == NULL || xd_jid_resource(j) != NULL ||
        strcmp(xd_jid_domain(j), svc->domain) != 0) {
        st = xd_command_fail(cx, "bad-request",
                             "the room must be a JID of this service");
        goto out;
    }
    if (xd_jid_parse(owner_s != NULL && *owner_s != '\0'
                         ? owner_s
                         : xd_command_requester(cx),
                     &owner) != 0) {
        st = xd_command_fail(cx, "bad-request", "the owner is not a JID");
        goto out;
    }
    if (muc_room_find(svc, xd_jid_local(j)) != NULL) {
        st = xd_command_fail(cx, "conflict", "the room exists");
        goto out;
    }
    if (xd_map_count(svc->rooms) >= svc->conf.max_rooms) {
        st = xd_command_fail(cx, "resource-constraint",
                             "the service has as many rooms as it may");
        goto out;
    }
    struct muc_room *room =
        muc_room_create(svc, xd_jid_local(j), xd_jid_bare_str(owner));
    set_text(&room->cfg.name, xd_form_value(values, "name"));
    set_text(&room->cfg.desc, xd_form_value(values, "description"));
    room->cfg.persistent = form_flag(values, "persistent", 1);
    room->cfg.public_ = form_flag(values, "public", 1);
    room->cfg.members_only = form_flag(values, "members-only", 0);
    room->locked = 0;
    if (muc_room_save_all(room) != 0) {
        xd_log_warnx("%s: could not be stored; created by the service admin "
                     "%s, now dropped",
                     room->jid, xd_command_requester(cx));
        muc_room_destroy(room, NULL, NULL, NULL);
        st = xd_command_fail(cx, NULL, "the room could not be stored");
        goto out;
    }
    xd_log_info("%s: created by the service admin %s for %s", room->jid,
                xd_command_requester(cx), xd_jid_bare_str(owner));
    xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO,
                        "The room is created.");
out:
    xd_jid_free(j);
    xd_jid_free(owner);
    return st;
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

static const xd_command_stage create_stages[] = {
    { "Create a room",
      "The room is made as if its owner had created and configured it.",
      create_form, NULL },
};

static const xd_command create_cmd = {
    .node = NODE_CREATE,
    .name = "Create a room",
    .stages = create_stages,
    .nstages = XD_NELEM(create_stages),
    .run = create_room,
    .allowed = is_admin,
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
        xd_component_add_command(svc->comp, &create_cmd, svc) != 0 ||
        xd_component_add_command(svc->comp, &destroy_cmd, svc) != 0)
        xd_fatalx("%s: the admin commands cannot be registered", svc->domain);
}
