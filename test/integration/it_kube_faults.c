/* The kube client's retry policy, with faults injected by a TLS proxy in
 * front of the real API server (test/data/kube/fault-proxy.py; everything
 * not matched by a rule reaches the API server):
 *   reads retry 429 (honouring Retry-After), 503, 500 and dropped
 *   connections, with backoff, up to max_tries; writes retry only 429 and
 *   surface 5xx, timeouts and dropped connections (unknown outcome).
 * Needs $RUNBOOK_CLUSTER_DIR, $KUBECONFIG, $RUNBOOK_SOURCE_DIR, python3. */
#include "it_util.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static struct kube_client *kc; /* through the proxy; it_kc: direct */
static char ns[64];
static char tmpdir[] = "/tmp/rb-it-kube-faults-XXXXXX";
static char rules_path[320];
static char proxy_url[64];
static pid_t proxy_pid;

static void rules(const char *json)
{
    char tmp[340];
    snprintf(tmp, sizeof tmp, "%s.tmp", rules_path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    /* Trailing spaces vary, so a repeated rule set still counts afresh. */
    static int gen;
    fprintf(f, "%s\n%*s", json, ++gen % 64, "");
    fclose(f);
    rename(tmp, rules_path);
}

static double secs_since(uint64_t t0)
{
    return (double)(uv_hrtime() - t0) / 1e9;
}

static struct kube_client *proxy_client(const struct kube_options *o)
{
    struct kcfg k = it_cfg_bare();
    k.server = proxy_url;
    struct kube_client *c = NULL;
    CHECK_INT(kube_client_new(&it_loop, &k, o, &c), 0);
    return c;
}

static void test_reads_retry(void)
{
    struct it_call w = {0};
    struct kube_stats a, b;

    /* 429 twice with Retry-After: 1, then the real answer. */
    rules("[{\"method\":\"GET\",\"path\":\"/configmaps/cm-0\",\"count\":2,\"status\":429,"
          "\"retry_after\":\"1\"}]");
    kube_client_stats(kc, &a);
    uint64_t t0 = uv_hrtime();
    WAIT(&w, kube_get(kc, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &w));
    double s = secs_since(t0);
    CHECK_INT(w.r.err, 0);
    CHECK_INT(w.r.http_status, 200);
    CHECK_INT(w.r.attempts, 3);
    CHECK(s >= 1.9);
    CHECK(s < 6);
    kube_client_stats(kc, &b);
    CHECK_INT(b.by_code[429] - a.by_code[429], 2);
    CHECK_INT(b.retries - a.retries, 2);

    /* 503 and 500 without Retry-After: backoff (base 50 ms here). */
    rules("[{\"method\":\"GET\",\"path\":\"/configmaps?\",\"count\":1,\"status\":503},"
          "{\"method\":\"GET\",\"path\":\"/configmaps?\",\"count\":1,\"status\":500}]");
    struct kube_list_opts lo = {.limit = 2};
    t0 = uv_hrtime();
    WAIT(&w, kube_list(kc, &KUBE_CONFIGMAPS, ns, &lo, it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK_INT(w.r.attempts, 3);
    CHECK(secs_since(t0) < 3);

    /* A dropped connection before any answer: retried. */
    rules("[{\"method\":\"GET\",\"path\":\"/configmaps/cm-0\",\"count\":1,\"action\":\"reset\"}]");
    WAIT(&w, kube_get(kc, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK(w.r.attempts >= 1); /* curl itself may retry a reused connection */

    /* Too slow: the per-attempt timeout fires, the read is retried. */
    rules("[{\"method\":\"GET\",\"path\":\"/configmaps/cm-1\",\"count\":1,\"action\":\"delay\","
          "\"seconds\":3}]");
    t0 = uv_hrtime();
    WAIT(&w, kube_get(kc, &KUBE_CONFIGMAPS, ns, "cm-1", it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK_INT(w.r.attempts, 2);
    CHECK(secs_since(t0) >= 1.0);

    /* Always failing: max_tries attempts, then the last answer surfaced. */
    rules("[{\"method\":\"GET\",\"path\":\"/configmaps/cm-0\",\"count\":-1,\"status\":503}]");
    WAIT(&w, kube_get(kc, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &w));
    CHECK_INT(w.r.err, 0);
    CHECK_INT(w.r.http_status, 503);
    CHECK_INT(w.r.attempts, 3);
    CHECK_STR(w.r.status.reason, "ServiceUnavailable");
    CHECK_STR(w.r.status.message, "injected by fault-proxy");

    /* A huge Retry-After is capped by backoff_cap_ms (1.5 s here). */
    rules("[{\"method\":\"GET\",\"path\":\"/configmaps/cm-0\",\"count\":1,\"status\":429,"
          "\"retry_after\":\"3600\"}]");
    t0 = uv_hrtime();
    WAIT(&w, kube_get(kc, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK(secs_since(t0) < 3);
    rules("[]");
    it_call_reset(&w);
}

static void test_writes(void)
{
    struct it_call w = {0};
    /* 429: the server did not act; the create is retried and succeeds. */
    rules("[{\"method\":\"POST\",\"count\":1,\"status\":429,\"retry_after\":\"0\"}]");
    struct json_object *cm = it_json("{\"metadata\":{\"name\":\"w-429\"}}");
    WAIT(&w, kube_create(kc, &KUBE_CONFIGMAPS, ns, cm, it_on_result, &w));
    json_object_put(cm);
    CHECK_INT(w.r.http_status, 201);
    CHECK_INT(w.r.attempts, 2);

    /* 503 on a write: surfaced at once, the caller decides. */
    rules("[{\"method\":\"POST\",\"count\":1,\"status\":503}]");
    cm = it_json("{\"metadata\":{\"name\":\"w-503\"}}");
    WAIT(&w, kube_create(kc, &KUBE_CONFIGMAPS, ns, cm, it_on_result, &w));
    json_object_put(cm);
    CHECK_INT(w.r.http_status, 503);
    CHECK_INT(w.r.attempts, 1);

    /* 500 on a patch, and a slow delete timing out: surfaced, not repeated. */
    rules("[{\"method\":\"PATCH\",\"count\":1,\"status\":500}]");
    const char *p = "{\"data\":{\"x\":\"1\"}}";
    WAIT(&w, kube_patch(kc, &KUBE_CONFIGMAPS, ns, "cm-0", p, strlen(p), NULL, it_on_result, &w));
    CHECK_INT(w.r.http_status, 500);
    CHECK_INT(w.r.attempts, 1);
    rules("[{\"method\":\"DELETE\",\"count\":1,\"action\":\"delay\",\"seconds\":3}]");
    WAIT(&w, kube_delete(kc, &KUBE_CONFIGMAPS, ns, "w-429", NULL, it_on_result, &w));
    CHECK_INT(w.r.err, -ETIMEDOUT);
    CHECK_INT(w.r.attempts, 1);
    rules("[]");
    it_call_reset(&w);

    /* The server acted, then the connection dropped before the answer.
     * On a fresh connection (a new client) curl does not replay it either:
     * the caller sees the error and must find out (here: it exists). */
    struct kube_options o = {.backoff_base_ms = 50, .backoff_cap_ms = 500, .max_tries = 3};
    struct kube_client *fresh = proxy_client(&o);
    rules("[{\"method\":\"POST\",\"count\":1,\"action\":\"forward-reset\"}]");
    cm = it_json("{\"metadata\":{\"name\":\"w-reset\"}}");
    WAIT(&w, kube_create(fresh, &KUBE_CONFIGMAPS, ns, cm, it_on_result, &w));
    json_object_put(cm);
    CHECK_INT(w.r.err, -ECONNRESET);
    CHECK_INT(w.r.attempts, 1);
    CHECK(it_client_close(fresh));

    /* The same on a reused connection: curl would replay the POST by itself
     * (the server would then answer 409 AlreadyExists); the client stops
     * that replay, so the caller again sees the unknown outcome. */
    WAIT(&w, kube_get(kc, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    rules("[{\"method\":\"POST\",\"count\":1,\"action\":\"forward-reset\"}]");
    cm = it_json("{\"metadata\":{\"name\":\"w-reset-reused\"}}");
    WAIT(&w, kube_create(kc, &KUBE_CONFIGMAPS, ns, cm, it_on_result, &w));
    json_object_put(cm);
    CHECK_INT(w.r.err, -ECONNRESET);
    CHECK_INT(w.r.http_status, 0);
    CHECK_INT(w.r.attempts, 1);
    CHECK_CONTAINS(w.r.status.message, "may have acted");
    /* A read in the same spot is replayed (by curl or by us): it succeeds. */
    rules("[{\"method\":\"GET\",\"count\":1,\"action\":\"reset\"}]");
    WAIT(&w, kube_get(kc, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    rules("[]");
    WAIT(&w, kube_get(it_kc, &KUBE_CONFIGMAPS, ns, "w-reset", it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    it_call_reset(&w);
}

static int start_proxy(void)
{
    char prefix[340];
    snprintf(prefix, sizeof prefix, "%s/proxy", tmpdir);
    if (it_make_cert(prefix, "fault-proxy server") != 0)
        return -1;
    char script[600], ca[600], crt[600], key[600], scrt[360], skey[360];
    snprintf(script, sizeof script, "%s/test/data/kube/fault-proxy.py", it_env.src);
    snprintf(ca, sizeof ca, "%s/pki/ca.crt", it_env.dir);
    snprintf(crt, sizeof crt, "%s/pki/admin.crt", it_env.dir);
    snprintf(key, sizeof key, "%s/pki/admin.key", it_env.dir);
    snprintf(scrt, sizeof scrt, "%s.crt", prefix);
    snprintf(skey, sizeof skey, "%s.key", prefix);
    snprintf(rules_path, sizeof rules_path, "%s/rules.json", tmpdir);
    rules("[]");
    const char *args[] = {"python3",     script, "--upstream",   it_cfg->server,
                          "--ca",        ca,     "--cert",       crt,
                          "--key",       key,    "--serve-cert", scrt,
                          "--serve-key", skey,   "--rules",      rules_path};
    enum { NARGS = sizeof args / sizeof args[0] };
    char *argv[NARGS + 1] = {0}; /* posix_spawn wants char *const[] */
    for (size_t i = 0; i < NARGS; i++)
        argv[i] = strdup(args[i]);
    int fds[2];
    if (pipe(fds) < 0) {
        for (size_t i = 0; i < NARGS; i++)
            free(argv[i]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    int rc = posix_spawnp(&proxy_pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    for (size_t i = 0; i < NARGS; i++)
        free(argv[i]);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    FILE *out = fdopen(fds[0], "r");
    int port = 0;
    if (!out || fscanf(out, "port %d", &port) != 1)
        port = 0;
    if (out)
        fclose(out);
    if (port <= 0)
        return -1;
    snprintf(proxy_url, sizeof proxy_url, "https://127.0.0.1:%d", port);
    return 0;
}

int main(void)
{
    if (it_setup(LOGL_INFO, IT_CLUSTER, NULL) < 0)
        return 1;
    if (!mkdtemp(tmpdir) || start_proxy() < 0) {
        fprintf(stderr, "cannot start the fault proxy\n");
        return 1;
    }
    struct kube_options o = {
        .timeout_ms = 1500, .backoff_base_ms = 50, .backoff_cap_ms = 1500, .max_tries = 3};
    kc = proxy_client(&o);

    CHECK_INT(it_namespace("rb-it-kube-faults", ns, sizeof ns), 0);
    struct it_call w = {0};
    for (int i = 0; i < 2; i++) {
        struct json_object *obj =
            it_json("{\"metadata\":{\"name\":\"cm-%d\"},\"data\":{\"k\":\"v\"}}", i);
        WAIT(&w, kube_create(it_kc, &KUBE_CONFIGMAPS, ns, obj, it_on_result, &w));
        json_object_put(obj);
        CHECK_INT(w.r.http_status, 201);
    }

    RUN(test_reads_retry);
    RUN(test_writes);

    CHECK_INT(it_namespace_delete(ns), 0);
    it_call_reset(&w);
    CHECK(it_client_close(kc));
    CHECK_INT(it_teardown(), 0);

    kill(proxy_pid, SIGTERM);
    waitpid(proxy_pid, NULL, 0);
    it_remove_tree(tmpdir);
    return check_finish();
}
