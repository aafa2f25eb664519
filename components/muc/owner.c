/*
 * owner.c: the muc#owner namespace: the configuration form (XEP-0045 10.1,
 * 10.2: instant and reserved rooms, changes with their status codes) and
 * destroying a room (10.9).
 */
#define XD_LOG_AREA "muc"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/form.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>

#include "muc.h"

/* Tells the occupants what changed (XEP-0045 10.2.1). */
static void
notify(struct muc_room *room, const struct muc_room_config *old)
{
    int codes[3];
    size_t n = 0;

    if (old->semianon && !room->cfg.semianon)
        codes[n++] = 172;
    else if (!old->semianon && room->cfg.semianon)
        codes[n++] = 173;
    if (!old->archive && room->cfg.archive)
        codes[n++] = 170;
    else if (old->archive && !room->cfg.archive)
        codes[n++] = 171;
    codes[n++] = 104;
    xd_stanza *m = xd_stanza_message_new("groupchat", NULL, room->jid, NULL);
    xd_elem *x = xd_elem_add_child(xd_stanza_root(m), "x", MUC_NS_USER);
    for (size_t i = 0; i < n; i++) {
        char c[8];
        snprintf(c, sizeof(c), "%d", codes[i]);
        xd_elem_set_attr(xd_elem_add_child(x, "status", NULL), "code", c);
    }
    muc_broadcast(room, m);
    xd_stanza_unref(m);
}

/* Applies a jid-multi list of owners or admins from the form. */
static int
apply_list(struct muc_room *room, const xd_elem *x, const char *var,
           enum muc_affiliation aff)
{
    xd_elem *f = xd_form_field(x, var);

    if (f == NULL)
        return 0;
    for (xd_elem *v = xd_form_first_value(f); v; v = xd_form_next_value(v)) {
        xd_jid *j = NULL;
        const char *t = xd_elem_text(v);
        if (t == NULL || *t == '\0')
            continue;
        if (xd_jid_parse(t, &j) != 0)
            return XD_EINVAL;
        if (muc_room_affiliation(room, xd_jid_bare_str(j)) != aff)
            muc_room_set_affiliation(room, xd_jid_bare_str(j), aff, NULL, NULL);
        xd_jid_free(j);
    }
    return 0;
}

/* Members-only now: those who are not members leave (322). */
static void
enforce_members_only(struct muc_room *room)
{
    size_t n;
    void **all = xd_map_values(room->occupants, &n);
    int code = 322;
    struct muc_change ch = { .unavailable = 1, .codes = &code, .ncodes = 1 };

    for (size_t i = 0; i < n; i++) {
        struct muc_occupant *o = all[i];
        if (muc_occupant_affiliation(o) < MUC_AFF_MEMBER)
            muc_occupant_remove(o, &ch);
    }
    free(all);
}

static void
submit(struct muc_room *room, const xd_stanza *in, const xd_elem *x)
{
    struct muc_service *svc = room->svc;
    struct muc_room_config next, old;
    const char *why = NULL;

    muc_config_copy(&next, &room->cfg);
    if (muc_config_apply_form(svc, x, &next, &why) != 0 ||
        apply_list(room, x, "muc#roomconfig_roomowners", MUC_AFF_OWNER) != 0 ||
        apply_list(room, x, "muc#roomconfig_roomadmins", MUC_AFF_ADMIN) != 0) {
        muc_config_free(&next);
        muc_refuse(svc, in, "not-acceptable", why ? why : "a JID is malformed");
        return;
    }
    old = room->cfg;
    room->cfg = next;
    int was_locked = room->locked;
    room->locked = 0;
    if (old.persistent && !room->cfg.persistent) {
        if (muc_store_room_delete(svc->db, room->name) != 0)
            xd_log_warnx("%s: could not be removed from the store", room->jid);
    } else if (muc_room_save_all(room) != 0) {
        room->cfg = old;
        room->locked = was_locked;
        muc_config_free(&next);
        muc_refuse(svc, in, "internal-server-error",
                   "the configuration could not be stored");
        return;
    }
    xd_component_send(svc->comp, xd_stanza_iq_result(in));
    if (was_locked)
        xd_log_info("%s: unlocked by its owner", room->jid);
    else
        notify(room, &old);
    int members_only_now = !old.members_only && room->cfg.members_only;
    muc_config_free(&old);
    if (members_only_now)
        enforce_members_only(room);
}

static void
destroy(struct muc_room *room, const xd_stanza *in, const xd_elem *d)
{
    const char *alt = xd_elem_attr(d, "jid");
    const char *reason = xd_elem_child_text(d, "reason", MUC_NS_OWNER);
    const char *password = xd_elem_child_text(d, "password", MUC_NS_OWNER);

    xd_component_send(room->svc->comp, xd_stanza_iq_result(in));
    muc_room_destroy(room, reason, alt, password);
}

void
muc_owner_iq(struct muc_room *room, const xd_stanza *in, xd_iq_type type,
             const char *bare)
{
    const xd_elem *query =
        xd_elem_child(xd_stanza_root(in), "query", MUC_NS_OWNER);

    if (muc_room_affiliation(room, bare) != MUC_AFF_OWNER) {
        muc_refuse(room->svc, in, "forbidden", "only owners may do that");
        return;
    }
    if (type == XD_IQ_GET) {
        xd_stanza *r = xd_stanza_iq_result(in);
        xd_elem *q =
            xd_elem_add_child(xd_stanza_root(r), "query", MUC_NS_OWNER);
        muc_config_form(room, q);
        xd_component_send(room->svc->comp, r);
        return;
    }
    const xd_elem *d = xd_elem_child(query, "destroy", MUC_NS_OWNER);
    if (d != NULL) {
        destroy(room, in, d);
        return;
    }
    const xd_elem *x = xd_form_find(query);
    const char *ftype = x ? xd_form_type(x) : NULL;
    if (ftype && strcmp(ftype, "cancel") == 0) {
        xd_component_send(room->svc->comp, xd_stanza_iq_result(in));
        if (room->locked) /* 10.1.3: cancelling the creation */
            muc_room_destroy(room, NULL, NULL, NULL);
        return;
    }
    if (ftype == NULL || strcmp(ftype, "submit") != 0) {
        muc_refuse(room->svc, in, "bad-request", "submit or cancel a form");
        return;
    }
    submit(room, in, x);
}
