#include "informer/inf_kinds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* Collects a record's strings, then copies them into one buffer. */
#define PACK_MAX 8
struct pack {
    const char *src[PACK_MAX];
    const char **dst[PACK_MAX];
    int n;
};

static void pack_add(struct pack *p, const char **dst, const char *s)
{
    if (s && p->n < PACK_MAX) {
        p->src[p->n] = s;
        p->dst[p->n] = dst;
        p->n++;
    }
}

static int pack_done(struct pack *p, char **buf)
{
    size_t total = 0;
    for (int i = 0; i < p->n; i++)
        total += strlen(p->src[i]) + 1;
    if (total == 0)
        return 0;
    char *b = malloc(total);
    if (!b)
        return -ENOMEM;
    *buf = b;
    for (int i = 0; i < p->n; i++) {
        size_t l = strlen(p->src[i]) + 1;
        memcpy(b, p->src[i], l);
        *p->dst[i] = b;
        b += l;
    }
    return 0;
}

static void copy_uid(char *dst, size_t cap, const char *s)
{
    if (s) {
        size_t n = strlen(s);
        if (n >= cap)
            n = cap - 1;
        memcpy(dst, s, n);
        dst[n] = '\0';
    }
}

static int32_t jint(struct json_object *o, const char *k)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
        return 0;
    return json_object_get_int(v);
}

static const char *label(struct json_object *obj, const char *k)
{
    return inf_jstr(obj, "metadata", "labels", k, NULL);
}

static const char *controller_uid(struct json_object *obj)
{
    struct json_object *refs = inf_jget(obj, "metadata", "ownerReferences", NULL);
    if (!json_object_is_type(refs, json_type_array))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(refs); i++) {
        struct json_object *r = json_object_array_get_idx(refs, i), *c;
        if (json_object_object_get_ex(r, "controller", &c) && json_object_get_boolean(c))
            return inf_jstr(r, "uid", NULL);
    }
    return NULL;
}

static int job_project(struct json_object *obj, void *record)
{
    struct inf_job *j = record;
    struct json_object *st = inf_jget(obj, "status", NULL);
    struct pack p = {0};
    pack_add(&p, &j->workflow, label(obj, INF_LABEL_WORKFLOW));
    pack_add(&p, &j->run, label(obj, INF_LABEL_RUN));
    pack_add(&p, &j->step, label(obj, INF_LABEL_STEP));
    pack_add(&p, &j->owner_uid, controller_uid(obj));
    copy_uid(j->uid, sizeof j->uid, inf_jstr(obj, "metadata", "uid", NULL));
    j->created = inf_parse_time(inf_jstr(obj, "metadata", "creationTimestamp", NULL));
    j->deleted = inf_parse_time(inf_jstr(obj, "metadata", "deletionTimestamp", NULL));
    const char *failed_reason = NULL, *target_reason = NULL;
    if (st) {
        j->active = jint(st, "active");
        j->ready = jint(st, "ready");
        j->succeeded = jint(st, "succeeded");
        j->failed = jint(st, "failed");
        j->terminating = jint(st, "terminating");
        j->started = inf_parse_time(inf_jstr(st, "startTime", NULL));
        j->completed = inf_parse_time(inf_jstr(st, "completionTime", NULL));
        struct json_object *conds = inf_jget(st, "conditions", NULL);
        size_t n =
            json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
        for (size_t i = 0; i < n; i++) {
            struct json_object *c = json_object_array_get_idx(conds, i);
            const char *type = inf_jstr(c, "type", NULL), *status = inf_jstr(c, "status", NULL);
            if (!type || !status || strcmp(status, "True") != 0)
                continue;
            if (strcmp(type, "Complete") == 0) {
                j->conditions |= INF_JOB_COMPLETE;
            } else if (strcmp(type, "Failed") == 0) {
                j->conditions |= INF_JOB_FAILED;
                failed_reason = inf_jstr(c, "reason", NULL);
            } else if (strcmp(type, "FailureTarget") == 0) {
                j->conditions |= INF_JOB_FAILURE_TARGET;
                target_reason = inf_jstr(c, "reason", NULL);
            } else if (strcmp(type, "SuccessCriteriaMet") == 0) {
                j->conditions |= INF_JOB_SUCCESS_CRITERIA_MET;
            } else if (strcmp(type, "Suspended") == 0) {
                j->conditions |= INF_JOB_SUSPENDED;
            }
        }
    }
    pack_add(&p, &j->fail_reason, target_reason ? target_reason : failed_reason);
    return pack_done(&p, &j->buf_);
}

static void job_release(void *record)
{
    free(((struct inf_job *)record)->buf_);
}

const struct inf_projection inf_job_projection = {sizeof(struct inf_job), job_project, job_release};

static uint8_t pod_phase(const char *s)
{
    static const char *const names[] = {"Pending", "Running", "Succeeded", "Failed"};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return (uint8_t)(i + 1);
    return INF_POD_UNKNOWN;
}

/* The "step" container's status (the operator names it so), else the first. */
static struct json_object *step_status(struct json_object *st)
{
    struct json_object *cs = inf_jget(st, "containerStatuses", NULL);
    if (!json_object_is_type(cs, json_type_array) || json_object_array_length(cs) == 0)
        return NULL;
    for (size_t i = 0; i < json_object_array_length(cs); i++) {
        struct json_object *c = json_object_array_get_idx(cs, i);
        const char *name = inf_jstr(c, "name", NULL);
        if (name && strcmp(name, "step") == 0)
            return c;
    }
    return json_object_array_get_idx(cs, 0);
}

static int pod_project(struct json_object *obj, void *record)
{
    struct inf_pod *p = record;
    struct json_object *st = inf_jget(obj, "status", NULL);
    struct pack k = {0};
    const char *job = label(obj, "batch.kubernetes.io/job-name");
    pack_add(&k, &p->run, label(obj, INF_LABEL_RUN));
    pack_add(&k, &p->step, label(obj, INF_LABEL_STEP));
    pack_add(&k, &p->job, job ? job : label(obj, "job-name"));
    pack_add(&k, &p->node, inf_jstr(obj, "spec", "nodeName", NULL));
    copy_uid(p->uid, sizeof p->uid, inf_jstr(obj, "metadata", "uid", NULL));
    p->created = inf_parse_time(inf_jstr(obj, "metadata", "creationTimestamp", NULL));
    p->deleted = inf_parse_time(inf_jstr(obj, "metadata", "deletionTimestamp", NULL));
    p->exit_code = -1;
    const char *reason = inf_jstr(st, "reason", NULL);
    p->phase = pod_phase(inf_jstr(st, "phase", NULL));
    p->started = inf_parse_time(inf_jstr(st, "startTime", NULL));
    struct json_object *cs = step_status(st);
    if (cs) {
        p->restarts = jint(cs, "restartCount");
        struct json_object *term = inf_jget(cs, "state", "terminated", NULL);
        if (term) {
            p->exit_code = jint(term, "exitCode");
            const char *r = inf_jstr(term, "reason", NULL);
            if (r)
                reason = r;
        }
    }
    pack_add(&k, &p->reason, reason);
    return pack_done(&k, &p->buf_);
}

static void pod_release(void *record)
{
    free(((struct inf_pod *)record)->buf_);
}

const struct inf_projection inf_pod_projection = {sizeof(struct inf_pod), pod_project, pod_release};
