/* plan.c - plan_run: the dispatch on the run's phase. The phase logic
 * lives in plan_start.c (not started), plan_progress.c and plan_steps.c
 * (started) and plan_finish.c (terminal); plan_status.c turns a draft into
 * the status patch; plan_actions.c is the plan container they all fill. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stable reorder into the documented execution order (the enum order). */
static void order_actions(struct plan *p)
{
    if (p->n < 2)
        return;
    struct plan_action *sorted = malloc(p->n * sizeof *sorted);
    if (!sorted)
        abort();
    size_t o = 0;
    for (int k = PLAN_PATCH_STATUS; k <= PLAN_EVENT; k++)
        for (size_t i = 0; i < p->n; i++)
            if ((int)p->actions[i].kind == k)
                sorted[o++] = p->actions[i];
    free(p->actions);
    p->actions = sorted;
    p->cap = p->n;
}

int plan_run(const struct plan_input *in, struct plan *out)
{
    plan_release(out);
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.in = in;
    c.out = out;
    c.now = in->now_ms;
    c.meta = kj_get(in->run, "metadata");
    c.name = kj_get_str(c.meta, "name");
    c.ns = kj_get_str(c.meta, "namespace");
    c.uid = kj_get_str(c.meta, "uid");
    if (!c.name || !c.ns || !c.uid)
        return -EINVAL;
    /* Being deleted: GC removes the children, nothing left to do. */
    if (kj_get(c.meta, "deletionTimestamp"))
        return 0;
    c.rv = kj_get_str(c.meta, "resourceVersion");
    struct json_object *gen = kj_get(c.meta, "generation");
    c.generation = gen ? json_object_get_int64(gen) : 0;
    c.creation_ms = kj_get_time(c.meta, "creationTimestamp");
    c.spec = kj_get(in->run, "spec");
    c.status = kj_get(in->run, "status");
    c.workflow = kj_get_str(kj_get(c.spec, "workflowRef"), "name");
    c.old_phase = plan_phase_parse(kj_get_str(c.status, "phase"));
    struct json_object *ph = kj_get(c.status, "phase");
    if (ph && c.old_phase == PLAN_PHASE_NONE && kj_get(c.status, "workflowSpec")) {
        /* A phase someone wrote that is no phase (a number, "Done"): the
         * snapshot says the run had started, so it resumes from it, never
         * again from the live Workflow; its steps' phases decide the rest
         * (a finished run finds itself finished). */
        plan_event(out, 1, "StatusCorrected", NULL,
                   "status.phase was %.100s, which is not a phase: the run resumes from its "
                   "snapshot (status.workflowSpec) and its steps",
                   json_object_to_json_string_ext(ph, JSON_C_TO_STRING_PLAIN));
        c.old_phase = PLAN_RUNNING;
    }
    c.cancel = kj_get_bool(c.spec, "cancel") || kj_get_bool(c.status, "cancelRequested");
    plan_job_uids(&c);

    if (plan_phase_terminal(c.old_phase))
        plan_terminal(&c);
    else if (c.old_phase == PLAN_PHASE_NONE || c.old_phase == PLAN_PENDING)
        plan_start(&c);
    else
        plan_progress(&c);
    order_actions(out);
    free((void *)c.job_uids);
    free((void *)c.status_uids);
    free(c.status_uid_jobs);
    return 0;
}
