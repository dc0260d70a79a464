/* Child names (short, 63, hashed, deterministic, DNS-valid) and the Job
 * body of a step. Expected hashes were computed independently with
 * python3 hashlib.sha256. */
#include "check.h"
#include "wf/wf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* a.b.0.c: members and array indices. Borrowed, NULL if absent. */
static struct json_object *at(struct json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o;
         k = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(o, json_type_array)) {
            o = json_object_array_get_idx(o, (size_t)strtoul(k, NULL, 10));
        } else if (!json_object_object_get_ex(o, k, &o)) {
            return NULL;
        }
    }
    return o;
}

static const char *str_at(struct json_object *o, const char *path)
{
    struct json_object *v = at(o, path);
    return v ? json_object_get_string(v) : NULL;
}

/* One member whose name may hold dots (labels, annotations). */
static const char *key(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
}

static long long int_at(struct json_object *o, const char *path)
{
    struct json_object *v = at(o, path);
    return v ? json_object_get_int64(v) : -12345;
}

static void test_job_names(void)
{
    char out[WF_NAME_LEN];
    CHECK_INT(wf_job_name("r1", "build", out), 0);
    CHECK_STR(out, "r1-build");

    char run[64], step[64], want[160];
    memset(run, 'a', 40);
    run[40] = '\0';
    memset(step, 'b', 22);
    step[22] = '\0';
    snprintf(want, sizeof want, "%s-%s", run, step);
    CHECK_INT(wf_job_name(run, step, out), 0);
    CHECK_INT(strlen(out), 63);
    CHECK_STR(out, want); /* exactly 63: kept as is */

    step[22] = 'b';
    step[23] = '\0';
    CHECK_INT(wf_job_name(run, step, out), 0);
    CHECK_STR(out, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbb-e5a6cdabad");
    CHECK_INT(strlen(out), 63);

    const char *lrun = "nightly-build-of-the-main-branch-with-a-very-long-name";
    CHECK_INT(wf_job_name(lrun, "integration-tests", out), 0);
    CHECK_STR(out, "nightly-build-of-the-main-branch-with-a-very-long-na-afe886b62e");
    CHECK(wf_is_dns_label(out));
    char again[WF_NAME_LEN];
    CHECK_INT(wf_job_name(lrun, "integration-tests", again), 0);
    CHECK_STR(again, out); /* deterministic */
    CHECK_INT(wf_job_name(lrun, "integration-test2", again), 0);
    CHECK(strcmp(again, out) != 0);

    /* the prefix never ends in '-' before the hash */
    memset(run, 'r', 51);
    run[51] = '\0';
    CHECK_INT(wf_job_name(run, "integration-x", out), 0);
    CHECK_STR(out, "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr-4aedfa7385");
    CHECK(wf_is_dns_label(out));

    /* "ab-c" + "d" and "ab" + "c-d" give the same "<run>-<step>" only
     * when short; a long pair is told apart by the "/" in the hash key */
    char big[300];
    memset(big, 'x', 253);
    big[253] = '\0';
    CHECK_INT(wf_job_name(big, "s", out), 0);
    CHECK_INT(strlen(out), 63);
    big[253] = 'x';
    big[254] = '\0';
    CHECK_INT(wf_job_name(big, "s", out), -ENAMETOOLONG);

    /* every generated name over a range of lengths is a DNS label */
    for (int n = 1; n <= 120; n++) {
        char r[128];
        for (int i = 0; i < n; i++)
            r[i] = (char)("abc-9"[i % 5]);
        r[0] = 'a';
        r[n - 1] = 'z';
        r[n] = '\0';
        CHECK_INT(wf_job_name(r, "step-1", out), 0);
        CHECK(wf_is_dns_label(out));
    }
}

static void test_label_values(void)
{
    char out[WF_NAME_LEN], v[100];
    CHECK_INT(wf_label_value("wf", out), 0);
    CHECK_STR(out, "wf");
    memset(v, 'w', 70);
    v[70] = '\0';
    CHECK_INT(wf_label_value(v, out), 0);
    CHECK_STR(out, "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww-4c6302c984");
    CHECK_INT(wf_label_value("", out), 0);
    CHECK_STR(out, "");
    CHECK(!wf_is_dns_label(""));
    CHECK(!wf_is_dns_label("-a"));
    CHECK(!wf_is_dns_label("A"));
    CHECK(wf_is_dns_label("a-1"));
}

static struct wf_spec *fixture_spec(void)
{
    char *text = check_read_data("wf/build.json", NULL);
    struct json_object *o = json_tokener_parse(text);
    free(text);
    struct wf_spec *s = NULL;
    struct wf_error err;
    if (wf_spec_parse(o, &s, &err) < 0)
        fprintf(stderr, "fixture: %s\n", err.message);
    json_object_put(o);
    return s;
}

static struct wf_params *params(void)
{
    struct json_object *j = json_tokener_parse("[{\"name\":\"repo\",\"value\":\"r\"},"
                                               "{\"name\":\"tag\",\"value\":\"v$1\"}]");
    struct wf_params *p = NULL;
    wf_params_from_json(j, &p);
    json_object_put(j);
    return p;
}

static const struct wf_run_ref run = {"r1", "ci", "0b5e9d44-5d5c-4f5c-9a43-1c2b3d4e5f60", "build"};

static void test_job_body(void)
{
    struct wf_spec *s = fixture_spec();
    struct wf_params *p = params();
    struct json_object *job = NULL;
    CHECK_INT(wf_job_build(s, (size_t)wf_step_index(s, "build"), wf_params_lookup, p, &run, &job),
              0);
    if (!job)
        return;
    CHECK_STR(str_at(job, "apiVersion"), "batch/v1");
    CHECK_STR(str_at(job, "kind"), "Job");
    CHECK_STR(str_at(job, "metadata.name"), "r1-build");
    CHECK_STR(str_at(job, "metadata.namespace"), "ci");
    CHECK(at(job, "metadata.generateName") == NULL);
    /* labels on the Job: ours only */
    struct json_object *l = at(job, "metadata.labels");
    CHECK_INT(json_object_object_length(l), 3);
    CHECK_STR(key(l, "runbook.dev/workflow"), "build");
    CHECK_STR(key(l, "runbook.dev/run"), "r1");
    CHECK_STR(key(l, "runbook.dev/step"), "build");
    /* the controller reference that GC and adoption rely on */
    CHECK_INT(json_object_array_length(at(job, "metadata.ownerReferences")), 1);
    struct json_object *o = at(job, "metadata.ownerReferences.0");
    CHECK_STR(str_at(o, "apiVersion"), "runbook.dev/v1alpha1");
    CHECK_STR(str_at(o, "kind"), "WorkflowRun");
    CHECK_STR(str_at(o, "name"), "r1");
    CHECK_STR(str_at(o, "uid"), "0b5e9d44-5d5c-4f5c-9a43-1c2b3d4e5f60");
    CHECK(json_object_get_boolean(at(o, "controller")));
    CHECK(json_object_get_boolean(at(o, "blockOwnerDeletion")));
    /* Job spec */
    CHECK_INT(int_at(job, "spec.backoffLimit"), 2);
    CHECK_INT(int_at(job, "spec.activeDeadlineSeconds"), 600);
    CHECK_STR(str_at(job, "spec.podReplacementPolicy"), "Failed");
    /* pod template: user labels kept, ours win, Argo CD's dropped */
    struct json_object *tl = at(job, "spec.template.metadata.labels");
    CHECK_STR(str_at(tl, "team"), "ci");
    CHECK_STR(key(tl, "runbook.dev/step"), "build");
    CHECK_STR(key(tl, "runbook.dev/run"), "r1");
    CHECK_STR(key(tl, "runbook.dev/workflow"), "build");
    CHECK(key(tl, "app.kubernetes.io/instance") == NULL);
    CHECK(key(tl, "runbook.dev/finally") == NULL);
    CHECK_STR(key(at(job, "spec.template.metadata.annotations"),
                  "cluster-autoscaler.kubernetes.io/safe-to-evict"),
              "false");
    CHECK_INT(json_object_object_length(at(job, "spec.template.metadata.annotations")), 1);
    struct json_object *ps = at(job, "spec.template.spec");
    CHECK_STR(str_at(ps, "serviceAccountName"), "builder");
    CHECK_STR(str_at(ps, "nodeSelector.pool"), "build");
    CHECK_STR(str_at(ps, "restartPolicy"), "Never");
    CHECK_INT(int_at(ps, "terminationGracePeriodSeconds"), 45);
    CHECK_INT(json_object_array_length(at(ps, "containers")), 1);
    struct json_object *c = at(ps, "containers.0");
    CHECK_STR(str_at(c, "name"), "step");
    CHECK_STR(str_at(c, "image"), "golang:1.23");
    CHECK_STR(str_at(c, "command.0"), "sh");
    CHECK_STR(str_at(c, "command.1"), "-c");
    CHECK_STR(str_at(c, "args.0"), "go build -o /work/app ./... && echo v$$1");
    CHECK_STR(str_at(c, "args.1"), "--tag=v$$1");
    CHECK_STR(str_at(c, "args.2"), "$$(params.tag)");
    CHECK_STR(str_at(c, "env.0.name"), "TAG");
    CHECK_STR(str_at(c, "env.0.value"), "v-v$$1");
    CHECK_STR(str_at(c, "env.1.valueFrom.secretKeyRef.key"), "token");
    CHECK(at(c, "env.1.value") == NULL);
    CHECK_STR(str_at(c, "workingDir"), "/work/src");
    CHECK_STR(str_at(c, "resources.limits.memory"), "1Gi");
    CHECK_STR(str_at(c, "volumeMounts.0.name"), "cache");
    CHECK_STR(str_at(c, "volumeMounts.0.mountPath"), "/root/.cache");
    CHECK_STR(str_at(ps, "volumes.0.name"), "cache");
    json_object_put(job);

    /* a finally step without timeout, podTemplate or env */
    CHECK_INT(wf_job_build(s, (size_t)wf_step_index(s, "notify"), wf_params_lookup, p, &run, &job),
              0);
    CHECK_STR(str_at(job, "metadata.name"), "r1-notify");
    CHECK_STR(key(at(job, "metadata.labels"), "runbook.dev/finally"), "true");
    CHECK_STR(key(at(job, "spec.template.metadata.labels"), "runbook.dev/finally"), "true");
    CHECK(at(job, "spec.activeDeadlineSeconds") == NULL);
    CHECK_INT(int_at(job, "spec.backoffLimit"), 0);
    CHECK_STR(str_at(job, "spec.template.spec.containers.0.args.1"), "done v$$1");
    CHECK(at(job, "spec.template.spec.containers.0.command") == NULL);
    CHECK(at(job, "spec.template.metadata.annotations") == NULL);
    json_object_put(job);

    /* a parameter the run does not have; a bad index */
    struct wf_params empty = {NULL, 0};
    job = NULL;
    CHECK_INT(
        wf_job_build(s, (size_t)wf_step_index(s, "build"), wf_params_lookup, &empty, &run, &job),
        -ENOENT);
    CHECK(job == NULL);
    CHECK_INT(wf_job_build(s, 99, wf_params_lookup, p, &run, &job), -EINVAL);
    wf_params_free(p);
    wf_spec_free(s);
}

static void test_job_long_names(void)
{
    struct wf_spec *s = fixture_spec();
    struct wf_params *p = params();
    char longrun[100];
    memset(longrun, 'n', 80);
    longrun[80] = '\0';
    struct wf_run_ref r = {longrun, "ci", "u", longrun};
    struct json_object *job = NULL;
    CHECK_INT(wf_job_build(s, 0, wf_params_lookup, p, &r, &job), 0);
    const char *name = str_at(job, "metadata.name");
    CHECK(name && strlen(name) == 63 && wf_is_dns_label(name));
    struct json_object *labels = at(job, "metadata.labels");
    const char *lr = key(labels, "runbook.dev/run"), *lw = key(labels, "runbook.dev/workflow");
    CHECK(lr && strlen(lr) == 63 && strcmp(lr, lw) == 0);
    json_object_put(job);
    wf_params_free(p);
    wf_spec_free(s);
}

/* The step's podFailurePolicy reaches the Job as spec.podFailurePolicy,
 * rule for rule, with what the Job API needs alongside it. */
static void test_job_pod_failure_policy(void)
{
    struct json_object *o = json_tokener_parse(
        "{\"steps\":[{\"name\":\"deploy\",\"image\":\"x\",\"retries\":3,"
        "\"podFailurePolicy\":{\"rules\":["
        "{\"action\":\"FailJob\",\"onExitCodes\":{\"containerName\":\"step\","
        "\"operator\":\"In\",\"values\":[42,3]}},"
        "{\"action\":\"Ignore\",\"onPodConditions\":[{\"type\":\"DisruptionTarget\"}]},"
        "{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"NotIn\",\"values\":[0]}}"
        "]}},{\"name\":\"plain\",\"image\":\"x\"}]}");
    struct wf_spec *s = NULL;
    struct wf_error err;
    CHECK_INT(wf_spec_parse(o, &s, &err), 0);
    json_object_put(o);
    if (!s)
        return;
    struct wf_params none = {NULL, 0};
    struct json_object *job = NULL;
    CHECK_INT(wf_job_build(s, 0, wf_params_lookup, &none, &run, &job), 0);
    CHECK_STR(
        json_object_to_json_string_ext(at(job, "spec.podFailurePolicy"), JSON_C_TO_STRING_PLAIN),
        "{\"rules\":[{\"action\":\"FailJob\",\"onExitCodes\":{\"containerName\":"
        "\"step\",\"operator\":\"In\",\"values\":[3,42]}},{\"action\":\"Ignore\","
        "\"onPodConditions\":[{\"type\":\"DisruptionTarget\",\"status\":\"True\"}]},"
        "{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"NotIn\",\"values\":"
        "[0]}}]}");
    /* what the Job API requires of a Job with a podFailurePolicy */
    CHECK_STR(str_at(job, "spec.template.spec.restartPolicy"), "Never");
    CHECK_STR(str_at(job, "spec.podReplacementPolicy"), "Failed");
    CHECK_STR(str_at(job, "spec.template.spec.containers.0.name"), "step");
    CHECK_INT(int_at(job, "spec.backoffLimit"), 3);
    /* a copy: the Job owns its own */
    CHECK(at(job, "spec.podFailurePolicy") != s->steps[0].pod_failure_policy);
    json_object_put(job);
    /* a step without one: no podFailurePolicy at all */
    CHECK_INT(wf_job_build(s, 1, wf_params_lookup, &none, &run, &job), 0);
    CHECK(at(job, "spec.podFailurePolicy") == NULL);
    json_object_put(job);
    wf_spec_free(s);
}

/* matrix: the cross product, first param slowest; a param holding a JSON
 * array; Job names and labels of combinations; $(matrix.NAME). */
static struct wf_spec *spec_text(const char *text)
{
    struct json_object *o = json_tokener_parse(text);
    struct wf_spec *s = NULL;
    struct wf_error err;
    if (wf_spec_parse(o, &s, &err) < 0)
        fprintf(stderr, "spec: %s\n", err.message);
    json_object_put(o);
    return s;
}

static const char *lookup_list(void *ud, const struct wf_ref *ref)
{
    (void)ref;
    return ud; /* every reference: the text given */
}

static void test_matrix_expand(void)
{
    struct wf_spec *s = spec_text(
        "{\"params\":[{\"name\":\"vs\"}],\"steps\":[{\"name\":\"t\",\"image\":\"x\","
        "\"args\":[\"$(matrix.os)/$(matrix.v)\"],\"matrix\":{\"params\":[{\"name\":\"os\","
        "\"values\":[\"linux\",\"mac\"]},{\"name\":\"v\",\"values\":\"$(params.vs)\"}]}}]}");
    CHECK(s != NULL);
    if (!s)
        return;
    struct wf_combos *c = NULL;
    char why[256] = "";
    char mixed[] = "[\"1\",2,true]", obj[] = "{\"a\":1}", empty[] = "[]", two[] = "[\"1\",\"2\"]";
    char mac[] = "mac", x[] = "x";
    CHECK_INT(wf_matrix_expand(&s->steps[0], lookup_list, mixed, &c, why, sizeof why), 0);
    CHECK_INT(c ? (int)c->n : -1, 6);
    static const char *const want[] = {"linux", "1", "linux", "2", "linux", "true",
                                       "mac",   "1", "mac",   "2", "mac",   "true"};
    for (size_t i = 0; c && i < 12; i++)
        CHECK_STR(c->values[i], want[i]);
    wf_combos_free(c);
    c = NULL;
    CHECK_INT(wf_matrix_expand(&s->steps[0], lookup_list, obj, &c, why, sizeof why), -EINVAL);
    CHECK(strstr(why, "is not a JSON array") != NULL);
    CHECK_INT(wf_matrix_expand(&s->steps[0], lookup_list, NULL, &c, why, sizeof why), -ENOENT);
    /* 2 x 129 > 256 */
    char big[2048] = "[";
    for (int i = 0; i < 129; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s%d", i ? "," : "", i);
    strcat(big, "]");
    CHECK_INT(wf_matrix_expand(&s->steps[0], lookup_list, big, &c, why, sizeof why), -EINVAL);
    CHECK_STR(why, "matrix has more than 256 combinations");
    CHECK_INT(wf_matrix_expand(&s->steps[0], lookup_list, empty, &c, why, sizeof why), 0);
    CHECK_INT(c ? (int)c->n : -1, 0);
    wf_combos_free(c);

    /* combination 3 = (mac, 2): its Job */
    struct json_object *job = NULL;
    struct wf_combos *cc = NULL;
    wf_matrix_expand(&s->steps[0], lookup_list, two, &cc, why, sizeof why);
    CHECK_INT(wf_job_build_combo(s, 0, -1, lookup_list, x, &run, &job), -EINVAL);
    CHECK_INT(wf_job_build_combo(s, 0, 3, lookup_list, mac, &run, &job), 0);
    CHECK_STR(str_at(job, "metadata.name"), "r1-t-3");
    CHECK_STR(key(at(job, "metadata.labels"), "runbook.dev/matrix-index"), "3");
    CHECK_STR(key(at(job, "spec.template.metadata.labels"), "runbook.dev/matrix-index"), "3");
    CHECK_STR(str_at(job, "spec.template.spec.containers.0.args.0"), "mac/mac");
    json_object_put(job);
    char name[WF_NAME_LEN];
    CHECK_INT(wf_entry_job_name("r1", "t", 12, name), 0);
    CHECK_STR(name, "r1-t-12");
    CHECK_INT(wf_entry_job_name("r1", "t", -1, name), 0);
    CHECK_STR(name, "r1-t");
    wf_combos_free(cc);
    wf_spec_free(s);
}

int main(void)
{
    RUN(test_job_names);
    RUN(test_label_values);
    RUN(test_job_body);
    RUN(test_job_long_names);
    RUN(test_job_pod_failure_policy);
    RUN(test_matrix_expand);
    return check_finish();
}
