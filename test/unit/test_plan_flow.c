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

enum op {
    END = 0,
    SETTLE,   /* plan + apply to a fixpoint */
    RUNNING,  /* s: its pod starts */
    OK,       /* s: its pod exits 0, the Job completes */
    FAIL,     /* s: its pod exits n, FailureTarget + Failed */
    FAIL_TGT, /* s: its pod exits n, FailureTarget only */
    FAIL_FIN, /* s: the Job gets Failed after FailureTarget */
    GONE,     /* deleting pods and Jobs vanish */
    CANCEL,   /* spec.cancel = n */
    ADVANCE,  /* now += n seconds */
    VANISH,   /* s: its Job disappears (deleted by someone) */
    PHASE,    /* run phase == s */
    STEP,     /* "name=Phase" */
    REASON,   /* Succeeded condition reason == s */
    MESSAGE,  /* status.message == s */
    CURRENT,  /* currentStep == s ("" for none) */
    HAS_JOB,  /* n: a Job exists for step s */
    PROGRESS, /* progress == s */
};

struct sop {
    enum op op;
    const char *s;
    long long n;
};

struct script {
    const char *name;
    int policies; /* bit 0 FailFast, bit 1 Continue */
    struct sop ops[48];
};

#define BOTH 3
#define FF 1
#define CONT 2

static const struct script scripts[] = {
    {"all succeed",
     BOTH,
     {{SETTLE},
      {HAS_JOB, "a", 1},
      {HAS_JOB, "b", 0},
      {RUNNING, "a"},
      {SETTLE},
      {CURRENT, "a"},
      {OK, "a"},
      {SETTLE},
      {HAS_JOB, "b", 1},
      {HAS_JOB, "c", 1},
      {RUNNING, "b"},
      {RUNNING, "c"},
      {SETTLE},
      {OK, "b"},
      {OK, "c"},
      {SETTLE},
      {HAS_JOB, "f", 0},
      {OK, "d"},
      {SETTLE},
      {HAS_JOB, "f", 0},
      {OK, "e"},
      {SETTLE},
      {PHASE, "Running"},
      {HAS_JOB, "f", 1},
      {HAS_JOB, "g", 0},
      {OK, "f"},
      {SETTLE},
      {OK, "g"},
      {SETTLE},
      {PHASE, "Succeeded"},
      {REASON, "Succeeded"},
      {MESSAGE, "all 7 steps succeeded"},
      {PROGRESS, "7/7"},
      {CURRENT, ""}}},
    {"fail-fast: b fails while c runs; c torn down, finally after it is gone",
     FF,
     {{SETTLE},
      {OK, "a"},
      {SETTLE},
      {RUNNING, "b"},
      {RUNNING, "c"},
      {SETTLE},
      {FAIL, "b", 3},
      {SETTLE},
      {PHASE, "Failing"},
      {REASON, "StepFailed"},
      {MESSAGE, "step \"b\" failed: exit code 3 (Error): boom"},
      {CURRENT, "b"},
      {STEP, "b=Failed"},
      {STEP, "c=Cancelled"},
      {STEP, "d=Skipped"},
      {STEP, "e=Skipped"},
      {HAS_JOB, "f", 0},
      {PROGRESS, "5/7"},
      {GONE},
      {SETTLE},
      {HAS_JOB, "f", 1},
      {PHASE, "Failing"},
      {OK, "f"},
      {SETTLE},
      {OK, "g"},
      {SETTLE},
      {PHASE, "Failed"},
      {REASON, "StepFailed"},
      {CURRENT, "b"},
      {STEP, "f=Succeeded"},
      {STEP, "g=Succeeded"}}},
    {"continue: b fails, c's branch finishes, d skipped",
     CONT,
     {{SETTLE},
      {OK, "a"},
      {SETTLE},
      {RUNNING, "b"},
      {RUNNING, "c"},
      {SETTLE},
      {FAIL, "b", 3},
      {SETTLE},
      {PHASE, "Running"},
      {REASON, "StepFailed"},
      {STEP, "d=Skipped"},
      {STEP, "c=Running"},
      {OK, "c"},
      {SETTLE},
      {HAS_JOB, "e", 1},
      {HAS_JOB, "f", 0},
      {OK, "e"},
      {SETTLE},
      {PHASE, "Failing"},
      {HAS_JOB, "f", 1},
      {OK, "f"},
      {SETTLE},
      {OK, "g"},
      {SETTLE},
      {PHASE, "Failed"},
      {REASON, "StepFailed"},
      {MESSAGE, "step \"b\" failed: exit code 3 (Error): boom"},
      {STEP, "c=Succeeded"},
      {STEP, "e=Succeeded"},
      {STEP, "d=Skipped"}}},
    {"cancel while b and c run",
     BOTH,
     {{SETTLE},
      {OK, "a"},
      {SETTLE},
      {RUNNING, "b"},
      {RUNNING, "c"},
      {SETTLE},
      {CANCEL, NULL, 1},
      {SETTLE},
      {PHASE, "Cancelling"},
      {REASON, "Cancelled"},
      {STEP, "b=Cancelled"},
      {STEP, "c=Cancelled"},
      {STEP, "d=Skipped"},
      {HAS_JOB, "f", 0},
      /* GitOps reverts the field: the cancel is latched */
      {CANCEL, NULL, 0},
      {SETTLE},
      {PHASE, "Cancelling"},
      {GONE},
      {SETTLE},
      {HAS_JOB, "f", 1},
      {OK, "f"},
      {SETTLE},
      {OK, "g"},
      {SETTLE},
      {PHASE, "Cancelled"},
      {REASON, "Cancelled"},
      {MESSAGE, "run was cancelled"}}},
    {"run deadline while b runs",
     BOTH,
     {{SETTLE},
      {OK, "a"},
      {SETTLE},
      {RUNNING, "b"},
      {ADVANCE, NULL, 599},
      {SETTLE},
      {PHASE, "Running"},
      {ADVANCE, NULL, 1},
      {SETTLE},
      {PHASE, "Failing"},
      {REASON, "DeadlineExceeded"},
      {MESSAGE, "run exceeded its deadline of 600s (activeDeadlineSeconds)"},
      {STEP, "b=Cancelled"},
      {STEP, "c=Cancelled"},
      {GONE},
      {SETTLE},
      {OK, "f"},
      {SETTLE},
      {OK, "g"},
      {SETTLE},
      {PHASE, "Failed"},
      {REASON, "DeadlineExceeded"}}},
    {"a finally step fails after main success",
     BOTH,
     {{SETTLE},
      {OK, "a"},
      {SETTLE},
      {OK, "b"},
      {OK, "c"},
      {SETTLE},
      {OK, "d"},
      {OK, "e"},
      {SETTLE},
      {FAIL, "f", 1},
      {SETTLE},
      {STEP, "g=Skipped"},
      {PHASE, "Failed"},
      {REASON, "StepFailed"},
      {CURRENT, "f"},
      {MESSAGE, "step \"f\" failed: exit code 1 (Error): boom"}}},
    {"cancel while finally runs: finally continues, then Cancelled",
     BOTH,
     {{SETTLE},
      {OK, "a"},
      {SETTLE},
      {OK, "b"},
      {OK, "c"},
      {SETTLE},
      {OK, "d"},
      {OK, "e"},
      {SETTLE},
      {RUNNING, "f"},
      {SETTLE},
      {CANCEL, NULL, 1},
      {SETTLE},
      {PHASE, "Cancelling"},
      {STEP, "f=Running"},
      {OK, "f"},
      {SETTLE},
      {HAS_JOB, "g", 1},
      {OK, "g"},
      {SETTLE},
      {PHASE, "Cancelled"},
      {STEP, "f=Succeeded"},
      {STEP, "g=Succeeded"}}},
    {"failure first, then cancel: the failure decides",
     BOTH,
     {{SETTLE},
      {OK, "a"},
      {SETTLE},
      {RUNNING, "b"},
      {RUNNING, "c"},
      {SETTLE},
      {FAIL, "b", 2},
      {SETTLE},
      {CANCEL, NULL, 1},
      {SETTLE},
      {PHASE, "Failing"},
      {STEP, "c=Cancelled"},
      {GONE},
      {SETTLE},
      {OK, "f"},
      {SETTLE},
      {OK, "g"},
      {SETTLE},
      {PHASE, "Failed"},
      {REASON, "StepFailed"}}},
    {"cancel first, then a torn-down step fails: still Cancelled",
     BOTH,
     {{SETTLE},
      {OK, "a"},
      {SETTLE},
      {RUNNING, "b"},
      {SETTLE},
      {CANCEL, NULL, 1},
      {SETTLE},
      {FAIL, "b", 143},
      {SETTLE},
      {STEP, "b=Cancelled"},
      {GONE},
      {SETTLE},
      {FAIL, "f", 1},
      {SETTLE},
      {PHASE, "Cancelled"},
      {REASON, "Cancelled"}}},
    {"FailureTarget starts the teardown before Failed",
     FF,
     {{SETTLE},
      {OK, "a"},
      {SETTLE},
      {RUNNING, "b"},
      {RUNNING, "c"},
      {SETTLE},
      {FAIL_TGT, "b", 7},
      {SETTLE},
      {PHASE, "Failing"},
      {STEP, "b=Failed"},
      {STEP, "c=Cancelled"},
      {GONE},
      /* b's Job is not done (no Failed yet): finally waits */
      {SETTLE},
      {HAS_JOB, "f", 0},
      {FAIL_FIN, "b"},
      {SETTLE},
      {HAS_JOB, "f", 1},
      {MESSAGE, "step \"b\" failed: exit code 7 (Error): boom"}}},
    {"the first step fails: nothing else starts, finally runs",
     BOTH,
     {{SETTLE},
      {FAIL, "a", 1},
      {SETTLE},
      {STEP, "b=Skipped"},
      {STEP, "e=Skipped"},
      {HAS_JOB, "b", 0},
      {HAS_JOB, "f", 1},
      {OK, "f"},
      {SETTLE},
      {OK, "g"},
      {SETTLE},
      {PHASE, "Failed"},
      {PROGRESS, "7/7"}}},
    {"a Job deleted behind our back fails its step",
     FF,
     {{SETTLE},
      {OK, "a"},
      {SETTLE},
      {RUNNING, "b"},
      {SETTLE},
      {VANISH, "b"},
      {SETTLE},
      {STEP, "b=Failed"},
      {MESSAGE, "step \"b\" failed: JobDeleted: job \"r1-b\" was deleted before the step "
                "finished"},
      {PHASE, "Failing"}}},
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

static void play(const struct script *sc, const char *policy)
{
    char spec[1024];
    snprintf(spec, sizeof spec, DAG, policy);
    struct world w;
    world_init(&w, spec, NULL);
    int before = check_failures;
    for (size_t i = 0; i < sizeof sc->ops / sizeof sc->ops[0] && sc->ops[i].op != END; i++) {
        const struct sop *o = &sc->ops[i];
        char name[32];
        const char *eq = o->s ? strchr(o->s, '=') : NULL;
        int fails = check_failures;
        switch (o->op) {
        case END:
            break;
        case SETTLE:
            settle(&w);
            break;
        case RUNNING:
            sim_running(&w, o->s);
            break;
        case OK:
            sim_ok(&w, o->s);
            break;
        case FAIL:
        case FAIL_TGT:
            sim_fail(&w, o->s, (int)o->n, "boom\n", o->op == FAIL_TGT);
            break;
        case FAIL_FIN:
            job_of(&w, o->s)->failed = 1;
            break;
        case GONE:
            sim_gone(&w);
            break;
        case CANCEL:
            sim_cancel(&w, (int)o->n);
            break;
        case ADVANCE:
            w.now += o->n * SEC;
            break;
        case VANISH:
            vanish(&w, o->s);
            break;
        case PHASE:
            CHECK_STR(phase(&w), o->s);
            break;
        case STEP:
            snprintf(name, sizeof name, "%.*s", (int)(eq - o->s), o->s);
            CHECK_STR(step_phase(&w, name), eq + 1);
            break;
        case REASON:
            CHECK_STR(cond(&w, "Succeeded", "reason"), o->s);
            break;
        case MESSAGE:
            CHECK_STR(str_at(status(&w), "message"), o->s);
            break;
        case CURRENT:
            CHECK_STR(str_at(status(&w), "currentStep") ? str_at(status(&w), "currentStep") : "",
                      o->s);
            break;
        case HAS_JOB:
            CHECK_INT(job_of(&w, o->s) != NULL, o->n);
            break;
        case PROGRESS:
            CHECK_STR(str_at(status(&w), "progress"), o->s);
            break;
        }
        if (check_failures != fails)
            fprintf(stderr, "  at op %zu\n", i);
    }
    if (check_failures != before)
        fprintf(stderr, "  in script \"%s\" (%s)\n", sc->name, policy);
    /* Terminal runs keep their kstatus conditions consistent. */
    const char *ph = phase(&w);
    if (!strcmp(ph, "Failed") || !strcmp(ph, "Cancelled")) {
        CHECK_STR(cond(&w, "Succeeded", "status"), "False");
        CHECK_STR(cond(&w, "Stalled", "status"), "True");
        CHECK_STR(cond(&w, "Ready", "status"), "False");
        CHECK(at(status(&w), "completionTime") != NULL);
    } else if (!strcmp(ph, "Succeeded")) {
        CHECK_STR(cond(&w, "Succeeded", "status"), "True");
        CHECK_STR(cond(&w, "Ready", "status"), "True");
        CHECK_STR(cond(&w, "Reconciling", "status"), "False");
        CHECK_STR(cond(&w, "Stalled", "status"), "False");
    } else {
        CHECK_STR(cond(&w, "Succeeded", "status"), "Unknown");
        CHECK_STR(cond(&w, "Reconciling", "status"), "True");
    }
    world_free(&w);
}

static void test_scripts(void)
{
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        if (scripts[i].policies & FF)
            play(&scripts[i], "FailFast");
        if (scripts[i].policies & CONT)
            play(&scripts[i], "Continue");
    }
}

int main(void)
{
    RUN(test_scripts);
    return check_finish();
}
