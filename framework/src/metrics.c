/*
 * metrics.c: the registry of a process's counters, gauges and histograms,
 * and its two text formats: OpenMetrics 1.0.0 and Prometheus' 0.0.4. They
 * differ in three places: a counter's family is named without `_total` in
 * OpenMetrics (with it in Prometheus' text), HELP escapes '"' only in
 * OpenMetrics, and only OpenMetrics ends with "# EOF".
 */
#define XD_LOG_AREA "metrics"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xmppd/log.h>
#include <xmppd/metrics.h>

#include "metrics_internal.h"

#define MAX_BUCKETS 32

enum family_type { FAM_COUNTER, FAM_GAUGE, FAM_HISTOGRAM };
enum source { SRC_OWN, SRC_U64, SRC_FN, SRC_HIST };

struct xd_metrics_histogram {
    size_t n;
    double bounds[MAX_BUCKETS];
    unsigned long long counts[MAX_BUCKETS + 1]; /* per bucket, not cumulative */
    unsigned long long count;
    double sum;
};

struct series {
    char *labels; /* rendered: a="x",b="y"; NULL when none */
    enum source src;
    unsigned long long own;
    const unsigned long long *u64;
    xd_metrics_fn fn;
    void *arg;
    xd_metrics_histogram *hist;
    struct series *next;
};

struct family {
    char *name;
    char *help; /* NULL: no HELP line */
    enum family_type type;
    struct series *series, **tail;
    struct family *next;
};

struct xd_metrics {
    struct family *families, **tail;
    struct metrics_http *http;
    double started; /* for process_start_time_seconds */
};

xd_metrics *
xd_metrics_new(void)
{
    xd_metrics *m = xd_xcalloc(1, sizeof(*m));

    m->tail = &m->families;
    return m;
}

void
xd_metrics_free(xd_metrics *m)
{
    if (m == NULL)
        return;
    metrics_http_free(m->http);
    for (struct family *f = m->families, *fn; f != NULL; f = fn) {
        fn = f->next;
        for (struct series *s = f->series, *sn; s != NULL; s = sn) {
            sn = s->next;
            free(s->labels);
            free(s->hist);
            free(s);
        }
        free(f->name);
        free(f->help);
        free(f);
    }
    free(m);
}

/* --- registration ------------------------------------------------------ */

static int
valid_name(const char *s, int colon)
{
    if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':')))
            return 0;
    return 1;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void
append_escaped(xd_buf *b, const char *s, int quote)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            xd_buf_append_str(b, "\\\\");
        else if (*s == '\n')
            xd_buf_append_str(b, "\\n");
        else if (*s == '"' && quote)
            xd_buf_append_str(b, "\\\"");
        else
            xd_buf_append(b, s, 1);
    }
}

/* The labels as they are written between braces; 0, or XD_EINVAL for a bad
 * name (or `le` on a histogram, which the buckets use). */
static int
render_labels(const char *const *labels, int histogram, char **out)
{
    xd_buf b = XD_BUF_INIT;

    *out = NULL;
    for (size_t i = 0; labels != NULL && labels[i] != NULL; i += 2) {
        if (!valid_name(labels[i], 0) || strncmp(labels[i], "__", 2) == 0 ||
            labels[i + 1] == NULL ||
            (histogram && strcmp(labels[i], "le") == 0)) {
            xd_buf_free(&b);
            return XD_EINVAL;
        }
        if (b.len > 0)
            xd_buf_append_str(&b, ",");
        xd_buf_appendf(&b, "%s=\"", labels[i]);
        append_escaped(&b, labels[i + 1], 1);
        xd_buf_append_str(&b, "\"");
    }
    if (b.len > 0)
        *out = xd_buf_steal(&b);
    xd_buf_free(&b);
    return 0;
}

static int
same_labels(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A new series of name/type, its family made on first use. 0 and *out (in
 * m), or XD_EINVAL / XD_EEXIST. */
static int
add_series(xd_metrics *m, enum family_type type, const char *name,
           const char *help, const char *const *labels, struct series **out)
{
    struct family *f;
    char *rendered;

    if (!valid_name(name, 1) ||
        (type == FAM_COUNTER && ends_with(name, "_total")))
        return XD_EINVAL;
    if (render_labels(labels, type == FAM_HISTOGRAM, &rendered) != 0)
        return XD_EINVAL;
    for (f = m->families; f != NULL; f = f->next)
        if (strcmp(f->name, name) == 0)
            break;
    if (f != NULL) {
        int clash = f->type != type;
        for (struct series *s = f->series; s != NULL && !clash; s = s->next)
            clash = same_labels(s->labels, rendered);
        if (clash) {
            free(rendered);
            return XD_EEXIST;
        }
    } else {
        f = xd_xcalloc(1, sizeof(*f));
        f->name = xd_xstrdup(name);
        f->help = xd_xstrdup(help);
        f->type = type;
        f->tail = &f->series;
        *m->tail = f;
        m->tail = &f->next;
    }
    struct series *s = xd_xcalloc(1, sizeof(*s));
    s->labels = rendered;
    *f->tail = s;
    f->tail = &s->next;
    *out = s;
    return 0;
}

int
xd_metrics_counter(xd_metrics *m, const char *name, const char *help,
                   const char *const *labels, unsigned long long **out)
{
    struct series *s;
    int rc = add_series(m, FAM_COUNTER, name, help, labels, &s);

    if (rc != 0)
        return rc;
    s->src = SRC_OWN;
    *out = &s->own;
    return 0;
}

int
xd_metrics_add_u64(xd_metrics *m, xd_metrics_type type, const char *name,
                   const char *help, const char *const *labels,
                   const unsigned long long *value)
{
    struct series *s;
    int rc = add_series(m, type == XD_METRICS_COUNTER ? FAM_COUNTER : FAM_GAUGE,
                        name, help, labels, &s);

    if (rc != 0)
        return rc;
    s->src = SRC_U64;
    s->u64 = value;
    return 0;
}

int
xd_metrics_gauge_fn(xd_metrics *m, const char *name, const char *help,
                    const char *const *labels, xd_metrics_fn fn, void *arg)
{
    struct series *s;
    int rc = add_series(m, FAM_GAUGE, name, help, labels, &s);

    if (rc != 0)
        return rc;
    s->src = SRC_FN;
    s->fn = fn;
    s->arg = arg;
    return 0;
}

int
xd_metrics_histogram_new(xd_metrics *m, const char *name, const char *help,
                         const char *const *labels, const double *bounds,
                         size_t n, xd_metrics_histogram **out)
{
    struct series *s;

    if (n > MAX_BUCKETS)
        return XD_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (isnan(bounds[i]) || isinf(bounds[i]) ||
            (i > 0 && bounds[i] <= bounds[i - 1]))
            return XD_EINVAL;
    int rc = add_series(m, FAM_HISTOGRAM, name, help, labels, &s);
    if (rc != 0)
        return rc;
    s->src = SRC_HIST;
    s->hist = xd_xcalloc(1, sizeof(*s->hist));
    s->hist->n = n;
    memcpy(s->hist->bounds, bounds, n * sizeof(*bounds));
    *out = s->hist;
    return 0;
}

void
xd_metrics_observe(xd_metrics_histogram *h, double v)
{
    size_t i = 0;

    while (i < h->n && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += v;
}

/* --- process metrics --------------------------------------------------- */

static double
process_start(void *arg)
{
    return ((const xd_metrics *)arg)->started;
}

/* Resident memory from /proc/self/statm (procfs: never waits on a disk). */
static double
process_rss(void *arg)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    (void)arg;
    if (f == NULL)
        return NAN;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) : NAN;
}

int
xd_metrics_add_process(xd_metrics *m)
{
    struct timespec ts;
    int rc;

    clock_gettime(CLOCK_REALTIME, &ts);
    m->started = (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
    if ((rc = xd_metrics_gauge_fn(m, "process_start_time_seconds",
                                  "when the process started, in seconds since "
                                  "the epoch",
                                  NULL, process_start, m)) != 0)
        return rc;
    return xd_metrics_gauge_fn(m, "process_resident_memory_bytes",
                               "resident memory", NULL, process_rss, NULL);
}

/* --- rendering --------------------------------------------------------- */

static void
append_value(xd_buf *b, double v)
{
    if (isnan(v))
        xd_buf_append_str(b, "NaN");
    else if (isinf(v))
        xd_buf_append_str(b, v > 0 ? "+Inf" : "-Inf");
    else
        xd_buf_appendf(b, "%.15g", v);
}

/* name + suffix + {labels[,extra]} */
static void
append_sample_name(xd_buf *b, const char *name, const char *suffix,
                   const char *labels, const char *extra)
{
    xd_buf_append_str(b, name);
    xd_buf_append_str(b, suffix);
    if (labels == NULL && extra == NULL)
        return;
    xd_buf_append_str(b, "{");
    if (labels != NULL)
        xd_buf_append_str(b, labels);
    if (labels != NULL && extra != NULL)
        xd_buf_append_str(b, ",");
    if (extra != NULL)
        xd_buf_append_str(b, extra);
    xd_buf_append_str(b, "}");
}

static void
render_histogram(xd_buf *b, const char *name, const struct series *s)
{
    const xd_metrics_histogram *h = s->hist;
    unsigned long long cumulative = 0;
    char le[64];

    for (size_t i = 0; i <= h->n; i++) {
        cumulative += h->counts[i];
        if (i < h->n)
            snprintf(le, sizeof(le), "le=\"%.15g\"", h->bounds[i]);
        else
            snprintf(le, sizeof(le), "le=\"+Inf\"");
        append_sample_name(b, name, "_bucket", s->labels, le);
        xd_buf_appendf(b, " %llu\n", cumulative);
    }
    append_sample_name(b, name, "_sum", s->labels, NULL);
    xd_buf_append_str(b, " ");
    append_value(b, h->sum);
    xd_buf_append_str(b, "\n");
    append_sample_name(b, name, "_count", s->labels, NULL);
    xd_buf_appendf(b, " %llu\n", h->count);
}

static void
render_family(xd_buf *b, const struct family *f, xd_metrics_format format)
{
    static const char *const types[] = { "counter", "gauge", "histogram" };
    int om = format == XD_METRICS_OPENMETRICS;
    const char *suffix =
        f->type == FAM_COUNTER && !om ? "_total" : ""; /* family name */

    if (f->help != NULL) {
        xd_buf_appendf(b, "# HELP %s%s ", f->name, suffix);
        append_escaped(b, f->help, om);
        xd_buf_append_str(b, "\n");
    }
    xd_buf_appendf(b, "# TYPE %s%s %s\n", f->name, suffix, types[f->type]);
    for (const struct series *s = f->series; s != NULL; s = s->next) {
        if (s->src == SRC_HIST) {
            render_histogram(b, f->name, s);
            continue;
        }
        append_sample_name(b, f->name, f->type == FAM_COUNTER ? "_total" : "",
                           s->labels, NULL);
        xd_buf_append_str(b, " ");
        if (s->src == SRC_OWN)
            xd_buf_appendf(b, "%llu", s->own);
        else if (s->src == SRC_U64)
            xd_buf_appendf(b, "%llu", *s->u64);
        else
            append_value(b, s->fn(s->arg));
        xd_buf_append_str(b, "\n");
    }
}

void
xd_metrics_render(const xd_metrics *m, xd_metrics_format format, xd_buf *out)
{
    for (const struct family *f = m->families; f != NULL; f = f->next)
        render_family(out, f, format);
    if (format == XD_METRICS_OPENMETRICS)
        xd_buf_append_str(out, "# EOF\n");
}

xd_metrics_format
xd_metrics_negotiate(const char *accept)
{
    if (accept == NULL || strcasestr(accept, "application/openmetrics-text"))
        return XD_METRICS_OPENMETRICS;
    if (strcasestr(accept, "text/plain") != NULL)
        return XD_METRICS_PROMETHEUS;
    return XD_METRICS_OPENMETRICS;
}

const char *
xd_metrics_content_type(xd_metrics_format format)
{
    return format == XD_METRICS_PROMETHEUS
               ? "text/plain; version=0.0.4; charset=utf-8"
               : "application/openmetrics-text; version=1.0.0; charset=utf-8";
}

/* --- the listener ------------------------------------------------------ */

int
xd_metrics_listen(xd_metrics *m, struct event_base *base, const char *address,
                  unsigned port)
{
    if (m->http != NULL)
        return XD_EEXIST;
    return metrics_http_listen(m, base, address, port, &m->http);
}

unsigned
xd_metrics_port(const xd_metrics *m)
{
    return m->http != NULL ? metrics_http_port(m->http) : 0;
}
