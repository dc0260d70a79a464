/* The informer's driver: list pages and watch streams from the kube client
 * into the cache, with the decisions of inf_sm. All on the client's loop. */
#include "kjson/kjson.h"
#include "informer/inf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "informer/inf_cache.h"
#include "informer/inf_sm.h"
#include "kube/kube.h"
#include "log/log.h"
#include "watch/decoder.h"

/* Decoder callback stop values (positive: never an errno). */
#define STOP_ERROR_EVENT 1
#define STOP_MALFORMED 2
#define STOP_CLOSING 3

enum state { ST_NEW, ST_RUNNING, ST_CLOSING, ST_CLOSED };

struct inf {
    uv_loop_t *loop;
    struct kube_client *client;
    const struct kube_resource *res;
    char *ns, *label, *field;
    struct inf_cache *cache;
    struct inf_handlers h;
    void *ud;
    struct inf_options opt;
    struct inf_sm sm;
    struct watch_decoder *dec;
    uv_timer_t timer;
    int timer_open; /* uv_timer_init done and uv_close not finished */
    enum state state;
    int synced;
    uint64_t rng;
    enum inf_action next; /* what the timer starts */

    int list_busy; /* a kube_list callback is pending */
    char *cont;    /* continue token of the list in progress */

    struct kube_stream *stream; /* the open watch, until its end callback */
    uint64_t w_start_ms, w_events;
    int w_error_event, w_malformed;
    struct kstatus w_status;

    struct inf_stats st;
    void (*closed)(struct inf *inf, void *ud);
    void *closed_ud;
};

static double rnd(struct inf *inf)
{
    /* xorshift64*: jitter only, no need for quality. */
    inf->rng ^= inf->rng >> 12;
    inf->rng ^= inf->rng << 25;
    inf->rng ^= inf->rng >> 27;
    return (double)((inf->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int inf_new(struct kube_client *client, uv_loop_t *loop, const struct kube_resource *res,
            const char *ns, const char *label_selector, const char *field_selector,
            const struct inf_projection *proj, const struct inf_handlers *h, void *ud,
            struct inf **out)
{
    *out = NULL;
    if (!client || !loop || !res || !proj || !proj->project || proj->size == 0 ||
        proj->size > INF_RECORD_MAX)
        return -EINVAL;
    struct inf *inf = calloc(1, sizeof *inf);
    if (!inf)
        return -ENOMEM;
    inf->loop = loop;
    inf->client = client;
    inf->res = res;
    inf->ud = ud;
    if (h)
        inf->h = *h;
    inf->ns = dup_or_null(ns && *ns ? ns : NULL);
    inf->label = dup_or_null(label_selector);
    inf->field = dup_or_null(field_selector);
    inf->cache = inf_cache_new(proj, h, ud);
    inf->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)inf;
    if (!inf->rng)
        inf->rng = 88172645463325252ull;
    if (!inf->cache || (ns && *ns && !inf->ns) || (label_selector && !inf->label) ||
        (field_selector && !inf->field)) {
        inf_free(inf);
        return -ENOMEM;
    }
    inf_configure(inf, NULL);
    *out = inf;
    return 0;
}

int inf_configure(struct inf *inf, const struct inf_options *opt)
{
    if (inf->state != ST_NEW)
        return -EBUSY;
    struct inf_options o = {0};
    if (opt)
        o = *opt;
    if (o.page_limit <= 0)
        o.page_limit = 500;
    if (o.watch_timeout_min_s <= 0)
        o.watch_timeout_min_s = 300;
    if (o.watch_timeout_max_s < o.watch_timeout_min_s)
        o.watch_timeout_max_s = o.watch_timeout_min_s > 600 ? o.watch_timeout_min_s : 600;
    if (o.backoff_base_ms <= 0)
        o.backoff_base_ms = 800;
    if (o.backoff_cap_ms <= 0)
        o.backoff_cap_ms = 30000;
    if (o.healthy_ms <= 0)
        o.healthy_ms = 60000;
    inf->opt = o;
    inf_sm_init(&inf->sm, (uint64_t)o.backoff_base_ms, (uint64_t)o.backoff_cap_ms,
                (uint64_t)o.healthy_ms);
    return 0;
}

void inf_free(struct inf *inf)
{
    if (!inf)
        return;
    inf_cache_free(inf->cache);
    watch_decoder_free(inf->dec);
    free(inf->cont);
    free(inf->ns);
    free(inf->label);
    free(inf->field);
    free(inf);
}

static void maybe_closed(struct inf *inf)
{
    if (inf->state != ST_CLOSING || inf->list_busy || inf->stream || inf->timer_open)
        return;
    inf->state = ST_CLOSED;
    /* Last use of inf: closed may free it. */
    if (inf->closed)
        inf->closed(inf, inf->closed_ud);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct inf *inf = h->data;
    inf->timer_open = 0;
    maybe_closed(inf);
}

void inf_close(struct inf *inf, void (*closed)(struct inf *inf, void *ud), void *ud)
{
    if (inf->state == ST_CLOSING || inf->state == ST_CLOSED)
        return;
    inf->closed = closed;
    inf->closed_ud = ud;
    if (!inf->timer_open) {
        /* Never started: a handle to close still makes closed() come from
         * the loop, as promised. */
        uv_timer_init(inf->loop, &inf->timer);
        inf->timer.data = inf;
        inf->timer_open = 1;
    }
    inf->state = ST_CLOSING;
    inf_cache_mute(inf->cache, 1);
    if (inf->stream)
        kube_watch_cancel(inf->stream);
    uv_timer_stop(&inf->timer);
    uv_close((uv_handle_t *)&inf->timer, on_timer_closed);
}

static void start_list(struct inf *inf);
static void start_watch(struct inf *inf);

static void on_timer(uv_timer_t *t)
{
    struct inf *inf = t->data;
    if (inf->state != ST_RUNNING)
        return;
    if (inf->next == INF_ACT_LIST)
        start_list(inf);
    else
        start_watch(inf);
}

/* After a watch ends, even "now" goes through the timer: the next request
 * never starts inside the end callback of the previous one. */
static void schedule(struct inf *inf, struct inf_plan p)
{
    inf->next = p.action;
    /* The loop's clock is from the start of this iteration: without this a
     * Retry-After wait could end a few ms early. */
    uv_update_time(inf->loop);
    uv_timer_start(&inf->timer, on_timer, p.delay_ms, 0);
}

int inf_start(struct inf *inf)
{
    if (inf->state != ST_NEW)
        return -EBUSY;
    int rc = uv_timer_init(inf->loop, &inf->timer);
    if (rc < 0)
        return rc;
    inf->timer.data = inf;
    inf->timer_open = 1;
    inf->state = ST_RUNNING;
    schedule(inf, (struct inf_plan){INF_ACT_LIST, 0});
    return 0;
}

/* --- list --------------------------------------------------------------- */

static void list_failed(struct inf *inf, const struct kube_result *r, const char *why)
{
    inf->st.list_errors++;
    free(inf->cont);
    inf->cont = NULL;
    const struct kstatus *st = r && r->err == 0 ? &r->status : NULL;
    struct inf_plan p =
        inf_sm_list_failed(&inf->sm, r ? r->err : 0, r ? r->http_status : 0, st, rnd(inf));
    char code[16], delay[24];
    snprintf(code, sizeof code, "%ld", r ? r->http_status : 0L);
    snprintf(delay, sizeof delay, "%llu", (unsigned long long)p.delay_ms);
    log_kv(LOGL_WARN, "informer list failed", "resource", inf->res->resource, "reason", why, "code",
           code, "message", r ? r->status.message : NULL, "retry_ms", delay, NULL);
    schedule(inf, p);
}

static void on_list(void *ud, const struct kube_result *r)
{
    struct inf *inf = ud;
    inf->list_busy = 0;
    if (inf->state != ST_RUNNING) {
        maybe_closed(inf);
        return;
    }
    if (r->err < 0 || r->http_status < 200 || r->http_status >= 300 || !r->body) {
        list_failed(inf, r, r->err < 0 ? strerror(-r->err) : "HTTP error");
        return;
    }
    struct json_object *items = kj_path(r->body, "items", NULL);
    const char *rv = kj_path_str(r->body, "metadata", "resourceVersion", NULL);
    const char *cont = kj_path_str(r->body, "metadata", "continue", NULL);
    if ((items && !json_object_is_type(items, json_type_array)) || !rv || !*rv) {
        list_failed(inf, r, "malformed list");
        return;
    }

    if (!inf->cont)
        inf_cache_replace_begin(inf->cache);
    inf->st.list_pages++;
    size_t n = items ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        int rc = inf_cache_replace_item(inf->cache, json_object_array_get_idx(items, i));
        if (inf->state != ST_RUNNING) /* a handler closed us */
        {
            maybe_closed(inf);
            return;
        }
        if (rc == -ENOMEM) {
            list_failed(inf, NULL, "out of memory");
            return;
        }
        if (rc < 0)
            inf->st.malformed++; /* an item without name: skip it */
    }

    free(inf->cont);
    inf->cont = NULL;
    if (cont && *cont) {
        inf->cont = strdup(cont);
        if (!inf->cont) {
            list_failed(inf, NULL, "out of memory");
            return;
        }
        {
            start_list(inf);
            return;
        }
    }
    if (inf_sm_listed(&inf->sm, rv) < 0) {
        list_failed(inf, r, "bad resourceVersion");
        return;
    }
    inf_cache_replace_end(inf->cache);
    if (inf->state != ST_RUNNING) {
        maybe_closed(inf);
        return;
    }
    inf->st.lists++;
    if (inf->synced) {
        inf->st.relists++;
        log_kv(LOGL_INFO, "informer relisted", "resource", inf->res->resource, "rv", rv, NULL);
    } else {
        inf->synced = 1;
        if (inf->h.on_synced)
            inf->h.on_synced(inf->ud);
        if (inf->state != ST_RUNNING) {
            maybe_closed(inf);
            return;
        }
    }
    start_watch(inf);
}

static void start_list(struct inf *inf)
{
    struct kube_list_opts o = {
        .label_selector = inf->label,
        .field_selector = inf->field,
        .continue_token = inf->cont,
        .limit = inf->opt.page_limit,
    };
    int rc = kube_list(inf->client, inf->res, inf->ns, &o, on_list, inf);
    if (rc == -ESHUTDOWN) /* the client is going away; our owner closes us */
        return;
    if (rc < 0) {
        struct kube_result r = {.err = rc};
        snprintf(r.status.message, sizeof r.status.message, "%s", strerror(-rc));
        {
            list_failed(inf, &r, "cannot start list");
            return;
        }
    }
    inf->list_busy = 1;
}

/* --- watch -------------------------------------------------------------- */

static int on_event(void *ud, enum watch_event_type type, struct json_object *obj)
{
    struct inf *inf = ud;
    if ((unsigned)type < sizeof inf->st.events / sizeof inf->st.events[0])
        inf->st.events[type]++;
    if (type == WATCH_ERROR) {
        if (kstatus_parse(obj, &inf->w_status) < 0)
            return STOP_MALFORMED;
        inf->w_error_event = 1;
        return STOP_ERROR_EVENT;
    }
    /* Cache first, then the version: if the cache could not take the event,
     * the next watch replays it. */
    if (inf_cache_apply(inf->cache, type, obj) < 0)
        return STOP_MALFORMED;
    if (inf_sm_observe(&inf->sm, type, watch_event_resource_version(obj)) < 0)
        return STOP_MALFORMED;
    inf->w_events++;
    return inf->state == ST_RUNNING ? 0 : STOP_CLOSING;
}

static int on_chunk(void *ud, const char *data, size_t len)
{
    struct inf *inf = ud;
    if (inf->state != ST_RUNNING)
        return 1;
    int rc = watch_decoder_feed(inf->dec, data, len);
    if (rc == 0)
        return 0;
    if (rc != STOP_ERROR_EVENT && rc != STOP_CLOSING)
        inf->w_malformed = 1;
    /* Positive: kube ends the watch with -ECANCELED; the flags say why. */
    return 1;
}

static void on_watch_end(void *ud, const struct kube_result *r)
{
    struct inf *inf = ud;
    inf->stream = NULL;
    if (inf->state != ST_RUNNING) {
        maybe_closed(inf);
        return;
    }
    struct inf_watch_end e = {
        .events = inf->w_events,
        .lived_ms = uv_now(inf->loop) - inf->w_start_ms,
    };
    const char *why;
    if (inf->w_error_event) {
        e.error_event = 1;
        e.status = &inf->w_status;
        why = "ERROR event";
    } else if (inf->w_malformed) {
        e.malformed = 1;
        why = watch_decoder_error(inf->dec);
    } else if (r->err == 0 && r->http_status >= 200 && r->http_status < 300) {
        e.http_status = r->http_status;
        why = "closed by server";
        if (watch_decoder_finish(inf->dec) < 0) {
            e.malformed = 1;
            why = watch_decoder_error(inf->dec);
        }
    } else if (r->err == 0) {
        e.http_status = r->http_status;
        e.status = &r->status;
        why = "HTTP error";
    } else {
        e.err = r->err;
        why = strerror(-r->err);
    }
    int clean = !e.error_event && !e.malformed && e.err == 0 && e.http_status < 300;
    if (!clean)
        inf->st.watch_errors++;
    if (e.malformed)
        inf->st.malformed++;
    if ((e.status && kstatus_is_gone(e.status)) || (e.err == 0 && e.http_status == 410))
        inf->st.gone++;
    struct inf_plan p = inf_sm_watch_ended(&inf->sm, &e, rnd(inf));
    if (!clean || p.action == INF_ACT_LIST) {
        char delay[24], code[16];
        snprintf(delay, sizeof delay, "%llu", (unsigned long long)p.delay_ms);
        snprintf(code, sizeof code, "%d", e.status ? e.status->code : (int)e.http_status);
        log_kv(clean ? LOGL_DEBUG : LOGL_INFO, "informer watch ended", "resource",
               inf->res->resource, "reason", why, "code", code, "message",
               e.status ? e.status->message : NULL, "next",
               p.action == INF_ACT_LIST ? "list" : "watch", "delay_ms", delay, NULL);
    }
    schedule(inf, p);
}

static void start_watch(struct inf *inf)
{
    if (!inf->dec) {
        inf->dec = watch_decoder_new(on_event, inf, inf->opt.max_event_bytes);
        if (!inf->dec) {
            schedule(inf, (struct inf_plan){INF_ACT_WATCH, inf_sm_backoff(&inf->sm, rnd(inf))});
            return;
        }
    }
    watch_decoder_reset(inf->dec);
    long span = inf->opt.watch_timeout_max_s - inf->opt.watch_timeout_min_s + 1;
    struct kube_watch_opts o = {
        .label_selector = inf->label,
        .field_selector = inf->field,
        .resource_version = inf->sm.rv,
        .allow_bookmarks = 1,
        .timeout_seconds = inf->opt.watch_timeout_min_s + (long)(rnd(inf) * (double)span),
    };
    inf->w_events = 0;
    inf->w_error_event = 0;
    inf->w_malformed = 0;
    inf->w_start_ms = uv_now(inf->loop);
    int rc =
        kube_watch(inf->client, inf->res, inf->ns, &o, on_chunk, on_watch_end, inf, &inf->stream);
    if (rc == -ESHUTDOWN) {
        inf->stream = NULL;
        return;
    }
    if (rc < 0) {
        inf->stream = NULL;
        struct inf_watch_end e = {.err = rc};
        schedule(inf, inf_sm_watch_ended(&inf->sm, &e, rnd(inf)));
        return;
    }
    if (inf->st.watches++ > 0)
        inf->st.watch_restarts++;
}

/* --- feeding by hand ------------------------------------------------------ */

int inf_feed(struct inf *inf, const char *type, struct json_object *obj)
{
    static const char *const names[] = {"ADDED", "MODIFIED", "DELETED"};
    if (inf->state != ST_NEW)
        return -EBUSY;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(type, names[i]) == 0)
            return inf_cache_apply(inf->cache, (enum watch_event_type)i, obj);
    return -EINVAL;
}

int inf_feed_synced(struct inf *inf)
{
    if (inf->state != ST_NEW)
        return -EBUSY;
    if (!inf->synced) {
        inf->synced = 1;
        if (inf->h.on_synced)
            inf->h.on_synced(inf->ud);
    }
    return 0;
}

/* --- reading the cache ---------------------------------------------------- */

int inf_synced(const struct inf *inf)
{
    return inf->synced;
}

const void *inf_get(const struct inf *inf, const char *ns, const char *name)
{
    return inf_cache_get(inf->cache, ns, name);
}

int inf_foreach(const struct inf *inf, int (*fn)(void *ud, const void *rec), void *ud)
{
    return inf_cache_foreach(inf->cache, fn, ud);
}

size_t inf_count(const struct inf *inf)
{
    return inf_cache_count(inf->cache);
}

void inf_get_stats(const struct inf *inf, struct inf_stats *out)
{
    *out = inf->st;
    inf_cache_stats(inf->cache, out);
}

const char *inf_resource_version(const struct inf *inf)
{
    return inf->sm.rv;
}
