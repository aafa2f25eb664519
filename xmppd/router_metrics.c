/*
 * router_metrics.c: the router's OpenMetrics endpoint (metrics_address,
 * metrics_port). Counters are the plain integers the router keeps anyway
 * (r->stats, r->sm_queued_bytes); what has to be counted over a table
 * (hibernating sessions, component links) is counted at scrape time, not
 * on every change. docs/xmppd.md "Metrics" lists every name.
 */
#define XD_LOG_AREA "metrics"
#include <xmppd/log.h>
#include <xmppd/metrics.h>

#include "c2s_internal.h"

static double
sessions_bound(void *arg)
{
    return (double)xd_map_count(((struct router *)arg)->sessions);
}

static double
accounts_online(void *arg)
{
    return (double)xd_map_count(((struct router *)arg)->users);
}

static double
sessions_resumable(void *arg)
{
    return (double)xd_map_count(((struct router *)arg)->sm_resumable);
}

static double
sessions_hibernating(void *arg)
{
    struct router *r = arg;
    size_t n = 0;

    for (struct c2s *c = r->c2s_all; c != NULL; c = c2s_next(c))
        n += sm_hibernating(c) != 0;
    return (double)n;
}

static double
component_connections(void *arg)
{
    struct router *r = arg;
    size_t n = 0;

    for (struct comp_link *l = r->links_all; l != NULL; l = comp_link_next(l))
        n++;
    return (double)n;
}

static double
component_domains(void *arg)
{
    return (double)xd_map_count(((struct router *)arg)->comp_links);
}

static double
kdf_jobs(void *arg)
{
    struct router *r = arg;

    return r->kdf != NULL ? (double)kdf_pending(r->kdf) : 0;
}

/* Commits take from tens of microseconds (no fsync in WAL mode) to whole
 * seconds on a disk that is struggling. */
static const double commit_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001,
                                        0.0025, 0.005,   0.01,   0.025,
                                        0.05,   0.1,     0.25,   1 };

static int
register_all(struct router *r)
{
    static const char *const kinds[4][3] = {
        { "kind", "other", NULL },
        { "kind", "message", NULL },
        { "kind", "presence", NULL },
        { "kind", "iq", NULL },
    };
    xd_metrics *m = r->metrics;
    const struct router_stats *st = &r->stats;
    int rc = xd_metrics_add_process(m);

    for (size_t k = 1; k < 4 && rc == 0; k++) {
        rc = xd_metrics_add_u64(m, XD_METRICS_COUNTER, "xmppd_stanzas_routed",
                                "stanzas routed, by kind", kinds[k],
                                &st->routed_kind[k]);
        if (rc == 0)
            rc = xd_metrics_add_u64(m, XD_METRICS_COUNTER,
                                    "xmppd_stanzas_bounced",
                                    "errors sent back for stanzas that could "
                                    "not be delivered, by the kind of stanza",
                                    kinds[k], &st->bounced_kind[k]);
    }
    if (rc == 0)
        rc = xd_metrics_add_u64(m, XD_METRICS_COUNTER, "xmppd_c2s_accepted",
                                "client connections accepted", NULL,
                                &st->c2s_accepted);
    if (rc == 0)
        rc = xd_metrics_add_u64(m, XD_METRICS_COUNTER, "xmppd_auth_successes",
                                "successful logins", NULL, &st->auth_ok);
    if (rc == 0)
        rc = xd_metrics_add_u64(m, XD_METRICS_COUNTER, "xmppd_auth_failures",
                                "failed logins", NULL, &st->auth_failed);
    if (rc == 0)
        rc = xd_metrics_add_u64(m, XD_METRICS_GAUGE, "xmppd_c2s_connections",
                                "client connections open, authenticated or "
                                "not",
                                NULL, &r->conns[CONN_C2S].live);
    if (rc == 0)
        rc = xd_metrics_gauge_fn(m, "xmppd_sessions",
                                 "client sessions bound to a resource", NULL,
                                 sessions_bound, r);
    if (rc == 0)
        rc = xd_metrics_gauge_fn(m, "xmppd_accounts_online",
                                 "accounts with at least one bound session",
                                 NULL, accounts_online, r);
    if (rc == 0)
        rc = xd_metrics_gauge_fn(m, "xmppd_sessions_resumable",
                                 "sessions that XEP-0198 can resume", NULL,
                                 sessions_resumable, r);
    if (rc == 0)
        rc = xd_metrics_gauge_fn(m, "xmppd_sessions_hibernating",
                                 "sessions waiting without a connection to "
                                 "be resumed (XEP-0198)",
                                 NULL, sessions_hibernating, r);
    if (rc == 0)
        rc = xd_metrics_add_u64(m, XD_METRICS_GAUGE, "xmppd_sm_queued_bytes",
                                "bytes of unacknowledged stanzas held for "
                                "all sessions (XEP-0198)",
                                NULL, &r->sm_queued_bytes);
    if (rc == 0)
        rc = xd_metrics_gauge_fn(m, "xmppd_component_connections",
                                 "connections to the component port, "
                                 "handshake done or not",
                                 NULL, component_connections, r);
    if (rc == 0)
        rc = xd_metrics_gauge_fn(m, "xmppd_component_domains",
                                 "domains served by a connected component",
                                 NULL, component_domains, r);
    if (rc == 0)
        rc = xd_metrics_gauge_fn(m, "xmppd_kdf_jobs",
                                 "password derivations queued or running", NULL,
                                 kdf_jobs, r);
    if (rc == 0)
        rc = xd_metrics_histogram_new(m, "xmppd_db_commit_seconds",
                                      "time taken by each commit of a loop "
                                      "turn's database writes",
                                      NULL, commit_bounds,
                                      XD_NELEM(commit_bounds), &r->db_commit_s);
    return rc;
}

int
router_metrics_start(struct router *r)
{
    const struct xmppd_conf *c = &r->conf;

    if (c->metrics_port == 0)
        return 0;
    r->metrics = xd_metrics_new();
    int rc = register_all(r);
    if (rc != 0) {
        xd_log_warnx("metrics: a metric could not be registered (%d)", rc);
        return rc;
    }
    return xd_metrics_listen(r->metrics, r->base, c->metrics_address,
                             (unsigned)c->metrics_port); /* logs */
}

void
router_metrics_stop(struct router *r)
{
    r->db_commit_s = NULL; /* lives with the registry */
    xd_metrics_free(r->metrics);
    r->metrics = NULL;
}
