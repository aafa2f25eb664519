/*
 * check.c: xmppdctl check, what an operator runs before and after going
 * live (like prosodyctl check): the configuration, the certificate against
 * every host name and its dates, each host's DNS records (the SRV records
 * clients look up first, then A/AAAA) and whether the ports answer. One
 * line per finding: "ok:", "warn:" (worth a look) or "problem:" (clients
 * will fail); the exit status is 1 when there is any problem.
 *
 * DNS goes through c-ares, the design's resolver for SRV records, used
 * blocking here: xmppdctl has no event loop. --dns HOST[:PORT] asks that
 * server instead of resolv.conf's; --no-dns skips DNS. Hosts named
 * localhost or *.localhost are never looked up.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <xmppd/jid.h>

#include "ctl.h"

/* A certificate that expires this soon gets a warning. */
#define CHECK_EXPIRY_WARN_DAYS 14
#define C_IN_                  1
#define T_A_                   1
#define T_AAAA_                28
#define T_SRV_                 33

struct check {
    struct ctl *c;
    unsigned problems, warnings;
    ares_channel dns; /* NULL: no DNS checks */
};

static void
say(struct check *k, const char *level, const char *fmt, ...)
{
    va_list ap;

    if (strcmp(level, "problem") == 0)
        k->problems++;
    else if (strcmp(level, "warn") == 0)
        k->warnings++;
    printf("%s: ", level);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* --- certificates -------------------------------------------------------- */

static void
asn1_date(const ASN1_TIME *t, char *buf, size_t size)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) == 1)
        strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
    else
        snprintf(buf, size, "(unreadable date)");
}

static void
check_dates(struct check *k, X509 *x, const char *path)
{
    const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
    char date[64];
    int days = 0, secs = 0;

    if (X509_cmp_current_time(nb) > 0) {
        asn1_date(nb, date, sizeof(date));
        say(k, "problem", "certificate %s: not valid before %s", path, date);
    }
    asn1_date(na, date, sizeof(date));
    if (X509_cmp_current_time(na) < 0) {
        say(k, "problem", "certificate %s: expired on %s", path, date);
        return;
    }
    if (ASN1_TIME_diff(&days, &secs, NULL, na) == 1 &&
        days < CHECK_EXPIRY_WARN_DAYS)
        say(k, "warn", "certificate %s: expires in %d day(s), on %s", path,
            days, date);
    else
        say(k, "ok", "certificate %s: valid until %s", path, date);
}

/* Reads a certificate and checks its dates and its key; NULL when it
 * cannot be read (said). The caller frees it. */
static X509 *
load_pair(struct check *k, const char *cert, const char *key_path)
{
    X509 *x = NULL;
    EVP_PKEY *key = NULL;
    FILE *f;

    if ((f = fopen(cert, "r")) == NULL ||
        (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
        say(k, "problem", "certificate %s: cannot be read", cert);
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    fclose(f);
    check_dates(k, x, cert);
    if (key_path == NULL || (f = fopen(key_path, "r")) == NULL ||
        (key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
        say(k, "problem", "key %s: cannot be read",
            key_path ? key_path : "(tls_key unset)");
    else if (X509_check_private_key(x, key) != 1)
        say(k, "problem", "key %s does not belong to certificate %s", key_path,
            cert);
    if (f != NULL)
        fclose(f);
    EVP_PKEY_free(key);
    return x;
}

/* The certificate of tls_cert_dir for `host`, as the router looks for it
 * (HOST.crt, HOST/fullchain.pem, live/HOST/fullchain.pem): 1 and the
 * paths, or 0. */
static int
dir_cert(const char *dir, const char *host, char *cert, char *key, size_t size)
{
    static const char *const forms[][2] = {
        { "%s/%s.crt", "%s/%s.key" },
        { "%s/%s/fullchain.pem", "%s/%s/privkey.pem" },
        { "%s/live/%s/fullchain.pem", "%s/live/%s/privkey.pem" },
    };

    if (dir == NULL || *dir == '\0')
        return 0;
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(cert, size, forms[i][0], dir, host);
        snprintf(key, size, forms[i][1], dir, host);
        if (access(cert, F_OK) == 0)
            return 1;
    }
    return 0;
}

static void
names_host(struct check *k, X509 *x, const char *cert, const char *host)
{
    if (X509_check_host(x, host, 0, 0, NULL) == 1)
        say(k, "ok", "certificate %s: names %s", cert, host);
    else
        say(k, "problem",
            "certificate %s: does not name %s (clients will refuse it)", cert,
            host);
}

/* Every host gets the certificate the router would give it: its own from
 * tls_cert_dir, else the default tls_cert. */
static void
check_certificate(struct check *k)
{
    const struct xmppd_conf *conf = &k->c->conf;
    X509 *def = NULL;
    int has_def = conf->tls_cert != NULL && *conf->tls_cert != '\0';

    if (!has_def && (conf->tls_cert_dir == NULL || !*conf->tls_cert_dir)) {
        say(k, "problem",
            "neither tls_cert nor tls_cert_dir in [xmppd]: "
            "clients cannot use TLS");
        return;
    }
    if (has_def)
        def = load_pair(k, conf->tls_cert, conf->tls_key);
    char *hosts = xd_xstrdup(conf->hosts), *save = NULL;
    for (char *h = strtok_r(hosts, " \t,", &save); h != NULL;
         h = strtok_r(NULL, " \t,", &save)) {
        char cert[4200], key[4200];
        if (dir_cert(conf->tls_cert_dir, h, cert, key, sizeof(cert))) {
            X509 *x = load_pair(k, cert, key);
            if (x != NULL)
                names_host(k, x, cert, h);
            X509_free(x);
        } else if (def != NULL) {
            names_host(k, def, conf->tls_cert, h);
        } else if (!has_def) {
            say(k, "problem",
                "%s: no certificate in tls_cert_dir %s and no "
                "tls_cert",
                h, conf->tls_cert_dir);
        }
    }
    free(hosts);
    X509_free(def);
}

/* --- DNS ------------------------------------------------------------------ */

struct answer {
    int done, status;
    unsigned char *buf;
    int len;
};

static void
answered(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct answer *a = arg;

    (void)timeouts;
    a->done = 1;
    a->status = status;
    if (status == ARES_SUCCESS && abuf != NULL) {
        a->buf = xd_xmalloc((size_t)alen);
        memcpy(a->buf, abuf, (size_t)alen);
        a->len = alen;
    }
}

/* One query, waited for. */
static void
query(struct check *k, const char *name, int type, struct answer *a)
{
    memset(a, 0, sizeof(*a));
    ares_query(k->dns, name, C_IN_, type, answered, a);
    while (!a->done) {
        fd_set r, w;
        struct timeval tv, *tvp;
        FD_ZERO(&r);
        FD_ZERO(&w);
        int nfds = ares_fds(k->dns, &r, &w);
        if (nfds == 0)
            break;
        tvp = ares_timeout(k->dns, NULL, &tv);
        select(nfds, &r, &w, NULL, tvp);
        ares_process(k->dns, &r, &w);
    }
}

/* The addresses of `name` (A and AAAA), written to buf; 0 when none. */
static int
addresses(struct check *k, const char *name, char *buf, size_t size)
{
    int n = 0;
    size_t used = 0;

    buf[0] = '\0';
    for (int t = 0; t < 2; t++) {
        struct answer a;
        query(k, name, t == 0 ? T_A_ : T_AAAA_, &a);
        if (a.status == ARES_SUCCESS) {
            struct ares_addrttl v4[16];
            struct ares_addr6ttl v6[16];
            int nv = 16;
            char s[INET6_ADDRSTRLEN];
            if (t == 0 && ares_parse_a_reply(a.buf, a.len, NULL, v4, &nv) ==
                              ARES_SUCCESS) {
                for (int i = 0; i < nv; i++, n++) {
                    inet_ntop(AF_INET, &v4[i].ipaddr, s, sizeof(s));
                    used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                             n ? " " : "", s);
                    if (used >= size)
                        used = size - 1;
                }
            } else if (t == 1 && ares_parse_aaaa_reply(a.buf, a.len, NULL, v6,
                                                       &nv) == ARES_SUCCESS) {
                for (int i = 0; i < nv; i++, n++) {
                    inet_ntop(AF_INET6, &v6[i].ip6addr, s, sizeof(s));
                    used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                             n ? " " : "", s);
                    if (used >= size)
                        used = size - 1;
                }
            }
        }
        free(a.buf);
    }
    return n;
}

/* One SRV name: what it points to, and whether those targets resolve. */
static int
check_srv(struct check *k, const char *service, const char *host,
          unsigned long long port, int required)
{
    char name[1100], addrs[512];
    struct answer a;
    struct ares_srv_reply *srv = NULL;
    int found = 0;

    snprintf(name, sizeof(name), "%s._tcp.%s", service, host);
    query(k, name, T_SRV_, &a);
    if (a.status == ARES_SUCCESS &&
        ares_parse_srv_reply(a.buf, a.len, &srv) == ARES_SUCCESS) {
        for (struct ares_srv_reply *s = srv; s != NULL; s = s->next) {
            found++;
            if (addresses(k, s->host, addrs, sizeof(addrs)) == 0)
                say(k, "problem",
                    "%s: SRV %s points to %s, which has no "
                    "A or AAAA record",
                    host, name, s->host);
            else if (s->port != port)
                say(k, "warn",
                    "%s: SRV %s points to port %u, but xmppd "
                    "listens on %llu",
                    host, name, s->port, port);
            else
                say(k, "ok", "%s: SRV %s -> %s:%u (%s)", host, name, s->host,
                    s->port, addrs);
        }
        ares_free_data(srv);
    }
    free(a.buf);
    if (found == 0 && a.done && a.status != ARES_SUCCESS &&
        a.status != ARES_ENODATA && a.status != ARES_ENOTFOUND)
        say(k, "problem", "%s: looking up SRV %s failed: %s", host, name,
            ares_strerror(a.status));
    else if (found == 0)
        say(k, required ? "problem" : "warn",
            "%s: no SRV record %s (clients then try %s itself on the "
            "default port)",
            host, name, host);
    return found;
}

static void
check_dns(struct check *k)
{
    const struct xmppd_conf *conf = &k->c->conf;
    char *hosts = xd_xstrdup(conf->hosts), *save = NULL, addrs[512];

    for (char *h = strtok_r(hosts, " \t,", &save); h != NULL;
         h = strtok_r(NULL, " \t,", &save)) {
        size_t n = strlen(h);
        if (strcmp(h, "localhost") == 0 ||
            (n > 10 && strcmp(h + n - 10, ".localhost") == 0)) {
            say(k, "ok", "%s: a local name, not looked up in DNS", h);
            continue;
        }
        check_srv(k, "_xmpp-client", h, conf->c2s_port, 1);
        if (conf->c2s_tls_port != 0)
            check_srv(k, "_xmpps-client", h, conf->c2s_tls_port, 0);
        if (addresses(k, h, addrs, sizeof(addrs)) == 0)
            say(k, "warn", "%s: no A or AAAA record", h);
        else
            say(k, "ok", "%s: address %s", h, addrs);
    }
    free(hosts);
}

/* --- ports ---------------------------------------------------------------- */

static void
check_port(struct check *k, const char *key, const char *address,
           unsigned long long port)
{
    char host[256], service[24];
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
    int fd = -1, ok = 0;

    if (port == 0)
        return;
    /* A wildcard address is reached on loopback. */
    snprintf(host, sizeof(host), "%.*s", (int)strcspn(address, " \t,"),
             address);
    if (strcmp(host, "0.0.0.0") == 0 || *host == '\0')
        snprintf(host, sizeof(host), "127.0.0.1");
    else if (strcmp(host, "::") == 0)
        snprintf(host, sizeof(host), "::1");
    snprintf(service, sizeof(service), "%llu", port);
    if (getaddrinfo(host, service, &hints, &ai) == 0) {
        fd = socket(ai->ai_family, SOCK_STREAM, 0);
        ok = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        freeaddrinfo(ai);
    }
    if (fd >= 0)
        close(fd);
    if (ok)
        say(k, "ok", "%s %s:%llu answers", key, host, port);
    else
        say(k, "problem", "%s %s:%llu: nothing answers (is xmppd running?)",
            key, host, port);
}

static void
check_ports(struct check *k)
{
    const struct xmppd_conf *conf = &k->c->conf;

    check_port(k, "c2s_port", conf->c2s_address, conf->c2s_port);
    check_port(k, "c2s_tls_port", conf->c2s_address, conf->c2s_tls_port);
    check_port(k, "component_port", conf->component_address,
               conf->component_port);
}

/* ------------------------------------------------------------------------- */

static int
dns_open(struct check *k, const char *server)
{
    struct ares_options opts = { .timeout = 2000, .tries = 2 };

    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS ||
        ares_init_options(&k->dns, &opts,
                          ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) !=
            ARES_SUCCESS) {
        fprintf(stderr, "xmppdctl: check: cannot set up DNS lookups\n");
        k->dns = NULL;
        return 1;
    }
    if (server != NULL &&
        ares_set_servers_ports_csv(k->dns, server) != ARES_SUCCESS) {
        fprintf(stderr, "xmppdctl: check: --dns %s: not an address[:port]\n",
                server);
        return 1;
    }
    return 0;
}

int
ctl_cmd_check(struct ctl *c, int argc, char **argv)
{
    struct check k = { c, 0, 0, NULL };
    const char *server = NULL;
    int use_dns = 1, rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dns") == 0 && i + 1 < argc)
            server = argv[++i];
        else if (strcmp(argv[i], "--no-dns") == 0)
            use_dns = 0;
        else
            return 2;
    }
    /* Loading the configuration (before this) refused unknown keys and bad
     * values with file:line. */
    say(&k, "ok", "configuration %s: [xmppd] is valid; hosts: %s",
        xd_config_name(c->cfg), c->conf.hosts);
    check_certificate(&k);
    if (use_dns) {
        if (dns_open(&k, server) != 0)
            rc = 1;
        else
            check_dns(&k);
    }
    check_ports(&k);
    if (k.dns != NULL) {
        ares_destroy(k.dns);
        ares_library_cleanup();
    }
    printf("%u problem(s), %u warning(s)\n", k.problems, k.warnings);
    return rc != 0 || k.problems > 0 ? 1 : 0;
}
