/* inf_sm - the informer's resourceVersion bookkeeping and its decisions
 * after each list or watch: list or watch next, and after what delay. Pure
 * (time and randomness come in as arguments), so the unit tests can walk
 * every path that a cluster only shows under faults.
 *
 * The rules, after client-go's reflector (tools/cache/reflector.go):
 *   - the watch starts from the list's resourceVersion; every event's
 *     resourceVersion, bookmarks included, replaces it; ERROR events don't;
 *   - a watch that ends normally is reopened at once from it, no list;
 *   - 410 (HTTP, or an ERROR event that kstatus_is_gone) forgets it and
 *     lists, at once if the watch had been healthy, else after backoff;
 *   - 504 "too large resource version" lists after backoff;
 *   - a watch closed within 1 s without any event is an error: list after
 *     backoff (a server that closes instead of sending 410 would otherwise
 *     spin);
 *   - 429 / 5xx / transport errors / malformed streams watch again from the
 *     same resourceVersion after backoff, waiting at least Retry-After;
 *   - other 4xx (403, 404 while a CRD is missing, ...) list after backoff;
 *   - a healthy watch (lived healthy_ms, or delivered an event) resets the
 *     backoff; nothing else does, so a server that fails every watch right
 *     after a good list cannot make the informer spin. */
#ifndef RB_INF_SM_H
#define RB_INF_SM_H

#include <stdint.h>

#include "kstatus/kstatus.h"
#include "watch/decoder.h"

/* etcd revisions are 64-bit decimals; the API treats them as opaque, so
 * leave room. Longer ones are refused as malformed. */
#define INF_RV_MAX 128

enum inf_action { INF_ACT_LIST, INF_ACT_WATCH };

struct inf_plan {
    enum inf_action action;
    uint64_t delay_ms;
};

/* How a watch ended. */
struct inf_watch_end {
    int err;                      /* transport error (negative errno), 0 when a response came */
    long http_status;             /* 0 when err != 0 */
    const struct kstatus *status; /* of a non-2xx response or an ERROR event; may be NULL */
    int error_event;              /* the stream ended on an ERROR event (status describes it) */
    int malformed;                /* undecodable stream or object */
    uint64_t events;              /* events received, bookmarks included, ERROR not */
    uint64_t lived_ms;
};

struct inf_sm {
    char rv[INF_RV_MAX]; /* "" when a list is due */
    uint64_t base_ms, cap_ms, healthy_ms;
    uint64_t step_ms; /* the next backoff step; 0 when not backing off */
};

void inf_sm_init(struct inf_sm *sm, uint64_t base_ms, uint64_t cap_ms, uint64_t healthy_ms);

/* A complete list: watch from rv next. -EINVAL (state unchanged) for an
 * empty or over-long rv. */
int inf_sm_listed(struct inf_sm *sm, const char *rv);

/* After every event. -EINVAL for an over-long rv (treat the stream as
 * malformed); NULL or "" rv, and ERROR events, leave the state alone. */
int inf_sm_observe(struct inf_sm *sm, enum watch_event_type type, const char *rv);

/* What to do after the watch ended; rnd in [0, 1) draws the jitter. */
struct inf_plan inf_sm_watch_ended(struct inf_sm *sm, const struct inf_watch_end *e, double rnd);

/* What to do after a list attempt failed (err / http_status / status as in
 * struct inf_watch_end). Always a list, after backoff or Retry-After. */
struct inf_plan inf_sm_list_failed(struct inf_sm *sm, int err, long http_status,
                                   const struct kstatus *status, double rnd);

/* The next backoff delay: the step +-25% (rnd), at most cap_ms; the step
 * starts at base_ms and doubles up to cap_ms. */
uint64_t inf_sm_backoff(struct inf_sm *sm, double rnd);

#endif
