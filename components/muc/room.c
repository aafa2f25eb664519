/*
 * room.c: rooms of a service: lookup, creation, loading the persistent ones
 * from the store, saving, affiliations, destruction and the end of a
 * temporary room.
 */
#define XD_LOG_AREA "muc"
#include <stdlib.h>
#include <string.h>

#include <xmppd/log.h>

#include "muc.h"

struct muc_room *
muc_room_find(struct muc_service *svc, const char *name)
{
    return name ? xd_map_get(svc->rooms, name) : NULL;
}

int
muc_is_service_admin(const struct muc_service *svc, const char *bare)
{
    const char *list = svc->conf.admins;
    size_t n = strlen(bare);

    if (list == NULL)
        return 0;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, " ,");
        if (len == n && strncmp(p, bare, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

static struct muc_room *
room_new(struct muc_service *svc, const char *name)
{
    struct muc_room *r = xd_xcalloc(1, sizeof(*r));

    r->svc = svc;
    r->name = xd_xstrdup(name);
    r->jid = xd_xasprintf("%s@%s", name, svc->domain);
    muc_config_defaults(svc, &r->cfg);
    r->occupants = xd_map_new();
    r->sessions = xd_map_new();
    r->affiliations = xd_map_new();
    r->history = muc_history_new();
    xd_map_put(svc->rooms, r->name, r);
    return r;
}

static void
free_aff(const char *key, void *value, void *arg)
{
    struct muc_affiliation_entry *e = value;

    (void)key;
    (void)arg;
    free(e->reason);
    free(e->nick);
    free(e);
}

/* Frees a room that is out of svc->rooms. */
static void
room_free(struct muc_room *r)
{
    xd_map_each(r->affiliations, free_aff, NULL);
    xd_map_free(r->affiliations);
    muc_hats_free(r);
    muc_invites_free(r);
    xd_map_free(r->occupants); /* empty by now */
    xd_map_free(r->sessions);
    muc_history_free(r->history);
    free(r->recipients);
    muc_config_free(&r->cfg);
    free(r->subject);
    free(r->subject_from);
    free(r->name);
    free(r->jid);
    free(r);
}

struct muc_room *
muc_room_create(struct muc_service *svc, const char *name, const char *owner)
{
    struct muc_room *r = room_new(svc, name);

    r->locked = 1;
    muc_room_set_affiliation(r, owner, MUC_AFF_OWNER, NULL, NULL);
    xd_log_info("%s: created by %s", r->jid, owner);
    return r;
}

/* Takes the room out of the service (a new one of the same name may be
 * made at once) and has it freed after the current callback: the callers up
 * the stack (a ban loop over occupants, a list of changes) still hold it. */
static void
room_end(struct muc_room *r)
{
    struct muc_service *svc = r->svc;

    if (r->ended)
        return;
    r->ended = 1;
    if (xd_map_get(svc->rooms, r->name) == r)
        xd_map_remove(svc->rooms, r->name);
    r->next_ending = svc->ending;
    svc->ending = r;
    if (svc->reap != NULL)
        xd_timer_turn_end(svc->reap);
}

void
muc_rooms_reap(struct muc_service *svc)
{
    while (svc->ending != NULL) {
        struct muc_room *r = svc->ending;
        svc->ending = r->next_ending;
        room_free(r);
    }
}

void
muc_room_forget_if_unused(struct muc_room *r)
{
    if (r->ended || r->noccupants > 0 || (r->cfg.persistent && !r->locked))
        return;
    xd_log_info("%s: last occupant left, temporary room ends", r->jid);
    room_end(r);
}

/* --- persistence --------------------------------------------------------- */

int
muc_room_save(struct muc_room *r)
{
    if (!r->cfg.persistent || r->locked)
        return 0;
    char *text = muc_config_serialise(&r->cfg);
    int rc = muc_store_room_save(r->svc->db, r->name, text, r->subject,
                                 r->subject_from);
    free(text);
    if (rc != 0)
        xd_log_warnx("%s: the room could not be saved", r->jid);
    return rc;
}

struct save_aff {
    struct muc_room *room;
    int rc;
};

static void
save_one_aff(const char *jid, void *value, void *arg)
{
    const struct muc_affiliation_entry *e = value;
    struct save_aff *s = arg;

    if (muc_store_affiliation_set(s->room->svc->db, s->room->name, jid,
                                  (int)e->aff, e->reason, e->nick) != 0)
        s->rc = XD_EIO;
}

int
muc_room_save_all(struct muc_room *r)
{
    struct save_aff s = { r, 0 };

    if (!r->cfg.persistent || r->locked)
        return 0;
    if (xd_db_begin(r->svc->db) != 0)
        return XD_EIO;
    s.rc = muc_room_save(r);
    if (s.rc == 0)
        xd_map_each(r->affiliations, save_one_aff, &s);
    if (s.rc == 0)
        s.rc = muc_hats_save_all(r);
    if (s.rc != 0) {
        xd_db_rollback(r->svc->db);
        return s.rc;
    }
    return xd_db_commit(r->svc->db);
}

static void
load_aff(const char *jid, int aff, const char *reason, const char *nick,
         void *arg)
{
    struct muc_room *r = arg;
    struct muc_affiliation_entry *e = xd_xcalloc(1, sizeof(*e));

    if (aff < MUC_AFF_OUTCAST || aff > MUC_AFF_OWNER)
        aff = MUC_AFF_NONE;
    e->aff = (enum muc_affiliation)aff;
    e->reason = xd_xstrdup(reason);
    e->nick = xd_xstrdup(nick);
    struct muc_affiliation_entry *old = xd_map_put(r->affiliations, jid, e);
    if (old != NULL)
        free_aff(NULL, old, NULL);
}

static void
load_room(const char *name, const char *config, const char *subject,
          const char *subject_from, void *arg)
{
    struct muc_service *svc = arg;
    struct muc_room *r = room_new(svc, name);

    muc_config_parse(config, &r->cfg);
    r->cfg.persistent = 1;
    r->subject = xd_xstrdup(subject);
    r->subject_from = xd_xstrdup(subject_from);
    if (muc_store_affiliations(svc->db, name, load_aff, r) != 0)
        xd_log_warnx("%s: affiliations could not be read", r->jid);
    if (muc_hats_load(r) != 0)
        xd_log_warnx("%s: hats could not be read", r->jid);
    if (r->cfg.archive && muc_history_load(r) != 0)
        xd_log_warnx("%s: history could not be read", r->jid);
}

int
muc_rooms_load(struct muc_service *svc)
{
    int rc = muc_store_rooms(svc->db, load_room, svc);

    if (rc == 0)
        xd_log_info("%s: %zu persistent room(s) loaded", svc->domain,
                    xd_map_count(svc->rooms));
    return rc;
}

/* --- affiliations ----------------------------------------------------------
 */

enum muc_affiliation
muc_room_affiliation(const struct muc_room *r, const char *bare)
{
    const struct muc_affiliation_entry *e = xd_map_get(r->affiliations, bare);

    if (e != NULL && e->aff != MUC_AFF_NONE)
        return e->aff;
    if (muc_is_service_admin(r->svc, bare))
        return MUC_AFF_OWNER;
    return MUC_AFF_NONE;
}

const char *
muc_room_reserved_nick(const struct muc_room *r, const char *bare)
{
    const struct muc_affiliation_entry *e = xd_map_get(r->affiliations, bare);

    return e ? e->nick : NULL;
}

/* The bare JID that registered nick in the room, or NULL. */
struct find_nick {
    const char *nick, *found;
};

static void
match_nick(const char *jid, void *value, void *arg)
{
    const struct muc_affiliation_entry *e = value;
    struct find_nick *f = arg;

    if (e->nick != NULL && strcmp(e->nick, f->nick) == 0)
        f->found = jid;
}

const char *
muc_room_nick_owner(const struct muc_room *r, const char *nick)
{
    struct find_nick f = { nick, NULL };

    xd_map_each(r->affiliations, match_nick, &f);
    return f.found;
}

int
muc_room_set_affiliation(struct muc_room *r, const char *bare,
                         enum muc_affiliation aff, const char *reason,
                         const char *nick)
{
    struct muc_affiliation_entry *e = xd_map_get(r->affiliations, bare);

    if (e == NULL && aff == MUC_AFF_NONE && nick == NULL)
        return 0;
    if (e == NULL) {
        e = xd_xcalloc(1, sizeof(*e));
        xd_map_put(r->affiliations, bare, e);
    }
    e->aff = aff;
    free(e->reason);
    e->reason = xd_xstrdup(reason);
    if (nick != NULL || aff == MUC_AFF_NONE || aff == MUC_AFF_OUTCAST) {
        free(e->nick);
        e->nick = xd_xstrdup(nick);
    }
    int rc = 0;
    if (r->cfg.persistent && !r->locked)
        rc = muc_store_affiliation_set(r->svc->db, r->name, bare, (int)aff,
                                       e->reason, e->nick);
    if (e->aff == MUC_AFF_NONE && e->nick == NULL)
        free_aff(NULL, xd_map_remove(r->affiliations, bare), NULL);
    if (rc != 0)
        xd_log_warnx("%s: the affiliation of %s could not be stored", r->jid,
                     bare);
    return rc;
}

/* Counts owners (for "the last owner stays"). */
static void
count_owner(const char *jid, void *value, void *arg)
{
    const struct muc_affiliation_entry *e = value;

    (void)jid;
    if (e->aff == MUC_AFF_OWNER)
        ++*(size_t *)arg;
}

size_t
muc_room_owner_count(const struct muc_room *r)
{
    size_t n = 0;

    xd_map_each(r->affiliations, count_owner, &n);
    return n;
}

/* --- destruction -------------------------------------------------------------
 */

void
muc_room_destroy(struct muc_room *r, const char *reason, const char *alt_jid,
                 const char *alt_password)
{
    xd_log_info("%s: destroyed%s%s", r->jid, reason ? ": " : "",
                reason ? reason : "");
    r->destroyed = 1;
    muc_occupants_evict_all(r, reason, alt_jid, alt_password);
    if (muc_store_room_delete(r->svc->db, r->name) != 0)
        xd_log_warnx("%s: could not be deleted from the store", r->jid);
    room_end(r);
}

void
muc_rooms_free(struct muc_service *svc)
{
    size_t n;
    void **all = xd_map_values(svc->rooms, &n);

    for (size_t i = 0; i < n; i++) {
        struct muc_room *r = all[i];
        muc_occupants_drop_all(r);
        xd_map_remove(svc->rooms, r->name);
        room_free(r);
    }
    free(all);
    muc_rooms_reap(svc);
}
