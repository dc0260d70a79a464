/* Schedules: the leader fires each Trigger's due slot as one run named
 * "<trigger>-<unix minutes>" (trig_sched_run_name). The name is the
 * guard against firing a slot twice: a new leader, or this one after a
 * restart, recomputes the slot from status.lastScheduleTime and meets
 * AlreadyExists if it had been created. The decision itself (which slot,
 * too late, how many missed) is cron_due's, CronJob's rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson/kjson.h"
#include "log/log.h"
#include "trigd/trigd-internal.h"

#define RECHECK_MS 60000 /* re-plan at least this often (the wall clock may jump) */
#define RETRY_MS 5000    /* after a failed create */

/* The test clock maps real time r to ref + (r - ref) * speed. */
static int64_t virt_s(const struct trigd *t, int64_t real_ms)
{
    if (t->clock_speed <= 1)
        return real_ms / 1000;
    int64_t ref = t->clock_ref_s * 1000;
    return (ref + (int64_t)((double)(real_ms - ref) * t->clock_speed)) / 1000;
}

int64_t trigd_now_s(const struct trigd *t)
{
    return virt_s(t, kj_now_ms());
}

int64_t trigd_wall_s(void)
{
    return kj_now_ms() / 1000;
}

static void on_tick(uv_timer_t *timer);

static const char *fmt_time(int64_t s, char out[32])
{
    kj_time_format(s * 1000, out);
    return out;
}

void trigd_sched_kick(struct trigd *t)
{
    if (t->closing)
        return;
    if (!t->leading || !inf_synced(t->inf)) {
        uv_timer_stop(&t->sched_timer);
        return;
    }
    uv_timer_start(&t->sched_timer, on_tick, 0, 0);
}

struct fire {
    struct trigd *t;
    char ns[64], name[64], uid[64];
    int64_t slot;
};

static void on_fired(void *ud, const struct kube_result *r)
{
    struct fire *f = ud;
    struct trigd *t = f->t;
    struct trigd_tr *tr = t->closing ? NULL : trigd_tr_get(t, f->ns, f->name, f->uid);
    if (tr)
        tr->sched_busy = 0;
    if (r->err == 0 && (r->http_status == 201 || r->http_status == 409)) {
        if (r->http_status == 201) {
            t->stats.scheduled++;
            t->stats.schedule_lag_s = (double)(trigd_now_s(t) - f->slot);
            char when[32];
            log_kv(LOGL_INFO, "schedule created a run", "namespace", f->ns, "trigger", f->name,
                   "slot", fmt_time(f->slot, when), NULL);
        } else
            t->stats.schedule_duplicates++;
        if (tr) {
            tr->fired_slot = f->slot;
            if (r->http_status == 201)
                tr->fired_ms = trigd_now_s(t) * 1000;
            tr->news++;
            snprintf(tr->last_result, sizeof tr->last_result, "%s",
                     r->http_status == 201 ? "Scheduled" : "ScheduledDuplicate");
            trigd_status_dirty(t, tr);
        }
        trigd_sched_kick(t);
    } else if (!t->closing) {
        log_kv(LOGL_WARN, "schedule: run not created, retrying", "namespace", f->ns, "trigger",
               f->name, "error", r->err ? strerror(-r->err) : r->status.message, NULL);
        if (t->leading)
            uv_timer_start(&t->sched_timer, on_tick, RETRY_MS, 0);
    }
    free(f);
    trigd_api_end(t);
}

static void fire(struct trigd *t, const struct trigd_rec *rec, struct trigd_tr *tr, int64_t slot)
{
    char run_name[TRIG_NAME_LEN], delivery[TRIG_DELIVERY_LEN];
    const char *name = inf_rec_name(rec), *ns = inf_rec_namespace(rec);
    if (trig_sched_run_name(name, slot, run_name) < 0)
        return;
    trig_sched_delivery(slot, delivery);
    struct wf_params *params = trig_sched_params(rec->spec);
    struct json_object *extra = kj_obj();
    kj_put(extra, TRIG_ANN_SCHEDULED, kj_str(delivery + strlen("schedule/")));
    struct json_object *run = trig_run_new(rec->spec, name, ns, run_name, delivery, params, extra);
    json_object_put(extra);
    wf_params_free(params);
    struct fire *f = calloc(1, sizeof *f);
    if (!run || !f) {
        json_object_put(run);
        free(f);
        return;
    }
    f->t = t;
    snprintf(f->ns, sizeof f->ns, "%s", ns);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->uid, sizeof f->uid, "%s", rec->uid);
    f->slot = slot;
    tr->sched_busy = 1;
    trigd_api_begin(t);
    int rc = kube_create(t->kc, &KUBE_WORKFLOWRUNS, ns, run, on_fired, f);
    json_object_put(run);
    if (rc < 0) {
        tr->sched_busy = 0;
        free(f);
        trigd_api_end(t);
    }
}

struct plan {
    struct trigd *t;
    int64_t now, next; /* the soonest slot of all: when to look again */
};

/* A Trigger not Ready may be so because of something outside it (its
 * Secret or Workflow missing): look again on each tick, as nothing about
 * the Trigger itself will change when they appear. */
static void recheck_not_ready(struct trigd *t, const struct trigd_rec *rec, struct trigd_tr *tr)
{
    struct json_object *c = kj_cond_find(kj_path(rec->obj, "status", "conditions", NULL), "Ready");
    const char *st = kj_get_str(c, "status");
    if (!st || strcmp(st, "True") != 0)
        trigd_status_dirty(t, tr);
}

static int plan_one(void *ud, const void *r)
{
    struct plan *p = ud;
    struct trigd *t = p->t;
    const struct trigd_rec *rec = r;
    struct trigd_tr *tr = trigd_tr_get(t, inf_rec_namespace(rec), inf_rec_name(rec), rec->uid);
    if (!tr)
        return 0;
    recheck_not_ready(t, rec, tr);
    if (!rec->spec || !rec->has_cron)
        return 0;
    /* A run's creation time is the API server's clock: the test clock
     * maps it like ours. */
    int64_t earliest =
        rec->last_sched_s >= 0 ? rec->last_sched_s : virt_s(t, rec->created_s * 1000);
    if (tr->fired_slot > earliest)
        earliest = tr->fired_slot; /* fired, the status not back yet */
    struct cron_due due;
    if (cron_due(&rec->cron, rec->tz, earliest, p->now, rec->spec->sched.starting_deadline_seconds,
                 &due) < 0)
        return 0;
    int64_t next = due.has_next ? due.next : -1;
    if (next != tr->next_s) {
        tr->next_s = next;
        trigd_status_dirty(t, tr);
    }
    if (due.has_next && due.next < p->next)
        p->next = due.next;
    if (rec->spec->sched.suspend || !due.has_slot || tr->sched_busy)
        return 0;
    if (due.too_late) {
        if (tr->warned_slot != due.slot) {
            tr->warned_slot = due.slot;
            t->stats.schedule_missed++;
            char msg[200], when[32];
            snprintf(msg, sizeof msg,
                     "missed the slot of %s: more than startingDeadlineSeconds "
                     "(%lld) ago",
                     fmt_time(due.slot, when),
                     (long long)rec->spec->sched.starting_deadline_seconds);
            log_kv(LOGL_WARN, "schedule: slot missed", "namespace", tr->ns, "trigger", tr->name,
                   "why", msg, NULL);
            if (t->opt.event)
                t->opt.event(t->opt.event_ud, tr->ns, tr->name, rec->uid, "Warning",
                             "MissedSchedule", msg);
        }
        return 0;
    }
    if (due.many && tr->warned_slot != due.slot) {
        tr->warned_slot = due.slot;
        char msg[200], when[32];
        snprintf(msg, sizeof msg, "more than %d slots were missed; starting only the latest, %s",
                 TRIGD_MISSED_MAX, fmt_time(due.slot, when));
        log_kv(LOGL_WARN, "schedule: too many missed slots", "namespace", tr->ns, "trigger",
               tr->name, NULL);
        if (t->opt.event)
            t->opt.event(t->opt.event_ud, tr->ns, tr->name, rec->uid, "Warning",
                         "TooManyMissedTimes", msg);
    }
    fire(t, rec, tr, due.slot);
    return 0;
}

static void on_tick(uv_timer_t *timer)
{
    struct trigd *t = timer->data;
    if (t->closing || !t->leading)
        return;
    struct plan p = {t, trigd_now_s(t), INT64_MAX};
    inf_foreach(t->inf, plan_one, &p);
    uint64_t delay = RECHECK_MS;
    if (p.next != INT64_MAX) {
        double ms = (double)(p.next - p.now) * 1000.0 / (t->clock_speed > 1 ? t->clock_speed : 1);
        if (ms < (double)delay)
            delay = (uint64_t)(ms < 0 ? 0 : ms) + 5; /* past the slot, not just before */
    }
    uv_timer_start(&t->sched_timer, on_tick, delay, 0);
}
