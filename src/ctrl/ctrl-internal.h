/* Shared by the ctrl_*.c files; not part of the module's interface. */
#ifndef RB_CTRL_INTERNAL_H
#define RB_CTRL_INTERNAL_H

#include <json-c/json.h>
#include <json-c/linkhash.h>

#include "ctrl/ctrl.h"
#include "informer/inf.h"
#include "plan/plan.h"
#include "queue/queue.h"

enum { CTRL_INF_WORKFLOWS = 0, CTRL_INF_RUNS, CTRL_INF_JOBS, CTRL_INF_PODS, CTRL_INF_MAX };

/* Cached records (see inf_projection). Runs and Workflows keep their JSON
 * (less managedFields): there are few of them and plan_run reads them
 * whole. Jobs and Pods keep the compact projections plan_run takes. */
struct ctrl_obj {
    struct json_object *obj;
};

struct ctrl_job {
    struct plan_job j;
    char run[PLAN_OBJ_LEN]; /* the controller ownerReference's name */
};

struct ctrl_pod {
    struct plan_pod p;
};

/* What a reconcile wrote and must see in the caches before the next
 * reconcile of the same key may plan again: planning from a cache that has
 * not caught up with our own writes would repeat them (409s at best). */
struct ctrl_expect {
    char stale_rv[32];      /* the run's resourceVersion we planned from */
    int status_written;     /* a status write succeeded: wait until rv moves */
    char (*jobs)[PLAN_SHORT_LEN]; /* Jobs created, not yet cached */
    size_t n_jobs;
    uint64_t deadline_ms;   /* give up waiting (uv_now) */
};

struct ctrl {
    uv_loop_t *loop;
    struct kube_client *kc;
    char *ns;
    char *instance;
    int workers;
    int leading;
    int started, stopping, closing_infs;
    struct inf *inf[CTRL_INF_MAX];
    struct wq *q;
    uv_timer_t pump; /* drains the queue; armed for its next deadline */
    int pump_closed;
    size_t in_flight;        /* reconciles with writes outstanding */
    struct lh_table *expect; /* key -> struct ctrl_expect* */
    /* Instrumentation: key -> struct ctrl_enq, the uv_hrtime() of the first
     * ctrl_enqueue since the key was last taken (dispatch_seconds). */
    struct lh_table *enq;
    void (*on_teardown_sent)(void *ud, const char *ns, const char *run, size_t n_deletes,
                             uint64_t enqueued_ns, uint64_t sent_ns);
    void *hook_ud;
    void (*stopped)(void *ud);
    void *stopped_ud;
    struct ctrl_stats stats;
};

/* ctrl.c */
void ctrl_enqueue(struct ctrl *c, char kind, const char *ns, const char *name);
/* Instrumentation: the enqueue time of key (0 if none), forgotten;
 * ctrl_enq_restore puts one back (keeping an earlier one) when the key's
 * reconcile was deferred without planning. */
uint64_t ctrl_enq_take(struct ctrl *c, const char *key);
void ctrl_enq_restore(struct ctrl *c, const char *key, uint64_t ns);
void ctrl_kick(struct ctrl *c);
void ctrl_reconcile_done(struct ctrl *c);
int64_t ctrl_wall_ms(void);
void ctrl_hist_observe(struct ctrl_hist *h, double seconds);

/* ctrl_handlers.c */
extern const struct inf_projection ctrl_obj_projection, ctrl_job_projection,
    ctrl_pod_projection;
extern const struct inf_handlers ctrl_handlers[CTRL_INF_MAX];
const char *ctrl_run_workflow(struct json_object *run);
const char *ctrl_run_phase(struct json_object *run);

/* ctrl_exec.c: reconciles key ("r:ns/name" or "w:ns/name"), taken from the
 * queue; calls wq_done for it, now or when its writes finish. */
void ctrl_reconcile(struct ctrl *c, const char *key);
void ctrl_expect_free(struct lh_entry *e);

#endif
