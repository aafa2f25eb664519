/*
 * store.c: what xmppd-muc keeps in SQLite: persistent rooms, affiliations
 * (with reserved nicks), hats, room archives and the service's secret key.
 *
 * Archive ids are time-ordered integers: the archive time in microseconds
 * shifted left by 8 bits, plus a sequence number for messages archived in
 * the same microsecond. The id is the table's rowid, so archiving appends
 * at the end of the table and of the (room, id) index, and every query
 * (paging, start, end) is one range of that index. The archive time is
 * kept from going backwards (a clock stepped back archives at the last
 * time used), so that id order is time order, as XEP-0313 results need.
 */
#define XD_LOG_AREA "store"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <xmppd/log.h>

#include "muc.h"

#define SEQ_BITS 8
#define SEQ_MAX  ((1 << SEQ_BITS) - 1)

/* Append a migration to change the schema; never edit one that shipped. */
static const char *const schema[] = {
    /* 1: rooms, affiliations, archives and the service key. */
    "CREATE TABLE rooms ("
    "  name TEXT PRIMARY KEY,"
    "  config TEXT NOT NULL,"
    "  subject TEXT,"
    "  subject_from TEXT"
    ") WITHOUT ROWID;"
    "CREATE TABLE affiliations ("
    "  room TEXT NOT NULL,"
    "  jid TEXT NOT NULL,"
    "  aff INTEGER NOT NULL,"
    "  reason TEXT,"
    "  nick TEXT,"
    "  PRIMARY KEY (room, jid)"
    ") WITHOUT ROWID;"
    "CREATE UNIQUE INDEX affiliations_by_nick ON affiliations (room, nick)"
    "  WHERE nick IS NOT NULL;"
    "CREATE TABLE archive ("
    "  id INTEGER PRIMARY KEY,"
    "  room TEXT NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  nick TEXT,"
    "  real_bare TEXT,"
    "  xml TEXT NOT NULL"
    ");"
    "CREATE INDEX archive_by_room ON archive (room, id);"
    "CREATE TABLE service_key ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  key BLOB NOT NULL"
    ");",
    /* 2: XEP-0317 hats. */
    "CREATE TABLE hats ("
    "  room TEXT NOT NULL,"
    "  jid TEXT NOT NULL,"
    "  uri TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  PRIMARY KEY (room, jid, uri)"
    ");",
};

static int
db_error(xd_db *db, const char *what)
{
    xd_log_warnx("%s: %s", what, sqlite3_errmsg(xd_db_handle(db)));
    return XD_EIO;
}

int
muc_store_open(const char *path, xd_db **out)
{
    return xd_db_open(path, schema, XD_NELEM(schema), out);
}

int
muc_store_key(xd_db *db, unsigned char key[32])
{
    sqlite3_stmt *q;
    unsigned char fresh[32];
    int rc = XD_EIO;

    /* INSERT OR IGNORE then SELECT: whichever key was stored first wins,
     * so a key once handed out never changes. */
    if (xd_random_bytes(fresh, sizeof(fresh)) != 0) {
        xd_log_warnx("no random bytes for the service key");
        return XD_EIO;
    }
    /* A failure is logged there; the SELECT decides. */
    (void)xd_db_run(db,
                    "INSERT OR IGNORE INTO service_key (id, key) "
                    "VALUES (1, ?)",
                    XD_DB_BLOB(fresh, sizeof(fresh)));
    if (xd_db_prepare(db, "SELECT key FROM service_key WHERE id = 1", &q) != 0)
        return XD_EIO;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32) {
        memcpy(key, sqlite3_column_blob(q, 0), 32);
        rc = 0;
    } else {
        xd_log_warnx("service key: missing or not 32 bytes");
    }
    sqlite3_reset(q);
    return rc;
}

static const char *
col_text(sqlite3_stmt *q, int i)
{
    return (const char *)sqlite3_column_text(q, i);
}

static void
bind_text(sqlite3_stmt *q, int i, const char *s)
{
    if (s == NULL)
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
}

/* --- rooms ---------------------------------------------------------------- */

int
muc_store_rooms(xd_db *db, muc_store_room_fn fn, void *arg)
{
    sqlite3_stmt *q;
    int rc;

    if (xd_db_prepare(db,
                      "SELECT name, config, subject, subject_from FROM rooms",
                      &q) != 0)
        return XD_EIO;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        fn(col_text(q, 0), col_text(q, 1), col_text(q, 2), col_text(q, 3), arg);
    rc = rc == SQLITE_DONE ? 0 : db_error(db, "rooms");
    sqlite3_reset(q);
    return rc;
}

int
muc_store_room_save(xd_db *db, const char *name, const char *config,
                    const char *subject, const char *subject_from)
{
    return xd_db_run(db,
                     "INSERT INTO rooms (name, config, subject, "
                     "subject_from) VALUES (?1, ?2, ?3, ?4) "
                     "ON CONFLICT (name) DO UPDATE SET config = ?2, "
                     "subject = ?3, subject_from = ?4",
                     XD_DB_TEXT(name), XD_DB_TEXT(config ? config : ""),
                     XD_DB_TEXT(subject), XD_DB_TEXT(subject_from)) == 0
               ? 0
               : XD_EIO;
}

int
muc_store_room_delete(xd_db *db, const char *name)
{
    static const char *const sql[] = {
        "DELETE FROM archive WHERE room = ?",
        "DELETE FROM affiliations WHERE room = ?",
        "DELETE FROM hats WHERE room = ?",
        "DELETE FROM rooms WHERE name = ?",
    };

    if (xd_db_begin(db) != 0)
        return XD_EIO;
    for (size_t i = 0; i < XD_NELEM(sql); i++)
        if (xd_db_run(db, sql[i], XD_DB_TEXT(name)) != 0)
            goto fail;
    if (xd_db_commit(db) != 0)
        goto fail;
    return 0;
fail:
    xd_db_rollback(db);
    return XD_EIO;
}

/* --- hats ---------------------------------------------------------------- */

int
muc_store_hat_set(xd_db *db, const char *room, const char *jid, const char *uri,
                  const char *title)
{
    return xd_db_run(db,
                     "INSERT INTO hats (room, jid, uri, title) VALUES (?1, "
                     "?2, ?3, ?4) ON CONFLICT (room, jid, uri) DO UPDATE SET "
                     "title = ?4",
                     XD_DB_TEXT(room), XD_DB_TEXT(jid), XD_DB_TEXT(uri),
                     XD_DB_TEXT(title)) == 0
               ? 0
               : XD_EIO;
}

int
muc_store_hat_remove(xd_db *db, const char *room, const char *jid,
                     const char *uri)
{
    return xd_db_run(db,
                     "DELETE FROM hats WHERE room = ? AND jid = ? AND uri = ?",
                     XD_DB_TEXT(room), XD_DB_TEXT(jid), XD_DB_TEXT(uri)) == 0
               ? 0
               : XD_EIO;
}

int
muc_store_hats(xd_db *db, const char *room, muc_store_hat_fn fn, void *arg)
{
    sqlite3_stmt *q;
    int rc;

    /* rowid order is the order they were given */
    if (xd_db_prepare(db,
                      "SELECT jid, uri, title FROM hats WHERE room = ? "
                      "ORDER BY rowid",
                      &q) != 0)
        return XD_EIO;
    bind_text(q, 1, room);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        fn(col_text(q, 0), col_text(q, 1), col_text(q, 2), arg);
    rc = rc == SQLITE_DONE ? 0 : db_error(db, room);
    sqlite3_reset(q);
    return rc;
}

/* --- affiliations --------------------------------------------------------- */

int
muc_store_affiliations(xd_db *db, const char *room, muc_store_aff_fn fn,
                       void *arg)
{
    sqlite3_stmt *q;
    int rc;

    if (xd_db_prepare(db,
                      "SELECT jid, aff, reason, nick FROM affiliations "
                      "WHERE room = ?",
                      &q) != 0)
        return XD_EIO;
    bind_text(q, 1, room);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        fn(col_text(q, 0), sqlite3_column_int(q, 1), col_text(q, 2),
           col_text(q, 3), arg);
    rc = rc == SQLITE_DONE ? 0 : db_error(db, room);
    sqlite3_reset(q);
    return rc;
}

int
muc_store_affiliation_set(xd_db *db, const char *room, const char *jid, int aff,
                          const char *reason, const char *nick)
{
    int rc;

    if (aff == MUC_AFF_NONE && nick == NULL)
        rc =
            xd_db_run(db, "DELETE FROM affiliations WHERE room = ? AND jid = ?",
                      XD_DB_TEXT(room), XD_DB_TEXT(jid));
    else /* XD_EEXIST: the nick is someone else's */
        rc = xd_db_run(db,
                       "INSERT INTO affiliations (room, jid, aff, reason, "
                       "nick) VALUES (?1, ?2, ?3, ?4, ?5) "
                       "ON CONFLICT (room, jid) DO UPDATE SET aff = ?3, "
                       "reason = ?4, nick = ?5",
                       XD_DB_TEXT(room), XD_DB_TEXT(jid), XD_DB_INT(aff),
                       XD_DB_TEXT(reason), XD_DB_TEXT(nick));
    return rc == 0 || rc == XD_EEXIST ? rc : XD_EIO;
}

/* --- archive -------------------------------------------------------------- */

/* An archive id as the decimal stanza-id clients see. */
static void
id_format(int64_t id, char *out)
{
    snprintf(out, 40, "%" PRId64, id);
}

int
muc_store_archive_add(xd_db *db, const char *room, int64_t when_us,
                      const char *nick, const char *real_bare, const char *xml,
                      char *id_out)
{
    long long last = 0; /* an empty table's max(id) is NULL: 0 */
    int64_t t = when_us < 0 ? 0 : when_us;

    /* The newest id of the whole table is the rightmost rowid: one
     * descent of the table's b-tree. */
    if (xd_db_get(db, "SELECT max(id) FROM archive", XD_DB_OUT_INT(&last)) != 0)
        return XD_EIO;
    int64_t last_t = last >> SEQ_BITS;
    int seq = 0;
    if (t <= last_t) {
        t = last_t;
        seq = (int)(last & SEQ_MAX) + 1;
        if (seq > SEQ_MAX) {
            t++;
            seq = 0;
        }
    }
    int64_t id = (t << SEQ_BITS) | seq;

    if (xd_db_run(db,
                  "INSERT INTO archive (id, room, ts, nick, real_bare, "
                  "xml) VALUES (?, ?, ?, ?, ?, ?)",
                  XD_DB_INT(id), XD_DB_TEXT(room), XD_DB_INT(t),
                  XD_DB_TEXT(nick), XD_DB_TEXT(real_bare),
                  XD_DB_TEXT(xml)) != 0)
        return XD_EIO;
    id_format(id, id_out);
    return 0;
}

int
muc_store_archive_recent(xd_db *db, const char *room, size_t n,
                         muc_store_archive_fn fn, void *arg)
{
    sqlite3_stmt *q;
    char id[40];
    int rc;

    if (n == 0)
        return 0;
    if (xd_db_prepare(db,
                      "SELECT id, ts, nick, real_bare, xml FROM (SELECT id, "
                      "ts, nick, real_bare, xml FROM archive WHERE room = ? "
                      "ORDER BY id DESC LIMIT ?) ORDER BY id",
                      &q) != 0)
        return XD_EIO;
    bind_text(q, 1, room);
    sqlite3_bind_int64(q, 2, n > INT64_MAX ? INT64_MAX : (int64_t)n);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        id_format(sqlite3_column_int64(q, 0), id);
        struct muc_archived m = { id, sqlite3_column_int64(q, 1),
                                  col_text(q, 2), col_text(q, 3),
                                  col_text(q, 4) };
        if (m.xml != NULL)
            fn(&m, arg);
    }
    rc = rc == SQLITE_DONE ? 0 : db_error(db, room);
    sqlite3_reset(q);
    return rc;
}

void
muc_store_archive_filter_init(struct muc_archive_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->start_us = INT64_MIN;
    f->end_us = INT64_MAX;
    f->after = f->before = -1;
    f->max = 50;
}

int
muc_store_archive_get(xd_db *db, const char *room, int64_t id, char **xml)
{
    char *text = NULL;
    int rc = xd_db_get(db, "SELECT xml FROM archive WHERE id = ? AND room = ?",
                       XD_DB_INT(id), XD_DB_TEXT(room), XD_DB_OUT_TEXT(&text));

    if (rc == 0 && text == NULL)
        return XD_ENOTFOUND;
    if (rc == 0)
        *xml = text;
    return rc == 0 || rc == XD_ENOTFOUND ? rc : XD_EIO;
}

int
muc_store_archive_set(xd_db *db, const char *room, int64_t id, const char *xml)
{
    if (xd_db_run(db, "UPDATE archive SET xml = ? WHERE id = ? AND room = ?",
                  XD_DB_TEXT(xml), XD_DB_INT(id), XD_DB_TEXT(room)) != 0)
        return XD_EIO;
    return xd_db_changes(db) == 0 ? XD_ENOTFOUND : 0;
}

int
muc_store_archive_find(xd_db *db, const char *room, const char *id,
                       int64_t *out)
{
    long long v = 0, found;

    /* Only what id_format writes: decimal digits, no sign, no spaces. */
    size_t len = strspn(id, "0123456789");
    if (len == 0 || len > 19 || id[len] != '\0')
        return XD_ENOTFOUND;
    for (size_t i = 0; i < len; i++) {
        if (v > (INT64_MAX - (id[i] - '0')) / 10)
            return XD_ENOTFOUND;
        v = v * 10 + (id[i] - '0');
    }
    int rc = xd_db_get(db, "SELECT id FROM archive WHERE id = ? AND room = ?",
                       XD_DB_INT(v), XD_DB_TEXT(room), XD_DB_OUT_INT(&found));

    if (rc == 0)
        *out = found;
    return rc == 0 || rc == XD_ENOTFOUND ? rc : XD_EIO;
}

/* The open id interval (lo, hi) a filter selects: its paging bounds and
 * its times, which are the high bits of the ids. Returns 0 when it is
 * empty. */
static int
id_range(const struct muc_archive_filter *f, int64_t *lo, int64_t *hi)
{
    const int64_t tmax = INT64_MAX >> SEQ_BITS;

    *lo = f->after >= 0 ? f->after : -1;
    *hi = f->before >= 0 ? f->before : INT64_MAX;
    if (f->start_us > tmax || f->end_us < 0 || f->start_us > f->end_us)
        return 0;
    if (f->start_us > 0 && (f->start_us << SEQ_BITS) - 1 > *lo)
        *lo = (f->start_us << SEQ_BITS) - 1;
    if (f->end_us < tmax && ((f->end_us + 1) << SEQ_BITS) < *hi)
        *hi = (f->end_us + 1) << SEQ_BITS;
    return *lo < *hi;
}

#define FILTER_SQL                                                             \
    " FROM archive WHERE room = ?1 AND id > ?2 AND id < ?3 AND (?4 IS NULL "   \
    "OR nick = ?4) AND (?5 IS NULL OR real_bare = ?5)"

static void
bind_filter(sqlite3_stmt *q, const char *room,
            const struct muc_archive_filter *f, int64_t lo, int64_t hi)
{
    bind_text(q, 1, room);
    sqlite3_bind_int64(q, 2, lo);
    sqlite3_bind_int64(q, 3, hi);
    bind_text(q, 4, f->nick);
    bind_text(q, 5, f->real_bare);
}

struct row {
    int64_t id, ts;
    char *nick, *real_bare, *xml;
};

int
muc_store_archive_page(xd_db *db, const char *room,
                       const struct muc_archive_filter *f,
                       muc_store_archive_fn fn, void *arg, int *complete)
{
    sqlite3_stmt *q;
    int64_t lo, hi;
    long max = f->max < 0 ? 0 : f->max;
    size_t n = 0;
    int rc;

    *complete = 1;
    if (!id_range(f, &lo, &hi))
        return 0;
    /* One row more than the page tells whether the page is the last in
     * its direction. The rows are copied out and the statement reset
     * before fn runs, so that fn may use the database. */
    if (xd_db_prepare(db,
                      f->backward
                          ? "SELECT id, ts, nick, real_bare, xml" FILTER_SQL
                            " ORDER BY id DESC LIMIT ?6"
                          : "SELECT id, ts, nick, real_bare, xml" FILTER_SQL
                            " ORDER BY id LIMIT ?6",
                      &q) != 0)
        return XD_EIO;
    bind_filter(q, room, f, lo, hi);
    sqlite3_bind_int64(q, 6, (int64_t)max + 1);
    struct row *rows = xd_xcalloc((size_t)max + 1, sizeof(*rows));
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == (size_t)max) {
            *complete = 0;
            continue;
        }
        rows[n].id = sqlite3_column_int64(q, 0);
        rows[n].ts = sqlite3_column_int64(q, 1);
        rows[n].nick = xd_xstrdup(col_text(q, 2));
        rows[n].real_bare = xd_xstrdup(col_text(q, 3));
        rows[n].xml = xd_xstrdup(col_text(q, 4));
        n++;
    }
    rc = rc == SQLITE_DONE ? 0 : db_error(db, room);
    sqlite3_reset(q);
    for (size_t i = 0; i < n; i++) {
        /* Results are in chronological order whichever way we page. */
        struct row *r = &rows[f->backward ? n - 1 - i : i];
        char id[40];
        id_format(r->id, id);
        struct muc_archived m = { id, r->ts, r->nick, r->real_bare,
                                  r->xml != NULL ? r->xml : "" };
        if (rc == 0)
            fn(&m, arg);
        free(r->nick);
        free(r->real_bare);
        free(r->xml);
    }
    free(rows);
    return rc;
}

int
muc_store_archive_count(xd_db *db, const char *room,
                        const struct muc_archive_filter *f, long *out)
{
    struct muc_archive_filter all = *f;
    int64_t lo, hi;
    long long n = 0;

    all.after = all.before = -1;
    *out = 0;
    if (!id_range(&all, &lo, &hi))
        return 0;
    if (xd_db_get(db, "SELECT count(*)" FILTER_SQL, XD_DB_TEXT(room),
                  XD_DB_INT(lo), XD_DB_INT(hi), XD_DB_TEXT(all.nick),
                  XD_DB_TEXT(all.real_bare), XD_DB_OUT_INT(&n)) != 0)
        return XD_EIO;
    *out = (long)n;
    return 0;
}
