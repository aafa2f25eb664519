/*
 * admin_commands.c: XEP-0133 service administration, as XEP-0050 ad-hoc
 * commands at each host (one xd_commands registry per host), for the
 * accounts the `admins` key lists: add a user, delete users, change a
 * password, the online users (their number, their list), an announcement
 * to the host's sessions, and shutting the router down.
 *
 * Accounts change through the code paths of xmppdctl and in-band
 * registration: accounts_store with keys derived by the worker thread
 * (kdf_worker.c, never on the loop: the run waits with xd_command_defer),
 * accounts_delete, and control_revoke to end the sessions of an account
 * whose credentials are gone. A command acts on accounts of the host it is
 * addressed to only.
 */
#define XD_LOG_AREA "admin"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <xmppd/buf.h>
#include <xmppd/command.h>
#include <xmppd/form.h>
#include <xmppd/log.h>

#include "accounts.h"
#include "router.h"
#include "kdf_worker.h"

#define NODE(x) XD_NS_ADMIN "#" x
/* JIDs one list answer holds at most, whatever max_items says: 2,000 fit
 * well within a stanza. */
#define LIST_MAX 2000
/* Accounts one delete-user request removes at most. */
#define DELETE_MAX 100

/* --- who may ------------------------------------------------------------ */

/* 1 when the bare JID `bare` is in the space- (or comma-) separated list. */
static int
listed(const char *list, const char *bare)
{
    size_t n = strlen(bare);

    for (const char *p = list; p != NULL && *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t len = strcspn(p, " ,\t");
        if (len == n && strncmp(p, bare, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* Admins are accounts of this router: a requester from elsewhere is never
 * one, whatever the list says. Read at every request, so a reload applies. */
static int
is_admin(xd_component *c, const char *requester, const char *target, void *arg)
{
    struct router *r = arg;
    xd_jid *j = NULL;
    int ok;

    (void)c;
    (void)target;
    if (r->conf.admins == NULL || requester == NULL ||
        xd_jid_parse(requester, &j) != 0)
        return 0;
    ok = xd_jid_local(j) != NULL && router_is_local_host(r, xd_jid_domain(j)) &&
         listed(r->conf.admins, xd_jid_bare_str(j));
    xd_jid_free(j);
    return ok;
}

/* --- helpers ------------------------------------------------------------- */

static xd_elem *
admin_form(xd_elem *x)
{
    xd_form_add_form_type(x, XD_NS_ADMIN);
    return x;
}

/* The account `s` names, of the host the command runs at: 0 and *out (the
 * caller frees), or a bad-payload status with a text naming it. */
static xd_command_status
account_of(xd_command_ctx *cx, const char *s, xd_jid **out)
{
    char text[200];
    xd_jid *j = NULL;

    if (s == NULL || xd_jid_parse(s, &j) != 0 || xd_jid_local(j) == NULL ||
        xd_jid_resource(j) != NULL ||
        strcmp(xd_jid_domain(j), xd_command_target(cx)) != 0) {
        snprintf(text, sizeof(text), "'%.100s' is not an account of %.80s.",
                 s ? s : "", xd_command_target(cx));
        xd_jid_free(j);
        return xd_command_fail(cx, "bad-request", text);
    }
    *out = j;
    return XD_COMMAND_COMPLETED;
}

/* The values of a text-multi field joined by newlines (the caller frees),
 * or NULL when the field is absent or empty. */
static char *
joined(const xd_elem *values, const char *var)
{
    const xd_elem *f = xd_form_field(values, var);
    xd_buf b = XD_BUF_INIT;

    for (const xd_elem *v = f ? xd_form_first_value(f) : NULL; v != NULL;
         v = xd_form_next_value(v)) {
        if (b.len > 0)
            xd_buf_append(&b, "\n", 1);
        xd_buf_append_str(&b, xd_elem_text(v) ? xd_elem_text(v) : "");
    }
    if (b.len == 0) {
        xd_buf_free(&b);
        return NULL;
    }
    xd_buf_append(&b, "", 1);
    return b.data;
}

/* Sends a headline from `host` to every bound session of `host` (NULL:
 * of every host); returns how many. */
static size_t
announce(struct router *r, const char *host, const char *subject,
         const char *body)
{
    size_t n, sent = 0;
    void **all = xd_map_values(r->sessions, &n);

    for (size_t i = 0; i < n; i++) {
        struct c2s *c = all[i];
        const xd_jid *to = c2s_jid(c);
        if (host != NULL && strcmp(xd_jid_domain(to), host) != 0)
            continue;
        xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);
        xd_stanza_set_from(m, host ? host : xd_jid_domain(to));
        xd_stanza_set_to(m, xd_jid_str(to));
        xd_stanza_set_type(m, "headline");
        if (subject != NULL && *subject != '\0')
            xd_stanza_set_child_text(m, "subject", XD_NS_CLIENT, subject);
        xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, body);
        c2s_deliver(c, m);
        sent++;
    }
    free(all);
    return sent;
}

/* --- add-user and change-user-password: keys from the worker ------------ */

/* What a run waiting for its keys keeps (*xd_command_state); freed by the
 * end function in every case. */
struct keys_job {
    struct router *r;
    xd_command_deferred *d; /* NULL once resumed */
    struct kdf_job *job;    /* NULL once done or cancelled */
    xd_jid *account;
    int create;
    int rc; /* accounts_store's */
};

static xd_command_status
keys_stored(xd_command_ctx *cx, const xd_elem *values)
{
    struct keys_job *k = *xd_command_state(cx);
    const char *jid = xd_jid_str(k->account);

    (void)values;
    switch (k->rc) {
    case 0:
        break;
    case XD_EEXIST:
        return xd_command_fail(cx, "conflict", "The account exists already.");
    case XD_ENOTFOUND:
        return xd_command_fail(cx, "item-not-found", "No such account.");
    default:
        return xd_command_fail(cx, "internal-server-error", NULL);
    }
    xd_log_info("%s: %s by %s", jid,
                k->create ? "account created" : "password changed",
                xd_command_requester(cx));
    if (!k->create)
        control_revoke(k->r, k->account, "the password was changed");
    xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO,
                        k->create ? "The account was created."
                                  : "The password was changed.");
    return XD_COMMAND_COMPLETED;
}

static void
keys_derived(int rc, const xd_scram_creds *creds, size_t n, void *arg)
{
    struct keys_job *k = arg;

    k->job = NULL;
    if (rc == XD_ESTATE) /* cancelled by keys_end: it frees k */
        return;
    if (rc == 0 && n == ACCOUNTS_MECHS)
        rc = accounts_store(k->r->db, xd_jid_domain(k->account),
                            xd_jid_local(k->account), creds, k->create);
    else if (rc == 0)
        rc = XD_EIO;
    k->rc = rc;
    xd_command_deferred *d = k->d;
    k->d = NULL;
    xd_command_resume(d, keys_stored);
}

static void
keys_end(xd_command_ctx *cx, xd_command_end why)
{
    struct keys_job *k = *xd_command_state(cx);

    (void)why;
    if (k == NULL)
        return;
    kdf_cancel(k->job); /* the result, if it comes, is thrown away */
    xd_jid_free(k->account);
    free(k);
    *xd_command_state(cx) = NULL;
}

/* Hands `password` to the worker for `account` (taken); the run waits. */
static xd_command_status
derive(xd_command_ctx *cx, xd_jid *account, const char *password, int create)
{
    struct router *r = xd_command_arg(cx);
    struct kdf_request req[ACCOUNTS_MECHS];
    char *prepped = NULL;
    int exists =
        accounts_exists(r->db, xd_jid_domain(account), xd_jid_local(account));
    xd_command_status st;

    if (exists < 0)
        st = xd_command_fail(cx, "internal-server-error", NULL);
    else if (create && exists)
        st = xd_command_fail(cx, "conflict", "The account exists already.");
    else if (!create && !exists)
        st = xd_command_fail(cx, "item-not-found", "No such account.");
    else if (accounts_prepare_password(password, &prepped) != 0)
        st = xd_command_fail(cx, "bad-request", "The password cannot be used.");
    else
        st = XD_COMMAND_PENDING;
    if (st != XD_COMMAND_PENDING) {
        xd_jid_free(account);
        return st;
    }
    for (size_t i = 0; i < ACCOUNTS_MECHS; i++)
        req[i] = (struct kdf_request){ accounts_mechs[i], NULL, 0,
                                       (unsigned)r->conf.scram_iterations };
    struct keys_job *k = xd_xcalloc(1, sizeof(*k));
    k->r = r;
    k->account = account;
    k->create = create;
    k->d = xd_command_defer(cx);
    int rc = k->d == NULL || r->kdf == NULL
                 ? XD_ESTATE
                 : kdf_derive(r->kdf, prepped, req, ACCOUNTS_MECHS,
                              keys_derived, k, &k->job);
    explicit_bzero(prepped, strlen(prepped));
    free(prepped);
    if (rc != 0) {
        xd_log_info("%s: %s refused: the key derivation worker is busy",
                    xd_jid_str(account),
                    create ? "add-user" : "change-user-password");
        xd_jid_free(account);
        free(k);
        return xd_command_fail(cx, "resource-constraint",
                               "The server is busy; try again later.");
    }
    *xd_command_state(cx) = k;
    return XD_COMMAND_PENDING;
}

static void
add_user_form(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    admin_form(x);
    xd_form_field_required(xd_form_add_field(
        x, "accountjid", "jid-single", "The Jabber ID for the account", NULL));
    xd_form_field_required(
        xd_form_add_field(x, "password", "text-private", "Password", NULL));
    xd_form_field_required(xd_form_add_field(
        x, "password-verify", "text-private", "Retype password", NULL));
}

static xd_command_status
add_user(xd_command_ctx *cx, const xd_elem *values)
{
    const char *pw = xd_form_value(values, "password");
    const char *again = xd_form_value(values, "password-verify");
    xd_jid *j = NULL;
    xd_command_status st =
        account_of(cx, xd_form_value(values, "accountjid"), &j);

    if (st != XD_COMMAND_COMPLETED)
        return st;
    if (pw == NULL || again == NULL || strcmp(pw, again) != 0) {
        xd_jid_free(j);
        return xd_command_fail(cx, "bad-request",
                               "The passwords do not match.");
    }
    return derive(cx, j, pw, 1);
}

static void
change_password_form(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    admin_form(x);
    xd_form_field_required(xd_form_add_field(
        x, "accountjid", "jid-single", "The Jabber ID for this account", NULL));
    xd_form_field_required(
        xd_form_add_field(x, "password", "text-private", "Password", NULL));
}

static xd_command_status
change_password(xd_command_ctx *cx, const xd_elem *values)
{
    xd_jid *j = NULL;
    xd_command_status st =
        account_of(cx, xd_form_value(values, "accountjid"), &j);

    if (st != XD_COMMAND_COMPLETED)
        return st;
    return derive(cx, j, xd_form_value(values, "password"), 0);
}

/* --- delete-user --------------------------------------------------------- */

static void
delete_user_form(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    admin_form(x);
    xd_form_field_required(xd_form_add_field(
        x, "accountjids", "jid-multi", "The Jabber ID(s) to delete", NULL));
}

static xd_command_status
delete_users(xd_command_ctx *cx, const xd_elem *values)
{
    struct router *r = xd_command_arg(cx);
    const xd_elem *f = xd_form_field(values, "accountjids");
    xd_jid *jids[DELETE_MAX];
    size_t n = 0, deleted = 0;
    xd_command_status st = XD_COMMAND_COMPLETED;
    char text[200];

    /* Every JID is checked before anything is deleted. */
    for (const xd_elem *v = f ? xd_form_first_value(f) : NULL;
         v != NULL && st == XD_COMMAND_COMPLETED; v = xd_form_next_value(v)) {
        if (n == DELETE_MAX) {
            st = xd_command_fail(cx, "bad-request",
                                 "At most 100 accounts at a time.");
            break;
        }
        st = account_of(cx, xd_elem_text(v), &jids[n]);
        if (st == XD_COMMAND_COMPLETED)
            n++;
    }
    for (size_t i = 0; i < n && st == XD_COMMAND_COMPLETED; i++) {
        int rc = accounts_delete(r->db, xd_jid_domain(jids[i]),
                                 xd_jid_local(jids[i]));
        if (rc == XD_ENOTFOUND) {
            snprintf(text, sizeof(text), "%.150s: no such account.",
                     xd_jid_str(jids[i]));
            xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_WARN,
                                text);
            continue;
        }
        if (rc != 0) {
            st = xd_command_fail(cx, "internal-server-error", NULL);
            break;
        }
        deleted++;
        xd_log_info("%s: account deleted by %s", xd_jid_str(jids[i]),
                    xd_command_requester(cx));
        if (r->archive_modes != NULL)
            xd_map_remove(r->archive_modes, xd_jid_str(jids[i]));
        control_revoke(r, jids[i], "the account was deleted");
    }
    for (size_t i = 0; i < n; i++)
        xd_jid_free(jids[i]);
    if (st == XD_COMMAND_COMPLETED) {
        snprintf(text, sizeof(text), "%zu account(s) deleted.", deleted);
        xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO, text);
    }
    return st;
}

/* --- online users -------------------------------------------------------- */

struct online {
    const char *host;
    xd_elem *field; /* NULL: count only */
    size_t n, max;
};

static void
count_online(const char *bare, void *value, void *arg)
{
    struct online *o = arg;
    const char *at = strchr(bare, '@');

    (void)value;
    if (at == NULL || strcmp(at + 1, o->host) != 0)
        return;
    if (o->field != NULL && o->n < o->max)
        xd_form_field_add_value(o->field, bare);
    o->n++;
}

static xd_command_status
online_users_num(xd_command_ctx *cx, const xd_elem *values)
{
    struct router *r = xd_command_arg(cx);
    struct online o = { xd_command_target(cx), NULL, 0, 0 };

    (void)values;
    xd_map_each(r->users, count_online, &o);
    xd_elem *x = admin_form(
        xd_form_add(xd_command_reply(cx), "result", "Online users", NULL));
    xd_form_add_int(x, "onlineusersnum", "text-single",
                    "The number of online users", (long long)o.n);
    return XD_COMMAND_COMPLETED;
}

static void
max_items_form(xd_command_ctx *cx, xd_elem *x)
{
    static const char *const sizes[] = {
        "25", "50", "75", "100", "150", "200"
    };

    (void)cx;
    admin_form(x);
    xd_elem *f = xd_form_add_field(x, "max_items", "list-single",
                                   "Maximum number of items to show", "100");
    for (size_t i = 0; i < XD_NELEM(sizes); i++)
        xd_form_field_add_option(f, sizes[i], sizes[i]);
    xd_form_field_add_option(f, "None", "none");
}

static xd_command_status
online_users_list(xd_command_ctx *cx, const xd_elem *values)
{
    struct router *r = xd_command_arg(cx);
    const char *max = xd_form_value(values, "max_items");
    xd_elem *reply = xd_command_reply(cx);
    xd_elem *x = admin_form(xd_form_add(reply, "result", "Online users", NULL));
    struct online o = { xd_command_target(cx), NULL, 0, LIST_MAX };

    /* Checked against the options: a number of them, "none" or absent. */
    if (max != NULL && strcmp(max, "none") != 0 && atoi(max) > 0)
        o.max = (size_t)atoi(max);
    o.field = xd_form_add_field(x, "onlineuserjids", "jid-multi",
                                "The list of all online users", NULL);
    xd_map_each(r->users, count_online, &o);
    if (o.n > o.max) {
        char text[96];
        snprintf(text, sizeof(text), "%zu of the %zu online users are listed.",
                 o.max, o.n);
        xd_command_add_note(reply, XD_COMMAND_NOTE_WARN, text);
    }
    return XD_COMMAND_COMPLETED;
}

/* --- announce ------------------------------------------------------------ */

static void
announce_form(xd_command_ctx *cx, xd_elem *x)
{
    (void)cx;
    admin_form(x);
    xd_form_add_field(x, "subject", "text-single", "Subject", NULL);
    xd_form_field_required(xd_form_add_field(x, "announcement", "text-multi",
                                             "Announcement", NULL));
}

static xd_command_status
announce_run(xd_command_ctx *cx, const xd_elem *values)
{
    struct router *r = xd_command_arg(cx);
    char *body = joined(values, "announcement");
    char text[96];

    if (body == NULL)
        return xd_command_fail(cx, "bad-request", "The announcement is empty.");
    size_t n = announce(r, xd_command_target(cx),
                        xd_form_value(values, "subject"), body);
    free(body);
    xd_log_info("%s: announcement by %s to %zu session(s)",
                xd_command_target(cx), xd_command_requester(cx), n);
    snprintf(text, sizeof(text), "Sent to %zu session(s).", n);
    xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO, text);
    return XD_COMMAND_COMPLETED;
}

/* --- shutdown ------------------------------------------------------------ */

static void
shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    router_shutdown(arg, "XEP-0133 shutdown");
}

static void
shutdown_form(xd_command_ctx *cx, xd_elem *x)
{
    static const struct {
        const char *label, *value;
    } delays[] = {
        { "Now", "0" },         { "5 seconds", "5" },   { "30 seconds", "30" },
        { "60 seconds", "60" }, { "90 seconds", "90" }, { "2 minutes", "120" },
        { "3 minutes", "180" }, { "4 minutes", "240" }, { "5 minutes", "300" },
    };

    (void)cx;
    admin_form(x);
    xd_elem *f = xd_form_field_required(xd_form_add_field(
        x, "delay", "list-single", "Time delay before shutting down", "30"));
    for (size_t i = 0; i < XD_NELEM(delays); i++)
        xd_form_field_add_option(f, delays[i].label, delays[i].value);
    xd_form_add_field(x, "announcement", "text-multi", "Announcement", NULL);
}

static xd_command_status
shutdown_run(xd_command_ctx *cx, const xd_elem *values)
{
    struct router *r = xd_command_arg(cx);
    const char *delay = xd_form_value(values, "delay");
    char *body = joined(values, "announcement");
    /* One of the options: checked. */
    struct timeval tv = { delay ? atoi(delay) : 0, 0 };

    if (r->admin_shutdown == NULL &&
        (r->admin_shutdown = evtimer_new(r->base, shutdown_cb, r)) == NULL)
        return xd_command_fail(cx, "internal-server-error", NULL);
    if (body != NULL) /* every host goes down */
        announce(r, NULL, NULL, body);
    free(body);
    /* Even without a delay, on a later turn: the answer goes out first. */
    evtimer_add(r->admin_shutdown, &tv);
    xd_log_info("shutdown in %lld s asked by %s", (long long)tv.tv_sec,
                xd_command_requester(cx));
    xd_command_add_note(xd_command_reply(cx), XD_COMMAND_NOTE_INFO,
                        "The service is shutting down.");
    return XD_COMMAND_COMPLETED;
}

/* --- the tables ---------------------------------------------------------- */

static const xd_command_stage add_user_stages[] = {
    { "Adding a User", "Fill out this form to add a user.", add_user_form,
      NULL },
};
static const xd_command_stage delete_user_stages[] = {
    { "Deleting a User", "Fill out this form to delete a user.",
      delete_user_form, NULL },
};
static const xd_command_stage change_password_stages[] = {
    { "Changing a User Password",
      "Fill out this form to change a user's password.", change_password_form,
      NULL },
};
static const xd_command_stage online_list_stages[] = {
    { "Requesting List of Online Users",
      "Fill out this form to request the online users of this service.",
      max_items_form, NULL },
};
static const xd_command_stage announce_stages[] = {
    { "Making an Announcement",
      "Fill out this form to make an announcement to all active users of "
      "this service.",
      announce_form, NULL },
};
static const xd_command_stage shutdown_stages[] = {
    { "Shutting Down the Service",
      "Fill out this form to shut down the service.", shutdown_form, NULL },
};

static const xd_command admin_table[] = {
    { NODE("add-user"), "Add User", add_user_stages, 1, add_user, keys_end,
      is_admin },
    { NODE("delete-user"), "Delete User", delete_user_stages, 1, delete_users,
      NULL, is_admin },
    { NODE("change-user-password"), "Change User Password",
      change_password_stages, 1, change_password, keys_end, is_admin },
    { NODE("get-online-users-num"), "Get Number of Online Users", NULL, 0,
      online_users_num, NULL, is_admin },
    { NODE("get-online-users-list"), "Get List of Online Users",
      online_list_stages, 1, online_users_list, NULL, is_admin },
    { NODE("announce"), "Send Announcement to Online Users", announce_stages, 1,
      announce_run, NULL, is_admin },
    { NODE("shutdown"), "Shut Down Service", shutdown_stages, 1, shutdown_run,
      NULL, is_admin },
};

/* --- the registries ------------------------------------------------------ */

/* Answers come from the host (xd_stanza_reply swapped the addresses). */
static void
send_answer(xd_stanza *st, void *arg)
{
    router_route(arg, st);
}

struct starting {
    struct router *r;
    int rc;
};

static void
start_host(const char *host, void *value, void *arg)
{
    struct starting *s = arg;
    xd_commands *cmds = xd_commands_new(s->r->base, host, send_answer, s->r);

    (void)value;
    for (size_t i = 0; i < XD_NELEM(admin_table); i++)
        if (xd_commands_add(cmds, &admin_table[i], s->r) != 0)
            s->rc = XD_EINVAL;
    xd_map_put(s->r->admin_commands, host, cmds);
}

int
admin_commands_start(struct router *r)
{
    struct starting s = { r, 0 };

    r->admin_commands = xd_map_new();
    xd_map_each(r->hosts, start_host, &s);
    return s.rc;
}

static void
free_host(const char *host, void *value, void *arg)
{
    (void)host;
    (void)arg;
    xd_commands_free(value);
}

void
admin_commands_stop(struct router *r)
{
    if (r->admin_commands != NULL) {
        xd_map_each(r->admin_commands, free_host, NULL);
        xd_map_free(r->admin_commands);
        r->admin_commands = NULL;
    }
    if (r->admin_shutdown != NULL) {
        event_free(r->admin_shutdown);
        r->admin_shutdown = NULL;
    }
}

xd_verdict
admin_commands_handle(struct router *r, const xd_jid *host, const xd_stanza *st)
{
    xd_commands *cmds = r->admin_commands
                            ? xd_map_get(r->admin_commands, xd_jid_str(host))
                            : NULL;

    return cmds != NULL ? xd_commands_handle(cmds, st) : XD_PASS;
}
