/*
 * dialback.c: Server Dialback (XEP-0220) keys and elements. A key is
 * hex(HMAC-SHA256(hex(SHA-256(secret)), "Receiving Originating StreamID"))
 * (XEP-0185): the authoritative server can check a key it made without
 * remembering it, and nobody without the secret can make one.
 */
#define XD_LOG_AREA "s2s"
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <xmppd/log.h>

#include "router.h"

static void
hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int
dialback_init(struct router *r)
{
    const char *secret = r->conf.s2s_dialback_secret;
    unsigned char random[32], digest[SHA256_DIGEST_LENGTH];

    if (secret == NULL || *secret == '\0') {
        if (RAND_bytes(random, sizeof(random)) != 1) {
            xd_log_warnx("no randomness for the dialback secret");
            return XD_EIO;
        }
        SHA256(random, sizeof(random), digest);
        OPENSSL_cleanse(random, sizeof(random));
    } else {
        SHA256((const unsigned char *)secret, strlen(secret), digest);
    }
    hex(digest, sizeof(digest), r->s2s_db_key);
    OPENSSL_cleanse(digest, sizeof(digest));
    return 0;
}

void
dialback_key(const struct router *r, const char *receiving,
             const char *originating, const char *id,
             char out[DIALBACK_KEY_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char *text = xd_xasprintf("%s %s %s", receiving, originating, id);

    HMAC(EVP_sha256(), r->s2s_db_key, (int)strlen(r->s2s_db_key),
         (const unsigned char *)text, strlen(text), mac, &len);
    free(text);
    hex(mac, len, out);
}

int
dialback_key_ok(const struct router *r, const char *receiving,
                const char *originating, const char *id, const char *key)
{
    char expected[DIALBACK_KEY_LEN + 1];

    if (key == NULL || strlen(key) != DIALBACK_KEY_LEN)
        return 0;
    dialback_key(r, receiving, originating, id, expected);
    return xd_memeq_ct(expected, key, DIALBACK_KEY_LEN) == 0;
}

xd_stanza *
dialback_elem(const char *name, const char *from, const char *to,
              const char *id, const char *type, const char *key)
{
    xd_stanza *st = xd_stanza_new(name, XD_NS_DIALBACK);
    xd_elem *e = xd_stanza_root(st);

    xd_elem_set_attr(e, "from", from);
    xd_elem_set_attr(e, "to", to);
    if (id != NULL)
        xd_elem_set_attr(e, "id", id);
    if (type != NULL)
        xd_elem_set_attr(e, "type", type);
    if (key != NULL)
        xd_elem_add_str(e, key);
    return st;
}
