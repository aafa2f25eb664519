/*
 * component_internal.h: what component.c, iq_tracker.c, disco.c and
 * command.c share.
 */
#ifndef XMPPD_COMPONENT_INTERNAL_H
#define XMPPD_COMPONENT_INTERNAL_H

#include <xmppd/component.h>
#include <xmppd/map.h>
#include <xmppd/stream.h>

/* iq_tracker.c: iqs we sent and whose answer we wait for. */
struct iq_tracker;
struct iq_tracker *iq_tracker_new(xd_component *c);
void iq_tracker_free(struct iq_tracker *t);
/* Remembers iq (id and to are read from it) until its answer or timeout. */
void iq_tracker_add(struct iq_tracker *t, const xd_stanza *iq,
                    unsigned timeout_ms, xd_iq_fn fn, void *arg);
/* Hands a result or error iq to its waiter: XD_HANDLED, or XD_PASS when it
 * answers nothing we asked. */
xd_verdict iq_tracker_answer(struct iq_tracker *t, const xd_stanza *reply);
/* Calls every waiter with NULL (the link went down). */
void iq_tracker_fail_all(struct iq_tracker *t);

/* disco.c: what the component answers about its domain by itself. */
struct disco;
/* `program` and `version` name the software (version answer, caps node). */
struct disco *disco_new(const char *program, const char *version);
void disco_free(struct disco *d);
void disco_add_identity(struct disco *d, const char *category, const char *type,
                        const char *name);
void disco_add_feature(struct disco *d, const char *var);
/* An iq handler for var came (ref) or went (unref): listed while any is
 * there. */
void disco_feature_ref(struct disco *d, const char *var);
void disco_feature_unref(struct disco *d, const char *var);
void disco_add_item(struct disco *d, const char *jid, const char *node,
                    const char *name);
void disco_set_version(struct disco *d, const char *name, const char *version);
/* 0, or XD_EEXIST when the node has a callback (or is the commands node). */
int disco_add_node(struct disco *d, const char *node, xd_disco_fn fn,
                   void *arg);
void disco_set_entities(struct disco *d, xd_disco_fn fn, void *arg);
/* The domain's caps (see xd_component_caps); `domain` for the log. */
int disco_caps(struct disco *d, const char *domain, const char **node,
               const char **ver);
/* Answers (sends) disco#info and disco#items of the domain, its nodes and
 * its entities, version and ping of the domain: XD_HANDLED, or XD_PASS
 * when `iq` is none of those it can answer. */
xd_verdict disco_answer(struct disco *d, xd_component *c, const xd_stanza *iq,
                        xd_iq_type type);

/* command.c: XEP-0050 commands offered on the component's domain. */
struct commands;
struct commands *commands_new(xd_component *c);
/* Ends the open sessions (their end functions see SHUTDOWN), then frees. NULL
 * is a no-op. Needs the component's event base still there. */
void commands_free(struct commands *cmds);
/* Session time-out for sessions touched from now on (10 minutes unless
 * changed; tests shorten it). */
void commands_set_timeout_ms(struct commands *cmds, unsigned ms);
/* component.c: the commands of c, for xd_component_add_command. */
struct commands *component_commands(xd_component *c);

/* presence.c: the subscription helper, once xd_presence_enable made it. */
struct xd_presence;
/* Subscription stanzas and probes no handler took. */
void presence_dispatch(struct xd_presence *p, const xd_stanza *in);
/* The link is up: the current presence to every subscriber. */
void presence_link_up(struct xd_presence *p);
/* The component stops: unavailable to the subscribers of what is available. */
void presence_stopping(struct xd_presence *p);
void presence_free(struct xd_presence *p); /* NULL is a no-op */
/* component.c: c's helper (NULL: none yet), and setting it (c frees it). */
struct xd_presence *component_presence(const xd_component *c);
void component_set_presence(xd_component *c, struct xd_presence *p);
/* component.c: the presence_max_subscriptions key. */
unsigned long long component_max_subscriptions(const xd_component *c);

#endif
