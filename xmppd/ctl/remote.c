/*
 * remote.c: xmppdctl's commands that ask the running xmppd, over its
 * control socket (control.c): one line out, the answer printed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "remote.h"

static int
remote(const char *path, const char *line, int quiet_if_down)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    char buf[4096];
    int fd, first = 1, ok = 0;
    ssize_t n;

    if (quiet_if_down && (path == NULL || *path == '\0'))
        return 0;
    if (path == NULL || *path == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "xmppdctl: no usable control_socket in [xmppd]\n");
        return 1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        if (quiet_if_down && (errno == ENOENT || errno == ECONNREFUSED)) {
            if (fd >= 0)
                close(fd);
            return 0; /* no xmppd: no session to tell */
        }
        fprintf(stderr, "xmppdctl: cannot reach xmppd at %s: %s\n", path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    if (dprintf(fd, "%s\n", line) < 0) {
        close(fd);
        return 1;
    }
    /* "ok" or "error: ..." first, then the answer's lines. */
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        const char *p = buf;
        size_t len = (size_t)n;
        if (first) {
            const char *nl = memchr(buf, '\n', len);
            size_t status = nl ? (size_t)(nl - buf) + 1 : len;
            ok = status >= 3 && strncmp(buf, "ok\n", 3) == 0;
            if (!ok)
                fprintf(stderr, "xmppdctl: %.*s", (int)status, buf);
            p += status;
            len -= status;
            first = 0;
        }
        fwrite(p, 1, len, stdout);
    }
    close(fd);
    return ok ? 0 : 1;
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
