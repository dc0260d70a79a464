/* The web UI's protocol, pure (src/ui/ui_msg.c): browser messages parsed
 * or refused with a reason, and runs turned into what the page draws. */
#include "check.h"
#include "kjson/kjson.h"
#include "kube/kube.h"
#include "ui/ui-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *s, struct ui_msg *m, char *err)
{
    return ui_msg_parse(s, strlen(s), m, err, 128);
}

static void test_parse(void)
{
    struct ui_msg m;
    char err[128];
    CHECK_INT(parse("{\"type\":\"auth\",\"token\":\"abc.def\"}", &m, err), 0);
    CHECK_INT(m.type, UI_MSG_AUTH);
    CHECK_STR(m.token, "abc.def");
    ui_msg_clear(&m);
    CHECK(m.token == NULL);
    CHECK_INT(parse("{\"type\":\"watch_runs\"}", &m, err), 0);
    CHECK_INT(m.type, UI_MSG_WATCH_RUNS);
    CHECK_INT(parse("{\"type\":\"watch_run\",\"namespace\":\"ci\",\"name\":\"b-1.x\"}", &m, err),
              0);
    CHECK_STR(m.ns, "ci");
    CHECK_STR(m.name, "b-1.x");
    CHECK_INT(
        parse("{\"type\":\"cancel\",\"namespace\":\"ci\",\"name\":\"r\",\"id\":9007199254740993}",
              &m, err),
        0);
    CHECK_INT(m.id, 9007199254740993LL);
    CHECK_INT(parse("{\"type\":\"start\",\"namespace\":\"ci\",\"workflow\":\"wf\",\"id\":3,"
                    "\"params\":{\"env\":\"<b>prod</b>\",\"n\":\"\"}}",
                    &m, err),
              0);
    CHECK_INT(m.type, UI_MSG_START);
    CHECK_STR(m.name, "wf");
    CHECK_STR(kj_get_str(m.params, "env"), "<b>prod</b>");
    CHECK_STR(kj_get_str(m.params, "n"), "");
    ui_msg_clear(&m);
    CHECK(m.params == NULL);
    CHECK_INT(
        parse("{\"type\":\"start\",\"namespace\":\"ci\",\"workflow\":\"wf\",\"id\":3}", &m, err),
        0);
    CHECK(m.params && json_object_object_length(m.params) == 0);
    ui_msg_clear(&m);
    CHECK_INT(parse("{\"type\":\"logs\",\"namespace\":\"ci\",\"name\":\"r\",\"step\":\"build_1\"}",
                    &m, err),
              0);
    CHECK_INT(m.type, UI_MSG_LOGS);
    CHECK_STR(m.step, "build_1");
    const char *simple[] = {"watch_workflows", "watch_triggers", "logs_stop"};
    for (size_t i = 0; i < 3; i++) {
        char doc[64];
        snprintf(doc, sizeof doc, "{\"type\":\"%s\"}", simple[i]);
        CHECK_INT(parse(doc, &m, err), 0);
        CHECK(m.type != UI_MSG_NONE);
    }
    CHECK_INT(parse("{\"type\":\"watch_workflow\",\"namespace\":\"ci\",\"name\":\"wf\"}", &m, err),
              0);
    CHECK_INT(m.type, UI_MSG_WATCH_WORKFLOW);

    /* Refused, each with its reason, nothing kept. */
    struct {
        const char *in, *why;
    } bad[] = {
        {"", "message is not JSON"},
        {"[1]", "message has no \"type\""},
        {"{\"type\":7}", "message has no \"type\""},
        {"{\"type\":\"rm -rf\"}", "unknown message type"},
        {"{\"type\":\"auth\"}", "auth needs a \"token\""},
        {"{\"type\":\"auth\",\"token\":\"a b\"}", "auth needs a \"token\""},
        {"{\"type\":\"auth\",\"token\":\"a\\r\\nX-Evil: 1\"}", "auth needs a \"token\""},
        {"{\"type\":\"watch_run\",\"namespace\":\"ci\"}", "\"namespace\" and \"name\""},
        {"{\"type\":\"watch_run\",\"namespace\":\"CI\",\"name\":\"r\"}",
         "\"namespace\" and \"name\""},
        {"{\"type\":\"watch_run\",\"namespace\":\"ci\",\"name\":\"../../x\"}", "\"namespace\" and"},
        {"{\"type\":\"cancel\",\"namespace\":\"ci\",\"name\":\"r\"}", "a write needs a numeric"},
        {"{\"type\":\"cancel\",\"namespace\":\"ci\",\"name\":\"r\",\"id\":\"1\"}", "a write needs"},
        {"{\"type\":\"start\",\"namespace\":\"ci\",\"name\":\"wf\",\"id\":1}",
         "\"namespace\" and \"workflow\""},
        {"{\"type\":\"start\",\"namespace\":\"ci\",\"workflow\":\"wf\"}", "a write needs"},
        {"{\"type\":\"start\",\"namespace\":\"ci\",\"workflow\":\"wf\",\"id\":1,\"params\":[]}",
         "\"params\" must be an object"},
        {"{\"type\":\"start\",\"namespace\":\"ci\",\"workflow\":\"wf\",\"id\":1,\"params\":{\"a\":"
         "1}}",
         "a param must be"},
        {"{\"type\":\"start\",\"namespace\":\"ci\",\"workflow\":\"wf\",\"id\":1,\"params\":{\"a "
         "b\":\"\"}}",
         "a param must be"},
        {"{\"type\":\"watch_workflow\",\"namespace\":\"ci\"}",
         "\"namespace\" and \"name\" must name a Workflow"},
        {"{\"type\":\"logs\",\"namespace\":\"ci\",\"name\":\"r\"}", "logs needs a \"step\""},
        {"{\"type\":\"logs\",\"namespace\":\"ci\",\"name\":\"r\",\"step\":\"a/b\"}", "logs needs"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i].in, &m, err);
        CHECK_INT(rc, -EINVAL);
        if (strncmp(err, bad[i].why, strlen(bad[i].why)) != 0)
            fprintf(stderr, "input %s: reason %s\n", bad[i].in, err);
        CHECK(strncmp(err, bad[i].why, strlen(bad[i].why)) == 0);
        CHECK(m.token == NULL && m.type == UI_MSG_NONE);
    }
    /* A token at the limit passes; one byte more does not. */
    char *big = malloc(UI_TOKEN_MAX + 64);
    static const char head[] = "{\"type\":\"auth\",\"token\":\"";
    memcpy(big, head, sizeof head - 1); /* 24 bytes, completed below */
    memset(big + 24, 'a', UI_TOKEN_MAX);
    memcpy(big + 24 + UI_TOKEN_MAX, "\"}", 3);
    CHECK_INT(parse(big, &m, err), 0);
    ui_msg_clear(&m);
    memset(big + 24, 'a', UI_TOKEN_MAX + 1);
    memcpy(big + 24 + UI_TOKEN_MAX + 1, "\"}", 3);
    CHECK_INT(parse(big, &m, err), -EINVAL);
    free(big);
}

static const char *RUN =
    "{\"metadata\":{\"name\":\"r\",\"namespace\":\"ci\",\"uid\":\"u1\",\"creationTimestamp\":"
    "\"2026-12-07T16:00:00Z\",\"labels\":{\"runbook.dev/trigger\":\"gh\"}},\"spec\":{"
    "\"workflowRef\":{\"name\":\"wf\"}},\"status\":{\"phase\":\"Running\",\"progress\":\"1/4\","
    "\"currentStep\":\"b\",\"startTime\":\"2026-12-07T16:00:01Z\",\"resolvedParams\":[{\"name\":"
    "\"p\",\"value\":\"<img src=x onerror=alert(1)>\"}],\"conditions\":[{\"type\":\"Succeeded\","
    "\"status\":\"Unknown\",\"reason\":\"Running\",\"message\":\"run is in progress\"}],"
    "\"workflowSpec\":{\"steps\":[{\"name\":\"a\"},{\"name\":\"b\",\"dependsOn\":[\"a\",3]},"
    "{\"name\":\"c\",\"dependsOn\":[\"a\"]}],\"finally\":[{\"name\":\"f\"}]},\"steps\":[{\"name\":"
    "\"a\",\"phase\":\"Succeeded\",\"job\":\"r-a\",\"attempts\":1,\"exitCode\":0},{\"name\":\"b\","
    "\"phase\":\"Running\",\"attempts\":2}]}}";

static void test_summary_detail(void)
{
    struct json_object *run = kube_json_parse(RUN, strlen(RUN));
    CHECK(run != NULL);
    struct json_object *s = ui_run_summary(run);
    CHECK_STR(kj_get_str(s, "namespace"), "ci");
    CHECK_STR(kj_get_str(s, "workflow"), "wf");
    CHECK_STR(kj_get_str(s, "phase"), "Running");
    CHECK_STR(kj_get_str(s, "progress"), "1/4");
    CHECK_STR(kj_get_str(s, "currentStep"), "b");
    CHECK_STR(kj_get_str(s, "created"), "2026-12-07T16:00:00Z");
    CHECK_STR(kj_get_str(s, "trigger"), "gh");
    CHECK(kj_get(s, "completed") == NULL);
    CHECK(!kj_get_bool(s, "cancelRequested"));
    json_object_put(s);

    struct json_object *d = ui_run_detail(run, 1);
    CHECK(kj_get_bool(d, "canCancel"));
    /* Strings go as they are: the page renders them as text. */
    CHECK_STR(kj_get_str(kj_get(d, "params"), "p"), "<img src=x onerror=alert(1)>");
    CHECK_STR(kj_get_str(d, "reason"), "Running");
    struct json_object *steps = kj_get(d, "steps");
    CHECK_INT(json_object_array_length(steps), 4);
    const char *names[] = {"a", "b", "c", "f"},
               *phases[] = {"Succeeded", "Running", "Pending", "Pending"};
    for (size_t i = 0; i < 4; i++) {
        struct json_object *e = json_object_array_get_idx(steps, i);
        CHECK_STR(kj_get_str(e, "name"), names[i]);
        CHECK_STR(kj_get_str(e, "phase"), phases[i]);
        CHECK_INT(kj_get_bool(e, "finally"), i == 3);
    }
    struct json_object *b = json_object_array_get_idx(steps, 1);
    CHECK_INT(json_object_array_length(kj_get(b, "dependsOn")), 1); /* the 3 is not a name */
    CHECK_INT(kj_get_i32(b, "attempts"), 2);
    CHECK_INT(kj_get_i32(json_object_array_get_idx(steps, 0), "exitCode"), 0);
    CHECK(kj_get(json_object_array_get_idx(steps, 0), "exitCode") != NULL);
    json_object_put(d);

    /* Terminal: no cancel, whatever the rights. */
    json_object_object_add(kj_get(run, "status"), "phase", json_object_new_string("Cancelled"));
    d = ui_run_detail(run, 1);
    CHECK(!kj_get_bool(d, "canCancel"));
    json_object_put(d);
    json_object_put(run);

    /* Nothing there at all: still an object the page can read. */
    run = kube_json_parse("{}", strlen("{}"));
    s = ui_run_summary(run);
    CHECK_STR(kj_get_str(s, "phase"), "");
    json_object_put(s);
    d = ui_run_detail(run, 0);
    CHECK_INT(json_object_array_length(kj_get(d, "steps")), 0);
    json_object_put(d);
    json_object_put(run);
}

/* A matrix step: its own entry's state, and its combinations with their
 * values (in the entry's order) and states. */
static void test_detail_matrix(void)
{
    static const char *text =
        "{\"metadata\":{\"name\":\"r\",\"namespace\":\"ci\"},\"status\":{\"phase\":"
        "\"Failing\",\"workflowSpec\":{\"steps\":[{\"name\":\"t\",\"matrix\":{\"params\":[]}},"
        "{\"name\":\"u\"}]},\"steps\":[{\"name\":\"t\",\"phase\":\"Running\"},{\"name\":"
        "\"t\",\"index\":0,\"matrix\":{\"os\":\"linux\",\"v\":\"2\"},\"phase\":\"Failed\","
        "\"exitCode\":3,\"job\":\"r-t-0\"},{\"name\":\"t\",\"index\":1,\"matrix\":{\"os\":"
        "\"mac\",\"v\":7},\"phase\":\"Running\"},{\"name\":\"u\",\"phase\":\"Pending\"}]}}";
    struct json_object *run = kube_json_parse(text, strlen(text));
    struct json_object *d = ui_run_detail(run, 1), *steps = kj_get(d, "steps");
    CHECK_INT(json_object_array_length(steps), 2);
    struct json_object *t = json_object_array_get_idx(steps, 0), *c = kj_get(t, "combinations");
    CHECK_STR(kj_get_str(t, "phase"), "Running");
    CHECK_INT(c ? (int)json_object_array_length(c) : -1, 2);
    CHECK_STR(kj_get_str(json_object_array_get_idx(c, 0), "values"), "os=linux, v=2");
    CHECK_STR(kj_get_str(json_object_array_get_idx(c, 0), "phase"), "Failed");
    CHECK_STR(kj_get_str(json_object_array_get_idx(c, 0), "job"), "r-t-0");
    CHECK_INT(kj_get_i32(json_object_array_get_idx(c, 0), "exitCode"), 3);
    CHECK_STR(kj_get_str(json_object_array_get_idx(c, 1), "values"), "os=mac, v=?");
    CHECK(kj_get(json_object_array_get_idx(steps, 1), "combinations") == NULL);
    json_object_put(d);
    json_object_put(run);
}

/* Run again: the same spec (Workflow, params), never the cancel; named by
 * the API server after the old run; labelled with it (hashed when long). */
static void test_run_again(void)
{
    struct ui_msg m;
    char err[128];
    CHECK_INT(
        parse("{\"type\":\"run_again\",\"namespace\":\"ci\",\"name\":\"r\",\"id\":3}", &m, err), 0);
    CHECK_INT(m.type, UI_MSG_RUN_AGAIN);
    CHECK_INT(m.id, 3);
    CHECK_INT(parse("{\"type\":\"run_again\",\"namespace\":\"ci\",\"name\":\"r\"}", &m, err),
              -EINVAL);
    CHECK_STR(err, "a write needs a numeric \"id\"");

    const char *src = "{\"metadata\":{\"name\":\"build-1\",\"namespace\":\"ci\",\"uid\":\"u\","
                      "\"labels\":{\"x\":\"y\"}},\"spec\":{\"workflowRef\":{\"name\":\"wf\"},"
                      "\"params\":[{\"name\":\"p\",\"value\":\"v\"}],\"cancel\":true},"
                      "\"status\":{\"phase\":\"Cancelled\"}}";
    struct json_object *run = kube_json_parse(src, strlen(src));
    struct json_object *o = ui_run_again(run);
    CHECK_STR(kj_path_str(o, "metadata", "generateName", NULL), "build-1-");
    CHECK(kj_path(o, "metadata", "name", NULL) == NULL);
    CHECK(kj_path(o, "metadata", "uid", NULL) == NULL);
    CHECK_STR(kj_path_str(o, "metadata", "labels", "runbook.dev/rerun-of", NULL), "build-1");
    CHECK(kj_path(o, "metadata", "labels", "x", NULL) == NULL);
    CHECK_STR(kj_path_str(o, "spec", "workflowRef", "name", NULL), "wf");
    CHECK(kj_get(kj_get(o, "spec"), "cancel") == NULL);
    CHECK(kj_get(o, "status") == NULL);
    CHECK_STR(kj_get_str(json_object_array_get_idx(kj_path(o, "spec", "params", NULL), 0), "value"),
              "v");
    json_object_put(o);
    json_object_put(run);

    /* A name too long for a label value: the label is its hashed form. */
    char name[200], doc[512];
    memset(name, 'a', 150);
    name[150] = '\0';
    snprintf(doc, sizeof doc, "{\"metadata\":{\"name\":\"%s\"},\"spec\":{}}", name);
    run = kube_json_parse(doc, strlen(doc));
    o = ui_run_again(run);
    const char *l = kj_path_str(o, "metadata", "labels", "runbook.dev/rerun-of", NULL);
    CHECK(l && strlen(l) <= 63);
    json_object_put(o);
    json_object_put(run);
    run = kube_json_parse("{\"metadata\":{}}", strlen("{\"metadata\":{}}"));
    CHECK(ui_run_again(run) == NULL);
    json_object_put(run);
}

static const char *WF =
    "{\"metadata\":{\"name\":\"deploy\",\"namespace\":\"ci\",\"uid\":\"w1\","
    "\"creationTimestamp\":\"2026-12-07T10:00:00Z\"},\"spec\":{\"params\":[{\"name\":\"env\","
    "\"description\":\"<i>where</i>\"},{\"name\":\"tag\",\"default\":\"latest\"}],\"steps\":[{"
    "\"name\":\"a\",\"image\":\"busybox\"},{\"name\":\"b\",\"dependsOn\":[\"a\"]}],"
    "\"finally\":[{\"name\":\"f\"}]}}";

static void test_workflow(void)
{
    struct json_object *wf = kube_json_parse(WF, strlen(WF));
    struct json_object *s = ui_workflow_summary(wf);
    CHECK_STR(kj_get_str(s, "name"), "deploy");
    CHECK_INT(json_object_get_int(kj_get(s, "steps")), 2);
    CHECK_INT(json_object_get_int(kj_get(s, "finally")), 1);
    CHECK_INT(json_object_get_int(kj_get(s, "params")), 2);
    json_object_put(s);
    struct json_object *d = ui_workflow_detail(wf, 1);
    CHECK(kj_get_bool(d, "canStart"));
    CHECK_INT((int)json_object_array_length(kj_get(d, "steps")), 3);
    CHECK_STR(kj_get_str(json_object_array_get_idx(kj_get(d, "params"), 0), "description"),
              "<i>where</i>");
    CHECK(kj_get(json_object_array_get_idx(kj_get(d, "params"), 0), "default") == NULL);
    CHECK(kj_get_bool(json_object_array_get_idx(kj_get(d, "steps"), 2), "finally"));
    json_object_put(d);

    /* Start: declared params only, required ones given, defaults left out. */
    char err[160];
    struct json_object *p = kube_json_parse("{\"env\":\"prod\"}", strlen("{\"env\":\"prod\"}"));
    struct json_object *run = ui_start_run("ci", wf, p, err, sizeof err);
    CHECK(run != NULL);
    CHECK_STR(kj_path_str(run, "metadata", "generateName", NULL), "deploy-");
    CHECK_STR(kj_path_str(run, "metadata", "namespace", NULL), "ci");
    CHECK_STR(kj_path_str(run, "spec", "workflowRef", "name", NULL), "deploy");
    struct json_object *ps = kj_path(run, "spec", "params", NULL);
    CHECK_INT((int)json_object_array_length(ps), 1);
    CHECK_STR(kj_get_str(json_object_array_get_idx(ps, 0), "value"), "prod");
    json_object_put(run);
    json_object_put(p);
    p = kube_json_parse("{\"tag\":\"v1\"}", strlen("{\"tag\":\"v1\"}"));
    CHECK(ui_start_run("ci", wf, p, err, sizeof err) == NULL);
    CHECK(strstr(err, "\"env\" is required") != NULL);
    json_object_put(p);
    p = kube_json_parse("{\"env\":\"x\",\"nope\":\"y\"}", strlen("{\"env\":\"x\",\"nope\":\"y\"}"));
    CHECK(ui_start_run("ci", wf, p, err, sizeof err) == NULL);
    CHECK(strstr(err, "declares no param \"nope\"") != NULL);
    json_object_put(p);
    json_object_put(wf);
}

static void test_trigger(void)
{
    static const char *TR =
        "{\"metadata\":{\"name\":\"on-push\",\"namespace\":\"ci\"},\"spec\":{\"workflowRef\":{"
        "\"name\":\"deploy\"},\"webhook\":{\"secretRef\":{\"name\":\"s\",\"key\":\"k\"}},"
        "\"schedule\":{\"cron\":\"*/5 * * * *\",\"suspend\":true}},\"status\":{\"conditions\":[{"
        "\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Ready\"}],\"lastDelivery\":{\"id\":"
        "\"d1\",\"result\":\"created\",\"code\":201,\"run\":\"on-push-ab\"},\"deliveries\":{"
        "\"created\":3,\"bad\":\"x\"},\"nextScheduleTime\":\"2026-12-07T10:05:00Z\"}}";
    struct json_object *tr = kube_json_parse(TR, strlen(TR)), *t = ui_trigger_item(tr);
    CHECK_STR(kj_get_str(t, "workflow"), "deploy");
    CHECK(kj_get_bool(t, "webhook") && kj_get_bool(t, "suspend") && kj_get_bool(t, "ready"));
    CHECK_STR(kj_get_str(t, "hookPath"), "/hooks/ci/on-push");
    CHECK_STR(kj_get_str(t, "schedule"), "*/5 * * * *");
    CHECK_INT(json_object_get_int(kj_path(t, "lastDelivery", "code", NULL)), 201);
    CHECK_INT(json_object_get_int(kj_path(t, "deliveries", "created", NULL)), 3);
    CHECK(kj_path(t, "deliveries", "bad", NULL) == NULL);
    CHECK_STR(kj_get_str(t, "nextScheduleTime"), "2026-12-07T10:05:00Z");
    json_object_put(t);
    json_object_put(tr);
    /* Nothing present: still an item, not ready. */
    tr = kube_json_parse("{}", strlen("{}"));
    t = ui_trigger_item(tr);
    CHECK(!kj_get_bool(t, "ready") && !kj_get_bool(t, "webhook"));
    json_object_put(t);
    json_object_put(tr);
}

int main(void)
{
    test_parse();
    test_summary_detail();
    test_detail_matrix();
    test_run_again();
    test_workflow();
    test_trigger();
    return check_finish();
}
