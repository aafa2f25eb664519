/*
 * password_policy.c: the minimum length of a new password. Length counts
 * characters, not bytes, so that a password in any script meets the same
 * bound.
 */
#include <xmppd/common.h>

#include "password_policy.h"

size_t
password_length(const char *s)
{
    size_t n = 0;

    /* Every byte but a UTF-8 continuation byte starts a character. */
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

int
password_check(const char *password, unsigned long long min_length)
{
    if (password == NULL || password_length(password) < min_length)
        return XD_EINVAL;
    return 0;
}
