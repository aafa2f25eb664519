/*
 * ctl.h: what xmppdctl's commands share: the loaded configuration, the
 * router's database (opened for the commands that use it) and the table of
 * commands that main.c dispatches on and --help lists (commands.c).
 */
#ifndef XMPPD_CTL_CTL_H
#define XMPPD_CTL_CTL_H

#include <stdio.h>

#include <xmppd/config.h>
#include <xmppd/db.h>
#include <xmppd/jid.h>

#include "router_conf.h"

struct ctl {
    const xd_config *cfg; /* the whole file (other programs' sections) */
    struct xmppd_conf conf;
    xd_db *db; /* open for CTL_DB commands, else NULL */
};

/* What a command needs before it runs. */
enum ctl_needs {
    CTL_CONF,    /* [xmppd] loaded, as the state folder's owner (owner.h) */
    CTL_DB,      /* and the router's database open (migrated) */
    CTL_INVOKER, /* [xmppd] loaded, as whoever runs xmppdctl: it reads or
                  * writes files outside the state folder (check, cert) */
};

/* A command: argv[0] is its name; returns the exit status (0 ok, 1 failed,
 * 2 bad arguments, 3 for status: xmppd is not running). */
struct ctl_command {
    const char *name;
    const char *args; /* as --help shows them, or "" */
    const char *doc;  /* one line (continued lines start with '\n') */
    enum ctl_needs needs;
    int (*run)(struct ctl *c, int argc, char **argv);
};

/* The commands, ended by { NULL }. */
extern const struct ctl_command ctl_commands[];
/* The command named `name`, or NULL. */
const struct ctl_command *ctl_command_find(const char *name);
/* Prints the usage line and every command to f. */
void ctl_usage(FILE *f);

/* Parses a bare account JID of a served host into a prepared JID the
 * caller frees; prints why not on stderr. 0 or XD_EINVAL. */

int ctl_account_jid(struct ctl *c, const char *s, xd_jid **out);
/* 1 when `domain` (prepared) is one of [xmppd] hosts, else 0. */
int ctl_host_served(struct ctl *c, const char *domain);

/* The commands, one file each. */
int ctl_cmd_adduser(struct ctl *c, int argc, char **argv); /* main.c */
int ctl_cmd_passwd(struct ctl *c, int argc, char **argv);
int ctl_cmd_deluser(struct ctl *c, int argc, char **argv);
int ctl_cmd_listusers(struct ctl *c, int argc, char **argv);
int ctl_cmd_remote(struct ctl *c, int argc, char **argv); /* remote.c */
int ctl_cmd_reload(struct ctl *c, int argc, char **argv);
int ctl_cmd_status(struct ctl *c, int argc, char **argv); /* status.c */
int ctl_cmd_about(struct ctl *c, int argc, char **argv);
int ctl_cmd_check(struct ctl *c, int argc, char **argv);  /* check.c */
int ctl_cmd_backup(struct ctl *c, int argc, char **argv); /* backup.c */
int ctl_cmd_restore(struct ctl *c, int argc, char **argv);
int ctl_cmd_cert(struct ctl *c, int argc, char **argv);  /* cert.c */
int ctl_cmd_rooms(struct ctl *c, int argc, char **argv); /* rooms.c */
int ctl_cmd_create_room(struct ctl *c, int argc, char **argv);
int ctl_cmd_destroy_room(struct ctl *c, int argc, char **argv);
int ctl_cmd_send(struct ctl *c, int argc, char **argv);   /* send.c */
int ctl_cmd_roster(struct ctl *c, int argc, char **argv); /* roster.c */
int ctl_cmd_delete_old_archives(struct ctl *c, int argc,
                                char **argv); /* archive.c */

#endif
