/*
 * s2s_out.c: outgoing server-to-server streams (RFC 6120, XEP-0220). One
 * stream per pair of a local domain and a remote one: found through dns.c,
 * connected, upgraded with STARTTLS (required by s2s_require_tls), then
 * authenticated with Server Dialback. Stanzas wait in a queue bounded in
 * bytes (s2s_queue_max_bytes) until the stream is authenticated; when it
 * fails, or is not up within s2s_connect_timeout_s, each is bounced
 * (remote-server-not-found or remote-server-timeout, RFC 6120 8.3.3). The
 * same stream carries our <db:verify/> requests for incoming streams (the
 * receiving role). After TLS, a peer whose certificate is valid for its
 * domain (cert_verify.c) and that offers SASL EXTERNAL is authenticated
 * with it (XEP-0178, authzid our domain); else dialback, unless
 * s2s_secure_auth refuses the domain.
 * On an authenticated stream, each stanza is kept until its last byte
 * has left the stream's output buffer; when the stream drops, those not
 * written yet are bounced with remote-server-timeout instead of vanishing
 * with the buffer.
 */
#define XD_LOG_AREA "s2s"
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include <xmppd/base64.h>
#include <xmppd/log.h>
#include <xmppd/ns.h>
#include <xmppd/tls.h>

#include "router.h"

enum out_state {
    OUT_CONNECTING, /* resolving or connecting */
    OUT_OPEN,       /* our header sent, waiting for features */
    OUT_TLS,        /* <starttls/> sent, or the handshake under way */
    OUT_DIALBACK,   /* <db:result/> sent */
    OUT_SASL,       /* <auth mechanism='EXTERNAL'/> sent */
    OUT_SASL_DONE,  /* SASL succeeded, the stream restarted */
    OUT_READY,      /* authenticated: stanzas flow */
};

struct verify_req {
    char *id, *key;
};

struct s2s_out {
    struct router *r;
    char *key; /* "local remote" */
    char *local, *remote;
    xd_stream *stream;
    enum out_state state;
    int features_seen; /* after the last restart */
    int header_due;    /* TLS is starting: our header once it is up */
    char *stream_id;   /* the peer's, for our dialback key */
    struct event *timer;
    xd_stanza **queue;
    size_t nq, capq, qbytes;
    struct verify_req *verifies;
    size_t nv;
    struct s2s_dns_query *dnsq; /* the lookup under way, or NULL */
    struct s2s_target *targets; /* where to connect, tried in order */
    char **target_addrs;
    size_t ntargets, next_target;
    int sync, sync_rc; /* inside s2s_dns_lookup; its failure */
    /* Authenticated: stanzas sent whose bytes may still be in the output
     * buffer, oldest first from sent_head; `end` is the stream's byte
     * count (out_bytes) after the stanza. */
    struct out_sent {
        xd_stanza *st;
        unsigned long long end;
    } * sent;
    size_t sent_head, nsent, capsent;
    unsigned long long out_bytes; /* bytes put in the output buffer */
    struct s2s_out *prev, *next;
};

static void out_free(struct s2s_out *o);
static int connect_next(struct s2s_out *o);

/* Bytes of the output handed to the socket (or TLS) so far. */
static unsigned long long
out_written(const struct s2s_out *o)
{
    size_t pending = o->stream != NULL ? xd_stream_out_pending(o->stream) : 0;

    return pending < o->out_bytes ? o->out_bytes - pending : 0;
}

/* Forgets the stanzas written out entirely. */
static void
sent_trim(struct s2s_out *o)
{
    unsigned long long written = out_written(o);

    while (o->sent_head < o->nsent && o->sent[o->sent_head].end <= written)
        xd_stanza_unref(o->sent[o->sent_head++].st);
    if (o->sent_head == o->nsent)
        o->sent_head = o->nsent = 0;
    else if (o->sent_head > 64 && o->sent_head * 2 > o->nsent) {
        memmove(o->sent, o->sent + o->sent_head,
                (o->nsent - o->sent_head) * sizeof(*o->sent));
        o->nsent -= o->sent_head;
        o->sent_head = 0;
    }
}

/* Sends on the authenticated stream; st is kept until written, or
 * bounced when it cannot be sent. */
static void
out_send_ready(struct s2s_out *o, xd_stanza *st)
{
    size_t before = xd_stream_out_pending(o->stream);
    int rc = xd_stream_send(o->stream, xd_stanza_root(st));

    if (rc == XD_ESTATE || rc == XD_ELIMIT) {
        router_bounce(o->r, st,
                      rc == XD_ELIMIT ? "policy-violation"
                                      : "remote-server-not-found");
        return;
    }
    size_t after = o->stream != NULL ? xd_stream_out_pending(o->stream) : 0;
    o->out_bytes += after > before ? after - before : 0;
    sent_trim(o);
    if (o->nsent == o->capsent) {
        o->capsent = o->capsent ? 2 * o->capsent : 16;
        o->sent = xd_xrealloc(o->sent, o->capsent * sizeof(*o->sent));
    }
    o->sent[o->nsent++] = (struct out_sent){ st, o->out_bytes };
}

/* The stream dropped: what had not been written is bounced (nothing
 * tells whether the peer read what was). */
static void
sent_bounce_unwritten(struct s2s_out *o)
{
    sent_trim(o);
    if (o->nsent > o->sent_head)
        xd_log_info("%s -> %s: stream dropped with %zu stanza(s) unsent; "
                    "bounced (remote-server-timeout)",
                    o->local, o->remote, o->nsent - o->sent_head);
    for (size_t i = o->sent_head; i < o->nsent; i++)
        router_bounce(o->r, o->sent[i].st, "remote-server-timeout");
    o->sent_head = o->nsent = 0;
}

/* Bounces what waits and tells incoming streams their keys were not
 * verified. */
static void
out_fail(struct s2s_out *o, const char *condition)
{
    struct router *r = o->r;

    if (o->nq > 0)
        xd_log_info("%s -> %s: %zu stanza(s) bounced (%s)", o->local, o->remote,
                    o->nq, condition);
    for (size_t i = 0; i < o->nq; i++)
        router_bounce(r, o->queue[i], condition);
    o->nq = 0;
    o->qbytes = 0;
    for (size_t i = 0; i < o->nv; i++) {
        s2s_in_verified(r, o->verifies[i].id, o->local, o->remote, 0);
        free(o->verifies[i].id);
        free(o->verifies[i].key);
    }
    o->nv = 0;
}

static void
send_verifies(struct s2s_out *o)
{
    for (size_t i = 0; i < o->nv; i++) {
        xd_stream_send_stanza(o->stream,
                              dialback_elem("verify", o->local, o->remote,
                                            o->verifies[i].id, NULL,
                                            o->verifies[i].key));
    }
}

static void
flush_queue(struct s2s_out *o)
{
    /* What is in the buffer already (dialback) counts as sent. */
    o->out_bytes = xd_stream_out_pending(o->stream);
    for (size_t i = 0; i < o->nq; i++)
        out_send_ready(o, o->queue[i]);
    o->nq = 0;
    o->qbytes = 0;
}

static void
send_header(struct s2s_out *o)
{
    o->features_seen = 0;
    xd_stream_open(o->stream, o->remote, o->local, NULL, "1.0");
    if (o->state != OUT_TLS && o->state != OUT_SASL_DONE)
        o->state = OUT_OPEN;
}

static void
on_writable(xd_stream *s, void *arg)
{
    struct s2s_out *o = arg;

    if (o->state == OUT_CONNECTING) {
        send_header(o);
    } else if (o->state == OUT_TLS && o->header_due && xd_stream_is_tls(s)) {
        o->header_due = 0;
        send_header(o);
    }
}

static void
on_opened(xd_stream *s, const xd_elem *header, void *arg)
{
    struct s2s_out *o = arg;
    const char *id = xd_elem_attr(header, "id");

    (void)s;
    free(o->stream_id);
    o->stream_id = id != NULL ? xd_xstrdup(id) : NULL;
}

static void
out_ready(struct s2s_out *o, const char *how)
{
    xd_log_info("%s -> %s: outgoing stream authenticated (%s, %s)", o->local,
                o->remote, how, xd_stream_is_tls(o->stream) ? "TLS" : "no TLS");
    o->state = OUT_READY;
    if (o->timer != NULL)
        evtimer_del(o->timer);
    if (strcmp(how, "dialback") != 0)
        send_verifies(o); /* dialback sent them with its <db:result/> */
    flush_queue(o);
}

static int
offers_external(const xd_elem *features)
{
    const xd_elem *m = xd_elem_child(features, "mechanisms", XD_NS_SASL);

    for (const xd_elem *c = m ? xd_elem_first(m) : NULL; c != NULL;
         c = xd_elem_next(c)) {
        const char *t = xd_elem_text(c);
        if (xd_elem_is(c, "mechanism", XD_NS_SASL) && t != NULL &&
            strcmp(t, "EXTERNAL") == 0)
            return 1;
    }
    return 0;
}

static void
send_dialback(struct s2s_out *o)
{
    char key[DIALBACK_KEY_LEN + 1];

    if (o->stream_id == NULL) {
        xd_stream_error(o->stream, "invalid-id", "no stream id");
        return;
    }
    send_verifies(o);
    dialback_key(o->r, o->remote, o->local, o->stream_id, key);
    xd_stream_send_stanza(o->stream, dialback_elem("result", o->local,
                                                   o->remote, NULL, NULL, key));
    o->state = OUT_DIALBACK;
}

static void
on_features(struct s2s_out *o, const xd_elem *features)
{
    struct router *r = o->r;
    int tls = xd_stream_is_tls(o->stream);

    o->features_seen = 1;
    if (!tls && xd_elem_child(features, "starttls", XD_NS_TLS) != NULL &&
        r->s2s_tls_client != NULL) {
        xd_stanza *st = xd_stanza_new("starttls", XD_NS_TLS);
        xd_stream_send_stanza(o->stream, st);
        o->state = OUT_TLS;
        return;
    }
    if (!tls && r->conf.s2s_require_tls) {
        xd_log_info("%s -> %s: %s offers no TLS; refused (s2s_require_tls)",
                    o->local, o->remote, xd_stream_peer(o->stream));
        out_fail(o, "remote-server-not-found");
        xd_stream_close(o->stream);
        return;
    }
    if (o->state == OUT_SASL_DONE) {
        out_ready(o, "SASL EXTERNAL");
        return;
    }
    const char *why = "no TLS";
    int valid =
        tls && s2s_cert_valid(r, xd_stream_ssl(o->stream), o->remote, &why);
    if (valid && offers_external(features)) {
        char *authzid = xd_base64_encode(o->local, strlen(o->local));
        xd_stanza *st = xd_stanza_new("auth", XD_NS_SASL);
        xd_elem_set_attr(xd_stanza_root(st), "mechanism", "EXTERNAL");
        xd_elem_add_text(xd_stanza_root(st), authzid, strlen(authzid));
        free(authzid);
        xd_stream_send_stanza(o->stream, st);
        o->state = OUT_SASL;
        return;
    }
    if (!valid && s2s_secure_for(r, o->remote)) {
        xd_log_info("%s -> %s: certificate of %s refused (%s; "
                    "s2s_secure_auth)",
                    o->local, o->remote, xd_stream_peer(o->stream), why);
        out_fail(o, "remote-server-not-found");
        xd_stream_close(o->stream);
        return;
    }
    send_dialback(o);
}

static void
on_verify_answer(struct s2s_out *o, const xd_elem *e)
{
    const char *id = xd_elem_attr(e, "id");
    const char *type = xd_elem_attr(e, "type");

    for (size_t i = 0; id != NULL && i < o->nv; i++) {
        if (strcmp(o->verifies[i].id, id) != 0)
            continue;
        s2s_in_verified(o->r, id, o->local, o->remote,
                        type != NULL && strcmp(type, "valid") == 0);
        free(o->verifies[i].id);
        free(o->verifies[i].key);
        o->verifies[i] = o->verifies[--o->nv];
        return;
    }
}

static void
on_stanza(xd_stream *s, xd_stanza *st, void *arg)
{
    struct s2s_out *o = arg;
    const xd_elem *e = xd_stanza_root(st);

    if (xd_elem_is(e, "features", XD_NS_STREAMS)) {
        if (o->state == OUT_OPEN || o->state == OUT_TLS ||
            o->state == OUT_SASL_DONE)
            on_features(o, e); /* later ones (no restart asked): ignored */
    } else if (xd_elem_is(e, "proceed", XD_NS_TLS) && o->state == OUT_TLS) {
        free(o->stream_id);
        o->stream_id = NULL;
        o->header_due = 1;
        if (xd_stream_starttls(s, o->r->s2s_tls_client, 0, o->remote) != 0) {
            xd_log_info("%s -> %s: cannot start TLS", o->local, o->remote);
            out_fail(o, "remote-server-not-found");
            xd_stream_close(s);
        }
    } else if (xd_elem_is(e, "result", XD_NS_DIALBACK) &&
               o->state == OUT_DIALBACK) {
        const char *type = xd_elem_attr(e, "type");
        if (type != NULL && strcmp(type, "valid") == 0) {
            out_ready(o, "dialback");
        } else {
            xd_log_info("%s -> %s: dialback refused by the peer", o->local,
                        o->remote);
            out_fail(o, "remote-server-not-found");
            xd_stream_close(s);
        }
    } else if (xd_elem_is(e, "success", XD_NS_SASL) && o->state == OUT_SASL) {
        o->state = OUT_SASL_DONE;
        xd_stream_restart(s);
        send_header(o);
    } else if (xd_elem_is(e, "failure", XD_NS_SASL) && o->state == OUT_SASL) {
        if (s2s_secure_for(o->r, o->remote)) {
            xd_log_info("%s -> %s: SASL EXTERNAL refused by the peer "
                        "(s2s_secure_auth: no dialback)",
                        o->local, o->remote);
            out_fail(o, "remote-server-not-found");
            xd_stream_close(s);
        } else {
            xd_log_info("%s -> %s: SASL EXTERNAL refused, trying dialback",
                        o->local, o->remote);
            send_dialback(o);
        }
    } else if (xd_elem_is(e, "verify", XD_NS_DIALBACK)) {
        on_verify_answer(o, e);
    } else if (xd_elem_is(e, "failure", XD_NS_TLS)) {
        xd_log_info("%s -> %s: the peer refused STARTTLS", o->local, o->remote);
        out_fail(o, "remote-server-not-found");
    }
    /* Stanzas on our outgoing stream (XEP-0288) are not accepted yet. */
    xd_stanza_unref(st);
}

static void
on_closed(xd_stream *s, xd_stream_end why, const char *condition, void *arg)
{
    struct s2s_out *o = arg;

    if (o->state == OUT_CONNECTING && o->next_target < o->ntargets) {
        xd_log_info("%s -> %s: cannot connect to %s port %u; trying the next",
                    o->local, o->remote, o->targets[o->next_target - 1].addr,
                    o->targets[o->next_target - 1].port);
        o->stream = NULL;
        xd_stream_free(s);
        if (connect_next(o) == 0)
            return;
        out_fail(o, "remote-server-not-found");
        out_free(o);
        return;
    }
    if (o->state != OUT_READY || o->nq > 0 || o->nv > 0)
        xd_log_info("%s -> %s: stream ended before it was up (%d%s%s)",
                    o->local, o->remote, (int)why, condition ? ", " : "",
                    condition ? condition : "");
    else
        xd_log_info("%s -> %s: stream closed", o->local, o->remote);
    sent_bounce_unwritten(o);
    o->stream = NULL;
    xd_stream_free(s);
    out_fail(o, why == XD_STREAM_END_TIMEOUT ? "remote-server-timeout"
                                             : "remote-server-not-found");
    out_free(o);
}

static const xd_stream_callbacks out_callbacks = {
    .opened = on_opened,
    .stanza = on_stanza,
    .closed = on_closed,
    .writable = on_writable,
};

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct s2s_out *o = arg;

    (void)fd;
    (void)what;
    if (o->state == OUT_READY)
        return;
    xd_log_info("%s -> %s: not up after %llu s", o->local, o->remote,
                o->r->conf.s2s_connect_timeout_s);
    out_fail(o, "remote-server-timeout");
    if (o->stream != NULL) {
        xd_stream *s = o->stream;
        o->stream = NULL;
        xd_stream_free(s);
    }
    out_free(o);
}

static void
out_free(struct s2s_out *o)
{
    struct router *r = o->r;

    out_fail(o, "remote-server-not-found");
    xd_map_remove(r->s2s_out, o->key);
    if (o->prev)
        o->prev->next = o->next;
    else
        r->s2s_out_all = o->next;
    if (o->next)
        o->next->prev = o->prev;
    if (o->timer != NULL)
        event_free(o->timer);
    xd_stream_free(o->stream);
    s2s_dns_cancel(o->dnsq);
    for (size_t i = 0; i < o->ntargets; i++)
        free(o->target_addrs[i]);
    free(o->target_addrs);
    free(o->targets);
    for (size_t i = o->sent_head; i < o->nsent; i++)
        xd_stanza_unref(o->sent[i].st);
    free(o->sent);
    free(o->queue);
    free(o->verifies);
    free(o->stream_id);
    free(o->key);
    free(o->local);
    free(o->remote);
    free(o);
}

/* Connects to the next target that takes a connect: 0, or the last
 * failure's status (logged). */
static int
connect_next(struct s2s_out *o)
{
    struct router *r = o->r;
    xd_stream_opts opts = {
        .content_ns = XD_NS_SERVER,
        .limits = r->limits,
        .out_high_water = r->conf.out_high_water_bytes,
        .out_max_stanza_bytes = r->conf.max_stanza_bytes,
        .before_write = db_batch_before_write,
        .before_write_arg = r,
    };
    int rc = XD_ENOTFOUND;

    while (o->next_target < o->ntargets) {
        const struct s2s_target *t = &o->targets[o->next_target++];
        xd_log_info("%s -> %s: connecting to %s port %u", o->local, o->remote,
                    t->addr, t->port);
        rc = xd_stream_connect(r->base, t->addr, t->port, &opts, &out_callbacks,
                               o, &o->stream);
        if (rc == 0)
            return 0;
        xd_log_info("%s -> %s: cannot connect to %s port %u", o->local,
                    o->remote, t->addr, t->port);
    }
    return rc;
}

/* The lookup's answer: keeps the targets and connects to the first. */
static void
resolved(void *arg, int status, const struct s2s_target *targets, size_t n)
{
    struct s2s_out *o = arg;
    int sync = o->sync;

    o->dnsq = NULL;
    if (status == 0) {
        o->targets = xd_xcalloc(n, sizeof(*o->targets));
        o->target_addrs = xd_xcalloc(n, sizeof(*o->target_addrs));
        for (size_t i = 0; i < n; i++) {
            o->target_addrs[i] = xd_xstrdup(targets[i].addr);
            o->targets[i].addr = o->target_addrs[i];
            o->targets[i].port = targets[i].port;
        }
        o->ntargets = n;
        status = connect_next(o);
    }
    if (status == 0)
        return;
    if (sync) {
        o->sync_rc = status;
        return;
    }
    xd_log_info("%s -> %s: cannot connect", o->local, o->remote);
    out_fail(o, "remote-server-not-found");
    out_free(o);
}

/* The stream for local -> remote, made and connecting if there was none;
 * NULL when it cannot even be started (logged). */
static struct s2s_out *
out_get(struct router *r, const char *local, const char *remote)
{
    char *key = xd_xasprintf("%s %s", local, remote);
    struct s2s_out *o = xd_map_get(r->s2s_out, key);

    if (o != NULL) {
        free(key);
        return o;
    }
    o = xd_xcalloc(1, sizeof(*o));
    o->r = r;
    o->key = key;
    o->local = xd_xstrdup(local);
    o->remote = xd_xstrdup(remote);
    o->state = OUT_CONNECTING;
    xd_map_put(r->s2s_out, key, o);
    o->next = r->s2s_out_all;
    if (r->s2s_out_all)
        r->s2s_out_all->prev = o;
    r->s2s_out_all = o;
    struct timeval tv = { (time_t)r->conf.s2s_connect_timeout_s, 0 };
    o->timer = evtimer_new(r->base, timeout_cb, o);
    if (o->timer != NULL)
        evtimer_add(o->timer, &tv);
    o->sync = 1;
    struct s2s_dns_query *q = s2s_dns_lookup(r, remote, resolved, o);
    o->sync = 0;
    if (q != NULL)
        o->dnsq = q;
    else if (o->sync_rc != 0) {
        xd_log_info("%s -> %s: cannot connect", local, remote);
        out_free(o);
        return NULL;
    }
    return o;
}

void
s2s_out_send(struct router *r, const char *local, const char *remote,
             xd_stanza *st)
{
    struct s2s_out *o = out_get(r, local, remote);

    if (o == NULL) {
        router_bounce(r, st, "remote-server-not-found");
        return;
    }
    if (o->state == OUT_READY) {
        out_send_ready(o, st);
        return;
    }
    size_t size = xd_stanza_mem(st);
    if (o->qbytes + size > r->conf.s2s_queue_max_bytes) {
        router_bounce(r, st, "resource-constraint");
        return;
    }
    if (o->nq == o->capq) {
        o->capq = o->capq ? 2 * o->capq : 8;
        o->queue = xd_xrealloc(o->queue, o->capq * sizeof(*o->queue));
    }
    o->queue[o->nq++] = st;
    o->qbytes += size;
}

void
s2s_out_verify(struct router *r, const char *local, const char *remote,
               const char *id, const char *key)
{
    struct s2s_out *o = out_get(r, local, remote);

    if (o == NULL) {
        s2s_in_verified(r, id, local, remote, 0);
        return;
    }
    o->verifies = xd_xrealloc(o->verifies, (o->nv + 1) * sizeof(*o->verifies));
    o->verifies[o->nv].id = xd_xstrdup(id);
    o->verifies[o->nv].key = xd_xstrdup(key);
    o->nv++;
    if (o->state == OUT_DIALBACK || o->state == OUT_READY) {
        size_t before = xd_stream_out_pending(o->stream);
        xd_stream_send_stanza(
            o->stream, dialback_elem("verify", local, remote, id, NULL, key));
        size_t after = xd_stream_out_pending(o->stream);
        o->out_bytes += after > before ? after - before : 0;
    }
}

int
router_serves(const struct router *r, const char *domain)
{
    return router_is_local_host(r, domain) ||
           xd_map_get(r->comp_confs, domain) != NULL;
}

/* The handshake goes on whatever the certificate: see s2s_cert_valid. */
static int
accept_any(int preverify_ok, X509_STORE_CTX *ctx)
{
    (void)preverify_ok;
    (void)ctx;
    return 1;
}

int
s2s_start(struct router *r)
{
    int rc;

    r->s2s_out = xd_map_new();
    r->s2s_in_ids = xd_map_new();
    if (r->conf.s2s_port == 0)
        return 0;
    if ((rc = s2s_dns_init(r)) != 0 || (rc = dialback_init(r)) != 0 ||
        (rc = s2s_cert_init(r)) != 0)
        return rc;
    /* The handshake accepts any certificate: cert_verify.c judges it once
     * the domain is known, and dialback remains for the others. */
    if ((rc = xd_tls_client_ctx(NULL, 0, &r->s2s_tls_client)) != 0) {
        xd_log_warnx("no TLS client context for s2s");
        return rc;
    }
    if (r->tls != NULL &&
        !SSL_CTX_use_certificate(r->s2s_tls_client,
                                 SSL_CTX_get0_certificate(r->tls)))
        xd_log_debug("s2s: no client certificate");
    if (r->tls != NULL)
        SSL_CTX_use_PrivateKey(r->s2s_tls_client,
                               SSL_CTX_get0_privatekey(r->tls));
    /* Incoming streams: our certificates, and the peer's asked for. */
    if (r->tls != NULL && router_load_tls(&r->conf, &r->s2s_tls_server) == 0 &&
        r->s2s_tls_server != NULL)
        SSL_CTX_set_verify(r->s2s_tls_server, SSL_VERIFY_PEER, accept_any);
    return 0;
}

void
s2s_out_close_all(struct router *r)
{
    for (struct s2s_out *o = r->s2s_out_all; o != NULL; o = o->next) {
        out_fail(o, "remote-server-not-found");
        if (o->stream != NULL)
            xd_stream_error(o->stream, "system-shutdown", NULL);
    }
}

void
s2s_free_all(struct router *r)
{
    s2s_in_free_all(r);
    while (r->s2s_out_all != NULL)
        out_free(r->s2s_out_all);
    xd_map_free(r->s2s_out);
    r->s2s_out = NULL;
    xd_map_free(r->s2s_in_ids);
    r->s2s_in_ids = NULL;
    SSL_CTX_free(r->s2s_tls_client);
    r->s2s_tls_client = NULL;
    SSL_CTX_free(r->s2s_tls_server);
    r->s2s_tls_server = NULL;
    s2s_cert_free(r);
    s2s_dns_free(r);
}
