/* The consistent LIST of a run's pods that a plan asks for (LIST_PODS)
 * before it trusts the pod cache with a decision the promise rests on:
 * starting the finally steps, or writing the terminal phase, once a Job
 * of the run is gone.
 *
 * Why the cache is not enough: the Job and pod watches are separate
 * streams, and the pod watch can lag. The hour-long soak caught
 * kube-controller-manager, resuming from a pause, creating pods from its
 * stale Job cache for Jobs its garbage collector was removing; the Job
 * watch said "gone" before the pod watch said "created", and a run went
 * terminal with those pods running. A LIST without resourceVersion is
 * served at etcd's current revision: every pod created before it is in
 * the answer, whatever the watch delivered.
 *
 * The answer goes to the memo (ctrl_memo_listed) and the next plan of the
 * run takes it, merged into the cached pods (plan_input.pods_listed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl-internal.h"
#include "kube/kube.h"
#include "log/log.h"

struct list_req {
    struct ctrl *c;
    void (*done)(void *ud, int rc, int unseen);
    void *ud;
    char ns[64];
    char run[PLAN_OBJ_LEN];
};

/* A pod of the answer the cache does not show as that pod (by uid). */
static int unseen(struct ctrl *c, const char *ns, const struct plan_pod *p)
{
    const struct ctrl_pod *cached = inf_get(c->inf[CTRL_INF_PODS], ns, p->name);
    return !cached || strcmp(ctrl_pod_uid(cached), p->uid) != 0;
}

static void answered(void *ud, const struct kube_result *res)
{
    struct list_req *q = ud;
    struct ctrl *c = q->c;
    struct json_object *items = NULL;
    if (res->err || res->http_status != 200 || !res->body ||
        !json_object_object_get_ex(res->body, "items", &items) ||
        !json_object_is_type(items, json_type_array)) {
        char code[16];
        snprintf(code, sizeof code, "%ld", res->http_status);
        log_kv(LOGL_WARN, "pod list failed", "run", q->run, "namespace", q->ns, "code",
               res->err ? NULL : code, "reason", res->status.reason[0] ? res->status.reason : NULL,
               "error", res->status.message[0] ? res->status.message : strerror(-res->err), NULL);
        q->done(q->ud, -EIO, 0);
        free(q);
        return;
    }
    size_t n = json_object_array_length(items), o = 0;
    struct plan_pod *pods = n ? calloc(n, sizeof *pods) : NULL;
    int rc = n && !pods ? -ENOMEM : 0, lacked = 0;
    for (size_t i = 0; pods && i < n; i++) {
        if (plan_pod_from_json(json_object_array_get_idx(items, i), &pods[o]) < 0)
            continue; /* no name: the cache would not hold it either */
        /* It points into the answer, freed below; a step's results are
         * read from the cached pod, which the watch brings. */
        pods[o].result = NULL;
        int running = pods[o].phase != PLAN_POD_SUCCEEDED && pods[o].phase != PLAN_POD_FAILED;
        lacked |= running && unseen(c, q->ns, &pods[o]);
        o++;
    }
    if (rc == 0)
        rc = ctrl_memo_listed(c->memo, q->ns, q->run, pods, o);
    if (rc == 0) {
        c->stats.pod_lists++;
        c->stats.pod_lists_unseen += (uint64_t)lacked;
    }
    q->done(q->ud, rc, lacked);
    free(q);
}

int ctrl_list_pods(struct ctrl *c, const char *ns, const char *run, const struct plan_action *a,
                   void (*done)(void *ud, int rc, int unseen), void *ud)
{
    const char *sel = kj_get_str(a->body, "labelSelector");
    if (!sel || !*sel)
        return -EINVAL; /* a plan always says which pods */
    struct list_req *q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    *q = (struct list_req){.c = c, .done = done, .ud = ud};
    snprintf(q->ns, sizeof q->ns, "%s", ns);
    snprintf(q->run, sizeof q->run, "%s", run);
    /* No resourceVersion: a consistent read, never the watch cache's past. */
    struct kube_list_opts opts = {.label_selector = sel};
    int rc = c->w.list(c->w.ud, &KUBE_PODS, ns, &opts, answered, q);
    if (rc < 0)
        free(q);
    return rc;
}
