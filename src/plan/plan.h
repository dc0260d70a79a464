/* plan - WorkflowRun (and Workflow) reconcile as a pure function.
 *
 * plan_run() takes what the caches observed (the run, its Workflow, child
 * Job and Pod projections, sibling runs) plus `now`, and returns a plan:
 * writes to perform and when to look again. No I/O, no clock, no logging;
 * the same input gives the same plan. A plan computed from the state the
 * previous plan produced repeats no write: the status is patched only when
 * it changes (lastTransitionTime churn ignored), a Job is created only for
 * a step with no Job observed, deleted only if not already deleting.
 *
 * Run lifecycle (names from docs/design/api-contract.md):
 *  - first pass: Workflow missing -> Pending/WorkflowNotFound (no requeue:
 *    the Workflow watch must wake the run); invalid Workflow or params ->
 *    Failed/InvalidWorkflow; spec.cancel -> Cancelled; Forbid with an
 *    older non-terminal run -> Pending/Queued; Replace -> CANCEL_RUN older
 *    non-terminal runs. Else ONE status patch: Running, startTime, the
 *    workflowSpec snapshot, resolvedParams, all steps Pending. Jobs are
 *    only ever created from the snapshot, on later passes; the live
 *    Workflow is never read again.
 *  - a step is Running once its Job is observed (never on the strength of
 *    our own create), Succeeded on Complete/SuccessCriteriaMet, Failed on
 *    FailureTarget/Failed (details from its pod). A step's Job is created
 *    once: a step whose status names a Job, or whose create was accepted
 *    (plan_input.created), never gets another. A recorded Job that
 *    vanished is Cancelled during a teardown, else Failed/JobDeleted. An
 *    accepted create the Job cache has not shown is "unconfirmed": it may
 *    exist, so nothing waits on it being gone. A create refused for good
 *    (plan_input.refusals) fails the step. A terminal step never changes
 *    again (but for attempts, which only grow). The caches must be synced.
 *  - pods are the run's by their Job's uid (status.steps[].jobUID, our
 *    Jobs, accepted creates), not by label, and stay the run's when the Job
 *    is gone: every wait below counts them, and a live one whose Job is
 *    gone or being deleted gets DELETE_POD.
 *  - teardown (FailFast failure, cancel, run deadline): no more main-step
 *    creates, DELETE_JOB every unfinished main-step Job, unstarted steps
 *    Skipped, torn-down steps Cancelled; phase Failing or Cancelling.
 *    finally steps start only once no main-step Job is unfinished or
 *    deleting and no main-step pod is non-terminal; they are never torn
 *    down and are bounded only by their own timeoutSeconds. The terminal
 *    phase is written once every Job has its terminal condition.
 *  - Continue: only dependents of the failed step are Skipped; the other
 *    branches go on, the phase is Failing from the first failure.
 *  - status.currentStep: the running steps, comma-separated (cut with
 *    ",..." at 127 chars), else the step that failed the run.
 *  - first cause wins: the Succeeded reason (StepFailed, DeadlineExceeded,
 *    Cancelled) is fixed by the first of those seen and decides the final
 *    phase (Cancelled only when the cancel came first). If several are
 *    first seen in the same pass: a step failure, then the deadline, then
 *    the cancel. A later cancel or deadline still tears down.
 *  - spec.cancel is latched into status.cancelRequested. A cancel before
 *    any main step's Job was created ends the run Cancelled at once, with
 *    every step Skipped, finally steps included.
 *  - the caches lag the API server, and the pod watch may lag the Job
 *    watch: a pod that another controller made for a Job just before that
 *    Job went (kube-controller-manager's Job controller working from a
 *    stale cache while its garbage collector removes the Job) can be
 *    missing from the pod cache when the Job cache already shows the Job
 *    gone. So when a Job of the run is gone (torn down, deleted) and the
 *    caches say its pods are gone too, the finally steps start, and the
 *    terminal phase is written, only on a plan whose input.pods_listed
 *    says a consistent LIST of the run's pods was merged in; otherwise
 *    the plan asks for that LIST (LIST_PODS) instead. Runs whose Jobs all
 *    ended by the Job controller's word (Complete, Failed) need none.
 *  - pods still present 30 s after their deletion deadline during
 *    teardown: TeardownStuck=True naming them; the phase stays -ing.
 *  - terminal: DELETE_RUN after ttlSecondsAfterFinished; history limits
 *    (from the run's snapshot, else the live Workflow) delete the oldest
 *    terminal runs of the Workflow; Cancelled counts as failed.
 *
 * The writes of one plan are independent: any subset may be lost (crash,
 * 409) or land in any order, and the next plan repairs it. They are listed
 * PATCH_STATUS, DELETE_JOB..., DELETE_POD..., CREATE_JOB..., CANCEL_RUN..., DELETE_RUN...,
 * LIST_PODS (at most one), then EVENT...; send events only after the status write succeeded (or
 * when the plan has none).
 *
 * Ownership: the input is borrowed and never modified. Each action owns
 * its body; plan_release frees them. Out of memory aborts. */
#ifndef RB_PLAN_H
#define RB_PLAN_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define PLAN_SHORT_LEN 64 /* Job, step, label: 63 chars + NUL */
#define PLAN_UID_LEN 40
#define PLAN_OBJ_LEN 254 /* run and pod names: DNS subdomain */
#define PLAN_REASON_LEN 64
#define PLAN_MSG_LEN 256 /* projections truncate longer messages */
#define PLAN_EVENT_MSG_LEN 1024

#define PLAN_STUCK_AFTER_MS 30000 /* past a pod's deletion deadline */
#define PLAN_RECHECK_MS 30000     /* re-check while stuck or queued */

enum plan_phase {
    PLAN_PHASE_NONE = 0, /* status never written */
    PLAN_PENDING,
    PLAN_RUNNING,
    PLAN_SUCCEEDED,
    PLAN_FAILING,
    PLAN_FAILED,
    PLAN_CANCELLING,
    PLAN_CANCELLED,
};
const char *plan_phase_name(enum plan_phase p);  /* "" for NONE */
enum plan_phase plan_phase_parse(const char *s); /* NONE if unknown/NULL */
int plan_phase_terminal(enum plan_phase p);

/* A child Job as the cache keeps it. */
struct plan_job {
    char name[PLAN_SHORT_LEN];
    char uid[PLAN_UID_LEN];
    char controller_uid[PLAN_UID_LEN]; /* controller ownerReference uid or "" */
    char step[PLAN_SHORT_LEN];         /* label runbook.dev/step */
    unsigned is_finally : 1;
    unsigned deleting : 1; /* metadata.deletionTimestamp set */
    /* status.conditions with status "True" */
    unsigned complete : 1;
    unsigned success_criteria_met : 1;
    unsigned failed : 1;
    unsigned failure_target : 1;
    int32_t active, succeeded, failed_pods;
    char reason[PLAN_REASON_LEN]; /* of Failed, else of FailureTarget */
    char message[PLAN_MSG_LEN];
    int64_t start_ms, completion_ms; /* 0: unset */
};

enum plan_pod_phase {
    PLAN_POD_PENDING = 0,
    PLAN_POD_RUNNING,
    PLAN_POD_SUCCEEDED,
    PLAN_POD_FAILED,
    PLAN_POD_UNKNOWN
};

/* A Pod labelled with the run, as the cache keeps it. It is the run's only
 * if controller_uid is the uid of a Job the run created: the label alone
 * proves nothing (anyone may set it), and a pod outlives its Job when the
 * Job is deleted with --cascade=orphan or the garbage collector misses it. */
struct plan_pod {
    char name[PLAN_OBJ_LEN];
    char uid[PLAN_UID_LEN];
    char controller_uid[PLAN_UID_LEN]; /* its Job's uid (ownerReference, else label) */
    char step[PLAN_SHORT_LEN];
    char job[PLAN_SHORT_LEN];
    enum plan_pod_phase phase;
    unsigned deleting : 1;
    unsigned terminated : 1; /* container "step" has a terminated state */
    /* metadata.deletionTimestamp: the API server already set it to the
     * delete time + grace period, so it is the deadline as is. */
    int64_t deletion_deadline_ms;
    int32_t exit_code;
    char reason[PLAN_REASON_LEN];
    char message[PLAN_MSG_LEN];
    int64_t finished_ms;
    /* Container "step" exited 0: its whole termination message (a step's
     * results are read from it; at most PLAN_RESULT_MSG_MAX bytes kept),
     * "" if it wrote none. NULL when not known from this copy: not exited
     * 0, or a copy that does not carry it (a LIST answer, an ended pod).
     * Borrowed from whatever the projection was made from (the cache
     * record, the pod's JSON); valid while the plan is computed. */
    const char *result;
};

#define PLAN_RESULT_MSG_MAX 4096 /* the kubelet's cap on a termination message */

/* Another run of the same Workflow in the namespace. */
struct plan_sibling {
    char name[PLAN_OBJ_LEN];
    char uid[PLAN_UID_LEN];
    enum plan_phase phase;
    unsigned deleting : 1;
    unsigned cancel : 1; /* spec.cancel or status.cancelRequested */
    int64_t creation_ms, completion_ms;
};

/* Projections from API objects. 0, or -EINVAL if metadata.name is
 * missing, -ENAMETOOLONG if it does not fit. Longer strings (messages)
 * are truncated. */
int plan_job_from_json(struct json_object *job, struct plan_job *out);
int plan_pod_from_json(struct json_object *pod, struct plan_pod *out);
int plan_sibling_from_json(struct json_object *run, struct plan_sibling *out);

/* Copies s (NULL as "") into dst of cap bytes, truncating. */
void plan_copy_trunc(char *dst, size_t cap, const char *s);

/* A Job create the API server accepted (201, or 409 for a Job this run
 * owns), remembered by the executor until the run's status records the
 * uid: the proof that the step's Job exists or existed, whatever the lag
 * of the status write or of the Job watch. */
struct plan_created {
    char name[PLAN_SHORT_LEN];
    char uid[PLAN_UID_LEN];
    unsigned seen : 1; /* the Job cache showed it (it may be gone since) */
};

/* A Job create the API server refused, remembered by the executor. */
struct plan_refusal {
    char step[PLAN_SHORT_LEN];
    unsigned permanent : 1;       /* a 4xx that retrying cannot fix */
    long code;                    /* HTTP status, 0 for a transport error */
    char reason[PLAN_REASON_LEN]; /* JobRejected, JobConflict, or the server's */
    char message[PLAN_MSG_LEN];
    int64_t first_ms; /* first failure of this kind */
    uint32_t count;
};

/* How long transient create failures go on before the step says so. */
#define PLAN_CREATE_REPORT_MS 30000

struct plan_input {
    struct json_object *run;      /* the WorkflowRun; required */
    struct json_object *workflow; /* the Workflow, or NULL if not found */
    const struct plan_job *jobs;  /* Jobs whose controller is a run of this name */
    size_t n_jobs;
    const struct plan_pod *pods; /* Pods labelled with this run */
    size_t n_pods;
    const struct plan_sibling *siblings; /* same Workflow, this run excluded */
    size_t n_siblings;
    int64_t now_ms;
    const struct plan_created *created; /* see struct plan_created */
    size_t n_created;
    const struct plan_refusal *refusals;
    size_t n_refusals;
    /* Pods of the run the cache no longer shows, as last seen (terminated):
     * read only for how a step ended (exit code, reason), never as live. */
    const struct plan_pod *ended;
    size_t n_ended;
    /* pods includes the answer of a consistent LIST of the pods labelled
     * with the run (no resourceVersion: read from etcd at its current
     * revision), sent after this run's previous plan asked for it
     * (LIST_PODS). Every pod of the run that existed when that LIST was
     * served is in pods, whatever the pod watch has delivered. The
     * executor sets it for one plan only: the answer vouches for the past,
     * so each new decision that needs it asks again. */
    int pods_listed;
};

enum plan_kind {
    PLAN_PATCH_STATUS = 0,
    PLAN_DELETE_JOB,
    PLAN_DELETE_POD,
    PLAN_CREATE_JOB,
    PLAN_CANCEL_RUN,
    PLAN_DELETE_RUN,
    PLAN_LIST_PODS,
    PLAN_EVENT,
};
const char *plan_kind_name(enum plan_kind k);

/* One write. `body` is ready to send:
 *  PATCH_STATUS  merge patch for <run or workflow>/status:
 *                {"metadata":{"resourceVersion":..}, "status":{full new
 *                status; null for each removed top-level key}}; the rv
 *                makes it conditional (409: re-read, re-plan).
 *  DELETE_JOB    DeleteOptions: propagationPolicy Foreground (pods get
 *                SIGTERM and the Job stays visible until they are gone),
 *                preconditions.uid. 404 counts as done.
 *  DELETE_POD    DeleteOptions with preconditions.uid, for a live pod of
 *                this run whose Job is gone or going. If `job` is set, a
 *                DELETE_JOB of that Job is in the same plan: send the pod's
 *                only once that one was answered 2xx, 404 or 409 (a Job
 *                with a deletionTimestamp makes no new pod). 404 and 409
 *                count as done.
 *  CREATE_JOB    the Job. 409 counts as done only if the existing Job's
 *                controller ownerReference uid is this run's uid. A refusal
 *                is reported back through plan_input.refusals.
 *  CANCEL_RUN    merge patch {"spec":{"cancel":true},"metadata":{"uid":..}}
 *                for run `name` (the uid makes it conditional).
 *  DELETE_RUN    DeleteOptions: propagationPolicy Background,
 *                preconditions.uid. 404 counts as done.
 *  LIST_PODS     a read, not a write: {"labelSelector": "runbook.dev/run=
 *                <label>"}, the list options of a consistent LIST of pods
 *                in the run's namespace (no resourceVersion). Its answer
 *                comes back through plan_input.pods_listed; a failed LIST
 *                is retried with the run's backoff.
 *  EVENT         no body: type, reason, message; regarding the run,
 *                related Job `name` if not empty. Best effort. */
struct plan_action {
    enum plan_kind kind;
    char name[PLAN_OBJ_LEN]; /* Job or run; related Job for EVENT */
    char uid[PLAN_UID_LEN];  /* precondition for deletes and CANCEL_RUN */
    char step[PLAN_SHORT_LEN];
    char job[PLAN_SHORT_LEN]; /* DELETE_POD: the Job deleted first, or "" */
    struct json_object *body; /* owned; NULL for EVENT */
    char type[8];             /* EVENT: "Normal" or "Warning" */
    int8_t outcome;           /* EVENT: a step's end, +1 succeeded, -1 failed; 0 else */
    char reason[PLAN_REASON_LEN];
    char message[PLAN_EVENT_MSG_LEN];
};

struct plan {
    struct plan_action *actions;
    size_t n, cap;
    int64_t requeue_after_ms; /* 0: no timed requeue needed */
    /* A step waits for a value only the status can give it (a result, a
     * phase a finally step reads): the plan's status write unblocks it, so
     * the executor sends it at once. A status write without this, that
     * keeps the run's phase, may be held back to ride with the next. */
    int awaits_status;
};

void plan_init(struct plan *p);
void plan_release(struct plan *p); /* frees actions and bodies; re-inits */
size_t plan_count(const struct plan *p, enum plan_kind k);

/* Plans one WorkflowRun reconcile into out (plan_init'ed by the caller,
 * emptied first). 0, or -EINVAL if the run lacks name/namespace/uid. An
 * invalid Workflow is not an error: it is a Failed status. */
int plan_run(const struct plan_input *in, struct plan *out);

/* Plans a Workflow's status: observedGeneration and Ready=True, or
 * Stalled=True with the validation reason and message. 0 or -EINVAL. */
int plan_workflow(struct json_object *workflow, int64_t now_ms, struct plan *out);

#endif
