/* The operator's /metrics: its families rendered from the modules' stats
 * (operator wiring, so it lives with main.c; src/metrics only knows the
 * exposition format). */
#ifndef RB_OPERATOR_METRICS_H
#define RB_OPERATOR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/metrics.h"

struct ctrl_stats;
struct inf_stats;
struct kube_stats;

/* One informer's counters and the resource label it is reported under. */
struct metrics_informer {
    const char *resource; /* "jobs", "pods", ... (ctrl_informer_name) */
    const struct inf_stats *stats;
};

struct metrics_process {
    uint64_t resident_bytes; /* /proc/self/statm resident pages * page size */
    double cpu_seconds;      /* user + system, getrusage(RUSAGE_SELF) */
};

/* Reads the calling process's figures. 0, or a negative errno (then *out
 * holds what could be read, zero for the rest). */
int metrics_process_read(struct metrics_process *out);

/* Renders every family of the operator's /metrics into b (appending).
 * Any of cs, infs, ks, proc may be NULL (n_infs 0): their families are left
 * out, e.g. before the controller exists. leading: 1 while this replica
 * holds the lease (or leader election is off). Returns b->err. */
int metrics_render_operator(struct metrics_buf *b, const struct ctrl_stats *cs,
                            const struct metrics_informer *infs, size_t n_infs,
                            const struct kube_stats *ks, int leading,
                            const struct metrics_process *proc);

/* The Trigger runtime's families (appending): deliveries by Trigger and
 * result, schedule counters and lag, and its own API client's requests and
 * rate-limit waits (ks, may be NULL). t NULL renders nothing. */
struct trigd;
int metrics_render_triggers(struct metrics_buf *b, const struct trigd *t,
                            const struct kube_stats *ks);

/* The web UI's: sessions, sign-ins, the people's writes by result,
 * messages. u NULL (the UI is off) renders nothing. */
struct ui;
int metrics_render_ui(struct metrics_buf *b, const struct ui *u);

#endif
