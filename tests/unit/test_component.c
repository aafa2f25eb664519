/*
 * Unit tests for component.c, iq_tracker.c and disco.c, against a small
 * fake router on a loopback socket in the same event loop: the handshake
 * digest, a refused secret then a reconnect, stanzas queued while the link
 * is down and flushed in order, iq results, time-outs and link loss, the
 * automatic service-unavailable, disco#info and ping.
 */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <xmppd/component.h>

#include "fake_router.h"

struct waiter {
    int calls;
    int got_reply;
    char type[16];
};

static void
on_iq(xd_component *c, const xd_stanza *reply, void *arg)
{
    struct waiter *w = arg;

    (void)c;
    w->calls++;
    w->got_reply = reply != NULL;
    snprintf(w->type, sizeof(w->type), "%s",
             reply && xd_stanza_type(reply) ? xd_stanza_type(reply) : "");
}

static int links_up, links_down;

static void
on_link(xd_component *c, int up, void *arg)
{
    (void)c;
    (void)arg;
    if (up)
        links_up++;
    else
        links_down++;
}

static int messages_seen;

static xd_verdict
on_message(xd_component *c, const xd_stanza *in, void *arg)
{
    (void)c;
    (void)in;
    (void)arg;
    messages_seen++;
    return XD_HANDLED;
}

static const char *
got_text(struct router *r, int i, const char *child)
{
    return i < r->ngot ? xd_stanza_child_text(r->got[i], child, XD_NS_CLIENT)
                       : NULL;
}

/* A message of about 5 KB (over the test's max_stanza_bytes of 4096). */
static xd_stanza *
big_message(void)
{
    char body[5000];
    xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);

    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    xd_stanza_set_to(m, "user@example.com");
    xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, body);
    return m;
}

static xd_verdict
answer_big(xd_component *c, const xd_stanza *in, void *arg)
{
    xd_stanza *r = xd_stanza_reply(in);
    xd_stanza *m = big_message();

    (void)arg;
    xd_elem_add_copy(xd_stanza_root(r), xd_stanza_root(m));
    xd_stanza_unref(m);
    xd_component_send(c, r);
    return XD_HANDLED;
}

int
main(void)
{
    struct router r;
    char ini[512];
    xd_config *cfg = NULL;
    xd_component *comp = NULL;

    router_open(&r);
    snprintf(ini, sizeof(ini),
             "[c]\ndomain = comp.example\nsecret = s3cret\n"
             "router_host = 127.0.0.1\nrouter_port = %u\n"
             "reconnect_min_ms = 20\nreconnect_max_ms = 40\n"
             "iq_timeout_ms = 150\nqueue_max = 3\n"
             "max_stanza_bytes = 4096\n",
             r.port);
    xd_config_load_string(ini, "test.ini", &cfg);
    CHECK(xd_component_new(cfg, "c", r.base, &comp) == 0, "component made");
    xd_component_add_identity(comp, "component", "generic", "Test");
    xd_component_add_feature(comp, "urn:example:feature");
    xd_component_on(comp, XD_STANZA_MESSAGE, NULL, on_message, NULL);
    xd_component_on_link(comp, on_link, NULL);

    /* Queued before any link: three fit, the fourth does not. */
    for (int i = 0; i < 4; i++) {
        xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);
        char body[8];
        snprintf(body, sizeof(body), "%d", i);
        xd_stanza_set_to(m, "user@example.com");
        xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, body);
        int rc = xd_component_send(comp, m);
        CHECK(rc == (i < 3 ? 0 : XD_ELIMIT), "queue bound");
    }

    /* First handshake refused, then accepted after a backoff. */
    r.refuse = 1;
    xd_component_start(comp);
    run_until(r.base, &links_up, 1);
    CHECK(r.conns == 2 && links_up == 1 && xd_component_is_up(comp),
          "reconnects after not-authorized and comes up");
    unsigned char d[SHA_DIGEST_LENGTH];
    char hex[41];
    SHA1((const unsigned char *)"streamids3cret", 14, d);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK(strcmp(r.last_handshake, hex) == 0,
          "handshake is hex(SHA-1(id + secret))");
    run_until(r.base, &r.ngot, 3);
    CHECK(r.ngot == 3 && strcmp(got_text(&r, 0, "body"), "0") == 0 &&
              strcmp(got_text(&r, 2, "body"), "2") == 0 &&
              strcmp(xd_stanza_from(r.got[0]), "comp.example") == 0,
          "queued stanzas flushed in order, from the domain");

    /* An iq answered by its addressee; one answered by someone else. */
    struct waiter w1 = { 0 }, w2 = { 0 }, w3 = { 0 };
    xd_stanza *iq = xd_stanza_iq_new("get", "q1", "x.example", NULL);
    xd_elem_add_child(xd_stanza_root(iq), "ping", XD_NS_PING);
    xd_component_iq(comp, iq, 0, on_iq, &w1);
    run_until(r.base, &r.ngot, 4);
    router_send(&r, "<iq type='result' id='q1' from='evil.example' "
                    "to='comp.example'/>");
    run_for_ms(r.base, 30);
    CHECK(w1.calls == 0, "an answer from someone else is ignored");
    router_send(&r, "<iq type='result' id='q1' from='x.example' "
                    "to='comp.example'/>");
    run_until(r.base, &w1.calls, 1);
    CHECK(w1.calls == 1 && w1.got_reply && strcmp(w1.type, "result") == 0,
          "iq result reaches its callback");

    /* A time-out. */
    xd_component_iq(comp, xd_stanza_iq_new("get", "q2", "x.example", NULL), 0,
                    on_iq, &w2);
    run_until(r.base, &w2.calls, 1);
    CHECK(w2.calls == 1 && !w2.got_reply, "iq time-out calls back with NULL");

    /* Requests from the router. */
    int before = r.ngot;
    router_send(&r, "<iq type='get' id='d1' from='a@example.com/r' "
                    "to='comp.example'><query xmlns='http://jabber.org/"
                    "protocol/disco#info'/></iq>"
                    "<iq type='get' id='p1' from='a@example.com/r' "
                    "to='comp.example'><ping xmlns='urn:xmpp:ping'/></iq>"
                    "<iq type='set' id='u1' from='a@example.com/r' "
                    "to='bot@comp.example'><x xmlns='urn:unknown'/></iq>"
                    "<message from='a@example.com/r' to='bot@comp.example'>"
                    "<body>hi</body></message>");
    run_until(r.base, &r.ngot, before + 3);
    CHECK(r.ngot == before + 3, "three answers");
    if (r.ngot == before + 3) {
        char *info = xd_elem_to_string(xd_stanza_root(r.got[before]), NULL);
        CHECK(strstr(info, "type='result'") &&
                  strstr(info, "<identity category='component' "
                               "type='generic' name='Test'/>") &&
                  strstr(info, "var='urn:example:feature'") &&
                  strstr(info, "var='urn:xmpp:ping'"),
              "disco#info lists identity and features");
        free(info);
        CHECK(strcmp(xd_stanza_type(r.got[before + 1]), "result") == 0 &&
                  strcmp(xd_stanza_id(r.got[before + 1]), "p1") == 0,
              "ping answered");
        const char *cond = xd_stanza_error_condition(r.got[before + 2]);
        CHECK(cond != NULL && strcmp(cond, "service-unavailable") == 0,
              "unhandled iq set: service-unavailable");
    }
    CHECK(messages_seen == 1, "the message handler ran");

    /* The link drops with an iq pending: the callback hears of it, and
     * the component comes back by itself. */
    xd_component_iq(comp, xd_stanza_iq_new("get", "q3", "x.example", NULL),
                    5000, on_iq, &w3);
    run_for_ms(r.base, 20);
    r.hold = 1;
    xd_stream_error(r.s, "system-shutdown", NULL);
    run_until(r.base, &w3.calls, 1);
    CHECK(w3.calls == 1 && !w3.got_reply && links_down == 1,
          "link loss fails pending iqs and is reported");
    run_until(r.base, &r.conns, 3);
    CHECK(r.conns == 3 && !xd_component_is_up(comp),
          "reconnecting; down until the handshake is answered");
    xd_stanza *m = xd_stanza_new("message", XD_NS_CLIENT);
    xd_stanza_set_to(m, "user@example.com");
    xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, "after");
    xd_component_send(comp, m);
    before = r.ngot;
    answer_handshake(&r);
    run_until(r.base, &r.ngot, before + 1);
    CHECK(links_up == 2 && r.ngot == before + 1 &&
              strcmp(got_text(&r, before, "body"), "after") == 0,
          "up again, and what was sent meanwhile arrives");

    /* Stanzas over max_stanza_bytes would end the link at the router: they
     * are not sent; an iq answer becomes <resource-constraint/>. */
    xd_component_on(comp, XD_STANZA_IQ, "urn:example:big", answer_big, NULL);
    before = r.ngot;
    router_send(&r, "<iq type='get' id='big1' from='a@example.com/r' "
                    "to='comp.example'><q xmlns='urn:example:big'/></iq>");
    run_until(r.base, &r.ngot, before + 1);
    const char *cond =
        r.ngot > before ? xd_stanza_error_condition(r.got[before]) : NULL;
    CHECK(cond != NULL && strcmp(cond, "resource-constraint") == 0 &&
              strcmp(xd_stanza_id(r.got[before]), "big1") == 0 &&
              strcmp(xd_stanza_to(r.got[before]), "a@example.com/r") == 0,
          "an answer over max_stanza_bytes: resource-constraint to the asker");
    xd_component_send(comp, big_message());
    m = xd_stanza_new("message", XD_NS_CLIENT);
    xd_stanza_set_to(m, "user@example.com");
    xd_stanza_set_child_text(m, "body", XD_NS_CLIENT, "small");
    xd_component_send(comp, m);
    const char *big_to[] = { "u1@example.com", "u2@example.com" };
    xd_stanza *big = big_message();
    xd_stanza_set_to(big, NULL);
    xd_stanza_set_from(big, "room@comp.example");
    CHECK(xd_component_send_each(comp, big, big_to, 2) == XD_ELIMIT,
          "a broadcast over max_stanza_bytes: XD_ELIMIT");
    xd_stanza_unref(big);
    run_until(r.base, &r.ngot, before + 2);
    run_for_ms(r.base, 50);
    CHECK(r.ngot == before + 2 &&
              strcmp(got_text(&r, before + 1, "body"), "small") == 0 &&
              r.s != NULL && xd_component_is_up(comp),
          "the big message is dropped, the next one arrives, the link "
          "stays up");

    xd_component_free(comp);
    router_close(&r);
    xd_config_free(cfg);
    return check_report();
}
