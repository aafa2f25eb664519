/*
 * c2s.c: client sessions (RFC 6120 sections 4-7): stream headers and
 * features, STARTTLS, SASL, resource binding, then stanzas stamped with the
 * client's full JID and handed to the router.
 *
 * The session does not know what carries it: every byte goes through the
 * transport's ops (a TLS socket in c2s_socket.c; the web connection
 * manager's multiplexed link later).
 */
#define XD_LOG_AREA "c2s"
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>

#include <event2/event.h>

#include <xmppd/log.h>

#include "c2s_internal.h"
#include "roster_store.h"

/* RFC 6120 6.4.5 asks for at least two and at most five retries. */
#define SASL_MAX_FAILURES 5

static void held_cb(evutil_socket_t fd, short what, void *arg);

/* Any input from the client proves it is there: the next ping waits. */
void
c2s_idle_rearm(struct c2s *c)
{
    struct timeval tv = { (time_t)c->r->conf.c2s_ping_interval_s, 0 };

    c->ping_pending = 0;
    if (tv.tv_sec > 0)
        evtimer_add(c->idle_timer, &tv);
}

static void
idle_cb(evutil_socket_t fd, short what, void *arg)
{
    struct c2s *c = arg;
    struct timeval tv = { (time_t)c->r->conf.c2s_ping_timeout_s, 0 };

    (void)fd;
    (void)what;
    if (c->ping_pending) {
        xd_log_info("%s: no answer to a ping", xd_jid_str(c->jid));
        if (!c->r->stopping && sm_hibernate(c))
            return; /* XEP-0198: as good as a lost connection */
        c->ops->error(c->t, "connection-timeout", NULL);
        return;
    }
    xd_stanza *ping =
        xd_stanza_iq_new("get", NULL, xd_jid_str(c->jid), c->host);
    xd_elem_add_child(xd_stanza_root(ping), "ping", XD_NS_PING);
    c2s_send(c, ping);
    c->ping_pending = 1;
    evtimer_add(c->idle_timer, &tv);
}

static void
auth_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct c2s *c = arg;

    (void)fd;
    (void)what;
    xd_log_info("%s: no session after %llu s", c->ops->peer(c->t),
                c->r->conf.auth_timeout_s);
    c->ops->error(c->t, "connection-timeout", NULL);
}

struct c2s *
c2s_new(struct router *r, const struct c2s_transport_ops *ops, void *transport)
{
    struct c2s *c = xd_xcalloc(1, sizeof(*c));
    struct timeval tv = { (time_t)r->conf.auth_timeout_s, 0 };

    c->r = r;
    c->ops = ops;
    c->t = transport;
    c->state = C2S_HEADER;
    c->auth_timer = evtimer_new(r->base, auth_timeout_cb, c);
    c->held_timer = evtimer_new(r->base, held_cb, c);
    c->idle_timer = evtimer_new(r->base, idle_cb, c);
    evtimer_add(c->auth_timer, &tv);
    c->next = r->c2s_all;
    if (r->c2s_all)
        r->c2s_all->prev = c;
    r->c2s_all = c;
    return c;
}

const xd_jid *
c2s_jid(const struct c2s *c)
{
    return c->jid;
}

void
c2s_set_wants_roster(struct c2s *c)
{
    c->wants_roster = 1;
}

int
c2s_wants_roster(const struct c2s *c)
{
    return c->state == C2S_SESSION && c->wants_roster;
}

void
c2s_set_wants_blocklist(struct c2s *c)
{
    c->wants_blocklist = 1;
}

int
c2s_wants_blocklist(const struct c2s *c)
{
    return c->wants_blocklist;
}

int
c2s_wants_carbons(const struct c2s *c)
{
    return c->carbons;
}

const xd_stanza *
c2s_last_presence(const struct c2s *c)
{
    return c->last_presence;
}

int
c2s_is_available(const struct c2s *c)
{
    return c->state == C2S_SESSION && c->available;
}

int
c2s_priority(const struct c2s *c)
{
    return c->priority;
}

/* Presence held while the client was inactive goes out, one per sender
 * (the latest), before anything else that is sent. */
static void
flush_one(const char *from, void *value, void *arg)
{
    struct c2s *c = arg;
    xd_stanza *st = value;

    (void)from;
    c2s_send(c, st);
}

static void
flush_held(struct c2s *c)
{
    if (c->held_presence == NULL)
        return;
    xd_map *held = c->held_presence;
    c->held_presence = NULL;
    xd_map_each(held, flush_one, c);
    xd_map_free(held);
}

/* Senders whose presence one inactive client keeps folded, at most. */
#define CSI_HELD_MAX 1000

void
c2s_deliver(struct c2s *c, xd_stanza *st)
{
    if (c->inactive && xd_stanza_kind_of(st) == XD_STANZA_PRESENCE &&
        xd_stanza_from(st) != NULL) {
        /* XEP-0352: presence waits, folded per sender. */
        if (c->held_presence == NULL)
            c->held_presence = xd_map_new();
        if (xd_map_count(c->held_presence) < CSI_HELD_MAX) {
            xd_stanza_unref(
                xd_map_put(c->held_presence, xd_stanza_from(st), st));
            return;
        }
    }
    flush_held(c);
    c2s_send(c, st);
}

int
c2s_kick(struct c2s *c, const char *condition, const char *text)
{
    if (c->no_resume)
        return 0; /* already on its way out */
    c->no_resume = 1;
    c->ops->error(c->t, condition, text);
    return 1;
}

void
c2s_send(struct c2s *c, xd_stanza *st)
{
    c->ops->send(c->t, xd_stanza_root(st));
    if (c->sm != NULL)
        sm_sent(c, st);
    else
        xd_stanza_unref(st);
}

/* --- stream header and features -------------------------------------- */

static void
send_features(struct c2s *c)
{
    struct router *r = c->r;
    xd_stanza *f = xd_stanza_new("features", XD_NS_STREAMS);
    xd_elem *root = xd_stanza_root(f);
    int secure = c->ops->is_secure(c->t);

    if (!c->authenticated) {
        if (!secure && r->tls != NULL && c->ops->starttls != NULL) {
            xd_elem *tls = xd_elem_add_child(root, "starttls", XD_NS_TLS);
            if (r->conf.c2s_require_tls)
                xd_elem_add_child(tls, "required", NULL);
        }
        /* RFC 6120 5.3.1: when TLS is mandatory, nothing else is offered
         * before it. */
        if (secure || !r->conf.c2s_require_tls) {
            xd_elem *m = xd_elem_add_child(root, "mechanisms", XD_NS_SASL);
            sasl_offer(r, secure, m);
            if (r->conf.registration)
                xd_elem_add_child(root, "register", XD_NS_REGISTER_FEATURE);
        }
    } else {
        xd_elem_add_child(root, "bind", XD_NS_BIND);
        xd_elem_add_child(root, "csi", XD_NS_CSI);
        xd_elem_add_child(root, "sm", XD_NS_SM);
        /* RFC 6121 3.4: subscription pre-approval. */
        xd_elem_add_child(root, "sub", "urn:xmpp:features:pre-approval");
        /* XEP-0115 6.3: what the server can do, before anyone asks. */
        xd_elem *caps =
            xd_elem_add_child(root, "c", "http://jabber.org/protocol/caps");
        xd_elem_set_attr(caps, "hash", "sha-1");
        xd_elem_set_attr(caps, "node", "https://xmppd.invalid/caps");
        xd_elem_set_attr(caps, "ver", r->caps_ver);
        xd_elem *sess = xd_elem_add_child(root, "session", XD_NS_SESSION);
        xd_elem_add_child(sess, "optional", NULL);
    }
    c2s_send(c, f);
}

void
c2s_on_open(struct c2s *c, const xd_elem *header)
{
    struct router *r = c->r;
    const char *to = xd_elem_attr(header, "to");
    const char *version = xd_elem_attr(header, "version");
    char *host = NULL;

    xd_random_id(c->stream_id, sizeof(c->stream_id) - 1);
    if (to == NULL || xd_jid_prep_domain(to, &host) != 0 ||
        !router_is_local_host(r, host)) {
        c->ops->open(c->t, NULL, c->stream_id);
        xd_log_info("%s: unknown host '%s'", c->ops->peer(c->t), to ? to : "");
        c->ops->error(c->t, "host-unknown", NULL);
        free(host);
        return;
    }
    if (c->host != NULL && strcmp(c->host, host) != 0) {
        /* A restarted stream must be for the same host. */
        c->ops->open(c->t, c->host, c->stream_id);
        c->ops->error(c->t, "host-unknown", "host changed on restart");
        free(host);
        return;
    }
    free(c->host);
    c->host = host;
    c->ops->open(c->t, c->host, c->stream_id);
    if (version == NULL || strncmp(version, "1.", 2) != 0) {
        c->ops->error(c->t, "unsupported-version", "version 1.0 required");
        return;
    }
    c->state = c->authenticated ? C2S_BIND : C2S_NEGOTIATE;
    send_features(c);
}

/* --- negotiation ----------------------------------------------------- */

static void
handle_starttls(struct c2s *c)
{
    if (c->r->tls == NULL || c->ops->starttls == NULL ||
        c->ops->is_secure(c->t)) {
        c2s_send(c, xd_stanza_new("failure", XD_NS_TLS));
        c->ops->close(c->t);
        return;
    }
    c2s_send(c, xd_stanza_new("proceed", XD_NS_TLS));
    c->state = C2S_HEADER; /* nothing counts until the new header */
    if (c->ops->starttls(c->t) != 0) {
        xd_log_warnx("%s: cannot start TLS", c->ops->peer(c->t));
        c->ops->error(c->t, "internal-server-error", NULL);
    }
}

/* RFC 6120 6.4.5: a connection gets a few tries, then it is closed. */
static void
check_failures(struct c2s *c)
{
    if (c->sasl_failures >= SASL_MAX_FAILURES) {
        xd_log_info("%s: too many failed authentications", c->ops->peer(c->t));
        c->ops->error(c->t, "policy-violation",
                      "too many failed authentication attempts");
    }
}

static void
held_cb(evutil_socket_t fd, short what, void *arg)
{
    struct c2s *c = arg;

    (void)fd;
    (void)what;
    c2s_send(c, c->held);
    c->held = NULL;
    check_failures(c);
}

static xd_stanza *
sasl_failure(const char *condition, const char *text)
{
    xd_stanza *f = xd_stanza_new("failure", XD_NS_SASL);

    xd_elem_add_child(xd_stanza_root(f), condition, NULL);
    if (text != NULL)
        xd_elem_set_child_text(xd_stanza_root(f), "text", NULL, text);
    return f;
}

/*
 * One line per failed login, in a format that stays stable for log
 * watchers (contrib/fail2ban/xmppd.conf matches it): the client's address
 * (without port or brackets) comes first, right after "from", before the
 * user name the client chose, so that no name can pose as an address.
 */
static void
log_failed_login(const struct c2s *c, const char *peer, const char *user)
{
    const char *colon = strrchr(peer, ':');
    size_t len = colon ? (size_t)(colon - peer) : strlen(peer);

    if (len >= 2 && peer[0] == '[' && peer[len - 1] == ']') {
        peer++;
        len -= 2;
    }
    xd_log_warnx("login failed from %.*s: user %s at %s", (int)len, peer,
                 user[0] != '\0' ? user : "?", c->host);
}

static void
handle_sasl(struct c2s *c, const xd_elem *in)
{
    struct router *r = c->r;
    struct sasl_result res = { NULL, 0, "" };
    char *user = NULL;
    int secure = c->ops->is_secure(c->t);
    const char *peer = c->ops->peer(c->t);

    if (!secure && r->conf.c2s_require_tls) {
        c2s_send(c, sasl_failure("encryption-required", NULL));
        return;
    }
    if (xd_elem_is(in, "auth", XD_NS_SASL)) {
        /* A new <auth/> abandons the exchange under way. */
        if (c->sasl != NULL) {
            sasl_free(c->sasl);
            c->sasl = NULL;
            auth_limits_end(r, peer);
        }
        if (auth_limits_begin(r, peer) != 0) {
            c2s_send(c, sasl_failure("temporary-auth-failure",
                                     "too many logins from your address; "
                                     "try again later"));
            return;
        }
    } else if (c->sasl != NULL && !xd_elem_is(in, "abort", XD_NS_SASL) &&
               auth_limits_blocked(r, peer)) {
        /* Exchanges opened at once all passed the check at <auth/>: the
         * proofs that come after the address ran out of guesses are not
         * evaluated. */
        sasl_free(c->sasl);
        c->sasl = NULL;
        auth_limits_end(r, peer);
        c2s_send(c, sasl_failure("temporary-auth-failure",
                                 "too many failed logins from your "
                                 "address; try again later"));
        return;
    }
    int begun = c->sasl != NULL || xd_elem_is(in, "auth", XD_NS_SASL);
    sasl_step(r, c->host, secure, &c->sasl, in, &res, &user);
    if (res.done != 0 && begun)
        auth_limits_end(r, peer);
    if (res.done < 0) {
        int abort = xd_elem_is(in, "abort", XD_NS_SASL);
        r->stats.auth_failed++;
        c->sasl_failures++;
        if (!abort)
            log_failed_login(c, peer, res.user);
        /* An abort is not a guess; anything else counts for the address
         * and may be answered late. */
        unsigned delay_ms = abort ? 0 : auth_limits_failure(r, peer);
        if (delay_ms > 0 && res.reply != NULL) {
            struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };
            xd_stanza_unref(c->held);
            c->held = res.reply;
            evtimer_add(c->held_timer, &tv);
            return;
        }
    }
    if (res.reply)
        c2s_send(c, res.reply);
    if (res.done > 0) {
        c->user = user;
        c->authenticated = 1;
        r->stats.auth_ok++;
        xd_log_info("%s: %s@%s authenticated", peer, c->user, c->host);
        c->state = C2S_HEADER; /* nothing counts until the new header */
        if (c->ops->authenticated != NULL)
            c->ops->authenticated(c->t);
        c->ops->restart(c->t);
    } else if (res.done < 0) {
        check_failures(c);
    }
}

static void
handle_bind(struct c2s *c, xd_stanza *st)
{
    struct router *r = c->r;
    xd_elem *bind = xd_elem_child(xd_stanza_root(st), "bind", XD_NS_BIND);
    const char *want = xd_elem_child_text(bind, "resource", XD_NS_BIND);
    char generated[17];
    xd_jid *jid = NULL;

    if (want == NULL || *want == '\0') {
        xd_random_id(generated, sizeof(generated) - 1);
        want = generated;
    }
    if (xd_jid_make(c->user, c->host, want, &jid) != 0) {
        c2s_send(
            c, xd_stanza_error_reply(st, XD_ERRT_MODIFY, "bad-request", NULL));
        return;
    }
    const struct user_sessions *us = sessions_of(r, xd_jid_bare_str(jid));
    if (us != NULL && us->n >= r->conf.max_sessions_per_account &&
        sessions_get(r, xd_jid_str(jid)) == NULL) {
        /* RFC 6120 7.6.2.1: too many resources for this account. */
        xd_log_info("%s: %zu sessions already", xd_jid_bare_str(jid), us->n);
        xd_jid_free(jid);
        c2s_send(c, xd_stanza_error_reply(st, XD_ERRT_WAIT,
                                          "resource-constraint", NULL));
        return;
    }
    c->jid = jid;
    struct c2s *old = NULL;
    sessions_add(r, c, &old);
    if (old != NULL) {
        /* RFC 6120 7.7.2.2: the newer session wins; the older one ends
         * with a conflict stream error. */
        xd_log_info("%s replaces an older session", xd_jid_str(jid));
        c2s_kick(old, "conflict", "replaced by a new session");
    }
    c->state = C2S_SESSION;
    c->bound_at = time(NULL);
    c->last_input = c->bound_at;
    evtimer_del(c->auth_timer);
    c2s_idle_rearm(c);

    xd_stanza *res = xd_stanza_reply(st);
    xd_elem *b = xd_elem_add_child(xd_stanza_root(res), "bind", XD_NS_BIND);
    xd_elem_set_child_text(b, "jid", XD_NS_BIND, xd_jid_str(jid));
    c2s_send(c, res);
    xd_log_info("%s: bound %s", c->ops->peer(c->t), xd_jid_str(jid));
}

/* --- presence from the client itself --------------------------------- */

/* Directed presence recipients one session remembers, at most. */
#define DIRECTED_MAX 1000

/* RFC 6121 4.6: available presence sent to a JID that is not a subscriber
 * is remembered, so that it learns when the user goes away. */
static void
track_directed(struct c2s *c, const xd_stanza *st)
{
    const char *type = xd_stanza_type(st), *to = xd_stanza_to(st);
    struct roster_item it = { 0 };
    xd_jid *j = NULL;

    if (type != NULL && strcmp(type, "unavailable") == 0) {
        if (c->directed != NULL)
            xd_map_remove(c->directed, to);
        return;
    }
    if (type != NULL || xd_jid_parse(to, &j) != 0)
        return;
    int subscriber =
        roster_get(c->r->db, c->host, c->user, xd_jid_bare_str(j), &it) == 1 &&
        (strcmp(it.subscription, "from") == 0 ||
         strcmp(it.subscription, "both") == 0);
    roster_item_clear(&it);
    xd_jid_free(j);
    if (subscriber)
        return; /* the broadcast reaches it */
    if (c->directed == NULL)
        c->directed = xd_map_new();
    if (xd_map_count(c->directed) < DIRECTED_MAX)
        xd_map_put(c->directed, to, (void *)1);
}

static void
unavailable_to(const char *to, void *value, void *arg)
{
    struct c2s *c = arg;
    xd_stanza *p = xd_stanza_new("presence", XD_NS_CLIENT);

    (void)value;
    xd_stanza_set_type(p, "unavailable");
    xd_stanza_set_from(p, xd_jid_str(c->jid));
    xd_stanza_set_to(p, to);
    router_route(c->r, p);
}

/* The user went unavailable: so does the directed presence it sent. */
static void
end_directed(struct c2s *c)
{
    if (c->directed == NULL)
        return;
    xd_map *d = c->directed;
    c->directed = NULL;
    xd_map_each(d, unavailable_to, c);
    xd_map_free(d);
}

/* Sends a copy of st to every available resource of the account. */
static void
broadcast_to_own_resources(struct c2s *c, const xd_stanza *st)
{
    const struct user_sessions *us = sessions_of(c->r, xd_jid_bare_str(c->jid));

    for (size_t i = 0; us != NULL && i < us->n; i++) {
        if (!c2s_is_available(us->list[i]) && us->list[i] != c)
            continue;
        xd_stanza *copy = xd_stanza_copy(xd_stanza_root(st));
        xd_stanza_set_to(copy, xd_jid_str(c2s_jid(us->list[i])));
        c2s_deliver(us->list[i], copy);
    }
}

static void
handle_own_presence(struct c2s *c, xd_stanza *st)
{
    const char *type = xd_stanza_type(st);
    int initial = 0;

    if (type == NULL) {
        const char *prio = xd_stanza_child_text(st, "priority", XD_NS_CLIENT);
        long p = prio ? strtol(prio, NULL, 10) : 0;
        c->priority = p < -128 ? -128 : p > 127 ? 127 : (int)p;
        initial = !c->available;
        c->available = 1;
        xd_stanza_unref(c->last_presence);
        c->last_presence = xd_stanza_ref(st);
    } else if (strcmp(type, "unavailable") == 0) {
        c->available = 0;
        xd_stanza_unref(c->last_presence);
        c->last_presence = NULL;
        end_directed(c);
    } else {
        /* Subscription management without a 'to' is meaningless. */
        xd_stanza_unref(st);
        return;
    }
    broadcast_to_own_resources(c, st);
    presence_broadcast(c->r, c, st, initial);
    if (initial)
        presence_redeliver_pending(c->r, c);
    xd_stanza_unref(st);
    /* XEP-0160: stored messages go to the first available resource with a
     * non-negative priority. */
    if (c->available && c->priority >= 0 && !c->offline_taken) {
        c->offline_taken = 1;
        offline_deliver(c->r, c);
    }
}

static int
is_subscription(const char *type)
{
    return type != NULL &&
           (strcmp(type, "subscribe") == 0 || strcmp(type, "subscribed") == 0 ||
            strcmp(type, "unsubscribe") == 0 ||
            strcmp(type, "unsubscribed") == 0);
}

/* An iq the server answers for the account itself: no 'to', or the
 * account's own bare JID (RFC 6120 10.5.3.1). */
static int
for_own_account(const struct c2s *c, const xd_stanza *st)
{
    const char *to = xd_stanza_to(st);

    return to == NULL || strcmp(to, xd_jid_bare_str(c->jid)) == 0;
}

/* --- stanzas in an established session -------------------------------- */

static int
from_is_ours(const struct c2s *c, const char *from)
{
    return strcmp(from, xd_jid_str(c->jid)) == 0 ||
           strcmp(from, xd_jid_bare_str(c->jid)) == 0;
}

static void
handle_session_stanza(struct c2s *c, xd_stanza *st)
{
    struct router *r = c->r;
    xd_stanza_kind kind = xd_stanza_kind_of(st);
    const char *from = xd_stanza_from(st);

    if (kind == XD_STANZA_OTHER &&
        strcmp(xd_elem_ns(xd_stanza_root(st)), XD_NS_CSI) == 0) {
        /* XEP-0352: the client says whether anyone is looking. */
        c->inactive = xd_elem_is(xd_stanza_root(st), "inactive", NULL);
        if (!c->inactive)
            flush_held(c);
        xd_stanza_unref(st);
        return;
    }
    if (kind == XD_STANZA_OTHER) {
        xd_log_info("%s: unsupported element <%s xmlns='%s'>",
                    xd_jid_str(c->jid), xd_elem_name(xd_stanza_root(st)),
                    xd_elem_ns(xd_stanza_root(st)));
        xd_stanza_unref(st);
        c2s_kick(c, "unsupported-stanza-type", NULL);
        return;
    }
    /* RFC 6120 8.1.2.1: the server stamps the full JID and refuses a
     * 'from' that is not the client's own. */
    if (from != NULL && !from_is_ours(c, from)) {
        xd_stanza_unref(st);
        c2s_kick(c, "invalid-from", NULL);
        return;
    }
    xd_stanza_set_from(st, xd_jid_str(c->jid));

    if (kind == XD_STANZA_IQ && for_own_account(c, st)) {
        const xd_elem *q = xd_elem_first(xd_stanza_root(st));
        if (xd_elem_is(q, "query", XD_NS_ROSTER)) {
            roster_iq(r, c, st);
            return;
        }
        if (q != NULL && strcmp(xd_elem_ns(q), XD_NS_BLOCKING) == 0) {
            blocking_iq(r, c, st);
            return;
        }
        if (xd_elem_is(q, "query", XD_NS_REGISTER)) {
            register_iq(c, st);
            return;
        }
        if (q != NULL && strcmp(xd_elem_ns(q), XD_NS_MAM) == 0) {
            mam_iq(r, c, st);
            return;
        }
        if (q != NULL && strcmp(xd_elem_ns(q), XD_NS_CARBONS) == 0 &&
            (xd_elem_is(q, "enable", NULL) || xd_elem_is(q, "disable", NULL))) {
            c->carbons = xd_elem_is(q, "enable", NULL);
            c2s_send(c, xd_stanza_reply(st));
            xd_stanza_unref(st);
            return;
        }
    }
    if (xd_stanza_to(st) != NULL &&
        blocking_blocks(r, c->jid, xd_stanza_to(st))) {
        /* XEP-0191 3.5: nothing goes to an address the user blocks. */
        xd_stanza *err =
            kind == XD_STANZA_PRESENCE ? NULL : blocking_refusal(st);
        xd_stanza_unref(st);
        if (err != NULL)
            c2s_send(c, err);
        return;
    }
    if (kind == XD_STANZA_MESSAGE) /* before its archive and its carbons */
        mam_strip_forged_ids(st, c->jid);
    if (kind == XD_STANZA_MESSAGE && xd_stanza_to(st) != NULL &&
        mam_archivable(st))
        mam_archive(r, c->jid, xd_stanza_to(st), st, 0);
    if (kind == XD_STANZA_MESSAGE && xd_stanza_to(st) != NULL &&
        carbons_applies(st)) {
        /* XEP-0280 6: the sender's other resources see what it sent. */
        struct c2s *self = c;
        carbons_copy(r, xd_jid_bare_str(c->jid), st, "sent", &self, 1);
    }
    if (kind == XD_STANZA_PRESENCE && xd_stanza_to(st) != NULL &&
        is_subscription(xd_stanza_type(st))) {
        presence_outbound(r, c, st);
        return;
    }
    if (kind == XD_STANZA_PRESENCE && xd_stanza_to(st) != NULL)
        track_directed(c, st);
    if (xd_stanza_to(st) == NULL) {
        switch (kind) {
        case XD_STANZA_PRESENCE:
            handle_own_presence(c, st);
            return;
        case XD_STANZA_IQ:
            /* RFC 6120 10.3.3: handled by the server for the account. */
            if (xd_elem_child(xd_stanza_root(st), "session", XD_NS_SESSION) !=
                NULL) {
                c2s_send(c, xd_stanza_reply(st));
                xd_stanza_unref(st);
                return;
            }
            xd_jid *bare = xd_jid_bare(c->jid);
            server_handle(r, bare, st);
            xd_jid_free(bare);
            return;
        default:
            /* RFC 6120 10.3.1: a message without 'to' goes to the bare
             * JID of the sender. */
            xd_stanza_set_to(st, xd_jid_bare_str(c->jid));
            break;
        }
    }
    router_route(r, st);
}

void
c2s_on_stanza(struct c2s *c, xd_stanza *st)
{
    const xd_elem *root = xd_stanza_root(st);

    switch (c->state) {
    case C2S_HEADER:
        /* Before the first header the parser hands out nothing; after a
         * restart (STARTTLS, SASL success) nothing until the new one. */
        break;
    case C2S_NEGOTIATE:
        if (xd_elem_is(root, "starttls", XD_NS_TLS)) {
            handle_starttls(c);
            xd_stanza_unref(st);
            return;
        }
        if (strcmp(xd_elem_ns(root), XD_NS_SASL) == 0) {
            handle_sasl(c, root);
            xd_stanza_unref(st);
            return;
        }
        if (xd_stanza_kind_of(st) == XD_STANZA_IQ &&
            xd_elem_child(root, "query", XD_NS_REGISTER) != NULL) {
            register_iq(c, st); /* XEP-0077 before authentication */
            return;
        }
        break;
    case C2S_BIND:
        if (strcmp(xd_elem_ns(root), XD_NS_SM) == 0) {
            sm_handle(c, st); /* <resume/> may hand the transport over */
            return;
        }
        if (xd_stanza_kind_of(st) == XD_STANZA_IQ &&
            xd_elem_child(root, "bind", XD_NS_BIND) != NULL) {
            handle_bind(c, st);
            xd_stanza_unref(st);
            return;
        }
        break;
    case C2S_SESSION:
        c2s_idle_rearm(c);
        c->last_input = time(NULL);
        if (strcmp(xd_elem_ns(root), XD_NS_SM) == 0) {
            sm_handle(c, st);
            return;
        }
        if (c->sm != NULL && xd_stanza_kind_of(st) != XD_STANZA_OTHER)
            sm_received(c);
        handle_session_stanza(c, st);
        return;
    }
    /* RFC 6120 6.4 and 7.1: nothing but negotiation before a resource is
     * bound. */
    xd_log_info("%s: <%s/> before the session was established",
                c->ops->peer(c->t), xd_elem_name(root));
    xd_stanza_unref(st);
    c->ops->error(c->t, "not-authorized", NULL);
}

/* --- the end ------------------------------------------------------------ */

static void
unref_held(const char *from, void *value, void *arg)
{
    (void)from;
    (void)arg;
    xd_stanza_unref(value);
}

void
c2s_free(struct c2s *c)
{
    struct router *r = c->r;

    kdf_cancel(c->kdf_job); /* register.c's request dies with us */

    if (c->prev)
        c->prev->next = c->next;
    else
        r->c2s_all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->auth_timer);
    event_free(c->held_timer);
    event_free(c->idle_timer);
    xd_stanza_unref(c->held);
    if (c->held_presence != NULL) {
        xd_map_each(c->held_presence, unref_held, NULL);
        xd_map_free(c->held_presence);
    }
    xd_stanza_unref(c->last_presence);
    xd_map_free(c->directed);
    sm_free(c);
    if (c->sasl != NULL) /* an exchange without an outcome */
        auth_limits_end(r, c->ops->peer(c->t));
    sasl_free(c->sasl);
    xd_jid_free(c->jid);
    free(c->user);
    free(c->host);
    c->ops->free(c->t);
    free(c);
}

void
c2s_end(struct c2s *c)
{
    struct router *r = c->r;

    if (c->state == C2S_SESSION) {
        if (c->available && !r->stopping) {
            /* RFC 6121 4.5.2: the server broadcasts unavailable presence
             * on the client's behalf when a session ends without it. */
            xd_stanza *p = xd_stanza_new("presence", XD_NS_CLIENT);
            xd_stanza_set_type(p, "unavailable");
            xd_stanza_set_from(p, xd_jid_str(c->jid));
            c->available = 0;
            broadcast_to_own_resources(c, p);
            presence_broadcast(r, c, p, 0);
            xd_stanza_unref(p);
        }
        if (!r->stopping)
            end_directed(c);
        const struct user_sessions *us =
            sessions_of(r, xd_jid_bare_str(c->jid));
        if (us != NULL && us->n == 1) /* the account's last session */
            last_seen_store(r, c->jid, NULL);
        sessions_remove(r, c);
        sm_redeliver(c);
        xd_log_info("%s: session %s ended", c->ops->peer(c->t),
                    xd_jid_str(c->jid));
    }
    c2s_free(c);
}

void
c2s_on_closed(struct c2s *c, int lost)
{
    /* XEP-0198: a lost connection leaves a resumable session waiting. */
    if (lost && c->state == C2S_SESSION && !c->no_resume && !c->r->stopping &&
        sm_hibernate(c))
        return;
    c2s_end(c);
}

void
c2s_kick_all(struct router *r)
{
    for (struct c2s *c = r->c2s_all; c != NULL; c = c->next)
        c->ops->error(c->t, "system-shutdown", NULL);
}

void
c2s_free_all(struct router *r)
{
    while (r->c2s_all != NULL) {
        struct c2s *c = r->c2s_all;
        if (c->state == C2S_SESSION) {
            sessions_remove(r, c);
            sm_redeliver(c); /* r->stopping: stored offline */
        }
        c2s_free(c);
    }
}

void
c2s_describe(const struct c2s *c, time_t now, xd_buf *out)
{
    xd_buf_appendf(out, "%s\t%s\t%lld\t", xd_jid_str(c->jid),
                   c->ops->peer(c->t), (long long)(now - c->bound_at));
    xd_buf_append_str(out, c->ops->is_secure(c->t) ? "tls" : "plain");
    if (c->available)
        xd_buf_appendf(out, ",available(%d)", c->priority);
    if (c->sm != NULL)
        xd_buf_append_str(out, ",sm");
    if (sm_hibernating(c))
        xd_buf_append_str(out, ",hibernating");
    if (c->inactive)
        xd_buf_append_str(out, ",inactive");
    if (c->carbons)
        xd_buf_append_str(out, ",carbons");
}

struct c2s *
c2s_next(const struct c2s *c)
{
    return c->next;
}

/* Seconds without a stanza after which a session's connection is shrunk. */
#define COMPACT_AFTER_S 10

static void
compact_cb(evutil_socket_t fd, short what, void *arg)
{
    struct router *r = arg;
    time_t now = time(NULL);
    size_t n = 0;

    (void)fd;
    (void)what;
    for (struct c2s *c = r->c2s_all; c != NULL; c = c->next)
        if (c->state == C2S_SESSION && c->ops->compact != NULL &&
            now - c->last_input >= COMPACT_AFTER_S)
            n += (size_t)c->ops->compact(c->t);
    if (n == 0)
        return;
    /* Debug: a sweep runs every 10 s, and operators need not see it. */
    xd_log_debug("%zu quiet connection(s) compacted", n);
#ifdef __GLIBC__
    malloc_trim(0); /* what the connections gave back, to the system */
#endif
}

int
c2s_compact_start(struct router *r)
{
    struct timeval tv = { COMPACT_AFTER_S, 0 };

    r->compact_timer = event_new(r->base, -1, EV_PERSIST, compact_cb, r);
    if (r->compact_timer == NULL || event_add(r->compact_timer, &tv) != 0)
        return XD_EIO;
    return 0;
}
