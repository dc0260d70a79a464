/* The WorkflowRun a trigger creates (webhook and schedule paths) and the
 * JSON answers of the webhook. */
#include "check.h"
#include "trigger/trigger.h"
#include "trigger_spec_of.h"

#include <errno.h>
#include <stdlib.h>

#define SPEC                                                                                       \
    "{\"metadata\":{\"name\":\"gh\"},\"spec\":{\"workflowRef\":{\"name\":\"build\"},"              \
    "\"webhook\":{\"secretRef\":{\"name\":\"s\",\"key\":\"k\"}},"                                  \
    "\"schedule\":{\"cron\":\"0 3 * * "                                                            \
    "*\",\"params\":[{\"name\":\"mode\",\"value\":\"nightly\"}]},"                                 \
    "\"runTemplate\":{\"metadata\":{\"labels\":{\"team\":\"ci\",\"runbook.dev/"                    \
    "trigger\":\"forged\"},"                                                                       \
    "\"annotations\":{\"note\":\"hi\",\"runbook.dev/delivery\":\"forged\"}}}}}"

static void test_run_object(void)
{
    struct trig_spec *s = spec_of(SPEC);
    struct wf_params *p = trig_sched_params(s); /* any params will do */
    struct json_object *run = trig_run_new(s, "gh", "ci", "gh-0123456789", "d-1", p, NULL);
    CHECK_STR(kj_get_str(run, "apiVersion"), "runbook.dev/v1alpha1");
    CHECK_STR(kj_get_str(run, "kind"), "WorkflowRun");
    struct json_object *meta = kj_get(run, "metadata");
    CHECK_STR(kj_get_str(meta, "name"), "gh-0123456789");
    CHECK_STR(kj_get_str(meta, "namespace"), "ci");
    CHECK_STR(kj_path_str(meta, "labels", "team", NULL), "ci");
    CHECK_STR(kj_path_str(meta, "labels", "runbook.dev/trigger", NULL), "gh");
    CHECK_INT(json_object_object_length(kj_get(meta, "labels")), 2);
    CHECK_STR(kj_path_str(meta, "annotations", "note", NULL), "hi");
    CHECK_STR(kj_path_str(meta, "annotations", "runbook.dev/delivery", NULL), "d-1");
    CHECK(kj_get(meta, "ownerReferences") == NULL);
    CHECK(kj_get(meta, "generateName") == NULL);
    CHECK_STR(kj_path_str(run, "spec", "workflowRef", "name", NULL), "build");
    struct json_object *params = kj_path(run, "spec", "params", NULL);
    CHECK_INT(json_object_array_length(params), 1);
    CHECK_STR(kj_get_str(json_object_array_get_idx(params, 0), "name"), "mode");
    CHECK_STR(kj_get_str(json_object_array_get_idx(params, 0), "value"), "nightly");
    /* The template is not changed by building runs from it. */
    CHECK_STR(kj_get_str(s->labels, "runbook.dev/trigger"), "forged");
    json_object_put(run);
    wf_params_free(p);

    /* No params: no spec.params. */
    run = trig_run_new(s, "gh", "ci", "gh-1", "d", NULL, NULL);
    CHECK(kj_path(run, "spec", "params", NULL) == NULL);
    json_object_put(run);
    trig_spec_free(s);
}

static void test_schedule_path(void)
{
    struct trig_spec *s = spec_of(SPEC);
    char name[TRIG_NAME_LEN], delivery[TRIG_DELIVERY_LEN];
    const int64_t slot = 1795658400; /* 2026-11-26T02:00:00Z */
    CHECK_INT(trig_sched_run_name("gh", slot, name), 0);
    CHECK_STR(name, "gh-29927640");
    CHECK_INT(trig_sched_run_name("gh", slot + 59, name), 0);
    CHECK_STR(name, "gh-29927640");
    CHECK_INT(trig_sched_run_name("gh", -1, name), -EINVAL);
    CHECK_INT(trig_sched_run_name("", slot, name), -EINVAL);
    char longname[64];
    memset(longname, 'a', 52);
    longname[52] = '\0';
    CHECK_INT(trig_sched_run_name(longname, slot, name), 0);
    CHECK_INT(strlen(name), 52 + 1 + 8);
    CHECK_INT(trig_sched_run_name(longname, 6000000000000LL, name), -ENAMETOOLONG);
    trig_sched_delivery(slot, delivery);
    CHECK_STR(delivery, "schedule/2026-11-26T02:00:00Z");

    struct wf_params *p = trig_sched_params(s);
    struct json_object *extra = json_tokener_parse(
        "{\"runbook.dev/scheduled-time\":\"2026-11-26T02:00:00Z\",\"note\":\"over\"}");
    struct json_object *run = trig_run_new(s, "gh", "ci", name, delivery, p, extra);
    struct json_object *ann = kj_path(run, "metadata", "annotations", NULL);
    CHECK_STR(kj_get_str(ann, TRIG_ANN_SCHEDULED), "2026-11-26T02:00:00Z");
    CHECK_STR(kj_get_str(ann, TRIG_ANN_DELIVERY), "schedule/2026-11-26T02:00:00Z");
    CHECK_STR(kj_get_str(ann, "note"), "over");
    json_object_put(run);
    json_object_put(extra);
    wf_params_free(p);
    trig_spec_free(s);

    /* No schedule params: an empty list. */
    s = spec_of("{\"metadata\":{\"name\":\"t\"},\"spec\":{\"workflowRef\":{\"name\":\"w\"},"
                "\"schedule\":{\"cron\":\"@daily\"}}}");
    p = trig_sched_params(s);
    CHECK_INT(p->n, 0);
    wf_params_free(p);
    trig_spec_free(s);
}

static void test_answers(void)
{
    char *a = trig_answer(201, "Created", "run created", "ci", "gh-0123456789", NULL);
    CHECK_STR(a, "{\"code\":201,\"reason\":\"Created\",\"message\":\"run created\",\"run\":{"
                 "\"namespace\":\"ci\",\"name\":\"gh-0123456789\"}}");
    free(a);
    a = trig_answer(202, "Skipped", "no run: header X is \"a\"", NULL, NULL, "header X is \"a\"");
    CHECK_STR(a, "{\"code\":202,\"reason\":\"Skipped\",\"message\":\"no run: header X is "
                 "\\\"a\\\"\",\"skipped\":\"header X is \\\"a\\\"\"}");
    free(a);
    a = trig_answer(401, "Unauthorized", NULL, "ci", NULL, NULL);
    CHECK_STR(a, "{\"code\":401,\"reason\":\"Unauthorized\"}");
    free(a);
    /* Whatever the message holds, the answer is JSON. */
    a = trig_answer(400, "BadRequest", "a\x01/\"\n", NULL, NULL, NULL);
    struct json_object *o = json_tokener_parse(a);
    CHECK_STR(kj_get_str(o, "message"), "a\x01/\"\n");
    json_object_put(o);
    free(a);
}

int main(void)
{
    RUN(test_run_object);
    RUN(test_schedule_path);
    RUN(test_answers);
    return check_finish();
}
