/* plan_values.c - where a step's $(...) references get their values, and
 * finding a step of a run by name.
 *
 * Results, phases and the run's status come from the run's observed status
 * only, never from what this plan just decided: a Job built from a value
 * the status does not hold yet could differ from the one a replan after a
 * lost write builds (same name, other args). So a step whose values are not
 * recorded yet waits one status round trip. Matrix values come from the
 * combination, whose values come from the same sources (plan_matrix.c). */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <stdio.h>
#include <string.h>

struct step *plan_step_named(struct run *r, const char *name)
{
    for (size_t i = 0; name && i < r->n; i++)
        if (strcmp(r->steps[i].def->name, name) == 0)
            return &r->steps[i];
    for (size_t i = 0; name && i < r->n_combos; i++)
        if (strcmp(r->combos[i].label, name) == 0)
            return &r->combos[i];
    return NULL;
}

static const char *run_outcome(const struct run *r)
{
    static const char *const o[] = {"Succeeded", "Failed", "Failed", "Cancelled"};
    return o[r->cause];
}

static const char *matrix_value(const struct step *s, const struct wf_ref *ref)
{
    for (size_t k = 0; s->values && k < s->def->n_matrix; k++)
        if (strlen(s->def->matrix[k].name) == ref->alen &&
            memcmp(s->def->matrix[k].name, ref->a, ref->alen) == 0)
            return s->values[k];
    return NULL;
}

/* A value the status does not record yet: the step waits, and the plan
 * says so, because the status write that records it is what unblocks the
 * step (the executor sends such a write without holding it back). */
static const char *await_status(struct values *v)
{
    v->wait = 1;
    v->r->c->out->awaits_status = 1;
    return NULL;
}

const char *plan_value_of(void *ud, const struct wf_ref *ref)
{
    struct values *v = ud;
    struct run *r = v->r;
    if (ref->kind == WF_REF_PARAM)
        return wf_params_lookup(r->params, ref);
    if (ref->kind == WF_REF_MATRIX)
        return matrix_value(v->self, ref); /* only a combination has them */
    if (ref->kind == WF_REF_RUN_STATUS) {
        for (size_t i = 0; i < r->spec->n_main; i++)
            if (!plan_step_terminal(r->steps[i].old_phase))
                return await_status(v);
        return run_outcome(r);
    }
    char name[WF_NAME_LEN];
    snprintf(name, sizeof name, "%.*s", (int)ref->alen, ref->a);
    const struct step *p = plan_step_named(r, name);
    if (!p)
        return NULL; /* refused when the Workflow was checked */
    if (ref->kind == WF_REF_PHASE) {
        if (plan_step_terminal(p->old_phase))
            return plan_step_phase_name(p->old_phase);
        return await_status(v);
    }
    if (p->old_phase == SP_SUCCEEDED) {
        const char *val = plan_results_get(p->results, ref->b, ref->blen);
        return val ? val : ""; /* recorded without it: a status edited by hand */
    }
    if (!v->self->def->is_finally && p->phase == SP_SKIPPED) {
        v->skipped = p;
        return NULL;
    }
    /* A finally step reads "" for a step that did not succeed. */
    if (v->self->def->is_finally && plan_step_terminal(p->old_phase))
        return "";
    return await_status(v);
}
