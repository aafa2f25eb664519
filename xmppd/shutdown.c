/*
 * shutdown.c: stopping the router, on SIGINT or SIGTERM (main.c) or an
 * admin's XEP-0133 shutdown command (admin_commands.c): no new connection,
 * every stream ended with system-shutdown, and the loop left as soon as
 * they have all ended (at once when none is open), or after a grace.
 */
#define XD_LOG_AREA "main"
#include <event2/event.h>

#include <xmppd/log.h>
#include <xmppd/service.h>

#include "router.h"

/* Streams get at most this long to flush their system-shutdown error;
 * shutdown ends as soon as every stream has ended, which is at once when
 * none is open. */
#define SHUTDOWN_GRACE_MS 2000
#define SHUTDOWN_POLL_MS  10

/* True when no client or component stream is left to flush. */
static int
all_streams_ended(const struct router *r)
{
    return r->c2s_all == NULL && r->links_all == NULL &&
           r->s2s_in_all == NULL && r->s2s_out_all == NULL;
}

static void
shutdown_poll_cb(evutil_socket_t fd, short what, void *arg)
{
    struct router *r = arg;

    (void)fd;
    (void)what;
    r->shutdown_polls++;
    if (all_streams_ended(r) ||
        r->shutdown_polls >= SHUTDOWN_GRACE_MS / SHUTDOWN_POLL_MS)
        event_base_loopexit(r->base, NULL);
}

void
router_shutdown(struct router *r, const char *why)
{
    struct timeval tv = { 0, SHUTDOWN_POLL_MS * 1000 };

    if (r->stopping) {
        event_base_loopexit(r->base, NULL);
        return;
    }
    xd_log_info("%s: shutting down", why);
    xd_service_stopping();
    r->stopping = 1;
    listeners_stop(r);
    c2s_kick_all(r);
    comp_links_close_all(r);
    s2s_in_close_all(r);
    s2s_out_close_all(r);
    if (all_streams_ended(r)) {
        event_base_loopexit(r->base, NULL);
        return;
    }
    r->shutdown_timer = event_new(r->base, -1, EV_PERSIST, shutdown_poll_cb, r);
    evtimer_add(r->shutdown_timer, &tv);
}
