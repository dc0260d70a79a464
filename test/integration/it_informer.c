/* The informer against the real control plane: 1,000 ConfigMaps created,
 * updated and deleted while it watches. Every object must get exactly one
 * add, one update per write and one delete when deleted, each update
 * continuing from the version delivered before (no gap, no replay), and
 * the cache must end equal to a fresh list. A second informer started
 * afterwards syncs through a paginated list. */
#include "it_informer_util.h"

#define N 1000
#define PARALLEL 32
#define SELECTOR "it=informer"

static char ns[64];
static struct it_track track;

static int create_cm(void *ud, int i, kube_cb cb, void *cbud)
{
    (void)ud;
    struct json_object *o =
        it_json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
                "\"name\":\"cm-%d\",\"labels\":{\"it\":\"informer\",\"v\":\"0\"}},"
                "\"data\":{\"k\":\"%d\"}}",
                i, i);
    int rc = kube_create(it_kc, &KUBE_CONFIGMAPS, ns, o, cb, cbud);
    json_object_put(o);
    return rc;
}

static void wrote(void *ud, int i, const struct kube_result *r)
{
    (void)ud;
    it_track_wrote(&track, i, r, 0);
}

static int patch_v(int i, int v, kube_cb cb, void *cbud)
{
    char name[32], body[128];
    snprintf(name, sizeof name, "cm-%d", i);
    int len = snprintf(body, sizeof body, "{\"metadata\":{\"labels\":{\"v\":\"%d\"}}}", v);
    return kube_patch(it_kc, &KUBE_CONFIGMAPS, ns, name, body, (size_t)len, NULL, cb, cbud);
}

static int patch_all(void *ud, int i, kube_cb cb, void *cbud)
{
    (void)ud;
    return patch_v(i, 1, cb, cbud);
}

/* Even ones are deleted, odd ones patched again. */
static int delete_or_patch(void *ud, int i, kube_cb cb, void *cbud)
{
    (void)ud;
    if (i % 2)
        return patch_v(i, 2, cb, cbud);
    char name[32];
    snprintf(name, sizeof name, "cm-%d", i);
    return kube_delete(it_kc, &KUBE_CONFIGMAPS, ns, name, NULL, cb, cbud);
}

static void deleted_or_patched(void *ud, int i, const struct kube_result *r)
{
    (void)ud;
    it_track_wrote(&track, i, r, i % 2 == 0);
}

static void test_churn(void)
{
    struct inf *inf = NULL;
    CHECK_INT(inf_new(it_kc, &it_loop, &KUBE_CONFIGMAPS, ns, SELECTOR, NULL, &it_projection,
                      &it_handlers, &track, &inf),
              0);
    CHECK_INT(inf_start(inf), 0);
    CHECK(it_run_until(it_flag, &track.synced, 30000));
    CHECK(inf_synced(inf));
    CHECK_INT(inf_count(inf), 0);

    uint64_t t0 = uv_hrtime();
    CHECK_INT(it_batch_run(N, PARALLEL, create_cm, wrote, NULL), 0);
    CHECK_INT(it_batch_run(N, PARALLEL, patch_all, wrote, NULL), 0);
    CHECK_INT(it_batch_run(N, PARALLEL, delete_or_patch, deleted_or_patched, NULL), 0);
    fprintf(stderr, "3000 writes in %.1f s\n", (double)(uv_hrtime() - t0) / 1e9);
    CHECK(it_run_until(it_track_converged, &track, 60000));

    CHECK_INT(track.errors, 0);
    CHECK_INT(track.foreign, 0);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        const struct it_obj *o = &track.o[i];
        int even = i % 2 == 0;
        if (o->adds != 1 || o->updates != (even ? 1 : 2) || o->deletes != (even ? 1 : 0)) {
            if (bad++ < 10)
                fprintf(stderr, "cm-%d: adds %d updates %d deletes %d\n", i, o->adds, o->updates,
                        o->deletes);
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(inf_count(inf), N / 2);
    CHECK_INT(it_compare_with_list(inf, &KUBE_CONFIGMAPS, ns, SELECTOR), 0);
    int wrong_v = 0;
    for (int i = 1; i < N; i += 2) {
        char name[32];
        snprintf(name, sizeof name, "cm-%d", i);
        const struct it_rec *r = inf_get(inf, ns, name);
        if (!r || strcmp(r->v, "2") != 0)
            wrong_v++;
    }
    CHECK_INT(wrong_v, 0);

    struct inf_stats st;
    inf_get_stats(inf, &st);
    it_print_stats("churn", inf);
    CHECK_INT(st.lists, 1);
    CHECK_INT(st.relists, 0);
    CHECK_INT(st.malformed, 0);
    CHECK_INT(st.duplicates, 0);
    CHECK_INT(st.adds, N);
    CHECK_INT(st.updates, N + N / 2);
    CHECK_INT(st.deletes, N / 2);
    CHECK(st.cache_bytes > 0);
    it_inf_close(inf);
}

/* A cold start over what is left: pages of 100, then the same content. */
static void test_paginated_sync(void)
{
    struct it_track t2;
    it_track_init(&t2, N);
    struct inf *inf = NULL;
    CHECK_INT(inf_new(it_kc, &it_loop, &KUBE_CONFIGMAPS, ns, SELECTOR, NULL, &it_projection,
                      &it_handlers, &t2, &inf),
              0);
    struct inf_options o = {.page_limit = 100};
    CHECK_INT(inf_configure(inf, &o), 0);
    CHECK_INT(inf_start(inf), 0);
    CHECK_INT(inf_start(inf), -EBUSY);
    CHECK_INT(inf_configure(inf, &o), -EBUSY);
    CHECK(it_run_until(it_flag, &t2.synced, 30000));
    CHECK_INT(inf_count(inf), N / 2);
    struct inf_stats st;
    inf_get_stats(inf, &st);
    /* The server may end on an empty page after a continue token. */
    CHECK(st.list_pages >= N / 2 / 100 && st.list_pages <= N / 2 / 100 + 1);
    CHECK_INT(st.adds, N / 2);
    CHECK_INT(t2.errors, 0);
    CHECK_INT(it_compare_with_list(inf, &KUBE_CONFIGMAPS, ns, SELECTOR), 0);
    it_inf_close(inf);
    free(t2.o);
}

/* Watches that the server ends (timeoutSeconds 2..3 s) are reopened from
 * the last resourceVersion without a list, and nothing written across the
 * reconnects is lost. */
static void test_watch_timeout_rewatch(void)
{
    struct it_track t;
    it_track_init(&t, N);
    struct inf *inf = NULL;
    CHECK_INT(inf_new(it_kc, &it_loop, &KUBE_CONFIGMAPS, ns, SELECTOR, NULL, &it_projection,
                      &it_handlers, &t, &inf),
              0);
    struct inf_options o = {.watch_timeout_min_s = 2, .watch_timeout_max_s = 3};
    CHECK_INT(inf_configure(inf, &o), 0);
    CHECK_INT(inf_start(inf), 0);
    CHECK(it_run_until(it_flag, &t.synced, 30000));
    for (int i = 0; i < N; i++) /* what the list delivered is what we expect */
        memcpy(t.o[i].want_rv, t.o[i].rv, sizeof t.o[i].rv);
    for (int round = 0; round < 4; round++) {
        it_sleep(1500);
        struct it_call c = {0};
        char name[32], body[64];
        snprintf(name, sizeof name, "cm-%d", 2 * round + 1);
        int len = snprintf(body, sizeof body, "{\"metadata\":{\"labels\":{\"v\":\"r%d\"}}}", round);
        CHECK_INT(it_wait(&c, kube_patch(it_kc, &KUBE_CONFIGMAPS, ns, name, body, (size_t)len, NULL,
                                         it_on_result, &c)),
                  0);
        it_track_wrote(&t, 2 * round + 1,
                       &(struct kube_result){.http_status = c.r.http_status, .body = c.body}, 0);
        it_call_reset(&c);
    }
    CHECK(it_run_until(it_track_converged, &t, 10000));
    struct inf_stats st;
    inf_get_stats(inf, &st);
    it_print_stats("timeouts", inf);
    CHECK(st.watch_restarts >= 2);
    CHECK_INT(st.watch_errors, 0);
    CHECK_INT(st.relists, 0);
    CHECK_INT(st.updates, 4);
    CHECK_INT(t.errors, 0);
    it_inf_close(inf);
    free(t.o);
}

/* Closing: before start, with the first list in flight, and from inside a
 * handler in the middle of a list page (no handler may run after). */
struct closer {
    struct inf *inf;
    int adds, closed;
};

static void closed_cb(struct inf *inf, void *ud)
{
    (void)inf;
    ((struct closer *)ud)->closed++;
}

static void close_on_add(void *ud, const void *rec)
{
    struct closer *c = ud;
    (void)rec;
    c->adds++;
    inf_close(c->inf, closed_cb, c);
    inf_close(c->inf, closed_cb, c); /* idempotent */
}

static void test_close_paths(void)
{
    struct closer c = {0};
    CHECK_INT(inf_new(it_kc, &it_loop, &KUBE_CONFIGMAPS, ns, SELECTOR, NULL, &it_projection, NULL,
                      NULL, &c.inf),
              0);
    inf_close(c.inf, closed_cb, &c);
    CHECK_INT(c.closed, 0); /* from the loop, not from inside inf_close */
    CHECK(it_run_until(it_flag, &c.closed, 5000));
    CHECK_INT(inf_start(c.inf), -EBUSY);
    inf_free(c.inf);

    memset(&c, 0, sizeof c);
    CHECK_INT(inf_new(it_kc, &it_loop, &KUBE_CONFIGMAPS, ns, SELECTOR, NULL, &it_projection, NULL,
                      NULL, &c.inf),
              0);
    CHECK_INT(inf_start(c.inf), 0);
    it_sleep(1); /* the list request is out */
    inf_close(c.inf, closed_cb, &c);
    CHECK(it_run_until(it_flag, &c.closed, 30000));
    CHECK_INT(c.closed, 1);
    inf_free(c.inf);

    memset(&c, 0, sizeof c);
    struct inf_handlers h = {.on_add = close_on_add};
    CHECK_INT(inf_new(it_kc, &it_loop, &KUBE_CONFIGMAPS, ns, SELECTOR, NULL, &it_projection, &h, &c,
                      &c.inf),
              0);
    CHECK_INT(inf_start(c.inf), 0);
    CHECK(it_run_until(it_flag, &c.closed, 30000));
    it_sleep(200);
    CHECK_INT(c.adds, 1);
    CHECK_INT(c.closed, 1);
    CHECK(!inf_synced(c.inf));
    inf_free(c.inf);
}

int main(void)
{
    if (it_setup(LOGL_INFO, IT_CLUSTER, &it_unlimited) < 0)
        return 1;
    CHECK_INT(it_namespace("inf-it", ns, sizeof ns), 0);
    it_track_init(&track, N);
    RUN(test_churn);
    RUN(test_paginated_sync);
    RUN(test_watch_timeout_rewatch);
    RUN(test_close_paths);
    it_namespace_delete(ns);
    free(track.o);
    it_teardown();
    return check_finish();
}
