/*
 * buf.c: growable byte buffers, and XML escaping into them. The escapers
 * copy runs of ordinary bytes with one memcpy and look each byte up in a
 * table, so plain ASCII text costs little more than a copy.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/buf.h>

#define BUF_MIN 256

static void
reserve(xd_buf *b, size_t extra)
{
    if (extra >= SIZE_MAX / 2 - b->len)
        xd_xmalloc(SIZE_MAX); /* fatal, like any other out of memory */
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : BUF_MIN;
    while (cap < need)
        cap *= 2;
    b->data = xd_xrealloc(b->data, cap);
    b->cap = cap;
}

void
xd_buf_append(xd_buf *b, const void *data, size_t len)
{
    reserve(b, len);
    if (len > 0)
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

    /* Most calls fit in the room already there: format once. */
    reserve(b, 0);
    size_t room = b->cap - b->len;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

/* What a byte needs in text (T) and in attribute values (A). */
enum {
    K_PLAIN = 0,
    K_AMP,
    K_LT,
    K_GT,
    K_QUOT, /* attributes only */
    K_APOS, /* attributes only */
    K_TAB,  /* attributes only */
    K_LF,   /* attributes only */
    K_CR,
    K_BAD,  /* a C0 control XML 1.0 does not allow: replaced */
    K_HIGH, /* first byte of a UTF-8 sequence: checked */
};

static const struct {
    const char *s;
    size_t len;
} rep[] = {
    [K_AMP] = { "&amp;", 5 },        [K_LT] = { "&lt;", 4 },
    [K_GT] = { "&gt;", 4 },          [K_QUOT] = { "&quot;", 6 },
    [K_APOS] = { "&apos;", 6 },      [K_TAB] = { "&#9;", 4 },
    [K_LF] = { "&#10;", 5 },         [K_CR] = { "&#13;", 5 },
    [K_BAD] = { "\xEF\xBF\xBD", 3 }, /* U+FFFD REPLACEMENT CHARACTER */
};

#define B_    K_BAD
#define H_    K_HIGH
#define R8(k) k, k, k, k, k, k, k, k
#define HIGH_HALF                                                              \
    [0x80] = R8(H_), R8(H_), R8(H_), R8(H_), R8(H_), R8(H_), R8(H_), R8(H_),   \
    R8(H_), R8(H_), R8(H_), R8(H_), R8(H_), R8(H_), R8(H_), R8(H_)

/* clang-format off */
static const unsigned char kind_text[256] = {
    B_, B_, B_, B_, B_, B_, B_, B_, B_, K_PLAIN, K_PLAIN, B_, B_, K_CR, B_, B_,
    R8(B_), R8(B_),
    ['&'] = K_AMP, ['<'] = K_LT, ['>'] = K_GT,
    HIGH_HALF,
};

static const unsigned char kind_attr[256] = {
    B_, B_, B_, B_, B_, B_, B_, B_, B_, K_TAB, K_LF, B_, B_, K_CR, B_, B_,
    R8(B_), R8(B_),
    ['"'] = K_QUOT, ['&'] = K_AMP, ['\''] = K_APOS, ['<'] = K_LT,
    ['>'] = K_GT,
    HIGH_HALF,
};
/* clang-format on */

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629) at s that XML 1.0
 * allows (not U+FFFE or U+FFFF), or 0.
 */
static size_t
utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0; /* overlong */
    else if (c == 0xED)
        hi = 0x9F; /* surrogates */
    else if (c == 0xF0)
        lo = 0x90; /* overlong */
    else if (c == 0xF4)
        hi = 0x8F; /* over U+10FFFF */
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    if (c == 0xEF && s[1] == 0xBF && s[2] >= 0xBE)
        return 0; /* U+FFFE, U+FFFF */
    return n;
}

static void
append_escaped(xd_buf *b, const char *str, size_t len,
               const unsigned char *kind)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0, i = 0;

    reserve(b, len);
    while (i < len) {
        unsigned k = kind[s[i]];
        if (k == K_PLAIN) {
            i++;
            continue;
        }
        size_t skip = 1;
        if (k == K_HIGH) {
            skip = utf8_len(s + i, len - i);
            if (skip > 0) {
                i += skip;
                continue;
            }
            skip = 1;
            k = K_BAD;
        }
        xd_buf_append(b, s + run, i - run);
        xd_buf_append(b, rep[k].s, rep[k].len);
        i += skip;
        run = i;
    }
    xd_buf_append(b, s + run, len - run);
}

void
xd_buf_append_text(xd_buf *b, const char *s, size_t len)
{
    append_escaped(b, s, len, kind_text);
}

void
xd_buf_append_attr(xd_buf *b, const char *s, size_t len)
{
    append_escaped(b, s, len, kind_attr);
}

void
xd_buf_reset(xd_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
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
