/* The public verbs: validate, build the URL and body, queue. */
#include "kube/kube-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

const struct kube_resource KUBE_NAMESPACES = {"", "v1", "namespaces", 0};
const struct kube_resource KUBE_CONFIGMAPS = {"", "v1", "configmaps", 1};
const struct kube_resource KUBE_PODS = {"", "v1", "pods", 1};
const struct kube_resource KUBE_SERVICEACCOUNTS = {"", "v1", "serviceaccounts", 1};
const struct kube_resource KUBE_JOBS = {"batch", "v1", "jobs", 1};
const struct kube_resource KUBE_EVENTS = {"events.k8s.io", "v1", "events", 1};
const struct kube_resource KUBE_LEASES = {"coordination.k8s.io", "v1", "leases", 1};
const struct kube_resource KUBE_CRDS = {"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                        0};
const struct kube_resource KUBE_WORKFLOWS = {"runbook.dev", "v1alpha1", "workflows", 1};
const struct kube_resource KUBE_WORKFLOWRUNS = {"runbook.dev", "v1alpha1", "workflowruns", 1};
const struct kube_resource KUBE_TRIGGERS = {"runbook.dev", "v1alpha1", "triggers", 1};
const struct kube_resource KUBE_SECRETS = {"", "v1", "secrets", 1};

const char *kube_verb_name(enum kube_verb v)
{
    static const char *const names[KUBE_VERB_MAX] = {"get",    "list",  "watch", "create",
                                                     "update", "patch", "delete"};
    return (unsigned)v < KUBE_VERB_MAX ? names[v] : "unknown";
}

/* Single-object verbs need a name, and a namespace for namespaced kinds. */
static int check_object(const struct kube_resource *res, const char *ns, const char *name)
{
    if (!res || !name || !*name)
        return -EINVAL;
    if (!!res->namespaced != (ns != NULL))
        return -EINVAL;
    return 0;
}

static int submit(struct kube_client *c, enum kube_verb verb, const char *method,
                  const struct kube_resource *res, const char *ns, const char *name,
                  const char *sub, const struct kube_param *q, size_t nq, const char *ctype,
                  const char *body, size_t body_len, kube_cb cb, void *ud, struct kube_req **out)
{
    if (!c || !cb)
        return -EINVAL;
    if (c->closing)
        return -ESHUTDOWN;
    size_t size = verb == KUBE_VERB_WATCH ? sizeof(struct kube_stream) : sizeof(struct kube_req);
    struct kube_req *r = kube_req_new(c, verb, size);
    if (!r)
        return -ENOMEM;
    int rc = kube_url_build(c->server, res, ns, name, sub, q, nq, &r->url);
    if (rc < 0) {
        kube_req_free(r);
        return rc;
    }
    r->method = method;
    r->cb = cb;
    r->ud = ud;
    if (body) {
        r->content_type = ctype;
        r->body_len = body_len;
        /* +1 and NUL: logs and debuggers may treat it as a string. */
        if (!(r->body = malloc(body_len + 1))) {
            kube_req_free(r);
            return -ENOMEM;
        }
        memcpy(r->body, body, body_len);
        r->body[body_len] = '\0';
    }
    if (out)
        *out = r;
    return kube_req_submit(r);
}

static const char *serialize(struct json_object *body, size_t *len)
{
    if (!body)
        return NULL;
    const char *s = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, len);
    return s;
}

int kube_get(struct kube_client *c, const struct kube_resource *res, const char *ns,
             const char *name, kube_cb cb, void *ud)
{
    int rc = check_object(res, ns, name);
    if (rc < 0)
        return rc;
    return submit(c, KUBE_VERB_GET, "GET", res, ns, name, NULL, NULL, 0, NULL, NULL, 0, cb, ud,
                  NULL);
}

int kube_list(struct kube_client *c, const struct kube_resource *res, const char *ns,
              const struct kube_list_opts *o, kube_cb cb, void *ud)
{
    static const struct kube_list_opts none;
    char limit[24];
    if (!o)
        o = &none;
    if (o->limit < 0)
        return -EINVAL;
    snprintf(limit, sizeof limit, "%ld", o->limit);
    struct kube_param q[] = {
        {"labelSelector", o->label_selector},
        {"fieldSelector", o->field_selector},
        {"resourceVersion", o->resource_version},
        {"resourceVersionMatch", o->resource_version_match},
        {"continue", o->continue_token},
        {"limit", o->limit > 0 ? limit : NULL},
    };
    return submit(c, KUBE_VERB_LIST, "GET", res, ns, NULL, NULL, q, sizeof q / sizeof q[0], NULL,
                  NULL, 0, cb, ud, NULL);
}

int kube_create(struct kube_client *c, const struct kube_resource *res, const char *ns,
                struct json_object *body, kube_cb cb, void *ud)
{
    size_t len = 0;
    const char *s = serialize(body, &len);
    if (!res || !s || !!res->namespaced != (ns != NULL))
        return -EINVAL;
    return submit(c, KUBE_VERB_CREATE, "POST", res, ns, NULL, NULL, NULL, 0, "application/json", s,
                  len, cb, ud, NULL);
}

int kube_create_subresource(struct kube_client *c, const struct kube_resource *res, const char *ns,
                            const char *name, const char *sub, struct json_object *body, kube_cb cb,
                            void *ud)
{
    size_t len = 0;
    const char *s = serialize(body, &len);
    int rc = check_object(res, ns, name);
    if (rc < 0 || !s || !sub || !*sub)
        return rc < 0 ? rc : -EINVAL;
    return submit(c, KUBE_VERB_CREATE, "POST", res, ns, name, sub, NULL, 0, "application/json", s,
                  len, cb, ud, NULL);
}

static int put(struct kube_client *c, const struct kube_resource *res, const char *ns,
               const char *name, const char *sub, struct json_object *body, kube_cb cb, void *ud)
{
    size_t len = 0;
    const char *s = serialize(body, &len);
    int rc = check_object(res, ns, name);
    if (rc < 0 || !s)
        return rc < 0 ? rc : -EINVAL;
    return submit(c, KUBE_VERB_UPDATE, "PUT", res, ns, name, sub, NULL, 0, "application/json", s,
                  len, cb, ud, NULL);
}

int kube_update(struct kube_client *c, const struct kube_resource *res, const char *ns,
                const char *name, struct json_object *body, kube_cb cb, void *ud)
{
    return put(c, res, ns, name, NULL, body, cb, ud);
}

int kube_update_status(struct kube_client *c, const struct kube_resource *res, const char *ns,
                       const char *name, struct json_object *body, kube_cb cb, void *ud)
{
    return put(c, res, ns, name, "status", body, cb, ud);
}

int kube_patch(struct kube_client *c, const struct kube_resource *res, const char *ns,
               const char *name, const char *body, size_t len, const struct kube_patch_opts *o,
               kube_cb cb, void *ud)
{
    static const struct kube_patch_opts merge;
    static const char *const types[] = {
        [KUBE_PATCH_MERGE] = "application/merge-patch+json",
        [KUBE_PATCH_JSON] = "application/json-patch+json",
        [KUBE_PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
        [KUBE_PATCH_APPLY] = "application/apply-patch+yaml",
    };
    if (!o)
        o = &merge;
    int rc = check_object(res, ns, name);
    if (rc < 0)
        return rc;
    if (!body || (unsigned)o->type > KUBE_PATCH_APPLY)
        return -EINVAL;
    int apply = o->type == KUBE_PATCH_APPLY;
    if (apply && (!o->field_manager || !*o->field_manager))
        return -EINVAL; /* the server requires it; fail early and clearly */
    struct kube_param q[] = {
        {"fieldManager", o->field_manager},
        {"force", apply && o->force ? "true" : NULL},
    };
    return submit(c, KUBE_VERB_PATCH, "PATCH", res, ns, name, o->status ? "status" : NULL, q,
                  sizeof q / sizeof q[0], types[o->type], body, len, cb, ud, NULL);
}

/* DeleteOptions as a body: the only place preconditions can go. */
static struct json_object *delete_options(const struct kube_delete_opts *o)
{
    if (!o ||
        (!o->propagation && !o->grace_period_set && !o->precondition_uid && !o->precondition_rv))
        return NULL;
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "kind", json_object_new_string("DeleteOptions"));
    json_object_object_add(d, "apiVersion", json_object_new_string("v1"));
    if (o->propagation)
        json_object_object_add(d, "propagationPolicy", json_object_new_string(o->propagation));
    if (o->grace_period_set)
        json_object_object_add(d, "gracePeriodSeconds",
                               json_object_new_int64(o->grace_period_seconds));
    if (o->precondition_uid || o->precondition_rv) {
        struct json_object *p = json_object_new_object();
        if (o->precondition_uid)
            json_object_object_add(p, "uid", json_object_new_string(o->precondition_uid));
        if (o->precondition_rv)
            json_object_object_add(p, "resourceVersion",
                                   json_object_new_string(o->precondition_rv));
        json_object_object_add(d, "preconditions", p);
    }
    return d;
}

int kube_delete(struct kube_client *c, const struct kube_resource *res, const char *ns,
                const char *name, const struct kube_delete_opts *o, kube_cb cb, void *ud)
{
    int rc = check_object(res, ns, name);
    if (rc < 0)
        return rc;
    if (o && o->grace_period_set && o->grace_period_seconds < 0)
        return -EINVAL;
    struct json_object *d = delete_options(o);
    rc = kube_delete_body(c, res, ns, name, d, cb, ud);
    json_object_put(d);
    return rc;
}

int kube_delete_body(struct kube_client *c, const struct kube_resource *res, const char *ns,
                     const char *name, struct json_object *body, kube_cb cb, void *ud)
{
    int rc = check_object(res, ns, name);
    if (rc < 0)
        return rc;
    size_t len = 0;
    const char *s = body ? serialize(body, &len) : NULL;
    if (body && !s)
        return -ENOMEM;
    return submit(c, KUBE_VERB_DELETE, "DELETE", res, ns, name, NULL, NULL, 0, "application/json",
                  s, len, cb, ud, NULL);
}

/* A streamed GET (watch, log): KUBE_VERB_WATCH is what request.c and
 * client.c key the streaming, the missing retries, the bypassed token
 * bucket and the unencoded transfer on. */
static int stream(struct kube_client *c, const struct kube_resource *res, const char *ns,
                  const char *name, const char *sub, const struct kube_param *q, size_t nq,
                  long timeout_ms, kube_chunk_cb chunk, kube_cb end, void *ud,
                  struct kube_stream **out)
{
    struct kube_req *r = NULL;
    int rc =
        submit(c, KUBE_VERB_WATCH, "GET", res, ns, name, sub, q, nq, NULL, NULL, 0, end, ud, &r);
    if (rc < 0)
        return rc;
    /* Safe after submit: the request only starts from the loop. */
    r->chunk = chunk;
    r->timeout_ms = timeout_ms;
    if (out)
        *out = (struct kube_stream *)(void *)r;
    return 0;
}

int kube_watch(struct kube_client *c, const struct kube_resource *res, const char *ns,
               const struct kube_watch_opts *o, kube_chunk_cb chunk, kube_cb end, void *ud,
               struct kube_stream **out)
{
    static const struct kube_watch_opts none;
    char tmo[24];
    if (out)
        *out = NULL;
    if (!o)
        o = &none;
    if (!chunk || o->timeout_seconds < 0)
        return -EINVAL;
    snprintf(tmo, sizeof tmo, "%ld", o->timeout_seconds);
    struct kube_param q[] = {
        {"watch", "1"},
        {"labelSelector", o->label_selector},
        {"fieldSelector", o->field_selector},
        {"resourceVersion", o->resource_version},
        {"resourceVersionMatch", o->resource_version_match},
        {"allowWatchBookmarks", o->allow_bookmarks ? "true" : NULL},
        {"sendInitialEvents", o->send_initial_events ? "true" : NULL},
        {"timeoutSeconds", o->timeout_seconds > 0 ? tmo : NULL},
    };
    /* No total timeout: the server ends the watch after timeoutSeconds; a
     * minute past that something is wrong with the stream. */
    long timeout_ms = o->timeout_seconds > 0 ? (o->timeout_seconds + 60) * 1000 : 0;
    return stream(c, res, ns, NULL, NULL, q, sizeof q / sizeof q[0], timeout_ms, chunk, end, ud,
                  out);
}

int kube_pod_log(struct kube_client *c, const char *ns, const char *pod,
                 const struct kube_log_opts *o, kube_chunk_cb chunk, kube_cb end, void *ud,
                 struct kube_stream **out)
{
    static const struct kube_log_opts none;
    char tail[24], limit[24];
    if (out)
        *out = NULL;
    if (!o)
        o = &none;
    int rc = check_object(&KUBE_PODS, ns, pod);
    if (rc < 0)
        return rc;
    /* "container=" would name no container; the server's answer to it is
     * not worth depending on. */
    if (!chunk || (o->container && !*o->container) || o->tail_lines < 0 || o->limit_bytes < 0)
        return -EINVAL;
    snprintf(tail, sizeof tail, "%ld", o->tail_lines);
    snprintf(limit, sizeof limit, "%ld", o->limit_bytes);
    struct kube_param q[] = {
        {"container", o->container},
        {"follow", o->follow ? "true" : NULL},
        {"tailLines", o->tail_lines > 0 ? tail : NULL},
        {"limitBytes", o->limit_bytes > 0 ? limit : NULL},
        {"timestamps", o->timestamps ? "true" : NULL},
        {"previous", o->previous ? "true" : NULL},
    };
    /* A watch in all but the URL: a stream the caller ends (a followed log
     * has no end of its own), so not retried, not behind the token bucket
     * (a person's open log must not starve their other requests) and not
     * gzipped (curl would hold bytes back until it can inflate them). */
    return stream(c, &KUBE_PODS, ns, pod, "log", q, sizeof q / sizeof q[0], 0, chunk, end, ud, out);
}

void kube_watch_cancel(struct kube_stream *s)
{
    if (!s)
        return;
    struct kube_req *r = &s->req;
    if (r->cancelled || r->state == KUBE_REQ_DONE)
        return;
    /* Deferred to the work timer: we may be inside curl's write callback,
     * where the handle cannot be removed. The write callback also checks
     * the flag, so no chunk is delivered after this returns. */
    r->cancelled = 1;
    kube_schedule(r->c, 0);
}
