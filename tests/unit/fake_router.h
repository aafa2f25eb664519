/*
 * fake_router.h: the router's end of an XEP-0114 link, for the unit tests
 * of components. It listens on a loopback port in the test's event loop,
 * answers the stream header and the handshake (refusing the first `refuse`
 * ones, or holding the answer while `hold` is set) and keeps every stanza
 * that arrives after it in `got`. Include it after check.h.
 */
#ifndef XMPPD_TEST_FAKE_ROUTER_H
#define XMPPD_TEST_FAKE_ROUTER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include <xmppd/stream.h>

#define FAKE_ROUTER_GOT 256

struct router {
    struct event_base *base;
    struct evconnlistener *l;
    xd_stream *s;
    unsigned port;
    int conns, refuse, handshakes_ok;
    int hold; /* do not answer the handshake yet */
    xd_stanza *got[FAKE_ROUTER_GOT];
    int ngot;
    char last_handshake[64];
};

static inline void
r_opened(xd_stream *s, const xd_elem *header, void *arg)
{
    (void)header;
    (void)arg;
    xd_stream_open(s, NULL, "comp.example", "streamid", NULL);
}

/* Answers a handshake that was held. */
static inline void
answer_handshake(struct router *r)
{
    xd_stream_send_raw(r->s, "<handshake/>", 12);
    r->handshakes_ok++;
}

static inline void
r_stanza(xd_stream *s, xd_stanza *st, void *arg)
{
    struct router *r = arg;

    if (xd_elem_is(xd_stanza_root(st), "handshake", XD_NS_CLIENT)) {
        snprintf(r->last_handshake, sizeof(r->last_handshake), "%s",
                 xd_elem_text(xd_stanza_root(st)));
        xd_stanza_unref(st);
        if (r->refuse > 0) {
            r->refuse--;
            xd_stream_error(s, "not-authorized", NULL);
        } else if (!r->hold) {
            answer_handshake(r);
        }
        return;
    }
    if (r->ngot < FAKE_ROUTER_GOT)
        r->got[r->ngot++] = st;
    else
        xd_stanza_unref(st);
}

static inline void
r_closed(xd_stream *s, xd_stream_end why, const char *cond, void *arg)
{
    struct router *r = arg;

    (void)why;
    (void)cond;
    xd_stream_free(s);
    if (r->s == s)
        r->s = NULL;
}

static inline void
r_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
         int len, void *arg)
{
    static const xd_stream_callbacks cb = { r_opened, r_stanza, r_closed,
                                            NULL };
    struct router *r = arg;
    xd_stream_opts opts = { .content_ns = XD_NS_COMPONENT };

    (void)l;
    (void)sa;
    (void)len;
    xd_xml_limits_default(&opts.limits);
    r->conns++;
    r->s = xd_stream_new_fd(r->base, fd, &opts, &cb, r);
}

/* A new event loop with the router listening on a free loopback port
 * (r->port). */
static inline void
router_open(struct router *r)
{
    struct sockaddr_in sin;
    ev_socklen_t slen = sizeof(sin);

    memset(r, 0, sizeof(*r));
    r->base = event_base_new();
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(0x7f000001);
    r->l = evconnlistener_new_bind(r->base, r_accept, r,
                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                   16, (struct sockaddr *)&sin, sizeof(sin));
    if (r->l == NULL) {
        perror("fake router: listen");
        exit(1);
    }
    getsockname(evconnlistener_get_fd(r->l), (struct sockaddr *)&sin, &slen);
    r->port = ntohs(sin.sin_port);
}

/* Frees what the router got, its stream, listener and event loop. */
static inline void
router_close(struct router *r)
{
    for (int i = 0; i < r->ngot; i++)
        xd_stanza_unref(r->got[i]);
    xd_stream_free(r->s);
    evconnlistener_free(r->l);
    event_base_free(r->base);
}

/* The router sends raw XML to the component. */
static inline void
router_send(struct router *r, const char *xml)
{
    xd_stream_send_raw(r->s, xml, strlen(xml));
}

/* Runs the loop until *flag >= want or 3 s pass. */
static inline void
run_until(struct event_base *base, const int *flag, int want)
{
    for (int i = 0; i < 300 && *flag < want; i++) {
        struct timeval tv = { 0, 10000 };
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static inline void
run_for_ms(struct event_base *base, int ms)
{
    struct timeval tv = { 0, ms * 1000 };
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

#endif
