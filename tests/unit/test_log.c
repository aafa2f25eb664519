/*
 * Unit tests for log.c: the line format, level filtering, errno, and the
 * escaping of control characters that would let logged peer text forge
 * lines or drive a terminal.
 */
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

/* What one warnx of "[%s]" with `in` writes after "unit[pid] area: warn: ". */
static const struct {
    const char *in, *want;
} escapes[] = {
    { "plain text", "[plain text]" },
    { "a\nunit[1] area: info: forged", "[a\\nunit[1] area: info: forged]" },
    { "cr\r lf\n tab\t", "[cr\\r lf\\n tab\\t]" },
    { "esc\x1b[31m bell\a nul-less\x01",
      "[esc\\x1b[31m bell\\x07 nul-less\\x01]" },
    { "del\x7f", "[del\\x7f]" },
    /* C1 controls (U+009B is CSI) and the Unicode line separators. */
    { "csi\xc2\x9b"
      "2J nel\xc2\x85",
      "[csi\\u009b2J nel\\u0085]" },
    { "ls\xe2\x80\xa8 ps\xe2\x80\xa9", "[ls\\u2028 ps\\u2029]" },
    /* Valid UTF-8 is kept; a stray byte is shown as an escape. */
    { "caf\xc3\xa9 \xe6\x97\xa5", "[caf\xc3\xa9 \xe6\x97\xa5]" },
    { "bad\xff\xc3(", "[bad\\xff\\xc3(]" },
    { "back\\slash", "[back\\slash]" },
};

static int
check_escapes(void)
{
    int bad = 0, saved = -1, fds[2];
    char want[512];

    for (size_t i = 0; i < XD_NELEM(escapes); i++) {
        capture_start(&saved, fds);
        xd_log_warnx("[%s]", escapes[i].in);
        capture_end(saved, fds);
        snprintf(want, sizeof(want), "unit[%d] area: warn: %s\n", (int)getpid(),
                 escapes[i].want);
        if (strcmp(out, want) != 0) {
            fprintf(stderr, "FAIL escape case %zu:\n%s\nwant:\n%s", i, out,
                    want);
            bad++;
        }
    }
    /* A message made only of control characters still makes one line. */
    static char ctl[3000];
    memset(ctl, '\n', sizeof(ctl) - 1);
    capture_start(&saved, fds);
    xd_log_warnx("%s", ctl);
    capture_end(saved, fds);
    char *nl = strchr(out, '\n');
    if (nl == NULL || nl[1] != '\0' || strncmp(nl - 2, "\\n", 2) != 0) {
        fprintf(stderr, "FAIL a long message is not one line: %.80s...\n", out);
        bad++;
    }
    return bad;
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
    if (check_escapes() == 0)
        passed++;
    else
        failed++;
    xd_config_free(cfg);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
