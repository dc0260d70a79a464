/* The 410 path for real: the informer's watch is held down by the fault
 * proxy while objects are deleted, changed and created, and etcd is
 * compacted past the watch's resourceVersion. When the watch is let
 * through, the server answers 410; the informer must relist and deliver
 * the difference: on_delete for the objects deleted during the gap (it
 * never saw their DELETED events), on_update for the changed ones, on_add
 * for the new ones.
 *
 * Events (events.k8s.io/v1) are watched because kube-apiserver serves them
 * without a watch cache: their watches read etcd's history, which is what
 * `etcdctl compact` removes. (A cached kind keeps its own history in the
 * API server and would not notice the compaction.) Serial: compacting
 * etcd disturbs every other client of the cluster. */
#include "it_informer_util.h"
#include "it_proxy.h"

#define N 40

static char ns[64];
static struct it_proxy proxy;
static struct it_track track;
static int phase;

/* Phase 0 creates 0..29. Phase 1 (op j) deletes 0..9, patches 10..19 and
 * creates 30..39; 20..29 stay as they are. */
static int obj_of(int j)
{
    return phase == 1 && j >= 20 ? j + 10 : j;
}

static int op_start(void *ud, int j, kube_cb cb, void *cbud)
{
    (void)ud;
    int i = obj_of(j);
    char name[32];
    snprintf(name, sizeof name, "ev-%d", i);
    if (phase == 1 && i < 10)
        return kube_delete(it_kc, &KUBE_EVENTS, ns, name, NULL, cb, cbud);
    if (phase == 1 && i < 20) {
        const char *body = "{\"metadata\":{\"labels\":{\"v\":\"1\"}}}";
        return kube_patch(it_kc, &KUBE_EVENTS, ns, name, body, strlen(body), NULL, cb, cbud);
    }
    struct json_object *o = it_json(
        "{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\",\"metadata\":{"
        "\"name\":\"%s\",\"labels\":{\"it\":\"gone\",\"v\":\"0\"}},"
        "\"eventTime\":\"2026-11-25T00:00:00.000000Z\",\"reportingController\":"
        "\"runbook.dev/it\",\"reportingInstance\":\"it-informer\",\"action\":\"Test\","
        "\"reason\":\"Testing\",\"type\":\"Normal\",\"note\":\"n\",\"regarding\":{"
        "\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"namespace\":\"%s\",\"name\":\"x\"}}",
        name, ns);
    int rc = kube_create(it_kc, &KUBE_EVENTS, ns, o, cb, cbud);
    json_object_put(o);
    return rc;
}

static void op_done(void *ud, int j, const struct kube_result *r)
{
    (void)ud;
    int i = obj_of(j);
    it_track_wrote(&track, i, r, phase == 1 && i < 10);
}

static int held(void *ud)
{
    (void)ud;
    return it_proxy_counter(&proxy, "held") > 0;
}

/* etcd's current revision, then a compaction to it. */
static long compact_etcd(void)
{
    char cmd[1200], out[4096] = "";
    snprintf(cmd, sizeof cmd, "'%s/etcdctl' --endpoints=%s endpoint status -w json", it_env.bin,
             it_env.etcd);
    FILE *f = popen(cmd, "r");
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = '\0';
    if (f)
        pclose(f);
    const char *p = strstr(out, "\"revision\":");
    long rev = p ? atol(p + 11) : 0;
    if (rev <= 0) {
        fprintf(stderr, "cannot read etcd's revision: %s\n", out);
        return -1;
    }
    snprintf(cmd, sizeof cmd, "'%s/etcdctl' --endpoints=%s compact %ld >&2", it_env.bin,
             it_env.etcd, rev);
    return system(cmd) == 0 ? rev : -1;
}

static void test_gone_relist_diff(void)
{
    struct kube_client *via = it_client(proxy.url, NULL);
    struct inf *inf = NULL;
    CHECK_INT(inf_new(via, &it_loop, &KUBE_EVENTS, ns, "it=gone", NULL, &it_projection,
                      &it_handlers, &track, &inf),
              0);
    CHECK_INT(inf_start(inf), 0);
    CHECK(it_run_until(it_flag, &track.synced, 30000));
    phase = 0;
    CHECK_INT(it_batch_run(30, 8, op_start, op_done, NULL), 0);
    CHECK(it_run_until(it_track_converged, &track, 30000));
    char rv[64];
    snprintf(rv, sizeof rv, "%s", inf_resource_version(inf));

    /* Watch down: the current one cut, the next held at the proxy. */
    CHECK_INT(it_proxy_faults(&proxy, "{\"watches\":\"hold\"}"), 0);
    struct json_object *k = it_proxy_ctl(&proxy, "/__fault/kill-watches", "");
    json_object_put(k);
    CHECK(it_run_until(held, NULL, 30000));

    phase = 1;
    CHECK_INT(it_batch_run(30, 8, op_start, op_done, NULL), 0);
    long rev = compact_etcd();
    CHECK(rev > 0);
    fprintf(stderr, "watch held at rv %s; etcd compacted to %ld\n", rv, rev);
    CHECK_STR(inf_resource_version(inf), rv);

    CHECK_INT(it_proxy_faults(&proxy, "{}"), 0); /* the held watch goes through */
    CHECK(it_run_until(it_track_converged, &track, 60000));

    it_print_stats("gone", inf);
    struct inf_stats st;
    inf_get_stats(inf, &st);
    CHECK_INT(st.lists, 2);
    CHECK_INT(st.relists, 1);
    CHECK(st.gone >= 1);
    CHECK_INT(st.events[WATCH_DELETED], 0); /* the deletes came from the diff */
    CHECK_INT(st.deletes, 10);
    CHECK_INT(track.errors, 0);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        const struct it_obj *o = &track.o[i];
        if (o->adds != 1 || o->updates != (i >= 10 && i < 20) || o->deletes != (i < 10)) {
            if (bad++ < 10)
                fprintf(stderr, "ev-%d: adds %d updates %d deletes %d\n", i, o->adds, o->updates,
                        o->deletes);
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(it_compare_with_list(inf, &KUBE_EVENTS, ns, "it=gone"), 0);
    it_inf_close(inf);
    kube_client_close(via, NULL, NULL);
}

int main(void)
{
    if (it_setup(LOGL_INFO, IT_CLUSTER, &it_unlimited) < 0 || it_proxy_start(&proxy, 0) < 0)
        return 1;
    CHECK_INT(it_namespace("inf-gone", ns, sizeof ns), 0);
    it_track_init(&track, N);
    RUN(test_gone_relist_diff);
    it_namespace_delete(ns);
    free(track.o);
    it_teardown();
    it_proxy_stop(&proxy);
    return check_finish();
}
