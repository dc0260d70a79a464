/* ui_session.c - one browser tab: its WebSocket, its requests, what is
 * sent to it, and the dispatch of its messages (docs/ui.md, "The
 * protocol") to the pages' modules: ui_access.c (sign-in, rights),
 * ui_runs.c, ui_browse.c (Workflows, Triggers), ui_write.c, ui_logs.c.
 *
 * Lifetime (struct ui_session in ui-internal.h): the session lives until
 * both its socket is closed and its client has called back closed, so a
 * request's callback may always read its session. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kjson/kjson.h"
#include "kube/kube.h"
#include "log/log.h"
#include "ui/ui-internal.h"

/* Requests of one person's client in flight, so that a signed-in tab (any
 * valid token will do) cannot grow the operator's queue of requests. */
#define REQS_MAX 32
/* A tab that has not signed in by then is closed (it holds a slot). */
#define SIGNIN_WITHIN_MS 120000

void ui_wipe_free(char *p)
{
    if (!p)
        return;
    volatile char *v = p;
    while (*v)
        *v++ = '\0';
    free(p);
}

struct ui_req *ui_req_new(struct ui_session *s, const char *verb, const char *ns)
{
    struct ui_req *q = s->out < REQS_MAX ? calloc(1, sizeof *q) : NULL;
    if (!q)
        return NULL;
    s->out++;
    q->s = s;
    snprintf(q->verb, sizeof q->verb, "%s", verb ? verb : "");
    snprintf(q->ns, sizeof q->ns, "%s", ns ? ns : "");
    return q;
}

void ui_req_free(struct ui_req *q)
{
    if (!q)
        return;
    q->s->out--;
    free(q);
}

/* --- sending ----------------------------------------------------------------- */

struct json_object *ui_msg_new(const char *type)
{
    struct json_object *o = kj_obj();
    kj_put(o, "type", kj_str(type));
    return o;
}

void ui_send(struct ui_session *s, struct json_object *o)
{
    size_t len = 0;
    const char *txt = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    if (!s->ws || !txt)
        return;
    int rc = http_ws_send(s->ws, txt, len);
    if (rc == 0) {
        s->u->st.messages_out++;
    } else if (rc == -ENOBUFS) {
        /* It does not read what it is sent: a tab left in the background
         * on a busy cluster. Closing bounds the memory it costs; the page
         * reconnects and starts from a fresh list. */
        s->u->st.slow_closed++;
        http_ws_close(s->ws, 1013, "too slow to read");
    }
}

void ui_send_put(struct ui_session *s, struct json_object *o)
{
    ui_send(s, o);
    json_object_put(o);
}

int ui_items_push(struct ui_items *it, struct json_object *o)
{
    if (it->n == it->cap) {
        size_t ncap = it->cap ? 2 * it->cap : 64;
        struct json_object **p = realloc(it->v, ncap * sizeof(struct json_object *));
        if (!p) {
            json_object_put(o);
            return -ENOMEM;
        }
        it->v = p;
        it->cap = ncap;
    }
    it->v[it->n++] = o;
    return 0;
}

void ui_items_send(struct ui_session *s, struct ui_items *it, const char *list, const char *one,
                   int (*cmp)(const void *, const void *))
{
    if (one) {
        for (size_t i = 0; i < it->n; i++) {
            struct json_object *o = ui_msg_new(one);
            kj_put(o, "item", it->v[i]);
            ui_send_put(s, o);
        }
    } else {
        if (it->n && cmp) /* v is NULL when empty, which qsort may not take */
            qsort(it->v, it->n, sizeof(struct json_object *), cmp);
        struct json_object *o = ui_msg_new(list), *arr = kj_arr();
        for (size_t i = 0; i < it->n; i++)
            kj_push(arr, it->v[i]);
        kj_put(o, "items", arr);
        ui_send_put(s, o);
    }
    free(it->v);
    memset(it, 0, sizeof *it);
}

static void send_error(struct ui_session *s, const char *text)
{
    struct json_object *o = ui_msg_new("error");
    kj_put(o, "message", kj_str(text));
    ui_send_put(s, o);
}

/* --- the WebSocket route ------------------------------------------------------------ */

/* A browser always sends Origin on a WebSocket; it must be this very
 * server (Host), or a page elsewhere could drive a signed-in person's
 * socket (cross-site WebSocket hijacking with an auth proxy's header).
 * Clients that are not browsers send none. */
static int origin_ok(const struct http_request *req)
{
    const char *origin = http_request_header(req, "origin");
    const char *host = http_request_header(req, "host");
    if (!origin)
        return 1;
    const char *sep = strstr(origin, "://");
    return host && sep && strcmp(sep + 3, host) == 0;
}

static void session_free(struct ui_session *s)
{
    struct ui *u = s->u;
    if (s->prev)
        s->prev->next = s->next;
    else
        u->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    u->n_sessions--;
    ui_logs_stop(s); /* only one waiting for a retry is left by now */
    ui_wipe_free(s->token);
    free(s->perms);
    json_object_put(s->events);
    free(s);
    ui_maybe_done(u);
}

/* Without a token: the sign-in form, or, with --ui-anonymous-read,
 * everything to read. Sent with the tab's first message (the page sends
 * its watches as soon as the socket opens) or from the next tick: nothing
 * may be sent from on_open, before the handshake is done. */
static void greet(struct ui_session *s)
{
    s->greeted = 1;
    if (s->u->anonymous_read) {
        ui_ready_anonymous(s);
        return;
    }
    struct json_object *o = ui_msg_new("sign_in");
    kj_put(o, "anonymousRead", kj_bool(0));
    ui_send_put(s, o);
}

int ui_ws_open(void *ud, struct http_ws *ws, const struct http_request *req)
{
    struct ui *u = ud;
    if (u->closing)
        return 503;
    if (!origin_ok(req))
        return 403;
    struct ui_session *s = calloc(1, sizeof *s);
    if (!s)
        return 503;
    s->u = u;
    s->ws = ws;
    s->next = u->sessions;
    if (s->next)
        s->next->prev = s;
    u->sessions = s;
    u->n_sessions++;
    u->st.sessions++;
    s->opened_at = uv_now(u->loop);
    http_ws_set_data(ws, s);
    /* An auth proxy in front (oauth2-proxy) puts the person's token here. */
    const char *auth = http_request_header(req, "authorization");
    if (auth && strncmp(auth, "Bearer ", 7) == 0 && ui_token_ok(auth + 7)) {
        s->token = strdup(auth + 7);
        if (s->token && ui_start_auth(s) == 0)
            return 0;
        s->state = UI_SS_NEW; /* the page may still send a token of its own */
    }
    return 0;
}

void ui_sessions_tick(struct ui *u)
{
    uint64_t now = uv_now(u->loop);
    for (struct ui_session *s = u->sessions; s; s = s->next) {
        if (!s->ws || s->state != UI_SS_NEW || s->kc)
            continue;
        if (!s->greeted)
            greet(s);
        else if (now > s->opened_at + SIGNIN_WITHIN_MS)
            http_ws_close(s->ws, UI_CLOSE_AUTH, "no sign-in"); /* the page reconnects */
    }
}

/* Watching one thing of a kind replaces the last one. */
static void watch(struct ui_session *s, const struct ui_msg *m)
{
    switch (m->type) {
    case UI_MSG_WATCH_RUNS:
        s->want_runs = 1;
        /* A full list costs a parse of every visible run: one a second. */
        if (s->state == UI_SS_READY && (!s->runs_at || uv_now(s->u->loop) >= s->runs_at + 1000))
            ui_send_runs(s);
        break;
    case UI_MSG_WATCH_RUN:
        s->want_run = 1;
        snprintf(s->run_ns, sizeof s->run_ns, "%s", m->ns);
        snprintf(s->run_name, sizeof s->run_name, "%s", m->name);
        json_object_put(s->events); /* another run's; the 5 s spacing spans runs */
        s->events = NULL;
        if (s->state == UI_SS_READY)
            ui_watch_run(s);
        break;
    case UI_MSG_WATCH_WORKFLOWS:
        s->want_workflows = 1;
        if (s->state == UI_SS_READY)
            ui_watch_workflows(s);
        break;
    case UI_MSG_WATCH_WORKFLOW:
        s->want_workflow = 1;
        snprintf(s->wf_ns, sizeof s->wf_ns, "%s", m->ns);
        snprintf(s->wf_name, sizeof s->wf_name, "%s", m->name);
        if (s->state == UI_SS_READY)
            ui_watch_workflow(s);
        break;
    case UI_MSG_WATCH_TRIGGERS:
        s->want_triggers = 1;
        if (s->state == UI_SS_READY)
            ui_watch_triggers(s);
        break;
    default:
        break;
    }
}

void ui_ws_message(void *ud, struct http_ws *ws, const char *data, size_t len)
{
    struct ui *u = ud;
    struct ui_session *s = http_ws_data(ws);
    struct ui_msg m;
    char err[128];
    u->st.messages_in++;
    if (!s)
        return;
    if (ui_msg_parse(data, len, &m, err, sizeof err) < 0) {
        u->st.bad_messages++;
        send_error(s, err);
        return;
    }
    if (!s->greeted && s->state == UI_SS_NEW && !s->kc && m.type != UI_MSG_AUTH)
        greet(s);
    switch (m.type) {
    case UI_MSG_AUTH:
        /* Once per socket; an anonymous reader may sign in to act. */
        if (s->kc || (s->state != UI_SS_NEW && !s->anonymous)) {
            send_error(s, "already signed in: open a new connection to change the token");
            break;
        }
        s->token = m.token;
        m.token = NULL;
        if (ui_start_auth(s) < 0)
            ui_auth_failed(s, "sign-in failed: cannot reach the API server");
        break;
    case UI_MSG_RUN_AGAIN:
    case UI_MSG_CANCEL:
    case UI_MSG_START:
        if (s->state != UI_SS_READY || s->anonymous) {
            ui_send_result(s, m.id, 401, "sign in to act", NULL);
            break;
        }
        if (m.type == UI_MSG_CANCEL)
            ui_cancel(s, &m);
        else if (m.type == UI_MSG_RUN_AGAIN)
            ui_run_again_req(s, &m);
        else
            ui_start(s, &m);
        break;
    case UI_MSG_LOGS:
        ui_logs_start(s, &m);
        break;
    case UI_MSG_LOGS_STOP:
        ui_logs_stop(s);
        break;
    default:
        watch(s, &m);
        break;
    }
    ui_msg_clear(&m);
}

static void kc_closed(void *ud)
{
    session_free(ud);
}

void ui_ws_close(void *ud, struct http_ws *ws)
{
    (void)ud;
    struct ui_session *s = http_ws_data(ws);
    if (!s)
        return;
    s->ws = NULL;
    if (s->kc)
        kube_client_close(s->kc, kc_closed, s); /* its callbacks first, then kc_closed */
    else
        session_free(s);
}
