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

/* A server context with the certificate chain and key in PEM files.
 * 0 and *out (SSL_CTX_free it), or XD_EIO logged with the file names. */
int xd_tls_server_ctx(const char *cert_file, const char *key_file,
                      struct ssl_ctx_st **out);
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

#ifdef __cplusplus
}
#endif
#endif
