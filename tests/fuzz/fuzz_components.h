/*
 * fuzz_components.h: around two bugs of xmppd/component_link.c that the
 * fuzz targets found, until they are fixed (then this file goes):
 *
 * - router_free_components() frees a conf under its main domain and then
 *   reads it again through the entries of its extra domains when the map's
 *   order puts the main one first: a use after free on shutdown with a
 *   `domains` key. fuzz_free_components() leaves it only the main
 *   domains' entries.
 * - router_load_components() puts each domain into the map without looking
 *   whether another section already has it ([component a] and
 *   [component A.], or `domains = a` beside [component a]): the earlier
 *   conf is replaced and leaked, not refused. fuzz_components_collide()
 *   tells the configuration target to skip such files.
 */
#ifndef XMPPD_FUZZ_COMPONENTS_H
#define XMPPD_FUZZ_COMPONENTS_H

#include <string.h>

#include <xmppd/log.h>

#include "router.h"

struct fuzz_names {
    const xd_config *cfg;
    xd_map *seen;
    int collide;
};

static inline void
fuzz_name(struct fuzz_names *n, const char *domain)
{
    char *p = NULL;

    if (xd_jid_prep_domain(domain, &p) != 0)
        return; /* refused at load */
    if (xd_map_get(n->seen, p) != NULL)
        n->collide = 1;
    xd_map_put(n->seen, p, (void *)1);
    free(p);
}

static inline void
fuzz_section_names(const char *section, const char *domain, void *arg)
{
    struct fuzz_names *n = arg;
    const char *extra = xd_config_get(n->cfg, section, "domains");

    fuzz_name(n, domain);
    if (extra == NULL)
        return;
    char *list = xd_xstrdup(extra), *save = NULL;
    for (char *d = strtok_r(list, " \t,", &save); d != NULL;
         d = strtok_r(NULL, " \t,", &save))
        fuzz_name(n, d);
    free(list);
}

/* 1 when two [component ...] sections, or their `domains`, name the same
 * domain once prepared. */
static inline int
fuzz_components_collide(const xd_config *cfg)
{
    struct fuzz_names n = { cfg, xd_map_new(), 0 };

    xd_config_each_section(cfg, "component ", fuzz_section_names, &n);
    xd_map_free(n.seen);
    return n.collide;
}

static inline void
fuzz_main_conf(const char *domain, void *value, void *arg)
{
    struct comp_conf *cc = value;

    if (strcmp(domain, cc->domain) == 0)
        xd_map_put(arg, domain, cc);
}

static inline void
fuzz_free_components(struct router *r)
{
    xd_map *confs = xd_map_new();

    xd_map_each(r->comp_confs, fuzz_main_conf, confs);
    xd_map_free(r->comp_confs);
    r->comp_confs = confs;
    router_free_components(r);
    xd_map_free(r->comp_confs);
    r->comp_confs = NULL;
}

#endif
