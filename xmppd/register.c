/*
 * register.c: XEP-0077 in-band registration. Off unless `registration` is
 * on: then a client may create an account before authenticating (one per
 * address per registration_interval_s, only over TLS when TLS is
 * required), and an authenticated one may change its password or cancel
 * its account. Cancelling deletes everything the account had and ends its
 * other sessions with not-authorized (XEP-0077 3.2).
 */
#define XD_LOG_AREA "register"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmppd/log.h>

#include "accounts.h"
#include "c2s_internal.h"

/* Addresses remembered at most; when full, the expired ones go. */
#define TRACKED_MAX 10000

static void
reply_error(struct c2s *c, const xd_stanza *st, xd_error_type type,
            const char *condition, const char *text)
{
    c2s_send(c, xd_stanza_error_reply(st, type, condition, text));
}

/* The form: what a client must fill in (XEP-0077 3.1). */
static void
send_form(struct c2s *c, const xd_stanza *st)
{
    xd_stanza *res = xd_stanza_reply(st);
    xd_elem *q =
        xd_elem_add_child(xd_stanza_root(res), "query", XD_NS_REGISTER);

    if (c->authenticated) {
        xd_elem_add_child(q, "registered", NULL);
        xd_elem_set_child_text(q, "username", NULL, c->user);
    } else {
        xd_elem_set_child_text(q, "instructions", NULL,
                               "Choose a username and password to register "
                               "with this server.");
        xd_elem_add_child(q, "username", NULL);
    }
    xd_elem_add_child(q, "password", NULL);
    c2s_send(c, res);
}

struct expired {
    struct router *r;
    time_t now;
    char **keys;
    size_t n;
};

static void
find_expired(const char *key, void *value, void *arg)
{
    struct expired *e = arg;

    if (e->now - (time_t)(intptr_t)value >=
        (time_t)e->r->conf.registration_interval_s)
        e->keys[e->n++] = xd_xstrdup(key);
}

/* 1 when the address registered an account too recently. */
static int
too_soon(struct router *r, const char *addr, time_t now)
{
    void *last = xd_map_get(r->registrations, addr);

    if (xd_map_count(r->registrations) >= TRACKED_MAX) {
        struct expired e = { r, now, NULL, 0 };
        e.keys = xd_xcalloc(xd_map_count(r->registrations), sizeof(char *));
        xd_map_each(r->registrations, find_expired, &e);
        for (size_t i = 0; i < e.n; i++) {
            xd_map_remove(r->registrations, e.keys[i]);
            free(e.keys[i]);
        }
        free(e.keys);
    }
    return last != NULL && now - (time_t)(intptr_t)last <
                               (time_t)r->conf.registration_interval_s;
}

static void
create_account(struct c2s *c, const xd_stanza *st, const xd_elem *q)
{
    struct router *r = c->r;
    const char *user = xd_elem_child_text(q, "username", NULL);
    const char *pw = xd_elem_child_text(q, "password", NULL);
    char addr[64];
    time_t now = time(NULL);
    xd_jid *j = NULL;

    if (user == NULL || pw == NULL || *pw == '\0' ||
        xd_jid_make(user, c->host, NULL, &j) != 0) {
        reply_error(c, st, XD_ERRT_MODIFY, "not-acceptable",
                    "a valid username and a password are needed");
        return;
    }
    auth_limits_address(c->ops->peer(c->t), addr, sizeof(addr));
    if (too_soon(r, addr, now)) {
        xd_log_info("%s: registration of %s refused: too soon", addr,
                    xd_jid_str(j));
        reply_error(c, st, XD_ERRT_WAIT, "resource-constraint",
                    "one registration per address at a time; try later");
        xd_jid_free(j);
        return;
    }
    int rc = accounts_create(r->db, c->host, xd_jid_local(j), pw,
                             (unsigned)r->conf.scram_iterations);
    if (rc == 0) {
        xd_map_put(r->registrations, addr, (void *)(intptr_t)now);
        xd_log_info("%s: registered %s", addr, xd_jid_str(j));
        c2s_send(c, xd_stanza_reply(st));
    } else if (rc == XD_EEXIST) {
        reply_error(c, st, XD_ERRT_CANCEL, "conflict", NULL);
    } else if (rc == XD_EINVAL) {
        reply_error(c, st, XD_ERRT_MODIFY, "not-acceptable",
                    "the password cannot be used");
    } else {
        reply_error(c, st, XD_ERRT_WAIT, "internal-server-error", NULL);
    }
    xd_jid_free(j);
}

static void
change_password(struct c2s *c, const xd_stanza *st, const xd_elem *q)
{
    struct router *r = c->r;
    const char *user = xd_elem_child_text(q, "username", NULL);
    const char *pw = xd_elem_child_text(q, "password", NULL);
    xd_jid *j = NULL;

    /* XEP-0077 3.3: the username, if given, must be the account's own. */
    if (pw == NULL || *pw == '\0' ||
        (user != NULL && (xd_jid_make(user, c->host, NULL, &j) != 0 ||
                          strcmp(xd_jid_local(j), c->user) != 0))) {
        xd_jid_free(j);
        reply_error(c, st, XD_ERRT_MODIFY, "bad-request", NULL);
        return;
    }
    xd_jid_free(j);
    int rc = accounts_set_password(r->db, c->host, c->user, pw,
                                   (unsigned)r->conf.scram_iterations);
    if (rc == 0) {
        xd_log_info("%s: password changed", xd_jid_bare_str(c->jid));
        c2s_send(c, xd_stanza_reply(st));
    } else {
        reply_error(
            c, st, rc == XD_EINVAL ? XD_ERRT_MODIFY : XD_ERRT_WAIT,
            rc == XD_EINVAL ? "not-acceptable" : "internal-server-error", NULL);
    }
}

static void
cancel_account(struct c2s *c, const xd_stanza *st)
{
    struct router *r = c->r;

    if (accounts_delete(r->db, c->host, c->user) != 0) {
        reply_error(c, st, XD_ERRT_WAIT, "internal-server-error", NULL);
        return;
    }
    xd_log_info("%s: account cancelled", xd_jid_bare_str(c->jid));
    if (r->archive_modes != NULL)
        xd_map_remove(r->archive_modes, xd_jid_bare_str(c->jid));
    c2s_send(c, xd_stanza_reply(st));
    const struct user_sessions *us = sessions_of(r, xd_jid_bare_str(c->jid));
    for (size_t i = 0; us != NULL && i < us->n; i++)
        c2s_kick(us->list[i], "not-authorized", "the account was cancelled");
}

void
register_iq(struct c2s *c, xd_stanza *st)
{
    struct router *r = c->r;
    const xd_elem *q =
        xd_elem_child(xd_stanza_root(st), "query", XD_NS_REGISTER);
    const char *type = xd_stanza_type(st);
    int set = type != NULL && strcmp(type, "set") == 0;

    if (!r->conf.registration && !c->authenticated) {
        reply_error(c, st, XD_ERRT_CANCEL, "service-unavailable", NULL);
    } else if (!c->authenticated && r->conf.c2s_require_tls &&
               !c->ops->is_secure(c->t)) {
        reply_error(c, st, XD_ERRT_AUTH, "not-authorized",
                    "registration needs TLS");
    } else if (!set) {
        send_form(c, st);
    } else if (c->authenticated && xd_elem_child(q, "remove", NULL) != NULL) {
        cancel_account(c, st);
    } else if (c->authenticated) {
        change_password(c, st, q);
    } else {
        create_account(c, st, q);
    }
    xd_stanza_unref(st);
}
