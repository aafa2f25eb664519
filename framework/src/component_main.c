/*
 * component_main.c: xd_component_main, the start of a component's main()
 * in one call: options and configuration, the log, the component made from
 * its section (the library's keys and the program's own), with --help
 * describing that section when the program lists none; and
 * xd_component_run_main, its end: run, then free all that.
 */
#define XD_LOG_AREA "component"
#include <xmppd/component.h>
#include <xmppd/log.h>

xd_config *
xd_component_main(int argc, char *argv[], const xd_program *prog,
                  const char *section, const xd_config_key *own_keys, void *own,
                  xd_component **out)
{
    const xd_config_section sections[] = {
        { section, "the component and its link to the router",
          xd_component_keys, own_keys },
        { NULL, NULL, NULL, NULL },
    };
    xd_program p = *prog;
    int rc;

    if (p.sections == NULL)
        p.sections = sections;
    xd_config *cfg = xd_config_main(argc, argv, &p, NULL);
    xd_log_init(prog->name, cfg);
    if (own_keys != NULL)
        rc = xd_component_new_with(cfg, section, NULL, own_keys, own, out);
    else
        rc = xd_component_new(cfg, section, NULL, out);
    if (rc != 0)
        xd_fatalx("[%s] in %s: the component cannot start (see above)", section,
                  xd_config_name(cfg));
    return cfg;
}

int
xd_component_run_main(xd_component *c, xd_config *cfg,
                      const xd_config_key *own_keys, void *own)
{
    int rc = xd_component_run(c);

    xd_component_free(c);
    if (own_keys != NULL)
        xd_config_unbind(own_keys, own);
    xd_config_free(cfg);
    return rc == 0 ? 0 : 1;
}
