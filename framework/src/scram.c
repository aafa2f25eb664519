/*
 * scram.c: SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), both sides,
 * without channel binding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <xmppd/base64.h>
#include <xmppd/buf.h>
#include <xmppd/scram.h>

#define NONCE_LEN 24

static const EVP_MD *
md_of(xd_scram_hash h)
{
    return h == XD_SCRAM_SHA1 ? EVP_sha1() : EVP_sha256();
}

size_t
xd_scram_hash_len(xd_scram_hash h)
{
    return h == XD_SCRAM_SHA1 ? 20 : 32;
}

const char *
xd_scram_mech_name(xd_scram_hash h)
{
    return h == XD_SCRAM_SHA1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
}

static void
hmac(xd_scram_hash h, const unsigned char *key, size_t keylen, const void *data,
     size_t len, unsigned char *out)
{
    unsigned int n = 0;

    HMAC(md_of(h), key, (int)keylen, data, len, out, &n);
}

static void
digest(xd_scram_hash h, const unsigned char *data, size_t len,
       unsigned char *out)
{
    unsigned int n = 0;

    EVP_Digest(data, len, out, &n, md_of(h), NULL);
}

/* SaltedPassword, ClientKey, StoredKey and ServerKey (RFC 5802 3). */
static int
derive(xd_scram_hash h, const char *password, const unsigned char *salt,
       size_t salt_len, unsigned iterations, unsigned char *client_key,
       unsigned char *stored_key, unsigned char *server_key)
{
    unsigned char salted[XD_SCRAM_MAX_HASH];
    size_t hl = xd_scram_hash_len(h);

    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len,
                          (int)iterations, md_of(h), (int)hl, salted) != 1)
        return XD_EINVAL;
    hmac(h, salted, hl, "Client Key", 10, client_key);
    digest(h, client_key, hl, stored_key);
    hmac(h, salted, hl, "Server Key", 10, server_key);
    OPENSSL_cleanse(salted, sizeof(salted));
    return 0;
}

int
xd_scram_creds_make(xd_scram_hash h, const char *password,
                    const unsigned char *salt, size_t salt_len,
                    unsigned iterations, xd_scram_creds *out)
{
    unsigned char client_key[XD_SCRAM_MAX_HASH];

    memset(out, 0, sizeof(*out));
    if (salt == NULL) {
        salt_len = 16;
        if (xd_random_bytes(out->salt, salt_len) != 0)
            return XD_EIO;
    } else {
        if (salt_len > sizeof(out->salt))
            return XD_EINVAL;
        memcpy(out->salt, salt, salt_len);
    }
    out->salt_len = salt_len;
    out->iterations = iterations;
    int rc = derive(h, password, out->salt, salt_len, iterations, client_key,
                    out->stored_key, out->server_key);
    OPENSSL_cleanse(client_key, sizeof(client_key));
    return rc;
}

/* Finds "k=" as the attribute at *pos in a comma-separated message; on
 * success returns a malloc()ed value and advances *pos past it. */
static char *
take_attr(const char **pos, char k)
{
    const char *p = *pos;

    if (p[0] != k || p[1] != '=')
        return NULL;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p - 2) : strlen(p + 2);
    *pos = end ? end + 1 : p + 2 + len;
    return xd_xstrndup(p + 2, len);
}

static char *
random_nonce(void)
{
    char *n = xd_xmalloc(NONCE_LEN + 1);

    xd_random_id(n, NONCE_LEN);
    return n;
}

/* --- server ------------------------------------------------------------ */

struct xd_scram_server {
    xd_scram_hash h;
    int state; /* 0: want client-first, 1: want client-final, 2: done */
    char *server_nonce_part;
    char *gs2_header;
    char *client_first_bare;
    char *server_first;
    char *nonce; /* client nonce + server nonce */
    char *username;
    int known;
    xd_scram_creds creds;
};

xd_scram_server *
xd_scram_server_new(xd_scram_hash h, const char *nonce)
{
    xd_scram_server *s = xd_xcalloc(1, sizeof(*s));

    s->h = h;
    s->server_nonce_part = nonce ? xd_xstrdup(nonce) : random_nonce();
    return s;
}

void
xd_scram_server_free(xd_scram_server *s)
{
    if (s == NULL)
        return;
    free(s->server_nonce_part);
    free(s->gs2_header);
    free(s->client_first_bare);
    free(s->server_first);
    free(s->nonce);
    free(s->username);
    OPENSSL_cleanse(&s->creds, sizeof(s->creds));
    free(s);
}

/* "=2C" and "=3D" back to "," and "="; any other '=' is malformed. */
static char *
unescape_saslname(const char *in)
{
    xd_buf b = XD_BUF_INIT;

    for (const char *p = in; *p; p++) {
        if (*p != '=') {
            xd_buf_append(&b, p, 1);
        } else if (strncmp(p, "=2C", 3) == 0) {
            xd_buf_append(&b, ",", 1);
            p += 2;
        } else if (strncmp(p, "=3D", 3) == 0) {
            xd_buf_append(&b, "=", 1);
            p += 2;
        } else {
            xd_buf_free(&b);
            return NULL;
        }
    }
    return xd_buf_steal(&b);
}

static int
printable_nonce(const char *n)
{
    if (*n == '\0')
        return 0;
    for (; *n; n++)
        if (*n < 0x21 || *n > 0x7e || *n == ',')
            return 0;
    return 1;
}

int
xd_scram_server_client_first(xd_scram_server *s, const char *msg, size_t len,
                             const char **username)
{
    char *m = xd_xstrndup(msg, len);
    const char *p = m;
    char *user = NULL, *cnonce = NULL;
    int rc = XD_EPROTO;

    if (s->state != 0 || strlen(m) != len)
        goto out;
    /* gs2-header: cbind-flag "," [authzid] "," */
    if (!((p[0] == 'n' || p[0] == 'y') && p[1] == ','))
        goto out; /* "p=" (channel binding) is not offered */
    const char *second = strchr(p + 2, ',');
    if (second == NULL || (second != p + 2 && strncmp(p + 2, "a=", 2) != 0))
        goto out;
    s->gs2_header = xd_xstrndup(m, (size_t)(second + 1 - m));
    p = second + 1;
    s->client_first_bare = xd_xstrdup(p);
    char *raw = take_attr(&p, 'n');
    if (raw == NULL)
        goto out;
    user = unescape_saslname(raw);
    free(raw);
    cnonce = take_attr(&p, 'r');
    if (user == NULL || *user == '\0' || cnonce == NULL ||
        !printable_nonce(cnonce))
        goto out;
    s->nonce = xd_xasprintf("%s%s", cnonce, s->server_nonce_part);
    s->username = user;
    user = NULL;
    *username = s->username;
    s->state = 1;
    rc = 0;
out:
    free(user);
    free(cnonce);
    free(m);
    return rc;
}

/* A stable salt for an account that does not exist, so that two attempts
 * look alike. The key is random per process: the one piece of static state
 * in this module, set once and never changed. */
static void
fake_salt(const char *username, unsigned char *out, size_t len)
{
    static unsigned char key[32];
    static int have_key;
    unsigned char mac[32];

    if (!have_key) {
        xd_random_bytes(key, sizeof(key));
        have_key = 1;
    }
    hmac(XD_SCRAM_SHA256, key, sizeof(key), username, strlen(username), mac);
    memcpy(out, mac, len);
}

char *
xd_scram_server_first(xd_scram_server *s, const xd_scram_creds *creds)
{
    if (creds != NULL) {
        s->creds = *creds;
        s->known = 1;
    } else {
        memset(&s->creds, 0, sizeof(s->creds));
        s->creds.salt_len = 16;
        s->creds.iterations = XD_SCRAM_ITERATIONS_DEFAULT;
        fake_salt(s->username ? s->username : "", s->creds.salt, 16);
        xd_random_bytes(s->creds.stored_key, sizeof(s->creds.stored_key));
        s->known = 0;
    }
    char *salt = xd_base64_encode(s->creds.salt, s->creds.salt_len);
    free(s->server_first);
    s->server_first =
        xd_xasprintf("r=%s,s=%s,i=%u", s->nonce, salt, s->creds.iterations);
    free(salt);
    return xd_xstrdup(s->server_first);
}

int
xd_scram_server_client_final(xd_scram_server *s, const char *msg, size_t len,
                             char **server_final)
{
    char *m = xd_xstrndup(msg, len);
    const char *p = m;
    char *cbind = NULL, *nonce = NULL, *gs2 = NULL;
    unsigned char *proof = NULL;
    size_t proof_len = 0, hl = xd_scram_hash_len(s->h);
    int rc = XD_EPROTO;

    if (s->state != 1 || s->server_first == NULL || strlen(m) != len)
        goto out;
    const char *pp = strstr(m, ",p=");
    if (pp == NULL)
        goto out;
    cbind = take_attr(&p, 'c');
    nonce = take_attr(&p, 'r');
    gs2 = xd_base64_encode(s->gs2_header, strlen(s->gs2_header));
    if (cbind == NULL || nonce == NULL || strcmp(cbind, gs2) != 0 ||
        strcmp(nonce, s->nonce) != 0)
        goto out;
    const char *b64 = pp + 3;
    if (strchr(b64, ',') != NULL ||
        xd_base64_decode(b64, strlen(b64), &proof, &proof_len) != 0 ||
        proof_len != hl)
        goto out;

    /* AuthMessage = client-first-bare "," server-first ","
     *               client-final-without-proof */
    char *auth = xd_xasprintf("%s,%s,%.*s", s->client_first_bare,
                              s->server_first, (int)(pp - m), m);
    unsigned char sig[XD_SCRAM_MAX_HASH], client_key[XD_SCRAM_MAX_HASH];
    unsigned char stored[XD_SCRAM_MAX_HASH], server_sig[XD_SCRAM_MAX_HASH];
    hmac(s->h, s->creds.stored_key, hl, auth, strlen(auth), sig);
    for (size_t i = 0; i < hl; i++)
        client_key[i] = proof[i] ^ sig[i];
    digest(s->h, client_key, hl, stored);
    int ok = xd_memeq_ct(stored, s->creds.stored_key, hl) == 0 && s->known;
    if (ok) {
        hmac(s->h, s->creds.server_key, hl, auth, strlen(auth), server_sig);
        char *v = xd_base64_encode(server_sig, hl);
        *server_final = xd_xasprintf("v=%s", v);
        free(v);
        rc = 0;
    } else {
        rc = XD_EAUTH;
    }
    OPENSSL_cleanse(client_key, sizeof(client_key));
    free(auth);
    s->state = 2;
out:
    free(cbind);
    free(nonce);
    free(gs2);
    free(proof);
    free(m);
    return rc;
}

/* --- client ------------------------------------------------------------ */

struct xd_scram_client {
    xd_scram_hash h;
    char *username, *password, *cnonce;
    char *client_first_bare;
    unsigned char server_sig[XD_SCRAM_MAX_HASH];
};

xd_scram_client *
xd_scram_client_new(xd_scram_hash h, const char *username, const char *password,
                    const char *nonce)
{
    xd_scram_client *c = xd_xcalloc(1, sizeof(*c));
    xd_buf b = XD_BUF_INIT;

    c->h = h;
    for (const char *p = username; *p; p++) {
        if (*p == ',')
            xd_buf_append_str(&b, "=2C");
        else if (*p == '=')
            xd_buf_append_str(&b, "=3D");
        else
            xd_buf_append(&b, p, 1);
    }
    c->username = xd_buf_steal(&b);
    c->password = xd_xstrdup(password);
    c->cnonce = nonce ? xd_xstrdup(nonce) : random_nonce();
    return c;
}

void
xd_scram_client_free(xd_scram_client *c)
{
    if (c == NULL)
        return;
    if (c->password)
        OPENSSL_cleanse(c->password, strlen(c->password));
    free(c->username);
    free(c->password);
    free(c->cnonce);
    free(c->client_first_bare);
    free(c);
}

char *
xd_scram_client_first(xd_scram_client *c)
{
    free(c->client_first_bare);
    c->client_first_bare = xd_xasprintf("n=%s,r=%s", c->username, c->cnonce);
    return xd_xasprintf("n,,%s", c->client_first_bare);
}

int
xd_scram_client_final(xd_scram_client *c, const char *server_first, size_t len,
                      char **client_final)
{
    char *m = xd_xstrndup(server_first, len);
    const char *p = m;
    char *nonce = take_attr(&p, 'r'), *salt_b64 = take_attr(&p, 's');
    char *iter = take_attr(&p, 'i');
    unsigned char *salt = NULL;
    size_t salt_len = 0, hl = xd_scram_hash_len(c->h);
    int rc = XD_EPROTO;

    if (nonce == NULL || salt_b64 == NULL || iter == NULL ||
        strncmp(nonce, c->cnonce, strlen(c->cnonce)) != 0 ||
        strlen(nonce) == strlen(c->cnonce) ||
        xd_base64_decode(salt_b64, strlen(salt_b64), &salt, &salt_len) != 0)
        goto out;
    long iterations = strtol(iter, NULL, 10);
    if (iterations < 1)
        goto out;
    unsigned char client_key[XD_SCRAM_MAX_HASH], stored[XD_SCRAM_MAX_HASH];
    unsigned char server_key[XD_SCRAM_MAX_HASH], sig[XD_SCRAM_MAX_HASH];
    unsigned char proof[XD_SCRAM_MAX_HASH];
    if (derive(c->h, c->password, salt, salt_len, (unsigned)iterations,
               client_key, stored, server_key) != 0)
        goto out;
    char *without_proof = xd_xasprintf("c=biws,r=%s", nonce);
    char *auth =
        xd_xasprintf("%s,%s,%s", c->client_first_bare, m, without_proof);
    hmac(c->h, stored, hl, auth, strlen(auth), sig);
    for (size_t i = 0; i < hl; i++)
        proof[i] = client_key[i] ^ sig[i];
    hmac(c->h, server_key, hl, auth, strlen(auth), c->server_sig);
    char *proof_b64 = xd_base64_encode(proof, hl);
    *client_final = xd_xasprintf("%s,p=%s", without_proof, proof_b64);
    free(proof_b64);
    free(auth);
    free(without_proof);
    OPENSSL_cleanse(client_key, sizeof(client_key));
    rc = 0;
out:
    free(nonce);
    free(salt_b64);
    free(iter);
    free(salt);
    free(m);
    return rc;
}

int
xd_scram_client_verify(xd_scram_client *c, const char *server_final, size_t len)
{
    size_t hl = xd_scram_hash_len(c->h);
    char *expected_b64 = xd_base64_encode(c->server_sig, hl);
    char *expected = xd_xasprintf("v=%s", expected_b64);
    int ok = strlen(expected) == len &&
             xd_memeq_ct(expected, server_final, len) == 0;

    free(expected_b64);
    free(expected);
    return ok ? 0 : XD_EAUTH;
}
