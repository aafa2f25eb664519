/*
 * common.h: status codes, allocation wrappers and small shared types used by
 * every libxmppd module.
 */
#ifndef XMPPD_COMMON_H
#define XMPPD_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. Fallible functions return 0 or one of these (negative). */
#define XD_OK        0
#define XD_EINVAL    (-1) /* malformed or out-of-range input */
#define XD_EIO       (-2) /* I/O or storage failure */
#define XD_EPROTO    (-3) /* peer violated the protocol */
#define XD_ELIMIT    (-4) /* a configured limit was exceeded */
#define XD_ENOTFOUND (-5) /* no such account, key, handler, ... */
#define XD_EEXIST    (-6) /* already exists / already bound */
#define XD_EAUTH     (-7) /* authentication failed */
#define XD_EAGAIN    (-8) /* not now: buffer full, link down, ... */
#define XD_ESTATE    (-9) /* call not valid in the object's current state */

#define XD_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define XD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define XD_NORETURN     __attribute__((noreturn))
#define XD_UNUSED       __attribute__((unused))
#else
#define XD_PRINTF(f, a)
#define XD_NORETURN
#define XD_UNUSED
#endif

/* What a handler did with a stanza: handled it, or passed it on. */
typedef enum xd_verdict { XD_PASS = 0, XD_HANDLED = 1 } xd_verdict;

/* Returns a static, human-readable name for a status code. Never NULL. */
const char *xd_strerror(int rc);

/*
 * Allocation. Out of memory is fatal (logged, then abort()), never returned,
 * so these never return NULL. The caller owns and free()s the result.
 */
void *xd_xmalloc(size_t n);
void *xd_xcalloc(size_t nmemb, size_t size);
void *xd_xrealloc(void *p, size_t n);
char *xd_xstrdup(const char *s);            /* NULL in, NULL out */
char *xd_xstrndup(const char *s, size_t n); /* copies at most n bytes + NUL */
char *xd_xasprintf(const char *fmt, ...) XD_PRINTF(1, 2);

/* Constant-time comparison of n bytes: 0 when equal. For secrets. */
int xd_memeq_ct(const void *a, const void *b, size_t n);

/* Fills buf with n cryptographically random bytes (OpenSSL). 0 or XD_EIO. */
int xd_random_bytes(void *buf, size_t n);

/* Writes a random identifier of `len` chars [A-Za-z0-9] plus NUL to out
 * (which must hold len + 1 bytes). Used for stream ids, resources, iq ids. */
void xd_random_id(char *out, size_t len);

#ifdef __cplusplus
}
#endif
#endif
