/* wf_parse.c - Workflow spec json -> struct wf_spec, with the shape checks
 * (InvalidSpec). Graph and parameter checks live in wf_graph.c and
 * wf_params.c; wf_spec_parse runs all of them so a wf_spec always holds a
 * valid Workflow. Strings borrow from the json (see wf.h). */
#include "wf/wf.h"
#include "wf/wf-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wf_param_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || (*s >= '0' && *s <= '9') || *s == '-')
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Optional integer member in [min, max]; absent leaves *out as is.
 * 0 ok, -1 present but wrong type or out of range. */
static int opt_int(struct json_object *o, const char *key, long long min, long long max,
                   long long *out)
{
    struct json_object *v = kj_get(o, key);
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return -1;
    long long x = json_object_get_int64(v);
    if (x < min || x > max)
        return -1;
    *out = x;
    return 0;
}

/* NULL/absent is fine; otherwise an array whose items are all strings. */
static int string_list(struct json_object *v)
{
    if (!v)
        return 1;
    if (!json_object_is_type(v, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(v); i++)
        if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
            return 0;
    return 1;
}

/* NULL/absent is fine; otherwise an object whose values are all strings. */
static int string_map(struct json_object *v)
{
    if (!v)
        return 1;
    if (!json_object_is_type(v, json_type_object))
        return 0;
    struct json_object_iterator it = json_object_iter_begin(v);
    struct json_object_iterator end = json_object_iter_end(v);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
        if (!json_object_is_type(json_object_iter_peek_value(&it), json_type_string))
            return 0;
    return 1;
}

static int is_obj_or_absent(struct json_object *v)
{
    return !v || json_object_is_type(v, json_type_object);
}

/* Each mount needs a name (a podTemplate.spec volume) and an absolute
 * mountPath; the API server checks the rest when the Job is created. */
static int parse_mounts(const char *step, struct json_object *m, struct wf_error *err)
{
    if (!m)
        return 0;
    if (!json_object_is_type(m, json_type_array))
        return wf_fail(err, WF_R_INVALID, "step \"%s\": volumeMounts must be a list", step);
    for (size_t i = 0; i < json_object_array_length(m); i++) {
        struct json_object *v = json_object_array_get_idx(m, i);
        const char *name = kj_get_str(v, "name"), *path = kj_get_str(v, "mountPath");
        if (!json_object_is_type(v, json_type_object) || !name || !*name || !path || path[0] != '/')
            return wf_fail(err, WF_R_INVALID,
                           "step \"%s\": volumeMounts[%zu] needs a name and an absolute "
                           "mountPath",
                           step, i);
    }
    return 0;
}

static int parse_env(const char *step, struct json_object *env, struct wf_error *err)
{
    if (!env)
        return 0;
    if (!json_object_is_type(env, json_type_array))
        return wf_fail(err, WF_R_INVALID, "step \"%s\": env must be a list", step);
    for (size_t i = 0; i < json_object_array_length(env); i++) {
        struct json_object *e = json_object_array_get_idx(env, i);
        const char *ename =
            e && json_object_is_type(e, json_type_object) ? kj_get_str(e, "name") : NULL;
        if (!ename || !*ename)
            return wf_fail(err, WF_R_INVALID, "step \"%s\": env[%zu] needs a name", step, i);
        struct json_object *val = kj_get(e, "value");
        if (val && !json_object_is_type(val, json_type_string))
            return wf_fail(err, WF_R_INVALID, "step \"%s\": env[%zu].value must be a string", step,
                           i);
        if (!is_obj_or_absent(kj_get(e, "valueFrom")))
            return wf_fail(err, WF_R_INVALID, "step \"%s\": env[%zu].valueFrom must be an object",
                           step, i);
    }
    return 0;
}

static int parse_pod_template(const char *step, struct json_object *pt, struct wf_error *err)
{
    if (!pt)
        return 0;
    struct json_object *meta = kj_get(pt, "metadata"), *spec = kj_get(pt, "spec");
    if (!json_object_is_type(pt, json_type_object) || !is_obj_or_absent(meta) ||
        !is_obj_or_absent(spec))
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podTemplate must be an object with optional metadata and "
                       "spec objects",
                       step);
    if (!string_map(kj_get(meta, "labels")) || !string_map(kj_get(meta, "annotations")))
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podTemplate labels and annotations must map strings to "
                       "strings",
                       step);
    /* The controller owns these; refusing beats silently overriding. */
    static const char *const owned[] = {"containers", "restartPolicy"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (kj_get(spec, owned[i]))
            return wf_fail(err, WF_R_INVALID,
                           "step \"%s\": podTemplate.spec.%s is set by the controller and must "
                           "not be given",
                           step, owned[i]);
    return 0;
}

/* when: [{input, operator: in|notin, values: [strings]}]; the references
 * in it are checked with the others (wf_check.c). */
static int parse_when(const char *name, struct json_object *when, struct wf_error *err)
{
    if (!when)
        return 0;
    size_t n = json_object_is_type(when, json_type_array) ? json_object_array_length(when) : 0;
    if (!json_object_is_type(when, json_type_array) || n > WF_WHEN_MAX)
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": when must be a list of at most %d expressions", name,
                       WF_WHEN_MAX);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(when, i);
        const char *op = kj_get_str(e, "operator");
        struct json_object *vals = kj_get(e, "values");
        if (!json_object_is_type(e, json_type_object) || !kj_get_str(e, "input"))
            return wf_fail(err, WF_R_INVALID, "step \"%s\": when[%zu].input must be a string", name,
                           i);
        if (!op || (strcmp(op, "in") != 0 && strcmp(op, "notin") != 0))
            return wf_fail(err, WF_R_INVALID, "step \"%s\": when[%zu].operator must be in or notin",
                           name, i);
        if (!string_list(vals) || !vals || json_object_array_length(vals) == 0 ||
            json_object_array_length(vals) > WF_WHEN_VALUES_MAX)
            return wf_fail(err, WF_R_INVALID,
                           "step \"%s\": when[%zu].values must be a list of 1 to %d strings", name,
                           i, WF_WHEN_VALUES_MAX);
    }
    return 0;
}

/* results: [{name, description, default}]: names unique, at most
 * WF_RESULTS_MAX. Finally steps have none: nothing runs after them. */
static int parse_results(struct wf_step *st, struct json_object *res, struct wf_error *err)
{
    if (!res)
        return 0;
    size_t n = json_object_is_type(res, json_type_array) ? json_object_array_length(res) : 0;
    if (!json_object_is_type(res, json_type_array) || n > WF_RESULTS_MAX)
        return wf_fail(err, WF_R_INVALID, "step \"%s\": results must be a list of at most %d",
                       st->name, WF_RESULTS_MAX);
    if (st->is_finally && n)
        return wf_fail(err, WF_R_INVALID,
                       "finally step \"%s\" declares results; nothing runs after finally steps "
                       "to read them",
                       st->name);
    st->results = wf_xcalloc(n ? n : 1, sizeof *st->results);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(res, i), *def = kj_get(e, "default");
        const char *name = kj_get_str(e, "name");
        if (!json_object_is_type(e, json_type_object) || !name || !wf_param_name_ok(name))
            return wf_fail(err, WF_R_INVALID,
                           "step \"%s\": results[%zu].name must be a letter or '_', then "
                           "letters, digits, '_' or '-' (at most 63)",
                           st->name, i);
        if (wf_result_index(st, name, strlen(name)) >= 0)
            return wf_fail(err, WF_R_INVALID, "step \"%s\": duplicate result name \"%s\"", st->name,
                           name);
        if (def && (!json_object_is_type(def, json_type_string) ||
                    (size_t)json_object_get_string_len(def) > WF_RESULT_MAX))
            return wf_fail(err, WF_R_INVALID,
                           "step \"%s\": result \"%s\": default must be a string of at most %d "
                           "bytes",
                           st->name, name, WF_RESULT_MAX);
        st->results[i].name = name;
        st->results[i].def = def ? json_object_get_string(def) : NULL;
        st->n_results = i + 1;
    }
    return 0;
}

int wf_result_index(const struct wf_step *st, const char *name, size_t len)
{
    for (size_t i = 0; i < st->n_results; i++)
        if (strlen(st->results[i].name) == len && memcmp(st->results[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

unsigned wf_step_kinds(const struct wf_step *st)
{
    if (st->is_finally)
        return WF_REF_PARAM | WF_REF_RESULT | WF_REF_PHASE | WF_REF_RUN_STATUS;
    return WF_REF_PARAM | WF_REF_RESULT | (st->n_matrix ? WF_REF_MATRIX : 0u);
}

static int parse_step(struct json_object *o, const char *list, size_t idx, struct wf_step *st,
                      struct wf_error *err)
{
    if (!o || !json_object_is_type(o, json_type_object))
        return wf_fail(err, WF_R_INVALID, "spec.%s[%zu] must be an object", list, idx);
    const char *name = kj_get_str(o, "name");
    if (!name || !*name)
        return wf_fail(err, WF_R_INVALID, "spec.%s[%zu].name is required", list, idx);
    if (strlen(name) > WF_STEP_NAME_MAX)
        return wf_fail(err, WF_R_INVALID, "step name \"%.60s...\" is longer than %d characters",
                       name, WF_STEP_NAME_MAX);
    if (!wf_is_dns_label(name))
        return wf_fail(err, WF_R_INVALID,
                       "step name \"%s\" is not a valid DNS label (lowercase letters, digits "
                       "and '-', starting and ending with a letter or digit)",
                       name);
    st->name = name;
    st->raw = o;
    st->image = kj_get_str(o, "image");
    if (!st->image || !*st->image)
        return wf_fail(err, WF_R_INVALID, "step \"%s\": image is required", name);
    /* Not substituted there: every create would fail, the run never end. */
    if (strstr(st->image, "$(params.") || strstr(st->image, "$(steps.") ||
        strstr(st->image, "$(run.") || strstr(st->image, "$(matrix."))
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": image cannot use $(params...) or other references; they "
                       "are substituted in command, args and env only",
                       name);
    st->command = kj_get(o, "command");
    st->args = kj_get(o, "args");
    if (!string_list(st->command))
        return wf_fail(err, WF_R_INVALID, "step \"%s\": command must be a list of strings", name);
    if (!string_list(st->args))
        return wf_fail(err, WF_R_INVALID, "step \"%s\": args must be a list of strings", name);
    st->env = kj_get(o, "env");
    int r = parse_env(name, st->env, err);
    if (r < 0)
        return r;
    struct json_object *wd = kj_get(o, "workingDir");
    if (wd && !json_object_is_type(wd, json_type_string))
        return wf_fail(err, WF_R_INVALID, "step \"%s\": workingDir must be a string", name);
    st->working_dir = wd ? json_object_get_string(wd) : NULL;
    st->resources = kj_get(o, "resources");
    if (!is_obj_or_absent(st->resources))
        return wf_fail(err, WF_R_INVALID, "step \"%s\": resources must be an object", name);
    st->volume_mounts = kj_get(o, "volumeMounts");
    r = parse_mounts(name, st->volume_mounts, err);
    if (r < 0)
        return r;
    st->pod_template = kj_get(o, "podTemplate");
    r = parse_pod_template(name, st->pod_template, err);
    if (r < 0)
        return r;
    if (!string_list(kj_get(o, "dependsOn")))
        return wf_fail(err, WF_R_INVALID, "step \"%s\": dependsOn must be a list of step names",
                       name);
    long long retries = 0, timeout = 0;
    if (opt_int(o, "retries", 0, INT32_MAX, &retries) < 0)
        return wf_fail(err, WF_R_INVALID, "step \"%s\": retries must be an integer >= 0", name);
    if (opt_int(o, "timeoutSeconds", 1, INT64_MAX, &timeout) < 0)
        return wf_fail(err, WF_R_INVALID, "step \"%s\": timeoutSeconds must be an integer > 0",
                       name);
    st->retries = (int)retries;
    st->timeout_seconds = timeout;
    st->when = kj_get(o, "when");
    r = parse_when(name, st->when, err);
    if (r == 0)
        r = parse_results(st, kj_get(o, "results"), err);
    if (r == 0)
        r = wf_matrix_parse(st, kj_get(o, "matrix"), err);
    if (r < 0)
        return r;
    return wf_pod_failure_policy(name, kj_get(o, "podFailurePolicy"), st->pod_template,
                                 &st->pod_failure_policy, err);
}

static int parse_params(struct wf_spec *s, struct json_object *params, struct wf_error *err)
{
    if (!params)
        return 0;
    if (!json_object_is_type(params, json_type_array))
        return wf_fail(err, WF_R_INVALID, "spec.params must be a list");
    size_t n = json_object_array_length(params);
    if (n > WF_PARAMS_MAX)
        return wf_fail(err, WF_R_INVALID, "too many parameters: %zu (at most %d)", n,
                       WF_PARAMS_MAX);
    s->params = wf_xcalloc(n, sizeof *s->params);
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = json_object_array_get_idx(params, i);
        const char *name = kj_get_str(p, "name");
        if (!name)
            return wf_fail(err, WF_R_INVALID, "spec.params[%zu] must be an object with a name", i);
        if (!wf_param_name_ok(name))
            return wf_fail(err, WF_R_INVALID,
                           "parameter name \"%s\" is not valid (a letter or '_', then letters, "
                           "digits, '_' or '-'; at most 63)",
                           name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->params[j].name, name) == 0)
                return wf_fail(err, WF_R_INVALID, "duplicate parameter name \"%s\"", name);
        struct json_object *def = kj_get(p, "default");
        if (def && !json_object_is_type(def, json_type_string))
            return wf_fail(err, WF_R_INVALID, "parameter \"%s\": default must be a string", name);
        s->params[i].name = name;
        s->params[i].def = def ? json_object_get_string(def) : NULL;
        s->n_params = i + 1;
    }
    return 0;
}

/* spec.results: [{name, value}], names unique; the references in the
 * values are checked with the others (wf_check.c). */
static int parse_run_results(struct wf_spec *s, struct json_object *res, struct wf_error *err)
{
    if (!res)
        return 0;
    size_t n = json_object_is_type(res, json_type_array) ? json_object_array_length(res) : 0;
    if (!json_object_is_type(res, json_type_array) || n > WF_RESULTS_MAX)
        return wf_fail(err, WF_R_INVALID, "spec.results must be a list of at most %d",
                       WF_RESULTS_MAX);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(res, i);
        const char *name = kj_get_str(e, "name");
        struct json_object *v = kj_get(e, "value");
        if (!name || !wf_param_name_ok(name) || !json_object_is_type(v, json_type_string))
            return wf_fail(err, WF_R_INVALID,
                           "spec.results[%zu] needs a valid name and a string value", i);
        for (size_t k = 0; k < i; k++)
            if (strcmp(kj_get_str(json_object_array_get_idx(res, k), "name"), name) == 0)
                return wf_fail(err, WF_R_INVALID, "spec.results: duplicate name \"%s\"", name);
    }
    s->results = res;
    return 0;
}

static int parse_enum(struct json_object *spec, const char *key, const char *const *names, size_t n,
                      int *out, struct wf_error *err)
{
    struct json_object *v = kj_get(spec, key);
    if (!v)
        return 0;
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    if (n == 2)
        return wf_fail(err, WF_R_INVALID, "spec.%s must be %s or %s, not \"%s\"", key, names[0],
                       names[1], s);
    return wf_fail(err, WF_R_INVALID, "spec.%s must be %s, %s or %s, not \"%s\"", key, names[0],
                   names[1], names[2], s);
}

static int parse_top(struct wf_spec *s, struct json_object *spec, struct wf_error *err)
{
    static const char *const fp[] = {"FailFast", "Continue"};
    static const char *const cp[] = {"Allow", "Forbid", "Replace"};
    int v = 0;
    if (parse_enum(spec, "failurePolicy", fp, 2, &v, err) < 0)
        return -EINVAL;
    s->failure_policy = (enum wf_failure_policy)v;
    v = 0;
    if (parse_enum(spec, "concurrencyPolicy", cp, 3, &v, err) < 0)
        return -EINVAL;
    s->concurrency = (enum wf_concurrency)v;
    static const struct {
        const char *key;
        long long min;
    } ints[] = {{"activeDeadlineSeconds", 1},
                {"terminationGracePeriodSeconds", 0},
                {"successfulRunsHistoryLimit", 0},
                {"failedRunsHistoryLimit", 0},
                {"ttlSecondsAfterFinished", 0}};
    long long *outs[] = {&s->active_deadline_seconds, &s->grace_seconds, &s->successful_history,
                         &s->failed_history, &s->ttl_seconds};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (opt_int(spec, ints[i].key, ints[i].min, INT32_MAX, outs[i]) < 0)
            return wf_fail(err, WF_R_INVALID, "spec.%s must be an integer %s", ints[i].key,
                           ints[i].min ? "> 0" : ">= 0");
    int r = parse_params(s, kj_get(spec, "params"), err);
    return r < 0 ? r : parse_run_results(s, kj_get(spec, "results"), err);
}

static int parse_steps(struct wf_spec *s, struct json_object *spec, struct wf_error *err)
{
    struct json_object *steps = kj_get(spec, "steps"), *fin = kj_get(spec, "finally");
    if (steps && !json_object_is_type(steps, json_type_array))
        return wf_fail(err, WF_R_INVALID, "spec.steps must be a list");
    if (fin && !json_object_is_type(fin, json_type_array))
        return wf_fail(err, WF_R_INVALID, "spec.finally must be a list");
    size_t n_main = steps ? json_object_array_length(steps) : 0;
    size_t n_fin = fin ? json_object_array_length(fin) : 0;
    if (n_main == 0)
        return wf_fail(err, WF_R_INVALID, "spec.steps must list at least one step");
    if (n_main + n_fin > WF_STEPS_MAX)
        return wf_fail(err, WF_R_INVALID, "too many steps: %zu (at most %d, finally included)",
                       n_main + n_fin, WF_STEPS_MAX);
    s->steps = wf_xcalloc(n_main + n_fin, sizeof *s->steps);
    s->n_main = n_main;
    for (size_t i = 0; i < n_main + n_fin; i++) {
        int is_fin = i >= n_main;
        size_t idx = is_fin ? i - n_main : i;
        struct json_object *o = json_object_array_get_idx(is_fin ? fin : steps, idx);
        s->n_steps = i + 1; /* so wf_spec_free sees what was filled */
        s->steps[i].is_finally = is_fin;
        int r = parse_step(o, is_fin ? "finally" : "steps", idx, &s->steps[i], err);
        if (r < 0)
            return r;
    }
    return 0;
}

int wf_spec_parse(struct json_object *spec, struct wf_spec **ret, struct wf_error *err)
{
    if (!spec || !json_object_is_type(spec, json_type_object))
        return wf_fail(err, WF_R_INVALID, "spec must be an object");
    struct wf_spec *s = wf_xcalloc(1, sizeof *s);
    s->raw = json_object_get(spec);
    s->grace_seconds = WF_DEFAULT_GRACE_SECONDS;
    s->successful_history = s->failed_history = s->ttl_seconds = -1;
    int r = parse_top(s, spec, err);
    if (r == 0)
        r = parse_steps(s, spec, err);
    if (r == 0)
        r = wf_graph_check(s, err);
    if (r == 0)
        r = wf_refs_check(s, err);
    if (r < 0) {
        wf_spec_free(s);
        return r;
    }
    *ret = s;
    return 0;
}

void wf_spec_free(struct wf_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_steps; i++) {
        free(s->steps[i].deps);
        free(s->steps[i].results);
        free(s->steps[i].matrix);
        json_object_put(s->steps[i].pod_failure_policy);
    }
    free(s->steps);
    free(s->params);
    free(s->order);
    json_object_put(s->raw);
    free(s);
}
