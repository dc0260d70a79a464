#include "check.h"
#include "opts/opts.h"

#include <stdlib.h>

/* -Wwrite-strings makes literals const; getopt wants char *. The copies
 * live in a pool that stays valid until the next parse (opts point into it). */
static int parse(struct opts *o, char *err, int argc, const char *const *args)
{
    static char pool[4096];
    static char *argv[32];
    size_t used = 0;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(args[i]) + 1;
        memcpy(pool + used, args[i], n);
        argv[i] = pool + used;
        used += n;
    }
    argv[argc] = NULL;
    return opts_parse(argc, argv, o, err, 256);
}

static void test_defaults_and_flags(void)
{
    struct opts o;
    char err[256];
    const char *const a[] = {"op",
                             "--kubeconfig",
                             "/k",
                             "--context=dev",
                             "--namespace",
                             "team-a",
                             "--log-level",
                             "debug",
                             "--log-format=json",
                             "--qps",
                             "12.5",
                             "--burst",
                             "7",
                             NULL};
    CHECK_INT(parse(&o, err, 13, a), 0);
    CHECK_STR(o.kubeconfig, "/k");
    CHECK_STR(o.context, "dev");
    CHECK_INT(o.n_namespaces, 1);
    CHECK_STR(o.namespaces[0], "team-a");
    CHECK_INT(o.log_level, LOGL_DEBUG);
    CHECK_INT(o.log_format, LOG_FORMAT_JSON);
    CHECK(o.qps == 12.5);
    CHECK_INT(o.burst, 7);
    const char *const b[] = {"op", NULL};
    CHECK_INT(parse(&o, err, 1, b), 0);
    CHECK(o.kubeconfig == NULL);
    CHECK_INT(o.n_namespaces, 0);
    CHECK_INT(o.workers, 16);
}

static void test_env(void)
{
    struct opts o;
    char err[256];
    setenv("RUNBOOK_LOG_LEVEL", "warn", 1);
    setenv("RUNBOOK_QPS", "5", 1);
    const char *const a[] = {"op", "--qps", "9", NULL};
    CHECK_INT(parse(&o, err, 3, a), 0);
    CHECK_INT(o.log_level, LOGL_WARN);
    CHECK(o.qps == 9); /* the flag wins */
    setenv("RUNBOOK_LOG_LEVEL", "chatty", 1);
    CHECK(parse(&o, err, 1, a) < 0);
    CHECK_CONTAINS(err, "RUNBOOK_LOG_LEVEL: unknown level \"chatty\"");
    unsetenv("RUNBOOK_LOG_LEVEL");
    unsetenv("RUNBOOK_QPS");
}

static void test_errors(void)
{
    struct opts o;
    char err[256];
    const char *const a[] = {"op", "--frobnicate", NULL};
    CHECK(parse(&o, err, 2, a) < 0);
    CHECK_STR(err, "unknown flag \"--frobnicate\" (see --help)");
    const char *const b[] = {"op", "--qps", "fast", NULL};
    CHECK(parse(&o, err, 3, b) < 0);
    CHECK_STR(err, "--qps: not a positive number: \"fast\"");
    const char *const c[] = {"op", "--burst", "0", NULL};
    CHECK(parse(&o, err, 3, c) < 0);
    CHECK_CONTAINS(err, "--burst: not a whole number");
    const char *const d[] = {"op", "--kubeconfig", NULL};
    CHECK(parse(&o, err, 2, d) < 0);
    CHECK_STR(err, "flag \"--kubeconfig\" needs a value");
    const char *const e[] = {"op", "stray", NULL};
    CHECK(parse(&o, err, 2, e) < 0);
    CHECK_STR(err, "unexpected argument \"stray\" (see --help)");
    const char *const f[] = {"op", "--log-format", "xml", NULL};
    CHECK(parse(&o, err, 3, f) < 0);
    CHECK_STR(err, "--log-format: unknown format \"xml\" (logfmt, json)");
}

static void test_leader_and_addrs(void)
{
    struct opts o;
    char err[256];
    const char *const a[] = {"op",
                             "--leader-elect",
                             "--leader-elect-lease-duration",
                             "6s",
                             "--leader-elect-renew-deadline=4s",
                             "--leader-elect-retry-period",
                             "500ms",
                             "--health-addr",
                             "127.0.0.1:0",
                             "--metrics-addr",
                             "0",
                             NULL};
    CHECK_INT(parse(&o, err, 11, a), 0);
    CHECK_INT(o.leader_elect, 1);
    CHECK_INT(o.lease_duration_ms, 6000);
    CHECK_INT(o.renew_deadline_ms, 4000);
    CHECK_INT(o.retry_period_ms, 500);
    CHECK_STR(o.health_addr, "127.0.0.1:0");
    CHECK_STR(o.metrics_addr, "0");
    CHECK_STR(o.lease_name, "runbook-operator");
    const char *const b[] = {"op", "--leader-elect=false", NULL};
    CHECK_INT(parse(&o, err, 2, b), 0);
    CHECK_INT(o.leader_elect, 0);
    CHECK_STR(o.health_addr, ":8081");
    const char *const c[] = {"op", "--leader-elect", "--leader-elect-renew-deadline", "20s", NULL};
    CHECK(parse(&o, err, 4, c) < 0);
    CHECK_CONTAINS(err, "must exceed --leader-elect-renew-deadline");
    const char *const d[] = {"op", "--leader-elect-retry-period", "soon", NULL};
    CHECK(parse(&o, err, 3, d) < 0);
    CHECK_STR(err, "--leader-elect-retry-period: not a duration like 500ms, 15s or 1m: \"soon\"");
    const char *const e[] = {"op", "--metrics-addr", "localhost", NULL};
    CHECK(parse(&o, err, 3, e) < 0);
    CHECK_STR(err, "--metrics-addr: not [HOST]:PORT or 0: \"localhost\"");
    const char *const f[] = {"op", "--leader-elect=maybe", NULL};
    CHECK(parse(&o, err, 2, f) < 0);
    CHECK_STR(err, "--leader-elect: not a boolean: \"maybe\"");
}

static void test_webhook(void)
{
    struct opts o;
    char err[256];
    const char *const a[] = {"op", NULL};
    CHECK_INT(parse(&o, err, 1, a), 0);
    CHECK_STR(o.webhook_addr, ":8082");
    CHECK_INT(o.webhook_max_body, 1024 * 1024);
    CHECK(o.webhook_rate == 10);
    CHECK(o.webhook_qps == 1000);
    CHECK(o.webhook_tls_cert == NULL && o.webhook_tls_key == NULL);
    const char *const b[] = {"op",         "--webhook-addr",    "127.0.0.1:0", "--webhook-max-body",
                             "512Ki",      "--webhook-rate",    "2.5",         "--webhook-tls-cert",
                             "/tls/c.pem", "--webhook-tls-key", "/tls/k.pem",  NULL};
    CHECK_INT(parse(&o, err, 11, b), 0);
    CHECK_STR(o.webhook_addr, "127.0.0.1:0");
    CHECK_INT(o.webhook_max_body, 512 * 1024);
    CHECK(o.webhook_rate == 2.5);
    CHECK_STR(o.webhook_tls_key, "/tls/k.pem");
    const char *const c[] = {"op", "--webhook-tls-cert", "/tls/c.pem", NULL};
    CHECK(parse(&o, err, 3, c) < 0);
    CHECK_STR(err, "--webhook-tls-cert and --webhook-tls-key go together");
    static const char *const bad_sizes[] = {"0", "-1", "1Gi", "65Mi", "1.5Mi", "Mi", "12k"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        const char *const d[] = {"op", "--webhook-max-body", bad_sizes[i], NULL};
        CHECK(parse(&o, err, 3, d) < 0);
        CHECK_CONTAINS(err, "not a size from 1 to 64Mi");
    }
    const char *const e[] = {"op", "--webhook-rate", "0", NULL};
    CHECK(parse(&o, err, 3, e) < 0);
    const char *const e2[] = {"op", "--webhook-qps", "500", NULL};
    CHECK_INT(parse(&o, err, 3, e2), 0);
    CHECK(o.webhook_qps == 500);
    const char *const e3[] = {"op", "--webhook-qps", "-1", NULL};
    CHECK(parse(&o, err, 3, e3) < 0);
    const char *const f[] = {"op", "--webhook-addr", "8082", NULL};
    CHECK(parse(&o, err, 3, f) < 0);
    const char *const g[] = {"op", "--webhook-max-body", "64Mi", "--webhook-addr", "0", NULL};
    CHECK_INT(parse(&o, err, 5, g), 0);
    CHECK_INT(o.webhook_max_body, 64 * 1024 * 1024);
    CHECK_STR(o.webhook_addr, "0");
}

/* --events: news by default; all and news as flag or environment; any
 * other value refused, naming the two. */
static void test_events(void)
{
    struct opts o;
    char err[256];
    const char *const a[] = {"op", NULL};
    CHECK_INT(parse(&o, err, 1, a), 0);
    CHECK_INT(o.events_all, 0);
    const char *const b[] = {"op", "--events=all", NULL};
    CHECK_INT(parse(&o, err, 2, b), 0);
    CHECK_INT(o.events_all, 1);
    const char *const c[] = {"op", "--events", "news", NULL};
    CHECK_INT(parse(&o, err, 3, c), 0);
    CHECK_INT(o.events_all, 0);
    setenv("RUNBOOK_EVENTS", "all", 1);
    CHECK_INT(parse(&o, err, 1, a), 0);
    CHECK_INT(o.events_all, 1);
    CHECK_INT(parse(&o, err, 3, c), 0); /* the flag wins */
    CHECK_INT(o.events_all, 0);
    unsetenv("RUNBOOK_EVENTS");
    static const char *const bad[] = {"none", "ALL", "", "news,all"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *const d[] = {"op", "--events", bad[i], NULL};
        CHECK(parse(&o, err, 3, d) < 0);
    }
    const char *const e[] = {"op", "--events=none", NULL};
    CHECK(parse(&o, err, 2, e) < 0);
    CHECK_STR(err, "--events: unknown value \"none\" (news, all)");
    const char *const f[] = {"op", "--events", NULL};
    CHECK(parse(&o, err, 2, f) < 0);
    CHECK_STR(err, "flag \"--events\" needs a value");
    CHECK_CONTAINS(opts_usage(), "--events WHICH");
}

int main(void)
{
    RUN(test_defaults_and_flags);
    RUN(test_env);
    RUN(test_errors);
    RUN(test_leader_and_addrs);
    RUN(test_webhook);
    RUN(test_events);
    return check_finish();
}
