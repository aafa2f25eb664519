/*
 * Unit tests for tls.c: the cipher policy (TLS 1.2 only with ECDHE key
 * exchange and AEAD ciphers; TLS 1.3 on) and the client's check of the
 * server's host name, with handshakes between two SSL objects in memory.
 * The certificate is self-signed for right.example, made by `openssl req`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <xmppd/tls.h>

#include "check.h"

static char dir[] = "/tmp/xd-test-tls-XXXXXX";
static char cert[64], key[64];

static int
make_cert(void)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
             "-subj /CN=right.example "
             "-addext subjectAltName=DNS:right.example "
             "-keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs a handshake between client c and server s over a BIO pair; 1 when
 * both ends complete it, 0 when either gives up. Takes c and s. */
static int
handshake(SSL *c, SSL *s, long *verify, char *cipher, size_t cipher_len,
          int *version)
{
    BIO *cb = NULL, *sb = NULL;
    int done_c = 0, done_s = 0, ok = 0;

    BIO_new_bio_pair(&cb, 0, &sb, 0);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    for (int i = 0; i < 100 && !(done_c && done_s); i++) {
        if (!done_c) {
            int rc = SSL_do_handshake(c);
            int e = SSL_get_error(c, rc);
            if (rc == 1)
                done_c = 1;
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                goto out;
        }
        if (!done_s) {
            int rc = SSL_do_handshake(s);
            int e = SSL_get_error(s, rc);
            if (rc == 1)
                done_s = 1;
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                goto out;
        }
    }
    ok = done_c && done_s;
out:
    if (verify)
        *verify = SSL_get_verify_result(c);
    if (cipher)
        snprintf(cipher, cipher_len, "%s",
                 ok ? SSL_get_cipher_name(c) : "(none)");
    if (version)
        *version = ok ? SSL_version(c) : 0;
    SSL_free(c);
    SSL_free(s);
    ERR_clear_error();
    return ok;
}

/* A client that offers only `ciphers` (TLS 1.2 list; NULL: default) with
 * TLS 1.2 at most unless tls13, and checks no certificate: what an old or
 * a hostile client would offer. */
static SSL *
probe_client(const char *ciphers, int tls13)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl;

    SSL_CTX_set_security_level(ctx, 0);
    if (!tls13)
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    if (ciphers != NULL && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
        fprintf(stderr, "this OpenSSL cannot offer %s\n", ciphers);
        exit(1);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the SSL holds its own reference */
    return ssl;
}

static void
test_ciphers(SSL_CTX *sctx)
{
    static const struct {
        const char *offer; /* TLS 1.2 cipher list the client offers */
        int ok;
    } cases[] = {
        { "AES128-SHA", 0 },                  /* static RSA, CBC, SHA-1 */
        { "AES256-GCM-SHA384", 0 },           /* static RSA, AEAD */
        { "ECDHE-RSA-AES128-SHA", 0 },        /* ECDHE, CBC, SHA-1 */
        { "ECDHE-RSA-AES256-SHA384", 0 },     /* ECDHE, CBC */
        { "ECDHE-RSA-AES128-GCM-SHA256", 1 }, /* ECDHE, AEAD */
        { "ECDHE-RSA-AES256-GCM-SHA384", 1 },
        { "ECDHE-RSA-CHACHA20-POLY1305", 1 },
    };
    char cipher[64];
    int version;

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        int ok = handshake(probe_client(cases[i].offer, 0), SSL_new(sctx), NULL,
                           cipher, sizeof(cipher), &version);
        CHECK(ok == cases[i].ok, "case %zu: TLS 1.2 with %s %s (got %s)", i,
              cases[i].offer, cases[i].ok ? "works" : "is refused", cipher);
    }
    int ok = handshake(probe_client(NULL, 1), SSL_new(sctx), NULL, cipher,
                       sizeof(cipher), &version);
    CHECK(ok && version == TLS1_3_VERSION,
          "TLS 1.3 stays on (got %s, version %x)", cipher, version);
    ok = handshake(probe_client(NULL, 0), SSL_new(sctx), NULL, cipher,
                   sizeof(cipher), &version);
    CHECK(ok && version == TLS1_2_VERSION && strstr(cipher, "ECDHE") &&
              (strstr(cipher, "GCM") || strstr(cipher, "CHACHA")),
          "a default TLS 1.2 client gets ECDHE with AEAD (got %s)", cipher);
}

/* A client SSL of ctx asking for host by SNI only (as xd_stream_starttls
 * does), or none when host is NULL. */
static SSL *
sni_client(SSL_CTX *ctx, const char *host)
{
    SSL *ssl = SSL_new(ctx);

    if (host != NULL)
        SSL_set_tlsext_host_name(ssl, host);
    return ssl;
}

static void
test_host_names(SSL_CTX *sctx)
{
    SSL_CTX *cctx = NULL, *any = NULL;
    SSL *c;
    long verify;

    CHECK(xd_tls_client_ctx(cert, 1, &cctx) == 0, "verifying client context");
    CHECK(handshake(sni_client(cctx, "right.example"), SSL_new(sctx), &verify,
                    NULL, 0, NULL) &&
              verify == X509_V_OK,
          "the certificate's own name is accepted (verify %ld)", verify);
    CHECK(!handshake(sni_client(cctx, "wrong.example"), SSL_new(sctx), &verify,
                     NULL, 0, NULL) &&
              verify == X509_V_ERR_HOSTNAME_MISMATCH,
          "a valid chain for another name is refused (verify %ld)", verify);
    CHECK(!handshake(sni_client(cctx, NULL), SSL_new(sctx), &verify, NULL, 0,
                     NULL),
          "no expected name at all is refused (verify %ld)", verify);

    c = NULL;
    CHECK(xd_tls_client_new(cctx, "right.example", &c) == 0 && c != NULL &&
              handshake(c, SSL_new(sctx), &verify, NULL, 0, NULL) &&
              verify == X509_V_OK,
          "xd_tls_client_new with the right name (verify %ld)", verify);
    c = NULL;
    CHECK(xd_tls_client_new(cctx, "wrong.example", &c) == 0 && c != NULL &&
              !handshake(c, SSL_new(sctx), &verify, NULL, 0, NULL) &&
              verify == X509_V_ERR_HOSTNAME_MISMATCH,
          "xd_tls_client_new with another name (verify %ld)", verify);
    c = NULL;
    CHECK(xd_tls_client_new(cctx, "sub.right.example", &c) == 0 &&
              !handshake(c, SSL_new(sctx), &verify, NULL, 0, NULL),
          "a sub-domain is not the name (verify %ld)", verify);

    /* verify 0 (loopback tests) still accepts anything. */
    CHECK(xd_tls_client_ctx(NULL, 0, &any) == 0 &&
              handshake(sni_client(any, "wrong.example"), SSL_new(sctx), NULL,
                        NULL, 0, NULL),
          "a non-verifying client accepts any name");
    SSL_CTX_free(cctx);
    SSL_CTX_free(any);
}

int
main(void)
{
    SSL_CTX *sctx = NULL;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    CHECK(make_cert() == 0, "openssl req made a certificate");
    CHECK(xd_tls_server_ctx(cert, key, &sctx) == 0, "server context");
    if (sctx != NULL) {
        test_ciphers(sctx);
        test_host_names(sctx);
    }
    SSL_CTX_free(sctx);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    return check_report();
}
