/* plan-internal.h - shared by the .c files of src/plan only. */
#ifndef RB_PLAN_INTERNAL_H
#define RB_PLAN_INTERNAL_H

#include "kjson/kjson.h"
#include "plan/plan.h"
#include "wf/wf.h"

/* Succeeded condition reasons (api-contract.md). */
#define R_RUNNING "Running"
#define R_QUEUED "Queued"
#define R_NOT_FOUND "WorkflowNotFound"
#define R_SUCCEEDED "Succeeded"
#define R_STEP_FAILED "StepFailed"
#define R_CANCELLED "Cancelled"
#define R_DEADLINE "DeadlineExceeded"
#define R_INVALID "InvalidWorkflow"
#define PLAN_R_WHEN_FALSE "WhenConditionFalse" /* a step skipped by its when */
#define PLAN_R_RESULT_MISSING "ResultMissing"  /* a declared result not written */

#define PLAN_MSG_RUNNING "run is in progress"

enum step_phase { SP_PENDING = 0, SP_RUNNING, SP_SUCCEEDED, SP_FAILED, SP_CANCELLED, SP_SKIPPED };

/* What stopped the run normally; the first one seen is kept. */
enum cause { CAUSE_NONE = 0, CAUSE_STEP_FAILED, CAUSE_DEADLINE, CAUSE_CANCELLED };

/* One reconcile of one run: the input, digested. */
struct ctx {
    const struct plan_input *in;
    struct plan *out;
    struct json_object *meta, *spec, *status; /* borrowed; status may be NULL */
    const char *name, *ns, *uid, *rv, *workflow;
    int64_t generation, creation_ms, now;
    enum plan_phase old_phase;
    int cancel; /* spec.cancel or status.cancelRequested */
    /* The uids of every Job this run is known to have created: observed
     * with this run as controller, accepted creates, status.steps[].jobUID.
     * Borrowed from the input; a pod is the run's only through these. */
    const char **job_uids;
    size_t n_job_uids;
    /* Job uids only status.steps[] vouches for (its Job not observed):
     * the status is anyone's to edit, so such a uid ties a pod to the run
     * only if the pod's Job has the name this run gives that step's Job. */
    const char **status_uids;
    char (*status_uid_jobs)[WF_NAME_LEN];
    size_t n_status_uids;
};

/* One step of a started run, old status merged with what was observed.
 * A matrix step is the aggregate of its combinations (its phase, its
 * results) and owns no Job; each combination is a struct step of its own,
 * with one Job, kept in run.combos. */
struct step {
    const struct wf_step *def;
    long index;                 /* a combination: its index; else -1 */
    char label[PLAN_SHORT_LEN]; /* "test", or "test[2]" for a combination */
    const char *const *values;  /* a combination's values, def->matrix order; NULL if unknown */
    size_t first, n_combos;     /* a matrix step: its combinations in run.combos */
    int expanded;               /* a matrix step whose combinations are known */
    char job_name[WF_NAME_LEN];
    const struct plan_job *job; /* ours, observed; NULL if none */
    char job_uid[PLAN_UID_LEN]; /* observed, else accepted create, else status; "" if none */
    int foreign;                /* a Job of that name owned by another: 1 deleting, 2 live */
    int vanished;               /* status recorded a Job that is gone; not yet terminal */
    int unconfirmed;            /* created, not yet shown by the cache: it may exist */
    enum step_phase old_phase, phase;
    int has_job; /* status records `job` */
    /* status.steps[] named a Job that is not the step's (another name, or
     * the uid of another Job than this run's observed one): ignored, and
     * said in an Event as the status is corrected. The names as found. */
    int tampered;
    char tampered_job[PLAN_SHORT_LEN], tampered_uid[PLAN_UID_LEN];
    int attempts;
    int64_t start_ms, completion_ms;
    int has_exit, exit_code;
    char reason[PLAN_REASON_LEN];
    char message[PLAN_MSG_LEN];
    /* Succeeded: [{name, value}] in declaration order (owned; NULL when the
     * step declares none). Read from its pod when it succeeds, from the
     * old status after that. */
    struct json_object *results;
    /* Its Job succeeded but its results are not read yet: 1 its pod will
     * show them (the pod watch lags), 2 its pod is not in the cache (a
     * LIST decides). The step stays Running meanwhile. */
    int results_wait;
};

/* The status to write, before it becomes json. */
struct draft {
    enum plan_phase phase;
    const char *reason; /* of the Succeeded condition */
    char message[1024];
    int64_t start_ms, completion_ms; /* 0: omit */
    int cancel_requested;
    char progress[32];
    char current_step[128];    /* "": omit */
    struct json_object *steps; /* owned array, or NULL */
    int stuck;                 /* TeardownStuck: 1 True, 0 False if it was set, -1 omit */
    char stuck_message[1024];
    struct json_object *results; /* status.results: owned, or NULL (omit) */
    /* Only for the first Running write; later they are carried over. */
    struct json_object *workflow_spec, *resolved_params; /* owned or NULL */
};

/* A started run being planned (plan_progress.c and its helpers). */
struct run {
    struct ctx *c;
    struct wf_spec *spec;
    struct wf_params *params;
    struct step *steps; /* in spec->order: main steps first */
    size_t n;
    size_t *pos;         /* spec index -> index in steps */
    struct step *combos; /* matrix combinations, by matrix step then index */
    size_t n_combos;
    struct wf_combos **expansions; /* spec index -> its matrix's combinations, or NULL */
    enum cause cause;
    const struct step *cause_step;
    enum cause trigger; /* why main steps are torn down; NONE: they are not */
    int deadline_hit;
    int64_t deadline_ms;
};

/* plan_values.c */
/* The lookup a step's references are resolved through (wf_lookup_fn). */
struct values {
    struct run *r;
    const struct step *self;
    const struct step *skipped; /* a producer skipped by its when */
    int wait;                   /* a value is not recorded yet */
};
const char *plan_value_of(void *ud, const struct wf_ref *ref);
/* The step named so (a combination by its label), or NULL. */
struct step *plan_step_named(struct run *r, const char *name);

/* plan_progress.c */
/* A dependency that lets its dependents start: it succeeded, or its
 * `when` was false. */
int plan_dep_satisfied(const struct step *d);

/* plan_matrix.c */
/* After steps[i] (a matrix step) was observed, in topological order:
 * its combinations, once its dependencies let it start and its values
 * are recorded, or from the status once they were written; then its
 * phase. May move run.combos: no pointer into it may be held yet. */
void plan_matrix_load(struct run *r, size_t i);
/* Its phase (and results) from its combinations'. */
void plan_matrix_aggregate(struct run *r, struct step *s);
/* Its `when` held: create the Jobs of pending combinations, up to
 * maxParallel running at once. create makes one (1), waits (0), or fails
 * the combination (-1). */
void plan_matrix_start(struct run *r, struct step *s,
                       int (*create)(struct run *r, struct step *s, struct values *v));
/* The steps in [lo, hi) that own Jobs: plain steps, and matrix steps'
 * combinations in their place. */
struct plan_each {
    const struct run *r;
    size_t i, hi, k;
};
struct step *plan_each_next(struct plan_each *e);
#define PLAN_EACH_JOB(run, lo, hi, s)                                                              \
    for (struct plan_each each_ = {(run), (lo), (hi), 0}; ((s) = plan_each_next(&each_)) != NULL;)

/* plan_actions.c */
struct plan_action *plan_add(struct plan *p, enum plan_kind kind);
void plan_event(struct plan *p, int warning, const char *reason, const char *related,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void plan_requeue(struct plan *p, int64_t after_ms);

/* plan_status.c */
/* Sets st.conditions (Succeeded, Ready, Reconciling, Stalled, and
 * TeardownStuck, ForeignChildren when they apply) for d's phase. */
void plan_status_conditions(struct ctx *c, struct json_object *st, const struct draft *d);
const char *plan_step_phase_name(enum step_phase p);
enum step_phase plan_step_phase_parse(const char *s);
int plan_step_terminal(enum step_phase p);
void plan_draft_init(struct draft *d);
/* plan_draft_init, then the phase, the Succeeded reason and the message. */
void plan_draft_begin(struct draft *d, enum plan_phase phase, const char *reason, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));
void plan_draft_release(struct draft *d);
/* Turns d into the new status; writes PATCH_STATUS and the phase-change
 * event when it differs from the old one. */
void plan_status_commit(struct ctx *c, struct draft *d);
/* Equal ignoring lastTransitionTime and the top-level keys workflowSpec
 * and resolvedParams (never changed after the first write). */
int plan_status_equal(struct json_object *a, struct json_object *b);
/* Appends PATCH_STATUS: takes new_status, adds null for keys only in
 * old, wraps it with the resourceVersion precondition. */
void plan_status_patch(struct plan *p, const char *name, const char *rv, struct json_object *old,
                       struct json_object *new_status);

/* plan_start.c: not yet started runs (no status, or Pending). */
void plan_start(struct ctx *c);

/* plan_progress.c: started runs (Running, Failing, Cancelling). */
void plan_progress(struct ctx *c);

/* plan_steps.c: one step of a started run. */
/* Fills s from its old status entry (in old_steps) and what was
 * observed; s->phase is the step's phase before any run-level decision. */
void plan_step_observe(const struct ctx *c, struct step *s, const struct wf_step *def, long index,
                       struct json_object *old_steps);
/* `step "x" failed: exit code 3 (Error): <message>` and its variants. */
void plan_step_failure(const struct step *s, char *buf, size_t cap);
/* A vanished step that no teardown explains: Failed, reason JobDeleted. */
void plan_step_vanished(const struct ctx *c, struct step *s);
/* s ends (or is skipped) now: phase, completionTime, reason, message (cut
 * to fit). The one way a plan ends a step. */
void plan_step_end(struct step *s, enum step_phase ph, int64_t when, const char *reason,
                   const char *message);
/* The `index` of a status.steps[] entry: a matrix step's combination,
 * else -1 (the step's own entry). */
long plan_entry_index(struct json_object *entry);
/* A new status.steps[] entry for s. */
struct json_object *plan_step_json(const struct step *s);

/* plan_results.c: a step's results. */
/* The Job of s succeeded and s declares results: reads them from its
 * pod into s->results, or fails s with ResultMissing, or sets
 * s->results_wait (s stays Running). */
void plan_results_read(const struct ctx *c, struct step *s, const struct plan_job *j);
/* A step waiting with results_wait 2, once a LIST showed its pod gone:
 * Failed, ResultMissing. */
void plan_results_gone(const struct ctx *c, struct step *s);
/* status.steps[].results of a step that succeeded (old status entry), as
 * a new array, or NULL. */
struct json_object *plan_results_load(struct json_object *entry);
/* The value of result `name` (len bytes) in a results array, or NULL. */
const char *plan_results_get(struct json_object *results, const char *name, size_t len);

/* plan_children.c: a run's Jobs and pods, which pods are the run's, and
 * deleting the strays. */
int plan_job_failed(const struct plan_job *j);    /* Failed or FailureTarget */
int plan_job_succeeded(const struct plan_job *j); /* Complete or SuccessCriteriaMet */
int plan_job_done(const struct plan_job *j);      /* Complete or Failed: pods gone */
int plan_pod_running(const struct plan_pod *p);   /* not Succeeded/Failed */
/* Builds c->job_uids (freed by plan_run). */
void plan_job_uids(struct ctx *c);
/* How many Jobs and pods carry the run's label without being its children
 * (a controller ownerReference to the run, or to one of its Jobs); msg
 * names the first few, for the ForeignChildren condition. */
size_t plan_foreign_children(const struct ctx *c, char *msg, size_t len);
/* The pod's Job is one this run created. */
int plan_pod_ours(const struct ctx *c, const struct plan_pod *p);
/* The observed Job of this run with that uid, or NULL. */
const struct plan_job *plan_job_by_uid(const struct ctx *c, const char *uid);
/* The accepted create of that Job name, or NULL. */
const struct plan_created *plan_created_named(const struct ctx *c, const char *name);
/* Pods of the run not yet finished and tied to the Job with that uid. */
size_t plan_pods_running(const struct ctx *c, const char *job_uid);
/* Pods of the run that ever ran for the Job with that uid. */
size_t plan_pods_of(const struct ctx *c, const char *job_uid);
/* DELETE_POD for every live pod of the run whose Job is gone, being
 * deleted, or deleted by a DELETE_JOB already in c->out. Call after the
 * plan's DELETE_JOBs are added. */
void plan_delete_pods(struct ctx *c);
/* A Job this run created (status.steps[].jobUID, an accepted create) is
 * not in the Job cache: deleted, or gone by other means. */
int plan_jobs_gone(const struct ctx *c);
/* 1 if the caches can be trusted to show every pod of the run: `need` is
 * 0 (no Job of the run went without the Job controller's last word), or
 * input.pods_listed. Else 0, and a LIST_PODS is in c->out (once). */
int plan_pods_listed(struct ctx *c, int need);
/* DELETE_JOB: Foreground, preconditions.uid. */
void plan_delete_job(struct ctx *c, const char *name, const char *uid, const char *step);

/* plan_finish.c: terminal runs, and runs turning terminal in this plan. */
void plan_finished(struct ctx *c, enum plan_phase phase, int64_t completion_ms);
void plan_terminal(struct ctx *c);
/* DELETE_JOB for this run's unfinished Jobs; 1 while any Job or pod is
 * still busy (unfinished, being deleted, running). */
int plan_sweep(struct ctx *c);

#endif
