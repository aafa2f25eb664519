/*
 * Unit tests for timer.c: one-shot and repeating timers, stopping, re-arming
 * and freeing (also inside the timer's own callback), and the end-of-turn
 * hook (once per turn, after the events ready in that turn).
 */
#include "check.h"
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include <xmppd/timer.h>

struct probe {
    int fired;
    int stop_at;      /* stop (0: never) when fired reaches it */
    int free_at;      /* free when fired reaches it */
    int rearm_ms;     /* xd_timer_after(rearm_ms) while fired < stop_at */
    int again;        /* xd_timer_turn_end again while fired < again */
    char *order;      /* appends 'H' */
    xd_timer *victim; /* freed by this one's callback */
    long long first_ms;
};

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
probe_fn(xd_timer *t, void *arg)
{
    struct probe *p = arg;

    if (p->fired++ == 0)
        p->first_ms = now_ms();
    if (p->order != NULL)
        strcat(p->order, "H");
    if (p->victim != NULL) {
        xd_timer_free(p->victim);
        p->victim = NULL;
    }
    if (p->free_at && p->fired == p->free_at) {
        xd_timer_free(t);
        return;
    }
    if (p->stop_at && p->fired == p->stop_at) {
        xd_timer_stop(t);
        return;
    }
    if (p->rearm_ms)
        xd_timer_after(t, (unsigned)p->rearm_ms);
    if (p->again && p->fired < p->again)
        xd_timer_turn_end(t);
}

static void
test_once(struct event_base *base)
{
    struct probe p = { 0 };
    xd_timer *t = xd_timer_new(base, probe_fn, &p);

    CHECK(!xd_timer_pending(t), "a new timer is not armed");
    long long start = now_ms();
    xd_timer_after(t, 30);
    CHECK(xd_timer_pending(t), "armed after xd_timer_after");
    event_base_dispatch(base);
    CHECK(p.fired == 1 && p.first_ms - start >= 29,
          "a one-shot fires once, not early: %d times after %lld ms", p.fired,
          p.first_ms - start);
    CHECK(!xd_timer_pending(t), "and is no longer armed");
    /* Kept by its owner: it can be armed again. */
    xd_timer_after(t, 0);
    event_base_dispatch(base);
    CHECK(p.fired == 2, "a fired one-shot can be armed again (%d)", p.fired);
    xd_timer_free(t);
}

static void
test_stop_and_free_pending(struct event_base *base)
{
    struct probe p = { 0 }, q = { 0 };
    xd_timer *t = xd_timer_new(base, probe_fn, &p);
    xd_timer *u = xd_timer_new(base, probe_fn, &q);

    xd_timer_after(t, 5);
    xd_timer_stop(t);
    CHECK(!xd_timer_pending(t), "stopped");
    xd_timer_every(u, 5);
    xd_timer_free(u); /* pending: the loop must forget it */
    event_base_dispatch(base);
    CHECK(p.fired == 0 && q.fired == 0,
          "neither a stopped nor a freed timer fires (%d, %d)", p.fired,
          q.fired);
    xd_timer_free(t);
    xd_timer_free(NULL);
}

static void
test_every(struct event_base *base)
{
    struct probe p = { .stop_at = 3 };
    xd_timer *t = xd_timer_new(base, probe_fn, &p);
    long long start = now_ms();

    xd_timer_every(t, 10);
    event_base_dispatch(base); /* returns once nothing is armed */
    CHECK(p.fired == 3 && now_ms() - start >= 29,
          "a repeating timer fires until stopped in its callback: %d times "
          "in %lld ms",
          p.fired, now_ms() - start);
    CHECK(!xd_timer_pending(t), "a stopped repeating timer is not armed");
    xd_timer_free(t);

    /* Freed in its own callback, repeating and one-shot (ASan checks). */
    struct probe r = { .free_at = 2 }, s = { .free_at = 1 };
    xd_timer_every(xd_timer_new(base, probe_fn, &r), 1);
    xd_timer_after(xd_timer_new(base, probe_fn, &s), 1);
    event_base_dispatch(base);
    CHECK(r.fired == 2 && s.fired == 1,
          "a timer freed in its own callback fires no more (%d, %d)", r.fired,
          s.fired);

    /* Re-armed in its own callback. */
    struct probe a = { .rearm_ms = 2, .stop_at = 4 };
    t = xd_timer_new(base, probe_fn, &a);
    xd_timer_after(t, 2);
    event_base_dispatch(base);
    CHECK(a.fired == 4, "a one-shot re-armed in its callback (%d)", a.fired);
    xd_timer_free(t);
}

static char order[16];

static void
mark_cb(evutil_socket_t fd, short what, void *arg)
{
    xd_timer *hook = arg;

    (void)fd;
    (void)what;
    strcat(order, hook ? "1" : "2");
    if (hook != NULL) {
        /* Asked for twice in the turn: once is what runs. */
        xd_timer_turn_end(hook);
        xd_timer_turn_end(hook);
    }
}

static void
test_turn_end(struct event_base *base)
{
    struct probe p = { .order = order };
    xd_timer *hook = xd_timer_new(base, probe_fn, &p);
    struct event *e1 = event_new(base, -1, 0, mark_cb, hook);
    struct event *e2 = event_new(base, -1, 0, mark_cb, NULL);

    /* Two events ready in the same turn; the first asks for the hook. */
    order[0] = '\0';
    event_active(e1, EV_TIMEOUT, 0);
    event_active(e2, EV_TIMEOUT, 0);
    event_base_loop(base, EVLOOP_ONCE);
    CHECK(strcmp(order, "12H") == 0 && p.fired == 1,
          "the hook runs once, in the turn, after that turn's events: %s "
          "(%d)",
          order, p.fired);
    CHECK(!xd_timer_pending(hook), "and is done");

    /* It replaces a delay it was armed with. */
    xd_timer_after(hook, 60000);
    xd_timer_turn_end(hook);
    event_base_loop(base, EVLOOP_ONCE);
    CHECK(p.fired == 2 && !xd_timer_pending(hook),
          "a turn-end request replaces a pending delay (%d)", p.fired);

    /* Asked for inside its own callback: the next turn, not this one. */
    p.again = 4;
    xd_timer_turn_end(hook);
    event_base_loop(base, EVLOOP_ONCE);
    CHECK(p.fired == 3 && xd_timer_pending(hook),
          "a hook re-asked in its callback waits for the next turn (%d)",
          p.fired);
    event_base_loop(base, EVLOOP_ONCE);
    CHECK(p.fired == 4, "and runs in that one (%d)", p.fired);
    event_base_dispatch(base);
    CHECK(p.fired == 4 && !xd_timer_pending(hook), "then stops (%d)", p.fired);

    /* One hook frees another that is due in the same turn. */
    struct probe victim = { 0 }, killer = { 0 };
    xd_timer *v = xd_timer_new(base, probe_fn, &victim);
    xd_timer *k = xd_timer_new(base, probe_fn, &killer);
    killer.victim = v;
    xd_timer_turn_end(k);
    xd_timer_turn_end(v);
    event_base_loop(base, EVLOOP_ONCE);
    CHECK(killer.fired == 1 && victim.fired == 0,
          "a hook freed before its turn comes does not run (%d)", victim.fired);
    xd_timer_free(k);

    /* Freed inside its own end-of-turn callback. */
    struct probe f = { .free_at = 1 };
    xd_timer_turn_end(xd_timer_new(base, probe_fn, &f));
    event_base_loop(base, EVLOOP_ONCE);
    CHECK(f.fired == 1, "a hook frees itself in its callback");

    event_free(e1);
    event_free(e2);
    xd_timer_free(hook);
}

int
main(void)
{
    struct event_base *base = event_base_new();

    test_once(base);
    test_stop_and_free_pending(base);
    test_every(base);
    test_turn_end(base);
    event_base_free(base);
    return check_report();
}
