/* http - a small HTTP/1.1 server (probes, /metrics, webhooks) on the
 * caller's libuv loop, built on libwebsockets.
 *
 *   static const struct http_route routes[] = {
 *       {"/healthz", HTTP_GET, on_healthz},
 *       {"/hook", HTTP_POST, on_hook},
 *   };
 *   struct http_server *s;
 *   if (http_server_new(loop, ":8081", routes, 2, app, &s) < 0) ...
 *   ...
 *   http_server_close(s, on_closed, app);   // then keep running the loop
 *
 * Each server is one lws context joined to the loop as a "foreign" loop;
 * several servers may share one loop (health and metrics on different
 * addresses). Plain HTTP/1.1 with keep-alive, no TLS: these endpoints are
 * for the kubelet and Prometheus inside the cluster network.
 *
 * Handlers run on the loop, synchronously, once the whole request (body
 * included) has arrived; what they put in the response is sent after they
 * return. The server answers by itself: 404 for an unknown path, 405 (with
 * Allow) for a method the route does not take, 411 for a chunked request
 * body (lws 4.1 only reads bodies with a Content-Length), 413 for a body
 * over HTTP_MAX_BODY, 500 when a handler returns < 0. HEAD is served
 * wherever GET is: the GET handler runs and only the headers are sent.
 *
 * Process-wide side effects of lws: its log is lowered to errors and goes
 * through src/log (lws keeps one log setting per process), and it ignores
 * SIGPIPE.
 *
 * Returns: 0 or a negative errno (libuv style). Not thread-safe: every call
 * on the loop's thread. */
#ifndef RB_HTTP_H
#define RB_HTTP_H

#include <stddef.h>

#include <uv.h>

struct http_server;

/* Request bodies larger than this get 413 Payload Too Large. */
#define HTTP_MAX_BODY (1024 * 1024)

enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4,
    HTTP_DELETE = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
};

/* What a handler sees; everything is borrowed for the call. */
struct http_request {
    enum http_method method;
    const char *method_name;  /* "GET", ... */
    const char *path;         /* percent-decoded, without the query: "/metrics" */
    const char *query;        /* the arguments as lws decoded them, rejoined with
                               * '&' ("a=1&b=x y"); "" when none */
    const char *content_type; /* "" when none */
    const char *body;         /* NUL-terminated (not counted in body_len); "" when none */
    size_t body_len;
};

/* What a handler fills: status (default 200), the Content-Type (default
 * "text/plain; charset=utf-8", set with http_response_set_type) and the
 * body, held by the server (add to it with http_response_append/_printf). */
struct http_response {
    int status;
    /* private */
    char content_type[128];
    char *body;
    size_t len, cap;
    int err;
};

/* Copies type. 0, or -EINVAL when it does not fit (the old type stays). */
int http_response_set_type(struct http_response *r, const char *type);

/* 0, or -ENOMEM (sticky: the handler may check once at the end, and a
 * response whose body could not be built is answered with 500). */
int http_response_append(struct http_response *r, const void *data, size_t len);
int http_response_printf(struct http_response *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns 0 to send resp, or < 0 to answer 500 instead. */
typedef int (*http_handler)(void *ud, const struct http_request *req, struct http_response *resp);

struct http_route {
    const char *path; /* exact match, e.g. "/metrics"; must outlive the server */
    unsigned methods; /* enum http_method bits; 0: GET (and so HEAD) */
    http_handler handler;
};

/* Starts listening on addr:
 *   "127.0.0.1:8081"   one IPv4 address
 *   "[::1]:8081"       one IPv6 address
 *   ":8080"            every interface (IPv6 dual-stack when the kernel has
 *                      IPv6, else every IPv4 address)
 * Port 0 picks a free port (see http_server_port). routes (copied; their
 * path strings are not) are matched in order; ud is passed to handlers.
 * Errors: -EINVAL (bad addr or routes), -EADDRINUSE, -EACCES,
 * -EADDRNOTAVAIL (from binding), -ENOMEM, -EIO (lws refused otherwise).
 * On failure nothing is left for the caller to free, but lws may have put
 * handles on the loop that it releases over the next iterations: keep
 * running the loop (as on any shutdown) before uv_loop_close. */
int http_server_new(uv_loop_t *loop, const char *addr, const struct http_route *routes,
                    size_t n_routes, void *ud, struct http_server **out);

/* The port the server listens on (the kernel's choice when addr had port 0). */
int http_server_port(const struct http_server *s);

/* Requests received and not yet fully answered (for tests: 0 once clients
 * are done means no per-request state was left behind). */
size_t http_server_requests_in_flight(const struct http_server *s);

/* Starts closing: the listening socket and every connection are closed
 * (responses not yet sent are dropped), no handler runs after this returns,
 * and once every uv handle lws put on the loop is closed the server is
 * freed and closed(ud) is called from the loop (closed may be NULL). The
 * caller must keep running the loop until then. Safe from inside a handler;
 * a second call before closed has run is ignored. */
void http_server_close(struct http_server *s, void (*closed)(void *ud), void *ud);

#endif
