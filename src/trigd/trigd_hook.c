/* The webhook endpoint: POST /hooks/<namespace>/<trigger>.
 *
 * A delivery is judged by src/trigger (signature first: nothing of an
 * unauthenticated request is parsed), then becomes one create of a
 * WorkflowRun whose name derives from the delivery, so repeating it is
 * harmless: AlreadyExists is the answer 200. The answer waits for the API
 * server (a deferred response); when it cannot be reached the sender gets
 * 503 with Retry-After and retries, so nothing is lost. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson/kjson.h"
#include "log/log.h"
#include "trigd/trigd-internal.h"

/* Said to a sender not yet authenticated: no Secret name, no reason (the
 * Trigger's Ready condition and the log have them). */
#define SECRET_UNAVAILABLE                                                                         \
    "the webhook secret cannot be read now (the Trigger's Ready condition says why); retry"

/* One answer for "none of that name" and "no webhook in it": an unknown
 * sender learns nothing of which Triggers exist. */
#define NO_SUCH_TRIGGER "no such Trigger with a webhook"

/* A delivery waiting for the API server (a Secret read, then the create).
 * Owns copies of everything it needs from the request. */
struct trigd_dlv {
    struct trigd *t;
    struct http_deferred *d; /* NULL once answered or gone */
    struct trigd_dlv *next, **pprev;
    char ns[64], name[64];
    char *content_type, *body;
    size_t body_len;
    struct trig_header *headers;
    size_t n_headers;
    char *strings; /* the headers' names and values */
    struct trig_verdict v;
};

static void dlv_unlink(struct trigd_dlv *x)
{
    if (x->pprev) {
        *x->pprev = x->next;
        if (x->next)
            x->next->pprev = x->pprev;
        x->pprev = NULL;
    }
}

static void dlv_free(struct trigd_dlv *x)
{
    if (x->pprev) {
        x->t->waiting--;
        x->t->waiting_bytes -= x->body_len;
    }
    dlv_unlink(x);
    trig_verdict_clear(&x->v);
    free(x->content_type);
    free(x->body);
    free(x->headers);
    free(x->strings);
    free(x);
}

static enum trigd_result result_of(int code)
{
    switch (code) {
    case 201:
        return TRIGD_CREATED;
    case 200:
        return TRIGD_DUPLICATE;
    case 202:
        return TRIGD_SKIPPED;
    case 401:
        return TRIGD_UNAUTHORIZED;
    case 404:
        return TRIGD_NOT_FOUND;
    case 413:
        return TRIGD_TOO_LARGE;
    case 415:
        return TRIGD_MEDIA_TYPE;
    case 422:
        return TRIGD_UNPROCESSABLE;
    case 429:
        return TRIGD_RATE_LIMITED;
    case 503:
        return TRIGD_UNAVAILABLE;
    default:
        return TRIGD_BAD_REQUEST;
    }
}

/* Fills resp with the JSON answer; counts it, and records it for the
 * Trigger's status when the request named one that exists. */
static int answer(struct trigd *t, struct http_response *resp, const char *ns, const char *name,
                  int code, const char *reason, const char *message, const char *run,
                  const char *skipped, const char *delivery)
{
    const struct trigd_rec *rec = ns && name ? trigd_rec_get(t, ns, name) : NULL;
    struct trigd_tr *tr = rec ? trigd_tr_get(t, ns, name, rec->uid) : NULL;
    enum trigd_result r = result_of(code);
    trigd_count(t, tr, r);
    if (tr && code != 404) {
        tr->delta[r]++;
        snprintf(tr->last_id, sizeof tr->last_id, "%s", delivery ? delivery : "");
        snprintf(tr->last_result, sizeof tr->last_result, "%s", reason);
        tr->news++;
        snprintf(tr->last_run, sizeof tr->last_run, "%s", run ? run : "");
        tr->last_code = code;
        tr->last_ms = trigd_wall_s() * 1000;
        if (code == 201)
            tr->fired_ms = tr->last_ms;
        trigd_status_dirty(t, tr);
    }
    char *body = trig_answer(code, reason, message, run ? ns : NULL, run, skipped);
    resp->status = code;
    if (code == 503 || code == 429)
        (void)http_response_set_header(resp, "Retry-After", code == 503 ? TRIGD_RETRY_AFTER : "1");
    int rc = http_response_set_type(resp, "application/json");
    if (rc == 0 && body)
        rc = http_response_append(resp, body, strlen(body));
    free(body);
    return body ? rc : -ENOMEM;
}

/* Completes a deferred delivery and frees it. */
static void finish(struct trigd_dlv *x, int code, const char *reason, const char *message,
                   const char *run, const char *skipped)
{
    if (x->d) {
        struct http_response *resp = http_deferred_response(x->d);
        (void)answer(x->t, resp, x->ns, x->name, code, reason, message, run, skipped,
                     x->v.delivery[0] ? x->v.delivery : NULL);
        (void)http_deferred_complete(x->d);
        x->d = NULL;
    }
    dlv_free(x);
}

static void on_gone(void *ud, struct http_deferred *d)
{
    (void)d;
    struct trigd_dlv *x = ud;
    x->d = NULL; /* the API call in flight frees it when it answers */
}

/* "/hooks/<ns>/<name>" into ns and name; 0 or -EINVAL. */
static int split_path(const char *path, char ns[64], char name[64])
{
    const char *p = path + strlen("/hooks/"), *slash = strchr(p, '/');
    if (!slash || slash == p || slash - p > 63 || !slash[1] || strchr(slash + 1, '/') ||
        strlen(slash + 1) > 63)
        return -EINVAL;
    memcpy(ns, p, (size_t)(slash - p));
    ns[slash - p] = '\0';
    snprintf(name, 64, "%s", slash + 1);
    for (const char *c = ns; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
            return -EINVAL;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
            return -EINVAL;
    return 0;
}

/* --- the create -------------------------------------------------------------- */

static void on_created(void *ud, const struct kube_result *r)
{
    struct trigd_dlv *x = ud;
    struct trigd *t = x->t;
    if (t->closing) {
        finish(x, 503, "ShuttingDown", "the operator is shutting down; retry", NULL, NULL);
    } else if (r->err == 0 && r->http_status == 201) {
        log_kv(LOGL_INFO, "webhook created a run", "namespace", x->ns, "trigger", x->name, "run",
               x->v.run_name, "delivery", x->v.delivery, NULL);
        finish(x, 201, "Created", "run created", x->v.run_name, NULL);
    } else if (r->http_status == 409) {
        finish(x, 200, "Duplicate", "this delivery already started its run", x->v.run_name, NULL);
    } else if (r->http_status == 400 || r->http_status == 422) {
        char msg[600];
        snprintf(msg, sizeof msg, "the API server refused the run: %s", r->status.message);
        finish(x, 422, "UnprocessableEntity", msg, NULL, NULL);
    } else {
        /* Unreachable, overloaded, forbidden: maybe transient, and the
         * delivery's run name makes a retry safe. */
        char msg[600];
        if (r->err)
            snprintf(msg, sizeof msg, "cannot create the run now (%s): retry", strerror(-r->err));
        else
            snprintf(msg, sizeof msg, "cannot create the run now (HTTP %ld %.200s): retry",
                     r->http_status, r->status.reason);
        log_kv(LOGL_WARN, "webhook: run not created", "namespace", x->ns, "trigger", x->name, "run",
               x->v.run_name, "error", r->err ? strerror(-r->err) : r->status.message, NULL);
        finish(x, 503, "Unavailable", msg, NULL, NULL);
    }
    trigd_api_end(t);
}

/* Judges x with its Trigger's record and secret into x->v, and takes a
 * token from the Trigger's bucket when it may go ahead: 0 when the run is
 * to be created, else the status to answer (x->v says why; 429 over the
 * rate). Only authenticated deliveries spend tokens, so a flood of forged
 * requests cannot starve the real sender. */
static int judge(struct trigd_dlv *x, const struct trigd_rec *rec, const char *secret,
                 size_t secret_len)
{
    struct trigd *t = x->t;
    struct trig_request req = {x->headers, x->n_headers, x->content_type, x->body, x->body_len};
    struct json_object *wf =
        t->opt.workflow ? t->opt.workflow(t->opt.workflow_ud, x->ns, rec->spec->workflow) : NULL;
    trig_verdict_clear(&x->v);
    trig_hook_eval(rec->spec, secret, secret_len, &req, wf, x->name, rec->uid, trigd_wall_s(),
                   &x->v);
    if (x->v.code != 0)
        return x->v.code;
    struct trigd_tr *tr = trigd_tr_get(t, x->ns, x->name, rec->uid);
    if (tr && limit_bucket_take(&tr->bucket, uv_now(t->loop)) > 0) {
        x->v.code = 429;
        snprintf(x->v.reason, sizeof x->v.reason, "TooManyRequests");
        snprintf(x->v.message, sizeof x->v.message, "over this Trigger's delivery rate; retry");
        return 429;
    }
    return 0;
}

/* Sends the create for a delivery judged 0; x->d must be set. */
static void create(struct trigd_dlv *x, const struct trigd_rec *rec)
{
    struct trigd *t = x->t;
    struct json_object *run =
        trig_run_new(rec->spec, x->name, x->ns, x->v.run_name, x->v.delivery, x->v.params, NULL);
    trigd_api_begin(t);
    int rc = run ? kube_create(t->kc, &KUBE_WORKFLOWRUNS, x->ns, run, on_created, x) : -ENOMEM;
    json_object_put(run);
    if (rc < 0) {
        trigd_api_end(t);
        finish(x, 503, "Unavailable", "cannot send the create; retry", NULL, NULL);
    }
}

static void on_secret(void *ud)
{
    struct trigd_dlv *x = ud;
    struct trigd *t = x->t;
    const char *val = NULL, *why = NULL;
    size_t len = 0;
    const struct trigd_rec *rec = trigd_rec_get(t, x->ns, x->name);
    if (t->closing || !rec || !rec->spec)
        finish(x, t->closing ? 503 : 404, t->closing ? "ShuttingDown" : "NotFound",
               t->closing ? "the operator is shutting down; retry" : NO_SUCH_TRIGGER, NULL, NULL);
    else if (!x->d)
        dlv_free(x); /* the sender left meanwhile */
    else if (!trigd_secret_cached(t, x->ns, rec->spec->hook.secret_name, rec->spec->hook.secret_key,
                                  &val, &len, &why) ||
             !val)
        finish(x, 503, "SecretUnavailable", SECRET_UNAVAILABLE, NULL, NULL);
    else if (judge(x, rec, val, len) != 0)
        finish(x, x->v.code, x->v.reason, x->v.message, NULL,
               x->v.code == 202 ? x->v.skipped : NULL);
    else
        create(x, rec);
}

/* --- the handler ---------------------------------------------------------- */

/* Copies what judging needs out of req (which dies when the handler returns). */
static struct trigd_dlv *dlv_new(struct trigd *t, const struct http_request *req, const char *ns,
                                 const char *name)
{
    if (t->waiting >= TRIGD_WAITING_MAX ||
        t->waiting_bytes + req->body_len > TRIGD_WAITING_MAX_BYTES)
        return NULL;
    struct trigd_dlv *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->t = t;
    snprintf(x->ns, sizeof x->ns, "%s", ns);
    snprintf(x->name, sizeof x->name, "%s", name);
    size_t need = 0;
    for (size_t i = 0; i < req->n_headers; i++)
        need += strlen(req->headers[i].name) + strlen(req->headers[i].value) + 2;
    x->strings = malloc(need ? need : 1);
    x->headers = calloc(req->n_headers ? req->n_headers : 1, sizeof *x->headers);
    x->content_type = strdup(req->content_type);
    x->body = malloc(req->body_len + 1);
    if (!x->strings || !x->headers || !x->content_type || !x->body) {
        dlv_free(x);
        return NULL;
    }
    char *p = x->strings;
    for (size_t i = 0; i < req->n_headers; i++) {
        size_t a = strlen(req->headers[i].name) + 1, b = strlen(req->headers[i].value) + 1;
        memcpy(p, req->headers[i].name, a);
        x->headers[i].name = p;
        memcpy(p + a, req->headers[i].value, b);
        x->headers[i].value = p + a;
        p += a + b;
    }
    x->n_headers = req->n_headers;
    memcpy(x->body, req->body, req->body_len);
    x->body[req->body_len] = '\0';
    x->body_len = req->body_len;
    x->next = t->dlvs;
    if (t->dlvs)
        t->dlvs->pprev = &x->next;
    t->dlvs = x;
    x->pprev = &t->dlvs;
    t->waiting++;
    t->waiting_bytes += x->body_len;
    return x;
}

static int on_hook(void *ud, const struct http_request *req, struct http_response *resp)
{
    struct trigd *t = ud;
    char ns[64], name[64];
    if (split_path(req->path, ns, name) < 0)
        return answer(t, resp, NULL, NULL, 404, "NotFound",
                      "the path must be /hooks/<namespace>/<trigger>", NULL, NULL, NULL);
    if (t->ns && strcmp(t->ns, ns) != 0)
        return answer(t, resp, NULL, NULL, 404, "NotFound", NO_SUCH_TRIGGER, NULL, NULL, NULL);
    if (t->closing || !inf_synced(t->inf))
        return answer(t, resp, NULL, NULL, 503, "NotReady",
                      "the operator is starting or stopping; retry", NULL, NULL, NULL);
    const struct trigd_rec *rec = trigd_rec_get(t, ns, name);
    if (!rec)
        return answer(t, resp, NULL, NULL, 404, "NotFound", NO_SUCH_TRIGGER, NULL, NULL, NULL);
    /* The sender is not authenticated yet: what is wrong is told in the
     * Trigger's Ready condition, to those who may read it, not here. */
    if (!rec->spec)
        return answer(t, resp, ns, name, 503, "TriggerInvalid",
                      "the Trigger is not valid (its Ready condition says why); retry once fixed",
                      NULL, NULL, NULL);
    if (!rec->spec->has_webhook)
        return answer(t, resp, ns, name, 404, "NotFound", NO_SUCH_TRIGGER, NULL, NULL, NULL);
    struct trigd_dlv *x = dlv_new(t, req, ns, name);
    if (!x)
        return answer(t, resp, ns, name, 503, "Busy",
                      "too many deliveries are waiting for the API server; retry", NULL, NULL,
                      NULL);
    const char *val = NULL, *why = NULL;
    size_t len = 0;
    if (trigd_secret_cached(t, ns, rec->spec->hook.secret_name, rec->spec->hook.secret_key, &val,
                            &len, &why)) {
        if (!val) {
            dlv_free(x);
            return answer(t, resp, ns, name, 503, "SecretUnavailable", SECRET_UNAVAILABLE, NULL,
                          NULL, NULL);
        }
        /* Judged now; only a create makes the answer wait. */
        int code = judge(x, rec, val, len);
        if (code != 0) {
            int rc =
                answer(t, resp, ns, name, code, x->v.reason, x->v.message, NULL,
                       code == 202 ? x->v.skipped : NULL, x->v.delivery[0] ? x->v.delivery : NULL);
            dlv_free(x);
            return rc;
        }
        x->d = http_response_defer(resp, on_gone, x);
        if (!x->d) {
            dlv_free(x);
            return -ENOMEM;
        }
        create(x, rec);
        return 0;
    }
    x->d = http_response_defer(resp, on_gone, x);
    if (!x->d) {
        dlv_free(x);
        return -ENOMEM;
    }
    if (trigd_secret_read(t, ns, rec->spec->hook.secret_name, rec->spec->hook.secret_key, on_secret,
                          x) < 0)
        finish(x, 503, "SecretUnavailable", "cannot read the webhook secret now; retry", NULL,
               NULL);
    return 0;
}

const struct http_route trigd_routes[] = {{"/hooks/", HTTP_POST, on_hook, HTTP_ROUTE_PREFIX}};
const size_t trigd_n_routes = 1;

void trigd_hook_close_all(struct trigd *t)
{
    /* Answer what waits; the API calls in flight find d NULL and free. */
    for (struct trigd_dlv *x = t->dlvs; x; x = x->next)
        if (x->d) {
            struct http_response *resp = http_deferred_response(x->d);
            (void)answer(t, resp, x->ns, x->name, 503, "ShuttingDown",
                         "the operator is shutting down; retry", NULL, NULL, NULL);
            (void)http_deferred_complete(x->d);
            x->d = NULL;
        }
}
