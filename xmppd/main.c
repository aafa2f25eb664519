/*
 * main.c: xmppd, the core router. Loads the configuration, opens the
 * database and the certificate, listens, and runs the event loop until
 * SIGINT or SIGTERM; then ends every stream with system-shutdown and exits.
 * SIGHUP reloads the configuration (reload.c).
 */
#define XD_LOG_AREA "main"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include <xmppd/log.h>
#include <xmppd/service.h>
#include <xmppd/stream.h>
#include <xmppd/version.h>

#include "kdf_worker.h"
#include "router.h"
#include "schema.h"

static int
load_hosts(struct router *r)
{
    char *list = xd_xstrdup(r->conf.hosts), *save = NULL;
    int rc = 0;

    for (char *h = strtok_r(list, " \t,", &save); h != NULL;
         h = strtok_r(NULL, " \t,", &save)) {
        char *prepped = NULL;
        if (xd_jid_prep_domain(h, &prepped) != 0) {
            xd_log_warnx("[xmppd] hosts: '%s' is not a valid domain", h);
            rc = XD_EINVAL;
            continue;
        }
        xd_map_put(r->hosts, prepped, (void *)1);
        free(prepped);
    }
    free(list);
    if (rc == 0 && xd_map_count(r->hosts) == 0) {
        xd_log_warnx("[xmppd] hosts: no host to serve");
        rc = XD_EINVAL;
    }
    return rc;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
    char why[32];

    (void)what;
    snprintf(why, sizeof(why), "signal %d", (int)sig);
    router_shutdown(arg, why);
}

static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    xd_service_reloading();
    router_reload(arg); /* logs what happened */
    xd_service_ready(); /* a failed reload keeps the old configuration */
}

static int
router_open(struct router *r)
{
    struct xmppd_conf *c = &r->conf;
    int rc;

    if ((rc = xmppd_conf_load(r->cfg, c)) != 0 || (rc = load_hosts(r)) != 0)
        return rc;
    xd_xml_limits_default(&r->limits);
    r->limits.max_stanza_bytes = (size_t)c->max_stanza_bytes;
    if ((rc = router_load_tls(c, &r->tls)) != 0)
        return rc;
    if ((rc = xd_db_open(c->db_path, xmppd_schema, xmppd_schema_count,
                         &r->db)) != 0 ||
        (rc = xd_db_checkpoint_in_background(r->db, 1000)) != 0 ||
        (rc = db_batch_init(r)) != 0)
        return rc;
    if ((rc = kdf_worker_start(r->base, &c->kdf_max_pending, &r->kdf)) != 0)
        return rc;
    if ((rc = router_load_components(r)) != 0 || (rc = control_start(r)) != 0 ||
        (rc = c2s_compact_start(r)) != 0 || (rc = router_metrics_start(r)) != 0)
        return rc;
    if ((rc = admin_commands_start(r)) != 0 || (rc = s2s_start(r)) != 0)
        return rc;
    return listeners_start(r);
}

/* What --help and --version print. */
static const xd_config_section xmppd_sections[] = {
    { "xmppd", "the router", xmppd_conf_keys, NULL },
    { "component DOMAIN", "one per component the router accepts", comp_keys,
      NULL },
    { NULL, NULL, NULL, NULL },
};
static const xd_program xmppd_program = { "xmppd", XD_VERSION, NULL,
                                          xmppd_sections };

int
main(int argc, char *argv[])
{
    struct router r;
    int rc;

    memset(&r, 0, sizeof(r));
    xd_config *cfg = xd_config_main(argc, argv, &xmppd_program, NULL);
    xd_log_init("xmppd", cfg);
    signal(SIGPIPE, SIG_IGN);
    r.cfg = cfg;
    r.base = xd_stream_base_new();
    if (r.base == NULL)
        xd_fatalx("cannot create the event loop");
    r.hosts = xd_map_new();
    r.comp_confs = xd_map_new();
    r.comp_links = xd_map_new();
    r.sessions = xd_map_new();
    r.users = xd_map_new();
    r.auth_failures = xd_map_new();
    r.sm_resumable = xd_map_new();
    r.registrations = xd_map_new();
    r.password_changes = xd_map_new();
    r.started = time(NULL);
    r.caps_ver = server_caps_ver();

    rc = router_open(&r);
    if (rc == 0) {
        r.sig_int = evsignal_new(r.base, SIGINT, signal_cb, &r);
        r.sig_term = evsignal_new(r.base, SIGTERM, signal_cb, &r);
        evsignal_add(r.sig_int, NULL);
        evsignal_add(r.sig_term, NULL);
        r.sig_hup = evsignal_new(r.base, SIGHUP, hup_cb, &r);
        evsignal_add(r.sig_hup, NULL);
        xd_log_info("xmppd %s ready: %zu host(s), %zu component domain(s)",
                    XMPPD_VERSION, xd_map_count(r.hosts),
                    xd_map_count(r.comp_confs));
        xd_service_ready(); /* listeners are open: systemctl start returns */
        if (event_base_dispatch(r.base) < 0) {
            xd_log_warnx("event loop failed");
            rc = XD_EIO;
        }
        xd_log_info("stopped: %llu stanzas routed, %llu bounced, "
                    "%llu logins, %llu failed",
                    r.stats.stanzas_routed, r.stats.stanzas_bounced,
                    r.stats.auth_ok, r.stats.auth_failed);
    }

    listeners_stop(&r);
    control_stop(&r);
    router_metrics_stop(&r);
    c2s_free_all(&r);
    admin_commands_stop(&r); /* before the worker: they cancel their jobs */
    kdf_worker_stop(r.kdf);  /* after the sessions: they cancelled their jobs */
    comp_links_free_all(&r);
    s2s_free_all(&r);
    router_free_components(&r);
    if (r.sig_int)
        event_free(r.sig_int);
    if (r.sig_term)
        event_free(r.sig_term);
    if (r.sig_hup)
        event_free(r.sig_hup);
    if (r.shutdown_timer)
        event_free(r.shutdown_timer);
    if (r.compact_timer)
        event_free(r.compact_timer);
    auth_limits_free(&r);
    free(r.caps_ver);
    xd_map_free(r.sm_resumable);
    xd_map_free(r.registrations);
    xd_map_free(r.password_changes);
    xd_map_free(r.archive_modes);
    xd_map_free(r.users);
    xd_map_free(r.sessions);
    xd_map_free(r.comp_links);
    xd_map_free(r.comp_confs);
    xd_map_free(r.hosts);
    db_batch_free(&r);
    xd_db_close(r.db);
    SSL_CTX_free(r.tls);
    xmppd_conf_free(&r.conf);
    event_base_free(r.base);
    xd_config_free(cfg);
    return rc == 0 ? 0 : 1;
}
