/* http - a small HTTP/1.1 server (probes, /metrics, webhooks, and
 * WebSockets for the UI) on the caller's libuv loop, built on
 * libwebsockets (4.1, as Debian ships it).
 *
 *   static const struct http_route routes[] = {
 *       {"/healthz", HTTP_GET, on_healthz},
 *       {"/hooks/", HTTP_POST, on_hook, HTTP_ROUTE_PREFIX},
 *   };
 *   struct http_server *s;
 *   if (http_server_new(loop, ":8081", routes, 2, app, &s) < 0) ...
 *   ...
 *   http_server_close(s, on_closed, app);   // then keep running the loop
 *
 * Each server is one lws context joined to the loop as a "foreign" loop;
 * several servers may share one loop (health, metrics and webhooks on
 * different addresses, each with its own http_server_opts). Plain
 * HTTP/1.1 with keep-alive; HTTPS when the options name a certificate and
 * key, reloaded from disk when they change (cert-manager rotation); TLS
 * offers HTTP/1.1 only (ALPN), never h2.
 *
 * Handlers run on the loop once the whole request (body included) has
 * arrived. A handler either fills the response before it returns (sent
 * after it returns), or defers it (http_response_defer) and completes it
 * later from the loop, e.g. after a Kubernetes API call. The server
 * answers by itself: 404 for an unknown path, 405 (with Allow) for a
 * method the route does not take, 413 for a body over the limit (the
 * decoded size for chunked bodies), 400 for a malformed chunked body or
 * one with both Content-Length and Transfer-Encoding, 501 for a transfer
 * coding other than chunked, 411 for a chunked body on a method lws does
 * not read bodies for (GET, DELETE, ...), 500 when a handler returns < 0,
 * 426 for a WebSocket path asked for without the upgrade (see WebSockets).
 * HEAD is served wherever GET is: the GET handler runs and only the
 * headers are sent. Request bodies sent chunked are decoded here (lws 4.1
 * hands them over raw, at most 100 MiB of them); such a connection is
 * closed after its answer, since lws still counts the bytes after the body
 * as body. "Expect: 100-continue" is not answered (lws 4.1 does not): such
 * a client sends its body after its own wait (curl: 1 s).
 *
 * Request headers: lws parses at most max_header_bytes of request line
 * and headers (default 8 KiB; a larger request is dropped by lws without
 * an answer). Handlers read any header with http_request_header; the list
 * in req->headers has every standard header lws knows by name (its token
 * table) plus the custom ones the server was told to capture (the webhook
 * headers in HTTP_WEBHOOK_HEADERS always; more in opts.capture_headers),
 * because lws 4.1 can look up a custom header by name but not list them.
 *
 * Process-wide side effects of lws: its log is lowered to errors and goes
 * through src/log (lws keeps one log setting per process), and it ignores
 * SIGPIPE. A TLS server also initialises OpenSSL (lws does it once).
 *
 * Returns: 0 or a negative errno (libuv style). Not thread-safe: every call
 * on the loop's thread. */
#ifndef RB_HTTP_H
#define RB_HTTP_H

#include <stddef.h>

#include <uv.h>

struct http_server;

/* Request bodies larger than this get 413 Payload Too Large, unless
 * http_server_opts.max_body says otherwise. */
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

/* One request header. Names are lower case (lws folds them as it
 * parses); a header sent several times has its values joined with ','. */
struct http_header {
    const char *name;
    const char *value;
};

/* Custom (non-standard) headers every server captures into req->headers;
 * standard ones (Content-Type, User-Agent, ...) always are. */
#define HTTP_WEBHOOK_HEADERS                                                                       \
    "x-hub-signature-256", "x-hub-signature", "x-github-delivery", "x-github-event",               \
        "x-github-hook-id", "x-gitlab-token", "x-gitlab-event", "x-gitlab-event-uuid",             \
        "x-gitlab-webhook-uuid", "x-runbook-signature", "x-runbook-timestamp", "idempotency-key",  \
        "x-request-id", "x-forwarded-for", "x-forwarded-proto"

/* What a handler sees; everything is borrowed for the call (a deferred
 * handler copies what it needs before it returns). */
struct http_request {
    enum http_method method;
    const char *method_name;  /* "GET", ... */
    const char *path;         /* percent-decoded, without the query: "/metrics" */
    const char *query;        /* the arguments as lws decoded them, rejoined with
                               * '&' ("a=1&b=x y"); "" when none */
    const char *content_type; /* "" when none */
    const char *body;         /* NUL-terminated (not counted in body_len); "" when none */
    size_t body_len;
    const struct http_header *headers; /* see the top of this file for which */
    size_t n_headers;
    /* private */
    void *conn;
};

/* The value of header name (any case), or NULL when the request has no
 * such header (or sent it empty). Finds any header, captured or not, for
 * as long as the handler runs; the string lives as long as req. */
const char *http_request_header(const struct http_request *req, const char *name);

/* What a handler fills: status (default 200), the Content-Type (default
 * "text/plain; charset=utf-8", set with http_response_set_type), extra
 * headers (http_response_set_header) and the body, held by the server
 * (add to it with http_response_append/_printf). */
struct http_response {
    int status;
    /* private */
    char content_type[128];
    char *body;
    size_t len, cap;
    char *hdrs; /* "name: value\r\n" lines */
    size_t hdrs_len, hdrs_cap;
    int err;
    void *conn;  /* the request it answers; NULL in a deferred handle's */
    void *defer; /* set by http_response_defer */
};

/* Copies type. 0, or -EINVAL when it does not fit or holds a control
 * character (the old type stays). */
int http_response_set_type(struct http_response *r, const char *type);

/* Adds the header "name: value" (e.g. "Retry-After", "3"); a name set
 * twice is sent twice. Content-Type goes to http_response_set_type; the
 * framing headers (Content-Length, Transfer-Encoding, Connection) are the
 * server's. 0, or -EINVAL for a name that is not an HTTP token, a value
 * with a control character (CR and LF included: no header injection), or a
 * framing header; -ENOSPC past HTTP_MAX_RESPONSE_HEADERS bytes; -ENOMEM.
 * Not sticky: nothing is added on error. */
#define HTTP_MAX_RESPONSE_HEADERS 2048
int http_response_set_header(struct http_response *r, const char *name, const char *value);

/* 0, or -ENOMEM (sticky: the handler may check once at the end, and a
 * response whose body could not be built is answered with 500). */
int http_response_append(struct http_response *r, const void *data, size_t len);
int http_response_printf(struct http_response *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns 0 to send resp, or < 0 to answer 500 instead. */
typedef int (*http_handler)(void *ud, const struct http_request *req, struct http_response *resp);

/* http_route.flags */
#define HTTP_ROUTE_PREFIX 1u /* path is a prefix: "/hooks/" takes "/hooks/a/b" */

/* Fields in the order callers write them, flags last so that {path,
 * methods, handler} still reads. NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding) */
struct http_route {
    const char *path; /* exact match, e.g. "/metrics" (see flags); must
                       * outlive the server */
    unsigned methods; /* enum http_method bits; 0: GET (and so HEAD) */
    http_handler handler;
    unsigned flags; /* HTTP_ROUTE_*; 0: none */
};

/* --- deferred responses ------------------------------------------------------
 *
 * A handler that cannot answer yet calls http_response_defer and returns
 * 0; what it put in resp is discarded. The handle it gets is then owned by
 * the server and stays valid until exactly one of these happens:
 *   - the app calls http_deferred_complete(d): the answer is sent;
 *   - the request dies first (the client closed the connection, or
 *     http_server_close was called): on_gone(gone_ud, d) is called once,
 *     from the loop, never from inside an http_ call the app made; the
 *     handle is freed once on_gone returns (completing it from on_gone
 *     is refused with -EINVAL, and after it is a use after free).
 * So the app keeps d alongside its own pending work and drops it in
 * on_gone (e.g. it marks its Kubernetes call's callback as orphaned). The
 * server puts no deadline on a deferred answer: the app answers 503 itself
 * when its own work times out. A deferred request counts as in flight
 * until answered or gone; the connection is kept open meanwhile. */
struct http_deferred;
typedef void (*http_gone_fn)(void *gone_ud, struct http_deferred *d);

/* From a handler, on the resp it was given: returns the handle, or NULL
 * (out of memory, on_gone NULL, resp not a handler's, already deferred) and
 * then the handler answers as usual. If the handler then returns < 0
 * (without having completed d) the request is answered 500 and on_gone is
 * called right after the handler returns (so the app must be ready for it
 * as soon as it has d). */
struct http_deferred *http_response_defer(struct http_response *resp, http_gone_fn on_gone,
                                          void *gone_ud);

/* The response to fill before completing: status 200, the default type,
 * no body yet; the http_response_* functions work on it. */
struct http_response *http_deferred_response(struct http_deferred *d);

/* Sends the response and frees the handle (whatever the return value).
 * 0; or a negative errno that changed the answer: -ENOMEM (the body or
 * headers could not be built) or -EINVAL (status outside 100..599) both
 * send 500. May be called from a handler (even before it returns). Once
 * http_server_close was called, the answer is dropped with the connection
 * (0 is returned and on_gone is not called). */
int http_deferred_complete(struct http_deferred *d);

/* --- WebSockets ----------------------------------------------------------------
 *
 * RFC 6455 text messages on the same server (and port) as the HTTP routes,
 * for a browser page that wants updates pushed to it:
 *
 *   static const struct http_ws_route ws_routes[] = {
 *       {"/ws", "runbook.v1", on_open, on_message, on_close},
 *   };
 *   struct http_server_opts o = {.ws_routes = ws_routes, .n_ws_routes = 1};
 *
 * The upgrade. A GET with "Upgrade: websocket" to a ws route's path is
 * checked here first (Connection: upgrade, Host, a well-formed
 * Sec-WebSocket-Key, the subprotocol) and refused with 400, or 426 naming
 * version 13 for another Sec-WebSocket-Version, before on_open sees it;
 * then on_open decides. An upgrade to any other path gets 404 (a server
 * without ws routes drops it unanswered, as before they existed). A
 * refused upgrade is answered with a text body and the connection closed.
 * A request without the upgrade to a ws path that no HTTP route takes
 * gets 426 Upgrade Required.
 *
 * Subprotocol: a route that names one is only reached by a client that
 * offers it (Sec-WebSocket-Protocol), and the handshake answers with it
 * (browsers fail a connection that does not get the one they asked for
 * echoed). A client offering several gets the first one this server knows,
 * as lws picks it; when that is not the route's, the upgrade is refused.
 * A route without one refuses a client that asks for any.
 *
 * Browsers send cookies and make no CORS check on an upgrade, so any page
 * the user visits can open a socket here with the user's credentials:
 * on_open should check the Origin header (cross-site WebSocket hijacking)
 * before it trusts a cookie.
 *
 * Incoming: text messages, fragments joined, checked as UTF-8 by lws (a
 * close with 1007 otherwise), at most ws_max_message bytes (a close with
 * 1009 "message too big", refused as soon as a frame header announces
 * more); a binary message closes with 1003. Idle: the server pings a
 * connection ws_ping_s seconds after its last pong and drops it (no close
 * frame) when the pong has not come another ws_ping_s later; browsers
 * answer pings by themselves.
 *
 * Outgoing: http_ws_send queues a copy; messages go in order, each as
 * frames of at most 16 KiB (4 KiB on a route without subprotocol), which
 * WebSocket APIs join, written as the socket takes them. A peer that reads
 * too slowly makes the queue reach ws_max_queue and http_ws_send refuse;
 * the app then closes it (1008, 1013) so that one stalled tab does not
 * hold memory without bound.
 *
 * Lifetime: a struct http_ws is valid from on_open (once it returns 0)
 * until on_close returns. on_close comes exactly once for each, from the
 * loop, never from inside an http_ call the app made: after the peer
 * closed or went away, after http_ws_close, after a close for what the
 * peer sent, or when the server closes (http_server_close: each socket is
 * sent a close frame 1001 "going away" where it takes it, then on_close
 * runs, all before the server's closed). No on_message comes once
 * http_ws_close or http_server_close was called. */

#define HTTP_WS_MAX_MESSAGE (64 * 1024)
#define HTTP_WS_MAX_QUEUE (4 * 1024 * 1024)

/* One WebSocket connection, owned by the server. */
struct http_ws;

/* ud is the server's (as for HTTP handlers). */
struct http_ws_route {
    const char *path;        /* exact request path, e.g. "/ws"; must outlive the server */
    const char *subprotocol; /* the Sec-WebSocket-Protocol the client must offer (a token,
                              * e.g. "runbook.v1", not "http"); must outlive the server;
                              * NULL: the client must offer none */
    /* The upgrade request, every check above passed: its headers are
     * readable with http_request_header (origin, host, authorization,
     * cookie...) during the call, req->path and req->query as for a
     * handler, no body. Returns 0 to accept, or an HTTP status (400..599,
     * e.g. 401, 403, 503; anything else is taken as 500) to refuse: that
     * status with a short text body, and ws is freed when on_open returns,
     * without on_close. May call http_ws_set_data (and http_ws_close); must
     * not call http_ws_send (not open yet: -ENOTCONN). */
    int (*on_open)(void *ud, struct http_ws *ws, const struct http_request *req);
    /* One complete text message, fragments joined, NUL-terminated (not
     * counted in len), borrowed for the call. May call any http_ws_* on
     * any connection, and http_server_close. */
    void (*on_message)(void *ud, struct http_ws *ws, const char *data, size_t len);
    /* The connection is gone; ws is invalid once this returns (http_ws_send
     * on it from here returns -EPIPE). The app frees what it set with
     * http_ws_set_data. */
    void (*on_close)(void *ud, struct http_ws *ws);
};

/* Queues one text message (copied; text needs no NUL), sent after the
 * ones before it. 0; -ENOBUFS when the bytes waiting would pass
 * ws_max_queue (nothing is queued: the app should close the slow client);
 * -ENOMEM; -EPIPE once the connection is closing (http_ws_close, a close
 * from the peer or for what it sent, http_server_close) and from on_close;
 * -ENOTCONN from on_open; -EINVAL for a NULL ws, or a NULL text with a
 * length. */
int http_ws_send(struct http_ws *ws, const char *text, size_t len);

/* Sends a close frame once what is queued has been sent, then closes:
 * on_close follows from the loop, when the peer has answered the close
 * or 5 s later. code: 1000..1003, 1007..1014 or 3000..4999 (anything else,
 * which RFC 6455 reserves, sends 1000); reason: NULL or UTF-8, cut to 123
 * bytes (the frame's limit) before a character, not inside one.
 * Idempotent: the first call's code and reason stay. */
void http_ws_close(struct http_ws *ws, int code, const char *reason);

/* The app's pointer for this connection (NULL until set). */
void http_ws_set_data(struct http_ws *ws, void *data);
void *http_ws_data(const struct http_ws *ws);

/* Bytes queued and not yet handed to the socket (a slow reader's backlog). */
size_t http_ws_queued(const struct http_ws *ws);

/* --- servers ---------------------------------------------------------------- */

struct http_server_opts {
    size_t max_body;                    /* request body limit; 0: HTTP_MAX_BODY */
    unsigned max_header_bytes;          /* request line + headers; 0: 8192, at most 65535 */
    const char *const *capture_headers; /* extra custom header names (tokens, any
                                         * case) for req->headers, NULL-terminated;
                                         * copied; NULL: none */
    const char *tls_cert, *tls_key;     /* both or neither: PEM files (the cert file
                                         * may hold the chain); copied */
    unsigned tls_reload_ms;             /* how often to look for a new pair; 0: 5000 */
    /* WebSockets (see above); all zero: none. */
    const struct http_ws_route *ws_routes; /* copied; their strings are not */
    size_t n_ws_routes;
    size_t ws_max_message; /* incoming message limit; 0: HTTP_WS_MAX_MESSAGE;
                            * at most 1 GiB */
    size_t ws_max_queue;   /* bytes waiting to be sent per connection before
                            * http_ws_send refuses; 0: HTTP_WS_MAX_QUEUE; at
                            * most 1 GiB */
    unsigned ws_ping_s;    /* idle ping interval; 0: 30; at most 32767 */
};

/* Starts listening on addr:
 *   "127.0.0.1:8081"   one IPv4 address
 *   "[::1]:8081"       one IPv6 address
 *   ":8080"            every interface (IPv6 dual-stack when the kernel has
 *                      IPv6, else every IPv4 address)
 * Port 0 picks a free port (see http_server_port). routes (copied; their
 * path strings are not) are matched in order; ud is passed to handlers.
 * opts may be NULL (every default); it is not kept.
 * Errors: -EINVAL (bad addr, routes, ws routes or opts; two ws routes on
 * one path), -EADDRINUSE, -EACCES,
 * -EADDRNOTAVAIL (from binding), -ENOENT (a TLS file is missing), -ENOMEM,
 * -EIO (lws refused otherwise, e.g. a TLS pair that does not load).
 * On failure nothing is left for the caller to free, but lws may have put
 * handles on the loop that it releases over the next iterations: keep
 * running the loop (as on any shutdown) before uv_loop_close. */
int http_server_new_opts(uv_loop_t *loop, const char *addr, const struct http_route *routes,
                         size_t n_routes, void *ud, const struct http_server_opts *opts,
                         struct http_server **out);

/* http_server_new_opts with every default (plain HTTP). */
int http_server_new(uv_loop_t *loop, const char *addr, const struct http_route *routes,
                    size_t n_routes, void *ud, struct http_server **out);

/* The port the server listens on (the kernel's choice when addr had port 0). */
int http_server_port(const struct http_server *s);

/* Requests received and not yet fully answered, deferred ones included
 * (for tests: 0 once clients are done means no per-request state was left
 * behind). */
size_t http_server_requests_in_flight(const struct http_server *s);

/* WebSocket connections accepted (on_open returned 0) and not yet closed
 * (on_close not yet called), for metrics and tests. */
size_t http_server_ws_count(const struct http_server *s);

/* Starts closing: the listening socket and every connection are closed
 * (responses not yet sent are dropped), no handler runs after this returns,
 * every deferred request not yet completed gets its on_gone (from the
 * loop, before closed), and once every uv handle lws put on the loop is
 * closed the server is freed and closed(ud) is called from the loop
 * (closed may be NULL). The caller must keep running the loop until then.
 * Safe from inside a handler or on_gone; a second call before closed has
 * run is ignored. */
void http_server_close(struct http_server *s, void (*closed)(void *ud), void *ud);

#endif
