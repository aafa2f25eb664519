/*
 * iq_tracker.c: iqs a component sent, waiting for their result or error
 * (RFC 6120 8.2.3), each with a time-out. An answer only counts when it
 * comes from the address the request went to, so a third party cannot
 * answer for it.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "component_internal.h"

struct pending {
    struct iq_tracker *t;
    char *id;
    char *to; /* where the request went; NULL: our server */
    xd_iq_fn fn;
    void *arg;
    struct event *timer;
};

struct iq_tracker {
    xd_component *c;
    xd_map *by_id;
};

struct iq_tracker *
iq_tracker_new(xd_component *c)
{
    struct iq_tracker *t = xd_xcalloc(1, sizeof(*t));

    t->c = c;
    t->by_id = xd_map_new();
    return t;
}

static void
pending_free(struct pending *p)
{
    event_free(p->timer);
    free(p->id);
    free(p->to);
    free(p);
}

/* Takes p out of the table and calls its waiter. */
static void
finish(struct pending *p, const xd_stanza *reply)
{
    xd_map_remove(p->t->by_id, p->id);
    xd_iq_fn fn = p->fn;
    void *arg = p->arg;
    xd_component *c = p->t->c;
    pending_free(p);
    fn(c, reply, arg);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    finish(arg, NULL);
}

void
iq_tracker_add(struct iq_tracker *t, const xd_stanza *iq, unsigned timeout_ms,
               xd_iq_fn fn, void *arg)
{
    struct pending *p = xd_xcalloc(1, sizeof(*p));
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

    p->t = t;
    p->id = xd_xstrdup(xd_stanza_id(iq));
    p->to = xd_xstrdup(xd_stanza_to(iq));
    p->fn = fn;
    p->arg = arg;
    p->timer = evtimer_new(xd_component_base(t->c), timeout_cb, p);
    evtimer_add(p->timer, &tv);
    struct pending *old = xd_map_put(t->by_id, p->id, p);
    if (old != NULL) {
        /* The caller reused an id: the older wait ends unanswered. */
        xd_iq_fn ofn = old->fn;
        void *oarg = old->arg;
        pending_free(old);
        ofn(t->c, NULL, oarg);
    }
}

xd_verdict
iq_tracker_answer(struct iq_tracker *t, const xd_stanza *reply)
{
    const char *id = xd_stanza_id(reply), *from = xd_stanza_from(reply);
    struct pending *p = id ? xd_map_get(t->by_id, id) : NULL;

    if (p == NULL)
        return XD_PASS;
    /* An answer from anyone but the addressee is not an answer. */
    if (p->to != NULL && (from == NULL || strcmp(from, p->to) != 0))
        return XD_PASS;
    finish(p, reply);
    return XD_HANDLED;
}

static void
collect(const char *key, void *value, void *arg)
{
    struct pending ***list = arg;

    (void)key;
    **list = value;
    (*list)++;
}

void
iq_tracker_fail_all(struct iq_tracker *t)
{
    size_t n = xd_map_count(t->by_id);
    struct pending **all = xd_xcalloc(n ? n : 1, sizeof(*all)), **end = all;

    xd_map_each(t->by_id, collect, &end);
    for (size_t i = 0; i < n; i++)
        finish(all[i], NULL);
    free(all);
}

void
iq_tracker_free(struct iq_tracker *t)
{
    if (t == NULL)
        return;
    iq_tracker_fail_all(t);
    xd_map_free(t->by_id);
    free(t);
}
