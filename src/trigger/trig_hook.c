/* trig_hook.c - one webhook request -> a verdict (trigger.h gives the
 * order). Security comes first in that order: until the signature holds,
 * nothing of the request is parsed, and nothing of it is ever echoed; after
 * it, what we echo (skip reasons, pointers, header names) is cut short and
 * escaped. */
#include "trigger/trig-internal.h"
#include "trigger/trigger.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json_pointer.h>

/* Fills code, reason and message; returns -1 so failures read
 * `return verdict(...)` where a helper returns 0 or -1. */
static int verdict(struct trig_verdict *v, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int verdict(struct trig_verdict *v, int code, const char *reason, const char *fmt, ...)
{
    v->code = code;
    snprintf(v->reason, sizeof v->reason, "%s", reason);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* "application/json", any case, optionally followed by ';' parameters. */
static int json_media(const char *ct)
{
    static const char want[] = "application/json";
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, want, sizeof want - 1) != 0)
        return 0;
    ct += sizeof want - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* The whole body as one JSON value, trailing whitespace allowed: 0 with
 * *ret set (NULL for a JSON null), or -EINVAL. */
static int parse_body(const char *body, size_t len, struct json_object **ret)
{
    if (len > INT_MAX)
        return -EINVAL;
    struct json_tokener *tok = json_tokener_new_ex(KJ_MAX_DEPTH);
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *o = json_tokener_parse_ex(tok, body ? body : "", (int)len);
    size_t used = json_tokener_get_parse_end(tok);
    /* A lone number ("12") is only complete at the end of input: say so
     * with a NUL. All of the body was used then. */
    if (!o && json_tokener_get_error(tok) == json_tokener_continue) {
        o = json_tokener_parse_ex(tok, "", 1);
        used = len;
    }
    int ok = json_tokener_get_error(tok) == json_tokener_success;
    for (size_t i = used; ok && body && i < len; i++)
        ok = body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n';
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(o);
        return -EINVAL;
    }
    *ret = o;
    return 0;
}

/* The value at an RFC 6901 pointer, or NULL when missing or null. */
static struct json_object *at(struct json_object *doc, const char *ptr)
{
    struct json_object *res = NULL;
    if (*ptr == '\0')
        return doc;
    if (json_pointer_get(doc, ptr, &res) != 0)
        return NULL;
    return res;
}

static int in_list(struct json_object *values, const char *s)
{
    for (size_t i = 0; i < json_object_array_length(values); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(values, i)), s) == 0)
            return 1;
    return 0;
}

/* 1 when every filter passes, else 0 with v->skipped saying which did not. */
static int filters_pass(const struct trig_webhook *h, const struct trig_request *req,
                        struct json_object *body, struct trig_verdict *v)
{
    char name[120], seen[120];
    for (size_t i = 0; i < h->n_hfilters; i++) {
        const struct trig_hfilter *f = &h->hfilters[i];
        const char *val = trig_header_get(req->headers, req->n_headers, f->header);
        if (val && in_list(f->values, val))
            continue;
        trig_escape(f->header, strlen(f->header), name, sizeof name);
        if (!val) {
            snprintf(v->skipped, sizeof v->skipped, "header %s is missing", name);
        } else {
            trig_escape(val, strlen(val), seen, sizeof seen);
            snprintf(v->skipped, sizeof v->skipped, "header %s is \"%s\"", name, seen);
        }
        return 0;
    }
    for (size_t i = 0; i < h->n_bfilters; i++) {
        const struct trig_bfilter *f = &h->bfilters[i];
        struct json_object *o = at(body, f->pointer);
        const char *text = o ? trig_value_text(o) : NULL;
        if (text && in_list(f->values, text))
            continue;
        trig_escape(f->pointer, strlen(f->pointer), name, sizeof name);
        if (!text) {
            snprintf(v->skipped, sizeof v->skipped, "body %s is missing", name);
        } else {
            trig_escape(text, strlen(text), seen, sizeof seen);
            snprintf(v->skipped, sizeof v->skipped, "body %s is \"%s\"", name, seen);
        }
        return 0;
    }
    return 1;
}

/* The default of the Workflow's parameter `name`, or NULL. */
static const char *wf_default(struct json_object *workflow, const char *name)
{
    struct json_object *ps = kj_path(workflow, "spec", "params", NULL);
    if (!json_object_is_type(ps, json_type_array))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(ps); i++) {
        struct json_object *p = json_object_array_get_idx(ps, i);
        const char *n = kj_get_str(p, "name");
        if (n && strcmp(n, name) == 0)
            return kj_get_str(p, "default");
    }
    return NULL;
}

/* Resolves every param into v->params; 0, or -1 with a 422 verdict. */
static int resolve_params(const struct trig_webhook *h, const struct trig_request *req,
                          struct json_object *body, struct json_object *workflow,
                          struct trig_verdict *v)
{
    struct wf_params *p = trig_xcalloc(1, sizeof *p);
    p->kv = trig_xcalloc(h->n_params, sizeof *p->kv);
    v->params = p;
    char what[160];
    for (size_t i = 0; i < h->n_params; i++) {
        const struct trig_param *tp = &h->params[i];
        const char *val = tp->arg;
        if (tp->src == TRIG_SRC_POINTER) {
            struct json_object *o = at(body, tp->arg);
            val = o ? trig_value_text(o) : NULL;
        } else if (tp->src == TRIG_SRC_HEADER) {
            val = trig_header_get(req->headers, req->n_headers, tp->arg);
        }
        trig_escape(tp->arg, strlen(tp->arg), what, sizeof what);
        const char *kind = tp->src == TRIG_SRC_POINTER ? "body pointer" : "header";
        if (!val && workflow)
            val = wf_default(workflow, tp->name);
        if (!val && workflow)
            return verdict(v, 422, TRIG_R_UNPROCESSABLE,
                           "parameter \"%s\": %s %s is missing and the workflow has no default",
                           tp->name, kind, what);
        if (!val) /* Workflow unknown: the run's own resolution decides */
            continue;
        if (strlen(val) > TRIG_VALUE_MAX)
            return verdict(v, 422, TRIG_R_UNPROCESSABLE,
                           "parameter \"%s\": the value of %s %s is longer than %d bytes", tp->name,
                           kind, what, TRIG_VALUE_MAX);
        p->kv[p->n].name = trig_xstrdup(tp->name);
        p->kv[p->n].value = trig_xstrdup(val);
        p->n++;
    }
    return 0;
}

/* 1..TRIG_DELIVERY_MAX printable ASCII characters. */
static int delivery_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TRIG_DELIVERY_MAX)
        return 0;
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return 0;
    return 1;
}

/* The delivery id (trigger.h); 0, or -1 with a 400 verdict. */
static int delivery_id(const struct trig_request *req, struct trig_verdict *v)
{
    static const char *const names[] = {TRIG_H_GITHUB_DELIVERY, TRIG_H_GITLAB_UUID,
                                        TRIG_H_IDEMPOTENCY};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *id = trig_header_get(req->headers, req->n_headers, names[i]);
        if (!id)
            continue;
        if (!delivery_ok(id))
            return verdict(v, 400, TRIG_R_BAD_REQUEST,
                           "%s must be 1 to %d printable ASCII characters", names[i],
                           TRIG_DELIVERY_MAX);
        snprintf(v->delivery, sizeof v->delivery, "%s", id);
        return 0;
    }
    unsigned char md[TRIG_SHA256_LEN];
    trig_sha256(req->body ? req->body : "", req->body_len, NULL, 0, md);
    trig_hex(md, sizeof md, v->delivery);
    return 0;
}

int trig_run_name(const char *trigger, const char *uid, const char *delivery,
                  char out[TRIG_NAME_LEN])
{
    size_t n = strlen(trigger);
    if (n == 0)
        return -EINVAL;
    if (n > TRIG_NAME_MAX)
        return -ENAMETOOLONG;
    unsigned char md[TRIG_SHA256_LEN];
    char hex[2 * TRIG_SHA256_LEN + 1];
    trig_sha256(uid, strlen(uid), delivery, strlen(delivery), md);
    trig_hex(md, sizeof md, hex);
    snprintf(out, TRIG_NAME_LEN, "%s-%.10s", trigger, hex);
    return 0;
}

int trig_hook_eval(const struct trig_spec *spec, const void *secret, size_t secret_len,
                   const struct trig_request *req, struct json_object *workflow,
                   const char *trigger_name, const char *trigger_uid, int64_t now_unix,
                   struct trig_verdict *v)
{
    trig_verdict_clear(v);
    if (!spec->has_webhook) {
        verdict(v, 404, TRIG_R_NOT_FOUND, "this trigger has no webhook");
        return 0;
    }
    if (trig_sig_check(spec->hook.sig, secret, secret_len, req, now_unix) < 0) {
        verdict(v, 401, TRIG_R_UNAUTHORIZED, "missing or invalid signature");
        return 0;
    }
    const char *ct = req->content_type
                         ? req->content_type
                         : trig_header_get(req->headers, req->n_headers, "Content-Type");
    if (!json_media(ct)) {
        verdict(v, 415, TRIG_R_UNSUPPORTED_MEDIA, "the body must be application/json");
        return 0;
    }
    struct json_object *body = NULL;
    if (parse_body(req->body, req->body_len, &body) < 0) {
        verdict(v, 400, TRIG_R_BAD_REQUEST, "the body is not valid JSON");
        return 0;
    }
    if (!filters_pass(&spec->hook, req, body, v)) {
        json_object_put(body);
        verdict(v, 202, TRIG_R_SKIPPED, "no run: %s", v->skipped);
        return 0;
    }
    int r = resolve_params(&spec->hook, req, body, workflow, v);
    json_object_put(body);
    if (r == 0)
        r = delivery_id(req, v);
    if (r == 0 && trig_run_name(trigger_name ? trigger_name : spec->name,
                                trigger_uid ? trigger_uid : "", v->delivery, v->run_name) < 0)
        r = verdict(v, 422, TRIG_R_UNPROCESSABLE, "the trigger name is not valid");
    if (r < 0) { /* the verdict says why; no params with a refusal */
        wf_params_free(v->params);
        v->params = NULL;
        v->delivery[0] = v->run_name[0] = '\0';
        return 0;
    }
    verdict(v, 0, "", "ok");
    return 0;
}

void trig_verdict_clear(struct trig_verdict *v)
{
    wf_params_free(v->params);
    memset(v, 0, sizeof *v);
}
