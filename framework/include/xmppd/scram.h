/*
 * scram.h: SCRAM (RFC 5802, RFC 7677) for SHA-1 and SHA-256, both sides,
 * without channel binding (gs2 "n" and "y" flags). Messages in and out are
 * the decoded SASL payloads (not base64). Never blocks, but the key
 * derivation costs `iterations` HMACs: call it once per account change.
 */
#ifndef XMPPD_SCRAM_H
#define XMPPD_SCRAM_H

#include <stddef.h>
#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum xd_scram_hash { XD_SCRAM_SHA1, XD_SCRAM_SHA256 } xd_scram_hash;

#define XD_SCRAM_MAX_HASH           32 /* bytes of the largest digest */
#define XD_SCRAM_ITERATIONS_DEFAULT 4096

/* Digest length in bytes (20 or 32). */
size_t xd_scram_hash_len(xd_scram_hash h);
/* The SASL mechanism name ("SCRAM-SHA-1", "SCRAM-SHA-256"). */
const char *xd_scram_mech_name(xd_scram_hash h);

/* What a server stores for an account: never the password. */
typedef struct xd_scram_creds {
    unsigned char salt[32];
    size_t salt_len;
    unsigned iterations;
    unsigned char stored_key[XD_SCRAM_MAX_HASH];
    unsigned char server_key[XD_SCRAM_MAX_HASH];
} xd_scram_creds;

/* Derives stored and server keys from a (SASLprep-ed) password. salt NULL
 * makes a random 16-byte salt. 0 or XD_EINVAL. */
int xd_scram_creds_make(xd_scram_hash h, const char *password,
                        const unsigned char *salt, size_t salt_len,
                        unsigned iterations, xd_scram_creds *out);

/* Server side of one exchange. */
typedef struct xd_scram_server xd_scram_server;

/* Starts an exchange; `nonce` NULL makes a random server nonce part (tests
 * pass the RFC's). The caller owns the result. */
xd_scram_server *xd_scram_server_new(xd_scram_hash h, const char *nonce);
/* Takes the client-first-message. Returns 0 and the authentication identity
 * (the n= username, unescaped =2C/=3D; borrowed, lives with s) in *username,
 * or XD_EPROTO for a malformed message. */
int xd_scram_server_client_first(xd_scram_server *s, const char *msg,
                                 size_t len, const char **username);
/* Supplies the account's credentials (for an unknown account, pass NULL: a
 * plausible exchange follows and fails at the proof, so accounts can't be
 * enumerated) and returns the server-first-message; the caller frees it.
 * NULL when called out of order (not right after a successful
 * xd_scram_server_client_first). */
char *xd_scram_server_first(xd_scram_server *s, const xd_scram_creds *creds);
/* The iteration count shown for an unknown account (default
 * XD_SCRAM_ITERATIONS_DEFAULT). Set it to the count new accounts get
 * (config scram_iterations) so that unknown accounts do not stand out.
 * Call before xd_scram_server_first; 0 is ignored. */
void xd_scram_server_set_fake_iterations(xd_scram_server *s,
                                         unsigned iterations);
/* Takes the client-final-message. Returns 0 and the server-final-message
 * ("v=…", caller frees) in *server_final when the proof is right,
 * XD_EAUTH when it is wrong (or the account was unknown), XD_EPROTO when the
 * message is malformed or the nonce does not match. */
int xd_scram_server_client_final(xd_scram_server *s, const char *msg,
                                 size_t len, char **server_final);
void xd_scram_server_free(xd_scram_server *s); /* NULL is a no-op */

/* Client side (load generator, tests). */
typedef struct xd_scram_client xd_scram_client;
/* nonce NULL: random. The caller owns the result. */
xd_scram_client *xd_scram_client_new(xd_scram_hash h, const char *username,
                                     const char *password, const char *nonce);
/* The client-first-message; the caller frees it. */
char *xd_scram_client_first(xd_scram_client *c);
/* Takes the server-first-message; returns 0 and the client-final-message
 * (caller frees) in *client_final, or XD_EPROTO. */
int xd_scram_client_final(xd_scram_client *c, const char *server_first,
                          size_t len, char **client_final);
/* Checks the server-final-message: 0, or XD_EAUTH. */
int xd_scram_client_verify(xd_scram_client *c, const char *server_final,
                           size_t len);
/* Frees the client state; NULL is a no-op. */
void xd_scram_client_free(xd_scram_client *c);

#ifdef __cplusplus
}
#endif
#endif
