/*
 * fake_router.c: libxmppd-testing, the router's end of an XEP-0114 link for
 * the unit tests of components (testing.h).
 */
#define XD_LOG_AREA "fake-router"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include <xmppd/log.h>
#include <xmppd/testing.h>

/* The loop runs in slices this long while a wait polls its condition. */
#define SLICE_MS 10

struct xd_fake_router {
    struct event_base *base;
    struct evconnlistener *l;
    xd_stream *s; /* the component's link, or NULL */
    unsigned port;
    int conns, refuse, handshakes_ok;
    int hold; /* do not answer the handshake yet */
    xd_stanza **got;
    int ngot, capgot;
    char last_handshake[64];
};

static void
r_opened(xd_stream *s, const xd_elem *header, void *arg)
{
    const char *to = xd_elem_attr(header, "to");

    (void)arg;
    xd_stream_open(s, NULL, to, XD_FAKE_ROUTER_STREAM_ID, NULL);
}

static void
r_stanza(xd_stream *s, xd_stanza *st, void *arg)
{
    xd_fake_router *r = arg;

    if (xd_elem_is(xd_stanza_root(st), "handshake", XD_NS_CLIENT)) {
        const char *digest = xd_elem_text(xd_stanza_root(st));
        snprintf(r->last_handshake, sizeof(r->last_handshake), "%s",
                 digest ? digest : "");
        xd_stanza_unref(st);
        if (r->refuse > 0) {
            r->refuse--;
            xd_stream_error(s, "not-authorized", NULL);
        } else if (!r->hold) {
            xd_fake_router_answer(r);
        }
        return;
    }
    if (r->ngot == r->capgot) {
        r->capgot = r->capgot ? r->capgot * 2 : 64;
        r->got = xd_xrealloc(r->got, (size_t)r->capgot * sizeof(*r->got));
    }
    r->got[r->ngot++] = st;
}

static void
r_closed(xd_stream *s, xd_stream_end why, const char *cond, void *arg)
{
    xd_fake_router *r = arg;

    (void)why;
    (void)cond;
    xd_stream_free(s);
    if (r->s == s)
        r->s = NULL;
}

static void
r_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
         int len, void *arg)
{
    static const xd_stream_callbacks cb = { r_opened, r_stanza, r_closed,
                                            NULL };
    xd_fake_router *r = arg;
    xd_stream_opts opts = { .content_ns = XD_NS_COMPONENT };

    (void)l;
    (void)sa;
    (void)len;
    xd_xml_limits_default(&opts.limits);
    r->conns++;
    /* One link at a time, as a router gives a domain to one component. */
    xd_stream_free(r->s);
    r->s = xd_stream_new_fd(r->base, fd, &opts, &cb, r);
}

int
xd_fake_router_new(xd_fake_router **out)
{
    xd_fake_router *r = xd_xcalloc(1, sizeof(*r));
    struct sockaddr_in sin;
    ev_socklen_t slen = sizeof(sin);

    r->base = event_base_new();
    if (r->base == NULL) {
        xd_log_warnx("no event loop");
        free(r);
        return XD_EIO;
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->l = evconnlistener_new_bind(r->base, r_accept, r,
                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                   16, (struct sockaddr *)&sin, sizeof(sin));
    if (r->l == NULL || getsockname(evconnlistener_get_fd(r->l),
                                    (struct sockaddr *)&sin, &slen) != 0) {
        xd_log_warn("listen on 127.0.0.1");
        xd_fake_router_free(r);
        return XD_EIO;
    }
    r->port = ntohs(sin.sin_port);
    *out = r;
    return 0;
}

void
xd_fake_router_free(xd_fake_router *r)
{
    if (r == NULL)
        return;
    xd_fake_router_clear(r);
    free(r->got);
    xd_stream_free(r->s);
    if (r->l != NULL)
        evconnlistener_free(r->l);
    event_base_free(r->base);
    free(r);
}

struct event_base *
xd_fake_router_base(xd_fake_router *r)
{
    return r->base;
}

unsigned
xd_fake_router_port(const xd_fake_router *r)
{
    return r->port;
}

int
xd_fake_router_config(const xd_fake_router *r, const char *section,
                      const char *domain, const char *extra, xd_config **out)
{
    char *ini = xd_xasprintf("[%s]\ndomain = %s\nsecret = secret\n"
                             "router_host = 127.0.0.1\nrouter_port = %u\n%s\n",
                             section, domain, r->port, extra ? extra : "");
    int rc = xd_config_load_string(ini, "fake-router.ini", out);

    free(ini);
    return rc;
}

int
xd_fake_router_start(xd_fake_router *r, xd_component *c)
{
    int rc = xd_component_start(c);

    if (rc != 0)
        return rc;
    for (int t = 0; t < XD_FAKE_ROUTER_WAIT_MS && !xd_component_is_up(c);
         t += SLICE_MS)
        xd_test_run_for_ms(r->base, SLICE_MS);
    return xd_component_is_up(c) ? 0 : XD_EAGAIN;
}

void
xd_fake_router_refuse(xd_fake_router *r, int n)
{
    r->refuse = n;
}

void
xd_fake_router_hold(xd_fake_router *r, int hold)
{
    r->hold = hold;
}

int
xd_fake_router_answer(xd_fake_router *r)
{
    if (r->s == NULL)
        return XD_ESTATE;
    xd_stream_send_raw(r->s, "<handshake/>", 12);
    r->handshakes_ok++;
    return 0;
}

int
xd_fake_router_connections(const xd_fake_router *r)
{
    return r->conns;
}

int
xd_fake_router_handshakes(const xd_fake_router *r)
{
    return r->handshakes_ok;
}

int
xd_fake_router_wait_connections(xd_fake_router *r, int n)
{
    return xd_test_run_until(r->base, &r->conns, n);
}

const char *
xd_fake_router_last_handshake(const xd_fake_router *r)
{
    return r->last_handshake;
}

xd_stream *
xd_fake_router_stream(xd_fake_router *r)
{
    return r->s;
}

int
xd_fake_router_send(xd_fake_router *r, const char *xml)
{
    if (r->s == NULL)
        return XD_ESTATE;
    return xd_stream_send_raw(r->s, xml, strlen(xml));
}

int
xd_fake_router_count(const xd_fake_router *r)
{
    return r->ngot;
}

const xd_stanza *
xd_fake_router_got(const xd_fake_router *r, int i)
{
    return i >= 0 && i < r->ngot ? r->got[i] : NULL;
}

void
xd_fake_router_clear(xd_fake_router *r)
{
    for (int i = 0; i < r->ngot; i++)
        xd_stanza_unref(r->got[i]);
    r->ngot = 0;
}

int
xd_fake_router_wait(xd_fake_router *r, int n)
{
    return xd_test_run_until(r->base, &r->ngot, n);
}

const xd_stanza *
xd_fake_router_ask(xd_fake_router *r, const char *xml)
{
    int before = r->ngot;

    if (xd_fake_router_send(r, xml) != 0 ||
        xd_fake_router_wait(r, before + 1) != 0)
        return NULL;
    return r->got[before];
}

void
xd_test_run_for_ms(struct event_base *base, int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

int
xd_test_run_until(struct event_base *base, const int *flag, int want)
{
    for (int t = 0; t < XD_FAKE_ROUTER_WAIT_MS && *flag < want; t += SLICE_MS)
        xd_test_run_for_ms(base, SLICE_MS);
    return *flag >= want ? 0 : XD_EAGAIN;
}
