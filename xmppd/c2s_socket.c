/*
 * c2s_socket.c: the socket transport of a client session: an xd_stream on a
 * TCP connection, with STARTTLS or direct TLS (XEP-0368).
 */
#define XD_LOG_AREA "c2s"
#include <stdio.h>
#include <stdlib.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include <xmppd/log.h>
#include <xmppd/tls.h>

#include "router.h"

struct c2s_socket {
    struct router *r;
    xd_stream *stream;
    struct c2s *session;
    char addr[64];    /* admitted by conn_limits_admit(); released on free */
    int cert_checked; /* the first header over TLS was checked */
};

static void
sock_open(void *t, const char *from, const char *id)
{
    struct c2s_socket *s = t;

    xd_stream_open(s->stream, NULL, from, id, "1.0");
}

static int
sock_send(void *t, const xd_elem *e)
{
    struct c2s_socket *s = t;

    return xd_stream_send(s->stream, e);
}

static void
sock_error(void *t, const char *condition, const char *text)
{
    struct c2s_socket *s = t;

    xd_stream_error(s->stream, condition, text);
}

static void
sock_close(void *t)
{
    struct c2s_socket *s = t;

    xd_stream_close(s->stream);
}

static int
sock_starttls(void *t)
{
    struct c2s_socket *s = t;

    return xd_stream_starttls(s->stream, s->r->tls, 1, NULL);
}

static void
sock_restart(void *t)
{
    struct c2s_socket *s = t;

    xd_stream_restart(s->stream);
}

static int
sock_is_secure(void *t)
{
    struct c2s_socket *s = t;

    return xd_stream_is_tls(s->stream);
}

static const char *
sock_peer(void *t)
{
    struct c2s_socket *s = t;

    return xd_stream_peer(s->stream);
}

static void
sock_free(void *t)
{
    struct c2s_socket *s = t;

    conn_limits_release(s->r, CONN_C2S, s->addr);
    xd_stream_free(s->stream);
    free(s);
}

static int
sock_compact(void *t)
{
    struct c2s_socket *s = t;

    return xd_stream_compact(s->stream);
}

static void
sock_attach(void *t, struct c2s *c)
{
    struct c2s_socket *s = t;

    s->session = c;
}

/* Before authentication a stanza is small (SASL, an XEP-0077 form): the
 * stream is held to c2s_preauth_max_stanza_bytes until then. */
static xd_xml_limits
preauth_limits(const struct router *r)
{
    xd_xml_limits lim = r->limits;

    if (r->conf.c2s_preauth_max_stanza_bytes < lim.max_stanza_bytes)
        lim.max_stanza_bytes = (size_t)r->conf.c2s_preauth_max_stanza_bytes;
    return lim;
}

static void
sock_authenticated(void *t)
{
    struct c2s_socket *s = t;

    xd_stream_set_limits(s->stream, &s->r->limits);
}

static const struct c2s_transport_ops socket_ops = {
    .open = sock_open,
    .send = sock_send,
    .error = sock_error,
    .close = sock_close,
    .starttls = sock_starttls,
    .restart = sock_restart,
    .is_secure = sock_is_secure,
    .peer = sock_peer,
    .free = sock_free,
    .compact = sock_compact,
    .attach = sock_attach,
    .authenticated = sock_authenticated,
};

/* The first header over TLS names a host of ours that the certificate the
 * client was shown should cover: when it does not (the client asked for
 * another name by SNI, or none, and got the default), its checks refuse
 * us; tell the operator which certificate is missing. */
static void
check_cert(struct c2s_socket *s, const xd_elem *header)
{
    struct ssl_st *ssl = xd_stream_ssl(s->stream);
    const char *to = xd_elem_attr(header, "to");
    char *host = NULL;

    if (s->cert_checked || ssl == NULL || to == NULL)
        return;
    s->cert_checked = 1;
    if (xd_jid_prep_domain(to, &host) == 0 &&
        router_is_local_host(s->r, host) &&
        !xd_tls_server_presented(ssl, host)) {
        const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        xd_log_warnx("%s: stream to %s, but the certificate presented (for "
                     "SNI %s) does not cover it",
                     xd_stream_peer(s->stream), host, sni ? sni : "(none)");
    }
    free(host);
}

static void
on_opened(xd_stream *st, const xd_elem *header, void *arg)
{
    struct c2s_socket *s = arg;

    (void)st;
    check_cert(s, header);
    c2s_on_open(s->session, header);
}

static void
on_stanza(xd_stream *st, xd_stanza *stanza, void *arg)
{
    struct c2s_socket *s = arg;

    (void)st;
    c2s_on_stanza(s->session, stanza);
}

static void
on_closed(xd_stream *st, xd_stream_end why, const char *condition, void *arg)
{
    struct c2s_socket *s = arg;

    (void)st;
    (void)condition;
    /* frees the session and through it us, or only us (released) */
    c2s_on_closed(s->session, why == XD_STREAM_END_EOF ||
                                  why == XD_STREAM_END_IO ||
                                  why == XD_STREAM_END_TIMEOUT);
}

static const xd_stream_callbacks socket_callbacks = {
    .opened = on_opened,
    .stanza = on_stanza,
    .closed = on_closed,
};

void
c2s_socket_accept(struct router *r, int fd, int direct_tls, const char *addr)
{
    struct c2s_socket *s = xd_xcalloc(1, sizeof(*s));
    xd_stream_opts opts = {
        .content_ns = XD_NS_CLIENT,
        .limits = preauth_limits(r),
        .out_high_water = r->conf.out_high_water_bytes,
        .before_write = db_batch_before_write,
        .before_write_arg = r,
    };
    struct bufferevent *bev;

    if (direct_tls) {
        SSL *ssl = SSL_new(r->tls);
        bev = ssl ? bufferevent_openssl_socket_new(r->base, fd, ssl,
                                                   BUFFEREVENT_SSL_ACCEPTING,
                                                   BEV_OPT_CLOSE_ON_FREE)
                  : NULL;
        if (bev == NULL) {
            xd_log_warnx("cannot set up TLS for a new connection");
            conn_limits_release(r, CONN_C2S, addr);
            SSL_free(ssl);
            evutil_closesocket(fd);
            free(s);
            return;
        }
    } else {
        bev = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    s->r = r;
    snprintf(s->addr, sizeof(s->addr), "%s", addr);
    s->stream = xd_stream_new(bev, &opts, &socket_callbacks, s);
    if (xd_stream_set_read_rate(s->stream,
                                (size_t)r->conf.c2s_max_bytes_per_s) != 0)
        xd_log_warnx("%s: cannot shape the connection",
                     xd_stream_peer(s->stream));
    s->session = c2s_new(r, &socket_ops, s);
    r->stats.c2s_accepted++;
}
