/* metrics - the Prometheus text exposition format (version 0.0.4).
 *
 * Pure rendering into a growing buffer; no globals, no I/O except
 * metrics_process_read. A scrape is rendered from snapshots of the
 * modules' counters (ctrl_get_stats, ctrl_informer_stats,
 * kube_client_stats) taken on the loop's thread:
 *
 *   struct metrics_buf b;
 *   metrics_buf_init(&b);
 *   metrics_family(&b, "runbook_leader", METRICS_GAUGE, "1 while this replica leads.");
 *   metrics_sample_u64(&b, "runbook_leader", 1, NULL);
 *   metrics_sample_u64(&b, "runbook_relists_total", 3, "resource", "jobs", NULL);
 *   if (b.err == 0) ... b.data, b.len ...
 *   metrics_buf_free(&b);
 *
 * Labels are key/value string pairs ending with NULL (as in log_kv).
 * Values are escaped here; names (metric and label) must be valid
 * identifiers, and an invalid one fails the whole render with -EINVAL
 * rather than emitting a line that breaks the scrape.
 *
 * Errors are sticky: the first failure is kept in b->err and later writes
 * are skipped, so a render is checked once at the end. */
#ifndef RB_METRICS_H
#define RB_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* The Content-Type of a /metrics response in this format. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_buf {
    char *data; /* NUL-terminated once anything was written, else NULL */
    size_t len;
    size_t cap;
    int err; /* 0, or the first error: -ENOMEM, -EINVAL (bad name) */
};

void metrics_buf_init(struct metrics_buf *b);
void metrics_buf_free(struct metrics_buf *b);
/* Empties the buffer and clears err, keeping the memory for the next scrape. */
void metrics_buf_reset(struct metrics_buf *b);
void metrics_buf_append(struct metrics_buf *b, const char *s, size_t n);
void metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* [a-zA-Z_:][a-zA-Z0-9_:]* ; label names additionally may not contain ':'. */
int metrics_name_valid(const char *name);
int metrics_label_name_valid(const char *name);

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

/* "# HELP name help" and "# TYPE name type". Every sample of the family
 * must follow, before the next family. */
void metrics_family(struct metrics_buf *b, const char *name, enum metrics_type type,
                    const char *help);

/* One sample line "name{k="v",...} value". Doubles print as the shortest
 * text that reads back exactly, and +Inf, -Inf, NaN; counters that are
 * integers should use the _u64 form, which is exact. */
void metrics_sample(struct metrics_buf *b, const char *name, double value, ...)
    __attribute__((sentinel));
void metrics_sample_u64(struct metrics_buf *b, const char *name, uint64_t value, ...)
    __attribute__((sentinel));

/* A histogram's samples (after metrics_family(..., METRICS_HISTOGRAM)):
 * name_bucket{...,le="bound"} for each bound, le="+Inf" (= count), then
 * name_sum and name_count. buckets[i] counts observations <= bounds[i]
 * (cumulative, as struct ctrl_hist keeps them); bounds ascend. */
struct metrics_hist {
    size_t n;
    const double *bounds;
    const uint64_t *buckets;
    uint64_t count;
    double sum;
};
void metrics_histogram(struct metrics_buf *b, const char *name, const struct metrics_hist *h, ...)
    __attribute__((sentinel));

#endif
