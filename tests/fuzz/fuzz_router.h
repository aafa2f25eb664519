/*
 * fuzz_router.h: a router as the unit tests build it (one in-memory
 * SQLite database per input, the host "localhost" with the accounts alice
 * and bob, password "pencil", a component muc.localhost) and up to six
 * connections to it, for the libFuzzer targets fuzz_c2s.c and
 * fuzz_component_link.c, and fuzz_s2s.c (where connections 4-5 are
 * incoming server-to-server streams, s2s_in_accept; the configuration's
 * s2s_static_only keeps the dialback verifications they ask for off the
 * network: each is refused at once).
 *
 * Each connection is one end of a socketpair whose other end the router
 * accepts exactly as listener.c does (c2s_socket_accept, comp_link_accept),
 * so the input goes through the production transport: xd_stream, its
 * parser, its restarts and its STARTTLS. The driver is the client: when
 * the router answers <proceed/>, it does a real TLS handshake (with a
 * certificate made at start-up) and writes the rest through TLS.
 *
 * The input is a sequence of segments. A byte 0xF8 + k (k = 0..5) starts a
 * segment for connection k (0-3: client connections, 3 with direct TLS,
 * XEP-0368; 4-5: component connections), opening it if needed; the bytes
 * up to the next such byte are written in one write and the loop runs
 * until the router is quiet. 0xFE closes the current connection (the
 * router sees the socket end); 0xFF is ignored. Bytes before the first
 * segment go to the target's default connection. In a segment, the driver
 * replaces "$SMID" by the last XEP-0198 resumption id the router gave and
 * "$HANDSHAKE" by the right XEP-0114 handshake for the connection's stream
 * id, which the input cannot know.
 *
 * Besides the sanitizers, the driver abort()s when the router
 * - says <success/> on a connection whose client has not yet written a
 *   byte over the TLS it asked for (bytes sent before the handshake were
 *   taken as if they had come through it);
 * - answers anything after <success/> or <proceed/> before the client has
 *   written again (the rest of that segment was parsed by the old stream);
 * - leaves an event behind once it is freed (a timer of a freed session).
 * Set XD_FUZZ_LOG=debug (or info) to see the router's log.
 */
#ifndef XMPPD_FUZZ_ROUTER_H
#define XMPPD_FUZZ_ROUTER_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <xmppd/buf.h>
#include <xmppd/log.h>
#include <xmppd/tls.h>

#include "accounts.h"
#include "router.h"
#include "schema.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FR_CONNS         6
#define FR_FIRST_COMP    4
#define FR_DIRECT_TLS    3
#define FR_SEG           0xF8 /* 0xF8 + k: a segment for connection k */
#define FR_CLOSE         0xFE
#define FR_SECRET        "s3cret"
#define FR_PEER          "127.0.0.1" /* every client's address */
#define FR_OUT_KEEP      65536       /* bytes of a connection's output kept */
#define FR_SPIN_MAX      2000        /* loop turns per segment, at most */
#define FR_HANDSHAKE_MAX 200         /* TLS handshake rounds, at most */

static const char fr_config[] = "[xmppd]\n"
                                "hosts = localhost example.org\n"
                                "db_path = :memory:\n"
                                "registration = true\n"
                                "sm_resume_timeout_s = 300\n"
                                "s2s_port = 5269\n"
                                "s2s_static_only = true\n"
                                "[component muc.localhost]\n"
                                "secret = " FR_SECRET "\n"
                                "domains = rooms.localhost\n";

struct fr_conn {
    int fd, server_fd; /* ours, the router's; -1 when closed */
    SSL *ssl;          /* our TLS once asked for */
    int tls_up;        /* the handshake completed */
    int tls_written;   /* we wrote application data through it */
    int authed;        /* the router said <success/> */
    xd_buf out;        /* what the router wrote, in the clear */
    size_t before;     /* out.len when the last segment was written */
};

static struct {
    struct event_base *base;
    xd_config *cfg;
    struct xmppd_conf conf;
    SSL_CTX *server_tls, *client_tls;
    char *caps_ver;
    struct router r;
    struct fr_conn c[FR_CONNS];
    char smid[64];
    int s2s; /* connections 4-5 are incoming s2s streams (fuzz_s2s.c) */
} fr;

static void
fr_fail(const char *what, int k)
{
    fprintf(stderr, "fuzz_router: connection %d: %s\n", k, what);
    fprintf(stderr, "its output:\n%.*s\n", (int)fr.c[k].out.len,
            fr.c[k].out.data ? fr.c[k].out.data : "");
    abort();
}

/* A self-signed certificate for "localhost", made once: the key and the
 * certificate go through a temporary folder to xd_tls_server_ctx, the
 * code the router loads its own with. */
static SSL_CTX *
fr_server_tls(void)
{
    char dir[] = "/tmp/xd-fuzz-tls-XXXXXX", cert[64], key[64];
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    SSL_CTX *ctx = NULL;
    FILE *f;

    if (pkey == NULL || x == NULL || mkdtemp(dir) == NULL)
        abort();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, pkey, EVP_sha256()) == 0)
        abort();
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    if ((f = fopen(cert, "w")) == NULL || PEM_write_X509(f, x) != 1)
        abort();
    fclose(f);
    if ((f = fopen(key, "w")) == NULL ||
        PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1)
        abort();
    fclose(f);
    if (xd_tls_server_ctx(cert, key, &ctx) != 0)
        abort();
    unlink(cert);
    unlink(key);
    rmdir(dir);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return ctx;
}

static void
fr_init(void)
{
    const char *lv = getenv("XD_FUZZ_LOG");
    xd_log_level level = XD_LOG_ERROR;

    if (lv != NULL && xd_log_level_parse(lv, &level) != 0)
        level = XD_LOG_DEBUG;
    xd_log_init("fuzz", NULL);
    xd_log_set_level(level);
    signal(SIGPIPE, SIG_IGN);
    fr.base = xd_stream_base_new();
    if (fr.base == NULL ||
        xd_config_load_string(fr_config, "fuzz.ini", &fr.cfg) != 0 ||
        xmppd_conf_load(fr.cfg, &fr.conf) != 0)
        abort();
    fr.server_tls = fr_server_tls();
    fr.client_tls = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(fr.client_tls, SSL_VERIFY_NONE, NULL);
    fr.caps_ver = server_caps_ver();
    for (int k = 0; k < FR_CONNS; k++)
        fr.c[k].fd = fr.c[k].server_fd = -1;
}

/* A fresh router for one input; the expensive parts (loop, TLS, the
 * configuration) are shared by every input. */
static void
fr_router_new(void)
{
    struct router *r = &fr.r;
    static const char *const users[] = { "alice", "bob" };

    memset(r, 0, sizeof(*r));
    r->base = fr.base;
    r->cfg = fr.cfg;
    r->conf = fr.conf; /* strings borrowed from fr.conf */
    xd_xml_limits_default(&r->limits);
    r->limits.max_stanza_bytes = (size_t)r->conf.max_stanza_bytes;
    r->tls = fr.server_tls;
    r->hosts = xd_map_new();
    xd_map_put(r->hosts, "localhost", (void *)1);
    xd_map_put(r->hosts, "example.org", (void *)1);
    r->comp_confs = xd_map_new();
    r->comp_links = xd_map_new();
    r->sessions = xd_map_new();
    r->users = xd_map_new();
    r->auth_failures = xd_map_new();
    r->sm_resumable = xd_map_new();
    r->registrations = xd_map_new();
    r->started = time(NULL);
    r->caps_ver = fr.caps_ver;
    if (xd_db_open(":memory:", xmppd_schema, xmppd_schema_count, &r->db) != 0 ||
        db_batch_init(r) != 0 || router_load_components(r) != 0 ||
        s2s_start(r) != 0)
        abort();
    /* One iteration keeps logins cheap; a password change costs what it
     * costs in production (scram_iterations). */
    for (size_t i = 0; i < XD_NELEM(users); i++)
        if (accounts_create(r->db, "localhost", users[i], "pencil", 1) != 0)
            abort();
    fr.smid[0] = '\0';
}

static void
fr_conn_open(int k)
{
    struct fr_conn *c = &fr.c[k];
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
        abort();
    c->fd = sv[0];
    c->server_fd = sv[1];
    c->ssl = NULL;
    c->tls_up = c->tls_written = c->authed = 0;
    xd_buf_reset(&c->out);
    c->before = 0;
    if (k >= FR_FIRST_COMP && fr.s2s) {
        s2s_in_accept(&fr.r, sv[1], FR_PEER);
    } else if (k >= FR_FIRST_COMP) {
        comp_link_accept(&fr.r, sv[1]);
    } else if (conn_limits_admit(&fr.r, CONN_C2S, FR_PEER) != 0) {
        close(sv[1]); /* as listener.c does: the client sees the end */
        c->server_fd = -1;
    } else {
        c2s_socket_accept(&fr.r, sv[1], k == FR_DIRECT_TLS, FR_PEER);
        if (k == FR_DIRECT_TLS) {
            c->ssl = SSL_new(fr.client_tls);
            SSL_set_fd(c->ssl, c->fd);
            SSL_set_connect_state(c->ssl);
        }
    }
}

/* The router closed its end (or we did): the socket is of no more use. */
static void
fr_conn_close(int k)
{
    struct fr_conn *c = &fr.c[k];

    if (c->fd < 0)
        return;
    SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd);
    c->fd = c->server_fd = -1;
}

static void
fr_keep(struct fr_conn *c, const char *data, size_t n)
{
    if (c->out.len + n > FR_OUT_KEEP) {
        /* Old output is of no more use to the checks: keep the tail. */
        size_t drop = c->out.len + n - FR_OUT_KEEP;
        if (drop > c->out.len)
            drop = c->out.len;
        memmove(c->out.data, c->out.data + drop, c->out.len - drop);
        c->out.len -= drop;
        c->before = c->before > drop ? c->before - drop : 0;
    }
    xd_buf_append(&c->out, data, n);
}

/* Reads what the router wrote to connection k; returns the bytes read. */
static size_t
fr_read(int k)
{
    struct fr_conn *c = &fr.c[k];
    char buf[16384];
    size_t total = 0;

    while (c->fd >= 0) {
        ssize_t n;
        if (c->ssl != NULL) {
            if (!c->tls_up)
                break; /* the handshake reads */
            n = SSL_read(c->ssl, buf, sizeof(buf));
            if (n <= 0) {
                int e = SSL_get_error(c->ssl, (int)n);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                    fr_conn_close(k);
                break;
            }
        } else {
            n = recv(c->fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                    fr_conn_close(k);
                break;
            }
        }
        fr_keep(c, buf, (size_t)n);
        total += (size_t)n;
    }
    return total;
}

/* Bytes the router has not read yet on its end of connection k. */
static int
fr_unread(int k)
{
    int n = 0;

    if (fr.c[k].server_fd < 0 || ioctl(fr.c[k].server_fd, FIONREAD, &n) != 0)
        return 0;
    return n;
}

/* Runs the loop until the router has read everything and written nothing
 * new for a few turns. */
static void
fr_spin(void)
{
    int quiet = 0;

    for (int i = 0; i < FR_SPIN_MAX && quiet < 3; i++) {
        event_base_loop(fr.base, EVLOOP_NONBLOCK);
        size_t got = 0;
        int unread = 0;
        for (int k = 0; k < FR_CONNS; k++) {
            got += fr_read(k);
            unread += fr_unread(k);
        }
        quiet = got > 0 || unread > 0 ? 0 : quiet + 1;
    }
}

static void
fr_handshake(int k)
{
    struct fr_conn *c = &fr.c[k];

    for (int i = 0; i < FR_HANDSHAKE_MAX && c->fd >= 0 && !c->tls_up; i++) {
        int rc = SSL_do_handshake(c->ssl);
        if (rc == 1) {
            c->tls_up = 1;
            break;
        }
        int e = SSL_get_error(c->ssl, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            fr_conn_close(k);
            break;
        }
        event_base_loop(fr.base, EVLOOP_NONBLOCK);
    }
    fr_spin();
}

static const char *
fr_find(const struct fr_conn *c, size_t from, const char *what)
{
    if (c->out.len <= from)
        return NULL;
    return memmem(c->out.data + from, c->out.len - from, what, strlen(what));
}

/* The end of the element that starts at p (one without children). */
static const char *
fr_elem_end(const struct fr_conn *c, const char *p, const char *name)
{
    const char *end = c->out.data + c->out.len;
    const char *gt = memchr(p, '>', (size_t)(end - p));
    char close[32];

    if (gt == NULL)
        return end;
    if (gt[-1] == '/')
        return gt + 1;
    snprintf(close, sizeof(close), "</%s>", name);
    const char *q = memmem(gt, (size_t)(end - gt), close, strlen(close));
    return q ? q + strlen(close) : end;
}

/* What the last segment made the router say on connection k. */
static void
fr_check(int k)
{
    struct fr_conn *c = &fr.c[k];
    const char *p, *end;

    if (c->out.len == 0)
        return;
    end = c->out.data + c->out.len;
    if (c->ssl == NULL && c->fd >= 0 &&
        (p = fr_find(c, c->before,
                     "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'")) !=
            NULL) {
        const char *after = fr_elem_end(c, p, "proceed");
        if (after != end)
            fr_fail("cleartext after <proceed/>", k);
        c->ssl = SSL_new(fr.client_tls);
        SSL_set_fd(c->ssl, c->fd);
        SSL_set_connect_state(c->ssl);
        fr_handshake(k);
        end = c->out.data + c->out.len;
    }
    /* Before a session is bound nothing is routed to a connection, so its
     * first SASL <success/> is the router's own. */
    if (!c->authed &&
        (p = fr_find(c, c->before,
                     "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'")) !=
            NULL) {
        c->authed = 1;
        if (c->ssl != NULL && !c->tls_written)
            fr_fail("SASL success for bytes written before TLS", k);
        const char *after = fr_elem_end(c, p, "success");
        if (memchr(after, '<', (size_t)(end - after)) != NULL)
            fr_fail("answers to bytes after <success/> in the same segment", k);
    }
    /* The resumption id the router handed out last, for "$SMID". */
    const char *e = fr_find(c, c->before, "<enabled xmlns='urn:xmpp:sm:3'");
    if (e != NULL) {
        const char *id = memmem(e, (size_t)(end - e), " id='", 5);
        const char *q =
            id ? memchr(id + 5, '\'', (size_t)(end - id - 5)) : NULL;
        if (q != NULL && (size_t)(q - id - 5) < sizeof(fr.smid))
            snprintf(fr.smid, sizeof(fr.smid), "%.*s", (int)(q - id - 5),
                     id + 5);
    }
}

/* hex(SHA-1(stream id + secret)) for the last stream header the router
 * sent on connection k. */
static void
fr_handshake_value(int k, char out[2 * SHA_DIGEST_LENGTH + 1])
{
    struct fr_conn *c = &fr.c[k];
    const char *h = NULL, *p, *id, *q;
    unsigned char d[SHA_DIGEST_LENGTH];
    char input[128];

    for (p = fr_find(c, 0, "<stream:stream "); p != NULL;
         p = fr_find(c, (size_t)(p - c->out.data) + 1, "<stream:stream "))
        h = p;
    id = h ? memmem(h, c->out.len - (size_t)(h - c->out.data), " id='", 5)
           : NULL;
    q = id ? memchr(id + 5, '\'', c->out.len - (size_t)(id + 5 - c->out.data))
           : NULL;
    snprintf(input, sizeof(input), "%.*s%s", q ? (int)(q - id - 5) : 0,
             q ? id + 5 : "", FR_SECRET);
    SHA1((const unsigned char *)input, strlen(input), d);
    for (size_t i = 0; i < sizeof(d); i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The segment with "$SMID" and "$HANDSHAKE" filled in; caller frees. */
static void
fr_expand(int k, const uint8_t *data, size_t n, xd_buf *out)
{
    char hs[2 * SHA_DIGEST_LENGTH + 1];

    for (size_t i = 0; i < n;) {
        if (n - i >= 5 && memcmp(data + i, "$SMID", 5) == 0) {
            xd_buf_append_str(out, fr.smid);
            i += 5;
        } else if (n - i >= 10 && memcmp(data + i, "$HANDSHAKE", 10) == 0) {
            fr_handshake_value(k, hs);
            xd_buf_append_str(out, hs);
            i += 10;
        } else {
            xd_buf_append(out, (const char *)data + i, 1);
            i++;
        }
    }
}

static void
fr_write(int k, const uint8_t *data, size_t n)
{
    struct fr_conn *c = &fr.c[k];
    xd_buf seg = XD_BUF_INIT;

    if (c->fd < 0 && c->server_fd < 0)
        fr_conn_open(k);
    if (c->ssl != NULL && !c->tls_up)
        fr_handshake(k);
    if (c->fd < 0)
        return;
    fr_expand(k, data, n, &seg);
    c->before = c->out.len;
    for (size_t off = 0, tries = 0; off < seg.len && c->fd >= 0 && tries < 100;
         tries++) {
        ssize_t w;
        if (c->ssl != NULL) {
            w = SSL_write(c->ssl, seg.data + off, (int)(seg.len - off));
            if (w > 0)
                c->tls_written = 1;
        } else {
            w = send(c->fd, seg.data + off, seg.len - off, 0);
        }
        if (w > 0)
            off += (size_t)w;
        else
            fr_spin(); /* the socket is full: let the router read */
    }
    xd_buf_free(&seg);
    fr_spin();
    for (int j = 0; j < FR_CONNS; j++)
        fr_check(j);
}

/* Ends every connection, then the router, and checks nothing is left. */
static void
fr_router_free(void)
{
    struct router *r = &fr.r;

    for (int k = 0; k < FR_CONNS; k++)
        fr_conn_close(k);
    fr_spin(); /* the router sees every socket end */
    r->stopping = 1;
    c2s_free_all(r);
    comp_links_free_all(r);
    s2s_free_all(r);
    router_free_components(r);
    xd_map_free(r->comp_confs);
    r->comp_confs = NULL;
    auth_limits_free(r);
    conn_limits_free(r);
    xd_map_free(r->sm_resumable);
    xd_map_free(r->registrations);
    xd_map_free(r->archive_modes);
    xd_map_free(r->users);
    xd_map_free(r->sessions);
    xd_map_free(r->comp_links);
    xd_map_free(r->hosts);
    db_batch_free(r);
    xd_db_close(r->db);
    event_base_loop(fr.base, EVLOOP_NONBLOCK);
    if (event_base_get_num_events(fr.base, EVENT_BASE_COUNT_ADDED |
                                               EVENT_BASE_COUNT_ACTIVE) != 0)
        fr_fail("events left behind after the router was freed", 0);
    for (int k = 0; k < FR_CONNS; k++)
        xd_buf_free(&fr.c[k].out);
}

/* Runs one input; bytes before the first segment go to connection first. */
static void
fr_run(const uint8_t *data, size_t size, int first)
{
    int k = first;
    size_t start = 0;

    fr_router_new();
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] < FR_SEG)
            continue;
        if (i > start)
            fr_write(k, data + start, i - start);
        if (i < size && data[i] == FR_CLOSE) {
            fr_conn_close(k);
            fr_spin();
        } else if (i < size && data[i] < FR_SEG + FR_CONNS) {
            k = data[i] - FR_SEG;
        }
        start = i + 1;
    }
    fr_router_free();
}

#endif
