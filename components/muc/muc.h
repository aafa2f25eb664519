/*
 * muc.h: what the files of xmppd-muc share.
 *
 * One struct muc_service per MUC domain (one component link each), holding
 * its rooms; a room holds its occupants (by nick, and by the real full JIDs
 * of their sessions), its affiliations and its recent history. Everything a
 * persistent room needs after a restart is in SQLite (store.c); occupants
 * and roles are not: they are rebuilt by clients rejoining.
 *
 *   main.c         configuration, one service per [muc ...] section, the loop
 *   service.c      the service: handlers, disco of the domain, room creation
 *   room.c         room lifecycle: create, load, persist, destroy, lookup
 *   enter.c        joining, nick changes, leaving, presence broadcast
 *   message.c      groupchat, subject, private messages, invitations, voice
 *   admin.c        muc#admin: roles and affiliations, with the XEP's rules
 *   owner.c        muc#owner: the configuration form, destroy
 *   room_config.c  room configuration: defaults, form, serialisation
 *   register.c     nickname registration with a room (jabber:iq:register)
 *   occupant_id.c  XEP-0421 occupant identifiers
 *   hats.c         XEP-0317 hats, given and taken by ad-hoc commands
 *   moderate.c     XEP-0425 moderated retraction of a message
 *   commands.c     XEP-0133 administration (list rooms, destroy a room)
 *   store.c        SQLite: rooms, affiliations, archive, the service key
 *   archive.c      XEP-0313 archive queries per room, with XEP-0059 paging
 *   history.c      discussion history sent on join (<history/>)
 */
#ifndef XMPPD_MUC_H
#define XMPPD_MUC_H

#include <stdint.h>

#include <xmppd/buf.h>
#include <xmppd/component.h>
#include <xmppd/db.h>
#include <xmppd/map.h>
#include <xmppd/stanza.h>
#include <xmppd/timer.h>

#define MUC_NS          "http://jabber.org/protocol/muc"
#define MUC_NS_USER     "http://jabber.org/protocol/muc#user"
#define MUC_NS_ADMIN    "http://jabber.org/protocol/muc#admin"
#define MUC_NS_OWNER    "http://jabber.org/protocol/muc#owner"
#define MUC_NS_MAM      "urn:xmpp:mam:2"
#define MUC_NS_SID      "urn:xmpp:sid:0"
#define MUC_NS_DELAY    "urn:xmpp:delay"
#define MUC_NS_OCCID    "urn:xmpp:occupant-id:0"
#define MUC_NS_HATS     "urn:xmpp:hats:0"
#define MUC_NS_MODERATE "urn:xmpp:message-moderate:1"
#define MUC_NS_RETRACT  "urn:xmpp:message-retract:1"
/* XEP-0425 0.2 (slixmpp 1.8 and clients of its generation): <moderate/>
 * inside XEP-0422 <apply-to/>, with XEP-0424 0.3's <retract/>. */
#define MUC_NS_MODERATE0 "urn:xmpp:message-moderate:0"
#define MUC_NS_RETRACT0  "urn:xmpp:message-retract:0"
#define MUC_NS_FASTEN    "urn:xmpp:fasten:0"
#define MUC_NS_REQUEST   "http://jabber.org/protocol/muc#request"

/* Affiliations and roles, ordered so that comparisons mean "at least". */
enum muc_affiliation {
    MUC_AFF_OUTCAST = 0,
    MUC_AFF_NONE = 1,
    MUC_AFF_MEMBER = 2,
    MUC_AFF_ADMIN = 3,
    MUC_AFF_OWNER = 4,
};
enum muc_role {
    MUC_ROLE_NONE = 0,
    MUC_ROLE_VISITOR = 1,
    MUC_ROLE_PARTICIPANT = 2,
    MUC_ROLE_MODERATOR = 3,
};
/* Who may send private messages (muc#roomconfig_allowpm). */
enum muc_allowpm {
    MUC_PM_ANYONE,
    MUC_PM_PARTICIPANTS,
    MUC_PM_MODERATORS,
    MUC_PM_NONE,
};
#define MUC_ROLE_BIT(r) (1u << (r)) /* for role sets in the configuration */

/* The service's own settings ([muc ...] section keys; see docs/muc.md). */
struct muc_conf {
    char *db_path;       /* muc.db */
    char *admins;        /* service admins: bare JIDs, space separated */
    char *room_creators; /* "*", or bare JIDs and domains */
    unsigned long long max_rooms;           /* 10000 */
    unsigned long long max_disco_items;     /* 100 rooms per disco#items page */
    unsigned long long max_occupants;       /* 1000: cap of any max users */
    unsigned long long default_max_users;   /* 200 */
    unsigned long long max_message_bytes;   /* 16384 */
    unsigned long long occupant_rate;       /* 10 messages/s, 0: unlimited */
    unsigned long long occupant_burst;      /* 30 */
    unsigned long long max_invites;         /* 5 per message */
    unsigned long long max_pending_invites; /* 100 per room, for declines */
    unsigned long long max_presence_bytes;  /* 8192 */
    unsigned long long history_default;     /* 20 sent on join by default */
    unsigned long long history_max;         /* 100 kept and sent at most */
    int default_persistent;                 /* 0 */
    int default_public;                     /* 1 */
    int default_archive;                    /* 1 */
    int default_semianon;                   /* 1: real JIDs to moderators */
    int default_change_subject;             /* 0: moderators only */
};

struct muc_room_config {
    char *name, *desc, *lang, *password; /* NULL: none */
    int persistent, public_, members_only, moderated, password_protected;
    int semianon;       /* 0: real JIDs to everyone (non-anonymous) */
    int allow_invites;  /* participants may invite (members-only rooms) */
    int change_subject; /* participants may change the subject */
    int archive;        /* muc#roomconfig_enablearchiving */
    int voice_requests; /* visitors may ask for voice */
    int allow_nick_change;
    int allowpm; /* enum muc_allowpm */
    long max_users;
    long max_history;            /* muc#maxhistoryfetch */
    unsigned presence_broadcast; /* MUC_ROLE_BIT set */
    unsigned getmemberlist;      /* MUC_ROLE_BIT set */
};

struct muc_service {
    xd_component *comp;
    xd_db *db;
    struct muc_conf conf;
    const char *domain;       /* borrowed from comp */
    xd_map *rooms;            /* room local part -> struct muc_room */
    unsigned char id_key[32]; /* XEP-0421 HMAC key, kept in the store */
    xd_buf scratch;           /* for measuring messages */
    /* Rooms that ended (no longer in `rooms`) but are not freed yet: they
     * are freed by muc_rooms_reap once the event-loop callback that ended
     * them has returned, so no caller ever holds a freed room. */
    struct muc_room *ending;
    xd_timer *reap; /* runs muc_rooms_reap at the turn's end; owned */
};

struct muc_session {
    struct muc_session *next;
    char *jid;           /* the real full JID */
    xd_stanza *presence; /* its last available presence as received */
};

struct muc_occupant {
    struct muc_room *room;
    char *nick;
    char *bare; /* real bare JID */
    enum muc_role role;
    struct muc_session *sessions; /* at least one while in the room */
    char occupant_id[48];         /* XEP-0421, base64 */
    double tokens;                /* messages rate limit bucket */
    int64_t refilled_us;
};

struct muc_affiliation_entry {
    enum muc_affiliation aff;
    char *reason; /* NULL: none */
    char *nick;   /* registered (reserved) nick, NULL: none */
};

/* A mediated invitation the room sent (7.8.2), kept so that only the real
 * inviter is sent the invitee's decline. */
struct muc_invite {
    char *invitee; /* bare JID */
    char *inviter; /* full JID */
    struct muc_invite *next;
};

/* XEP-0317: a hat a user (bare JID) wears in a room. */
struct muc_hat {
    char *jid, *uri, *title;
    struct muc_hat *next;
};

struct muc_room {
    struct muc_service *svc;
    char *name; /* local part */
    char *jid;  /* name@domain */
    struct muc_room_config cfg;
    int locked;                 /* created, owner has not configured it (201) */
    char *subject;              /* NULL: never set */
    char *subject_from;         /* nick (or room JID) that set it */
    xd_map *occupants;          /* nick -> struct muc_occupant */
    xd_map *sessions;           /* real full JID -> struct muc_occupant */
    xd_map *affiliations;       /* bare JID -> struct muc_affiliation_entry */
    struct muc_hat *hats;       /* in the order they were given */
    struct muc_invite *invites; /* newest first, max_pending_invites */
    size_t ninvites;
    struct muc_history *history;
    size_t noccupants;
    int destroyed;
    int ended;                    /* on svc->ending, out of svc->rooms */
    struct muc_room *next_ending; /* svc->ending list */
    /* Every session's real JID, for broadcasts; rebuilt when stale. */
    const char **recipients;
    size_t nrecipients;
    int recipients_stale;
};

/* What a presence broadcast says beyond the occupant's own presence. */
struct muc_change {
    int unavailable;         /* the occupant leaves (role none) */
    const char *status_text; /* the leaving client's <status/> */
    const int *codes;        /* status codes for everyone */
    size_t ncodes;
    const int *self_codes; /* more codes for the occupant itself (110 is
                              always added for it) */
    size_t nself_codes;
    const char *new_nick; /* 303 */
    const char *actor;    /* nick of the moderator/admin who did it */
    const char *reason;
    int destroy; /* the room is destroyed: <destroy/> with alt_* */
    const char *alt_jid, *alt_password;
};

/* ---- main.c / service.c -----------------------------------------------------
 */
/* Sets up the service of one [muc ...] section on base: NULL (logged) when
 * its settings or database are unusable. Free with muc_service_free. */
/* The keys of a [muc] section beside the library's (service.c). */
extern const xd_config_key muc_keys[];

struct muc_service *muc_service_new(const xd_config *cfg, const char *section,
                                    struct event_base *base);
void muc_service_free(struct muc_service *svc);
/* Answers `in` with the error `condition` (of its RFC 6120 type); nothing
 * when `in` is an error itself. */
void muc_refuse(struct muc_service *svc, const xd_stanza *in,
                const char *condition, const char *text);
/* commands.c: registers the admins' ad-hoc commands. */
void muc_commands_register(struct muc_service *svc);

/* ---- room.c ---------------------------------------------------------------
 */
/* Creates a locked room owned by `owner` (a bare JID). */
struct muc_room *muc_room_create(struct muc_service *svc, const char *name,
                                 const char *owner);
/* Ends a room that has no occupant and is not (yet) persistent: it leaves
 * the service's rooms at once and is freed by muc_rooms_reap, so `room`
 * stays valid until the current event-loop callback returns. */
void muc_room_forget_if_unused(struct muc_room *room);
/* Frees the rooms that ended (called from the loop after each callback that
 * ended one, and at exit). */
void muc_rooms_reap(struct muc_service *svc);
/* Stores the room's row (persistent rooms only). 0 or XD_EIO (logged). */
int muc_room_save(struct muc_room *room);
/* Stores the room with all its affiliations, in one transaction. */
int muc_room_save_all(struct muc_room *room);
/* Loads the persistent rooms at start. 0 or XD_EIO. */
int muc_rooms_load(struct muc_service *svc);
/* Frees every room (at exit), without telling anyone. */
void muc_rooms_free(struct muc_service *svc);
/* Sets an affiliation (and registered nick, NULL: unchanged unless aff is
 * none/outcast) in memory and, for persistent rooms, in the store. */
int muc_room_set_affiliation(struct muc_room *room, const char *bare,
                             enum muc_affiliation aff, const char *reason,
                             const char *nick);
/* The nick `bare` registered, or NULL (borrowed). */
const char *muc_room_reserved_nick(const struct muc_room *room,
                                   const char *bare);
/* The bare JID that registered `nick`, or NULL (borrowed). */
const char *muc_room_nick_owner(const struct muc_room *room, const char *nick);
size_t muc_room_owner_count(const struct muc_room *room);
/* The room `name` (a prepped local part) of svc, or NULL. */
struct muc_room *muc_room_find(struct muc_service *svc, const char *name);
/* Destroys a room: every occupant gets unavailable with <destroy/> (reason
 * and alternate venue when not NULL), the store forgets it, and it ends
 * (freed later, as for muc_room_forget_if_unused). */
void muc_room_destroy(struct muc_room *room, const char *reason,
                      const char *alt_jid, const char *alt_password);
/* The affiliation of a bare JID with the room. */
enum muc_affiliation muc_room_affiliation(const struct muc_room *room,
                                          const char *bare);
/* 1 when `bare` is a service admin (owner of every room). */
int muc_is_service_admin(const struct muc_service *svc, const char *bare);

/* ---- room_config.c --------------------------------------------------------
 */
void muc_config_defaults(const struct muc_service *svc,
                         struct muc_room_config *c);
void muc_config_free(struct muc_room_config *c);
void muc_config_copy(struct muc_room_config *dst,
                     const struct muc_room_config *src);
/* The stored text form (caller frees), and back (over defaults). */
char *muc_config_serialise(const struct muc_room_config *c);
int muc_config_parse(const char *text, struct muc_room_config *c);
/* Adds the muc#roomconfig form of the room to parent. */
void muc_config_form(const struct muc_room *room, xd_elem *parent);
/* Applies a submitted form to c: 0, or XD_EINVAL with *why set. */
int muc_config_apply_form(const struct muc_service *svc, const xd_elem *x,
                          struct muc_room_config *c, const char **why);
/* disco#info of a room: muc_* features and the muc#roominfo form. */
void muc_config_features(const struct muc_room *room, xd_elem *query);
void muc_config_roominfo(const struct muc_room *room, xd_elem *query);

/* ---- enter.c: occupants and presence --------------------------------------
 */
xd_verdict muc_presence_in(xd_component *c, const xd_stanza *in, void *arg);
const char *muc_affiliation_name(enum muc_affiliation a);
const char *muc_role_name(enum muc_role r);
int muc_affiliation_parse(const char *s, enum muc_affiliation *out);
int muc_role_parse(const char *s, enum muc_role *out);
enum muc_affiliation muc_occupant_affiliation(const struct muc_occupant *o);
enum muc_role muc_default_role(const struct muc_room *room,
                               enum muc_affiliation aff);
int muc_sees_jids(const struct muc_occupant *viewer);
struct muc_occupant *muc_occupant_by_nick(const struct muc_room *room,
                                          const char *nick);
struct muc_occupant *muc_occupant_by_jid(const struct muc_room *room,
                                         const char *full);
/* Broadcasts o's presence (from session s) with change ch (may be NULL). */
void muc_broadcast_presence(const struct muc_occupant *o,
                            const struct muc_session *s,
                            const struct muc_change *ch);
/* Tells everyone o leaves (ch) and frees it; a temporary room may end. */
void muc_occupant_remove(struct muc_occupant *o, const struct muc_change *ch);
/* An error came from real_jid: its session leaves with status 333. */
void muc_session_failed(struct muc_room *room, const char *real_jid);
/* Every occupant leaves, told of the room's destruction. */
void muc_occupants_evict_all(struct muc_room *room, const char *reason,
                             const char *alt_jid, const char *alt_password);
/* Every occupant is dropped silently (the link is down, or exit). */
void muc_occupants_drop_all(struct muc_room *room);
/* Sends a copy of st to `to`. */
void muc_send_copy(struct muc_service *svc, const xd_stanza *st,
                   const char *to);

/* ---- message.c / admin.c / owner.c / register.c ----------------------------
 */
xd_verdict muc_message_in(xd_component *c, const xd_stanza *in, void *arg);
/* Forgets the room's pending invitations (when it is freed). */
void muc_invites_free(struct muc_room *room);
/* Sends st to every session of every occupant. */
void muc_broadcast(struct muc_room *room, const xd_stanza *st);
/* Changes o's role (none: kicked, 307), told to everyone. */
void muc_set_role(struct muc_occupant *o, enum muc_role role, const char *actor,
                  const char *reason);
/* The iqs of those namespaces to a room, from `bare`. */
void muc_admin_iq(struct muc_room *room, const xd_stanza *in, xd_iq_type type,
                  const char *bare);
void muc_owner_iq(struct muc_room *room, const xd_stanza *in, xd_iq_type type,
                  const char *bare);
void muc_register_iq(struct muc_room *room, const xd_stanza *in,
                     xd_iq_type type, const char *bare);
/* An owner's or admin's answer (a submitted muc#register form) to a
 * registration request of a members-only room: approved, the user becomes
 * a member with the nick, if it had no affiliation. */
void muc_register_decision(struct muc_room *room, const xd_stanza *in,
                           const xd_elem *form);
/* occupant_id.c: the XEP-0421 id of bare in room (NUL-terminated). */
void muc_occupant_id(const struct muc_service *svc, const struct muc_room *room,
                     const char *bare, char out[48]);

/* moderate.c: answers an XEP-0425 <moderate/> iq to the room. */
void muc_moderate_iq(struct muc_room *room, const xd_stanza *in,
                     xd_iq_type type);

/* hats.c: registers the don/doff commands at the rooms' JIDs. */
void muc_hats_register(struct muc_service *svc);
/* Adds <hats/> with the hats of bare JID `jid` to a presence's root (nothing
 * when it wears none). */
void muc_hats_add_to(const struct muc_room *room, const char *jid,
                     xd_elem *root);
/* Reads a persistent room's hats / writes them all (in the caller's
 * transaction): 0 or XD_EIO. */
int muc_hats_load(struct muc_room *room);
int muc_hats_save_all(struct muc_room *room);
void muc_hats_free(struct muc_room *room);

/* ---- time ---------------------------------------------------------------- */
int64_t muc_now_us(void);
/* Writes an XEP-0082 UTC timestamp (YYYY-MM-DDThh:mm:ss.uuuuuuZ) of t. */
void muc_stamp(int64_t t_us, char out[32]);
/* Parses an XEP-0082 date-time: 0 and *out, or XD_EINVAL. */
int muc_parse_stamp(const char *s, int64_t *out_us);

/* ---- store.c: SQLite ------------------------------------------------------
 */
/* Opens (creating/migrating) the database. 0 or XD_EIO (logged). */
int muc_store_open(const char *path, xd_db **out);
/* The service's secret key, created on first use. 0 or XD_EIO. */
int muc_store_key(xd_db *db, unsigned char key[32]);
typedef void (*muc_store_room_fn)(const char *name, const char *config,
                                  const char *subject, const char *subject_from,
                                  void *arg);
/* Calls fn for every stored (persistent) room. 0 or XD_EIO. */
int muc_store_rooms(xd_db *db, muc_store_room_fn fn, void *arg);
/* Inserts or replaces a room's row. 0 or XD_EIO. */
int muc_store_room_save(xd_db *db, const char *name, const char *config,
                        const char *subject, const char *subject_from);
/* Deletes a room with its affiliations and archive. 0 or XD_EIO. */
int muc_store_room_delete(xd_db *db, const char *name);
/* A room's hats (XEP-0317): set (or retitle) one, remove one, read all.
 * 0 or XD_EIO. */
int muc_store_hat_set(xd_db *db, const char *room, const char *jid,
                      const char *uri, const char *title);
int muc_store_hat_remove(xd_db *db, const char *room, const char *jid,
                         const char *uri);
typedef void (*muc_store_hat_fn)(const char *jid, const char *uri,
                                 const char *title, void *arg);
int muc_store_hats(xd_db *db, const char *room, muc_store_hat_fn fn, void *arg);
typedef void (*muc_store_aff_fn)(const char *jid, int aff, const char *reason,
                                 const char *nick, void *arg);
/* Calls fn for each stored affiliation of a room. 0 or XD_EIO. */
int muc_store_affiliations(xd_db *db, const char *room, muc_store_aff_fn fn,
                           void *arg);
/* Sets one affiliation; MUC_AFF_NONE with no nick deletes the row. 0,
 * XD_EEXIST (not logged) when another JID of the room has reserved `nick`,
 * or XD_EIO. */
int muc_store_affiliation_set(xd_db *db, const char *room, const char *jid,
                              int aff, const char *reason, const char *nick);
/* Appends a message to a room's archive; id_out (at least 40 bytes) gets
 * its stanza-id. `xml` is the message as the room broadcast it. */
int muc_store_archive_add(xd_db *db, const char *room, int64_t when_us,
                          const char *nick, const char *real_bare,
                          const char *xml, char *id_out);
/* One archived message: its stanza-id, when it was archived, the nick and
 * real bare JID that sent it (NULL: the room itself) and its XML as given to
 * _add (without the stanza-id). */
struct muc_archived {
    const char *id;
    int64_t when_us;
    const char *nick, *real_bare, *xml;
};
/* Gets one archived message, borrowed for the call; fn must not call back
 * into the store for the same query. */
typedef void (*muc_store_archive_fn)(const struct muc_archived *m, void *arg);
/* Calls fn, oldest first, for the n newest messages of a room's archive
 * (history after a restart). 0 or XD_EIO. */
int muc_store_archive_recent(xd_db *db, const char *room, size_t n,
                             muc_store_archive_fn fn, void *arg);
/* What an archive query selects; muc_store_archive_filter_init opens every
 * bound. Archive times are exact: start and end select on the ids. */
struct muc_archive_filter {
    const char *nick;      /* messages of this nick only; NULL: any */
    const char *real_bare; /* of this real bare JID only; NULL: any */
    int64_t start_us;      /* INT64_MIN: open */
    int64_t end_us;        /* INT64_MAX: open */
    int64_t after;         /* archive ids (muc_store_archive_find); */
    int64_t before;        /* -1: open */
    int backward;          /* the page just before `before` (or the last) */
    long max;              /* page size */
};
void muc_store_archive_filter_init(struct muc_archive_filter *f);
/* The stored XML of archive entry `id` (*xml: the caller frees it) / its
 * replacement (a tombstone). 0, XD_ENOTFOUND or XD_EIO. */
int muc_store_archive_get(xd_db *db, const char *room, int64_t id, char **xml);
int muc_store_archive_set(xd_db *db, const char *room, int64_t id,
                          const char *xml);
/* The archive id of stanza-id `id` in room: 0, XD_ENOTFOUND (also for a
 * malformed id) or XD_EIO. */
int muc_store_archive_find(xd_db *db, const char *room, const char *id,
                           int64_t *out);
/* Calls fn, oldest first, for one page of at most f->max messages; paging
 * forward it is the first page after f->after, backward the last before
 * f->before. *complete is 1 when nothing matches beyond the page in its
 * direction. 0 or XD_EIO (then fn may have been called for part of it). */
int muc_store_archive_page(xd_db *db, const char *room,
                           const struct muc_archive_filter *f,
                           muc_store_archive_fn fn, void *arg, int *complete);
/* How many messages match f, ignoring its paging (after, before, max). For
 * <max>0</max> queries only: it reads every matching index entry. 0 or
 * XD_EIO. */
int muc_store_archive_count(xd_db *db, const char *room,
                            const struct muc_archive_filter *f, long *out);

/* ---- archive.c: XEP-0313 for a room ----------------------------------------
 */
/* Archives `msg` (the broadcast form, from room/nick) when the room archives,
 * and adds <stanza-id by=room/> to it. 0 or XD_EIO (logged). */
int muc_archive_message(struct muc_room *room, xd_stanza *msg,
                        const struct muc_occupant *from);
/* Answers a urn:xmpp:mam:2 query iq to the room (results, then the iq result
 * with <fin/>), or its error. The caller has checked the requester may. */
void muc_archive_query(struct muc_room *room, const xd_stanza *iq,
                       xd_iq_type type);
/* A stored message parsed again (the caller owns it), or NULL. */
xd_stanza *muc_archive_reparse(const char *xml);

/* ---- history.c: history on join -------------------------------------------
 */
struct muc_history;
struct muc_history *muc_history_new(void);
void muc_history_free(struct muc_history *h); /* NULL is a no-op */
/* Remembers msg (a reference is taken) sent at when_us; keeps at most max. */
void muc_history_add(struct muc_history *h, xd_stanza *msg, int64_t when_us,
                     size_t max);
/* Forgets the message whose stanza-id by room_jid is `sid`, if kept. */
void muc_history_forget(struct muc_history *h, const char *room_jid,
                        const char *sid);
/* Refills an empty history of a persistent room from its archive. */
int muc_history_load(struct muc_room *room);
/* Sends the history a joining session asked for with `req` (the <history/>
 * element of its join, or NULL: the room's default), each message with
 * <delay from=room stamp=/>, to the full JID `to`. */
void muc_history_send(struct muc_room *room, const char *to,
                      const xd_elem *req);

#endif
