/*
 * component.h: the XEP-0114 component client every xmppd component and
 * gateway is written against.
 *
 * A component connects to a router (xmppd, Prosody, ejabberd, ...), performs
 * the handshake, and dispatches incoming stanzas to handlers registered by
 * stanza kind and, for iqs, by the namespace of the payload. Built in, for
 * what no handler took: XEP-0030 disco#info and disco#items for its domain
 * from what was registered (and, by callback, for nodes and for entity
 * JIDs user@domain), its XEP-0115 caps, XEP-0092 software version,
 * XEP-0199 ping, and service-unavailable to any other iq get or set. It
 * reconnects with exponential backoff and jitter; stanzas sent while the link
 * is down are queued (bounded) and flushed once it is back. When the router
 * reads slower than the component writes (past the stream's high-water mark),
 * the component stops reading from the router and holds further output (in
 * order, up to out_queue_max_bytes) until the link's output has drained: a
 * burst that one stanza causes (a room's broadcast) slows the senders instead
 * of passing the stream's 4x limit, which would close the link.
 *
 * Section keys (xd_component_new reads them from its config section):
 *   domain              the component's JID domain (required)
 *   secret              the shared secret (required)
 *   router_host         127.0.0.1
 *   router_port         5347
 *   reconnect_min_ms    500      first retry delay, doubled per failure
 *   reconnect_max_ms    30000    retry delay cap
 *   queue_max           10000    stanzas held while the link is down
 *   iq_timeout_ms       30000    default xd_component_iq time-out
 *   max_stanza_bytes    262144   stanza limit both ways (the router's)
 *   out_queue_max_bytes 67108864 output held while the router reads slowly
 *   presence_max_subscriptions 100000 pairs the presence helper keeps
 *                       (presence.h)
 *   metrics_address     127.0.0.1 the OpenMetrics endpoint's address
 *   metrics_port        0        its port (GET /metrics); 0: none
 */
#ifndef XMPPD_COMPONENT_H
#define XMPPD_COMPONENT_H

#include <xmppd/common.h>
#include <xmppd/config.h>
#include <xmppd/stanza.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct xd_component xd_component;
typedef struct xd_handler xd_handler;

/* A stanza handler. `in` is borrowed for the call (take a reference with
 * xd_stanza_ref to keep it). Return XD_HANDLED to stop dispatch. */
typedef xd_verdict (*xd_stanza_fn)(xd_component *c, const xd_stanza *in,
                                   void *arg);
/* An iq result callback: `reply` is the result or error iq, or NULL on
 * time-out or when the link went down first; borrowed for the call. */
typedef void (*xd_iq_fn)(xd_component *c, const xd_stanza *reply, void *arg);
/* Link state changes: up 1 after each successful handshake, 0 when lost. */
typedef void (*xd_link_fn)(xd_component *c, int up, void *arg);

/* The two iq types a request handler sees. */
typedef enum xd_iq_type { XD_IQ_GET, XD_IQ_SET } xd_iq_type;
/* An iq request handler: `in` is an iq get or set (`type` says which),
 * borrowed for the call. Return XD_HANDLED once it is answered (or will
 * be: every request must get a result or an error), XD_PASS to let the
 * next handler or the built-ins have it. */
typedef xd_verdict (*xd_iq_request_fn)(xd_component *c, const xd_stanza *in,
                                       xd_iq_type type, void *arg);

/*
 * Reads the keys above from `section` of cfg and prepares a component on
 * `base` (NULL: the component makes and owns its own). Does not connect yet.
 * 0 and *out owned by the caller, XD_EINVAL (logged), or XD_EIO when
 * metrics_port is set and cannot be listened on (logged).
 */
int xd_component_new(const xd_config *cfg, const char *section,
                     struct event_base *base, xd_component **out);
/*
 * The same, for a component with settings of its own in its section: also
 * binds `own_keys` from `section` into `own` (see xd_config_bind; free them
 * with xd_config_unbind). Either table's keys are known to the other.
 */
int xd_component_new_with(const xd_config *cfg, const char *section,
                          struct event_base *base,
                          const xd_config_key *own_keys, void *own,
                          xd_component **out);
/*
 * The start of a component's main() in one call: xd_config_main(argc, argv,
 * prog) (options, --help, --version, the file), xd_log_init(prog->name),
 * and xd_component_new_with on `section` (own_keys NULL: xd_component_new)
 * with a loop of its own. When prog->sections is NULL, --help describes
 * `section` with the library's keys and own_keys. Exits as xd_config_main
 * does, and with status 1 (logged) when the section is incomplete or
 * wrong. Returns the configuration (the caller frees it after
 * xd_component_free, and unbinds `own`) and the component in *out.
 */
xd_config *xd_component_main(int argc, char *argv[], const xd_program *prog,
                             const char *section, const xd_config_key *own_keys,
                             void *own, xd_component **out);
void xd_component_free(xd_component *c); /* NULL is a no-op */
/*
 * The end of the main() that xd_component_main began: xd_component_run(c)
 * until SIGTERM or SIGINT, then xd_component_free(c),
 * xd_config_unbind(own_keys, own) (own_keys NULL: none) and
 * xd_config_free(cfg). Returns main's exit status: 0 after a stop, 1 when
 * the loop failed. What `own` holds besides its keys (a database the
 * component borrowed) the caller frees after.
 */
int xd_component_run_main(xd_component *c, xd_config *cfg,
                          const xd_config_key *own_keys, void *own);
/* The library's keys of a component section (the table above), for a
 * program's --help (xd_config_section) and its docs. */
extern const xd_config_key xd_component_keys[];

/* The event loop the component runs on (borrowed). */
struct event_base *xd_component_base(xd_component *c);
/* The component's domain (borrowed). */
const char *xd_component_domain(const xd_component *c);
/* 1 while the link is up (handshake done). */
int xd_component_is_up(const xd_component *c);
/* The component's metrics registry (borrowed; lives with c): the link's
 * counters are in it, a component adds its own (metrics.h); served on
 * metrics_port when that is set. */
struct xd_metrics *xd_component_metrics(xd_component *c);

/*
 * Registers a handler for messages or presences (`kind` XD_STANZA_MESSAGE
 * or XD_STANZA_PRESENCE; `ns` must be NULL). Iqs have xd_component_on_iq:
 * passing XD_STANZA_IQ here is a programming error (fatal). Handlers run
 * in registration order until one returns XD_HANDLED. Returns a handle for
 * xd_handler_remove (owned by the component).
 */
xd_handler *xd_component_on(xd_component *c, xd_stanza_kind kind,
                            const char *ns, xd_stanza_fn fn, void *arg);

/* Flags of xd_component_on_iq. */
#define XD_IQ_NO_FEATURE                                                       \
    0x1u /* do not list `ns` in the domain's disco#info                        \
          */
/*
 * Registers a handler for iq requests whose payload element (the iq's
 * first child) is in namespace `ns` (NULL: every request). Only types get
 * and set reach it; results and errors go to the xd_component_iq waiter
 * they answer (or are dropped), never to handlers. The handler sees
 * requests to the domain and to any JID at it (user@domain/resource).
 * Unless `flags` has XD_IQ_NO_FEATURE, `ns` is listed as a feature in the
 * domain's disco#info for as long as the handler is registered. Iq
 * handlers and message/presence handlers run in registration order
 * together; the built-ins answer what they all pass. Returns a handle for
 * xd_handler_remove (owned by the component).
 */
xd_handler *xd_component_on_iq(xd_component *c, const char *ns, unsigned flags,
                               xd_iq_request_fn fn, void *arg);
/* Unregisters; safe inside any callback, including the handler itself. */
void xd_handler_remove(xd_handler *h);
/* Calls fn(c, up, arg) each time the link comes up or goes down (see
 * xd_link_fn); one function per component, a later call replaces it. */
void xd_component_on_link(xd_component *c, xd_link_fn fn, void *arg);

/*
 * Sends a stanza (takes ownership of st in every case). `from` is set to the
 * component's domain when absent. While the link is down it is queued; when
 * the queue is full it returns XD_ELIMIT and drops the stanza: whether to
 * bounce an error to its sender is the caller's decision; likewise when the
 * output held for a slow router is at out_queue_max_bytes. 0 otherwise. A
 * stanza over max_stanza_bytes is never sent (the router would close the
 * link): it is logged and, if it is an iq result, its asker gets
 * <resource-constraint/> instead.
 */
int xd_component_send(xd_component *c, xd_stanza *st);
/*
 * Sends one copy of st (borrowed, with a from and without a to) to each of
 * the n JIDs in `to`: serialised once and written n times, for broadcasts
 * such as a room's. 0, or XD_ELIMIT when some copies were dropped because
 * the queue was full or they are over max_stanza_bytes (see
 * xd_component_send).
 */
int xd_component_send_each(xd_component *c, const xd_stanza *st,
                           const char *const *to, size_t n);
/*
 * Sends an iq get/set (takes ownership) and calls fn with the reply, or with
 * NULL after timeout_ms (0: the configured default). Gives the iq an id when
 * it has none. 0, or XD_ELIMIT as for xd_component_send (fn not called).
 */
int xd_component_iq(xd_component *c, xd_stanza *iq, unsigned timeout_ms,
                    xd_iq_fn fn, void *arg);

/* XEP-0030 for the component's domain: disco#info identities and features
 * (disco#info, disco#items and ping are always there, jabber:iq:version
 * while the version is answered, and the namespaces of iq handlers) and
 * disco#items. Strings are copied. */
void xd_component_add_identity(xd_component *c, const char *category,
                               const char *type, const char *name);
void xd_component_add_feature(xd_component *c, const char *var);
void xd_component_add_item(xd_component *c, const char *jid, const char *node,
                           const char *name);

/* Which query a disco callback answers. */
typedef enum xd_disco_kind { XD_DISCO_INFO, XD_DISCO_ITEMS } xd_disco_kind;
/* A disco callback's "I have sent the answer myself" (see xd_disco_fn). */
#define XD_DISCO_ANSWERED 1
/*
 * Answers a disco#info or disco#items get (`in`, borrowed) about `node`
 * (NULL: none) of the JID it is addressed to (xd_stanza_to(in)): fills
 * `query`, the result's <query/> (its node attribute already set), with
 * xd_disco_add_identity/_feature/_item or any children. Returns 0 (the
 * result is sent), XD_ENOTFOUND (<item-not-found/> is sent instead), or
 * XD_DISCO_ANSWERED when it sent an answer of its own (an error, or a
 * result later on); `query` is then discarded.
 */
typedef int (*xd_disco_fn)(xd_component *c, const xd_stanza *in,
                           xd_disco_kind kind, const char *node, xd_elem *query,
                           void *arg);
/* Children of a disco answer, for callbacks; in query's arena. name or
 * node may be NULL. */
void xd_disco_add_identity(xd_elem *query, const char *category,
                           const char *type, const char *name);
void xd_disco_add_feature(xd_elem *query, const char *var);
void xd_disco_add_item(xd_elem *query, const char *jid, const char *node,
                       const char *name);
/*
 * fn answers disco#info and disco#items for `node` of the domain itself
 * (e.g. a node listed in the domain's items). 0, or XD_EEXIST when the node
 * has a callback already (or is the commands node, which the framework
 * answers). The node is copied.
 */
int xd_component_disco_node(xd_component *c, const char *node, xd_disco_fn fn,
                            void *arg);
/*
 * fn answers disco#info and disco#items for every entity JID of the
 * domain: a bare user@domain (a room, a gateway's remote contact), with or
 * without a node. Replaces an earlier callback; fn NULL removes it. Without
 * one, such queries get service-unavailable (unless an iq handler took
 * them). Full JIDs (user@domain/resource) are left to iq handlers.
 */
void xd_component_disco_entities(xd_component *c, xd_disco_fn fn, void *arg);

/*
 * XEP-0092: the domain answers jabber:iq:version gets with `name` and
 * `version` (copied), and lists the feature. By default they are the
 * program's, as main gave them to xd_config_main (see xd_config_program):
 * name, and version or else libxmppd's; without that, argv[0]'s base name
 * and libxmppd's version.
 * name NULL stops answering and listing it. No <os/> is ever sent.
 */
void xd_component_set_version(xd_component *c, const char *name,
                              const char *version);

/*
 * XEP-0115 caps of the domain's own disco#info: *node (the software's
 * URI, "urn:xmppd:" and the program's name) and *ver (SHA-1), both
 * borrowed and valid until the domain's disco changes (an identity, a
 * feature, an iq handler, the version). Disco#info queries for node#ver
 * are answered. 0, or XD_EINVAL when the registered identities or features
 * are ill-formed for caps (the same identity twice; logged).
 */
int xd_component_caps(xd_component *c, const char **node, const char **ver);
/* Appends the domain's <c/> to presence (see xd_component_caps and
 * xd_caps_add): for every available presence the domain sends. 0 or
 * XD_EINVAL (nothing added). */
int xd_component_add_caps(xd_component *c, xd_stanza *presence);

/* Connects and runs the event loop until xd_component_stop or SIGTERM /
 * SIGINT. 0 after a stop, XD_EIO if the loop failed. */
int xd_component_run(xd_component *c);
/* Makes xd_component_run return after the current callback; closes the link
 * cleanly. Safe inside callbacks. */
void xd_component_stop(xd_component *c);
/* Connects without running the loop (for programs with a loop of their own). */
int xd_component_start(xd_component *c);

#ifdef __cplusplus
}
#endif
#endif
