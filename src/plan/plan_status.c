/* plan_status.c - from a draft to the new status: kstatus conditions,
 * semantic comparison with the old status, the merge patch.
 *
 * lastTransitionTime is carried over from the old condition unless its
 * status flips, so comparing while ignoring it is exact: a status that
 * only differs there is the same status and is not written again. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const step_names[] = {"Pending", "Running",   "Succeeded",
                                         "Failed",  "Cancelled", "Skipped"};

const char *plan_step_phase_name(enum step_phase p)
{
    return step_names[p];
}

enum step_phase plan_step_phase_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof step_names / sizeof step_names[0]; i++)
        if (strcmp(s, step_names[i]) == 0)
            return (enum step_phase)i;
    return SP_PENDING;
}

int plan_step_terminal(enum step_phase p)
{
    return p >= SP_SUCCEEDED;
}

void plan_draft_init(struct draft *d)
{
    memset(d, 0, sizeof *d);
}

void plan_draft_begin(struct draft *d, enum plan_phase phase, const char *reason, const char *fmt,
                      ...)
{
    va_list ap;
    plan_draft_init(d);
    d->phase = phase;
    d->reason = reason;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): see plan_event */
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
}

void plan_draft_release(struct draft *d)
{
    json_object_put(d->steps);
    json_object_put(d->results);
    json_object_put(d->workflow_spec);
    json_object_put(d->resolved_params);
    plan_draft_init(d);
}

static int skipped(const char *key, int top)
{
    return strcmp(key, "lastTransitionTime") == 0 ||
           (top && (strcmp(key, "workflowSpec") == 0 || strcmp(key, "resolvedParams") == 0));
}

static size_t count_keys(struct json_object *o, int top)
{
    size_t n = 0;
    struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
        n += !skipped(json_object_iter_peek_name(&it), top);
    return n;
}

static int jeq(struct json_object *a, struct json_object *b, int top)
{
    if (a == b)
        return 1;
    if (!a || !b || json_object_get_type(a) != json_object_get_type(b))
        return 0;
    if (json_object_is_type(a, json_type_array)) {
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b))
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!jeq(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i), 0))
                return 0;
        return 1;
    }
    if (!json_object_is_type(a, json_type_object))
        return json_object_equal(a, b);
    if (count_keys(a, top) != count_keys(b, top))
        return 0;
    struct json_object_iterator it = json_object_iter_begin(a), end = json_object_iter_end(a);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        struct json_object *bv = NULL;
        if (skipped(key, top))
            continue;
        if (!json_object_object_get_ex(b, key, &bv) ||
            !jeq(json_object_iter_peek_value(&it), bv, 0))
            return 0;
    }
    return 1;
}

int plan_status_equal(struct json_object *a, struct json_object *b)
{
    return jeq(a, b, 1);
}

void plan_status_patch(struct plan *p, const char *name, const char *rv, struct json_object *old,
                       struct json_object *new_status)
{
    /* A merge patch keeps keys it does not mention: null removes them. */
    if (old && json_object_is_type(old, json_type_object)) {
        struct json_object_iterator it = json_object_iter_begin(old);
        struct json_object_iterator end = json_object_iter_end(old);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *key = json_object_iter_peek_name(&it);
            if (!json_object_object_get_ex(new_status, key, NULL))
                kj_put(new_status, key, NULL);
        }
    }
    struct json_object *body = kj_obj();
    if (rv) {
        struct json_object *meta = kj_obj();
        kj_put(meta, "resourceVersion", kj_str(rv));
        kj_put(body, "metadata", meta);
    }
    kj_put(body, "status", new_status);
    struct plan_action *a = plan_add(p, PLAN_PATCH_STATUS);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->body = body;
}

void plan_status_conditions(struct ctx *c, struct json_object *st, const struct draft *d)
{
    struct json_object *old = kj_get(c->status, "conditions"), *arr = kj_arr();
    const char *succeeded = "Unknown", *ready = "False", *reconciling = "True", *stalled = "False";
    if (d->phase == PLAN_SUCCEEDED) {
        succeeded = ready = "True";
        reconciling = "False";
    } else if (d->phase == PLAN_FAILED || d->phase == PLAN_CANCELLED) {
        succeeded = reconciling = "False";
        stalled = "True";
    }
    const char *types[] = {"Succeeded", "Ready", "Reconciling", "Stalled"};
    const char *values[] = {succeeded, ready, reconciling, stalled};
    for (size_t i = 0; i < 4; i++)
        kj_cond_add(arr, old, types[i], values[i], d->reason, d->message, c->generation, c->now);
    if (d->stuck)
        kj_cond_add(arr, old, "TeardownStuck", "True", "PodsNotTerminating", d->stuck_message,
                    c->generation, c->now);
    else if (kj_cond_find(old, "TeardownStuck"))
        kj_cond_add(arr, old, "TeardownStuck", "False", "NoPodStuck", "no pod is stuck terminating",
                    c->generation, c->now);
    /* Label-only children are refused (never deleted, waited for or
     * counted); the condition says which, while they exist. */
    char foreign[600];
    if (plan_foreign_children(c, foreign, sizeof foreign))
        kj_cond_add(arr, old, "ForeignChildren", "True", "NotOwned", foreign, c->generation,
                    c->now);
    else if (kj_cond_find(old, "ForeignChildren"))
        kj_cond_add(arr, old, "ForeignChildren", "False", "NoneSeen",
                    "no Job or pod carries this run's label without being its child", c->generation,
                    c->now);
    kj_put(st, "conditions", arr);
}

static struct json_object *carried(struct json_object **fresh, struct json_object *old)
{
    struct json_object *v = *fresh;
    *fresh = NULL;
    return v ? v : old ? kj_copy(old) : NULL;
}

void plan_status_commit(struct ctx *c, struct draft *d)
{
    struct json_object *st = kj_obj();
    kj_put(st, "phase", kj_str(plan_phase_name(d->phase)));
    kj_put(st, "observedGeneration", kj_int(c->generation));
    plan_status_conditions(c, st, d);
    kj_put_time(st, "startTime", d->start_ms);
    kj_put_time(st, "completionTime", d->completion_ms);
    kj_put(st, "message", kj_str(d->message));
    if (d->progress[0])
        kj_put(st, "progress", kj_str(d->progress));
    if (d->current_step[0])
        kj_put(st, "currentStep", kj_str(d->current_step));
    if (d->cancel_requested)
        kj_put(st, "cancelRequested", kj_bool(1));
    if (d->steps) {
        kj_put(st, "steps", d->steps);
        d->steps = NULL;
    }
    if (d->results) {
        kj_put(st, "results", d->results);
        d->results = NULL;
    }
    /* The snapshot is only compared on the first write (old has none). */
    struct json_object *ws = kj_get(c->status, "workflowSpec");
    struct json_object *rp = kj_get(c->status, "resolvedParams");
    int same = plan_status_equal(st, c->status) && (!d->workflow_spec || ws) &&
               (!d->resolved_params || rp);
    if (same) {
        json_object_put(st);
        return;
    }
    struct json_object *v = carried(&d->resolved_params, rp);
    if (v)
        kj_put(st, "resolvedParams", v);
    v = carried(&d->workflow_spec, ws);
    if (v)
        kj_put(st, "workflowSpec", v);
    struct json_object *was_stuck = kj_cond_find(kj_get(c->status, "conditions"), "TeardownStuck");
    const char *was = kj_get_str(was_stuck, "status");
    if (d->stuck && !(was && strcmp(was, "True") == 0))
        plan_event(c->out, 1, "TeardownStuck", NULL, "%s", d->stuck_message);
    /* The operator writes status.message and the Succeeded condition's
     * message as one text: apart, another writer changed one of them. */
    const char *old_msg = kj_get_str(c->status, "message");
    const char *cond_msg =
        kj_get_str(kj_cond_find(kj_get(c->status, "conditions"), "Succeeded"), "message");
    if (old_msg && cond_msg && strcmp(old_msg, cond_msg) != 0)
        plan_event(c->out, 1, "StatusCorrected", NULL,
                   "status.message had been changed by another writer (%zu bytes); it is the "
                   "run's own again",
                   strlen(old_msg));
    /* An Event when the refusal starts, not on every write. */
    struct json_object *fc_new = kj_cond_find(kj_get(st, "conditions"), "ForeignChildren");
    struct json_object *fc_old = kj_cond_find(kj_get(c->status, "conditions"), "ForeignChildren");
    const char *fn = kj_get_str(fc_new, "status"), *fo = kj_get_str(fc_old, "status");
    if (fn && strcmp(fn, "True") == 0 && !(fo && strcmp(fo, "True") == 0))
        plan_event(c->out, 1, "ForeignChildrenIgnored", NULL, "%s", kj_get_str(fc_new, "message"));
    plan_status_patch(c->out, c->name, c->rv, c->status, st);
    if (d->phase != c->old_phase)
        plan_event(c->out, d->phase == PLAN_FAILING || d->phase == PLAN_FAILED,
                   plan_phase_name(d->phase), NULL, "%s", d->message);
}
