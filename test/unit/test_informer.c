/* The informer's cache: watch events and relist diffs into handler calls,
 * record lifecycle, the ready-made Job and Pod projections. */
#include "kjson/kjson.h"
#include "check.h"
#include "informer/inf_cache.h"

#include <errno.h>
#include <stdlib.h>

#include <json-c/json.h>

/* --- a projection that counts its allocations --------------------------- */

struct rec {
    char *data; /* strdup'd metadata.labels.v, to catch leaks and double frees */
    int gen;
};

static int live_records;
static int reject_next;

static int rec_project(struct json_object *obj, void *record)
{
    struct rec *r = record;
    const char *v = kj_path_str(obj, "metadata", "labels", "v", NULL);
    r->data = strdup(v ? v : "");
    live_records++;
    if (reject_next) {
        reject_next = 0;
        return -EINVAL; /* half-filled: release must still run */
    }
    r->gen = 1;
    return 0;
}

static void rec_release(void *record)
{
    struct rec *r = record;
    free(r->data);
    live_records--;
}

static const struct inf_projection proj = {sizeof(struct rec), rec_project, rec_release};

/* --- handlers that log what they saw ------------------------------------ */

struct log {
    char buf[4096];
    struct inf_cache *c; /* to look up inside handlers */
    int update_saw_new;
};

static void logf_(struct log *l, const char *kind, const void *a, const void *b)
{
    size_t n = strlen(l->buf);
    snprintf(l->buf + n, sizeof l->buf - n, "%s %s/%s@%s%s%s;", kind, inf_rec_namespace(a),
             inf_rec_name(a), inf_rec_rv(a), b ? "->" : "", b ? inf_rec_rv(b) : "");
}

static void h_add(void *ud, const void *rec)
{
    logf_(ud, "add", rec, NULL);
}

static void h_update(void *ud, const void *old, const void *new_)
{
    struct log *l = ud;
    logf_(l, "upd", old, new_);
    /* The cache is updated before the handler runs. */
    if (l->c && inf_cache_get(l->c, inf_rec_namespace(new_), inf_rec_name(new_)) == new_)
        l->update_saw_new++;
}

static void h_delete(void *ud, const void *rec)
{
    struct log *l = ud;
    logf_(l, "del", rec, NULL);
    if (l->c && inf_cache_get(l->c, inf_rec_namespace(rec), inf_rec_name(rec)))
        CHECK(!"deleted record still in the cache during on_delete");
}

static const struct inf_handlers handlers = {h_add, h_update, h_delete, NULL};

static struct json_object *obj(const char *ns, const char *name, const char *rv, const char *v)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":\"%s\","
             "\"labels\":{\"v\":\"%s\"}}}",
             ns, name, rv, v ? v : "");
    return json_tokener_parse(buf);
}

static int apply(struct inf_cache *c, enum watch_event_type t, const char *ns, const char *name,
                 const char *rv)
{
    struct json_object *o = obj(ns, name, rv, rv);
    int rc = inf_cache_apply(c, t, o);
    json_object_put(o);
    return rc;
}

static int put(struct inf_cache *c, const char *ns, const char *name, const char *rv)
{
    struct json_object *o = obj(ns, name, rv, rv);
    int rc = inf_cache_replace_item(c, o);
    json_object_put(o);
    return rc;
}

static void test_watch_events(void)
{
    struct log l = {0};
    struct inf_cache *c = inf_cache_new(&proj, &handlers, &l);
    l.c = c;
    CHECK_INT(apply(c, WATCH_ADDED, "ns", "a", "1"), 0);
    CHECK_INT(apply(c, WATCH_MODIFIED, "ns", "a", "2"), 0);
    CHECK_INT(apply(c, WATCH_MODIFIED, "ns", "a", "2"), 0); /* replayed: nothing */
    CHECK_INT(apply(c, WATCH_ADDED, "ns", "a", "3"), 0);    /* ADDED of a known one: update */
    CHECK_INT(apply(c, WATCH_ADDED, "other", "a", "4"), 0); /* same name, other namespace */
    CHECK_INT(apply(c, WATCH_DELETED, "ns", "nope", "5"), 0);
    CHECK_INT(apply(c, WATCH_BOOKMARK, "", "x", "6"), 0);
    CHECK_INT(apply(c, WATCH_DELETED, "ns", "a", "7"), 0);
    /* on_delete gets the final state from the event. */
    CHECK_STR(l.buf, "add ns/a@1;upd ns/a@1->2;upd ns/a@2->3;add other/a@4;del ns/a@7;");
    CHECK_INT(l.update_saw_new, 2);
    CHECK_INT(inf_cache_count(c), 1);
    const struct rec *r = inf_cache_get(c, "other", "a");
    CHECK(r != NULL);
    if (r) {
        CHECK_STR(r->data, "4");
        CHECK_STR(inf_rec_rv(r), "4");
    }
    CHECK(inf_cache_get(c, "ns", "a") == NULL);
    CHECK(inf_cache_get(c, NULL, "a") == NULL);
    struct inf_stats st = {0};
    inf_cache_stats(c, &st);
    CHECK_INT(st.adds, 2);
    CHECK_INT(st.updates, 2);
    CHECK_INT(st.deletes, 1);
    CHECK_INT(st.duplicates, 1);
    CHECK_INT(st.objects, 1);
    inf_cache_free(c);
    CHECK_INT(live_records, 0);
}

static void test_cluster_scoped(void)
{
    struct log l = {0};
    struct inf_cache *c = inf_cache_new(&proj, &handlers, &l);
    struct json_object *o =
        json_tokener_parse("{\"metadata\":{\"name\":\"node-1\",\"resourceVersion\":\"9\"}}");
    CHECK_INT(inf_cache_apply(c, WATCH_ADDED, o), 0);
    json_object_put(o);
    const void *r = inf_cache_get(c, NULL, "node-1");
    CHECK(r != NULL && r == inf_cache_get(c, "", "node-1"));
    if (r)
        CHECK_STR(inf_rec_namespace(r), "");
    inf_cache_free(c);
}

static void test_malformed(void)
{
    struct log l = {0};
    struct inf_cache *c = inf_cache_new(&proj, &handlers, &l);
    const char *bad[] = {
        "{}",
        "{\"metadata\":{\"namespace\":\"n\",\"resourceVersion\":\"1\"}}",
        "{\"metadata\":{\"name\":\"a\"}}",
        "{\"metadata\":{\"name\":\"\",\"resourceVersion\":\"1\"}}",
        "{\"metadata\":{\"name\":7,\"resourceVersion\":\"1\"}}",
        "{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"\"}}",
        "{\"metadata\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct json_object *o = json_tokener_parse(bad[i]);
        CHECK_INT(inf_cache_apply(c, WATCH_ADDED, o), -EBADMSG);
        CHECK_INT(inf_cache_apply(c, WATCH_DELETED, o), -EBADMSG);
        CHECK_INT(inf_cache_replace_item(c, o), -EBADMSG);
        json_object_put(o);
    }
    /* Over-long names are refused, not truncated into a wrong key. */
    char name[300];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    CHECK_INT(apply(c, WATCH_ADDED, "ns", name, "1"), -EBADMSG);
    CHECK_STR(l.buf, "");
    CHECK_INT(inf_cache_count(c), 0);
    CHECK_INT(live_records, 0);
    inf_cache_free(c);
}

/* The relist diff: the old cache against a new list. */
static void test_relist_diff(void)
{
    struct log l = {0};
    struct inf_cache *c = inf_cache_new(&proj, &handlers, &l);
    l.c = c;
    apply(c, WATCH_ADDED, "ns", "keep", "1");
    apply(c, WATCH_ADDED, "ns", "change", "1");
    apply(c, WATCH_ADDED, "ns", "gone", "1");
    apply(c, WATCH_ADDED, "ns2", "gone", "1");
    l.buf[0] = '\0';

    inf_cache_replace_begin(c);
    CHECK_INT(put(c, "ns", "keep", "1"), 0);
    CHECK_INT(put(c, "ns", "change", "5"), 0);
    CHECK_INT(put(c, "ns", "new", "6"), 0);
    /* Adds and updates go out as the pages come in; deletes only at the end. */
    CHECK_STR(l.buf, "upd ns/change@1->5;add ns/new@6;");
    CHECK_INT(inf_cache_count(c), 5);
    l.buf[0] = '\0';
    inf_cache_replace_end(c);
    /* Bucket order is not defined: check both, whatever the order. */
    CHECK(strstr(l.buf, "del ns/gone@1;") != NULL);
    CHECK(strstr(l.buf, "del ns2/gone@1;") != NULL);
    CHECK_INT(strlen(l.buf), strlen("del ns/gone@1;del ns2/gone@1;"));
    CHECK_INT(inf_cache_count(c), 3);
    CHECK(inf_cache_get(c, "ns", "keep") && inf_cache_get(c, "ns", "new"));

    /* An empty list deletes everything. */
    l.buf[0] = '\0';
    inf_cache_replace_begin(c);
    inf_cache_replace_end(c);
    CHECK_INT(inf_cache_count(c), 0);
    CHECK_INT(strlen(l.buf), strlen("del ns/keep@1;del ns/change@5;del ns/new@6;"));
    struct inf_stats st = {0};
    inf_cache_stats(c, &st);
    CHECK_INT(st.duplicates, 0); /* unchanged on a relist is not a duplicate */
    inf_cache_free(c);
    CHECK_INT(live_records, 0);
}

/* A relist abandoned after some pages (continue token expired) is begun
 * again; what the first attempt saw must not protect objects from the
 * second attempt's sweep. */
static void test_relist_abandoned(void)
{
    struct log l = {0};
    struct inf_cache *c = inf_cache_new(&proj, &handlers, &l);
    apply(c, WATCH_ADDED, "ns", "a", "1");
    apply(c, WATCH_ADDED, "ns", "b", "1");
    inf_cache_replace_begin(c);
    put(c, "ns", "a", "1");
    put(c, "ns", "b", "1");
    /* abandoned; b is deleted before the retry */
    inf_cache_replace_begin(c);
    put(c, "ns", "a", "1");
    l.buf[0] = '\0';
    inf_cache_replace_end(c);
    CHECK_STR(l.buf, "del ns/b@1;");
    CHECK_INT(inf_cache_count(c), 1);
    inf_cache_free(c);
}

/* An event applied during a relist (not done by inf.c, but the cache must
 * not lose it): it is newer than the list, so the sweep keeps it. */
static void test_apply_during_relist(void)
{
    struct log l = {0};
    struct inf_cache *c = inf_cache_new(&proj, &handlers, &l);
    inf_cache_replace_begin(c);
    apply(c, WATCH_ADDED, "ns", "late", "9");
    inf_cache_replace_end(c);
    CHECK(inf_cache_get(c, "ns", "late") != NULL);
    inf_cache_free(c);
}

static void test_projection_lifecycle(void)
{
    struct log l = {0};
    struct inf_cache *c = inf_cache_new(&proj, &handlers, &l);
    apply(c, WATCH_ADDED, "ns", "a", "1");
    CHECK_INT(live_records, 1);
    /* A rejected update keeps the old record and releases the new one. */
    reject_next = 1;
    CHECK_INT(apply(c, WATCH_MODIFIED, "ns", "a", "2"), 0);
    CHECK_INT(live_records, 1);
    const struct rec *r = inf_cache_get(c, "ns", "a");
    CHECK(r && strcmp(inf_rec_rv(r), "1") == 0);
    /* Rejected on a relist: still kept, not swept. */
    inf_cache_replace_begin(c);
    reject_next = 1;
    put(c, "ns", "a", "3");
    inf_cache_replace_end(c);
    CHECK(inf_cache_get(c, "ns", "a") != NULL);
    /* A rejected add caches nothing. */
    reject_next = 1;
    apply(c, WATCH_ADDED, "ns", "b", "1");
    CHECK(inf_cache_get(c, "ns", "b") == NULL);
    /* A delete whose final state is rejected hands out the cached one. */
    l.buf[0] = '\0';
    reject_next = 1;
    apply(c, WATCH_DELETED, "ns", "a", "4");
    CHECK_STR(l.buf, "del ns/a@1;");
    CHECK_INT(live_records, 0);
    struct inf_stats st = {0};
    inf_cache_stats(c, &st);
    CHECK_INT(st.project_errors, 4);
    /* Freeing releases what is still cached. */
    for (int i = 0; i < 50; i++) {
        char name[16];
        snprintf(name, sizeof name, "o%d", i);
        apply(c, WATCH_ADDED, "ns", name, "1");
    }
    CHECK_INT(live_records, 50);
    inf_cache_free(c);
    CHECK_INT(live_records, 0);
}

static void mute_on_add(void *ud, const void *rec)
{
    struct log *l = ud;
    logf_(l, "add", rec, NULL);
    inf_cache_mute(l->c, 1);
}

static void test_mute(void)
{
    struct log l = {0};
    struct inf_handlers h = {mute_on_add, h_update, h_delete, NULL};
    struct inf_cache *c = inf_cache_new(&proj, &h, &l);
    l.c = c;
    apply(c, WATCH_ADDED, "ns", "a", "1");
    apply(c, WATCH_ADDED, "ns", "b", "1");
    inf_cache_replace_begin(c);
    inf_cache_replace_end(c);
    CHECK_STR(l.buf, "add ns/a@1;");
    inf_cache_free(c);
}

static int count_cb(void *ud, const void *rec)
{
    (void)rec;
    return ++*(int *)ud == 1000 ? 7 : 0;
}

/* Growth, shrink and lookups at scale; bytes follow the object count. */
static void test_scale(void)
{
    struct inf_cache *c = inf_cache_new(&proj, NULL, NULL);
    size_t empty = inf_cache_bytes(c);
    char name[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof name, "job-%d", i);
        apply(c, WATCH_ADDED, i % 2 ? "a" : "b", name, "1");
    }
    CHECK_INT(inf_cache_count(c), 20000);
    size_t full = inf_cache_bytes(c);
    CHECK(full > empty);
    /* Overhead per object (record 16 B here) stays small. */
    CHECK((full - empty) / 20000 < 120);
    int misses = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof name, "job-%d", i);
        if (!inf_cache_get(c, i % 2 ? "a" : "b", name) || inf_cache_get(c, i % 2 ? "b" : "a", name))
            misses++;
    }
    CHECK_INT(misses, 0);
    int n = 0;
    CHECK_INT(inf_cache_foreach(c, count_cb, &n), 7);
    CHECK_INT(n, 1000);
    inf_cache_replace_begin(c);
    put(c, "a", "job-1", "1");
    inf_cache_replace_end(c);
    CHECK_INT(inf_cache_count(c), 1);
    CHECK(inf_cache_bytes(c) < empty + 1024);
    inf_cache_free(c);
    CHECK_INT(live_records, 0);
}

static void test_bad_projection(void)
{
    struct inf_projection p = {0, rec_project, rec_release};
    CHECK(inf_cache_new(&p, NULL, NULL) == NULL);
    p.size = INF_RECORD_MAX + 1;
    CHECK(inf_cache_new(&p, NULL, NULL) == NULL);
    p.size = 8;
    p.project = NULL;
    CHECK(inf_cache_new(&p, NULL, NULL) == NULL);
}

int main(void)
{
    RUN(test_watch_events);
    RUN(test_cluster_scoped);
    RUN(test_malformed);
    RUN(test_relist_diff);
    RUN(test_relist_abandoned);
    RUN(test_apply_during_relist);
    RUN(test_projection_lifecycle);
    RUN(test_mute);
    RUN(test_scale);
    RUN(test_bad_projection);
    return check_finish();
}
