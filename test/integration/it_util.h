/* The harness of every integration test (it_*.c): the cluster from
 * $KUBECONFIG and $RUNBOOK_CLUSTER_DIR, one loop with an admin client, the
 * loop run until a flag or a condition, requests waited for (WAIT asserts,
 * it_wait and it_status do not), JSON from a format, a namespace of the
 * test's own, and the files a test makes (certificates, a temporary dir).
 * The informers' helpers are in it_informer_util.h, test/proxy's fault proxy
 * in it_proxy.h.
 * Header-only (CMake builds each it_*.c as its own binary); functions are
 * static and may go unused. */
#ifndef IT_UTIL_H
#define IT_UTIL_H

#include "check.h"
#include "kube/kube.h"
#include "kubeconfig/kubeconfig.h"
#include "log/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#define IT_FN static __attribute__((unused))

/* ---- the cluster ---------------------------------------------------------- */

struct it_env {
    char dir[512];  /* RUNBOOK_CLUSTER_DIR */
    char bin[512];  /* RUNBOOK_CLUSTER_BIN: etcdctl and friends */
    char etcd[128]; /* ETCD_ENDPOINT */
    char src[512];  /* RUNBOOK_SOURCE_DIR */
};

static struct it_env it_env;
static uv_loop_t it_loop;
static struct kcfg *it_cfg;
static struct kube_client *it_kc; /* admin, direct to the API server */

/* strlcpy: truncation is fine here, and snprintf("%s") trips
 * -Wformat-truncation in release builds. */
static void it_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* $RUNBOOK_CLUSTER_DIR, $RUNBOOK_SOURCE_DIR (ctest sets both) and what
 * DIR/env says. Unless required, a test runs without them (it_env.dir and
 * .src stay empty). */
static int it_env_load(int required)
{
    const char *dir = getenv("RUNBOOK_CLUSTER_DIR");
    const char *src = getenv("RUNBOOK_SOURCE_DIR");
    if (!dir || !src) {
        if (!required)
            return 0;
        fprintf(stderr, "RUNBOOK_CLUSTER_DIR and RUNBOOK_SOURCE_DIR must be set\n");
        return -1;
    }
    it_copy(it_env.dir, sizeof it_env.dir, dir);
    it_copy(it_env.src, sizeof it_env.src, src);
    char path[600], line[1024];
    snprintf(path, sizeof path, "%s/env", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "RUNBOOK_CLUSTER_BIN=", 20) == 0)
            it_copy(it_env.bin, sizeof it_env.bin, line + 20);
        else if (strncmp(line, "ETCD_ENDPOINT=", 14) == 0)
            it_copy(it_env.etcd, sizeof it_env.etcd, line + 14);
    }
    fclose(f);
    return 0;
}

/* No client-side rate limit, room for many streams: for tests that write
 * in bulk. */
static const struct kube_options it_unlimited
    __attribute__((unused)) = {.qps = -1, .max_host_connections = 64};

/* A client with the kubeconfig's credentials, at server (NULL: the
 * kubeconfig's) with options o (NULL: it_unlimited). */
IT_FN struct kube_client *it_client(const char *server, const struct kube_options *o)
{
    struct kcfg k = *it_cfg;
    if (server)
        k.server = (char *)(uintptr_t)server;
    struct kube_client *c = NULL;
    if (kube_client_new(&it_loop, &k, o ? o : &it_unlimited, &c) < 0)
        return NULL;
    return c;
}

/* A kcfg that points at the cluster but carries only what the test sets;
 * the strings are borrowed (the client copies what it needs). */
IT_FN struct kcfg it_cfg_bare(void)
{
    struct kcfg k = {0};
    k.server = it_cfg->server;
    k.ca_file = it_cfg->ca_file;
    k.ca_data = it_cfg->ca_data;
    k.ca_len = it_cfg->ca_len;
    return k;
}

#define IT_CLUSTER 1 /* it_setup: $RUNBOOK_CLUSTER_DIR and $RUNBOOK_SOURCE_DIR required */

/* Logs at level ($IT_DEBUG: debug), loads $KUBECONFIG and it_env (flags:
 * IT_CLUSTER), opens it_loop and it_kc with options admin (NULL: the kube
 * client's defaults). Returns 0, or -1 having said why. */
IT_FN int it_setup(enum log_level level, int flags, const struct kube_options *admin)
{
    log_setup(getenv("IT_DEBUG") ? LOGL_DEBUG : level, LOG_FORMAT_LOGFMT, NULL);
    const char *path = getenv("KUBECONFIG");
    if (!path) {
        fprintf(stderr, "KUBECONFIG is not set (run through ctest, or test/cluster/up.sh)\n");
        return -1;
    }
    if (it_env_load(flags & IT_CLUSTER) < 0)
        return -1;
    char *err = NULL;
    if (kcfg_load_file(path, NULL, &it_cfg, &err) < 0) {
        fprintf(stderr, "kubeconfig: %s\n", err ? err : "?");
        free(err);
        return -1;
    }
    uv_loop_init(&it_loop);
    if (kube_client_new(&it_loop, it_cfg, admin, &it_kc) < 0) {
        fprintf(stderr, "cannot make the admin client\n");
        return -1;
    }
    return 0;
}

/* ---- the loop --------------------------------------------------------------- */

static void it_tick(uv_timer_t *t)
{
    (void)t; /* wakes the loop to check the clock */
}

/* Runs the loop until done(ud) or timeout_ms; returns done(ud). */
IT_FN int it_run_until(int (*done)(void *ud), void *ud, uint64_t timeout_ms)
{
    uv_timer_t t;
    uv_timer_init(&it_loop, &t);
    uv_timer_start(&t, it_tick, 20, 20);
    uint64_t end = uv_now(&it_loop) + timeout_ms;
    while (!done(ud) && uv_now(&it_loop) < end)
        uv_run(&it_loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&it_loop, UV_RUN_NOWAIT);
    return done(ud);
}

static int it_never(void *ud)
{
    (void)ud;
    return 0;
}

IT_FN void it_sleep(uint64_t ms)
{
    it_run_until(it_never, NULL, ms);
}

static int it_flag(void *ud)
{
    return *(const int *)ud;
}

/* Runs the loop until *flag or timeout_ms; returns *flag. */
IT_FN int it_run_flag(int *flag, uint64_t timeout_ms)
{
    int done = it_run_until(it_flag, flag, timeout_ms);
    if (!done && timeout_ms >= 1000)
        fprintf(stderr, "timed out after %llu ms\n", (unsigned long long)timeout_ms);
    return done;
}

/* A callback that counts its calls in *(int *)ud. */
static void it_count(void *ud)
{
    (*(int *)ud)++;
}

/* Closes c and runs the loop until it says so (10 s at most); returns
 * whether it did. */
IT_FN int it_client_close(struct kube_client *c)
{
    int closed = 0;
    kube_client_close(c, it_count, &closed);
    return it_run_flag(&closed, 10000);
}

/* Closes it_kc, then the loop; every other client, informer and handle must
 * be closing or closed already. Returns 0, or -1 having said why: the client
 * did not say closed exactly once, or the loop still has handles. */
IT_FN int it_teardown(void)
{
    int closed = 0, rc = 0;
    kube_client_close(it_kc, it_count, &closed);
    it_run_flag(&closed, 10000);
    uv_run(&it_loop, UV_RUN_DEFAULT); /* what else is closing */
    if (closed != 1) {
        fprintf(stderr, "the admin client said closed %d times\n", closed);
        rc = -1;
    }
    kcfg_free(it_cfg);
    if (uv_loop_close(&it_loop) != 0) {
        fprintf(stderr, "loop still has handles\n");
        rc = -1;
    }
    return rc;
}

/* ---- requests, waited for --------------------------------------------------- */

struct it_call {
    int done;
    int calls; /* callbacks received; must end at 1 */
    struct kube_result r;
    struct json_object *body; /* our reference */
};

static void it_on_result(void *ud, const struct kube_result *r)
{
    struct it_call *c = ud;
    c->calls++;
    c->done = 1;
    c->r = *r;
    c->r.body = NULL;
    c->body = r->body ? json_object_get(r->body) : NULL;
}

/* Drops the body and zeroes the call, for the next request. */
IT_FN void it_call_reset(struct it_call *c)
{
    json_object_put(c->body);
    memset(c, 0, sizeof *c);
}

/* Starts expr (a kube_* call with it_on_result, w), asserts that it started,
 * and that its callback came exactly once within 30 s. */
#define WAIT(w, expr)                                                                              \
    do {                                                                                           \
        it_call_reset(w);                                                                          \
        int rc_ = (expr);                                                                          \
        CHECK_INT(rc_, 0);                                                                         \
        if (rc_ == 0)                                                                              \
            CHECK(it_run_flag(&(w)->done, 30000));                                                 \
        CHECK_INT((w)->calls, rc_ == 0 ? 1 : 0);                                                   \
    } while (0)

/* Waits (60 s at most) for the request that rc, what kube_* returned,
 * started. Returns its HTTP status, or a negative errno: rc, -ETIMEDOUT, or
 * the request's own error. */
IT_FN long it_status(struct it_call *c, int rc)
{
    if (rc < 0)
        return rc;
    if (!it_run_until(it_flag, &c->done, 60000))
        return -ETIMEDOUT;
    return c->r.err < 0 ? c->r.err : c->r.http_status;
}

/* it_status, as 0 for a 2xx answer and -HTTP status for another. */
IT_FN int it_wait(struct it_call *c, int rc)
{
    long s = it_status(c, rc);
    return s < 0 ? (int)s : (s >= 300 ? -(int)s : 0);
}

/* 0 when the request answered want, exactly once; else -1, having said
 * what came instead. */
static int it_expect(struct it_call *c, int rc, long want, const char *what)
{
    long s = it_status(c, rc);
    if (s == want && c->calls == 1)
        return 0;
    fprintf(stderr, "%s: %ld (err %d http %ld, %d answers) %s\n", what, s, c->r.err,
            c->r.http_status, c->calls, c->r.status.message);
    return -1;
}

IT_FN struct json_object *it_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
IT_FN struct json_object *it_json(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    struct json_object *o = json_tokener_parse(buf);
    if (!o)
        fprintf(stderr, "bad JSON in test: %s\n", buf);
    return o;
}

/* ---- a namespace of the test's own ------------------------------------------ */

/* Creates "<prefix>-<pid>-<random>" in ns. Returns 0 when created (201,
 * answered once), else -1 having said why. */
IT_FN int it_namespace(const char *prefix, char *ns, size_t cap)
{
    srand((unsigned)(getpid() ^ (unsigned)uv_hrtime()));
    snprintf(ns, cap, "%s-%d-%04x", prefix, (int)getpid(), rand() & 0xffff);
    struct json_object *o = it_json("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                                    "\"metadata\":{\"name\":\"%s\"}}",
                                    ns);
    struct it_call c = {0};
    int rc = it_expect(&c, kube_create(it_kc, &KUBE_NAMESPACES, NULL, o, it_on_result, &c), 201,
                       "create namespace");
    json_object_put(o);
    it_call_reset(&c);
    return rc;
}

/* Deletes it (Background). Returns 0 when the server took it (200, answered
 * once), else -1 having said why. */
IT_FN int it_namespace_delete(const char *ns)
{
    struct kube_delete_opts bg = {.propagation = "Background"};
    struct it_call c = {0};
    int rc = it_expect(&c, kube_delete(it_kc, &KUBE_NAMESPACES, NULL, ns, &bg, it_on_result, &c),
                       200, "delete namespace");
    it_call_reset(&c);
    return rc;
}

/* ---- files ------------------------------------------------------------------ */

/* test/data/kube/make-cert.sh: PREFIX.crt and PREFIX.key signed by the
 * cluster's CA; args are the script's further words (CN, "server"). Returns
 * what system() did (0: made). */
IT_FN int it_make_cert(const char *prefix, const char *args)
{
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "'%s/test/data/kube/make-cert.sh' '%s' '%s' %s", it_env.src,
             it_env.dir, prefix, args);
    return system(cmd);
}

/* Removes dir and all below it, saying so when it cannot. */
IT_FN void it_remove_tree(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

#endif
