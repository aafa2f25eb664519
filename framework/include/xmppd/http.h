/*
 * http.h: an HTTP client on the component's event loop (libcurl's
 * multi-socket interface driven by libevent: no blocking call, no thread of
 * ours).
 *
 *     xd_http_client *http;
 *     xd_http_client_new(xd_component_base(comp), &http);
 *     xd_http_req req = { .url = "https://api.example.net/v1/sms",
 *                         .headers = hdrs, .body = json,
 *                         .body_len = strlen(json) };
 *     xd_http_request(http, &req, sent_cb, gw, &gw->call);
 *
 * The callback runs once per request, from the loop, never from inside
 * xd_http_request, unless the call is cancelled first. Safe defaults:
 * TLS peer and host verification on, redirects not followed, a 30 s total
 * time-out, a 1 MiB response body cap (a bigger response fails with
 * XD_HTTP_ETOOBIG; it is never handed over truncated), only http and https
 * URLs, no Content-Encoding asked for (so no decompression bomb). libcurl's
 * proxy variables (http_proxy, https_proxy, no_proxy) apply. The process
 * should ignore SIGPIPE, as xd_component_run does.
 *
 * libcurl's global state: each client takes a reference on it with
 * curl_global_init() and gives it back with curl_global_cleanup(), which
 * libcurl counts, so clients may come and go; libxmppd keeps no global of
 * its own. Before libcurl 7.84 those two calls are not thread-safe: create
 * and free clients from one thread (the loop's).
 *
 * Other protocols (the email gateway's SMTP): http_client.c keeps the
 * libcurl multi driver (sockets, timers, completion, cancel) apart from the
 * one function that sets an easy handle up for HTTP (`easy_setup_http`).
 * SMTP is a second setup function (CURLOPT_MAIL_FROM, CURLOPT_MAIL_RCPT,
 * CURLOPT_READFUNCTION, smtp/smtps only) in an smtp_client.c of its own,
 * handing its easy handle to the same driver on the same client: the
 * driver then moves to an internal header, and nothing else changes.
 */
#ifndef XMPPD_HTTP_H
#define XMPPD_HTTP_H

#include <stddef.h>
#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;

typedef struct xd_http_client xd_http_client; /* one curl multi handle */
typedef struct xd_http_call xd_http_call;     /* one request in flight */

#define XD_HTTP_TIMEOUT_MS_DEFAULT         30000
#define XD_HTTP_MAX_RESPONSE_BYTES_DEFAULT (1024 * 1024)
/* Response headers kept per call; more fails the call with ETOOBIG. */
#define XD_HTTP_MAX_HEADER_BYTES (64 * 1024)
/* Redirects followed at most, when follow_redirects is set. */
#define XD_HTTP_MAX_REDIRECTS 5

/* What became of a request. Any HTTP status (404, 500...) is XD_HTTP_OK:
 * a response arrived; look at `status`. */
typedef enum xd_http_error {
    XD_HTTP_OK = 0,
    XD_HTTP_ETIMEOUT,  /* no complete response within timeout_ms */
    XD_HTTP_ETOOBIG,   /* body over max_response_bytes, or headers too big */
    XD_HTTP_ETLS,      /* TLS handshake or certificate verification failed */
    XD_HTTP_ECONNECT,  /* connection refused or host unreachable */
    XD_HTTP_ERESOLVE,  /* the host name did not resolve */
    XD_HTTP_EPROTO,    /* the server broke HTTP, or the connection dropped */
    XD_HTTP_EINTERNAL, /* anything else libcurl reports (see error_text) */
} xd_http_error;

/* One request. Everything is copied by xd_http_request: the struct and what
 * it points to may go as soon as that call returns. Zero means the default
 * in every field, so `{ .url = u }` is a plain GET. */
typedef struct xd_http_req {
    const char *url;    /* http:// or https:// (required) */
    const char *method; /* NULL: "GET", or "POST" when body is set */
    /* "Name: value" strings, NULL-terminated; NULL for none. A line with CR
     * or LF is refused. Set Content-Type yourself for a body. */
    const char *const *headers;
    const void *body; /* request body (bytes), or NULL */
    size_t body_len;
    unsigned timeout_ms;       /* whole transfer; 0: 30 s */
    size_t max_response_bytes; /* body cap; 0: 1 MiB */
    int follow_redirects;      /* 0: a 3xx is the result (Location header) */
    const char *ca_file;       /* PEM trust anchors; NULL: the system store */
    int tls_insecure;          /* 1: no certificate check. Tests only */
} xd_http_req;

/* What the callback gets; borrowed, valid only during the callback. */
typedef struct xd_http_result {
    xd_http_error error;
    const char *error_text; /* human-readable; "" when error is XD_HTTP_OK */
    long status;      /* HTTP status code; 0 when no status line arrived */
    const char *body; /* never NULL; NUL-terminated after body_len */
    size_t body_len;  /* bytes of body, which may contain NULs */
} xd_http_result;

/* Called once when the request ends, unless it was cancelled first. The
 * call handle is gone when this returns: forget your copy of it here. */
typedef void (*xd_http_cb)(const xd_http_result *res, void *arg);

/* A client whose sockets and timers live on `base` (borrowed; it must
 * outlive the client). 0 and *out (xd_http_client_free it), or XD_EIO
 * (libcurl failed to initialise, logged). Never blocks. */
int xd_http_client_new(struct event_base *base, xd_http_client **out);
/* Cancels every call in flight (their callbacks never run), closes the
 * connections and frees the client. Safe inside an xd_http_cb. NULL is a
 * no-op. */
void xd_http_client_free(xd_http_client *cl);

/* Starts `req`; `cb(res, arg)` runs later from the loop. Returns 0 and,
 * unless `out` is NULL, stores the call (borrowed: valid until its callback
 * runs or it is cancelled) in *out; or XD_EINVAL (no URL or callback, a
 * scheme other than http/https, a malformed URL or method, a header with CR
 * or LF), XD_ESTATE (the client is being freed) or XD_EIO, and the callback
 * never runs. Never blocks: names are resolved by libcurl's threaded
 * resolver. */
int xd_http_request(xd_http_client *cl, const xd_http_req *req, xd_http_cb cb,
                    void *arg, xd_http_call **out);
/* Stops the call and frees it; its callback never runs. Safe inside any
 * callback, including another call's xd_http_cb; within the call's own
 * callback it does nothing (the call is ending anyway). NULL is a no-op. */
void xd_http_cancel(xd_http_call *call);

/* The first value of response header `name` (case-insensitive), borrowed
 * like `res`; NULL if absent. Headers are those of the final response. */
const char *xd_http_result_header(const xd_http_result *res, const char *name);
/* A static name for an error: "timeout", "too large", "tls"... */
const char *xd_http_strerror(xd_http_error e);

#ifdef __cplusplus
}
#endif
#endif
