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
/* Runs SQL with no results (may hold several statements). 0 or XD_EIO. */
int xd_db_exec(xd_db *db, const char *sql);
/*
 * A prepared statement for sql, reset and with bindings cleared, cached by
 * the SQL text (pass string literals). Borrowed: do not finalize it. 0 or
 * XD_EIO (logged).
 */
int xd_db_prepare(xd_db *db, const char *sql, struct sqlite3_stmt **out);
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
