/* Fuzz target: arbitrary bytes as a Workflow spec, through parse and
 * validation, parameter resolution, the Job of every step, plan_workflow,
 * and plan_run for the first two passes of a run (start, then creates).
 * Invariants abort, so libFuzzer (or the replay build) reports them:
 *  - a rejected spec has a known reason and a non-empty message;
 *  - an accepted spec has a topological order: every step after its deps;
 *  - every Job name is a DNS label of at most 63 characters, and the body
 *    has exactly one container, named "step";
 *  - plan_run never fails on a well-formed run, and its second pass
 *    creates only Jobs of steps without dependencies. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "wf/wf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_wf: %s:%d: %s\n", __FILE__, __LINE__, #c);                       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static struct json_object *parse(const uint8_t *data, size_t size)
{
    struct json_tokener *tok = json_tokener_new_ex(64);
    if (!tok)
        return NULL;
    struct json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    return o;
}

static void check_error(const struct wf_error *err)
{
    static const char *const reasons[] = {WF_R_DUPLICATE, WF_R_UNKNOWN_DEP, WF_R_CYCLE,
                                          WF_R_UNKNOWN_PARAM, WF_R_INVALID};
    int known = 0;
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        known |= strcmp(err->reason, reasons[i]) == 0;
    REQUIRE(known);
    REQUIRE(err->message[0] != '\0');
}

static void check_order(const struct wf_spec *s)
{
    size_t *pos = calloc(s->n_steps + 1, sizeof *pos);
    REQUIRE(pos);
    for (size_t i = 0; i < s->n_steps; i++)
        pos[s->order[i]] = i;
    for (size_t i = 0; i < s->n_steps; i++)
        for (size_t k = 0; k < s->steps[i].n_deps; k++)
            REQUIRE(pos[s->steps[i].deps[k]] < pos[i]);
    free(pos);
}

/* Every declared parameter set, so substitution always resolves. */
static struct json_object *run_params(const struct wf_spec *s)
{
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < s->n_params; i++) {
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(s->params[i].name));
        json_object_object_add(p, "value", json_object_new_string("v$(params.x)$$;"));
        json_object_array_add(arr, p);
    }
    return arr;
}

/* Params as resolved; every other reference a value with a '$' in it,
 * and a JSON array for a matrix's values. */
static const char *any_value(void *ud, const struct wf_ref *ref)
{
    if (ref->kind == WF_REF_PARAM)
        return wf_params_lookup(ud, ref);
    return ref->kind == WF_REF_RESULT ? "[\"a$b\",1]" : "v$(x)";
}

static void check_jobs(const struct wf_spec *s, struct wf_params *p)
{
    const struct wf_run_ref run = {"run-1", "ns", "uid-1", "wf"};
    for (size_t i = 0; i < s->n_steps; i++) {
        struct json_object *job = NULL, *v = NULL;
        if (s->steps[i].n_matrix) {
            struct wf_combos *c = NULL;
            char why[256];
            int r = wf_matrix_expand(&s->steps[i], any_value, p, &c, why, sizeof why);
            /* a param's value is not a JSON array: refused, said why */
            REQUIRE(r == 0 || (r == -EINVAL && why[0]));
            REQUIRE(r < 0 || c->n <= WF_MATRIX_MAX);
            wf_combos_free(c);
            REQUIRE(wf_job_build_combo(s, i, 0, any_value, p, &run, &job) == 0);
        } else {
            REQUIRE(wf_job_build(s, i, any_value, p, &run, &job) == 0);
        }
        REQUIRE(json_object_object_get_ex(job, "metadata", &v));
        REQUIRE(json_object_object_get_ex(v, "name", &v));
        const char *name = json_object_get_string(v);
        REQUIRE(strlen(name) <= 63 && wf_is_dns_label(name));
        REQUIRE(json_object_object_get_ex(job, "spec", &v));
        REQUIRE(json_object_object_get_ex(v, "template", &v));
        REQUIRE(json_object_object_get_ex(v, "spec", &v));
        REQUIRE(json_object_object_get_ex(v, "containers", &v));
        REQUIRE(json_object_array_length(v) == 1);
        v = json_object_array_get_idx(v, 0);
        REQUIRE(json_object_object_get_ex(v, "name", &v));
        REQUIRE(strcmp(json_object_get_string(v), "step") == 0);
        json_object_put(job);
    }
}

/* In status.steps[] (the step's own entry): Skipped by its when. */
static int when_skipped(struct json_object *steps, const char *name)
{
    size_t n = json_object_is_type(steps, json_type_array) ? json_object_array_length(steps) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(steps, i), *v = NULL;
        if (!json_object_object_get_ex(e, "name", &v) ||
            strcmp(json_object_get_string(v), name) != 0)
            continue;
        struct json_object *ph = NULL, *re = NULL;
        return json_object_object_get_ex(e, "phase", &ph) &&
               json_object_object_get_ex(e, "reason", &re) &&
               strcmp(json_object_get_string(ph), "Skipped") == 0 &&
               strcmp(json_object_get_string(re), "WhenConditionFalse") == 0;
    }
    return 0;
}

/* A run of the spec: first pass starts it, second pass creates Jobs. */
static void check_plans(struct json_object *spec, const struct wf_spec *s)
{
    struct json_object *wf = json_object_new_object(), *meta = json_object_new_object();
    json_object_object_add(meta, "name", json_object_new_string("wf"));
    json_object_object_add(wf, "metadata", meta);
    json_object_object_add(wf, "spec", json_object_get(spec));
    struct plan p;
    plan_init(&p);
    REQUIRE(plan_workflow(wf, 1795600800000LL, &p) == 0);

    struct json_object *run = json_tokener_parse(
        "{\"metadata\":{\"name\":\"run-1\",\"namespace\":\"ns\",\"uid\":\"uid-1\",\"generation\":1,"
        "\"creationTimestamp\":\"2026-11-25T10:00:00Z\"},\"spec\":{\"workflowRef\":{\"name\":"
        "\"wf\"}}}");
    REQUIRE(run);
    struct json_object *rspec = NULL;
    json_object_object_get_ex(run, "spec", &rspec);
    json_object_object_add(rspec, "params", run_params(s));
    struct plan_input in = {.run = run, .workflow = wf, .now_ms = 1795600801000LL};
    REQUIRE(plan_run(&in, &p) == 0);
    REQUIRE(p.n >= 1 && p.actions[0].kind == PLAN_PATCH_STATUS);
    REQUIRE(plan_count(&p, PLAN_CREATE_JOB) == 0);
    struct json_object *status = NULL;
    json_object_object_get_ex(p.actions[0].body, "status", &status);
    json_object_object_add(run, "status", json_object_get(status));
    in.now_ms += 1; /* before any deadline (>= 1 s): only main steps may start */
    REQUIRE(plan_run(&in, &p) == 0);
    struct json_object *st2 = NULL, *steps2 = NULL;
    if (p.n && p.actions[0].kind == PLAN_PATCH_STATUS &&
        json_object_object_get_ex(p.actions[0].body, "status", &st2))
        json_object_object_get_ex(st2, "steps", &steps2);
    for (size_t i = 0; i < p.n; i++) {
        if (p.actions[i].kind != PLAN_CREATE_JOB)
            continue;
        char name[64]; /* a matrix combination's is "step[i]" */
        snprintf(name, sizeof name, "%s", p.actions[i].step);
        name[strcspn(name, "[")] = '\0';
        int idx = wf_step_index(s, name);
        REQUIRE(idx >= 0 && !s->steps[idx].is_finally);
        /* Its dependencies, if any, were skipped by their when in this
         * very plan (a skip by a condition lets dependents start). */
        for (size_t k = 0; k < s->steps[idx].n_deps; k++)
            REQUIRE(when_skipped(steps2, s->steps[s->steps[idx].deps[k]].name));
    }
    plan_release(&p);
    json_object_put(run);
    json_object_put(wf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    struct json_object *spec = parse(data, size);
    if (!spec)
        return 0;
    struct wf_spec *s = NULL;
    struct wf_error err;
    memset(&err, 0, sizeof err);
    if (wf_spec_parse(spec, &s, &err) < 0) {
        check_error(&err);
        json_object_put(spec);
        return 0;
    }
    check_order(s);
    struct json_object *rp = run_params(s);
    struct wf_params *params = NULL;
    REQUIRE(wf_params_resolve(s, rp, &params, &err) == 0);
    check_jobs(s, params);
    check_plans(spec, s);
    wf_params_free(params);
    json_object_put(rp);
    wf_spec_free(s);
    json_object_put(spec);
    return 0;
}
