/* Helpers for projection functions: walk object paths, parse API times. */
#include "informer/inf.h"

#include <stdarg.h>
#include <string.h>

#include <json-c/json.h>

static struct json_object *walk(struct json_object *obj, va_list ap)
{
    const char *k;
    while (obj && (k = va_arg(ap, const char *))) {
        struct json_object *next;
        if (!json_object_is_type(obj, json_type_object) ||
            !json_object_object_get_ex(obj, k, &next))
            return NULL;
        obj = next;
    }
    return obj;
}

struct json_object *inf_jget(struct json_object *obj, ...)
{
    va_list ap;
    va_start(ap, obj);
    struct json_object *r = walk(obj, ap);
    va_end(ap);
    return r;
}

const char *inf_jstr(struct json_object *obj, ...)
{
    va_list ap;
    va_start(ap, obj);
    struct json_object *r = walk(obj, ap);
    va_end(ap);
    return json_object_is_type(r, json_type_string) ? json_object_get_string(r) : NULL;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil), so no timegm() or TZ is needed. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t inf_parse_time(const char *s)
{
    int y, mo, d, h, mi, se;
    if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return 0;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int64_t t = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return t;
    /* Numeric offsets: the API server writes UTC, but accept them anyway. */
    int oh, om;
    if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' && !digits(p + 1, 2, &oh) &&
        !digits(p + 4, 2, &om))
        return *p == '+' ? t - (oh * 3600 + om * 60) : t + (oh * 3600 + om * 60);
    return 0;
}
