/* trigd: lifecycle, the Trigger informer and its projection, and the
 * per-Trigger state this replica keeps (rate bucket, counters, the status
 * write waiting). See trigd.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson/kjson.h"
#include "log/log.h"
#include "trigd/trigd-internal.h"

static const char *const result_names[TRIGD_RESULT_MAX] = {
    "created",   "duplicate",  "skipped",       "bad_request",  "unauthorized", "not_found",
    "too_large", "media_type", "unprocessable", "rate_limited", "unavailable"};

const char *trigd_result_name(enum trigd_result r)
{
    return (unsigned)r < TRIGD_RESULT_MAX ? result_names[r] : "unknown";
}

/* --- the projection ---------------------------------------------------------- */

static void rec_schedule(struct trigd_rec *r)
{
    const struct trig_schedule *s = &r->spec->sched;
    char err[128] = "";
    if (cron_parse(s->cron, &r->cron, err, sizeof err) < 0) {
        snprintf(r->err_reason, sizeof r->err_reason, "InvalidSchedule");
        snprintf(r->err, sizeof r->err, "spec.schedule.cron: %s", err);
        return;
    }
    int rc = cron_tz_load(NULL, s->time_zone ? s->time_zone : "", &r->tz);
    if (rc < 0) {
        snprintf(r->err_reason, sizeof r->err_reason, "InvalidSchedule");
        snprintf(r->err, sizeof r->err, "spec.schedule.timeZone: %s: %s",
                 s->time_zone ? s->time_zone : "",
                 rc == -ENOENT   ? "no such time zone"
                 : rc == -EINVAL ? "not an IANA name"
                                 : "unreadable zone file");
        return;
    }
    r->has_cron = 1;
}

static int rec_project(struct json_object *obj, void *record)
{
    struct trigd_rec *r = record;
    memset(r, 0, sizeof *r);
    r->last_sched_s = -1;
    if (json_object_deep_copy(obj, &r->obj, NULL) != 0 || !r->obj)
        return -1;
    struct json_object *meta = json_object_object_get(r->obj, "metadata");
    if (meta)
        json_object_object_del(meta, "managedFields");
    r->uid = kj_path_str(r->obj, "metadata", "uid", NULL);
    if (!r->uid)
        r->uid = "";
    int64_t ms = 0;
    if (kj_time_parse(kj_path_str(r->obj, "metadata", "creationTimestamp", NULL), &ms) == 0)
        r->created_s = ms / 1000;
    struct json_object *g = kj_path(r->obj, "metadata", "generation", NULL);
    r->generation = json_object_is_type(g, json_type_int) ? json_object_get_int64(g) : 0;
    if (kj_time_parse(kj_path_str(r->obj, "status", "lastScheduleTime", NULL), &ms) == 0)
        r->last_sched_s = ms / 1000;
    struct trig_error e = {{0}};
    if (trig_spec_parse(r->obj, &r->spec, &e) < 0) {
        r->spec = NULL;
        snprintf(r->err_reason, sizeof r->err_reason, "%s", e.reason[0] ? e.reason : "InvalidSpec");
        snprintf(r->err, sizeof r->err, "%s", e.message);
    } else if (r->spec->has_schedule)
        rec_schedule(r);
    return 0; /* an invalid Trigger is cached too: its status says why */
}

static void rec_release(void *record)
{
    struct trigd_rec *r = record;
    trig_spec_free(r->spec);
    cron_tz_free(r->tz);
    json_object_put(r->obj);
    memset(r, 0, sizeof *r);
}

const struct inf_projection trigd_projection = {sizeof(struct trigd_rec), rec_project, rec_release};

const struct trigd_rec *trigd_rec_get(const struct trigd *t, const char *ns, const char *name)
{
    return inf_get(t->inf, ns, name);
}

/* --- per-Trigger state ------------------------------------------------------- */

static void tr_free(struct lh_entry *e)
{
    free(lh_entry_k(e));
    free(lh_entry_v(e));
}

static void tr_key(const char *ns, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", ns, name);
}

/* The state of ns/name, made on first use; reset when uid says the
 * Trigger was deleted and made again. NULL only without memory. */
struct trigd_tr *trigd_tr_get(struct trigd *t, const char *ns, const char *name, const char *uid)
{
    char key[160];
    tr_key(ns, name, key, sizeof key);
    struct trigd_tr *tr = NULL;
    if (lh_table_lookup_ex(t->trs, key, (void **)&tr)) {
        if (uid && strcmp(tr->uid, uid) != 0 && !tr->flushing) {
            uint64_t keep[TRIGD_RESULT_MAX];
            memcpy(keep, tr->counts, sizeof keep); /* metrics are monotonic */
            memset(tr, 0, sizeof *tr);
            memcpy(tr->counts, keep, sizeof keep);
            goto init;
        }
        return tr;
    }
    tr = calloc(1, sizeof *tr);
    char *k = strdup(key);
    if (!tr || !k || lh_table_insert(t->trs, k, tr) != 0) {
        free(tr);
        free(k);
        return NULL;
    }
init:
    snprintf(tr->ns, sizeof tr->ns, "%s", ns);
    snprintf(tr->name, sizeof tr->name, "%s", name);
    snprintf(tr->uid, sizeof tr->uid, "%s", uid ? uid : "");
    limit_bucket_init(&tr->bucket, t->opt.rate, t->opt.burst, uv_now(t->loop));
    tr->fired_slot = tr->warned_slot = tr->next_s = -1;
    return tr;
}

void trigd_count(struct trigd *t, struct trigd_tr *tr, enum trigd_result r)
{
    t->stats.deliveries[r]++;
    if (tr)
        tr->counts[r]++;
    else
        t->stats.unknown++;
}

void trigd_foreach_counter(const struct trigd *t,
                           void (*fn)(void *ud, const char *ns, const char *name,
                                      enum trigd_result r, uint64_t n),
                           void *ud)
{
    struct lh_entry *e;
    for (e = t->trs->head; e; e = e->next) {
        const struct trigd_tr *tr = lh_entry_v(e);
        for (int r = 0; r < TRIGD_RESULT_MAX; r++)
            if (tr->counts[r])
                fn(ud, tr->ns, tr->name, (enum trigd_result)r, tr->counts[r]);
    }
}

/* --- informer handlers ------------------------------------------------------ */

static void on_add(void *ud, const void *rec)
{
    struct trigd *t = ud;
    trigd_status_dirty(t, trigd_tr_get(t, inf_rec_namespace(rec), inf_rec_name(rec),
                                       ((const struct trigd_rec *)rec)->uid));
    trigd_sched_kick(t);
    if (t->observer)
        t->observer(t->observer_ud, inf_rec_namespace(rec), inf_rec_name(rec),
                    ((const struct trigd_rec *)rec)->obj);
}

static void on_update(void *ud, const void *old_rec, const void *new_rec)
{
    (void)old_rec;
    on_add(ud, new_rec);
}

static void on_delete(void *ud, const void *rec)
{
    struct trigd *t = ud;
    char key[160];
    tr_key(inf_rec_namespace(rec), inf_rec_name(rec), key, sizeof key);
    struct trigd_tr *tr = NULL;
    if (lh_table_lookup_ex(t->trs, key, (void **)&tr) && !tr->flushing)
        lh_table_delete(t->trs, key);
    trigd_sched_kick(t);
    if (t->observer)
        t->observer(t->observer_ud, inf_rec_namespace(rec), inf_rec_name(rec), NULL);
}

static void on_synced(void *ud)
{
    trigd_sched_kick(ud);
}

static const struct inf_handlers handlers = {on_add, on_update, on_delete, on_synced};

void trigd_observe(struct trigd *t, trigd_obj_fn fn, void *ud)
{
    t->observer = fn;
    t->observer_ud = ud;
}

struct each {
    trigd_obj_fn fn;
    void *ud;
};

static int each_one(void *ud, const void *rec)
{
    const struct each *e = ud;
    e->fn(e->ud, inf_rec_namespace(rec), inf_rec_name(rec), ((const struct trigd_rec *)rec)->obj);
    return 0;
}

void trigd_each(const struct trigd *t, trigd_obj_fn fn, void *ud)
{
    struct each e = {fn, ud};
    if (t->inf)
        (void)inf_foreach(t->inf, each_one, &e);
}

/* --- lifecycle ----------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Frees what trigd_new allocated (the informer included); t itself too. */
static void free_all(struct trigd *t)
{
    inf_free(t->inf);
    if (t->trs)
        lh_table_free(t->trs);
    if (t->secrets)
        lh_table_free(t->secrets);
    if (t->reading)
        lh_table_free(t->reading);
    free(t->ns);
    free(t->addr);
    free(t->tls_cert);
    free(t->tls_key);
    free(t->instance);
    free(t);
}

static void clock_from_env(struct trigd *t)
{
    t->clock_speed = 1;
#ifdef RUNBOOK_TEST_HOOKS
    /* RUNBOOK_TEST_CLOCK=REF:SPEED: schedules see REF + (now - REF) * SPEED,
     * so a test sees a minute's slot every 60/SPEED s. Test builds only. */
    const char *c = getenv("RUNBOOK_TEST_CLOCK");
    char *end = NULL;
    if (!c || !*c)
        return;
    long long ref = strtoll(c, &end, 10);
    double speed = *end == ':' ? strtod(end + 1, &end) : 0;
    if (*end || ref <= 0 || !(speed >= 1 && speed <= 3600)) {
        log_kv(LOGL_ERROR, "RUNBOOK_TEST_CLOCK must be <unix seconds>:<speed 1-3600>; ignored",
               "value", c, NULL);
        return;
    }
    t->clock_ref_s = ref;
    t->clock_speed = speed;
    log_kv(LOGL_WARN, "test clock for schedules (test build)", "value", c, NULL);
#endif
}

int trigd_new(uv_loop_t *loop, struct kube_client *kc, const struct trigd_options *opt,
              struct trigd **out)
{
    *out = NULL;
    struct trigd *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->loop = loop;
    t->kc = kc;
    t->opt = *opt;
    if (t->opt.rate <= 0)
        t->opt.rate = 10;
    if (t->opt.burst <= 0)
        t->opt.burst = (int)(2 * t->opt.rate) > 0 ? (int)(2 * t->opt.rate) : 1;
    t->ns = dup_or_null(opt->namespace);
    t->addr = dup_or_null(opt->addr);
    t->tls_cert = dup_or_null(opt->tls_cert);
    t->tls_key = dup_or_null(opt->tls_key);
    t->instance = strdup(opt->instance ? opt->instance : "runbook");
    t->trs = lh_kchar_table_new(64, tr_free);
    t->secrets = lh_kchar_table_new(64, trigd_secret_free);
    t->reading = lh_kchar_table_new(16, trigd_reading_free);
    clock_from_env(t);
    int rc = -ENOMEM;
    if ((opt->namespace && !t->ns) || (opt->addr && !t->addr) || (opt->tls_cert && !t->tls_cert) ||
        (opt->tls_key && !t->tls_key) || !t->instance || !t->trs || !t->secrets || !t->reading)
        goto fail;
    rc = inf_new(kc, loop, &KUBE_TRIGGERS, t->ns, NULL, NULL, &trigd_projection, &handlers, t,
                 &t->inf);
    if (rc < 0)
        goto fail;
    uv_timer_init(loop, &t->sched_timer);
    uv_timer_init(loop, &t->flush_timer);
    t->sched_timer.data = t->flush_timer.data = t;
    *out = t;
    return 0;
fail:
    free_all(t);
    return rc;
}

int trigd_start(struct trigd *t)
{
    if (t->addr && *t->addr && strcmp(t->addr, "0") != 0) {
        struct http_server_opts ho = {
            .max_body = t->opt.max_body, .tls_cert = t->tls_cert, .tls_key = t->tls_key};
        int rc =
            http_server_new_opts(t->loop, t->addr, trigd_routes, trigd_n_routes, t, &ho, &t->http);
        if (rc < 0)
            return rc;
    }
    t->started = 1;
    return inf_start(t->inf);
}

void trigd_set_leading(struct trigd *t, int leading)
{
    t->leading = leading;
    if (leading) {
        /* Ready conditions and slots are the leader's: look at every Trigger. */
        struct lh_entry *e;
        for (e = t->trs->head; e; e = e->next)
            trigd_status_dirty(t, lh_entry_v(e));
    }
    trigd_sched_kick(t);
}

int trigd_synced(const struct trigd *t)
{
    return inf_synced(t->inf);
}

int trigd_port(const struct trigd *t)
{
    return t->http ? http_server_port(t->http) : -ENOTCONN;
}

void trigd_get_stats(const struct trigd *t, struct trigd_stats *out)
{
    *out = t->stats;
    out->triggers = inf_count(t->inf);
}

static void one_closed(struct trigd *t)
{
    if (--t->pending_closes > 0)
        return;
    void (*closed)(void *) = t->closed;
    void *ud = t->closed_ud;
    free_all(t);
    if (closed)
        closed(ud);
}

void trigd_api_begin(struct trigd *t)
{
    t->api_calls++;
}

void trigd_api_end(struct trigd *t)
{
    if (--t->api_calls == 0 && t->closing)
        one_closed(t); /* the API's share of pending_closes */
}

static void on_handle_closed(uv_handle_t *h)
{
    one_closed(h->data);
}

static void on_inf_closed(struct inf *inf, void *ud)
{
    (void)inf;
    one_closed(ud);
}

static void on_http_closed(void *ud)
{
    one_closed(ud);
}

void trigd_close(struct trigd *t, void (*closed)(void *ud), void *ud)
{
    if (t->closing)
        return;
    t->closing = 1;
    t->closed = closed;
    t->closed_ud = ud;
    t->pending_closes = 4 + (t->http != NULL);
    trigd_hook_close_all(t);
    if (t->api_calls == 0)
        t->pending_closes--; /* else the last trigd_api_end */
    if (t->http)
        http_server_close(t->http, on_http_closed, t);
    t->http = NULL;
    uv_close((uv_handle_t *)&t->sched_timer, on_handle_closed);
    uv_close((uv_handle_t *)&t->flush_timer, on_handle_closed);
    inf_close(t->inf, on_inf_closed, t);
}
