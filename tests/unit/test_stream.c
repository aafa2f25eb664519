/*
 * Unit tests for stream.c: two streams joined by a socketpair on one event
 * loop exchange headers and stanzas, in the clear and after STARTTLS; stream
 * errors in both directions, orderly close, refused input, back-pressure,
 * freeing a stream from inside its own callback, and big reads (io_chunk).
 */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <xmppd/stanza.h>
#include <xmppd/stream.h>
#include <xmppd/tls.h>

/* What one side saw. */
struct side {
    xd_stream *s;
    int opened;
    char header_to[64];
    int stanzas;
    char last_body[256];
    int closed;
    xd_stream_end why;
    char condition[64];
    int writable;
    int free_in_closed; /* free the stream inside `closed` */
};

static void
on_opened(xd_stream *s, const xd_elem *header, void *arg)
{
    struct side *d = arg;
    const char *to = xd_elem_attr(header, "to");

    (void)s;
    d->opened++;
    snprintf(d->header_to, sizeof(d->header_to), "%s", to ? to : "");
}

static void
on_stanza(xd_stream *s, xd_stanza *st, void *arg)
{
    struct side *d = arg;
    const char *body = xd_stanza_child_text(st, "body", XD_NS_CLIENT);

    (void)s;
    d->stanzas++;
    snprintf(d->last_body, sizeof(d->last_body), "%s", body ? body : "");
    xd_stanza_unref(st);
}

static void
on_closed(xd_stream *s, xd_stream_end why, const char *condition, void *arg)
{
    struct side *d = arg;

    d->closed++;
    d->why = why;
    snprintf(d->condition, sizeof(d->condition), "%s",
             condition ? condition : "");
    if (d->free_in_closed) {
        xd_stream_free(s);
        d->s = NULL;
    }
}

static void
on_writable(xd_stream *s, void *arg)
{
    struct side *d = arg;

    (void)s;
    d->writable++;
}

static const xd_stream_callbacks callbacks = {
    .opened = on_opened,
    .stanza = on_stanza,
    .closed = on_closed,
    .writable = on_writable,
};

/* Runs the loop until *flag >= want or 5 s pass. */
static void
run_until(struct event_base *base, const int *flag, int want)
{
    for (int i = 0; i < 500 && *flag < want; i++) {
        struct timeval tv = { 0, 10000 };
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static void
pair_opts(struct event_base *base, struct side *a, struct side *b,
          xd_stream_opts opts)
{
    int fds[2];

    xd_xml_limits_default(&opts.limits);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        exit(1);
    }
    evutil_make_socket_nonblocking(fds[0]);
    evutil_make_socket_nonblocking(fds[1]);
    memset(a, 0, sizeof(*a));
    memset(b, 0, sizeof(*b));
    a->s = xd_stream_new_fd(base, fds[0], &opts, &callbacks, a);
    b->s = xd_stream_new_fd(base, fds[1], &opts, &callbacks, b);
}

static void
pair(struct event_base *base, struct side *a, struct side *b, size_t high_water)
{
    xd_stream_opts opts = { .content_ns = XD_NS_CLIENT,
                            .out_high_water = high_water };

    pair_opts(base, a, b, opts);
}

static xd_stanza *
message(const char *body)
{
    xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);

    xd_stanza_set_to(m, "juliet@example.com");
    xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, body);
    return m;
}

static void
open_both(struct event_base *base, struct side *a, struct side *b)
{
    xd_stream_open(a->s, "example.com", NULL, NULL, "1.0");
    run_until(base, &b->opened, 1);
    xd_stream_open(b->s, NULL, "example.com", "abc", "1.0");
    run_until(base, &a->opened, 1);
}

static void
test_exchange_and_close(struct event_base *base)
{
    struct side a, b;

    pair(base, &a, &b, 0);
    open_both(base, &a, &b);
    CHECK(b.opened == 1 && strcmp(b.header_to, "example.com") == 0,
          "receiver sees the header's to");
    CHECK(a.opened == 1, "initiator sees the answer header");

    CHECK(xd_stream_send_stanza(a.s, message("hello & <bye>")) == 0,
          "send returns 0");
    run_until(base, &b.stanzas, 1);
    CHECK(b.stanzas == 1 && strcmp(b.last_body, "hello & <bye>") == 0,
          "stanza arrives intact");

    /* Orderly close: both see CLOSED, and freeing inside the callback is
     * safe. */
    b.free_in_closed = 1;
    a.free_in_closed = 1;
    xd_stream_close(a.s);
    run_until(base, &a.closed, 1);
    run_until(base, &b.closed, 1);
    CHECK(b.closed == 1 && b.why == XD_STREAM_END_CLOSED, "peer closed");
    CHECK(a.closed == 1 && a.why == XD_STREAM_END_CLOSED, "closer closed");
    CHECK(a.s == NULL && b.s == NULL, "freed inside closed");
}

static void
test_stream_error(struct event_base *base)
{
    struct side a, b;

    pair(base, &a, &b, 0);
    open_both(base, &a, &b);
    xd_stream_error(b.s, "policy-violation", "too much");
    CHECK(xd_stream_send_stanza(b.s, message("late")) == XD_ESTATE,
          "nothing is sent after a stream error");
    run_until(base, &a.closed, 1);
    run_until(base, &b.closed, 1);
    CHECK(a.closed == 1 && a.why == XD_STREAM_END_ERROR_RECV &&
              strcmp(a.condition, "policy-violation") == 0,
          "the peer learns the condition");
    CHECK(b.closed == 1 && b.why == XD_STREAM_END_ERROR_SENT,
          "the sender ends too");
    xd_stream_free(a.s);
    xd_stream_free(b.s);
}

static void
test_refused_input(struct event_base *base)
{
    struct side a, b;

    pair(base, &a, &b, 0);
    open_both(base, &a, &b);
    /* A comment is restricted XML (RFC 6120 11.1). */
    xd_stream_send_raw(a.s, "<!-- hi -->", 11);
    run_until(base, &a.closed, 1);
    CHECK(b.closed == 1 && b.why == XD_STREAM_END_ERROR_SENT &&
              strcmp(b.condition, "restricted-xml") == 0,
          "comment refused with restricted-xml");
    CHECK(a.closed == 1 && strcmp(a.condition, "restricted-xml") == 0,
          "the sender of the comment is told");
    CHECK(b.stanzas == 0, "nothing delivered");
    xd_stream_free(a.s);
    xd_stream_free(b.s);
}

static void
test_back_pressure(struct event_base *base)
{
    struct side a, b;
    int eagain = 0;
    char body[1024];

    pair(base, &a, &b, 16384);
    open_both(base, &a, &b);
    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    xd_stream_pause(b.s);
    /* The socket buffer takes some; the rest piles up in the stream. */
    for (int i = 0; i < 400 && !eagain; i++)
        if (xd_stream_send_stanza(a.s, message(body)) == XD_EAGAIN)
            eagain = 1;
    CHECK(eagain, "send reports XD_EAGAIN above the high-water mark");
    CHECK(xd_stream_out_pending(a.s) > 16384, "output is pending");
    xd_stream_resume(b.s);
    run_until(base, &a.writable, 1);
    CHECK(a.writable == 1, "writable fires once drained");
    CHECK(a.closed == 0, "a slow reader under 4x the mark is not cut off");
    xd_stream_free(a.s);
    xd_stream_free(b.s);
}

/* A link whose peer stops reading on purpose: past 4x the mark sends are
 * refused, and the stream stays up. */
static void
test_refuse_over_limit(struct event_base *base)
{
    xd_stream_opts opts = { .content_ns = XD_NS_CLIENT,
                            .out_high_water = 16384,
                            .out_refuse_over_limit = 1 };
    struct side a, b;
    int refused = 0;
    char body[1024];

    pair_opts(base, &a, &b, opts);
    open_both(base, &a, &b);
    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    xd_stream_pause(b.s);
    for (int i = 0; i < 2000 && !refused; i++)
        if (xd_stream_send_stanza(a.s, message(body)) == XD_ELIMIT)
            refused = 1;
    CHECK(refused, "past 4x the mark a send is refused");
    CHECK(xd_stream_out_pending(a.s) <= 4 * 16384, "nothing past 4x queued");
    struct timeval tv = { 0, 200000 };
    event_base_loopexit(base, &tv); /* the loop writes what it can */
    event_base_dispatch(base);
    CHECK(a.closed == 0, "the stream stays up");
    xd_stream_resume(b.s);
    run_until(base, &a.writable, 1);
    CHECK(xd_stream_send_stanza(a.s, message("again")) == 0,
          "once drained, sends go out again");
    xd_stream_free(a.s);
    xd_stream_free(b.s);
}

/* A throwaway self-signed certificate, written to files for tls.c. */
static int
make_cert(const char *cert_path, const char *key_path)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *f;

    if (pkey == NULL || x == NULL)
        return -1;
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"example.com", -1, -1, 0);
    X509_set_issuer_name(x, name);
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

static void
test_starttls(struct event_base *base)
{
    char dir[] = "/tmp/xd-test-stream-XXXXXX";
    char cert[64], key[64];
    SSL_CTX *sctx = NULL, *cctx = NULL;
    struct side a, b;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    CHECK(make_cert(cert, key) == 0, "certificate made");
    CHECK(xd_tls_server_ctx(cert, key, &sctx) == 0, "server context");
    CHECK(xd_tls_client_ctx(NULL, 0, &cctx) == 0, "client context");
    SSL_CTX *bad = NULL;
    CHECK(xd_tls_server_ctx("/nonexistent.pem", key, &bad) == XD_EIO &&
              bad == NULL,
          "a missing certificate is refused");

    pair(base, &a, &b, 0);
    open_both(base, &a, &b);
    CHECK(!xd_stream_is_tls(a.s) && !xd_stream_is_tls(b.s), "plain first");
    CHECK(xd_stream_starttls(b.s, sctx, 1, NULL) == 0, "server side TLS");
    CHECK(xd_stream_starttls(a.s, cctx, 0, "example.com") == 0,
          "client side TLS");
    CHECK(!xd_stream_is_tls(a.s) && !xd_stream_is_tls(b.s),
          "not secure before the handshake");
    /* The restarted streams open again over TLS. */
    xd_stream_open(a.s, "example.com", NULL, NULL, "1.0");
    run_until(base, &b.opened, 2);
    xd_stream_open(b.s, NULL, "example.com", "def", "1.0");
    run_until(base, &a.opened, 2);
    CHECK(a.opened == 2 && b.opened == 2, "headers after TLS");
    CHECK(xd_stream_is_tls(a.s) && xd_stream_is_tls(b.s),
          "both TLS once the handshake is over");
    xd_stream_send_stanza(a.s, message("secret"));
    run_until(base, &b.stanzas, 1);
    CHECK(b.stanzas == 1 && strcmp(b.last_body, "secret") == 0,
          "stanza over TLS");
    /* A stream error must reach the peer through both TLS layers before
     * the socket closes. */
    xd_stream_error(b.s, "conflict", NULL);
    run_until(base, &a.closed, 1);
    CHECK(a.closed == 1 && a.why == XD_STREAM_END_ERROR_RECV &&
              strcmp(a.condition, "conflict") == 0,
          "stream error over TLS arrives");
    xd_stream_free(a.s);
    xd_stream_free(b.s);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

static void
test_connect_refused(struct event_base *base)
{
    struct side a;
    xd_stream_opts opts = { .content_ns = XD_NS_COMPONENT };

    memset(&a, 0, sizeof(a));
    xd_xml_limits_default(&opts.limits);
    /* Port 1 on loopback: nothing listens there. */
    CHECK(xd_stream_connect(base, "127.0.0.1", 1, &opts, &callbacks, &a,
                            &a.s) == 0,
          "connect starts");
    run_until(base, &a.closed, 1);
    CHECK(a.closed == 1 && a.why == XD_STREAM_END_IO,
          "refused connection ends with IO");
    xd_stream_free(a.s);
}

/* Sends a header and `n` messages of about 200 bytes from a raw socket to a
 * stream with the given io_chunk; returns the stanzas one loop turn saw. */
static int
stanzas_in_one_turn(struct event_base *base, size_t io_chunk, int n)
{
    int fds[2];
    struct side b;
    xd_stream_opts opts = { .content_ns = XD_NS_CLIENT, .io_chunk = io_chunk };
    char msg[256];
    xd_buf out = { 0 };

    xd_xml_limits_default(&opts.limits);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        exit(1);
    }
    evutil_make_socket_nonblocking(fds[1]);
    memset(&b, 0, sizeof(b));
    b.s = xd_stream_new_fd(base, fds[1], &opts, &callbacks, &b);
    xd_buf_append_str(&out, "<stream:stream xmlns='jabber:client' xmlns:stream="
                            "'http://etherx.jabber.org/streams' "
                            "to='example.com' version='1.0'>");
    for (int i = 0; i < n; i++) {
        snprintf(msg, sizeof(msg),
                 "<message to='juliet@example.com' type='chat'><body>%04d "
                 "%0150d</body></message>",
                 i, 0);
        xd_buf_append_str(&out, msg);
    }
    CHECK(write(fds[0], out.data, out.len) == (ssize_t)out.len,
          "the burst is in the socket");
    event_base_loop(base, EVLOOP_ONCE);
    int seen = b.stanzas;
    xd_stream_free(b.s);
    close(fds[0]);
    xd_buf_free(&out);
    return seen;
}

/* libevent reads 4 KiB per read event; a stream with an io_chunk reads on,
 * so a burst of small stanzas is handled in one loop turn. */
static void
test_io_chunk(struct event_base *base)
{
    CHECK(stanzas_in_one_turn(base, 256 * 1024, 100) == 100,
          "io_chunk: 100 stanzas (~22 KB) in one loop turn");
    CHECK(stanzas_in_one_turn(base, 0, 100) < 100,
          "without io_chunk, libevent's 4 KiB reads take several turns");
}

struct write_hook {
    xd_stream *s;
    int calls;
    int pending_seen; /* the output was still queued when it ran */
};

static void
before_write(void *arg)
{
    struct write_hook *h = arg;

    h->calls++;
    if (h->s != NULL && xd_stream_out_pending(h->s) > 0)
        h->pending_seen = 1;
}

/* The router commits the turn's database writes in before_write: it must
 * run before the turn's output reaches the socket. */
static void
test_before_write(struct event_base *base)
{
    struct write_hook h = { 0 };
    xd_stream_opts opts = { .content_ns = XD_NS_CLIENT,
                            .before_write = before_write,
                            .before_write_arg = &h };
    struct side a, b;

    pair_opts(base, &a, &b, opts);
    open_both(base, &a, &b);
    h.s = a.s;
    h.calls = 0;
    xd_stream_send_stanza(a.s, message("durable"));
    run_until(base, &b.stanzas, 1);
    CHECK(b.stanzas == 1, "the stanza arrives");
    CHECK(h.calls >= 1 && h.pending_seen,
          "before_write ran while the output was still queued");
    xd_stream_free(a.s);
    xd_stream_free(b.s);
}

int
main(void)
{
    struct event_base *base = event_base_new();

    test_exchange_and_close(base);
    test_stream_error(base);
    test_refused_input(base);
    test_back_pressure(base);
    test_refuse_over_limit(base);
    test_starttls(base);
    test_connect_refused(base);
    test_io_chunk(base);
    test_before_write(base);
    event_base_free(base);
    return check_report();
}
