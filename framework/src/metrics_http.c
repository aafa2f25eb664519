/*
 * metrics_http.c: the scrapers' side of the metrics, a deliberately small
 * HTTP/1.x responder on the process's loop: one request per connection,
 * answered then closed. Not libevent's evhttp: the 2.1 series Debian ships
 * has no bound on connections (evhttp_set_max_connections came in 2.2), and
 * a scrape needs none of keep-alive, chunked bodies or pipelining, which
 * only add parsing a hostile peer could reach.
 */
#define XD_LOG_AREA "metrics"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <xmppd/log.h>

#include "metrics_internal.h"

struct metrics_conn {
    struct metrics_http *h;
    struct bufferevent *bev;
    struct metrics_conn *prev, *next;
    time_t accepted; /* the whole request must come within the time-out */
};

struct metrics_http {
    xd_metrics *m;
    struct event_base *base;
    struct evconnlistener *l;
    struct event *resume; /* re-enables l after an accept error */
    unsigned port;
    size_t nconns;
    struct metrics_conn *conns;
    unsigned long refused; /* over XD_METRICS_MAX_CONNECTIONS */
};

static void
conn_free(struct metrics_conn *c)
{
    struct metrics_http *h = c->h;

    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    h->nconns--;
    bufferevent_free(c->bev);
    free(c);
}

static void
written_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_free(arg); /* the answer is out: one request per connection */
}

static void
respond(struct metrics_conn *c, const char *status, const char *type,
        const xd_buf *body, int head)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t len = body != NULL ? body->len : 0;

    evbuffer_add_printf(out,
                        "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
                        status, type, len,
                        strncmp(status, "405", 3) == 0 ? "Allow: GET, HEAD\r\n"
                                                       : "");
    if (!head && len > 0)
        evbuffer_add(out, body->data, len);
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setcb(c->bev, NULL, written_cb, NULL, c);
    bufferevent_enable(c->bev, EV_WRITE);
}

static void
respond_text(struct metrics_conn *c, const char *status, const char *text,
             int head)
{
    xd_buf b = XD_BUF_INIT;

    xd_buf_append_str(&b, text);
    respond(c, status, "text/plain; charset=utf-8", &b, head);
    xd_buf_free(&b);
}

/* The value of header `name` in `headers` (lines ended by CRLF, the first
 * line at the start), copied into out (truncated to size), or NULL. */
static const char *
header_value(const char *headers, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);

    for (const char *p = headers; *p != '\0'; p += strcspn(p, "\n") + 1) {
        if (strncasecmp(p, name, n) != 0 || p[n] != ':') {
            if (p[strcspn(p, "\n")] == '\0')
                break;
            continue;
        }
        p += n + 1;
        p += strspn(p, " \t");
        size_t len = strcspn(p, "\r\n");
        if (len >= size)
            len = size - 1;
        memcpy(out, p, len);
        out[len] = '\0';
        return out;
    }
    return NULL;
}

static void
answer(struct metrics_conn *c, char *req)
{
    char accept[512];
    char *save = NULL;
    char *eol = strstr(req, "\r\n"); /* read_cb saw the blank line */

    *eol = '\0';
    const char *headers = eol + 2;
    char *method = strtok_r(req, " ", &save);
    char *target = strtok_r(NULL, " ", &save);
    char *version = strtok_r(NULL, " ", &save);

    if (method == NULL || target == NULL || version == NULL ||
        strncmp(version, "HTTP/1.", 7) != 0) {
        respond_text(c, "400 Bad Request", "bad request\n", 0);
        return;
    }
    int head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        respond_text(c, "405 Method Not Allowed", "GET or HEAD only\n", 0);
        return;
    }
    size_t path_len = strcspn(target, "?");
    if (path_len != strlen("/metrics") ||
        strncmp(target, "/metrics", path_len) != 0) {
        respond_text(c, "404 Not Found", "not found: try /metrics\n", head);
        return;
    }
    const char *acc = header_value(headers, "accept", accept, sizeof(accept));
    xd_metrics_format format = xd_metrics_negotiate(acc);
    xd_buf body = XD_BUF_INIT;
    xd_metrics_render(c->h->m, format, &body);
    respond(c, "200 OK", xd_metrics_content_type(format), &body, head);
    xd_buf_free(&body);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
    struct metrics_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);

    /* The read time-out is one of inactivity: a peer sending a byte now
     * and then would hold the connection for ever without this. */
    if (end.pos < 0 && time(NULL) - c->accepted > XD_METRICS_TIMEOUT_S) {
        conn_free(c);
        return;
    }
    if (end.pos < 0) {
        if (len >= XD_METRICS_MAX_REQUEST_BYTES)
            respond_text(c, "431 Request Header Fields Too Large",
                         "request too large\n", 0);
        return;
    }
    size_t n = (size_t)end.pos + 4;
    if (n > XD_METRICS_MAX_REQUEST_BYTES) {
        respond_text(c, "431 Request Header Fields Too Large",
                     "request too large\n", 0);
        return;
    }
    char req[XD_METRICS_MAX_REQUEST_BYTES + 1];
    evbuffer_remove(in, req, n);
    req[n] = '\0';
    if (memchr(req, '\0', n) != NULL) {
        respond_text(c, "400 Bad Request", "bad request\n", 0);
        return;
    }
    answer(c, req);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what; /* end of file, error or time-out: all end the connection */
    conn_free(arg);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
          int salen, void *arg)
{
    struct metrics_http *h = arg;
    struct timeval tv = { XD_METRICS_TIMEOUT_S, 0 };

    (void)l;
    (void)sa;
    (void)salen;
    if (h->nconns >= XD_METRICS_MAX_CONNECTIONS) {
        if (h->refused++ == 0)
            xd_log_warnx("metrics: %d scrapers connected already; closing "
                         "more until one is done",
                         XD_METRICS_MAX_CONNECTIONS);
        evutil_closesocket(fd);
        return;
    }
    h->refused = 0;
    struct metrics_conn *c = xd_xcalloc(1, sizeof(*c));
    c->h = h;
    c->accepted = time(NULL);
    c->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->next = h->conns;
    if (h->conns != NULL)
        h->conns->prev = c;
    h->conns = c;
    h->nconns++;
    /* Past the bound the read stops: read_cb answers 431 then. */
    bufferevent_setwatermark(c->bev, EV_READ, 0, XD_METRICS_MAX_REQUEST_BYTES);
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
    bufferevent_enable(c->bev, EV_READ);
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct metrics_http *h = arg;

    (void)fd;
    (void)what;
    evconnlistener_enable(h->l);
}

/* Out of descriptors (or another accept error): pause a second instead of
 * spinning on a listener that stays readable. */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct metrics_http *h = arg;
    struct timeval tv = { 1, 0 };

    xd_log_warn("metrics: accept");
    evconnlistener_disable(l);
    evtimer_add(h->resume, &tv);
}

static int
is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

int
metrics_http_listen(xd_metrics *m, struct event_base *base, const char *address,
                    unsigned port, struct metrics_http **out)
{
    struct sockaddr_storage ss;
    socklen_t sslen;

    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (port > 65535)
        return XD_EINVAL;
    if (inet_pton(AF_INET, address, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        sslen = sizeof(*in);
    } else if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        sslen = sizeof(*in6);
    } else {
        xd_log_warnx("metrics_address: '%s' is not an IPv4 or IPv6 address",
                     address);
        return XD_EINVAL;
    }
    struct metrics_http *h = xd_xcalloc(1, sizeof(*h));
    h->m = m;
    h->base = base;
    h->l = evconnlistener_new_bind(base, accept_cb, h,
                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                       LEV_OPT_CLOSE_ON_EXEC,
                                   16, (struct sockaddr *)&ss, (int)sslen);
    if (h->l == NULL) {
        xd_log_warn("metrics: cannot listen on %s port %u", address, port);
        free(h);
        return XD_EIO;
    }
    evconnlistener_set_error_cb(h->l, accept_error_cb);
    h->resume = evtimer_new(base, resume_cb, h);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    h->port = port;
    if (getsockname(evconnlistener_get_fd(h->l), (struct sockaddr *)&bound,
                    &blen) == 0)
        h->port = ntohs(bound.ss_family == AF_INET
                            ? ((struct sockaddr_in *)&bound)->sin_port
                            : ((struct sockaddr_in6 *)&bound)->sin6_port);
    if (!is_loopback(&ss))
        xd_log_warnx("metrics: listening on %s, not a loopback address: "
                     "anyone who reaches it sees how many are online and "
                     "how busy the server is",
                     address);
    xd_log_info("metrics on http://%s%s%s:%u/metrics",
                ss.ss_family == AF_INET6 ? "[" : "", address,
                ss.ss_family == AF_INET6 ? "]" : "", h->port);
    *out = h;
    return 0;
}

unsigned
metrics_http_port(const struct metrics_http *h)
{
    return h->port;
}

void
metrics_http_free(struct metrics_http *h)
{
    if (h == NULL)
        return;
    while (h->conns != NULL)
        conn_free(h->conns);
    if (h->resume != NULL)
        event_free(h->resume);
    evconnlistener_free(h->l);
    free(h);
}
