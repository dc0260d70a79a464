/* informer - a list+watch cache of one resource, kept on the kube client's loop.
 *
 *   struct inf *jobs;
 *   inf_new(client, loop, &KUBE_JOBS, NULL, "runbook.dev/run", NULL,
 *           &job_projection, &job_handlers, app, &jobs);
 *   inf_start(jobs);
 *   ...                                   // handlers fire on the loop
 *   const struct job_rec *j = inf_get(jobs, "ns", "build-1");
 *   ...
 *   inf_close(jobs, on_closed, app);      // then, in on_closed: inf_free(jobs)
 *
 * Protocol (client-go's reflector, tools/cache/reflector.go): a paginated list
 * (limit 500 + continue, always a consistent read), then a watch from the
 * list's resourceVersion with allowWatchBookmarks and timeoutSeconds drawn
 * in [300, 600]. Every event's resourceVersion, bookmarks included, is kept;
 * a watch that ends normally is reopened from it without a list. A 410
 * (HTTP status, or an ERROR event with code 410 / reason Expired or Gone)
 * starts a relist whose result is diffed against the cache, so objects
 * deleted while the watch was down get on_delete. Errors back off 0.8 s
 * doubling to 30 s with jitter; a watch that lived 60 s or delivered an
 * event resets the backoff. A malformed stream restarts the watch.
 *
 * The cache keeps a caller-chosen projection of each object (a fixed-size
 * record, see struct inf_projection), never JSON, keyed by namespace/name.
 *
 * Handlers run on the loop, one at a time, in the order the server sent the
 * changes. The cache is updated before a handler runs, so inf_get inside
 * on_update sees the new record. Records handed to handlers are valid for
 * the call only; look them up again with inf_get later. Handlers may call
 * inf_close but never inf_free.
 *
 * Returns: 0 or a negative errno (libuv style). Not thread-safe: every call
 * on the loop's thread. */
#ifndef RB_INFORMER_H
#define RB_INFORMER_H

#include "kjson/kjson.h"
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct json_object;
struct kube_client;
struct kube_resource;
struct inf;

/* Records are aligned for pointers, int64_t and double; at most this big. */
#define INF_RECORD_MAX 4096

/* What is kept of each object. project() fills a zeroed record of size
 * bytes from obj (borrowed: copy what you keep) and returns 0, or < 0 to
 * reject the object: it is then counted in project_errors and not cached
 * (an already cached version stays). release() frees what project()
 * allocated; it runs once per record, also for records that project()
 * rejected (it must cope with a half-filled record). release may be NULL. */
struct inf_projection {
    size_t size;
    int (*project)(struct json_object *obj, void *record);
    void (*release)(void *record);
};

/* Any may be NULL. rec / old_rec / new_rec point at records (see above).
 * on_delete gets the object's last state: from the DELETED event when the
 * watch saw it, else (deleted while the watch was down) the cached one.
 * on_synced fires once, after the first complete list was delivered as
 * on_add calls. */
struct inf_handlers {
    void (*on_add)(void *ud, const void *rec);
    void (*on_update)(void *ud, const void *old_rec, const void *new_rec);
    void (*on_delete)(void *ud, const void *rec);
    void (*on_synced)(void *ud);
};

/* Tuning; a zero field keeps the default. Tests shorten these. */
struct inf_options {
    long page_limit;          /* list page size; default 500 */
    long watch_timeout_min_s; /* timeoutSeconds drawn in [min, max]; 300 */
    long watch_timeout_max_s; /* 600 */
    long backoff_base_ms;     /* 800 */
    long backoff_cap_ms;      /* 30000 */
    long healthy_ms;          /* a watch living this long resets the backoff; 60000 */
    size_t max_event_bytes;   /* one watch event; default WATCH_DECODER_DEFAULT_MAX */
};

/* Counters for /metrics; objects and cache_bytes are gauges. */
struct inf_stats {
    uint64_t lists;                  /* complete lists, the first included */
    uint64_t relists;                /* complete lists after the first */
    uint64_t list_pages;             /* pages received */
    uint64_t list_errors;            /* list attempts that failed (after kube's retries) */
    uint64_t watches;                /* watch requests opened */
    uint64_t watch_restarts;         /* watches opened after the first */
    uint64_t watch_errors;           /* watches that ended with an error, 410s included */
    uint64_t gone;                   /* 410 / Expired, either form */
    uint64_t malformed;              /* streams dropped as malformed */
    uint64_t events[5];              /* by enum watch_event_type */
    uint64_t adds, updates, deletes; /* handler deliveries */
    uint64_t duplicates;             /* events for a resourceVersion already cached */
    uint64_t project_errors;         /* objects the projection rejected */
    uint64_t objects;                /* records cached */
    uint64_t cache_bytes; /* heap held by the cache, excluding what project() allocates */
};

/* ns NULL: all namespaces (or a cluster-scoped resource). Selectors may be
 * NULL. Strings, res, proj and h are copied or must outlive the informer
 * (res and proj are usually static). Does no I/O. -EINVAL for a record
 * size of 0 or over INF_RECORD_MAX or a NULL project; -ENOMEM. */
int inf_new(struct kube_client *client, uv_loop_t *loop, const struct kube_resource *res,
            const char *ns, const char *label_selector, const char *field_selector,
            const struct inf_projection *proj, const struct inf_handlers *h, void *ud,
            struct inf **out);

/* Before inf_start only (-EBUSY after). */
int inf_configure(struct inf *inf, const struct inf_options *opt);

/* Begins the first list. -EBUSY if already started or closing. */
int inf_start(struct inf *inf);

/* For tests and replays, on an informer never started (-EBUSY otherwise):
 * inf_feed applies one object as a watch event of that type ("ADDED",
 * "MODIFIED", "DELETED"; -EINVAL for others), with the handlers, exactly
 * as if the watch had delivered it (same returns as a cache update);
 * inf_feed_synced marks the first list done (on_synced fires once). */
int inf_feed(struct inf *inf, const char *type, struct json_object *obj);
int inf_feed_synced(struct inf *inf);

/* Stops listing and watching: the request in flight is cancelled (or, for a
 * list page, its result ignored), no handler runs after this returns, and
 * closed(inf, ud) is called from the loop once no I/O or handle of the
 * informer remains. The cache stays readable; free it with inf_free, in
 * closed or later. Idempotent; closed may be NULL. */
void inf_close(struct inf *inf, void (*closed)(struct inf *inf, void *ud), void *ud);

/* Frees the cache (release() for every record). Only before inf_start or
 * after closed has run; NULL is fine. */
void inf_free(struct inf *inf);

/* True once the first list has been delivered. */
int inf_synced(const struct inf *inf);

/* The record of ns/name (ns "" or NULL for cluster-scoped), or NULL. Valid
 * until the next handler call or return to the loop. */
const void *inf_get(const struct inf *inf, const char *ns, const char *name);

/* Calls fn for every record, in no particular order, until it returns
 * non-zero (which is returned). fn must not change the informer. */
int inf_foreach(const struct inf *inf, int (*fn)(void *ud, const void *rec), void *ud);

size_t inf_count(const struct inf *inf);
void inf_get_stats(const struct inf *inf, struct inf_stats *out);

/* The resourceVersion the next watch would start from, "" when a list is
 * due. Borrowed; changes as events arrive. */
const char *inf_resource_version(const struct inf *inf);

/* The key and resourceVersion of any record the informer handed out. */
const char *inf_rec_namespace(const void *rec); /* "" for cluster-scoped */
const char *inf_rec_name(const void *rec);
const char *inf_rec_rv(const void *rec);

#endif
