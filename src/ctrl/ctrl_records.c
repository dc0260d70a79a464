/* The records the controller caches, one type per kind, and the one
 * conversion from each to what plan_run takes: Workflows keep their JSON
 * (few, read whole), runs their JSON text plus what other runs' plans read,
 * Jobs and pods a packed projection (a few hundred bytes instead of 4-5 KB
 * of JSON). Also what a change must touch to be worth a reconcile. */
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl-internal.h"

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
    const char *wf = kj_path_str(obj, "spec", "workflowRef", "name", NULL);
    plan_copy_trunc(r->workflow, sizeof r->workflow, wf);
    struct json_object *conds = kj_path(obj, "status", NULL);
    conds = conds ? json_object_object_get(conds, "conditions") : NULL;
    size_t n = json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *cond = json_object_array_get_idx(conds, i);
        const char *t = kj_path_str(cond, "type", NULL);
        if (t && strcmp(t, "Succeeded") == 0)
            kj_time_parse(kj_path_str(cond, "lastTransitionTime", NULL), &r->teardown_began_ms);
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
    struct json_object *refs = kj_path(obj, "metadata", "ownerReferences", NULL);
    size_t n = json_object_is_type(refs, json_type_array) ? json_object_array_length(refs) : 0;
    for (size_t i = 0; i < n && !run; i++) {
        struct json_object *ref = json_object_array_get_idx(refs, i);
        struct json_object *ctl = json_object_object_get(ref, "controller");
        const char *kind = kj_path_str(ref, "kind", NULL);
        const char *name = kj_path_str(ref, "name", NULL);
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

enum { PS_STEP, PS_JOB, PS_REASON, PS_MESSAGE, PS_UID, PS_JOB_UID, PS_RUN, PS_RESULT, PS_N };

static int pod_project(struct json_object *obj, void *record)
{
    struct ctrl_pod *r = record;
    struct plan_pod p;
    if (plan_pod_from_json(obj, &p) != 0)
        return -1;
    const char *run = kj_path_str(obj, "metadata", "labels", KJ_LABEL_RUN, NULL);
    /* A message of a container that exited 0 is kept whole (up to the
     * kubelet's cap): a step's results are read from it. It is empty for
     * nearly every pod, so this costs nothing for those. */
    char result[PLAN_RESULT_MSG_MAX + 2];
    plan_copy_trunc(result, sizeof result, p.result);
    const char *s[PS_N] = {p.step,           p.job, p.reason, p.message, p.uid,
                           p.controller_uid, run,   result};
    if (!(r->strs = ctrl_pack(s, PS_N)))
        return -1;
    r->phase = (uint8_t)p.phase;
    r->deleting = p.deleting;
    r->terminated = p.terminated;
    r->exit_code = p.exit_code;
    r->has_result = p.result != NULL;
    r->deletion_deadline_ms = p.deletion_deadline_ms;
    r->finished_ms = p.finished_ms;
    (void)kj_time_parse(kj_path_str(obj, "metadata", "creationTimestamp", NULL), &r->created_ms);
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
    out->result = r->has_result ? ctrl_packed(r->strs, PS_RESULT) : NULL; /* borrowed */
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
int ctrl_job_same(const struct ctrl_job *a, const struct ctrl_job *b)
{
    return strcmp(a->uid, b->uid) == 0 && strcmp(a->controller_uid, b->controller_uid) == 0 &&
           a->is_finally == b->is_finally && a->deleting == b->deleting &&
           a->complete == b->complete && a->success_criteria_met == b->success_criteria_met &&
           a->failed == b->failed && a->failure_target == b->failure_target &&
           a->active == b->active && a->succeeded == b->succeeded &&
           a->failed_pods == b->failed_pods && a->start_ms == b->start_ms &&
           a->completion_ms == b->completion_ms && packed_equal(a->strs, b->strs, JS_N);
}

int ctrl_pod_same(const struct ctrl_pod *a, const struct ctrl_pod *b)
{
    return a->phase == b->phase && a->deleting == b->deleting && a->terminated == b->terminated &&
           a->has_result == b->has_result && a->exit_code == b->exit_code &&
           a->deletion_deadline_ms == b->deletion_deadline_ms && a->finished_ms == b->finished_ms &&
           packed_equal(a->strs, b->strs, PS_N);
}
