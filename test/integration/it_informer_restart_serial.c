/* kube-apiserver stopped and started again under a running informer: the
 * watch must resume from its last resourceVersion, without a relist, and
 * miss nothing written before, during or after.
 *
 * The resource is events.k8s.io/v1 Event on purpose: it is the one kind
 * kube-apiserver serves without a watch cache (DefaultWatchCacheSizes sets
 * events to 0), so a watch goes to etcd and a resourceVersion from before
 * the restart stays valid until etcd compacts it. A cached kind (every
 * other one) comes back with a fresh cache whose history starts at the
 * restart, so its old resourceVersions get 410 and a relist is the right
 * answer: the ConfigMap informer running alongside shows that path and
 * must converge too. */
#include "it_informer_util.h"

#define N 40

static char ns[64];
static struct it_track t_ev, t_cm;

static int create(int i, int cm, kube_cb cb, void *cbud)
{
    struct json_object *o;
    if (cm)
        o = it_json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
                    "\"name\":\"cm-%d\",\"labels\":{\"it\":\"restart\",\"v\":\"0\"}}}",
                    i);
    else
        o = it_json("{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\",\"metadata\":{"
                    "\"name\":\"ev-%d\",\"labels\":{\"it\":\"restart\",\"v\":\"0\"}},"
                    "\"eventTime\":\"2026-11-25T00:00:00.000000Z\",\"reportingController\":"
                    "\"runbook.dev/it\",\"reportingInstance\":\"it-informer\",\"action\":\"Test\","
                    "\"reason\":\"Testing\",\"type\":\"Normal\",\"note\":\"event %d\","
                    "\"regarding\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                    "\"namespace\":\"%s\",\"name\":\"x\"}}",
                    i, i, ns);
    int rc = kube_create(it_kc, cm ? &KUBE_CONFIGMAPS : &KUBE_EVENTS, ns, o, cb, cbud);
    json_object_put(o);
    return rc;
}

/* Op k touches object k/2 of kind k%2 (0 Event, 1 ConfigMap).
 * Phase 0 creates 0..N/2-1; phase 1 deletes 0..9, patches 10..N/2-1 and
 * creates N/2..N-1. */
static int phase;

static int op_start(void *ud, int k, kube_cb cb, void *cbud)
{
    int cm = k % 2, i = k / 2; /* both kinds, interleaved */
    (void)ud;
    if (phase == 0)
        return create(i, cm, cb, cbud);
    char name[32];
    snprintf(name, sizeof name, "%s-%d", cm ? "cm" : "ev", i);
    const struct kube_resource *res = cm ? &KUBE_CONFIGMAPS : &KUBE_EVENTS;
    if (i < 10)
        return kube_delete(it_kc, res, ns, name, NULL, cb, cbud);
    if (i < N / 2) {
        const char *body = "{\"metadata\":{\"labels\":{\"v\":\"1\"}}}";
        return kube_patch(it_kc, res, ns, name, body, strlen(body), NULL, cb, cbud);
    }
    return create(i, cm, cb, cbud);
}

static void op_done(void *ud, int k, const struct kube_result *r)
{
    (void)ud;
    int cm = k % 2, i = k / 2;
    it_track_wrote(cm ? &t_cm : &t_ev, i, r, phase == 1 && i < 10);
}

static int both_converged(void *ud)
{
    (void)ud;
    return it_track_converged(&t_ev) && it_track_converged(&t_cm);
}

struct child {
    uv_process_t p;
    int exited;
    int64_t status;
};

static void child_exited(uv_process_t *p, int64_t status, int sig)
{
    struct child *c = p->data;
    c->exited = 1;
    c->status = sig ? 128 + sig : status;
    uv_close((uv_handle_t *)p, NULL);
}

/* Runs ctl.sh restart kube-apiserver while the loop (and the informers)
 * keep running. */
static int restart_apiserver(void)
{
    char script[600];
    snprintf(script, sizeof script, "%s/test/cluster/ctl.sh", it_env.src);
    char bash[] = "bash", verb[] = "restart", comp[] = "kube-apiserver";
    char *args[] = {bash, script, it_env.dir, verb, comp, NULL};
    struct child c = {0};
    c.p.data = &c;
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t o = {
        .file = "bash", .args = args, .exit_cb = child_exited, .stdio_count = 3, .stdio = stdio};
    int rc = uv_spawn(&it_loop, &c.p, &o);
    if (rc < 0) {
        fprintf(stderr, "spawn ctl.sh: %s\n", uv_strerror(rc));
        return -1;
    }
    if (!it_run_until(it_flag, &c.exited, 180000))
        return -1;
    return (int)c.status;
}

static void check_counts(struct it_track *t, const char *kind)
{
    int bad = 0;
    for (int i = 0; i < N; i++) {
        const struct it_obj *o = &t->o[i];
        int upd = i >= 10 && i < N / 2, del = i < 10;
        if (o->adds != 1 || o->updates != upd || o->deletes != del) {
            if (bad++ < 10)
                fprintf(stderr, "%s-%d: adds %d updates %d deletes %d\n", kind, i, o->adds,
                        o->updates, o->deletes);
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(t->errors, 0);
}

static void test_restart(void)
{
    struct inf *ev = NULL, *cm = NULL;
    CHECK_INT(inf_new(it_kc, &it_loop, &KUBE_EVENTS, ns, "it=restart", NULL, &it_projection,
                      &it_handlers, &t_ev, &ev),
              0);
    CHECK_INT(inf_new(it_kc, &it_loop, &KUBE_CONFIGMAPS, ns, "it=restart", NULL, &it_projection,
                      &it_handlers, &t_cm, &cm),
              0);
    CHECK_INT(inf_start(ev), 0);
    CHECK_INT(inf_start(cm), 0);
    CHECK(it_run_until(it_flag, &t_ev.synced, 30000));
    CHECK(it_run_until(it_flag, &t_cm.synced, 30000));

    phase = 0;
    CHECK_INT(it_batch_run(N, 8, op_start, op_done, NULL), 0);
    CHECK(it_run_until(both_converged, NULL, 30000));
    struct inf_stats before;
    inf_get_stats(ev, &before);
    char rv_before[64];
    snprintf(rv_before, sizeof rv_before, "%s", inf_resource_version(ev));

    uint64_t t0 = uv_hrtime();
    CHECK_INT(restart_apiserver(), 0);
    fprintf(stderr, "kube-apiserver restarted in %.1f s (watch was at rv %s)\n",
            (double)(uv_hrtime() - t0) / 1e9, rv_before);

    phase = 1;
    CHECK_INT(it_batch_run(2 * N, 8, op_start, op_done, NULL), 0);
    CHECK(it_run_until(both_converged, NULL, 60000));

    it_print_stats("events", ev);
    it_print_stats("configmaps", cm);
    struct inf_stats st;
    inf_get_stats(ev, &st);
    CHECK_INT(st.lists, 1);
    CHECK_INT(st.relists, 0);
    CHECK_INT(st.gone, 0);
    CHECK(st.watch_restarts > before.watch_restarts);
    CHECK_INT(st.duplicates, 0);
    check_counts(&t_ev, "ev");
    CHECK_INT(it_compare_with_list(ev, &KUBE_EVENTS, ns, "it=restart"), 0);

    /* The cached kind: whichever path it took, it converged exactly. */
    inf_get_stats(cm, &st);
    fprintf(stderr, "configmaps (watch cache): %s\n",
            st.relists ? "relisted after 410, as expected for a cached resource"
                       : "resumed without relist");
    CHECK_INT(t_cm.errors, 0);
    CHECK_INT(it_compare_with_list(cm, &KUBE_CONFIGMAPS, ns, "it=restart"), 0);
    it_inf_close(ev);
    it_inf_close(cm);
}

int main(void)
{
    if (it_setup(LOGL_INFO, IT_CLUSTER, &it_unlimited) < 0)
        return 1;
    CHECK_INT(it_namespace("inf-restart", ns, sizeof ns), 0);
    it_track_init(&t_ev, N);
    it_track_init(&t_cm, N);
    RUN(test_restart);
    it_namespace_delete(ns);
    free(t_ev.o);
    free(t_cm.o);
    it_teardown();
    return check_finish();
}
