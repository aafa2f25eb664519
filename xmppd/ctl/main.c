/*
 * xmppdctl: account administration on the router's database (it works
 * while xmppd runs: SQLite WAL), and the commands the running xmppd
 * answers over its control socket (remote.c).
 */
#define XD_LOG_AREA "ctl"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/jid.h>
#include <xmppd/log.h>

#include "accounts.h"
#include "owner.h"
#include "remote.h"
#include "router_conf.h"
#include "schema.h"

struct ctl {
    struct xmppd_conf conf;
    xd_db *db;
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: xmppdctl [-c FILE] COMMAND [ARGS]\n"
               "  -c FILE: default $XMPPD_CONFIG, else " XD_CONFIG_FILE "\n"
               "  adduser JID [PASSWORD]   create an account (password "
               "from stdin if omitted)\n"
               "  passwd JID [PASSWORD]    change a password (the running "
               "xmppd ends\n"
               "                           the account's sessions)\n"
               "  deluser JID              delete an account (and end its "
               "sessions)\n"
               "  listusers [HOST]         list accounts\n"
               "asking the running xmppd (control_socket):\n"
               "  sessions                 sessions online: JID, address, "
               "seconds, flags\n"
               "  kick JID                 end a full JID's session, or all "
               "of a bare JID's\n"
               "  stats                    counters and memory\n"
               "  reload                   read the configuration again "
               "(certificate,\n"
               "                           limits) without dropping "
               "connections\n"
               "  help                     this text\n");
}

/* Parses a bare account JID of a served host; the caller frees. */
static int
account_jid(struct ctl *c, const char *s, xd_jid **out)
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
    char *hosts = xd_xstrdup(c->conf.hosts), *save = NULL;
    int served = 0;
    for (char *h = strtok_r(hosts, " \t,", &save); h && !served;
         h = strtok_r(NULL, " \t,", &save)) {
        char *p = NULL;
        served =
            xd_jid_prep_domain(h, &p) == 0 && strcmp(p, xd_jid_domain(j)) == 0;
        free(p);
    }
    free(hosts);
    if (!served) {
        fprintf(stderr, "xmppdctl: %s is not one of the hosts served (%s)\n",
                xd_jid_domain(j), c->conf.hosts);
        xd_jid_free(j);
        return XD_EINVAL;
    }
    *out = j;
    return 0;
}

/* The password from argv, or one line of stdin; the caller frees. */
static char *
password_arg(int argc, char **argv, int i)
{
    char line[1024];

    if (i < argc)
        return xd_xstrdup(argv[i]);
    if (fgets(line, sizeof(line), stdin) == NULL)
        return NULL;
    line[strcspn(line, "\r\n")] = '\0';
    return xd_xstrdup(line);
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

static int
run(struct ctl *c, int argc, char **argv)
{
    const char *cmd = argv[0];
    xd_jid *j = NULL;
    char *pw = NULL;
    int rc;

    if (strcmp(cmd, "listusers") == 0) {
        char *host = NULL;
        if (argc > 1 && xd_jid_prep_domain(argv[1], &host) != 0) {
            fprintf(stderr, "xmppdctl: '%s' is not a host\n", argv[1]);
            return 1;
        }
        rc = accounts_list(c->db, host, print_user, NULL);
        free(host);
        return rc == 0 ? 0 : 1;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (account_jid(c, argv[1], &j) != 0)
        return 1;
    const char *host = xd_jid_domain(j), *user = xd_jid_local(j);
    if (strcmp(cmd, "deluser") == 0) {
        rc = accounts_delete(c->db, host, user);
    } else if (strcmp(cmd, "adduser") == 0 || strcmp(cmd, "passwd") == 0) {
        if ((pw = password_arg(argc, argv, 2)) == NULL) {
            fprintf(stderr, "xmppdctl: no password given\n");
            xd_jid_free(j);
            return 1;
        }
        unsigned iter = (unsigned)c->conf.scram_iterations;
        rc = strcmp(cmd, "adduser") == 0
                 ? accounts_create(c->db, host, user, pw, iter)
                 : accounts_set_password(c->db, host, user, pw, iter);
        explicit_bzero(pw, strlen(pw));
        free(pw);
    } else {
        usage(stderr);
        xd_jid_free(j);
        return 2;
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
        end_sessions(c, j, strcmp(cmd, "deluser") == 0) != 0) {
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
main(int argc, char *argv[])
{
    struct ctl c;
    int first;

    memset(&c, 0, sizeof(c));
    if (argc > 1 && (strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return 0;
    }
    /* The installed configuration, not one in the working folder: an
     * operator runs xmppdctl from anywhere. */
    const char *env = getenv("XMPPD_CONFIG");
    if (env == NULL || *env == '\0')
        setenv("XMPPD_CONFIG", XD_CONFIG_FILE, 1);
    xd_config *cfg = xd_config_load_argv(argc, argv, "xmppdctl", &first);
    xd_log_init("xmppdctl", cfg);
    if (first >= argc) {
        usage(stderr);
        xd_config_free(cfg);
        return 2;
    }
    if (strcmp(argv[first], "help") == 0) {
        usage(stdout);
        xd_config_free(cfg);
        return 0;
    }
    int rc = 1;
    const char *cmd = argv[first];
    if (strcmp(cmd, "sessions") == 0 || strcmp(cmd, "kick") == 0 ||
        strcmp(cmd, "stats") == 0 || strcmp(cmd, "reload") == 0) {
        char line[1024];
        snprintf(line, sizeof(line), "%s%s%s", cmd, first + 1 < argc ? " " : "",
                 first + 1 < argc ? argv[first + 1] : "");
        if (xmppd_conf_load(cfg, &c.conf) == 0 &&
            ctl_become_owner(c.conf.db_path) == 0)
            rc = ctl_remote(c.conf.control_socket, line);
    } else if (xmppd_conf_load(cfg, &c.conf) == 0 &&
               ctl_become_owner(c.conf.db_path) == 0 &&
               xd_db_open(c.conf.db_path, xmppd_schema, xmppd_schema_count,
                          &c.db) == 0)
        rc = run(&c, argc - first, argv + first);
    xd_db_close(c.db);
    xmppd_conf_free(&c.conf);
    xd_config_free(cfg);
    return rc;
}
