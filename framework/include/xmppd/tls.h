/*
 * tls.h: OpenSSL contexts for streams (TLS 1.2 minimum, as RFC 7590 asks).
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
 * any certificate (loopback tests only). 0 and *out, or XD_EIO. */
int xd_tls_client_ctx(const char *ca_file, int verify, struct ssl_ctx_st **out);

#ifdef __cplusplus
}
#endif
#endif
