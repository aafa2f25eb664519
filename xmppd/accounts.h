/*
 * accounts.h: account storage. For each account (host, user) it keeps
 * SCRAM-SHA-1 and SCRAM-SHA-256 credentials: salt, iteration count, stored
 * key and server key. Never the password. `host` and `user` must already be
 * prepared (xd_jid_prep_domain, xd_jid_prep_local); passwords are SASLprep-ed
 * here. All functions but accounts_create, accounts_set_password and
 * accounts_check_password (which derive keys) run short indexed queries and
 * never block longer.
 */
#ifndef XMPPD_ACCOUNTS_H
#define XMPPD_ACCOUNTS_H

#include <xmppd/db.h>
#include <xmppd/scram.h>

/* The mechanisms every account has credentials for, in the order
 * accounts_store takes them. */
#define ACCOUNTS_MECHS 2
extern const xd_scram_hash accounts_mechs[ACCOUNTS_MECHS];

/* SASLprep (RFC 4013) of a password, before keys are derived from it: 0
 * and *out (the caller wipes and frees it), or XD_EINVAL (empty or
 * unpreparable). */
int accounts_prepare_password(const char *password, char **out);
/* Writes credentials derived elsewhere (kdf_worker.c), one per
 * accounts_mechs entry: of a new account (create: XD_EEXIST when it is
 * there already) or of an existing one (XD_ENOTFOUND when it is not).
 * 0, XD_EEXIST, XD_ENOTFOUND, XD_EIO. */
int accounts_store(xd_db *db, const char *host, const char *user,
                   const xd_scram_creds creds[ACCOUNTS_MECHS], int create);
/* accounts_create and accounts_set_password derive the keys themselves
 * (scram_iterations HMACs per mechanism): for xmppdctl, not the loop. */
/* 0, XD_EEXIST (already there), XD_EINVAL (empty or unpreparable
 * password), XD_EIO. */
int accounts_create(xd_db *db, const char *host, const char *user,
                    const char *password, unsigned iterations);
/* 0, XD_ENOTFOUND, XD_EINVAL, XD_EIO. */
int accounts_set_password(xd_db *db, const char *host, const char *user,
                          const char *password, unsigned iterations);
/* 0, XD_ENOTFOUND, XD_EIO. */
int accounts_delete(xd_db *db, const char *host, const char *user);
/* 1 if it exists, 0 if not, XD_EIO. */
int accounts_exists(xd_db *db, const char *host, const char *user);
/* Fills *out with the account's credentials for h: 0, XD_ENOTFOUND,
 * XD_EIO. */
int accounts_get_scram(xd_db *db, const char *host, const char *user,
                       xd_scram_hash h, xd_scram_creds *out);
/* For SASL PLAIN: derives a key from password with the stored SCRAM-SHA-256
 * salt and compares in constant time. 0, XD_EAUTH, XD_ENOTFOUND, XD_EIO. */
int accounts_check_password(xd_db *db, const char *host, const char *user,
                            const char *password);
/* Calls fn for every account of host (NULL: all hosts), sorted. 0 or
 * XD_EIO. */
int accounts_list(xd_db *db, const char *host,
                  void (*fn)(const char *host, const char *user, void *arg),
                  void *arg);

#endif
