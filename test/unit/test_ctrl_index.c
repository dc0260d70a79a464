/* The controller's indexes (owner -> children) and its compact cache
 * records: what goes in comes back out exactly as plan_run would see it. */
#include "check.h"
#include "ctrl/ctrl-internal.h"
#include "informer/inf_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The names under ns/owner, joined with ','. */
static const char *names_of(struct ctrl_idx *x, const char *ns, const char *owner)
{
    static char buf[4096];
    size_t len, off = 0;
    const char *names = ctrl_idx_get(x, ns, owner, &len);
    buf[0] = '\0';
    CTRL_IDX_FOREACH(n, names, len)
    {
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", off ? "," : "", n);
    }
    return buf;
}

static void test_index(void)
{
    struct ctrl_idx *x = ctrl_idx_new();
    CHECK(x != NULL);
    CHECK_INT(ctrl_idx_add(x, "ci", "run-1", "job-a"), 0);
    CHECK_INT(ctrl_idx_add(x, "ci", "run-1", "job-b"), 0);
    CHECK_INT(ctrl_idx_add(x, "ci", "run-1", "job-a"), 0); /* idempotent */
    CHECK_INT(ctrl_idx_add(x, "other", "run-1", "job-z"), 0);
    CHECK_STR(names_of(x, "ci", "run-1"), "job-a,job-b");
    CHECK_STR(names_of(x, "other", "run-1"), "job-z");
    CHECK_STR(names_of(x, "ci", "run-2"), "");
    CHECK_INT(ctrl_idx_owners(x), 2);

    /* a name that is a prefix of another is a different name */
    CHECK_INT(ctrl_idx_add(x, "ci", "run-1", "job"), 0);
    ctrl_idx_del(x, "ci", "run-1", "job");
    CHECK_STR(names_of(x, "ci", "run-1"), "job-a,job-b");

    ctrl_idx_del(x, "ci", "run-1", "job-a");
    CHECK_STR(names_of(x, "ci", "run-1"), "job-b");
    ctrl_idx_del(x, "ci", "run-1", "missing"); /* no-op */
    ctrl_idx_del(x, "ci", "nobody", "job-b");  /* no-op */
    ctrl_idx_del(x, "ci", "run-1", "job-b");
    CHECK_STR(names_of(x, "ci", "run-1"), "");
    CHECK_INT(ctrl_idx_owners(x), 1); /* an emptied set is dropped */

    CHECK_INT(ctrl_idx_add(x, "ci", "", "job"), -EINVAL);
    CHECK_INT(ctrl_idx_add(x, "ci", "run", ""), -EINVAL);
    char longname[400];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK_INT(ctrl_idx_add(x, "ci", longname, "job"), -ENAMETOOLONG);
    size_t len = 99;
    CHECK(ctrl_idx_get(x, "ci", longname, &len) == NULL);
    CHECK_INT(len, 0);
    ctrl_idx_free(x);
    ctrl_idx_free(NULL);
}

/* Many children, added and removed in an interleaved order, against a
 * plain array model. */
static void test_index_model(void)
{
    enum { N = 300 };
    struct ctrl_idx *x = ctrl_idx_new();
    int in[N] = {0};
    unsigned seed = 7;
    for (int round = 0; round < 5000; round++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)((seed >> 8) % N);
        char name[32];
        snprintf(name, sizeof name, "pod-%d", i);
        if (in[i]) {
            ctrl_idx_del(x, "ns", "job", name);
            in[i] = 0;
        } else {
            CHECK_INT(ctrl_idx_add(x, "ns", "job", name), 0);
            in[i] = 1;
        }
    }
    size_t len, count = 0;
    const char *names = ctrl_idx_get(x, "ns", "job", &len);
    int seen[N] = {0};
    CTRL_IDX_FOREACH(n, names, len)
    {
        int i = atoi(n + 4);
        CHECK(i >= 0 && i < N && in[i] && !seen[i]);
        if (i >= 0 && i < N)
            seen[i] = 1;
        count++;
    }
    size_t want = 0;
    for (int i = 0; i < N; i++)
        want += (size_t)in[i];
    CHECK_INT(count, want);
    ctrl_idx_free(x);
}

static void test_stamps(void)
{
    struct ctrl_stamps *st = ctrl_stamps_new();
    uint64_t v = 0;
    CHECK(st != NULL);
    CHECK_INT(ctrl_stamp_get(st, "a", &v), 0);
    CHECK_INT(ctrl_stamp_set(st, "a", 50, 0), 0);
    CHECK_INT(ctrl_stamp_set(st, "a", 70, 1), 0); /* keep_min: 50 stays */
    CHECK_INT(ctrl_stamp_get(st, "a", &v), 1);
    CHECK_INT(v, 50);
    CHECK_INT(ctrl_stamp_set(st, "a", 70, 0), 0); /* overwrite */
    CHECK_INT(ctrl_stamp_get(st, "a", &v), 1);
    CHECK_INT(v, 70);
    ctrl_stamp_del(st, "a");
    ctrl_stamp_del(st, "a"); /* absent: no-op */
    CHECK_INT(ctrl_stamp_get(st, "a", &v), 0);
    /* Churn far past the table's size: deletes rehash the table, so the
     * keys still present are all found and nothing else is. */
    char key[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "uid-%d", i);
        CHECK_INT(ctrl_stamp_set(st, key, (uint64_t)i, 0), 0);
        if (i >= 10) {
            snprintf(key, sizeof key, "uid-%d", i - 10);
            ctrl_stamp_del(st, key);
        }
    }
    CHECK_INT(ctrl_stamps_count(st), 10);
    int found = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "uid-%d", i);
        if (ctrl_stamp_get(st, key, &v)) {
            found++;
            CHECK_INT(v, i);
            CHECK(i >= 19990);
        }
    }
    CHECK_INT(found, 10);
    ctrl_stamps_free(st);
    ctrl_stamps_free(NULL);
}

static struct json_object *parse(const char *s)
{
    struct json_object *o = json_tokener_parse(s);
    CHECK(o != NULL);
    return o;
}

static void test_job_record(void)
{
    struct inf_cache *c = inf_cache_new(&ctrl_job_projection, &(struct inf_handlers){0}, NULL);
    struct json_object *job = parse(
        "{\"metadata\":{\"name\":\"r1-build\",\"namespace\":\"ci\",\"uid\":\"u-job\","
        "\"resourceVersion\":\"7\",\"deletionTimestamp\":\"2026-12-06T10:00:00Z\","
        "\"labels\":{\"runbook.dev/run\":\"r1\",\"runbook.dev/step\":\"build\"},"
        "\"ownerReferences\":[{\"kind\":\"ConfigMap\",\"name\":\"x\",\"uid\":\"u-x\"},"
        "{\"apiVersion\":\"runbook.dev/v1alpha1\",\"kind\":\"WorkflowRun\",\"name\":\"r1\","
        "\"uid\":\"u-run\",\"controller\":true}]},"
        "\"status\":{\"active\":1,\"failed\":2,\"startTime\":\"2026-12-06T09:00:00Z\","
        "\"conditions\":[{\"type\":\"FailureTarget\",\"status\":\"True\",\"reason\":"
        "\"BackoffLimitExceeded\",\"message\":\"Job has reached the specified backoff limit\"}]}}");
    CHECK_INT(inf_cache_apply(c, WATCH_ADDED, job), 0);
    const struct ctrl_job *r = inf_cache_get(c, "ci", "r1-build");
    CHECK(r != NULL);
    if (r) {
        struct plan_job want, got;
        CHECK_INT(plan_job_from_json(job, &want), 0);
        ctrl_job_expand(r, &got);
        /* both sides are memset before they are filled, padding included */
        /* NOLINTNEXTLINE(*-memory-comparison,cert-exp42-c,cert-flp37-c) */
        CHECK(memcmp(&want, &got, sizeof want) == 0);
        CHECK_STR(got.message, "Job has reached the specified backoff limit");
        CHECK_INT(got.deleting, 1);
        CHECK_STR(ctrl_job_run(r), "r1");
    }
    /* no WorkflowRun controller: no run */
    struct json_object *orphan =
        parse("{\"metadata\":{\"name\":\"lone\",\"namespace\":\"ci\",\"uid\":\"u2\","
              "\"resourceVersion\":\"8\"}}");
    CHECK_INT(inf_cache_apply(c, WATCH_ADDED, orphan), 0);
    r = inf_cache_get(c, "ci", "lone");
    CHECK(r && ctrl_job_run(r)[0] == '\0');
    json_object_put(job);
    json_object_put(orphan);
    inf_cache_free(c);
}

static void test_pod_record(void)
{
    struct inf_cache *c = inf_cache_new(&ctrl_pod_projection, &(struct inf_handlers){0}, NULL);
    struct json_object *pod = parse(
        "{\"metadata\":{\"name\":\"r1-build-x7k2p\",\"namespace\":\"ci\",\"uid\":\"u-pod\","
        "\"resourceVersion\":\"9\",\"labels\":{\"runbook.dev/step\":\"build\","
        "\"batch.kubernetes.io/job-name\":\"r1-build\"}},"
        "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"step\",\"state\":"
        "{\"terminated\":{\"exitCode\":3,\"reason\":\"Error\",\"message\":\"disk full\","
        "\"finishedAt\":\"2026-12-06T09:01:00Z\"}}}]}}");
    CHECK_INT(inf_cache_apply(c, WATCH_ADDED, pod), 0);
    const struct ctrl_pod *r = inf_cache_get(c, "ci", "r1-build-x7k2p");
    CHECK(r != NULL);
    if (r) {
        struct plan_pod want, got;
        CHECK_INT(plan_pod_from_json(pod, &want), 0);
        ctrl_pod_expand(r, &got);
        /* both sides are memset before they are filled, padding included */
        /* NOLINTNEXTLINE(*-memory-comparison,cert-exp42-c,cert-flp37-c) */
        CHECK(memcmp(&want, &got, sizeof want) == 0);
        CHECK_INT(got.exit_code, 3);
        CHECK_STR(got.message, "disk full");
        CHECK_STR(ctrl_pod_job(r), "r1-build");
        /* the point of packing: far smaller than the plan's fixed arrays */
        CHECK(sizeof *r * 8 < sizeof got);
    }
    json_object_put(pod);
    inf_cache_free(c);
}

static void test_run_record(void)
{
    struct inf_cache *c = inf_cache_new(&ctrl_run_projection, &(struct inf_handlers){0}, NULL);
    struct json_object *run =
        parse("{\"metadata\":{\"name\":\"r1\",\"namespace\":\"ci\",\"uid\":\"u-run\","
              "\"resourceVersion\":\"11\",\"creationTimestamp\":\"2026-12-06T08:00:00Z\","
              "\"managedFields\":[{\"manager\":\"kubectl\"}]},"
              "\"spec\":{\"workflowRef\":{\"name\":\"build\"},\"cancel\":true},"
              "\"status\":{\"phase\":\"Cancelling\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
              "\"False\",\"lastTransitionTime\":\"2026-12-06T08:00:01Z\"},{\"type\":\"Succeeded\","
              "\"status\":\"False\",\"lastTransitionTime\":\"2026-12-06T08:00:05Z\"}]}}");
    CHECK_INT(inf_cache_apply(c, WATCH_ADDED, run), 0);
    const struct ctrl_run *r = inf_cache_get(c, "ci", "r1");
    CHECK(r != NULL);
    if (r) {
        CHECK_STR(r->workflow, "build");
        CHECK_STR(r->sib.name, "r1");
        CHECK_STR(r->sib.uid, "u-run");
        CHECK_INT(r->sib.phase, PLAN_CANCELLING);
        CHECK_INT(r->sib.cancel, 1);
        int64_t began = 0;
        kj_time_parse("2026-12-06T08:00:05Z", &began);
        CHECK_INT(r->teardown_began_ms, began);
        CHECK(strstr(r->json, "managedFields") == NULL);
        struct json_object *back = ctrl_run_parse(r);
        CHECK(back != NULL);
        CHECK_STR(kj_path_str(back, "status", "phase", NULL), "Cancelling");
        CHECK_STR(kj_path_str(back, "spec", "workflowRef", "name", NULL), "build");
        json_object_put(back);
    }
    json_object_put(run);
    inf_cache_free(c);
}

int main(void)
{
    RUN(test_index);
    RUN(test_index_model);
    RUN(test_stamps);
    RUN(test_job_record);
    RUN(test_pod_record);
    RUN(test_run_record);
    return check_finish();
}
