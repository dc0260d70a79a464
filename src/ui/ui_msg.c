/* ui_msg.c - a browser's WebSocket message (docs/ui.md, "The protocol")
 * parsed into struct ui_msg. Pure: no I/O, no clock.
 *
 * Any tab that reached the socket chose these bytes: every field is
 * checked for its type, names against what the CRDs allow, and strings
 * are copied into bounded buffers. */
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
    {"auth", UI_MSG_AUTH},
    {"watch_runs", UI_MSG_WATCH_RUNS},
    {"watch_run", UI_MSG_WATCH_RUN},
    {"cancel", UI_MSG_CANCEL},
    {"run_again", UI_MSG_RUN_AGAIN},
    {"watch_workflows", UI_MSG_WATCH_WORKFLOWS},
    {"watch_workflow", UI_MSG_WATCH_WORKFLOW},
    {"watch_triggers", UI_MSG_WATCH_TRIGGERS},
    {"start", UI_MSG_START},
    {"logs", UI_MSG_LOGS},
    {"logs_stop", UI_MSG_LOGS_STOP},
};

/* A step or param name as the CRDs allow them; anything else names
 * nothing. */
static int ident_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
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

/* start's params: {NAME: "value"}, names as the Workflow CRD allows,
 * values strings of at most UI_PARAM_MAX bytes; a new object or NULL
 * with err set. */
static struct json_object *parse_params(struct json_object *p, char *err, size_t errcap)
{
    if (!p)
        return kj_obj();
    if (!json_object_is_type(p, json_type_object)) {
        fail(err, errcap, "\"params\" must be an object of strings");
        return NULL;
    }
    if (json_object_object_length(p) > UI_PARAMS_MAX) {
        fail(err, errcap, "too many params (at most 100)");
        return NULL;
    }
    struct json_object *out = kj_obj();
    json_object_object_foreach(p, k, v)
    {
        if (!ident_ok(k, 63) || !json_object_is_type(v, json_type_string) ||
            (size_t)json_object_get_string_len(v) > UI_PARAM_MAX) {
            fail(err, errcap, "a param must be NAME: \"value\" (a string of at most 64 KiB)");
            json_object_put(out);
            return NULL;
        }
        kj_put(out, k, kj_str(json_object_get_string(v)));
    }
    return out;
}

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

void ui_msg_clear(struct ui_msg *m)
{
    if (m->token) {
        /* A bearer token: not left behind in freed memory. */
        volatile char *p = m->token;
        while (*p)
            *p++ = '\0';
        free(m->token);
    }
    json_object_put(m->params);
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
    if (m->type == UI_MSG_WATCH_RUN || m->type == UI_MSG_CANCEL || m->type == UI_MSG_RUN_AGAIN ||
        m->type == UI_MSG_WATCH_WORKFLOW || m->type == UI_MSG_START || m->type == UI_MSG_LOGS) {
        /* start names its Workflow "workflow"; the others their object "name". */
        const char *key = m->type == UI_MSG_START ? "workflow" : "name";
        const char *ns = kj_get_str(o, "namespace"), *name = kj_get_str(o, key);
        if (!ns || !name || !name_ok(ns, 63) || !name_ok(name, 253)) {
            rc =
                fail(err, errcap,
                     m->type == UI_MSG_START ? "\"namespace\" and \"workflow\" must name a Workflow"
                     : m->type == UI_MSG_WATCH_WORKFLOW
                         ? "\"namespace\" and \"name\" must name a Workflow"
                         : "\"namespace\" and \"name\" must name a run");
            goto out;
        }
        snprintf(m->ns, sizeof m->ns, "%s", ns);
        snprintf(m->name, sizeof m->name, "%s", name);
    }
    if (m->type == UI_MSG_LOGS) {
        const char *step = kj_get_str(o, "step");
        if (!ident_ok(step, 63)) {
            rc = fail(err, errcap, "logs needs a \"step\" name");
            goto out;
        }
        snprintf(m->step, sizeof m->step, "%s", step);
    }
    if (m->type == UI_MSG_CANCEL || m->type == UI_MSG_RUN_AGAIN || m->type == UI_MSG_START) {
        struct json_object *id = kj_get(o, "id");
        if (!id || !json_object_is_type(id, json_type_int)) {
            rc = fail(err, errcap, "a write needs a numeric \"id\"");
            goto out;
        }
        m->id = json_object_get_int64(id);
    }
    if (m->type == UI_MSG_START && !(m->params = parse_params(kj_get(o, "params"), err, errcap)))
        rc = -EINVAL;
out:
    json_object_put(o);
    if (rc < 0)
        ui_msg_clear(m);
    return rc;
}
