/* ui_view.c - cached objects turned into what the page draws (a run's
 * summary and detail, a Workflow's, a Trigger's) and the objects the UI
 * creates with a person's token (run again, start). Pure: no I/O, no clock.
 *
 * Everything here reads what anyone who may write a run, a Workflow or a
 * Trigger chose: every field is checked for its type, strings are taken as
 * they are into JSON (the page renders them as text), and nothing is
 * trusted to be present. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson/kjson.h"
#include "ui/ui-internal.h"
#include "wf/wf.h"

/* --- runs as the page sees them ------------------------------------------- */

static void put_str(struct json_object *dst, const char *key, const char *v)
{
    if (v)
        kj_put(dst, key, kj_str(v));
}

static void put_time_str(struct json_object *dst, const char *key, struct json_object *src,
                         const char *skey)
{
    /* Copied as text when it is one: the page parses it; a time that does
     * not parse is shown as it is, which is what the object says. */
    put_str(dst, key, kj_get_str(src, skey));
}

static int terminal(const char *phase)
{
    return phase &&
           (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed") || !strcmp(phase, "Cancelled"));
}

int ui_run_terminal(struct json_object *run)
{
    return terminal(kj_path_str(run, "status", "phase", NULL));
}

struct json_object *ui_run_summary(struct json_object *run)
{
    struct json_object *meta = kj_get(run, "metadata"), *status = kj_get(run, "status");
    struct json_object *s = kj_obj();
    put_str(s, "namespace", kj_get_str(meta, "namespace"));
    put_str(s, "name", kj_get_str(meta, "name"));
    put_str(s, "uid", kj_get_str(meta, "uid"));
    put_str(s, "workflow", kj_path_str(run, "spec", "workflowRef", "name", NULL));
    const char *phase = kj_get_str(status, "phase");
    kj_put(s, "phase", kj_str(phase ? phase : ""));
    put_str(s, "progress", kj_get_str(status, "progress"));
    put_str(s, "currentStep", kj_get_str(status, "currentStep"));
    put_time_str(s, "created", meta, "creationTimestamp");
    put_time_str(s, "started", status, "startTime");
    put_time_str(s, "completed", status, "completionTime");
    put_str(s, "trigger", kj_label(meta, "runbook.dev/trigger"));
    kj_put(s, "cancelRequested",
           kj_bool(kj_get_bool(kj_get(run, "spec"), "cancel") ||
                   kj_get_bool(status, "cancelRequested")));
    return s;
}

/* resolvedParams ([{name, value}]) as {name: value}. */
static struct json_object *params(struct json_object *status)
{
    struct json_object *arr = kj_get(status, "resolvedParams"), *out = kj_obj();
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        const char *k = kj_get_str(e, "name"), *v = kj_get_str(e, "value");
        if (k && v)
            kj_put(out, k, kj_str(v));
    }
    return out;
}

/* What status.steps[] says of a step (or of a combination). */
static void put_state(struct json_object *e, struct json_object *s)
{
    struct json_object *v;
    const char *phase = kj_get_str(s, "phase");
    kj_put(e, "phase", kj_str(phase ? phase : "Pending"));
    put_str(e, "job", kj_get_str(s, "job"));
    if ((v = kj_get(s, "attempts")) && json_object_is_type(v, json_type_int))
        kj_put(e, "attempts", kj_int(json_object_get_int64(v)));
    put_time_str(e, "started", s, "startTime");
    put_time_str(e, "completed", s, "completionTime");
    if ((v = kj_get(s, "exitCode")) && json_object_is_type(v, json_type_int))
        kj_put(e, "exitCode", kj_int(json_object_get_int64(v)));
    put_str(e, "reason", kj_get_str(s, "reason"));
    put_str(e, "message", kj_get_str(s, "message"));
}

/* A matrix step's combinations, as status.steps[] has them: index, values
 * ("os=linux, v=2", in the entry's order) and state. */
static struct json_object *combinations(struct json_object *st_steps, const char *name)
{
    struct json_object *out = kj_arr();
    size_t n =
        json_object_is_type(st_steps, json_type_array) ? json_object_array_length(st_steps) : 0;
    for (size_t i = 0; i < n && json_object_array_length(out) < UI_COMBOS_MAX; i++) {
        struct json_object *s = json_object_array_get_idx(st_steps, i), *ix = kj_get(s, "index");
        const char *sn = kj_get_str(s, "name");
        if (!sn || strcmp(sn, name) != 0 || !json_object_is_type(ix, json_type_int))
            continue;
        struct json_object *c = kj_obj(), *m = kj_get(s, "matrix");
        kj_put(c, "index", kj_int(json_object_get_int64(ix)));
        char vals[512] = "";
        size_t o = 0;
        if (json_object_is_type(m, json_type_object)) {
            json_object_object_foreach(m, k, v)
            {
                if (o < sizeof vals)
                    o += (size_t)snprintf(
                        vals + o, sizeof vals - o, "%s%s=%s", o ? ", " : "", k,
                        json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "?");
            }
        }
        kj_put(c, "values", kj_str(vals));
        put_state(c, s);
        kj_push(out, c);
    }
    return out;
}

/* The steps of the run's snapshot (main, then finally), each with its
 * dependsOn and what status.steps[] says of it. */
static void add_steps(struct json_object *out, struct json_object *spec, const char *key,
                      int is_finally, struct json_object *st_steps)
{
    struct json_object *arr = kj_get(spec, key);
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n && i < UI_STEPS_MAX; i++) {
        struct json_object *d = json_object_array_get_idx(arr, i);
        const char *name = kj_get_str(d, "name");
        if (!name)
            continue;
        struct json_object *e = kj_obj(), *deps = kj_arr(), *dd = kj_get(d, "dependsOn");
        kj_put(e, "name", kj_str(name));
        kj_put(e, "finally", kj_bool(is_finally));
        size_t nd = json_object_is_type(dd, json_type_array) ? json_object_array_length(dd) : 0;
        for (size_t k = 0; k < nd; k++) {
            struct json_object *v = json_object_array_get_idx(dd, k);
            if (json_object_is_type(v, json_type_string))
                kj_push(deps, kj_str(json_object_get_string(v)));
        }
        kj_put(e, "dependsOn", deps);
        /* the step's own entry: the first of its name (a matrix step's
         * combinations follow it) */
        put_state(e, kj_find(st_steps, "name", name));
        if (kj_get(d, "matrix"))
            kj_put(e, "combinations", combinations(st_steps, name));
        kj_push(out, e);
    }
}

struct json_object *ui_run_detail(struct json_object *run, int can_cancel)
{
    struct json_object *d = ui_run_summary(run), *status = kj_get(run, "status");
    struct json_object *ok = kj_cond_find(kj_get(status, "conditions"), "Succeeded");
    kj_put(d, "params", params(status));
    put_str(d, "message", kj_get_str(ok, "message"));
    put_str(d, "reason", kj_get_str(ok, "reason"));
    kj_put(d, "canCancel", kj_bool(can_cancel && !ui_run_terminal(run)));
    struct json_object *steps = kj_arr(), *spec = kj_get(status, "workflowSpec");
    add_steps(steps, spec, "steps", 0, kj_get(status, "steps"));
    add_steps(steps, spec, "finally", 1, kj_get(status, "steps"));
    kj_put(d, "steps", steps);
    kj_put(d, "events", kj_arr());
    return d;
}

struct json_object *ui_run_again(struct json_object *run)
{
    struct json_object *meta = kj_get(run, "metadata"), *spec = kj_get(run, "spec");
    const char *name = kj_get_str(meta, "name");
    if (!name || !json_object_is_type(spec, json_type_object))
        return NULL;
    struct json_object *o = kj_obj(), *m = kj_obj(), *labels = kj_obj(), *sp = kj_copy(spec);
    char gen[300];
    snprintf(gen, sizeof gen, "%s-", name);
    kj_put(o, "apiVersion", kj_str("runbook.dev/v1alpha1"));
    kj_put(o, "kind", kj_str("WorkflowRun"));
    kj_put(m, "generateName", kj_str(gen));
    char label[WF_NAME_LEN];
    if (wf_label_value(name, label) == 0) /* long names are hashed to fit */
        kj_put(labels, "runbook.dev/rerun-of", kj_str(label));
    kj_put(m, "labels", labels);
    kj_put(o, "metadata", m);
    json_object_object_del(sp, "cancel"); /* a run again is not cancelled */
    kj_put(o, "spec", sp);
    return o;
}

/* --- Workflows and Triggers ------------------------------------------------- */

static size_t arr_len(struct json_object *a)
{
    return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static void put_meta(struct json_object *dst, struct json_object *obj)
{
    struct json_object *meta = kj_get(obj, "metadata");
    put_str(dst, "namespace", kj_get_str(meta, "namespace"));
    put_str(dst, "name", kj_get_str(meta, "name"));
    put_str(dst, "uid", kj_get_str(meta, "uid"));
    put_time_str(dst, "created", meta, "creationTimestamp");
}

struct json_object *ui_workflow_summary(struct json_object *wf)
{
    struct json_object *s = kj_obj(), *spec = kj_get(wf, "spec");
    put_meta(s, wf);
    kj_put(s, "steps", kj_int((int64_t)arr_len(kj_get(spec, "steps"))));
    kj_put(s, "finally", kj_int((int64_t)arr_len(kj_get(spec, "finally"))));
    kj_put(s, "params", kj_int((int64_t)arr_len(kj_get(spec, "params"))));
    return s;
}

/* The steps of a Workflow's spec as the page's DAG takes them. */
static void wf_steps(struct json_object *out, struct json_object *spec, const char *key,
                     int is_finally)
{
    struct json_object *arr = kj_get(spec, key);
    size_t n = arr_len(arr);
    for (size_t i = 0; i < n && i < UI_STEPS_MAX; i++) {
        struct json_object *d = json_object_array_get_idx(arr, i), *e;
        const char *name = kj_get_str(d, "name");
        if (!name)
            continue;
        e = kj_obj();
        kj_put(e, "name", kj_str(name));
        kj_put(e, "finally", kj_bool(is_finally));
        struct json_object *deps = kj_arr(), *dd = kj_get(d, "dependsOn");
        for (size_t k = 0; k < arr_len(dd); k++) {
            struct json_object *v = json_object_array_get_idx(dd, k);
            if (json_object_is_type(v, json_type_string))
                kj_push(deps, kj_str(json_object_get_string(v)));
        }
        kj_put(e, "dependsOn", deps);
        put_str(e, "image", kj_get_str(d, "image"));
        kj_push(out, e);
    }
}

struct json_object *ui_workflow_detail(struct json_object *wf, int can_start)
{
    struct json_object *d = kj_obj(), *spec = kj_get(wf, "spec");
    put_meta(d, wf);
    struct json_object *params = kj_arr(), *pa = kj_get(spec, "params");
    for (size_t i = 0; i < arr_len(pa); i++) {
        struct json_object *p = json_object_array_get_idx(pa, i), *e;
        const char *name = kj_get_str(p, "name");
        if (!name)
            continue;
        e = kj_obj();
        kj_put(e, "name", kj_str(name));
        put_str(e, "default", kj_get_str(p, "default"));
        put_str(e, "description", kj_get_str(p, "description"));
        kj_push(params, e);
    }
    kj_put(d, "params", params);
    struct json_object *steps = kj_arr();
    wf_steps(steps, spec, "steps", 0);
    wf_steps(steps, spec, "finally", 1);
    kj_put(d, "steps", steps);
    kj_put(d, "spec", json_object_is_type(spec, json_type_object) ? kj_copy(spec) : kj_obj());
    kj_put(d, "canStart", kj_bool(can_start));
    return d;
}

struct json_object *ui_trigger_item(struct json_object *tr)
{
    struct json_object *t = kj_obj(), *spec = kj_get(tr, "spec"), *st = kj_get(tr, "status");
    struct json_object *hook = kj_get(spec, "webhook"), *sched = kj_get(spec, "schedule");
    put_meta(t, tr);
    put_str(t, "workflow", kj_path_str(spec, "workflowRef", "name", NULL));
    kj_put(t, "webhook", kj_bool(json_object_is_type(hook, json_type_object)));
    if (json_object_is_type(hook, json_type_object)) {
        const char *ns = kj_path_str(tr, "metadata", "namespace", NULL);
        const char *name = kj_path_str(tr, "metadata", "name", NULL);
        char path[400];
        if (ns && name) {
            snprintf(path, sizeof path, "/hooks/%s/%s", ns, name);
            kj_put(t, "hookPath", kj_str(path));
        }
    }
    if (json_object_is_type(sched, json_type_object)) {
        put_str(t, "schedule", kj_get_str(sched, "cron"));
        put_str(t, "timeZone", kj_get_str(sched, "timeZone"));
        kj_put(t, "suspend", kj_bool(kj_get_bool(sched, "suspend")));
    } else {
        kj_put(t, "suspend", kj_bool(0));
    }
    struct json_object *ready = kj_cond_find(kj_get(st, "conditions"), "Ready");
    const char *rs = kj_get_str(ready, "status");
    kj_put(t, "ready", kj_bool(rs && strcmp(rs, "True") == 0));
    put_str(t, "readyReason", kj_get_str(ready, "reason"));
    put_str(t, "readyMessage", kj_get_str(ready, "message"));
    struct json_object *ld = kj_get(st, "lastDelivery"), *v;
    if (json_object_is_type(ld, json_type_object)) {
        struct json_object *e = kj_obj();
        put_str(e, "id", kj_get_str(ld, "id"));
        put_str(e, "time", kj_get_str(ld, "time"));
        put_str(e, "result", kj_get_str(ld, "result"));
        put_str(e, "run", kj_get_str(ld, "run"));
        if ((v = kj_get(ld, "code")) && json_object_is_type(v, json_type_int))
            kj_put(e, "code", kj_int(json_object_get_int64(v)));
        kj_put(t, "lastDelivery", e);
    }
    put_str(t, "lastFired", kj_get_str(st, "lastFired"));
    put_str(t, "lastResult", kj_get_str(st, "lastResult"));
    put_str(t, "lastScheduleTime", kj_get_str(st, "lastScheduleTime"));
    put_str(t, "nextScheduleTime", kj_get_str(st, "nextScheduleTime"));
    struct json_object *dl = kj_get(st, "deliveries");
    if (json_object_is_type(dl, json_type_object)) {
        struct json_object *e = kj_obj();
        json_object_object_foreach(dl, k, n)
        {
            if (json_object_is_type(n, json_type_int))
                kj_put(e, k, kj_int(json_object_get_int64(n)));
        }
        kj_put(t, "deliveries", e);
    }
    return t;
}

struct json_object *ui_start_run(const char *ns, struct json_object *wf, struct json_object *params,
                                 char *err, size_t errcap)
{
    const char *name = kj_path_str(wf, "metadata", "name", NULL);
    struct json_object *decl = kj_path(wf, "spec", "params", NULL);
    if (!name || !ns) {
        snprintf(err, errcap, "no such Workflow");
        return NULL;
    }
    /* Checked here, not only by the controller: a run with a param the
     * Workflow does not declare would be created only to fail. */
    if (!json_object_is_type(params, json_type_object)) {
        snprintf(err, errcap, "params must be an object");
        return NULL;
    }
    json_object_object_foreach(params, k, v)
    {
        (void)v;
        if (!kj_find(decl, "name", k)) {
            snprintf(err, errcap, "the Workflow declares no param \"%.64s\"", k);
            return NULL;
        }
    }
    struct json_object *list = kj_arr();
    for (size_t i = 0; i < arr_len(decl); i++) {
        struct json_object *d = json_object_array_get_idx(decl, i);
        const char *pn = kj_get_str(d, "name");
        const char *val = pn ? kj_get_str(params, pn) : NULL;
        if (!pn)
            continue;
        if (!val && !kj_get_str(d, "default")) {
            snprintf(err, errcap, "param \"%.64s\" is required (it has no default)", pn);
            json_object_put(list);
            return NULL;
        }
        if (!val)
            continue; /* the Workflow's default applies */
        struct json_object *e = kj_obj();
        kj_put(e, "name", kj_str(pn));
        kj_put(e, "value", kj_str(val));
        kj_push(list, e);
    }
    char gen[300];
    snprintf(gen, sizeof gen, "%.240s-", name);
    struct json_object *o = kj_obj(), *m = kj_obj(), *spec = kj_obj(), *ref = kj_obj();
    kj_put(o, "apiVersion", kj_str("runbook.dev/v1alpha1"));
    kj_put(o, "kind", kj_str("WorkflowRun"));
    kj_put(m, "generateName", kj_str(gen));
    kj_put(m, "namespace", kj_str(ns));
    kj_put(o, "metadata", m);
    kj_put(ref, "name", kj_str(name));
    kj_put(spec, "workflowRef", ref);
    if (json_object_array_length(list))
        kj_put(spec, "params", list);
    else
        json_object_put(list);
    kj_put(o, "spec", spec);
    return o;
}
