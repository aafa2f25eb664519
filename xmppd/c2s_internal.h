/*
 * c2s_internal.h: a client session's state, shared by c2s.c and the
 * modules that work on a session from inside (sm.c).
 */
#ifndef XMPPD_C2S_INTERNAL_H
#define XMPPD_C2S_INTERNAL_H

#include "kdf_worker.h"
#include "router.h"

enum c2s_state {
    C2S_HEADER,    /* waiting for the first stream header */
    C2S_NEGOTIATE, /* features sent: STARTTLS and SASL */
    C2S_BIND,      /* authenticated: waiting for the bind iq */
    C2S_SESSION,   /* bound: stanzas flow */
};

struct c2s {
    struct router *r;
    const struct c2s_transport_ops *ops;
    void *t;
    enum c2s_state state;
    int authenticated;
    char *host;        /* the local host the client asked for */
    char *user;        /* authenticated localpart */
    xd_jid *jid;       /* bound full JID */
    struct sasl *sasl; /* exchange in progress */
    int sasl_failures;
    int available; /* sent available presence */
    int priority;
    int wants_roster;    /* asked for the roster: gets pushes */
    int offline_taken;   /* stored messages were delivered to this session */
    int carbons;         /* XEP-0280 enabled */
    int wants_blocklist; /* XEP-0191: gets block list pushes */
    xd_stanza *last_presence; /* last available presence broadcast */
    struct event *auth_timer;
    struct event *held_timer; /* a SASL failure answered late */
    struct event *idle_timer; /* XEP-0199: pings a silent client */
    int inactive;             /* XEP-0352: the client said it is idle */
    xd_map *held_presence;    /* while inactive: sender -> latest */
    xd_map *directed;         /* RFC 6121 4.6: JIDs sent directed presence */
    int ping_pending;
    xd_stanza *held;
    struct sm *sm;           /* XEP-0198 once enabled (sm.c) */
    int no_resume;           /* ended on purpose: not to be resumed */
    struct kdf_job *kdf_job; /* register.c: keys being derived, or NULL */
    time_t bound_at;
    time_t last_input;       /* a stanza from the client, or the binding */
    struct c2s *prev, *next; /* r->c2s_all */
    char stream_id[17];
};

/* c2s.c */
/* Sends a stanza or stream-level element to the client and, under stream
 * management, keeps stanzas until acknowledged (takes ownership). */
void c2s_send(struct c2s *c, xd_stanza *st);
/* A session that heard from its client: the idle ping waits again. */
void c2s_idle_rearm(struct c2s *c);
/* Frees a session that is not (or no longer) in the sessions table. */
void c2s_free(struct c2s *c);
/* Ends a bound session: unavailable presence, last activity, removal from
 * the sessions table, then the unacknowledged stanzas; frees it. */
void c2s_end(struct c2s *c);

/* register.c: a jabber:iq:register iq, before authentication or for the
 * account itself (takes ownership). */
void register_iq(struct c2s *c, xd_stanza *st);

/* sm.c: XEP-0198 stream management. */
/* An element in urn:xmpp:sm:3 from the client (takes ownership). */
void sm_handle(struct c2s *c, xd_stanza *st);
/* Counts a stanza the client sent, once stream management is on. */
void sm_received(struct c2s *c);
/* Keeps a stanza sent to the client until acknowledged (takes ownership;
 * elements that are not stanzas are dropped). */
void sm_sent(struct c2s *c, xd_stanza *st);
/* The connection was lost: 1 when the session now waits to be resumed
 * (its transport is released), 0 when it must end. */
int sm_hibernate(struct c2s *c);
/* After the session left the sessions table: what the client never
 * acknowledged is delivered elsewhere, stored offline or bounced. */
void sm_redeliver(struct c2s *c);
/* 1 while the session waits for its client to resume it. */
int sm_hibernating(const struct c2s *c);
void sm_free(struct c2s *c);

#endif
