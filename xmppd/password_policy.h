/*
 * password_policy.h: what a new password must be, wherever one is set
 * (xmppdctl adduser and passwd, XEP-0077 registration and password
 * changes): at least password_min_length characters.
 */
#ifndef XMPPD_PASSWORD_POLICY_H
#define XMPPD_PASSWORD_POLICY_H

#include <stddef.h>

/* The number of characters (UTF-8 code points) of `s`. */
size_t password_length(const char *s);
/* 0 when `password` (SASLprep-ed or not) has at least min_length
 * characters, else XD_EINVAL. Never logs: the caller says who. */
int password_check(const char *password, unsigned long long min_length);

#endif
