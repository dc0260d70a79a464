/* ui_logs.c - a step's log, followed live: GET pods/<pod>/log?follow=true
 * with the person's token (RBAC decides: `get pods/log`), passed to the
 * tab as `log` messages of valid UTF-8.
 *
 * One stream per tab: a new `logs` replaces the old one, whose cancel
 * completes later (its end callback frees it). The pod is the step's
 * newest (ctrl_step_pod), found in the controller's cache. A container
 * not started yet (the API server's 400 "waiting to start") is asked again
 * every second for a while, from the UI's tick. A tab that does not read
 * fast enough loses output, not the operator's memory: past LOG_BEHIND
 * bytes waiting on its socket, chunks are counted and dropped, and the tab
 * is told how many bytes it missed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "kjson/kjson.h"
#include "kube/kube.h"
#include "log/log.h"
#include "ui/ui-internal.h"
#include "ui/ui_utf8.h"
#include "wf/wf.h"

#define LOG_TAIL_LINES 1000
#define LOG_CHUNK ((size_t)16 * 1024)    /* text per `log` message */
#define LOG_BEHIND ((size_t)1024 * 1024) /* queued on the socket: drop from here */
#define LOG_RETRIES 120                  /* container not started: once a second */

struct ui_log {
    struct ui_session *s;
    struct kube_stream *stream; /* NULL between a refusal and its retry */
    char ns[64], run[254], step[64], pod[254];
    struct ui_utf8 u8;
    size_t skipped;    /* bytes dropped since the last one sent */
    int retries;       /* 400s (not started) so far */
    uint64_t retry_at; /* uv_now() of the next try; 0: none due */
    int detached;      /* replaced or stopped: its end only frees it */
};

static void log_free(struct ui_log *l)
{
    if (l->s->log == l)
        l->s->log = NULL;
    free(l);
}

static void send_end(struct ui_log *l, long code, const char *message)
{
    struct json_object *o = ui_msg_new("logs_end");
    kj_put(o, "step", kj_str(l->step));
    if (code)
        kj_put(o, "code", kj_int(code));
    if (message)
        kj_put(o, "message", kj_str(message));
    ui_send_put(l->s, o);
}

/* A refusal without a stream to end (nothing started). */
static void refuse(struct ui_session *s, const char *step, long code, const char *message)
{
    struct json_object *o = ui_msg_new("logs_end");
    kj_put(o, "step", kj_str(step));
    kj_put(o, "code", kj_int(code));
    kj_put(o, "message", kj_str(message));
    ui_send_put(s, o);
}

static void send_text(struct ui_log *l, const char *p, size_t n)
{
    while (n > 0) {
        size_t k = n < LOG_CHUNK ? n : LOG_CHUNK;
        /* Not in the middle of a character: back up over continuation bytes. */
        while (k < n && k > 1 && ((unsigned char)p[k] & 0xC0) == 0x80)
            k--;
        struct json_object *o = ui_msg_new("log");
        kj_put(o, "step", kj_str(l->step));
        kj_put(o, "data", json_object_new_string_len(p, (int)k));
        ui_send_put(l->s, o);
        p += k;
        n -= k;
    }
}

static int on_chunk(void *ud, const char *data, size_t len)
{
    struct ui_log *l = ud;
    struct ui_session *s = l->s;
    if (l->detached || !s->ws)
        return 1; /* stops the stream; end frees l */
    if (http_ws_queued(s->ws) > LOG_BEHIND) {
        l->skipped += len;
        l->u8 = (struct ui_utf8){0}; /* a character cut by the drop is not completed */
        return 0;
    }
    if (l->skipped) {
        struct json_object *o = ui_msg_new("log");
        kj_put(o, "step", kj_str(l->step));
        kj_put(o, "skipped", kj_int((int64_t)l->skipped));
        ui_send_put(s, o);
        l->skipped = 0;
    }
    char *out = malloc(ui_utf8_max_out(len));
    if (!out)
        return -ENOMEM;
    size_t n = ui_utf8_clean(&l->u8, data, len, out);
    send_text(l, out, n);
    free(out);
    return 0;
}

static void on_end(void *ud, const struct kube_result *r)
{
    struct ui_log *l = ud;
    struct ui_session *s = l->s;
    l->stream = NULL;
    if (l->detached || !s->ws || r->err == -ECANCELED) {
        log_free(l);
        return;
    }
    char tail[8];
    size_t n = ui_utf8_finish(&l->u8, tail);
    if (n)
        send_text(l, tail, n);
    /* 400 before the container runs ("is waiting to start"): again in a
     * second, while the pod may still start. */
    if (r->err == 0 && r->http_status == 400 && l->retries < LOG_RETRIES) {
        l->retries++;
        l->retry_at = uv_now(s->u->loop) + 1000;
        return;
    }
    if (r->err == 0 && r->http_status / 100 == 2)
        send_end(l, 0, NULL);
    else
        send_end(l, r->http_status,
                 r->status.message[0] ? r->status.message : strerror(r->err ? -r->err : EIO));
    log_free(l);
}

static int open_stream(struct ui_log *l)
{
    struct kube_log_opts o = {
        .container = WF_CONTAINER_NAME, .follow = 1, .tail_lines = LOG_TAIL_LINES};
    l->retry_at = 0;
    return kube_pod_log(l->s->kc, l->ns, l->pod, &o, on_chunk, on_end, l, &l->stream);
}

/* Ends the tab's stream, if any: its end callback frees it later. */
void ui_logs_stop(struct ui_session *s)
{
    struct ui_log *l = s->log;
    if (!l)
        return;
    s->log = NULL;
    l->detached = 1;
    if (l->stream)
        kube_watch_cancel(l->stream);
    else
        free(l); /* waiting for a retry: nothing in flight */
}

void ui_logs_start(struct ui_session *s, const struct ui_msg *m)
{
    ui_logs_stop(s);
    char job[254];
    if (s->state != UI_SS_READY || s->anonymous || !s->kc) {
        refuse(s, m->step, 0, "sign in to read logs");
        return;
    }
    /* Only a run the person may see: the same "not found" as its page. */
    if (!ui_may(s, UI_LIST_RUNS, m->ns) ||
        !ui_run_step_job(s->u, m->ns, m->name, m->step, job, sizeof job)) {
        refuse(s, m->step, 404, "the step has no pod yet");
        return;
    }
    struct ui_log *l = calloc(1, sizeof *l);
    if (!l) {
        refuse(s, m->step, 0, strerror(ENOMEM));
        return;
    }
    l->s = s;
    snprintf(l->ns, sizeof l->ns, "%s", m->ns);
    snprintf(l->run, sizeof l->run, "%s", m->name);
    snprintf(l->step, sizeof l->step, "%s", m->step);
    if (!ctrl_step_pod(s->u->ctrl, m->ns, m->name, job, l->pod, sizeof l->pod)) {
        free(l);
        refuse(s, m->step, 404, "the step has no pod yet");
        return;
    }
    int rc = open_stream(l);
    if (rc < 0) {
        free(l);
        refuse(s, m->step, 0, strerror(-rc));
        return;
    }
    s->log = l;
    s->u->st.log_streams++;
    struct json_object *o = ui_msg_new("logs_start");
    kj_put(o, "namespace", kj_str(l->ns));
    kj_put(o, "name", kj_str(l->run));
    kj_put(o, "step", kj_str(l->step));
    kj_put(o, "pod", kj_str(l->pod));
    kj_put(o, "container", kj_str(WF_CONTAINER_NAME));
    ui_send_put(s, o);
}

void ui_logs_tick(struct ui *u)
{
    uint64_t now = uv_now(u->loop);
    for (struct ui_session *s = u->sessions; s; s = s->next) {
        struct ui_log *l = s->log;
        if (!s->ws || !l || l->stream || !l->retry_at || now < l->retry_at)
            continue;
        int rc = open_stream(l);
        if (rc < 0) {
            send_end(l, 0, strerror(-rc));
            log_free(l);
        }
    }
}
