/*
 * router.h: the router's one struct of runtime state and the interfaces
 * between its files.
 *
 *   main.c            start-up, signals, shutdown
 *   listener.c        TCP listeners (c2s, direct TLS, components)
 *   c2s.c             client sessions: stream negotiation, features, bind
 *   c2s_socket.c      the socket transport of a client session
 *   sasl.c            SASL mechanisms (SCRAM-SHA-256, SCRAM-SHA-1, PLAIN)
 *   auth_limits.c     failed logins per client address
 *   conn_limits.c     client connections per address and in all
 *   sessions.c        the table of bound client sessions
 *   route.c           the routing decision and bounces
 *   local.c           delivery to accounts of local hosts
 *   server.c          iqs addressed to a host itself
 *   roster.c          roster get/set/push (roster_store.c keeps them)
 *   offline.c         offline messages
 *   presence.c        subscriptions and presence broadcast
 *   carbons.c         message carbons
 *   blocking.c        block lists
 *   mam.c             message archives
 *   account_data.c    private XML storage and vCards
 *   component_link.c  the XEP-0114 accept side
 *   kdf_worker.c      SCRAM key derivation on a thread of its own
 *   admin_commands.c  XEP-0133 service administration (ad-hoc commands)
 *   shutdown.c        stopping on SIGTERM or an admin's command
 *   s2s_out.c         outgoing server-to-server streams (federation)
 *   s2s_in.c          incoming server-to-server streams
 *   dialback.c        Server Dialback keys (XEP-0220, XEP-0185)
 *   dns.c             where a remote domain is reached
 */
#ifndef XMPPD_ROUTER_H
#define XMPPD_ROUTER_H

#include <xmppd/buf.h>
#include <xmppd/config.h>
#include <xmppd/db.h>
#include <xmppd/jid.h>
#include <xmppd/map.h>
#include <xmppd/stanza.h>
#include <xmppd/stream.h>
#include <xmppd/xml_parser.h>

#include <time.h>

#include "router_conf.h"

struct event_base;
struct evconnlistener;
struct ssl_ctx_st;
struct c2s;
struct comp_link;

/* A component the configuration allows: [component DOMAIN]. */
struct comp_conf {
    char *domain;
    char *secret;
    char **extra_domains;   /* NULL-terminated; more domains it may own */
    struct comp_link *link; /* connected link, or NULL */
};

struct router_stats {
    unsigned long long stanzas_routed;
    unsigned long long stanzas_bounced;
    /* route.c: stanzas routed by xd_stanza_kind (other, message, presence,
     * iq), and the errors bounced by the kind of what they answer. */
    unsigned long long routed_kind[4];
    unsigned long long bounced_kind[4];
    unsigned long long c2s_accepted;
    unsigned long long auth_ok;
    unsigned long long auth_failed;
};

/* conn_limits.c: the kinds of connections counted apart. */
enum conn_kind { CONN_C2S, CONN_S2S_IN, CONN_KINDS };

struct router {
    struct event_base *base;
    const xd_config *cfg;
    struct xmppd_conf conf;
    xd_db *db;
    struct ssl_ctx_st *tls; /* NULL when no certificate is configured */
    xd_xml_limits limits;
    xd_map *hosts;         /* virtual host -> (void *)1 */
    xd_map *comp_confs;    /* configured component domain -> struct comp_conf */
    xd_map *comp_links;    /* every domain of a connected component -> link */
    xd_map *sessions;      /* full JID -> struct c2s (bound sessions) */
    xd_map *users;         /* bare JID -> struct user_sessions */
    xd_map *auth_failures; /* client address -> failed logins */
    xd_map *archive_modes; /* mam.c: bare JID -> chosen default mode */
    xd_map *registrations; /* XEP-0077: address -> time of the last */
    xd_map *sm_resumable;  /* XEP-0198 resumption id -> struct c2s */
    unsigned long long sm_queued_bytes; /* sm.c: held for all sessions */
    xd_map *password_changes;     /* register.c: bare JID -> time of the last */
    struct kdf_worker *kdf;       /* kdf_worker.c: key derivation thread */
    xd_map *admin_commands;       /* admin_commands.c: host -> xd_commands */
    struct event *admin_shutdown; /* admin_commands.c: a delayed shutdown */
    struct router_listener {
        struct router *r;
        int kind; /* listener.c's enum listener_kind */
        struct evconnlistener *l;
        struct event *resume;  /* re-enables l after running out of fds */
        time_t refused_logged; /* when the last such refusal was logged */
        unsigned long refused; /* connections shed since then */
    } * *listeners;            /* listener.c: one per address and port */
    size_t n_listeners;
    int spare_fd; /* listener.c: kept to shed a connection at EMFILE */
    int spare_open;
    struct conn_table {
        xd_map *addrs;           /* address -> connections open and recent */
        unsigned long long live; /* connections open, from all addresses */
        time_t pruned;           /* the last prune of addrs */
    } conns[CONN_KINDS];         /* conn_limits.c: one per enum conn_kind */
    time_t conn_refused_logged;  /* conn_limits.c: refusals logged */
    unsigned long conn_refused;  /* refused since then */
    struct c2s *c2s_all;         /* every client session, bound or not */
    struct comp_link *links_all; /* every component connection */
    struct event *sig_int, *sig_term, *sig_hup, *shutdown_timer;
    struct evconnlistener *control;    /* control.c */
    xd_map *control_requests;          /* control_command.c: iq id -> request */
    unsigned long long control_serial; /* control_command.c: iq ids */
    struct event *compact_timer;       /* c2s.c: quiet connections shrink */
    struct event *db_commit; /* db_batch.c: ends the turn's write batch */
    struct router_stats stats;
    struct xd_metrics *metrics;               /* router_metrics.c, or NULL */
    struct xd_metrics_histogram *db_commit_s; /* db_batch.c's commits */
    time_t started;
    char *caps_ver; /* XEP-0115 verification string of the hosts */
    int stopping;
    unsigned shutdown_polls; /* shutdown.c: checks since it began */
    /* Federation, when s2s_port is set. */
    xd_map *s2s_static;                /* dns.c: domain -> static address */
    struct s2s_resolver *s2s_resolver; /* dns.c: c-ares on the loop */
    xd_map *s2s_out;                   /* s2s_out.c: "local remote" -> stream */
    struct s2s_out *s2s_out_all;       /* s2s_out.c: every outgoing stream */
    xd_map *s2s_in_ids;                /* s2s_in.c: stream id -> stream */
    struct s2s_in *s2s_in_all;         /* s2s_in.c: every incoming stream */
    struct ssl_ctx_st *s2s_tls_client; /* s2s_out.c: STARTTLS to peers */
    struct ssl_ctx_st *s2s_tls_server; /* s2s_out.c: asks peers' certs */
    struct x509_store_st *s2s_ca;      /* cert_verify.c: trusted CAs */
    char s2s_db_key[65]; /* dialback.c: hex SHA-256 of the secret */
};

/* db_batch.c: group commit of the per-stanza writes. */
int db_batch_init(struct router *r);
/* Call before a write that may share the loop turn's transaction. */
void db_batch_write(struct router *r);
/* Commits the open batch now (shutdown, or before a read that must see it
 * from another connection). */
void db_batch_flush(struct router *r);
/* The before_write hook of the router's streams (arg: the router): the
 * batch is committed before the output of its turn reaches a socket. */
void db_batch_before_write(void *r);
void db_batch_free(struct router *r);

/* router_metrics.c: the OpenMetrics endpoint on metrics_address and
 * metrics_port (nothing when the port is 0). 0, or an error (logged). */
int router_metrics_start(struct router *r);
void router_metrics_stop(struct router *r);

/* control.c: xmppdctl's UNIX socket (sessions, kick, stats, reload). */
int control_start(struct router *r);
void control_stop(struct router *r);
/* Ends every session of `account` (a bare JID) whose credentials are gone,
 * bound or not, hibernating or not, with not-authorized and `text` (the
 * control socket's revoke, XEP-0133 delete-user and change-user-password).
 * Returns how many were ended. */
size_t control_revoke(struct router *r, const xd_jid *account,
                      const char *text);
/* control_command.c: "command AS DOMAIN NODE [VAR=VALUE...]" (args: what
 * follows "command "; changed in place). 0 when it took the connection
 * over (it answers later and frees it), else an error written to out. */
struct bufferevent;
int control_command_start(struct router *r, struct bufferevent *bev, char *args,
                          xd_buf *out);
/* 1 when st is the answer to such a command (consumed), else 0. */
int control_command_answer(struct router *r, xd_stanza *st);
/* Drops the commands still waiting and their connections. */
void control_command_stop(struct router *r);

/* shutdown.c: stops the router as SIGTERM does (listeners closed, every
 * stream ended with system-shutdown, the loop left once they flushed); a
 * second call leaves the loop at once. */
void router_shutdown(struct router *r, const char *why);

/* admin_commands.c: XEP-0133 service administration at each host, for the
 * accounts listed in `admins`. */
#define XD_NS_ADMIN "http://jabber.org/protocol/admin"
/* A registry of commands per host: 0, or an error (logged). */
int admin_commands_start(struct router *r);
/* Ends the open command sessions (before the key derivation worker
 * stops) and any pending shutdown. */
void admin_commands_stop(struct router *r);
/* XD_HANDLED when `st`, an iq to the host `host`, is a command request or
 * command discovery: answered (now or once its keys are derived). */
xd_verdict admin_commands_handle(struct router *r, const xd_jid *host,
                                 const xd_stanza *st);

/* reload.c: the TLS context for the configured certificates: tls_cert's
 * and tls_cert_dir's, chosen by SNI (NULL when there is none); 0 or an
 * error, logged. */
int router_load_tls(const struct xmppd_conf *c, struct ssl_ctx_st **out);
/* reload.c: reads the configuration file again and applies what can change
 * while running (certificate, limits, timers); what cannot (hosts,
 * addresses, ports, the database) is logged and waits for a restart.
 * 0, or an error (logged) with nothing changed. Also on SIGHUP. */
int router_reload(struct router *r);

/* listener.c */
int listeners_start(struct router *r);
void listeners_stop(struct router *r);

/* c2s.c: a client session over a transport (a socket today; the web
 * connection manager's multiplexed link later). */
struct c2s_transport_ops {
    /* Writes our stream header (to = peer's requested host). */
    void (*open)(void *t, const char *from, const char *id);
    int (*send)(void *t, const xd_elem *e);
    void (*error)(void *t, const char *condition, const char *text);
    void (*close)(void *t);
    /* Upgrades to TLS after <proceed/>; NULL if the transport can't. */
    int (*starttls)(void *t);
    void (*restart)(void *t);
    int (*is_secure)(void *t);
    const char *(*peer)(void *t);
    /* Releases the transport; the session is gone after this. */
    void (*free)(void *t);
    /* Frees working memory of a quiet connection: 1 if done. */
    int (*compact)(void *t);
    /* Hands the transport to another session (XEP-0198 resumption). */
    void (*attach)(void *t, struct c2s *c);
    /* Optional: the client has authenticated; the limits that hold before
     * authentication (c2s_preauth_max_stanza_bytes) are lifted. */
    void (*authenticated)(void *t);
};

struct c2s *c2s_new(struct router *r, const struct c2s_transport_ops *ops,
                    void *transport);
/* Transport events. */
void c2s_on_open(struct c2s *c, const xd_elem *header);
void c2s_on_stanza(struct c2s *c, xd_stanza *st); /* takes ownership */
/* The transport is gone (frees the session, unless stream management keeps
 * it for resumption: lost = the connection dropped, no stream error or
 * close was exchanged). */
void c2s_on_closed(struct c2s *c, int lost);
/* Delivers a stanza to the client (takes ownership). */
void c2s_deliver(struct c2s *c, xd_stanza *st);
/* Ends the session with a stream error (conflict, policy-violation...);
 * 0 when it was already being ended that way, else 1. */
int c2s_kick(struct c2s *c, const char *condition, const char *text);
/* Kicks every session with system-shutdown. */
void c2s_kick_all(struct router *r);
/* One line describing a bound session (JID, address, seconds bound,
 * flags), for xmppdctl sessions; appended to out. */
void c2s_describe(const struct c2s *c, time_t now, xd_buf *out);
/* Starts the sweep that shrinks connections quiet for a while (and gives
 * the memory back to the system). */
int c2s_compact_start(struct router *r);
/* The next session of r->c2s_all. */
struct c2s *c2s_next(const struct c2s *c);
/* Frees every session at once, without a word to the peers (after the
 * loop has stopped). */
void c2s_free_all(struct router *r);
const xd_jid *c2s_jid(const struct c2s *c);
/* Interested resources (RFC 6121 2.1.6): those that asked for the roster
 * get its pushes. */
void c2s_set_wants_roster(struct c2s *c);
int c2s_wants_roster(const struct c2s *c);
/* Asked for the block list: gets block/unblock pushes (XEP-0191). */
void c2s_set_wants_blocklist(struct c2s *c);
int c2s_wants_blocklist(const struct c2s *c);
/* Carbons (XEP-0280) enabled by the client. */
int c2s_wants_carbons(const struct c2s *c);
/* The last available presence the client broadcast, or NULL. */
const xd_stanza *c2s_last_presence(const struct c2s *c);
int c2s_is_available(const struct c2s *c);
int c2s_priority(const struct c2s *c);

/* c2s_socket.c: accepts a connected socket (direct_tls: TLS from the first
 * byte, XEP-0368) admitted by conn_limits_admit() for `addr`, which the
 * transport releases when it is freed (also when this fails). */
void c2s_socket_accept(struct router *r, int fd, int direct_tls,
                       const char *addr);

/* conn_limits.c: connections of one kind (enum conn_kind) per address
 * (auth_limits_address()) and in all. Admits one more connection from
 * addr (0), or refuses it (XD_ELIMIT, logged now and then) under the
 * kind's keys: c2s_max_connections, c2s_max_connections_per_address,
 * c2s_connects_per_address_per_min; s2s_max_connections,
 * s2s_max_connections_per_address. */
int conn_limits_admit(struct router *r, enum conn_kind kind, const char *addr);
/* An admitted connection of that kind has closed. */
void conn_limits_release(struct router *r, enum conn_kind kind,
                         const char *addr);
/* Frees the tables (connections released later release nothing). */
void conn_limits_free(struct router *r);

/* auth_limits.c: failed logins per client address ("ip:port" given). */
/* "1.2.3.4:5678" or "[::1]:5678" to the key of per-address limits: the
 * IPv4 address ("::ffff:1.2.3.4" too), or an IPv6 address's /64
 * ("2001:db8::/64"). */
void auth_limits_address(const char *peer, char *out, size_t size);
/* 1 when failures and exchanges under way reach sasl_ip_max_failures. */
int auth_limits_blocked(struct router *r, const char *peer);
/* An exchange begins (<auth/>): 0, or XD_ELIMIT when the address is
 * blocked. Each 0 is matched by one auth_limits_end(). */
int auth_limits_begin(struct router *r, const char *peer);
/* The exchange has its outcome, or was abandoned. */
void auth_limits_end(struct router *r, const char *peer);
/* Records a failure; returns how many ms to wait before answering it. */
unsigned auth_limits_failure(struct router *r, const char *peer);
void auth_limits_free(struct router *r);

/* sasl.c: one exchange per session. */
struct sasl;
struct sasl_result {
    xd_stanza *reply; /* <challenge/>, <success/> or <failure/> to send */
    int done;         /* 1: success, -1: failure, 0: continue */
    char user[128];   /* on failure: the localpart tried, or "?" (the
                       * caller logs it with the client's address) */
};
/* Mechanisms offered on a connection (secure: TLS is up). Adds
 * <mechanism/> children to `mechs`. */
void sasl_offer(struct router *r, int secure, xd_elem *mechs);
/* Handles <auth/>, <response/> or <abort/>; *state is created on auth and
 * freed at the end. user_out receives the authenticated localpart on success
 * (caller frees). */
void sasl_step(struct router *r, const char *host, int secure,
               struct sasl **state, const xd_elem *in, struct sasl_result *res,
               char **user_out);
void sasl_free(struct sasl *s);

/* sessions.c */
struct user_sessions {
    struct c2s **list;
    size_t n, cap;
    int blocked_known;       /* blocked_count is current */
    long long blocked_count; /* entries on the account's block list */
};
/* Adds a bound session; an existing session of the same full JID is
 * returned in *replaced (the caller kicks it). */
void sessions_add(struct router *r, struct c2s *c, struct c2s **replaced);
void sessions_remove(struct router *r, struct c2s *c);
struct c2s *sessions_get(struct router *r, const char *full_jid);
/* The sessions of a bare JID, or NULL when none. */
const struct user_sessions *sessions_of(struct router *r, const char *bare);

/* route.c: takes ownership of st; `from` must already be trustworthy (the
 * origin stamped or checked it). */
void router_route(struct router *r, xd_stanza *st);
/* Answers st with an error of `condition` back to its sender (nothing for
 * errors or, unless `presence_too`, for presence). Takes ownership. */
void router_bounce(struct router *r, xd_stanza *st, const char *condition);
int router_is_local_host(const struct router *r, const char *domain);

/* stored_xml.c: parses a stanza the router stored itself; 0 and *out
 * owned by the caller, or the error of xd_xml_parse_element. */
int stored_xml_parse(const struct router *r, const char *xml, xd_stanza **out);

/* local.c: st is addressed to an account on a local host. */
void local_deliver(struct router *r, const xd_jid *to, xd_stanza *st);
/* st was sent to the session `to` but never acknowledged and that session
 * has ended (XEP-0198): RFC 6121 8.5.3.2 as for a resource that is gone,
 * without archiving it again. Takes ownership. */
void local_redeliver(struct router *r, const xd_jid *to, xd_stanza *st);

/* last.c (XEP-0012): remembers when an account's last session ended. */
void last_seen_store(struct router *r, const xd_jid *account,
                     const char *status);
/* Fills a jabber:iq:last answer for the host (uptime) or an account; NULL
 * or a condition. */
const char *last_activity(struct router *r, const xd_jid *to,
                          const xd_stanza *in, xd_elem *out_root);

/* server.c: the host's XEP-0115 verification string, computed once. */
char *server_caps_ver(void);

/* server.c: st is addressed to a host itself (or, for iqs, to an account's
 * bare JID and handled on its behalf). */
void server_handle(struct router *r, const xd_jid *to, xd_stanza *st);

/* roster.c: a roster get or set from the account's own session (takes
 * ownership), and pushes of a changed item to interested resources. */
struct roster_item;
void roster_iq(struct router *r, struct c2s *c, xd_stanza *st);
void roster_push(struct router *r, const xd_jid *account,
                 const struct roster_item *it, int removed, long long version);

/* presence.c: subscriptions (RFC 6121 3) and broadcast (4). */
/* A subscription stanza from the user to a contact (takes ownership). */
void presence_outbound(struct router *r, struct c2s *c, xd_stanza *st);
/* A subscription stanza or probe for a local account (takes ownership). */
void presence_inbound(struct router *r, const xd_jid *to, xd_stanza *st);
/* The user's own presence (no 'to') to the contacts subscribed to it, and,
 * for initial presence, probes to the contacts it is subscribed to. */
void presence_broadcast(struct router *r, struct c2s *c, const xd_stanza *st,
                        int initial);
/* Unavailable presence from each available resource of the account to
 * `to` (a contact just blocked, unsubscribed...). */
void presence_unavailable_to(struct router *r, const xd_jid *account,
                             const char *to);
/* Subscription requests that waited for the account, to a session that
 * has just become available. */
void presence_redeliver_pending(struct router *r, struct c2s *c);

/* account_data.c: XEP-0049 private storage and XEP-0054 vCards of
 * `account`. Sets *handled when q is one of those; returns NULL and fills
 * out_root (the result iq's root), or an error condition. */
const char *account_data_iq(struct router *r, const xd_jid *account,
                            const xd_stanza *in, const xd_elem *q,
                            xd_elem *out_root, int *handled);

/* blocking.c (XEP-0191) */
#define XD_NS_BLOCKING "urn:xmpp:blocking"
/* 1 when the account's block list matches peer (a JID string). */
int blocking_blocks(struct router *r, const xd_jid *account, const char *peer);
/* The not-acceptable + <blocked/> answer to a stanza sent to a blocked
 * address (NULL for errors); the caller owns it. */
xd_stanza *blocking_refusal(const xd_stanza *st);
/* blocklist get, block and unblock from the account's session (takes
 * ownership). */
void blocking_iq(struct router *r, struct c2s *c, xd_stanza *st);

/* XEP-0352 client state indication (handled in c2s.c) */
#define XD_NS_CSI              "urn:xmpp:csi:0"
#define XD_NS_SM               "urn:xmpp:sm:3"
#define XD_NS_REGISTER         "jabber:iq:register"
#define XD_NS_REGISTER_FEATURE "http://jabber.org/features/iq-register"

/* carbons.c (XEP-0280) */
#define XD_NS_CARBONS "urn:xmpp:carbons:2"
/* True for the messages carbons copy (chat, not private or no-copy). */
int carbons_applies(const xd_stanza *st);
/* Wraps st in <direction/> (sent or received) and <forwarded/> for every
 * available, carbons-enabled resource of `bare` not in skip. */
void carbons_copy(struct router *r, const char *bare, const xd_stanza *st,
                  const char *direction, struct c2s *const *skip, size_t nskip);

/* mam.c (XEP-0313, XEP-0059, XEP-0359) */
#define XD_NS_MAM "urn:xmpp:mam:2"
/* Chat and normal messages with a body are archived. */
int mam_archivable(const xd_stanza *st);
/* Archives st for `account` (its local part and domain are used) with
 * `peer` as the other party, unless its preferences say no; inbound
 * messages get a <stanza-id/>. */
void mam_archive(struct router *r, const xd_jid *account, const char *peer,
                 xd_stanza *st, int inbound);
/* Removes from message st every XEP-0359 <stanza-id/> whose 'by' names
 * `account`, which only the router may stamp (called for every message
 * to an account, whatever its source, and every message an account's
 * client sends, before archiving, carbons and delivery). */
void mam_strip_forged_ids(xd_stanza *st, const xd_jid *account);
/* Archive queries and preferences from the account's session (takes
 * ownership). */
void mam_iq(struct router *r, struct c2s *c, xd_stanza *st);

/* offline.c (XEP-0160): stores a message for an account with no available
 * resource (0, XD_ELIMIT when its store is full, XD_EIO), and delivers what
 * was stored to a session that has become available. */
int offline_store(struct router *r, const xd_jid *to, const xd_stanza *st);
void offline_deliver(struct router *r, struct c2s *c);

/* component_link.c */
void comp_link_accept(struct router *r, int fd);
/* Sends st over the link (takes ownership). */
void comp_link_send(struct comp_link *l, xd_stanza *st);
void comp_links_close_all(struct router *r);
void comp_links_free_all(struct router *r);
/* The next link of r->links_all. */
struct comp_link *comp_link_next(const struct comp_link *l);
int router_load_components(struct router *r);
void router_free_components(struct router *r);

/* Federation: everything below does nothing unless s2s_port is set. */
#define XD_NS_DIALBACK      "jabber:server:dialback"
#define XD_NS_DIALBACK_FEAT "urn:xmpp:features:dialback"
#define XD_NS_TLS           "urn:ietf:params:xml:ns:xmpp-tls"

/* 1 when domain is a local host or a configured component's domain. */
int router_serves(const struct router *r, const char *domain);

/* dns.c: where to connect for a remote domain. cb gets 0 and the targets
 * to try in order (addr: an address literal or a host name, borrowed for
 * the call), or an error status (XD_ENOTFOUND: no such domain). */
struct s2s_target {
    const char *addr;
    unsigned port;
};
typedef void (*s2s_dns_cb)(void *arg, int status,
                           const struct s2s_target *targets, size_t n);
struct s2s_dns_query;
/* Reads s2s_static_hosts and sets up c-ares (unless s2s_static_only): 0,
 * or XD_EINVAL / XD_EIO (logged). */
int s2s_dns_init(struct router *r);
/* Answers at once (static map, s2s_static_only: returns NULL) or later
 * from the loop (returns the pending query, which s2s_dns_cancel drops;
 * it is freed by dns.c once cb has run). */
struct s2s_dns_query *s2s_dns_lookup(struct router *r, const char *domain,
                                     s2s_dns_cb cb, void *arg);
/* cb is not called for q after this; NULL is a no-op. */
void s2s_dns_cancel(struct s2s_dns_query *q);
/* One SRV record (RFC 2782). */
struct s2s_srv {
    char *target;
    unsigned priority, weight, port;
};
/* Orders recs for trying: priority ascending, then within a priority a
 * weighted random order; rnd(arg) gives a uniform random unsigned. */
void s2s_srv_order(struct s2s_srv *recs, size_t n, unsigned (*rnd)(void *),
                   void *arg);
void s2s_dns_free(struct router *r);

/* dialback.c */
#define DIALBACK_KEY_LEN 64
/* Derives the key secret from s2s_dialback_secret (or a random one): 0 or
 * XD_EIO (logged). */
int dialback_init(struct router *r);
/* The key the originating server gives for a stream `id` from the
 * receiving server. */
void dialback_key(const struct router *r, const char *receiving,
                  const char *originating, const char *id,
                  char out[DIALBACK_KEY_LEN + 1]);
/* 1 when key is the one dialback_key() makes (constant time). */
int dialback_key_ok(const struct router *r, const char *receiving,
                    const char *originating, const char *id, const char *key);
/* <db:NAME from to [id] [type]>[key]</db:NAME>; the caller owns it. */
xd_stanza *dialback_elem(const char *name, const char *from, const char *to,
                         const char *id, const char *type, const char *key);

/* s2s_out.c */
struct s2s_out;
/* The client TLS context, dialback secret and static map: 0 or an error
 * (logged). Nothing when s2s_port is 0. */
int s2s_start(struct router *r);
/* st (from the local or component domain `local`) goes to the remote
 * domain `remote`: sent, queued while the stream is set up, or bounced.
 * Takes ownership. */
void s2s_out_send(struct router *r, const char *local, const char *remote,
                  xd_stanza *st);
/* Receiving role: asks the authoritative server of `remote` whether `key`
 * is its key for our incoming stream `id` from it to `local`. The answer
 * comes back through s2s_in_verified(). */
void s2s_out_verify(struct router *r, const char *local, const char *remote,
                    const char *id, const char *key);
/* Ends every outgoing stream with system-shutdown (what waits is bounced). */
void s2s_out_close_all(struct router *r);
/* Frees everything of s2s (after the loop has stopped). */
void s2s_free_all(struct router *r);

/* cert_verify.c */
struct ssl_st;
/* Loads s2s_ca_file, or the system's store, into r->s2s_ca: 0 or an error
 * (logged). */
int s2s_cert_init(struct router *r);
void s2s_cert_free(struct router *r);
/* 1 when the peer's certificate on ssl chains to a trusted CA and names
 * domain (RFC 6125 DNS-ID); else 0 and *why (static) says why. */
int s2s_cert_valid(struct router *r, struct ssl_st *ssl, const char *domain,
                   const char **why);
/* The same for a certificate leaf, with the untrusted chain (may be
 * NULL) that came with it, against the CAs of store. */
struct x509_st;
struct stack_st_X509;
int s2s_cert_check(struct x509_store_st *store, struct x509_st *leaf,
                   struct stack_st_X509 *chain, const char *domain,
                   const char **why);
/* 1 when s2s_secure_auth requires a valid certificate of domain. */
int s2s_secure_for(const struct router *r, const char *domain);

/* s2s_in.c */
struct s2s_in;
/* A connection to the s2s port (takes ownership of fd) admitted by
 * conn_limits_admit(CONN_S2S_IN) for `addr`, released when it is freed. */
void s2s_in_accept(struct router *r, int fd, const char *addr);
/* The authoritative server's answer for our incoming stream `id`: on
 * valid, `remote` may send stanzas on it for `local`. */
void s2s_in_verified(struct router *r, const char *id, const char *local,
                     const char *remote, int valid);
void s2s_in_close_all(struct router *r);
void s2s_in_free_all(struct router *r);

#endif
