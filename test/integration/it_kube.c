/* The kube client against the real local control plane ($KUBECONFIG, an
 * admin client certificate): CRUD, pagination, conflicts, patches, the
 * status subresource, deletes with preconditions, watch, HTTP/2 and
 * connection sharing, the rate limiter, and closing with requests in flight.
 * Everything happens in a namespace of its own, deleted at the end. */
#include "it_util.h"

static char ns[64];

static const char *jstr(struct json_object *o, const char *path)
{
    /* "a.b.c" lookup of a string field */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(o, k, &o))
            return NULL;
    return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}

/* obj.field.key = value (a string). */
static void jset(struct json_object *obj, const char *field, const char *key, const char *value)
{
    struct json_object *o = NULL;
    json_object_object_get_ex(obj, field, &o);
    json_object_object_add(o, key, json_object_new_string(value));
}

static struct json_object *configmap(const char *name, const char *label)
{
    return it_json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\","
                   "\"labels\":{\"app\":\"%s\"}},\"data\":{\"k\":\"v\"}}",
                   name, label);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_create_get_and_conflicts(void)
{
    struct it_call w = {0};
    /* Five at once: they share the connection. */
    struct it_call cw[5] = {{0}};
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "cm-%d", i);
        struct json_object *cm = configmap(name, "rb-it");
        CHECK_INT(kube_create(it_kc, &KUBE_CONFIGMAPS, ns, cm, it_on_result, &cw[i]), 0);
        json_object_put(cm); /* serialized by the call: ours to drop */
    }
    for (int i = 0; i < 5; i++) {
        CHECK(it_run_flag(&cw[i].done, 30000));
        CHECK_INT(cw[i].r.err, 0);
        CHECK_INT(cw[i].r.http_status, 201);
        CHECK_INT(cw[i].calls, 1);
        it_call_reset(&cw[i]);
    }

    /* A second create of the same name: 409 AlreadyExists, decoded. */
    struct json_object *dup = configmap("cm-0", "rb-it");
    WAIT(&w, kube_create(it_kc, &KUBE_CONFIGMAPS, ns, dup, it_on_result, &w));
    json_object_put(dup);
    CHECK_INT(w.r.http_status, 409);
    CHECK_STR(w.r.status.reason, "AlreadyExists");
    CHECK_INT(w.r.status.code, 409);

    WAIT(&w, kube_get(it_kc, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &w));
    CHECK_INT(w.r.err, 0);
    CHECK_INT(w.r.http_status, 200);
    CHECK_INT(w.r.http_version, 20); /* HTTP/2 negotiated over TLS (ALPN) */
    CHECK_INT(w.r.attempts, 1);
    CHECK_STR(jstr(w.body, "metadata.name"), "cm-0");
    CHECK_STR(jstr(w.body, "data.k"), "v");

    /* Update with the current resourceVersion, then again with the stale one. */
    struct json_object *obj = json_object_get(w.body);
    jset(obj, "data", "k", "v2");
    WAIT(&w, kube_update(it_kc, &KUBE_CONFIGMAPS, ns, "cm-0", obj, it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK_STR(jstr(w.body, "data.k"), "v2");
    jset(obj, "data", "k", "v3");
    WAIT(&w, kube_update(it_kc, &KUBE_CONFIGMAPS, ns, "cm-0", obj, it_on_result, &w));
    CHECK_INT(w.r.err, 0);
    CHECK_INT(w.r.http_status, 409);
    CHECK_INT(w.r.status.code, 409);
    CHECK_STR(w.r.status.reason, "Conflict");
    CHECK_CONTAINS(w.r.status.message, "the object has been modified");
    CHECK_INT(w.r.attempts, 1); /* a write conflict is never retried */
    json_object_put(obj);

    /* Missing object: 404 with the server's Status. */
    WAIT(&w, kube_get(it_kc, &KUBE_CONFIGMAPS, ns, "no-such-cm", it_on_result, &w));
    CHECK_INT(w.r.err, 0);
    CHECK_INT(w.r.http_status, 404);
    CHECK_STR(w.r.status.reason, "NotFound");
    CHECK_CONTAINS(w.r.status.message, "\"no-such-cm\" not found");
    CHECK_STR(jstr(w.body, "kind"), "Status");

    /* A path the server does not know: text body, Status synthesized. */
    static const struct kube_resource bogus = {"nope.example.com", "v1", "things", 1};
    WAIT(&w, kube_get(it_kc, &bogus, ns, "x", it_on_result, &w));
    CHECK_INT(w.r.http_status, 404);
    CHECK_STR(w.r.status.reason, "NotFound");
    CHECK_INT(w.r.status.code, 404);
    CHECK(w.r.status.message[0] != '\0');

    /* Bad arguments never reach the network. */
    CHECK_INT(kube_get(it_kc, &KUBE_CONFIGMAPS, NULL, "x", it_on_result, &w), -EINVAL);
    CHECK_INT(kube_get(it_kc, &KUBE_CONFIGMAPS, ns, "..", it_on_result, &w), -EINVAL);
    CHECK_INT(kube_patch(it_kc, &KUBE_CONFIGMAPS, ns, "x", "{}", 2,
                         &(struct kube_patch_opts){.type = KUBE_PATCH_APPLY}, it_on_result, &w),
              -EINVAL);
    it_call_reset(&w);
}

static void test_list_pages(void)
{
    struct it_call w = {0};
    char *cont = NULL, *rv = NULL;
    int pages = 0, items = 0, seen[5] = {0};
    do {
        struct kube_list_opts lo = {
            /* Needs escaping: spaces, parentheses, commas. */
            .label_selector = "app in (rb-it,other-app)",
            .limit = 2,
            .continue_token = cont,
        };
        WAIT(&w, kube_list(it_kc, &KUBE_CONFIGMAPS, ns, &lo, it_on_result, &w));
        CHECK_INT(w.r.http_status, 200);
        if (w.r.http_status != 200)
            break;
        struct json_object *list;
        CHECK(json_object_object_get_ex(w.body, "items", &list));
        size_t n = json_object_array_length(list);
        CHECK(n <= 2);
        for (size_t i = 0; i < n; i++) {
            const char *name = jstr(json_object_array_get_idx(list, i), "metadata.name");
            if (name && strncmp(name, "cm-", 3) == 0 && name[3] >= '0' && name[3] <= '4')
                seen[name[3] - '0']++;
            items++;
        }
        /* All pages are one snapshot: the same resourceVersion. */
        const char *prv = jstr(w.body, "metadata.resourceVersion");
        CHECK(prv != NULL);
        if (!rv && prv)
            rv = strdup(prv);
        else if (prv)
            CHECK_STR(prv, rv);
        const char *c = jstr(w.body, "metadata.continue");
        free(cont);
        cont = c && *c ? strdup(c) : NULL;
        pages++;
    } while (cont && pages < 10);
    CHECK_INT(pages, 3);
    CHECK_INT(items, 5);
    for (int i = 0; i < 5; i++)
        CHECK_INT(seen[i], 1);
    free(cont);
    free(rv);
    it_call_reset(&w);
}

static void test_patches(void)
{
    struct it_call w = {0};
    const char *merge = "{\"data\":{\"merged\":\"yes\"},\"metadata\":{\"labels\":{\"x\":\"1\"}}}";
    WAIT(&w, kube_patch(it_kc, &KUBE_CONFIGMAPS, ns, "cm-1", merge, strlen(merge), NULL,
                        it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK_STR(jstr(w.body, "data.merged"), "yes");
    CHECK_STR(jstr(w.body, "data.k"), "v");

    const char *jp = "[{\"op\":\"test\",\"path\":\"/data/merged\",\"value\":\"no\"},"
                     "{\"op\":\"remove\",\"path\":\"/data/merged\"}]";
    struct kube_patch_opts jpo = {.type = KUBE_PATCH_JSON};
    WAIT(&w,
         kube_patch(it_kc, &KUBE_CONFIGMAPS, ns, "cm-1", jp, strlen(jp), &jpo, it_on_result, &w));
    CHECK_INT(w.r.http_status, 422); /* the test op failed */
    CHECK_STR(w.r.status.reason, "Invalid");

    /* Server-side apply creates, then a second manager conflicts unless forced. */
    const char *apply = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                        "\"cm-apply\"},\"data\":{\"owned\":\"by-rb-it\"}}";
    struct kube_patch_opts ssa = {.type = KUBE_PATCH_APPLY, .field_manager = "rb-it", .force = 1};
    WAIT(&w, kube_patch(it_kc, &KUBE_CONFIGMAPS, ns, "cm-apply", apply, strlen(apply), &ssa,
                        it_on_result, &w));
    CHECK_INT(w.r.http_status, 201);
    CHECK_STR(jstr(w.body, "data.owned"), "by-rb-it");

    const char *other = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                        "\"cm-apply\"},\"data\":{\"owned\":\"by-other\"}}";
    struct kube_patch_opts ssa2 = {.type = KUBE_PATCH_APPLY, .field_manager = "other"};
    WAIT(&w, kube_patch(it_kc, &KUBE_CONFIGMAPS, ns, "cm-apply", other, strlen(other), &ssa2,
                        it_on_result, &w));
    CHECK_INT(w.r.http_status, 409);
    CHECK_STR(w.r.status.reason, "Conflict");
    CHECK_CONTAINS(w.r.status.message, "rb-it");
    ssa2.force = 1;
    WAIT(&w, kube_patch(it_kc, &KUBE_CONFIGMAPS, ns, "cm-apply", other, strlen(other), &ssa2,
                        it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK_STR(jstr(w.body, "data.owned"), "by-other");
    it_call_reset(&w);
}

/* A throwaway CRD with a status subresource: the path WorkflowRun uses. */
static void test_status_subresource(void)
{
    struct it_call w = {0};
    char plural[32], kind[32], crd[96];
    snprintf(plural, sizeof plural, "widgets%d", (int)getpid());
    snprintf(kind, sizeof kind, "Widget%d", (int)getpid());
    snprintf(crd, sizeof crd, "%s.it.runbook.dev", plural);
    struct json_object *def = it_json(
        "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
        "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"group\":\"it.runbook.dev\",\"scope\":"
        "\"Namespaced\",\"names\":{\"plural\":\"%s\",\"singular\":\"w%d\",\"kind\":\"%s\"},"
        "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,\"subresources\":"
        "{\"status\":{}},\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{"
        "\"spec\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true},"
        "\"status\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}}}]}}",
        crd, plural, (int)getpid(), kind);
    WAIT(&w, kube_create(it_kc, &KUBE_CRDS, NULL, def, it_on_result, &w));
    json_object_put(def);
    CHECK_INT(w.r.http_status, 201);

    const struct kube_resource widgets = {"it.runbook.dev", "v1", plural, 1};
    struct json_object *obj = it_json("{\"apiVersion\":\"it.runbook.dev/v1\",\"kind\":\"%s\","
                                      "\"metadata\":{\"name\":\"w1\"},\"spec\":{\"a\":1}}",
                                      kind);
    /* Until the CRD is established the collection is 404: poll. */
    for (int i = 0; i < 100; i++) {
        WAIT(&w, kube_create(it_kc, &widgets, ns, obj, it_on_result, &w));
        if (w.r.http_status != 404)
            break;
        usleep(100000);
    }
    json_object_put(obj);
    CHECK_INT(w.r.http_status, 201);
    CHECK(jstr(w.body, "status.phase") == NULL);

    /* Status through /status with a merge patch; spec changes there are ignored. */
    const char *st = "{\"status\":{\"phase\":\"Running\",\"observedGeneration\":1},"
                     "\"spec\":{\"a\":2}}";
    struct kube_patch_opts so = {.type = KUBE_PATCH_MERGE, .status = 1};
    WAIT(&w, kube_patch(it_kc, &widgets, ns, "w1", st, strlen(st), &so, it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK_STR(jstr(w.body, "status.phase"), "Running");
    struct json_object *spec = NULL, *a = NULL;
    json_object_object_get_ex(w.body, "spec", &spec);
    json_object_object_get_ex(spec, "a", &a);
    CHECK_INT(json_object_get_int(a), 1);

    /* PUT /status with the object as read. */
    obj = json_object_get(w.body);
    jset(obj, "status", "phase", "Succeeded");
    WAIT(&w, kube_update_status(it_kc, &widgets, ns, "w1", obj, it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK_STR(jstr(w.body, "status.phase"), "Succeeded");
    /* A plain patch of the object ignores status. */
    const char *sp = "{\"status\":{\"phase\":\"Hacked\"}}";
    WAIT(&w, kube_patch(it_kc, &widgets, ns, "w1", sp, strlen(sp), NULL, it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    CHECK_STR(jstr(w.body, "status.phase"), "Succeeded");
    json_object_put(obj);

    struct kube_delete_opts bg = {.propagation = "Background"};
    WAIT(&w, kube_delete(it_kc, &KUBE_CRDS, NULL, crd, &bg, it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    it_call_reset(&w);
}

static void test_delete_preconditions(void)
{
    struct it_call w = {0};
    WAIT(&w, kube_get(it_kc, &KUBE_CONFIGMAPS, ns, "cm-2", it_on_result, &w));
    char *uid = strdup(jstr(w.body, "metadata.uid") ? jstr(w.body, "metadata.uid") : "");
    struct kube_delete_opts o = {
        .propagation = "Background",
        .precondition_uid = "00000000-0000-0000-0000-000000000000",
    };
    WAIT(&w, kube_delete(it_kc, &KUBE_CONFIGMAPS, ns, "cm-2", &o, it_on_result, &w));
    CHECK_INT(w.r.http_status, 409);
    CHECK_STR(w.r.status.reason, "Conflict");
    CHECK_CONTAINS(w.r.status.message, "the UID in the precondition");

    o.precondition_uid = uid;
    o.grace_period_set = 1;
    o.grace_period_seconds = 0;
    WAIT(&w, kube_delete(it_kc, &KUBE_CONFIGMAPS, ns, "cm-2", &o, it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);
    WAIT(&w, kube_delete(it_kc, &KUBE_CONFIGMAPS, ns, "cm-2", &o, it_on_result, &w));
    CHECK_INT(w.r.http_status, 404);
    free(uid);
    it_call_reset(&w);
}

struct watch {
    struct kube_buf_like {
        char *p;
        size_t len;
    } data;
    int chunks;
    int ended;
    int abort_after; /* > 0: return -EPIPE from the n-th chunk */
    struct kube_result end;
};

static int on_chunk(void *ud, const char *p, size_t len)
{
    struct watch *wt = ud;
    wt->data.p = realloc(wt->data.p, wt->data.len + len + 1);
    memcpy(wt->data.p + wt->data.len, p, len);
    wt->data.len += len;
    wt->data.p[wt->data.len] = '\0';
    wt->chunks++;
    if (wt->abort_after && wt->chunks >= wt->abort_after)
        return -EPIPE;
    return 0;
}

static void on_end(void *ud, const struct kube_result *r)
{
    struct watch *wt = ud;
    wt->ended++;
    wt->end = *r;
    wt->end.body = NULL;
}

static int watch_saw(struct watch *wt, const char *type, const char *name)
{
    char needle[128];
    snprintf(needle, sizeof needle, "\"name\":\"%s\"", name);
    for (char *line = wt->data.p; line; line = strchr(line, '\n')) {
        line += *line == '\n';
        char *eol = strchr(line, '\n');
        if (!eol)
            break;
        *eol = '\0';
        char want[32];
        snprintf(want, sizeof want, "{\"type\":\"%s\"", type);
        int hit = strncmp(line, want, strlen(want)) == 0 && strstr(line, needle);
        *eol = '\n';
        if (hit)
            return 1;
    }
    return 0;
}

static void test_watch(void)
{
    struct it_call w = {0};
    struct kube_list_opts lo = {.limit = 500};
    WAIT(&w, kube_list(it_kc, &KUBE_CONFIGMAPS, ns, &lo, it_on_result, &w));
    char *rv = strdup(jstr(w.body, "metadata.resourceVersion"));

    struct watch wt = {0};
    struct kube_stream *s = NULL;
    struct kube_watch_opts wo = {
        .resource_version = rv, .allow_bookmarks = 1, .timeout_seconds = 300};
    CHECK_INT(kube_watch(it_kc, &KUBE_CONFIGMAPS, ns, &wo, on_chunk, on_end, &wt, &s), 0);
    CHECK(s != NULL);

    struct json_object *cm = configmap("cm-w", "watched");
    WAIT(&w, kube_create(it_kc, &KUBE_CONFIGMAPS, ns, cm, it_on_result, &w));
    json_object_put(cm);
    const char *p = "{\"data\":{\"n\":\"1\"}}";
    WAIT(&w, kube_patch(it_kc, &KUBE_CONFIGMAPS, ns, "cm-w", p, strlen(p), NULL, it_on_result, &w));
    WAIT(&w, kube_delete(it_kc, &KUBE_CONFIGMAPS, ns, "cm-w", NULL, it_on_result, &w));
    CHECK_INT(w.r.http_status, 200);

    uint64_t end = uv_now(&it_loop) + 10000;
    while (!(wt.data.p && watch_saw(&wt, "DELETED", "cm-w")) && uv_now(&it_loop) < end && !wt.ended)
        it_run_flag(&wt.ended, 200);
    CHECK(wt.data.p && watch_saw(&wt, "ADDED", "cm-w"));
    CHECK(wt.data.p && watch_saw(&wt, "MODIFIED", "cm-w"));
    CHECK(wt.data.p && watch_saw(&wt, "DELETED", "cm-w"));
    CHECK_INT(wt.ended, 0);

    kube_watch_cancel(s);
    kube_watch_cancel(s); /* idempotent until end */
    CHECK(it_run_flag(&wt.ended, 5000));
    CHECK_INT(wt.ended, 1);
    CHECK_INT(wt.end.err, -ECANCELED);
    free(wt.data.p);

    /* The server ends a watch after timeoutSeconds: 200, err 0. */
    struct watch wt2 = {0};
    wo.timeout_seconds = 1;
    CHECK_INT(kube_watch(it_kc, &KUBE_CONFIGMAPS, ns, &wo, on_chunk, on_end, &wt2, NULL), 0);
    CHECK(it_run_flag(&wt2.ended, 10000));
    CHECK_INT(wt2.end.err, 0);
    CHECK_INT(wt2.end.http_status, 200);
    CHECK_INT(wt2.end.http_version, 20);
    free(wt2.data.p);

    /* The chunk callback can abort: its error comes back once. */
    struct watch wt3 = {.abort_after = 1};
    wo.timeout_seconds = 30;
    wo.resource_version = "0"; /* replays ADDED for what exists: data at once */
    CHECK_INT(kube_watch(it_kc, &KUBE_CONFIGMAPS, ns, &wo, on_chunk, on_end, &wt3, NULL), 0);
    CHECK(it_run_flag(&wt3.ended, 10000));
    CHECK_INT(wt3.end.err, -EPIPE);
    CHECK_INT(wt3.chunks, 1);
    free(wt3.data.p);

    /* A refused watch (a bad selector: 400) never feeds the decoder. */
    struct watch wt4 = {0};
    struct kube_watch_opts bad = {.label_selector = "a in (", .timeout_seconds = 5};
    CHECK_INT(kube_watch(it_kc, &KUBE_CONFIGMAPS, ns, &bad, on_chunk, on_end, &wt4, NULL), 0);
    CHECK(it_run_flag(&wt4.ended, 10000));
    CHECK_INT(wt4.end.err, 0);
    CHECK_INT(wt4.end.http_status, 400);
    CHECK_STR(wt4.end.status.reason, "BadRequest");
    CHECK_INT(wt4.chunks, 0);
    free(wt4.data.p);
    free(rv);
    it_call_reset(&w);
}

static void test_many_share_connections(void)
{
    struct kube_stats before, after;
    kube_client_stats(it_kc, &before);
    enum { N = 200 };
    static struct it_call cw[N];
    /* Reads and writes interleaved with an open watch: one HTTP/2 connection. */
    struct watch wt = {0};
    struct kube_stream *s;
    CHECK_INT(kube_watch(it_kc, &KUBE_CONFIGMAPS, ns, &(struct kube_watch_opts){0}, on_chunk,
                         on_end, &wt, &s),
              0);
    for (int i = 0; i < N; i++) {
        if (i % 4 == 0) {
            char name[24];
            snprintf(name, sizeof name, "many-%d", i);
            struct json_object *cm = configmap(name, "many");
            CHECK_INT(kube_create(it_kc, &KUBE_CONFIGMAPS, ns, cm, it_on_result, &cw[i]), 0);
            json_object_put(cm);
        } else {
            CHECK_INT(kube_get(it_kc, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &cw[i]), 0);
        }
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        it_run_flag(&cw[i].done, 60000);
        ok += cw[i].done && cw[i].r.err == 0 &&
              (cw[i].r.http_status == 200 || cw[i].r.http_status == 201) &&
              cw[i].r.http_version == 20;
        it_call_reset(&cw[i]);
    }
    CHECK_INT(ok, N);
    kube_watch_cancel(s);
    it_run_flag(&wt.ended, 5000);
    CHECK_INT(wt.end.err, -ECANCELED);
    free(wt.data.p);
    kube_client_stats(it_kc, &after);
    fprintf(stderr, "many: %llu new connections for %d requests and a watch\n",
            (unsigned long long)(after.connections - before.connections), N);
    CHECK(after.connections - before.connections <= 2);
    CHECK(after.requests[KUBE_VERB_GET] - before.requests[KUBE_VERB_GET] >= (uint64_t)N * 3 / 4);
    CHECK(after.by_code[201] - before.by_code[201] >= (uint64_t)N / 4);
}

static void test_rate_limit(void)
{
    /* 10 burst + 40 at 50/s: at least 0.8 s, and requests had to wait. */
    struct kube_options o = {.qps = 50, .burst = 10};
    struct kube_client *c2;
    CHECK_INT(kube_client_new(&it_loop, it_cfg, &o, &c2), 0);
    enum { N = 50 };
    static struct it_call cw[N];
    uint64_t t0 = uv_hrtime();
    for (int i = 0; i < N; i++)
        CHECK_INT(kube_get(c2, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &cw[i]), 0);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        it_run_flag(&cw[i].done, 30000);
        ok += cw[i].r.http_status == 200;
        it_call_reset(&cw[i]);
    }
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    struct kube_stats st;
    kube_client_stats(c2, &st);
    fprintf(stderr, "rate limit: %d requests in %.2f s, %llu waited %llu ms in all\n", N, secs,
            (unsigned long long)st.ratelimit_waits, (unsigned long long)st.ratelimit_wait_ms);
    CHECK_INT(ok, N);
    CHECK(secs >= 0.75);
    CHECK(secs < 5);
    CHECK(st.ratelimit_waits >= N - 10 - 1);
    /* 40 waiters released 20 ms apart wait ~16 s in sum */
    CHECK(st.ratelimit_wait_ms >= 10000);
    CHECK_INT(st.in_flight, 0);
    CHECK_INT(st.queued, 0);
    int closed = 0;
    kube_client_close(c2, it_count, &closed);
    CHECK(it_run_flag(&closed, 5000));
}

/* DELETEs have a lane of their own: with the main bucket spent (and a
 * slow refill), 150 DELETEs all go while GETs queued before them still
 * wait for a token. A teardown never waits behind other writes, nor for a
 * rate of its own: only KUBE_LANE_IN_FLIGHT are on the wire at once. */
static void test_delete_lane(void)
{
    struct kube_options o = {.qps = 0.1, .burst = 5};
    struct kube_client *c4;
    CHECK_INT(kube_client_new(&it_loop, it_cfg, &o, &c4), 0);
    enum { G = 20, D = 150 };
    static struct it_call gets[G], dels[D];
    for (int i = 0; i < G; i++)
        CHECK_INT(kube_get(c4, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &gets[i]), 0);
    for (int i = 0; i < D; i++) {
        char name[32];
        snprintf(name, sizeof name, "no-such-cm-%d", i);
        CHECK_INT(kube_delete(c4, &KUBE_CONFIGMAPS, ns, name, NULL, it_on_result, &dels[i]), 0);
    }
    int done = 0;
    uint64_t end = uv_now(&it_loop) + 15000;
    while (done < D && uv_now(&it_loop) < end) {
        uv_run(&it_loop, UV_RUN_ONCE);
        done = 0;
        for (int i = 0; i < D; i++)
            done += dels[i].done && dels[i].r.http_status == 404;
    }
    int got = 0;
    for (int i = 0; i < G; i++)
        got += gets[i].done;
    struct kube_stats st;
    kube_client_stats(c4, &st);
    fprintf(stderr,
            "delete lane: %d of %d DELETEs answered, %d of %d GETs past the bucket, at most %llu "
            "DELETEs in flight\n",
            done, D, got, G, (unsigned long long)st.lane_peak);
    CHECK_INT(done, D);
    /* all released in one pass, up to the bound, the rest as answers come */
    CHECK_INT(st.lane_peak, KUBE_LANE_IN_FLIGHT);
    CHECK(got <= 6); /* 5 of the burst, perhaps one refilled: the rest wait */
    int closed = 0;
    kube_client_close(c4, it_count, &closed);
    CHECK(it_run_flag(&closed, 10000));
    for (int i = 0; i < G; i++)
        it_call_reset(&gets[i]);
    for (int i = 0; i < D; i++)
        it_call_reset(&dels[i]);
}

static void test_close_in_flight(void)
{
    struct kube_client *c3;
    /* A slow bucket: the 10 requests past the burst surely still wait for a
     * token when the client closes, however loaded the machine is. */
    struct kube_options slow = {.qps = 0.1, .burst = 30};
    CHECK_INT(kube_client_new(&it_loop, it_cfg, &slow, &c3), 0);
    enum { N = 40 };
    static struct it_call cw[N];
    struct watch wt = {0};
    CHECK_INT(kube_watch(c3, &KUBE_CONFIGMAPS, ns, &(struct kube_watch_opts){0}, on_chunk, on_end,
                         &wt, NULL),
              0);
    for (int i = 0; i < N; i++) {
        struct kube_list_opts lo = {.limit = 1};
        CHECK_INT(kube_list(c3, &KUBE_CONFIGMAPS, ns, &lo, it_on_result, &cw[i]), 0);
    }
    /* Close once the first answers are in: the connection is up, the watch
     * open, lists in flight, and 10 still wait for a token (burst 30). */
    uint64_t end = uv_now(&it_loop) + 10000;
    while (!cw[0].done && uv_now(&it_loop) < end)
        uv_run(&it_loop, UV_RUN_ONCE);
    CHECK(cw[0].done);
    struct kube_stats st;
    kube_client_stats(c3, &st);
    CHECK(st.requests[KUBE_VERB_LIST] >= 30);
    CHECK_INT(st.requests[KUBE_VERB_WATCH], 1);
    CHECK(st.in_flight > 10);
    int closed = 0;
    kube_client_close(c3, it_count, &closed);
    kube_client_close(c3, it_count, &closed); /* second call ignored */
    CHECK_INT(kube_get(c3, &KUBE_CONFIGMAPS, ns, "cm-0", it_on_result, &cw[0]), -ESHUTDOWN);
    CHECK(it_run_flag(&closed, 10000));
    CHECK_INT(closed, 1);
    int cancelled = 0, calls = 0;
    for (int i = 0; i < N; i++) {
        calls += cw[i].calls;
        cancelled += cw[i].r.err == -ECANCELED;
        it_call_reset(&cw[i]);
    }
    fprintf(stderr, "close: %d of %d requests cancelled\n", cancelled, N);
    CHECK_INT(calls, N);
    CHECK(cancelled >= 10);
    CHECK_INT(wt.ended, 1);
    CHECK_INT(wt.end.err, -ECANCELED);
    free(wt.data.p);
}

int main(void)
{
    if (it_setup(LOGL_INFO, 0, NULL) < 0)
        return 1;
    if (it_namespace("rb-it-kube", ns, sizeof ns) < 0) {
        check_finish();
        return 1;
    }

    RUN(test_create_get_and_conflicts);
    RUN(test_list_pages);
    RUN(test_patches);
    RUN(test_status_subresource);
    RUN(test_delete_preconditions);
    RUN(test_watch);
    RUN(test_many_share_connections);
    RUN(test_rate_limit);
    RUN(test_delete_lane);
    RUN(test_close_in_flight);

    CHECK_INT(it_namespace_delete(ns), 0);

    struct kube_stats st;
    kube_client_stats(it_kc, &st);
    fprintf(stderr,
            "stats: get %llu list %llu watch %llu create %llu update %llu patch %llu "
            "delete %llu retries %llu connections %llu\n",
            (unsigned long long)st.requests[KUBE_VERB_GET],
            (unsigned long long)st.requests[KUBE_VERB_LIST],
            (unsigned long long)st.requests[KUBE_VERB_WATCH],
            (unsigned long long)st.requests[KUBE_VERB_CREATE],
            (unsigned long long)st.requests[KUBE_VERB_UPDATE],
            (unsigned long long)st.requests[KUBE_VERB_PATCH],
            (unsigned long long)st.requests[KUBE_VERB_DELETE], (unsigned long long)st.retries,
            (unsigned long long)st.connections);
    CHECK_INT(st.in_flight, 0);

    CHECK_INT(it_teardown(), 0);
    return check_finish();
}
