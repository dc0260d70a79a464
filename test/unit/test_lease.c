/* lease: the election rule (every branch and boundary), the change tracker,
 * the Lease JSON, MicroTime, and the elector's lifecycle against a server
 * that refuses connections (no cluster needed). */
#include "check.h"
#include "kube/kube.h"
#include "kubeconfig/kubeconfig.h"
#include "lease/lease.h"
#include "log/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static const char NOW[] = "2026-11-25T05:00:00.123456Z";
static const char OLD[] = "2026-11-25T04:00:00.000000Z";

static enum lease_action decide(const struct lease_record *seen, const char *me, long dur_ms,
                                uint64_t now, uint64_t observed, struct lease_record *out,
                                uint64_t *wait)
{
    struct lease_input in = {seen, me, dur_ms, now, observed, NOW};
    return lease_decide(&in, out, wait);
}

/* ---- lease_decide --------------------------------------------------------- */

static void test_decide_missing(void)
{
    struct lease_record out;
    uint64_t wait = 99;
    CHECK_INT(decide(NULL, "a", 15000, 1000, 0, &out, &wait), LEASE_CREATE);
    CHECK_INT(wait, 0);
    CHECK_STR(out.holder, "a");
    CHECK_INT(out.duration_s, 15);
    CHECK_STR(out.acquire_time, NOW);
    CHECK_STR(out.renew_time, NOW);
    CHECK_INT(out.transitions, 0);
    /* Whole seconds, rounded up: a 3.001 s lease must not be cut short. */
    CHECK_INT(decide(NULL, "a", 3001, 0, 0, &out, NULL), LEASE_CREATE);
    CHECK_INT(out.duration_s, 4);
    decide(NULL, "a", 500, 0, 0, &out, NULL);
    CHECK_INT(out.duration_s, 1);
    decide(NULL, "a", 3000, 0, 0, &out, NULL);
    CHECK_INT(out.duration_s, 3);
}

static void test_decide_ours(void)
{
    struct lease_record seen = {"a", 15, OLD, OLD, 4}, out;
    uint64_t wait = 99;
    /* Ours: renewed whatever the clocks say, even long "expired". */
    uint64_t nows[] = {0, 1000, 14999, 15000, 1000000};
    for (size_t i = 0; i < sizeof nows / sizeof nows[0]; i++) {
        CHECK_INT(decide(&seen, "a", 15000, nows[i], 0, &out, &wait), LEASE_RENEW);
        CHECK_INT(wait, 0);
        CHECK_STR(out.holder, "a");
        CHECK_STR(out.acquire_time, OLD); /* kept */
        CHECK_STR(out.renew_time, NOW);
        CHECK_INT(out.transitions, 4); /* kept */
        CHECK_INT(out.duration_s, 15);
    }
    /* Our duration is written, whatever the Lease said (e.g. a release's 1). */
    seen.duration_s = 1;
    decide(&seen, "a", 3000, 0, 0, &out, NULL);
    CHECK_INT(out.duration_s, 3);
    /* No acquireTime recorded: now. */
    seen.acquire_time = "";
    CHECK_INT(decide(&seen, "a", 3000, 0, 0, &out, NULL), LEASE_RENEW);
    CHECK_STR(out.acquire_time, NOW);
}

static void test_decide_free(void)
{
    /* Empty holder (released, or never held): take it at once, observed
     * just now or not, and count the transition as client-go does. */
    struct lease_record seen = {"", 1, OLD, OLD, 7}, out;
    uint64_t wait = 99;
    CHECK_INT(decide(&seen, "b", 15000, 500, 500, &out, &wait), LEASE_ACQUIRE);
    CHECK_INT(wait, 0);
    CHECK_STR(out.holder, "b");
    CHECK_STR(out.acquire_time, NOW);
    CHECK_STR(out.renew_time, NOW);
    CHECK_INT(out.transitions, 8);
    CHECK_INT(out.duration_s, 15);
    seen.duration_s = 3600; /* irrelevant without a holder */
    CHECK_INT(decide(&seen, "b", 15000, 0, 0, &out, NULL), LEASE_ACQUIRE);
}

static void test_decide_held(void)
{
    struct lease_record seen = {"a", 15, OLD, OLD, 2}, out;
    uint64_t wait = 0;
    /* Observed at 10000: expires at 25000 on our clock. */
    CHECK_INT(decide(&seen, "b", 15000, 10000, 10000, &out, &wait), LEASE_WAIT);
    CHECK_INT(wait, 15000);
    CHECK_INT(decide(&seen, "b", 15000, 24999, 10000, &out, &wait), LEASE_WAIT);
    CHECK_INT(wait, 1);
    CHECK_INT(decide(&seen, "b", 15000, 25000, 10000, &out, &wait), LEASE_ACQUIRE);
    CHECK_INT(wait, 0);
    CHECK_STR(out.holder, "b");
    CHECK_STR(out.acquire_time, NOW); /* a takeover starts afresh */
    CHECK_INT(out.transitions, 3);
    CHECK_INT(decide(&seen, "b", 15000, 99999, 10000, &out, &wait), LEASE_ACQUIRE);
    /* wait_ms may be NULL. */
    CHECK_INT(decide(&seen, "b", 15000, 10001, 10000, &out, NULL), LEASE_WAIT);
}

static void test_decide_duration_source(void)
{
    struct lease_record seen = {"a", 1, OLD, OLD, 0}, out;
    uint64_t wait;
    /* The holder's leaseDurationSeconds wins over ours, both ways. */
    CHECK_INT(decide(&seen, "b", 15000, 999, 0, &out, &wait), LEASE_WAIT);
    CHECK_INT(wait, 1);
    CHECK_INT(decide(&seen, "b", 15000, 1000, 0, &out, &wait), LEASE_ACQUIRE);
    seen.duration_s = 60;
    CHECK_INT(decide(&seen, "b", 3000, 59999, 0, &out, &wait), LEASE_WAIT);
    CHECK_INT(wait, 1);
    CHECK_INT(decide(&seen, "b", 3000, 60000, 0, &out, &wait), LEASE_ACQUIRE);
    /* None recorded: ours stands in. */
    seen.duration_s = 0;
    CHECK_INT(decide(&seen, "b", 3000, 2999, 0, &out, &wait), LEASE_WAIT);
    CHECK_INT(decide(&seen, "b", 3000, 3000, 0, &out, &wait), LEASE_ACQUIRE);
    /* Absurd ones are clamped to a day, not trusted to overflow. */
    seen.duration_s = 0x7fffffffL;
    CHECK_INT(decide(&seen, "b", 3000, 86400000 - 1, 0, &out, &wait), LEASE_WAIT);
    CHECK_INT(wait, 1);
    CHECK_INT(decide(&seen, "b", 3000, 86400000, 0, &out, &wait), LEASE_ACQUIRE);
}

static void test_decide_clock(void)
{
    struct lease_record seen = {"a", 15, "", "", 0}, out;
    uint64_t wait;
    /* Only our monotonic clock counts: the remote renewTime, far in the
     * past or the future, changes nothing. */
    const char *times[] = {"", "2000-01-01T00:00:00.000000Z", "2999-01-01T00:00:00.000000Z", NOW};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        seen.renew_time = times[i];
        seen.acquire_time = times[i];
        CHECK_INT(decide(&seen, "b", 15000, 5000, 0, &out, &wait), LEASE_WAIT);
        CHECK_INT(wait, 10000);
        CHECK_INT(decide(&seen, "b", 15000, 15000, 0, &out, &wait), LEASE_ACQUIRE);
    }
    /* now before the observation (should not happen): no time has passed. */
    CHECK_INT(decide(&seen, "b", 15000, 100, 5000, &out, &wait), LEASE_WAIT);
    CHECK_INT(wait, 15000);
}

static void test_decide_identity(void)
{
    /* Identities compare whole, byte for byte. */
    struct lease_record seen = {"pod-1", 15, OLD, OLD, 0}, out;
    CHECK_INT(decide(&seen, "pod-10", 15000, 0, 0, &out, NULL), LEASE_WAIT);
    CHECK_INT(decide(&seen, "pod-", 15000, 0, 0, &out, NULL), LEASE_WAIT);
    CHECK_INT(decide(&seen, "Pod-1", 15000, 0, 0, &out, NULL), LEASE_WAIT);
    CHECK_INT(decide(&seen, "pod-1", 15000, 0, 0, &out, NULL), LEASE_RENEW);
    /* A NULL holder reads as none. */
    seen.holder = NULL;
    CHECK_INT(decide(&seen, "pod-1", 15000, 0, 0, &out, NULL), LEASE_ACQUIRE);
}

/* ---- lease_observe ------------------------------------------------------- */

static void test_observe(void)
{
    struct lease_observed o = {0};
    CHECK_INT(lease_observe(&o, "a", OLD, "10", 100), 1);
    CHECK_INT(o.changed_ms, 100);
    CHECK_INT(lease_observe(&o, "a", OLD, "10", 200), 0);
    CHECK_INT(o.changed_ms, 100);
    /* Each part of the triple counts on its own. */
    CHECK_INT(lease_observe(&o, "b", OLD, "10", 300), 1);
    CHECK_INT(o.changed_ms, 300);
    CHECK_INT(lease_observe(&o, "b", NOW, "10", 400), 1);
    CHECK_INT(o.changed_ms, 400);
    CHECK_INT(lease_observe(&o, "b", NOW, "11", 500), 1);
    CHECK_INT(o.changed_ms, 500);
    CHECK_INT(lease_observe(&o, "b", NOW, "11", 600), 0);
    CHECK_INT(o.changed_ms, 500);
    /* NULL and "" are the same. */
    CHECK_INT(lease_observe(&o, NULL, NULL, NULL, 700), 1);
    CHECK_INT(lease_observe(&o, "", "", "", 800), 0);
    CHECK_INT(o.changed_ms, 700);
    lease_observed_clear(&o);
    CHECK_INT(o.valid, 0);
    CHECK_INT(lease_observe(&o, "", "", "", 900), 1); /* after a clear: a change */
    CHECK_INT(o.changed_ms, 900);
    lease_observed_clear(&o);
    lease_observed_clear(&o); /* twice is fine */
}

/* ---- JSON ------------------------------------------------------------------ */

static void test_parse(void)
{
    struct json_object *o = json_tokener_parse(
        "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
        "\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"42\"},"
        "\"spec\":{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15,"
        "\"acquireTime\":\"2026-11-25T04:00:00.000000Z\","
        "\"renewTime\":\"2026-11-25T05:00:00.123456Z\",\"leaseTransitions\":3}}");
    struct lease_record r;
    const char *rv = NULL;
    CHECK_INT(lease_record_parse(o, &r, &rv), 0);
    CHECK_STR(r.holder, "a");
    CHECK_INT(r.duration_s, 15);
    CHECK_STR(r.acquire_time, OLD);
    CHECK_STR(r.renew_time, NOW);
    CHECK_INT(r.transitions, 3);
    CHECK_STR(rv, "42");
    CHECK_INT(lease_record_parse(o, &r, NULL), 0); /* rv optional */
    json_object_put(o);

    /* Empty: everything unset. */
    o = json_tokener_parse("{\"metadata\":{}}");
    rv = "x";
    CHECK_INT(lease_record_parse(o, &r, &rv), 0);
    CHECK_STR(r.holder, "");
    CHECK_STR(r.acquire_time, "");
    CHECK_STR(r.renew_time, "");
    CHECK_INT(r.duration_s, 0);
    CHECK_INT(r.transitions, 0);
    CHECK(rv == NULL);
    json_object_put(o);

    o = json_tokener_parse("{\"spec\":{\"holderIdentity\":null,\"renewTime\":null}}");
    CHECK_INT(lease_record_parse(o, &r, &rv), 0);
    CHECK_STR(r.holder, "");
    json_object_put(o);

    /* Wrong types are refused rather than guessed at. */
    const char *bad[] = {
        "[]",
        "\"lease\"",
        "{\"spec\":[]}",
        "{\"metadata\":\"x\"}",
        "{\"metadata\":{\"resourceVersion\":42}}",
        "{\"spec\":{\"holderIdentity\":7}}",
        "{\"spec\":{\"leaseDurationSeconds\":\"15\"}}",
        "{\"spec\":{\"leaseDurationSeconds\":1.5}}",
        "{\"spec\":{\"leaseTransitions\":-1}}",
        "{\"spec\":{\"leaseTransitions\":99999999999}}",
        "{\"spec\":{\"renewTime\":{}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = json_tokener_parse(bad[i]);
        CHECK(o != NULL);
        if (lease_record_parse(o, &r, &rv) != -EINVAL)
            check_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
        json_object_put(o);
    }
    CHECK_INT(lease_record_parse(NULL, &r, &rv), -EINVAL);
}

static const char *jstr(struct json_object *o, const char *a, const char *b)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, a, &v) || (b && !json_object_object_get_ex(v, b, &v)))
        return NULL;
    return json_object_get_string(v);
}

static void test_apply_and_new(void)
{
    /* apply keeps everything else: labels, resourceVersion, other spec fields. */
    struct json_object *o = json_tokener_parse(
        "{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"42\",\"labels\":{\"k\":\"v\"}},"
        "\"spec\":{\"holderIdentity\":\"a\",\"preferredHolder\":\"c\","
        "\"acquireTime\":\"2026-11-25T04:00:00.000000Z\"}}");
    struct lease_record w = {"b", 3, "", NOW, 9};
    CHECK_INT(lease_record_apply(o, &w), 0);
    CHECK_STR(jstr(o, "metadata", "resourceVersion"), "42");
    CHECK(json_object_object_get_ex(json_object_object_get(o, "metadata"), "labels", NULL));
    CHECK_STR(jstr(o, "spec", "preferredHolder"), "c");
    CHECK_STR(jstr(o, "spec", "holderIdentity"), "b");
    CHECK_STR(jstr(o, "spec", "leaseDurationSeconds"), "3");
    CHECK_STR(jstr(o, "spec", "acquireTime"), OLD); /* empty: left as it was */
    CHECK_STR(jstr(o, "spec", "renewTime"), NOW);
    CHECK_STR(jstr(o, "spec", "leaseTransitions"), "9");
    /* Round trip. */
    struct lease_record r;
    CHECK_INT(lease_record_parse(o, &r, NULL), 0);
    CHECK_STR(r.holder, "b");
    CHECK_INT(r.duration_s, 3);
    CHECK_INT(r.transitions, 9);
    json_object_put(o);

    /* No spec yet: made. A release writes holder "". */
    o = json_object_new_object();
    struct lease_record rel = {"", 1, NOW, NOW, 2};
    CHECK_INT(lease_record_apply(o, &rel), 0);
    CHECK_STR(jstr(o, "spec", "holderIdentity"), "");
    CHECK_STR(jstr(o, "spec", "acquireTime"), NOW);
    json_object_put(o);
    o = json_tokener_parse("{\"spec\":7}");
    CHECK_INT(lease_record_apply(o, &rel), -EINVAL);
    json_object_put(o);
    CHECK_INT(lease_record_apply(NULL, &rel), -EINVAL);

    struct lease_record c = {"a", 15, NOW, NOW, 0};
    o = lease_object_new("leader", "ns1", &c);
    CHECK(o != NULL);
    CHECK_STR(jstr(o, "apiVersion", NULL), "coordination.k8s.io/v1");
    CHECK_STR(jstr(o, "kind", NULL), "Lease");
    CHECK_STR(jstr(o, "metadata", "name"), "leader");
    CHECK_STR(jstr(o, "metadata", "namespace"), "ns1");
    CHECK_STR(jstr(o, "spec", "holderIdentity"), "a");
    CHECK_STR(jstr(o, "spec", "renewTime"), NOW);
    CHECK_STR(jstr(o, "spec", "leaseDurationSeconds"), "15");
    CHECK_STR(jstr(o, "spec", "leaseTransitions"), "0");
    json_object_put(o);
}

static void test_format_time(void)
{
    char buf[LEASE_TIME_LEN];
    CHECK_INT(lease_format_time(0, 0, buf), 0);
    CHECK_STR(buf, "1970-01-01T00:00:00.000000Z");
    /* Microseconds are truncated, never rounded up into the next second. */
    CHECK_INT(lease_format_time(1795582800, 123456789, buf), 0);
    CHECK_STR(buf, "2026-11-25T05:00:00.123456Z");
    CHECK_INT(strlen(buf), 27);
    CHECK_INT(lease_format_time(1795582799, 999999999, buf), 0);
    CHECK_STR(buf, "2026-11-25T04:59:59.999999Z");
    CHECK_INT(lease_format_time(951782400, 1000, buf), 0); /* a leap day */
    CHECK_STR(buf, "2000-02-29T00:00:00.000001Z");
    CHECK_INT(lease_format_time(0, -1, buf), -EINVAL);
    CHECK_INT(lease_format_time(0, 1000000000L, buf), -EINVAL);
    CHECK_INT(lease_format_time(-62167219201LL, 0, buf), -EINVAL); /* year -1 */
    CHECK_INT(lease_format_time(253402300800LL, 0, buf), -EINVAL); /* year 10000 */
}

/* ---- the elector, against nothing ----------------------------------------- */

static uv_loop_t loop;
static struct kube_client *kc;
static int cb_calls, cb_last = -1, done_calls, closed_calls;

static void on_cb(void *ud, int leading)
{
    (void)ud;
    cb_calls++;
    cb_last = leading;
}

static void on_done(void *ud)
{
    (void)ud;
    done_calls++;
}

static void on_closed(void *ud)
{
    (void)ud;
    closed_calls++;
}

static void on_tick(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

/* Runs the loop for ms, whatever else is pending. */
static void run_for(uint64_t ms)
{
    uv_timer_t t;
    int fired = 0;
    uv_timer_init(&loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_tick, ms, 0);
    while (!fired)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static void test_options(void)
{
    struct lease *l = NULL;
    struct lease_options ok = {"n", "ns", "me", 3000, 2000, 500};
    CHECK_INT(lease_new(&loop, kc, &ok, on_cb, NULL, NULL), -EINVAL);
    CHECK_INT(lease_new(NULL, kc, &ok, on_cb, NULL, &l), -EINVAL);
    CHECK_INT(lease_new(&loop, NULL, &ok, on_cb, NULL, &l), -EINVAL);
    CHECK_INT(lease_new(&loop, kc, NULL, on_cb, NULL, &l), -EINVAL);
    CHECK_INT(lease_new(&loop, kc, &ok, NULL, NULL, &l), -EINVAL);
    struct lease_options bad[] = {
        {NULL, "ns", "me", 0, 0, 0},
        {"", "ns", "me", 0, 0, 0},
        {"n", NULL, "me", 0, 0, 0},
        {"n", "", "me", 0, 0, 0},
        {"n", "ns", NULL, 0, 0, 0},
        {"n", "ns", "", 0, 0, 0},
        {"n", "ns", "me", -1, 0, 0},
        {"n", "ns", "me", 10000, 0, 0},     /* duration must exceed the deadline */
        {"n", "ns", "me", 3000, 3000, 500}, /* ... strictly */
        {"n", "ns", "me", 0, 2400, 2000},   /* deadline <= 1.2 * retry */
        {"n", "ns", "me", 0, 0, 9000},
        {"n", "ns", "me", 0, 0, -5},
        {"n", "ns", "me", 86400001, 0, 0}, /* over a day */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (lease_new(&loop, kc, &bad[i], on_cb, NULL, &l) != -EINVAL)
            check_fail(__FILE__, __LINE__, "accepted options #%zu", i);
    }
    CHECK(l == NULL);
    /* Defaults (15/10/2 s) are valid, and so is each alone. */
    struct lease_options good[] = {
        {"n", "ns", "me", 0, 0, 0},
        ok,
        {"n", "ns", "me", 0, 2401, 0},
        {"n", "ns", "me", 10001, 0, 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        l = NULL;
        CHECK_INT(lease_new(&loop, kc, &good[i], on_cb, NULL, &l), 0);
        CHECK(l != NULL);
        if (!l)
            continue;
        CHECK_INT(lease_leading(l), 0);
        closed_calls = 0;
        lease_close(l, on_closed, NULL);
        lease_close(l, on_closed, NULL); /* idempotent */
        CHECK_INT(closed_calls, 0);      /* from the loop, not from inside */
        uv_run(&loop, UV_RUN_NOWAIT);
        CHECK_INT(closed_calls, 1);
        lease_free(l);
    }
    lease_free(NULL);
}

static struct lease *make(void)
{
    struct lease_options o = {"n", "ns", "me", 3000, 2000, 200};
    struct lease *l = NULL;
    CHECK_INT(lease_new(&loop, kc, &o, on_cb, NULL, &l), 0);
    cb_calls = done_calls = closed_calls = 0;
    return l;
}

static void close_free(struct lease *l)
{
    lease_close(l, on_closed, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_INT(closed_calls, 1);
    lease_free(l);
}

static void test_release_unstarted(void)
{
    struct lease *l = make();
    CHECK_INT(lease_release(l, on_done, NULL), 0);
    CHECK_INT(done_calls, 0); /* never from inside the call */
    CHECK_INT(lease_release(l, on_done, NULL), -EBUSY);
    CHECK_INT(lease_start(l), -EBUSY);
    run_for(50);
    CHECK_INT(done_calls, 1);
    CHECK_INT(cb_calls, 0);
    CHECK_INT(lease_release(l, on_done, NULL), -EBUSY);
    close_free(l);
}

static void test_unreachable(void)
{
    /* Nothing listens: the candidate keeps trying, never leads, and a
     * release with a read in flight still ends, within the deadline. */
    struct lease *l = make();
    CHECK_INT(lease_start(l), 0);
    CHECK_INT(lease_start(l), -EBUSY);
    run_for(700);
    CHECK_INT(cb_calls, 0);
    CHECK_INT(lease_leading(l), 0);
    uv_update_time(&loop);
    uint64_t t0 = uv_now(&loop);
    CHECK_INT(lease_release(l, on_done, NULL), 0);
    while (!done_calls && uv_now(&loop) - t0 < 5000)
        run_for(50);
    CHECK_INT(done_calls, 1);
    CHECK(uv_now(&loop) - t0 <= 2500);
    CHECK_INT(cb_calls, 0);
    close_free(l);

    /* Closed with a request in flight: freed at once; the request ends
     * when the client closes (valgrind checks nothing leaks). */
    l = make();
    CHECK_INT(lease_start(l), 0);
    run_for(30);
    close_free(l);
    CHECK_INT(cb_calls, 0);
    run_for(100);

    /* Closed from the start, while releasing. */
    l = make();
    CHECK_INT(lease_start(l), 0);
    run_for(30);
    CHECK_INT(lease_release(l, on_done, NULL), 0);
    close_free(l);
    run_for(100);
    CHECK_INT(done_calls, 0); /* nothing after close */
}

int main(void)
{
    log_setup(LOGL_OFF, LOG_FORMAT_LOGFMT, NULL);
    RUN(test_decide_missing);
    RUN(test_decide_ours);
    RUN(test_decide_free);
    RUN(test_decide_held);
    RUN(test_decide_duration_source);
    RUN(test_decide_clock);
    RUN(test_decide_identity);
    RUN(test_observe);
    RUN(test_parse);
    RUN(test_apply_and_new);
    RUN(test_format_time);

    uv_loop_init(&loop);
    /* Port 1 on loopback: connections are refused at once. */
    char server[] = "https://127.0.0.1:1";
    struct kcfg cfg = {.server = server};
    struct kube_options ko = {.max_tries = 2, .backoff_base_ms = 50, .timeout_ms = 2000};
    CHECK_INT(kube_client_new(&loop, &cfg, &ko, &kc), 0);
    RUN(test_options);
    RUN(test_release_unstarted);
    RUN(test_unreachable);
    int closed = 0;
    kube_client_close(kc, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    return check_finish();
}
