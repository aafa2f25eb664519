/*
 * tls.h: OpenSSL contexts for streams (TLS 1.2 minimum, as RFC 7590 asks).
 * TLS 1.2 is limited to ECDHE key exchange with AEAD ciphers (Mozilla's
 * "intermediate" suites without DHE); TLS 1.3 keeps OpenSSL's suites.
 */
#ifndef XMPPD_TLS_H
#define XMPPD_TLS_H

#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ssl_ctx_st;

/* A server context with the certificate chain and key in PEM files, its
 * own: what a client gets that asks for no name (SNI) or a name no other
 * certificate of the context covers. Both NULL: none yet (add some, then
 * call xd_tls_server_default). 0 and *out (SSL_CTX_free it; certificates
 * added go with it), or XD_EIO logged with the file names. */
int xd_tls_server_ctx(const char *cert_file, const char *key_file,
                      struct ssl_ctx_st **out);
/* Adds a certificate (chain and key in PEM files) to server context ctx:
 * a client whose SNI names a host it covers gets it. Exact names win over
 * wildcards (one whole label, `*.example.org`), and the context's own
 * certificate over added ones. 0, or XD_EIO logged with the file names. */
int xd_tls_server_add(struct ssl_ctx_st *ctx, const char *cert_file,
                      const char *key_file);
/* Adds every certificate in folder dir, in name order: NAME.crt with
 * NAME.key, and NAME/fullchain.pem with NAME/privkey.pem (Let's Encrypt's
 * live/ folder, or a copy), also under dir/live/. Other files are skipped;
 * a certificate without its key is an error. *added: how many were added.
 * 0, or XD_EIO logged with the path (what was added before stays). */
int xd_tls_server_add_dir(struct ssl_ctx_st *ctx, const char *dir,
                          size_t *added);
/* Gives ctx, made without a certificate of its own, the added one that
 * covers host (or the first added when host is NULL or none covers it).
 * 0 (also when ctx had its own), XD_ENOTFOUND when nothing was added, or
 * XD_EIO. */
int xd_tls_server_default(struct ssl_ctx_st *ctx, const char *host);
/* 1 when a certificate of server context ctx, its own or added, covers
 * host; else 0. */
int xd_tls_server_covers(struct ssl_ctx_st *ctx, const char *host);
/* A client context; ca_file NULL uses the system store; verify 0 accepts
 * any certificate (loopback tests only). With verify the server's
 * certificate must be valid AND name the expected host: the one given to
 * xd_tls_client_new, or else the SNI name set on the SSL (the `sni` of
 * xd_stream_starttls); a handshake with neither fails. 0 and *out (the
 * caller frees it with SSL_CTX_free), or XD_EIO. */
int xd_tls_client_ctx(const char *ca_file, int verify, struct ssl_ctx_st **out);

struct ssl_st;
/* A client SSL of ctx for a server that must prove it is `host` (a DNS
 * name, sent as SNI, no partial wildcards; or an IP address literal,
 * checked against the certificate's addresses). 0 and *out (SSL_free it),
 * XD_EINVAL for a name OpenSSL refuses, or XD_EIO. Never blocks. */
int xd_tls_client_new(struct ssl_ctx_st *ctx, const char *host,
                      struct ssl_st **out);
/* 1 when the certificate the server end ssl presents (after SNI chose)
 * covers host, a wildcard included; else 0. */
int xd_tls_server_presented(const struct ssl_st *ssl, const char *host);

#ifdef __cplusplus
}
#endif
#endif
