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
 *   xdbench [options] muc        --conns occupants join one room (--room);
 *                                --senders of them send groupchat
 *                                messages: deliveries/s and latency
 *                                measured at every occupant
 *
 * Accounts are PREFIX1..PREFIXn@DOMAIN with one password (--users).
 *
 * Like a real client, it derives the SCRAM keys (PBKDF2) once per salt and
 * iteration count and keeps them (RFC 5802 5.1: a client may cache
 * ClientKey and ServerKey), so that a login costs it a few HMACs, not one
 * PBKDF2: otherwise the generator, not the server, is what `logins`
 * measures. It checks the server's signature before counting a login.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <xmppd/base64.h>
#include <xmppd/ns.h>
#include <xmppd/stanza.h>
#include <xmppd/stream.h>
#include <xmppd/xml_parser.h>

struct bench;

#define SHA1_LEN     20
#define SALT_MAX     128
#define CNONCE_LEN   24
#define ITER_MAX     10000000UL
#define KEYS_MIN_CAP 64
/* muc, the fast receive path: a connection's input buffer, and the longest
 * stanza it can frame. */
#define IN_CAP_MIN  (64 * 1024)
#define IN_CAP_MAX  (1024 * 1024)
#define FRAME_DEPTH 32 /* end tags checked against start tags this deep */

/* SCRAM-SHA-1 keys derived from the password for one salt and count. */
struct scram_keys {
    unsigned char salt[SALT_MAX];
    size_t salt_len;
    unsigned long iterations; /* 0: free slot */
    unsigned char client_key[SHA1_LEN], stored_key[SHA1_LEN],
        server_key[SHA1_LEN];
};

/* One exchange in progress on a connection. */
struct scram_state {
    char *first_bare;   /* n=USER,r=CNONCE */
    char *auth_message; /* set once the server-first arrived */
    unsigned char server_key[SHA1_LEN];
};

enum conn_state { C_CONNECTING, C_AUTH, C_BOUND };

struct conn {
    struct bench *b;
    xd_stream *s;
    int index; /* account number */
    enum conn_state state;
    int authed;
    struct scram_state scram;
    char jid[128];
    int peer; /* index of the connection it sends to */
    int fd;
    int joined; /* muc: got its own presence from the room (status 110) */
    long long *last_seq; /* muc: per sender, the last sequence number got */
    /* muc, the fast receive path (raw_attach): once set up, the socket is
     * read here, through a dup of fd, and the stream only writes. */
    struct event *raw; /* NULL: still received through the stream */
    int raw_fd;
    int raw_dead; /* lost: the event is off and raw_fd closed */
    char *in;     /* bytes read, not yet a complete stanza */
    size_t in_len, in_cap;
};

/* muc: one sender's sequence numbers and, in the closed loop, its messages
 * not yet delivered to every occupant. A message is complete when all `conns`
 * occupants (the sender too: the room reflects it) got it; each receiver gets
 * one sender's messages in order, so they complete in order and the ones in
 * flight are the sequence numbers [done, next): slot seq % window is free again
 * when seq + window is sent. */
struct sender {
    unsigned long long next; /* sequence number of the next message */
    int *left; /* closed loop, window slots: occupants still to get it */
};

struct bench {
    struct event_base *base;
    const char *host, *domain, *prefix, *password, *mode;
    unsigned port;
    int conns, users, duration_s, window; /* users: accounts to cycle */
    double rate; /* messages per second in all; 0: as fast as possible */
    struct sockaddr_storage addr; /* the server's */
    int addrlen;
    int quickack; /* re-arm TCP_QUICKACK after each stanza received */
    long server_pid;
    struct conn *c;
    int bound, closed, logins, lost;
    unsigned long long sent, received;
    double *lat_ms; /* latency samples */
    size_t nlat, caplat;
    struct event *tick, *stop;
    double t_start;
    int running;
    int next_sender;
    int ramp;    /* sessions being set up at once (0: all at once) */
    int started; /* connections started so far (not in `logins`) */
    unsigned long long stray; /* messages received but not counted */
    struct scram_keys *keys;  /* open addressing, a power of two */
    size_t nkeys, capkeys;
    unsigned long derivations;        /* PBKDF2 runs */
    unsigned long iter_min, iter_max; /* iteration counts servers asked */
    /* muc */
    const char *room; /* room@service */
    size_t room_len;
    int senders;        /* connections 0..senders-1 send */
    struct sender *snd; /* one per sender */
    int joined;         /* occupants that have their self-presence */
    int configuring;    /* the creator's instant-room form is pending */
    int created;        /* the room was new (status 201) */
    unsigned nick_tag;  /* nicks of this run, not clashing with old ones */
    int errors_shown;   /* error stanzas printed so far */
    unsigned long long dups, gaps; /* a message got again, or skipped */
    int full_parse;      /* --full-parse: keep receiving through the streams */
    xd_xml_parser *slow; /* fast path: parses what it does not count */
    struct conn *slow_conn;           /* the connection slow's stanza came on */
    int slow_failed;                  /* slow refused its input */
    unsigned long long reads, slow_n; /* fast path: read()s, slow stanzas */
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
die(const char *what)
{
    fprintf(stderr, "xdbench: %s\n", what);
    exit(1);
}

static void
hmac_sha1(const unsigned char *key, const void *data, size_t len,
          unsigned char *out)
{
    unsigned int n = 0;

    if (HMAC(EVP_sha1(), key, SHA1_LEN, data, len, out, &n) == NULL)
        die("HMAC failed");
}

static size_t
keys_slot(const struct bench *b, const unsigned char *salt, size_t len,
          unsigned long iterations)
{
    unsigned long long h = 1469598103934665603ULL ^ iterations; /* FNV-1a */

    for (size_t i = 0; i < len; i++)
        h = (h ^ salt[i]) * 1099511628211ULL;
    size_t i = (size_t)h & (b->capkeys - 1);
    while (b->keys[i].iterations != 0 &&
           !(b->keys[i].iterations == iterations &&
             b->keys[i].salt_len == len &&
             memcmp(b->keys[i].salt, salt, len) == 0))
        i = (i + 1) & (b->capkeys - 1);
    return i;
}

/* The keys for (salt, iterations) and the one password: derived the first
 * time, then from the cache. */
static const struct scram_keys *
keys_get(struct bench *b, const unsigned char *salt, size_t len,
         unsigned long iterations)
{
    unsigned char salted[SHA1_LEN];
    unsigned int n = 0;

    if (b->nkeys * 2 >= b->capkeys) {
        struct scram_keys *old = b->keys;
        size_t oldcap = b->capkeys;
        b->capkeys = oldcap ? oldcap * 2 : KEYS_MIN_CAP;
        b->keys = xd_xcalloc(b->capkeys, sizeof(*b->keys));
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].iterations != 0)
                b->keys[keys_slot(b, old[i].salt, old[i].salt_len,
                                  old[i].iterations)] = old[i];
        free(old);
    }
    struct scram_keys *k = &b->keys[keys_slot(b, salt, len, iterations)];
    if (k->iterations != 0)
        return k;
    if (PKCS5_PBKDF2_HMAC(b->password, (int)strlen(b->password), salt, (int)len,
                          (int)iterations, EVP_sha1(), SHA1_LEN, salted) != 1)
        die("PBKDF2 failed");
    hmac_sha1(salted, "Client Key", 10, k->client_key);
    hmac_sha1(salted, "Server Key", 10, k->server_key);
    if (EVP_Digest(k->client_key, SHA1_LEN, k->stored_key, &n, EVP_sha1(),
                   NULL) != 1)
        die("SHA-1 failed");
    OPENSSL_cleanse(salted, sizeof(salted));
    memcpy(k->salt, salt, len);
    k->salt_len = len;
    k->iterations = iterations;
    b->nkeys++;
    b->derivations++;
    return k;
}

static void
scram_reset(struct scram_state *sc)
{
    free(sc->first_bare);
    free(sc->auth_message);
    memset(sc, 0, sizeof(*sc));
}

static void
send_auth(struct conn *c)
{
    char user[64], nonce[CNONCE_LEN + 1];

    snprintf(user, sizeof(user), "%s%d", c->b->prefix,
             c->index % c->b->users + 1);
    if (strpbrk(user, ",=") != NULL)
        die("--prefix must not contain ',' or '='");
    xd_random_id(nonce, CNONCE_LEN);
    nonce[CNONCE_LEN] = '\0';
    scram_reset(&c->scram);
    c->scram.first_bare = xd_xasprintf("n=%s,r=%s", user, nonce);
    char *first = xd_xasprintf("n,,%s", c->scram.first_bare);
    char *b64 = xd_base64_encode(first, strlen(first));
    char *xml = xd_xasprintf("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                             "mechanism='SCRAM-SHA-1'>%s</auth>",
                             b64);
    xd_stream_send_raw(c->s, xml, strlen(xml));
    free(xml);
    free(b64);
    free(first);
}

/* server-first-message: r=NONCE,s=SALT,i=COUNT. The nonce must extend ours.
 * Returns the client-final-message (caller frees), or NULL. */
static char *
scram_final(struct bench *b, struct scram_state *sc, const char *msg)
{
    const char *cnonce, *r = NULL, *s = NULL, *i = NULL;
    size_t rlen = 0, slen = 0;
    unsigned char *salt = NULL, sig[SHA1_LEN], proof[SHA1_LEN];
    size_t salt_len = 0;

    if (sc->first_bare == NULL || sc->auth_message != NULL)
        return NULL; /* a challenge we did not ask for */
    cnonce = strstr(sc->first_bare, ",r=") + 3;
    for (const char *p = msg; p != NULL && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len >= 2 && p[1] == '=') {
            if (p[0] == 'r') {
                r = p + 2;
                rlen = len - 2;
            } else if (p[0] == 's') {
                s = p + 2;
                slen = len - 2;
            } else if (p[0] == 'i') {
                i = p + 2;
            } else if (p[0] == 'm') {
                return NULL; /* mandatory extension we do not know */
            }
        }
        p = end ? end + 1 : NULL;
    }
    if (r == NULL || s == NULL || i == NULL || rlen <= strlen(cnonce) ||
        strncmp(r, cnonce, strlen(cnonce)) != 0)
        return NULL;
    char *endp = NULL;
    unsigned long iterations = strtoul(i, &endp, 10);
    if (iterations < 1 || iterations > ITER_MAX ||
        (*endp != ',' && *endp != '\0') ||
        xd_base64_decode(s, slen, &salt, &salt_len) != 0 || salt_len == 0 ||
        salt_len > SALT_MAX) {
        free(salt);
        return NULL;
    }
    const struct scram_keys *k = keys_get(b, salt, salt_len, iterations);
    free(salt);
    if (b->iter_min == 0 || iterations < b->iter_min)
        b->iter_min = iterations;
    if (iterations > b->iter_max)
        b->iter_max = iterations;

    char *without_proof = xd_xasprintf("c=biws,r=%.*s", (int)rlen, r);
    sc->auth_message =
        xd_xasprintf("%s,%s,%s", sc->first_bare, msg, without_proof);
    hmac_sha1(k->stored_key, sc->auth_message, strlen(sc->auth_message), sig);
    for (size_t j = 0; j < SHA1_LEN; j++)
        proof[j] = k->client_key[j] ^ sig[j];
    memcpy(sc->server_key, k->server_key, SHA1_LEN);
    char *p64 = xd_base64_encode(proof, SHA1_LEN);
    char *final = xd_xasprintf("%s,p=%s", without_proof, p64);
    free(p64);
    free(without_proof);
    return final;
}

/* server-final-message: v=BASE64(HMAC(ServerKey, AuthMessage)). */
static int
scram_verify(const struct scram_state *sc, const char *msg)
{
    unsigned char sig[SHA1_LEN];

    if (sc->auth_message == NULL || strncmp(msg, "v=", 2) != 0)
        return -1;
    hmac_sha1(sc->server_key, sc->auth_message, strlen(sc->auth_message), sig);
    char *want = xd_base64_encode(sig, SHA1_LEN);
    size_t wl = strlen(want);
    int ok = strncmp(msg + 2, want, wl) == 0 &&
             (msg[2 + wl] == '\0' || msg[2 + wl] == ',');
    free(want);
    return ok ? 0 : -1;
}

/* Decodes the base64 text of a SASL element; NUL-terminated, caller frees.
 * An empty element (or "=") gives "". */
static char *
sasl_payload(const xd_elem *e)
{
    const char *text = xd_elem_text(e);
    unsigned char *msg = NULL;
    size_t len = 0;

    if (text == NULL || *text == '\0' || strcmp(text, "=") == 0)
        return xd_xstrdup("");
    if (xd_base64_decode(text, strlen(text), &msg, &len) != 0 ||
        memchr(msg, '\0', len) != NULL) {
        free(msg);
        return NULL;
    }
    return (char *)msg;
}

static void
send_sasl_response(struct conn *c, const xd_elem *challenge)
{
    char *msg = sasl_payload(challenge);
    char *final = msg ? scram_final(c->b, &c->scram, msg) : NULL;

    if (final == NULL)
        die("bad SCRAM challenge");
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

/* muc: a groupchat message to the room; the body is "TIME SENDER SEQ". */
static void
send_groupchat(struct bench *b, int sender)
{
    char body[96];
    unsigned long long seq = 0;

    if (b->c[sender].s == NULL)
        return; /* its connection is gone (reported) */
    if (b->snd != NULL) {
        struct sender *sd = &b->snd[sender];
        seq = sd->next++;
        if (b->rate == 0)
            sd->left[seq % (unsigned)b->window] = b->conns;
    }
    snprintf(body, sizeof(body), "%.9f %d %llu", now_s(), sender, seq);
    char *xml = xd_xasprintf("<message to='%s' type='groupchat'><body>%s"
                             "</body></message>",
                             b->room, body);
    xd_stream_send_raw(b->c[sender].s, xml, strlen(xml));
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

/* Outside `logins`: opens the next connections, keeping at most `ramp`
 * being set up at once, as clients arrive in life: thousands of
 * simultaneous connects would overflow a server's listen backlog and
 * measure SYN retransmissions instead. */
static void
start_more(struct bench *b)
{
    while (b->started < b->conns &&
           (b->ramp <= 0 || b->started - b->bound - b->closed < b->ramp)) {
        conn_start(b, &b->c[b->started], b->started);
        b->started++;
    }
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
    } else {
        start_more(b);
    }
}

/* muc: an error from the server, shown for the first few. */
static void
show_error(struct bench *b, const struct conn *c, const xd_stanza *st)
{
    if (b->errors_shown++ < 5) {
        const char *cond = xd_stanza_error_condition(st);
        fprintf(stderr, "xdbench: %s: %s error from %s: %s%s\n", c->jid,
                xd_elem_name(xd_stanza_root(st)),
                xd_stanza_from(st) ? xd_stanza_from(st) : "the server",
                cond ? cond : "?",
                b->errors_shown == 5 ? " (no more of these are shown)" : "");
    }
}

/* muc: the resource of a JID of the room (room@service/NICK), or NULL. */
static const char *
room_nick(const struct bench *b, const char *from)
{
    if (from == NULL || strncmp(from, b->room, b->room_len) != 0 ||
        from[b->room_len] != '/')
        return NULL;
    return from + b->room_len + 1;
}

static int
has_status(const xd_elem *x, const char *code)
{
    for (const xd_elem *e = x ? xd_elem_child(x, "status", NULL) : NULL;
         e != NULL; e = xd_elem_next_match(e, "status", NULL)) {
        const char *v = xd_elem_attr(e, "code");
        if (v != NULL && strcmp(v, code) == 0)
            return 1;
    }
    return 0;
}

/* muc: asks to join the room as nick N.TAG, without history. */
static void
muc_join(struct bench *b, struct conn *c)
{
    char *xml = xd_xasprintf(
        "<presence to='%s/%d.%x'><x xmlns='http://jabber.org/protocol/muc'>"
        "<history maxstanzas='0'/></x></presence>",
        b->room, c->index, b->nick_tag);
    xd_stream_send_raw(c->s, xml, strlen(xml));
    free(xml);
}

/* muc: counts a message that is not a delivery, and shows the first few. */
static void
muc_stray(struct bench *b, const char *from, const char *why, const char *body)
{
    if (b->stray++ < 3)
        fprintf(stderr, "xdbench: stray message from %s: %s (body \"%.40s\")\n",
                from ? from : "?", why, body ? body : "");
}

/* muc: a groupchat message from an occupant, "TIME SENDER SEQ". */
static void
muc_delivery(struct bench *b, struct conn *c, const char *from,
             const char *body)
{
    char *end = NULL;
    double t = strtod(body, &end);
    long sender = end && *end == ' ' ? strtol(end + 1, &end, 10) : -1;
    unsigned long long seq =
        end && *end == ' ' ? strtoull(end + 1, &end, 10) : 0;

    if (t <= 0 || sender < 0 || sender >= b->senders || *end != '\0') {
        muc_stray(b, from, "not a body of ours", body);
        return;
    }
    if (!b->running)
        return;
    /* Each occupant gets one sender's messages in order, each once. */
    if (c->last_seq == NULL) {
        c->last_seq = xd_xcalloc((size_t)b->senders, sizeof(long long));
        for (int i = 0; i < b->senders; i++)
            c->last_seq[i] = -1;
    }
    if ((long long)seq <= c->last_seq[sender]) {
        if (b->dups++ < 3)
            fprintf(stderr, "xdbench: %s got %s's message %llu again\n", c->jid,
                    from, seq);
        return;
    }
    if ((long long)seq > c->last_seq[sender] + 1)
        b->gaps++;
    c->last_seq[sender] = (long long)seq;
    b->received++;
    record_latency(b, body);
    if (b->rate > 0)
        return; /* open loop */
    struct sender *sd = &b->snd[sender];
    if (seq >= sd->next || seq + (unsigned)b->window < sd->next) {
        muc_stray(b, from, "not in flight (twice?)", body);
        return;
    }
    if (--sd->left[seq % (unsigned)b->window] == 0)
        send_groupchat(b, (int)sender); /* complete: the next one */
}

/* muc: what the room sends; 1 if the stanza was one of those. */
static int
muc_stanza(struct conn *c, const xd_stanza *st)
{
    struct bench *b = c->b;
    const char *from = xd_stanza_from(st), *type = xd_stanza_type(st);
    const char *nick = room_nick(b, from);
    xd_stanza_kind kind = xd_stanza_kind_of(st);

    if (kind == XD_STANZA_PRESENCE) {
        if (nick == NULL && (from == NULL || strcmp(from, b->room) != 0))
            return 0;
        if (type != NULL && strcmp(type, "error") == 0) {
            show_error(b, c, st);
            if (!c->joined) {
                fprintf(stderr, "xdbench: %s could not join %s\n", c->jid,
                        b->room);
                exit(1);
            }
            return 1;
        }
        const xd_elem *x = xd_elem_child(xd_stanza_root(st), "x",
                                         "http://jabber.org/protocol/muc#user");
        if (!c->joined && nick != NULL && has_status(x, "110") &&
            (type == NULL || strcmp(type, "unavailable") != 0)) {
            c->joined = 1;
            b->joined++;
            if (has_status(x, "201")) {
                /* A new room, locked until configured: an instant room. */
                b->created = 1;
                b->configuring = 1;
                char *xml = xd_xasprintf(
                    "<iq type='set' to='%s' id='muc-config'><query xmlns="
                    "'http://jabber.org/protocol/muc#owner'><x xmlns="
                    "'jabber:x:data' type='submit'/></query></iq>",
                    b->room);
                xd_stream_send_raw(c->s, xml, strlen(xml));
                free(xml);
            }
        } else if (c->joined && nick != NULL && has_status(x, "110") &&
                   type != NULL && strcmp(type, "unavailable") == 0) {
            fprintf(stderr, "xdbench: %s was removed from %s\n", c->jid,
                    b->room);
            c->joined = 0;
            b->joined--;
        }
        return 1; /* the other occupants' presence */
    }
    if (kind == XD_STANZA_IQ) {
        const char *id = xd_stanza_id(st);
        if (id == NULL || strcmp(id, "muc-config") != 0)
            return 1; /* nothing else is asked: ignore */
        if (type == NULL || strcmp(type, "result") != 0) {
            show_error(b, c, st);
            fprintf(stderr, "xdbench: %s: the room configuration failed\n",
                    b->room);
            exit(1);
        }
        b->configuring = 0;
        return 1;
    }
    if (kind != XD_STANZA_MESSAGE)
        return 0;
    if (xd_stanza_is_error(st)) {
        show_error(b, c, st);
        b->stray++;
        return 1;
    }
    const char *body = xd_stanza_child_text(st, "body", XD_NS_CLIENT);
    if (from != NULL && strcmp(from, b->room) == 0)
        return 1; /* a notice of the room itself (status codes) */
    if (nick == NULL) {
        muc_stray(b, from, "not from the room", body);
        return 1;
    }
    if (body == NULL)
        return 1; /* the subject, a chat state */
    if (type == NULL || strcmp(type, "groupchat") != 0) {
        muc_stray(b, from, "not groupchat", body);
        return 1;
    }
    muc_delivery(b, c, from, body);
    return 1;
}

static void
on_stanza(xd_stream *s, xd_stanza *st, void *arg)
{
    struct conn *c = arg;
    struct bench *b = c->b;
    const xd_elem *root = xd_stanza_root(st);
    const char *name = xd_elem_name(root);

    if (b->quickack) {
        /* Linux clears it by itself: set it again after each read. */
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }

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
        char *v = sasl_payload(root);
        if (v == NULL || scram_verify(&c->scram, v) != 0) {
            fprintf(stderr, "xdbench: %s: bad server signature\n", c->jid);
            exit(1);
        }
        free(v);
        scram_reset(&c->scram);
        c->authed = 1;
        xd_stream_restart(s);
        xd_stream_open(s, b->domain, NULL, NULL, "1.0");
    } else if (strcmp(name, "failure") == 0) {
        fprintf(stderr, "xdbench: %s: authentication failed\n", c->jid);
        exit(1);
    } else if (xd_stanza_kind_of(st) == XD_STANZA_IQ && c->state != C_BOUND) {
        const char *type = xd_stanza_type(st), *id = xd_stanza_id(st);
        if (type == NULL || strcmp(type, "result") != 0 || id == NULL ||
            strcmp(id, "bind") != 0) {
            fprintf(stderr, "xdbench: %s: resource binding failed\n", c->jid);
            exit(1);
        }
        on_bound(c);
    } else if (b->room != NULL && muc_stanza(c, st)) {
        /* handled */
    } else if (xd_stanza_kind_of(st) == XD_STANZA_MESSAGE) {
        const char *body = xd_stanza_child_text(st, "body", XD_NS_CLIENT);
        const char *from = xd_stanza_from(st);
        /* Only a chat message from the partner counts: not an error
         * bounce (it carries the body back), not a server notice. */
        if (b->room != NULL || body == NULL || xd_stanza_is_error(st) ||
            from == NULL || strcmp(from, b->c[c->peer].jid) != 0) {
            b->stray++;
        } else if (b->running) {
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

    if (c->raw != NULL && !c->raw_dead) {
        /* It ended while the fast path read it (a write failed). */
        c->raw_dead = 1;
        event_del(c->raw);
        close(c->raw_fd);
    }
    xd_stream_free(s);
    c->s = NULL;
    scram_reset(&c->scram);
    if (strcmp(b->mode, "logins") == 0 && b->running) {
        conn_start(b, c, c->index); /* the next login */
        return;
    }
    if (b->running && why != XD_STREAM_END_CLOSED && b->lost++ < 10)
        fprintf(stderr, "xdbench: %s: connection lost (%s)%s\n", c->jid,
                cond ? cond : "no stream error",
                b->lost == 10 ? " (no more of these are shown)" : "");
    b->closed++;
    if (c->state != C_BOUND && b->running)
        start_more(b); /* lost while being set up: keep the ramp going */
}

/*
 * muc, the fast receive path. Parsing every delivery through the stream
 * (a bufferevent read, expat, an element tree) costs the generator more
 * than the server spends sending it, so once every occupant has joined,
 * raw_attach takes each connection off its stream: its socket is read with
 * read() into a buffer of its own, and frame_stanza finds each top-level
 * element in it by scanning its tags. A groupchat message from an occupant
 * with one plain <body> is counted from the bytes (muc_delivery, as on the
 * stream); anything else goes through a full XML parser (slow_feed) to
 * on_stanza, as it would have on the stream. The stream stays for writing.
 */

/* One tag as frame_stanza sees it. */
struct tag {
    const char *name, *from, *type;
    size_t name_len, from_len, type_len;
    const char *end; /* past its '>' */
    int close;       /* </name> */
    int empty;       /* <name/> */
    int nattrs;
    int xmlns; /* declares a namespace (xmlns or xmlns:*) */
    int odd;   /* a prefix, an entity or a repeated from/type */
};

static int
is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int
is_name_end(char ch)
{
    return is_ws(ch) || ch == '/' || ch == '>' || ch == '=';
}

static int
span_is(const char *p, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(p, lit, len) == 0;
}

/* Scans the tag at p (a '<'): 1 when complete, 0 when it runs past end,
 * -1 when it is nothing we can scan (a comment, a PI, CDATA, bad syntax). */
static int
scan_tag(const char *p, const char *end, struct tag *t)
{
    memset(t, 0, sizeof(*t));
    if (++p >= end)
        return 0;
    if (*p == '/') {
        t->close = 1;
        p++;
    } else if (*p == '!' || *p == '?') {
        return -1;
    }
    t->name = p;
    while (p < end && !is_name_end(*p))
        p++;
    if (p >= end)
        return 0;
    t->name_len = (size_t)(p - t->name);
    if (t->name_len == 0)
        return -1;
    if (memchr(t->name, ':', t->name_len) != NULL)
        t->odd = 1;
    for (;;) {
        while (p < end && is_ws(*p))
            p++;
        if (p >= end)
            return 0;
        if (*p == '>') {
            t->end = p + 1;
            return 1;
        }
        if (t->close)
            return -1;
        if (*p == '/') {
            if (p + 1 >= end)
                return 0;
            if (p[1] != '>')
                return -1;
            t->empty = 1;
            t->end = p + 2;
            return 1;
        }
        const char *an = p;
        while (p < end && !is_name_end(*p))
            p++;
        size_t al = (size_t)(p - an);
        while (p < end && is_ws(*p))
            p++;
        if (p >= end)
            return 0;
        if (al == 0 || *p != '=')
            return -1;
        p++;
        while (p < end && is_ws(*p))
            p++;
        if (p >= end)
            return 0;
        if (*p != '\'' && *p != '"')
            return -1;
        const char *v = p + 1;
        const char *q = memchr(v, *p, (size_t)(end - v));
        if (q == NULL)
            return 0;
        size_t vl = (size_t)(q - v);
        if (memchr(v, '<', vl) != NULL)
            return -1;
        if (memchr(v, '&', vl) != NULL)
            t->odd = 1;
        t->nattrs++;
        if (al >= 5 && memcmp(an, "xmlns", 5) == 0 &&
            (al == 5 || an[5] == ':')) {
            t->xmlns = 1;
        } else if (memchr(an, ':', al) != NULL) {
            if (!(al > 4 && memcmp(an, "xml:", 4) == 0))
                t->odd = 1;
        } else if (span_is(an, al, "from")) {
            t->odd |= t->from != NULL;
            t->from = v;
            t->from_len = vl;
        } else if (span_is(an, al, "type")) {
            t->odd |= t->type != NULL;
            t->type = v;
            t->type_len = vl;
        }
        p = q + 1;
        if (p < end && !is_ws(*p) && *p != '>' && *p != '/')
            return -1; /* attributes must be apart */
    }
}

/* One top-level element found in a buffer. */
struct frame {
    size_t len;       /* bytes up to its end */
    int stream_end;   /* it was an end tag: </stream:stream> */
    int fast;         /* a delivery to count from the bytes: */
    const char *from; /* its from */
    const char *body; /* the text of its <body> */
    size_t from_len, body_len;
};

/* Frames the element at p (a '<'): 1 with *f filled, 0 when it is not all
 * there yet, -1 when it cannot be framed. It is `fast` when it is a
 * <message type='groupchat'> without a namespace of its own, from
 * ROOM/NICK, with exactly one direct child <body> (no attributes, only
 * text, no entities) and nothing odd anywhere (prefixes, entities,
 * mismatched end tags): then on_stanza would take the same from and body
 * to muc_delivery. */
static int
frame_stanza(const struct bench *b, const char *p, const char *end,
             struct frame *f)
{
    const char *names[FRAME_DEPTH];
    size_t lens[FRAME_DEPTH];
    const char *start = p, *body = NULL;
    struct tag t, root;
    int depth = 0, odd = 0, bodies = 0, in_body = 0;
    size_t body_len = 0;

    memset(f, 0, sizeof(*f));
    memset(&root, 0, sizeof(root));
    for (;;) {
        int rc = scan_tag(p, end, &t);
        if (rc <= 0)
            return rc;
        odd |= t.odd;
        if (t.close) {
            if (depth == 0) {
                f->stream_end = 1;
                f->len = (size_t)(t.end - start);
                return 1;
            }
            depth--;
            if (depth < FRAME_DEPTH &&
                (t.name_len != lens[depth] ||
                 memcmp(t.name, names[depth], t.name_len) != 0))
                odd = 1;
            if (depth == 1 && in_body) {
                body_len = (size_t)(p - body);
                in_body = 0;
            }
        } else {
            if (depth == 0) {
                root = t;
            } else if (depth == 1 && span_is(t.name, t.name_len, "body")) {
                bodies++;
                if (t.nattrs > 0 || t.empty)
                    odd = 1;
                body = t.end;
                in_body = !t.empty;
            } else if (in_body) {
                odd = 1; /* an element inside the body */
            }
            if (!t.empty) {
                if (depth < FRAME_DEPTH) {
                    names[depth] = t.name;
                    lens[depth] = t.name_len;
                } else {
                    odd = 1; /* the parser's depth limit is 32 */
                }
                depth++;
            }
        }
        if (depth == 0)
            break;
        /* The text up to the next tag. */
        p = t.end;
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (lt == NULL)
            return 0;
        if (memchr(p, '&', (size_t)(lt - p)) != NULL)
            odd = 1;
        p = lt;
    }
    f->len = (size_t)(t.end - start);
    f->fast = !odd && bodies == 1 && body_len > 0 &&
              span_is(root.name, root.name_len, "message") && !root.xmlns &&
              root.type != NULL &&
              span_is(root.type, root.type_len, "groupchat") &&
              root.from != NULL && root.from_len > b->room_len &&
              memcmp(root.from, b->room, b->room_len) == 0 &&
              root.from[b->room_len] == '/';
    f->from = root.from;
    f->from_len = root.from_len;
    f->body = body;
    f->body_len = body_len;
    return 1;
}

/* The fast path's connection is over: reported as the stream would. */
static void
raw_lost(struct conn *c, const char *why)
{
    struct bench *b = c->b;

    if (c->raw_dead)
        return;
    c->raw_dead = 1;
    event_del(c->raw);
    close(c->raw_fd);
    xd_stream_free(c->s);
    c->s = NULL;
    if (b->running && b->lost++ < 10)
        fprintf(stderr, "xdbench: %s: connection lost (%s)%s\n", c->jid, why,
                b->lost == 10 ? " (no more of these are shown)" : "");
    b->closed++;
}

static void
slow_open(void *arg, const xd_elem *header)
{
    (void)arg;
    (void)header;
}

static void
slow_stanza(void *arg, xd_stanza *st)
{
    struct bench *b = arg;
    struct conn *c = b->slow_conn;
    const xd_elem *root = xd_stanza_root(st);

    if (xd_elem_is(root, "error", XD_NS_STREAMS)) {
        const xd_elem *cond = xd_elem_first(root);
        char why[96];
        snprintf(why, sizeof(why), "stream error %s",
                 cond ? xd_elem_name(cond) : "?");
        xd_stanza_unref(st);
        raw_lost(c, why);
        return;
    }
    if (b->running)
        b->slow_n++;
    on_stanza(c->s, st, c);
}

static void
slow_close(void *arg)
{
    (void)arg;
}

static void
slow_error(void *arg, const char *condition, const char *text)
{
    struct bench *b = arg;

    b->slow_failed = 1;
    if (b->errors_shown++ < 5)
        fprintf(stderr, "xdbench: %s: a stanza the parser refused: %s (%s)\n",
                b->slow_conn->jid, condition, text ? text : "");
}

static const xd_xml_callbacks slow_callbacks = {
    slow_open,
    slow_stanza,
    slow_close,
    slow_error,
};

/* A parser in a stream of jabber:client, as the server's stream is. */
static void
slow_new(struct bench *b)
{
    static const char header[] =
        "<stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    xd_xml_parser_free(b->slow);
    b->slow = xd_xml_parser_new(NULL, &slow_callbacks, b);
    b->slow_failed = 0;
    if (b->slow == NULL ||
        xd_xml_parser_feed(b->slow, header, sizeof(header) - 1) != 0)
        die("cannot set up an XML parser");
}

/* One framed element through the full parser and on_stanza. */
static void
slow_feed(struct conn *c, const char *p, size_t len)
{
    struct bench *b = c->b;

    b->slow_conn = c;
    if (xd_xml_parser_feed(b->slow, p, len) != 0 || b->slow_failed) {
        b->stray++; /* counted as the stream could not have */
        slow_new(b);
    }
}

/* Handles the complete elements in c->in, keeps what is left. -1 when the
 * connection is gone. */
static int
raw_scan(struct conn *c)
{
    struct bench *b = c->b;
    size_t off = 0;

    while (off < c->in_len) {
        const char *p = c->in + off, *end = c->in + c->in_len;
        while (p < end && is_ws(*p))
            p++; /* whitespace keepalives */
        off = (size_t)(p - c->in);
        if (p == end)
            break;
        struct frame f;
        int rc = *p == '<' ? frame_stanza(b, p, end, &f) : -1;
        if (rc == 0)
            break;
        if (rc < 0) {
            b->stray++;
            fprintf(stderr, "xdbench: %s: cannot frame \"%.60s\"\n", c->jid, p);
            raw_lost(c, "input xdbench cannot frame");
            return -1;
        }
        if (f.stream_end) {
            raw_lost(c, "the server closed the stream");
            return -1;
        }
        if (f.fast && f.from_len < 256 && f.body_len < 128) {
            char from[256], body[128];
            memcpy(from, f.from, f.from_len);
            from[f.from_len] = '\0';
            memcpy(body, f.body, f.body_len);
            body[f.body_len] = '\0';
            muc_delivery(b, c, from, body);
        } else {
            slow_feed(c, p, f.len);
        }
        if (c->raw_dead)
            return -1;
        off += f.len;
    }
    c->in_len -= off;
    memmove(c->in, c->in + off, c->in_len);
    return 0;
}

static void
raw_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    struct bench *b = c->b;

    (void)what;
    while (!c->raw_dead) {
        if (c->in_len == c->in_cap) {
            if (c->in_cap >= IN_CAP_MAX) {
                b->stray++;
                fprintf(stderr, "xdbench: %s: a stanza over %d bytes\n", c->jid,
                        IN_CAP_MAX);
                raw_lost(c, "a stanza too long to frame");
                return;
            }
            c->in_cap *= 2;
            c->in = xd_xrealloc(c->in, c->in_cap);
        }
        size_t room = c->in_cap - c->in_len;
        ssize_t n = read(fd, c->in + c->in_len, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            raw_lost(c, n == 0 ? "the server closed the connection"
                               : strerror(errno));
            return;
        }
        b->reads++;
        if (b->quickack) {
            /* Linux clears it by itself: set it again after each read. */
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        }
        c->in_len += (size_t)n;
        if (raw_scan(c) != 0 || (size_t)n < room)
            return; /* read all there was: the next event tells */
    }
}

/* Moves a joined connection to the fast path, if its stream is idle
 * (nothing read and not yet parsed, not in the middle of a stanza); 1 when
 * done, 0 to try again later. */
static int
raw_attach(struct bench *b, struct conn *c)
{
    if (c->raw != NULL || c->s == NULL)
        return 1;
    if (!xd_stream_compact(c->s))
        return 0;
    xd_stream_pause(c->s); /* it still writes */
    c->raw_fd = dup(c->fd);
    if (c->raw_fd < 0)
        die("dup failed");
    c->in_cap = IN_CAP_MIN;
    c->in = xd_xmalloc(c->in_cap);
    c->raw =
        event_new(b->base, c->raw_fd, EV_READ | EV_PERSIST, raw_read_cb, c);
    if (c->raw == NULL || event_add(c->raw, NULL) != 0)
        die("cannot watch a socket");
    return 1;
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

/* Connects with TCP_NODELAY, as XMPP clients do: with Nagle's algorithm a
 * small stanza can wait for the peer's delayed ACK (tens of ms), which
 * would be the generator's latency, not the server's. */
static void
conn_start(struct bench *b, struct conn *c, int index)
{
    xd_stream_opts opts = { .content_ns = XD_NS_CLIENT,
                            .out_high_water = 64 << 20 };
    struct timeval connect_timeout = { 30, 0 };
    int one = 1;

    xd_xml_limits_default(&opts.limits);
    memset(c, 0, sizeof(*c));
    c->b = b;
    c->index = index;
    c->peer = index ^ 1;
    if (b->room != NULL)
        /* muc: resources of this run only, so that room messages still
         * on their way to the sessions of a previous run (same accounts)
         * do not reach these. */
        snprintf(c->jid, sizeof(c->jid), "%s%d@%s/b%d.%x", b->prefix,
                 index % b->users + 1, b->domain, index, b->nick_tag);
    else
        snprintf(c->jid, sizeof(c->jid), "%s%d@%s/b%d", b->prefix,
                 index % b->users + 1, b->domain, index);
    struct bufferevent *bev =
        bufferevent_socket_new(b->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        die("out of memory");
    /* The stream clears the timeouts once connected. */
    bufferevent_set_timeouts(bev, &connect_timeout, &connect_timeout);
    c->s = xd_stream_new(bev, &opts, &callbacks, c);
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&b->addr,
                                   b->addrlen) != 0 ||
        (c->fd = bufferevent_getfd(bev)) < 0 ||
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
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
        if (b->room != NULL) {
            send_groupchat(b, b->next_sender);
            b->next_sender = (b->next_sender + 1) % b->senders;
        } else {
            send_message(b, &b->c[b->next_sender]);
            b->next_sender = (b->next_sender + 2) % b->conns;
        }
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

/* " scram_i=N" (or N-M if the server used several counts). */
static void
print_scram(const struct bench *b)
{
    printf(" pbkdf2=%lu scram_i=%lu", b->derivations, b->iter_min);
    if (b->iter_max != b->iter_min)
        printf("-%lu", b->iter_max);
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: xdbench [--host H] [--port P] [--domain D] [--prefix U]\n"
            "               [--password PW] [--conns N] [--duration S]\n"
            "               [--rate MSG_PER_S] [--window W] [--pid PID]\n"
            "               [--users N (accounts to cycle; default conns)]\n"
            "               [--ramp N (sessions set up at once; default 100,\n"
            "                0: all)] [--quickack]\n"
            "               [--room ROOM@SERVICE] [--senders N (default 5)]\n"
            "               [--full-parse (muc: receive through the streams)]\n"
            "               messages|logins|idle|muc\n");
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
        { "quickack", no_argument, NULL, 'Q' },
        { "ramp", required_argument, NULL, 'R' },
        { "room", required_argument, NULL, 'M' },
        { "senders", required_argument, NULL, 'S' },
        { "full-parse", no_argument, NULL, 'F' },
        { NULL, 0, NULL, 0 },
    };
    struct bench b = { .host = "127.0.0.1",
                       .port = 5222,
                       .domain = "localhost",
                       .prefix = "user",
                       .password = "bench",
                       .conns = 100,
                       .duration_s = 10,
                       .window = 10,
                       .ramp = 100,
                       .senders = 5 };
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
        case 'Q':
            b.quickack = 1;
            break;
        case 'R':
            b.ramp = atoi(optarg);
            break;
        case 'M':
            b.room = optarg;
            break;
        case 'S':
            b.senders = atoi(optarg);
            break;
        case 'F':
            b.full_parse = 1;
            break;
        default:
            usage();
        }
    }
    if (b.users <= 0)
        b.users = b.conns;
    if (optind != argc - 1 || b.conns < 2)
        usage();
    b.mode = argv[optind];
    int muc = strcmp(b.mode, "muc") == 0;
    if (strcmp(b.mode, "messages") != 0 && strcmp(b.mode, "logins") != 0 &&
        strcmp(b.mode, "idle") != 0 && !muc)
        usage();
    if (!muc && b.conns % 2 != 0)
        usage(); /* pairs */
    if (muc) {
        if (b.room == NULL || strchr(b.room, '@') == NULL ||
            strchr(b.room, '/') != NULL)
            die("muc needs --room ROOM@SERVICE");
        if (b.senders < 1 || b.senders > b.conns || b.window < 1)
            die("--senders must be 1 to --conns, --window at least 1");
        b.room_len = strlen(b.room);
        b.nick_tag = (unsigned)getpid() & 0xffff;
    } else {
        b.room = NULL;
    }

    char spec[300];
    snprintf(spec, sizeof(spec), strchr(b.host, ':') ? "[%s]:%u" : "%s:%u",
             b.host, b.port);
    b.addrlen = (int)sizeof(b.addr);
    if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&b.addr,
                                   &b.addrlen) != 0)
        die("--host must be a numeric address");
    b.base = event_base_new();
    b.c = xd_xcalloc((size_t)b.conns, sizeof(*b.c));
    long rss_before = b.server_pid ? rss_kib(b.server_pid) : -1;
    b.running = 1;
    double t0 = now_s();
    if (strcmp(b.mode, "logins") == 0) {
        for (int i = 0; i < b.conns; i++)
            conn_start(&b, &b.c[i], i);
    } else {
        start_more(&b);
    }

    if (strcmp(b.mode, "logins") != 0) {
        /* Wait until every session is bound (or gone), in slices so that
         * the time limit holds even when nothing happens any more. */
        while (b.bound < b.conns && b.bound + b.closed < b.conns &&
               now_s() - t0 < 120) {
            struct timeval slice = { 0, 100000 };
            event_base_loopexit(b.base, &slice);
            event_base_dispatch(b.base);
        }
        if (b.bound < b.conns) {
            fprintf(stderr, "xdbench: only %d of %d sessions bound\n", b.bound,
                    b.conns);
            return 1;
        }
    }
    if (strcmp(b.mode, "idle") == 0) {
        /* Held for --duration: servers that shrink quiet connections
         * (xmppd after 10 s) are measured as they stay. */
        struct timeval settle = { b.duration_s, 0 };
        double bind_s = now_s() - t0;
        event_base_loopexit(b.base, &settle);
        event_base_dispatch(b.base);
        long rss_after = b.server_pid ? rss_kib(b.server_pid) : -1;
        printf("mode=idle conns=%d bind_s=%.2f", b.conns, bind_s);
        print_scram(&b);
        if (rss_before > 0 && rss_after > 0)
            printf(" server_rss_kib_before=%ld after=%ld per_conn_kib=%.1f",
                   rss_before, rss_after,
                   (double)(rss_after - rss_before) / b.conns);
        printf("\n");
        return 0;
    }

    double join_s = 0;
    if (muc) {
        /* The first occupant creates the room (and configures it if the
         * server locked it, status 201) before the others join; then the
         * others, and the load starts once every one has its own presence
         * back. */
        double tj = now_s();
        muc_join(&b, &b.c[0]);
        while ((b.joined < 1 || b.configuring) && now_s() - tj < 60) {
            struct timeval slice = { 0, 10000 };
            event_base_loopexit(b.base, &slice);
            event_base_dispatch(b.base);
        }
        if (b.joined < 1 || b.configuring) {
            fprintf(stderr, "xdbench: could not %s %s\n",
                    b.joined ? "configure" : "join", b.room);
            return 1;
        }
        for (int i = 1; i < b.conns; i++)
            muc_join(&b, &b.c[i]);
        while (b.joined < b.conns && b.closed == 0 && now_s() - tj < 120) {
            struct timeval slice = { 0, 10000 };
            event_base_loopexit(b.base, &slice);
            event_base_dispatch(b.base);
        }
        if (b.joined < b.conns) {
            fprintf(stderr, "xdbench: only %d of %d occupants joined %s\n",
                    b.joined, b.conns, b.room);
            return 1;
        }
        join_s = now_s() - tj;
        /* Let the last presence broadcasts drain before the clock starts. */
        struct timeval drain = { 0, 500000 };
        event_base_loopexit(b.base, &drain);
        event_base_dispatch(b.base);
        if (!b.full_parse) {
            /* The fast receive path, for each connection once its stream
             * is idle (it is, unless a presence is still coming in). */
            slow_new(&b);
            int left = b.conns;
            for (double ta = now_s(); left > 0 && now_s() - ta < 5;) {
                left = 0;
                for (int i = 0; i < b.conns; i++)
                    left += !raw_attach(&b, &b.c[i]);
                if (left > 0) {
                    struct timeval slice = { 0, 10000 };
                    event_base_loopexit(b.base, &slice);
                    event_base_dispatch(b.base);
                }
            }
            if (left > 0)
                fprintf(stderr,
                        "xdbench: %d connections stay on the stream "
                        "(never idle)\n",
                        left);
        }
    }

    if (muc) {
        b.snd = xd_xcalloc((size_t)b.senders, sizeof(*b.snd));
        for (int i = 0; i < b.senders; i++)
            b.snd[i].left = xd_xcalloc((size_t)b.window, sizeof(int));
    }
    double cpu0 = cpu_s();
    b.reads = b.slow_n = 0;
    b.t_start = now_s();
    b.stop = evtimer_new(b.base, stop_cb, &b);
    struct timeval dur = { b.duration_s, 0 };
    evtimer_add(b.stop, &dur);
    if ((strcmp(b.mode, "messages") == 0 || muc) && b.rate > 0) {
        b.tick = event_new(b.base, -1, EV_PERSIST, tick_cb, &b);
        struct timeval ms = { 0, 1000 };
        evtimer_add(b.tick, &ms);
    } else if (strcmp(b.mode, "messages") == 0) {
        /* Closed loop: each sender keeps `window` messages in flight. */
        for (int i = 0; i < b.conns; i += 2)
            for (int w = 0; w < b.window; w++)
                send_message(&b, &b.c[i]);
    } else if (muc) {
        /* Closed loop: each sender keeps `window` messages in flight, a
         * message being in flight until every occupant has it. */
        for (int i = 0; i < b.senders; i++)
            for (int w = 0; w < b.window; w++)
                send_groupchat(&b, i);
    }
    event_base_dispatch(b.base);
    double wall = now_s() - b.t_start, cpu = cpu_s() - cpu0;

    if (strcmp(b.mode, "logins") == 0) {
        printf("mode=logins conns=%d logins=%d per_s=%.0f", b.conns, b.logins,
               b.logins / wall);
        print_scram(&b);
        printf(" bench_cpu=%.0f%%\n", 100.0 * cpu / wall);
        return 0;
    }
    qsort(b.lat_ms, b.nlat, sizeof(double), by_double);
    if (muc) {
        printf("mode=muc conns=%d senders=%d", b.conns, b.senders);
        if (b.rate > 0)
            printf(" rate=%.0f", b.rate);
        else
            printf(" rate=max window=%d", b.window);
        printf(" created=%d join_s=%.2f sent=%llu deliveries=%llu "
               "stray=%llu dups=%llu gaps=%llu per_s=%.0f msgs_per_s=%.0f "
               "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f bench_cpu=%.0f%%",
               b.created, join_s, b.sent, b.received, b.stray, b.dups, b.gaps,
               b.received / wall, b.received / wall / b.conns, pct(&b, 50),
               pct(&b, 90), pct(&b, 99), 100.0 * cpu / wall);
        if (b.full_parse)
            printf(" recv=stream\n");
        else
            printf(" recv=fast reads=%llu slow=%llu\n", b.reads, b.slow_n);
        return 0;
    }
    if (b.rate > 0)
        printf("mode=messages conns=%d rate=%.0f", b.conns, b.rate);
    else
        printf("mode=messages conns=%d rate=max window=%d", b.conns, b.window);
    printf(" sent=%llu received=%llu stray=%llu per_s=%.0f p50_ms=%.3f "
           "p90_ms=%.3f p99_ms=%.3f bench_cpu=%.0f%%\n",
           b.sent, b.received, b.stray, b.received / wall, pct(&b, 50),
           pct(&b, 90), pct(&b, 99), 100.0 * cpu / wall);
    return 0;
}
