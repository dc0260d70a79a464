/* plan_workflow.c - a Workflow's own status: is the spec valid?
 * Ready=True/Stalled=False, or Ready=False/Stalled=True with the exact
 * validation reason and message; written only when it changes. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int plan_workflow(struct json_object *workflow, int64_t now_ms, struct plan *out)
{
    plan_release(out);
    struct json_object *meta = kj_get(workflow, "metadata");
    const char *name = kj_get_str(meta, "name");
    if (!name)
        return -EINVAL;
    if (kj_get(meta, "deletionTimestamp"))
        return 0;
    struct json_object *gen = kj_get(meta, "generation");
    int64_t generation = gen ? json_object_get_int64(gen) : 0;
    struct json_object *old = kj_get(workflow, "status");
    struct json_object *old_conds = kj_get(old, "conditions");

    struct wf_spec *spec = NULL;
    struct wf_error err;
    int valid = wf_spec_parse(kj_get(workflow, "spec"), &spec, &err) == 0;
    char msg[sizeof err.message];
    if (valid) {
        size_t n_fin = spec->n_steps - spec->n_main;
        snprintf(msg, sizeof msg, "workflow is valid: %zu steps, %zu finally steps", spec->n_main,
                 n_fin);
    }
    wf_spec_free(spec);
    const char *reason = valid ? "Valid" : err.reason;
    const char *message = valid ? msg : err.message;

    struct json_object *st = kj_obj(), *conds = kj_arr();
    kj_put(st, "observedGeneration", kj_int(generation));
    kj_cond_add(conds, old_conds, "Ready", valid ? "True" : "False", reason, message, generation,
                now_ms);
    kj_cond_add(conds, old_conds, "Stalled", valid ? "False" : "True", reason, message, generation,
                now_ms);
    kj_put(st, "conditions", conds);
    if (plan_status_equal(st, old)) {
        json_object_put(st);
        return 0;
    }
    plan_status_patch(out, name, kj_get_str(meta, "resourceVersion"), old, st);
    if (!valid)
        plan_event(out, 1, reason, NULL, "%s", message);
    return 0;
}
