/*
 * testing.h: a fake router for the unit tests of components
 * (libxmppd-testing: pkg-config libxmppd-testing, or xmppd::testing).
 *
 * The fake router is the router's end of an XEP-0114 link, in the test's
 * own process and event loop: it listens on a free loopback port, answers
 * the component's stream header (stream id XD_FAKE_ROUTER_STREAM_ID) and its
 * handshake, then keeps every stanza the component sends, in order, for the
 * test to look at. The test injects stanzas as raw XML, as a router would
 * deliver them. No xmppd, no other process, no network beyond loopback.
 *
 *     xd_fake_router *r;
 *     xd_config *cfg;
 *     xd_component *c;
 *     xd_fake_router_new(&r);
 *     xd_fake_router_config(r, "bot", "bot.example", NULL, &cfg);
 *     xd_component_new(cfg, "bot", xd_fake_router_base(r), &c);
 *     ...register the component's handlers...
 *     xd_fake_router_start(r, c);          (connects; waits for the link)
 *     const xd_stanza *answer = xd_fake_router_ask(r,
 *         "<message from='u@example.org/a' to='bot.example'>"
 *         "<body>hi</body></message>");
 *     ...check answer...
 *     xd_component_free(c);
 *     xd_fake_router_free(r);
 *     xd_config_free(cfg);
 *
 * Nothing here is meant for production; every wait is bounded (at most
 * XD_FAKE_ROUTER_WAIT_MS) so that a failing test fails instead of hanging.
 */
#ifndef XMPPD_TESTING_H
#define XMPPD_TESTING_H

#include <xmppd/common.h>
#include <xmppd/component.h>
#include <xmppd/config.h>
#include <xmppd/stanza.h>
#include <xmppd/stream.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct xd_fake_router xd_fake_router;

#define XD_FAKE_ROUTER_STREAM_ID "streamid" /* the handshake's stream id */
#define XD_FAKE_ROUTER_WAIT_MS   3000       /* what the waits below wait */

/* Makes a router listening on a free loopback port, on an event loop of its
 * own (xd_fake_router_base). 0 and *out owned by the caller, or XD_EIO
 * (logged) when it cannot listen. */
int xd_fake_router_new(xd_fake_router **out);
/* Frees the stanzas it got, its link, its listener and its event loop:
 * free the components that use the loop first. NULL is a no-op. */
void xd_fake_router_free(xd_fake_router *r);

/* The event loop the router runs on: give it to xd_component_new (borrowed,
 * lives with r). */
struct event_base *xd_fake_router_base(xd_fake_router *r);
/* The loopback port it listens on. */
unsigned xd_fake_router_port(const xd_fake_router *r);
/*
 * Makes a configuration with `[section]` pointing a component at the router:
 * domain, secret "secret", router_host and router_port, then `extra` (more
 * "key = value" lines, or NULL). 0 and *out owned by the caller, or
 * XD_EINVAL (logged) when `extra` does not parse.
 */
int xd_fake_router_config(const xd_fake_router *r, const char *section,
                          const char *domain, const char *extra,
                          xd_config **out);

/* Starts c (xd_component_start) and runs the loop until its link is up.
 * 0, or XD_EAGAIN when it did not come up in time. */
int xd_fake_router_start(xd_fake_router *r, xd_component *c);

/* Refuses the next n handshakes with <not-authorized/>. */
void xd_fake_router_refuse(xd_fake_router *r, int n);
/* hold 1: handshakes are not answered until xd_fake_router_answer; 0 (the
 * default) answers them at once. */
void xd_fake_router_hold(xd_fake_router *r, int hold);
/* Answers a handshake that was held. XD_ESTATE when there is no link. */
int xd_fake_router_answer(xd_fake_router *r);
/* Connections accepted so far, handshakes answered so far. */
int xd_fake_router_connections(const xd_fake_router *r);
int xd_fake_router_handshakes(const xd_fake_router *r);
/* Runs the loop until n connections in all were accepted. 0, or XD_EAGAIN
 * after XD_FAKE_ROUTER_WAIT_MS. */
int xd_fake_router_wait_connections(xd_fake_router *r, int n);
/* The last handshake's digest (hex), "" before any; borrowed. */
const char *xd_fake_router_last_handshake(const xd_fake_router *r);
/* The link's stream (to pause, resume or end it with xd_stream_*), or NULL
 * when no component is connected; borrowed. */
xd_stream *xd_fake_router_stream(xd_fake_router *r);

/* Sends raw XML (one or more stanzas) to the component. 0, or XD_ESTATE
 * when no component is connected. */
int xd_fake_router_send(xd_fake_router *r, const char *xml);
/* How many stanzas the component has sent (the handshake excluded). */
int xd_fake_router_count(const xd_fake_router *r);
/* The i-th of them (0 first), or NULL past the end; borrowed, lives until
 * xd_fake_router_clear or xd_fake_router_free. */
const xd_stanza *xd_fake_router_got(const xd_fake_router *r, int i);
/* Forgets the stanzas got so far; the count starts again from 0. */
void xd_fake_router_clear(xd_fake_router *r);
/* Runs the loop until the component has sent n stanzas in all. 0, or
 * XD_EAGAIN after XD_FAKE_ROUTER_WAIT_MS. */
int xd_fake_router_wait(xd_fake_router *r, int n);
/* Sends xml and waits for one more stanza from the component: returns it
 * (borrowed, as xd_fake_router_got), or NULL when none came in time. */
const xd_stanza *xd_fake_router_ask(xd_fake_router *r, const char *xml);

/* Runs an event loop for ms milliseconds. */
void xd_test_run_for_ms(struct event_base *base, int ms);
/* Runs it until *flag >= want (set by the test's own callbacks), at most
 * XD_FAKE_ROUTER_WAIT_MS. 0, or XD_EAGAIN on time-out. */
int xd_test_run_until(struct event_base *base, const int *flag, int want);

#ifdef __cplusplus
}
#endif
#endif
