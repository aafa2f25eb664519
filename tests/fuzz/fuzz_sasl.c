/*
 * libFuzzer target for the server side of SASL (xmppd/sasl.c with
 * framework/src/scram.c): SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN against
 * accounts in SQLite, fed client messages in any order.
 *
 * The input is records separated by the byte 0xFF; a record's first byte
 * says what it is:
 *   A MECH SP DATA   <auth mechanism=MECH> with DATA base64-encoded (none
 *                    when DATA is empty: the server asks for it)
 *   a MECH SP TEXT   the same with TEXT as the element's text, unencoded
 *   R DATA, r TEXT   <response/>, encoded or not
 *   X                <abort/>
 *   O K TEXT         another element of the SASL namespace (K picks which)
 *   T                TLS on or off (PLAIN is only offered over TLS)
 *   H HOST           the host the client asked for
 *   S USER:PASSWORD  our SCRAM-SHA-256 client (s: SCRAM-SHA-1) starts an
 *                    exchange: <auth/> with its client-first-message
 *   P                our client answers the last challenge right
 *   V                our client checks the last <success/> (once)
 *   C DATA           DATA as a server-first-message to a fresh client (the
 *                    client side parses what a server says)
 * A success must name alice or bob (the accounts, password "pencil"),
 * leave no state behind, and every step must answer something.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/base64.h>
#include <xmppd/log.h>
#include <xmppd/scram.h>

#include "accounts.h"
#include "router.h"
#include "schema.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct router r;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xd_log_init("fuzz", NULL);
    xd_log_set_level(XD_LOG_ERROR);
    r.conf.sasl_plain = 1;
    r.conf.scram_iterations = 4096;
    /* One iteration keeps PLAIN's key derivation cheap. Nothing here
     * writes: one database serves every input. */
    if (xd_db_open(":memory:", xmppd_schema, xmppd_schema_count, &r.db) != 0 ||
        accounts_create(r.db, "localhost", "alice", "pencil", 1) != 0 ||
        accounts_create(r.db, "localhost", "bob", "pencil", 1) != 0)
        abort();
    return 0;
}

struct session {
    struct sasl *state;
    int secure;
    char host[64];
    xd_scram_client *client; /* ours, while its exchange runs */
    int client_final_sent;   /* it answered; its check is one-shot */
    char *last;              /* decoded payload of the last reply */
    size_t last_len;
    int last_success;
};

static void
check(int ok)
{
    if (!ok)
        abort();
}

static void
step(struct session *s, xd_stanza *in)
{
    struct sasl_result res;
    char *user = NULL;

    sasl_step(&r, s->host, s->secure, &s->state, xd_stanza_root(in), &res,
              &user);
    xd_stanza_unref(in);
    check(res.reply != NULL);
    check((res.done == 0) == (s->state != NULL));
    check((res.done > 0) == (user != NULL));
    if (user != NULL)
        check(strcmp(user, "alice") == 0 || strcmp(user, "bob") == 0);
    free(user);

    const xd_elem *root = xd_stanza_root(res.reply);
    const char *text = xd_elem_text(root);
    unsigned char *decoded = NULL;
    size_t len = 0;
    free(s->last);
    s->last = NULL;
    s->last_len = 0;
    s->last_success = xd_elem_is(root, "success", XD_NS_SASL);
    if (strcmp(text, "=") == 0)
        text = "";
    if (xd_base64_decode(text, strlen(text), &decoded, &len) == 0) {
        s->last = (char *)decoded;
        s->last_len = len;
    }
    check(res.done >= 0 || xd_elem_is(root, "failure", XD_NS_SASL));
    xd_stanza_unref(res.reply);
}

static xd_stanza *
element(const char *name, const char *mech, const char *text, size_t len)
{
    xd_stanza *st = xd_stanza_new(name, XD_NS_SASL);

    if (mech != NULL)
        xd_elem_set_attr(xd_stanza_root(st), "mechanism", mech);
    if (len > 0)
        xd_elem_add_text(xd_stanza_root(st), text, len);
    return st;
}

static xd_stanza *
encoded(const char *name, const char *mech, const char *data, size_t len)
{
    char *b64 = len > 0 ? xd_base64_encode(data, len) : NULL;
    xd_stanza *st = element(name, mech, b64, b64 ? strlen(b64) : 0);

    free(b64);
    return st;
}

/* MECH SP REST: the mechanism (a C string) and where REST starts. */
static const char *
split_mech(char *rec, size_t n, char **rest, size_t *rest_len)
{
    char *sp = memchr(rec, ' ', n);

    if (sp == NULL) {
        *rest = rec + n;
        *rest_len = 0;
        return rec;
    }
    *sp = '\0';
    *rest = sp + 1;
    *rest_len = n - (size_t)(sp + 1 - rec);
    return rec;
}

static void
scram_start(struct session *s, xd_scram_hash h, const char *creds)
{
    const char *colon = strchr(creds, ':');
    char *user =
        colon ? xd_xstrndup(creds, (size_t)(colon - creds)) : xd_xstrdup(creds);

    xd_scram_client_free(s->client);
    s->client = xd_scram_client_new(h, user, colon ? colon + 1 : "", NULL);
    s->client_final_sent = 0;
    free(user);
    char *first = xd_scram_client_first(s->client);
    step(s, encoded("auth", xd_scram_mech_name(h), first, strlen(first)));
    free(first);
}

static const char *const others[] = { "success", "challenge", "failure",
                                      "mechanisms", "mechanism" };

static void
record(struct session *s, char *rec, size_t n)
{
    char *rest;
    size_t rest_len;
    const char *mech;
    char *final = NULL;

    if (n == 0)
        return;
    /* Records are C strings past their first byte, except for payloads. */
    rec[n] = '\0';
    switch (rec[0]) {
    case 'A':
    case 'a':
        mech = split_mech(rec + 1, n - 1, &rest, &rest_len);
        step(s, rec[0] == 'A' ? encoded("auth", mech, rest, rest_len)
                              : element("auth", mech, rest, rest_len));
        break;
    case 'R':
        step(s, encoded("response", NULL, rec + 1, n - 1));
        break;
    case 'r':
        step(s, element("response", NULL, rec + 1, n - 1));
        break;
    case 'X':
        step(s, element("abort", NULL, NULL, 0));
        break;
    case 'O':
        step(s,
             element(
                 others[n > 1 ? (unsigned char)rec[1] % XD_NELEM(others) : 0],
                 NULL, rec + 1, n - 1));
        break;
    case 'T':
        s->secure = !s->secure;
        break;
    case 'H':
        snprintf(s->host, sizeof(s->host), "%s", rec + 1);
        break;
    case 'S':
    case 's':
        scram_start(s, rec[0] == 'S' ? XD_SCRAM_SHA256 : XD_SCRAM_SHA1,
                    rec + 1);
        break;
    case 'P':
        if (s->client != NULL && s->last != NULL &&
            xd_scram_client_final(s->client, s->last, s->last_len, &final) ==
                0) {
            step(s, encoded("response", NULL, final, strlen(final)));
            free(final);
            s->client_final_sent = 1;
        }
        break;
    case 'V':
        if (s->client != NULL && s->client_final_sent && s->last_len > 0 &&
            s->last_success)
            check(xd_scram_client_verify(s->client, s->last, s->last_len) == 0);
        s->client_final_sent = 0;
        break;
    case 'C': {
        /* The client derives its key with the count the server names (up
         * to 10^7, its documented bound): the target spares itself counts
         * past 10^4, which only cost time. */
        const char *i = strstr(rec + 1, "i=");
        if (i != NULL && strtoul(i + 2, NULL, 10) > 10000)
            break;
        xd_scram_client *c =
            xd_scram_client_new(XD_SCRAM_SHA256, "alice", "pencil", NULL);
        free(xd_scram_client_first(c));
        if (xd_scram_client_final(c, rec + 1, n - 1, &final) == 0)
            free(final);
        xd_scram_client_free(c);
        break;
    }
    default:
        break;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct session s = { .secure = 1 };
    char *copy = xd_xmalloc(size + 1);
    size_t start = 0;

    snprintf(s.host, sizeof(s.host), "localhost");
    memcpy(copy, data, size);
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != 0xFF)
            continue;
        record(&s, copy + start, i - start);
        start = i + 1;
    }
    sasl_free(s.state);
    xd_scram_client_free(s.client);
    free(s.last);
    free(copy);
    return 0;
}
