/*
 * listener.c: the router's TCP listeners: c2s with STARTTLS, c2s with
 * direct TLS (XEP-0368), the XEP-0114 component port, server-to-server
 * (s2s_port), each on every
 * address of its list (c2s_address, component_address: IPv4 and IPv6,
 * an IPv6 socket taking IPv6 only). Client and incoming s2s connections
 * are admitted by
 * conn_limits.c. Out of descriptors, a
 * listener sheds the connections waiting on it (with a spare descriptor
 * kept for that) and pauses, instead of being woken again at once for the
 * same pending connection.
 */
#define XD_LOG_AREA "listener"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <xmppd/log.h>

#include "router.h"

enum listener_kind { LISTEN_C2S, LISTEN_C2S_TLS, LISTEN_COMPONENT, LISTEN_S2S };

static const char *const kind_names[] = { "c2s", "c2s direct TLS", "component",
                                          "s2s" };

/* How long a listener rests after running out of descriptors. */
#define PAUSE_MS 250
/* Pending connections shed at most per pause. */
#define SHED_MAX 64
/* Running out of descriptors is logged at most this often. */
#define REFUSED_LOG_S 10

/* The peer's address as the per-address limits key it. */
static void
peer_address(const struct sockaddr *sa, char *out, size_t size)
{
    char text[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN + 4];

    text[0] = '\0';
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text,
                  sizeof(text));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, text,
                  sizeof(text));
    snprintf(peer, sizeof(peer), "[%s]:0", text);
    auth_limits_address(peer, out, size);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
          int socklen, void *arg)
{
    struct router_listener *ctx = arg;
    char addr[64];

    (void)l;
    (void)socklen;
    if (ctx->kind != LISTEN_COMPONENT) {
        enum conn_kind kind = ctx->kind == LISTEN_S2S ? CONN_S2S_IN : CONN_C2S;
        peer_address(sa, addr, sizeof(addr));
        if (conn_limits_admit(ctx->r, kind, addr) != 0) {
            evutil_closesocket(fd);
            return;
        }
    }
    /* Stanzas go out as the loop turn ends, in as few writes as there are
     * turns: waiting for more (Nagle) only adds latency. */
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        xd_log_debug("TCP_NODELAY: %s",
                     evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    switch (ctx->kind) {
    case LISTEN_C2S:
        c2s_socket_accept(ctx->r, fd, 0, addr);
        break;
    case LISTEN_C2S_TLS:
        c2s_socket_accept(ctx->r, fd, 1, addr);
        break;
    case LISTEN_COMPONENT:
        comp_link_accept(ctx->r, fd);
        break;
    case LISTEN_S2S:
        s2s_in_accept(ctx->r, fd, addr);
        break;
    }
}

static void
spare_open(struct router *r)
{
    if (r->spare_open)
        return;
    r->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    r->spare_open = r->spare_fd >= 0;
}

static void
spare_close(struct router *r)
{
    if (r->spare_open)
        close(r->spare_fd);
    r->spare_open = 0;
}

/* Accepts and closes what waits on the listener, with the spare
 * descriptor freed for it: the peers learn at once that there is no room,
 * rather than waiting in the backlog. Returns how many were shed. */
static unsigned
shed_pending(struct router_listener *ctx)
{
    evutil_socket_t lfd = evconnlistener_get_fd(ctx->l);
    unsigned n = 0;

    while (n < SHED_MAX) {
        spare_close(ctx->r);
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            break;
        close(fd);
        n++;
    }
    spare_open(ctx->r);
    return n;
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct router_listener *ctx = arg;

    (void)fd;
    (void)what;
    if (ctx->l != NULL)
        evconnlistener_enable(ctx->l);
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct router_listener *ctx = arg;
    int err = EVUTIL_SOCKET_ERROR();
    time_t now = time(NULL);

    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
        xd_log_warnx("accept on %s listener: %s", kind_names[ctx->kind],
                     evutil_socket_error_to_string(err));
        return;
    }
    /* Out of descriptors or memory: the pending connection stays pending,
     * and a listener left armed would be woken for it again at once,
     * spinning the loop. Shed what waits, rest, then listen again. */
    ctx->refused += shed_pending(ctx);
    evconnlistener_disable(l);
    struct timeval tv = { 0, PAUSE_MS * 1000 };
    if (ctx->resume == NULL)
        ctx->resume = evtimer_new(ctx->r->base, resume_cb, ctx);
    if (ctx->resume == NULL || evtimer_add(ctx->resume, &tv) != 0)
        evconnlistener_enable(l); /* better busy than deaf */
    if (now - ctx->refused_logged >= REFUSED_LOG_S) {
        xd_log_warnx("accept on %s listener: %s; %lu connection(s) shed, "
                     "pausing",
                     kind_names[ctx->kind], evutil_socket_error_to_string(err),
                     ctx->refused);
        ctx->refused_logged = now;
        ctx->refused = 0;
    }
}

/* A bound, listening-ready socket for ss (IPv6 sockets IPv6 only, so
 * that `0.0.0.0 ::` binds both families on one port), or -1 with errno. */
static evutil_socket_t
bind_socket(const struct sockaddr *sa, int salen)
{
    evutil_socket_t fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0)
        return -1;
    if (evutil_make_socket_nonblocking(fd) != 0 ||
        evutil_make_listen_socket_reuseable(fd) != 0 ||
        (sa->sa_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
        bind(fd, sa, (socklen_t)salen) != 0) {
        int err = errno;
        evutil_closesocket(fd);
        errno = err;
        return -1;
    }
    return fd;
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
    evutil_socket_t fd = bind_socket((struct sockaddr *)&ss, sslen);
    if (fd < 0) {
        xd_log_warn("cannot listen on %s (%s)", spec, kind_names[kind]);
        return XD_EIO;
    }
    struct router_listener *ctx = xd_xcalloc(1, sizeof(*ctx));
    ctx->r = r;
    ctx->kind = kind;
    struct evconnlistener *l = evconnlistener_new(
        r->base, accept_cb, ctx, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        512, fd);
    if (l == NULL) {
        xd_log_warn("cannot listen on %s (%s)", spec, kind_names[kind]);
        evutil_closesocket(fd);
        free(ctx);
        return XD_EIO;
    }
    evconnlistener_set_error_cb(l, accept_error_cb);
    ctx->l = l;
    r->listeners =
        xd_xrealloc(r->listeners, (r->n_listeners + 1) * sizeof(*r->listeners));
    r->listeners[r->n_listeners++] = ctx;
    xd_log_info("listening on %s (%s)", spec, kind_names[kind]);
    return 0;
}

/* Listens on port at every address of list (separated by spaces, tabs or
 * commas; an IPv6 address bare or in brackets). */
static int
listen_all(struct router *r, enum listener_kind kind, const char *list,
           unsigned port)
{
    char *copy = xd_xstrdup(list ? list : ""), *save = NULL;
    int rc = 0, n = 0;

    for (char *a = strtok_r(copy, " \t,", &save); a != NULL && rc == 0;
         a = strtok_r(NULL, " \t,", &save)) {
        size_t len = strlen(a);
        if (len >= 2 && a[0] == '[' && a[len - 1] == ']') {
            a[len - 1] = '\0';
            a++;
        }
        rc = listen_one(r, kind, a, port);
        n++;
    }
    free(copy);
    if (rc == 0 && n == 0) {
        xd_log_warnx("no address to listen on (%s)", kind_names[kind]);
        rc = XD_EINVAL;
    }
    return rc;
}

int
listeners_start(struct router *r)
{
    const struct xmppd_conf *c = &r->conf;
    int rc;

    spare_open(r);
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
        nofile.rlim_cur != RLIM_INFINITY &&
        (unsigned long long)nofile.rlim_cur < c->c2s_max_connections + 64)
        xd_log_info("descriptor limit %llu is below c2s_max_connections "
                    "(%llu) and what the router needs besides; past it, "
                    "new connections are shed",
                    (unsigned long long)nofile.rlim_cur,
                    c->c2s_max_connections);
    if (c->component_port &&
        (rc = listen_all(r, LISTEN_COMPONENT, c->component_address,
                         (unsigned)c->component_port)) != 0)
        return rc;
    if (c->c2s_tls_port && r->tls != NULL &&
        (rc = listen_all(r, LISTEN_C2S_TLS, c->c2s_address,
                         (unsigned)c->c2s_tls_port)) != 0)
        return rc;
    if (c->s2s_port && c->s2s_require_tls && r->tls == NULL) {
        xd_log_warnx("s2s_require_tls needs a certificate (tls_cert)");
        return XD_EINVAL;
    }
    if (c->s2s_port && (rc = listen_all(r, LISTEN_S2S, c->s2s_address,
                                        (unsigned)c->s2s_port)) != 0)
        return rc;
    /* The plain c2s port last: a client that reaches it finds everything
     * else ready. */
    if (c->c2s_port && (rc = listen_all(r, LISTEN_C2S, c->c2s_address,
                                        (unsigned)c->c2s_port)) != 0)
        return rc;
    return 0;
}

void
listeners_stop(struct router *r)
{
    for (size_t i = 0; i < r->n_listeners; i++) {
        struct router_listener *ctx = r->listeners[i];
        if (ctx->l != NULL)
            evconnlistener_free(ctx->l);
        if (ctx->resume != NULL)
            event_free(ctx->resume);
        free(ctx);
    }
    free(r->listeners);
    r->listeners = NULL;
    r->n_listeners = 0;
    spare_close(r);
    /* Connections still open release nothing from here on: no listener is
     * left to admit more. */
    conn_limits_free(r);
}
