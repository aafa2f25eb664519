/* Unit tests for log.c: the line format, level filtering, errno. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define XD_LOG_AREA "area"
#include <xmppd/config.h>
#include <xmppd/log.h>

static char out[4096];

static void
capture_start(int *saved, int fds[2])
{
    fflush(stderr);
    if (pipe(fds) != 0)
        return;
    *saved = dup(2);
    dup2(fds[1], 2);
}

static void
capture_end(int saved, int fds[2])
{
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    ssize_t n = read(fds[0], out, sizeof(out) - 1);
    out[n > 0 ? n : 0] = '\0';
    close(fds[0]);
}

int
main(void)
{
    int passed = 0, failed = 0, saved = -1, fds[2];
    xd_config *cfg = NULL;
    char want[128];

    xd_config_load_string("[global]\nlog_level = warn\n", "t.ini", &cfg);
    xd_log_init("unit", cfg);
    capture_start(&saved, fds);
    xd_log_info("not shown");
    xd_log_warnx("shown %d", 42);
    errno = ENOENT;
    xd_log_warn("open %s", "x");
    xd_log_debug("not shown either");
    capture_end(saved, fds);
    snprintf(want, sizeof(want),
             "unit[%d] area: warn: shown 42\nunit[%d] area: warn: open x: "
             "No such file or directory\n",
             (int)getpid(), (int)getpid());
    if (strcmp(out, want) == 0)
        passed++;
    else
        failed++, fprintf(stderr, "FAIL format:\n%s\nwant:\n%s", out, want);
    if (!xd_log_enabled(XD_LOG_INFO) && xd_log_enabled(XD_LOG_ERROR))
        passed++;
    else
        failed++, fprintf(stderr, "FAIL levels\n");
    xd_log_level lvl;
    if (xd_log_level_parse("debug", &lvl) == 0 && lvl == XD_LOG_DEBUG &&
        xd_log_level_parse("loud", &lvl) == XD_EINVAL)
        passed++;
    else
        failed++, fprintf(stderr, "FAIL level names\n");
    xd_config_free(cfg);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
