/*
 * shutdown.c: stopping the router, on SIGINT or SIGTERM (main.c) or an
 * admin's XEP-0133 shutdown command (admin_commands.c): no new connection,
 * every stream ended with system-shutdown, and the loop left once they had
 * a moment to flush.
 */
#define XD_LOG_AREA "main"
#include <event2/event.h>

#include <xmppd/log.h>
#include <xmppd/service.h>

#include "router.h"

/* Seconds streams get to flush their system-shutdown error. */
#define SHUTDOWN_GRACE_S 2

static void
shutdown_done_cb(evutil_socket_t fd, short what, void *arg)
{
    struct router *r = arg;

    (void)fd;
    (void)what;
    event_base_loopexit(r->base, NULL);
}

void
router_shutdown(struct router *r, const char *why)
{
    struct timeval tv = { SHUTDOWN_GRACE_S, 0 };

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
    r->shutdown_timer = evtimer_new(r->base, shutdown_done_cb, r);
    evtimer_add(r->shutdown_timer, &tv);
}
