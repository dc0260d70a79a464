/* ui_browse.c - the Workflows and Triggers pages: each from a cache the
 * operator keeps anyway (the controller's Workflows, the Trigger
 * runtime's Triggers), limited to the namespaces where the person may list
 * that kind (ui_may), sent whole once and then change by change. */
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "kjson/kjson.h"
#include "trigd/trigd.h"
#include "ui/ui-internal.h"

/* What differs between the two lists. */
struct kind {
    enum ui_right right;
    const char *list, *one, *deleted; /* message types */
    struct json_object *(*item)(struct json_object *obj);
};

static const struct kind WORKFLOWS = {UI_LIST_WORKFLOWS, "workflows", "workflow",
                                      "workflow_deleted", ui_workflow_summary};
static const struct kind TRIGGERS = {UI_LIST_TRIGGERS, "triggers", "trigger", "trigger_deleted",
                                     ui_trigger_item};

struct collect {
    struct ui_session *s;
    const struct kind *k;
    const char *only_ns;
    struct ui_items it;
};

static void collect_one(void *ud, const char *ns, const char *name, struct json_object *obj)
{
    (void)name;
    struct collect *c = ud;
    if (!obj || !ui_may(c->s, c->k->right, ns) || (c->only_ns && strcmp(ns, c->only_ns) != 0))
        return;
    /* Out of memory: the list is short by one; the next change resends. */
    (void)ui_items_push(&c->it, c->k->item(obj));
}

/* Namespace, then name. */
static int by_name(const void *pa, const void *pb)
{
    struct json_object *a = *(struct json_object *const *)pa, *b = *(struct json_object *const *)pb;
    const char *na = kj_get_str(a, "namespace"), *nb = kj_get_str(b, "namespace");
    int c = strcmp(na ? na : "", nb ? nb : "");
    if (c)
        return c;
    na = kj_get_str(a, "name");
    nb = kj_get_str(b, "name");
    return strcmp(na ? na : "", nb ? nb : "");
}

static void send_list(struct ui_session *s, const struct kind *k, const char *only_ns)
{
    struct collect c = {.s = s, .k = k, .only_ns = only_ns};
    if (k == &WORKFLOWS)
        ctrl_workflows_each(s->u->ctrl, collect_one, &c);
    else if (s->u->trigd)
        trigd_each(s->u->trigd, collect_one, &c);
    /* A namespace that became visible: item by item. */
    ui_items_send(s, &c.it, only_ns ? NULL : k->list, only_ns ? k->one : NULL, by_name);
}

void ui_send_workflows(struct ui_session *s, const char *only_ns)
{
    send_list(s, &WORKFLOWS, only_ns);
}

void ui_send_triggers(struct ui_session *s, const char *only_ns)
{
    send_list(s, &TRIGGERS, only_ns);
}

/* A first answer about right in ns is on its way. */
static int asking(struct ui_session *s, enum ui_right right, const char *ns)
{
    struct ui_perm *p = s->anonymous ? NULL : ui_perm_of(s, ns);
    return p && (p->asked & (1u << right)) && p->v[right] == UI_PERM_ASKING;
}

/* Everywhere first; a "no" there asks namespace by namespace and the
 * answers send what becomes visible (ui_access.c). */
static void watch_list(struct ui_session *s, const struct kind *k)
{
    ui_ask(s, k->right, "");
    if (!asking(s, k->right, ""))
        send_list(s, k, NULL);
}

void ui_watch_workflows(struct ui_session *s)
{
    watch_list(s, &WORKFLOWS);
}

void ui_watch_triggers(struct ui_session *s)
{
    watch_list(s, &TRIGGERS);
}

/* --- one Workflow's page --------------------------------------------------- */

void ui_send_workflow(struct ui_session *s)
{
    int may = ui_may(s, UI_LIST_WORKFLOWS, s->wf_ns);
    if (!may && (asking(s, UI_LIST_WORKFLOWS, "") || asking(s, UI_LIST_WORKFLOWS, s->wf_ns)))
        return; /* the answer sends it */
    struct json_object *wf = may ? ctrl_workflow(s->u->ctrl, s->wf_ns, s->wf_name) : NULL;
    struct json_object *o = ui_msg_new("workflow_detail");
    if (wf) {
        kj_put(o, "item", ui_workflow_detail(wf, ui_may(s, UI_CREATE_RUNS, s->wf_ns)));
    } else {
        kj_put(o, "namespace", kj_str(s->wf_ns));
        kj_put(o, "name", kj_str(s->wf_name));
        kj_put(o, "gone", kj_bool(1));
    }
    ui_send_put(s, o);
}

void ui_watch_workflow(struct ui_session *s)
{
    ui_ask(s, UI_LIST_WORKFLOWS, "");
    ui_ask_list(s, UI_LIST_WORKFLOWS, s->wf_ns);
    ui_ask(s, UI_CREATE_RUNS, s->wf_ns);
    ui_send_workflow(s);
}

/* --- changes, to every session that shows them ------------------------------- */

static void changed(struct ui *u, const struct kind *k, const char *ns, const char *name,
                    struct json_object *obj)
{
    struct json_object *item = NULL;
    for (struct ui_session *s = u->sessions; s; s = s->next) {
        if (!s->ws || s->state != UI_SS_READY)
            continue;
        int want = k == &WORKFLOWS ? s->want_workflows : s->want_triggers;
        if (want && obj)
            ui_ask_list(s, k->right, ns); /* a namespace not asked about yet */
        if (want && ui_may(s, k->right, ns)) {
            struct json_object *o = ui_msg_new(obj ? k->one : k->deleted);
            if (obj) {
                if (!item)
                    item = k->item(obj);
                kj_put(o, "item", json_object_get(item));
            } else {
                kj_put(o, "namespace", kj_str(ns));
                kj_put(o, "name", kj_str(name));
            }
            ui_send_put(s, o);
        }
        if (k == &WORKFLOWS && s->want_workflow && strcmp(s->wf_ns, ns) == 0 &&
            strcmp(s->wf_name, name) == 0)
            ui_send_workflow(s);
    }
    json_object_put(item);
}

void ui_workflow_changed(void *ud, const char *ns, const char *name, struct json_object *obj)
{
    changed(ud, &WORKFLOWS, ns, name, obj);
}

void ui_trigger_changed(void *ud, const char *ns, const char *name, struct json_object *obj)
{
    changed(ud, &TRIGGERS, ns, name, obj);
}
