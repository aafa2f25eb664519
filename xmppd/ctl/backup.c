/*
 * backup.c: xmppdctl backup FILE and restore FILE. A backup is SQLite's
 * online backup of each database, taken in one read transaction, so it is
 * consistent while xmppd (and xmppd-muc) keep writing: in WAL mode readers
 * and the writer do not wait for each other. FILE holds the router's
 * database; FILE.muc the MUC's when the configuration has a [muc] section.
 * Each is written beside its name and renamed into place, so a failed
 * backup never leaves a half file under the name of a good one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include <xmppd/buf.h>

#include "ctl.h"
#include "remote.h"

/* A database of the configuration, and where its copy goes. */
struct db_file {
    const char *what; /* "router", "muc" */
    const char *path;
    char suffix[8]; /* of the backup's name: "" or ".muc" */
};

/* The databases of the configuration: the router's, and the MUC's when
 * [muc] is in the same file (its default db_path is muc.db). */
static size_t
databases(struct ctl *c, struct db_file out[2])
{
    size_t n = 0;

    out[n++] = (struct db_file){ "router", c->conf.db_path, "" };
    if (xd_config_has_section(c->cfg, "muc")) {
        const char *p = xd_config_get(c->cfg, "muc", "db_path");
        out[n++] = (struct db_file){ "muc", p ? p : "muc.db", ".muc" };
    }
    return n;
}

/* Copies every page of src into dst (both open) in one step: one read
 * transaction on src, so the copy is one consistent state. */
static int
copy_db(sqlite3 *src, sqlite3 *dst)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    int rc;

    if (b == NULL)
        return SQLITE_ERROR;
    /* A writer's commit can hold the lock for a moment: wait for it. */
    for (int tries = 0; tries < 200; tries++) {
        rc = sqlite3_backup_step(b, -1);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            break;
        usleep(50000);
    }
    int fin = sqlite3_backup_finish(b);
    return rc == SQLITE_DONE ? fin : rc;
}

static int
open_db(const char *path, int flags, sqlite3 **out)
{
    if (sqlite3_open_v2(path, out, flags, NULL) != SQLITE_OK) {
        fprintf(stderr, "xmppdctl: cannot open %s: %s\n", path,
                *out ? sqlite3_errmsg(*out) : "out of memory");
        sqlite3_close(*out);
        *out = NULL;
        return 1;
    }
    sqlite3_busy_timeout(*out, 10000);
    return 0;
}

static int
backup_one(const struct db_file *d, const char *file)
{
    char dst_path[4096], tmp[4200];
    sqlite3 *src = NULL, *dst = NULL;
    int rc = 1;

    snprintf(dst_path, sizeof(dst_path), "%s%s", file, d->suffix);
    snprintf(tmp, sizeof(tmp), "%s.part", dst_path);
    unlink(tmp);
    if (open_db(d->path, SQLITE_OPEN_READWRITE, &src) != 0 ||
        open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dst) != 0)
        goto done;
    if (copy_db(src, dst) != SQLITE_OK) {
        fprintf(stderr, "xmppdctl: backup of %s: %s\n", d->path,
                sqlite3_errmsg(dst));
        goto done;
    }
    /* The copy keeps the source's WAL mode: one self-contained file is
     * what a backup should be. */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "xmppdctl: backup %s: %s\n", tmp, sqlite3_errmsg(dst));
        goto done;
    }
    sqlite3_close(dst);
    dst = NULL;
    if (rename(tmp, dst_path) != 0) {
        perror("xmppdctl: backup: rename");
        goto done;
    }
    printf("%s database %s backed up to %s\n", d->what, d->path, dst_path);
    rc = 0;
done:
    sqlite3_close(src);
    sqlite3_close(dst);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int
ctl_cmd_backup(struct ctl *c, int argc, char **argv)
{
    struct db_file dbs[2];
    size_t n = databases(c, dbs);
    int rc = 0;

    if (argc != 2)
        return 2;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = backup_one(&dbs[i], argv[1]);
    return rc;
}

/* The backup must be a whole SQLite database, and the router's one must
 * have accounts: restoring a wrong file would replace every account. */
static int
backup_ok(sqlite3 *db, const struct db_file *d, const char *path)
{
    sqlite3_stmt *q = NULL;
    int ok = 0;

    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) ==
            SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        ok = strcmp((const char *)sqlite3_column_text(q, 0), "ok") == 0;
    sqlite3_finalize(q);
    if (ok && strcmp(d->what, "router") == 0)
        ok = sqlite3_exec(db, "SELECT 1 FROM accounts LIMIT 1", NULL, NULL,
                          NULL) == SQLITE_OK;
    if (!ok)
        fprintf(stderr,
                "xmppdctl: restore: %s is not a backup of the %s "
                "database\n",
                path, d->what);
    return ok;
}

static int
restore_one(const struct db_file *d, const char *file)
{
    char src_path[4096];
    sqlite3 *src = NULL, *dst = NULL;
    int rc = 1;

    snprintf(src_path, sizeof(src_path), "%s%s", file, d->suffix);
    if (*d->suffix != '\0' && access(src_path, F_OK) != 0) {
        printf("%s database: no %s in the backup, left as it is\n", d->what,
               src_path);
        return 0;
    }
    if (open_db(src_path, SQLITE_OPEN_READONLY, &src) != 0 ||
        !backup_ok(src, d, src_path) ||
        open_db(d->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dst) != 0)
        goto done;
    if (copy_db(src, dst) != SQLITE_OK) {
        fprintf(stderr, "xmppdctl: restore of %s: %s\n", d->path,
                sqlite3_errmsg(dst));
        goto done;
    }
    /* The router opens its databases in WAL mode; say so again. */
    sqlite3_exec(dst, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    printf("%s database %s restored from %s\n", d->what, d->path, src_path);
    rc = 0;
done:
    sqlite3_close(src);
    sqlite3_close(dst);
    return rc;
}

int
ctl_cmd_restore(struct ctl *c, int argc, char **argv)
{
    struct db_file dbs[2];
    size_t n = databases(c, dbs);
    xd_buf out = { 0 };
    int rc = 0;

    if (argc != 2)
        return 2;
    if (access(argv[1], R_OK) != 0) {
        fprintf(stderr, "xmppdctl: restore: cannot read %s\n", argv[1]);
        return 1;
    }
    /* A running router holds the state in memory too (sessions, rosters
     * being pushed): it would write over the restored one. */
    if (ctl_remote_query(c->conf.control_socket, "status", &out) !=
        CTL_REMOTE_DOWN) {
        fprintf(stderr,
                "xmppdctl: restore: xmppd is running (it answers "
                "on %s): stop it, and xmppd-muc, first\n",
                c->conf.control_socket);
        xd_buf_free(&out);
        return 1;
    }
    xd_buf_free(&out);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = restore_one(&dbs[i], argv[1]);
    return rc;
}
