/* What the benches share: dying with the program's name, the monotonic
 * clock, percentiles, JSON from text or from test/data/informer; and, for
 * the benches that talk to a cluster, the driver's loop (run until a
 * condition or for a while), requests waited for, the kubeconfig and its
 * clients, a namespace of the bench's own.
 * Header-only (CMake builds each bench_*.c as its own program); functions
 * are static and may go unused. A bench defines BENCH_NAME (the prefix of
 * die()'s message) before including it. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include "kube/kube.h"
#include "kubeconfig/kubeconfig.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <json-c/json.h>
#include <uv.h>

#ifndef BENCH_NAME
#error "define BENCH_NAME (the program's name) before including bench_util.h"
#endif

#ifndef RB_BENCH_DATA
#define RB_BENCH_DATA "test/data/informer"
#endif

#define BENCH_FN static __attribute__((unused))

/* ---- messages, clock, figures ------------------------------------------------ */

BENCH_FN __attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(BENCH_NAME ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Seconds on uv_hrtime() (CLOCK_MONOTONIC, the same in every thread). */
BENCH_FN double now_s(void)
{
    return (double)uv_hrtime() / 1e9;
}

/* CPU seconds of the calling thread (the loop's, in a one-loop bench). */
BENCH_FN double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Heap in use, mmap'd blocks included (mallinfo2): the precise figure. */
BENCH_FN long heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long)(mi.uordblks + mi.hblkhd);
}

BENCH_FN int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of v[0..n) (sorted in place); NAN if n == 0. */
BENCH_FN double pct(double *v, size_t n, double q)
{
    if (!n)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = (size_t)ceil(q * (double)n);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

/* ---- JSON ---------------------------------------------------------------------- */

BENCH_FN struct json_object *parse(const char *text)
{
    struct json_object *o = json_tokener_parse(text);
    if (!o)
        die("bad JSON: %s", text);
    return o;
}

/* RB_BENCH_DATA/name (a captured object, see bench/README.md), parsed. */
BENCH_FN struct json_object *load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", RB_BENCH_DATA, name);
    struct json_object *o = json_object_from_file(path);
    if (!o) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    return o;
}

BENCH_FN void set(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v));
}

/* ---- the driver's loop ------------------------------------------------------------ */

static uv_loop_t L __attribute__((unused));
static uv_timer_t ticker __attribute__((unused)); /* wakes wait_until() for predicates that poll */

BENCH_FN void tick(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until pred(ud) or timeout_s; 0 or -ETIMEDOUT. */
BENCH_FN int wait_until(int (*pred)(void *ud), void *ud, double timeout_s)
{
    double end = now_s() + timeout_s;
    uv_timer_start(&ticker, tick, 20, 20);
    int rc = 0;
    while (!pred(ud)) {
        if (now_s() > end) {
            rc = -ETIMEDOUT;
            break;
        }
        uv_run(&L, UV_RUN_ONCE);
    }
    uv_timer_stop(&ticker);
    return rc;
}

BENCH_FN int never(void *ud)
{
    (void)ud;
    return 0;
}

/* Runs the loop for s seconds. */
BENCH_FN void sleep_loop(double s)
{
    wait_until(never, NULL, s);
}

/* Loads the kubeconfig and starts the loop; the caller makes its clients
 * (bench_client) and frees the config. */
BENCH_FN struct kcfg *bench_connect(const char *kubeconfig)
{
    struct kcfg *cfg = NULL;
    char *err = NULL;
    if (kcfg_load(kubeconfig, NULL, &cfg, &err) < 0)
        die("%s", err ? err : "cannot load the kubeconfig");
    uv_loop_init(&L);
    uv_timer_init(&L, &ticker);
    return cfg;
}

BENCH_FN struct kube_client *bench_client(const struct kcfg *cfg, const struct kube_options *ko)
{
    struct kube_client *kc = NULL;
    if (kube_client_new(&L, cfg, ko, &kc) < 0)
        die("cannot make the client");
    return kc;
}

/* After the clients are closed: their last callbacks, then the loop. */
BENCH_FN void bench_loop_close(void)
{
    uv_close((uv_handle_t *)&ticker, NULL);
    uv_run(&L, UV_RUN_DEFAULT);
    uv_loop_close(&L);
}

/* ---- requests waited for ----------------------------------------------------------- */

struct sreq {
    int done, err;
    long status;
    struct json_object *body;
};

BENCH_FN void sreq_cb(void *ud, const struct kube_result *r)
{
    struct sreq *s = ud;
    s->done = 1;
    s->err = r->err;
    s->status = r->http_status;
    s->body = r->body ? json_object_get(r->body) : NULL;
}

BENCH_FN int sreq_done(void *ud)
{
    return ((struct sreq *)ud)->done;
}

/* Waits for a request started with sreq_cb; returns the HTTP status or a
 * negative errno; the body is dropped unless keep. */
BENCH_FN long sreq_wait(struct sreq *s, int rc, struct json_object **keep)
{
    if (rc < 0)
        return rc;
    wait_until(sreq_done, s, 120);
    if (!s->done)
        return -ETIMEDOUT;
    if (keep)
        *keep = s->body;
    else
        json_object_put(s->body);
    return s->err ? s->err : s->status;
}

BENCH_FN long create_sync(struct kube_client *kc, const struct kube_resource *res, const char *ns,
                          struct json_object *body)
{
    struct sreq s = {0};
    return sreq_wait(&s, kube_create(kc, res, ns, body, sreq_cb, &s), NULL);
}

BENCH_FN long get_sync(struct kube_client *kc, const struct kube_resource *res, const char *ns,
                       const char *name)
{
    struct sreq s = {0};
    return sreq_wait(&s, kube_get(kc, res, ns, name, sreq_cb, &s), NULL);
}

BENCH_FN long delete_sync(struct kube_client *kc, const struct kube_resource *res, const char *ns,
                          const char *name, const char *propagation)
{
    struct sreq s = {0};
    struct kube_delete_opts d = {.propagation = propagation};
    return sreq_wait(&s, kube_delete(kc, res, ns, name, &d, sreq_cb, &s), NULL);
}

/* A fresh namespace; waits for its default ServiceAccount (made by the
 * controller manager) so that pods are not refused. */
BENCH_FN void ns_create(struct kube_client *kc, const char *ns)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", ns);
    struct json_object *o = parse(body);
    long st = create_sync(kc, &KUBE_NAMESPACES, NULL, o);
    json_object_put(o);
    if (st != 201 && st != 409)
        die("cannot create namespace %s: %ld", ns, st);
    for (int i = 0; i < 100 && get_sync(kc, &KUBE_SERVICEACCOUNTS, ns, "default") != 200; i++)
        sleep_loop(0.1);
}

#endif
