/* The Event lane: FIFO order, the in-flight bound, pacing, the queue's
 * bound (drops counted), the Event body, and a close that waits for what
 * is in flight. The lane's sender is replaced by one that records the
 * Events and answers them when the test says so. */
#include "check.h"
#include "ctrl/ctrl-internal.h"

#include <stdlib.h>
#include <string.h>

#define MAXSENT 64

struct sender {
    struct json_object *ev[MAXSENT];
    kube_cb cb[MAXSENT];
    void *cb_ud[MAXSENT];
    size_t n, answered;
};

static int fake_send(void *ud, const char *ns, struct json_object *ev, kube_cb cb, void *cb_ud)
{
    struct sender *s = ud;
    CHECK_STR(ns, "ci");
    if (s->n >= MAXSENT)
        return -ENOMEM;
    s->ev[s->n] = json_object_get(ev);
    s->cb[s->n] = cb;
    s->cb_ud[s->n] = cb_ud;
    s->n++;
    return 0;
}

static void answer(struct sender *s, long code)
{
    struct kube_result res;
    memset(&res, 0, sizeof res);
    res.http_status = code;
    size_t i = s->answered++;
    s->cb[i](s->cb_ud[i], &res);
}

static void sender_free(struct sender *s)
{
    for (size_t i = 0; i < s->n; i++)
        json_object_put(s->ev[i]);
}

static struct plan_action event(const char *reason, const char *job)
{
    struct plan_action a;
    memset(&a, 0, sizeof a);
    a.kind = PLAN_EVENT;
    snprintf(a.type, sizeof a.type, "Normal");
    snprintf(a.reason, sizeof a.reason, "%s", reason);
    snprintf(a.message, sizeof a.message, "note for %s", reason);
    snprintf(a.name, sizeof a.name, "%s", job ? job : "");
    return a;
}

static const char *s_at(struct json_object *o, const char *k1, const char *k2)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, k1, &v))
        return NULL;
    if (k2 && !json_object_object_get_ex(v, k2, &v))
        return NULL;
    return json_object_get_string(v);
}

static int closed_calls;
static void on_closed(void *ud)
{
    (void)ud;
    closed_calls++;
}

/* Closes the lane with nothing in flight: the close completes on the
 * loop's next pass, and everything is freed. */
static void close_all(uv_loop_t *loop, struct ctrl_ev_lane *l, struct sender *s)
{
    closed_calls = 0;
    ctrl_ev_close(l, on_closed, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK_INT(closed_calls, 1);
    ctrl_ev_free(l);
    sender_free(s);
    CHECK_INT(uv_loop_close(loop), 0);
}

static void test_order_and_in_flight(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sender s = {0};
    struct ctrl_ev_options o = {
        .in_flight = 2, .qps = 1000, .burst = 100, .send = fake_send, .send_ud = &s};
    struct ctrl_ev_lane *l = NULL;
    CHECK_INT(ctrl_ev_new(&loop, &o, "pod-0", &l), 0);
    char reason[32];
    for (int i = 0; i < 5; i++) {
        snprintf(reason, sizeof reason, "R%d", i);
        struct plan_action a = event(reason, i == 0 ? "r1-build" : NULL);
        ctrl_ev_push(l, 'r', "ci", "r1", "uid-1", &a, 1795600800123LL);
    }
    CHECK_INT(s.n, 2); /* the in-flight bound */
    answer(&s, 201);
    CHECK_INT(s.n, 3);
    answer(&s, 500); /* a refused Event is counted, not retried */
    answer(&s, 201);
    answer(&s, 201);
    answer(&s, 201);
    CHECK_INT(s.n, 5);
    for (size_t i = 0; i < s.n; i++) {
        snprintf(reason, sizeof reason, "R%zu", i);
        CHECK_STR(s_at(s.ev[i], "reason", NULL), reason); /* FIFO */
    }
    /* the body: events.k8s.io/v1, regarding the run, related Job if any */
    CHECK_STR(s_at(s.ev[0], "regarding", "kind"), "WorkflowRun");
    CHECK_STR(s_at(s.ev[0], "regarding", "name"), "r1");
    CHECK_STR(s_at(s.ev[0], "regarding", "uid"), "uid-1");
    CHECK_STR(s_at(s.ev[0], "related", "name"), "r1-build");
    CHECK(s_at(s.ev[1], "related", "name") == NULL);
    CHECK_STR(s_at(s.ev[0], "eventTime", NULL), "2026-11-25T10:00:00.123000Z");
    CHECK_STR(s_at(s.ev[0], "reportingInstance", NULL), "pod-0");
    CHECK_STR(s_at(s.ev[0], "note", NULL), "note for R0");
    CHECK(strcmp(s_at(s.ev[0], "metadata", "name"), s_at(s.ev[1], "metadata", "name")) != 0);
    struct ctrl_ev_stats st;
    ctrl_ev_stats(l, &st);
    CHECK_INT(st.sent, 4);
    CHECK_INT(st.failed, 1);
    CHECK_INT(st.dropped, 0);
    CHECK_INT(st.queued, 0);
    close_all(&loop, l, &s);
}

static void test_queue_bound_and_close(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sender s = {0};
    struct ctrl_ev_options o = {
        .queue = 3, .in_flight = 1, .qps = 1000, .burst = 100, .send = fake_send, .send_ud = &s};
    struct ctrl_ev_lane *l = NULL;
    CHECK_INT(ctrl_ev_new(&loop, &o, NULL, &l), 0);
    struct plan_action a = event("StepStarted", "j");
    for (int i = 0; i < 6; i++)
        ctrl_ev_push(l, 'w', "ci", "wf", "uid-w", &a, 0);
    struct ctrl_ev_stats st;
    ctrl_ev_stats(l, &st);
    CHECK_INT(s.n, 1);       /* one in flight */
    CHECK_INT(st.queued, 3); /* three wait */
    CHECK_INT(st.dropped, 2);
    CHECK_STR(s_at(s.ev[0], "regarding", "kind"), "Workflow");
    /* close: what waits is dropped, what is in flight is waited for */
    closed_calls = 0;
    ctrl_ev_close(l, on_closed, NULL);
    ctrl_ev_push(l, 'w', "ci", "wf", "uid-w", &a, 0); /* ignored once closing */
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_INT(closed_calls, 0);
    answer(&s, 201);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(closed_calls, 1);
    ctrl_ev_stats(l, &st);
    CHECK_INT(st.dropped, 5);
    CHECK_INT(st.sent, 1);
    CHECK_INT(s.n, 1);
    ctrl_ev_free(l);
    sender_free(&s);
    CHECK_INT(uv_loop_close(&loop), 0);
}

/* Answers every Event at once, from the loop. */
static struct sender *auto_s;
static void auto_answer(uv_idle_t *h)
{
    while (auto_s->answered < auto_s->n)
        answer(auto_s, 201);
    (void)h;
}

static void test_pacing(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sender s = {0};
    struct ctrl_ev_options o = {
        .in_flight = 100, .qps = 20, .burst = 2, .send = fake_send, .send_ud = &s};
    struct ctrl_ev_lane *l = NULL;
    CHECK_INT(ctrl_ev_new(&loop, &o, NULL, &l), 0);
    struct plan_action a = event("StepSucceeded", NULL);
    for (int i = 0; i < 6; i++)
        ctrl_ev_push(l, 'r', "ci", "r", "u", &a, 0);
    CHECK_INT(s.n, 2); /* the burst */
    auto_s = &s;
    uv_idle_t idle;
    uv_idle_init(&loop, &idle);
    uv_idle_start(&idle, auto_answer);
    uint64_t t0 = uv_now(&loop);
    while (s.n < 6 && uv_now(&loop) - t0 < 2000)
        uv_run(&loop, UV_RUN_ONCE);
    uint64_t took = uv_now(&loop) - t0;
    CHECK_INT(s.n, 6);
    /* 4 more tokens at 20/s: about 200 ms, not at once */
    CHECK(took >= 150);
    uv_idle_stop(&idle);
    uv_close((uv_handle_t *)&idle, NULL);
    while (s.answered < s.n)
        answer(&s, 201);
    close_all(&loop, l, &s);
}

/* Which of the plan's Events are news (sent by default): all but a step
 * going as planned, whatever their type. */
static void test_news(void)
{
    static const char *const news[] = {"StepFailed",
                                       "StepCancelled",
                                       "Running",
                                       "Succeeded",
                                       "Failing",
                                       "Failed",
                                       "Cancelling",
                                       "Cancelled",
                                       "Replacing",
                                       "TeardownStuck",
                                       "StatusCorrected",
                                       "StrayJobDeleted",
                                       "ForeignChildrenIgnored",
                                       "ResultUnresolved",
                                       "CycleDetected",
                                       "SomeReasonAddedLater"};
    for (size_t i = 0; i < sizeof news / sizeof news[0]; i++) {
        struct plan_action a = event(news[i], "r1-a");
        CHECK(ctrl_ev_news(&a));
        snprintf(a.type, sizeof a.type, "Warning");
        CHECK(ctrl_ev_news(&a));
    }
    static const char *const not_news[] = {"StepStarted", "StepSucceeded"};
    for (size_t i = 0; i < sizeof not_news / sizeof not_news[0]; i++) {
        struct plan_action a = event(not_news[i], "r1-a");
        CHECK(!ctrl_ev_news(&a));
    }
}

/* Freed without ever running the loop (ctrl_new's error path). */
static void test_free_unused(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ctrl_ev_options o = {0};
    struct ctrl_ev_lane *l = NULL;
    CHECK_INT(ctrl_ev_new(&loop, &o, NULL, &l), 0);
    ctrl_ev_free(l);
    CHECK_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
    RUN(test_order_and_in_flight);
    RUN(test_queue_bound_and_close);
    RUN(test_pacing);
    RUN(test_free_unused);
    RUN(test_news);
    return check_finish();
}
