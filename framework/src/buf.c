/*
 * buf.c: growable byte buffers and XML escaping into them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/buf.h>

static void
reserve(xd_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;

    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = xd_xrealloc(b->data, cap);
    b->cap = cap;
}

void
xd_buf_append(xd_buf *b, const void *data, size_t len)
{
    reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void
xd_buf_append_str(xd_buf *b, const char *s)
{
    xd_buf_append(b, s, strlen(s));
}

void
xd_buf_appendf(xd_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Appends s with the characters in `special` replaced by entities. The
 * common case (nothing to escape) is one memcpy per run. */
static void
append_escaped(xd_buf *b, const char *s, size_t len, int attr)
{
    size_t run = 0;

    reserve(b, len);
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        case '\'':
            rep = attr ? "&apos;" : NULL;
            break;
        case '"':
            rep = attr ? "&quot;" : NULL;
            break;
        case '\t':
            rep = attr ? "&#9;" : NULL;
            break;
        case '\n':
            rep = attr ? "&#10;" : NULL;
            break;
        default:
            rep = NULL;
        }
        if (rep == NULL)
            continue;
        xd_buf_append(b, s + run, i - run);
        xd_buf_append_str(b, rep);
        run = i + 1;
    }
    xd_buf_append(b, s + run, len - run);
}

void
xd_buf_append_text(xd_buf *b, const char *s, size_t len)
{
    append_escaped(b, s, len, 0);
}

void
xd_buf_append_attr(xd_buf *b, const char *s, size_t len)
{
    append_escaped(b, s, len, 1);
}

void
xd_buf_reset(xd_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *
xd_buf_steal(xd_buf *b)
{
    char *s = b->data ? b->data : xd_xstrdup("");

    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void
xd_buf_free(xd_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
