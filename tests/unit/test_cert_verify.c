/*
 * Unit tests for cert_verify.c: RFC 6125 DNS-ID matching of a peer's
 * certificate (exact names, a wildcard only as the whole left-most label
 * and for one label only), the chain to a trusted CA (a certificate no CA
 * of the store vouches for is refused), and which domains s2s_secure_auth
 * covers (s2s_insecure_domains are exceptions).
 */
#include "check.h"
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "router.h"

/* A self-signed certificate whose subjectAltName is san ("DNS:a,DNS:b"). */
static X509 *
make_cert(const char *san)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509V3_CTX v3;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext =
        X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x, key, EVP_sha256());
    EVP_PKEY_free(key);
    return x;
}

static int
valid(X509_STORE *st, X509 *x, const char *domain)
{
    const char *why;

    return s2s_cert_check(st, x, NULL, domain, &why);
}

static void
test_names(void)
{
    X509 *x = make_cert("DNS:remote.test,DNS:*.wild.test,DNS:x*.part.test");
    X509 *other = make_cert("DNS:remote.test");
    X509_STORE *st = X509_STORE_new();
    const char *why;

    X509_STORE_add_cert(st, x);
    CHECK(valid(st, x, "remote.test"), "an exact DNS-ID matches");
    CHECK(valid(st, x, "REMOTE.test"), "names match without case");
    CHECK(!valid(st, x, "other.test"), "another name does not match");
    CHECK(!valid(st, x, "sub.remote.test"), "no implicit subdomains");
    CHECK(valid(st, x, "a.wild.test"), "*.wild.test covers a.wild.test");
    CHECK(!valid(st, x, "wild.test"), "*.wild.test does not cover wild.test");
    CHECK(!valid(st, x, "a.b.wild.test"), "a wildcard covers one label only");
    CHECK(!valid(st, x, "xy.part.test"), "no partial wildcards (x*.part)");
    CHECK(!s2s_cert_check(st, other, NULL, "remote.test", &why) &&
              strcmp(why, "valid") != 0,
          "the right name without a trusted chain is refused (%s)", why);
    CHECK(!s2s_cert_check(st, NULL, NULL, "remote.test", &why),
          "no certificate is refused");
    X509_STORE_free(st);
    X509_free(x);
    X509_free(other);
}

static void
test_secure_for(void)
{
    struct router r;

    memset(&r, 0, sizeof(r));
    CHECK(!s2s_secure_for(&r, "a.test"), "s2s_secure_auth off: no domain");
    r.conf.s2s_secure_auth = 1;
    CHECK(s2s_secure_for(&r, "a.test"), "s2s_secure_auth on: every domain");
    r.conf.s2s_insecure_domains = "old.test, legacy.test";
    CHECK(!s2s_secure_for(&r, "old.test") && !s2s_secure_for(&r, "LEGACY.test"),
          "s2s_insecure_domains are exceptions");
    CHECK(s2s_secure_for(&r, "a.test") && s2s_secure_for(&r, "old.tes") &&
              s2s_secure_for(&r, "xold.test"),
          "only whole names of s2s_insecure_domains are exceptions");
}

int
main(void)
{
    test_names();
    test_secure_for();
    return check_report();
}
