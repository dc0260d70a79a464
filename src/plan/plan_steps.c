/* plan_steps.c - one step of a started run: merge its old status entry
 * with its observed Job and pods, and render the new entry.
 *
 * Invariants: a step is Running only once its Job was observed (never on
 * the strength of our own create, which may not have happened); a
 * terminal step never changes phase again, so a Job vanishing later (GC,
 * a user) cannot rewrite history. The input caches must be synced: a Job
 * recorded in status but absent from the input counts as deleted. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <stdio.h>
#include <string.h>

static void load_old(struct step *s, struct json_object *old_steps)
{
    struct json_object *e = NULL;
    /* The status is anyone's to edit (an admin, a CRD without a schema):
     * a member of the wrong type reads as absent. */
    size_t n =
        json_object_is_type(old_steps, json_type_array) ? json_object_array_length(old_steps) : 0;
    for (size_t i = 0; i < n && !e; i++) {
        struct json_object *x = json_object_array_get_idx(old_steps, i);
        const char *name = kj_get_str(x, "name");
        if (name && strcmp(name, s->def->name) == 0 && plan_entry_index(x) == s->index)
            e = x;
    }
    s->old_phase = plan_step_phase_parse(kj_get_str(e, "phase"));
    const char *job = kj_get_str(e, "job"), *uid = kj_get_str(e, "jobUID");
    s->has_job = job != NULL;
    if (job && strcmp(job, s->job_name) != 0) {
        /* This run names a step's Job one way only: someone else wrote
         * that, and its uid is not the step's Job's. The claim that the
         * step had a Job still stands: a step never gets a second Job. */
        s->tampered = 1;
        plan_copy_trunc(s->tampered_job, sizeof s->tampered_job, job);
        plan_copy_trunc(s->tampered_uid, sizeof s->tampered_uid, uid);
        uid = NULL;
    }
    plan_copy_trunc(s->job_uid, sizeof s->job_uid, uid);
    s->attempts = kj_get_i32(e, "attempts");
    s->start_ms = kj_get_time(e, "startTime");
    s->completion_ms = kj_get_time(e, "completionTime");
    s->has_exit = json_object_is_type(kj_get(e, "exitCode"), json_type_int);
    s->exit_code = kj_get_i32(e, "exitCode");
    const char *reason = kj_get_str(e, "reason"), *message = kj_get_str(e, "message");
    snprintf(s->reason, sizeof s->reason, "%s", reason ? reason : "");
    snprintf(s->message, sizeof s->message, "%s", message ? message : "");
    if (s->old_phase == SP_SUCCEEDED && s->def->n_results)
        s->results = plan_results_load(e);
}

long plan_entry_index(struct json_object *entry)
{
    struct json_object *ix = kj_get(entry, "index");
    return json_object_is_type(ix, json_type_int) ? (long)json_object_get_int64(ix) : -1;
}

static void find_job(const struct ctx *c, struct step *s)
{
    for (size_t i = 0; i < c->in->n_jobs; i++) {
        const struct plan_job *j = &c->in->jobs[i];
        if (strcmp(j->name, s->job_name) != 0)
            continue;
        if (j->controller_uid[0] && strcmp(j->controller_uid, c->uid) != 0) {
            /* Same name, another owner: typically the previous run of the
             * same name, still being garbage collected. */
            s->foreign = j->deleting ? 1 : 2;
            continue;
        }
        s->job = j;
        plan_copy_trunc(s->job_uid, sizeof s->job_uid, j->uid);
    }
}

/* The most telling terminated pod of a Job: a non-zero exit first, then
 * the latest to finish, then by name so the choice is deterministic. */
static const struct plan_pod *best_pod(const struct ctx *c, const char *job_uid)
{
    const struct plan_pod *best = NULL;
    size_t n = c->in->n_pods + c->in->n_ended;
    for (size_t i = 0; i < n; i++) {
        const struct plan_pod *p =
            i < c->in->n_pods ? &c->in->pods[i] : &c->in->ended[i - c->in->n_pods];
        if (!p->terminated || strcmp(p->controller_uid, job_uid) != 0)
            continue;
        if (best) {
            int pf = p->exit_code != 0, bf = best->exit_code != 0;
            if (pf != bf                              ? pf < bf
                : p->finished_ms != best->finished_ms ? p->finished_ms < best->finished_ms
                                                      : strcmp(p->name, best->name) > 0)
                continue;
        }
        best = p;
    }
    return best;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

static void failure_details(const struct ctx *c, struct step *s, const struct plan_job *j)
{
    const struct plan_pod *p = best_pod(c, j->uid);
    if (p) {
        s->has_exit = 1;
        s->exit_code = p->exit_code;
    }
    /* A step timeout kills the pod; the Job's reason says why. */
    if (p && strcmp(j->reason, "DeadlineExceeded") != 0) {
        snprintf(s->reason, sizeof s->reason, "%s", p->reason[0] ? p->reason : "Error");
        snprintf(s->message, sizeof s->message, "%s", p->message);
    } else {
        snprintf(s->reason, sizeof s->reason, "%s", j->reason);
        snprintf(s->message, sizeof s->message, "%s", j->message);
    }
    trim(s->message);
}

/* A torn-down step whose pod has ended: how it ended, added once to the
 * step, so a sibling killed at the end of its grace period is named as
 * such (SIGTERM handled, then exit 0, reads differently from a SIGKILL). */
static void stopped_details(const struct ctx *c, struct step *s)
{
    const struct plan_pod *p = best_pod(c, s->job_uid);
    if (!p)
        return;
    s->has_exit = 1;
    s->exit_code = p->exit_code;
    size_t o = strlen(s->message), cap = sizeof s->message;
    if (o >= cap - 1)
        return;
    if (p->exit_code == 137 && strcmp(p->reason, "OOMKilled") != 0)
        snprintf(s->message + o, cap - o,
                 "; killed with SIGKILL when its grace period ran out (exit code 137)");
    else if (p->exit_code > 128)
        snprintf(s->message + o, cap - o, "; ended by signal %d (exit code %d)%s%s",
                 p->exit_code - 128, p->exit_code, p->reason[0] ? ", " : "", p->reason);
    else
        snprintf(s->message + o, cap - o, "; its container exited with code %d", p->exit_code);
}

void plan_step_end(struct step *s, enum step_phase ph, int64_t when, const char *reason,
                   const char *message)
{
    s->phase = ph;
    s->completion_ms = when;
    plan_copy_trunc(s->reason, sizeof s->reason, reason);
    plan_copy_trunc(s->message, sizeof s->message, message); /* cut: messages may be long */
}

/* Pods started for the step: never less than before. The Job's counters
 * lag its finished condition, and kwok or the kubelet may drop a pod from
 * the cache before the counters catch up, so the larger of the two. */
static void count_attempts(const struct ctx *c, struct step *s)
{
    const struct plan_job *j = s->job;
    int n = j ? j->active + j->succeeded + j->failed_pods : 0;
    int pods = (int)plan_pods_of(c, s->job_uid);
    if (pods > n)
        n = pods;
    /* A Job that succeeded or failed ran a pod, whatever its counters say
     * yet: SuccessCriteriaMet can come before status.succeeded is counted,
     * and the pod may already have left the cache. */
    if (j && n < 1 && (plan_job_succeeded(j) || plan_job_failed(j)))
        n = 1;
    if (n > s->attempts)
        s->attempts = n;
}

/* A create the API server refused: permanent refusals fail the step;
 * transient ones are retried and, after a while, said in the step. */
static void refused(const struct ctx *c, struct step *s)
{
    const struct plan_refusal *f = NULL;
    for (size_t i = 0; i < c->in->n_refusals && !f; i++)
        if (strcmp(c->in->refusals[i].step, s->label) == 0)
            f = &c->in->refusals[i];
    if (!f)
        return;
    char msg[PLAN_EVENT_MSG_LEN]; /* cut to PLAN_MSG_LEN in the step */
    char code[24] = "";
    if (f->code)
        snprintf(code, sizeof code, " (HTTP %ld)", f->code);
    if (f->permanent) {
        snprintf(msg, sizeof msg, "the API server refused job \"%s\"%s: %s", s->job_name, code,
                 f->message);
        plan_step_end(s, SP_FAILED, c->now, f->reason[0] ? f->reason : "JobRejected", msg);
    } else if (c->now - f->first_ms >= PLAN_CREATE_REPORT_MS) {
        snprintf(msg, sizeof msg, "creating job \"%s\" failed %u times%s, still retrying: %s",
                 s->job_name, f->count, code, f->message);
        snprintf(s->reason, sizeof s->reason, "JobCreateFailing");
        plan_copy_trunc(s->message, sizeof s->message, msg);
    }
}

void plan_step_observe(const struct ctx *c, struct step *s, const struct wf_step *def, long index,
                       struct json_object *old_steps)
{
    memset(s, 0, sizeof *s);
    s->def = def;
    s->index = index;
    if (index >= 0)
        snprintf(s->label, sizeof s->label, "%.50s[%d]", def->name, (int)(index & 0xfff));
    else
        plan_copy_trunc(s->label, sizeof s->label, def->name);
    if (wf_entry_job_name(c->name, def->name, index, s->job_name) < 0)
        s->job_name[0] = '\0';
    load_old(s, old_steps);
    if (def->n_matrix && index < 0) {
        /* No Job of its own: its phase comes from its combinations
         * (plan_matrix_aggregate). */
        s->job_name[0] = '\0';
        s->phase = s->old_phase;
        return;
    }
    char status_uid[PLAN_UID_LEN];
    memcpy(status_uid, s->job_uid, sizeof status_uid);
    find_job(c, s);
    if (s->job && status_uid[0] && strcmp(status_uid, s->job->uid) != 0 && !s->tampered) {
        /* The status names another uid than this run's Job of that name. */
        s->tampered = 1;
        plan_copy_trunc(s->tampered_job, sizeof s->tampered_job, s->job_name);
        memcpy(s->tampered_uid, status_uid, sizeof s->tampered_uid);
    }
    const struct plan_created *made = s->job ? NULL : plan_created_named(c, s->job_name);
    if (made)
        plan_copy_trunc(s->job_uid, sizeof s->job_uid, made->uid);
    /* Created, and the Job watch has not caught up: it exists (or is
     * being deleted), so it is neither created again nor missed, and
     * nothing may count on it being gone, whatever the step's phase. */
    s->unconfirmed = made && !made->seen;
    s->phase = s->old_phase;
    const struct plan_job *j = s->job;
    char msg[PLAN_MSG_LEN];
    count_attempts(c, s);
    if (plan_step_terminal(s->old_phase)) {
        /* Late pod details only fill in what is missing. */
        if (s->old_phase == SP_FAILED && !s->has_exit && j && plan_job_failed(j))
            failure_details(c, s, j);
        if (s->old_phase == SP_CANCELLED && !s->has_exit && s->job_uid[0])
            stopped_details(c, s);
        return;
    }
    /* What a step still going says is worked out afresh each time. */
    s->reason[0] = s->message[0] = '\0';
    if (j) {
        s->has_job = 1;
        if (j->start_ms)
            s->start_ms = j->start_ms;
        int64_t done = j->completion_ms ? j->completion_ms : c->now;
        if (plan_job_failed(j)) {
            s->phase = SP_FAILED;
            s->completion_ms = done;
            failure_details(c, s, j);
        } else if (plan_job_succeeded(j)) {
            plan_step_end(s, SP_SUCCEEDED, done, "", "");
            if (def->n_results)
                plan_results_read(c, s, j);
        } else {
            s->phase = SP_RUNNING;
        }
    } else if (s->foreign == 2) {
        snprintf(msg, sizeof msg, "job \"%s\" exists but is not owned by this run", s->job_name);
        plan_step_end(s, SP_FAILED, c->now, "JobConflict", msg);
    } else if (s->unconfirmed) {
        s->has_job = 1;
    } else if (s->has_job || made) {
        /* Its Job is gone: a failure unless a teardown deleted it (the
         * status saying so may have been lost); plan_progress decides. A
         * Job is created once per step: never again after this. */
        s->has_job = 1;
        s->vanished = 1;
    } else {
        refused(c, s);
    }
}

void plan_step_vanished(const struct ctx *c, struct step *s)
{
    char msg[PLAN_MSG_LEN];
    if (s->tampered)
        snprintf(msg, sizeof msg,
                 "the status named job \"%s\" for this step, not its job \"%s\": taken as "
                 "created and gone (a step never gets a second job)",
                 s->tampered_job, s->job_name);
    else
        snprintf(msg, sizeof msg, "job \"%s\" was deleted before the step finished", s->job_name);
    plan_step_end(s, SP_FAILED, c->now, "JobDeleted", msg);
    s->vanished = 0;
}

void plan_step_failure(const struct step *s, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "step \"%s\" failed", s->label);
    size_t o = n > 0 && (size_t)n < cap ? (size_t)n : cap - 1;
    if (s->has_exit)
        o += (size_t)snprintf(buf + o, cap - o, ": exit code %d%s%s%s", s->exit_code,
                              s->reason[0] ? " (" : "", s->reason, s->reason[0] ? ")" : "");
    else if (s->reason[0])
        o += (size_t)snprintf(buf + o, cap - o, ": %s", s->reason);
    if (o < cap && s->message[0])
        snprintf(buf + o, cap - o, ": %s", s->message);
}

struct json_object *plan_step_json(const struct step *s)
{
    struct json_object *e = kj_obj();
    kj_put(e, "name", kj_str(s->def->name));
    kj_put(e, "finally", kj_bool(s->def->is_finally));
    if (s->index >= 0) {
        kj_put(e, "index", kj_int(s->index));
        struct json_object *m = kj_obj();
        for (size_t k = 0; s->values && k < s->def->n_matrix; k++)
            kj_put(m, s->def->matrix[k].name, kj_str(s->values[k]));
        kj_put(e, "matrix", m);
    }
    kj_put(e, "phase", kj_str(plan_step_phase_name(s->phase)));
    if (s->has_job) {
        kj_put(e, "job", kj_str(s->job_name));
        if (s->job_uid[0])
            kj_put(e, "jobUID", kj_str(s->job_uid));
        kj_put(e, "attempts", kj_int(s->attempts));
    }
    kj_put_time(e, "startTime", s->start_ms);
    kj_put_time(e, "completionTime", s->completion_ms);
    if (s->has_exit)
        kj_put(e, "exitCode", kj_int(s->exit_code));
    if (s->reason[0])
        kj_put(e, "reason", kj_str(s->reason));
    if (s->message[0])
        kj_put(e, "message", kj_str(s->message));
    if (s->results && s->phase == SP_SUCCEEDED)
        kj_put(e, "results", json_object_get(s->results));
    return e;
}
