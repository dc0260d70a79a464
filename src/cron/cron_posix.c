/* cron_posix.c - the POSIX TZ rule of a TZif footer ("CET-1CEST,M3.5.0,
 * M10.5.0/3"), which gives the offset for every time after the file's last
 * transition. Parsed and evaluated as Go's time package does (tzset), so a
 * schedule in 2040 agrees with CronJob's. */
#include <errno.h>

#include "cron-internal.h"

struct cursor {
    const char *s, *end;
};

static bool at_end(const struct cursor *c)
{
    return c->s >= c->end;
}

static char peek(const struct cursor *c)
{
    return at_end(c) ? '\0' : *c->s;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* A zone abbreviation: <...> quoted (any of [A-Za-z0-9+-]), or at least 3
 * letters. Only its extent matters: Runbook never shows it. */
static int parse_name(struct cursor *c)
{
    if (peek(c) == '<') {
        c->s++;
        size_t n = 0;
        while (!at_end(c) && *c->s != '>') {
            char ch = *c->s;
            if (!is_alpha(ch) && !is_digit(ch) && ch != '+' && ch != '-')
                return -EBADMSG;
            c->s++;
            n++;
        }
        if (at_end(c) || n < 3)
            return -EBADMSG;
        c->s++;
        return 0;
    }
    size_t n = 0;
    while (!at_end(c) && is_alpha(*c->s)) {
        c->s++;
        n++;
    }
    return n >= 3 ? 0 : -EBADMSG;
}

static int parse_num(struct cursor *c, int min, int max, int *out)
{
    if (!is_digit(peek(c)))
        return -EBADMSG;
    int v = 0;
    while (is_digit(peek(c))) {
        v = v * 10 + (*c->s - '0');
        if (v > max)
            return -EBADMSG;
        c->s++;
    }
    if (v < min)
        return -EBADMSG;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]], hours up to max_h: 167 for rule times (RFC 8536),
 * 24 for offsets (POSIX; Go takes more, no real zone needs it). Returns
 * the value as written (POSIX offsets are west-positive; the caller
 * negates). */
static int parse_hms(struct cursor *c, int max_h, int32_t *out)
{
    int sign = 1, h = 0, m = 0, s = 0;
    if (peek(c) == '+' || peek(c) == '-') {
        sign = *c->s == '-' ? -1 : 1;
        c->s++;
    }
    if (parse_num(c, 0, max_h, &h) < 0)
        return -EBADMSG;
    if (peek(c) == ':') {
        c->s++;
        if (parse_num(c, 0, 59, &m) < 0)
            return -EBADMSG;
        if (peek(c) == ':') {
            c->s++;
            if (parse_num(c, 0, 59, &s) < 0)
                return -EBADMSG;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int parse_rule(struct cursor *c, struct cron_rule *r)
{
    r->time = 2 * 3600;
    r->day = r->week = r->mon = 0;
    char ch = peek(c);
    if (ch == 'J') {
        c->s++;
        r->kind = 'J';
        if (parse_num(c, 1, 365, &r->day) < 0)
            return -EBADMSG;
    } else if (ch == 'M') {
        c->s++;
        r->kind = 'M';
        if (parse_num(c, 1, 12, &r->mon) < 0 || peek(c) != '.')
            return -EBADMSG;
        c->s++;
        if (parse_num(c, 1, 5, &r->week) < 0 || peek(c) != '.')
            return -EBADMSG;
        c->s++;
        if (parse_num(c, 0, 6, &r->day) < 0)
            return -EBADMSG;
    } else if (is_digit(ch)) {
        r->kind = 'D';
        if (parse_num(c, 0, 365, &r->day) < 0)
            return -EBADMSG;
    } else {
        return -EBADMSG;
    }
    if (peek(c) == '/') {
        c->s++;
        if (parse_hms(c, 167, &r->time) < 0)
            return -EBADMSG;
    }
    return 0;
}

int cron_posix_parse(const char *s, size_t len, struct cron_posix *out)
{
    struct cursor c = {s, s + len};
    struct cron_posix p = {0};
    int32_t v;
    if (parse_name(&c) < 0 || parse_hms(&c, 24, &v) < 0)
        return -EBADMSG;
    p.std_off = -v;
    if (at_end(&c)) {
        *out = p;
        return 0;
    }
    if (parse_name(&c) < 0)
        return -EBADMSG;
    p.has_dst = true;
    p.dst_off = p.std_off + 3600;
    if (!at_end(&c) && peek(&c) != ',') {
        if (parse_hms(&c, 24, &v) < 0)
            return -EBADMSG;
        p.dst_off = -v;
    }
    if (at_end(&c)) {
        /* No rule: the POSIX default, the US rule since 2007 (Go and
         * tzcode both use it). */
        p.start = (struct cron_rule){'M', 0, 2, 3, 2 * 3600};
        p.end = (struct cron_rule){'M', 0, 1, 11, 2 * 3600};
        *out = p;
        return 0;
    }
    if (peek(&c) != ',')
        return -EBADMSG;
    c.s++;
    if (parse_rule(&c, &p.start) < 0 || peek(&c) != ',')
        return -EBADMSG;
    c.s++;
    if (parse_rule(&c, &p.end) < 0 || !at_end(&c))
        return -EBADMSG;
    *out = p;
    return 0;
}

/* Seconds from the start of year (UTC) to the rule's moment, the rule's
 * time of day being local time at offset off (Go's tzruleTime). */
static int64_t rule_time(int64_t year, const struct cron_rule *r, int32_t off)
{
    int64_t d;
    switch (r->kind) {
    case 'J':
        d = r->day - 1;
        if (cron_is_leap(year) && r->day >= 60)
            d++;
        break;
    case 'D':
        d = r->day;
        break;
    default: {
        /* Weekday of the 1st of the month, then the week-th such day,
         * the last one for week 5. */
        int64_t first = cron_days_from_civil(year, r->mon, 1);
        int wd = (int)cron_mod(first + 4, 7); /* 1970-01-01 was a Thursday */
        int64_t dd = r->day - wd;
        if (dd < 0)
            dd += 7;
        int dim = cron_days_in_month(year, r->mon);
        for (int i = 1; i < r->week; i++) {
            if (dd + 7 >= dim)
                break;
            dd += 7;
        }
        d = first + dd - cron_days_from_civil(year, 1, 1);
        break;
    }
    }
    return d * 86400 + r->time - off;
}

int32_t cron_posix_offset(const struct cron_posix *p, int64_t t)
{
    if (!p->has_dst)
        return p->std_off;
    int64_t y;
    int m, d;
    cron_civil_from_days(cron_floordiv(t, 86400), &y, &m, &d);
    int64_t ysec = t - cron_days_from_civil(y, 1, 1) * 86400;
    int64_t start = rule_time(y, &p->start, p->std_off);
    int64_t end = rule_time(y, &p->end, p->dst_off);
    bool dst;
    if (start <= end)
        dst = ysec >= start && ysec < end;
    else /* southern hemisphere: DST spans the new year */
        dst = ysec < end || ysec >= start;
    return dst ? p->dst_off : p->std_off;
}
