/*
 * presence.c: presence subscriptions and presence of a component's domain
 * and entities (RFC 6121 sections 3 and 4, from the contact's side): the
 * policies, the answers to subscription stanzas and probes, broadcasts,
 * presence on link up and stop, and the store of (entity, user) pairs.
 *
 * Every pair is held in memory (entity -> user -> state bits), bounded by
 * presence_max_subscriptions; with a database each change is written
 * through before it is acknowledged, and the pairs are loaded at start.
 */
#define XD_LOG_AREA "presence"
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <xmppd/jid.h>
#include <xmppd/log.h>
#include <xmppd/map.h>
#include <xmppd/presence.h>

#include "component_internal.h"

#define SUB_FROM XD_PRESENCE_SUB_FROM
#define SUB_TO   XD_PRESENCE_SUB_TO
#define SUB_IN   XD_PRESENCE_SUB_PENDING_IN
#define SUB_OUT  XD_PRESENCE_SUB_PENDING_OUT

struct sub {
    unsigned state; /* XD_PRESENCE_SUB_* bits, never 0 */
};

/* The domain or one user@domain: kept while it has pairs, a policy or a
 * presence of its own (the domain always). */
struct entity {
    char *jid;
    int has_policy;
    xd_presence_policy policy;
    unsigned flags;
    int announced; /* presence set (the domain: always): sent on link up */
    xd_presence_show show;
    char *status;
    xd_map *subs; /* user's bare JID -> struct sub */
};

struct xd_presence {
    xd_component *c;
    xd_db *db; /* NULL: memory only */
    xd_map *entities;
    struct entity *domain;
    size_t count; /* pairs */
    unsigned long long max;
    xd_presence_policy policy; /* entities without their own */
    unsigned flags;
    xd_presence_ask_fn ask;
    void *ask_arg;
    int full_logged;
};

/* --- the framework's schema ----------------------------------------------- */

static const char *const presence_migrations[] = {
    /* version 1 */
    "CREATE TABLE xd_presence_subscriptions (entity TEXT NOT NULL, "
    "user_jid TEXT NOT NULL, state INTEGER NOT NULL, "
    "PRIMARY KEY (entity, user_jid)) WITHOUT ROWID",
};

/* The framework's tables have versions of their own, per module, in
 * xd_schema: PRAGMA user_version belongs to the component's migrations. */
static int
schema_migrate(xd_db *db, const char *module, const char *const *m, size_t n)
{
    long long v = 0;
    int rc;

    if (xd_db_exec(db, "CREATE TABLE IF NOT EXISTS xd_schema (module TEXT "
                       "PRIMARY KEY, version INTEGER NOT NULL)") != 0)
        return XD_EIO;
    rc = xd_db_get(db, "SELECT version FROM xd_schema WHERE module = ?",
                   XD_DB_TEXT(module), XD_DB_OUT_INT(&v));
    if (rc != 0 && rc != XD_ENOTFOUND)
        return XD_EIO;
    if (v < 0 || (unsigned long long)v > n) {
        xd_log_warnx("xd_schema: %s is at version %lld, newer than this "
                     "library knows (%zu)",
                     module, v, n);
        return XD_EIO;
    }
    for (size_t i = (size_t)v; i < n; i++) {
        if (xd_db_begin(db) != 0)
            return XD_EIO;
        if (xd_db_exec(db, m[i]) != 0 ||
            xd_db_run(db,
                      "INSERT INTO xd_schema (module, version) VALUES (?, ?) "
                      "ON CONFLICT (module) DO UPDATE SET version = "
                      "excluded.version",
                      XD_DB_TEXT(module), XD_DB_INT((long long)i + 1)) != 0) {
            xd_db_rollback(db);
            xd_log_warnx("xd_schema: migrating %s to version %zu failed",
                         module, i + 1);
            return XD_EIO;
        }
        if (xd_db_commit(db) != 0)
            return XD_EIO;
    }
    return 0;
}

static int
store_write(xd_presence *p, const char *entity, const char *user,
            unsigned state)
{
    if (p->db == NULL)
        return 0;
    if (state == 0)
        return xd_db_run(p->db,
                         "DELETE FROM xd_presence_subscriptions "
                         "WHERE entity = ? AND user_jid = ?",
                         XD_DB_TEXT(entity), XD_DB_TEXT(user));
    return xd_db_run(p->db,
                     "INSERT INTO xd_presence_subscriptions (entity, "
                     "user_jid, state) VALUES (?, ?, ?) ON CONFLICT (entity, "
                     "user_jid) DO UPDATE SET state = excluded.state",
                     XD_DB_TEXT(entity), XD_DB_TEXT(user),
                     XD_DB_INT((long long)state));
}

/* --- entities and pairs --------------------------------------------------- */

/* The entity key of `jid` (NULL: the domain): its bare form, which must be
 * the domain or local@domain. 0 and *out the caller frees, or XD_EINVAL. */
static int
entity_key(const xd_presence *p, const char *jid, char **out)
{
    xd_jid *j = NULL;
    const char *domain = xd_component_domain(p->c);

    if (jid == NULL) {
        *out = xd_xstrdup(domain);
        return 0;
    }
    if (xd_jid_parse(jid, &j) != 0)
        return XD_EINVAL;
    int ok =
        xd_jid_resource(j) == NULL && strcmp(xd_jid_domain(j), domain) == 0;
    if (ok)
        *out = xd_xstrdup(xd_jid_bare_str(j));
    xd_jid_free(j);
    return ok ? 0 : XD_EINVAL;
}

/* The bare form of a user's JID (a full JID is taken as its bare one). */
static int
user_key(const char *jid, char **out)
{
    xd_jid *j = NULL;

    if (jid == NULL || xd_jid_parse(jid, &j) != 0)
        return XD_EINVAL;
    *out = xd_xstrdup(xd_jid_bare_str(j));
    xd_jid_free(j);
    return 0;
}

static struct entity *
entity_get(xd_presence *p, const char *key, int create)
{
    struct entity *e = xd_map_get(p->entities, key);

    if (e != NULL || !create)
        return e;
    e = xd_xcalloc(1, sizeof(*e));
    e->jid = xd_xstrdup(key);
    e->subs = xd_map_new();
    xd_map_put(p->entities, key, e);
    return e;
}

static void
sub_free(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    free(value);
}

static void
entity_free(struct entity *e)
{
    xd_map_each(e->subs, sub_free, NULL);
    xd_map_free(e->subs);
    free(e->status);
    free(e->jid);
    free(e);
}

/* Forgets the entity of `key` when nothing keeps it. */
static void
entity_gc(xd_presence *p, const char *key)
{
    struct entity *e = xd_map_get(p->entities, key);

    if (e == NULL || e == p->domain || e->has_policy || e->announced ||
        xd_map_count(e->subs) > 0)
        return;
    xd_map_remove(p->entities, key);
    entity_free(e);
}

static unsigned
state_of(const struct entity *e, const char *user)
{
    const struct sub *s = e ? xd_map_get(e->subs, user) : NULL;

    return s ? s->state : 0;
}

/* The pair's new state, written to the store first. When the store fails
 * the state stays as it was and XD_EIO is returned, unless `force` (the
 * peer has already made the change on its side): then it changes all the
 * same. Logged here. */
static int
set_state(xd_presence *p, struct entity *e, const char *user, unsigned state,
          int force)
{
    struct sub *s = xd_map_get(e->subs, user);
    unsigned old = s ? s->state : 0;

    if (old == state)
        return 0;
    int rc = store_write(p, e->jid, user, state);
    if (rc != 0) {
        xd_log_warnx("%s: cannot store the subscription state of %s", e->jid,
                     user);
        if (!force)
            return XD_EIO;
    }
    if (state == 0) {
        free(xd_map_remove(e->subs, user));
        p->count--;
    } else if (s == NULL) {
        s = xd_xcalloc(1, sizeof(*s));
        s->state = state;
        xd_map_put(e->subs, user, s);
        p->count++;
    } else {
        s->state = state;
    }
    if (p->count < p->max)
        p->full_logged = 0;
    return rc != 0 ? XD_EIO : 0;
}

/* A new pair is refused past the bound (logged once until there is room). */
static int
room_for_one(xd_presence *p, const char *entity, const char *user)
{
    if (p->count < p->max)
        return 1;
    if (!p->full_logged)
        xd_log_warnx("%s: %zu subscriptions kept (presence_max_subscriptions):"
                     " refusing new ones, first %s",
                     entity, p->count, user);
    p->full_logged = 1;
    return 0;
}

static void
policy_of(const xd_presence *p, const struct entity *e,
          xd_presence_policy *policy, unsigned *flags)
{
    if (e != NULL && e->has_policy) {
        *policy = e->policy;
        *flags = e->flags;
    } else {
        *policy = p->policy;
        *flags = p->flags;
    }
}

/* --- sending -------------------------------------------------------------- */

static void
send_type(xd_presence *p, const char *type, const char *from, const char *to)
{
    xd_component_send(p->c, xd_stanza_presence_new(type, to, from));
}

/* The entity's presence, without a to; `unavailable` forces that. The
 * domain's available presence carries its XEP-0115 <c/>, so that clients
 * know the service's features without asking for its disco#info. */
static xd_stanza *
presence_of(const xd_presence *p, const struct entity *e, int unavailable)
{
    static const char *const shows[] = {
        [XD_PRESENCE_CHAT] = "chat",
        [XD_PRESENCE_AWAY] = "away",
        [XD_PRESENCE_XA] = "xa",
        [XD_PRESENCE_DND] = "dnd",
    };
    int off = unavailable || e->show == XD_PRESENCE_UNAVAILABLE;
    xd_stanza *st =
        xd_stanza_presence_new(off ? "unavailable" : NULL, NULL, e->jid);

    if (!off && e->show != XD_PRESENCE_ONLINE)
        xd_stanza_set_child_text(st, "show", XD_NS_CLIENT, shows[e->show]);
    if (e->status != NULL && !unavailable)
        xd_stanza_set_child_text(st, "status", XD_NS_CLIENT, e->status);
    if (!off && e == p->domain)
        xd_component_add_caps(p->c, st); /* ill-formed disco: logged there */
    return st;
}

static void
send_current(xd_presence *p, const struct entity *e, const char *to)
{
    xd_stanza *st = presence_of(p, e, 0);

    xd_stanza_set_to(st, to);
    xd_component_send(p->c, st);
}

struct collect {
    const char **to;
    size_t n;
};

static void
collect_from(const char *user, void *value, void *arg)
{
    const struct sub *s = value;
    struct collect *c = arg;

    if (s->state & SUB_FROM)
        c->to[c->n++] = user;
}

/* One copy of st (borrowed; from the entity, no to) to each subscriber. */
static int
broadcast(xd_presence *p, const struct entity *e, const xd_stanza *st)
{
    struct collect c = { NULL, 0 };
    int rc = 0;

    if (xd_map_count(e->subs) == 0)
        return 0;
    c.to = xd_xcalloc(xd_map_count(e->subs), sizeof(*c.to));
    xd_map_each(e->subs, collect_from, &c);
    if (c.n > 0)
        rc = xd_component_send_each(p->c, st, c.to, c.n);
    free(c.to);
    return rc;
}

static int
broadcast_presence(xd_presence *p, const struct entity *e, int unavailable)
{
    xd_stanza *st = presence_of(p, e, unavailable);
    int rc = broadcast(p, e, st);

    xd_stanza_unref(st);
    return rc;
}

/* --- answers -------------------------------------------------------------- */

/* Approves (entity, user): subscribed, the presence if available, and a
 * subscribe back for a MUTUAL policy. 0, or XD_EIO (nothing sent). */
static int
approve(xd_presence *p, const char *ek, const char *user)
{
    struct entity *e = entity_get(p, ek, 1);
    xd_presence_policy policy;
    unsigned flags, s = state_of(e, user);

    policy_of(p, e, &policy, &flags);
    unsigned next = (s | SUB_FROM) & ~SUB_IN;
    int back = (flags & XD_PRESENCE_MUTUAL) && !(s & (SUB_TO | SUB_OUT));
    if (back)
        next |= SUB_OUT;
    if (set_state(p, e, user, next, 0) != 0) {
        entity_gc(p, ek);
        return XD_EIO;
    }
    send_type(p, "subscribed", e->jid, user);
    /* RFC 6121 3.1.5: the new subscriber learns the presence at once. */
    if (e->show != XD_PRESENCE_UNAVAILABLE)
        send_current(p, e, user);
    if (back)
        send_type(p, "subscribe", e->jid, user);
    return 0;
}

static int
refuse(xd_presence *p, const char *ek, const char *user)
{
    struct entity *e = entity_get(p, ek, 1);
    int rc = set_state(p, e, user, state_of(e, user) & ~SUB_IN, 1);

    send_type(p, "unsubscribed", ek, user);
    entity_gc(p, ek);
    return rc;
}

static void
reply_error(xd_presence *p, const xd_stanza *in, xd_error_type type,
            const char *condition)
{
    xd_stanza *err = xd_stanza_error_reply(in, type, condition, NULL);

    if (err != NULL)
        xd_component_send(p->c, err);
}

static void
on_subscribe(xd_presence *p, const xd_stanza *in, const char *ek,
             const char *user)
{
    struct entity *e = entity_get(p, ek, 0);
    unsigned s = state_of(e, user);
    xd_presence_policy policy;
    unsigned flags;

    if (s & SUB_FROM) { /* RFC 6121 3.1.3: approved already */
        send_type(p, "subscribed", ek, user);
        if (e->show != XD_PRESENCE_UNAVAILABLE)
            send_current(p, e, user);
        return;
    }
    if (s & SUB_IN) /* asked already: not asked again */
        return;
    policy_of(p, e, &policy, &flags);
    if (policy == XD_PRESENCE_REFUSE ||
        (policy == XD_PRESENCE_ASK && p->ask == NULL)) {
        send_type(p, "unsubscribed", ek, user);
        return;
    }
    if (s == 0 && !room_for_one(p, ek, user)) {
        reply_error(p, in, XD_ERRT_WAIT, "resource-constraint");
        return;
    }
    if (policy == XD_PRESENCE_APPROVE) {
        if (approve(p, ek, user) != 0)
            reply_error(p, in, XD_ERRT_WAIT, "internal-server-error");
        return;
    }
    e = entity_get(p, ek, 1);
    if (set_state(p, e, user, s | SUB_IN, 0) != 0) {
        entity_gc(p, ek);
        reply_error(p, in, XD_ERRT_WAIT, "internal-server-error");
        return;
    }
    /* The function may answer itself (xd_presence_answer) or change
     * anything: only keys are used after it. */
    xd_presence_policy d = p->ask(p, ek, user, p->ask_arg);
    if (d == XD_PRESENCE_ASK || !(xd_presence_state(p, ek, user) & SUB_IN))
        return;
    if (d == XD_PRESENCE_APPROVE)
        approve(p, ek, user);
    else
        refuse(p, ek, user);
}

static void
on_probe(xd_presence *p, const xd_stanza *in, const char *ek, const char *user)
{
    struct entity *e = entity_get(p, ek, 0);
    unsigned s = state_of(e, user), flags;
    xd_presence_policy policy;

    policy_of(p, e, &policy, &flags);
    if ((s & SUB_FROM) || (flags & XD_PRESENCE_PUBLIC)) {
        if (e != NULL) {
            send_current(p, e, xd_stanza_from(in));
            return;
        }
        send_type(p, "unavailable", ek, xd_stanza_from(in));
        return;
    }
    /* RFC 6121 4.3.2: no subscription, nothing revealed; a request still
     * pending is not cancelled by the answer. */
    if (!(s & SUB_IN))
        send_type(p, "unsubscribed", ek, user);
}

void
presence_dispatch(xd_presence *p, const xd_stanza *in)
{
    const char *type = xd_stanza_type(in);
    char *ek = NULL, *user = NULL;
    xd_jid *to = NULL;

    if (type == NULL)
        return;
    if (strcmp(type, "subscribe") != 0 && strcmp(type, "unsubscribe") != 0 &&
        strcmp(type, "subscribed") != 0 && strcmp(type, "unsubscribed") != 0 &&
        strcmp(type, "probe") != 0)
        return;
    /* Subscriptions are to bare JIDs, whatever resource the stanza named. */
    if (xd_stanza_to(in) == NULL || xd_jid_parse(xd_stanza_to(in), &to) != 0 ||
        user_key(xd_stanza_from(in), &user) != 0)
        goto out;
    if (entity_key(p, xd_jid_bare_str(to), &ek) != 0)
        goto out;
    xd_log_debug("%s: %s from %s", ek, type, user);
    struct entity *e = entity_get(p, ek, 0);
    unsigned s = state_of(e, user);
    if (strcmp(type, "subscribe") == 0) {
        on_subscribe(p, in, ek, user);
    } else if (strcmp(type, "probe") == 0) {
        on_probe(p, in, ek, user);
    } else if (strcmp(type, "unsubscribe") == 0) {
        if (!(s & (SUB_FROM | SUB_IN)))
            goto out;
        set_state(p, e, user, s & ~(SUB_FROM | SUB_IN), 1);
        /* RFC 6121 3.3.3: the entity is unavailable to them from now. */
        if ((s & SUB_FROM) && e->show != XD_PRESENCE_UNAVAILABLE)
            send_type(p, "unavailable", ek, user);
    } else if (strcmp(type, "subscribed") == 0) {
        if (!(s & SUB_OUT)) /* nothing asked: ignored (RFC 6121 3.1.6) */
            goto out;
        set_state(p, e, user, (s | SUB_TO) & ~SUB_OUT, 1);
    } else { /* unsubscribed */
        if (!(s & (SUB_TO | SUB_OUT)))
            goto out;
        set_state(p, e, user, s & ~(SUB_TO | SUB_OUT), 1);
    }
    entity_gc(p, ek);
out:
    xd_jid_free(to);
    free(ek);
    free(user);
}

/* --- the link ------------------------------------------------------------- */

void
presence_link_up(xd_presence *p)
{
    size_t n;
    void **es = xd_map_values(p->entities, &n);

    for (size_t i = 0; i < n; i++) {
        struct entity *e = es[i];
        if (e->announced)
            broadcast_presence(p, e, 0);
    }
    free(es);
}

void
presence_stopping(xd_presence *p)
{
    size_t n;
    void **es = xd_map_values(p->entities, &n);

    for (size_t i = 0; i < n; i++) {
        struct entity *e = es[i];
        if (e->announced && e->show != XD_PRESENCE_UNAVAILABLE)
            broadcast_presence(p, e, 1);
    }
    free(es);
}

static void
entity_free_cb(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    entity_free(value);
}

void
presence_free(xd_presence *p)
{
    if (p == NULL)
        return;
    xd_map_each(p->entities, entity_free_cb, NULL);
    xd_map_free(p->entities);
    free(p);
}

/* --- the API -------------------------------------------------------------- */

static int
load(xd_presence *p)
{
    struct sqlite3_stmt *st;
    int rc;
    size_t skipped = 0;

    if (schema_migrate(p->db, "presence", presence_migrations,
                       XD_NELEM(presence_migrations)) != 0 ||
        xd_db_prepare(p->db,
                      "SELECT entity, user_jid, state FROM "
                      "xd_presence_subscriptions",
                      &st) != 0)
        return XD_EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ej = (const char *)sqlite3_column_text(st, 0);
        const char *uj = (const char *)sqlite3_column_text(st, 1);
        unsigned state = (unsigned)sqlite3_column_int(st, 2) & 15;
        char *ek = NULL;
        /* Rows of another domain (the configuration changed) stay. */
        if (ej == NULL || uj == NULL || state == 0 ||
            entity_key(p, ej, &ek) != 0) {
            skipped++;
            continue;
        }
        struct entity *e = entity_get(p, ek, 1);
        struct sub *s = xd_map_get(e->subs, uj);
        if (s == NULL) {
            s = xd_xcalloc(1, sizeof(*s));
            xd_map_put(e->subs, uj, s);
            p->count++;
        }
        s->state = state;
        free(ek);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        xd_log_warnx("%s: cannot read the subscriptions: %s",
                     xd_component_domain(p->c),
                     sqlite3_errmsg(xd_db_handle(p->db)));
        return XD_EIO;
    }
    xd_log_info("%s: %zu subscription(s) loaded%s", xd_component_domain(p->c),
                p->count, skipped ? " (rows of other domains left alone)" : "");
    if (p->count > p->max)
        xd_log_warnx("%s: more subscriptions than presence_max_subscriptions "
                     "(%llu): no new ones until some go",
                     xd_component_domain(p->c), p->max);
    return 0;
}

int
xd_presence_enable(xd_component *c, xd_db *db, xd_presence **out)
{
    if (component_presence(c) != NULL)
        return XD_EEXIST;
    xd_presence *p = xd_xcalloc(1, sizeof(*p));
    p->c = c;
    p->db = db;
    p->max = component_max_subscriptions(c);
    p->entities = xd_map_new();
    p->policy = XD_PRESENCE_REFUSE;
    p->domain = entity_get(p, xd_component_domain(c), 1);
    p->domain->has_policy = 1;
    p->domain->policy = XD_PRESENCE_APPROVE;
    p->domain->announced = 1;
    p->domain->show = XD_PRESENCE_ONLINE;
    if (db != NULL && load(p) != 0) {
        presence_free(p);
        return XD_EIO;
    }
    component_set_presence(c, p);
    /* Turned on with the link up: that link up has passed, say it now. */
    if (xd_component_is_up(c))
        presence_link_up(p);
    *out = p;
    return 0;
}

int
xd_presence_set_policy(xd_presence *p, const char *jid,
                       xd_presence_policy policy, unsigned flags)
{
    char *ek = NULL;

    if (policy != XD_PRESENCE_REFUSE && policy != XD_PRESENCE_APPROVE &&
        policy != XD_PRESENCE_ASK)
        return XD_EINVAL;
    flags &= XD_PRESENCE_MUTUAL | XD_PRESENCE_PUBLIC;
    if (jid == NULL) {
        p->policy = policy;
        p->flags = flags;
        return 0;
    }
    if (entity_key(p, jid, &ek) != 0)
        return XD_EINVAL;
    struct entity *e = entity_get(p, ek, 1);
    e->has_policy = 1;
    e->policy = policy;
    e->flags = flags;
    free(ek);
    return 0;
}

void
xd_presence_on_ask(xd_presence *p, xd_presence_ask_fn fn, void *arg)
{
    p->ask = fn;
    p->ask_arg = arg;
}

/* The keys of an (entity, user) pair given to the API. */
static int
pair_keys(const xd_presence *p, const char *entity, const char *user, char **ek,
          char **uk)
{
    if (entity_key(p, entity, ek) != 0)
        return XD_EINVAL;
    if (user_key(user, uk) != 0) {
        free(*ek);
        return XD_EINVAL;
    }
    return 0;
}

int
xd_presence_answer(xd_presence *p, const char *entity, const char *user,
                   int yes)
{
    char *ek, *uk;
    int rc;

    if (pair_keys(p, entity, user, &ek, &uk) != 0)
        return XD_EINVAL;
    if (!(state_of(entity_get(p, ek, 0), uk) & SUB_IN))
        rc = XD_ENOTFOUND;
    else
        rc = yes ? approve(p, ek, uk) : refuse(p, ek, uk);
    free(ek);
    free(uk);
    return rc;
}

int
xd_presence_online(xd_component *c, xd_db *db, const char *status)
{
    xd_presence *p;
    int rc = xd_presence_enable(c, db, &p);

    if (rc != 0)
        return rc;
    return xd_presence_set(p, NULL, XD_PRESENCE_ONLINE, status);
}

int
xd_presence_set(xd_presence *p, const char *entity, xd_presence_show show,
                const char *status)
{
    char *ek = NULL;

    if ((int)show < (int)XD_PRESENCE_UNAVAILABLE ||
        (int)show > (int)XD_PRESENCE_DND || entity_key(p, entity, &ek) != 0)
        return XD_EINVAL;
    struct entity *e = entity_get(p, ek, 1);
    free(ek);
    e->show = show;
    free(e->status);
    e->status = xd_xstrdup(status);
    e->announced = 1;
    if (!xd_component_is_up(p->c)) /* link up announces it */
        return 0;
    return broadcast_presence(p, e, 0);
}

int
xd_presence_subscribe(xd_presence *p, const char *entity, const char *user)
{
    char *ek, *uk;
    int rc = 0;

    if (pair_keys(p, entity, user, &ek, &uk) != 0)
        return XD_EINVAL;
    struct entity *e = entity_get(p, ek, 1);
    unsigned s = state_of(e, uk);
    if (s & (SUB_TO | SUB_OUT))
        goto out;
    if (s == 0 && !room_for_one(p, ek, uk)) {
        rc = XD_ELIMIT;
        goto out;
    }
    if ((rc = set_state(p, e, uk, s | SUB_OUT, 0)) == 0)
        send_type(p, "subscribe", ek, uk);
out:
    entity_gc(p, ek);
    free(ek);
    free(uk);
    return rc;
}

int
xd_presence_remove(xd_presence *p, const char *entity, const char *user)
{
    char *ek, *uk;
    int rc = 0;

    if (pair_keys(p, entity, user, &ek, &uk) != 0)
        return XD_EINVAL;
    struct entity *e = entity_get(p, ek, 0);
    unsigned s = state_of(e, uk);
    if (s != 0) {
        /* RFC 6121 3.2.2: a cancelled subscriber sees us go first. */
        if ((s & SUB_FROM) && e->show != XD_PRESENCE_UNAVAILABLE)
            send_type(p, "unavailable", ek, uk);
        if (s & (SUB_FROM | SUB_IN))
            send_type(p, "unsubscribed", ek, uk);
        if (s & (SUB_TO | SUB_OUT))
            send_type(p, "unsubscribe", ek, uk);
        rc = set_state(p, e, uk, 0, 1);
        entity_gc(p, ek);
    }
    free(ek);
    free(uk);
    return rc;
}

unsigned
xd_presence_state(const xd_presence *p, const char *entity, const char *user)
{
    char *ek, *uk;

    if (pair_keys(p, entity, user, &ek, &uk) != 0)
        return 0;
    unsigned s = state_of(xd_map_get(p->entities, ek), uk);
    free(ek);
    free(uk);
    return s;
}

size_t
xd_presence_count(const xd_presence *p)
{
    return p->count;
}

struct pair {
    char *entity, *user;
    unsigned state;
};

struct pairs {
    struct pair *list;
    size_t n;
    const char *entity;
};

static void
collect_pair(const char *user, void *value, void *arg)
{
    struct pairs *ps = arg;
    const struct sub *s = value;

    ps->list[ps->n].entity = xd_xstrdup(ps->entity);
    ps->list[ps->n].user = xd_xstrdup(user);
    ps->list[ps->n].state = s->state;
    ps->n++;
}

void
xd_presence_each(xd_presence *p,
                 void (*fn)(xd_presence *p, const char *entity,
                            const char *user, unsigned state, void *arg),
                 void *arg)
{
    struct pairs ps = { NULL, 0, NULL };
    size_t n;
    void **es = xd_map_values(p->entities, &n);

    /* A copy first: fn may change what it walks. */
    ps.list = xd_xcalloc(p->count + 1, sizeof(*ps.list));
    for (size_t i = 0; i < n; i++) {
        struct entity *e = es[i];
        ps.entity = e->jid;
        xd_map_each(e->subs, collect_pair, &ps);
    }
    free(es);
    for (size_t i = 0; i < ps.n; i++) {
        fn(p, ps.list[i].entity, ps.list[i].user, ps.list[i].state, arg);
        free(ps.list[i].entity);
        free(ps.list[i].user);
    }
    free(ps.list);
}
