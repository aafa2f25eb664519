/*
 * rooms.c: xmppdctl rooms, create_room ROOM [OWNER] [--name NAME]
 * [--members-only] [--temporary] [--hidden] and destroy_room ROOM
 * [REASON...], xmppd-muc's
 * admin ad-hoc commands (components/muc/commands.c) run through the
 * router's control socket: the running xmppd sends them to the MUC
 * service as the first JID of [muc] admins and hands back the answer
 * (control_command.c). The MUC checks that JID as it would any admin's
 * client; nothing new is trusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/buf.h>

#include "ctl.h"
#include "remote.h"

#define NODE_LIST    "urn:xmppd:muc:list-rooms"
#define NODE_DESTROY "urn:xmppd:muc:destroy-room"
#define NODE_CREATE  "urn:xmppd:muc:create-room"

/* The MUC's domain and the admin to act as, from [muc]; 0, or 1 (said). */
static int
muc_target(struct ctl *c, char *domain, size_t dsize, char *as, size_t asize)
{
    const char *d = xd_config_get(c->cfg, "muc", "domain");
    const char *a = xd_config_get(c->cfg, "muc", "admins");

    if (d == NULL || a == NULL || a[strspn(a, " \t,")] == '\0') {
        fprintf(stderr, "xmppdctl: the room commands need [muc] domain and "
                        "admins in the configuration (they run as the "
                        "first admin)\n");
        return 1;
    }
    a += strspn(a, " \t,");
    snprintf(domain, dsize, "%s", d);
    snprintf(as, asize, "%.*s", (int)strcspn(a, " \t,"), a);
    return 0;
}

/* %-escapes the spaces and '%' of a form value for the control line. */
static void
append_value(xd_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == ' ')
            xd_buf_append_str(b, "%20");
        else if (*s == '%')
            xd_buf_append_str(b, "%25");
        else
            xd_buf_append(b, s, 1);
    }
}

/* Runs the command; the answer's lines (without "ok") in *answer. */
static int
run_command(struct ctl *c, const xd_buf *line, xd_buf *answer)
{
    int rc = ctl_remote_query(c->conf.control_socket, line->data, answer);

    if (rc == CTL_REMOTE_DOWN)
        fprintf(stderr,
                "xmppdctl: xmppd is not running (nothing answers "
                "on %s)\n",
                c->conf.control_socket);
    else if (rc == CTL_REMOTE_ERROR)
        fprintf(stderr, "xmppdctl: %.*s", (int)answer->len,
                answer->len ? answer->data : "no answer\n");
    return rc == CTL_REMOTE_OK ? 0 : 1;
}

/* Prints the notes; 1 when one of them is an error. */
static int
notes(const xd_buf *answer)
{
    int failed = 0;

    for (const char *p = answer->data + 3; p && *p != '\0';) {
        size_t n = strcspn(p, "\n");
        if (strncmp(p, "note error ", 11) == 0) {
            failed = 1;
            fprintf(stderr, "xmppdctl: %.*s\n", (int)(n - 11), p + 11);
        } else if (strncmp(p, "note info ", 10) == 0) {
            printf("%.*s\n", (int)(n - 10), p + 10);
        } else if (strncmp(p, "note ", 5) == 0) {
            printf("%.*s\n", (int)(n - 5), p + 5);
        }
        p += n + (p[n] == '\n');
    }
    return failed;
}

int
ctl_cmd_rooms(struct ctl *c, int argc, char **argv)
{
    char domain[1024], as[1024];
    xd_buf line = { 0 }, answer = { 0 };
    int rc;

    (void)argv;
    if (argc != 1)
        return 2;
    if (muc_target(c, domain, sizeof(domain), as, sizeof(as)) != 0)
        return 1;
    xd_buf_appendf(&line, "command %s %s %s", as, domain, NODE_LIST);
    rc = run_command(c, &line, &answer);
    if (rc == 0) {
        for (const char *p = answer.data + 3; *p != '\0';) {
            size_t n = strcspn(p, "\n");
            if (strncmp(p, "rooms ", 6) == 0)
                printf("%.*s\n", (int)(n - 6), p + 6);
            p += n + (p[n] == '\n');
        }
        rc = notes(&answer);
    }
    xd_buf_free(&line);
    xd_buf_free(&answer);
    return rc;
}

/* Appends " var=ROOM" with @domain added to a bare room name. */
static void
append_room(xd_buf *line, const char *var, const char *room, const char *domain)
{
    xd_buf_appendf(line, " %s=", var);
    append_value(line, room);
    if (strchr(room, '@') == NULL)
        xd_buf_appendf(line, "@%s", domain);
}

/* 1 (said) when the line is not one line of at most 1000 bytes. */
static int
line_too_long(const char *cmd, const xd_buf *line)
{
    if (strpbrk(line->data, "\r\n") == NULL && line->len <= 1000)
        return 0;
    fprintf(stderr, "xmppdctl: %s: one line of at most 1000 bytes\n", cmd);
    return 1;
}

int
ctl_cmd_create_room(struct ctl *c, int argc, char **argv)
{
    char domain[1024], as[1024];
    xd_buf line = { 0 }, answer = { 0 }, opts = { 0 };
    const char *room = NULL, *owner = NULL;
    int rc = 0;

    for (int i = 1; i < argc && rc == 0; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            xd_buf_append_str(&opts, " name=");
            append_value(&opts, argv[++i]);
        } else if (strcmp(argv[i], "--members-only") == 0) {
            xd_buf_append_str(&opts, " members-only=1");
        } else if (strcmp(argv[i], "--temporary") == 0) {
            xd_buf_append_str(&opts, " persistent=0");
        } else if (strcmp(argv[i], "--hidden") == 0) {
            xd_buf_append_str(&opts, " public=0");
        } else if (argv[i][0] == '-' || owner != NULL) {
            rc = 2;
        } else if (room == NULL) {
            room = argv[i];
        } else {
            owner = argv[i];
        }
    }
    if (rc == 0 && room == NULL)
        rc = 2;
    if (rc == 0 && muc_target(c, domain, sizeof(domain), as, sizeof(as)) != 0)
        rc = 1;
    if (rc == 0) {
        xd_buf_appendf(&line, "command %s %s %s", as, domain, NODE_CREATE);
        append_room(&line, "room", room, domain);
        if (owner != NULL) {
            xd_buf_append_str(&line, " owner=");
            append_value(&line, owner);
        }
        if (opts.len > 0)
            xd_buf_append(&line, opts.data, opts.len);
        if (line_too_long("create_room", &line))
            rc = 1;
        else if ((rc = run_command(c, &line, &answer)) == 0)
            rc = notes(&answer);
    }
    xd_buf_free(&line);
    xd_buf_free(&answer);
    xd_buf_free(&opts);
    return rc;
}

int
ctl_cmd_destroy_room(struct ctl *c, int argc, char **argv)
{
    char domain[1024], as[1024];
    xd_buf line = { 0 }, answer = { 0 }, reason = { 0 };
    int rc;

    if (argc < 2)
        return 2;
    if (muc_target(c, domain, sizeof(domain), as, sizeof(as)) != 0)
        return 1;
    for (int i = 2; i < argc; i++)
        xd_buf_appendf(&reason, "%s%s", i > 2 ? " " : "", argv[i]);
    xd_buf_appendf(&line, "command %s %s %s", as, domain, NODE_DESTROY);
    append_room(&line, "room", argv[1], domain);
    if (reason.len > 0) {
        xd_buf_append_str(&line, " reason=");
        append_value(&line, reason.data);
    }
    if (line_too_long("destroy_room", &line))
        rc = 1;
    else if ((rc = run_command(c, &line, &answer)) == 0)
        rc = notes(&answer);
    xd_buf_free(&line);
    xd_buf_free(&answer);
    xd_buf_free(&reason);
    return rc;
}
