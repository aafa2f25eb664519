/*
 * blocking.c: XEP-0191 blocking. An account's block list holds JIDs (bare,
 * full, a domain, or domain/resource); nothing passes between the account
 * and a matching address: the account's own stanzas to it are refused with
 * not-acceptable and <blocked/>, messages and iqs from it are answered
 * with service-unavailable, presence either way is dropped.
 */
#define XD_LOG_AREA "blocking"
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <xmppd/log.h>

#include "router.h"

#define XD_NS_BLOCKING_ERRORS "urn:xmpp:blocking:errors"

/* The account's list is empty: the common case costs no query. The count
 * is kept with the account's sessions while any is online. */
static int
list_is_empty(struct router *r, const xd_jid *account)
{
    struct user_sessions *us =
        (struct user_sessions *)sessions_of(r, xd_jid_bare_str(account));
    sqlite3_stmt *q;

    if (us != NULL && us->blocked_known)
        return us->blocked_count == 0;
    if (xd_db_prepare(r->db,
                      "SELECT count(*) FROM blocklist WHERE host = ? AND "
                      "user = ?",
                      &q) != 0)
        return 0;
    sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
    long long n =
        sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 1;
    sqlite3_reset(q);
    if (us != NULL) {
        us->blocked_known = 1;
        us->blocked_count = n;
    }
    return n == 0;
}

int
blocking_blocks(struct router *r, const xd_jid *account, const char *peer)
{
    xd_jid *p = NULL;
    sqlite3_stmt *q;
    int hit = 0;

    if (xd_jid_local(account) == NULL || list_is_empty(r, account) ||
        xd_jid_parse(peer, &p) != 0)
        return 0;
    /* XEP-0191 3.4 applies the JID matching of XEP-0016: full, bare,
     * domain/resource, domain. */
    char *domres = xd_jid_resource(p) ? xd_xasprintf("%s/%s", xd_jid_domain(p),
                                                     xd_jid_resource(p))
                                      : xd_xstrdup(xd_jid_domain(p));
    if (xd_db_prepare(r->db,
                      "SELECT 1 FROM blocklist WHERE host = ? AND user = ? "
                      "AND jid IN (?, ?, ?, ?) LIMIT 1",
                      &q) == 0) {
        sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, xd_jid_str(p), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, xd_jid_bare_str(p), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, domres, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 6, xd_jid_domain(p), -1, SQLITE_STATIC);
        hit = sqlite3_step(q) == SQLITE_ROW;
        sqlite3_reset(q);
    }
    free(domres);
    xd_jid_free(p);
    return hit;
}

xd_stanza *
blocking_refusal(const xd_stanza *st)
{
    xd_stanza *err =
        xd_stanza_error_reply(st, XD_ERRT_CANCEL, "not-acceptable", NULL);

    if (err != NULL) {
        xd_elem *e = xd_elem_child(xd_stanza_root(err), "error", NULL);
        xd_elem_add_child(e, "blocked", XD_NS_BLOCKING_ERRORS);
    }
    return err;
}

static void
push(struct router *r, const xd_jid *account, const xd_elem *change)
{
    const struct user_sessions *us = sessions_of(r, xd_jid_bare_str(account));

    for (size_t i = 0; us != NULL && i < us->n; i++) {
        struct c2s *c = us->list[i];
        if (!c2s_wants_blocklist(c))
            continue;
        xd_stanza *p =
            xd_stanza_iq_new("set", NULL, xd_jid_str(c2s_jid(c)), NULL);
        xd_elem_add_copy(xd_stanza_root(p), change);
        c2s_deliver(c, p);
    }
}

static int
change(struct router *r, const xd_jid *account, const char *sql,
       const char *jid)
{
    sqlite3_stmt *q;
    int rc = XD_EIO;

    if (xd_db_prepare(r->db, sql, &q) == 0) {
        sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
        if (jid != NULL)
            sqlite3_bind_text(q, 3, jid, -1, SQLITE_STATIC);
        rc = sqlite3_step(q) == SQLITE_DONE ? 0 : XD_EIO;
        sqlite3_reset(q);
    }
    return rc;
}

static void
list(struct router *r, const xd_jid *account, xd_elem *into)
{
    sqlite3_stmt *q;

    if (xd_db_prepare(r->db,
                      "SELECT jid FROM blocklist WHERE host = ? AND user = ? "
                      "ORDER BY jid",
                      &q) != 0)
        return;
    sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
    while (sqlite3_step(q) == SQLITE_ROW)
        xd_elem_set_attr(xd_elem_add_child(into, "item", NULL), "jid",
                         (const char *)sqlite3_column_text(q, 0));
    sqlite3_reset(q);
}

/* Block or unblock every item of `req`; the prepared JIDs replace the
 * given ones in `req` (for the push). 0 or a condition. */
static const char *
apply(struct router *r, const xd_jid *account, xd_elem *req, int block)
{
    size_t n = 0;

    for (xd_elem *it = xd_elem_child(req, "item", XD_NS_BLOCKING); it;
         it = xd_elem_next_match(it, "item", XD_NS_BLOCKING)) {
        xd_jid *j = NULL;
        if (xd_elem_attr(it, "jid") == NULL ||
            xd_jid_parse(xd_elem_attr(it, "jid"), &j) != 0)
            return "jid-malformed";
        xd_elem_set_attr(it, "jid", xd_jid_str(j));
        xd_jid_free(j);
        n++;
    }
    if (n == 0 && block)
        return "bad-request"; /* XEP-0191 3.3: at least one item */
    if (xd_db_begin(r->db) != 0)
        return "internal-server-error";
    int rc = 0;
    if (n == 0)
        rc = change(r, account,
                    "DELETE FROM blocklist WHERE host = ? AND user = ?", NULL);
    for (xd_elem *it = xd_elem_child(req, "item", XD_NS_BLOCKING);
         it && rc == 0; it = xd_elem_next_match(it, "item", XD_NS_BLOCKING))
        rc = change(r, account,
                    block ? "INSERT OR IGNORE INTO blocklist (host, user, "
                            "jid) VALUES (?, ?, ?)"
                          : "DELETE FROM blocklist WHERE host = ? AND user "
                            "= ? AND jid = ?",
                    xd_elem_attr(it, "jid"));
    if (rc != 0 || xd_db_commit(r->db) != 0) {
        xd_db_rollback(r->db);
        return "internal-server-error";
    }
    struct user_sessions *us =
        (struct user_sessions *)sessions_of(r, xd_jid_bare_str(account));
    if (us != NULL)
        us->blocked_known = 0; /* recounted on the next check */
    if (block)
        for (xd_elem *it = xd_elem_child(req, "item", XD_NS_BLOCKING); it;
             it = xd_elem_next_match(it, "item", XD_NS_BLOCKING))
            presence_unavailable_to(r, account, xd_elem_attr(it, "jid"));
    return NULL;
}

void
blocking_iq(struct router *r, struct c2s *c, xd_stanza *st)
{
    const char *type = xd_stanza_type(st);
    xd_elem *q = xd_elem_first(xd_stanza_root(st));
    xd_jid *account = xd_jid_bare(c2s_jid(c));
    const char *cond = NULL;

    if (type != NULL && strcmp(type, "get") == 0 &&
        xd_elem_is(q, "blocklist", XD_NS_BLOCKING)) {
        c2s_set_wants_blocklist(c);
        xd_stanza *res = xd_stanza_reply(st);
        list(r, account,
             xd_elem_add_child(xd_stanza_root(res), "blocklist",
                               XD_NS_BLOCKING));
        c2s_deliver(c, res);
    } else if (type != NULL && strcmp(type, "set") == 0 &&
               (xd_elem_is(q, "block", XD_NS_BLOCKING) ||
                xd_elem_is(q, "unblock", XD_NS_BLOCKING))) {
        int block = xd_elem_is(q, "block", XD_NS_BLOCKING);
        cond = apply(r, account, q, block);
        if (cond == NULL) {
            c2s_deliver(c, xd_stanza_reply(st));
            push(r, account, q);
        }
    } else if (type != NULL &&
               (strcmp(type, "get") == 0 || strcmp(type, "set") == 0)) {
        cond = "bad-request";
    }
    if (cond != NULL)
        c2s_deliver(c, xd_stanza_error_reply(
                           st, xd_stanza_error_default_type(cond), cond, NULL));
    xd_stanza_unref(st);
    xd_jid_free(account);
}
