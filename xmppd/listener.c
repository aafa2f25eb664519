/*
 * listener.c: the router's TCP listeners: c2s with STARTTLS, c2s with
 * direct TLS (XEP-0368), and the XEP-0114 component port.
 */
#define XD_LOG_AREA "listener"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/listener.h>
#include <event2/util.h>

#include <xmppd/log.h>

#include "router.h"

enum listener_kind { LISTEN_C2S, LISTEN_C2S_TLS, LISTEN_COMPONENT };

static const char *const kind_names[] = { "c2s", "c2s direct TLS",
                                          "component" };

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
          int socklen, void *arg)
{
    struct router_listener *ctx = arg;

    (void)l;
    (void)sa;
    (void)socklen;
    /* Stanzas go out as the loop turn ends, in as few writes as there are
     * turns: waiting for more (Nagle) only adds latency. */
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        xd_log_debug("TCP_NODELAY: %s",
                     evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    switch (ctx->kind) {
    case LISTEN_C2S:
        c2s_socket_accept(ctx->r, fd, 0);
        break;
    case LISTEN_C2S_TLS:
        c2s_socket_accept(ctx->r, fd, 1);
        break;
    case LISTEN_COMPONENT:
        comp_link_accept(ctx->r, fd);
        break;
    }
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct router_listener *ctx = arg;
    int err = EVUTIL_SOCKET_ERROR();

    (void)l;
    /* EMFILE and friends: keep listening; the next accept may succeed. */
    xd_log_warnx("accept on %s listener: %s", kind_names[ctx->kind],
                 evutil_socket_error_to_string(err));
}

static int
listen_one(struct router *r, enum listener_kind kind, const char *addr,
           unsigned port)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    char spec[128];

    snprintf(spec, sizeof(spec), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr,
             port);
    if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
        xd_log_warnx("bad listen address %s", spec);
        return XD_EINVAL;
    }
    struct router_listener *ctx = &r->listeners[kind];
    ctx->r = r;
    ctx->kind = kind;
    struct evconnlistener *l = evconnlistener_new_bind(
        r->base, accept_cb, ctx,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 512,
        (struct sockaddr *)&ss, sslen);
    if (l == NULL) {
        xd_log_warn("cannot listen on %s (%s)", spec, kind_names[kind]);
        return XD_EIO;
    }
    evconnlistener_set_error_cb(l, accept_error_cb);
    ctx->l = l;
    xd_log_info("listening on %s (%s)", spec, kind_names[kind]);
    return 0;
}

int
listeners_start(struct router *r)
{
    const struct xmppd_conf *c = &r->conf;
    int rc;

    if (c->component_port &&
        (rc = listen_one(r, LISTEN_COMPONENT, c->component_address,
                         (unsigned)c->component_port)) != 0)
        return rc;
    if (c->c2s_tls_port && r->tls != NULL &&
        (rc = listen_one(r, LISTEN_C2S_TLS, c->c2s_address,
                         (unsigned)c->c2s_tls_port)) != 0)
        return rc;
    /* The plain c2s port last: a client that reaches it finds everything
     * else ready. */
    if (c->c2s_port && (rc = listen_one(r, LISTEN_C2S, c->c2s_address,
                                        (unsigned)c->c2s_port)) != 0)
        return rc;
    return 0;
}

void
listeners_stop(struct router *r)
{
    for (size_t i = 0; i < XD_NELEM(r->listeners); i++) {
        if (r->listeners[i].l != NULL)
            evconnlistener_free(r->listeners[i].l);
        r->listeners[i].l = NULL;
    }
}
