/* wf_params.c - parameter resolution and $(params.NAME) substitution.
 *
 * The scanner of wf_ref.c defines the syntax for both the UnknownParameter
 * check and the substitution, so the two can never disagree about what a
 * reference is. See wf.h for the syntax and why '$' is doubled. */
#include "wf/wf.h"
#include "wf/wf-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UnknownParameter check ------------------------------------------ */

struct check_ctx {
    const struct wf_spec *spec;
    char unknown[128];
};

static int check_ref(void *ctx, const char *lit, size_t litlen, const struct wf_ref *ref)
{
    struct check_ctx *c = ctx;
    (void)lit;
    (void)litlen;
    if (!ref)
        return 0;
    const char *text = ref->a;
    size_t len = ref->alen;
    for (size_t i = 0; i < c->spec->n_params; i++) {
        const char *n = c->spec->params[i].name;
        if (strlen(n) == len && memcmp(n, text, len) == 0)
            return 0;
    }
    snprintf(c->unknown, sizeof c->unknown, "%.*s", (int)(len > 100 ? 100 : len), text);
    return -ENOENT;
}

static int check_list(struct check_ctx *c, const char *step, struct json_object *arr,
                      const char *field, struct wf_error *err)
{
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        struct json_object *item = json_object_array_get_idx(arr, i);
        const char *text = json_object_get_string(item);
        const char *suffix = "";
        if (json_object_is_type(item, json_type_object)) { /* env entry */
            text = kj_get_str(item, "value");
            suffix = ".value";
        }
        if (text && wf_ref_scan(text, WF_REF_PARAM, check_ref, c, NULL) < 0)
            return wf_fail(err, WF_R_UNKNOWN_PARAM,
                           "step \"%s\" references unknown parameter \"%s\" in %s[%zu]%s", step,
                           c->unknown, field, i, suffix);
    }
    return 0;
}

/* Every kind wf_ref.c knows: only params may be used yet, and a kind the
 * controller cannot resolve is refused rather than compared as text. */
#define ALL_REFS (WF_REF_PARAM | WF_REF_RESULT | WF_REF_PHASE | WF_REF_RUN_STATUS | WF_REF_MATRIX)

static int not_param(void *ctx, const char *lit, size_t n, const struct wf_ref *ref)
{
    (void)ctx;
    (void)lit;
    (void)n;
    return ref && ref->kind != WF_REF_PARAM ? -ENOTSUP : 0;
}

/* One text of a `when`: its params declared, no other reference. */
static int check_when_text(struct check_ctx *c, const char *step, const char *text, size_t i,
                           const char *field, struct wf_error *err)
{
    size_t bad = 0;
    int r = wf_ref_scan(text, ALL_REFS, not_param, c, &bad);
    if (r == -EINVAL)
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": when[%zu].%s has a malformed reference at "
                       "offset %zu",
                       step, i, field, bad);
    if (r == -ENOTSUP)
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": when[%zu].%s may use $(params...) only (results, phases "
                       "and matrix values are not supported in when yet)",
                       step, i, field);
    if (wf_ref_scan(text, WF_REF_PARAM, check_ref, c, NULL) < 0)
        return wf_fail(err, WF_R_UNKNOWN_PARAM,
                       "step \"%s\" references unknown parameter \"%s\" in when[%zu].%s", step,
                       c->unknown, i, field);
    return 0;
}

static int check_when(struct check_ctx *c, const struct wf_step *st, struct wf_error *err)
{
    size_t n = st->when ? json_object_array_length(st->when) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(st->when, i), *vals = kj_get(e, "values");
        int r = check_when_text(c, st->name, kj_get_str(e, "input"), i, "input", err);
        for (size_t k = 0; r == 0 && k < json_object_array_length(vals); k++)
            r = check_when_text(c, st->name,
                                json_object_get_string(json_object_array_get_idx(vals, k)), i,
                                "values", err);
        if (r < 0)
            return r;
    }
    return 0;
}

int wf_params_check(const struct wf_spec *s, struct wf_error *err)
{
    struct check_ctx c = {.spec = s};
    for (size_t i = 0; i < s->n_steps; i++) {
        const struct wf_step *st = &s->steps[i];
        int r = check_list(&c, st->name, st->command, "command", err);
        if (r == 0)
            r = check_list(&c, st->name, st->args, "args", err);
        if (r == 0)
            r = check_list(&c, st->name, st->env, "env", err);
        if (r == 0)
            r = check_when(&c, st, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static const char *param_of(void *ud, const struct wf_ref *ref);

int wf_when_params(const struct wf_step *st, const struct wf_params *p, char *why, size_t cap)
{
    union {
        const struct wf_params *c;
        void *m;
    } u = {p};
    return wf_when_eval(st->when, WF_REF_PARAM, param_of, u.m, why, cap);
}

/* ---- substitution ----------------------------------------------------- */

static const char *param_of(void *ud, const struct wf_ref *ref)
{
    const struct wf_params *p = ud;
    for (size_t i = 0; i < p->n; i++)
        if (strlen(p->kv[i].name) == ref->alen && memcmp(p->kv[i].name, ref->a, ref->alen) == 0)
            return p->kv[i].value;
    return NULL;
}

int wf_subst(const char *text, const struct wf_params *p, char **ret)
{
    /* wf_params is const here; the lookup only reads it. */
    union {
        const struct wf_params *c;
        void *m;
    } u = {p};
    return wf_subst_with(text, WF_REF_PARAM, param_of, u.m, ret);
}

/* ---- resolution -------------------------------------------------------- */

void wf_params_free(struct wf_params *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->kv[i].name);
        free(p->kv[i].value);
    }
    free(p->kv);
    free(p);
}

const char *wf_params_get(const struct wf_params *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->kv[i].name, name) == 0)
            return p->kv[i].value;
    return NULL;
}

/* Checks the run's list shape; 0 or -EINVAL with err filled. */
static int check_run_params(const struct wf_spec *s, struct json_object *rp, struct wf_error *err)
{
    if (!rp)
        return 0;
    if (!json_object_is_type(rp, json_type_array))
        return wf_fail(err, WF_R_INVALID, "run spec.params must be a list");
    size_t n = json_object_array_length(rp);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(rp, i);
        const char *name = kj_get_str(e, "name");
        struct json_object *v = kj_get(e, "value");
        if (!name || (v && !json_object_is_type(v, json_type_string)))
            return wf_fail(err, WF_R_INVALID,
                           "run spec.params[%zu] must be an object with a name and a string "
                           "value",
                           i);
        int declared = 0;
        for (size_t k = 0; k < s->n_params && !declared; k++)
            declared = strcmp(s->params[k].name, name) == 0;
        if (!declared)
            return wf_fail(err, WF_R_UNKNOWN_PARAM,
                           "run sets parameter \"%s\", which the workflow does not declare", name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(kj_get_str(json_object_array_get_idx(rp, j), "name"), name) == 0)
                return wf_fail(err, WF_R_INVALID, "run sets parameter \"%s\" twice", name);
    }
    return 0;
}

int wf_params_resolve(const struct wf_spec *s, struct json_object *run_params,
                      struct wf_params **ret, struct wf_error *err)
{
    int r = check_run_params(s, run_params, err);
    if (r < 0)
        return r;
    struct wf_params *p = wf_xcalloc(1, sizeof *p);
    p->kv = wf_xcalloc(s->n_params, sizeof *p->kv);
    for (size_t i = 0; i < s->n_params; i++) {
        const char *value = s->params[i].def;
        for (size_t k = 0; run_params && k < json_object_array_length(run_params); k++) {
            struct json_object *e = json_object_array_get_idx(run_params, k);
            if (strcmp(kj_get_str(e, "name"), s->params[i].name) == 0)
                value = kj_get_str(e, "value") ? kj_get_str(e, "value") : "";
        }
        if (!value) {
            wf_params_free(p);
            return wf_fail(err, WF_R_MISSING_PARAM, "parameter \"%s\" has no value and no default",
                           s->params[i].name);
        }
        p->kv[i].name = wf_xstrdup(s->params[i].name);
        p->kv[i].value = wf_xstrdup(value);
        p->n = i + 1;
    }
    *ret = p;
    return 0;
}

int wf_params_from_json(struct json_object *arr, struct wf_params **ret)
{
    if (arr && !json_object_is_type(arr, json_type_array))
        return -EINVAL;
    size_t n = arr ? json_object_array_length(arr) : 0;
    struct wf_params *p = wf_xcalloc(1, sizeof *p);
    p->kv = wf_xcalloc(n, sizeof *p->kv);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        const char *name = kj_get_str(e, "name"), *value = kj_get_str(e, "value");
        if (!name || !value) {
            wf_params_free(p);
            return -EINVAL;
        }
        p->kv[i].name = wf_xstrdup(name);
        p->kv[i].value = wf_xstrdup(value);
        p->n = i + 1;
    }
    *ret = p;
    return 0;
}

struct json_object *wf_params_to_json(const struct wf_params *p)
{
    struct json_object *arr = kj_arr();
    for (size_t i = 0; i < p->n; i++) {
        struct json_object *e = kj_obj();
        kj_put(e, "name", kj_str(p->kv[i].name));
        kj_put(e, "value", kj_str(p->kv[i].value));
        kj_push(arr, e);
    }
    return arr;
}
