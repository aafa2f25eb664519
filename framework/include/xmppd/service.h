/*
 * service.h: telling the service manager (systemd, Type=notify) what a
 * process is doing, so that `systemctl start` returns once the process
 * serves, and `systemctl reload` once the reload is done.
 *
 * Each call sends one datagram to $NOTIFY_SOCKET (sd_notify(3)) and is a
 * no-op when that variable is unset, as it is outside systemd and in tests.
 * None blocks; none fails in a way the caller must handle (a manager that
 * is gone is not the program's problem), so they return nothing.
 */
#ifndef XMPPD_SERVICE_H
#define XMPPD_SERVICE_H

#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The process serves: its listeners are open, or its link is up. Sending it
 * again (after a reconnection, after a reload) is harmless. */
void xd_service_ready(void);
/* A reload (SIGHUP) begins; call xd_service_ready when it is over. */
void xd_service_reloading(void);
/* The process is shutting down (SIGTERM, SIGINT). */
void xd_service_stopping(void);

#ifdef __cplusplus
}
#endif
#endif
