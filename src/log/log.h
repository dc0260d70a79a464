/* log - one line per event, leveled, logfmt or JSON.
 *
 *   log_kv(LOGL_INFO, "step started", "run", "ns/r1", "step", "build", NULL);
 *
 * Arguments after the message are key/value string pairs ending with NULL;
 * a NULL value is skipped, so callers can pass optional fields as is.
 * The configuration is set once by the daemon at start-up (log_setup) and
 * only read afterwards. Check log_enabled() before formatting values on a
 * hot path. */
#ifndef RB_LOG_H
#define RB_LOG_H

#include <stdio.h>

enum log_level { LOGL_DEBUG = 0, LOGL_INFO, LOGL_WARN, LOGL_ERROR, LOGL_OFF };
enum log_format { LOG_FORMAT_LOGFMT = 0, LOG_FORMAT_JSON };

/* out may be NULL for stderr. */
void log_setup(enum log_level level, enum log_format format, FILE *out);
int log_enabled(enum log_level level);

/* Parse "debug", "info", "warn", "error", "off" / "logfmt", "json".
 * Return 0, or -EINVAL for an unknown name. */
int log_level_parse(const char *s, enum log_level *out);
int log_format_parse(const char *s, enum log_format *out);

void log_kv(enum log_level level, const char *msg, ...) __attribute__((sentinel));

#endif
