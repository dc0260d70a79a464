/* plan_finish.c - terminal runs: keep observedGeneration current, sweep
 * stray Jobs, apply ttlSecondsAfterFinished and the history limits.
 *
 * Limits come from the run's own snapshot (the live Workflow is not read
 * after the start), or from the live Workflow for runs that never got a
 * snapshot (InvalidWorkflow, cancelled before start). History pruning is
 * done by every terminal run of the Workflow over the same sibling list,
 * so any of them converges the group; the deletes carry uid
 * preconditions and a 404 counts as done. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct limits {
    long long ttl, succeeded, failed; /* -1: unset */
};

static long long limit(struct json_object *spec, const char *key)
{
    struct json_object *v = kj_get(spec, key);
    if (!v || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return -1;
    return json_object_get_int64(v);
}

static void read_limits(const struct ctx *c, struct limits *l)
{
    struct json_object *spec = kj_get(c->status, "workflowSpec");
    if (!spec)
        spec = kj_get(c->in->workflow, "spec");
    l->ttl = limit(spec, "ttlSecondsAfterFinished");
    l->succeeded = limit(spec, "successfulRunsHistoryLimit");
    l->failed = limit(spec, "failedRunsHistoryLimit");
}

static void delete_run(struct ctx *c, const char *name, const char *uid)
{
    struct plan_action *a = plan_add(c->out, PLAN_DELETE_RUN);
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->uid, sizeof a->uid, "%s", uid);
    a->body = kj_delete_options("Background", uid);
}

/* Deletes every unfinished Job of this run not already being deleted, and
 * the live pods of its Jobs that are gone or going; 1 while any of its
 * Jobs or pods is still around and busy. A finished run can only meet one
 * through a create that showed up after the end. */
int plan_sweep(struct ctx *c)
{
    int busy = 0;
    for (size_t i = 0; i < c->in->n_jobs; i++) {
        const struct plan_job *j = &c->in->jobs[i];
        if (j->controller_uid[0] && strcmp(j->controller_uid, c->uid) != 0)
            continue;
        busy |= j->deleting || !plan_job_done(j);
        if (j->deleting || plan_job_failed(j) || plan_job_succeeded(j))
            continue;
        plan_delete_job(c, j->name, j->uid, j->step);
        /* An ended run whose Job still runs: a create seen after the end,
         * or a status someone set to a terminal phase by hand. */
        if (plan_phase_terminal(c->old_phase))
            plan_event(c->out, 1, "StrayJobDeleted", j->name,
                       "job \"%s\" (step \"%s\") was still running after the run ended %s: "
                       "deleting it and its pods",
                       j->name, j->step, plan_phase_name(c->old_phase));
    }
    plan_delete_pods(c);
    for (size_t i = 0; i < c->in->n_pods; i++)
        busy |= plan_pod_running(&c->in->pods[i]) && plan_pod_ours(c, &c->in->pods[i]);
    return busy;
}

struct entry {
    const char *name, *uid;
    int64_t completion, creation;
};

/* Newest first; names break ties so the order is total. */
static int newest_first(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    if (a->completion != b->completion)
        return a->completion > b->completion ? -1 : 1;
    if (a->creation != b->creation)
        return a->creation > b->creation ? -1 : 1;
    return strcmp(b->name, a->name);
}

/* Deletes the oldest runs of one class beyond `keep`; 1 if self is one. */
static int prune(struct ctx *c, long long keep, int failed_class, enum plan_phase self_phase,
                 int64_t self_completion)
{
    if (keep < 0)
        return 0;
    struct entry *e = calloc(c->in->n_siblings + 1, sizeof *e);
    if (!e)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < c->in->n_siblings; i++) {
        const struct plan_sibling *s = &c->in->siblings[i];
        int failed = s->phase == PLAN_FAILED || s->phase == PLAN_CANCELLED;
        if (s->deleting || strcmp(s->name, c->name) == 0 || !plan_phase_terminal(s->phase) ||
            failed != failed_class)
            continue;
        e[n++] = (struct entry){s->name, s->uid, s->completion_ms, s->creation_ms};
    }
    int self_failed = self_phase == PLAN_FAILED || self_phase == PLAN_CANCELLED;
    if (self_failed == failed_class)
        e[n++] = (struct entry){c->name, c->uid, self_completion, c->creation_ms};
    qsort(e, n, sizeof *e, newest_first);
    int self = 0;
    for (size_t i = (size_t)keep; i < n; i++) {
        delete_run(c, e[i].name, e[i].uid);
        self |= strcmp(e[i].name, c->name) == 0;
    }
    free(e);
    return self;
}

void plan_finished(struct ctx *c, enum plan_phase phase, int64_t completion_ms)
{
    struct limits l;
    plan_sweep(c);
    read_limits(c, &l);
    int gone = prune(c, l.succeeded, 0, phase, completion_ms);
    gone |= prune(c, l.failed, 1, phase, completion_ms);
    if (gone || l.ttl < 0 || completion_ms <= 0)
        return;
    int64_t at = completion_ms + l.ttl * 1000;
    if (c->now >= at)
        delete_run(c, c->name, c->uid);
    else
        plan_requeue(c->out, at - c->now);
}

/* A terminal phase someone wrote over a run that was not terminal: the
 * phase stays (terminal phases never change), but once the run's Jobs and
 * pods are gone the conditions that still say otherwise are made to agree
 * with it, naming why. 1 when it wrote. */
static int children_left(const struct ctx *c)
{
    for (size_t i = 0; i < c->in->n_jobs; i++)
        if (strcmp(c->in->jobs[i].controller_uid, c->uid) == 0)
            return 1;
    for (size_t i = 0; i < c->in->n_pods; i++)
        if (plan_pod_ours(c, &c->in->pods[i]))
            return 1;
    return 0;
}

static int conditions_follow_phase(struct ctx *c)
{
    /* Not while the run's children are still there: nothing the operator
     * writes says "done" before they are gone, not even this. */
    if (children_left(c))
        return 0;
    struct json_object *sc = kj_cond_find(kj_get(c->status, "conditions"), "Succeeded");
    const char *have = kj_get_str(sc, "status");
    const char *want = c->old_phase == PLAN_SUCCEEDED ? "True" : "False";
    if (have && strcmp(have, want) == 0)
        return 0;
    struct draft d;
    plan_draft_begin(&d, c->old_phase, "PhaseSetByHand",
                     "status.phase was set to %s by another writer while the condition "
                     "Succeeded said %s; the phase stays, the conditions follow it",
                     plan_phase_name(c->old_phase), have ? have : "nothing");
    struct json_object *st = kj_copy(c->status);
    kj_put(st, "observedGeneration", kj_int(c->generation));
    plan_status_conditions(c, st, &d);
    if (!kj_get(st, "completionTime"))
        kj_put_time(st, "completionTime", c->now);
    plan_status_patch(c->out, c->name, c->rv, c->status, st);
    plan_event(c->out, 1, "StatusCorrected", NULL, "%s", d.message);
    return 1;
}

void plan_terminal(struct ctx *c)
{
    if (conditions_follow_phase(c)) {
        plan_finished(c, c->old_phase, kj_get_time(c->status, "completionTime"));
        return;
    }
    /* Only observedGeneration can change now (say, a late spec.cancel). */
    struct json_object *og = kj_get(c->status, "observedGeneration");
    if (!og || json_object_get_int64(og) != c->generation) {
        struct json_object *st = kj_copy(c->status);
        kj_put(st, "observedGeneration", kj_int(c->generation));
        struct json_object *conds = kj_get(st, "conditions");
        size_t n =
            json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
        for (size_t i = 0; i < n; i++) {
            struct json_object *cond = json_object_array_get_idx(conds, i);
            if (json_object_is_type(cond, json_type_object))
                kj_put(cond, "observedGeneration", kj_int(c->generation));
        }
        plan_status_patch(c->out, c->name, c->rv, c->status, st);
    }
    plan_finished(c, c->old_phase, kj_get_time(c->status, "completionTime"));
}
