/*
 * stream.c: one XML stream over a bufferevent (RFC 6120 section 4).
 *
 * Lifetime: a stream ends exactly once (finish()), which closes the socket
 * and reports `closed`. Callbacks run with `depth` raised; xd_stream_free
 * inside a callback only marks the stream, and the outermost dispatch frees
 * it once the callback has returned, so no callback ever runs on freed
 * memory.
 */
#define XD_LOG_AREA "stream"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <xmppd/log.h>
#include <xmppd/redact.h>
#include <xmppd/stream.h>
#include <xmppd/xml_parser.h>

/* Seconds we wait for the peer's </stream:stream> (or for our output to
 * drain) before closing the socket anyway. */
#define CLOSE_TIMEOUT_S 5
/* Seconds a connection attempt may take. */
#define CONNECT_TIMEOUT_S 10

struct xd_stream {
    struct event_base *base;
    struct bufferevent *bev;
    size_t out_left;        /* the output never written, once bev is gone */
    struct evdns_base *dns; /* only for name lookups on connect */
    struct event *close_timer;
    struct event *flush_timer;        /* re-checks a TLS filter's lower layer */
    struct event *flush_now;          /* writes the output at the turn's end */
    struct evbuffer_cb_entry *out_cb; /* on a plain socket's output buffer */
    struct ev_token_bucket_cfg *rate; /* read shaping, or NULL */
    xd_xml_parser *parser;
    xd_stream_opts opts;
    xd_stream_callbacks cb;
    void *arg;
    xd_buf out; /* serialiser scratch, reused */
    char peer[64];

    int depth; /* callbacks on the stack */
    unsigned header_sent : 1;
    unsigned closing : 1;      /* we sent </stream:stream> or an error */
    unsigned ended : 1;        /* finish() ran */
    unsigned free_pending : 1; /* freed inside a callback */
    unsigned restart_pending : 1;
    unsigned blocked : 1; /* a send returned XD_EAGAIN */
    unsigned connecting : 1;
    unsigned paused : 1;
    unsigned errored : 1;         /* a stream error went either way */
    unsigned finish_on_flush : 1; /* end once the output has drained */
    unsigned direct : 1;          /* plain socket: we write, not libevent */
    unsigned feeding : 1;         /* inside the parser: callbacks run */
    unsigned tls_server : 1;      /* tls_pending accepts (else connects) */
    SSL *tls_pending;             /* STARTTLS begins after the current input */
    xd_stream_end end_why;
    char end_condition[48];
};

static void stream_read_cb(struct bufferevent *bev, void *arg);
static void stream_write_cb(struct bufferevent *bev, void *arg);
static void stream_event_cb(struct bufferevent *bev, short what, void *arg);
static void direct_on(xd_stream *s);
static int begin_tls(xd_stream *s);

static void
really_free(xd_stream *s)
{
    if (s->bev)
        bufferevent_free(s->bev);
    if (s->close_timer)
        event_free(s->close_timer);
    if (s->flush_timer)
        event_free(s->flush_timer);
    if (s->flush_now)
        event_free(s->flush_now);
    if (s->dns)
        evdns_base_free(s->dns, 0);
    xd_xml_parser_free(s->parser);
    xd_buf_free(&s->out);
    if (s->rate)
        ev_token_bucket_cfg_free(s->rate);
    SSL_free(s->tls_pending);
    free(s);
}

/* Called on the way out of every callback entry point. Returns 1 when the
 * stream is gone and the caller must not touch it. */
static int
leave(xd_stream *s)
{
    if (--s->depth == 0 && s->free_pending) {
        really_free(s);
        return 1;
    }
    return 0;
}

/* Bytes not yet handed to the kernel. Under STARTTLS the stream's
 * bufferevent is an OpenSSL filter whose output drains into the socket
 * bufferevent below it, so both layers count. */
static size_t
pending_total(const xd_stream *s)
{
    if (s->bev == NULL)
        return 0;
    struct bufferevent *low = bufferevent_get_underlying(s->bev);
    size_t n = evbuffer_get_length(bufferevent_get_output(s->bev));

    if (low != NULL)
        n += evbuffer_get_length(bufferevent_get_output(low));
    return n;
}

/* Closes the socket and stops every timer and the parser. */
static void
shut(xd_stream *s)
{
    s->ended = 1;
    if (s->bev) {
        s->out_left = evbuffer_get_length(bufferevent_get_output(s->bev));
        bufferevent_free(s->bev);
        s->bev = NULL;
    }
    s->direct = 0;
    event_del(s->flush_now);
    evtimer_del(s->close_timer);
    evtimer_del(s->flush_timer);
    xd_xml_parser_stop(s->parser);
}

/* Closes the socket and reports the end, once. */
static void
finish(xd_stream *s, xd_stream_end why, const char *condition)
{
    if (s->ended)
        return;
    shut(s);
    if (s->cb.closed) {
        s->depth++;
        s->cb.closed(s, why, condition, s->arg);
        leave(s);
    }
}

/* Finishes once the output has drained, or after CLOSE_TIMEOUT_S. */
static void
finish_after_flush(xd_stream *s, xd_stream_end why, const char *condition)
{
    struct timeval tv = { CLOSE_TIMEOUT_S, 0 };

    s->end_why = why;
    snprintf(s->end_condition, sizeof(s->end_condition), "%s",
             condition ? condition : "");
    if (pending_total(s) == 0) {
        finish(s, why, condition);
        return;
    }
    s->finish_on_flush = 1;
    bufferevent_disable(s->bev, EV_READ);
    bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
    evtimer_add(s->close_timer, &tv);
}

static void
flush_check_cb(evutil_socket_t fd, short what, void *arg)
{
    xd_stream *s = arg;
    struct timeval tv = { 0, 20000 };

    (void)fd;
    (void)what;
    if (pending_total(s) > 0) {
        evtimer_add(s->flush_timer, &tv);
        return;
    }
    s->depth++;
    finish(s, s->end_why, s->end_condition[0] ? s->end_condition : NULL);
    leave(s);
}

static void
close_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    xd_stream *s = arg;

    (void)fd;
    (void)what;
    s->depth++;
    finish(s,
           s->end_why == XD_STREAM_END_CLOSED && !s->finish_on_flush
               ? XD_STREAM_END_TIMEOUT
               : s->end_why,
           s->end_condition[0] ? s->end_condition : NULL);
    leave(s);
}

static void
write_header(xd_stream *s, const char *to, const char *from, const char *id,
             const char *version)
{
    xd_buf *b = &s->out;

    xd_buf_reset(b);
    xd_buf_append_str(b, "<?xml version='1.0'?><stream:stream xmlns='");
    xd_buf_append_str(b, s->opts.content_ns);
    xd_buf_append_str(b, "' xmlns:stream='" XD_NS_STREAMS "'");
    const char *names[] = { "to", "from", "id", "version" };
    const char *values[] = { to, from, id, version };
    for (size_t i = 0; i < XD_NELEM(names); i++) {
        if (values[i] == NULL)
            continue;
        xd_buf_appendf(b, " %s='", names[i]);
        xd_buf_append_attr(b, values[i], strlen(values[i]));
        xd_buf_append_str(b, "'");
    }
    xd_buf_append_str(b, " xml:lang='en'>");
    bufferevent_write(s->bev, b->data, b->len);
    s->header_sent = 1;
}

void
xd_stream_open(xd_stream *s, const char *to, const char *from, const char *id,
               const char *version)
{
    if (s->ended || s->closing)
        return;
    write_header(s, to, from, id, version);
}

/* Applies the output high-water policy after something was queued. */
static int
check_output(xd_stream *s)
{
    size_t pending = evbuffer_get_length(bufferevent_get_output(s->bev));
    size_t high = s->opts.out_high_water;

    if (pending <= high)
        return 0;
    if (pending > 4 * high) {
        xd_log_warnx("%s: peer reads too slowly (%zu bytes queued), closing",
                     s->peer, pending);
        xd_stream_error(s, "policy-violation", "output buffer overflow");
        return XD_ESTATE;
    }
    s->blocked = 1;
    return XD_EAGAIN;
}

int
xd_stream_send_raw(xd_stream *s, const char *data, size_t len)
{
    if (s->ended || s->closing || s->bev == NULL)
        return XD_ESTATE;
    bufferevent_write(s->bev, data, len);
    return check_output(s);
}

int
xd_stream_send(xd_stream *s, const xd_elem *e)
{
    if (s->ended || s->closing || s->bev == NULL)
        return XD_ESTATE;
    xd_buf_reset(&s->out);
    xd_elem_serialise(e, s->opts.content_ns, &s->out);
    if (s->opts.out_max_stanza_bytes != 0 &&
        s->out.len > s->opts.out_max_stanza_bytes)
        return XD_ELIMIT;
    if (s->opts.out_refuse_over_limit &&
        evbuffer_get_length(bufferevent_get_output(s->bev)) + s->out.len >
            4 * s->opts.out_high_water)
        return XD_ELIMIT;
    if (xd_log_enabled(XD_LOG_DEBUG)) {
        char *x = xd_redact_to_string(e, s->opts.content_ns);
        xd_log_debug("%s: out: %s", s->peer, x);
        free(x);
    }
    bufferevent_write(s->bev, s->out.data, s->out.len);
    return check_output(s);
}

int
xd_stream_send_stanza(xd_stream *s, xd_stanza *st)
{
    int rc = xd_stream_send(s, xd_stanza_root(st));

    xd_stanza_unref(st);
    return rc;
}

void
xd_stream_error(xd_stream *s, const char *condition, const char *text)
{
    if (s->ended || s->closing || s->bev == NULL)
        return;
    if (!s->header_sent)
        write_header(s, NULL, NULL, NULL, "1.0");
    xd_buf *b = &s->out;
    xd_buf_reset(b);
    xd_buf_appendf(b, "<stream:error><%s xmlns='" XD_NS_STREAM_ERRORS "'/>",
                   condition);
    if (text != NULL) {
        xd_buf_append_str(b, "<text xmlns='" XD_NS_STREAM_ERRORS "'>");
        xd_buf_append_text(b, text, strlen(text));
        xd_buf_append_str(b, "</text>");
    }
    xd_buf_append_str(b, "</stream:error></stream:stream>");
    bufferevent_write(s->bev, b->data, b->len);
    s->closing = 1;
    s->errored = 1;
    if (s->parser)
        xd_xml_parser_stop(s->parser);
    xd_log_info("%s: stream error sent: %s%s%s", s->peer, condition,
                text ? ": " : "", text ? text : "");
    finish_after_flush(s, XD_STREAM_END_ERROR_SENT, condition);
}

void
xd_stream_close(xd_stream *s)
{
    struct timeval tv = { CLOSE_TIMEOUT_S, 0 };

    if (s->ended || s->closing || s->bev == NULL)
        return;
    if (!s->header_sent)
        write_header(s, NULL, NULL, NULL, "1.0");
    bufferevent_write(s->bev, "</stream:stream>", 16);
    s->closing = 1;
    s->end_why = XD_STREAM_END_CLOSED;
    /* Keep reading: the peer may still send stanzas before its own close
     * tag (RFC 6120 4.4), and we wait for that tag. */
    evtimer_add(s->close_timer, &tv);
}

/* --- input ------------------------------------------------------------ */

static void
on_stream_open(void *arg, const xd_elem *header)
{
    xd_stream *s = arg;

    if (s->cb.opened && !s->ended)
        s->cb.opened(s, header, s->arg);
}

static void
on_stanza(void *arg, xd_stanza *st)
{
    xd_stream *s = arg;
    xd_elem *root = xd_stanza_root(st);

    if (s->ended || s->free_pending) {
        xd_stanza_unref(st);
        return;
    }
    if (xd_elem_is(root, "error", XD_NS_STREAMS)) {
        /* The peer ends the stream with an error: report its condition. */
        const char *cond = "undefined-condition";
        for (xd_elem *c = xd_elem_first(root); c; c = xd_elem_next(c))
            if (strcmp(xd_elem_ns(c), XD_NS_STREAM_ERRORS) == 0 &&
                strcmp(xd_elem_name(c), "text") != 0) {
                cond = xd_elem_name(c);
                break;
            }
        xd_log_info("%s: stream error received: %s", s->peer, cond);
        /* The condition lives in the stanza: copy it before freeing. */
        s->closing = 1;
        s->errored = 1;
        if (s->bev)
            bufferevent_write(s->bev, "</stream:stream>", 16);
        xd_xml_parser_stop(s->parser);
        char condbuf[48];
        snprintf(condbuf, sizeof(condbuf), "%s", cond);
        xd_stanza_unref(st);
        finish(s, XD_STREAM_END_ERROR_RECV, condbuf);
        return;
    }
    if (xd_log_enabled(XD_LOG_DEBUG)) {
        char *x = xd_redact_to_string(root, s->opts.content_ns);
        xd_log_debug("%s: in: %s", s->peer, x);
        free(x);
    }
    if (s->cb.stanza)
        s->cb.stanza(s, st, s->arg);
    else
        xd_stanza_unref(st);
}

static void
on_stream_close(void *arg)
{
    xd_stream *s = arg;

    if (s->ended)
        return;
    if (!s->closing && s->bev) {
        /* Answer the peer's close with ours, then end once flushed. */
        if (!s->header_sent)
            write_header(s, NULL, NULL, NULL, "1.0");
        bufferevent_write(s->bev, "</stream:stream>", 16);
        s->closing = 1;
    }
    xd_xml_parser_stop(s->parser);
    finish_after_flush(s, XD_STREAM_END_CLOSED, NULL);
}

static void
on_parse_error(void *arg, const char *condition, const char *text)
{
    xd_stream *s = arg;

    xd_log_info("%s: refusing input: %s (%s)", s->peer, condition,
                text ? text : "");
    xd_stream_error(s, condition, NULL);
}

static const xd_xml_callbacks parser_callbacks = {
    .stream_open = on_stream_open,
    .stanza = on_stanza,
    .stream_close = on_stream_close,
    .error = on_parse_error,
};

/* libevent 2.1 reads at most 4 KiB per read event, whatever the bufferevent's
 * max_single_read. A plain-socket stream with an io_chunk reads on here, up
 * to io_chunk bytes per event, so that one loop turn routes many stanzas and
 * each output they feed is written once. 1 if bytes were added to `in`; 0 at
 * EAGAIN, end of file or error (libevent's next read reports the last two). */
static int
read_ahead(xd_stream *s, struct evbuffer *in, size_t *budget)
{
    struct evbuffer_iovec v;
    evutil_socket_t fd = bufferevent_getfd(s->bev);

    if (!s->direct || s->opts.io_chunk == 0 || s->rate != NULL ||
        *budget == 0 || fd < 0)
        return 0;
    size_t want = *budget < 16384 ? *budget : 16384;
    ssize_t n = -1;
    /* A socket bufferevent keeps its input's end frozen but while it reads;
     * so do we. */
    evbuffer_unfreeze(in, 0);
    if (evbuffer_reserve_space(in, (ev_ssize_t)want, &v, 1) == 1) {
        n = recv(fd, v.iov_base, want, 0);
        if (n > 0) { /* else nothing is committed: the reservation lapses */
            v.iov_len = (size_t)n;
            evbuffer_commit_space(in, &v, 1);
            *budget -= (size_t)n;
        }
    }
    evbuffer_freeze(in, 0);
    return n > 0;
}

static void
stream_read_cb(struct bufferevent *bev, void *arg)
{
    xd_stream *s = arg;
    size_t budget = s->opts.io_chunk;

    (void)bev;
    s->depth++;
    while (!s->ended && !s->free_pending && !s->paused && !s->errored &&
           s->bev != NULL) {
        struct bufferevent *cur = s->bev;
        struct evbuffer *in = bufferevent_get_input(cur);
        struct evbuffer_iovec v;
        if (evbuffer_get_length(in) == 0 && !read_ahead(s, in, &budget))
            break;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t n = v.iov_len;
        s->feeding = 1;
        int rc = xd_xml_parser_feed(s->parser, v.iov_base, n);
        s->feeding = 0;
        /* The parser callbacks may have ended the stream, which frees the
         * bufferevent and with it `in`. */
        if (s->ended || s->free_pending)
            break;
        evbuffer_drain(in, n);
        if (rc != 0)
            break;
        if (s->restart_pending) {
            /* The parser stopped at the element that restarted the stream
             * (<proceed/>, <success/>). A peer must wait for it before it
             * sends more (RFC 6120 5.4.3.3, 6.4.6): whatever else it sent
             * with it was pipelined across the restart and is dropped,
             * never read by the old stream's parser or, for STARTTLS, as
             * the start of the TLS handshake. */
            s->restart_pending = 0;
            evbuffer_drain(in, evbuffer_get_length(in));
            if (s->tls_pending != NULL && begin_tls(s) != 0)
                finish(s, XD_STREAM_END_IO, NULL);
            break; /* the next bytes are read in a later loop turn */
        }
    }
    leave(s);
}

static void
stream_write_cb(struct bufferevent *bev, void *arg)
{
    xd_stream *s = arg;
    size_t pending = evbuffer_get_length(bufferevent_get_output(bev));

    s->depth++;
    if (s->direct && pending == 0)
        bufferevent_disable(bev, EV_WRITE); /* back to direct writes */
    if (s->finish_on_flush && pending == 0) {
        if (pending_total(s) > 0) {
            /* Only the TLS layer is done: wait for the socket below. */
            struct timeval tv = { 0, 20000 };
            evtimer_add(s->flush_timer, &tv);
        } else {
            finish(s, s->end_why,
                   s->end_condition[0] ? s->end_condition : NULL);
        }
    } else if (s->blocked && pending <= s->opts.out_high_water / 2) {
        s->blocked = 0;
        if (s->cb.writable)
            s->cb.writable(s, s->arg);
    }
    leave(s);
}

/* A hint for the operator on OpenSSL reasons a peer commonly causes. */
static const char *
tls_hint(unsigned long e)
{
    if (ERR_GET_LIB(e) != ERR_LIB_SSL)
        return "";
    switch (ERR_GET_REASON(e)) {
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
        return " (the peer does not accept our certificate)";
    case SSL_R_HTTP_REQUEST:
    case SSL_R_WRONG_VERSION_NUMBER:
        return " (the peer does not speak TLS on this port)";
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_UNSUPPORTED_PROTOCOL:
        return " (no TLS version or cipher in common)";
    default:
        return "";
    }
}

/*
 * Logs why TLS failed, in one line. libevent queues the code of
 * SSL_get_error() (SSL_ERROR_SSL, SSL_ERROR_SYSCALL) along with OpenSSL's
 * own errors: it says which kind of failure, not why, and OpenSSL prints
 * it as a meaningless "error:00000001:lib(0)::reason(1)", so it is only
 * used when nothing better is known. A peer that closes TCP without a TLS
 * close_notify is common and harmless: debug. Everything else is the
 * peer's doing (a client rejecting our certificate, a scanner): info.
 */
static void
log_tls_error(xd_stream *s)
{
    unsigned long e;
    int kind = 0;
    char why[512] = "";
    size_t n = 0;

    while (s->bev && (e = bufferevent_get_openssl_error(s->bev)) != 0) {
        if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL) {
            kind = (int)e;
            continue;
        }
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
        if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
            ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            kind = SSL_ERROR_SYSCALL;
            continue;
        }
#endif
        const char *reason = ERR_reason_error_string(e);
        char code[32];
        if (reason == NULL) {
            snprintf(code, sizeof(code), "error %#lx", e);
            reason = code;
        }
        if (n < sizeof(why))
            n += (size_t)snprintf(why + n, sizeof(why) - n, "%s%s%s",
                                  n > 0 ? "; " : "", reason, tls_hint(e));
    }
    if (why[0] != '\0')
        xd_log_info("%s: TLS failed: %s", s->peer, why);
    else if (kind == SSL_ERROR_SSL)
        xd_log_info("%s: TLS failed: protocol error", s->peer);
    else if (kind == SSL_ERROR_SYSCALL)
        xd_log_debug("%s: TLS: the peer closed the connection without "
                     "close_notify",
                     s->peer);
}

static void
stream_event_cb(struct bufferevent *bev, short what, void *arg)
{
    xd_stream *s = arg;

    (void)bev;
    s->depth++;
    if (what & BEV_EVENT_CONNECTED) {
        s->connecting = 0;
        bufferevent_set_timeouts(s->bev, NULL, NULL);
        direct_on(s);
        /* A stream writes whole stanzas as its loop turn ends: Nagle's
         * wait for an ACK (delayed on the other side) only adds latency. */
        int one = 1;
        evutil_socket_t fd = bufferevent_getfd(s->bev);
        if (fd >= 0 &&
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
            xd_log_debug("%s: TCP_NODELAY: %s", s->peer,
                         evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        if (s->cb.writable)
            s->cb.writable(s, s->arg);
    } else if (what & BEV_EVENT_EOF) {
        /* Data that arrived with the EOF has been read already. */
        finish(s, s->closing ? XD_STREAM_END_CLOSED : XD_STREAM_END_EOF, NULL);
    } else if (what & BEV_EVENT_TIMEOUT) {
        xd_log_info("%s: %s timed out", s->peer,
                    s->connecting ? "connection" : "i/o");
        finish(s, XD_STREAM_END_TIMEOUT, NULL);
    } else if (what & BEV_EVENT_ERROR) {
        int err = EVUTIL_SOCKET_ERROR();
        log_tls_error(s);
        if (s->connecting)
            xd_log_info("%s: connect failed: %s", s->peer,
                        evutil_socket_error_to_string(err));
        else if (err != 0)
            xd_log_debug("%s: socket error: %s", s->peer,
                         evutil_socket_error_to_string(err));
        finish(s, s->closing ? XD_STREAM_END_CLOSED : XD_STREAM_END_IO, NULL);
    }
    leave(s);
}

/* --- direct writes ---------------------------------------------------------
 *
 * On a plain socket, libevent would arm EPOLLOUT when output is queued and
 * disarm it once written: two epoll_ctl calls per write, which cost more
 * than the write itself when a room sends a stanza to a hundred sockets.
 * Instead, output queued during a loop turn is written by one event at the
 * end of that turn; only what the kernel does not take arms EPOLLOUT, and
 * libevent writes the rest as before.
 */

static void
flush_now_cb(evutil_socket_t fd, short what, void *arg)
{
    xd_stream *s = arg;

    (void)fd;
    (void)what;
    if (!s->direct || s->bev == NULL)
        return;
    if (s->opts.before_write != NULL)
        s->opts.before_write(s->opts.before_write_arg);
    struct evbuffer *out = bufferevent_get_output(s->bev);
    evutil_socket_t sock = bufferevent_getfd(s->bev);
    /* A socket bufferevent freezes its output's start so that only it
     * drains it: thaw it for our write, as libevent does for its own. */
    evbuffer_unfreeze(out, 1);
    while (evbuffer_get_length(out) > 0 && evbuffer_write(out, sock) > 0)
        ;
    evbuffer_freeze(out, 1);
    if (evbuffer_get_length(out) > 0) {
        /* Socket full (or failing): libevent takes over and reports. */
        bufferevent_enable(s->bev, EV_WRITE);
        return;
    }
    stream_write_cb(s->bev, s); /* drained: the same news libevent gives */
}

static void
output_added(struct evbuffer *buf, const struct evbuffer_cb_info *info,
             void *arg)
{
    xd_stream *s = arg;

    (void)buf;
    /* Once per turn (activating an active event does nothing); not while
     * libevent is writing a backlog. */
    if (info->n_added > 0 && s->direct &&
        !(bufferevent_get_enabled(s->bev) & EV_WRITE))
        event_active(s->flush_now, EV_WRITE, 0);
}

/* Plain socket streams write directly from here on. */
static void
direct_on(xd_stream *s)
{
    if (s->bev == NULL || bufferevent_openssl_get_ssl(s->bev) != NULL ||
        bufferevent_get_underlying(s->bev) != NULL ||
        bufferevent_getfd(s->bev) < 0 || s->direct)
        return;
    s->direct = 1;
    s->out_cb =
        evbuffer_add_cb(bufferevent_get_output(s->bev), output_added, s);
    if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
        bufferevent_disable(s->bev, EV_WRITE);
}

/* Before the socket goes under a TLS filter: libevent writes again. */
static void
direct_off(xd_stream *s)
{
    if (!s->direct)
        return;
    s->direct = 0;
    event_del(s->flush_now);
    evbuffer_remove_cb_entry(bufferevent_get_output(s->bev), s->out_cb);
    s->out_cb = NULL;
    bufferevent_enable(s->bev, EV_WRITE);
}

/* --- construction ----------------------------------------------------- */

static void
attach(xd_stream *s, struct bufferevent *bev)
{
    s->bev = bev;
    if (bufferevent_openssl_get_ssl(bev) != NULL)
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    bufferevent_setcb(bev, stream_read_cb, stream_write_cb, stream_event_cb, s);
    bufferevent_setwatermark(bev, EV_WRITE, s->opts.out_high_water / 2, 0);
    if (s->opts.io_chunk > 0) {
        bufferevent_set_max_single_read(bev, s->opts.io_chunk);
        bufferevent_set_max_single_write(bev, s->opts.io_chunk);
    }
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    direct_on(s);
}

struct event_base *
xd_stream_base_new(void)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base;

    if (cfg == NULL)
        return NULL;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

static xd_stream *
stream_alloc(struct event_base *base, const xd_stream_opts *opts,
             const xd_stream_callbacks *cb, void *arg)
{
    xd_stream *s = xd_xcalloc(1, sizeof(*s));

    s->base = base;
    s->opts = *opts;
    if (s->opts.out_high_water == 0)
        s->opts.out_high_water = XD_STREAM_OUT_HIGH_WATER_DEFAULT;
    if (s->opts.content_ns == NULL)
        s->opts.content_ns = XD_NS_CLIENT;
    s->cb = *cb;
    s->arg = arg;
    s->parser = xd_xml_parser_new(&s->opts.limits, &parser_callbacks, s);
    s->close_timer = evtimer_new(base, close_timer_cb, s);
    s->flush_now = event_new(base, -1, 0, flush_now_cb, s);
    s->flush_timer = evtimer_new(base, flush_check_cb, s);
    snprintf(s->peer, sizeof(s->peer), "?");
    return s;
}

static void
describe_peer(xd_stream *s, evutil_socket_t fd)
{
    struct sockaddr_storage ss;
    ev_socklen_t len = sizeof(ss);
    char host[48];

    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(s->peer, sizeof(s->peer), "%s:%u", host, ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(s->peer, sizeof(s->peer), "[%s]:%u", host,
                 ntohs(in6->sin6_port));
    }
}

xd_stream *
xd_stream_new(struct bufferevent *bev, const xd_stream_opts *opts,
              const xd_stream_callbacks *cb, void *arg)
{
    xd_stream *s = stream_alloc(bufferevent_get_base(bev), opts, cb, arg);

    describe_peer(s, bufferevent_getfd(bev));
    attach(s, bev);
    return s;
}

xd_stream *
xd_stream_new_fd(struct event_base *base, int fd, const xd_stream_opts *opts,
                 const xd_stream_callbacks *cb, void *arg)
{
    struct bufferevent *bev =
        bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);

    return xd_stream_new(bev, opts, cb, arg);
}

int
xd_stream_connect(struct event_base *base, const char *host, unsigned port,
                  const xd_stream_opts *opts, const xd_stream_callbacks *cb,
                  void *arg, xd_stream **out)
{
    xd_stream *s = stream_alloc(base, opts, cb, arg);
    struct bufferevent *bev =
        bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    char spec[300];
    struct timeval tv = { CONNECT_TIMEOUT_S, 0 };
    int rc;

    snprintf(s->peer, sizeof(s->peer), "%s:%u", host, port);
    s->connecting = 1;
    attach(s, bev);
    bufferevent_set_timeouts(bev, &tv, &tv);
    snprintf(spec, sizeof(spec), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
             port);
    if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) == 0) {
        rc = bufferevent_socket_connect(bev, (struct sockaddr *)&ss, sslen);
    } else {
        s->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
        rc = s->dns == NULL ? -1
                            : bufferevent_socket_connect_hostname(
                                  bev, s->dns, AF_UNSPEC, host, (int)port);
    }
    if (rc != 0) {
        xd_log_warnx("%s: cannot start connection", s->peer);
        s->ended = 1; /* no callback for a stream that never was */
        really_free(s);
        return XD_EIO;
    }
    *out = s;
    return 0;
}

void
xd_stream_free(xd_stream *s)
{
    if (s == NULL)
        return;
    if (s->depth > 0) {
        /* Inside one of our callbacks: stop everything now, free later. */
        s->free_pending = 1;
        shut(s);
        return;
    }
    really_free(s);
}

/* Puts the TLS filter prepared by xd_stream_starttls over the socket. What
 * is buffered has been dropped (the peer waits for <proceed/> before its
 * handshake, so the TLS layer must not read it as a ClientHello). */
static int
begin_tls(xd_stream *s)
{
    SSL *ssl = s->tls_pending;

    s->tls_pending = NULL;
    direct_off(s); /* the filter below writes through libevent */
    struct bufferevent *tls = bufferevent_openssl_filter_new(
        s->base, s->bev, ssl,
        s->tls_server ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
        BEV_OPT_CLOSE_ON_FREE);
    if (tls == NULL) {
        xd_log_warnx("%s: cannot start TLS", s->peer);
        SSL_free(ssl);
        return XD_EIO;
    }
    /* The filter now owns the socket bufferevent; anything still queued
     * on it (our <proceed/>) goes out first, in the clear. */
    attach(s, tls);
    return 0;
}

int
xd_stream_starttls(xd_stream *s, struct ssl_ctx_st *ctx, int server,
                   const char *sni)
{
    SSL *ssl = SSL_new(ctx);

    if (ssl == NULL || s->bev == NULL || s->tls_pending != NULL) {
        SSL_free(ssl);
        return XD_EIO;
    }
    if (!server && sni != NULL)
        SSL_set_tlsext_host_name(ssl, sni);
    s->tls_pending = ssl;
    s->tls_server = server ? 1 : 0;
    xd_stream_restart(s);
    if (s->feeding)
        return 0; /* the read loop begins TLS once this input is done */
    return begin_tls(s);
}

void
xd_stream_restart(xd_stream *s)
{
    s->header_sent = 0;
    /* From a callback this stops the parser at the current element; the
     * read loop drops the rest of the input. */
    xd_xml_parser_reset(s->parser);
    if (s->feeding)
        s->restart_pending = 1;
    else if (s->bev != NULL)
        evbuffer_drain(bufferevent_get_input(s->bev),
                       evbuffer_get_length(bufferevent_get_input(s->bev)));
}

int
xd_stream_is_tls(const xd_stream *s)
{
    SSL *ssl = s->bev != NULL ? bufferevent_openssl_get_ssl(s->bev) : NULL;

    /* Secure once the handshake is over, not when the filter is set. */
    return ssl != NULL && SSL_is_init_finished(ssl);
}

struct ssl_st *
xd_stream_ssl(const xd_stream *s)
{
    return xd_stream_is_tls(s) ? bufferevent_openssl_get_ssl(s->bev) : NULL;
}

const char *
xd_stream_peer(const xd_stream *s)
{
    return s->peer;
}

int
xd_stream_compact(xd_stream *s)
{
    if (s->depth > 0 || s->parser == NULL || s->bev == NULL ||
        evbuffer_get_length(bufferevent_get_input(s->bev)) > 0 ||
        !xd_xml_parser_release(s->parser))
        return 0;
    xd_buf_free(&s->out);
    return 1;
}

size_t
xd_stream_out_pending(const xd_stream *s)
{
    return s->bev ? evbuffer_get_length(bufferevent_get_output(s->bev))
                  : s->out_left;
}

void
xd_stream_pause(xd_stream *s)
{
    s->paused = 1;
    if (s->bev)
        bufferevent_disable(s->bev, EV_READ);
}

void
xd_stream_resume(xd_stream *s)
{
    if (!s->paused)
        return;
    s->paused = 0;
    if (s->bev && !s->ended) {
        bufferevent_enable(s->bev, EV_READ);
        /* Bytes already buffered would otherwise wait for the next read. */
        if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0)
            bufferevent_trigger(s->bev, EV_READ, BEV_OPT_DEFER_CALLBACKS);
    }
}

/* The socket's own bufferevent: under STARTTLS, the one below the filter,
 * so that shaping counts the bytes on the wire. */
static struct bufferevent *
wire(xd_stream *s)
{
    struct bufferevent *low = bufferevent_get_underlying(s->bev);

    return low ? low : s->bev;
}

int
xd_stream_set_read_rate(xd_stream *s, size_t bytes_per_s)
{
    if (s->bev == NULL)
        return XD_ESTATE;
    if (s->rate) {
        bufferevent_set_rate_limit(wire(s), NULL);
        ev_token_bucket_cfg_free(s->rate);
        s->rate = NULL;
    }
    if (bytes_per_s == 0)
        return 0;
    /* Tokens per tick; ticks of 100 ms keep the flow smooth. */
    struct timeval tick = { 0, 100000 };
    size_t per_tick = bytes_per_s / 10 ? bytes_per_s / 10 : 1;
    s->rate = ev_token_bucket_cfg_new(per_tick, bytes_per_s, EV_RATE_LIMIT_MAX,
                                      EV_RATE_LIMIT_MAX, &tick);
    if (s->rate == NULL || bufferevent_set_rate_limit(wire(s), s->rate) != 0)
        return XD_EIO;
    return 0;
}

void
xd_stream_set_arg(xd_stream *s, void *arg)
{
    s->arg = arg;
}

void
xd_stream_set_limits(xd_stream *s, const xd_xml_limits *lim)
{
    s->opts.limits = *lim;
    if (s->parser != NULL)
        xd_xml_parser_set_limits(s->parser, lim);
}
