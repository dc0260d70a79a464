/* Projections of real API objects (fixtures in test/data/plan/). */
#include "check.h"
#include "plan/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct json_object *fixture(const char *rel)
{
    char *text = check_read_data(rel, NULL);
    struct json_object *o = json_tokener_parse(text);
    free(text);
    return o;
}

static void test_sizes(void)
{
    /* what the caches keep per object */
    CHECK(sizeof(struct plan_job) < 1024);
    CHECK(sizeof(struct plan_pod) < 1024);
    CHECK(sizeof(struct plan_sibling) < 1024);
}

static void test_job(void)
{
    struct json_object *o = fixture("plan/job-failed.json");
    struct plan_job j;
    CHECK_INT(plan_job_from_json(o, &j), 0);
    CHECK_STR(j.name, "nightly-build");
    CHECK_STR(j.uid, "6a1c4c2e-0f0e-4b7f-9d51-3b2f0c8e9a11");
    CHECK_STR(j.controller_uid, "0b5e9d44-5d5c-4f5c-9a43-1c2b3d4e5f60");
    CHECK_STR(j.step, "build");
    CHECK(!j.is_finally);
    CHECK(j.deleting);
    CHECK(j.failed && j.failure_target && !j.complete && !j.success_criteria_met);
    CHECK_INT(j.failed_pods, 3);
    CHECK_INT(j.active, 0);
    CHECK_STR(j.reason, "BackoffLimitExceeded");
    CHECK_STR(j.message, "Job has reached the specified backoff limit (final)");
    CHECK_INT(j.start_ms, 1795600803000LL);
    CHECK_INT(j.completion_ms, 0);
    json_object_put(o);

    o = fixture("plan/job-complete.json");
    CHECK_INT(plan_job_from_json(o, &j), 0);
    CHECK(j.is_finally && j.complete && j.success_criteria_met && !j.failure_target);
    CHECK(!j.deleting);
    CHECK_STR(j.controller_uid, "");
    CHECK_INT(j.completion_ms, 1795600809500LL);
    CHECK_INT(j.succeeded, 1);
    json_object_put(o);

    o = json_tokener_parse("{\"metadata\":{}}");
    CHECK_INT(plan_job_from_json(o, &j), -EINVAL);
    json_object_put(o);
    char big[128];
    memset(big, 'j', 100);
    big[100] = '\0';
    o = json_object_new_object();
    struct json_object *meta = json_object_new_object();
    json_object_object_add(meta, "name", json_object_new_string(big));
    json_object_object_add(o, "metadata", meta);
    CHECK_INT(plan_job_from_json(o, &j), -ENAMETOOLONG);
    json_object_put(o);
}

static void test_pod(void)
{
    struct json_object *o = fixture("plan/pod-failed.json");
    struct plan_pod p;
    CHECK_INT(plan_pod_from_json(o, &p), 0);
    CHECK_STR(p.name, "nightly-build-x7k2q");
    CHECK_STR(p.job, "nightly-build");
    CHECK_STR(p.step, "build");
    CHECK_INT(p.phase, PLAN_POD_FAILED);
    CHECK(p.deleting);
    /* deletionTimestamp already includes the grace period */
    CHECK_INT(p.deletion_deadline_ms, 1795600800000LL + 210 * 1000);
    CHECK(p.terminated);
    CHECK_INT(p.exit_code, 3);
    CHECK_STR(p.reason, "Error");
    CHECK_STR(p.message, "go: build failed\n");
    CHECK_INT(p.finished_ms, 1795600979000LL);
    json_object_put(o);

    /* job name from the ownerReference when labels are missing; no status */
    o = json_tokener_parse("{\"metadata\":{\"name\":\"p\",\"ownerReferences\":[{\"kind\":\"Job\","
                           "\"name\":\"j9\",\"controller\":true}]}}");
    CHECK_INT(plan_pod_from_json(o, &p), 0);
    CHECK_STR(p.job, "j9");
    CHECK_INT(p.phase, PLAN_POD_UNKNOWN);
    CHECK(!p.terminated && !p.deleting);
    json_object_put(o);
}

static void test_sibling(void)
{
    struct json_object *o = fixture("plan/run-sibling.json");
    struct plan_sibling s;
    CHECK_INT(plan_sibling_from_json(o, &s), 0);
    CHECK_STR(s.name, "nightly-2026-11-24");
    CHECK_STR(s.uid, "u-24");
    CHECK_INT(s.phase, PLAN_CANCELLED);
    CHECK(s.cancel); /* from status; the string "true" in spec does not count */
    CHECK(!s.deleting);
    CHECK_INT(s.creation_ms, 1795600800000LL - 32 * 3600 * 1000);
    CHECK_INT(s.completion_ms, 1795600800000LL - 32 * 3600 * 1000 + 600 * 1000);
    json_object_put(o);
}

static void test_names(void)
{
    CHECK_STR(plan_phase_name(PLAN_FAILING), "Failing");
    CHECK_STR(plan_phase_name(PLAN_PHASE_NONE), "");
    CHECK_INT(plan_phase_parse("Cancelling"), PLAN_CANCELLING);
    CHECK_INT(plan_phase_parse("bogus"), PLAN_PHASE_NONE);
    CHECK_INT(plan_phase_parse(NULL), PLAN_PHASE_NONE);
    CHECK(plan_phase_terminal(PLAN_CANCELLED));
    CHECK(!plan_phase_terminal(PLAN_CANCELLING));
    CHECK_STR(plan_kind_name(PLAN_DELETE_JOB), "DELETE_JOB");
}

int main(void)
{
    RUN(test_sizes);
    RUN(test_job);
    RUN(test_pod);
    RUN(test_sibling);
    RUN(test_names);
    return check_finish();
}
