/* metrics.c - the operator's /metrics families, from the modules' stats. */
#include "operator/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ctrl/ctrl.h"
#include "informer/inf.h"
#include "kube/kube.h"
#include "plan/plan.h"
#include "trigd/trigd.h"
#include "ui/ui.h"

#ifndef RUNBOOK_VERSION
#define RUNBOOK_VERSION "unknown"
#endif

int metrics_process_read(struct metrics_process *out)
{
    memset(out, 0, sizeof *out);
    int err = 0;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        out->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    } else {
        err = -errno;
    }
    /* statm: size resident shared text lib data dt, in pages. */
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long resident = 0;
    if (!f)
        return -errno;
    char line[256];
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (ok) {
        /* The first two fields, size and resident, must both be numbers. */
        char *size_end, *res_end;
        (void)strtoull(line, &size_end, 10);
        resident = strtoull(size_end, &res_end, 10);
        ok = size_end != line && res_end != size_end;
    }
    if (!ok)
        err = -EIO;
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0)
        out->resident_bytes = (uint64_t)resident * (uint64_t)page;
    return err;
}

static void counter(struct metrics_buf *b, const char *name, const char *help, uint64_t v)
{
    metrics_family(b, name, METRICS_COUNTER, help);
    metrics_sample_u64(b, name, v, NULL);
}

static void gauge(struct metrics_buf *b, const char *name, const char *help, double v)
{
    metrics_family(b, name, METRICS_GAUGE, help);
    metrics_sample(b, name, v, NULL);
}

static void hist(struct metrics_buf *b, const char *name, const char *help,
                 const struct ctrl_hist *h)
{
    struct metrics_hist mh = {.n = CTRL_HIST_BUCKETS,
                              .bounds = ctrl_hist_bounds,
                              .buckets = h->buckets,
                              .count = h->count,
                              .sum = h->sum};
    metrics_family(b, name, METRICS_HISTOGRAM, help);
    metrics_histogram(b, name, &mh, NULL);
}

static void render_ctrl(struct metrics_buf *b, const struct ctrl_stats *cs)
{
    const char *name = "runbook_workflowruns";
    metrics_family(b, name, METRICS_GAUGE, "WorkflowRuns in the cache, by status.phase.");
    size_t n_phases = sizeof cs->runs_by_phase / sizeof cs->runs_by_phase[0];
    for (size_t i = 0; i < n_phases; i++) {
        /* A run whose status was never written has no phase yet; an empty
         * label value would read as "no label" in PromQL. */
        const char *phase = plan_phase_name((enum plan_phase)i);
        metrics_sample_u64(b, name, cs->runs_by_phase[i], "phase", *phase ? phase : "Unknown",
                           NULL);
    }

    name = "runbook_step_outcomes_total";
    metrics_family(b, name, METRICS_COUNTER, "Steps that ended, by outcome.");
    metrics_sample_u64(b, name, cs->steps_succeeded, "outcome", "succeeded", NULL);
    metrics_sample_u64(b, name, cs->steps_failed, "outcome", "failed", NULL);

    counter(b, "runbook_reconcile_total", "Reconciles (plans computed).", cs->reconciles);
    counter(b, "runbook_reconcile_errors_total",
            "Reconciles whose writes failed and were requeued.", cs->reconcile_errors);
    hist(b, "runbook_reconcile_duration_seconds",
         "Time to plan a reconcile and perform its writes.", &cs->reconcile_seconds);
    gauge(b, "runbook_workqueue_depth", "Keys waiting in the work queue.", (double)cs->queue_depth);
    hist(b, "runbook_teardown_duration_seconds",
         "Time from the start of a run's teardown to its terminal phase.", &cs->teardown_seconds);
    counter(b, "runbook_jobs_created_total", "Jobs created for steps.", cs->jobs_created);
    counter(b, "runbook_jobs_deleted_total", "Jobs deleted by the operator.", cs->jobs_deleted);
    counter(b, "runbook_pods_deleted_total",
            "Live pods of torn-down Jobs deleted directly, not left to the garbage collector.",
            cs->pods_deleted);
    counter(b, "runbook_pod_lists_total",
            "Consistent LISTs of a run's pods made before trusting the pod cache (a torn-down "
            "run going terminal, or starting its finally steps).",
            cs->pod_lists);
    counter(b, "runbook_pod_lists_unseen_total",
            "Of those, the LISTs that found a running pod of the run the pod watch had not "
            "delivered yet.",
            cs->pod_lists_unseen);
    counter(b, "runbook_status_writes_total", "Status patches written.", cs->status_writes);
    counter(b, "runbook_status_coalesced_total",
            "Status patches held back to share a later write (at most one a second per run).",
            cs->status_coalesced);
    counter(b, "runbook_events_total", "Kubernetes Events recorded about runs and Workflows.",
            cs->events);
    counter(b, "runbook_events_dropped_total",
            "Events not recorded: their queue was full (they are paced at 25/s), or the operator "
            "was stopping.",
            cs->events_dropped);
    hist(b, "runbook_teardown_dispatch_seconds",
         "Time from the watch event that started a teardown to its last Job DELETE sent.",
         &cs->dispatch_seconds);
}

static void render_informers(struct metrics_buf *b, const struct metrics_informer *infs, size_t n)
{
    static const struct {
        const char *name, *help;
        enum metrics_type type;
        size_t off;
    } fams[] = {
        {"runbook_watch_restarts_total", "Watches reopened after the first, by resource.",
         METRICS_COUNTER, offsetof(struct inf_stats, watch_restarts)},
        {"runbook_relists_total", "Full lists after the first (410 Gone), by resource.",
         METRICS_COUNTER, offsetof(struct inf_stats, relists)},
        {"runbook_cache_objects", "Objects in the informer cache, by resource.", METRICS_GAUGE,
         offsetof(struct inf_stats, objects)},
    };
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        metrics_family(b, fams[f].name, fams[f].type, fams[f].help);
        for (size_t i = 0; i < n; i++) {
            uint64_t v;
            memcpy(&v, (const char *)infs[i].stats + fams[f].off, sizeof v);
            metrics_sample_u64(b, fams[f].name, v, "resource", infs[i].resource, NULL);
        }
    }
}

static void render_kube(struct metrics_buf *b, const struct kube_stats *ks)
{
    /* kube_stats keeps outcomes per verb only by class, and exact codes only
     * across verbs; two families keep each faithful, so that sum() over
     * either one is the number of attempts that got an outcome. */
    const char *name = "runbook_api_requests_total";
    metrics_family(b, name, METRICS_COUNTER,
                   "API attempts (retries included) by verb and status class; "
                   "code=\"<error>\" when no response arrived.");
    static const char *const classes[6] = {"<error>", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int v = 0; v < KUBE_VERB_MAX; v++) {
        for (int c = 0; c < 6; c++) {
            /* Informational responses never end an attempt in practice:
             * keep the common series present from the start, skip 1xx. */
            if (c == 1 && !ks->by_class[v][c])
                continue;
            metrics_sample_u64(b, name, ks->by_class[v][c], "verb",
                               kube_verb_name((enum kube_verb)v), "code", classes[c], NULL);
        }
    }

    name = "runbook_api_responses_total";
    metrics_family(b, name, METRICS_COUNTER, "API responses by exact status code, all verbs.");
    for (int code = 100; code < KUBE_STATS_MAX_CODE; code++) {
        if (!ks->by_code[code])
            continue;
        char c[8];
        snprintf(c, sizeof c, "%d", code);
        metrics_sample_u64(b, name, ks->by_code[code], "code", c, NULL);
    }

    counter(b, "runbook_api_retries_total", "API attempts that were retries.", ks->retries);
    gauge(b, "runbook_api_in_flight", "API requests and watches not finished.",
          (double)ks->in_flight);
    metrics_family(b, "runbook_api_ratelimit_wait_seconds_total", METRICS_COUNTER,
                   "Time requests waited for the client-side token bucket.");
    metrics_sample(b, "runbook_api_ratelimit_wait_seconds_total",
                   (double)ks->ratelimit_wait_ms / 1000.0, NULL);
}

int metrics_render_operator(struct metrics_buf *b, const struct ctrl_stats *cs,
                            const struct metrics_informer *infs, size_t n_infs,
                            const struct kube_stats *ks, int leading,
                            const struct metrics_process *proc)
{
    metrics_family(b, "runbook_build_info", METRICS_GAUGE, "Always 1; the version as a label.");
    metrics_sample_u64(b, "runbook_build_info", 1, "version", RUNBOOK_VERSION, NULL);
    gauge(b, "runbook_leader", "1 while this replica performs writes (holds the lease).",
          leading ? 1 : 0);
    if (cs)
        render_ctrl(b, cs);
    if (infs && n_infs)
        render_informers(b, infs, n_infs);
    if (ks)
        render_kube(b, ks);
    if (proc) {
        gauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.",
              (double)proc->resident_bytes);
        metrics_family(b, "process_cpu_seconds_total", METRICS_COUNTER,
                       "Total user and system CPU time spent in seconds.");
        metrics_sample(b, "process_cpu_seconds_total", proc->cpu_seconds, NULL);
    }
    return b->err;
}

static void delivery_sample(void *ud, const char *ns, const char *name, enum trigd_result r,
                            uint64_t n)
{
    metrics_sample_u64(ud, "runbook_trigger_deliveries_total", n, "namespace", ns, "trigger", name,
                       "result", trigd_result_name(r), NULL);
}

int metrics_render_triggers(struct metrics_buf *b, const struct trigd *t,
                            const struct kube_stats *ks)
{
    if (!t)
        return b->err;
    struct trigd_stats st;
    trigd_get_stats(t, &st);
    metrics_family(b, "runbook_trigger_deliveries_total", METRICS_COUNTER,
                   "Webhook deliveries this replica answered, by Trigger and result.");
    trigd_foreach_counter(t, delivery_sample, b);
    counter(b, "runbook_trigger_unknown_requests_total",
            "Requests to the webhook listener naming no Trigger (404s; one series, so a "
            "scanner cannot make new ones).",
            st.unknown);
    metrics_family(b, "runbook_trigger_scheduled_runs_total", METRICS_COUNTER,
                   "Runs created by schedules (this replica, as leader).");
    metrics_sample_u64(b, "runbook_trigger_scheduled_runs_total", st.scheduled, NULL);
    metrics_family(b, "runbook_trigger_schedule_missed_total", METRICS_COUNTER,
                   "Slots not fired: past startingDeadlineSeconds.");
    metrics_sample_u64(b, "runbook_trigger_schedule_missed_total", st.schedule_missed, NULL);
    gauge(b, "runbook_trigger_schedule_lag_seconds",
          "The last scheduled run: its creation time minus its slot's time.", st.schedule_lag_s);
    gauge(b, "runbook_triggers", "Triggers cached.", (double)st.triggers);
    if (ks) {
        /* The Triggers' own client (--webhook-qps): its waits are not in
         * runbook_api_*, which is the controller's client. */
        uint64_t sent = 0;
        for (int v = 0; v < KUBE_VERB_MAX; v++)
            sent += ks->requests[v];
        counter(b, "runbook_trigger_api_requests_total",
                "API attempts of the Triggers' client (run creates, Secret reads, status).", sent);
        metrics_family(b, "runbook_trigger_api_ratelimit_wait_seconds_total", METRICS_COUNTER,
                       "Time the Triggers' requests waited for --webhook-qps tokens.");
        metrics_sample(b, "runbook_trigger_api_ratelimit_wait_seconds_total",
                       (double)ks->ratelimit_wait_ms / 1000.0, NULL);
    }
    return b->err;
}

int metrics_render_ui(struct metrics_buf *b, const struct ui *u)
{
    if (!u)
        return b->err;
    struct ui_stats st;
    ui_get_stats(u, &st);
    counter(b, "runbook_ui_sessions_total", "WebSocket sessions the web UI opened.", st.sessions);
    gauge(b, "runbook_ui_websocket_clients", "Web UI WebSockets open now.",
          (double)st.sessions_open);
    counter(b, "runbook_ui_signins_total", "Web UI sign-ins the API server accepted.", st.signins);
    counter(b, "runbook_ui_signins_failed_total",
            "Web UI sign-ins refused (the token did not authenticate).", st.signins_failed);
    metrics_family(b, "runbook_ui_writes_total", METRICS_COUNTER,
                   "Writes (cancel) sent with a person's token, by result: ok, refused (4xx "
                   "from the API server: RBAC, admission), failed.");
    metrics_sample_u64(b, "runbook_ui_writes_total", st.writes_ok, "result", "ok", NULL);
    metrics_sample_u64(b, "runbook_ui_writes_total", st.writes_refused, "result", "refused", NULL);
    metrics_sample_u64(b, "runbook_ui_writes_total", st.writes_failed, "result", "failed", NULL);
    counter(b, "runbook_ui_messages_received_total", "WebSocket messages from browsers.",
            st.messages_in);
    counter(b, "runbook_ui_messages_sent_total", "WebSocket messages to browsers.",
            st.messages_out);
    counter(b, "runbook_ui_bad_messages_total", "Browser messages refused as malformed.",
            st.bad_messages);
    counter(b, "runbook_ui_slow_clients_closed_total",
            "WebSockets closed because the browser did not read what was sent.", st.slow_closed);
    counter(b, "runbook_ui_log_streams_total",
            "Step logs streamed to browsers with the person's token.", st.log_streams);
    return b->err;
}
