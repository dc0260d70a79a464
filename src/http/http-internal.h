/* Shared between server.c (lifecycle) and conn.c (requests). */
#ifndef RB_HTTP_INTERNAL_H
#define RB_HTTP_INTERNAL_H

#include <libwebsockets.h>

#include "http/http.h"

/* Static uv handles lws adds to the loop when the context is created; at
 * most a few (idle, timer, signals for an internal loop). */
#define HTTP_MAX_LWS_HANDLES 8

enum http_srv_state {
    HTTP_SRV_OPEN = 0,
    HTTP_SRV_CLOSE_REQUESTED, /* the idle tick will start lws's destroy */
    HTTP_SRV_DRAINING,        /* waiting for lws's uv handles to finish closing */
};

enum http_conn_state {
    HTTP_CONN_IDLE = 0, /* between requests */
    HTTP_CONN_BODY,     /* reading a request body */
    HTTP_CONN_DEFERRED, /* the handler deferred; waiting for the app */
    HTTP_CONN_RESPOND,  /* a response is ready or being sent */
};

struct http_server;
struct http_conn;

/* --- chunked.c: Transfer-Encoding: chunked, decoded (RFC 9112 7.1) ---- */

/* Strict: CRLF line ends only, hex sizes, extensions and trailers skipped
 * but bounded, so a peer cannot make it buffer or loop without bound. */
struct http_chunked {
    int state;
    uint64_t left;  /* bytes of the current chunk still to come */
    size_t total;   /* decoded so far */
    size_t limit;   /* decoded bytes allowed */
    size_t line;    /* bytes of the current size/extension/trailer line */
    size_t trailer; /* trailer bytes so far */
    unsigned digits;
};

/* Called with each piece of decoded data; returns 0 or a negative errno. */
typedef int (*http_chunked_emit)(void *ud, const char *data, size_t len);

void http_chunked_init(struct http_chunked *d, size_t limit);
/* Decodes in[0..len). Returns 1 once the body has ended (*used tells how
 * many bytes of in it took; the rest is not body), 0 when it wants more,
 * -EINVAL for a malformed body, -EMSGSIZE when the decoded body would pass
 * the limit, or emit's error. After a negative return it stays failed. */
int http_chunked_feed(struct http_chunked *d, const char *in, size_t len, size_t *used,
                      http_chunked_emit emit, void *ud);

/* --- headers.c ----------------------------------------------------------- */

/* Copies the request headers lws parsed into c (c->headers, c->hdr_blob). */
int http_headers_capture(struct http_conn *c, struct lws *wsi);
/* Appends len bytes to a NUL-terminated buffer, growing it from
 * first_cap by doubling (response.c). */
int http_buf_append(char **buf, size_t *used, size_t *cap, size_t first_cap, const void *data,
                    size_t len);

/* One request's state, from LWS_CALLBACK_HTTP until the answer is sent.
 * lws owns the per-session memory (struct http_pss): it binds a fresh one
 * for every transaction on a kept-alive connection (HTTP_BIND_PROTOCOL /
 * HTTP_DROP_PROTOCOL) and may free it without a callback when the context
 * dies. So the state lives here, owned by the server's list, freed on
 * HTTP_DROP_PROTOCOL or CLOSED_HTTP, and at the latest when the server
 * goes; the pss only points at it. */
struct http_conn {
    struct http_conn *prev, *next;
    struct http_server *srv;
    struct lws *wsi;
    enum http_conn_state state;
    const struct http_route *route;
    enum http_method method;
    const char *method_name;
    char *path, *query, *content_type; /* malloc'd, per request */
    char *body;                        /* request body, NUL-terminated */
    size_t body_len, body_cap;
    struct http_header *headers; /* malloc'd; names and values in hdr_blob */
    size_t n_headers;
    char *hdr_blob;
    struct http_extra_hdr *extra; /* looked up on demand by a handler */
    unsigned chunked : 1;         /* the body is being decoded by dec */
    struct http_chunked dec;
    struct http_deferred *deferred; /* the app holds it; NULL when none */
    /* the response */
    int status;
    char resp_type[sizeof(((struct http_response *)0)->content_type)];
    char allow[64]; /* Allow header for 405, "" otherwise */
    char *resp;
    size_t resp_len, sent;
    char *resp_hdrs; /* from http_response_set_header: "name: value\r\n"... */
    size_t resp_hdrs_len;
    unsigned head : 1;        /* HEAD: headers only */
    unsigned close_after : 1; /* unread request bytes: close once sent */
    unsigned headers_sent : 1;
};

/* A header a handler asked for that was not captured (a custom one the
 * server was not told about): looked up in lws's table while it exists. */
struct http_extra_hdr {
    struct http_extra_hdr *next;
    char *name, *value;
};

/* A deferred answer. The app holds the pointer; conn->deferred points
 * back until it is completed or gone, whichever comes first frees it. */
struct http_deferred {
    struct http_conn *conn;
    http_gone_fn on_gone;
    void *gone_ud;
    struct http_response resp; /* what the app fills */
};

struct http_pss {
    struct http_conn *conn;
};

/* --- ws.c: WebSocket connections ------------------------------------------- */

enum http_ws_state {
    HTTP_WS_PENDING = 0, /* on_open accepted; lws is finishing the handshake */
    HTTP_WS_OPEN,        /* lws said ESTABLISHED */
    HTTP_WS_GONE,        /* on_close is running */
};

/* One queued message: LWS_PRE bytes of headroom, then the text. Frames
 * are written from inside it (see ws.c), so it is never copied again. */
struct http_ws_msg {
    struct http_ws_msg *next;
    size_t len, off; /* text bytes; bytes handed to lws so far */
    unsigned char buf[];
};

/* Lives from the upgrade check (CONFIRM_UPGRADE) to on_close; the wsi
 * points back at it through lws's opaque user data, which survives the
 * protocol change the upgrade makes (the per-session data does not). */
struct http_ws {
    struct http_ws *prev, *next; /* the server's list, once accepted */
    struct http_server *srv;
    const struct http_ws_route *route;
    const struct lws_protocols *pcol; /* the one lws must bind (checked) */
    struct lws *wsi;                  /* NULL once detached */
    enum http_ws_state state;
    void *data; /* the app's */
    struct http_ws_msg *head, *tail;
    size_t queued; /* text bytes not yet handed to lws */
    char *rx;      /* the incoming message so far, NUL-terminated */
    size_t rx_len, rx_cap;
    int close_code;
    unsigned char close_reason[123];
    size_t close_reason_len;
    unsigned close_req : 1;   /* http_ws_close was called */
    unsigned close_sent : 1;  /* a close is in lws's hands (ours or a failure's) */
    unsigned peer_closed : 1; /* the peer sent its close; lws answers it */
};

struct http_server {
    uv_loop_t *loop;
    uv_idle_t idle;          /* drives the close; its close callback frees the server */
    struct lws_context *ctx; /* NULLed by lws (info.pcontext) once freed */
    struct lws_vhost *vh;
    struct http_route *routes;
    size_t n_routes;
    void *ud;
    size_t max_body;
    char **capture; /* custom header names to capture, "name:" lower case */
    size_t n_capture;
    struct http_tls *tls; /* NULL: plain HTTP */
    int port;
    enum http_srv_state state;
    void (*closed)(void *ud);
    void *closed_ud;
    uint64_t close_started_ms;
    int slow_close_logged;
    uv_handle_t *lws_handles[HTTP_MAX_LWS_HANDLES];
    size_t n_lws_handles;
    struct http_conn *conns; /* requests in progress */
    size_t n_conns;
    /* WebSockets (ws.c) */
    struct http_ws_route *ws_routes;
    size_t n_ws_routes;
    size_t ws_max_message, ws_max_queue;
    struct lws_protocols *protocols; /* the vhost's: "http", one per subprotocol, {0} */
    lws_retry_bo_t ws_retry;         /* the vhost keeps a pointer to it */
    struct http_ws *ws_list;         /* accepted, not yet closed */
    size_t n_ws;
};

/* tls.c */
struct http_tls;
/* Checks the pair in o (-ENOENT, -EIO: it does not load or match) and
 * starts watching the files; sets s->tls. */
int http_tls_new(struct http_server *s, const struct http_server_opts *o);
/* Makes the vhost serve TLS with the pair (nothing for a plain server). */
void http_tls_vhost_info(const struct http_server *s, struct lws_context_creation_info *info);
/* The vhost's SSL_CTX, as lws hands it over while creating the vhost. */
void http_tls_set_ctx(struct http_server *s, void *ssl_ctx);
/* Stops watching (the timer frees its state once closed); idempotent. */
void http_tls_free(struct http_server *s);

/* ws.c */
/* Checks and copies the ws routes and options, and builds s->protocols
 * (every server has one: "http" alone when it has no ws routes). 0,
 * -EINVAL or -ENOMEM; what it allocated is freed by http_ws_free_setup. */
int http_ws_setup(struct http_server *s, const struct http_server_opts *o);
void http_ws_free_setup(struct http_server *s);
/* The vhost's protocols and, with ws routes, its idle (ping) policy. */
void http_ws_vhost_info(const struct http_server *s, struct lws_context_creation_info *info);
/* The ws route taking path, or NULL. */
const struct http_ws_route *http_ws_find_route(const struct http_server *s, const char *path);
/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: returns what the callback returns. */
int http_ws_upgrade(struct http_server *s, struct lws *wsi, struct http_pss *pss, const char *up);
/* The callbacks of an upgraded connection (and WSI_DESTROY, for every wsi). */
int http_ws_callback(struct http_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                     void *in, size_t len);
/* Closes every WebSocket: a close frame first when say_bye (the wsi
 * still exist), then on_close; the server is closing. */
void http_ws_close_all(struct http_server *s, int say_bye);

/* conn.c */
extern const struct lws_protocols http_protocols[];
/* An upgrade request's line and headers, in a state of its own (not on
 * the server's list, so not in flight) for on_open's http_request; any
 * state pss still had from an earlier request is dropped. NULL: ENOMEM. */
struct http_conn *http_conn_upgrade_begin(struct http_server *s, struct lws *wsi,
                                          struct http_pss *pss);
void http_conn_upgrade_end(struct http_conn *c);
/* Calls on_gone for every deferred request not completed yet (when the
 * server starts closing). */
void http_conns_gone_all(struct http_server *s);
/* Frees every connection state left (after the context is gone). */
void http_conns_free_all(struct http_server *s);
/* Puts resp (its body and headers moved out of it) on c as its answer. */
void http_conn_respond(struct http_conn *c, struct http_response *resp);
/* Frees what a response holds. */
void http_response_release(struct http_response *r);

#endif
