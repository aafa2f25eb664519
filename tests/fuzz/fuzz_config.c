/*
 * libFuzzer target for the configuration parser (framework/src/config.c on
 * libinih) and the tables that read it: the input, as a file's text, is
 * loaded, bound to the router's [xmppd] table, its [component DOMAIN]
 * sections loaded as the router loads them, and every section bound as a
 * component's (xd_component_new, which does not connect). A bound value
 * outside its key's bounds aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <xmppd/component.h>
#include <xmppd/config.h>
#include <xmppd/log.h>

#include "router.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *base;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xd_log_init("fuzz", NULL);
    xd_log_set_level(XD_LOG_ERROR);
    base = event_base_new();
    return base != NULL ? 0 : 1;
}

/* Every value bound through the table is within its key's bounds. */
static void
check_bounds(const xd_config_key *keys, const void *dst)
{
    for (const xd_config_key *k = keys; k->name != NULL; k++) {
        const char *field = (const char *)dst + k->offset;
        unsigned long long v;
        int b;
        switch (k->type) {
        case XD_CFG_T_UINT:
            memcpy(&v, field, sizeof(v));
            if (v < k->min || v > k->max)
                abort();
            break;
        case XD_CFG_T_BOOL:
            memcpy(&b, field, sizeof(b));
            if (b != 0 && b != 1)
                abort();
            break;
        default:
            break;
        }
    }
}

struct walk {
    const xd_config *cfg;
    int sections;
};

static void
each_section(const char *section, const char *rest, void *arg)
{
    struct walk *w = arg;
    xd_component *c = NULL;

    (void)rest;
    if (!xd_config_has_section(w->cfg, section))
        abort();
    /* Binding is cheap but a component with a long list of sections
     * would make an input slow for no new code. */
    if (w->sections++ < 8 && xd_component_new(w->cfg, section, base, &c) == 0)
        xd_component_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    xd_config *cfg = NULL;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (xd_config_load_string(text, "fuzz.ini", &cfg) != 0) {
        free(text);
        return 0;
    }
    free(text);

    struct xmppd_conf conf;
    memset(&conf, 0, sizeof(conf));
    if (xmppd_conf_load(cfg, &conf) == 0) {
        check_bounds(xmppd_conf_keys, &conf);
        xmppd_conf_free(&conf);
    }

    struct router r;
    memset(&r, 0, sizeof(r));
    r.cfg = cfg;
    r.comp_confs = xd_map_new();
    router_load_components(&r);
    router_free_components(&r);
    xd_map_free(r.comp_confs);

    struct walk w = { cfg, 0 };
    xd_config_each_section(cfg, "", each_section, &w);
    xd_config_get(cfg, "global", "log_level");
    xd_config_free(cfg);
    return 0;
}
