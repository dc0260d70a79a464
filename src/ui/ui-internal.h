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
#define UI_SUBPROTOCOL "runbook.v1"
#define UI_CLOSE_AUTH 4401 /* private-use close code: sign-in refused */

/* --- ui_msg.c: the protocol, pure ------------------------------------------ */

enum ui_msg_type {
    UI_MSG_NONE = 0,
    UI_MSG_AUTH,
    UI_MSG_WATCH_RUNS,
    UI_MSG_WATCH_RUN,
    UI_MSG_CANCEL,
    UI_MSG_RUN_AGAIN
};

struct ui_msg {
    enum ui_msg_type type;
    char *token; /* AUTH: owned, wiped by ui_msg_clear */
    char ns[64];
    char name[254];
    int64_t id; /* CANCEL, RUN_AGAIN */
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
/* ... and as the run page shows it: steps from its snapshot, params,
 * canCancel (can_cancel and not terminal); new object. */
struct json_object *ui_run_detail(struct json_object *run, int can_cancel);
int ui_run_terminal(struct json_object *run);
/* A new WorkflowRun like run (its spec, less cancel: the same Workflow and
 * params), named <name>-<random> by the API server, labelled
 * runbook.dev/rerun-of; NULL if run has no name or spec. New object. */
struct json_object *ui_run_again(struct json_object *run);

/* --- ui.c and ui_session.c ---------------------------------------------------- */

struct ui_session;

struct ui {
    uv_loop_t *loop;
    struct ctrl *ctrl;
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

/* ui_static.c: GET / and /assets/<file> from the embedded files. */
int ui_static(void *ud, const struct http_request *req, struct http_response *resp);
/* The security headers every answer of the UI listener carries. */
int ui_security_headers(struct http_response *resp);

/* ui_session.c: the WebSocket route's callbacks, the fan-out of run
 * changes, the periodic re-check of access, and closing every session. */
int ui_ws_open(void *ud, struct http_ws *ws, const struct http_request *req);
void ui_ws_message(void *ud, struct http_ws *ws, const char *data, size_t len);
void ui_ws_close(void *ud, struct http_ws *ws);
void ui_run_changed(void *ud, const char *ns, const char *name, const char *json, size_t len);
void ui_refresh_all(struct ui *u);
/* Sends the Events LISTs that fell due (every second). */
void ui_events_tick(struct ui *u);
/* A session's client closed: it is freed, and u too when it was the last
 * thing ui_close waited for. */
void ui_maybe_done(struct ui *u);

#endif
