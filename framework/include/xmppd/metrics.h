/*
 * metrics.h: counters, gauges and histograms of a process, served over HTTP
 * as OpenMetrics (Prometheus' text format when a scraper asks for it).
 *
 *     xd_metrics *m = xd_metrics_new();
 *     unsigned long long *rooms_made;
 *     xd_metrics_counter(m, "xmppd_muc_rooms_created", "rooms created",
 *                        NULL, &rooms_made);
 *     (*rooms_made)++;                              // a plain increment
 *     xd_metrics_gauge_fn(m, "xmppd_muc_rooms", "rooms held", NULL,
 *                         count_rooms, svc);        // read at scrape time
 *     xd_metrics_listen(m, base, "127.0.0.1", 9101); // GET /metrics
 *
 * Every process has one registry (a component's is xd_component_metrics);
 * values are read when a scraper asks, on the loop, so a counter costs one
 * increment and a gauge nothing until then. Names follow Prometheus'
 * conventions: [a-zA-Z_:][a-zA-Z0-9_:]*, units in the name (_seconds,
 * _bytes); a counter's name is given without `_total`, which the output
 * adds. Labels are given as a NULL-terminated array of name, value pairs
 * ({ "kind", "message", NULL }); each (name, labels) is one series, and the
 * series of a name share its type and HELP text. Nothing here blocks.
 *
 * The HTTP side answers `GET /metrics` (and HEAD) only, 404 for any other
 * path, 405 for other methods; one request per connection (Connection:
 * close), requests of at most XD_METRICS_MAX_REQUEST_BYTES, at most
 * XD_METRICS_MAX_CONNECTIONS at once (more are closed at once), each closed
 * after XD_METRICS_TIMEOUT_S without a complete request or a drained answer.
 */
#ifndef XMPPD_METRICS_H
#define XMPPD_METRICS_H

#include <stddef.h>
#include <xmppd/buf.h>
#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;

typedef struct xd_metrics xd_metrics;                     /* a registry */
typedef struct xd_metrics_histogram xd_metrics_histogram; /* one series */

#define XD_METRICS_MAX_REQUEST_BYTES 4096
#define XD_METRICS_MAX_CONNECTIONS   16
#define XD_METRICS_TIMEOUT_S         10

typedef enum xd_metrics_type {
    XD_METRICS_COUNTER, /* only goes up (until the process restarts) */
    XD_METRICS_GAUGE,   /* goes up and down */
} xd_metrics_type;

typedef enum xd_metrics_format {
    XD_METRICS_OPENMETRICS, /* application/openmetrics-text 1.0.0 */
    XD_METRICS_PROMETHEUS,  /* text/plain 0.0.4 */
} xd_metrics_format;

/* A gauge's or counter's value, computed at scrape time (on the loop). */
typedef double (*xd_metrics_fn)(void *arg);

/* A new, empty registry; the caller owns it. Never fails. */
xd_metrics *xd_metrics_new(void);
/* Closes the listener and its connections, frees every series. NULL: no-op. */
void xd_metrics_free(xd_metrics *m);

/*
 * A counter series whose value the registry keeps: *out points to it (lives
 * with m; the caller increments it). 0; XD_EINVAL for a bad name or label
 * (or a counter name ending in _total), XD_EEXIST when the series exists or
 * the name has another type (*out unchanged then).
 */
int xd_metrics_counter(xd_metrics *m, const char *name, const char *help,
                       const char *const *labels, unsigned long long **out);
/* A series of `type` reading the caller's integer at `value` (borrowed: it
 * must outlive m, or the series). Errors as xd_metrics_counter. */
int xd_metrics_add_u64(xd_metrics *m, xd_metrics_type type, const char *name,
                       const char *help, const char *const *labels,
                       const unsigned long long *value);
/* A gauge series computed by fn(arg) at each scrape. Errors as above. */
int xd_metrics_gauge_fn(xd_metrics *m, const char *name, const char *help,
                        const char *const *labels, xd_metrics_fn fn, void *arg);
/*
 * A histogram series with n ascending upper bounds (the +Inf bucket is
 * added); *out lives with m. Errors as above, XD_EINVAL also for bounds
 * that do not ascend or n over 32.
 */
int xd_metrics_histogram_new(xd_metrics *m, const char *name, const char *help,
                             const char *const *labels, const double *bounds,
                             size_t n, xd_metrics_histogram **out);
/* Counts one observation (a few comparisons, no allocation). */
void xd_metrics_observe(xd_metrics_histogram *h, double v);

/* Appends every series to out in `format` (OpenMetrics ends with # EOF). */
void xd_metrics_render(const xd_metrics *m, xd_metrics_format format,
                       xd_buf *out);
/* The format to answer an Accept header with (NULL: none sent): text/plain
 * when it asks for that and not for OpenMetrics, else OpenMetrics. */
xd_metrics_format xd_metrics_negotiate(const char *accept);
/* The Content-Type of a format (a static string). */
const char *xd_metrics_content_type(xd_metrics_format format);

/* Adds process_start_time_seconds and process_resident_memory_bytes (read
 * from /proc/self/statm at scrape time). 0 or an error as above. */
int xd_metrics_add_process(xd_metrics *m);

/*
 * Serves m on `address`:`port` from `base` (GET /metrics). 0, XD_EEXIST
 * when already listening, XD_EINVAL for an address that is not an IPv4 or
 * IPv6 literal, XD_EIO when it cannot be bound (logged with the address).
 * An address other than a loopback one is logged as a warning: the
 * metrics tell who is online and how busy the server is.
 */
int xd_metrics_listen(xd_metrics *m, struct event_base *base,
                      const char *address, unsigned port);
/* The port listened on (the one bound when 0 was asked), or 0. */
unsigned xd_metrics_port(const xd_metrics *m);

#ifdef __cplusplus
}
#endif
#endif
