/*
 * hats.c: XEP-0317 hats. A room's owners and admins put a hat (a URI and a
 * title) on a user with the ad-hoc command urn:xmpp:hats:commands:don at the
 * room's JID and take it off with ...:doff; the user's occupants wear their
 * hats in every presence the room sends. Hats belong to bare JIDs, like
 * affiliations, and are stored with a persistent room.
 */
#define XD_LOG_AREA "muc"
#include <stdlib.h>
#include <string.h>

#include <xmppd/command.h>
#include <xmppd/form.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>

#include "muc.h"

#define NODE_DON  "urn:xmpp:hats:commands:don"
#define NODE_DOFF "urn:xmpp:hats:commands:doff"
#define FORM_TYPE "urn:xmpp:hats:commands"
/* Hats are for people to read: a bound keeps presences small. */
#define HATS_PER_USER 16
#define HAT_TEXT_MAX  256

static struct muc_hat **
find(struct muc_room *room, const char *jid, const char *uri)
{
    struct muc_hat **pp = &room->hats;

    for (; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->jid, jid) == 0 && strcmp((*pp)->uri, uri) == 0)
            return pp;
    return pp; /* the end of the list */
}

static size_t
count_of(const struct muc_room *room, const char *jid)
{
    size_t n = 0;

    for (const struct muc_hat *h = room->hats; h != NULL; h = h->next)
        n += strcmp(h->jid, jid) == 0;
    return n;
}

static void
hat_free(struct muc_hat *h)
{
    free(h->jid);
    free(h->uri);
    free(h->title);
    free(h);
}

/* Puts the hat on jid (or retitles it); memory only. */
static void
put_on(struct muc_room *room, const char *jid, const char *uri,
       const char *title)
{
    struct muc_hat **pp = find(room, jid, uri);

    if (*pp != NULL) {
        free((*pp)->title);
        (*pp)->title = xd_xstrdup(title);
        return;
    }
    struct muc_hat *h = xd_xcalloc(1, sizeof(*h));
    h->jid = xd_xstrdup(jid);
    h->uri = xd_xstrdup(uri);
    h->title = xd_xstrdup(title);
    *pp = h; /* at the end: hats show in the order they were given */
}

void
muc_hats_add_to(const struct muc_room *room, const char *jid, xd_elem *root)
{
    xd_elem *hats = NULL;

    for (const struct muc_hat *h = room->hats; h != NULL; h = h->next) {
        if (strcmp(h->jid, jid) != 0)
            continue;
        if (hats == NULL)
            hats = xd_elem_add_child(root, "hats", MUC_NS_HATS);
        xd_elem *hat = xd_elem_add_child(hats, "hat", NULL);
        xd_elem_set_attr(hat, "uri", h->uri);
        xd_elem_set_attr(hat, "title", h->title);
    }
}

void
muc_hats_free(struct muc_room *room)
{
    while (room->hats != NULL) {
        struct muc_hat *h = room->hats;
        room->hats = h->next;
        hat_free(h);
    }
}

static void
load_one(const char *jid, const char *uri, const char *title, void *arg)
{
    put_on(arg, jid, uri, title);
}

int
muc_hats_load(struct muc_room *room)
{
    return muc_store_hats(room->svc->db, room->name, load_one, room);
}

int
muc_hats_save_all(struct muc_room *room)
{
    for (const struct muc_hat *h = room->hats; h != NULL; h = h->next)
        if (muc_store_hat_set(room->svc->db, room->name, h->jid, h->uri,
                              h->title) != 0)
            return XD_EIO;
    return 0;
}

/* --- the commands --------------------------------------------------------- */

/* The room a command runs at (its iq's to), or NULL. */
static struct muc_room *
room_at(struct muc_service *svc, const char *target)
{
    xd_jid *j = NULL;
    struct muc_room *room = NULL;

    if (target != NULL && xd_jid_parse(target, &j) == 0 &&
        xd_jid_local(j) != NULL)
        room = muc_room_find(svc, xd_jid_local(j));
    xd_jid_free(j);
    return room;
}

/* XEP-0317's examples have admins assign hats: the room's admins and owners
 * may, in a room that is not locked. */
static int
may_change_hats(xd_component *c, const char *requester, const char *target,
                void *arg)
{
    struct muc_room *room = room_at(arg, target);
    xd_jid *j = NULL;
    int ok = 0;

    (void)c;
    if (room != NULL && !room->locked && requester != NULL &&
        xd_jid_parse(requester, &j) == 0)
        ok = muc_room_affiliation(room, xd_jid_bare_str(j)) >= MUC_AFF_ADMIN;
    xd_jid_free(j);
    return ok;
}

static void
ask(xd_elem *x, int with_title)
{
    xd_form_add_form_type(x, FORM_TYPE);
    xd_form_field_required(
        xd_form_add_field(x, "accountjid", "jid-single", "User address", NULL));
    xd_form_field_required(
        xd_form_add_field(x, "hat", "text-single", "Hat URI", NULL));
    if (with_title)
        xd_form_field_required(
            xd_form_add_field(x, "title", "text-single", "Title", NULL));
}

static void
ask_don(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    ask(x, 1);
}

static void
ask_doff(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    ask(x, 0);
}

/* Everyone sees the new hats of jid's occupants. */
static void
show(struct muc_room *room, const char *jid)
{
    size_t n;
    void **all = xd_map_values(room->occupants, &n);

    for (size_t i = 0; i < n; i++) {
        struct muc_occupant *o = all[i];
        if (strcmp(o->bare, jid) == 0)
            muc_broadcast_presence(o, o->sessions, NULL);
    }
    free(all);
}

/* Reads the submitted form (checked already: the fields are there, the
 * address is a JID); the bare JID goes to *jid (free it). */
static int
read_form(const xd_elem *submitted, int with_title, char **jid,
          const char **uri, const char **title)
{
    xd_jid *j = NULL;

    *uri = xd_form_value(submitted, "hat");
    *title = xd_form_value(submitted, "title");
    if (strlen(*uri) > HAT_TEXT_MAX ||
        (with_title && strlen(*title) > HAT_TEXT_MAX) ||
        xd_jid_parse(xd_form_value(submitted, "accountjid"), &j) != 0) {
        xd_jid_free(j);
        return XD_EINVAL;
    }
    *jid = xd_xstrdup(xd_jid_bare_str(j));
    xd_jid_free(j);
    return 0;
}

/* Puts the hat on (stored first for a persistent room): NULL, or why not. */
static const char *
give(struct muc_room *room, const char *jid, const char *uri, const char *title)
{
    if (*find(room, jid, uri) == NULL && count_of(room, jid) >= HATS_PER_USER)
        return "That user wears as many hats as allowed.";
    if (room->cfg.persistent &&
        muc_store_hat_set(room->svc->db, room->name, jid, uri, title) != 0) {
        xd_log_warnx("%s: the hat of %s could not be stored", room->jid, jid);
        return "The hat could not be stored.";
    }
    put_on(room, jid, uri, title);
    return NULL;
}

/* Takes the hat off (from the store first): NULL, or why not. */
static const char *
take(struct muc_room *room, const char *jid, const char *uri)
{
    struct muc_hat **pp = find(room, jid, uri);

    if (*pp == NULL)
        return "That user does not wear that hat.";
    if (room->cfg.persistent &&
        muc_store_hat_remove(room->svc->db, room->name, jid, uri) != 0) {
        xd_log_warnx("%s: the hat of %s could not be removed from the store",
                     room->jid, jid);
        return "The hat could not be removed.";
    }
    struct muc_hat *h = *pp;
    *pp = h->next;
    hat_free(h);
    return NULL;
}

/* don and doff: the same form (doff's without a title), the same rules;
 * the framework asks may_change_hats again at each request. */
static xd_command_status
change(xd_command_ctx *cx, const xd_elem *submitted, int donning)
{
    struct muc_room *room = room_at(xd_command_arg(cx), xd_command_target(cx));
    const char *uri, *title, *why;
    char *jid = NULL;

    if (room == NULL) /* gone since allowed() said yes: cannot happen */
        return XD_COMMAND_FORBIDDEN;
    if (read_form(submitted, donning, &jid, &uri, &title) != 0)
        return XD_COMMAND_BAD_REQUEST;
    why = donning ? give(room, jid, uri, title) : take(room, jid, uri);
    if (why != NULL) {
        xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_ERROR, why);
    } else {
        xd_log_info("%s: %s %s %s the hat %s", room->jid,
                    xd_command_requester(cx), donning ? "gives" : "takes from",
                    jid, uri);
        show(room, jid);
    }
    free(jid);
    return XD_COMMAND_COMPLETED;
}

static xd_command_status
don(xd_command_ctx *cx, const xd_elem *submitted)
{
    return change(cx, submitted, 1);
}

static xd_command_status
doff(xd_command_ctx *cx, const xd_elem *submitted)
{
    return change(cx, submitted, 0);
}

static const xd_command_stage don_stages[] = {
    { "Assign a hat", NULL, ask_don, NULL },
};
static const xd_command_stage doff_stages[] = {
    { "Remove a hat", NULL, ask_doff, NULL },
};
static const xd_command don_cmd = {
    .node = NODE_DON,
    .name = "Assign a hat",
    .stages = don_stages,
    .nstages = XD_NELEM(don_stages),
    .run = don,
    .allowed = may_change_hats,
};
static const xd_command doff_cmd = {
    .node = NODE_DOFF,
    .name = "Remove a hat",
    .stages = doff_stages,
    .nstages = XD_NELEM(doff_stages),
    .run = doff,
    .allowed = may_change_hats,
};

void
muc_hats_register(struct muc_service *svc)
{
    xd_component_add_feature(svc->comp, MUC_NS_HATS);
    /* Static tables: a failure is a bug, at start-up. */
    if (xd_component_add_entity_command(svc->comp, &don_cmd, svc) != 0 ||
        xd_component_add_entity_command(svc->comp, &doff_cmd, svc) != 0)
        xd_fatalx("%s: the hat commands cannot be registered", svc->domain);
}
