/* bench_watch_economy - what an informer costs the API server over a long
 * watch of a changing set (issue 3's "API economy"): requests per object
 * change beyond the watch events themselves, which should be about zero
 * (no polling, no relist without a 410).
 *
 *   bench_watch_economy --kubeconfig F [--seconds 600] [--objects 1000] [--rate 20]
 *
 * Against a real cluster (bench/run.sh starts one): creates --objects
 * ConfigMaps in a fresh namespace, starts an informer on them with the
 * production defaults (list pages of 500, watch timeoutSeconds drawn in
 * [300, 600]), then for --seconds changes --rate objects a second through
 * a second client: an absent object is created, a present one deleted one
 * time in ten and patched otherwise (about 80% patches, 10% each of creates
 * and deletes once the set settles). At the end it
 * checks the cache against a fresh list (same names and resourceVersions)
 * and prints the informer client's requests by verb. The writer's requests
 * are not counted: they are the load, not the informer's cost. */
#define BENCH_NAME "bench_watch_economy"
#include "bench_util.h"
#include "informer/inf.h"
#include "watch/decoder.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

static struct kube_client *writer, *reader;
static int n_objects = 1000;
static char ns[64];
static unsigned char *present; /* which cm-N exist, as the writer knows */

static struct json_object *configmap(int i, unsigned gen)
{
    char text[256];
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-%d\","
             "\"labels\":{\"bench\":\"economy\"}},\"data\":{\"gen\":\"%u\"}}",
             i, gen);
    return parse(text);
}

/* ---- the changer: --rate writes a second, a few in flight ---- */

static struct {
    uint64_t creates, updates, deletes, failed, in_flight;
} w;

static void write_cb(void *ud, const struct kube_result *r)
{
    (void)ud;
    w.in_flight--;
    /* 404/409 happen when a create races a delete of the same name */
    if (r->err || (r->http_status >= 300 && r->http_status != 404 && r->http_status != 409))
        w.failed++;
}

static void change_one(uv_timer_t *t)
{
    (void)t;
    if (w.in_flight > 32)
        return; /* the server is slower than --rate: skip rather than pile up */
    int i = rand() % n_objects, dice = rand() % 10, rc;
    char name[32];
    snprintf(name, sizeof name, "cm-%d", i);
    if (!present[i]) {
        struct json_object *o = configmap(i, (unsigned)rand());
        rc = kube_create(writer, &KUBE_CONFIGMAPS, ns, o, write_cb, NULL);
        json_object_put(o);
        w.creates++;
        present[i] = 1;
    } else if (dice == 0) {
        rc = kube_delete(writer, &KUBE_CONFIGMAPS, ns, name, NULL, write_cb, NULL);
        w.deletes++;
        present[i] = 0;
    } else {
        char patch[64];
        int len = snprintf(patch, sizeof patch, "{\"data\":{\"gen\":\"%d\"}}", rand());
        rc = kube_patch(writer, &KUBE_CONFIGMAPS, ns, name, patch, (size_t)len, NULL, write_cb,
                        NULL);
        w.updates++;
    }
    if (rc == 0)
        w.in_flight++;
    else
        w.failed++;
}

/* ---- the informer: nothing projected beyond the key and resourceVersion ---- */

struct rec {
    char unused;
};

static int project(struct json_object *obj, void *record)
{
    (void)obj;
    (void)record;
    return 0;
}

static const struct inf_projection proj = {sizeof(struct rec), project, NULL};

static void closed(struct inf *inf, void *ud)
{
    (void)inf;
    *(int *)ud = 1;
}

/* ---- the final check: the cache against a fresh list ---- */

struct check {
    const struct inf *inf;
    size_t listed, missing, stale;
};

static void check_items(struct check *c, struct json_object *list)
{
    struct json_object *items = json_object_object_get(list, "items");
    for (size_t k = 0; k < json_object_array_length(items); k++) {
        struct json_object *meta =
            json_object_object_get(json_object_array_get_idx(items, k), "metadata");
        const char *name = json_object_get_string(json_object_object_get(meta, "name"));
        const char *rv = json_object_get_string(json_object_object_get(meta, "resourceVersion"));
        const void *r = inf_get(c->inf, ns, name);
        c->listed++;
        if (!r)
            c->missing++;
        else if (strcmp(inf_rec_rv(r), rv) != 0)
            c->stale++;
    }
}

static void usage(void)
{
    fputs("usage: bench_watch_economy --kubeconfig F [--seconds 600] [--objects 1000] "
          "[--rate 20]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *kubeconfig = NULL;
    double seconds = 600, rate = 20;
    static const struct option lo[] = {{"kubeconfig", required_argument, NULL, 'k'},
                                       {"seconds", required_argument, NULL, 's'},
                                       {"objects", required_argument, NULL, 'o'},
                                       {"rate", required_argument, NULL, 'r'},
                                       {NULL, 0, NULL, 0}};
    for (int ch; (ch = getopt_long(argc, argv, "", lo, NULL)) != -1;) {
        switch (ch) {
        case 'k':
            kubeconfig = optarg;
            break;
        case 's':
            seconds = atof(optarg);
            break;
        case 'o':
            n_objects = atoi(optarg);
            break;
        case 'r':
            rate = atof(optarg);
            break;
        default:
            usage();
        }
    }
    if (seconds <= 0 || n_objects <= 0 || rate <= 0 || rate > 1000)
        usage();
    if (!kubeconfig) {
        /* `make bench` runs every bench without arguments */
        puts("bench_watch_economy: needs a cluster; bench/run.sh runs it (or pass --kubeconfig)");
        return 0;
    }
    srand((unsigned)getpid());

    struct kcfg *cfg = bench_connect(kubeconfig);
    writer = bench_client(cfg, &(struct kube_options){.qps = -1});
    reader = bench_client(cfg, &(struct kube_options){0}); /* the production defaults */
    kcfg_free(cfg);

    /* a fresh namespace, then the objects */
    snprintf(ns, sizeof ns, "bench-econ-%ld", (long)getpid());
    ns_create(writer, ns);
    if (!(present = calloc((size_t)n_objects, 1)))
        die("out of memory");
    for (int i = 0; i < n_objects; i++) {
        struct json_object *o = configmap(i, 0);
        if (kube_create(writer, &KUBE_CONFIGMAPS, ns, o, write_cb, NULL) == 0)
            w.in_flight++;
        else
            w.failed++;
        json_object_put(o);
        present[i] = 1;
    }
    while (w.in_flight)
        uv_run(&L, UV_RUN_ONCE);
    if (w.failed)
        die("%llu of the %d initial creates failed", (unsigned long long)w.failed, n_objects);
    memset(&w, 0, sizeof w);

    struct inf *inf = NULL;
    if (inf_new(reader, &L, &KUBE_CONFIGMAPS, ns, "bench=economy", NULL, &proj,
                &(struct inf_handlers){0}, NULL, &inf) < 0 ||
        inf_start(inf) < 0)
        die("cannot start the informer");
    while (!inf_synced(inf))
        uv_run(&L, UV_RUN_ONCE);
    struct kube_stats k0;
    kube_client_stats(reader, &k0);

    printf("watching %d ConfigMaps in %s for %.0f s, %.0f changes/s\n", n_objects, ns, seconds,
           rate);
    fflush(stdout);
    uv_timer_t changer;
    uv_timer_init(&L, &changer);
    uint64_t every = (uint64_t)(1000.0 / rate);
    uv_timer_start(&changer, change_one, every, every); /* rate <= 1000: every >= 1 */
    sleep_loop(seconds);
    uv_timer_stop(&changer);
    uv_close((uv_handle_t *)&changer, NULL);
    while (w.in_flight)
        uv_run(&L, UV_RUN_ONCE);
    sleep_loop(3); /* the last events arrive */

    /* the cache against a fresh list */
    struct check c = {.inf = inf};
    struct sreq s1 = {0};
    struct kube_list_opts lopt = {.label_selector = "bench=economy"};
    struct json_object *list = NULL;
    long st = sreq_wait(&s1, kube_list(writer, &KUBE_CONFIGMAPS, ns, &lopt, sreq_cb, &s1), &list);
    if (st != 200 || !list)
        die("the final list failed: %ld", st);
    check_items(&c, list);
    json_object_put(list);

    struct kube_stats k1;
    kube_client_stats(reader, &k1);
    struct inf_stats is;
    inf_get_stats(inf, &is);
    uint64_t changes = w.creates + w.updates + w.deletes;
    uint64_t events = is.events[WATCH_ADDED] + is.events[WATCH_MODIFIED] + is.events[WATCH_DELETED];
    uint64_t reqs = 0, all = 0;
    for (int v = 0; v < KUBE_VERB_MAX; v++) {
        reqs += k1.requests[v] - k0.requests[v];
        all += k1.requests[v];
    }
    uint64_t lists = k1.requests[KUBE_VERB_LIST] - k0.requests[KUBE_VERB_LIST];
    uint64_t watches = k1.requests[KUBE_VERB_WATCH] - k0.requests[KUBE_VERB_WATCH];

    printf("\n| figure | value |\n| --- | --- |\n");
    printf("| changes written (create / update / delete) | %llu (%llu / %llu / %llu), %llu "
           "failed |\n",
           (unsigned long long)changes, (unsigned long long)w.creates,
           (unsigned long long)w.updates, (unsigned long long)w.deletes,
           (unsigned long long)w.failed);
    printf("| watch events received (bookmarks) | %llu (%llu) |\n", (unsigned long long)events,
           (unsigned long long)is.events[WATCH_BOOKMARK]);
    printf("| informer requests after sync: list / watch / other | %llu / %llu / %llu |\n",
           (unsigned long long)lists, (unsigned long long)watches,
           (unsigned long long)(reqs - lists - watches));
    printf("| informer requests per object change | %.5f |\n",
           changes ? (double)reqs / (double)changes : 0.0);
    printf("| informer requests in all, initial list included | %llu (%.4f per object) |\n",
           (unsigned long long)all, (double)all / n_objects);
    printf("| relists / 410s / watch restarts | %llu / %llu / %llu |\n",
           (unsigned long long)is.relists, (unsigned long long)is.gone,
           (unsigned long long)is.watch_restarts);
    printf("| cache vs fresh list: listed / missing / stale / extra | %zu / %zu / %zu / %zu |\n",
           c.listed, c.missing, c.stale, inf_count(inf) > c.listed ? inf_count(inf) - c.listed : 0);
    int ok = c.missing == 0 && c.stale == 0 && inf_count(inf) == c.listed;
    printf("verdict: %s\n", ok ? "cache equals the fresh list" : "CACHE DIFFERS");

    /* clean up: namespace (the server deletes its ConfigMaps), then everything */
    st = delete_sync(writer, &KUBE_NAMESPACES, NULL, ns, NULL);
    if (st != 200 && st != 202)
        fprintf(stderr, "bench_watch_economy: namespace %s not deleted: %ld\n", ns, st);
    int done = 0;
    inf_close(inf, closed, &done);
    while (!done)
        uv_run(&L, UV_RUN_ONCE);
    inf_free(inf);
    kube_client_close(writer, NULL, NULL);
    kube_client_close(reader, NULL, NULL);
    bench_loop_close();
    free(present);
    return ok ? 0 : 1;
}
