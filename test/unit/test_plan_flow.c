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
 *   message TEXT        status.message == TEXT (the rest of the command) */
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
    if (!strcmp(verb, "settle"))
        settle(w);
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
    char cmds[2048];
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
    return check_finish();
}
