/*
 * control_command.c: the control socket's "command" line, which runs a
 * XEP-0050 ad-hoc command at a component on behalf of an account, so that
 * xmppdctl can administer a component (xmppd-muc's list-rooms and
 * destroy-room) the way an admin's client would, with no protocol of our
 * own between the router and the component:
 *
 *   command AS DOMAIN NODE [VAR=VALUE...]
 *
 * The router sends <command action='execute'/> from AS/xmppdctl (AS: an
 * account JID the component counts as an admin), submits the form of a
 * command that asks for one with the VAR=VALUE pairs (VALUE with %20 for a
 * space and %25 for '%'), and answers "ok" then one "note TYPE TEXT" line
 * per note and one "VAR VALUE" line per value of the result form; or
 * "error: ...". The control connection stays open until the answer comes
 * or CONTROL_COMMAND_TIMEOUT_S pass. The answers are caught in
 * router_route before delivery: they are addressed to a resource that has
 * no session.
 */
#define XD_LOG_AREA "control"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <xmppd/buf.h>
#include <xmppd/command.h>
#include <xmppd/element.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>
#include <xmppd/ns.h>
#include <xmppd/stanza.h>

#include "router.h"

#define CONTROL_COMMAND_TIMEOUT_S 10
#define CONTROL_COMMAND_RESOURCE  "xmppdctl"
#define CONTROL_COMMAND_MAX       16

struct control_request {
    struct router *r;
    struct bufferevent *bev; /* the xmppdctl connection waiting */
    struct event *timer;
    char id[40];
    char *from, *domain, *node;
    char *fields; /* "var=value" pairs, space-separated, %-encoded */
    int submitted;
};

static void
request_free(struct control_request *q)
{
    if (q->r->control_requests != NULL)
        xd_map_remove(q->r->control_requests, q->id);
    if (q->timer != NULL)
        event_free(q->timer);
    free(q->from);
    free(q->domain);
    free(q->node);
    free(q->fields);
    free(q);
}

static void
written_cb(struct bufferevent *bev, void *arg)
{
    (void)arg;
    bufferevent_free(bev);
}

static void
closed_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    (void)arg;
    bufferevent_free(bev);
}

/* Hands the answer to the connection, which closes once it is out, and
 * forgets the request. */
static void
finish(struct control_request *q, const xd_buf *out)
{
    struct bufferevent *bev = q->bev;

    bufferevent_setcb(bev, NULL, written_cb, closed_cb, NULL);
    bufferevent_write(bev, out->data, out->len);
    request_free(q);
}

static void
finish_error(struct control_request *q, const char *text)
{
    xd_buf out = { 0 };

    xd_buf_appendf(&out, "error: %s\n", text);
    finish(q, &out);
    xd_buf_free(&out);
}

/* xmppdctl went away before the answer: the answer will find nobody. */
static void
waiting_closed_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    bufferevent_free(bev);
    request_free(arg);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct control_request *q = arg;
    char text[600];

    (void)fd;
    (void)what;
    snprintf(text, sizeof(text), "%s did not answer within %d s", q->domain,
             CONTROL_COMMAND_TIMEOUT_S);
    finish_error(q, text);
}

/* %20 and %25 back to ' ' and '%', in place. */
static void
unescape(char *s)
{
    char *w = s;

    for (; *s != '\0'; s++) {
        if (s[0] == '%' && s[1] == '2' && (s[2] == '0' || s[2] == '5')) {
            *w++ = s[2] == '0' ? ' ' : '%';
            s += 2;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
}

/* Sends the request's next iq under a new id: the first execute, or the
 * submission of the form with the given fields. */
static void
send_iq(struct control_request *q, const char *sessionid)
{
    char to_self[1100];

    if (q->id[0] != '\0')
        xd_map_remove(q->r->control_requests, q->id);
    snprintf(q->id, sizeof(q->id), "xmppdctl-%llu", ++q->r->control_serial);
    xd_map_put(q->r->control_requests, q->id, q);
    snprintf(to_self, sizeof(to_self), "%s/%s", q->from,
             CONTROL_COMMAND_RESOURCE);
    xd_stanza *st = xd_stanza_iq_new("set", q->id, q->domain, to_self);
    xd_elem *cmd = xd_stanza_add_child(st, "command", XD_NS_COMMANDS);
    xd_elem_set_attr(cmd, "node", q->node);
    if (sessionid == NULL) {
        xd_elem_set_attr(cmd, "action", "execute");
    } else {
        char *fields = xd_xstrdup(q->fields), *save = NULL;
        xd_elem_set_attr(cmd, "sessionid", sessionid);
        xd_elem_set_attr(cmd, "action", "complete");
        xd_elem *x = xd_elem_add_child(cmd, "x", XD_NS_DATA_FORMS);
        xd_elem_set_attr(x, "type", "submit");
        for (char *f = strtok_r(fields, " ", &save); f != NULL;
             f = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(f, '=');
            if (eq == NULL)
                continue;
            *eq = '\0';
            unescape(eq + 1);
            xd_elem *field = xd_elem_add_child(x, "field", XD_NS_DATA_FORMS);
            xd_elem_set_attr(field, "var", f);
            xd_elem_add_child_text(field, "value", XD_NS_DATA_FORMS, eq + 1);
        }
        free(fields);
        q->submitted = 1;
    }
    router_route(q->r, st);
}

int
control_command_start(struct router *r, struct bufferevent *bev, char *args,
                      xd_buf *out)
{
    char *save = NULL;
    char *as = strtok_r(args, " ", &save);
    char *domain = strtok_r(NULL, " ", &save);
    char *node = strtok_r(NULL, " ", &save);
    char *rest = strtok_r(NULL, "", &save);
    xd_jid *j = NULL;

    if (node == NULL || xd_jid_parse(as, &j) != 0 || xd_jid_local(j) == NULL ||
        xd_jid_resource(j) != NULL ||
        !router_is_local_host(r, xd_jid_domain(j))) {
        xd_jid_free(j);
        xd_buf_append_str(out, "error: command needs an account JID of a "
                               "served host, a domain and a node\n");
        return XD_EINVAL;
    }
    if (r->control_requests == NULL)
        r->control_requests = xd_map_new();
    if (xd_map_count(r->control_requests) >= CONTROL_COMMAND_MAX) {
        xd_jid_free(j);
        xd_buf_append_str(out, "error: too many commands waiting\n");
        return XD_ELIMIT;
    }
    struct control_request *q = xd_xcalloc(1, sizeof(*q));
    q->r = r;
    q->bev = bev;
    q->from = xd_xstrdup(xd_jid_str(j));
    q->domain = xd_xstrdup(domain);
    q->node = xd_xstrdup(node);
    q->fields = xd_xstrdup(rest ? rest : "");
    xd_jid_free(j);
    q->timer = evtimer_new(r->base, timeout_cb, q);
    struct timeval tv = { CONTROL_COMMAND_TIMEOUT_S, 0 };
    evtimer_add(q->timer, &tv);
    bufferevent_disable(bev, EV_READ);
    bufferevent_setcb(bev, NULL, NULL, waiting_closed_cb, q);
    xd_log_info("ad-hoc command %s at %s as %s (xmppdctl)", node, domain,
                q->from);
    send_iq(q, NULL);
    return 0;
}

/* The answer of a completed command, as lines. */
static void
describe(const xd_elem *cmd, xd_buf *out)
{
    xd_buf_append_str(out, "ok\n");
    for (xd_elem *e = xd_elem_first(cmd); e != NULL; e = xd_elem_next(e)) {
        if (xd_elem_is(e, "note", XD_NS_COMMANDS)) {
            const char *type = xd_elem_attr(e, "type");
            xd_buf_appendf(out, "note %s %s\n", type ? type : "info",
                           xd_elem_text(e) ? xd_elem_text(e) : "");
        } else if (xd_elem_is(e, "x", XD_NS_DATA_FORMS)) {
            for (xd_elem *f = xd_elem_first(e); f != NULL;
                 f = xd_elem_next(f)) {
                const char *var = xd_elem_attr(f, "var");
                if (!xd_elem_is(f, "field", XD_NS_DATA_FORMS) || var == NULL)
                    continue;
                for (xd_elem *v = xd_elem_first(f); v != NULL;
                     v = xd_elem_next(v))
                    if (xd_elem_is(v, "value", XD_NS_DATA_FORMS))
                        xd_buf_appendf(out, "%s %s\n", var,
                                       xd_elem_text(v) ? xd_elem_text(v) : "");
            }
        }
    }
}

int
control_command_answer(struct router *r, xd_stanza *st)
{
    const char *id = xd_stanza_id(st), *type = xd_stanza_type(st);
    struct control_request *q;

    if (r->control_requests == NULL || id == NULL || type == NULL ||
        xd_stanza_kind_of(st) != XD_STANZA_IQ ||
        (strcmp(type, "result") != 0 && strcmp(type, "error") != 0) ||
        (q = xd_map_get(r->control_requests, id)) == NULL)
        return 0;
    /* Only the component asked may answer. */
    const char *from = xd_stanza_from(st);
    if (from == NULL || strcmp(from, q->domain) != 0)
        return 0;
    const xd_elem *root = xd_stanza_root(st);
    if (strcmp(type, "error") == 0) {
        const xd_elem *err = xd_elem_child(root, "error", NULL);
        const xd_elem *cond = err ? xd_elem_first(err) : NULL;
        char text[700];
        snprintf(text, sizeof(text), "%s answered %s", q->domain,
                 cond ? xd_elem_name(cond) : "an error");
        finish_error(q, text);
    } else {
        const xd_elem *cmd = xd_elem_child(root, "command", XD_NS_COMMANDS);
        const char *status = cmd ? xd_elem_attr(cmd, "status") : NULL;
        const char *sid = cmd ? xd_elem_attr(cmd, "sessionid") : NULL;
        if (cmd == NULL || status == NULL)
            finish_error(q, "the answer is not an ad-hoc command's");
        else if (strcmp(status, "executing") == 0 && !q->submitted &&
                 sid != NULL)
            send_iq(q, sid);
        else {
            xd_buf out = { 0 };
            describe(cmd, &out);
            finish(q, &out);
            xd_buf_free(&out);
        }
    }
    xd_stanza_unref(st);
    return 1;
}

static void
abandon(const char *id, void *value, void *arg)
{
    struct control_request *q = value;

    (void)id;
    (void)arg;
    bufferevent_free(q->bev);
    request_free(q);
}

void
control_command_stop(struct router *r)
{
    xd_map *m = r->control_requests;

    if (m == NULL)
        return;
    r->control_requests = NULL; /* request_free leaves the walk's map be */
    xd_map_each(m, abandon, NULL);
    xd_map_free(m);
    r->control_requests = NULL;
}
