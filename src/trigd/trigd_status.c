/* Trigger status. Two writers share it, by field:
 *   - the leader: conditions (Ready), kind, observedGeneration,
 *     lastScheduleTime, nextScheduleTime;
 *   - whichever replica served a delivery: lastDelivery, lastFired,
 *     lastResult, and deliveries (counters by result).
 * Writes are JSON merge patches of /status, coalesced for TRIGD_FLUSH_MS,
 * and made only when something differs from the cached object. A patch
 * that adds to the counters carries the cached resourceVersion: two
 * replicas adding at once get a 409 for one of them, which adds again on
 * the newer object. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson/kjson.h"
#include "log/log.h"
#include "trigd/trigd-internal.h"

void trigd_status_dirty(struct trigd *t, struct trigd_tr *tr)
{
    if (!tr || t->closing)
        return;
    tr->dirty = 1;
    if (!uv_is_active((uv_handle_t *)&t->flush_timer))
        uv_timer_start(&t->flush_timer, trigd_status_flush, TRIGD_FLUSH_MS, 0);
}

/* A Secret read ended: the Trigger that asked is still dirty; look again. */
static void secret_known(void *ud)
{
    struct trigd *t = ud;
    if (!t->closing && !uv_is_active((uv_handle_t *)&t->flush_timer))
        uv_timer_start(&t->flush_timer, trigd_status_flush, 0, 0);
}

static const char *kind_of(const struct trig_spec *s)
{
    return s->has_webhook && s->has_schedule ? "webhook+schedule"
           : s->has_webhook                  ? "webhook"
                                             : "schedule";
}

/* The Ready condition the leader wants; 0, or 1 when it cannot tell yet
 * (the Secret is being read). */
static int ready(struct trigd *t, const struct trigd_rec *rec, struct trigd_tr *tr,
                 const char **status, const char **reason, char *msg, size_t len)
{
    *status = "False";
    if (!rec->spec) {
        *reason = rec->err_reason;
        snprintf(msg, len, "%s", rec->err);
        return 0;
    }
    if (rec->spec->has_schedule && !rec->has_cron) {
        *reason = rec->err_reason;
        snprintf(msg, len, "%s", rec->err);
        return 0;
    }
    if (rec->spec->has_webhook) {
        const char *val = NULL, *why = NULL;
        size_t n = 0;
        const struct trig_webhook *h = &rec->spec->hook;
        if (!trigd_secret_cached(t, tr->ns, h->secret_name, h->secret_key, &val, &n, &why)) {
            if (trigd_secret_read(t, tr->ns, h->secret_name, h->secret_key, secret_known, t) == 0)
                return 1;
        } else if (!val) {
            *reason = "SecretNotFound";
            snprintf(msg, len, "%s", why);
            return 0;
        }
    }
    if (t->opt.workflow && !t->opt.workflow(t->opt.workflow_ud, tr->ns, rec->spec->workflow)) {
        *reason = "WorkflowNotFound";
        snprintf(msg, len, "Workflow %s does not exist (yet): its runs wait for it",
                 rec->spec->workflow);
        return 0;
    }
    *status = "True";
    if (rec->spec->has_schedule && rec->spec->sched.suspend) {
        *reason = "Suspended";
        snprintf(msg, len, "the schedule is suspended%s",
                 rec->spec->has_webhook ? "; the webhook is served" : "");
        return 0;
    }
    *reason = "Ready";
    snprintf(msg, len, "%s",
             rec->spec->has_webhook ? "POST /hooks/<namespace>/<name> is served"
                                    : "the schedule is armed");
    return 0;
}

static int same_str(struct json_object *st, const char *key, const char *want)
{
    const char *have = kj_get_str(st, key);
    return have && want && strcmp(have, want) == 0;
}

static int same_time(struct json_object *st, const char *key, int64_t s)
{
    char want[32];
    kj_time_format(s * 1000, want);
    return same_str(st, key, want);
}

static void put_time(struct json_object *o, const char *key, int64_t s)
{
    kj_put_time(o, key, s * 1000);
}

struct flush {
    struct trigd *t;
    char ns[64], name[64];
};

static void on_patched(void *ud, const struct kube_result *r)
{
    struct flush *f = ud;
    struct trigd *t = f->t;
    char key[160];
    snprintf(key, sizeof key, "%s/%s", f->ns, f->name);
    struct trigd_tr *tr = NULL;
    if (!t->closing && lh_table_lookup_ex(t->trs, key, (void **)&tr)) {
        tr->flushing = 0;
        if (r->err == 0 && r->http_status == 200) {
            t->stats.status_writes++;
            for (int i = 0; i < TRIGD_RESULT_MAX; i++)
                tr->delta[i] -= tr->sending[i];
            tr->news -= tr->news_sending;
        } else if (r->http_status == 404) {
            lh_table_delete(t->trs, key); /* the Trigger is gone */
            tr = NULL;
        } else {
            if (r->http_status == 409)
                t->stats.status_conflicts++;
            else
                log_kv(LOGL_WARN, "trigger status not written, retrying", "namespace", f->ns,
                       "trigger", f->name, "error", r->err ? strerror(-r->err) : r->status.message,
                       NULL);
            tr->dirty = 1;
        }
        if (tr) {
            memset(tr->sending, 0, sizeof tr->sending);
            if (tr->dirty)
                trigd_status_dirty(t, tr);
        }
    }
    free(f);
    trigd_api_end(t);
}

/* Writes what differs for tr, if anything. */
static void flush_one(struct trigd *t, struct trigd_tr *tr)
{
    const struct trigd_rec *rec = trigd_rec_get(t, tr->ns, tr->name);
    tr->dirty = 0;
    if (!rec || strcmp(rec->uid, tr->uid) != 0)
        return;
    struct json_object *cur = kj_get(rec->obj, "status");
    struct json_object *st = kj_obj();
    int n = 0, counters = 0;
    if (t->leading) {
        const char *status, *reason;
        char msg[600];
        if (ready(t, rec, tr, &status, &reason, msg, sizeof msg) == 1)
            tr->dirty = 1; /* the Secret read will tell */
        else {
            struct json_object *old = kj_get(cur, "conditions");
            struct json_object *c = kj_cond_find(old, "Ready");
            if (!c || !same_str(c, "status", status) || !same_str(c, "reason", reason) ||
                !same_str(c, "message", msg) ||
                json_object_get_int64(kj_get(c, "observedGeneration")) != rec->generation) {
                struct json_object *arr = kj_arr();
                kj_cond_add(arr, old, "Ready", status, reason, msg, rec->generation,
                            (int64_t)trigd_now_s(t) * 1000);
                kj_put(st, "conditions", arr);
                kj_put(st, "observedGeneration", kj_int(rec->generation));
                n++;
            }
        }
        if (rec->spec && !same_str(cur, "kind", kind_of(rec->spec))) {
            kj_put(st, "kind", kj_str(kind_of(rec->spec)));
            n++;
        }
        if (tr->fired_slot > rec->last_sched_s) {
            put_time(st, "lastScheduleTime", tr->fired_slot);
            n++;
        }
        if (tr->next_s >= 0 && !same_time(cur, "nextScheduleTime", tr->next_s)) {
            put_time(st, "nextScheduleTime", tr->next_s);
            n++;
        }
    }
    tr->news_sending = tr->news;
    if (tr->news && tr->fired_ms / 1000 > 0 && !same_time(cur, "lastFired", tr->fired_ms / 1000)) {
        put_time(st, "lastFired", tr->fired_ms / 1000);
        n++;
    }
    if (tr->news && tr->last_result[0] && !same_str(cur, "lastResult", tr->last_result)) {
        kj_put(st, "lastResult", kj_str(tr->last_result));
        n++;
    }
    for (int i = 0; i < TRIGD_RESULT_MAX; i++)
        counters |= tr->delta[i] != 0;
    if (counters) {
        struct json_object *old = kj_get(cur, "deliveries"), *d = kj_obj();
        for (int i = 0; i < TRIGD_RESULT_MAX; i++) {
            const char *k = trigd_result_name((enum trigd_result)i);
            int64_t v = json_object_get_int64(kj_get(old, k)) + (int64_t)tr->delta[i];
            if (v)
                kj_put(d, k, kj_int(v));
            tr->sending[i] = tr->delta[i];
        }
        kj_put(st, "deliveries", d);
        struct json_object *ld = kj_obj();
        /* A merge patch keeps what it does not name: null clears. */
        kj_put(ld, "id", tr->last_id[0] ? kj_str(tr->last_id) : NULL);
        put_time(ld, "time", tr->last_ms / 1000);
        kj_put(ld, "result", kj_str(tr->last_result));
        kj_put(ld, "code", kj_int(tr->last_code));
        kj_put(ld, "run", tr->last_run[0] ? kj_str(tr->last_run) : NULL);
        kj_put(st, "lastDelivery", ld);
        n++;
    }
    if (n == 0) {
        tr->news -= tr->news_sending; /* already what the object says */
        json_object_put(st);
        return;
    }
    struct json_object *body = kj_obj();
    if (counters) {
        struct json_object *meta = kj_obj();
        kj_put(meta, "resourceVersion", kj_str(inf_rec_rv(rec)));
        kj_put(body, "metadata", meta);
    }
    kj_put(body, "status", st);
    size_t len = 0;
    const char *text = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
    struct flush *f = calloc(1, sizeof *f);
    struct kube_patch_opts po = {.type = KUBE_PATCH_MERGE, .status = 1};
    if (f) {
        f->t = t;
        snprintf(f->ns, sizeof f->ns, "%s", tr->ns);
        snprintf(f->name, sizeof f->name, "%s", tr->name);
        tr->flushing = 1;
        trigd_api_begin(t);
        if (kube_patch(t->kc, &KUBE_TRIGGERS, tr->ns, tr->name, text, len, &po, on_patched, f) <
            0) {
            trigd_api_end(t);
            tr->flushing = 0;
            tr->dirty = 1;
            memset(tr->sending, 0, sizeof tr->sending);
            tr->news_sending = 0;
            free(f);
        }
    } else
        tr->dirty = 1;
    json_object_put(body);
}

void trigd_status_flush(uv_timer_t *timer)
{
    struct trigd *t = timer->data;
    if (t->closing)
        return;
    int again = 0;
    struct lh_entry *e;
    for (e = t->trs->head; e; e = e->next) {
        struct trigd_tr *tr = lh_entry_v(e);
        if (tr->dirty && !tr->flushing)
            flush_one(t, tr);
        again |= tr->dirty;
    }
    if (again)
        uv_timer_start(&t->flush_timer, trigd_status_flush, TRIGD_FLUSH_MS, 0);
}
