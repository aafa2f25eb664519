/*
 * component_link.c: the accept side of XEP-0114. Each [component DOMAIN]
 * section allows one component to bind DOMAIN (and the domains listed in its
 * `domains` key) with its shared secret. The handshake is checked in
 * constant time; a wrong secret gets not-authorized, a domain that is
 * already bound gets conflict. Once up, stanzas to the component's domains
 * go over the link, and its stanzas are routed on if their 'from' is one of
 * its domains. A connection that has not completed its handshake within
 * component_handshake_timeout_s is ended.
 */
#define XD_LOG_AREA "component"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/sha.h>

#include <xmppd/log.h>

#include "router.h"

struct comp_link {
    struct router *r;
    xd_stream *stream;
    struct comp_conf *conf;        /* known after the header; bound after the
                                      handshake when conf->link == this */
    struct event *handshake_timer; /* until the handshake is done */
    struct comp_link *prev, *next;
    char id[17];
};

/* --- configuration ---------------------------------------------------- */

struct comp_section {
    char *secret;
    char *domains;
};

const xd_config_key comp_keys[] = {
    XD_CFG_STRING("secret", struct comp_section, secret, NULL,
                  "shared secret of the component's handshake (required)"),
    XD_CFG_STRING("domains", struct comp_section, domains, NULL,
                  "further domains the component may own, space-separated"),
    XD_CFG_END,
};

struct load_ctx {
    struct router *r;
    int rc;
};

static void
free_conf(struct comp_conf *cc)
{
    for (char **d = cc->extra_domains; d && *d; d++)
        free(*d);
    free(cc->extra_domains);
    free(cc->secret);
    free(cc->domain);
    free(cc);
}

static void
load_one(const char *section, const char *domain, void *arg)
{
    struct load_ctx *ctx = arg;
    struct comp_section cs = { NULL, NULL };
    char *prepped = NULL;

    if (ctx->rc != 0)
        return;
    if (xd_config_bind(ctx->r->cfg, section, comp_keys, &cs) != 0 ||
        cs.secret == NULL || *cs.secret == '\0' ||
        xd_jid_prep_domain(domain, &prepped) != 0) {
        xd_log_warnx("[%s]: needs a valid domain and a secret", section);
        ctx->rc = XD_EINVAL;
        goto out;
    }
    struct comp_conf *cc = xd_xcalloc(1, sizeof(*cc));
    cc->domain = prepped;
    cc->secret = cs.secret;
    cs.secret = NULL;
    size_t n = 0;
    char *save = NULL;
    cc->extra_domains = xd_xcalloc(1, sizeof(char *));
    for (char *d = cs.domains ? strtok_r(cs.domains, " \t,", &save) : NULL;
         d != NULL; d = strtok_r(NULL, " \t,", &save)) {
        char *p = NULL;
        if (xd_jid_prep_domain(d, &p) != 0) {
            xd_log_warnx("[%s]: bad domain '%s'", section, d);
            ctx->rc = XD_EINVAL;
            continue;
        }
        cc->extra_domains =
            xd_xrealloc(cc->extra_domains, (n + 2) * sizeof(char *));
        cc->extra_domains[n++] = p;
        cc->extra_domains[n] = NULL;
    }
    /* A domain named twice ([component a] and [component A.], or in a
     * `domains` list) is refused: which secret would hold? */
    int taken = xd_map_get(ctx->r->comp_confs, cc->domain) != NULL;
    for (size_t i = 0; i < n && !taken; i++)
        taken = xd_map_get(ctx->r->comp_confs, cc->extra_domains[i]) != NULL ||
                strcmp(cc->extra_domains[i], cc->domain) == 0;
    for (size_t i = 0; i < n && !taken; i++)
        for (size_t j = 0; j < i && !taken; j++)
            taken = strcmp(cc->extra_domains[i], cc->extra_domains[j]) == 0;
    if (taken) {
        xd_log_warnx("[%s]: a domain of this section is configured twice",
                     section);
        ctx->rc = XD_EINVAL;
        free_conf(cc);
        goto out;
    }
    xd_map_put(ctx->r->comp_confs, cc->domain, cc);
    for (size_t i = 0; i < n; i++)
        xd_map_put(ctx->r->comp_confs, cc->extra_domains[i], cc);
out:
    xd_config_unbind(comp_keys, &cs);
}

int
router_load_components(struct router *r)
{
    struct load_ctx ctx = { r, 0 };

    xd_config_each_section(r->cfg, "component ", load_one, &ctx);
    return ctx.rc;
}

static void
collect_main(const char *domain, void *value, void *arg)
{
    struct comp_conf *cc = value, ***end = arg;

    if (strcmp(domain, cc->domain) == 0) /* once, under its main domain */
        *(*end)++ = cc;
}

void
router_free_components(struct router *r)
{
    /* Every conf is found before any is freed: its extra domains' entries
     * point at it too. */
    struct comp_conf **confs =
        xd_xcalloc(xd_map_count(r->comp_confs) + 1, sizeof(*confs));
    struct comp_conf **end = confs;

    xd_map_each(r->comp_confs, collect_main, &end);
    for (struct comp_conf **cc = confs; cc < end; cc++)
        free_conf(*cc);
    free(confs);
}

/* --- links ------------------------------------------------------------- */

static int
link_is_bound(const struct comp_link *l)
{
    return l->conf != NULL && l->conf->link == l;
}

static int
owns_domain(const struct comp_conf *cc, const char *domain)
{
    if (strcmp(cc->domain, domain) == 0)
        return 1;
    for (char **d = cc->extra_domains; d && *d; d++)
        if (strcmp(*d, domain) == 0)
            return 1;
    return 0;
}

static void
link_free(struct comp_link *l)
{
    struct router *r = l->r;

    if (link_is_bound(l)) {
        xd_map_remove(r->comp_links, l->conf->domain);
        for (char **d = l->conf->extra_domains; d && *d; d++)
            xd_map_remove(r->comp_links, *d);
        l->conf->link = NULL;
        xd_log_info("component %s disconnected", l->conf->domain);
    }
    if (l->prev)
        l->prev->next = l->next;
    else
        r->links_all = l->next;
    if (l->next)
        l->next->prev = l->prev;
    if (l->handshake_timer != NULL)
        event_free(l->handshake_timer);
    xd_stream_free(l->stream);
    free(l);
}

static void
on_opened(xd_stream *s, const xd_elem *header, void *arg)
{
    struct comp_link *l = arg;
    const char *to = xd_elem_attr(header, "to");
    char *domain = NULL;

    xd_random_id(l->id, sizeof(l->id) - 1);
    if (to == NULL || xd_jid_prep_domain(to, &domain) != 0 ||
        (l->conf = xd_map_get(l->r->comp_confs, domain)) == NULL ||
        strcmp(l->conf->domain, domain) != 0) {
        xd_log_info("%s: no component configured for '%s'", xd_stream_peer(s),
                    to ? to : "");
        l->conf = NULL;
        xd_stream_open(s, NULL, to, l->id, NULL);
        xd_stream_error(s, "host-unknown", NULL);
        free(domain);
        return;
    }
    free(domain);
    xd_stream_open(s, NULL, l->conf->domain, l->id, NULL);
}

/* XEP-0114: the handshake is hex(SHA-1(stream id + secret)). */
static int
handshake_ok(const struct comp_link *l, const char *given)
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    char expected[2 * SHA_DIGEST_LENGTH + 1], lower[2 * SHA_DIGEST_LENGTH + 1];
    char *input = xd_xasprintf("%s%s", l->id, l->conf->secret);
    size_t n = strlen(given);

    SHA1((const unsigned char *)input, strlen(input), digest);
    explicit_bzero(input, strlen(input));
    free(input);
    for (size_t i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(expected + 2 * i, 3, "%02x", digest[i]);
    if (n != 2 * SHA_DIGEST_LENGTH)
        return 0;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)given[i]);
    return xd_memeq_ct(lower, expected, 2 * SHA_DIGEST_LENGTH) == 0;
}

static void
handle_handshake(struct comp_link *l, xd_stanza *st)
{
    struct router *r = l->r;
    const xd_elem *root = xd_stanza_root(st);

    if (l->conf == NULL || !xd_elem_is(root, "handshake", XD_NS_CLIENT)) {
        xd_stream_error(l->stream, "not-authorized", "handshake expected");
        return;
    }
    if (!handshake_ok(l, xd_elem_text(root))) {
        xd_log_info("%s: wrong secret for component %s",
                    xd_stream_peer(l->stream), l->conf->domain);
        xd_stream_error(l->stream, "not-authorized", NULL);
        return;
    }
    if (l->conf->link != NULL) {
        xd_log_info("%s: component %s is already connected",
                    xd_stream_peer(l->stream), l->conf->domain);
        xd_stream_error(l->stream, "conflict", NULL);
        return;
    }
    l->conf->link = l;
    xd_map_put(r->comp_links, l->conf->domain, l);
    for (char **d = l->conf->extra_domains; d && *d; d++)
        xd_map_put(r->comp_links, *d, l);
    if (l->handshake_timer != NULL)
        evtimer_del(l->handshake_timer);
    xd_stream_send_raw(l->stream, "<handshake/>", 12);
    xd_log_info("component %s connected", l->conf->domain);
}

static void
on_stanza(xd_stream *s, xd_stanza *st, void *arg)
{
    struct comp_link *l = arg;
    struct router *r = l->r;

    if (!link_is_bound(l)) {
        handle_handshake(l, st);
        xd_stanza_unref(st);
        return;
    }
    if (xd_stanza_kind_of(st) == XD_STANZA_OTHER) {
        xd_stanza_unref(st);
        xd_stream_error(s, "unsupported-stanza-type", NULL);
        return;
    }
    const char *from = xd_stanza_from(st);
    xd_jid *jid = NULL;
    if (from == NULL || xd_jid_parse(from, &jid) != 0 ||
        !owns_domain(l->conf, xd_jid_domain(jid))) {
        xd_log_info("component %s: stanza from '%s' refused", l->conf->domain,
                    from ? from : "");
        xd_jid_free(jid);
        xd_stanza_unref(st);
        xd_stream_error(s, "invalid-from", NULL);
        return;
    }
    xd_jid_free(jid);
    if (xd_stanza_to(st) == NULL) {
        xd_stanza_unref(st);
        xd_stream_error(s, "improper-addressing", "stanza without 'to'");
        return;
    }
    router_route(r, st);
}

static void
on_closed(xd_stream *s, xd_stream_end why, const char *condition, void *arg)
{
    (void)s;
    (void)why;
    (void)condition;
    link_free(arg);
}

static const xd_stream_callbacks link_callbacks = {
    .opened = on_opened,
    .stanza = on_stanza,
    .closed = on_closed,
};

static void
handshake_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct comp_link *l = arg;

    (void)fd;
    (void)what;
    if (link_is_bound(l))
        return;
    xd_log_info("%s: no component handshake after %llu s",
                xd_stream_peer(l->stream),
                l->r->conf.component_handshake_timeout_s);
    xd_stream_error(l->stream, "connection-timeout", NULL);
}

void
comp_link_accept(struct router *r, int fd)
{
    struct comp_link *l = xd_xcalloc(1, sizeof(*l));
    xd_stream_opts opts = {
        .content_ns = XD_NS_COMPONENT,
        .limits = r->limits,
        .out_high_water = r->conf.out_high_water_bytes,
        .io_chunk = XD_STREAM_LINK_IO_CHUNK,
        /* A component stops reading while its own output is backed up
         * (framework/src/component.c): what it cannot take now is
         * bounced, and its link, with every session behind it, stays. */
        .out_refuse_over_limit = 1,
        .before_write = db_batch_before_write,
        .before_write_arg = r,
    };
    struct timeval tv = { (time_t)r->conf.component_handshake_timeout_s, 0 };

    l->r = r;
    l->stream = xd_stream_new_fd(r->base, fd, &opts, &link_callbacks, l);
    l->handshake_timer = evtimer_new(r->base, handshake_timeout_cb, l);
    if (l->handshake_timer != NULL)
        evtimer_add(l->handshake_timer, &tv);
    l->next = r->links_all;
    if (r->links_all)
        r->links_all->prev = l;
    r->links_all = l;
}

void
comp_link_send(struct comp_link *l, xd_stanza *st)
{
    int rc = xd_stream_send(l->stream, xd_stanza_root(st));

    if (rc == XD_ESTATE) /* a link that is closing takes nothing more */
        router_bounce(l->r, st, "service-unavailable");
    else if (rc == XD_ELIMIT) /* the component holds back: it is busy */
        router_bounce(l->r, st, "resource-constraint");
    else
        xd_stanza_unref(st);
}

void
comp_links_close_all(struct router *r)
{
    for (struct comp_link *l = r->links_all; l != NULL; l = l->next)
        xd_stream_error(l->stream, "system-shutdown", NULL);
}

void
comp_links_free_all(struct router *r)
{
    while (r->links_all != NULL)
        link_free(r->links_all);
}

struct comp_link *
comp_link_next(const struct comp_link *l)
{
    return l->next;
}
