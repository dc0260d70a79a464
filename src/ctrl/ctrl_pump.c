/* The work queue's pump: keys in (ctrl_enqueue, from the handlers), one
 * reconcile per key at a time out (c->work), at most c->workers at once,
 * timed keys woken when due. It knows the executor and the lifecycle only
 * through c->work and c->drained, set by ctrl_new. */
#include <stdio.h>

#include "ctrl/ctrl-internal.h"

/* --- instrumentation: when a key was queued -------------------------------- */

uint64_t ctrl_enq_take(struct ctrl *c, const char *key)
{
    uint64_t ns = 0;
    if (ctrl_stamp_get(c->enq, key, &ns))
        ctrl_stamp_del(c->enq, key);
    return ns;
}

/* A lost sample (out of memory) costs nothing else. */
void ctrl_enq_restore(struct ctrl *c, const char *key, uint64_t ns)
{
    if (ns)
        (void)ctrl_stamp_set(c->enq, key, ns, 1);
}

int ctrl_synced(const struct ctrl *c)
{
    for (int i = 0; i < CTRL_INF_MAX; i++)
        if (!c->inf[i] || !inf_synced(c->inf[i]))
            return 0;
    return 1;
}

static void pump_cb(uv_timer_t *t);

/* Arms the pump for the earliest moment the queue may have work. */
static void arm(struct ctrl *c, uint64_t due)
{
    if (c->stopping || c->pump_closed)
        return;
    uint64_t now = uv_now(c->loop);
    uint64_t delay = due <= now ? 0 : due - now;
    if (uv_is_active((uv_handle_t *)&c->pump) && uv_timer_get_due_in(&c->pump) <= delay)
        return;
    uv_timer_start(&c->pump, pump_cb, delay, 0);
}

void ctrl_kick(struct ctrl *c)
{
    arm(c, 0);
}

/* The queue key "<kind>:<ns>/<name>"; -1 if it does not fit. */
static int key_of(char key[CTRL_KEY_LEN], char kind, const char *ns, const char *name)
{
    int n = snprintf(key, CTRL_KEY_LEN, "%c:%s/%s", kind, ns ? ns : "", name);
    return n < 0 || n >= CTRL_KEY_LEN ? -1 : 0;
}

void ctrl_enqueue(struct ctrl *c, char kind, const char *ns, const char *name)
{
    char key[CTRL_KEY_LEN];
    if (key_of(key, kind, ns, name) < 0)
        return;
    if (wq_add(c->q, key) == 0) {
        ctrl_enq_restore(c, key, uv_hrtime());
        ctrl_kick(c);
    }
}

void ctrl_enqueue_soon(struct ctrl *c, char kind, const char *ns, const char *name)
{
    char key[CTRL_KEY_LEN];
    if (key_of(key, kind, ns, name) < 0)
        return;
    /* No latency stamp: the delay is chosen, not queueing. */
    if (wq_add_within(c->q, key, CTRL_BATCH_MS, uv_now(c->loop)) == 0 &&
        wq_next_deadline_ms(c->q) != WQ_NO_DEADLINE)
        arm(c, wq_next_deadline_ms(c->q));
}

static void pump_cb(uv_timer_t *t)
{
    struct ctrl *c = t->data;
    /* Plans are only worth computing from complete caches. */
    if (!ctrl_synced(c))
        return;
    uint64_t now = uv_now(c->loop);
    const char *key;
    while (!c->stopping && c->in_flight < (size_t)c->workers && (key = wq_get(c->q, now))) {
        c->in_flight++;
        c->work(c, key);
    }
    c->stats.queue_depth = wq_len(c->q);
    /* Every worker busy: ctrl_reconcile_done kicks the pump when one frees
     * up. Arming for a delayed key that is already due would fire this
     * timer again at once, before any I/O is polled, so no worker could
     * ever finish: libuv < 1.45 runs such a timer in the same loop pass,
     * forever (found by bench/bench_controller.c: the loop spun at 100% CPU
     * with 64 workers busy and a 1 s stale-cache recheck due). */
    if (c->in_flight >= (size_t)c->workers)
        return;
    if (wq_len(c->q) && c->in_flight < (size_t)c->workers)
        arm(c, now);
    else if (wq_next_deadline_ms(c->q) != WQ_NO_DEADLINE)
        arm(c, wq_next_deadline_ms(c->q));
}

void ctrl_reconcile_done(struct ctrl *c)
{
    c->in_flight--;
    if (c->stopping)
        c->drained(c);
    else
        ctrl_kick(c);
}
