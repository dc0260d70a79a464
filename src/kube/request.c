/* One request: its attempts on the multi handle, the retry policy and the
 * single callback with the outcome. */
#include "kjson/kjson.h"
#include "kube/kube-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "log/log.h"

/* A list of 100k objects is well under this; more means something is off. */
#define MAX_BODY (512u * 1024 * 1024)
/* A refused watch carries a Status, nothing big. */
#define MAX_WATCH_ERROR_BODY (1024u * 1024)

#ifndef CURL_WRITEFUNC_ERROR
#define CURL_WRITEFUNC_ERROR 0 /* before 7.87: any short count aborts */
#endif

struct kube_req *kube_req_new(struct kube_client *c, enum kube_verb verb, size_t size)
{
    struct kube_req *r = calloc(1, size);
    if (!r)
        return NULL;
    r->c = c;
    r->verb = verb;
    r->method = "GET";
    r->retry_after_s = -1;
    r->timeout_ms = c->timeout_ms;
    /* Each request gets its own jitter sequence, drawn from the client's. */
    uint64_t seed = (uint64_t)(limit_rand01(&c->rng) * 9007199254740992.0);
    limit_backoff_init(&r->backoff, (uint64_t)c->backoff_base_ms, (uint64_t)c->backoff_cap_ms, 0.5,
                       seed);
    return r;
}

/* Frees a request's header list, the Authorization line wiped first: a
 * person's token (the web UI's clients) is not left in freed memory. */
static void headers_free(struct curl_slist *h)
{
    for (struct curl_slist *p = h; p; p = p->next)
        explicit_bzero(p->data, strlen(p->data));
    curl_slist_free_all(h);
}

void kube_req_free(struct kube_req *r)
{
    if (!r)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    headers_free(r->headers);
    kube_buf_free(&r->resp);
    free(r->url);
    free(r->body);
    free(r);
}

int kube_req_submit(struct kube_req *r)
{
    struct kube_client *c = r->c;
    if (c->closing) {
        kube_req_free(r);
        return -ESHUTDOWN;
    }
    r->state = KUBE_REQ_QUEUED;
    kube_list_push(kube_req_fifo(r), &r->link);
    c->stats.in_flight++;
    c->stats.queued++;
    /* Never start from inside the caller's call: it may be a curl callback,
     * and the callback contract says "later, from the loop". */
    kube_schedule(c, 0);
    return 0;
}

/* An active request is off the wire (answered, failed or cancelled): a
 * DELETE makes room in the lane for the next one. */
static void left_wire(struct kube_req *r)
{
    struct kube_client *c = r->c;
    if (r->verb != KUBE_VERB_DELETE || !c->lane_active)
        return;
    if (c->lane_active-- == KUBE_LANE_IN_FLIGHT && !kube_list_empty(&c->lane))
        kube_schedule(c, 0);
}

static void finish(struct kube_req *r, const struct kube_result *res)
{
    r->state = KUBE_REQ_DONE;
    r->c->stats.in_flight--;
    r->cb(r->ud, res);
    kube_req_free(r);
}

void kube_req_fail(struct kube_req *r, int err, const char *why)
{
    struct kube_client *c = r->c;
    switch (r->state) {
    case KUBE_REQ_QUEUED:
    case KUBE_REQ_DELAYED:
        kube_list_unlink(&r->link);
        c->stats.queued--;
        break;
    case KUBE_REQ_ACTIVE:
        curl_multi_remove_handle(c->multi, r->easy);
        kube_list_unlink(&r->link);
        left_wire(r);
        break;
    default:
        break;
    }
    struct kube_result res = {.err = err, .attempts = r->attempts};
    snprintf(res.status.message, sizeof res.status.message, "%s", why);
    finish(r, &res);
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    struct kube_req *r = ud;
    size_t len = size * n;
    if (r->verb == KUBE_VERB_WATCH) {
        if (r->cancelled)
            return CURL_WRITEFUNC_ERROR;
        if (!r->status_checked) {
            long code = 0;
            curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
            r->streaming = code >= 200 && code < 300;
            r->status_checked = 1;
        }
        if (r->streaming) {
            int rc = r->chunk(r->ud, p, len);
            if (rc) {
                r->abort_err = rc < 0 ? rc : -ECANCELED;
                return CURL_WRITEFUNC_ERROR;
            }
            return r->cancelled ? CURL_WRITEFUNC_ERROR : len;
        }
    }
    size_t max = r->verb == KUBE_VERB_WATCH ? MAX_WATCH_ERROR_BODY : MAX_BODY;
    if (r->resp.len + len > max) {
        r->abort_err = -EMSGSIZE;
        return CURL_WRITEFUNC_ERROR;
    }
    if (kube_buf_add(&r->resp, p, len) < 0) {
        r->abort_err = -ENOMEM;
        return CURL_WRITEFUNC_ERROR;
    }
    return len;
}

static int header_is(const char *h, size_t len, const char *name, const char **val, size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || h[n] != ':' || strncasecmp(h, name, n) != 0)
        return 0;
    *val = h + n + 1;
    *vlen = len - n - 1;
    while (*vlen > 0 && (**val == ' ' || **val == '\t')) {
        (*val)++;
        (*vlen)--;
    }
    while (*vlen > 0 && ((*val)[*vlen - 1] == '\r' || (*val)[*vlen - 1] == '\n'))
        (*vlen)--;
    return 1;
}

static size_t on_header(char *h, size_t size, size_t n, void *ud)
{
    struct kube_req *r = ud;
    size_t len = size * n;
    const char *v;
    size_t vlen;
    if (len >= 5 && memcmp(h, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue): forget the last headers. */
        r->retry_after_s = -1;
        r->flow_schema[0] = '\0';
    } else if (header_is(h, len, "Retry-After", &v, &vlen)) {
        r->retry_after_s = kube_parse_retry_after(v, vlen);
    } else if (header_is(h, len, "X-Kubernetes-PF-FlowSchema-UID", &v, &vlen)) {
        snprintf(r->flow_schema, sizeof r->flow_schema, "%.*s", (int)vlen, v);
    } else if (header_is(h, len, "Warning", &v, &vlen) && log_enabled(LOGL_WARN)) {
        /* e.g. a Job delete without propagationPolicy orphaning pods. */
        char text[512];
        snprintf(text, sizeof text, "%.*s", (int)vlen, v);
        log_kv(LOGL_WARN, "API server warning", "warning", text, "url", r->url, NULL);
    }
    return len;
}

/* curl replays a request by itself when a reused connection dies before
 * any byte of the answer came back, even a POST, though the server may
 * have acted. Fine for reads; a write's outcome is then unknown, so stop
 * the replay and let the caller decide. */
static int on_prereq(void *ud, char *ip, char *local_ip, int port, int local_port)
{
    struct kube_req *r = ud;
    if (++r->sends > 1 && r->verb != KUBE_VERB_GET && r->verb != KUBE_VERB_LIST &&
        r->verb != KUBE_VERB_WATCH) {
        r->abort_err = -ECONNRESET;
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

static int setup_easy(struct kube_req *r)
{
    struct kube_client *c = r->c;
    r->easy = curl_easy_duphandle(c->tmpl);
    if (!r->easy)
        return -ENOMEM;
    CURL *e = r->easy;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) KUBE_SETOPT(rc, e, opt, val)
    SET(CURLOPT_PRIVATE, r);
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_ERRORBUFFER, r->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, r);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, r);
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
    SET(CURLOPT_PREREQDATA, r);
    SET(CURLOPT_TIMEOUT_MS, r->timeout_ms);
    if (r->verb != KUBE_VERB_WATCH)
        SET(CURLOPT_ACCEPT_ENCODING, ""); /* large lists come gzipped */
    if (strcmp(r->method, "POST") == 0)
        SET(CURLOPT_POST, 1L);
    else if (strcmp(r->method, "GET") != 0)
        SET(CURLOPT_CUSTOMREQUEST, r->method);
    if (r->body) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        SET(CURLOPT_POSTFIELDS, r->body); /* not copied: r->body outlives the handle */
    }
#undef SET
    return rc == CURLE_OK ? 0 : -EINVAL;
}

/* Headers are rebuilt per attempt: the token may have changed. */
static int build_headers(struct kube_req *r)
{
    struct kube_client *c = r->c;
    struct curl_slist *h = NULL;
    char ct[96];
    int ok = (h = curl_slist_append(h, "Accept: application/json")) != NULL;
    /* No "Expect: 100-continue" round trip on HTTP/1.1 bodies. */
    ok = ok && curl_slist_append(h, "Expect:") != NULL;
    if (ok && r->content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", r->content_type);
        ok = curl_slist_append(h, ct) != NULL;
    }
    if (ok && c->tok.token) {
        struct kube_buf auth = {0};
        ok = kube_buf_adds(&auth, "Authorization: Bearer ") == 0 &&
             kube_buf_adds(&auth, c->tok.token) == 0 && curl_slist_append(h, auth.p) != NULL;
        if (auth.p)
            memset(auth.p, 0, auth.len); /* do not leave the token in freed memory */
        kube_buf_free(&auth);
    }
    if (!ok) {
        headers_free(h);
        return -ENOMEM;
    }
    headers_free(r->headers);
    r->headers = h;
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, h);
    return 0;
}

void kube_req_start(struct kube_req *r)
{
    struct kube_client *c = r->c;
    kube_token_refresh(c, 0);
    if (!r->easy && setup_easy(r) < 0) {
        kube_req_fail(r, -ENOMEM, "cannot set up the transfer");
        return;
    }
    if (build_headers(r) < 0) {
        kube_req_fail(r, -ENOMEM, "out of memory");
        return;
    }
    r->resp.len = 0;
    r->retry_after_s = -1;
    r->streaming = r->status_checked = 0;
    r->abort_err = 0;
    r->sends = 0;
    r->errbuf[0] = '\0';
    r->attempts++;
    c->stats.requests[r->verb]++;
    if (r->attempts > 1)
        c->stats.retries++;
    if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
        kube_req_fail(r, -ENOMEM, "cannot add the transfer");
        return;
    }
    r->state = KUBE_REQ_ACTIVE;
    kube_list_push(&c->active, &r->link);
    if (r->verb == KUBE_VERB_DELETE && ++c->lane_active > c->stats.lane_peak)
        c->stats.lane_peak = c->lane_active;
}

/* How deep a first attempt reads. json-c callocs its per-level stack up
 * front (32 bytes a level): at KJ_MAX_DEPTH that is 313 KiB, zeroed and
 * taken from the heap for every response and every run a reconcile reads,
 * which cost about an eighth of the operator's CPU per run (memset and
 * malloc_consolidate under perf). 31 levels stay under 1 KiB, glibc's
 * small-request size, which does not consolidate the heap. The objects we
 * read nest about 15 levels (a pod's managedFields the deepest); only a
 * deeper one pays for a second parse. */
#define KUBE_SHALLOW_DEPTH 31

static struct json_object *parse_at(const char *p, size_t len, int depth, int *too_deep)
{
    struct json_tokener *tok = json_tokener_new_ex(depth);
    if (!tok)
        return NULL;
    struct json_object *o = json_tokener_parse_ex(tok, p, (int)len);
    *too_deep = json_tokener_get_error(tok) == json_tokener_error_depth;
    if (o && json_tokener_get_error(tok) == json_tokener_success) {
        /* Refuse trailing garbage, allow trailing whitespace. */
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
            if (p[i] != ' ' && p[i] != '\n' && p[i] != '\r' && p[i] != '\t') {
                json_object_put(o);
                o = NULL;
                break;
            }
        }
    } else if (o) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

struct json_object *kube_json_parse(const char *p, size_t len)
{
    if (!p || len == 0)
        return NULL;
    int too_deep = 0;
    struct json_object *o = parse_at(p, len, KUBE_SHALLOW_DEPTH, &too_deep);
    return o || !too_deep ? o : parse_at(p, len, KJ_MAX_DEPTH, &too_deep);
}

static void count_outcome(struct kube_client *c, enum kube_verb verb, long http)
{
    if (http >= 100 && http < KUBE_STATS_MAX_CODE) {
        c->stats.by_class[verb][http / 100]++;
        c->stats.by_code[http]++;
    } else {
        c->stats.by_class[verb][0]++;
    }
}

static void retry_later(struct kube_req *r, long http)
{
    struct kube_client *c = r->c;
    uint64_t delay;
    if ((http == 429 || http == 503) && r->retry_after_s >= 0)
        delay = (uint64_t)r->retry_after_s * 1000;
    else
        delay = limit_backoff_next(&r->backoff);
    if (delay > (uint64_t)c->backoff_cap_ms)
        delay = (uint64_t)c->backoff_cap_ms;
    if (log_enabled(LOGL_DEBUG) || http == 429) {
        char code[16], ms[24];
        snprintf(code, sizeof code, "%ld", http);
        snprintf(ms, sizeof ms, "%llu", (unsigned long long)delay);
        log_kv(http == 429 ? LOGL_INFO : LOGL_DEBUG, "retrying API request", "verb",
               kube_verb_name(r->verb), "url", r->url, "code", code, "error",
               r->errbuf[0] ? r->errbuf : NULL, "delay_ms", ms, "flow_schema",
               r->flow_schema[0] ? r->flow_schema : NULL, NULL);
    }
    r->state = KUBE_REQ_DELAYED;
    r->due_ms = uv_now(c->loop) + delay;
    kube_list_push(&c->delayed, &r->link);
    c->stats.queued++;
    kube_schedule(c, delay);
}

static void requeue_now(struct kube_req *r)
{
    r->state = KUBE_REQ_QUEUED;
    kube_list_push(kube_req_fifo(r), &r->link);
    r->c->stats.queued++;
    kube_schedule(r->c, 0);
}

void kube_req_done(struct kube_req *r, CURLcode code)
{
    struct kube_client *c = r->c;
    long http = 0, ver = 0, conns = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &http);
    curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &ver);
    curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &conns);
    c->stats.connections += (uint64_t)conns;
    /* An error status whose body was cut (Go's HTTP/2 server answers 401 to
     * a POST and resets the stream before curl sent the body, which curl
     * 7.88 reports as a partial transfer): the verdict is in the status
     * line, so take it; the Status is synthesized if the body is gone. */
    if (http >= 400 && !r->abort_err &&
        (code == CURLE_PARTIAL_FILE || code == CURLE_HTTP2_STREAM || code == CURLE_HTTP2 ||
         code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR))
        code = CURLE_OK;
    count_outcome(c, r->verb, code == CURLE_OK ? http : 0);
    r->state = KUBE_REQ_NEW;
    left_wire(r);

    struct kube_result res = {.attempts = r->attempts};
    res.http_version = ver == CURL_HTTP_VERSION_2_0   ? 20
                       : ver == CURL_HTTP_VERSION_1_1 ? 11
                       : ver == CURL_HTTP_VERSION_1_0 ? 10
                                                      : 0;
    if (r->cancelled) {
        kube_req_fail(r, -ECANCELED, "watch cancelled");
        return;
    }
    if (r->abort_err) {
        res.err = r->abort_err;
        const char *why = r->abort_err == -EMSGSIZE     ? "response body too large"
                          : r->abort_err == -ECONNRESET ? "connection lost before the answer; "
                                                          "the server may have acted"
                          : r->abort_err == -ENOMEM     ? "out of memory"
                                                        : "aborted by the caller";
        snprintf(res.status.message, sizeof res.status.message, "%s", why);
        finish(r, &res);
        return;
    }
    /* A rotated token: re-read the file and try once more. The server did
     * not act on an unauthenticated request, so this is safe for writes. */
    if (code == CURLE_OK && http == 401 && c->tok.token_file && !r->retried_401 && !c->closing) {
        r->retried_401 = 1;
        kube_token_refresh(c, 1);
        requeue_now(r);
        return;
    }

    struct json_object *json = code == CURLE_OK ? kube_json_parse(r->resp.p, r->resp.len) : NULL;
    if (code == CURLE_OK && (http < 200 || http >= 300))
        kube_status_decode(http, json, r->resp.p, r->resp.len, &res.status);

    if (!c->closing && r->attempts < c->max_tries &&
        kube_should_retry(r->verb, code, http, code == CURLE_OK ? &res.status : NULL)) {
        json_object_put(json);
        retry_later(r, code == CURLE_OK ? http : 0);
        return;
    }

    if (code != CURLE_OK) {
        res.err = kube_curl_errno(code);
        snprintf(res.status.message, sizeof res.status.message, "%s",
                 r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
    } else {
        res.http_status = http;
        res.body = json;
        if (http >= 200 && http < 300 && r->verb != KUBE_VERB_WATCH && r->resp.len > 0 && !json) {
            res.err = -EPROTO;
            snprintf(res.status.message, sizeof res.status.message,
                     "HTTP %ld with a body that is not JSON", http);
        }
    }
    finish(r, &res);
    json_object_put(json);
}
