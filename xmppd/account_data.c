/*
 * account_data.c: XML an account keeps on the server: XEP-0049 private XML
 * storage (the owner only) and XEP-0054 vCards (the owner writes, anyone
 * reads).
 */
#define XD_LOG_AREA "account"
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <xmppd/log.h>

#include "router.h"

#define XD_NS_PRIVATE "jabber:iq:private"
#define XD_NS_VCARD   "vcard-temp"

/* The stored XML under key, parsed, or NULL (none, or unreadable). */
static xd_stanza *
load(struct router *r, const xd_jid *account, const char *key)
{
    sqlite3_stmt *q;
    xd_stanza *st = NULL;

    if (xd_db_prepare(r->db,
                      "SELECT xml FROM account_xml WHERE host = ? AND user "
                      "= ? AND key = ?",
                      &q) != 0)
        return NULL;
    sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, key, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *xml = (const char *)sqlite3_column_text(q, 0);
        if (stored_xml_parse(r, xml, &st) != 0)
            xd_log_warnx("%s: stored %s unreadable", xd_jid_bare_str(account),
                         key);
    }
    sqlite3_reset(q);
    return st;
}

static int
store(struct router *r, const xd_jid *account, const char *key,
      const xd_elem *e)
{
    sqlite3_stmt *q;
    char *xml = xd_elem_to_string(e, NULL);
    int rc = XD_EIO;

    if (xd_db_prepare(r->db,
                      "INSERT OR REPLACE INTO account_xml (host, user, key, "
                      "xml) VALUES (?, ?, ?, ?)",
                      &q) == 0) {
        sqlite3_bind_text(q, 1, xd_jid_domain(account), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, xd_jid_local(account), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, xml, -1, SQLITE_STATIC);
        rc = sqlite3_step(q) == SQLITE_DONE ? 0 : XD_EIO;
        sqlite3_reset(q);
    }
    free(xml);
    return rc;
}

static char *
private_key(const xd_elem *e)
{
    return xd_xasprintf("private %s %s", xd_elem_ns(e), xd_elem_name(e));
}

/* XEP-0049: exactly one child naming the namespace; stanza namespaces and
 * the storage's own are not for storing. */
static const char *
private_iq(struct router *r, const xd_jid *account, const xd_stanza *in,
           const xd_elem *q, int set, xd_elem *out_root)
{
    const xd_elem *data = xd_elem_first(q);

    if (data == NULL || xd_elem_next(data) != NULL)
        return "bad-request";
    const char *ns = xd_elem_ns(data);
    if (*ns == '\0' || strcmp(ns, XD_NS_CLIENT) == 0 ||
        strcmp(ns, XD_NS_PRIVATE) == 0)
        return "not-acceptable";
    char *key = private_key(data);
    const char *cond = NULL;
    if (set) {
        if (store(r, account, key, data) != 0)
            cond = "internal-server-error";
    } else {
        xd_elem *res = xd_elem_add_child(out_root, "query", XD_NS_PRIVATE);
        xd_stanza *saved = load(r, account, key);
        if (saved != NULL)
            xd_elem_add_copy(res, xd_stanza_root(saved));
        else /* nothing stored: the empty element back */
            xd_elem_add_child(res, xd_elem_name(data), ns);
        xd_stanza_unref(saved);
    }
    (void)in;
    free(key);
    return cond;
}

static const char *
vcard_iq(struct router *r, const xd_jid *account, const xd_elem *q, int set,
         int owner, xd_elem *out_root)
{
    if (set) {
        if (!owner)
            return "forbidden";
        return store(r, account, "vcard", q) == 0 ? NULL
                                                  : "internal-server-error";
    }
    xd_stanza *saved = load(r, account, "vcard");
    if (saved != NULL)
        xd_elem_add_copy(out_root, xd_stanza_root(saved));
    else
        xd_elem_add_child(out_root, "vCard", XD_NS_VCARD);
    xd_stanza_unref(saved);
    return NULL;
}

const char *
account_data_iq(struct router *r, const xd_jid *account, const xd_stanza *in,
                const xd_elem *q, xd_elem *out_root, int *handled)
{
    const char *type = xd_stanza_type(in);
    int set = strcmp(type, "set") == 0;
    xd_jid *from = NULL;
    int owner = 0;

    *handled = 1;
    if (xd_stanza_from(in) != NULL &&
        xd_jid_parse(xd_stanza_from(in), &from) == 0)
        owner = strcmp(xd_jid_bare_str(from), xd_jid_bare_str(account)) == 0;
    xd_jid_free(from);
    if (xd_elem_is(q, "query", XD_NS_PRIVATE))
        return owner ? private_iq(r, account, in, q, set, out_root)
                     : "forbidden";
    if (xd_elem_is(q, "vCard", XD_NS_VCARD))
        return vcard_iq(r, account, q, set, owner, out_root);
    *handled = 0;
    return NULL;
}
