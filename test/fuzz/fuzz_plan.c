/* Fuzz target: one JSON document describes a whole plan_input, the way
 * the controller would hand it to plan_run:
 *
 *   {"run": WorkflowRun, "workflow": Workflow, "jobs": [Job], "pods": [Pod],
 *    "siblings": [WorkflowRun], "created": [{"name","uid","seen"}],
 *    "refusals": [{"step","permanent","code","reason","message","first_ms","count"}],
 *    "ended": [Pod], "now": ms, "pods_listed": bool}
 *
 * Jobs, pods and siblings go through plan_job_from_json, plan_pod_from_json
 * and plan_sibling_from_json, and are gathered as src/ctrl/ctrl_exec.c
 * gathers them (see gather_input). The run, its status and every record are
 * what anyone with write access to the namespace can shape, so the plan
 * must keep its promises (src/plan/plan.h) for ANY of them. Each plan is
 * checked (check_plan, properties P1-P9 and P11 below), computed twice (P10: the
 * same input gives the same plan), then applied the way the API server
 * would (status merged, deletes marked, creates remembered as accepted)
 * and planned again (check_second). A broken promise aborts, so libFuzzer
 * and the replay build report it. plan_workflow runs on the Workflow.
 * ASan and LeakSanitizer (the fuzz and asan trees) catch leaks. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson/kjson.h"
#include "plan/plan.h"
#include "wf/wf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_plan: %s:%d: %s\n", __FILE__, __LINE__, #c);                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_RECORDS 64                 /* per list: enough for any DAG worth planning */
#define T0 1795600800000LL             /* 2026-11-25T10:00:00Z, when "now" is absent */
#define NOW_MAX 4102444800000LL        /* 2100-01-01: a wall clock, never near overflow */
#define DELETE_GRACE_MS 30000LL        /* what apply_plan gives a deleted pod */
#define CREATED_UID_FMT "fuzz-uid-%zu" /* uids the "API server" gives accepted creates */

/* ---- small json helpers (the getters are kjson's) ---------------------------- */

static size_t arr_len(struct json_object *a)
{
    return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static int str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static int64_t clamp_ms(struct json_object *v, int64_t dflt)
{
    if (!json_object_is_type(v, json_type_int))
        return dflt;
    int64_t ms = json_object_get_int64(v);
    return ms < 0 ? 0 : ms > NOW_MAX ? NOW_MAX : ms;
}

static int phase_terminal_name(const char *phase)
{
    return plan_phase_terminal(plan_phase_parse(phase));
}

/* ---- the input, gathered as the controller gathers it ---------------------- */

struct input {
    struct json_object *run; /* owned: pass 2 gets a new one */
    struct json_object *workflow;
    struct plan_job jobs[MAX_RECORDS];
    struct plan_pod pods[MAX_RECORDS];
    struct plan_pod ended[MAX_RECORDS]; /* pods gone from the cache, as last seen */
    struct plan_sibling sibs[MAX_RECORDS];
    struct plan_created created[2 * MAX_RECORDS]; /* pass 2 adds pass 1's creates */
    struct plan_refusal refusals[MAX_RECORDS];
    struct plan_input in;
};

static void wire(struct input *x)
{
    x->in.run = x->run;
    x->in.workflow = x->workflow;
    x->in.jobs = x->jobs;
    x->in.pods = x->pods;
    x->in.ended = x->ended;
    x->in.siblings = x->sibs;
    x->in.created = x->created;
    x->in.refusals = x->refusals;
}

/* The controller's Job index is keyed by the run named in the Job's
 * controller ownerReference of kind WorkflowRun (ctrl_handlers.c
 * job_project): the run's own Jobs, and those of an earlier run of the same
 * name still being collected. The API server requires that reference's uid. */
static int job_of_run_name(struct json_object *job, const char *run)
{
    struct json_object *refs = kj_get(kj_get(job, "metadata"), "ownerReferences");
    for (size_t i = 0; i < arr_len(refs); i++) {
        struct json_object *r = json_object_array_get_idx(refs, i);
        struct json_object *ctl = kj_get(r, "controller");
        if (json_object_is_type(ctl, json_type_boolean) && json_object_get_boolean(ctl)) {
            const char *uid = kj_get_str(r, "uid");
            return str_eq(kj_get_str(r, "kind"), "WorkflowRun") &&
                   str_eq(kj_get_str(r, "name"), run) && uid && *uid;
        }
    }
    return 0;
}

/* Pods are found by the run label (ctrl_exec.c gather_pods). */
static int pod_of_run_name(struct json_object *pod, const char *run)
{
    char label[WF_NAME_LEN];
    if (wf_label_value(run, label) < 0)
        return 0;
    return str_eq(kj_get_str(kj_get(kj_get(pod, "metadata"), "labels"), KJ_LABEL_RUN), label);
}

static int run_workflow_is(struct json_object *run, const char *wf)
{
    const char *w = kj_get_str(kj_get(kj_get(run, "spec"), "workflowRef"), "name");
    return strcmp(w ? w : "", wf ? wf : "") == 0;
}

/* The API server gives every object a uid, and a cache holds one record
 * per name: records that break this cannot reach the plan. `recs` is an
 * array of n records of `stride` bytes with the name and uid at those
 * offsets. */
static int fresh(const char *name, const char *uid, const void *recs, size_t n, size_t stride,
                 size_t name_off, size_t uid_off)
{
    if (!uid[0])
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char *r = (const char *)recs + i * stride;
        if (strcmp(r + name_off, name) == 0 || strcmp(r + uid_off, uid) == 0)
            return 0;
    }
    return 1;
}

#define FRESH(arr, n, rec)                                                                         \
    fresh((rec).name, (rec).uid, (arr), (n), sizeof *(arr), offsetof(__typeof__(*(arr)), name),    \
          offsetof(__typeof__(*(arr)), uid))

static void gather_input(struct input *x, struct json_object *doc)
{
    const char *run = kj_get_str(kj_get(x->run, "metadata"), "name");
    const char *wf = kj_get_str(kj_get(kj_get(x->run, "spec"), "workflowRef"), "name");
    struct json_object *a = kj_get(doc, "jobs");
    for (size_t i = 0; run && i < arr_len(a) && x->in.n_jobs < MAX_RECORDS; i++) {
        struct json_object *o = json_object_array_get_idx(a, i);
        struct plan_job j;
        /* An object the projection refuses is skipped, as the cache does. */
        if (plan_job_from_json(o, &j) == 0 && job_of_run_name(o, run) &&
            FRESH(x->jobs, x->in.n_jobs, j))
            x->jobs[x->in.n_jobs++] = j;
    }
    a = kj_get(doc, "pods");
    for (size_t i = 0; run && i < arr_len(a) && x->in.n_pods < MAX_RECORDS; i++) {
        struct json_object *o = json_object_array_get_idx(a, i);
        struct plan_pod p;
        if (plan_pod_from_json(o, &p) == 0 && pod_of_run_name(o, run) &&
            FRESH(x->pods, x->in.n_pods, p))
            x->pods[x->in.n_pods++] = p;
    }
    /* The executor's memo keeps only terminated ones (ctrl_memo_ended). */
    a = kj_get(doc, "ended");
    for (size_t i = 0; run && i < arr_len(a) && x->in.n_ended < MAX_RECORDS; i++) {
        struct json_object *o = json_object_array_get_idx(a, i);
        struct plan_pod p;
        if (plan_pod_from_json(o, &p) == 0 && p.terminated && p.controller_uid[0] &&
            pod_of_run_name(o, run))
            x->ended[x->in.n_ended++] = p;
    }
    /* Siblings: same Workflow, this run excluded (plan_input). */
    a = kj_get(doc, "siblings");
    const char *run_uid = kj_get_str(kj_get(x->run, "metadata"), "uid");
    for (size_t i = 0; run && i < arr_len(a) && x->in.n_siblings < MAX_RECORDS; i++) {
        struct json_object *o = json_object_array_get_idx(a, i);
        struct plan_sibling s;
        if (plan_sibling_from_json(o, &s) == 0 && run_workflow_is(o, wf) &&
            strcmp(s.name, run) != 0 && !str_eq(s.uid, run_uid) &&
            FRESH(x->sibs, x->in.n_siblings, s))
            x->sibs[x->in.n_siblings++] = s;
    }
    /* The executor's memo of accepted and refused creates (ctrl_memo). */
    a = kj_get(doc, "created");
    for (size_t i = 0; i < arr_len(a) && x->in.n_created < MAX_RECORDS; i++) {
        struct json_object *o = json_object_array_get_idx(a, i);
        struct plan_created *c = &x->created[x->in.n_created++];
        memset(c, 0, sizeof *c);
        plan_copy_trunc(c->name, sizeof c->name, kj_get_str(o, "name"));
        plan_copy_trunc(c->uid, sizeof c->uid, kj_get_str(o, "uid"));
        c->seen = json_object_get_boolean(kj_get(o, "seen")) != 0;
    }
    a = kj_get(doc, "refusals");
    for (size_t i = 0; i < arr_len(a) && x->in.n_refusals < MAX_RECORDS; i++) {
        struct json_object *o = json_object_array_get_idx(a, i);
        struct plan_refusal *f = &x->refusals[x->in.n_refusals++];
        memset(f, 0, sizeof *f);
        plan_copy_trunc(f->step, sizeof f->step, kj_get_str(o, "step"));
        f->permanent = json_object_get_boolean(kj_get(o, "permanent")) != 0;
        f->code = (long)json_object_get_int(kj_get(o, "code"));
        plan_copy_trunc(f->reason, sizeof f->reason, kj_get_str(o, "reason"));
        plan_copy_trunc(f->message, sizeof f->message, kj_get_str(o, "message"));
        f->first_ms = clamp_ms(kj_get(o, "first_ms"), 0);
        f->count = (uint32_t)json_object_get_int(kj_get(o, "count"));
    }
    x->in.now_ms = clamp_ms(kj_get(doc, "now"), T0);
    x->in.pods_listed = json_object_get_boolean(kj_get(doc, "pods_listed")) != 0;
}

/* ---- what the plan must count as the run's ---------------------------------- */

/* plan.h: "pods are the run's by their Job's uid (status.steps[].jobUID,
 * our Jobs, accepted creates), not by label". Worked out here from the
 * input alone, independently of src/plan/plan_pods.c. */
static int uid_is_runs_job(const struct plan_input *in, const char *uid)
{
    const char *run_uid = kj_get_str(kj_get(in->run, "metadata"), "uid");
    if (!uid || !uid[0])
        return 0;
    for (size_t i = 0; i < in->n_jobs; i++)
        if (str_eq(in->jobs[i].controller_uid, run_uid) && strcmp(in->jobs[i].uid, uid) == 0)
            return 1;
    for (size_t i = 0; i < in->n_created; i++)
        if (strcmp(in->created[i].uid, uid) == 0)
            return 1;
    struct json_object *steps = kj_get(kj_get(in->run, "status"), "steps");
    for (size_t i = 0; i < arr_len(steps); i++)
        if (str_eq(kj_get_str(json_object_array_get_idx(steps, i), "jobUID"), uid))
            return 1;
    return 0;
}

/* The pod is the run's (plan.h): its Job's uid is one of the run's Jobs
 * (observed with the run as controller, or an accepted create), or one
 * status.steps[] names, and then only if the pod's Job has the name the
 * run gives that step's Job: the status is anyone's to edit, a pod's
 * labels are the Job controller's. */
static int pod_is_runs(const struct plan_input *in, const struct plan_pod *p)
{
    const char *run_uid = kj_get_str(kj_get(in->run, "metadata"), "uid");
    const char *run = kj_get_str(kj_get(in->run, "metadata"), "name");
    if (!p->controller_uid[0])
        return 0;
    for (size_t i = 0; i < in->n_jobs; i++)
        if (str_eq(in->jobs[i].controller_uid, run_uid) &&
            strcmp(in->jobs[i].uid, p->controller_uid) == 0)
            return 1;
    for (size_t i = 0; i < in->n_created; i++)
        if (strcmp(in->created[i].uid, p->controller_uid) == 0)
            return 1;
    struct json_object *steps = kj_get(kj_get(in->run, "status"), "steps");
    for (size_t i = 0; run && i < arr_len(steps); i++) {
        struct json_object *e = json_object_array_get_idx(steps, i), *ix = kj_get(e, "index");
        const char *name = kj_get_str(e, "name");
        char job[WF_NAME_LEN];
        long index = json_object_is_type(ix, json_type_int) ? (long)json_object_get_int64(ix) : -1;
        if (name && str_eq(kj_get_str(e, "jobUID"), p->controller_uid) &&
            wf_entry_job_name(run, name, index, job) == 0 && strcmp(job, p->job) == 0)
            return 1;
    }
    return 0;
}

static int pod_live(const struct plan_pod *p)
{
    return p->phase != PLAN_POD_SUCCEEDED && p->phase != PLAN_POD_FAILED;
}

static const struct plan_pod *pod_named(const struct plan_input *in, const char *name)
{
    for (size_t i = 0; i < in->n_pods; i++)
        if (strcmp(in->pods[i].name, name) == 0)
            return &in->pods[i];
    return NULL;
}

static const struct plan_job *job_named(const struct plan_input *in, const char *name)
{
    for (size_t i = 0; i < in->n_jobs; i++)
        if (strcmp(in->jobs[i].name, name) == 0)
            return &in->jobs[i];
    return NULL;
}

static const struct plan_created *created_named(const struct plan_input *in, const char *name)
{
    for (size_t i = 0; i < in->n_created; i++)
        if (strcmp(in->created[i].name, name) == 0)
            return &in->created[i];
    return NULL;
}

static const struct plan_sibling *sibling_named(const struct plan_input *in, const char *name)
{
    for (size_t i = 0; i < in->n_siblings; i++)
        if (strcmp(in->siblings[i].name, name) == 0)
            return &in->siblings[i];
    return NULL;
}

static const struct plan_action *action_named(const struct plan *p, enum plan_kind k,
                                              const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->actions[i].kind == k && strcmp(p->actions[i].name, name) == 0)
            return &p->actions[i];
    return NULL;
}

/* status.steps[] names a Job for that step. A status holds one entry per
 * step (the plan writes it so); of duplicates a user wrote, the first is
 * the step's, as for every other field of the entry. */
static int status_names_job(struct json_object *run, const char *step)
{
    struct json_object *steps = kj_get(kj_get(run, "status"), "steps");
    for (size_t i = 0; i < arr_len(steps); i++) {
        struct json_object *e = json_object_array_get_idx(steps, i);
        if (str_eq(kj_get_str(e, "name"), step))
            return kj_get_str(e, "job") != NULL;
    }
    return 0;
}

static const char *precondition_uid(struct json_object *body)
{
    return kj_get_str(kj_get(body, "preconditions"), "uid");
}

/* ---- the properties of one plan ------------------------------------------- */

static void check_delete_job(const struct plan_input *in, const struct plan_action *a)
{
    /* plan.h DELETE_JOB: "propagationPolicy Foreground (pods get SIGTERM
     * and the Job stays visible until they are gone), preconditions.uid". */
    REQUIRE(a->uid[0] && str_eq(precondition_uid(a->body), a->uid));
    REQUIRE(str_eq(kj_get_str(a->body, "propagationPolicy"), "Foreground"));
    /* Only a Job of this run: one observed with the run as controller and
     * not already deleting ("deleted only if not already deleting"), or an
     * accepted create the cache has not shown yet (deleted by name and uid;
     * the executor's overlay stops the repeat). */
    const char *run_uid = kj_get_str(kj_get(in->run, "metadata"), "uid");
    const struct plan_job *j = job_named(in, a->name);
    const struct plan_created *c = created_named(in, a->name);
    int observed =
        j && strcmp(j->uid, a->uid) == 0 && str_eq(j->controller_uid, run_uid) && !j->deleting;
    int unconfirmed = !j && c && !c->seen && strcmp(c->uid, a->uid) == 0;
    REQUIRE(observed || unconfirmed);
}

static void check_delete_pod(const struct plan_input *in, const struct plan *p,
                             const struct plan_action *a)
{
    /* plan.h DELETE_POD: "DeleteOptions with preconditions.uid, for a live
     * pod of this run", and struct plan_pod: the label proves nothing, the
     * pod is the run's only through its Job's uid. */
    REQUIRE(a->uid[0] && str_eq(precondition_uid(a->body), a->uid));
    const struct plan_pod *pod = pod_named(in, a->name);
    REQUIRE(pod && strcmp(pod->uid, a->uid) == 0);
    REQUIRE(uid_is_runs_job(in, pod->controller_uid));
    REQUIRE(pod_live(pod) && !pod->deleting);
    /* "If `job` is set, a DELETE_JOB of that Job is in the same plan". */
    REQUIRE(!a->job[0] || action_named(p, PLAN_DELETE_JOB, a->job));
}

static void check_create_job(const struct plan_input *in, const struct plan_action *a,
                             const char *old_phase, const char *new_phase)
{
    /* plan.h: Jobs are "only ever created from the snapshot, on later
     * passes" (never on the first Running write, never while Pending), and
     * no Job of a terminal run is created (I4). */
    enum plan_phase op = plan_phase_parse(old_phase), np = plan_phase_parse(new_phase);
    /* plan.c: a phase that is no phase, with a snapshot, resumes as
     * Running from it. */
    struct json_object *st = kj_get(in->run, "status");
    if (op == PLAN_PHASE_NONE && kj_get(st, "phase") && kj_get(st, "workflowSpec"))
        op = PLAN_RUNNING;
    REQUIRE(op == PLAN_RUNNING || op == PLAN_FAILING || op == PLAN_CANCELLING);
    REQUIRE(!plan_phase_terminal(np));
    /* "A step's Job is created once: a step whose status names a Job, or
     * whose create was accepted (plan_input.created), never gets another";
     * nor over an observed Job of that name (ours or another run's). */
    REQUIRE(a->step[0] && !status_names_job(in->run, a->step));
    REQUIRE(!job_named(in, a->name) && !created_named(in, a->name));
    /* The body is the Job: its name, owned by this run as controller. */
    struct json_object *meta = kj_get(a->body, "metadata");
    REQUIRE(str_eq(kj_get_str(meta, "name"), a->name));
    struct plan_job j;
    REQUIRE(plan_job_from_json(a->body, &j) == 0);
    REQUIRE(str_eq(j.controller_uid, kj_get_str(kj_get(in->run, "metadata"), "uid")));
    /* Teardown: "no more main-step creates" (Cancelling, or Failing
     * under FailFast); finally steps may still start. */
    const char *policy =
        kj_get_str(kj_get(kj_get(in->run, "status"), "workflowSpec"), "failurePolicy");
    int tearing = np == PLAN_CANCELLING || (np == PLAN_FAILING && !str_eq(policy, "Continue"));
    REQUIRE(!tearing || j.is_finally);
}

static void check_cancel_run(const struct plan_input *in, const struct plan_action *a)
{
    /* Replace cancels older non-terminal runs, each once (a sibling already
     * cancelled or going away is left alone), with the uid as condition.
     * (plan.h also promises metadata.uid in the body; not checked: the
     * body carries only spec.cancel today, see the report of issue 11.) */
    const struct plan_sibling *s = sibling_named(in, a->name);
    REQUIRE(s && a->uid[0] && strcmp(s->uid, a->uid) == 0);
    REQUIRE(!s->cancel && !s->deleting && !plan_phase_terminal(s->phase));
    REQUIRE(json_object_get_boolean(kj_get(kj_get(a->body, "spec"), "cancel")));
}

static void check_delete_run(const struct plan_input *in, const struct plan_action *a,
                             const char *old_phase, const char *new_phase)
{
    /* plan.h DELETE_RUN: "propagationPolicy Background, preconditions.uid";
     * only terminal runs go (ttlSecondsAfterFinished, history limits). */
    REQUIRE(a->uid[0] && str_eq(precondition_uid(a->body), a->uid));
    REQUIRE(str_eq(kj_get_str(a->body, "propagationPolicy"), "Background"));
    struct json_object *meta = kj_get(in->run, "metadata");
    if (str_eq(kj_get_str(meta, "name"), a->name)) {
        REQUIRE(str_eq(kj_get_str(meta, "uid"), a->uid));
        REQUIRE(phase_terminal_name(old_phase) || phase_terminal_name(new_phase));
        return;
    }
    const struct plan_sibling *s = sibling_named(in, a->name);
    REQUIRE(s && strcmp(s->uid, a->uid) == 0 && plan_phase_terminal(s->phase) && !s->deleting);
}

static void check_status_patch(const struct plan_input *in, const struct plan_action *a)
{
    /* plan.h PATCH_STATUS: {"metadata":{"resourceVersion":..},"status":..};
     * the rv makes it conditional. The body must serialize and read back. */
    const char *rv = kj_get_str(kj_get(in->run, "metadata"), "resourceVersion");
    REQUIRE(json_object_is_type(kj_get(a->body, "status"), json_type_object));
    REQUIRE(!rv || str_eq(kj_get_str(kj_get(a->body, "metadata"), "resourceVersion"), rv));
    size_t len = 0;
    const char *s = json_object_to_json_string_length(a->body, JSON_C_TO_STRING_PLAIN, &len);
    REQUIRE(s && len > 0 && strlen(s) == len);
    struct json_object *back = json_tokener_parse(s);
    REQUIRE(json_object_is_type(back, json_type_object));
    json_object_put(back);
}

/* A terminal phase is written "once every Job has its terminal condition"
 * and pods are counted "when the Job is gone: every wait below counts
 * them" (plan.h); I1: when the run first turns terminal, no pod of it runs. */
static void check_no_live_pod(const struct plan_input *in)
{
    for (size_t i = 0; i < in->n_pods; i++) {
        const struct plan_pod *p = &in->pods[i];
        if (pod_live(p) && pod_is_runs(in, p)) {
            fprintf(stderr, "fuzz_plan: terminal phase while pod %s (Job uid %s) is live\n",
                    p->name, p->controller_uid);
            REQUIRE(!"terminal phase written while a pod of the run is live");
        }
    }
}

/* A terminal step never changes again (plan.h; I5), once the run has
 * started: the first entry of each name, as the plan reads it. */
static void check_steps_kept(struct json_object *old_steps, struct json_object *new_steps)
{
    for (size_t i = 0; i < arr_len(old_steps); i++) {
        struct json_object *o = json_object_array_get_idx(old_steps, i);
        const char *name = kj_get_str(o, "name"), *ph = kj_get_str(o, "phase");
        int first = 1;
        for (size_t k = 0; k < i && first; k++)
            first = !str_eq(kj_get_str(json_object_array_get_idx(old_steps, k), "name"), name);
        int terminal = str_eq(ph, "Succeeded") || str_eq(ph, "Failed") || str_eq(ph, "Cancelled") ||
                       str_eq(ph, "Skipped");
        if (!name || !first || !terminal)
            continue;
        for (size_t k = 0; k < arr_len(new_steps); k++) {
            struct json_object *n = json_object_array_get_idx(new_steps, k);
            if (str_eq(kj_get_str(n, "name"), name)) {
                REQUIRE(str_eq(kj_get_str(n, "phase"), ph));
                break;
            }
        }
    }
}

static void check_plan(const struct plan_input *in, const struct plan *p, int rc)
{
    struct json_object *meta = kj_get(in->run, "metadata");
    /* P1: "0, or -EINVAL if the run lacks name/namespace/uid", and the
     * plan is "emptied first". */
    int named =
        kj_get_str(meta, "name") && kj_get_str(meta, "namespace") && kj_get_str(meta, "uid");
    REQUIRE(rc == (named ? 0 : -EINVAL));
    if (rc != 0) {
        REQUIRE(p->n == 0);
        return;
    }
    REQUIRE(p->requeue_after_ms >= 0);
    const char *old_phase = kj_get_str(kj_get(in->run, "status"), "phase");
    const char *new_phase = old_phase;
    struct json_object *new_status = NULL;
    for (size_t i = 0; i < p->n; i++) {
        const struct plan_action *a = &p->actions[i];
        /* P2: "PATCH_STATUS, DELETE_JOB..., DELETE_POD..., CREATE_JOB...,
         * CANCEL_RUN..., DELETE_RUN..., then EVENT...": the enum order. */
        REQUIRE(a->kind >= PLAN_PATCH_STATUS && a->kind <= PLAN_EVENT);
        REQUIRE(i == 0 || a->kind >= p->actions[i - 1].kind);
        /* EVENT has no body; every write has one. */
        REQUIRE((a->kind == PLAN_EVENT) == (a->body == NULL));
        if (a->kind == PLAN_PATCH_STATUS) {
            REQUIRE(new_status == NULL); /* one status write per plan */
            new_status = kj_get(a->body, "status");
            new_phase = kj_get_str(new_status, "phase");
        }
    }
    /* P3: a terminal run phase never changes (I5). */
    if (phase_terminal_name(old_phase))
        REQUIRE(str_eq(new_phase, old_phase));
    for (size_t i = 0; i < p->n; i++) {
        const struct plan_action *a = &p->actions[i];
        switch (a->kind) {
        case PLAN_PATCH_STATUS: /* P4 */
            check_status_patch(in, a);
            break;
        case PLAN_DELETE_JOB: /* P5 */
            check_delete_job(in, a);
            break;
        case PLAN_DELETE_POD: /* P6 */
            check_delete_pod(in, p, a);
            break;
        case PLAN_CREATE_JOB: /* P7 */
            check_create_job(in, a, old_phase, new_phase);
            break;
        case PLAN_CANCEL_RUN: /* P8 */
            check_cancel_run(in, a);
            break;
        case PLAN_DELETE_RUN: /* P8 */
            check_delete_run(in, a, old_phase, new_phase);
            break;
        case PLAN_LIST_PODS: /* P11: asked for only when not given, of the run's label */
            REQUIRE(!in->pods_listed);
            REQUIRE(plan_count(p, PLAN_LIST_PODS) == 1);
            REQUIRE(kj_get_str(a->body, "labelSelector") &&
                    strncmp(kj_get_str(a->body, "labelSelector"), "runbook.dev/run=", 16) == 0);
            break;
        case PLAN_EVENT:
            REQUIRE(str_eq(a->type, "Normal") || str_eq(a->type, "Warning"));
            REQUIRE(a->reason[0] != '\0');
            break;
        }
    }
    /* P9: the run turns terminal only once none of its pods is live. */
    if (new_status && phase_terminal_name(new_phase) && !phase_terminal_name(old_phase))
        check_no_live_pod(in);
    enum plan_phase op = plan_phase_parse(old_phase);
    if (new_status && op != PLAN_PHASE_NONE && op != PLAN_PENDING)
        check_steps_kept(kj_get(kj_get(in->run, "status"), "steps"), kj_get(new_status, "steps"));
}

/* ---- P10: the same input gives the same plan ------------------------------ */

static int same_body(struct json_object *a, struct json_object *b)
{
    if (!a || !b)
        return a == b;
    const char *sa = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
    char *copy = strdup(sa ? sa : "");
    REQUIRE(copy);
    const char *sb = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN);
    int same = sb && strcmp(copy, sb) == 0;
    free(copy);
    return same;
}

static void check_same(const struct plan *a, const struct plan *b)
{
    REQUIRE(a->n == b->n && a->requeue_after_ms == b->requeue_after_ms);
    for (size_t i = 0; i < a->n; i++) {
        const struct plan_action *x = &a->actions[i], *y = &b->actions[i];
        REQUIRE(x->kind == y->kind && strcmp(x->name, y->name) == 0 &&
                strcmp(x->uid, y->uid) == 0 && strcmp(x->step, y->step) == 0 &&
                strcmp(x->job, y->job) == 0 && strcmp(x->type, y->type) == 0 &&
                strcmp(x->reason, y->reason) == 0 && strcmp(x->message, y->message) == 0);
        REQUIRE(same_body(x->body, y->body));
    }
}

static void plan_checked(const struct plan_input *in, struct plan *p)
{
    int rc = plan_run(in, p);
    check_plan(in, p, rc);
    struct plan again;
    plan_init(&again);
    REQUIRE(plan_run(in, &again) == rc);
    check_same(p, &again);
    plan_release(&again);
}

/* ---- pass 2: the plan applied, then planned again ---------------------------- */

/* The run after the status patch landed: merge patch semantics (null
 * removes a key), and a new resourceVersion. */
static struct json_object *patched_run(struct json_object *run, struct json_object *body)
{
    struct json_object *copy = NULL, *st = json_object_new_object();
    REQUIRE(json_object_deep_copy(run, &copy, NULL) == 0 && st);
    struct json_object *patch = kj_get(body, "status");
    json_object_object_foreach(patch, key, val)
    {
        struct json_object *v = NULL;
        if (val) {
            REQUIRE(json_object_deep_copy(val, &v, NULL) == 0);
            json_object_object_add(st, key, v);
        }
    }
    json_object_object_add(copy, "status", st);
    struct json_object *meta = kj_get(copy, "metadata");
    const char *rv = kj_get_str(meta, "resourceVersion");
    char next[64];
    snprintf(next, sizeof next, "%.40s1", rv ? rv : "");
    if (meta)
        json_object_object_add(meta, "resourceVersion", json_object_new_string(next));
    return copy;
}

/* As the API server and the executor would apply the plan: deletes mark
 * their objects deleting, accepted creates are remembered (not yet seen),
 * cancelled siblings say so, a deleted run is being deleted. */
static void apply_plan(struct input *x, const struct plan *p)
{
    struct json_object *meta = kj_get(x->run, "metadata");
    if (!p->actions) /* an empty plan (tells the analyzer n is 0 then) */
        return;
    for (size_t i = 0; i < p->n; i++) {
        const struct plan_action *a = &p->actions[i];
        if (a->kind == PLAN_DELETE_JOB) {
            for (size_t k = 0; k < x->in.n_jobs; k++)
                if (strcmp(x->jobs[k].uid, a->uid) == 0)
                    x->jobs[k].deleting = 1;
        } else if (a->kind == PLAN_DELETE_POD) {
            for (size_t k = 0; k < x->in.n_pods; k++)
                if (strcmp(x->pods[k].uid, a->uid) == 0 && !x->pods[k].deleting) {
                    x->pods[k].deleting = 1;
                    x->pods[k].deletion_deadline_ms = x->in.now_ms + DELETE_GRACE_MS;
                }
        } else if (a->kind == PLAN_CREATE_JOB && x->in.n_created < 2 * MAX_RECORDS) {
            struct plan_created *c = &x->created[x->in.n_created];
            memset(c, 0, sizeof *c);
            plan_copy_trunc(c->name, sizeof c->name, a->name);
            snprintf(c->uid, sizeof c->uid, CREATED_UID_FMT, x->in.n_created++);
        } else if (a->kind == PLAN_CANCEL_RUN || a->kind == PLAN_DELETE_RUN) {
            for (size_t k = 0; k < x->in.n_siblings; k++)
                if (strcmp(x->sibs[k].uid, a->uid) == 0) {
                    x->sibs[k].cancel |= a->kind == PLAN_CANCEL_RUN;
                    x->sibs[k].deleting |= a->kind == PLAN_DELETE_RUN;
                }
            if (a->kind == PLAN_DELETE_RUN && str_eq(kj_get_str(meta, "uid"), a->uid))
                json_object_object_add(meta, "deletionTimestamp",
                                       json_object_new_string("2026-12-01T00:00:00Z"));
        }
    }
}

static void check_second(struct input *x, const struct plan *first)
{
    const struct plan_action *patch = first->n ? &first->actions[0] : NULL;
    if (patch && patch->kind == PLAN_PATCH_STATUS) {
        struct json_object *run = patched_run(x->run, patch->body);
        json_object_put(x->run);
        x->run = run;
        wire(x);
    }
    apply_plan(x, first);
    /* A LIST answered: the fuzzed pods are the whole truth. One plan only. */
    x->in.pods_listed = plan_count(first, PLAN_LIST_PODS) > 0;
    struct plan second;
    plan_init(&second);
    plan_checked(&x->in, &second);
    /* "the status is patched only when it changes": the status just
     * written is never written again as is. */
    if (patch && patch->kind == PLAN_PATCH_STATUS && second.n &&
        second.actions[0].kind == PLAN_PATCH_STATUS)
        REQUIRE(
            !json_object_equal(kj_get(second.actions[0].body, "status"), kj_get(x->run, "status")));
    plan_release(&second);
}

/* ---- the Workflow's own plan ---------------------------------------------- */

static void check_workflow(struct json_object *wf, int64_t now)
{
    struct plan p;
    plan_init(&p);
    int rc = plan_workflow(wf, now, &p);
    /* "0 or -EINVAL"; its writes: at most one status patch, then events. */
    REQUIRE(rc == 0 || rc == -EINVAL);
    REQUIRE(rc == 0 || p.n == 0);
    for (size_t i = 0; i < p.n; i++) {
        REQUIRE(p.actions[i].kind == (i == 0 ? PLAN_PATCH_STATUS : PLAN_EVENT));
        if (i == 0) {
            const char *rv = kj_get_str(kj_get(wf, "metadata"), "resourceVersion");
            REQUIRE(
                !rv ||
                str_eq(kj_get_str(kj_get(p.actions[0].body, "metadata"), "resourceVersion"), rv));
            REQUIRE(json_object_to_json_string(p.actions[0].body));
        }
    }
    plan_release(&p);
}

/* ---- entry ------------------------------------------------------------------ */

static struct json_object *parse(const uint8_t *data, size_t size)
{
    /* The API server's own nesting limit is far above any real object;
     * json-c's default depth (32) keeps recursion in check here. */
    struct json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
    if (!tok)
        return NULL;
    struct json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    struct json_object *doc = parse(data, size);
    if (!json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);
        return 0;
    }
    /* The API server sets every uid (a 36-char UUID) and ignores one a
     * client sends: a run uid longer than struct plan_action.uid holds
     * cannot come from the cluster. */
    struct json_object *run = kj_get(doc, "run");
    const char *run_uid = kj_get_str(kj_get(run, "metadata"), "uid");
    if (!json_object_is_type(run, json_type_object) ||
        (run_uid && strlen(run_uid) >= PLAN_UID_LEN)) {
        json_object_put(doc);
        return 0;
    }
    struct input *x = calloc(1, sizeof *x);
    REQUIRE(x);
    x->run = json_object_get(run);
    x->workflow = kj_get(doc, "workflow");
    wire(x);
    gather_input(x, doc);

    struct plan first;
    plan_init(&first);
    plan_checked(&x->in, &first);
    check_second(x, &first);
    plan_release(&first);
    if (x->workflow)
        check_workflow(x->workflow, x->in.now_ms);

    json_object_put(x->run);
    free(x);
    json_object_put(doc);
    return 0;
}
