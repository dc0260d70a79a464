/* bench_watch_decode - how fast a recorded watch stream is decoded and
 * applied to the informer's cache.
 *
 * The stream is generated in-process from a real Job and Pod captured from
 * the test cluster (test/data/informer/{job,pod}.json, managedFields
 * included, 4-5 KB each): every object goes through its life cycle (Job:
 * ADDED, MODIFIED running, MODIFIED complete, DELETED; Pod: ADDED,
 * MODIFIED scheduled, running, succeeded, DELETED) with a BOOKMARK every
 * 500 events, as one NDJSON body per resource. Each run feeds the body to
 * src/watch's decoder in fixed-size chunks; "decode" stops there, "apply"
 * also projects each object (ctrl_job_projection / ctrl_pod_projection),
 * updates the cache and the resourceVersion, as inf.c does per event.
 *
 * Prints, per case: events, MB, events/s (wall), CPU microseconds per
 * event (getrusage user+sys), MB/s. Best of 3 runs.
 *
 * With "relist": instead, what a full LIST of the same Jobs and Pods
 * (each Running) costs, as inf.c's on_list takes it: page by page, the
 * body parsed whole (kube_json_parse, as the API client does) and each
 * item given to inf_cache_replace_item, then inf_cache_replace_end. For
 * pages of 500 (the informer's default) and 100 (what the controller
 * asks for, src/ctrl/ctrl.c): into an empty cache (the first list) and
 * into the cache that list filled, every item unchanged (a relist after
 * a watch expired). Each list is applied 3 times; prints the thread CPU
 * seconds of the best whole list (best_s) and the sum over pages of each
 * page's least CPU time (pagemin_s: what is left when other work on the
 * machine is filtered out), pagemin_s per object, and the largest heap
 * one page held while applied (mallinfo2: the parsed tree, not its text).
 *
 * Usage: bench_watch_decode [objects per kind, default 5000] [relist [page size]]
 * (relist with a page size: that size only, instead of 500 and 100) */
#define BENCH_NAME "bench_watch_decode"
#include "bench_util.h"
#include "informer/inf_cache.h"
#include "ctrl/ctrl-internal.h" /* the records the operator keeps */
#include "informer/inf_sm.h"
#include "watch/decoder.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <json-c/json.h>

/* ---- generating the stream ------------------------------------------------- */

struct gen {
    char *buf;
    size_t len, cap;
    long rv;
    long events;
};

static void append(struct gen *g, const char *s, size_t n)
{
    if (g->len + n + 1 > g->cap) {
        g->cap = (g->len + n + 1) * 2;
        g->buf = realloc(g->buf, g->cap);
        if (!g->buf)
            exit(1);
    }
    memcpy(g->buf + g->len, s, n);
    g->len += n;
}

static void emit(struct gen *g, const char *type, struct json_object *obj)
{
    char rv[24];
    snprintf(rv, sizeof rv, "%ld", ++g->rv);
    set(json_object_object_get(obj, "metadata"), "resourceVersion", rv);
    const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
    char head[128];
    int n = snprintf(head, sizeof head, "{\"type\":\"%s\",\"object\":", type);
    append(g, head, (size_t)n);
    append(g, s, strlen(s));
    append(g, "}\n", 2);
    if (++g->events % 500 == 0) {
        n = snprintf(head, sizeof head,
                     "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{"
                     "\"resourceVersion\":\"%ld\"}}}\n",
                     g->rv);
        append(g, head, (size_t)n);
        g->events++;
    }
}

static void name_job(struct json_object *o, int i)
{
    char name[64], run[48], uid[40];
    const char *steps[] = {"checkout", "compile", "unit-test", "package", "publish"};
    snprintf(run, sizeof run, "nightly-build-%05x", i / 5);
    snprintf(name, sizeof name, "%s-%s", run, steps[i % 5]);
    snprintf(uid, sizeof uid, "%08x-9a51-4d7e-8e61-%012x", i, i * 7);
    struct json_object *md = json_object_object_get(o, "metadata");
    set(md, "name", name);
    set(md, "uid", uid);
    struct json_object *labels = json_object_object_get(md, "labels");
    set(labels, KJ_LABEL_RUN, run);
    set(labels, KJ_LABEL_STEP, steps[i % 5]);
}

static struct json_object *job_status(int phase)
{
    static const char *const st[] = {
        "{}",
        "{\"active\":1,\"ready\":1,\"terminating\":0,\"startTime\":\"2026-11-25T05:01:10Z\","
        "\"uncountedTerminatedPods\":{}}",
        NULL, /* the template's: complete */
    };
    return json_tokener_parse(st[phase]);
}

static void gen_jobs(struct gen *g, int n)
{
    struct json_object *t = load("job.json");
    struct json_object *done = json_object_get(json_object_object_get(t, "status"));
    for (int phase = 0; phase < 4; phase++) {
        for (int i = 0; i < n; i++) {
            name_job(t, i);
            json_object_object_add(
                t, "status", phase == 2 || phase == 3 ? json_object_get(done) : job_status(phase));
            emit(g, phase == 0 ? "ADDED" : phase == 3 ? "DELETED" : "MODIFIED", t);
        }
    }
    json_object_put(done);
    json_object_put(t);
}

static void gen_pods(struct gen *g, int n)
{
    struct json_object *t = load("pod.json");
    struct json_object *done = json_object_get(json_object_object_get(t, "status"));
    struct json_object *spec = json_object_object_get(t, "spec");
    for (int phase = 0; phase < 5; phase++) {
        for (int i = 0; i < n; i++) {
            char job[64], name[80];
            name_job(t, i);
            struct json_object *md = json_object_object_get(t, "metadata");
            snprintf(job, sizeof job, "%s",
                     json_object_get_string(json_object_object_get(md, "name")));
            snprintf(name, sizeof name, "%s-%05x", job, (i * 2654435761u) & 0xfffff);
            set(md, "name", name);
            struct json_object *labels = json_object_object_get(md, "labels");
            set(labels, "batch.kubernetes.io/job-name", job);
            set(labels, "job-name", job);
            if (phase == 0)
                json_object_object_del(spec, "nodeName");
            else
                set(spec, "nodeName", "kwok-node-0");
            struct json_object *st;
            if (phase == 0 || phase == 1)
                st = json_tokener_parse("{\"phase\":\"Pending\",\"qosClass\":\"Burstable\"}");
            else if (phase == 2)
                st = json_tokener_parse(
                    "{\"phase\":\"Running\",\"hostIP\":\"10.0.0.1\",\"podIP\":\"10.0.0.1\","
                    "\"startTime\":\"2026-11-25T05:01:10Z\",\"containerStatuses\":[{\"name\":"
                    "\"step\",\"ready\":true,\"restartCount\":0,\"started\":true,\"state\":{"
                    "\"running\":{\"startedAt\":\"2026-11-25T05:01:11Z\"}}}]}");
            else
                st = json_object_get(done);
            json_object_object_add(t, "status", st);
            emit(g, phase == 0 ? "ADDED" : phase == 4 ? "DELETED" : "MODIFIED", t);
        }
    }
    json_object_put(done);
    json_object_put(t);
}

/* ---- measuring --------------------------------------------------------------- */

struct run {
    struct inf_cache *c;
    struct inf_sm sm;
    int apply;
    long events;
};

static int on_event(void *ud, enum watch_event_type type, struct json_object *obj)
{
    struct run *r = ud;
    r->events++;
    if (r->apply) {
        if (inf_cache_apply(r->c, type, obj) < 0 ||
            inf_sm_observe(&r->sm, type, watch_event_resource_version(obj)) < 0)
            return 1;
    }
    return 0;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void measure(const char *label, const struct gen *g, size_t chunk,
                    const struct inf_projection *proj, int apply)
{
    double best_wall = 1e9, best_cpu = 1e9;
    long events = 0;
    for (int rep = 0; rep < 3; rep++) {
        struct run r = {.apply = apply};
        r.c = inf_cache_new(proj, NULL, NULL);
        inf_sm_init(&r.sm, 800, 30000, 60000);
        struct watch_decoder *d = watch_decoder_new(on_event, &r, 0);
        double w0 = wall_s(), c0 = cpu_s();
        for (size_t off = 0; off < g->len; off += chunk) {
            size_t n = g->len - off < chunk ? g->len - off : chunk;
            if (watch_decoder_feed(d, g->buf + off, n) != 0) {
                fprintf(stderr, "%s: decode failed: %s\n", label, watch_decoder_error(d));
                exit(1);
            }
        }
        double w = wall_s() - w0, c = cpu_s() - c0;
        if (watch_decoder_finish(d) != 0 || inf_cache_count(r.c) != 0) {
            fprintf(stderr, "%s: stream did not end clean\n", label);
            exit(1);
        }
        watch_decoder_free(d);
        inf_cache_free(r.c);
        events = r.events;
        if (w < best_wall)
            best_wall = w;
        if (c < best_cpu)
            best_cpu = c;
    }
    printf("%-28s %8ld %8.1f %12.0f %10.2f %9.1f\n", label, events, (double)g->len / 1e6,
           (double)events / best_wall, best_cpu * 1e6 / (double)events,
           (double)g->len / 1e6 / best_wall);
}

/* ---- relist: LIST pages ------------------------------------------------------- */

/* Object i of a kind (0 Job, 1 Pod) as a LIST returns it: Running. */
static void list_item(struct gen *g, struct json_object *t, int kind, int i, long rv)
{
    char rvs[24];
    name_job(t, i);
    struct json_object *md = json_object_object_get(t, "metadata");
    if (kind == 0) {
        json_object_object_add(t, "status", job_status(1));
    } else {
        char job[64], name[80];
        snprintf(job, sizeof job, "%s", json_object_get_string(json_object_object_get(md, "name")));
        snprintf(name, sizeof name, "%s-%05x", job, (i * 2654435761u) & 0xfffff);
        set(md, "name", name);
        struct json_object *labels = json_object_object_get(md, "labels");
        set(labels, "batch.kubernetes.io/job-name", job);
        set(labels, "job-name", job);
        set(json_object_object_get(t, "spec"), "nodeName", "kwok-node-0");
        json_object_object_add(
            t, "status",
            json_tokener_parse(
                "{\"phase\":\"Running\",\"hostIP\":\"10.0.0.1\",\"podIP\":\"10.0.0.1\","
                "\"startTime\":\"2026-11-25T05:01:10Z\",\"containerStatuses\":[{\"name\":"
                "\"step\",\"ready\":true,\"restartCount\":0,\"started\":true,\"state\":{"
                "\"running\":{\"startedAt\":\"2026-11-25T05:01:11Z\"}}}]}"));
    }
    snprintf(rvs, sizeof rvs, "%ld", rv);
    set(md, "resourceVersion", rvs);
    const char *s = json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN);
    append(g, s, strlen(s));
}

/* Page p (items [from, to)) of a LIST of n, as the API server sends it. */
static char *list_page(struct json_object *t, int kind, int from, int to, int n, size_t *len)
{
    struct gen g = {0};
    char head[256];
    int k = snprintf(head, sizeof head,
                     "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{"
                     "\"resourceVersion\":\"%d\"%s%s%s},\"items\":[",
                     kind ? "PodList" : "JobList", kind ? "v1" : "batch/v1", 5000000,
                     to < n ? ",\"continue\":\"" : "",
                     to < n ? "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ" : "", to < n ? "\"" : "");
    append(&g, head, (size_t)k);
    for (int i = from; i < to; i++) {
        if (i > from)
            append(&g, ",", 1);
        list_item(&g, t, kind, i, 1000000 + 2L * i + kind);
    }
    append(&g, "]}", 2);
    g.buf[g.len] = '\0';
    *len = g.len;
    return g.buf;
}

/* A whole LIST, page by page. */
struct list {
    char **text;
    size_t *len;
    int pages;
    double mb;
};

static void list_gen(struct list *l, int kind, int n, int page)
{
    struct json_object *t = load(kind ? "pod.json" : "job.json");
    memset(l, 0, sizeof *l);
    l->pages = (n + page - 1) / page;
    l->text = calloc((size_t)l->pages, sizeof *l->text);
    l->len = calloc((size_t)l->pages, sizeof *l->len);
    if (!l->text || !l->len)
        die("out of memory");
    for (int p = 0; p < l->pages; p++) {
        int from = p * page, to = from + page < n ? from + page : n;
        l->text[p] = list_page(t, kind, from, to, n, &l->len[p]);
        l->mb += (double)l->len[p] / 1e6;
    }
    json_object_put(t);
}

static void list_free(struct list *l)
{
    for (int p = 0; p < l->pages; p++)
        free(l->text[p]);
    free(l->text);
    free(l->len);
}

/* Applies the LIST l to c as on_list does: thread CPU seconds; per_page[p]
 * keeps the least CPU seconds page p took; *peak: the largest heap a parsed
 * page held. */
static double list_into(struct inf_cache *c, const struct list *l, double *per_page, long *peak)
{
    double cpu = 0;
    size_t cap = 0;
    for (int p = 0; p < l->pages; p++)
        cap = l->len[p] > cap ? l->len[p] : cap;
    char *resp = malloc(cap + 1);
    if (!resp)
        die("out of memory");
    for (int p = 0; p < l->pages; p++) {
        /* The body as the API client holds it: just received (libcurl's
         * write callback copies it into one buffer), so in the cache. */
        memcpy(resp, l->text[p], l->len[p] + 1);
        double c0 = thread_cpu_s();
        long h0 = heap_bytes();
        struct json_object *body = kube_json_parse(resp, l->len[p]);
        long h1 = heap_bytes();
        struct json_object *items = kj_path(body, "items", NULL);
        const char *rv = kj_path_str(body, "metadata", "resourceVersion", NULL);
        if (!items || !rv)
            die("malformed list page");
        if (p == 0)
            inf_cache_replace_begin(c);
        size_t m = json_object_array_length(items);
        for (size_t i = 0; i < m; i++)
            if (inf_cache_replace_item(c, json_object_array_get_idx(items, i)) < 0)
                die("replace_item failed");
        json_object_put(body);
        if (p == l->pages - 1)
            inf_cache_replace_end(c);
        double t = thread_cpu_s() - c0;
        cpu += t;
        if (t < per_page[p])
            per_page[p] = t;
        if (h1 - h0 > *peak)
            *peak = h1 - h0;
    }
    free(resp);
    return cpu;
}

static void relist(int n, int only_page)
{
    static const char *const kinds[] = {"Jobs", "Pods"};
    static const struct inf_projection *const proj[] = {&ctrl_job_projection, &ctrl_pod_projection};
    int pages[2] = {500, 100}, n_pages = 2; /* the informer's default, the controller's */
    if (only_page) {
        pages[0] = only_page;
        n_pages = 1;
    }
    printf("LIST of %d Jobs and %d Pods (Running), parsed page by page and applied, 3 times\n", n,
           n);
    printf("%-6s %5s %6s %8s %-22s %8s %10s %10s %12s\n", "kind", "page", "pages", "MB", "into",
           "best_s", "pagemin_s", "us/obj", "page_heap_MB");
    for (int p = 0; p < n_pages; p++) {
        int page = pages[p];
        for (int kind = 0; kind < 2; kind++) {
            struct list l;
            list_gen(&l, kind, n, page);
            double best[2] = {1e30, 1e30};
            double *per_page[2];
            for (int pass = 0; pass < 2; pass++) {
                per_page[pass] = malloc((size_t)l.pages * sizeof(double));
                if (!per_page[pass])
                    die("out of memory");
                for (int i = 0; i < l.pages; i++)
                    per_page[pass][i] = 1e30;
            }
            long peak = 0;
            for (int rep = 0; rep < 3; rep++) {
                struct inf_cache *c = inf_cache_new(proj[kind], NULL, NULL);
                if (!c)
                    die("out of memory");
                for (int pass = 0; pass < 2; pass++) {
                    double cpu = list_into(c, &l, per_page[pass], &peak);
                    if (inf_cache_count(c) != (size_t)n)
                        die("the cache holds %zu, not %d", inf_cache_count(c), n);
                    if (cpu < best[pass])
                        best[pass] = cpu;
                }
                inf_cache_free(c);
                malloc_trim(0);
            }
            for (int pass = 0; pass < 2; pass++) {
                double pagemin = 0;
                for (int i = 0; i < l.pages; i++)
                    pagemin += per_page[pass][i];
                printf("%-6s %5d %6d %8.1f %-22s %8.2f %10.2f %10.1f %12.1f\n", kinds[kind], page,
                       l.pages, l.mb, pass ? "full cache, unchanged" : "empty cache", best[pass],
                       pagemin, pagemin * 1e6 / n, (double)peak / 1048576.0);
                free(per_page[pass]);
            }
            fflush(stdout);
            list_free(&l);
        }
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000;
    if (n <= 0)
        n = 5000;
    if (argc > 2) {
        int page = argc > 3 ? atoi(argv[3]) : 0;
        if (strcmp(argv[2], "relist") != 0 || argc > 4 || (argc > 3 && page <= 0))
            die("usage: bench_watch_decode [objects per kind, default 5000] [relist [page size]]");
        relist(n, page);
        return 0;
    }
    struct gen jobs = {0}, pods = {0};
    gen_jobs(&jobs, n);
    gen_pods(&pods, n);
    printf("watch stream: %d Jobs (%ld events, %.1f MB), %d Pods (%ld events, %.1f MB)\n", n,
           jobs.events, (double)jobs.len / 1e6, n, pods.events, (double)pods.len / 1e6);
    printf("%-28s %8s %8s %12s %10s %9s\n", "case", "events", "MB", "events/s", "cpu_us/ev",
           "MB/s");
    measure("jobs decode, 16 KiB chunks", &jobs, 16384, &ctrl_job_projection, 0);
    measure("jobs apply, 16 KiB chunks", &jobs, 16384, &ctrl_job_projection, 1);
    measure("pods decode, 16 KiB chunks", &pods, 16384, &ctrl_pod_projection, 0);
    measure("pods apply, 16 KiB chunks", &pods, 16384, &ctrl_pod_projection, 1);
    measure("jobs apply, 1 KiB chunks", &jobs, 1024, &ctrl_job_projection, 1);
    measure("jobs apply, 7 B chunks", &jobs, 7, &ctrl_job_projection, 1);
    free(jobs.buf);
    free(pods.buf);
    return 0;
}
