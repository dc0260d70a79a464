/* kjson_time.c - RFC 3339 times, converted by hand (days from civil) so
 * that no libc time zone state is involved. */
#include "kjson/kjson.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's days_from_civil: days since 1970-01-01. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Exactly n decimal digits at s; -1 if not. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int kj_time_parse(const char *s, int64_t *ms)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
        return -EINVAL;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        sec < 0 || sec > 60)
        return -EINVAL;
    const char *p = s + 19;
    int64_t frac_ms = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
        if (n == 0)
            return -EINVAL;
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        /* p[1] and p[2] are digits before p[3] is read: no read past the end */
        int oh = digits(p + 1, 2), om = oh >= 0 && p[3] == ':' ? digits(p + 4, 2) : -1;
        if (oh < 0 || om < 0)
            return -EINVAL;
        offset_s = ((int64_t)oh * 3600 + (int64_t)om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = (days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec - offset_s) * 1000 + frac_ms;
    return 0;
}

void kj_time_format(int64_t ms, char out[32])
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400;
    int64_t rem = secs - z * 86400;
    /* civil_from_days, the inverse of the above */
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
    unsigned yy = y < 0 ? 0 : y > 9999 ? 9999 : (unsigned)y, sod = (unsigned)rem % 86400;
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", yy % 10000, m % 13, d % 32, sod / 3600 % 24,
             sod / 60 % 60, sod % 60);
}

int64_t kj_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
