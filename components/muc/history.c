/*
 * history.c: the discussion history a room sends to a joining session
 * (XEP-0045 7.2.15), from a ring of the room's last messages in their
 * broadcast form. The ring lives in memory; a persistent room that comes
 * back after a restart refills it from its archive.
 */
#define XD_LOG_AREA "history"
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xmppd/log.h>
#include <xmppd/xml_parser.h>

#include "muc.h"

struct entry {
    xd_stanza *msg; /* a reference */
    int64_t when_us;
};

struct muc_history {
    struct entry *e; /* ring of cap entries; the oldest at head */
    size_t cap, head, n;
};

struct muc_history *
muc_history_new(void)
{
    return xd_xcalloc(1, sizeof(struct muc_history));
}

static struct entry *
at(const struct muc_history *h, size_t i) /* 0: the oldest */
{
    return &h->e[(h->head + i) % h->cap];
}

static void
drop_oldest(struct muc_history *h)
{
    xd_stanza_unref(h->e[h->head].msg);
    h->e[h->head].msg = NULL;
    h->head = (h->head + 1) % h->cap;
    h->n--;
}

void
muc_history_free(struct muc_history *h)
{
    if (h == NULL)
        return;
    while (h->n > 0)
        drop_oldest(h);
    free(h->e);
    free(h);
}

void
muc_history_add(struct muc_history *h, xd_stanza *msg, int64_t when_us,
                size_t max)
{
    /* max can shrink (the room's configuration changed): what is over it
     * goes now, oldest first. */
    while (h->n > 0 && h->n >= max)
        drop_oldest(h);
    if (max == 0)
        return;
    if (h->n == h->cap) {
        /* Grow and unwrap, so that the oldest is at 0 again. */
        size_t cap = h->cap ? h->cap * 2 : 16;
        if (cap > max)
            cap = max;
        struct entry *e = xd_xcalloc(cap, sizeof(*e));
        for (size_t i = 0; i < h->n; i++)
            e[i] = *at(h, i);
        free(h->e);
        h->e = e;
        h->cap = cap;
        h->head = 0;
    }
    struct entry *slot = &h->e[(h->head + h->n) % h->cap];
    slot->msg = xd_stanza_ref(msg);
    slot->when_us = when_us;
    h->n++;
}

void
muc_history_forget(struct muc_history *h, const char *room_jid, const char *sid)
{
    for (size_t i = 0; i < h->n; i++) {
        const xd_elem *e = xd_elem_child(xd_stanza_root(at(h, i)->msg),
                                         "stanza-id", MUC_NS_SID);
        for (; e != NULL; e = xd_elem_next_match(e, "stanza-id", MUC_NS_SID)) {
            const char *by = xd_elem_attr(e, "by"), *id = xd_elem_attr(e, "id");
            if (by && id && strcmp(by, room_jid) == 0 && strcmp(id, sid) == 0)
                break;
        }
        if (e == NULL)
            continue;
        xd_stanza_unref(at(h, i)->msg);
        for (size_t j = i; j + 1 < h->n; j++)
            *at(h, j) = *at(h, j + 1);
        h->n--;
        at(h, h->n)->msg = NULL;
        return;
    }
}

/* How many messages the room keeps and sends at most. */
static size_t
room_history_max(const struct muc_room *room)
{
    unsigned long long n = room->cfg.max_history > 0
                               ? (unsigned long long)room->cfg.max_history
                               : 0;

    if (n > room->svc->conf.history_max)
        n = room->svc->conf.history_max;
    return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

/* How many the ring keeps: as many as any configuration may send, so that
 * raising a room's muc#maxhistoryfetch has history to show at once. */
static size_t
ring_max(const struct muc_room *room)
{
    unsigned long long n = room->svc->conf.history_max;

    return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

/* --- loading from the archive -------------------------------------------- */

struct load {
    struct muc_room *room;
    size_t max;
};

static void
load_one(const struct muc_archived *a, void *arg)
{
    struct load *l = arg;
    xd_stanza *st = muc_archive_reparse(a->xml);

    if (st == NULL) {
        xd_log_warnx("%s: archived message %s unreadable", l->room->jid, a->id);
        return;
    }
    if (xd_stanza_child_text(st, "body", XD_NS_CLIENT) == NULL) {
        /* As live: only messages with a body are history (not subjects,
         * tombstones or retractions). */
        xd_stanza_unref(st);
        return;
    }
    /* The archive keeps messages as they were before the room added its
     * stanza-id; the live ones have it, so these get it back. */
    xd_elem *sid =
        xd_elem_add_child(xd_stanza_root(st), "stanza-id", MUC_NS_SID);
    xd_elem_set_attr(sid, "id", a->id);
    xd_elem_set_attr(sid, "by", l->room->jid);
    muc_history_add(l->room->history, st, a->when_us, l->max);
    xd_stanza_unref(st);
}

int
muc_history_load(struct muc_room *room)
{
    struct load l = { room, ring_max(room) };

    if (room->history == NULL)
        room->history = muc_history_new();
    if (room->history->n > 0 || l.max == 0)
        return 0;
    return muc_store_archive_recent(room->svc->db, room->name, l.max, load_one,
                                    &l);
}

/* --- sending on join ------------------------------------------------------ */

/* A non-negative integer attribute of <history/>; -1 when absent or not
 * one (a malformed limit is ignored, as if the client had not sent it). */
static long
history_attr(const xd_elem *req, const char *name)
{
    const char *s = req != NULL ? xd_elem_attr(req, name) : NULL;
    char *end;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return -1;
    return v > LONG_MAX ? LONG_MAX : (long)v;
}

/* XML characters of a serialised stanza: UTF-8 sequences, not bytes. */
static size_t
utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The copy of a ring entry a joining session gets. */
static xd_stanza *
history_copy(const struct muc_room *room, const struct entry *e, const char *to)
{
    xd_stanza *m = xd_stanza_copy(xd_stanza_root(e->msg));
    xd_elem *root = xd_stanza_root(m);
    char stamp[32];

    /* Only the room says when it got a message; a <delay/> claiming to be
     * the room's would be a forgery by the sender. */
    for (xd_elem *d = xd_elem_child(root, "delay", MUC_NS_DELAY); d != NULL;) {
        xd_elem *next = xd_elem_next_match(d, "delay", MUC_NS_DELAY);
        const char *from = xd_elem_attr(d, "from");
        if (from != NULL && strcasecmp(from, room->jid) == 0)
            xd_elem_remove(d);
        d = next;
    }
    xd_stanza_set_to(m, to);
    muc_stamp(e->when_us, stamp);
    xd_elem *delay = xd_elem_add_child(root, "delay", MUC_NS_DELAY);
    xd_elem_set_attr(delay, "from", room->jid);
    xd_elem_set_attr(delay, "stamp", stamp);
    return m;
}

void
muc_history_send(struct muc_room *room, const char *to, const xd_elem *req)
{
    struct muc_history *h = room->history;
    size_t max = room_history_max(room);
    long maxchars = history_attr(req, "maxchars");
    long maxstanzas = history_attr(req, "maxstanzas");
    long seconds = history_attr(req, "seconds");
    const char *since = req != NULL ? xd_elem_attr(req, "since") : NULL;
    int64_t from_us = INT64_MIN;  /* seconds: at or after this */
    int64_t since_us = INT64_MIN; /* since: strictly after this */

    if (h == NULL || h->n == 0)
        return;
    if (maxstanzas >= 0 && (unsigned long)maxstanzas < max)
        max = (size_t)maxstanzas;
    if (seconds >= 0 && seconds <= INT64_MAX / 1000000)
        from_us = muc_now_us() - (int64_t)seconds * 1000000;
    /* A malformed since is ignored like any malformed limit. Strictly
     * after: a client passes the stamp of the last message it has. */
    if (since != NULL && muc_parse_stamp(since, &since_us) != 0)
        since_us = INT64_MIN;
    if (max == 0 || maxchars == 0)
        return;

    /* From the newest back while every limit holds; the copies are then
     * sent oldest first. */
    xd_stanza **out = xd_xcalloc(max, sizeof(*out));
    size_t n = 0, chars = 0;
    for (size_t i = h->n; i-- > 0 && n < max;) {
        const struct entry *e = at(h, i);
        if (e->when_us < from_us ||
            (since_us != INT64_MIN && e->when_us <= since_us))
            break;
        xd_stanza *m = history_copy(room, e, to);
        if (maxchars > 0) {
            /* Counted as the client receives it, in its stream. */
            char *xml = xd_elem_to_string(xd_stanza_root(m), XD_NS_CLIENT);
            size_t len = utf8_chars(xml);
            free(xml);
            if (len > (size_t)maxchars - chars) {
                xd_stanza_unref(m);
                break;
            }
            chars += len;
        }
        out[n++] = m;
    }
    while (n > 0)
        xd_component_send(room->svc->comp, out[--n]);
    free(out);
}
