/* The elector: one request at a time, two timers. lease_record.c holds the
 * rule; this file holds the I/O and the clocks.
 *
 * States: NEW -> RUNNING -> (RELEASING -> STOPPED) -> CLOSING -> CLOSED.
 * `timer` paces attempts (and defers release work onto the loop);
 * `deadline` is the renew deadline while leading and the release timeout
 * while releasing. */
#include "lease/lease.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "kube/kube.h"
#include "limit/limit.h"
#include "log/log.h"

enum state { ST_NEW = 0, ST_RUNNING, ST_RELEASING, ST_STOPPED, ST_CLOSING };

enum op { OP_GET, OP_CREATE, OP_UPDATE, OP_RELEASE };

struct lease;

/* One request in flight. Separate from the lease so that lease_close need
 * not wait for it: close sets l to NULL and the callback just frees it. */
struct req {
    struct lease *l;
    enum op op;
    uint64_t sent_ms;
};

struct lease {
    uv_loop_t *loop;
    struct kube_client *kc;
    char *name, *ns, *identity;
    long duration_ms, deadline_ms, retry_ms;
    lease_cb cb;
    void *ud;

    enum state state;
    int leading;
    int notify_lost; /* releasing: cb(ud, 0) still owed */
    uv_timer_t timer, deadline;
    int open_handles;
    struct req *req;

    struct json_object *obj; /* the Lease as last read or written (ours), NULL: unknown */
    int missing;             /* the last GET said 404 */
    int reread;              /* releasing: a write's outcome is unknown, GET first */
    int conflicts;           /* 409s in a row; past a few, back off */
    int denied_said;         /* a 401/403 was logged; again only after a success */
    struct lease_observed seen;
    uint64_t rng;

    void (*done)(void *ud);
    void *done_ud;
    void (*closed)(void *ud);
    void *closed_ud;
};

static void attempt(struct lease *l);
static void release_next(struct lease *l);

static uint64_t now_ms(struct lease *l)
{
    /* The loop's cached time may lag by a callback's run time: refresh it
     * so observations and deadlines are measured when they happen. */
    uv_update_time(l->loop);
    return uv_now(l->loop);
}

static void wall_time(char out[LEASE_TIME_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (lease_format_time((int64_t)ts.tv_sec, ts.tv_nsec, out) < 0)
        snprintf(out, LEASE_TIME_LEN, "%s", "1970-01-01T00:00:00.000000Z");
}

/* Keeps obj (a new reference is taken) and notes whether it changed.
 * -EINVAL for an object we cannot read: the caller retries later rather
 * than act on what it held before. */
static int remember(struct lease *l, struct json_object *obj)
{
    struct lease_record r;
    const char *rv = NULL;
    if (lease_record_parse(obj, &r, &rv) < 0) {
        log_kv(LOGL_WARN, "lease: unreadable Lease object", "lease", l->name, NULL);
        return -EINVAL;
    }
    json_object_put(l->obj);
    l->obj = json_object_get(obj);
    l->missing = 0;
    lease_observe(&l->seen, r.holder, r.renew_time, rv, now_ms(l));
    return 0;
}

static void set_leading(struct lease *l, int leading, const char *why)
{
    if (l->leading == leading)
        return;
    l->leading = leading;
    if (leading) {
        log_kv(LOGL_INFO, "lease: became leader", "lease", l->name, "namespace", l->ns, "identity",
               l->identity, NULL);
    } else {
        uv_timer_stop(&l->deadline);
        log_kv(LOGL_WARN, "lease: stopped leading", "lease", l->name, "namespace", l->ns,
               "identity", l->identity, "reason", why, NULL);
    }
    l->cb(l->ud, leading);
}

/* Releasing: the cb(ud, 0) owed since lease_release, if not yet made.
 * Returns 1 when cb closed the lease. */
static int pay_lost(struct lease *l)
{
    if (!l->notify_lost)
        return 0;
    l->notify_lost = 0;
    l->cb(l->ud, 0);
    return l->state != ST_RELEASING;
}

static void on_timer(uv_timer_t *t)
{
    struct lease *l = t->data;
    if (l->state == ST_RUNNING)
        attempt(l);
    else if (l->state == ST_RELEASING && !pay_lost(l) && !l->req)
        release_next(l);
}

/* Candidates spread out by up to 20% so they do not march in step; the
 * leader renews on the beat. */
static void schedule(struct lease *l, uint64_t ms)
{
    if (!l->leading && ms > 0)
        ms += (uint64_t)((double)ms * 0.2 * limit_rand01(&l->rng));
    uv_timer_start(&l->timer, on_timer, ms, 0);
}

static void finish_release(struct lease *l)
{
    if (pay_lost(l))
        return;
    uv_timer_stop(&l->timer);
    uv_timer_stop(&l->deadline);
    l->state = ST_STOPPED;
    if (l->done)
        l->done(l->done_ud);
}

static void on_deadline(uv_timer_t *t)
{
    struct lease *l = t->data;
    if (l->state == ST_RELEASING) {
        log_kv(LOGL_WARN, "lease: release timed out; the Lease will expire instead", "lease",
               l->name, NULL);
        if (l->req) {
            l->req->l = NULL; /* its answer no longer matters */
            l->req = NULL;
        }
        finish_release(l);
    } else if (l->state == ST_RUNNING) {
        set_leading(l, 0, "renew deadline passed");
    }
}

static void on_result(void *ud, const struct kube_result *r);

/* Sends one request; on a refusal (client closing, no memory) returns < 0
 * with nothing in flight. */
static int request(struct lease *l, enum op op, struct json_object *body)
{
    struct req *q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    q->l = l;
    q->op = op;
    q->sent_ms = now_ms(l);
    int rc;
    switch (op) {
    case OP_GET:
        rc = kube_get(l->kc, &KUBE_LEASES, l->ns, l->name, on_result, q);
        break;
    case OP_CREATE:
        rc = kube_create(l->kc, &KUBE_LEASES, l->ns, body, on_result, q);
        break;
    default:
        rc = kube_update(l->kc, &KUBE_LEASES, l->ns, l->name, body, on_result, q);
        break;
    }
    if (rc < 0) {
        free(q);
        return rc;
    }
    l->req = q;
    return 0;
}

/* The body of a write: our last copy (so resourceVersion, labels and
 * anything else are kept) with the new spec, or a new object. */
static int write_spec(struct lease *l, enum op op, const struct lease_record *spec)
{
    if (op != OP_CREATE && !l->obj)
        return -EINVAL;
    struct json_object *body = op == OP_CREATE ? lease_object_new(l->name, l->ns, spec) : NULL;
    if (op != OP_CREATE && json_object_deep_copy(l->obj, &body, NULL) == 0 &&
        lease_record_apply(body, spec) < 0) {
        json_object_put(body);
        body = NULL;
    }
    if (!body)
        return -ENOMEM;
    int rc = request(l, op, body);
    json_object_put(body); /* serialized by the call */
    return rc;
}

static void attempt(struct lease *l)
{
    if (l->req)
        return;
    /* A GET unless we lead: then our copy is current (fast path). */
    if (!l->leading || !l->obj) {
        if (request(l, OP_GET, NULL) < 0)
            schedule(l, (uint64_t)l->retry_ms);
        return;
    }
    char now[LEASE_TIME_LEN];
    wall_time(now);
    struct lease_record seen, spec;
    if (lease_record_parse(l->obj, &seen, NULL) < 0) {
        schedule(l, (uint64_t)l->retry_ms);
        return;
    }
    struct lease_input in = {&seen,     l->identity,        l->duration_ms,
                             now_ms(l), l->seen.changed_ms, now};
    lease_decide(&in, &spec, NULL); /* holder is us: LEASE_RENEW */
    if (write_spec(l, OP_UPDATE, &spec) < 0)
        schedule(l, (uint64_t)l->retry_ms);
}

/* After a GET: apply the rule. */
static void decide(struct lease *l)
{
    char now[LEASE_TIME_LEN];
    wall_time(now);
    struct lease_record seen = {0}, spec;
    struct lease_input in = {NULL, l->identity, l->duration_ms, now_ms(l), l->seen.changed_ms, now};
    if (!l->missing) {
        if (!l->obj || lease_record_parse(l->obj, &seen, NULL) < 0) {
            schedule(l, (uint64_t)l->retry_ms);
            return;
        }
        in.seen = &seen;
    }
    uint64_t wait = 0;
    enum lease_action a = lease_decide(&in, &spec, &wait);
    if (a != LEASE_RENEW && l->leading) {
        /* Someone else wrote a holder: whatever happens next, what we held is gone. */
        set_leading(l, 0, "the Lease names another holder");
        if (l->state != ST_RUNNING)
            return;
    }
    int rc = 0;
    switch (a) {
    case LEASE_WAIT:
        l->conflicts = 0;
        if (log_enabled(LOGL_DEBUG))
            log_kv(LOGL_DEBUG, "lease: held by another", "lease", l->name, "holder", seen.holder,
                   NULL);
        schedule(l, (uint64_t)l->retry_ms);
        return;
    case LEASE_CREATE:
        rc = write_spec(l, OP_CREATE, &spec);
        break;
    case LEASE_ACQUIRE:
    case LEASE_RENEW:
        rc = write_spec(l, OP_UPDATE, &spec);
        break;
    }
    if (rc < 0)
        schedule(l, (uint64_t)l->retry_ms);
}

static int is_2xx(struct lease *l, const struct kube_result *r)
{
    int ok = r->err == 0 && r->http_status >= 200 && r->http_status < 300 && r->body;
    if (ok)
        l->denied_said = 0;
    return ok;
}

/* A standby retries every retry period, so its failures are debug noise,
 * except a refusal (401, 403): that one never heals by itself (RBAC, a
 * Lease name the Role does not cover) and a standby that can never lead
 * must say so, once, until a request works again. */
static void log_failure(struct lease *l, const char *what, const struct kube_result *r)
{
    char code[16];
    enum log_level lvl = l->leading ? LOGL_WARN : LOGL_DEBUG;
    if (r->err == 0 && (r->http_status == 401 || r->http_status == 403) && !l->denied_said) {
        l->denied_said = 1;
        lvl = LOGL_WARN;
    }
    snprintf(code, sizeof code, "%ld", r->http_status);
    log_kv(lvl, what, "lease", l->name, "http", code, "error",
           r->err ? strerror(-r->err) : r->status.message, NULL);
}

/* A write of ours (create, acquire, renew) came back. */
static void on_written(struct lease *l, const struct req *q, const struct kube_result *r)
{
    if (is_2xx(l, r) && remember(l, r->body) == 0) {
        l->conflicts = 0;
        uint64_t now = now_ms(l);
        /* The deadline counts from when the write was SENT: others saw it
         * later still, so they wait at least lease_duration beyond that. A
         * success that took longer than the deadline is not worth leading
         * on; the next attempt renews afresh. */
        if (now - q->sent_ms < (uint64_t)l->deadline_ms) {
            uv_timer_start(&l->deadline, on_deadline, q->sent_ms + (uint64_t)l->deadline_ms - now,
                           0);
            set_leading(l, 1, NULL);
            if (l->state != ST_RUNNING)
                return;
        }
        schedule(l, (uint64_t)l->retry_ms);
        return;
    }
    if (r->err == 0 && (r->http_status == 409 || r->http_status == 404)) {
        /* Another writer got there first (or created or deleted it): read
         * what won, at once. Conflicts that keep coming (a server that
         * disagrees with its own GET) wait for the next beat instead. */
        if (++l->conflicts > 3 || request(l, OP_GET, NULL) < 0)
            schedule(l, (uint64_t)l->retry_ms);
        return;
    }
    /* Anything else: unknown outcome. Try again on the beat; if the write
     * did land, the next one gets a 409 and re-reads. */
    log_failure(l, "lease: write failed", r);
    schedule(l, (uint64_t)l->retry_ms);
}

static void on_running(struct lease *l, const struct req *q, const struct kube_result *r)
{
    if (q->op != OP_GET) {
        on_written(l, q, r);
        return;
    }
    if (is_2xx(l, r)) {
        if (remember(l, r->body) == 0)
            decide(l);
        else
            schedule(l, (uint64_t)l->retry_ms);
    } else if (r->err == 0 && r->http_status == 404) {
        l->missing = 1;
        decide(l);
    } else {
        log_failure(l, "lease: read failed", r);
        schedule(l, (uint64_t)l->retry_ms);
    }
}

/* Releasing: whatever came back, find out whether we hold the Lease. */
static void on_releasing(struct lease *l, const struct req *q, const struct kube_result *r)
{
    if (is_2xx(l, r)) {
        if (remember(l, r->body) < 0) {
            finish_release(l);
            return;
        }
        l->reread = 0;
        if (q->op == OP_RELEASE) {
            log_kv(LOGL_INFO, "lease: released", "lease", l->name, "identity", l->identity, NULL);
            finish_release(l);
            return;
        }
        release_next(l);
    } else if (r->err == 0 && r->http_status == 404) {
        finish_release(l); /* no Lease, nothing to release */
    } else if (r->err == 0 && r->http_status == 409) {
        l->reread = 1;
        release_next(l);
    } else {
        /* A write whose outcome is unknown may have made us the holder:
         * re-read soon. The release timeout bounds the retries. */
        log_failure(l, "lease: release request failed", r);
        if (q->op != OP_GET)
            l->reread = 1;
        if (l->reread)
            uv_timer_start(&l->timer, on_timer, (uint64_t)l->retry_ms / 2, 0);
        else
            release_next(l);
    }
}

static void on_result(void *ud, const struct kube_result *r)
{
    struct req *q = ud;
    struct lease *l = q->l;
    if (l) {
        l->req = NULL;
        if (l->state == ST_RUNNING)
            on_running(l, q, r);
        else if (l->state == ST_RELEASING)
            on_releasing(l, q, r);
    }
    free(q);
}

/* Releasing, nothing in flight: write the release if we hold the Lease
 * (as far as we know), else done. */
static void release_next(struct lease *l)
{
    if (l->reread) {
        if (request(l, OP_GET, NULL) < 0)
            finish_release(l);
        return;
    }
    struct lease_record cur;
    if (!l->obj || lease_record_parse(l->obj, &cur, NULL) < 0 ||
        strcmp(cur.holder, l->identity) != 0) {
        finish_release(l);
        return;
    }
    /* client-go's release: no holder, a 1 s duration, times now. */
    char now[LEASE_TIME_LEN];
    wall_time(now);
    struct lease_record rel = {"", 1, now, now, cur.transitions};
    if (write_spec(l, OP_RELEASE, &rel) < 0)
        finish_release(l);
}

int lease_release(struct lease *l, void (*done)(void *ud), void *ud)
{
    if (l->state != ST_NEW && l->state != ST_RUNNING)
        return -EBUSY;
    l->done = done;
    l->done_ud = ud;
    if (l->state == ST_NEW) {
        l->state = ST_RELEASING; /* never started: nothing to give up */
    } else {
        l->state = ST_RELEASING;
        l->notify_lost = l->leading;
        l->leading = 0;
        uv_timer_start(&l->deadline, on_deadline, (uint64_t)l->deadline_ms, 0);
    }
    /* From the loop: cb and done are never called from inside a lease_ call. */
    uv_timer_start(&l->timer, on_timer, 0, 0);
    return 0;
}

int lease_start(struct lease *l)
{
    if (l->state != ST_NEW)
        return -EBUSY;
    l->state = ST_RUNNING;
    uv_timer_start(&l->timer, on_timer, 0, 0);
    return 0;
}

int lease_leading(const struct lease *l)
{
    return l->leading;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct lease *l = h->data;
    if (--l->open_handles == 0 && l->closed)
        l->closed(l->closed_ud);
}

void lease_close(struct lease *l, void (*closed)(void *ud), void *ud)
{
    if (l->state == ST_CLOSING)
        return;
    l->state = ST_CLOSING;
    l->leading = 0;
    l->closed = closed;
    l->closed_ud = ud;
    if (l->req) {
        l->req->l = NULL;
        l->req = NULL;
    }
    uv_close((uv_handle_t *)&l->timer, on_handle_closed);
    uv_close((uv_handle_t *)&l->deadline, on_handle_closed);
}

static long or_default(long v, long def)
{
    return v == 0 ? def : v;
}

int lease_new(uv_loop_t *loop, struct kube_client *kc, const struct lease_options *o, lease_cb cb,
              void *ud, struct lease **out)
{
    if (!loop || !kc || !o || !cb || !out || !o->name || !o->name[0] || !o->namespace ||
        !o->namespace[0] || !o->identity || !o->identity[0])
        return -EINVAL;
    long dur = or_default(o->lease_duration_ms, LEASE_DEFAULT_DURATION_MS);
    long dl = or_default(o->renew_deadline_ms, LEASE_DEFAULT_RENEW_DEADLINE_MS);
    long retry = or_default(o->retry_period_ms, LEASE_DEFAULT_RETRY_PERIOD_MS);
    /* client-go's rule: renewals must get several tries within the
     * deadline, and the deadline must end before others may take over. */
    if (dur <= 0 || dl <= 0 || retry <= 0 || dur <= dl || (double)dl <= 1.2 * (double)retry ||
        dur > 24L * 3600 * 1000)
        return -EINVAL;

    struct lease *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->name = strdup(o->name);
    l->ns = strdup(o->namespace);
    l->identity = strdup(o->identity);
    if (!l->name || !l->ns || !l->identity) {
        free(l->name);
        free(l->ns);
        free(l->identity);
        free(l);
        return -ENOMEM;
    }
    l->loop = loop;
    l->kc = kc;
    l->cb = cb;
    l->ud = ud;
    l->duration_ms = dur;
    l->deadline_ms = dl;
    l->retry_ms = retry;
    l->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)l;
    uv_timer_init(loop, &l->timer);
    uv_timer_init(loop, &l->deadline);
    l->timer.data = l->deadline.data = l;
    l->open_handles = 2;
    *out = l;
    return 0;
}

void lease_free(struct lease *l)
{
    if (!l)
        return;
    json_object_put(l->obj);
    lease_observed_clear(&l->seen);
    free(l->name);
    free(l->ns);
    free(l->identity);
    free(l);
}
