/*
 * timer.h: one-shot and repeating timers, and an end-of-loop-turn hook, on
 * a component's event loop, so that no component needs libevent for them.
 *
 * A timer is made once, armed and re-armed as often as needed, and freed by
 * its owner: it is never freed behind the owner's back, so a handle kept in
 * a struct is valid until xd_timer_free, whether the timer fired or not.
 * Everything here runs on the loop's thread and never blocks.
 *
 *     struct app { xd_timer *tick; ... };
 *     a->tick = xd_timer_new(xd_component_base(comp), app_tick, a);
 *     xd_timer_every(a->tick, 60000);     -- app_tick(a->tick, a) each minute
 *     ...
 *     xd_timer_free(a->tick);             -- before the loop is freed
 */
#ifndef XMPPD_TIMER_H
#define XMPPD_TIMER_H

#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct xd_timer xd_timer;

/* What a timer calls: `t` is the timer that fired, `arg` what was given to
 * xd_timer_new. Inside it, t may be re-armed, stopped or freed. */
typedef void (*xd_timer_fn)(xd_timer *t, void *arg);

/*
 * A timer on `base` (a component's: xd_component_base) that calls fn(t, arg)
 * when it fires. It is not armed yet. The caller owns it and frees it with
 * xd_timer_free before the event_base goes (xd_component_free frees the
 * base the component made). Never NULL (out of memory is fatal).
 */
xd_timer *xd_timer_new(struct event_base *base, xd_timer_fn fn, void *arg);
/*
 * Stops t and frees it. Safe inside any callback, including t's own (then
 * it is freed when the callback returns; do not use t after this call).
 * NULL is a no-op.
 */
void xd_timer_free(xd_timer *t);

/* Arms t to fire once, ms milliseconds from now (0: on the next loop turn),
 * replacing whatever it was armed for. */
void xd_timer_after(xd_timer *t, unsigned ms);
/* Arms t to fire every ms milliseconds (at least 1), the first time ms from
 * now, replacing whatever it was armed for. The next firing is scheduled
 * before fn runs, from the time it runs, so a slow callback delays the
 * series instead of making it catch up; fn may stop or re-arm t. */
void xd_timer_every(xd_timer *t, unsigned ms);
/*
 * Arms t to fire once at the end of the current loop turn: after the events
 * that were ready when it was asked for (the reads and timers of this turn,
 * hence after every stanza handler of the turn), before the loop waits for
 * its sockets again. It replaces whatever t was armed for, and asking again
 * before it has fired does nothing, so calling it on every write gives one
 * call per turn: the place to end a write batch (see db.h). Asked for
 * inside t's own callback, it fires at the end of the next turn.
 */
void xd_timer_turn_end(xd_timer *t);
/* Disarms t (it stays valid and may be armed again). Safe anywhere. */
void xd_timer_stop(xd_timer *t);
/* 1 while t is armed (for a repeating timer: until it is stopped). */
int xd_timer_pending(const xd_timer *t);

#ifdef __cplusplus
}
#endif
#endif
