/*
 * command.c: XEP-0050 ad-hoc commands offered on a component's domain or at
 * its entities' JIDs: the command list in disco#items, disco#info on each
 * command node, execution and the sessions of multi-stage commands. The
 * registry (xd_commands) is a component's, or stands alone for a program
 * that is not one (the router offers commands at its hosts), and only then
 * may a run wait for work done off the loop (xd_command_defer): the answer
 * goes out later through the registry's send function.
 */
#define XD_LOG_AREA "command"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <xmppd/command.h>
#include <xmppd/form.h>
#include <xmppd/jid.h>
#include <xmppd/log.h>
#include <xmppd/map.h>

#include "component_internal.h"

/* XEP-0050 leaves the time-out to the responder; a person filling a form
 * needs minutes, a forgotten session must not live for ever. */
#define SESSION_TIMEOUT_MS 600000u
#define SESSION_ID_LEN     16
/* Each session holds a timer, the command's state and the values
 * submitted so far: a requester opening sessions in a loop must hit a
 * bound, and one account must not take them all. */
#define SESSIONS_MAX           4096
#define SESSIONS_PER_REQUESTER 16
/* The values a session keeps (only the fields its forms have), all stages
 * together: a form filled by a person is far smaller. 4096 sessions keep
 * 64 MiB at most. */
#define SESSION_VALUES_MAX 16384

struct command {
    const xd_command *def; /* borrowed, see xd_component_add_command */
    void *arg;
    int entity; /* offered at local@domain, not at the domain */
};

struct session {
    xd_commands *owner;
    const struct command *cmd;
    char id[SESSION_ID_LEN + 1];
    char *requester;    /* full JID; only it may continue the session */
    char *target;       /* the JID it runs at; it is continued there only */
    int stage;          /* the stage whose form was shown last */
    void *state;        /* the command's, see xd_command_state */
    xd_stanza **values; /* per stage: a copy of the checked submission */
    struct event *timer;
    xd_command_deferred *deferred; /* a run waiting; NULL: none */
};

/* A run that waits (xd_command_defer): the request and the answer made so
 * far, sent at xd_command_resume. */
struct xd_command_deferred {
    struct session *s;
    xd_stanza *iq;  /* a reference on the request */
    xd_stanza *res; /* the answer, its <command/> being reply */
    xd_elem *reply;
    int fresh; /* the session was opened by this request */
};

/* Ids of sessions that timed out lately, to answer session-expired rather
 * than bad-sessionid; the oldest is forgotten first. */
#define EXPIRED_KEPT 64

struct xd_commands {
    xd_component *c;          /* NULL: a registry of its own */
    struct event_base *base;  /* session timers */
    char *domain;             /* where the commands live; entities under it */
    xd_commands_send_fn send; /* deferred answers; NULL: runs cannot wait */
    void *send_arg;
    struct command **list;
    size_t n;
    xd_map *sessions; /* id -> struct session */
    unsigned timeout_ms;
    char expired[EXPIRED_KEPT][SESSION_ID_LEN + 1];
    size_t expired_next;
};

/* A component's registry (component_internal.h). */
struct commands {
    xd_commands reg;
};

/* What the command's functions see. */
struct xd_command_ctx {
    xd_commands *cmds;
    const struct command *cmd;
    struct session *s; /* NULL for a command without stages */
    const char *requester, *target;
    char requester_bare[XD_JID_BARE_MAX];
    xd_elem *reply; /* NULL: no answer */
    int stage;
    void *state;           /* for a command without stages: one call long */
    const xd_elem *values; /* of a command without stages */
    int in_run;            /* the run of a session: it may defer */
    xd_command_deferred *deferred; /* what xd_command_defer made */
    const char *err_condition;     /* xd_command_fail's; NULL: none */
    char err_text[256];            /* "": none */
};

static void
registry_init(xd_commands *cmds, xd_component *c, struct event_base *base,
              const char *domain, xd_commands_send_fn send, void *arg)
{
    cmds->c = c;
    cmds->base = base;
    cmds->domain = xd_xstrdup(domain);
    cmds->send = send;
    cmds->send_arg = arg;
    cmds->sessions = xd_map_new();
    cmds->timeout_ms = SESSION_TIMEOUT_MS;
}

struct commands *
commands_new(xd_component *c)
{
    struct commands *w = xd_xcalloc(1, sizeof(*w));

    /* No send function: xd_component_command_answer gives its answer
     * back at once, so a component's runs cannot wait. */
    registry_init(&w->reg, c, xd_component_base(c), xd_component_domain(c),
                  NULL, NULL);
    return w;
}

xd_commands *
xd_commands_new(struct event_base *base, const char *jid,
                xd_commands_send_fn send, void *arg)
{
    xd_commands *cmds = xd_xcalloc(1, sizeof(*cmds));

    registry_init(cmds, NULL, base, jid, send, arg);
    return cmds;
}

static const struct command *
find_command(const xd_commands *cmds, const char *node, int entity)
{
    for (size_t i = 0; i < cmds->n; i++)
        if (cmds->list[i]->entity == entity &&
            strcmp(cmds->list[i]->def->node, node) == 0)
            return cmds->list[i];
    return NULL;
}

static int
add_command(xd_commands *cmds, const xd_command *def, void *arg, int entity)
{
    if (def == NULL || def->node == NULL || def->name == NULL ||
        def->run == NULL || (def->nstages > 0 && def->stages == NULL)) {
        xd_log_warnx("%s: a command without node, name or run", cmds->domain);
        return XD_EINVAL;
    }
    for (size_t i = 0; i < def->nstages; i++)
        if (def->stages[i].form == NULL) {
            xd_log_warnx("%s: command %s: stage %zu has no form", cmds->domain,
                         def->node, i);
            return XD_EINVAL;
        }
    /* Sessions point at their command, so one cannot be replaced. */
    if (find_command(cmds, def->node, entity) != NULL) {
        xd_log_warnx("%s: command %s registered twice; keeping the first",
                     cmds->domain, def->node);
        return XD_EEXIST;
    }
    struct command *cmd = xd_xcalloc(1, sizeof(*cmd));
    cmd->def = def;
    cmd->arg = arg;
    cmd->entity = entity;
    cmds->list = xd_xrealloc(cmds->list, (cmds->n + 1) * sizeof(*cmds->list));
    cmds->list[cmds->n++] = cmd;
    /* Entities answer their own disco#info; a registry of its own is
     * advertised by its program. */
    if (!entity && cmds->c != NULL)
        xd_component_add_feature(cmds->c, XD_NS_COMMANDS);
    return 0;
}

int
xd_component_add_command(xd_component *c, const xd_command *cmd, void *arg)
{
    return add_command(&component_commands(c)->reg, cmd, arg, 0);
}

int
xd_component_add_entity_command(xd_component *c, const xd_command *cmd,
                                void *arg)
{
    return add_command(&component_commands(c)->reg, cmd, arg, 1);
}

int
xd_commands_add(xd_commands *cmds, const xd_command *cmd, void *arg)
{
    return add_command(cmds, cmd, arg, 0);
}

int
xd_commands_add_entity(xd_commands *cmds, const xd_command *cmd, void *arg)
{
    return add_command(cmds, cmd, arg, 1);
}

static int
is_allowed(const xd_commands *cmds, const struct command *cmd,
           const char *requester, const char *target)
{
    return cmd->def->allowed == NULL ||
           cmd->def->allowed(cmds->c, requester, target, cmd->arg);
}

/* --- the context ---------------------------------------------------------- */

xd_component *
xd_command_component(const xd_command_ctx *cx)
{
    return cx->cmds->c;
}

const char *
xd_command_requester(const xd_command_ctx *cx)
{
    return cx->requester;
}

const char *
xd_command_requester_bare(const xd_command_ctx *cx)
{
    return cx->requester_bare;
}

const char *
xd_command_target(const xd_command_ctx *cx)
{
    return cx->target;
}

void *
xd_command_arg(const xd_command_ctx *cx)
{
    return cx->cmd->arg;
}

void **
xd_command_state(xd_command_ctx *cx)
{
    return cx->s != NULL ? &cx->s->state : &cx->state;
}

int
xd_command_current_stage(const xd_command_ctx *cx)
{
    return cx->stage;
}

const xd_elem *
xd_command_values(const xd_command_ctx *cx, int stage)
{
    if (cx->s == NULL)
        return stage == 0 ? cx->values : NULL;
    if (stage < 0 || (size_t)stage >= cx->cmd->def->nstages ||
        cx->s->values[stage] == NULL)
        return NULL;
    return xd_stanza_root(cx->s->values[stage]);
}

const char *
xd_command_value(const xd_command_ctx *cx, const char *var)
{
    size_t n = cx->s != NULL ? cx->cmd->def->nstages : 1;

    for (size_t i = n; i-- > 0;) {
        const xd_elem *x = xd_command_values(cx, (int)i);
        const char *v = x ? xd_form_value(x, var) : NULL;
        if (v != NULL)
            return v;
    }
    return NULL;
}

long long
xd_command_value_int(const xd_command_ctx *cx, const char *var)
{
    const char *v = xd_command_value(cx, var);
    char *end;

    if (v == NULL || *v == '\0')
        return 0;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    return *end == '\0' && errno == 0 ? n : 0;
}

int
xd_command_value_bool(const xd_command_ctx *cx, const char *var)
{
    const char *v = xd_command_value(cx, var);

    return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

xd_elem *
xd_command_reply(xd_command_ctx *cx)
{
    return cx->reply;
}

static void
ctx_init(xd_command_ctx *cx, xd_commands *cmds, const struct command *cmd,
         struct session *s, const char *requester, const char *target)
{
    memset(cx, 0, sizeof(*cx));
    cx->cmds = cmds;
    cx->cmd = cmd;
    cx->s = s;
    cx->requester = requester;
    cx->target = target;
    xd_jid_bare_of(requester, cx->requester_bare, sizeof(cx->requester_bare));
}

/* --- sessions ------------------------------------------------------------ */

static void
session_free(struct session *s)
{
    if (s->deferred != NULL) { /* ended while its run waited */
        xd_stanza_unref(s->deferred->iq);
        xd_stanza_unref(s->deferred->res);
        free(s->deferred);
    }
    event_free(s->timer);
    for (size_t i = 0; i < s->cmd->def->nstages; i++)
        xd_stanza_unref(s->values[i]);
    free(s->values);
    free(s->requester);
    free(s->target);
    free(s);
}

/* Calls the command's end function (the stage -1 contract of command.h)
 * and forgets the session. `reply` is the answer's <command/>, or NULL. */
static void
session_end(struct session *s, xd_command_end why, xd_elem *reply)
{
    const xd_command *def = s->cmd->def;
    xd_command_ctx cx;

    xd_map_remove(s->owner->sessions, s->id);
    if (def->end != NULL) {
        ctx_init(&cx, s->owner, s->cmd, s, s->requester, s->target);
        cx.reply = reply;
        cx.stage = s->stage;
        def->end(&cx, why);
    }
    session_free(s);
}

static void
session_expire(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;
    xd_commands *cmds = s->owner;

    (void)fd;
    (void)what;
    xd_log_debug("%s: command session %s of %s timed out", cmds->domain, s->id,
                 s->requester);
    memcpy(cmds->expired[cmds->expired_next], s->id, sizeof(s->id));
    cmds->expired_next = (cmds->expired_next + 1) % EXPIRED_KEPT;
    session_end(s, XD_COMMAND_END_EXPIRED, NULL);
}

static int
expired_lately(const xd_commands *cmds, const char *id)
{
    for (size_t i = 0; i < EXPIRED_KEPT; i++)
        if (cmds->expired[i][0] != '\0' && strcmp(cmds->expired[i], id) == 0)
            return 1;
    return 0;
}

static void
session_touch(struct session *s)
{
    unsigned ms = s->owner->timeout_ms;
    struct timeval tv = { (time_t)(ms / 1000),
                          (suseconds_t)(ms % 1000) * 1000 };

    evtimer_add(s->timer, &tv);
}

static struct session *
session_new(xd_commands *cmds, const struct command *cmd, const char *requester,
            const char *target)
{
    struct session *s = xd_xcalloc(1, sizeof(*s));

    s->owner = cmds;
    s->cmd = cmd;
    /* Never one of the ids still remembered as expired. */
    do
        xd_random_id(s->id, SESSION_ID_LEN);
    while (expired_lately(cmds, s->id) || xd_map_get(cmds->sessions, s->id));
    s->requester = xd_xstrdup(requester);
    s->target = xd_xstrdup(target);
    s->values = xd_xcalloc(cmd->def->nstages, sizeof(*s->values));
    s->timer = evtimer_new(cmds->base, session_expire, s);
    if (s->timer == NULL)
        xd_fatalx("evtimer_new");
    xd_map_put(cmds->sessions, s->id, s);
    session_touch(s);
    return s;
}

void
commands_set_timeout_ms(struct commands *cmds, unsigned ms)
{
    cmds->reg.timeout_ms = ms;
}

static void
registry_clear(xd_commands *cmds)
{
    /* session_end changes the map: end them from a snapshot. */
    size_t n;
    void **all = xd_map_values(cmds->sessions, &n);
    for (size_t i = 0; i < n; i++)
        session_end(all[i], XD_COMMAND_END_SHUTDOWN, NULL);
    free(all);
    xd_map_free(cmds->sessions);
    for (size_t i = 0; i < cmds->n; i++)
        free(cmds->list[i]);
    free(cmds->list);
    free(cmds->domain);
}

void
commands_free(struct commands *cmds)
{
    if (cmds == NULL)
        return;
    registry_clear(&cmds->reg);
    free(cmds);
}

void
xd_commands_free(xd_commands *cmds)
{
    if (cmds == NULL)
        return;
    registry_clear(cmds);
    free(cmds);
}

/* --- answers ------------------------------------------------------------- */

/* An error reply with an XEP-0050 condition (NULL: none) beside the
 * defined one, and a text (NULL: none). */
static xd_stanza *
command_error(const xd_stanza *iq, const char *condition, const char *app,
              const char *text)
{
    xd_stanza *err = xd_stanza_error_reply(
        iq, xd_stanza_error_default_type(condition), condition, text);

    /* The <command/> goes back without its form: a submitted form may
     * hold a password, which an error must not carry again. */
    xd_elem *cmd = err != NULL ? xd_elem_child(xd_stanza_root(err), "command",
                                               XD_NS_COMMANDS)
                               : NULL;
    xd_elem *x;
    while (cmd != NULL &&
           (x = xd_elem_child(cmd, "x", XD_NS_DATA_FORMS)) != NULL)
        xd_elem_remove(x);

    if (err != NULL && app != NULL)
        xd_elem_add_child(
            xd_elem_child(xd_stanza_root(err), "error", XD_NS_CLIENT), app,
            XD_NS_COMMANDS);
    return err;
}

static xd_stanza *
answer_items(const xd_commands *cmds, const xd_stanza *iq,
             const char *requester, int entity)
{
    const char *target = xd_stanza_to(iq);
    xd_stanza *res = xd_stanza_reply(iq);
    xd_elem *q =
        xd_elem_add_child(xd_stanza_root(res), "query", XD_NS_DISCO_ITEMS);

    xd_elem_set_attr(q, "node", XD_NS_COMMANDS);
    for (size_t i = 0; i < cmds->n; i++) {
        const struct command *cmd = cmds->list[i];
        if (cmd->entity != entity || !is_allowed(cmds, cmd, requester, target))
            continue;
        xd_elem *item = xd_elem_add_child(q, "item", NULL);
        xd_elem_set_attr(item, "jid", target);
        xd_elem_set_attr(item, "node", cmd->def->node);
        xd_elem_set_attr(item, "name", cmd->def->name);
    }
    return res;
}

static xd_stanza *
answer_info(const xd_commands *cmds, const struct command *cmd,
            const xd_stanza *iq, const char *requester)
{
    if (!is_allowed(cmds, cmd, requester, xd_stanza_to(iq)))
        return command_error(iq, "forbidden", NULL, NULL);
    xd_stanza *res = xd_stanza_reply(iq);
    xd_elem *q =
        xd_elem_add_child(xd_stanza_root(res), "query", XD_NS_DISCO_INFO);
    xd_elem_set_attr(q, "node", cmd->def->node);
    xd_elem *id = xd_elem_add_child(q, "identity", NULL);
    xd_elem_set_attr(id, "category", "automation");
    xd_elem_set_attr(id, "type", "command-node");
    xd_elem_set_attr(id, "name", cmd->def->name);
    xd_elem_set_attr(xd_elem_add_child(q, "feature", NULL), "var",
                     XD_NS_COMMANDS);
    xd_elem_set_attr(xd_elem_add_child(q, "feature", NULL), "var",
                     XD_NS_DATA_FORMS);
    return res;
}

enum action {
    ACT_EXECUTE,
    ACT_NEXT,
    ACT_COMPLETE,
    ACT_PREV,
    ACT_CANCEL,
    ACT_UNKNOWN
};

static enum action
parse_action(const char *a)
{
    static const char *const names[] = {
        [ACT_EXECUTE] = "execute",   [ACT_NEXT] = "next",
        [ACT_COMPLETE] = "complete", [ACT_PREV] = "prev",
        [ACT_CANCEL] = "cancel",
    };

    if (a == NULL) /* XEP-0050 3.4: no action is execute */
        return ACT_EXECUTE;
    for (size_t i = 0; i < XD_NELEM(names); i++)
        if (strcmp(a, names[i]) == 0)
            return (enum action)i;
    return ACT_UNKNOWN;
}

/* Builds stage k's form (title, instructions, fields) under parent. */
static xd_elem *
build_form(xd_command_ctx *cx, size_t k, xd_elem *parent)
{
    const xd_command_stage *st = &cx->cmd->def->stages[k];
    xd_elem *x = xd_form_add(parent, "form", st->title, st->instructions);

    cx->stage = (int)k;
    st->form(cx, x);
    return x;
}

/* Puts the values submitted before into the form's fields (prev, or a
 * stage shown again): the requester finds what it typed. */
static void
fill(xd_elem *x, const xd_elem *values)
{
    for (xd_elem *f = xd_elem_child(x, "field", XD_NS_DATA_FORMS); f != NULL;
         f = xd_elem_next_match(f, "field", XD_NS_DATA_FORMS)) {
        const char *var = xd_elem_attr(f, "var");
        const char *type = xd_elem_attr(f, "type");
        const xd_elem *got = var ? xd_form_field(values, var) : NULL;
        if (got == NULL || (type != NULL && (strcmp(type, "hidden") == 0 ||
                                             strcmp(type, "fixed") == 0)))
            continue;
        xd_elem *v;
        while ((v = xd_form_first_value(f)) != NULL)
            xd_elem_remove(v);
        for (v = xd_form_first_value(got); v != NULL; v = xd_form_next_value(v))
            xd_form_field_add_value(f, xd_elem_text(v));
    }
}

/* Shows stage k: its actions and its form, filled with what was submitted
 * for it before; the session goes on. */
static void
show_stage(xd_command_ctx *cx, size_t k)
{
    struct session *s = cx->s;
    size_t n = cx->cmd->def->nstages;
    int last = k + 1 == n;
    xd_elem *actions = xd_elem_add_child(cx->reply, "actions", NULL);

    /* The actions go first, where clients look for them. */
    xd_elem_set_attr(actions, "execute", last ? "complete" : "next");
    if (k > 0)
        xd_elem_add_child(actions, "prev", NULL);
    xd_elem_add_child(actions, last ? "complete" : "next", NULL);
    xd_elem *x = build_form(cx, k, cx->reply);
    if (s->values[k] != NULL)
        fill(x, xd_stanza_root(s->values[k]));
    s->stage = (int)k;
    xd_elem_set_attr(cx->reply, "status", "executing");
    session_touch(s);
}

/* Whether `act` is one stage k of n offers (execute being its default). */
static int
offered(enum action act, size_t k, size_t n)
{
    switch (act) {
    case ACT_EXECUTE:
        return 1;
    case ACT_NEXT:
        return k + 1 < n;
    case ACT_COMPLETE:
        return k + 1 == n;
    case ACT_PREV:
        return k > 0;
    default:
        return 0;
    }
}

static xd_command_end
end_of(xd_command_status st)
{
    return st == XD_COMMAND_COMPLETED || st == XD_COMMAND_EXECUTING
               ? XD_COMMAND_END_COMPLETED
               : XD_COMMAND_END_REFUSED;
}

/* The answer for a status other than EXECUTING; `res` is the result made
 * so far (given back or freed). */
static xd_stanza *
finish(const xd_command_ctx *cx, const xd_stanza *iq, xd_stanza *res,
       xd_command_status st)
{
    const char *text = cx->err_text[0] != '\0' ? cx->err_text : NULL;

    if (st == XD_COMMAND_FORBIDDEN) {
        xd_stanza_unref(res);
        return command_error(iq, "forbidden", NULL, text);
    }
    if (st == XD_COMMAND_BAD_REQUEST) {
        xd_stanza_unref(res);
        return command_error(iq, "bad-request", "bad-payload", text);
    }
    if (st == XD_COMMAND_FAILED) {
        xd_stanza_unref(res);
        return command_error(iq,
                             cx->err_condition != NULL
                                 ? cx->err_condition
                                 : "internal-server-error",
                             NULL, text);
    }
    if (st == XD_COMMAND_PENDING) { /* without xd_command_defer's handle */
        xd_stanza_unref(res);
        return command_error(iq, "internal-server-error", NULL, NULL);
    }
    xd_elem_set_attr(
        xd_elem_child(xd_stanza_root(res), "command", XD_NS_COMMANDS), "status",
        "completed");
    return res;
}

/* A command without stages: one call, no session. */
static xd_stanza *
run_once(xd_commands *cmds, const struct command *cmd, const xd_stanza *iq,
         xd_stanza *res, xd_elem *reply, const xd_elem *form,
         const char *requester)
{
    const xd_command *def = cmd->def;
    xd_command_ctx cx;

    ctx_init(&cx, cmds, cmd, NULL, requester, xd_stanza_to(iq));
    cx.reply = reply;
    cx.values = form;
    xd_command_status st = def->run(&cx, form);
    if (st == XD_COMMAND_EXECUTING)
        st = XD_COMMAND_COMPLETED; /* nothing more to show */
    if (def->end != NULL) {
        if (st != XD_COMMAND_COMPLETED)
            cx.reply = NULL;
        def->end(&cx, end_of(st));
    }
    return finish(&cx, iq, res, st);
}

/* The fields of `submitted` that the form `shown` has, in a stanza of
 * their own (the caller owns it): what a session keeps of a submission. */
static xd_stanza *
keep_values(const xd_elem *shown, const xd_elem *submitted)
{
    xd_stanza *kept = xd_stanza_new("x", XD_NS_DATA_FORMS);
    xd_elem *x = xd_stanza_root(kept);

    xd_elem_set_attr(x, "type", "submit");
    for (const xd_elem *f = xd_elem_child(shown, "field", XD_NS_DATA_FORMS);
         f != NULL && submitted != NULL;
         f = xd_elem_next_match(f, "field", XD_NS_DATA_FORMS)) {
        const char *var = xd_elem_attr(f, "var");
        const xd_elem *got = var ? xd_form_field(submitted, var) : NULL;
        if (got != NULL)
            xd_elem_add_copy(x, got);
    }
    return kept;
}

/* The bytes the session keeps for its stages other than k. */
static size_t
kept_bytes(const struct session *s, size_t k)
{
    size_t n = 0;

    for (size_t i = 0; i < s->cmd->def->nstages; i++)
        if (i != k && s->values[i] != NULL)
            n += xd_stanza_mem(s->values[i]);
    return n;
}

/* Refuses a submission: bad-payload with `why`. A session opened by this
 * very request ends (the first request was refused); another stays at
 * its stage. */
static xd_stanza *
refuse(struct session *s, const xd_stanza *iq, xd_stanza *res, int fresh,
       const char *why)
{
    xd_stanza_unref(res);
    if (fresh)
        session_end(s, XD_COMMAND_END_REFUSED, NULL);
    else
        session_touch(s);
    return command_error(iq, "bad-request", "bad-payload", why);
}

/* Stage k's submission (`form`, NULL: none) of session s. */
static xd_stanza *
submit(xd_command_ctx *cx, const xd_stanza *iq, xd_stanza *res,
       const xd_elem *form, int fresh)
{
    struct session *s = cx->s;
    const xd_command *def = cx->cmd->def;
    size_t k = (size_t)s->stage;
    char why[160];

    /* The form that was shown, made again to check the submission (no
     * answer to add to meanwhile). */
    xd_stanza *scratch = xd_stanza_new("command", XD_NS_COMMANDS);
    xd_elem *reply = cx->reply;
    cx->reply = NULL;
    xd_elem *shown = build_form(cx, k, xd_stanza_root(scratch));
    cx->reply = reply;
    int rc = xd_form_check(shown, form, why, sizeof(why));
    xd_stanza *kept = rc == 0 ? keep_values(shown, form) : NULL;
    xd_stanza_unref(scratch);
    if (rc != 0)
        return refuse(s, iq, res, fresh, why);
    if (kept_bytes(s, k) + xd_stanza_mem(kept) > SESSION_VALUES_MAX) {
        xd_stanza_unref(kept);
        xd_log_info("%s: command %s: %s submitted more than %d bytes",
                    cx->cmds->domain, def->node, s->requester,
                    SESSION_VALUES_MAX);
        return refuse(s, iq, res, fresh, "The form is too large.");
    }
    xd_stanza_unref(s->values[k]);
    s->values[k] = kept;
    const xd_elem *values = xd_stanza_root(kept);
    cx->stage = (int)k;
    xd_command_status st = def->stages[k].check != NULL
                               ? def->stages[k].check(cx, values)
                               : XD_COMMAND_EXECUTING;
    if (st == XD_COMMAND_EXECUTING && k + 1 < def->nstages) {
        show_stage(cx, k + 1);
        return res;
    }
    if (st == XD_COMMAND_EXECUTING) {
        cx->stage = (int)def->nstages;
        cx->in_run = 1;
        st = def->run(cx, values);
        cx->in_run = 0;
        if (st == XD_COMMAND_EXECUTING)
            st = XD_COMMAND_COMPLETED;
        if (cx->deferred != NULL && st == XD_COMMAND_PENDING) {
            /* The answer waits with the session, which does not expire
             * meanwhile (the work it waits for is bounded). */
            xd_command_deferred *d = cx->deferred;
            d->iq = xd_stanza_ref((xd_stanza *)iq); /* a reference only */
            d->res = res;
            d->reply = cx->reply;
            d->fresh = fresh;
            s->stage = cx->stage;
            evtimer_del(s->timer);
            return NULL;
        }
        if (cx->deferred != NULL) { /* a handle taken, then not used */
            free(cx->deferred);
            s->deferred = cx->deferred = NULL;
        }
    }
    if (st == XD_COMMAND_BAD_REQUEST && !fresh) {
        session_touch(s); /* the stage can be sent again */
        return finish(cx, iq, res, st);
    }
    s->stage = cx->stage;
    session_end(s, end_of(st), st == XD_COMMAND_COMPLETED ? cx->reply : NULL);
    return finish(cx, iq, res, st);
}

/* Open sessions of the bare JID of `requester` (the full JID). */
static size_t
sessions_of(xd_commands *cmds, const char *requester)
{
    size_t n, mine = 0;
    size_t len = strcspn(requester, "/");
    void **all = xd_map_values(cmds->sessions, &n);

    for (size_t i = 0; i < n; i++) {
        const struct session *s = all[i];
        mine += strncmp(s->requester, requester, len) == 0 &&
                (s->requester[len] == '/' || s->requester[len] == '\0');
    }
    free(all);
    return mine;
}

static xd_stanza *
execute(xd_commands *cmds, const xd_stanza *iq, const xd_elem *req,
        const char *requester, int entity)
{
    const char *target = xd_stanza_to(iq);
    const char *node = xd_elem_attr(req, "node");
    const char *sid = xd_elem_attr(req, "sessionid");
    enum action act = parse_action(xd_elem_attr(req, "action"));
    const struct command *cmd;
    struct session *s = NULL;

    if (node == NULL)
        return command_error(iq, "bad-request", NULL, NULL);
    if ((cmd = find_command(cmds, node, entity)) == NULL)
        return command_error(iq, "item-not-found", NULL, NULL);
    if (!is_allowed(cmds, cmd, requester, target))
        return command_error(iq, "forbidden", NULL, NULL);
    if (act == ACT_UNKNOWN)
        return command_error(iq, "bad-request", "malformed-action", NULL);
    /* A session is only continued by its requester, on its node and at its
     * JID; to anyone else it does not exist. */
    if (sid != NULL && ((s = xd_map_get(cmds->sessions, sid)) == NULL ||
                        s->cmd != cmd || strcmp(s->requester, requester) != 0 ||
                        strcmp(s->target, target) != 0)) {
        if (s == NULL && expired_lately(cmds, sid))
            return command_error(iq, "not-allowed", "session-expired", NULL);
        return command_error(iq, "bad-request", "bad-sessionid", NULL);
    }
    if (s != NULL && s->deferred != NULL)
        return command_error(iq, "unexpected-request", NULL,
                             "The command is still running.");
    /* A first request executes (a client may say next or complete when it
     * submits a form at once); prev needs a stage to go back from. */
    if (s == NULL ? act == ACT_PREV
                  : !offered(act, (size_t)s->stage, cmd->def->nstages) &&
                        act != ACT_CANCEL)
        return command_error(iq, "bad-request", "bad-action", NULL);

    xd_stanza *res = xd_stanza_reply(iq);
    xd_elem *reply =
        xd_elem_add_child(xd_stanza_root(res), "command", XD_NS_COMMANDS);
    xd_elem_set_attr(reply, "node", cmd->def->node);
    if (act == ACT_CANCEL) {
        if (sid != NULL)
            xd_elem_set_attr(reply, "sessionid", sid);
        xd_elem_set_attr(reply, "status", "canceled");
        if (s != NULL)
            session_end(s, XD_COMMAND_END_CANCELED, reply);
        return res;
    }
    const xd_elem *form = xd_form_find(req);
    const char *ftype = form ? xd_form_type(form) : NULL;
    if (ftype == NULL || strcmp(ftype, "submit") != 0)
        form = NULL;
    if (cmd->def->nstages == 0) {
        char id[SESSION_ID_LEN + 1];
        xd_random_id(id, SESSION_ID_LEN);
        xd_elem_set_attr(reply, "sessionid", id);
        return run_once(cmds, cmd, iq, res, reply, form, requester);
    }
    int fresh = s == NULL;
    if (fresh) {
        if (xd_map_count(cmds->sessions) >= SESSIONS_MAX) {
            xd_stanza_unref(res);
            xd_log_warnx("%s: %d command sessions open; refusing %s",
                         cmds->domain, SESSIONS_MAX, requester);
            return command_error(iq, "resource-constraint", NULL, NULL);
        }
        if (sessions_of(cmds, requester) >= SESSIONS_PER_REQUESTER) {
            xd_stanza_unref(res);
            xd_log_info("%s: %s has %d command sessions open; refusing more",
                        cmds->domain, requester, SESSIONS_PER_REQUESTER);
            return command_error(iq, "resource-constraint", NULL, NULL);
        }
        s = session_new(cmds, cmd, requester, target);
    }
    xd_elem_set_attr(reply, "sessionid", s->id);
    xd_command_ctx cx;
    ctx_init(&cx, cmds, cmd, s, s->requester, s->target);
    cx.reply = reply;
    if (act == ACT_PREV) {
        show_stage(&cx, (size_t)s->stage - 1);
        return res;
    }
    if (fresh && form == NULL) {
        show_stage(&cx, 0);
        return res;
    }
    return submit(&cx, iq, res, form, fresh);
}

/* 0: `to` is the domain, 1: an entity of it (local@domain), -1: neither. */
static int
scope_of(const char *to, const char *domain)
{
    const char *at = strchr(to, '@');

    if (strcmp(to, domain) == 0)
        return 0;
    if (at == NULL || at == to || strchr(to, '/') != NULL ||
        strcmp(at + 1, domain) != 0)
        return -1;
    return 1;
}

/* 0 when iq is neither a command request nor command discovery at the
 * registry's domain or an entity JID; else 1 and *out the answer, or NULL
 * when a deferred run sends it later. */
static int
answer_iq(xd_commands *cmds, const xd_stanza *iq, xd_stanza **out)
{
    const char *to = xd_stanza_to(iq);
    const char *type = xd_stanza_type(iq);
    const char *from = xd_stanza_from(iq);
    const xd_elem *q = xd_elem_first(xd_stanza_root(iq));
    const char *requester = from ? from : "";
    int entity;

    *out = NULL;
    /* Without commands, nothing changes for the component. */
    if (cmds->n == 0 || to == NULL || type == NULL || q == NULL ||
        (entity = scope_of(to, cmds->domain)) < 0)
        return 0;
    if (strcmp(type, "set") == 0) {
        if (!xd_elem_is(q, "command", XD_NS_COMMANDS))
            return 0;
        *out = execute(cmds, iq, q, requester, entity);
        return 1;
    }
    const char *node = xd_elem_attr(q, "node");
    if (strcmp(type, "get") != 0 || node == NULL)
        return 0;
    if (xd_elem_is(q, "query", XD_NS_DISCO_ITEMS) &&
        strcmp(node, XD_NS_COMMANDS) == 0) {
        *out = answer_items(cmds, iq, requester, entity);
        return 1;
    }
    const struct command *cmd = find_command(cmds, node, entity);
    if (xd_elem_is(q, "query", XD_NS_DISCO_INFO) && cmd != NULL) {
        *out = answer_info(cmds, cmd, iq, requester);
        return 1;
    }
    return 0;
}

xd_stanza *
xd_component_command_answer(xd_component *c, const xd_stanza *iq)
{
    xd_stanza *out;

    /* A component's runs never defer: handled means answered. */
    answer_iq(&component_commands(c)->reg, iq, &out);
    return out;
}

xd_verdict
xd_commands_handle(xd_commands *cmds, const xd_stanza *iq)
{
    xd_stanza *out;

    if (!answer_iq(cmds, iq, &out))
        return XD_PASS;
    if (out != NULL)
        cmds->send(out, cmds->send_arg);
    return XD_HANDLED;
}

xd_command_status
xd_command_fail(xd_command_ctx *cx, const char *condition, const char *text)
{
    snprintf(cx->err_text, sizeof(cx->err_text), "%s", text ? text : "");
    if (condition != NULL && strcmp(condition, "bad-request") == 0)
        return XD_COMMAND_BAD_REQUEST;
    cx->err_condition = condition;
    return XD_COMMAND_FAILED;
}

xd_command_deferred *
xd_command_defer(xd_command_ctx *cx)
{
    if (!cx->in_run || cx->s == NULL || cx->cmds->send == NULL)
        return NULL;
    if (cx->deferred == NULL) {
        cx->deferred = xd_xcalloc(1, sizeof(*cx->deferred));
        cx->deferred->s = cx->s;
        cx->s->deferred = cx->deferred;
    }
    return cx->deferred;
}

void
xd_command_resume(xd_command_deferred *d, xd_command_fn fn)
{
    struct session *s = d->s;
    xd_commands *cmds = s->owner;
    const xd_command *def = s->cmd->def;
    xd_stanza *iq = d->iq, *res = d->res;
    int fresh = d->fresh;
    xd_command_ctx cx;

    ctx_init(&cx, cmds, s->cmd, s, s->requester, s->target);
    cx.reply = d->reply;
    cx.stage = (int)def->nstages;
    s->deferred = NULL;
    free(d);
    xd_command_status st = fn(&cx, xd_command_values(&cx, s->stage - 1));
    if (st == XD_COMMAND_EXECUTING)
        st = XD_COMMAND_COMPLETED;
    xd_stanza *answer;
    if (st == XD_COMMAND_BAD_REQUEST && !fresh) {
        s->stage = (int)def->nstages - 1; /* the last form can come again */
        session_touch(s);
        answer = finish(&cx, iq, res, st);
    } else {
        session_end(s, end_of(st),
                    st == XD_COMMAND_COMPLETED ? cx.reply : NULL);
        answer = finish(&cx, iq, res, st);
    }
    xd_stanza_unref(iq);
    if (answer != NULL)
        cmds->send(answer, cmds->send_arg);
}

xd_elem *
xd_command_add_note(xd_elem *reply, xd_command_note type, const char *text)
{
    static const char *const names[] = {
        [XD_COMMAND_NOTE_INFO] = "info",
        [XD_COMMAND_NOTE_WARN] = "warn",
        [XD_COMMAND_NOTE_ERROR] = "error",
    };

    if (reply == NULL)
        return NULL;
    xd_elem *n = xd_elem_add_child_text(reply, "note", XD_NS_COMMANDS, text);
    xd_elem_set_attr(n, "type", names[type]);
    return n;
}
