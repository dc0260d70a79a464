#include "check.h"
#include "kube/proto.h"

#include <errno.h>
#include <stdlib.h>

#include <json-c/json.h>

static char *url(const struct kube_resource *res, const char *ns, const char *name, const char *sub,
                 const struct kube_param *q, size_t nq)
{
    char *out = NULL;
    int rc = kube_url_build("https://127.0.0.1:6443", res, ns, name, sub, q, nq, &out);
    return rc == 0 ? out : NULL;
}

static void test_paths(void)
{
    char *u;
    u = url(&KUBE_PODS, "default", NULL, NULL, NULL, 0);
    CHECK_STR(u, "https://127.0.0.1:6443/api/v1/namespaces/default/pods");
    free(u);
    u = url(&KUBE_PODS, NULL, NULL, NULL, NULL, 0); /* all namespaces */
    CHECK_STR(u, "https://127.0.0.1:6443/api/v1/pods");
    free(u);
    u = url(&KUBE_JOBS, "ci", "build-1", "status", NULL, 0);
    CHECK_STR(u, "https://127.0.0.1:6443/apis/batch/v1/namespaces/ci/jobs/build-1/status");
    free(u);
    u = url(&KUBE_NAMESPACES, NULL, "rb-it", NULL, NULL, 0);
    CHECK_STR(u, "https://127.0.0.1:6443/api/v1/namespaces/rb-it");
    free(u);
    u = url(&KUBE_WORKFLOWRUNS, "a", "r1", NULL, NULL, 0);
    CHECK_STR(u, "https://127.0.0.1:6443/apis/runbook.dev/v1alpha1/namespaces/a/workflowruns/r1");
    free(u);
    u = url(&KUBE_LEASES, "kube-system", "runbook", NULL, NULL, 0);
    CHECK_STR(u, "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"
                 "runbook");
    free(u);
}

static void test_server_prefix_and_slash(void)
{
    char *u = NULL;
    CHECK_INT(kube_url_build("https://[::1]:6443/k8s/", &KUBE_EVENTS, "x", NULL, NULL, NULL, 0, &u),
              0);
    CHECK_STR(u, "https://[::1]:6443/k8s/apis/events.k8s.io/v1/namespaces/x/events");
    free(u);
}

static void test_query_escaping(void)
{
    struct kube_param q[] = {
        {"labelSelector", "app=x,tier in (a,b),!legacy"},
        {"fieldSelector", NULL}, /* skipped */
        {"continue", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzfQ==+/x"},
        {"limit", "2"},
    };
    char *u = url(&KUBE_CONFIGMAPS, "ns", NULL, NULL, q, 4);
    CHECK_STR(u, "https://127.0.0.1:6443/api/v1/namespaces/ns/configmaps"
                 "?labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29%2C%21legacy"
                 "&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzfQ%3D%3D%2B%2Fx&limit=2");
    free(u);
    /* the first non-NULL value gets the '?' */
    struct kube_param q2[] = {{"a", NULL}, {"watch", "1"}, {"x", "~ok-._"}};
    u = url(&KUBE_PODS, NULL, NULL, NULL, q2, 3);
    CHECK_STR(u, "https://127.0.0.1:6443/api/v1/pods?watch=1&x=~ok-._");
    free(u);
    /* Non-ASCII and control bytes are encoded byte by byte. */
    struct kube_param q3[] = {{"l", "\xc3\xa9\n&#"}};
    u = url(&KUBE_PODS, NULL, NULL, NULL, q3, 1);
    CHECK_STR(u, "https://127.0.0.1:6443/api/v1/pods?l=%C3%A9%0A%26%23");
    free(u);
}

static void test_path_segments_escaped_and_refused(void)
{
    char *u = url(&KUBE_CONFIGMAPS, "ns", "a/b?c", NULL, NULL, 0);
    CHECK_STR(u, "https://127.0.0.1:6443/api/v1/namespaces/ns/configmaps/a%2Fb%3Fc");
    free(u);
    char *out = (char *)1;
    CHECK_INT(kube_url_build("https://h", &KUBE_CONFIGMAPS, "ns", "..", NULL, NULL, 0, &out),
              -EINVAL);
    CHECK(out == NULL);
    CHECK_INT(kube_url_build("https://h", &KUBE_CONFIGMAPS, "ns", ".", NULL, NULL, 0, &out),
              -EINVAL);
    CHECK_INT(kube_url_build("https://h", &KUBE_CONFIGMAPS, "", "x", NULL, NULL, 0, &out), -EINVAL);
    CHECK_INT(kube_url_build("https://h", &KUBE_CONFIGMAPS, "ns", "", NULL, NULL, 0, &out),
              -EINVAL);
    /* ns on a cluster-scoped resource, sub without a name */
    CHECK_INT(kube_url_build("https://h", &KUBE_NAMESPACES, "ns", "x", NULL, NULL, 0, &out),
              -EINVAL);
    CHECK_INT(kube_url_build("https://h", &KUBE_JOBS, "ns", NULL, "status", NULL, 0, &out),
              -EINVAL);
    CHECK_INT(kube_url_build(NULL, &KUBE_JOBS, "ns", NULL, NULL, NULL, 0, &out), -EINVAL);
}

static void test_status_from_body(void)
{
    const char *body =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
        "\"status\":\"Failure\",\"message\":\"configmaps \\\"x\\\" not found\","
        "\"reason\":\"NotFound\",\"details\":{\"name\":\"x\",\"kind\":\"configmaps\"},"
        "\"code\":404}";
    struct json_object *j = json_tokener_parse(body);
    struct kstatus st;
    kube_status_decode(404, j, body, strlen(body), &st);
    CHECK_INT(st.code, 404);
    CHECK_STR(st.reason, "NotFound");
    CHECK_STR(st.message, "configmaps \"x\" not found");
    json_object_put(j);

    /* A Status without code/reason gets them from the HTTP status. */
    j = json_tokener_parse("{\"kind\":\"Status\",\"message\":\"m\"}");
    kube_status_decode(409, j, NULL, 0, &st);
    CHECK_INT(st.code, 409);
    CHECK_STR(st.reason, "Conflict");
    CHECK_STR(st.message, "m");
    json_object_put(j);
}

static void test_status_synthesized(void)
{
    struct kstatus st;
    const char *text = "404 page not found\n";
    kube_status_decode(404, NULL, text, strlen(text), &st);
    CHECK_INT(st.code, 404);
    CHECK_STR(st.reason, "NotFound");
    CHECK_STR(st.status, "Failure");
    CHECK_STR(st.message, "HTTP 404: 404 page not found");

    /* JSON that is not a Status (a proxy's error object) */
    struct json_object *j = json_tokener_parse("{\"error\":\"upstream\"}");
    kube_status_decode(503, j, "{\"error\":\"upstream\"}", 20, &st);
    CHECK_STR(st.reason, "ServiceUnavailable");
    CHECK_CONTAINS(st.message, "HTTP 503: {\"error\"");
    json_object_put(j);

    kube_status_decode(418, NULL, NULL, 0, &st);
    CHECK_STR(st.reason, "Unknown");
    CHECK_STR(st.message, "HTTP 418");

    /* Binary junk is made printable, and long bodies are cut. */
    char junk[1000];
    memset(junk, 'a', sizeof junk);
    junk[0] = '\x01';
    kube_status_decode(500, NULL, junk, sizeof junk, &st);
    CHECK_STR(st.reason, "InternalError");
    CHECK(strlen(st.message) < 220);
    CHECK(strchr(st.message, '\x01') == NULL);

    CHECK_STR(kube_reason_for_code(403), "Forbidden");
    CHECK_STR(kube_reason_for_code(410), "Gone");
    CHECK_STR(kube_reason_for_code(422), "Invalid");
    CHECK_STR(kube_reason_for_code(429), "TooManyRequests");
    CHECK_STR(kube_reason_for_code(504), "Timeout");
}

static void test_retry_after(void)
{
    CHECK_INT(kube_parse_retry_after("1", 1), 1);
    CHECK_INT(kube_parse_retry_after(" 30\r\n", 5), 30);
    CHECK_INT(kube_parse_retry_after("", 0), -1);
    CHECK_INT(kube_parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", 29), -1);
    CHECK_INT(kube_parse_retry_after("5x", 2), -1);
    CHECK_INT(kube_parse_retry_after("99999999999999999999", 20), 86400);
}

static void test_retry_policy(void)
{
    struct kstatus st = {0};
    /* reads: transport errors, 429, 5xx */
    CHECK(kube_should_retry(KUBE_VERB_GET, CURLE_COULDNT_CONNECT, 0, NULL));
    CHECK(kube_should_retry(KUBE_VERB_LIST, CURLE_OPERATION_TIMEDOUT, 0, NULL));
    CHECK(kube_should_retry(KUBE_VERB_LIST, CURLE_RECV_ERROR, 0, NULL));
    CHECK(kube_should_retry(KUBE_VERB_GET, CURLE_OK, 429, &st));
    CHECK(kube_should_retry(KUBE_VERB_GET, CURLE_OK, 503, &st));
    CHECK(kube_should_retry(KUBE_VERB_GET, CURLE_OK, 500, &st));
    CHECK(!kube_should_retry(KUBE_VERB_GET, CURLE_OK, 501, &st));
    CHECK(!kube_should_retry(KUBE_VERB_GET, CURLE_OK, 404, &st));
    CHECK(!kube_should_retry(KUBE_VERB_GET, CURLE_OK, 200, &st));
    CHECK(!kube_should_retry(KUBE_VERB_GET, CURLE_PEER_FAILED_VERIFICATION, 0, NULL));
    st.code = 504;
    st.rv_too_large = 1;
    CHECK(!kube_should_retry(KUBE_VERB_LIST, CURLE_OK, 504, &st));
    st.rv_too_large = 0;
    CHECK(kube_should_retry(KUBE_VERB_LIST, CURLE_OK, 504, &st));

    /* writes: only when the server certainly did not act */
    enum kube_verb writes[] = {KUBE_VERB_CREATE, KUBE_VERB_UPDATE, KUBE_VERB_PATCH,
                               KUBE_VERB_DELETE};
    for (size_t i = 0; i < 4; i++) {
        CHECK(kube_should_retry(writes[i], CURLE_OK, 429, &st));
        CHECK(kube_should_retry(writes[i], CURLE_COULDNT_CONNECT, 0, NULL));
        CHECK(!kube_should_retry(writes[i], CURLE_OK, 503, &st));
        CHECK(!kube_should_retry(writes[i], CURLE_OK, 500, &st));
        CHECK(!kube_should_retry(writes[i], CURLE_OPERATION_TIMEDOUT, 0, NULL));
        CHECK(!kube_should_retry(writes[i], CURLE_RECV_ERROR, 0, NULL));
        CHECK(!kube_should_retry(writes[i], CURLE_OK, 409, &st));
    }
    /* watches: never here */
    CHECK(!kube_should_retry(KUBE_VERB_WATCH, CURLE_OK, 429, &st));
    CHECK(!kube_should_retry(KUBE_VERB_WATCH, CURLE_COULDNT_CONNECT, 0, NULL));
}

static void test_errno_map(void)
{
    CHECK_INT(kube_curl_errno(CURLE_OK), 0);
    CHECK_INT(kube_curl_errno(CURLE_OPERATION_TIMEDOUT), -ETIMEDOUT);
    CHECK_INT(kube_curl_errno(CURLE_COULDNT_CONNECT), -ECONNREFUSED);
    CHECK_INT(kube_curl_errno(CURLE_PEER_FAILED_VERIFICATION), -EPROTO);
    CHECK_INT(kube_curl_errno(CURLE_RECV_ERROR), -ECONNRESET);
    CHECK_INT(kube_curl_errno(CURLE_TOO_MANY_REDIRECTS), -EIO);
}

static void test_verb_names(void)
{
    CHECK_STR(kube_verb_name(KUBE_VERB_GET), "get");
    CHECK_STR(kube_verb_name(KUBE_VERB_DELETE), "delete");
    CHECK_STR(kube_verb_name(KUBE_VERB_MAX), "unknown");
}

int main(void)
{
    RUN(test_paths);
    RUN(test_server_prefix_and_slash);
    RUN(test_query_escaping);
    RUN(test_path_segments_escaped_and_refused);
    RUN(test_status_from_body);
    RUN(test_status_synthesized);
    RUN(test_retry_after);
    RUN(test_retry_policy);
    RUN(test_errno_map);
    RUN(test_verb_names);
    return check_finish();
}
