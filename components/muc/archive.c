/*
 * archive.c: a room's XEP-0313 archive (urn:xmpp:mam:2), queried at the
 * room's bare JID, paged with XEP-0059; archived messages carry an XEP-0359
 * <stanza-id by=room/> naming their archive id.
 */
#define XD_LOG_AREA "archive"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xmppd/form.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>
#include <xmppd/rsm.h>
#include <xmppd/xml_parser.h>

#include "muc.h"

#define NS_FORWARD "urn:xmpp:forward:0"
#define PAGE_MAX   100 /* results one query may return */
#define PAGE_DEF   50  /* without <max/> */

/* Removes every <stanza-id/> that claims to be by the room: only the room
 * may say what its archive id for a message is, and a client could send one
 * to make others' clients skip or misplace messages. Ids by others stay. */
static void
strip_forged_ids(const struct muc_room *room, xd_stanza *msg)
{
    xd_elem *root = xd_stanza_root(msg);
    xd_elem *e = xd_elem_child(root, "stanza-id", MUC_NS_SID);

    while (e != NULL) {
        xd_elem *next = xd_elem_next_match(e, "stanza-id", MUC_NS_SID);
        const char *by = xd_elem_attr(e, "by");
        /* JIDs compare without case in their ASCII range at least; a
         * differently cased room JID is still the room. */
        if (by == NULL || strcasecmp(by, room->jid) == 0)
            xd_elem_remove(e);
        e = next;
    }
}

int
muc_archive_message(struct muc_room *room, xd_stanza *msg,
                    const struct muc_occupant *from)
{
    char id[40];

    strip_forged_ids(room, msg);
    if (!room->cfg.archive)
        return 0;
    char *xml = xd_elem_to_string(xd_stanza_root(msg), NULL);
    int rc = muc_store_archive_add(room->svc->db, room->name, muc_now_us(),
                                   from != NULL ? from->nick : NULL,
                                   from != NULL ? from->bare : NULL, xml, id);
    free(xml);
    if (rc != 0) {
        xd_log_warnx("%s: message not archived", room->jid);
        return XD_EIO;
    }
    xd_elem *sid =
        xd_elem_add_child(xd_stanza_root(msg), "stanza-id", MUC_NS_SID);
    xd_elem_set_attr(sid, "id", id);
    xd_elem_set_attr(sid, "by", room->jid);
    return 0;
}

/* --- queries ------------------------------------------------------------- */

struct query {
    struct muc_room *room;
    const char *to;      /* the requester */
    const char *queryid; /* NULL: none */
    int real_jids;       /* the requester may see who said what */
    char *first, *last;  /* ids of the page's ends */
    long sent;
};

/* As in presence (muc_sees_jids): everyone in a non-anonymous room, its
 * moderators in a semi-anonymous one; a requester outside the room is no
 * moderator. */
static int
may_see_real_jids(const struct muc_room *room, const char *requester)
{
    const struct muc_occupant *o = muc_occupant_by_jid(room, requester);

    return o != NULL ? muc_sees_jids(o) : !room->cfg.semianon;
}

/* XEP-0313 5.1: the fields a query form may have. */
static void
send_fields(struct muc_room *room, const xd_stanza *iq)
{
    xd_stanza *res = xd_stanza_iq_result(iq);
    xd_elem *q = xd_elem_add_child(xd_stanza_root(res), "query", MUC_NS_MAM);
    xd_elem *x = xd_form_add(q, "form", NULL, NULL);

    xd_form_add_form_type(x, MUC_NS_MAM);
    xd_form_add_field(x, "with", "jid-single", NULL, NULL);
    xd_form_add_field(x, "start", "text-single", NULL, NULL);
    xd_form_add_field(x, "end", "text-single", NULL, NULL);
    xd_component_send(room->svc->comp, res);
}

/* Reads the form's "with": the room itself (everything), an occupant JID
 * room/nick (that nick's messages) or a real bare JID, which only those who
 * may see real JIDs may search by. NULL or the error condition. */
static const char *
parse_with(const struct query *q, const char *val, struct muc_archive_filter *f,
           xd_jid **keep, const char **text)
{
    const struct muc_room *room = q->room;
    xd_jid *j = NULL;

    if (xd_jid_parse(val, &j) != 0)
        return "jid-malformed";
    *keep = j;
    if (strcmp(xd_jid_bare_str(j), room->jid) == 0) {
        f->nick = xd_jid_resource(j); /* NULL: the whole room */
        return NULL;
    }
    if (!q->real_jids) {
        /* Searching by real JID would tell anyone who said what. */
        *text = "this room shows real JIDs to moderators only";
        return "forbidden";
    }
    f->real_bare = xd_jid_bare_str(j);
    return NULL;
}

/* Reads the data form into f: NULL, or the condition to answer with (and
 * maybe a text). */
static const char *
parse_form(const struct query *q, const xd_elem *query,
           struct muc_archive_filter *f, xd_jid **with, const char **text)
{
    const xd_elem *x = xd_form_find(query);

    if (x == NULL)
        return NULL;
    const char *type = xd_form_type(x);
    const char *ft = xd_form_form_type(x);
    if ((type != NULL && strcmp(type, "submit") != 0) ||
        (ft != NULL && strcmp(ft, MUC_NS_MAM) != 0)) {
        *text = "expected a submitted urn:xmpp:mam:2 form";
        return "bad-request";
    }
    for (const xd_elem *fld = xd_elem_child(x, "field", XD_NS_DATA_FORMS);
         fld != NULL;
         fld = xd_elem_next_match(fld, "field", XD_NS_DATA_FORMS)) {
        const char *var = xd_elem_attr(fld, "var");
        const char *val = xd_elem_child_text(fld, "value", XD_NS_DATA_FORMS);
        if (var == NULL) {
            *text = "a field without var";
            return "bad-request";
        }
        if (strcmp(var, "FORM_TYPE") == 0)
            continue;
        int is_with = strcmp(var, "with") == 0;
        int is_start = strcmp(var, "start") == 0;
        if (!is_with && !is_start && strcmp(var, "end") != 0) {
            *text = "unknown field";
            return "feature-not-implemented";
        }
        if (val == NULL || *val == '\0')
            continue; /* an empty field does not filter */
        if (is_with) {
            const char *cond;
            if (*with != NULL) {
                *text = "with given twice";
                return "bad-request";
            }
            if ((cond = parse_with(q, val, f, with, text)) != NULL)
                return cond;
        } else if (muc_parse_stamp(val, is_start ? &f->start_us : &f->end_us) !=
                   0) {
            *text = "not an XEP-0082 date-time";
            return "bad-request";
        }
    }
    return NULL;
}

/* Reads the XEP-0059 set into f: NULL or the condition. */
static const char *
parse_rsm(struct muc_room *room, const xd_elem *query,
          struct muc_archive_filter *f, const char **text)
{
    xd_rsm rsm;
    int rc;

    if (xd_rsm_parse(query, &rsm) != 0) {
        *text = "max and index are non-negative integers";
        return "bad-request";
    }
    if (rsm.index >= 0) {
        *text = "paging by index is not supported";
        return "feature-not-implemented";
    }
    f->max = rsm.max < 0 ? PAGE_DEF : rsm.max > PAGE_MAX ? PAGE_MAX : rsm.max;
    if (rsm.after != NULL &&
        (rc = muc_store_archive_find(room->svc->db, room->name, rsm.after,
                                     &f->after)) != 0)
        return rc == XD_ENOTFOUND ? "item-not-found" : "internal-server-error";
    if (rsm.before != NULL && *rsm.before != '\0' &&
        (rc = muc_store_archive_find(room->svc->db, room->name, rsm.before,
                                     &f->before)) != 0)
        return rc == XD_ENOTFOUND ? "item-not-found" : "internal-server-error";
    /* <before/> pages back from its id, or from the end when empty; with
     * both an after and a before id the page is the first of the range
     * between them. */
    f->backward = rsm.before != NULL && (*rsm.before == '\0' || f->after < 0);
    return NULL;
}

xd_stanza *
muc_archive_reparse(const char *xml)
{
    xd_xml_limits lim;
    xd_stanza *st = NULL;
    size_t len = strlen(xml);

    /* What was stored passed the input limits once; serialising may have
     * lengthened it (escapes), so read it with room to spare. */
    xd_xml_limits_default(&lim);
    lim.max_stanza_bytes = len + 1;
    lim.max_depth += 2;
    lim.max_attrs += 8;
    lim.max_children += 8;
    if (xd_xml_parse_element(xml, len, &lim, &st) != 0)
        return NULL;
    return st;
}

static void
send_result(const struct muc_archived *a, void *arg)
{
    struct query *q = arg;
    xd_stanza *orig = muc_archive_reparse(a->xml);
    char stamp[32];

    free(q->last);
    q->last = xd_xstrdup(a->id);
    if (q->first == NULL)
        q->first = xd_xstrdup(a->id);
    if (orig == NULL) {
        /* Still counted as the page's end, so that paging goes past it. */
        xd_log_warnx("%s: archived message %s unreadable", q->room->jid, a->id);
        return;
    }
    /* Who said it is the room's to say: a muc#user <x/> stored before the
     * room stripped them from what occupants send goes. */
    xd_elem *x;
    while ((x = xd_elem_child(xd_stanza_root(orig), "x", MUC_NS_USER)) != NULL)
        xd_elem_remove(x);
    if (q->real_jids && a->real_bare != NULL) {
        x = xd_elem_add_child(xd_stanza_root(orig), "x", MUC_NS_USER);
        xd_elem_set_attr(xd_elem_add_child(x, "item", NULL), "jid",
                         a->real_bare);
    }
    xd_stanza *m = xd_stanza_message_new(NULL, q->to, q->room->jid, NULL);
    xd_elem *res = xd_elem_add_child(xd_stanza_root(m), "result", MUC_NS_MAM);
    if (q->queryid != NULL)
        xd_elem_set_attr(res, "queryid", q->queryid);
    xd_elem_set_attr(res, "id", a->id);
    xd_elem *fwd = xd_elem_add_child(res, "forwarded", NS_FORWARD);
    muc_stamp(a->when_us, stamp);
    xd_elem_set_attr(xd_elem_add_child(fwd, "delay", MUC_NS_DELAY), "stamp",
                     stamp);
    xd_elem_add_copy(fwd, xd_stanza_root(orig));
    xd_stanza_unref(orig);
    xd_component_send(q->room->svc->comp, m);
    q->sent++;
}

static void
run_query(struct muc_room *room, const xd_stanza *iq, const xd_elem *qel)
{
    struct muc_archive_filter f;
    struct query q = { .room = room, .to = xd_stanza_from(iq) };
    xd_jid *with = NULL;
    const char *cond, *text = NULL;
    long count = -1;
    int complete = 1;

    muc_store_archive_filter_init(&f);
    q.queryid = xd_elem_attr(qel, "queryid");
    q.real_jids = may_see_real_jids(room, q.to);
    if ((cond = parse_form(&q, qel, &f, &with, &text)) != NULL ||
        (cond = parse_rsm(room, qel, &f, &text)) != NULL)
        goto fail;
    /* <max>0</max> asks for the size of the result set only (XEP-0059
     * 2.6); a count on every page would read the room's whole index. */
    if (f.max == 0 &&
        muc_store_archive_count(room->svc->db, room->name, &f, &count) != 0)
        goto eio;
    if (muc_store_archive_page(room->svc->db, room->name, &f, send_result, &q,
                               &complete) != 0)
        goto eio;
    xd_stanza *res = xd_stanza_iq_result(iq);
    xd_elem *fin = xd_elem_add_child(xd_stanza_root(res), "fin", MUC_NS_MAM);
    if (complete)
        xd_elem_set_attr(fin, "complete", "true");
    xd_rsm_add_result(fin, q.first, -1, q.last, count);
    xd_component_send(room->svc->comp, res);
    goto out;
eio:
    /* Results already sent stay sent; the error ends the query. */
    cond = "internal-server-error";
    text = NULL;
fail:
    muc_refuse(room->svc, iq, cond, text);
out:
    free(q.first);
    free(q.last);
    xd_jid_free(with);
}

void
muc_archive_query(struct muc_room *room, const xd_stanza *iq, xd_iq_type type)
{
    const xd_elem *qel = xd_elem_first(xd_stanza_root(iq));

    if (qel == NULL || !xd_elem_is(qel, "query", MUC_NS_MAM)) {
        /* <metadata/> (XEP-0313 7) and anything else in the namespace. */
        muc_refuse(room->svc, iq, "feature-not-implemented", NULL);
        return;
    }
    if (type == XD_IQ_GET)
        send_fields(room, iq);
    else
        run_query(room, iq, qel);
}
