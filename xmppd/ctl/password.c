/*
 * password.c: reading a new password for xmppdctl adduser and passwd. A
 * person at a terminal is prompted, the typing is not echoed and the
 * password is asked for twice (a typo would otherwise set a password nobody
 * knows); a script pipes one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <xmppd/common.h>

#include "password.h"

#define PASSWORD_MAX 1024

/* One line of f into buf without its end of line; 0, or -1 at EOF. */
static int
read_line(FILE *f, char *buf, size_t size)
{
    if (fgets(buf, (int)size, f) == NULL)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

/* Prompts on the terminal `tty` and reads a line with echo off. */
static int
ask(FILE *tty, const char *prompt, char *buf, size_t size)
{
    struct termios old, quiet;
    int fd = fileno(tty), restore = 0, rc;

    /* Echo goes off before the prompt: what is typed once the prompt
     * shows must never appear. */
    if (tcgetattr(fd, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        restore = tcsetattr(fd, TCSANOW, &quiet) == 0;
    }
    fputs(prompt, tty);
    fflush(tty);
    rc = read_line(tty, buf, size);
    if (restore)
        tcsetattr(fd, TCSANOW, &old);
    return rc;
}

int
ctl_password_read(const char *jid, char **out)
{
    char first[PASSWORD_MAX], again[PASSWORD_MAX], prompt[1200];
    int rc = XD_EINVAL;

    if (!isatty(STDIN_FILENO)) {
        if (read_line(stdin, first, sizeof(first)) != 0) {
            fprintf(stderr, "xmppdctl: no password on stdin\n");
            return XD_EINVAL;
        }
        *out = xd_xstrdup(first);
        explicit_bzero(first, sizeof(first));
        return 0;
    }
    FILE *tty = fopen("/dev/tty", "r+");
    if (tty == NULL)
        tty = fdopen(dup(STDIN_FILENO), "r+");
    if (tty == NULL) {
        fprintf(stderr, "xmppdctl: cannot open the terminal\n");
        return XD_EINVAL;
    }
    snprintf(prompt, sizeof(prompt), "New password for %s: ", jid);
    if (ask(tty, prompt, first, sizeof(first)) != 0 ||
        ask(tty, "Again: ", again, sizeof(again)) != 0)
        fprintf(stderr, "xmppdctl: no password given\n");
    else if (strcmp(first, again) != 0)
        fprintf(stderr, "xmppdctl: the two passwords differ; nothing "
                        "changed\n");
    else {
        *out = xd_xstrdup(first);
        rc = 0;
    }
    explicit_bzero(first, sizeof(first));
    explicit_bzero(again, sizeof(again));
    fclose(tty);
    return rc;
}
