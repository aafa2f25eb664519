/*
 * base64.c: RFC 4648 section 4 base64 with strict decoding. Written out
 * rather than taken from OpenSSL: EVP_DecodeBlock skips whitespace, does
 * not report padding and works in int lengths, and each of those would
 * need a check around it.
 */
#include <stdlib.h>
#include <string.h>

#include <xmppd/base64.h>
#include <xmppd/common.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
xd_base64_encode(const void *data, size_t len)
{
    const unsigned char *in = data;
    char *out = xd_xmalloc(4 * ((len + 2) / 3) + 1), *o = out;
    size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16 |
                          (unsigned long)in[i + 1] << 8 | in[i + 2];
        *o++ = alphabet[v >> 18 & 63];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = alphabet[v >> 6 & 63];
        *o++ = alphabet[v & 63];
    }
    if (i < len) {
        unsigned long v = (unsigned long)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned long)in[i + 1] << 8;
        *o++ = alphabet[v >> 18 & 63];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

/* The 6-bit value of an alphabet character, or -1. */
static int
sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict: the length is a multiple of 4, '=' appears only as one or two
 * final pad characters, everything else is in the alphabet, and the bits
 * that padding leaves over are zero (RFC 4648 3.5), so that every byte
 * string has exactly one accepted encoding. */
int
xd_base64_decode(const char *in, size_t inlen, unsigned char **out,
                 size_t *outlen)
{
    size_t pad = 0, n = 0;
    unsigned char *buf;

    if (inlen % 4 != 0)
        return XD_EINVAL;
    if (inlen > 0 && in[inlen - 1] == '=')
        pad = in[inlen - 2] == '=' ? 2 : 1;
    buf = xd_xmalloc(inlen / 4 * 3 + 1);
    for (size_t i = 0; i < inlen; i += 4) {
        int last = i + 4 == inlen;
        int a = sextet(in[i]), b = sextet(in[i + 1]);
        int c = last && pad == 2 ? 0 : sextet(in[i + 2]);
        int d = last && pad >= 1 ? 0 : sextet(in[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0)
            goto fail;
        unsigned long v = (unsigned long)a << 18 | (unsigned long)b << 12 |
                          (unsigned long)c << 6 | (unsigned long)d;
        buf[n++] = (unsigned char)(v >> 16);
        if (last && pad == 2) {
            if ((v & 0xffff) != 0)
                goto fail;
            break;
        }
        buf[n++] = (unsigned char)(v >> 8 & 0xff);
        if (last && pad == 1) {
            if ((v & 0xff) != 0)
                goto fail;
            break;
        }
        buf[n++] = (unsigned char)(v & 0xff);
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;
fail:
    free(buf);
    return XD_EINVAL;
}
