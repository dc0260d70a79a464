/* plan_project.c - compact projections of Jobs, Pods and sibling runs:
 * what the caches keep (< 1 KiB each) and plan_run reads. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Copies s into a fixed buffer; -ENAMETOOLONG if it does not fit. */
static int copy_name(char *dst, size_t cap, const char *s)
{
    if (!s || !*s)
        return -EINVAL;
    if (strlen(s) >= cap)
        return -ENAMETOOLONG;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

void plan_copy_trunc(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

/* What every projection starts with: metadata and status, the name (it
 * must fit), the uid. */
static int head(struct json_object *o, char *name, size_t cap, char uid[PLAN_UID_LEN],
                struct json_object **meta, struct json_object **st)
{
    *meta = kj_get(o, "metadata");
    *st = kj_get(o, "status");
    int r = copy_name(name, cap, kj_get_str(*meta, "name"));
    if (r == 0)
        plan_copy_trunc(uid, PLAN_UID_LEN, kj_get_str(*meta, "uid"));
    return r;
}

int plan_job_from_json(struct json_object *job, struct plan_job *out)
{
    struct json_object *meta, *st;
    struct plan_job j;
    memset(&j, 0, sizeof j);
    int r = head(job, j.name, sizeof j.name, j.uid, &meta, &st);
    if (r < 0)
        return r;
    plan_copy_trunc(j.controller_uid, sizeof j.controller_uid, kj_controller_ref(meta, "uid"));
    plan_copy_trunc(j.step, sizeof j.step, kj_label(meta, KJ_LABEL_STEP));
    const char *fin = kj_label(meta, KJ_LABEL_FINALLY);
    j.is_finally = fin && strcmp(fin, "true") == 0;
    j.deleting = kj_get(meta, "deletionTimestamp") != NULL;
    j.active = kj_get_i32(st, "active");
    j.succeeded = kj_get_i32(st, "succeeded");
    j.failed_pods = kj_get_i32(st, "failed");
    j.start_ms = kj_get_time(st, "startTime");
    j.completion_ms = kj_get_time(st, "completionTime");
    struct json_object *conds = kj_get(st, "conditions");
    for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        const char *type = kj_get_str(c, "type"), *status = kj_get_str(c, "status");
        if (!type || !status || strcmp(status, "True") != 0)
            continue;
        int is_failed = strcmp(type, "Failed") == 0;
        if (strcmp(type, "Complete") == 0)
            j.complete = 1;
        else if (strcmp(type, "SuccessCriteriaMet") == 0)
            j.success_criteria_met = 1;
        else if (strcmp(type, "FailureTarget") == 0)
            j.failure_target = 1;
        else if (is_failed)
            j.failed = 1;
        /* Failed carries the final word; FailureTarget only until then. */
        if (is_failed || (strcmp(type, "FailureTarget") == 0 && !j.failed)) {
            plan_copy_trunc(j.reason, sizeof j.reason, kj_get_str(c, "reason"));
            plan_copy_trunc(j.message, sizeof j.message, kj_get_str(c, "message"));
        }
    }
    *out = j;
    return 0;
}

static enum plan_pod_phase pod_phase(const char *s)
{
    static const char *const names[] = {"Pending", "Running", "Succeeded", "Failed"};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return (enum plan_pod_phase)i;
    return PLAN_POD_UNKNOWN;
}

static void pod_termination(struct json_object *st, struct plan_pod *p)
{
    struct json_object *cs = kj_get(st, "containerStatuses");
    for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
        struct json_object *c = json_object_array_get_idx(cs, i);
        const char *name = kj_get_str(c, "name");
        if (!name || strcmp(name, WF_CONTAINER_NAME) != 0)
            continue;
        struct json_object *t = kj_get(kj_get(c, "state"), "terminated");
        if (!t)
            t = kj_get(kj_get(c, "lastState"), "terminated");
        if (!t)
            return;
        p->terminated = 1;
        p->exit_code = kj_get_i32(t, "exitCode");
        plan_copy_trunc(p->reason, sizeof p->reason, kj_get_str(t, "reason"));
        plan_copy_trunc(p->message, sizeof p->message, kj_get_str(t, "message"));
        p->finished_ms = kj_get_time(t, "finishedAt");
        if (p->exit_code == 0) {
            const char *m = kj_get_str(t, "message");
            p->result = m ? m : "";
        }
        return;
    }
}

int plan_pod_from_json(struct json_object *pod, struct plan_pod *out)
{
    struct json_object *meta, *st;
    struct plan_pod p;
    memset(&p, 0, sizeof p);
    int r = head(pod, p.name, sizeof p.name, p.uid, &meta, &st);
    if (r < 0)
        return r;
    plan_copy_trunc(p.step, sizeof p.step, kj_label(meta, KJ_LABEL_STEP));
    const char *job = kj_label(meta, KJ_LABEL_JOB_NAME);
    if (!job)
        job = kj_label(meta, KJ_LABEL_JOB_NAME_OLD);
    if (!job)
        job = kj_controller_ref(meta, "name");
    plan_copy_trunc(p.job, sizeof p.job, job);
    /* The ownerReference goes when the Job is deleted with the orphan
     * policy; the label the Job controller set stays. */
    const char *juid = kj_controller_ref(meta, "uid");
    if (!juid)
        juid = kj_label(meta, KJ_LABEL_CONTROLLER_UID);
    if (!juid)
        juid = kj_label(meta, KJ_LABEL_CONTROLLER_UID_OLD);
    plan_copy_trunc(p.controller_uid, sizeof p.controller_uid, juid);
    p.phase = pod_phase(kj_get_str(st, "phase"));
    p.deletion_deadline_ms = kj_get_time(meta, "deletionTimestamp");
    p.deleting = kj_get(meta, "deletionTimestamp") != NULL;
    pod_termination(st, &p);
    *out = p;
    return 0;
}

int plan_sibling_from_json(struct json_object *run, struct plan_sibling *out)
{
    struct json_object *meta, *st;
    struct plan_sibling s;
    memset(&s, 0, sizeof s);
    int r = head(run, s.name, sizeof s.name, s.uid, &meta, &st);
    if (r < 0)
        return r;
    s.phase = plan_phase_parse(kj_get_str(st, "phase"));
    s.deleting = kj_get(meta, "deletionTimestamp") != NULL;
    s.cancel = kj_get_bool(kj_get(run, "spec"), "cancel") || kj_get_bool(st, "cancelRequested");
    s.creation_ms = kj_get_time(meta, "creationTimestamp");
    s.completion_ms = kj_get_time(st, "completionTime");
    *out = s;
    return 0;
}
