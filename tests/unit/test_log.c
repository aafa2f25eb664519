/*
 * Unit tests for log.c: the line format (an ISO 8601 timestamp, or none
 * and a <N> priority prefix when stderr is the journal), level filtering,
 * errno, and the escaping of control characters that would let logged peer
 * text forge lines or drive a terminal.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* True when s starts with "YYYY-MM-DDTHH:MM:SS.mmm+HH:MM " (or -HH:MM). */
static int
is_stamp(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddd+dd:dd ";

    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        char c = s[i];
        int ok = shape[i] == 'd'   ? isdigit((unsigned char)c)
                 : shape[i] == '+' ? c == '+' || c == '-'
                                   : c == shape[i];
        if (!ok)
            return 0;
    }
    return 1;
}

#define STAMP_LEN 30

/* Checks that every line of `out` starts with a timestamp and removes
 * them; 0, or -1 if a line has none. */
static int
strip_stamps(void)
{
    char *r = out, *w = out;

    while (*r != '\0') {
        if (!is_stamp(r))
            return -1;
        r += STAMP_LEN;
        while (*r != '\0' && *r != '\n')
            *w++ = *r++;
        if (*r == '\n')
            *w++ = *r++;
    }
    *w = '\0';
    return 0;
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
        strip_stamps();
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

/*
 * systemd's rule (systemd.exec(5), JOURNAL_STREAM): stderr is the journal
 * when JOURNAL_STREAM holds its device and inode numbers as "DEV:INO".
 * Then lines carry no timestamp (the journal adds its own) and start with
 * the sd-daemon(3) <N> priority; for another stream they are unchanged.
 */
static int
check_journal(const xd_config *cfg)
{
    int bad = 0, saved = -1, fds[2];
    char env[64], want[128];
    struct stat st;

    capture_start(&saved, fds);
    if (fstat(2, &st) != 0)
        return 1;
    snprintf(env, sizeof(env), "%lu:%lu", (unsigned long)st.st_dev,
             (unsigned long)st.st_ino);
    setenv("JOURNAL_STREAM", env, 1);
    xd_log_init("unit", cfg);
    xd_log_warnx("to the journal");
    xd_log_error("bad");
    capture_end(saved, fds);
    snprintf(want, sizeof(want),
             "<4>unit[%d] area: warn: to the journal\n"
             "<3>unit[%d] area: error: bad\n",
             (int)getpid(), (int)getpid());
    if (strcmp(out, want) != 0)
        bad++, fprintf(stderr, "FAIL journal:\n%s\nwant:\n%s", out, want);

    /* Another stream (stderr redirected after systemd started us). */
    capture_start(&saved, fds);
    xd_log_init("unit", cfg);
    xd_log_warnx("to a file");
    capture_end(saved, fds);
    snprintf(want, sizeof(want), "unit[%d] area: warn: to a file\n",
             (int)getpid());
    if (strip_stamps() != 0 || strcmp(out, want) != 0)
        bad++, fprintf(stderr, "FAIL not the journal:\n%s", out);
    unsetenv("JOURNAL_STREAM");
    xd_log_init("unit", cfg);
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
    if (strip_stamps() == 0)
        passed++;
    else
        failed++, fprintf(stderr, "FAIL no timestamp:\n%s", out);
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
    failed += check_journal(cfg);
    passed++;
    xd_config_free(cfg);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
