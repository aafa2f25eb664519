/*
 * send.c: xmppdctl send TO MESSAGE...: the running xmppd routes a chat
 * message from the host to TO (stored offline like any other when TO is
 * an account that is not online), or, when TO is a served host, a headline
 * to every session of that host (as ejabberdctl send_message and
 * prosodyctl's announcements do).
 */
#include <stdio.h>
#include <string.h>

#include <xmppd/buf.h>

#include "ctl.h"
#include "remote.h"

int
ctl_cmd_send(struct ctl *c, int argc, char **argv)
{
    xd_buf line = { 0 };
    int rc;

    if (argc < 3)
        return 2;
    xd_buf_appendf(&line, "send %s", argv[1]);
    for (int i = 2; i < argc; i++)
        xd_buf_appendf(&line, " %s", argv[i]);
    /* The control protocol is one line: a message of several lines would
     * end it early. */
    if (strpbrk(line.data, "\r\n") != NULL || line.len > 1000) {
        fprintf(stderr, "xmppdctl: send: the message must be one line of "
                        "at most 1000 bytes\n");
        xd_buf_free(&line);
        return 1;
    }
    rc = ctl_remote(c->conf.control_socket, line.data);
    xd_buf_free(&line);
    return rc;
}
