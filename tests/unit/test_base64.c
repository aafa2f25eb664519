/* Unit tests for base64.c: RFC 4648 section 10 vectors and strictness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/base64.h>
#include <xmppd/common.h>

int
main(void)
{
    static const struct {
        const char *raw, *enc;
    } vectors[] = {
        { "", "" },
        { "f", "Zg==" },
        { "fo", "Zm8=" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
    };
    static const char *const bad[] = { "Zg=",   "Zg",       "Z===", "Zm9v!A==",
                                       "Zm 9v", "Zg==Zg==", "=Zg=" };
    int passed = 0, failed = 0;

    for (size_t i = 0; i < XD_NELEM(vectors); i++) {
        char *e = xd_base64_encode(vectors[i].raw, strlen(vectors[i].raw));
        unsigned char *d = NULL;
        size_t n = 0;
        int ok = strcmp(e, vectors[i].enc) == 0 &&
                 xd_base64_decode(vectors[i].enc, strlen(vectors[i].enc), &d,
                                  &n) == 0 &&
                 n == strlen(vectors[i].raw) &&
                 memcmp(d, vectors[i].raw, n) == 0;
        if (ok) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAIL vector %zu: %s\n", i, vectors[i].raw);
        }
        free(e);
        free(d);
    }
    for (size_t i = 0; i < XD_NELEM(bad); i++) {
        unsigned char *d = NULL;
        size_t n = 0;
        if (xd_base64_decode(bad[i], strlen(bad[i]), &d, &n) == XD_EINVAL &&
            d == NULL) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAIL bad %zu accepted: %s\n", i, bad[i]);
            free(d);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
