/* Which keys the caches' changes enqueue, and the indexes (owner ->
 * children) the handlers keep up to date. The records are ctrl_records.c's. */
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl-internal.h"
#include "wf/wf.h"

/* --- handlers: they keep the indexes and enqueue --------------------------- */

static int not_started(const struct ctrl_run *r)
{
    return r->sib.phase == PLAN_PHASE_NONE || r->sib.phase == PLAN_PENDING;
}

/* Runs waiting for a Workflow to appear, or queued behind a running run
 * (concurrencyPolicy Forbid), depend on objects other than themselves. */
static void wake_runs_of(struct ctrl *c, const char *ns, const char *workflow)
{
    size_t len;
    const char *names = ctrl_idx_get(c->runs_by_wf, ns, workflow, &len);
    CTRL_IDX_FOREACH(name, names, len)
    {
        const struct ctrl_run *r = inf_get(c->inf[CTRL_INF_RUNS], ns, name);
        if (r && not_started(r) && strcmp(r->workflow, workflow) == 0)
            ctrl_enqueue(c, 'r', ns, name);
    }
}

static void wf_changed(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    ctrl_enqueue(c, 'w', inf_rec_namespace(rec), inf_rec_name(rec));
    wake_runs_of(c, inf_rec_namespace(rec), inf_rec_name(rec));
    if (c->wf_observer)
        c->wf_observer(c->wf_observer_ud, inf_rec_namespace(rec), inf_rec_name(rec),
                       ((const struct ctrl_obj *)rec)->obj);
}

static void wf_updated(void *ud, const void *old_rec, const void *new_rec)
{
    (void)old_rec;
    wf_changed(ud, new_rec);
}

static void wf_deleted(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    wake_runs_of(c, inf_rec_namespace(rec), inf_rec_name(rec));
    if (c->wf_observer)
        c->wf_observer(c->wf_observer_ud, inf_rec_namespace(rec), inf_rec_name(rec), NULL);
}

static void index_add(struct ctrl_idx *x, const void *rec, const char *owner)
{
    /* Only out of memory can fail here; that run's plan then misses a
     * child, which the next relist or event repairs. */
    if (owner[0])
        (void)ctrl_idx_add(x, inf_rec_namespace(rec), owner, inf_rec_name(rec));
}

/* Most updates keep the owner: nothing to do then (an add scans the
 * owner's set, and a Workflow may have thousands of runs). */
static void index_move(struct ctrl_idx *x, const void *old_rec, const char *old_owner,
                       const void *new_rec, const char *new_owner)
{
    if (strcmp(old_owner, new_owner) == 0)
        return;
    ctrl_idx_del(x, inf_rec_namespace(old_rec), old_owner, inf_rec_name(old_rec));
    index_add(x, new_rec, new_owner);
}

/* Pods find their run through its label value, which is the run's name
 * shortened when longer than a label may be. */
static void run_label(const void *rec, char out[WF_NAME_LEN])
{
    if (wf_label_value(inf_rec_name(rec), out) < 0)
        out[0] = '\0';
}

/* The UI's observer (ctrl_observe_runs), after the indexes are current. */
static void observe(struct ctrl *c, const void *rec)
{
    const struct ctrl_run *r = rec;
    if (c->run_observer)
        c->run_observer(c->run_observer_ud, inf_rec_namespace(rec), inf_rec_name(rec), r->json,
                        r->len);
}

static void run_added(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    const struct ctrl_run *r = rec;
    char label[WF_NAME_LEN];
    run_label(rec, label);
    index_add(c->runs_by_wf, rec, r->workflow);
    index_add(c->runs_by_label, rec, label);
    ctrl_enqueue(c, 'r', inf_rec_namespace(rec), inf_rec_name(rec));
    observe(c, rec);
}

static void run_updated(void *ud, const void *old_rec, const void *new_rec)
{
    struct ctrl *c = ud;
    const struct ctrl_run *o = old_rec, *n = new_rec;
    index_move(c->runs_by_wf, old_rec, o->workflow, new_rec, n->workflow);
    ctrl_enqueue(c, 'r', inf_rec_namespace(new_rec), inf_rec_name(new_rec));
    observe(c, new_rec);
    enum plan_phase op = o->sib.phase, np = n->sib.phase;
    if (op == np || !plan_phase_terminal(np))
        return;
    wake_runs_of(c, inf_rec_namespace(new_rec), n->workflow);
    /* Teardown time: the Succeeded condition turned False when the teardown
     * began; completionTime is when the children were gone. */
    int64_t done = n->sib.completion_ms, began = n->teardown_began_ms;
    if ((op == PLAN_FAILING || op == PLAN_CANCELLING) && done && began && done >= began)
        ctrl_hist_observe(&c->stats.teardown_seconds, (double)(done - began) / 1000.0);
}

static void run_deleted(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    const struct ctrl_run *r = rec;
    char label[WF_NAME_LEN];
    run_label(rec, label);
    ctrl_idx_del(c->runs_by_wf, inf_rec_namespace(rec), r->workflow, inf_rec_name(rec));
    ctrl_idx_del(c->runs_by_label, inf_rec_namespace(rec), label, inf_rec_name(rec));
    ctrl_memo_forget(c->memo, inf_rec_namespace(rec), inf_rec_name(rec));
    ctrl_enqueue(c, 'r', inf_rec_namespace(rec), inf_rec_name(rec));
    if (c->run_observer)
        c->run_observer(c->run_observer_ud, inf_rec_namespace(rec), inf_rec_name(rec), NULL, 0);
    wake_runs_of(c, inf_rec_namespace(rec), r->workflow);
}

/* Urgent news of a child is planned at once: a failure starts the
 * teardown, a deletion may end one. The rest (made, started, succeeded)
 * comes in bursts and waits CTRL_BATCH_MS to be planned together. */
static void job_enqueue(struct ctrl *c, const void *rec, int urgent)
{
    const char *run = ctrl_job_run(rec);
    if (!run[0])
        return;
    if (urgent)
        ctrl_enqueue(c, 'r', inf_rec_namespace(rec), run);
    else
        ctrl_enqueue_soon(c, 'r', inf_rec_namespace(rec), run);
}

/* o: the Job as cached before, NULL when it is new. */
static int job_urgent(const struct ctrl_job *o, const struct ctrl_job *n)
{
    return n->failed || n->failure_target || n->deleting ||
           (o && (n->failed_pods > o->failed_pods || strcmp(o->uid, n->uid) != 0));
}

static void job_added(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    const struct ctrl_job *j = rec;
    index_add(c->jobs_by_run, rec, ctrl_job_run(rec));
    /* seen now, even if it is gone before the run is planned again */
    ctrl_memo_seen(c->memo, inf_rec_namespace(rec), ctrl_job_run(rec), inf_rec_name(rec), j->uid);
    job_enqueue(c, rec, job_urgent(NULL, j));
}

static void job_updated(void *ud, const void *old_rec, const void *new_rec)
{
    struct ctrl *c = ud;
    const struct ctrl_job *o = old_rec, *n = new_rec;
    index_move(c->jobs_by_run, old_rec, ctrl_job_run(old_rec), new_rec, ctrl_job_run(new_rec));
    if (n->deleting)
        ctrl_deleted_forget(c, n->uid); /* the cache shows it now */
    if (strcmp(o->uid, n->uid) != 0)
        ctrl_deleted_forget(c, o->uid); /* replaced under the same name (relist) */
    if (!ctrl_job_same(o, n))
        job_enqueue(c, new_rec, job_urgent(o, n));
}

static void job_deleted(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    const struct ctrl_job *j = rec;
    ctrl_idx_del(c->jobs_by_run, inf_rec_namespace(rec), ctrl_job_run(rec), inf_rec_name(rec));
    ctrl_deleted_forget(c, j->uid);
    job_enqueue(c, rec, 1);
}

/* A pod names its run by label, and keeps it when its Job is gone: the
 * run (normally one) whose label value that is decides what the pod is. */
static void pod_enqueue(struct ctrl *c, const void *rec, int urgent)
{
    size_t len;
    const char *ns = inf_rec_namespace(rec);
    const char *names = ctrl_idx_get(c->runs_by_label, ns, ctrl_pod_run(rec), &len);
    CTRL_IDX_FOREACH(name, names, len)
    {
        if (urgent)
            ctrl_enqueue(c, 'r', ns, name);
        else
            ctrl_enqueue_soon(c, 'r', ns, name);
    }
}

/* A pod that failed, ended badly or is going: what a teardown waits for
 * or starts from. */
static int pod_urgent(const struct ctrl_pod *p)
{
    return p->phase == PLAN_POD_FAILED || p->deleting || (p->terminated && p->exit_code != 0);
}

static void pod_added(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    index_add(c->pods_by_run, rec, ctrl_pod_run(rec));
    pod_enqueue(c, rec, pod_urgent(rec));
}

static void pod_updated(void *ud, const void *old_rec, const void *new_rec)
{
    struct ctrl *c = ud;
    const struct ctrl_pod *n = new_rec;
    index_move(c->pods_by_run, old_rec, ctrl_pod_run(old_rec), new_rec, ctrl_pod_run(new_rec));
    if (n->deleting)
        ctrl_deleted_forget(c, ctrl_pod_uid(n)); /* the cache shows it now */
    if (!ctrl_pod_same(old_rec, new_rec))
        pod_enqueue(c, new_rec, pod_urgent(n));
}

static void pod_deleted(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    const struct ctrl_pod *p = rec;
    size_t len;
    const char *ns = inf_rec_namespace(rec), *run = ctrl_pod_run(p);
    if (p->terminated && run[0] && ctrl_idx_get(c->runs_by_label, ns, run, &len)) {
        struct plan_pod last;
        ctrl_pod_expand(p, &last);
        (void)ctrl_memo_ended(c->memo, ns, run, &last); /* -ENOMEM: only a detail lost */
    }
    ctrl_idx_del(c->pods_by_run, inf_rec_namespace(rec), ctrl_pod_run(rec), inf_rec_name(rec));
    ctrl_deleted_forget(c, ctrl_pod_uid(rec));
    pod_enqueue(c, rec, 1);
}

static void synced(void *ud)
{
    ctrl_kick(ud);
}

const struct inf_handlers ctrl_handlers[CTRL_INF_MAX] = {
    [CTRL_INF_WORKFLOWS] = {wf_changed, wf_updated, wf_deleted, synced},
    [CTRL_INF_RUNS] = {run_added, run_updated, run_deleted, synced},
    [CTRL_INF_JOBS] = {job_added, job_updated, job_deleted, synced},
    [CTRL_INF_PODS] = {pod_added, pod_updated, pod_deleted, synced},
};
