/*
 * xdbench: a load generator that speaks real c2s (plaintext, SASL
 * SCRAM-SHA-1, resource binding) to any XMPP server: xmppd, Prosody or
 * ejabberd. It counts only stanzas it has received and parsed, and reports
 * its own CPU time so that one can see it is not the bottleneck.
 *
 *   xdbench [options] messages   one-to-one messages between pairs of
 *                                accounts: delivered/s and latency
 *                                percentiles (at --rate, or flat out)
 *   xdbench [options] logins     full logins per second
 *   xdbench [options] idle       --conns idle sessions; with --pid, the
 *                                server's memory per connection
 *
 * Accounts are PREFIX1..PREFIXn@DOMAIN with one password (--users).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>

#include <xmppd/base64.h>
#include <xmppd/scram.h>
#include <xmppd/stanza.h>
#include <xmppd/stream.h>

struct bench;

enum conn_state { C_CONNECTING, C_AUTH, C_BOUND };

struct conn {
    struct bench *b;
    xd_stream *s;
    int index; /* account number */
    enum conn_state state;
    int authed;
    xd_scram_client *scram;
    char jid[128];
    int peer; /* index of the connection it sends to */
};

struct bench {
    struct event_base *base;
    const char *host, *domain, *prefix, *password, *mode;
    unsigned port;
    int conns, users, duration_s, window; /* users: accounts to cycle */
    double rate; /* messages per second in all; 0: as fast as possible */
    long server_pid;
    struct conn *c;
    int bound, closed, logins;
    unsigned long long sent, received;
    double *lat_ms; /* latency samples */
    size_t nlat, caplat;
    struct event *tick, *stop;
    double t_start;
    int running;
    int next_sender;
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void conn_start(struct bench *b, struct conn *c, int index);

static void
send_auth(struct conn *c)
{
    char user[64];

    snprintf(user, sizeof(user), "%s%d", c->b->prefix,
             c->index % c->b->users + 1);
    c->scram = xd_scram_client_new(XD_SCRAM_SHA1, user, c->b->password, NULL);
    char *first = xd_scram_client_first(c->scram);
    char *b64 = xd_base64_encode(first, strlen(first));
    char *xml = xd_xasprintf("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                             "mechanism='SCRAM-SHA-1'>%s</auth>",
                             b64);
    xd_stream_send_raw(c->s, xml, strlen(xml));
    free(xml);
    free(b64);
    free(first);
}

static void
send_sasl_response(struct conn *c, const xd_elem *challenge)
{
    const char *text = xd_elem_text(challenge);
    unsigned char *msg = NULL;
    size_t len = 0;
    char *final = NULL;

    if (xd_base64_decode(text, strlen(text), &msg, &len) != 0 ||
        xd_scram_client_final(c->scram, (const char *)msg, len, &final) != 0) {
        fprintf(stderr, "xdbench: bad SCRAM challenge\n");
        exit(1);
    }
    char *b64 = xd_base64_encode(final, strlen(final));
    char *xml = xd_xasprintf(
        "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</response>",
        b64);
    xd_stream_send_raw(c->s, xml, strlen(xml));
    free(xml);
    free(b64);
    free(final);
    free(msg);
}

static void
send_message(struct bench *b, struct conn *from)
{
    struct conn *to = &b->c[from->peer];
    char body[64];

    snprintf(body, sizeof(body), "%.9f", now_s());
    char *xml = xd_xasprintf("<message to='%s' type='chat'><body>%s</body>"
                             "</message>",
                             to->jid, body);
    xd_stream_send_raw(from->s, xml, strlen(xml));
    free(xml);
    b->sent++;
}

static void
record_latency(struct bench *b, const char *body)
{
    double sent = strtod(body, NULL);

    if (b->nlat == b->caplat) {
        b->caplat = b->caplat ? b->caplat * 2 : 65536;
        b->lat_ms = xd_xrealloc(b->lat_ms, b->caplat * sizeof(double));
    }
    b->lat_ms[b->nlat++] = (now_s() - sent) * 1000.0;
}

static void
on_opened(xd_stream *s, const xd_elem *header, void *arg)
{
    (void)s;
    (void)header;
    (void)arg;
}

static void
on_bound(struct conn *c)
{
    struct bench *b = c->b;

    c->state = C_BOUND;
    b->bound++;
    if (strcmp(b->mode, "logins") == 0) {
        b->logins++;
        xd_stream_close(c->s);
    }
}

static void
on_stanza(xd_stream *s, xd_stanza *st, void *arg)
{
    struct conn *c = arg;
    struct bench *b = c->b;
    const xd_elem *root = xd_stanza_root(st);
    const char *name = xd_elem_name(root);

    if (xd_elem_is(root, "features", XD_NS_STREAMS)) {
        if (!c->authed) {
            send_auth(c);
        } else {
            char *bind = xd_xasprintf(
                "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:"
                "ns:xmpp-bind'><resource>%s</resource></bind></iq>",
                strchr(c->jid, '/') + 1);
            xd_stream_send_raw(s, bind, strlen(bind));
            free(bind);
        }
    } else if (strcmp(name, "challenge") == 0) {
        send_sasl_response(c, root);
    } else if (strcmp(name, "success") == 0) {
        c->authed = 1;
        xd_stream_restart(s);
        xd_stream_open(s, b->domain, NULL, NULL, "1.0");
    } else if (strcmp(name, "failure") == 0) {
        fprintf(stderr, "xdbench: %s: authentication failed\n", c->jid);
        exit(1);
    } else if (xd_stanza_kind_of(st) == XD_STANZA_IQ && c->state != C_BOUND) {
        on_bound(c);
    } else if (xd_stanza_kind_of(st) == XD_STANZA_MESSAGE) {
        const char *body = xd_stanza_child_text(st, "body", XD_NS_CLIENT);
        if (body != NULL && b->running) {
            b->received++;
            record_latency(b, body);
            /* Closed loop: answer a delivery with the next message. */
            if (b->rate == 0)
                send_message(b, &b->c[c->peer]);
        }
    }
    xd_stanza_unref(st);
}

static void
on_closed(xd_stream *s, xd_stream_end why, const char *cond, void *arg)
{
    struct conn *c = arg;
    struct bench *b = c->b;

    xd_stream_free(s);
    c->s = NULL;
    xd_scram_client_free(c->scram);
    c->scram = NULL;
    if (strcmp(b->mode, "logins") == 0 && b->running) {
        conn_start(b, c, c->index); /* the next login */
        return;
    }
    if (b->running && why != XD_STREAM_END_CLOSED)
        fprintf(stderr, "xdbench: %s: connection lost (%s)\n", c->jid,
                cond ? cond : "no stream error");
    b->closed++;
}

static void
on_connected(xd_stream *s, void *arg)
{
    struct conn *c = arg;

    if (c->state == C_CONNECTING) {
        c->state = C_AUTH;
        xd_stream_open(s, c->b->domain, NULL, NULL, "1.0");
    }
}

static const xd_stream_callbacks callbacks = {
    on_opened,
    on_stanza,
    on_closed,
    on_connected,
};

static void
conn_start(struct bench *b, struct conn *c, int index)
{
    xd_stream_opts opts = { .content_ns = XD_NS_CLIENT,
                            .out_high_water = 64 << 20 };

    xd_xml_limits_default(&opts.limits);
    memset(c, 0, sizeof(*c));
    c->b = b;
    c->index = index;
    c->peer = index ^ 1;
    snprintf(c->jid, sizeof(c->jid), "%s%d@%s/b%d", b->prefix,
             index % b->users + 1, b->domain, index);
    if (xd_stream_connect(b->base, b->host, b->port, &opts, &callbacks, c,
                          &c->s) != 0) {
        fprintf(stderr, "xdbench: cannot connect to %s:%u\n", b->host, b->port);
        exit(1);
    }
}

/* Open loop: `rate` messages per second in all, spread over the senders
 * in 1 ms ticks. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct bench *b = arg;

    (void)fd;
    (void)what;
    if (!b->running)
        return;
    /* Owed by the clock, not by the number of ticks: a late tick sends
     * what the schedule says, so the offered rate holds. */
    double owed = b->rate * (now_s() - b->t_start) - (double)b->sent;
    while (owed >= 1.0) {
        send_message(b, &b->c[b->next_sender]);
        b->next_sender = (b->next_sender + 2) % b->conns;
        owed -= 1.0;
    }
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct bench *b = arg;

    (void)fd;
    (void)what;
    b->running = 0;
    event_base_loopexit(b->base, NULL);
}

static int
by_double(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;

    return a < c ? -1 : a > c;
}

static double
pct(const struct bench *b, double p)
{
    if (b->nlat == 0)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(b->nlat - 1));
    return b->lat_ms[i];
}

/* VmRSS of a process in KiB, or -1. */
static long
rss_kib(long pid)
{
    char path[64], line[256];
    long kib = -1;

    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static double
cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: xdbench [--host H] [--port P] [--domain D] [--prefix U]\n"
            "               [--password PW] [--conns N] [--duration S]\n"
            "               [--rate MSG_PER_S] [--window W] [--pid PID]\n"
            "               [--users N (accounts to cycle; default conns)]\n"
            "               messages|logins|idle\n");
    exit(2);
}

int
main(int argc, char *argv[])
{
    static const struct option opts[] = {
        { "host", required_argument, NULL, 'h' },
        { "port", required_argument, NULL, 'p' },
        { "domain", required_argument, NULL, 'd' },
        { "prefix", required_argument, NULL, 'u' },
        { "password", required_argument, NULL, 'w' },
        { "conns", required_argument, NULL, 'n' },
        { "duration", required_argument, NULL, 't' },
        { "rate", required_argument, NULL, 'r' },
        { "window", required_argument, NULL, 'W' },
        { "pid", required_argument, NULL, 'P' },
        { "users", required_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    struct bench b = { .host = "127.0.0.1",
                       .port = 5222,
                       .domain = "localhost",
                       .prefix = "user",
                       .password = "bench",
                       .conns = 100,
                       .duration_s = 10,
                       .window = 10 };
    int ch;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            b.host = optarg;
            break;
        case 'p':
            b.port = (unsigned)atoi(optarg);
            break;
        case 'd':
            b.domain = optarg;
            break;
        case 'u':
            b.prefix = optarg;
            break;
        case 'w':
            b.password = optarg;
            break;
        case 'n':
            b.conns = atoi(optarg);
            break;
        case 't':
            b.duration_s = atoi(optarg);
            break;
        case 'r':
            b.rate = atof(optarg);
            break;
        case 'W':
            b.window = atoi(optarg);
            break;
        case 'P':
            b.server_pid = atol(optarg);
            break;
        case 'U':
            b.users = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (b.users <= 0)
        b.users = b.conns;
    if (optind != argc - 1 || b.conns < 2 || b.conns % 2 != 0)
        usage();
    b.mode = argv[optind];
    if (strcmp(b.mode, "messages") != 0 && strcmp(b.mode, "logins") != 0 &&
        strcmp(b.mode, "idle") != 0)
        usage();

    b.base = event_base_new();
    b.c = xd_xcalloc((size_t)b.conns, sizeof(*b.c));
    long rss_before = b.server_pid ? rss_kib(b.server_pid) : -1;
    b.running = 1;
    double t0 = now_s();
    for (int i = 0; i < b.conns; i++)
        conn_start(&b, &b.c[i], i);

    if (strcmp(b.mode, "logins") != 0) {
        /* Wait until every session is bound. */
        while (b.bound < b.conns && now_s() - t0 < 120)
            event_base_loop(b.base, EVLOOP_ONCE);
        if (b.bound < b.conns) {
            fprintf(stderr, "xdbench: only %d of %d sessions bound\n", b.bound,
                    b.conns);
            return 1;
        }
    }
    if (strcmp(b.mode, "idle") == 0) {
        struct timeval settle = { 2, 0 };
        event_base_loopexit(b.base, &settle);
        event_base_dispatch(b.base);
        long rss_after = b.server_pid ? rss_kib(b.server_pid) : -1;
        printf("mode=idle conns=%d bind_s=%.2f", b.conns, now_s() - t0 - 2);
        if (rss_before > 0 && rss_after > 0)
            printf(" server_rss_kib_before=%ld after=%ld per_conn_kib=%.1f",
                   rss_before, rss_after,
                   (double)(rss_after - rss_before) / b.conns);
        printf("\n");
        return 0;
    }

    double cpu0 = cpu_s();
    b.t_start = now_s();
    b.stop = evtimer_new(b.base, stop_cb, &b);
    struct timeval dur = { b.duration_s, 0 };
    evtimer_add(b.stop, &dur);
    if (strcmp(b.mode, "messages") == 0 && b.rate > 0) {
        b.tick = event_new(b.base, -1, EV_PERSIST, tick_cb, &b);
        struct timeval ms = { 0, 1000 };
        evtimer_add(b.tick, &ms);
    } else if (strcmp(b.mode, "messages") == 0) {
        /* Closed loop: each sender keeps `window` messages in flight. */
        for (int i = 0; i < b.conns; i += 2)
            for (int w = 0; w < b.window; w++)
                send_message(&b, &b.c[i]);
    }
    event_base_dispatch(b.base);
    double wall = now_s() - b.t_start, cpu = cpu_s() - cpu0;

    if (strcmp(b.mode, "logins") == 0) {
        printf("mode=logins conns=%d logins=%d per_s=%.0f bench_cpu=%.0f%%\n",
               b.conns, b.logins, b.logins / wall, 100.0 * cpu / wall);
        return 0;
    }
    qsort(b.lat_ms, b.nlat, sizeof(double), by_double);
    printf("mode=messages conns=%d rate=%s sent=%llu received=%llu "
           "per_s=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
           "bench_cpu=%.0f%%\n",
           b.conns, b.rate > 0 ? "fixed" : "max", b.sent, b.received,
           b.received / wall, pct(&b, 50), pct(&b, 90), pct(&b, 99),
           100.0 * cpu / wall);
    return 0;
}
