/*
 * test_metrics.c: the registry's two text formats (HELP and TYPE lines,
 * counters' _total, label escaping, # EOF), callback gauges, histograms,
 * bad names, content negotiation, and the HTTP side's answers and bounds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include <xmppd/metrics.h>

#include "check.h"

static double
half(void *arg)
{
    return *(const double *)arg / 2;
}

static void
test_render(void)
{
    xd_metrics *m = xd_metrics_new();
    unsigned long long *hits = NULL, *msg = NULL, *iq = NULL;
    unsigned long long sessions = 3;
    double ten = 10;
    xd_metrics_histogram *h = NULL;
    static const double bounds[] = { 0.001, 0.01, 0.1 };
    static const char *const kind_msg[] = { "kind", "message", NULL };
    static const char *const kind_iq[] = { "kind", "iq", NULL };
    static const char *const odd[] = { "path", "C:\\dir \"x\"\nend", "b", "2",
                                       NULL };

    CHECK(xd_metrics_counter(m, "t_hits", "Hits \"all\" of\nthem \\ ok", NULL,
                             &hits) == 0,
          "counter");
    CHECK(xd_metrics_counter(m, "t_stanzas", "stanzas", kind_msg, &msg) == 0,
          "labelled counter");
    CHECK(xd_metrics_counter(m, "t_stanzas", "stanzas", kind_iq, &iq) == 0,
          "second series");
    CHECK(xd_metrics_add_u64(m, XD_METRICS_GAUGE, "t_sessions", "bound", NULL,
                             &sessions) == 0,
          "u64 gauge");
    CHECK(xd_metrics_gauge_fn(m, "t_half", "computed", odd, half, &ten) == 0,
          "fn gauge");
    CHECK(xd_metrics_histogram_new(m, "t_commit_seconds", "commits", NULL,
                                   bounds, 3, &h) == 0,
          "histogram");
    (*hits) += 2;
    (*msg)++;
    sessions = 4;
    xd_metrics_observe(h, 0.0005);
    xd_metrics_observe(h, 0.05);
    xd_metrics_observe(h, 5);

    static const char *const expect_om =
        "# HELP t_hits Hits \\\"all\\\" of\\nthem \\\\ ok\n"
        "# TYPE t_hits counter\n"
        "t_hits_total 2\n"
        "# HELP t_stanzas stanzas\n"
        "# TYPE t_stanzas counter\n"
        "t_stanzas_total{kind=\"message\"} 1\n"
        "t_stanzas_total{kind=\"iq\"} 0\n"
        "# HELP t_sessions bound\n"
        "# TYPE t_sessions gauge\n"
        "t_sessions 4\n"
        "# HELP t_half computed\n"
        "# TYPE t_half gauge\n"
        "t_half{path=\"C:\\\\dir \\\"x\\\"\\nend\",b=\"2\"} 5\n"
        "# HELP t_commit_seconds commits\n"
        "# TYPE t_commit_seconds histogram\n"
        "t_commit_seconds_bucket{le=\"0.001\"} 1\n"
        "t_commit_seconds_bucket{le=\"0.01\"} 1\n"
        "t_commit_seconds_bucket{le=\"0.1\"} 2\n"
        "t_commit_seconds_bucket{le=\"+Inf\"} 3\n"
        "t_commit_seconds_sum 5.0505\n"
        "t_commit_seconds_count 3\n"
        "# EOF\n";
    xd_buf b = XD_BUF_INIT;
    xd_metrics_render(m, XD_METRICS_OPENMETRICS, &b);
    CHECK(b.data != NULL && strcmp(b.data, expect_om) == 0, "openmetrics:\n%s",
          b.data ? b.data : "(null)");

    /* Prometheus' text: counters' families carry _total, HELP leaves '"'
     * alone, no # EOF. */
    xd_buf_reset(&b);
    xd_metrics_render(m, XD_METRICS_PROMETHEUS, &b);
    CHECK(strstr(b.data,
                 "# HELP t_hits_total Hits \"all\" of\\nthem \\\\ "
                 "ok\n# TYPE t_hits_total counter\nt_hits_total 2\n") == b.data,
          "prometheus counter:\n%s", b.data);
    CHECK(strstr(b.data, "# EOF") == NULL, "no EOF in prometheus text");
    CHECK(strstr(b.data, "# TYPE t_sessions gauge\nt_sessions 4\n") != NULL,
          "prometheus gauge");
    xd_buf_free(&b);

    /* Names, labels and types that cannot be. */
    static const char *const bad_label[] = { "1x", "v", NULL };
    static const char *const reserved[] = { "__x", "v", NULL };
    static const char *const le[] = { "le", "1", NULL };
    static const double down[] = { 1, 0.5 };
    unsigned long long *p = NULL;
    CHECK(xd_metrics_counter(m, "t_hits", NULL, NULL, &p) == XD_EEXIST,
          "same series twice");
    CHECK(xd_metrics_gauge_fn(m, "t_stanzas", NULL, NULL, half, &ten) ==
              XD_EEXIST,
          "a counter's name as a gauge");
    CHECK(xd_metrics_counter(m, "t_x_total", NULL, NULL, &p) == XD_EINVAL,
          "counter named _total");
    CHECK(xd_metrics_counter(m, "9lives", NULL, NULL, &p) == XD_EINVAL,
          "name starting with a digit");
    CHECK(xd_metrics_counter(m, "a-b", NULL, NULL, &p) == XD_EINVAL,
          "name with a dash");
    CHECK(xd_metrics_counter(m, "t_l", NULL, bad_label, &p) == XD_EINVAL,
          "bad label name");
    CHECK(xd_metrics_counter(m, "t_l", NULL, reserved, &p) == XD_EINVAL,
          "reserved label name");
    CHECK(xd_metrics_histogram_new(m, "t_h", NULL, le, bounds, 3, &h) ==
              XD_EINVAL,
          "le on a histogram");
    CHECK(xd_metrics_histogram_new(m, "t_h", NULL, NULL, down, 2, &h) ==
              XD_EINVAL,
          "bounds going down");
    CHECK(p == NULL, "nothing handed out on failure");
    xd_metrics_free(m);
}

static void
test_negotiate(void)
{
    static const struct {
        const char *accept;
        xd_metrics_format format;
    } cases[] = {
        { NULL, XD_METRICS_OPENMETRICS },
        { "*/*", XD_METRICS_OPENMETRICS },
        { "text/plain", XD_METRICS_PROMETHEUS },
        { "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", XD_METRICS_PROMETHEUS },
        { "application/openmetrics-text;version=1.0.0,"
          "text/plain;version=0.0.4;q=0.5",
          XD_METRICS_OPENMETRICS },
        { "Application/OpenMetrics-Text", XD_METRICS_OPENMETRICS },
    };
    for (size_t i = 0; i < XD_NELEM(cases); i++)
        CHECK(xd_metrics_negotiate(cases[i].accept) == cases[i].format,
              "case %zu: %s", i, cases[i].accept ? cases[i].accept : "NULL");
    CHECK(strncmp(xd_metrics_content_type(XD_METRICS_OPENMETRICS),
                  "application/openmetrics-text; version=1.0.0", 43) == 0,
          "openmetrics content type");
}

/* Sends `req` to the listener and runs the loop until the server closes;
 * the answer in out (NUL-terminated). */
static size_t
exchange(struct event_base *base, unsigned port, const char *req, char *out,
         size_t size)
{
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t got = 0;

    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return 0;
    }
    if (req != NULL && send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
        close(fd);
        return 0;
    }
    for (int spins = 0; spins < 20000; spins++) {
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        ssize_t n = recv(fd, out + got, size - 1 - got, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            break;
        if (n > 0)
            got += (size_t)n;
        if (got == size - 1)
            break;
        usleep(100);
    }
    out[got] = '\0';
    close(fd);
    return got;
}

static void
test_http(void)
{
    struct event_base *base = event_base_new();
    xd_metrics *m = xd_metrics_new();
    unsigned long long *hits = NULL;
    static char out[65536];

    xd_metrics_counter(m, "t_hits", "hits", NULL, &hits);
    *hits = 7;
    CHECK(xd_metrics_add_process(m) == 0, "process metrics");
    CHECK(xd_metrics_listen(m, base, "127.0.0.1", 0) == 0, "listen");
    CHECK(xd_metrics_listen(m, base, "127.0.0.1", 0) == XD_EEXIST,
          "listen twice");
    unsigned port = xd_metrics_port(m);
    CHECK(port != 0, "bound port");

    exchange(base, port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", out,
             sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "200: %s", out);
    CHECK(strstr(out, "Content-Type: application/openmetrics-text; "
                      "version=1.0.0; charset=utf-8\r\n") != NULL,
          "openmetrics by default");
    CHECK(strstr(out, "\r\n\r\n# HELP t_hits hits\n") != NULL &&
              strstr(out, "t_hits_total 7\n") != NULL,
          "the counter: %s", out);
    CHECK(strstr(out, "process_resident_memory_bytes ") != NULL &&
              strstr(out, "process_start_time_seconds ") != NULL,
          "process metrics");
    size_t len = strlen(out);
    CHECK(len > 6 && strcmp(out + len - 6, "# EOF\n") == 0, "ends # EOF");

    exchange(base, port,
             "GET /metrics?x=1 HTTP/1.0\r\nAccept: text/plain;"
             "version=0.0.4\r\n\r\n",
             out, sizeof(out));
    CHECK(strstr(out, "Content-Type: text/plain; version=0.0.4") != NULL &&
              strstr(out, "# TYPE t_hits_total counter\n") != NULL &&
              strstr(out, "# EOF") == NULL,
          "prometheus text when asked: %s", out);

    exchange(base, port, "HEAD /metrics HTTP/1.1\r\n\r\n", out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
              strstr(out, "\r\n\r\n")[4] == '\0',
          "HEAD: no body: %s", out);

    static const struct {
        const char *req, *status;
    } cases[] = {
        { "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 " },
        { "GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 " },
        { "GET /metrics/ HTTP/1.1\r\n\r\n", "HTTP/1.1 404 " },
        { "POST /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405 " },
        { "GET /metrics\r\n\r\n", "HTTP/1.1 400 " },
        { "GET /metrics SPDY/3\r\n\r\n", "HTTP/1.1 400 " },
    };
    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        exchange(base, port, cases[i].req, out, sizeof(out));
        CHECK(strncmp(out, cases[i].status, strlen(cases[i].status)) == 0,
              "case %zu: %s -> %s", i, cases[i].req, out);
    }

    /* A request past XD_METRICS_MAX_REQUEST_BYTES, without its end. */
    char *big = malloc(XD_METRICS_MAX_REQUEST_BYTES + 64);
    strcpy(big, "GET /metrics HTTP/1.1\r\nX: ");
    size_t at = strlen(big);
    memset(big + at, 'a', XD_METRICS_MAX_REQUEST_BYTES + 16 - at);
    big[XD_METRICS_MAX_REQUEST_BYTES + 16] = '\0';
    exchange(base, port, big, out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 431 ", 13) == 0, "too large: %s", out);
    free(big);

    /* Connections past the bound are closed at once, and the ones held
     * do not stop the next scrape once they are gone. */
    int held[XD_METRICS_MAX_CONNECTIONS];
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    for (int i = 0; i < XD_METRICS_MAX_CONNECTIONS; i++) {
        held[i] = socket(AF_INET, SOCK_STREAM, 0);
        connect(held[i], (struct sockaddr *)&sin, sizeof(sin));
    }
    for (int i = 0; i < 50; i++)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    size_t n =
        exchange(base, port, "GET /metrics HTTP/1.1\r\n\r\n", out, sizeof(out));
    CHECK(n == 0, "one more connection is closed: %s", out);
    for (int i = 0; i < XD_METRICS_MAX_CONNECTIONS; i++)
        close(held[i]);
    for (int i = 0; i < 50; i++)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    exchange(base, port, "GET /metrics HTTP/1.1\r\n\r\n", out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0,
          "served again once they are gone: %s", out);

    xd_metrics *other = xd_metrics_new();
    CHECK(xd_metrics_listen(other, base, "localhost", 0) == XD_EINVAL,
          "a name is not an address");
    xd_metrics_free(other);
    xd_metrics_free(m); /* closes the listener */
    event_base_free(base);
}

int
main(void)
{
    test_render();
    test_negotiate();
    test_http();
    return check_report();
}
