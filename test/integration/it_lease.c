/* Leader election against the real control plane ($KUBECONFIG), with short
 * durations (lease 3 s, renew deadline 2 s, retry 0.5 s) and several
 * electors in one process, each in its own Lease of a test namespace:
 *   - two racing candidates: exactly one leads and keeps leading;
 *   - a release hands over within about a retry period;
 *   - a crash (closed without release) hands over after about the lease
 *     duration, and a stale Lease left by a stranger (renewTime in 2000) is
 *     waited out on our clock, not taken at once;
 *   - through test/proxy (when RUNBOOK_CLUSTER_DIR and RUNBOOK_SOURCE_DIR
 *     are set, as under ctest): renewals that hang or fail make the leader
 *     step down at its renew deadline, before the standby takes over.
 * Every callback is checked: never two leaders at once. */
#include "it_proxy.h"
#include "lease/lease.h"

#define DURATION 3000
#define DEADLINE 2000
#define RETRY 500

static uv_timer_t tick;
static char ns[64];

static uint64_t now(void)
{
    uv_update_time(&it_loop);
    return uv_now(&it_loop);
}

static void on_tick(uv_timer_t *t)
{
    (void)t; /* wakes the loop so RUN_UNTIL sees the clock */
}

#define RUN_UNTIL(cond, ms)                                                                        \
    do {                                                                                           \
        uint64_t end_ = now() + (ms);                                                              \
        while (!(cond) && now() < end_)                                                            \
            uv_run(&it_loop, UV_RUN_ONCE);                                                         \
    } while (0)

/* ---- electors and their callbacks ------------------------------------------ */

struct elector {
    char id[16];
    struct lease *l;
    int leading; /* as the callbacks said */
    int ups, downs;
    uint64_t up_ms, down_ms;
    int released, closed;
};

#define MAX_ELECTORS 16
static struct elector *electors[MAX_ELECTORS];
static int n_electors;
static int overlaps;

static void on_leading(void *ud, int leading)
{
    struct elector *e = ud;
    CHECK(leading != e->leading); /* only changes are reported */
    e->leading = leading;
    if (leading) {
        e->ups++;
        e->up_ms = now();
        for (int i = 0; i < n_electors; i++)
            if (electors[i] != e && electors[i]->leading) {
                fprintf(stderr, "OVERLAP: %s leads while %s does\n", e->id, electors[i]->id);
                overlaps++;
            }
    } else {
        e->downs++;
        e->down_ms = now();
    }
}

static void on_released(void *ud)
{
    ((struct elector *)ud)->released++;
}

static void on_flag(void *ud)
{
    *(int *)ud = 1;
}

static void on_closed(void *ud)
{
    ((struct elector *)ud)->closed++;
}

static struct elector *start(const char *lease, const char *id, struct kube_client *client)
{
    struct elector *e = calloc(1, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", id);
    struct lease_options o = {lease, ns, id, DURATION, DEADLINE, RETRY};
    CHECK_INT(lease_new(&it_loop, client, &o, on_leading, e, &e->l), 0);
    CHECK_INT(lease_start(e->l), 0);
    electors[n_electors++] = e;
    return e;
}

static void drop(struct elector *e)
{
    if (!e->closed) {
        lease_close(e->l, on_closed, e);
        RUN_UNTIL(e->closed, 1000);
        CHECK_INT(e->closed, 1);
    }
    lease_free(e->l);
    for (int i = 0; i < n_electors; i++)
        if (electors[i] == e)
            electors[i] = electors[--n_electors];
    free(e);
}

/* Gives up the Lease and waits for done; returns how long it took. */
static uint64_t release(struct elector *e)
{
    uint64_t t0 = now();
    CHECK_INT(lease_release(e->l, on_released, e), 0);
    CHECK_INT(lease_leading(e->l), 0);
    RUN_UNTIL(e->released, 5000);
    CHECK_INT(e->released, 1);
    CHECK_INT(e->leading, 0);
    return now() - t0;
}

/* A crash: the process is gone, its callbacks with it. */
static void crash(struct elector *e)
{
    lease_close(e->l, on_closed, e);
    e->leading = 0;
}

static int count_leading(void)
{
    int n = 0;
    for (int i = 0; i < n_electors; i++)
        n += electors[i]->leading;
    return n;
}

/* ---- synchronous API calls -------------------------------------------------- */

static long call_wait(struct it_call *w, int rc)
{
    CHECK_INT(rc, 0);
    if (rc == 0)
        RUN_UNTIL(w->done, 30000);
    return w->r.http_status;
}

/* The Lease's spec as the server has it now; the caller puts *obj. */
static int get_lease(const char *name, struct json_object **obj, struct lease_record *r)
{
    struct it_call w = {0};
    call_wait(&w, kube_get(it_kc, &KUBE_LEASES, ns, name, it_on_result, &w));
    *obj = w.body;
    if (w.r.http_status != 200 || lease_record_parse(w.body, r, NULL) < 0) {
        fprintf(stderr, "GET lease %s: http %ld\n", name, w.r.http_status);
        return -1;
    }
    return 0;
}

static int is_microtime(const char *s)
{
    return s && strlen(s) == 27 && s[4] == '-' && s[10] == 'T' && s[19] == '.' && s[26] == 'Z';
}

static void check_lease(const char *name, const char *holder, long transitions)
{
    struct json_object *o = NULL;
    struct lease_record r;
    if (get_lease(name, &o, &r) == 0) {
        CHECK_STR(r.holder, holder);
        CHECK_INT(r.transitions, transitions);
        if (holder[0]) {
            CHECK_INT(r.duration_s, DURATION / 1000);
            CHECK(is_microtime(r.renew_time));
            CHECK(is_microtime(r.acquire_time));
        } else {
            CHECK_INT(r.duration_s, 1); /* released */
        }
    } else {
        CHECK(0);
    }
    json_object_put(o);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_race_and_release(void)
{
    struct elector *a = start("t1", "a", it_kc), *b = start("t1", "b", it_kc);
    RUN_UNTIL(count_leading() == 1, 5000);
    CHECK_INT(count_leading(), 1);
    struct elector *lead = a->leading ? a : b, *other = a->leading ? b : a;
    /* Many renewals later: the same leader, nobody else. */
    RUN_UNTIL(0, 3 * DURATION);
    CHECK_INT(lead->leading, 1);
    CHECK_INT(lead->ups, 1);
    CHECK_INT(lead->downs, 0);
    CHECK_INT(other->ups, 0);
    CHECK_INT(lease_leading(lead->l), 1);
    CHECK_INT(lease_leading(other->l), 0);
    check_lease("t1", lead->id, 0);

    /* Renewals move renewTime and resourceVersion. */
    struct json_object *o1 = NULL, *o2 = NULL;
    struct lease_record r1, r2;
    int got = get_lease("t1", &o1, &r1) == 0;
    RUN_UNTIL(0, 2 * RETRY);
    got = get_lease("t1", &o2, &r2) == 0 && got;
    if (got) {
        CHECK(strcmp(r1.renew_time, r2.renew_time) < 0);
        CHECK_STR(r1.acquire_time, r2.acquire_time);
    } else {
        CHECK(0); /* get_lease said why */
    }
    json_object_put(o1);
    json_object_put(o2);

    /* Release: the standby takes over at its next try, not after 3 s. */
    uint64_t t0 = now();
    release(lead);
    CHECK_INT(lead->downs, 1);
    RUN_UNTIL(other->leading, 5000);
    CHECK_INT(other->leading, 1);
    uint64_t took = other->up_ms - t0;
    fprintf(stderr, "release handover: %llu ms\n", (unsigned long long)took);
    CHECK(took <= RETRY * 12 / 10 + 700);
    CHECK(lead->down_ms <= other->up_ms);
    check_lease("t1", other->id, 1);

    /* Released electors stay quiet. */
    RUN_UNTIL(0, 2 * RETRY);
    CHECK_INT(lead->ups, 1);
    CHECK_INT(lease_release(lead->l, on_released, lead), -EBUSY);
    release(other);
    check_lease("t1", "", 1);
    drop(a);
    drop(b);
}

static void test_crash(void)
{
    struct elector *a = start("t2", "a", it_kc);
    RUN_UNTIL(a->leading, 5000);
    CHECK_INT(a->leading, 1);
    struct elector *b = start("t2", "b", it_kc);
    RUN_UNTIL(0, 2 * RETRY);
    CHECK_INT(b->leading, 0);

    uint64_t t0 = now();
    crash(a);
    RUN_UNTIL(b->leading, 3 * DURATION);
    CHECK_INT(b->leading, 1);
    uint64_t took = b->up_ms - t0;
    fprintf(stderr, "crash handover: %llu ms\n", (unsigned long long)took);
    /* b last saw a change at most a retry (+jitter) before the crash and at
     * most a retry after; it waits the lease duration from then. */
    CHECK(took >= DURATION - RETRY * 12 / 10 - 100);
    CHECK(took <= DURATION + 2 * RETRY * 12 / 10 + 1000);
    check_lease("t2", "b", 1);
    release(b);
    drop(a);
    drop(b);
}

static void test_stale_stranger(void)
{
    /* A Lease from a holder long gone, renewed (by its wall clock) in 2000.
     * We cannot tell a dead holder from a skewed clock: wait the duration. */
    struct it_call w = {0};
    const char *old = "2000-01-01T00:00:00.000000Z";
    struct lease_record ghost = {"ghost", DURATION / 1000, old, old, 7};
    struct json_object *obj = lease_object_new("t3", ns, &ghost);
    CHECK_INT(call_wait(&w, kube_create(it_kc, &KUBE_LEASES, ns, obj, it_on_result, &w)), 201);
    json_object_put(obj);
    json_object_put(w.body);

    uint64_t t0 = now();
    struct elector *a = start("t3", "a", it_kc);
    RUN_UNTIL(a->leading, 3 * DURATION);
    CHECK_INT(a->leading, 1);
    uint64_t took = a->up_ms - t0;
    fprintf(stderr, "stale lease taken after %llu ms\n", (unsigned long long)took);
    CHECK(took >= DURATION);
    CHECK(took <= DURATION + RETRY * 12 / 10 + 1000);
    check_lease("t3", "a", 8);
    release(a);
    drop(a);
}

/* ---- through the fault proxy ------------------------------------------------- */

/* p leads through the proxy, s stands by; the fault breaks p's writes. p
 * must step down by its renew deadline, before s takes over. */
static void partition(const struct it_proxy *px, struct elector *p, struct elector *s,
                      const char *fault)
{
    CHECK_INT(p->leading, 1);
    RUN_UNTIL(0, 2 * RETRY);
    CHECK_INT(s->leading, 0);
    int downs = p->downs;
    CHECK_INT(it_proxy_faults(px, fault), 0);
    uint64_t t0 = now();
    RUN_UNTIL(s->leading, 4 * DURATION);
    CHECK_INT(s->leading, 1);
    CHECK_INT(p->leading, 0);
    CHECK_INT(p->downs, downs + 1);
    uint64_t lost = p->down_ms - t0, took = s->up_ms - t0;
    fprintf(stderr, "%s: leader stepped down after %llu ms, standby led after %llu ms\n", fault,
            (unsigned long long)lost, (unsigned long long)took);
    CHECK(lost <= DEADLINE + 200);
    CHECK(p->down_ms < s->up_ms);
    CHECK(took >= DURATION - RETRY * 12 / 10 - 100);
    CHECK_INT(it_proxy_faults(px, "{}"), 0);
    /* Healed, p is a candidate again and sees s hold the Lease. */
    RUN_UNTIL(0, DURATION);
    CHECK_INT(p->leading, 0);
    CHECK_INT(s->leading, 1);
}

static void test_partition(void)
{
    if (!it_env.dir[0] || !it_env.src[0]) {
        fprintf(stderr, "test_partition: skipped (RUNBOOK_CLUSTER_DIR/RUNBOOK_SOURCE_DIR unset)\n");
        return;
    }
    struct it_proxy px = {0};
    if (it_proxy_start(&px, 0) < 0) {
        fprintf(stderr, "cannot start the fault proxy\n");
        CHECK(0);
        it_proxy_stop(&px);
        return;
    }
    struct kcfg k = *it_cfg;
    k.server = px.url;
    /* Writes time out after 4 s: longer than the deadline, as a slow API
     * server would be. */
    struct kube_options ko = {.timeout_ms = 4000};
    struct kube_client *kp = NULL;
    CHECK_INT(kube_client_new(&it_loop, &k, &ko, &kp), 0);

    struct elector *p = start("t4", "p", kp);
    RUN_UNTIL(p->leading, 5000);
    struct elector *s = start("t4", "s", it_kc);
    /* Renewals that hang: the deadline fires with the PUT in flight. */
    partition(&px, p, s, "{\"target\":\"write\",\"delay_ms\":8000}");

    /* s lets go: p, still campaigning through the proxy, takes over. */
    release(s);
    RUN_UNTIL(p->leading, 5000);
    CHECK_INT(p->leading, 1);
    CHECK_INT(p->ups, 2);
    struct elector *s2 = start("t4", "s2", it_kc);
    /* Renewals refused at once (503, not retried for writes). */
    partition(&px, p, s2, "{\"target\":\"write\",\"status\":{\"code\":503}}");
    check_lease("t4", "s2", 3);
    release(s2);
    RUN_UNTIL(p->leading, 5000);
    release(p);
    drop(p);
    drop(s);
    drop(s2);
    int closed = 0;
    kube_client_close(kp, on_flag, &closed);
    RUN_UNTIL(closed, 5000);
    CHECK_INT(closed, 1);
    it_proxy_stop(&px);
}

int main(void)
{
    if (it_setup(LOGL_WARN, 0, NULL) < 0)
        return 1;
    uv_timer_init(&it_loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    if (it_namespace("rb-it-lease", ns, sizeof ns) < 0)
        return 1;

    RUN(test_race_and_release);
    RUN(test_crash);
    RUN(test_stale_stranger);
    RUN(test_partition);
    CHECK_INT(overlaps, 0);

    CHECK_INT(it_namespace_delete(ns), 0);
    uv_close((uv_handle_t *)&tick, NULL);
    CHECK_INT(it_teardown(), 0);
    return check_finish();
}
