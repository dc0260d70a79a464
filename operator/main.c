/* runbook-operator: the daemon. Everything runs on one libuv loop: the kube
 * client's sockets and timers, the informers, the controller.
 *
 * Exit status: 0 after a graceful shutdown, 1 on a runtime failure, 2 for a
 * bad flag or an unusable configuration (one clear line on stderr). */
#include <errno.h>
#include <signal.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "ctrl/ctrl.h"
#include "http/http.h"
#include "informer/inf.h"
#include "kube/kube.h"
#include "kubeconfig/kubeconfig.h"
#include "lease/lease.h"
#include "log/log.h"
#include "operator/metrics.h"
#include "opts/opts.h"
#include "trigd/trigd.h"
#include "ui/ui.h"

/* The loop's context: everything the daemon owns. */
struct app {
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    uv_timer_t trim;
    struct kube_client *kc;
    struct kube_client *lease_kc; /* the elector's own: renewals never queue */
    struct kube_client *hook_kc;  /* the Triggers': short timeouts, own queue */
    struct ctrl *ctrl;
    struct trigd *trigd;
    struct ui *ui; /* the web UI, or NULL (--ui-addr "") */
    struct lease *lease;
    int lease_started;
    struct http_server *health, *metrics;
    struct metrics_buf mbuf; /* reused across scrapes */
    int signals;
    int exit_code;
};

static void on_closed_client(void *ud)
{
    (void)ud; /* the loop ends once the last handle is closed */
}

/* --- HTTP endpoints -------------------------------------------------------- */

static int on_healthz(void *ud, const struct http_request *q, struct http_response *r)
{
    (void)ud;
    (void)q;
    return http_response_append(r, "ok\n", 3); /* answering proves the loop turns */
}

static int on_readyz(void *ud, const struct http_request *q, struct http_response *r)
{
    (void)q;
    struct app *a = ud;
    const char *why = a->signals                        ? "shutting down"
                      : !ctrl_synced(a->ctrl)           ? "caches not synced"
                      : (a->lease && !a->lease_started) ? "leader election not running"
                                                        : NULL;
    if (!why)
        return http_response_append(r, "ok\n", 3);
    r->status = 503;
    return http_response_printf(r, "%s\n", why);
}

static int on_metrics(void *ud, const struct http_request *q, struct http_response *r)
{
    (void)q;
    struct app *a = ud;
    struct ctrl_stats cs;
    struct kube_stats ks;
    struct metrics_process pr;
    struct inf_stats is[8];
    struct metrics_informer mi[8];
    size_t n = ctrl_informer_count() < 8 ? ctrl_informer_count() : 8;
    ctrl_get_stats(a->ctrl, &cs);
    for (size_t i = 0; i < n; i++) {
        ctrl_informer_stats(a->ctrl, i, &is[i]);
        mi[i] = (struct metrics_informer){ctrl_informer_name(i), &is[i]};
    }
    kube_client_stats(a->kc, &ks);
    metrics_buf_reset(&a->mbuf);
    int rc = metrics_render_operator(&a->mbuf, &cs, mi, n, &ks, ctrl_leading(a->ctrl),
                                     metrics_process_read(&pr) == 0 ? &pr : NULL);
    struct kube_stats hks;
    if (a->hook_kc)
        kube_client_stats(a->hook_kc, &hks);
    if (rc == 0)
        rc = metrics_render_triggers(&a->mbuf, a->trigd, a->hook_kc ? &hks : NULL);
    if (rc == 0)
        rc = metrics_render_ui(&a->mbuf, a->ui);
    if (rc == 0)
        rc = http_response_set_type(r, METRICS_CONTENT_TYPE);
    return rc < 0 ? rc : http_response_append(r, a->mbuf.data, a->mbuf.len);
}

static const struct http_route health_routes[] = {{"/healthz", HTTP_GET, on_healthz},
                                                  {"/readyz", HTTP_GET, on_readyz}};
static const struct http_route metrics_routes[] = {{"/metrics", HTTP_GET, on_metrics}};
static const struct http_route all_routes[] = {{"/healthz", HTTP_GET, on_healthz},
                                               {"/readyz", HTTP_GET, on_readyz},
                                               {"/metrics", HTTP_GET, on_metrics}};

static int enabled(const char *addr)
{
    return addr && *addr && strcmp(addr, "0") != 0;
}

static int listen_on(struct app *a, const char *addr, const struct http_route *routes, size_t n,
                     struct http_server **out)
{
    int r = http_server_new(&a->loop, addr, routes, n, a, out);
    if (r < 0)
        fprintf(stderr, "runbook-operator: cannot listen on %s: %s\n", addr, strerror(-r));
    return r;
}

/* Shutdown, last step: nothing of ours is left on the loop after this. */
static void close_all(struct app *a)
{
    /* /metrics reads the client: close the servers first. */
    if (a->health)
        http_server_close(a->health, NULL, NULL);
    if (a->metrics)
        http_server_close(a->metrics, NULL, NULL);
    a->health = a->metrics = NULL;
    if (a->ui)
        ui_close(a->ui, NULL, NULL); /* frees itself once its sessions' requests end */
    a->ui = NULL;
    if (a->trigd)
        trigd_close(a->trigd, NULL, NULL); /* frees itself once its requests end */
    a->trigd = NULL;
    kube_client_close(a->kc, on_closed_client, a);
    if (a->hook_kc)
        kube_client_close(a->hook_kc, on_closed_client, a);
    if (a->lease_kc)
        kube_client_close(a->lease_kc, on_closed_client, a);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    uv_close((uv_handle_t *)&a->trim, NULL);
}

/* glibc keeps freed heap memory for reuse and only gives back what sits at
 * the top of the heap. After a burst (10,000 Jobs created at 1,000/s:
 * request buffers, parsed responses, list pages) about 20 MiB of free
 * chunks stayed resident for good. Trimming every 10 s returns them;
 * it costs well under a millisecond on a heap this size. */
static void on_trim(uv_timer_t *t)
{
    (void)t;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static void on_lease_closed(void *ud)
{
    struct app *a = ud;
    lease_free(a->lease);
    a->lease = NULL;
    close_all(a);
}

static void on_released(void *ud)
{
    struct app *a = ud;
    lease_close(a->lease, on_lease_closed, a);
}

/* The controller has stopped writing: only now may the Lease go, so the
 * next leader never overlaps with our last writes. */
static void on_ctrl_stopped(void *ud)
{
    struct app *a = ud;
    if (!a->lease) {
        close_all(a);
        return;
    }
    if (lease_release(a->lease, on_released, a) < 0)
        on_released(a);
}

static void on_leading(void *ud, int leading)
{
    struct app *a = ud;
    ctrl_set_leading(a->ctrl, leading); /* stop writing at once when lost */
    if (a->trigd)
        trigd_set_leading(a->trigd, leading); /* schedules are the leader's */
    log_kv(leading ? LOGL_INFO : LOGL_WARN, leading ? "leading" : "lost leadership", NULL);
    if (!leading && !a->signals) {
        /* Restart clean rather than guess what the new leader did. */
        a->exit_code = 1;
        a->signals = 1;
        ctrl_stop(a->ctrl, on_ctrl_stopped, a);
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct app *a = h->data;
    if (++a->signals > 1) {
        /* A second signal: the operator is wanted gone now. Nothing is lost:
         * every write is safe to repeat and the next leader re-plans. */
        log_kv(LOGL_WARN, "second signal, exiting at once", NULL);
        _exit(1);
    }
    log_kv(LOGL_INFO, "shutting down", "signal", signum == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
    ctrl_stop(a->ctrl, on_ctrl_stopped, a);
}

static struct json_object *workflow_of(void *ud, const char *ns, const char *name)
{
    return ctrl_workflow(ud, ns, name);
}

static void trigger_event(void *ud, const char *ns, const char *name, const char *uid,
                          const char *type, const char *reason, const char *message)
{
    ctrl_trigger_event(ud, ns, name, uid, type, reason, message);
}

/* The web UI on every replica (reads come from each one's caches). */
static int start_ui(struct app *a, const struct kcfg *cfg, const struct opts *o)
{
    if (!enabled(o->ui_addr))
        return 0;
    struct ui_options uo = {.addr = o->ui_addr,
                            .tls_cert = o->ui_tls_cert,
                            .tls_key = o->ui_tls_key,
                            .cfg = cfg,
                            .user_agent = "runbook-ui/" RUNBOOK_VERSION,
                            .trigd = a->trigd,
                            .anonymous_read = o->ui_anonymous_read};
    int r = ui_new(&a->loop, a->ctrl, &uo, &a->ui);
    if (r < 0)
        fprintf(stderr, "runbook-operator: cannot start the web UI on %s: %s\n", o->ui_addr,
                strerror(-r));
    else {
        char port[16]; /* the bound one: --ui-addr may say port 0 */
        snprintf(port, sizeof port, "%d", ui_port(a->ui));
        log_kv(LOGL_INFO, "web UI listening", "addr", o->ui_addr, "port", port, "anonymous_read",
               o->ui_anonymous_read ? "true" : "false", NULL);
    }
    return r;
}

/* The Trigger runtime: its informer on every replica, the webhook listener
 * when --webhook-addr is set. Its own API client: a delivery's create must
 * not queue behind a burst of the controller's writes, and gives up within
 * seconds (the sender gets 503 and retries) instead of the controller's 30 s. */
static int start_triggers(struct app *a, const struct kcfg *cfg, const struct opts *o,
                          const char *host)
{
    /* Its own rate, not --qps: the controller's burst of Job creates must
     * not hold deliveries back, nor deliveries the controller (measured:
     * with --qps 50 shared, webhooks topped out at 50 runs/s, bench/README.md). */
    struct kube_options ko = {.qps = o->webhook_qps,
                              .burst = (int)(2 * o->webhook_qps),
                              .timeout_ms = 5000,
                              .connect_timeout_ms = 3000,
                              .max_tries = 2};
    int r = kube_client_new(&a->loop, cfg, &ko, &a->hook_kc);
    if (r < 0)
        return r;
    struct trigd_options to = {.namespace = o->n_namespaces ? o->namespaces[0] : NULL,
                               .addr = enabled(o->webhook_addr) ? o->webhook_addr : NULL,
                               .tls_cert = o->webhook_tls_cert,
                               .tls_key = o->webhook_tls_key,
                               .max_body = o->webhook_max_body,
                               .rate = o->webhook_rate,
                               .instance = host,
                               .workflow = workflow_of,
                               .workflow_ud = a->ctrl,
                               .event = trigger_event,
                               .event_ud = a->ctrl};
    r = trigd_new(&a->loop, a->hook_kc, &to, &a->trigd);
    if (r == 0)
        r = trigd_start(a->trigd);
    if (r < 0)
        fprintf(stderr, "runbook-operator: cannot start the Triggers (webhook %s): %s\n",
                o->webhook_addr, strerror(-r));
    return r;
}

static void hostname(char *buf, size_t len)
{
    const char *pod = getenv("POD_NAME");
    if (pod && *pod)
        snprintf(buf, len, "%s", pod);
    else if (gethostname(buf, len) != 0)
        snprintf(buf, len, "runbook");
    buf[len - 1] = '\0';
}

/* Unique among candidates even when two share a host name. */
static void identity(const char *host, char *out, size_t len)
{
    unsigned char rnd[4] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(rnd, 1, sizeof rnd, f) != sizeof rnd)
            memset(rnd, 0, sizeof rnd);
        fclose(f);
    }
    snprintf(out, len, "%.200s_%02x%02x%02x%02x", host, rnd[0], rnd[1], rnd[2], rnd[3]);
}

/* Error exits before the loop runs return at once: what main set up so far
 * is released by these cleanup handlers (systemd's _cleanup_ idiom), not
 * by a free list repeated at each exit. The API clients need the loop to
 * close, so an early exit leaves them to process exit. */
static void free_cfg(struct kcfg **p)
{
    kcfg_free(*p);
}

static void free_str(char **p)
{
    free(*p);
}

int main(int argc, char **argv)
{
    struct opts o;
    char err[512];
    if (opts_parse(argc, argv, &o, err, sizeof err) < 0) {
        fprintf(stderr, "runbook-operator: %s\n", err);
        return 2;
    }
    if (o.help) {
        fputs(opts_usage(), stdout);
        return 0;
    }
    if (o.version) {
        printf("runbook-operator %s\n", RUNBOOK_VERSION);
        return 0;
    }
    log_setup(o.log_level, o.log_format, NULL);
    signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
    /* Each watch's decoder holds a json-c tokener whose per-level stack is
     * calloc'd for KJ_MAX_DEPTH levels (313 KiB) and remade when the watch
     * reopens. glibc raises its mmap threshold when such a block is freed,
     * so the next ones came from the heap, zeroed and resident: 1.6 MiB of
     * the idle operator's 3.6 MiB RssAnon. A fixed threshold (setting it
     * turns the adjustment off) keeps large blocks mmap'd, where the
     * levels never reached are never touched. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif

    __attribute__((cleanup(free_cfg))) struct kcfg *cfg = NULL;
    __attribute__((cleanup(free_str))) char *cerr = NULL;
    if (kcfg_load(o.kubeconfig, o.context, &cfg, &cerr) < 0) {
        fprintf(stderr, "runbook-operator: %s\n", cerr ? cerr : "cannot load the configuration");
        return 2;
    }

    struct app a = {0};
    uv_loop_init(&a.loop);
    struct kube_options ko = {.qps = o.qps, .burst = o.burst};
    int r = kube_client_new(&a.loop, cfg, &ko, &a.kc);
    if (r < 0) {
        fprintf(stderr, "runbook-operator: cannot set up the API client for %s: %s\n", cfg->server,
                strerror(-r));
        return 2;
    }
    char host[256];
    hostname(host, sizeof host);
    if (o.leader_elect) {
        struct kube_options lko = {.qps = -1};
        char id[256];
        identity(host, id, sizeof id);
        struct lease_options lo = {.name = o.lease_name,
                                   .namespace =
                                       o.lease_namespace ? o.lease_namespace : cfg->namespace,
                                   .identity = id,
                                   .lease_duration_ms = o.lease_duration_ms,
                                   .renew_deadline_ms = o.renew_deadline_ms,
                                   .retry_period_ms = o.retry_period_ms};
        r = kube_client_new(&a.loop, cfg, &lko, &a.lease_kc);
        if (r == 0)
            r = lease_new(&a.loop, a.lease_kc, &lo, on_leading, &a, &a.lease);
        if (r < 0) {
            fprintf(stderr, "runbook-operator: cannot set up leader election: %s\n", strerror(-r));
            return 2;
        }
        log_kv(LOGL_INFO, "leader election on", "lease", o.lease_name, "namespace", lo.namespace,
               "identity", id, NULL);
    }
    struct ctrl_options co = {.namespace = o.n_namespaces ? o.namespaces[0] : NULL,
                              .instance = host,
                              .workers = o.workers,
                              .events_all = o.events_all};
    r = ctrl_new(&a.loop, a.kc, &co, &a.ctrl); /* keeps its own copy of host */
    if (r < 0) {
        fprintf(stderr, "runbook-operator: cannot start the controller: %s\n", strerror(-r));
        return 1;
    }
    log_kv(LOGL_INFO, "starting", "version", RUNBOOK_VERSION, "server", cfg->server, "config",
           cfg->source, "namespace", co.namespace ? co.namespace : "(all)", NULL);

    int same = enabled(o.health_addr) && enabled(o.metrics_addr) &&
               strcmp(o.health_addr, o.metrics_addr) == 0;
    if (same)
        r = listen_on(&a, o.health_addr, all_routes, 3, &a.health);
    else if (enabled(o.health_addr))
        r = listen_on(&a, o.health_addr, health_routes, 2, &a.health);
    if (r == 0 && !same && enabled(o.metrics_addr))
        r = listen_on(&a, o.metrics_addr, metrics_routes, 1, &a.metrics);
    if (r == 0)
        r = start_triggers(&a, cfg, &o, host);
    if (r == 0)
        r = start_ui(&a, cfg, &o);
    if (r < 0)
        return 2;

    uv_signal_init(&a.loop, &a.sigterm);
    uv_signal_init(&a.loop, &a.sigint);
    a.sigterm.data = a.sigint.data = &a;
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    uv_timer_init(&a.loop, &a.trim);
    uv_timer_start(&a.trim, on_trim, 10000, 10000);
    uv_unref((uv_handle_t *)&a.trim); /* never the reason the loop runs */

    if (a.lease) {
        r = lease_start(a.lease); /* on_leading turns writes on */
        a.lease_started = r == 0;
    } else {
        ctrl_set_leading(a.ctrl, 1);
        trigd_set_leading(a.trigd, 1);
    }
    if (r == 0)
        r = ctrl_start(a.ctrl);
    if (r < 0) {
        log_kv(LOGL_ERROR, "cannot start the informers", "error", strerror(-r), NULL);
        return 1;
    }
    uv_run(&a.loop, UV_RUN_DEFAULT);
    ctrl_free(a.ctrl);
    metrics_buf_free(&a.mbuf);
    r = uv_loop_close(&a.loop);
    if (r != 0)
        log_kv(LOGL_WARN, "loop closed with handles open", "error", uv_strerror(r), NULL);
    log_kv(LOGL_INFO, "stopped", NULL);
    return a.exit_code;
}
