/* wf_params.c - parameter resolution and $(params.NAME) substitution.
 *
 * The scanner of wf_ref.c defines the syntax for both the reference checks
 * (wf_check.c) and the substitution, so the two can never disagree about
 * what a reference is. See wf.h for the syntax and why '$' is doubled. */
#include "wf/wf.h"
#include "wf/wf-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- substitution ----------------------------------------------------- */

const char *wf_params_lookup(void *ud, const struct wf_ref *ref)
{
    const struct wf_params *p = ud;
    if (ref->kind != WF_REF_PARAM)
        return NULL;
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
    return wf_subst_with(text, WF_REF_PARAM, wf_params_lookup, u.m, ret);
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
