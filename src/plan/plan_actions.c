/* plan_actions.c - the plan itself: its actions (added in any order,
 * sorted by plan_run), events, the requeue time, and the names of phases
 * and action kinds. Shared by every plan_*.c; depends on none of them. */
#include "plan/plan-internal.h"
#include "plan/plan.h"

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
                                        "CANCEL_RUN",   "DELETE_RUN", "LIST_PODS",  "EVENT"};
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
