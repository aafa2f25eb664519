/*
 * commands.c: xmppdctl's table of commands, which main() dispatches on and
 * --help lists, so that a command cannot exist without its line of help.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

const struct ctl_command ctl_commands[] = {
    { "adduser", "JID [PASSWORD]",
      "create an account; without PASSWORD it is asked for (twice, not\n"
      "echoed) on a terminal, else one line is read from stdin",
      CTL_DB, ctl_cmd_adduser },
    { "passwd", "JID [PASSWORD]",
      "change a password (asked for as adduser does); the running\n"
      "xmppd ends the account's sessions",
      CTL_DB, ctl_cmd_passwd },
    { "deluser", "JID", "delete an account (and end its sessions)", CTL_DB,
      ctl_cmd_deluser },
    { "listusers", "[HOST]", "list the accounts (of a served HOST)", CTL_DB,
      ctl_cmd_listusers },
    { "roster", "get JID | add JID CONTACT [NAME [GROUP...]]",
      "show an account's roster, or add a contact to it (subscription\n"
      "none: the contact still has to agree)",
      CTL_DB, ctl_cmd_roster },
    { "delete_old_archives", "DAYS",
      "delete XEP-0313 archived messages older than DAYS days", CTL_DB,
      ctl_cmd_delete_old_archives },
    { "backup", "FILE",
      "copy the router's database (and the MUC's, to FILE.muc, when\n"
      "[muc] is in the same file) while xmppd runs",
      CTL_CONF, ctl_cmd_backup },
    { "restore", "FILE",
      "replace the databases by a backup's (xmppd and xmppd-muc\n"
      "stopped)",
      CTL_CONF, ctl_cmd_restore },
    { "check", "[--dns HOST[:PORT]] [--no-dns]",
      "check the configuration, the certificate against every host\n"
      "and its expiry, the DNS SRV and A/AAAA records of every host and\n"
      "that the ports answer; exit 1 on any problem",
      CTL_INVOKER, ctl_cmd_check },
    { "cert", "import DIR",
      "install certbot's DIR/fullchain.pem and DIR/privkey.pem (DIR:\n"
      "live/HOST, or live/ with a folder per host) as tls_cert and\n"
      "tls_key, then reload the running xmppd",
      CTL_INVOKER, ctl_cmd_cert },
    { "about", "",
      "versions: xmppdctl, the build, the libraries and the\n"
      "running xmppd",
      CTL_CONF, ctl_cmd_about },
    { "status", "",
      "whether xmppd runs, and its uptime and load (exit 3\n"
      "when it does not run)",
      CTL_CONF, ctl_cmd_status },
    { "sessions", "", "sessions online: JID, address, seconds, flags", CTL_CONF,
      ctl_cmd_remote },
    { "kick", "JID", "end a full JID's session, or all of a bare JID's",
      CTL_CONF, ctl_cmd_remote },
    { "send", "TO MESSAGE...",
      "send MESSAGE (a chat message from the server) to a JID, or as\n"
      "an announcement to everyone online when TO is a served host",
      CTL_CONF, ctl_cmd_send },
    { "rooms", "",
      "the rooms of xmppd-muc ([muc] domain), asked as its first admin\n"
      "through the running xmppd",
      CTL_CONF, ctl_cmd_rooms },
    { "create_room", "ROOM [OWNER] [OPTIONS]",
      "create a room of xmppd-muc (ROOM: name or JID), unlocked, owned by\n"
      "OWNER (default: [muc]'s first admin); OPTIONS: --name NAME,\n"
      "--members-only, --temporary (not persistent), --hidden (not public)",
      CTL_CONF, ctl_cmd_create_room },
    { "destroy_room", "ROOM [REASON...]",
      "destroy a room of xmppd-muc (ROOM: name or JID); the occupants\n"
      "are told the REASON",
      CTL_CONF, ctl_cmd_destroy_room },
    { "stats", "", "counters and memory", CTL_CONF, ctl_cmd_remote },
    { "reload", "",
      "read the configuration again (certificate, limits) without\n"
      "dropping connections",
      CTL_CONF, ctl_cmd_reload },
    { NULL, NULL, NULL, CTL_CONF, NULL },
};

const struct ctl_command *
ctl_command_find(const char *name)
{
    for (const struct ctl_command *k = ctl_commands; k->name != NULL; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

void
ctl_usage(FILE *f)
{
    fprintf(f, "usage: xmppdctl [-c FILE] COMMAND [ARGS]\n"
               "       xmppdctl --help | --version\n"
               "  -c FILE: default $XMPPD_CONFIG, else " XD_CONFIG_FILE "\n"
               "commands:\n");
    for (const struct ctl_command *k = ctl_commands; k->name != NULL; k++) {
        char head[64];
        const char *doc = k->doc;

        snprintf(head, sizeof(head), "%s%s%s", k->name, *k->args ? " " : "",
                 k->args);
        fprintf(f, "  %s\n", head);
        while (*doc != '\0') {
            size_t n = strcspn(doc, "\n");
            fprintf(f, "      %.*s\n", (int)n, doc);
            doc += n + (doc[n] == '\n');
        }
    }
    fprintf(f, "  help\n      this text\n");
}
