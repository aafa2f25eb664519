/*
 * timer.c: one-shot and repeating timers and the end-of-turn hook, each one
 * libevent event owned by an xd_timer.
 *
 * The end of a turn is an event made active (event_active): libevent runs
 * active events after the ones its poll and its timer heap made ready, in
 * the same turn, before it polls again. That is how the router commits its
 * write batch (xmppd/db_batch.c) and how a stream writes out its output.
 */
#define XD_LOG_AREA "timer"
#include <stdlib.h>

#include <event2/event.h>

#include <xmppd/log.h>
#include <xmppd/timer.h>

enum timer_state {
    TIMER_IDLE,
    TIMER_DELAY,     /* waiting in libevent's timer heap */
    TIMER_TURN_END,  /* active: runs at the end of this turn */
    TIMER_NEXT_TURN, /* a zero time-out, then active in that turn */
};

struct xd_timer {
    struct event *ev;
    xd_timer_fn fn;
    void *arg;
    enum timer_state state;
    unsigned every_ms; /* 0: one-shot */
    int running;       /* inside fn: freeing is deferred */
    int dead;          /* freed inside fn */
};

static void
arm_delay(xd_timer *t, unsigned ms, enum timer_state state)
{
    struct timeval tv = { (time_t)(ms / 1000),
                          (suseconds_t)(ms % 1000) * 1000 };

    event_del(t->ev);
    if (evtimer_add(t->ev, &tv) != 0)
        xd_fatalx("cannot add a timer to the event loop");
    t->state = state;
}

static void
timer_fire(evutil_socket_t fd, short what, void *arg)
{
    xd_timer *t = arg;

    (void)fd;
    (void)what;
    if (t->state == TIMER_NEXT_TURN) {
        /* Asked for inside its own callback: this is the next turn; run at
         * its end, behind what this turn made ready. */
        t->state = TIMER_TURN_END;
        event_active(t->ev, EV_TIMEOUT, 0);
        return;
    }
    t->state = TIMER_IDLE;
    /* Re-armed before fn runs so that fn can stop it or arm it otherwise. */
    if (t->every_ms > 0)
        arm_delay(t, t->every_ms, TIMER_DELAY);
    t->running = 1;
    t->fn(t, t->arg);
    t->running = 0;
    if (t->dead) {
        event_free(t->ev);
        free(t);
    }
}

xd_timer *
xd_timer_new(struct event_base *base, xd_timer_fn fn, void *arg)
{
    xd_timer *t = xd_xcalloc(1, sizeof(*t));

    t->fn = fn;
    t->arg = arg;
    /* event_new fails only without memory or with a bad base. */
    if ((t->ev = evtimer_new(base, timer_fire, t)) == NULL)
        xd_fatalx("cannot make a timer");
    return t;
}

void
xd_timer_free(xd_timer *t)
{
    if (t == NULL || t->dead)
        return;
    if (t->running) {
        event_del(t->ev);
        t->state = TIMER_IDLE;
        t->every_ms = 0;
        t->dead = 1; /* timer_fire frees it once fn returns */
        return;
    }
    event_free(t->ev);
    free(t);
}

void
xd_timer_after(xd_timer *t, unsigned ms)
{
    if (t->dead)
        return;
    t->every_ms = 0;
    arm_delay(t, ms, TIMER_DELAY);
}

void
xd_timer_every(xd_timer *t, unsigned ms)
{
    if (t->dead)
        return;
    t->every_ms = ms > 0 ? ms : 1;
    arm_delay(t, t->every_ms, TIMER_DELAY);
}

void
xd_timer_turn_end(xd_timer *t)
{
    if (t->dead || t->state == TIMER_TURN_END || t->state == TIMER_NEXT_TURN)
        return;
    t->every_ms = 0;
    if (t->running) {
        /* Made active now, it would run again in this very turn (libevent
         * appends it to the queue it is walking): a hook that asks for
         * itself would never let the loop poll. */
        arm_delay(t, 0, TIMER_NEXT_TURN);
        return;
    }
    event_del(t->ev);
    event_active(t->ev, EV_TIMEOUT, 0);
    t->state = TIMER_TURN_END;
}

void
xd_timer_stop(xd_timer *t)
{
    if (t->dead)
        return;
    event_del(t->ev);
    t->state = TIMER_IDLE;
    t->every_ms = 0;
}

int
xd_timer_pending(const xd_timer *t)
{
    return !t->dead && t->state != TIMER_IDLE;
}
