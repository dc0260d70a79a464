/* The client: one CURLM on the caller's libuv loop (curl's multi-uv.c
 * pattern: a uv_poll_t per socket curl names, one uv_timer_t for curl's
 * timeouts), plus our own work timer that releases queued requests as the
 * token bucket allows, re-queues backed-off ones, reaps cancelled watches
 * and runs the teardown. */
#include "kube/kube-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log/log.h"

#define TOKEN_REREAD_MS 60000

void kube_list_init(struct kube_link *head)
{
    head->prev = head->next = head;
}

int kube_list_empty(const struct kube_link *head)
{
    return head->next == head;
}

void kube_list_push(struct kube_link *head, struct kube_link *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

void kube_list_unlink(struct kube_link *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

/* ---- curl <-> libuv ---------------------------------------------------- */

static void check_done(struct kube_client *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode code = m->data.result;
        struct kube_req *r = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(c->multi, e);
        kube_list_unlink(&r->link);
        kube_req_done(r, code); /* may run the user's callback */
    }
}

static void socket_action(struct kube_client *c, curl_socket_t fd, int flags)
{
    int running;
    curl_multi_socket_action(c->multi, fd, flags, &running);
    check_done(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct kube_poll *p = h->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    socket_action(p->c, p->fd, flags);
}

static void on_handle_closed(uv_handle_t *h);

static void poll_close(struct kube_poll *p)
{
    uv_poll_stop(&p->poll);
    kube_list_unlink(&p->link);
    uv_close((uv_handle_t *)&p->poll, on_handle_closed);
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp)
{
    struct kube_client *c = ud;
    struct kube_poll *p = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (p) {
            curl_multi_assign(c->multi, fd, NULL);
            poll_close(p);
        }
        return 0;
    }
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return -1;
        if (uv_poll_init_socket(c->loop, &p->poll, fd) < 0) {
            free(p);
            return -1;
        }
        p->c = c;
        p->fd = fd;
        p->poll.data = p;
        kube_list_push(&c->polls, &p->link);
        c->open_handles++;
        curl_multi_assign(c->multi, fd, p);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&p->poll, events, on_poll);
    return 0;
}

static void on_curl_timer(uv_timer_t *t)
{
    socket_action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int on_timer_change(CURLM *m, long timeout_ms, void *ud)
{
    struct kube_client *c = ud;
    if (timeout_ms < 0)
        uv_timer_stop(&c->curl_timer);
    else /* 0 too goes through the loop: no socket_action inside curl */
        uv_timer_start(&c->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- work timer: queue release, backoff, cancels, teardown -------------- */

static void teardown(struct kube_client *c);
static void on_work(uv_timer_t *t);

static void arm_work(struct kube_client *c)
{
    uint64_t now = uv_now(c->loop);
    uv_timer_start(&c->work_timer, on_work, c->work_due > now ? c->work_due - now : 0, 0);
}

void kube_schedule(struct kube_client *c, uint64_t delay_ms)
{
    if (c->torn_down)
        return;
    uint64_t due = uv_now(c->loop) + delay_ms;
    if (due >= c->work_due)
        return; /* already due sooner */
    c->work_due = due;
    arm_work(c);
}

static void reap_cancelled(struct kube_client *c, struct kube_link *head)
{
    struct kube_link *n = head->next;
    while (n != head) {
        struct kube_req *r = KUBE_CONTAINER(n, struct kube_req, link);
        n = n->next;
        if (r->cancelled) {
            /* Callbacks may cancel others; restart from the head after one. */
            kube_req_fail(r, -ECANCELED, "watch cancelled");
            n = head->next;
        }
    }
}

/* Starts the requests of one FIFO while its bucket has tokens; watches
 * pass the bucket. Starting may fail and call back, which may queue more:
 * the list is re-read after each start. How long until the next token,
 * or 0. */
static uint64_t release(struct kube_client *c, struct kube_link *fifo, struct limit_bucket *bucket,
                        uint64_t now)
{
    uint64_t wait = 0;
    for (struct kube_link *n = fifo->next; n != fifo && !c->closing;) {
        struct kube_req *r = KUBE_CONTAINER(n, struct kube_req, link);
        /* The lane is full: an answer makes room (left_wire, request.c). */
        if (fifo == &c->lane && c->lane_active >= KUBE_LANE_IN_FLIGHT)
            break;
        n = n->next;
        if (r->verb != KUBE_VERB_WATCH) {
            if (!wait)
                wait = limit_bucket_take(bucket, now);
            if (wait) {
                if (!r->wait_from) {
                    r->wait_from = now ? now : 1;
                    c->stats.ratelimit_waits++;
                }
                continue;
            }
            if (r->wait_from)
                c->stats.ratelimit_wait_ms += now - r->wait_from;
            r->wait_from = 0;
        }
        kube_list_unlink(&r->link);
        c->stats.queued--;
        struct kube_link *after = n->prev; /* n itself may go in a callback */
        kube_req_start(r);
        n = after->next;
    }
    return wait;
}

static void on_work(uv_timer_t *t)
{
    struct kube_client *c = t->data;
    c->work_due = UINT64_MAX;
    if (c->closing) {
        teardown(c);
        return;
    }
    reap_cancelled(c, &c->active);
    reap_cancelled(c, &c->queue);
    reap_cancelled(c, &c->lane);
    reap_cancelled(c, &c->delayed);

    uint64_t now = uv_now(c->loop), next = UINT64_MAX;
    /* Backed-off requests whose time has come go to the end of the queue. */
    for (struct kube_link *n = c->delayed.next; n != &c->delayed;) {
        struct kube_req *r = KUBE_CONTAINER(n, struct kube_req, link);
        n = n->next;
        if (r->due_ms <= now) {
            kube_list_unlink(&r->link);
            r->state = KUBE_REQ_QUEUED;
            kube_list_push(kube_req_fifo(r), &r->link);
        } else if (r->due_ms < next) {
            next = r->due_ms;
        }
    }
    /* The DELETE lane first, then the FIFO of everything else. */
    uint64_t lane_wait = release(c, &c->lane, &c->lane_bucket, now);
    uint64_t wait = c->closing ? 0 : release(c, &c->queue, &c->bucket, now);
    if (c->closing) {
        teardown(c);
        return;
    }
    if (lane_wait && now + lane_wait < next)
        next = now + lane_wait;
    if (wait && now + wait < next)
        next = now + wait;
    if (next != UINT64_MAX && next < c->work_due) {
        c->work_due = next;
        arm_work(c);
    }
}

/* ---- lifecycle ----------------------------------------------------------- */

static void client_free(struct kube_client *c)
{
    free(c->server);
    curl_slist_free_all(c->connect_to);
    kcfg_token_free(c->tok.token);
    free(c->tok.token_file);
    free(c);
    curl_global_cleanup(); /* balances kube_client_new */
}

static void on_handle_closed(uv_handle_t *h)
{
    struct kube_client *c;
    if (h->type == UV_POLL) {
        struct kube_poll *p = h->data;
        c = p->c;
        free(p);
    } else {
        c = h->data;
    }
    if (--c->open_handles == 0) {
        void (*cb)(void *) = c->closed_cb;
        void *ud = c->closed_ud;
        client_free(c);
        if (cb)
            cb(ud);
    }
}

static void fail_all(struct kube_client *c, struct kube_link *head)
{
    while (!kube_list_empty(head)) {
        struct kube_req *r = KUBE_CONTAINER(head->next, struct kube_req, link);
        kube_req_fail(r, -ECANCELED, "client closed");
    }
}

static void teardown(struct kube_client *c)
{
    if (c->torn_down)
        return;
    /* Callbacks run here may try to add work: kube_req_submit refuses it
     * (closing), and kube_schedule does nothing once torn_down is set. */
    c->torn_down = 1;
    fail_all(c, &c->active);
    fail_all(c, &c->delayed);
    fail_all(c, &c->queue);
    fail_all(c, &c->lane);

    /* Stop polling while curl's sockets are still open, then let curl close
     * them; it must not call back into handles that are closing. */
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, NULL);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, NULL);
    while (!kube_list_empty(&c->polls))
        poll_close(KUBE_CONTAINER(c->polls.next, struct kube_poll, link));
    curl_multi_cleanup(c->multi);
    curl_easy_cleanup(c->tmpl);
    curl_share_cleanup(c->share);
    uv_close((uv_handle_t *)&c->curl_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->work_timer, on_handle_closed);
}

void kube_client_close(struct kube_client *c, void (*closed)(void *ud), void *ud)
{
    if (!c || c->closing)
        return;
    c->closing = 1;
    c->closed_cb = closed;
    c->closed_ud = ud;
    c->work_due = UINT64_MAX; /* force the re-arm below */
    kube_schedule(c, 0);
}

/* A token goes into a header line: no spaces or control bytes, or it could
 * smuggle headers in. */
static int token_ok(const char *t)
{
    if (!*t)
        return 0;
    for (; *t; t++)
        if ((unsigned char)*t <= ' ' || *t == 0x7f)
            return 0;
    return 1;
}

void kube_token_refresh(struct kube_client *c, int force)
{
    if (!c->tok.token_file)
        return;
    uint64_t now = uv_now(c->loop);
    if (!force && c->token_read_ms && now - c->token_read_ms < TOKEN_REREAD_MS)
        return;
    c->token_read_ms = now ? now : 1;
    char *tok = NULL, *err = NULL;
    int rc = kcfg_read_token(&c->tok, &tok, &err);
    if (rc >= 0 && tok && !token_ok(tok)) {
        rc = -EINVAL;
        err = strdup("the token holds spaces or control characters");
    }
    if (rc < 0 || !tok) {
        /* client-go keeps the last good token and tries again later. */
        log_kv(LOGL_WARN, "cannot re-read the API token, keeping the previous one", "file",
               c->tok.token_file, "error", err, NULL);
        free(err);
        kcfg_token_free(tok);
        return;
    }
    if (c->tok.token && strcmp(c->tok.token, tok) == 0) {
        kcfg_token_free(tok);
        return;
    }
    if (c->tok.token)
        c->stats.token_reloads++;
    kcfg_token_free(c->tok.token);
    c->tok.token = tok;
}

void kube_client_stats(const struct kube_client *c, struct kube_stats *out)
{
    *out = c->stats;
}

int kube_client_new(uv_loop_t *loop, const struct kcfg *cfg, const struct kube_options *opt,
                    struct kube_client **out)
{
    *out = NULL;
    if (!loop || !cfg || !cfg->server)
        return -EINVAL;
    static const struct kube_options defaults;
    const struct kube_options *o = opt ? opt : &defaults;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -ENOMEM;
    struct kube_client *c = calloc(1, sizeof *c);
    if (!c) {
        curl_global_cleanup();
        return -ENOMEM;
    }
    c->loop = loop;
    kube_list_init(&c->queue);
    kube_list_init(&c->lane);
    kube_list_init(&c->delayed);
    kube_list_init(&c->active);
    kube_list_init(&c->polls);
    c->work_due = UINT64_MAX;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    c->max_tries = o->max_tries > 0 ? o->max_tries : 5;
    c->backoff_base_ms = o->backoff_base_ms > 0 ? o->backoff_base_ms : 250;
    c->backoff_cap_ms = o->backoff_cap_ms > 0 ? o->backoff_cap_ms : 30000;
    if (c->backoff_cap_ms < c->backoff_base_ms)
        c->backoff_cap_ms = c->backoff_base_ms;
    double qps = o->qps == 0 ? 20.0 : o->qps;
    int burst = o->burst > 0 ? o->burst : 30;
    limit_bucket_init(&c->bucket, qps, burst, uv_now(loop));
    /* A lane of their own for DELETEs, paced by the API server's answers
     * (KUBE_LANE_IN_FLIGHT), with no rate of its own unless asked (kube.h). */
    double lane_qps = o->delete_qps > 0 ? o->delete_qps : -1;
    int lane_burst = o->delete_burst > 0 ? o->delete_burst : burst > 600 ? burst : 600;
    limit_bucket_init(&c->lane_bucket, lane_qps, lane_burst, uv_now(loop));
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    c->rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)c;

    int rc = -EINVAL;
    if (cfg->token && !token_ok(cfg->token))
        goto fail;
    rc = -ENOMEM;
    if (cfg->token && !(c->tok.token = strdup(cfg->token)))
        goto fail;
    if (cfg->token_file && !(c->tok.token_file = strdup(cfg->token_file)))
        goto fail;
    rc = kube_curl_setup(c, cfg, o);
    if (rc < 0)
        goto fail;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    kube_token_refresh(c, 1);

    uv_timer_init(loop, &c->curl_timer);
    uv_timer_init(loop, &c->work_timer);
    c->curl_timer.data = c->work_timer.data = c;
    c->open_handles = 2;
    *out = c;
    return 0;
fail:
    if (c->multi)
        curl_multi_cleanup(c->multi);
    if (c->tmpl)
        curl_easy_cleanup(c->tmpl);
    if (c->share)
        curl_share_cleanup(c->share);
    client_free(c);
    return rc;
}
