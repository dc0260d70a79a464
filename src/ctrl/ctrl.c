/* Controller lifecycle: new, start, leading, stop, free; stats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctrl/ctrl-internal.h"
#include "kube/kube.h"
#include "log/log.h"
#include "wf/wf.h"

/* The Event lane's pace (ctrl_events.c): enough for a few runs a second
 * in steady state, and a burst takes at most this share of the API
 * client's rate, so it cannot crowd out creates and DELETEs. */
#define CTRL_EVENTS_QPS 25
#define CTRL_EVENTS_BURST 50

static const char *const inf_names[CTRL_INF_MAX] = {"workflows", "workflowruns", "jobs", "pods"};

static void maybe_stopped(struct ctrl *c);

static char *dupstr(const char *s)
{
    return s ? strdup(s) : NULL;
}

int ctrl_new(uv_loop_t *loop, struct kube_client *kc, const struct ctrl_options *opt,
             struct ctrl **out)
{
    static const struct ctrl_options defaults = {0};
    if (!loop || !kc || !out)
        return -EINVAL;
    if (!opt)
        opt = &defaults;
    struct ctrl *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    c->kc = kc;
    c->work = ctrl_reconcile;
    c->drained = maybe_stopped;
    c->w = ctrl_kube_writer;
    c->w.ud = kc;
    if (opt->writer)
        c->w = *opt->writer;
    int rc = ctrl_crash_wrap(&c->w, &c->crash);
    if (rc < 0) {
        free(c);
        return rc;
    }
    c->workers = opt->workers > 0 ? opt->workers : 16;
    c->ns = dupstr(opt->namespace);
    c->instance = strdup(opt->instance ? opt->instance : "runbook");
    struct wq_config qc;
    wq_config_default(&qc);
    qc.qps = 0; /* the kube client's token bucket already paces writes */
    c->q = wq_new(&qc);
    c->expect = lh_kchar_table_new(16, ctrl_expect_free);
    c->enq = ctrl_stamps_new();
    c->deleted = ctrl_stamps_new();
    c->status_at = ctrl_stamps_new();
    struct ctrl_ev_options eo = {.kc = kc,
                                 .qps = CTRL_EVENTS_QPS,
                                 .burst = CTRL_EVENTS_BURST,
                                 .send = ctrl_writer_send_event,
                                 .send_ud = c};
    if (ctrl_ev_new(loop, &eo, c->instance, &c->events) < 0)
        goto nomem;
    c->jobs_by_run = ctrl_idx_new();
    c->pods_by_run = ctrl_idx_new();
    c->runs_by_label = ctrl_idx_new();
    c->runs_by_wf = ctrl_idx_new();
    c->memo = ctrl_memo_new();
    c->events_all = opt->events_all;
    c->on_teardown_sent = opt->on_teardown_sent;
    c->hook_ud = opt->hook_ud;
    if (!c->instance || (opt->namespace && !c->ns) || !c->q || !c->expect || !c->enq ||
        !c->deleted || !c->status_at || !c->jobs_by_run || !c->pods_by_run || !c->runs_by_label ||
        !c->runs_by_wf || !c->memo)
        goto nomem;
    static const struct kube_resource *const res[CTRL_INF_MAX] = {
        &KUBE_WORKFLOWS, &KUBE_WORKFLOWRUNS, &KUBE_JOBS, &KUBE_PODS};
    static const struct inf_projection *const proj[CTRL_INF_MAX] = {
        &ctrl_obj_projection, &ctrl_run_projection, &ctrl_job_projection, &ctrl_pod_projection};
    /* Only our children: Jobs and pods carrying the run label. */
    static const char *const sel[CTRL_INF_MAX] = {NULL, NULL, "runbook.dev/run", "runbook.dev/run"};
    for (int i = 0; i < CTRL_INF_MAX; i++) {
        void *hud = c;
        const struct inf_handlers *h =
            ctrl_crash_handlers(c->crash, i, &ctrl_handlers[i], res[i]->resource, &hud);
        int r = inf_new(kc, loop, res[i], c->ns, sel[i], NULL, proj[i], h, hud, &c->inf[i]);
        /* A list page is parsed whole before it is projected: 100 objects
         * keep that peak near 10 MB where 500 would reach 50 MB. */
        static const struct inf_options io = {.page_limit = 100};
        if (r == 0)
            r = inf_configure(c->inf[i], &io);
        if (r < 0) {
            ctrl_free(c);
            return r;
        }
    }
    uv_timer_init(loop, &c->pump);
    c->pump.data = c;
    *out = c;
    return 0;
nomem:
    ctrl_free(c);
    return -ENOMEM;
}

int ctrl_start(struct ctrl *c)
{
    if (c->started)
        return -EBUSY;
    c->started = 1;
    for (int i = 0; i < CTRL_INF_MAX; i++) {
        int r = inf_start(c->inf[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static int enqueue_all(void *ud, const void *rec)
{
    struct ctrl *c = ((void **)ud)[0];
    char kind = *(char *)((void **)ud)[1];
    ctrl_enqueue(c, kind, inf_rec_namespace(rec), inf_rec_name(rec));
    return 0;
}

void ctrl_set_leading(struct ctrl *c, int leading)
{
    if (c->leading == !!leading)
        return;
    c->leading = !!leading;
    if (!c->leading)
        return;
    /* A new leader does not know what the old one saw: look at everything. */
    char w = 'w', r = 'r';
    void *a[2] = {c, &w}, *b[2] = {c, &r};
    inf_foreach(c->inf[CTRL_INF_WORKFLOWS], enqueue_all, a);
    inf_foreach(c->inf[CTRL_INF_RUNS], enqueue_all, b);
}

int ctrl_leading(const struct ctrl *c)
{
    return c->leading;
}

static void pump_closed(uv_handle_t *h)
{
    struct ctrl *c = h->data;
    c->pump_closed = 1;
    maybe_stopped(c);
}

static void inf_closed(struct inf *inf, void *ud)
{
    (void)inf;
    struct ctrl *c = ud;
    c->closing_infs--;
    maybe_stopped(c);
}

static void events_closed(void *ud)
{
    struct ctrl *c = ud;
    c->events_closed = 1;
    maybe_stopped(c);
}

static void maybe_stopped(struct ctrl *c)
{
    if (c->in_flight || c->awaiting)
        return;
    if (c->closing_infs < 0) { /* writes drained: now close the informers */
        c->closing_infs = 0;
        for (int i = 0; i < CTRL_INF_MAX; i++)
            if (c->inf[i]) {
                c->closing_infs++;
                inf_close(c->inf[i], inf_closed, c);
            }
        if (!uv_is_closing((uv_handle_t *)&c->pump))
            uv_close((uv_handle_t *)&c->pump, pump_closed);
        ctrl_ev_close(c->events, events_closed, c);
        return;
    }
    if (c->closing_infs == 0 && c->pump_closed && c->events_closed && c->stopped) {
        void (*cb)(void *) = c->stopped;
        c->stopped = NULL;
        cb(c->stopped_ud);
    }
}

void ctrl_stop(struct ctrl *c, void (*stopped)(void *ud), void *ud)
{
    if (c->stopping)
        return;
    c->stopping = 1;
    c->stopped = stopped;
    c->stopped_ud = ud;
    c->closing_infs = -1;
    wq_shutdown(c->q);
    uv_timer_stop(&c->pump);
    log_kv(LOGL_INFO, "controller stopping", "writes_in_flight",
           c->in_flight || c->awaiting ? "yes" : "no", NULL);
    maybe_stopped(c);
}

void ctrl_free(struct ctrl *c)
{
    if (!c)
        return;
    for (int i = 0; i < CTRL_INF_MAX; i++)
        inf_free(c->inf[i]);
    wq_free(c->q);
    if (c->expect)
        lh_table_free(c->expect);
    ctrl_stamps_free(c->enq);
    ctrl_stamps_free(c->deleted);
    ctrl_stamps_free(c->status_at);
    ctrl_ev_free(c->events);
    ctrl_idx_free(c->jobs_by_run);
    ctrl_idx_free(c->pods_by_run);
    ctrl_idx_free(c->runs_by_label);
    ctrl_idx_free(c->runs_by_wf);
    ctrl_memo_free(c->memo);
    ctrl_crash_free(c->crash);
    free(c->ns);
    free(c->instance);
    free(c);
}

static int count_phase(void *ud, const void *rec)
{
    uint64_t *by = ud;
    const struct ctrl_run *r = rec;
    by[r->sib.phase]++;
    return 0;
}

void ctrl_get_stats(const struct ctrl *c, struct ctrl_stats *out)
{
    *out = c->stats;
    memset(out->runs_by_phase, 0, sizeof out->runs_by_phase);
    if (c->inf[CTRL_INF_RUNS])
        inf_foreach(c->inf[CTRL_INF_RUNS], count_phase, out->runs_by_phase);
    out->queue_depth = wq_len(c->q);
    struct ctrl_ev_stats es;
    ctrl_ev_stats(c->events, &es);
    out->events = es.sent;
    out->events_dropped = es.dropped;
}

size_t ctrl_informer_count(void)
{
    return CTRL_INF_MAX;
}

const char *ctrl_informer_name(size_t i)
{
    return i < CTRL_INF_MAX ? inf_names[i] : "";
}

void ctrl_informer_stats(const struct ctrl *c, size_t i, struct inf_stats *out)
{
    memset(out, 0, sizeof *out);
    if (i < CTRL_INF_MAX && c->inf[i])
        inf_get_stats(c->inf[i], out);
}

struct json_object *ctrl_workflow(const struct ctrl *c, const char *ns, const char *name)
{
    const struct ctrl_obj *o = inf_get(c->inf[CTRL_INF_WORKFLOWS], ns, name);
    return o ? o->obj : NULL;
}

void ctrl_observe_runs(struct ctrl *c, ctrl_run_fn fn, void *ud)
{
    c->run_observer = fn;
    c->run_observer_ud = ud;
}

struct runs_each {
    ctrl_run_fn fn;
    void *ud;
};

static int run_each(void *ud, const void *rec)
{
    const struct runs_each *e = ud;
    const struct ctrl_run *r = rec;
    e->fn(e->ud, inf_rec_namespace(rec), inf_rec_name(rec), r->json, r->len);
    return 0;
}

void ctrl_runs_each(const struct ctrl *c, ctrl_run_fn fn, void *ud)
{
    struct runs_each e = {fn, ud};
    (void)inf_foreach(c->inf[CTRL_INF_RUNS], run_each, &e);
}

int ctrl_run_get(const struct ctrl *c, const char *ns, const char *name, ctrl_run_fn fn, void *ud)
{
    const struct ctrl_run *r = inf_get(c->inf[CTRL_INF_RUNS], ns, name);
    if (!r)
        return 0;
    fn(ud, ns, name, r->json, r->len);
    return 1;
}

void ctrl_observe_workflows(struct ctrl *c, ctrl_obj_fn fn, void *ud)
{
    c->wf_observer = fn;
    c->wf_observer_ud = ud;
}

struct objs_each {
    ctrl_obj_fn fn;
    void *ud;
};

static int obj_each(void *ud, const void *rec)
{
    const struct objs_each *e = ud;
    e->fn(e->ud, inf_rec_namespace(rec), inf_rec_name(rec), ((const struct ctrl_obj *)rec)->obj);
    return 0;
}

void ctrl_workflows_each(const struct ctrl *c, ctrl_obj_fn fn, void *ud)
{
    struct objs_each e = {fn, ud};
    (void)inf_foreach(c->inf[CTRL_INF_WORKFLOWS], obj_each, &e);
}

int ctrl_step_pod(const struct ctrl *c, const char *ns, const char *run, const char *job, char *pod,
                  size_t cap)
{
    char label[WF_NAME_LEN];
    if (wf_label_value(run, label) < 0)
        return 0;
    size_t len;
    const char *names = ctrl_idx_get(c->pods_by_run, ns, label, &len);
    const struct ctrl_pod *best = NULL;
    const char *best_name = NULL;
    CTRL_IDX_FOREACH(name, names, len)
    {
        const struct ctrl_pod *p = inf_get(c->inf[CTRL_INF_PODS], ns, name);
        if (!p || strcmp(ctrl_pod_job(p), job) != 0)
            continue;
        /* A running attempt beats a finished one; then the newest. */
        int live = !p->terminated, best_live = best && !best->terminated;
        if (!best || live > best_live || (live == best_live && p->created_ms > best->created_ms)) {
            best = p;
            best_name = name;
        }
    }
    if (!best)
        return 0;
    snprintf(pod, cap, "%s", best_name);
    return 1;
}

void ctrl_trigger_event(struct ctrl *c, const char *ns, const char *name, const char *uid,
                        const char *type, const char *reason, const char *message)
{
    struct plan_action a = {0};
    snprintf(a.type, sizeof a.type, "%s", type);
    snprintf(a.reason, sizeof a.reason, "%s", reason);
    snprintf(a.message, sizeof a.message, "%s", message);
    ctrl_ev_push(c->events, 't', ns, name, uid, &a, ctrl_wall_ms());
}
