/*
 * log.c: the process's log. Its settings are the one process-wide state in
 * libxmppd: a log line can come from any module, and passing a logger to
 * every function would buy nothing but noise.
 *
 * Messages carry peer text (a stream header's 'to', stanzas at debug
 * level), so every byte that could end a line or drive a terminal is
 * written as an escape: one call is always exactly one line.
 *
 * Every program of the suite writes the same line: a timestamp (ISO 8601,
 * local time with its offset, milliseconds), then "proc[pid] area: level:
 * message". When stderr is the journal, which stamps lines itself, the
 * timestamp is left out and the line starts with sd-daemon(3)'s <N>
 * priority so that `journalctl -p` works.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <xmppd/config.h>
#include <xmppd/log.h>

static struct {
    char procname[32];
    xd_log_level level;
    int use_syslog;
    int to_journal; /* stderr is the journal: no timestamp, <N> prefix */
} logger = { "xmppd", XD_LOG_INFO, 0, 0 };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int
xd_log_level_parse(const char *s, xd_log_level *out)
{
    for (size_t i = 0; i < XD_NELEM(level_names); i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (xd_log_level)i;
            return 0;
        }
    return XD_EINVAL;
}

/* systemd.exec(5): JOURNAL_STREAM is "DEV:INO" of the stream systemd
 * connected; stderr is the journal only while it is still that stream (a
 * redirection in ExecStart or a shell makes it something else). */
static int
stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    char end;

    if (env == NULL || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
        fstat(STDERR_FILENO, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

void
xd_log_init(const char *procname, const struct xd_config *cfg)
{
    const char *level = cfg ? xd_config_get(cfg, "global", "log_level") : NULL;
    const char *target =
        cfg ? xd_config_get(cfg, "global", "log_target") : NULL;

    snprintf(logger.procname, sizeof(logger.procname), "%s", procname);
    if (level != NULL && xd_log_level_parse(level, &logger.level) != 0) {
        fprintf(stderr,
                "%s: [global] log_level: '%s' is not one of error, "
                "warn, info, debug\n",
                procname, level);
        exit(1);
    }
    if (target != NULL && strcmp(target, "syslog") != 0 &&
        strcmp(target, "stderr") != 0) {
        fprintf(stderr,
                "%s: [global] log_target: '%s' is not stderr or "
                "syslog\n",
                procname, target);
        exit(1);
    }
    logger.use_syslog = target != NULL && strcmp(target, "syslog") == 0;
    logger.to_journal = stderr_is_journal();
    if (logger.use_syslog)
        openlog(logger.procname, LOG_PID, LOG_DAEMON);
}

void
xd_log_set_level(xd_log_level level)
{
    logger.level = level;
}

int
xd_log_enabled(xd_log_level level)
{
    return level <= logger.level;
}

/* Appends an escape to out if it fits (with its NUL); its length or 0. */
static size_t
put_escape(char *out, size_t room, const char *fmt, unsigned v)
{
    char e[8];
    int n = snprintf(e, sizeof(e), fmt, v);

    if (n <= 0 || (size_t)n >= room)
        return 0;
    memcpy(out, e, (size_t)n + 1);
    return (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes) and its code
 * point in *cp, or 0 when the bytes there are not UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static size_t
utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    size_t len;
    unsigned min, c = s[0];

    if (c >= 0xc2 && c <= 0xdf)
        len = 2, c &= 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, c &= 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, c &= 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/*
 * Copies in (n bytes) to out (cap bytes, always NUL-terminated) with C0
 * controls and DEL as \n, \r, \t or \xHH, the C1 controls and U+2028 and
 * U+2029 (which some viewers take for line ends) as \uHHHH, and bytes that
 * are not UTF-8 as \xHH. Backslashes are kept as they are: XEP-0106 JIDs
 * are full of them, and a literal "\n" cannot end a line. Stops before
 * what would not fit whole. Returns the length written.
 */
static size_t
escape_line(const char *in, size_t n, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], cp;
        size_t len = c < 0x80 ? 1 : utf8_seq(s + i, n - i, &cp), w;

        if (c < 0x20 || c == 0x7f) {
            const char *named = c == '\n'   ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                            : NULL;
            w = put_escape(out + o, cap - o, named ? named : "\\x%02x", c);
            len = 1;
        } else if (len == 0) {
            w = put_escape(out + o, cap - o, "\\x%02x", c);
            len = 1;
        } else if (len > 1 && ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
                               cp == 0x2029)) {
            w = put_escape(out + o, cap - o, "\\u%04x", cp);
        } else if (o + len < cap) {
            memcpy(out + o, s + i, len);
            out[o + len] = '\0';
            w = len;
        } else {
            w = 0;
        }
        if (w == 0)
            break;
        o += w;
        i += len;
    }
    return o;
}

/* "2026-12-06T21:50:01.123+01:00 " (local time, ISO 8601) into out. */
static void
timestamp(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    char date[32], zone[8];

    clock_gettime(CLOCK_REALTIME, &ts);
    if (localtime_r(&ts.tv_sec, &tm) == NULL ||
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
        strftime(zone, sizeof(zone), "%z", &tm) != 5) {
        out[0] = '\0';
        return;
    }
    /* %z is +hhmm; ISO 8601's extended form (and RFC 3339) is +hh:mm. */
    snprintf(out, size, "%.19s.%03u%.3s:%.2s ", date,
             (unsigned)(ts.tv_nsec / 1000000L) % 1000u, zone, zone + 3);
}

static void
vlog(xd_log_level level, const char *area, int with_errno, const char *fmt,
     va_list ap)
{
    static const int priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
                                      LOG_DEBUG };
    char raw[2048], msg[2048];
    int saved = errno;
    int n = vsnprintf(raw, sizeof(raw), fmt, ap);

    if (n < 0)
        return;
    if (with_errno && (size_t)n < sizeof(raw))
        snprintf(raw + n, sizeof(raw) - (size_t)n, ": %s", strerror(saved));
    escape_line(raw, strlen(raw), msg, sizeof(msg));
    if (logger.use_syslog) {
        syslog(priorities[level], "%s: %s: %s", area, level_names[level], msg);
        return;
    }
    char line[2200], head[48];
    if (logger.to_journal)
        snprintf(head, sizeof(head), "<%d>", priorities[level]);
    else
        timestamp(head, sizeof(head));
    int len =
        snprintf(line, sizeof(line), "%s%s[%d] %s: %s: %s\n", head,
                 logger.procname, (int)getpid(), area, level_names[level], msg);
    if (len > (int)sizeof(line) - 1)
        len = (int)sizeof(line) - 1;
    /* One write per line, so lines of concurrent processes never mix. */
    if (write(STDERR_FILENO, line, (size_t)len) < 0)
        return;
    errno = saved;
}

void
xd_log_write(xd_log_level level, const char *area, int with_errno,
             const char *fmt, ...)
{
    va_list ap;

    if (!xd_log_enabled(level))
        return;
    va_start(ap, fmt);
    vlog(level, area, with_errno, fmt, ap);
    va_end(ap);
}

void
xd_log_fatal(const char *area, int with_errno, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(XD_LOG_ERROR, area, with_errno, fmt, ap);
    va_end(ap);
    exit(1);
}
