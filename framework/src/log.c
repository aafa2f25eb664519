/*
 * log.c: the process's log. Its settings are the one process-wide state in
 * libxmppd: a log line can come from any module, and passing a logger to
 * every function would buy nothing but noise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <xmppd/config.h>
#include <xmppd/log.h>

static struct {
    char procname[32];
    xd_log_level level;
    int use_syslog;
} logger = { "xmppd", XD_LOG_INFO, 0 };

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

static void
vlog(xd_log_level level, const char *area, int with_errno, const char *fmt,
     va_list ap)
{
    static const int priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
                                      LOG_DEBUG };
    char msg[2048];
    int saved = errno;
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);

    if (n < 0)
        return;
    if (with_errno && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(saved));
    if (logger.use_syslog) {
        syslog(priorities[level], "%s: %s: %s", area, level_names[level], msg);
        return;
    }
    char line[2200];
    int len =
        snprintf(line, sizeof(line), "%s[%d] %s: %s: %s\n", logger.procname,
                 (int)getpid(), area, level_names[level], msg);
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
