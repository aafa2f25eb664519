/*
 * libFuzzer target for the connecting side of XEP-0114 in the framework
 * (framework/src/component.c, with the iq tracker, disco and ad-hoc
 * commands it answers with): the input is what a router says to a
 * component.
 *
 * A component "comp.example" with a message handler, an iq handler, disco
 * items and a two-stage ad-hoc command connects to a listening socket of
 * ours; the input is written to it from our end. The byte 0xFF splits the
 * input into segments, each written at once and followed by loop turns
 * until the component is quiet; 0xFE closes our end. Once the link is up
 * the component has an iq request out; "$IQID" in a segment stands for the
 * id of the last iq request the component sent, "$SESSION" for the last
 * ad-hoc command session it opened. The component must call
 * its iq callback at most once per request and leave no event behind when
 * freed. XD_FUZZ_LOG=debug shows the component's log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include <xmppd/buf.h>
#include <xmppd/command.h>
#include <xmppd/component.h>
#include <xmppd/config.h>
#include <xmppd/form.h>
#include <xmppd/log.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEG        0xFF
#define CLOSE      0xFE
#define SPIN_MAX   2000
#define ACCEPT_MAX 200

static struct {
    struct event_base *base;
    xd_config *cfg;
    int listener;
    /* One input's state. */
    int fd;     /* our end of the link, -1 when closed */
    int cfd;    /* the component's end, while ours is open */
    xd_buf out; /* what the component wrote */
    int iqs_sent, iqs_answered;
} fz;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    char ini[512];

    (void)argc;
    (void)argv;
    const char *lv = getenv("XD_FUZZ_LOG");
    xd_log_level level = XD_LOG_ERROR;
    if (lv != NULL && xd_log_level_parse(lv, &level) != 0)
        level = XD_LOG_DEBUG;
    xd_log_init("fuzz", NULL);
    xd_log_set_level(level);
    signal(SIGPIPE, SIG_IGN);
    fz.base = event_base_new();
    fz.listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fz.base == NULL || fz.listener < 0 ||
        bind(fz.listener, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(fz.listener, 8) != 0 ||
        getsockname(fz.listener, (struct sockaddr *)&sin, &len) != 0)
        abort();
    snprintf(ini, sizeof(ini),
             "[comp]\ndomain = comp.example\nsecret = s3cret\n"
             "router_host = 127.0.0.1\nrouter_port = %u\n"
             "queue_max = 100\nmax_stanza_bytes = 65536\n",
             ntohs(sin.sin_port));
    if (xd_config_load_string(ini, "fuzz.ini", &fz.cfg) != 0)
        abort();
    fz.fd = -1;
    return 0;
}

/* --- the component ------------------------------------------------------ */

static xd_verdict
on_message(xd_component *c, const xd_stanza *in, void *arg)
{
    (void)arg;
    if (xd_stanza_is_error(in) || xd_stanza_from(in) == NULL)
        return XD_PASS;
    xd_stanza *out = xd_stanza_reply(in);
    xd_stanza_set_child_text(out, "body", XD_NS_CLIENT, "seen");
    xd_component_send(c, out);
    return XD_HANDLED;
}

static xd_verdict
on_version(xd_component *c, const xd_stanza *in, xd_iq_type type, void *arg)
{
    (void)arg;
    (void)type;
    xd_stanza *out = xd_stanza_reply(in);
    xd_elem *q =
        xd_elem_add_child(xd_stanza_root(out), "query", "jabber:iq:version");
    xd_elem_set_child_text(q, "name", "jabber:iq:version", "fuzz");
    xd_component_send(c, out);
    return XD_HANDLED;
}

static void
on_iq_answer(xd_component *c, const xd_stanza *reply, void *arg)
{
    (void)c;
    (void)reply;
    (void)arg;
    if (++fz.iqs_answered > fz.iqs_sent)
        abort(); /* one request, one answer */
}

static void
on_link(xd_component *c, int up, void *arg)
{
    (void)arg;
    if (!up)
        return;
    xd_stanza *iq = xd_stanza_iq_new("get", NULL, "localhost", NULL);
    xd_elem_add_child(xd_stanza_root(iq), "ping", "urn:xmpp:ping");
    fz.iqs_sent++;
    if (xd_component_iq(c, iq, 0, on_iq_answer, NULL) != 0)
        fz.iqs_sent--;
}

/* A two-stage command that keeps state between its stages, one for
 * admins only, and one at entity JIDs. */
static void
what_form(xd_command_ctx *cx, xd_elem *form)
{
    (void)cx;
    xd_form_field_required(
        xd_form_add_field(form, "what", "text-single", "What", NULL));
}

static void
size_form(xd_command_ctx *cx, xd_elem *form)
{
    (void)cx;
    xd_form_field_validate_int(
        xd_form_add_int(form, "size", "text-single", "Size", 1), 1, 100);
    xd_form_add_bool(form, "sure", "Sure?", 0);
}

static xd_command_status
what_check(xd_command_ctx *cx, const xd_elem *values)
{
    const char *what = xd_form_value(values, "what");
    void **state = xd_command_state(cx);

    if (what == NULL || *what == '\0')
        return XD_COMMAND_BAD_REQUEST;
    free(*state);
    *state = xd_xstrdup(what);
    return XD_COMMAND_EXECUTING;
}

static xd_command_status
run(xd_command_ctx *cx, const xd_elem *values)
{
    const char *what = xd_command_value(cx, "what");
    xd_elem *reply = xd_command_reply(cx);

    (void)values;
    if (reply != NULL)
        xd_command_add_note(reply, XD_COMMAND_NOTE_INFO, what ? what : "");
    return XD_COMMAND_COMPLETED;
}

static void
end(xd_command_ctx *cx, xd_command_end why)
{
    void **state = xd_command_state(cx);

    (void)why;
    free(*state);
    *state = NULL;
}

static int
only_admin(xd_component *c, const char *requester, const char *target,
           void *arg)
{
    (void)c;
    (void)target;
    (void)arg;
    return strncmp(requester, "admin@", 6) == 0;
}

static const xd_command_stage ask_stages[] = {
    { "What", "Say what.", what_form, what_check },
    { "How big", NULL, size_form, NULL },
};

static const xd_command ask_cmd = {
    .node = "ask",
    .name = "Ask",
    .stages = ask_stages,
    .nstages = XD_NELEM(ask_stages),
    .run = run,
    .end = end,
};

static const xd_command admin_cmd = {
    .node = "admin",
    .name = "Admin",
    .run = run,
    .allowed = only_admin,
};

static const xd_command entity_cmd = {
    .node = "entity",
    .name = "Entity",
    .stages = ask_stages,
    .nstages = 1,
    .run = run,
    .end = end,
};

/* --- the router's end ---------------------------------------------------- */

static size_t
read_out(void)
{
    char buf[16384];
    size_t total = 0;

    while (fz.fd >= 0) {
        ssize_t n = recv(fz.fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                close(fz.fd);
                fz.fd = -1;
            }
            break;
        }
        if (fz.out.len < 65536)
            xd_buf_append(&fz.out, buf, (size_t)n);
        total += (size_t)n;
    }
    return total;
}

/* The component's socket: the one whose address is our peer's. */
static int
find_component_fd(void)
{
    struct sockaddr_in peer, a;
    socklen_t len = sizeof(peer);

    if (getpeername(fz.fd, (struct sockaddr *)&peer, &len) != 0)
        return -1;
    for (int fd = 3; fd < 4096; fd++) {
        len = sizeof(a);
        if (fd != fz.fd && fd != fz.listener &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0 &&
            a.sin_family == AF_INET && a.sin_port == peer.sin_port &&
            a.sin_addr.s_addr == peer.sin_addr.s_addr)
            return fd;
    }
    return -1;
}

/* Bytes the component has not read yet: the loop is not quiet while there
 * are some. */
static int
unread(void)
{
    int n = 0;

    if (fz.fd < 0 || fz.cfd < 0 || ioctl(fz.cfd, FIONREAD, &n) != 0)
        return 0;
    return n;
}

static void
spin(void)
{
    int quiet = 0;

    for (int i = 0; i < SPIN_MAX && quiet < 3; i++) {
        event_base_loop(fz.base, EVLOOP_NONBLOCK);
        quiet = read_out() > 0 || unread() > 0 ? 0 : quiet + 1;
    }
}

/* The id of the last <iq type='get'/'set'> the component wrote. */
static void
last_iq_id(char *out, size_t size)
{
    const char *p = NULL;

    out[0] = '\0';
    for (size_t i = 0; i + 14 < fz.out.len; i++)
        if (memcmp(fz.out.data + i, "<iq type='get'", 14) == 0 ||
            memcmp(fz.out.data + i, "<iq type='set'", 14) == 0)
            p = fz.out.data + i;
    if (p == NULL)
        return;
    const char *end = fz.out.data + fz.out.len;
    const char *gt = memchr(p, '>', (size_t)(end - p));
    const char *id = gt ? memmem(p, (size_t)(gt - p), " id='", 5) : NULL;
    const char *q = id ? memchr(id + 5, '\'', (size_t)(gt - id - 5)) : NULL;
    if (q != NULL)
        snprintf(out, size, "%.*s", (int)(q - id - 5), id + 5);
}

/* The last XEP-0050 sessionid the component handed out. */
static void
last_session(char *out, size_t size)
{
    const char *p = NULL, *end = fz.out.data + fz.out.len;

    out[0] = '\0';
    for (size_t i = 0; i + 11 < fz.out.len; i++)
        if (memcmp(fz.out.data + i, "sessionid='", 11) == 0)
            p = fz.out.data + i + 11;
    const char *q = p ? memchr(p, '\'', (size_t)(end - p)) : NULL;
    if (q != NULL)
        snprintf(out, size, "%.*s", (int)(q - p), p);
}

static void
write_segment(const uint8_t *data, size_t n)
{
    xd_buf seg = XD_BUF_INIT;
    char id[128], session[128];

    if (fz.fd < 0)
        return;
    last_iq_id(id, sizeof(id));
    last_session(session, sizeof(session));
    for (size_t i = 0; i < n;) {
        if (n - i >= 5 && memcmp(data + i, "$IQID", 5) == 0) {
            xd_buf_append_str(&seg, id);
            i += 5;
        } else if (n - i >= 8 && memcmp(data + i, "$SESSION", 8) == 0) {
            xd_buf_append_str(&seg, session);
            i += 8;
        } else {
            xd_buf_append(&seg, (const char *)data + i, 1);
            i++;
        }
    }
    for (size_t off = 0, tries = 0; off < seg.len && fz.fd >= 0 && tries < 100;
         tries++) {
        ssize_t w = send(fz.fd, seg.data + off, seg.len - off, 0);
        if (w > 0)
            off += (size_t)w;
        else
            spin();
    }
    xd_buf_free(&seg);
    spin();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xd_component *c = NULL;

    if (xd_component_new(fz.cfg, "comp", fz.base, &c) != 0)
        abort();
    xd_component_on(c, XD_STANZA_MESSAGE, NULL, on_message, NULL);
    xd_component_on_iq(c, "jabber:iq:version", 0, on_version, NULL);
    xd_component_on_link(c, on_link, NULL);
    xd_component_add_identity(c, "conference", "text", "Fuzz");
    xd_component_add_feature(c, "jabber:iq:version");
    xd_component_add_item(c, "room@comp.example", NULL, "A room");
    if (xd_component_add_command(c, &ask_cmd, NULL) != 0 ||
        xd_component_add_command(c, &admin_cmd, NULL) != 0 ||
        xd_component_add_entity_command(c, &entity_cmd, NULL) != 0)
        abort();
    fz.iqs_sent = fz.iqs_answered = 0;
    xd_buf_reset(&fz.out);
    xd_component_start(c);
    for (int i = 0; i < ACCEPT_MAX && fz.fd < 0; i++) {
        event_base_loop(fz.base, EVLOOP_NONBLOCK);
        fz.fd = accept4(fz.listener, NULL, NULL, SOCK_NONBLOCK);
    }
    if (fz.fd < 0)
        abort(); /* the component never connected */
    /* As the router does (listener.c): without it our small writes wait
     * for the component's delayed ACKs. */
    int one = 1;
    setsockopt(fz.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fz.cfd = find_component_fd();
    spin(); /* its stream header */

    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != SEG && data[i] != CLOSE)
            continue;
        if (i > start)
            write_segment(data + start, i - start);
        if (i < size && data[i] == CLOSE && fz.fd >= 0) {
            close(fz.fd);
            fz.fd = -1;
            spin();
        }
        start = i + 1;
    }
    xd_component_free(c);
    if (fz.fd >= 0) {
        close(fz.fd);
        fz.fd = -1;
    }
    event_base_loop(fz.base, EVLOOP_NONBLOCK);
    if (event_base_get_num_events(fz.base, EVENT_BASE_COUNT_ADDED |
                                               EVENT_BASE_COUNT_ACTIVE) != 0)
        abort(); /* the component left an event behind */
    if (fz.iqs_answered > fz.iqs_sent)
        abort();
    xd_buf_free(&fz.out);
    return 0;
}
