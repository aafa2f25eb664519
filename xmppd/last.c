/*
 * last.c: XEP-0012 last activity: the host's uptime, and for an account
 * the seconds since its last session ended (0 while it is online), shown
 * to the account itself and to contacts subscribed to its presence.
 */
#define XD_LOG_AREA "last"
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include <xmppd/log.h>

#include "roster_store.h"
#include "router.h"

#define XD_NS_LAST "jabber:iq:last"

void
last_seen_store(struct router *r, const xd_jid *account, const char *status)
{
    sqlite3_stmt *q;

    db_batch_write(r);
    if (xd_db_prepare(r->db,
                      "INSERT OR REPLACE INTO last_seen (host, user, stamp, "
                      "status) VALUES (?, ?, ?, ?)",
                      &q) != 0)
        return;
    sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)time(NULL));
    if (status != NULL)
        sqlite3_bind_text(q, 4, status, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        xd_log_warnx("%s: %s", xd_jid_bare_str(account),
                     sqlite3_errmsg(xd_db_handle(r->db)));
    sqlite3_reset(q);
}

/* The requester may see the account's activity: itself, or a contact with
 * a subscription from the account (RFC 6121 presence authorisation). */
static int
allowed(struct router *r, const xd_jid *account, const char *from)
{
    xd_jid *f = NULL;
    struct roster_item it = { 0 };
    int ok = 0;

    if (from == NULL || xd_jid_parse(from, &f) != 0)
        return 0;
    if (strcmp(xd_jid_bare_str(f), xd_jid_bare_str(account)) == 0)
        ok = 1;
    else if (roster_get(r->db, xd_jid_domain(account), xd_jid_local(account),
                        xd_jid_bare_str(f), &it) == 1)
        ok = strcmp(it.subscription, "from") == 0 ||
             strcmp(it.subscription, "both") == 0;
    roster_item_clear(&it);
    xd_jid_free(f);
    return ok;
}

const char *
last_activity(struct router *r, const xd_jid *to, const xd_stanza *in,
              xd_elem *out_root)
{
    char secs[24];
    long long seconds = 0;
    const char *status = NULL;
    sqlite3_stmt *q = NULL;

    if (xd_jid_local(to) == NULL) {
        seconds = (long long)(time(NULL) - r->started);
    } else {
        if (!allowed(r, to, xd_stanza_from(in)))
            return "forbidden";
        if (sessions_of(r, xd_jid_bare_str(to)) == NULL) {
            if (xd_db_prepare(r->db,
                              "SELECT stamp, status FROM last_seen WHERE "
                              "host = ? AND user = ?",
                              &q) != 0)
                return "internal-server-error";
            sqlite3_bind_text(q, 1, xd_jid_domain(to), -1, SQLITE_STATIC);
            sqlite3_bind_text(q, 2, xd_jid_local(to), -1, SQLITE_STATIC);
            if (sqlite3_step(q) != SQLITE_ROW) {
                sqlite3_reset(q);
                return "item-not-found"; /* never logged in */
            }
            seconds = (long long)time(NULL) - sqlite3_column_int64(q, 0);
            status = (const char *)sqlite3_column_text(q, 1);
        }
    }
    xd_elem *out = xd_elem_add_child(out_root, "query", XD_NS_LAST);
    snprintf(secs, sizeof(secs), "%lld", seconds < 0 ? 0 : seconds);
    xd_elem_set_attr(out, "seconds", secs);
    if (status != NULL)
        xd_elem_add_text(out, status, strlen(status));
    if (q != NULL)
        sqlite3_reset(q);
    return NULL;
}
