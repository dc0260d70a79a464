/* bench_plan - the CPU cost of one reconcile of a WorkflowRun, no cluster:
 * what src/ctrl/ctrl_exec.c does between taking a run's key from the queue
 * and handing its writes to the API client (plan_for, then the text of the
 * status patch), for runs whose steps all run, in caches that hold a fleet
 * of other runs and their Jobs and pods (100,000 Jobs by default).
 *
 * The measured runs are brought to their state by plan_run itself, as the
 * controller and the API server would: plan, apply the plan (the status
 * merged into the run, each created Job given a uid and a running pod, as
 * kube-controller-manager and the kubelet would), plan again, until a plan
 * writes nothing. Every object goes into the controller's own caches
 * through its own projections (ctrl_run_projection: the run's JSON text;
 * ctrl_job_projection / ctrl_pod_projection: the packed records), with the
 * owner indexes the handlers keep (ctrl_idx). The fleet is copies of the
 * 5-step run, its Jobs and its pods, renamed.
 *
 * One reconcile (plan_for in ctrl_exec.c, mirrored here stage by stage):
 *   parse    ctrl_run_parse: the cached JSON text of the run to a json-c tree
 *   gather   its Jobs and pods through the indexes, expanded to plan_job /
 *            plan_pod, the deleted overlay and the memo looked up, the
 *            runs of the same Workflow copied as siblings
 *   plan     plan_run
 *   patch    the PATCH_STATUS body to text (ctrl_exec.c start_write), if any
 * and `reconcile`, all of them in one go plus the releases. Not included:
 * the work queue, the expectations check, and the writes (the API client
 * serializes a created Job's body itself; a steady run creates none).
 *
 * Cases: runs of Workflows of 5, 50 and 100 (the most the CRD takes)
 * independent steps, and of one step whose matrix has 256 combinations
 * (the most a matrix may have), bench_controller's shapes, each with every
 * Job and pod Running, each the only run of its Workflow:
 *   steady     nothing changed since the last plan (it writes nothing)
 *   step ended the first step's pod Succeeded and its Job Complete: one
 *              status patch (and a StepSucceeded Event, which ctrl_exec.c
 *              sends only with --events=all)
 *   the fleet's Workflow: a 5-step run whose Workflow is the fleet's, so
 *              every fleet run is its sibling (gather copies each one for
 *              plan_run).
 *
 * Times are CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID);
 * each figure is the best of 3 rounds of at least `seconds` each. Also
 * printed: the heap (mallinfo2) the fleet's runs, Jobs and pods cost in
 * the caches, per object, indexes included.
 *
 * Usage: bench_plan [tracked Jobs, default 100000] [seconds per round, default 0.3]
 *                   [only the cases whose name has TEXT] */
#define BENCH_NAME "bench_plan"
#include "bench_util.h"
#include "ctrl/ctrl-internal.h"
#include "informer/inf_cache.h"
#include "kjson/kjson.h"
#include "plan/plan.h"
#include "wf/wf.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#define NS "team-a"
#define T0 1796688000000LL /* 2026-12-08T00:00:00Z */
#define SEC 1000LL
#define FLEET_STEPS 5

/* ---- the controller's caches and indexes ------------------------------------ */

/* What ctrl_exec.c reads: the four caches, the owner indexes the handlers
 * keep (ctrl_handlers.c), the deleted overlay and the memo. */
struct world {
    struct inf_cache *wfs, *runs, *jobs, *pods;
    struct ctrl_idx *jobs_by_run, *pods_by_run, *runs_by_label, *runs_by_wf;
    struct ctrl_stamps *deleted;
    struct ctrl_memo *memo;
    long rv;
    long uid;
};

static void index_add(struct ctrl_idx *x, const void *rec, const char *owner)
{
    if (owner[0] && ctrl_idx_add(x, inf_rec_namespace(rec), owner, inf_rec_name(rec)) < 0)
        die("index: out of memory");
}

static void run_added(void *ud, const void *rec)
{
    struct world *w = ud;
    const struct ctrl_run *r = rec;
    char label[WF_NAME_LEN];
    if (wf_label_value(inf_rec_name(rec), label) < 0)
        label[0] = '\0';
    index_add(w->runs_by_wf, rec, r->workflow);
    index_add(w->runs_by_label, rec, label);
}

static void job_added(void *ud, const void *rec)
{
    struct world *w = ud;
    index_add(w->jobs_by_run, rec, ctrl_job_run(rec));
}

static void pod_added(void *ud, const void *rec)
{
    struct world *w = ud;
    index_add(w->pods_by_run, rec, ctrl_pod_run(rec));
}

/* Updates in this bench keep the owner: nothing to move (index_move). */
static void updated(void *ud, const void *old_rec, const void *new_rec)
{
    (void)ud;
    (void)old_rec;
    (void)new_rec;
}

static const struct inf_handlers run_h = {run_added, updated, NULL, NULL};
static const struct inf_handlers job_h = {job_added, updated, NULL, NULL};
static const struct inf_handlers pod_h = {pod_added, updated, NULL, NULL};

static void world_init(struct world *w)
{
    memset(w, 0, sizeof *w);
    w->wfs = inf_cache_new(&ctrl_obj_projection, NULL, NULL);
    w->runs = inf_cache_new(&ctrl_run_projection, &run_h, w);
    w->jobs = inf_cache_new(&ctrl_job_projection, &job_h, w);
    w->pods = inf_cache_new(&ctrl_pod_projection, &pod_h, w);
    w->jobs_by_run = ctrl_idx_new();
    w->pods_by_run = ctrl_idx_new();
    w->runs_by_label = ctrl_idx_new();
    w->runs_by_wf = ctrl_idx_new();
    w->deleted = ctrl_stamps_new();
    w->memo = ctrl_memo_new();
    w->rv = 1000;
    if (!w->wfs || !w->runs || !w->jobs || !w->pods || !w->jobs_by_run || !w->pods_by_run ||
        !w->runs_by_label || !w->runs_by_wf || !w->deleted || !w->memo)
        die("out of memory");
}

static void world_free(struct world *w)
{
    inf_cache_free(w->wfs);
    inf_cache_free(w->runs);
    inf_cache_free(w->jobs);
    inf_cache_free(w->pods);
    ctrl_idx_free(w->jobs_by_run);
    ctrl_idx_free(w->pods_by_run);
    ctrl_idx_free(w->runs_by_label);
    ctrl_idx_free(w->runs_by_wf);
    ctrl_stamps_free(w->deleted);
    ctrl_memo_free(w->memo);
}

/* A new resourceVersion in o's metadata, then o into cache c. */
static void store(struct world *w, struct inf_cache *c, enum watch_event_type type,
                  struct json_object *o)
{
    char rv[24];
    snprintf(rv, sizeof rv, "%ld", ++w->rv);
    set(json_object_object_get(o, "metadata"), "resourceVersion", rv);
    if (inf_cache_apply(c, type, o) < 0)
        die("the cache refused an object");
}

static void new_uid(struct world *w, char out[PLAN_UID_LEN])
{
    long n = ++w->uid;
    snprintf(out, PLAN_UID_LEN, "%08lx-7c1e-4b5a-9d2f-%012lx", n, n * 7919);
}

/* ---- gathering: ctrl_exec.c gather(), gather_pods(), gather_listed() ---------- */

struct gather {
    struct plan_job *jobs;
    size_t n_jobs, cap_jobs;
    struct plan_pod *pods;
    size_t n_pods, cap_pods;
    struct plan_sibling *sibs;
    size_t n_sibs, cap_sibs;
    struct plan_created *created;
    size_t n_created;
    struct plan_pod *ended;
    size_t n_ended;
    struct plan_refusal *refusals;
    size_t n_refusals;
    int listed;
};

static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(arr, ncap * size);
    if (!p)
        die("out of memory");
    *cap = ncap;
    return p;
}

static int deleted_pending(const struct world *w, const char *uid)
{
    uint64_t deadline;
    return uid[0] && ctrl_stamp_get(w->deleted, uid, &deadline);
}

static void gather(struct world *w, const char *self, const char *workflow, struct gather *g)
{
    size_t len;
    const char *names = ctrl_idx_get(w->jobs_by_run, NS, self, &len);
    CTRL_IDX_FOREACH(name, names, len)
    {
        const struct ctrl_job *j = inf_cache_get(w->jobs, NS, name);
        if (!j || strcmp(ctrl_job_run(j), self) != 0)
            continue;
        g->jobs = grow(g->jobs, &g->cap_jobs, g->n_jobs, sizeof *g->jobs);
        struct plan_job *pj = &g->jobs[g->n_jobs++];
        ctrl_job_expand(j, pj);
        if (!pj->deleting && deleted_pending(w, pj->uid))
            pj->deleting = 1;
        ctrl_memo_seen(w->memo, NS, self, pj->name, pj->uid);
    }
    char label[WF_NAME_LEN];
    if (wf_label_value(self, label) == 0) {
        names = ctrl_idx_get(w->pods_by_run, NS, label, &len);
        CTRL_IDX_FOREACH(name, names, len)
        {
            const struct ctrl_pod *p = inf_cache_get(w->pods, NS, name);
            if (!p || strcmp(ctrl_pod_run(p), label) != 0)
                continue;
            g->pods = grow(g->pods, &g->cap_pods, g->n_pods, sizeof *g->pods);
            struct plan_pod *pp = &g->pods[g->n_pods++];
            ctrl_pod_expand(p, pp);
            if (!pp->deleting && deleted_pending(w, pp->uid))
                pp->deleting = 1;
        }
    }
    struct plan_pod *listed;
    size_t n_listed;
    if (ctrl_memo_take_listed(w->memo, NS, self, &listed, &n_listed))
        free(listed); /* never asked for here */
    if (ctrl_memo_get(w->memo, NS, self, 0, &g->created, &g->n_created, &g->refusals,
                      &g->n_refusals) < 0 ||
        ctrl_memo_get_ended(w->memo, NS, self, &g->ended, &g->n_ended) < 0)
        die("out of memory");
    names = ctrl_idx_get(w->runs_by_wf, NS, workflow, &len);
    CTRL_IDX_FOREACH(name, names, len)
    {
        const struct ctrl_run *r = inf_cache_get(w->runs, NS, name);
        if (!r || strcmp(name, self) == 0 || strcmp(r->workflow, workflow) != 0)
            continue;
        g->sibs = grow(g->sibs, &g->cap_sibs, g->n_sibs, sizeof *g->sibs);
        g->sibs[g->n_sibs++] = r->sib;
    }
}

static void gather_free(struct gather *g)
{
    free(g->jobs);
    free(g->pods);
    free(g->sibs);
    free(g->created);
    free(g->refusals);
    free(g->ended);
    memset(g, 0, sizeof *g);
}

static struct plan_input input_of(struct json_object *run, const struct ctrl_obj *wf,
                                  const struct gather *g, int64_t now)
{
    struct plan_input in = {.run = run,
                            .workflow = wf ? wf->obj : NULL,
                            .jobs = g->jobs,
                            .n_jobs = g->n_jobs,
                            .pods = g->pods,
                            .n_pods = g->n_pods,
                            .siblings = g->sibs,
                            .n_siblings = g->n_sibs,
                            .now_ms = now,
                            .created = g->created,
                            .n_created = g->n_created,
                            .ended = g->ended,
                            .n_ended = g->n_ended,
                            .refusals = g->refusals,
                            .n_refusals = g->n_refusals,
                            .pods_listed = g->listed};
    return in;
}

/* ---- the objects ------------------------------------------------------------- */

/* bench_controller's Workflows: n independent steps s000.., or (matrix > 0)
 * one step whose matrix has that many combinations. */
static struct json_object *workflow(struct world *w, const char *name, int n, int matrix)
{
    char uid[PLAN_UID_LEN], text[1024];
    new_uid(w, uid);
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"runbook.dev/v1alpha1\",\"kind\":\"Workflow\","
             "\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS "\",\"uid\":\"%s\","
             "\"generation\":1,\"creationTimestamp\":\"2026-12-07T23:00:00Z\"},"
             "\"spec\":{\"failurePolicy\":\"FailFast\",\"terminationGracePeriodSeconds\":30}}",
             name, uid);
    struct json_object *wf = parse(text);
    struct json_object *steps = json_object_new_array();
    for (int i = 0; i < n; i++) {
        snprintf(text, sizeof text,
                 "{\"name\":\"s%03d\",\"image\":\"busybox:1.36\",\"command\":[\"sh\",\"-c\","
                 "\"true\"]%s,\"podTemplate\":{\"metadata\":{\"annotations\":{\"runbook.dev/"
                 "test-duration\":\"1h\"}}}}",
                 i,
                 matrix ? ",\"args\":[\"$(matrix.i)\"],\"matrix\":{\"params\":[{\"name\":\"i\"}]}"
                        : "");
        struct json_object *step = parse(text);
        if (matrix) {
            struct json_object *vals = json_object_new_array();
            for (int k = 0; k < matrix; k++) {
                char v[16];
                snprintf(v, sizeof v, "%03d", k);
                json_object_array_add(vals, json_object_new_string(v));
            }
            struct json_object *param =
                json_object_array_get_idx(kj_path(step, "matrix", "params", NULL), 0);
            json_object_object_add(param, "values", vals);
        }
        json_object_array_add(steps, step);
    }
    json_object_object_add(json_object_object_get(wf, "spec"), "steps", steps);
    store(w, w->wfs, WATCH_ADDED, wf);
    return wf;
}

static struct json_object *new_run(struct world *w, const char *name, const char *workflow)
{
    char uid[PLAN_UID_LEN], text[1024];
    new_uid(w, uid);
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"runbook.dev/v1alpha1\",\"kind\":\"WorkflowRun\","
             "\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS "\",\"uid\":\"%s\","
             "\"generation\":1,\"creationTimestamp\":\"2026-12-08T00:00:00Z\"},"
             "\"spec\":{\"workflowRef\":{\"name\":\"%s\"}}}",
             name, uid, workflow);
    struct json_object *run = parse(text);
    store(w, w->runs, WATCH_ADDED, run);
    return run;
}

/* The pod kube-controller-manager makes for Job j, Running on a node. */
static struct json_object *pod_of(struct world *w, struct json_object *job, int64_t now)
{
    struct json_object *jmeta = json_object_object_get(job, "metadata");
    const char *jname = kj_get_str(jmeta, "name"), *juid = kj_get_str(jmeta, "uid");
    struct json_object *tmpl = kj_path(job, "spec", "template", NULL);
    char name[PLAN_OBJ_LEN], uid[PLAN_UID_LEN], ts[32];
    snprintf(name, sizeof name, "%s-%05lx", jname, (unsigned long)(w->uid * 2654435761u) & 0xfffff);
    new_uid(w, uid);
    kj_time_format(now, ts);
    struct json_object *pod = kj_obj(), *meta = kj_obj();
    kj_put(pod, "apiVersion", kj_str("v1"));
    kj_put(pod, "kind", kj_str("Pod"));
    kj_put(meta, "name", kj_str(name));
    kj_put(meta, "generateName", kj_str(jname));
    kj_put(meta, "namespace", kj_str(NS));
    kj_put(meta, "uid", kj_str(uid));
    kj_put(meta, "creationTimestamp", kj_str(ts));
    struct json_object *labels = kj_copy(kj_path(tmpl, "metadata", "labels", NULL));
    if (!labels)
        labels = kj_obj();
    kj_put(labels, KJ_LABEL_CONTROLLER_UID, kj_str(juid));
    kj_put(labels, KJ_LABEL_JOB_NAME, kj_str(jname));
    kj_put(labels, KJ_LABEL_CONTROLLER_UID_OLD, kj_str(juid));
    kj_put(labels, KJ_LABEL_JOB_NAME_OLD, kj_str(jname));
    kj_put(meta, "labels", labels);
    struct json_object *ann = kj_path(tmpl, "metadata", "annotations", NULL);
    if (ann)
        kj_put(meta, "annotations", kj_copy(ann));
    struct json_object *ref = kj_obj(), *refs = kj_arr();
    kj_put(ref, "apiVersion", kj_str("batch/v1"));
    kj_put(ref, "kind", kj_str("Job"));
    kj_put(ref, "name", kj_str(jname));
    kj_put(ref, "uid", kj_str(juid));
    kj_put(ref, "controller", kj_bool(1));
    kj_put(ref, "blockOwnerDeletion", kj_bool(1));
    kj_push(refs, ref);
    kj_put(meta, "ownerReferences", refs);
    kj_put(pod, "metadata", meta);
    struct json_object *spec = kj_copy(kj_path(tmpl, "spec", NULL));
    kj_put(spec, "nodeName", kj_str("node-1"));
    kj_put(pod, "spec", spec);
    char st[512];
    snprintf(st, sizeof st,
             "{\"phase\":\"Running\",\"hostIP\":\"10.0.0.1\",\"podIP\":\"10.244.0.7\","
             "\"startTime\":\"%s\",\"qosClass\":\"BestEffort\",\"containerStatuses\":[{"
             "\"name\":\"" WF_CONTAINER_NAME "\",\"ready\":true,\"restartCount\":0,"
             "\"started\":true,\"image\":\"busybox:1.36\",\"state\":{\"running\":{"
             "\"startedAt\":\"%s\"}}}]}",
             ts, ts);
    kj_put(pod, "status", parse(st));
    return pod;
}

/* Merge-patch semantics for the status: null removes a key. */
static void merge_status(struct json_object *run, struct json_object *patch)
{
    struct json_object *st = json_object_object_get(run, "status");
    if (!st) {
        st = kj_obj();
        kj_put(run, "status", st);
    }
    json_object_object_foreach(patch, k, v)
    {
        if (v)
            kj_put(st, k, kj_copy(v));
        else
            json_object_object_del(st, k);
    }
}

/* The measured runs' Jobs and pods, as last stored (the fleet's templates). */
struct children {
    struct json_object *jobs[WF_STEPS_MAX], *pods[WF_STEPS_MAX];
    int n;
};

/* Plays the API server, kube-controller-manager and the kubelet for one
 * plan: the status merged into the run, every created Job stored with a
 * uid and a Running pod. */
static void apply(struct world *w, struct json_object **run, const struct plan *p,
                  struct children *ch, int64_t now)
{
    char ts[32];
    kj_time_format(now, ts);
    for (size_t i = 0; i < p->n; i++) {
        const struct plan_action *a = &p->actions[i];
        if (a->kind == PLAN_PATCH_STATUS) {
            merge_status(*run, json_object_object_get(a->body, "status"));
            store(w, w->runs, WATCH_MODIFIED, *run);
        } else if (a->kind == PLAN_CREATE_JOB) {
            if (ch->n >= WF_STEPS_MAX)
                die("too many Jobs for one run");
            struct json_object *job = kj_copy(a->body);
            char uid[PLAN_UID_LEN], st[256];
            new_uid(w, uid);
            struct json_object *meta = json_object_object_get(job, "metadata");
            kj_put(meta, "uid", kj_str(uid));
            kj_put(meta, "creationTimestamp", kj_str(ts));
            snprintf(st, sizeof st,
                     "{\"active\":1,\"ready\":1,\"terminating\":0,\"startTime\":\"%s\","
                     "\"uncountedTerminatedPods\":{}}",
                     ts);
            kj_put(job, "status", parse(st));
            store(w, w->jobs, WATCH_ADDED, job);
            struct json_object *pod = pod_of(w, job, now);
            store(w, w->pods, WATCH_ADDED, pod);
            ch->jobs[ch->n] = job;
            ch->pods[ch->n++] = pod;
        } else if (a->kind != PLAN_EVENT) {
            die("unexpected %s in a run's start", plan_kind_name(a->kind));
        }
    }
}

static size_t writes(const struct plan *p)
{
    return p->n - plan_count(p, PLAN_EVENT);
}

/* Plans and applies run `name` (of Workflow wf) until a plan writes nothing;
 * the run's JSON stays in *run, its children in ch. */
static void settle(struct world *w, const char *name, const char *wf, struct json_object **run,
                   struct children *ch, int64_t now)
{
    for (int round = 0; round < 20; round++) {
        const struct ctrl_run *rec = inf_cache_get(w->runs, NS, name);
        const struct ctrl_obj *wo = inf_cache_get(w->wfs, NS, wf);
        struct json_object *parsed = ctrl_run_parse(rec);
        struct gather g = {0};
        gather(w, name, wf, &g);
        struct plan_input in = input_of(parsed, wo, &g, now);
        struct plan p;
        plan_init(&p);
        if (plan_run(&in, &p) < 0)
            die("plan_run failed for %s", name);
        size_t n = writes(&p);
        if (n)
            apply(w, run, &p, ch, now);
        plan_release(&p);
        gather_free(&g);
        json_object_put(parsed);
        if (!n)
            return;
    }
    die("%s: no fixpoint after 20 plans", name);
}

/* Step i's Job Complete and its pod Succeeded (exit 0), stored. */
static void finish_step(struct world *w, struct children *ch, int i, int64_t now)
{
    char ts[32], st[1024];
    kj_time_format(now, ts);
    char start[32]; /* the Job's status is replaced below */
    snprintf(start, sizeof start, "%s", kj_path_str(ch->jobs[i], "status", "startTime", NULL));
    snprintf(st, sizeof st,
             "{\"active\":0,\"ready\":0,\"succeeded\":1,\"terminating\":0,\"startTime\":\"%s\","
             "\"completionTime\":\"%s\",\"uncountedTerminatedPods\":{},\"conditions\":["
             "{\"type\":\"SuccessCriteriaMet\",\"status\":\"True\",\"lastProbeTime\":\"%s\","
             "\"lastTransitionTime\":\"%s\"},{\"type\":\"Complete\",\"status\":\"True\","
             "\"lastProbeTime\":\"%s\",\"lastTransitionTime\":\"%s\"}]}",
             start, ts, ts, ts, ts, ts);
    kj_put(ch->jobs[i], "status", parse(st));
    store(w, w->jobs, WATCH_MODIFIED, ch->jobs[i]);
    snprintf(st, sizeof st,
             "{\"phase\":\"Succeeded\",\"hostIP\":\"10.0.0.1\",\"podIP\":\"10.244.0.7\","
             "\"startTime\":\"%s\",\"qosClass\":\"BestEffort\",\"containerStatuses\":[{"
             "\"name\":\"" WF_CONTAINER_NAME "\",\"ready\":false,\"restartCount\":0,"
             "\"started\":false,\"image\":\"busybox:1.36\",\"state\":{\"terminated\":{"
             "\"exitCode\":0,\"reason\":\"Completed\",\"startedAt\":\"%s\",\"finishedAt\":"
             "\"%s\"}}}]}",
             start, start, ts);
    kj_put(ch->pods[i], "status", parse(st));
    store(w, w->pods, WATCH_MODIFIED, ch->pods[i]);
}

/* ---- the fleet: copies of a 5-step run, its Jobs and pods -------------------------- */

static void rename_child(struct json_object *o, const char *name, const char *run,
                         const char *run_uid, const char *job, const char *job_uid, const char *uid)
{
    struct json_object *meta = json_object_object_get(o, "metadata");
    set(meta, "name", name);
    set(meta, "uid", uid);
    struct json_object *labels = json_object_object_get(meta, "labels");
    set(labels, KJ_LABEL_RUN, run);
    struct json_object *ref = json_object_array_get_idx(kj_get(meta, "ownerReferences"), 0);
    if (job) { /* a pod: owned by its Job */
        set(labels, KJ_LABEL_JOB_NAME, job);
        set(labels, KJ_LABEL_JOB_NAME_OLD, job);
        set(labels, KJ_LABEL_CONTROLLER_UID, job_uid);
        set(labels, KJ_LABEL_CONTROLLER_UID_OLD, job_uid);
        set(ref, "name", job);
        set(ref, "uid", job_uid);
    } else { /* a Job: owned by its run */
        set(ref, "name", run);
        set(ref, "uid", run_uid);
    }
}

struct fleet_heap {
    long runs, jobs, pods; /* heap bytes each kind added, indexes included */
    long n_runs, n_jobs;
};

static void fleet(struct world *w, int n_jobs, const char *wf, struct json_object *run,
                  const struct children *ch, struct fleet_heap *fh)
{
    int n_runs = n_jobs / FLEET_STEPS;
    if (ch->n != FLEET_STEPS)
        die("the fleet's template run has %d Jobs", ch->n);
    char(*names)[PLAN_OBJ_LEN] = calloc((size_t)n_runs, sizeof *names);
    char(*uids)[PLAN_UID_LEN] = calloc((size_t)n_runs, sizeof *uids);
    char(*juids)[FLEET_STEPS][PLAN_UID_LEN] = calloc((size_t)n_runs, sizeof *juids);
    if (!names || !uids || !juids)
        die("out of memory");
    struct json_object *rmeta = json_object_object_get(run, "metadata");
    set(kj_path(run, "spec", "workflowRef", NULL), "name", wf);
    long h0 = heap_bytes();
    for (int r = 0; r < n_runs; r++) {
        snprintf(names[r], sizeof names[r], "nightly-build-%05x", r);
        new_uid(w, uids[r]);
        set(rmeta, "name", names[r]);
        set(rmeta, "uid", uids[r]);
        store(w, w->runs, WATCH_ADDED, run);
    }
    long h1 = heap_bytes();
    for (int r = 0; r < n_runs; r++) {
        for (int s = 0; s < FLEET_STEPS; s++) {
            char job[WF_NAME_LEN];
            const char *step = kj_label(kj_get(ch->jobs[s], "metadata"), KJ_LABEL_STEP);
            if (wf_job_name(names[r], step, job) < 0)
                die("bad Job name");
            new_uid(w, juids[r][s]);
            rename_child(ch->jobs[s], job, names[r], uids[r], NULL, NULL, juids[r][s]);
            store(w, w->jobs, WATCH_ADDED, ch->jobs[s]);
        }
    }
    long h2 = heap_bytes();
    for (int r = 0; r < n_runs; r++) {
        for (int s = 0; s < FLEET_STEPS; s++) {
            char job[WF_NAME_LEN], pod[PLAN_OBJ_LEN], uid[PLAN_UID_LEN];
            const char *step = kj_label(kj_get(ch->jobs[s], "metadata"), KJ_LABEL_STEP);
            if (wf_job_name(names[r], step, job) < 0)
                die("bad Job name");
            snprintf(pod, sizeof pod, "%s-%05x", job, (unsigned)(r * 2654435761u) & 0xfffff);
            new_uid(w, uid);
            rename_child(ch->pods[s], pod, names[r], uids[r], job, juids[r][s], uid);
            store(w, w->pods, WATCH_ADDED, ch->pods[s]);
        }
    }
    long h3 = heap_bytes();
    fh->runs = h1 - h0;
    fh->jobs = h2 - h1;
    fh->pods = h3 - h2;
    fh->n_runs = n_runs;
    fh->n_jobs = (long)n_runs * FLEET_STEPS;
    free(names);
    free(uids);
    free(juids);
}

/* ---- measuring ---------------------------------------------------------------- */

struct scen {
    const char *label;
    struct world *w;
    const char *run, *wf;
    int64_t now;
    /* for the stages measured alone */
    struct json_object *parsed;
    struct gather g;
    struct plan plan;
    size_t actions, patch_bytes, run_bytes, siblings;
};

static void stage_parse(struct scen *s)
{
    const struct ctrl_run *rec = inf_cache_get(s->w->runs, NS, s->run);
    json_object_put(ctrl_run_parse(rec));
}

static void stage_gather(struct scen *s)
{
    struct json_object *status = NULL;
    if (json_object_object_get_ex(s->parsed, "status", &status))
        ctrl_memo_settle(s->w->memo, NS, s->run, status);
    struct gather g = {0};
    gather(s->w, s->run, s->wf, &g);
    gather_free(&g);
}

static void stage_plan(struct scen *s)
{
    const struct ctrl_obj *wo = inf_cache_get(s->w->wfs, NS, s->wf);
    struct plan_input in = input_of(s->parsed, wo, &s->g, s->now);
    struct plan p;
    plan_init(&p);
    if (plan_run(&in, &p) < 0)
        die("plan_run failed");
    plan_release(&p);
}

static void stage_patch(struct scen *s)
{
    for (size_t i = 0; i < s->plan.n; i++) {
        const struct plan_action *a = &s->plan.actions[i];
        size_t len = 0;
        if (a->kind == PLAN_PATCH_STATUS &&
            !json_object_to_json_string_length(a->body, JSON_C_TO_STRING_PLAIN, &len))
            die("out of memory");
    }
}

/* One reconcile as plan_for and ctrl_reconcile do it, minus queue and writes. */
static void reconcile(struct scen *s)
{
    struct world *w = s->w;
    const struct ctrl_run *rec = inf_cache_get(w->runs, NS, s->run);
    const struct ctrl_obj *wo = rec->workflow[0] ? inf_cache_get(w->wfs, NS, rec->workflow) : NULL;
    struct json_object *run = ctrl_run_parse(rec), *status = NULL;
    if (!run)
        die("cannot parse the run");
    if (json_object_object_get_ex(run, "status", &status))
        ctrl_memo_settle(w->memo, NS, s->run, status);
    struct gather g = {0};
    gather(w, s->run, rec->workflow, &g);
    struct plan_input in = input_of(run, wo, &g, s->now);
    struct plan p;
    plan_init(&p);
    if (plan_run(&in, &p) < 0)
        die("plan_run failed");
    for (size_t i = 0; i < p.n; i++) {
        const struct plan_action *a = &p.actions[i];
        size_t len = 0;
        if (a->kind != PLAN_PATCH_STATUS)
            continue;
        (void)kj_path_str(a->body, "status", "phase", NULL); /* status_hold_ms */
        if (!json_object_to_json_string_length(a->body, JSON_C_TO_STRING_PLAIN, &len))
            die("out of memory");
    }
    plan_release(&p);
    json_object_put(run);
    gather_free(&g);
}

/* Microseconds of thread CPU per call: best of 3 rounds of >= secs. */
static double per_call_us(void (*fn)(struct scen *), struct scen *s, double secs)
{
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        long n = 0;
        double t0 = thread_cpu_s(), t;
        do {
            fn(s);
            n++;
            t = thread_cpu_s() - t0;
        } while (t < secs);
        if (t / (double)n < best)
            best = t / (double)n;
    }
    return best * 1e6;
}

/* The fixed inputs of the stages measured alone, and what the plan does. */
static void scen_prepare(struct scen *s)
{
    const struct ctrl_run *rec = inf_cache_get(s->w->runs, NS, s->run);
    if (!rec)
        die("no run %s", s->run);
    s->run_bytes = rec->len;
    s->parsed = ctrl_run_parse(rec);
    gather(s->w, s->run, s->wf, &s->g);
    if (!s->g.n_jobs || s->g.n_pods != s->g.n_jobs)
        die("%s: gathered %zu Jobs and %zu pods", s->run, s->g.n_jobs, s->g.n_pods);
    s->siblings = s->g.n_sibs;
    const struct ctrl_obj *wo = inf_cache_get(s->w->wfs, NS, s->wf);
    struct plan_input in = input_of(s->parsed, wo, &s->g, s->now);
    plan_init(&s->plan);
    if (plan_run(&in, &s->plan) < 0)
        die("plan_run failed");
    s->actions = writes(&s->plan);
    s->patch_bytes = 0;
    for (size_t i = 0; i < s->plan.n; i++) {
        size_t len = 0;
        if (s->plan.actions[i].kind == PLAN_PATCH_STATUS &&
            json_object_to_json_string_length(s->plan.actions[i].body, JSON_C_TO_STRING_PLAIN,
                                              &len))
            s->patch_bytes += len;
    }
}

static void scen_release(struct scen *s)
{
    json_object_put(s->parsed);
    gather_free(&s->g);
    plan_release(&s->plan);
}

static void measure(struct scen *s, double secs)
{
    scen_prepare(s);
    double parse_us = per_call_us(stage_parse, s, secs);
    double gather_us = per_call_us(stage_gather, s, secs);
    double plan_us = per_call_us(stage_plan, s, secs);
    double patch_us = s->patch_bytes ? per_call_us(stage_patch, s, secs) : 0;
    double total_us = per_call_us(reconcile, s, secs);
    printf("%-30s %7zu %6zu %6zu %7zu %8.1f %8.1f %8.1f %8.1f %9.1f %9.0f\n", s->label,
           s->run_bytes, s->siblings, s->actions, s->patch_bytes, parse_us, gather_us, plan_us,
           patch_us, total_us, 1e6 / total_us);
    fflush(stdout);
    scen_release(s);
}

/* ---- main ---------------------------------------------------------------------- */

/* A measured run: its own Workflow of `steps` independent steps, or of one
 * step whose matrix has `matrix` combinations (the fleet's for the last
 * one), settled with every Job Running; `change`: then its first Job
 * ends. */
static struct measured {
    const char *label, *run, *wf;
    int steps, matrix, change;
    struct json_object *obj;
    struct children ch;
} measured[] = {
    {"5 steps Running, steady", "r5", "build-5", 5, 0, 0, NULL, {{0}, {0}, 0}},
    {"5 steps, one step ended", "r5-change", "build-5b", 5, 0, 1, NULL, {{0}, {0}, 0}},
    {"50 steps Running, steady", "r50", "build-50", 50, 0, 0, NULL, {{0}, {0}, 0}},
    {"50 steps, one step ended", "r50-change", "build-50b", 50, 0, 1, NULL, {{0}, {0}, 0}},
    {"100 steps Running, steady", "r100", "build-100", 100, 0, 0, NULL, {{0}, {0}, 0}},
    {"matrix of 256 Running, steady", "r256", "fan-256", 1, 256, 0, NULL, {{0}, {0}, 0}},
    {"5 steps, the fleet's Workflow", "r5-fleet", "fleet", 5, 0, 0, NULL, {{0}, {0}, 0}},
};
#define N_MEASURED (sizeof measured / sizeof measured[0])

int main(int argc, char **argv)
{
    int n_jobs = 100000;
    double secs = 0.3;
    const char *only = argc > 3 ? argv[3] : "";
    if ((argc > 1 && (n_jobs = atoi(argv[1])) < 0) || (argc > 2 && !((secs = atof(argv[2])) > 0)) ||
        argc > 4)
        die("usage: bench_plan [tracked Jobs, default 100000] [seconds per round, default 0.3] "
            "[only the cases whose name has TEXT]");

    struct world w;
    world_init(&w);
    int64_t now = T0 + 60 * SEC;
    struct json_object *wfs[N_MEASURED];
    for (size_t i = 0; i < N_MEASURED; i++) {
        struct measured *m = &measured[i];
        wfs[i] = workflow(&w, m->wf, m->steps, m->matrix);
        m->obj = new_run(&w, m->run, m->wf);
        settle(&w, m->run, m->wf, &m->obj, &m->ch, T0 + 2 * SEC);
        if (m->ch.n != (m->matrix ? m->matrix : m->steps))
            die("%s: %d Jobs for %d steps", m->run, m->ch.n, m->steps);
        if (m->change)
            finish_step(&w, &m->ch, 0, now - SEC);
    }

    /* The fleet: copies of r5's run, Jobs and pods, of Workflow "fleet"
     * (so every fleet run is a sibling of r5-fleet). */
    struct fleet_heap fh = {0};
    if (n_jobs >= FLEET_STEPS) {
        struct json_object *tmpl = kj_copy(measured[0].obj);
        fleet(&w, n_jobs, "fleet", tmpl, &measured[0].ch, &fh); /* renames r5's objects only */
        json_object_put(tmpl);
    }

    printf("caches: %zu runs, %zu Jobs, %zu pods (the fleet: %ld runs of %d Running steps, "
           "their Jobs and pods)\n",
           inf_cache_count(w.runs), inf_cache_count(w.jobs), inf_cache_count(w.pods), fh.n_runs,
           FLEET_STEPS);
    if (fh.n_runs)
        printf("heap per object, indexes included: run %.0f B (its JSON %zu B), Job %.0f B, "
               "pod %.0f B; the fleet %.1f MiB\n",
               (double)fh.runs / (double)fh.n_runs,
               ((const struct ctrl_run *)inf_cache_get(w.runs, NS, "r5"))->len,
               (double)fh.jobs / (double)fh.n_jobs, (double)fh.pods / (double)fh.n_jobs,
               (double)(fh.runs + fh.jobs + fh.pods) / 1048576.0);
    printf("%-30s %7s %6s %6s %7s %8s %8s %8s %8s %9s %9s\n", "case", "run_B", "sibs", "writes",
           "patch_B", "parse_us", "gathr_us", "plan_us", "patch_us", "total_us", "plans/s");
    for (size_t i = 0; i < N_MEASURED; i++) {
        if (!strstr(measured[i].label, only))
            continue;
        struct scen sc = {.label = measured[i].label,
                          .w = &w,
                          .run = measured[i].run,
                          .wf = measured[i].wf,
                          .now = now};
        measure(&sc, secs);
    }

    for (size_t k = 0; k < N_MEASURED; k++) {
        for (int i = 0; i < measured[k].ch.n; i++) {
            json_object_put(measured[k].ch.jobs[i]);
            json_object_put(measured[k].ch.pods[i]);
        }
        json_object_put(measured[k].obj);
        json_object_put(wfs[k]);
    }
    world_free(&w);
    return 0;
}
