/* plan.c - the plan container and plan_run's dispatch on the run's phase.
 * The phase logic lives in plan_start.c (not started), plan_steps.c
 * (started) and plan_finish.c (terminal); plan_status.c turns a draft into
 * the status patch. */
#include "plan/plan.h"
#include "plan/plan-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const phase_names[] = {"",        "Pending", "Running",    "Succeeded",
                                          "Failing", "Failed",  "Cancelling", "Cancelled"};

const char *plan_phase_name(enum plan_phase p)
{
    return (size_t)p < sizeof phase_names / sizeof phase_names[0] ? phase_names[p] : "";
}

enum plan_phase plan_phase_parse(const char *s)
{
    for (size_t i = 1; s && i < sizeof phase_names / sizeof phase_names[0]; i++)
        if (strcmp(s, phase_names[i]) == 0)
            return (enum plan_phase)i;
    return PLAN_PHASE_NONE;
}

int plan_phase_terminal(enum plan_phase p)
{
    return p == PLAN_SUCCEEDED || p == PLAN_FAILED || p == PLAN_CANCELLED;
}

const char *plan_kind_name(enum plan_kind k)
{
    static const char *const names[] = {"PATCH_STATUS", "DELETE_JOB", "DELETE_POD", "CREATE_JOB",
                                        "CANCEL_RUN",   "DELETE_RUN", "EVENT"};
    return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* ---- the plan ------------------------------------------------------------ */

void plan_init(struct plan *p)
{
    memset(p, 0, sizeof *p);
}

void plan_release(struct plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        json_object_put(p->actions[i].body);
    free(p->actions);
    plan_init(p);
}

size_t plan_count(const struct plan *p, enum plan_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->actions[i].kind == k;
    return n;
}

struct plan_action *plan_add(struct plan *p, enum plan_kind kind)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct plan_action *a = realloc(p->actions, cap * sizeof *a);
        if (!a)
            abort();
        p->actions = a;
        p->cap = cap;
    }
    struct plan_action *a = &p->actions[p->n++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    return a;
}

void plan_event(struct plan *p, int warning, const char *reason, const char *related,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct plan_action *a = plan_add(p, PLAN_EVENT);
    /* The analyzer loses va_start when it inlines a variadic callee:
     * NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    snprintf(a->type, sizeof a->type, "%s", warning ? "Warning" : "Normal");
    snprintf(a->reason, sizeof a->reason, "%s", reason);
    snprintf(a->name, sizeof a->name, "%s", related ? related : "");
}

void plan_requeue(struct plan *p, int64_t after_ms)
{
    if (after_ms < 1)
        after_ms = 1; /* due now: still a timed wake-up, never "none" */
    if (p->requeue_after_ms == 0 || after_ms < p->requeue_after_ms)
        p->requeue_after_ms = after_ms;
}

/* Stable reorder into the documented execution order (the enum order). */
static void order_actions(struct plan *p)
{
    if (p->n < 2)
        return;
    struct plan_action *sorted = malloc(p->n * sizeof *sorted);
    if (!sorted)
        abort();
    size_t o = 0;
    for (int k = PLAN_PATCH_STATUS; k <= PLAN_EVENT; k++)
        for (size_t i = 0; i < p->n; i++)
            if ((int)p->actions[i].kind == k)
                sorted[o++] = p->actions[i];
    free(p->actions);
    p->actions = sorted;
    p->cap = p->n;
}

int plan_run(const struct plan_input *in, struct plan *out)
{
    plan_release(out);
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.in = in;
    c.out = out;
    c.now = in->now_ms;
    c.meta = kj_get(in->run, "metadata");
    c.name = kj_get_str(c.meta, "name");
    c.ns = kj_get_str(c.meta, "namespace");
    c.uid = kj_get_str(c.meta, "uid");
    if (!c.name || !c.ns || !c.uid)
        return -EINVAL;
    /* Being deleted: GC removes the children, nothing left to do. */
    if (kj_get(c.meta, "deletionTimestamp"))
        return 0;
    c.rv = kj_get_str(c.meta, "resourceVersion");
    struct json_object *gen = kj_get(c.meta, "generation");
    c.generation = gen ? json_object_get_int64(gen) : 0;
    c.creation_ms = kj_get_time(c.meta, "creationTimestamp");
    c.spec = kj_get(in->run, "spec");
    c.status = kj_get(in->run, "status");
    c.workflow = kj_get_str(kj_get(c.spec, "workflowRef"), "name");
    c.old_phase = plan_phase_parse(kj_get_str(c.status, "phase"));
    c.cancel = kj_get_bool(c.spec, "cancel") || kj_get_bool(c.status, "cancelRequested");
    plan_job_uids(&c);

    if (plan_phase_terminal(c.old_phase))
        plan_terminal(&c);
    else if (c.old_phase == PLAN_PHASE_NONE || c.old_phase == PLAN_PENDING)
        plan_start(&c);
    else
        plan_progress(&c);
    order_actions(out);
    free((void *)c.job_uids);
    return 0;
}
