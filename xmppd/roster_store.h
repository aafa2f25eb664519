/*
 * roster_store.h: roster items and roster versions in SQLite. `host` and
 * `user` name the account, prepared; `contact` is a prepared bare JID.
 * Every change bumps the account's roster version (XEP-0237).
 */
#ifndef XMPPD_ROSTER_STORE_H
#define XMPPD_ROSTER_STORE_H

#include <xmppd/db.h>

struct roster_item {
    const char *contact;
    const char *name;         /* NULL: none */
    const char *subscription; /* none, to, from, both */
    int ask;                  /* a subscription request is pending out */
    int approved;       /* RFC 6121 3.4: a request would be approved at once */
    const char *groups; /* group names joined by '\n'; "" for none */
};

/* The account's roster version (0 before any change): 0 or XD_EIO. */
int roster_version(xd_db *db, const char *host, const char *user,
                   long long *version);
/* Number of items: 0 or XD_EIO. */
int roster_count(xd_db *db, const char *host, const char *user,
                 long long *count);
/* Calls fn for each item, ordered by contact. Strings are borrowed for the
 * call. 0 or XD_EIO. */
int roster_each(xd_db *db, const char *host, const char *user,
                void (*fn)(const struct roster_item *item, void *arg),
                void *arg);
/* 1 and *found filled (strings malloc()ed, free with roster_item_clear) if
 * the contact is on the roster, 0 if not, XD_EIO. */
int roster_get(xd_db *db, const char *host, const char *user,
               const char *contact, struct roster_item *found);
void roster_item_clear(struct roster_item *item);
/* Adds or updates the item's name and groups (a new item starts with
 * subscription none, no ask), bumps the version, in one transaction; the
 * new version goes to *version. 0 or XD_EIO. */
int roster_put(xd_db *db, const char *host, const char *user,
               const struct roster_item *item, long long *version);
/* Removes the item and bumps the version. 0, XD_ENOTFOUND, XD_EIO. */
int roster_remove(xd_db *db, const char *host, const char *user,
                  const char *contact, long long *version);

/* Sets the subscription state and the pending-out flag of a contact,
 * adding the item (no name, no group) if needed, and bumps the version.
 * 0 or XD_EIO. */
int roster_set_subscription(xd_db *db, const char *host, const char *user,
                            const char *contact, const char *subscription,
                            int ask, long long *version);

/* Sets or clears a pre-approval (RFC 6121 3.4), adding the item if needed,
 * and bumps the version. 0 or XD_EIO. A subscription that gains the "from"
 * direction clears it (roster_set_subscription). */
int roster_set_approved(xd_db *db, const char *host, const char *user,
                        const char *contact, int approved, long long *version);

/* Subscription requests the account has not answered yet. */
int pending_add(xd_db *db, const char *host, const char *user,
                const char *contact, const char *stanza_xml);
/* 1 if one was there and is now gone, 0 if none, XD_EIO. */
int pending_remove(xd_db *db, const char *host, const char *user,
                   const char *contact);
/* Calls fn with each stored request (serialised stanza). 0 or XD_EIO. */
int pending_each(xd_db *db, const char *host, const char *user,
                 void (*fn)(const char *stanza_xml, void *arg), void *arg);

#endif
