/*
 * sm.c: XEP-0198 stream management: stanza counting and acknowledgements
 * both ways, and resumption of a session whose connection was lost.
 *
 * Every stanza sent to a client that enabled it is kept until the client's
 * <a h=''/> covers it. When the connection drops, a resumable session stays
 * bound and available with no transport (hibernating) for the resumption
 * timeout, keeping what arrives; a new connection that authenticates as the
 * same account takes it over with <resume/>, and what the client had not
 * acknowledged is sent again. A session that ends instead hands what the
 * client never acknowledged to the delivery rules of RFC 6121 8.5.3.2, as
 * if it had arrived for a resource that is gone: messages go to the
 * account's other resources or offline storage, iq requests are bounced,
 * the rest is dropped.
 */
#define XD_LOG_AREA "sm"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <xmppd/log.h>

#include "c2s_internal.h"

#define REQUEST_EVERY 5 /* stanzas sent between our <r/> */

struct queued {
    xd_stanza *st;
    size_t bytes; /* its arena when queued, counted in r->sm_queued_bytes */
};

struct sm {
    uint32_t in;          /* stanzas handled from the client (our h) */
    uint32_t acked;       /* stanzas the client acknowledged (its h) */
    struct queued *queue; /* sent and not acknowledged, oldest first */
    size_t head, n, cap;  /* a ring */
    size_t bytes;         /* what the queue holds */
    unsigned since_request;
    int resumable;
    unsigned long long resume_s;
    char id[25];
    struct event *timer; /* hibernation: the session ends when it fires */
};

static const struct c2s_transport_ops detached_ops;

/* --- the queue ----------------------------------------------------------- */

static xd_stanza *
queue_at(const struct sm *sm, size_t i)
{
    return sm->queue[(sm->head + i) % sm->cap].st;
}

/* The session's bytes and the router's total both count st. */
static void
queue_push(struct router *r, struct sm *sm, xd_stanza *st)
{
    if (sm->n == sm->cap) {
        size_t cap = sm->cap ? sm->cap * 2 : 16;
        struct queued *q = xd_xcalloc(cap, sizeof(*q));
        for (size_t i = 0; i < sm->n; i++)
            q[i] = sm->queue[(sm->head + i) % sm->cap];
        free(sm->queue);
        sm->queue = q;
        sm->cap = cap;
        sm->head = 0;
    }
    struct queued *e = &sm->queue[(sm->head + sm->n) % sm->cap];
    e->st = st;
    e->bytes = xd_stanza_mem(st);
    sm->bytes += e->bytes;
    r->sm_queued_bytes += e->bytes;
    sm->n++;
}

static xd_stanza *
queue_pop(struct router *r, struct sm *sm)
{
    struct queued *e = &sm->queue[sm->head];

    sm->bytes -= e->bytes;
    r->sm_queued_bytes -= e->bytes;
    sm->head = (sm->head + 1) % sm->cap;
    sm->n--;
    return e->st;
}

/* --- elements ------------------------------------------------------------ */

static void
send_element(struct c2s *c, const char *name, const char *attr,
             unsigned long long value)
{
    xd_stanza *e = xd_stanza_new(name, XD_NS_SM);

    if (attr != NULL) {
        char num[24];
        snprintf(num, sizeof(num), "%llu", value);
        xd_elem_set_attr(xd_stanza_root(e), attr, num);
    }
    c2s_send(c, e);
}

/* <failed/> with a stanza error condition (XEP-0198 3 and 5). */
static void
send_failed(struct c2s *c, const char *condition)
{
    xd_stanza *f = xd_stanza_new("failed", XD_NS_SM);

    xd_elem_add_child(xd_stanza_root(f), condition, XD_NS_STANZA_ERRORS);
    c2s_send(c, f);
}

static int
parse_h(const char *s, uint32_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return XD_EINVAL;
    v = strtoull(s, &end, 10);
    if (*end != '\0' || v > UINT32_MAX)
        return XD_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* The client's h: drops what it covers. XD_EPROTO when it acknowledges
 * more than was sent. */
static int
take_ack(struct c2s *c, uint32_t h)
{
    struct sm *sm = c->sm;
    uint32_t delta = h - sm->acked; /* h wraps at 2^32 */

    if (delta > sm->n)
        return XD_EPROTO;
    for (uint32_t i = 0; i < delta; i++)
        xd_stanza_unref(queue_pop(c->r, sm));
    sm->acked = h;
    return 0;
}

static void
ack_too_high(struct c2s *c, uint32_t h)
{
    xd_log_info("%s: acknowledged %u stanzas, %zu were outstanding",
                xd_jid_str(c->jid), (unsigned)(h - c->sm->acked), c->sm->n);
    c2s_kick(c, "undefined-condition", "handled-count-too-high");
}

/* --- enabling and resuming ----------------------------------------------- */

static int
is_true(const char *v)
{
    return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static void
handle_enable(struct c2s *c, const xd_elem *e)
{
    struct router *r = c->r;

    if (c->sm != NULL) {
        send_failed(c, "unexpected-request");
        return;
    }
    struct sm *sm = xd_xcalloc(1, sizeof(*sm));
    sm->resume_s = r->conf.sm_resume_timeout_s;
    const char *max = xd_elem_attr(e, "max");
    if (max != NULL) {
        unsigned long long want = strtoull(max, NULL, 10);
        if (want > 0 && want < sm->resume_s)
            sm->resume_s = want;
    }
    sm->resumable = is_true(xd_elem_attr(e, "resume")) && sm->resume_s > 0;
    c->sm = sm;

    xd_stanza *ok = xd_stanza_new("enabled", XD_NS_SM);
    if (sm->resumable) {
        char max_s[24];
        xd_random_id(sm->id, sizeof(sm->id) - 1);
        xd_map_put(r->sm_resumable, sm->id, c);
        snprintf(max_s, sizeof(max_s), "%llu", sm->resume_s);
        xd_elem_set_attr(xd_stanza_root(ok), "id", sm->id);
        xd_elem_set_attr(xd_stanza_root(ok), "resume", "true");
        xd_elem_set_attr(xd_stanza_root(ok), "max", max_s);
    }
    c2s_send(c, ok);
    xd_log_info("%s: stream management on%s", xd_jid_str(c->jid),
                sm->resumable ? ", resumable" : "");
}

/*
 * The connection of a live session that another connection resumes: it
 * gets a session of its own that knows nothing, is told why with a
 * conflict stream error (as Prosody does), and that empty session is
 * freed with it when it has closed. The client may simply not know yet
 * that its old connection is dead.
 */
static void
retire_transport(struct c2s *old)
{
    struct c2s *gone = c2s_new(old->r, old->ops, old->t);

    old->ops->attach(old->t, gone);
    c2s_kick(gone, "conflict", "the session was resumed by another connection");
}

/*
 * <resume/> on a new authenticated connection `c`: the hibernating (or
 * live) session `old` takes over c's transport, and c, now empty, is freed.
 */
static void
handle_resume(struct c2s *c, const xd_elem *e)
{
    struct router *r = c->r;
    const char *previd = xd_elem_attr(e, "previd");
    struct c2s *old =
        previd != NULL ? xd_map_get(r->sm_resumable, previd) : NULL;
    uint32_t h;

    if (parse_h(xd_elem_attr(e, "h"), &h) != 0) {
        send_failed(c, "bad-request");
        return;
    }
    if (old == NULL || old->no_resume || strcmp(old->user, c->user) != 0 ||
        strcmp(old->host, c->host) != 0) {
        /* Unknown, expired, ended on purpose (an administrator's kick, a
         * limit) or another account's: the same answer. */
        xd_log_info("%s: no session %s to resume", c->ops->peer(c->t),
                    previd ? previd : "");
        send_failed(c, "item-not-found");
        return;
    }
    if (h - old->sm->acked > old->sm->n) {
        send_failed(c, "unexpected-request");
        return;
    }
    take_ack(old, h);
    if (sm_hibernating(old))
        evtimer_del(old->sm->timer);
    else
        retire_transport(old);
    old->ops = c->ops;
    old->t = c->t;
    old->ops->attach(old->t, old);
    c->ops = &detached_ops;
    c->t = c;
    c2s_free(c);

    struct sm *sm = old->sm;
    xd_stanza *ok = xd_stanza_new("resumed", XD_NS_SM);
    char in_s[24];
    snprintf(in_s, sizeof(in_s), "%u", (unsigned)sm->in);
    xd_elem_set_attr(xd_stanza_root(ok), "previd", sm->id);
    xd_elem_set_attr(xd_stanza_root(ok), "h", in_s);
    old->ops->send(old->t, xd_stanza_root(ok));
    xd_stanza_unref(ok);
    /* What the client missed, in order; still kept until acknowledged. */
    for (size_t i = 0; i < sm->n; i++)
        old->ops->send(old->t, xd_stanza_root(queue_at(sm, i)));
    if (sm->n > 0)
        send_element(old, "r", NULL, 0);
    sm->since_request = 0;
    c2s_idle_rearm(old);
    xd_log_info("%s: %s resumed, %zu stanzas sent again",
                old->ops->peer(old->t), xd_jid_str(old->jid), sm->n);
}

void
sm_handle(struct c2s *c, xd_stanza *st)
{
    const xd_elem *e = xd_stanza_root(st);
    const char *name = xd_elem_name(e);
    uint32_t h;

    if (c->state != C2S_SESSION) {
        /* Before binding, only a resumption (XEP-0198 5). */
        if (strcmp(name, "resume") == 0)
            handle_resume(c, e);
        else
            send_failed(c, "unexpected-request");
    } else if (strcmp(name, "enable") == 0) {
        handle_enable(c, e);
    } else if (c->sm == NULL) {
        send_failed(c, "unexpected-request");
    } else if (strcmp(name, "r") == 0) {
        send_element(c, "a", "h", c->sm->in);
    } else if (strcmp(name, "a") == 0) {
        if (parse_h(xd_elem_attr(e, "h"), &h) != 0)
            c2s_kick(c, "invalid-xml", "<a/> without a valid h");
        else if (take_ack(c, h) != 0)
            ack_too_high(c, h);
    } else {
        send_failed(c, "unexpected-request");
    }
    xd_stanza_unref(st);
}

/* --- counting ------------------------------------------------------------ */

void
sm_received(struct c2s *c)
{
    c->sm->in++;
}

void
sm_sent(struct c2s *c, xd_stanza *st)
{
    struct sm *sm = c->sm;

    if (xd_stanza_kind_of(st) == XD_STANZA_OTHER) {
        xd_stanza_unref(st);
        return;
    }
    struct router *r = c->r;
    queue_push(r, sm, st);
    if (sm->n > r->conf.sm_max_unacked) {
        xd_log_info("%s: %zu stanzas unacknowledged", xd_jid_str(c->jid),
                    sm->n);
        c2s_kick(c, "policy-violation", "too many unacknowledged stanzas");
        return;
    }
    /* Bytes too, for the session and for all of them: a few large stanzas
     * to a client that never acknowledges (or has gone) would otherwise
     * hold any amount of memory. The session that passes a bound ends;
     * what it holds goes to the account's other resources or offline
     * storage, or is bounced, as for any session that ends. */
    if (sm->bytes > r->conf.sm_max_unacked_bytes ||
        r->sm_queued_bytes > r->conf.sm_max_unacked_bytes_total) {
        if (c2s_kick(c, "policy-violation", "too many unacknowledged bytes"))
            xd_log_info("%s: %zu unacknowledged bytes (%llu in all sessions)",
                        xd_jid_str(c->jid), sm->bytes, r->sm_queued_bytes);
        return;
    }
    if (++sm->since_request >= REQUEST_EVERY && c->ops != &detached_ops) {
        sm->since_request = 0;
        send_element(c, "r", NULL, 0);
    }
}

/* --- hibernation --------------------------------------------------------- */

/* The transport of a hibernating session: nothing goes anywhere; an error
 * (a newer session took the resource, the server stops) ends it soon. */
static void
detached_open(void *t, const char *from, const char *id)
{
    (void)t;
    (void)from;
    (void)id;
}

static int
detached_send(void *t, const xd_elem *e)
{
    (void)t;
    (void)e;
    return 0;
}

static void
detached_error(void *t, const char *condition, const char *text)
{
    struct c2s *c = t;
    struct timeval now = { 0, 0 };

    (void)condition;
    (void)text;
    evtimer_add(c->sm->timer, &now);
}

static void
detached_close(void *t)
{
    detached_error(t, NULL, NULL);
}

static void
detached_restart(void *t)
{
    (void)t;
}

static int
detached_is_secure(void *t)
{
    (void)t;
    return 0;
}

static const char *
detached_peer(void *t)
{
    (void)t;
    return "(hibernating)";
}

static void
detached_free(void *t)
{
    (void)t;
}

static const struct c2s_transport_ops detached_ops = {
    .open = detached_open,
    .send = detached_send,
    .error = detached_error,
    .close = detached_close,
    .restart = detached_restart,
    .is_secure = detached_is_secure,
    .peer = detached_peer,
    .free = detached_free,
};

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
    struct c2s *c = arg;

    (void)fd;
    (void)what;
    xd_log_info("%s: not resumed; the session ends with %zu stanzas "
                "unacknowledged",
                xd_jid_str(c->jid), c->sm->n);
    c2s_end(c);
}

int
sm_hibernate(struct c2s *c)
{
    struct sm *sm = c->sm;

    if (sm == NULL || !sm->resumable)
        return 0;
    if (sm->timer == NULL)
        sm->timer = evtimer_new(c->r->base, expire_cb, c);
    struct timeval tv = { (time_t)sm->resume_s, 0 };
    evtimer_add(sm->timer, &tv);
    evtimer_del(c->idle_timer);
    xd_log_info("%s: connection lost; resumable for %llu s", xd_jid_str(c->jid),
                sm->resume_s);
    c->ops->free(c->t);
    c->ops = &detached_ops;
    c->t = c;
    return 1;
}

int
sm_hibernating(const struct c2s *c)
{
    return c->ops == &detached_ops;
}

/* --- the end ------------------------------------------------------------- */

void
sm_redeliver(struct c2s *c)
{
    struct router *r = c->r;
    struct sm *sm = c->sm;

    if (sm == NULL)
        return;
    if (sm->resumable)
        xd_map_remove(r->sm_resumable, sm->id);
    sm->resumable = 0;
    while (sm->n > 0) {
        xd_stanza *st = queue_pop(r, sm);
        if (r->stopping) {
            /* Nobody else to give it to: what can wait, waits. */
            if (xd_stanza_kind_of(st) == XD_STANZA_MESSAGE &&
                mam_archivable(st))
                offline_store(r, c->jid, st);
            xd_stanza_unref(st);
        } else {
            local_redeliver(r, c->jid, st);
        }
    }
}

void
sm_free(struct c2s *c)
{
    struct sm *sm = c->sm;

    if (sm == NULL)
        return;
    if (sm->resumable)
        xd_map_remove(c->r->sm_resumable, sm->id);
    while (sm->n > 0)
        xd_stanza_unref(queue_pop(c->r, sm));
    free(sm->queue);
    if (sm->timer != NULL)
        event_free(sm->timer);
    free(sm);
    c->sm = NULL;
}
