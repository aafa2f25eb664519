/*
 * mam.c: XEP-0313 message archive management for accounts, with XEP-0059
 * result set paging and per-account preferences (default always, never or
 * roster). Chat and normal messages with a body are archived on both sides
 * as they pass; inbound ones get an XEP-0359 <stanza-id/> naming their
 * archive id, and no message reaches an account with a <stanza-id/> that
 * claims to be the account's but is not the router's.
 */
#define XD_LOG_AREA "mam"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include <xmppd/log.h>

#include "roster_store.h"
#include "router.h"

#define XD_NS_MAM     "urn:xmpp:mam:2"
#define XD_NS_RSM     "http://jabber.org/protocol/rsm"
#define XD_NS_SID     "urn:xmpp:sid:0"
#define XD_NS_FORWARD "urn:xmpp:forward:0"
#define XD_NS_DELAY   "urn:xmpp:delay"
#define PAGE_MAX      250 /* results one query may return */

/* The account's default mode: from r->archive_modes, which holds every
 * account that chose one (read from the database at the first use), so
 * that archiving a message costs no query. */
/* The stored name as one of three static strings. */
static const char *
mode_name(const char *m)
{
    return m != NULL && strcmp(m, "never") == 0    ? "never"
           : m != NULL && strcmp(m, "roster") == 0 ? "roster"
                                                   : "always";
}

static const char *
default_mode(struct router *r, const xd_jid *account)
{
    if (r->archive_modes == NULL) {
        sqlite3_stmt *q;
        r->archive_modes = xd_map_new();
        if (xd_db_prepare(r->db,
                          "SELECT host, user, default_mode FROM archive_prefs",
                          &q) == 0) {
            while (sqlite3_step(q) == SQLITE_ROW) {
                char bare[3200]; /* a bare JID is at most 2047 bytes */
                snprintf(bare, sizeof(bare), "%s@%s",
                         (const char *)sqlite3_column_text(q, 1),
                         (const char *)sqlite3_column_text(q, 0));
                xd_map_put(
                    r->archive_modes, bare,
                    (void *)mode_name((const char *)sqlite3_column_text(q, 2)));
            }
            sqlite3_reset(q);
        }
    }
    const char *mode = xd_map_get(r->archive_modes, xd_jid_bare_str(account));
    return mode != NULL ? mode : r->conf.archive_default;
}

/* An archive id (XEP-0359 stanza-id): 11 characters of the time in
 * microseconds, then 5 random ones, in an alphabet whose ASCII order is its
 * value order, so that ids grow with time and the per-account index on
 * them is appended to at its end instead of written all over. */
static void
archive_id(char out[17])
{
    static const char digits[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    struct timespec ts;
    unsigned char rnd[5];

    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long us = (unsigned long long)ts.tv_sec * 1000000ULL +
                            (unsigned long long)ts.tv_nsec / 1000;
    for (int i = 10; i >= 0; i--, us >>= 5)
        out[i] = digits[us & 31];
    if (xd_random_bytes(rnd, sizeof(rnd)) != 0)
        memset(rnd, 0, sizeof(rnd)); /* the unique index still guards */
    for (int i = 0; i < 5; i++)
        out[11 + i] = digits[rnd[i] & 31];
    out[16] = '\0';
}

/* Whether a stanza-id's `by` names the account (its bare JID, compared in
 * prepared form, so BOB@LOCALHOST and bob@localhost/x are it too). */
static int
by_account(const char *by, const xd_jid *account)
{
    xd_jid *j = NULL;
    int ours;

    if (by == NULL || xd_jid_parse(by, &j) != 0)
        return 0;
    ours = strcmp(xd_jid_bare_str(j), xd_jid_bare_str(account)) == 0;
    xd_jid_free(j);
    return ours;
}

void
mam_strip_forged_ids(xd_stanza *st, const xd_jid *account)
{
    /* XEP-0359 4: an entity that stamps stanza-ids deletes those whose
     * 'by' is what it would set, even when it adds none. The router
     * stamps for its accounts with their bare JID; a client takes the
     * first stanza-id by its own JID for the archive id, so a sender's
     * forged one would shadow ours. Other entities' ids are kept. */
    xd_elem *e = xd_elem_child(xd_stanza_root(st), "stanza-id", XD_NS_SID);

    while (e != NULL) {
        xd_elem *next = xd_elem_next_match(e, "stanza-id", XD_NS_SID);
        if (by_account(xd_elem_attr(e, "by"), account))
            xd_elem_remove(e);
        e = next;
    }
}

int
mam_archivable(const xd_stanza *st)
{
    const char *type = xd_stanza_type(st);

    return xd_stanza_kind_of(st) == XD_STANZA_MESSAGE &&
           (type == NULL || strcmp(type, "chat") == 0 ||
            strcmp(type, "normal") == 0) &&
           xd_stanza_child_text(st, "body", XD_NS_CLIENT) != NULL;
}

void
mam_archive(struct router *r, const xd_jid *account, const char *peer,
            xd_stanza *st, int inbound)
{
    const char *mode = default_mode(r, account);
    xd_jid *p = NULL;
    char sid[17];
    sqlite3_stmt *q;

    if (strcmp(mode, "never") == 0 || xd_jid_parse(peer, &p) != 0)
        goto out;
    if (strcmp(mode, "roster") == 0) {
        struct roster_item it = { 0 };
        int on = roster_get(r->db, xd_jid_domain(account),
                            xd_jid_local(account), xd_jid_bare_str(p), &it);
        roster_item_clear(&it);
        if (on != 1)
            goto out;
    }
    archive_id(sid);
    if (inbound) {
        /* XEP-0359: the archive id, stamped by the archiving entity. */
        xd_elem *e =
            xd_elem_add_child(xd_stanza_root(st), "stanza-id", XD_NS_SID);
        xd_elem_set_attr(e, "by", xd_jid_bare_str(account));
        xd_elem_set_attr(e, "id", sid);
    }
    char *xml = xd_elem_to_string(xd_stanza_root(st), NULL);
    db_batch_write(r);
    if (xd_db_prepare(r->db,
                      "INSERT INTO archive (host, user, sid, peer, stamp, "
                      "stanza) VALUES (?, ?, ?, ?, ?, ?)",
                      &q) == 0) {
        sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, sid, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, xd_jid_bare_str(p), -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 5, (sqlite3_int64)time(NULL));
        sqlite3_bind_text(q, 6, xml, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            xd_log_warnx("%s: %s", xd_jid_bare_str(account),
                         sqlite3_errmsg(xd_db_handle(r->db)));
        sqlite3_reset(q);
    }
    free(xml);
out:
    xd_jid_free(p);
}

/* --- queries ------------------------------------------------------------ */

struct filter {
    char *with;              /* bare JID, or NULL */
    long long start, end;    /* seconds; -1: open */
    long long after, before; /* archive row ids; -1: open */
    int before_last;         /* <before/> empty: the last page */
    long long max;
};

/* XEP-0082 date-time to seconds: -1 when malformed. */
static long long
parse_stamp(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

    if (end == NULL)
        return -1;
    if (*end == '.')
        end += 1 + strspn(end + 1, "0123456789");
    if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
        return -1;
    return (long long)timegm(&tm);
}

static long long
row_of(struct router *r, const xd_jid *account, const char *sid)
{
    sqlite3_stmt *q;
    long long id = -2;

    if (xd_db_prepare(r->db,
                      "SELECT id FROM archive WHERE host = ? AND user = ? "
                      "AND sid = ?",
                      &q) != 0)
        return -2;
    sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, sid, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        id = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return id;
}

/* Reads the data form and the RSM set; NULL or a condition. */
static const char *
parse_query(struct router *r, const xd_jid *account, const xd_elem *query,
            struct filter *f)
{
    const xd_elem *x = xd_elem_child(query, "x", XD_NS_DATA_FORMS);
    const xd_elem *set = xd_elem_child(query, "set", XD_NS_RSM);

    f->with = NULL;
    f->start = f->end = f->after = f->before = -1;
    f->before_last = 0;
    f->max = PAGE_MAX;
    for (const xd_elem *fld = x ? xd_elem_child(x, "field", NULL) : NULL;
         fld != NULL; fld = xd_elem_next_match(fld, "field", NULL)) {
        const char *var = xd_elem_attr(fld, "var");
        const char *val = xd_elem_child_text(fld, "value", XD_NS_DATA_FORMS);
        if (var == NULL || strcmp(var, "FORM_TYPE") == 0)
            continue;
        if (val == NULL)
            return "bad-request";
        if (strcmp(var, "with") == 0) {
            xd_jid *j = NULL;
            if (xd_jid_parse(val, &j) != 0)
                return "jid-malformed";
            free(f->with);
            f->with = xd_xstrdup(xd_jid_bare_str(j));
            xd_jid_free(j);
        } else if (strcmp(var, "start") == 0 || strcmp(var, "end") == 0) {
            long long t = parse_stamp(val);
            if (t < 0)
                return "bad-request";
            *(strcmp(var, "start") == 0 ? &f->start : &f->end) = t;
        } else {
            return "feature-not-implemented"; /* an unknown field */
        }
    }
    if (set != NULL) {
        const char *max = xd_elem_child_text(set, "max", XD_NS_RSM);
        const char *after = xd_elem_child_text(set, "after", XD_NS_RSM);
        const char *before = xd_elem_child_text(set, "before", XD_NS_RSM);
        if (max != NULL) {
            f->max = strtoll(max, NULL, 10);
            if (f->max < 0)
                return "bad-request";
            if (f->max > PAGE_MAX)
                f->max = PAGE_MAX;
        }
        if (after != NULL && (f->after = row_of(r, account, after)) < 0)
            return "item-not-found";
        if (before != NULL && *before == '\0')
            f->before_last = 1;
        else if (before != NULL && (f->before = row_of(r, account, before)) < 0)
            return "item-not-found";
    }
    return NULL;
}

static void
bind_filter(sqlite3_stmt *q, const xd_jid *account, const struct filter *f)
{
    sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
    if (f->with != NULL)
        sqlite3_bind_text(q, 3, f->with, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, f->start);
    sqlite3_bind_int64(q, 5, f->end);
    sqlite3_bind_int64(q, 6, f->after);
    sqlite3_bind_int64(q, 7, f->before);
}

#define FILTER_SQL                                                             \
    " FROM archive WHERE host = ?1 AND user = ?2 AND (?3 IS NULL OR peer = "   \
    "?3) AND (?4 < 0 OR stamp >= ?4) AND (?5 < 0 OR stamp <= ?5) AND (?6 < "   \
    "0 OR id > ?6) AND (?7 < 0 OR id < ?7)"

static void
send_result(struct router *r, struct c2s *c, const char *queryid,
            const char *sid, long long stamp, const char *xml)
{
    xd_stanza *orig = NULL;
    char ts[32];
    time_t t = (time_t)stamp;
    struct tm tm;

    if (stored_xml_parse(r, xml, &orig) != 0)
        return;
    xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);
    xd_stanza_set_to(m, xd_jid_str(c2s_jid(c)));
    xd_stanza_set_from(m, xd_jid_bare_str(c2s_jid(c)));
    xd_elem *res = xd_elem_add_child(xd_stanza_root(m), "result", XD_NS_MAM);
    if (queryid != NULL)
        xd_elem_set_attr(res, "queryid", queryid);
    xd_elem_set_attr(res, "id", sid);
    xd_elem *fwd = xd_elem_add_child(res, "forwarded", XD_NS_FORWARD);
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    xd_elem_set_attr(xd_elem_add_child(fwd, "delay", XD_NS_DELAY), "stamp", ts);
    xd_elem_add_copy(fwd, xd_stanza_root(orig));
    xd_stanza_unref(orig);
    c2s_deliver(c, m);
}

static const char *
query(struct router *r, struct c2s *c, const xd_stanza *in, const xd_elem *qel)
{
    xd_jid *account = xd_jid_bare(c2s_jid(c));
    struct filter f;
    sqlite3_stmt *q;
    const char *cond = parse_query(r, account, qel, &f);
    long long total = 0, n = 0, first_id = -1, last_id = -1;
    char *first = NULL, *last = NULL;

    if (cond != NULL)
        goto out;
    cond = "internal-server-error";
    if (xd_db_prepare(r->db, "SELECT count(*)" FILTER_SQL, &q) != 0)
        goto out;
    bind_filter(q, account, &f);
    if (sqlite3_step(q) == SQLITE_ROW)
        total = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    /* Paging back (<before/>) reads newest first, then sends oldest
     * first, as results are always in chronological order. */
    int backward = f.before_last || f.before >= 0;
    const char *sql =
        backward ? "SELECT id, sid, stamp, stanza FROM (SELECT *" FILTER_SQL
                   " ORDER BY id DESC LIMIT ?8) ORDER BY id"
                 : "SELECT id, sid, stamp, stanza" FILTER_SQL
                   " ORDER BY id LIMIT ?8";
    if (xd_db_prepare(r->db, sql, &q) != 0)
        goto out;
    bind_filter(q, account, &f);
    sqlite3_bind_int64(q, 8, f.max);
    const char *queryid = xd_elem_attr(qel, "queryid");
    while (sqlite3_step(q) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(q, 0);
        const char *sid = (const char *)sqlite3_column_text(q, 1);
        if (first == NULL) {
            first = xd_xstrdup(sid);
            first_id = id;
        }
        free(last);
        last = xd_xstrdup(sid);
        last_id = id;
        send_result(r, c, queryid, sid, sqlite3_column_int64(q, 2),
                    (const char *)sqlite3_column_text(q, 3));
        n++;
    }
    sqlite3_reset(q);

    /* complete: nothing further in the direction of paging. */
    long long beyond = 0;
    const char *more_sql = backward
                               ? "SELECT count(*)" FILTER_SQL " AND id < ?8"
                               : "SELECT count(*)" FILTER_SQL " AND id > ?8";
    if (n > 0 && xd_db_prepare(r->db, more_sql, &q) == 0) {
        bind_filter(q, account, &f);
        sqlite3_bind_int64(q, 8, backward ? first_id : last_id);
        if (sqlite3_step(q) == SQLITE_ROW)
            beyond = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
    }
    xd_stanza *res = xd_stanza_reply(in);
    xd_elem *fin = xd_elem_add_child(xd_stanza_root(res), "fin", XD_NS_MAM);
    if (beyond == 0)
        xd_elem_set_attr(fin, "complete", "true");
    xd_elem *set = xd_elem_add_child(fin, "set", XD_NS_RSM);
    if (first != NULL) {
        xd_elem_set_child_text(set, "first", XD_NS_RSM, first);
        xd_elem_set_child_text(set, "last", XD_NS_RSM, last);
    }
    char count[24];
    snprintf(count, sizeof(count), "%lld", total);
    xd_elem_set_child_text(set, "count", XD_NS_RSM, count);
    c2s_deliver(c, res);
    cond = NULL;
out:
    free(first);
    free(last);
    free(f.with);
    xd_jid_free(account);
    return cond;
}

static const char *
prefs(struct router *r, struct c2s *c, const xd_stanza *in, const xd_elem *p,
      int set)
{
    xd_jid *account = xd_jid_bare(c2s_jid(c));
    const char *cond = NULL;

    if (set) {
        const char *mode = xd_elem_attr(p, "default");
        sqlite3_stmt *q;
        if (mode == NULL ||
            (strcmp(mode, "always") != 0 && strcmp(mode, "never") != 0 &&
             strcmp(mode, "roster") != 0)) {
            cond = "bad-request";
            goto out;
        }
        if (xd_db_prepare(r->db,
                          "INSERT OR REPLACE INTO archive_prefs (host, user, "
                          "default_mode) VALUES (?, ?, ?)",
                          &q) != 0) {
            cond = "internal-server-error";
            goto out;
        }
        sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, mode, -1, SQLITE_STATIC);
        int ok = sqlite3_step(q) == SQLITE_DONE;
        sqlite3_reset(q);
        if (ok && r->archive_modes != NULL)
            xd_map_put(r->archive_modes, xd_jid_str(account),
                       (void *)mode_name(mode));
        if (!ok) {
            cond = "internal-server-error";
            goto out;
        }
    }
    xd_stanza *res = xd_stanza_reply(in);
    xd_elem *out = xd_elem_add_child(xd_stanza_root(res), "prefs", XD_NS_MAM);
    xd_elem_set_attr(out, "default", default_mode(r, account));
    /* Per-JID always/never lists are not kept yet: both are empty. */
    xd_elem_add_child(out, "always", XD_NS_MAM);
    xd_elem_add_child(out, "never", XD_NS_MAM);
    c2s_deliver(c, res);
out:
    xd_jid_free(account);
    return cond;
}

void
mam_iq(struct router *r, struct c2s *c, xd_stanza *st)
{
    const char *type = xd_stanza_type(st);
    const xd_elem *q = xd_elem_first(xd_stanza_root(st));
    int set = type != NULL && strcmp(type, "set") == 0;
    int get = type != NULL && strcmp(type, "get") == 0;
    const char *cond = "bad-request";

    if (set && xd_elem_is(q, "query", XD_NS_MAM))
        cond = query(r, c, st, q);
    else if ((set || get) && xd_elem_is(q, "prefs", XD_NS_MAM))
        cond = prefs(r, c, st, q, set);
    else if (get && xd_elem_is(q, "query", XD_NS_MAM)) {
        /* The form of search fields (XEP-0313 5.1). */
        xd_stanza *res = xd_stanza_reply(st);
        xd_elem *qq =
            xd_elem_add_child(xd_stanza_root(res), "query", XD_NS_MAM);
        xd_elem *x = xd_elem_add_child(qq, "x", XD_NS_DATA_FORMS);
        xd_elem_set_attr(x, "type", "form");
        static const char *const vars[][2] = {
            { "FORM_TYPE", "hidden" },
            { "with", "jid-single" },
            { "start", "text-single" },
            { "end", "text-single" },
        };
        for (size_t i = 0; i < XD_NELEM(vars); i++) {
            xd_elem *fld = xd_elem_add_child(x, "field", NULL);
            xd_elem_set_attr(fld, "var", vars[i][0]);
            xd_elem_set_attr(fld, "type", vars[i][1]);
            if (i == 0)
                xd_elem_set_child_text(fld, "value", NULL, XD_NS_MAM);
        }
        c2s_deliver(c, res);
        cond = NULL;
    } else if (!set && !get) {
        cond = NULL; /* results and errors: nothing to answer */
    }
    if (cond != NULL)
        c2s_deliver(c, xd_stanza_error_reply(
                           st, xd_stanza_error_default_type(cond), cond, NULL));
    xd_stanza_unref(st);
}
