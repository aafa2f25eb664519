/*
 * Unit tests for db.c: migrations from nothing, reopening, a schema newer
 * than the program, WAL mode, the statement cache, write batches, and the
 * files' modes: they hold SCRAM keys, archives and room passwords, so the
 * database, its -wal and its -shm are readable by their owner only; and
 * the one-call statements with typed arguments (xd_db_run, xd_db_get).
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

/* xd_db_run / xd_db_get: typed arguments, no row, mismatches refused
 * before anything runs, duplicates told apart, statements left reset. */
static void
test_typed(const char *dir)
{
    char path[64];
    xd_db *db = NULL;
    long long n = 0, len = 0;
    double d = 0;
    char *text = NULL, *hex = NULL;
    static const char *const schema[] = {
        "CREATE TABLE c (jid TEXT PRIMARY KEY, n INTEGER NOT NULL, "
        "note TEXT, score REAL, data BLOB);",
    };
    static const char upsert[] = "INSERT INTO c (jid, n) VALUES (?1, 1) "
                                 "ON CONFLICT (jid) DO UPDATE SET n = n + 1";
    static const char lookup[] = "SELECT n, note FROM c WHERE jid = ?";

    snprintf(path, sizeof(path), "%s/typed.db", dir);
    if (xd_db_open(path, schema, 1, &db) != 0) {
        expect(0, "typed: open");
        return;
    }
    expect(xd_db_run(db, upsert, XD_DB_TEXT("a@x")) == 0 &&
               xd_db_run(db, upsert, XD_DB_TEXT("a@x")) == 0 &&
               xd_db_changes(db) == 1,
           "typed: an upsert is one call");
    text = (char *)"untouched";
    expect(xd_db_get(db, lookup, XD_DB_TEXT("a@x"), XD_DB_OUT_INT(&n),
                     XD_DB_OUT_TEXT(&text)) == 0 &&
               n == 2 && text == NULL,
           "typed: a lookup fills its outputs; SQL NULL is a NULL string");
    n = 77;
    expect(xd_db_get(db, lookup, XD_DB_TEXT("nobody@x"), XD_DB_OUT_INT(&n),
                     XD_DB_OUT_TEXT(&text)) == XD_ENOTFOUND &&
               n == 77,
           "typed: no row is XD_ENOTFOUND and leaves the outputs alone");
    expect(xd_db_get(db,
                     "INSERT INTO c (jid, n) VALUES (?, 1) ON CONFLICT (jid) "
                     "DO UPDATE SET n = n + 1 RETURNING n",
                     XD_DB_TEXT("a@x"), XD_DB_OUT_INT(&n)) == 0 &&
               n == 3,
           "typed: an upsert returning the new value is one call");

    /* Every input kind, read back. */
    static const unsigned char bytes[] = { 0, 1, 0xff };
    expect(xd_db_run(db,
                     "INSERT INTO c (jid, n, note, score, data) "
                     "VALUES (?, ?, ?, ?, ?)",
                     XD_DB_TEXT("it's@x"),
                     XD_DB_INT(-9223372036854775807LL - 1), XD_DB_TEXT("l'été"),
                     XD_DB_DOUBLE(2.5), XD_DB_BLOB(bytes, sizeof(bytes))) == 0,
           "typed: text, 64-bit int, double and blob in");
    expect(xd_db_get(db,
                     "SELECT n, note, score, length(data), hex(data) FROM c "
                     "WHERE jid = ?",
                     XD_DB_TEXT("it's@x"), XD_DB_OUT_INT(&n),
                     XD_DB_OUT_TEXT(&text), XD_DB_OUT_DOUBLE(&d),
                     XD_DB_OUT_INT(&len), XD_DB_OUT_TEXT(&hex)) == 0 &&
               n == -9223372036854775807LL - 1 && text &&
               strcmp(text, "l'été") == 0 && d == 2.5 && len == 3 && hex &&
               strcmp(hex, "0001FF") == 0,
           "typed: and out again");
    free(text);
    free(hex);
    expect(xd_db_run(db, "UPDATE c SET note = ? WHERE jid = ?",
                     XD_DB_TEXT(NULL), XD_DB_TEXT("it's@x")) == 0 &&
               xd_db_changes(db) == 1 &&
               xd_db_run(db, "UPDATE c SET note = ?1 WHERE jid = ?2",
                         XD_DB_NULL, XD_DB_TEXT("nobody@x")) == 0 &&
               xd_db_changes(db) == 0,
           "typed: XD_DB_TEXT(NULL) and XD_DB_NULL; changes() tells an "
           "UPDATE that found nothing");

    /* Refused before anything runs: the count is always checked. */
    static const struct {
        int rc, get;
        const char *what;
    } refused[] = {
        { XD_EINVAL, 0, "too few inputs" },
        { XD_EINVAL, 0, "too many inputs" },
        { XD_EINVAL, 0, "an output given to xd_db_run" },
        { XD_EINVAL, 1, "fewer outputs than columns" },
        { XD_EINVAL, 1, "outputs for a statement without columns" },
        { XD_EEXIST, 0, "a duplicate primary key" },
        { XD_EIO, 0, "a NOT NULL constraint" },
        { XD_EIO, 1, "SQL that does not prepare" },
    };
    int got[XD_NELEM(refused)];
    got[0] = xd_db_run(db, "INSERT INTO c (jid, n) VALUES (?, ?)",
                       XD_DB_TEXT("b@x"));
    got[1] = xd_db_run(db, "INSERT INTO c (jid, n) VALUES (?, 1)",
                       XD_DB_TEXT("b@x"), XD_DB_INT(1));
    got[2] = xd_db_run(db, "INSERT INTO c (jid, n) VALUES (?, 1)",
                       XD_DB_TEXT("b@x"), XD_DB_OUT_INT(&n));
    got[3] = xd_db_get(db, lookup, XD_DB_TEXT("a@x"), XD_DB_OUT_INT(&n));
    got[4] = xd_db_get(db, "DELETE FROM c WHERE jid = ?", XD_DB_TEXT("a@x"),
                       XD_DB_OUT_INT(&n));
    got[5] = xd_db_run(db, "INSERT INTO c (jid, n) VALUES (?, 1)",
                       XD_DB_TEXT("a@x"));
    got[6] = xd_db_run(db, "INSERT INTO c (jid, n) VALUES (?, NULL)",
                       XD_DB_TEXT("c@x"));
    got[7] = xd_db_get(db, "SELECT nope FROM nowhere WHERE x = ?", XD_DB_INT(1),
                       XD_DB_OUT_INT(&n));
    for (size_t i = 0; i < XD_NELEM(refused); i++) {
        char what[96];
        snprintf(what, sizeof(what), "typed: %s is %d (got %d)",
                 refused[i].what, refused[i].rc, got[i]);
        expect(got[i] == refused[i].rc, what);
    }
    expect(xd_db_get(db, "SELECT count(*) FROM c WHERE jid IN (?, ?)",
                     XD_DB_TEXT("b@x"), XD_DB_TEXT("c@x"),
                     XD_DB_OUT_INT(&n)) == 0 &&
               n == 0 &&
               xd_db_get(db, lookup, XD_DB_TEXT("a@x"), XD_DB_OUT_INT(&n),
                         XD_DB_OUT_TEXT(&text)) == 0 &&
               n == 3,
           "typed: what was refused wrote nothing");

    /* Nothing is left mid-way: a SELECT holding its read open would keep
     * the WAL from being checkpointed. */
    int busy = 0;
    for (sqlite3_stmt *st = sqlite3_next_stmt(xd_db_handle(db), NULL); st;
         st = sqlite3_next_stmt(xd_db_handle(db), st))
        busy += sqlite3_stmt_busy(st);
    expect(busy == 0, "typed: every statement is left reset");
    xd_db_close(db);
    unlink_all(path);
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
    test_typed(dir);

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
