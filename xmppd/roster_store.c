/*
 * roster_store.c: roster items and versions in SQLite.
 */
#define XD_LOG_AREA "roster"
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <xmppd/log.h>

#include "roster_store.h"

static void
bind_account(sqlite3_stmt *st, const char *host, const char *user)
{
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
}

static int
step_done(xd_db *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    xd_log_warnx("%s", sqlite3_errmsg(xd_db_handle(db)));
    return XD_EIO;
}

/* One integer from a query on the account. */
static int
query_int(xd_db *db, const char *sql, const char *host, const char *user,
          long long *out)
{
    sqlite3_stmt *st;

    if (xd_db_prepare(db, sql, &st) != 0)
        return XD_EIO;
    bind_account(st, host, user);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : XD_EIO;
}

int
roster_version(xd_db *db, const char *host, const char *user,
               long long *version)
{
    return query_int(db,
                     "SELECT version FROM roster_versions WHERE host = ? "
                     "AND user = ?",
                     host, user, version);
}

int
roster_count(xd_db *db, const char *host, const char *user, long long *count)
{
    return query_int(db,
                     "SELECT count(*) FROM roster_items WHERE host = ? AND "
                     "user = ?",
                     host, user, count);
}

static void
fill(sqlite3_stmt *st, struct roster_item *it)
{
    it->contact = (const char *)sqlite3_column_text(st, 0);
    it->name = (const char *)sqlite3_column_text(st, 1);
    it->subscription = (const char *)sqlite3_column_text(st, 2);
    it->ask = sqlite3_column_int(st, 3);
    it->groups = (const char *)sqlite3_column_text(st, 4);
    it->approved = sqlite3_column_int(st, 5);
}

int
roster_each(xd_db *db, const char *host, const char *user,
            void (*fn)(const struct roster_item *item, void *arg), void *arg)
{
    sqlite3_stmt *st;
    struct roster_item it;
    int rc;

    if (xd_db_prepare(
            db,
            "SELECT contact, name, subscription, ask, groups, approved FROM "
            "roster_items WHERE host = ? AND user = ? ORDER BY "
            "contact",
            &st) != 0)
        return XD_EIO;
    bind_account(st, host, user);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fill(st, &it);
        fn(&it, arg);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : XD_EIO;
}

int
roster_get(xd_db *db, const char *host, const char *user, const char *contact,
           struct roster_item *found)
{
    sqlite3_stmt *st;
    struct roster_item it;

    if (xd_db_prepare(
            db,
            "SELECT contact, name, subscription, ask, groups, approved FROM "
            "roster_items WHERE host = ? AND user = ? AND "
            "contact = ?",
            &st) != 0)
        return XD_EIO;
    bind_account(st, host, user);
    sqlite3_bind_text(st, 3, contact, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        fill(st, &it);
        found->contact = xd_xstrdup(it.contact);
        found->name = xd_xstrdup(it.name);
        found->subscription = xd_xstrdup(it.subscription);
        found->ask = it.ask;
        found->approved = it.approved;
        found->groups = xd_xstrdup(it.groups);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : XD_EIO;
}

void
roster_item_clear(struct roster_item *item)
{
    free((char *)item->contact);
    free((char *)item->name);
    free((char *)item->subscription);
    free((char *)item->groups);
    memset(item, 0, sizeof(*item));
}

static int
bump(xd_db *db, const char *host, const char *user, long long *version)
{
    sqlite3_stmt *st;

    if (xd_db_prepare(db,
                      "INSERT INTO roster_versions (host, user, version) "
                      "VALUES (?, ?, 1) ON CONFLICT (host, user) DO UPDATE "
                      "SET version = version + 1",
                      &st) != 0)
        return XD_EIO;
    bind_account(st, host, user);
    if (step_done(db, st) != 0)
        return XD_EIO;
    return roster_version(db, host, user, version);
}

/* Runs `change` and the version bump in one transaction. */
static int
in_transaction(xd_db *db, const char *host, const char *user, int change_rc,
               long long *version)
{
    if (change_rc != 0 || bump(db, host, user, version) != 0) {
        xd_db_rollback(db);
        return change_rc != 0 ? change_rc : XD_EIO;
    }
    return xd_db_commit(db);
}

int
roster_put(xd_db *db, const char *host, const char *user,
           const struct roster_item *item, long long *version)
{
    sqlite3_stmt *st;
    int rc;

    if (xd_db_begin(db) != 0)
        return XD_EIO;
    rc = xd_db_prepare(db,
                       "INSERT INTO roster_items (host, user, contact, name, "
                       "groups) VALUES (?, ?, ?, ?, ?) ON CONFLICT (host, "
                       "user, contact) DO UPDATE SET name = excluded.name, "
                       "groups = excluded.groups",
                       &st);
    if (rc == 0) {
        bind_account(st, host, user);
        sqlite3_bind_text(st, 3, item->contact, -1, SQLITE_STATIC);
        if (item->name != NULL)
            sqlite3_bind_text(st, 4, item->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, item->groups ? item->groups : "", -1,
                          SQLITE_STATIC);
        rc = step_done(db, st);
    }
    return in_transaction(db, host, user, rc, version);
}

int
roster_remove(xd_db *db, const char *host, const char *user,
              const char *contact, long long *version)
{
    sqlite3_stmt *st;
    int rc;

    if (xd_db_begin(db) != 0)
        return XD_EIO;
    rc = xd_db_prepare(db,
                       "DELETE FROM roster_items WHERE host = ? AND user = ? "
                       "AND contact = ?",
                       &st);
    if (rc == 0) {
        bind_account(st, host, user);
        sqlite3_bind_text(st, 3, contact, -1, SQLITE_STATIC);
        rc = step_done(db, st);
        if (rc == 0 && sqlite3_changes(xd_db_handle(db)) == 0)
            rc = XD_ENOTFOUND;
    }
    return in_transaction(db, host, user, rc, version);
}

int
roster_set_subscription(xd_db *db, const char *host, const char *user,
                        const char *contact, const char *subscription, int ask,
                        long long *version)
{
    sqlite3_stmt *st;
    int rc;

    if (xd_db_begin(db) != 0)
        return XD_EIO;
    rc = xd_db_prepare(db,
                       "INSERT INTO roster_items (host, user, contact, "
                       "subscription, ask) VALUES (?, ?, ?, ?, ?) ON "
                       "CONFLICT (host, user, contact) DO UPDATE SET "
                       "subscription = excluded.subscription, ask = "
                       "excluded.ask, approved = CASE WHEN "
                       "excluded.subscription IN ('from', 'both') THEN 0 "
                       "ELSE approved END",
                       &st);
    if (rc == 0) {
        bind_account(st, host, user);
        sqlite3_bind_text(st, 3, contact, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, subscription, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, ask);
        rc = step_done(db, st);
    }
    return in_transaction(db, host, user, rc, version);
}

int
roster_set_approved(xd_db *db, const char *host, const char *user,
                    const char *contact, int approved, long long *version)
{
    sqlite3_stmt *st;
    int rc;

    if (xd_db_begin(db) != 0)
        return XD_EIO;
    rc = xd_db_prepare(db,
                       "INSERT INTO roster_items (host, user, contact, "
                       "approved) VALUES (?, ?, ?, ?) ON CONFLICT (host, "
                       "user, contact) DO UPDATE SET approved = "
                       "excluded.approved",
                       &st);
    if (rc == 0) {
        bind_account(st, host, user);
        sqlite3_bind_text(st, 3, contact, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, approved);
        rc = step_done(db, st);
    }
    return in_transaction(db, host, user, rc, version);
}

int
pending_add(xd_db *db, const char *host, const char *user, const char *contact,
            const char *stanza_xml)
{
    sqlite3_stmt *st;

    if (xd_db_prepare(db,
                      "INSERT OR REPLACE INTO presence_pending (host, user, "
                      "contact, stanza) VALUES (?, ?, ?, ?)",
                      &st) != 0)
        return XD_EIO;
    bind_account(st, host, user);
    sqlite3_bind_text(st, 3, contact, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, stanza_xml, -1, SQLITE_STATIC);
    return step_done(db, st);
}

int
pending_remove(xd_db *db, const char *host, const char *user,
               const char *contact)
{
    sqlite3_stmt *st;

    if (xd_db_prepare(db,
                      "DELETE FROM presence_pending WHERE host = ? AND user "
                      "= ? AND contact = ?",
                      &st) != 0)
        return XD_EIO;
    bind_account(st, host, user);
    sqlite3_bind_text(st, 3, contact, -1, SQLITE_STATIC);
    if (step_done(db, st) != 0)
        return XD_EIO;
    return sqlite3_changes(xd_db_handle(db)) > 0 ? 1 : 0;
}

int
pending_each(xd_db *db, const char *host, const char *user,
             void (*fn)(const char *stanza_xml, void *arg), void *arg)
{
    sqlite3_stmt *st;
    int rc;

    if (xd_db_prepare(db,
                      "SELECT stanza FROM presence_pending WHERE host = ? "
                      "AND user = ? ORDER BY contact",
                      &st) != 0)
        return XD_EIO;
    bind_account(st, host, user);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn((const char *)sqlite3_column_text(st, 0), arg);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : XD_EIO;
}
