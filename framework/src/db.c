/*
 * db.c: SQLite with WAL, a busy timeout, migrations by PRAGMA user_version
 * and a cache of prepared statements.
 *
 * synchronous=NORMAL: in WAL mode a committed transaction survives the
 * process being killed (SIGKILL), which is what the router promises; only
 * a power loss can take back the last commits.
 *
 * The files hold SCRAM keys, archives and room passwords: the database is
 * made owner-only (0600) before SQLite first opens it, whatever the umask,
 * and SQLite gives the -wal and -shm files it creates the database's mode.
 * Files left group- or world-readable by an older version are tightened.
 */
#define XD_LOG_AREA "db"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
    /* xd_db_checkpoint_in_background: */
    pthread_t ckpt;
    int ckpt_running;
    pthread_mutex_t ckpt_lock;
    pthread_cond_t ckpt_wake;
    int ckpt_stop;
    unsigned ckpt_ms;
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

/* Takes group and other permissions away from an existing file (fd, or
 * path when fd is -1). A file system that cannot do it (EPERM) is warned
 * about, not refused: the data is there already. */
static void
tighten(const char *path, int fd)
{
    struct stat st;

    if ((fd >= 0 ? fstat(fd, &st) : stat(path, &st)) != 0) {
        if (errno != ENOENT)
            xd_log_warn("%s: stat", path);
        return;
    }
    if ((st.st_mode & 077) == 0)
        return;
    mode_t mode = st.st_mode & 0700;
    if ((fd >= 0 ? fchmod(fd, mode) : chmod(path, mode)) != 0)
        xd_log_warn("%s: cannot make it owner-only (mode %03o)", path,
                    (unsigned)st.st_mode & 0777);
    else
        xd_log_info("%s: mode %03o made owner-only", path,
                    (unsigned)st.st_mode & 0777);
}

/* Creates the database file owner-only if it is missing, and tightens it
 * and the -wal and -shm beside it if they are looser. In-memory and URI
 * names are SQLite's business. */
static void
make_owner_only(const char *path, int with_journals)
{
    if (path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
        strncmp(path, "file:", 5) == 0)
        return;
    if (!with_journals) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return; /* SQLite says why when it tries */
        tighten(path, fd);
        close(fd);
        return;
    }
    static const char *const journals[] = { "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < XD_NELEM(journals); i++) {
        char *f = xd_xasprintf("%s%s", path, journals[i]);
        tighten(f, -1);
        free(f);
    }
}

int
xd_db_open(const char *path, const char *const *migrations, size_t n_migrations,
           xd_db **out)
{
    xd_db *db = xd_xcalloc(1, sizeof(*db));

    db->path = xd_xstrdup(path);
    make_owner_only(path, 0);
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
                        "PRAGMA journal_size_limit = 67108864;") != 0)
        goto fail;
    make_owner_only(path, 1);
    if (migrate(db, migrations, n_migrations) != 0)
        goto fail;
    *out = db;
    return 0;
fail:
    xd_db_close(db);
    return XD_EIO;
}

static void stop_checkpoints(xd_db *db);

void
xd_db_close(xd_db *db)
{
    if (db == NULL)
        return;
    stop_checkpoints(db);
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

/* --- checkpoints on a thread of their own --------------------------------- */

static void *
checkpoint_main(void *arg)
{
    xd_db *db = arg;
    sqlite3 *conn = NULL;

    if (sqlite3_open_v2(db->path, &conn, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK) {
        xd_log_warnx("%s: checkpoint connection: %s", db->path,
                     conn ? sqlite3_errmsg(conn) : "cannot open");
        sqlite3_close(conn);
        return NULL;
    }
    sqlite3_busy_timeout(conn, 1000);
    pthread_mutex_lock(&db->ckpt_lock);
    while (!db->ckpt_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += db->ckpt_ms / 1000;
        until.tv_nsec += (long)(db->ckpt_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&db->ckpt_wake, &db->ckpt_lock, &until);
        if (db->ckpt_stop)
            break;
        pthread_mutex_unlock(&db->ckpt_lock);
        /* PASSIVE: copies what it can without waiting for anyone; the
         * writer on the event loop never waits for it. */
        int rc = sqlite3_wal_checkpoint_v2(
            conn, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            xd_log_warnx("%s: checkpoint: %s", db->path, sqlite3_errmsg(conn));
        pthread_mutex_lock(&db->ckpt_lock);
    }
    pthread_mutex_unlock(&db->ckpt_lock);
    sqlite3_close(conn);
    return NULL;
}

int
xd_db_checkpoint_in_background(xd_db *db, unsigned interval_ms)
{
    if (db->ckpt_running)
        return 0;
    db->ckpt_ms = interval_ms ? interval_ms : 1000;
    db->ckpt_stop = 0;
    pthread_mutex_init(&db->ckpt_lock, NULL);
    pthread_cond_init(&db->ckpt_wake, NULL);
    if (pthread_create(&db->ckpt, NULL, checkpoint_main, db) != 0) {
        xd_log_warnx("%s: cannot start the checkpoint thread", db->path);
        pthread_mutex_destroy(&db->ckpt_lock);
        pthread_cond_destroy(&db->ckpt_wake);
        return XD_EIO;
    }
    db->ckpt_running = 1;
    /* The loop's connection no longer checkpoints when it commits. */
    return exec_logged(db, "PRAGMA wal_autocheckpoint = 0;");
}

static void
stop_checkpoints(xd_db *db)
{
    if (!db->ckpt_running)
        return;
    pthread_mutex_lock(&db->ckpt_lock);
    db->ckpt_stop = 1;
    pthread_cond_signal(&db->ckpt_wake);
    pthread_mutex_unlock(&db->ckpt_lock);
    pthread_join(db->ckpt, NULL);
    pthread_mutex_destroy(&db->ckpt_lock);
    pthread_cond_destroy(&db->ckpt_wake);
    db->ckpt_running = 0;
}

/* --- statements with typed arguments -------------------------------------- */

/* Checks args against the statement's parameters and columns (`outputs`: 0
 * none allowed, 1 one per column) and binds the inputs. 0 or XD_EINVAL /
 * XD_EIO, logged. */
static int
bind_args(xd_db *db, sqlite3_stmt *st, const char *sql, const xd_db_arg *args,
          size_t n, int outputs)
{
    int in = 0, out = 0;

    for (size_t i = 0; i < n; i++)
        if (args[i].kind >= XD_DB_K_OUT_INT)
            out++;
        else
            in++;
    if (in != sqlite3_bind_parameter_count(st) ||
        (outputs ? out != sqlite3_column_count(st) : out != 0)) {
        xd_log_warnx("%s: %d input(s) and %d output(s) given for %d "
                     "parameter(s) and %d column(s)%s: %s",
                     db->path, in, out, sqlite3_bind_parameter_count(st),
                     sqlite3_column_count(st),
                     outputs ? "" : " (no outputs here)", sql);
        return XD_EINVAL;
    }
    int idx = 0;
    for (size_t i = 0; i < n; i++) {
        const xd_db_arg *a = &args[i];
        int rc = SQLITE_OK;
        switch (a->kind) {
        case XD_DB_K_NULL:
            rc = sqlite3_bind_null(st, ++idx);
            break;
        case XD_DB_K_INT:
            rc = sqlite3_bind_int64(st, ++idx, a->u.i);
            break;
        case XD_DB_K_DOUBLE:
            rc = sqlite3_bind_double(st, ++idx, a->u.d);
            break;
        case XD_DB_K_TEXT:
            /* Static: the bindings are cleared before the call returns. */
            rc = a->u.text ? sqlite3_bind_text(st, ++idx, a->u.text, -1,
                                               SQLITE_STATIC)
                           : sqlite3_bind_null(st, ++idx);
            break;
        case XD_DB_K_BLOB:
            rc = sqlite3_bind_blob64(st, ++idx, a->u.blob.p ? a->u.blob.p : "",
                                     a->u.blob.n, SQLITE_STATIC);
            break;
        default:
            continue; /* an output */
        }
        if (rc != SQLITE_OK) {
            xd_log_warnx("%s: parameter %d: %s: %s", db->path, idx,
                         sqlite3_errstr(rc), sql);
            return XD_EIO;
        }
    }
    return 0;
}

/* The status for a failed sqlite3_step, logged unless the caller expects
 * it (a duplicate key). */
static int
step_failed(xd_db *db, const char *sql)
{
    int ext = sqlite3_extended_errcode(db->db);

    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return XD_EEXIST;
    xd_log_warnx("%s: %s: %s", db->path, sqlite3_errmsg(db->db), sql);
    return XD_EIO;
}

int
xd_db_run_args(xd_db *db, const char *sql, const xd_db_arg *args, size_t n)
{
    sqlite3_stmt *st;
    int rc;

    if ((rc = xd_db_prepare(db, sql, &st)) != 0)
        return rc;
    if ((rc = bind_args(db, st, sql, args, n, 0)) == 0) {
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW)
            ;
        if (s != SQLITE_DONE)
            rc = step_failed(db, sql);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int
xd_db_get_args(xd_db *db, const char *sql, const xd_db_arg *args, size_t n)
{
    sqlite3_stmt *st;
    int rc;

    if ((rc = xd_db_prepare(db, sql, &st)) != 0)
        return rc;
    if ((rc = bind_args(db, st, sql, args, n, 1)) != 0)
        goto out;
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE) {
        rc = XD_ENOTFOUND;
        goto out;
    }
    if (s != SQLITE_ROW) {
        rc = step_failed(db, sql);
        goto out;
    }
    int col = 0;
    for (size_t i = 0; i < n; i++) {
        const xd_db_arg *a = &args[i];
        switch (a->kind) {
        case XD_DB_K_OUT_INT:
            *a->u.out_i = sqlite3_column_int64(st, col++);
            break;
        case XD_DB_K_OUT_DOUBLE:
            *a->u.out_d = sqlite3_column_double(st, col++);
            break;
        case XD_DB_K_OUT_TEXT: {
            const unsigned char *t = sqlite3_column_text(st, col);
            *a->u.out_text =
                t ? xd_xstrndup((const char *)t,
                                (size_t)sqlite3_column_bytes(st, col))
                  : NULL;
            col++;
            break;
        }
        default:
            break; /* an input */
        }
    }
out:
    /* Also ends the read of a SELECT; a RETURNING write was done in full
     * by its first step. */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int
xd_db_changes(xd_db *db)
{
    return sqlite3_changes(db->db);
}
