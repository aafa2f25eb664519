/* remote.h: xmppdctl's client of xmppd's control socket. */
#ifndef XMPPD_CTL_REMOTE_H
#define XMPPD_CTL_REMOTE_H

#include <xmppd/buf.h>

/* Sends one command line to the xmppd listening on `path` and prints its
 * answer (errors on stderr); 0 when xmppd answered "ok", else 1. */
int ctl_remote(const char *path, const char *line);
/* The same, for changes that xmppd must hear of if it runs: 0 without a
 * word when no xmppd listens on `path` (or there is none configured). */
int ctl_remote_if_running(const char *path, const char *line);

enum {
    CTL_REMOTE_OK,    /* answered "ok\n...": all of it in *out */
    CTL_REMOTE_ERROR, /* answered "error: ..." (in *out), or broke off */
    CTL_REMOTE_DOWN,  /* nothing listens on path (or no path) */
};
/* Sends `line` and appends the whole answer, status line included, to
 * *out (the caller frees it). Prints nothing. */
int ctl_remote_query(const char *path, const char *line, xd_buf *out);

#endif
