/*
 * Unit tests for scram.c: the exchanges of RFC 5802 section 5 (SHA-1) and
 * RFC 7677 section 3 (SHA-256), byte for byte, driving the server and the
 * client side; wrong passwords, unknown accounts, malformed messages on
 * both sides, calls out of order, and round trips with random nonces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/base64.h>
#include <xmppd/buf.h>
#include <xmppd/scram.h>

#include "check.h"

static const struct vector {
    xd_scram_hash h;
    const char *cnonce, *snonce, *salt_b64;
    const char *client_first, *server_first, *client_final, *server_final;
} vectors[] = {
    /* RFC 5802 section 5: user "user", password "pencil". */
    { XD_SCRAM_SHA1, "fyko+d2lbbFgONRv9qkxdawL", "3rfcNHYJY1ZVvWVs7j",
      "QSXCR+Q6sek8bf92", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
      "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
      "i=4096",
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
      "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
      "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=" },
    /* RFC 7677 section 3: the same user and password. */
    { XD_SCRAM_SHA256, "rOprNGfwEbeRWgbNEkqO", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
      "W22ZaJ0SNY7soEsUEjb6gQ==", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" },
};

static void
creds_for(const struct vector *v, const char *password, xd_scram_creds *c)
{
    unsigned char *salt = NULL;
    size_t salt_len = 0;

    if (xd_base64_decode(v->salt_b64, strlen(v->salt_b64), &salt, &salt_len) !=
            0 ||
        xd_scram_creds_make(v->h, password, salt, salt_len, 4096, c) != 0)
        abort(); /* the vectors are fixed: this cannot fail */
    free(salt);
}

/* Runs the server side with the vector's client-first and the given
 * client-final; returns the final status, and the server's messages
 * through the out-params (NULL when not produced). */
static int
server_run(const struct vector *v, const xd_scram_creds *creds,
           const char *client_final, size_t final_len, char **first,
           char **final)
{
    xd_scram_server *s = xd_scram_server_new(v->h, v->snonce);
    const char *user = NULL;
    int rc = xd_scram_server_client_first(s, v->client_first,
                                          strlen(v->client_first), &user);

    *first = *final = NULL;
    if (rc == 0 && strcmp(user, "user") == 0) {
        *first = xd_scram_server_first(s, creds);
        rc = xd_scram_server_client_final(s, client_final, final_len, final);
    }
    xd_scram_server_free(s);
    return rc;
}

/* Expands "{N}" to the combined nonce, "{W}" to a wrong nonce of the same
 * length (its last character changed) and "{P}" to the right proof. */
static char *
expand(const struct vector *v, const char *tmpl)
{
    const char *nonce = v->server_first + 2;
    size_t nonce_len = strcspn(nonce, ",");
    const char *proof = strstr(v->client_final, ",p=") + 3;
    xd_buf b = XD_BUF_INIT;

    for (const char *p = tmpl; *p; p++) {
        if (strncmp(p, "{N}", 3) == 0) {
            xd_buf_append(&b, nonce, nonce_len);
            p += 2;
        } else if (strncmp(p, "{W}", 3) == 0) {
            xd_buf_append(&b, nonce, nonce_len - 1);
            xd_buf_append_str(&b, nonce[nonce_len - 1] == 'A' ? "B" : "A");
            p += 2;
        } else if (strncmp(p, "{P}", 3) == 0) {
            xd_buf_append_str(&b, proof);
            p += 2;
        } else {
            xd_buf_append(&b, p, 1);
        }
    }
    return xd_buf_steal(&b);
}

static const struct {
    const char *tmpl;
    int rc;
} finals[] = {
    { "c=biws,r={N},p={P}", 0 }, /* the RFC's own, as a control */
    { "c=biws,r=wrongnonce,p={P}", XD_EPROTO },
    { "c=biws,r={N}x,p={P}", XD_EPROTO },    /* nonce extended */
    { "c=biws,r={W},p={P}", XD_EPROTO },     /* one character differs */
    { "c=eSws,r={N},p={P}", XD_EPROTO },     /* base64("y,,"): not what
                                                the client sent */
    { "c=biwsbiws,r={N},p={P}", XD_EPROTO }, /* gs2 header twice */
    { "c=biw,r={N},p={P}", XD_EPROTO },      /* bad base64 */
    { "c=,r={N},p={P}", XD_EPROTO },
    { "r={N},p={P}", XD_EPROTO },  /* no channel binding */
    { "c=biws,p={P}", XD_EPROTO }, /* no nonce */
    { "c=biws,r={N}", XD_EPROTO }, /* no proof */
    { "c=biws,r={N},p=", XD_EPROTO },
    { "c=biws,r={N},p=!!!!", XD_EPROTO },    /* bad base64 */
    { "c=biws,r={N},p=AAAA", XD_EPROTO },    /* proof too short */
    { "c=biws,r={N},p={P},x=1", XD_EPROTO }, /* proof not last */
    { "c=biws,r={N},,p={P}", XD_EPROTO },    /* empty attribute */
    { "c=biws,r={N},1=x,p={P}", XD_EPROTO }, /* not an attribute name */
    { "r={N},c=biws,p={P}", XD_EPROTO },     /* order */
    { "", XD_EPROTO },
    /* An extension is allowed, but it is part of the AuthMessage, so the
     * RFC's proof no longer matches. */
    { "c=biws,r={N},x=ext,p={P}", XD_EAUTH },
};

static void
test_vector(size_t i)
{
    const struct vector *v = &vectors[i];
    xd_scram_creds creds;
    char *first, *final;
    int rc;

    /* Server side, byte for byte. */
    creds_for(v, "pencil", &creds);
    rc = server_run(v, &creds, v->client_final, strlen(v->client_final), &first,
                    &final);
    CHECK(rc == 0 && first && strcmp(first, v->server_first) == 0 && final &&
              strcmp(final, v->server_final) == 0,
          "vector %zu: server side: rc %d, first %s, final %s", i, rc,
          first ? first : "-", final ? final : "-");
    free(first);
    free(final);

    /* Client side, byte for byte. */
    xd_scram_client *c = xd_scram_client_new(v->h, "user", "pencil", v->cnonce);
    char *cf = xd_scram_client_first(c), *cfinal = NULL;
    CHECK(strcmp(cf, v->client_first) == 0, "vector %zu: client-first %s", i,
          cf);
    rc = xd_scram_client_final(c, v->server_first, strlen(v->server_first),
                               &cfinal);
    CHECK(rc == 0 && strcmp(cfinal, v->client_final) == 0,
          "vector %zu: client-final %s", i, cfinal ? cfinal : "-");
    CHECK(xd_scram_client_verify(c, v->server_final, strlen(v->server_final)) ==
              0,
          "vector %zu: client verifies the server", i);
    free(cf);
    free(cfinal);
    xd_scram_client_free(c);

    /* The client refuses a wrong server signature, or an error. */
    static const char *const bad_server_finals[] = {
        "v=AAAA", "e=invalid-proof",
        "",       "v=",
        "x=1,v=", "v=rmF9pqV8S7suAoZWja4dJRkFsKQ", /* unpadded */
    };
    for (size_t k = 0; k < XD_NELEM(bad_server_finals); k++) {
        c = xd_scram_client_new(v->h, "user", "pencil", v->cnonce);
        cf = xd_scram_client_first(c);
        cfinal = NULL;
        xd_scram_client_final(c, v->server_first, strlen(v->server_first),
                              &cfinal);
        CHECK(xd_scram_client_verify(c, bad_server_finals[k],
                                     strlen(bad_server_finals[k])) == XD_EAUTH,
              "vector %zu: client accepts server-final %s", i,
              bad_server_finals[k]);
        free(cf);
        free(cfinal);
        xd_scram_client_free(c);
    }

    /* The wrong password's credentials: the proof fails. */
    creds_for(v, "pen", &creds);
    rc = server_run(v, &creds, v->client_final, strlen(v->client_final), &first,
                    &final);
    CHECK(rc == XD_EAUTH && final == NULL, "vector %zu: wrong password: %d", i,
          rc);
    free(first);

    /* An unknown account: a normal-looking challenge (a 16-byte salt, the
     * default count), then XD_EAUTH. */
    rc = server_run(v, NULL, v->client_final, strlen(v->client_final), &first,
                    &final);
    CHECK(rc == XD_EAUTH && final == NULL && first != NULL &&
              strncmp(first, v->server_first, strcspn(first, ",") + 1) == 0 &&
              strlen(strstr(first, ",s=")) == strlen(",s=,i=4096") + 24 &&
              strstr(first, ",i=4096") != NULL,
          "vector %zu: unknown account: %d, %s", i, rc, first ? first : "-");
    /* Its salt is the same next time, as a real account's would be. */
    char *first2 = NULL;
    rc = server_run(v, NULL, v->client_final, strlen(v->client_final), &first2,
                    &final);
    CHECK(rc == XD_EAUTH && first && first2 && strcmp(first, first2) == 0,
          "vector %zu: unknown account salt is stable", i);
    free(first);
    free(first2);

    /* Malformed client-final messages. */
    creds_for(v, "pencil", &creds);
    for (size_t k = 0; k < XD_NELEM(finals); k++) {
        char *msg = expand(v, finals[k].tmpl);
        rc = server_run(v, &creds, msg, strlen(msg), &first, &final);
        CHECK(rc == finals[k].rc && (rc != 0) == (final == NULL),
              "vector %zu, final case %zu: %s: rc %d", i, k, msg, rc);
        free(first);
        free(final);
        free(msg);
    }
    /* A NUL inside the message. */
    char *msg = expand(v, "c=biws,r={N},p={P}");
    size_t len = strlen(msg);
    msg[len - 2] = '\0';
    rc = server_run(v, &creds, msg, len, &first, &final);
    CHECK(rc == XD_EPROTO, "vector %zu: NUL in client-final: %d", i, rc);
    free(first);
    free(msg);
}

/* The server's view of client-first messages. */
static void
test_client_first(void)
{
    static const char *const bad[] = {
        "p=tls-unique,,n=user,r=abc", /* channel binding not offered */
        "x,,n=user,r=abc",
        "n,,r=abc",
        "n,,n=user",
        "n,,n=user,r=",
        "n,,n=us=er,r=abc",
        "n,,n=us=2c,r=abc", /* the escapes are upper-case */
        "n,,n=user=,r=abc",
        "n,,n=,r=abc",
        "n,,n=user,r=a b",
        "n,,n=user,r=ab\x7f",
        "n,,n=user,r=ab\xc3\xa9",
        "n,,m=ext,n=user,r=abc", /* a mandatory extension */
        "n,,r=abc,n=user",
        "n,n=user,r=abc",
        "n,x=1,n=user,r=abc",
        "n,a=,n=user,r=abc", /* empty authzid */
        "N,,n=user,r=abc",
        "n",
        "n,",
        "n,,",
        "",
    };
    static const struct {
        const char *msg, *user;
    } good[] = {
        { "n,,n=user,r=abc", "user" },
        { "y,,n=user,r=abc", "user" },
        { "n,a=admin,n=user,r=abc", "user" }, /* authzid ignored */
        { "n,,n=a=2Cb=3Dc,r=xyz", "a,b=c" },
        { "n,,n=user,r=abc,x=ext", "user" },
        { "n,,n=J\xc3\xbcliet,r=abc", "J\xc3\xbcliet" }, /* not prepared */
    };

    for (size_t i = 0; i < XD_NELEM(bad); i++) {
        xd_scram_server *s = xd_scram_server_new(XD_SCRAM_SHA256, NULL);
        const char *user = NULL;
        CHECK(xd_scram_server_client_first(s, bad[i], strlen(bad[i]), &user) ==
                      XD_EPROTO &&
                  user == NULL,
              "bad client-first case %zu accepted: %s", i, bad[i]);
        /* After a failure the exchange is over. */
        CHECK(xd_scram_server_first(s, NULL) == NULL,
              "server-first after a bad client-first, case %zu", i);
        xd_scram_server_free(s);
    }
    for (size_t i = 0; i < XD_NELEM(good); i++) {
        xd_scram_server *s = xd_scram_server_new(XD_SCRAM_SHA1, NULL);
        const char *user = NULL;
        CHECK(xd_scram_server_client_first(s, good[i].msg, strlen(good[i].msg),
                                           &user) == 0 &&
                  user && strcmp(user, good[i].user) == 0,
              "good client-first case %zu refused: %s", i, good[i].msg);
        xd_scram_server_free(s);
    }

    /* A NUL inside, and a length shorter than the string. */
    xd_scram_server *s = xd_scram_server_new(XD_SCRAM_SHA1, NULL);
    const char *user = NULL;
    CHECK(xd_scram_server_client_first(s, "n,,n=us\0r,r=abc", 15, &user) ==
              XD_EPROTO,
          "NUL in client-first");
    xd_scram_server_free(s);
    s = xd_scram_server_new(XD_SCRAM_SHA1, NULL);
    CHECK(xd_scram_server_client_first(s, "n,,n=user,r=abcJUNK", 15, &user) ==
                  0 &&
              strcmp(user, "user") == 0,
          "only len bytes are read");
    xd_scram_server_free(s);
}

/* With "y,," the channel binding must be base64("y,,"), which also
 * shows that c= is checked against what this client sent. */
static void
test_y_flag(void)
{
    static const struct {
        const char *cbind;
        int rc;
    } cases[] = {
        { "biws", XD_EPROTO }, /* base64("n,,") */
        { "eSws", XD_EAUTH },  /* right binding, then the (foreign) proof */
    };
    const struct vector *v = &vectors[0];
    xd_scram_creds creds;

    creds_for(v, "pencil", &creds);
    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        xd_scram_server *s = xd_scram_server_new(v->h, v->snonce);
        const char *user = NULL;
        char *first = "y,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", *sf,
             *final = NULL;
        xd_scram_server_client_first(s, first, strlen(first), &user);
        sf = xd_scram_server_first(s, &creds);
        char *tmpl = xd_xasprintf("c=%s,r={N},p={P}", cases[i].cbind);
        char *msg = expand(v, tmpl);
        int rc = xd_scram_server_client_final(s, msg, strlen(msg), &final);
        CHECK(rc == cases[i].rc, "y flag case %zu: %s: %d", i, msg, rc);
        free(sf);
        free(final);
        free(tmpl);
        free(msg);
        xd_scram_server_free(s);
    }
}

/* The client's view of server-first messages. */
static void
test_server_first(void)
{
    static const char *const bad[] = {
        "r=other3rfc,s=QSXCR+Q6sek8bf92,i=4096", /* not our nonce */
        "r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096", /* ours only */
        "m=x,r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4096",
        "r=fyko+d2lbbFgONRv9qkxdawLx,i=4096",
        "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf9,i=4096",
        "r=fyko+d2lbbFgONRv9qkxdawLx,s=,i=4096",
        "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92",
        "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=0",
        "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=-1",
        "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=04096",
        "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4096x",
        "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=99999999999999",
        "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=10000001",
        "s=QSXCR+Q6sek8bf92,r=fyko+d2lbbFgONRv9qkxdawLx,i=4096",
        "e=other-error",
        "",
    };

    for (size_t i = 0; i < XD_NELEM(bad); i++) {
        xd_scram_client *c = xd_scram_client_new(
            XD_SCRAM_SHA1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
        char *cf = xd_scram_client_first(c), *final = NULL;
        CHECK(xd_scram_client_final(c, bad[i], strlen(bad[i]), &final) ==
                      XD_EPROTO &&
                  final == NULL,
              "bad server-first case %zu accepted: %s", i, bad[i]);
        free(cf);
        free(final);
        xd_scram_client_free(c);
    }
}

/* Calls out of order fail instead of using missing state. */
static void
test_order(void)
{
    xd_scram_server *s = xd_scram_server_new(XD_SCRAM_SHA256, NULL);
    xd_scram_client *c =
        xd_scram_client_new(XD_SCRAM_SHA256, "user", "pencil", NULL);
    char *out = NULL;
    const char *user = NULL;

    CHECK(xd_scram_server_first(s, NULL) == NULL,
          "server-first before client-first");
    CHECK(xd_scram_server_client_final(s, "c=biws,r=x,p=AAAA", 17, &out) ==
                  XD_EPROTO &&
              out == NULL,
          "client-final before client-first");
    CHECK(xd_scram_server_client_first(s, "n,,n=user,r=abc", 15, &user) == 0,
          "client-first");
    CHECK(xd_scram_server_client_first(s, "n,,n=user,r=abc", 15, &user) ==
              XD_EPROTO,
          "client-first twice");
    xd_scram_server_free(s);

    CHECK(xd_scram_client_final(c, "r=x,s=QSXCR+Q6sek8bf92,i=4096", 29, &out) ==
              XD_EPROTO,
          "client-final before client-first");
    CHECK(xd_scram_client_verify(c, "v=AAAA", 6) == XD_EAUTH,
          "verify before client-final");
    xd_scram_client_free(c);

    /* After a successful exchange, another client-final is refused. */
    const struct vector *v = &vectors[1];
    xd_scram_creds creds;
    creds_for(v, "pencil", &creds);
    s = xd_scram_server_new(v->h, v->snonce);
    xd_scram_server_client_first(s, v->client_first, strlen(v->client_first),
                                 &user);
    char *sf = xd_scram_server_first(s, &creds);
    CHECK(xd_scram_server_client_final(s, v->client_final,
                                       strlen(v->client_final), &out) == 0,
          "the RFC 7677 exchange");
    free(out);
    out = NULL;
    CHECK(xd_scram_server_client_final(
              s, v->client_final, strlen(v->client_final), &out) == XD_EPROTO &&
              out == NULL,
          "client-final replayed");
    CHECK(xd_scram_server_first(s, &creds) == NULL, "server-first at the end");
    free(sf);
    xd_scram_server_free(s);
}

/* The fake salt of an unknown account depends on the name only. */
static char *
fake_first(const char *name)
{
    xd_scram_server *s = xd_scram_server_new(XD_SCRAM_SHA256, "fixed");
    char *msg = xd_xasprintf("n,,n=%s,r=abc", name), *first;
    const char *user = NULL;

    xd_scram_server_client_first(s, msg, strlen(msg), &user);
    first = xd_scram_server_first(s, NULL);
    free(msg);
    xd_scram_server_free(s);
    return first;
}

static void
test_fake_salt(void)
{
    char *a1 = fake_first("alice"), *a2 = fake_first("alice");
    char *b = fake_first("bob"), *first;
    xd_scram_server *s = xd_scram_server_new(XD_SCRAM_SHA1, "x");
    const char *user = NULL;

    /* The iteration count shown follows the configured one. */
    xd_scram_server_set_fake_iterations(s, 0);
    xd_scram_server_set_fake_iterations(s, 12000);
    xd_scram_server_client_first(s, "n,,n=carol,r=abc", 16, &user);
    first = xd_scram_server_first(s, NULL);
    CHECK(first && strlen(first) > 8 &&
              strcmp(first + strlen(first) - 8, ",i=12000") == 0,
          "fake iterations: %s", first ? first : "-");
    free(first);
    xd_scram_server_free(s);

    CHECK(a1 && a2 && b && strcmp(a1, a2) == 0 && strcmp(a1, b) != 0 &&
              strncmp(a1, "r=abcfixed,s=", 13) == 0,
          "fake salts: %s / %s / %s", a1 ? a1 : "-", a2 ? a2 : "-",
          b ? b : "-");
    free(a1);
    free(a2);
    free(b);
}

static void
test_creds(void)
{
    xd_scram_creds a, b;
    const unsigned char salt[33] = { 1, 2, 3 };

    CHECK(xd_scram_creds_make(XD_SCRAM_SHA256, "pw", NULL, 0, 0, &a) ==
              XD_EINVAL,
          "zero iterations");
    CHECK(xd_scram_creds_make(XD_SCRAM_SHA256, "pw", salt, 0, 4096, &a) ==
              XD_EINVAL,
          "empty salt");
    CHECK(xd_scram_creds_make(XD_SCRAM_SHA256, "pw", salt, 33, 4096, &a) ==
              XD_EINVAL,
          "33-byte salt");
    CHECK(xd_scram_creds_make(XD_SCRAM_SHA256, NULL, salt, 3, 4096, &a) ==
              XD_EINVAL,
          "no password");
    CHECK(xd_scram_creds_make(XD_SCRAM_SHA256, "pw", salt, 32, 1, &a) == 0 &&
              xd_scram_creds_make(XD_SCRAM_SHA256, "pw", salt, 32, 1, &b) ==
                  0 &&
              memcmp(a.stored_key, b.stored_key, 32) == 0 &&
              memcmp(a.server_key, b.server_key, 32) == 0 && a.salt_len == 32 &&
              a.iterations == 1,
          "same inputs, same keys");
    CHECK(xd_scram_creds_make(XD_SCRAM_SHA1, "pw", NULL, 0, 4096, &a) == 0 &&
              xd_scram_creds_make(XD_SCRAM_SHA1, "pw", NULL, 0, 4096, &b) ==
                  0 &&
              a.salt_len == 16 && memcmp(a.salt, b.salt, 16) != 0 &&
              memcmp(a.stored_key, b.stored_key, 20) != 0,
          "random salts");
    CHECK(xd_scram_hash_len(XD_SCRAM_SHA1) == 20 &&
              xd_scram_hash_len(XD_SCRAM_SHA256) == 32 &&
              strcmp(xd_scram_mech_name(XD_SCRAM_SHA1), "SCRAM-SHA-1") == 0 &&
              strcmp(xd_scram_mech_name(XD_SCRAM_SHA256), "SCRAM-SHA-256") == 0,
          "names and lengths");
}

/* Client and server with random nonces and salts, for each hash, with a
 * plain name and one that needs saslname escaping. */
static void
test_round_trips(void)
{
    static const char *const names[] = { "alice", "a,b=c", "J\xc3\xbcliet" };

    for (int h = 0; h < 2; h++)
        for (size_t n = 0; n < XD_NELEM(names); n++) {
            xd_scram_creds creds;
            const char *user = NULL;
            xd_scram_creds_make((xd_scram_hash)h, "s3cret", NULL, 0, 4096,
                                &creds);
            xd_scram_client *c =
                xd_scram_client_new((xd_scram_hash)h, names[n], "s3cret", NULL);
            xd_scram_server *s = xd_scram_server_new((xd_scram_hash)h, NULL);
            char *cf = xd_scram_client_first(c), *sf = NULL;
            char *cfin = NULL, *sfin = NULL;
            int ok =
                xd_scram_server_client_first(s, cf, strlen(cf), &user) == 0 &&
                strcmp(user, names[n]) == 0 &&
                (sf = xd_scram_server_first(s, &creds)) != NULL &&
                xd_scram_client_final(c, sf, strlen(sf), &cfin) == 0 &&
                xd_scram_server_client_final(s, cfin, strlen(cfin), &sfin) ==
                    0 &&
                xd_scram_client_verify(c, sfin, strlen(sfin)) == 0;
            CHECK(ok, "round trip, hash %d, name %s", h, names[n]);
            free(cf);
            free(sf);
            free(cfin);
            free(sfin);
            xd_scram_client_free(c);
            xd_scram_server_free(s);
        }
}

int
main(void)
{
    for (size_t i = 0; i < XD_NELEM(vectors); i++)
        test_vector(i);
    test_client_first();
    test_y_flag();
    test_server_first();
    test_order();
    test_fake_salt();
    test_creds();
    test_round_trips();
    return check_report();
}
