/* xmppd-echo: answers every message that has a body with the same body. */
#define XD_LOG_AREA "echo"
#include <stdlib.h>

#include <xmppd/component.h>
#include <xmppd/config.h>
#include <xmppd/log.h>
#include <xmppd/stanza.h>
#include <xmppd/version.h>

struct echo {
    xd_component *comp;
    unsigned long answered; /* for the shutdown log line */
};

static xd_verdict
echo_message(xd_component *comp, const xd_stanza *in, void *arg)
{
    struct echo *e = arg;
    const char *body = xd_stanza_child_text(in, "body", XD_NS_CLIENT);

    /* Never answer errors or bodiless messages: two echoes would loop. */
    if (body == NULL || xd_stanza_is_error(in))
        return XD_PASS;
    xd_stanza *out = xd_stanza_reply(in); /* to/from swapped, type kept */
    xd_stanza_set_child_text(out, "body", XD_NS_CLIENT, body);
    xd_component_send(comp, out); /* takes ownership of out */
    e->answered++;
    return XD_HANDLED;
}

/* What --help and --version print: the [echo] section holds the library's
 * keys only. */
static const xd_config_section echo_sections[] = {
    { "echo", "the component and its link to the router", xd_component_keys,
      NULL },
    { NULL, NULL, NULL, NULL },
};
static const xd_program echo_program = { "xmppd-echo", XD_VERSION, NULL,
                                         echo_sections };

int
main(int argc, char *argv[])
{
    struct echo e = { 0 };
    xd_config *cfg = xd_config_main(argc, argv, &echo_program, NULL);

    xd_log_init("xmppd-echo", cfg);
    if (xd_component_new(cfg, "echo", NULL, &e.comp) != 0)
        xd_fatalx("[echo] section incomplete, see echo.ini.example");
    xd_component_add_identity(e.comp, "component", "generic", "Echo");
    xd_component_on(e.comp, XD_STANZA_MESSAGE, NULL, echo_message, &e);
    int rc = xd_component_run(e.comp); /* until SIGTERM or SIGINT */
    xd_log_info("stopping after %lu messages", e.answered);
    xd_component_free(e.comp);
    xd_config_free(cfg);
    return rc == 0 ? 0 : 1;
}
