/*
 * Unit tests for base64.c: the RFC 4648 section 10 vectors, every length
 * and byte value round-tripping, and strictness against malformed input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/base64.h>
#include <xmppd/common.h>

#include "check.h"

#define V(raw, enc)                                                            \
    {                                                                          \
        raw, sizeof(raw) - 1, enc                                              \
    }

static const struct {
    const char *raw;
    size_t len;
    const char *enc;
} vectors[] = {
    /* RFC 4648 section 10. */
    V("", ""),
    V("f", "Zg=="),
    V("fo", "Zm8="),
    V("foo", "Zm9v"),
    V("foob", "Zm9vYg=="),
    V("fooba", "Zm9vYmE="),
    V("foobar", "Zm9vYmFy"),
    /* The last two characters of the alphabet, and zero bytes. */
    V("\xfb\xff\xbf", "+/+/"),
    V("\xff\xff\xff", "////"),
    V("\x00\x00\x00", "AAAA"),
    V("\x00", "AA=="),
};

/* Each of these must be refused. */
static const char *const malformed[] = {
    "Zg=",                  /* length not a multiple of 4 */
    "Zg",                   /* padding missing */
    "Z===",                 /* three pad characters */
    "====",                 /* nothing but padding */
    "=Zg=",                 /* padding first */
    "Zg==Zg==",             /* padding in the middle */
    "Zm9v!A==",             /* not in the alphabet */
    "Zm 9v",                /* whitespace */
    "Zm9v\n",               /* a trailing newline */
    " Zm9v",                /* leading whitespace */
    "Zm9v\r\nYmFy", "Zm-_", /* base64url, not base64 */
    "Zh==",                 /* non-zero pad bits (RFC 4648 3.5) */
    "Zm9=",                 /* non-zero pad bits, one pad character */
    "Zg=a",                 /* data after a pad character */
    "Z=g=",         "\xc3\xa9\x41\x41", /* non-ASCII */
};

int
main(void)
{
    for (size_t i = 0; i < XD_NELEM(vectors); i++) {
        size_t rl = vectors[i].len;
        char *e = xd_base64_encode(vectors[i].raw, rl);
        unsigned char *d = NULL;
        size_t n = 0;
        CHECK(strcmp(e, vectors[i].enc) == 0, "encode vector %zu: %s", i, e);
        CHECK(xd_base64_decode(vectors[i].enc, strlen(vectors[i].enc), &d,
                               &n) == 0 &&
                  n == rl && memcmp(d, vectors[i].raw, n) == 0 && d[n] == '\0',
              "decode vector %zu: %s", i, vectors[i].enc);
        free(e);
        free(d);
    }

    for (size_t i = 0; i < XD_NELEM(malformed); i++) {
        unsigned char *d = NULL;
        size_t n = 12345;
        CHECK(xd_base64_decode(malformed[i], strlen(malformed[i]), &d, &n) ==
                      XD_EINVAL &&
                  d == NULL && n == 12345,
              "malformed case %zu accepted: %s", i, malformed[i]);
        free(d);
    }

    /* A NUL inside the given length is junk too. */
    unsigned char *d = NULL;
    size_t n = 0;
    CHECK(xd_base64_decode("Zm9\0", 4, &d, &n) == XD_EINVAL && d == NULL,
          "NUL inside the input");
    /* Only inlen bytes are read: a valid prefix of a longer string. */
    CHECK(xd_base64_decode("Zm9vYmFy", 4, &d, &n) == 0 && n == 3 &&
              memcmp(d, "foo", 3) == 0,
          "decode a prefix");
    free(d);

    /* Every length from 0 to 300 over every byte value round-trips, and
     * the encoded length is 4 * ceil(len / 3). */
    unsigned char raw[300];
    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (unsigned char)(i * 7 + 3);
    int round_trips = 1;
    for (size_t len = 0; len <= sizeof(raw); len++) {
        char *e = xd_base64_encode(raw, len);
        d = NULL;
        if (strlen(e) != 4 * ((len + 2) / 3) ||
            xd_base64_decode(e, strlen(e), &d, &n) != 0 || n != len ||
            memcmp(d, raw, len) != 0) {
            round_trips = 0;
            fprintf(stderr, "round trip of %zu bytes: %s\n", len, e);
        }
        free(e);
        free(d);
    }
    CHECK(round_trips, "round trips");

    return check_report();
}
