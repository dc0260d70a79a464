/* plan_run against the ways the promise broke (issue 8): pods that outlive
 * their Job, a Job deleted before the status records it, creates the API
 * server refuses, a cancel before any Job exists, attempts, and pods that
 * carry the run's label without being the run's. */
#define TEST_PLAN_HARNESS_ONLY
#include "test_plan.c"

/* The first status is written, the first creates are planned: all of them
 * are applied but the create of `refused` (NULL: none) and, if `hold`, all
 * creates (then the executor's memo says they were accepted). */
static void first_creates(struct world *w, const char *refused, int hold)
{
    world_init(w, SPEC3, NULL);
    plan(w);
    apply(w);
    plan(w);
    for (size_t i = 0; i < w->plan.n; i++) {
        const struct plan_action *a = &w->plan.actions[i];
        if (a->kind != PLAN_CREATE_JOB)
            continue;
        if (hold) {
            struct plan_created *m = &w->created[w->n_created++];
            snprintf(m->name, sizeof m->name, "%.63s", a->name);
            snprintf(m->uid, sizeof m->uid, "uid-%.30s", a->name);
        } else if (!refused || strcmp(a->step, refused) != 0) {
            apply_action(w, a);
        }
    }
    plan_release(&w->plan);
}

/* Applies only the plan's status patch (the creates are refused). */
static void apply_status(struct world *w)
{
    for (size_t i = 0; i < w->plan.n; i++)
        if (w->plan.actions[i].kind == PLAN_PATCH_STATUS)
            apply_action(w, &w->plan.actions[i]);
    plan_release(&w->plan);
}

static void drop_job(struct world *w, const char *step)
{
    struct plan_job *j = job_of(w, step);
    CHECK(j != NULL);
    if (j)
        *j = w->jobs[--w->n_jobs];
}

static size_t running_pods(const struct world *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n_pods; i++)
        n += w->pods[i].phase == PLAN_POD_RUNNING && !w->pods[i].deleting;
    return n;
}

/* kubectl delete job --cascade=orphan: the Job goes, its pod runs on. */
static void test_orphaned_pod(void)
{
    struct world w;
    two_running(&w);
    CHECK(str_at(step_status(&w, "a"), "jobUID") != NULL); /* recorded while Running */
    struct plan_pod *orphan = pod_of(&w, "a");
    char orphan_name[PLAN_OBJ_LEN];
    snprintf(orphan_name, sizeof orphan_name, "%s", orphan->name);
    drop_job(&w, "a");
    plan(&w);
    /* a Failed (JobDeleted), b torn down, and a's orphan deleted by uid */
    const struct plan_action *d = find_action(&w.plan, PLAN_DELETE_POD, orphan_name);
    CHECK(d != NULL);
    CHECK_STR(d ? d->job : NULL, ""); /* its Job is gone: nothing to wait for */
    CHECK(find_action(&w.plan, PLAN_DELETE_JOB, "r1-b") != NULL);
    apply(&w);
    CHECK_STR(step_phase(&w, "a"), "Failed");
    CHECK_STR(str_at(step_status(&w, "a"), "reason"), "JobDeleted");
    CHECK_STR(phase(&w), "Failing");
    /* b's Job and pod go; the orphan is still terminating: no finally, not
     * terminal */
    drop_job(&w, "b");
    size_t o = 0;
    for (size_t i = 0; i < w.n_pods; i++)
        if (strcmp(w.pods[i].name, orphan_name) == 0)
            w.pods[o++] = w.pods[i];
    w.n_pods = o;
    CHECK(w.n_pods == 1 && w.pods[0].deleting);
    settle(&w);
    CHECK(job_of(&w, "fin") == NULL);
    CHECK_STR(phase(&w), "Failing");
    w.n_pods = 0;
    settle(&w);
    CHECK(job_of(&w, "fin") != NULL);
    sim_ok(&w, "fin");
    settle(&w);
    CHECK_STR(phase(&w), "Failed");
    world_free(&w);
}

/* The garbage collector removed a torn-down Job before it saw the pod
 * the Job controller had just made: the pod runs with no Job and no
 * deletionTimestamp. The run waits and deletes it. */
static void test_gc_race(void)
{
    struct world w;
    two_running(&w);
    /* b's pod is not in the pod cache yet when the cancel comes */
    struct plan_pod late = *pod_of(&w, "b");
    w.pods[1] = w.pods[--w.n_pods];
    CHECK_STR(w.pods[0].step, "a");
    sim_cancel(&w, 1);
    settle(&w);
    CHECK_STR(phase(&w), "Cancelling");
    sim_gone(&w); /* both Jobs collected */
    CHECK_INT(w.n_jobs, 0);
    CHECK_INT(w.n_pods, 0);
    w.pods[w.n_pods++] = late; /* running, no deletionTimestamp, no Job */
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_DELETE_POD, w.pods[0].name) != NULL);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, "r1-fin") == NULL);
    apply(&w);
    CHECK_STR(phase(&w), "Cancelling");
    w.n_pods = 0;
    settle(&w);
    CHECK(job_of(&w, "fin") != NULL);
    sim_ok(&w, "fin");
    settle(&w);
    CHECK_STR(phase(&w), "Cancelled");
    world_free(&w);
}

/* The same race, but the pod watch has not shown the late pod at all
 * when the Jobs are seen gone (the soak, issue 10): from the caches alone
 * the run looks quiet. The finally step and the terminal phase wait for a
 * consistent LIST of the run's pods (LIST_PODS); the pod it finds is
 * deleted and waited for; a run whose Jobs all ended on their own needs
 * no LIST. */
static void test_pod_watch_lags(void)
{
    struct world w;
    two_running(&w);
    struct plan_pod late = *pod_of(&w, "b");
    w.pods[1] = w.pods[--w.n_pods];
    sim_cancel(&w, 1);
    settle(&w);
    sim_gone(&w);
    /* The caches say: no Job, no pod. */
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_LIST_PODS), 1);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, "r1-fin") == NULL);
    const struct plan_action *l = find_action(&w.plan, PLAN_LIST_PODS, "r1");
    CHECK_STR(l ? str_at(l->body, "labelSelector") : NULL, "runbook.dev/run=r1");
    plan_release(&w.plan);
    /* The LIST's answer holds the late pod: deleted, waited for. */
    w.pods[w.n_pods++] = late;
    w.listed = 1;
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_DELETE_POD, late.name) != NULL);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, "r1-fin") == NULL);
    CHECK_INT(plan_count(&w.plan, PLAN_LIST_PODS), 0);
    apply(&w);
    CHECK_STR(phase(&w), "Cancelling");
    /* It is gone; the next LIST says so: finally starts. */
    w.n_pods = 0;
    settle(&w);
    CHECK(job_of(&w, "fin") != NULL);
    sim_ok(&w, "fin");
    /* Terminal only from a plan given a LIST's answer. */
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_LIST_PODS), 1);
    const struct plan_action *st = find_action(&w.plan, PLAN_PATCH_STATUS, NULL);
    CHECK(!st || !str_at(st->body, "status.completionTime"));
    apply(&w);
    settle(&w);
    CHECK_STR(phase(&w), "Cancelled");
    world_free(&w);

    /* Every Job ended by the Job controller's word: no LIST at all. */
    world_init(&w, SPEC3, NULL);
    for (int i = 0; i < 8 && strcmp(phase(&w), "Succeeded") != 0; i++) {
        settle(&w);
        CHECK_INT(plan_count(&w.applied, PLAN_LIST_PODS), 0);
        for (size_t k = 0; k < w.n_jobs; k++)
            if (!w.jobs[k].complete)
                sim_ok(&w, w.jobs[k].step);
    }
    CHECK_STR(phase(&w), "Succeeded");
    world_free(&w);
}

/* A pod with the run's label whose Job was never this run's is neither
 * deleted nor waited for. */
static void test_foreign_pod(void)
{
    struct world w;
    two_running(&w);
    struct plan_pod *p = &w.pods[w.n_pods++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "impostor");
    snprintf(p->uid, sizeof p->uid, "uid-impostor");
    snprintf(p->controller_uid, sizeof p->controller_uid, "uid-some-other-job");
    snprintf(p->step, sizeof p->step, "a");
    snprintf(p->job, sizeof p->job, "r1-a");
    p->phase = PLAN_POD_RUNNING;
    sim_cancel(&w, 1);
    settle(&w);
    CHECK(find_action(&w.applied, PLAN_DELETE_POD, "impostor") == NULL);
    for (size_t i = 0; i < w.n_pods; i++)
        if (w.pods[i].deleting)
            w.pods[i].phase = PLAN_POD_FAILED;
    sim_gone(&w);
    settle(&w);
    CHECK(job_of(&w, "fin") != NULL);
    sim_ok(&w, "fin");
    settle(&w);
    CHECK_STR(phase(&w), "Cancelled");
    CHECK(!w.pods[0].deleting); /* the impostor is untouched */
    world_free(&w);
}

/* The Job is deleted the instant it appears, before any status names it:
 * the accepted create proves it existed, so it is not created again. */
static void test_deleted_before_status(void)
{
    struct world w;
    first_creates(&w, NULL, 1); /* accepted, remembered, not yet cached */
    /* the watch showed a's Job, then its delete, before any status write */
    w.created[0].seen = 1;
    CHECK_STR(w.created[0].name, "r1-a");
    w.check_repeats = 0;
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, "r1-a") == NULL);
    apply(&w);
    CHECK_STR(step_phase(&w, "a"), "Failed");
    CHECK_STR(str_at(step_status(&w, "a"), "reason"), "JobDeleted");
    CHECK_STR(str_at(step_status(&w, "a"), "jobUID"), "uid-r1-a");
    CHECK_STR(phase(&w), "Failing");
    world_free(&w);
}

/* Created, and the Job cache has not shown it yet: not created again, not
 * counted as deleted; a teardown deletes it by name and uid. */
static void test_unconfirmed_create(void)
{
    struct world w;
    first_creates(&w, NULL, 1); /* the cache lags */
    w.check_repeats = 0;
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 0);
    apply(&w);
    CHECK_STR(step_phase(&w, "a"), "Pending");
    CHECK_STR(phase(&w), "Running");
    sim_cancel(&w, 1);
    plan(&w);
    const struct plan_action *d = find_action(&w.plan, PLAN_DELETE_JOB, "r1-a");
    CHECK(d != NULL);
    CHECK_STR(d ? d->uid : NULL, "uid-r1-a");
    CHECK_STR(d ? str_at(d->body, "preconditions.uid") : NULL, "uid-r1-a");
    apply(&w);
    CHECK_STR(phase(&w), "Cancelling"); /* they may exist: no finally yet */
    CHECK_STR(step_phase(&w, "a"), "Cancelled");
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, "r1-fin") == NULL);
    /* the watch catches up: both gone */
    for (size_t i = 0; i < w.n_created; i++)
        w.created[i].seen = 1;
    settle(&w);
    CHECK(job_of(&w, "fin") != NULL);
    world_free(&w);
}

/* 4xx: the step fails at once, with the server's words, and the run
 * follows its failurePolicy. */
static void test_refused_permanent(void)
{
    struct world w;
    first_creates(&w, "a", 0); /* the API server refused a's Job */
    sim_running(&w, "b");
    struct plan_refusal *f = &w.refusals[w.n_refusals++];
    snprintf(f->step, sizeof f->step, "a");
    f->permanent = 1;
    f->code = 422;
    snprintf(f->reason, sizeof f->reason, "JobRejected");
    snprintf(f->message, sizeof f->message,
             "Job.batch \"r1-a\" is invalid: spec.activeDeadlineSeconds: Invalid value: -5");
    f->first_ms = w.now;
    f->count = 1;
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, "r1-a") == NULL);
    CHECK(find_action(&w.plan, PLAN_DELETE_JOB, "r1-b") != NULL);
    int warned = 0;
    for (size_t i = 0; i < w.plan.n; i++)
        warned |= w.plan.actions[i].kind == PLAN_EVENT &&
                  strcmp(w.plan.actions[i].reason, "StepFailed") == 0 &&
                  w.plan.actions[i].outcome == -1 && /* what the step counters count */
                  strstr(w.plan.actions[i].message, "activeDeadlineSeconds") != NULL;
    CHECK(warned);
    apply(&w);
    CHECK_STR(step_phase(&w, "a"), "Failed");
    CHECK_STR(str_at(step_status(&w, "a"), "reason"), "JobRejected");
    const char *m = str_at(step_status(&w, "a"), "message");
    CHECK(m && strstr(m, "HTTP 422") && strstr(m, "activeDeadlineSeconds"));
    CHECK_STR(phase(&w), "Failing");
    m = str_at(status(&w), "message");
    CHECK(m && strstr(m, "step \"a\" failed") && strstr(m, "activeDeadlineSeconds"));
    world_free(&w);
}

/* 5xx and network errors: retried; after a while the step says so. */
static void test_refused_transient(void)
{
    struct world w;
    first_creates(&w, "a", 0);
    struct plan_refusal *f = &w.refusals[w.n_refusals++];
    snprintf(f->step, sizeof f->step, "a");
    f->code = 503;
    snprintf(f->message, sizeof f->message, "etcdserver: request timed out");
    f->first_ms = w.now;
    f->count = 2;
    w.check_repeats = 0;
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, "r1-a") != NULL); /* retried */
    apply_status(&w);
    CHECK(str_at(step_status(&w, "a"), "reason") == NULL); /* nothing to say yet */
    w.now += PLAN_CREATE_REPORT_MS;
    f->count = 9;
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, "r1-a") != NULL);
    apply_status(&w);
    CHECK_STR(step_phase(&w, "a"), "Pending");
    CHECK_STR(str_at(step_status(&w, "a"), "reason"), "JobCreateFailing");
    const char *m = str_at(step_status(&w, "a"), "message");
    CHECK(m && strstr(m, "failed 9 times") && strstr(m, "HTTP 503"));
    CHECK_STR(phase(&w), "Running");
    world_free(&w);
}

/* Cancelled the instant it says Running, before any Job: straight to
 * Cancelled, no finally (nothing ran that it could clean up). */
static void test_cancel_before_any_job(void)
{
    struct world w;
    world_init(&w, SPEC3, NULL);
    plan(&w);
    apply(&w); /* the first status: Running, snapshot, steps Pending */
    CHECK_STR(phase(&w), "Running");
    sim_cancel(&w, 1);
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 0);
    apply(&w);
    CHECK_STR(phase(&w), "Cancelled");
    CHECK_STR(step_phase(&w, "a"), "Skipped");
    CHECK_STR(step_phase(&w, "fin"), "Skipped");
    CHECK_STR(cond(&w, "Succeeded", "reason"), "Cancelled");
    settle(&w);
    CHECK_INT(w.n_jobs, 0);
    world_free(&w);
}

/* Once one Job was created, a cancel is a teardown: finally steps run. */
static void test_cancel_after_first_job(void)
{
    struct world w;
    two_running(&w);
    sim_cancel(&w, 1);
    settle(&w);
    CHECK_STR(phase(&w), "Cancelling");
    for (size_t i = 0; i < w.n_pods; i++)
        w.pods[i].phase = PLAN_POD_FAILED;
    sim_gone(&w);
    settle(&w);
    CHECK(job_of(&w, "fin") != NULL);
    world_free(&w);
}

/* attempts: pods started, even before the Job's counters say so. */
static void test_attempts(void)
{
    struct world w;
    two_running(&w);
    struct plan_job *j = job_of(&w, "a");
    /* the finished condition comes before the counters */
    struct plan_pod *p = pod_of(&w, "a");
    p->phase = PLAN_POD_SUCCEEDED;
    p->terminated = 1;
    j->active = 0;
    j->complete = j->success_criteria_met = 1;
    j->completion_ms = w.now;
    settle(&w);
    CHECK_STR(step_phase(&w, "a"), "Succeeded");
    CHECK_INT(json_object_get_int(at(step_status(&w, "a"), "attempts")), 1);
    /* b: two failed pods, a third running */
    j = job_of(&w, "b");
    pod_of(&w, "b")->phase = PLAN_POD_FAILED;
    struct plan_pod *q = add_pod(&w, j, "b");
    q->phase = PLAN_POD_FAILED;
    add_pod(&w, j, "b");
    j->failed_pods = 1; /* lagging */
    j->active = 1;
    settle(&w);
    CHECK_INT(json_object_get_int(at(step_status(&w, "b"), "attempts")), 3);
    world_free(&w);
}

/* A DELETE_POD for a pod whose Job is deleted in the same plan names that
 * Job (the executor sends it once the Job's DELETE is accepted). */
static void test_pod_delete_waits_for_job(void)
{
    struct world w;
    two_running(&w);
    sim_fail(&w, "a", 1, "no", 1);
    plan(&w);
    const struct plan_action *d = find_action(&w.plan, PLAN_DELETE_POD, pod_of(&w, "b")->name);
    CHECK(d != NULL);
    CHECK_STR(d ? d->job : NULL, "r1-b");
    CHECK(d && d->uid[0] && strcmp(str_at(d->body, "preconditions.uid"), d->uid) == 0);
    CHECK(d && at(d->body, "propagationPolicy") == NULL);
    CHECK_INT(running_pods(&w), 1); /* b's, until applied */
    apply(&w);
    CHECK_INT(running_pods(&w), 0);
    world_free(&w);
}

/* A snapshot someone broke: what runs is torn down, and a pod whose Job
 * is already gone still holds the terminal phase until it is gone. */
static void test_broken_snapshot_orphan(void)
{
    struct world w;
    two_running(&w);
    drop_job(&w, "a");
    drop_job(&w, "b"); /* both orphaned: only their pods remain */
    json_object_object_add(status(&w), "workflowSpec", J("{'steps':'oops'}"));
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_DELETE_POD), 2);
    apply(&w);
    CHECK_STR(phase(&w), "Failing");
    settle(&w);
    CHECK_STR(phase(&w), "Failing"); /* the pods are terminating */
    w.n_pods = 0;
    settle(&w);
    CHECK_STR(phase(&w), "Failed");
    world_free(&w);
}

/* A finished run that meets a live pod of its own (its Job gone) deletes
 * it; a pod with its label and another Job's uid is left alone. */
static void test_terminal_run_stray_pod(void)
{
    struct world w;
    world_init(&w, "{'steps':[{'name':'a','image':'x'}]}", NULL);
    settle(&w);
    sim_ok(&w, "a");
    settle(&w);
    CHECK_STR(phase(&w), "Succeeded");
    struct plan_job *j = job_of(&w, "a");
    struct plan_pod *p = add_pod(&w, j, "a"); /* a stray second pod of a's Job */
    drop_job(&w, "a");
    struct plan_pod *q = &w.pods[w.n_pods++];
    *q = *p;
    snprintf(q->name, sizeof q->name, "not-ours");
    snprintf(q->uid, sizeof q->uid, "uid-not-ours");
    snprintf(q->controller_uid, sizeof q->controller_uid, "uid-of-some-job");
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_DELETE_POD, w.pods[w.n_pods - 2].name) != NULL);
    CHECK(find_action(&w.plan, PLAN_DELETE_POD, "not-ours") == NULL);
    CHECK_STR(phase(&w), "Succeeded"); /* a terminal phase never changes */
    world_free(&w);
}

/* A cancel tears a and b down: a handles SIGTERM and exits 0, b ignores it
 * and is SIGKILLed when its grace period runs out. The steps say so, once,
 * from the pods the cache shows before they go. */
static void test_stopped_how(void)
{
    struct world w;
    two_running(&w);
    sim_cancel(&w, 1);
    settle(&w);
    CHECK_STR(step_phase(&w, "a"), "Cancelled");
    CHECK(str_at(step_status(&w, "a"), "exitCode") == NULL);
    struct plan_pod *pa = pod_of(&w, "a"), *pb = pod_of(&w, "b");
    pa->terminated = pb->terminated = 1;
    pa->phase = PLAN_POD_SUCCEEDED;
    pb->phase = PLAN_POD_FAILED;
    pa->exit_code = 0;
    pb->exit_code = 137;
    snprintf(pb->reason, sizeof pb->reason, "Error");
    settle(&w);
    CHECK_STR(str_at(step_status(&w, "a"), "exitCode"), "0");
    CHECK(strstr(str_at(step_status(&w, "a"), "message"), "exited with code 0") != NULL);
    CHECK_STR(str_at(step_status(&w, "b"), "exitCode"), "137");
    char mb[PLAN_MSG_LEN];
    snprintf(mb, sizeof mb, "%s", str_at(step_status(&w, "b"), "message"));
    CHECK(strstr(mb, "killed with SIGKILL when its grace period ran out") != NULL);
    CHECK_STR(step_phase(&w, "b"), "Cancelled");
    settle(&w); /* said once, not appended again */
    CHECK_STR(str_at(step_status(&w, "b"), "message"), mb);
    world_free(&w);

    /* b's pod went before any plan saw it ended: the executor's memo of
     * ended pods still tells */
    two_running(&w);
    sim_cancel(&w, 1);
    settle(&w);
    pb = pod_of(&w, "b");
    pb->terminated = 1;
    pb->phase = PLAN_POD_FAILED;
    pb->exit_code = 137;
    w.ended[w.n_ended++] = *pb;
    *pb = w.pods[--w.n_pods];
    settle(&w);
    CHECK_STR(str_at(step_status(&w, "b"), "exitCode"), "137");
    CHECK(strstr(str_at(step_status(&w, "b"), "message"), "SIGKILL") != NULL);
    world_free(&w);
}

int main(void)
{
    RUN(test_orphaned_pod);
    RUN(test_gc_race);
    RUN(test_pod_watch_lags);
    RUN(test_foreign_pod);
    RUN(test_deleted_before_status);
    RUN(test_unconfirmed_create);
    RUN(test_refused_permanent);
    RUN(test_refused_transient);
    RUN(test_cancel_before_any_job);
    RUN(test_cancel_after_first_job);
    RUN(test_attempts);
    RUN(test_pod_delete_waits_for_job);
    RUN(test_broken_snapshot_orphan);
    RUN(test_terminal_run_stray_pod);
    RUN(test_stopped_how);
    return check_finish();
}
