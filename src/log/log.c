#include "log/log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

/* Written once by log_setup() before the loop starts, read-only after. */
static struct {
    enum log_level level;
    enum log_format format;
    FILE *out;
} log_cfg = {LOGL_INFO, LOG_FORMAT_LOGFMT, NULL};

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void log_setup(enum log_level level, enum log_format format, FILE *out)
{
    log_cfg.level = level;
    log_cfg.format = format;
    log_cfg.out = out;
}

int log_enabled(enum log_level level)
{
    return level >= log_cfg.level && level < LOGL_OFF;
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i <= LOGL_OFF; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcmp(s, "warning") == 0) {
        *out = LOGL_WARN;
        return 0;
    }
    return -EINVAL;
}

int log_format_parse(const char *s, enum log_format *out)
{
    if (strcmp(s, "logfmt") == 0)
        *out = LOG_FORMAT_LOGFMT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -EINVAL;
    return 0;
}

/* logfmt quotes a value holding a space, '=', '"' or a control byte. */
static int logfmt_needs_quote(const char *v)
{
    if (*v == '\0')
        return 1;
    for (; *v; v++)
        if ((unsigned char)*v <= ' ' || *v == '=' || *v == '"' || *v == '\\')
            return 1;
    return 0;
}

static void put_escaped(FILE *f, const char *v)
{
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

static void put_field(FILE *f, int first, const char *k, const char *v)
{
    if (log_cfg.format == LOG_FORMAT_JSON) {
        fputs(first ? "{\"" : ",\"", f);
        put_escaped(f, k);
        fputs("\":\"", f);
        put_escaped(f, v);
        fputc('"', f);
        return;
    }
    if (!first)
        fputc(' ', f);
    fprintf(f, "%s=", k);
    if (logfmt_needs_quote(v)) {
        fputc('"', f);
        put_escaped(f, v);
        fputc('"', f);
    } else {
        fputs(v, f);
    }
}

void log_kv(enum log_level level, const char *msg, ...)
{
    if (!log_enabled(level))
        return;
    FILE *f = log_cfg.out ? log_cfg.out : stderr;
    char ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000);

    flockfile(f);
    put_field(f, 1, "ts", ts);
    put_field(f, 0, "level", level_names[level]);
    put_field(f, 0, "msg", msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        if (v)
            put_field(f, 0, k, v);
    }
    va_end(ap);
    fputs(log_cfg.format == LOG_FORMAT_JSON ? "}\n" : "\n", f);
    funlockfile(f);
    fflush(f);
}
