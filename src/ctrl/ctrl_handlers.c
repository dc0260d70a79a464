/* What the caches keep, and which keys their changes enqueue. */
#include <string.h>

#include "ctrl/ctrl-internal.h"

/* --- projections ------------------------------------------------------------ */

static int obj_project(struct json_object *obj, void *record)
{
    struct ctrl_obj *r = record;
    /* A private copy: the decoder owns obj and may reuse its parent. The
     * managedFields are a large share of an object and nothing reads them. */
    struct json_object *copy = NULL;
    if (json_object_deep_copy(obj, &copy, NULL) != 0 || !copy)
        return -1;
    struct json_object *meta = json_object_object_get(copy, "metadata");
    if (meta)
        json_object_object_del(meta, "managedFields");
    r->obj = copy;
    return 0;
}

static void obj_release(void *record)
{
    struct ctrl_obj *r = record;
    json_object_put(r->obj);
    r->obj = NULL;
}

const struct inf_projection ctrl_obj_projection = {sizeof(struct ctrl_obj), obj_project,
                                                   obj_release};

static int job_project(struct json_object *obj, void *record)
{
    struct ctrl_job *r = record;
    if (plan_job_from_json(obj, &r->j) != 0)
        return -1;
    struct json_object *refs = inf_jget(obj, "metadata", "ownerReferences", NULL);
    size_t n = refs && json_object_is_type(refs, json_type_array) ? json_object_array_length(refs)
                                                                     : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *ref = json_object_array_get_idx(refs, i);
        struct json_object *ctl = json_object_object_get(ref, "controller");
        const char *kind = inf_jstr(ref, "kind", NULL);
        const char *name = inf_jstr(ref, "name", NULL);
        if (ctl && json_object_get_boolean(ctl) && kind && strcmp(kind, "WorkflowRun") == 0 &&
            name && strlen(name) < sizeof r->run) {
            memcpy(r->run, name, strlen(name) + 1);
            break;
        }
    }
    return 0;
}

const struct inf_projection ctrl_job_projection = {sizeof(struct ctrl_job), job_project, NULL};

static int pod_project(struct json_object *obj, void *record)
{
    struct ctrl_pod *r = record;
    return plan_pod_from_json(obj, &r->p) == 0 ? 0 : -1;
}

const struct inf_projection ctrl_pod_projection = {sizeof(struct ctrl_pod), pod_project, NULL};

const char *ctrl_run_workflow(struct json_object *run)
{
    return inf_jstr(run, "spec", "workflowRef", "name", NULL);
}

const char *ctrl_run_phase(struct json_object *run)
{
    const char *p = inf_jstr(run, "status", "phase", NULL);
    return p ? p : "";
}

/* --- handlers: they only enqueue ---------------------------------------------- */

static int not_started(struct json_object *run)
{
    const char *p = ctrl_run_phase(run);
    return p[0] == '\0' || strcmp(p, "Pending") == 0;
}

struct wake {
    struct ctrl *c;
    const char *ns, *workflow;
};

static int wake_waiting(void *ud, const void *rec)
{
    const struct wake *w = ud;
    const struct ctrl_obj *r = rec;
    const char *wf = ctrl_run_workflow(r->obj);
    if (strcmp(inf_rec_namespace(rec), w->ns) == 0 && wf && strcmp(wf, w->workflow) == 0 &&
        not_started(r->obj))
        ctrl_enqueue(w->c, 'r', w->ns, inf_rec_name(rec));
    return 0;
}

/* Runs waiting for a Workflow to appear, or queued behind a running run
 * (concurrencyPolicy Forbid), depend on objects other than themselves. */
static void wake_runs_of(struct ctrl *c, const char *ns, const char *workflow)
{
    if (!workflow || !c->inf[CTRL_INF_RUNS])
        return;
    struct wake w = {c, ns, workflow};
    inf_foreach(c->inf[CTRL_INF_RUNS], wake_waiting, &w);
}

static void wf_changed(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    ctrl_enqueue(c, 'w', inf_rec_namespace(rec), inf_rec_name(rec));
    wake_runs_of(c, inf_rec_namespace(rec), inf_rec_name(rec));
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
}

static int plan_phase_of(const struct ctrl_obj *r)
{
    return plan_phase_parse(ctrl_run_phase(r->obj));
}

static void run_added(void *ud, const void *rec)
{
    ctrl_enqueue(ud, 'r', inf_rec_namespace(rec), inf_rec_name(rec));
}

static void run_updated(void *ud, const void *old_rec, const void *new_rec)
{
    struct ctrl *c = ud;
    const struct ctrl_obj *o = old_rec, *n = new_rec;
    ctrl_enqueue(c, 'r', inf_rec_namespace(new_rec), inf_rec_name(new_rec));
    int op = plan_phase_of(o), np = plan_phase_of(n);
    if (op == np)
        return;
    if (plan_phase_terminal(np)) {
        wake_runs_of(c, inf_rec_namespace(new_rec), ctrl_run_workflow(n->obj));
        /* Teardown time: the Succeeded condition turned False when the
         * teardown began; completionTime is when the children were gone. */
        if (op == PLAN_FAILING || op == PLAN_CANCELLING) {
            int64_t done = 0, began = 0;
            plan_time_parse(inf_jstr(n->obj, "status", "completionTime", NULL), &done);
            struct json_object *conds = inf_jget(n->obj, "status", NULL);
            conds = conds ? json_object_object_get(conds, "conditions") : NULL;
            size_t len = conds ? json_object_array_length(conds) : 0;
            for (size_t i = 0; i < len; i++) {
                struct json_object *cond = json_object_array_get_idx(conds, i);
                const char *t = inf_jstr(cond, "type", NULL);
                if (t && strcmp(t, "Succeeded") == 0)
                    plan_time_parse(inf_jstr(cond, "lastTransitionTime", NULL), &began);
            }
            if (done && began && done >= began)
                ctrl_hist_observe(&c->stats.teardown_seconds, (double)(done - began) / 1000.0);
        }
    }
}

static void run_deleted(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    const struct ctrl_obj *r = rec;
    ctrl_enqueue(c, 'r', inf_rec_namespace(rec), inf_rec_name(rec));
    wake_runs_of(c, inf_rec_namespace(rec), ctrl_run_workflow(r->obj));
}

static void job_changed(void *ud, const void *rec)
{
    const struct ctrl_job *j = rec;
    if (j->run[0])
        ctrl_enqueue(ud, 'r', inf_rec_namespace(rec), j->run);
}

static void job_updated(void *ud, const void *old_rec, const void *new_rec)
{
    (void)old_rec;
    job_changed(ud, new_rec);
}

/* A pod names its Job; the Job names its run. A pod whose Job is not cached
 * yet is skipped: the Job's own event will enqueue the run. */
static void pod_changed(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    const struct ctrl_pod *p = rec;
    if (!p->p.job[0])
        return;
    const struct ctrl_job *j = inf_get(c->inf[CTRL_INF_JOBS], inf_rec_namespace(rec), p->p.job);
    if (j && j->run[0])
        ctrl_enqueue(c, 'r', inf_rec_namespace(rec), j->run);
}

static void pod_updated(void *ud, const void *old_rec, const void *new_rec)
{
    (void)old_rec;
    pod_changed(ud, new_rec);
}

static void synced(void *ud)
{
    ctrl_kick(ud);
}

const struct inf_handlers ctrl_handlers[CTRL_INF_MAX] = {
    [CTRL_INF_WORKFLOWS] = {wf_changed, wf_updated, wf_deleted, synced},
    [CTRL_INF_RUNS] = {run_added, run_updated, run_deleted, synced},
    [CTRL_INF_JOBS] = {job_changed, job_updated, job_changed, synced},
    [CTRL_INF_PODS] = {pod_changed, pod_updated, pod_changed, synced},
};
