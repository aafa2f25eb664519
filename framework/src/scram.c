/*
 * scram.c: SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), both sides,
 * without channel binding.
 *
 * What this module does not do, on purpose:
 * - SASLprep. The server hands the n= username to its caller, which
 *   prepares it as a JID localpart; passwords are prepared by whoever
 *   calls xd_scram_creds_make or xd_scram_client_new.
 * - Authorization identities. A gs2 "a=" is accepted and ignored: the
 *   authorization identity is always the authenticated account.
 * - Channel binding. A client that asks for it ("p=") is refused with
 *   XD_EPROTO since we never advertise a -PLUS mechanism; "y" (the client
 *   could have, but thinks we cannot) is accepted.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <xmppd/base64.h>
#include <xmppd/buf.h>
#include <xmppd/scram.h>

#define NONCE_LEN     24
#define FAKE_SALT_LEN 16
/* The client refuses more iterations than this: no server needs them, and
 * the bound limits the CPU a hostile server can make a client spend. */
#define CLIENT_ITERATIONS_MAX 10000000L

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

    if (HMAC(md_of(h), key, (int)keylen, data, len, out, &n) == NULL)
        abort(); /* only on allocation failure, which is fatal here */
}

static void
digest(xd_scram_hash h, const unsigned char *data, size_t len,
       unsigned char *out)
{
    unsigned int n = 0;

    if (EVP_Digest(data, len, out, &n, md_of(h), NULL) != 1)
        abort();
}

/* SaltedPassword := Hi(password, salt, i); ClientKey, StoredKey and
 * ServerKey from it (RFC 5802 3). */
static int
derive(xd_scram_hash h, const char *password, const unsigned char *salt,
       size_t salt_len, unsigned iterations, unsigned char *client_key,
       unsigned char *stored_key, unsigned char *server_key)
{
    unsigned char salted[XD_SCRAM_MAX_HASH];
    size_t hl = xd_scram_hash_len(h), plen = strlen(password);

    if (iterations < 1 || iterations > 0x7fffffffU || plen > 0x7fffffffU ||
        salt_len == 0 ||
        PKCS5_PBKDF2_HMAC(password, (int)plen, salt, (int)salt_len,
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
    xd_scram_creds c;
    int rc;

    memset(&c, 0, sizeof(c));
    if (password == NULL)
        return XD_EINVAL;
    if (salt == NULL) {
        salt_len = 16;
        if (xd_random_bytes(c.salt, salt_len) != 0)
            return XD_EIO;
    } else {
        if (salt_len == 0 || salt_len > sizeof(c.salt))
            return XD_EINVAL;
        memcpy(c.salt, salt, salt_len);
    }
    c.salt_len = salt_len;
    c.iterations = iterations;
    rc = derive(h, password, c.salt, salt_len, iterations, client_key,
                c.stored_key, c.server_key);
    OPENSSL_cleanse(client_key, sizeof(client_key));
    if (rc == 0)
        *out = c;
    OPENSSL_cleanse(&c, sizeof(c));
    return rc;
}

/*
 * Message parsing. A message is a list of "k=value" attributes separated
 * by commas; values never contain a comma (RFC 5802 5.1).
 */
struct attrs {
    const char *p; /* next attribute; NULL at the end */
};

/* Takes the next attribute. Returns its key letter (0 when there is none
 * or it is not of the form "k="), its value as a span. */
static char
attr_next(struct attrs *a, const char **val, size_t *len)
{
    const char *p = a->p, *end;

    if (p == NULL)
        return 0;
    end = strchr(p, ',');
    a->p = end ? end + 1 : NULL;
    if (!end)
        end = p + strlen(p);
    if (end - p < 2 || p[1] != '=' ||
        !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return 0;
    *val = p + 2;
    *len = (size_t)(end - p - 2);
    return p[0];
}

/* Like attr_next, but the key must be k; the value is malloc()ed. */
static char *
attr_take(struct attrs *a, char k)
{
    const char *val = NULL;
    size_t len = 0;

    if (attr_next(a, &val, &len) != k)
        return NULL;
    return xd_xstrndup(val, len);
}

/* RFC 5802 7: printable = %x21-2B / %x2D-7E, i.e. no comma. */
static int
valid_nonce(const char *n)
{
    if (*n == '\0')
        return 0;
    for (; *n; n++)
        if (*n < 0x21 || *n > 0x7e || *n == ',')
            return 0;
    return 1;
}

static char *
random_nonce(void)
{
    char *n = xd_xmalloc(NONCE_LEN + 1);

    xd_random_id(n, NONCE_LEN);
    return n;
}

/* Copies a message that must not contain NUL bytes; NULL if it does. */
static char *
copy_msg(const char *msg, size_t len)
{
    char *m;

    if (msg == NULL || memchr(msg, '\0', len) != NULL)
        return NULL;
    m = xd_xmalloc(len + 1);
    memcpy(m, msg, len);
    m[len] = '\0';
    return m;
}

/* --- server ------------------------------------------------------------ */

enum server_state {
    SERVER_WANT_CLIENT_FIRST,
    SERVER_WANT_CREDS,
    SERVER_WANT_CLIENT_FINAL,
    SERVER_DONE,
};

struct xd_scram_server {
    xd_scram_hash h;
    enum server_state state;
    char *server_nonce_part;
    char *gs2_header; /* "n,," and the like, for the c= check */
    char *client_first_bare;
    char *server_first;
    char *nonce; /* client nonce + server nonce */
    char *username;
    int known; /* creds belong to a real account */
    unsigned fake_iterations;
    xd_scram_creds creds;
};

xd_scram_server *
xd_scram_server_new(xd_scram_hash h, const char *nonce)
{
    xd_scram_server *s = xd_xcalloc(1, sizeof(*s));

    s->h = h;
    s->state = SERVER_WANT_CLIENT_FIRST;
    s->fake_iterations = XD_SCRAM_ITERATIONS_DEFAULT;
    s->server_nonce_part = nonce ? xd_xstrdup(nonce) : random_nonce();
    return s;
}

void
xd_scram_server_set_fake_iterations(xd_scram_server *s, unsigned iterations)
{
    if (iterations > 0)
        s->fake_iterations = iterations;
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

/* RFC 5802 5.1 saslname: "=2C" and "=3D" stand for "," and "="; any
 * other '=' is malformed. NULL then. */
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

/*
 * client-first-message = gs2-header client-first-message-bare
 * gs2-header = gs2-cbind-flag "," [ authzid ] ","
 * client-first-message-bare = [reserved-mext ","] username "," nonce
 *                             ["," extensions]
 */
int
xd_scram_server_client_first(xd_scram_server *s, const char *msg, size_t len,
                             const char **username)
{
    char *m = copy_msg(msg, len), *raw = NULL, *user = NULL, *cnonce = NULL;
    const char *p, *second;
    struct attrs a;
    int rc = XD_EPROTO;

    if (s->state != SERVER_WANT_CLIENT_FIRST)
        goto out;
    s->state = SERVER_DONE; /* until this message proves good */
    if (m == NULL || !((m[0] == 'n' || m[0] == 'y') && m[1] == ','))
        goto out; /* "p=": channel binding, which we do not offer */
    p = m + 2;
    second = strchr(p, ',');
    if (second == NULL ||
        (second != p && (second - p < 3 || strncmp(p, "a=", 2) != 0)))
        goto out;
    s->gs2_header = xd_xstrndup(m, (size_t)(second + 1 - m));
    s->client_first_bare = xd_xstrdup(second + 1);

    /* An "m=" first (reserved-mext) is a mandatory extension we do not
     * know, which RFC 5802 says must fail the exchange; attr_take refuses
     * it as "not n=". Extensions after the nonce are ignored. */
    a.p = s->client_first_bare;
    if ((raw = attr_take(&a, 'n')) == NULL ||
        (user = unescape_saslname(raw)) == NULL || *user == '\0' ||
        (cnonce = attr_take(&a, 'r')) == NULL || !valid_nonce(cnonce))
        goto out;
    s->nonce = xd_xasprintf("%s%s", cnonce, s->server_nonce_part);
    s->username = user;
    user = NULL;
    *username = s->username;
    s->state = SERVER_WANT_CREDS;
    rc = 0;
out:
    free(raw);
    free(user);
    free(cnonce);
    free(m);
    return rc;
}

/* A stable salt for an account that does not exist, so that two attempts
 * on the same name look alike, as they would for a real account. The key
 * is random per process: the one piece of static state in this module,
 * set once and then only read (the server is single-threaded). */
static void
fake_salt(const char *username, unsigned char *out)
{
    static unsigned char key[32];
    static int have_key;
    unsigned char mac[XD_SCRAM_MAX_HASH];

    if (!have_key && xd_random_bytes(key, sizeof(key)) == 0)
        have_key = 1;
    if (!have_key) {
        /* No key: a random salt per attempt is the lesser evil. */
        xd_random_bytes(out, FAKE_SALT_LEN);
        return;
    }
    hmac(XD_SCRAM_SHA256, key, sizeof(key), username, strlen(username), mac);
    memcpy(out, mac, FAKE_SALT_LEN);
}

char *
xd_scram_server_first(xd_scram_server *s, const xd_scram_creds *creds)
{
    char *salt;

    if (s->state != SERVER_WANT_CREDS)
        return NULL;
    if (creds != NULL) {
        s->creds = *creds;
        s->known = 1;
    } else {
        /* Unknown account: a salt and an iteration count like a real
         * account's, and a random StoredKey that no proof will match. */
        memset(&s->creds, 0, sizeof(s->creds));
        s->creds.salt_len = FAKE_SALT_LEN;
        s->creds.iterations = s->fake_iterations;
        fake_salt(s->username, s->creds.salt);
        xd_random_bytes(s->creds.stored_key, sizeof(s->creds.stored_key));
        s->known = 0;
    }
    salt = xd_base64_encode(s->creds.salt, s->creds.salt_len);
    s->server_first =
        xd_xasprintf("r=%s,s=%s,i=%u", s->nonce, salt, s->creds.iterations);
    free(salt);
    s->state = SERVER_WANT_CLIENT_FINAL;
    return xd_xstrdup(s->server_first);
}

/*
 * client-final-message = channel-binding "," nonce ["," extensions] ","
 *                        proof
 */
int
xd_scram_server_client_final(xd_scram_server *s, const char *msg, size_t len,
                             char **server_final)
{
    char *m = copy_msg(msg, len), *auth = NULL;
    const char *val = NULL, *proof_at;
    size_t vlen = 0, hl = xd_scram_hash_len(s->h), cb_len = 0, proof_len = 0;
    unsigned char *cb = NULL, *proof = NULL;
    unsigned char sig[XD_SCRAM_MAX_HASH], client_key[XD_SCRAM_MAX_HASH];
    unsigned char stored[XD_SCRAM_MAX_HASH], server_sig[XD_SCRAM_MAX_HASH];
    struct attrs a;
    int rc = XD_EPROTO;

    if (s->state != SERVER_WANT_CLIENT_FINAL)
        goto out;
    s->state = SERVER_DONE; /* one attempt per exchange, whatever happens */
    if (m == NULL)
        goto out;

    a.p = m;
    if (attr_next(&a, &val, &vlen) != 'c' ||
        xd_base64_decode(val, vlen, &cb, &cb_len) != 0 ||
        cb_len != strlen(s->gs2_header) ||
        memcmp(cb, s->gs2_header, cb_len) != 0)
        goto out;
    if (attr_next(&a, &val, &vlen) != 'r' || vlen != strlen(s->nonce) ||
        memcmp(val, s->nonce, vlen) != 0)
        goto out;
    /* Skip extensions; the proof is the last attribute. */
    do {
        proof_at = a.p;
        if (attr_next(&a, &val, &vlen) == 0)
            goto out;
    } while (a.p != NULL);
    if (proof_at[0] != 'p' ||
        xd_base64_decode(val, vlen, &proof, &proof_len) != 0 || proof_len != hl)
        goto out;

    /* AuthMessage := client-first-message-bare "," server-first-message
     *                "," client-final-message-without-proof */
    auth = xd_xasprintf("%s,%s,%.*s", s->client_first_bare, s->server_first,
                        (int)(proof_at - 1 - m), m);
    hmac(s->h, s->creds.stored_key, hl, auth, strlen(auth), sig);
    for (size_t i = 0; i < hl; i++)
        client_key[i] = proof[i] ^ sig[i];
    digest(s->h, client_key, hl, stored);
    /* The comparison is made for unknown accounts too, so both cases take
     * the same time. */
    int match = xd_memeq_ct(stored, s->creds.stored_key, hl) == 0;
    if (!match || !s->known) {
        rc = XD_EAUTH;
        goto out;
    }
    hmac(s->h, s->creds.server_key, hl, auth, strlen(auth), server_sig);
    char *v = xd_base64_encode(server_sig, hl);
    *server_final = xd_xasprintf("v=%s", v);
    free(v);
    rc = 0;
out:
    OPENSSL_cleanse(client_key, sizeof(client_key));
    free(auth);
    free(cb);
    free(proof);
    free(m);
    return rc;
}

/* --- client ------------------------------------------------------------ */

enum client_state {
    CLIENT_NEW,
    CLIENT_SENT_FIRST,
    CLIENT_SENT_FINAL,
    CLIENT_DONE,
};

struct xd_scram_client {
    xd_scram_hash h;
    enum client_state state;
    char *username; /* escaped as a saslname */
    char *password;
    char *cnonce;
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
    c->state = CLIENT_NEW;
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
    if (c->password != NULL)
        OPENSSL_cleanse(c->password, strlen(c->password));
    OPENSSL_cleanse(c->server_sig, sizeof(c->server_sig));
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
    c->state = CLIENT_SENT_FIRST;
    return xd_xasprintf("n,,%s", c->client_first_bare);
}

/* A positive decimal without sign, leading zero or junk, up to max. */
static long
parse_count(const char *s, long max)
{
    long v = 0;

    if (*s < '1' || *s > '9')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/*
 * server-first-message = [reserved-mext ","] nonce "," salt ","
 *                        iteration-count ["," extensions]
 */
int
xd_scram_client_final(xd_scram_client *c, const char *server_first, size_t len,
                      char **client_final)
{
    char *m = copy_msg(server_first, len), *nonce = NULL, *salt_b64 = NULL;
    char *iter = NULL, *without_proof = NULL, *auth = NULL, *proof_b64;
    unsigned char *salt = NULL;
    unsigned char client_key[XD_SCRAM_MAX_HASH], stored[XD_SCRAM_MAX_HASH];
    unsigned char server_key[XD_SCRAM_MAX_HASH], sig[XD_SCRAM_MAX_HASH];
    unsigned char proof[XD_SCRAM_MAX_HASH];
    size_t salt_len = 0, hl = xd_scram_hash_len(c->h);
    size_t cn = strlen(c->cnonce);
    long iterations;
    struct attrs a;
    int rc = XD_EPROTO;

    if (c->state != CLIENT_SENT_FIRST)
        goto out;
    c->state = CLIENT_DONE;
    if (m == NULL)
        goto out;
    a.p = m;
    if ((nonce = attr_take(&a, 'r')) == NULL ||
        (salt_b64 = attr_take(&a, 's')) == NULL ||
        (iter = attr_take(&a, 'i')) == NULL)
        goto out;
    /* The server's nonce must extend ours. */
    if (!valid_nonce(nonce) || strlen(nonce) <= cn ||
        strncmp(nonce, c->cnonce, cn) != 0 ||
        xd_base64_decode(salt_b64, strlen(salt_b64), &salt, &salt_len) != 0 ||
        salt_len == 0 ||
        (iterations = parse_count(iter, CLIENT_ITERATIONS_MAX)) < 0)
        goto out;
    if (derive(c->h, c->password, salt, salt_len, (unsigned)iterations,
               client_key, stored, server_key) != 0)
        goto out;
    /* "biws" is base64("n,,"), the gs2 header we sent. */
    without_proof = xd_xasprintf("c=biws,r=%s", nonce);
    auth = xd_xasprintf("%s,%s,%s", c->client_first_bare, m, without_proof);
    hmac(c->h, stored, hl, auth, strlen(auth), sig);
    for (size_t i = 0; i < hl; i++)
        proof[i] = client_key[i] ^ sig[i];
    hmac(c->h, server_key, hl, auth, strlen(auth), c->server_sig);
    proof_b64 = xd_base64_encode(proof, hl);
    *client_final = xd_xasprintf("%s,p=%s", without_proof, proof_b64);
    free(proof_b64);
    c->state = CLIENT_SENT_FINAL;
    rc = 0;
out:
    OPENSSL_cleanse(client_key, sizeof(client_key));
    OPENSSL_cleanse(server_key, sizeof(server_key));
    free(nonce);
    free(salt_b64);
    free(iter);
    free(salt);
    free(without_proof);
    free(auth);
    free(m);
    return rc;
}

/* server-final-message = (server-error / verifier) ["," extensions];
 * a server-error ("e=...") is a failure like a wrong verifier. */
int
xd_scram_client_verify(xd_scram_client *c, const char *server_final, size_t len)
{
    size_t hl = xd_scram_hash_len(c->h), vlen = 0, sig_len = 0;
    char *m = copy_msg(server_final, len);
    unsigned char *sig = NULL;
    const char *val = NULL;
    struct attrs a;
    int rc = XD_EAUTH;

    if (c->state != CLIENT_SENT_FINAL)
        goto out;
    c->state = CLIENT_DONE;
    if (m == NULL)
        goto out;
    a.p = m;
    if (attr_next(&a, &val, &vlen) != 'v' ||
        xd_base64_decode(val, vlen, &sig, &sig_len) != 0 || sig_len != hl ||
        xd_memeq_ct(sig, c->server_sig, hl) != 0)
        goto out;
    rc = 0;
out:
    free(sig);
    free(m);
    return rc;
}
