/* What this process learned from its own Job creates that the caches and
 * the run's status may not show yet, per run: the creates the API server
 * accepted (with the new Job's uid) and the ones it refused.
 *
 * An accepted create is the proof that the step's Job exists or existed.
 * The status records it up to CTRL_STATUS_COALESCE_MS later (status
 * writes are coalesced) and the Job watch a few milliseconds later; a Job deleted in
 * between would otherwise look never created, and be created again. So a
 * record stays until the run's cached status carries the Job's uid and the
 * Job cache has shown the Job (or 30 s have passed without it). A
 * refusal stays until the step's status is terminal, or a create of that
 * step succeeds. Lost on restart by design: the status holds what matters
 * by then, and a refused create is simply refused again.
 *
 * Also the run's pods the cache no longer shows, as their DELETE event
 * last showed them terminated: a pod the kubelet removes right after its
 * container ended (a torn-down sibling, killed or not) may go before a
 * reconcile saw its exit code, and the step's status would never say how
 * it ended. Kept until the status records that step's exit code, or the
 * step Succeeded, or the run is terminal; at most MEMO_ENDED_MAX a run.
 *
 * And the answer of the run's last LIST_PODS (ctrl_listed.c), until the
 * next plan of the run takes it: an answer vouches for one decision. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl-internal.h"

/* An unconfirmed create the watch never showed (a relist can skip a Job
 * created and deleted while the watch was down) counts as seen, i.e.
 * gone, after CTRL_EXPECT_MS. */

struct made {
    struct plan_created pc;
    uint64_t at; /* uv_now() of the create */
};

#define MEMO_ENDED_MAX 64

struct memo {
    struct made *made;
    size_t n_made;
    struct plan_refusal *ref;
    size_t n_ref;
    struct plan_pod *ended;
    size_t n_ended;
    struct plan_pod *listed; /* the answer of a LIST_PODS, until a plan takes it */
    size_t n_listed;
    int has_listed;
    char key[]; /* "ns/run": the table's key */
};

struct ctrl_memo {
    struct lh_table *t;
    unsigned dels;
};

static void memo_free(struct lh_entry *e)
{
    struct memo *m = (struct memo *)lh_entry_v(e);
    free(m->made);
    free(m->ref);
    free(m->ended);
    free(m->listed);
    free(m);
}

struct ctrl_memo *ctrl_memo_new(void)
{
    struct ctrl_memo *m = calloc(1, sizeof *m);
    if (m && !(m->t = lh_kchar_table_new(64, memo_free))) {
        free(m);
        m = NULL;
    }
    return m;
}

void ctrl_memo_free(struct ctrl_memo *m)
{
    if (!m)
        return;
    lh_table_free(m->t);
    free(m);
}

/* "ns/run" into key; its length, or -1 when it does not fit. */
static int key_of(const char *ns, const char *run, char key[CTRL_KEY_LEN])
{
    int n = snprintf(key, CTRL_KEY_LEN, "%s/%s", ns, run);
    return n < 0 || n >= CTRL_KEY_LEN ? -1 : n;
}

static struct memo *find(const struct ctrl_memo *m, const char *ns, const char *run)
{
    char key[CTRL_KEY_LEN];
    struct memo *x;
    if (key_of(ns, run, key) < 0)
        return NULL;
    return lh_table_lookup_ex(m->t, key, (void **)&x) ? x : NULL;
}

static struct memo *get(struct ctrl_memo *m, const char *ns, const char *run)
{
    char key[CTRL_KEY_LEN];
    struct memo *x = find(m, ns, run);
    int n = key_of(ns, run, key);
    if (x || n < 0 || !(x = calloc(1, sizeof *x + (size_t)n + 1)))
        return x;
    memcpy(x->key, key, (size_t)n + 1);
    if (lh_table_insert(m->t, x->key, x) != 0) {
        free(x);
        return NULL;
    }
    return x;
}

static void drop_if_empty(struct ctrl_memo *m, struct memo *x)
{
    if (!x->n_made && !x->n_ref && !x->n_ended && !x->has_listed)
        ctrl_lh_delete(m->t, x->key, &m->dels); /* frees x */
}

int ctrl_memo_created(struct ctrl_memo *m, const char *ns, const char *run, const char *job,
                      const char *uid, uint64_t now)
{
    if (!uid[0])
        return -EINVAL;
    struct memo *x = get(m, ns, run);
    if (!x)
        return -ENOMEM;
    for (size_t i = 0; i < x->n_made; i++)
        if (strcmp(x->made[i].pc.name, job) == 0) {
            plan_copy_trunc(x->made[i].pc.uid, sizeof x->made[i].pc.uid, uid);
            return 0;
        }
    struct made *p = realloc(x->made, (x->n_made + 1) * sizeof *p);
    if (!p) {
        drop_if_empty(m, x);
        return -ENOMEM;
    }
    x->made = p;
    p = &x->made[x->n_made++];
    memset(p, 0, sizeof *p);
    plan_copy_trunc(p->pc.name, sizeof p->pc.name, job);
    plan_copy_trunc(p->pc.uid, sizeof p->pc.uid, uid);
    p->at = now;
    return 0;
}

void ctrl_memo_seen(struct ctrl_memo *m, const char *ns, const char *run, const char *job,
                    const char *uid)
{
    struct memo *x = run[0] ? find(m, ns, run) : NULL;
    for (size_t i = 0; x && i < x->n_made; i++)
        if (strcmp(x->made[i].pc.name, job) == 0 && strcmp(x->made[i].pc.uid, uid) == 0)
            x->made[i].pc.seen = 1;
}

static struct plan_refusal *refusal_of(const struct memo *x, const char *step)
{
    for (size_t i = 0; x && i < x->n_ref; i++)
        if (strcmp(x->ref[i].step, step) == 0)
            return &x->ref[i];
    return NULL;
}

void ctrl_memo_refused(struct ctrl_memo *m, const char *ns, const char *run,
                       const struct plan_refusal *f)
{
    struct memo *x = get(m, ns, run);
    if (!x)
        return; /* out of memory: the create is simply retried */
    struct plan_refusal *old = refusal_of(x, f->step);
    if (old) {
        /* a new kind of failure starts its own clock */
        int64_t first = old->permanent == f->permanent ? old->first_ms : f->first_ms;
        uint32_t count = old->count + 1;
        *old = *f;
        old->first_ms = first;
        old->count = count;
        return;
    }
    struct plan_refusal *p = realloc(x->ref, (x->n_ref + 1) * sizeof *p);
    if (!p) {
        drop_if_empty(m, x);
        return;
    }
    x->ref = p;
    p[x->n_ref] = *f;
    p[x->n_ref++].count = 1;
}

void ctrl_memo_accepted(struct ctrl_memo *m, const char *ns, const char *run, const char *step)
{
    struct memo *x = find(m, ns, run);
    struct plan_refusal *f = refusal_of(x, step);
    if (!f)
        return;
    *f = x->ref[--x->n_ref];
    drop_if_empty(m, x);
}

int ctrl_memo_get(struct ctrl_memo *m, const char *ns, const char *run, uint64_t now,
                  struct plan_created **created, size_t *n_created, struct plan_refusal **ref,
                  size_t *n_ref)
{
    struct memo *x = find(m, ns, run);
    *created = NULL;
    *ref = NULL;
    *n_created = *n_ref = 0;
    if (!x)
        return 0;
    if (x->n_made && !(*created = calloc(x->n_made, sizeof **created)))
        return -ENOMEM;
    if (x->n_ref && !(*ref = calloc(x->n_ref, sizeof **ref))) {
        free(*created);
        *created = NULL;
        return -ENOMEM;
    }
    for (size_t i = 0; i < x->n_made; i++) {
        if (now > x->made[i].at + CTRL_EXPECT_MS)
            x->made[i].pc.seen = 1;
        (*created)[i] = x->made[i].pc;
    }
    if (x->n_ref)
        memcpy(*ref, x->ref, x->n_ref * sizeof **ref);
    *n_created = x->n_made;
    *n_ref = x->n_ref;
    return 0;
}

int ctrl_memo_ended(struct ctrl_memo *m, const char *ns, const char *run, const struct plan_pod *p)
{
    if (!p->terminated || !p->controller_uid[0])
        return -EINVAL;
    struct memo *x = get(m, ns, run);
    if (!x)
        return -ENOMEM;
    if (x->n_ended == MEMO_ENDED_MAX) { /* the oldest goes */
        memmove(x->ended, x->ended + 1, (MEMO_ENDED_MAX - 1) * sizeof *x->ended);
        x->n_ended--;
    }
    struct plan_pod *e = realloc(x->ended, (x->n_ended + 1) * sizeof *e);
    if (!e) {
        drop_if_empty(m, x);
        return -ENOMEM;
    }
    x->ended = e;
    x->ended[x->n_ended++] = *p;
    x->ended[x->n_ended - 1].result = NULL; /* borrowed from a record about to go */
    return 0;
}

int ctrl_memo_get_ended(struct ctrl_memo *m, const char *ns, const char *run,
                        struct plan_pod **ended, size_t *n)
{
    struct memo *x = find(m, ns, run);
    *ended = NULL;
    *n = 0;
    if (!x || !x->n_ended)
        return 0;
    if (!(*ended = malloc(x->n_ended * sizeof **ended)))
        return -ENOMEM;
    memcpy(*ended, x->ended, x->n_ended * sizeof **ended);
    *n = x->n_ended;
    return 0;
}

int ctrl_memo_listed(struct ctrl_memo *m, const char *ns, const char *run, struct plan_pod *pods,
                     size_t n)
{
    struct memo *x = get(m, ns, run);
    if (!x) {
        free(pods);
        return -ENOMEM;
    }
    free(x->listed);
    x->listed = pods;
    x->n_listed = n;
    x->has_listed = 1;
    return 0;
}

int ctrl_memo_take_listed(struct ctrl_memo *m, const char *ns, const char *run,
                          struct plan_pod **pods, size_t *n)
{
    struct memo *x = find(m, ns, run);
    *pods = NULL;
    *n = 0;
    if (!x || !x->has_listed)
        return 0;
    *pods = x->listed;
    *n = x->n_listed;
    x->listed = NULL;
    x->n_listed = 0;
    x->has_listed = 0;
    drop_if_empty(m, x);
    return 1;
}

static int terminal_phase(const char *p)
{
    return p && (strcmp(p, "Succeeded") == 0 || strcmp(p, "Failed") == 0 ||
                 strcmp(p, "Cancelled") == 0 || strcmp(p, "Skipped") == 0);
}

static const char *phase_of(struct json_object *o)
{
    struct json_object *v = NULL;
    return o && json_object_object_get_ex(o, "phase", &v) ? json_object_get_string(v) : NULL;
}

static int terminal_step(struct json_object *e)
{
    return terminal_phase(phase_of(e));
}

/* The status says how that pod's step ended, or the run has ended. */
static int ended_told(struct json_object *status, struct json_object *steps,
                      const struct plan_pod *p)
{
    const char *run = phase_of(status);
    if (run && (strcmp(run, "Succeeded") == 0 || strcmp(run, "Failed") == 0 ||
                strcmp(run, "Cancelled") == 0))
        return 1;
    struct json_object *e = kj_find(steps, "jobUID", p->controller_uid), *v = NULL;
    const char *ph = phase_of(e);
    return e && (json_object_object_get_ex(e, "exitCode", &v) || (ph && !strcmp(ph, "Succeeded")));
}

void ctrl_memo_settle(struct ctrl_memo *m, const char *ns, const char *run,
                      struct json_object *status)
{
    struct memo *x = find(m, ns, run);
    if (!x)
        return;
    struct json_object *steps = NULL;
    if (status)
        json_object_object_get_ex(status, "steps", &steps);
    /* Only once the watch showed it too: the status may record a create
     * the Job cache has not shown yet, and without the record the step
     * would look deleted rather than not yet seen. */
    for (size_t i = x->n_made; i-- > 0;)
        if (x->made[i].pc.seen && kj_find(steps, "jobUID", x->made[i].pc.uid))
            x->made[i] = x->made[--x->n_made];
    for (size_t i = x->n_ref; i-- > 0;)
        if (terminal_step(kj_find(steps, "name", x->ref[i].step)))
            x->ref[i] = x->ref[--x->n_ref];
    size_t o = 0; /* in order: the oldest is dropped first when full */
    for (size_t i = 0; i < x->n_ended; i++)
        if (!ended_told(status, steps, &x->ended[i]))
            x->ended[o++] = x->ended[i];
    x->n_ended = o;
    drop_if_empty(m, x);
}

void ctrl_memo_forget(struct ctrl_memo *m, const char *ns, const char *run)
{
    struct memo *x = find(m, ns, run);
    if (x)
        ctrl_lh_delete(m->t, x->key, &m->dels);
}

size_t ctrl_memo_runs(const struct ctrl_memo *m)
{
    return (size_t)m->t->count;
}
