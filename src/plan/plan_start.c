/* plan_start.c - a run that has not started: decide whether it can, and
 * if so write the one status that starts it (snapshot, params, steps all
 * Pending). No Job is created in the same plan: Jobs are only ever built
 * from a snapshot that is already stored, so a crash in between cannot
 * create them from a Workflow that changed since. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <stdio.h>
#include <string.h>

static int busy_children(struct ctx *c);

static void fail_invalid(struct ctx *c, const char *message)
{
    if (busy_children(c))
        return;
    struct draft d;
    plan_draft_begin(&d, PLAN_FAILED, R_INVALID, "%s", message);
    d.completion_ms = c->now;
    plan_status_commit(c, &d);
    plan_draft_release(&d);
    plan_finished(c, PLAN_FAILED, c->now);
}

static void pending(struct ctx *c, const char *reason, const char *message)
{
    struct draft d;
    plan_draft_begin(&d, PLAN_PENDING, reason, "%s", message);
    plan_status_commit(c, &d);
    plan_draft_release(&d);
}

/* Creation order; the name breaks ties so that the order is total. */
static int before(int64_t ca, const char *na, int64_t cb, const char *nb)
{
    return ca != cb ? ca < cb : strcmp(na, nb) < 0;
}

static int older(const struct ctx *c, const struct plan_sibling *s)
{
    return before(s->creation_ms, s->name, c->creation_ms, c->name);
}

/* Forbid: the oldest older run still going, or NULL. Replace: cancels
 * every older run still going. */
static const struct plan_sibling *concurrency(struct ctx *c, enum wf_concurrency policy)
{
    const struct plan_sibling *blocker = NULL;
    for (size_t i = 0; i < c->in->n_siblings; i++) {
        const struct plan_sibling *s = &c->in->siblings[i];
        if (strcmp(s->name, c->name) == 0 || plan_phase_terminal(s->phase) || !older(c, s))
            continue;
        if (policy == WF_FORBID &&
            (!blocker || before(s->creation_ms, s->name, blocker->creation_ms, blocker->name)))
            blocker = s;
        if (policy == WF_REPLACE && !s->cancel && !s->deleting) {
            struct plan_action *a = plan_add(c->out, PLAN_CANCEL_RUN);
            snprintf(a->name, sizeof a->name, "%s", s->name);
            snprintf(a->uid, sizeof a->uid, "%s", s->uid);
            a->body = kj_obj();
            struct json_object *spec = kj_obj();
            kj_put(spec, "cancel", kj_bool(1));
            kj_put(a->body, "spec", spec);
            /* the uid makes the patch conditional: a run of the same name
             * made since is not cancelled */
            struct json_object *meta = kj_obj();
            kj_put(meta, "uid", kj_str(s->uid));
            kj_put(a->body, "metadata", meta);
            plan_event(c->out, 0, "Replacing", NULL,
                       "cancelling run \"%s\" (concurrencyPolicy Replace)", s->name);
        }
    }
    return blocker;
}

static void start(struct ctx *c, const struct wf_spec *spec, const struct wf_params *params)
{
    struct draft d;
    plan_draft_begin(&d, PLAN_RUNNING, R_RUNNING, "%s", PLAN_MSG_RUNNING);
    d.start_ms = c->now;
    snprintf(d.progress, sizeof d.progress, "0/%zu", spec->n_steps);
    d.steps = kj_arr();
    for (size_t i = 0; i < spec->n_steps; i++) {
        struct step s;
        memset(&s, 0, sizeof s);
        s.def = &spec->steps[spec->order[i]];
        s.index = -1;
        kj_push(d.steps, plan_step_json(&s));
    }
    d.workflow_spec = kj_copy(spec->raw);
    d.resolved_params = wf_params_to_json(params);
    plan_status_commit(c, &d);
    plan_draft_release(&d);
}

/* A run not started has no Jobs or pods, unless someone wrote its status
 * back: then what is there is swept first, and the run ends only once it is
 * gone (a terminal phase is never written while a pod of the run runs). */
static int busy_children(struct ctx *c)
{
    if (!plan_sweep(c))
        return !plan_pods_listed(c, plan_jobs_gone(c));
    plan_requeue(c->out, PLAN_RECHECK_MS); /* their watch events wake us sooner */
    return 1;
}

void plan_start(struct ctx *c)
{
    char msg[1024];
    if (c->cancel && busy_children(c))
        return;
    if (c->cancel) {
        struct draft d;
        plan_draft_begin(&d, PLAN_CANCELLED, R_CANCELLED, "run was cancelled before it started");
        d.cancel_requested = 1;
        d.completion_ms = c->now;
        plan_status_commit(c, &d);
        plan_draft_release(&d);
        plan_finished(c, PLAN_CANCELLED, c->now);
        return;
    }
    if (!c->workflow || !*c->workflow) {
        fail_invalid(c, "spec.workflowRef.name is required");
        return;
    }
    if (!c->in->workflow) {
        snprintf(msg, sizeof msg, "workflow \"%s\" not found in namespace \"%s\"", c->workflow,
                 c->ns);
        pending(c, R_NOT_FOUND, msg);
        return; /* the Workflow watch wakes this run when it appears */
    }
    struct wf_spec *spec = NULL;
    struct wf_params *params = NULL;
    struct wf_error err;
    if (wf_spec_parse(kj_get(c->in->workflow, "spec"), &spec, &err) < 0 ||
        wf_params_resolve(spec, kj_get(c->spec, "params"), &params, &err) < 0) {
        fail_invalid(c, err.message);
        wf_spec_free(spec);
        return;
    }
    const struct plan_sibling *blocker = concurrency(c, spec->concurrency);
    if (blocker) {
        snprintf(msg, sizeof msg, "waiting for run \"%s\" to finish (concurrencyPolicy Forbid)",
                 blocker->name);
        pending(c, R_QUEUED, msg);
        plan_requeue(c->out, PLAN_RECHECK_MS); /* in case no sibling event wakes us */
    } else {
        start(c, spec, params);
    }
    wf_params_free(params);
    wf_spec_free(spec);
}
