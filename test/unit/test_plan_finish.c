/* plan_run for finished runs: ttlSecondsAfterFinished, history limits,
 * observedGeneration after the end, stray Jobs, a corrupted snapshot. */
#define TEST_PLAN_HARNESS_ONLY
#include "test_plan.c"

static void finish_ok(struct world *w)
{
    settle(w);
    sim_ok(w, "a");
    settle(w);
    CHECK_STR(phase(w), "Succeeded");
}

static void test_ttl(void)
{
    struct world w;
    world_init(&w, "{'ttlSecondsAfterFinished':60,'steps':[{'name':'a','image':'x'}]}", NULL);
    settle(&w);
    w.now += 10 * SEC;
    sim_ok(&w, "a");
    plan(&w);
    CHECK_INT(w.plan.requeue_after_ms, 60 * SEC); /* set in the plan that ends the run */
    apply(&w);
    w.now += 59 * SEC;
    plan(&w);
    CHECK_INT(writes(&w.plan), 0);
    CHECK_INT(w.plan.requeue_after_ms, 1 * SEC);
    w.now += 1 * SEC;
    plan(&w);
    CHECK_INT(w.plan.n, 1);
    const struct plan_action *d = find_action(&w.plan, PLAN_DELETE_RUN, "r1");
    CHECK(d != NULL);
    CHECK_STR(d ? d->uid : NULL, "uid-r1");
    CHECK_STR(d ? str_at(d->body, "propagationPolicy") : NULL, "Background");
    CHECK_STR(d ? str_at(d->body, "preconditions.uid") : NULL, "uid-r1");
    apply(&w);
    plan(&w); /* being deleted: nothing more */
    CHECK_INT(w.plan.n, 0);
    world_free(&w);

    /* ttl 0: deleted in the same plan that ends it, after the status */
    world_init(&w, "{'ttlSecondsAfterFinished':0,'steps':[{'name':'a','image':'x'}]}", NULL);
    settle(&w);
    sim_ok(&w, "a");
    plan(&w);
    CHECK(w.plan.actions[0].kind == PLAN_PATCH_STATUS);
    CHECK(find_action(&w.plan, PLAN_DELETE_RUN, "r1") != NULL);
    world_free(&w);
}

static void test_history(void)
{
    struct world w;
    world_init(&w,
               "{'successfulRunsHistoryLimit':2,'failedRunsHistoryLimit':1,'steps':[{'name':'a',"
               "'image':'x'}]}",
               NULL);
    sim_sibling(&w, "ok1", T0 - 50 * SEC, PLAN_SUCCEEDED, T0 - 40 * SEC);
    sim_sibling(&w, "ok2", T0 - 30 * SEC, PLAN_SUCCEEDED, T0 - 20 * SEC);
    sim_sibling(&w, "ok3", T0 - 25 * SEC, PLAN_SUCCEEDED, T0 - 10 * SEC);
    sim_sibling(&w, "gone", T0 - 90 * SEC, PLAN_SUCCEEDED, T0 - 80 * SEC);
    w.sibs[3].deleting = 1;
    sim_sibling(&w, "bad1", T0 - 60 * SEC, PLAN_FAILED, T0 - 55 * SEC);
    sim_sibling(&w, "bad2", T0 - 45 * SEC, PLAN_CANCELLED, T0 - 35 * SEC);
    sim_sibling(&w, "live", T0 - 45 * SEC, PLAN_RUNNING, 0);
    settle(&w);
    CHECK_INT(w.sibs[0].deleting, 0); /* nothing while this run is not finished */
    sim_ok(&w, "a");
    plan(&w);
    /* succeeded, newest first: r1, ok3 | ok2, ok1; failed: bad2 | bad1 */
    CHECK_INT(plan_count(&w.plan, PLAN_DELETE_RUN), 3);
    CHECK(find_action(&w.plan, PLAN_DELETE_RUN, "ok1") != NULL);
    CHECK(find_action(&w.plan, PLAN_DELETE_RUN, "ok2") != NULL);
    CHECK(find_action(&w.plan, PLAN_DELETE_RUN, "bad1") != NULL);
    const struct plan_action *d = find_action(&w.plan, PLAN_DELETE_RUN, "ok2");
    CHECK_STR(d ? str_at(d->body, "preconditions.uid") : NULL, "uid-ok2");
    apply(&w);
    settle(&w);
    world_free(&w);

    /* limit 0: this run goes too */
    world_init(&w, "{'successfulRunsHistoryLimit':0,'steps':[{'name':'a','image':'x'}]}", NULL);
    settle(&w);
    sim_ok(&w, "a");
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_DELETE_RUN, "r1") != NULL);
    world_free(&w);
}

static void test_terminal_generation(void)
{
    struct world w;
    world_init(&w, "{'steps':[{'name':'a','image':'x'}]}", NULL);
    finish_ok(&w);
    struct json_object *before = NULL;
    json_object_deep_copy(status(&w), &before, NULL);
    sim_cancel(&w, 1); /* too late: only observedGeneration moves */
    plan(&w);
    CHECK_INT(w.plan.n, 1);
    apply(&w);
    CHECK_STR(phase(&w), "Succeeded");
    CHECK_INT(json_object_get_int(at(status(&w), "observedGeneration")), 2);
    CHECK_INT(json_object_get_int(at(status(&w), "conditions.0.observedGeneration")), 2);
    CHECK(at(status(&w), "cancelRequested") == NULL);
    CHECK_STR(str_at(status(&w), "completionTime"), str_at(before, "completionTime"));
    settle(&w);
    json_object_put(before);
    world_free(&w);
}

static void test_sweep(void)
{
    struct world w;
    world_init(&w, "{'steps':[{'name':'a','image':'x'},{'name':'b','image':'x'}]}", NULL);
    settle(&w);
    sim_fail(&w, "a", 1, "x", 0);
    sim_ok(&w, "b");
    settle(&w);
    CHECK_STR(phase(&w), "Failed");
    /* a Job of this run shows up unfinished after the end */
    struct plan_job *j = &w.jobs[w.n_jobs++];
    memset(j, 0, sizeof *j);
    snprintf(j->name, sizeof j->name, "r1-late");
    snprintf(j->uid, sizeof j->uid, "uid-late");
    snprintf(j->controller_uid, sizeof j->controller_uid, "uid-r1");
    j->active = 1;
    plan(&w);
    CHECK_INT(writes(&w.plan), 1);
    CHECK(find_action(&w.plan, PLAN_DELETE_JOB, "r1-late") != NULL);
    CHECK(find_action(&w.plan, PLAN_EVENT, "r1-late") != NULL); /* StrayJobDeleted */
    apply(&w);
    plan(&w);
    CHECK_INT(w.plan.n, 0);
    world_free(&w);
}

static void test_broken_snapshot(void)
{
    struct world w;
    world_init(&w, "{'steps':[{'name':'a','image':'x'}]}", NULL);
    settle(&w);
    sim_running(&w, "a");
    settle(&w);
    json_object_object_add(status(&w), "workflowSpec", J("{'steps':'oops'}"));
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_DELETE_JOB, "r1-a") != NULL);
    apply(&w);
    CHECK_STR(phase(&w), "Failing"); /* not Failed while a's pod runs */
    CHECK_STR(cond(&w, "Succeeded", "reason"), "InvalidWorkflow");
    CHECK_STR(str_at(status(&w), "message"),
              "status.workflowSpec cannot be used: spec.steps must be a list");
    settle(&w);
    CHECK_STR(phase(&w), "Failing");
    sim_gone(&w);
    settle(&w);
    CHECK_STR(phase(&w), "Failed");
    CHECK(at(status(&w), "completionTime") != NULL);
    world_free(&w);
}

/* attempts is "pods started for the step" (docs/api.md): a step whose Job
 * succeeded ran at least one, even when the plan sees SuccessCriteriaMet
 * before status.succeeded is counted and the pod already left the cache
 * (issue 14: succeeded steps showed attempts 0). */
static void test_attempts_of_a_quick_success(void)
{
    struct world w;
    world_init(&w, SPEC3, NULL);
    settle(&w); /* the Jobs of a and b exist; no pod seen yet */
    struct plan_job *j = job_of(&w, "a");
    CHECK(j != NULL && w.n_pods == 0);
    if (!j)
        return;
    j->active = j->succeeded = 0; /* counters not caught up, the pod never seen */
    j->success_criteria_met = 1;
    j->completion_ms = w.now;
    settle(&w);
    CHECK_STR(step_phase(&w, "a"), "Succeeded");
    CHECK_INT(json_object_get_int(at(step_status(&w, "a"), "attempts")), 1);
    world_free(&w);
}

int main(void)
{
    RUN(test_ttl);
    RUN(test_history);
    RUN(test_terminal_generation);
    RUN(test_sweep);
    RUN(test_broken_snapshot);
    RUN(test_attempts_of_a_quick_success);
    return check_finish();
}
