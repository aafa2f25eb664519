/*
 * log.h: logging for every xmppd process.
 *
 * `xd_log_init` once in main; each .c file defines XD_LOG_AREA before
 * including this header. Lines look like
 *     2026-12-06T21:53:37.454+01:00 xmppd-muc[812] room: warn: rename
 *     rooms.db: No space left on device
 * (one line; an ISO 8601 local timestamp). When stderr is the journal
 * (JOURNAL_STREAM names its device and inode), the timestamp is left out
 * and the line starts with the sd-daemon(3) priority, e.g. "<4>".
 * `_warn` appends strerror(errno), `_warnx` does not. `info` is for operators
 * (start, stop, link up/down); stanza contents appear only at debug.
 * Messages may hold peer text: control characters, C1 controls, U+2028/9
 * and bytes that are not UTF-8 are written as \n, \xHH or \uHHHH
 * escapes, so one call is always one line that no peer can forge.
 * The logger's settings are the one piece of process-wide state in libxmppd.
 */
#ifndef XMPPD_LOG_H
#define XMPPD_LOG_H

#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef XD_LOG_AREA
#define XD_LOG_AREA "main"
#endif

typedef enum xd_log_level {
    XD_LOG_ERROR = 0,
    XD_LOG_WARN,
    XD_LOG_INFO,
    XD_LOG_DEBUG,
} xd_log_level;

struct xd_config;
/* Sets the process name and reads [global] log_level (error, warn, info,
 * debug; default info) and log_target (stderr or syslog; default stderr)
 * from cfg, which may be NULL; checks whether stderr is the journal. Exits
 * 1 with a message on a bad value. */
void xd_log_init(const char *procname, const struct xd_config *cfg);
/* Changes the level at run time (e.g. from a control command). */
void xd_log_set_level(xd_log_level level);
/* True when a message of that level would be written (to skip costly
 * formatting). */
int xd_log_enabled(xd_log_level level);
/* Parses "error"/"warn"/"info"/"debug"; 0 or XD_EINVAL. */
int xd_log_level_parse(const char *s, xd_log_level *out);

/* What the macros below call: writes one line of `level` for `area`,
 * with strerror(errno) appended when with_errno; xd_log_fatal then exits 1.
 * Use the macros, which pass XD_LOG_AREA. */
void xd_log_write(xd_log_level level, const char *area, int with_errno,
                  const char *fmt, ...) XD_PRINTF(4, 5);
void xd_log_fatal(const char *area, int with_errno, const char *fmt, ...)
    XD_PRINTF(3, 4) XD_NORETURN;

#define xd_log_error(...)                                                      \
    xd_log_write(XD_LOG_ERROR, XD_LOG_AREA, 0, __VA_ARGS__)
#define xd_log_warn(...)  xd_log_write(XD_LOG_WARN, XD_LOG_AREA, 1, __VA_ARGS__)
#define xd_log_warnx(...) xd_log_write(XD_LOG_WARN, XD_LOG_AREA, 0, __VA_ARGS__)
#define xd_log_info(...)  xd_log_write(XD_LOG_INFO, XD_LOG_AREA, 0, __VA_ARGS__)
#define xd_log_debug(...)                                                      \
    do {                                                                       \
        if (xd_log_enabled(XD_LOG_DEBUG))                                      \
            xd_log_write(XD_LOG_DEBUG, XD_LOG_AREA, 0, __VA_ARGS__);           \
    } while (0)
/* Log and exit(1). */
#define xd_fatal(...)  xd_log_fatal(XD_LOG_AREA, 1, __VA_ARGS__)
#define xd_fatalx(...) xd_log_fatal(XD_LOG_AREA, 0, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
