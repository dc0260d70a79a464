/* The executor, driven without a cluster: watch events are fed into its
 * informers by hand (inf_feed) and every request it makes goes to a
 * recording writer (ctrl_options.writer) that the test answers as the API
 * server would. What is checked is exactly what the API server would be
 * sent: verbs, names, DeleteOptions bodies (propagation policy, uid
 * preconditions), and what is not sent (a second DELETE, pod DELETEs
 * before their Job's, any write once leadership is lost). */
#include "check.h"
#include "ctrl/ctrl-internal.h"
#include "kube/kube.h"
#include "kubeconfig/kubeconfig.h"
#include "log/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the recording writer -------------------------------------------------- */

struct req {
    char verb[8]; /* create, patch, delete, get, list (name: the label selector) */
    const struct kube_resource *res;
    char name[PLAN_OBJ_LEN];
    struct json_object *body; /* own reference */
    kube_cb cb;
    void *cb_ud;
    int answered;
};

#define MAXR 512
static struct req reqs[MAXR];
static size_t n_reqs;
static uv_loop_t loop;

static int record(const char *verb, const struct kube_resource *res, const char *name,
                  struct json_object *body, kube_cb cb, void *cb_ud)
{
    if (n_reqs == MAXR)
        return -ENOMEM;
    struct req *r = &reqs[n_reqs++];
    memset(r, 0, sizeof *r);
    snprintf(r->verb, sizeof r->verb, "%s", verb);
    r->res = res;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    r->body = body;
    r->cb = cb;
    r->cb_ud = cb_ud;
    return 0;
}

static int w_create(void *ud, const struct kube_resource *res, const char *ns,
                    struct json_object *body, kube_cb cb, void *cb_ud)
{
    (void)ud;
    (void)ns;
    return record("create", res, kj_path_str(body, "metadata", "name", NULL), json_object_get(body),
                  cb, cb_ud);
}

static int w_patch(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                   const char *body, size_t len, const struct kube_patch_opts *po, kube_cb cb,
                   void *cb_ud)
{
    (void)ud;
    (void)ns;
    const char *verb = po && po->status ? "status" : "patch";
    return record(verb, res, name, kube_json_parse(body, len), cb, cb_ud);
}

static int w_delete(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                    struct json_object *body, kube_cb cb, void *cb_ud)
{
    (void)ud;
    (void)ns;
    return record("delete", res, name, json_object_get(body), cb, cb_ud);
}

static int w_get(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                 kube_cb cb, void *cb_ud)
{
    (void)ud;
    (void)ns;
    return record("get", res, name, NULL, cb, cb_ud);
}

static int w_list(void *ud, const struct kube_resource *res, const char *ns,
                  const struct kube_list_opts *opts, kube_cb cb, void *cb_ud)
{
    (void)ud;
    (void)ns;
    CHECK(opts->resource_version == NULL); /* a consistent read */
    return record("list", res, opts->label_selector, NULL, cb, cb_ud);
}

static const struct ctrl_writer recorder = {w_create, w_patch, w_delete, w_get, w_list, NULL};

/* The first unanswered request of that verb, resource and name (NULL: any). */
static struct req *pending(const char *verb, const char *resource, const char *name)
{
    for (size_t i = 0; i < n_reqs; i++) {
        struct req *r = &reqs[i];
        if (!r->answered && strcmp(r->verb, verb) == 0 && strcmp(r->res->resource, resource) == 0 &&
            (!name || strcmp(r->name, name) == 0))
            return r;
    }
    return NULL;
}

static size_t count(const char *verb, const char *resource, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < n_reqs; i++)
        n += strcmp(reqs[i].verb, verb) == 0 && strcmp(reqs[i].res->resource, resource) == 0 &&
             (!name || strcmp(reqs[i].name, name) == 0);
    return n;
}

static void spin(void)
{
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
}

/* Answers r with code and body (borrowed), as the kube client would. */
static void answer(struct req *r, long code, const char *reason, struct json_object *body)
{
    struct kube_result res;
    memset(&res, 0, sizeof res);
    res.http_status = code;
    res.body = body;
    if (code >= 300) {
        res.status.code = (int)code;
        snprintf(res.status.reason, sizeof res.status.reason, "%s", reason ? reason : "");
        snprintf(res.status.message, sizeof res.status.message, "%s refused",
                 reason ? reason : "request");
    }
    r->answered = 1;
    r->cb(r->cb_ud, &res);
    spin();
}

static void answer_all(void)
{
    struct json_object *none = kube_json_parse("{\"items\":[]}", 12);
    for (size_t i = 0; i < n_reqs; i++)
        if (!reqs[i].answered)
            answer(&reqs[i], strcmp(reqs[i].verb, "create") == 0 ? 201 : 200, NULL,
                   strcmp(reqs[i].verb, "list") == 0 ? none : NULL);
    json_object_put(none);
}

/* --- the cluster's side: objects fed as watch events ---------------------- */

static struct ctrl *c;
static int rv = 100;
static int events_all; /* the next started() controller's ctrl_options.events_all */
static int workers;    /* ... and its ctrl_options.workers (0: the default) */
static struct kube_client *kc_global(void);

static struct json_object *J(const char *s)
{
    struct json_object *o = kube_json_parse(s, strlen(s));
    CHECK(o != NULL);
    return o;
}

static void set_rv(struct json_object *o)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%d", ++rv);
    kj_put(kj_get(o, "metadata"), "resourceVersion", kj_str(buf));
}

static void feed(int inf, const char *type, struct json_object *o)
{
    set_rv(o);
    CHECK_INT(inf_feed(c->inf[inf], type, o), 0);
    spin();
}

/* RFC 7386 merge patch, as the API server applies the status patches. */
static void merge(struct json_object *dst, struct json_object *patch)
{
    json_object_object_foreach(patch, k, v)
    {
        struct json_object *d = kj_get(dst, k);
        if (!v)
            json_object_object_del(dst, k);
        else if (json_object_is_type(v, json_type_object) &&
                 json_object_is_type(d, json_type_object))
            merge(d, v);
        else
            kj_put(dst, k, kj_copy(v));
    }
}

static struct json_object *run;

/* Answers the pending status patch of the run and feeds the result. */
static void status_lands(void)
{
    struct req *p = pending("status", "workflowruns", "r1");
    CHECK(p != NULL);
    if (!p)
        return;
    struct json_object *st = kj_get(p->body, "status");
    if (!kj_get(run, "status"))
        kj_put(run, "status", kj_obj());
    merge(kj_get(run, "status"), st);
    answer(p, 200, NULL, run);
    feed(CTRL_INF_RUNS, "MODIFIED", run);
}

static struct json_object *jobs[8], *pods[8];
static size_t n_jobs;

/* Answers the pending create of Job `name` with 201 and feeds it. */
static struct json_object *job_lands(const char *name)
{
    struct req *p = pending("create", "jobs", name);
    CHECK(p != NULL);
    if (!p)
        return NULL;
    struct json_object *j = kj_copy(p->body);
    char uid[40];
    snprintf(uid, sizeof uid, "uid-%s", name);
    kj_put(kj_get(j, "metadata"), "uid", kj_str(uid));
    kj_put(j, "status", J("{\"active\":1,\"startTime\":\"2026-12-01T00:00:01Z\"}"));
    answer(p, 201, NULL, j);
    feed(CTRL_INF_JOBS, "ADDED", j);
    jobs[n_jobs++] = j;
    return j;
}

static struct json_object *pod_of(struct json_object *job)
{
    char buf[1024];
    const char *name = kj_path_str(job, "metadata", "name", NULL);
    const char *uid = kj_path_str(job, "metadata", "uid", NULL);
    const char *step = kj_path_str(job, "metadata", "labels", KJ_LABEL_STEP, NULL);
    snprintf(
        buf, sizeof buf,
        "{\"metadata\":{\"name\":\"%s-p\",\"namespace\":\"ci\",\"uid\":\"pod-%s\","
        "\"labels\":{\"runbook.dev/run\":\"r1\",\"runbook.dev/step\":\"%s\","
        "\"batch.kubernetes.io/job-name\":\"%s\",\"batch.kubernetes.io/controller-uid\":\"%s\"},"
        "\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"%s\",\"uid\":\"%s\","
        "\"controller\":true}]},\"status\":{\"phase\":\"Running\"}}",
        name, name, step, name, uid, name, uid);
    return J(buf);
}

static const char *WF = "{\"apiVersion\":\"runbook.dev/v1alpha1\",\"kind\":\"Workflow\","
                        "\"metadata\":{\"name\":\"wf\",\"namespace\":\"ci\",\"uid\":\"uid-wf\","
                        "\"generation\":1},\"spec\":{\"steps\":[{\"name\":\"a\",\"image\":\"x\"},"
                        "{\"name\":\"b\",\"image\":\"x\"},{\"name\":\"c\",\"image\":\"x\"}],"
                        "\"finally\":[{\"name\":\"fin\",\"image\":\"x\"}]}}";

/* A controller that leads, with Workflow wf, and run r1 started: its
 * first status written (Running, the snapshot), its three creates sent and
 * not answered yet. */
static void started(void)
{
    n_reqs = 0;
    n_jobs = 0;
    struct ctrl_options o = {
        .namespace = "ci", .writer = &recorder, .events_all = events_all, .workers = workers};
    CHECK_INT(ctrl_new(&loop, kc_global(), &o, &c), 0);
    for (int i = 0; i < CTRL_INF_MAX; i++)
        CHECK_INT(inf_feed_synced(c->inf[i]), 0);
    ctrl_set_leading(c, 1);
    struct json_object *wf = J(WF);
    feed(CTRL_INF_WORKFLOWS, "ADDED", wf);
    json_object_put(wf);
    answer_all(); /* the Workflow's status */
    run = J("{\"apiVersion\":\"runbook.dev/v1alpha1\",\"kind\":\"WorkflowRun\",\"metadata\":{"
            "\"name\":\"r1\",\"namespace\":\"ci\",\"uid\":\"uid-r1\",\"generation\":1,"
            "\"creationTimestamp\":\"2026-12-01T00:00:00Z\"},\"spec\":{\"workflowRef\":{\"name\":"
            "\"wf\"}}}");
    feed(CTRL_INF_RUNS, "ADDED", run);
    status_lands(); /* Running, the snapshot */
    CHECK_STR(kj_path_str(run, "status", "phase", NULL), "Running");
    CHECK_INT(count("create", "jobs", NULL), 3);
}

static void on_timer(uv_timer_t *t);

/* Runs the loop for ms, answering every request as it comes. */
static void run_for(uint64_t ms)
{
    uv_timer_t t;
    int fired = 0;
    uv_timer_init(&loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_timer, ms, 0);
    while (!fired) {
        uv_run(&loop, UV_RUN_ONCE);
        answer_all();
    }
    uv_close((uv_handle_t *)&t, NULL);
    spin();
}

/* ... and its three steps running, one pod each, planned (news of a
 * run's children waits CTRL_BATCH_MS to be read together). */
static void setup(void)
{
    started();
    const char *names[] = {"r1-a", "r1-b", "r1-c"};
    for (size_t i = 0; i < 3; i++) {
        struct json_object *j = job_lands(names[i]);
        pods[i] = pod_of(j);
        feed(CTRL_INF_PODS, "ADDED", pods[i]);
    }
    run_for(CTRL_BATCH_MS + 20);
}

static void stopped(void *ud)
{
    *(int *)ud = 1;
}

static void teardown_all(void)
{
    answer_all();
    int done = 0;
    ctrl_stop(c, stopped, &done);
    for (int i = 0; i < 100 && !done; i++) {
        answer_all();
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    CHECK(done);
    ctrl_free(c);
    c = NULL;
    for (size_t i = 0; i < n_reqs; i++)
        json_object_put(reqs[i].body);
    for (size_t i = 0; i < n_jobs; i++) {
        json_object_put(jobs[i]);
        json_object_put(pods[i]); /* NULL for a Job no pod was made for */
        jobs[i] = pods[i] = NULL;
    }
    json_object_put(run);
    run = NULL;
}

/* Step a fails (FailureTarget): b and c are deleted, Foreground with uid
 * preconditions; each one's pod only after its Job's DELETE is accepted. */
static void fail_a(void)
{
    kj_put(jobs[0], "status",
           J("{\"failed\":1,\"conditions\":[{\"type\":\"FailureTarget\",\"status\":\"True\","
             "\"reason\":\"BackoffLimitExceeded\",\"message\":\"limit\"}]}"));
    kj_put(pods[0], "status",
           J("{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"step\",\"state\":{"
             "\"terminated\":{\"exitCode\":3,\"reason\":\"Error\"}}}]}"));
    feed(CTRL_INF_PODS, "MODIFIED", pods[0]);
    feed(CTRL_INF_JOBS, "MODIFIED", jobs[0]);
}

static void test_teardown_requests(void)
{
    setup();
    fail_a();
    struct req *st = pending("status", "workflowruns", "r1");
    CHECK(st && strcmp(kj_path_str(st->body, "status", "phase", NULL), "Failing") == 0);
    const char *sibs[] = {"r1-b", "r1-c"};
    for (size_t i = 0; i < 2; i++) {
        struct req *d = pending("delete", "jobs", sibs[i]);
        CHECK(d != NULL);
        if (!d)
            continue;
        CHECK_STR(kj_get_str(d->body, "propagationPolicy"), "Foreground");
        char uid[40];
        snprintf(uid, sizeof uid, "uid-%s", sibs[i]);
        CHECK_STR(kj_path_str(d->body, "preconditions", "uid", NULL), uid);
    }
    CHECK_INT(count("delete", "jobs", "r1-a"), 0); /* the failed one is not torn down */
    CHECK_INT(count("delete", "pods", NULL), 0);   /* not before their Job's DELETE */
    answer(pending("delete", "jobs", "r1-b"), 200, NULL, NULL);
    struct req *pd = pending("delete", "pods", "r1-b-p");
    CHECK(pd != NULL);
    CHECK_STR(pd ? kj_path_str(pd->body, "preconditions", "uid", NULL) : NULL, "pod-r1-b");
    CHECK(pd && !kj_get(pd->body, "propagationPolicy"));
    CHECK_INT(count("delete", "pods", "r1-c-p"), 0);
    /* c's Job DELETE fails: its pod is not deleted behind its back */
    answer(pending("delete", "jobs", "r1-c"), 500, "InternalError", NULL);
    CHECK_INT(count("delete", "pods", "r1-c-p"), 0);
    teardown_all();
}

/* A DELETE the server accepted is not sent again before the watch shows
 * the deletionTimestamp, however many reconciles come in between. */
static void on_timer(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

static void test_no_second_delete(void)
{
    setup();
    fail_a();
    status_lands();
    answer_all();
    CHECK_INT(count("delete", "jobs", "r1-b"), 1);
    /* more events, the Jobs' deletionTimestamps not yet among them */
    kj_put(kj_get(pods[0], "status"), "reason", kj_str("x"));
    feed(CTRL_INF_PODS, "MODIFIED", pods[0]);
    feed(CTRL_INF_JOBS, "MODIFIED", jobs[0]);
    answer_all();
    /* Past the status hold (a teardown's progress is bookkeeping), never
     * blocking longer: other timers (the 30 s expectations) must not make
     * time jump. */
    uv_timer_t t;
    int fired = 0;
    uv_timer_init(&loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_timer, CTRL_STATUS_COALESCE_MS + 200, 0);
    while (!fired) {
        uv_run(&loop, UV_RUN_ONCE);
        answer_all();
    }
    uv_close((uv_handle_t *)&t, NULL);
    spin();
    CHECK_INT(count("delete", "jobs", "r1-b"), 1);
    CHECK_INT(count("delete", "jobs", "r1-c"), 1);
    CHECK_INT(count("delete", "pods", "r1-b-p"), 1);
    teardown_all();
}

/* A child's failure is planned at once (routine news waits CTRL_BATCH_MS):
 * the teardown's DELETEs are out before the loop has waited at all. */
static void test_failure_planned_at_once(void)
{
    setup();
    uint64_t t0 = uv_now(&loop);
    fail_a();
    CHECK(pending("delete", "jobs", "r1-b") != NULL);
    CHECK(uv_now(&loop) - t0 < CTRL_BATCH_MS);
    teardown_all();
}

static struct req *await(const char *verb, const char *resource, const char *name, uint64_t ms);

/* A teardown waits for its DELETEs' answers without a worker: with one
 * worker, another run is planned while they are all still unanswered. */
static void test_teardown_frees_worker(void)
{
    workers = 1;
    setup();
    workers = 0;
    fail_a();
    status_lands();
    CHECK(pending("delete", "jobs", "r1-b") != NULL);
    struct json_object *r2 =
        J("{\"apiVersion\":\"runbook.dev/v1alpha1\",\"kind\":\"WorkflowRun\",\"metadata\":{"
          "\"name\":\"r2\",\"namespace\":\"ci\",\"uid\":\"uid-r2\",\"generation\":1,"
          "\"creationTimestamp\":\"2026-12-01T00:00:02Z\"},\"spec\":{\"workflowRef\":{\"name\":"
          "\"wf\"}}}");
    feed(CTRL_INF_RUNS, "ADDED", r2);
    CHECK(await("status", "workflowruns", "r2", 1000) != NULL);
    CHECK(pending("delete", "jobs", "r1-b") != NULL); /* still unanswered */
    json_object_put(r2);
    teardown_all();
}

/* Leadership lost in the middle of a teardown: the pod DELETEs waiting for
 * their Job's are not sent, and nothing new is planned into writes. */
static void test_leadership_lost(void)
{
    setup();
    fail_a();
    size_t before = n_reqs;
    ctrl_set_leading(c, 0);
    answer(pending("delete", "jobs", "r1-b"), 200, NULL, NULL);
    answer(pending("delete", "jobs", "r1-c"), 200, NULL, NULL);
    CHECK_INT(count("delete", "pods", NULL), 0);
    answer_all();
    feed(CTRL_INF_PODS, "MODIFIED", pods[1]);
    for (size_t i = before; i < n_reqs; i++)
        fprintf(stderr, "after losing the lead: %s %s %s\n", reqs[i].verb, reqs[i].res->resource,
                reqs[i].name);
    CHECK_INT(n_reqs, before); /* no write at all */
    teardown_all();
}

/* spec.cancel: the run's three Jobs are deleted (Foreground, uid), the
 * cancel is latched in the status written first. */
static void test_cancel(void)
{
    setup();
    kj_put(kj_get(run, "spec"), "cancel", kj_bool(1));
    feed(CTRL_INF_RUNS, "MODIFIED", run);
    struct req *st = pending("status", "workflowruns", "r1");
    CHECK(st && strcmp(kj_path_str(st->body, "status", "phase", NULL), "Cancelling") == 0);
    CHECK(st && kj_get_bool(kj_get(st->body, "status"), "cancelRequested"));
    const char *names[] = {"r1-a", "r1-b", "r1-c"};
    for (size_t i = 0; i < 3; i++) {
        struct req *d = pending("delete", "jobs", names[i]);
        CHECK(d && strcmp(kj_get_str(d->body, "propagationPolicy"), "Foreground") == 0);
    }
    CHECK_INT(count("create", "jobs", "r1-fin"), 0); /* not while pods run */
    teardown_all();
}

/* A write lost to the API server (500) is planned again and sent again:
 * the executor keeps no state that the next plan does not rebuild. And a
 * new controller (a restart) fed the same cluster state sends the same
 * write again: nothing depended on the old process. */
static void test_lost_write(void)
{
    setup();
    fail_a();
    status_lands();
    answer(pending("delete", "jobs", "r1-b"), 503, "ServiceUnavailable", NULL);
    answer_all();
    /* the retry comes after the key's backoff */
    uv_timer_t t;
    int fired = 0;
    uv_timer_init(&loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_timer, 1500, 0);
    while (!fired && count("delete", "jobs", "r1-b") < 2) {
        uv_run(&loop, UV_RUN_ONCE);
        answer_all();
    }
    uv_close((uv_handle_t *)&t, NULL);
    spin();
    CHECK_INT(count("delete", "jobs", "r1-b"), 2);
    CHECK_INT(count("delete", "jobs", "r1-c"), 1); /* accepted: not again */
    teardown_all();
}

/* A Job vanishes (--cascade=orphan) while its pod runs: the pod is deleted
 * at once (no Job to wait for), and the step is not created again. */
static void test_orphan(void)
{
    setup();
    feed(CTRL_INF_JOBS, "DELETED", jobs[1]);
    struct req *pd = pending("delete", "pods", "r1-b-p");
    CHECK(pd != NULL);
    CHECK_STR(pd ? kj_path_str(pd->body, "preconditions", "uid", NULL) : NULL, "pod-r1-b");
    CHECK_INT(count("create", "jobs", "r1-b"), 1);
    teardown_all();
}

/* Runs the loop (answering nothing) until a request of that verb,
 * resource and name is pending, for at most ms. */
static struct req *await(const char *verb, const char *resource, const char *name, uint64_t ms)
{
    uv_timer_t t;
    int fired = 0;
    uv_timer_init(&loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_timer, ms, 0);
    while (!fired && !pending(verb, resource, name))
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    spin();
    return pending(verb, resource, name);
}

static int str_is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static void answer_list(struct req *l)
{
    struct json_object *none = J("{\"items\":[]}");
    answer(l, 200, NULL, none);
    json_object_put(none);
}

/* Lets the status patches land and answers LISTs with no pod, for at most
 * ms, until the run's status says phase; returns how many LISTs were
 * answered before, 0 if the phase never came. */
static int until_phase(const char *phase, uint64_t ms)
{
    uv_timer_t t;
    int fired = 0, lists = 0;
    uv_timer_init(&loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_timer, ms, 0);
    while (!fired && !str_is(kj_path_str(run, "status", "phase", NULL), phase)) {
        struct req *r = pending("list", "pods", NULL);
        if (r) {
            answer_list(r);
            lists++;
        } else if (pending("status", "workflowruns", "r1")) {
            status_lands();
        } else {
            uv_run(&loop, UV_RUN_ONCE);
        }
    }
    uv_close((uv_handle_t *)&t, NULL);
    spin();
    return str_is(kj_path_str(run, "status", "phase", NULL), phase) ? lists : 0;
}

/* The pod watch lags the Job watch: the run's Jobs are gone and the pod
 * cache is empty, but the Job controller made a pod the watch has not
 * delivered (plan.h, ctrl_listed.c). Neither the finally step nor the
 * terminal phase comes before a consistent LIST of the run's pods says
 * none runs; the pod that LIST finds is deleted and waited for. */
static void test_pod_watch_lags(void)
{
    setup();
    kj_put(kj_get(run, "spec"), "cancel", kj_bool(1));
    feed(CTRL_INF_RUNS, "MODIFIED", run);
    status_lands(); /* Cancelling */
    answer_all();   /* the Jobs' and pods' DELETEs */
    for (size_t i = 0; i < 3; i++) {
        feed(CTRL_INF_PODS, "DELETED", pods[i]);
        feed(CTRL_INF_JOBS, "DELETED", jobs[i]);
    }
    struct req *l = await("list", "pods", "runbook.dev/run=r1", 100);
    CHECK(l != NULL);
    CHECK_INT(count("create", "jobs", "r1-fin"), 0);
    /* The LIST finds a pod of step b's Job that the watch never showed. */
    struct json_object *stale = pod_of(jobs[1]);
    kj_put(kj_get(stale, "metadata"), "name", kj_str("r1-b-stale"));
    kj_put(kj_get(stale, "metadata"), "uid", kj_str("pod-stale"));
    struct json_object *list = kj_obj(), *items = kj_arr();
    kj_push(items, stale);
    kj_put(list, "items", items);
    if (l)
        answer(l, 200, NULL, list);
    json_object_put(list);
    CHECK_INT(c->stats.pod_lists_unseen, 1);
    struct req *pd = pending("delete", "pods", "r1-b-stale");
    CHECK(pd != NULL);
    CHECK_STR(pd ? kj_path_str(pd->body, "preconditions", "uid", NULL) : NULL, "pod-stale");
    CHECK_INT(count("create", "jobs", "r1-fin"), 0);
    CHECK_STR(kj_path_str(run, "status", "phase", NULL), "Cancelling");
    if (pd)
        answer(pd, 200, NULL, NULL);
    /* No watch event comes (the watch still lags): the executor looks
     * again by itself, and this LIST finds nothing. */
    l = await("list", "pods", "runbook.dev/run=r1", 3000);
    CHECK(l != NULL);
    if (l)
        answer_list(l);
    CHECK_INT(count("create", "jobs", "r1-fin"), 1);
    struct json_object *fin = job_lands("r1-fin");
    kj_put(fin, "status",
           J("{\"succeeded\":1,\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}"));
    feed(CTRL_INF_JOBS, "MODIFIED", fin);
    /* finally done: Cancelled only after one more LIST */
    CHECK_INT(until_phase("Cancelled", 3000), 1);
    teardown_all();
}

/* Creates the API server refuses: 422 fails the step (JobRejected) at
 * once; 409 with a Job that is not the run's: JobConflict after a GET. */
static void test_refused_creates(void)
{
    started();
    answer(pending("create", "jobs", "r1-a"), 422, "Invalid", NULL);
    answer(pending("create", "jobs", "r1-b"), 409, "AlreadyExists", NULL);
    struct req *g = pending("get", "jobs", "r1-b");
    CHECK(g != NULL);
    if (g) {
        struct json_object *foreign =
            J("{\"metadata\":{\"name\":\"r1-b\",\"namespace\":\"ci\",\"uid\":\"uid-x\"}}");
        answer(g, 200, NULL, foreign);
        json_object_put(foreign);
    }
    job_lands("r1-c");
    /* the Job's news is read CTRL_BATCH_MS later */
    struct req *st = await("status", "workflowruns", "r1", 1000);
    CHECK(st != NULL);
    if (st) {
        struct json_object *steps = kj_path(st->body, "status", "steps", NULL);
        const char *ra = kj_get_str(json_object_array_get_idx(steps, 0), "reason");
        const char *rb = kj_get_str(json_object_array_get_idx(steps, 1), "reason");
        CHECK_STR(ra, "JobRejected");
        CHECK_STR(rb, "JobConflict");
        CHECK_STR(kj_path_str(st->body, "status", "phase", NULL), "Failing");
    }
    CHECK(pending("delete", "jobs", "r1-c") != NULL); /* FailFast */
    CHECK_INT(count("create", "jobs", "r1-a"), 1);    /* refused for good: not again */
    teardown_all();
}

/* --- which Events are sent ---------------------------------------------- */

/* The Events with that reason the recorder was sent. */
static size_t events_sent(const char *reason)
{
    size_t n = 0;
    for (size_t i = 0; i < n_reqs; i++)
        n += strcmp(reqs[i].verb, "create") == 0 && reqs[i].res == &KUBE_EVENTS &&
             str_is(kj_get_str(reqs[i].body, "reason"), reason);
    return n;
}

/* Answers the Event creates until the lane has none left to send. */
static void events_answered(void)
{
    for (int round = 0; round < 100; round++) {
        struct req *e = pending("create", "events", NULL);
        if (!e)
            break;
        answer(e, 201, NULL, NULL);
    }
    CHECK(pending("create", "events", NULL) == NULL);
}

/* Job i (and its pod, if any) completed. */
static void job_completes(size_t i)
{
    kj_put(jobs[i], "status",
           J("{\"succeeded\":1,\"startTime\":\"2026-12-01T00:00:01Z\",\"completionTime\":"
             "\"2026-12-01T00:00:02Z\",\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]"
             "}"));
    if (pods[i]) {
        kj_put(pods[i], "status", J("{\"phase\":\"Succeeded\"}"));
        feed(CTRL_INF_PODS, "MODIFIED", pods[i]);
    }
    feed(CTRL_INF_JOBS, "MODIFIED", jobs[i]);
}

/* A run whose four steps (a, b, c, then finally fin) all succeed: by
 * default its phase changes are Events and its steps' starts and ends are
 * not; with events_all they are too. Either way every step's success is
 * counted. */
static void successful_run(int all)
{
    events_all = all;
    setup();
    for (size_t i = 0; i < 3; i++)
        job_completes(i);
    CHECK(await("create", "jobs", "r1-fin", 3000) != NULL);
    struct json_object *fin = job_lands("r1-fin");
    if (fin)
        job_completes(n_jobs - 1);
    until_phase("Succeeded", 5000);
    CHECK_STR(kj_path_str(run, "status", "phase", NULL), "Succeeded");
    events_answered();
    CHECK_INT(events_sent("StepStarted"), all ? 4 : 0);
    CHECK_INT(events_sent("StepSucceeded"), all ? 4 : 0);
    CHECK_INT(events_sent("Running"), 1);
    CHECK_INT(events_sent("Succeeded"), 1);
    CHECK_INT(c->stats.steps_succeeded, 4);
    CHECK_INT(c->stats.steps_failed, 0);
    teardown_all();
    events_all = 0;
}

static void test_events_success_news(void)
{
    successful_run(0);
}

static void test_events_success_all(void)
{
    successful_run(1);
}

/* A step fails: its StepFailed and the run's Failing are news, sent with
 * either setting; the step's start only with events_all. */
static void failed_step(int all)
{
    events_all = all;
    setup();
    fail_a();
    status_lands(); /* Failing */
    answer_all();   /* the teardown's DELETEs, then the Events follow */
    events_answered();
    CHECK_INT(events_sent("StepFailed"), 1);
    CHECK_INT(events_sent("Failing"), 1);
    CHECK(all ? events_sent("StepStarted") >= 1 : events_sent("StepStarted") == 0);
    CHECK_INT(c->stats.steps_failed, 1);
    teardown_all();
    events_all = 0;
}

static void test_events_failure_news(void)
{
    failed_step(0);
}

static void test_events_failure_all(void)
{
    failed_step(1);
}

static struct kube_client *the_kc;
static struct kube_client *kc_global(void)
{
    return the_kc;
}

static void on_closed(void *ud)
{
    *(int *)ud = 1;
}

int main(void)
{
    log_setup(LOGL_OFF, LOG_FORMAT_LOGFMT, NULL);
    uv_loop_init(&loop);
    /* Never used for I/O: every write goes to the recorder, the informers
     * are fed by hand. */
    char server[] = "https://127.0.0.1:1";
    struct kcfg cfg = {.server = server};
    CHECK_INT(kube_client_new(&loop, &cfg, NULL, &the_kc), 0);
    RUN(test_teardown_requests);
    RUN(test_no_second_delete);
    RUN(test_teardown_frees_worker);
    RUN(test_failure_planned_at_once);
    RUN(test_leadership_lost);
    RUN(test_cancel);
    RUN(test_lost_write);
    RUN(test_orphan);
    RUN(test_refused_creates);
    RUN(test_pod_watch_lags);
    RUN(test_events_success_news);
    RUN(test_events_success_all);
    RUN(test_events_failure_news);
    RUN(test_events_failure_all);
    int closed = 0;
    kube_client_close(the_kc, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    return check_finish();
}
