/*
 * command.c: XEP-0050 ad-hoc commands offered on a component's domain or at
 * its entities' JIDs: the command list in disco#items, disco#info on each
 * command node, execution and the sessions of multi-stage commands.
 */
#define XD_LOG_AREA "command"
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <xmppd/command.h>
#include <xmppd/form.h>
#include <xmppd/log.h>
#include <xmppd/map.h>

#include "component_internal.h"

/* XEP-0050 leaves the time-out to the responder; a person filling a form
 * needs minutes, a forgotten session must not live for ever. */
#define SESSION_TIMEOUT_MS 600000u
#define SESSION_ID_LEN     16
/* Each session holds a timer and the command's state: a requester opening
 * sessions in a loop must hit a bound. */
#define SESSIONS_MAX 4096

struct command {
    char *node, *name;
    xd_command_fn fn;
    xd_command_allowed_fn allowed;
    void *arg;
    int entity; /* offered at local@domain, not at the domain */
};

struct session {
    struct commands *owner;
    const struct command *cmd;
    char id[SESSION_ID_LEN + 1];
    char *requester; /* full JID; only it may continue the session */
    char *target;    /* the JID it runs at; it is continued there only */
    int stage;       /* the stage of the next call */
    void *state;     /* the command's, see xd_command_fn */
    struct event *timer;
};

struct commands {
    xd_component *c;
    struct command **list;
    size_t n;
    xd_map *sessions; /* id -> struct session */
    unsigned timeout_ms;
};

struct commands *
commands_new(xd_component *c)
{
    struct commands *cmds = xd_xcalloc(1, sizeof(*cmds));

    cmds->c = c;
    cmds->sessions = xd_map_new();
    cmds->timeout_ms = SESSION_TIMEOUT_MS;
    return cmds;
}

static const struct command *
find_command(const struct commands *cmds, const char *node, int entity)
{
    for (size_t i = 0; i < cmds->n; i++)
        if (cmds->list[i]->entity == entity &&
            strcmp(cmds->list[i]->node, node) == 0)
            return cmds->list[i];
    return NULL;
}

static void
add_command(xd_component *c, const char *node, const char *name,
            xd_command_fn fn, xd_command_allowed_fn allowed, void *arg,
            int entity)
{
    struct commands *cmds = component_commands(c);

    /* Sessions point at their command, so one cannot be replaced. */
    if (find_command(cmds, node, entity) != NULL) {
        xd_log_warnx("%s: command %s registered twice; keeping the first",
                     xd_component_domain(c), node);
        return;
    }
    struct command *cmd = xd_xcalloc(1, sizeof(*cmd));
    cmd->node = xd_xstrdup(node);
    cmd->name = xd_xstrdup(name);
    cmd->fn = fn;
    cmd->allowed = allowed;
    cmd->arg = arg;
    cmd->entity = entity;
    cmds->list = xd_xrealloc(cmds->list, (cmds->n + 1) * sizeof(*cmds->list));
    cmds->list[cmds->n++] = cmd;
    if (!entity) /* entities answer their own disco#info */
        xd_component_add_feature(c, XD_NS_COMMANDS);
}

void
xd_component_add_command(xd_component *c, const char *node, const char *name,
                         xd_command_fn fn, xd_command_allowed_fn allowed,
                         void *arg)
{
    add_command(c, node, name, fn, allowed, arg, 0);
}

void
xd_component_add_entity_command(xd_component *c, const char *node,
                                const char *name, xd_command_fn fn,
                                xd_command_allowed_fn allowed, void *arg)
{
    add_command(c, node, name, fn, allowed, arg, 1);
}

static int
is_allowed(const struct commands *cmds, const struct command *cmd,
           const char *requester, const char *target)
{
    return cmd->allowed == NULL ||
           cmd->allowed(cmds->c, requester, target, cmd->arg);
}

/* --- sessions ------------------------------------------------------------ */

static void
session_free(struct session *s)
{
    event_free(s->timer);
    free(s->requester);
    free(s->target);
    free(s);
}

/*
 * Lets the command free its state (stage -1, nothing submitted) and forgets
 * the session. `iq` is the cancel request, or NULL on time-out and shutdown:
 * the function is then shown a cancel iq made up from the session, so that
 * it always sees a request from the requester. `reply` is the <command/> of
 * the answer, or NULL when there is none to give.
 */
static void
session_end(struct session *s, const xd_stanza *iq, xd_elem *reply)
{
    const struct command *cmd = s->cmd;
    xd_component *c = s->owner->c;
    xd_stanza *made = NULL, *scratch = NULL;

    xd_map_remove(s->owner->sessions, s->id);
    if (iq == NULL) {
        made = xd_stanza_iq_new("set", NULL, s->target, s->requester);
        xd_elem *e =
            xd_elem_add_child(xd_stanza_root(made), "command", XD_NS_COMMANDS);
        xd_elem_set_attr(e, "node", cmd->node);
        xd_elem_set_attr(e, "sessionid", s->id);
        xd_elem_set_attr(e, "action", "cancel");
        iq = made;
    }
    if (reply == NULL) {
        scratch = xd_stanza_new("command", XD_NS_COMMANDS);
        reply = xd_stanza_root(scratch);
    }
    cmd->fn(c, iq, NULL, -1, reply, &s->state, cmd->arg);
    xd_stanza_unref(scratch);
    xd_stanza_unref(made);
    session_free(s);
}

static void
session_expire(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;

    (void)fd;
    (void)what;
    xd_log_debug("%s: command session %s of %s timed out",
                 xd_component_domain(s->owner->c), s->id, s->requester);
    session_end(s, NULL, NULL);
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
session_new(struct commands *cmds, const struct command *cmd, const char *id,
            const char *requester, const char *target, void *state)
{
    struct session *s = xd_xcalloc(1, sizeof(*s));

    s->owner = cmds;
    s->cmd = cmd;
    memcpy(s->id, id, sizeof(s->id));
    s->requester = xd_xstrdup(requester);
    s->target = xd_xstrdup(target);
    s->stage = 1;
    s->state = state;
    s->timer = evtimer_new(xd_component_base(cmds->c), session_expire, s);
    if (s->timer == NULL)
        xd_fatalx("evtimer_new");
    xd_map_put(cmds->sessions, s->id, s);
    session_touch(s);
    return s;
}

void
commands_set_timeout_ms(struct commands *cmds, unsigned ms)
{
    cmds->timeout_ms = ms;
}

void
commands_free(struct commands *cmds)
{
    if (cmds == NULL)
        return;
    /* session_end changes the map: end them from a snapshot. */
    size_t n;
    void **all = xd_map_values(cmds->sessions, &n);
    for (size_t i = 0; i < n; i++)
        session_end(all[i], NULL, NULL);
    free(all);
    xd_map_free(cmds->sessions);
    for (size_t i = 0; i < cmds->n; i++) {
        free(cmds->list[i]->node);
        free(cmds->list[i]->name);
        free(cmds->list[i]);
    }
    free(cmds->list);
    free(cmds);
}

/* --- answers ------------------------------------------------------------- */

/* An error reply with an XEP-0050 condition (NULL: none) beside the
 * defined one. */
static xd_stanza *
command_error(const xd_stanza *iq, const char *condition, const char *app)
{
    xd_stanza *err = xd_stanza_error_reply(
        iq, xd_stanza_error_default_type(condition), condition, NULL);

    if (err != NULL && app != NULL)
        xd_elem_add_child(
            xd_elem_child(xd_stanza_root(err), "error", XD_NS_CLIENT), app,
            XD_NS_COMMANDS);
    return err;
}

static xd_stanza *
answer_items(const struct commands *cmds, const xd_stanza *iq,
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
        xd_elem_set_attr(item, "node", cmd->node);
        xd_elem_set_attr(item, "name", cmd->name);
    }
    return res;
}

static xd_stanza *
answer_info(const struct commands *cmds, const struct command *cmd,
            const xd_stanza *iq, const char *requester)
{
    if (!is_allowed(cmds, cmd, requester, xd_stanza_to(iq)))
        return command_error(iq, "forbidden", NULL);
    xd_stanza *res = xd_stanza_reply(iq);
    xd_elem *q =
        xd_elem_add_child(xd_stanza_root(res), "query", XD_NS_DISCO_INFO);
    xd_elem_set_attr(q, "node", cmd->node);
    xd_elem *id = xd_elem_add_child(q, "identity", NULL);
    xd_elem_set_attr(id, "category", "automation");
    xd_elem_set_attr(id, "type", "command-node");
    xd_elem_set_attr(id, "name", cmd->name);
    xd_elem_set_attr(xd_elem_add_child(q, "feature", NULL), "var",
                     XD_NS_COMMANDS);
    xd_elem_set_attr(xd_elem_add_child(q, "feature", NULL), "var",
                     XD_NS_DATA_FORMS);
    return res;
}

enum action { ACT_RUN, ACT_CANCEL, ACT_PREV, ACT_UNKNOWN };

static enum action
parse_action(const char *a)
{
    /* We only ever offer "complete" (and "execute" as its alias), but a
     * client saying "next" means the same to a command that decides for
     * itself whether another stage follows. */
    if (a == NULL || strcmp(a, "execute") == 0 || strcmp(a, "next") == 0 ||
        strcmp(a, "complete") == 0)
        return ACT_RUN;
    if (strcmp(a, "cancel") == 0)
        return ACT_CANCEL;
    if (strcmp(a, "prev") == 0)
        return ACT_PREV;
    return ACT_UNKNOWN;
}

static xd_stanza *
execute(struct commands *cmds, const xd_stanza *iq, const xd_elem *req,
        const char *requester, int entity)
{
    const char *target = xd_stanza_to(iq);
    const char *node = xd_elem_attr(req, "node");
    const char *sid = xd_elem_attr(req, "sessionid");
    enum action act = parse_action(xd_elem_attr(req, "action"));
    const struct command *cmd;
    struct session *s = NULL;
    char id[SESSION_ID_LEN + 1];

    if (node == NULL)
        return command_error(iq, "bad-request", NULL);
    if ((cmd = find_command(cmds, node, entity)) == NULL)
        return command_error(iq, "item-not-found", NULL);
    if (!is_allowed(cmds, cmd, requester, target))
        return command_error(iq, "forbidden", NULL);
    if (act == ACT_PREV)
        return command_error(iq, "bad-request", "bad-action");
    if (act == ACT_UNKNOWN)
        return command_error(iq, "bad-request", "malformed-action");
    /* A session is only continued by its requester, on its node and at its
     * JID; to anyone else it does not exist. */
    if (sid != NULL && ((s = xd_map_get(cmds->sessions, sid)) == NULL ||
                        s->cmd != cmd || strcmp(s->requester, requester) != 0 ||
                        strcmp(s->target, target) != 0))
        return command_error(iq, "bad-request", "bad-sessionid");

    xd_stanza *res = xd_stanza_reply(iq);
    xd_elem *reply =
        xd_elem_add_child(xd_stanza_root(res), "command", XD_NS_COMMANDS);
    xd_elem_set_attr(reply, "node", cmd->node);
    if (act == ACT_CANCEL) {
        if (sid != NULL)
            xd_elem_set_attr(reply, "sessionid", sid);
        xd_elem_set_attr(reply, "status", "canceled");
        if (s != NULL)
            session_end(s, iq, reply);
        return res;
    }
    if (s == NULL && xd_map_count(cmds->sessions) >= SESSIONS_MAX) {
        xd_stanza_unref(res);
        xd_log_warnx("%s: %d command sessions open; refusing more",
                     xd_component_domain(cmds->c), SESSIONS_MAX);
        return command_error(iq, "resource-constraint", NULL);
    }
    if (s != NULL)
        memcpy(id, s->id, sizeof(id));
    else
        xd_random_id(id, SESSION_ID_LEN);
    xd_elem_set_attr(reply, "sessionid", id);
    /* The actions go first, where clients look for them; they are taken
     * out again unless the command goes on. */
    xd_elem *actions = xd_elem_add_child(reply, "actions", NULL);
    xd_elem_set_attr(actions, "execute", "complete");
    xd_elem_add_child(actions, "complete", NULL);

    void *state = s ? s->state : NULL;
    int stage = s ? s->stage : 0;
    const xd_elem *form = xd_form_find(req);
    const char *ftype = form ? xd_form_type(form) : NULL;
    if (ftype == NULL || strcmp(ftype, "submit") != 0)
        form = NULL;
    xd_command_status st =
        cmd->fn(cmds->c, iq, form, stage, reply, &state, cmd->arg);

    if (st == XD_COMMAND_EXECUTING) {
        xd_elem_set_attr(reply, "status", "executing");
        if (s == NULL) {
            session_new(cmds, cmd, id, requester, target, state);
        } else {
            s->state = state;
            s->stage++;
            session_touch(s);
        }
        return res;
    }
    /* The function has freed its state: forget the session only. */
    if (s != NULL) {
        xd_map_remove(cmds->sessions, s->id);
        session_free(s);
    }
    if (st == XD_COMMAND_COMPLETED) {
        xd_elem_remove(actions);
        xd_elem_set_attr(reply, "status", "completed");
        return res;
    }
    xd_stanza_unref(res);
    if (st == XD_COMMAND_FORBIDDEN)
        return command_error(iq, "forbidden", NULL);
    if (st == XD_COMMAND_BAD_REQUEST)
        return command_error(iq, "bad-request", "bad-payload");
    xd_log_warnx("%s: command %s returned %d", xd_component_domain(cmds->c),
                 cmd->node, (int)st);
    return command_error(iq, "internal-server-error", NULL);
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

xd_stanza *
xd_component_command_answer(xd_component *c, const xd_stanza *iq)
{
    struct commands *cmds = component_commands(c);
    const char *to = xd_stanza_to(iq);
    const char *type = xd_stanza_type(iq);
    const char *from = xd_stanza_from(iq);
    const xd_elem *q = xd_elem_first(xd_stanza_root(iq));
    const char *requester = from ? from : "";
    int entity;

    /* Without commands, nothing changes for the component. */
    if (cmds->n == 0 || to == NULL || type == NULL || q == NULL ||
        (entity = scope_of(to, xd_component_domain(c))) < 0)
        return NULL;
    if (strcmp(type, "set") == 0) {
        if (xd_elem_is(q, "command", XD_NS_COMMANDS))
            return execute(cmds, iq, q, requester, entity);
        return NULL;
    }
    const char *node = xd_elem_attr(q, "node");
    if (strcmp(type, "get") != 0 || node == NULL)
        return NULL;
    if (xd_elem_is(q, "query", XD_NS_DISCO_ITEMS) &&
        strcmp(node, XD_NS_COMMANDS) == 0)
        return answer_items(cmds, iq, requester, entity);
    const struct command *cmd = find_command(cmds, node, entity);
    if (xd_elem_is(q, "query", XD_NS_DISCO_INFO) && cmd != NULL)
        return answer_info(cmds, cmd, iq, requester);
    return NULL;
}

xd_elem *
xd_command_add_note(xd_elem *reply, xd_command_note type, const char *text)
{
    static const char *const names[] = {
        [XD_COMMAND_NOTE_INFO] = "info",
        [XD_COMMAND_NOTE_WARN] = "warn",
        [XD_COMMAND_NOTE_ERROR] = "error",
    };
    xd_elem *n = xd_elem_add_child_text(reply, "note", XD_NS_COMMANDS, text);

    xd_elem_set_attr(n, "type", names[type]);
    return n;
}
