/* cron - cron schedules and IANA time zones, as Kubernetes CronJob reads
 * them, for the Trigger kind.
 *
 *   struct cron_expr e;
 *   char err[128];
 *   if (cron_parse("30 2 * * 1-5", &e, err, sizeof err) < 0) ... err says why
 *   struct cron_tz *tz;
 *   if (cron_tz_load(NULL, "Europe/Madrid", &tz) < 0) ...
 *   int64_t at;
 *   if (cron_next(&e, tz, now, &at) == 0) ... arm a timer for at
 *   cron_tz_free(tz);
 *
 * Pure: time comes in as unix seconds (int64_t), nothing reads the clock,
 * nothing touches TZ, tzset() or localtime(); the only I/O is reading one
 * zoneinfo file in cron_tz_load. A cron_expr is a plain value (copy it
 * freely); a cron_tz is immutable once loaded, so one may be shared.
 *
 * Syntax: what robfig/cron v3's ParseStandard accepts (Kubernetes validates
 * spec.schedule with it), minus what a per-minute run name cannot express:
 *   five fields, separated by blanks: minute hour day-of-month month
 *   day-of-week, ranges minute 0-59, hour 0-23, dom 1-31, month 1-12,
 *   dow 0-6 (0 is Sunday; 7 is rejected, as robfig rejects it);
 *   each field a comma list of items (an empty item, as in "1,,2", is
 *   skipped as robfig skips it, but a field must name at least one value):
 *     *  or ?        every value (? anywhere, as robfig allows)
 *     a              one value
 *     a-b            a range, a <= b
 *     *\/n  a-b/n    every n-th value of the range (n >= 1)
 *     a/n            a-max/n
 *   month names jan..dec and day names sun..sat, any case, wherever a
 *   number goes (ranges too: mon-fri); numbers may have leading zeros or a
 *   '+' (Go's strconv.Atoi takes them);
 *   the macros, exact and lower case as in robfig: @yearly @annually
 *   @monthly @weekly @daily @midnight @hourly.
 * Rejected although robfig takes them: "@every <duration>" (not on a
 * minute grid), a TZ= or CRON_TZ= prefix (Kubernetes rejects it too: the
 * zone is its own field), "*-5" (robfig silently reads it as "*").
 *
 * Day matching (robfig's dayMatches): when day-of-month or day-of-week was
 * written with a plain * or ? (alone, in a list, or with step 1: "*\/1"),
 * a day must match both fields; otherwise a day matching EITHER field
 * matches. "*\/2" does not count as a star, so "0 0 1 * *\/2" fires on the
 * 1st and on Sun, Tue, Thu, Sat; "0 0 1-31 * 1" fires every day.
 *
 * Next-time and DST: cron_next is robfig's SpecSchedule.Next with a
 * time.Location, field by field (month, day, hour, minute), so a search
 * costs a few hundred steps even over 5 years. It walks in local time and
 * adds whole hours/minutes in absolute time, which gives:
 *   - Spring forward (Madrid 2024-03-31 02:00 -> 03:00 CEST, New York
 *     2024-03-10 02:00 -> 03:00 EDT): a time in the gap does not exist and
 *     is skipped that day. "30 2 * * *" fires 2024-03-30 02:30 and then
 *     2024-04-01 02:30, nothing on the 31st (no shift to 03:30).
 *   - Fall back (Madrid 2024-10-27 03:00 CEST -> 02:00 CET, New York
 *     2024-11-03 02:00 EDT -> 01:00 EST): a time in the repeated hour fires
 *     TWICE, once at each offset ("30 2 * * *" in Madrid at 00:30Z and
 *     01:30Z; "30 1 * * *" in New York at 05:30Z and 06:30Z), as robfig's
 *     minute walk reaches the wall time again. Every minute of the repeated
 *     hour matches twice for "* * * * *" and hourly schedules.
 *   - A day whose midnight does not exist is entered at 01:00 (robfig's
 *     Sao Paulo rule).
 * Nothing within 5 years of the start (robfig's limit: "0 0 30 2 *" never
 * fires) is -ENOENT.
 *
 * Time zones: a TZif file (RFC 8536, versions 1 to 4; the 64-bit data of
 * v2+ and its footer TZ rule, "CET-1CEST,M3.5.0,M10.5.0/3", for times after
 * the last transition). Local times are resolved as Go's time.Date does
 * (cron_tz_from_local): the offset in effect at the wall time read as UTC,
 * corrected once. So east and west of Greenwich differ: in a gap Madrid
 * 02:30 (2024-03-31) is 03:30 CEST but New York 02:30 (2024-03-10) is
 * 01:30 EST; in an overlap Madrid takes the later instant, New York the
 * earlier. (cron_next only uses this for midnights and month starts.)
 * Times before the first transition use Go's choice of first zone.
 * Leap-second records are ignored (as Go does).
 *
 * Returns: 0 or a negative errno (libuv style). No global state: any
 * thread may call anything, on a cron_tz not being freed. */
#ifndef RB_CRON_H
#define RB_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Set in a field when it was written with a plain * or ? (robfig's
 * starBit); only dom and dow look at it. */
#define CRON_STAR (UINT64_C(1) << 63)

/* One bit per allowed value (bit v for value v), plus CRON_STAR. */
struct cron_expr {
    uint64_t minute; /* bits 0-59 */
    uint64_t hour;   /* bits 0-23 */
    uint64_t dom;    /* bits 1-31 */
    uint64_t month;  /* bits 1-12 */
    uint64_t dow;    /* bits 0-6, 0 = Sunday */
};

/* Parses spec into *out. On failure returns -EINVAL and, when err is not
 * NULL, writes a short NUL-terminated message naming the field and the bad
 * token, e.g. `minute: "61" is out of range 0-59`. *out is only written on
 * success. */
int cron_parse(const char *spec, struct cron_expr *out, char *err, size_t errlen);

/* --- time zones -------------------------------------------------------- */

struct cron_tz;

/* Loads zone name from dir (NULL: $ZONEINFO when set and not empty, else
 * /usr/share/zoneinfo). "" and "UTC" are UTC without reading a file.
 * Errors: -EINVAL for a name that is not IANA-style (empty component,
 * leading or trailing '/', a character outside [A-Za-z0-9_+/-], over 255
 * characters) or is "Local" (any case: Kubernetes refuses it too);
 * -ENOENT when no regular file has that name; -EBADMSG when the file is
 * not valid TZif (or over 1 MiB); -ENOMEM; another -errno from reading. */
int cron_tz_load(const char *dir, const char *name, struct cron_tz **out);

/* The same from a TZif image in memory (copied; buf may be freed after).
 * -EBADMSG when it is not valid TZif, -ENOMEM. */
int cron_tz_parse(const void *buf, size_t len, struct cron_tz **out);

/* NULL is allowed. */
void cron_tz_free(struct cron_tz *tz);

/* Local time fields. */
struct cron_tm {
    int64_t year;
    int month;  /* 1-12 */
    int day;    /* 1-31 */
    int hour;   /* 0-23 */
    int minute; /* 0-59 */
    int second; /* 0-59 */
    int wday;   /* 0-6, 0 = Sunday */
    int32_t utcoff;
};

/* Everywhere below, tz NULL means UTC. */

/* The UTC offset (seconds east) in effect at unix time t. */
int32_t cron_tz_offset(const struct cron_tz *tz, int64_t t);

/* The local wall time at unix time t. */
void cron_tz_local(const struct cron_tz *tz, int64_t t, struct cron_tm *out);

/* The unix time of a wall time, with Go's time.Date semantics: fields out
 * of range are normalized (month 13 is January of the next year, day 0 the
 * last day of the previous month), gaps and overlaps as described above. */
int64_t cron_tz_from_local(const struct cron_tz *tz, int64_t year, int month, int day, int hour,
                           int minute, int second);

/* --- schedules --------------------------------------------------------- */

/* Unix times accepted by cron_next and cron_due: years 1 to 9999. */
#define CRON_TIME_MIN INT64_C(-62135596800)
#define CRON_TIME_MAX INT64_C(253402300799)

/* The first fire time strictly after `after`, in *next. -ENOENT when none
 * comes within 5 years (robfig gives up there: "0 0 30 2 *"), -EINVAL when
 * after is outside CRON_TIME_MIN..CRON_TIME_MAX. */
int cron_next(const struct cron_expr *e, const struct cron_tz *tz, int64_t after, int64_t *next);

/* More slots than this in the window counts as "too many missed":
 * Kubernetes' limit, past which the caller should emit an Event (and
 * still fire the latest, as CronJob does). */
#define CRON_MISSED_MAX 100

/* CronJob's decision, given the last schedule time (or the Trigger's
 * creation time) as earliest. */
struct cron_due {
    /* The most recent slot in (earliest, now]: the one to fire. */
    bool has_slot;
    int64_t slot;
    /* starting_deadline >= 0 and slot <= now - starting_deadline: too late
     * to start; record it as missed, do not fire. Exactly when
     * mostRecentScheduleTime, which first raises earliest to
     * now - starting_deadline, would find nothing to fire. */
    bool too_late;
    /* Slots in (max(earliest, now - starting_deadline), now], the one to
     * fire included: 0 nothing due, 1 on time, more: some were skipped.
     * Counted exactly up to CRON_MISSED_MAX + 1; many is set past
     * CRON_MISSED_MAX (then missed is CRON_MISSED_MAX + 1). */
    unsigned missed;
    bool many;
    /* The first slot after max(now, earliest), for status.nextScheduleTime
     * and the timer; has_next false when none within 5 years. */
    bool has_next;
    int64_t next;
};

/* starting_deadline < 0: none. Errors: -EINVAL (times out of range);
 * "no slot at all" is not an error (has_slot and has_next false). */
int cron_due(const struct cron_expr *e, const struct cron_tz *tz, int64_t earliest, int64_t now,
             int64_t starting_deadline, struct cron_due *out);

#endif
