/*
 * metrics_internal.h: what metrics.c (the registry and its text formats)
 * and metrics_http.c (the listener) share.
 */
#ifndef XMPPD_METRICS_INTERNAL_H
#define XMPPD_METRICS_INTERNAL_H

#include <xmppd/metrics.h>

struct metrics_http;
/* Listens for scrapers of m; 0 and *out (freed by metrics_http_free), or
 * XD_EINVAL / XD_EIO, logged. */
int metrics_http_listen(xd_metrics *m, struct event_base *base,
                        const char *address, unsigned port,
                        struct metrics_http **out);
unsigned metrics_http_port(const struct metrics_http *h);
/* Closes the listener and every connection. NULL is a no-op. */
void metrics_http_free(struct metrics_http *h);

#endif
