/* Events about runs and Workflows, sent on a lane of their own.
 *
 * Events are notes: best effort, and never worth delaying a Job create or
 * a teardown's DELETE. Sent inline, they were a third of the operator's
 * writes (12 per 5-step run) and competed with those writes for the API
 * server, which is CPU-bound in a burst. Here they wait in a FIFO and go
 * out at most `qps` a second and `in_flight` at a time; when the FIFO holds
 * `queue` events the newest are dropped and counted, as client-go's event
 * broadcaster does with its queue of 1,000. Status stays the record of
 * truth; an Event lost here is only a lost note. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl-internal.h"
#include "kube/kube.h"
#include "limit/limit.h"
#include "log/log.h"

enum { EV_NS, EV_NAME, EV_UID, EV_REASON, EV_MESSAGE, EV_RELATED, EV_N };

struct ev {
    struct ev *next;
    int64_t ms; /* when it was planned: eventTime */
    char type[8];
    char kind;  /* 'r' WorkflowRun, 'w' Workflow */
    char *strs; /* packed, EV_N strings */
};

struct ctrl_ev_lane {
    struct ctrl_ev_options o;
    char *instance;
    struct ev *head, *tail;
    size_t queued, in_flight;
    uint64_t seq; /* makes Event names unique within a millisecond */
    struct limit_bucket bucket;
    uv_timer_t timer;
    int timer_inited, closing, timer_closed;
    void (*closed)(void *ud);
    void *closed_ud;
    struct ctrl_ev_stats st;
};

static int kube_send(void *ud, const char *ns, struct json_object *ev, kube_cb cb, void *cb_ud)
{
    return kube_create(ud, &KUBE_EVENTS, ns, ev, cb, cb_ud);
}

int ctrl_ev_new(uv_loop_t *loop, const struct ctrl_ev_options *opt, const char *instance,
                struct ctrl_ev_lane **out)
{
    struct ctrl_ev_lane *l = calloc(1, sizeof *l);
    if (!l || !(l->instance = strdup(instance ? instance : "runbook"))) {
        free(l);
        return -ENOMEM;
    }
    l->o = *opt;
    if (!l->o.send) {
        l->o.send = kube_send;
        l->o.send_ud = opt->kc;
    }
    if (l->o.queue == 0)
        l->o.queue = 1000;
    if (l->o.in_flight == 0)
        l->o.in_flight = 4;
    if (l->o.qps <= 0)
        l->o.qps = 50;
    if (l->o.burst <= 0)
        l->o.burst = 100;
    l->o.loop = loop;
    limit_bucket_init(&l->bucket, l->o.qps, l->o.burst, uv_now(loop));
    *out = l; /* the timer is set up when first needed: until then a plain
                 free is a complete cleanup */
    return 0;
}

static struct ev *pop(struct ctrl_ev_lane *l)
{
    struct ev *e = l->head;
    if (e) {
        l->head = e->next;
        if (!l->head)
            l->tail = NULL;
        l->queued--;
    }
    return e;
}

static void ev_free(struct ev *e)
{
    if (e)
        free(e->strs);
    free(e);
}

void ctrl_ev_free(struct ctrl_ev_lane *l)
{
    if (!l)
        return;
    for (struct ev *e; (e = pop(l));)
        ev_free(e);
    free(l->instance);
    free(l);
}

static struct json_object *jstr(const char *s)
{
    return json_object_new_string(s);
}

/* events.k8s.io/v1 Event regarding the run or Workflow (and the Job it
 * names). */
static struct json_object *build(struct ctrl_ev_lane *l, const struct ev *e)
{
    const char *ns = ctrl_packed(e->strs, EV_NS), *name = ctrl_packed(e->strs, EV_NAME),
               *reason = ctrl_packed(e->strs, EV_REASON),
               *related = ctrl_packed(e->strs, EV_RELATED);
    char when[40], evname[PLAN_OBJ_LEN + 40];
    kj_time_format(e->ms, when);
    /* MicroTime: the same instant with microseconds. */
    size_t nl = strlen(when);
    if (nl > 1 && when[nl - 1] == 'Z')
        snprintf(when + nl - 1, sizeof when - (nl - 1), ".%06dZ", (int)(e->ms % 1000) * 1000);
    snprintf(evname, sizeof evname, "%.200s.%llx%llx", name, (unsigned long long)e->ms,
             (unsigned long long)l->seq++);
    struct json_object *ev = json_object_new_object(), *meta = json_object_new_object(),
                       *reg = json_object_new_object();
    json_object_object_add(meta, "name", jstr(evname));
    json_object_object_add(meta, "namespace", jstr(ns));
    json_object_object_add(ev, "metadata", meta);
    json_object_object_add(ev, "eventTime", jstr(when));
    json_object_object_add(ev, "reportingController", jstr("runbook.dev/operator"));
    json_object_object_add(ev, "reportingInstance", jstr(l->instance));
    json_object_object_add(ev, "action", jstr(reason));
    json_object_object_add(ev, "reason", jstr(reason));
    json_object_object_add(ev, "type", jstr(e->type));
    json_object_object_add(ev, "note", jstr(ctrl_packed(e->strs, EV_MESSAGE)));
    json_object_object_add(reg, "apiVersion", jstr("runbook.dev/v1alpha1"));
    json_object_object_add(reg, "kind",
                           jstr(e->kind == 'r'   ? "WorkflowRun"
                                : e->kind == 't' ? "Trigger"
                                                 : "Workflow"));
    json_object_object_add(reg, "name", jstr(name));
    json_object_object_add(reg, "namespace", jstr(ns));
    json_object_object_add(reg, "uid", jstr(ctrl_packed(e->strs, EV_UID)));
    json_object_object_add(ev, "regarding", reg);
    if (related[0]) {
        struct json_object *rel = json_object_new_object();
        json_object_object_add(rel, "apiVersion", jstr("batch/v1"));
        json_object_object_add(rel, "kind", jstr("Job"));
        json_object_object_add(rel, "name", jstr(related));
        json_object_object_add(rel, "namespace", jstr(ns));
        json_object_object_add(ev, "related", rel);
    }
    return ev;
}

static void pump(struct ctrl_ev_lane *l);
static void maybe_closed(struct ctrl_ev_lane *l);

static void timer_cb(uv_timer_t *t)
{
    pump(t->data);
}

static void sent_cb(void *ud, const struct kube_result *res)
{
    struct ctrl_ev_lane *l = ud;
    l->in_flight--;
    if (res->err || res->http_status >= 300) {
        l->st.failed++;
        log_kv(LOGL_DEBUG, "event not recorded", "error",
               res->status.message[0] ? res->status.message
               : res->err             ? strerror(-res->err)
                                      : "HTTP error",
               NULL);
    } else {
        l->st.sent++;
    }
    if (l->closing)
        maybe_closed(l);
    else
        pump(l);
}

static void pump(struct ctrl_ev_lane *l)
{
    while (!l->closing && l->head && l->in_flight < l->o.in_flight) {
        uint64_t wait = limit_bucket_take(&l->bucket, uv_now(l->o.loop));
        if (wait) {
            if (!l->timer_inited) {
                uv_timer_init(l->o.loop, &l->timer);
                l->timer.data = l;
                l->timer_inited = 1;
            }
            if (!uv_is_active((uv_handle_t *)&l->timer))
                uv_timer_start(&l->timer, timer_cb, wait, 0);
            return;
        }
        struct ev *e = pop(l);
        struct json_object *body = build(l, e);
        l->in_flight++;
        if (l->o.send(l->o.send_ud, ctrl_packed(e->strs, EV_NS), body, sent_cb, l) < 0) {
            l->in_flight--;
            l->st.failed++;
        }
        json_object_put(body); /* serialized by the call */
        ev_free(e);
    }
}

void ctrl_ev_push(struct ctrl_ev_lane *l, char kind, const char *ns, const char *name,
                  const char *uid, const struct plan_action *a, int64_t now_ms)
{
    if (l->closing)
        return;
    if (l->queued >= l->o.queue) {
        l->st.dropped++;
        return;
    }
    struct ev *e = calloc(1, sizeof *e);
    const char *s[EV_N] = {ns, name, uid, a->reason, a->message, a->name};
    if (!e || !(e->strs = ctrl_pack(s, EV_N))) {
        free(e);
        l->st.dropped++;
        return;
    }
    e->ms = now_ms;
    e->kind = kind;
    snprintf(e->type, sizeof e->type, "%s", a->type);
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
    l->queued++;
    pump(l);
}

/* Not news: a step going as planned. Its start and end are in the run's
 * status already (steps[].phase, startTime, completionTime, progress), and
 * they were most of the operator's Events: two per step, against one per
 * phase change (issue 15: 10 of a 5-step run's 12). A table of what to
 * leave out, not of what to send: any other reason (a phase, a step's
 * failure or cancel, a retry, every warning, reasons added later) is news. */
static const char *const not_news[] = {"StepStarted", "StepSucceeded"};

int ctrl_ev_news(const struct plan_action *a)
{
    for (size_t i = 0; i < sizeof not_news / sizeof not_news[0]; i++)
        if (strcmp(a->reason, not_news[i]) == 0)
            return 0;
    return 1;
}

static void timer_closed(uv_handle_t *h)
{
    struct ctrl_ev_lane *l = h->data;
    l->timer_closed = 1;
    maybe_closed(l);
}

static void maybe_closed(struct ctrl_ev_lane *l)
{
    if (l->in_flight)
        return;
    if (!l->timer_inited)
        l->timer_closed = 1;
    else if (!uv_is_closing((uv_handle_t *)&l->timer)) {
        uv_close((uv_handle_t *)&l->timer, timer_closed);
        return;
    }
    if (l->timer_closed && l->closed) {
        void (*cb)(void *) = l->closed;
        l->closed = NULL;
        cb(l->closed_ud);
    }
}

void ctrl_ev_close(struct ctrl_ev_lane *l, void (*closed)(void *ud), void *ud)
{
    if (l->closing)
        return;
    l->closing = 1;
    l->closed = closed;
    l->closed_ud = ud;
    for (struct ev *e; (e = pop(l));) {
        l->st.dropped++;
        ev_free(e);
    }
    if (l->timer_inited)
        uv_timer_stop(&l->timer);
    maybe_closed(l);
}

void ctrl_ev_stats(const struct ctrl_ev_lane *l, struct ctrl_ev_stats *out)
{
    *out = l->st;
    out->queued = l->queued;
}
