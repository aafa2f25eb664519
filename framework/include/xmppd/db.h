/*
 * db.h: the SQLite helper every store builds on: WAL mode, a busy timeout,
 * foreign keys, schema migrations by PRAGMA user_version, and a cache of
 * prepared statements. A query on a local file is the one kind of
 * synchronous I/O allowed on the event loop; keep statements indexed.
 */
#ifndef XMPPD_DB_H
#define XMPPD_DB_H

#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sqlite3;
struct sqlite3_stmt;
typedef struct xd_db xd_db;

/*
 * Opens (creating if needed) the database at path and brings its schema up
 * to date: migrations[i] is the SQL that takes user_version i to i + 1, and
 * each runs in its own transaction. A database newer than the migrations is
 * refused. 0 and *out owned by the caller, or XD_EIO (logged with the path).
 */
int xd_db_open(const char *path, const char *const *migrations,
               size_t n_migrations, xd_db **out);
void xd_db_close(xd_db *db); /* NULL is a no-op */
/* The connection, for sqlite3_* calls (borrowed). */
struct sqlite3 *xd_db_handle(xd_db *db);
/* Runs SQL without parameters or results (it may hold several statements:
 * a schema, a PRAGMA). 0 or XD_EIO (logged). For one statement with
 * parameters, use xd_db_run below. */
int xd_db_exec(xd_db *db, const char *sql);
/*
 * A prepared statement for sql, borrowed from the connection's cache: do
 * not finalize it. 0 or XD_EIO (logged with the SQL).
 *
 * The cache is keyed by the pointer `sql`, and by its text when the pointer
 * is new: the pointer is kept for the life of the db, so sql must be a
 * string literal (or live as long as the db), and SQL built at run time
 * must not come here (each text stays cached for ever; values go in as
 * parameters). There is one statement per SQL text.
 *
 * Resetting: xd_db_prepare hands the statement out reset and with its
 * bindings cleared, so whatever the last user left does not matter. The
 * caller resets it (sqlite3_reset) as soon as it has the rows it wants:
 * a SELECT left mid-way keeps its read transaction open and stops the WAL
 * from being checkpointed. Because there is one statement per text, a
 * caller still stepping a statement must not ask for the same SQL again
 * (that resets it under its feet), nor run it through xd_db_run/xd_db_get.
 */
int xd_db_prepare(xd_db *db, const char *sql, struct sqlite3_stmt **out);

/*
 * One statement with typed parameters, in one call and without <sqlite3.h>:
 *
 *     xd_db_run(db, "INSERT INTO hits (jid, n) VALUES (?, 1) "
 *                   "ON CONFLICT (jid) DO UPDATE SET n = n + 1",
 *               XD_DB_TEXT(jid));
 *     long long n;
 *     rc = xd_db_get(db, "SELECT n FROM hits WHERE jid = ?",
 *                    XD_DB_TEXT(jid), XD_DB_OUT_INT(&n));
 *
 * The arguments are tagged values rather than a format string ("si"...)
 * because that is the form a compiler checks: XD_DB_TEXT(42) or
 * XD_DB_OUT_INT(&an_int) are diagnosed at compile time, where a wrong
 * letter in a format string reads the wrong type from the varargs and
 * crashes at run time. The macros count the arguments themselves (there is
 * no terminator to forget), and before the statement runs the count of
 * inputs is checked against its parameters and the count of outputs
 * against its columns: a mismatch is XD_EINVAL, logged with the SQL, and
 * nothing is executed. Integers are 64-bit both ways, so nothing is
 * truncated on the way in or out.
 *
 * Inputs bind the statement's parameters by position (?, ?NNN, :name all
 * count by their index); outputs take the columns of the first row in
 * order. Strings are not copied: they are read before the call returns.
 * The SQL follows the xd_db_prepare rule (a string literal). The statement
 * is reset and its bindings cleared before these return, whatever happens.
 * (The macros are C: from C++, fill an xd_db_arg array and call the _args
 * functions.)
 */
typedef enum xd_db_kind {
    XD_DB_K_NULL,
    XD_DB_K_INT,
    XD_DB_K_DOUBLE,
    XD_DB_K_TEXT,
    XD_DB_K_BLOB,
    XD_DB_K_OUT_INT,
    XD_DB_K_OUT_DOUBLE,
    XD_DB_K_OUT_TEXT,
} xd_db_kind;

/* Made by the XD_DB_* macros below; not meant to be filled by hand. */
typedef struct xd_db_arg {
    xd_db_kind kind;
    union {
        long long i;
        double d;
        const char *text;
        struct {
            const void *p;
            size_t n;
        } blob;
        long long *out_i;
        double *out_d;
        char **out_text;
    } u;
} xd_db_arg;

/* Inputs. XD_DB_TEXT(NULL) binds SQL NULL (for optional strings). */
#define XD_DB_NULL      ((xd_db_arg){ XD_DB_K_NULL, { .i = 0 } })
#define XD_DB_INT(v)    ((xd_db_arg){ XD_DB_K_INT, { .i = (v) } })
#define XD_DB_DOUBLE(v) ((xd_db_arg){ XD_DB_K_DOUBLE, { .d = (v) } })
#define XD_DB_TEXT(s)   ((xd_db_arg){ XD_DB_K_TEXT, { .text = (s) } })
#define XD_DB_BLOB(p, len)                                                     \
    ((xd_db_arg){ XD_DB_K_BLOB, { .blob = { (p), (len) } } })
/* Outputs (xd_db_get only). An SQL NULL reads as 0, 0.0 or a NULL string;
 * XD_DB_OUT_TEXT stores a malloc()ed copy the caller frees (the previous
 * value of *p is overwritten, not freed). */
#define XD_DB_OUT_INT(p) ((xd_db_arg){ XD_DB_K_OUT_INT, { .out_i = (p) } })
#define XD_DB_OUT_DOUBLE(p)                                                    \
    ((xd_db_arg){ XD_DB_K_OUT_DOUBLE, { .out_d = (p) } })
#define XD_DB_OUT_TEXT(p) ((xd_db_arg){ XD_DB_K_OUT_TEXT, { .out_text = (p) } })

/* The array and its count, for the two macros below. */
#define XD_DB_ARGS_(...)                                                       \
    ((const xd_db_arg[]){ __VA_ARGS__ }),                                      \
        (sizeof((const xd_db_arg[]){ __VA_ARGS__ }) / sizeof(xd_db_arg))

/*
 * xd_db_run(db, sql, inputs...): runs one statement (an INSERT, UPDATE,
 * DELETE, upsert; rows it returns are skipped) with at least one input
 * (without parameters, use xd_db_exec). Inside a write batch (below) it
 * joins the batch. 0; XD_EEXIST when a UNIQUE or PRIMARY KEY constraint
 * refused it (not logged: the caller decides); XD_EINVAL for arguments that
 * do not fit the statement (or an output given); XD_EIO for any other
 * failure (logged with the SQL).
 */
#define xd_db_run(db, sql, ...)                                                \
    xd_db_run_args((db), (sql), XD_DB_ARGS_(__VA_ARGS__))
int xd_db_run_args(xd_db *db, const char *sql, const xd_db_arg *args, size_t n);
/*
 * xd_db_get(db, sql, inputs and outputs...): a lookup. Binds the inputs,
 * steps once and stores the first row's columns into the outputs, one
 * output per column. 0 with every output set; XD_ENOTFOUND when there is
 * no row (outputs untouched, not logged); XD_EEXIST, XD_EINVAL or XD_EIO as
 * for xd_db_run. A write with RETURNING is a lookup too: an upsert that
 * returns the new value is one call.
 */
#define xd_db_get(db, sql, ...)                                                \
    xd_db_get_args((db), (sql), XD_DB_ARGS_(__VA_ARGS__))
int xd_db_get_args(xd_db *db, const char *sql, const xd_db_arg *args, size_t n);
/* Rows changed by the last INSERT, UPDATE or DELETE (e.g. 0: the UPDATE
 * found no row). */
int xd_db_changes(xd_db *db);
/* Transactions; 0 or XD_EIO. Inside a write batch they are savepoints. */
int xd_db_begin(xd_db *db);
int xd_db_commit(xd_db *db);
int xd_db_rollback(xd_db *db);
/*
 * Write batching (group commit): opens one transaction that the writes that
 * follow share, until xd_db_batch_end commits it. A program that writes on
 * every stanza opens a batch at its first write of an event loop turn and
 * ends it when the turn's events are done, before anything it sent in that
 * turn reaches a socket, so what a peer saw acknowledged is on disk. Opening
 * an open batch is a no-op. 0 or XD_EIO (logged; a failed commit is rolled
 * back).
 */
int xd_db_batch_begin(xd_db *db);
int xd_db_batch_end(xd_db *db);
/* Whether a write batch is open. */
int xd_db_in_batch(const xd_db *db);
/*
 * Takes WAL checkpoints (copying committed pages into the database file,
 * the one long write SQLite does) off the caller's thread: commits no
 * longer checkpoint, and a thread with its own connection runs a passive
 * checkpoint every interval_ms (0: 1000). For programs whose event loop
 * must not stall. Stopped by xd_db_close. 0 or XD_EIO (logged).
 */
int xd_db_checkpoint_in_background(xd_db *db, unsigned interval_ms);
/* The schema version (PRAGMA user_version). */
int xd_db_version(xd_db *db);

#ifdef __cplusplus
}
#endif
#endif
