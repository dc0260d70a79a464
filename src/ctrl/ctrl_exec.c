/* The executor: gathers a key's observed state from the caches, asks
 * plan_run/plan_workflow for a plan, and performs its writes.
 *
 * A plan's writes are independent of each other (the plan is computed so
 * that any subset of them may be lost to a crash), so they go out at once:
 * a teardown's DELETEs leave within one loop iteration of the event that
 * caused it. Events follow a successful status write. The key stays
 * "processing" in the queue until every write has answered, so a key is
 * never reconciled twice at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl-internal.h"
#include "kube/kube.h"
#include "log/log.h"
#include "wf/wf.h"

#define CTRL_STALE_RECHECK_MS 1000

/* One reconcile in flight. */
struct rec {
    struct ctrl *c;
    const char *key; /* the queue's string (valid until wq_done) */
    char kind;       /* 'r' or 'w' */
    char ns[64];
    char name[PLAN_OBJ_LEN];
    char uid[PLAN_UID_LEN];
    char rv[32];
    enum plan_phase phase; /* the run's, as cached */
    struct plan plan;
    size_t pending;
    int failed;   /* a write failed: back off */
    int conflict; /* 409 on our status: re-plan at once */
    int recheck;  /* a LIST found pods the cache lacks: look again soon */
    int status_ok;
    int events_sent;
    size_t dels_out; /* DELETE_JOBs not answered yet */
    int awaiting;    /* gave its worker back (c->awaiting) */
    uint64_t t0;
    struct ctrl_expect *exp; /* built while writes answer; handed to c->expect */
};

/* One write of a plan. */
struct op {
    struct rec *r;
    size_t i; /* index in r->plan.actions */
};

void ctrl_expect_free(struct lh_entry *e)
{
    struct ctrl_expect *x = (struct ctrl_expect *)lh_entry_v(e);
    free(lh_entry_k(e));
    if (x)
        free(x->jobs);
    free(x);
}

/* --- the deleted overlay --------------------------------------------------- */

void ctrl_deleted_forget(struct ctrl *c, const char *job_uid)
{
    if (job_uid[0])
        ctrl_stamp_del(c->deleted, job_uid);
}

/* Noted only while the cache still shows the object alive: once its watch
 * event is in (it may come before the DELETE's answer), nothing would ever
 * look the note up again. At worst (out of memory) it is deleted twice. */
static void deleted_note(struct ctrl *c, const struct plan_action *a, const char *ns)
{
    int alive = 0;
    if (a->kind == PLAN_DELETE_JOB) {
        const struct ctrl_job *j = inf_get(c->inf[CTRL_INF_JOBS], ns, a->name);
        alive = j && !j->deleting && strcmp(j->uid, a->uid) == 0;
    } else if (a->kind == PLAN_DELETE_POD) {
        const struct ctrl_pod *p = inf_get(c->inf[CTRL_INF_PODS], ns, a->name);
        alive = p && !p->deleting && strcmp(ctrl_pod_uid(p), a->uid) == 0;
    }
    if (a->uid[0] && alive)
        (void)ctrl_stamp_set(c->deleted, a->uid, uv_now(c->loop) + CTRL_EXPECT_MS, 0);
}

/* A DELETE of this Job or pod was accepted and the cache does not show it
 * yet. Past the deadline the note is dropped: a DELETE the watch never
 * confirmed is sent again. */
static int deleted_pending(struct ctrl *c, const char *uid)
{
    uint64_t deadline;
    if (!uid[0] || !ctrl_stamp_get(c->deleted, uid, &deadline))
        return 0;
    if (uv_now(c->loop) <= deadline)
        return 1;
    ctrl_stamp_del(c->deleted, uid);
    return 0;
}

/* --- gathering ------------------------------------------------------------ */

/* The run's children and siblings, through the indexes: O(its children). */
struct gather {
    struct plan_job *jobs;
    size_t n_jobs, cap_jobs;
    struct plan_pod *pods;
    size_t n_pods, cap_pods;
    struct plan_sibling *sibs;
    size_t n_sibs, cap_sibs;
    struct plan_created *created;
    size_t n_created;
    struct plan_pod *ended;
    size_t n_ended;
    struct plan_refusal *refusals;
    size_t n_refusals;
    int listed; /* pods include a LIST_PODS answer */
    int oom;
};

static void *grow(void *arr, size_t *cap, size_t n, size_t size, int *oom)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(arr, ncap * size);
    if (!p) {
        *oom = 1;
        return arr;
    }
    *cap = ncap;
    return p;
}

/* Every pod labelled with the run, whatever became of its Job: the plan
 * decides which are the run's (by their Job's uid). */
static void gather_pods(struct ctrl *c, const char *ns, const char *run, struct gather *g)
{
    char label[WF_NAME_LEN];
    size_t len;
    if (wf_label_value(run, label) < 0)
        return;
    const char *names = ctrl_idx_get(c->pods_by_run, ns, label, &len);
    CTRL_IDX_FOREACH(name, names, len)
    {
        const struct ctrl_pod *p = inf_get(c->inf[CTRL_INF_PODS], ns, name);
        if (!p || strcmp(ctrl_pod_run(p), label) != 0)
            continue;
        g->pods = grow(g->pods, &g->cap_pods, g->n_pods, sizeof *g->pods, &g->oom);
        if (g->oom)
            return;
        struct plan_pod *pp = &g->pods[g->n_pods++];
        ctrl_pod_expand(p, pp);
        if (!pp->deleting && deleted_pending(c, pp->uid)) {
            pp->deleting = 1; /* our DELETE was accepted; the watch will say so */
            pp->deletion_deadline_ms = ctrl_wall_ms();
        }
    }
}

/* The run's LIST_PODS answer, if one waits: its pods the cache lacks
 * join the cached ones (a pod in both is as the cache shows it). */
static void gather_listed(struct ctrl *c, const char *ns, const char *run, struct gather *g)
{
    struct plan_pod *listed;
    size_t n;
    if (!ctrl_memo_take_listed(c->memo, ns, run, &listed, &n))
        return;
    size_t cached = g->n_pods;
    for (size_t i = 0; i < n && !g->oom; i++) {
        int known = 0;
        for (size_t k = 0; k < cached && !known; k++)
            known = strcmp(g->pods[k].uid, listed[i].uid) == 0;
        if (known)
            continue;
        g->pods = grow(g->pods, &g->cap_pods, g->n_pods, sizeof *g->pods, &g->oom);
        if (g->oom)
            break;
        struct plan_pod *pp = &g->pods[g->n_pods++];
        *pp = listed[i];
        if (!pp->deleting && deleted_pending(c, pp->uid)) {
            pp->deleting = 1;
            pp->deletion_deadline_ms = ctrl_wall_ms();
        }
    }
    g->listed = !g->oom;
    free(listed);
}

/* Jobs whose controller is a run of this name: this run's, and those of
 * an earlier run of the same name still being collected (the plan waits
 * for those rather than meet their name in a 409). */
static void gather(struct ctrl *c, const char *ns, const char *self, const char *workflow,
                   struct gather *g)
{
    size_t len;
    const char *names = ctrl_idx_get(c->jobs_by_run, ns, self, &len);
    CTRL_IDX_FOREACH(name, names, len)
    {
        const struct ctrl_job *j = inf_get(c->inf[CTRL_INF_JOBS], ns, name);
        if (!j || strcmp(ctrl_job_run(j), self) != 0)
            continue;
        g->jobs = grow(g->jobs, &g->cap_jobs, g->n_jobs, sizeof *g->jobs, &g->oom);
        if (g->oom)
            return;
        struct plan_job *pj = &g->jobs[g->n_jobs++];
        ctrl_job_expand(j, pj);
        if (!pj->deleting && deleted_pending(c, pj->uid))
            pj->deleting = 1; /* our DELETE was accepted; the watch will say so */
        ctrl_memo_seen(c->memo, ns, self, pj->name, pj->uid);
    }
    gather_pods(c, ns, self, g);
    if (!g->oom)
        gather_listed(c, ns, self, g);
    if (g->oom)
        return;
    if (ctrl_memo_get(c->memo, ns, self, uv_now(c->loop), &g->created, &g->n_created, &g->refusals,
                      &g->n_refusals) < 0 ||
        ctrl_memo_get_ended(c->memo, ns, self, &g->ended, &g->n_ended) < 0) {
        g->oom = 1;
        return;
    }
    names = ctrl_idx_get(c->runs_by_wf, ns, workflow, &len);
    CTRL_IDX_FOREACH(name, names, len)
    {
        const struct ctrl_run *r = inf_get(c->inf[CTRL_INF_RUNS], ns, name);
        if (!r || strcmp(name, self) == 0 || strcmp(r->workflow, workflow) != 0)
            continue;
        g->sibs = grow(g->sibs, &g->cap_sibs, g->n_sibs, sizeof *g->sibs, &g->oom);
        if (g->oom)
            return;
        g->sibs[g->n_sibs++] = r->sib;
    }
}

static void gather_free(struct gather *g)
{
    free(g->jobs);
    free(g->pods);
    free(g->sibs);
    free(g->created);
    free(g->refusals);
    free(g->ended);
}

/* --- finishing --------------------------------------------------------------- */

static void rec_finish(struct rec *r)
{
    struct ctrl *c = r->c;
    uint64_t now = uv_now(c->loop);
    ctrl_hist_observe(&c->stats.reconcile_seconds, (double)(now - r->t0) / 1000.0);
    if (r->exp && (r->exp->status_written || r->exp->n_jobs)) {
        char *k = strdup(r->key);
        if (k) {
            ctrl_lh_delete(c->expect, r->key, &c->expect_dels);
            r->exp->deadline_ms = now + CTRL_EXPECT_MS;
            if (lh_table_insert(c->expect, k, r->exp) == 0)
                r->exp = NULL;
            else
                free(k);
        }
    }
    if (r->exp) {
        free(r->exp->jobs);
        free(r->exp);
    }
    /* wq_done before the re-adds: a key added while processing is re-queued
     * at once, which is what a conflict wants anyway. */
    char key[CTRL_KEY_LEN];
    snprintf(key, sizeof key, "%s", r->key);
    wq_done(c->q, key);
    if (r->failed) {
        c->stats.reconcile_errors++;
        wq_add_rate_limited(c->q, key, now);
    } else {
        wq_forget(c->q, key);
        if (r->conflict)
            wq_add(c->q, key);
        else if (r->plan.requeue_after_ms > 0)
            wq_add_after(c->q, key, (uint64_t)r->plan.requeue_after_ms, now);
        if (r->recheck)
            wq_add_after(c->q, key, CTRL_STALE_RECHECK_MS, now);
    }
    int awaiting = r->awaiting;
    plan_release(&r->plan);
    free(r);
    if (!awaiting) {
        ctrl_reconcile_done(c);
    } else if (--c->awaiting == 0 && c->stopping) {
        c->drained(c);
    } else if (!c->stopping) {
        ctrl_kick(c); /* for the re-adds above */
    }
}

static void op_done(struct rec *r)
{
    if (--r->pending == 0)
        rec_finish(r);
}

/* --- writes ------------------------------------------------------------------ */

static int is_status(const struct kube_result *res, int code)
{
    return res->err == 0 && res->http_status == code;
}

static void write_failed(struct rec *r, const struct plan_action *a, const struct kube_result *res)
{
    r->failed = 1;
    char code[16];
    snprintf(code, sizeof code, "%ld", res->http_status);
    log_kv(LOGL_WARN, "write failed", r->kind == 'r' ? "run" : "workflow", r->name, "namespace",
           r->ns, "action", plan_kind_name(a->kind), "object", a->name[0] ? a->name : NULL, "code",
           res->err ? NULL : code, "reason", res->status.reason[0] ? res->status.reason : NULL,
           "error", res->status.message[0] ? res->status.message : strerror(-res->err), NULL);
}

static void expect_job(struct rec *r, const char *job)
{
    struct ctrl_expect *x = r->exp;
    void *p = realloc(x->jobs, (x->n_jobs + 1) * sizeof *x->jobs);
    if (!p)
        return;
    x->jobs = p;
    /* Job names are DNS labels (<= 63): the precision only tells gcc -O3
     * (-Werror=format-truncation) that the copy fits. */
    snprintf(x->jobs[x->n_jobs++], PLAN_SHORT_LEN, "%.*s", PLAN_SHORT_LEN - 1, job);
}

/* --- creates: what the answer proves --------------------------------------- */

static const char *res_message(const struct kube_result *res)
{
    return res->status.message[0] ? res->status.message : strerror(-res->err);
}

/* A refused create that retrying cannot fix: any 4xx but 401 (a token
 * being rotated), 408, 409 (handled apart) and 429, and but a quota
 * (403 "exceeded quota": it frees up when other pods end). */
static int permanent_refusal(const struct kube_result *res)
{
    long code = res->http_status;
    if (res->err || code < 400 || code >= 500)
        return 0;
    if (code == 401 || code == 408 || code == 409 || code == 429)
        return 0;
    return !(code == 403 && strstr(res->status.message, "exceeded quota"));
}

static void refused(struct rec *r, const struct plan_action *a, int permanent, const char *reason,
                    long code, const char *message)
{
    struct plan_refusal f;
    memset(&f, 0, sizeof f);
    plan_copy_trunc(f.step, sizeof f.step, a->step);
    f.permanent = permanent ? 1 : 0;
    f.code = code;
    plan_copy_trunc(f.reason, sizeof f.reason, reason);
    plan_copy_trunc(f.message, sizeof f.message, message);
    f.first_ms = ctrl_wall_ms();
    ctrl_memo_refused(r->c->memo, r->ns, r->name, &f);
    if (permanent)
        r->conflict = 1; /* plan again now: the step fails with the reason */
    else
        r->failed = 1; /* back off, then create again */
}

static void created(struct rec *r, const struct plan_action *a, const char *uid)
{
    /* Out of memory: without the record a Job deleted before the status
     * names it could be created twice; the watch still shows it in ms. */
    (void)ctrl_memo_created(r->c->memo, r->ns, r->name, a->name, uid ? uid : "",
                            uv_now(r->c->loop));
    ctrl_memo_accepted(r->c->memo, r->ns, r->name, a->step);
    expect_job(r, a->name);
}

/* A 409 on create: ours (a previous attempt, or a reconcile from a stale
 * cache) only if the existing Job's controller is this run. Another's
 * that is being deleted (an earlier run of the same name) is waited for;
 * another's that stays is a conflict the step fails with. */
static void existing_cb(void *ud, const struct kube_result *res)
{
    struct op *o = ud;
    struct rec *r = o->r;
    const struct plan_action *a = &r->plan.actions[o->i];
    struct plan_job j;
    char msg[PLAN_MSG_LEN];
    if (res->err == 0 && res->http_status == 200 && plan_job_from_json(res->body, &j) == 0) {
        if (strcmp(j.controller_uid, r->uid) == 0) {
            created(r, a, j.uid);
        } else if (j.deleting) {
            r->failed = 1;
        } else {
            snprintf(msg, sizeof msg, "job \"%.63s\" exists but is not owned by this run", a->name);
            refused(r, a, 1, "JobConflict", 409, msg);
        }
    } else if (is_status(res, 404)) {
        r->conflict = 1; /* gone meanwhile: create again */
    } else {
        write_failed(r, a, res);
    }
    free(o);
    op_done(r);
}

static void create_answered(struct op *o, const struct kube_result *res)
{
    struct rec *r = o->r;
    struct ctrl *c = r->c;
    const struct plan_action *a = &r->plan.actions[o->i];
    if (res->err == 0 && res->http_status >= 200 && res->http_status < 300) {
        c->stats.jobs_created++;
        created(r, a, kj_path_str(res->body, "metadata", "uid", NULL));
    } else if (is_status(res, 409) && strcmp(res->status.reason, "AlreadyExists") == 0) {
        struct op *g = malloc(sizeof *g);
        if (g) {
            *g = *o;
            r->pending++; /* held until the GET answers */
            /* g is existing_cb's now: it frees it */
            if (c->w.get(c->w.ud, &KUBE_JOBS, r->ns, a->name, existing_cb, g) == 0)
                return; // cppcheck-suppress memleak
            r->pending--;
            free(g);
        }
        write_failed(r, a, res);
    } else if (permanent_refusal(res)) {
        write_failed(r, a, res);
        r->failed = 0;
        refused(r, a, 1, "JobRejected", res->http_status, res_message(res));
    } else {
        write_failed(r, a, res);
        refused(r, a, 0, "", res->err ? 0 : res->http_status, res_message(res));
    }
}

/* --- deletes ----------------------------------------------------------------- */

static void start_pods_after(struct rec *r, const struct plan_action *job_delete, int ok);

static int delete_done(const struct kube_result *res)
{
    /* 404: already gone; 409: the uid precondition failed, i.e. a new
     * object took the name: either way nothing of ours left to delete. */
    return (res->err == 0 && res->http_status >= 200 && res->http_status < 300) ||
           is_status(res, 404) || is_status(res, 409);
}

static void delete_answered(struct op *o, const struct kube_result *res)
{
    struct rec *r = o->r;
    struct ctrl *c = r->c;
    const struct plan_action *a = &r->plan.actions[o->i];
    int ok = res->err == 0 && res->http_status >= 200 && res->http_status < 300;
    if (ok) {
        deleted_note(c, a, r->ns);
        if (a->kind == PLAN_DELETE_JOB)
            c->stats.jobs_deleted++;
        else if (a->kind == PLAN_DELETE_POD)
            c->stats.pods_deleted++;
        else
            c->stats.runs_deleted++;
    } else if (!delete_done(res)) {
        write_failed(r, a, res);
    }
    if (a->kind == PLAN_DELETE_JOB) {
        r->dels_out--;
        start_pods_after(r, a, delete_done(res));
    }
}

/* Every Event of a plan goes through here: the one place where those that
 * are not news stay unsent, unless --events=all (the step outcomes are
 * counted before, from every Event, sent or not). */
static void push_event(struct rec *r, size_t i)
{
    const struct plan_action *a = &r->plan.actions[i];
    if (!r->c->events_all && !ctrl_ev_news(a))
        return;
    ctrl_ev_push(r->c->events, r->kind, r->ns, r->name, r->uid, a, ctrl_wall_ms());
}

/* The plan's events, once its status write succeeded and its Job DELETEs
 * have answered: in a teardown, the DELETEs (and the pods' SIGTERM) come
 * first and the notes after. */
static void send_events(struct rec *r)
{
    struct ctrl *c = r->c;
    if (r->events_sent || !r->status_ok || r->dels_out)
        return;
    r->events_sent = 1;
    if (!c->leading)
        return; /* an Event is a write too: none from a standby */
    for (size_t i = 0; i < r->plan.n; i++) {
        const struct plan_action *e = &r->plan.actions[i];
        if (e->kind != PLAN_EVENT)
            continue;
        /* Step outcomes are counted once: with the status write that
         * recorded them (the events say what the write changed). */
        if (e->outcome > 0)
            c->stats.steps_succeeded++;
        else if (e->outcome < 0)
            c->stats.steps_failed++;
        push_event(r, i);
    }
}

static void write_cb(void *ud, const struct kube_result *res)
{
    struct op *o = ud;
    struct rec *r = o->r;
    struct ctrl *c = r->c;
    const struct plan_action *a = &r->plan.actions[o->i];
    int ok = res->err == 0 && res->http_status >= 200 && res->http_status < 300;
    switch (a->kind) {
    case PLAN_PATCH_STATUS:
        if (ok) {
            c->stats.status_writes++;
            r->status_ok = 1;
            r->exp->status_written = 1;
            if (r->kind == 'r')
                (void)ctrl_stamp_set(c->status_at, r->key, uv_now(c->loop), 0);
        } else if (is_status(res, 409) || is_status(res, 404)) {
            r->conflict = 1; /* the cache was behind: re-plan from fresh state */
        } else {
            write_failed(r, a, res);
        }
        break;
    case PLAN_CREATE_JOB:
        create_answered(o, res);
        break;
    case PLAN_DELETE_JOB:
    case PLAN_DELETE_POD:
    case PLAN_DELETE_RUN:
        delete_answered(o, res);
        break;
    case PLAN_CANCEL_RUN:
        if (ok)
            c->stats.runs_cancelled++;
        else if (!is_status(res, 404) && !is_status(res, 409))
            write_failed(r, a, res); /* 409: the uid says another run took the name */
        break;
    case PLAN_LIST_PODS: /* answered through list_done */
    case PLAN_EVENT:
        break;
    }
    free(o);
    send_events(r);
    op_done(r);
}

/* The plan's LIST_PODS answered: the next plan takes the answer, at once.
 * If it held running pods the pod cache lacks (its watch lags), the plan
 * after that one would see the cache alone again: look again after
 * CTRL_STALE_RECHECK_MS even if no watch event comes. */
static void list_done(void *ud, int rc, int unseen)
{
    struct op *o = ud;
    struct rec *r = o->r;
    if (rc < 0)
        r->failed = 1;
    else
        r->conflict = 1;
    r->recheck |= unseen;
    free(o);
    op_done(r);
}

/* Sends action i exactly as planned: the plan wrote the body (DeleteOptions
 * with their propagation policy and uid precondition, the patches); the
 * executor only chooses the verb's endpoint. */
static int start_write(struct rec *r, size_t i)
{
    struct ctrl *c = r->c;
    const struct plan_action *a = &r->plan.actions[i];
    struct op *o = malloc(sizeof *o);
    if (!o)
        return -ENOMEM;
    o->r = r;
    o->i = i;
    int rc = -EINVAL;
    const char *body;
    size_t len = 0;
    switch (a->kind) {
    case PLAN_PATCH_STATUS:
    case PLAN_CANCEL_RUN: {
        struct kube_patch_opts po = {.type = KUBE_PATCH_MERGE,
                                     .status = a->kind == PLAN_PATCH_STATUS};
        const struct kube_resource *res =
            r->kind == 'r' || a->kind == PLAN_CANCEL_RUN ? &KUBE_WORKFLOWRUNS : &KUBE_WORKFLOWS;
        body = json_object_to_json_string_length(a->body, JSON_C_TO_STRING_PLAIN, &len);
        rc = body ? c->w.patch(c->w.ud, res, r->ns, a->kind == PLAN_CANCEL_RUN ? a->name : r->name,
                               body, len, &po, write_cb, o)
                  : -ENOMEM;
        break;
    }
    case PLAN_CREATE_JOB:
        rc = c->w.create(c->w.ud, &KUBE_JOBS, r->ns, a->body, write_cb, o);
        break;
    case PLAN_DELETE_JOB:
        rc = c->w.delete(c->w.ud, &KUBE_JOBS, r->ns, a->name, a->body, write_cb, o);
        break;
    case PLAN_DELETE_POD:
        rc = c->w.delete(c->w.ud, &KUBE_PODS, r->ns, a->name, a->body, write_cb, o);
        break;
    case PLAN_DELETE_RUN:
        rc = c->w.delete(c->w.ud, &KUBE_WORKFLOWRUNS, r->ns, a->name, a->body, write_cb, o);
        break;
    case PLAN_LIST_PODS:
        rc = ctrl_list_pods(c, r->ns, r->name, a, list_done, o);
        break;
    case PLAN_EVENT:
        break;
    }
    if (rc < 0) {
        free(o);
        return rc;
    }
    r->pending++;
    return 0;
}

/* A pod DELETE that waits for its Job's: sent once that was accepted (a
 * Job with a deletionTimestamp makes no new pod, so the pod is not
 * replaced), dropped if it failed (the next plan tries both again). Only
 * while leading and not stopping, like every write. */
static void start_pods_after(struct rec *r, const struct plan_action *job_delete, int ok)
{
    struct ctrl *c = r->c;
    for (size_t i = 0; i < r->plan.n; i++) {
        const struct plan_action *a = &r->plan.actions[i];
        if (a->kind != PLAN_DELETE_POD || strcmp(a->job, job_delete->name) != 0)
            continue;
        if (!ok || !c->leading || c->stopping)
            continue;
        int w = start_write(r, i);
        if (w < 0) {
            log_kv(LOGL_ERROR, "cannot send write", "key", r->key, "error", strerror(-w), NULL);
            r->failed = 1;
        }
    }
}

/* Waits for a DELETE_JOB of the same plan. */
static int deferred(const struct plan *p, const struct plan_action *a)
{
    if (a->kind != PLAN_DELETE_POD || !a->job[0])
        return 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->actions[i].kind == PLAN_DELETE_JOB && strcmp(p->actions[i].name, a->job) == 0)
            return 1;
    return 0;
}

/* --- reconcile ------------------------------------------------------------- */

static int parse_key(struct rec *r, const char *key)
{
    const char *slash = strchr(key + 2, '/');
    if (strlen(key) < 4 || key[1] != ':' || !slash || (size_t)(slash - key - 2) >= sizeof r->ns ||
        strlen(slash + 1) >= sizeof r->name)
        return -EINVAL;
    r->kind = key[0];
    memcpy(r->ns, key + 2, (size_t)(slash - key - 2));
    r->ns[slash - key - 2] = '\0';
    snprintf(r->name, sizeof r->name, "%s", slash + 1);
    return 0;
}

/* Our own writes not yet in the cache? Then the cache cannot be trusted to
 * plan from; the informer event that carries them will enqueue the key. */
static int cache_behind(struct ctrl *c, const struct rec *r, const char *rv)
{
    struct ctrl_expect *x;
    if (!lh_table_lookup_ex(c->expect, r->key, (void **)&x))
        return 0;
    if (uv_now(c->loop) > x->deadline_ms)
        goto stale_expectation;
    if (x->status_written && strcmp(x->stale_rv, rv) == 0)
        return 1;
    for (size_t i = 0; i < x->n_jobs; i++)
        if (!inf_get(c->inf[CTRL_INF_JOBS], r->ns, x->jobs[i]))
            return 1;
stale_expectation:
    ctrl_lh_delete(c->expect, r->key, &c->expect_dels);
    return 0;
}

static int plan_for(struct ctrl *c, struct rec *r)
{
    if (r->kind == 'w') {
        const struct ctrl_obj *o = inf_get(c->inf[CTRL_INF_WORKFLOWS], r->ns, r->name);
        if (!o)
            return 1; /* deleted: nothing to write */
        const char *wuid = kj_path_str(o->obj, "metadata", "uid", NULL);
        snprintf(r->uid, sizeof r->uid, "%s", wuid ? wuid : "");
        return plan_workflow(o->obj, ctrl_wall_ms(), &r->plan);
    }
    const struct ctrl_run *o = inf_get(c->inf[CTRL_INF_RUNS], r->ns, r->name);
    if (!o) {
        ctrl_lh_delete(c->expect, r->key, &c->expect_dels);
        ctrl_stamp_del(c->status_at, r->key);
        return 1; /* deleted: the garbage collector removes its children */
    }
    snprintf(r->uid, sizeof r->uid, "%s", o->sib.uid);
    r->phase = o->sib.phase;
    snprintf(r->rv, sizeof r->rv, "%s", inf_rec_rv(o));
    if (cache_behind(c, r, r->rv)) {
        c->stats.skipped_stale++;
        return 2;
    }
    const struct ctrl_obj *wf =
        o->workflow[0] ? inf_get(c->inf[CTRL_INF_WORKFLOWS], r->ns, o->workflow) : NULL;
    struct gather g = {0};
    struct json_object *run = ctrl_run_parse(o), *status = NULL;
    /* What the status records now needs no memo any more. */
    if (run && json_object_object_get_ex(run, "status", &status))
        ctrl_memo_settle(c->memo, r->ns, r->name, status);
    gather(c, r->ns, r->name, o->workflow, &g);
    int rc = -ENOMEM;
    if (run && !g.oom) {
        struct plan_input in = {.run = run,
                                .workflow = wf ? wf->obj : NULL,
                                .jobs = g.jobs,
                                .n_jobs = g.n_jobs,
                                .pods = g.pods,
                                .n_pods = g.n_pods,
                                .siblings = g.sibs,
                                .n_siblings = g.n_sibs,
                                .now_ms = ctrl_wall_ms(),
                                .created = g.created,
                                .n_created = g.n_created,
                                .ended = g.ended,
                                .n_ended = g.n_ended,
                                .refusals = g.refusals,
                                .n_refusals = g.n_refusals,
                                .pods_listed = g.listed};
        rc = plan_run(&in, &r->plan);
    }
    json_object_put(run);
    gather_free(&g);
    return rc;
}

/* How long the plan's status patch should wait (0: send it now): only a
 * patch that keeps the phase waits, so every phase change, the first
 * status and the teardown's start go out at once. The plan's other writes
 * do not wait; its events follow the status when it is sent. Holding the
 * patch back is one of the losses a plan is built to survive: the next
 * plan, after the wait, computes it again from the caches. */
static uint64_t status_hold_ms(struct ctrl *c, const struct rec *r)
{
    uint64_t last, now = uv_now(c->loop);
    uint64_t window = r->plan.awaits_status ? 0 : CTRL_STATUS_COALESCE_MS;
    if (r->kind != 'r' || r->phase == PLAN_PHASE_NONE ||
        !ctrl_stamp_get(c->status_at, r->key, &last) || now >= last + window)
        return 0;
    for (size_t i = 0; i < r->plan.n; i++) {
        const struct plan_action *a = &r->plan.actions[i];
        if (a->kind != PLAN_PATCH_STATUS)
            continue;
        const char *phase = kj_path_str(a->body, "status", "phase", NULL);
        if (!phase || plan_phase_parse(phase) != r->phase)
            return 0;
        return last + window - now;
    }
    return 0;
}

void ctrl_reconcile(struct ctrl *c, const char *key)
{
    struct rec *r = calloc(1, sizeof *r);
    struct ctrl_expect *x = calloc(1, sizeof *x);
    if (!r || !x || parse_key(r, key) < 0) {
        free(r);
        free(x);
        log_kv(LOGL_ERROR, "cannot reconcile", "key", key, NULL);
        wq_done(c->q, key);
        ctrl_reconcile_done(c);
        return;
    }
    r->c = c;
    r->key = key; /* the queue's, valid until wq_done */
    r->exp = x;
    r->t0 = uv_now(c->loop);
    uint64_t enq_ns = ctrl_enq_take(c, key); /* instrumentation */
    plan_init(&r->plan);
    c->stats.reconciles++;
    int rc = plan_for(c, r);
    if (rc == 2) {                        /* wait for the cache; a watch event will come sooner */
        ctrl_enq_restore(c, key, enq_ns); /* the event still waits for its plan */
        r->plan.requeue_after_ms = CTRL_STALE_RECHECK_MS;
    } else if (rc < 0) {
        log_kv(LOGL_ERROR, "plan failed", "key", key, "error", strerror(-rc), NULL);
        r->failed = 1;
    }
    snprintf(x->stale_rv, sizeof x->stale_rv, "%s", r->rv);
    r->pending = 1; /* held while the writes are being issued */
    if (rc == 0 && c->leading) {
        int has_status = plan_count(&r->plan, PLAN_PATCH_STATUS) > 0;
        uint64_t hold = has_status ? status_hold_ms(c, r) : 0;
        size_t n_del = plan_count(&r->plan, PLAN_DELETE_JOB), seen_del = 0;
        r->dels_out = n_del;
        if (hold) {
            c->stats.status_coalesced++;
            if (r->plan.requeue_after_ms <= 0 || (uint64_t)r->plan.requeue_after_ms > hold)
                r->plan.requeue_after_ms = (int64_t)hold;
        }
        for (size_t i = 0; i < r->plan.n; i++) {
            enum plan_kind k = r->plan.actions[i].kind;
            if (hold && (k == PLAN_PATCH_STATUS || k == PLAN_EVENT))
                continue;
            if (k == PLAN_EVENT && !has_status)
                push_event(r, i); /* nothing to wait for */
            if (k == PLAN_EVENT || deferred(&r->plan, &r->plan.actions[i]))
                continue;
            int w = start_write(r, i);
            if (w < 0) {
                log_kv(LOGL_ERROR, "cannot send write", "key", key, "error", strerror(-w), NULL);
                r->failed = 1;
                if (k == PLAN_DELETE_JOB)
                    r->dels_out--;
            }
            /* Instrumentation: the teardown's last DELETE is with the client. */
            if (r->plan.actions[i].kind == PLAN_DELETE_JOB && ++seen_del == n_del && enq_ns) {
                uint64_t sent = uv_hrtime();
                ctrl_hist_observe(&c->stats.dispatch_seconds, (double)(sent - enq_ns) / 1e9);
                if (c->on_teardown_sent)
                    c->on_teardown_sent(c->hook_ud, r->ns, r->name, n_del, enq_ns, sent);
            }
        }
    }
    if (!c->leading)
        r->plan.requeue_after_ms = 0;
    /* A teardown waits for its answers (the key stays taken until then)
     * without holding a worker. */
    if (r->dels_out && r->pending > 1) {
        r->awaiting = 1;
        c->awaiting++;
        ctrl_reconcile_done(c);
    }
    op_done(r);
}
