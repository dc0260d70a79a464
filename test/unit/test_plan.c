/* plan_run: the first reconcile, concurrency, a Workflow that is missing
 * or invalid, and plan_workflow.
 *
 * The top half is the test harness, a tiny simulated cluster ("world"):
 * plan() runs plan_run and checks properties every plan must have,
 * apply() performs a plan the way the executor and the API server would,
 * and the sim_* functions play the Job controller and the kubelet. The
 * other test_plan_*.c files include this file with TEST_PLAN_HARNESS_ONLY
 * (test files are found by name, so there is no shared header).
 *
 * Properties checked on every plan:
 *  - no repeated write: nothing the previous (applied) plan wrote is
 *    written again: same status, same Job created, deleted, ...;
 *  - the first Running write creates no Job;
 *  - while Failing/Cancelling only finally Jobs are created;
 *  - every DELETE_JOB is Foreground with a uid precondition, never for a
 *    finally Job;
 *  - a terminal phase is written only when no pod runs and no Job is
 *    unfinished or being deleted;
 *  - actions come in the documented order, status patches carry the rv.
 * In drop mode (w->drop) apply() loses writes at random; the repeat check
 * is then off, since a lost write must be planned again. */
#include "check.h"
#include "plan/plan.h"
#include "wf/wf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HARNESS static __attribute__((unused))

#define T0 1795600800000LL /* 2026-11-25T10:00:00Z */
#define SEC 1000LL
#define MAXJ 64
#define MAXP 128
#define MAXS 32

/* JSON with ' for " so the tests stay readable. */
HARNESS struct json_object *J(const char *s)
{
    char *buf = strdup(s);
    for (char *p = buf; *p; p++)
        if (*p == '\'')
            *p = '"';
    struct json_object *o = json_tokener_parse(buf);
    if (!o)
        fprintf(stderr, "bad test json: %s\n", s);
    free(buf);
    return o;
}

/* a.b.0.c: members and indices (no dots inside keys). Borrowed. */
HARNESS struct json_object *at(struct json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o;
         k = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, (size_t)strtoul(k, NULL, 10));
        else if (!json_object_object_get_ex(o, k, &o))
            return NULL;
    }
    return o;
}

HARNESS const char *str_at(struct json_object *o, const char *path)
{
    struct json_object *v = at(o, path);
    return v ? json_object_get_string(v) : NULL;
}

struct world {
    struct json_object *run, *workflow;
    struct plan_job jobs[MAXJ];
    size_t n_jobs;
    struct plan_pod pods[MAXP];
    size_t n_pods;
    struct plan_sibling sibs[MAXS];
    size_t n_sibs;
    struct plan_created created[MAXJ]; /* the executor's memo, when a test sets it */
    size_t n_created;
    struct plan_refusal refusals[MAXJ];
    size_t n_refusals;
    struct plan_pod ended[MAXP];
    size_t n_ended;
    int64_t now;
    int rv;
    int grace_s;
    int check_repeats;   /* off when a test fakes cache lag on purpose */
    uint32_t drop;       /* not 0: xorshift state; apply() drops writes */
    struct plan plan;    /* the last plan */
    struct plan applied; /* the last applied plan */
    struct json_object *applied_status;
    int events;
    int listed; /* a LIST_PODS was answered: the next plan's pods_listed */
    /* step -> the Job body created for it: a create of the same name must
     * be the same Job (a replan after a lost write builds the same one) */
    struct json_object *bodies;
};

HARNESS void world_init(struct world *w, const char *spec, const char *run_spec)
{
    memset(w, 0, sizeof *w);
    plan_init(&w->plan);
    plan_init(&w->applied);
    w->now = T0 + SEC;
    w->grace_s = 30;
    w->check_repeats = 1;
    w->workflow = J("{'apiVersion':'runbook.dev/v1alpha1','kind':'Workflow','metadata':{'name':"
                    "'wf','namespace':'ci','generation':1,'resourceVersion':'5'}}");
    json_object_object_add(w->workflow, "spec", J(spec));
    w->run = J("{'apiVersion':'runbook.dev/v1alpha1','kind':'WorkflowRun','metadata':{'name':"
               "'r1','namespace':'ci','uid':'uid-r1','generation':1,'resourceVersion':'1',"
               "'creationTimestamp':'2026-11-25T10:00:00Z'}}");
    json_object_object_add(w->run, "spec",
                           J(run_spec ? run_spec : "{'workflowRef':{'name':'wf'}}"));
    w->rv = 1;
    w->bodies = json_object_new_object();
}

HARNESS void world_free(struct world *w)
{
    json_object_put(w->bodies);
    json_object_put(w->run);
    json_object_put(w->workflow);
    json_object_put(w->applied_status);
    plan_release(&w->plan);
    plan_release(&w->applied);
}

HARNESS struct json_object *status(struct world *w)
{
    return at(w->run, "status");
}

HARNESS const char *phase(struct world *w)
{
    const char *p = str_at(w->run, "status.phase");
    return p ? p : "";
}

/* "name", or "name[i]" for combination i of a matrix step. */
HARNESS struct json_object *step_status(struct world *w, const char *name)
{
    struct json_object *steps = at(w->run, "status.steps");
    char base[64];
    long index = -1;
    snprintf(base, sizeof base, "%s", name);
    char *br = strchr(base, '[');
    if (br) {
        index = strtol(br + 1, NULL, 10);
        *br = '\0';
    }
    for (size_t i = 0; steps && i < json_object_array_length(steps); i++) {
        struct json_object *s = json_object_array_get_idx(steps, i), *ix = NULL;
        long si = json_object_object_get_ex(s, "index", &ix) ? (long)json_object_get_int64(ix) : -1;
        if (strcmp(str_at(s, "name"), base) == 0 && si == index)
            return s;
    }
    return NULL;
}

HARNESS const char *step_phase(struct world *w, const char *name)
{
    const char *p = str_at(step_status(w, name), "phase");
    return p ? p : "(none)";
}

/* A condition's field: cond(w, "Succeeded", "reason"). */
HARNESS const char *cond(struct world *w, const char *type, const char *field)
{
    struct json_object *conds = at(w->run, "status.conditions");
    for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        if (strcmp(str_at(c, "type"), type) == 0)
            return str_at(c, field);
    }
    return NULL;
}

HARNESS size_t writes(const struct plan *p)
{
    return p->n - plan_count(p, PLAN_EVENT);
}

HARNESS struct plan_job *job_of(struct world *w, const char *step)
{
    char name[WF_NAME_LEN];
    wf_job_name("r1", step, name);
    for (size_t i = 0; i < w->n_jobs; i++)
        if (strcmp(w->jobs[i].name, name) == 0)
            return &w->jobs[i];
    return NULL;
}

HARNESS struct plan_pod *pod_of(struct world *w, const char *step)
{
    struct plan_job *j = job_of(w, step);
    for (size_t i = 0; j && i < w->n_pods; i++)
        if (strcmp(w->pods[i].job, j->name) == 0)
            return &w->pods[i];
    return NULL;
}

HARNESS const struct plan_action *find_action(const struct plan *p, enum plan_kind k,
                                              const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->actions[i].kind == k && (!name || strcmp(p->actions[i].name, name) == 0))
            return &p->actions[i];
    return NULL;
}

HARNESS int busy(struct world *w)
{
    for (size_t i = 0; i < w->n_pods; i++)
        if (w->pods[i].phase == PLAN_POD_RUNNING || w->pods[i].phase == PLAN_POD_PENDING)
            return 1;
    for (size_t i = 0; i < w->n_jobs; i++)
        if (w->jobs[i].deleting || !(w->jobs[i].complete || w->jobs[i].failed))
            return 1;
    return 0;
}

static int is_finally_job(const struct plan_action *a)
{
    struct json_object *l = at(a->body, "metadata.labels"), *v = NULL;
    return json_object_object_get_ex(l, "runbook.dev/finally", &v);
}

/* The properties of the file comment, for one fresh plan. */
static void check_plan(struct world *w)
{
    const struct plan *p = &w->plan;
    const char *old = phase(w);
    struct json_object *patch = NULL;
    for (size_t i = 0; i < p->n; i++) {
        const struct plan_action *a = &p->actions[i];
        CHECK(i == 0 || a->kind >= p->actions[i - 1].kind);
        if (a->kind == PLAN_PATCH_STATUS)
            patch = at(a->body, "status");
    }
    const char *new_phase = patch ? str_at(patch, "phase") : old;
    /* Continue keeps starting what does not depend on the failure */
    const char *policy = str_at(w->run, "status.workflowSpec.failurePolicy");
    int cont = policy && !strcmp(policy, "Continue");
    int tearing = (!cont && strcmp(old, "Failing") == 0) || strcmp(old, "Cancelling") == 0 ||
                  (!cont && strcmp(new_phase ? new_phase : "", "Failing") == 0) ||
                  strcmp(new_phase ? new_phase : "", "Cancelling") == 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct plan_action *a = &p->actions[i];
        if (a->kind == PLAN_CREATE_JOB) {
            CHECK(strcmp(old, "") != 0 && strcmp(old, "Pending") != 0);
            if (tearing && !is_finally_job(a))
                fprintf(stderr, "created %s while %s\n", a->name, old);
            CHECK(!tearing || is_finally_job(a));
        }
        if (a->kind == PLAN_DELETE_JOB) {
            CHECK_STR(str_at(a->body, "propagationPolicy"), "Foreground");
            CHECK(a->uid[0] && strcmp(str_at(a->body, "preconditions.uid"), a->uid) == 0);
            for (size_t k = 0; k < w->n_jobs; k++)
                if (strcmp(w->jobs[k].name, a->name) == 0)
                    CHECK(!w->jobs[k].is_finally);
        }
        if (a->kind == PLAN_PATCH_STATUS) {
            char rv[16];
            snprintf(rv, sizeof rv, "%d", w->rv);
            CHECK_STR(str_at(a->body, "metadata.resourceVersion"), rv);
            const char *np = str_at(a->body, "status.phase");
            if (np &&
                (!strcmp(np, "Succeeded") || !strcmp(np, "Failed") || !strcmp(np, "Cancelled")))
                CHECK(!busy(w));
        }
        if (!w->check_repeats || a->kind == PLAN_EVENT)
            continue;
        if (a->kind == PLAN_PATCH_STATUS) {
            struct json_object *st = at(a->body, "status");
            int same = w->applied_status && json_object_equal(st, w->applied_status);
            if (same)
                fprintf(stderr, "repeated status write\n");
            CHECK(!same);
        } else {
            const struct plan_action *prev = find_action(&w->applied, a->kind, a->name);
            if (prev)
                fprintf(stderr, "repeated %s %s\n", plan_kind_name(a->kind), a->name);
            CHECK(prev == NULL);
        }
    }
}

HARNESS void plan(struct world *w)
{
    struct plan_input in = {w->run,       w->workflow, w->jobs,       w->n_jobs, w->pods,
                            w->n_pods,    w->sibs,     w->n_sibs,     w->now,    w->created,
                            w->n_created, w->refusals, w->n_refusals, w->ended,  w->n_ended};
    in.pods_listed = w->listed; /* the world's pods are the truth: a LIST sees them all */
    w->listed = 0;
    CHECK_INT(plan_run(&in, &w->plan), 0);
    check_plan(w);
}

/* Merge patch semantics for the status: null deletes the key. */
static struct json_object *without_nulls(struct json_object *st)
{
    struct json_object *copy = NULL;
    json_object_deep_copy(st, &copy, NULL);
    struct json_object_iterator it = json_object_iter_begin(st), end = json_object_iter_end(st);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
        if (!json_object_iter_peek_value(&it))
            json_object_object_del(copy, json_object_iter_peek_name(&it));
    return copy;
}

static void delete_job(struct world *w, const char *name)
{
    for (size_t i = 0; i < w->n_jobs; i++) {
        if (strcmp(w->jobs[i].name, name) != 0)
            continue;
        w->jobs[i].deleting = 1;
        for (size_t k = 0; k < w->n_pods; k++) {
            if (strcmp(w->pods[k].job, name) == 0 && !w->pods[k].deleting) {
                w->pods[k].deleting = 1;
                w->pods[k].deletion_deadline_ms = w->now + w->grace_s * SEC;
            }
        }
    }
}

static void apply_action(struct world *w, const struct plan_action *a)
{
    char rv[16];
    switch (a->kind) {
    case PLAN_PATCH_STATUS:
        json_object_put(w->applied_status);
        w->applied_status = without_nulls(at(a->body, "status"));
        json_object_object_add(w->run, "status", without_nulls(at(a->body, "status")));
        snprintf(rv, sizeof rv, "%d", ++w->rv);
        json_object_object_add(at(w->run, "metadata"), "resourceVersion",
                               json_object_new_string(rv));
        break;
    case PLAN_CREATE_JOB: {
        struct plan_job j;
        CHECK_INT(plan_job_from_json(a->body, &j), 0);
        CHECK_STR(j.controller_uid, "uid-r1");
        CHECK_STR(j.name, a->name);
        snprintf(j.uid, sizeof j.uid, "uid-%.30s", j.name); /* as the API server would */
        /* by Job name: a matrix step's combinations share a step label */
        struct json_object *made = NULL;
        json_object_object_get_ex(w->bodies, j.name, &made);
        struct json_object *c1 = at(a->body, "spec.template.spec.containers");
        if (made) /* same name, same Job: never a value that differs */
            CHECK(json_object_equal(at(made, "spec.template.spec.containers"), c1));
        else
            json_object_object_add(w->bodies, j.name, json_object_get(a->body));
        int exists = 0;
        for (size_t i = 0; i < w->n_jobs; i++)
            exists |= strcmp(w->jobs[i].name, j.name) == 0;
        if (!exists && w->n_jobs < MAXJ)
            w->jobs[w->n_jobs++] = j; /* else the API server says 409 */
        break;
    }
    case PLAN_DELETE_JOB:
        delete_job(w, a->name);
        break;
    case PLAN_DELETE_POD:
        for (size_t i = 0; i < w->n_pods; i++)
            if (strcmp(w->pods[i].name, a->name) == 0 && !w->pods[i].deleting) {
                CHECK_STR(w->pods[i].uid, a->uid);
                w->pods[i].deleting = 1;
                w->pods[i].deletion_deadline_ms = w->now + w->grace_s * SEC;
            }
        break;
    case PLAN_CANCEL_RUN:
        for (size_t i = 0; i < w->n_sibs; i++)
            if (strcmp(w->sibs[i].name, a->name) == 0)
                w->sibs[i].cancel = 1;
        break;
    case PLAN_DELETE_RUN:
        if (strcmp(a->name, "r1") == 0)
            json_object_object_add(at(w->run, "metadata"), "deletionTimestamp",
                                   json_object_new_string("2026-12-01T00:00:00Z"));
        for (size_t i = 0; i < w->n_sibs; i++)
            if (strcmp(w->sibs[i].name, a->name) == 0)
                w->sibs[i].deleting = 1;
        break;
    case PLAN_LIST_PODS:
        CHECK_STR(str_at(a->body, "labelSelector"), "runbook.dev/run=r1");
        w->listed = 1;
        break;
    case PLAN_EVENT:
        w->events++;
        break;
    }
}

/* PLAN_TRACE=1 prints every applied action, for debugging a test. */
static void trace(const struct plan_action *a)
{
    if (!getenv("PLAN_TRACE"))
        return;
    if (a->kind == PLAN_EVENT)
        fprintf(stderr, "  EVENT %s %s: %s\n", a->type, a->reason, a->message);
    else if (a->kind == PLAN_PATCH_STATUS)
        fprintf(stderr, "  PATCH_STATUS %s %s %s\n", str_at(a->body, "status.phase"),
                str_at(a->body, "status.progress"), str_at(a->body, "status.message"));
    else
        fprintf(stderr, "  %s %s\n", plan_kind_name(a->kind), a->name);
}

/* In drop mode about one write in three is lost, as when the executor's
 * concurrent writes meet a crash or a conflict. */
static int dropped(struct world *w, const struct plan_action *a)
{
    if (!w->drop || a->kind == PLAN_EVENT)
        return 0;
    w->drop ^= w->drop << 13;
    w->drop ^= w->drop >> 17;
    w->drop ^= w->drop << 5;
    return w->drop % 3 == 0;
}

HARNESS void apply(struct world *w)
{
    for (size_t i = 0; i < w->plan.n; i++) {
        if (dropped(w, &w->plan.actions[i]))
            continue;
        trace(&w->plan.actions[i]);
        apply_action(w, &w->plan.actions[i]);
    }
    /* keep the applied plan to look for repeats; bodies stay owned */
    plan_release(&w->applied);
    w->applied = w->plan;
    plan_init(&w->plan);
}

/* plan + apply until a plan has no write; then one more must be empty. */
HARNESS void settle(struct world *w)
{
    for (int i = 0; i < (w->drop ? 64 : 8); i++) {
        plan(w);
        if (writes(&w->plan) == 0) {
            CHECK_INT(plan_count(&w->plan, PLAN_EVENT), 0);
            return;
        }
        apply(w);
    }
    CHECK(!"settle: no fixpoint");
}

/* ---- the Job controller and the kubelet --------------------------------- */

static struct plan_pod *add_pod(struct world *w, struct plan_job *j, const char *step)
{
    struct plan_pod *p = &w->pods[w->n_pods++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s-%c%zu", j->name, 'p', w->n_pods);
    snprintf(p->job, sizeof p->job, "%s", j->name);
    snprintf(p->uid, sizeof p->uid, "pod-uid-%zu", w->n_pods);
    snprintf(p->controller_uid, sizeof p->controller_uid, "%s", j->uid);
    snprintf(p->step, sizeof p->step, "%s", step);
    p->phase = PLAN_POD_RUNNING;
    return p;
}

HARNESS void sim_running(struct world *w, const char *step)
{
    struct plan_job *j = job_of(w, step);
    CHECK(j != NULL);
    if (!j)
        return;
    j->active = 1;
    j->start_ms = w->now;
    add_pod(w, j, step);
}

HARNESS void sim_ok(struct world *w, const char *step)
{
    struct plan_job *j = job_of(w, step);
    CHECK(j != NULL);
    if (!j)
        return;
    struct plan_pod *p = pod_of(w, step);
    if (!p)
        p = add_pod(w, j, step);
    p->phase = PLAN_POD_SUCCEEDED;
    p->terminated = 1;
    p->finished_ms = w->now;
    p->result = ""; /* exited 0, wrote no termination message */
    j->active = 0;
    j->succeeded = 1;
    j->complete = j->success_criteria_met = 1;
    j->completion_ms = w->now;
}

/* The pod exits with `code`; the Job gets FailureTarget, and Failed too
 * unless target_only (pods of a 1.31 Job are gone before Failed). */
HARNESS void sim_fail(struct world *w, const char *step, int code, const char *msg, int target_only)
{
    struct plan_job *j = job_of(w, step);
    CHECK(j != NULL);
    if (!j)
        return;
    struct plan_pod *p = pod_of(w, step);
    if (!p)
        p = add_pod(w, j, step);
    p->phase = PLAN_POD_FAILED;
    p->terminated = 1;
    p->exit_code = code;
    snprintf(p->reason, sizeof p->reason, "Error");
    snprintf(p->message, sizeof p->message, "%s", msg);
    p->finished_ms = w->now;
    j->active = 0;
    j->failed_pods = 1;
    j->failure_target = 1;
    j->failed = !target_only;
    snprintf(j->reason, sizeof j->reason, "BackoffLimitExceeded");
    snprintf(j->message, sizeof j->message, "Job has reached the specified backoff limit");
}

/* Garbage collection finishes: deleting pods and then their Jobs vanish. */
HARNESS void sim_gone(struct world *w)
{
    size_t o = 0;
    for (size_t i = 0; i < w->n_pods; i++)
        if (!w->pods[i].deleting)
            w->pods[o++] = w->pods[i];
    w->n_pods = o;
    o = 0;
    for (size_t i = 0; i < w->n_jobs; i++)
        if (!w->jobs[i].deleting)
            w->jobs[o++] = w->jobs[i];
    w->n_jobs = o;
}

HARNESS void sim_cancel(struct world *w, int value)
{
    struct json_object *meta = at(w->run, "metadata");
    json_object_object_add(at(w->run, "spec"), "cancel", json_object_new_boolean(value));
    json_object_object_add(
        meta, "generation",
        json_object_new_int64(json_object_get_int64(at(meta, "generation")) + 1));
}

HARNESS void sim_sibling(struct world *w, const char *name, int64_t created, enum plan_phase ph,
                         int64_t completed)
{
    struct plan_sibling *s = &w->sibs[w->n_sibs++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->uid, sizeof s->uid, "uid-%s", name);
    s->phase = ph;
    s->creation_ms = created;
    s->completion_ms = completed;
}

/* Three steps (c after a) and a finally step, for the tests of the ways
 * the promise broke (test_plan_promise.c) and of hostile statuses
 * (test_plan_hostile.c). */
#define SPEC3                                                                                      \
    "{'steps':[{'name':'a','image':'x'},{'name':'b','image':'x'},"                                 \
    "{'name':'c','image':'x','dependsOn':['a']}],'finally':[{'name':'fin','image':'x'}]}"

/* A started run of SPEC3 with a and b Running, each with one pod. */
HARNESS void two_running(struct world *w)
{
    world_init(w, SPEC3, NULL);
    settle(w);
    sim_running(w, "a");
    sim_running(w, "b");
    settle(w);
    CHECK_STR(step_phase(w, "a"), "Running");
    CHECK_STR(step_phase(w, "b"), "Running");
}

#ifndef TEST_PLAN_HARNESS_ONLY

#define SPEC                                                                                       \
    "{'params':[{'name':'tag'},{'name':'repo','default':'r'}],'steps':[{'name':'a','image':'x',"   \
    "'args':['$(params.tag)']},{'name':'b','image':'x','dependsOn':['a']},{'name':'c','image':"    \
    "'x','dependsOn':['a']}],'finally':[{'name':'f','image':'x'}]}"
#define RUN_SPEC "{'workflowRef':{'name':'wf'},'params':[{'name':'tag','value':'v1'}]}"

/* A step whose Job started and ended before the status recorded it as
 * Running still gets StepStarted, then StepSucceeded. */
static void test_fast_step_events(void)
{
    struct world w;
    world_init(&w, SPEC, RUN_SPEC);
    plan(&w);
    apply(&w); /* Running */
    plan(&w);
    apply(&w); /* a's Job created */
    sim_running(&w, "a");
    sim_ok(&w, "a");
    w.now += SEC;
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_PATCH_STATUS), 1);
    const char *want[] = {"StepStarted", "StepSucceeded"};
    size_t n = 0;
    for (size_t i = 0; i < w.plan.n; i++) {
        const struct plan_action *a = &w.plan.actions[i];
        if (a->kind != PLAN_EVENT)
            continue;
        CHECK(n < 2);
        if (n < 2)
            CHECK_STR(a->reason, want[n]);
        CHECK_STR(a->name, "r1-a");
        n++;
    }
    CHECK_INT(n, 2);
    apply(&w);
    CHECK_STR(step_phase(&w, "a"), "Succeeded");
    world_free(&w);
}

static void test_first_reconcile(void)
{
    struct world w;
    world_init(&w, SPEC, RUN_SPEC);
    plan(&w);
    CHECK_INT(w.plan.n, 2);
    CHECK_INT(plan_count(&w.plan, PLAN_PATCH_STATUS), 1);
    CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 0);
    CHECK_INT(w.plan.requeue_after_ms, 0);
    const struct plan_action *ev = find_action(&w.plan, PLAN_EVENT, NULL);
    CHECK(ev && strcmp(ev->reason, "Running") == 0 && strcmp(ev->type, "Normal") == 0);
    apply(&w);
    CHECK_STR(phase(&w), "Running");
    struct json_object *st = status(&w);
    CHECK_STR(str_at(st, "startTime"), "2026-11-25T10:00:01Z");
    CHECK(at(st, "completionTime") == NULL);
    CHECK_STR(str_at(st, "progress"), "0/4");
    CHECK(at(st, "currentStep") == NULL);
    CHECK_INT(json_object_get_int(at(st, "observedGeneration")), 1);
    CHECK(json_object_equal(at(st, "workflowSpec"), at(w.workflow, "spec")));
    CHECK_STR(json_object_to_json_string_ext(at(st, "resolvedParams"), JSON_C_TO_STRING_PLAIN),
              "[{\"name\":\"tag\",\"value\":\"v1\"},{\"name\":\"repo\",\"value\":\"r\"}]");
    CHECK_INT(json_object_array_length(at(st, "steps")), 4);
    CHECK_STR(str_at(st, "steps.3.name"), "f");
    CHECK(json_object_get_boolean(at(st, "steps.3.finally")));
    CHECK(!json_object_get_boolean(at(st, "steps.0.finally")));
    CHECK_STR(step_phase(&w, "a"), "Pending");
    CHECK_STR(cond(&w, "Succeeded", "status"), "Unknown");
    CHECK_STR(cond(&w, "Succeeded", "reason"), "Running");
    CHECK_STR(cond(&w, "Ready", "status"), "False");
    CHECK_STR(cond(&w, "Reconciling", "status"), "True");
    CHECK_STR(cond(&w, "Stalled", "status"), "False");
    CHECK_STR(cond(&w, "Succeeded", "lastTransitionTime"), "2026-11-25T10:00:01Z");
    CHECK(cond(&w, "TeardownStuck", "status") == NULL);

    /* The next pass creates a's Job from the snapshot, and only that. */
    plan(&w);
    CHECK_INT(w.plan.n, 1);
    const struct plan_action *c = find_action(&w.plan, PLAN_CREATE_JOB, "r1-a");
    CHECK(c != NULL);
    CHECK_STR(c ? c->step : NULL, "a");
    CHECK_STR(c ? str_at(c->body, "spec.template.spec.containers.0.args.0") : NULL, "v1");
    apply(&w);
    /* Observed but not yet running: Running in status, one event. */
    w.now += SEC;
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_PATCH_STATUS), 1);
    CHECK_INT(plan_count(&w.plan, PLAN_EVENT), 1);
    apply(&w);
    CHECK_STR(step_phase(&w, "a"), "Running");
    CHECK_STR(str_at(step_status(&w, "a"), "job"), "r1-a");
    CHECK_STR(str_at(status(&w), "currentStep"), "a");
    /* lastTransitionTime does not move while the status stays Unknown */
    CHECK_STR(cond(&w, "Succeeded", "lastTransitionTime"), "2026-11-25T10:00:01Z");
    settle(&w);
    world_free(&w);
}

static void test_snapshot_rules(void)
{
    struct world w;
    world_init(&w, SPEC, RUN_SPEC);
    settle(&w);
    CHECK(job_of(&w, "a") != NULL);
    /* Editing the Workflow changes nothing for a started run... */
    json_object_object_add(w.workflow, "spec", J("{'steps':[{'name':'zzz','image':'y'}]}"));
    settle(&w);
    /* ...nor does deleting it. */
    json_object_put(w.workflow);
    w.workflow = NULL;
    sim_ok(&w, "a");
    settle(&w);
    CHECK(job_of(&w, "b") != NULL && job_of(&w, "c") != NULL);
    CHECK(job_of(&w, "zzz") == NULL);
    CHECK_STR(str_at(status(&w), "workflowSpec.steps.0.name"), "a");
    world_free(&w);
}

static void test_workflow_not_found(void)
{
    struct world w;
    world_init(&w, SPEC, RUN_SPEC);
    struct json_object *wf = w.workflow;
    w.workflow = NULL;
    plan(&w);
    CHECK_INT(w.plan.requeue_after_ms, 0); /* the Workflow watch wakes the run */
    apply(&w);
    CHECK_STR(phase(&w), "Pending");
    CHECK_STR(cond(&w, "Succeeded", "status"), "Unknown");
    CHECK_STR(cond(&w, "Succeeded", "reason"), "WorkflowNotFound");
    CHECK_STR(cond(&w, "Succeeded", "message"), "workflow \"wf\" not found in namespace \"ci\"");
    CHECK_STR(str_at(status(&w), "message"), "workflow \"wf\" not found in namespace \"ci\"");
    settle(&w);
    w.workflow = wf;
    w.now += 60 * SEC;
    settle(&w);
    CHECK_STR(phase(&w), "Running");
    CHECK_STR(str_at(status(&w), "startTime"), "2026-11-25T10:01:01Z");
    world_free(&w);
}

static void test_invalid_workflow(void)
{
    static const struct {
        const char *spec, *run, *message;
    } cases[] = {
        {"{'steps':[{'name':'a','image':'x','dependsOn':['b']},{'name':'b','image':'x',"
         "'dependsOn':['a']}]}",
         NULL, "steps form a cycle: a -> b -> a"},
        {SPEC, "{'workflowRef':{'name':'wf'}}", "parameter \"tag\" has no value and no default"},
        {SPEC,
         "{'workflowRef':{'name':'wf'},'params':[{'name':'tag','value':'1'},{'name':'x',"
         "'value':'1'}]}",
         "run sets parameter \"x\", which the workflow does not declare"},
        {SPEC, "{'params':[]}", "spec.workflowRef.name is required"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct world w;
        world_init(&w, cases[i].spec, cases[i].run);
        plan(&w);
        CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 0);
        CHECK_INT(w.plan.requeue_after_ms, 0);
        apply(&w);
        CHECK_STR(phase(&w), "Failed");
        CHECK_STR(cond(&w, "Succeeded", "status"), "False");
        CHECK_STR(cond(&w, "Succeeded", "reason"), "InvalidWorkflow");
        CHECK_STR(cond(&w, "Succeeded", "message"), cases[i].message);
        CHECK_STR(cond(&w, "Stalled", "status"), "True");
        CHECK_STR(cond(&w, "Ready", "status"), "False");
        CHECK_STR(cond(&w, "Reconciling", "status"), "False");
        CHECK_STR(str_at(status(&w), "completionTime"), "2026-11-25T10:00:01Z");
        CHECK(at(status(&w), "startTime") == NULL);
        CHECK(at(status(&w), "workflowSpec") == NULL);
        settle(&w);
        world_free(&w);
    }
}

static void test_cancel_before_start(void)
{
    struct world w;
    world_init(&w, SPEC, "{'workflowRef':{'name':'wf'},'cancel':true}");
    settle(&w);
    CHECK_STR(phase(&w), "Cancelled");
    CHECK_STR(cond(&w, "Succeeded", "reason"), "Cancelled");
    CHECK(json_object_get_boolean(at(status(&w), "cancelRequested")));
    CHECK_INT(w.n_jobs, 0);
    world_free(&w);
}

static void test_deleting_run(void)
{
    struct world w;
    world_init(&w, SPEC, RUN_SPEC);
    json_object_object_add(at(w.run, "metadata"), "deletionTimestamp",
                           json_object_new_string("2026-11-25T10:00:00Z"));
    plan(&w);
    CHECK_INT(w.plan.n, 0);
    CHECK_INT(w.plan.requeue_after_ms, 0);
    world_free(&w);
    struct plan p;
    plan_init(&p);
    struct json_object *bad = J("{'metadata':{'name':'x'}}");
    struct plan_input in = {.run = bad, .now_ms = T0};
    CHECK_INT(plan_run(&in, &p), -EINVAL);
    json_object_put(bad);
    plan_release(&p);
}

#define FORBID "{'concurrencyPolicy':'Forbid','steps':[{'name':'a','image':'x'}]}"
#define REPLACE "{'concurrencyPolicy':'Replace','steps':[{'name':'a','image':'x'}]}"

static void test_forbid(void)
{
    struct world w;
    world_init(&w, FORBID, NULL);
    sim_sibling(&w, "newer", T0 + 5 * SEC, PLAN_PENDING, 0);    /* ignored: newer */
    sim_sibling(&w, "done", T0 - 90 * SEC, PLAN_SUCCEEDED, T0); /* ignored: terminal */
    sim_sibling(&w, "old2", T0 - 10 * SEC, PLAN_RUNNING, 0);
    sim_sibling(&w, "old1", T0 - 20 * SEC, PLAN_PHASE_NONE, 0);
    plan(&w);
    CHECK_INT(w.plan.requeue_after_ms, PLAN_RECHECK_MS);
    apply(&w);
    CHECK_STR(phase(&w), "Pending");
    CHECK_STR(cond(&w, "Succeeded", "reason"), "Queued");
    CHECK_STR(str_at(status(&w), "message"),
              "waiting for run \"old1\" to finish (concurrencyPolicy Forbid)");
    settle(&w);
    w.sibs[3].phase = PLAN_FAILED;
    settle(&w);
    CHECK_STR(str_at(status(&w), "message"),
              "waiting for run \"old2\" to finish (concurrencyPolicy Forbid)");
    w.sibs[2].phase = PLAN_CANCELLED;
    settle(&w);
    CHECK_STR(phase(&w), "Running");
    CHECK(job_of(&w, "a") != NULL);
    world_free(&w);
}

static void test_replace_and_allow(void)
{
    struct world w;
    world_init(&w, REPLACE, NULL);
    sim_sibling(&w, "old1", T0 - 20 * SEC, PLAN_RUNNING, 0);
    sim_sibling(&w, "old2", T0 - 10 * SEC, PLAN_PENDING, 0);
    sim_sibling(&w, "old3", T0 - 5 * SEC, PLAN_CANCELLING, 0);
    w.sibs[2].cancel = 1; /* already being cancelled: no second write */
    sim_sibling(&w, "newer", T0 + 5 * SEC, PLAN_RUNNING, 0);
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_CANCEL_RUN), 2);
    const struct plan_action *a = find_action(&w.plan, PLAN_CANCEL_RUN, "old1");
    CHECK(a && strcmp(a->uid, "uid-old1") == 0);
    CHECK_STR(a ? json_object_to_json_string_ext(a->body, JSON_C_TO_STRING_PLAIN) : NULL,
              "{\"spec\":{\"cancel\":true},\"metadata\":{\"uid\":\"uid-old1\"}}");
    CHECK(find_action(&w.plan, PLAN_CANCEL_RUN, "old2") != NULL);
    CHECK_INT(plan_count(&w.plan, PLAN_PATCH_STATUS), 1);
    apply(&w);
    CHECK_STR(phase(&w), "Running"); /* Replace does not wait */
    settle(&w);
    world_free(&w);

    world_init(&w, "{'steps':[{'name':'a','image':'x'}]}", NULL);
    sim_sibling(&w, "old1", T0 - 20 * SEC, PLAN_RUNNING, 0);
    settle(&w);
    CHECK_STR(phase(&w), "Running");
    CHECK_INT(w.sibs[0].cancel, 0);
    world_free(&w);
}

static void test_plan_workflow(void)
{
    struct json_object *wf = J("{'metadata':{'name':'wf','generation':3,'resourceVersion':'9'},"
                               "'spec':{'steps':[{'name':'a','image':'x'}],'finally':[{'name':"
                               "'f','image':'x'}]}}");
    struct plan p;
    plan_init(&p);
    CHECK_INT(plan_workflow(wf, T0, &p), 0);
    CHECK_INT(p.n, 1);
    struct json_object *body = p.n ? p.actions[0].body : NULL;
    CHECK_STR(str_at(body, "metadata.resourceVersion"), "9");
    CHECK_INT(json_object_get_int(at(body, "status.observedGeneration")), 3);
    CHECK_STR(str_at(body, "status.conditions.0.type"), "Ready");
    CHECK_STR(str_at(body, "status.conditions.0.status"), "True");
    CHECK_STR(str_at(body, "status.conditions.0.message"),
              "workflow is valid: 1 steps, 1 finally steps");
    CHECK_STR(str_at(body, "status.conditions.1.type"), "Stalled");
    CHECK_STR(str_at(body, "status.conditions.1.status"), "False");
    json_object_object_add(wf, "status", json_object_get(at(body, "status")));
    CHECK_INT(plan_workflow(wf, T0 + 5 * SEC, &p), 0);
    CHECK_INT(p.n, 0); /* unchanged: no write */

    /* becomes invalid: Stalled with the exact reason and message */
    json_object_object_add(wf, "spec",
                           J("{'steps':[{'name':'a','image':'x','dependsOn':['zz']}]}"));
    json_object_object_add(at(wf, "metadata"), "generation", json_object_new_int(4));
    CHECK_INT(plan_workflow(wf, T0 + 9 * SEC, &p), 0);
    CHECK_INT(plan_count(&p, PLAN_PATCH_STATUS), 1);
    CHECK_INT(plan_count(&p, PLAN_EVENT), 1);
    body = p.actions[0].body;
    CHECK_STR(str_at(body, "status.conditions.1.status"), "True");
    CHECK_STR(str_at(body, "status.conditions.1.reason"), "UnknownDependency");
    CHECK_STR(str_at(body, "status.conditions.1.message"),
              "step \"a\" depends on unknown step \"zz\"");
    CHECK_STR(str_at(body, "status.conditions.1.lastTransitionTime"), "2026-11-25T10:00:09Z");
    CHECK_STR(str_at(body, "status.conditions.0.reason"), "UnknownDependency");
    CHECK_STR(p.actions[1].type, "Warning");
    plan_release(&p);
    json_object_put(wf);
}

int main(void)
{
    RUN(test_first_reconcile);
    RUN(test_fast_step_events);
    RUN(test_snapshot_rules);
    RUN(test_workflow_not_found);
    RUN(test_invalid_workflow);
    RUN(test_cancel_before_start);
    RUN(test_deleting_run);
    RUN(test_forbid);
    RUN(test_replace_and_allow);
    RUN(test_plan_workflow);
    return check_finish();
}

#endif
