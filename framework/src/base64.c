/*
 * base64.c: RFC 4648 base64 with strict decoding.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <xmppd/base64.h>
#include <xmppd/common.h>

char *
xd_base64_encode(const void *data, size_t len)
{
    char *out = xd_xmalloc(4 * ((len + 2) / 3) + 1);

    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

static int
is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int
xd_base64_decode(const char *in, size_t inlen, unsigned char **out,
                 size_t *outlen)
{
    size_t pad = 0;

    if (inlen % 4 != 0)
        return XD_EINVAL;
    if (inlen > 0 && in[inlen - 1] == '=')
        pad = inlen > 1 && in[inlen - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < inlen - pad; i++)
        if (!is_b64(in[i]))
            return XD_EINVAL;
    unsigned char *buf = xd_xmalloc(inlen / 4 * 3 + 1);
    int n =
        inlen ? EVP_DecodeBlock(buf, (const unsigned char *)in, (int)inlen) : 0;
    if (n < 0 || (size_t)n < pad) {
        free(buf);
        return XD_EINVAL;
    }
    *outlen = (size_t)n - pad;
    buf[*outlen] = '\0';
    *out = buf;
    return 0;
}
