/* trigd - the Trigger runtime: what turns Triggers into WorkflowRuns.
 *
 * src/trigger judges (pure); this module acts, on the daemon's loop:
 *   - an informer on Triggers, on every replica;
 *   - the webhook listener, POST /hooks/<namespace>/<trigger>, on every
 *     replica, leader or not: a delivery's run is named after the delivery
 *     (trig_run_name), so two replicas, a redelivery or a retry after a
 *     timeout all meet AlreadyExists and one run exists (200 the second
 *     time). Nothing is stored but what the API server holds;
 *   - schedules, fired by the leader only (trigd_set_leading), one run per
 *     slot named "<trigger>-<unix minutes>", so a failover cannot fire a
 *     slot twice and a slot missed while no leader existed is fired late
 *     when still within startingDeadlineSeconds;
 *   - the Triggers' status: Ready (leader), lastDelivery and counters (the
 *     replica that served the delivery), lastScheduleTime (leader).
 *
 *   struct trigd *t;
 *   trigd_new(loop, kc, &opts, &t);   // no I/O yet
 *   trigd_start(t);                   // informer + listener
 *   trigd_set_leading(t, 1);          // schedules fire from now on
 *   trigd_close(t, on_closed, ud);    // then keep running the loop
 *
 * Answers of the endpoint, JSON {code, reason, message, run?, skipped?}:
 * 201 created, 200 duplicate (the run exists), 202 skipped by a filter, 400
 * body not JSON or bad delivery id, 401 signature missing or wrong, 404 no
 * such Trigger (or no webhook in it), 413 body too large, 415 not JSON, 422
 * a param cannot be resolved (or the API server refused the run), 429 over
 * the Trigger's rate (Retry-After), 503 not ready to judge: caches not
 * synced, Secret unreadable, Trigger invalid, API server unreachable
 * (Retry-After: the sender retries and nothing is lost).
 *
 * Returns: 0 or a negative errno. Not thread-safe: the loop's thread only. */
#ifndef RB_TRIGD_H
#define RB_TRIGD_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct kube_client;
struct json_object;
struct trigd;

/* Reads a Workflow from a cache the caller keeps (the controller's), for
 * param defaults; NULL when unknown. Borrowed until the loop turns. */
typedef struct json_object *(*trigd_workflow_fn)(void *ud, const char *ns, const char *name);

struct trigd_options {
    const char *namespace; /* only this namespace; NULL: all */
    const char *addr;      /* the webhook listener, e.g. ":8082"; NULL: none */
    const char *tls_cert;  /* PEM files, both or neither (reloaded on change) */
    const char *tls_key;
    size_t max_body;      /* 0: 1 MiB */
    double rate;          /* deliveries/s per Trigger; <= 0: 10 */
    int burst;            /* <= 0: 2 * rate, at least 1 */
    const char *instance; /* reportingInstance of Events; NULL: "runbook" */
    trigd_workflow_fn workflow;
    void *workflow_ud;
    /* Posts an Event about a Trigger (type "Normal"/"Warning"); may be NULL. */
    void (*event)(void *ud, const char *ns, const char *name, const char *uid, const char *type,
                  const char *reason, const char *message);
    void *event_ud;
};

/* Counters for /metrics. */
enum trigd_result {
    TRIGD_CREATED = 0,
    TRIGD_DUPLICATE,
    TRIGD_SKIPPED,
    TRIGD_BAD_REQUEST,
    TRIGD_UNAUTHORIZED,
    TRIGD_NOT_FOUND,
    TRIGD_TOO_LARGE,
    TRIGD_MEDIA_TYPE,
    TRIGD_UNPROCESSABLE,
    TRIGD_RATE_LIMITED,
    TRIGD_UNAVAILABLE,
    TRIGD_RESULT_MAX
};
const char *trigd_result_name(enum trigd_result r); /* "created", ... */

struct trigd_stats {
    uint64_t deliveries[TRIGD_RESULT_MAX]; /* by result, all Triggers */
    uint64_t unknown;   /* requests naming no Trigger (or a bad path): not labelled by name */
    uint64_t scheduled; /* runs created by schedules (201) */
    uint64_t schedule_duplicates; /* slots found already fired (409) */
    uint64_t schedule_missed;     /* slots past startingDeadlineSeconds */
    double schedule_lag_s;        /* the last slot: creation - slot time */
    uint64_t triggers;            /* cached */
    uint64_t status_writes, status_conflicts;
};

int trigd_new(uv_loop_t *loop, struct kube_client *kc, const struct trigd_options *opt,
              struct trigd **out);
/* -EADDRINUSE etc. from the listener; -ENOENT for a TLS file. */
int trigd_start(struct trigd *t);
void trigd_set_leading(struct trigd *t, int leading);
int trigd_synced(const struct trigd *t);
/* The listener's port (tests bind port 0); -ENOTCONN without one. */
int trigd_port(const struct trigd *t);
void trigd_get_stats(const struct trigd *t, struct trigd_stats *out);

/* The Triggers as the informer holds them, for the web UI: obj is the
 * Trigger less managedFields, borrowed for the call; NULL when deleted. */
typedef void (*trigd_obj_fn)(void *ud, const char *ns, const char *name, struct json_object *obj);
/* fn after every change of the cache (one observer; NULL removes it). */
void trigd_observe(struct trigd *t, trigd_obj_fn fn, void *ud);
void trigd_each(const struct trigd *t, trigd_obj_fn fn, void *ud);
/* Per Trigger counters, for labelled metrics: fn(ns, name, result, n). */
void trigd_foreach_counter(const struct trigd *t,
                           void (*fn)(void *ud, const char *ns, const char *name,
                                      enum trigd_result r, uint64_t n),
                           void *ud);
/* Stops the listener (pending deliveries are answered 503), the informer
 * and the timers; frees everything, then closed(ud) from the loop. */
void trigd_close(struct trigd *t, void (*closed)(void *ud), void *ud);

#endif
