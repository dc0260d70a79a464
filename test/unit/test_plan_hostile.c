/* plan_run against a status someone else wrote (issue 10, "Bad input"): an
 * admin can patch the status subresource, and a CRD without a schema (or a
 * write straight to etcd) lets any JSON through. The plan must not crash,
 * must not act on Jobs or pods the run does not own because the status
 * names them, and must say what it corrected or refused in an Event. */
#define TEST_PLAN_HARNESS_ONLY
#include "test_plan.c"

/* What an admin's status write does to the cached run: a new rv. */
static void tamper(struct world *w, const char *key, struct json_object *v)
{
    json_object_object_add(status(w), key, v);
    json_object_put(w->applied_status); /* the status is not what was applied */
    w->applied_status = NULL;
    char rv[16];
    snprintf(rv, sizeof rv, "%d", ++w->rv);
    json_object_object_add(at(w->run, "metadata"), "resourceVersion", json_object_new_string(rv));
}

static void tamper_step(struct world *w, const char *step, const char *key, struct json_object *v)
{
    struct json_object *s = step_status(w, step);
    CHECK(s != NULL);
    if (s)
        json_object_object_add(s, key, v);
    tamper(w, "progress", json_object_new_string("tampered"));
}

static const struct plan_action *event(const struct plan *p, const char *reason)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->actions[i].kind == PLAN_EVENT && strcmp(p->actions[i].reason, reason) == 0)
            return &p->actions[i];
    return NULL;
}

/* A pod with the run's labels, of a Job that is not the run's. */
static struct plan_pod *foreign_pod(struct world *w, const char *name, const char *job,
                                    const char *job_uid)
{
    struct plan_pod *p = &w->pods[w->n_pods++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->uid, sizeof p->uid, "uid-%s", name);
    snprintf(p->controller_uid, sizeof p->controller_uid, "%s", job_uid);
    snprintf(p->step, sizeof p->step, "a");
    snprintf(p->job, sizeof p->job, "%s", job);
    p->phase = PLAN_POD_RUNNING;
    return p;
}

/* Members of the wrong JSON type: read as absent, never a crash (json-c
 * asserts on array calls made on non-arrays). */
static void test_wrong_types(void)
{
    struct world w;
    two_running(&w);
    tamper(&w, "steps", J("{'a':{'phase':'Running'}}"));
    tamper(&w, "conditions", J("'not a list'"));
    plan(&w);
    apply(&w);
    /* rebuilt from the observed Jobs */
    CHECK_STR(step_phase(&w, "a"), "Running");
    CHECK_STR(step_phase(&w, "b"), "Running");
    CHECK_STR(cond(&w, "Succeeded", "reason"), "Running");

    tamper_step(&w, "a", "phase", json_object_new_int(7));
    tamper_step(&w, "a", "attempts", json_object_new_string("x"));
    tamper_step(&w, "a", "exitCode", json_object_new_string("x"));
    tamper_step(&w, "b", "jobUID", json_object_new_int(12));
    plan(&w);
    apply(&w);
    CHECK_STR(step_phase(&w, "a"), "Running");
    CHECK_INT(json_object_get_int(at(step_status(&w, "a"), "attempts")), 1);
    CHECK(at(step_status(&w, "a"), "exitCode") == NULL);
    CHECK_STR(str_at(step_status(&w, "b"), "jobUID"), job_of(&w, "b")->uid);

    /* finished, then its conditions broken and its generation moved */
    sim_ok(&w, "a");
    sim_ok(&w, "b");
    settle(&w);
    sim_ok(&w, "c");
    settle(&w);
    sim_ok(&w, "fin");
    settle(&w);
    CHECK_STR(phase(&w), "Succeeded");
    tamper(&w, "conditions", J("{'type':'Succeeded'}"));
    sim_cancel(&w, 1);
    plan(&w);
    apply(&w);
    CHECK_STR(phase(&w), "Succeeded");
    world_free(&w);
}

/* status.steps[].jobUID set to another Job's uid: that Job's pods carry
 * the run's label, but they are not the run's: not deleted, not waited
 * for, not counted; the status is corrected and an Event says so. */
static void test_foreign_job_uid(void)
{
    struct world w;
    two_running(&w);
    char real[PLAN_UID_LEN];
    snprintf(real, sizeof real, "%s", job_of(&w, "a")->uid);
    foreign_pod(&w, "intruder-x1", "intruder", "uid-intruder");
    tamper_step(&w, "a", "jobUID", json_object_new_string("uid-intruder"));
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_DELETE_POD, "intruder-x1") == NULL);
    const struct plan_action *e = event(&w.plan, "StatusCorrected");
    CHECK(e != NULL);
    CHECK_STR(e ? e->type : NULL, "Warning");
    CHECK(e && strstr(e->message, "uid-intruder") && strstr(e->message, real));
    apply(&w);
    CHECK_STR(str_at(step_status(&w, "a"), "jobUID"), real);
    CHECK_INT(json_object_get_int(at(step_status(&w, "a"), "attempts")), 1);
    plan(&w); /* corrected: said once */
    CHECK(event(&w.plan, "StatusCorrected") == NULL);
    plan_release(&w.plan);

    /* The same uid, and the foreign Job's name, on a step whose Job is
     * gone: still not the run's, through a cancel and its teardown. */
    struct plan_job *a = job_of(&w, "a");
    *a = w.jobs[--w.n_jobs];
    for (size_t i = 0; i < w.n_pods; i++)
        if (strcmp(w.pods[i].job, "r1-a") == 0)
            w.pods[i].phase = PLAN_POD_SUCCEEDED;
    tamper_step(&w, "a", "jobUID", json_object_new_string("uid-intruder"));
    sim_cancel(&w, 1);
    settle(&w);
    CHECK(find_action(&w.applied, PLAN_DELETE_POD, "intruder-x1") == NULL);
    for (size_t i = 0; i < w.n_pods; i++)
        if (w.pods[i].deleting)
            w.pods[i].phase = PLAN_POD_FAILED;
    sim_gone(&w);
    settle(&w);
    CHECK(job_of(&w, "fin") != NULL); /* the intruder is not waited for */
    for (size_t i = 0; i < w.n_pods; i++)
        if (strcmp(w.pods[i].name, "intruder-x1") == 0) {
            CHECK(!w.pods[i].deleting && w.pods[i].phase == PLAN_POD_RUNNING);
            w.pods[i].phase = PLAN_POD_SUCCEEDED; /* for the harness's own busy() */
        }
    sim_ok(&w, "fin");
    settle(&w);
    CHECK_STR(phase(&w), "Cancelled");
    world_free(&w);
}

/* status.steps[].job set to a name the run never gives that step's Job.
 * On a running step the run's own Job wins and the status is corrected.
 * On a step not started yet the claim that it had a Job is kept (a step
 * never gets a second Job): it fails JobDeleted, saying why; the foreign
 * Job's pods are not the run's either way. An Event says what was seen. */
static void test_foreign_job_name(void)
{
    struct world w;
    two_running(&w);
    foreign_pod(&w, "intruder-x2", "intruder", "uid-intruder");
    tamper_step(&w, "b", "job", json_object_new_string("intruder"));
    tamper_step(&w, "b", "jobUID", json_object_new_string("uid-intruder"));
    plan(&w);
    const struct plan_action *e = event(&w.plan, "StatusCorrected");
    CHECK(e && strstr(e->message, "\"intruder\"") && strstr(e->message, "\"r1-b\""));
    CHECK(find_action(&w.plan, PLAN_DELETE_POD, "intruder-x2") == NULL);
    apply(&w);
    CHECK_STR(step_phase(&w, "b"), "Running");
    CHECK_STR(str_at(step_status(&w, "b"), "job"), "r1-b");
    CHECK_STR(str_at(step_status(&w, "b"), "jobUID"), job_of(&w, "b")->uid);
    CHECK_STR(phase(&w), "Running");

    tamper_step(&w, "c", "job", json_object_new_string("intruder"));
    tamper_step(&w, "c", "jobUID", json_object_new_string("uid-intruder"));
    plan(&w);
    CHECK(event(&w.plan, "StatusCorrected") != NULL);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, "r1-c") == NULL);
    CHECK(find_action(&w.plan, PLAN_DELETE_POD, "intruder-x2") == NULL);
    apply(&w);
    CHECK_STR(step_phase(&w, "c"), "Failed");
    CHECK_STR(str_at(step_status(&w, "c"), "reason"), "JobDeleted");
    CHECK_CONTAINS(str_at(step_status(&w, "c"), "message"), "named job \"intruder\"");
    CHECK(str_at(step_status(&w, "c"), "jobUID") == NULL);
    CHECK_STR(phase(&w), "Failing");
    settle(&w);
    CHECK(find_action(&w.applied, PLAN_DELETE_POD, "intruder-x2") == NULL);
    for (size_t i = 0; i < w.n_pods; i++)
        if (strcmp(w.pods[i].name, "intruder-x2") == 0)
            CHECK(!w.pods[i].deleting);
    world_free(&w);
}

/* The phase set to Succeeded by hand while Jobs run: a terminal phase
 * never changes, so the run's Jobs are torn down (Foreground, by uid), a
 * Warning Event names each one, and the conditions, which still said
 * Running, are made to agree with the phase (reason PhaseSetByHand), once. */
static void test_terminal_by_hand(void)
{
    struct world w;
    two_running(&w);
    foreign_pod(&w, "intruder-x3", "intruder", "uid-intruder");
    tamper(&w, "phase", json_object_new_string("Succeeded"));
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_DELETE_JOB, "r1-a") != NULL);
    CHECK(find_action(&w.plan, PLAN_DELETE_JOB, "r1-b") != NULL);
    CHECK(find_action(&w.plan, PLAN_DELETE_POD, "intruder-x3") == NULL);
    CHECK(find_action(&w.plan, PLAN_PATCH_STATUS, NULL) == NULL); /* not while they run */
    CHECK_INT(plan_count(&w.plan, PLAN_EVENT), 2);
    const struct plan_action *e = event(&w.plan, "StrayJobDeleted");
    CHECK(e && strstr(e->message, "ended Succeeded") && e->type[0] == 'W');
    apply(&w);
    plan(&w); /* deleting: nothing new, no second Event */
    CHECK(event(&w.plan, "StrayJobDeleted") == NULL);
    CHECK(find_action(&w.plan, PLAN_DELETE_JOB, NULL) == NULL);
    CHECK(find_action(&w.plan, PLAN_PATCH_STATUS, NULL) == NULL);
    CHECK_STR(phase(&w), "Succeeded");
    /* The Jobs and their pods gone, the conditions follow the phase, once. */
    for (size_t i = 0; i < w.n_jobs; i++)
        if (strcmp(w.jobs[i].controller_uid, "uid-r1") == 0 || w.jobs[i].deleting)
            w.jobs[i--] = w.jobs[--w.n_jobs];
    for (size_t i = 0; i < w.n_pods; i++)
        if (strcmp(w.pods[i].name, "intruder-x3") != 0)
            w.pods[i--] = w.pods[--w.n_pods];
        else
            w.pods[i].phase = PLAN_POD_SUCCEEDED; /* not the run's; for the harness's busy() */
    plan(&w);
    e = event(&w.plan, "StatusCorrected");
    CHECK(e && strstr(e->message, "set to Succeeded by another writer"));
    apply(&w);
    CHECK_STR(cond(&w, "Succeeded", "status"), "True");
    CHECK_STR(cond(&w, "Succeeded", "reason"), "PhaseSetByHand");
    CHECK_STR(cond(&w, "Reconciling", "status"), "False");
    CHECK(at(status(&w), "completionTime") != NULL);
    plan(&w);
    CHECK(event(&w.plan, "StatusCorrected") == NULL);
    CHECK(find_action(&w.plan, PLAN_PATCH_STATUS, NULL) == NULL);
    CHECK_STR(phase(&w), "Succeeded");
    world_free(&w);
}

/* A phase that is no phase (a number, an unknown word) on a run that has
 * its snapshot: it resumes from the snapshot (no second start from the
 * live Workflow, no Job made again), with an Event; a finished run finds
 * itself finished again. */
static void test_phase_not_a_phase(void)
{
    struct world w;
    two_running(&w);
    tamper(&w, "phase", json_object_new_int(7));
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, NULL) == NULL);
    const struct plan_action *e = event(&w.plan, "StatusCorrected");
    CHECK(e && strstr(e->message, "status.phase was 7") && e->type[0] == 'W');
    apply(&w);
    CHECK_STR(phase(&w), "Running");
    CHECK_STR(step_phase(&w, "a"), "Running");
    sim_ok(&w, "a");
    sim_ok(&w, "b");
    settle(&w);
    sim_ok(&w, "c");
    settle(&w);
    sim_ok(&w, "fin");
    settle(&w);
    CHECK_STR(phase(&w), "Succeeded");
    tamper(&w, "phase", json_object_new_string("Done"));
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, NULL) == NULL);
    CHECK(event(&w.plan, "StatusCorrected") != NULL);
    apply(&w);
    settle(&w);
    CHECK_STR(phase(&w), "Succeeded");
    CHECK_STR(step_phase(&w, "c"), "Succeeded");
    world_free(&w);
}

/* A Job and a pod with the run's label that are not its children: left
 * alone, and named in the ForeignChildren condition while they exist,
 * with one Event when the refusal starts. */
static void test_foreign_children_reported(void)
{
    struct world w;
    two_running(&w);
    struct plan_job *j = &w.jobs[w.n_jobs++];
    memset(j, 0, sizeof *j);
    snprintf(j->name, sizeof j->name, "r1-intruder");
    snprintf(j->uid, sizeof j->uid, "uid-intruder-job");
    snprintf(j->step, sizeof j->step, "a");
    foreign_pod(&w, "lurker-x1", "lurker", "uid-lurker");
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_DELETE_JOB, "r1-intruder") == NULL);
    CHECK(find_action(&w.plan, PLAN_DELETE_POD, "lurker-x1") == NULL);
    const struct plan_action *e = event(&w.plan, "ForeignChildrenIgnored");
    CHECK(e && e->type[0] == 'W' && strstr(e->message, "Job r1-intruder") &&
          strstr(e->message, "pod lurker-x1"));
    apply(&w);
    CHECK_STR(cond(&w, "ForeignChildren", "status"), "True");
    CHECK_STR(cond(&w, "ForeignChildren", "reason"), "NotOwned");
    CHECK_STR(phase(&w), "Running");
    sim_ok(&w, "a");
    plan(&w); /* a new status write: the refusal stands, no second Event */
    CHECK(event(&w.plan, "ForeignChildrenIgnored") == NULL);
    apply(&w);
    CHECK_STR(cond(&w, "ForeignChildren", "status"), "True");
    /* The intruders go. */
    for (size_t i = 0; i < w.n_jobs; i++)
        if (strcmp(w.jobs[i].name, "r1-intruder") == 0)
            w.jobs[i] = w.jobs[--w.n_jobs];
    for (size_t i = 0; i < w.n_pods; i++)
        if (strcmp(w.pods[i].name, "lurker-x1") == 0)
            w.pods[i] = w.pods[--w.n_pods];
    settle(&w);
    CHECK_STR(cond(&w, "ForeignChildren", "status"), "False");
    world_free(&w);
}

/* status.message rewritten by someone else (1 MiB, say): the operator
 * writes it and the Succeeded condition's message as one text, so the
 * mismatch shows; the next write restores it, with one Event. */
static void test_message_tampered(void)
{
    struct world w;
    two_running(&w);
    char *big = malloc(1 << 20);
    CHECK(big != NULL);
    memset(big, 'x', (1 << 20) - 1);
    big[(1 << 20) - 1] = '\0';
    tamper(&w, "message", json_object_new_string(big));
    free(big);
    plan(&w);
    const struct plan_action *e = event(&w.plan, "StatusCorrected");
    CHECK(e && strstr(e->message, "status.message had been changed") &&
          strstr(e->message, "1048575 bytes"));
    apply(&w);
    CHECK(strlen(str_at(status(&w), "message")) < 2048);
    sim_ok(&w, "a");
    plan(&w);
    CHECK(event(&w.plan, "StatusCorrected") == NULL); /* restored: no second Event */
    world_free(&w);
}

int main(void)
{
    RUN(test_wrong_types);
    RUN(test_foreign_job_uid);
    RUN(test_foreign_job_name);
    RUN(test_terminal_by_hand);
    RUN(test_phase_not_a_phase);
    RUN(test_foreign_children_reported);
    RUN(test_message_tampered);
    return check_finish();
}
