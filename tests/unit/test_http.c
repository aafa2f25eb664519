/*
 * Unit tests for http_client.c against real HTTP servers on loopback:
 * libevent's evhttp on the same event loop as the client, in the clear and
 * over TLS with a throwaway self-signed certificate. Methods, headers and
 * bodies both ways, statuses, time-outs, oversize bodies and headers,
 * redirects, refused connections, certificate failures, refused requests,
 * cancelling and freeing the client from inside callbacks.
 */
#include "check.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <xmppd/http.h>
#include <xmppd/stream.h>
#include <xmppd/tls.h>

/* The server side. */

struct server {
    struct evhttp *http;
    int port;
    int held; /* requests to /never, left unanswered */
};

static const char *
method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    default:
        return "OTHER";
    }
}

/* n from a query "n=N"; 0 if absent. */
static size_t
query_n(struct evhttp_request *r)
{
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r));

    return q != NULL && strncmp(q, "n=", 2) == 0 ? strtoul(q + 2, NULL, 10) : 0;
}

/*
 *   /echo         200 "METHOD X-Test-value body", header X-Reply: yes
 *   /status/N     N "status N"
 *   /never        no answer, ever
 *   /bytes?n=N    N bytes with a Content-Length
 *   /chunked?n=N  N bytes chunked, so the size is only known as they come
 *   /headers?n=N  N headers of 1,000 bytes
 *   /redirect     302 to /echo
 *   /close        200, and the connection is closed
 */
static void
serve(struct evhttp_request *r, void *arg)
{
    struct server *srv = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(r));
    struct evkeyvalq *out = evhttp_request_get_output_headers(r);
    struct evbuffer *reply = evbuffer_new();
    size_t n = query_n(r);

    if (strcmp(path, "/echo") == 0) {
        struct evbuffer *in = evhttp_request_get_input_buffer(r);
        const char *x =
            evhttp_find_header(evhttp_request_get_input_headers(r), "X-Test");
        evbuffer_add_printf(reply, "%s %s ",
                            method_name(evhttp_request_get_command(r)),
                            x ? x : "-");
        evbuffer_add_buffer(reply, in);
        evhttp_add_header(out, "X-Reply", "yes");
        evhttp_send_reply(r, 200, "OK", reply);
    } else if (strncmp(path, "/status/", 8) == 0) {
        int code = atoi(path + 8);
        evbuffer_add_printf(reply, "status %d", code);
        evhttp_send_reply(r, code, "Whatever", reply);
    } else if (strcmp(path, "/never") == 0) {
        srv->held++;
    } else if (strcmp(path, "/bytes") == 0) {
        char *b = malloc(n + 1);
        memset(b, 'x', n);
        evbuffer_add(reply, b, n);
        free(b);
        evhttp_send_reply(r, 200, "OK", reply);
    } else if (strcmp(path, "/chunked") == 0) {
        char *b = malloc(n + 1);
        memset(b, 'y', n);
        evbuffer_add(reply, b, n);
        free(b);
        evhttp_send_reply_start(r, 200, "OK");
        evhttp_send_reply_chunk(r, reply);
        evhttp_send_reply_end(r);
    } else if (strcmp(path, "/headers") == 0) {
        char name[32], value[1001];
        memset(value, 'h', 1000);
        value[1000] = '\0';
        for (size_t i = 0; i < n; i++) {
            snprintf(name, sizeof(name), "X-Pad-%zu", i);
            evhttp_add_header(out, name, value);
        }
        evhttp_send_reply(r, 200, "OK", reply);
    } else if (strcmp(path, "/close") == 0) {
        evhttp_add_header(out, "Connection", "close");
        evhttp_send_reply(r, 200, "OK", reply);
    } else if (strcmp(path, "/redirect") == 0) {
        evhttp_add_header(out, "Location", "/echo");
        evhttp_send_reply(r, 302, "Found", reply);
    } else {
        evhttp_send_reply(r, 404, "Not Found", reply);
    }
    evbuffer_free(reply);
}

static struct bufferevent *
tls_bev(struct event_base *base, void *arg)
{
    return bufferevent_openssl_socket_new(base, -1, SSL_new(arg),
                                          BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

/* An evhttp on 127.0.0.1 and a free port; over TLS when sctx is set. */
static void
server_start(struct event_base *base, struct server *srv, SSL_CTX *sctx)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    memset(srv, 0, sizeof(*srv));
    srv->http = evhttp_new(base);
    evhttp_set_gencb(srv->http, serve, srv);
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
                                              EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_DELETE);
    if (sctx != NULL)
        evhttp_set_bevcb(srv->http, tls_bev, sctx);
    struct evhttp_bound_socket *bs =
        evhttp_bind_socket_with_handle(srv->http, "127.0.0.1", 0);
    if (bs == NULL || getsockname(evhttp_bound_socket_get_fd(bs),
                                  (struct sockaddr *)&sin, &len) != 0) {
        perror("evhttp bind");
        exit(1);
    }
    srv->port = ntohs(sin.sin_port);
}

/* A self-signed certificate for 127.0.0.1 and localhost, in PEM files. */
static int
make_cert(const char *cert_path, const char *key_path)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509V3_CTX v3;
    FILE *f;

    if (pkey == NULL || x == NULL)
        return -1;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
                                              "IP:127.0.0.1,DNS:localhost");
    if (san == NULL || X509_add_ext(x, san, -1) != 1)
        return -1;
    X509_EXTENSION_free(san);
    X509_sign(x, pkey, EVP_sha256());
    if ((f = fopen(cert_path, "w")) == NULL)
        return -1;
    PEM_write_X509(f, x);
    fclose(f);
    if ((f = fopen(key_path, "w")) == NULL)
        return -1;
    PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return 0;
}

/* The client side. */

/* What one request's callback saw, and what it should do. */
struct got {
    int calls;
    xd_http_error error;
    long status;
    size_t body_len;
    char body[256];
    char error_text[256];
    char reply_hdr[16];
    char location[64];
    int all_body_x; /* every byte of the body is 'x' or 'y' */
    /* actions inside the callback */
    xd_http_call *self;           /* cancel it: must do nothing */
    xd_http_call **cancel;        /* cancel this other call */
    xd_http_client **free_client; /* free the client */
    xd_http_client *chain;        /* start chain_url on it, chain_left times, */
    const char *chain_url;
    int chain_left;
    int chain_rc; /* ...the first failure to start */
    int ok_200;   /* answers that were XD_HTTP_OK and 200 */
};

static void on_done(const xd_http_result *res, void *arg);

static const char *const test_headers[] = { "X-Test: hello",
                                            "Content-Type: text/plain", NULL };

static void
on_done(const xd_http_result *res, void *arg)
{
    struct got *g = arg;
    const char *h;

    g->calls++;
    g->ok_200 += res->error == XD_HTTP_OK && res->status == 200;
    g->error = res->error;
    g->status = res->status;
    g->body_len = res->body_len;
    snprintf(g->body, sizeof(g->body), "%s", res->body);
    snprintf(g->error_text, sizeof(g->error_text), "%s", res->error_text);
    h = xd_http_result_header(res, "x-reply");
    snprintf(g->reply_hdr, sizeof(g->reply_hdr), "%s", h ? h : "");
    h = xd_http_result_header(res, "Location");
    snprintf(g->location, sizeof(g->location), "%s", h ? h : "");
    g->all_body_x = res->body[res->body_len] == '\0';
    for (size_t i = 0; i < res->body_len; i++)
        if (res->body[i] != 'x' && res->body[i] != 'y')
            g->all_body_x = 0;
    if (g->self != NULL)
        xd_http_cancel(g->self);
    if (g->cancel != NULL) {
        xd_http_cancel(*g->cancel);
        *g->cancel = NULL;
    }
    if (g->free_client != NULL) {
        xd_http_client_free(*g->free_client);
        *g->free_client = NULL;
    }
    if (g->chain != NULL && g->chain_left > 0) {
        xd_http_req req = { .url = g->chain_url };
        int rc = xd_http_request(g->chain, &req, on_done, g, NULL);
        g->chain_left--;
        if (rc != 0 && g->chain_rc == 0)
            g->chain_rc = rc;
    }
}

/* Runs the loop until *flag >= want or ms pass. */
static void
run_until(struct event_base *base, const int *flag, int want, int ms)
{
    for (int i = 0; i < ms / 10 && *flag < want; i++) {
        struct timeval tv = { 0, 10000 };
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

#define NOCHECK ((size_t)-1)

static const struct {
    const char *path, *method, *body;
    unsigned timeout_ms;
    size_t max;
    int follow;
    xd_http_error error;
    long status;           /* -1: not checked */
    const char *want_body; /* NULL: not checked */
    size_t want_len;       /* NOCHECK: not checked */
    const char *location;  /* Location header; NULL: not checked */
} cases[] = {
    { "/echo", NULL, NULL, 0, 0, 0, XD_HTTP_OK, 200, "GET hello ", NOCHECK,
      "" },
    { "/echo", NULL, "ping", 0, 0, 0, XD_HTTP_OK, 200, "POST hello ping",
      NOCHECK, NULL },
    { "/echo", "POST", NULL, 0, 0, 0, XD_HTTP_OK, 200, "POST hello ", NOCHECK,
      NULL },
    { "/echo", "PUT", "data", 0, 0, 0, XD_HTTP_OK, 200, "PUT hello data",
      NOCHECK, NULL },
    { "/echo", "DELETE", NULL, 0, 0, 0, XD_HTTP_OK, 200, "DELETE hello ",
      NOCHECK, NULL },
    { "/echo", "HEAD", NULL, 0, 0, 0, XD_HTTP_OK, 200, "", 0, NULL },
    { "/status/404", NULL, NULL, 0, 0, 0, XD_HTTP_OK, 404, "status 404",
      NOCHECK, NULL },
    { "/status/503", NULL, NULL, 0, 0, 0, XD_HTTP_OK, 503, "status 503",
      NOCHECK, NULL },
    /* The server never answers. */
    { "/never", NULL, NULL, 200, 0, 0, XD_HTTP_ETIMEOUT, 0, NULL, NOCHECK,
      NULL },
    /* The default cap, 1 MiB: at it, and one byte over, announced by a
     * Content-Length or found out while reading a chunked body. */
    { "/bytes?n=1048576", NULL, NULL, 0, 0, 0, XD_HTTP_OK, 200, NULL, 1048576,
      NULL },
    { "/bytes?n=1048577", NULL, NULL, 0, 0, 0, XD_HTTP_ETOOBIG, -1, NULL,
      NOCHECK, NULL },
    { "/chunked?n=1048576", NULL, NULL, 0, 0, 0, XD_HTTP_OK, 200, NULL, 1048576,
      NULL },
    { "/chunked?n=2000000", NULL, NULL, 0, 0, 0, XD_HTTP_ETOOBIG, -1, NULL,
      NOCHECK, NULL },
    /* A cap of the caller's. */
    { "/bytes?n=100", NULL, NULL, 0, 100, 0, XD_HTTP_OK, 200, NULL, 100, NULL },
    { "/bytes?n=101", NULL, NULL, 0, 100, 0, XD_HTTP_ETOOBIG, -1, NULL, NOCHECK,
      NULL },
    { "/chunked?n=101", NULL, NULL, 0, 100, 0, XD_HTTP_ETOOBIG, -1, NULL,
      NOCHECK, NULL },
    /* 80 KB of headers, over XD_HTTP_MAX_HEADER_BYTES. */
    { "/headers?n=80", NULL, NULL, 0, 0, 0, XD_HTTP_ETOOBIG, -1, NULL, NOCHECK,
      NULL },
    { "/headers?n=10", NULL, NULL, 0, 0, 0, XD_HTTP_OK, 200, NULL, 0, NULL },
    /* Redirects are not followed unless asked for. */
    { "/redirect", NULL, NULL, 0, 0, 0, XD_HTTP_OK, 302, NULL, NOCHECK,
      "/echo" },
    { "/redirect", NULL, NULL, 0, 0, 1, XD_HTTP_OK, 200, "GET hello ", NOCHECK,
      "" },
};

static void
test_cases(struct event_base *base, xd_http_client *cl, int port)
{
    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        char url[128];
        struct got g = { 0 };
        xd_http_call *call = NULL;

        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port,
                 cases[i].path);
        xd_http_req req = { .url = url,
                            .method = cases[i].method,
                            .headers = test_headers,
                            .body = cases[i].body,
                            .body_len =
                                cases[i].body ? strlen(cases[i].body) : 0,
                            .timeout_ms = cases[i].timeout_ms,
                            .max_response_bytes = cases[i].max,
                            .follow_redirects = cases[i].follow };
        long t0 = now_ms();
        int rc = xd_http_request(cl, &req, on_done, &g, &call);
        CHECK(rc == 0 && call != NULL, "case %zu %s: started", i,
              cases[i].path);
        CHECK(g.calls == 0, "case %zu: no callback inside xd_http_request", i);
        run_until(base, &g.calls, 1, 5000);
        long took = now_ms() - t0;
        int ok =
            g.calls == 1 && g.error == cases[i].error &&
            (cases[i].status < 0 || g.status == cases[i].status) &&
            (cases[i].want_body == NULL ||
             strcmp(g.body, cases[i].want_body) == 0) &&
            (cases[i].want_len == NOCHECK || g.body_len == cases[i].want_len) &&
            (cases[i].location == NULL ||
             strcmp(g.location, cases[i].location) == 0);
        CHECK(ok,
              "case %zu %s %s: calls %d, error %s (%s), status %ld, "
              "%zu bytes \"%.40s\", Location \"%s\"",
              i, cases[i].method ? cases[i].method : "-", cases[i].path,
              g.calls, xd_http_strerror(g.error), g.error_text, g.status,
              g.body_len, g.body, g.location);
        if (g.error == XD_HTTP_OK)
            CHECK(g.error_text[0] == '\0', "case %zu: no error text", i);
        else
            CHECK(g.error_text[0] != '\0', "case %zu: an error text", i);
        if (strncmp(cases[i].path, "/echo", 5) == 0 &&
            strcmp(cases[i].method ? cases[i].method : "", "HEAD") != 0)
            CHECK(strcmp(g.reply_hdr, "yes") == 0,
                  "case %zu: response header read", i);
        if (cases[i].want_len != NOCHECK && cases[i].want_len > 0)
            CHECK(g.all_body_x, "case %zu: the whole body, NUL after it", i);
        if (cases[i].error == XD_HTTP_ETIMEOUT)
            CHECK(took >= cases[i].timeout_ms - 20 && took < 3000,
                  "case %zu: timed out after %ld ms", i, took);
    }
}

static void
test_refused_connection(struct event_base *base, xd_http_client *cl)
{
    struct got g = { 0 };
    /* Port 1 on loopback: nothing listens there. */
    xd_http_req req = { .url = "http://127.0.0.1:1/" };

    CHECK(xd_http_request(cl, &req, on_done, &g, NULL) == 0, "started");
    run_until(base, &g.calls, 1, 5000);
    CHECK(g.calls == 1 && g.error == XD_HTTP_ECONNECT && g.status == 0,
          "refused: calls %d, error %s (%s)", g.calls,
          xd_http_strerror(g.error), g.error_text);
}

static void
test_refused_requests(struct event_base *base, xd_http_client *cl, int port)
{
    char good[64];
    struct got g = { 0 };
    const char *const crlf[] = { "X-Test: a\r\nX-Injected: b", NULL };
    const char *const lf[] = { "X-Test: a\nb", NULL };

    snprintf(good, sizeof(good), "http://127.0.0.1:%d/echo", port);
    const struct {
        const char *url, *method;
        const char *const *headers;
    } bad[] = {
        { NULL, NULL, NULL },
        { "ftp://127.0.0.1/", NULL, NULL },
        { "file:///etc/passwd", NULL, NULL },
        { "gopher://127.0.0.1/", NULL, NULL },
        { "http://[::1/", NULL, NULL },
        { good, "GE T", NULL },
        { good, "", NULL },
        { good, NULL, crlf },
        { good, NULL, lf },
    };
    for (size_t i = 0; i < XD_NELEM(bad); i++) {
        xd_http_call *call = NULL;
        xd_http_req req = { .url = bad[i].url,
                            .method = bad[i].method,
                            .headers = bad[i].headers };
        CHECK(xd_http_request(cl, &req, on_done, &g, &call) == XD_EINVAL &&
                  call == NULL,
              "bad request %zu (%s) refused", i,
              bad[i].url ? bad[i].url : "NULL");
    }
    xd_http_req ok = { .url = good };
    CHECK(xd_http_request(cl, &ok, NULL, NULL, NULL) == XD_EINVAL,
          "no callback refused");
    CHECK(xd_http_request(NULL, &ok, on_done, &g, NULL) == XD_EINVAL,
          "no client refused");
    /* Nothing was started, so nothing answers. */
    int never = 0;
    run_until(base, &never, 1, 100);
    CHECK(g.calls == 0, "no callback for a refused request");
}

/* Verification on by default: a self-signed server fails unless its
 * certificate is given as the trust anchor (or verification is off). */
static void
test_tls(struct event_base *base, xd_http_client *cl)
{
    char dir[] = "/tmp/xd-test-http-XXXXXX";
    char cert[64], key[64], other_cert[64], other_key[64], url[64];
    SSL_CTX *sctx = NULL;
    struct server srv;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(other_cert, sizeof(other_cert), "%s/other.pem", dir);
    snprintf(other_key, sizeof(other_key), "%s/other-key.pem", dir);
    CHECK(make_cert(cert, key) == 0 && make_cert(other_cert, other_key) == 0,
          "certificates made");
    CHECK(xd_tls_server_ctx(cert, key, &sctx) == 0, "server context");
    server_start(base, &srv, sctx);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/echo", srv.port);

    const struct {
        const char *ca_file;
        int insecure;
        xd_http_error error;
    } tls_cases[] = {
        { NULL, 0, XD_HTTP_ETLS },       /* not in the system store */
        { other_cert, 0, XD_HTTP_ETLS }, /* the wrong anchor */
        { cert, 0, XD_HTTP_OK },
        { NULL, 1, XD_HTTP_OK },
    };
    for (size_t i = 0; i < XD_NELEM(tls_cases); i++) {
        struct got g = { 0 };
        xd_http_req req = { .url = url,
                            .headers = test_headers,
                            .ca_file = tls_cases[i].ca_file,
                            .tls_insecure = tls_cases[i].insecure };
        CHECK(xd_http_request(cl, &req, on_done, &g, NULL) == 0,
              "tls %zu started", i);
        run_until(base, &g.calls, 1, 5000);
        CHECK(g.calls == 1 && g.error == tls_cases[i].error &&
                  (g.error != XD_HTTP_OK ||
                   (g.status == 200 && strcmp(g.body, "GET hello ") == 0)),
              "tls %zu: calls %d, error %s (%s), status %ld", i, g.calls,
              xd_http_strerror(g.error), g.error_text, g.status);
    }
    evhttp_free(srv.http);
    SSL_CTX_free(sctx);
    unlink(cert);
    unlink(key);
    unlink(other_cert);
    unlink(other_key);
    rmdir(dir);
}

static void
test_cancel(struct event_base *base, xd_http_client *cl, int port)
{
    char echo[64], never[64];
    struct got a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
    xd_http_call *ca = NULL, *cc = NULL;

    snprintf(echo, sizeof(echo), "http://127.0.0.1:%d/echo", port);
    snprintf(never, sizeof(never), "http://127.0.0.1:%d/never", port);
    xd_http_req req_echo = { .url = echo, .headers = test_headers };
    xd_http_req req_never = { .url = never, .timeout_ms = 300 };

    /* Cancelled before the loop ran, and cancelled while waiting. */
    CHECK(xd_http_request(cl, &req_echo, on_done, &a, &ca) == 0, "a started");
    xd_http_cancel(ca);
    CHECK(xd_http_request(cl, &req_never, on_done, &d, &ca) == 0, "d started");
    run_until(base, &a.calls, 1, 100);
    xd_http_cancel(ca);
    /* b's callback cancels c, which waits for a server that never answers,
     * and tries to cancel itself, which does nothing. */
    CHECK(xd_http_request(cl, &req_never, on_done, &c, &cc) == 0, "c started");
    CHECK(xd_http_request(cl, &req_echo, on_done, &b, &b.self) == 0,
          "b started");
    b.cancel = &cc;
    run_until(base, &b.calls, 1, 5000);
    CHECK(b.calls == 1 && b.error == XD_HTTP_OK && cc == NULL,
          "b answered and cancelled c");
    /* Past c's and d's time-outs: their callbacks must not run. */
    int never_flag = 0;
    run_until(base, &never_flag, 1, 500);
    CHECK(a.calls == 0, "a cancelled before the loop ran: no callback");
    CHECK(d.calls == 0, "d cancelled while waiting: no callback");
    CHECK(c.calls == 0, "c cancelled inside b's callback: no callback");
    xd_http_cancel(NULL);
}

/* A callback may start the next request. The server closes each
 * connection, so each request opens a socket, likely under the number of
 * the one libcurl just closed. */
static void
test_request_from_callback(struct event_base *base, xd_http_client *cl,
                           int port)
{
    char url[64];
    struct got g = { 0 };

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/close", port);
    xd_http_req req = { .url = url };
    g.chain = cl;
    g.chain_url = url;
    g.chain_left = 19;
    CHECK(xd_http_request(cl, &req, on_done, &g, NULL) == 0, "first started");
    run_until(base, &g.calls, 20, 5000);
    CHECK(g.calls == 20 && g.ok_200 == 20 && g.chain_rc == 0,
          "20 requests, each started in the previous one's callback: %d "
          "answered, %d ok",
          g.calls, g.ok_200);
}

/* Freeing the client inside a callback cancels the others. */
static void
test_free_in_callback(struct event_base *base, int port)
{
    char echo[64], never[64];
    xd_http_client *cl = NULL;
    struct got a = { 0 }, b = { 0 };

    snprintf(echo, sizeof(echo), "http://127.0.0.1:%d/echo", port);
    snprintf(never, sizeof(never), "http://127.0.0.1:%d/never", port);
    xd_http_req req_echo = { .url = echo };
    xd_http_req req_never = { .url = never, .timeout_ms = 200 };
    CHECK(xd_http_client_new(base, &cl) == 0, "second client");
    CHECK(xd_http_request(cl, &req_never, on_done, &b, NULL) == 0, "b started");
    CHECK(xd_http_request(cl, &req_echo, on_done, &a, NULL) == 0, "a started");
    a.free_client = &cl;
    run_until(base, &a.calls, 1, 5000);
    CHECK(a.calls == 1 && cl == NULL, "a answered and freed the client");
    int never_flag = 0;
    run_until(base, &never_flag, 1, 400);
    CHECK(b.calls == 0, "b went with the client: no callback");

    /* Freed with calls in flight, outside any callback. */
    struct got c = { 0 };
    CHECK(xd_http_client_new(base, &cl) == 0, "third client");
    CHECK(xd_http_request(cl, &req_never, on_done, &c, NULL) == 0, "c started");
    CHECK(xd_http_request(cl, &req_never, on_done, &c, NULL) == 0,
          "c2 started");
    run_until(base, &never_flag, 1, 50);
    xd_http_client_free(cl);
    run_until(base, &never_flag, 1, 300);
    CHECK(c.calls == 0, "calls freed with their client: no callback");
    xd_http_client_free(NULL);
}

int
main(void)
{
    /* The loop components run on (xd_component_new makes this one), with
     * libevent's epoll changelist: sockets libcurl closes and opens again
     * under the same number within one turn must still be watched. */
    struct event_base *base = xd_stream_base_new();
    xd_http_client *cl = NULL;
    struct server srv;

    /* evhttp writes to sockets the client has closed (oversize bodies), as
     * every xmppd process does: they all ignore SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    server_start(base, &srv, NULL);
    CHECK(xd_http_client_new(base, &cl) == 0, "client made");
    test_cases(base, cl, srv.port);
    test_refused_connection(base, cl);
    test_refused_requests(base, cl, srv.port);
    test_tls(base, cl);
    test_cancel(base, cl, srv.port);
    test_request_from_callback(base, cl, srv.port);
    test_free_in_callback(base, srv.port);
    CHECK(srv.held > 0, "the server saw the requests it never answered");
    xd_http_client_free(cl);
    evhttp_free(srv.http);
    event_base_free(base);
    return check_report();
}
