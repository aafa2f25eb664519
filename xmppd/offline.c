/*
 * offline.c: offline messages (XEP-0160). A chat or normal message with a
 * body for an account that has no available resource is stored, stamped
 * with an XEP-0203 delay, up to offline_max_messages per account; it is
 * delivered, oldest first, when the account next sends available presence
 * with a non-negative priority, and deleted once handed to the session.
 */
#define XD_LOG_AREA "offline"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include <xmppd/log.h>

#include "router.h"

#define XD_NS_DELAY "urn:xmpp:delay"

int
offline_store(struct router *r, const xd_jid *to, const xd_stanza *st)
{
    const char *host = xd_jid_domain(to), *user = xd_jid_local(to);
    sqlite3_stmt *q;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;

    if (r->conf.offline_max_messages == 0)
        return XD_ELIMIT;
    if (xd_db_prepare(r->db,
                      "SELECT count(*) FROM offline_messages WHERE host = ? "
                      "AND user = ?",
                      &q) != 0)
        return XD_EIO;
    sqlite3_bind_text(q, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, user, -1, SQLITE_STATIC);
    long long count =
        sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_reset(q);
    if (count < 0)
        return XD_EIO;
    if ((unsigned long long)count >= r->conf.offline_max_messages) {
        xd_log_info("%s: offline store full (%lld)", xd_jid_bare_str(to),
                    count);
        return XD_ELIMIT;
    }

    xd_stanza *copy = xd_stanza_copy(xd_stanza_root(st));
    xd_elem *delay =
        xd_elem_add_child(xd_stanza_root(copy), "delay", XD_NS_DELAY);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    xd_elem_set_attr(delay, "from", host);
    xd_elem_set_attr(delay, "stamp", stamp);
    xd_elem_add_text(delay, "Offline storage", 15);
    char *xml = xd_elem_to_string(xd_stanza_root(copy), NULL);
    xd_stanza_unref(copy);

    int rc = XD_EIO;
    db_batch_write(r);
    if (xd_db_prepare(r->db,
                      "INSERT INTO offline_messages (host, user, stored, "
                      "stanza) VALUES (?, ?, ?, ?)",
                      &q) == 0) {
        sqlite3_bind_text(q, 1, host, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)now);
        sqlite3_bind_text(q, 4, xml, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_DONE)
            rc = 0;
        else
            xd_log_warnx("%s: %s", xd_jid_bare_str(to),
                         sqlite3_errmsg(xd_db_handle(r->db)));
        sqlite3_reset(q);
    }
    free(xml);
    return rc;
}

void
offline_deliver(struct router *r, struct c2s *c)
{
    const xd_jid *jid = c2s_jid(c);
    const char *host = xd_jid_domain(jid), *user = xd_jid_local(jid);
    sqlite3_stmt *q;
    long long last = -1;
    int n = 0, rc;

    if (xd_db_prepare(r->db,
                      "SELECT id, stanza FROM offline_messages WHERE host = "
                      "? AND user = ? ORDER BY id",
                      &q) != 0)
        return;
    sqlite3_bind_text(q, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, user, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *xml = (const char *)sqlite3_column_text(q, 1);
        xd_stanza *st = NULL;
        last = sqlite3_column_int64(q, 0);
        /* Stored by us, so it parses; a corrupt row is skipped, logged. */
        if (stored_xml_parse(r, xml, &st) != 0) {
            xd_log_warnx("%s: stored message %lld unreadable",
                         xd_jid_bare_str(jid), last);
            continue;
        }
        c2s_deliver(c, st);
        n++;
    }
    sqlite3_reset(q);
    if (last < 0)
        return;
    /* Delete what was handed over, and only that: a message stored while
     * we were sending waits for the next time. */
    db_batch_write(r);
    if (xd_db_prepare(r->db,
                      "DELETE FROM offline_messages WHERE host = ? AND user "
                      "= ? AND id <= ?",
                      &q) == 0) {
        sqlite3_bind_text(q, 1, host, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, last);
        if (sqlite3_step(q) != SQLITE_DONE)
            xd_log_warnx("%s: %s", xd_jid_bare_str(jid),
                         sqlite3_errmsg(xd_db_handle(r->db)));
        sqlite3_reset(q);
    }
    xd_log_info("%s: delivered %d offline message(s)", xd_jid_str(jid), n);
}
