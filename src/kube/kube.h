/* kube - a thin asynchronous Kubernetes API client on libcurl + libuv.
 *
 * One client per process: one CURLM driven by the caller's uv_loop_t (a
 * uv_poll_t per socket, one uv_timer_t), so every request, watch included,
 * shares the connection pool and, when the server speaks HTTP/2 (the API
 * server does over TLS), one multiplexed connection.
 *
 *   struct kube_client *c;
 *   if (kube_client_new(loop, cfg, NULL, &c) < 0) ...
 *   kube_get(c, &KUBE_JOBS, "ns", "build-1", on_job, run);
 *   ...
 *   kube_client_close(c, on_closed, app);   // then keep running the loop
 *
 * Threading: everything runs on the loop's thread; no function here may be
 * called from another thread.
 *
 * Returns: every int function returns 0 or a negative errno (libuv style).
 * A verb that returns 0 calls its callback exactly once, later, from the
 * loop: never from inside the verb call itself, and also when the request is
 * cancelled by kube_client_close (err -ECANCELED). A verb that returns < 0
 * never calls it. -EINVAL: bad arguments; -ESHUTDOWN: the client is closing;
 * -ENOMEM.
 *
 * Ownership: every argument (strings, option structs, JSON bodies) is only
 * borrowed for the duration of the call; the client copies or serializes
 * what it needs before returning. Everything the client hands to a callback
 * (struct kube_result and what it points to) is borrowed for the duration of
 * that callback only: json_object_get() the body to keep it.
 *
 * Retries (done here, invisible to the caller except for r->attempts):
 *   - GET and LIST: connection errors, timeouts, 429 and 5xx, with jittered
 *     exponential backoff, up to opt->max_tries attempts in all.
 *   - POST/PUT/PATCH/DELETE: only when the server certainly did not act: 429,
 *     or the connection could not be made at all. A write whose outcome is
 *     unknown (5xx, timeout, connection lost before the answer) is surfaced;
 *     the caller decides (re-read, then repeat an idempotent write). libcurl's
 *     own silent replay of a request on a reused connection that died is
 *     stopped for writes: they get -ECONNRESET ("may have acted").
 *   - 429 and 503 wait for Retry-After (seconds, capped) when it is sent.
 *   - Any verb, watch included: a 401 with a token file re-reads the file and
 *     retries once.
 * The client-side token bucket (qps/burst) gates every non-watch attempt;
 * requests wait in a FIFO for a token, and watches never wait. DELETEs have
 * a lane of their own, a FIFO and a bucket released before the other one:
 * a teardown (a failed step's siblings, a cancel) never waits behind a
 * burst of creates, status writes or Events, and has a budget the others
 * cannot spend.
 */
#ifndef RB_KUBE_H
#define RB_KUBE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "kstatus/kstatus.h"

struct json_object;
struct kcfg;
struct kube_client;
struct kube_stream;

/* A resource collection. Strings are static; callers may define their own. */
struct kube_resource {
    const char *group;    /* "" for the core group */
    const char *version;  /* "v1", "v1alpha1", ... */
    const char *resource; /* lower-case plural: "jobs" */
    int namespaced;
};

extern const struct kube_resource KUBE_NAMESPACES;      /* v1 namespaces (cluster) */
extern const struct kube_resource KUBE_CONFIGMAPS;      /* v1 configmaps */
extern const struct kube_resource KUBE_PODS;            /* v1 pods */
extern const struct kube_resource KUBE_SERVICEACCOUNTS; /* v1 serviceaccounts */
extern const struct kube_resource KUBE_JOBS;            /* batch/v1 jobs */
extern const struct kube_resource KUBE_EVENTS;          /* events.k8s.io/v1 events */
extern const struct kube_resource KUBE_LEASES;          /* coordination.k8s.io/v1 leases */
extern const struct kube_resource KUBE_CRDS;            /* apiextensions.k8s.io/v1 (cluster) */
extern const struct kube_resource KUBE_WORKFLOWS;       /* runbook.dev/v1alpha1 workflows */
extern const struct kube_resource KUBE_WORKFLOWRUNS;    /* runbook.dev/v1alpha1 workflowruns */
extern const struct kube_resource KUBE_TRIGGERS;        /* runbook.dev/v1alpha1 triggers */
extern const struct kube_resource KUBE_SECRETS;         /* v1 secrets */

/* Every field's zero value means "the default"; NULL options = all defaults. */
struct kube_options {
    double qps;                /* token bucket rate; 0: 20; < 0: no client-side limit */
    int burst;                 /* bucket size; 0: 30 */
    long timeout_ms;           /* total time per non-watch attempt; 0: 30000 */
    long connect_timeout_ms;   /* 0: 10000 */
    int max_tries;             /* attempts per retryable request, first included; 0: 5 */
    long backoff_base_ms;      /* first retry delay; 0: 250 */
    long backoff_cap_ms;       /* longest retry delay, Retry-After included; 0: 30000 */
    const char *user_agent;    /* NULL: "runbook/<version>" (copied) */
    int http1_only;            /* do not offer HTTP/2 (tests, debugging proxies) */
    long max_host_connections; /* 0: 32. Over HTTP/1.1 every open watch holds
                                * one, so keep it above the number of watches */
    /* The DELETE lane's rate and burst. 0 (the default): no rate, only
     * KUBE_LANE_IN_FLIGHT at once, so the lane goes at the API server's
     * pace on one connection. A teardown only deletes what creates paced
     * by the main bucket made. > 0: a token bucket as well. */
    double delete_qps;
    int delete_burst; /* 0: max(burst, 600) when delete_qps > 0 */
};

/* Builds the client; cfg is only read here (copied: the caller may free it
 * right after). No network I/O (it only reads the token file): a bad server
 * or bad credentials show up as errors of the first requests. Files named by
 * cfg (CA, cert, key) are read by libcurl at connect time; the token file is
 * re-read at least every 60 s and after a 401. -EINVAL: no server, or a
 * token with spaces or control characters. */
int kube_client_new(uv_loop_t *loop, const struct kcfg *cfg, const struct kube_options *opt,
                    struct kube_client **out);

/* Starts closing: every request and watch not finished gets its callback
 * with -ECANCELED (from the loop, after this returns), then the uv handles
 * are closed, the client is freed and closed(ud) is called (closed may be
 * NULL). Calls made after this one return -ESHUTDOWN. The caller must keep
 * running the loop until closed fires. Safe from inside any callback. */
void kube_client_close(struct kube_client *c, void (*closed)(void *ud), void *ud);

/* The outcome of one request, passed to its callback (borrowed). */
struct kube_result {
    /* 0 when an HTTP response arrived (see http_status), or a negative
     * errno when none did: -ETIMEDOUT, -ECONNREFUSED, -ECONNRESET,
     * -EHOSTUNREACH (resolve/route), -EPROTO (TLS, HTTP framing, a 2xx body
     * that is not JSON), -EMSGSIZE (body over the limit), -ECANCELED. */
    int err;
    long http_status; /* the response's code; 0 when none arrived */
    /* The parsed JSON response when there is one: on 2xx the object or list,
     * on errors the Status object the server sent. NULL when the body was
     * empty or (on errors) not JSON. Borrowed for the callback. */
    struct json_object *body;
    /* On HTTP errors (>= 300): the decoded metav1.Status, synthesized from
     * http_status (reason "NotFound", "Conflict", ...) when the body is not a
     * Status. On transport errors: code 0, reason "" and message says what
     * failed. On 2xx: zeroed. */
    struct kstatus status;
    int attempts;     /* HTTP attempts made, retries included */
    int http_version; /* of the last attempt: 10, 11, 20, or 0 */
};

typedef void (*kube_cb)(void *ud, const struct kube_result *r);

/* Single object: GET {collection}/{name}. */
int kube_get(struct kube_client *c, const struct kube_resource *res, const char *ns,
             const char *name, kube_cb cb, void *ud);

/* One page of a list. ns NULL lists all namespaces (or a cluster-scoped
 * resource). r->body is the List: items, metadata.resourceVersion,
 * metadata.continue ("" or absent on the last page). NULL fields are not
 * sent; limit 0 means no limit. Follow metadata.continue with the same
 * selectors and no resource_version (the server refuses both). */
struct kube_list_opts {
    const char *label_selector; /* "app=x,tier in (a,b)": sent percent-encoded */
    const char *field_selector;
    const char *resource_version;
    const char *resource_version_match; /* "NotOlderThan" | "Exact" */
    const char *continue_token;
    long limit;
};
int kube_list(struct kube_client *c, const struct kube_resource *res, const char *ns,
              const struct kube_list_opts *opts, kube_cb cb, void *ud);

/* POST to the collection. body is serialized before the call returns. */
int kube_create(struct kube_client *c, const struct kube_resource *res, const char *ns,
                struct json_object *body, kube_cb cb, void *ud);

/* POST to a subresource of an object: {collection}/{name}/{sub}, e.g.
 * serviceaccounts/<sa>/token (TokenRequest) or pods/<pod>/eviction. */
int kube_create_subresource(struct kube_client *c, const struct kube_resource *res, const char *ns,
                            const char *name, const char *sub, struct json_object *body, kube_cb cb,
                            void *ud);

/* PUT the whole object; body carries metadata.resourceVersion, so a stale
 * one gets 409 Conflict. */
int kube_update(struct kube_client *c, const struct kube_resource *res, const char *ns,
                const char *name, struct json_object *body, kube_cb cb, void *ud);

/* PUT {name}/status (the status subresource; the server ignores the rest). */
int kube_update_status(struct kube_client *c, const struct kube_resource *res, const char *ns,
                       const char *name, struct json_object *body, kube_cb cb, void *ud);

enum kube_patch_type {
    KUBE_PATCH_MERGE = 0, /* application/merge-patch+json (RFC 7386) */
    KUBE_PATCH_JSON,      /* application/json-patch+json (RFC 6902) */
    KUBE_PATCH_STRATEGIC, /* built-in types only, never CRDs */
    KUBE_PATCH_APPLY,     /* server-side apply; field_manager required */
};

struct kube_patch_opts {
    enum kube_patch_type type;
    const char *field_manager; /* fieldManager=; required for APPLY */
    int force;                 /* force=true (APPLY only: take over conflicting fields) */
    int status;                /* patch the /status subresource */
};

/* PATCH with body (len bytes, copied; JSON, which is also valid YAML for
 * APPLY). opts NULL means a merge patch of the object. */
int kube_patch(struct kube_client *c, const struct kube_resource *res, const char *ns,
               const char *name, const char *body, size_t len, const struct kube_patch_opts *opts,
               kube_cb cb, void *ud);

/* DELETE. Remember: a batch/v1 Job deleted without a propagation policy
 * orphans its pods. Preconditions that do not match get 409 Conflict. */
struct kube_delete_opts {
    const char *propagation; /* "Foreground" | "Background" | "Orphan" | NULL */
    int grace_period_set;    /* send grace_period_seconds (so zeroed opts never mean 0) */
    long grace_period_seconds;
    const char *precondition_uid;
    const char *precondition_rv;
};
int kube_delete(struct kube_client *c, const struct kube_resource *res, const char *ns,
                const char *name, const struct kube_delete_opts *opts, kube_cb cb, void *ud);
/* DELETE with a DeleteOptions body built by the caller (NULL: none). */
int kube_delete_body(struct kube_client *c, const struct kube_resource *res, const char *ns,
                     const char *name, struct json_object *body, kube_cb cb, void *ud);

/* Watch: GET {collection}?watch=1, streamed. While the response is 2xx,
 * chunk(ud, data, len) gets the body bytes as they arrive, split anywhere
 * (feed them to src/watch's decoder); data is borrowed for the call. A
 * non-2xx response is never passed to chunk: it ends the watch with its
 * decoded Status. end(ud, r) is then called exactly once:
 *   err 0, http_status 200  the server ended the stream (timeoutSeconds);
 *   err 0, http_status 410/4xx/5xx  refused, r->status decoded;
 *   err < 0  transport error, or -ECANCELED after kube_watch_cancel or
 *            kube_client_close, or chunk's own negative return value.
 * chunk returning non-zero aborts the stream (end gets its value when
 * negative, else -ECANCELED). Watches are not rate-limited and not retried
 * here (except once after a 401 with a token file): the caller reconnects
 * from its last resourceVersion. No total timeout; TCP keepalive guards the
 * connection, and timeout_seconds (when set) plus 60 s bounds the transfer. */
struct kube_watch_opts {
    const char *label_selector;
    const char *field_selector;
    const char *resource_version;
    const char *resource_version_match;
    int allow_bookmarks;     /* allowWatchBookmarks=true */
    int send_initial_events; /* sendInitialEvents=true (WatchList) */
    long timeout_seconds;    /* timeoutSeconds=; 0: not sent */
};
typedef int (*kube_chunk_cb)(void *ud, const char *data, size_t len);

/* *out (may be NULL) is valid until end has returned; do not use it after. */
int kube_watch(struct kube_client *c, const struct kube_resource *res, const char *ns,
               const struct kube_watch_opts *opts, kube_chunk_cb chunk, kube_cb end, void *ud,
               struct kube_stream **out);

/* Stops a watch (or a kube_pod_log stream); no chunk is delivered after
 * this returns and end is called once, later, with -ECANCELED (unless it
 * had already been scheduled with another outcome). Idempotent until end
 * has run. Safe inside chunk. */
void kube_watch_cancel(struct kube_stream *s);

/* A pod's log: GET pods/{pod}/log, streamed like a watch. chunk gets the
 * raw bytes as they arrive, split anywhere (any encoding, not JSON: a
 * multi-byte character may straddle two calls; see src/ui/ui_utf8.h). end
 * is called once as for kube_watch: err 0 and http_status 200 when the
 * server ended the stream (the whole log sent, or a followed container
 * finished); err 0 and a 4xx/5xx with r->status decoded when refused (400
 * "container ... is waiting to start", 403, 404); err < 0 as for a watch.
 * Cancel with kube_watch_cancel(*out). As a watch: no token bucket, no
 * retry (but the one after a 401 with a token file), and counted as a
 * watch in kube_stats; no total timeout (TCP keepalive guards the
 * connection): the caller cancels. -EINVAL: a missing ns or pod, an empty
 * container, negative numbers, chunk or end NULL. */
struct kube_log_opts {
    const char *container; /* container=; NULL: the pod's only container */
    int follow;            /* follow=true: keep streaming until the container ends */
    long tail_lines;       /* tailLines=; 0: not sent (the whole log) */
    long limit_bytes;      /* limitBytes=; 0: not sent */
    int timestamps;        /* timestamps=true: an RFC 3339 time before each line */
    int previous;          /* previous=true: the last terminated instance's log */
};
int kube_pod_log(struct kube_client *c, const char *ns, const char *pod,
                 const struct kube_log_opts *opts, kube_chunk_cb chunk, kube_cb end, void *ud,
                 struct kube_stream **out);

/* Parses one JSON document of len bytes as the client parses responses
 * (nesting depth capped, trailing garbage refused); NULL if it is not one.
 * The caller owns the result. */
struct json_object *kube_json_parse(const char *p, size_t len);

/* Counters for /metrics. */
enum kube_verb {
    KUBE_VERB_GET = 0,
    KUBE_VERB_LIST,
    KUBE_VERB_WATCH,
    KUBE_VERB_CREATE,
    KUBE_VERB_UPDATE,
    KUBE_VERB_PATCH,
    KUBE_VERB_DELETE,
    KUBE_VERB_MAX
};

/* Lower-case name for labels: "get", "list", ...; "unknown" out of range. */
const char *kube_verb_name(enum kube_verb v);

#define KUBE_STATS_MAX_CODE 600

struct kube_stats {
    uint64_t requests[KUBE_VERB_MAX];      /* HTTP attempts sent, retries included */
    uint64_t by_class[KUBE_VERB_MAX][6];   /* attempt outcomes: [0] no response,
                                            * [1]..[5] 1xx..5xx */
    uint64_t by_code[KUBE_STATS_MAX_CODE]; /* responses by exact code, all verbs */
    uint64_t retries;                      /* attempts that were retries */
    uint64_t ratelimit_waits;              /* requests that had to wait for a token */
    uint64_t ratelimit_wait_ms;            /* total time requests waited for tokens */
    uint64_t token_reloads;                /* token file reads that changed the token */
    uint64_t connections;                  /* new connections opened */
    uint64_t in_flight;                    /* gauge: requests and watches not finished */
    uint64_t queued;                       /* gauge: waiting for a token or a backoff */
    uint64_t lane_peak;                    /* most DELETEs in flight at once */
};

/* DELETEs in flight at once, at most: what one HTTP/2 connection carries
 * well (curl.c allows 250 streams; more would open new connections), and
 * what a direct client needs to reach the API server's DELETE rate. */
#define KUBE_LANE_IN_FLIGHT 64

/* Copies the counters (a snapshot) into *out. */
void kube_client_stats(const struct kube_client *c, struct kube_stats *out);

#endif
