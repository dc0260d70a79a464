/* plan_run during teardown and after crashes: fan-out deletes, pods stuck
 * terminating, restart safety, cache lag, Jobs owned by someone else,
 * late pod details, deadlines and the merge patch's nulls. */
#define TEST_PLAN_HARNESS_ONLY
#include "test_plan.c"

/* root, then 21 parallel steps s0..s20 */
static char *fan_spec(int n)
{
    size_t cap = 64 + (size_t)n * 80;
    char *s = malloc(cap);
    size_t o = (size_t)snprintf(s, cap, "{'steps':[{'name':'root','image':'x'}");
    for (int i = 0; i < n; i++)
        o +=
            (size_t)snprintf(s + o, cap - o, ",{'name':'s%d','image':'x','dependsOn':['root']}", i);
    snprintf(s + o, cap - o, "],'finally':[{'name':'fin','image':'x'}]}");
    return s;
}

static void test_twenty_siblings(void)
{
    char *spec = fan_spec(21);
    struct world w;
    world_init(&w, spec, NULL);
    free(spec);
    settle(&w);
    sim_ok(&w, "root");
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 21); /* all ready steps at once */
    apply(&w);
    char name[8];
    for (int i = 0; i < 21; i++) {
        snprintf(name, sizeof name, "s%d", i);
        sim_running(&w, name);
    }
    settle(&w);
    const char *cur = str_at(status(&w), "currentStep");
    CHECK(cur && strncmp(cur, "s0,s1,s2,", 9) == 0 && strstr(cur, ",s20"));
    sim_fail(&w, "s7", 3, "assert failed", 0);
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_DELETE_JOB), 20);
    CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 0);
    CHECK_INT(plan_count(&w.plan, PLAN_PATCH_STATUS), 1);
    CHECK(find_action(&w.plan, PLAN_DELETE_JOB, "r1-s7") == NULL);
    CHECK(w.plan.actions[0].kind == PLAN_PATCH_STATUS); /* latched before any SIGTERM */
    const struct plan_action *d = find_action(&w.plan, PLAN_DELETE_JOB, "r1-s8");
    CHECK_STR(d ? d->uid : NULL, "uid-r1-s8");
    CHECK_STR(d ? d->step : NULL, "s8");
    CHECK_INT(w.plan.requeue_after_ms, 0); /* deletes not issued yet: nothing to time */
    /* One Event for the 20 cancelled steps, not 20 (and the failure's). */
    const struct plan_action *ev = find_action(&w.plan, PLAN_EVENT, NULL);
    size_t n_cancel = 0;
    for (size_t i = 0; i < w.plan.n; i++)
        if (w.plan.actions[i].kind == PLAN_EVENT &&
            (strcmp(w.plan.actions[i].reason, "StepCancelled") == 0 ||
             strcmp(w.plan.actions[i].reason, "StepsCancelled") == 0)) {
            n_cancel++;
            ev = &w.plan.actions[i];
        }
    CHECK_INT(n_cancel, 1);
    CHECK_STR(ev ? ev->reason : NULL, "StepsCancelled");
    CHECK(ev &&
          strncmp(ev->message, "20 steps stopped because step \"s7\" failed: s0, s1, ", 50) == 0);
    CHECK(ev && strstr(ev->message, "s20") != NULL);
    apply(&w);
    CHECK_STR(phase(&w), "Failing");
    CHECK_STR(step_phase(&w, "s8"), "Cancelled");
    CHECK_STR(str_at(step_status(&w, "s8"), "message"), "stopped because step \"s7\" failed");
    CHECK_STR(str_at(step_status(&w, "s8"), "reason"), "StepFailed");
    /* after the deletes: nothing to repeat, a timer for the stuck check */
    plan(&w);
    CHECK_INT(writes(&w.plan), 0);
    CHECK_INT(w.plan.requeue_after_ms, 60 * SEC); /* grace 30 s + 30 s */
    /* one pod of 20 goes; still Failing and no finally */
    w.pods[1].phase = PLAN_POD_FAILED;
    settle(&w);
    CHECK(job_of(&w, "fin") == NULL);
    sim_gone(&w);
    settle(&w);
    CHECK(job_of(&w, "fin") != NULL);
    sim_ok(&w, "fin");
    settle(&w);
    CHECK_STR(phase(&w), "Failed");
    CHECK_STR(str_at(status(&w), "progress"), "23/23");
    world_free(&w);
}

static void test_teardown_stuck(void)
{
    char *spec = fan_spec(14);
    struct world w;
    world_init(&w, spec, NULL);
    free(spec);
    settle(&w);
    sim_ok(&w, "root");
    settle(&w);
    char name[8];
    for (int i = 0; i < 14; i++) {
        snprintf(name, sizeof name, "s%d", i);
        sim_running(&w, name);
    }
    settle(&w);
    sim_cancel(&w, 1);
    settle(&w);
    CHECK_STR(phase(&w), "Cancelling");
    CHECK(cond(&w, "TeardownStuck", "status") == NULL);
    w.now += 59 * SEC; /* not yet: deadline + 30 s is at 60 s */
    settle(&w);
    CHECK(cond(&w, "TeardownStuck", "status") == NULL);
    w.now += 1 * SEC;
    plan(&w);
    CHECK_INT(w.plan.requeue_after_ms, PLAN_RECHECK_MS);
    const struct plan_action *ev = NULL;
    for (size_t i = 0; i < w.plan.n; i++)
        if (w.plan.actions[i].kind == PLAN_EVENT &&
            !strcmp(w.plan.actions[i].reason, "TeardownStuck"))
            ev = &w.plan.actions[i];
    CHECK(ev && !strcmp(ev->type, "Warning"));
    apply(&w);
    CHECK_STR(phase(&w), "Cancelling");
    CHECK_STR(cond(&w, "TeardownStuck", "status"), "True");
    /* sorted by name (s10 < s2), 10 shown, then a count */
    CHECK_STR(cond(&w, "TeardownStuck", "message"),
              "pods still present 30s after their deletion deadline: r1-s0-p2, r1-s1-p3, "
              "r1-s10-p12, r1-s11-p13, r1-s12-p14, r1-s13-p15, r1-s2-p4, r1-s3-p5, r1-s4-p6, "
              "r1-s5-p7 and 4 more");
    w.now += 10 * SEC;
    settle(&w); /* lastTransitionTime does not churn: no write */
    sim_gone(&w);
    settle(&w);
    CHECK_STR(cond(&w, "TeardownStuck", "status"), "False");
    CHECK_STR(phase(&w), "Cancelling"); /* fin runs now */
    sim_ok(&w, "fin");
    settle(&w);
    CHECK_STR(phase(&w), "Cancelled");
    world_free(&w);
}

#define CHAIN                                                                                      \
    "{'steps':[{'name':'a','image':'x'},{'name':'b','image':'x'},{'name':'c','image':'x',"         \
    "'dependsOn':['a','b']}]}"

/* Crash between the creates and the status write: the next plan finds
 * the Jobs, records them and creates nothing twice. */
static void test_restart_safety(void)
{
    struct world w;
    world_init(&w, CHAIN, NULL);
    plan(&w);
    apply(&w); /* Running, steps Pending */
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 2);
    /* the creates happen, the process dies before anything else */
    for (size_t i = 0; i < w.plan.n; i++)
        if (w.plan.actions[i].kind == PLAN_CREATE_JOB) {
            struct plan_job j;
            plan_job_from_json(w.plan.actions[i].body, &j);
            snprintf(j.uid, sizeof j.uid, "uid-%.30s", j.name);
            w.jobs[w.n_jobs++] = j;
        }
    sim_ok(&w, "a"); /* and a finished while we were down */
    sim_running(&w, "b");
    plan_release(&w.plan);
    /* a new process: no memory of the plan above */
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 0);
    CHECK_INT(plan_count(&w.plan, PLAN_PATCH_STATUS), 1);
    apply(&w);
    CHECK_STR(step_phase(&w, "a"), "Succeeded");
    CHECK_STR(step_phase(&w, "b"), "Running");
    CHECK_STR(str_at(step_status(&w, "b"), "job"), "r1-b");
    settle(&w);
    CHECK(job_of(&w, "c") == NULL);
    sim_ok(&w, "b");
    settle(&w);
    CHECK(job_of(&w, "c") != NULL);
    world_free(&w);
}

/* The Job cache lags behind our create: the plan creates again (the API
 * answers 409, which the executor accepts for a Job it owns) and never
 * claims the step is Running. */
static void test_cache_lag(void)
{
    struct world w;
    world_init(&w, CHAIN, NULL);
    plan(&w);
    apply(&w);
    plan(&w);
    apply(&w); /* both creates done... */
    CHECK_INT(w.n_jobs, 2);
    struct plan_job hidden[2] = {w.jobs[0], w.jobs[1]};
    w.n_jobs = 0; /* ...but the Job cache has not seen them yet */
    w.check_repeats = 0;
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 2);
    CHECK_INT(plan_count(&w.plan, PLAN_PATCH_STATUS), 0);
    CHECK_STR(step_phase(&w, "a"), "Pending");
    w.jobs[0] = hidden[0];
    w.jobs[1] = hidden[1];
    w.n_jobs = 2;
    plan_release(&w.applied);
    w.check_repeats = 1;
    settle(&w);
    CHECK_STR(step_phase(&w, "a"), "Running");
    CHECK_INT(w.n_jobs, 2);
    world_free(&w);
}

static void test_foreign_job(void)
{
    struct world w;
    world_init(&w, "{'steps':[{'name':'a','image':'x'}]}", NULL);
    plan(&w);
    apply(&w);
    /* the previous run named r1 left its Job, still being collected */
    struct plan_job *j = &w.jobs[w.n_jobs++];
    memset(j, 0, sizeof *j);
    snprintf(j->name, sizeof j->name, "r1-a");
    snprintf(j->uid, sizeof j->uid, "uid-old-job");
    snprintf(j->controller_uid, sizeof j->controller_uid, "uid-old-run");
    j->deleting = 1;
    settle(&w);
    CHECK_INT(w.n_jobs, 1); /* no create while it is there */
    CHECK_STR(step_phase(&w, "a"), "Pending");
    sim_gone(&w);
    settle(&w);
    CHECK_INT(w.n_jobs, 1);
    CHECK_STR(w.jobs[0].controller_uid, "uid-r1");
    CHECK_STR(step_phase(&w, "a"), "Running");
    world_free(&w);

    /* a live Job of that name owned by another object: the step fails */
    world_init(&w, "{'steps':[{'name':'a','image':'x'}]}", NULL);
    plan(&w);
    apply(&w);
    j = &w.jobs[w.n_jobs++];
    memset(j, 0, sizeof *j);
    snprintf(j->name, sizeof j->name, "r1-a");
    snprintf(j->controller_uid, sizeof j->controller_uid, "uid-other");
    j->complete = 1;
    settle(&w);
    CHECK_STR(step_phase(&w, "a"), "Failed");
    CHECK_STR(str_at(status(&w), "message"),
              "step \"a\" failed: JobConflict: job \"r1-a\" exists but is not owned by this run");
    CHECK_STR(phase(&w), "Failed");
    world_free(&w);
}

/* FailureTarget seen before the pod's terminated state reached the cache:
 * the step is Failed at once and its details are filled in later. */
static void test_late_pod_details(void)
{
    struct world w;
    world_init(&w, "{'steps':[{'name':'a','image':'x'},{'name':'b','image':'x'}]}", NULL);
    settle(&w);
    sim_running(&w, "a");
    sim_running(&w, "b");
    settle(&w);
    struct plan_job *j = job_of(&w, "a");
    j->failure_target = 1;
    j->active = 0;
    snprintf(j->reason, sizeof j->reason, "BackoffLimitExceeded");
    snprintf(j->message, sizeof j->message, "Job has reached the specified backoff limit");
    settle(&w);
    CHECK_STR(str_at(status(&w), "message"),
              "step \"a\" failed: BackoffLimitExceeded: Job has reached the specified backoff "
              "limit");
    CHECK(at(step_status(&w, "a"), "exitCode") == NULL);
    struct plan_pod *p = pod_of(&w, "a");
    p->phase = PLAN_POD_FAILED;
    p->terminated = 1;
    p->exit_code = 137;
    snprintf(p->reason, sizeof p->reason, "OOMKilled");
    settle(&w);
    CHECK_INT(json_object_get_int(at(step_status(&w, "a"), "exitCode")), 137);
    CHECK_STR(str_at(status(&w), "message"), "step \"a\" failed: exit code 137 (OOMKilled)");
    CHECK_STR(step_phase(&w, "b"), "Cancelled");
    CHECK_STR(str_at(status(&w), "currentStep"), "a"); /* nothing runs: the failed step */
    world_free(&w);
}

static void test_step_timeout_reason(void)
{
    struct world w;
    world_init(&w, "{'steps':[{'name':'a','image':'x','timeoutSeconds':5}]}", NULL);
    settle(&w);
    sim_running(&w, "a");
    settle(&w);
    sim_fail(&w, "a", 143, "", 0);
    struct plan_job *j = job_of(&w, "a");
    snprintf(j->reason, sizeof j->reason, "DeadlineExceeded");
    snprintf(j->message, sizeof j->message, "Job was active longer than specified deadline");
    settle(&w);
    CHECK_STR(str_at(status(&w), "message"),
              "step \"a\" failed: exit code 143 (DeadlineExceeded): Job was active longer than "
              "specified deadline");
    CHECK_STR(str_at(step_status(&w, "a"), "reason"), "DeadlineExceeded");
    world_free(&w);
}

/* A step whose Job fails by its podFailurePolicy (FailJob on exit code
 * 42, retries left): the Job controller sets FailureTarget, then Failed,
 * with reason PodFailurePolicy, and no second pod is made. That is a
 * failed step like any other: teardown at FailureTarget, one attempt,
 * the exit code once the pod's end is seen. The Job carries the policy. */
static void test_pod_failure_policy_fails_step(void)
{
    struct world w;
    world_init(&w,
               "{'steps':[{'name':'a','image':'x','retries':3,'podFailurePolicy':{'rules':["
               "{'action':'FailJob','onExitCodes':{'containerName':'step','operator':'In',"
               "'values':[42]}}]}},{'name':'b','image':'x'}]}",
               NULL);
    plan(&w);
    apply(&w); /* Running */
    plan(&w);
    const struct plan_action *c = find_action(&w.plan, PLAN_CREATE_JOB, "r1-a");
    CHECK(c != NULL);
    CHECK_INT(json_object_get_int(at(c ? c->body : NULL, "spec.backoffLimit")), 3);
    CHECK_STR(str_at(c ? c->body : NULL, "spec.podFailurePolicy.rules.0.action"), "FailJob");
    CHECK_INT(json_object_get_int(
                  at(c ? c->body : NULL, "spec.podFailurePolicy.rules.0.onExitCodes.values.0")),
              42);
    c = find_action(&w.plan, PLAN_CREATE_JOB, "r1-b");
    CHECK(c != NULL && at(c->body, "spec.podFailurePolicy") == NULL);
    apply(&w);
    settle(&w);
    sim_running(&w, "a");
    sim_running(&w, "b");
    settle(&w);
    /* the Job's FailureTarget reaches the cache before the pod's end */
    struct plan_job *j = job_of(&w, "a");
    j->active = 0;
    j->failed_pods = 1;
    j->failure_target = 1;
    snprintf(j->reason, sizeof j->reason, "PodFailurePolicy");
    snprintf(j->message, sizeof j->message,
             "Container step for pod ci/r1-a-p1 failed with exit code 42 matching FailJob rule "
             "at index 0");
    settle(&w);
    CHECK_STR(step_phase(&w, "a"), "Failed");
    CHECK_STR(str_at(step_status(&w, "a"), "reason"), "PodFailurePolicy");
    CHECK_INT(json_object_get_int(at(step_status(&w, "a"), "attempts")), 1);
    CHECK_STR(phase(&w), "Failing");
    CHECK_STR(cond(&w, "Succeeded", "reason"), "StepFailed");
    CHECK_STR(str_at(status(&w), "message"),
              "step \"a\" failed: PodFailurePolicy: Container step for pod ci/r1-a-p1 failed with "
              "exit code 42 matching FailJob rule at index 0");
    CHECK_STR(step_phase(&w, "b"), "Cancelled");
    CHECK(job_of(&w, "b")->deleting);
    /* the pod's end: the exit code is filled in, still one attempt */
    struct plan_pod *p = pod_of(&w, "a");
    p->phase = PLAN_POD_FAILED;
    p->terminated = 1;
    p->exit_code = 42;
    snprintf(p->reason, sizeof p->reason, "Error");
    p->finished_ms = w.now;
    j->failed = 1;
    j->completion_ms = w.now;
    settle(&w);
    CHECK_INT(json_object_get_int(at(step_status(&w, "a"), "exitCode")), 42);
    CHECK_INT(json_object_get_int(at(step_status(&w, "a"), "attempts")), 1);
    CHECK_STR(step_phase(&w, "a"), "Failed");
    /* b's pod and Job go: the run is Failed */
    pod_of(&w, "b")->phase = PLAN_POD_FAILED;
    sim_gone(&w);
    settle(&w);
    CHECK_STR(phase(&w), "Failed");
    CHECK_STR(cond(&w, "Succeeded", "reason"), "StepFailed");
    CHECK_INT(json_object_get_int(at(step_status(&w, "a"), "attempts")), 1);
    world_free(&w);
}

static void test_deadline_requeue(void)
{
    struct world w;
    world_init(&w, "{'activeDeadlineSeconds':100,'steps':[{'name':'a','image':'x'}]}", NULL);
    plan(&w);
    apply(&w); /* started at T0 + 1 s */
    w.now += 30 * SEC;
    plan(&w);
    CHECK_INT(w.plan.requeue_after_ms, 70 * SEC);
    apply(&w);
    w.now += 70 * SEC;
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_DELETE_JOB), 1);
    apply(&w);
    CHECK_STR(phase(&w), "Failing");
    CHECK_STR(cond(&w, "Succeeded", "reason"), "DeadlineExceeded");
    world_free(&w);
}

/* Keys that disappear from the status are sent as null (merge patch). */
static void test_merge_patch_nulls(void)
{
    struct world w;
    world_init(&w, "{'steps':[{'name':'a','image':'x'}]}", NULL);
    settle(&w);
    sim_running(&w, "a");
    settle(&w);
    CHECK_STR(str_at(status(&w), "currentStep"), "a");
    json_object_object_add(status(&w), "stale", json_object_new_string("x"));
    sim_ok(&w, "a");
    plan(&w);
    const struct plan_action *p = find_action(&w.plan, PLAN_PATCH_STATUS, "r1");
    struct json_object *v = status(&w); /* any non-NULL: must become NULL */
    CHECK(p && json_object_object_get_ex(at(p->body, "status"), "currentStep", &v) && !v);
    v = status(&w);
    CHECK(p && json_object_object_get_ex(at(p->body, "status"), "stale", &v) && !v);
    apply(&w);
    CHECK_STR(phase(&w), "Succeeded");
    CHECK(at(status(&w), "currentStep") == NULL);
    world_free(&w);
}

/* Before Kubernetes 1.31 a Job got Failed while its pods still ran: the
 * pods themselves must hold the finally steps back. */
static void test_waits_for_pods(void)
{
    struct world w;
    world_init(&w, "{'steps':[{'name':'a','image':'x'}],'finally':[{'name':'f','image':'x'}]}",
               NULL);
    settle(&w);
    sim_running(&w, "a");
    settle(&w);
    struct plan_job *j = job_of(&w, "a");
    j->failed = j->failure_target = 1;
    j->active = 0;
    struct plan_pod *p = pod_of(&w, "a");
    p->deleting = 1;
    p->deletion_deadline_ms = w.now + 30 * SEC;
    settle(&w);
    CHECK_STR(phase(&w), "Failing");
    CHECK(job_of(&w, "f") == NULL);
    p->phase = PLAN_POD_FAILED;
    settle(&w);
    CHECK(job_of(&w, "f") != NULL);
    world_free(&w);
}

/* A deleted Job with no pod (created, never scheduled) still holds the
 * finally steps back until it is gone. */
static void test_waits_for_deleting_job(void)
{
    struct world w;
    world_init(&w,
               "{'steps':[{'name':'a','image':'x'},{'name':'b','image':'x'}],'finally':[{'name':"
               "'f','image':'x'}]}",
               NULL);
    settle(&w);
    sim_running(&w, "a");
    settle(&w);
    sim_fail(&w, "a", 1, "x", 0); /* b's Job exists but has no pod */
    settle(&w);
    CHECK(job_of(&w, "b")->deleting);
    CHECK_STR(step_phase(&w, "b"), "Cancelled");
    CHECK(job_of(&w, "f") == NULL);
    /* its pod went away and the Job controller marked it Failed, but the
     * Foreground deletion is not finished: keep waiting for the Job */
    job_of(&w, "b")->failed = 1;
    settle(&w);
    CHECK(job_of(&w, "f") == NULL);
    sim_gone(&w);
    settle(&w);
    CHECK(job_of(&w, "f") != NULL);
    world_free(&w);
}

/* A teardown plan whose status write is lost while its deletes land and
 * the garbage collector finishes before the next reconcile: the vanished
 * Jobs are the teardown's, not failures, and the cause stays. */
static void test_lost_teardown_status(void)
{
    for (int cancel = 0; cancel < 2; cancel++) {
        struct world w;
        world_init(&w,
                   "{'steps':[{'name':'a','image':'x'},{'name':'b','image':'x'},{'name':'c',"
                   "'image':'x'}]}",
                   NULL);
        settle(&w);
        sim_running(&w, "a");
        sim_running(&w, "b");
        sim_running(&w, "c");
        settle(&w);
        if (cancel)
            sim_cancel(&w, 1);
        else
            sim_fail(&w, "b", 4, "x", 0);
        plan(&w);
        CHECK_INT(plan_count(&w.plan, PLAN_DELETE_JOB), cancel ? 3 : 2);
        for (size_t i = 0; i < w.plan.n; i++)
            if (w.plan.actions[i].kind == PLAN_DELETE_JOB)
                delete_job(&w, w.plan.actions[i].name); /* only the deletes land */
        plan_release(&w.plan);
        sim_gone(&w);
        CHECK_STR(phase(&w), "Running");
        settle(&w);
        CHECK_STR(phase(&w), cancel ? "Cancelled" : "Failed");
        CHECK_STR(cond(&w, "Succeeded", "reason"), cancel ? "Cancelled" : "StepFailed");
        CHECK_STR(step_phase(&w, "a"), "Cancelled");
        CHECK_STR(step_phase(&w, "c"), "Cancelled");
        CHECK_STR(step_phase(&w, "b"), cancel ? "Cancelled" : "Failed");
        world_free(&w);
    }
}

/* currentStep is a printer column: long lists are cut with ",..." */
static void test_current_steps_cut(void)
{
    struct world w;
    world_init(&w,
               "{'steps':[{'name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1','image':'x'},"
               "{'name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2','image':'x'},"
               "{'name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3','image':'x'},"
               "{'name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4','image':'x'}]}",
               NULL);
    settle(&w);
    CHECK_STR(str_at(status(&w), "currentStep"),
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2,"
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3,...");
    world_free(&w);
}

int main(void)
{
    RUN(test_twenty_siblings);
    RUN(test_teardown_stuck);
    RUN(test_restart_safety);
    RUN(test_cache_lag);
    RUN(test_foreign_job);
    RUN(test_late_pod_details);
    RUN(test_step_timeout_reason);
    RUN(test_pod_failure_policy_fails_step);
    RUN(test_deadline_requeue);
    RUN(test_merge_patch_nulls);
    RUN(test_waits_for_pods);
    RUN(test_waits_for_deleting_job);
    RUN(test_lost_teardown_status);
    RUN(test_current_steps_cut);
    return check_finish();
}
