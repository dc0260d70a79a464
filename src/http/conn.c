/* conn.c - one HTTP/1.1 connection: request in, route, response out.
 *
 * lws calls LWS_CALLBACK_HTTP with the headers parsed, then (for a body)
 * HTTP_BODY pieces and HTTP_BODY_COMPLETION. The handler runs once the
 * request is whole; the response is sent from HTTP_WRITEABLE, one lws_write
 * per callback as lws asks: the headers first, then the body in pieces,
 * the last one LWS_WRITE_HTTP_FINAL.
 *
 * A deferred request keeps its connection state (and so its place in
 * http_server_requests_in_flight) until the app completes it; if lws
 * closes the connection first (CLOSED_HTTP) or the server closes, the
 * handle is cut loose and the app told through on_gone. The handle and
 * the connection point at each other, and whichever side ends first
 * clears the other's pointer, so neither is ever used after it is freed. */
#include "http/http-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_CHUNK 8192
#define HTTP_DEFAULT_TYPE "text/plain; charset=utf-8"

/* --- connection state ----------------------------------------------------- */

/* Cuts a pending deferred handle loose and tells the app; the handle is
 * freed once on_gone returns. */
static void deferred_gone(struct http_deferred *d)
{
    d->conn = NULL;
    d->on_gone(d->gone_ud, d);
    http_response_release(&d->resp);
    free(d);
}

static struct http_deferred *conn_detach_deferred(struct http_conn *c)
{
    struct http_deferred *d = c->deferred;
    c->deferred = NULL;
    if (d)
        d->conn = NULL;
    return d;
}

static void deferred_gone(struct http_deferred *d);
static struct http_deferred *conn_detach_deferred(struct http_conn *c);

static void conn_reset(struct http_conn *c)
{
    /* Not expected (a connection takes its next request only once this
     * one is answered), but a handle must never outlive its pointee. */
    if (c->deferred)
        deferred_gone(conn_detach_deferred(c));
    free(c->path);
    free(c->query);
    free(c->content_type);
    free(c->body);
    free(c->resp);
    free(c->resp_hdrs);
    free(c->headers);
    free(c->hdr_blob);
    while (c->extra) {
        struct http_extra_hdr *e = c->extra;
        c->extra = e->next;
        free(e->name);
        free(e->value);
        free(e);
    }
    struct http_conn *prev = c->prev, *next = c->next;
    struct http_server *srv = c->srv;
    struct lws *wsi = c->wsi;
    memset(c, 0, sizeof *c);
    c->prev = prev;
    c->next = next;
    c->srv = srv;
    c->wsi = wsi;
}

/* c->deferred is detached before: the app hears of it once c is gone. */
static void conn_free(struct http_server *s, struct http_conn *c)
{
    struct http_deferred *d = conn_detach_deferred(c);
    conn_reset(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    free(c);
    if (d)
        deferred_gone(d);
}

/* Restarts from the head after each on_gone, which may complete (and so
 * detach) other handles; nothing in it can free a connection. */
void http_conns_gone_all(struct http_server *s)
{
    for (;;) {
        struct http_conn *c = s->conns;
        while (c && !c->deferred)
            c = c->next;
        if (!c)
            return;
        deferred_gone(conn_detach_deferred(c));
    }
}

void http_conns_free_all(struct http_server *s)
{
    http_conns_gone_all(s);
    struct http_conn *c = s->conns;
    while (c) {
        struct http_conn *next = c->next;
        conn_reset(c);
        free(c);
        c = next;
    }
    s->conns = NULL;
    s->n_conns = 0;
}

static struct http_conn *conn_get(struct http_server *s, struct lws *wsi, struct http_pss *pss)
{
    if (pss->conn)
        return pss->conn;
    struct http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = s;
    c->wsi = wsi;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    pss->conn = c;
    return c;
}

/* --- requests --------------------------------------------------------------- */

static const struct {
    enum lws_token_indexes tok;
    enum http_method method;
    const char *name;
} methods[] = {
    {WSI_TOKEN_GET_URI, HTTP_GET, "GET"},
    {WSI_TOKEN_HEAD_URI, HTTP_HEAD, "HEAD"},
    {WSI_TOKEN_POST_URI, HTTP_POST, "POST"},
    {WSI_TOKEN_PUT_URI, HTTP_PUT, "PUT"},
    {WSI_TOKEN_PATCH_URI, HTTP_PATCH, "PATCH"},
    {WSI_TOKEN_DELETE_URI, HTTP_DELETE, "DELETE"},
    {WSI_TOKEN_OPTIONS_URI, HTTP_OPTIONS, "OPTIONS"},
};

/* A header's whole value, malloc'd ("" when absent); NULL on ENOMEM. */
static char *header_dup(struct lws *wsi, enum lws_token_indexes tok)
{
    int n = lws_hdr_total_length(wsi, tok);
    char *v = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (!v)
        return NULL;
    v[0] = '\0';
    if (n > 0 && lws_hdr_copy(wsi, v, n + 1, tok) < 0)
        v[0] = '\0';
    return v;
}

/* lws splits the arguments at '&' and decodes each; join them back. */
static char *query_dup(struct lws *wsi)
{
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    if (total < 0)
        total = 0;
    /* Each fragment adds at most one separator. */
    size_t cap = (size_t)total * 2 + 1, len = 0;
    char *q = malloc(cap);
    if (!q)
        return NULL;
    q[0] = '\0';
    for (int i = 0; total > 0; i++) {
        int fl = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (fl <= 0 || len + (size_t)fl + 2 > cap)
            break;
        if (len)
            q[len++] = '&';
        if (lws_hdr_copy_fragment(wsi, q + len, (int)(cap - len), WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            break;
        len += (size_t)fl;
        q[len] = '\0';
    }
    return q;
}

/* The request's body framing. Returns the Content-Length (0 when none)
 * and sets *te to 1 for "chunked", 2 for any other Transfer-Encoding. */
static long long request_body_length(struct lws *wsi, int *te, int *has_clen)
{
    char v[64];
    *te = 0;
    *has_clen = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        *te = 2;
        if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
            size_t n = strlen(v);
            while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                v[--n] = '\0';
            if (strcasecmp(v, "chunked") == 0)
                *te = 1;
        }
    }
    if (*has_clen && lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
        return strtoll(v, NULL, 10);
    return 0;
}

/* Queues a response made here rather than by a handler. */
static void respond_text(struct http_conn *c, int status, const char *text)
{
    free(c->resp_hdrs);
    c->resp_hdrs = NULL;
    c->resp_hdrs_len = 0;
    free(c->resp);
    c->resp = strdup(text);
    c->resp_len = c->resp ? strlen(text) : 0;
    c->status = status;
    snprintf(c->resp_type, sizeof c->resp_type, "%s", HTTP_DEFAULT_TYPE);
    c->head = c->method == HTTP_HEAD;
    c->state = HTTP_CONN_RESPOND;
    lws_callback_on_writable(c->wsi);
}

void http_conn_respond(struct http_conn *c, struct http_response *resp)
{
    free(c->resp);
    free(c->resp_hdrs);
    c->resp = resp->body; /* the connection owns them from here */
    c->resp_len = resp->len;
    c->resp_hdrs = resp->hdrs;
    c->resp_hdrs_len = resp->hdrs_len;
    resp->body = resp->hdrs = NULL;
    http_response_release(resp);
    c->status = resp->status;
    memcpy(c->resp_type, resp->content_type, sizeof c->resp_type);
    c->head = c->method == HTTP_HEAD;
    c->state = HTTP_CONN_RESPOND;
    lws_callback_on_writable(c->wsi);
}

static int response_ok(const struct http_response *r)
{
    return !r->err && r->status >= 100 && r->status <= 599;
}

static void dispatch(struct http_conn *c)
{
    struct http_request req = {
        .method = c->method,
        .method_name = c->method_name,
        .path = c->path,
        .query = c->query,
        .content_type = c->content_type,
        .body = c->body ? c->body : "",
        .body_len = c->body_len,
        .headers = c->headers,
        .n_headers = c->n_headers,
        .conn = c,
    };
    struct http_response resp = {.status = 200, .content_type = HTTP_DEFAULT_TYPE, .conn = c};

    int rc = c->route->handler(c->srv->ud, &req, &resp);
    if (resp.defer) {
        http_response_release(&resp);
        if (!c->deferred)
            return; /* completed from inside the handler (one per request) */
        if (rc < 0) {
            deferred_gone(conn_detach_deferred(c));
            respond_text(c, 500, "internal error\n");
            return;
        }
        c->state = HTTP_CONN_DEFERRED;
        /* lws re-arms its body timeout after each HTTP_BODY callback while
         * it still expects body (always, for a chunked one): clear it
         * from the next writeable callback, which comes after. */
        lws_callback_on_writable(c->wsi);
        return;
    }
    if (rc < 0 || !response_ok(&resp)) {
        http_response_release(&resp);
        respond_text(c, 500, "internal error\n");
        return;
    }
    http_conn_respond(c, &resp);
}

/* --- deferred answers ----------------------------------------------------------- */

struct http_deferred *http_response_defer(struct http_response *resp, http_gone_fn on_gone,
                                          void *gone_ud)
{
    if (!resp || !resp->conn || resp->defer || !on_gone)
        return NULL;
    struct http_conn *c = resp->conn;
    if (c->deferred)
        return NULL;
    struct http_deferred *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->conn = c;
    d->on_gone = on_gone;
    d->gone_ud = gone_ud;
    d->resp.status = 200;
    snprintf(d->resp.content_type, sizeof d->resp.content_type, "%s", HTTP_DEFAULT_TYPE);
    c->deferred = d;
    resp->defer = d;
    return d;
}

struct http_response *http_deferred_response(struct http_deferred *d)
{
    return &d->resp;
}

int http_deferred_complete(struct http_deferred *d)
{
    if (!d || !d->conn)
        return -EINVAL; /* from inside on_gone: freed when it returns */
    struct http_conn *c = d->conn;
    conn_detach_deferred(c);
    int err = 0;
    if (c->srv->state != HTTP_SRV_OPEN) {
        /* Closing: the connection goes without an answer, as any other. */
    } else if (response_ok(&d->resp)) {
        http_conn_respond(c, &d->resp);
    } else {
        err = d->resp.err ? d->resp.err : -EINVAL;
        respond_text(c, 500, "internal error\n");
    }
    http_response_release(&d->resp);
    free(d);
    return err;
}

static const struct http_route *find_route(const struct http_server *s, const char *path)
{
    for (size_t i = 0; i < s->n_routes; i++)
        if (s->routes[i].flags & HTTP_ROUTE_PREFIX
                ? strncmp(s->routes[i].path, path, strlen(s->routes[i].path)) == 0
                : strcmp(s->routes[i].path, path) == 0)
            return &s->routes[i];
    return NULL;
}

static unsigned route_methods(const struct http_route *r)
{
    unsigned m = r->methods ? r->methods : HTTP_GET;
    return (m & HTTP_GET) ? m | HTTP_HEAD : m;
}

static void allow_header(char *out, size_t n, unsigned m)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof methods / sizeof methods[0] && len < n; i++)
        if (m & methods[i].method)
            len += (size_t)snprintf(out + len, n - len, "%s%s", len ? ", " : "", methods[i].name);
}

/* Copies the request line and headers lws parsed into c (reset). path
 * NULL: the request line's own. -1 on ENOMEM or a method not in methods[]. */
static int conn_fill(struct http_conn *c, struct lws *wsi, const char *path)
{
    enum lws_token_indexes tok = WSI_TOKEN_GET_URI;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0] && !c->method; i++) {
        if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
            c->method = methods[i].method;
            c->method_name = methods[i].name;
            tok = methods[i].tok;
        }
    }
    c->path = path ? strdup(path) : header_dup(wsi, tok);
    c->query = query_dup(wsi);
    c->content_type = header_dup(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
    if (!c->method || !c->path || !c->query || !c->content_type)
        return -1;
    return http_headers_capture(c, wsi) < 0 ? -1 : 0;
}

struct http_conn *http_conn_upgrade_begin(struct http_server *s, struct lws *wsi,
                                          struct http_pss *pss)
{
    /* Not expected: lws rebinds the protocol (HTTP_DROP_PROTOCOL) after
     * each answer, and a connection upgrades only between requests. */
    if (pss && pss->conn) {
        conn_free(s, pss->conn);
        pss->conn = NULL;
    }
    struct http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = s;
    c->wsi = wsi;
    if (conn_fill(c, wsi, NULL) < 0) {
        http_conn_upgrade_end(c);
        return NULL;
    }
    return c;
}

void http_conn_upgrade_end(struct http_conn *c)
{
    conn_reset(c);
    free(c);
}

static int on_request(struct http_server *s, struct lws *wsi, struct http_pss *pss,
                      const char *path)
{
    if (s->state != HTTP_SRV_OPEN)
        return -1;
    struct http_conn *c = conn_get(s, wsi, pss);
    if (!c)
        return -1;
    conn_reset(c);
    if (conn_fill(c, wsi, path ? path : "/") < 0)
        return -1;

    int te, has_clen;
    long long clen = request_body_length(wsi, &te, &has_clen);
    int has_body = clen > 0 || te;
    /* Answered before the body is read: the body's bytes would be taken
     * for the next request, so such connections close after the answer. */
    c->close_after = has_body;
    if (te && has_clen) {
        /* Both is how requests get smuggled past a proxy (RFC 9112 6.3). */
        respond_text(c, 400, "both content-length and transfer-encoding\n");
        return 0;
    }
    if (te == 2) {
        respond_text(c, 501, "transfer-encoding not implemented\n");
        return 0;
    }
    c->route = find_route(s, c->path);
    if (!c->route && http_ws_find_route(s, c->path)) {
        /* A WebSocket endpoint asked for without the upgrade (RFC 9110
         * 15.5.22: say which protocol to upgrade to). */
        respond_text(c, 426, "upgrade required: this is a websocket endpoint\n");
        static const char upgrade[] = "upgrade: websocket\r\nconnection: upgrade\r\n";
        c->resp_hdrs = strdup(upgrade);
        c->resp_hdrs_len = c->resp_hdrs ? sizeof upgrade - 1 : 0;
        return 0;
    }
    if (!c->route) {
        respond_text(c, 404, "not found\n");
        return 0;
    }
    unsigned allowed = route_methods(c->route);
    if (!(allowed & c->method)) {
        allow_header(c->allow, sizeof c->allow, allowed);
        respond_text(c, 405, "method not allowed\n");
        return 0;
    }
    if (te && !(c->method & (HTTP_POST | HTTP_PUT | HTTP_PATCH))) {
        /* lws reads a body without a length for these methods only. */
        respond_text(c, 411, "length required\n");
        return 0;
    }
    if (te) {
        /* lws takes everything after the headers for body (up to 100
         * MiB): the connection cannot carry another request. */
        c->chunked = 1;
        http_chunked_init(&c->dec, s->max_body);
        c->state = HTTP_CONN_BODY;
        return 0;
    }
    if (clen < 0) {
        c->close_after = 1; /* whatever follows is not a request either */
        respond_text(c, 400, "bad content-length\n");
        return 0;
    }
    if ((unsigned long long)clen > s->max_body) {
        respond_text(c, 413, "payload too large\n");
        return 0;
    }
    if (has_body) {
        c->close_after = 0;
        c->state = HTTP_CONN_BODY;
        return 0;
    }
    dispatch(c);
    return 0;
}

static int body_emit(void *ud, const char *data, size_t len)
{
    struct http_conn *c = ud;
    return http_buf_append(&c->body, &c->body_len, &c->body_cap, 4096, data, len);
}

static int on_chunked_body(struct http_conn *c, const char *in, size_t len)
{
    size_t used;
    int rc = http_chunked_feed(&c->dec, in, len, &used, body_emit, c);
    switch (rc) {
    case 0:
        return 0;
    case 1:
        /* Bytes after the body (used < len) are not read: the connection
         * closes after the answer. */
        if (c->srv->state != HTTP_SRV_OPEN)
            return -1;
        dispatch(c);
        return 0;
    case -EMSGSIZE:
        respond_text(c, 413, "payload too large\n");
        return 0;
    case -ENOMEM:
        return -1;
    default:
        respond_text(c, 400, "malformed chunked body\n");
        return 0;
    }
}

static int on_body(struct http_conn *c, const char *in, size_t len)
{
    if (!c || c->state != HTTP_CONN_BODY)
        return 0; /* a body we already answered: drop it */
    if (c->chunked)
        return on_chunked_body(c, in, len);
    if (len > c->srv->max_body - c->body_len) {
        /* Not expected (lws stops at Content-Length, checked already). */
        c->close_after = 1;
        respond_text(c, 413, "payload too large\n");
        return 0;
    }
    return body_emit(c, in, len) < 0 ? -1 : 0;
}

/* --- responses out ------------------------------------------------------------- */

static int finish(struct lws *wsi, struct http_conn *c)
{
    int close_now = c->close_after;
    conn_reset(c);
    if (close_now)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Adds the app's "name: value\r\n" lines (checked when they were set). */
static int add_app_headers(struct lws *wsi, const struct http_conn *c, unsigned char **p,
                           unsigned char *end)
{
    if (!c->resp_hdrs)
        return 0;
    const char *h = c->resp_hdrs, *stop = c->resp_hdrs + c->resp_hdrs_len;
    char name[HTTP_MAX_RESPONSE_HEADERS];
    while (h < stop) {
        const char *colon = strchr(h, ':'), *eol = strstr(h, "\r\n");
        if (!colon || !eol || colon > eol || (size_t)(colon - h) + 2 > sizeof name)
            return -1;
        size_t nl = (size_t)(colon - h) + 1; /* lws wants the ':' */
        memcpy(name, h, nl);
        name[nl] = '\0';
        const char *v = colon + 2;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)v,
                                        (int)(eol - v), p, end))
            return -1;
        h = eol + 2;
    }
    return 0;
}

static int send_headers(struct lws *wsi, struct http_conn *c)
{
    /* Room for lws's own headers and every app header there can be. */
    unsigned char buf[LWS_PRE + 1024 + HTTP_MAX_RESPONSE_HEADERS];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)c->status, c->resp_type, c->resp_len, &p, end))
        return -1;
    if (c->allow[0] && lws_add_http_header_by_name(
                           wsi, (const unsigned char *)"allow:", (const unsigned char *)c->allow,
                           (int)strlen(c->allow), &p, end))
        return -1;
    if (c->close_after && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                                       (const unsigned char *)"close", 5, &p, end))
        return -1;
    if (add_app_headers(wsi, c, &p, end) < 0)
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    c->headers_sent = 1;
    return 0;
}

static int on_writeable(struct lws *wsi, struct http_conn *c)
{
    if (c && c->state == HTTP_CONN_DEFERRED) {
        /* See dispatch: the app, not lws, bounds the wait now. */
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        return 0;
    }
    if (!c || c->state != HTTP_CONN_RESPOND)
        return 0;
    if (c->chunked)
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0); /* as above, for a slow reader */
    if (!c->headers_sent) {
        if (send_headers(wsi, c) < 0)
            return -1;
        if (c->head || c->resp_len == 0)
            return finish(wsi, c);
        lws_callback_on_writable(wsi);
        return 0;
    }
    /* lws_write may use LWS_PRE bytes in front of the data. */
    unsigned char buf[LWS_PRE + HTTP_CHUNK];
    size_t n = c->resp_len - c->sent;
    if (n > HTTP_CHUNK)
        n = HTTP_CHUNK;
    int last = c->sent + n == c->resp_len;
    memcpy(buf + LWS_PRE, c->resp + c->sent, n);
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    c->sent += n;
    if (last)
        return finish(wsi, c);
    lws_callback_on_writable(wsi);
    return 0;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    struct lws_context *cx = lws_get_context(wsi);
    struct http_server *s = cx ? lws_context_user(cx) : NULL;
    if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS) {
        /* user is the vhost's SSL_CTX here, not a session. */
        if (s)
            http_tls_set_ctx(s, user);
        return 0;
    }
    struct http_pss *pss = user;
    struct http_conn *c = pss ? pss->conn : NULL;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return s && pss ? on_request(s, wsi, pss, in) : -1;
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(c, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        /* No handler runs once http_server_close was called. */
        if (!s || s->state != HTTP_SRV_OPEN)
            return -1;
        if (c && c->state == HTTP_CONN_BODY && c->chunked)
            respond_text(c, 413, "payload too large\n"); /* lws's 100 MiB */
        else if (c && c->state == HTTP_CONN_BODY)
            dispatch(c);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writeable(wsi, c);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        /* pss is NULL here on a connection's first request: lws 4.1
         * allocates the session data when it binds the protocol later. */
        return s ? http_ws_upgrade(s, wsi, pss, in) : -1;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        /* Every protocol of the vhost has this callback: the WebSocket
         * ones differ only by name (see ws.c). */
        if (!s)
            return reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION ? -1 : 0;
        return http_ws_callback(s, wsi, reason, in, len);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c && s) {
            conn_free(s, c);
            pss->conn = NULL;
        }
        return 0;
    default:
        return 0;
    }
}

const struct lws_protocols http_protocols[] = {
    {"http", http_callback, sizeof(struct http_pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};
