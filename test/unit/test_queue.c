#include "check.h"
#include "queue/queue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static struct wq *no_bucket(uint64_t base, uint64_t max)
{
    struct wq_config c;
    wq_config_default(&c);
    c.qps = 0;
    c.base_delay_ms = base;
    c.max_delay_ms = max;
    return wq_new(&c);
}

/* Takes the next key, checks it and marks it done. */
#define TAKE(q, now, want)                                                                         \
    do {                                                                                           \
        const char *take_k_ = wq_get(q, now);                                                      \
        CHECK_STR(take_k_, want);                                                                  \
        if (take_k_)                                                                               \
            wq_done(q, take_k_);                                                                   \
    } while (0)

static void test_dedup_fifo(void)
{
    struct wq *q = wq_new(NULL);
    CHECK_INT(wq_add(q, "ci/a"), 0);
    CHECK_INT(wq_add(q, "ci/b"), 0);
    CHECK_INT(wq_add(q, "ci/a"), 0);
    CHECK_INT(wq_add(q, "ci/c"), 0);
    CHECK_INT(wq_add(q, "ci/b"), 0);
    CHECK_INT(wq_len(q), 3);
    TAKE(q, 0, "ci/a");
    TAKE(q, 0, "ci/b");
    TAKE(q, 0, "ci/c");
    CHECK(wq_get(q, 0) == NULL);
    CHECK_INT(wq_len(q), 0);
    CHECK_INT(wq_processing_len(q), 0);
    wq_free(q);
}

static void test_dirty_while_processing(void)
{
    struct wq *q = wq_new(NULL);
    wq_add(q, "ci/a");
    wq_add(q, "ci/b");
    const char *a = wq_get(q, 0);
    CHECK_STR(a, "ci/a");
    CHECK_INT(wq_processing_len(q), 1);
    /* Not handed out twice at once, however often it is added. */
    wq_add(q, "ci/a");
    wq_add(q, "ci/a");
    CHECK_INT(wq_len(q), 1);
    TAKE(q, 0, "ci/b");
    CHECK(wq_get(q, 0) == NULL);
    /* done re-queues it, once, behind anything added meanwhile. */
    wq_add(q, "ci/c");
    wq_done(q, a);
    CHECK_INT(wq_len(q), 2);
    TAKE(q, 0, "ci/c");
    TAKE(q, 0, "ci/a");
    CHECK(wq_get(q, 0) == NULL);
    /* done for a key not being processed does nothing. */
    wq_add(q, "ci/d");
    wq_done(q, "ci/d");
    wq_done(q, "ci/unknown");
    CHECK_INT(wq_len(q), 1);
    TAKE(q, 0, "ci/d");
    /* done accepts an equal string, not only the pointer from get. */
    wq_add(q, "ci/e");
    CHECK_STR(wq_get(q, 0), "ci/e");
    char copy[] = "ci/e";
    wq_done(q, copy);
    CHECK_INT(wq_processing_len(q), 0);
    wq_free(q);
}

static void test_add_after(void)
{
    struct wq *q = no_bucket(5, 1000);
    CHECK_INT(wq_next_deadline_ms(q), WQ_NO_DEADLINE);
    wq_add_after(q, "ci/a", 100, 1000);
    wq_add_after(q, "ci/b", 50, 1000);
    wq_add_after(q, "ci/c", 50, 1000);
    CHECK_INT(wq_delayed_len(q), 3);
    CHECK_INT(wq_len(q), 0);
    CHECK_INT(wq_next_deadline_ms(q), 1050);
    CHECK(wq_get(q, 1049) == NULL);
    TAKE(q, 1050, "ci/b"); /* equal deadlines keep add order */
    TAKE(q, 1050, "ci/c");
    CHECK_INT(wq_next_deadline_ms(q), 1100);
    CHECK(wq_get(q, 1099) == NULL);
    TAKE(q, 5000, "ci/a");
    CHECK_INT(wq_next_deadline_ms(q), WQ_NO_DEADLINE);

    /* The earliest deadline wins. */
    wq_add_after(q, "ci/x", 100, 0);
    wq_add_after(q, "ci/x", 30, 0);
    wq_add_after(q, "ci/x", 500, 0);
    CHECK_INT(wq_delayed_len(q), 1);
    CHECK_INT(wq_next_deadline_ms(q), 30);
    TAKE(q, 30, "ci/x");
    CHECK(wq_get(q, 10000) == NULL);

    /* A delay of 0 is a plain add. */
    CHECK_INT(wq_add_after(q, "ci/now", 0, 0), 0);
    CHECK_INT(wq_len(q), 1);
    TAKE(q, 0, "ci/now");

    /* A delayed add is independent of the key being queued: processed now,
     * it runs again at the deadline (a RequeueAfter is not lost). */
    wq_add(q, "ci/y");
    wq_add_after(q, "ci/y", 10, 0);
    TAKE(q, 0, "ci/y");
    CHECK(wq_get(q, 9) == NULL);
    TAKE(q, 10, "ci/y");
    /* ...but if still queued at the deadline it is not duplicated. */
    wq_add(q, "ci/z");
    wq_add_after(q, "ci/z", 10, 0);
    TAKE(q, 10, "ci/z");
    CHECK(wq_get(q, 10) == NULL);
    /* Due while processing: queued again at done. */
    wq_add(q, "ci/w");
    const char *w = wq_get(q, 0);
    wq_add_after(q, "ci/w", 10, 0);
    CHECK(wq_get(q, 10) == NULL);
    wq_done(q, w);
    TAKE(q, 10, "ci/w");

    /* Promoted keys join the FIFO behind keys already ready. */
    wq_add_after(q, "ci/late", 5, 0);
    wq_add(q, "ci/first");
    TAKE(q, 5, "ci/first");
    TAKE(q, 5, "ci/late");

    /* Far deadlines saturate but still count as deadlines. */
    wq_add_after(q, "ci/far", UINT64_MAX, 10);
    CHECK(wq_next_deadline_ms(q) != WQ_NO_DEADLINE);
    CHECK(wq_get(q, UINT64_MAX - 2) == NULL);
    TAKE(q, UINT64_MAX, "ci/far");
    wq_free(q);
}

/* wq_add_within: a key already waiting needs nothing more; otherwise it
 * is a delayed add, and the earliest deadline still wins. */
static void test_add_within(void)
{
    struct wq *q = no_bucket(5, 1000);
    /* Waiting in the FIFO: no second processing at the deadline. */
    wq_add(q, "ci/a");
    CHECK_INT(wq_add_within(q, "ci/a", 50, 0), 0);
    CHECK_INT(wq_delayed_len(q), 0);
    TAKE(q, 0, "ci/a");
    CHECK(wq_get(q, 100) == NULL);
    /* Added again while processing (dirty): the re-queue at done reads it. */
    wq_add(q, "ci/b");
    const char *b = wq_get(q, 0);
    wq_add(q, "ci/b");
    CHECK_INT(wq_add_within(q, "ci/b", 50, 0), 0);
    CHECK_INT(wq_delayed_len(q), 0);
    wq_done(q, b);
    TAKE(q, 0, "ci/b");
    CHECK(wq_get(q, 100) == NULL);
    /* Processing and clean: the news came after its plan read the state. */
    wq_add(q, "ci/c");
    const char *cc = wq_get(q, 0);
    CHECK_INT(wq_add_within(q, "ci/c", 50, 0), 0);
    CHECK_INT(wq_delayed_len(q), 1);
    wq_done(q, cc);
    CHECK(wq_get(q, 49) == NULL);
    TAKE(q, 50, "ci/c");
    /* Idle: delayed; a burst keeps one deadline, the first. */
    CHECK_INT(wq_add_within(q, "ci/d", 50, 100), 0);
    CHECK_INT(wq_add_within(q, "ci/d", 50, 120), 0);
    CHECK_INT(wq_next_deadline_ms(q), 150);
    /* An urgent add meanwhile is processed at once; the deadline still
     * comes, one more processing (wq_add_after semantics). */
    wq_add(q, "ci/d");
    TAKE(q, 130, "ci/d");
    TAKE(q, 150, "ci/d");
    CHECK(wq_get(q, 1000) == NULL);
    CHECK_INT(wq_add_within(q, "", 5, 0), -EINVAL);
    wq_free(q);
}

static void test_backoff(void)
{
    struct wq *q = wq_new(NULL); /* defaults: 5 ms doubling, cap 300 s */
    uint64_t now = 1000000, want = 5;
    /* One key, failing 40 times: 5, 10, 20, ... capped at 300 s. The bucket
     * (burst 100) never limits one key. */
    for (unsigned i = 0; i < 40; i++) {
        CHECK_INT(wq_num_requeues(q, "ci/a"), i);
        CHECK_INT(wq_add_rate_limited(q, "ci/a", now), 0);
        CHECK_INT(wq_next_deadline_ms(q) - now, want);
        now += want;
        TAKE(q, now, "ci/a");
        want = want * 2 > 300000 ? 300000 : want * 2;
    }
    CHECK_INT(wq_num_requeues(q, "ci/a"), 40);
    /* Forget resets it. */
    wq_forget(q, "ci/a");
    CHECK_INT(wq_num_requeues(q, "ci/a"), 0);
    wq_add_rate_limited(q, "ci/a", now);
    CHECK_INT(wq_next_deadline_ms(q) - now, 5);
    /* Failures are per key. */
    wq_add_rate_limited(q, "ci/b", now);
    CHECK_INT(wq_num_requeues(q, "ci/b"), 1);
    CHECK_INT(wq_num_requeues(q, "ci/a"), 1);
    wq_forget(q, "ci/unknown");
    CHECK_INT(wq_num_requeues(q, "ci/unknown"), 0);
    wq_free(q);

    /* Custom cap, and a failure count that stays while the key is idle. */
    q = no_bucket(100, 250);
    for (int i = 0; i < 4; i++) {
        wq_add_rate_limited(q, "ci/c", 0);
        TAKE(q, 1000, "ci/c");
    }
    CHECK_INT(wq_num_requeues(q, "ci/c"), 4);
    wq_add_rate_limited(q, "ci/c", 0);
    CHECK_INT(wq_next_deadline_ms(q), 250);
    wq_free(q);
}

static void test_bucket(void)
{
    /* Defaults: 10 qps, burst 100. 100 keys pass with the 5 ms item delay;
     * after that one every 100 ms. */
    struct wq *q = wq_new(NULL);
    char key[32];
    for (int i = 0; i < 103; i++) {
        snprintf(key, sizeof key, "ci/k%d", i);
        CHECK_INT(wq_add_rate_limited(q, key, 0), 0);
    }
    int got = 0;
    while (wq_get(q, 5))
        got++;
    CHECK_INT(got, 100);
    CHECK_INT(wq_next_deadline_ms(q), 100);
    CHECK(wq_get(q, 99) == NULL);
    CHECK_STR(wq_get(q, 100), "ci/k100");
    CHECK(wq_get(q, 199) == NULL);
    CHECK_STR(wq_get(q, 200), "ci/k101");
    CHECK_STR(wq_get(q, 300), "ci/k102");
    /* 3 tokens of debt; one second later 10 more came in: 7 pass at the
     * item delay, the 8th waits 100 ms. */
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "ci/j%d", i);
        wq_add_rate_limited(q, key, 1000);
    }
    got = 0;
    while (wq_get(q, 1005))
        got++;
    CHECK_INT(got, 7);
    CHECK_INT(wq_next_deadline_ms(q), 1100);
    /* A long idle refills to the burst, not beyond. */
    for (int i = 0; i < 101; i++) {
        snprintf(key, sizeof key, "ci/l%d", i);
        wq_add_rate_limited(q, key, 10000000);
    }
    got = 0;
    while (wq_get(q, 10000005))
        got++;
    CHECK_INT(got, 101); /* includes ci/j7, due long before */
    CHECK_INT(wq_next_deadline_ms(q), 10000100);
    wq_free(q);
}

static void test_invalid(void)
{
    struct wq *q = wq_new(NULL);
    CHECK_INT(wq_add(q, NULL), -EINVAL);
    CHECK_INT(wq_add(q, ""), -EINVAL);
    CHECK_INT(wq_add_after(q, NULL, 5, 0), -EINVAL);
    CHECK_INT(wq_add_rate_limited(q, "", 0), -EINVAL);
    wq_done(q, NULL);
    wq_forget(q, NULL);
    CHECK_INT(wq_num_requeues(q, NULL), 0);
    CHECK_INT(wq_len(q), 0);
    wq_free(q);
    wq_free(NULL);
}

/* Keys in every state at shutdown and at free; ASan/valgrind check that
 * nothing leaks. */
static void test_shutdown_and_free(void)
{
    struct wq *q = wq_new(NULL);
    wq_add(q, "ci/busy");
    wq_add(q, "ci/busy-dirty");
    wq_add(q, "ci/failed");
    const char *busy = wq_get(q, 0);
    const char *busy_dirty = wq_get(q, 0);
    const char *failed = wq_get(q, 0);
    wq_add(q, "ci/ready");
    wq_add(q, "ci/busy-dirty");
    wq_done(q, failed);
    wq_add_rate_limited(q, "ci/failed", 0);
    wq_add_after(q, "ci/delayed", 1000, 0);
    wq_add(q, "ci/both");
    wq_add_after(q, "ci/both", 1000, 0);
    CHECK_INT(wq_len(q), 2);
    CHECK_INT(wq_delayed_len(q), 3);
    CHECK_INT(wq_processing_len(q), 2);

    wq_shutdown(q);
    CHECK(wq_get(q, 5000) == NULL);
    CHECK_INT(wq_add(q, "ci/new"), 0);
    CHECK_INT(wq_add_after(q, "ci/new", 5, 0), 0);
    CHECK_INT(wq_add_rate_limited(q, "ci/new", 0), 0);
    CHECK_INT(wq_len(q), 2);
    CHECK_INT(wq_next_deadline_ms(q), WQ_NO_DEADLINE);
    /* In-flight work can still finish, so the owner can drain. */
    wq_done(q, busy);
    CHECK_INT(wq_processing_len(q), 1);
    CHECK(busy_dirty != NULL);
    wq_free(q); /* busy-dirty still processing */
}

/* Reference model: the client-go semantics spelled out over a small key
 * space, checked against the real queue under random operations. */
#define MKEYS 48
struct model {
    int dirty[MKEYS], processing[MKEYS], delayed[MKEYS];
    uint64_t at[MKEYS], seq[MKEYS], nseq;
    unsigned failures[MKEYS];
    int fifo[MKEYS * 2], nfifo;
};

static void m_add(struct model *m, int k)
{
    if (m->dirty[k])
        return;
    m->dirty[k] = 1;
    if (!m->processing[k])
        m->fifo[m->nfifo++] = k;
}

static void m_after(struct model *m, int k, uint64_t d, uint64_t now)
{
    if (d == 0) {
        m_add(m, k);
        return;
    }
    if (m->delayed[k]) {
        if (now + d < m->at[k])
            m->at[k] = now + d;
        return;
    }
    m->delayed[k] = 1;
    m->at[k] = now + d;
    m->seq[k] = m->nseq++;
}

static int m_get(struct model *m, uint64_t now)
{
    for (;;) {
        int best = -1;
        for (int k = 0; k < MKEYS; k++)
            if (m->delayed[k] && m->at[k] <= now &&
                (best < 0 || m->at[k] < m->at[best] ||
                 (m->at[k] == m->at[best] && m->seq[k] < m->seq[best])))
                best = k;
        if (best < 0)
            break;
        m->delayed[best] = 0;
        m_add(m, best);
    }
    if (m->nfifo == 0)
        return -1;
    int k = m->fifo[0];
    memmove(m->fifo, m->fifo + 1, (size_t)--m->nfifo * sizeof m->fifo[0]);
    m->dirty[k] = 0;
    m->processing[k] = 1;
    return k;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_against_model(void)
{
    static struct model m;
    memset(&m, 0, sizeof m);
    struct wq *q = no_bucket(5, 200);
    uint64_t s = 88172645463325252ULL, now = 0;
    char key[16];
    int bad = 0;
    for (int step = 0; step < 300000 && !bad; step++) {
        int k = (int)(rnd(&s) % MKEYS), op = (int)(rnd(&s) % 100);
        snprintf(key, sizeof key, "ns/k%d", k);
        if (op < 25) {
            wq_add(q, key);
            m_add(&m, k);
        } else if (op < 37) {
            uint64_t d = rnd(&s) % 50;
            wq_add_after(q, key, d, now);
            m_after(&m, k, d, now);
        } else if (op < 45) {
            uint64_t d = rnd(&s) % 50;
            wq_add_within(q, key, d, now);
            if (!m.dirty[k])
                m_after(&m, k, d, now);
        } else if (op < 50) {
            uint64_t d = 5;
            for (unsigned i = 0; i < m.failures[k] && d < 200; i++)
                d *= 2;
            wq_add_rate_limited(q, key, now);
            m_after(&m, k, d < 200 ? d : 200, now);
            m.failures[k]++;
        } else if (op < 53) {
            wq_forget(q, key);
            m.failures[k] = 0;
        } else if (op < 78) {
            const char *got = wq_get(q, now);
            int want = m_get(&m, now);
            int gk = got ? atoi(got + 4) : -1;
            if (gk != want) {
                check_fail(__FILE__, __LINE__, "step %d: got %d want %d", step, gk, want);
                bad = 1;
            }
        } else if (op < 95) {
            /* done for a random key, processing or not */
            wq_done(q, key);
            if (m.processing[k]) {
                m.processing[k] = 0;
                if (m.dirty[k])
                    m.fifo[m.nfifo++] = k;
            }
        } else {
            now += rnd(&s) % 40;
        }
        size_t ndelayed = 0;
        for (int i = 0; i < MKEYS; i++)
            ndelayed += (size_t)m.delayed[i];
        if (wq_len(q) != (size_t)m.nfifo || wq_delayed_len(q) != ndelayed ||
            wq_num_requeues(q, key) != m.failures[k]) {
            check_fail(__FILE__, __LINE__, "step %d: len %zu/%d", step, wq_len(q), m.nfifo);
            bad = 1;
        }
    }
    CHECK_INT(bad, 0);
    wq_free(q);
}

static void test_100k(void)
{
    enum { N = 100000 };
    struct wq *q = no_bucket(5, 300000);
    char key[64];
    clock_t t0 = clock();
    int failed = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < N; i++) {
            snprintf(key, sizeof key, "namespace-%d/workflowrun-%d", i % 97, i);
            failed += wq_add(q, key) != 0;
        }
    CHECK_INT(failed, 0);
    CHECK_INT(wq_len(q), N);
    int order_ok = 1;
    for (int i = 0; i < N; i++) {
        const char *k = wq_get(q, 0);
        snprintf(key, sizeof key, "namespace-%d/workflowrun-%d", i % 97, i);
        if (!k || strcmp(k, key) != 0)
            order_ok = 0;
        if (k)
            wq_done(q, k);
    }
    CHECK(order_ok);
    CHECK(wq_get(q, 0) == NULL);

    /* Delayed: pseudo-random deadlines come out sorted. */
    uint64_t s = 2463534242ULL;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "ns/run-%d", i);
        wq_add_after(q, key, 1 + rnd(&s) % 1000000, 0);
    }
    CHECK_INT(wq_delayed_len(q), N);
    uint64_t last = 0;
    int sorted = 1, n = 0;
    while (wq_next_deadline_ms(q) != WQ_NO_DEADLINE) {
        uint64_t at = wq_next_deadline_ms(q);
        if (at < last)
            sorted = 0;
        last = at;
        const char *k = wq_get(q, at);
        while (k) {
            n++;
            wq_done(q, k);
            k = wq_get(q, at);
        }
    }
    CHECK(sorted);
    CHECK_INT(n, N);
    CHECK_INT(wq_len(q) + wq_delayed_len(q) + wq_processing_len(q), 0);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("100k: %.2f s cpu\n", secs);
    wq_free(q);
}

int main(void)
{
    RUN(test_dedup_fifo);
    RUN(test_dirty_while_processing);
    RUN(test_add_after);
    RUN(test_add_within);
    RUN(test_backoff);
    RUN(test_bucket);
    RUN(test_invalid);
    RUN(test_shutdown_and_free);
    RUN(test_against_model);
    RUN(test_100k);
    return check_finish();
}
