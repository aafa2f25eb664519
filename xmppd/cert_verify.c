/*
 * cert_verify.c: the certificate a federation peer presents (RFC 6120
 * 13.7.2, RFC 6125, RFC 7590). Its chain must lead to a trusted CA (the
 * system's store, or s2s_ca_file) and it must name the peer's domain as a
 * DNS-ID (a wildcard only as the whole left-most label). A valid
 * certificate lets the peer use SASL EXTERNAL (XEP-0178); s2s_secure_auth
 * requires one of every domain but those of s2s_insecure_domains. SRV-IDs
 * and XmppAddr identities are not read yet: DNS-IDs are what public CAs
 * issue.
 */
#define XD_LOG_AREA "s2s"
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <xmppd/log.h>

#include "router.h"

int
s2s_cert_init(struct router *r)
{
    X509_STORE *st = X509_STORE_new();
    const char *ca = r->conf.s2s_ca_file;

    if (st == NULL)
        return XD_EIO;
    if (ca != NULL ? X509_STORE_load_locations(st, ca, NULL) != 1
                   : X509_STORE_set_default_paths(st) != 1) {
        xd_log_warnx("s2s: cannot load the CA certificates of %s",
                     ca != NULL ? ca : "the system store");
        X509_STORE_free(st);
        return XD_EIO;
    }
    r->s2s_ca = st;
    return 0;
}

void
s2s_cert_free(struct router *r)
{
    X509_STORE_free(r->s2s_ca);
    r->s2s_ca = NULL;
}

int
s2s_cert_valid(struct router *r, struct ssl_st *ssl, const char *domain,
               const char **why)
{
    X509 *leaf = ssl != NULL ? SSL_get0_peer_certificate(ssl) : NULL;
    STACK_OF(X509) *chain = ssl != NULL ? SSL_get_peer_cert_chain(ssl) : NULL;

    return s2s_cert_check(r->s2s_ca, leaf, chain, domain, why);
}

int
s2s_cert_check(struct x509_store_st *store, struct x509_st *leaf,
               struct stack_st_X509 *chain, const char *domain,
               const char **why)
{
    X509_STORE_CTX *ctx;
    int ok = 0;

    *why = "no certificate";
    if (leaf == NULL || store == NULL || domain == NULL)
        return 0;
    if (X509_check_host(leaf, domain, strlen(domain),
                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1) {
        *why = "the certificate does not name the domain";
        return 0;
    }
    if ((ctx = X509_STORE_CTX_new()) == NULL) {
        *why = "out of memory";
        return 0;
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, chain) == 1) {
        ok = X509_verify_cert(ctx) == 1;
        if (!ok)
            *why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    }
    X509_STORE_CTX_free(ctx);
    if (ok)
        *why = "valid";
    return ok;
}

int
s2s_secure_for(const struct router *r, const char *domain)
{
    const char *p = r->conf.s2s_insecure_domains;
    size_t n = strlen(domain);

    if (!r->conf.s2s_secure_auth)
        return 0;
    while (p != NULL && *p != '\0') {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (len == n && strncasecmp(p, domain, n) == 0)
            return 0;
        p += len;
    }
    return 1;
}
