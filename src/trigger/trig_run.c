/* trig_run.c - the WorkflowRun a trigger creates, the schedule path's
 * names, and the JSON answers of the webhook. */
#include "trigger/trig-internal.h"
#include "trigger/trigger.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies the string members of src (an object, or NULL) into dst. */
static void merge_strings(struct json_object *dst, struct json_object *src)
{
    if (!json_object_is_type(src, json_type_object))
        return;
    struct json_object_iterator it = json_object_iter_begin(src), end = json_object_iter_end(src);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        struct json_object *v = json_object_iter_peek_value(&it);
        if (json_object_is_type(v, json_type_string))
            kj_put(dst, json_object_iter_peek_name(&it), kj_str(json_object_get_string(v)));
    }
}

struct json_object *trig_run_new(const struct trig_spec *spec, const char *trigger, const char *ns,
                                 const char *run_name, const char *delivery,
                                 const struct wf_params *params,
                                 struct json_object *extra_annotations)
{
    struct json_object *run = kj_obj(), *meta = kj_obj(), *labels = kj_obj(), *ann = kj_obj();
    struct json_object *rs = kj_obj(), *ref = kj_obj();
    kj_put(run, "apiVersion", kj_str(TRIG_API_VERSION));
    kj_put(run, "kind", kj_str("WorkflowRun"));
    kj_put(meta, "name", kj_str(run_name));
    kj_put(meta, "namespace", kj_str(ns));
    /* Ours last: a template cannot forge which trigger or delivery made it. */
    merge_strings(labels, spec->labels);
    kj_put(labels, TRIG_LABEL_TRIGGER, kj_str(trigger));
    merge_strings(ann, spec->annotations);
    merge_strings(ann, extra_annotations);
    kj_put(ann, TRIG_ANN_DELIVERY, kj_str(delivery));
    kj_put(meta, "labels", labels);
    kj_put(meta, "annotations", ann);
    /* No ownerReferences: deleting a trigger must not delete its runs. */
    kj_put(run, "metadata", meta);
    kj_put(ref, "name", kj_str(spec->workflow));
    kj_put(rs, "workflowRef", ref);
    if (params && params->n)
        kj_put(rs, "params", wf_params_to_json(params));
    kj_put(run, "spec", rs);
    return run;
}

int trig_sched_run_name(const char *trigger, int64_t slot_unix, char out[TRIG_NAME_LEN])
{
    if (!*trigger || slot_unix < 0)
        return -EINVAL;
    int n = snprintf(out, TRIG_NAME_LEN, "%s-%" PRId64, trigger, slot_unix / 60);
    if (n < 0 || n >= TRIG_NAME_LEN) {
        out[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

void trig_sched_delivery(int64_t slot_unix, char out[TRIG_DELIVERY_LEN])
{
    char t[32];
    kj_time_format(slot_unix * 1000, t);
    snprintf(out, TRIG_DELIVERY_LEN, "schedule/%s", t);
}

struct wf_params *trig_sched_params(const struct trig_spec *spec)
{
    const struct trig_schedule *s = &spec->sched;
    struct wf_params *p = trig_xcalloc(1, sizeof *p);
    p->kv = trig_xcalloc(s->n_params, sizeof *p->kv);
    for (size_t i = 0; i < s->n_params; i++) {
        p->kv[i].name = trig_xstrdup(s->params[i].name);
        p->kv[i].value = trig_xstrdup(s->params[i].arg);
        p->n = i + 1;
    }
    return p;
}

char *trig_answer(int code, const char *reason, const char *message, const char *run_ns,
                  const char *run_name, const char *skipped)
{
    struct json_object *o = kj_obj();
    kj_put(o, "code", kj_int(code));
    kj_put(o, "reason", kj_str(reason ? reason : ""));
    if (message)
        kj_put(o, "message", kj_str(message));
    if (run_ns && run_name) {
        struct json_object *run = kj_obj();
        kj_put(run, "namespace", kj_str(run_ns));
        kj_put(run, "name", kj_str(run_name));
        kj_put(o, "run", run);
    }
    if (skipped)
        kj_put(o, "skipped", kj_str(skipped));
    char *s = trig_xstrdup(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}
