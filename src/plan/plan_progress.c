/* plan_progress.c - a started run (Running, Failing, Cancelling): from
 * its snapshot, its steps and what was observed, decide creates, deletes,
 * skips and the phase. The run-level rules are in plan.h. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_RESULTS_RECHECK_MS 5000

static enum cause cause_parse(const char *reason)
{
    if (!reason)
        return CAUSE_NONE;
    if (strcmp(reason, R_STEP_FAILED) == 0)
        return CAUSE_STEP_FAILED;
    if (strcmp(reason, R_DEADLINE) == 0)
        return CAUSE_DEADLINE;
    if (strcmp(reason, R_CANCELLED) == 0)
        return CAUSE_CANCELLED;
    return CAUSE_NONE;
}

static const char *cause_reason(enum cause k)
{
    static const char *const r[] = {R_RUNNING, R_STEP_FAILED, R_DEADLINE, R_CANCELLED};
    return r[k];
}

static const char *old_succeeded_reason(struct json_object *status)
{
    struct json_object *conds = kj_get(status, "conditions");
    size_t n = json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        const char *t = kj_get_str(c, "type");
        if (t && strcmp(t, "Succeeded") == 0)
            return kj_get_str(c, "reason");
    }
    return NULL;
}

static void decide_trigger(struct run *r)
{
    r->trigger = CAUSE_NONE;
    if (r->cause == CAUSE_DEADLINE || r->cause == CAUSE_CANCELLED ||
        (r->cause == CAUSE_STEP_FAILED && r->spec->failure_policy == WF_FAIL_FAST))
        r->trigger = r->cause;
    else if (r->deadline_hit) /* Continue after a failure, then the deadline */
        r->trigger = CAUSE_DEADLINE;
    else if (r->c->cancel)
        r->trigger = CAUSE_CANCELLED;
}

/* First cause wins; in one pass a failure beats the deadline beats the
 * cancel (the cancel is latched before we send any SIGTERM, so a failure
 * seen together with it did not come from our teardown). A Job that
 * vanished is a failure only when no teardown explains it, and the cause
 * only when nothing else is: the writes of a plan go out together, so the
 * deletes of a teardown can land while its status write is lost. */
static void decide_cause(struct run *r)
{
    struct ctx *c = r->c;
    r->cause = cause_parse(old_succeeded_reason(c->status));
    char name[WF_NAME_LEN];
    const char *msg = kj_get_str(c->status, "message");
    /* Our own message names the cause; step names hold no '"'. */
    if (r->cause == CAUSE_STEP_FAILED && msg && sscanf(msg, "step \"%63[^\"]\" failed", name) == 1)
        r->cause_step = plan_step_named(r, name);
    if (r->cause == CAUSE_NONE) {
        for (size_t i = 0; i < r->n && !r->cause_step; i++)
            if (r->steps[i].phase == SP_FAILED)
                r->cause_step = &r->steps[i];
        /* A failed combination fails the run before its matrix step ends. */
        for (size_t i = 0; i < r->n_combos && !r->cause_step; i++)
            if (r->combos[i].phase == SP_FAILED)
                r->cause_step = &r->combos[i];
        if (r->cause_step)
            r->cause = CAUSE_STEP_FAILED;
        else if (r->deadline_hit)
            r->cause = CAUSE_DEADLINE;
        else if (c->cancel)
            r->cause = CAUSE_CANCELLED;
    }
    decide_trigger(r);
    if (r->trigger != CAUSE_NONE)
        return; /* teardown() turns vanished steps into Cancelled ones */
    struct step *s;
    PLAN_EACH_JOB(r, 0, r->n, s)
    {
        if (!s->vanished)
            continue;
        plan_step_vanished(c, s);
        if (r->cause == CAUSE_NONE) {
            r->cause = CAUSE_STEP_FAILED;
            r->cause_step = s;
        }
    }
    decide_trigger(r);
}

static void stopped_message(const struct run *r, const char *what, char *buf, size_t cap)
{
    if (r->trigger == CAUSE_STEP_FAILED && r->cause_step)
        snprintf(buf, cap, "%s because step \"%s\" failed", what, r->cause_step->label);
    else if (r->trigger == CAUSE_DEADLINE)
        snprintf(buf, cap, "%s because the run exceeded its deadline", what);
    else
        snprintf(buf, cap, "%s because the run was cancelled", what);
}

/* 1 created, 0 waits for a value, -1 s was skipped or failed here. */
static int create_job(struct run *r, struct step *s, struct values *v)
{
    struct ctx *c = r->c;
    struct wf_run_ref ref = {c->name, c->ns, c->uid, c->workflow ? c->workflow : ""};
    struct json_object *job = NULL;
    int idx = wf_step_index(r->spec, s->def->name), rc = -EINVAL;
    if (idx >= 0 && s->index >= 0)
        rc = wf_job_build_combo(r->spec, (size_t)idx, s->index, plan_value_of, v, &ref, &job);
    else if (idx >= 0)
        rc = wf_job_build(r->spec, (size_t)idx, plan_value_of, v, &ref, &job);
    if (rc == -ENOENT && (v->wait || v->skipped))
        return 0;
    if (rc < 0) {
        s->phase = SP_FAILED; /* cannot happen for a validated snapshot */
        s->completion_ms = c->now;
        snprintf(s->reason, sizeof s->reason, "InvalidJob");
        snprintf(s->message, sizeof s->message, "the step's Job could not be built");
        return -1;
    }
    struct plan_action *a = plan_add(c->out, PLAN_CREATE_JOB);
    snprintf(a->name, sizeof a->name, "%s", s->job_name);
    /* what a refusal is remembered by (plan_step_observe's refused) */
    plan_copy_trunc(a->step, sizeof a->step, s->label);
    a->body = job;
    return 1;
}

/* A ready step: its `when`, then its Job, both through the recorded
 * values. */
static void start_step(struct run *r, struct step *s)
{
    struct values v = {.r = r, .self = s};
    char why[PLAN_MSG_LEN];
    int when =
        wf_when_eval(s->def->when, wf_step_kinds(s->def), plan_value_of, &v, why, sizeof why);
    if (when == 1 && s->def->n_matrix) {
        if (s->expanded) {
            plan_matrix_start(r, s, create_job);
            return;
        }
        /* Its values are not recorded yet, or one was never made. */
        struct wf_combos *cb = NULL;
        int rc = wf_matrix_expand(s->def, plan_value_of, &v, &cb, why, sizeof why);
        wf_combos_free(cb);
        if (rc == 0 || !v.skipped)
            return;
    } else if (when == 1 && (create_job(r, s, &v) != 0 || !v.skipped)) {
        return;
    }
    if (v.skipped) {
        /* Tekton's rule: it would read a value that was never made. */
        snprintf(why, sizeof why, "it uses a result of step \"%s\", which was skipped by its when",
                 v.skipped->def->name);
        plan_step_end(s, SP_SKIPPED, r->c->now, PLAN_R_WHEN_FALSE, why);
    } else if (when == 0) {
        /* Never started, and not a failure: its dependents still run. */
        plan_step_end(s, SP_SKIPPED, r->c->now, PLAN_R_WHEN_FALSE, why);
    } else if (when < 0 && !v.wait) {
        s->phase = SP_FAILED; /* cannot happen for a validated snapshot */
        s->completion_ms = r->c->now;
        snprintf(s->reason, sizeof s->reason, "InvalidWhen");
        snprintf(s->message, sizeof s->message, "the step's when could not be evaluated");
    }
}

/* A dependency that lets its dependents start: it succeeded, or its
 * `when` was false (Tekton's rule, docs/api.md: skipping by a condition is
 * not a failure). */
int plan_dep_satisfied(const struct step *d)
{
    return d->phase == SP_SUCCEEDED ||
           (d->phase == SP_SKIPPED && strcmp(d->reason, PLAN_R_WHEN_FALSE) == 0);
}

/* Pending steps without a Job: skip them if a dependency did not
 * succeed; once all did, start them (start_step: their `when`, then their
 * Job). */
static void schedule(struct run *r, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++) {
        struct step *s = &r->steps[i];
        /* has_job: created once, never again, even if it vanished. A
         * matrix step starts combinations for as long as it runs. */
        if (s->def->n_matrix ? plan_step_terminal(s->phase)
                             : s->phase != SP_PENDING || s->job || s->has_job || s->foreign)
            continue;
        const struct step *blocking = NULL;
        int ready = 1;
        for (size_t k = 0; k < s->def->n_deps; k++) {
            const struct step *d = &r->steps[r->pos[s->def->deps[k]]];
            if (plan_step_terminal(d->phase) && !plan_dep_satisfied(d) && !blocking)
                blocking = d;
            ready &= plan_dep_satisfied(d);
        }
        if (blocking) {
            char msg[PLAN_MSG_LEN];
            snprintf(msg, sizeof msg, "step \"%s\" did not succeed", blocking->def->name);
            plan_step_end(s, SP_SKIPPED, r->c->now, "DependencyNotSucceeded", msg);
        } else if (ready) {
            start_step(r, s);
        }
    }
}

/* Teardown of main steps: unstarted ones Skipped, started ones Cancelled,
 * and every unfinished main-step Job deleted (whatever its step says: a
 * Job created just before the teardown may show up only now). */
/* A main step of a torn-down run: unstarted Skipped, started Cancelled,
 * its unfinished Job deleted. */
static void stop_step(struct run *r, struct step *s)
{
    const struct plan_job *j = s->job;
    if (!plan_step_terminal(s->phase)) {
        char msg[PLAN_MSG_LEN];
        int started = j || s->has_job || s->phase == SP_RUNNING;
        stopped_message(r, started ? "stopped" : "not started", msg, sizeof msg);
        plan_step_end(s, started ? SP_CANCELLED : SP_SKIPPED, r->c->now, cause_reason(r->trigger),
                      msg);
    }
    /* An accepted create the cache does not show yet is deleted by its
     * name and uid: it exists, or the 404 says it is gone. */
    int live = j ? !j->deleting && !plan_job_failed(j) && !plan_job_succeeded(j)
                 : s->unconfirmed && s->job_uid[0];
    if (live)
        plan_delete_job(r->c, s->job_name, s->job_uid, s->label);
}

static void teardown(struct run *r)
{
    struct step *s;
    PLAN_EACH_JOB(r, 0, r->spec->n_main, s)
    stop_step(r, s);
    for (size_t i = 0; i < r->spec->n_main; i++) {
        struct step *m = &r->steps[i];
        if (m->def->n_matrix && m->expanded)
            plan_matrix_aggregate(r, m);
        else if (m->def->n_matrix)
            stop_step(r, m); /* no combination known: never started */
    }
}

/* Jobs this run controls that are no step's Job, and pods of the run that
 * belong to no step (only ever made by hand, or a status edited by hand):
 * the run may not end, nor start finally steps, while they run. Deleted
 * like main steps when the run is tearing down or has nothing else left.
 * 1 while any is busy. */
static int strays(struct run *r, int delete)
{
    struct ctx *c = r->c;
    int busy = 0;
    for (size_t i = 0; i < c->in->n_jobs; i++) {
        const struct plan_job *j = &c->in->jobs[i];
        int step = 0;
        const struct step *s;
        PLAN_EACH_JOB(r, 0, r->n, s)
        step |= strcmp(s->job_name, j->name) == 0;
        if (step || strcmp(j->controller_uid, c->uid) != 0)
            continue;
        busy |= j->deleting || !plan_job_done(j);
        if (!delete || j->deleting || plan_job_failed(j) || plan_job_succeeded(j))
            continue;
        plan_delete_job(c, j->name, j->uid, j->step);
    }
    for (size_t i = 0; i < c->in->n_pods; i++) {
        const struct plan_pod *p = &c->in->pods[i];
        int step = 0;
        const struct step *s;
        PLAN_EACH_JOB(r, 0, r->n, s)
        step |= s->job_uid[0] && strcmp(p->controller_uid, s->job_uid) == 0;
        busy |= !step && plan_pod_running(p) && plan_pod_ours(c, p);
    }
    return busy;
}

/* Main steps that failed while being scheduled (a Job that cannot be
 * built) make the run Failing in this very plan: the creates scheduled
 * beside them are taken back, as a teardown would not make them. */
static void drop_creates(struct plan *p)
{
    size_t o = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->actions[i].kind == PLAN_CREATE_JOB)
            json_object_put(p->actions[i].body);
        else
            p->actions[o++] = p->actions[i];
    }
    p->n = o;
}

static size_t failed_steps(const struct run *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->steps[i].phase == SP_FAILED;
    for (size_t i = 0; i < r->n_combos; i++)
        n += r->combos[i].phase == SP_FAILED;
    return n;
}

/* No main step's Job was ever created: a cancel then has nothing to stop
 * and nothing for finally steps to clean up. */
static int nothing_started(const struct run *r)
{
    const struct step *s;
    PLAN_EACH_JOB(r, 0, r->spec->n_main, s)
    if (s->job || s->has_job)
        return 0;
    return 1;
}

static void skip_finally(struct run *r)
{
    for (size_t i = r->spec->n_main; i < r->n; i++) {
        struct step *s = &r->steps[i];
        if (plan_step_terminal(s->phase))
            continue;
        s->phase = SP_SKIPPED;
        s->completion_ms = r->c->now;
        snprintf(s->reason, sizeof s->reason, "%s", R_CANCELLED);
        snprintf(s->message, sizeof s->message,
                 "not started because the run was cancelled before any step started");
    }
}

/* All steps in [lo, hi) terminal, their Jobs finished and not being
 * deleted, and none of their pods still running. */
static int quiet(const struct run *r, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++)
        if (!plan_step_terminal(r->steps[i].phase))
            return 0; /* a matrix step too, whatever its combinations */
    const struct step *s;
    PLAN_EACH_JOB(r, lo, hi, s)
    {
        if (!plan_step_terminal(s->phase) || s->foreign == 1 || s->unconfirmed)
            return 0;
        if (s->job && (s->job->deleting || !plan_job_done(s->job)))
            return 0;
        /* its pods, whether or not their Job is still there */
        if (plan_pods_running(r->c, s->job_uid))
            return 0;
    }
    return 1;
}

/* A step in [lo, hi) whose Job is gone: deleted before or after it
 * finished. The Job controller may have made a pod for it that the pod
 * cache has not shown yet (plan.h): see plan_pods_listed. */
static int gone(const struct run *r, size_t lo, size_t hi)
{
    const struct step *s;
    PLAN_EACH_JOB(r, lo, hi, s)
    if (s->job_uid[0] && !s->job)
        return 1;
    return 0;
}

/* A step in [lo, hi) has had a Job, or is terminal. */
static int started(const struct run *r, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++)
        if (plan_step_terminal(r->steps[i].phase))
            return 1;
    const struct step *s;
    PLAN_EACH_JOB(r, lo, hi, s)
    if (s->job_uid[0] || plan_step_terminal(s->phase))
        return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Pods of main steps still present 30 s past their deletion deadline. */
static void stuck_pods(struct run *r, struct draft *d)
{
    struct ctx *c = r->c;
    const char **names = calloc(c->in->n_pods + 1, sizeof *names);
    if (!names)
        abort();
    size_t n = 0;
    for (size_t k = 0; k < c->in->n_pods; k++) {
        const struct plan_pod *p = &c->in->pods[k];
        int main_pod = 0;
        const struct step *s;
        PLAN_EACH_JOB(r, 0, r->spec->n_main, s)
        main_pod |= p->controller_uid[0] && strcmp(p->controller_uid, s->job_uid) == 0;
        if (!main_pod || !p->deleting)
            continue;
        int64_t at = p->deletion_deadline_ms + PLAN_STUCK_AFTER_MS;
        if (c->now >= at)
            names[n++] = p->name;
        else
            plan_requeue(c->out, at - c->now);
    }
    if (n) {
        qsort(names, n, sizeof *names, cmp_str);
        d->stuck = 1;
        size_t o = (size_t)snprintf(
            d->stuck_message, sizeof d->stuck_message,
            "pods still present %ds after their deletion deadline: ", PLAN_STUCK_AFTER_MS / 1000);
        for (size_t i = 0; i < n && i < 10 && o < sizeof d->stuck_message; i++)
            o += (size_t)snprintf(d->stuck_message + o, sizeof d->stuck_message - o, "%s%s",
                                  i ? ", " : "", names[i]);
        if (n > 10 && o < sizeof d->stuck_message)
            snprintf(d->stuck_message + o, sizeof d->stuck_message - o, " and %zu more", n - 10);
        plan_requeue(c->out, PLAN_RECHECK_MS);
    }
    free(names);
}

/* Events of the steps that own Jobs (a matrix step's combinations speak
 * for it, but when it fails before it has any). */
static void step_event(struct run *r, const struct step *s)
{
    char msg[PLAN_EVENT_MSG_LEN];
    const char *name = s->label, *job = s->has_job ? s->job_name : NULL;
    if (s->phase == s->old_phase || (s->def->n_matrix && s->expanded))
        return;
    /* A step whose Job ran and ended between two status writes (fast
     * steps; the executor writes a run's status at most once a second)
     * still gets its start event before its end event. */
    int skipped_running = s->old_phase == SP_PENDING && s->has_job &&
                          (s->phase == SP_SUCCEEDED || s->phase == SP_FAILED);
    if (s->phase == SP_RUNNING || skipped_running)
        plan_event(r->c->out, 0, "StepStarted", job, "step \"%s\" started (job \"%s\")", name,
                   s->job_name);
    if (s->phase == SP_RUNNING)
        return;
    if (s->phase == SP_SUCCEEDED) {
        plan_event(r->c->out, 0, "StepSucceeded", job, "step \"%s\" succeeded", name);
        r->c->out->actions[r->c->out->n - 1].outcome = 1;
    } else if (s->phase == SP_FAILED) {
        plan_step_failure(s, msg, sizeof msg);
        plan_event(r->c->out, 1, "StepFailed", job, "%s", msg);
        r->c->out->actions[r->c->out->n - 1].outcome = -1;
    }
    /* SP_CANCELLED: cancelled_event, one for the plan. */
}

static int newly_cancelled(const struct step *s)
{
    return s->phase == SP_CANCELLED && s->old_phase != SP_CANCELLED &&
           !(s->def->n_matrix && s->expanded);
}

/* A teardown cancels its running steps in one plan: one Event says so,
 * naming them (as many as fit), not one per step. 49 StepCancelled Events
 * a teardown were a third of the API server's work while it deleted the
 * 49 Jobs and their pods (bench_controller's react phase). */
static void cancelled_event(struct run *r, const struct step *first, size_t n, char *names)
{
    if (n == 1) {
        plan_event(r->c->out, 0, "StepCancelled", first->has_job ? first->job_name : NULL,
                   "step \"%s\" %s", first->label, first->message);
        return;
    }
    plan_event(r->c->out, 0, "StepsCancelled", NULL, "%zu steps %s: %s", n, first->message, names);
}

static void step_events(struct run *r)
{
    for (size_t i = 0; i < r->n; i++)
        step_event(r, &r->steps[i]);
    for (size_t i = 0; i < r->n_combos; i++)
        step_event(r, &r->combos[i]);
    const struct step *first = NULL;
    size_t n = 0, used = 0;
    char names[PLAN_EVENT_MSG_LEN / 2] = "";
    for (size_t i = 0; i < r->n + r->n_combos; i++) {
        const struct step *s = i < r->n ? &r->steps[i] : &r->combos[i - r->n];
        if (!newly_cancelled(s))
            continue;
        if (!first)
            first = s;
        n++;
        size_t len = strlen(s->label), room = sizeof names - used;
        if (used < sizeof names && len + 6 < room) { /* ", " and room for ", ..." */
            used += (size_t)snprintf(names + used, room, "%s%s", used ? ", " : "", s->label);
        } else if (used < sizeof names) {
            snprintf(names + used, room, ", ...");
            used = sizeof names;
        }
    }
    if (first)
        cancelled_event(r, first, n, names);
}

/* currentStep: the running steps, comma-separated (capped: it is a
 * printer column), else the step that failed the run. */
static void current_steps(const struct run *r, struct draft *d)
{
    size_t o = 0, cap = sizeof d->current_step;
    for (size_t i = 0; i < r->n; i++) {
        const char *name = r->steps[i].def->name;
        if (r->steps[i].phase != SP_RUNNING)
            continue;
        if (o + strlen(name) + 1 + 4 >= cap) { /* room for ",..." */
            snprintf(d->current_step + o, cap - o, ",...");
            return;
        }
        o += (size_t)snprintf(d->current_step + o, cap - o, "%s%s", o ? "," : "", name);
    }
    if (o == 0 && r->cause == CAUSE_STEP_FAILED && r->cause_step)
        snprintf(d->current_step, cap, "%s", r->cause_step->label);
}

static size_t skipped_by_when(const struct run *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->steps[i].phase == SP_SKIPPED && strcmp(r->steps[i].reason, PLAN_R_WHEN_FALSE) == 0;
    return n;
}

/* spec.results of a run that succeeded, from the results of this very
 * write (the terminal one): a reference with no value (its step skipped
 * by its when) is "" and a Warning says so; the outcome stands. */
struct final {
    struct run *r;
    const char *unresolved;
};

static const char *final_value(void *ud, const struct wf_ref *ref)
{
    struct final *f = ud;
    if (ref->kind == WF_REF_PARAM)
        return wf_params_lookup(f->r->params, ref);
    char name[WF_NAME_LEN];
    snprintf(name, sizeof name, "%.*s", (int)ref->alen, ref->a);
    const struct step *p = plan_step_named(f->r, name);
    if (p && p->phase == SP_SUCCEEDED) {
        const char *v = plan_results_get(p->results, ref->b, ref->blen);
        return v ? v : "";
    }
    f->unresolved = p ? p->def->name : "?";
    return "";
}

static void run_results(struct run *r, struct draft *d)
{
    struct json_object *spec_res = r->spec->results;
    size_t n = spec_res ? json_object_array_length(spec_res) : 0;
    if (!n)
        return;
    d->results = kj_arr();
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(spec_res, i);
        struct final f = {r, NULL};
        char *v = NULL;
        if (wf_resolve(kj_get_str(e, "value"), WF_REF_PARAM | WF_REF_RESULT, final_value, &f, &v) <
            0)
            v = NULL; /* cannot happen for a validated snapshot */
        struct json_object *o = kj_obj();
        kj_put(o, "name", kj_str(kj_get_str(e, "name")));
        kj_put(o, "value", kj_str(v ? v : ""));
        kj_push(d->results, o);
        if (f.unresolved)
            plan_event(r->c->out, 1, "ResultUnresolved", NULL,
                       "spec.results \"%s\" reads a result of step \"%s\", which did not run "
                       "(skipped by its when): it is \"\" where it has no value",
                       kj_get_str(e, "name"), f.unresolved);
        free(v);
    }
}

static void fill_draft(struct run *r, struct draft *d, int all_done)
{
    struct ctx *c = r->c;
    enum cause k = r->cause;
    static const enum plan_phase going[] = {PLAN_RUNNING, PLAN_FAILING, PLAN_FAILING,
                                            PLAN_CANCELLING};
    static const enum plan_phase ended[] = {PLAN_SUCCEEDED, PLAN_FAILED, PLAN_FAILED,
                                            PLAN_CANCELLED};
    /* Failing as soon as the outcome is known, also while Continue still
     * runs the steps that do not depend on the failure. */
    d->phase = all_done ? ended[k] : going[k];
    d->reason = k == CAUSE_NONE && all_done ? R_SUCCEEDED : cause_reason(k);
    if (k == CAUSE_STEP_FAILED && r->cause_step)
        plan_step_failure(r->cause_step, d->message, sizeof d->message);
    else if (k == CAUSE_STEP_FAILED && kj_get_str(c->status, "message"))
        snprintf(d->message, sizeof d->message, "%s", kj_get_str(c->status, "message"));
    else if (k == CAUSE_DEADLINE)
        snprintf(d->message, sizeof d->message,
                 "run exceeded its deadline of %llds (activeDeadlineSeconds)",
                 r->spec->active_deadline_seconds);
    else if (k == CAUSE_CANCELLED)
        snprintf(d->message, sizeof d->message, "run was cancelled");
    else if (all_done && skipped_by_when(r))
        snprintf(d->message, sizeof d->message, "%zu steps succeeded, %zu skipped by when",
                 r->n - skipped_by_when(r), skipped_by_when(r));
    else if (all_done)
        snprintf(d->message, sizeof d->message, "all %zu steps succeeded", r->n);
    else
        snprintf(d->message, sizeof d->message, "%s", PLAN_MSG_RUNNING);
    d->start_ms = kj_get_time(c->status, "startTime");
    d->completion_ms = all_done ? c->now : 0;
    d->cancel_requested = c->cancel;
    size_t done = 0;
    d->steps = kj_arr();
    for (size_t i = 0; i < r->n; i++) {
        const struct step *s = &r->steps[i];
        done += plan_step_terminal(s->phase);
        kj_push(d->steps, plan_step_json(s));
        for (size_t x = 0; x < s->n_combos; x++) /* each after its matrix step */
            kj_push(d->steps, plan_step_json(&r->combos[s->first + x]));
    }
    current_steps(r, d);
    snprintf(d->progress, sizeof d->progress, "%zu/%zu", done, r->n);
    if (d->phase == PLAN_SUCCEEDED)
        run_results(r, d);
}

/* The snapshot is unreadable (someone edited the status): nothing can be
 * planned from it. Tear down whatever runs, fail once it is gone. */
static void broken_snapshot(struct ctx *c, const char *why)
{
    struct draft d;
    int busy = plan_sweep(c) || !plan_pods_listed(c, plan_jobs_gone(c));
    plan_draft_begin(&d, busy ? PLAN_FAILING : PLAN_FAILED, R_INVALID,
                     "status.workflowSpec cannot be used: %s", why);
    d.start_ms = kj_get_time(c->status, "startTime");
    d.completion_ms = busy ? 0 : c->now;
    d.cancel_requested = c->cancel;
    /* Kept as they are: their jobUIDs are what ties the pods to the run. */
    struct json_object *steps = kj_get(c->status, "steps");
    if (json_object_is_type(steps, json_type_array))
        d.steps = kj_copy(steps);
    plan_status_commit(c, &d);
    plan_draft_release(&d);
    if (!busy)
        plan_finished(c, PLAN_FAILED, c->now);
}

static int load(struct run *r, struct ctx *c)
{
    struct wf_error err;
    r->c = c;
    if (wf_spec_parse(kj_get(c->status, "workflowSpec"), &r->spec, &err) < 0) {
        broken_snapshot(c, err.message);
        return -1;
    }
    if (wf_params_from_json(kj_get(c->status, "resolvedParams"), &r->params) < 0) {
        broken_snapshot(c, "status.resolvedParams is malformed");
        return -1;
    }
    r->n = r->spec->n_steps;
    r->steps = calloc(r->n, sizeof *r->steps);
    r->pos = calloc(r->n, sizeof *r->pos);
    /* An array of pointers. NOLINTNEXTLINE(bugprone-sizeof-expression) */
    r->expansions = calloc(r->n, sizeof *r->expansions);
    if (!r->steps || !r->pos || !r->expansions)
        abort();
    struct json_object *old_steps = kj_get(c->status, "steps");
    /* In topological order: a matrix step's dependencies are settled
     * before it is expanded. */
    for (size_t i = 0; i < r->n; i++) {
        r->pos[r->spec->order[i]] = i;
        plan_step_observe(c, &r->steps[i], &r->spec->steps[r->spec->order[i]], -1, old_steps);
        if (r->steps[i].def->n_matrix)
            plan_matrix_load(r, i);
    }
    const struct step *s;
    PLAN_EACH_JOB(r, 0, r->n, s)
    {
        if (s->tampered)
            plan_event(c->out, 1, "StatusCorrected", s->job ? s->job_name : "",
                       "status.steps[] of step \"%s\" named job \"%s\" (uid %s), which is not "
                       "the step's job \"%s\"%s%s%s: the status is corrected; that job and its "
                       "pods are not this run's and are left alone",
                       s->label, s->tampered_job, s->tampered_uid[0] ? s->tampered_uid : "none",
                       s->job_name, s->job ? " (uid " : "", s->job ? s->job->uid : "",
                       s->job ? ")" : "");
    }
    struct step *w;
    PLAN_EACH_JOB(r, 0, r->n, w)
    {
        if (w->results_wait == 1) /* the pod's update wakes the run; a slow look as well */
            plan_requeue(c->out, PLAN_RESULTS_RECHECK_MS);
        /* Not in the cache: a LIST says whether it is gone or just late. */
        else if (w->results_wait == 2 && plan_pods_listed(c, 1))
            plan_results_gone(c, w);
    }
    for (size_t i = 0; i < r->n; i++)
        plan_matrix_aggregate(r, &r->steps[i]); /* combinations that just ended so */
    int64_t start = kj_get_time(c->status, "startTime");
    if (r->spec->active_deadline_seconds > 0 && start > 0) {
        r->deadline_ms = start + r->spec->active_deadline_seconds * 1000;
        r->deadline_hit = c->now >= r->deadline_ms;
    }
    return 0;
}

void plan_progress(struct ctx *c)
{
    struct run r;
    memset(&r, 0, sizeof r);
    if (load(&r, c) == 0) {
        size_t n_main = r.spec->n_main;
        decide_cause(&r);
        if (r.trigger != CAUSE_NONE) {
            teardown(&r);
        } else {
            size_t failed = failed_steps(&r);
            schedule(&r, 0, n_main);
            if (failed_steps(&r) != failed) {
                decide_cause(&r);
                if (r.trigger != CAUSE_NONE) {
                    drop_creates(c->out);
                    teardown(&r);
                }
            }
        }
        for (size_t i = 0; i < n_main; i++) /* combinations created, or failed to be */
            plan_matrix_aggregate(&r, &r.steps[i]);
        int all_terminal = 1;
        for (size_t i = 0; i < r.n; i++)
            all_terminal &= plan_step_terminal(r.steps[i].phase);
        int stray_busy = strays(&r, r.trigger != CAUSE_NONE || all_terminal);
        plan_delete_pods(c);
        int main_quiet = quiet(&r, 0, n_main) && !stray_busy;
        /* The finally steps start from a LIST when a main step's Job is gone */
        if (main_quiet && !started(&r, n_main, r.n) && !plan_pods_listed(c, gone(&r, 0, n_main)))
            main_quiet = 0;
        if (main_quiet && r.trigger == CAUSE_CANCELLED && nothing_started(&r))
            skip_finally(&r);
        else if (main_quiet)
            schedule(&r, n_main, r.n);
        /* A finally step failing first is a cause too (it may just have). */
        if (r.cause == CAUSE_NONE)
            decide_cause(&r);
        int all_done =
            main_quiet && quiet(&r, n_main, r.n) && plan_pods_listed(c, gone(&r, 0, r.n));

        struct draft d;
        plan_draft_init(&d);
        if (r.trigger != CAUSE_NONE && !main_quiet)
            stuck_pods(&r, &d);
        fill_draft(&r, &d, all_done);
        step_events(&r);
        plan_status_commit(c, &d);
        if (all_done)
            plan_finished(c, d.phase, c->now);
        else if (r.deadline_ms && !r.deadline_hit)
            plan_requeue(c->out, r.deadline_ms - c->now);
        plan_draft_release(&d);
    }
    for (size_t i = 0; r.steps && i < r.n; i++) {
        json_object_put(r.steps[i].results);
        wf_combos_free(r.expansions ? r.expansions[i] : NULL);
    }
    for (size_t i = 0; i < r.n_combos; i++)
        json_object_put(r.combos[i].results);
    free(r.combos);
    free(r.expansions);
    free(r.steps);
    free(r.pos);
    wf_params_free(r.params);
    wf_spec_free(r.spec);
}
