/*
 * stream.h: one XML stream (RFC 6120 section 4) over a libevent bufferevent,
 * plain or TLS, in either direction.
 *
 * The stream owns its bufferevent, its parser and its output buffer. Input is
 * parsed as it arrives and reported through the callbacks; output is
 * serialised straight into the bufferevent. Above the output high-water mark
 * sends still succeed but return XD_EAGAIN so the caller can apply
 * back-pressure; `writable` fires when the output drains below half of it.
 * Above four times the mark the peer is too slow and the stream is closed with
 * the policy-violation stream error (or, with out_refuse_over_limit, further
 * sends are refused until it drains).
 */
#ifndef XMPPD_STREAM_H
#define XMPPD_STREAM_H

#include <stddef.h>
#include <xmppd/element.h>
#include <xmppd/xml_parser.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
struct bufferevent;
struct ssl_ctx_st;

typedef struct xd_stream xd_stream;

/* Why a stream ended (the `closed` callback). */
typedef enum xd_stream_end {
    XD_STREAM_END_CLOSED,     /* orderly: </stream:stream> both ways */
    XD_STREAM_END_EOF,        /* the peer closed the socket */
    XD_STREAM_END_IO,         /* socket or TLS error */
    XD_STREAM_END_ERROR_SENT, /* we sent a stream error */
    XD_STREAM_END_ERROR_RECV, /* the peer sent a stream error */
    XD_STREAM_END_TIMEOUT,    /* connect or close timed out */
} xd_stream_end;

typedef struct xd_stream_callbacks {
    /* The peer's stream header arrived (again after each restart). */
    void (*opened)(xd_stream *s, const xd_elem *header, void *arg);
    /* One top-level element; takes ownership of st. */
    void (*stanza)(xd_stream *s, xd_stanza *st, void *arg);
    /* The stream is over and the socket closed; called once. The owner must
     * free the stream (it may do so inside this callback). `condition` is
     * the stream error condition for the ERROR_* ends, else NULL. */
    void (*closed)(xd_stream *s, xd_stream_end why, const char *condition,
                   void *arg);
    /* Optional: output drained below half the high-water mark after a send
     * returned XD_EAGAIN; also the first time a connecting stream is up. */
    void (*writable)(xd_stream *s, void *arg);
} xd_stream_callbacks;

typedef struct xd_stream_opts {
    const char *content_ns; /* XD_NS_CLIENT, _SERVER or _COMPONENT */
    xd_xml_limits limits;   /* input limits */
    size_t out_high_water;  /* bytes; 0: XD_STREAM_OUT_HIGH_WATER_DEFAULT */
    /* Bytes read per read event and written per socket call at most; 0:
     * libevent's (4 KiB read, 16 KiB written). A link that carries many
     * small stanzas (a component's) reads more at once, so each client it
     * feeds gets several stanzas per write. */
    size_t io_chunk;
    /* Serialised stanzas bigger than this are not sent (xd_stream_send
     * returns XD_ELIMIT); 0: no limit. For links whose peer closes the
     * stream on an oversized stanza (a router's max_stanza_bytes). */
    size_t out_max_stanza_bytes;
    /* Optional: called (with before_write_arg) just before output queued in
     * a loop turn is written to the socket, so that what that output
     * acknowledges is made durable first (the router commits the turn's
     * database writes here: group commit). */
    void (*before_write)(void *arg);
    void *before_write_arg;
    /* 1: above four times out_high_water a send is refused (XD_ELIMIT,
     * nothing queued) instead of ending the stream. For links whose peer
     * stops reading on purpose, to apply back-pressure of its own (a
     * component): the sender is told, and the link stays up. */
    int out_refuse_over_limit;
} xd_stream_opts;

/* io_chunk for component links. */
#define XD_STREAM_LINK_IO_CHUNK (256 * 1024)

#define XD_STREAM_OUT_HIGH_WATER_DEFAULT (1024 * 1024)

/* A new event loop for many streams (the caller frees it): with epoll, a
 * socket that is written every loop turn is not re-armed every turn
 * (libevent's changelist). NULL if libevent cannot make one. */
struct event_base *xd_stream_base_new(void);

/* Takes ownership of bev (plain or already TLS) in every case. opts and cb
 * are copied. The caller owns the stream. */
xd_stream *xd_stream_new(struct bufferevent *bev, const xd_stream_opts *opts,
                         const xd_stream_callbacks *cb, void *arg);
/* Accepts a connected socket fd (takes ownership of it). */
xd_stream *xd_stream_new_fd(struct event_base *base, int fd,
                            const xd_stream_opts *opts,
                            const xd_stream_callbacks *cb, void *arg);
/* Starts a connection to host:port (numeric address or name resolved with
 * evdns, never blocking). `opened`/`writable` tell when it is up; `closed`
 * with XD_STREAM_END_IO when it fails. 0, or XD_EIO. */
int xd_stream_connect(struct event_base *base, const char *host, unsigned port,
                      const xd_stream_opts *opts, const xd_stream_callbacks *cb,
                      void *arg, xd_stream **out);
/* NULL is a no-op; safe inside callbacks (the free is deferred). */
void xd_stream_free(xd_stream *s);

/* Writes our stream header: <?xml?>, <stream:stream xmlns=content_ns
 * xmlns:stream=… to= from= id= version= xml:lang="en">; NULL attributes are
 * left out. */
void xd_stream_open(xd_stream *s, const char *to, const char *from,
                    const char *id, const char *version);
/* Serialises e into the output. 0, XD_EAGAIN (queued but above the
 * high-water mark), XD_ESTATE (the stream is closing; nothing sent) or
 * XD_ELIMIT (bigger than out_max_stanza_bytes, or with
 * out_refuse_over_limit the output would pass four times the mark; nothing
 * sent). */
int xd_stream_send(xd_stream *s, const xd_elem *e);
/* Convenience: sends the root of st and unrefs st (takes ownership). */
int xd_stream_send_stanza(xd_stream *s, xd_stanza *st);
/* Writes bytes verbatim (handshake, raw XML we built ourselves). */
int xd_stream_send_raw(xd_stream *s, const char *data, size_t len);
/* Sends <stream:error><condition/><text/></stream:error></stream:stream>
 * (opening our header first if we had not), then closes once flushed.
 * text may be NULL. */
void xd_stream_error(xd_stream *s, const char *condition, const char *text);
/* Sends </stream:stream> and closes once flushed and the peer closed too
 * (or after a few seconds). */
void xd_stream_close(xd_stream *s);

/* Wraps the connection in TLS (after <proceed/> has been sent or received)
 * and restarts the stream (xd_stream_restart). Called from the `stanza`
 * callback, TLS begins once that callback returns. server: 1 to accept, 0
 * to connect. 0 or XD_EIO. */
int xd_stream_starttls(xd_stream *s, struct ssl_ctx_st *ctx, int server,
                       const char *sni);
/* Expects a new stream header from the peer (after SASL success or
 * STARTTLS). Nothing the peer sent before is reported any more: called
 * from the `stanza` callback, the rest of the input read so far is
 * dropped, so nothing pipelined crosses the restart. */
void xd_stream_restart(xd_stream *s);

/* 1 once the TLS handshake has completed (not merely begun). */
int xd_stream_is_tls(const xd_stream *s);
struct ssl_st;
/* The stream's TLS session once its handshake has completed, else NULL;
 * borrowed, lives with the stream. */
struct ssl_st *xd_stream_ssl(const xd_stream *s);
/* "addr:port" of the peer, for logs; borrowed. */
const char *xd_stream_peer(const xd_stream *s);
/* Bytes waiting to be written; once the stream has ended (in and after
 * the closed callback), those it never wrote. */
size_t xd_stream_out_pending(const xd_stream *s);
/* Stops and resumes reading (traffic shaping, back-pressure). */
/* For a connection that has been quiet a while: frees the parser's and
 * the serialiser's working memory, which the next byte in or stanza out
 * builds again. 1 if done, 0 if there was nothing to free or the stream
 * is busy (mid-stanza, unread input, inside a callback). */
int xd_stream_compact(xd_stream *s);
void xd_stream_pause(xd_stream *s);
void xd_stream_resume(xd_stream *s);
/* Shapes the bytes read from the peer to about bytes_per_s (0: no limit),
 * with bursts of up to one second's worth. Reading slows down; nothing is
 * dropped and the stream stays up. 0 or XD_EIO. */
int xd_stream_set_read_rate(xd_stream *s, size_t bytes_per_s);
/* Changes the callbacks' argument (when a session takes a stream over). */
void xd_stream_set_arg(xd_stream *s, void *arg);
/* Replaces the input limits (copied), from the next byte read: a server
 * lifts its pre-authentication limits this way. */
void xd_stream_set_limits(xd_stream *s, const xd_xml_limits *lim);

#ifdef __cplusplus
}
#endif
#endif
