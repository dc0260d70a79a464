/* bench_controller - the controller's figures on the local control plane.
 * How to run it and what the figures mean: bench/README-controller.md.
 *
 * Phases, in one process, against a real API server (test/cluster), each in
 * a namespace of its own ("bench-<tag>-<phase>"); objects are left in place
 * (idle) rather than deleted, and every phase waits for its pods to be
 * Running before the next one starts:
 *
 *   direct  the physical limit B: Jobs of exactly the shape the operator
 *           creates for a step (wf_job_build; ownerReference dropped and the
 *           run label renamed, so neither the garbage collector nor a
 *           controller touches them) POSTed by a bare kube client, --window
 *           requests in flight. Measured before and after the start trials
 *           (the box is shared and drifts); B is the mean.
 *   start   per --start-workers value (default 16, the operator's default,
 *           and 64): N WorkflowRuns of a 5-step Workflow (independent steps
 *           that stay Running) are created while the controller is not
 *           leading; then it is made leader and the clock runs until our Job
 *           watch has seen the last first-wave Job. Runs/s, and the
 *           operator's Job-create rate (5N / that time) over B.
 *           (--start-mode live: runs POSTed while it leads.)
 *   react   R runs of an M-step FailFast Workflow, every step Running for
 *           1 h, pods with a --grace grace period that ignore SIGTERM. Once
 *           all R x M pods are Running, one run every --fail-gap ms gets its
 *           step s000 failed: the kwok markers (test-exit-code 3,
 *           test-duration 0s) are patched onto that Running pod and kwok
 *           fails it at once. T0 = our Job watch sees the failing Job's
 *           FailureTarget/Failed. Per run: (a) inside the operator, the
 *           informer event that queued the run -> the last DELETE of its
 *           teardown handed to the kube client (ctrl's on_teardown_sent hook);
 *           (b) T0 -> every sibling Job seen with a deletionTimestamp;
 *           (b') T0 -> every sibling pod seen with one; (c) T0 -> the last
 *           sibling pod seen DELETED.
 *   matrix  the same reaction, the siblings being the --matrix-width
 *           (100) combinations of one matrix step, --matrix-runs (10) runs:
 *           fail-fast across a fan-out (issue 14).
 *   storm   issue 15: --storm-runs (100) runs x --storm-steps (50) all
 *           Running, and s000 of every run failed at once. In the same
 *           run, the reference: a bare client with no client-side limit
 *           DELETEs as many Jobs of the step's shape and their Running pods,
 *           with the operator's bodies, --window in flight. Figures: the
 *           in-operator reaction (a), (b), (b'), and the operator's DELETE
 *           rate (its writer's first DELETE to the last answered, or to the
 *           last deletionTimestamp seen if later) over the reference's,
 *           measured before and after the storm.
 *   econ    K runs of a 5-step Workflow (parallel, then a chain) that
 *           succeed: the operator client's own write counters (POST, PUT,
 *           PATCH, DELETE attempts, retries included) over the window, per
 *           run, with the controller's breakdown (Job creates, status
 *           patches, Job deletes, Events) and the reads (GET, LIST).
 *   rss     the real operator binary (--operator PATH, --namespace
 *           bench-<tag>-rss, its health and metrics servers on free ports)
 *           as a separate process: VmRSS idle; with N Pending runs (their
 *           Workflow not created yet); with N runs x S steps Running.
 *
 * react, matrix and storm create their runs with a controller at the bench
 * budget (--qps/--burst), then stop it and start a fresh one at the
 * operator's default budget (src/opts; the DELETE lane as the client derives
 * it, or --delete-qps/--delete-burst), which relists and leads before the
 * first failure: the reaction figures are the operator's as it runs.
 *
 * The controller of phases start..econ runs in-process (ctrl_new) on a
 * thread, loop and kube client of its own, wired as operator/main.c wires
 * it, started fresh for each phase and scoped to its namespace, so its
 * counters and hooks can be read directly; the load and the watches run on
 * the main thread's loop with a second client. Timestamps are uv_hrtime()
 * (CLOCK_MONOTONIC, shared by both threads). With RUNBOOK_CLUSTER_DIR set,
 * CPU seconds of each control-plane process are reported per window.
 *
 * Usage (bench/run.sh starts a cluster and passes these):
 *   bench_controller --kubeconfig PATH [--quick] [--operator PATH] [--only LIST]
 *       [--runs N] [--start-steps N] [--start-workers LIST] [--start-mode M]
 *       [--direct-jobs N] [--react-runs N] [--react-steps M] [--fail-gap MS]
 *       [--matrix-runs N] [--matrix-width W] [--storm-runs N] [--storm-steps M]
 *       [--delete-qps Q] [--delete-burst B]
 *       [--grace S] [--econ-runs N] [--rss-runs N] [--rss-steps S] [--rss-timeout S]
 *       [--window W] [--qps Q] [--burst B] [--workers N] [--summary FILE] [--workdir DIR]
 * Without --kubeconfig (e.g. from `make bench`) it prints a note and exits 0. */
#define BENCH_NAME "bench_controller"
#include "bench_util.h"

#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kjson/kjson.h"
#include "ctrl/ctrl.h"
#include "informer/inf.h"
#include "log/log.h"
#include "opts/opts.h"
#include "plan/plan.h"
#include "wf/wf.h"

extern char **environ;

/* ---- options ---------------------------------------------------------------- */

static struct {
    const char *kubeconfig, *operator_bin, *only, *summary, *workdir, *start_mode, *start_workers;
    int quick;
    int direct_jobs; /* 0: runs x start_steps */
    int runs, start_steps;
    int react_runs, react_steps, fail_gap_ms, grace_s;
    int matrix_runs, matrix_width;
    int storm_runs, storm_steps;
    double delete_qps; /* the default-budget operator's DELETE lane; 0: the client's default */
    int delete_burst;
    int econ_runs;
    int rss_runs, rss_steps, rss_timeout_s;
    int window;
    double qps;
    int burst, workers;
    int kcm_running;
} opt; /* defaults: in flags[], next to main */

static int phase_on(const char *name)
{
    if (!opt.only)
        return 1;
    size_t n = strlen(name);
    for (const char *p = opt.only; (p = strstr(p, name)); p += n)
        if ((p == opt.only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

/* ---- small helpers ------------------------------------------------------------ */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    static double t_start;
    if (!t_start)
        t_start = now_s();
    va_list ap;
    va_start(ap, fmt);
    printf("[%7.1fs] ", now_s() - t_start);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

/* The index at the end of "<prefix>-00042", or -1. */
static int name_index(const char *s)
{
    if (!s)
        return -1;
    const char *d = strrchr(s, '-');
    if (!d || !d[1])
        return -1;
    char *end;
    long v = strtol(d + 1, &end, 10);
    return *end || v < 0 || v > 10000000 ? -1 : (int)v;
}

/* "s007" -> 7, or -1. */
static int step_index(const char *s)
{
    if (!s || s[0] != 's' || !s[1])
        return -1;
    char *end;
    long v = strtol(s + 1, &end, 10);
    return *end || v < 0 ? -1 : (int)v;
}

/* Answers per second since the first send, for the log: a flat line at the
 * DELETE lane's rate is the client's budget at work, not the API server. */
#define PERSEC_MAX 1024
struct persec {
    uint64_t t0; /* the first send; 0: nothing sent yet */
    unsigned n[PERSEC_MAX];
    int last; /* the last second with an answer */
};

static void persec_add(struct persec *p, uint64_t t)
{
    if (!p->t0 || t < p->t0)
        return;
    uint64_t s = (t - p->t0) / 1000000000u;
    int i = s >= PERSEC_MAX ? PERSEC_MAX - 1 : (int)s;
    p->n[i]++;
    if (i > p->last)
        p->last = i;
}

/* The median of the whole seconds between the first and the last (the
 * steady rate, without the start's burst and the tail); NAN if too short. */
static double persec_steady(const struct persec *p)
{
    double v[PERSEC_MAX];
    size_t n = 0;
    for (int i = 1; i < p->last; i++)
        v[n++] = p->n[i];
    return pct(v, n, 0.5);
}

static void persec_log(const struct persec *p, const char *who)
{
    char line[4096];
    int len = 0;
    for (int i = 0; i <= p->last && len < (int)sizeof line - 16; i++)
        len += snprintf(line + len, sizeof line - (size_t)len, " %u", p->n[i]);
    say("  %s: DELETEs answered in each second from the first send:%s (steady: %.0f/s)", who,
        p->t0 ? line : " none", persec_steady(p));
}

/* ---- the summary table ------------------------------------------------------ */

struct row {
    char figure[96], value[64], target[48], verdict[8];
};
static struct row rows[32];
static size_t n_rows;

static void row(const char *figure, const char *target, int verdict, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* verdict: 1 PASS, 0 MISS, -1 none (a reference figure). */
static void row(const char *figure, const char *target, int verdict, const char *fmt, ...)
{
    if (n_rows == sizeof rows / sizeof rows[0])
        return;
    struct row *r = &rows[n_rows++];
    snprintf(r->figure, sizeof r->figure, "%s", figure);
    snprintf(r->target, sizeof r->target, "%s", target ? target : "-");
    snprintf(r->verdict, sizeof r->verdict, "%s", verdict < 0 ? "-" : verdict ? "PASS" : "MISS");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->value, sizeof r->value, fmt, ap);
    va_end(ap);
}

static void print_summary(FILE *f)
{
    fprintf(f, "\n%-66s %-24s %-18s %s\n", "figure", "measured", "target", "verdict");
    for (size_t i = 0; i < n_rows; i++)
        fprintf(f, "%-66s %-24s %-18s %s\n", rows[i].figure, rows[i].value, rows[i].target,
                rows[i].verdict);
}

/* ---- the driver's loop and client --------------------------------------------- */

static struct kube_client *kc; /* load and watches (bench_util.h's loop) */
static struct kcfg *cfg;

/* The client options of both clients: --qps (<= 0: no limit) and --burst. */
static struct kube_options client_options(void)
{
    struct kube_options ko = {.qps = opt.qps > 0 ? opt.qps : -1, .burst = opt.burst};
    return ko;
}

/* Namespaces are "bench-<tag>-<phase>", tag unique per invocation, so a
 * second run against the same cluster starts clean. */
static char tag[16];
static char ns_react[64], ns_rss[64], ns_matrix[64], ns_storm[64];
/* The react phases' namespace: ns_react, ns_matrix or ns_storm. */
static const char *ns_now = ns_react;
#define NS_REACT ns_now
/* The matrix react phase: the failing "step" is combination 0 of one
 * matrix step, the siblings are its other combinations. */
static int matrix_mode;
#define NS_RSS ns_rss

static const char *ns_name(const char *phase)
{
    static char bufs[4][64];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 64, "bench-%s-%s", tag, phase);
    return b;
}

static void ns_names_init(void)
{
    snprintf(tag, sizeof tag, "%lx", (unsigned long)(time(NULL) % 0xfffff));
    snprintf(ns_react, sizeof ns_react, "bench-%s-react", tag);
    snprintf(ns_rss, sizeof ns_rss, "bench-%s-rss", tag);
    snprintf(ns_matrix, sizeof ns_matrix, "bench-%s-matrix", tag);
    snprintf(ns_storm, sizeof ns_storm, "bench-%s-storm", tag);
}

/* ---- many creates with a window of requests in flight --------------------------- */

struct batch {
    const struct kube_resource *res;
    const char *ns;
    struct json_object *(*make)(int i, void *ud); /* new body for object i */
    /* Or, for a batch of DELETEs (Background): the name of object i. */
    void (*name)(int i, void *ud, char out[PLAN_OBJ_LEN]);
    void *ud;
    int n, next, in_flight, done, errors, window;
    uint64_t t_first, t_last; /* first send, last answer */
    double *lat;              /* seconds, per object */
    long first_error;
};

struct bop {
    struct batch *b;
    int i;
    uint64_t t;
};

static void batch_fill(struct batch *b);

static void batch_cb(void *ud, const struct kube_result *r)
{
    struct bop *o = ud;
    struct batch *b = o->b;
    uint64_t t = uv_hrtime();
    b->lat[o->i] = (double)(t - o->t) / 1e9;
    b->t_last = t;
    int ok = b->name ? r->err == 0 && (r->http_status < 300 || r->http_status == 404)
                     : r->err == 0 && r->http_status == 201;
    if (!ok) {
        if (!b->errors)
            b->first_error = r->err ? r->err : r->http_status;
        b->errors++;
    }
    b->done++;
    b->in_flight--;
    free(o);
    batch_fill(b);
}

static void batch_fill(struct batch *b)
{
    while (b->next < b->n && b->in_flight < b->window) {
        struct bop *o = malloc(sizeof *o);
        if (!o)
            die("out of memory");
        o->b = b;
        o->i = b->next++;
        int rc;
        if (b->name) {
            char name[PLAN_OBJ_LEN];
            struct kube_delete_opts d = {.propagation = "Background"};
            b->name(o->i, b->ud, name);
            o->t = uv_hrtime();
            rc = kube_delete(kc, b->res, b->ns, name, &d, batch_cb, o);
        } else {
            struct json_object *body = b->make(o->i, b->ud);
            o->t = uv_hrtime();
            rc = kube_create(kc, b->res, b->ns, body, batch_cb, o);
            json_object_put(body);
        }
        if (!b->t_first)
            b->t_first = o->t;
        b->in_flight++;
        if (rc < 0)
            die("kube_create/delete: %s", strerror(-rc));
    }
}

static int batch_finished(void *ud)
{
    struct batch *b = ud;
    return b->done == b->n;
}

/* Runs the batch to its end (or timeout_s); its figures stay in b. */
static void batch_run(struct batch *b, double timeout_s)
{
    b->lat = calloc((size_t)b->n + 1, sizeof *b->lat);
    if (!b->lat)
        die("out of memory");
    batch_fill(b);
    wait_until(batch_finished, b, timeout_s);
}

/* POSTs n objects of res in ns, body i from make(i, ud), --window in flight. */
static void creates_run(struct batch *b, const struct kube_resource *res, const char *ns, int n,
                        struct json_object *(*make)(int i, void *ud), void *ud, double timeout_s)
{
    *b = (struct batch){.res = res, .ns = ns, .make = make, .ud = ud, .n = n, .window = opt.window};
    batch_run(b, timeout_s);
}

/* "<prefix>-%05d" and its step Jobs "<prefix>-%05d-s%03d" (wf_job_name). */
struct names {
    const char *prefix;
    int steps; /* 0: the runs themselves */
};

static void name_of(int i, void *ud, char out[PLAN_OBJ_LEN])
{
    const struct names *nm = ud;
    char run[PLAN_OBJ_LEN], step[16], job[WF_NAME_LEN];
    snprintf(run, sizeof run, "%s-%05d", nm->prefix, nm->steps ? i / nm->steps : i);
    if (!nm->steps) {
        memcpy(out, run, sizeof run);
        return;
    }
    snprintf(step, sizeof step, "s%03d", i % nm->steps);
    if (wf_job_name(run, step, job) < 0)
        die("wf_job_name");
    snprintf(out, PLAN_OBJ_LEN, "%s", job);
}

/* Deletes (Background) the n objects named as struct names says, --window
 * at a time; waits. */
static void delete_all(const struct kube_resource *res, const char *ns, int n, const char *prefix,
                       int steps)
{
    struct names nm = {prefix, steps};
    struct batch b = {
        .res = res, .ns = ns, .name = name_of, .ud = &nm, .n = n, .window = opt.window};
    batch_run(&b, 600);
    if (b.errors)
        say("  %d of %d deletes failed (first: %ld)", b.errors, n, b.first_error);
    free(b.lat);
}

/* ---- Workflows ----------------------------------------------------------------- */

/* A Workflow of n steps "s000".. . chain: each depends on the previous.
 * Every step carries the kwok marker test-duration dur. grace: the pods'
 * grace period. */
static struct json_object *workflow(const char *name, const char *ns, int n, int chain,
                                    const char *dur, int grace)
{
    struct json_object *steps = json_object_new_array();
    for (int i = 0; i < n; i++) {
        char deps[64] = "", text[1024];
        if (chain && i > 0)
            snprintf(deps, sizeof deps, ",\"dependsOn\":[\"s%03d\"]", i - 1);
        snprintf(text, sizeof text,
                 "{\"name\":\"s%03d\",\"image\":\"busybox:1.36\",\"command\":[\"sh\",\"-c\","
                 "\"true\"]%s,"
                 "\"podTemplate\":{\"metadata\":{\"annotations\":{\"runbook.dev/"
                 "test-duration\":\"%s\"}}}}",
                 i, deps, dur);
        json_object_array_add(steps, parse(text));
    }
    char head[512];
    snprintf(head, sizeof head,
             "{\"apiVersion\":\"runbook.dev/v1alpha1\",\"kind\":\"Workflow\","
             "\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
             "\"spec\":{\"failurePolicy\":\"FailFast\",\"terminationGracePeriodSeconds\":%d}}",
             name, ns, grace);
    struct json_object *wf = parse(head);
    json_object_object_add(json_object_object_get(wf, "spec"), "steps", steps);
    return wf;
}

/* One FailFast step "s" whose matrix has n combinations (values "000"...),
 * each Running for `dur`: a fan-out of n siblings. */
static struct json_object *workflow_matrix(const char *name, const char *ns, int n, const char *dur,
                                           int grace)
{
    struct json_object *vals = json_object_new_array();
    for (int i = 0; i < n; i++) {
        char v[16];
        snprintf(v, sizeof v, "%03d", i);
        json_object_array_add(vals, json_object_new_string(v));
    }
    char text[1024];
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"runbook.dev/v1alpha1\",\"kind\":\"Workflow\","
             "\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
             "\"spec\":{\"failurePolicy\":\"FailFast\",\"terminationGracePeriodSeconds\":%d,"
             "\"steps\":[{\"name\":\"s\",\"image\":\"busybox:1.36\",\"command\":[\"sh\",\"-c\","
             "\"true\"],\"args\":[\"$(matrix.i)\"],\"matrix\":{\"params\":[{\"name\":\"i\"}]},"
             "\"podTemplate\":{\"metadata\":{\"annotations\":{\"runbook.dev/"
             "test-duration\":\"%s\"}}}}]}}",
             name, ns, grace, dur);
    struct json_object *wf = parse(text);
    struct json_object *spec = json_object_object_get(wf, "spec");
    struct json_object *step = json_object_array_get_idx(json_object_object_get(spec, "steps"), 0);
    struct json_object *param = json_object_array_get_idx(
        json_object_object_get(json_object_object_get(step, "matrix"), "params"), 0);
    json_object_object_add(param, "values", vals);
    return wf;
}

/* Creates that Workflow in ns. */
static void workflow_create(const char *name, const char *ns, int n, int chain, const char *dur,
                            int grace)
{
    struct json_object *wf = matrix_mode ? workflow_matrix(name, ns, n, dur, grace)
                                         : workflow(name, ns, n, chain, dur, grace);
    long st = create_sync(kc, &KUBE_WORKFLOWS, ns, wf);
    json_object_put(wf);
    if (st != 201)
        die("cannot create Workflow in %s: %ld", ns, st);
}

struct runs_ud {
    const char *prefix, *ns, *workflow;
};

static struct json_object *make_run(int i, void *ud)
{
    const struct runs_ud *u = ud;
    char text[512];
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"runbook.dev/v1alpha1\",\"kind\":\"WorkflowRun\","
             "\"metadata\":{\"name\":\"%s-%05d\",\"namespace\":\"%s\"},"
             "\"spec\":{\"workflowRef\":{\"name\":\"%s\"}}}",
             u->prefix, i, u->ns, u->workflow);
    return parse(text);
}

/* POSTs n WorkflowRuns "<name>-%05d" of the Workflow `name` in ns; waits
 * up to timeout_s. b keeps the figures (first send, last answer, errors). */
static void runs_post(struct batch *b, const char *ns, const char *name, int n, double timeout_s)
{
    struct runs_ud ru = {name, ns, name};
    creates_run(b, &KUBE_WORKFLOWRUNS, ns, n, make_run, &ru, timeout_s);
    b->ud = NULL; /* ru ends here */
    free(b->lat);
    b->lat = NULL;
}

/* ---- what the watches see --------------------------------------------------------- */

/* Per run, filled by the watch handlers (driver thread) and, for the
 * dispatch fields, by the controller's hook (operator thread, under dmu). */
struct rt {
    int jobs_seen;          /* Jobs ADDED */
    uint64_t t_jobs_all;    /* when jobs_seen reached the phase's expected count */
    uint64_t t_fail;        /* failing Job's FailureTarget/Failed seen */
    int sib_jobs;           /* sibling Jobs present */
    int sib_del;            /* sibling Jobs seen deleting (after T0) */
    int early_del;          /* ... seen deleting before T0 */
    uint64_t t_sib_del_all; /* every sibling Job deleting */
    int sib_pods, sib_running;
    int sib_pod_del;               /* sibling pods seen deleting (after T0) */
    uint64_t t_sib_pods_del_all;   /* ... all of them (one per sibling Job) */
    char fail_pod[PLAN_SHORT_LEN]; /* the pod of the step that is made to fail */
    int running_at_fail, jobs_at_fail;
    uint64_t t_pods_gone;
    enum plan_phase phase;
    uint64_t t_terminal;
    /* from ctrl's on_teardown_sent */
    uint64_t d_enq, d_sent;
    int d_calls, d_deletes;
};

static struct {
    char ns[64]; /* the phase's namespace */
    struct rt *rt;
    int n;         /* runs */
    int steps;     /* Jobs per run */
    int fail_step; /* -1: none */
    long jobs_added, pods_added, pods_running, jobs_now, pods_now;
    int runs_terminal, runs_succeeded;
    uint64_t t_last_job_added, t_last_event;
} W;

static pthread_mutex_t dmu = PTHREAD_MUTEX_INITIALIZER;

static struct rt *rt_of(int i)
{
    return i >= 0 && i < W.n ? &W.rt[i] : NULL;
}

struct bjob {
    int run, step;
    unsigned deleting : 1, failed : 1, complete : 1;
};

struct bpod {
    int run, step;
    unsigned running : 1, deleting : 1;
};

struct brun {
    int run;
    enum plan_phase phase;
};

static int cond_true(struct json_object *obj, const char *type)
{
    struct json_object *conds = kj_path(obj, "status", NULL);
    conds = conds ? json_object_object_get(conds, "conditions") : NULL;
    size_t n =
        conds && json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        const char *t = kj_path_str(c, "type", NULL), *s = kj_path_str(c, "status", NULL);
        if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0)
            return 1;
    }
    return 0;
}

/* "s012" -> 12; a matrix combination: its index. */
static int step_of(struct json_object *obj)
{
    const char *ix = kj_path_str(obj, "metadata", "labels", KJ_LABEL_MATRIX_INDEX, NULL);
    if (ix)
        return atoi(ix);
    return step_index(kj_path_str(obj, "metadata", "labels", KJ_LABEL_STEP, NULL));
}

static int job_project(struct json_object *obj, void *record)
{
    struct bjob *j = record;
    j->run = name_index(kj_path_str(obj, "metadata", "labels", KJ_LABEL_RUN, NULL));
    j->step = step_of(obj);
    j->deleting = kj_path_str(obj, "metadata", "deletionTimestamp", NULL) != NULL;
    j->failed = cond_true(obj, "FailureTarget") || cond_true(obj, "Failed");
    j->complete = cond_true(obj, "Complete");
    return 0;
}

static int pod_project(struct json_object *obj, void *record)
{
    struct bpod *p = record;
    p->run = name_index(kj_path_str(obj, "metadata", "labels", KJ_LABEL_RUN, NULL));
    p->step = step_of(obj);
    const char *ph = kj_path_str(obj, "status", "phase", NULL);
    p->deleting = kj_path_str(obj, "metadata", "deletionTimestamp", NULL) != NULL;
    p->running = ph && strcmp(ph, "Running") == 0 && !p->deleting;
    return 0;
}

static int run_project(struct json_object *obj, void *record)
{
    struct brun *r = record;
    r->run = name_index(kj_path_str(obj, "metadata", "name", NULL));
    r->phase = plan_phase_parse(kj_path_str(obj, "status", "phase", NULL));
    return 0;
}

static const struct inf_projection job_proj = {sizeof(struct bjob), job_project, NULL};
static const struct inf_projection pod_proj = {sizeof(struct bpod), pod_project, NULL};
static const struct inf_projection run_proj = {sizeof(struct brun), run_project, NULL};

static int is_sibling(int step)
{
    return W.fail_step >= 0 && step >= 0 && step != W.fail_step;
}

static void sib_deleting(struct rt *r, uint64_t t)
{
    if (!r->t_fail) {
        r->early_del++;
        return;
    }
    if (++r->sib_del == W.steps - 1)
        r->t_sib_del_all = t;
}

static void check_pods_gone(struct rt *r, uint64_t t)
{
    if (r->t_fail && !r->t_pods_gone && r->sib_pods == 0 && r->sib_del == W.steps - 1)
        r->t_pods_gone = t;
}

static void job_add(void *ud, const void *rec)
{
    (void)ud;
    const struct bjob *j = rec;
    uint64_t t = uv_hrtime();
    W.t_last_event = t;
    W.jobs_added++;
    W.jobs_now++;
    W.t_last_job_added = t;
    struct rt *r = rt_of(j->run);
    if (!r)
        return;
    if (++r->jobs_seen == W.steps)
        r->t_jobs_all = t;
    if (is_sibling(j->step))
        r->sib_jobs++;
}

static void job_update(void *ud, const void *old_rec, const void *new_rec)
{
    (void)ud;
    const struct bjob *o = old_rec, *j = new_rec;
    uint64_t t = uv_hrtime();
    W.t_last_event = t;
    struct rt *r = rt_of(j->run);
    if (!r)
        return;
    if (W.fail_step >= 0 && j->step == W.fail_step && j->failed && !r->t_fail) {
        r->t_fail = t;
        r->running_at_fail = r->sib_running;
        r->jobs_at_fail = r->sib_jobs;
    }
    if (is_sibling(j->step) && j->deleting && !o->deleting)
        sib_deleting(r, t);
}

static void job_delete(void *ud, const void *rec)
{
    (void)ud;
    const struct bjob *j = rec;
    uint64_t t = uv_hrtime();
    W.t_last_event = t;
    W.jobs_now--;
    struct rt *r = rt_of(j->run);
    if (!r)
        return;
    if (is_sibling(j->step)) {
        r->sib_jobs--;
        if (!j->deleting) /* gone without a deletionTimestamp ever seen */
            sib_deleting(r, t);
        check_pods_gone(r, t);
    }
}

static void pod_add(void *ud, const void *rec)
{
    (void)ud;
    const struct bpod *p = rec;
    W.t_last_event = uv_hrtime();
    W.pods_added++;
    W.pods_now++;
    W.pods_running += p->running;
    struct rt *r = rt_of(p->run);
    if (r && p->step == W.fail_step)
        snprintf(r->fail_pod, sizeof r->fail_pod, "%.*s", (int)sizeof r->fail_pod - 1,
                 inf_rec_name(rec));
    if (r && is_sibling(p->step)) {
        r->sib_pods++;
        r->sib_running += p->running;
    }
}

static void sib_pod_deleting(struct rt *r, uint64_t t)
{
    if (r->t_fail && ++r->sib_pod_del == W.steps - 1)
        r->t_sib_pods_del_all = t;
}

static void pod_update(void *ud, const void *old_rec, const void *new_rec)
{
    (void)ud;
    const struct bpod *o = old_rec, *p = new_rec;
    W.t_last_event = uv_hrtime();
    W.pods_running += (int)p->running - (int)o->running;
    struct rt *r = rt_of(p->run);
    if (r && is_sibling(p->step)) {
        r->sib_running += (int)p->running - (int)o->running;
        if (p->deleting && !o->deleting)
            sib_pod_deleting(r, W.t_last_event);
    }
}

static void pod_delete(void *ud, const void *rec)
{
    (void)ud;
    const struct bpod *p = rec;
    uint64_t t = uv_hrtime();
    W.t_last_event = t;
    W.pods_now--;
    W.pods_running -= p->running;
    struct rt *r = rt_of(p->run);
    if (r && is_sibling(p->step)) {
        r->sib_pods--;
        r->sib_running -= p->running;
        if (!p->deleting)
            sib_pod_deleting(r, t);
        check_pods_gone(r, t);
    }
}

static void run_seen(const struct brun *b, uint64_t t)
{
    struct rt *r = rt_of(b->run);
    if (!r || r->t_terminal || !plan_phase_terminal(b->phase))
        return;
    r->phase = b->phase;
    r->t_terminal = t;
    W.runs_terminal++;
    W.runs_succeeded += b->phase == PLAN_SUCCEEDED;
}

static void run_add(void *ud, const void *rec)
{
    (void)ud;
    W.t_last_event = uv_hrtime();
    run_seen(rec, W.t_last_event);
}

static void run_update(void *ud, const void *old_rec, const void *new_rec)
{
    (void)ud;
    (void)old_rec;
    W.t_last_event = uv_hrtime();
    run_seen(new_rec, W.t_last_event);
}

static void run_gone(void *ud, const void *rec)
{
    (void)ud;
    (void)rec;
    W.t_last_event = uv_hrtime();
}

static const struct inf_handlers job_h = {job_add, job_update, job_delete, NULL};
static const struct inf_handlers pod_h = {pod_add, pod_update, pod_delete, NULL};
static const struct inf_handlers run_h = {run_add, run_update, run_gone, NULL};

static struct inf *watches[3];
static int watches_open;

static int all_synced(void *ud)
{
    (void)ud;
    for (int i = 0; i < 3; i++)
        if (watches[i] && !inf_synced(watches[i]))
            return 0;
    return 1;
}

/* Resets W for a phase of n runs of `steps` Jobs and starts the watches of
 * its namespace (Jobs and Pods carrying the run label, and the runs). */
enum { WATCH_JOBS = 1, WATCH_PODS = 2, WATCH_RUNS = 4 };

static void watch_start(const char *ns, int n, int steps, int fail_step, int what)
{
    pthread_mutex_lock(&dmu); /* the controller's hook reads W.ns and W.rt */
    free(W.rt);
    memset(&W, 0, sizeof W);
    snprintf(W.ns, sizeof W.ns, "%s", ns);
    W.n = n;
    W.steps = steps;
    W.fail_step = fail_step;
    W.rt = calloc((size_t)n, sizeof *W.rt);
    pthread_mutex_unlock(&dmu);
    if (!W.rt)
        die("out of memory");
    struct inf_options io = {.watch_timeout_min_s = 1800, .watch_timeout_max_s = 1800};
    const struct kube_resource *res[3] = {&KUBE_JOBS, &KUBE_PODS, &KUBE_WORKFLOWRUNS};
    const struct inf_projection *proj[3] = {&job_proj, &pod_proj, &run_proj};
    const struct inf_handlers *h[3] = {&job_h, &pod_h, &run_h};
    const char *sel[3] = {KJ_LABEL_RUN, KJ_LABEL_RUN, NULL};
    /* Only what the phase needs: every watch costs the API server and this
     * process CPU that the 2-core box would otherwise give the operator. */
    for (int i = 0; i < 3; i++) {
        if (!(what & (1 << i)))
            continue;
        if (inf_new(kc, &L, res[i], ns, sel[i], NULL, proj[i], h[i], NULL, &watches[i]) < 0 ||
            inf_configure(watches[i], &io) < 0 || inf_start(watches[i]) < 0)
            die("cannot start the watches");
    }
    if (wait_until(all_synced, NULL, 60) < 0)
        die("watches did not sync");
}

static void watch_closed(struct inf *inf, void *ud)
{
    (void)ud;
    inf_free(inf);
    watches_open--;
}

static int watches_closed(void *ud)
{
    (void)ud;
    return watches_open == 0;
}

static void watch_stop(void)
{
    watches_open = 0;
    for (int i = 0; i < 3; i++)
        watches_open += watches[i] != NULL;
    for (int i = 0; i < 3; i++) {
        if (watches[i])
            inf_close(watches[i], watch_closed, NULL);
        watches[i] = NULL;
    }
    wait_until(watches_closed, NULL, 30);
}

/* ---- CPU accounting: who used the 2 cores during a window ---------------------------- */

/* utime + stime, in seconds, of a /proc/.../stat file; -1 if unreadable. */
static double stat_cpu_s(const char *path)
{
    char buf[2048];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static const char *const comps[] = {"kube-apiserver", "etcd", "kube-controller-manager",
                                    "kube-scheduler", "kwok"};
#define N_COMPS (sizeof comps / sizeof comps[0])
static pid_t comp_pid[N_COMPS];
static pid_t op_tid, driver_tid;

struct cpu_snap {
    double t, op, driver, comp[N_COMPS];
};

/* The components' pids, read afresh: the controller manager is restarted
 * between phases (kcm_pause). */
static void comp_pids_read(void)
{
    const char *dir = getenv("RUNBOOK_CLUSTER_DIR");
    for (size_t i = 0; dir && i < N_COMPS; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/pids/%s.pid", dir, comps[i]);
        FILE *f = fopen(path, "r");
        int pid = 0;
        if (f) {
            if (fscanf(f, "%d", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        comp_pid[i] = (pid_t)pid;
    }
}

static void cpu_init(void)
{
    driver_tid = (pid_t)syscall(SYS_gettid);
    comp_pids_read();
}

static struct cpu_snap cpu_snap(void)
{
    struct cpu_snap c = {.t = now_s()};
    char path[128];
    comp_pids_read();
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)op_tid);
    c.op = op_tid ? stat_cpu_s(path) : 0;
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)driver_tid);
    c.driver = stat_cpu_s(path);
    for (size_t i = 0; i < N_COMPS; i++) {
        snprintf(path, sizeof path, "/proc/%d/stat", (int)comp_pid[i]);
        c.comp[i] = comp_pid[i] ? stat_cpu_s(path) : 0;
        if (c.comp[i] < 0) /* stopped */
            c.comp[i] = 0;
    }
    return c;
}

/* One line: CPU seconds used between a and b, per process, and the share
 * of the machine's cores. */
static void cpu_report(const char *what, const struct cpu_snap *a, const struct cpu_snap *b)
{
    char line[512];
    int n = snprintf(line, sizeof line,
                     "  CPU during %s (%.1f s wall): operator thread %.2f s, bench driver %.2f s",
                     what, b->t - a->t, b->op - a->op, b->driver - a->driver);
    double total = (b->op - a->op) + (b->driver - a->driver);
    for (size_t i = 0; i < N_COMPS && n > 0 && (size_t)n < sizeof line; i++)
        if (comp_pid[i]) {
            n += snprintf(line + n, sizeof line - (size_t)n, ", %s %.2f s", comps[i],
                          b->comp[i] - a->comp[i]);
            total += b->comp[i] - a->comp[i];
        }
    say("%s; %.0f%% of %ld cores", line,
        100 * total / (b->t - a->t) / (double)sysconf(_SC_NPROCESSORS_ONLN),
        sysconf(_SC_NPROCESSORS_ONLN));
}

/* ---- pausing the controller manager during the create bursts ------------------------ */

/* The Job controller's own work (a pod per Job, then scheduling and kwok)
 * lags the creates by a varying amount: in some bursts it overlapped the
 * window, in others it came after it, which moved B by 50%. With
 * RUNBOOK_CLUSTER_CTL (test/cluster/ctl.sh, set by bench/run.sh) the
 * controller manager is stopped for the direct and start bursts, so both
 * measure the API server's capacity for the same creates; it is started
 * again right after, and the phase waits for its pods. --kcm-running keeps
 * it running (the figures then include that noise). */
static int kcm_paused;

static void kcm(const char *verb)
{
    const char *ctl = getenv("RUNBOOK_CLUSTER_CTL"), *dir = getenv("RUNBOOK_CLUSTER_DIR");
    if (!ctl || !dir || opt.kcm_running)
        return;
    char a0[1024], a1[1024], a2[16], a3[] = "kube-controller-manager";
    snprintf(a0, sizeof a0, "%s", ctl);
    snprintf(a1, sizeof a1, "%s", dir);
    snprintf(a2, sizeof a2, "%s", verb);
    char *argv[] = {a0, a1, a2, a3, NULL};
    pid_t pid;
    int status = 0;
    if (posix_spawn(&pid, a0, NULL, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) < 0 ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("%s %s kube-controller-manager failed", ctl, verb);
    kcm_paused = strcmp(verb, "stop") == 0;
}

/* ---- settling: a phase's pods all Running before the next phase ------------------ */

/* A phase's Jobs leave work behind (the Job controller's pods, scheduling,
 * kwok): waiting for it keeps it out of the next phase's figures. */
struct settle {
    long running;
};

static void settle_add(void *ud, const void *rec)
{
    ((struct settle *)ud)->running += ((const struct bpod *)rec)->running;
}

static void settle_update(void *ud, const void *o, const void *n)
{
    ((struct settle *)ud)->running +=
        (long)((const struct bpod *)n)->running - (long)((const struct bpod *)o)->running;
}

static void settle_delete(void *ud, const void *rec)
{
    ((struct settle *)ud)->running -= ((const struct bpod *)rec)->running;
}

static const struct inf_handlers settle_h = {settle_add, settle_update, settle_delete, NULL};

struct settle_wait {
    struct settle *st;
    long want;
    int closed;
};

static int settle_reached(void *ud)
{
    const struct settle_wait *w = ud;
    return w->st->running >= w->want;
}

static void settle_closed(struct inf *inf, void *ud)
{
    inf_free(inf);
    ((struct settle_wait *)ud)->closed = 1;
}

static int settle_is_closed(void *ud)
{
    return ((struct settle_wait *)ud)->closed;
}

/* Waits until `want` pods of ns are Running; returns the seconds waited. */
static double settle_pods(const char *ns, long want, double timeout_s)
{
    double t0 = now_s();
    struct settle st = {0};
    struct settle_wait w = {&st, want, 0};
    struct inf *inf;
    if (inf_new(kc, &L, &KUBE_PODS, ns, NULL, NULL, &pod_proj, &settle_h, &st, &inf) < 0 ||
        inf_start(inf) < 0)
        die("cannot watch pods");
    int rc = wait_until(settle_reached, &w, timeout_s);
    inf_close(inf, settle_closed, &w);
    wait_until(settle_is_closed, &w, 30);
    say("%s%ld of %ld pods Running in %s, %.1f s after asking", rc ? "NOT SETTLED: " : "",
        st.running, want, ns, now_s() - t0);
    return now_s() - t0;
}

/* ---- the in-process controller, on its own thread ---------------------------------- */

static struct {
    uv_loop_t loop;
    uv_async_t async;
    struct kube_client *kc;
    struct ctrl *ctrl;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void (*fn)(void *arg);
    void *arg;
    int done, running;
} op = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void op_async(uv_async_t *h)
{
    (void)h;
    pthread_mutex_lock(&op.mu);
    if (op.fn) {
        op.fn(op.arg);
        op.fn = NULL;
        op.done = 1;
        pthread_cond_broadcast(&op.cv);
    }
    pthread_mutex_unlock(&op.mu);
}

/* Runs fn(arg) on the controller's loop and waits for it. */
static void op_call(void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&op.mu);
    op.fn = fn;
    op.arg = arg;
    op.done = 0;
    uv_async_send(&op.async);
    while (!op.done)
        pthread_cond_wait(&op.cv, &op.mu);
    pthread_mutex_unlock(&op.mu);
}

static void *op_main(void *arg)
{
    (void)arg;
    op_tid = (pid_t)syscall(SYS_gettid);
    uv_run(&op.loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ctrl's instrumentation hook (operator thread). */
static void on_teardown_sent(void *ud, const char *ns, const char *run, size_t n_deletes,
                             uint64_t enq, uint64_t sent)
{
    (void)ud;
    pthread_mutex_lock(&dmu);
    struct rt *r = strcmp(ns, W.ns) == 0 ? rt_of(name_index(run)) : NULL;
    if (r) {
        if (!r->d_calls++) {
            r->d_enq = enq;
            r->d_sent = sent;
        }
        r->d_deletes += (int)n_deletes;
    }
    pthread_mutex_unlock(&dmu);
}

/* ---- the operator's DELETEs, timed as the direct client's ------------------------- */

/* The storm's rate is the operator's DELETEs from the first one handed to
 * the kube client to the last one answered, the same span as the direct
 * client's: the controller's writer is the kube client's verbs, with the
 * DELETEs counted on their way. Operator thread only; read with op_snap. */
struct del_count {
    uint64_t sent, answered, ok; /* ok: 2xx, or 404/409 (nothing of ours left) */
    uint64_t t_first, t_last;    /* first handed to the client, last answered */
    struct persec ps;
};
static struct del_count op_dels;

struct dw_op {
    kube_cb cb;
    void *ud;
};

static int delete_ok(const struct kube_result *r)
{
    return r->err == 0 && (r->http_status < 300 || r->http_status == 404 || r->http_status == 409);
}

static void dw_answered(void *ud, const struct kube_result *r)
{
    struct dw_op o = *(struct dw_op *)ud;
    free(ud);
    if (r->err != -ECANCELED) { /* cancelled: the controller is stopping */
        uint64_t t = uv_hrtime();
        op_dels.answered++;
        op_dels.ok += delete_ok(r);
        op_dels.t_last = t;
        persec_add(&op_dels.ps, t);
    }
    o.cb(o.ud, r);
}

static int dw_delete(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                     struct json_object *body, kube_cb cb, void *cb_ud)
{
    struct dw_op *o = malloc(sizeof *o);
    if (!o)
        return -ENOMEM;
    *o = (struct dw_op){cb, cb_ud};
    uint64_t t = uv_hrtime();
    int rc = kube_delete_body(ud, res, ns, name, body, dw_answered, o);
    if (rc < 0) {
        free(o);
        return rc;
    }
    if (!op_dels.sent++)
        op_dels.t_first = op_dels.ps.t0 = t;
    return 0;
}

/* The other verbs go to the client as they would without a writer. */
static int dw_create(void *ud, const struct kube_resource *res, const char *ns,
                     struct json_object *body, kube_cb cb, void *cb_ud)
{
    return kube_create(ud, res, ns, body, cb, cb_ud);
}

static int dw_patch(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                    const char *body, size_t len, const struct kube_patch_opts *po, kube_cb cb,
                    void *cb_ud)
{
    return kube_patch(ud, res, ns, name, body, len, po, cb, cb_ud);
}

static int dw_get(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                  kube_cb cb, void *cb_ud)
{
    return kube_get(ud, res, ns, name, cb, cb_ud);
}

static int dw_list(void *ud, const struct kube_resource *res, const char *ns,
                   const struct kube_list_opts *lo, kube_cb cb, void *cb_ud)
{
    return kube_list(ud, res, ns, lo, cb, cb_ud);
}

static void op_start_fn(void *arg)
{
    (void)arg;
    ctrl_set_leading(op.ctrl, 0);
    if (ctrl_start(op.ctrl) < 0)
        die("ctrl_start failed");
}

static void op_lead_fn(void *arg)
{
    *(uint64_t *)arg = uv_hrtime();
    ctrl_set_leading(op.ctrl, 1);
}

struct op_snap {
    struct ctrl_stats cs;
    struct kube_stats ks;
    struct del_count dels;
    int synced;
};

static void op_snap_fn(void *arg)
{
    struct op_snap *s = arg;
    ctrl_get_stats(op.ctrl, &s->cs);
    kube_client_stats(op.kc, &s->ks);
    s->dels = op_dels;
    s->synced = ctrl_synced(op.ctrl);
}

static struct op_snap op_snap(void)
{
    struct op_snap s;
    op_call(op_snap_fn, &s);
    return s;
}

static void op_client_closed(void *ud)
{
    (void)ud;
}

static void op_stopped(void *ud)
{
    (void)ud;
    kube_client_close(op.kc, op_client_closed, NULL);
    uv_close((uv_handle_t *)&op.async, NULL);
}

static void op_stop_fn(void *arg)
{
    (void)arg;
    ctrl_stop(op.ctrl, op_stopped, NULL);
}

/* The operator's own client budget, read from src/opts as the binary reads
 * it (the --qps and --burst defaults, or RUNBOOK_QPS / RUNBOOK_BURST) and
 * handed over as operator/main.c does; the DELETE lane's rate and burst
 * follow from those in the client (kube.h) unless --delete-qps or
 * --delete-burst is given. */
static struct kube_options operator_budget(void)
{
    char a0[] = "runbook-operator", err[256];
    char *argv[] = {a0, NULL};
    struct opts o;
    if (opts_parse(1, argv, &o, err, sizeof err) < 0)
        die("the operator's defaults: %s", err);
    struct kube_options ko = {.qps = o.qps,
                              .burst = o.burst,
                              .delete_qps = opt.delete_qps,
                              .delete_burst = opt.delete_burst};
    return ko;
}

static const char *budget_text(const struct kube_options *ko)
{
    static char buf[160];
    int n = snprintf(buf, sizeof buf, "qps %g, burst %d", ko->qps, ko->burst);
    if (ko->delete_qps || ko->delete_burst)
        snprintf(buf + n, sizeof buf - (size_t)n, "; DELETE lane qps %g, burst %d (0: default)",
                 ko->delete_qps, ko->delete_burst);
    else
        snprintf(buf + n, sizeof buf - (size_t)n, "; DELETE lane: the client's default");
    return buf;
}

/* A fresh controller scoped to ns (its phase's namespace, so that its caches
 * hold that phase's objects only), with `workers` reconciles in flight and
 * the client budget ko. */
static void op_launch(const char *ns, int workers, const struct kube_options *ko)
{
    if (op.running)
        return;
    memset(&op.loop, 0, sizeof op.loop);
    memset(&op_dels, 0, sizeof op_dels);
    uv_loop_init(&op.loop);
    if (kube_client_new(&op.loop, cfg, ko, &op.kc) < 0)
        die("cannot make the controller's client");
    struct ctrl_writer w = {dw_create, dw_patch, dw_delete, dw_get, dw_list, op.kc};
    struct ctrl_options co = {.namespace = ns,
                              .instance = "bench",
                              .workers = workers,
                              .writer = &w, /* copied */
                              .on_teardown_sent = on_teardown_sent};
    if (ctrl_new(&op.loop, op.kc, &co, &op.ctrl) < 0)
        die("ctrl_new failed");
    uv_async_init(&op.loop, &op.async, op_async);
    if (pthread_create(&op.th, NULL, op_main, NULL) != 0)
        die("pthread_create failed");
    op.running = 1;
    op_call(op_start_fn, NULL);
    int synced = 0;
    for (int i = 0; i < 1200 && !(synced = op_snap().synced); i++)
        sleep_loop(0.05);
    say("in-process controller for %s %s (%s, workers %d)", ns, synced ? "synced" : "NOT SYNCED",
        budget_text(ko), workers);
}

/* Makes the controller leader; returns when it was (uv_hrtime). */
static uint64_t op_lead(void)
{
    uint64_t t;
    op_call(op_lead_fn, &t);
    return t;
}

static void op_shutdown(void)
{
    if (!op.running)
        return;
    /* The async handle closes inside op_stop_fn's chain: do not wait on it
     * through op_call's condition after the loop ended. */
    pthread_mutex_lock(&op.mu);
    op.fn = op_stop_fn;
    op.done = 0;
    uv_async_send(&op.async);
    while (!op.done)
        pthread_cond_wait(&op.cv, &op.mu);
    pthread_mutex_unlock(&op.mu);
    pthread_join(op.th, NULL);
    ctrl_free(op.ctrl);
    uv_loop_close(&op.loop);
    op.running = 0;
    op_tid = 0;
}

static uint64_t writes_of(const struct kube_stats *k)
{
    return k->requests[KUBE_VERB_CREATE] + k->requests[KUBE_VERB_UPDATE] +
           k->requests[KUBE_VERB_PATCH] + k->requests[KUBE_VERB_DELETE];
}

/* Polls the operator every 0.5 s until its write count has not moved for
 * `quiet` polls in a row, `max` polls at most; the last snapshot. */
static struct op_snap op_wait_quiet(int quiet, int max)
{
    struct op_snap s = op_snap();
    for (int still = 0, i = 0; still < quiet && i < max; i++) {
        sleep_loop(0.5);
        struct op_snap sx = op_snap();
        still = writes_of(&sx.ks) == writes_of(&s.ks) ? still + 1 : 0;
        s = sx;
    }
    return s;
}

/* The failures meet the operator as it runs by default. The ramp's
 * controller has the bench budget (at 50/s, creating 5,000 Jobs would take
 * minutes): it is stopped, and a fresh one at the operator's default budget
 * relists the phase's objects, leads, and writes what it finds to write
 * before the first failure is triggered. */
static void op_relaunch(const char *ns)
{
    op_shutdown();
    struct kube_options ko = operator_budget();
    op_launch(ns, opt.workers, &ko);
    struct op_snap s0 = op_snap();
    double t0 = now_s();
    op_lead();
    struct op_snap s1 = op_wait_quiet(4, 120);
    say("  it leads: %llu writes (status %llu, events %llu) until quiet for 2 s, %.1f s",
        (unsigned long long)(writes_of(&s1.ks) - writes_of(&s0.ks)),
        (unsigned long long)(s1.cs.status_writes - s0.cs.status_writes),
        (unsigned long long)(s1.cs.events - s0.cs.events), now_s() - t0);
}

/* ---- phase 1: the direct client --------------------------------------------------- */

static double B; /* direct Job creates per second */

struct direct_ud {
    const char *ns, *prefix; /* prefix: "direct" or "warm" */
    struct wf_spec *spec;
    struct wf_params *params;
    int steps;
};

static void rename_key(struct json_object *map, const char *from, const char *to)
{
    struct json_object *v = map ? json_object_object_get(map, from) : NULL;
    if (!v)
        return;
    json_object_object_add(map, to, json_object_get(v));
    json_object_object_del(map, from);
}

static struct json_object *make_direct_job(int i, void *ud)
{
    struct direct_ud *u = ud;
    const char *ns = u->ns;
    char run[64];
    snprintf(run, sizeof run, "%s-%05d", u->prefix, i / u->steps);
    struct wf_run_ref ref = {
        .name = run, .ns = ns, .uid = "00000000-0000-4000-8000-000000000000", .workflow = "start"};
    struct json_object *job = NULL;
    if (wf_job_build(u->spec, (size_t)(i % u->steps), wf_params_lookup, u->params, &ref, &job) < 0)
        die("wf_job_build failed");
    /* Not the operator's: no owner (a dangling one would make the garbage
     * collector delete the Job during the measurement), and a label the
     * controller does not select. Same size and shape otherwise. */
    struct json_object *meta = json_object_object_get(job, "metadata");
    json_object_object_del(meta, "ownerReferences");
    rename_key(json_object_object_get(meta, "labels"), KJ_LABEL_RUN, "bench.runbook.dev/run");
    struct json_object *tm = kj_path(job, "spec", "template", "metadata", NULL);
    rename_key(tm ? json_object_object_get(tm, "labels") : NULL, KJ_LABEL_RUN,
               "bench.runbook.dev/run");
    return job;
}

/* Returns the creates per second; the Jobs are left in place (idle). */
static double phase_direct(const char *ns, int n_jobs)
{
    say("== direct (%s): %d Job creates, %d in flight, client qps %g", ns, n_jobs, opt.window,
        opt.qps);
    ns_create(kc, ns);
    struct json_object *wf = workflow("start", ns, opt.start_steps, 0, "1h", 0);
    struct wf_error err;
    struct direct_ud u = {.ns = ns, .prefix = "direct", .steps = opt.start_steps};
    if (wf_spec_parse(json_object_object_get(wf, "spec"), &u.spec, &err) < 0 ||
        wf_params_resolve(u.spec, NULL, &u.params, &err) < 0)
        die("workflow: %s", err.message);
    struct json_object *sample = make_direct_job(0, &u);
    say("Job shape: %zu bytes of JSON", strlen(json_object_to_json_string(sample)));
    json_object_put(sample);
    kcm("stop");
    /* Warm-up, not timed: a fresh API server's first creates of a kind are
     * slow (caches, admission, the watch cache), which biased the first of
     * the two measurements low. */
    struct direct_ud wu = u;
    wu.prefix = "warm";
    int n_warm = n_jobs < 1000 ? n_jobs / 5 + 1 : 200;
    struct batch b;
    creates_run(&b, &KUBE_JOBS, ns, n_warm, make_direct_job, &wu, 300);
    free(b.lat);
    delete_all(&KUBE_JOBS, ns, n_warm, "warm", u.steps);
    struct cpu_snap c0 = cpu_snap();
    creates_run(&b, &KUBE_JOBS, ns, n_jobs, make_direct_job, &u, 600);
    struct cpu_snap c1 = cpu_snap();
    int paused = kcm_paused;
    if (paused) {
        /* No pod exists yet: deleted now, the Jobs leave the Job controller
         * nothing to do when it comes back, and the next phase a quiet
         * cluster. */
        delete_all(&KUBE_JOBS, ns, n_jobs, "direct", u.steps);
        kcm("start");
    }
    double secs = (double)(b.t_last - b.t_first) / 1e9;
    double rate = (b.done - b.errors) / secs;
    double p50 = pct(b.lat, (size_t)b.done, 0.5), p99 = pct(b.lat, (size_t)b.done, 0.99);
    say("direct: %d creates in %.2f s = %.0f Jobs/s; latency p50 %.1f ms p99 %.1f ms; %d errors "
        "(first %ld)",
        b.done, secs, rate, p50 * 1e3, p99 * 1e3, b.errors, b.first_error);
    cpu_report("the creates", &c0, &c1);
    if (!paused)
        settle_pods(ns, b.done - b.errors, 600);
    free(b.lat);
    json_object_put(wf);
    wf_params_free(u.params);
    wf_spec_free(u.spec);
    return rate;
}

/* ---- phase 2: start throughput ------------------------------------------------------ */

static int all_jobs_seen(void *ud)
{
    (void)ud;
    return W.jobs_added >= (long)W.n * W.steps;
}

struct cache_wait {
    int n;
};

static int ctrl_has_runs(void *ud)
{
    struct cache_wait *cw = ud;
    struct op_snap s = op_snap();
    uint64_t total = 0;
    for (int i = 0; i < 8; i++)
        total += s.cs.runs_by_phase[i];
    return total >= (uint64_t)cw->n;
}

/* One start trial: the operator's Job creates per second (and runs/s). */
struct start_result {
    int workers, ok;
    double runs_s, jobs_s;
};

/* From t0 (the controller leads, or the first POST) until our watch has
 * seen every first-wave Job: the trial's figures and log lines. */
static struct start_result start_figures(int workers, uint64_t t0, const struct op_snap *s0,
                                         const struct cpu_snap *c0)
{
    int n = W.n, steps = W.steps;
    int rc = wait_until(all_jobs_seen, NULL, 900);
    uint64_t t1 = W.t_last_job_added;
    struct cpu_snap c1 = cpu_snap();
    struct op_snap s1 = op_snap();
    long jobs = W.jobs_added;
    double secs = (double)(t1 - t0) / 1e9;
    double *lat = calloc((size_t)n, sizeof *lat);
    size_t nl = 0;
    int complete = 0;
    for (int i = 0; i < n; i++)
        if (W.rt[i].t_jobs_all) {
            complete++;
            lat[nl++] = (double)(W.rt[i].t_jobs_all - t0) / 1e9;
        }
    double runs_s = complete / secs;
    double rate = jobs / secs;
    say("start: %s%d/%d runs had all %d Jobs after %.2f s: %.1f runs/s, %.0f Job creates/s = %.2f "
        "x the first direct run",
        rc ? "TIMEOUT: " : "", complete, n, steps, secs, runs_s, rate, rate / B);
    say("  time to a run's last Job, from the start: p50 %.2f s, p99 %.2f s", pct(lat, nl, 0.5),
        pct(lat, nl, 0.99));
    uint64_t w = writes_of(&s1.ks) - writes_of(&s0->ks);
    say("  operator writes in the window: %llu (Job creates %llu, status patches %llu, events "
        "%llu)",
        (unsigned long long)w, (unsigned long long)(s1.cs.jobs_created - s0->cs.jobs_created),
        (unsigned long long)(s1.cs.status_writes - s0->cs.status_writes),
        (unsigned long long)(s1.cs.events - s0->cs.events));
    say("  all operator writes/s in the window: %.0f (%.2f x direct)", w / secs, w / secs / B);
    cpu_report("the start burst", c0, &c1);
    free(lat);
    struct start_result res = {workers, !rc, runs_s, rate};
    return res;
}

static struct start_result phase_start(int workers)
{
    int n = opt.runs, steps = opt.start_steps, live = strcmp(opt.start_mode, "live") == 0;
    char ns[64];
    snprintf(ns, sizeof ns, "bench-%s-start-w%d", tag, workers);
    say("== start (%s): %d runs x %d independent steps, --workers %d (%s)", ns, n, steps, workers,
        live ? "runs POSTed while the controller leads"
             : "backlog: runs created, then the controller leads");
    ns_create(kc, ns);
    struct kube_options ko = client_options();
    op_launch(ns, workers, &ko);
    workflow_create("start", ns, steps, 0, "1h", 0);
    watch_start(ns, n, steps, -1, WATCH_JOBS);
    if (live)
        op_lead();
    struct op_snap s0 = op_snap();
    kcm("stop");
    struct cpu_snap c0 = cpu_snap();
    struct batch b;
    runs_post(&b, ns, "start", n, 600);
    double post_s = (double)(b.t_last - b.t_first) / 1e9;
    uint64_t t0 = b.t_first;
    if (!live) {
        struct cache_wait cw = {n};
        wait_until(ctrl_has_runs, &cw, 120);
        s0 = op_snap();
        c0 = cpu_snap();
        t0 = op_lead();
    }
    say("%d runs POSTed in %.2f s (%d errors)", b.done, post_s, b.errors);
    struct start_result res = start_figures(workers, t0, &s0, &c0);
    watch_stop();
    if (kcm_paused) { /* as in phase_direct: gone before any pod exists */
        op_shutdown();
        delete_all(&KUBE_JOBS, ns, n * steps, "start", steps);
        delete_all(&KUBE_WORKFLOWRUNS, ns, n, "start", 0);
        kcm("start");
    } else {
        settle_pods(ns, (long)n * steps, 600); /* before the next phase */
        op_shutdown();
    }
    return res;
}

/* ---- phase 3: reaction ---------------------------------------------------------------- */

static int react_done(void *ud)
{
    (void)ud;
    for (int i = 0; i < W.n; i++) {
        const struct rt *r = &W.rt[i];
        if (!r->t_fail || !r->t_sib_del_all || !r->t_pods_gone)
            return 0;
    }
    return 1;
}

static int react_all_running(void *ud)
{
    (void)ud;
    return W.pods_running >= (long)W.n * (W.steps);
}

/* The ramp: n runs of m steps, until all their pods are Running. */
static void react_ramp(int n, int m)
{
    ns_create(kc, NS_REACT);
    struct kube_options ko = client_options(); /* see op_relaunch */
    op_launch(NS_REACT, opt.workers, &ko);
    workflow_create("react", NS_REACT, m, 0, "1h", opt.grace_s);
    watch_start(NS_REACT, n, m, 0, WATCH_JOBS | WATCH_PODS);
    op_lead();
    double t0 = now_s();
    struct cpu_snap c0 = cpu_snap();
    struct batch b;
    runs_post(&b, NS_REACT, "react", n, 600);
    int up = wait_until(react_all_running, NULL, 600);
    struct cpu_snap c1 = cpu_snap();
    say("%s%ld of %d pods Running %.1f s after the first POST", up ? "TIMEOUT: only " : "all ",
        W.pods_running, n * m, now_s() - t0);
    cpu_report("the ramp", &c0, &c1);
}

/* The failure is triggered with the kwok markers, at a moment we choose:
 * the markers go onto the Running pod of step s000 (annotations may change
 * on a live pod), and kwok fails it at once: exit code 3, phase Failed. The
 * Job controller then sets FailureTarget (backoffLimit 0): T0 is when our
 * Job watch sees it. */
static void trigger_cb(void *ud, const struct kube_result *r)
{
    int *errors = ud;
    if (r->err || r->http_status != 200)
        (*errors)++;
}

/* One failure every gap_ms (0: all at once), in run order; a trigger that
 * cannot be sent, and (as they come) refused answers, count in *errors. */
static void react_fail_all(int n, int gap_ms, int *errors)
{
    static const char patch[] = "{\"metadata\":{\"annotations\":{\"runbook.dev/test-exit-code\":"
                                "\"3\",\"runbook.dev/test-duration\":\"0s\"}}}";
    double tt = now_s();
    for (int i = 0; i < n; i++) {
        double due = tt + i * gap_ms / 1000.0;
        if (due > now_s())
            sleep_loop(due - now_s());
        if (!W.rt[i].fail_pod[0] || kube_patch(kc, &KUBE_PODS, NS_REACT, W.rt[i].fail_pod, patch,
                                               sizeof patch - 1, NULL, trigger_cb, errors) < 0)
            (*errors)++;
    }
}

/* Durations in seconds, one per run that has both ends. */
struct samples {
    double *v;
    size_t n;
};

static void sample_add(struct samples *st, uint64_t from, uint64_t to)
{
    if (from && to)
        st->v[st->n++] = ((double)to - (double)from) / 1e9;
}

static size_t samples_over(const struct samples *st, double limit)
{
    size_t n = 0;
    for (size_t i = 0; i < st->n; i++)
        n += st->v[i] > limit;
    return n;
}

struct dist {
    double p50, p99, max;
};

static struct dist dist_of(struct samples *st)
{
    struct dist d = {pct(st->v, st->n, 0.5), pct(st->v, st->n, 0.99), pct(st->v, st->n, 1)};
    return d;
}

/* What the watches and the hook saw of every teardown, per run. */
struct react_seen {
    struct samples disp, sent, del, pdel, gone;
    int all_running, early, calls, deletes;
    double *buf;
};

static void react_collect(struct react_seen *rs, int n, int m)
{
    memset(rs, 0, sizeof *rs);
    rs->buf = calloc(5 * (size_t)n, sizeof(double));
    if (!rs->buf)
        die("out of memory");
    rs->disp.v = rs->buf;
    rs->sent.v = rs->buf + n;
    rs->del.v = rs->buf + 2 * (size_t)n;
    rs->pdel.v = rs->buf + 3 * (size_t)n;
    rs->gone.v = rs->buf + 4 * (size_t)n;
    pthread_mutex_lock(&dmu);
    for (int i = 0; i < n; i++) {
        const struct rt *r = &W.rt[i];
        rs->all_running += r->t_fail && r->running_at_fail == m - 1;
        rs->early += r->early_del;
        rs->calls += r->d_calls;
        rs->deletes += r->d_deletes;
        sample_add(&rs->disp, r->d_enq, r->d_sent);
        sample_add(&rs->sent, r->t_fail, r->d_sent);
        sample_add(&rs->del, r->t_fail, r->t_sib_del_all);
        sample_add(&rs->pdel, r->t_fail, r->t_sib_pods_del_all);
        sample_add(&rs->gone, r->t_fail, r->t_pods_gone);
    }
    pthread_mutex_unlock(&dmu);
}

/* The reaction's latencies, as log lines. */
static void react_log(struct react_seen *rs)
{
    struct dist d = dist_of(&rs->disp), s = dist_of(&rs->sent), l = dist_of(&rs->del),
                p = dist_of(&rs->pdel), g = dist_of(&rs->gone);
    say("  in the operator: event that queued the run -> last DELETE handed to the client: p50 "
        "%.2f ms p99 %.2f ms max %.2f ms (%zu runs; %zu over 5 ms, %zu over 100 ms)",
        d.p50 * 1e3, d.p99 * 1e3, d.max * 1e3, rs->disp.n, samples_over(&rs->disp, 0.005),
        samples_over(&rs->disp, 0.1));
    say("  T0 = failing Job's FailureTarget at our watch; T0 -> last DELETE handed to the client: "
        "p50 %.2f ms p99 %.2f ms",
        s.p50 * 1e3, s.p99 * 1e3);
    say("  T0 -> every sibling Job has a deletionTimestamp: p50 %.0f ms p99 %.0f ms max %.0f ms "
        "(%zu runs)",
        l.p50 * 1e3, l.p99 * 1e3, l.max * 1e3, rs->del.n);
    /* The operator DELETEs a torn-down Job's pods itself once the Job's
     * DELETE is accepted; the garbage collector (Foreground) may come first. */
    say("  T0 -> every sibling pod has a deletionTimestamp: p50 %.0f ms p99 %.0f ms max %.0f ms "
        "(%zu runs)",
        p.p50 * 1e3, p.p99 * 1e3, p.max * 1e3, rs->pdel.n);
    say("  T0 -> last sibling pod gone: p50 %.2f s p99 %.2f s max %.2f s (%zu runs)", g.p50, g.p99,
        g.max, rs->gone.n);
}

/* The reaction's four summary rows. */
static void react_rows(struct react_seen *rs, int n, int m)
{
    struct dist d = dist_of(&rs->disp), l = dist_of(&rs->del), p = dist_of(&rs->pdel),
                g = dist_of(&rs->gone);
    char fig[96], tgt[48];
    const char *ph = matrix_mode ? "matrix" : "react",
               *sib = matrix_mode ? "combinations" : "siblings";
    snprintf(fig, sizeof fig, "%s: event -> last sibling DELETE sent, in operator, p99", ph);
    row(fig, "<= 5 ms", rs->disp.n == (size_t)n && d.p99 <= 0.005, "%.2f ms (max %.2f)",
        d.p99 * 1e3, d.max * 1e3);
    snprintf(fig, sizeof fig, "%s: failure -> all %d %s deletionTimestamp, p99", ph, m - 1, sib);
    row(fig, "<= 250 ms", rs->del.n == (size_t)n && l.p99 <= 0.25, "%.0f ms (max %.0f)",
        l.p99 * 1e3, l.max * 1e3);
    snprintf(fig, sizeof fig, "%s: failure -> all %d %s' pods deletionTimestamp, p99", ph, m - 1,
             sib);
    row(fig, "<= 250 ms", rs->pdel.n == (size_t)n && p.p99 <= 0.25, "%.0f ms (max %.0f)",
        p.p99 * 1e3, p.max * 1e3);
    snprintf(fig, sizeof fig, "%s: failure -> last sibling pod gone, max (%d runs)", ph, n);
    snprintf(tgt, sizeof tgt, "<= %d s (grace+1)", opt.grace_s + 1);
    row(fig, tgt, rs->gone.n == (size_t)n && g.max <= opt.grace_s + 1.0, "%.2f s (p99 %.2f)", g.max,
        g.p99);
}

static void react_run(int n, int m);

static void phase_react(void)
{
    react_run(opt.react_runs, opt.react_steps);
}

/* The same reaction, the siblings being the combinations of one matrix
 * step (issue 14: fail-fast across a fan-out). */
static void phase_matrix(void)
{
    say("== matrix: the siblings are the %d combinations of one matrix step", opt.matrix_width);
    matrix_mode = 1;
    ns_now = ns_matrix;
    react_run(opt.matrix_runs, opt.matrix_width);
    matrix_mode = 0;
    ns_now = ns_react;
}

static void react_run(int n, int m)
{
    say("== react: %d runs x %d steps, all Running; then s000 of one run fails every %d ms; grace "
        "%d s",
        n, m, opt.fail_gap_ms, opt.grace_s);
    react_ramp(n, m);
    op_relaunch(NS_REACT);
    struct op_snap s0 = op_snap();
    struct cpu_snap c1 = cpu_snap();
    int trig_errors = 0;
    react_fail_all(n, opt.fail_gap_ms, &trig_errors);
    int rc = wait_until(react_done, NULL, 120 + opt.grace_s);
    struct cpu_snap c2 = cpu_snap();
    struct op_snap s1 = op_snap();
    struct react_seen rs;
    react_collect(&rs, n, m);
    if (rc)
        say("TIMEOUT: not every run finished its teardown (%zu/%d pods-gone)", rs.gone.n, n);
    say("react: %d/%d runs had all %d siblings Running when s000 failed; %d trigger errors; %d "
        "sibling deletions seen before T0",
        rs.all_running, n, m - 1, trig_errors, rs.early);
    cpu_report("the failures and teardowns", &c1, &c2);
    say("  teardown plans: %d for %d runs; DELETEs in them: %d (siblings: %d)", rs.calls, n,
        rs.deletes, n * (m - 1));
    say("  operator writes during the failures: %llu (Job deletes %llu, status %llu, events %llu)",
        (unsigned long long)(writes_of(&s1.ks) - writes_of(&s0.ks)),
        (unsigned long long)(s1.cs.jobs_deleted - s0.cs.jobs_deleted),
        (unsigned long long)(s1.cs.status_writes - s0.cs.status_writes),
        (unsigned long long)(s1.cs.events - s0.cs.events));
    react_log(&rs);
    react_rows(&rs, n, m);
    free(rs.buf);
    watch_stop();
    op_shutdown();
}

/* ---- phase 3c: the teardown storm ----------------------------------------------------- */

/* The direct reference's Jobs and pods, as their DELETEs need them. */
struct dobj {
    char uid[PLAN_UID_LEN];
    char job[PLAN_SHORT_LEN]; /* a pod's Job */
    unsigned running : 1;
};

static int dobj_project(struct json_object *obj, void *record)
{
    struct dobj *d = record;
    const char *uid = kj_path_str(obj, "metadata", "uid", NULL);
    const char *job = kj_path_str(obj, "metadata", "labels", "batch.kubernetes.io/job-name", NULL);
    const char *ph = kj_path_str(obj, "status", "phase", NULL);
    snprintf(d->uid, sizeof d->uid, "%s", uid ? uid : "");
    snprintf(d->job, sizeof d->job, "%s", job ? job : "");
    d->running = ph && strcmp(ph, "Running") == 0 &&
                 !kj_path_str(obj, "metadata", "deletionTimestamp", NULL);
    return 0;
}

static const struct inf_projection dobj_proj = {sizeof(struct dobj), dobj_project, NULL};

/* How many of the reference's Jobs and pods exist, and pods Running. */
struct dcount {
    long jobs, pods, running;
};

static void djob_add(void *ud, const void *rec)
{
    (void)rec;
    ((struct dcount *)ud)->jobs++;
}

static void djob_delete(void *ud, const void *rec)
{
    (void)rec;
    ((struct dcount *)ud)->jobs--;
}

static void dpod_add(void *ud, const void *rec)
{
    struct dcount *c = ud;
    c->pods++;
    c->running += ((const struct dobj *)rec)->running;
}

static void dpod_update(void *ud, const void *o, const void *n)
{
    ((struct dcount *)ud)->running +=
        (long)((const struct dobj *)n)->running - (long)((const struct dobj *)o)->running;
}

static void dpod_delete(void *ud, const void *rec)
{
    struct dcount *c = ud;
    c->pods--;
    c->running -= ((const struct dobj *)rec)->running;
}

static const struct inf_handlers djob_h = {djob_add, NULL, djob_delete, NULL};
static const struct inf_handlers dpod_h = {dpod_add, dpod_update, dpod_delete, NULL};

/* The reference's watches: they count, and they hold the uids. Watching
 * also costs the API server what our watches of the storm cost it. */
struct dref {
    struct dcount cnt;
    struct inf *jobs, *pods;
    int closed;
};

static int dref_synced(void *ud)
{
    const struct dref *d = ud;
    return inf_synced(d->jobs) && inf_synced(d->pods);
}

static void dref_watch(struct dref *d, const char *ns)
{
    if (inf_new(kc, &L, &KUBE_JOBS, ns, NULL, NULL, &dobj_proj, &djob_h, &d->cnt, &d->jobs) < 0 ||
        inf_new(kc, &L, &KUBE_PODS, ns, NULL, NULL, &dobj_proj, &dpod_h, &d->cnt, &d->pods) < 0 ||
        inf_start(d->jobs) < 0 || inf_start(d->pods) < 0 || wait_until(dref_synced, d, 60) < 0)
        die("cannot watch %s", ns);
}

static void dref_closed(struct inf *inf, void *ud)
{
    inf_free(inf);
    ((struct dref *)ud)->closed++;
}

static int dref_all_closed(void *ud)
{
    return ((struct dref *)ud)->closed == 2;
}

static void dref_unwatch(struct dref *d)
{
    inf_close(d->jobs, dref_closed, d);
    inf_close(d->pods, dref_closed, d);
    wait_until(dref_all_closed, d, 30);
}

struct dref_want {
    const struct dcount *cnt;
    long running; /* < 0: until every Job and pod is gone */
};

static int dref_reached(void *ud)
{
    const struct dref_want *w = ud;
    return w->running < 0 ? w->cnt->jobs == 0 && w->cnt->pods == 0 : w->cnt->running >= w->running;
}

/* One Job of the reference and its Running pod (pod "" if none). */
struct dtarget {
    char job[PLAN_SHORT_LEN], job_uid[PLAN_UID_LEN];
    char pod[PLAN_OBJ_LEN], pod_uid[PLAN_UID_LEN];
};

struct dtargets {
    struct dtarget *t;
    size_t n, cap, pods;
};

static int dtarget_job(void *ud, const void *rec)
{
    struct dtargets *ts = ud;
    if (ts->n == ts->cap)
        return 1;
    struct dtarget *t = &ts->t[ts->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->job, sizeof t->job, "%s", inf_rec_name(rec));
    snprintf(t->job_uid, sizeof t->job_uid, "%s", ((const struct dobj *)rec)->uid);
    return 0;
}

static int dtarget_cmp(const void *a, const void *b)
{
    return strcmp(((const struct dtarget *)a)->job, ((const struct dtarget *)b)->job);
}

static int dtarget_pod(void *ud, const void *rec)
{
    struct dtargets *ts = ud;
    const struct dobj *p = rec;
    struct dtarget key;
    snprintf(key.job, sizeof key.job, "%s", p->job);
    struct dtarget *t = bsearch(&key, ts->t, ts->n, sizeof *t, dtarget_cmp);
    if (t && p->running && !t->pod[0]) { /* the operator deletes only live pods */
        snprintf(t->pod, sizeof t->pod, "%s", inf_rec_name(rec));
        snprintf(t->pod_uid, sizeof t->pod_uid, "%s", p->uid);
        ts->pods++;
    }
    return 0;
}

/* Every Job of the reference, each with its Running pod. */
static struct dtargets dtargets_collect(const struct dref *d)
{
    struct dtargets ts = {.cap = inf_count(d->jobs)};
    ts.t = calloc(ts.cap + 1, sizeof *ts.t);
    if (!ts.t)
        die("out of memory");
    inf_foreach(d->jobs, dtarget_job, &ts);
    qsort(ts.t, ts.n, sizeof *ts.t, dtarget_cmp);
    inf_foreach(d->pods, dtarget_pod, &ts);
    return ts;
}

/* The reference's DELETEs in flight: every Job's, each followed by its
 * pod's once it was accepted, as the operator sequences them. */
struct dstorm {
    struct kube_client *kc;
    const char *ns;
    const struct dtarget *t;
    int n, next, in_flight, window, answered, failed;
    long first_error;
    uint64_t t_first, t_last; /* first send, last answer */
    struct persec ps;
};

struct dsop {
    struct dstorm *d;
    int i, pod;
};

static void dstorm_fill(struct dstorm *d);
static void dstorm_send(struct dstorm *d, int i, int pod);

static void dstorm_cb(void *ud, const struct kube_result *r)
{
    struct dsop *o = ud;
    struct dstorm *d = o->d;
    uint64_t t = uv_hrtime();
    int ok = delete_ok(r), i = o->i, pod = o->pod;
    free(o);
    d->t_last = t;
    d->answered++;
    d->in_flight--;
    persec_add(&d->ps, t);
    if (!ok && !d->failed++)
        d->first_error = r->err ? r->err : r->http_status;
    if (!pod && ok && d->t[i].pod[0])
        dstorm_send(d, i, 1);
    dstorm_fill(d);
}

static void dstorm_send(struct dstorm *d, int i, int pod)
{
    const struct dtarget *t = &d->t[i];
    struct dsop *o = malloc(sizeof *o);
    if (!o)
        die("out of memory");
    *o = (struct dsop){d, i, pod};
    /* The operator's bodies (plan_delete_job, plan_delete_pods): a Job
     * Foreground with its uid as precondition, a pod with its uid. */
    struct json_object *body =
        kj_delete_options(pod ? NULL : "Foreground", pod ? t->pod_uid : t->job_uid);
    uint64_t now = uv_hrtime();
    int rc = kube_delete_body(d->kc, pod ? &KUBE_PODS : &KUBE_JOBS, d->ns, pod ? t->pod : t->job,
                              body, dstorm_cb, o);
    json_object_put(body);
    if (rc < 0)
        die("kube_delete_body: %s", strerror(-rc));
    if (!d->t_first)
        d->t_first = d->ps.t0 = now;
    d->in_flight++;
}

static void dstorm_fill(struct dstorm *d)
{
    while (d->next < d->n && d->in_flight < d->window)
        dstorm_send(d, d->next++, 0);
}

static int dstorm_done(void *ud)
{
    const struct dstorm *d = ud;
    return d->next == d->n && d->in_flight == 0;
}

static void client_closed(void *ud)
{
    *(int *)ud = 1;
}

static int flag_set_p(void *ud)
{
    return *(int *)ud;
}

/* The reference's figures: DELETEs answered (2xx, 404, 409) per second. */
struct dref_result {
    double rate, secs;
    int deletes;
};

/* The DELETEs, by a client of their own with no client-side limit (the
 * physical limit is the API server's, not a token bucket's). */
static struct dref_result dstorm_run(const char *ns, const struct dtargets *ts)
{
    struct kube_options ko = {.qps = -1, .delete_qps = -1};
    struct kube_client *dc = bench_client(cfg, &ko);
    struct dstorm d = {.kc = dc, .ns = ns, .t = ts->t, .n = (int)ts->n, .window = opt.window};
    /* Its connection made before the clock starts, as the operator's is. */
    get_sync(dc, &KUBE_NAMESPACES, NULL, ns);
    struct kube_stats k0, k1;
    kube_client_stats(dc, &k0);
    struct cpu_snap c0 = cpu_snap();
    dstorm_fill(&d);
    int rc = wait_until(dstorm_done, &d, 600);
    struct cpu_snap c1 = cpu_snap();
    kube_client_stats(dc, &k1);
    struct dref_result res = {.secs = (double)(d.t_last - d.t_first) / 1e9,
                              .deletes = d.answered - d.failed};
    res.rate = res.deletes / res.secs;
    say("direct: %s%d DELETEs (%zu Jobs, %zu pods) answered in %.2f s = %.0f/s; %d failed (first "
        "%ld); %llu attempts, %llu answered 429; %llu connections opened",
        rc ? "TIMEOUT: " : "", d.answered, ts->n, ts->pods, res.secs, res.rate, d.failed,
        d.first_error,
        (unsigned long long)(k1.requests[KUBE_VERB_DELETE] - k0.requests[KUBE_VERB_DELETE]),
        (unsigned long long)(k1.by_code[429] - k0.by_code[429]),
        (unsigned long long)(k1.connections - k0.connections));
    persec_log(&d.ps, "direct");
    cpu_report("the direct DELETEs", &c0, &c1);
    int closed = 0;
    kube_client_close(dc, client_closed, &closed);
    wait_until(flag_set_p, &closed, 30);
    return res;
}

/* The physical limit for the storm, in the same run: as many Jobs of the
 * step's shape as the storm has siblings (no owner, the run label renamed:
 * see make_direct_job), with the controller manager running so that their
 * pods exist and are Running, then a DELETE for each Job and pod. */
static struct dref_result storm_direct(const char *ns, int n_jobs, int m)
{
    say("== storm, the direct reference (%s): %d Jobs with their pods Running, then the operator's "
        "DELETE of each Job and pod, %d in flight, no client-side limit",
        ns, n_jobs, opt.window);
    ns_create(kc, ns);
    struct json_object *wf = workflow("storm", ns, m, 0, "1h", opt.grace_s);
    struct wf_error err;
    struct direct_ud u = {.ns = ns, .prefix = "direct", .steps = m - 1};
    if (wf_spec_parse(json_object_object_get(wf, "spec"), &u.spec, &err) < 0 ||
        wf_params_resolve(u.spec, NULL, &u.params, &err) < 0)
        die("workflow: %s", err.message);
    struct dref d = {{0}};
    dref_watch(&d, ns);
    double t0 = now_s();
    struct batch b;
    creates_run(&b, &KUBE_JOBS, ns, n_jobs, make_direct_job, &u, 600);
    free(b.lat);
    struct dref_want up = {&d.cnt, n_jobs}, gone = {&d.cnt, -1};
    int rc = wait_until(dref_reached, &up, 600);
    say("%s%ld of %d pods Running %.1f s after the first create (%d create errors)",
        rc ? "TIMEOUT: only " : "", d.cnt.running, n_jobs, now_s() - t0, b.errors);
    struct dtargets ts = dtargets_collect(&d);
    struct dref_result res = dstorm_run(ns, &ts);
    t0 = now_s();
    rc = wait_until(dref_reached, &gone, 600); /* a quiet cluster for the storm */
    say("%s%ld Jobs and %ld pods left %.1f s after the last answer", rc ? "TIMEOUT: " : "",
        d.cnt.jobs, d.cnt.pods, now_s() - t0);
    dref_unwatch(&d);
    free(ts.t);
    json_object_put(wf);
    wf_params_free(u.params);
    wf_spec_free(u.spec);
    return res;
}

static int storm_marked(void *ud)
{
    (void)ud;
    for (int i = 0; i < W.n; i++) {
        const struct rt *r = &W.rt[i];
        if (!r->t_fail || !r->t_sib_del_all || !r->t_sib_pods_del_all)
            return 0;
    }
    return 1;
}

/* Until the operator's DELETEs are all answered and none was sent for 1 s
 * (its pod DELETEs follow its Job DELETEs' answers); says so if not. */
static void op_dels_settle(double timeout_s)
{
    double end = now_s() + timeout_s;
    struct op_snap s = op_snap();
    int still = 0;
    while (still < 5 && now_s() < end) {
        sleep_loop(0.2);
        struct op_snap x = op_snap();
        still = x.dels.sent == s.dels.sent && x.dels.answered == x.dels.sent ? still + 1 : 0;
        s = x;
    }
    if (still < 5)
        say("TIMEOUT: %llu of the operator's %llu DELETEs unanswered after %.0f s more",
            (unsigned long long)(s.dels.sent - s.dels.answered), (unsigned long long)s.dels.sent,
            timeout_s);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* The last sibling deletionTimestamp (Job or pod) our watches saw. */
static uint64_t storm_last_marked(void)
{
    uint64_t t = 0;
    for (int i = 0; i < W.n; i++)
        t = max_u64(t, max_u64(W.rt[i].t_sib_del_all, W.rt[i].t_sib_pods_del_all));
    return t;
}

/* The first failure our watch saw. */
static uint64_t storm_first_fail(void)
{
    uint64_t t = 0;
    for (int i = 0; i < W.n; i++)
        if (W.rt[i].t_fail && (!t || W.rt[i].t_fail < t))
            t = W.rt[i].t_fail;
    return t;
}

/* What else the operator wrote while it tore down, and what its client
 * waited for. */
static void storm_writes_log(const struct op_snap *s0, const struct op_snap *s1,
                             const struct react_seen *rs, int n, int m)
{
    const struct kube_stats *a = &s0->ks, *z = &s1->ks;
#define K(f) (unsigned long long)(z->f - a->f)
#define C(f) (unsigned long long)(s1->cs.f - s0->cs.f)
    say("  teardown plans: %d for %d runs; Job DELETEs in them: %d (siblings: %d)", rs->calls, n,
        rs->deletes, n * (m - 1));
    say("  operator writes until its DELETEs were answered: %llu (Job deletes %llu, pod deletes "
        "%llu, status %llu, events %llu; events dropped %llu)",
        (unsigned long long)(writes_of(z) - writes_of(a)), C(jobs_deleted), C(pods_deleted),
        C(status_writes), C(events), C(events_dropped));
    say("  operator client: DELETE attempts %llu (2xx %llu, 4xx %llu, 5xx %llu, none %llu); 429s "
        "%llu, retries %llu, connections opened %llu; %llu requests waited for a token, %.0f ms "
        "on average (both lanes)",
        K(requests[KUBE_VERB_DELETE]), K(by_class[KUBE_VERB_DELETE][2]),
        K(by_class[KUBE_VERB_DELETE][4]), K(by_class[KUBE_VERB_DELETE][5]),
        K(by_class[KUBE_VERB_DELETE][0]), K(by_code[429]), K(retries), K(connections),
        K(ratelimit_waits),
        z->ratelimit_waits > a->ratelimit_waits
            ? (double)(z->ratelimit_wait_ms - a->ratelimit_wait_ms) /
                  (double)(z->ratelimit_waits - a->ratelimit_waits)
            : 0.0);
#undef K
#undef C
}

/* The operator's DELETE rates: the DELETEs it had answered (2xx, 404, 409)
 * over the span from its first DELETE handed to the client to the last
 * answered, the direct client's span; and, from the same start, to the last
 * sibling deletionTimestamp our watches saw, which comes later by the
 * watches' delay. */
struct storm_rates {
    double answered, watched;
    int complete; /* every sibling seen deleting */
};

static struct storm_rates storm_rate(const struct op_snap *s0, const struct op_snap *s1)
{
    const struct del_count *a = &s0->dels, *z = &s1->dels;
    struct storm_rates r = {0, 0, storm_marked(NULL)};
    uint64_t marked = storm_last_marked(), t0 = storm_first_fail();
    if (a->sent)
        say("  NOTE: the operator sent %llu DELETEs before the failures",
            (unsigned long long)a->sent);
    if (!z->t_first) {
        say("  the operator sent no DELETE");
        return r;
    }
    double span = (double)(z->t_last - z->t_first) / 1e9;
    double span_w = (double)(max_u64(z->t_last, marked) - z->t_first) / 1e9;
    r.answered = (double)(z->ok - a->ok) / span;
    r.watched = (double)(z->ok - a->ok) / span_w;
    say("  operator DELETEs: %llu handed to the client, %llu answered (%llu ok); from the first "
        "handed to the last answered %.2f s = %.0f/s; to the last sibling deletionTimestamp seen "
        "%.2f s = %.0f/s",
        (unsigned long long)(z->sent - a->sent), (unsigned long long)(z->answered - a->answered),
        (unsigned long long)(z->ok - a->ok), span, r.answered, span_w, r.watched);
    say("  first failure seen -> first DELETE handed: %.1f ms",
        t0 && z->t_first > t0 ? (double)(z->t_first - t0) / 1e6 : NAN);
    persec_log(&z->ps, "operator");
    return r;
}

/* The storm's latency rows (the rate's come with the reference). */
static void storm_rows(struct react_seen *rs, int n, int m)
{
    struct dist d = dist_of(&rs->disp), l = dist_of(&rs->del), p = dist_of(&rs->pdel);
    char fig[96];
    snprintf(fig, sizeof fig, "storm: event -> last sibling DELETE sent, in operator, p99");
    row(fig, "<= 5 ms", rs->disp.n == (size_t)n && d.p99 <= 0.005, "%.2f ms (max %.2f)",
        d.p99 * 1e3, d.max * 1e3);
    snprintf(fig, sizeof fig, "storm: failure -> all %d siblings deletionTimestamp, p99", m - 1);
    row(fig, "-", -1, "%.0f ms (max %.0f)", l.p99 * 1e3, l.max * 1e3);
    snprintf(fig, sizeof fig, "storm: failure -> all %d siblings' pods deletionTimestamp, p99",
             m - 1);
    row(fig, "-", -1, "%.0f ms (max %.0f)", p.p99 * 1e3, p.max * 1e3);
}

/* n runs x m steps all Running, then every run's s000 failed at once. */
static struct storm_rates storm_run(int n, int m)
{
    say("== storm (%s): %d runs x %d steps, all Running; then s000 of every run fails at once; "
        "grace %d s",
        NS_REACT, n, m, opt.grace_s);
    react_ramp(n, m);
    op_relaunch(NS_REACT);
    struct op_snap s0 = op_snap();
    struct cpu_snap c0 = cpu_snap();
    int trig_errors = 0;
    react_fail_all(n, 0, &trig_errors);
    int rc = wait_until(storm_marked, NULL, 600);
    op_dels_settle(120);
    struct cpu_snap c1 = cpu_snap();
    struct op_snap s1 = op_snap();
    int gone = wait_until(react_done, NULL, 120 + opt.grace_s); /* pods gone: log only */
    struct react_seen rs;
    react_collect(&rs, n, m);
    say("storm: %s%d/%d runs had all %d siblings Running when s000 failed; %d trigger errors; %d "
        "sibling deletions seen before T0",
        rc ? "TIMEOUT: not every sibling Job and pod seen deleting; " : "", rs.all_running, n,
        m - 1, trig_errors, rs.early);
    cpu_report("the storm (until the operator's DELETEs were answered)", &c0, &c1);
    storm_writes_log(&s0, &s1, &rs, n, m);
    react_log(&rs);
    if (gone)
        say("  not every sibling pod was gone %d s after the teardown", 120 + opt.grace_s);
    struct storm_rates r = storm_rate(&s0, &s1);
    storm_rows(&rs, n, m);
    free(rs.buf);
    watch_stop();
    op_shutdown();
    return r;
}

/* Issue 15. The reference is measured before and after the storm, and the
 * mean is the one compared with: the box is shared and its load drifts
 * (as for B). */
static void phase_storm(void)
{
    int n = opt.storm_runs, m = opt.storm_steps;
    struct dref_result r1 = storm_direct(ns_name("storm-direct-1"), n * (m - 1), m);
    ns_now = ns_storm;
    struct storm_rates r = storm_run(n, m);
    ns_now = ns_react;
    struct dref_result r2 = storm_direct(ns_name("storm-direct-2"), n * (m - 1), m);
    double ref = (r1.rate + r2.rate) / 2;
    say("storm: operator %.0f DELETEs/s (%.0f/s to the last deletionTimestamp seen) = %.2f (%.2f) "
        "x the direct client's %.0f/s (%.0f before, %.0f after)",
        r.answered, r.watched, r.answered / ref, r.watched / ref, ref, r1.rate, r2.rate);
    char fig[96];
    snprintf(fig, sizeof fig, "storm: direct client DELETEs/s (%d Jobs + pods, %d in flight)",
             n * (m - 1), opt.window);
    row(fig, "reference", -1, "%.0f/s (%.0f, %.0f)", ref, r1.rate, r2.rate);
    snprintf(fig, sizeof fig, "storm: operator DELETE rate / direct (%d x %d, default budget)", n,
             m);
    row(fig, ">= 0.9", r.complete && r.answered / ref >= 0.9, "%.2f (%.0f/s; %.2f to the watch)",
        r.answered / ref, r.answered, r.watched / ref);
}

/* ---- phase 4: economy ---------------------------------------------------------------- */

static int econ_done(void *ud)
{
    (void)ud;
    return W.runs_terminal >= W.n;
}

/* Each round in its own namespace, with its own controller. */
static void econ_one(const char *name, int chain)
{
    int n = opt.econ_runs, m = 5;
    const char *ns = ns_name(chain ? "econ-chain" : "econ-par");
    ns_create(kc, ns);
    struct kube_options ko = client_options();
    op_launch(ns, opt.workers, &ko);
    op_lead();
    watch_start(ns, n, m, -1, WATCH_RUNS);
    workflow_create(name, ns, m, chain, "500ms", 0);
    sleep_loop(1); /* the Workflow's own status write, out of the window */
    struct op_snap s0 = op_snap();
    struct batch b;
    runs_post(&b, ns, name, n, 120);
    int rc = wait_until(econ_done, NULL, 120 + 10.0 * m);
    /* Trailing writes (events after the last status): until the operator's
     * write count has not moved for 2 s. */
    struct op_snap s1 = op_wait_quiet(4, 40);
    const struct kube_stats *a = &s0.ks, *z = &s1.ks;
    double per = 1.0 / n;
#define D(f) ((double)(z->requests[f] - a->requests[f]) * per)
#define C(f) ((double)(s1.cs.f - s0.cs.f) * per)
    double writes = (double)(writes_of(z) - writes_of(a)) * per;
    say("econ %s: %s%d/%d runs Succeeded; per run: %.2f writes = POST %.2f (Job creates %.2f, "
        "events %.2f) + PATCH %.2f (status %.2f) + PUT %.2f + DELETE %.2f; reads GET %.2f LIST "
        "%.2f",
        name, rc ? "TIMEOUT: " : "", W.runs_succeeded, n, writes, D(KUBE_VERB_CREATE),
        C(jobs_created), C(events), D(KUBE_VERB_PATCH), C(status_writes), D(KUBE_VERB_UPDATE),
        D(KUBE_VERB_DELETE), D(KUBE_VERB_GET), D(KUBE_VERB_LIST));
    double no_events = writes - C(events);
    char fig[96], tgt[32];
    snprintf(fig, sizeof fig, "econ: API writes per successful %d-step run (%s)", m,
             chain ? "chain" : "parallel");
    /* Issue 15's target, by default: the two phase-change Events of a
     * successful run count, so it is met only without them (the row
     * shows both). */
    snprintf(tgt, sizeof tgt, "<= %d (M+2)", m + 2);
    row(fig, tgt, !rc && W.runs_succeeded == n && writes <= m + 2, "%.1f (%.1f w/o Events)", writes,
        no_events);
#undef D
#undef C
    watch_stop();
    op_shutdown();
}

static void phase_econ(void)
{
    say("== econ: %d successful runs of a 5-step Workflow, parallel then chain", opt.econ_runs);
    econ_one("par", 0);
    econ_one("chain", 1);
}

/* ---- phase 5: RSS of the real binary --------------------------------------------------- */

static long proc_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* utime + stime of pid, in seconds. */
static double proc_cpu_s(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    return stat_cpu_s(path);
}

/* A loopback port free right now (bind to 0, read it back, close). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        die("cannot find a free port");
    close(fd);
    return ntohs(a.sin_port);
}

/* Starts `--operator --namespace NS_RSS`, its output in logpath. */
static pid_t operator_spawn(const char *logpath)
{
    char qps[32], burst[32];
    snprintf(qps, sizeof qps, "%g", opt.qps);
    snprintf(burst, sizeof burst, "%d", opt.burst);
    char a0[1024], a2[1024], a1[] = "--kubeconfig", a3[] = "--namespace", a4[64], a5[] = "--qps",
                             a7[] = "--burst", a9[] = "--log-level", a10[] = "warn";
    snprintf(a0, sizeof a0, "%s", opt.operator_bin);
    snprintf(a2, sizeof a2, "%s", opt.kubeconfig);
    snprintf(a4, sizeof a4, "%s", NS_RSS);
    /* Health and metrics servers on, as by default, on ports of their own
     * (the defaults :8080/:8081 may be taken on a shared machine). */
    char a11[] = "--health-addr", a12[32], a13[] = "--metrics-addr", a14[32];
    int hp = free_port(), mp = free_port();
    while (mp == hp)
        mp = free_port();
    snprintf(a12, sizeof a12, "127.0.0.1:%d", hp);
    snprintf(a14, sizeof a14, "127.0.0.1:%d", mp);
    char a15[] = "--webhook-addr", a16[] = "127.0.0.1:0", a17[] = "--ui-addr",
         a18[] = "127.0.0.1:0";
    char *argv[] = {a0,  a1,  a2,  a3,  a4,  a5,  qps, a7,  burst, a9,
                    a10, a11, a12, a13, a14, a15, a16, a17, a18,   NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    if (posix_spawn(&pid, a0, &fa, NULL, argv, environ) != 0)
        die("cannot start %s", a0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* SIGTERM, up to 10 s to exit, then SIGKILL. */
static void operator_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
        sleep_loop(0.1);
    if (waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
}

struct quiet {
    long want_jobs;
    double quiet_s;
};

static int rss_settled(void *ud)
{
    const struct quiet *q = ud;
    return W.jobs_now >= q->want_jobs && W.pods_running >= q->want_jobs &&
           (double)(uv_hrtime() - W.t_last_event) / 1e9 >= q->quiet_s;
}

/* The operator's memory before the runs: VmRSS and its parts, and its CPU. */
struct rss_idle {
    long rss, anon;
    double cpu;
};

/* With every run of n x m Running: VmRSS sampled as the caches fill, then
 * once everything is Running and the operator has gone quiet (its status
 * writes done); the summary rows. pending: VmRSS with the runs alone. */
static void rss_running(pid_t pid, const struct rss_idle *idle, long pending, int n, int m)
{
    /* Then the Workflow: every run starts its m steps, which stay Running. */
    double t0 = now_s();
    workflow_create("rss", NS_RSS, m, 0, "1h", 0);
    long next_mark = (long)n * m / 4;
    struct quiet q = {(long)n * m, 3};
    double deadline = t0 + opt.rss_timeout_s;
    while (!rss_settled(&q) && now_s() < deadline) {
        sleep_loop(0.5);
        if (W.jobs_now >= next_mark && next_mark < (long)n * m) {
            say("  %ld Jobs, %ld pods Running: VmRSS %ld KiB", W.jobs_now, W.pods_running,
                proc_kib(pid, "VmRSS"));
            next_mark += (long)n * m / 4;
        }
    }
    int settled = rss_settled(&q);
    long full = proc_kib(pid, "VmRSS"), hwm = proc_kib(pid, "VmHWM");
    long full_anon = proc_kib(pid, "RssAnon");
    double cpu = proc_cpu_s(pid) - idle->cpu;
    long jobs = W.jobs_now;
    double per_job = jobs ? (double)(full - idle->rss) * 1024.0 / (double)jobs : NAN;
    say("rss: %s%ld Jobs (%ld pods Running, %d runs) after %.1f s: VmRSS %ld KiB, VmHWM %ld KiB; "
        "%.0f bytes per Job; CPU %.2f s (%.2f ms per Job)",
        settled ? "" : "NOT SETTLED: ", jobs, W.pods_running, n, now_s() - t0, full, hwm, per_job,
        cpu, jobs ? cpu * 1e3 / (double)jobs : NAN);
    say("  RssAnon %ld KiB (+%ld KiB over idle); from Pending runs to all Running: %.0f bytes per "
        "Job (its pod, its share of the run's grown status)",
        full_anon, full_anon - idle->anon,
        jobs ? (double)(full - pending) * 1024.0 / (double)jobs : NAN);
    char fig[96];
    snprintf(fig, sizeof fig, "rss: VmRSS with %d runs / %ld Jobs (+pods) tracked", n, jobs);
    row(fig, "-", -1, "%.1f MiB (HWM %.1f)", full / 1024.0, hwm / 1024.0);
    row("rss: VmRSS per tracked Job (slope from idle)", "<= 1 KiB", settled && per_job <= 1024,
        "%.2f KiB", per_job / 1024.0);
}

static void phase_rss(void)
{
    if (!opt.operator_bin) {
        say("== rss: skipped (no --operator)");
        return;
    }
    int n = opt.rss_runs, m = opt.rss_steps;
    say("== rss: %s --namespace %s; %d runs x %d steps that stay Running", opt.operator_bin, NS_RSS,
        n, m);
    ns_create(kc, NS_RSS);
    char logpath[1024];
    snprintf(logpath, sizeof logpath, "%s/operator-rss.log", opt.workdir);
    pid_t pid = operator_spawn(logpath);
    sleep_loop(3); /* connect, list, watch */
    struct rss_idle idle = {proc_kib(pid, "VmRSS"), 0, proc_cpu_s(pid)};
    if (idle.rss < 0 || waitpid(pid, NULL, WNOHANG) == pid)
        die("the operator exited at once; see %s", logpath);
    idle.anon = proc_kib(pid, "RssAnon");
    long idle_file = proc_kib(pid, "RssFile");
    say("operator pid %d idle: VmRSS %ld KiB (%.2f MiB) = RssAnon %ld KiB (heap, stacks) + RssFile "
        "%ld KiB (mapped code: libcrypto, libcurl, ...)",
        (int)pid, idle.rss, idle.rss / 1024.0, idle.anon, idle_file);
    row("rss: operator idle VmRSS (binary)", "<= 8 MiB", idle.rss <= 8L * 1024, "%.2f MiB",
        idle.rss / 1024.0);

    /* First the runs alone: their Workflow does not exist yet, so each is
     * cached and marked Pending (WorkflowNotFound) and nothing more. */
    watch_start(NS_RSS, n, m, -1, WATCH_JOBS | WATCH_PODS | WATCH_RUNS);
    struct batch b;
    runs_post(&b, NS_RSS, "rss", n, 600);
    struct quiet q0 = {0, 2};
    wait_until(rss_settled, &q0, 60);
    long pending = proc_kib(pid, "VmRSS");
    double per_run = (double)(pending - idle.rss) * 1024.0 / n;
    say("with %d Pending runs cached: VmRSS %ld KiB: %.0f bytes per Pending run", n, pending,
        per_run);
    rss_running(pid, &idle, pending, n, m);
    operator_stop(pid);
    watch_stop();
    /* the cluster is stopped right after; no need to wait for the cleanup */
    delete_sync(kc, &KUBE_NAMESPACES, NULL, NS_RSS, "Background");
}

/* ---- main ------------------------------------------------------------------------------ */

static __attribute__((noreturn)) void usage(void)
{
    fputs("usage: bench_controller --kubeconfig PATH [--quick] [--operator PATH]\n"
          "  [--only direct,start,react,matrix,storm,econ,rss] [--runs N] [--start-steps N]\n"
          "  [--start-mode backlog|live] [--direct-jobs N] [--react-runs N] [--react-steps M]\n"
          "  [--fail-gap MS] [--grace S] [--matrix-runs N] [--matrix-width W]\n"
          "  [--storm-runs N (default 100)] [--storm-steps M (default 50)]\n"
          "  [--delete-qps Q] [--delete-burst B] (the default-budget operator's DELETE lane)\n"
          "  [--econ-runs N] [--rss-runs N] [--rss-steps S]\n"
          "  [--rss-timeout S] [--window W] [--qps Q] [--burst B] [--workers N]\n"
          "  [--start-workers LIST (default 16,64)] [--kcm-running]\n"
          "  [--summary FILE] [--workdir DIR]\n",
          stderr);
    exit(2);
}

/* Every flag, where its value goes ('s' a string, 'i' an int, 'd' a
 * double, 'f' no value: sets 1) and its default. */
static const struct flag {
    const char *name;
    char kind;
    void *to;
    const char *def;
} flags[] = {
    {"kubeconfig", 's', &opt.kubeconfig, NULL},
    {"quick", 'f', &opt.quick, NULL},
    {"operator", 's', &opt.operator_bin, NULL},
    {"only", 's', &opt.only, NULL},
    {"runs", 'i', &opt.runs, "1000"},
    {"start-steps", 'i', &opt.start_steps, "5"},
    {"start-mode", 's', &opt.start_mode, "backlog"},
    {"direct-jobs", 'i', &opt.direct_jobs, NULL},
    {"react-runs", 'i', &opt.react_runs, "100"},
    {"react-steps", 'i', &opt.react_steps, "50"},
    {"matrix-runs", 'i', &opt.matrix_runs, "10"},
    {"matrix-width", 'i', &opt.matrix_width, "100"},
    {"storm-runs", 'i', &opt.storm_runs, "100"},
    {"storm-steps", 'i', &opt.storm_steps, "50"},
    {"delete-qps", 'd', &opt.delete_qps, "0"},
    {"delete-burst", 'i', &opt.delete_burst, "0"},
    {"fail-gap", 'i', &opt.fail_gap_ms, "1000"},
    {"grace", 'i', &opt.grace_s, "1"},
    {"econ-runs", 'i', &opt.econ_runs, "20"},
    {"rss-runs", 'i', &opt.rss_runs, "1000"},
    {"rss-steps", 'i', &opt.rss_steps, "10"},
    {"rss-timeout", 'i', &opt.rss_timeout_s, "300"},
    {"window", 'i', &opt.window, "64"},
    {"qps", 'd', &opt.qps, "1000"},
    {"burst", 'i', &opt.burst, "1000"},
    {"workers", 'i', &opt.workers, "16"},
    {"summary", 's', &opt.summary, NULL},
    {"workdir", 's', &opt.workdir, "."},
    {"start-workers", 's', &opt.start_workers, "16,64"},
    {"kcm-running", 'f', &opt.kcm_running, NULL},
};
#define N_FLAGS (sizeof flags / sizeof flags[0])

static void flag_set(const struct flag *f, const char *v)
{
    if (f->kind == 's')
        *(const char **)f->to = v;
    else if (f->kind == 'i')
        *(int *)f->to = atoi(v);
    else if (f->kind == 'd')
        *(double *)f->to = atof(v);
    else
        *(int *)f->to = 1;
}

static void parse_flags(int argc, char **argv)
{
    for (size_t i = 0; i < N_FLAGS; i++)
        if (flags[i].def)
            flag_set(&flags[i], flags[i].def);
    /* --quick first, so that explicit sizes win whatever the order. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--quick") == 0) {
            opt.quick = 1;
            opt.runs = 50;
            opt.react_runs = 10;
            opt.storm_runs = 10;
            opt.econ_runs = 5;
            opt.rss_runs = 50;
            opt.rss_timeout_s = 120;
        }
    struct option lo[N_FLAGS + 2] = {{0}};
    for (size_t i = 0; i < N_FLAGS; i++)
        lo[i] =
            (struct option){flags[i].name, flags[i].kind == 'f' ? no_argument : required_argument,
                            NULL, 256 + (int)i};
    lo[N_FLAGS] = (struct option){"help", no_argument, NULL, 'h'};
    for (int c; (c = getopt_long(argc, argv, "h", lo, NULL)) != -1;) {
        if (c < 256 || c >= 256 + (int)N_FLAGS)
            usage();
        flag_set(&flags[c - 256], optarg);
    }
}

/* The direct rate is measured before and after the start trials and
 * averaged: the box is shared, and its load drifts. */
static void phases_direct_and_start(void)
{
    int start = phase_on("start");
    if (!phase_on("direct") && !start)
        return;
    B = phase_direct(ns_name("direct-1"), opt.direct_jobs);
    struct start_result sr[8];
    int n_sr = 0;
    double b1 = B, b2 = B;
    if (start) {
        char list[128];
        snprintf(list, sizeof list, "%s", opt.start_workers);
        for (char *sv = NULL, *w = strtok_r(list, ",", &sv); w && n_sr < 8;
             w = strtok_r(NULL, ",", &sv))
            if (atoi(w) > 0)
                sr[n_sr++] = phase_start(atoi(w));
        b2 = phase_direct(ns_name("direct-2"), opt.direct_jobs);
        B = (b1 + b2) / 2;
    }
    char fig[96];
    snprintf(fig, sizeof fig, "direct client: Job creates/s (%d Jobs, %d in flight%s)",
             opt.direct_jobs, opt.window,
             getenv("RUNBOOK_CLUSTER_CTL") && !opt.kcm_running ? ", KCM paused" : "");
    row(fig, "reference B", -1, "%.0f/s (%.0f, %.0f)", B, b1, b2);
    for (int i = 0; i < n_sr; i++) {
        snprintf(fig, sizeof fig, "start: runs/s to all first-wave Jobs (%d x %d, workers %d)",
                 opt.runs, opt.start_steps, sr[i].workers);
        row(fig, "-", -1, "%.1f runs/s", sr[i].runs_s);
        snprintf(fig, sizeof fig, "start: operator Job-create rate / B (workers %d%s)",
                 sr[i].workers, sr[i].workers == 16 ? ", default" : "");
        row(fig, ">= 0.9", sr[i].ok && sr[i].jobs_s / B >= 0.9, "%.2f (%.0f/s)", sr[i].jobs_s / B,
            sr[i].jobs_s);
    }
}

int main(int argc, char **argv)
{
    parse_flags(argc, argv);
    if (!opt.kubeconfig) {
        printf("bench_controller: needs a cluster; run bench/run.sh (or pass --kubeconfig)\n");
        return 0;
    }
    if (opt.runs < 1 || opt.react_runs < 1 || opt.react_steps < 2 || opt.react_steps > 100 ||
        opt.matrix_runs < 1 || opt.matrix_width < 2 || opt.matrix_width > 256 ||
        opt.storm_runs < 1 || opt.storm_steps < 2 || opt.storm_steps > 100 ||
        opt.delete_burst < 0 || opt.start_steps < 1 || opt.rss_steps < 1 || opt.window < 1 ||
        opt.econ_runs < 1)
        usage();
    if (!opt.direct_jobs)
        opt.direct_jobs = opt.runs * opt.start_steps;
    signal(SIGPIPE, SIG_IGN);
    log_setup(LOGL_WARN, LOG_FORMAT_LOGFMT, NULL);
    cfg = bench_connect(opt.kubeconfig);
    struct kube_options ko = client_options();
    kc = bench_client(cfg, &ko);
    cpu_init();
    ns_names_init();
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    say("bench_controller: %s, %ld CPUs, server %s", opt.quick ? "quick" : "full", ncpu,
        cfg->server);

    phases_direct_and_start();
    if (phase_on("react"))
        phase_react();
    if (phase_on("matrix"))
        phase_matrix();
    if (phase_on("storm"))
        phase_storm();
    if (phase_on("econ"))
        phase_econ();
    if (phase_on("rss"))
        phase_rss();

    print_summary(stdout);
    if (opt.summary) {
        FILE *f = fopen(opt.summary, "w");
        if (f) {
            print_summary(f);
            fclose(f);
        }
    }
    free(W.rt);
    kcfg_free(cfg);
    return 0;
}
