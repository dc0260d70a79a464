/* trig_spec.c - a Trigger object -> struct trig_spec, with every shape
 * check. The first problem wins and its message names the field path, so
 * it can go straight into a Ready=False, reason=InvalidSpec condition.
 * Strings borrow from the json (see trigger.h). */
#include "trigger/trig-internal.h"
#include "trigger/trigger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The trigger name becomes the prefix of run names (and so of Job names
 * and label values): a DNS label, short enough for "-<10 hex>". */
static int trigger_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TRIG_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

/* An HTTP field name (RFC 9110 token). */
static int header_name_ok(const char *s)
{
    if (!*s || strlen(s) > 256)
        return 0;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *s))
            return 0;
    return 1;
}

/* RFC 6901: "" or '/'-separated tokens where '~' is only "~0" or "~1". */
static int pointer_ok(const char *p)
{
    if (*p && *p != '/')
        return 0;
    for (; *p; p++)
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return 0;
    return 1;
}

/* A label value: empty, or <= 63 of [A-Za-z0-9._-] with alnum at both ends. */
static int label_value_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return 1;
    if (n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && ((i == 0 || i == n - 1) || !(c == '-' || c == '_' || c == '.')))
            return 0;
    }
    return 1;
}

/* A member that must be an object when present: 1 present, 0 absent,
 * -EINVAL (err filled) when of another type. */
static int opt_obj(struct json_object *o, const char *key, const char *path,
                   struct json_object **out, struct trig_error *err)
{
    *out = kj_get(o, key);
    if (!*out)
        return 0;
    if (!json_object_is_type(*out, json_type_object))
        return trig_fail(err, "%s.%s must be an object", path, key);
    return 1;
}

static int opt_str(struct json_object *o, const char *key, const char *path, const char **out,
                   struct trig_error *err)
{
    struct json_object *v = kj_get(o, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return trig_fail(err, "%s.%s must be a string", path, key);
    *out = json_object_get_string(v);
    return 1;
}

/* A non-empty array of strings. */
static int str_list(struct json_object *v, const char *path, struct trig_error *err)
{
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
        return trig_fail(err, "%s must be a non-empty list of strings", path);
    for (size_t i = 0; i < json_object_array_length(v); i++)
        if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
            return trig_fail(err, "%s[%zu] must be a string", path, i);
    return 0;
}

/* An object whose members are all strings; labels also checks values. */
static int str_map(struct json_object *o, const char *path, int labels, struct trig_error *err)
{
    if (!json_object_is_type(o, json_type_object))
        return trig_fail(err, "%s must be an object of strings", path);
    struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *k = json_object_iter_peek_name(&it);
        struct json_object *v = json_object_iter_peek_value(&it);
        if (!*k)
            return trig_fail(err, "%s: empty key", path);
        if (!json_object_is_type(v, json_type_string))
            return trig_fail(err, "%s[\"%.100s\"] must be a string", path, k);
        if (labels && !label_value_ok(json_object_get_string(v)))
            return trig_fail(err,
                             "%s[\"%.100s\"]: not a valid label value (at most 63 of "
                             "[A-Za-z0-9._-], alphanumeric at both ends)",
                             path, k);
    }
    return 0;
}

/* One params list. literal_only: the schedule's, where there is no
 * request to take a value from. */
static int parse_params(struct json_object *arr, const char *path, int literal_only,
                        struct trig_param **out, size_t *n_out, struct trig_error *err)
{
    if (!arr)
        return 0;
    if (!json_object_is_type(arr, json_type_array))
        return trig_fail(err, "%s must be a list", path);
    size_t n = json_object_array_length(arr);
    if (n > TRIG_PARAMS_MAX)
        return trig_fail(err, "%s: too many parameters: %zu (at most %d)", path, n,
                         TRIG_PARAMS_MAX);
    struct trig_param *p = trig_xcalloc(n, sizeof *p);
    *out = p;
    static const char *const keys[] = {"pointer", "header", "value"};
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(e, json_type_object))
            return trig_fail(err, "%s[%zu] must be an object", path, i);
        struct json_object *name = kj_get(e, "name");
        if (!json_object_is_type(name, json_type_string))
            return trig_fail(err, "%s[%zu].name must be a string", path, i);
        p[i].name = json_object_get_string(name);
        if (!wf_param_name_ok(p[i].name))
            return trig_fail(err,
                             "%s[%zu].name: \"%.100s\" is not valid (a letter or '_', then "
                             "letters, digits, '_' or '-'; at most 63)",
                             path, i, p[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p[j].name, p[i].name) == 0)
                return trig_fail(err, "%s[%zu].name: duplicate parameter \"%s\"", path, i,
                                 p[i].name);
        int set = 0;
        for (size_t k = 0; k < 3; k++) {
            struct json_object *v = kj_get(e, keys[k]);
            if (!v)
                continue;
            if (!json_object_is_type(v, json_type_string))
                return trig_fail(err, "%s[%zu].%s must be a string", path, i, keys[k]);
            set++;
            p[i].src = (enum trig_src)k;
            p[i].arg = json_object_get_string(v);
        }
        if (literal_only && (p[i].src != TRIG_SRC_VALUE || set != 1))
            return trig_fail(err, "%s[%zu]: set value (a schedule has no request to read)", path,
                             i);
        if (set != 1)
            return trig_fail(err, "%s[%zu]: set exactly one of pointer, header, value", path, i);
        if (p[i].src == TRIG_SRC_POINTER && !pointer_ok(p[i].arg))
            return trig_fail(err,
                             "%s[%zu].pointer: \"%.100s\" is not a JSON pointer (RFC 6901: \"\" "
                             "or \"/a/b\", '~' only as ~0 or ~1)",
                             path, i, p[i].arg);
        if (p[i].src == TRIG_SRC_HEADER && !header_name_ok(p[i].arg))
            return trig_fail(err, "%s[%zu].header: \"%.100s\" is not a header name", path, i,
                             p[i].arg);
        if (p[i].src == TRIG_SRC_VALUE && strlen(p[i].arg) > TRIG_VALUE_MAX)
            return trig_fail(err, "%s[%zu].value: longer than %d bytes", path, i, TRIG_VALUE_MAX);
        *n_out = i + 1;
    }
    return 0;
}

static int parse_filter(struct trig_webhook *h, struct json_object *f, struct trig_error *err)
{
    const char *path = "spec.webhook.filter";
    struct json_object *hdrs = NULL, *body = kj_get(f, "body");
    int r = opt_obj(f, "headers", path, &hdrs, err);
    if (r < 0)
        return r;
    if (hdrs) {
        h->hfilters = trig_xcalloc(json_object_object_length(hdrs), sizeof *h->hfilters);
        struct json_object_iterator it = json_object_iter_begin(hdrs),
                                    end = json_object_iter_end(hdrs);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *name = json_object_iter_peek_name(&it);
            char sub[320];
            snprintf(sub, sizeof sub, "%s.headers[\"%.100s\"]", path, name);
            if (!header_name_ok(name))
                return trig_fail(err, "%s: not a header name", sub);
            struct json_object *vals = json_object_iter_peek_value(&it);
            if ((r = str_list(vals, sub, err)) < 0)
                return r;
            h->hfilters[h->n_hfilters].header = name;
            h->hfilters[h->n_hfilters++].values = vals;
        }
    }
    if (!body)
        return 0;
    if (!json_object_is_type(body, json_type_array))
        return trig_fail(err, "%s.body must be a list", path);
    size_t n = json_object_array_length(body);
    h->bfilters = trig_xcalloc(n, sizeof *h->bfilters);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(body, i);
        char sub[64];
        snprintf(sub, sizeof sub, "%s.body[%zu]", path, i);
        if (!json_object_is_type(e, json_type_object))
            return trig_fail(err, "%s must be an object", sub);
        const char *ptr = NULL;
        if ((r = opt_str(e, "pointer", sub, &ptr, err)) < 0)
            return r;
        if (!ptr)
            return trig_fail(err, "%s.pointer is required", sub);
        if (!pointer_ok(ptr))
            return trig_fail(err,
                             "%s.pointer: \"%.100s\" is not a JSON pointer (RFC 6901: \"\" or "
                             "\"/a/b\", '~' only as ~0 or ~1)",
                             sub, ptr);
        char vsub[80];
        snprintf(vsub, sizeof vsub, "%s.values", sub);
        if ((r = str_list(kj_get(e, "values"), vsub, err)) < 0)
            return r;
        h->bfilters[i].pointer = ptr;
        h->bfilters[i].values = kj_get(e, "values");
        h->n_bfilters = i + 1;
    }
    return 0;
}

static int parse_webhook(struct trig_webhook *h, struct json_object *w, struct trig_error *err)
{
    const char *path = "spec.webhook";
    struct json_object *ref = NULL, *filter = NULL;
    int r = opt_obj(w, "secretRef", path, &ref, err);
    if (r < 0)
        return r;
    if (r == 0)
        return trig_fail(err, "spec.webhook.secretRef is required (no unauthenticated webhooks)");
    if ((r = opt_str(ref, "name", "spec.webhook.secretRef", &h->secret_name, err)) < 0 ||
        (r = opt_str(ref, "key", "spec.webhook.secretRef", &h->secret_key, err)) < 0)
        return r;
    if (!h->secret_name || !*h->secret_name)
        return trig_fail(err, "spec.webhook.secretRef.name is required");
    if (!h->secret_key || !*h->secret_key)
        return trig_fail(err, "spec.webhook.secretRef.key is required");
    const char *sig = NULL;
    if ((r = opt_str(w, "signature", path, &sig, err)) < 0)
        return r;
    if (!sig || strcmp(sig, "generic") == 0)
        h->sig = TRIG_SIG_GENERIC;
    else if (strcmp(sig, "github") == 0)
        h->sig = TRIG_SIG_GITHUB;
    else if (strcmp(sig, "gitlab") == 0)
        h->sig = TRIG_SIG_GITLAB;
    else
        return trig_fail(err,
                         "spec.webhook.signature: \"%.100s\" is not one of github, gitlab, "
                         "generic",
                         sig);
    if ((r = opt_obj(w, "filter", path, &filter, err)) < 0)
        return r;
    if (filter && (r = parse_filter(h, filter, err)) < 0)
        return r;
    return parse_params(kj_get(w, "params"), "spec.webhook.params", 0, &h->params, &h->n_params,
                        err);
}

static int parse_schedule(struct trig_schedule *s, struct json_object *o, struct trig_error *err)
{
    const char *path = "spec.schedule";
    int r = opt_str(o, "cron", path, &s->cron, err);
    if (r < 0)
        return r;
    if (!s->cron || !*s->cron)
        return trig_fail(err, "spec.schedule.cron is required");
    if ((r = opt_str(o, "timeZone", path, &s->time_zone, err)) < 0)
        return r;
    s->starting_deadline_seconds = -1;
    struct json_object *d = kj_get(o, "startingDeadlineSeconds");
    if (d) {
        if (!json_object_is_type(d, json_type_int) || json_object_get_int64(d) < 0)
            return trig_fail(err, "spec.schedule.startingDeadlineSeconds must be an integer >= 0");
        s->starting_deadline_seconds = json_object_get_int64(d);
    }
    struct json_object *susp = kj_get(o, "suspend");
    if (susp && !json_object_is_type(susp, json_type_boolean))
        return trig_fail(err, "spec.schedule.suspend must be a boolean");
    s->suspend = kj_get_bool(o, "suspend");
    return parse_params(kj_get(o, "params"), "spec.schedule.params", 1, &s->params, &s->n_params,
                        err);
}

static int parse_template(struct trig_spec *s, struct json_object *spec, struct trig_error *err)
{
    struct json_object *tpl = NULL, *meta = NULL;
    int r = opt_obj(spec, "runTemplate", "spec", &tpl, err);
    if (r <= 0)
        return r;
    if ((r = opt_obj(tpl, "metadata", "spec.runTemplate", &meta, err)) <= 0)
        return r;
    s->labels = kj_get(meta, "labels");
    s->annotations = kj_get(meta, "annotations");
    if (s->labels && (r = str_map(s->labels, "spec.runTemplate.metadata.labels", 1, err)) < 0)
        return r;
    if (s->annotations &&
        (r = str_map(s->annotations, "spec.runTemplate.metadata.annotations", 0, err)) < 0)
        return r;
    return 0;
}

static int parse(struct trig_spec *s, struct json_object *t, struct trig_error *err)
{
    if (!json_object_is_type(t, json_type_object))
        return trig_fail(err, "a Trigger must be an object");
    s->name = kj_path_str(t, "metadata", "name", NULL);
    if (!s->name)
        return trig_fail(err, "metadata.name is required");
    if (!trigger_name_ok(s->name))
        return trig_fail(err,
                         "metadata.name: \"%.100s\" must be a DNS label of at most %d characters "
                         "(run names are \"<trigger>-<10 hex>\", at most 63)",
                         s->name, TRIG_NAME_MAX);
    struct json_object *spec = NULL, *ref = NULL, *o = NULL;
    int r = opt_obj(t, "spec", "", &spec, err);
    if (r < 0)
        return trig_fail(err, "spec must be an object");
    if (r == 0)
        return trig_fail(err, "spec is required");
    if ((r = opt_obj(spec, "workflowRef", "spec", &ref, err)) < 0)
        return r;
    if ((r = opt_str(ref, "name", "spec.workflowRef", &s->workflow, err)) < 0)
        return r;
    if (!s->workflow || !*s->workflow)
        return trig_fail(err, "spec.workflowRef.name is required");
    if ((r = opt_obj(spec, "webhook", "spec", &o, err)) < 0)
        return r;
    s->has_webhook = r;
    if (o && (r = parse_webhook(&s->hook, o, err)) < 0)
        return r;
    if ((r = opt_obj(spec, "schedule", "spec", &o, err)) < 0)
        return r;
    s->has_schedule = r;
    if (o && (r = parse_schedule(&s->sched, o, err)) < 0)
        return r;
    if (!s->has_webhook && !s->has_schedule)
        return trig_fail(err, "spec: set webhook, schedule or both");
    return parse_template(s, spec, err);
}

int trig_spec_parse(struct json_object *trigger, struct trig_spec **ret, struct trig_error *err)
{
    struct trig_spec *s = trig_xcalloc(1, sizeof *s);
    s->raw = json_object_get(trigger);
    s->sched.starting_deadline_seconds = -1;
    int r = parse(s, trigger, err);
    if (r < 0) {
        trig_spec_free(s);
        return r;
    }
    *ret = s;
    return 0;
}

void trig_spec_free(struct trig_spec *s)
{
    if (!s)
        return;
    free(s->hook.hfilters);
    free(s->hook.bfilters);
    free(s->hook.params);
    free(s->sched.params);
    json_object_put(s->raw);
    free(s);
}
