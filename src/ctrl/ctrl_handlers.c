/* What the caches keep, which keys their changes enqueue, and the indexes
 * (owner -> children) the handlers keep up to date. */
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl-internal.h"
#include "wf/wf.h"

/* --- packed strings --------------------------------------------------------- */

char *ctrl_pack(const char *const *s, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (s[i] ? strlen(s[i]) : 0) + 1;
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t l = s[i] ? strlen(s[i]) : 0;
        memcpy(p, s[i] ? s[i] : "", l);
        p[l] = '\0';
        p += l + 1;
    }
    return out;
}

const char *ctrl_packed(const char *p, size_t i)
{
    if (!p)
        return "";
    while (i--)
        p += strlen(p) + 1;
    return p;
}

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

static int run_project(struct json_object *obj, void *record)
{
    struct ctrl_run *r = record;
    if (plan_sibling_from_json(obj, &r->sib) != 0)
        return -1;
    const char *wf = inf_jstr(obj, "spec", "workflowRef", "name", NULL);
    plan_copy_trunc(r->workflow, sizeof r->workflow, wf);
    struct json_object *conds = inf_jget(obj, "status", NULL);
    conds = conds ? json_object_object_get(conds, "conditions") : NULL;
    size_t n = json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *cond = json_object_array_get_idx(conds, i);
        const char *t = inf_jstr(cond, "type", NULL);
        if (t && strcmp(t, "Succeeded") == 0)
            kj_time_parse(inf_jstr(cond, "lastTransitionTime", NULL), &r->teardown_began_ms);
    }
    /* Serialized without managedFields, which nothing reads; obj is only
     * lent, so they are put back. */
    struct json_object *meta = json_object_object_get(obj, "metadata"), *mf = NULL;
    if (meta && json_object_object_get_ex(meta, "managedFields", &mf)) {
        json_object_get(mf);
        json_object_object_del(meta, "managedFields");
    }
    size_t len = 0;
    const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
    if (s && (r->json = malloc(len + 1))) {
        memcpy(r->json, s, len + 1);
        r->len = len;
    }
    if (mf && json_object_object_add(meta, "managedFields", mf) != 0)
        json_object_put(mf); /* out of memory: the lent object loses a field nothing reads */
    return r->json ? 0 : -1;
}

static void run_release(void *record)
{
    struct ctrl_run *r = record;
    free(r->json);
    r->json = NULL;
}

const struct inf_projection ctrl_run_projection = {sizeof(struct ctrl_run), run_project,
                                                   run_release};

struct json_object *ctrl_run_parse(const struct ctrl_run *r)
{
    return kube_json_parse(r->json, r->len);
}

/* Jobs and pods: the fixed part inline, the strings packed (most are short
 * or empty; fixed arrays sized for the longest cost ~700 bytes a record). */
enum { JS_RUN, JS_STEP, JS_REASON, JS_MESSAGE, JS_N };

static int job_project(struct json_object *obj, void *record)
{
    struct ctrl_job *r = record;
    struct plan_job j;
    if (plan_job_from_json(obj, &j) != 0)
        return -1;
    const char *run = NULL;
    struct json_object *refs = inf_jget(obj, "metadata", "ownerReferences", NULL);
    size_t n = json_object_is_type(refs, json_type_array) ? json_object_array_length(refs) : 0;
    for (size_t i = 0; i < n && !run; i++) {
        struct json_object *ref = json_object_array_get_idx(refs, i);
        struct json_object *ctl = json_object_object_get(ref, "controller");
        const char *kind = inf_jstr(ref, "kind", NULL);
        const char *name = inf_jstr(ref, "name", NULL);
        if (ctl && json_object_get_boolean(ctl) && kind && strcmp(kind, "WorkflowRun") == 0 &&
            name && strlen(name) < PLAN_OBJ_LEN)
            run = name;
    }
    const char *s[JS_N] = {run, j.step, j.reason, j.message};
    if (!(r->strs = ctrl_pack(s, JS_N)))
        return -1;
    memcpy(r->uid, j.uid, sizeof r->uid);
    memcpy(r->controller_uid, j.controller_uid, sizeof r->controller_uid);
    r->is_finally = j.is_finally;
    r->deleting = j.deleting;
    r->complete = j.complete;
    r->success_criteria_met = j.success_criteria_met;
    r->failed = j.failed;
    r->failure_target = j.failure_target;
    r->active = j.active;
    r->succeeded = j.succeeded;
    r->failed_pods = j.failed_pods;
    r->start_ms = j.start_ms;
    r->completion_ms = j.completion_ms;
    return 0;
}

static void strs_release(void *record)
{
    /* strs is the first member of both struct ctrl_job and struct ctrl_pod */
    char **strs = record;
    free(*strs);
    *strs = NULL;
}

const struct inf_projection ctrl_job_projection = {sizeof(struct ctrl_job), job_project,
                                                   strs_release};

const char *ctrl_job_run(const struct ctrl_job *r)
{
    return ctrl_packed(r->strs, JS_RUN);
}

void ctrl_job_expand(const struct ctrl_job *r, struct plan_job *out)
{
    memset(out, 0, sizeof *out);
    plan_copy_trunc(out->name, sizeof out->name, inf_rec_name(r));
    memcpy(out->uid, r->uid, sizeof out->uid);
    memcpy(out->controller_uid, r->controller_uid, sizeof out->controller_uid);
    plan_copy_trunc(out->step, sizeof out->step, ctrl_packed(r->strs, JS_STEP));
    plan_copy_trunc(out->reason, sizeof out->reason, ctrl_packed(r->strs, JS_REASON));
    plan_copy_trunc(out->message, sizeof out->message, ctrl_packed(r->strs, JS_MESSAGE));
    out->is_finally = r->is_finally;
    out->deleting = r->deleting;
    out->complete = r->complete;
    out->success_criteria_met = r->success_criteria_met;
    out->failed = r->failed;
    out->failure_target = r->failure_target;
    out->active = r->active;
    out->succeeded = r->succeeded;
    out->failed_pods = r->failed_pods;
    out->start_ms = r->start_ms;
    out->completion_ms = r->completion_ms;
}

enum { PS_STEP, PS_JOB, PS_REASON, PS_MESSAGE, PS_UID, PS_JOB_UID, PS_RUN, PS_N };

static int pod_project(struct json_object *obj, void *record)
{
    struct ctrl_pod *r = record;
    struct plan_pod p;
    if (plan_pod_from_json(obj, &p) != 0)
        return -1;
    const char *run = inf_jstr(obj, "metadata", "labels", KJ_LABEL_RUN, NULL);
    const char *s[PS_N] = {p.step, p.job, p.reason, p.message, p.uid, p.controller_uid, run};
    if (!(r->strs = ctrl_pack(s, PS_N)))
        return -1;
    r->phase = (uint8_t)p.phase;
    r->deleting = p.deleting;
    r->terminated = p.terminated;
    r->exit_code = p.exit_code;
    r->deletion_deadline_ms = p.deletion_deadline_ms;
    r->finished_ms = p.finished_ms;
    return 0;
}

const struct inf_projection ctrl_pod_projection = {sizeof(struct ctrl_pod), pod_project,
                                                   strs_release};

const char *ctrl_pod_job(const struct ctrl_pod *r)
{
    return ctrl_packed(r->strs, PS_JOB);
}

const char *ctrl_pod_run(const struct ctrl_pod *r)
{
    return ctrl_packed(r->strs, PS_RUN);
}

const char *ctrl_pod_uid(const struct ctrl_pod *r)
{
    return ctrl_packed(r->strs, PS_UID);
}

void ctrl_pod_expand(const struct ctrl_pod *r, struct plan_pod *out)
{
    memset(out, 0, sizeof *out);
    plan_copy_trunc(out->name, sizeof out->name, inf_rec_name(r));
    plan_copy_trunc(out->step, sizeof out->step, ctrl_packed(r->strs, PS_STEP));
    plan_copy_trunc(out->job, sizeof out->job, ctrl_packed(r->strs, PS_JOB));
    plan_copy_trunc(out->reason, sizeof out->reason, ctrl_packed(r->strs, PS_REASON));
    plan_copy_trunc(out->message, sizeof out->message, ctrl_packed(r->strs, PS_MESSAGE));
    plan_copy_trunc(out->uid, sizeof out->uid, ctrl_packed(r->strs, PS_UID));
    plan_copy_trunc(out->controller_uid, sizeof out->controller_uid,
                    ctrl_packed(r->strs, PS_JOB_UID));
    out->phase = (enum plan_pod_phase)r->phase;
    out->deleting = r->deleting;
    out->terminated = r->terminated;
    out->exit_code = r->exit_code;
    out->deletion_deadline_ms = r->deletion_deadline_ms;
    out->finished_ms = r->finished_ms;
}

/* Equal packed buffers of n strings. */
static int packed_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *x = ctrl_packed(a, i), *y = ctrl_packed(b, i);
        if (strcmp(x, y) != 0)
            return 0;
    }
    return 1;
}

/* Most updates of a Job or pod change nothing a plan reads (pod
 * conditions, a Job's ready count, the foregroundDeletion finalizer...):
 * those need no reconcile. Measured: 100 teardowns of 50 Jobs cost the
 * operator 36 CPU-seconds, most of it re-planning 50-step runs for such
 * updates. */
static int job_same(const struct ctrl_job *a, const struct ctrl_job *b)
{
    return strcmp(a->uid, b->uid) == 0 && strcmp(a->controller_uid, b->controller_uid) == 0 &&
           a->is_finally == b->is_finally && a->deleting == b->deleting &&
           a->complete == b->complete && a->success_criteria_met == b->success_criteria_met &&
           a->failed == b->failed && a->failure_target == b->failure_target &&
           a->active == b->active && a->succeeded == b->succeeded &&
           a->failed_pods == b->failed_pods && a->start_ms == b->start_ms &&
           a->completion_ms == b->completion_ms && packed_equal(a->strs, b->strs, JS_N);
}

static int pod_same(const struct ctrl_pod *a, const struct ctrl_pod *b)
{
    return a->phase == b->phase && a->deleting == b->deleting && a->terminated == b->terminated &&
           a->exit_code == b->exit_code && a->deletion_deadline_ms == b->deletion_deadline_ms &&
           a->finished_ms == b->finished_ms && packed_equal(a->strs, b->strs, PS_N);
}

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

static void run_added(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    const struct ctrl_run *r = rec;
    char label[WF_NAME_LEN];
    run_label(rec, label);
    index_add(c->runs_by_wf, rec, r->workflow);
    index_add(c->runs_by_label, rec, label);
    ctrl_enqueue(c, 'r', inf_rec_namespace(rec), inf_rec_name(rec));
}

static void run_updated(void *ud, const void *old_rec, const void *new_rec)
{
    struct ctrl *c = ud;
    const struct ctrl_run *o = old_rec, *n = new_rec;
    index_move(c->runs_by_wf, old_rec, o->workflow, new_rec, n->workflow);
    ctrl_enqueue(c, 'r', inf_rec_namespace(new_rec), inf_rec_name(new_rec));
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
    wake_runs_of(c, inf_rec_namespace(rec), r->workflow);
}

static void job_enqueue(struct ctrl *c, const void *rec)
{
    const char *run = ctrl_job_run(rec);
    if (run[0])
        ctrl_enqueue(c, 'r', inf_rec_namespace(rec), run);
}

static void job_added(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    const struct ctrl_job *j = rec;
    index_add(c->jobs_by_run, rec, ctrl_job_run(rec));
    /* seen now, even if it is gone before the run is planned again */
    ctrl_memo_seen(c->memo, inf_rec_namespace(rec), ctrl_job_run(rec), inf_rec_name(rec), j->uid);
    job_enqueue(c, rec);
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
    if (!job_same(o, n))
        job_enqueue(c, new_rec);
}

static void job_deleted(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    const struct ctrl_job *j = rec;
    ctrl_idx_del(c->jobs_by_run, inf_rec_namespace(rec), ctrl_job_run(rec), inf_rec_name(rec));
    ctrl_deleted_forget(c, j->uid);
    job_enqueue(c, rec);
}

/* A pod names its run by label, and keeps it when its Job is gone: the
 * run (normally one) whose label value that is decides what the pod is. */
static void pod_enqueue(struct ctrl *c, const void *rec)
{
    size_t len;
    const char *ns = inf_rec_namespace(rec);
    const char *names = ctrl_idx_get(c->runs_by_label, ns, ctrl_pod_run(rec), &len);
    CTRL_IDX_FOREACH(name, names, len)
    ctrl_enqueue(c, 'r', ns, name);
}

static void pod_added(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    index_add(c->pods_by_run, rec, ctrl_pod_run(rec));
    pod_enqueue(c, rec);
}

static void pod_updated(void *ud, const void *old_rec, const void *new_rec)
{
    struct ctrl *c = ud;
    const struct ctrl_pod *n = new_rec;
    index_move(c->pods_by_run, old_rec, ctrl_pod_run(old_rec), new_rec, ctrl_pod_run(new_rec));
    if (n->deleting)
        ctrl_deleted_forget(c, ctrl_pod_uid(n)); /* the cache shows it now */
    if (!pod_same(old_rec, new_rec))
        pod_enqueue(c, new_rec);
}

static void pod_deleted(void *ud, const void *rec)
{
    struct ctrl *c = ud;
    ctrl_idx_del(c->pods_by_run, inf_rec_namespace(rec), ctrl_pod_run(rec), inf_rec_name(rec));
    ctrl_deleted_forget(c, ctrl_pod_uid(rec));
    pod_enqueue(c, rec);
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
