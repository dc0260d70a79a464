/* bench_cache_memory - what holding 10,000 Jobs and 10,000 Pods costs.
 *
 * Objects are made in-process from a real Job and Pod captured from the
 * test cluster (test/data/informer/{job,pod}.json: 4.1 and 4.5 KB of JSON,
 * managedFields included), each with its own name, uid and labels, parsed
 * from JSON text as they would come off a watch. Cases:
 *   projection   the informer's cache with ctrl_job_projection /
 *                ctrl_pod_projection (what the operator keeps)
 *   json trees   the parsed json_object trees kept whole (a naive cache)
 *   json trees, no managedFields   the same with metadata.managedFields
 *                dropped (the usual Go informer transform)
 *   index: inf_cache / lh_table    only the keyed index, 8-byte records:
 *                the cache's own table against json-c's lh_table with
 *                strdup'd "ns/name" keys and a separate record + version
 * For each: RSS before and after (/proc/self/statm), the heap in use
 * (mallinfo2), both per object. Heap per object is the precise figure;
 * RSS includes allocator slack. The json-tree cases hold at most
 * TREES_MAX objects per kind (100 KB each: 100,000 Jobs and Pods as trees
 * would need 20 GB); their figures are per object all the same.
 *
 * Usage: bench_cache_memory [objects per kind, default 10000] */
#define BENCH_NAME "bench_cache_memory"
#include "bench_util.h"
#include "informer/inf_cache.h"
#include "ctrl/ctrl-internal.h" /* the records the operator keeps */

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <json-c/linkhash.h>

static int n_per_kind = 10000;
#define TREES_MAX 10000 /* objects per kind in the json-tree cases */
static struct json_object *job_tmpl, *pod_tmpl;

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

/* The JSON text of object i of a kind (0 Job, 1 Pod), as the server sends it. */
static const char *object_text(int kind, int i, int rv)
{
    static const char *const steps[] = {"checkout", "compile", "unit-test", "package", "publish"};
    struct json_object *t = kind ? pod_tmpl : job_tmpl;
    struct json_object *md = json_object_object_get(t, "metadata");
    struct json_object *labels = json_object_object_get(md, "labels");
    char run[48], job[64], name[80], uid[40], rvs[16];
    snprintf(run, sizeof run, "nightly-build-%05x", i / 5);
    snprintf(job, sizeof job, "%s-%s", run, steps[i % 5]);
    snprintf(name, sizeof name, "%s-%05x", job, (i * 2654435761u) & 0xfffff);
    snprintf(uid, sizeof uid, "%08x-9a51-4d7e-8e61-%012x", i, kind);
    snprintf(rvs, sizeof rvs, "%d", rv);
    set(md, "name", kind ? name : job);
    set(md, "uid", uid);
    set(md, "resourceVersion", rvs);
    set(md, "namespace", i % 2 ? "team-a" : "team-b");
    set(labels, KJ_LABEL_RUN, run);
    set(labels, KJ_LABEL_STEP, steps[i % 5]);
    if (kind) {
        set(labels, "batch.kubernetes.io/job-name", job);
        set(labels, "job-name", job);
    }
    return json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN);
}

struct sample {
    long rss, heap;
};

static struct sample sample(void)
{
    struct sample s = {rss_bytes(), heap_bytes()};
    return s;
}

static void report(const char *label, struct sample a, struct sample b, long n, long extra)
{
    printf("%-36s %9.1f %9.1f %10.1f %10.1f %8ld\n", label, (double)a.rss / 1048576.0,
           (double)b.rss / 1048576.0, (double)(b.rss - a.rss) / (double)n,
           (double)(b.heap - a.heap) / (double)n, extra);
}

/* Makes the next case start from a clean heap. */
static void settle(void)
{
    malloc_trim(0);
}

static void case_projection(void)
{
    settle();
    struct sample a = sample();
    struct inf_cache *jobs = inf_cache_new(&ctrl_job_projection, NULL, NULL);
    struct inf_cache *pods = inf_cache_new(&ctrl_pod_projection, NULL, NULL);
    int rv = 1000;
    for (int i = 0; i < n_per_kind; i++) {
        for (int kind = 0; kind < 2; kind++) {
            struct json_object *o = json_tokener_parse(object_text(kind, i, ++rv));
            inf_cache_apply(kind ? pods : jobs, WATCH_ADDED, o);
            json_object_put(o);
        }
    }
    settle(); /* the parse trees are gone: count only what stays */
    struct sample b = sample();
    long est = (long)(inf_cache_bytes(jobs) + inf_cache_bytes(pods)) / (2L * n_per_kind);
    report("projection (Job+Pod)", a, b, 2L * n_per_kind, est);
    /* Per kind, from the heap. */
    struct sample c = sample();
    inf_cache_free(pods);
    settle();
    struct sample d = sample();
    printf("  of which per Pod: %.1f B heap; per Job: %.1f B heap; records %zu / %zu B\n",
           (double)(c.heap - d.heap) / n_per_kind, (double)(d.heap - a.heap) / n_per_kind,
           ctrl_pod_projection.size, ctrl_job_projection.size);
    inf_cache_free(jobs);
}

static void case_json(int strip)
{
    int n = n_per_kind < TREES_MAX ? n_per_kind : TREES_MAX;
    settle();
    struct sample a = sample();
    struct json_object **objs = calloc(2 * (size_t)n, sizeof(struct json_object *));
    if (!objs) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    int rv = 1000;
    for (int i = 0; i < n; i++) {
        for (int kind = 0; kind < 2; kind++) {
            struct json_object *o = json_tokener_parse(object_text(kind, i, ++rv));
            if (strip)
                json_object_object_del(json_object_object_get(o, "metadata"), "managedFields");
            objs[2 * i + kind] = o;
        }
    }
    settle();
    struct sample b = sample();
    char label[64];
    snprintf(label, sizeof label, "%s%s", strip ? "json trees, no managedFields" : "json trees",
             n < n_per_kind ? " (*)" : "");
    report(label, a, b, 2L * n, 0);
    for (int i = 0; i < 2 * n; i++)
        json_object_put(objs[i]);
    free(objs);
}

static int noop_project(struct json_object *obj, void *rec)
{
    (void)obj;
    (void)rec;
    return 0;
}

static void case_index(void)
{
    static const struct inf_projection tiny = {8, noop_project, NULL};
    char text[256];
    int total = 2 * n_per_kind;

    settle();
    struct sample a = sample();
    struct inf_cache *c = inf_cache_new(&tiny, NULL, NULL);
    for (int i = 0; i < total; i++) {
        snprintf(text, sizeof text,
                 "{\"metadata\":{\"namespace\":\"team-%c\",\"name\":\"nightly-build-%05x-"
                 "compile-%05x\",\"resourceVersion\":\"%d\"}}",
                 'a' + i % 2, i / 5, i, 100000 + i);
        struct json_object *o = json_tokener_parse(text);
        inf_cache_apply(c, WATCH_ADDED, o);
        json_object_put(o);
    }
    settle();
    struct sample b = sample();
    report("index: inf_cache, 8 B records", a, b, total, 0);
    inf_cache_free(c);

    /* The same with json-c's table: key "ns/name", value a record with its
     * resourceVersion behind it, as a cache built on lh_table would hold. */
    settle();
    a = sample();
    struct lh_table *t = lh_kchar_table_new(16, NULL);
    for (int i = 0; i < total; i++) {
        char key[128], rvs[16];
        snprintf(key, sizeof key, "team-%c/nightly-build-%05x-compile-%05x", 'a' + i % 2, i / 5, i);
        int l = snprintf(rvs, sizeof rvs, "%d", 100000 + i);
        char *rec = malloc(8 + (size_t)l + 1);
        memcpy(rec + 8, rvs, (size_t)l + 1);
        lh_table_insert(t, strdup(key), rec);
    }
    settle();
    b = sample();
    report("index: json-c lh_table, 8 B records", a, b, total, 0);
    for (struct lh_entry *e = t->head; e; e = e->next) {
        /* json-c hands keys out const; this one is our strdup */
        free((void *)(uintptr_t)lh_entry_k(e)); /* NOLINT(performance-no-int-to-ptr) */
        free(lh_entry_v(e));
    }
    lh_table_free(t);
}

int main(int argc, char **argv)
{
    if (argc > 1 && atoi(argv[1]) > 0)
        n_per_kind = atoi(argv[1]);
    job_tmpl = load("job.json");
    pod_tmpl = load("pod.json");
    /* Warm the allocator and json-c's paths so the first case pays no
     * one-time costs. */
    for (int i = 0; i < 100; i++)
        json_object_put(json_tokener_parse(object_text(i % 2, i, i)));
    printf("%d Jobs + %d Pods (JSON: Job %zu B, Pod %zu B)\n", n_per_kind, n_per_kind,
           strlen(object_text(0, 0, 1)), strlen(object_text(1, 0, 1)));
    printf("%-36s %9s %9s %10s %10s %8s\n", "case", "rss0_MiB", "rss1_MiB", "rss_B/obj",
           "heap_B/obj", "est_B");
    case_projection();
    case_json(0);
    case_json(1);
    case_index();
    if (n_per_kind > TREES_MAX)
        printf("(*) %d Jobs + %d Pods: %d as trees would not fit in memory\n", TREES_MAX, TREES_MAX,
               n_per_kind);
    json_object_put(job_tmpl);
    json_object_put(pod_tmpl);
    return 0;
}
