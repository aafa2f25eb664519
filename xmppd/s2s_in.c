/*
 * s2s_in.c: incoming server-to-server streams on s2s_port. TLS is offered
 * (and, with s2s_require_tls, required before anything else), then Server
 * Dialback (XEP-0220): a <db:result/> is checked with the originating
 * domain's authoritative server over our outgoing stream to it (the
 * receiving role, s2s_out_verify), and a <db:verify/> about a key we gave
 * is answered (the authoritative role). Stanzas are accepted only from a
 * domain authenticated on this stream (else invalid-from) and to a domain
 * we serve (else host-unknown); they are routed like local ones. A stream
 * that authenticates no domain within s2s_connect_timeout_s is ended.
 * After TLS, a peer whose certificate is valid for its header's `from`
 * (cert_verify.c) is offered SASL EXTERNAL (XEP-0178); under
 * s2s_secure_auth a domain without a valid certificate cannot use
 * dialback.
 * Connections are admitted by conn_limits.c (s2s_max_connections and per
 * address); until a domain is authenticated the stream's stanzas are held
 * to s2s_preauth_max_stanza_bytes.
 */
#define XD_LOG_AREA "s2s"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include <xmppd/base64.h>
#include <xmppd/log.h>
#include <xmppd/ns.h>

#include "router.h"

struct s2s_in {
    struct router *r;
    xd_stream *stream;
    char id[17]; /* our stream id, in r->s2s_in_ids while set */
    int id_set;
    char *local;       /* the domain the peer's header asked for */
    char *cert_domain; /* the header's from, when the certificate is valid */
    xd_map *authed;    /* "remote local" -> (void *)1 */
    size_t n_authed;
    struct event *timer;
    char addr[64]; /* admitted by conn_limits_admit(); released on free */
    struct s2s_in *prev, *next;
};

static void
in_unregister_id(struct s2s_in *in)
{
    if (in->id_set)
        xd_map_remove(in->r->s2s_in_ids, in->id);
    in->id_set = 0;
}

static void
in_free(struct s2s_in *in)
{
    struct router *r = in->r;

    in_unregister_id(in);
    if (in->prev)
        in->prev->next = in->next;
    else
        r->s2s_in_all = in->next;
    if (in->next)
        in->next->prev = in->prev;
    if (in->timer != NULL)
        event_free(in->timer);
    xd_map_free(in->authed);
    xd_stream_free(in->stream);
    conn_limits_release(r, CONN_S2S_IN, in->addr);
    free(in->local);
    free(in->cert_domain);
    free(in);
}

static int in_authed(const struct s2s_in *in, const char *remote,
                     const char *local);

static void
on_opened(xd_stream *s, const xd_elem *header, void *arg)
{
    struct s2s_in *in = arg;
    struct router *r = in->r;
    const char *to = xd_elem_attr(header, "to");
    char *domain = NULL;

    in_unregister_id(in);
    xd_random_id(in->id, sizeof(in->id) - 1);
    if (to == NULL || xd_jid_prep_domain(to, &domain) != 0 ||
        !router_serves(r, domain)) {
        xd_log_info("%s: incoming s2s stream for '%s', a domain we do not "
                    "serve",
                    xd_stream_peer(s), to ? to : "");
        xd_stream_open(s, NULL, NULL, in->id, "1.0");
        xd_stream_error(s, "host-unknown", NULL);
        free(domain);
        return;
    }
    free(in->local);
    in->local = domain;
    xd_map_put(r->s2s_in_ids, in->id, in);
    in->id_set = 1;
    xd_stream_open(s, NULL, in->local, in->id, "1.0");
    xd_stanza *f = xd_stanza_new("features", XD_NS_STREAMS);
    xd_elem *root = xd_stanza_root(f);
    int tls = xd_stream_is_tls(s);
    if (!tls && r->tls != NULL) {
        xd_elem *st = xd_elem_add_child(root, "starttls", XD_NS_TLS);
        if (r->conf.s2s_require_tls)
            xd_elem_add_child(st, "required", XD_NS_TLS);
    }
    free(in->cert_domain);
    in->cert_domain = NULL;
    const char *from = xd_elem_attr(header, "from");
    char *fromd = NULL;
    if (tls && from != NULL && xd_jid_prep_domain(from, &fromd) == 0) {
        const char *why;
        if (in_authed(in, fromd, in->local)) {
            /* SASL done: no mechanisms after the restart (RFC 6120 6.4.6) */
        } else if (s2s_cert_valid(r, xd_stream_ssl(s), fromd, &why)) {
            in->cert_domain = fromd;
            fromd = NULL;
            xd_elem *m = xd_elem_add_child(root, "mechanisms", XD_NS_SASL);
            xd_elem *mech = xd_elem_add_child(m, "mechanism", NULL);
            xd_elem_add_text(mech, "EXTERNAL", strlen("EXTERNAL"));
        } else {
            xd_log_debug("%s: certificate not valid for %s: %s",
                         xd_stream_peer(s), fromd, why);
        }
    }
    free(fromd);
    if (tls || !r->conf.s2s_require_tls)
        xd_elem_add_child(root, "dialback", XD_NS_DIALBACK_FEAT);
    xd_stream_send_stanza(s, f);
}

/* The receiving role: <db:result from=O to=R>key</db:result>. */
static void
on_result(struct s2s_in *in, const xd_elem *e)
{
    struct router *r = in->r;
    const char *from = xd_elem_attr(e, "from"), *to = xd_elem_attr(e, "to");
    const char *key = xd_elem_text(e);
    char *remote = NULL, *local = NULL;
    const char *why = "no certificate";

    if (from == NULL || to == NULL || xd_jid_prep_domain(from, &remote) != 0 ||
        xd_jid_prep_domain(to, &local) != 0) {
        xd_stream_error(in->stream, "improper-addressing", NULL);
    } else if (!router_serves(r, local)) {
        xd_stream_error(in->stream, "host-unknown", NULL);
    } else if (router_serves(r, remote)) {
        xd_stream_error(in->stream, "invalid-from", NULL);
    } else if (s2s_secure_for(r, remote) &&
               !s2s_cert_valid(r, xd_stream_ssl(in->stream), remote, &why)) {
        xd_log_info("%s: dialback from %s refused: certificate %s "
                    "(s2s_secure_auth)",
                    xd_stream_peer(in->stream), remote, why);
        xd_stream_error(in->stream, "not-authorized",
                        "a valid certificate is required");
    } else if (key == NULL || *key == '\0') {
        xd_stream_error(in->stream, "not-authorized", "no dialback key");
    } else {
        xd_log_debug("%s: dialback key from %s for %s, verifying",
                     xd_stream_peer(in->stream), remote, local);
        s2s_out_verify(r, local, remote, in->id, key);
    }
    free(remote);
    free(local);
}

/* The authoritative role: <db:verify from=R to=O id=ID>key</db:verify>
 * asks whether we (O) gave key on R's stream ID. */
static void
on_verify(struct s2s_in *in, const xd_elem *e)
{
    struct router *r = in->r;
    const char *from = xd_elem_attr(e, "from"), *to = xd_elem_attr(e, "to");
    const char *id = xd_elem_attr(e, "id");

    if (from == NULL || to == NULL || id == NULL) {
        xd_stream_error(in->stream, "improper-addressing", NULL);
        return;
    }
    if (!router_serves(r, to)) {
        xd_stream_error(in->stream, "host-unknown", NULL);
        return;
    }
    int ok = dialback_key_ok(r, from, to, id, xd_elem_text(e));
    xd_log_info("%s: dialback verify from %s for %s: %s",
                xd_stream_peer(in->stream), from, to, ok ? "valid" : "invalid");
    xd_stream_send_stanza(
        in->stream,
        dialback_elem("verify", to, from, id, ok ? "valid" : "invalid", NULL));
}

static int
in_authed(const struct s2s_in *in, const char *remote, const char *local)
{
    char *key = xd_xasprintf("%s %s", remote, local);
    int ok = in->authed != NULL && xd_map_get(in->authed, key) != NULL;

    free(key);
    return ok;
}

static void
on_routable(struct s2s_in *in, xd_stanza *st)
{
    const char *from = xd_stanza_from(st), *to = xd_stanza_to(st);
    xd_jid *fj = NULL, *tj = NULL;

    if (from == NULL || xd_jid_parse(from, &fj) != 0) {
        xd_stream_error(in->stream, "invalid-from", NULL);
    } else if (to == NULL || xd_jid_parse(to, &tj) != 0) {
        xd_stream_error(in->stream, "improper-addressing", NULL);
    } else if (!in_authed(in, xd_jid_domain(fj), xd_jid_domain(tj))) {
        if (!router_serves(in->r, xd_jid_domain(tj)))
            xd_stream_error(in->stream, "host-unknown", NULL);
        else {
            xd_log_info("%s: stanza from '%s' to '%s', not authenticated on "
                        "this stream",
                        xd_stream_peer(in->stream), from, to);
            xd_stream_error(in->stream, "invalid-from", NULL);
        }
    } else {
        xd_jid_free(fj);
        xd_jid_free(tj);
        router_route(in->r, st);
        return;
    }
    xd_jid_free(fj);
    xd_jid_free(tj);
    xd_stanza_unref(st);
}

static void
mark_authed(struct s2s_in *in, const char *remote, const char *local)
{
    if (in->authed == NULL)
        in->authed = xd_map_new();
    char *key = xd_xasprintf("%s %s", remote, local);
    if (xd_map_put(in->authed, key, (void *)1) == NULL)
        in->n_authed++;
    free(key);
    /* Authenticated: the stream gets the stanza limits of any other. */
    xd_stream_set_limits(in->stream, &in->r->limits);
}

static void
sasl_failure(xd_stream *s, const char *condition)
{
    xd_stanza *f = xd_stanza_new("failure", XD_NS_SASL);
    xd_elem_add_child(xd_stanza_root(f), condition, NULL);
    xd_stream_send_stanza(s, f);
}

/* XEP-0178: <auth mechanism='EXTERNAL'>[authzid]</auth>, the authzid (if
 * any) being the domain the certificate was found valid for. */
static void
on_auth(struct s2s_in *in, const xd_elem *e)
{
    const char *mech = xd_elem_attr(e, "mechanism");
    const char *text = xd_elem_text(e);
    unsigned char *az = NULL;
    size_t azlen = 0;

    if (mech == NULL || strcmp(mech, "EXTERNAL") != 0 ||
        in->cert_domain == NULL || in->local == NULL) {
        sasl_failure(in->stream, "invalid-mechanism");
        return;
    }
    if (*text != '\0' && strcmp(text, "=") != 0 &&
        (xd_base64_decode(text, strlen(text), &az, &azlen) != 0 ||
         strlen((char *)az) != azlen ||
         strcasecmp((char *)az, in->cert_domain) != 0)) {
        xd_log_info("%s: SASL EXTERNAL authzid is not %s",
                    xd_stream_peer(in->stream), in->cert_domain);
        free(az);
        sasl_failure(in->stream, "invalid-authzid");
        return;
    }
    free(az);
    mark_authed(in, in->cert_domain, in->local);
    xd_log_info("%s: incoming stream from %s to %s authenticated (SASL "
                "EXTERNAL)",
                xd_stream_peer(in->stream), in->cert_domain, in->local);
    xd_stream_send_raw(in->stream, "<success xmlns='" XD_NS_SASL "'/>",
                       strlen("<success xmlns='" XD_NS_SASL "'/>"));
    xd_stream_restart(in->stream);
}

static void
on_stanza(xd_stream *s, xd_stanza *st, void *arg)
{
    struct s2s_in *in = arg;
    struct router *r = in->r;
    const xd_elem *e = xd_stanza_root(st);
    int tls = xd_stream_is_tls(s);

    if (xd_elem_is(e, "starttls", XD_NS_TLS) && !tls && r->tls != NULL) {
        xd_stream_send_raw(s, "<proceed xmlns='" XD_NS_TLS "'/>",
                           strlen("<proceed xmlns='" XD_NS_TLS "'/>"));
        if (xd_stream_starttls(s,
                               r->s2s_tls_server ? r->s2s_tls_server : r->tls,
                               1, NULL) != 0)
            xd_stream_error(s, "internal-server-error", "TLS failed");
    } else if (!tls && r->conf.s2s_require_tls) {
        xd_stream_error(s, "policy-violation", "STARTTLS required");
    } else if (xd_elem_is(e, "auth", XD_NS_SASL)) {
        on_auth(in, e);
    } else if (xd_elem_is(e, "result", XD_NS_DIALBACK)) {
        on_result(in, e);
    } else if (xd_elem_is(e, "verify", XD_NS_DIALBACK)) {
        on_verify(in, e);
    } else if (xd_stanza_kind_of(st) == XD_STANZA_OTHER) {
        xd_stream_error(s, "unsupported-stanza-type", NULL);
    } else {
        on_routable(in, st);
        return;
    }
    xd_stanza_unref(st);
}

static void
on_closed(xd_stream *s, xd_stream_end why, const char *condition, void *arg)
{
    struct s2s_in *in = arg;

    xd_log_debug("%s: incoming s2s stream ended (%d%s%s)", xd_stream_peer(s),
                 (int)why, condition ? ", " : "", condition ? condition : "");
    in_free(in);
}

static const xd_stream_callbacks in_callbacks = {
    .opened = on_opened,
    .stanza = on_stanza,
    .closed = on_closed,
};

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct s2s_in *in = arg;

    (void)fd;
    (void)what;
    if (in->n_authed > 0)
        return;
    xd_log_info("%s: incoming s2s stream authenticated nothing in %llu s",
                xd_stream_peer(in->stream), in->r->conf.s2s_connect_timeout_s);
    xd_stream_error(in->stream, "connection-timeout", NULL);
}

/* The limits of a stream that has authenticated no domain yet. */
static xd_xml_limits
preauth_limits(const struct router *r)
{
    xd_xml_limits lim = r->limits;

    if (r->conf.s2s_preauth_max_stanza_bytes < lim.max_stanza_bytes)
        lim.max_stanza_bytes = (size_t)r->conf.s2s_preauth_max_stanza_bytes;
    return lim;
}

void
s2s_in_accept(struct router *r, int fd, const char *addr)
{
    struct s2s_in *in = xd_xcalloc(1, sizeof(*in));
    xd_stream_opts opts = {
        .content_ns = XD_NS_SERVER,
        .limits = preauth_limits(r),
        .out_high_water = r->conf.out_high_water_bytes,
        .before_write = db_batch_before_write,
        .before_write_arg = r,
    };
    /* Peers that verify keys only, and never authenticate a domain, still
     * get the whole time-out twice over (XEP-0220 verify streams). */
    struct timeval tv = { (time_t)(2 * r->conf.s2s_connect_timeout_s), 0 };

    in->r = r;
    snprintf(in->addr, sizeof(in->addr), "%s", addr);
    in->stream = xd_stream_new_fd(r->base, fd, &opts, &in_callbacks, in);
    in->timer = evtimer_new(r->base, timeout_cb, in);
    if (in->timer != NULL)
        evtimer_add(in->timer, &tv);
    in->next = r->s2s_in_all;
    if (r->s2s_in_all)
        r->s2s_in_all->prev = in;
    r->s2s_in_all = in;
}

void
s2s_in_verified(struct router *r, const char *id, const char *local,
                const char *remote, int valid)
{
    struct s2s_in *in = r->s2s_in_ids ? xd_map_get(r->s2s_in_ids, id) : NULL;

    if (in == NULL)
        return; /* the stream is gone */
    xd_stream_send_stanza(in->stream,
                          dialback_elem("result", local, remote, NULL,
                                        valid ? "valid" : "invalid", NULL));
    if (!valid) {
        xd_log_info("%s: dialback key of %s for %s did not verify",
                    xd_stream_peer(in->stream), remote, local);
        xd_stream_error(in->stream, "not-authorized", NULL);
        return;
    }
    mark_authed(in, remote, local);
    xd_log_info("%s: incoming stream from %s to %s authenticated (dialback)",
                xd_stream_peer(in->stream), remote, local);
}

void
s2s_in_close_all(struct router *r)
{
    for (struct s2s_in *in = r->s2s_in_all; in != NULL; in = in->next)
        xd_stream_error(in->stream, "system-shutdown", NULL);
}

void
s2s_in_free_all(struct router *r)
{
    while (r->s2s_in_all != NULL)
        in_free(r->s2s_in_all);
}
