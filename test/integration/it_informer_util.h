/* Shared by the it_informer*.c tests, on top of it_util.h: batches of
 * writes, a tracker that checks every handler call for gaps and duplicates,
 * the comparison of the cache with a fresh list, closing an informer, its
 * statistics, a projection (the fault proxy: it_proxy.h).
 * Header-only (every test is one file); functions are static and may go
 * unused. */
#ifndef IT_INFORMER_UTIL_H
#define IT_INFORMER_UTIL_H

#include "kjson/kjson.h"
#include "it_util.h"

#include "informer/inf.h"
#include "watch/decoder.h"

/* ---- batches of writes ---------------------------------------------------- */

/* start(ud, i, cb, cbud) issues request i; done(ud, i, r) sees its result. */
struct it_batch {
    int n, parallel, next, inflight, finished, failed;
    int (*start)(void *ud, int i, kube_cb cb, void *cbud);
    void (*done)(void *ud, int i, const struct kube_result *r);
    void *ud;
};

struct it_slot {
    struct it_batch *b;
    int i;
};

static void it_batch_pump(struct it_batch *b);

static void it_batch_cb(void *ud, const struct kube_result *r)
{
    struct it_slot *s = ud;
    struct it_batch *b = s->b;
    if (r->err < 0 || r->http_status >= 300) {
        if (b->failed++ < 5)
            fprintf(stderr, "batch op %d failed: err %d http %ld %s\n", s->i, r->err,
                    r->http_status, r->status.message);
    }
    if (b->done)
        b->done(b->ud, s->i, r);
    free(s);
    b->inflight--;
    b->finished++;
    it_batch_pump(b);
}

static void it_batch_pump(struct it_batch *b)
{
    while (b->inflight < b->parallel && b->next < b->n) {
        struct it_slot *s = malloc(sizeof *s);
        s->b = b;
        s->i = b->next++;
        b->inflight++;
        if (b->start(b->ud, s->i, it_batch_cb, s) < 0) {
            b->inflight--;
            b->finished++;
            b->failed++;
            free(s);
        }
    }
}

static int it_batch_done(void *ud)
{
    const struct it_batch *b = ud;
    return b->finished == b->n;
}

/* Runs n requests, parallel at a time; returns the number that failed. */
IT_FN int it_batch_run(int n, int parallel, int (*start)(void *, int, kube_cb, void *),
                       void (*done)(void *, int, const struct kube_result *), void *ud)
{
    struct it_batch b = {.n = n, .parallel = parallel, .start = start, .done = done, .ud = ud};
    it_batch_pump(&b);
    if (!it_run_until(it_batch_done, &b, 300000))
        return -1;
    return b.failed;
}

/* ---- the tracker: what the handlers saw, per object --------------------------- */

/* Objects are named "<anything>-<index>"; the index picks the slot. */
struct it_obj {
    int adds, updates, deletes;
    int present;
    char rv[32];      /* last version the handlers delivered */
    char want_rv[32]; /* version of our last successful write; "" = deleted */
};

struct it_track {
    struct it_obj *o;
    int n;
    int errors;
    int foreign; /* objects with another name */
    int synced;
};

IT_FN void it_track_init(struct it_track *t, int n)
{
    memset(t, 0, sizeof *t);
    t->o = calloc((size_t)n, sizeof *t->o);
    t->n = n;
}

static struct it_obj *it_track_obj(struct it_track *t, const void *rec)
{
    const char *name = inf_rec_name(rec), *dash = strrchr(name, '-');
    int i = dash ? atoi(dash + 1) : -1;
    if (i < 0 || i >= t->n) {
        t->foreign++;
        return NULL;
    }
    return &t->o[i];
}

static void it_track_err(struct it_track *t, const char *what, const void *rec)
{
    if (t->errors++ < 10)
        fprintf(stderr, "tracker: %s: %s/%s@%s\n", what, inf_rec_namespace(rec), inf_rec_name(rec),
                inf_rec_rv(rec));
}

static void it_on_add(void *ud, const void *rec)
{
    struct it_track *t = ud;
    struct it_obj *o = it_track_obj(t, rec);
    if (!o)
        return;
    if (o->present)
        it_track_err(t, "add of a cached object", rec);
    o->adds++;
    o->present = 1;
    snprintf(o->rv, sizeof o->rv, "%s", inf_rec_rv(rec));
}

static void it_on_update(void *ud, const void *old, const void *rec)
{
    struct it_track *t = ud;
    struct it_obj *o = it_track_obj(t, rec);
    if (!o)
        return;
    /* The old record must be the last one delivered: no gap, no replay. */
    if (!o->present || strcmp(o->rv, inf_rec_rv(old)) != 0)
        it_track_err(t, "update not continuing the last delivered version", old);
    if (strcmp(inf_rec_rv(old), inf_rec_rv(rec)) == 0)
        it_track_err(t, "update to the same version", rec);
    o->updates++;
    snprintf(o->rv, sizeof o->rv, "%s", inf_rec_rv(rec));
}

static void it_on_delete(void *ud, const void *rec)
{
    struct it_track *t = ud;
    struct it_obj *o = it_track_obj(t, rec);
    if (!o)
        return;
    if (!o->present)
        it_track_err(t, "delete of an unknown object", rec);
    o->deletes++;
    o->present = 0;
    o->rv[0] = '\0';
}

static void it_on_synced(void *ud)
{
    ((struct it_track *)ud)->synced = 1;
}

static const struct inf_handlers it_handlers = {it_on_add, it_on_update, it_on_delete,
                                                it_on_synced};

/* Every object's last delivered version is the one our last write got
 * back (deleted: absent). */
static int it_track_converged(void *ud)
{
    struct it_track *t = ud;
    for (int i = 0; i < t->n; i++) {
        const struct it_obj *o = &t->o[i];
        if (o->want_rv[0] ? strcmp(o->rv, o->want_rv) != 0 : o->present)
            return 0;
    }
    return 1;
}

/* Records what a write returned (create/update/patch: the object; delete:
 * gone). */
IT_FN void it_track_wrote(struct it_track *t, int i, const struct kube_result *r, int deleted)
{
    if (r->err < 0 || r->http_status >= 300 || i < 0 || i >= t->n)
        return;
    if (deleted) {
        t->o[i].want_rv[0] = '\0';
        return;
    }
    const char *rv = kj_path_str(r->body, "metadata", "resourceVersion", NULL);
    snprintf(t->o[i].want_rv, sizeof t->o[i].want_rv, "%s", rv ? rv : "?");
}

/* ---- the cache against a fresh list ------------------------------------------ */

/* Lists res in ns (all pages, no selector unless given) and checks that the
 * cache holds exactly those objects at those versions. Returns mismatches. */
IT_FN int it_compare_with_list(const struct inf *inf, const struct kube_resource *res,
                               const char *ns, const char *selector)
{
    int bad = 0;
    size_t listed = 0;
    char cont[4096] = "";
    do {
        struct kube_list_opts o = {
            .label_selector = selector, .limit = 500, .continue_token = cont[0] ? cont : NULL};
        struct it_call c = {0};
        if (it_wait(&c, kube_list(it_kc, res, ns, &o, it_on_result, &c)) < 0) {
            fprintf(stderr, "compare: list failed\n");
            it_call_reset(&c);
            return -1;
        }
        struct json_object *items = kj_path(c.body, "items", NULL);
        for (size_t i = 0; items && i < json_object_array_length(items); i++) {
            struct json_object *it = json_object_array_get_idx(items, i);
            const char *name = kj_path_str(it, "metadata", "name", NULL);
            const char *rv = kj_path_str(it, "metadata", "resourceVersion", NULL);
            const void *rec = inf_get(inf, ns, name);
            listed++;
            if (!rec || strcmp(inf_rec_rv(rec), rv) != 0) {
                if (bad++ < 10)
                    fprintf(stderr, "compare: %s: cache has %s, list has %s\n", name,
                            rec ? inf_rec_rv(rec) : "nothing", rv);
            }
        }
        const char *next = kj_path_str(c.body, "metadata", "continue", NULL);
        snprintf(cont, sizeof cont, "%s", next ? next : "");
        it_call_reset(&c);
    } while (cont[0]);
    if (listed != inf_count(inf)) {
        fprintf(stderr, "compare: list has %zu objects, cache %zu\n", listed, inf_count(inf));
        bad++;
    }
    return bad;
}

/* ---- informer lifecycle ---------------------------------------------------- */

static void it_inf_closed(struct inf *inf, void *ud)
{
    (void)inf;
    *(int *)ud = 1;
}

IT_FN void it_inf_close(struct inf *inf)
{
    int closed = 0;
    inf_close(inf, it_inf_closed, &closed);
    it_run_until(it_flag, &closed, 10000);
    CHECK(closed);
    inf_free(inf);
}

IT_FN void it_print_stats(const char *what, const struct inf *inf)
{
    struct inf_stats s;
    inf_get_stats(inf, &s);
    fprintf(stderr,
            "%s: lists %llu relists %llu pages %llu list_errors %llu watches %llu restarts %llu "
            "watch_errors %llu gone %llu malformed %llu events A%llu M%llu D%llu B%llu E%llu "
            "adds %llu updates %llu deletes %llu dup %llu objects %llu bytes %llu\n",
            what, (unsigned long long)s.lists, (unsigned long long)s.relists,
            (unsigned long long)s.list_pages, (unsigned long long)s.list_errors,
            (unsigned long long)s.watches, (unsigned long long)s.watch_restarts,
            (unsigned long long)s.watch_errors, (unsigned long long)s.gone,
            (unsigned long long)s.malformed, (unsigned long long)s.events[0],
            (unsigned long long)s.events[1], (unsigned long long)s.events[2],
            (unsigned long long)s.events[3], (unsigned long long)s.events[4],
            (unsigned long long)s.adds, (unsigned long long)s.updates,
            (unsigned long long)s.deletes, (unsigned long long)s.duplicates,
            (unsigned long long)s.objects, (unsigned long long)s.cache_bytes);
}

/* A projection for the tests' objects: the "v" label, to compare content. */
struct it_rec {
    char v[16];
};

static int it_project(struct json_object *obj, void *record)
{
    struct it_rec *r = record;
    const char *v = kj_path_str(obj, "metadata", "labels", "v", NULL);
    snprintf(r->v, sizeof r->v, "%s", v ? v : "");
    return 0;
}

static const struct inf_projection it_projection = {sizeof(struct it_rec), it_project, NULL};

#endif
