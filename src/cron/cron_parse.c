/* cron_parse.c - the five-field cron syntax, as robfig/cron v3's
 * ParseStandard reads it (cron.h lists the few deliberate differences). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cron-internal.h"

struct field_def {
    const char *name;
    unsigned min, max;
    const char *const *names; /* names[i] is value min + i, or NULL */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct field_def fields[5] = {
    {"minute", 0, 59, NULL},          {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day-of-week", 0, 6, day_names},
};

/* Tokens longer than this are cut in messages. */
#define TOK_SHOW 40

struct errbuf {
    char *buf;
    size_t len;
};

__attribute__((format(printf, 2, 3))) static int fail(const struct errbuf *e, const char *fmt, ...)
{
    if (e->buf && e->len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->buf, e->len, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* A decimal number (an optional '+', as Go's strconv.Atoi takes) or, when
 * the field has them, a name in any case. Values past 9999 are kept as
 * 9999 + 1: out of range for every field either way. */
static int value(const struct field_def *f, const char *s, size_t n, unsigned *out)
{
    if (f->names) {
        for (unsigned i = 0; f->names[i]; i++)
            if (n == strlen(f->names[i]) && strncasecmp(s, f->names[i], n) == 0) {
                *out = f->min + i;
                return 0;
            }
    }
    size_t i = 0;
    if (n > 0 && s[0] == '+')
        i++;
    if (i == n)
        return -EINVAL;
    unsigned v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        if (v <= 9999)
            v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v > 9999 ? 10000 : v;
    return 0;
}

/* One item: "*", "?", "a", "a-b", each with an optional "/step". */
static int item(const struct field_def *f, const char *s, size_t n, uint64_t *bits,
                const struct errbuf *e)
{
    int show = n > TOK_SHOW ? TOK_SHOW : (int)n;
    const char *slash = memchr(s, '/', n);
    size_t rn = slash ? (size_t)(slash - s) : n;
    if (slash && memchr(slash + 1, '/', n - rn - 1))
        return fail(e, "%s: \"%.*s\" has more than one '/'", f->name, show, s);
    const char *dash = memchr(s, '-', rn);
    if (dash && memchr(dash + 1, '-', rn - (size_t)(dash - s) - 1))
        return fail(e, "%s: \"%.*s\" has more than one '-'", f->name, show, s);

    unsigned start, end, step = 1;
    bool star = false;
    /* The tokens of start and end, for messages. */
    const char *lt = s, *ht = s;
    size_t ltn = rn, htn = rn;
    if (rn == 1 && (s[0] == '*' || s[0] == '?')) {
        start = f->min;
        end = f->max;
        star = true;
    } else {
        size_t ln = dash ? (size_t)(dash - s) : rn;
        if (ln == 1 && (s[0] == '*' || s[0] == '?'))
            return fail(e, "%s: \"%.*s\": '%c' cannot start a range", f->name, show, s, s[0]);
        if (value(f, s, ln, &start) < 0)
            return fail(e, "%s: \"%.*s\" is not a %s", f->name, ln > TOK_SHOW ? TOK_SHOW : (int)ln,
                        s, f->names ? "number or name" : "number");
        end = start;
        ltn = htn = ln;
        if (dash) {
            const char *h = dash + 1;
            size_t hn = rn - ln - 1;
            ht = h;
            htn = hn;
            if (value(f, h, hn, &end) < 0)
                return fail(e, "%s: \"%.*s\" is not a %s", f->name,
                            hn > TOK_SHOW ? TOK_SHOW : (int)hn, h,
                            f->names ? "number or name" : "number");
        }
    }
    if (slash) {
        const char *st = slash + 1;
        size_t sn = n - rn - 1;
        struct field_def num = {f->name, 0, 0, NULL};
        if (value(&num, st, sn, &step) < 0)
            return fail(e, "%s: step \"%.*s\" is not a number", f->name,
                        sn > TOK_SHOW ? TOK_SHOW : (int)sn, st);
        if (step == 0)
            return fail(e, "%s: \"%.*s\": step must be at least 1", f->name, show, s);
        if (!dash)
            end = f->max; /* "a/n" is "a-max/n" */
        if (step > 1)
            star = false; /* robfig: "*\/2" is not a star for dayMatches */
    }
    if (start < f->min || start > f->max)
        return fail(e, "%s: \"%.*s\" is out of range %u-%u", f->name,
                    ltn > TOK_SHOW ? TOK_SHOW : (int)ltn, lt, f->min, f->max);
    if (end > f->max)
        return fail(e, "%s: \"%.*s\" is out of range %u-%u", f->name,
                    htn > TOK_SHOW ? TOK_SHOW : (int)htn, ht, f->min, f->max);
    if (start > end)
        return fail(e, "%s: \"%.*s\": range start %u is after its end %u", f->name, show, s, start,
                    end);
    for (unsigned v = start; v <= end && v < 63; v += step) /* end <= max < 63 */
        *bits |= UINT64_C(1) << v;
    if (star)
        *bits |= CRON_STAR;
    return 0;
}

/* A comma list; empty items are skipped (robfig splits with FieldsFunc). */
static int field(const struct field_def *f, const char *s, size_t n, uint64_t *out,
                 const struct errbuf *e)
{
    uint64_t bits = 0;
    size_t i = 0;
    bool any = false;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        if (j > i) {
            int r = item(f, s + i, j - i, &bits, e);
            if (r < 0)
                return r;
            any = true;
        }
        i = j + 1;
    }
    if (!any)
        return fail(e, "%s: \"%.*s\" has no values", f->name, n > TOK_SHOW ? TOK_SHOW : (int)n, s);
    *out = bits;
    return 0;
}

#define ALL(lo, hi) ((((UINT64_C(1) << ((hi) + 1)) - 1) & ~((UINT64_C(1) << (lo)) - 1)) | CRON_STAR)

static int macro(const char *spec, struct cron_expr *out, const struct errbuf *e)
{
    /* robfig's descriptors: second 0, minute 0, and the rest. */
    struct cron_expr x = {1, 1, ALL(1, 31), ALL(1, 12), ALL(0, 6)};
    if (strcmp(spec, "@yearly") == 0 || strcmp(spec, "@annually") == 0) {
        x.dom = UINT64_C(1) << 1;
        x.month = UINT64_C(1) << 1;
    } else if (strcmp(spec, "@monthly") == 0) {
        x.dom = UINT64_C(1) << 1;
    } else if (strcmp(spec, "@weekly") == 0) {
        x.dow = 1;
    } else if (strcmp(spec, "@daily") == 0 || strcmp(spec, "@midnight") == 0) {
        /* as initialized */
    } else if (strcmp(spec, "@hourly") == 0) {
        x.hour = ALL(0, 23);
    } else if (strncmp(spec, "@every", 6) == 0) {
        return fail(e, "@every is not supported: a schedule must be on whole minutes of the "
                       "clock (use e.g. \"*/5 * * * *\")");
    } else {
        return fail(e,
                    "unknown macro \"%.*s\" (one of @yearly @annually @monthly @weekly "
                    "@daily @midnight @hourly)",
                    TOK_SHOW, spec);
    }
    *out = x;
    return 0;
}

int cron_parse(const char *spec, struct cron_expr *out, char *err, size_t errlen)
{
    const struct errbuf e = {err, errlen};
    if (!spec || !spec[0])
        return fail(&e, "empty schedule");
    if (strncmp(spec, "TZ=", 3) == 0 || strncmp(spec, "CRON_TZ=", 8) == 0)
        return fail(&e, "TZ= and CRON_TZ= are not allowed in the schedule: set the time zone "
                        "field instead");
    if (spec[0] == '@')
        return macro(spec, out, &e);

    const char *tok[5];
    size_t len[5];
    size_t n = 0;
    for (const char *p = spec; *p;) {
        while (*p && is_blank(*p))
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && !is_blank(*q))
            q++;
        if (n < 5) {
            tok[n] = p;
            len[n] = (size_t)(q - p);
        }
        n++;
        p = q;
    }
    if (n != 5)
        return fail(&e,
                    "expected exactly 5 fields (minute hour day-of-month month day-of-week), "
                    "found %zu",
                    n);
    uint64_t bits[5];
    for (size_t i = 0; i < 5; i++) {
        int r = field(&fields[i], tok[i], len[i], &bits[i], &e);
        if (r < 0)
            return r;
    }
    *out = (struct cron_expr){bits[0], bits[1], bits[2], bits[3], bits[4]};
    return 0;
}
