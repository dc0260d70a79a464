/* ui_runs.c - the runs list, a run's page and its Events, as the person
 * may see them: runs come from the controller's cache, limited to the
 * namespaces where the person may list workflowruns (ui_may); Events come
 * from a LIST with the person's token. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "kjson/kjson.h"
#include "kube/kube.h"
#include "ui/ui-internal.h"

/* Core v1 Events: the field selector on involvedObject works on both
 * kinds of Event the cluster stores (events.k8s.io ones too). */
static const struct kube_resource CORE_EVENTS = {"", "v1", "events", 1};

/* A run page's Events come from a LIST with the person's token (RBAC
 * decides whether they may read them), at most once per this interval
 * while the run changes: an open page must not turn every status write
 * into a LIST. */
#define EVENTS_EVERY_MS 5000
#define EVENTS_MAX 50

static int visible(struct ui_session *s, const char *ns)
{
    return ui_may(s, UI_LIST_RUNS, ns);
}

struct collect {
    struct ui_session *s;
    const char *only_ns; /* NULL: every visible namespace */
    struct ui_items it;
    int oom;
};

static void collect_one(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)name;
    struct collect *c = ud;
    if (c->oom || !visible(c->s, ns) || (c->only_ns && strcmp(ns, c->only_ns) != 0))
        return;
    struct json_object *run = kube_json_parse(json, len);
    if (!run)
        return;
    c->oom = ui_items_push(&c->it, ui_run_summary(run)) < 0;
    json_object_put(run);
}

/* Newest first: RFC 3339 times in UTC sort as strings; names break ties. */
static int newest_first(const void *pa, const void *pb)
{
    struct json_object *a = *(struct json_object *const *)pa, *b = *(struct json_object *const *)pb;
    const char *ca = kj_get_str(a, "created"), *cb = kj_get_str(b, "created");
    int c = strcmp(cb ? cb : "", ca ? ca : "");
    if (c)
        return c;
    const char *na = kj_get_str(a, "name"), *nb = kj_get_str(b, "name");
    return strcmp(na ? na : "", nb ? nb : "");
}

void ui_send_runs(struct ui_session *s)
{
    struct collect c = {.s = s};
    s->runs_at = uv_now(s->u->loop);
    ctrl_runs_each(s->u->ctrl, collect_one, &c);
    ui_items_send(s, &c.it, "runs", NULL, newest_first);
}

void ui_send_runs_of(struct ui_session *s, const char *ns)
{
    struct collect c = {.s = s, .only_ns = ns};
    ctrl_runs_each(s->u->ctrl, collect_one, &c);
    ui_items_send(s, &c.it, NULL, "run", NULL);
}

static void send_gone(struct ui_session *s)
{
    struct json_object *o = ui_msg_new("run_detail");
    kj_put(o, "namespace", kj_str(s->run_ns));
    kj_put(o, "name", kj_str(s->run_name));
    kj_put(o, "gone", kj_bool(1));
    ui_send_put(s, o);
}

static void detail_of(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)name;
    struct ui_session *s = ud;
    struct json_object *run = kube_json_parse(json, len);
    if (!run)
        return;
    struct json_object *o = ui_msg_new("run_detail");
    struct json_object *d = ui_run_detail(run, ui_may(s, UI_PATCH_RUNS, ns));
    if (s->events)
        kj_put(d, "events", json_object_get(s->events));
    kj_put(o, "item", d);
    json_object_put(run);
    ui_send_put(s, o);
}

/* The watched run's page, as far as the person may see it: a run in a
 * namespace they may not list is "gone" (its existence is not told). */
void ui_send_detail(struct ui_session *s)
{
    struct ui_perm *p = ui_perm_of(s, s->run_ns);
    if (!visible(s, s->run_ns) && p && p->v[UI_LIST_RUNS] == UI_PERM_ASKING)
        return; /* the answer sends it */
    if (!visible(s, s->run_ns) || !ctrl_run_get(s->u->ctrl, s->run_ns, s->run_name, detail_of, s))
        send_gone(s);
}

/* An Event as the page shows it; NULL for one not about uid. */
static struct json_object *event_item(struct json_object *ev, const char *uid)
{
    const char *about = kj_path_str(ev, "involvedObject", "uid", NULL);
    if (!about || !uid || strcmp(about, uid) != 0)
        return NULL;
    struct json_object *e = kj_obj();
    const char *t = kj_get_str(ev, "eventTime");
    if (!t)
        t = kj_get_str(ev, "lastTimestamp");
    if (!t)
        t = kj_path_str(ev, "metadata", "creationTimestamp", NULL);
    kj_put(e, "type", kj_str(kj_get_str(ev, "type") ? kj_get_str(ev, "type") : ""));
    kj_put(e, "reason", kj_str(kj_get_str(ev, "reason") ? kj_get_str(ev, "reason") : ""));
    kj_put(e, "message", kj_str(kj_get_str(ev, "message") ? kj_get_str(ev, "message") : ""));
    if (t)
        kj_put(e, "time", kj_str(t));
    return e;
}

static int oldest_first(const void *pa, const void *pb)
{
    struct json_object *a = *(struct json_object *const *)pa, *b = *(struct json_object *const *)pb;
    const char *ta = kj_get_str(a, "time"), *tb = kj_get_str(b, "time");
    return strcmp(ta ? ta : "", tb ? tb : "");
}

/* The cached run through a callback, parsed: what the lookups below read. */
struct run_of {
    struct json_object *run; /* owned */
};

static void run_of(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)ns;
    (void)name;
    ((struct run_of *)ud)->run = kube_json_parse(json, len);
}

int ui_run_step_job(struct ui *u, const char *ns, const char *run, const char *step, char *job,
                    size_t cap)
{
    struct run_of r = {NULL};
    (void)ctrl_run_get(u->ctrl, ns, run, run_of, &r);
    const char *j =
        kj_get_str(kj_find(kj_path(r.run, "status", "steps", NULL), "name", step), "job");
    int found = j && *j;
    if (found)
        snprintf(job, cap, "%s", j);
    json_object_put(r.run);
    return found;
}

static void fetch_events(struct ui_session *s);

static void events_cb(void *ud, const struct kube_result *r)
{
    struct ui_req *q = ud;
    struct ui_session *s = q->s;
    s->events_out = 0;
    if (s->ws && s->want_run && strcmp(q->ns, s->run_ns) == 0 &&
        strcmp(q->name, s->run_name) == 0 && r->err == 0 && r->http_status == 200) {
        struct run_of ro = {NULL};
        (void)ctrl_run_get(s->u->ctrl, q->ns, q->name, run_of, &ro);
        const char *uid = kj_path_str(ro.run, "metadata", "uid", NULL);
        struct json_object *items = kj_get(r->body, "items");
        size_t n =
            json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
        struct json_object **all = n ? calloc(n, sizeof(struct json_object *)) : NULL;
        size_t k = 0;
        for (size_t i = 0; all && i < n; i++) {
            struct json_object *e = event_item(json_object_array_get_idx(items, i), uid);
            if (e)
                all[k++] = e;
        }
        json_object_put(ro.run);
        if (k)
            qsort(all, k, sizeof(struct json_object *), oldest_first);
        struct json_object *arr = kj_arr();
        for (size_t i = 0; i < k; i++) {
            if (i + EVENTS_MAX >= k)
                kj_push(arr, all[i]);
            else
                json_object_put(all[i]);
        }
        free(all);
        json_object_put(s->events);
        s->events = arr;
        ui_send_detail(s);
    }
    /* A person who may not list Events sees none; nothing else changes. */
    ui_req_free(q);
    if (s->ws && s->events_due)
        fetch_events(s);
}

/* Lists the watched run's Events with the person's token, now if the
 * last LIST is old enough, else marks one due (ui_events_tick). */
static void fetch_events(struct ui_session *s)
{
    uint64_t now = uv_now(s->u->loop);
    if (!s->want_run || s->state != UI_SS_READY || !s->kc || s->anonymous)
        return;
    if (s->events_out || (s->events_at && now < s->events_at + EVENTS_EVERY_MS)) {
        s->events_due = 1;
        return;
    }
    char sel[400];
    snprintf(sel, sizeof sel, "involvedObject.kind=WorkflowRun,involvedObject.name=%s",
             s->run_name);
    struct kube_list_opts lo = {.field_selector = sel};
    struct ui_req *q = ui_req_new(s, NULL, s->run_ns);
    if (!q)
        return;
    snprintf(q->name, sizeof q->name, "%s", s->run_name);
    s->events_due = 0;
    s->events_at = now;
    if (kube_list(s->kc, &CORE_EVENTS, s->run_ns, &lo, events_cb, q) < 0) {
        ui_req_free(q);
        return;
    }
    s->events_out = 1;
}

void ui_events_tick(struct ui *u)
{
    for (struct ui_session *s = u->sessions; s; s = s->next)
        if (s->ws && s->events_due && !s->events_out)
            fetch_events(s);
}

static void exists(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)ud;
    (void)ns;
    (void)name;
    (void)json;
    (void)len;
}

/* The run page: may the person see that namespace, and patch there? */
void ui_watch_run(struct ui_session *s)
{
    if (!ctrl_run_get(s->u->ctrl, s->run_ns, s->run_name, exists, NULL)) {
        send_gone(s); /* nothing to ask the API server about */
        return;
    }
    fetch_events(s);
    ui_ask_list(s, UI_LIST_RUNS, s->run_ns);
    ui_ask(s, UI_PATCH_RUNS, s->run_ns);
    ui_send_detail(s);
}

/* --- run changes, to every session that shows them ------------------------------------ */

void ui_run_changed(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    struct ui *u = ud;
    struct json_object *run = NULL, *summary = NULL;
    for (struct ui_session *s = u->sessions; s; s = s->next) {
        if (!s->ws || s->state != UI_SS_READY)
            continue;
        if (s->want_runs && json)
            ui_ask_list(s, UI_LIST_RUNS, ns); /* a namespace not asked about yet */
        if (s->want_runs && visible(s, ns)) {
            if (!json) {
                struct json_object *o = ui_msg_new("run_deleted");
                kj_put(o, "namespace", kj_str(ns));
                kj_put(o, "name", kj_str(name));
                ui_send_put(s, o);
            } else {
                if (!run)
                    run = kube_json_parse(json, len);
                if (run && !summary)
                    summary = ui_run_summary(run);
                if (summary) {
                    struct json_object *o = ui_msg_new("run");
                    kj_put(o, "item", json_object_get(summary));
                    ui_send_put(s, o);
                }
            }
        }
        /* Nothing about a run in a namespace the person may not list, not
         * even that it changed: its page says "gone" once, whatever comes. */
        if (s->want_run && strcmp(s->run_ns, ns) == 0 && strcmp(s->run_name, name) == 0) {
            if (visible(s, ns)) {
                ui_send_detail(s);
                fetch_events(s); /* a change of the run often comes with an Event */
            } else if (json && !ui_perm_of(s, ns)) {
                ui_watch_run(s); /* it exists now: ask about its namespace */
            }
        }
    }
    json_object_put(summary);
    json_object_put(run);
}
