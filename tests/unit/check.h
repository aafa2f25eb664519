/*
 * check.h: the few lines every unit test shares. Include it once per test
 * program; end main() with `return check_report();`.
 */
#ifndef XMPPD_TEST_CHECK_H
#define XMPPD_TEST_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

/* Counts a check; on failure prints the line and the description. */
#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            check_passed++;                                                    \
        } else {                                                               \
            check_failed++;                                                    \
            fprintf(stderr, "FAIL line %d: ", __LINE__);                       \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* Prints the closing "N passed, N failed" line; returns the exit status. */
static inline int
check_report(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
