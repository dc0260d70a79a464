/* ws.c - WebSocket routes: the upgrade, messages in and out, the close.
 *
 * lws 4.1 does the handshake and the framing; this file decides who may
 * upgrade, joins and bounds what comes in, paces what goes out, and makes
 * sure the app hears of each connection's end exactly once.
 *
 * The upgrade. lws calls HTTP_CONFIRM_UPGRADE with the headers parsed,
 * then picks the protocol itself: the first name in the client's
 * Sec-WebSocket-Protocol list that is a protocol of the vhost (or the
 * vhost's first protocol, "http", when the client sends none), answers
 * the handshake with that name, and drops the connection without an
 * answer when anything is wrong. So the vhost has one lws protocol per
 * subprotocol the routes name, and the upgrade check runs the same
 * selection (lws's own tokenizer and lookup) to refuse, with an HTTP
 * status and before on_open, what lws would drop or bind to another
 * route's protocol; FILTER_PROTOCOL_CONNECTION then confirms lws chose
 * what was predicted. Every protocol has the one callback in conn.c.
 *
 * The connection's state. lws replaces the per-session data when it binds
 * the upgraded connection to its protocol, and may free it without a
 * callback when the context dies; the wsi's opaque user data stays. So a
 * struct http_ws is found through lws_get_opaque_user_data, lives on the
 * server's list, and goes at CLOSED or, for a connection lws dropped
 * between on_open and ESTABLISHED (no CLOSED then), at WSI_DESTROY, which
 * lws sends to the vhost's first protocol for every wsi it frees.
 *
 * Sending. lws_write in 4.1 hands at most the protocol's tx_packet_size
 * (else its 4 KiB service buffer) to one send() and copies whatever the
 * socket did not take into a buffer of its own, sending it before any
 * further WRITEABLE callback. A large message written whole would be
 * copied once more and trickle out 4 KiB per loop iteration. So a message
 * goes out as fragments of at most that size, one per WRITEABLE callback:
 * lws then holds at most one fragment, control frames (pings, the close)
 * can go between fragments, and http_ws_queued counts what is really
 * waiting. lws writes each frame header into the LWS_PRE bytes before the
 * payload pointer, which for a later fragment are the tail of the one
 * before: already sent, or copied by lws.
 *
 * Closing. A close of ours (http_ws_close, a message refused, the server
 * closing) is a frame this file writes; lws then only waits for the peer's
 * answer (send_close says why not lws's own way). A close the peer starts
 * lws answers by itself. */
#include "http/http-internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Frame payload on a named protocol: its tx_packet_size, so a frame goes
 * to one send(). */
#define HTTP_WS_FRAG 16384
/* On the "http" protocol (a route without subprotocol): lws's service
 * buffer, pt_serv_buf_size, left at its 4096 default. */
#define HTTP_WS_FRAG_DEFAULT 4096
/* An incoming message buffer larger than this is freed once delivered. */
#define HTTP_WS_RX_KEEP 16384
#define HTTP_WS_PING_S 30
#define HTTP_WS_MAX_PING_S 32767
/* Bounds on the limits, so that sizes computed from them cannot wrap. */
#define HTTP_WS_MAX_LIMIT ((size_t)1 << 30)
/* RFC 6455 5.5: a control frame's payload is at most 125 bytes, 2 of them
 * the close code. */
#define HTTP_WS_MAX_REASON 123
/* What lws_process_ws_upgrade tokenizes Sec-WebSocket-Protocol with. */
#define HTTP_WS_PROTOCOL_TOKENS                                                                    \
    (LWS_TOKENIZE_F_COMMA_SEP_LIST | LWS_TOKENIZE_F_MINUS_NONTERM | LWS_TOKENIZE_F_DOT_NONTERM |   \
     LWS_TOKENIZE_F_RFC7230_DELIMS)
#define HTTP_WS_TEXT_TYPE "text/plain; charset=utf-8"

/* --- setup ------------------------------------------------------------------ */

/* lws matches each offered name as one token of its tokenizer, copied to
 * a 64-byte buffer: a name it would split, take for a number, or find too
 * long could never be chosen. "http" is the HTTP side's protocol. */
static int subprotocol_ok(const char *name)
{
    struct lws_tokenize ts;
    char tok[64];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof tok || strcmp(name, "http") == 0)
        return 0;
    lws_tokenize_init(&ts, name, HTTP_WS_PROTOCOL_TOKENS);
    ts.len = n;
    if (lws_tokenize(&ts) != LWS_TOKZE_TOKEN || lws_tokenize_cstr(&ts, tok, sizeof tok) ||
        strcmp(tok, name) != 0)
        return 0;
    return lws_tokenize(&ts) == LWS_TOKZE_ENDED;
}

static int check_ws_routes(const struct http_ws_route *r, size_t n)
{
    if (n && !r)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!r[i].path || r[i].path[0] != '/' || !r[i].on_open || !r[i].on_message ||
            !r[i].on_close)
            return -EINVAL;
        if (r[i].subprotocol && !subprotocol_ok(r[i].subprotocol))
            return -EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(r[i].path, r[j].path) == 0)
                return -EINVAL;
    }
    return 0;
}

/* "http" (conn.c's, every server's first: lws's default for HTTP and for
 * an upgrade offering no subprotocol), then each subprotocol once. */
static int build_protocols(struct http_server *s)
{
    size_t n = 1;
    for (size_t i = 0; i < s->n_ws_routes; i++) {
        const char *name = s->ws_routes[i].subprotocol;
        int seen = 0;
        for (size_t j = 0; name && j < i; j++)
            seen |= s->ws_routes[j].subprotocol && strcmp(s->ws_routes[j].subprotocol, name) == 0;
        n += name && !seen;
    }
    s->protocols = calloc(n + 1, sizeof *s->protocols);
    if (!s->protocols)
        return -ENOMEM;
    s->protocols[0] = http_protocols[0];
    size_t k = 1;
    for (size_t i = 0; i < s->n_ws_routes; i++) {
        const char *name = s->ws_routes[i].subprotocol;
        int seen = 0;
        for (size_t j = 1; name && j < k; j++)
            seen |= strcmp(s->protocols[j].name, name) == 0;
        if (!name || seen)
            continue;
        s->protocols[k] = http_protocols[0];
        s->protocols[k].name = name;
        s->protocols[k].tx_packet_size = HTTP_WS_FRAG;
        k++;
    }
    return 0;
}

int http_ws_setup(struct http_server *s, const struct http_server_opts *o)
{
    if (o->ws_ping_s > HTTP_WS_MAX_PING_S || o->ws_max_message > HTTP_WS_MAX_LIMIT ||
        o->ws_max_queue > HTTP_WS_MAX_LIMIT)
        return -EINVAL;
    int err = check_ws_routes(o->ws_routes, o->n_ws_routes);
    if (err < 0)
        return err;
    if (o->n_ws_routes) {
        s->ws_routes = malloc(o->n_ws_routes * sizeof *s->ws_routes);
        if (!s->ws_routes)
            return -ENOMEM;
        memcpy(s->ws_routes, o->ws_routes, o->n_ws_routes * sizeof *s->ws_routes);
        s->n_ws_routes = o->n_ws_routes;
    }
    s->ws_max_message = o->ws_max_message ? o->ws_max_message : (size_t)HTTP_WS_MAX_MESSAGE;
    s->ws_max_queue = o->ws_max_queue ? o->ws_max_queue : (size_t)HTTP_WS_MAX_QUEUE;
    /* lws 4.1 has no ws_ping_pong_interval any more: its idle policy pings
     * a WebSocket secs_since_valid_ping after the last PONG and hangs up at
     * secs_since_valid_hangup without one (HTTP/1 connections ignore it). */
    unsigned ping = o->ws_ping_s ? o->ws_ping_s : HTTP_WS_PING_S;
    s->ws_retry.secs_since_valid_ping = (uint16_t)ping;
    s->ws_retry.secs_since_valid_hangup = (uint16_t)(2 * ping);
    return build_protocols(s);
}

void http_ws_free_setup(struct http_server *s)
{
    free(s->ws_routes);
    free(s->protocols);
    s->ws_routes = NULL;
    s->protocols = NULL;
    s->n_ws_routes = 0;
}

void http_ws_vhost_info(const struct http_server *s, struct lws_context_creation_info *info)
{
    info->protocols = s->protocols;
    if (s->n_ws_routes)
        info->retry_and_idle_policy = &s->ws_retry;
}

const struct http_ws_route *http_ws_find_route(const struct http_server *s, const char *path)
{
    for (size_t i = 0; path && i < s->n_ws_routes; i++)
        if (strcmp(s->ws_routes[i].path, path) == 0)
            return &s->ws_routes[i];
    return NULL;
}

/* --- the upgrade -------------------------------------------------------------- */

static const struct {
    int status;
    const char *reason, *text;
} refusals[] = {
    {400, "Bad Request", "bad request\n"},
    {401, "Unauthorized", "unauthorized\n"},
    {403, "Forbidden", "forbidden\n"},
    {404, "Not Found", "not found\n"},
    {426, "Upgrade Required", "upgrade required\n"},
    {429, "Too Many Requests", "too many requests\n"},
    {500, "Internal Server Error", "internal error\n"},
    {503, "Service Unavailable", "service unavailable\n"},
};

/* The body for status when the refusal has no text of its own. */
static const char *status_text(int status)
{
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
        if (refusals[i].status == status)
            return refusals[i].text;
    return "refused\n";
}

/* Answers the upgrade request with status and a text body, then has lws
 * close the connection (the return value for CONFIRM_UPGRADE): whatever
 * the client sent after the request was meant for a WebSocket. */
static int refuse(struct lws *wsi, int status, const char *text, const char *hdr, const char *val)
{
    unsigned char buf[LWS_PRE + 512], body[LWS_PRE + 128];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    size_t len = strlen(text);
    if (len > sizeof body - LWS_PRE)
        len = sizeof body - LWS_PRE;
    /* Not lws_add_http_header_status: lws 4.1 learns the request's HTTP
     * version only when it serves it as HTTP, so during an upgrade it
     * would answer "HTTP/1.0". A WebSocket client speaks 1.1. */
    const char *reason = "";
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
        if (refusals[i].status == status)
            reason = refusals[i].reason;
    int n = snprintf((char *)p, (size_t)(end - p), "HTTP/1.1 %d %s\r\n", status, reason);
    if (n < 0 || n >= end - p)
        return -1;
    p += n;
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)HTTP_WS_TEXT_TYPE,
                                     (int)strlen(HTTP_WS_TEXT_TYPE), &p, end) ||
        lws_add_http_header_content_length(wsi, len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                     &p, end))
        return -1;
    if (hdr && lws_add_http_header_by_name(wsi, (const unsigned char *)hdr,
                                           (const unsigned char *)val, (int)strlen(val), &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    /* lws_write may use the LWS_PRE bytes before the body. */
    memcpy(body + LWS_PRE, text, len);
    /* lws keeps what the socket does not take and sends it before the
     * close: the -1 below does not cut the answer short. */
    lws_write(wsi, body + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
    return -1;
}

/* lws_process_ws_upgrade's check of the Connection header, verbatim (its
 * prefix match included): without "upgrade" it drops the connection. */
static int connection_has_upgrade(struct lws *wsi)
{
    char buf[128];
    struct lws_tokenize ts;
    int n = lws_hdr_copy(wsi, buf, sizeof buf - 1, WSI_TOKEN_CONNECTION);
    if (n <= 0)
        return 0;
    lws_tokenize_init(&ts, buf,
                      LWS_TOKENIZE_F_COMMA_SEP_LIST | LWS_TOKENIZE_F_DOT_NONTERM |
                          LWS_TOKENIZE_F_RFC7230_DELIMS | LWS_TOKENIZE_F_MINUS_NONTERM);
    ts.len = n;
    for (;;) {
        lws_tokenize_elem e = lws_tokenize(&ts);
        if (e == LWS_TOKZE_TOKEN && strncasecmp(ts.token, "upgrade", ts.token_len) == 0)
            return 1;
        if (e != LWS_TOKZE_TOKEN && e != LWS_TOKZE_DELIMITER)
            return 0;
    }
}

/* RFC 6455 4.2.1: base64 of 16 bytes. */
static int key_ok(struct lws *wsi)
{
    char key[64];
    int n = lws_hdr_copy(wsi, key, sizeof key, WSI_TOKEN_KEY);
    if (n != 24 || key[22] != '=' || key[23] != '=')
        return 0;
    for (int i = 0; i < 22; i++) {
        char c = key[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return 0;
    }
    return 1;
}

/* The protocol lws will bind (lws_process_ws_upgrade's selection, with
 * its tokenizer and lookup), or NULL when it would drop the connection.
 * *offered says whether the client sent a list at all. */
static const struct lws_protocols *predict_protocol(struct lws *wsi, int *offered)
{
    struct lws_vhost *vh = lws_get_vhost(wsi);
    char buf[128], name[64];
    struct lws_tokenize ts;
    *offered = 0;
    int n = lws_hdr_copy(wsi, buf, sizeof buf - 1, WSI_TOKEN_PROTOCOL);
    if (n < 0) {
        *offered = 1;
        return NULL; /* "protocol list too long" */
    }
    if (n == 0)
        return lws_vhost_name_to_protocol(vh, "http"); /* its default, protocols[0] */
    *offered = 1;
    lws_tokenize_init(&ts, buf, HTTP_WS_PROTOCOL_TOKENS);
    ts.len = n;
    for (;;) {
        lws_tokenize_elem e = lws_tokenize(&ts);
        if (e == LWS_TOKZE_DELIMITER)
            continue;
        if (e != LWS_TOKZE_TOKEN || lws_tokenize_cstr(&ts, name, sizeof name))
            return NULL; /* the end, a malformed list or a name too long */
        const struct lws_protocols *p = lws_vhost_name_to_protocol(vh, name);
        if (p)
            return p;
    }
}

/* The protocol lws will bind when the request is one it completes the
 * handshake for on route r; else NULL, the refusal written. */
static const struct lws_protocols *check_upgrade(struct http_conn *c, const struct http_ws_route *r)
{
    struct lws *wsi = c->wsi;
    char v[8];
    if (c->method != HTTP_GET) {
        refuse(wsi, 400, "a websocket upgrade is a GET\n", NULL, NULL);
        return NULL;
    }
    if (!connection_has_upgrade(wsi)) {
        refuse(wsi, 400, "connection: upgrade missing\n", NULL, NULL);
        return NULL;
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) <= 0 || !key_ok(wsi)) {
        refuse(wsi, 400, "bad websocket handshake\n", NULL, NULL);
        return NULL;
    }
    /* lws would go on with any version; RFC 6455 4.4 says to name ours. */
    if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_VERSION) <= 0 || strcmp(v, "13") != 0) {
        refuse(wsi, 426, "websocket version 13 only\n", "sec-websocket-version:", "13");
        return NULL;
    }
    int offered;
    const struct lws_protocols *p = predict_protocol(wsi, &offered);
    const char *want = r->subprotocol ? r->subprotocol : "http";
    if (!p || strcmp(p->name, want) != 0 || (!r->subprotocol && offered)) {
        refuse(wsi, 400,
               r->subprotocol ? "websocket subprotocol not offered\n"
                              : "no websocket subprotocol here\n",
               NULL, NULL);
        return NULL;
    }
    return p;
}

static void ws_free(struct http_ws *ws)
{
    while (ws->head) {
        struct http_ws_msg *m = ws->head;
        ws->head = m->next;
        free(m);
    }
    free(ws->rx);
    free(ws);
}

/* Tells the app and frees ws; lws will not find it again. */
static void ws_gone(struct http_ws *ws)
{
    struct http_server *s = ws->srv;
    if (ws->wsi)
        lws_set_opaque_user_data(ws->wsi, NULL);
    ws->wsi = NULL;
    if (ws->prev)
        ws->prev->next = ws->next;
    else
        s->ws_list = ws->next;
    if (ws->next)
        ws->next->prev = ws->prev;
    s->n_ws--;
    ws->state = HTTP_WS_GONE;
    ws->route->on_close(s->ud, ws);
    ws_free(ws);
}

int http_ws_upgrade(struct http_server *s, struct lws *wsi, struct http_pss *pss, const char *up)
{
    /* No ws routes: dropped, as before there were any; another upgrade
     * (h2c) is not done here either. */
    if (!s->n_ws_routes || s->state != HTTP_SRV_OPEN || !up || strcasecmp(up, "websocket") != 0)
        return -1;
    struct http_conn *c = http_conn_upgrade_begin(s, wsi, pss);
    if (!c)
        return -1;
    const struct http_ws_route *r = http_ws_find_route(s, c->path);
    if (!r) {
        http_conn_upgrade_end(c);
        return refuse(wsi, 404, "not found\n", NULL, NULL);
    }
    const struct lws_protocols *pcol = check_upgrade(c, r);
    if (!pcol) {
        http_conn_upgrade_end(c);
        return -1; /* refused: lws closes once the answer is out */
    }
    struct http_ws *ws = calloc(1, sizeof *ws);
    if (!ws) {
        http_conn_upgrade_end(c);
        return refuse(wsi, 503, status_text(503), NULL, NULL);
    }
    ws->srv = s;
    ws->route = r;
    ws->pcol = pcol;
    ws->wsi = wsi;
    struct http_request req = {
        .method = c->method,
        .method_name = c->method_name,
        .path = c->path,
        .query = c->query,
        .content_type = c->content_type,
        .body = "",
        .headers = c->headers,
        .n_headers = c->n_headers,
        .conn = c,
    };
    int rc = r->on_open(s->ud, ws, &req);
    http_conn_upgrade_end(c);
    if (rc != 0) {
        ws->wsi = NULL;
        ws_free(ws);
        if (rc < 400 || rc > 599)
            rc = 500;
        return refuse(wsi, rc, status_text(rc), NULL, NULL);
    }
    ws->next = s->ws_list;
    if (s->ws_list)
        s->ws_list->prev = ws;
    s->ws_list = ws;
    s->n_ws++;
    lws_set_opaque_user_data(wsi, ws);
    return 0; /* lws answers 101 and calls ESTABLISHED before it returns */
}

/* --- an open connection -------------------------------------------------------- */

/* Writes our close frame (RFC 6455 5.5.1) and gives the peer 5 s to
 * answer with its own, which ends the connection (WS_PEER_INITIATED_CLOSE
 * below); nothing more is sent or delivered meanwhile.
 *
 * Not lws_close_reason with a -1 from the callback, lws's own way: in
 * Debian's lws 4.1.6 (built with _DEBUG) a -1 from a WRITEABLE callback
 * ends in lws_service_fd's "close_and_handled", which on libuv closes the
 * wsi a second time at once (its "uv repeat test") and so drops the socket
 * before the close frame lws had just queued is written. The frame goes
 * raw (lws 4.1 has no public write type for it; a server's frames are not
 * masked), behind any partial frame lws still holds. */
static void send_close(struct http_ws *ws, struct lws *wsi, int code, const unsigned char *reason,
                       size_t rl)
{
    unsigned char buf[LWS_PRE + 4 + HTTP_WS_MAX_REASON];
    unsigned char *f = buf + LWS_PRE;
    if (rl > HTTP_WS_MAX_REASON)
        rl = HTTP_WS_MAX_REASON;
    f[0] = 0x88; /* FIN, close */
    f[1] = (unsigned char)(2 + rl);
    f[2] = (unsigned char)(code >> 8);
    f[3] = (unsigned char)code;
    if (rl)
        memcpy(f + 4, reason, rl);
    ws->close_sent = 1;
    lws_write(wsi, f, 4 + rl, LWS_WRITE_RAW);
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, 5);
}

/* Closes the connection for what the peer sent (code and reason); the
 * message so far is dropped. Returns what the RECEIVE callback returns. */
static int ws_fail(struct http_ws *ws, struct lws *wsi, int code, const char *reason)
{
    send_close(ws, wsi, code, (const unsigned char *)reason, strlen(reason));
    free(ws->rx);
    ws->rx = NULL;
    ws->rx_len = ws->rx_cap = 0;
    return 0;
}

static int on_receive(struct http_ws *ws, struct lws *wsi, const char *in, size_t len)
{
    struct http_server *s = ws->srv;
    /* Closing (ours, the app's, the server's): what still comes is dropped. */
    if (ws->state != HTTP_WS_OPEN || ws->close_req || ws->close_sent || s->state != HTTP_SRV_OPEN)
        return 0;
    if (lws_frame_is_binary(wsi)) /* set by a message's first frame, kept for the rest */
        return ws_fail(ws, wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "text messages only");
    if (lws_is_first_fragment(wsi))
        ws->rx_len = 0;
    /* What remains of this frame is known now: refuse before buffering it. */
    size_t room = s->ws_max_message - ws->rx_len;
    if (len > room || lws_remaining_packet_payload(wsi) > room - len)
        return ws_fail(ws, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
    if (http_buf_append(&ws->rx, &ws->rx_len, &ws->rx_cap, 4096, in, len) < 0)
        return ws_fail(ws, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
    if (!lws_is_final_fragment(wsi))
        return 0;
    size_t n = ws->rx_len;
    ws->rx_len = 0;
    ws->route->on_message(s->ud, ws, ws->rx, n);
    /* A message may carry a bearer token (the UI's sign-in): not left in
     * the buffer for the next message to half-overwrite, or in freed
     * memory. ws is still valid: on_close never runs inside a callback
     * for it. */
    explicit_bzero(ws->rx, n);
    if (ws->rx_cap > HTTP_WS_RX_KEEP) {
        free(ws->rx);
        ws->rx = NULL;
        ws->rx_cap = 0;
    }
    return 0;
}

/* What lws sends in one send() on this connection (see the top). */
static size_t frag_size(struct lws *wsi)
{
    const struct lws_protocols *p = lws_get_protocol(wsi);
    return p && p->tx_packet_size ? p->tx_packet_size : HTTP_WS_FRAG_DEFAULT;
}

/* One lws_write per callback: a fragment of the oldest message, or, with
 * the queue empty and http_ws_close called, the close. */
static int on_writeable(struct http_ws *ws, struct lws *wsi)
{
    if (ws->state != HTTP_WS_OPEN || ws->close_sent || ws->peer_closed)
        return 0;
    struct http_ws_msg *m = ws->head;
    if (!m) {
        if (ws->close_req)
            send_close(ws, wsi, ws->close_code, ws->close_reason, ws->close_reason_len);
        return 0;
    }
    size_t n = m->len - m->off, max = frag_size(wsi);
    if (n > max)
        n = max;
    int first = m->off == 0, last = m->off + n == m->len;
    int wp = lws_write_ws_flags(LWS_WRITE_TEXT, first, last);
    /* lws takes it all (what the socket does not, it keeps) or fails. */
    if (lws_write(wsi, m->buf + LWS_PRE + m->off, n, (enum lws_write_protocol)wp) < (int)n)
        return -1;
    m->off += n;
    ws->queued -= n;
    if (last) {
        ws->head = m->next;
        if (!ws->head)
            ws->tail = NULL;
        free(m);
    }
    if (ws->head || ws->close_req)
        lws_callback_on_writable(wsi);
    return 0;
}

int http_ws_callback(struct http_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                     void *in, size_t len)
{
    struct http_ws *ws = lws_get_opaque_user_data(wsi);
    if (!ws || ws->srv != s)
        /* An HTTP connection's WSI_DESTROY, or a WebSocket already gone. */
        return reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION ? -1 : 0;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return lws_get_protocol(wsi) == ws->pcol ? 0 : -1;
    case LWS_CALLBACK_ESTABLISHED:
        ws->state = HTTP_WS_OPEN;
        if (ws->head || ws->close_req)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return on_receive(ws, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(ws, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        /* The answer to ours: lws closes without an echo. Else lws echoes
         * the peer's close, then CLOSED. */
        if (ws->close_sent)
            return -1;
        ws->peer_closed = 1;
        return 0;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        ws_gone(ws);
        return 0;
    default:
        return 0;
    }
}

/* on_close cannot end another connection (only lws's callbacks and this
 * do), so next stays valid across it. */
void http_ws_close_all(struct http_server *s, int say_bye)
{
    struct http_ws *next;
    for (struct http_ws *ws = s->ws_list; ws; ws = next) {
        next = ws->next;
        if (say_bye && ws->wsi && ws->state == HTTP_WS_OPEN && !ws->close_sent &&
            !ws->peer_closed) {
            /* Written now, outside a WRITEABLE callback: the context is
             * destroyed next, closing the socket without waiting for the
             * answer. A socket that cannot take it does without. */
            if (ws->close_req)
                send_close(ws, ws->wsi, ws->close_code, ws->close_reason, ws->close_reason_len);
            else
                send_close(ws, ws->wsi, LWS_CLOSE_STATUS_GOINGAWAY,
                           (const unsigned char *)"going away", 10);
        }
        if (!say_bye)
            ws->wsi = NULL; /* the context is gone */
        ws_gone(ws);
    }
}

/* --- the app's calls ----------------------------------------------------------- */

int http_ws_send(struct http_ws *ws, const char *text, size_t len)
{
    if (!ws || (!text && len))
        return -EINVAL;
    if (ws->state == HTTP_WS_PENDING)
        return -ENOTCONN;
    if (ws->state != HTTP_WS_OPEN || ws->close_req || ws->close_sent || ws->peer_closed ||
        ws->srv->state != HTTP_SRV_OPEN || !ws->wsi)
        return -EPIPE;
    if (len > ws->srv->ws_max_queue - ws->queued)
        return -ENOBUFS;
    struct http_ws_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return -ENOMEM;
    m->next = NULL;
    m->len = len;
    m->off = 0;
    if (len)
        memcpy(m->buf + LWS_PRE, text, len);
    if (ws->tail)
        ws->tail->next = m;
    else
        ws->head = m;
    ws->tail = m;
    ws->queued += len;
    lws_callback_on_writable(ws->wsi);
    return 0;
}

/* RFC 6455 7.4: the codes an endpoint may send. */
static int close_code_ok(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

void http_ws_close(struct http_ws *ws, int code, const char *reason)
{
    if (!ws || ws->close_req || ws->state == HTTP_WS_GONE)
        return;
    ws->close_req = 1;
    ws->close_code = close_code_ok(code) ? code : LWS_CLOSE_STATUS_NORMAL;
    size_t n = reason ? strlen(reason) : 0;
    if (n > HTTP_WS_MAX_REASON) {
        /* The peer fails a close whose reason is not UTF-8: cut before a
         * character, not inside one. */
        n = HTTP_WS_MAX_REASON;
        while (n && ((unsigned char)reason[n] & 0xc0) == 0x80)
            n--;
    }
    if (n)
        memcpy(ws->close_reason, reason, n);
    ws->close_reason_len = n;
    if (ws->state == HTTP_WS_OPEN && ws->wsi)
        lws_callback_on_writable(ws->wsi);
}

void http_ws_set_data(struct http_ws *ws, void *data)
{
    if (ws)
        ws->data = data;
}

void *http_ws_data(const struct http_ws *ws)
{
    return ws ? ws->data : NULL;
}

size_t http_ws_queued(const struct http_ws *ws)
{
    return ws ? ws->queued : 0;
}

size_t http_server_ws_count(const struct http_server *s)
{
    return s->n_ws;
}
