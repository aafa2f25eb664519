/*
 * router_conf.c: the key table of the [xmppd] section.
 */
#define XD_LOG_AREA "config"
#include <string.h>

#include <xmppd/log.h>

#include "router_conf.h"

const xd_config_key xmppd_conf_keys[] = {
    XD_CFG_STRING("hosts", struct xmppd_conf, hosts, "localhost",
                  "virtual hosts served, separated by spaces"),
    XD_CFG_STRING("db_path", struct xmppd_conf, db_path, "xmppd.db",
                  "SQLite database holding accounts and IM state"),
    XD_CFG_STRING("tls_cert", struct xmppd_conf, tls_cert, NULL,
                  "PEM certificate chain for c2s TLS, the default one (for "
                  "clients that ask for no host or one no certificate of "
                  "tls_cert_dir covers); unset, and no tls_cert_dir: no TLS"),
    XD_CFG_STRING("tls_key", struct xmppd_conf, tls_key, NULL,
                  "PEM private key matching tls_cert"),
    XD_CFG_STRING("tls_cert_dir", struct xmppd_conf, tls_cert_dir, NULL,
                  "folder of more certificates, chosen by the host a client "
                  "asks for (SNI): HOST.crt with HOST.key, or "
                  "HOST/fullchain.pem with HOST/privkey.pem (Let's "
                  "Encrypt's live/ layout); unset: none"),
    XD_CFG_STRING("c2s_address", struct xmppd_conf, c2s_address, "0.0.0.0",
                  "addresses the client listeners bind to, separated by "
                  "spaces (IPv6 too: ::1, [::])"),
    XD_CFG_UINT("c2s_port", struct xmppd_conf, c2s_port, 5222, 0, 65535,
                "client port with STARTTLS; 0 disables it"),
    XD_CFG_UINT("c2s_tls_port", struct xmppd_conf, c2s_tls_port, 5223, 0, 65535,
                "client port with direct TLS (XEP-0368); 0 disables it"),
    XD_CFG_BOOL("c2s_require_tls", struct xmppd_conf, c2s_require_tls, 1,
                "refuse authentication before TLS is established"),
    XD_CFG_BOOL("sasl_plain", struct xmppd_conf, sasl_plain, 1,
                "offer SASL PLAIN (only ever offered over TLS)"),
    XD_CFG_STRING("component_address", struct xmppd_conf, component_address,
                  "127.0.0.1",
                  "addresses the XEP-0114 listener binds to, separated by "
                  "spaces (IPv6 too)"),
    XD_CFG_UINT("component_port", struct xmppd_conf, component_port, 5347, 0,
                65535, "XEP-0114 component port; 0 disables it"),
    XD_CFG_UINT("component_handshake_timeout_s", struct xmppd_conf,
                component_handshake_timeout_s, 10, 1, 3600,
                "seconds a connection to the component port has to complete "
                "its XEP-0114 handshake"),
    XD_CFG_UINT("max_stanza_bytes", struct xmppd_conf, max_stanza_bytes, 262144,
                1024, 16777216,
                "largest stanza accepted; larger ones end the stream with "
                "policy-violation"),
    XD_CFG_UINT("scram_iterations", struct xmppd_conf, scram_iterations, 4096,
                4096, 1000000, "PBKDF2 iterations for new SCRAM credentials"),
    XD_CFG_UINT("out_high_water_bytes", struct xmppd_conf, out_high_water_bytes,
                1048576, 4096, 1073741824,
                "output buffered for one peer before back-pressure; four "
                "times this closes the stream"),
    XD_CFG_UINT("auth_timeout_s", struct xmppd_conf, auth_timeout_s, 60, 1,
                3600, "seconds a client has to authenticate and bind"),
    XD_CFG_UINT("roster_max_items", struct xmppd_conf, roster_max_items, 1000,
                1, 1000000,
                "roster items per account; one more is refused with "
                "not-allowed"),
    XD_CFG_UINT("offline_max_messages", struct xmppd_conf, offline_max_messages,
                1000, 0, 1000000,
                "messages stored per offline account; more are bounced "
                "with service-unavailable; 0 disables storage"),
    XD_CFG_UINT("max_sessions_per_account", struct xmppd_conf,
                max_sessions_per_account, 10, 1, 1000,
                "resources one account may bind at once; one more gets "
                "resource-constraint"),
    XD_CFG_UINT("c2s_max_bytes_per_s", struct xmppd_conf, c2s_max_bytes_per_s,
                102400, 0, 1073741824,
                "bytes per second read from one client connection (bursts "
                "of one second); reading slows, nothing is dropped; 0: no "
                "limit"),
    XD_CFG_UINT("c2s_max_connections", struct xmppd_conf, c2s_max_connections,
                10000, 1, 10000000,
                "client connections at once, from all addresses; one more "
                "is closed at once"),
    XD_CFG_UINT("c2s_max_connections_per_address", struct xmppd_conf,
                c2s_max_connections_per_address, 32, 1, 1000000,
                "client connections at once from one IPv4 address or IPv6 "
                "/64; one more is closed at once"),
    XD_CFG_UINT("c2s_connects_per_address_per_min", struct xmppd_conf,
                c2s_connects_per_address_per_min, 60, 0, 1000000,
                "client connections accepted from one IPv4 address or IPv6 "
                "/64 per minute; more are closed at once; 0: no limit"),
    XD_CFG_UINT("c2s_preauth_max_stanza_bytes", struct xmppd_conf,
                c2s_preauth_max_stanza_bytes, 8192, 1024, 16777216,
                "largest stanza accepted before authentication (at most "
                "max_stanza_bytes); larger ones end the stream with "
                "policy-violation"),
    XD_CFG_UINT("sasl_ip_max_failures", struct xmppd_conf, sasl_ip_max_failures,
                10, 1, 1000000,
                "failed logins from one IPv4 address or IPv6 /64 within "
                "sasl_ip_block_s; past half of it each failure is answered "
                "a second late, past all of it the address is refused (a "
                "proof that arrives then is not evaluated)"),
    XD_CFG_UINT("sasl_ip_max_concurrent", struct xmppd_conf,
                sasl_ip_max_concurrent, 10, 1, 1000000,
                "SASL exchanges under way at once from one IPv4 address or "
                "IPv6 /64; one more gets temporary-auth-failure"),
    XD_CFG_UINT("sasl_ip_block_s", struct xmppd_conf, sasl_ip_block_s, 300, 1,
                86400,
                "how long failures are remembered, and an address refused"),
    XD_CFG_UINT("c2s_ping_interval_s", struct xmppd_conf, c2s_ping_interval_s,
                300, 0, 86400,
                "a client silent this long is pinged (XEP-0199); 0: never"),
    XD_CFG_UINT("c2s_ping_timeout_s", struct xmppd_conf, c2s_ping_timeout_s, 60,
                1, 3600,
                "a pinged client that does not answer in time is "
                "disconnected (connection-timeout)"),
    XD_CFG_UINT("sm_resume_timeout_s", struct xmppd_conf, sm_resume_timeout_s,
                300, 0, 86400,
                "XEP-0198: how long a session whose connection was lost "
                "waits to be resumed (a client may ask for less); 0: no "
                "resumption"),
    XD_CFG_UINT("sm_max_unacked", struct xmppd_conf, sm_max_unacked, 1000, 10,
                1000000,
                "XEP-0198: stanzas sent to one client and not yet "
                "acknowledged, at most; past it the session ends and what "
                "was not acknowledged is stored or bounced"),
    XD_CFG_UINT("sm_max_unacked_bytes", struct xmppd_conf, sm_max_unacked_bytes,
                4194304, 65536, 1073741824,
                "XEP-0198: bytes of unacknowledged stanzas one session may "
                "hold; past it the session ends as past sm_max_unacked"),
    XD_CFG_UINT("sm_max_unacked_bytes_total", struct xmppd_conf,
                sm_max_unacked_bytes_total, 268435456, 1048576, 68719476736ULL,
                "XEP-0198: bytes of unacknowledged stanzas all sessions "
                "together may hold; the session whose stanza passes it "
                "ends as past sm_max_unacked"),
    XD_CFG_STRING("archive_default", struct xmppd_conf, archive_default,
                  "always",
                  "XEP-0313: what is archived for an account that has not "
                  "set its preference: always, roster (messages with roster "
                  "contacts) or never"),
    XD_CFG_BOOL("registration", struct xmppd_conf, registration, 0,
                "XEP-0077: anyone who can reach the server may create an "
                "account (over TLS when c2s_require_tls is on)"),
    XD_CFG_UINT("registration_interval_s", struct xmppd_conf,
                registration_interval_s, 60, 0, 86400,
                "XEP-0077: one new account per client address within this "
                "many seconds; 0: no limit"),
    XD_CFG_UINT("password_change_interval_s", struct xmppd_conf,
                password_change_interval_s, 10, 0, 86400,
                "XEP-0077: one password change per account within this many "
                "seconds; sooner gets resource-constraint; 0: no limit"),
    XD_CFG_UINT("password_min_length", struct xmppd_conf, password_min_length,
                8, 1, 1024,
                "passwords shorter than this many characters are refused "
                "(xmppdctl adduser and passwd, XEP-0077 registration and "
                "password changes)"),
    XD_CFG_UINT("kdf_max_pending", struct xmppd_conf, kdf_max_pending, 32, 1,
                100000,
                "password changes and registrations waiting for their key "
                "derivation at most; more get resource-constraint"),
    XD_CFG_STRING("admins", struct xmppd_conf, admins, NULL,
                  "XEP-0133: accounts of this router (bare JIDs separated by "
                  "spaces) that run the service administration commands "
                  "at every host; none by default"),
    XD_CFG_STRING("control_socket", struct xmppd_conf, control_socket,
                  "xmppd.sock",
                  "UNIX socket (mode 0600) on which xmppdctl lists and "
                  "kicks sessions, reads statistics and asks for a reload; "
                  "empty: none"),
    XD_CFG_STRING("metrics_address", struct xmppd_conf, metrics_address,
                  "127.0.0.1",
                  "address (IPv4 or IPv6 literal) the OpenMetrics endpoint "
                  "binds to; anything but loopback is logged as a warning"),
    XD_CFG_UINT("metrics_port", struct xmppd_conf, metrics_port, 0, 0, 65535,
                "port of the OpenMetrics endpoint (GET /metrics); 0: none"),
    XD_CFG_STRING("s2s_address", struct xmppd_conf, s2s_address, "0.0.0.0",
                  "addresses the server-to-server listener binds to, "
                  "separated by spaces (IPv6 too)"),
    XD_CFG_UINT("s2s_port", struct xmppd_conf, s2s_port, 0, 0, 65535,
                "server-to-server port (federation, usually 5269); 0 "
                "disables federation in both directions: stanzas to remote "
                "domains get remote-server-not-found"),
    XD_CFG_BOOL("s2s_require_tls", struct xmppd_conf, s2s_require_tls, 1,
                "server-to-server streams must use TLS, incoming and "
                "outgoing (needs tls_cert)"),
    XD_CFG_STRING("s2s_static_hosts", struct xmppd_conf, s2s_static_hosts, NULL,
                  "remote domains pinned to an address, space-separated "
                  "DOMAIN=HOST:PORT entries (private federation, tests); "
                  "other domains are connected at their own address on "
                  "port 5269"),
    XD_CFG_BOOL("s2s_static_only", struct xmppd_conf, s2s_static_only, 0,
                "federate only with the domains of s2s_static_hosts (a "
                "closed federation): stanzas to any other get "
                "remote-server-not-found at once"),
    XD_CFG_STRING("s2s_dns_server", struct xmppd_conf, s2s_dns_server, NULL,
                  "DNS servers for the SRV and address lookups of remote "
                  "domains, comma-separated ADDRESS[:PORT] (IPv6 in "
                  "brackets); unset: those of /etc/resolv.conf"),
    XD_CFG_UINT("s2s_connect_timeout_s", struct xmppd_conf,
                s2s_connect_timeout_s, 30, 1, 3600,
                "seconds an outgoing server-to-server stream has to connect "
                "and authenticate; then what waits for it is bounced with "
                "remote-server-timeout; also the time an incoming stream "
                "has to authenticate a domain"),
    XD_CFG_UINT("s2s_queue_max_bytes", struct xmppd_conf, s2s_queue_max_bytes,
                1048576, 1024, 1073741824,
                "bytes of stanzas held per remote domain while its stream "
                "is being set up; more are bounced with "
                "resource-constraint"),
    XD_CFG_UINT("s2s_max_connections", struct xmppd_conf, s2s_max_connections,
                1000, 1, 10000000,
                "incoming server-to-server connections at once, from all "
                "addresses; one more is closed at once"),
    XD_CFG_UINT("s2s_max_connections_per_address", struct xmppd_conf,
                s2s_max_connections_per_address, 16, 1, 1000000,
                "incoming server-to-server connections at once from one "
                "IPv4 address or IPv6 /64; one more is closed at once"),
    XD_CFG_UINT("s2s_preauth_max_stanza_bytes", struct xmppd_conf,
                s2s_preauth_max_stanza_bytes, 8192, 1024, 16777216,
                "largest stanza accepted on an incoming server-to-server "
                "stream before it authenticates a domain (at most "
                "max_stanza_bytes); larger ones end the stream with "
                "policy-violation"),
    XD_CFG_STRING("s2s_dialback_secret", struct xmppd_conf, s2s_dialback_secret,
                  NULL,
                  "secret of the dialback keys (XEP-0185); unset: a random "
                  "one per start (set it when several processes serve the "
                  "same domains)"),
    XD_CFG_BOOL("s2s_secure_auth", struct xmppd_conf, s2s_secure_auth, 0,
                "refuse a peer whose certificate is not valid for its "
                "domain (no dialback fallback); off by default because "
                "most of the network still authenticates with dialback"),
    XD_CFG_STRING("s2s_ca_file", struct xmppd_conf, s2s_ca_file, NULL,
                  "PEM file of the CAs that peers' certificates must chain "
                  "to; unset: the system's store"),
    XD_CFG_STRING("s2s_insecure_domains", struct xmppd_conf,
                  s2s_insecure_domains, NULL,
                  "remote domains (space-separated) that may still use "
                  "dialback without a valid certificate under "
                  "s2s_secure_auth"),
    XD_CFG_END,
};

int
xmppd_conf_load(const xd_config *cfg, struct xmppd_conf *out)
{
    memset(out, 0, sizeof(*out));
    int rc = xd_config_bind(cfg, "xmppd", xmppd_conf_keys, out);
    if (rc == 0 && strcmp(out->archive_default, "always") != 0 &&
        strcmp(out->archive_default, "roster") != 0 &&
        strcmp(out->archive_default, "never") != 0) {
        xd_log_warnx("[xmppd] archive_default: '%s' is not always, roster "
                     "or never",
                     out->archive_default);
        xmppd_conf_free(out);
        rc = XD_EINVAL;
    }
    return rc;
}

void
xmppd_conf_free(struct xmppd_conf *c)
{
    xd_config_unbind(xmppd_conf_keys, c);
}
