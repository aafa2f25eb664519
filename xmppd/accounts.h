/*
 * accounts.h: account storage. For each account (host, user) it keeps
 * SCRAM-SHA-1 and SCRAM-SHA-256 credentials: salt, iteration count, stored
 * key and server key. Never the password. `host` and `user` must already be
 * prepared (xd_jid_prep_domain, xd_jid_prep_local); passwords are SASLprep-ed
 * here. All functions run one short indexed query and never block longer.
 */
#ifndef XMPPD_ACCOUNTS_H
#define XMPPD_ACCOUNTS_H

#include <xmppd/db.h>
#include <xmppd/scram.h>

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
