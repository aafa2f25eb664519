/*
 * register.c: XEP-0077 in-band registration. Off unless `registration` is
 * on: then a client may create an account before authenticating (one per
 * address per registration_interval_s, only over TLS when TLS is
 * required), and an authenticated one may change its password (once per
 * password_change_interval_s) or cancel its account. Cancelling deletes
 * everything the account had and ends its other sessions with
 * not-authorized (XEP-0077 3.2).
 *
 * The keys of a new password are derived by the worker thread
 * (kdf_worker.c), not on the loop: the answer goes out when they are
 * stored. A connection has one derivation at a time; one that closes
 * meanwhile cancels it, and nothing is stored.
 */
#define XD_LOG_AREA "register"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmppd/log.h>

#include "accounts.h"
#include "password_policy.h"
#include "c2s_internal.h"
#include "kdf_worker.h"

/* Addresses remembered at most; when full, the expired ones go. */
#define TRACKED_MAX 10000

/* The request is not copied into the error: it may hold a password. */
static void
reply_error(struct c2s *c, const xd_stanza *st, xd_error_type type,
            const char *condition, const char *text)
{
    xd_stanza *err = xd_stanza_error_reply(st, type, condition, text);

    if (err == NULL)
        return;
    xd_elem *q = xd_elem_child(xd_stanza_root(err), "query", XD_NS_REGISTER);
    if (q != NULL)
        xd_elem_remove(q);
    c2s_send(c, err);
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
    time_t now, interval;
    char **keys;
    size_t n;
};

static void
find_expired(const char *key, void *value, void *arg)
{
    struct expired *e = arg;

    if (e->now - (time_t)(intptr_t)value >= e->interval)
        e->keys[e->n++] = xd_xstrdup(key);
}

/* 1 when `key` (an address, an account) did it less than interval_s ago
 * according to `times` (key -> time). */
static int
too_soon(xd_map *times, const char *key, unsigned long long interval_s,
         time_t now)
{
    void *last = xd_map_get(times, key);

    if (xd_map_count(times) >= TRACKED_MAX) {
        struct expired e = { now, (time_t)interval_s, NULL, 0 };
        e.keys = xd_xcalloc(xd_map_count(times), sizeof(char *));
        xd_map_each(times, find_expired, &e);
        for (size_t i = 0; i < e.n; i++) {
            xd_map_remove(times, e.keys[i]);
            free(e.keys[i]);
        }
        free(e.keys);
    }
    return last != NULL && now - (time_t)(intptr_t)last < (time_t)interval_s;
}

/* --- deriving the keys off the loop -------------------------------------- */

/* A request waiting for its keys; freed by derived() in every case. */
struct pending {
    struct router *r;
    struct c2s *c; /* not to be touched when rc is XD_ESTATE */
    xd_stanza *iq; /* the request, for the answer */
    char *user;    /* prepared localpart */
    int create;    /* registration, else password change */
    char addr[64]; /* registration: the client's address */
};

static void
pending_free(struct pending *p)
{
    xd_stanza_unref(p->iq);
    free(p->user);
    free(p);
}

static void
derived(int rc, const xd_scram_creds *creds, size_t n, void *arg)
{
    struct pending *p = arg;

    if (rc == XD_ESTATE) { /* the connection went away: nothing stored */
        if (p->create)
            xd_map_remove(p->r->registrations, p->addr);
        pending_free(p);
        return;
    }
    struct c2s *c = p->c;
    struct router *r = c->r;
    c->kdf_job = NULL;
    if (rc == 0 && n == ACCOUNTS_MECHS)
        rc = accounts_store(r->db, c->host, p->user, creds, p->create);
    else if (rc == 0)
        rc = XD_EIO;
    if (rc == 0 && !p->create) /* the interval runs from now */
        xd_map_put(r->password_changes, xd_jid_bare_str(c->jid),
                   (void *)(intptr_t)time(NULL));
    if (rc == 0) {
        xd_log_info("%s: %s@%s %s", c->ops->peer(c->t), p->user, c->host,
                    p->create ? "registered" : "changed its password");
        c2s_send(c, xd_stanza_reply(p->iq));
    } else {
        if (p->create)
            xd_map_remove(r->registrations, p->addr);
        if (rc == XD_EEXIST)
            reply_error(c, p->iq, XD_ERRT_CANCEL, "conflict", NULL);
        else if (rc == XD_ENOTFOUND)
            reply_error(c, p->iq, XD_ERRT_CANCEL, "item-not-found", NULL);
        else
            reply_error(c, p->iq, XD_ERRT_WAIT, "internal-server-error", NULL);
    }
    pending_free(p);
}

/* Hands the password to the worker; the answer to `st` goes out from
 * derived(). 0, XD_EINVAL (the password cannot be used) or XD_ELIMIT (the
 * worker has enough to do); answered here in those cases. */
static int
derive_and_store(struct c2s *c, xd_stanza *st, const char *user,
                 const char *password, int create, const char *addr)
{
    struct router *r = c->r;
    struct kdf_request req[ACCOUNTS_MECHS];
    char *prepped = NULL;
    int rc;

    if (accounts_prepare_password(password, &prepped) != 0) {
        reply_error(c, st, XD_ERRT_MODIFY, "not-acceptable",
                    "the password cannot be used");
        return XD_EINVAL;
    }
    if (password_check(prepped, r->conf.password_min_length) != 0) {
        explicit_bzero(prepped, strlen(prepped));
        free(prepped);
        reply_error(c, st, XD_ERRT_MODIFY, "not-acceptable",
                    "the password is too short");
        return XD_EINVAL;
    }
    for (size_t i = 0; i < ACCOUNTS_MECHS; i++)
        req[i] = (struct kdf_request){ accounts_mechs[i], NULL, 0,
                                       (unsigned)r->conf.scram_iterations };
    struct pending *p = xd_xcalloc(1, sizeof(*p));
    p->r = r;
    p->c = c;
    p->iq = xd_stanza_ref(st);
    p->user = xd_xstrdup(user);
    p->create = create;
    if (addr != NULL)
        snprintf(p->addr, sizeof(p->addr), "%s", addr);
    rc = r->kdf != NULL ? kdf_derive(r->kdf, prepped, req, ACCOUNTS_MECHS,
                                     derived, p, &c->kdf_job)
                        : XD_ESTATE;
    explicit_bzero(prepped, strlen(prepped));
    free(prepped);
    if (rc != 0) {
        xd_log_info("%s: %s refused: the key derivation worker is busy",
                    c->ops->peer(c->t),
                    create ? "registration" : "password change");
        pending_free(p);
        reply_error(c, st, XD_ERRT_WAIT, "resource-constraint",
                    "the server is busy; try again later");
        return XD_ELIMIT;
    }
    return 0;
}

/* One derivation per connection at a time: a client that pipelines
 * requests gets the others refused at once. */
static int
busy(struct c2s *c, const xd_stanza *st)
{
    if (c->kdf_job == NULL)
        return 0;
    reply_error(c, st, XD_ERRT_WAIT, "resource-constraint",
                "the previous request is still being handled");
    return 1;
}

static void
create_account(struct c2s *c, xd_stanza *st, const xd_elem *q)
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
    if (busy(c, st)) {
        xd_jid_free(j);
        return;
    }
    if (too_soon(r->registrations, addr, r->conf.registration_interval_s,
                 now)) {
        xd_log_info("%s: registration of %s refused: too soon", addr,
                    xd_jid_str(j));
        reply_error(c, st, XD_ERRT_WAIT, "resource-constraint",
                    "one registration per address at a time; try later");
        xd_jid_free(j);
        return;
    }
    /* Taken now, so that a second request from the address while the
     * keys are derived is too soon as well; given back on failure. */
    int rc = accounts_exists(r->db, c->host, xd_jid_local(j));
    if (rc == 1)
        reply_error(c, st, XD_ERRT_CANCEL, "conflict", NULL);
    else if (rc < 0)
        reply_error(c, st, XD_ERRT_WAIT, "internal-server-error", NULL);
    else if (derive_and_store(c, st, xd_jid_local(j), pw, 1, addr) == 0)
        xd_map_put(r->registrations, addr, (void *)(intptr_t)now);
    xd_jid_free(j);
}

static void
change_password(struct c2s *c, xd_stanza *st, const xd_elem *q)
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
    if (busy(c, st))
        return;
    /* Each change costs scram_iterations HMACs per mechanism: an account
     * gets one per password_change_interval_s (RFC 6120 8.3.3.18). */
    const char *bare = xd_jid_bare_str(c->jid);
    time_t now = time(NULL);
    if (too_soon(r->password_changes, bare, r->conf.password_change_interval_s,
                 now)) {
        xd_log_info("%s: password change refused: too soon", bare);
        reply_error(c, st, XD_ERRT_WAIT, "resource-constraint",
                    "the password was changed a moment ago; try later");
        return;
    }
    if (derive_and_store(c, st, c->user, pw, 0, NULL) == 0)
        xd_map_put(r->password_changes, bare, (void *)(intptr_t)now);
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
