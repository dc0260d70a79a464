/* runbook-operator: the daemon. Everything runs on one libuv loop: the kube
 * client's sockets and timers, the informers, the controller.
 *
 * Exit status: 0 after a graceful shutdown, 1 on a runtime failure, 2 for a
 * bad flag or an unusable configuration (one clear line on stderr). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "ctrl/ctrl.h"
#include "kube/kube.h"
#include "kubeconfig/kubeconfig.h"
#include "lease/lease.h"
#include "log/log.h"
#include "opts/opts.h"

/* The loop's context: everything the daemon owns. */
struct app {
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    struct kube_client *kc;
    struct kube_client *lease_kc; /* the elector's own: renewals never queue */
    struct ctrl *ctrl;
    struct lease *lease;
    int signals;
    int exit_code;
};

static void on_closed_client(void *ud)
{
    (void)ud; /* the loop ends once the last handle is closed */
}

/* Shutdown, last step: nothing of ours is left on the loop after this. */
static void close_all(struct app *a)
{
    kube_client_close(a->kc, on_closed_client, a);
    if (a->lease_kc)
        kube_client_close(a->lease_kc, on_closed_client, a);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
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

static char *hostname(void)
{
    char buf[256];
    const char *pod = getenv("POD_NAME");
    if (pod && *pod)
        return strdup(pod);
    if (gethostname(buf, sizeof buf) != 0)
        return strdup("runbook");
    buf[sizeof buf - 1] = '\0';
    return strdup(buf);
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

    struct kcfg *cfg = NULL;
    char *cerr = NULL;
    if (kcfg_load(o.kubeconfig, o.context, &cfg, &cerr) < 0) {
        fprintf(stderr, "runbook-operator: %s\n", cerr ? cerr : "cannot load the configuration");
        free(cerr);
        return 2;
    }

    struct app a = {0};
    uv_loop_init(&a.loop);
    struct kube_options ko = {.qps = o.qps, .burst = o.burst};
    int r = kube_client_new(&a.loop, cfg, &ko, &a.kc);
    if (r < 0) {
        fprintf(stderr, "runbook-operator: cannot set up the API client for %s: %s\n",
                cfg->server, strerror(-r));
        kcfg_free(cfg);
        return 2;
    }
    char *host = hostname();
    if (o.leader_elect) {
        struct kube_options lko = {.qps = -1};
        char id[256];
        identity(host, id, sizeof id);
        struct lease_options lo = {.name = o.lease_name,
                                   .namespace = o.lease_namespace ? o.lease_namespace
                                                                  : cfg->namespace,
                                   .identity = id,
                                   .lease_duration_ms = o.lease_duration_ms,
                                   .renew_deadline_ms = o.renew_deadline_ms,
                                   .retry_period_ms = o.retry_period_ms};
        r = kube_client_new(&a.loop, cfg, &lko, &a.lease_kc);
        if (r == 0)
            r = lease_new(&a.loop, a.lease_kc, &lo, on_leading, &a, &a.lease);
        if (r < 0) {
            fprintf(stderr, "runbook-operator: cannot set up leader election: %s\n",
                    strerror(-r));
            kcfg_free(cfg);
            return 2;
        }
        log_kv(LOGL_INFO, "leader election on", "lease", o.lease_name, "namespace",
               lo.namespace, "identity", id, NULL);
    }
    struct ctrl_options co = {.namespace = o.n_namespaces ? o.namespaces[0] : NULL,
                              .instance = host,
                              .workers = o.workers};
    r = ctrl_new(&a.loop, a.kc, &co, &a.ctrl);
    if (r < 0) {
        fprintf(stderr, "runbook-operator: cannot start the controller: %s\n", strerror(-r));
        return 1;
    }
    log_kv(LOGL_INFO, "starting", "version", RUNBOOK_VERSION, "server", cfg->server, "config",
           cfg->source, "namespace", co.namespace ? co.namespace : "(all)", NULL);
    kcfg_free(cfg);

    uv_signal_init(&a.loop, &a.sigterm);
    uv_signal_init(&a.loop, &a.sigint);
    a.sigterm.data = a.sigint.data = &a;
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_signal_start(&a.sigint, on_signal, SIGINT);

    if (a.lease)
        r = lease_start(a.lease); /* on_leading turns writes on */
    else
        ctrl_set_leading(a.ctrl, 1);
    if (r == 0)
        r = ctrl_start(a.ctrl);
    if (r < 0) {
        log_kv(LOGL_ERROR, "cannot start the informers", "error", strerror(-r), NULL);
        return 1;
    }
    uv_run(&a.loop, UV_RUN_DEFAULT);
    ctrl_free(a.ctrl);
    free(host);
    r = uv_loop_close(&a.loop);
    if (r != 0)
        log_kv(LOGL_WARN, "loop closed with handles open", "error", uv_strerror(r), NULL);
    log_kv(LOGL_INFO, "stopped", NULL);
    return a.exit_code;
}
