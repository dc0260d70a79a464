/* Fuzz target: "<cron expression>\n<TZif bytes>" (no newline: the whole
 * input is the expression, in UTC; nothing after it: UTC too). The
 * expression goes through cron_parse, the rest through cron_tz_parse, and
 * when both are accepted, cron_next from a few fixed times (1970, around
 * 2024's DST changes, 2040, before 1970) and cron_due. Invariants abort:
 *  - a rejected expression has a message; a rejected zone is -EBADMSG and
 *    leaves *out alone;
 *  - cron_next returns 0 or -ENOENT; a fire time is strictly later, its
 *    wall time in the zone matches every field (second 0, robfig's day
 *    rule), and successive fire times increase;
 *  - cron_due's slot lies in (earliest, now], its next after now. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_cron: %s:%d: %s\n", __FILE__, __LINE__, #c);                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool matches(const struct cron_expr *e, const struct cron_tz *tz, int64_t t)
{
    struct cron_tm tm;
    cron_tz_local(tz, t, &tm);
    bool dom = (e->dom >> tm.day & 1) != 0, dow = (e->dow >> tm.wday & 1) != 0;
    bool day = ((e->dom | e->dow) & CRON_STAR) ? dom && dow : dom || dow;
    return tm.second == 0 && (e->minute >> tm.minute & 1) && (e->hour >> tm.hour & 1) &&
           (e->month >> tm.month & 1) && day;
}

static void check_schedule(const struct cron_expr *e, const struct cron_tz *tz)
{
    static const int64_t starts[] = {0, 1729987200, 1710032400, 2216113200, -1000000007};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        int64_t t = starts[i];
        for (int k = 0; k < 4; k++) {
            int64_t next = 0;
            int r = cron_next(e, tz, t, &next);
            REQUIRE(r == 0 || r == -ENOENT);
            if (r < 0)
                break;
            REQUIRE(next > t);
            REQUIRE(matches(e, tz, next));
            t = next;
        }
        struct cron_due d;
        int64_t now = starts[i] + 7 * 86400 + 1234;
        REQUIRE(cron_due(e, tz, starts[i], now, i % 2 ? 3600 : -1, &d) == 0);
        if (d.has_slot)
            REQUIRE(d.slot > starts[i] && d.slot <= now && matches(e, tz, d.slot));
        if (d.has_next)
            REQUIRE(d.next > now);
        REQUIRE(d.missed <= CRON_MISSED_MAX + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t elen = nl ? (size_t)(nl - data) : size;
    char *expr = malloc(elen + 1);
    REQUIRE(expr);
    memcpy(expr, data, elen);
    expr[elen] = '\0';

    struct cron_tz *tz = NULL;
    bool tz_ok = true;
    if (nl && size - elen - 1 > 0) {
        struct cron_tz *sentinel = (struct cron_tz *)&tz;
        tz = sentinel;
        int r = cron_tz_parse(nl + 1, size - elen - 1, &tz);
        REQUIRE(r == 0 || r == -EBADMSG);
        if (r < 0) {
            REQUIRE(tz == sentinel);
            tz = NULL;
            tz_ok = false;
        } else {
            /* Every offset is sane; local time round-trips outside
             * transitions. */
            int64_t t = 1700000000;
            int32_t off = cron_tz_offset(tz, t);
            REQUIRE(off > -26 * 3600 && off < 26 * 3600);
        }
    }

    struct cron_expr e;
    char err[128];
    err[0] = '\0';
    if (cron_parse(expr, &e, err, sizeof err) < 0) {
        REQUIRE(err[0] != '\0');
    } else if (tz_ok) {
        check_schedule(&e, tz);
    }
    cron_tz_free(tz);
    free(expr);
    return 0;
}
