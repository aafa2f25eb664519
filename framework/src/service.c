/*
 * service.c: readiness, reload and stop notifications to systemd through
 * libsystemd's sd_notify, which does nothing when $NOTIFY_SOCKET is unset.
 */
#define XD_LOG_AREA "service"
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include <xmppd/log.h>
#include <xmppd/service.h>

static void
notify(const char *state)
{
    /* A failure is logged at debug only: without a manager listening there
     * is nobody to tell, and the process works the same. */
    int rc = sd_notify(0, state);
    if (rc < 0)
        xd_log_debug("sd_notify %s: error %d", state, -rc);
}

void
xd_service_ready(void)
{
    notify("READY=1");
}

void
xd_service_reloading(void)
{
    struct timespec ts;
    char state[80];

    /* systemd 253 and later want the reload's start time beside
     * RELOADING=1 (Type=notify-reload); earlier ones ignore it. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL +
                 (unsigned long long)ts.tv_nsec / 1000ULL);
    notify(state);
}

void
xd_service_stopping(void)
{
    notify("STOPPING=1");
}
