/*
 * Unit tests for tls.c: the cipher policy (TLS 1.2 only with ECDHE key
 * exchange and AEAD ciphers; TLS 1.3 on) and the client's check of the
 * server's host name, with handshakes between two SSL objects in memory.
 * The certificate is self-signed for right.example, made by `openssl req`;
 * more for the choice by SNI (xd_tls_server_add, _add_dir, _default).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <xmppd/tls.h>

#include "check.h"

static char dir[] = "/tmp/xd-test-tls-XXXXXX";
static char cert[64], key[64];

/* A self-signed certificate for `name` (a DNS name, or a wildcard) in
 * cert_path, its key in key_path. */
static int
make_named(const char *name, const char *cert_path, const char *key_path)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
             "-nodes -days 2 -subj '/CN=%s' "
             "-addext 'subjectAltName=DNS:%s' "
             "-keyout '%s' -out '%s' >/dev/null 2>&1",
             name, name, key_path, cert_path);
    return system(cmd) == 0 ? 0 : -1;
}

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
 * both ends complete it, 0 when either gives up. c and s stay the
 * caller's. */
static int
handshake_run(SSL *c, SSL *s)
{
    BIO *cb = NULL, *sb = NULL;
    int done_c = 0, done_s = 0;

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
                break;
        }
        if (!done_s) {
            int rc = SSL_do_handshake(s);
            int e = SSL_get_error(s, rc);
            if (rc == 1)
                done_s = 1;
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                break;
        }
    }
    ERR_clear_error();
    return done_c && done_s;
}

/* As handshake_run, with what the client saw; takes c and s. */
static int
handshake(SSL *c, SSL *s, long *verify, char *cipher, size_t cipher_len,
          int *version)
{
    int ok = handshake_run(c, s);

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

/* The name of the certificate a client asking for `sni` (NULL: no SNI)
 * gets from sctx, in name (size bytes), or "(failed)"; *covers: whether
 * the server end says its certificate covers `to`. */
static void
served_name(SSL_CTX *sctx, const char *sni, const char *to, char *name,
            size_t size, int *covers)
{
    SSL_CTX *any = NULL;
    SSL *c, *s;

    snprintf(name, size, "(failed)");
    if (xd_tls_client_ctx(NULL, 0, &any) != 0)
        return;
    c = sni_client(any, sni);
    s = SSL_new(sctx);
    if (handshake_run(c, s)) {
        X509 *peer = SSL_get1_peer_certificate(c);
        if (peer != NULL)
            X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
                                      NID_commonName, name, (int)size);
        X509_free(peer);
        if (covers != NULL)
            *covers = xd_tls_server_presented(s, to);
    }
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(any);
}

/* SNI picks the certificate: exact names before wildcards, the default
 * for no name or a name no certificate covers. */
static void
test_sni(void)
{
    static const char *const names[] = { "a.example", "*.wild.example",
                                         "exact.wild.example" };
    char c[3][96], k[3][96], name[96];
    SSL_CTX *sctx = NULL;
    int covers;

    for (size_t i = 0; i < XD_NELEM(names); i++) {
        snprintf(c[i], sizeof(c[i]), "%s/sni%zu.crt", dir, i);
        snprintf(k[i], sizeof(k[i]), "%s/sni%zu.key", dir, i);
        CHECK(make_named(names[i], c[i], k[i]) == 0, "certificate for %s",
              names[i]);
    }
    CHECK(xd_tls_server_ctx(cert, key, &sctx) == 0, "default context");
    for (size_t i = 0; i < XD_NELEM(names); i++)
        CHECK(xd_tls_server_add(sctx, c[i], k[i]) == 0, "add %s", names[i]);
    CHECK(xd_tls_server_add(sctx, c[0], k[1]) != 0,
          "a key of another certificate is refused");

    served_name(sctx, "a.example", "a.example", name, sizeof(name), &covers);
    CHECK(strcmp(name, "a.example") == 0 && covers,
          "SNI a.example gets a.example's certificate (got %s)", name);
    served_name(sctx, "A.Example", "a.example", name, sizeof(name), NULL);
    CHECK(strcmp(name, "a.example") == 0, "names compare without case (got %s)",
          name);
    served_name(sctx, "x.wild.example", "x.wild.example", name, sizeof(name),
                &covers);
    CHECK(strcmp(name, "*.wild.example") == 0 && covers,
          "SNI x.wild.example gets the wildcard (got %s)", name);
    served_name(sctx, "exact.wild.example", NULL, name, sizeof(name), NULL);
    CHECK(strcmp(name, "exact.wild.example") == 0,
          "an exact name wins over a wildcard (got %s)", name);
    served_name(sctx, "a.b.wild.example", NULL, name, sizeof(name), NULL);
    CHECK(strcmp(name, "right.example") == 0,
          "a wildcard covers one label only (got %s)", name);
    served_name(sctx, "right.example", NULL, name, sizeof(name), NULL);
    CHECK(strcmp(name, "right.example") == 0,
          "the default's own name gets it (got %s)", name);
    served_name(sctx, "unknown.example", "unknown.example", name, sizeof(name),
                &covers);
    CHECK(strcmp(name, "right.example") == 0 && !covers,
          "an unknown name gets the default, which does not cover it "
          "(got %s)",
          name);
    served_name(sctx, NULL, "a.example", name, sizeof(name), &covers);
    CHECK(strcmp(name, "right.example") == 0 && !covers,
          "no SNI gets the default (got %s), which does not cover "
          "a.example",
          name);
    CHECK(xd_tls_server_covers(sctx, "a.example") &&
              xd_tls_server_covers(sctx, "right.example") &&
              xd_tls_server_covers(sctx, "y.wild.example") &&
              !xd_tls_server_covers(sctx, "b.example"),
          "xd_tls_server_covers knows every certificate");
    /* A handshake that began on a context outlives it: the table goes
     * with the last reference. */
    SSL *s = SSL_new(sctx);
    SSL_CTX_free(sctx);
    SSL_CTX *any = NULL;
    CHECK(xd_tls_client_ctx(NULL, 0, &any) == 0, "client context");
    SSL *cl = sni_client(any, "a.example");
    CHECK(handshake_run(cl, s), "a handshake after the context is freed");
    SSL_free(cl);
    SSL_free(s);
    SSL_CTX_free(any);
    for (size_t i = 0; i < XD_NELEM(names); i++) {
        unlink(c[i]);
        unlink(k[i]);
    }
}

/* A folder of certificates: NAME.crt + NAME.key, and NAME/fullchain.pem +
 * NAME/privkey.pem as Let's Encrypt's live/ folder has them; the default
 * chosen by host when no tls_cert is set. */
static void
test_dir(void)
{
    char d[96], sub[128], c1[160], k1[160], c2[160], k2[160], junk[160];
    char name[96];
    SSL_CTX *sctx = NULL;
    size_t n = 0;

    snprintf(d, sizeof(d), "%s/certs", dir);
    snprintf(sub, sizeof(sub), "%s/b.example", d);
    snprintf(c1, sizeof(c1), "%s/a.example.crt", d);
    snprintf(k1, sizeof(k1), "%s/a.example.key", d);
    snprintf(c2, sizeof(c2), "%s/fullchain.pem", sub);
    snprintf(k2, sizeof(k2), "%s/privkey.pem", sub);
    snprintf(junk, sizeof(junk), "%s/README", d);
    CHECK(mkdir(d, 0700) == 0 && mkdir(sub, 0700) == 0, "folders");
    CHECK(make_named("a.example", c1, k1) == 0 &&
              make_named("b.example", c2, k2) == 0,
          "certificates in the folder");
    FILE *f = fopen(junk, "w");
    if (f != NULL) {
        fputs("not a certificate\n", f);
        fclose(f);
    }
    CHECK(xd_tls_server_ctx(NULL, NULL, &sctx) == 0, "a context without one");
    CHECK(sctx != NULL && xd_tls_server_add_dir(sctx, d, &n) == 0 && n == 2,
          "two certificates found (%zu)", n);
    CHECK(xd_tls_server_default(sctx, "b.example") == 0,
          "b.example is the default");
    served_name(sctx, "a.example", NULL, name, sizeof(name), NULL);
    CHECK(strcmp(name, "a.example") == 0, "a.example.crt by SNI (got %s)",
          name);
    served_name(sctx, "b.example", NULL, name, sizeof(name), NULL);
    CHECK(strcmp(name, "b.example") == 0,
          "b.example/fullchain.pem by SNI (got %s)", name);
    served_name(sctx, NULL, NULL, name, sizeof(name), NULL);
    CHECK(strcmp(name, "b.example") == 0, "no SNI gets the default (got %s)",
          name);
    SSL_CTX_free(sctx);

    /* A certificate without its key is an error, not skipped. */
    sctx = NULL;
    unlink(k1);
    CHECK(xd_tls_server_ctx(NULL, NULL, &sctx) == 0 &&
              xd_tls_server_add_dir(sctx, d, &n) != 0,
          "a.example.crt without a.example.key is refused");
    SSL_CTX_free(sctx);
    CHECK(xd_tls_server_ctx(NULL, NULL, &sctx) == 0 &&
              xd_tls_server_default(sctx, NULL) == XD_ENOTFOUND,
          "no certificate at all: no default");
    SSL_CTX_free(sctx);
    unlink(c1);
    unlink(c2);
    unlink(k2);
    unlink(junk);
    rmdir(sub);
    rmdir(d);
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
    test_sni();
    test_dir();
    SSL_CTX_free(sctx);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    return check_report();
}
