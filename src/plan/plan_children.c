/* plan_children.c - a run's Jobs and pods: what their state says, which
 * pods belong to the run, and deleting those whose Job is gone or going.
 *
 * A pod is the run's when its Job's uid (the pod's controller
 * ownerReference, or the label batch.kubernetes.io/controller-uid the Job
 * controller sets) is the uid of a Job this run created. The run label is
 * only how pods are found: anyone can set it, so it proves nothing. Pods
 * are found by the run, not through their Job, because a pod can outlive
 * its Job: `kubectl delete job --cascade=orphan`, or a garbage collector
 * that removes a torn-down Job before it has seen the pod the Job
 * controller just made. Such a pod still runs the step's code, so the run
 * waits for it and deletes it like a sibling. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int plan_job_failed(const struct plan_job *j)
{
    return j->failed || j->failure_target;
}

int plan_job_succeeded(const struct plan_job *j)
{
    return !plan_job_failed(j) && (j->complete || j->success_criteria_met);
}

int plan_job_done(const struct plan_job *j)
{
    /* Since Kubernetes 1.31 these come only after the pods terminated. */
    return j->complete || j->failed;
}

int plan_pod_running(const struct plan_pod *p)
{
    return p->phase != PLAN_POD_SUCCEEDED && p->phase != PLAN_POD_FAILED;
}

static void add_uid(const char **uids, size_t *n, const char *uid)
{
    if (!uid || !uid[0])
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(uids[i], uid) == 0)
            return;
    uids[(*n)++] = uid;
}

/* The Job of this run observed under that name, or NULL. */
static const struct plan_job *our_job_named(const struct ctx *c, const char *name)
{
    for (size_t i = 0; i < c->in->n_jobs; i++)
        if (strcmp(c->in->jobs[i].name, name) == 0 &&
            strcmp(c->in->jobs[i].controller_uid, c->uid) == 0)
            return &c->in->jobs[i];
    return NULL;
}

static int has_uid(const char *const *uids, size_t n, const char *uid)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(uids[i], uid) == 0)
            return 1;
    return 0;
}

void plan_job_uids(struct ctx *c)
{
    struct json_object *steps = kj_get(c->status, "steps");
    size_t n_steps =
        json_object_is_type(steps, json_type_array) ? json_object_array_length(steps) : 0;
    const char **uids = calloc(c->in->n_jobs + c->in->n_created + 1, sizeof *uids);
    const char **suids = calloc(n_steps + 1, sizeof *suids);
    char(*sjobs)[WF_NAME_LEN] = calloc(n_steps + 1, sizeof *sjobs);
    if (!uids || !suids || !sjobs)
        abort();
    size_t n = 0, ns = 0;
    for (size_t i = 0; i < c->in->n_jobs; i++)
        if (strcmp(c->in->jobs[i].controller_uid, c->uid) == 0)
            add_uid(uids, &n, c->in->jobs[i].uid);
    for (size_t i = 0; i < c->in->n_created; i++)
        add_uid(uids, &n, c->in->created[i].uid);
    for (size_t i = 0; i < n_steps; i++) {
        struct json_object *e = json_object_array_get_idx(steps, i);
        const char *step = kj_get_str(e, "name"), *uid = kj_get_str(e, "jobUID");
        long index = plan_entry_index(e);
        if (!step || !uid || !uid[0] || has_uid(uids, n, uid) || has_uid(suids, ns, uid) ||
            wf_entry_job_name(c->name, step, index, sjobs[ns]) < 0)
            continue;
        /* Not the Job this run did make for that step (observed, with
         * another uid). The entry's own `job` is not asked: a pod ties
         * only if its Job has the name this run gives the step's Job, so a
         * `job` edited to another name must not make a live pod of that
         * uid and name count for nothing (fuzz_plan found it: the run
         * went terminal with the pod running). */
        if (our_job_named(c, sjobs[ns]))
            continue;
        suids[ns++] = uid;
    }
    c->job_uids = uids;
    c->n_job_uids = n;
    c->status_uids = suids;
    c->status_uid_jobs = sjobs;
    c->n_status_uids = ns;
}

int plan_pod_ours(const struct ctx *c, const struct plan_pod *p)
{
    if (!p->controller_uid[0])
        return 0;
    if (has_uid(c->job_uids, c->n_job_uids, p->controller_uid))
        return 1;
    for (size_t i = 0; i < c->n_status_uids; i++)
        if (strcmp(c->status_uids[i], p->controller_uid) == 0)
            return strcmp(c->status_uid_jobs[i], p->job) == 0;
    return 0;
}

/* Appends ", KIND NAME" to msg (up to FOREIGN_NAMED names). */
#define FOREIGN_NAMED 5
static void name_one(char *msg, size_t len, size_t *n, const char *kind, const char *name)
{
    size_t at = strlen(msg);
    if (*n < FOREIGN_NAMED && at < len)
        snprintf(msg + at, len - at, "%s%s %s", *n ? ", " : "", kind, name);
    (*n)++;
}

size_t plan_foreign_children(const struct ctx *c, char *msg, size_t len)
{
    size_t n = 0;
    msg[0] = '\0';
    for (size_t i = 0; i < c->in->n_jobs; i++)
        if (strcmp(c->in->jobs[i].controller_uid, c->uid) != 0)
            name_one(msg, len, &n, "Job", c->in->jobs[i].name);
    for (size_t i = 0; i < c->in->n_pods; i++)
        if (!plan_pod_ours(c, &c->in->pods[i]))
            name_one(msg, len, &n, "pod", c->in->pods[i].name);
    if (n == 0)
        return 0;
    size_t at = strlen(msg);
    if (at < len)
        snprintf(msg + at, len - at,
                 "%s %s this run's label but %s not its %s (no controller ownerReference to "
                 "this run, or to a Job of it): Runbook leaves %s alone",
                 n > FOREIGN_NAMED ? " and others" : "", n == 1 ? "carries" : "carry",
                 n == 1 ? "is" : "are", n == 1 ? "child" : "children", n == 1 ? "it" : "them");
    return n;
}

int plan_jobs_gone(const struct ctx *c)
{
    if (c->n_status_uids)
        return 1;
    for (size_t i = 0; i < c->in->n_created; i++)
        if (!plan_job_by_uid(c, c->in->created[i].uid))
            return 1;
    return 0;
}

int plan_pods_listed(struct ctx *c, int need)
{
    if (!need || c->in->pods_listed)
        return 1;
    for (size_t i = 0; i < c->out->n; i++)
        if (c->out->actions[i].kind == PLAN_LIST_PODS)
            return 0;
    char label[WF_NAME_LEN];
    if (wf_label_value(c->name, label) < 0)
        return 0; /* cannot be: run names fit; and then nothing is confirmed */
    struct plan_action *a = plan_add(c->out, PLAN_LIST_PODS);
    snprintf(a->name, sizeof a->name, "%s", c->name);
    char sel[sizeof KJ_LABEL_RUN + WF_NAME_LEN + 1];
    snprintf(sel, sizeof sel, "%s=%s", KJ_LABEL_RUN, label);
    a->body = kj_obj();
    kj_put(a->body, "labelSelector", kj_str(sel));
    return 0;
}

const struct plan_job *plan_job_by_uid(const struct ctx *c, const char *uid)
{
    for (size_t i = 0; uid[0] && i < c->in->n_jobs; i++) {
        const struct plan_job *j = &c->in->jobs[i];
        if (strcmp(j->uid, uid) == 0 && strcmp(j->controller_uid, c->uid) == 0)
            return j;
    }
    return NULL;
}

const struct plan_created *plan_created_named(const struct ctx *c, const char *name)
{
    for (size_t i = 0; i < c->in->n_created; i++)
        if (strcmp(c->in->created[i].name, name) == 0)
            return &c->in->created[i];
    return NULL;
}

size_t plan_pods_running(const struct ctx *c, const char *job_uid)
{
    size_t n = 0;
    for (size_t i = 0; job_uid[0] && i < c->in->n_pods; i++) {
        const struct plan_pod *p = &c->in->pods[i];
        n += plan_pod_running(p) && strcmp(p->controller_uid, job_uid) == 0 && plan_pod_ours(c, p);
    }
    return n;
}

size_t plan_pods_of(const struct ctx *c, const char *job_uid)
{
    size_t n = 0;
    for (size_t i = 0; job_uid[0] && i < c->in->n_pods; i++)
        n += strcmp(c->in->pods[i].controller_uid, job_uid) == 0 &&
             plan_pod_ours(c, &c->in->pods[i]);
    return n;
}

/* The action of this plan of that kind for that uid, or NULL. */
static const struct plan_action *planned(const struct plan *out, enum plan_kind k, const char *uid)
{
    for (size_t i = 0; i < out->n; i++)
        if (out->actions[i].kind == k && strcmp(out->actions[i].uid, uid) == 0)
            return &out->actions[i];
    return NULL;
}

static int created_unseen(const struct ctx *c, const char *uid)
{
    for (size_t i = 0; i < c->in->n_created; i++)
        if (strcmp(c->in->created[i].uid, uid) == 0)
            return !c->in->created[i].seen;
    return 0;
}

void plan_delete_job(struct ctx *c, const char *name, const char *uid, const char *step)
{
    struct plan_action *a = plan_add(c->out, PLAN_DELETE_JOB);
    plan_copy_trunc(a->name, sizeof a->name, name);
    plan_copy_trunc(a->uid, sizeof a->uid, uid);
    plan_copy_trunc(a->step, sizeof a->step, step);
    /* Foreground: the Job stays, deleting, until its pods are gone, which
     * is how a teardown is seen to end; a uid, so that only this Job goes */
    a->body = kj_delete_options("Foreground", uid);
}

void plan_delete_pods(struct ctx *c)
{
    for (size_t i = 0; i < c->in->n_pods; i++) {
        const struct plan_pod *p = &c->in->pods[i];
        if (p->deleting || !plan_pod_running(p) || !p->uid[0] || !plan_pod_ours(c, p) ||
            planned(c->out, PLAN_DELETE_POD, p->uid))
            continue;
        const struct plan_job *j = plan_job_by_uid(c, p->controller_uid);
        const struct plan_action *now = j ? planned(c->out, PLAN_DELETE_JOB, j->uid) : NULL;
        /* A live Job looks after its pods; a Job the cache has not shown
         * yet may well be live. */
        if ((j && !j->deleting && !now) || (!j && created_unseen(c, p->controller_uid)))
            continue;
        char after[PLAN_SHORT_LEN]; /* copied: plan_add may move `now` */
        plan_copy_trunc(after, sizeof after, now ? now->name : "");
        struct plan_action *a = plan_add(c->out, PLAN_DELETE_POD);
        snprintf(a->name, sizeof a->name, "%s", p->name);
        snprintf(a->uid, sizeof a->uid, "%s", p->uid);
        snprintf(a->step, sizeof a->step, "%s", p->step);
        memcpy(a->job, after, sizeof a->job);
        a->body = kj_delete_options(NULL, p->uid);
    }
}
