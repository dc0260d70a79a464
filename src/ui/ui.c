/* ui.c - the UI's listener and lifecycle: the routes (the page's files and
 * the WebSocket), the caches' observers (runs, Workflows, Triggers), the
 * access re-check and tick timers, and the two-phase close (listener,
 * sessions and their clients, timers; then closed). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "log/log.h"
#include "trigd/trigd.h"
#include "ui/ui-internal.h"

static const struct http_route routes[] = {
    {"/", HTTP_GET, ui_static, 0},
    {"/index.html", HTTP_GET, ui_static, 0},
    {"/assets/", HTTP_GET, ui_static, HTTP_ROUTE_PREFIX},
};

static const struct http_ws_route ws_routes[] = {
    {"/ws", UI_SUBPROTOCOL, ui_ws_open, ui_ws_message, ui_ws_close},
};

static char *dup_or_null(const char *s, int *oom)
{
    char *d = s ? strdup(s) : NULL;
    *oom |= s && !d;
    return d;
}

/* The operator's server and CA: a person's client gets those, and the
 * person's own token, and nothing else of the operator's. */
static int copy_base(struct kcfg *b, const struct kcfg *cfg)
{
    int oom = 0;
    memset(b, 0, sizeof *b);
    b->source = dup_or_null("runbook-ui", &oom);
    b->server = dup_or_null(cfg->server, &oom);
    b->tls_server_name = dup_or_null(cfg->tls_server_name, &oom);
    b->ca_file = dup_or_null(cfg->ca_file, &oom);
    b->insecure_skip_tls_verify = cfg->insecure_skip_tls_verify;
    if (cfg->ca_data && cfg->ca_len) {
        if ((b->ca_data = malloc(cfg->ca_len))) {
            memcpy(b->ca_data, cfg->ca_data, cfg->ca_len);
            b->ca_len = cfg->ca_len;
        } else {
            oom = 1;
        }
    }
    return oom ? -ENOMEM : 0;
}

static void free_base(struct kcfg *b)
{
    free(b->source);
    free(b->server);
    free(b->tls_server_name);
    free(b->ca_file);
    free(b->ca_data);
    memset(b, 0, sizeof *b);
}

static void on_refresh(uv_timer_t *t)
{
    ui_refresh_all(t->data);
}

static void on_tick(uv_timer_t *t)
{
    ui_sessions_tick(t->data);
    ui_events_tick(t->data);
    ui_logs_tick(t->data);
}

static void ui_free(struct ui *u)
{
    free_base(&u->base);
    free(u->user_agent);
    free(u);
}

int ui_new(uv_loop_t *loop, struct ctrl *ctrl, const struct ui_options *o, struct ui **out)
{
    *out = NULL;
    if (!o || !o->addr || !o->cfg || !o->cfg->server)
        return -EINVAL;
    struct ui *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    u->loop = loop;
    u->ctrl = ctrl;
    u->trigd = o->trigd;
    u->anonymous_read = o->anonymous_read;
    u->auth_ttl_ms = (o->auth_ttl_s ? o->auth_ttl_s : 30) * 1000u;
    u->api_timeout_ms = o->api_timeout_ms > 0 ? o->api_timeout_ms : 10000;
    int rc = copy_base(&u->base, o->cfg);
    if (rc == 0 && !(u->user_agent = strdup(o->user_agent ? o->user_agent : "runbook-ui")))
        rc = -ENOMEM;
    if (rc < 0) {
        ui_free(u);
        return rc;
    }
    struct http_server_opts so = {.tls_cert = o->tls_cert,
                                  .tls_key = o->tls_key,
                                  .ws_routes = ws_routes,
                                  .n_ws_routes = sizeof ws_routes / sizeof ws_routes[0],
                                  .ws_max_message = (size_t)64 * 1024,
                                  /* an auth proxy's Authorization header: OIDC
                                   * tokens with many groups run to 16 KiB */
                                  .max_header_bytes = 32768};
    rc = http_server_new_opts(loop, o->addr, routes, sizeof routes / sizeof routes[0], u, &so,
                              &u->srv);
    if (rc < 0) {
        ui_free(u);
        return rc;
    }
    uv_timer_init(loop, &u->refresh);
    u->refresh.data = u;
    uv_timer_start(&u->refresh, on_refresh, u->auth_ttl_ms, u->auth_ttl_ms);
    uv_unref((uv_handle_t *)&u->refresh); /* never what keeps the loop alive */
    uv_timer_init(loop, &u->tick);
    u->tick.data = u;
    uv_timer_start(&u->tick, on_tick, 1000, 1000);
    uv_unref((uv_handle_t *)&u->tick);
    ctrl_observe_runs(ctrl, ui_run_changed, u);
    ctrl_observe_workflows(ctrl, ui_workflow_changed, u);
    if (u->trigd)
        trigd_observe(u->trigd, ui_trigger_changed, u);
    *out = u;
    return 0;
}

int ui_port(const struct ui *u)
{
    return http_server_port(u->srv);
}

void ui_get_stats(const struct ui *u, struct ui_stats *out)
{
    *out = u->st;
    out->sessions_open = http_server_ws_count(u->srv);
}

void ui_maybe_done(struct ui *u)
{
    if (!u->closing || !u->srv_closed || u->timers_closed < 2 || u->n_sessions)
        return;
    void (*closed)(void *) = u->closed;
    void *ud = u->closed_ud;
    ui_free(u);
    if (closed)
        closed(ud);
}

static void srv_closed(void *ud)
{
    struct ui *u = ud;
    u->srv_closed = 1;
    ui_maybe_done(u);
}

static void timer_closed(uv_handle_t *h)
{
    struct ui *u = h->data;
    u->timers_closed++;
    ui_maybe_done(u);
}

void ui_close(struct ui *u, void (*closed)(void *ud), void *ud)
{
    if (!u || u->closing)
        return;
    u->closing = 1;
    u->closed = closed;
    u->closed_ud = ud;
    ctrl_observe_runs(u->ctrl, NULL, NULL);
    ctrl_observe_workflows(u->ctrl, NULL, NULL);
    if (u->trigd)
        trigd_observe(u->trigd, NULL, NULL);
    uv_close((uv_handle_t *)&u->refresh, timer_closed);
    uv_close((uv_handle_t *)&u->tick, timer_closed);
    /* Every WebSocket's on_close follows: each session closes its client,
     * and is freed once that client has called back. */
    http_server_close(u->srv, srv_closed, u);
}
