/* wf - the Workflow model: parse and validate a Workflow spec, resolve a
 * run's parameters, substitute $(params.NAME), name and build child Jobs.
 *
 * Pure code: no I/O, no clock, no logging; deterministic for equal input.
 * Field names follow docs/design/api-contract.md.
 *
 * Ownership: a struct wf_spec holds one reference to the spec json it was
 * parsed from, and every `const char *` / `struct json_object *` inside it
 * borrows from that json, except wf_step.pod_failure_policy, which the
 * spec owns. The caller must not modify the json while the
 * spec lives. Out of memory aborts (project rule); every other error is a
 * negative errno.
 *
 * Substitution syntax (also what validation checks):
 *   $(params.NAME)  replaced by the parameter's value, in command[], args[]
 *                   and env[].value only (never image, workingDir, ...).
 *                   NAME is everything up to the next ')'. A value is
 *                   inserted as literal text, never through a shell, and
 *                   is not scanned again.
 *   $$              an escaped '$', left as is. This is the kubelet's own
 *                   $(VAR) syntax, which runs on the same fields after us:
 *                   it turns "$$" into "$". So "$$(params.x)" reaches the
 *                   container as the literal text "$(params.x)", and every
 *                   '$' of an inserted value is written as "$$" so the
 *                   container sees the value exactly as given.
 */
#ifndef RB_WF_H
#define RB_WF_H

#include <json-c/json.h>
#include <stddef.h>

#include "kjson/kjson.h" /* the label names */

#define WF_STEP_NAME_MAX 50
#define WF_STEPS_MAX 500 /* bounds the run status (etcd object size) */
#define WF_PARAMS_MAX 200
#define WF_NAME_LEN 64 /* a Job name or label value: 63 chars + NUL */
#define WF_DEFAULT_GRACE_SECONDS 30
#define WF_WHEN_MAX 10        /* expressions per step */
#define WF_WHEN_VALUES_MAX 50 /* values per expression */
#define WF_RESULTS_MAX 20     /* results a step declares */
/* A step's results all come from its termination message, which the
 * kubelet cuts at 4096 bytes: no value can be longer. */
#define WF_RESULT_MAX 4096
#define WF_MATRIX_MAX 256      /* combinations of one matrix step */
#define WF_MATRIX_PARAMS_MAX 8 /* params of one matrix */

#define WF_CONTAINER_NAME "step"

/* Validation reasons, exactly as they appear in status conditions. */
#define WF_R_DUPLICATE "DuplicateStepName"
#define WF_R_UNKNOWN_DEP "UnknownDependency"
#define WF_R_CYCLE "CycleDetected"
#define WF_R_UNKNOWN_PARAM "UnknownParameter"
#define WF_R_INVALID "InvalidSpec"
#define WF_R_MISSING_PARAM "MissingParameter"

enum wf_failure_policy { WF_FAIL_FAST = 0, WF_CONTINUE };
enum wf_concurrency { WF_ALLOW = 0, WF_FORBID, WF_REPLACE };

/* The first problem found; reason is one of WF_R_*. */
struct wf_error {
    char reason[32];
    char message[1024];
};

struct wf_param {
    const char *name;
    const char *def; /* NULL: no default */
};

/* A declared result: written by the step's container to its termination
 * message as {"name": "value", ...}. */
struct wf_result {
    const char *name;
    const char *def; /* NULL: the step fails (ResultMissing) without it */
};

/* One param of a step's matrix: a list of values, or one reference (a
 * param, or an ancestor's result) holding a JSON array. */
struct wf_matrix_param {
    const char *name;
    struct json_object *values; /* array of strings, or NULL */
    const char *ref;            /* "$(...)" when values is NULL */
};

struct wf_step {
    const char *name;
    const char *image;
    int is_finally;
    struct json_object *raw;     /* the step object */
    struct json_object *command; /* array of strings, or NULL */
    struct json_object *args;    /* array of strings, or NULL */
    struct json_object *env;     /* array of EnvVar objects, or NULL */
    const char *working_dir;     /* or NULL */
    struct json_object *resources;
    struct json_object *volume_mounts; /* core/v1 VolumeMount list, or NULL */
    struct json_object *pod_template;
    size_t *deps; /* indices into wf_spec.steps; may repeat */
    size_t n_deps;
    int retries;               /* Job backoffLimit */
    long long timeout_seconds; /* 0: none */
    /* The Job's spec.podFailurePolicy, checked and rebuilt from the
     * step's (exit codes sorted, condition status defaulted), or NULL.
     * Owned by the spec, not borrowed. */
    struct json_object *pod_failure_policy;
    /* [{input, operator: in|notin, values}], checked; NULL: always runs. */
    struct json_object *when;
    struct wf_result *results; /* main steps only; owned array, borrowed strings */
    size_t n_results;
    /* matrix: one Job per combination (main steps only); owned array. */
    struct wf_matrix_param *matrix;
    size_t n_matrix;  /* 0: not a matrix step */
    int max_parallel; /* combinations running at once; 0: no limit */
};

struct wf_spec {
    struct json_object *raw; /* owned reference to the parsed spec */
    struct wf_param *params;
    size_t n_params;
    struct wf_step *steps; /* main steps in spec order, then finally steps */
    size_t n_steps;
    size_t n_main;
    /* Kahn order, ties broken by spec order: main steps, then finally. */
    size_t *order;
    enum wf_failure_policy failure_policy;
    enum wf_concurrency concurrency;
    long long active_deadline_seconds; /* 0: none */
    long long grace_seconds;
    long long successful_history; /* -1: unset */
    long long failed_history;     /* -1: unset */
    long long ttl_seconds;        /* -1: unset */
    /* spec.results: [{name, value}], checked; NULL: none. Resolved when
     * the run succeeds, into status.results. */
    struct json_object *results;
};

/* Parses and fully validates a Workflow `spec`. On success *ret is a new
 * spec (free with wf_spec_free) that takes its own reference to `spec`.
 * Returns 0, or -EINVAL with *err filled (err may be NULL). Checks run in
 * this order and the first failure is reported: InvalidSpec (top-level
 * fields, params, each step's shape), DuplicateStepName (across steps and
 * finally), UnknownDependency / InvalidSpec (finally<->main edges),
 * CycleDetected (arrows read "depends on"), UnknownParameter. */
int wf_spec_parse(struct json_object *spec, struct wf_spec **ret, struct wf_error *err);
void wf_spec_free(struct wf_spec *s);

/* Index of the step (main or finally) named `name`, or -1. */
int wf_step_index(const struct wf_spec *s, const char *name);

/* Resolved parameters: owned copies of names and values. */
struct wf_kv {
    char *name;
    char *value;
};
struct wf_params {
    struct wf_kv *kv; /* in the Workflow's declaration order */
    size_t n;
};

/* Merges a run's `spec.params` ([{name, value}], may be NULL) over the
 * Workflow's defaults. Errors (-EINVAL, *err filled): UnknownParameter for
 * a run value the Workflow does not declare, MissingParameter for a
 * declared parameter with neither value nor default, InvalidSpec for a
 * malformed list. *ret: free with wf_params_free. */
int wf_params_resolve(const struct wf_spec *s, struct json_object *run_params,
                      struct wf_params **ret, struct wf_error *err);
/* Reads status.resolvedParams back. 0, or -EINVAL if malformed. */
int wf_params_from_json(struct json_object *arr, struct wf_params **ret);
/* A new [{name, value}] array; the caller owns it. */
struct json_object *wf_params_to_json(const struct wf_params *p);
const char *wf_params_get(const struct wf_params *p, const char *name);
void wf_params_free(struct wf_params *p);

/* Substitutes `text` (syntax in the file comment). *ret is malloc'd, the
 * caller frees it. -ENOENT if a referenced parameter is not in `p`. */
int wf_subst(const char *text, const struct wf_params *p, char **ret);

/* References (docs/design/results-when-matrix.md). A mask of kinds says
 * which are live: a kind outside it is literal text. */
enum wf_ref_kind {
    WF_REF_PARAM = 1,      /* $(params.NAME): a = NAME (anything up to ')') */
    WF_REF_RESULT = 2,     /* $(steps.S.results.R): a = S, b = R */
    WF_REF_PHASE = 4,      /* $(steps.S.phase): a = S */
    WF_REF_RUN_STATUS = 8, /* $(run.status) */
    WF_REF_MATRIX = 16,    /* $(matrix.NAME): a = NAME */
};
struct wf_ref {
    enum wf_ref_kind kind;
    const char *a, *b; /* into the scanned text, not NUL-terminated */
    size_t alen, blen;
};
/* fn gets each literal run (ref NULL) and each reference (lit NULL), in
 * order; a negative return stops the scan with it. */
typedef int (*wf_ref_fn)(void *ud, const char *lit, size_t len, const struct wf_ref *ref);
/* Scans text. 0, fn's negative value, or -EINVAL for a reference of a live
 * kind other than params that does not parse ("$(steps.a)", "$(run.x)",
 * an unclosed one), with its offset in *bad (may be NULL). "$$" escapes. */
int wf_ref_scan(const char *text, unsigned kinds, wf_ref_fn fn, void *ud, size_t *bad);
/* A reference's value, or NULL when there is none (-ENOENT). */
typedef const char *(*wf_lookup_fn)(void *ud, const struct wf_ref *ref);
/* Substitutes every live reference with lookup's value, '$' doubled (see
 * the top). *ret is malloc'd. -ENOENT, -EINVAL as wf_ref_scan. */
int wf_subst_with(const char *text, unsigned kinds, wf_lookup_fn lookup, void *ud, char **ret);
/* As wf_subst_with, with the '$' doubling undone ("$$" becomes "$"): the
 * value itself, for `when` and status.results rather than a container. */
int wf_resolve(const char *text, unsigned kinds, wf_lookup_fn lookup, void *ud, char **ret);
/* A step's `when` ([{input, operator: in|notin, values: [...]}], NULL:
 * none): 1 when every expression holds, 0 when one does not (why says
 * which, may be NULL), -ENOENT when a reference has no value, -EINVAL for
 * a malformed list. Compares the values themselves ('$$' undone). */
int wf_when_eval(struct json_object *when, unsigned kinds, wf_lookup_fn lookup, void *ud, char *why,
                 size_t cap);

/* 1 when s is a valid parameter name: [A-Za-z_][A-Za-z0-9_-]*, at most 63
 * characters (docs/api.md); the one rule for Workflows and Triggers. */
int wf_param_name_ok(const char *s);

/* "<run>-<step>" when that fits in 63 chars, else its first 52 chars (with
 * trailing '-' and '.' dropped) + '-' + 10 hex chars of
 * sha256(run + "/" + step). Deterministic. 0, or -ENAMETOOLONG if run or
 * step is longer than a Kubernetes name can be. */
int wf_job_name(const char *run, const char *step, char out[WF_NAME_LEN]);
/* A label value: `value` itself when <= 63 chars, else shortened as above
 * with sha256(value). 0 or -ENAMETOOLONG (value > 253 chars). */
int wf_label_value(const char *value, char out[WF_NAME_LEN]);
/* 1 if s is a DNS-1123 label (<= 63, [a-z0-9-], alnum at both ends). */
int wf_is_dns_label(const char *s);

/* The reference kinds a step may use: params and results of its
 * ancestors; a finally step also $(steps.S.phase) and $(run.status). */
unsigned wf_step_kinds(const struct wf_step *st);
/* A wf_lookup_fn over resolved params (ud: const struct wf_params *). */
const char *wf_params_lookup(void *ud, const struct wf_ref *ref);
/* Index of the result `name` (len bytes) that steps[step] declares, or -1. */
int wf_result_index(const struct wf_step *st, const char *name, size_t len);

/* A matrix step's combinations: the cross product of its params' values,
 * the first param varying slowest. values[i * n_params + k] is the value of
 * param k in combination i. */
struct wf_combos {
    size_t n, n_params;
    const char **names; /* borrowed from the spec */
    char **values;      /* owned */
};
/* Expands steps[step]'s matrix, reading referenced values through lookup
 * (a JSON array of strings or scalars; scalars as their JSON text). 0 with
 * *ret (free with wf_combos_free; n may be 0), -ENOENT when lookup has no
 * value yet, -EINVAL with why filled when a value is not a JSON array or
 * there are more than WF_MATRIX_MAX combinations. */
int wf_matrix_expand(const struct wf_step *st, wf_lookup_fn lookup, void *ud,
                     struct wf_combos **ret, char *why, size_t cap);
void wf_combos_free(struct wf_combos *c);

/* The Job name of a step, or of a matrix step's combination `index`
 * (index >= 0): wf_job_name(run, "<step>-<index>"). */
int wf_entry_job_name(const char *run, const char *step, long index, char out[WF_NAME_LEN]);

/* The run a Job is built for; all fields required, borrowed. */
struct wf_run_ref {
    const char *name;
    const char *ns;
    const char *uid;
    const char *workflow;
};

/* Builds the complete batch/v1 Job for steps[step] of `run`: name from
 * wf_job_name, our labels on the Job and its pod template (podTemplate
 * labels are kept except app.kubernetes.io/instance), a controller
 * ownerReference to the run, backoffLimit = retries, activeDeadlineSeconds
 * = timeoutSeconds, podFailurePolicy (when the step has one),
 * podReplacementPolicy Failed, restartPolicy Never, the
 * Workflow's terminationGracePeriodSeconds and one container "step" with
 * command/args/env substituted through lookup (the kinds of
 * wf_step_kinds), terminationMessagePolicy File when the step declares
 * results. *ret is new; the caller owns it.
 * 0, -ENOENT (lookup had no value), -ENAMETOOLONG, -EINVAL. */
int wf_job_build(const struct wf_spec *s, size_t step, wf_lookup_fn lookup, void *ud,
                 const struct wf_run_ref *run, struct json_object **ret);
/* The Job of combination `index` of a matrix step: named by
 * wf_entry_job_name, labelled runbook.dev/matrix-index, $(matrix.NAME)
 * through lookup too. Same returns. */
int wf_job_build_combo(const struct wf_spec *s, size_t step, long index, wf_lookup_fn lookup,
                       void *ud, const struct wf_run_ref *run, struct json_object **ret);

#endif
