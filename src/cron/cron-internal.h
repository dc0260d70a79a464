/* cron-internal.h - shared between the cron_*.c files only. */
#ifndef RB_CRON_INTERNAL_H
#define RB_CRON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cron.h"

/* One POSIX TZ rule date: Jn, n or Mm.w.d, plus the time of day (seconds,
 * may be negative or past 24 h in TZif v3+). */
struct cron_rule {
    char kind; /* 'J', 'D' (zero-based day of year), 'M' */
    int day, week, mon;
    int32_t time;
};

/* A TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3", offsets east of UTC. */
struct cron_posix {
    int32_t std_off, dst_off;
    bool has_dst;
    struct cron_rule start, end;
};

struct cron_tz_type {
    int32_t off;
    bool isdst;
};

struct cron_tz {
    size_t n_trans, n_types;
    int64_t *trans; /* ascending */
    uint8_t *idx;   /* type of each transition */
    struct cron_tz_type *types;
    size_t first;   /* the type before the first transition (Go's rule) */
    bool has_posix; /* footer rule for times after the last transition */
    struct cron_posix posix;
};

/* 0, or -EBADMSG. s need not be NUL-terminated. */
int cron_posix_parse(const char *s, size_t len, struct cron_posix *out);

/* The offset of the rule at unix time t. */
int32_t cron_posix_offset(const struct cron_posix *p, int64_t t);

/* Civil calendar (proleptic Gregorian), days since 1970-01-01. */
int64_t cron_days_from_civil(int64_t y, int m, int d);
void cron_civil_from_days(int64_t z, int64_t *y, int *m, int *d);
bool cron_is_leap(int64_t y);
int cron_days_in_month(int64_t y, int m);

/* Floor division and modulo for negative unix times. */
static inline int64_t cron_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static inline int64_t cron_mod(int64_t a, int64_t b)
{
    return a - cron_floordiv(a, b) * b;
}

#endif
