/*
 * remote.c: xmppdctl's commands that ask the running xmppd, over its
 * control socket (control.c): one line out, the answer printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xmppd/buf.h>

#include "ctl.h"
#include "remote.h"

/* Connects to the control socket: the descriptor, or -1 with errno set
 * (EINVAL: no usable path). */
static int
dial(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd;

    if (path == NULL || *path == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int
ctl_remote_query(const char *path, const char *line, xd_buf *out)
{
    char buf[4096];
    ssize_t n;
    int fd = dial(path);

    if (fd < 0)
        return errno == ENOENT || errno == ECONNREFUSED || errno == EINVAL
                   ? CTL_REMOTE_DOWN
                   : CTL_REMOTE_ERROR;
    if (dprintf(fd, "%s\n", line) < 0) {
        close(fd);
        return CTL_REMOTE_ERROR;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        xd_buf_append(out, buf, (size_t)n);
    close(fd);
    if (out->len >= 3 && memcmp(out->data, "ok\n", 3) == 0)
        return CTL_REMOTE_OK;
    return CTL_REMOTE_ERROR;
}

static int
remote(const char *path, const char *line, int quiet_if_down)
{
    xd_buf out = { 0 };
    int rc = ctl_remote_query(path, line, &out);

    if (rc == CTL_REMOTE_DOWN && quiet_if_down) {
        xd_buf_free(&out);
        return 0; /* no xmppd: no session to tell */
    }
    if (rc == CTL_REMOTE_DOWN && (path == NULL || *path == '\0'))
        fprintf(stderr, "xmppdctl: no usable control_socket in [xmppd]\n");
    else if (rc == CTL_REMOTE_DOWN || (rc == CTL_REMOTE_ERROR && !out.len))
        fprintf(stderr, "xmppdctl: cannot reach xmppd at %s: %s\n", path,
                rc == CTL_REMOTE_DOWN ? "it does not run" : "no answer");
    else if (rc == CTL_REMOTE_ERROR)
        fprintf(stderr, "xmppdctl: %.*s", (int)out.len, out.data);
    else
        fwrite(out.data + 3, 1, out.len - 3, stdout);
    xd_buf_free(&out);
    return rc == CTL_REMOTE_OK ? 0 : 1;
}

int
ctl_remote(const char *path, const char *line)
{
    return remote(path, line, 0);
}

int
ctl_remote_if_running(const char *path, const char *line)
{
    return remote(path, line, 1);
}

/* sessions, kick JID, stats: the command and its argument, as they are. */
int
ctl_cmd_remote(struct ctl *c, int argc, char **argv)
{
    char line[1024];
    int wants_arg = strcmp(argv[0], "kick") == 0;

    if (argc != (wants_arg ? 2 : 1))
        return 2;
    snprintf(line, sizeof(line), "%s%s%s", argv[0], wants_arg ? " " : "",
             wants_arg ? argv[1] : "");
    return ctl_remote(c->conf.control_socket, line);
}

int
ctl_cmd_reload(struct ctl *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return 2;
    if (ctl_remote(c->conf.control_socket, "reload") != 0)
        return 1;
    printf("xmppd reloaded its configuration\n");
    return 0;
}
