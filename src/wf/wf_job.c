/* wf_job.c - child names and the batch/v1 Job body of a step.
 *
 * Names are deterministic so that a create after a crash hits 409
 * AlreadyExists instead of making a duplicate (reference fact 6). */
#include "wf/wf.h"
#include "wf/wf-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define K8S_NAME_MAX 253
#define HASH_HEX 10
#define PREFIX_MAX (WF_NAME_LEN - 1 - 1 - HASH_HEX) /* 52: prefix + '-' + hash = 63 */

/* text itself if <= 63 chars, else prefix-hash with sha256(hash_in). */
static int shorten(const char *text, const char *hash_in, char out[WF_NAME_LEN])
{
    size_t n = strlen(text);
    if (n < WF_NAME_LEN) {
        memcpy(out, text, n + 1);
        return 0;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(hash_in, strlen(hash_in), md, &mdlen, EVP_sha256(), NULL) != 1)
        return -ENOMEM; /* EVP only fails to allocate its context */
    size_t p = PREFIX_MAX;
    /* A label or name must end with an alphanumeric before our '-'. */
    while (p > 0 && (text[p - 1] == '-' || text[p - 1] == '.'))
        p--;
    memcpy(out, text, p);
    size_t o = p;
    if (p)
        out[o++] = '-';
    for (int i = 0; i < HASH_HEX / 2; i++)
        o += (size_t)snprintf(out + o, 3, "%02x", md[i]);
    out[o] = '\0';
    return 0;
}

int wf_job_name(const char *run, const char *step, char out[WF_NAME_LEN])
{
    char full[2 * K8S_NAME_MAX + 2], key[2 * K8S_NAME_MAX + 2];
    if (strlen(run) > K8S_NAME_MAX || strlen(step) > K8S_NAME_MAX)
        return -ENAMETOOLONG;
    snprintf(full, sizeof full, "%s-%s", run, step);
    snprintf(key, sizeof key, "%s/%s", run, step);
    return shorten(full, key, out);
}

int wf_label_value(const char *value, char out[WF_NAME_LEN])
{
    if (strlen(value) > K8S_NAME_MAX)
        return -ENAMETOOLONG;
    return shorten(value, value, out);
}

static struct json_object *copy(struct json_object *src)
{
    struct json_object *dst = NULL;
    if (json_object_deep_copy(src, &dst, NULL) != 0)
        abort();
    return dst;
}

/* How a step's texts are substituted: the kinds it may use, and where
 * their values come from. */
struct values {
    unsigned kinds;
    wf_lookup_fn lookup;
    void *ud;
};

static int subst_list(struct json_object *src, const struct values *v, struct json_object **ret)
{
    struct json_object *arr = kj_arr();
    for (size_t i = 0; i < json_object_array_length(src); i++) {
        char *s = NULL;
        int r = wf_subst_with(json_object_get_string(json_object_array_get_idx(src, i)), v->kinds,
                              v->lookup, v->ud, &s);
        if (r < 0) {
            json_object_put(arr);
            return r;
        }
        kj_push(arr, kj_str(s));
        free(s);
    }
    *ret = arr;
    return 0;
}

/* env entries are copied; only a literal `value` is substituted. */
static int subst_env(struct json_object *src, const struct values *v, struct json_object **ret)
{
    struct json_object *arr = kj_arr();
    for (size_t i = 0; i < json_object_array_length(src); i++) {
        struct json_object *e = copy(json_object_array_get_idx(src, i));
        const char *val = kj_get_str(e, "value");
        if (val) {
            char *s = NULL;
            int r = wf_subst_with(val, v->kinds, v->lookup, v->ud, &s);
            if (r < 0) {
                json_object_put(e);
                json_object_put(arr);
                return r;
            }
            kj_put(e, "value", kj_str(s));
            free(s);
        }
        kj_push(arr, e);
    }
    *ret = arr;
    return 0;
}

static int build_container(const struct wf_step *st, const struct values *p,
                           struct json_object **ret)
{
    struct json_object *c = kj_obj(), *v = NULL;
    int r = 0;
    kj_put(c, "name", kj_str(WF_CONTAINER_NAME));
    kj_put(c, "image", kj_str(st->image));
    if (st->command && (r = subst_list(st->command, p, &v)) == 0)
        kj_put(c, "command", v);
    if (r == 0 && st->args && (r = subst_list(st->args, p, &v)) == 0)
        kj_put(c, "args", v);
    if (r == 0 && st->env && (r = subst_env(st->env, p, &v)) == 0)
        kj_put(c, "env", v);
    if (r < 0) {
        json_object_put(c);
        return r;
    }
    /* File is the default; said explicitly because the results are read
     * from that file and FallbackToLogsOnError would pass the log off as
     * results. */
    if (st->n_results)
        kj_put(c, "terminationMessagePolicy", kj_str("File"));
    if (st->working_dir)
        kj_put(c, "workingDir", kj_str(st->working_dir));
    if (st->resources)
        kj_put(c, "resources", copy(st->resources));
    if (st->volume_mounts)
        kj_put(c, "volumeMounts", copy(st->volume_mounts));
    *ret = c;
    return 0;
}

/* Our labels; `user` (podTemplate labels) first so ours win on a clash,
 * and never the Argo CD tracking label (it would prune our children). */
static struct json_object *labels(struct json_object *user, const char *wf, const char *run,
                                  const struct wf_step *st, long index)
{
    struct json_object *l = user ? copy(user) : kj_obj();
    json_object_object_del(l, KJ_LABEL_ARGOCD_INSTANCE);
    kj_put(l, KJ_LABEL_WORKFLOW, kj_str(wf));
    kj_put(l, KJ_LABEL_RUN, kj_str(run));
    kj_put(l, KJ_LABEL_STEP, kj_str(st->name));
    if (st->is_finally)
        kj_put(l, KJ_LABEL_FINALLY, kj_str("true"));
    if (index >= 0) {
        char buf[24];
        snprintf(buf, sizeof buf, "%ld", index);
        kj_put(l, KJ_LABEL_MATRIX_INDEX, kj_str(buf));
    }
    return l;
}

static struct json_object *owner_ref(const struct wf_run_ref *run)
{
    struct json_object *o = kj_obj(), *arr = kj_arr();
    kj_put(o, "apiVersion", kj_str("runbook.dev/v1alpha1"));
    kj_put(o, "kind", kj_str("WorkflowRun"));
    kj_put(o, "name", kj_str(run->name));
    kj_put(o, "uid", kj_str(run->uid));
    kj_put(o, "controller", kj_bool(1));
    kj_put(o, "blockOwnerDeletion", kj_bool(1));
    kj_push(arr, o);
    return arr;
}

static struct json_object *pod_template(const struct wf_spec *s, const struct wf_step *st,
                                        struct json_object *container, const char *lwf,
                                        const char *lrun, long index)
{
    struct json_object *pt = st->pod_template;
    struct json_object *umeta = kj_get(pt, "metadata"), *uspec = kj_get(pt, "spec");
    struct json_object *meta = kj_obj();
    kj_put(meta, "labels", labels(kj_get(umeta, "labels"), lwf, lrun, st, index));
    if (kj_get(umeta, "annotations"))
        kj_put(meta, "annotations", copy(kj_get(umeta, "annotations")));
    struct json_object *spec = uspec ? copy(uspec) : kj_obj();
    struct json_object *containers = kj_arr();
    kj_push(containers, container);
    kj_put(spec, "containers", containers);
    kj_put(spec, "restartPolicy", kj_str("Never"));
    kj_put(spec, "terminationGracePeriodSeconds", kj_int(s->grace_seconds));
    struct json_object *tmpl = kj_obj();
    kj_put(tmpl, "metadata", meta);
    kj_put(tmpl, "spec", spec);
    return tmpl;
}

static int build(const struct wf_spec *s, size_t step, long index, wf_lookup_fn lookup, void *ud,
                 const struct wf_run_ref *run, struct json_object **ret)
{
    if (step >= s->n_steps || !run->name || !run->ns || !run->uid || !run->workflow || !lookup)
        return -EINVAL;
    const struct wf_step *st = &s->steps[step];
    struct values vals = {wf_step_kinds(st), lookup, ud};
    char name[WF_NAME_LEN], lrun[WF_NAME_LEN], lwf[WF_NAME_LEN];
    int r = wf_entry_job_name(run->name, st->name, index, name);
    if (r == 0)
        r = wf_label_value(run->name, lrun);
    if (r == 0)
        r = wf_label_value(run->workflow, lwf);
    struct json_object *container = NULL;
    if (r == 0)
        r = build_container(st, &vals, &container);
    if (r < 0)
        return r;

    struct json_object *meta = kj_obj();
    kj_put(meta, "name", kj_str(name));
    kj_put(meta, "namespace", kj_str(run->ns));
    kj_put(meta, "labels", labels(NULL, lwf, lrun, st, index));
    kj_put(meta, "ownerReferences", owner_ref(run));

    struct json_object *spec = kj_obj();
    kj_put(spec, "backoffLimit", kj_int(st->retries));
    if (st->timeout_seconds > 0)
        kj_put(spec, "activeDeadlineSeconds", kj_int(st->timeout_seconds));
    /* Needs restartPolicy Never and podReplacementPolicy Failed: both set. */
    if (st->pod_failure_policy)
        kj_put(spec, "podFailurePolicy", copy(st->pod_failure_policy));
    /* No replacement pod until the failed one is gone: no overlap. */
    kj_put(spec, "podReplacementPolicy", kj_str("Failed"));
    kj_put(spec, "template", pod_template(s, st, container, lwf, lrun, index));

    struct json_object *job = kj_obj();
    kj_put(job, "apiVersion", kj_str("batch/v1"));
    kj_put(job, "kind", kj_str("Job"));
    kj_put(job, "metadata", meta);
    kj_put(job, "spec", spec);
    *ret = job;
    return 0;
}

int wf_job_build(const struct wf_spec *s, size_t step, wf_lookup_fn lookup, void *ud,
                 const struct wf_run_ref *run, struct json_object **ret)
{
    return build(s, step, -1, lookup, ud, run, ret);
}

int wf_job_build_combo(const struct wf_spec *s, size_t step, long index, wf_lookup_fn lookup,
                       void *ud, const struct wf_run_ref *run, struct json_object **ret)
{
    if (index < 0 || step >= s->n_steps || !s->steps[step].n_matrix)
        return -EINVAL;
    return build(s, step, index, lookup, ud, run, ret);
}
