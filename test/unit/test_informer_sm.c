/* The informer's resourceVersion bookkeeping and its list/watch decisions. */
#include "check.h"
#include "informer/inf_sm.h"

#include <errno.h>

static struct inf_sm sm;

static void fresh(void)
{
    inf_sm_init(&sm, 800, 30000, 60000);
}

static struct kstatus status(int code, const char *reason, int retry_after)
{
    struct kstatus s = {0};
    s.code = code;
    s.retry_after_s = retry_after;
    snprintf(s.reason, sizeof s.reason, "%s", reason);
    return s;
}

static void test_rv_bookkeeping(void)
{
    fresh();
    CHECK_STR(sm.rv, "");
    CHECK_INT(inf_sm_listed(&sm, ""), -EINVAL);
    CHECK_INT(inf_sm_listed(&sm, NULL), -EINVAL);
    CHECK_INT(inf_sm_listed(&sm, "100"), 0);
    CHECK_STR(sm.rv, "100");
    CHECK_INT(inf_sm_observe(&sm, WATCH_ADDED, "101"), 0);
    CHECK_STR(sm.rv, "101");
    /* Bookmarks move it too: that is their whole point. */
    CHECK_INT(inf_sm_observe(&sm, WATCH_BOOKMARK, "250"), 0);
    CHECK_STR(sm.rv, "250");
    CHECK_INT(inf_sm_observe(&sm, WATCH_DELETED, "251"), 0);
    CHECK_STR(sm.rv, "251");
    /* ERROR events and missing versions don't. */
    CHECK_INT(inf_sm_observe(&sm, WATCH_ERROR, "1"), 0);
    CHECK_INT(inf_sm_observe(&sm, WATCH_MODIFIED, NULL), 0);
    CHECK_INT(inf_sm_observe(&sm, WATCH_MODIFIED, ""), 0);
    CHECK_STR(sm.rv, "251");
    /* Opaque: no ordering is assumed, the last one wins. */
    CHECK_INT(inf_sm_observe(&sm, WATCH_MODIFIED, "abc"), 0);
    CHECK_STR(sm.rv, "abc");
    char big[INF_RV_MAX + 1];
    memset(big, '9', INF_RV_MAX);
    big[INF_RV_MAX] = '\0';
    CHECK_INT(inf_sm_observe(&sm, WATCH_MODIFIED, big), -EINVAL);
    CHECK_INT(inf_sm_listed(&sm, big), -EINVAL);
    CHECK_STR(sm.rv, "abc");
}

static struct inf_plan ended(struct inf_watch_end e)
{
    return inf_sm_watch_ended(&sm, &e, 0.5);
}

static void test_clean_end_rewatches(void)
{
    fresh();
    inf_sm_listed(&sm, "10");
    inf_sm_observe(&sm, WATCH_BOOKMARK, "42");
    struct inf_plan p =
        ended((struct inf_watch_end){.http_status = 200, .events = 3, .lived_ms = 400000});
    CHECK_INT(p.action, INF_ACT_WATCH);
    CHECK_INT(p.delay_ms, 0);
    CHECK_STR(sm.rv, "42");
    /* Quiet but long-lived: still a normal end. */
    p = ended((struct inf_watch_end){.http_status = 200, .lived_ms = 5000});
    CHECK_INT(p.action, INF_ACT_WATCH);
    CHECK_INT(p.delay_ms, 0);
}

static void test_very_short_watch_relists(void)
{
    fresh();
    inf_sm_listed(&sm, "10");
    struct inf_plan p = ended((struct inf_watch_end){.http_status = 200, .lived_ms = 20});
    CHECK_INT(p.action, INF_ACT_LIST);
    CHECK(p.delay_ms >= 600 && p.delay_ms <= 1000);
    CHECK_STR(sm.rv, "");
}

static void test_gone_relists(void)
{
    /* As an ERROR event after a healthy watch: relist at once. */
    fresh();
    inf_sm_listed(&sm, "10");
    struct kstatus st = status(410, "Expired", 0);
    struct inf_plan p = ended((struct inf_watch_end){
        .http_status = 200, .status = &st, .error_event = 1, .events = 5, .lived_ms = 10});
    CHECK_INT(p.action, INF_ACT_LIST);
    CHECK_INT(p.delay_ms, 0);
    CHECK_STR(sm.rv, "");

    /* Servers <= 1.17: reason Gone, and some put no code in the event. */
    fresh();
    inf_sm_listed(&sm, "10");
    st = status(0, "Gone", 0);
    p = ended((struct inf_watch_end){.status = &st, .error_event = 1, .lived_ms = 5});
    CHECK_INT(p.action, INF_ACT_LIST);
    CHECK(p.delay_ms > 0); /* not healthy: backoff, so a server stuck on 410 cannot spin us */
    CHECK_STR(sm.rv, "");

    /* As the HTTP status of the watch request. */
    fresh();
    inf_sm_listed(&sm, "10");
    st = status(410, "Expired", 0);
    p = ended((struct inf_watch_end){.http_status = 410, .status = &st, .lived_ms = 5});
    CHECK_INT(p.action, INF_ACT_LIST);
    CHECK_STR(sm.rv, "");
    /* ... even with a body that was no Status. */
    fresh();
    inf_sm_listed(&sm, "10");
    p = ended((struct inf_watch_end){.http_status = 410, .lived_ms = 5});
    CHECK_INT(p.action, INF_ACT_LIST);
    CHECK_STR(sm.rv, "");
}

static void test_too_large_rv(void)
{
    fresh();
    inf_sm_listed(&sm, "10");
    struct kstatus st = status(504, "Timeout", 1);
    st.rv_too_large = 1;
    struct inf_plan p = ended((struct inf_watch_end){.http_status = 504, .status = &st});
    CHECK_INT(p.action, INF_ACT_LIST);
    CHECK_STR(sm.rv, "");
}

static void test_transient_errors_keep_rv(void)
{
    fresh();
    inf_sm_listed(&sm, "77");
    /* Connection refused (API server restarting). */
    struct inf_plan p = ended((struct inf_watch_end){.err = -ECONNREFUSED});
    CHECK_INT(p.action, INF_ACT_WATCH);
    CHECK(p.delay_ms >= 600 && p.delay_ms <= 1000);
    /* Reset mid-stream after events: backoff restarts from the base. */
    p = ended((struct inf_watch_end){.err = -ECONNRESET, .events = 2, .lived_ms = 50});
    CHECK_INT(p.action, INF_ACT_WATCH);
    CHECK(p.delay_ms >= 600 && p.delay_ms <= 1000);
    /* Malformed stream. */
    p = ended((struct inf_watch_end){.malformed = 1, .http_status = 200});
    CHECK_INT(p.action, INF_ACT_WATCH);
    /* 429 with Retry-After: at least that long. */
    struct kstatus st = status(429, "TooManyRequests", 7);
    p = ended((struct inf_watch_end){.http_status = 429, .status = &st});
    CHECK_INT(p.action, INF_ACT_WATCH);
    CHECK(p.delay_ms >= 7000);
    /* 500 as an ERROR event inside the stream. */
    st = status(500, "InternalError", 0);
    p = ended((struct inf_watch_end){.http_status = 200, .status = &st, .error_event = 1});
    CHECK_INT(p.action, INF_ACT_WATCH);
    CHECK_STR(sm.rv, "77");
}

static void test_other_4xx_relists(void)
{
    fresh();
    inf_sm_listed(&sm, "77");
    struct kstatus st = status(404, "NotFound", 0);
    struct inf_plan p = ended((struct inf_watch_end){.http_status = 404, .status = &st});
    CHECK_INT(p.action, INF_ACT_LIST);
    CHECK(p.delay_ms > 0);
    CHECK_STR(sm.rv, "");
}

static void test_backoff(void)
{
    fresh();
    uint64_t want_step[] = {800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
    for (size_t i = 0; i < sizeof want_step / sizeof want_step[0]; i++) {
        uint64_t lo = inf_sm_backoff(&sm, 0.0);
        CHECK_INT(lo, want_step[i] * 3 / 4);
    }
    /* The jitter never goes over the cap. */
    CHECK_INT(inf_sm_backoff(&sm, 0.999999), 30000);
    /* Errors alone never reset it... */
    inf_sm_listed(&sm, "1");
    struct inf_plan p = ended((struct inf_watch_end){.err = -ECONNREFUSED});
    CHECK(p.delay_ms >= 22500);
    /* ... a healthy watch does: it lived long enough, */
    p = ended((struct inf_watch_end){.err = -ECONNRESET, .lived_ms = 60000});
    CHECK(p.delay_ms < 1000);
    /* or it delivered events. */
    for (int i = 0; i < 5; i++)
        inf_sm_backoff(&sm, 0.5);
    p = ended((struct inf_watch_end){.err = -ECONNRESET, .events = 1});
    CHECK(p.delay_ms < 1000);
}

/* A server that lists fine but fails every watch at once must meet a
 * growing backoff, not a hot loop. */
static void test_no_spin(void)
{
    fresh();
    uint64_t last = 0;
    int grew = 1;
    for (int i = 0; i < 8; i++) {
        inf_sm_listed(&sm, "5");
        struct kstatus st = status(410, "Expired", 0);
        struct inf_plan p = ended((struct inf_watch_end){.http_status = 410, .status = &st});
        CHECK_INT(p.action, INF_ACT_LIST);
        if (p.delay_ms < last)
            grew = 0;
        last = p.delay_ms;
    }
    CHECK(grew);
    CHECK(last >= 22500);
}

static void test_list_failed(void)
{
    fresh();
    struct kstatus st = status(429, "TooManyRequests", 3);
    struct inf_plan p = inf_sm_list_failed(&sm, 0, 429, &st, 0.0);
    CHECK_INT(p.action, INF_ACT_LIST);
    CHECK_INT(p.delay_ms, 3000);
    p = inf_sm_list_failed(&sm, -ECONNREFUSED, 0, NULL, 0.0);
    CHECK_INT(p.delay_ms, 1200);
    /* Retry-After is honoured up to a minute. */
    st.retry_after_s = 3600;
    p = inf_sm_list_failed(&sm, 0, 429, &st, 0.0);
    CHECK_INT(p.delay_ms, 60000);
}

int main(void)
{
    RUN(test_rv_bookkeeping);
    RUN(test_clean_end_rewatches);
    RUN(test_very_short_watch_relists);
    RUN(test_gone_relists);
    RUN(test_too_large_rv);
    RUN(test_transient_errors_keep_rv);
    RUN(test_other_4xx_relists);
    RUN(test_backoff);
    RUN(test_no_spin);
    RUN(test_list_failed);
    return check_finish();
}
