/* plan_run over whole runs: a table of scripts, each played under both
 * failure policies, through every phase transition (Running -> Succeeded,
 * -> Failing -> Failed, -> Cancelling -> Cancelled, deadline, finally
 * failures, cancel/failure races). Every plan along the way goes through
 * the harness checks (no repeated write, nothing but finally created
 * while Failing/Cancelling, terminal only once children are gone). */
#define TEST_PLAN_HARNESS_ONLY
#include "test_plan.c"

/* a -> (b, c); b -> d; c -> e; finally f -> g */
#define DAG                                                                                        \
    "{'failurePolicy':'%s','activeDeadlineSeconds':600,'steps':[{'name':'a','image':'x'},"         \
    "{'name':'b','image':'x','dependsOn':['a']},{'name':'c','image':'x','dependsOn':['a']},"       \
    "{'name':'d','image':'x','dependsOn':['b']},{'name':'e','image':'x','dependsOn':['c']}],"      \
    "'finally':[{'name':'f','image':'x'},{'name':'g','image':'x','dependsOn':['f']}]}"

/* A script is a list of commands separated by ';':
 *   settle              plan + apply until nothing is left to write
 *   run S | ok S        S's pod starts | exits 0 and its Job completes
 *   fail S N            S's pod exits N: FailureTarget + Failed
 *   target S N          S's pod exits N: FailureTarget only
 *   final S             S's Job gets Failed after FailureTarget
 *   gone                deleting pods and Jobs vanish (GC done)
 *   cancel N            spec.cancel = N (0 or 1)
 *   wait N              now += N seconds
 *   vanish S            S's Job is deleted by someone else
 *   phase P | reason R | current S | progress X | job S N | latched N
 *   step S=P            checks (job: a Job exists for S, N = 0 or 1)
 *   message TEXT        status.message == TEXT (the rest of the command)
 *   okmsg S TEXT        ok S, its container's termination message TEXT
 *   nopod S             S's pods vanish (deleted by hand)
 *   args S TEXT         S's Job's container args, joined by ' ', == TEXT
 *   sres S N=V          status.steps[S].results has N with value V
 *   res N=V             status.results has N with value V
 *   sreason S R         status.steps[S].reason == R */
struct script {
    const char *name;
    int policies; /* bit 0 FailFast, bit 1 Continue */
    const char *cmds;
};

#define FF 1
#define CONT 2
#define BOTH 3

static const struct script scripts[] = {
    {"all succeed", BOTH,
     "settle; job a 1; job b 0; run a; settle; current a; ok a; settle; job b 1; job c 1;"
     "run b; run c; settle; ok b; ok c; settle; job f 0; ok d; settle; job f 0; ok e; settle;"
     "phase Running; job f 1; job g 0; ok f; settle; ok g; settle; phase Succeeded;"
     "reason Succeeded; message all 7 steps succeeded; progress 7/7; current "},
    {"fail-fast: b fails while c runs; c torn down, finally once it is gone", FF,
     "settle; ok a; settle; run b; run c; settle; fail b 3; settle; phase Failing;"
     "reason StepFailed; message step \"b\" failed: exit code 3 (Error): boom; current b;"
     "step b=Failed; step c=Cancelled; step d=Skipped; step e=Skipped; job f 0; progress 5/7;"
     "gone; settle; job f 1; phase Failing; ok f; settle; ok g; settle; phase Failed;"
     "reason StepFailed; current b; step f=Succeeded; step g=Succeeded"},
    {"continue: b fails, c's branch finishes, d skipped", CONT,
     "settle; ok a; settle; run b; run c; settle; fail b 3; settle; phase Failing;"
     "reason StepFailed; step d=Skipped; step c=Running; current c; ok c; settle; job e 1;"
     "job f 0; current e;"
     "ok e; settle; phase Failing; job f 1; ok f; settle; ok g; settle; phase Failed;"
     "reason StepFailed; message step \"b\" failed: exit code 3 (Error): boom;"
     "step c=Succeeded; step e=Succeeded; step d=Skipped; current b"},
    {"cancel while b and c run; reverting spec.cancel does nothing", BOTH,
     "settle; ok a; settle; run b; run c; settle; cancel 1; settle; phase Cancelling;"
     "reason Cancelled; step b=Cancelled; step c=Cancelled; step d=Skipped; job f 0;"
     "latched 1; cancel 0; settle; phase Cancelling; latched 1; gone; settle; job f 1; ok f; "
     "settle; ok g; settle;"
     "phase Cancelled; reason Cancelled; message run was cancelled"},
    {"run deadline while b runs", BOTH,
     "settle; ok a; settle; run b; wait 599; settle; phase Running; wait 1; settle;"
     "phase Failing; reason DeadlineExceeded;"
     "message run exceeded its deadline of 600s (activeDeadlineSeconds);"
     "step b=Cancelled; step c=Cancelled; gone; settle; ok f; settle; ok g; settle;"
     "phase Failed; reason DeadlineExceeded"},
    {"a finally step fails after main success", BOTH,
     "settle; ok a; settle; ok b; ok c; settle; ok d; ok e; settle; fail f 1; settle;"
     "step g=Skipped; phase Failed; reason StepFailed; current f;"
     "message step \"f\" failed: exit code 1 (Error): boom"},
    {"cancel while finally runs: finally continues, then Cancelled", BOTH,
     "settle; ok a; settle; ok b; ok c; settle; ok d; ok e; settle; run f; settle; cancel 1;"
     "settle; phase Cancelling; step f=Running; ok f; settle; job g 1; ok g; settle;"
     "phase Cancelled; step f=Succeeded; step g=Succeeded"},
    {"failure first, then cancel: the failure decides", BOTH,
     "settle; ok a; settle; run b; run c; settle; fail b 2; settle; cancel 1; settle;"
     "phase Failing; step c=Cancelled; gone; settle; ok f; settle; ok g; settle; phase Failed;"
     "reason StepFailed"},
    {"cancel first, then a torn-down step fails: still Cancelled", BOTH,
     "settle; ok a; settle; run b; settle; cancel 1; settle; fail b 143; settle;"
     "step b=Cancelled; gone; settle; fail f 1; settle; phase Cancelled; reason Cancelled"},
    {"FailureTarget starts the teardown; finally waits for Failed", FF,
     "settle; ok a; settle; run b; run c; settle; target b 7; settle; phase Failing;"
     "step b=Failed; step c=Cancelled; gone; settle; job f 0; final b; settle; job f 1;"
     "message step \"b\" failed: exit code 7 (Error): boom"},
    {"the first step fails: nothing else starts, finally runs", BOTH,
     "settle; fail a 1; settle; step b=Skipped; step e=Skipped; job b 0; job f 1; ok f;"
     "settle; ok g; settle; phase Failed; progress 7/7"},
    {"failure and deadline seen in the same pass: the failure wins", BOTH,
     "settle; ok a; settle; run b; run c; settle; wait 600; fail b 3; settle; phase Failing;"
     "reason StepFailed; step c=Cancelled"},
    {"failure and cancel seen in the same pass: the failure wins", BOTH,
     "settle; ok a; settle; run b; run c; settle; cancel 1; fail b 3; settle; phase Failing;"
     "reason StepFailed"},
    {"deadline and cancel seen in the same pass: the deadline wins", BOTH,
     "settle; ok a; settle; run b; settle; wait 600; cancel 1; settle; phase Failing;"
     "reason DeadlineExceeded"},
    {"a Job deleted behind our back fails its step", FF,
     "settle; ok a; settle; run b; settle; vanish b; settle; step b=Failed; phase Failing;"
     "message step \"b\" failed: JobDeleted: job \"r1-b\" was deleted before the step "
     "finished"},
};

static void nopod(struct world *w, const char *step)
{
    struct plan_job *j = job_of(w, step);
    size_t o = 0;
    for (size_t i = 0; j && i < w->n_pods; i++)
        if (strcmp(w->pods[i].job, j->name) != 0)
            w->pods[o++] = w->pods[i];
    w->n_pods = o;
}

static const char *result_in(struct json_object *arr, const char *name)
{
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        if (!strcmp(str_at(e, "name"), name))
            return str_at(e, "value");
    }
    return NULL;
}

static void check_result(struct json_object *arr, const char *nv)
{
    char name[64];
    const char *eq = strchr(nv, '=');
    CHECK(eq != NULL);
    if (!eq)
        return;
    snprintf(name, sizeof name, "%.*s", (int)(eq - nv), nv);
    CHECK_STR(result_in(arr, name), eq + 1);
}

static void check_args(struct world *w, const char *step, const char *want)
{
    char name[WF_NAME_LEN];
    wf_job_name("r1", step, name);
    struct json_object *body = NULL;
    json_object_object_get_ex(w->bodies, name, &body);
    struct json_object *args = at(body, "spec.template.spec.containers.0.args");
    char got[512] = "";
    size_t o = 0;
    for (size_t i = 0; args && i < json_object_array_length(args) && o < sizeof got; i++)
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", i ? " " : "",
                              json_object_get_string(json_object_array_get_idx(args, i)));
    CHECK_STR(got, want);
}

static void vanish(struct world *w, const char *step)
{
    struct plan_job *j = job_of(w, step);
    if (!j)
        return;
    size_t o = 0;
    for (size_t i = 0; i < w->n_pods; i++)
        if (strcmp(w->pods[i].job, j->name) != 0)
            w->pods[o++] = w->pods[i];
    w->n_pods = o;
    *j = w->jobs[--w->n_jobs];
}

/* Runs one command; returns 0, or -1 for a command the table misspelt. */
static int command(struct world *w, const char *cmd)
{
    char verb[16] = "", arg[64] = "";
    int n = 0, used = 0;
    if (sscanf(cmd, " %15s %n", verb, &used) < 1)
        return 0;
    const char *rest = cmd + used;
    sscanf(rest, "%63s %d", arg, &n);
    const char *text = rest; /* after the first argument */
    while (*text && *text != ' ')
        text++;
    while (*text == ' ')
        text++;
    if (!strcmp(verb, "settle"))
        settle(w);
    else if (!strcmp(verb, "okmsg")) {
        sim_ok(w, arg);
        struct plan_pod *p = pod_of(w, arg);
        if (p)
            p->result = text; /* lives as long as the script's buffer */
    } else if (!strcmp(verb, "nopod"))
        nopod(w, arg);
    else if (!strcmp(verb, "args"))
        check_args(w, arg, text);
    else if (!strcmp(verb, "sres"))
        check_result(at(step_status(w, arg), "results"), text);
    else if (!strcmp(verb, "res"))
        check_result(at(status(w), "results"), arg);
    else if (!strcmp(verb, "sreason"))
        CHECK_STR(str_at(step_status(w, arg), "reason"), text);
    else if (!strcmp(verb, "run"))
        sim_running(w, arg);
    else if (!strcmp(verb, "ok"))
        sim_ok(w, arg);
    else if (!strcmp(verb, "fail") || !strcmp(verb, "target"))
        sim_fail(w, arg, n, "boom\n", verb[0] == 't');
    else if (!strcmp(verb, "final")) {
        struct plan_job *fj = job_of(w, arg);
        CHECK(fj != NULL);
        if (fj)
            fj->failed = 1;
    } else if (!strcmp(verb, "gone"))
        sim_gone(w);
    else if (!strcmp(verb, "cancel"))
        sim_cancel(w, atoi(arg));
    else if (!strcmp(verb, "wait"))
        w->now += atoi(arg) * SEC;
    else if (!strcmp(verb, "vanish"))
        vanish(w, arg);
    else if (!strcmp(verb, "phase"))
        CHECK_STR(phase(w), arg);
    else if (!strcmp(verb, "reason"))
        CHECK_STR(cond(w, "Succeeded", "reason"), arg);
    else if (!strcmp(verb, "message"))
        CHECK_STR(str_at(status(w), "message"), rest);
    else if (!strcmp(verb, "current"))
        CHECK_STR(str_at(status(w), "currentStep") ? str_at(status(w), "currentStep") : "", arg);
    else if (!strcmp(verb, "latched"))
        CHECK_INT(json_object_get_boolean(at(status(w), "cancelRequested")), atoi(arg));
    else if (!strcmp(verb, "progress"))
        CHECK_STR(str_at(status(w), "progress"), arg);
    else if (!strcmp(verb, "job"))
        CHECK_INT(job_of(w, arg) != NULL, n);
    else if (!strcmp(verb, "step") && strchr(arg, '=')) {
        char *eq = strchr(arg, '=');
        *eq = '\0';
        CHECK_STR(step_phase(w, arg), eq + 1);
    } else
        return -1;
    return 0;
}

static void check_kstatus(struct world *w)
{
    const char *ph = phase(w);
    if (!strcmp(ph, "Failed") || !strcmp(ph, "Cancelled")) {
        CHECK_STR(cond(w, "Succeeded", "status"), "False");
        CHECK_STR(cond(w, "Stalled", "status"), "True");
        CHECK_STR(cond(w, "Ready", "status"), "False");
        CHECK(at(status(w), "completionTime") != NULL);
    } else if (!strcmp(ph, "Succeeded")) {
        CHECK_STR(cond(w, "Succeeded", "status"), "True");
        CHECK_STR(cond(w, "Ready", "status"), "True");
        CHECK_STR(cond(w, "Reconciling", "status"), "False");
        CHECK_STR(cond(w, "Stalled", "status"), "False");
    } else {
        CHECK_STR(cond(w, "Succeeded", "status"), "Unknown");
        CHECK_STR(cond(w, "Reconciling", "status"), "True");
        CHECK_STR(cond(w, "Ready", "status"), "False");
    }
}

/* seed 0: every write applied, repeats checked; else writes get lost */
static void play_spec(const char *name, const char *policy, const char *spec, const char *run_spec,
                      const char *script, uint32_t seed)
{
    char cmds[4096];
    snprintf(cmds, sizeof cmds, "%s", script);
    struct world w;
    world_init(&w, spec, run_spec);
    w.drop = seed;
    w.check_repeats = seed == 0;
    int before = check_failures;
    char *save = NULL;
    for (char *c = strtok_r(cmds, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
        int fails = check_failures;
        if (command(&w, c) < 0)
            CHECK(!"unknown command");
        check_kstatus(&w);
        if (check_failures != fails)
            fprintf(stderr, "  at \"%s\"\n", c);
    }
    if (check_failures != before)
        fprintf(stderr, "  in script \"%s\" (%s, seed %u)\n", name, policy, seed);
    world_free(&w);
}

static void play(const struct script *sc, const char *policy, uint32_t seed)
{
    char spec[1024];
    snprintf(spec, sizeof spec, DAG, policy);
    play_spec(sc->name, policy, spec, NULL, sc->cmds, seed);
}

/* when: a -> deploy (when env in [prod]) -> notify; a -> b; finally f
 * (when env notin [prod]). A false when skips the step, not its
 * dependents (Tekton's rule), and the run still succeeds. */
#define WHEN_DAG                                                                                   \
    "{'params':[{'name':'env','default':'dev'}],'steps':[{'name':'a','image':'x'},"                \
    "{'name':'deploy','image':'x','dependsOn':['a'],'when':[{'input':'$(params.env)',"             \
    "'operator':'in','values':['prod','staging']}]},"                                              \
    "{'name':'notify','image':'x','dependsOn':['deploy']},{'name':'b','image':'x',"                \
    "'dependsOn':['a']}],'finally':[{'name':'f','image':'x','when':[{'input':'$(params.env)',"     \
    "'operator':'notin','values':['prod']}]}]}"

static void test_when(void)
{
    static const char *dev =
        "settle; job deploy 0; ok a; settle; step deploy=Skipped; reason Running; job deploy 0;"
        "job notify 1; job b 1; ok notify; ok b; settle; job f 1; ok f; settle;"
        "phase Succeeded; reason Succeeded; message 4 steps succeeded, 1 skipped by when;"
        "progress 5/5";
    static const char *prod =
        "settle; ok a; settle; job deploy 1; job notify 0; ok deploy; ok b; settle;"
        "job notify 1; ok notify; settle; step f=Skipped; job f 0; phase Succeeded;"
        "message 4 steps succeeded, 1 skipped by when";
    for (uint32_t seed = 0; seed <= 20; seed++) {
        uint32_t sd = seed * 2654435761u;
        play_spec("when false: skipped, dependents run", "-", WHEN_DAG, NULL, dev, sd);
        play_spec("when true: runs; finally's when false", "-", WHEN_DAG,
                  "{'workflowRef':{'name':'wf'},'params':[{'name':'env','value':'prod'}]}", prod,
                  sd);
    }
}

/* results: build writes them; deploy reads them in its args and its
 * when; check reads one through an intermediate step; the finally step
 * reads phases, the run's status and a result; the run publishes one. */
#define RESULTS_DAG                                                                                \
    "{'steps':[{'name':'build','image':'x','results':[{'name':'digest'},{'name':'tag',"            \
    "'default':'latest'}]},{'name':'deploy','image':'x','dependsOn':['build'],'args':["            \
    "'--image=app@$(steps.build.results.digest)','$(steps.build.results.tag)'],'when':[{"          \
    "'input':'$(steps.build.results.tag)','operator':'notin','values':['skip']}]},"                \
    "{'name':'check','image':'x','dependsOn':['deploy'],'args':['$(steps.build.results.digest)']}" \
    "],'finally':[{'name':'notify','image':'x','args':['$(run.status)','$(steps.deploy.phase)',"   \
    "'$(steps.build.results.digest)']}],'results':[{'name':'image','value':"                       \
    "'app@$(steps.build.results.digest)'}]}"

static void test_results(void)
{
    static const struct {
        const char *name, *script;
    } cases[] = {
        {"a result drives args, when, a finally step and status.results",
         "settle; run build; settle; okmsg build {\"digest\":\"sha256:1$x\",\"n\":3}; settle;"
         "step build=Succeeded; sres build digest=sha256:1$x; sres build tag=latest;"
         "args deploy --image=app@sha256:1$$x latest; ok deploy; settle;"
         "args check sha256:1$$x; ok check; settle; args notify Succeeded Succeeded sha256:1$$x;"
         "ok notify; settle; phase Succeeded; res image=app@sha256:1$x"},
        {"a result that is not a string is kept as its JSON text",
         "settle; okmsg build {\"digest\":[1,\"a\"],\"tag\":7}; settle; sres build tag=7;"
         "args deploy --image=app@[1,\"a\"] 7"},
        {"a result in when: false skips the step; its dependents still run",
         "settle; okmsg build {\"digest\":\"d\",\"tag\":\"skip\"}; settle; step deploy=Skipped;"
         "sreason deploy WhenConditionFalse; job check 1; ok check; settle; step check=Succeeded;"
         "args notify Succeeded Skipped d; ok notify; settle; phase Succeeded;"
         "res image=app@d"},
        {"a declared result not written fails the step: ResultMissing",
         "settle; okmsg build {\"tag\":\"t\"}; settle; step build=Failed;"
         "sreason build ResultMissing; phase Failing; step deploy=Skipped; job deploy 0;"
         "args notify Failed Skipped ; ok notify; settle; phase Failed;"
         "message step \"build\" failed: ResultMissing: step \"build\" did not write its result "
         "\"digest\" (no such key in its termination message of 11 bytes, and no default)"},
        {"a termination message that is not a JSON object: ResultMissing",
         "settle; okmsg build digest=1; settle; step build=Failed; sreason build ResultMissing"},
        {"trailing bytes after the object: ResultMissing",
         "settle; okmsg build {\"digest\":\"1\"} x; settle; sreason build ResultMissing"},
        {"the pod is gone before its results were read: a LIST, then ResultMissing",
         "settle; run build; settle; ok build; nopod build; settle; step build=Failed;"
         "sreason build ResultMissing; job deploy 0"},
    };
    for (uint32_t seed = 0; seed <= 20; seed++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            play_spec(cases[i].name, "-", RESULTS_DAG, NULL, cases[i].script, seed * 2654435761u);
}

/* Tekton's rule for a step skipped by its when: its dependents run,
 * unless they read one of its results (they would read a value that was
 * never made): those are skipped too, and so are their own readers. */
#define GATE_DAG                                                                                   \
    "{'params':[{'name':'env','default':'dev'}],'steps':[{'name':'gate','image':'x','results':["   \
    "{'name':'r'}],'when':[{'input':'$(params.env)','operator':'in','values':['prod']}]},"         \
    "{'name':'reader','image':'x','dependsOn':['gate'],'args':['$(steps.gate.results.r)']},"       \
    "{'name':'other','image':'x','dependsOn':['gate']},{'name':'last','image':'x',"                \
    "'dependsOn':['reader','other']}]}"

static void test_results_of_skipped(void)
{
    static const char *script =
        "settle; step gate=Skipped; step reader=Skipped; sreason reader WhenConditionFalse;"
        "job reader 0; job other 1; ok other; settle; job last 1; ok last; settle;"
        "phase Succeeded; message 2 steps succeeded, 2 skipped by when";
    for (uint32_t seed = 0; seed <= 20; seed++)
        play_spec("readers of a when-skipped step's result are skipped", "-", GATE_DAG, NULL,
                  script, seed * 2654435761u);
}

/* A dependent's Job is built only from results the run's status holds:
 * the plan that reads them writes them, and creates nothing that uses
 * them. */
static void test_results_wait_for_status(void)
{
    struct world w;
    world_init(&w, RESULTS_DAG, NULL);
    settle(&w);
    sim_ok(&w, "build");
    pod_of(&w, "build")->result = "{\"digest\":\"d1\"}";
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 0);
    CHECK_INT(plan_count(&w.plan, PLAN_PATCH_STATUS), 1);
    CHECK_INT(w.plan.awaits_status, 1); /* deploy waits for this write */
    apply(&w);
    CHECK_STR(step_phase(&w, "build"), "Succeeded");
    plan(&w);
    CHECK(find_action(&w.plan, PLAN_CREATE_JOB, "r1-deploy") != NULL);
    CHECK_INT(w.plan.awaits_status, 0);
    world_free(&w);
}

/* The pod watch lags the Job watch: the Job says Complete while the
 * cached pod has not terminated yet. The step waits as Running (never
 * Succeeded without its results, never a LIST while the pod is known). */
static void test_results_pod_lags(void)
{
    struct world w;
    world_init(&w, RESULTS_DAG, NULL);
    settle(&w);
    sim_running(&w, "build");
    settle(&w);
    sim_ok(&w, "build");
    struct plan_pod *p = pod_of(&w, "build");
    p->terminated = 0;
    p->phase = PLAN_POD_RUNNING;
    p->result = NULL;
    plan(&w);
    CHECK_INT(plan_count(&w.plan, PLAN_LIST_PODS), 0);
    CHECK_INT(plan_count(&w.plan, PLAN_CREATE_JOB), 0);
    CHECK(w.plan.requeue_after_ms > 0);
    apply(&w);
    CHECK_STR(step_phase(&w, "build"), "Running");
    p->terminated = 1;
    p->phase = PLAN_POD_SUCCEEDED;
    p->result = "{\"digest\":\"d2\"}";
    settle(&w);
    CHECK_STR(step_phase(&w, "build"), "Succeeded");
    CHECK_STR(result_in(at(step_status(&w, "build"), "results"), "digest"), "d2");
    world_free(&w);
}

/* matrix: test fans out over 3 x 2 (a static list and a param holding a
 * JSON array), fan over a result of list with maxParallel 2; after reads
 * test's results (an array in combination order). */
#define MATRIX_DAG                                                                                 \
    "{'failurePolicy':'%s','params':[{'name':'vs','default':'[\\\"1\\\",2]'}],'steps':[{'name':"   \
    "'list','image':'x','results':[{'name':'targets'}]},{'name':'test','image':'x','dependsOn':"   \
    "['list'],'matrix':{'params':[{'name':'os','values':['linux','mac','win']},{'name':'v',"       \
    "'values':'$(params.vs)'}]},'args':['$(matrix.os)-$(matrix.v)'],'results':[{'name':'out'}]},"  \
    "{'name':'fan','image':'x','dependsOn':['list'],'matrix':{'params':[{'name':'t','values':"     \
    "'$(steps.list.results.targets)'}],'maxParallel':2},'args':['$(matrix.t)']},{'name':"          \
    "'after','image':'x','dependsOn':['test','fan'],'args':['$(steps.test.results.out)']}],"       \
    "'finally':[{'name':'f','image':'x'}]}"

#define LIST_OK "settle; okmsg list {\"targets\":[\"a\",\"b\",\"c\"]}; settle;"

static void test_matrix(void)
{
    static const struct {
        const char *name;
        int policies;
        const char *script;
    } cases[] = {
        {"a 3x2 and a result-driven fan-out, maxParallel 2", BOTH,
         "settle; job test-0 0; " LIST_OK "args test-0 linux-1; args test-1 linux-2;"
         "args test-2 mac-1; args test-5 win-2; job test-5 1; job fan-0 1; job fan-1 1; job fan-2 "
         "0;"
         "args fan-0 a; step test=Running; step test[4]=Running; ok fan-0; settle; job fan-2 1;"
         "args fan-2 c; ok fan-1; ok fan-2; okmsg test-0 {\"out\":\"r0\"};"
         "okmsg test-1 {\"out\":\"r1\"}; okmsg test-2 {\"out\":\"r2\"};"
         "okmsg test-3 {\"out\":\"r3\"}; okmsg test-4 {\"out\":\"r4\"}; settle; job after 0;"
         "step test=Running; okmsg test-5 {\"out\":\"r5\"}; settle; step test=Succeeded;"
         "step fan=Succeeded; sres test out=[\"r0\",\"r1\",\"r2\",\"r3\",\"r4\",\"r5\"];"
         "args after [\"r0\",\"r1\",\"r2\",\"r3\",\"r4\",\"r5\"]; ok after; settle; ok f;"
         "settle; phase Succeeded; progress 5/5"},
        {"fail-fast: one combination fails, its running siblings are torn down", FF,
         LIST_OK
         "run test-0; run test-1; run test-2; run fan-0; settle; fail test-3 3; settle;"
         "phase Failing; step test[3]=Failed; step test[0]=Cancelled; step test[2]=Cancelled;"
         "step test[4]=Cancelled; step test=Failed; step fan=Cancelled; step after=Skipped;"
         "message step \"test[3]\" failed: exit code 3 (Error): boom; job f 0; gone; settle;"
         "job test-0 0; job fan-0 0; job f 1; ok f; settle; phase Failed"},
        {"continue: the other combinations finish; dependents skipped", CONT,
         LIST_OK
         "fail test-3 3; settle; phase Failing; step test[4]=Running; step test=Running;"
         "okmsg test-0 {\"out\":\"r\"}; okmsg test-1 {\"out\":\"r\"}; okmsg test-2 {\"out\":\"r\"};"
         "okmsg test-4 {\"out\":\"r\"}; okmsg test-5 {\"out\":\"r\"}; ok fan-0; ok fan-1; settle;"
         "ok fan-2; settle; step test=Failed; step fan=Succeeded; step after=Skipped; ok f; settle;"
         "phase Failed"},
        {"values that are not a JSON array fail the step", FF,
         "settle; okmsg list {\"targets\":\"a,b\"}; settle; step fan=Failed; sreason fan "
         "InvalidMatrix;"
         "phase Failing"},
        {"an empty list: the step succeeds with no combination", BOTH,
         "settle; okmsg list {\"targets\":[]}; settle; step fan=Succeeded; job fan-0 0"},
    };
    static const char *const pol[] = {"FailFast", "Continue"};
    for (uint32_t seed = 0; seed <= 12; seed++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            for (int p = 0; p < 2; p++) {
                if (!(cases[i].policies & (1 << p)))
                    continue;
                char spec[2048];
                snprintf(spec, sizeof spec, MATRIX_DAG, pol[p]);
                play_spec(cases[i].name, pol[p], spec, NULL, cases[i].script, seed * 2654435761u);
            }
}

static void test_scripts(void)
{
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        if (scripts[i].policies & FF)
            play(&scripts[i], "FailFast", 0);
        if (scripts[i].policies & CONT)
            play(&scripts[i], "Continue", 0);
    }
}

/* Any subset of a plan's writes may be lost (the executor sends them
 * together): the same scripts must reach the same states. */
static void test_scripts_lossy(void)
{
    for (uint32_t seed = 1; seed <= 40; seed++)
        for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
            if (scripts[i].policies & FF)
                play(&scripts[i], "FailFast", seed * 2654435761u);
            if (scripts[i].policies & CONT)
                play(&scripts[i], "Continue", seed * 2654435761u);
        }
}

int main(void)
{
    RUN(test_scripts);
    RUN(test_scripts_lossy);
    RUN(test_when);
    RUN(test_results);
    RUN(test_results_of_skipped);
    RUN(test_results_wait_for_status);
    RUN(test_results_pod_lags);
    RUN(test_matrix);
    return check_finish();
}
