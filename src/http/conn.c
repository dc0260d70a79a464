/* conn.c - one HTTP/1.1 connection: request in, route, response out.
 *
 * lws calls LWS_CALLBACK_HTTP with the headers parsed, then (for a body)
 * HTTP_BODY pieces and HTTP_BODY_COMPLETION. The handler runs once the
 * request is whole; the response is sent from HTTP_WRITEABLE, one lws_write
 * per callback as lws asks: the headers first, then the body in pieces,
 * the last one LWS_WRITE_HTTP_FINAL. */
#include "http/http-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_CHUNK 8192
#define HTTP_DEFAULT_TYPE "text/plain; charset=utf-8"

/* --- responses -------------------------------------------------------------- */

int http_response_set_type(struct http_response *r, const char *type)
{
    if (!type || strlen(type) >= sizeof r->content_type)
        return -EINVAL;
    memcpy(r->content_type, type, strlen(type) + 1);
    return 0;
}

/* Appends len bytes to a NUL-terminated buffer (a response's or a
 * request's body), doubling its capacity from first_cap as needed. The
 * callers bound len, so the doubling cannot overflow. */
static int buf_append(char **buf, size_t *used, size_t *cap, size_t first_cap, const void *data,
                      size_t len)
{
    if (*used + len + 1 > *cap) {
        size_t n = *cap ? *cap : first_cap;
        while (n < *used + len + 1)
            n *= 2;
        char *p = realloc(*buf, n);
        if (!p)
            return -ENOMEM;
        *buf = p;
        *cap = n;
    }
    memcpy(*buf + *used, data, len);
    *used += len;
    (*buf)[*used] = '\0';
    return 0;
}

int http_response_append(struct http_response *r, const void *data, size_t len)
{
    if (r->err)
        return r->err;
    if (len > (size_t)HTTP_MAX_BODY * 64 || r->len + len + 1 > SIZE_MAX / 2) {
        r->err = -ENOMEM;
        return r->err;
    }
    int rc = buf_append(&r->body, &r->len, &r->cap, 1024, data, len);
    if (rc < 0)
        r->err = rc;
    return rc;
}

int http_response_printf(struct http_response *r, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return r->err ? r->err : (r->err = -EINVAL);
    if ((size_t)n < sizeof small)
        return http_response_append(r, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return r->err ? r->err : (r->err = -ENOMEM);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = http_response_append(r, big, (size_t)n);
    free(big);
    return rc;
}

/* --- connection state ----------------------------------------------------- */

static void conn_reset(struct http_conn *c)
{
    free(c->path);
    free(c->query);
    free(c->content_type);
    free(c->body);
    free(c->resp);
    struct http_conn *prev = c->prev, *next = c->next;
    struct http_server *srv = c->srv;
    struct lws *wsi = c->wsi;
    memset(c, 0, sizeof *c);
    c->prev = prev;
    c->next = next;
    c->srv = srv;
    c->wsi = wsi;
}

static void conn_free(struct http_server *s, struct http_conn *c)
{
    conn_reset(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    free(c);
}

void http_conns_free_all(struct http_server *s)
{
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

/* The request carries a body lws will deliver (or that is left unread). */
static long long request_body_length(struct lws *wsi, int *chunked)
{
    char v[32];
    *chunked = 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
        *chunked = 1;
    if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
        return strtoll(v, NULL, 10);
    return 0;
}

/* Queues a response made here rather than by a handler. */
static void respond_text(struct http_conn *c, int status, const char *text)
{
    free(c->resp);
    c->resp = strdup(text);
    c->resp_len = c->resp ? strlen(text) : 0;
    c->status = status;
    snprintf(c->resp_type, sizeof c->resp_type, "%s", HTTP_DEFAULT_TYPE);
    c->head = c->method == HTTP_HEAD;
    c->state = HTTP_CONN_RESPOND;
    lws_callback_on_writable(c->wsi);
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
    };
    struct http_response resp = {.status = 200, .content_type = HTTP_DEFAULT_TYPE};

    int rc = c->route->handler(c->srv->ud, &req, &resp);
    if (rc < 0 || resp.err || resp.status < 100 || resp.status > 599) {
        free(resp.body);
        respond_text(c, 500, "internal error\n");
        return;
    }
    free(c->resp);
    c->resp = resp.body; /* the connection owns it from here */
    c->resp_len = resp.len;
    c->status = resp.status;
    memcpy(c->resp_type, resp.content_type, sizeof c->resp_type);
    c->head = c->method == HTTP_HEAD;
    c->state = HTTP_CONN_RESPOND;
    lws_callback_on_writable(c->wsi);
}

static const struct http_route *find_route(const struct http_server *s, const char *path)
{
    for (size_t i = 0; i < s->n_routes; i++)
        if (strcmp(s->routes[i].path, path) == 0)
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

static int on_request(struct http_server *s, struct lws *wsi, struct http_pss *pss,
                      const char *path)
{
    if (s->state != HTTP_SRV_OPEN)
        return -1;
    struct http_conn *c = conn_get(s, wsi, pss);
    if (!c)
        return -1;
    conn_reset(c);
    for (size_t i = 0; i < sizeof methods / sizeof methods[0] && !c->method; i++) {
        if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
            c->method = methods[i].method;
            c->method_name = methods[i].name;
        }
    }
    c->path = strdup(path ? path : "/");
    c->query = query_dup(wsi);
    c->content_type = header_dup(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
    if (!c->method || !c->path || !c->query || !c->content_type)
        return -1;

    int chunked;
    long long clen = request_body_length(wsi, &chunked);
    int has_body = clen > 0 || chunked;
    /* Answered before the body is read: the body's bytes would be taken
     * for the next request, so such connections close after the answer. */
    c->close_after = has_body;
    c->route = find_route(s, c->path);
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
    if (chunked) {
        /* lws 4.1 reads request bodies by Content-Length only (and both
         * headers at once is how requests get smuggled). */
        c->close_after = 1;
        respond_text(c, 411, "length required\n");
        return 0;
    }
    if (clen > (long long)HTTP_MAX_BODY) {
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

static int on_body(struct http_conn *c, const char *in, size_t len)
{
    if (!c || c->state != HTTP_CONN_BODY)
        return 0; /* a body we already answered: drop it */
    if (c->body_len + len > (size_t)HTTP_MAX_BODY) {
        /* Not expected (lws stops at Content-Length, checked already). */
        c->close_after = 1;
        respond_text(c, 413, "payload too large\n");
        return 0;
    }
    return buf_append(&c->body, &c->body_len, &c->body_cap, 4096, in, len) < 0 ? -1 : 0;
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

static int send_headers(struct lws *wsi, struct http_conn *c)
{
    unsigned char buf[LWS_PRE + 1024];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)c->status, c->resp_type, c->resp_len, &p, end))
        return -1;
    if (c->allow[0] && lws_add_http_header_by_name(
                           wsi, (const unsigned char *)"allow:", (const unsigned char *)c->allow,
                           (int)strlen(c->allow), &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    c->headers_sent = 1;
    return 0;
}

static int on_writeable(struct lws *wsi, struct http_conn *c)
{
    if (!c || c->state != HTTP_CONN_RESPOND)
        return 0;
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
    struct http_pss *pss = user;
    struct lws_context *cx = lws_get_context(wsi);
    struct http_server *s = cx ? lws_context_user(cx) : NULL;
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
        if (c && c->state == HTTP_CONN_BODY)
            dispatch(c);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writeable(wsi, c);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return -1; /* no websockets here */
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
