/* Shared by the ui_*.c files; not part of the module's interface. */
#ifndef RB_UI_INTERNAL_H
#define RB_UI_INTERNAL_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "kubeconfig/kubeconfig.h"
#include "ui/ui.h"

#define UI_TOKEN_MAX ((size_t)16 * 1024) /* OIDC tokens with many groups run to a few KiB */
#define UI_STEPS_MAX 1000
#define UI_COMBOS_MAX 256 /* combinations shown for a matrix step (its own cap) */
#define UI_SUBPROTOCOL "runbook.v1"
#define UI_CLOSE_AUTH 4401 /* private-use close code: sign-in refused */

/* --- ui_msg.c: the protocol, pure ------------------------------------------ */

#define UI_PARAMS_MAX 100
#define UI_PARAM_MAX ((size_t)64 * 1024)

enum ui_msg_type {
    UI_MSG_NONE = 0,
    UI_MSG_AUTH,
    UI_MSG_WATCH_RUNS,
    UI_MSG_WATCH_RUN,
    UI_MSG_CANCEL,
    UI_MSG_RUN_AGAIN,
    UI_MSG_WATCH_WORKFLOWS,
    UI_MSG_WATCH_WORKFLOW,
    UI_MSG_WATCH_TRIGGERS,
    UI_MSG_START,
    UI_MSG_LOGS,
    UI_MSG_LOGS_STOP
};

struct ui_msg {
    enum ui_msg_type type;
    char *token; /* AUTH: owned, wiped by ui_msg_clear */
    char ns[64];
    char name[254];             /* the run; WATCH_WORKFLOW, START: the Workflow */
    char step[64];              /* LOGS */
    int64_t id;                 /* CANCEL, RUN_AGAIN, START */
    struct json_object *params; /* START: {NAME: "value"}, owned */
};

/* Parses one client message. 0, or -EINVAL with a one-line reason in err
 * (for the "error" answer; it names no user data), or -ENOMEM. */
int ui_msg_parse(const char *data, size_t len, struct ui_msg *m, char *err, size_t errcap);
void ui_msg_clear(struct ui_msg *m);
/* A bearer token that may go into an Authorization header: 1 to 16 KiB,
 * no space or control character. */
int ui_token_ok(const char *tok);
/* The run (a WorkflowRun object) as the runs list shows it; new object. */
struct json_object *ui_run_summary(struct json_object *run);
/* --- ui_view.c: what the page draws, and what the UI creates, pure ---------- */

/* ... and as the run page shows it: steps from its snapshot, params,
 * canCancel (can_cancel and not terminal); new object. */
struct json_object *ui_run_detail(struct json_object *run, int can_cancel);
int ui_run_terminal(struct json_object *run);
/* A new WorkflowRun like run (its spec, less cancel: the same Workflow and
 * params), named <name>-<random> by the API server, labelled
 * runbook.dev/rerun-of; NULL if run has no name or spec. New object. */
struct json_object *ui_run_again(struct json_object *run);
/* A Workflow as the Workflows list shows it, and as its page does. */
struct json_object *ui_workflow_summary(struct json_object *wf);
struct json_object *ui_workflow_detail(struct json_object *wf, int can_start);
/* A Trigger as the Triggers page shows it. */
struct json_object *ui_trigger_item(struct json_object *tr);
/* A new WorkflowRun of wf in ns with params ({NAME: "value"}, each
 * declared by wf; a param without a default must be given), named
 * <workflow>-<random> by the API server; NULL with a one-line reason in
 * err. New object. */
struct json_object *ui_start_run(const char *ns, struct json_object *wf, struct json_object *params,
                                 char *err, size_t errcap);

/* --- the runtime ------------------------------------------------------------- */

struct ui_session;
struct ui_log;
struct trigd;

struct ui {
    uv_loop_t *loop;
    struct ctrl *ctrl;
    struct trigd *trigd; /* NULL: no Triggers page */
    int anonymous_read;  /* --ui-anonymous-read */
    struct http_server *srv;
    /* The operator's server and CA, without its credentials: the base of
     * every person's client (strings owned). */
    struct kcfg base;
    unsigned auth_ttl_ms;
    long api_timeout_ms;
    char *user_agent;
    struct ui_session *sessions; /* doubly linked */
    size_t n_sessions;           /* open or still closing their client */
    uv_timer_t refresh;          /* access reviews go stale: asked again */
    uv_timer_t tick;             /* Events LISTs that fell due */
    int closing, srv_closed, timers_closed;
    void (*closed)(void *ud);
    void *closed_ud;
    struct ui_stats st;
};

/* What a person may do, asked with SelfSubjectAccessReviews. */
enum ui_right {
    UI_LIST_RUNS = 0,
    UI_PATCH_RUNS,
    UI_CREATE_RUNS,
    UI_LIST_WORKFLOWS,
    UI_LIST_TRIGGERS,
    UI_RIGHTS
};

enum { UI_PERM_ASKING = -1, UI_PERM_NO = 0, UI_PERM_YES = 1 };

/* What the person may do in one namespace ("" : every namespace). */
struct ui_perm {
    char ns[64];
    signed char v[UI_RIGHTS]; /* UI_PERM_*; ASKING also before the first ask */
    uint64_t at[UI_RIGHTS];   /* uv_now() of the answers: old ones count as no */
    unsigned asked;           /* bit per right: a review was sent (and is renewed) */
};

enum ui_state { UI_SS_NEW = 0, UI_SS_AUTH, UI_SS_READY };

/* One browser tab. Lifetime: from the WebSocket's open until both the
 * socket is closed and its client has called back closed (which comes
 * after every callback of its requests, each with -ECANCELED if cut): a
 * request's callback may therefore always read its session, and checks
 * s->ws before answering. */
struct ui_session {
    struct ui *u;
    struct ui_session *prev, *next;
    struct http_ws *ws; /* NULL once the socket is gone */
    enum ui_state state;
    int anonymous; /* READY without a token (--ui-anonymous-read): reads only */
    int greeted;   /* sign_in or the anonymous hello sent */
    char *token;   /* wiped on free */
    struct kube_client *kc;
    char user[256];
    struct ui_perm *perms;
    size_t n_perms;
    unsigned pending_checks; /* access reviews sign-in waits for */
    int want_runs, want_run, want_workflows, want_workflow, want_triggers;
    char run_ns[64], run_name[254];
    char wf_ns[64], wf_name[254];
    /* The watched run's Events as last listed (owned), when, and whether
     * a LIST is out or another is due. */
    struct json_object *events;
    uint64_t events_at;
    int events_out, events_due;
    struct ui_log *log; /* the step's log followed, or NULL */
    unsigned out;       /* requests in flight (UI_REQS_MAX) */
    uint64_t opened_at; /* uv_now() of the upgrade */
    uint64_t runs_at;   /* the last full runs list */
};

/* One request of a person's client in flight. */
struct ui_req {
    struct ui_session *s;
    char verb[8];        /* writes: "cancel", "again", "start" */
    enum ui_right right; /* access reviews */
    char ns[64];
    char name[254];
    int64_t id;
};

/* ui_session.c: sessions, sending, the WebSocket route. */
struct json_object *ui_msg_new(const char *type); /* {"type": type} */
/* Sends o; a tab that does not read what it is sent is closed. */
void ui_send(struct ui_session *s, struct json_object *o);
void ui_send_put(struct ui_session *s, struct json_object *o); /* and puts o */
/* NULL past the limit of requests in flight: answer as on a failed send. */
struct ui_req *ui_req_new(struct ui_session *s, const char *verb, const char *ns);
void ui_req_free(struct ui_req *q);
/* Items collected for one list message (owned until sent). */
struct ui_items {
    struct json_object **v;
    size_t n, cap;
};
/* Takes o (even when it fails: -ENOMEM, o put). */
int ui_items_push(struct ui_items *it, struct json_object *o);
/* Sends the items and frees them: one {type: list, items: [...]} sorted by
 * cmp (NULL: as collected), or, with one non-NULL, one {type: one, item}
 * per item. */
void ui_items_send(struct ui_session *s, struct ui_items *it, const char *list, const char *one,
                   int (*cmp)(const void *, const void *));
/* Frees a string that held a token, zeroed first (NULL: nothing). */
void ui_wipe_free(char *p);

/* ui_access.c: sign-in, and what the person may do. */
int ui_start_auth(struct ui_session *s);
void ui_auth_failed(struct ui_session *s, const char *why);
/* Anonymous (--ui-anonymous-read): ready at once, reading only. */
void ui_ready_anonymous(struct ui_session *s);
struct ui_perm *ui_perm_of(struct ui_session *s, const char *ns);
/* right holds in ns (a list right also when it holds everywhere). */
int ui_may(struct ui_session *s, enum ui_right right, const char *ns);
/* Asks once (no-op when asked or asking); list rights: ns "" is everywhere. */
void ui_ask(struct ui_session *s, enum ui_right right, const char *ns);
/* A list right unknown in ns (not asked yet, everywhere refused): asks. */
void ui_ask_list(struct ui_session *s, enum ui_right right, const char *ns);
void ui_refresh_all(struct ui *u);

/* ui_runs.c: the runs list, a run's page and its Events. */
void ui_send_runs(struct ui_session *s);
void ui_send_runs_of(struct ui_session *s, const char *ns);
void ui_watch_run(struct ui_session *s);
void ui_send_detail(struct ui_session *s);
void ui_run_changed(void *ud, const char *ns, const char *name, const char *json, size_t len);
void ui_events_tick(struct ui *u); /* the Events LISTs that fell due */
/* The run's status.steps[] entry named step: its Job (into job); 1 if any. */
int ui_run_step_job(struct ui *u, const char *ns, const char *run, const char *step, char *job,
                    size_t cap);

/* ui_browse.c: the Workflows and Triggers pages. */
void ui_watch_workflows(struct ui_session *s);
void ui_watch_workflow(struct ui_session *s);
void ui_watch_triggers(struct ui_session *s);
/* The list (only_ns NULL), or one namespace's items that became visible. */
void ui_send_workflows(struct ui_session *s, const char *only_ns);
void ui_send_workflow(struct ui_session *s);
void ui_send_triggers(struct ui_session *s, const char *only_ns);
void ui_workflow_changed(void *ud, const char *ns, const char *name, struct json_object *obj);
void ui_trigger_changed(void *ud, const char *ns, const char *name, struct json_object *obj);

/* ui_write.c: Cancel, Run again and Start, with the person's token. */
void ui_cancel(struct ui_session *s, const struct ui_msg *m);
void ui_run_again_req(struct ui_session *s, const struct ui_msg *m);
void ui_start(struct ui_session *s, const struct ui_msg *m);
void ui_send_result(struct ui_session *s, int64_t id, long code, const char *message,
                    const char *name);

/* ui_logs.c: a step's log, streamed with the person's token. */
void ui_logs_start(struct ui_session *s, const struct ui_msg *m);
void ui_logs_stop(struct ui_session *s);
void ui_logs_tick(struct ui *u); /* retries of streams the pod was not ready for */

/* ui_static.c: GET / and /assets/<file> from the embedded files. */
int ui_static(void *ud, const struct http_request *req, struct http_response *resp);
/* The security headers every answer of the UI listener carries. */
int ui_security_headers(struct http_response *resp);

/* ui_session.c: the WebSocket route's callbacks. */
int ui_ws_open(void *ud, struct http_ws *ws, const struct http_request *req);
void ui_ws_message(void *ud, struct http_ws *ws, const char *data, size_t len);
void ui_ws_close(void *ud, struct http_ws *ws);
/* Every second: greets tabs that said nothing yet, closes those that did
 * not sign in within 2 minutes. */
void ui_sessions_tick(struct ui *u);
/* A session's client closed: it is freed, and u too when it was the last
 * thing ui_close waited for. */
void ui_maybe_done(struct ui *u);

#endif
