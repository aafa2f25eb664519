/*
 * http_client.c: HTTP requests on the event loop. libcurl's multi-socket
 * interface tells us which sockets to watch and when to wake it; libevent
 * watches them; completed transfers are handed to their callbacks.
 *
 * Two halves: the multi driver (sock_cb, timer_cb, drive, deliver, cancel),
 * which knows nothing of HTTP, and easy_setup_http, the one function that
 * turns an xd_http_req into easy-handle options. Another protocol (SMTP for
 * the email gateway) is another setup function feeding the same driver.
 */
#define XD_LOG_AREA "http"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include <xmppd/buf.h>
#include <xmppd/http.h>
#include <xmppd/log.h>

/* A socket libcurl asked us to watch; curl_multi_assign()ed to its fd. */
struct http_sock {
    xd_http_client *cl; /* owner */
    struct event *ev;   /* read and/or write, persistent */
    struct http_sock *prev, *next;
};

struct xd_http_client {
    struct event_base *base; /* borrowed */
    CURLM *multi;
    struct event *timer;     /* libcurl's single time-out */
    xd_http_call *calls;     /* in flight, not yet delivered */
    struct http_sock *socks; /* watched, freed at the latest with us */
    int busy;                /* inside drive(): defer our own free */
    int free_pending;        /* xd_http_client_free called while busy */
};

struct xd_http_call {
    xd_http_result res; /* first member: xd_http_result_header finds us */
    xd_http_client *cl;
    CURL *easy;
    xd_http_cb cb;
    void *arg;
    struct curl_slist *headers; /* request headers, live with the easy */
    char *body;                 /* copy of the request body */
    size_t max_body;
    xd_buf resp_body;
    xd_buf resp_headers; /* "name\0value\0" pairs of the last response */
    int too_big;         /* a cap was passed: TOO_BIG_BODY or TOO_BIG_HEADERS */
    int ending;          /* the callback is running */
    char errbuf[CURL_ERROR_SIZE];
    xd_http_call *prev, *next;
};

enum { TOO_BIG_BODY = 1, TOO_BIG_HEADERS };

/* The multi driver. */

static void
call_unlink(xd_http_call *call)
{
    xd_http_client *cl = call->cl;

    if (call->prev != NULL)
        call->prev->next = call->next;
    else
        cl->calls = call->next;
    if (call->next != NULL)
        call->next->prev = call->prev;
    call->prev = call->next = NULL;
}

static void
call_free(xd_http_call *call)
{
    curl_easy_cleanup(call->easy);
    curl_slist_free_all(call->headers);
    free(call->body);
    xd_buf_free(&call->resp_body);
    xd_buf_free(&call->resp_headers);
    free(call);
}

static void
sock_free(xd_http_client *cl, struct http_sock *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        cl->socks = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    if (s->ev != NULL)
        event_free(s->ev);
    free(s);
}

static xd_http_error
map_error(const xd_http_call *call, CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return XD_HTTP_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return XD_HTTP_ETIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return XD_HTTP_ETOOBIG;
    case CURLE_WRITE_ERROR:
        return call->too_big ? XD_HTTP_ETOOBIG : XD_HTTP_EINTERNAL;
    case CURLE_COULDNT_CONNECT:
        return XD_HTTP_ECONNECT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return XD_HTTP_ERESOLVE;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        return XD_HTTP_ETLS;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_TOO_MANY_REDIRECTS:
        return XD_HTTP_EPROTO;
    default:
        return XD_HTTP_EINTERNAL;
    }
}

/* Hands a finished transfer to its callback, then frees it. */
static void
call_finish(xd_http_call *call, CURLcode code)
{
    xd_http_client *cl = call->cl;
    long status = 0;

    call_unlink(call);
    curl_multi_remove_handle(cl->multi, call->easy);
    curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
    call->res.status = status;
    call->res.error = map_error(call, code);
    call->res.body = call->resp_body.data ? call->resp_body.data : "";
    call->res.body_len = call->resp_body.len;
    if (call->res.error == XD_HTTP_OK) {
        call->res.error_text = "";
    } else {
        /* Ours says which cap, where libcurl's would say "write error". */
        if (call->too_big == TOO_BIG_HEADERS)
            snprintf(call->errbuf, sizeof(call->errbuf),
                     "response headers over %d bytes",
                     XD_HTTP_MAX_HEADER_BYTES);
        else if (call->res.error == XD_HTTP_ETOOBIG)
            snprintf(call->errbuf, sizeof(call->errbuf),
                     "response body over %zu bytes", call->max_body);
        call->res.error_text =
            call->errbuf[0] != '\0' ? call->errbuf : curl_easy_strerror(code);
    }
    call->ending = 1;
    call->cb(&call->res, call->arg);
    call_free(call);
}

/* Delivers every transfer libcurl has finished. A callback may cancel other
 * calls (curl_multi_remove_handle drops their queued messages too) or free
 * the client, after which nothing more is read. */
static void
deliver(xd_http_client *cl)
{
    CURLMsg *m;
    int left;

    while (!cl->free_pending &&
           (m = curl_multi_info_read(cl->multi, &left)) != NULL) {
        char *priv = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        /* m is invalid once the handle is removed: read it first. */
        CURLcode code = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        call_finish((xd_http_call *)priv, code);
    }
}

static void
client_destroy(xd_http_client *cl)
{
    while (cl->calls != NULL) {
        xd_http_call *call = cl->calls;

        call_unlink(call);
        curl_multi_remove_handle(cl->multi, call->easy);
        call_free(call);
    }
    /* Closing the cached connections may call sock_cb and timer_cb, so the
     * sockets and the timer go after the multi handle. */
    curl_multi_cleanup(cl->multi);
    while (cl->socks != NULL)
        sock_free(cl, cl->socks);
    event_free(cl->timer);
    free(cl);
    curl_global_cleanup();
}

/* Lets libcurl act on a socket (or on its time-out: CURL_SOCKET_TIMEOUT),
 * then delivers what finished. */
static void
drive(xd_http_client *cl, curl_socket_t fd, int flags)
{
    int running;

    cl->busy++;
    CURLMcode mc = curl_multi_socket_action(cl->multi, fd, flags, &running);
    if (mc != CURLM_OK)
        xd_log_warnx("curl_multi_socket_action: %s", curl_multi_strerror(mc));
    deliver(cl);
    if (--cl->busy == 0 && cl->free_pending)
        client_destroy(cl);
}

static void
sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_sock *s = arg;
    int flags = 0;

    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    /* s may be freed inside: libcurl can close the socket. */
    drive(s->cl, fd, flags);
}

static void
timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
    drive(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_SOCKETFUNCTION: watch `fd` for `what`, or stop watching it. */
static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    xd_http_client *cl = userp;
    struct http_sock *s = sockp;

    if (what == CURL_POLL_REMOVE) {
        if (s != NULL)
            sock_free(cl, s);
        return 0;
    }
    if (s == NULL) {
        s = xd_xcalloc(1, sizeof(*s));
        s->cl = cl;
        s->next = cl->socks;
        if (cl->socks != NULL)
            cl->socks->prev = s;
        cl->socks = s;
        curl_multi_assign(cl->multi, fd, s);
    } else if (s->ev != NULL) {
        event_free(s->ev);
    }
    short kind = EV_PERSIST;
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    s->ev = event_new(cl->base, fd, kind, sock_event_cb, s);
    if (s->ev == NULL || event_add(s->ev, NULL) != 0) {
        xd_log_warnx("cannot watch socket %d", (int)fd);
        return -1;
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: wake libcurl in timeout_ms (-1: never). Never
 * call libcurl from here; the loop does it in timer_event_cb. */
static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    xd_http_client *cl = userp;

    if (timeout_ms < 0) {
        evtimer_del(cl->timer);
        return 0;
    }
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return evtimer_add(cl->timer, &tv) == 0 ? 0 : -1;
}

/* HTTP: one easy handle from one xd_http_req. */

static size_t
body_cb(char *data, size_t size, size_t n, void *arg)
{
    xd_http_call *call = arg;
    size_t len = size * n;

    /* A different count than len makes libcurl stop with a write error. */
    if (len > call->max_body - call->resp_body.len) {
        call->too_big = TOO_BIG_BODY;
        return 0;
    }
    xd_buf_append(&call->resp_body, data, len);
    return len;
}

static size_t
header_cb(char *data, size_t size, size_t n, void *arg)
{
    xd_http_call *call = arg;
    size_t len = size * n, end = len;

    /* A status line starts a response (after a 100 or a redirect): only
     * the last response's headers are kept. */
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        xd_buf_reset(&call->resp_headers);
        return len;
    }
    if (call->resp_headers.len + len > XD_HTTP_MAX_HEADER_BYTES) {
        call->too_big = TOO_BIG_HEADERS;
        return 0;
    }
    while (end > 0 && (data[end - 1] == '\r' || data[end - 1] == '\n' ||
                       data[end - 1] == ' ' || data[end - 1] == '\t'))
        end--;
    const char *colon = memchr(data, ':', end);
    if (colon == NULL || colon == data || memchr(data, '\0', end) != NULL)
        return len; /* the blank line, a folded line or junk */
    const char *value = colon + 1;
    while (value < data + end && (*value == ' ' || *value == '\t'))
        value++;
    xd_buf_append(&call->resp_headers, data, (size_t)(colon - data));
    xd_buf_append(&call->resp_headers, "", 1);
    xd_buf_append(&call->resp_headers, value, (size_t)(data + end - value));
    xd_buf_append(&call->resp_headers, "", 1);
    return len;
}

/* An RFC 9110 token: what a method may be made of. */
static int
is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (strchr("!#$%&'*+-.^_`|~", *s) == NULL &&
            !((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
              (*s >= 'A' && *s <= 'Z')))
            return 0;
    return 1;
}

/* Only http and https, and a URL libcurl can parse. */
static int
url_ok(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int ok = 0;

    if (u == NULL)
        xd_fatalx("curl_url: out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
        ok =
            strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0;
    curl_free(scheme);
    curl_url_cleanup(u);
    return ok;
}

#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string forms */
#define SET_PROTOCOLS(e, opt, str, bits) curl_easy_setopt(e, opt##_STR, str)
#else
#define SET_PROTOCOLS(e, opt, str, bits) curl_easy_setopt(e, opt, (long)(bits))
#endif

/* Sets call->easy up for `req`: 0, or XD_EINVAL for a request we refuse.
 * Everything req points to is copied or only read here. */
static int
easy_setup_http(xd_http_call *call, const xd_http_req *req)
{
    CURL *e = call->easy;
    int has_expect = 0;

    if (req->url == NULL || !url_ok(req->url))
        return XD_EINVAL;
    const char *method = req->method;
    if (method == NULL)
        method = req->body != NULL ? "POST" : "GET";
    if (!is_token(method))
        return XD_EINVAL;
    for (const char *const *h = req->headers; h != NULL && *h != NULL; h++) {
        if (strpbrk(*h, "\r\n") != NULL)
            return XD_EINVAL;
        if (strncasecmp(*h, "Expect:", 7) == 0)
            has_expect = 1;
        call->headers = curl_slist_append(call->headers, *h);
        if (call->headers == NULL)
            xd_fatalx("curl_slist_append: out of memory");
    }
    /* libcurl would otherwise wait for "100 Continue" before big bodies,
     * up to a second with servers that never send one. */
    if (!has_expect &&
        (call->headers = curl_slist_append(call->headers, "Expect:")) == NULL)
        xd_fatalx("curl_slist_append: out of memory");

    call->max_body = req->max_response_bytes
                         ? req->max_response_bytes
                         : XD_HTTP_MAX_RESPONSE_BYTES_DEFAULT;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, call);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "libxmppd/" XMPPD_VERSION);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
    curl_easy_setopt(
        e, CURLOPT_TIMEOUT_MS,
        (long)(req->timeout_ms ? req->timeout_ms : XD_HTTP_TIMEOUT_MS_DEFAULT));
    SET_PROTOCOLS(e, CURLOPT_PROTOCOLS, "http,https",
                  CURLPROTO_HTTP | CURLPROTO_HTTPS);
    if (req->follow_redirects) {
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)XD_HTTP_MAX_REDIRECTS);
        SET_PROTOCOLS(e, CURLOPT_REDIR_PROTOCOLS, "http,https",
                      CURLPROTO_HTTP | CURLPROTO_HTTPS);
    } else {
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    }
    if (req->tls_insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (req->ca_file != NULL) {
        /* These anchors only: no system directory beside them. */
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    }

    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        /* A Content-Length announced over the cap fails before the body. */
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                         (curl_off_t)call->max_body);
        if (strcmp(method, "GET") == 0 && req->body == NULL) {
            curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        } else if (req->body != NULL || strcmp(method, "POST") == 0) {
            /* Never NULL: libcurl would read the body from stdin. */
            call->body = xd_xmalloc(req->body_len + 1);
            if (req->body_len > 0)
                memcpy(call->body, req->body, req->body_len);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)req->body_len);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body);
        }
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
        strcmp(method, "HEAD") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    else if (strcmp(method, "GET") == 0 && req->body != NULL)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "GET");
    return 0;
}

/* The public API. */

int
xd_http_client_new(struct event_base *base, xd_http_client **out)
{
    /* libcurl counts these calls; xd_http_client_free gives ours back. */
    CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        xd_log_warnx("curl_global_init: %s", curl_easy_strerror(code));
        return XD_EIO;
    }
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (!(v->features & CURL_VERSION_ASYNCHDNS))
        xd_log_warnx("libcurl %s resolves names synchronously: every name "
                     "lookup will stall the event loop",
                     v->version);

    xd_http_client *cl = xd_xcalloc(1, sizeof(*cl));
    cl->base = base;
    cl->multi = curl_multi_init();
    cl->timer = evtimer_new(base, timer_event_cb, cl);
    if (cl->multi == NULL || cl->timer == NULL) {
        xd_log_warnx("cannot make a libcurl multi handle");
        if (cl->multi != NULL)
            curl_multi_cleanup(cl->multi);
        if (cl->timer != NULL)
            event_free(cl->timer);
        free(cl);
        curl_global_cleanup();
        return XD_EIO;
    }
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
    *out = cl;
    return 0;
}

void
xd_http_client_free(xd_http_client *cl)
{
    if (cl == NULL || cl->free_pending)
        return;
    if (cl->busy) {
        /* Inside a callback that drive() is running: cancel now, free when
         * drive() unwinds. */
        while (cl->calls != NULL)
            xd_http_cancel(cl->calls);
        cl->free_pending = 1;
        return;
    }
    client_destroy(cl);
}

int
xd_http_request(xd_http_client *cl, const xd_http_req *req, xd_http_cb cb,
                void *arg, xd_http_call **out)
{
    if (cl == NULL || req == NULL || cb == NULL)
        return XD_EINVAL;
    if (cl->free_pending)
        return XD_ESTATE;

    xd_http_call *call = xd_xcalloc(1, sizeof(*call));
    call->cl = cl;
    call->cb = cb;
    call->arg = arg;
    if ((call->easy = curl_easy_init()) == NULL)
        xd_fatalx("curl_easy_init: out of memory");
    int rc = easy_setup_http(call, req);
    if (rc != 0) {
        call_free(call);
        return rc;
    }
    /* This only arms the timer (timer_cb): nothing is sent, and nothing
     * can finish, before the loop runs. */
    CURLMcode mc = curl_multi_add_handle(cl->multi, call->easy);
    if (mc != CURLM_OK) {
        xd_log_warnx("%s: curl_multi_add_handle: %s", req->url,
                     curl_multi_strerror(mc));
        call_free(call);
        return XD_EIO;
    }
    call->next = cl->calls;
    if (cl->calls != NULL)
        cl->calls->prev = call;
    cl->calls = call;
    if (out != NULL)
        *out = call;
    return 0;
}

void
xd_http_cancel(xd_http_call *call)
{
    if (call == NULL || call->ending)
        return;
    call_unlink(call);
    curl_multi_remove_handle(call->cl->multi, call->easy);
    call_free(call);
}

const char *
xd_http_result_header(const xd_http_result *res, const char *name)
{
    const xd_http_call *call = (const xd_http_call *)res;
    const char *p = call->resp_headers.data;

    if (p == NULL)
        return NULL;
    const char *end = p + call->resp_headers.len;
    while (p < end) {
        const char *value = p + strlen(p) + 1;
        if (strcasecmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

const char *
xd_http_strerror(xd_http_error e)
{
    switch (e) {
    case XD_HTTP_OK:
        return "ok";
    case XD_HTTP_ETIMEOUT:
        return "timeout";
    case XD_HTTP_ETOOBIG:
        return "too large";
    case XD_HTTP_ETLS:
        return "tls";
    case XD_HTTP_ECONNECT:
        return "connect";
    case XD_HTTP_ERESOLVE:
        return "resolve";
    case XD_HTTP_EPROTO:
        return "protocol";
    case XD_HTTP_EINTERNAL:
        return "internal";
    }
    return "unknown";
}
