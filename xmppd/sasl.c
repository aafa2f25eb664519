/*
 * sasl.c: the server side of SASL (RFC 6120 section 6) with SCRAM-SHA-256,
 * SCRAM-SHA-1 (RFC 7677, RFC 5802) and PLAIN (RFC 4616, only over TLS),
 * against the accounts store.
 */
#define XD_LOG_AREA "sasl"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stringprep.h>

#include <xmppd/base64.h>
#include <xmppd/log.h>
#include <xmppd/scram.h>

#include "accounts.h"
#include "router.h"

enum mech { MECH_SCRAM_SHA256, MECH_SCRAM_SHA1, MECH_PLAIN };

static const struct {
    const char *name;
    enum mech mech;
    int needs_tls;
} mechanisms[] = {
    { "SCRAM-SHA-256", MECH_SCRAM_SHA256, 0 },
    { "SCRAM-SHA-1", MECH_SCRAM_SHA1, 0 },
    { "PLAIN", MECH_PLAIN, 1 },
};

struct sasl {
    enum mech mech;
    int awaiting_first; /* <auth/> came without an initial response */
    xd_scram_server *scram;
    char *user; /* prepared localpart, once known */
};

void
sasl_free(struct sasl *s)
{
    if (s == NULL)
        return;
    xd_scram_server_free(s->scram);
    free(s->user);
    free(s);
}

static int
mech_allowed(struct router *r, int secure, size_t i)
{
    if (mechanisms[i].needs_tls && !secure)
        return 0;
    return mechanisms[i].mech != MECH_PLAIN || r->conf.sasl_plain;
}

void
sasl_offer(struct router *r, int secure, xd_elem *mechs)
{
    for (size_t i = 0; i < XD_NELEM(mechanisms); i++)
        if (mech_allowed(r, secure, i))
            xd_elem_add_text(xd_elem_add_child(mechs, "mechanism", XD_NS_SASL),
                             mechanisms[i].name, strlen(mechanisms[i].name));
}

static xd_stanza *
failure(const char *condition)
{
    xd_stanza *f = xd_stanza_new("failure", XD_NS_SASL);

    xd_elem_add_child(xd_stanza_root(f), condition, XD_NS_SASL);
    return f;
}

/* <challenge/> or <success/> carrying base64 data ("=" for empty). */
static xd_stanza *
with_data(const char *name, const char *data, size_t len)
{
    xd_stanza *st = xd_stanza_new(name, XD_NS_SASL);

    if (data != NULL) {
        char *b64 = len ? xd_base64_encode(data, len) : xd_xstrdup("=");
        xd_elem_add_text(xd_stanza_root(st), b64, strlen(b64));
        free(b64);
    }
    return st;
}

/* Decodes an element's base64 text; "=" and "" are empty. 0 or XD_EINVAL. */
static int
decode_payload(const xd_elem *e, unsigned char **out, size_t *len)
{
    const char *text = xd_elem_text(e);

    if (strcmp(text, "=") == 0)
        text = "";
    return xd_base64_decode(text, strlen(text), out, len);
}

static void
scram_first(struct router *r, const char *host, struct sasl *s,
            const unsigned char *msg, size_t len, struct sasl_result *res)
{
    xd_scram_hash h =
        s->mech == MECH_SCRAM_SHA1 ? XD_SCRAM_SHA1 : XD_SCRAM_SHA256;
    const char *username = NULL;
    xd_scram_creds creds;
    const xd_scram_creds *found = NULL;

    s->scram = xd_scram_server_new(h, NULL);
    /* An unknown account must show the same iteration count as a real
     * one, or the count would tell them apart. */
    xd_scram_server_set_fake_iterations(s->scram,
                                        (unsigned)r->conf.scram_iterations);
    if (xd_scram_server_client_first(s->scram, (const char *)msg, len,
                                     &username) != 0) {
        res->reply = failure("malformed-request");
        res->done = -1;
        return;
    }
    if (xd_jid_prep_local(username, &s->user) == 0 &&
        accounts_get_scram(r->db, host, s->user, h, &creds) == 0)
        found = &creds;
    /* An unknown account still gets a challenge, so that the reply does
     * not tell which accounts exist. */
    char *first = xd_scram_server_first(s->scram, found);
    res->reply = with_data("challenge", first, strlen(first));
    free(first);
}

static void
scram_final(struct sasl *s, const unsigned char *msg, size_t len,
            struct sasl_result *res, char **user_out)
{
    char *final = NULL;
    int rc =
        xd_scram_server_client_final(s->scram, (const char *)msg, len, &final);

    if (rc != 0) {
        res->reply =
            failure(rc == XD_EAUTH ? "not-authorized" : "malformed-request");
        res->done = -1;
        return;
    }
    res->reply = with_data("success", final, strlen(final));
    res->done = 1;
    *user_out = s->user;
    s->user = NULL;
    free(final);
}

/* For an account that does not exist, the key derivation a real one would
 * run (accounts_check_password()), with the iterations new accounts get:
 * answering at once would tell which accounts exist. A password SASLprep
 * refuses is refused before any derivation for a real account too. */
static void
plain_decoy(struct router *r, const char *password)
{
    static const unsigned char salt[16];
    xd_scram_creds creds;
    char *prepped = NULL;

    if (stringprep_profile(password, &prepped, "SASLprep", 0) ==
            STRINGPREP_OK &&
        *prepped != '\0')
        (void)xd_scram_creds_make(XD_SCRAM_SHA256, prepped, salt, sizeof(salt),
                                  (unsigned)r->conf.scram_iterations, &creds);
    if (prepped != NULL) {
        explicit_bzero(prepped, strlen(prepped));
        free(prepped);
    }
    explicit_bzero(&creds, sizeof(creds));
}

static void
plain(struct router *r, const char *host, const unsigned char *msg, size_t len,
      struct sasl_result *res, char **user_out)
{
    /* message = [authzid] NUL authcid NUL passwd (RFC 4616). */
    const char *authzid = (const char *)msg;
    const unsigned char *nul1 = memchr(msg, 0, len);
    const unsigned char *nul2 =
        nul1 ? memchr(nul1 + 1, 0, len - (size_t)(nul1 + 1 - msg)) : NULL;
    char *user = NULL;

    res->done = -1;
    if (nul2 == NULL || memchr(nul2 + 1, 0, len - (size_t)(nul2 + 1 - msg))) {
        res->reply = failure("malformed-request");
        return;
    }
    const char *authcid = (const char *)nul1 + 1;
    char *password =
        xd_xstrndup((const char *)nul2 + 1, len - (size_t)(nul2 + 1 - msg));
    int rc = xd_jid_prep_local(authcid, &user) != 0
                 ? XD_ENOTFOUND
                 : accounts_check_password(r->db, host, user, password);
    if (rc == XD_ENOTFOUND)
        plain_decoy(r, password);
    if (rc != 0) {
        res->reply = failure("not-authorized");
        goto done;
    }
    if (*authzid != '\0') {
        /* Only "act as myself" is allowed. */
        char *self = xd_xasprintf("%s@%s", user, host);
        int same = strcmp(authzid, self) == 0;
        free(self);
        if (!same) {
            res->reply = failure("invalid-authzid");
            goto done;
        }
    }
    res->reply = xd_stanza_new("success", XD_NS_SASL);
    res->done = 1;
    *user_out = user;
    user = NULL;
done:
    explicit_bzero(password, strlen(password));
    free(password);
    free(user);
}

void
sasl_step(struct router *r, const char *host, int secure, struct sasl **state,
          const xd_elem *in, struct sasl_result *res, char **user_out)
{
    struct sasl *s = *state;
    unsigned char *msg = NULL;
    size_t len = 0;

    res->reply = NULL;
    res->done = 0;
    res->user[0] = '\0';
    if (xd_elem_is(in, "abort", XD_NS_SASL)) {
        res->reply = failure("aborted");
        res->done = -1;
        goto end;
    }
    if (xd_elem_is(in, "auth", XD_NS_SASL)) {
        const char *name = xd_elem_attr(in, "mechanism");
        size_t i;
        if (s != NULL) { /* a new <auth/> restarts the exchange */
            sasl_free(s);
            *state = s = NULL;
        }
        for (i = 0; i < XD_NELEM(mechanisms); i++)
            if (name && strcmp(name, mechanisms[i].name) == 0 &&
                mech_allowed(r, secure, i))
                break;
        if (i == XD_NELEM(mechanisms)) {
            res->reply = failure("invalid-mechanism");
            res->done = -1;
            goto end;
        }
        *state = s = xd_xcalloc(1, sizeof(*s));
        s->mech = mechanisms[i].mech;
        if (*xd_elem_text(in) == '\0') {
            /* No initial response: ask for it with an empty challenge. */
            s->awaiting_first = 1;
            res->reply = with_data("challenge", "", 0);
            return;
        }
    } else if (!xd_elem_is(in, "response", XD_NS_SASL) || s == NULL) {
        res->reply = failure("malformed-request");
        res->done = -1;
        goto end;
    }
    if (decode_payload(in, &msg, &len) != 0) {
        res->reply = failure("incorrect-encoding");
        res->done = -1;
        goto end;
    }
    int first = xd_elem_is(in, "auth", XD_NS_SASL) || s->awaiting_first;
    s->awaiting_first = 0;
    if (s->mech == MECH_PLAIN)
        plain(r, host, msg, len, res, user_out);
    else if (first)
        scram_first(r, host, s, msg, len, res);
    else
        scram_final(s, msg, len, res, user_out);
    free(msg);
    if (res->done == 0)
        return;
end:
    if (res->done < 0)
        snprintf(res->user, sizeof(res->user), "%s",
                 s && s->user ? s->user : "?");
    sasl_free(*state);
    *state = NULL;
}
