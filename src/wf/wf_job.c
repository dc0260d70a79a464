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

static int subst_list(struct json_object *src, const struct wf_params *p, struct json_object **ret)
{
    struct json_object *arr = wf_jarr();
    for (size_t i = 0; i < json_object_array_length(src); i++) {
        char *s = NULL;
        int r = wf_subst(json_object_get_string(json_object_array_get_idx(src, i)), p, &s);
        if (r < 0) {
            json_object_put(arr);
            return r;
        }
        wf_push(arr, wf_jstr(s));
        free(s);
    }
    *ret = arr;
    return 0;
}

/* env entries are copied; only a literal `value` is substituted. */
static int subst_env(struct json_object *src, const struct wf_params *p, struct json_object **ret)
{
    struct json_object *arr = wf_jarr();
    for (size_t i = 0; i < json_object_array_length(src); i++) {
        struct json_object *e = copy(json_object_array_get_idx(src, i));
        const char *v = wf_get_str(e, "value");
        if (v) {
            char *s = NULL;
            int r = wf_subst(v, p, &s);
            if (r < 0) {
                json_object_put(e);
                json_object_put(arr);
                return r;
            }
            wf_put(e, "value", wf_jstr(s));
            free(s);
        }
        wf_push(arr, e);
    }
    *ret = arr;
    return 0;
}

static int build_container(const struct wf_step *st, const struct wf_params *p,
                           struct json_object **ret)
{
    struct json_object *c = wf_jobj(), *v = NULL;
    int r = 0;
    wf_put(c, "name", wf_jstr(WF_CONTAINER_NAME));
    wf_put(c, "image", wf_jstr(st->image));
    if (st->command && (r = subst_list(st->command, p, &v)) == 0)
        wf_put(c, "command", v);
    if (r == 0 && st->args && (r = subst_list(st->args, p, &v)) == 0)
        wf_put(c, "args", v);
    if (r == 0 && st->env && (r = subst_env(st->env, p, &v)) == 0)
        wf_put(c, "env", v);
    if (r < 0) {
        json_object_put(c);
        return r;
    }
    if (st->working_dir)
        wf_put(c, "workingDir", wf_jstr(st->working_dir));
    if (st->resources)
        wf_put(c, "resources", copy(st->resources));
    *ret = c;
    return 0;
}

/* Our labels; `user` (podTemplate labels) first so ours win on a clash,
 * and never the Argo CD tracking label (it would prune our children). */
static struct json_object *labels(struct json_object *user, const char *wf, const char *run,
                                  const struct wf_step *st)
{
    struct json_object *l = user ? copy(user) : wf_jobj();
    json_object_object_del(l, "app.kubernetes.io/instance");
    wf_put(l, WF_LABEL_WORKFLOW, wf_jstr(wf));
    wf_put(l, WF_LABEL_RUN, wf_jstr(run));
    wf_put(l, WF_LABEL_STEP, wf_jstr(st->name));
    if (st->is_finally)
        wf_put(l, WF_LABEL_FINALLY, wf_jstr("true"));
    return l;
}

static struct json_object *owner_ref(const struct wf_run_ref *run)
{
    struct json_object *o = wf_jobj(), *arr = wf_jarr();
    wf_put(o, "apiVersion", wf_jstr("runbook.dev/v1alpha1"));
    wf_put(o, "kind", wf_jstr("WorkflowRun"));
    wf_put(o, "name", wf_jstr(run->name));
    wf_put(o, "uid", wf_jstr(run->uid));
    wf_put(o, "controller", wf_jbool(1));
    wf_put(o, "blockOwnerDeletion", wf_jbool(1));
    wf_push(arr, o);
    return arr;
}

static struct json_object *pod_template(const struct wf_spec *s, const struct wf_step *st,
                                        struct json_object *container, const char *lwf,
                                        const char *lrun)
{
    struct json_object *pt = st->pod_template;
    struct json_object *umeta = wf_get(pt, "metadata"), *uspec = wf_get(pt, "spec");
    struct json_object *meta = wf_jobj();
    wf_put(meta, "labels", labels(wf_get(umeta, "labels"), lwf, lrun, st));
    if (wf_get(umeta, "annotations"))
        wf_put(meta, "annotations", copy(wf_get(umeta, "annotations")));
    struct json_object *spec = uspec ? copy(uspec) : wf_jobj();
    struct json_object *containers = wf_jarr();
    wf_push(containers, container);
    wf_put(spec, "containers", containers);
    wf_put(spec, "restartPolicy", wf_jstr("Never"));
    wf_put(spec, "terminationGracePeriodSeconds", wf_jint(s->grace_seconds));
    struct json_object *tmpl = wf_jobj();
    wf_put(tmpl, "metadata", meta);
    wf_put(tmpl, "spec", spec);
    return tmpl;
}

int wf_job_build(const struct wf_spec *s, size_t step, const struct wf_params *p,
                 const struct wf_run_ref *run, struct json_object **ret)
{
    if (step >= s->n_steps || !run->name || !run->ns || !run->uid || !run->workflow)
        return -EINVAL;
    const struct wf_step *st = &s->steps[step];
    char name[WF_NAME_LEN], lrun[WF_NAME_LEN], lwf[WF_NAME_LEN];
    int r = wf_job_name(run->name, st->name, name);
    if (r == 0)
        r = wf_label_value(run->name, lrun);
    if (r == 0)
        r = wf_label_value(run->workflow, lwf);
    struct json_object *container = NULL;
    if (r == 0)
        r = build_container(st, p, &container);
    if (r < 0)
        return r;

    struct json_object *meta = wf_jobj();
    wf_put(meta, "name", wf_jstr(name));
    wf_put(meta, "namespace", wf_jstr(run->ns));
    wf_put(meta, "labels", labels(NULL, lwf, lrun, st));
    wf_put(meta, "ownerReferences", owner_ref(run));

    struct json_object *spec = wf_jobj();
    wf_put(spec, "backoffLimit", wf_jint(st->retries));
    if (st->timeout_seconds > 0)
        wf_put(spec, "activeDeadlineSeconds", wf_jint(st->timeout_seconds));
    /* No replacement pod until the failed one is gone: no overlap. */
    wf_put(spec, "podReplacementPolicy", wf_jstr("Failed"));
    wf_put(spec, "template", pod_template(s, st, container, lwf, lrun));

    struct json_object *job = wf_jobj();
    wf_put(job, "apiVersion", wf_jstr("batch/v1"));
    wf_put(job, "kind", wf_jstr("Job"));
    wf_put(job, "metadata", meta);
    wf_put(job, "spec", spec);
    *ret = job;
    return 0;
}
