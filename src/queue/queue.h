/* queue - the controller's work queue of object keys ("namespace/name").
 *
 * Same contract as client-go's rate-limited delaying workqueue:
 *  - fair: ready keys come out in the order they became ready (FIFO);
 *  - deduplicated: adding a key that is already waiting is a no-op;
 *  - stingy: a key handed out by wq_get is not handed out again until
 *    wq_done; adding it meanwhile marks it dirty and wq_done re-queues it;
 *  - delayed adds (wq_add_after) wait in a heap; several delays for one key
 *    keep the earliest. When due, the key is added as by wq_add;
 *  - wq_add_rate_limited delays by the worse of a per-key exponential
 *    backoff (base * 2^failures, capped; wq_forget resets it) and an
 *    overall token bucket (qps, burst).
 *
 * There are no timers or threads inside: time is passed in as now_ms (a
 * monotonic clock, e.g. uv_now()), and the owner arms its own timer for
 * wq_next_deadline_ms(). Not thread-safe: use it from one loop thread.
 * All operations are O(1) or O(log n) in the number of keys. */
#ifndef RB_QUEUE_H
#define RB_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct wq;

struct wq_config {
    uint64_t base_delay_ms; /* first per-key backoff, default 5 */
    uint64_t max_delay_ms;  /* per-key backoff cap, default 300000 */
    unsigned qps;           /* token bucket refill per second, default 10; 0 = no bucket */
    unsigned burst;         /* token bucket size, default 100 */
};

/* No deadline pending (wq_next_deadline_ms). */
#define WQ_NO_DEADLINE UINT64_MAX

void wq_config_default(struct wq_config *cfg);

/* cfg NULL means the defaults; it is copied. NULL on allocation failure. */
struct wq *wq_new(const struct wq_config *cfg);
/* Frees every key in any state; strings from wq_get become invalid. */
void wq_free(struct wq *q);

/* Each add returns 0, -EINVAL for a NULL or empty key, or -ENOMEM (the
 * queue is unchanged then). After wq_shutdown they do nothing, return 0. */
int wq_add(struct wq *q, const char *key);
/* delay_ms 0 is wq_add. The key is copied. */
int wq_add_after(struct wq *q, const char *key, uint64_t delay_ms, uint64_t now_ms);
/* Makes sure key is processed within delay_ms: like wq_add_after, except
 * that a key already waiting to be processed (added and not yet handed
 * out, or added again while being processed) needs nothing more. For
 * news that can wait a little to be read together with what follows. */
int wq_add_within(struct wq *q, const char *key, uint64_t delay_ms, uint64_t now_ms);
/* Counts a failure of key and adds it after the backoff. */
int wq_add_rate_limited(struct wq *q, const char *key, uint64_t now_ms);
/* Resets key's failure count (call after a successful reconcile). */
void wq_forget(struct wq *q, const char *key);
/* Failures counted for key since the last wq_forget. */
unsigned wq_num_requeues(const struct wq *q, const char *key);

/* Moves delayed keys due at now_ms to the ready list, then hands out the
 * oldest ready key, or NULL if none (or after wq_shutdown). The string
 * belongs to the queue and stays valid until wq_done for it. */
const char *wq_get(struct wq *q, uint64_t now_ms);
/* Ends processing of key (the string from wq_get or an equal one);
 * re-queues it if it was added meanwhile. No-op if not processing. */
void wq_done(struct wq *q, const char *key);

/* Absolute time of the earliest delayed key, or WQ_NO_DEADLINE. */
uint64_t wq_next_deadline_ms(const struct wq *q);
size_t wq_len(const struct wq *q);            /* ready keys (queue depth metric) */
size_t wq_delayed_len(const struct wq *q);    /* keys waiting for a deadline */
size_t wq_processing_len(const struct wq *q); /* keys between wq_get and wq_done */

/* Stop handing out keys and accepting adds; wq_done still works, so the
 * owner can wait for wq_processing_len() to drop to 0. Unlike client-go,
 * keys still waiting are not drained: the next leader relists anyway. */
void wq_shutdown(struct wq *q);

#endif
