/*
 * tls.c: OpenSSL contexts with the project's TLS policy: TLS 1.2 or newer,
 * no compression, no renegotiation, server cipher preference.
 */
#define XD_LOG_AREA "tls"
#include <openssl/err.h>
#include <openssl/ssl.h>

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

static SSL_CTX *
ctx_new(const SSL_METHOD *method)
{
    SSL_CTX *ctx = SSL_CTX_new(method);

    if (ctx == NULL)
        return NULL;
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
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    *out = ctx;
    return 0;
}
