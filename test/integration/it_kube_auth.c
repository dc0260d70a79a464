/* The kube client's credentials and TLS against the real control plane:
 *   - a client certificate with no RBAC rights (CN=rb-test-nobody, signed
 *     with the test cluster's CA by test/data/kube/make-cert.sh), given
 *     as in-memory blobs, gets a clear 403 Forbidden Status;
 *   - a bearer token file: a rotated token is re-read after a 401 and the
 *     request retried once; a bad one is surfaced as 401 Unauthorized;
 *   - TLS: a wrong CA fails verification (-EPROTO, not retried);
 *     tls-server-name is verified against the certificate; HTTP/1.1 only.
 * Needs $RUNBOOK_CLUSTER_DIR (pki/ca.crt, pki/ca.key) and $RUNBOOK_SOURCE_DIR
 * (make-cert.sh) besides $KUBECONFIG. */
#include "it_util.h"

static char ns[64];
static char tmpdir[] = "/tmp/rb-it-kube-auth-XXXXXX";

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_forbidden_certificate(void)
{
    char prefix[300], crt[320], key[320], ca[600];
    snprintf(prefix, sizeof prefix, "%s/nobody", tmpdir);
    CHECK_INT(it_make_cert(prefix, ""), 0);
    snprintf(crt, sizeof crt, "%s.crt", prefix);
    snprintf(key, sizeof key, "%s.key", prefix);
    snprintf(ca, sizeof ca, "%s/pki/ca.crt", it_env.dir);

    /* Everything in memory: CA, certificate and key blobs. */
    struct kcfg k = {0};
    k.server = it_cfg->server;
    k.ca_data = slurp(ca, &k.ca_len);
    k.cert_data = slurp(crt, &k.cert_len);
    k.key_data = slurp(key, &k.key_len);
    CHECK(k.ca_data && k.cert_data && k.key_data);
    struct kube_client *c;
    CHECK_INT(kube_client_new(&it_loop, &k, NULL, &c), 0);
    free(k.ca_data);
    free(k.cert_data);
    memset(k.key_data, 0, k.key_len);
    free(k.key_data);

    struct it_call w = {0};
    WAIT(&w, kube_get(c, &KUBE_CONFIGMAPS, ns, "cm", it_on_result, &w));
    CHECK_INT(w.r.err, 0);
    CHECK_INT(w.r.http_status, 403);
    CHECK_INT(w.r.status.code, 403);
    CHECK_STR(w.r.status.reason, "Forbidden");
    CHECK_CONTAINS(w.r.status.message,
                   "User \"rb-test-nobody\" cannot get resource \"configmaps\"");
    CHECK_INT(w.r.attempts, 1); /* 403 is final */
    WAIT(&w, kube_list(c, &KUBE_JOBS, NULL, NULL, it_on_result, &w));
    CHECK_INT(w.r.http_status, 403);
    CHECK_CONTAINS(w.r.status.message, "at the cluster scope");
    it_call_reset(&w);
    CHECK(it_client_close(c));
}

static char *request_token(const char *sa)
{
    struct it_call w = {0};
    struct json_object *o = it_json("{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
                                    "\"metadata\":{\"name\":\"%s\"}}",
                                    sa);
    WAIT(&w, kube_create(it_kc, &KUBE_SERVICEACCOUNTS, ns, o, it_on_result, &w));
    json_object_put(o);
    CHECK_INT(w.r.http_status, 201);
    o = it_json("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\","
                "\"spec\":{\"expirationSeconds\":3600}}");
    WAIT(&w, kube_create_subresource(it_kc, &KUBE_SERVICEACCOUNTS, ns, sa, "token", o, it_on_result,
                                     &w));
    json_object_put(o);
    CHECK_INT(w.r.http_status, 201);
    struct json_object *st, *tok;
    char *token = NULL;
    if (json_object_object_get_ex(w.body, "status", &st) &&
        json_object_object_get_ex(st, "token", &tok))
        token = strdup(json_object_get_string(tok));
    it_call_reset(&w);
    return token;
}

static void test_token_file_rotation(void)
{
    char *token = request_token("rb-it-sa");
    CHECK(token != NULL);
    if (!token)
        return;
    char path[320];
    snprintf(path, sizeof path, "%s/token", tmpdir);
    write_file(path, "not-a-valid-token\n");

    struct kcfg k = it_cfg_bare();
    k.token_file = path;
    struct kube_client *c;
    CHECK_INT(kube_client_new(&it_loop, &k, NULL, &c), 0); /* reads the bad token */

    /* The token rotates on disk: the 401 makes the client re-read it and
     * retry once; the service account is then known, with no rights. */
    char line[4096];
    snprintf(line, sizeof line, "  %s  \n", token);
    write_file(path, line);
    struct it_call w = {0};
    WAIT(&w, kube_get(c, &KUBE_CONFIGMAPS, ns, "cm", it_on_result, &w));
    CHECK_INT(w.r.http_status, 403);
    CHECK_INT(w.r.attempts, 2);
    char who[160];
    snprintf(who, sizeof who, "User \"system:serviceaccount:%s:rb-it-sa\"", ns);
    CHECK_CONTAINS(w.r.status.message, who);
    struct kube_stats st;
    kube_client_stats(c, &st);
    CHECK_INT(st.token_reloads, 1);
    CHECK_INT(st.by_code[401], 1);
    CHECK_INT(st.by_code[403], 1);

    /* Without a 401 the file is not re-read on every request (every 60 s). */
    write_file(path, "not-a-valid-token\n");
    WAIT(&w, kube_get(c, &KUBE_CONFIGMAPS, ns, "cm", it_on_result, &w));
    CHECK_INT(w.r.http_status, 403);
    CHECK_INT(w.r.attempts, 1);
    CHECK(it_client_close(c));

    /* A token that stays bad: one retry, then 401 Unauthorized surfaced. A
     * write, too: the server did not act on an unauthenticated request. */
    CHECK_INT(kube_client_new(&it_loop, &k, NULL, &c), 0);
    struct json_object *cm = it_json("{\"metadata\":{\"name\":\"x\"}}");
    WAIT(&w, kube_create(c, &KUBE_CONFIGMAPS, ns, cm, it_on_result, &w));
    json_object_put(cm);
    CHECK_INT(w.r.http_status, 401);
    CHECK_STR(w.r.status.reason, "Unauthorized");
    CHECK_INT(w.r.attempts, 2);
    it_call_reset(&w);
    CHECK(it_client_close(c));

    /* A static token (no file): sent as is, never retried. */
    struct kcfg s = it_cfg_bare();
    s.token = token;
    CHECK_INT(kube_client_new(&it_loop, &s, NULL, &c), 0);
    WAIT(&w, kube_list(c, &KUBE_CONFIGMAPS, ns, NULL, it_on_result, &w));
    CHECK_INT(w.r.http_status, 403);
    CHECK_CONTAINS(w.r.status.message, who);
    it_call_reset(&w);
    CHECK(it_client_close(c));
    memset(token, 0, strlen(token));
    free(token);
}

static void test_tls(void)
{
    struct it_call w = {0};
    struct kube_client *c;
    char crt[600], key[600];
    snprintf(crt, sizeof crt, "%s/pki/admin.crt", it_env.dir);
    snprintf(key, sizeof key, "%s/pki/admin.key", it_env.dir);

    /* No CA given: the system roots do not know the test CA. */
    struct kcfg k = {0};
    k.server = it_cfg->server;
    k.cert_file = crt;
    k.key_file = key;
    CHECK_INT(kube_client_new(&it_loop, &k, NULL, &c), 0);
    WAIT(&w, kube_get(c, &KUBE_NAMESPACES, NULL, "default", it_on_result, &w));
    CHECK_INT(w.r.err, -EPROTO);
    CHECK_INT(w.r.http_status, 0);
    CHECK_INT(w.r.attempts, 1); /* not transient: no retry */
    CHECK(w.r.status.message[0] != '\0');
    CHECK(it_client_close(c));

    /* tls-server-name: verified against the certificate's names. */
    k = it_cfg_bare();
    k.cert_file = crt;
    k.key_file = key;
    char good_name[] = "kubernetes.default.svc", bad_name[] = "not-the-apiserver.example";
    k.tls_server_name = good_name;
    CHECK_INT(kube_client_new(&it_loop, &k, NULL, &c), 0);
    WAIT(&w, kube_get(c, &KUBE_NAMESPACES, NULL, "default", it_on_result, &w));
    CHECK_INT(w.r.err, 0);
    CHECK_INT(w.r.http_status, 200);
    CHECK(it_client_close(c));
    k.tls_server_name = bad_name;
    CHECK_INT(kube_client_new(&it_loop, &k, NULL, &c), 0);
    WAIT(&w, kube_get(c, &KUBE_NAMESPACES, NULL, "default", it_on_result, &w));
    CHECK_INT(w.r.err, -EPROTO);
    CHECK(it_client_close(c));

    /* HTTP/1.1 when asked. */
    struct kube_options o = {.http1_only = 1};
    CHECK_INT(kube_client_new(&it_loop, it_cfg, &o, &c), 0);
    WAIT(&w, kube_get(c, &KUBE_NAMESPACES, NULL, "default", it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK_INT(w.r.http_version, 11);
    CHECK(it_client_close(c));

    /* Nothing listens: connection refused, retried for a read, then surfaced. */
    struct kube_options fast = {.backoff_base_ms = 10, .backoff_cap_ms = 20, .max_tries = 3};
    k = it_cfg_bare();
    char dead[] = "https://127.0.0.1:1";
    k.server = dead;
    CHECK_INT(kube_client_new(&it_loop, &k, &fast, &c), 0);
    WAIT(&w, kube_get(c, &KUBE_NAMESPACES, NULL, "default", it_on_result, &w));
    CHECK_INT(w.r.err, -ECONNREFUSED);
    CHECK_INT(w.r.attempts, 3);
    struct kube_stats st;
    kube_client_stats(c, &st);
    CHECK_INT(st.retries, 2);
    CHECK_INT(st.by_class[KUBE_VERB_GET][0], 3);
    it_call_reset(&w);
    CHECK(it_client_close(c));
}

int main(void)
{
    if (it_setup(LOGL_INFO, IT_CLUSTER, NULL) < 0)
        return 1;
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    CHECK_INT(it_namespace("rb-it-kube-auth", ns, sizeof ns), 0);

    RUN(test_forbidden_certificate);
    RUN(test_token_file_rotation);
    RUN(test_tls);

    CHECK_INT(it_namespace_delete(ns), 0);
    CHECK_INT(it_teardown(), 0);
    it_remove_tree(tmpdir);
    return check_finish();
}
