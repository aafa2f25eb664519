/*
 * tls.c: OpenSSL contexts with the project's TLS policy: TLS 1.2 or newer,
 * on TLS 1.2 only ECDHE key exchange with AEAD ciphers, no compression, no
 * renegotiation, server cipher preference; clients that verify check the
 * server's host name as well as its chain.
 */
#define XD_LOG_AREA "tls"
#include <arpa/inet.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <xmppd/log.h>
#include <xmppd/tls.h>

static void
log_ssl_errors(const char *what)
{
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        xd_log_warnx("%s: %s", what, buf);
    }
}

/*
 * The TLS 1.2 suites of Mozilla's "intermediate" configuration without the
 * DHE ones (we configure no DH parameters): forward secrecy through ECDHE
 * and authenticated encryption only, so neither static RSA key exchange
 * nor CBC with HMAC-SHA1 or -SHA2. TLS 1.3 suites are all AEAD with
 * (EC)DHE: OpenSSL's defaults stay.
 */
#define TLS12_CIPHERS                                                          \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"               \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"               \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static SSL_CTX *
ctx_new(const SSL_METHOD *method)
{
    SSL_CTX *ctx = SSL_CTX_new(method);

    if (ctx == NULL)
        return NULL;
    if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

int
xd_tls_server_ctx(const char *cert_file, const char *key_file,
                  struct ssl_ctx_st **out)
{
    SSL_CTX *ctx = ctx_new(TLS_server_method());

    if (ctx == NULL) {
        log_ssl_errors("SSL_CTX_new");
        return XD_EIO;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        log_ssl_errors(cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_ssl_errors(key_file);
        goto fail;
    }
    *out = ctx;
    return 0;
fail:
    SSL_CTX_free(ctx);
    return XD_EIO;
}

/*
 * Verification callback of verifying clients: a chain that is valid proves
 * nothing unless it is for the host we wanted. At the leaf, a name set by
 * SSL_set1_host (or an address by its IP twin) was already checked by
 * OpenSSL; otherwise the SNI name the caller asked for (what
 * xd_stream_starttls sets) must match; with neither, verification fails.
 */
static int
verify_host(int ok, X509_STORE_CTX *store)
{
    if (!ok || X509_STORE_CTX_get_error_depth(store) != 0)
        return ok;
    SSL *ssl =
        X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    if (ssl == NULL)
        return ok;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    char *ip = X509_VERIFY_PARAM_get1_ip_asc(param);
    int checked = X509_VERIFY_PARAM_get0_host(param, 0) != NULL || ip != NULL;
    OPENSSL_free(ip);
    if (checked)
        return ok;
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (sni != NULL && cert != NULL &&
        X509_check_host(cert, sni, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                        NULL) == 1)
        return 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
    return 0;
}

int
xd_tls_client_ctx(const char *ca_file, int verify, struct ssl_ctx_st **out)
{
    SSL_CTX *ctx = ctx_new(TLS_client_method());

    if (ctx == NULL) {
        log_ssl_errors("SSL_CTX_new");
        return XD_EIO;
    }
    if (verify) {
        int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                         : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            log_ssl_errors(ca_file ? ca_file : "default CA store");
            SSL_CTX_free(ctx);
            return XD_EIO;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_host);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    *out = ctx;
    return 0;
}

int
xd_tls_client_new(struct ssl_ctx_st *ctx, const char *host, struct ssl_st **out)
{
    unsigned char addr[16];
    int is_ip = inet_pton(AF_INET, host, addr) == 1 ||
                inet_pton(AF_INET6, host, addr) == 1;
    SSL *ssl = SSL_new(ctx);

    if (ssl == NULL) {
        log_ssl_errors("SSL_new");
        return XD_EIO;
    }
    /* RFC 6066 3: SNI carries host names only, never address literals. */
    int ok = is_ip
                 ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
                 : SSL_set_tlsext_host_name(ssl, host) == 1 &&
                       SSL_set1_host(ssl, host) == 1;
    if (!ok) {
        log_ssl_errors(host);
        SSL_free(ssl);
        return XD_EINVAL;
    }
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    *out = ssl;
    return 0;
}
