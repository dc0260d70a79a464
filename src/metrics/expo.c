/* expo.c - the growing buffer and the text format's lines. */
#include "metrics/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void metrics_buf_init(struct metrics_buf *b)
{
    memset(b, 0, sizeof *b);
}

void metrics_buf_free(struct metrics_buf *b)
{
    free(b->data);
    metrics_buf_init(b);
}

void metrics_buf_reset(struct metrics_buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void fail(struct metrics_buf *b, int err)
{
    if (!b->err)
        b->err = err;
}

/* Room for n more bytes plus the NUL. */
static int reserve(struct metrics_buf *b, size_t n)
{
    if (b->err)
        return -1;
    if (n > SIZE_MAX / 2 - b->len) {
        fail(b, -ENOMEM);
        return -1;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        fail(b, -ENOMEM);
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void metrics_buf_append(struct metrics_buf *b, const char *s, size_t n)
{
    if (reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void put(struct metrics_buf *b, const char *s)
{
    metrics_buf_append(b, s, strlen(s));
}

void metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fail(b, -EINVAL);
        return;
    }
    if ((size_t)n < sizeof small) {
        metrics_buf_append(b, small, (size_t)n);
        return;
    }
    if (reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static int name_valid(const char *s, int colon_ok)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (colon_ok && c == ':') || (p != s && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

int metrics_name_valid(const char *name)
{
    return name_valid(name, 1);
}

int metrics_label_name_valid(const char *name)
{
    /* Names starting with "__" are reserved for Prometheus itself. */
    return name_valid(name, 0) && strncmp(name, "__", 2) != 0;
}

/* HELP text escapes backslash and newline; label values also the quote. */
static void put_escaped(struct metrics_buf *b, const char *s, int quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (quote && *s == '"')
            rep = "\\\"";
        if (!rep)
            continue;
        metrics_buf_append(b, run, (size_t)(s - run));
        put(b, rep);
        run = s + 1;
    }
    metrics_buf_append(b, run, (size_t)(s - run));
}

void metrics_family(struct metrics_buf *b, const char *name, enum metrics_type type,
                    const char *help)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    if (!metrics_name_valid(name) || (unsigned)type > METRICS_HISTOGRAM) {
        fail(b, -EINVAL);
        return;
    }
    metrics_buf_printf(b, "# HELP %s ", name);
    put_escaped(b, help ? help : "", 0);
    metrics_buf_printf(b, "\n# TYPE %s %s\n", name, types[type]);
}

/* The fewest significant digits that parse back to the same double, so
 * 0.1 is not printed with 17 digits; plain notation unless the exponent is
 * extreme, so that le="10" and byte counts read naturally. */
static void format_double(char *out, size_t n, double v)
{
    if (isnan(v)) {
        snprintf(out, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char e[40];
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(e, sizeof e, "%.*e", digits - 1, v);
        if (strtod(e, NULL) == v)
            break;
    }
    snprintf(e, sizeof e, "%.*e", digits - 1, v);
    const char *x = strchr(e, 'e');
    int exp = x ? (int)strtol(x + 1, NULL, 10) : 0;
    if (exp < -4 || exp >= 21) {
        snprintf(out, n, "%s", e);
        return;
    }
    int decimals = digits - 1 - exp;
    snprintf(out, n, "%.*f", decimals > 0 ? decimals : 0, v);
}

/* "name{k="v",...,extra_k="extra_v"}" from a NULL-ended key/value list;
 * the braces are left out when there are no labels. */
static void put_series(struct metrics_buf *b, const char *name, const char *suffix, va_list ap,
                       const char *extra_k, const char *extra_v)
{
    put(b, name);
    if (suffix)
        put(b, suffix);
    int n = 0;
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        if (!metrics_label_name_valid(k)) {
            fail(b, -EINVAL);
            return;
        }
        put(b, n++ ? "," : "{");
        put(b, k);
        put(b, "=\"");
        put_escaped(b, v ? v : "", 1);
        put(b, "\"");
    }
    if (extra_k) {
        put(b, n++ ? "," : "{");
        put(b, extra_k);
        put(b, "=\"");
        put_escaped(b, extra_v, 1);
        put(b, "\"");
    }
    if (n)
        put(b, "}");
}

static void sample_line(struct metrics_buf *b, const char *name, const char *suffix,
                        const char *value, va_list ap, const char *extra_k, const char *extra_v)
{
    if (!metrics_name_valid(name)) {
        fail(b, -EINVAL);
        return;
    }
    put_series(b, name, suffix, ap, extra_k, extra_v);
    put(b, " ");
    put(b, value);
    put(b, "\n");
}

void metrics_sample(struct metrics_buf *b, const char *name, double value, ...)
{
    char v[40];
    format_double(v, sizeof v, value);
    va_list ap;
    va_start(ap, value);
    sample_line(b, name, NULL, v, ap, NULL, NULL);
    va_end(ap);
}

void metrics_sample_u64(struct metrics_buf *b, const char *name, uint64_t value, ...)
{
    char v[24];
    snprintf(v, sizeof v, "%" PRIu64, value);
    va_list ap;
    va_start(ap, value);
    sample_line(b, name, NULL, v, ap, NULL, NULL);
    va_end(ap);
}

void metrics_histogram(struct metrics_buf *b, const char *name, const struct metrics_hist *h, ...)
{
    char le[40], v[40];
    va_list ap, cp;
    va_start(ap, h);
    for (size_t i = 0; i < h->n; i++) {
        format_double(le, sizeof le, h->bounds[i]);
        snprintf(v, sizeof v, "%" PRIu64, h->buckets[i]);
        va_copy(cp, ap);
        sample_line(b, name, "_bucket", v, cp, "le", le);
        va_end(cp);
    }
    snprintf(v, sizeof v, "%" PRIu64, h->count);
    va_copy(cp, ap);
    sample_line(b, name, "_bucket", v, cp, "le", "+Inf");
    va_end(cp);
    format_double(v, sizeof v, h->sum);
    va_copy(cp, ap);
    sample_line(b, name, "_sum", v, cp, NULL, NULL);
    va_end(cp);
    snprintf(v, sizeof v, "%" PRIu64, h->count);
    sample_line(b, name, "_count", v, ap, NULL, NULL);
    va_end(ap);
}
