/*
 * accounts.c: accounts and their SCRAM credentials in SQLite.
 */
#define XD_LOG_AREA "accounts"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>
#include <stringprep.h>

#include <xmppd/log.h>

#include "accounts.h"

const xd_scram_hash accounts_mechs[ACCOUNTS_MECHS] = { XD_SCRAM_SHA1,
                                                       XD_SCRAM_SHA256 };

/* SASLprep (RFC 4013) as RFC 5802 asks; the caller frees *out. */
int
accounts_prepare_password(const char *password, char **out)
{
    char *p = NULL;

    if (password == NULL || *password == '\0' ||
        stringprep_profile(password, &p, "SASLprep", 0) != STRINGPREP_OK ||
        *p == '\0') {
        free(p);
        return XD_EINVAL;
    }
    *out = p;
    return 0;
}

static int
step_done(xd_db *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_DONE)
        return 0;
    xd_log_warnx("%s", sqlite3_errmsg(xd_db_handle(db)));
    return XD_EIO;
}

static int
store_creds(xd_db *db, const char *host, const char *user,
            const xd_scram_creds creds[ACCOUNTS_MECHS])
{
    sqlite3_stmt *st;

    for (size_t i = 0; i < ACCOUNTS_MECHS; i++) {
        const xd_scram_creds *c = &creds[i];
        size_t hl = xd_scram_hash_len(accounts_mechs[i]);
        if (xd_db_prepare(db,
                          "INSERT OR REPLACE INTO scram_credentials (host, "
                          "user, mechanism, salt, iterations, stored_key, "
                          "server_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          &st) != 0)
            return XD_EIO;
        sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, xd_scram_mech_name(accounts_mechs[i]), -1,
                          SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, c->salt, (int)c->salt_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, (int)c->iterations);
        sqlite3_bind_blob(st, 6, c->stored_key, (int)hl, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, c->server_key, (int)hl, SQLITE_STATIC);
        if (step_done(db, st) != 0)
            return XD_EIO;
    }
    return 0;
}

int
accounts_exists(xd_db *db, const char *host, const char *user)
{
    sqlite3_stmt *st;

    if (xd_db_prepare(db, "SELECT 1 FROM accounts WHERE host = ? AND user = ?",
                      &st) != 0)
        return XD_EIO;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : XD_EIO;
}

int
accounts_store(xd_db *db, const char *host, const char *user,
               const xd_scram_creds creds[ACCOUNTS_MECHS], int create)
{
    sqlite3_stmt *st;
    int rc;

    if (xd_db_begin(db) != 0)
        return XD_EIO;
    rc = accounts_exists(db, host, user);
    if (rc < 0)
        goto fail;
    if (create && rc == 1) {
        rc = XD_EEXIST;
        goto fail;
    }
    if (!create && rc == 0) {
        rc = XD_ENOTFOUND;
        goto fail;
    }
    if (create) {
        if ((rc = xd_db_prepare(db,
                                "INSERT INTO accounts (host, user, created) "
                                "VALUES (?, ?, ?)",
                                &st)) != 0)
            goto fail;
        sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
        if ((rc = step_done(db, st)) != 0)
            goto fail;
    }
    if ((rc = store_creds(db, host, user, creds)) != 0 ||
        (rc = xd_db_commit(db)) != 0)
        goto fail;
    return 0;
fail:
    xd_db_rollback(db);
    return rc;
}

/* Derives the credentials here, on the caller's thread (xmppdctl). */
static int
write_account(xd_db *db, const char *host, const char *user,
              const char *password, unsigned iterations, int create)
{
    xd_scram_creds creds[ACCOUNTS_MECHS];
    char *prepped = NULL;
    int rc;

    if ((rc = accounts_prepare_password(password, &prepped)) != 0)
        return rc;
    for (size_t i = 0; i < ACCOUNTS_MECHS && rc == 0; i++)
        if (xd_scram_creds_make(accounts_mechs[i], prepped, NULL, 0, iterations,
                                &creds[i]) != 0)
            rc = XD_EINVAL;
    explicit_bzero(prepped, strlen(prepped));
    free(prepped);
    if (rc == 0)
        rc = accounts_store(db, host, user, creds, create);
    explicit_bzero(creds, sizeof(creds));
    return rc;
}

int
accounts_create(xd_db *db, const char *host, const char *user,
                const char *password, unsigned iterations)
{
    return write_account(db, host, user, password, iterations, 1);
}

int
accounts_set_password(xd_db *db, const char *host, const char *user,
                      const char *password, unsigned iterations)
{
    return write_account(db, host, user, password, iterations, 0);
}

int
accounts_delete(xd_db *db, const char *host, const char *user)
{
    sqlite3_stmt *st;

    if (xd_db_prepare(db, "DELETE FROM accounts WHERE host = ? AND user = ?",
                      &st) != 0)
        return XD_EIO;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    if (step_done(db, st) != 0)
        return XD_EIO;
    return sqlite3_changes(xd_db_handle(db)) > 0 ? 0 : XD_ENOTFOUND;
}

int
accounts_get_scram(xd_db *db, const char *host, const char *user,
                   xd_scram_hash h, xd_scram_creds *out)
{
    sqlite3_stmt *st;
    size_t hl = xd_scram_hash_len(h);

    if (xd_db_prepare(db,
                      "SELECT salt, iterations, stored_key, server_key FROM "
                      "scram_credentials WHERE host = ? AND user = ? AND "
                      "mechanism = ?",
                      &st) != 0)
        return XD_EIO;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, xd_scram_mech_name(h), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? XD_ENOTFOUND : XD_EIO;
    }
    memset(out, 0, sizeof(*out));
    size_t salt_len = (size_t)sqlite3_column_bytes(st, 0);
    if (salt_len > sizeof(out->salt) ||
        (size_t)sqlite3_column_bytes(st, 2) != hl ||
        (size_t)sqlite3_column_bytes(st, 3) != hl) {
        sqlite3_reset(st);
        xd_log_warnx("corrupt credentials for %s@%s", user, host);
        return XD_EIO;
    }
    memcpy(out->salt, sqlite3_column_blob(st, 0), salt_len);
    out->salt_len = salt_len;
    out->iterations = (unsigned)sqlite3_column_int(st, 1);
    memcpy(out->stored_key, sqlite3_column_blob(st, 2), hl);
    memcpy(out->server_key, sqlite3_column_blob(st, 3), hl);
    sqlite3_reset(st);
    return 0;
}

int
accounts_check_password(xd_db *db, const char *host, const char *user,
                        const char *password)
{
    xd_scram_creds stored, given;
    char *prepped = NULL;
    int rc = accounts_get_scram(db, host, user, XD_SCRAM_SHA256, &stored);

    if (rc != 0)
        return rc;
    if (accounts_prepare_password(password, &prepped) != 0)
        return XD_EAUTH;
    rc = xd_scram_creds_make(XD_SCRAM_SHA256, prepped, stored.salt,
                             stored.salt_len, stored.iterations, &given);
    explicit_bzero(prepped, strlen(prepped));
    free(prepped);
    if (rc != 0)
        return XD_EAUTH;
    return xd_memeq_ct(given.stored_key, stored.stored_key,
                       xd_scram_hash_len(XD_SCRAM_SHA256)) == 0
               ? 0
               : XD_EAUTH;
}

int
accounts_list(xd_db *db, const char *host,
              void (*fn)(const char *host, const char *user, void *arg),
              void *arg)
{
    sqlite3_stmt *st;
    int rc;

    if (xd_db_prepare(db,
                      "SELECT host, user FROM accounts WHERE ?1 IS NULL OR "
                      "host = ?1 ORDER BY host, user",
                      &st) != 0)
        return XD_EIO;
    if (host != NULL)
        sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn((const char *)sqlite3_column_text(st, 0),
           (const char *)sqlite3_column_text(st, 1), arg);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : XD_EIO;
}
