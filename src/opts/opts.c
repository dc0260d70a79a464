#include "opts/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    O_KUBECONFIG = 256,
    O_CONTEXT,
    O_NAMESPACE,
    O_LOG_LEVEL,
    O_LOG_FORMAT,
    O_QPS,
    O_BURST,
    O_WORKERS,
    O_LEADER_ELECT,
    O_LEASE_NAME,
    O_LEASE_NS,
    O_LEASE_DURATION,
    O_RENEW_DEADLINE,
    O_RETRY_PERIOD,
    O_HEALTH_ADDR,
    O_METRICS_ADDR,
    O_WEBHOOK_ADDR,
    O_WEBHOOK_TLS_CERT,
    O_WEBHOOK_TLS_KEY,
    O_WEBHOOK_MAX_BODY,
    O_WEBHOOK_RATE,
    O_WEBHOOK_QPS,
    O_UI_ADDR,
    O_UI_TLS_CERT,
    O_UI_TLS_KEY,
    O_UI_ANON,
    O_EVENTS,
    O_HELP,
    O_VERSION
};

static const struct option longopts[] = {
    {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
    {"context", required_argument, NULL, O_CONTEXT},
    {"namespace", required_argument, NULL, O_NAMESPACE},
    {"log-level", required_argument, NULL, O_LOG_LEVEL},
    {"log-format", required_argument, NULL, O_LOG_FORMAT},
    {"qps", required_argument, NULL, O_QPS},
    {"burst", required_argument, NULL, O_BURST},
    {"workers", required_argument, NULL, O_WORKERS},
    {"leader-elect", optional_argument, NULL, O_LEADER_ELECT},
    {"leader-elect-lease-name", required_argument, NULL, O_LEASE_NAME},
    {"leader-elect-namespace", required_argument, NULL, O_LEASE_NS},
    {"leader-elect-lease-duration", required_argument, NULL, O_LEASE_DURATION},
    {"leader-elect-renew-deadline", required_argument, NULL, O_RENEW_DEADLINE},
    {"leader-elect-retry-period", required_argument, NULL, O_RETRY_PERIOD},
    {"health-addr", required_argument, NULL, O_HEALTH_ADDR},
    {"metrics-addr", required_argument, NULL, O_METRICS_ADDR},
    {"webhook-addr", required_argument, NULL, O_WEBHOOK_ADDR},
    {"webhook-tls-cert", required_argument, NULL, O_WEBHOOK_TLS_CERT},
    {"webhook-tls-key", required_argument, NULL, O_WEBHOOK_TLS_KEY},
    {"webhook-max-body", required_argument, NULL, O_WEBHOOK_MAX_BODY},
    {"webhook-rate", required_argument, NULL, O_WEBHOOK_RATE},
    {"webhook-qps", required_argument, NULL, O_WEBHOOK_QPS},
    {"ui-addr", required_argument, NULL, O_UI_ADDR},
    {"ui-tls-cert", required_argument, NULL, O_UI_TLS_CERT},
    {"ui-tls-key", required_argument, NULL, O_UI_TLS_KEY},
    {"ui-anonymous-read", optional_argument, NULL, O_UI_ANON},
    {"events", required_argument, NULL, O_EVENTS},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VERSION},
    {NULL, 0, NULL, 0},
};

const char *opts_usage(void)
{
    return "Usage: runbook-operator [flags]\n"
           "Runs the Runbook controller: Workflows, WorkflowRuns and Triggers "
           "(runbook.dev/v1alpha1).\n"
           "\n"
           "  --kubeconfig PATH     kubeconfig to use (default: $KUBECONFIG, the in-cluster\n"
           "                        service account, then ~/.kube/config)\n"
           "  --context NAME        kubeconfig context (default: current-context)\n"
           "  --namespace NS        watch only NS (default: all namespaces)\n"
           "  --log-level LEVEL     debug, info, warn, error (default: info)\n"
           "  --log-format FORMAT   logfmt or json (default: logfmt)\n"
           "  --qps N               API requests per second, client side (default: 50)\n"
           "  --burst N             API request burst (default: 100)\n"
           "  --workers N           reconciles in flight at once (default: 16)\n"
           "  --leader-elect[=BOOL] elect a leader on a Lease; standbys keep warm caches\n"
           "                        and write nothing (default: false)\n"
           "  --leader-elect-lease-name NAME        (default: runbook-operator)\n"
           "  --leader-elect-namespace NS           (default: the configuration's namespace)\n"
           "  --leader-elect-lease-duration DUR     (default: 15s)\n"
           "  --leader-elect-renew-deadline DUR     (default: 10s)\n"
           "  --leader-elect-retry-period DUR       (default: 2s)\n"
           "  --health-addr ADDR    /healthz and /readyz on [HOST]:PORT (default: :8081;\n"
           "                        \"0\" disables)\n"
           "  --metrics-addr ADDR   /metrics on [HOST]:PORT (default: :8080; \"0\" disables)\n"
           "  --webhook-addr ADDR   Triggers' POST /hooks/NS/NAME on [HOST]:PORT (default:\n"
           "                        :8082; \"0\" disables)\n"
           "  --webhook-tls-cert FILE, --webhook-tls-key FILE\n"
           "                        serve the webhooks over TLS (PEM; reloaded on change)\n"
           "  --webhook-max-body SIZE  largest delivery body, e.g. 1Mi, 512Ki (default: 1Mi)\n"
           "  --webhook-rate N      deliveries per second per Trigger, burst 2N (default: 10)\n"
           "  --webhook-qps N       the Triggers' API requests per second, all Triggers, burst\n"
           "                        2N; apart from --qps (default: 1000)\n"
           "  --ui-addr ADDR        the web UI on [HOST]:PORT (default: :8083; \"\" or \"0\"\n"
           "                        disables)\n"
           "  --ui-tls-cert FILE, --ui-tls-key FILE\n"
           "                        serve the UI over TLS (PEM; reloaded on change)\n"
           "  --ui-anonymous-read[=BOOL]  anyone who reaches the UI reads every run,\n"
           "                        Workflow and Trigger (never writes; default: false)\n"
           "  --events WHICH        Events about runs: news (phase changes, failures,\n"
           "                        cancels, warnings) or all, which adds each step's\n"
           "                        start and success (default: news)\n"
           "  DUR is a number with a unit: 500ms, 15s, 1m.\n"
           "  --help, --version\n"
           "\n"
           "Every flag can also be set as RUNBOOK_<FLAG> in the environment, e.g.\n"
           "RUNBOOK_LOG_LEVEL=debug; flags win.\n";
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* "500ms", "15s", "1m": milliseconds, or -1. */
static long parse_duration(const char *v)
{
    char *end;
    double n = strtod(v, &end);
    if (end == v || !(n > 0))
        return -1;
    double mult = strcmp(end, "ms") == 0  ? 1
                  : strcmp(end, "s") == 0 ? 1000
                  : strcmp(end, "m") == 0 ? 60000
                                          : -1;
    if (mult < 0 || n * mult > 86400000.0)
        return -1;
    return (long)(n * mult);
}

static int parse_bool(const char *v, int *out)
{
    if (!v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* [HOST]:PORT, or "0" (off). The port must be a number 0-65535. */
static int valid_addr(const char *v)
{
    if (strcmp(v, "0") == 0)
        return 1;
    const char *colon = strrchr(v, ':');
    if (!colon || !colon[1])
        return 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return !*end && port >= 0 && port <= 65535;
}

static int set(struct opts *o, int id, const char *name, const char *v, char *err, size_t len)
{
    char *end;
    switch (id) {
    case O_LEADER_ELECT:
        if (parse_bool(v, &o->leader_elect) < 0)
            return fail(err, len, "%s: not a boolean: \"%s\"", name, v);
        break;
    case O_LEASE_NAME:
    case O_LEASE_NS:
        if (!*v)
            return fail(err, len, "%s: empty", name);
        *(id == O_LEASE_NAME ? &o->lease_name : &o->lease_namespace) = v;
        break;
    case O_LEASE_DURATION:
    case O_RENEW_DEADLINE:
    case O_RETRY_PERIOD: {
        long ms = parse_duration(v);
        if (ms < 0)
            return fail(err, len, "%s: not a duration like 500ms, 15s or 1m: \"%s\"", name, v);
        *(id == O_LEASE_DURATION   ? &o->lease_duration_ms
          : id == O_RENEW_DEADLINE ? &o->renew_deadline_ms
                                   : &o->retry_period_ms) = ms;
        break;
    }
    case O_HEALTH_ADDR:
    case O_METRICS_ADDR:
        if (!valid_addr(v))
            return fail(err, len, "%s: not [HOST]:PORT or 0: \"%s\"", name, v);
        *(id == O_HEALTH_ADDR ? &o->health_addr : &o->metrics_addr) = v;
        break;
    case O_WEBHOOK_ADDR:
        if (!valid_addr(v))
            return fail(err, len, "%s: not [HOST]:PORT or 0: \"%s\"", name, v);
        o->webhook_addr = v;
        break;
    case O_UI_ADDR:
        if (*v && !valid_addr(v))
            return fail(err, len, "%s: not [HOST]:PORT, \"\" or 0: \"%s\"", name, v);
        o->ui_addr = v;
        break;
    case O_UI_ANON:
        if (parse_bool(v, &o->ui_anonymous_read) < 0)
            return fail(err, len, "%s: not a boolean: \"%s\"", name, v);
        break;
    case O_UI_TLS_CERT:
    case O_UI_TLS_KEY:
        if (!*v)
            return fail(err, len, "%s: empty", name);
        *(id == O_UI_TLS_CERT ? &o->ui_tls_cert : &o->ui_tls_key) = v;
        break;
    case O_WEBHOOK_TLS_CERT:
    case O_WEBHOOK_TLS_KEY:
        if (!*v)
            return fail(err, len, "%s: empty", name);
        *(id == O_WEBHOOK_TLS_CERT ? &o->webhook_tls_cert : &o->webhook_tls_key) = v;
        break;
    case O_WEBHOOK_MAX_BODY: {
        unsigned long long n = strtoull(v, &end, 10);
        unsigned long long mul = strcmp(end, "Ki") == 0   ? 1024ULL
                                 : strcmp(end, "Mi") == 0 ? 1024ULL * 1024
                                 : !*end                  ? 1
                                                          : 0;
        if (!*v || *v == '-' || !mul || n == 0 || n > 64ULL * 1024 * 1024 / mul)
            return fail(err, len, "%s: not a size from 1 to 64Mi (e.g. 1Mi, 512Ki): \"%s\"", name,
                        v);
        o->webhook_max_body = (size_t)(n * mul);
        break;
    }
    case O_WEBHOOK_RATE:
    case O_WEBHOOK_QPS: {
        double d = strtod(v, &end);
        if (!*v || *end || !(d > 0) || d > 1e6)
            return fail(err, len, "%s: not a positive number: \"%s\"", name, v);
        *(id == O_WEBHOOK_RATE ? &o->webhook_rate : &o->webhook_qps) = d;
        break;
    }
    case O_KUBECONFIG:
        o->kubeconfig = v;
        break;
    case O_CONTEXT:
        o->context = v;
        break;
    case O_NAMESPACE:
        if (o->n_namespaces > 0)
            return fail(err, len, "--namespace: only one namespace (or all) is supported yet");
        if (!*v)
            return fail(err, len, "--namespace: empty");
        o->namespaces[o->n_namespaces++] = v;
        break;
    case O_LOG_LEVEL:
        if (log_level_parse(v, &o->log_level) < 0)
            return fail(err, len, "%s: unknown level \"%s\" (debug, info, warn, error)", name, v);
        break;
    case O_EVENTS:
        if (strcmp(v, "news") != 0 && strcmp(v, "all") != 0)
            return fail(err, len, "%s: unknown value \"%s\" (news, all)", name, v);
        o->events_all = strcmp(v, "all") == 0;
        break;
    case O_LOG_FORMAT:
        if (log_format_parse(v, &o->log_format) < 0)
            return fail(err, len, "%s: unknown format \"%s\" (logfmt, json)", name, v);
        break;
    case O_QPS:
        o->qps = strtod(v, &end);
        if (!*v || *end || !(o->qps > 0) || o->qps > 1e6)
            return fail(err, len, "%s: not a positive number: \"%s\"", name, v);
        break;
    case O_BURST:
    case O_WORKERS: {
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 1 || n > 100000)
            return fail(err, len, "%s: not a whole number from 1 to 100000: \"%s\"", name, v);
        if (id == O_BURST)
            o->burst = (int)n;
        else
            o->workers = (int)n;
        break;
    }
    default:
        break;
    }
    return 0;
}

int opts_parse(int argc, char **argv, struct opts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->log_level = LOGL_INFO;
    o->log_format = LOG_FORMAT_LOGFMT;
    o->qps = 50;
    o->burst = 100;
    o->workers = 16;
    o->lease_name = "runbook-operator";
    o->lease_duration_ms = 15000;
    o->renew_deadline_ms = 10000;
    o->retry_period_ms = 2000;
    o->health_addr = ":8081";
    o->metrics_addr = ":8080";
    o->webhook_addr = ":8082";
    o->webhook_max_body = (size_t)1024 * 1024;
    o->webhook_rate = 10;
    o->webhook_qps = 1000;
    o->ui_addr = ":8083";
    err[0] = '\0';

    /* The environment first, so flags override it. */
    for (const struct option *lo = longopts; lo->name; lo++) {
        if (lo->has_arg == no_argument)
            continue;
        char env[64] = "RUNBOOK_";
        size_t n = strlen(env);
        for (const char *p = lo->name; *p && n < sizeof env - 1; p++)
            env[n++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        env[n] = '\0';
        const char *v = getenv(env);
        if (v && set(o, lo->val, env, v, err, errlen) < 0)
            return -EINVAL;
    }
    size_t env_ns = o->n_namespaces;

    optind = 0; /* full reset of getopt's state: parse may be called again */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c == '?')
            return fail(err, errlen, "unknown flag \"%s\" (see --help)", argv[optind - 1]);
        if (c == ':')
            return fail(err, errlen, "flag \"%s\" needs a value", argv[optind - 1]);
        if (c == O_HELP) {
            o->help = 1;
            continue;
        }
        if (c == O_VERSION) {
            o->version = 1;
            continue;
        }
        if (c == O_NAMESPACE && env_ns) { /* a flag replaces the environment's list */
            o->n_namespaces = 0;
            env_ns = 0;
        }
        char name[40];
        snprintf(name, sizeof name, "--%s", longopts[c - O_KUBECONFIG].name);
        if (set(o, c, name, optarg, err, errlen) < 0)
            return -EINVAL;
    }
    if (optind < argc)
        return fail(err, errlen, "unexpected argument \"%s\" (see --help)", argv[optind]);
    if (!o->webhook_tls_cert != !o->webhook_tls_key)
        return fail(err, errlen, "--webhook-tls-cert and --webhook-tls-key go together");
    if (!o->ui_tls_cert != !o->ui_tls_key)
        return fail(err, errlen, "--ui-tls-cert and --ui-tls-key go together");
    /* client-go's rule: the leader must give up before others may take over. */
    if (o->leader_elect && !(o->lease_duration_ms > o->renew_deadline_ms &&
                             o->renew_deadline_ms * 10 > o->retry_period_ms * 12))
        return fail(err, errlen,
                    "--leader-elect-lease-duration must exceed --leader-elect-renew-deadline, "
                    "which must exceed 1.2 x --leader-elect-retry-period");
    return 0;
}
