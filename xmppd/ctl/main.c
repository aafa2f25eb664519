/*
 * xmppdctl: account administration on the router's database (it works
 * while xmppd runs: SQLite WAL), and dispatch to the other commands of
 * commands.c's table, each in its own file (remote.c: those the running
 * xmppd answers over its control socket).
 */
#define XD_LOG_AREA "ctl"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/jid.h>
#include <xmppd/log.h>

#include "accounts.h"
#include "ctl.h"
#include "owner.h"
#include "password.h"
#include "password_policy.h"
#include "remote.h"
#include "router_conf.h"
#include "schema.h"

/* Parses a bare account JID of a served host; the caller frees. */
int
ctl_account_jid(struct ctl *c, const char *s, xd_jid **out)
{
    xd_jid *j = NULL;

    if (xd_jid_parse(s, &j) != 0 || xd_jid_local(j) == NULL ||
        xd_jid_resource(j) != NULL) {
        fprintf(stderr,
                "xmppdctl: '%s' is not an account JID "
                "(user@host)\n",
                s);
        xd_jid_free(j);
        return XD_EINVAL;
    }
    if (!ctl_host_served(c, xd_jid_domain(j))) {
        fprintf(stderr, "xmppdctl: %s is not one of the hosts served (%s)\n",
                xd_jid_domain(j), c->conf.hosts);
        xd_jid_free(j);
        return XD_EINVAL;
    }
    *out = j;
    return 0;
}

int
ctl_host_served(struct ctl *c, const char *domain)
{
    char *hosts = xd_xstrdup(c->conf.hosts), *save = NULL;
    int served = 0;

    for (char *h = strtok_r(hosts, " \t,", &save); h && !served;
         h = strtok_r(NULL, " \t,", &save)) {
        char *p = NULL;
        served = xd_jid_prep_domain(h, &p) == 0 && strcmp(p, domain) == 0;
        free(p);
    }
    free(hosts);
    return served;
}

/* A deleted account or a changed password must not leave sessions
 * logged in with what is gone: the running xmppd, if any, ends them. */
static int
end_sessions(struct ctl *c, const xd_jid *j, int deleted)
{
    char line[1100];

    snprintf(line, sizeof(line), "revoke %s %s", xd_jid_str(j),
             deleted ? "deleted" : "password");
    return ctl_remote_if_running(c->conf.control_socket, line);
}

static void
print_user(const char *host, const char *user, void *arg)
{
    (void)arg;
    printf("%s@%s\n", user, host);
}

int
ctl_cmd_listusers(struct ctl *c, int argc, char **argv)
{
    char *host = NULL;
    int rc;

    if (argc > 2)
        return 2;
    if (argc > 1 && xd_jid_prep_domain(argv[1], &host) != 0) {
        fprintf(stderr, "xmppdctl: '%s' is not a host\n", argv[1]);
        return 1;
    }
    if (host != NULL && !ctl_host_served(c, host)) {
        fprintf(stderr, "xmppdctl: %s is not one of the hosts served (%s)\n",
                host, c->conf.hosts);
        free(host);
        return 1;
    }
    rc = accounts_list(c->db, host, print_user, NULL);
    free(host);
    return rc == 0 ? 0 : 1;
}

/* adduser, passwd and deluser: one account, and what went wrong said. */
static int
account_command(struct ctl *c, int argc, char **argv)
{
    const char *cmd = argv[0];
    int deleting = strcmp(cmd, "deluser") == 0;
    xd_jid *j = NULL;
    char *pw = NULL;
    int rc;

    if (argc < 2 || argc > (deleting ? 2 : 3))
        return 2;
    if (ctl_account_jid(c, argv[1], &j) != 0)
        return 1;
    const char *host = xd_jid_domain(j), *user = xd_jid_local(j);
    if (deleting) {
        rc = accounts_delete(c->db, host, user);
    } else {
        if (argc > 2)
            pw = xd_xstrdup(argv[2]);
        else if (ctl_password_read(xd_jid_str(j), &pw) != 0) {
            xd_jid_free(j);
            return 1;
        }
        unsigned iter = (unsigned)c->conf.scram_iterations;
        if (password_check(pw, c->conf.password_min_length) != 0) {
            fprintf(stderr,
                    "xmppdctl: %s %s: the password is shorter than "
                    "%llu characters (password_min_length)\n",
                    cmd, xd_jid_str(j), c->conf.password_min_length);
            explicit_bzero(pw, strlen(pw));
            free(pw);
            xd_jid_free(j);
            return 1;
        }
        rc = strcmp(cmd, "adduser") == 0
                 ? accounts_create(c->db, host, user, pw, iter)
                 : accounts_set_password(c->db, host, user, pw, iter);
        explicit_bzero(pw, strlen(pw));
        free(pw);
    }
    if (rc != 0)
        fprintf(stderr, "xmppdctl: %s %s: %s\n", cmd, xd_jid_str(j),
                rc == XD_EEXIST      ? "the account exists already"
                : rc == XD_ENOTFOUND ? "no such account"
                : rc == XD_EINVAL    ? "the password is empty or invalid"
                                     : xd_strerror(rc));
    else
        printf("%s: %s done\n", xd_jid_str(j), cmd);
    if (rc == 0 && strcmp(cmd, "adduser") != 0 &&
        end_sessions(c, j, deleting) != 0) {
        fprintf(stderr,
                "xmppdctl: %s: the account's sessions could not be "
                "ended\n",
                xd_jid_str(j));
        rc = XD_EIO;
    }
    xd_jid_free(j);
    return rc == 0 ? 0 : 1;
}

int
ctl_cmd_adduser(struct ctl *c, int argc, char **argv)
{
    return account_command(c, argc, argv);
}

int
ctl_cmd_passwd(struct ctl *c, int argc, char **argv)
{
    return account_command(c, argc, argv);
}

int
ctl_cmd_deluser(struct ctl *c, int argc, char **argv)
{
    return account_command(c, argc, argv);
}

/* -h or --help among the options (before the command): the commands are
 * what a reader of xmppdctl's help wants, before the options and keys. */
static int
wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
        if (argv[i][0] != '-')
            return strcmp(argv[i], "help") == 0;
    }
    return 0;
}

/* Runs one command of the table, with what it needs opened first. */
static int
dispatch(struct ctl *c, const xd_config *cfg, int argc, char **argv)
{
    const struct ctl_command *k = ctl_command_find(argv[0]);
    int rc;

    if (k == NULL) {
        fprintf(stderr,
                "xmppdctl: unknown command '%s' (xmppdctl --help lists "
                "them)\n",
                argv[0]);
        return 2;
    }
    c->cfg = cfg;
    if (xmppd_conf_load(cfg, &c->conf) != 0)
        return 1;
    /* Files in the state folder must stay the service user's. */
    if (k->needs != CTL_INVOKER && ctl_become_owner(c->conf.db_path) != 0)
        return 1;
    if (k->needs == CTL_DB && xd_db_open(c->conf.db_path, xmppd_schema,
                                         xmppd_schema_count, &c->db) != 0)
        return 1;
    rc = k->run(c, argc, argv);
    if (rc == 2)
        fprintf(stderr, "usage: xmppdctl %s %s\n", k->name, k->args);
    return rc;
}

static const xd_program ctl_program = { "xmppdctl", NULL, "COMMAND [ARGS]",
                                        NULL };

int
main(int argc, char *argv[])
{
    struct ctl c;
    int first;

    memset(&c, 0, sizeof(c));
    if (wants_help(argc, argv)) {
        ctl_usage(stdout);
        printf("\n");
        xd_config_write_help(&ctl_program, stdout);
        return 0;
    }
    /* The installed configuration, not one in the working folder: an
     * operator runs xmppdctl from anywhere. */
    const char *env = getenv("XMPPD_CONFIG");
    if (env == NULL || *env == '\0')
        setenv("XMPPD_CONFIG", XD_CONFIG_FILE, 1);
    xd_config *cfg = xd_config_main(argc, argv, &ctl_program, &first);
    xd_log_init("xmppdctl", cfg);
    if (first >= argc) {
        ctl_usage(stderr);
        xd_config_free(cfg);
        return 2;
    }
    int rc = dispatch(&c, cfg, argc - first, argv + first);
    xd_db_close(c.db);
    xmppd_conf_free(&c.conf);
    xd_config_free(cfg);
    return rc;
}
