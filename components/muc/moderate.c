/*
 * moderate.c: XEP-0425 moderated message retraction. A moderator asks the
 * room to retract a message by the stanza-id the room gave it; the room
 * tells every occupant (an XEP-0424 <retract/> holding <moderated/>, from
 * the room's own JID, archived like a message so that clients catching up
 * learn of it too), replaces the archived message with a tombstone and
 * drops it from the history new occupants are sent.
 *
 * The protocol's earlier wire form (XEP-0425 0.2: <moderate/> of
 * urn:xmpp:message-moderate:0 inside an XEP-0422 <apply-to id=…/>), which
 * slixmpp 1.8 and clients of its generation still send, is accepted too,
 * and every retraction is announced in both forms in one message, so that
 * clients of either generation hide the message.
 */
#define XD_LOG_AREA "muc"
#include <stdlib.h>
#include <string.h>

#include <xmppd/log.h>

#include "muc.h"

/* <moderated by=room/nick><occupant-id/></moderated>, added to parent. */
static void
add_moderated(xd_elem *parent, const struct muc_occupant *mod)
{
    char *by = xd_xasprintf("%s/%s", mod->room->jid, mod->nick);
    xd_elem *m = xd_elem_add_child(parent, "moderated", MUC_NS_MODERATE);

    xd_elem_set_attr(m, "by", by);
    free(by);
    xd_elem_set_attr(xd_elem_add_child(m, "occupant-id", MUC_NS_OCCID), "id",
                     mod->occupant_id);
}

/* The tombstone of message `orig` (XEP-0425 5): who said it (from, its
 * occupant id), not what. The caller frees the string. */
static char *
tombstone(const xd_stanza *orig, const struct muc_occupant *mod,
          const char *reason)
{
    xd_stanza *t =
        xd_stanza_message_new("groupchat", NULL, xd_stanza_from(orig), NULL);
    const xd_elem *oid =
        xd_elem_child(xd_stanza_root(orig), "occupant-id", MUC_NS_OCCID);
    char stamp[32];

    xd_stanza_set_id(t, xd_stanza_id(orig)); /* the original's, or none */
    if (oid != NULL)
        xd_elem_add_copy(xd_stanza_root(t), oid);
    xd_elem *r =
        xd_elem_add_child(xd_stanza_root(t), "retracted", MUC_NS_RETRACT);
    muc_stamp(muc_now_us(), stamp);
    xd_elem_set_attr(r, "stamp", stamp);
    add_moderated(r, mod);
    if (reason != NULL)
        xd_elem_set_child_text(r, "reason", NULL, reason);
    char *xml = xd_elem_to_string(xd_stanza_root(t), NULL);
    xd_stanza_unref(t);
    return xml;
}

/* Replaces archive entry `sid` with its tombstone: 0, or the condition to
 * answer with. */
static const char *
retract_archived(struct muc_room *room, const char *sid,
                 const struct muc_occupant *mod, const char *reason)
{
    xd_db *db = room->svc->db;
    int64_t aid;
    char *xml = NULL;
    int rc = muc_store_archive_find(db, room->name, sid, &aid);

    if (rc == 0)
        rc = muc_store_archive_get(db, room->name, aid, &xml);
    if (rc != 0)
        return rc == XD_ENOTFOUND ? "item-not-found" : "internal-server-error";
    xd_stanza *orig = muc_archive_reparse(xml);
    free(xml);
    if (orig == NULL)
        return "internal-server-error";
    char *tomb = tombstone(orig, mod, reason);
    xd_stanza_unref(orig);
    rc = muc_store_archive_set(db, room->name, aid, tomb);
    free(tomb);
    return rc == 0 ? NULL : "internal-server-error";
}

/* The announcement in XEP-0425 0.2's form, added to parent: <apply-to
 * id=sid><moderated by=room/nick><retract/><reason/></moderated>. */
static void
add_legacy_moderated(xd_elem *parent, const struct muc_occupant *mod,
                     const char *sid, const char *reason)
{
    char *by = xd_xasprintf("%s/%s", mod->room->jid, mod->nick);
    xd_elem *at = xd_elem_add_child(parent, "apply-to", MUC_NS_FASTEN);
    xd_elem *m = xd_elem_add_child(at, "moderated", MUC_NS_MODERATE0);

    xd_elem_set_attr(at, "id", sid);
    xd_elem_set_attr(m, "by", by);
    free(by);
    xd_elem_add_child(m, "retract", MUC_NS_RETRACT0);
    if (reason != NULL)
        xd_elem_set_child_text(m, "reason", NULL, reason);
}

/* The stanza-id and reason of a request in either form; 0, or -1 when the
 * payload is neither <moderate id=…><retract/></moderate> (1) nor
 * <apply-to id=…><moderate><retract/></moderate></apply-to> (0). */
static int
parse_request(const xd_elem *req, const char **sid, const char **reason)
{
    if (xd_elem_is(req, "moderate", MUC_NS_MODERATE)) {
        *sid = xd_elem_attr(req, "id");
        *reason = xd_elem_child_text(req, "reason", MUC_NS_MODERATE);
        return *sid != NULL &&
                       xd_elem_child(req, "retract", MUC_NS_RETRACT) != NULL
                   ? 0
                   : -1;
    }
    if (xd_elem_is(req, "apply-to", MUC_NS_FASTEN)) {
        const xd_elem *m = xd_elem_child(req, "moderate", MUC_NS_MODERATE0);
        *sid = xd_elem_attr(req, "id");
        *reason = m != NULL ? xd_elem_child_text(m, "reason", MUC_NS_MODERATE0)
                            : NULL;
        return *sid != NULL && m != NULL &&
                       xd_elem_child(m, "retract", MUC_NS_RETRACT0) != NULL
                   ? 0
                   : -1;
    }
    return -1;
}

void
muc_moderate_iq(struct muc_room *room, const xd_stanza *in, xd_iq_type type)
{
    struct muc_service *svc = room->svc;
    const xd_elem *req = xd_elem_first(xd_stanza_root(in));
    const char *sid = NULL, *reason = NULL;
    struct muc_occupant *mod = muc_occupant_by_jid(room, xd_stanza_from(in));
    const char *cond;

    if (type != XD_IQ_SET || parse_request(req, &sid, &reason) != 0) {
        muc_refuse(svc, in, "bad-request",
                   "<moderate id=…><retract/></moderate> in an iq set");
        return;
    }
    if (mod == NULL || mod->role != MUC_ROLE_MODERATOR) {
        muc_refuse(svc, in, "forbidden",
                   "only moderators may retract others' messages");
        return;
    }
    if ((cond = retract_archived(room, sid, mod, reason)) != NULL) {
        muc_refuse(svc, in, cond,
                   strcmp(cond, "item-not-found") == 0
                       ? "no message of this room has that stanza-id"
                       : NULL);
        return;
    }
    muc_history_forget(room->history, room->jid, sid);
    xd_log_info("%s: %s retracted message %s", room->jid, mod->nick, sid);

    xd_stanza *m = xd_stanza_message_new("groupchat", NULL, room->jid, NULL);
    xd_elem *r =
        xd_elem_add_child(xd_stanza_root(m), "retract", MUC_NS_RETRACT);
    xd_elem_set_attr(r, "id", sid);
    add_moderated(r, mod);
    if (reason != NULL)
        xd_elem_set_child_text(r, "reason", NULL, reason);
    add_legacy_moderated(xd_stanza_root(m), mod, sid, reason);
    /* Archived (which gives it a stanza-id) so that a client syncing from
     * an earlier message learns of the retraction; its failure is logged
     * there and does not undo the retraction itself. */
    muc_archive_message(room, m, NULL);
    muc_broadcast(room, m);
    xd_stanza_unref(m);
    xd_component_send(svc->comp, xd_stanza_iq_result(in));
}
