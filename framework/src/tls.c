/*
 * tls.c: OpenSSL contexts with the project's TLS policy: TLS 1.2 or newer,
 * on TLS 1.2 only ECDHE key exchange with AEAD ciphers, no compression, no
 * renegotiation, server cipher preference; clients that verify check the
 * server's host name as well as its chain. A server context may carry more
 * certificates than its own, chosen by the name the client asks for (SNI).
 */
#define XD_LOG_AREA "tls"
#include <arpa/inet.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Loads a chain and key into ctx; 0 or XD_EIO logged with the files. */
static int
use_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        log_ssl_errors(cert_file);
        return XD_EIO;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_ssl_errors(key_file);
        return XD_EIO;
    }
    return 0;
}

/*
 * The certificates a server context may present besides its own, each in
 * a context of its own that the SNI callback switches the SSL to. The
 * table lives in the server context's ex_data and goes with its last
 * reference: an SSL made before a reload replaced the context still finds
 * it when its ClientHello arrives.
 */
struct sni_table {
    SSL_CTX **ctx;
    size_t n, cap;
};

static int sni_index = -1;
static pthread_once_t sni_once = PTHREAD_ONCE_INIT;

static void
sni_table_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
               void *argp)
{
    struct sni_table *t = ptr;

    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        SSL_CTX_free(t->ctx[i]);
    free(t->ctx);
    free(t);
}

/* The ex_data slot is the one process-wide value here, set once. */
static void
sni_index_init(void)
{
    sni_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, sni_table_free);
}

static struct sni_table *
sni_table_of(SSL_CTX *ctx)
{
    pthread_once(&sni_once, sni_index_init);
    return sni_index < 0 ? NULL : SSL_CTX_get_ex_data(ctx, sni_index);
}

/* 1 when cert names host: exactly (exact) or through a wildcard of one
 * whole label. */
static int
cert_covers(X509 *cert, const char *host, int exact)
{
    unsigned flags = exact ? X509_CHECK_FLAG_NO_WILDCARDS
                           : X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;

    return cert != NULL && host != NULL &&
           X509_check_host(cert, host, 0, flags, NULL) == 1;
}

/* The context whose certificate covers host, exact names first, the
 * server's own before the added ones; NULL when none does. */
static SSL_CTX *
sni_pick(SSL_CTX *ctx, const struct sni_table *t, const char *host)
{
    for (int exact = 1; exact >= 0; exact--) {
        if (cert_covers(SSL_CTX_get0_certificate(ctx), host, exact))
            return ctx;
        for (size_t i = 0; t != NULL && i < t->n; i++)
            if (cert_covers(SSL_CTX_get0_certificate(t->ctx[i]), host, exact))
                return t->ctx[i];
    }
    return NULL;
}

/* The ClientHello's server name chooses the certificate; no name, or one
 * no certificate covers, keeps the server's own. */
static int
sni_cb(SSL *ssl, int *alert, void *arg)
{
    SSL_CTX *ctx = arg;
    const char *host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

    (void)alert;
    if (host == NULL)
        return SSL_TLSEXT_ERR_NOACK;
    SSL_CTX *pick = sni_pick(ctx, sni_table_of(ctx), host);
    if (pick == NULL)
        return SSL_TLSEXT_ERR_NOACK;
    if (pick != ctx && SSL_set_SSL_CTX(ssl, pick) == NULL)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    return SSL_TLSEXT_ERR_OK;
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
    if ((cert_file != NULL || key_file != NULL) &&
        (cert_file == NULL || key_file == NULL ||
         use_pair(ctx, cert_file, key_file) != 0)) {
        SSL_CTX_free(ctx);
        return XD_EIO;
    }
    SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
    SSL_CTX_set_tlsext_servername_arg(ctx, ctx);
    *out = ctx;
    return 0;
}

int
xd_tls_server_add(struct ssl_ctx_st *ctx, const char *cert_file,
                  const char *key_file)
{
    struct sni_table *t = sni_table_of(ctx);
    SSL_CTX *one;

    if (sni_index < 0)
        return XD_EIO;
    if (t == NULL) {
        t = xd_xcalloc(1, sizeof(*t));
        if (SSL_CTX_set_ex_data(ctx, sni_index, t) != 1) {
            free(t);
            return XD_EIO;
        }
    }
    if ((one = ctx_new(TLS_server_method())) == NULL) {
        log_ssl_errors("SSL_CTX_new");
        return XD_EIO;
    }
    if (use_pair(one, cert_file, key_file) != 0) {
        SSL_CTX_free(one);
        return XD_EIO;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4;
        t->ctx = xd_xrealloc(t->ctx, t->cap * sizeof(*t->ctx));
    }
    t->ctx[t->n++] = one;
    return 0;
}

static int
is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int
is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a folder, sorted, without dot files; NULL-terminated,
 * the caller frees each and the array. NULL when it cannot be read. */
static char **
list_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;

    if (d == NULL)
        return NULL;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 16;
            v = xd_xrealloc(v, cap * sizeof(*v));
        }
        v[n++] = xd_xstrdup(e->d_name);
    }
    closedir(d);
    if (v == NULL)
        v = xd_xcalloc(1, sizeof(*v));
    qsort(v, n, sizeof(*v), by_name);
    v[n] = NULL;
    *count = n;
    return v;
}

/* One folder's pairs (see xd_tls_server_add_dir); `live` below it is
 * looked into once (depth 0 only). */
static int
add_dir(SSL_CTX *ctx, const char *dir, int depth, size_t *added)
{
    size_t n = 0;
    char **names = list_dir(dir, &n);
    int rc = 0;

    if (names == NULL) {
        xd_log_warn("certificate folder %s", dir);
        return XD_EIO;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name = names[i];
        size_t len = strlen(name);
        char *path = xd_xasprintf("%s/%s", dir, name);
        char *cert = NULL, *key = NULL;

        if (len > 4 && strcmp(name + len - 4, ".crt") == 0 && is_file(path)) {
            cert = xd_xstrdup(path);
            key = xd_xasprintf("%s/%.*s.key", dir, (int)(len - 4), name);
        } else if (is_dir(path)) {
            cert = xd_xasprintf("%s/fullchain.pem", path);
            key = xd_xasprintf("%s/privkey.pem", path);
            if (!is_file(cert)) {
                free(cert);
                free(key);
                cert = key = NULL;
                if (depth == 0 && strcmp(name, "live") == 0)
                    rc = add_dir(ctx, path, 1, added);
            }
        }
        if (cert != NULL && !is_file(key)) {
            xd_log_warnx("%s: no key beside it (%s)", cert, key);
            rc = XD_EIO;
        } else if (cert != NULL &&
                   (rc = xd_tls_server_add(ctx, cert, key)) == 0) {
            xd_log_debug("certificate %s, key %s", cert, key);
            (*added)++;
        }
        free(cert);
        free(key);
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int
xd_tls_server_add_dir(struct ssl_ctx_st *ctx, const char *dir, size_t *added)
{
    *added = 0;
    return add_dir(ctx, dir, 0, added);
}

int
xd_tls_server_default(struct ssl_ctx_st *ctx, const char *host)
{
    struct sni_table *t = sni_table_of(ctx);

    if (SSL_CTX_get0_certificate(ctx) != NULL)
        return 0;
    if (t == NULL || t->n == 0)
        return XD_ENOTFOUND;
    SSL_CTX *pick = host != NULL ? sni_pick(ctx, t, host) : NULL;
    if (pick == NULL)
        pick = t->ctx[0];
    STACK_OF(X509) *chain = NULL;
    SSL_CTX_get0_chain_certs(pick, &chain);
    if (SSL_CTX_use_certificate(ctx, SSL_CTX_get0_certificate(pick)) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, SSL_CTX_get0_privatekey(pick)) != 1 ||
        SSL_CTX_set1_chain(ctx, chain) != 1) {
        log_ssl_errors("default certificate");
        return XD_EIO;
    }
    return 0;
}

int
xd_tls_server_covers(struct ssl_ctx_st *ctx, const char *host)
{
    return sni_pick(ctx, sni_table_of(ctx), host) != NULL;
}

int
xd_tls_server_presented(const struct ssl_st *ssl, const char *host)
{
    X509 *cert = SSL_get_certificate(ssl);

    return cert_covers(cert, host, 0);
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
