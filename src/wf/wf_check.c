/* wf_check.c - apply-time checks of every $(...) reference of a Workflow:
 * each parses, names something that exists, and can be known when it is
 * read. Runs after the graph checks (wf_graph.c), so dependencies are
 * resolved and acyclic.
 *
 * The rule that matters most: a main step may read only the results of
 * its ancestors (through dependsOn, directly or not). Anything else could
 * race the step that writes the value, and a run would then depend on
 * timing; refusing it here means the plan never has to choose. */
#include "wf/wf.h"
#include "wf/wf-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL_REFS (WF_REF_PARAM | WF_REF_RESULT | WF_REF_PHASE | WF_REF_RUN_STATUS | WF_REF_MATRIX)

struct check {
    const struct wf_spec *spec;
    const struct wf_step *st; /* NULL: spec.results */
    char where[64];           /* "args[2]", "when[0].input", ... */
    int in_when;              /* matrix values are per Job; a when is per step */
    struct wf_error *err;
};

/* 1 when steps[anc] is reached from steps[from] through dependsOn. */
static int ancestor(const struct wf_spec *s, size_t from, size_t anc)
{
    unsigned char *seen = wf_xcalloc(s->n_steps, 1);
    size_t *stack = wf_xcalloc(s->n_steps + 1, sizeof *stack), n = 0;
    int found = 0;
    stack[n++] = from;
    seen[from] = 1;
    while (n && !found) {
        const struct wf_step *u = &s->steps[stack[--n]];
        for (size_t k = 0; k < u->n_deps && !found; k++) {
            size_t d = u->deps[k];
            found = d == anc;
            if (!seen[d]) {
                seen[d] = 1;
                stack[n++] = d;
            }
        }
    }
    free(stack);
    free(seen);
    return found;
}

static const char *who(const struct check *c)
{
    return c->st ? c->st->name : "spec.results";
}

/* The main step a $(steps.S...) reference names, or -1 with err filled. */
static int main_step(struct check *c, const struct wf_ref *ref)
{
    char name[WF_NAME_LEN];
    snprintf(name, sizeof name, "%.*s", (int)ref->alen, ref->a);
    int i = wf_step_index(c->spec, name);
    if (i < 0)
        wf_fail(c->err, WF_R_INVALID, "%s%s%s references unknown step \"%s\" in %s",
                c->st ? "step \"" : "", who(c), c->st ? "\"" : "", name, c->where);
    else if (c->spec->steps[i].is_finally)
        wf_fail(c->err, WF_R_INVALID,
                "%s%s%s references finally step \"%s\" in %s; only main steps can be read",
                c->st ? "step \"" : "", who(c), c->st ? "\"" : "", name, c->where);
    return i >= 0 && !c->spec->steps[i].is_finally ? i : -1;
}

static int check_ref(void *ud, const char *lit, size_t len, const struct wf_ref *ref)
{
    struct check *c = ud;
    const struct wf_spec *s = c->spec;
    (void)lit;
    (void)len;
    if (!ref)
        return 0;
    if (ref->kind == WF_REF_PARAM) {
        for (size_t i = 0; i < s->n_params; i++)
            if (strlen(s->params[i].name) == ref->alen &&
                memcmp(s->params[i].name, ref->a, ref->alen) == 0)
                return 0;
        if (c->st)
            return wf_fail(c->err, WF_R_UNKNOWN_PARAM,
                           "step \"%s\" references unknown parameter \"%.*s\" in %s", c->st->name,
                           (int)(ref->alen > 100 ? 100 : ref->alen), ref->a, c->where);
        return wf_fail(c->err, WF_R_UNKNOWN_PARAM,
                       "spec.results references unknown parameter \"%.*s\" in %s",
                       (int)(ref->alen > 100 ? 100 : ref->alen), ref->a, c->where);
    }
    if (ref->kind == WF_REF_MATRIX) {
        for (size_t k = 0; c->st && !c->in_when && k < c->st->n_matrix; k++)
            if (strlen(c->st->matrix[k].name) == ref->alen &&
                memcmp(c->st->matrix[k].name, ref->a, ref->alen) == 0)
                return 0;
        return wf_fail(c->err, WF_R_INVALID,
                       "%s%s%s uses $(matrix.%.*s) in %s; matrix values are known in the "
                       "command, args and env of the step whose matrix declares them",
                       c->st ? "step \"" : "", who(c), c->st ? "\"" : "", (int)ref->alen, ref->a,
                       c->where);
    }
    if ((ref->kind == WF_REF_PHASE || ref->kind == WF_REF_RUN_STATUS) &&
        !(c->st && c->st->is_finally))
        return wf_fail(c->err, WF_R_INVALID,
                       "%s%s%s uses %s in %s; step phases and the run's status are known to "
                       "finally steps only",
                       c->st ? "step \"" : "", who(c), c->st ? "\"" : "",
                       ref->kind == WF_REF_PHASE ? "$(steps.NAME.phase)" : "$(run.status)",
                       c->where);
    if (ref->kind == WF_REF_RUN_STATUS)
        return 0;
    int i = main_step(c, ref);
    if (i < 0)
        return -EINVAL;
    if (ref->kind == WF_REF_PHASE)
        return 0;
    const struct wf_step *prod = &s->steps[i];
    if (wf_result_index(prod, ref->b, ref->blen) < 0)
        return wf_fail(c->err, WF_R_INVALID,
                       "%s%s%s reads result \"%.*s\" of step \"%s\" in %s, which that step does "
                       "not declare",
                       c->st ? "step \"" : "", who(c), c->st ? "\"" : "", (int)ref->blen, ref->b,
                       prod->name, c->where);
    if (c->st && !c->st->is_finally && !ancestor(s, (size_t)(c->st - s->steps), (size_t)i))
        return wf_fail(c->err, WF_R_INVALID,
                       "step \"%s\" reads a result of step \"%s\" in %s, but does not depend on "
                       "it (dependsOn, directly or through other steps): the read could race "
                       "the step that writes it",
                       c->st->name, prod->name, c->where);
    return 0;
}

static int check_text(struct check *c, const char *text)
{
    size_t bad = 0;
    int r = wf_ref_scan(text, ALL_REFS, check_ref, c, &bad);
    /* check_ref fills err; the scanner's own refusal does not. */
    if (r < 0 && !c->err->reason[0])
        return wf_fail(c->err, WF_R_INVALID, "%s%s%s: %s has a malformed reference at offset %zu",
                       c->st ? "step \"" : "", who(c), c->st ? "\"" : "", c->where, bad);
    return r < 0 ? -EINVAL : 0;
}

static int check_list(struct check *c, struct json_object *arr, const char *field)
{
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        struct json_object *item = json_object_array_get_idx(arr, i);
        const char *text = json_object_get_string(item);
        int env = json_object_is_type(item, json_type_object);
        if (env)
            text = kj_get_str(item, "value");
        snprintf(c->where, sizeof c->where, "%s[%zu]%s", field, i, env ? ".value" : "");
        if (text && check_text(c, text) < 0)
            return -EINVAL;
    }
    return 0;
}

static int check_matrix(struct check *c)
{
    for (size_t k = 0; k < c->st->n_matrix; k++) {
        snprintf(c->where, sizeof c->where, "matrix.params[%zu].values", k);
        if (c->st->matrix[k].ref && check_text(c, c->st->matrix[k].ref) < 0)
            return -EINVAL;
    }
    return 0;
}

static int check_when(struct check *c)
{
    struct json_object *when = c->st->when;
    for (size_t i = 0; when && i < json_object_array_length(when); i++) {
        struct json_object *e = json_object_array_get_idx(when, i), *vals = kj_get(e, "values");
        snprintf(c->where, sizeof c->where, "when[%zu].input", i);
        if (check_text(c, kj_get_str(e, "input")) < 0)
            return -EINVAL;
        snprintf(c->where, sizeof c->where, "when[%zu].values", i);
        for (size_t k = 0; k < json_object_array_length(vals); k++)
            if (check_text(c, json_object_get_string(json_object_array_get_idx(vals, k))) < 0)
                return -EINVAL;
    }
    return 0;
}

int wf_refs_check(const struct wf_spec *s, struct wf_error *err)
{
    struct wf_error scratch = {.reason = ""};
    struct check c = {.spec = s, .err = err ? err : &scratch};
    c.err->reason[0] = '\0';
    for (size_t i = 0; i < s->n_steps; i++) {
        c.st = &s->steps[i];
        c.in_when = 0;
        if (check_list(&c, c.st->command, "command") < 0 ||
            check_list(&c, c.st->args, "args") < 0 || check_list(&c, c.st->env, "env") < 0 ||
            check_matrix(&c) < 0)
            return -EINVAL;
        c.in_when = 1;
        if (check_when(&c) < 0)
            return -EINVAL;
    }
    c.st = NULL;
    for (size_t i = 0; s->results && i < json_object_array_length(s->results); i++) {
        snprintf(c.where, sizeof c.where, "spec.results[%zu].value", i);
        if (check_text(&c, kj_get_str(json_object_array_get_idx(s->results, i), "value")) < 0)
            return -EINVAL;
    }
    return 0;
}
