/* plan_results.c - a step's results: read once from the termination
 * message of the pod that succeeded, then kept in status.steps[].results.
 *
 * Why the termination message: the kubelet copies it into the pod's
 * status (at most 4 KiB), which the controller already watches: no
 * sidecar, no artifact store, no extra API call. A container's message
 * never changes once it terminated, so reading it again after a crash
 * gives the same values; and dependents are built only from what the
 * status recorded (plan_progress.c), so no Job is ever built from a value
 * that a lost write could make differ. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *plan_results_get(struct json_object *results, const char *name, size_t len)
{
    size_t n =
        json_object_is_type(results, json_type_array) ? json_object_array_length(results) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(results, i);
        const char *k = kj_get_str(e, "name"), *v = kj_get_str(e, "value");
        if (k && v && strlen(k) == len && memcmp(k, name, len) == 0)
            return v;
    }
    return NULL;
}

struct json_object *plan_results_load(struct json_object *entry)
{
    struct json_object *res = kj_get(entry, "results");
    /* The status is anyone's to edit: only well-formed entries are kept. */
    if (!json_object_is_type(res, json_type_array))
        return NULL;
    struct json_object *out = kj_arr();
    for (size_t i = 0; i < json_object_array_length(res); i++) {
        struct json_object *e = json_object_array_get_idx(res, i);
        const char *k = kj_get_str(e, "name"), *v = kj_get_str(e, "value");
        if (!k || !v)
            continue;
        struct json_object *o = kj_obj();
        kj_put(o, "name", kj_str(k));
        kj_put(o, "value", kj_str(v));
        kj_push(out, o);
    }
    return out;
}

static void missing(const struct ctx *c, struct step *s, const char *msg)
{
    s->results_wait = 0;
    plan_step_end(s, SP_FAILED, c->now, PLAN_R_RESULT_MISSING, msg);
}

/* The pod whose message holds the results: exited 0, ours, the latest to
 * finish (a Job with one completion has one), by name on a tie. */
static const struct plan_pod *result_pod(const struct ctx *c, const char *job_uid, int *pending)
{
    const struct plan_pod *best = NULL;
    *pending = 0;
    for (size_t i = 0; i < c->in->n_pods; i++) {
        const struct plan_pod *p = &c->in->pods[i];
        if (strcmp(p->controller_uid, job_uid) != 0)
            continue;
        /* Not ended yet as the cache shows it, or a copy without the
         * message (a LIST answer): the watch will bring it. */
        if (!p->terminated || (p->exit_code == 0 && !p->result))
            *pending = 1;
        if (!p->terminated || p->exit_code != 0 || !p->result)
            continue;
        if (best && (p->finished_ms < best->finished_ms ||
                     (p->finished_ms == best->finished_ms && strcmp(p->name, best->name) > 0)))
            continue;
        best = p;
    }
    return best;
}

void plan_results_read(const struct ctx *c, struct step *s, const struct plan_job *j)
{
    int pending = 0;
    const struct plan_pod *p = result_pod(c, j->uid, &pending);
    if (!p) {
        s->phase = SP_RUNNING;
        s->completion_ms = 0;
        s->results_wait = pending ? 1 : 2;
        return;
    }
    size_t len = strnlen(p->result, PLAN_RESULT_MSG_MAX + 1);
    struct json_tokener *tok = json_tokener_new_ex(16);
    if (!tok)
        abort(); /* project rule for OOM (plan.h) */
    struct json_object *msg =
        len <= PLAN_RESULT_MSG_MAX ? json_tokener_parse_ex(tok, p->result, (int)len) : NULL;
    if (msg && json_tokener_get_parse_end(tok) != len) {
        json_object_put(msg); /* trailing bytes: not one JSON object */
        msg = NULL;
    }
    json_tokener_free(tok);
    char why[PLAN_MSG_LEN];
    if (!json_object_is_type(msg, json_type_object)) {
        snprintf(why, sizeof why,
                 "step \"%s\" declares results, but its termination message (%zu bytes) is not "
                 "a JSON object: write {\"name\": \"value\"} to /dev/termination-log",
                 s->def->name, len);
        missing(c, s, why);
        json_object_put(msg);
        return;
    }
    struct json_object *out = kj_arr();
    for (size_t i = 0; i < s->def->n_results; i++) {
        const struct wf_result *r = &s->def->results[i];
        /* a non-string as its JSON text; null counts as not written */
        const char *v = kj_text(kj_get(msg, r->name));
        if (!v)
            v = r->def;
        if (!v) {
            snprintf(why, sizeof why,
                     "step \"%s\" did not write its result \"%s\" (no such key in its "
                     "termination message of %zu bytes, and no default)",
                     s->def->name, r->name, len);
            missing(c, s, why);
            json_object_put(out);
            json_object_put(msg);
            return;
        }
        struct json_object *e = kj_obj();
        kj_put(e, "name", kj_str(r->name));
        kj_put(e, "value", kj_str(v));
        kj_push(out, e);
    }
    json_object_put(msg);
    s->results = out;
}

void plan_results_gone(const struct ctx *c, struct step *s)
{
    char why[PLAN_MSG_LEN];
    snprintf(why, sizeof why,
             "step \"%s\" succeeded, but its pod is gone: its results cannot be read",
             s->def->name);
    missing(c, s, why);
}
