/* kube-internal.h - internal to the kube module: the client and request
 * structs shared by client.c (loop glue, scheduling, teardown), request.c
 * (one request's attempts and outcome) and verbs.c (the public verbs). */
#ifndef RB_KUBE_INTERNAL_H
#define RB_KUBE_INTERNAL_H

#include <curl/curl.h>

#include "kube/kube.h"
#include "kube/proto.h"
#include "kubeconfig/kubeconfig.h"
#include "limit/limit.h"

/* Intrusive doubly-linked list; a head links to itself when empty. */
struct kube_link {
    struct kube_link *prev, *next;
};

#define KUBE_CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

void kube_list_init(struct kube_link *head);
int kube_list_empty(const struct kube_link *head);
void kube_list_push(struct kube_link *head, struct kube_link *n);
void kube_list_unlink(struct kube_link *n);

/* Where a request is. Exactly one list holds it in each state but DONE. */
enum kube_req_state {
    KUBE_REQ_NEW = 0, /* not yet queued */
    KUBE_REQ_QUEUED,  /* c->queue: waiting for the work timer / a token */
    KUBE_REQ_DELAYED, /* c->delayed: backing off until due_ms */
    KUBE_REQ_ACTIVE,  /* c->active: added to the multi handle */
    KUBE_REQ_DONE,
};

struct kube_req {
    struct kube_link link;
    struct kube_client *c;
    enum kube_verb verb;
    enum kube_req_state state;
    const char *method;       /* static */
    const char *content_type; /* static, NULL without a body */
    char *url;
    char *body; /* request body, NULL for none */
    size_t body_len;
    long timeout_ms; /* CURLOPT_TIMEOUT_MS; 0: none (watches) */

    CURL *easy; /* made on the first attempt, reused by retries */
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];

    struct kube_buf resp; /* response body (watches: only a refusal) */
    long retry_after_s;   /* of the current attempt, -1 when absent */
    char flow_schema[64]; /* X-Kubernetes-PF-FlowSchema-UID, for 429 logs */
    int attempts;
    int retried_401;
    uint64_t due_ms;    /* DELAYED: when to queue again */
    uint64_t wait_from; /* when it started waiting for a token, 0 if not */
    struct limit_backoff backoff;

    kube_cb cb;
    void *ud;

    /* Watches only. */
    kube_chunk_cb chunk;
    int streaming;      /* this attempt answered 2xx: bytes go to chunk */
    int status_checked; /* streaming decided for this attempt */
    int cancelled;      /* kube_watch_cancel was called */
    int abort_err;      /* why a callback of ours stopped the transfer */
    int sends;          /* requests curl sent in this attempt (see on_prereq) */
};

/* The public watch handle is the request itself. */
struct kube_stream {
    struct kube_req req;
};

/* One uv_poll_t per socket curl asks us to watch. */
struct kube_poll {
    uv_poll_t poll;
    struct kube_link link; /* c->polls */
    struct kube_client *c;
    curl_socket_t fd;
};

struct kube_client {
    uv_loop_t *loop;
    CURLM *multi;
    CURLSH *share;
    CURL *tmpl;            /* options common to every request; duplicated per request */
    uv_timer_t curl_timer; /* CURLMOPT_TIMERFUNCTION */
    uv_timer_t work_timer; /* queue release, backoff, deferred cancels, close */
    uint64_t work_due;     /* when work_timer fires, UINT64_MAX when idle */
    int open_handles;      /* uv handles not yet closed */

    struct kube_link queue, delayed, active, polls;
    struct kube_link lane; /* DELETEs waiting for room (lane_active) or a token */
    struct limit_bucket lane_bucket;
    size_t lane_active; /* DELETEs on the wire: at most KUBE_LANE_IN_FLIGHT */

    int closing; /* kube_client_close called */
    int torn_down;
    void (*closed_cb)(void *ud);
    void *closed_ud;

    struct limit_bucket bucket;
    uint64_t rng; /* seeds each request's backoff */
    long timeout_ms;
    int max_tries;
    long backoff_base_ms, backoff_cap_ms;
    char *server;                  /* base URL requests are built on */
    struct curl_slist *connect_to; /* CURLOPT_CONNECT_TO of every handle */

    /* Bearer token: tok.token is the one sent; tok.token_file re-read. */
    struct kcfg tok;
    uint64_t token_read_ms;

    struct kube_stats stats;
};

/* curl_easy_setopt unless an earlier option failed: rc keeps the first
 * error, so a run of options is checked once at its end. */
#define KUBE_SETOPT(rc, easy, opt, val)                                                            \
    do {                                                                                           \
        if ((rc) == CURLE_OK)                                                                      \
            (rc) = curl_easy_setopt((easy), (opt), (val));                                         \
    } while (0)

/* curl.c: the multi handle, the share and the template easy handle (TLS,
 * HTTP/2, timeouts), and c->server. Cleaned up by the caller on failure. */
int kube_curl_setup(struct kube_client *c, const struct kcfg *cfg, const struct kube_options *o);

/* client.c */
void kube_schedule(struct kube_client *c, uint64_t delay_ms);
void kube_token_refresh(struct kube_client *c, int force);

/* request.c */
struct kube_req *kube_req_new(struct kube_client *c, enum kube_verb verb, size_t size);
void kube_req_free(struct kube_req *r);
/* Queues a built request for the work timer; on error frees it. */
int kube_req_submit(struct kube_req *r);
/* The FIFO a queued request waits in: DELETEs their own lane. */
static inline struct kube_link *kube_req_fifo(struct kube_req *r)
{
    return r->verb == KUBE_VERB_DELETE ? &r->c->lane : &r->c->queue;
}
/* Starts an attempt (adds to the multi). On failure finishes the request. */
void kube_req_start(struct kube_req *r);
/* Called with a transfer curl reports done (already removed from multi). */
void kube_req_done(struct kube_req *r, CURLcode code);
/* Delivers the outcome err (< 0) without a response, then frees. */
void kube_req_fail(struct kube_req *r, int err, const char *why);

#endif
