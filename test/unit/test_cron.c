/* Expected fire times were produced by robfig/cron v3.0.1's
 * SpecSchedule.Next with Go's time.LoadLocation on the same TZif files
 * (test/data/zoneinfo, copied from tzdata 2025b: transitions pinned in the
 * past, so a tzdata update cannot move them). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cron/cron.h"

#define BIT(v) (UINT64_C(1) << (v))
#define RANGE(lo, hi) ((((UINT64_C(1) << ((hi) + 1)) - 1) & ~(BIT(lo) - 1)))
#define ALL_MIN (RANGE(0, 59) | CRON_STAR)
#define ALL_HOUR (RANGE(0, 23) | CRON_STAR)
#define ALL_DOM (RANGE(1, 31) | CRON_STAR)
#define ALL_MON (RANGE(1, 12) | CRON_STAR)
#define ALL_DOW (RANGE(0, 6) | CRON_STAR)

static char zdir[4096];

static struct cron_tz *zone(const char *name)
{
    struct cron_tz *tz = NULL;
    int r = cron_tz_load(zdir, name, &tz);
    CHECK_INT(r, 0);
    return tz;
}

/* 2024-01-01T00:00:00Z etc. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    return cron_tz_from_local(NULL, y, mo, d, h, mi, 0);
}

static void test_parse_forms(void)
{
    static const struct {
        const char *spec;
        struct cron_expr want;
    } cases[] = {
        {"* * * * *", {ALL_MIN, ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW}},
        {"? ? ? ? ?", {ALL_MIN, ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW}},
        {"5 4 3 2 1", {BIT(5), BIT(4), BIT(3), BIT(2), BIT(1)}},
        {"0-4 1-3 * * *", {RANGE(0, 4), RANGE(1, 3), ALL_DOM, ALL_MON, ALL_DOW}},
        {"*/15 * * * *",
         {BIT(0) | BIT(15) | BIT(30) | BIT(45), ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW}},
        {"*/1 * * * *", {ALL_MIN, ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW}},
        {"10-20/5 * * * *", {BIT(10) | BIT(15) | BIT(20), ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW}},
        {"50/4 * * * *", {BIT(50) | BIT(54) | BIT(58), ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW}},
        {"1,2,,30 * * * *", {BIT(1) | BIT(2) | BIT(30), ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW}},
        {"0 0 * jan-MAR,Dec sun,Sat",
         {BIT(0), BIT(0), ALL_DOM, RANGE(1, 3) | BIT(12), BIT(0) | BIT(6)}},
        {"0 0 * * mon-fri", {BIT(0), BIT(0), ALL_DOM, ALL_MON, RANGE(1, 5)}},
        {"0 0 1 * */2", {BIT(0), BIT(0), BIT(1), ALL_MON, BIT(0) | BIT(2) | BIT(4) | BIT(6)}},
        {"0 0 1,* * *", {BIT(0), BIT(0), ALL_DOM, ALL_MON, ALL_DOW}},
        {" \t05  +7 31 12 6 ", {BIT(5), BIT(7), BIT(31), BIT(12), BIT(6)}},
        {"@yearly", {BIT(0), BIT(0), BIT(1), BIT(1), ALL_DOW}},
        {"@annually", {BIT(0), BIT(0), BIT(1), BIT(1), ALL_DOW}},
        {"@monthly", {BIT(0), BIT(0), BIT(1), ALL_MON, ALL_DOW}},
        {"@weekly", {BIT(0), BIT(0), ALL_DOM, ALL_MON, BIT(0)}},
        {"@daily", {BIT(0), BIT(0), ALL_DOM, ALL_MON, ALL_DOW}},
        {"@midnight", {BIT(0), BIT(0), ALL_DOM, ALL_MON, ALL_DOW}},
        {"@hourly", {BIT(0), ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cron_expr e;
        char err[128] = "";
        int r = cron_parse(cases[i].spec, &e, err, sizeof err);
        if (r != 0) {
            check_fail(__FILE__, __LINE__, "%s: %s", cases[i].spec, err);
            continue;
        }
        if (memcmp(&e, &cases[i].want, sizeof e) != 0)
            check_fail(__FILE__, __LINE__, "%s: bits differ", cases[i].spec);
        else
            check_passes++;
    }
}

static void test_parse_errors(void)
{
    static const struct {
        const char *spec, *msg;
    } cases[] = {
        {"", "empty schedule"},
        {"* * * *", "expected exactly 5 fields"},
        {"* * * * * *", "found 6"},
        {"61 * * * *", "minute: \"61\" is out of range 0-59"},
        {"* 24 * * *", "hour: \"24\" is out of range 0-23"},
        {"* * 0 * *", "day-of-month: \"0\" is out of range 1-31"},
        {"* * 32 * *", "day-of-month: \"32\""},
        {"* * * 13 *", "month: \"13\" is out of range 1-12"},
        {"* * * * 7", "day-of-week: \"7\" is out of range 0-6"},
        {"* * * * 5-7", "day-of-week: \"7\""},
        {"99999999999999999999 * * * *", "minute: \"99999999999999999999\" is out of range"},
        {"x * * * *", "minute: \"x\" is not a number"},
        {"* * * foo *", "month: \"foo\" is not a number or name"},
        {"* * * * sunday", "day-of-week: \"sunday\""},
        {"-1 * * * *", "minute: \"\" is not a number"},
        {"1- * * * *", "minute: \"\" is not a number"},
        {"0x1 * * * *", "minute: \"0x1\""},
        {"5-1 * * * *", "range start 5 is after its end 1"},
        {"*/0 * * * *", "step must be at least 1"},
        {"*/x * * * *", "step \"x\" is not a number"},
        {"*/-2 * * * *", "step \"-2\""},
        {"1/2/3 * * * *", "more than one '/'"},
        {"1-2-3 * * * *", "more than one '-'"},
        {"*-5 * * * *", "'*' cannot start a range"},
        {", * * * *", "minute: \",\" has no values"},
        {"@every 1h", "@every is not supported"},
        {"@reboot", "unknown macro"},
        {"@Daily", "unknown macro"},
        {"@daily ", "unknown macro"},
        {"TZ=UTC 0 0 * * *", "TZ= and CRON_TZ= are not allowed"},
        {"CRON_TZ=Europe/Madrid 0 0 * * *", "TZ= and CRON_TZ="},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cron_expr e = {0};
        char err[160] = "";
        CHECK_INT(cron_parse(cases[i].spec, &e, err, sizeof err), -EINVAL);
        CHECK_CONTAINS(err, cases[i].msg);
        CHECK(e.minute == 0); /* untouched on failure */
    }
    /* No buffer, or a tiny one: still -EINVAL, still terminated. */
    struct cron_expr e;
    char tiny[8];
    CHECK_INT(cron_parse("61 * * * *", &e, NULL, 0), -EINVAL);
    CHECK_INT(cron_parse("61 * * * *", &e, tiny, sizeof tiny), -EINVAL);
    CHECK_INT((int)strlen(tiny), 7);
    CHECK_INT(cron_parse(NULL, &e, NULL, 0), -EINVAL);
}

/* Checks the next n fire times after `after`. */
static void expect_seq(const char *spec, const struct cron_tz *tz, int64_t after,
                       const int64_t *want, size_t n, int line)
{
    struct cron_expr e;
    char err[128];
    if (cron_parse(spec, &e, err, sizeof err) < 0) {
        check_fail(__FILE__, line, "%s: %s", spec, err);
        return;
    }
    int64_t t = after;
    for (size_t i = 0; i < n; i++) {
        int64_t next = 0;
        int r = cron_next(&e, tz, t, &next);
        if (r != 0 || next != want[i]) {
            check_fail(__FILE__, line, "%s: fire %zu: r=%d got %lld want %lld", spec, i, r,
                       (long long)next, (long long)want[i]);
            return;
        }
        check_passes++;
        t = next;
    }
}

#define SEQ(spec, tz, after, ...)                                                                  \
    do {                                                                                           \
        const int64_t want_[] = {__VA_ARGS__};                                                     \
        expect_seq(spec, tz, after, want_, sizeof want_ / sizeof want_[0], __LINE__);              \
    } while (0)

static void test_next_utc(void)
{
    /* "*\/7" restarts at :00 each hour: not every 7 minutes across hours. */
    SEQ("*/7 * * * *", NULL, utc(2024, 1, 1, 0, 55), utc(2024, 1, 1, 0, 56), utc(2024, 1, 1, 1, 0),
        utc(2024, 1, 1, 1, 7), utc(2024, 1, 1, 1, 14));
    /* Strictly after: a fire time itself is not returned again. */
    SEQ("0 * * * *", NULL, utc(2024, 1, 1, 5, 0), utc(2024, 1, 1, 6, 0));
    SEQ("0 * * * *", NULL, utc(2024, 1, 1, 5, 0) - 1, utc(2024, 1, 1, 5, 0));
    /* Leap days: from 2025 the next Feb 29 is 2028's, then 2032's. */
    SEQ("0 0 29 2 *", NULL, utc(2025, 1, 1, 0, 0), 1835395200, 1961625600);
    CHECK_INT(utc(2028, 2, 29, 0, 0), 1835395200);
    /* dom/dow: both restricted is OR: the 1st or any Monday (Jan 2025). */
    SEQ("0 9 1 * 1", NULL, utc(2025, 1, 1, 0, 0), utc(2025, 1, 1, 9, 0), utc(2025, 1, 6, 9, 0),
        utc(2025, 1, 13, 9, 0), utc(2025, 1, 20, 9, 0), utc(2025, 1, 27, 9, 0),
        utc(2025, 2, 1, 9, 0));
    /* "*\/2" is not a star: still OR (the 1st, Sun, Tue, Thu, Sat). */
    SEQ("0 9 1 * */2", NULL, utc(2025, 1, 1, 0, 0), utc(2025, 1, 1, 9, 0), utc(2025, 1, 2, 9, 0),
        utc(2025, 1, 4, 9, 0), utc(2025, 1, 5, 9, 0), utc(2025, 1, 7, 9, 0), utc(2025, 1, 9, 9, 0));
    /* A star dom (even in a list) makes it AND: Mondays only. */
    SEQ("0 9 1,* * 1", NULL, utc(2025, 1, 1, 0, 0), utc(2025, 1, 6, 9, 0));
    /* Macros. */
    SEQ("@yearly", NULL, utc(2024, 6, 1, 0, 0), utc(2025, 1, 1, 0, 0), utc(2026, 1, 1, 0, 0));
    SEQ("@monthly", NULL, utc(2024, 1, 31, 0, 0), utc(2024, 2, 1, 0, 0), utc(2024, 3, 1, 0, 0));
    SEQ("@weekly", NULL, utc(2024, 1, 1, 0, 0), utc(2024, 1, 7, 0, 0), utc(2024, 1, 14, 0, 0));
    SEQ("@daily", NULL, utc(2024, 12, 31, 0, 0), utc(2025, 1, 1, 0, 0));
    SEQ("@hourly", NULL, utc(2024, 12, 31, 23, 0), utc(2025, 1, 1, 0, 0));
    SEQ("59 23 31 12 *", NULL, utc(2024, 1, 1, 0, 0), utc(2024, 12, 31, 23, 59));
    /* Before 1970 works too. */
    SEQ("0 0 1 1 *", NULL, utc(1960, 6, 1, 0, 0), utc(1961, 1, 1, 0, 0));
}

static void test_next_never(void)
{
    struct cron_expr e;
    CHECK_INT(cron_parse("0 0 30 2 *", &e, NULL, 0), 0);
    int64_t t = 0;
    clock_t c0 = clock();
    CHECK_INT(cron_next(&e, NULL, utc(2025, 1, 1, 0, 0), &t), -ENOENT);
    CHECK_INT(cron_next(&e, NULL, utc(2025, 1, 1, 0, 0), &t), -ENOENT);
    /* The 5-year give-up is a field walk, not minute stepping (~2.6M). */
    CHECK((double)(clock() - c0) / CLOCKS_PER_SEC < 0.5);
    /* 2100 is not a leap year: after 2096, Feb 29 is 8 years away, past
     * robfig's 5-year horizon. */
    CHECK_INT(cron_parse("0 0 29 2 *", &e, NULL, 0), 0);
    CHECK_INT(cron_next(&e, NULL, utc(2096, 3, 1, 0, 0), &t), -ENOENT);
    CHECK_INT(cron_next(&e, NULL, CRON_TIME_MAX + 1, &t), -EINVAL);
    CHECK_INT(cron_next(&e, NULL, CRON_TIME_MIN - 1, &t), -EINVAL);
}

static void test_next_dst(void)
{
    struct cron_tz *mad = zone("Europe/Madrid"), *ny = zone("America/New_York");
    /* Spring forward, Madrid 2024-03-31 02:00 CET -> 03:00 CEST: 02:30
     * does not exist that day and is skipped (not moved to 03:30). */
    SEQ("30 2 * * *", mad, utc(2024, 3, 30, 0, 0), utc(2024, 3, 30, 1, 30), utc(2024, 4, 1, 0, 30),
        utc(2024, 4, 2, 0, 30));
    /* New York 2024-03-10 02:00 EST -> 03:00 EDT: the same. */
    SEQ("30 2 * * *", ny, utc(2024, 3, 9, 12, 0), utc(2024, 3, 11, 6, 30), utc(2024, 3, 12, 6, 30),
        utc(2024, 3, 13, 6, 30));
    /* Fall back, Madrid 2024-10-27 03:00 CEST -> 02:00 CET: 02:30 fires
     * twice, at 00:30Z (CEST) and 01:30Z (CET); 01:30 once. */
    SEQ("30 2 * * *", mad, utc(2024, 10, 26, 12, 0), utc(2024, 10, 27, 0, 30),
        utc(2024, 10, 27, 1, 30), utc(2024, 10, 28, 1, 30));
    SEQ("30 1 * * *", mad, utc(2024, 10, 26, 12, 0), utc(2024, 10, 26, 23, 30),
        utc(2024, 10, 28, 0, 30), utc(2024, 10, 29, 0, 30));
    /* New York 2024-11-03 02:00 EDT -> 01:00 EST: 01:30 fires twice. */
    SEQ("30 1 * * *", ny, utc(2024, 11, 2, 12, 0), utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 6, 30),
        utc(2024, 11, 4, 6, 30));
    /* Hourly through the Madrid overlap: 02:00 twice. */
    SEQ("0 * * * *", mad, utc(2024, 10, 26, 23, 0), utc(2024, 10, 27, 0, 0),
        utc(2024, 10, 27, 1, 0), utc(2024, 10, 27, 2, 0), utc(2024, 10, 27, 3, 0));
    /* 2040, past the file's transitions: the footer rule
     * (CET-1CEST,M3.5.0,M10.5.0/3) says DST starts 2040-03-25. */
    SEQ("0 12 * * *", mad, 2216113200, 2216199600, 2216282400, 2216368800);
    CHECK_INT(cron_tz_offset(mad, utc(2040, 3, 25, 0, 59)), 3600);
    CHECK_INT(cron_tz_offset(mad, utc(2040, 3, 25, 1, 0)), 7200);
    CHECK_INT(cron_tz_offset(mad, utc(2040, 10, 28, 0, 59)), 7200);
    CHECK_INT(cron_tz_offset(mad, utc(2040, 10, 28, 1, 0)), 3600);
    cron_tz_free(mad);
    cron_tz_free(ny);
}

static void test_from_local(void)
{
    struct cron_tz *mad = zone("Europe/Madrid"), *ny = zone("America/New_York");
    /* Go's time.Date (checked against Go 1.26): it reads the wall time as
     * UTC to pick an offset, so east and west of Greenwich differ. A gap:
     * Madrid 02:30 is 03:30 CEST, New York 02:30 is 01:30 EST... */
    CHECK_INT(cron_tz_from_local(mad, 2024, 3, 31, 2, 30, 0), utc(2024, 3, 31, 1, 30));
    CHECK_INT(cron_tz_from_local(ny, 2024, 3, 10, 2, 30, 0), utc(2024, 3, 10, 6, 30));
    /* ...an overlap: Madrid (east) the later instant, New York (west)
     * the earlier one, as Go's lookup of the wall time read as UTC. */
    CHECK_INT(cron_tz_from_local(mad, 2024, 10, 27, 2, 30, 0), utc(2024, 10, 27, 1, 30));
    CHECK_INT(cron_tz_from_local(ny, 2024, 11, 3, 1, 30, 0), utc(2024, 11, 3, 5, 30));
    /* Normalization. */
    CHECK_INT(cron_tz_from_local(NULL, 2024, 13, 1, 0, 0, 0), utc(2025, 1, 1, 0, 0));
    CHECK_INT(cron_tz_from_local(NULL, 2024, 3, 0, 0, 0, 0), utc(2024, 2, 29, 0, 0));
    CHECK_INT(cron_tz_from_local(NULL, 2024, 0, 1, 0, 0, 0), utc(2023, 12, 1, 0, 0));
    struct cron_tm tm;
    cron_tz_local(mad, utc(2024, 10, 27, 1, 30), &tm);
    CHECK(tm.year == 2024 && tm.month == 10 && tm.day == 27 && tm.hour == 2 && tm.minute == 30);
    CHECK_INT(tm.utcoff, 3600);
    CHECK_INT(tm.wday, 0);
    cron_tz_local(NULL, -1, &tm);
    CHECK(tm.year == 1969 && tm.month == 12 && tm.day == 31 && tm.hour == 23 && tm.second == 59);
    CHECK_INT(tm.wday, 3);
    cron_tz_free(mad);
    cron_tz_free(ny);
}

/* --- hand-built TZif ---------------------------------------------------- */

struct tzb {
    unsigned char b[1024];
    size_t n;
};

static void put32(struct tzb *z, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        z->b[z->n++] = (unsigned char)(v >> (i * 8));
}

static void put(struct tzb *z, const void *p, size_t n)
{
    memcpy(z->b + z->n, p, n);
    z->n += n;
}

/* One data block: the given transitions (all to type 1) over types
 * 0: offs[0] std, 1: offs[1] dst; abbreviations "AAA\0BBB\0". */
static void block(struct tzb *z, int tsize, const int64_t *tr, size_t ntr, const int32_t *offs)
{
    put(z, "TZif", 4);
    z->b[z->n++] = tsize == 8 ? '2' : 0;
    memset(z->b + z->n, 0, 15);
    z->n += 15;
    put32(z, 0); /* isutcnt */
    put32(z, 0); /* isstdcnt */
    put32(z, 0); /* leapcnt */
    put32(z, (uint32_t)ntr);
    put32(z, 2); /* typecnt */
    put32(z, 8); /* charcnt */
    for (size_t i = 0; i < ntr; i++) {
        if (tsize == 8)
            put32(z, (uint32_t)((uint64_t)tr[i] >> 32));
        put32(z, (uint32_t)tr[i]);
    }
    for (size_t i = 0; i < ntr; i++)
        z->b[z->n++] = (unsigned char)(i % 2 == 0 ? 1 : 0);
    for (int i = 0; i < 2; i++) {
        put32(z, (uint32_t)offs[i]);
        z->b[z->n++] = (unsigned char)i;
        z->b[z->n++] = (unsigned char)(i * 4);
    }
    put(z, "AAA\0BBB\0", 8);
}

/* v1 only, or v1 + v2 + footer. */
static void build(struct tzb *z, bool v2, const int64_t *tr, size_t ntr, const int32_t *offs,
                  const char *footer)
{
    z->n = 0;
    block(z, 4, tr, ntr, offs);
    if (!v2)
        return;
    z->b[4] = '2';
    block(z, 8, tr, ntr, offs);
    z->b[z->n++] = '\n';
    put(z, footer, strlen(footer));
    z->b[z->n++] = '\n';
}

static void test_tzif(void)
{
    /* v1 only: one summer of +2 in 2022 over +1. */
    const int64_t tr[] = {utc(2022, 3, 27, 1, 0), utc(2022, 10, 30, 1, 0)};
    const int32_t offs[] = {3600, 7200};
    struct tzb z;
    struct cron_tz *tz = NULL;
    build(&z, false, tr, 2, offs, "");
    CHECK_INT(cron_tz_parse(z.b, z.n, &tz), 0);
    CHECK_INT(cron_tz_offset(tz, tr[0] - 1), 3600);
    CHECK_INT(cron_tz_offset(tz, tr[0]), 7200);
    CHECK_INT(cron_tz_offset(tz, tr[1]), 3600);
    CHECK_INT(cron_tz_offset(tz, utc(2040, 7, 1, 0, 0)), 3600); /* no footer: last type */
    cron_tz_free(tz);

    /* v2 with a footer rule; no transitions at all: the rule is all there
     * is (Go adds a transition at the dawn of time). */
    build(&z, true, NULL, 0, offs, "CET-1CEST,M3.5.0,M10.5.0/3");
    CHECK_INT(cron_tz_parse(z.b, z.n, &tz), 0);
    CHECK_INT(cron_tz_offset(tz, utc(2040, 3, 25, 0, 59)), 3600);
    CHECK_INT(cron_tz_offset(tz, utc(2040, 3, 25, 1, 0)), 7200);
    CHECK_INT(cron_tz_offset(tz, utc(2040, 10, 28, 0, 59)), 7200);
    CHECK_INT(cron_tz_offset(tz, utc(2040, 10, 28, 1, 0)), 3600);
    cron_tz_free(tz);

    /* Southern hemisphere: DST across the new year (Sydney's rule). */
    build(&z, true, tr, 2, offs, "AEST-10AEDT,M10.1.0,M4.1.0/3");
    CHECK_INT(cron_tz_parse(z.b, z.n, &tz), 0);
    CHECK_INT(cron_tz_offset(tz, utc(2040, 1, 15, 0, 0)), 11 * 3600);
    CHECK_INT(cron_tz_offset(tz, utc(2040, 6, 15, 0, 0)), 10 * 3600);
    /* 2040-10-07 02:00 AEST = 2040-10-06 16:00Z */
    CHECK_INT(cron_tz_offset(tz, utc(2040, 10, 6, 15, 59)), 10 * 3600);
    CHECK_INT(cron_tz_offset(tz, utc(2040, 10, 6, 16, 0)), 11 * 3600);
    cron_tz_free(tz);

    /* Other rule forms: Jn, n, <quoted> names, default rules, no DST. */
    const struct {
        const char *footer;
        int64_t at;
        int32_t off;
    } rules[] = {
        {"<+0330>-3:30", utc(2040, 7, 1, 0, 0), 12600},
        {"EST5EDT", utc(2040, 7, 1, 0, 0), -4 * 3600}, /* default US rule */
        {"EST5EDT", utc(2040, 1, 1, 0, 0), -5 * 3600},
        {"XXX3YYY,J60/0,J300/0", utc(2040, 3, 1, 3, 0), -2 * 3600}, /* J60 is Mar 1 */
        {"XXX3YYY,J60/0,J300/0", utc(2040, 2, 29, 2, 0), -3 * 3600},
        {"XXX3YYY,59/0,300/0", utc(2040, 2, 29, 3, 0), -2 * 3600}, /* day 59 is Feb 29 */
        {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", utc(2040, 7, 1, 0, 0), -2 * 3600},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        build(&z, true, tr, 2, offs, rules[i].footer);
        tz = NULL;
        CHECK_INT(cron_tz_parse(z.b, z.n, &tz), 0);
        if (tz && cron_tz_offset(tz, rules[i].at) != rules[i].off)
            check_fail(__FILE__, __LINE__, "%s: %d", rules[i].footer,
                       cron_tz_offset(tz, rules[i].at));
        cron_tz_free(tz);
    }

    /* Corrupt files. */
    build(&z, true, tr, 2, offs, "CET-1CEST,M3.5.0,M10.5.0/3");
    struct tzb bad;
    for (size_t cut = 0; cut < z.n; cut += 7) {
        tz = NULL;
        CHECK_INT(cron_tz_parse(z.b, cut, &tz), -EBADMSG);
        CHECK(tz == NULL);
    }
    bad = z;
    bad.b[0] = 'X';
    CHECK_INT(cron_tz_parse(bad.b, bad.n, &tz), -EBADMSG);
    bad = z;
    bad.b[4] = '1';
    CHECK_INT(cron_tz_parse(bad.b, bad.n, &tz), -EBADMSG);
    static const char *const bad_footers[] = {"CE-1",
                                              "CET",
                                              "CET-1CEST,M3.5.0",
                                              "CET-1CEST,M13.1.0,M10.5.0",
                                              "CET-1CEST,M3.5.0,M10.5.0/3x",
                                              "CET-200",
                                              "<AB>1"};
    for (size_t i = 0; i < sizeof bad_footers / sizeof bad_footers[0]; i++) {
        build(&bad, true, tr, 2, offs, bad_footers[i]);
        CHECK_INT(cron_tz_parse(bad.b, bad.n, &tz), -EBADMSG);
    }
    /* Transitions out of order; a type index out of range. */
    const int64_t back[] = {tr[1], tr[0]};
    build(&bad, false, back, 2, offs, "");
    CHECK_INT(cron_tz_parse(bad.b, bad.n, &tz), -EBADMSG);
    build(&bad, false, tr, 2, offs, "");
    bad.b[44 + 8] = 2;
    CHECK_INT(cron_tz_parse(bad.b, bad.n, &tz), -EBADMSG);
}

static void test_tz_load(void)
{
    struct cron_tz *tz = (struct cron_tz *)&tz;
    CHECK_INT(cron_tz_load(zdir, "", &tz), 0);
    CHECK(tz == NULL);
    CHECK_INT(cron_tz_load(zdir, "UTC", &tz), 0);
    CHECK(tz == NULL);
    CHECK_INT(cron_tz_offset(NULL, 12345), 0);
    static const char *const invalid[] = {
        "/etc/passwd",    "../zoneinfo/Europe/Madrid", "Europe/../x", "Europe/",
        "Europe//Madrid", "Europe/Madrid.x",           "a b",         "Local",
        "local"};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        CHECK_INT(cron_tz_load(zdir, invalid[i], &tz), -EINVAL);
    char longname[300];
    memset(longname, 'a', 256);
    longname[256] = '\0';
    CHECK_INT(cron_tz_load(zdir, longname, &tz), -EINVAL);
    CHECK_INT(cron_tz_load(zdir, "Europe/Atlantis", &tz), -ENOENT);
    CHECK_INT(cron_tz_load(zdir, "Europe", &tz), -ENOENT); /* a directory */
    CHECK_INT(cron_tz_load(zdir, "Europe/Madrid/x", &tz), -ENOENT);
    CHECK_INT(cron_tz_load("/nonexistent-zoneinfo", "Europe/Madrid", &tz), -ENOENT);
    /* The system's copy when there is one (its future rules may change;
     * only a past offset is checked). */
    if (cron_tz_load(NULL, "Europe/Madrid", &tz) == 0) {
        CHECK_INT(cron_tz_offset(tz, utc(2024, 7, 1, 0, 0)), 7200);
        cron_tz_free(tz);
    }
    cron_tz_free(NULL);
}

static void test_skipped_day(void)
{
    /* Pacific/Apia skipped 2011-12-30 (built here: -10 then +14 from
     * 2011-12-30T10:00Z). robfig/Go loop forever on "0 0 1 * *" across
     * it; the walk takes the next day that exists. */
    const int64_t tr[] = {utc(2011, 12, 30, 10, 0), utc(2100, 1, 1, 0, 0)};
    const int32_t offs[] = {-10 * 3600, 14 * 3600};
    struct tzb z;
    build(&z, false, tr, 1, offs, "");
    struct cron_tz *tz = NULL;
    CHECK_INT(cron_tz_parse(z.b, z.n, &tz), 0);
    SEQ("0 0 1 * *", tz, utc(2011, 12, 1, 10, 0), utc(2011, 12, 31, 10, 0),
        utc(2012, 1, 31, 10, 0));
    SEQ("0 0 * * *", tz, utc(2011, 12, 29, 10, 0), utc(2011, 12, 30, 10, 0));
    cron_tz_free(tz);
}

static void test_due(void)
{
    struct cron_expr e;
    CHECK_INT(cron_parse("0 * * * *", &e, NULL, 0), 0);
    int64_t t0 = utc(2024, 1, 1, 0, 0), h = 3600;
    struct cron_due d;

    /* Nothing due yet. */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + 1800, -1, &d), 0);
    CHECK(!d.has_slot && !d.too_late && d.missed == 0 && !d.many);
    CHECK(d.has_next && d.next == t0 + h);
    /* One: on time. */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + h + 5, -1, &d), 0);
    CHECK(d.has_slot && d.slot == t0 + h && d.missed == 1 && !d.too_late);
    CHECK_INT(d.next, t0 + 2 * h);
    /* now exactly on a slot: due. */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + h, -1, &d), 0);
    CHECK(d.has_slot && d.slot == t0 + h && d.missed == 1);
    CHECK_INT(d.next, t0 + 2 * h);
    /* Five: the latest fires. */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + 5 * h + 600, -1, &d), 0);
    CHECK(d.has_slot && d.slot == t0 + 5 * h && d.missed == 5 && !d.many);
    /* 150: more than 100, still the latest (found by bisection). */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + 150 * h + 600, -1, &d), 0);
    CHECK(d.has_slot && d.slot == t0 + 150 * h && d.many);
    CHECK_INT(d.missed, CRON_MISSED_MAX + 1);
    CHECK_INT(d.next, t0 + 151 * h);
    /* Exactly 100 and 101. */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + 100 * h, -1, &d), 0);
    CHECK(d.missed == 100 && !d.many && d.slot == t0 + 100 * h);
    CHECK_INT(cron_due(&e, NULL, t0, t0 + 101 * h, -1, &d), 0);
    CHECK(d.missed == 101 && d.many && d.slot == t0 + 101 * h);
    /* Years of missed minutes: cheap, and exact. */
    struct cron_expr every;
    CHECK_INT(cron_parse("* * * * *", &every, NULL, 0), 0);
    CHECK_INT(cron_due(&every, NULL, t0, t0 + 3 * 365 * 86400 + 59, -1, &d), 0);
    CHECK(d.many && d.slot == t0 + 3 * 365 * 86400);

    /* Deadline 1 h at 05:10: the window is (04:10, 05:10], 05:00 is in. */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + 5 * h + 600, 3600, &d), 0);
    CHECK(d.has_slot && d.slot == t0 + 5 * h && d.missed == 1 && !d.too_late);
    /* Deadline 600 s at 05:10: 05:00 is exactly at the deadline, which
     * mostRecentScheduleTime excludes: too late. */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + 5 * h + 600, 600, &d), 0);
    CHECK(d.has_slot && d.slot == t0 + 5 * h && d.too_late && d.missed == 0);
    CHECK_INT(d.next, t0 + 6 * h);
    /* Deadline 0: nothing is ever in time (as in Kubernetes). */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + 5 * h, 0, &d), 0);
    CHECK(d.has_slot && d.too_late && d.missed == 0);
    /* A deadline silences "many": 150 missed, 2 h deadline -> 2 counted. */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + 150 * h + 600, 2 * 3600, &d), 0);
    CHECK(d.has_slot && d.slot == t0 + 150 * h && d.missed == 2 && !d.many && !d.too_late);
    /* A huge deadline is no deadline. */
    CHECK_INT(cron_due(&e, NULL, t0, t0 + 5 * h + 600, INT64_MAX, &d), 0);
    CHECK(d.missed == 5 && !d.too_late);

    /* earliest after now (clock skew): nothing due, next after earliest. */
    CHECK_INT(cron_due(&e, NULL, t0 + 10 * h, t0 + 5 * h, -1, &d), 0);
    CHECK(!d.has_slot && d.has_next && d.next == t0 + 11 * h);
    /* A schedule that never fires. */
    struct cron_expr never;
    CHECK_INT(cron_parse("0 0 30 2 *", &never, NULL, 0), 0);
    CHECK_INT(cron_due(&never, NULL, t0, t0 + 86400, -1, &d), 0);
    CHECK(!d.has_slot && !d.has_next);
    CHECK_INT(cron_due(&e, NULL, CRON_TIME_MIN - 1, t0, -1, &d), -EINVAL);

    /* In a zone, across the Madrid overlap: 02:00 twice. */
    struct cron_tz *mad = zone("Europe/Madrid");
    CHECK_INT(cron_due(&e, mad, utc(2024, 10, 26, 23, 30), utc(2024, 10, 27, 3, 30), -1, &d), 0);
    CHECK(d.has_slot && d.slot == utc(2024, 10, 27, 3, 0) && d.missed == 4);
    cron_tz_free(mad);
}

int main(void)
{
    const char *data = getenv("RB_TEST_DATA");
    snprintf(zdir, sizeof zdir, "%s/zoneinfo", data ? data : "test/data");
    RUN(test_parse_forms);
    RUN(test_parse_errors);
    RUN(test_next_utc);
    RUN(test_next_never);
    RUN(test_next_dst);
    RUN(test_from_local);
    RUN(test_tzif);
    RUN(test_tz_load);
    RUN(test_skipped_day);
    RUN(test_due);
    return check_finish();
}
