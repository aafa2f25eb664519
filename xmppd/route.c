/*
 * route.c: the routing decision (DESIGN.md "Routing"): local hosts go to the
 * session manager, component domains to their link, everything else to
 * s2s (s2s_out.c) when federation is on (s2s_port), else remote domains
 * are answered with remote-server-not-found.
 */
#define XD_LOG_AREA "route"
#include <string.h>

#include <xmppd/log.h>

#include "router.h"

int
router_is_local_host(const struct router *r, const char *domain)
{
    return xd_map_get(r->hosts, domain) != NULL;
}

void
router_bounce(struct router *r, xd_stanza *st, const char *condition)
{
    xd_stanza *err = NULL;
    xd_stanza_kind kind = xd_stanza_kind_of(st);

    /* Errors are never answered (no loops); presence is not bounced
     * (RFC 6121 8.5: the server silently ignores it). */
    if (kind != XD_STANZA_PRESENCE && xd_stanza_from(st) != NULL)
        err = xd_stanza_error_reply(st, xd_stanza_error_default_type(condition),
                                    condition, NULL);
    xd_stanza_unref(st);
    if (err == NULL)
        return;
    r->stats.stanzas_bounced++;
    r->stats.bounced_kind[kind & 3]++;
    router_route(r, err);
}

/* To a remote domain over s2s, from the domain of its sender, which must
 * be one we serve: anything else (a remote sender's stanza to another
 * remote domain) is not relayed. */
static void
route_remote(struct router *r, const char *domain, xd_stanza *st)
{
    const char *from = xd_stanza_from(st);
    xd_jid *fj = NULL;

    if (from == NULL || xd_jid_parse(from, &fj) != 0 ||
        !router_serves(r, xd_jid_domain(fj)))
        router_bounce(r, st, "remote-server-not-found");
    else
        s2s_out_send(r, xd_jid_domain(fj), domain, st);
    xd_jid_free(fj);
}

void
router_route(struct router *r, xd_stanza *st)
{
    const char *to = xd_stanza_to(st);
    xd_jid *jid = NULL;

    if (control_command_answer(r, st))
        return; /* xmppdctl's ad-hoc command: answered to the socket */
    if (to == NULL || xd_jid_parse(to, &jid) != 0) {
        router_bounce(r, st, "jid-malformed");
        return;
    }
    r->stats.stanzas_routed++;
    r->stats.routed_kind[xd_stanza_kind_of(st) & 3]++;
    const char *domain = xd_jid_domain(jid);
    if (router_is_local_host(r, domain)) {
        if (xd_jid_local(jid) == NULL && xd_jid_resource(jid) == NULL)
            server_handle(r, jid, st);
        else if (xd_jid_local(jid) == NULL)
            router_bounce(r, st, "service-unavailable");
        else
            local_deliver(r, jid, st);
    } else {
        struct comp_link *link = xd_map_get(r->comp_links, domain);
        if (link != NULL)
            comp_link_send(link, st);
        else if (xd_map_get(r->comp_confs, domain) != NULL)
            router_bounce(r, st, "service-unavailable");
        else if (r->conf.s2s_port != 0)
            route_remote(r, domain, st);
        else
            router_bounce(r, st, "remote-server-not-found");
    }
    xd_jid_free(jid);
}
