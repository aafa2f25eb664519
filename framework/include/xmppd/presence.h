/*
 * presence.h: presence and subscriptions (RFC 6121 sections 3 and 4) for a
 * component's domain and for its entities (user@domain: a gateway's
 * contacts, a bot per room...), so that a user who adds the service sees
 * it subscribed and online.
 *
 *     xd_presence *p;
 *     xd_presence_enable(comp, db, &p);          -- db may be NULL
 *     xd_presence_set(p, NULL, XD_PRESENCE_ONLINE, "Ready");
 *
 * Once enabled, presence stanzas that no handler of the component took
 * (XD_HANDLED) come here:
 *
 *   subscribe    to the domain or to an entity: the JID's policy decides.
 *                APPROVE sends subscribed and then the entity's current
 *                presence (RFC 6121 3.1.5), and with XD_PRESENCE_MUTUAL a
 *                subscribe back; REFUSE sends unsubscribed; ASK calls the
 *                xd_presence_on_ask function, which decides now or keeps the
 *                request pending for xd_presence_answer later. A request
 *                from someone already subscribed is approved again at once
 *                (3.1.3). Past presence_max_subscriptions a new one gets a
 *                <resource-constraint/> error.
 *   unsubscribe  the user stops receiving the entity's presence (and gets
 *                its unavailable presence, 3.3.3); a pending request goes.
 *   subscribed   approves a subscribe the entity sent (else ignored, 3.1.6).
 *   unsubscribed refuses or cancels the entity's subscription to the user.
 *   probe        a subscriber gets the entity's current presence (available
 *                with the show and status set here, or unavailable); anyone
 *                does for a JID with XD_PRESENCE_PUBLIC; someone who is not
 *                subscribed gets unsubscribed (4.3.2), one whose request is
 *                pending nothing.
 *
 * Other presence (available or unavailable from users, errors) is left to
 * the component's handlers. Subscriptions are between bare JIDs; replies go
 * from the entity's bare JID to the user's bare JID (a probe's answer to
 * whoever probed).
 *
 * The current presence: the domain is available (no show, no status) until
 * xd_presence_set says otherwise; an entity is unavailable until set.
 * xd_presence_set sends the new presence to every subscriber of the JID.
 * While the link is down nothing is sent; each time it comes up (the first
 * time and after every reconnect) every subscriber of the domain and of
 * each entity whose presence was set gets the current presence, and when
 * the component stops (xd_component_stop, SIGTERM) subscribers of what is
 * available get unavailable presence first.
 *
 * The store. With a database (xd_presence_enable's db), subscriptions and
 * pending requests are kept in the table xd_presence_subscriptions, created
 * by the framework's own migrations (versions in the table xd_schema, not in
 * PRAGMA user_version, which stays the component's): names starting with
 * "xd_" are the framework's, keep your tables out of that prefix. Writes
 * join the write batch the component has open (db.h). WITHOUT a database
 * they are kept in memory only and lost when the process ends: users stay
 * subscribed in their rosters, and their next probe is answered
 * unsubscribed, which removes the subscription from their roster.
 *
 * Section key (read by xd_component_new, with the component's others):
 *   presence_max_subscriptions  100000  (entity, user) pairs kept, pending
 *                                       requests included
 *
 * Everything here runs on the component's loop and never blocks (but for
 * the local SQLite writes, see db.h).
 */
#ifndef XMPPD_PRESENCE_H
#define XMPPD_PRESENCE_H

#include <xmppd/common.h>
#include <xmppd/component.h>
#include <xmppd/db.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xd_presence xd_presence;

/* What a subscription request to a JID gets. */
typedef enum xd_presence_policy {
    XD_PRESENCE_REFUSE,  /* unsubscribed */
    XD_PRESENCE_APPROVE, /* subscribed, then the current presence */
    XD_PRESENCE_ASK,     /* the xd_presence_on_ask function decides */
} xd_presence_policy;

/* Flags of a policy (xd_presence_set_policy). */
#define XD_PRESENCE_MUTUAL 1 /* on approval, subscribe back to the user */
#define XD_PRESENCE_PUBLIC                                                     \
    2 /* probes answered for anyone, subscribed or not                         \
       */

/* A JID's presence: unavailable, or available with a <show/>. */
typedef enum xd_presence_show {
    XD_PRESENCE_UNAVAILABLE,
    XD_PRESENCE_ONLINE, /* available, without <show/> */
    XD_PRESENCE_CHAT,
    XD_PRESENCE_AWAY,
    XD_PRESENCE_XA,
    XD_PRESENCE_DND,
} xd_presence_show;

/* State bits of an (entity, user) pair, from the entity's side. */
#define XD_PRESENCE_SUB_FROM       1 /* the user gets the entity's presence */
#define XD_PRESENCE_SUB_TO         2 /* the entity gets the user's */
#define XD_PRESENCE_SUB_PENDING_IN 4 /* the user asked, not answered yet */
#define XD_PRESENCE_SUB_PENDING_OUT                                            \
    8 /* the entity asked, the user has not                                    \
         answered */

/*
 * Decides a request to `entity` (the domain or user@domain) from `user`
 * (a bare JID); both borrowed for the call. Return XD_PRESENCE_APPROVE or
 * XD_PRESENCE_REFUSE to answer now, XD_PRESENCE_ASK to keep the request
 * pending (stored) and answer later with xd_presence_answer. The same
 * request while it is pending does not call again.
 */
typedef xd_presence_policy (*xd_presence_ask_fn)(xd_presence *p,
                                                 const char *entity,
                                                 const char *user, void *arg);

/*
 * Turns presence handling on for c: the domain's policy is APPROVE, that
 * of entities REFUSE (set them with xd_presence_set_policy). `db` (NULL:
 * memory only, see above) is borrowed and must outlive c; its framework
 * tables are created or migrated and the stored subscriptions loaded now.
 * When the link is up already, the subscribers get the current presence
 * now. The result is owned by c and freed by xd_component_free. 0; XD_EEXIST
 * when c has it on already; XD_EIO when the store cannot be read (logged).
 */
int xd_presence_enable(xd_component *c, xd_db *db, xd_presence **out);
/* xd_presence_enable, then the domain XD_PRESENCE_ONLINE with `status`
 * (may be NULL; copied), for a component that needs no other presence
 * call. Returns as xd_presence_enable, or XD_ELIMIT as xd_presence_set
 * (the link up already, copies dropped). */
int xd_presence_online(xd_component *c, xd_db *db, const char *status);
/*
 * The policy for subscription requests to `jid`: the domain, an entity
 * (user@domain), or NULL for every entity without a policy of its own.
 * `flags` is 0 or XD_PRESENCE_MUTUAL and/or XD_PRESENCE_PUBLIC. 0, or
 * XD_EINVAL when jid is not the domain or a bare JID at it.
 */
int xd_presence_set_policy(xd_presence *p, const char *jid,
                           xd_presence_policy policy, unsigned flags);
/* The function XD_PRESENCE_ASK calls (NULL: such requests are refused). */
void xd_presence_on_ask(xd_presence *p, xd_presence_ask_fn fn, void *arg);
/*
 * Answers a pending request of `user` to `entity` (NULL: the domain) as
 * the policy's APPROVE (with its MUTUAL flag) or REFUSE would have. 0;
 * XD_ENOTFOUND when no such request is pending; XD_EINVAL for a bad JID;
 * XD_EIO when the store failed (logged; nothing sent or changed).
 */
int xd_presence_answer(xd_presence *p, const char *entity, const char *user,
                       int approve);
/*
 * Sets the presence of `entity` (NULL: the domain) and, while the link is
 * up, sends it to each of its subscribers. `status` may be NULL; it is
 * copied. 0; XD_EINVAL for a JID that is not ours or a bad show; XD_ELIMIT
 * when copies were dropped (see xd_component_send_each).
 */
int xd_presence_set(xd_presence *p, const char *entity, xd_presence_show show,
                    const char *status);
/*
 * Asks `user` for a subscription to their presence, from `entity` (NULL:
 * the domain): sends subscribe and remembers it (PENDING_OUT) until they
 * answer. 0 (also when already subscribed or asked: nothing sent);
 * XD_EINVAL; XD_ELIMIT at presence_max_subscriptions; XD_EIO (store).
 */
int xd_presence_subscribe(xd_presence *p, const char *entity, const char *user);
/*
 * Ends everything between `entity` (NULL: the domain) and `user`: a
 * subscriber gets unavailable presence and unsubscribed, a pending request
 * unsubscribed, a subscription to them unsubscribe; the pair is forgotten.
 * 0 (also when there was nothing); XD_EINVAL; XD_EIO (store; the stanzas
 * are sent all the same).
 */
int xd_presence_remove(xd_presence *p, const char *entity, const char *user);
/* The XD_PRESENCE_SUB_* bits of (entity, NULL: the domain; user's bare
 * JID), 0 when there is nothing between them or a JID is bad. */
unsigned xd_presence_state(const xd_presence *p, const char *entity,
                           const char *user);
/* Number of (entity, user) pairs kept. */
size_t xd_presence_count(const xd_presence *p);
/*
 * Calls fn for each pair kept (entity and user borrowed for the call, and
 * the state bits), in no particular order; e.g. to answer requests left
 * pending when the component last stopped. fn may call xd_presence_*.
 */
void xd_presence_each(xd_presence *p,
                      void (*fn)(xd_presence *p, const char *entity,
                                 const char *user, unsigned state, void *arg),
                      void *arg);

#ifdef __cplusplus
}
#endif
#endif
