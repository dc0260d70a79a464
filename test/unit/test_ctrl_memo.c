/* The executor's memo of accepted and refused Job creates: what the plan
 * is told, and when each record may go. */
#include "check.h"
#include "ctrl/ctrl-internal.h"
#include "kube/kube.h"

#include <stdlib.h>
#include <string.h>

static struct json_object *J(const char *s)
{
    return kube_json_parse(s, strlen(s));
}

struct got {
    struct plan_created *c;
    size_t nc;
    struct plan_refusal *r;
    size_t nr;
};

static void get(struct ctrl_memo *m, uint64_t now, struct got *g)
{
    CHECK_INT(ctrl_memo_get(m, "ci", "r1", now, &g->c, &g->nc, &g->r, &g->nr), 0);
}

static void put(struct got *g)
{
    free(g->c);
    free(g->r);
    memset(g, 0, sizeof *g);
}

static void test_created(void)
{
    struct ctrl_memo *m = ctrl_memo_new();
    struct got g = {0};
    CHECK_INT(ctrl_memo_created(m, "ci", "r1", "r1-a", "", 0), -EINVAL);
    CHECK_INT(ctrl_memo_runs(m), 0);
    CHECK_INT(ctrl_memo_created(m, "ci", "r1", "r1-a", "uid-a", 1000), 0);
    CHECK_INT(ctrl_memo_created(m, "ci", "r1", "r1-b", "uid-b", 1000), 0);
    get(m, 1000, &g);
    CHECK_INT(g.nc, 2);
    CHECK_STR(g.c[0].name, "r1-a");
    CHECK_STR(g.c[0].uid, "uid-a");
    CHECK_INT(g.c[0].seen, 0);
    put(&g);
    /* the status records a's uid, but the watch has not shown a: kept */
    struct json_object *st = J("{\"steps\":[{\"name\":\"a\",\"jobUID\":\"uid-a\"}]}");
    ctrl_memo_settle(m, "ci", "r1", st);
    get(m, 1000, &g);
    CHECK_INT(g.nc, 2);
    put(&g);
    /* shown now (another run's event changes nothing) */
    ctrl_memo_seen(m, "ci", "r2", "r1-a", "uid-a");
    ctrl_memo_seen(m, "ci", "r1", "r1-a", "uid-other");
    get(m, 1000, &g);
    CHECK_INT(g.c[0].seen, 0);
    put(&g);
    ctrl_memo_seen(m, "ci", "r1", "r1-a", "uid-a");
    ctrl_memo_settle(m, "ci", "r1", st);
    get(m, 1000, &g);
    CHECK_INT(g.nc, 1);
    CHECK_STR(g.c[0].name, "r1-b");
    CHECK_INT(g.c[0].seen, 0);
    put(&g);
    /* never shown in 30 s: counts as seen (gone), and can then go */
    get(m, 1000 + 30001, &g);
    CHECK_INT(g.c[0].seen, 1);
    put(&g);
    json_object_put(st);
    st = J("{\"steps\":[{\"name\":\"b\",\"jobUID\":\"uid-b\"}]}");
    ctrl_memo_settle(m, "ci", "r1", st);
    CHECK_INT(ctrl_memo_runs(m), 0);
    json_object_put(st);
    ctrl_memo_free(m);
}

static void test_refused(void)
{
    struct ctrl_memo *m = ctrl_memo_new();
    struct got g = {0};
    struct plan_refusal f;
    memset(&f, 0, sizeof f);
    snprintf(f.step, sizeof f.step, "a");
    f.code = 503;
    f.first_ms = 5000;
    ctrl_memo_refused(m, "ci", "r1", &f);
    f.first_ms = 9000;
    ctrl_memo_refused(m, "ci", "r1", &f);
    get(m, 0, &g);
    CHECK_INT(g.nr, 1);
    CHECK_INT(g.r[0].count, 2);
    CHECK_INT(g.r[0].first_ms, 5000); /* the clock of this kind of failure */
    put(&g);
    f.permanent = 1;
    f.code = 422;
    ctrl_memo_refused(m, "ci", "r1", &f);
    get(m, 0, &g);
    CHECK_INT(g.r[0].permanent, 1);
    CHECK_INT(g.r[0].first_ms, 9000); /* a new kind starts its own */
    put(&g);
    /* a non-terminal step keeps it, a terminal one drops it */
    struct json_object *st = J("{\"steps\":[{\"name\":\"a\",\"phase\":\"Pending\"}]}");
    ctrl_memo_settle(m, "ci", "r1", st);
    CHECK_INT(ctrl_memo_runs(m), 1);
    json_object_put(st);
    st = J("{\"steps\":[{\"name\":\"a\",\"phase\":\"Failed\"}]}");
    ctrl_memo_settle(m, "ci", "r1", st);
    CHECK_INT(ctrl_memo_runs(m), 0);
    json_object_put(st);
    /* a later accepted create drops it too; forget drops everything */
    ctrl_memo_refused(m, "ci", "r1", &f);
    ctrl_memo_accepted(m, "ci", "r1", "a");
    CHECK_INT(ctrl_memo_runs(m), 0);
    ctrl_memo_refused(m, "ci", "r1", &f);
    CHECK_INT(ctrl_memo_created(m, "ci", "r1", "r1-a", "uid-a", 0), 0);
    ctrl_memo_forget(m, "ci", "r1");
    CHECK_INT(ctrl_memo_runs(m), 0);
    ctrl_memo_free(m);
}

/* Pods that went from the cache terminated: kept until the status says
 * how their step ended, or the run ended; the oldest go when full. */
static void test_ended(void)
{
    struct ctrl_memo *m = ctrl_memo_new();
    struct plan_pod p = {0}, *e = NULL;
    size_t n = 0;
    CHECK_INT(ctrl_memo_ended(m, "ci", "r1", &p), -EINVAL); /* not terminated */
    p.terminated = 1;
    p.exit_code = 137;
    snprintf(p.controller_uid, sizeof p.controller_uid, "uid-a");
    CHECK_INT(ctrl_memo_ended(m, "ci", "r1", &p), 0);
    snprintf(p.controller_uid, sizeof p.controller_uid, "uid-b");
    p.exit_code = 0;
    CHECK_INT(ctrl_memo_ended(m, "ci", "r1", &p), 0);
    CHECK_INT(ctrl_memo_get_ended(m, "ci", "r1", &e, &n), 0);
    CHECK_INT(n, 2);
    CHECK_INT(e ? e[0].exit_code : -1, 137);
    free(e);
    /* a's exit code is in the status: a's goes, b's stays */
    struct json_object *st = J("{\"phase\":\"Failing\",\"steps\":[{\"name\":\"a\","
                               "\"jobUID\":\"uid-a\",\"phase\":\"Cancelled\",\"exitCode\":137},"
                               "{\"name\":\"b\",\"jobUID\":\"uid-b\",\"phase\":\"Cancelled\"}]}");
    ctrl_memo_settle(m, "ci", "r1", st);
    json_object_put(st);
    CHECK_INT(ctrl_memo_get_ended(m, "ci", "r1", &e, &n), 0);
    CHECK_INT(n, 1);
    CHECK_STR(e ? e[0].controller_uid : NULL, "uid-b");
    free(e);
    /* the run ended: all go, and the run's memo with them */
    st = J("{\"phase\":\"Failed\"}");
    ctrl_memo_settle(m, "ci", "r1", st);
    json_object_put(st);
    CHECK_INT(ctrl_memo_runs(m), 0);
    /* bounded: 64 a run, the oldest dropped */
    for (int i = 0; i < 70; i++) {
        snprintf(p.controller_uid, sizeof p.controller_uid, "uid-%d", i);
        CHECK_INT(ctrl_memo_ended(m, "ci", "r1", &p), 0);
    }
    CHECK_INT(ctrl_memo_get_ended(m, "ci", "r1", &e, &n), 0);
    CHECK_INT(n, 64);
    CHECK_STR(e ? e[0].controller_uid : NULL, "uid-6");
    free(e);
    ctrl_memo_free(m);
}

int main(void)
{
    test_created();
    test_refused();
    test_ended();
    return check_finish();
}
