/*
 * Unit tests for db.c: migrations from nothing, reopening, a schema newer
 * than the program, WAL mode, the statement cache, write batches, and the
 * files' modes: they hold SCRAM keys, archives and room passwords, so the
 * database, its -wal and its -shm are readable by their owner only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <xmppd/db.h>

static int passed, failed;

static void
expect(int ok, const char *what)
{
    if (ok)
        passed++;
    else {
        failed++;
        fprintf(stderr, "FAIL %s\n", what);
    }
}

static const char *const v1[] = {
    "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER);",
};
static const char *const v2[] = {
    "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER);",
    "ALTER TABLE t ADD COLUMN w TEXT; INSERT INTO t VALUES ('m', 2, 'x');",
};
static const char *const broken[] = {
    "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER);",
    "ALTER TABLE t ADD COLUMN w TEXT;",
    "CREATE TABLE u (x); THIS IS NOT SQL;",
};

/* True when path exists and neither group nor others may touch it. */
static int
owner_only(const char *path, const char *suffix)
{
    char f[96];
    struct stat st;

    snprintf(f, sizeof(f), "%s%s", path, suffix);
    if (stat(f, &st) != 0) {
        fprintf(stderr, "  %s: missing\n", f);
        return 0;
    }
    if ((st.st_mode & 077) != 0)
        fprintf(stderr, "  %s: mode %03o\n", f, (unsigned)st.st_mode & 0777);
    return (st.st_mode & 077) == 0;
}

static void
unlink_all(const char *path)
{
    const char *suffixes[] = { "", "-wal", "-shm" };
    char f[96];

    for (size_t i = 0; i < XD_NELEM(suffixes); i++) {
        snprintf(f, sizeof(f), "%s%s", path, suffixes[i]);
        unlink(f);
    }
}

static void
check_modes(const char *dir)
{
    char path[80];
    xd_db *db = NULL;
    mode_t old = umask(022); /* the usual umask, which gives 0644 */

    snprintf(path, sizeof(path), "%s/modes.db", dir);
    expect(xd_db_open(path, v1, 1, &db) == 0 &&
               xd_db_exec(db, "INSERT INTO t VALUES ('a', 1)") == 0,
           "a new database for the modes");
    expect(owner_only(path, "") && owner_only(path, "-wal") &&
               owner_only(path, "-shm"),
           "a new database, its -wal and -shm are owner-only");
    xd_db_close(db);
    unlink_all(path);

    /* A database made by an older version (or by hand) is tightened. */
    sqlite3 *raw = NULL;
    sqlite3_open(path, &raw);
    sqlite3_exec(raw, "PRAGMA journal_mode = WAL; CREATE TABLE x (y);", NULL,
                 NULL, NULL);
    expect(!owner_only(path, ""), "(the old database is world-readable)");
    db = NULL;
    expect(xd_db_open(path, v1, 1, &db) == 0 &&
               xd_db_exec(db, "INSERT INTO t VALUES ('b', 1)") == 0,
           "an old database opens");
    expect(owner_only(path, "") && owner_only(path, "-wal") &&
               owner_only(path, "-shm"),
           "an old database, its -wal and -shm are made owner-only");
    xd_db_close(db);
    sqlite3_close(raw);
    unlink_all(path);
    umask(old);
}

int
main(void)
{
    char dir[] = "/tmp/xd-test-db-XXXXXX", path[64];
    xd_db *db = NULL;
    sqlite3_stmt *st, *again;

    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/t.db", dir);

    expect(xd_db_open(path, v1, 1, &db) == 0 && xd_db_version(db) == 1,
           "a new database is migrated to version 1");
    expect(xd_db_prepare(db, "SELECT v FROM t WHERE k = ?", &st) == 0 &&
               xd_db_prepare(db, "SELECT v FROM t WHERE k = ?", &again) == 0 &&
               st == again,
           "the statement cache hands back the same statement");
    expect(xd_db_prepare(db, "SELECT nope FROM nowhere", &st) == XD_EIO,
           "bad SQL is refused");
    xd_db_prepare(db, "PRAGMA journal_mode", &st);
    expect(sqlite3_step(st) == SQLITE_ROW &&
               strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0,
           "WAL mode");
    sqlite3_reset(st);
    expect(xd_db_begin(db) == 0 &&
               xd_db_exec(db, "INSERT INTO t VALUES ('a', 1)") == 0 &&
               xd_db_rollback(db) == 0,
           "a transaction rolls back");
    xd_db_prepare(db, "SELECT count(*) FROM t", &st);
    expect(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0,
           "nothing was kept");
    sqlite3_reset(st);

    /* A write batch: transactions inside it are savepoints, and what the
     * batch holds is visible to a second connection only once it ends. */
    sqlite3 *other = NULL;
    sqlite3_stmt *count = NULL;
    sqlite3_open(path, &other);
    sqlite3_prepare_v2(other, "SELECT count(*) FROM t", -1, &count, NULL);
    expect(xd_db_batch_begin(db) == 0 && xd_db_batch_begin(db) == 0 &&
               xd_db_in_batch(db),
           "a batch opens, and opening it again is a no-op");
    expect(xd_db_exec(db, "INSERT INTO t VALUES ('b', 1)") == 0 &&
               xd_db_begin(db) == 0 &&
               xd_db_exec(db, "INSERT INTO t VALUES ('c', 1)") == 0 &&
               xd_db_rollback(db) == 0 && xd_db_begin(db) == 0 &&
               xd_db_exec(db, "INSERT INTO t VALUES ('d', 1)") == 0 &&
               xd_db_commit(db) == 0,
           "transactions nest inside a batch");
    expect(sqlite3_step(count) == SQLITE_ROW &&
               sqlite3_column_int(count, 0) == 0,
           "another connection sees nothing before the batch ends");
    sqlite3_reset(count);
    expect(xd_db_batch_end(db) == 0 && !xd_db_in_batch(db),
           "the batch commits");
    expect(sqlite3_step(count) == SQLITE_ROW &&
               sqlite3_column_int(count, 0) == 2,
           "then it sees the batch without the rolled-back savepoint");
    sqlite3_finalize(count);
    sqlite3_close(other);
    xd_db_close(db);

    db = NULL;
    expect(xd_db_open(path, v2, 2, &db) == 0 && xd_db_version(db) == 2,
           "reopening applies only the new migration");
    xd_db_close(db);
    db = NULL;
    expect(xd_db_open(path, v1, 1, &db) == XD_EIO && db == NULL,
           "a schema newer than the program is refused");
    expect(xd_db_open(path, broken, 3, &db) == XD_EIO && db == NULL,
           "a failing migration is refused");
    db = NULL;
    expect(xd_db_open(path, v2, 2, &db) == 0 && xd_db_version(db) == 2,
           "and left the database at the last good version");
    xd_db_close(db);
    check_modes(dir);

    char f[80];
    const char *suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(f, sizeof(f), "%s%s", path, suffixes[i]);
        unlink(f);
    }
    rmdir(dir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
