/* ui_write.c - the UI's writes: Cancel, Run again and Start run, each
 * sent to the API server with the person's token and nothing else, so
 * RBAC and admission decide, and the audit log names the person. A
 * refusal is shown with the API server's own words. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "kjson/kjson.h"
#include "kube/kube.h"
#include "log/log.h"
#include "ui/ui-internal.h"

/* The answer to a write: {"type":"result","id","ok"} and, refused, the
 * API server's code and its own words ("forbidden: User ... cannot
 * patch"); created, the new object's name. */
void ui_send_result(struct ui_session *s, int64_t id, long code, const char *message,
                    const char *name)
{
    struct json_object *o = ui_msg_new("result");
    kj_put(o, "id", kj_int(id));
    kj_put(o, "ok", kj_bool(message == NULL));
    if (message) {
        kj_put(o, "code", kj_int(code));
        kj_put(o, "message", kj_str(message));
    } else if (name) {
        kj_put(o, "name", kj_str(name));
    }
    ui_send_put(s, o);
}

/* A write answered: counted, told, logged. q->verb is "cancel", "again"
 * or "start". */
static void write_cb(void *ud, const struct kube_result *r)
{
    struct ui_req *q = ud;
    struct ui_session *s = q->s;
    if (s->ws) {
        int ok = r->err == 0 && r->http_status / 100 == 2;
        if (ok)
            s->u->st.writes_ok++;
        else if (r->http_status >= 400 && r->http_status < 500)
            s->u->st.writes_refused++;
        else
            s->u->st.writes_failed++;
        int created = strcmp(q->verb, "cancel") != 0;
        const char *made = created ? kj_path_str(r->body, "metadata", "name", NULL) : NULL;
        ui_send_result(s, q->id, r->http_status,
                       ok                     ? NULL
                       : r->status.message[0] ? r->status.message
                                              : strerror(-r->err),
                       made);
        log_kv(LOGL_INFO,
               !created                        ? "ui: cancel"
               : strcmp(q->verb, "again") == 0 ? "ui: run again"
                                               : "ui: start run",
               "user", s->user, "namespace", q->ns, strcmp(q->verb, "start") ? "run" : "workflow",
               q->name, "created", made, "result", ok ? "ok" : "refused", NULL);
    }
    ui_req_free(q);
}

/* Sends one write (body NULL: the cancel patch) and answers at once when
 * it cannot go out. */
static void send_write(struct ui_session *s, const struct ui_msg *m, const char *verb,
                       struct json_object *body)
{
    static const char patch[] = "{\"spec\":{\"cancel\":true}}";
    if (s->state != UI_SS_READY || s->anonymous || !s->kc) {
        ui_send_result(s, m->id, 401, "sign in to act", NULL);
        return;
    }
    struct ui_req *q = ui_req_new(s, verb, m->ns);
    int rc = -ENOMEM;
    if (q) {
        snprintf(q->name, sizeof q->name, "%s", m->name);
        q->id = m->id;
        rc = body ? kube_create(s->kc, &KUBE_WORKFLOWRUNS, m->ns, body, write_cb, q)
                  : kube_patch(s->kc, &KUBE_WORKFLOWRUNS, m->ns, m->name, patch, sizeof patch - 1,
                               NULL, write_cb, q);
    }
    if (rc < 0) {
        ui_req_free(q);
        ui_send_result(s, m->id, 0, strerror(-rc), NULL);
    }
}

void ui_cancel(struct ui_session *s, const struct ui_msg *m)
{
    send_write(s, m, "cancel", NULL);
}

static void again_of(void *ud, const char *ns, const char *name, const char *json, size_t len)
{
    (void)ns;
    (void)name;
    struct json_object *run = kube_json_parse(json, len);
    *(struct json_object **)ud = run ? ui_run_again(run) : NULL;
    json_object_put(run);
}

/* A new run like this one, created with the person's token: RBAC decides
 * whether they may create runs (and so run pods) there. A run the person
 * may not see is "not found", as on its page. */
void ui_run_again_req(struct ui_session *s, const struct ui_msg *m)
{
    struct json_object *body = NULL;
    if (ui_may(s, UI_LIST_RUNS, m->ns))
        (void)ctrl_run_get(s->u->ctrl, m->ns, m->name, again_of, &body);
    if (!body) {
        ui_send_result(s, m->id, 404, "no such run", NULL);
        return;
    }
    send_write(s, m, "again", body);
    json_object_put(body);
}

/* A run of the Workflow with the params typed in the form. The params are
 * checked against the cached Workflow first (an undeclared one, a missing
 * required one: 422 with why), so a mistyped form makes no failed run. */
void ui_start(struct ui_session *s, const struct ui_msg *m)
{
    struct json_object *wf =
        ui_may(s, UI_LIST_WORKFLOWS, m->ns) ? ctrl_workflow(s->u->ctrl, m->ns, m->name) : NULL;
    char err[160];
    if (!wf) {
        ui_send_result(s, m->id, 404, "no such Workflow", NULL);
        return;
    }
    struct json_object *body = ui_start_run(m->ns, wf, m->params, err, sizeof err);
    if (!body) {
        ui_send_result(s, m->id, 422, err, NULL);
        return;
    }
    send_write(s, m, "start", body);
    json_object_put(body);
}
