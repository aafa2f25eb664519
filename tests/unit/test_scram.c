/*
 * Unit tests for scram.c: the exchanges of RFC 5802 section 5 (SHA-1) and
 * RFC 7677 section 3 (SHA-256), byte for byte, on both sides; wrong
 * passwords, unknown accounts and malformed messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/base64.h>
#include <xmppd/scram.h>

static int passed, failed;

static void
verdict(int ok, size_t i, const char *what)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL case %zu: %s\n", i, what);
}

static const struct vector {
    xd_scram_hash h;
    const char *cnonce, *snonce, *salt_b64;
    const char *client_first, *server_first, *client_final, *server_final;
} vectors[] = {
    { XD_SCRAM_SHA1, "fyko+d2lbbFgONRv9qkxdawL", "3rfcNHYJY1ZVvWVs7j",
      "QSXCR+Q6sek8bf92", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
      "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
      "i=4096",
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
      "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
      "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=" },
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

    xd_base64_decode(v->salt_b64, strlen(v->salt_b64), &salt, &salt_len);
    xd_scram_creds_make(v->h, password, salt, salt_len, 4096, c);
    free(salt);
}

/* Runs the server side on the vector's client messages; returns the
 * final status, and the server's messages through the out-params. */
static int
server_run(const struct vector *v, const xd_scram_creds *creds,
           const char *client_final, char **first, char **final)
{
    xd_scram_server *s = xd_scram_server_new(v->h, v->snonce);
    const char *user = NULL;
    int rc = xd_scram_server_client_first(s, v->client_first,
                                          strlen(v->client_first), &user);

    *first = *final = NULL;
    if (rc == 0 && strcmp(user, "user") == 0) {
        *first = xd_scram_server_first(s, creds);
        rc = xd_scram_server_client_final(s, client_final, strlen(client_final),
                                          final);
    }
    xd_scram_server_free(s);
    return rc;
}

int
main(void)
{
    for (size_t i = 0; i < XD_NELEM(vectors); i++) {
        const struct vector *v = &vectors[i];
        xd_scram_creds creds;
        char *first, *final;

        /* Server side, byte for byte. */
        creds_for(v, "pencil", &creds);
        int rc = server_run(v, &creds, v->client_final, &first, &final);
        verdict(rc == 0 && first && strcmp(first, v->server_first) == 0 &&
                    final && strcmp(final, v->server_final) == 0,
                i, "server side of the RFC exchange");
        free(first);
        free(final);

        /* Client side, byte for byte. */
        xd_scram_client *c =
            xd_scram_client_new(v->h, "user", "pencil", v->cnonce);
        char *cf = xd_scram_client_first(c), *cfinal = NULL;
        verdict(strcmp(cf, v->client_first) == 0, i, "client-first");
        verdict(xd_scram_client_final(c, v->server_first,
                                      strlen(v->server_first), &cfinal) == 0 &&
                    strcmp(cfinal, v->client_final) == 0,
                i, "client-final");
        verdict(xd_scram_client_verify(c, v->server_final,
                                       strlen(v->server_final)) == 0,
                i, "client verifies the server");
        verdict(xd_scram_client_verify(c, "v=AAAA", 6) == XD_EAUTH, i,
                "client refuses a wrong server signature");
        free(cf);
        free(cfinal);
        xd_scram_client_free(c);

        /* The wrong password's credentials: the proof fails. */
        creds_for(v, "pen", &creds);
        rc = server_run(v, &creds, v->client_final, &first, &final);
        verdict(rc == XD_EAUTH && final == NULL, i, "wrong password");
        free(first);

        /* An unknown account: a normal-looking challenge, then XD_EAUTH. */
        rc = server_run(v, NULL, v->client_final, &first, &final);
        verdict(rc == XD_EAUTH && first != NULL &&
                    strstr(first, ",i=4096") != NULL,
                i, "unknown account");
        free(first);

        /* Malformed client-final messages. */
        static const char *const bad_finals[] = {
            "c=biws,r=wrongnonce,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            "c=eSws,r=%s,p=AAAA",
            "r=x,p=AAAA",
            "c=biws",
            "c=biws,r=x,p=!!!!",
        };
        creds_for(v, "pencil", &creds);
        for (size_t k = 0; k < XD_NELEM(bad_finals); k++) {
            rc = server_run(v, &creds, bad_finals[k], &first, &final);
            verdict(rc == XD_EPROTO && final == NULL, i * 10 + k,
                    bad_finals[k]);
            free(first);
        }
    }

    /* Malformed client-first messages. */
    static const char *const bad_firsts[] = {
        "p=tls-unique,,n=user,r=abc", /* channel binding not offered */
        "x,,n=user,r=abc",
        "n,,r=abc",
        "n,,n=user",
        "n,,n=us=er,r=abc",
        "n,,n=,r=abc",
        "n,n=user,r=abc",
        "",
    };
    for (size_t i = 0; i < XD_NELEM(bad_firsts); i++) {
        xd_scram_server *s = xd_scram_server_new(XD_SCRAM_SHA256, NULL);
        const char *user = NULL;
        verdict(xd_scram_server_client_first(s, bad_firsts[i],
                                             strlen(bad_firsts[i]),
                                             &user) == XD_EPROTO,
                i, bad_firsts[i]);
        xd_scram_server_free(s);
    }
    /* "=2C" and "=3D" in the username. */
    xd_scram_server *s = xd_scram_server_new(XD_SCRAM_SHA1, NULL);
    const char *user = NULL;
    verdict(xd_scram_server_client_first(s, "y,,n=a=2Cb=3Dc,r=xyz", 20,
                                         &user) == 0 &&
                strcmp(user, "a,b=c") == 0,
            0, "saslname unescaping");
    xd_scram_server_free(s);

    /* A round trip with random nonces and a random salt. */
    for (int h = 0; h < 2; h++) {
        xd_scram_creds creds;
        xd_scram_creds_make((xd_scram_hash)h, "s3cret", NULL, 0, 4096, &creds);
        xd_scram_client *c =
            xd_scram_client_new((xd_scram_hash)h, "alice", "s3cret", NULL);
        xd_scram_server *sv = xd_scram_server_new((xd_scram_hash)h, NULL);
        char *cf = xd_scram_client_first(c), *sf, *cfin = NULL, *sfin = NULL;
        xd_scram_server_client_first(sv, cf, strlen(cf), &user);
        sf = xd_scram_server_first(sv, &creds);
        int ok =
            xd_scram_client_final(c, sf, strlen(sf), &cfin) == 0 &&
            xd_scram_server_client_final(sv, cfin, strlen(cfin), &sfin) == 0 &&
            xd_scram_client_verify(c, sfin, strlen(sfin)) == 0;
        verdict(ok, (size_t)h, "random round trip");
        free(cf);
        free(sf);
        free(cfin);
        free(sfin);
        xd_scram_client_free(c);
        xd_scram_server_free(sv);
    }

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
