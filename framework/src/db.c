/*
 * db.c: SQLite with WAL, a busy timeout, migrations by PRAGMA user_version
 * and a cache of prepared statements.
 *
 * synchronous=NORMAL: in WAL mode a committed transaction survives the
 * process being killed (SIGKILL), which is what the router promises; only
 * a power loss can take back the last commits.
 */
#define XD_LOG_AREA "db"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <xmppd/db.h>
#include <xmppd/log.h>

struct cached {
    const char *sql; /* the caller's pointer (a literal) */
    sqlite3_stmt *stmt;
};

struct xd_db {
    sqlite3 *db;
    char *path;
    struct cached *cache;
    size_t ncache, capcache;
    int batch; /* a write batch's transaction is open */
};

static int
exec_logged(xd_db *db, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(db->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        xd_log_warnx("%s: %s", db->path, err ? err : "error");
        sqlite3_free(err);
        return XD_EIO;
    }
    return 0;
}

int
xd_db_version(xd_db *db)
{
    sqlite3_stmt *st;
    int v = -1;

    if (sqlite3_prepare_v2(db->db, "PRAGMA user_version", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int
migrate(xd_db *db, const char *const *migrations, size_t n)
{
    int v = xd_db_version(db);

    if (v < 0)
        return XD_EIO;
    if ((size_t)v > n) {
        xd_log_warnx("%s: schema version %d is newer than this program "
                     "knows (%zu)",
                     db->path, v, n);
        return XD_EIO;
    }
    for (size_t i = (size_t)v; i < n; i++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", i + 1);
        if (exec_logged(db, "BEGIN IMMEDIATE") != 0)
            return XD_EIO;
        if (exec_logged(db, migrations[i]) != 0 ||
            exec_logged(db, pragma) != 0) {
            exec_logged(db, "ROLLBACK");
            xd_log_warnx("%s: migration to version %zu failed", db->path,
                         i + 1);
            return XD_EIO;
        }
        if (exec_logged(db, "COMMIT") != 0)
            return XD_EIO;
        xd_log_info("%s: schema now at version %zu", db->path, i + 1);
    }
    return 0;
}

int
xd_db_open(const char *path, const char *const *migrations, size_t n_migrations,
           xd_db **out)
{
    xd_db *db = xd_xcalloc(1, sizeof(*db));

    db->path = xd_xstrdup(path);
    if (sqlite3_open_v2(path, &db->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        xd_log_warnx("%s: %s", path,
                     db->db ? sqlite3_errmsg(db->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(db->db, 5000);
    /* A 32 MiB page cache and reads through mmap: the archive's indexes
     * grow at random places, and a miss costs a pread per page. A larger
     * WAL between checkpoints writes each hot page back fewer times. */
    if (exec_logged(db, "PRAGMA journal_mode = WAL;"
                        "PRAGMA synchronous = NORMAL;"
                        "PRAGMA foreign_keys = ON;"
                        "PRAGMA cache_size = -32768;"
                        "PRAGMA mmap_size = 268435456;"
                        "PRAGMA wal_autocheckpoint = 4000;"
                        "PRAGMA journal_size_limit = 67108864;") != 0 ||
        migrate(db, migrations, n_migrations) != 0)
        goto fail;
    *out = db;
    return 0;
fail:
    xd_db_close(db);
    return XD_EIO;
}

void
xd_db_close(xd_db *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < db->ncache; i++)
        sqlite3_finalize(db->cache[i].stmt);
    free(db->cache);
    sqlite3_close(db->db);
    free(db->path);
    free(db);
}

struct sqlite3 *
xd_db_handle(xd_db *db)
{
    return db->db;
}

int
xd_db_exec(xd_db *db, const char *sql)
{
    return exec_logged(db, sql);
}

int
xd_db_prepare(xd_db *db, const char *sql, struct sqlite3_stmt **out)
{
    /* Callers pass literals: the pointer finds it; the text only when the
     * same SQL comes from two places. */
    for (int by_text = 0; by_text < 2; by_text++) {
        for (size_t i = 0; i < db->ncache; i++) {
            if (by_text ? strcmp(db->cache[i].sql, sql) != 0
                        : db->cache[i].sql != sql)
                continue;
            sqlite3_reset(db->cache[i].stmt);
            sqlite3_clear_bindings(db->cache[i].stmt);
            *out = db->cache[i].stmt;
            return 0;
        }
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                           NULL) != SQLITE_OK) {
        xd_log_warnx("%s: %s: %s", db->path, sqlite3_errmsg(db->db), sql);
        return XD_EIO;
    }
    if (db->ncache == db->capcache) {
        db->capcache = db->capcache ? db->capcache * 2 : 16;
        db->cache = xd_xrealloc(db->cache, db->capcache * sizeof(*db->cache));
    }
    db->cache[db->ncache].sql = sql;
    db->cache[db->ncache].stmt = st;
    db->ncache++;
    *out = st;
    return 0;
}

int
xd_db_begin(xd_db *db)
{
    /* Inside a batch a transaction is a savepoint: its rollback undoes only
     * its own writes. */
    return exec_logged(db, db->batch ? "SAVEPOINT xd" : "BEGIN IMMEDIATE");
}

int
xd_db_commit(xd_db *db)
{
    return exec_logged(db, db->batch ? "RELEASE xd" : "COMMIT");
}

int
xd_db_rollback(xd_db *db)
{
    return exec_logged(db,
                       db->batch ? "ROLLBACK TO xd; RELEASE xd" : "ROLLBACK");
}

int
xd_db_batch_begin(xd_db *db)
{
    if (db->batch)
        return 0;
    if (exec_logged(db, "BEGIN IMMEDIATE") != 0)
        return XD_EIO;
    db->batch = 1;
    return 0;
}

int
xd_db_batch_end(xd_db *db)
{
    if (!db->batch)
        return 0;
    db->batch = 0;
    if (exec_logged(db, "COMMIT") == 0)
        return 0;
    exec_logged(db, "ROLLBACK");
    return XD_EIO;
}

int
xd_db_in_batch(const xd_db *db)
{
    return db->batch;
}
