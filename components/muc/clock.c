/*
 * clock.c: the wall clock in microseconds and XEP-0082 date-times.
 *
 * History and archive times are wall-clock microseconds since the epoch:
 * they are shown to clients (<delay stamp=/>) and compared with the times
 * clients send (<history since=/>, the archive's start and end), so a
 * monotonic clock would not do.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "muc.h"

#define US_PER_S  1000000LL
#define S_PER_DAY 86400LL

int64_t
muc_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar: years
 * are counted from March, so that the leap day ends a year, in 400-year
 * eras of 146097 days. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void
muc_stamp(int64_t t_us, char out[32])
{
    /* Floor division: a time before the epoch still gets a fraction in
     * [0, 999999]. */
    int64_t s = t_us / US_PER_S, us = t_us % US_PER_S;
    if (us < 0) {
        us += US_PER_S;
        s--;
    }
    int64_t days = s / S_PER_DAY, sod = s % S_PER_DAY;
    if (sod < 0) {
        sod += S_PER_DAY;
        days--;
    }
    int64_t y;
    int m, d;

    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        /* Not representable in XEP-0082's four-digit years. */
        snprintf(out, 32, "%s",
                 y < 0 ? "0000-01-01T00:00:00.000000Z"
                       : "9999-12-31T23:59:59.999999Z");
        return;
    }
    /* 27 characters; the larger buffer only quiets -Wformat-truncation,
     * which cannot see that every field is in range. */
    char buf[64];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", (int)y, m,
             d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
             (int)us);
    memcpy(out, buf, 28);
}

/* Reads exactly n decimal digits at *p into *out and advances *p. */
static int
digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return XD_EINVAL;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int
leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
muc_parse_stamp(const char *s, int64_t *out_us)
{
    static const int mdays[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    int y, mo, d, h, mi, sec, frac = 0, oh = 0, om = 0, sign = 0;
    const char *p = s;

    if (s == NULL || digits(&p, 4, &y) != 0 || *p++ != '-' ||
        digits(&p, 2, &mo) != 0 || *p++ != '-' || digits(&p, 2, &d) != 0 ||
        *p++ != 'T' || digits(&p, 2, &h) != 0 || *p++ != ':' ||
        digits(&p, 2, &mi) != 0 || *p++ != ':' || digits(&p, 2, &sec) != 0)
        return XD_EINVAL;
    if (*p == '.') {
        /* Any number of digits (at least one); microseconds are kept, the
         * rest is truncated. */
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++) {
            if (n < 6)
                frac = frac * 10 + (*p - '0');
        }
        if (n == 0)
            return XD_EINVAL;
        for (; n < 6; n++)
            frac *= 10;
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '+' ? 1 : -1;
        if (digits(&p, 2, &oh) != 0 || *p++ != ':' || digits(&p, 2, &om) != 0 ||
            oh > 23 || om > 59)
            return XD_EINVAL;
    } else {
        return XD_EINVAL; /* XEP-0082 date-times always carry a zone */
    }
    /* A leap second (60) is accepted and lands on the next second. */
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
        sec > 60)
        return XD_EINVAL;
    int64_t t = days_from_civil(y, mo, d) * S_PER_DAY + h * 3600LL + mi * 60LL +
                sec - sign * (oh * 3600LL + om * 60LL);
    *out_us = t * US_PER_S + frac;
    return 0;
}
