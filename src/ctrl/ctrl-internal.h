/* Shared by the ctrl_*.c files; not part of the module's interface. */
#ifndef RB_CTRL_INTERNAL_H
#define RB_CTRL_INTERNAL_H

#include <json-c/json.h>
#include <json-c/linkhash.h>

#include "ctrl/ctrl.h"
#include "informer/inf.h"
#include "kjson/kjson.h"
#include "kube/kube.h"
#include "plan/plan.h"
#include "queue/queue.h"

enum { CTRL_INF_WORKFLOWS = 0, CTRL_INF_RUNS, CTRL_INF_JOBS, CTRL_INF_PODS, CTRL_INF_MAX };

/* How long our own writes may take to show in the caches before we stop
 * waiting for them (expectations, the accepted-DELETE overlay, unseen
 * accepted creates). */
#define CTRL_EXPECT_MS 30000
/* A run's status patches that keep its phase wait up to 1 s after the
 * run's previous status write, so that several changes share one write
 * (measured: 7-17 status writes per 5-step run without any wait): steps
 * started or ended, their Jobs' uids. Not longer: people and scripts watch
 * a step's phase, and a Job's uid is what the status must hold should the
 * operator restart. A write a step waits for (a result or a phase it
 * reads: plan.awaits_status) does not wait at all. */
#define CTRL_STATUS_COALESCE_MS 1000
/* ctrl_enqueue_soon's delay: a run's Jobs are seen within a few ms of
 * each other, their pods' starts within tens of ms. Measured with 100
 * 5-step runs at once: 32 plans a run without it, 15 with it. */
#define CTRL_BATCH_MS 50

/* A queue key "r:<namespace>/<name>" or "ns/name" fits in this. */
#define CTRL_KEY_LEN (2 + 64 + 1 + PLAN_OBJ_LEN + 1)

/* Cached records (see inf_projection). Workflows keep their JSON tree
 * (less managedFields): there are few of them and plan_run reads them
 * whole. Jobs and Pods keep the compact projections plan_run takes. */
struct ctrl_obj {
    struct json_object *obj;
};

/* A WorkflowRun keeps its JSON as text (less managedFields), parsed again
 * only to plan it: a json-c tree costs about 20 times its text (80 KiB for
 * a running 10-step run), and parsing 4 KB costs ~30 us. What handlers and
 * other runs' plans read is kept projected. */
struct ctrl_run {
    char *json;
    size_t len;
    char workflow[PLAN_OBJ_LEN]; /* spec.workflowRef.name, "" if none */
    struct plan_sibling sib;     /* name, uid, phase, cancel, times */
    int64_t teardown_began_ms;   /* the Succeeded condition's lastTransitionTime */
};

/* The run's JSON tree (owned by the caller), or NULL (out of memory). */
struct json_object *ctrl_run_parse(const struct ctrl_run *r);

/* Jobs and pods: the fixed part inline, the strings packed in one
 * allocation (strs comes first in both: one release serves them); the
 * name is the cache's key. ctrl_*_expand gives what plan_run takes. */
struct ctrl_job {
    char *strs; /* run (controller ownerReference's name), step, reason, message */
    char uid[PLAN_UID_LEN];
    char controller_uid[PLAN_UID_LEN];
    unsigned is_finally : 1, deleting : 1, complete : 1, success_criteria_met : 1, failed : 1,
        failure_target : 1;
    int32_t active, succeeded, failed_pods;
    int64_t start_ms, completion_ms;
};

struct ctrl_pod {
    char *strs;    /* step, job, reason, message, uid, Job uid, run label, result */
    uint8_t phase; /* enum plan_pod_phase */
    unsigned deleting : 1, terminated : 1, has_result : 1;
    int32_t exit_code;
    int64_t deletion_deadline_ms, finished_ms;
    int64_t created_ms; /* which attempt is the newest (the UI's logs) */
};

/* ctrl_records.c */
const char *ctrl_job_run(const struct ctrl_job *r); /* "" when none */
void ctrl_job_expand(const struct ctrl_job *r, struct plan_job *out);
const char *ctrl_pod_job(const struct ctrl_pod *r);
const char *ctrl_pod_run(const struct ctrl_pod *r); /* its runbook.dev/run label */
const char *ctrl_pod_uid(const struct ctrl_pod *r);
/* out->result borrows from r: valid while r is in the cache. */
void ctrl_pod_expand(const struct ctrl_pod *r, struct plan_pod *out);
/* Equal in everything a plan reads: a change that is not needs no
 * reconcile (most Job and pod updates: conditions, ready counts, the
 * foregroundDeletion finalizer...). */
int ctrl_job_same(const struct ctrl_job *a, const struct ctrl_job *b);
int ctrl_pod_same(const struct ctrl_pod *a, const struct ctrl_pod *b);

/* What a reconcile wrote and must see in the caches before the next
 * reconcile of the same key may plan again: planning from a cache that has
 * not caught up with our own writes would repeat them (409s at best). */
struct ctrl_expect {
    char stale_rv[32];            /* the run's resourceVersion we planned from */
    int status_written;           /* a status write succeeded: wait until rv moves */
    char (*jobs)[PLAN_SHORT_LEN]; /* Jobs created, not yet cached */
    size_t n_jobs;
    uint64_t deadline_ms; /* give up waiting (uv_now) */
};

struct ctrl {
    uv_loop_t *loop;
    struct kube_client *kc;
    struct ctrl_writer w;     /* every write goes through it (ctrl_writer.c) */
    struct ctrl_crash *crash; /* test builds: the crash hook around w, or NULL */
    char *ns;
    char *instance;
    int workers;
    int leading;
    int started, stopping, closing_infs;
    struct inf *inf[CTRL_INF_MAX];
    struct wq *q;
    uv_timer_t pump; /* drains the queue; armed for its next deadline */
    /* What the pump calls (ctrl_pump.c): reconcile a key taken from the
     * queue (ctrl_reconcile), and, once stopping, a reconcile finished
     * (the lifecycle's check whether everything is done). */
    void (*work)(struct ctrl *c, const char *key);
    void (*drained)(struct ctrl *c);
    int pump_closed;
    size_t in_flight; /* reconciles holding a worker */
    /* Teardowns whose DELETEs are all with the client: they wait for the
     * answers without a worker, so another run's failure never queues
     * behind them (a storm of 100 held all 16 workers for seconds). */
    size_t awaiting;
    struct lh_table *expect; /* key -> struct ctrl_expect* */
    unsigned expect_dels;    /* see ctrl_lh_delete */
    /* Instrumentation: key -> struct ctrl_enq, the uv_hrtime() of the first
     * ctrl_enqueue since the key was last taken (dispatch_seconds). */
    struct ctrl_stamps *enq;
    void (*on_teardown_sent)(void *ud, const char *ns, const char *run, size_t n_deletes,
                             uint64_t enqueued_ns, uint64_t sent_ns);
    void *hook_ud;
    void (*stopped)(void *ud);
    void *stopped_ud;
    /* Secondary indexes (ctrl_index.c), kept by the informer handlers. */
    struct ctrl_idx *jobs_by_run;   /* "ns/run" -> Job names */
    struct ctrl_idx *pods_by_run;   /* "ns/<run label>" -> pod names */
    struct ctrl_idx *runs_by_label; /* "ns/<run label>" -> run names */
    struct ctrl_idx *runs_by_wf;    /* "ns/workflow" -> run names */
    /* Job or pod uid -> deadline: DELETEs the server accepted but the cache
     * has not shown yet. A plan sees those as deleting, so a second
     * reconcile before the watch catches up does not delete them again. */
    struct ctrl_stamps *deleted;
    struct ctrl_memo *memo; /* accepted and refused Job creates (ctrl_memo.c) */
    /* key -> uv_now() of the run's last status write (coalescing) */
    struct ctrl_stamps *status_at;
    struct ctrl_ev_lane *events;
    int events_closed;
    int events_all; /* ctrl_options.events_all */
    struct ctrl_stats stats;
    ctrl_run_fn run_observer; /* the UI's (ctrl_observe_runs), or NULL */
    void *run_observer_ud;
    ctrl_obj_fn wf_observer; /* the UI's (ctrl_observe_workflows), or NULL */
    void *wf_observer_ud;
};

/* ctrl_index.c: owner -> the names of its children. */
struct ctrl_idx;
struct ctrl_idx *ctrl_idx_new(void);
void ctrl_idx_free(struct ctrl_idx *x);
/* Idempotent. 0, -EINVAL (empty owner or name), -ENAMETOOLONG, -ENOMEM. */
int ctrl_idx_add(struct ctrl_idx *x, const char *ns, const char *owner, const char *name);
void ctrl_idx_del(struct ctrl_idx *x, const char *ns, const char *owner, const char *name);
/* The names under ns/owner as "a\0b\0", *len bytes in all; NULL when none.
 * Valid until the index next changes. */
const char *ctrl_idx_get(const struct ctrl_idx *x, const char *ns, const char *owner, size_t *len);
size_t ctrl_idx_owners(const struct ctrl_idx *x);
/* p names the loop variable, so it cannot be parenthesized. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define CTRL_IDX_FOREACH(p, names, len)                                                            \
    for (const char *p = (names); p && p < (names) + (len); p += strlen(p) + 1)
/* NOLINTEND(bugprone-macro-parentheses) */

/* ctrl_stamp.c: string -> uint64_t tables. set: 0 or -ENOMEM (keep_min:
 * an existing smaller value stays); get: 1 and *v if present, else 0. */
struct ctrl_stamps;
struct ctrl_stamps *ctrl_stamps_new(void);
void ctrl_stamps_free(struct ctrl_stamps *st);
int ctrl_stamp_set(struct ctrl_stamps *st, const char *key, uint64_t v, int keep_min);
int ctrl_stamp_get(const struct ctrl_stamps *st, const char *key, uint64_t *v);
void ctrl_stamp_del(struct ctrl_stamps *st, const char *key);
size_t ctrl_stamps_count(const struct ctrl_stamps *st);
/* lh_table_delete leaves a tombstone that only a resize clears, and a
 * lookup that misses scans on to the next never-used slot: under steady
 * insert/delete churn every miss would become a scan of the whole table.
 * This deletes and, after size/2 deletes (*dels counts them), rehashes in
 * place. Every table of the controller deletes through it. */
void ctrl_lh_delete(struct lh_table *t, const void *key, unsigned *dels);

/* ctrl_records.c: n strings (NULL as "") packed in one allocation
 * ("a\0b\0"), or NULL; the i-th of them ("" for a NULL buffer). */
char *ctrl_pack(const char *const *s, size_t n);
const char *ctrl_packed(const char *p, size_t i);

/* ctrl_events.c: the Event lane (see there). Zero fields take defaults. */
struct ctrl_ev_options {
    uv_loop_t *loop; /* set by ctrl_ev_new */
    struct kube_client *kc;
    size_t queue;     /* Events waiting at most; 0: 1000 */
    size_t in_flight; /* 0: 4 */
    double qps;       /* 0: 50 */
    int burst;        /* 0: 100 */
    /* Sends one Event (the unit tests count them); NULL: a POST to
     * events.k8s.io/v1 through kc. */
    int (*send)(void *ud, const char *ns, struct json_object *ev, kube_cb cb, void *cb_ud);
    void *send_ud;
};
struct ctrl_ev_stats {
    uint64_t sent, failed, dropped; /* dropped: queue full, or closed with Events waiting */
    size_t queued;
};
struct ctrl_ev_lane;
int ctrl_ev_new(uv_loop_t *loop, const struct ctrl_ev_options *opt, const char *instance,
                struct ctrl_ev_lane **out);
/* 1 if the EVENT action a carries news (a phase change, a failure, a
 * cancel, a warning...), 0 for a step going as planned (the reasons in
 * ctrl_events.c's table). The executor sends an Event that is not news
 * only with ctrl_options.events_all. */
int ctrl_ev_news(const struct plan_action *a);
/* Queues the EVENT action a about kind ('r' run, 'w' Workflow) ns/name. */
void ctrl_ev_push(struct ctrl_ev_lane *l, char kind, const char *ns, const char *name,
                  const char *uid, const struct plan_action *a, int64_t now_ms);
/* Drops what waits, lets what is in flight answer, closes the timer, then
 * closed(ud). ctrl_ev_free after that (or before ctrl_ev_new's loop ran). */
void ctrl_ev_close(struct ctrl_ev_lane *l, void (*closed)(void *ud), void *ud);
void ctrl_ev_free(struct ctrl_ev_lane *l);
void ctrl_ev_stats(const struct ctrl_ev_lane *l, struct ctrl_ev_stats *out);

/* ctrl_writer.c: the kube client as a ctrl_writer (ud: the client). */
extern const struct ctrl_writer ctrl_kube_writer;
/* An Event lane send that posts through c's writer. */
int ctrl_writer_send_event(void *ud, const char *ns, struct json_object *ev, kube_cb cb,
                           void *cb_ud);

/* ctrl_crash.c: the test builds' crash hook (see there). Wraps *w when
 * the environment asks for it; *out is NULL otherwise. 0, -EINVAL (a
 * malformed RUNBOOK_CRASH_AT), -ENOMEM, or -errno opening the log. */
struct ctrl_crash;
int ctrl_crash_wrap(struct ctrl_writer *w, struct ctrl_crash **out);
void ctrl_crash_free(struct ctrl_crash *x);
/* The handlers informer i must be given: h itself, or (hook armed) a
 * wrapper that calls h with the original *ud and counts the event; *ud is
 * replaced by the wrapper's. resource names it in the log. */
const struct inf_handlers *ctrl_crash_handlers(struct ctrl_crash *x, int i,
                                               const struct inf_handlers *h, const char *resource,
                                               void **ud);

/* ctrl_memo.c: per run, Job creates the API server accepted or refused
 * that the caches or the status may not show yet (see there). */
struct ctrl_memo;
struct ctrl_memo *ctrl_memo_new(void);
void ctrl_memo_free(struct ctrl_memo *m);
/* 0, -EINVAL (no uid), -ENOMEM. */
int ctrl_memo_created(struct ctrl_memo *m, const char *ns, const char *run, const char *job,
                      const char *uid, uint64_t now);
/* The Job cache shows that create. */
void ctrl_memo_seen(struct ctrl_memo *m, const char *ns, const char *run, const char *job,
                    const char *uid);
/* Records a refused create of f->step (count and first_ms kept per kind). */
void ctrl_memo_refused(struct ctrl_memo *m, const char *ns, const char *run,
                       const struct plan_refusal *f);
/* A create of that step succeeded: its refusal goes. */
void ctrl_memo_accepted(struct ctrl_memo *m, const char *ns, const char *run, const char *step);
/* Copies of the run's records for plan_input (free both); 0 or -ENOMEM. */
int ctrl_memo_get(struct ctrl_memo *m, const char *ns, const char *run, uint64_t now,
                  struct plan_created **created, size_t *n_created, struct plan_refusal **ref,
                  size_t *n_ref);
/* A pod of the run that went from the cache terminated (its last state):
 * kept for the plan until the status says how its step ended. 0,
 * -EINVAL (not terminated, no Job uid), -ENOMEM. */
int ctrl_memo_ended(struct ctrl_memo *m, const char *ns, const char *run, const struct plan_pod *p);
/* A copy of them for plan_input.ended (free it); 0 or -ENOMEM. */
int ctrl_memo_get_ended(struct ctrl_memo *m, const char *ns, const char *run,
                        struct plan_pod **ended, size_t *n);
/* The answer of a LIST_PODS (pods: malloc'ed, owned by the memo from now
 * on, also on error), replacing an earlier one. 0 or -ENOMEM. */
int ctrl_memo_listed(struct ctrl_memo *m, const char *ns, const char *run, struct plan_pod *pods,
                     size_t n);
/* 1 and the answer (the caller's to free) if there is one, which the memo
 * forgets; else 0. */
int ctrl_memo_take_listed(struct ctrl_memo *m, const char *ns, const char *run,
                          struct plan_pod **pods, size_t *n);
/* Drops what the run's status (borrowed; may be NULL) now records. */
void ctrl_memo_settle(struct ctrl_memo *m, const char *ns, const char *run,
                      struct json_object *status);
void ctrl_memo_forget(struct ctrl_memo *m, const char *ns, const char *run);
size_t ctrl_memo_runs(const struct ctrl_memo *m);

/* ctrl_listed.c: sends the LIST_PODS action a of run ns/run; done(ud,
 * rc, unseen) follows exactly once from the loop when 0 is returned: rc 0
 * and the answer in the memo, unseen 1 when it holds a running pod the pod
 * cache lacks; or rc < 0 (-EIO: the server's error, logged). < 0: not
 * sent, no callback. */
int ctrl_list_pods(struct ctrl *c, const char *ns, const char *run, const struct plan_action *a,
                   void (*done)(void *ud, int rc, int unseen), void *ud);

/* ctrl_exec.c: the deleted overlay. */
void ctrl_deleted_forget(struct ctrl *c, const char *job_uid);

/* ctrl_pump.c */
void ctrl_enqueue(struct ctrl *c, char kind, const char *ns, const char *name);
/* The same, CTRL_BATCH_MS from now: for routine news of a run's children
 * (a Job or pod made, started, succeeded), which come in bursts; one plan
 * then reads the whole burst. Failures and deletions use ctrl_enqueue. */
void ctrl_enqueue_soon(struct ctrl *c, char kind, const char *ns, const char *name);
/* Instrumentation: the enqueue time of key (0 if none), forgotten;
 * ctrl_enq_restore puts one back (keeping an earlier one) when the key's
 * reconcile was deferred without planning. */
uint64_t ctrl_enq_take(struct ctrl *c, const char *key);
void ctrl_enq_restore(struct ctrl *c, const char *key, uint64_t ns);
void ctrl_kick(struct ctrl *c);
void ctrl_reconcile_done(struct ctrl *c);

/* ctrl_stamp.c: the wall clock in ms, and a latency sample. */
int64_t ctrl_wall_ms(void);
void ctrl_hist_observe(struct ctrl_hist *h, double seconds);

/* ctrl_records.c */
extern const struct inf_projection ctrl_obj_projection, ctrl_job_projection, ctrl_pod_projection;
extern const struct inf_projection ctrl_run_projection;
/* ctrl_handlers.c */
extern const struct inf_handlers ctrl_handlers[CTRL_INF_MAX];

/* ctrl_exec.c: reconciles key ("r:ns/name" or "w:ns/name"), taken from the
 * queue; calls wq_done for it, now or when its writes finish. */
void ctrl_reconcile(struct ctrl *c, const char *key);
void ctrl_expect_free(struct lh_entry *e);

#endif
