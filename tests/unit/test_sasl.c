/*
 * Unit tests for xmppd/sasl.c: full SCRAM-SHA-1 and SCRAM-SHA-256 exchanges
 * driven by the framework's SCRAM client against accounts in a real SQLite
 * database, PLAIN, and every failure a client can cause.
 */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xmppd/base64.h>
#include <xmppd/scram.h>

#include "accounts.h"
#include "router.h"
#include "schema.h"

static xd_stanza *
sasl_elem(const char *name, const char *mech, const char *payload, size_t len)
{
    xd_stanza *st = xd_stanza_new(name, XD_NS_SASL);

    if (mech)
        xd_elem_set_attr(xd_stanza_root(st), "mechanism", mech);
    if (payload) {
        char *b64 = len ? xd_base64_encode(payload, len) : xd_xstrdup("=");
        xd_elem_add_text(xd_stanza_root(st), b64, strlen(b64));
        free(b64);
    }
    return st;
}

/* Decoded payload of a reply; caller frees. */
static char *
payload(const xd_stanza *st, size_t *len)
{
    unsigned char *out = NULL;
    const char *text = xd_elem_text(xd_stanza_root(st));

    if (strcmp(text, "=") == 0)
        text = "";
    if (xd_base64_decode(text, strlen(text), &out, len) != 0)
        return NULL;
    return (char *)out;
}

static int
is_failure(const xd_stanza *st, const char *condition)
{
    const xd_elem *root = xd_stanza_root(st);

    return xd_elem_is(root, "failure", XD_NS_SASL) &&
           xd_elem_child(root, condition, XD_NS_SASL) != NULL;
}

/* One SCRAM exchange; returns the step's final `done` and the user. */
static int
scram_login(struct router *r, xd_scram_hash h, const char *user,
            const char *password, int initial_response, char **who)
{
    xd_scram_client *cl = xd_scram_client_new(h, user, password, NULL);
    struct sasl *state = NULL;
    struct sasl_result res;
    char *first = xd_scram_client_first(cl);
    xd_stanza *in;
    size_t len;

    *who = NULL;
    if (initial_response) {
        in = sasl_elem("auth", xd_scram_mech_name(h), first, strlen(first));
    } else {
        in = sasl_elem("auth", xd_scram_mech_name(h), NULL, 0);
        sasl_step(r, "localhost", 1, &state, xd_stanza_root(in), &res, who);
        xd_stanza_unref(in);
        CHECK(res.done == 0 && res.reply != NULL &&
                  xd_elem_is(xd_stanza_root(res.reply), "challenge",
                             XD_NS_SASL) &&
                  *xd_elem_text(xd_stanza_root(res.reply)) == '=',
              "empty challenge asks for the initial response");
        xd_stanza_unref(res.reply);
        in = sasl_elem("response", NULL, first, strlen(first));
    }
    free(first);
    sasl_step(r, "localhost", 1, &state, xd_stanza_root(in), &res, who);
    xd_stanza_unref(in);
    if (res.done != 0) {
        xd_stanza_unref(res.reply);
        xd_scram_client_free(cl);
        return res.done;
    }
    char *server_first = payload(res.reply, &len);
    xd_stanza_unref(res.reply);
    char *final = NULL;
    CHECK(server_first != NULL &&
              xd_scram_client_final(cl, server_first, len, &final) == 0,
          "client accepts the server-first message");
    free(server_first);
    in = sasl_elem("response", NULL, final ? final : "x",
                   final ? strlen(final) : 1);
    free(final);
    sasl_step(r, "localhost", 1, &state, xd_stanza_root(in), &res, who);
    xd_stanza_unref(in);
    if (res.done > 0) {
        char *v = payload(res.reply, &len);
        CHECK(v != NULL && xd_scram_client_verify(cl, v, len) == 0,
              "server signature verifies");
        free(v);
    } else {
        CHECK(is_failure(res.reply, "not-authorized"),
              "failure is not-authorized");
    }
    xd_stanza_unref(res.reply);
    CHECK(state == NULL, "state freed at the end");
    xd_scram_client_free(cl);
    return res.done;
}

static int
plain_login(struct router *r, int secure, const char *authzid, const char *user,
            const char *password, const char **condition)
{
    char msg[256];
    int n =
        snprintf(msg, sizeof(msg), "%s%c%s%c%s", authzid, 0, user, 0, password);
    struct sasl *state = NULL;
    struct sasl_result res;
    char *who = NULL;
    static char cond[64];
    xd_stanza *in = sasl_elem("auth", "PLAIN", msg, (size_t)n);

    sasl_step(r, "localhost", secure, &state, xd_stanza_root(in), &res, &who);
    xd_stanza_unref(in);
    cond[0] = '\0';
    if (res.done < 0) {
        const xd_elem *c = xd_elem_first(xd_stanza_root(res.reply));
        snprintf(cond, sizeof(cond), "%s", c ? xd_elem_name(c) : "");
    }
    *condition = cond;
    if (res.done > 0)
        CHECK(who != NULL && strcmp(who, user) == 0, "PLAIN names the user");
    free(who);
    xd_stanza_unref(res.reply);
    sasl_free(state);
    return res.done;
}

int
main(void)
{
    char dir[] = "/tmp/xd-test-sasl-XXXXXX";
    char path[64];
    struct router r;
    char *who = NULL;
    const char *cond;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/xmppd.db", dir);
    memset(&r, 0, sizeof(r));
    r.conf.sasl_plain = 1;
    if (xd_db_open(path, xmppd_schema, xmppd_schema_count, &r.db) != 0 ||
        accounts_create(r.db, "localhost", "alice", "pencil", 4096) != 0) {
        fprintf(stderr, "cannot set up the database\n");
        return 1;
    }

    /* Offers: PLAIN only over TLS. */
    xd_stanza *m = xd_stanza_new("mechanisms", XD_NS_SASL);
    sasl_offer(&r, 0, xd_stanza_root(m));
    CHECK(xd_elem_child_count(xd_stanza_root(m)) == 2,
          "two mechanisms without TLS");
    xd_stanza_unref(m);
    m = xd_stanza_new("mechanisms", XD_NS_SASL);
    sasl_offer(&r, 1, xd_stanza_root(m));
    CHECK(xd_elem_child_count(xd_stanza_root(m)) == 3,
          "three mechanisms with TLS");
    xd_stanza_unref(m);

    static const struct {
        xd_scram_hash h;
        const char *user, *password;
        int initial, done;
    } cases[] = {
        { XD_SCRAM_SHA1, "alice", "pencil", 1, 1 },
        { XD_SCRAM_SHA256, "alice", "pencil", 1, 1 },
        { XD_SCRAM_SHA256, "alice", "pencil", 0, 1 },
        { XD_SCRAM_SHA256, "Alice", "pencil", 1, 1 }, /* nodeprep folds */
        { XD_SCRAM_SHA1, "alice", "wrong", 1, -1 },
        { XD_SCRAM_SHA256, "alice", "wrong", 1, -1 },
        { XD_SCRAM_SHA256, "nobody", "pencil", 1, -1 },
    };
    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        int done = scram_login(&r, cases[i].h, cases[i].user, cases[i].password,
                               cases[i].initial, &who);
        if (done != cases[i].done) {
            check_failed++;
            fprintf(stderr, "FAIL scram case %zu (%s/%s): done %d\n", i,
                    cases[i].user, cases[i].password, done);
        } else {
            check_passed++;
        }
        if (done > 0)
            CHECK(who != NULL && strcmp(who, "alice") == 0,
                  "SCRAM names the prepared user");
        free(who);
        who = NULL;
    }

    CHECK(plain_login(&r, 1, "", "alice", "pencil", &cond) == 1,
          "PLAIN over TLS");
    CHECK(plain_login(&r, 1, "alice@localhost", "alice", "pencil", &cond) == 1,
          "PLAIN with authzid = self");
    CHECK(plain_login(&r, 1, "bob@localhost", "alice", "pencil", &cond) == -1 &&
              strcmp(cond, "invalid-authzid") == 0,
          "PLAIN as someone else");
    CHECK(plain_login(&r, 1, "", "alice", "nope", &cond) == -1 &&
              strcmp(cond, "not-authorized") == 0,
          "PLAIN wrong password");
    CHECK(plain_login(&r, 0, "", "alice", "pencil", &cond) == -1 &&
              strcmp(cond, "invalid-mechanism") == 0,
          "PLAIN refused without TLS");

    /* Malformed input. */
    struct sasl *state = NULL;
    struct sasl_result res;
    xd_stanza *in = xd_stanza_new("auth", XD_NS_SASL);
    xd_elem_set_attr(xd_stanza_root(in), "mechanism", "SCRAM-SHA-1");
    xd_elem_add_text(xd_stanza_root(in), "!!notbase64", 11);
    sasl_step(&r, "localhost", 1, &state, xd_stanza_root(in), &res, &who);
    CHECK(res.done == -1 && is_failure(res.reply, "incorrect-encoding"),
          "bad base64");
    xd_stanza_unref(res.reply);
    xd_stanza_unref(in);
    in = sasl_elem("auth", "DIGEST-MD5", "x", 1);
    sasl_step(&r, "localhost", 1, &state, xd_stanza_root(in), &res, &who);
    CHECK(res.done == -1 && is_failure(res.reply, "invalid-mechanism"),
          "unknown mechanism");
    xd_stanza_unref(res.reply);
    xd_stanza_unref(in);
    in = sasl_elem("auth", "SCRAM-SHA-1", "garbage", 7);
    sasl_step(&r, "localhost", 1, &state, xd_stanza_root(in), &res, &who);
    CHECK(res.done == -1 && is_failure(res.reply, "malformed-request"),
          "malformed client-first");
    xd_stanza_unref(res.reply);
    xd_stanza_unref(in);
    in = sasl_elem("response", NULL, "x", 1);
    sasl_step(&r, "localhost", 1, &state, xd_stanza_root(in), &res, &who);
    CHECK(res.done == -1 && is_failure(res.reply, "malformed-request"),
          "response without auth");
    xd_stanza_unref(res.reply);
    xd_stanza_unref(in);
    in = xd_stanza_new("abort", XD_NS_SASL);
    sasl_step(&r, "localhost", 1, &state, xd_stanza_root(in), &res, &who);
    CHECK(res.done == -1 && is_failure(res.reply, "aborted"), "abort");
    xd_stanza_unref(res.reply);
    xd_stanza_unref(in);
    CHECK(state == NULL && who == NULL, "nothing left behind");

    xd_db_close(r.db);
    unlink(path);
    char wal[80];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", path);
    unlink(wal);
    rmdir(dir);
    return check_report();
}
