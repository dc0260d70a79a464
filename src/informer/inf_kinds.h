/* inf_kinds - ready-made projections of batch/v1 Job and v1 Pod: what the
 * operator reads of its children, a few hundred bytes per object instead
 * of the 4-5 KB of JSON (managedFields alone are a quarter of it).
 *
 * String fields point into one allocation owned by the record (buf_), so a
 * record costs one malloc besides the cache's own; absent values are NULL. */
#ifndef RB_INF_KINDS_H
#define RB_INF_KINDS_H

#include <stdint.h>

#include "informer/inf.h"

/* Labels the operator puts on Jobs and their pod templates. */
#define INF_LABEL_WORKFLOW "runbook.dev/workflow"
#define INF_LABEL_RUN "runbook.dev/run"
#define INF_LABEL_STEP "runbook.dev/step"

/* Job conditions with status "True". */
enum {
    INF_JOB_COMPLETE = 1 << 0,
    INF_JOB_FAILED = 1 << 1,
    INF_JOB_FAILURE_TARGET = 1 << 2, /* 1.31+: set before Failed, pods may still run */
    INF_JOB_SUCCESS_CRITERIA_MET = 1 << 3,
    INF_JOB_SUSPENDED = 1 << 4,
};

struct inf_job {
    char *buf_;           /* owns the strings below */
    const char *workflow; /* labels */
    const char *run;
    const char *step;
    const char *owner_uid;   /* the controller ownerReference's uid */
    const char *fail_reason; /* reason of FailureTarget, else of Failed */
    char uid[40];
    uint32_t conditions; /* INF_JOB_* */
    int32_t active, ready, succeeded, failed, terminating;
    int64_t created, started, completed, deleted; /* Unix seconds, 0 when unset */
};

enum inf_pod_phase {
    INF_POD_UNKNOWN = 0,
    INF_POD_PENDING,
    INF_POD_RUNNING,
    INF_POD_SUCCEEDED,
    INF_POD_FAILED,
};

struct inf_pod {
    char *buf_;
    const char *run; /* labels */
    const char *step;
    const char *job;    /* batch.kubernetes.io/job-name (or job-name) */
    const char *node;   /* spec.nodeName */
    const char *reason; /* the "step" container's terminated reason, else status.reason */
    char uid[40];
    uint8_t phase;     /* enum inf_pod_phase */
    int32_t exit_code; /* of the terminated "step" container (else the first); -1 unknown */
    int32_t restarts;
    int64_t created, started, deleted;
};

extern const struct inf_projection inf_job_projection;
extern const struct inf_projection inf_pod_projection;

#endif
