/*
 * Unit tests for presence.c, driving a component through the fake router:
 * subscription requests approved, refused, asked and answered later, per
 * domain and per entity policy (and a mutual one); unsubscribe and the
 * entity's answers to its own requests; probes from subscribers, strangers
 * and for a public JID; broadcasts on xd_presence_set; presence to every
 * subscriber when the link comes up again and unavailable when the
 * component stops; the store in SQLite (a second component on the same
 * file knows the subscribers, in the framework's own tables beside the
 * component's); presence_max_subscriptions; and the domain's XEP-0115
 * <c/> in every available presence it sends, and in no other.
 */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xmppd/caps.h>
#include <xmppd/component.h>
#include <xmppd/db.h>
#include <xmppd/presence.h>
#include <xmppd/testing.h>

#define D "comp.example"

struct rig {
    xd_fake_router *r;
    xd_config *cfg;
    xd_component *comp;
    xd_presence *p;
    int up;
};

static void
on_link(xd_component *c, int up, void *arg)
{
    struct rig *g = arg;

    (void)c;
    if (up)
        g->up++;
}

/* A component on a fresh fake router, its presence on (db may be NULL),
 * the link up; with `late`, presence is turned on once the link is up.
 * `extra` is added to its section. */
static void
rig_open_at(struct rig *g, xd_db *db, const char *extra, int late)
{
    char keys[256];

    memset(g, 0, sizeof(*g));
    snprintf(keys, sizeof(keys),
             "reconnect_min_ms = 20\nreconnect_max_ms = 40\n%s",
             extra ? extra : "");
    if (xd_fake_router_new(&g->r) != 0 ||
        xd_fake_router_config(g->r, "c", D, keys, &g->cfg) != 0 ||
        xd_component_new(g->cfg, "c", xd_fake_router_base(g->r), &g->comp) !=
            0 ||
        (!late && xd_presence_enable(g->comp, db, &g->p) != 0)) {
        fprintf(stderr, "cannot make the component\n");
        exit(1);
    }
    xd_component_on_link(g->comp, on_link, g);
    if (xd_fake_router_start(g->r, g->comp) != 0) {
        fprintf(stderr, "the link does not come up\n");
        exit(1);
    }
    if (late && xd_presence_enable(g->comp, db, &g->p) != 0) {
        fprintf(stderr, "cannot turn presence on\n");
        exit(1);
    }
    xd_test_run_for_ms(xd_fake_router_base(g->r), 20);
}

static void
rig_open(struct rig *g, xd_db *db, const char *extra)
{
    rig_open_at(g, db, extra, 0);
}

static void
rig_close(struct rig *g)
{
    xd_component_free(g->comp);
    xd_fake_router_free(g->r);
    xd_config_free(g->cfg);
}

/* Waits for n more stanzas than `before`, then a little for extra ones. */
static void
wait_got(struct rig *g, int before, int n)
{
    xd_fake_router_wait(g->r, before + n);
    xd_test_run_for_ms(xd_fake_router_base(g->r), 30);
}

static int
same(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The first presence since `start` of `type` (NULL: available) to `to`
 * from `from` (NULL: any), or NULL. */
static const xd_stanza *
got(struct rig *g, int start, const char *type, const char *to,
    const char *from)
{
    for (int i = start; i < xd_fake_router_count(g->r); i++) {
        const xd_stanza *st = xd_fake_router_got(g->r, i);
        if (xd_stanza_kind_of(st) == XD_STANZA_PRESENCE &&
            same(xd_stanza_type(st), type) && same(xd_stanza_to(st), to) &&
            (from == NULL || same(xd_stanza_from(st), from)))
            return st;
    }
    return NULL;
}

static void
user_sends(struct rig *g, const char *type, const char *from, const char *to)
{
    char xml[256];

    snprintf(xml, sizeof(xml), "<presence type='%s' from='%s' to='%s'/>", type,
             from, to);
    xd_fake_router_send(g->r, xml);
}

/* --- asking ------------------------------------------------------------- */

struct asked {
    int calls;
    xd_presence_policy answer;
    char entity[64], user[64];
};

static xd_presence_policy
on_ask(xd_presence *p, const char *entity, const char *user, void *arg)
{
    struct asked *a = arg;

    (void)p;
    a->calls++;
    snprintf(a->entity, sizeof(a->entity), "%s", entity);
    snprintf(a->user, sizeof(a->user), "%s", user);
    return a->answer;
}

/* A component handler that takes presence to taken@: the helper must not
 * answer those. */
static xd_verdict
take_some(xd_component *c, const xd_stanza *in, void *arg)
{
    (void)c;
    (void)arg;
    return same(xd_stanza_to(in), "taken@" D) ? XD_HANDLED : XD_PASS;
}

static void
test_subscriptions(void)
{
    struct rig g;
    struct asked a = { 0 };
    int n;

    rig_open(&g, NULL, NULL);
    xd_component_on(g.comp, XD_STANZA_PRESENCE, NULL, take_some, NULL);
    CHECK(xd_presence_set(g.p, NULL, XD_PRESENCE_ONLINE, "Ready") == 0,
          "the domain's presence set");
    xd_test_run_for_ms(xd_fake_router_base(g.r), 20);
    CHECK(xd_fake_router_count(g.r) == 0,
          "no subscriber yet: nothing sent (got %d)",
          xd_fake_router_count(g.r));

    /* The domain: approved, and its presence follows (RFC 6121 3.1.5). */
    n = xd_fake_router_count(g.r);
    user_sends(&g, "subscribe", "alice@example.com/desk", D);
    wait_got(&g, n, 2);
    const xd_stanza *ok = got(&g, n, "subscribed", "alice@example.com", D);
    const xd_stanza *av = got(&g, n, NULL, "alice@example.com", D);
    CHECK(ok != NULL && av != NULL && xd_fake_router_count(g.r) == n + 2 &&
              same(xd_stanza_child_text(av, "status", XD_NS_CLIENT), "Ready"),
          "subscribe to the domain: subscribed, then available with the "
          "status (got %d)",
          xd_fake_router_count(g.r) - n);
    CHECK(xd_presence_state(g.p, NULL, "alice@example.com") ==
              XD_PRESENCE_SUB_FROM,
          "alice is a subscriber of the domain");
    n = xd_fake_router_count(g.r);
    user_sends(&g, "subscribe", "alice@example.com", D);
    wait_got(&g, n, 2);
    CHECK(got(&g, n, "subscribed", "alice@example.com", D) != NULL &&
              xd_presence_count(g.p) == 1,
          "asking again is approved again, nothing more stored");

    /* An entity without a policy of its own: refused. */
    n = xd_fake_router_count(g.r);
    user_sends(&g, "subscribe", "alice@example.com", "nobody@" D);
    wait_got(&g, n, 1);
    CHECK(got(&g, n, "unsubscribed", "alice@example.com", "nobody@" D) &&
              xd_fake_router_count(g.r) == n + 1 && xd_presence_count(g.p) == 1,
          "an entity refuses by default: unsubscribed, nothing kept");

    /* A handler that takes the stanza first: the helper stays out. */
    n = xd_fake_router_count(g.r);
    user_sends(&g, "subscribe", "alice@example.com", "taken@" D);
    xd_test_run_for_ms(xd_fake_router_base(g.r), 60);
    CHECK(xd_fake_router_count(g.r) == n,
          "presence a handler took is not answered again");

    /* Per entity: a gateway contact approved, with a subscription back. */
    CHECK(xd_presence_set_policy(g.p, "bob@" D, XD_PRESENCE_APPROVE,
                                 XD_PRESENCE_MUTUAL) == 0,
          "policy for an entity");
    CHECK(xd_presence_set_policy(g.p, "bob@elsewhere.example",
                                 XD_PRESENCE_APPROVE, 0) == XD_EINVAL &&
              xd_presence_set_policy(g.p, "bob@" D "/r", XD_PRESENCE_APPROVE,
                                     0) == XD_EINVAL,
          "a policy only for our bare JIDs");
    xd_presence_set(g.p, "bob@" D, XD_PRESENCE_AWAY, "on the phone");
    n = xd_fake_router_count(g.r);
    user_sends(&g, "subscribe", "alice@example.com", "bob@" D);
    wait_got(&g, n, 3);
    av = got(&g, n, NULL, "alice@example.com", "bob@" D);
    CHECK(got(&g, n, "subscribed", "alice@example.com", "bob@" D) && av &&
              same(xd_stanza_child_text(av, "show", XD_NS_CLIENT), "away") &&
              got(&g, n, "subscribe", "alice@example.com", "bob@" D),
          "a mutual policy: subscribed, the presence (away) and subscribe");
    CHECK(xd_presence_state(g.p, "bob@" D, "alice@example.com") ==
              (XD_PRESENCE_SUB_FROM | XD_PRESENCE_SUB_PENDING_OUT),
          "bob is subscribed to and waiting for alice's answer");
    user_sends(&g, "subscribed", "alice@example.com", "bob@" D);
    user_sends(&g, "subscribed", "carol@example.com", "bob@" D);
    xd_test_run_for_ms(xd_fake_router_base(g.r), 60);
    CHECK(xd_presence_state(g.p, "bob@" D, "alice@example.com") ==
                  (XD_PRESENCE_SUB_FROM | XD_PRESENCE_SUB_TO) &&
              xd_presence_state(g.p, "bob@" D, "carol@example.com") == 0,
          "alice's subscribed is taken, carol's unasked one ignored");

    /* Ask: later, then answered. */
    xd_presence_set_policy(g.p, "ask@" D, XD_PRESENCE_ASK, 0);
    n = xd_fake_router_count(g.r);
    user_sends(&g, "subscribe", "alice@example.com", "ask@" D);
    wait_got(&g, n, 1);
    CHECK(got(&g, n, "unsubscribed", "alice@example.com", "ask@" D) &&
              xd_presence_state(g.p, "ask@" D, "alice@example.com") == 0,
          "ask without an ask function: refused");
    xd_presence_on_ask(g.p, on_ask, &a);
    a.answer = XD_PRESENCE_ASK;
    user_sends(&g, "subscribe", "dave@example.com/x", "ask@" D);
    xd_test_run_for_ms(xd_fake_router_base(g.r), 60);
    CHECK(a.calls == 1 && same(a.entity, "ask@" D) &&
              same(a.user, "dave@example.com"),
          "ask: the function is called with the entity and the bare user");
    CHECK(xd_presence_state(g.p, "ask@" D, "dave@example.com") ==
              XD_PRESENCE_SUB_PENDING_IN,
          "deferred: the request is pending");
    user_sends(&g, "subscribe", "dave@example.com", "ask@" D);
    xd_test_run_for_ms(xd_fake_router_base(g.r), 60);
    CHECK(a.calls == 1, "the same request while pending is not asked again");
    CHECK(xd_presence_answer(g.p, "ask@" D, "erin@example.com", 1) ==
              XD_ENOTFOUND,
          "answering what nobody asked: XD_ENOTFOUND");
    n = xd_fake_router_count(g.r);
    CHECK(xd_presence_answer(g.p, "ask@" D, "dave@example.com", 1) == 0,
          "answered later");
    wait_got(&g, n, 1);
    CHECK(got(&g, n, "subscribed", "dave@example.com", "ask@" D) &&
              xd_presence_state(g.p, "ask@" D, "dave@example.com") ==
                  XD_PRESENCE_SUB_FROM,
          "the later approval sends subscribed and makes a subscriber");
    a.answer = XD_PRESENCE_REFUSE;
    n = xd_fake_router_count(g.r);
    user_sends(&g, "subscribe", "erin@example.com", "ask@" D);
    wait_got(&g, n, 1);
    CHECK(a.calls == 2 &&
              got(&g, n, "unsubscribed", "erin@example.com", "ask@" D) &&
              xd_presence_state(g.p, "ask@" D, "erin@example.com") == 0,
          "ask answered at once with a refusal: unsubscribed, nothing kept");

    /* Unsubscribe: forgotten, and the entity goes unavailable for them. */
    n = xd_fake_router_count(g.r);
    user_sends(&g, "unsubscribe", "alice@example.com", D);
    wait_got(&g, n, 1);
    CHECK(got(&g, n, "unavailable", "alice@example.com", D) &&
              xd_presence_state(g.p, NULL, "alice@example.com") == 0,
          "unsubscribe: unavailable, and alice is no subscriber");
    user_sends(&g, "unsubscribed", "alice@example.com", "bob@" D);
    xd_test_run_for_ms(xd_fake_router_base(g.r), 60);
    CHECK(xd_presence_state(g.p, "bob@" D, "alice@example.com") ==
              XD_PRESENCE_SUB_FROM,
          "unsubscribed: bob no longer gets alice's presence");

    /* Remove: both ways, from the component. */
    n = xd_fake_router_count(g.r);
    CHECK(xd_presence_subscribe(g.p, "bob@" D, "alice@example.com") == 0,
          "subscribe from an entity");
    CHECK(xd_presence_remove(g.p, "bob@" D, "alice@example.com") == 0 &&
              xd_presence_state(g.p, "bob@" D, "alice@example.com") == 0,
          "removed");
    wait_got(&g, n, 4);
    CHECK(got(&g, n, "subscribe", "alice@example.com", "bob@" D) &&
              got(&g, n, "unavailable", "alice@example.com", "bob@" D) &&
              got(&g, n, "unsubscribed", "alice@example.com", "bob@" D) &&
              got(&g, n, "unsubscribe", "alice@example.com", "bob@" D),
          "remove sends unavailable, unsubscribed and unsubscribe");
    rig_close(&g);
}

static void
test_probes_and_broadcast(void)
{
    struct rig g;
    int n;

    rig_open(&g, NULL, NULL);
    user_sends(&g, "subscribe", "alice@example.com", D);
    user_sends(&g, "subscribe", "bob@example.org", D);
    xd_fake_router_wait(g.r, 4);

    n = xd_fake_router_count(g.r);
    xd_fake_router_send(g.r, "<presence type='probe' from='alice@example.com' "
                             "to='" D "'/>");
    wait_got(&g, n, 1);
    CHECK(got(&g, n, NULL, "alice@example.com", D) &&
              xd_fake_router_count(g.r) == n + 1,
          "a subscriber's probe: the domain's presence (available)");
    n = xd_fake_router_count(g.r);
    xd_fake_router_send(g.r,
                        "<presence type='probe' from='mallory@example.net' "
                        "to='" D "'/>");
    wait_got(&g, n, 1);
    CHECK(got(&g, n, "unsubscribed", "mallory@example.net", D) &&
              !got(&g, n, NULL, "mallory@example.net", NULL),
          "a stranger's probe: unsubscribed, no presence (RFC 6121 4.3.2)");
    xd_presence_set_policy(g.p, NULL, XD_PRESENCE_REFUSE, XD_PRESENCE_PUBLIC);
    xd_presence_set_policy(g.p, D, XD_PRESENCE_APPROVE, XD_PRESENCE_PUBLIC);
    n = xd_fake_router_count(g.r);
    xd_fake_router_send(g.r,
                        "<presence type='probe' from='mallory@example.net/r' "
                        "to='" D "'/>"
                        "<presence type='probe' from='mallory@example.net/r' "
                        "to='gone@" D "'/>");
    wait_got(&g, n, 2);
    CHECK(got(&g, n, NULL, "mallory@example.net/r", D) &&
              got(&g, n, "unavailable", "mallory@example.net/r", "gone@" D),
          "public: anyone's probe is answered, available or unavailable");

    /* A new presence goes to every subscriber, once each. */
    n = xd_fake_router_count(g.r);
    CHECK(xd_presence_set(g.p, NULL, XD_PRESENCE_DND, "busy") == 0, "set dnd");
    wait_got(&g, n, 2);
    const xd_stanza *a = got(&g, n, NULL, "alice@example.com", D);
    const xd_stanza *b = got(&g, n, NULL, "bob@example.org", D);
    CHECK(a && b && xd_fake_router_count(g.r) == n + 2 &&
              same(xd_stanza_child_text(a, "show", XD_NS_CLIENT), "dnd") &&
              same(xd_stanza_child_text(b, "status", XD_NS_CLIENT), "busy"),
          "xd_presence_set: each subscriber gets the new presence");
    CHECK(xd_presence_set(g.p, "x@other.example", XD_PRESENCE_ONLINE, NULL) ==
              XD_EINVAL,
          "not our JID: XD_EINVAL");

    /* The link drops and comes back: everyone hears of the domain again. */
    n = xd_fake_router_count(g.r);
    xd_stream_error(xd_fake_router_stream(g.r), "system-shutdown", NULL);
    xd_test_run_until(xd_fake_router_base(g.r), &g.up, 2);
    wait_got(&g, n, 2);
    a = got(&g, n, NULL, "alice@example.com", D);
    CHECK(g.up == 2 && a && got(&g, n, NULL, "bob@example.org", D) &&
              same(xd_stanza_child_text(a, "show", XD_NS_CLIENT), "dnd"),
          "after a reconnect each subscriber gets the current presence "
          "(up %d, got %d)",
          g.up, xd_fake_router_count(g.r) - n);

    /* While the link is down nothing is queued; link up says it. */
    xd_fake_router_hold(g.r, 1);
    xd_stream_error(xd_fake_router_stream(g.r), "system-shutdown", NULL);
    xd_fake_router_wait_connections(g.r, 3);
    n = xd_fake_router_count(g.r);
    xd_presence_set(g.p, NULL, XD_PRESENCE_XA, NULL);
    xd_presence_set(g.p, NULL, XD_PRESENCE_CHAT, NULL);
    xd_fake_router_answer(g.r);
    wait_got(&g, n, 2);
    a = got(&g, n, NULL, "alice@example.com", D);
    CHECK(xd_fake_router_count(g.r) == n + 2 && a &&
              same(xd_stanza_child_text(a, "show", XD_NS_CLIENT), "chat"),
          "changes while down: only the current presence, once, at link up "
          "(got %d)",
          xd_fake_router_count(g.r) - n);

    /* Stopping: unavailable to the subscribers first. */
    n = xd_fake_router_count(g.r);
    xd_component_stop(g.comp);
    xd_test_run_for_ms(xd_fake_router_base(g.r), 100);
    CHECK(got(&g, n, "unavailable", "alice@example.com", D) &&
              got(&g, n, "unavailable", "bob@example.org", D),
          "xd_component_stop: unavailable to every subscriber");
    rig_close(&g);
}

static const char *const app_schema[] = {
    "CREATE TABLE hits (jid TEXT PRIMARY KEY, n INTEGER NOT NULL)",
};

static void
test_store(void)
{
    char dir[] = "/tmp/test_presence.XXXXXX", path[64];
    struct rig g;
    xd_db *db;
    struct asked a = { 0, XD_PRESENCE_ASK, "", "" };
    int n;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/c.db", dir);
    CHECK(xd_db_open(path, app_schema, 1, &db) == 0, "db opened");
    rig_open(&g, db, NULL);
    xd_presence_set_policy(g.p, NULL, XD_PRESENCE_ASK, 0);
    xd_presence_on_ask(g.p, on_ask, &a);
    user_sends(&g, "subscribe", "alice@example.com", D);
    user_sends(&g, "subscribe", "bob@example.org", "bot@" D);
    xd_fake_router_wait(g.r, 2);
    xd_test_run_for_ms(xd_fake_router_base(g.r), 30);
    CHECK(xd_db_version(db) == 1, "the component's user_version is its own");
    rig_close(&g);
    xd_db_close(db);

    /* The same file, a new process: subscribers and requests are known. */
    CHECK(xd_db_open(path, app_schema, 1, &db) == 0, "db opened again");
    rig_open(&g, db, NULL);
    CHECK(xd_presence_count(g.p) == 2 &&
              xd_presence_state(g.p, NULL, "alice@example.com") ==
                  XD_PRESENCE_SUB_FROM &&
              xd_presence_state(g.p, "bot@" D, "bob@example.org") ==
                  XD_PRESENCE_SUB_PENDING_IN,
          "subscriptions and pending requests are loaded from the db");
    CHECK(got(&g, 0, NULL, "alice@example.com", D) != NULL,
          "and the stored subscriber gets the presence on link up");
    n = xd_fake_router_count(g.r);
    CHECK(xd_presence_answer(g.p, "bot@" D, "bob@example.org", 0) == 0,
          "a request from before the restart is answered");
    wait_got(&g, n, 1);
    CHECK(got(&g, n, "unsubscribed", "bob@example.org", "bot@" D) &&
              xd_presence_count(g.p) == 1,
          "refused: unsubscribed, the row is gone");
    long long rows = -1;
    xd_db_get(db, "SELECT count(*) FROM xd_presence_subscriptions WHERE ?",
              XD_DB_INT(1), XD_DB_OUT_INT(&rows));
    CHECK(rows == 1, "one row in xd_presence_subscriptions (%lld)", rows);
    rig_close(&g);

    /* Presence turned on while the link is up: announced at once. */
    xd_presence *again;
    rig_open_at(&g, db, NULL, 1);
    xd_fake_router_wait(g.r, 1);
    CHECK(got(&g, 0, NULL, "alice@example.com", D) != NULL,
          "enabled with the link up: the subscribers get the presence now");
    CHECK(xd_presence_enable(g.comp, db, &again) == XD_EEXIST,
          "enabled twice: XD_EEXIST");
    rig_close(&g);
    xd_db_close(db);
    unlink(path);
    snprintf(path, sizeof(path), "%s/c.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/c.db-shm", dir);
    unlink(path);
    rmdir(dir);
}

static void
test_bound(void)
{
    struct rig g;
    char from[64];
    int n;

    rig_open(&g, NULL, "presence_max_subscriptions = 3\n");
    for (int i = 0; i < 3; i++) {
        snprintf(from, sizeof(from), "u%d@example.com", i);
        user_sends(&g, "subscribe", from, D);
    }
    xd_fake_router_wait(g.r, 6);
    CHECK(xd_presence_count(g.p) == 3, "three subscribers");
    n = xd_fake_router_count(g.r);
    xd_fake_router_send(g.r, "<presence type='subscribe' id='s4' "
                             "from='u3@example.com' to='" D "'/>");
    wait_got(&g, n, 1);
    const xd_stanza *err = got(&g, n, "error", "u3@example.com", D);
    CHECK(err && same(xd_stanza_error_condition(err), "resource-constraint") &&
              xd_presence_count(g.p) == 3 &&
              !got(&g, n, "subscribed", "u3@example.com", NULL),
          "past presence_max_subscriptions: resource-constraint, not kept");
    CHECK(xd_presence_subscribe(g.p, NULL, "u4@example.com") == XD_ELIMIT,
          "the component's own requests count too");
    n = xd_fake_router_count(g.r);
    user_sends(&g, "subscribe", "u0@example.com", D);
    wait_got(&g, n, 2);
    CHECK(got(&g, n, "subscribed", "u0@example.com", D) != NULL,
          "a subscriber asking again is still approved at the bound");
    user_sends(&g, "unsubscribe", "u1@example.com", D);
    xd_test_run_for_ms(xd_fake_router_base(g.r), 50);
    n = xd_fake_router_count(g.r);
    user_sends(&g, "subscribe", "u3@example.com", D);
    wait_got(&g, n, 2);
    CHECK(got(&g, n, "subscribed", "u3@example.com", D) != NULL &&
              xd_presence_count(g.p) == 3,
          "once one goes, a new one fits");
    rig_close(&g);
}

/* The domain's <c/> in st, checked against xd_component_caps: 1 when it
 * is there and right, 0 when absent, -1 when wrong. */
static int
caps_in(struct rig *g, const xd_stanza *st)
{
    const char *node, *ver;
    xd_elem *c = xd_elem_child(xd_stanza_root(st), "c", XD_NS_CAPS);

    if (c == NULL)
        return 0;
    if (xd_component_caps(g->comp, &node, &ver) != 0)
        return -1;
    return same(xd_elem_attr(c, "node"), node) &&
                   same(xd_elem_attr(c, "ver"), ver) &&
                   same(xd_elem_attr(c, "hash"), "sha-1")
               ? 1
               : -1;
}

static void
test_caps(void)
{
    struct rig g;
    const xd_stanza *st;
    int n;

    rig_open(&g, NULL, NULL);
    user_sends(&g, "subscribe", "alice@example.com", D);
    wait_got(&g, 0, 2);
    st = got(&g, 0, NULL, "alice@example.com", D);
    CHECK(st && caps_in(&g, st) == 1,
          "the presence after subscribed carries the domain's caps");
    st = got(&g, 0, "subscribed", "alice@example.com", D);
    CHECK(st && caps_in(&g, st) == 0, "subscribed carries no caps");

    n = xd_fake_router_count(g.r);
    xd_fake_router_send(g.r, "<presence type='probe' from='alice@example.com' "
                             "to='" D "'/>");
    wait_got(&g, n, 1);
    st = got(&g, n, NULL, "alice@example.com", D);
    CHECK(st && caps_in(&g, st) == 1, "a probe's answer carries the caps");

    /* A new feature changes ver: the next presence has the new one. */
    xd_component_add_feature(g.comp, "urn:example:new");
    n = xd_fake_router_count(g.r);
    xd_presence_set(g.p, NULL, XD_PRESENCE_AWAY, "later");
    wait_got(&g, n, 1);
    st = got(&g, n, NULL, "alice@example.com", D);
    CHECK(st && caps_in(&g, st) == 1, "xd_presence_set: the current caps");

    /* An entity's presence is not the domain's: no caps. */
    xd_presence_set_policy(g.p, "bot@" D, XD_PRESENCE_APPROVE, 0);
    xd_presence_set(g.p, "bot@" D, XD_PRESENCE_ONLINE, NULL);
    n = xd_fake_router_count(g.r);
    user_sends(&g, "subscribe", "alice@example.com", "bot@" D);
    wait_got(&g, n, 2);
    st = got(&g, n, NULL, "alice@example.com", "bot@" D);
    CHECK(st && caps_in(&g, st) == 0, "an entity's presence has no caps");

    /* Unavailable, on stop: no caps. */
    n = xd_fake_router_count(g.r);
    xd_component_stop(g.comp);
    xd_test_run_for_ms(xd_fake_router_base(g.r), 100);
    st = got(&g, n, "unavailable", "alice@example.com", D);
    CHECK(st && caps_in(&g, st) == 0, "unavailable presence has no caps");
    rig_close(&g);
}

/* xd_presence_online: presence on and the domain online with a status, in
 * one call before the link is up; a second call is XD_EEXIST. */
static void
test_online(void)
{
    struct rig g;

    memset(&g, 0, sizeof(g));
    if (xd_fake_router_new(&g.r) != 0 ||
        xd_fake_router_config(g.r, "c", D, NULL, &g.cfg) != 0 ||
        xd_component_new(g.cfg, "c", xd_fake_router_base(g.r), &g.comp) != 0) {
        fprintf(stderr, "cannot make the component\n");
        exit(1);
    }
    CHECK(xd_presence_online(g.comp, NULL, "Ready") == 0, "online");
    CHECK(xd_presence_online(g.comp, NULL, "Again") == XD_EEXIST,
          "a second xd_presence_online: XD_EEXIST");
    if (xd_fake_router_start(g.r, g.comp) != 0) {
        fprintf(stderr, "the link does not come up\n");
        exit(1);
    }
    user_sends(&g, "subscribe", "alice@example.com", D);
    xd_fake_router_wait(g.r, 2);
    int n = xd_fake_router_count(g.r);
    xd_fake_router_send(g.r, "<presence type='probe' from='alice@example.com' "
                             "to='" D "'/>");
    wait_got(&g, n, 1);
    const xd_stanza *a = got(&g, n, NULL, "alice@example.com", D);
    CHECK(a && !xd_stanza_child_text(a, "show", XD_NS_CLIENT) &&
              same(xd_stanza_child_text(a, "status", XD_NS_CLIENT), "Ready"),
          "the domain approves subscriptions and is online with the status");
    rig_close(&g);
}

int
main(void)
{
    test_subscriptions();
    test_probes_and_broadcast();
    test_store();
    test_bound();
    test_caps();
    test_online();
    return check_report();
}
