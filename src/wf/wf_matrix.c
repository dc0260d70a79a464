/* wf_matrix.c - a step's matrix: its shape (parse), its combinations
 * (expand), and the names of their Jobs.
 *
 * A combination's values come from the spec or from what the run's
 * status records (params, ancestors' results), never from a live read: the
 * same status always expands to the same combinations in the same order,
 * so a restart, or a replan after a lost write, makes the same Jobs. */
#include "wf/wf.h"
#include "wf/wf-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One reference and nothing else: "$(params.x)" or "$(steps.s.results.r)". */
static int one_ref(const char *s)
{
    size_t n = strlen(s);
    return n > 3 && s[0] == '$' && s[1] == '(' && s[n - 1] == ')' && !strchr(s + 2, '(') &&
           strchr(s, ')') == s + n - 1 &&
           (strncmp(s, "$(params.", 9) == 0 || strncmp(s, "$(steps.", 8) == 0);
}

int wf_matrix_parse(struct wf_step *st, struct json_object *m, struct wf_error *err)
{
    if (!m)
        return 0;
    struct json_object *params = kj_get(m, "params"), *mp = kj_get(m, "maxParallel");
    size_t n = json_object_is_type(params, json_type_array) ? json_object_array_length(params) : 0;
    if (!json_object_is_type(m, json_type_object) || n == 0 || n > WF_MATRIX_PARAMS_MAX)
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": matrix must be an object with a list of 1 to %d params",
                       st->name, WF_MATRIX_PARAMS_MAX);
    if (st->is_finally)
        return wf_fail(err, WF_R_INVALID, "finally step \"%s\" cannot have a matrix", st->name);
    if (mp && (!json_object_is_type(mp, json_type_int) || json_object_get_int64(mp) < 1 ||
               json_object_get_int64(mp) > WF_MATRIX_MAX))
        return wf_fail(err, WF_R_INVALID, "step \"%s\": matrix.maxParallel must be 1 to %d",
                       st->name, WF_MATRIX_MAX);
    st->max_parallel = mp ? (int)json_object_get_int64(mp) : 0;
    st->matrix = wf_xcalloc(n, sizeof *st->matrix);
    size_t product = 1;
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = json_object_array_get_idx(params, i), *v = kj_get(p, "values");
        const char *name = kj_get_str(p, "name");
        if (!name || !wf_param_name_ok(name))
            return wf_fail(err, WF_R_INVALID,
                           "step \"%s\": matrix.params[%zu].name must be a letter or '_', then "
                           "letters, digits, '_' or '-' (at most 63)",
                           st->name, i);
        for (size_t k = 0; k < i; k++)
            if (strcmp(st->matrix[k].name, name) == 0)
                return wf_fail(err, WF_R_INVALID, "step \"%s\": matrix param \"%s\" appears twice",
                               st->name, name);
        st->matrix[i].name = name;
        st->n_matrix = i + 1;
        if (json_object_is_type(v, json_type_string) && one_ref(json_object_get_string(v))) {
            st->matrix[i].ref = json_object_get_string(v);
            continue;
        }
        size_t nv = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
        int strings = nv > 0;
        for (size_t k = 0; k < nv && strings; k++)
            strings = json_object_is_type(json_object_array_get_idx(v, k), json_type_string);
        if (!strings || nv > WF_MATRIX_MAX)
            return wf_fail(err, WF_R_INVALID,
                           "step \"%s\": matrix param \"%s\": values must be a list of 1 to %d "
                           "strings, or one $(params.NAME) or $(steps.STEP.results.NAME) "
                           "holding a JSON array",
                           st->name, name, WF_MATRIX_MAX);
        st->matrix[i].values = v;
        product *= nv;
        if (product > WF_MATRIX_MAX)
            return wf_fail(err, WF_R_INVALID, "step \"%s\": matrix has more than %d combinations",
                           st->name, WF_MATRIX_MAX);
    }
    return 0;
}

void wf_combos_free(struct wf_combos *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n * c->n_params; i++)
        free(c->values[i]);
    free(c->values);
    free(c->names);
    free(c);
}

/* The values of one param: its list, or its reference's JSON array. */
static int param_values(const struct wf_matrix_param *p, wf_lookup_fn lookup, void *ud,
                        struct json_object **out, char *why, size_t cap)
{
    if (p->values) {
        *out = json_object_get(p->values);
        return 0;
    }
    char *text = NULL;
    int r = wf_resolve(p->ref, WF_REF_PARAM | WF_REF_RESULT, lookup, ud, &text);
    if (r < 0)
        return r;
    struct json_object *arr = json_tokener_parse(text);
    if (!json_object_is_type(arr, json_type_array)) {
        snprintf(why, cap, "matrix param \"%s\": %s is not a JSON array: \"%.60s\"", p->name,
                 p->ref, text);
        json_object_put(arr);
        free(text);
        return -EINVAL;
    }
    free(text);
    *out = arr;
    return 0;
}

int wf_matrix_expand(const struct wf_step *st, wf_lookup_fn lookup, void *ud,
                     struct wf_combos **ret, char *why, size_t cap)
{
    size_t np = st->n_matrix, total = 1;
    /* An array of pointers. NOLINTNEXTLINE(bugprone-sizeof-expression) */
    struct json_object **vals = wf_xcalloc(np ? np : 1, sizeof *vals);
    int r = 0;
    for (size_t k = 0; k < np && r == 0; k++) {
        r = param_values(&st->matrix[k], lookup, ud, &vals[k], why, cap);
        if (r == 0 && (total *= json_object_array_length(vals[k])) > WF_MATRIX_MAX) {
            snprintf(why, cap, "matrix has more than %d combinations", WF_MATRIX_MAX);
            r = -EINVAL;
        }
    }
    struct wf_combos *c = NULL;
    if (r == 0) {
        c = wf_xcalloc(1, sizeof *c);
        c->n = np ? total : 0;
        c->n_params = np;
        c->names = wf_xcalloc(np ? np : 1, sizeof *c->names);
        c->values = wf_xcalloc(c->n * np + 1, sizeof *c->values);
        for (size_t k = 0; k < np; k++)
            c->names[k] = st->matrix[k].name;
        for (size_t i = 0; i < c->n; i++) {
            size_t rest = i;
            /* the last param varies fastest */
            for (size_t k = np; k-- > 0;) {
                size_t len = json_object_array_length(vals[k]);
                struct json_object *v = json_object_array_get_idx(vals[k], rest % len);
                rest /= len;
                const char *s = kj_text(v);
                if (!s)
                    s = "null"; /* a JSON null in the array, as its text */
                c->values[i * np + k] = wf_xstrdup(s);
            }
        }
    }
    for (size_t k = 0; k < np; k++)
        json_object_put(vals[k]);
    free(vals);
    if (r < 0)
        return r;
    *ret = c;
    return 0;
}

int wf_entry_job_name(const char *run, const char *step, long index, char out[WF_NAME_LEN])
{
    if (index < 0)
        return wf_job_name(run, step, out);
    char key[WF_STEP_NAME_MAX + 24];
    snprintf(key, sizeof key, "%.*s-%ld", WF_STEP_NAME_MAX, step, index);
    return wf_job_name(run, key, out);
}
