/*
 * router_conf.h: the [xmppd] section of the configuration, read by xmppd and
 * xmppdctl. Every key, its default and its meaning are in router_conf.c's
 * table (and docs/xmppd.md).
 */
#ifndef XMPPD_ROUTER_CONF_H
#define XMPPD_ROUTER_CONF_H

#include <xmppd/config.h>

struct xmppd_conf {
    char *hosts;   /* space-separated virtual hosts served by this router */
    char *db_path; /* SQLite database for accounts and IM state */
    char *tls_cert;
    char *tls_key;
    char *tls_cert_dir; /* more certificates, chosen by SNI; NULL: none */
    char *c2s_address;  /* addresses, separated by spaces */
    unsigned long long c2s_port;
    unsigned long long c2s_tls_port; /* XEP-0368 direct TLS; 0: off */
    int c2s_require_tls;
    int sasl_plain;
    char *component_address; /* addresses, separated by spaces */
    unsigned long long component_port;
    unsigned long long component_handshake_timeout_s;
    unsigned long long max_stanza_bytes;
    unsigned long long scram_iterations;
    unsigned long long out_high_water_bytes;
    unsigned long long auth_timeout_s;
    unsigned long long roster_max_items;
    unsigned long long offline_max_messages;
    unsigned long long max_sessions_per_account;
    unsigned long long c2s_max_bytes_per_s;
    unsigned long long c2s_max_connections;
    unsigned long long c2s_max_connections_per_address;
    unsigned long long c2s_connects_per_address_per_min; /* 0: no limit */
    unsigned long long c2s_preauth_max_stanza_bytes;
    unsigned long long sasl_ip_max_failures;
    unsigned long long sasl_ip_max_concurrent;
    unsigned long long sasl_ip_block_s;
    unsigned long long c2s_ping_interval_s;
    unsigned long long c2s_ping_timeout_s;
    unsigned long long sm_resume_timeout_s;
    unsigned long long sm_max_unacked;
    unsigned long long sm_max_unacked_bytes;
    unsigned long long sm_max_unacked_bytes_total;
    char *archive_default; /* always, roster or never */
    int registration;
    unsigned long long registration_interval_s;
    unsigned long long password_change_interval_s;
    unsigned long long password_min_length; /* in characters */
    unsigned long long kdf_max_pending;
    char *admins;          /* XEP-0133 admins: bare JIDs, space-separated */
    char *control_socket;  /* xmppdctl's UNIX socket; "": none */
    char *metrics_address; /* router_metrics.c */
    unsigned long long metrics_port; /* 0: no metrics endpoint */
    /* Federation (s2s_in.c, s2s_out.c, dialback.c, dns.c) */
    char *s2s_address;
    unsigned long long s2s_port; /* 0: no federation at all */
    int s2s_require_tls;
    char *s2s_static_hosts; /* "domain=host:port ..." (dns.c) */
    int s2s_static_only;    /* no other domain is reached */
    char *s2s_dns_server;   /* "addr[:port],...": NULL: resolv.conf */
    unsigned long long s2s_connect_timeout_s;
    unsigned long long s2s_queue_max_bytes;
    unsigned long long s2s_max_connections;             /* incoming */
    unsigned long long s2s_max_connections_per_address; /* incoming */
    unsigned long long s2s_preauth_max_stanza_bytes;
    char *s2s_dialback_secret;  /* NULL: a random one per start */
    int s2s_secure_auth;        /* valid certificates only (cert_verify.c) */
    char *s2s_ca_file;          /* NULL: the system's CAs */
    char *s2s_insecure_domains; /* exceptions to s2s_secure_auth */
};

extern const xd_config_key xmppd_conf_keys[];
/* The keys of a [component DOMAIN] section (component_link.c). */
extern const xd_config_key comp_keys[];

/* Binds [xmppd] into *out (zeroed first). 0, or XD_EINVAL (logged). */
int xmppd_conf_load(const xd_config *cfg, struct xmppd_conf *out);
/* Frees the strings of a loaded configuration. */
void xmppd_conf_free(struct xmppd_conf *c);

#endif
