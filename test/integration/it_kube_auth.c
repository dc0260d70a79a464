/* The kube client's credentials and TLS against the real control plane:
 *   - a client certificate with no RBAC rights (CN=rb-test-nobody, signed
 *     with the test cluster's CA by test/data/kube/make-cert.sh), given
 *     as in-memory blobs, gets a clear 403 Forbidden Status;
 *   - a bearer token file: a rotated token is re-read after a 401 and the
 *     request retried once; a bad one is surfaced as 401 Unauthorized;
 *   - TLS: a wrong CA fails verification (-EPROTO, not retried);
 *     tls-server-name is verified against the certificate; HTTP/1.1 only.
 * Needs $RUNBOOK_CLUSTER_DIR (pki/ca.crt, pki/ca.key) besides $KUBECONFIG. */
#include "check.h"
#include "kube/kube.h"
#include "kubeconfig/kubeconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

static uv_loop_t loop;
static struct kube_client *kc; /* admin */
static struct kcfg *cfg;
static const char *cluster_dir;
static char ns[64];
static char tmpdir[] = "/tmp/rb-it-kube-auth-XXXXXX";

struct call {
    int done, calls;
    struct kube_result r;
    struct json_object *body;
};

static void on_result(void *ud, const struct kube_result *r)
{
    struct call *w = ud;
    w->calls++;
    w->done = 1;
    w->r = *r;
    w->r.body = NULL;
    w->body = r->body ? json_object_get(r->body) : NULL;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static int run_until(const int *flag, uint64_t timeout_ms)
{
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, on_tick, 100, 100);
    uint64_t end = uv_now(&loop) + timeout_ms;
    while (!*flag && uv_now(&loop) < end)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return *flag;
}

static void call_reset(struct call *w)
{
    json_object_put(w->body);
    memset(w, 0, sizeof *w);
}

#define WAIT(w, expr)                                                                              \
    do {                                                                                           \
        call_reset(w);                                                                             \
        int rc_ = (expr);                                                                          \
        CHECK_INT(rc_, 0);                                                                         \
        if (rc_ == 0)                                                                              \
            CHECK(run_until(&(w)->done, 30000));                                                   \
        CHECK_INT((w)->calls, rc_ == 0 ? 1 : 0);                                                   \
    } while (0)

static void on_closed(void *ud)
{
    (*(int *)ud)++;
}

static void close_client(struct kube_client *c)
{
    int closed = 0;
    kube_client_close(c, on_closed, &closed);
    CHECK(run_until(&closed, 10000));
}

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

static struct json_object *jparse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct json_object *jparse(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return json_tokener_parse(buf);
}

/* A kcfg that points at the cluster but carries only what the test sets;
 * the strings are borrowed (the client copies what it needs). */
static struct kcfg base_cfg(void)
{
    struct kcfg k = {0};
    k.server = cfg->server;
    k.ca_file = cfg->ca_file;
    k.ca_data = cfg->ca_data;
    k.ca_len = cfg->ca_len;
    return k;
}

static void test_forbidden_certificate(void)
{
    char cmd[1024], prefix[300], crt[320], key[320], ca[320];
    snprintf(prefix, sizeof prefix, "%s/nobody", tmpdir);
    snprintf(cmd, sizeof cmd, "%s/test/data/kube/make-cert.sh '%s' '%s'",
             getenv("RUNBOOK_SOURCE_DIR") ? getenv("RUNBOOK_SOURCE_DIR") : ".", cluster_dir,
             prefix);
    CHECK_INT(system(cmd), 0);
    snprintf(crt, sizeof crt, "%s.crt", prefix);
    snprintf(key, sizeof key, "%s.key", prefix);
    snprintf(ca, sizeof ca, "%s/pki/ca.crt", cluster_dir);

    /* Everything in memory: CA, certificate and key blobs. */
    struct kcfg k = {0};
    k.server = cfg->server;
    k.ca_data = slurp(ca, &k.ca_len);
    k.cert_data = slurp(crt, &k.cert_len);
    k.key_data = slurp(key, &k.key_len);
    CHECK(k.ca_data && k.cert_data && k.key_data);
    struct kube_client *c;
    CHECK_INT(kube_client_new(&loop, &k, NULL, &c), 0);
    free(k.ca_data);
    free(k.cert_data);
    memset(k.key_data, 0, k.key_len);
    free(k.key_data);

    struct call w = {0};
    WAIT(&w, kube_get(c, &KUBE_CONFIGMAPS, ns, "cm", on_result, &w));
    CHECK_INT(w.r.err, 0);
    CHECK_INT(w.r.http_status, 403);
    CHECK_INT(w.r.status.code, 403);
    CHECK_STR(w.r.status.reason, "Forbidden");
    CHECK_CONTAINS(w.r.status.message,
                   "User \"rb-test-nobody\" cannot get resource \"configmaps\"");
    CHECK_INT(w.r.attempts, 1); /* 403 is final */
    WAIT(&w, kube_list(c, &KUBE_JOBS, NULL, NULL, on_result, &w));
    CHECK_INT(w.r.http_status, 403);
    CHECK_CONTAINS(w.r.status.message, "at the cluster scope");
    call_reset(&w);
    close_client(c);
}

static char *request_token(const char *sa)
{
    struct call w = {0};
    struct json_object *o = jparse("{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
                                   "\"metadata\":{\"name\":\"%s\"}}",
                                   sa);
    WAIT(&w, kube_create(kc, &KUBE_SERVICEACCOUNTS, ns, o, on_result, &w));
    json_object_put(o);
    CHECK_INT(w.r.http_status, 201);
    o = jparse("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\","
               "\"spec\":{\"expirationSeconds\":3600}}");
    WAIT(&w, kube_create_subresource(kc, &KUBE_SERVICEACCOUNTS, ns, sa, "token", o, on_result, &w));
    json_object_put(o);
    CHECK_INT(w.r.http_status, 201);
    struct json_object *st, *tok;
    char *token = NULL;
    if (json_object_object_get_ex(w.body, "status", &st) &&
        json_object_object_get_ex(st, "token", &tok))
        token = strdup(json_object_get_string(tok));
    call_reset(&w);
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

    struct kcfg k = base_cfg();
    k.token_file = path;
    struct kube_client *c;
    CHECK_INT(kube_client_new(&loop, &k, NULL, &c), 0); /* reads the bad token */

    /* The token rotates on disk: the 401 makes the client re-read it and
     * retry once; the service account is then known, with no rights. */
    char line[4096];
    snprintf(line, sizeof line, "  %s  \n", token);
    write_file(path, line);
    struct call w = {0};
    WAIT(&w, kube_get(c, &KUBE_CONFIGMAPS, ns, "cm", on_result, &w));
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
    WAIT(&w, kube_get(c, &KUBE_CONFIGMAPS, ns, "cm", on_result, &w));
    CHECK_INT(w.r.http_status, 403);
    CHECK_INT(w.r.attempts, 1);
    close_client(c);

    /* A token that stays bad: one retry, then 401 Unauthorized surfaced. A
     * write, too: the server did not act on an unauthenticated request. */
    CHECK_INT(kube_client_new(&loop, &k, NULL, &c), 0);
    struct json_object *cm = jparse("{\"metadata\":{\"name\":\"x\"}}");
    WAIT(&w, kube_create(c, &KUBE_CONFIGMAPS, ns, cm, on_result, &w));
    json_object_put(cm);
    CHECK_INT(w.r.http_status, 401);
    CHECK_STR(w.r.status.reason, "Unauthorized");
    CHECK_INT(w.r.attempts, 2);
    call_reset(&w);
    close_client(c);

    /* A static token (no file): sent as is, never retried. */
    struct kcfg s = base_cfg();
    s.token = token;
    CHECK_INT(kube_client_new(&loop, &s, NULL, &c), 0);
    WAIT(&w, kube_list(c, &KUBE_CONFIGMAPS, ns, NULL, on_result, &w));
    CHECK_INT(w.r.http_status, 403);
    CHECK_CONTAINS(w.r.status.message, who);
    call_reset(&w);
    close_client(c);
    memset(token, 0, strlen(token));
    free(token);
}

static void test_tls(void)
{
    struct call w = {0};
    struct kube_client *c;
    char crt[320], key[320];
    snprintf(crt, sizeof crt, "%s/pki/admin.crt", cluster_dir);
    snprintf(key, sizeof key, "%s/pki/admin.key", cluster_dir);

    /* No CA given: the system roots do not know the test CA. */
    struct kcfg k = {0};
    k.server = cfg->server;
    k.cert_file = crt;
    k.key_file = key;
    CHECK_INT(kube_client_new(&loop, &k, NULL, &c), 0);
    WAIT(&w, kube_get(c, &KUBE_NAMESPACES, NULL, "default", on_result, &w));
    CHECK_INT(w.r.err, -EPROTO);
    CHECK_INT(w.r.http_status, 0);
    CHECK_INT(w.r.attempts, 1); /* not transient: no retry */
    CHECK(w.r.status.message[0] != '\0');
    close_client(c);

    /* tls-server-name: verified against the certificate's names. */
    k = base_cfg();
    k.cert_file = crt;
    k.key_file = key;
    char good_name[] = "kubernetes.default.svc", bad_name[] = "not-the-apiserver.example";
    k.tls_server_name = good_name;
    CHECK_INT(kube_client_new(&loop, &k, NULL, &c), 0);
    WAIT(&w, kube_get(c, &KUBE_NAMESPACES, NULL, "default", on_result, &w));
    CHECK_INT(w.r.err, 0);
    CHECK_INT(w.r.http_status, 200);
    close_client(c);
    k.tls_server_name = bad_name;
    CHECK_INT(kube_client_new(&loop, &k, NULL, &c), 0);
    WAIT(&w, kube_get(c, &KUBE_NAMESPACES, NULL, "default", on_result, &w));
    CHECK_INT(w.r.err, -EPROTO);
    close_client(c);

    /* HTTP/1.1 when asked. */
    struct kube_options o = {.http1_only = 1};
    CHECK_INT(kube_client_new(&loop, cfg, &o, &c), 0);
    WAIT(&w, kube_get(c, &KUBE_NAMESPACES, NULL, "default", on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK_INT(w.r.http_version, 11);
    close_client(c);

    /* Nothing listens: connection refused, retried for a read, then surfaced. */
    struct kube_options fast = {.backoff_base_ms = 10, .backoff_cap_ms = 20, .max_tries = 3};
    k = base_cfg();
    char dead[] = "https://127.0.0.1:1";
    k.server = dead;
    CHECK_INT(kube_client_new(&loop, &k, &fast, &c), 0);
    WAIT(&w, kube_get(c, &KUBE_NAMESPACES, NULL, "default", on_result, &w));
    CHECK_INT(w.r.err, -ECONNREFUSED);
    CHECK_INT(w.r.attempts, 3);
    struct kube_stats st;
    kube_client_stats(c, &st);
    CHECK_INT(st.retries, 2);
    CHECK_INT(st.by_class[KUBE_VERB_GET][0], 3);
    call_reset(&w);
    close_client(c);
}

int main(void)
{
    const char *path = getenv("KUBECONFIG");
    cluster_dir = getenv("RUNBOOK_CLUSTER_DIR");
    if (!path || !cluster_dir) {
        fprintf(stderr, "KUBECONFIG and RUNBOOK_CLUSTER_DIR must be set (run through ctest)\n");
        return 1;
    }
    char *err = NULL;
    if (kcfg_load_file(path, NULL, &cfg, &err) < 0) {
        fprintf(stderr, "%s\n", err);
        free(err);
        return 1;
    }
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    uv_loop_init(&loop);
    CHECK_INT(kube_client_new(&loop, cfg, NULL, &kc), 0);
    snprintf(ns, sizeof ns, "rb-it-kube-auth-%d-%ld", (int)getpid(), (long)(uv_hrtime() % 100000));
    struct call w = {0};
    struct json_object *nsobj = jparse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                                       "\"metadata\":{\"name\":\"%s\"}}",
                                       ns);
    WAIT(&w, kube_create(kc, &KUBE_NAMESPACES, NULL, nsobj, on_result, &w));
    json_object_put(nsobj);
    CHECK_INT(w.r.http_status, 201);

    RUN(test_forbidden_certificate);
    RUN(test_token_file_rotation);
    RUN(test_tls);

    struct kube_delete_opts bg = {.propagation = "Background"};
    WAIT(&w, kube_delete(kc, &KUBE_NAMESPACES, NULL, ns, &bg, on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    call_reset(&w);
    close_client(kc);
    kcfg_free(cfg);
    CHECK_INT(uv_loop_close(&loop), 0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_finish();
}
