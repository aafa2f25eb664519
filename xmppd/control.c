/*
 * control.c: the control socket xmppdctl talks to: a UNIX socket, mode
 * 0600, one command line per connection, answered with "ok" or
 * "error: ..." and then the lines of the answer, and closed.
 *
 *   sessions         one line per bound session: JID, address, seconds
 *                    since binding, flags
 *   kick JID         ends a full JID's session, or all of a bare JID's
 *   revoke JID WHY   ends every session of an account whose credentials
 *                    are gone (WHY: deleted or password), bound or not,
 *                    hibernating or not; none can be resumed (xmppdctl
 *                    deluser and passwd)
 *   stats            counters, one "name value" per line
 *   reload           reads the configuration file again (router_reload)
 *   status           "name value" lines: version, pid, uptime_s, hosts,
 *                    sessions, components (the domains linked)
 *   command AS DOMAIN NODE [VAR=VALUE...]
 *                    runs an ad-hoc command at a component as the account
 *                    AS (control_command.c)
 *   send TO TEXT     routes a chat message with body TEXT (the rest of the
 *                    line) from the host to TO; TO a served host: a
 *                    headline to every session of that host
 */
#define XD_LOG_AREA "control"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include <xmppd/buf.h>
#include <xmppd/config.h>
#include <xmppd/log.h>
#include <xmppd/stanza.h>

#include "c2s_internal.h"

#define LINE_MAX_BYTES 1024

/* --- commands ------------------------------------------------------------ */

struct listing {
    xd_buf *out;
    time_t now;
};

static void
list_one(const char *jid, void *value, void *arg)
{
    struct listing *l = arg;

    (void)jid;
    c2s_describe(value, l->now, l->out);
    xd_buf_append_str(l->out, "\n");
}

static void
cmd_sessions(struct router *r, xd_buf *out)
{
    struct listing l = { out, time(NULL) };

    xd_buf_append_str(out, "ok\n");
    xd_map_each(r->sessions, list_one, &l);
}

static void
cmd_kick(struct router *r, const char *arg, xd_buf *out)
{
    xd_jid *j = NULL;
    size_t n = 0;

    if (arg == NULL || xd_jid_parse(arg, &j) != 0 || xd_jid_local(j) == NULL) {
        xd_buf_append_str(out, "error: kick needs a JID (user@host or "
                               "user@host/resource)\n");
        xd_jid_free(j);
        return;
    }
    if (xd_jid_resource(j) != NULL) {
        struct c2s *c = sessions_get(r, xd_jid_str(j));
        if (c != NULL)
            n = (size_t)c2s_kick(c, "policy-violation",
                                 "kicked by the administrator");
    } else {
        const struct user_sessions *us = sessions_of(r, xd_jid_bare_str(j));
        for (size_t i = 0; us != NULL && i < us->n; i++)
            n += (size_t)c2s_kick(us->list[i], "policy-violation",
                                  "kicked by the administrator");
    }
    if (n == 0) {
        xd_buf_appendf(out, "error: %s has no session\n", xd_jid_str(j));
    } else {
        xd_log_info("%s: %zu session(s) kicked by the administrator",
                    xd_jid_str(j), n);
        xd_buf_appendf(out, "ok\n%zu session(s) kicked\n", n);
    }
    xd_jid_free(j);
}

/* The stream error text for revoke's WHY, or NULL. */
static const char *
revoke_text(const char *why)
{
    if (why != NULL && strcmp(why, "deleted") == 0)
        return "the account was deleted";
    if (why != NULL && strcmp(why, "password") == 0)
        return "the password was changed";
    return NULL;
}

/* Kicking never frees a session at once (the stream error is flushed, or
 * a hibernating session's timer fires, on a later turn), so the walk over
 * r->c2s_all is safe. Connections that authenticated but have not bound
 * yet end too: they logged in with what is no longer valid. */
size_t
control_revoke(struct router *r, const xd_jid *account, const char *text)
{
    size_t n = 0;

    for (struct c2s *c = r->c2s_all; c != NULL; c = c->next)
        if (c->authenticated && c->user != NULL && c->host != NULL &&
            strcmp(c->user, xd_jid_local(account)) == 0 &&
            strcmp(c->host, xd_jid_domain(account)) == 0)
            n += (size_t)c2s_kick(c, "not-authorized", text);
    if (n > 0)
        xd_log_info("%s: %zu session(s) ended: %s", xd_jid_str(account), n,
                    text);
    return n;
}

static void
cmd_revoke(struct router *r, const char *arg, const char *why, xd_buf *out)
{
    xd_jid *j = NULL;
    const char *text = revoke_text(why);

    if (arg == NULL || text == NULL || xd_jid_parse(arg, &j) != 0 ||
        xd_jid_local(j) == NULL || xd_jid_resource(j) != NULL) {
        xd_buf_append_str(out, "error: revoke needs an account JID "
                               "(user@host) and deleted or password\n");
        xd_jid_free(j);
        return;
    }
    xd_buf_appendf(out, "ok\n%zu session(s) ended\n",
                   control_revoke(r, j, text));
    xd_jid_free(j);
}

/* Resident memory in KiB, from /proc (0 when unavailable). */
static unsigned long long
rss_kib(void)
{
    unsigned long long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * (unsigned long long)sysconf(_SC_PAGESIZE) / 1024;
}

static void
cmd_stats(struct router *r, xd_buf *out)
{
    size_t c2s = 0, links = 0;

    for (struct c2s *c = r->c2s_all; c != NULL; c = c2s_next(c))
        c2s++;
    for (struct comp_link *l = r->links_all; l != NULL; l = comp_link_next(l))
        links++;
    xd_buf_append_str(out, "ok\n");
    xd_buf_appendf(out, "uptime_s %lld\n",
                   (long long)(time(NULL) - r->started));
    xd_buf_appendf(out, "sessions %zu\n", xd_map_count(r->sessions));
    xd_buf_appendf(out, "accounts_online %zu\n", xd_map_count(r->users));
    xd_buf_appendf(out, "sessions_resumable %zu\n",
                   xd_map_count(r->sm_resumable));
    xd_buf_appendf(out, "c2s_connections %zu\n", c2s);
    xd_buf_appendf(out, "component_connections %zu\n", links);
    xd_buf_appendf(out, "components_bound %zu\n", xd_map_count(r->comp_links));
    xd_buf_appendf(out, "c2s_accepted %llu\n", r->stats.c2s_accepted);
    xd_buf_appendf(out, "logins %llu\n", r->stats.auth_ok);
    xd_buf_appendf(out, "logins_failed %llu\n", r->stats.auth_failed);
    xd_buf_appendf(out, "stanzas_routed %llu\n", r->stats.stanzas_routed);
    xd_buf_appendf(out, "stanzas_bounced %llu\n", r->stats.stanzas_bounced);
    xd_buf_appendf(out, "rss_kib %llu\n", rss_kib());
}

static void
add_domain(const char *domain, void *value, void *arg)
{
    xd_buf *out = arg;

    (void)value;
    xd_buf_appendf(out, " %s", domain);
}

static void
cmd_status(struct router *r, xd_buf *out)
{
    xd_buf_append_str(out, "ok\n");
    xd_buf_appendf(out, "version %s\n", xd_version());
    xd_buf_appendf(out, "pid %ld\n", (long)getpid());
    xd_buf_appendf(out, "uptime_s %lld\n",
                   (long long)(time(NULL) - r->started));
    xd_buf_appendf(out, "hosts %s\n", r->conf.hosts);
    xd_buf_appendf(out, "sessions %zu\n", xd_map_count(r->sessions));
    xd_buf_append_str(out, "components");
    xd_map_each(r->comp_links, add_domain, out);
    xd_buf_append_str(out, "\n");
}

struct announce {
    struct router *r;
    const char *host, *text;
    size_t n;
};

static void
announce_one(const char *jid, void *value, void *arg)
{
    struct announce *a = arg;
    struct c2s *c = value;

    if (c->host == NULL || strcmp(c->host, a->host) != 0)
        return;
    router_route(a->r,
                 xd_stanza_message_new("headline", jid, a->host, a->text));
    a->n++;
}

/* The announcement goes to the sessions that are bound now: it is news, not
 * mail, so nobody gets it later from offline storage. */
static void
cmd_send(struct router *r, const char *to, const char *text, xd_buf *out)
{
    xd_jid *j = NULL;

    if (to == NULL || text == NULL || *text == '\0' ||
        xd_jid_parse(to, &j) != 0) {
        xd_buf_append_str(out, "error: send needs a JID and a message\n");
        xd_jid_free(j);
        return;
    }
    if (xd_jid_local(j) == NULL && xd_jid_resource(j) == NULL &&
        router_is_local_host(r, xd_jid_domain(j))) {
        struct announce a = { r, xd_jid_domain(j), text, 0 };
        /* Routing to a bound session delivers it; it never changes the
         * session table under the walk. */
        xd_map_each(r->sessions, announce_one, &a);
        xd_log_info("announcement to %s: %zu session(s)", a.host, a.n);
        xd_buf_appendf(out, "ok\nsent to %zu session(s)\n", a.n);
    } else {
        const char *from = r->conf.hosts;
        char host[1024];
        /* From the host the message goes to when it is one of ours, else
         * from the first host served. */
        if (router_is_local_host(r, xd_jid_domain(j)))
            from = xd_jid_domain(j);
        snprintf(host, sizeof(host), "%.*s", (int)strcspn(from, " \t,"), from);
        router_route(r,
                     xd_stanza_message_new("chat", xd_jid_str(j), host, text));
        xd_log_info("message from %s to %s sent by the administrator", host,
                    xd_jid_str(j));
        xd_buf_appendf(out, "ok\nsent to %s\n", xd_jid_str(j));
    }
    xd_jid_free(j);
}

static void
run(struct router *r, char *line, xd_buf *out)
{
    if (strncmp(line, "send ", 5) == 0) {
        char *to = line + 5, *text = strchr(to, ' ');
        if (text != NULL)
            *text++ = '\0';
        cmd_send(r, to, text, out);
        return;
    }

    char *save = NULL;
    char *cmd = strtok_r(line, " \t", &save);
    char *arg = strtok_r(NULL, " \t", &save);
    char *arg2 = strtok_r(NULL, " \t", &save);

    if (cmd == NULL)
        xd_buf_append_str(out, "error: empty command\n");
    else if (strcmp(cmd, "sessions") == 0)
        cmd_sessions(r, out);
    else if (strcmp(cmd, "kick") == 0)
        cmd_kick(r, arg, out);
    else if (strcmp(cmd, "revoke") == 0)
        cmd_revoke(r, arg, arg2, out);
    else if (strcmp(cmd, "stats") == 0)
        cmd_stats(r, out);
    else if (strcmp(cmd, "status") == 0)
        cmd_status(r, out);
    else if (strcmp(cmd, "reload") == 0) {
        if (router_reload(r) == 0)
            xd_buf_append_str(out, "ok\n");
        else
            xd_buf_append_str(out, "error: the configuration was not "
                                   "reloaded; xmppd's log says why\n");
    } else
        xd_buf_appendf(out, "error: unknown command '%s'\n", cmd);
}

/* --- the socket ---------------------------------------------------------- */

static void
written_cb(struct bufferevent *bev, void *arg)
{
    (void)arg;
    bufferevent_free(bev); /* the answer is out */
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    (void)arg;
    bufferevent_free(bev);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
    struct router *r = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = 0;
    char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);

    if (line == NULL) {
        if (evbuffer_get_length(in) > LINE_MAX_BYTES)
            bufferevent_free(bev);
        return;
    }
    xd_buf out = { 0 };
    if (strncmp(line, "command ", 8) == 0 &&
        control_command_start(r, bev, line + 8, &out) == 0) {
        free(line); /* answered when the component answers */
        return;
    }
    if (out.len == 0)
        run(r, line, &out);
    free(line);
    bufferevent_disable(bev, EV_READ);
    bufferevent_setcb(bev, NULL, written_cb, event_cb, r);
    bufferevent_write(bev, out.data, out.len);
    xd_buf_free(&out);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
          int socklen, void *arg)
{
    struct router *r = arg;
    struct bufferevent *bev =
        bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);

    (void)l;
    (void)sa;
    (void)socklen;
    if (bev == NULL) {
        evutil_closesocket(fd);
        return;
    }
    bufferevent_setcb(bev, read_cb, NULL, event_cb, r);
    bufferevent_enable(bev, EV_READ);
}

int
control_start(struct router *r)
{
    const char *path = r->conf.control_socket;
    struct sockaddr_un sun = { .sun_family = AF_UNIX };

    if (path == NULL || *path == '\0')
        return 0;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        xd_log_warnx("[xmppd] control_socket: '%s' is too long", path);
        return XD_EINVAL;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int probe = socket(AF_UNIX, SOCK_STREAM, 0);
    int taken =
        probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    if (probe >= 0)
        close(probe);
    if (taken) {
        xd_log_warnx("[xmppd] control_socket: another xmppd answers on %s",
                     path);
        return XD_EEXIST;
    }
    unlink(path); /* left behind by a process that did not stop cleanly */
    mode_t old = umask(0077);
    r->control = evconnlistener_new_bind(
        r->base, accept_cb, r, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        16, (struct sockaddr *)&sun, (int)sizeof(sun));
    umask(old);
    if (r->control == NULL) {
        xd_log_warn("cannot listen on %s (control)", path);
        return XD_EIO;
    }
    xd_log_info("listening on %s (control)", path);
    return 0;
}

void
control_stop(struct router *r)
{
    if (r->control == NULL)
        return;
    control_command_stop(r);
    evconnlistener_free(r->control);
    r->control = NULL;
    unlink(r->conf.control_socket);
}
