/*
 * status.c: xmppdctl status (is xmppd running, since when, with what) and
 * about (the versions of xmppdctl, its build and its libraries, and of the
 * running xmppd).
 */
#include <stdio.h>
#include <string.h>

#include <ares.h>
#include <event2/event.h>
#include <expat.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include <xmppd/buf.h>
#include <xmppd/config.h>

#include "ctl.h"
#include "remote.h"

#ifndef XD_BUILD_TYPE
#define XD_BUILD_TYPE "unknown"
#endif

int
ctl_cmd_status(struct ctl *c, int argc, char **argv)
{
    xd_buf out = { 0 };
    int rc;

    (void)argv;
    if (argc != 1)
        return 2;
    rc = ctl_remote_query(c->conf.control_socket, "status", &out);
    if (rc == CTL_REMOTE_OK) {
        printf("xmppd is running (control socket %s)\n",
               c->conf.control_socket);
        fwrite(out.data + 3, 1, out.len - 3, stdout);
    } else if (rc == CTL_REMOTE_DOWN) {
        printf("xmppd is not running (nothing answers on %s)\n",
               *c->conf.control_socket ? c->conf.control_socket
                                       : "the control socket: none set");
    } else {
        fprintf(stderr, "xmppdctl: status: %.*s\n", (int)out.len,
                out.len ? out.data : "no answer");
    }
    xd_buf_free(&out);
    /* As init scripts and systemctl say it: 3 for "not running". */
    return rc == CTL_REMOTE_OK ? 0 : rc == CTL_REMOTE_DOWN ? 3 : 1;
}

int
ctl_cmd_about(struct ctl *c, int argc, char **argv)
{
    xd_buf out = { 0 };

    (void)argv;
    if (argc != 1)
        return 2;
    printf("xmppdctl %s (libxmppd %s)\n", xd_version(), xd_version());
    printf("build: %s, %s, compiled with %s\n", XD_BUILD_TYPE,
#ifdef __OPTIMIZE__
           "optimised",
#else
           "not optimised",
#endif
           __VERSION__);
    printf("libraries:\n");
    printf("  OpenSSL   %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("  SQLite    %s\n", sqlite3_libversion());
    printf("  libevent  %s\n", event_get_version());
    printf("  expat     %s\n", XML_ExpatVersion());
    printf("  c-ares    %s\n", ares_version(NULL));
    if (ctl_remote_query(c->conf.control_socket, "status", &out) ==
        CTL_REMOTE_OK) {
        const char *v = strstr(out.data, "\nversion ");
        printf("running xmppd: %.*s\n", v ? (int)strcspn(v + 9, "\n") : 7,
               v ? v + 9 : "unknown");
    } else {
        printf("running xmppd: none\n");
    }
    xd_buf_free(&out);
    return 0;
}
