/*
 * xmppd-muc: XEP-0045 multi-user chat as an XEP-0114 component. Serves one
 * MUC domain per [muc] or [muc NAME] section of its configuration, each
 * over its own link to the router, all on one event loop.
 */
#define XD_LOG_AREA "muc"
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <xmppd/config.h>
#include <xmppd/log.h>
#include <xmppd/metrics.h>
#include <xmppd/stream.h>
#include <xmppd/version.h>

#include "muc.h"

struct muc_main {
    const xd_config *cfg;
    struct event_base *base;
    struct muc_service *svc[16];
    size_t n;
    int failed;
};

/* The service's gauges, read when the metrics are scraped. */
static double
metric_rooms(void *arg)
{
    return (double)xd_map_count(((struct muc_service *)arg)->rooms);
}

static void
count_occupants(const char *name, void *room, void *arg)
{
    (void)name;
    *(double *)arg += (double)((struct muc_room *)room)->noccupants;
}

static double
metric_occupants(void *arg)
{
    double n = 0;

    xd_map_each(((struct muc_service *)arg)->rooms, count_occupants, &n);
    return n;
}

static int
add_metrics(struct muc_service *svc)
{
    xd_metrics *m = xd_component_metrics(svc->comp);
    int rc = xd_metrics_gauge_fn(m, "xmppd_muc_rooms", "rooms held", NULL,
                                 metric_rooms, svc);

    if (rc == 0)
        rc = xd_metrics_gauge_fn(m, "xmppd_muc_occupants",
                                 "occupants of all rooms", NULL,
                                 metric_occupants, svc);
    return rc;
}

static void
add_section(const char *section, const char *rest, void *arg)
{
    struct muc_main *m = arg;

    if (*rest != '\0' && *rest != ' ')
        return; /* [mucfoo] is someone else's */
    if (m->n == XD_NELEM(m->svc)) {
        xd_log_warnx("[%s]: at most %zu MUC services per process", section,
                     XD_NELEM(m->svc));
        m->failed = 1;
        return;
    }
    struct muc_service *svc = muc_service_new(m->cfg, section, m->base);
    if (svc == NULL) {
        m->failed = 1;
        return;
    }
    m->svc[m->n++] = svc;
    if (add_metrics(svc) != 0) {
        xd_log_warnx("[%s]: the metrics cannot be registered", section);
        m->failed = 1;
    }
}

/* What --help and --version print. */
static const xd_config_section muc_sections[] = {
    { "muc",
      "or [muc NAME]: one MUC domain each, the link's keys and the "
      "service's",
      xd_component_keys, muc_keys },
    { NULL, NULL, NULL, NULL },
};
static const xd_program muc_program = { "xmppd-muc", XD_VERSION, NULL,
                                        muc_sections };

int
main(int argc, char *argv[])
{
    struct muc_main m = { 0 };
    xd_config *cfg = xd_config_main(argc, argv, &muc_program, NULL);

    xd_log_init("xmppd-muc", cfg);
    m.cfg = cfg;
    m.base = xd_stream_base_new();
    if (m.base == NULL)
        xd_fatalx("no event loop");
    xd_config_each_section(cfg, "muc", add_section, &m);
    if (m.failed || m.n == 0) {
        if (m.n == 0 && !m.failed)
            xd_log_warnx("no [muc] section: nothing to serve");
        for (size_t i = 0; i < m.n; i++)
            muc_service_free(m.svc[i]);
        event_base_free(m.base);
        xd_config_free(cfg);
        return 1;
    }
    for (size_t i = 1; i < m.n; i++)
        xd_component_start(m.svc[i]->comp);
    int rc = xd_component_run(m.svc[0]->comp); /* until SIGTERM or SIGINT */
    xd_log_info("stopping");
    for (size_t i = 0; i < m.n; i++)
        muc_service_free(m.svc[i]);
    event_base_free(m.base);
    xd_config_free(cfg);
    return rc == 0 ? 0 : 1;
}
