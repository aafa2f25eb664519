/*
 * reload.c: the certificate and the configuration, loaded at start-up and
 * again on SIGHUP or `xmppdctl reload` without dropping a connection.
 *
 * What a reload changes: the certificates and keys, tls_cert's and every
 * one of tls_cert_dir read again (new TLS handshakes use them; established
 * ones keep theirs), every limit and timer of [xmppd]
 * (read where they apply, so the next stanza, login or connection sees
 * them), log settings aside. What it cannot change while running: the
 * hosts, the addresses and ports, the database and the control socket;
 * a changed value of those is logged and waits for a restart.
 */
#define XD_LOG_AREA "main"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include <xmppd/log.h>
#include <xmppd/tls.h>

#include "router.h"

/* Each host of `hosts` that no certificate covers is logged: its clients
 * get the default certificate, which their checks refuse. */
static void
warn_uncovered(const struct xmppd_conf *c, struct ssl_ctx_st *ctx)
{
    char *list = xd_xstrdup(c->hosts ? c->hosts : ""), *save = NULL;

    for (char *h = strtok_r(list, " \t,", &save); h != NULL;
         h = strtok_r(NULL, " \t,", &save))
        if (!xd_tls_server_covers(ctx, h))
            xd_log_warnx("[xmppd] no certificate covers host %s: its "
                         "clients get the default one",
                         h);
    free(list);
}

/* The first of `hosts` (borrowed from buf), or NULL. */
static const char *
first_host(const struct xmppd_conf *c, char *buf, size_t size)
{
    snprintf(buf, size, "%s", c->hosts ? c->hosts : "");
    char *save = NULL;
    return strtok_r(buf, " \t,", &save);
}

int
router_load_tls(const struct xmppd_conf *c, struct ssl_ctx_st **out)
{
    int has_dir = c->tls_cert_dir != NULL && c->tls_cert_dir[0] != '\0';
    struct ssl_ctx_st *ctx = NULL;
    size_t added = 0;
    char buf[256];
    int rc;

    *out = NULL;
    if ((c->tls_cert != NULL) != (c->tls_key != NULL)) {
        xd_log_warnx("[xmppd] tls_cert and tls_key go together");
        return XD_EINVAL;
    }
    if (c->tls_cert == NULL && !has_dir) {
        if (c->c2s_require_tls) {
            xd_log_warnx("[xmppd] c2s_require_tls is on but neither "
                         "tls_cert nor tls_cert_dir is set");
            return XD_EINVAL;
        }
        return 0;
    }
    if ((rc = xd_tls_server_ctx(c->tls_cert, c->tls_key, &ctx)) != 0)
        return rc;
    if (has_dir &&
        (rc = xd_tls_server_add_dir(ctx, c->tls_cert_dir, &added)) != 0)
        goto fail;
    /* Without tls_cert, the first host's certificate is the default. */
    rc = xd_tls_server_default(ctx, first_host(c, buf, sizeof(buf)));
    if (rc == XD_ENOTFOUND)
        xd_log_warnx("[xmppd] tls_cert_dir %s: no certificate in it",
                     c->tls_cert_dir);
    if (rc != 0)
        goto fail;
    warn_uncovered(c, ctx);
    if (has_dir)
        xd_log_info("%zu certificate(s) from %s", added, c->tls_cert_dir);
    *out = ctx;
    return 0;
fail:
    SSL_CTX_free(ctx);
    return rc == XD_ENOTFOUND ? XD_EINVAL : rc;
}

/* A key that only a restart changes: the running value stays. */
static void
keep_str(const char *key, const char *running, char **loaded)
{
    if (strcmp(running ? running : "", *loaded ? *loaded : "") != 0)
        xd_log_warnx("[xmppd] %s: the new value waits for a restart", key);
    free(*loaded);
    *loaded = running ? xd_xstrdup(running) : NULL;
}

static void
keep_num(const char *key, unsigned long long running,
         unsigned long long *loaded)
{
    if (running != *loaded)
        xd_log_warnx("[xmppd] %s: the new value waits for a restart", key);
    *loaded = running;
}

int
router_reload(struct router *r)
{
    const char *path = xd_config_name(r->cfg);
    xd_config *cfg = NULL;
    struct xmppd_conf nc;
    struct ssl_ctx_st *tls = NULL;
    int rc;

    xd_log_info("reloading %s", path);
    if ((rc = xd_config_load(path, &cfg)) != 0)
        return rc; /* logged with file:line */
    rc = xmppd_conf_load(cfg, &nc);
    xd_config_free(cfg);
    if (rc != 0)
        return rc;
    if ((rc = router_load_tls(&nc, &tls)) != 0) {
        xmppd_conf_free(&nc);
        return rc;
    }
    keep_str("hosts", r->conf.hosts, &nc.hosts);
    keep_str("db_path", r->conf.db_path, &nc.db_path);
    keep_str("c2s_address", r->conf.c2s_address, &nc.c2s_address);
    keep_str("component_address", r->conf.component_address,
             &nc.component_address);
    keep_str("control_socket", r->conf.control_socket, &nc.control_socket);
    keep_num("c2s_port", r->conf.c2s_port, &nc.c2s_port);
    keep_num("c2s_tls_port", r->conf.c2s_tls_port, &nc.c2s_tls_port);
    keep_num("component_port", r->conf.component_port, &nc.component_port);
    keep_str("metrics_address", r->conf.metrics_address, &nc.metrics_address);
    keep_num("metrics_port", r->conf.metrics_port, &nc.metrics_port);
    /* Federation is set up at start-up: its switch, listener, map of
     * static hosts, DNS servers and dialback secret (a new secret would
     * invalidate the keys given out). */
    keep_num("s2s_port", r->conf.s2s_port, &nc.s2s_port);
    keep_str("s2s_address", r->conf.s2s_address, &nc.s2s_address);
    keep_str("s2s_static_hosts", r->conf.s2s_static_hosts,
             &nc.s2s_static_hosts);
    keep_str("s2s_dns_server", r->conf.s2s_dns_server, &nc.s2s_dns_server);
    keep_str("s2s_dialback_secret", r->conf.s2s_dialback_secret,
             &nc.s2s_dialback_secret);
    xmppd_conf_free(&r->conf);
    r->conf = nc;
    r->limits.max_stanza_bytes = (size_t)nc.max_stanza_bytes;
    SSL_CTX_free(r->tls); /* live connections hold their own reference */
    r->tls = tls;
    xd_log_info("configuration reloaded%s", tls ? " with the certificate" : "");
    return 0;
}
