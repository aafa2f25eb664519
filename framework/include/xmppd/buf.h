/*
 * buf.h: a growable byte buffer, the output side of the serialiser.
 * The struct is public so the hot path can read data/len without calls.
 */
#ifndef XMPPD_BUF_H
#define XMPPD_BUF_H

#include <stddef.h>
#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xd_buf {
    char *data; /* NUL-terminated whenever len < cap; owned by the buffer */
    size_t len;
    size_t cap;
} xd_buf;

#define XD_BUF_INIT                                                            \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Append len bytes of data, a NUL-terminated string, or printf output; the
 * buffer grows as needed (out of memory is fatal). */
void xd_buf_append(xd_buf *b, const void *data, size_t len);
void xd_buf_append_str(xd_buf *b, const char *s);
void xd_buf_appendf(xd_buf *b, const char *fmt, ...) XD_PRINTF(2, 3);
/*
 * Appends s escaped as XML character data (& < > as &amp; &lt; &gt;, CR as
 * &#13; so that it survives line-end normalisation). Bytes XML 1.0 cannot
 * carry (C0 controls other than tab, LF and CR, malformed UTF-8, U+FFFE and
 * U+FFFF) become U+FFFD, so the output always parses.
 */
void xd_buf_append_text(xd_buf *b, const char *s, size_t len);
/* Appends s escaped for a single- or double-quoted attribute value: as
 * text, plus ' " as &apos; &quot; and tab and LF as &#9; &#10;. */
void xd_buf_append_attr(xd_buf *b, const char *s, size_t len);
/* Empties the buffer, keeping its memory. */
void xd_buf_reset(xd_buf *b);
/* Gives the caller the malloc()ed, NUL-terminated contents (never NULL) and
 * leaves b empty. */
char *xd_buf_steal(xd_buf *b);
/* Frees the memory; b is empty and reusable afterwards. */
void xd_buf_free(xd_buf *b);

#ifdef __cplusplus
}
#endif
#endif
