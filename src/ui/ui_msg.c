/* ui_msg.c - the UI's WebSocket protocol (docs/ui.md) as pure functions:
 * a browser's message parsed into struct ui_msg, and a cached run turned
 * into the summary and the detail the page draws. No I/O, no clock.
 *
 * Everything here reads what anyone who may write a run or a WebSocket
 * message chose: every field is checked for its type, strings are copied
 * into bounded buffers or taken as they are into JSON (the page renders
 * them as text), and nothing is trusted to be present. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson/kjson.h"
#include "kube/kube.h"
#include "ui/ui-internal.h"
#include "wf/wf.h"

static const struct {
    const char *name;
    enum ui_msg_type type;
} types[] = {
    {"auth", UI_MSG_AUTH},     {"watch_runs", UI_MSG_WATCH_RUNS}, {"watch_run", UI_MSG_WATCH_RUN},
    {"cancel", UI_MSG_CANCEL}, {"run_again", UI_MSG_RUN_AGAIN},
};

/* A DNS-1123 subdomain-ish name: what a namespace or run name can be. A
 * name outside it names nothing, so it is refused before any lookup. */
static int name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

int ui_token_ok(const char *tok)
{
    size_t n = tok ? strlen(tok) : 0;
    if (n == 0 || n > UI_TOKEN_MAX)
        return 0;
    /* It goes into an HTTP header: no control character, no space. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)tok[i] <= ' ' || tok[i] == 0x7f)
            return 0;
    return 1;
}

static int fail(char *err, size_t cap, const char *msg)
{
    snprintf(err, cap, "%s", msg);
    return -EINVAL;
}

void ui_msg_clear(struct ui_msg *m)
{
    if (m->token) {
        /* A bearer token: not left behind in freed memory. */
        volatile char *p = m->token;
        while (*p)
            *p++ = '\0';
        free(m->token);
    }
    memset(m, 0, sizeof *m);
}

int ui_msg_parse(const char *data, size_t len, struct ui_msg *m, char *err, size_t errcap)
{
    memset(m, 0, sizeof *m);
    struct json_object *o = kube_json_parse(data, len);
    if (!o)
        return fail(err, errcap, "message is not JSON");
    int rc = 0;
    const char *type = kj_get_str(o, "type");
    if (!json_object_is_type(o, json_type_object) || !type) {
        rc = fail(err, errcap, "message has no \"type\"");
        goto out;
    }
    m->type = UI_MSG_NONE;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(type, types[i].name) == 0)
            m->type = types[i].type;
    if (m->type == UI_MSG_NONE) {
        rc = fail(err, errcap, "unknown message type");
        goto out;
    }
    if (m->type == UI_MSG_AUTH) {
        const char *tok = kj_get_str(o, "token");
        if (!ui_token_ok(tok)) {
            rc = fail(err, errcap,
                      "auth needs a \"token\": at most 16 KiB, no space or control character");
            goto out;
        }
        if (!(m->token = strdup(tok)))
            rc = -ENOMEM;
        /* json-c's copy would be freed as it is: wiped first (through a
         * union: the buffer is the parsed object's own, writable). */
        union {
            const char *c;
            char *m;
        } w = {tok};
        explicit_bzero(w.m, strlen(tok));
        goto out;
    }
    if (m->type == UI_MSG_WATCH_RUN || m->type == UI_MSG_CANCEL || m->type == UI_MSG_RUN_AGAIN) {
        const char *ns = kj_get_str(o, "namespace"), *name = kj_get_str(o, "name");
        if (!ns || !name || !name_ok(ns, 63) || !name_ok(name, 253)) {
            rc = fail(err, errcap, "\"namespace\" and \"name\" must name a run");
            goto out;
        }
        snprintf(m->ns, sizeof m->ns, "%s", ns);
        snprintf(m->name, sizeof m->name, "%s", name);
    }
    if (m->type == UI_MSG_CANCEL || m->type == UI_MSG_RUN_AGAIN) {
        struct json_object *id = kj_get(o, "id");
        if (!id || !json_object_is_type(id, json_type_int)) {
            rc = fail(err, errcap,
                      m->type == UI_MSG_CANCEL ? "cancel needs a numeric \"id\""
                                               : "run_again needs a numeric \"id\"");
            goto out;
        }
        m->id = json_object_get_int64(id);
    }
out:
    json_object_put(o);
    if (rc < 0)
        ui_msg_clear(m);
    return rc;
}

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
        struct json_object *s = kj_find(st_steps, "name", name), *v;
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
