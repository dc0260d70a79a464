/* lease - leader election on a coordination.k8s.io/v1 Lease, as client-go's
 * tools/leaderelection does it.
 *
 *   struct lease_options lo = {.name = "runbook", .namespace = ns, .identity = pod};
 *   lease_new(loop, kc, &lo, on_leading, app, &l);   // then lease_start(l)
 *   ...
 *   on_leading(app, 1)   we hold the Lease: start writing
 *   on_leading(app, 0)   we lost it: stop writing at once (then exit)
 *   ...
 *   lease_release(l, on_released, app);  // on shutdown, after the writers stopped
 *   lease_close(l, on_closed, app);      // in on_closed (or later): lease_free(l)
 *
 * The algorithm:
 *  - Candidates GET the Lease every retry_period (plus up to 20% jitter) and
 *    create it when missing (a 409 means another candidate did: re-get).
 *  - A Lease is free when its holderIdentity is empty or ours, or when it
 *    has EXPIRED: lease duration (the Lease's leaseDurationSeconds, else
 *    ours) has passed on OUR monotonic clock since we last saw its
 *    (holderIdentity, renewTime, resourceVersion) change. The remote
 *    renewTime is never compared with our wall clock, so clock skew between
 *    machines does not matter (a different clock RATE would). A candidate
 *    that starts therefore always waits a full lease duration before it
 *    takes over a Lease another holder left behind.
 *  - Taking it is a PUT carrying the resourceVersion we read: of two racing
 *    candidates one gets 200, the other 409 (and re-gets). Optimistic
 *    concurrency is the lock. leaseTransitions grows by one on a takeover.
 *  - The leader renews every retry_period (a PUT of the object from its
 *    last write, no GET). When no renewal has succeeded for renew_deadline,
 *    counted from when the last successful one was SENT, it stops leading
 *    at once: cb(ud, 0), even with a request still in flight. Others cannot
 *    take over before lease_duration after they saw that write, which was
 *    made after we sent it, so a leader that obeys cb(0) does not overlap
 *    with the next one unless clocks run at different rates.
 *  - There is no fencing (client-go has none either): a leader that is
 *    paused (SIGSTOP, a swapped-out VM) past the deadline only learns it
 *    when it runs again. Every write the leader makes must be safe to
 *    repeat.
 *  - After losing, the elector carries on as a candidate (and may call
 *    cb(ud, 1) again); the operator normally exits on cb(ud, 0) instead.
 *
 * Threading and callbacks: loop thread only. cb, done and closed are only
 * called from the loop, never from inside a lease_ call. cb is called only
 * on a change (1 after 0, 0 after 1; the first call is always 1). Any lease_
 * function may be called from inside cb.
 *
 * Ownership: lease_new copies the option strings; the loop and the kube
 * client are borrowed and must outlive the lease (until closed has run).
 * Requests still in flight when the lease closes are left to finish (the
 * kube client has no per-request cancel): they no longer refer to the
 * lease, so it can be freed at once, and kube_client_close ends them.
 *
 * The kube client: renewals wait in its rate limiter like any request, so
 * give the elector a client of its own (qps < 0), or controller traffic
 * can starve them past the deadline. Its request timeout may exceed the
 * deadline: leadership ends on our timer, not on the request's.
 *
 * Returns: int functions return 0 or a negative errno. */
#ifndef RB_LEASE_H
#define RB_LEASE_H

#include <stdint.h>

#include <uv.h>

struct json_object;
struct kube_client;
struct lease;

/* Zero durations mean the defaults. lease_new checks client-go's rule
 * lease_duration > renew_deadline > 1.2 * retry_period. The Lease records
 * the duration in whole seconds, rounded up. */
struct lease_options {
    const char *name;       /* the Lease object's name (required) */
    const char *namespace;  /* its namespace (required) */
    const char *identity;   /* ours, unique among candidates: pod name (required) */
    long lease_duration_ms; /* 0: 15000. How long others wait for a silent holder */
    long renew_deadline_ms; /* 0: 10000. How long the leader keeps trying to renew */
    long retry_period_ms;   /* 0: 2000. Between attempts (renewals and candidates) */
};

#define LEASE_DEFAULT_DURATION_MS 15000
#define LEASE_DEFAULT_RENEW_DEADLINE_MS 10000
#define LEASE_DEFAULT_RETRY_PERIOD_MS 2000

/* leading is 1 when we became leader, 0 when we stopped being it. */
typedef void (*lease_cb)(void *ud, int leading);

/* Builds an idle elector (no I/O until lease_start). -EINVAL for a missing
 * string, a negative duration or durations out of order; -ENOMEM. On
 * error nothing is allocated and *out is untouched. */
int lease_new(uv_loop_t *loop, struct kube_client *kc, const struct lease_options *o, lease_cb cb,
              void *ud, struct lease **out);

/* Starts campaigning (the first GET is sent from the loop). -EBUSY when
 * already started, released or closing. */
int lease_start(struct lease *l);

/* 1 while we lead: between cb(ud, 1) and cb(ud, 0), lease_release or
 * lease_close. */
int lease_leading(const struct lease *l);

/* Gives the Lease up for a graceful shutdown (client-go's ReleaseOnCancel).
 * Call it once the writers have stopped: lease_leading() is 0 from now on
 * and no attempt is made after this. If we hold the Lease (or a request
 * in flight makes us hold it) it is written with holderIdentity "",
 * leaseDurationSeconds 1 and renewTime now, so a candidate takes over at
 * its next attempt instead of after lease_duration. If we were leading,
 * cb(ud, 0) comes (from the loop) before done. done(ud) is called exactly
 * once: when the write is done, when there was nothing to release, or
 * after renew_deadline at most (then the Lease simply expires). -EBUSY
 * when already released or closing: done is then never called. */
int lease_release(struct lease *l, void (*done)(void *ud), void *ud);

/* Stops everything at once WITHOUT releasing (the Lease then expires after
 * lease_duration, as after a crash). No cb or done is called after this;
 * closed(ud) (may be NULL) is called from the loop once the timers are
 * closed. Safe in any state, once. */
void lease_close(struct lease *l, void (*closed)(void *ud), void *ud);

/* Only after closed has run; NULL is fine. */
void lease_free(struct lease *l);

/* ---- the pure parts, exposed for the unit tests ---------------------------
 * No I/O, no clock: time comes in as arguments. */

/* A Lease's spec. Strings are borrowed (from the JSON, or from the inputs of
 * lease_decide); "" when unset (lease_decide also reads NULL as ""). */
struct lease_record {
    const char *holder;       /* holderIdentity */
    long duration_s;          /* leaseDurationSeconds; 0 when unset */
    const char *acquire_time; /* MicroTime "2026-11-25T05:00:00.123456Z" */
    const char *renew_time;
    long transitions; /* leaseTransitions */
};

enum lease_action {
    LEASE_WAIT = 0, /* held by another and not expired by our clock: try later */
    LEASE_CREATE,   /* there is no Lease: create one with *out */
    LEASE_ACQUIRE,  /* take it over: update with *out (transitions + 1) */
    LEASE_RENEW,    /* it is ours: update with *out */
};

struct lease_input {
    const struct lease_record *seen; /* NULL: the Lease does not exist */
    const char *identity;            /* ours */
    long duration_ms;     /* ours: written (in seconds, rounded up); used when seen has none */
    uint64_t now_ms;      /* monotonic clock (uv_now) */
    uint64_t observed_ms; /* when we last saw seen change (lease_observe), same clock */
    const char *now_time; /* wall clock as MicroTime, for what we write */
};

/* The election rule. For every action but LEASE_WAIT, *out is the spec to
 * write (its strings point into *in). For LEASE_WAIT, *wait_ms (may be NULL)
 * is how long until the Lease expires by our clock (>= 1); 0 otherwise. */
enum lease_action lease_decide(const struct lease_input *in, struct lease_record *out,
                               uint64_t *wait_ms);

/* What we last saw of the Lease, and when it last changed (our clock).
 * Owns its strings. Zero it to start; lease_observed_clear frees it. */
struct lease_observed {
    char *holder, *renew_time, *resource_version;
    uint64_t changed_ms;
    int valid;
};

/* Records a sighting at now_ms. Returns 1 when the triple differs from the
 * previous sighting (or there was none) and changed_ms became now_ms, 0
 * when unchanged, -ENOMEM (then o is cleared, so the next sighting counts
 * as a change: the safe side). NULL strings count as "". */
int lease_observe(struct lease_observed *o, const char *holder, const char *renew_time,
                  const char *resource_version, uint64_t now_ms);
void lease_observed_clear(struct lease_observed *o);

/* Reads spec and metadata.resourceVersion of a Lease object (strings
 * borrowed from it; *rv may be NULL). Missing fields read as ""/0;
 * -EINVAL when obj is not an object or a field has the wrong type. */
int lease_record_parse(struct json_object *obj, struct lease_record *out, const char **rv);

/* Sets the five spec fields of obj (a Lease; spec created if missing),
 * leaving every other field alone; an empty time leaves that field as it
 * was (an empty string is not a MicroTime). -EINVAL, -ENOMEM. */
int lease_record_apply(struct json_object *obj, const struct lease_record *r);

/* A new Lease object to create: {apiVersion, kind, metadata{name,
 * namespace}, spec}. NULL on allocation failure. The caller owns it. */
struct json_object *lease_object_new(const char *name, const char *ns,
                                     const struct lease_record *r);

/* MicroTime: "YYYY-MM-DDTHH:MM:SS.uuuuuuZ", UTC. 28 bytes with the NUL. */
#define LEASE_TIME_LEN 32
int lease_format_time(int64_t sec, long nsec, char out[LEASE_TIME_LEN]);

#endif
