/* plan_project.c - compact projections of Jobs, Pods and sibling runs
 * (what the caches keep, < 1 KiB each) and RFC 3339 time handling.
 * Times are converted by hand (days from civil) so that no libc time zone
 * state is involved. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct json_object *plan_get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

const char *plan_get_str(struct json_object *o, const char *key)
{
    struct json_object *v = plan_get(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t plan_get_time(struct json_object *o, const char *key)
{
    int64_t ms = 0;
    const char *s = plan_get_str(o, key);
    if (!s || plan_time_parse(s, &ms) < 0)
        return 0;
    return ms;
}

int plan_get_bool(struct json_object *o, const char *key)
{
    struct json_object *v = plan_get(o, key);
    return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static int32_t get_i32(struct json_object *o, const char *key)
{
    struct json_object *v = plan_get(o, key);
    return v && json_object_is_type(v, json_type_int) ? json_object_get_int(v) : 0;
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Exactly n decimal digits at s; -1 if not. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int plan_time_parse(const char *s, int64_t *ms)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
        return -EINVAL;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        sec < 0 || sec > 60)
        return -EINVAL;
    const char *p = s + 19;
    int64_t frac_ms = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
        if (n == 0)
            return -EINVAL;
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = digits(p + 1, 2), om = p[3] == ':' ? digits(p + 4, 2) : -1;
        if (oh < 0 || om < 0)
            return -EINVAL;
        offset_s = ((int64_t)oh * 3600 + (int64_t)om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = (days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec - offset_s) * 1000 + frac_ms;
    return 0;
}

void plan_time_format(int64_t ms, char out[32])
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400;
    int64_t rem = secs - z * 86400;
    /* civil_from_days, the inverse of the above */
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
    unsigned yy = y < 0 ? 0 : y > 9999 ? 9999 : (unsigned)y, sod = (unsigned)rem % 86400;
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", yy % 10000, m % 13, d % 32, sod / 3600 % 24,
             sod / 60 % 60, sod % 60);
}

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

static const char *label(struct json_object *meta, const char *key)
{
    return plan_get_str(plan_get(meta, "labels"), key);
}

/* The controller ownerReference's field `key`, or NULL. */
static const char *controller_ref(struct json_object *meta, const char *key)
{
    struct json_object *refs = plan_get(meta, "ownerReferences");
    for (size_t i = 0; refs && i < json_object_array_length(refs); i++) {
        struct json_object *r = json_object_array_get_idx(refs, i);
        if (plan_get_bool(r, "controller"))
            return plan_get_str(r, key);
    }
    return NULL;
}

int plan_job_from_json(struct json_object *job, struct plan_job *out)
{
    struct json_object *meta = plan_get(job, "metadata"), *st = plan_get(job, "status");
    struct plan_job j;
    memset(&j, 0, sizeof j);
    int r = copy_name(j.name, sizeof j.name, plan_get_str(meta, "name"));
    if (r < 0)
        return r;
    plan_copy_trunc(j.uid, sizeof j.uid, plan_get_str(meta, "uid"));
    plan_copy_trunc(j.controller_uid, sizeof j.controller_uid, controller_ref(meta, "uid"));
    plan_copy_trunc(j.step, sizeof j.step, label(meta, WF_LABEL_STEP));
    const char *fin = label(meta, WF_LABEL_FINALLY);
    j.is_finally = fin && strcmp(fin, "true") == 0;
    j.deleting = plan_get(meta, "deletionTimestamp") != NULL;
    j.active = get_i32(st, "active");
    j.succeeded = get_i32(st, "succeeded");
    j.failed_pods = get_i32(st, "failed");
    j.start_ms = plan_get_time(st, "startTime");
    j.completion_ms = plan_get_time(st, "completionTime");
    struct json_object *conds = plan_get(st, "conditions");
    for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        const char *type = plan_get_str(c, "type"), *status = plan_get_str(c, "status");
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
            plan_copy_trunc(j.reason, sizeof j.reason, plan_get_str(c, "reason"));
            plan_copy_trunc(j.message, sizeof j.message, plan_get_str(c, "message"));
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
    struct json_object *cs = plan_get(st, "containerStatuses");
    for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
        struct json_object *c = json_object_array_get_idx(cs, i);
        const char *name = plan_get_str(c, "name");
        if (!name || strcmp(name, WF_CONTAINER_NAME) != 0)
            continue;
        struct json_object *t = plan_get(plan_get(c, "state"), "terminated");
        if (!t)
            t = plan_get(plan_get(c, "lastState"), "terminated");
        if (!t)
            return;
        p->terminated = 1;
        p->exit_code = get_i32(t, "exitCode");
        plan_copy_trunc(p->reason, sizeof p->reason, plan_get_str(t, "reason"));
        plan_copy_trunc(p->message, sizeof p->message, plan_get_str(t, "message"));
        p->finished_ms = plan_get_time(t, "finishedAt");
        return;
    }
}

int plan_pod_from_json(struct json_object *pod, struct plan_pod *out)
{
    struct json_object *meta = plan_get(pod, "metadata"), *st = plan_get(pod, "status");
    struct plan_pod p;
    memset(&p, 0, sizeof p);
    int r = copy_name(p.name, sizeof p.name, plan_get_str(meta, "name"));
    if (r < 0)
        return r;
    plan_copy_trunc(p.step, sizeof p.step, label(meta, WF_LABEL_STEP));
    const char *job = label(meta, "batch.kubernetes.io/job-name");
    if (!job)
        job = label(meta, "job-name");
    if (!job)
        job = controller_ref(meta, "name");
    plan_copy_trunc(p.job, sizeof p.job, job);
    plan_copy_trunc(p.uid, sizeof p.uid, plan_get_str(meta, "uid"));
    /* The ownerReference goes when the Job is deleted with the orphan
     * policy; the label the Job controller set stays. */
    const char *juid = controller_ref(meta, "uid");
    if (!juid)
        juid = label(meta, "batch.kubernetes.io/controller-uid");
    if (!juid)
        juid = label(meta, "controller-uid");
    plan_copy_trunc(p.controller_uid, sizeof p.controller_uid, juid);
    p.phase = pod_phase(plan_get_str(st, "phase"));
    p.deletion_deadline_ms = plan_get_time(meta, "deletionTimestamp");
    p.deleting = plan_get(meta, "deletionTimestamp") != NULL;
    pod_termination(st, &p);
    *out = p;
    return 0;
}

int plan_sibling_from_json(struct json_object *run, struct plan_sibling *out)
{
    struct json_object *meta = plan_get(run, "metadata"), *st = plan_get(run, "status");
    struct plan_sibling s;
    memset(&s, 0, sizeof s);
    int r = copy_name(s.name, sizeof s.name, plan_get_str(meta, "name"));
    if (r < 0)
        return r;
    plan_copy_trunc(s.uid, sizeof s.uid, plan_get_str(meta, "uid"));
    s.phase = plan_phase_parse(plan_get_str(st, "phase"));
    s.deleting = plan_get(meta, "deletionTimestamp") != NULL;
    s.cancel =
        plan_get_bool(plan_get(run, "spec"), "cancel") || plan_get_bool(st, "cancelRequested");
    s.creation_ms = plan_get_time(meta, "creationTimestamp");
    s.completion_ms = plan_get_time(st, "completionTime");
    *out = s;
    return 0;
}
