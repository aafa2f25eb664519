/*
 * mem.c: allocation wrappers (out of memory is fatal), constant-time
 * comparison and random identifiers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <xmppd/common.h>

static void XD_NORETURN
out_of_memory(size_t n)
{
    /* No logging machinery here: it may itself need memory. */
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *
xd_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        out_of_memory(n);
    return p;
}

void *
xd_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

    if (p == NULL)
        out_of_memory(nmemb * size);
    return p;
}

void *
xd_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        out_of_memory(n);
    return q;
}

char *
xd_xstrdup(const char *s)
{
    return s == NULL ? NULL : xd_xstrndup(s, strlen(s));
}

char *
xd_xstrndup(const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    size_t len = strnlen(s, n);
    char *d = xd_xmalloc(len + 1);

    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *
xd_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        out_of_memory(0);
    return s;
}

int
xd_memeq_ct(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0 ? 0 : 1;
}

int
xd_random_bytes(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : XD_EIO;
}

void
xd_random_id(char *out, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char raw[64];

    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(raw) ? len - done : sizeof(raw);
        if (xd_random_bytes(raw, n) != 0) {
            fprintf(stderr, "fatal: no randomness\n");
            abort();
        }
        /* 62 does not divide 256; the slight bias is harmless for ids. */
        for (size_t i = 0; i < n; i++)
            out[done + i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
        done += n;
    }
    out[len] = '\0';
}

const char *
xd_strerror(int rc)
{
    switch (rc) {
    case XD_OK:
        return "ok";
    case XD_EINVAL:
        return "invalid input";
    case XD_EIO:
        return "I/O error";
    case XD_EPROTO:
        return "protocol error";
    case XD_ELIMIT:
        return "limit exceeded";
    case XD_ENOTFOUND:
        return "not found";
    case XD_EEXIST:
        return "already exists";
    case XD_EAUTH:
        return "authentication failed";
    case XD_EAGAIN:
        return "try again";
    case XD_ESTATE:
        return "invalid state";
    default:
        return "unknown error";
    }
}
