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
    HTTP_CONN_RESPOND,  /* a response is ready or being sent */
};

struct http_server;

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
    /* the response */
    int status;
    char resp_type[sizeof(((struct http_response *)0)->content_type)];
    char allow[64]; /* Allow header for 405, "" otherwise */
    char *resp;
    size_t resp_len, sent;
    unsigned head : 1;        /* HEAD: headers only */
    unsigned close_after : 1; /* unread request bytes: close once sent */
    unsigned headers_sent : 1;
};

struct http_pss {
    struct http_conn *conn;
};

struct http_server {
    uv_loop_t *loop;
    uv_idle_t idle;          /* drives the close; its close callback frees the server */
    struct lws_context *ctx; /* NULLed by lws (info.pcontext) once freed */
    struct lws_vhost *vh;
    struct http_route *routes;
    size_t n_routes;
    void *ud;
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
};

/* conn.c */
extern const struct lws_protocols http_protocols[];
/* Frees every connection state left (after the context is gone). */
void http_conns_free_all(struct http_server *s);

#endif
