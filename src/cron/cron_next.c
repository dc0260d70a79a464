/* cron_next.c - the next fire time and CronJob's "which slot is due"
 * decision. cron_next follows robfig/cron v3's SpecSchedule.Next step for
 * step, including how it moves through DST changes (cron.h), because
 * CronJob runs that code: a Trigger must fire when a CronJob would. */
#include <errno.h>
#include <string.h>

#include "cron-internal.h"

/* The instant being searched, with its wall-clock fields. */
struct cur {
    const struct cron_tz *tz;
    int64_t t;
    struct cron_tm tm;
};

static void set(struct cur *c, int64_t t)
{
    c->t = t;
    cron_tz_local(c->tz, t, &c->tm);
}

/* Go's time.Date in the schedule's zone. */
static void set_local(struct cur *c, int64_t y, int mon, int d, int h, int min, int s)
{
    set(c, cron_tz_from_local(c->tz, y, mon, d, h, min, s));
}

static bool has(uint64_t bits, int v)
{
    return (bits >> v & 1) != 0;
}

/* robfig's dayMatches: a star in either field means both must match. */
static bool day_matches(const struct cron_expr *e, const struct cron_tm *tm)
{
    bool dom = has(e->dom, tm->day), dow = has(e->dow, tm->wday);
    if ((e->dom & CRON_STAR) || (e->dow & CRON_STAR))
        return dom && dow;
    return dom || dow;
}

/* The first local minute >= from (below 60) in bits, or 60. */
static int next_minute(uint64_t bits, int from)
{
    for (int m = from; m < 60; m++)
        if (has(bits, m))
            return m;
    return 60;
}

#define MAX_STEPS 100000

/* SpecSchedule.Next, robfig's comments kept where they explain a step.
 * The schedule's seconds field is always {0}. */
static int next_once(const struct cron_expr *e, const struct cron_tz *tz, int64_t after,
                     int64_t *out)
{
    struct cur c = {tz, 0, {0}};
    set(&c, after + 1); /* the earliest possible time: the next second */
    bool added = false; /* whether a field has been incremented */
    int64_t year_limit = c.tm.year + 5;
    unsigned steps = 0; /* wraps: a bound on the search should a zone
                         * defeat the year limit; never reached by real
                         * zones (about 2,000 wraps for 5 years of days) */

wrap:
    if (c.tm.year > year_limit || ++steps > MAX_STEPS)
        return -ENOENT;

    /* Find the first applicable month; adding one resets the rest. */
    while (!has(e->month, c.tm.month)) {
        if (!added) {
            added = true;
            set_local(&c, c.tm.year, c.tm.month, 1, 0, 0, 0);
        }
        set_local(&c, c.tm.year, c.tm.month + 1, c.tm.day, c.tm.hour, c.tm.minute, c.tm.second);
        if (c.tm.month == 1) /* wrapped around */
            goto wrap;
    }

    /* A day in that month. A day whose midnight does not exist starts at
     * 01:00; robfig corrects the hour after each AddDate. */
    while (!day_matches(e, &c.tm)) {
        if (!added) {
            added = true;
            set_local(&c, c.tm.year, c.tm.month, c.tm.day, 0, 0, 0);
        }
        int64_t before = c.t;
        set_local(&c, c.tm.year, c.tm.month, c.tm.day + 1, c.tm.hour, c.tm.minute, c.tm.second);
        /* A zone that skipped a whole day (Pacific/Apia 2011-12-30): Go's
         * Date maps the missing day back onto this one and robfig loops
         * forever; take the next day that exists. */
        if (c.t <= before)
            set(&c, before + 86400);
        if (c.tm.hour != 0) {
            if (c.tm.hour > 12)
                set(&c, c.t + (int64_t)(24 - c.tm.hour) * 3600);
            else
                set(&c, c.t - (int64_t)c.tm.hour * 3600);
        }
        if (c.tm.day == 1)
            goto wrap;
    }

    /* Hours and minutes advance in absolute time: this is what skips a
     * wall time in a spring-forward gap and repeats one in a fall-back
     * overlap. */
    while (!has(e->hour, c.tm.hour)) {
        if (!added) {
            added = true;
            set_local(&c, c.tm.year, c.tm.month, c.tm.day, c.tm.hour, 0, 0);
        }
        set(&c, c.t + 3600);
        if (c.tm.hour == 0)
            goto wrap;
    }

    while (!has(e->minute, c.tm.minute)) {
        if (!added) {
            added = true;
            set(&c, c.t - cron_mod(c.t, 60)); /* Truncate(time.Minute) */
        }
        /* Stepping minute by minute, as robfig does, stops at the next
         * minute in the set or at the top of the hour; jump there when
         * the offset is the same at both ends (no transition between). */
        int m = next_minute(e->minute, c.tm.minute + 1);
        struct cur j = c;
        set(&j, c.t + (int64_t)(m - c.tm.minute) * 60);
        if (j.tm.utcoff == c.tm.utcoff)
            c = j;
        else
            set(&c, c.t + 60);
        if (c.tm.minute == 0)
            goto wrap;
    }

    while (c.tm.second != 0) {
        added = true;
        struct cur j = c;
        set(&j, c.t + (60 - c.tm.second));
        if (j.tm.utcoff == c.tm.utcoff)
            c = j;
        else
            set(&c, c.t + 1);
        if (c.tm.second == 0)
            goto wrap;
    }

    *out = c.t;
    return 0;
}

static bool in_range(int64_t t)
{
    return t >= CRON_TIME_MIN && t <= CRON_TIME_MAX;
}

int cron_next(const struct cron_expr *e, const struct cron_tz *tz, int64_t after, int64_t *next)
{
    if (!in_range(after))
        return -EINVAL;
    /* robfig's walk can hand back a time at or before `after` around some
     * historical double transitions (America/St_Johns 1991-10-27: Go's
     * Next(t) returns t itself, forever). A caller looping on cron_next
     * must progress: search again from a little, then a lot, later. */
    static const int64_t retry[] = {0, 60, 3600, 86400};
    for (size_t i = 0; i < sizeof retry / sizeof retry[0]; i++) {
        int64_t t = 0; /* gcc -O3 cannot see every path sets it */
        int r = next_once(e, tz, after + retry[i], &t);
        if (r < 0)
            return r;
        if (t > after) {
            *next = t;
            return 0;
        }
    }
    return -ENOENT;
}

/* The last slot in (from, now], by bisection on the monotone predicate
 * "next(x) <= now": about 40 searches however many slots there are. */
static bool latest(const struct cron_expr *e, const struct cron_tz *tz, int64_t from, int64_t now,
                   int64_t *slot)
{
    int64_t t = 0; /* gcc -O3 cannot see every path sets it */
    if (from >= now || cron_next(e, tz, from, &t) < 0 || t > now)
        return false;
    int64_t lo = from, hi = now; /* next(lo) <= now < next(hi) */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (cron_next(e, tz, mid, &t) == 0 && t <= now)
            lo = mid;
        else
            hi = mid;
    }
    return cron_next(e, tz, lo, slot) == 0;
}

int cron_due(const struct cron_expr *e, const struct cron_tz *tz, int64_t earliest, int64_t now,
             int64_t starting_deadline, struct cron_due *out)
{
    memset(out, 0, sizeof *out);
    if (!in_range(earliest) || !in_range(now))
        return -EINVAL;

    int64_t t = 0; /* gcc -O3 cannot see every path sets it */
    int r = cron_next(e, tz, now > earliest ? now : earliest, &t);
    if (r == 0) {
        out->has_next = true;
        out->next = t;
    } else if (r != -ENOENT) {
        return r;
    }
    if (earliest >= now)
        return 0;

    /* mostRecentScheduleTime: nothing at or before now - deadline is
     * scheduled, so the counted window starts there. */
    int64_t lo = earliest;
    if (starting_deadline >= 0 && starting_deadline < now - earliest)
        lo = now - starting_deadline;

    /* Count exactly, up to one past the limit. */
    int64_t last = 0;
    unsigned n = 0;
    for (int64_t from = lo; n <= CRON_MISSED_MAX; from = t) {
        if (cron_next(e, tz, from, &t) < 0 || t > now)
            break;
        n++;
        last = t;
    }
    out->missed = n;
    out->many = n > CRON_MISSED_MAX;
    if (n > 0 && !out->many) {
        out->has_slot = true;
        out->slot = last;
    } else {
        /* Too many to walk, or none in the window (then the latest one
         * before it is reported as too late). */
        out->has_slot = latest(e, tz, earliest, now, &out->slot);
    }
    out->too_late = out->has_slot && starting_deadline >= 0 && now - out->slot >= starting_deadline;
    return 0;
}
