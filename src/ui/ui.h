/* ui - the web UI: a listener of its own that serves the page (embedded
 * from ui/) and one WebSocket per browser tab, on the caller's loop.
 *
 *   struct ui *u;
 *   struct ui_options o = {.addr = ":8080", .cfg = cfg};
 *   if (ui_new(loop, ctrl, &o, &u) < 0) ...
 *   ...
 *   ui_close(u, NULL, NULL);   // frees itself once its requests are done
 *
 * Who may do what (docs/ui.md): the UI never acts with the operator's
 * rights on a person's behalf. A person signs in with a bearer token (sent
 * over the WebSocket, or put on the upgrade request by an auth proxy).
 * Reads come from the controller's caches, limited to the namespaces where
 * that token may list workflowruns (SelfSubjectAccessReview, asked with the
 * token; answers trusted for auth_ttl_s), or, with anonymous_read, by
 * anyone. Writes (cancel, run again, start) and log streams go to the API
 * server with the person's token and nothing else: a client of its own per
 * session, built from the operator's server address and CA only, so RBAC
 * decides and the audit log names the person.
 *
 * 0 or a negative errno everywhere (libuv style); loop thread only. */
#ifndef RB_UI_H
#define RB_UI_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct ctrl;
struct kcfg;
struct trigd;
struct ui;

struct ui_options {
    const char *addr;               /* ":8080", "127.0.0.1:0" */
    const char *tls_cert, *tls_key; /* both or neither */
    /* The operator's configuration: only the server, its CA and TLS name
     * are used, never its credentials. Read during ui_new only. */
    const struct kcfg *cfg;
    unsigned auth_ttl_s;    /* how long an access review is trusted; 0: 30 */
    long api_timeout_ms;    /* a person's API request; 0: 10000 */
    const char *user_agent; /* NULL: "runbook-ui" */
    struct trigd *trigd;    /* the Triggers page's cache; NULL: no such page */
    int anonymous_read;     /* a tab without a token reads everything, writes nothing */
};

struct ui_stats {
    uint64_t sessions;    /* WebSockets opened */
    size_t sessions_open; /* gauge */
    uint64_t signins, signins_failed;
    uint64_t writes_ok, writes_refused, writes_failed; /* refused: 4xx from the API server */
    uint64_t messages_in, messages_out, bad_messages;
    uint64_t slow_closed; /* closed because they did not read what was sent */
    uint64_t log_streams; /* step logs opened with a person's token */
};

int ui_new(uv_loop_t *loop, struct ctrl *ctrl, const struct ui_options *o, struct ui **out);
int ui_port(const struct ui *u);
void ui_get_stats(const struct ui *u, struct ui_stats *out);
/* Closes the listener and every session; calls closed(ud) (may be NULL)
 * from the loop once the last person's request has ended, then frees u. */
void ui_close(struct ui *u, void (*closed)(void *ud), void *ud);

#endif
