/*
 * component.c: the XEP-0114 component client: the link to the router
 * (connect, handshake, reconnect with backoff and jitter), the queue of
 * stanzas sent while the link is down, the output held while the router
 * reads slowly, and dispatch to handlers.
 */
#define XD_LOG_AREA "component"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/sha.h>

#include <xmppd/buf.h>
#include <xmppd/caps.h>
#include <xmppd/command.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>
#include <xmppd/metrics.h>
#include <xmppd/service.h>

#include "component_internal.h"

struct component_conf {
    char *domain;
    char *secret;
    char *router_host;
    unsigned long long router_port;
    unsigned long long reconnect_min_ms;
    unsigned long long reconnect_max_ms;
    unsigned long long queue_max;
    unsigned long long iq_timeout_ms;
    unsigned long long max_stanza_bytes;
    unsigned long long out_queue_max_bytes;
    unsigned long long presence_max_subscriptions;
    char *metrics_address;
    unsigned long long metrics_port;
};

#define C struct component_conf
const xd_config_key xd_component_keys[] = {
    XD_CFG_FIELD_STRING(C, domain, NULL,
                        "the component's JID domain (required)"),
    XD_CFG_FIELD_STRING(C, secret, NULL,
                        "shared secret of the XEP-0114 handshake (required)"),
    XD_CFG_FIELD_STRING(C, router_host, "127.0.0.1",
                        "the router: an address or a name"),
    XD_CFG_FIELD_UINT(C, router_port, 5347, 1, 65535,
                      "the router's component port"),
    XD_CFG_FIELD_UINT(C, reconnect_min_ms, 500, 10, 3600000,
                      "first retry delay, doubled per failure"),
    XD_CFG_FIELD_UINT(C, reconnect_max_ms, 30000, 10, 3600000,
                      "retry delay cap"),
    XD_CFG_FIELD_UINT(C, queue_max, 10000, 0, 10000000,
                      "stanzas held while the link is down"),
    XD_CFG_FIELD_UINT(C, iq_timeout_ms, 30000, 1, 3600000,
                      "default time-out of an iq request"),
    XD_CFG_FIELD_UINT(C, max_stanza_bytes, 262144, 1024, 16777216,
                      "largest stanza accepted and sent (the router's)"),
    XD_CFG_FIELD_UINT(C, out_queue_max_bytes, 67108864, 1048576, 4294967296ULL,
                      "output held while the router reads slowly; past it "
                      "stanzas are dropped"),
    XD_CFG_FIELD_UINT(C, presence_max_subscriptions, 100000, 1, 100000000,
                      "subscriptions (entity, user pairs, pending ones "
                      "included) the presence helper keeps; past it requests "
                      "are refused"),
    XD_CFG_FIELD_STRING(C, metrics_address, "127.0.0.1",
                        "address (IPv4 or IPv6 literal) of the OpenMetrics "
                        "endpoint; anything but loopback is logged"),
    XD_CFG_FIELD_UINT(C, metrics_port, 0, 0, 65535,
                      "port of the OpenMetrics endpoint (GET /metrics); "
                      "0: none"),
    XD_CFG_END,
};
#undef C

struct xd_handler {
    xd_component *c;
    xd_stanza_kind kind;
    char *ns;
    xd_stanza_fn fn;        /* messages and presences */
    xd_iq_request_fn iq_fn; /* iqs */
    unsigned flags;         /* XD_IQ_NO_FEATURE */
    void *arg;
    int removed;
    xd_handler *next;
};

struct xd_component {
    struct event_base *base;
    int own_base;
    struct component_conf conf;
    xd_stream *stream;
    int up;       /* handshake done */
    int stopping; /* xd_component_stop was called */
    unsigned long long backoff_ms;
    struct event *retry_timer;
    struct event *sig_int, *sig_term, *sig_hup;
    xd_stanza **queue; /* ring buffer */
    size_t qhead, qlen, qcap;
    xd_handler *handlers;
    int dispatching;
    int reap;
    struct iq_tracker *iqs;
    struct disco *disco;
    struct commands *commands;
    struct xd_presence *presence; /* xd_presence_enable's, or NULL */
    xd_link_fn link_fn;
    void *link_arg;
    xd_buf fan_once, fan_each; /* xd_component_send_each's buffers */
    xd_buf out;                /* send_now's serialised stanza */
    /* Back-pressure. Once a write to the link returns XD_EAGAIN (its output
     * is over the high-water mark) the component stops reading from the
     * router and holds what it sends here, in order, until the link's
     * output drains: a burst that one stanza causes (a room's broadcast)
     * waits instead of passing the stream's 4x limit, which would end the
     * link and every session behind it. At most out_queue_max_bytes. */
    struct evbuffer *held;
    int blocked;
    unsigned long dropped; /* stanzas not held since the last drain */
    xd_metrics *metrics;   /* xd_component_metrics; served on metrics_port */
    struct {
        unsigned long long in, out, dropped, link_ups, link_downs, connects;
    } stats;
};

static void connect_now(xd_component *c);
static int metrics_start(xd_component *c);

/* The program's name, for its version answer and caps node: what main
 * gave xd_config_main, else argv[0]'s base name. */
static const char *
program_name(const xd_config *cfg, const char **version)
{
    const char *name = xd_config_program(cfg, version);

    if (name != NULL)
        return name;
#ifdef __GLIBC__
    return program_invocation_short_name;
#else
    return getprogname();
#endif
}

/* --- setup ------------------------------------------------------------- */

int
xd_component_new(const xd_config *cfg, const char *section,
                 struct event_base *base, xd_component **out)
{
    return xd_component_new_with(cfg, section, base, NULL, NULL, out);
}

int
xd_component_new_with(const xd_config *cfg, const char *section,
                      struct event_base *base, const xd_config_key *own_keys,
                      void *own, xd_component **out)
{
    xd_component *c = xd_xcalloc(1, sizeof(*c));
    char *domain = NULL;

    if (xd_config_bind_with(cfg, section, xd_component_keys, &c->conf,
                            own_keys) != 0)
        goto fail;
    if (own_keys != NULL && xd_config_bind_with(cfg, section, own_keys, own,
                                                xd_component_keys) != 0)
        goto fail;
    if (c->conf.domain == NULL ||
        xd_jid_prep_domain(c->conf.domain, &domain) != 0) {
        xd_log_warnx("[%s] domain: a valid domain is required", section);
        goto fail;
    }
    free(c->conf.domain);
    c->conf.domain = domain;
    if (c->conf.secret == NULL || *c->conf.secret == '\0') {
        xd_log_warnx("[%s] secret: required", section);
        goto fail;
    }
    if (c->conf.reconnect_max_ms < c->conf.reconnect_min_ms)
        c->conf.reconnect_max_ms = c->conf.reconnect_min_ms;
    c->own_base = base == NULL;
    c->base = base ? base : xd_stream_base_new();
    if (c->base == NULL)
        goto fail;
    c->backoff_ms = c->conf.reconnect_min_ms;
    c->held = evbuffer_new();
    c->iqs = iq_tracker_new(c);
    const char *version = NULL, *program = program_name(cfg, &version);
    c->disco = disco_new(program, version ? version : XMPPD_VERSION);
    c->commands = commands_new(c);
    if (metrics_start(c) != 0) {
        xd_component_free(c);
        if (own_keys != NULL)
            xd_config_unbind(own_keys, own);
        return XD_EIO;
    }
    *out = c;
    return 0;
fail:
    xd_config_unbind(xd_component_keys, &c->conf);
    if (own_keys != NULL)
        xd_config_unbind(own_keys, own);
    free(c);
    return XD_EINVAL;
}

void
xd_component_free(xd_component *c)
{
    if (c == NULL)
        return;
    c->stopping = 1;
    xd_stream_free(c->stream);
    c->stream = NULL;
    c->up = 0;
    /* Before the queue goes: a command freeing its state may still send,
     * which only queues now that the stream is gone. */
    commands_free(c->commands);
    presence_free(c->presence);
    iq_tracker_free(c->iqs);
    disco_free(c->disco);
    while (c->qlen > 0) {
        xd_stanza_unref(c->queue[c->qhead]);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
    }
    free(c->queue);
    xd_buf_free(&c->fan_once);
    xd_buf_free(&c->fan_each);
    xd_buf_free(&c->out);
    evbuffer_free(c->held);
    xd_metrics_free(c->metrics);
    for (xd_handler *h = c->handlers, *n; h != NULL; h = n) {
        n = h->next;
        free(h->ns);
        free(h);
    }
    if (c->retry_timer)
        event_free(c->retry_timer);
    if (c->sig_int)
        event_free(c->sig_int);
    if (c->sig_term)
        event_free(c->sig_term);
    if (c->sig_hup)
        event_free(c->sig_hup);
    if (c->own_base)
        event_base_free(c->base);
    xd_config_unbind(xd_component_keys, &c->conf);
    free(c);
}

struct event_base *
xd_component_base(xd_component *c)
{
    return c->base;
}

const char *
xd_component_domain(const xd_component *c)
{
    return c->conf.domain;
}

int
xd_component_is_up(const xd_component *c)
{
    return c->up;
}

void
xd_component_on_link(xd_component *c, xd_link_fn fn, void *arg)
{
    c->link_fn = fn;
    c->link_arg = arg;
}

void
xd_component_add_identity(xd_component *c, const char *category,
                          const char *type, const char *name)
{
    disco_add_identity(c->disco, category, type, name);
}

void
xd_component_add_feature(xd_component *c, const char *var)
{
    disco_add_feature(c->disco, var);
}

xd_metrics *
xd_component_metrics(xd_component *c)
{
    return c->metrics;
}

static double
metric_link_up(void *arg)
{
    return ((xd_component *)arg)->up;
}

static double
metric_queued(void *arg)
{
    return (double)((xd_component *)arg)->qlen;
}

static double
metric_held(void *arg)
{
    xd_component *c = arg;

    return c->held != NULL ? (double)evbuffer_get_length(c->held) : 0;
}

/* The link's metrics (docs/component-guide.md "Metrics"), and the
 * endpoint when metrics_port is set. 0, or an error (logged). */
static int
metrics_start(xd_component *c)
{
    static const struct {
        const char *name, *help;
        size_t offset;
    } counters[] = {
        { "xmppd_component_stanzas_received", "stanzas from the router",
          offsetof(xd_component, stats.in) },
        { "xmppd_component_stanzas_sent", "stanzas written to the router",
          offsetof(xd_component, stats.out) },
        { "xmppd_component_stanzas_dropped",
          "stanzas dropped: queue_max or out_queue_max_bytes reached",
          offsetof(xd_component, stats.dropped) },
        { "xmppd_component_link_ups", "handshakes completed",
          offsetof(xd_component, stats.link_ups) },
        { "xmppd_component_link_downs", "links lost after a handshake",
          offsetof(xd_component, stats.link_downs) },
        { "xmppd_component_connects", "connection attempts to the router",
          offsetof(xd_component, stats.connects) },
    };
    int rc = 0;

    c->metrics = xd_metrics_new();
    for (size_t i = 0; i < XD_NELEM(counters) && rc == 0; i++)
        rc = xd_metrics_add_u64(
            c->metrics, XD_METRICS_COUNTER, counters[i].name, counters[i].help,
            NULL,
            (const unsigned long long *)((const char *)c + counters[i].offset));
    if (rc == 0)
        rc = xd_metrics_gauge_fn(c->metrics, "xmppd_component_link_up",
                                 "1 while the link is up", NULL, metric_link_up,
                                 c);
    if (rc == 0)
        rc = xd_metrics_gauge_fn(c->metrics, "xmppd_component_queued",
                                 "stanzas queued while the link is down", NULL,
                                 metric_queued, c);
    if (rc == 0)
        rc = xd_metrics_gauge_fn(c->metrics, "xmppd_component_held_bytes",
                                 "output held while the router reads slowly",
                                 NULL, metric_held, c);
    if (rc == 0)
        rc = xd_metrics_add_process(c->metrics);
    if (rc == 0 && c->conf.metrics_port != 0)
        rc = xd_metrics_listen(c->metrics, c->base, c->conf.metrics_address,
                               (unsigned)c->conf.metrics_port);
    if (rc != 0)
        xd_log_warnx("%s: the metrics cannot be served (%d)", c->conf.domain,
                     rc);
    return rc;
}

struct commands *
component_commands(xd_component *c)
{
    return c->commands;
}

struct xd_presence *
component_presence(const xd_component *c)
{
    return c->presence;
}

void
component_set_presence(xd_component *c, struct xd_presence *p)
{
    c->presence = p;
}

unsigned long long
component_max_subscriptions(const xd_component *c)
{
    return c->conf.presence_max_subscriptions;
}

void
xd_component_add_item(xd_component *c, const char *jid, const char *node,
                      const char *name)
{
    disco_add_item(c->disco, jid, node, name);
}

int
xd_component_disco_node(xd_component *c, const char *node, xd_disco_fn fn,
                        void *arg)
{
    return disco_add_node(c->disco, node, fn, arg);
}

void
xd_component_disco_entities(xd_component *c, xd_disco_fn fn, void *arg)
{
    disco_set_entities(c->disco, fn, arg);
}

void
xd_component_set_version(xd_component *c, const char *name, const char *version)
{
    disco_set_version(c->disco, name, version);
}

int
xd_component_caps(xd_component *c, const char **node, const char **ver)
{
    return disco_caps(c->disco, c->conf.domain, node, ver);
}

int
xd_component_add_caps(xd_component *c, xd_stanza *presence)
{
    const char *node, *ver;
    int rc = xd_component_caps(c, &node, &ver);

    if (rc == 0)
        xd_caps_add(xd_stanza_root(presence), node, ver);
    return rc;
}

/* --- handlers ------------------------------------------------------------ */

static xd_handler *
add_handler(xd_component *c, xd_stanza_kind kind, const char *ns, void *arg)
{
    xd_handler *h = xd_xcalloc(1, sizeof(*h)), **pp = &c->handlers;

    h->c = c;
    h->kind = kind;
    h->ns = xd_xstrdup(ns);
    h->arg = arg;
    while (*pp != NULL)
        pp = &(*pp)->next;
    *pp = h;
    return h;
}

xd_handler *
xd_component_on(xd_component *c, xd_stanza_kind kind, const char *ns,
                xd_stanza_fn fn, void *arg)
{
    /* An iq handler needs the iq's type and may advertise a feature: a
     * message handler's signature would let it do neither. */
    if (kind == XD_STANZA_IQ)
        xd_fatalx("%s: iq handlers are registered with xd_component_on_iq",
                  c->conf.domain);
    xd_handler *h = add_handler(c, kind, NULL, arg);
    (void)ns;
    h->fn = fn;
    return h;
}

xd_handler *
xd_component_on_iq(xd_component *c, const char *ns, unsigned flags,
                   xd_iq_request_fn fn, void *arg)
{
    xd_handler *h = add_handler(c, XD_STANZA_IQ, ns, arg);

    h->iq_fn = fn;
    h->flags = flags;
    if (ns != NULL && !(flags & XD_IQ_NO_FEATURE))
        disco_feature_ref(c->disco, ns);
    return h;
}

static void
reap_handlers(xd_component *c)
{
    for (xd_handler **pp = &c->handlers; *pp != NULL;) {
        xd_handler *h = *pp;
        if (!h->removed) {
            pp = &h->next;
            continue;
        }
        *pp = h->next;
        free(h->ns);
        free(h);
    }
    c->reap = 0;
}

void
xd_handler_remove(xd_handler *h)
{
    xd_component *c = h->c;

    if (h->removed)
        return;
    if (h->kind == XD_STANZA_IQ && h->ns != NULL &&
        !(h->flags & XD_IQ_NO_FEATURE))
        disco_feature_unref(c->disco, h->ns);
    h->removed = 1;
    c->reap = 1;
    if (!c->dispatching)
        reap_handlers(c);
}

/* The namespace an iq is about: its payload's. */
static const char *
payload_ns(const xd_stanza *st)
{
    const xd_elem *q = xd_elem_first(xd_stanza_root(st));

    return q ? xd_elem_ns(q) : NULL;
}

static void
dispatch(xd_component *c, xd_stanza *st)
{
    xd_stanza_kind kind = xd_stanza_kind_of(st);
    const char *type = xd_stanza_type(st);
    int request = kind == XD_STANZA_IQ && type != NULL &&
                  (strcmp(type, "get") == 0 || strcmp(type, "set") == 0);
    xd_iq_type iq_type = request && type[0] == 's' ? XD_IQ_SET : XD_IQ_GET;
    xd_verdict v = XD_PASS;

    if (kind == XD_STANZA_IQ && !request) {
        if (iq_tracker_answer(c->iqs, st) == XD_PASS)
            xd_log_debug("%s: unexpected iq %s from %s", c->conf.domain,
                         type ? type : "(no type)",
                         xd_stanza_from(st) ? xd_stanza_from(st) : "?");
        return;
    }
    const char *ns = request ? payload_ns(st) : NULL;
    c->dispatching++;
    for (xd_handler *h = c->handlers; h != NULL && v == XD_PASS; h = h->next) {
        if (h->removed || h->kind != kind)
            continue;
        if (h->ns != NULL && (ns == NULL || strcmp(h->ns, ns) != 0))
            continue;
        v = kind == XD_STANZA_IQ ? h->iq_fn(c, st, iq_type, h->arg)
                                 : h->fn(c, st, h->arg);
    }
    c->dispatching--;
    if (c->reap && !c->dispatching)
        reap_handlers(c);
    if (v == XD_PASS && kind == XD_STANZA_PRESENCE && c->presence != NULL)
        presence_dispatch(c->presence, st);
    if (v == XD_HANDLED || !request)
        return;
    xd_stanza *reply = xd_component_command_answer(c, st);
    if (reply == NULL && disco_answer(c->disco, c, st, iq_type) == XD_HANDLED)
        return;
    if (reply == NULL)
        reply = xd_stanza_error_reply(st, XD_ERRT_CANCEL, "service-unavailable",
                                      NULL);
    xd_component_send(c, reply);
}

/* --- sending ------------------------------------------------------------- */

static int
enqueue(xd_component *c, xd_stanza *st)
{
    if (c->qlen >= c->conf.queue_max) {
        xd_log_warnx("%s: link down and %zu stanzas queued: dropping one to "
                     "%s",
                     c->conf.domain, c->qlen,
                     xd_stanza_to(st) ? xd_stanza_to(st) : "?");
        xd_stanza_unref(st);
        c->stats.dropped++;
        return XD_ELIMIT;
    }
    if (c->qlen == c->qcap) {
        size_t cap = c->qcap ? c->qcap * 2 : 64;
        xd_stanza **q = xd_xcalloc(cap, sizeof(*q));
        for (size_t i = 0; i < c->qlen; i++)
            q[i] = c->queue[(c->qhead + i) % c->qcap];
        free(c->queue);
        c->queue = q;
        c->qcap = cap;
        c->qhead = 0;
    }
    c->queue[(c->qhead + c->qlen) % c->qcap] = st;
    c->qlen++;
    return 0;
}

/* Keeps bytes for the link behind those held already: 0, or XD_ELIMIT when
 * that would pass out_queue_max_bytes (nothing kept; logged once until the
 * output drains). `data` is always whole stanzas. */
static int
hold(xd_component *c, const char *data, size_t len)
{
    size_t held = evbuffer_get_length(c->held);

    if (held + len > c->conf.out_queue_max_bytes) {
        c->stats.dropped++;
        if (c->dropped++ == 0)
            xd_log_warnx("%s: the router reads too slowly: %zu bytes held "
                         "(out_queue_max_bytes); dropping stanzas until it "
                         "catches up",
                         c->conf.domain, held);
        return XD_ELIMIT;
    }
    evbuffer_add(c->held, data, len);
    return 0;
}

/* Writes bytes (whole stanzas) to the link, or holds them while its output
 * is over the high-water mark; the first write over it stops reading from
 * the router until link_writable. 0, XD_ESTATE (the link is closing; not
 * written) or XD_ELIMIT (held bytes at their bound; dropped). */
static int
link_write(xd_component *c, const char *data, size_t len)
{
    int rc;

    if (c->blocked)
        rc = hold(c, data, len);
    else if ((rc = xd_stream_send_raw(c->stream, data, len)) == XD_EAGAIN) {
        c->blocked = 1;
        xd_stream_pause(c->stream);
        rc = 0;
    }
    c->stats.out += rc == 0;
    return rc;
}

/* Writes st to the link: link_write's status. A stanza too big for the
 * router is dropped (logged) and, when it answers an iq, the asker gets
 * <resource-constraint/> instead of waiting for ever. */
static int
send_now(xd_component *c, const xd_stanza *st)
{
    xd_buf_reset(&c->out);
    xd_elem_serialise(xd_stanza_root(st), XD_NS_COMPONENT, &c->out);
    if (c->out.len <= (size_t)c->conf.max_stanza_bytes) {
        if (xd_log_enabled(XD_LOG_DEBUG))
            xd_log_debug("%s: out: %.*s", c->conf.domain, (int)c->out.len,
                         c->out.data);
        return link_write(c, c->out.data, c->out.len);
    }
    const char *to = xd_stanza_to(st), *type = xd_stanza_type(st);
    xd_log_warnx("%s: a %s to %s is over max_stanza_bytes (%llu); not sent",
                 c->conf.domain, xd_elem_name(xd_stanza_root(st)),
                 to ? to : "?", c->conf.max_stanza_bytes);
    if (xd_stanza_kind_of(st) != XD_STANZA_IQ || type == NULL ||
        strcmp(type, "result") != 0)
        return 0;
    /* The request, as it came: the error reply turns it round again. */
    xd_stanza *req =
        xd_stanza_iq_new("get", xd_stanza_id(st), xd_stanza_from(st), to);
    xd_stanza *err =
        xd_stanza_error_reply(req, XD_ERRT_WAIT, "resource-constraint",
                              "the answer is too large to send");
    xd_stanza_unref(req);
    int rc = send_now(c, err); /* small: no further round */
    xd_stanza_unref(err);
    return rc;
}

/* The link's output drained below half its high-water mark: what was held
 * goes out until the mark is passed again; once nothing is held, reading
 * from the router resumes. */
static void
link_writable(xd_component *c)
{
    while (evbuffer_get_length(c->held) > 0) {
        size_t n = evbuffer_get_contiguous_space(c->held);
        if (n > XD_STREAM_LINK_IO_CHUNK)
            n = XD_STREAM_LINK_IO_CHUNK;
        const char *p = (const char *)evbuffer_pullup(c->held, (ev_ssize_t)n);
        int rc = xd_stream_send_raw(c->stream, p, n);
        if (rc == XD_ESTATE)
            return; /* closing: on_closed lets the rest go */
        evbuffer_drain(c->held, n);
        if (rc == XD_EAGAIN)
            return; /* over the mark again: the next drain calls us */
    }
    if (c->dropped > 0)
        xd_log_info("%s: the router caught up; %lu stanza(s) were dropped",
                    c->conf.domain, c->dropped);
    c->dropped = 0;
    c->blocked = 0;
    xd_stream_resume(c->stream);
}

int
xd_component_send(xd_component *c, xd_stanza *st)
{
    if (xd_stanza_from(st) == NULL)
        xd_stanza_set_from(st, c->conf.domain);
    if (!c->up || c->qlen > 0)
        return enqueue(c, st);
    int rc = send_now(c, st);
    if (rc == XD_ESTATE) /* the link is closing: keep it for the next */
        return enqueue(c, st);
    xd_stanza_unref(st);
    return rc; /* 0, or XD_ELIMIT: dropped, too much held */
}

/* One copy per recipient, each its own stanza (the link is down, or the
 * serialised form is not one we can splice). */
static int
send_copies(xd_component *c, const xd_stanza *st, const char *const *to,
            size_t n)
{
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        xd_stanza *copy = xd_stanza_copy(xd_stanza_root(st));
        xd_stanza_set_to(copy, to[i]);
        if (xd_component_send(c, copy) != 0)
            rc = XD_ELIMIT;
    }
    return rc;
}

int
xd_component_send_each(xd_component *c, const xd_stanza *st,
                       const char *const *to, size_t n)
{
    const char *name = xd_elem_name(xd_stanza_root(st));
    size_t at = 1 + strlen(name);

    if (!c->up || c->qlen > 0 || xd_stanza_to(st) != NULL ||
        xd_stanza_from(st) == NULL)
        return send_copies(c, st, to, n);
    /* Serialised once; each recipient's copy is the same bytes with
     * to='...' spliced in after the element name. */
    xd_buf_reset(&c->fan_once);
    xd_elem_serialise(xd_stanza_root(st), XD_NS_COMPONENT, &c->fan_once);
    const char *data = c->fan_once.data;
    if (c->fan_once.len <= at || data[0] != '<' ||
        strncmp(data + 1, name, at - 1) != 0 ||
        (data[at] != ' ' && data[at] != '>' && data[at] != '/'))
        return send_copies(c, st, to, n);
    for (size_t i = 0; i < n; i++) {
        xd_buf *b = &c->fan_each;
        xd_buf_reset(b);
        xd_buf_append(b, data, at);
        xd_buf_append_str(b, " to='");
        xd_buf_append_attr(b, to[i], strlen(to[i]));
        xd_buf_append(b, "'", 1);
        xd_buf_append(b, data + at, c->fan_once.len - at);
        if (b->len > (size_t)c->conf.max_stanza_bytes) {
            xd_log_warnx("%s: a <%s/> for %zu recipients is over "
                         "max_stanza_bytes; not sent",
                         c->conf.domain, name, n);
            return XD_ELIMIT;
        }
        int rc = link_write(c, b->data, b->len);
        if (rc == XD_ESTATE)
            return send_copies(c, st, to + i, n - i); /* closing: queue */
        if (rc == XD_ELIMIT) { /* held to the bound: the rest would be too */
            c->dropped += n - i - 1;
            c->stats.dropped += n - i - 1;
            return XD_ELIMIT;
        }
    }
    return 0;
}

int
xd_component_iq(xd_component *c, xd_stanza *iq, unsigned timeout_ms,
                xd_iq_fn fn, void *arg)
{
    char id[17];

    if (xd_stanza_id(iq) == NULL) {
        xd_random_id(id, sizeof(id) - 1);
        xd_stanza_set_id(iq, id);
    }
    if (c->qlen >= c->conf.queue_max && !c->up) {
        xd_stanza_unref(iq);
        return XD_ELIMIT;
    }
    iq_tracker_add(c->iqs, iq,
                   timeout_ms ? timeout_ms : (unsigned)c->conf.iq_timeout_ms,
                   fn, arg);
    return xd_component_send(c, iq);
}

static void
flush_queue(xd_component *c)
{
    while (c->qlen > 0 && c->up) {
        xd_stanza *st = c->queue[c->qhead];
        if (send_now(c, st) == XD_ESTATE)
            return;
        xd_stanza_unref(st);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
    }
}

/* --- the link ------------------------------------------------------------ */

static void
on_opened(xd_stream *s, const xd_elem *header, void *arg)
{
    xd_component *c = arg;
    const char *id = xd_elem_attr(header, "id");
    unsigned char digest[SHA_DIGEST_LENGTH];
    char hex[2 * SHA_DIGEST_LENGTH + 1];

    if (id == NULL) {
        xd_log_warnx("%s: the router sent no stream id", c->conf.domain);
        xd_stream_close(s);
        return;
    }
    /* XEP-0114: hex(SHA-1(stream id + secret)). */
    char *input = xd_xasprintf("%s%s", id, c->conf.secret);
    SHA1((const unsigned char *)input, strlen(input), digest);
    explicit_bzero(input, strlen(input));
    free(input);
    for (size_t i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    char *hs = xd_xasprintf("<handshake>%s</handshake>", hex);
    xd_stream_send_raw(s, hs, strlen(hs));
    free(hs);
}

static void
on_stanza(xd_stream *s, xd_stanza *st, void *arg)
{
    xd_component *c = arg;

    (void)s;
    if (!c->up) {
        if (xd_elem_is(xd_stanza_root(st), "handshake", XD_NS_CLIENT)) {
            c->up = 1;
            c->backoff_ms = c->conf.reconnect_min_ms;
            c->stats.link_ups++;
            xd_log_info("%s: link up (%s:%llu)", c->conf.domain,
                        c->conf.router_host, c->conf.router_port);
            flush_queue(c);
            if (c->presence != NULL)
                presence_link_up(c->presence);
            xd_service_ready(); /* systemctl start returns at the first */
            if (c->link_fn)
                c->link_fn(c, 1, c->link_arg);
        }
        xd_stanza_unref(st);
        return;
    }
    c->stats.in++;
    dispatch(c, st);
    xd_stanza_unref(st);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    connect_now(arg);
}

static void
schedule_retry(xd_component *c, const char *why)
{
    unsigned char r;
    unsigned long long delay = c->backoff_ms;

    /* Jitter of +-25 %, so that components restarted together do not
     * reconnect together. */
    xd_random_bytes(&r, 1);
    delay = delay * 3 / 4 + delay * r / 512;
    xd_log_info("%s: link down (%s), retrying in %llu ms", c->conf.domain, why,
                delay);
    struct timeval tv = { (time_t)(delay / 1000),
                          (suseconds_t)(delay % 1000) * 1000 };
    if (c->retry_timer == NULL)
        c->retry_timer = evtimer_new(c->base, retry_cb, c);
    evtimer_add(c->retry_timer, &tv);
    c->backoff_ms *= 2;
    if (c->backoff_ms > c->conf.reconnect_max_ms)
        c->backoff_ms = c->conf.reconnect_max_ms;
}

static void
on_closed(xd_stream *s, xd_stream_end why, const char *condition, void *arg)
{
    xd_component *c = arg;
    int was_up = c->up;
    char reason[96];

    xd_stream_free(s);
    c->stream = NULL;
    c->up = 0;
    /* What was held was for this link's sessions, gone with it. */
    size_t held = evbuffer_get_length(c->held);
    if (held > 0)
        xd_log_info("%s: %zu bytes held for the router are lost with the link",
                    c->conf.domain, held);
    evbuffer_drain(c->held, held);
    c->blocked = 0;
    c->dropped = 0;
    iq_tracker_fail_all(c->iqs);
    c->stats.link_downs += was_up != 0;
    if (was_up && c->link_fn)
        c->link_fn(c, 0, c->link_arg);
    if (c->stopping) {
        event_base_loopexit(c->base, NULL);
        return;
    }
    if (condition != NULL)
        snprintf(reason, sizeof(reason), "stream error %s", condition);
    else
        snprintf(reason, sizeof(reason), "%s",
                 why == XD_STREAM_END_CLOSED    ? "closed by the router"
                 : why == XD_STREAM_END_TIMEOUT ? "timed out"
                                                : "connection lost");
    if (condition != NULL && strcmp(condition, "not-authorized") == 0)
        xd_log_warnx("%s: the router refused our secret", c->conf.domain);
    schedule_retry(c, reason);
}

static const xd_stream_callbacks link_callbacks = {
    .opened = on_opened,
    .stanza = on_stanza,
    .closed = on_closed,
};

static void
on_connected(xd_stream *s, void *arg)
{
    xd_component *c = arg;

    if (!c->up)
        xd_stream_open(s, c->conf.domain, NULL, NULL, NULL);
    else
        link_writable(c); /* the router caught up with our output */
}

static void
connect_now(xd_component *c)
{
    xd_stream_callbacks cb = link_callbacks;
    xd_stream_opts opts = { .content_ns = XD_NS_COMPONENT,
                            .io_chunk = XD_STREAM_LINK_IO_CHUNK };

    if (c->stopping || c->stream != NULL)
        return;
    c->stats.connects++;
    cb.writable = on_connected;
    xd_xml_limits_default(&opts.limits);
    opts.limits.max_stanza_bytes = (size_t)c->conf.max_stanza_bytes;
    /* The router takes what we take: a bigger stanza would end the link. */
    opts.out_max_stanza_bytes = (size_t)c->conf.max_stanza_bytes;
    /* Past the mark, link_write holds the rest: the stream's output is at
     * most the mark and one stanza, which this keeps under its 4x limit. */
    opts.out_high_water = XD_STREAM_OUT_HIGH_WATER_DEFAULT;
    if (opts.out_high_water < opts.out_max_stanza_bytes)
        opts.out_high_water = opts.out_max_stanza_bytes;
    if (xd_stream_connect(c->base, c->conf.router_host,
                          (unsigned)c->conf.router_port, &opts, &cb, c,
                          &c->stream) != 0) {
        c->stream = NULL;
        schedule_retry(c, "cannot connect");
    }
}

int
xd_component_start(xd_component *c)
{
    connect_now(c);
    return 0;
}

void
xd_component_stop(xd_component *c)
{
    if (c->stopping)
        return;
    c->stopping = 1;
    if (c->retry_timer)
        evtimer_del(c->retry_timer);
    if (c->up && c->presence != NULL)
        presence_stopping(c->presence); /* written before the close */
    if (c->stream != NULL)
        xd_stream_close(c->stream); /* on_closed ends the loop */
    else
        event_base_loopexit(c->base, NULL);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
    xd_component *c = arg;

    (void)what;
    xd_log_info("%s: signal %d, stopping", c->conf.domain, (int)sig);
    xd_service_stopping();
    xd_component_stop(c);
}

/* SIGHUP (a unit's ExecReload) must not end the process, which is its
 * default action; there is nothing a component re-reads yet. */
static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
    xd_component *c = arg;

    (void)what;
    xd_service_reloading();
    xd_log_warnx("%s: signal %d: nothing is reloaded; restart the process "
                 "to apply configuration changes",
                 c->conf.domain, (int)sig);
    xd_service_ready();
}

int
xd_component_run(xd_component *c)
{
    signal(SIGPIPE, SIG_IGN);
    c->sig_int = evsignal_new(c->base, SIGINT, signal_cb, c);
    c->sig_term = evsignal_new(c->base, SIGTERM, signal_cb, c);
    evsignal_add(c->sig_int, NULL);
    evsignal_add(c->sig_term, NULL);
    c->sig_hup = evsignal_new(c->base, SIGHUP, hup_cb, c);
    evsignal_add(c->sig_hup, NULL);
    xd_component_start(c);
    int rc = event_base_dispatch(c->base);
    return rc < 0 ? XD_EIO : 0;
}
