/* ctrl - the controller: caches in, plans out, plans performed.
 *
 * Four informers (Workflows, WorkflowRuns, and the Jobs and Pods labelled
 * runbook.dev/run) feed one work queue of keys; a worker on the loop takes a
 * key, gathers what the caches hold about it, asks src/plan for a plan (a
 * pure function) and performs the plan's writes asynchronously through the
 * kube client. Level-triggered: every handler only enqueues, and a
 * reconcile always starts from the caches, so a restart converges.
 *
 * Writes are only made while ctrl_set_leading(c, 1) (leader election keeps
 * standbys' caches warm and their hands still).
 *
 * Lifecycle (libuv style, two-phase):
 *   ctrl_new -> ctrl_start -> ... -> ctrl_stop(cb) -> cb -> ctrl_free
 * ctrl_stop stops taking keys, lets the writes in flight finish (bounded by
 * the kube client's timeouts), closes the informers and timers, then calls
 * cb. The kube client is borrowed and must outlive the controller. */
#ifndef RB_CTRL_H
#define RB_CTRL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <uv.h>

struct json_object;
struct kube_client;
struct kube_list_opts;
struct kube_patch_opts;
struct kube_resource;
struct kube_result;
struct ctrl;

/* How the executor sends its writes (and the two reads it makes: the GET
 * after a 409 on create, and the consistent LIST of a run's pods a plan
 * asks for before it trusts the pod cache). Each behaves as the kube_* verb of that name:
 * 0 and cb exactly once later from the loop, or < 0 and no cb. The unit
 * tests put a recorder here to see exactly what the API server would be
 * sent; NULL in ctrl_options: the kube client. */
struct ctrl_writer {
    int (*create)(void *ud, const struct kube_resource *res, const char *ns,
                  struct json_object *body, void (*cb)(void *, const struct kube_result *),
                  void *cb_ud);
    int (*patch)(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                 const char *body, size_t len, const struct kube_patch_opts *po,
                 void (*cb)(void *, const struct kube_result *), void *cb_ud);
    int (*delete)(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                  struct json_object *body, void (*cb)(void *, const struct kube_result *),
                  void *cb_ud);
    int (*get)(void *ud, const struct kube_resource *res, const char *ns, const char *name,
               void (*cb)(void *, const struct kube_result *), void *cb_ud);
    int (*list)(void *ud, const struct kube_resource *res, const char *ns,
                const struct kube_list_opts *opts, void (*cb)(void *, const struct kube_result *),
                void *cb_ud);
    void *ud;
};

struct ctrl_options {
    const char *namespace;            /* NULL: all namespaces */
    const char *instance;             /* reportingInstance of Events (hostname); NULL: "runbook" */
    int workers;                      /* reconciles in flight at once; 0: 16 */
    const struct ctrl_writer *writer; /* NULL: the kube client (see above); copied */
    /* 0: only the Events that carry news (see ctrl_ev_news); 1: every
     * Event the plan asks for, each step's StepStarted and StepSucceeded
     * too (--events=all). */
    int events_all;
    /* Instrumentation hook (bench/bench_controller.c); NULL: none. Called on
     * the loop right after the last DELETE of a plan that deletes Jobs (a
     * teardown) was handed to the kube client, for a key that an informer
     * event queued. enqueued_ns: uv_hrtime() when the first event queued
     * the run's key since it was last taken; sent_ns: uv_hrtime() now. */
    void (*on_teardown_sent)(void *ud, const char *ns, const char *run, size_t n_deletes,
                             uint64_t enqueued_ns, uint64_t sent_ns);
    void *hook_ud;
};

/* Counters and gauges for /metrics. */
#define CTRL_HIST_BUCKETS 12
extern const double ctrl_hist_bounds[CTRL_HIST_BUCKETS]; /* seconds, le= */

struct ctrl_hist {
    uint64_t count;
    double sum;
    uint64_t buckets[CTRL_HIST_BUCKETS]; /* cumulative counts per bound */
};

struct ctrl_stats {
    uint64_t reconciles;       /* plans computed */
    uint64_t reconcile_errors; /* plans whose writes failed (requeued) */
    uint64_t skipped_stale;    /* reconciles deferred until the cache caught up */
    uint64_t jobs_created, jobs_deleted, status_writes, events, runs_cancelled, runs_deleted;
    uint64_t pods_deleted;                  /* live pods of torn-down Jobs deleted directly */
    uint64_t pod_lists, pod_lists_unseen;   /* LIST_PODS answered; with pods the cache lacked */
    uint64_t status_coalesced;              /* status patches held back to share a later write */
    uint64_t events_dropped;                /* Events not sent: their queue was full, or closed */
    uint64_t steps_succeeded, steps_failed; /* from step-end events */
    uint64_t runs_by_phase[8];              /* gauge, by enum plan_phase */
    uint64_t queue_depth;                   /* gauge */
    struct ctrl_hist reconcile_seconds;     /* plan + writes */
    struct ctrl_hist teardown_seconds;      /* teardown start -> terminal phase */
    /* informer event that queued a run -> the last DELETE of its teardown
     * handed to the kube client (see on_teardown_sent) */
    struct ctrl_hist dispatch_seconds;
};

int ctrl_new(uv_loop_t *loop, struct kube_client *kc, const struct ctrl_options *opt,
             struct ctrl **out);
/* Starts the informers. -EBUSY if already started. */
int ctrl_start(struct ctrl *c);
/* Enables or disables writes (leader election). Enabling enqueues every
 * cached object, so a new leader reconciles everything once. */
void ctrl_set_leading(struct ctrl *c, int leading);
int ctrl_leading(const struct ctrl *c);
/* True once every informer has listed once. */
int ctrl_synced(const struct ctrl *c);
void ctrl_stop(struct ctrl *c, void (*stopped)(void *ud), void *ud);
void ctrl_free(struct ctrl *c);

/* The cached Workflow ns/name (its JSON, less managedFields), or NULL.
 * Borrowed: valid until the loop turns. For the Trigger runtime, which
 * reads param defaults from it. */
struct json_object *ctrl_workflow(const struct ctrl *c, const char *ns, const char *name);

/* Queues an events.k8s.io Event about a Trigger on the controller's Event
 * lane (rate-limited; dropped when the lane is full). type "Normal" or
 * "Warning". */
void ctrl_trigger_event(struct ctrl *c, const char *ns, const char *name, const char *uid,
                        const char *type, const char *reason, const char *message);
void ctrl_get_stats(const struct ctrl *c, struct ctrl_stats *out);

/* The runs as the cache holds them, for the web UI (src/ui), which serves
 * reads from these caches and never from the API server. json is the run
 * (less managedFields) as len bytes of JSON text, not NUL-terminated,
 * borrowed for the call; NULL when the run was deleted. */
typedef void (*ctrl_run_fn)(void *ud, const char *ns, const char *name, const char *json,
                            size_t len);
/* fn is called after every change of the WorkflowRun cache (one observer;
 * NULL removes it). Not called for a relist that changed nothing. */
void ctrl_observe_runs(struct ctrl *c, ctrl_run_fn fn, void *ud);
/* Calls fn for every cached run, in no particular order. */
void ctrl_runs_each(const struct ctrl *c, ctrl_run_fn fn, void *ud);
/* The cached run ns/name through fn (once), or 0 without a call if none. */
int ctrl_run_get(const struct ctrl *c, const char *ns, const char *name, ctrl_run_fn fn, void *ud);

/* The Workflows as the cache holds them (the object less managedFields,
 * borrowed for the call; NULL when the Workflow was deleted), for the UI. */
typedef void (*ctrl_obj_fn)(void *ud, const char *ns, const char *name, struct json_object *obj);
/* fn is called after every change of the Workflow cache (one observer;
 * NULL removes it). */
void ctrl_observe_workflows(struct ctrl *c, ctrl_obj_fn fn, void *ud);
void ctrl_workflows_each(const struct ctrl *c, ctrl_obj_fn fn, void *ud);
/* The pod a step's logs come from: of the pods of Job `job` that carry the
 * label of run ns/run, the newest that has not finished, else the newest
 * (name into pod). 1 when there is one, else 0. */
int ctrl_step_pod(const struct ctrl *c, const char *ns, const char *run, const char *job, char *pod,
                  size_t cap);

/* Per-informer counters, for /metrics: i in [0, ctrl_informer_count()). */
struct inf_stats;
size_t ctrl_informer_count(void);
const char *ctrl_informer_name(size_t i);
void ctrl_informer_stats(const struct ctrl *c, size_t i, struct inf_stats *out);

#endif
