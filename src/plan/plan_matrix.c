/* plan_matrix.c - a matrix step: its combinations, each a step of its own
 * with one Job (<run>-<step>-<index>), and the step itself as their
 * aggregate.
 *
 * Fail-fast across a fan-out needs nothing of its own: a failed
 * combination is a failed step, so the run's teardown deletes every running
 * sibling, combinations included, and the run ends only when their pods
 * are gone (plan_progress.c). What is here: when the combinations become
 * known (from recorded values only, so every replan expands the same ones),
 * how many run at once, and what the step as a whole says. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct step *plan_each_next(struct plan_each *e)
{
    while (e->i < e->hi) {
        struct step *s = &e->r->steps[e->i];
        if (!s->def->n_matrix) {
            e->i++;
            return s;
        }
        if (e->k < s->n_combos)
            return &e->r->combos[s->first + e->k++];
        e->k = 0;
        e->i++;
    }
    return NULL;
}

/* Combinations the old status records for s (1 + the highest index). */
static size_t recorded(const struct ctx *c, const struct step *s)
{
    struct json_object *steps = kj_get(c->status, "steps");
    size_t n = json_object_is_type(steps, json_type_array) ? json_object_array_length(steps) : 0;
    size_t rec = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(steps, i);
        const char *name = kj_get_str(e, "name");
        long k = plan_entry_index(e);
        if (!name || strcmp(name, s->def->name) != 0)
            continue;
        if (k >= 0 && k < WF_MATRIX_MAX && (size_t)k + 1 > rec)
            rec = (size_t)k + 1;
    }
    return rec;
}

static int deps_ready(const struct run *r, const struct step *s)
{
    for (size_t k = 0; k < s->def->n_deps; k++)
        if (!plan_dep_satisfied(&r->steps[r->pos[s->def->deps[k]]]))
            return 0;
    return 1;
}

void plan_matrix_load(struct run *r, size_t i)
{
    struct step *s = &r->steps[i];
    struct ctx *c = r->c;
    size_t rec = recorded(c, s), spec_i = (size_t)(s->def - r->spec->steps);
    struct wf_combos *cb = NULL;
    char why[PLAN_MSG_LEN] = "";
    int rc = -ENOENT;
    /* Known once it may start (its when holds, its values are recorded),
     * or once the status lists them (a Job may exist for each). */
    if (rec || (!plan_step_terminal(s->phase) && deps_ready(r, s))) {
        struct values v = {.r = r, .self = s};
        int when =
            rec ? 1 : wf_when_eval(s->def->when, wf_step_kinds(s->def), plan_value_of, &v, NULL, 0);
        if (when == 1)
            rc = wf_matrix_expand(s->def, plan_value_of, &v, &cb, why, sizeof why);
    }
    if (rc == -EINVAL && !rec) {
        char msg[PLAN_EVENT_MSG_LEN];
        snprintf(msg, sizeof msg, "step \"%s\": %s", s->def->name, why);
        plan_step_end(s, SP_FAILED, r->c->now, "InvalidMatrix", msg);
        return;
    }
    if (rc < 0 && !rec)
        return;
    /* The status is anyone's to edit: combinations it records beyond the
     * expansion are kept (their Jobs are the run's), without values. */
    size_t n = cb && cb->n > rec ? cb->n : rec;
    struct step *grown = realloc(r->combos, (r->n_combos + n + 1) * sizeof *grown);
    if (!grown)
        abort(); /* project rule for OOM (plan.h) */
    r->combos = grown;
    r->expansions[spec_i] = cb;
    s->first = r->n_combos;
    s->n_combos = n;
    s->expanded = 1;
    struct json_object *old_steps = kj_get(c->status, "steps");
    for (size_t k = 0; k < n; k++) {
        struct step *x = &r->combos[r->n_combos++];
        plan_step_observe(c, x, s->def, (long)k, old_steps);
        if (cb && k < cb->n)
            x->values = (const char *const *)&cb->values[k * cb->n_params];
    }
    plan_matrix_aggregate(r, s);
}

/* The results of a matrix step: for each name, a JSON array of its
 * combinations' values in index order. */
static struct json_object *gather_results(const struct run *r, const struct step *s)
{
    struct json_object *out = kj_arr();
    for (size_t k = 0; k < s->def->n_results; k++) {
        const char *name = s->def->results[k].name;
        struct json_object *arr = kj_arr();
        for (size_t i = 0; i < s->n_combos; i++) {
            const char *v = plan_results_get(r->combos[s->first + i].results, name, strlen(name));
            kj_push(arr, kj_str(v ? v : ""));
        }
        struct json_object *e = kj_obj();
        kj_put(e, "name", kj_str(name));
        kj_put(e, "value",
               kj_str(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE)));
        json_object_put(arr);
        kj_push(out, e);
    }
    return out;
}

/* The step's end takes the reason and words of the combination that
 * decided it. */
static void ended_as(struct step *s, enum step_phase ph, const struct step *by, int64_t when)
{
    s->phase = ph;
    s->completion_ms = when;
    s->has_exit = by->has_exit;
    s->exit_code = by->exit_code;
    snprintf(s->reason, sizeof s->reason, "%s", by->reason);
    char msg[PLAN_EVENT_MSG_LEN];
    snprintf(msg, sizeof msg, "%s: %s", by->label, by->message);
    plan_copy_trunc(s->message, sizeof s->message, msg);
}

void plan_matrix_aggregate(struct run *r, struct step *s)
{
    if (!s->expanded || plan_step_terminal(s->old_phase))
        return; /* a terminal step never changes */
    size_t done = 0, ok = 0, started = 0;
    const struct step *failed = NULL, *cancelled = NULL, *skipped = NULL;
    int64_t start = 0, end = 0;
    for (size_t i = 0; i < s->n_combos; i++) {
        const struct step *x = &r->combos[s->first + i];
        int fin = plan_step_terminal(x->phase);
        done += (size_t)fin;
        ok += x->phase == SP_SUCCEEDED;
        started += x->job || x->has_job || x->phase != SP_PENDING;
        if (x->phase == SP_FAILED && !failed)
            failed = x;
        if (x->phase == SP_CANCELLED && !cancelled)
            cancelled = x;
        if (x->phase == SP_SKIPPED && !skipped)
            skipped = x;
        if (x->start_ms && (!start || x->start_ms < start))
            start = x->start_ms;
        if (fin && x->completion_ms > end)
            end = x->completion_ms;
    }
    s->start_ms = start;
    s->reason[0] = s->message[0] = '\0';
    if (done < s->n_combos) {
        s->phase = started ? SP_RUNNING : SP_PENDING;
        s->completion_ms = 0;
        snprintf(s->message, sizeof s->message, "%zu of %zu combinations finished", done,
                 s->n_combos);
        return;
    }
    if (!end)
        end = r->c->now;
    if (failed)
        ended_as(s, SP_FAILED, failed, end);
    else if (cancelled)
        ended_as(s, SP_CANCELLED, cancelled, end);
    else if (skipped && ok)
        ended_as(s, SP_CANCELLED, skipped, end); /* stopped part way */
    else if (skipped)
        ended_as(s, SP_SKIPPED, skipped, end);
    else {
        s->phase = SP_SUCCEEDED;
        s->completion_ms = end;
        snprintf(s->message, sizeof s->message, "%zu combinations succeeded", s->n_combos);
        json_object_put(s->results);
        s->results = s->def->n_results ? gather_results(r, s) : NULL;
    }
}

void plan_matrix_start(struct run *r, struct step *s,
                       int (*create)(struct run *r, struct step *s, struct values *v))
{
    size_t busy = 0, max = (size_t)s->def->max_parallel;
    for (size_t i = 0; i < s->n_combos; i++) {
        const struct step *x = &r->combos[s->first + i];
        busy += !plan_step_terminal(x->phase) && (x->job || x->has_job || x->unconfirmed);
    }
    for (size_t i = 0; i < s->n_combos; i++) {
        struct step *x = &r->combos[s->first + i];
        if (x->phase != SP_PENDING || x->job || x->has_job || x->foreign)
            continue;
        if (max && busy >= max)
            break;
        struct values v = {.r = r, .self = x};
        if (create(r, x, &v) == 1)
            busy++;
    }
}
