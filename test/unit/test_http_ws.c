/* WebSocket routes on the HTTP server (src/http/ws.c), against a small raw
 * WebSocket client written here: the handshake (Sec-WebSocket-Accept
 * checked against RFC 6455's own example), masked frames, fragments,
 * pings, the close handshake, and the refusals; the same over TLS (a
 * self-signed pair made here).
 *
 * As in test_http.c, the loop (and every callback) runs on the main thread
 * and a client thread drives blocking sockets. The client thread CHECKs
 * what it sees on the wire and reads the main thread's counters through
 * atomics only; the main thread CHECKs its own state after the join. */
#include "check.h"
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_MESSAGE 1000
#define BIG_LEN (1024 * 1024)
#define SUBPROTOCOL "runbook.v1"
/* RFC 6455 1.3: this key's accept value. */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define EVIL_ORIGIN "https://evil.example"

struct app {
    uv_loop_t loop;
    uv_async_t done; /* the client thread left sockets open for the close */
    struct http_server *srv, *srv_plain, *srv_ping, *srv_tls;
    int port, port_plain, port_ping, port_tls;
    char dir[64], cert[128], key[128];
    char *big; /* BIG_LEN bytes of a pattern */
    /* read by the client thread */
    atomic_int opens, closes, refused, ping_closed;
    /* main thread only, read after the join */
    int send_in_open_rc, send_after_close_rc, send_in_close_rc;
    int closed, srv_closed, closes_at_closed, close_after_closed, open_after_close;
    int server_closing, ping_quit;
};

/* Per connection (http_ws_set_data), freed by on_close. */
struct conn_data {
    char origin[128];
    int flood_rc[5];
    size_t flood_queued;
};

static char pattern(size_t i)
{
    return (char)('a' + (i * 7 + i / 4096) % 26);
}

/* --- server side (main thread) ---------------------------------------------- */

static int on_open(void *ud, struct http_ws *ws, const struct http_request *req)
{
    struct app *a = ud;
    const char *origin = http_request_header(req, "Origin");
    if (a->server_closing)
        a->open_after_close++;
    if (origin && strcmp(origin, EVIL_ORIGIN) == 0) {
        atomic_fetch_add(&a->refused, 1);
        return 403;
    }
    if (strstr(req->query, "status=503"))
        return 503;
    if (strstr(req->query, "status=99"))
        return 99; /* not an HTTP error: 500 */
    a->send_in_open_rc = http_ws_send(ws, "x", 1);
    struct conn_data *d = calloc(1, sizeof *d);
    if (!d)
        return 503;
    snprintf(d->origin, sizeof d->origin, "%s", origin ? origin : "-");
    http_ws_set_data(ws, d);
    if (strstr(req->query, "close_at_open"))
        http_ws_close(ws, 4000, "at open");
    atomic_fetch_add(&a->opens, 1);
    return 0;
}

static void sendf(struct http_ws *ws, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void on_ping_closed(void *ud);

static void sendf(struct http_ws *ws, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    http_ws_send(ws, buf, (size_t)n);
}

static void on_message(void *ud, struct http_ws *ws, const char *data, size_t len)
{
    struct app *a = ud;
    struct conn_data *d = http_ws_data(ws);
    int code;
    char reason[200];
    if (strcmp(data, "origin?") == 0) {
        sendf(ws, "%s", d->origin);
    } else if (strcmp(data, "count?") == 0) {
        sendf(ws, "%zu", http_server_ws_count(a->srv));
    } else if (sscanf(data, "close:%d:%199[^\n]", &code, reason) == 2) {
        http_ws_close(ws, code, reason);
        http_ws_close(ws, 1000, "ignored: the first call's stay");
        a->send_after_close_rc = http_ws_send(ws, "late", 4);
    } else if (strcmp(data, "big") == 0) {
        http_ws_send(ws, a->big, BIG_LEN);
    } else if (strcmp(data, "flood") == 0) {
        for (int i = 0; i < 5; i++)
            d->flood_rc[i] = http_ws_send(ws, a->big, BIG_LEN);
        d->flood_queued = http_ws_queued(ws);
    } else if (strcmp(data, "flood?") == 0) {
        sendf(ws, "%d %d %d %d %d %zu %zu", d->flood_rc[0], d->flood_rc[1], d->flood_rc[2],
              d->flood_rc[3], d->flood_rc[4], d->flood_queued, http_ws_queued(ws));
    } else if (strcmp(data, "quit") == 0) {
        /* From inside on_message: later messages are not delivered. */
        a->ping_quit = 1;
        http_server_close(a->srv_ping, on_ping_closed, a);
    } else {
        if (strlen(data) != len)
            sendf(ws, "bad length %zu != %zu", strlen(data), len);
        else
            http_ws_send(ws, data, len);
    }
}

static void on_close(void *ud, struct http_ws *ws)
{
    struct app *a = ud;
    a->send_in_close_rc = http_ws_send(ws, "x", 1);
    free(http_ws_data(ws));
    if (a->srv_closed)
        a->close_after_closed++;
    atomic_fetch_add(&a->closes, 1);
}

static int on_healthz(void *ud, const struct http_request *req, struct http_response *resp)
{
    return http_response_append(resp, "ok\n", 3);
}

static const struct http_route routes[] = {
    {"/healthz", HTTP_GET, on_healthz, 0},
};

static const struct http_ws_route ws_routes[] = {
    {"/echo", SUBPROTOCOL, on_open, on_message, on_close},
    {"/plain", NULL, on_open, on_message, on_close},
    {"/other", "other.v2", on_open, on_message, on_close},
};

/* --- a raw WebSocket client (client thread) ----------------------------------- */

struct wsc {
    SSL *ssl; /* over TLS when set */
    int fd;
    unsigned char buf[65536]; /* read ahead */
    size_t off, len;
    int pings;   /* pings seen */
    int no_pong; /* leave them unanswered */
    int status;  /* of the handshake's answer */
    char head[4096];
    char body[1024]; /* a refusal's */
};

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(struct wsc *c, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, b, (int)n) : send(c->fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Refills the read-ahead; 0 at EOF (TLS: also a close without
 * close_notify, or a reset), -1 on an error or the timeout. */
static int fill(struct wsc *c)
{
    if (c->off == c->len)
        c->off = c->len = 0;
    if (c->ssl) {
        int n = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof c->buf - c->len));
        if (n > 0) {
            c->len += (size_t)n;
            return 1;
        }
        int err = SSL_get_error(c->ssl, n);
        return err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : 0;
    }
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n > 0)
        c->len += (size_t)n;
    return n > 0 ? 1 : (int)n;
}

static SSL_CTX *tls_client;

static int rd(struct wsc *c, void *out, size_t n)
{
    unsigned char *o = out;
    while (n) {
        if (c->off == c->len && fill(c) <= 0)
            return -1;
        size_t k = c->len - c->off < n ? c->len - c->off : n;
        memcpy(o, c->buf + c->off, k);
        c->off += k;
        o += k;
        n -= k;
    }
    return 0;
}

/* Sends req (and extra bytes after it, in the same send), reads the
 * answer's head and, for anything but 101, its body up to the close. */
static int ws_request_on(struct wsc *c, int port, int tls, const char *req, const void *extra,
                         size_t extra_len)
{
    memset(c, 0, sizeof *c);
    c->fd = tcp_connect(port);
    if (c->fd < 0)
        return -1;
    if (tls) {
        c->ssl = SSL_new(tls_client);
        SSL_set_fd(c->ssl, c->fd);
        if (SSL_connect(c->ssl) != 1)
            return -1;
    }
    size_t rl = strlen(req);
    char *out = malloc(rl + 1 + extra_len);
    memcpy(out, req, rl + 1);
    if (extra_len)
        memcpy(out + rl, extra, extra_len);
    int rc = send_all(c, out, rl + extra_len);
    free(out);
    if (rc < 0)
        return -1;
    size_t hl = 0;
    for (;;) {
        if (rd(c, c->head + hl, 1) < 0)
            return c->status = 0; /* closed without (a whole) answer */
        hl++;
        c->head[hl] = '\0';
        if (hl >= 4 && memcmp(c->head + hl - 4, "\r\n\r\n", 4) == 0)
            break;
        if (hl + 2 >= sizeof c->head)
            return -1;
    }
    if (sscanf(c->head, "HTTP/1.1 %d", &c->status) != 1)
        c->status = 0;
    if (c->status != 101) {
        size_t bl = 0;
        while (bl + 1 < sizeof c->body && rd(c, c->body + bl, 1) == 0)
            bl++;
        c->body[bl] = '\0';
    }
    return c->status;
}

static int ws_request(struct wsc *c, int port, const char *req, const void *extra, size_t extra_len)
{
    return ws_request_on(c, port, 0, req, extra, extra_len);
}

/* The handshake on path with extra header lines ("Name: v\r\n"...). */
static int ws_open_on(struct wsc *c, int port, int tls, const char *path, const char *hdrs)
{
    char req[2048];
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
             "Sec-WebSocket-Version: 13\r\n%s\r\n",
             path, port, hdrs ? hdrs : "");
    return ws_request_on(c, port, tls, req, NULL, 0);
}

static int ws_open(struct wsc *c, int port, const char *path, const char *hdrs)
{
    return ws_open_on(c, port, 0, path, hdrs);
}

/* The value of a header in the answer's head ("" when absent). */
static const char *head_value(const struct wsc *c, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = strstr(c->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *l = p + 2;
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = strcspn(v, "\r");
            snprintf(out, cap, "%.*s", (int)vl, v);
            break;
        }
    }
    return out;
}

static void ws_close_fd(struct wsc *c)
{
    SSL_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* One masked frame, as a client must send it. */
static int ws_frame_out(struct wsc *c, int fin, int op, const void *data, size_t len)
{
    unsigned char *f = malloc(14 + len);
    size_t h = 0;
    f[h++] = (unsigned char)((fin ? 0x80 : 0) | op);
    if (len < 126) {
        f[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        f[h++] = 0x80 | 126;
        f[h++] = (unsigned char)(len >> 8);
        f[h++] = (unsigned char)len;
    } else {
        f[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            f[h++] = (unsigned char)((unsigned long long)len >> (8 * i));
    }
    /* Any mask will do, but not always the same one (an LCG; the client
     * thread only). */
    static uint32_t seed = 0x9e3779b9u;
    seed = seed * 1664525u + 1013904223u;
    unsigned char mask[4] = {(unsigned char)(seed >> 24), (unsigned char)(seed >> 16),
                             (unsigned char)(seed >> 8), (unsigned char)seed};
    memcpy(f + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        f[h + i] = ((const unsigned char *)data)[i] ^ mask[i & 3];
    int rc = send_all(c, f, h + len);
    free(f);
    return rc;
}

static int ws_text(struct wsc *c, const char *s)
{
    return ws_frame_out(c, 1, 1, s, strlen(s));
}

/* One frame from the server (never masked). -1: EOF, timeout, bad frame. */
static int ws_frame_in(struct wsc *c, int *fin, int *op, unsigned char **data, size_t *len)
{
    unsigned char h[2], ext[8];
    *data = NULL;
    *len = 0;
    *fin = *op = 0;
    if (rd(c, h, 2) < 0 || (h[1] & 0x80))
        return -1;
    *fin = h[0] >> 7;
    *op = h[0] & 0x0f;
    unsigned long long n = h[1] & 0x7f;
    if (n == 126) {
        if (rd(c, ext, 2) < 0)
            return -1;
        n = (unsigned long long)ext[0] << 8 | ext[1];
    } else if (n == 127) {
        if (rd(c, ext, 8) < 0)
            return -1;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | ext[i];
    }
    if (n > 16u * 1024 * 1024)
        return -1;
    *data = malloc((size_t)n + 1);
    if (rd(c, *data, (size_t)n) < 0) {
        free(*data);
        *data = NULL;
        return -1;
    }
    (*data)[n] = '\0';
    *len = (size_t)n;
    return 0;
}

/* The next message, fragments joined (*frames counts them), or the close
 * frame; pings are answered (unless no_pong) and counted. Returns the
 * opcode (1 text, 2 binary, 8 close) or -1. The caller frees *data. */
static int ws_msg(struct wsc *c, unsigned char **data, size_t *len, int *frames)
{
    unsigned char *msg = NULL;
    size_t ml = 0;
    int mop = 0, nf = 0;
    *data = NULL;
    *len = 0;
    for (;;) {
        int fin, op;
        unsigned char *d;
        size_t dl;
        if (ws_frame_in(c, &fin, &op, &d, &dl) < 0) {
            free(msg);
            return -1;
        }
        if (op == 9) {
            c->pings++;
            if (!c->no_pong)
                ws_frame_out(c, 1, 10, d, dl);
            free(d);
            continue;
        }
        if (op == 10) {
            free(d);
            continue;
        }
        if (op == 8) {
            free(msg);
            *data = d;
            *len = dl;
            return 8;
        }
        if ((op == 0) != (mop != 0)) { /* a continuation outside a message, or the reverse */
            free(d);
            free(msg);
            return -1;
        }
        if (op)
            mop = op;
        unsigned char *m = realloc(msg, ml + dl + 1);
        memcpy(m + ml, d, dl);
        msg = m;
        ml += dl;
        msg[ml] = '\0';
        free(d);
        nf++;
        if (fin) {
            *data = msg;
            *len = ml;
            if (frames)
                *frames = nf;
            return mop;
        }
    }
}

/* The next text message as a string in out; 0, or -1 for anything else. */
static int ws_read_text(struct wsc *c, char *out, size_t cap)
{
    unsigned char *d;
    size_t l;
    int op = ws_msg(c, &d, &l, NULL);
    out[0] = '\0';
    if (op != 1) {
        free(d); /* NULL after an error */
        return -1;
    }
    snprintf(out, cap, "%s", (char *)d);
    free(d);
    return 0;
}

/* Reads to the close frame: its code (-1: none came) and reason. */
static int ws_read_close(struct wsc *c, char *reason, size_t cap)
{
    unsigned char *d;
    size_t l;
    int op;
    reason[0] = '\0';
    for (;;) {
        op = ws_msg(c, &d, &l, NULL);
        if (op != 1 && op != 2)
            break;
        free(d);
    }
    if (op != 8) {
        free(d); /* NULL after an error */
        return -1;
    }
    int code = l >= 2 ? d[0] << 8 | d[1] : 1005;
    if (l > 2)
        snprintf(reason, cap, "%.*s", (int)(l - 2), (char *)d + 2);
    free(d);
    return code;
}

/* 1 when the server closes the TCP connection (EOF or reset) in time. */
static int ws_eof(struct wsc *c)
{
    for (;;) {
        c->off = c->len = 0;
        int n = fill(c);
        if (n == 0)
            return 1;
        if (n < 0)
            return errno == ECONNRESET;
    }
}

static int wait_count(atomic_int *v, int want)
{
    for (int i = 0; i < 500; i++) {
        if (atomic_load(v) == want)
            return 1;
        usleep(10000);
    }
    return atomic_load(v) == want;
}

/* --- client scenarios (client thread) ------------------------------------------- */

static void client_handshake(struct app *a)
{
    struct wsc *c = calloc(1, sizeof *c);
    char v[256], t[256];

    /* Accepted: 101, the accept value, the subprotocol echoed. */
    CHECK_INT(ws_open(c, a->port, "/echo",
                      "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\nOrigin: https://ui.example\r\n"),
              101);
    CHECK_STR(head_value(c, "sec-websocket-accept", v, sizeof v), ACCEPT);
    CHECK_STR(head_value(c, "sec-websocket-protocol", v, sizeof v), SUBPROTOCOL);
    CHECK_STR(head_value(c, "upgrade", v, sizeof v), "WebSocket");
    /* on_open saw the Origin header. */
    ws_text(c, "origin?");
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    CHECK_STR(t, "https://ui.example");
    ws_text(c, "hello");
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    CHECK_STR(t, "hello");
    ws_text(c, "");
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    CHECK_STR(t, "");
    ws_close_fd(c);

    /* Several offered (Firefox's Connection form too): the one the server
     * knows is chosen and echoed. */
    CHECK_INT(ws_open(c, a->port, "/echo?x=1",
                      "Sec-WebSocket-Protocol: chat, " SUBPROTOCOL "\r\n"
                      "Connection: keep-alive, Upgrade\r\n"),
              101);
    CHECK_STR(head_value(c, "sec-websocket-protocol", v, sizeof v), SUBPROTOCOL);
    ws_close_fd(c);

    /* Refused before on_open: no subprotocol, another one, another route's
     * (lws would bind "other.v2" here), or "http". */
    int refused0 = atomic_load(&a->refused), opens0 = atomic_load(&a->opens);
    static const char *const bad_offers[] = {
        "",
        "Sec-WebSocket-Protocol: chat\r\n",
        "Sec-WebSocket-Protocol: other.v2, " SUBPROTOCOL "\r\n",
        "Sec-WebSocket-Protocol: http\r\n",
    };
    for (size_t i = 0; i < sizeof bad_offers / sizeof bad_offers[0]; i++) {
        CHECK_INT(ws_open(c, a->port, "/echo", bad_offers[i]), 400);
        CHECK_CONTAINS(c->head, "connection: close\r\n");
        CHECK_CONTAINS(c->body, "subprotocol");
        ws_close_fd(c);
    }
    /* A route without one: taken without, refused with. */
    CHECK_INT(ws_open(c, a->port, "/plain", NULL), 101);
    CHECK_STR(head_value(c, "sec-websocket-protocol", v, sizeof v), "");
    ws_text(c, "plain");
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    CHECK_STR(t, "plain");
    ws_close_fd(c);
    CHECK_INT(ws_open(c, a->port, "/plain", "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n"), 400);
    ws_close_fd(c);
    /* The other route, by its own subprotocol. */
    CHECK_INT(ws_open(c, a->port, "/other", "Sec-WebSocket-Protocol: other.v2\r\n"), 101);
    CHECK_STR(head_value(c, "sec-websocket-protocol", v, sizeof v), "other.v2");
    ws_close_fd(c);

    /* on_open refuses: its status, a text body, no on_close. */
    CHECK_INT(ws_open(c, a->port, "/echo",
                      "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\nOrigin: " EVIL_ORIGIN "\r\n"),
              403);
    CHECK_STR(c->body, "forbidden\n");
    CHECK_STR(head_value(c, "content-type", v, sizeof v), "text/plain; charset=utf-8");
    ws_close_fd(c);
    CHECK_INT(
        ws_open(c, a->port, "/echo?status=503", "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n"),
        503);
    ws_close_fd(c);
    CHECK_INT(ws_open(c, a->port, "/echo?status=99", "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n"),
              500);
    ws_close_fd(c);
    CHECK_INT(atomic_load(&a->refused), refused0 + 1);
    CHECK_INT(atomic_load(&a->opens), opens0 + 2); /* /plain and /other */

    /* Not ws routes: 404 (an HTTP route's path too); no ws routes at all:
     * dropped, as before. */
    CHECK_INT(ws_open(c, a->port, "/healthz", NULL), 404);
    CHECK_STR(c->body, "not found\n");
    ws_close_fd(c);
    CHECK_INT(ws_open(c, a->port, "/nope", "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n"), 404);
    ws_close_fd(c);
    CHECK_INT(ws_open(c, a->port_plain, "/echo", "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n"), 0);
    ws_close_fd(c);

    /* A ws path without the upgrade: 426, naming the protocol. */
    CHECK_INT(ws_request(c, a->port, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                         NULL, 0),
              426);
    CHECK_STR(head_value(c, "upgrade", v, sizeof v), "websocket");
    ws_close_fd(c);
    /* The HTTP routes still answer. */
    CHECK_INT(ws_request(c, a->port,
                         "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL, 0),
              200);
    CHECK_STR(c->body, "ok\n");
    ws_close_fd(c);

    /* Malformed handshakes: a status, never on_open. */
    opens0 = atomic_load(&a->opens);
    static const struct {
        const char *req;
        int status;
    } bad[] = {
        {"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " SUBPROTOCOL "\r\n\r\n",
         400}, /* no key */
        {"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n\r\n",
         400}, /* not 16 bytes */
        {"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 8\r\n"
         "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n\r\n",
         426}, /* another version */
        {"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
         "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n\r\n",
         400}, /* no Connection: upgrade */
        {"POST /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n"
         "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n\r\n",
         400}, /* not a GET */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(ws_request(c, a->port, bad[i].req, NULL, 0), bad[i].status);
        ws_close_fd(c);
    }
    CHECK_INT(ws_request(c, a->port, bad[2].req, NULL, 0), 426);
    CHECK_STR(head_value(c, "sec-websocket-version", v, sizeof v), "13");
    ws_close_fd(c);
    CHECK_INT(atomic_load(&a->opens), opens0);

    /* The first frame in the same packet as the upgrade request. */
    char req[512];
    snprintf(req, sizeof req,
             "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n\r\n");
    /* FIN text, masked, 5 bytes; the mask 1 2 3 4; "early" masked. */
    static const unsigned char early[] = {
        0x81, 0x85, 1, 2, 3, 4, 'e' ^ 1, 'a' ^ 2, 'r' ^ 3, 'l' ^ 4, 'y' ^ 1,
    };
    CHECK_INT(ws_request(c, a->port, req, early, sizeof early), 101);
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    CHECK_STR(t, "early");
    ws_close_fd(c);
    free(c);
}

static void client_messages(struct app *a)
{
    struct wsc *c = calloc(1, sizeof *c);
    char t[256], reason[200];
    const char *proto = "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n";

    /* Three fragments (a ping between two of them) make one message. */
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    ws_frame_out(c, 0, 1, "abc", 3);
    ws_frame_out(c, 0, 0, "def", 3);
    ws_frame_out(c, 1, 9, "p", 1);
    ws_frame_out(c, 1, 0, "ghi", 3);
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    CHECK_STR(t, "abcdefghi");
    /* A multi-byte character split across fragments is still UTF-8. */
    ws_frame_out(c, 0, 1, "caf\xc3", 4);
    ws_frame_out(c, 1, 0, "\xa9", 1);
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    CHECK_STR(t, "caf\xc3\xa9");
    /* Exactly the limit passes. */
    char *lim = malloc(MAX_MESSAGE + 1);
    memset(lim, 'l', MAX_MESSAGE);
    lim[MAX_MESSAGE] = '\0';
    ws_frame_out(c, 1, 1, lim, MAX_MESSAGE);
    unsigned char *d;
    size_t l;
    CHECK_INT(ws_msg(c, &d, &l, NULL), 1);
    CHECK_INT(l, MAX_MESSAGE);
    free(d);
    ws_close_fd(c);

    /* Past the limit, in one frame or in fragments: 1009, no on_message. */
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    ws_frame_out(c, 1, 1, lim, MAX_MESSAGE);
    CHECK_INT(ws_msg(c, &d, &l, NULL), 1);
    free(d);
    char *over = malloc(MAX_MESSAGE + 2);
    memset(over, 'o', MAX_MESSAGE + 1);
    ws_frame_out(c, 1, 1, over, MAX_MESSAGE + 1);
    CHECK_INT(ws_read_close(c, reason, sizeof reason), 1009);
    CHECK_STR(reason, "message too big");
    ws_frame_out(c, 1, 8, "\x03\xf1", 2);
    CHECK(ws_eof(c));
    ws_close_fd(c);
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    ws_frame_out(c, 0, 1, over, 600);
    ws_frame_out(c, 1, 0, over, 401);
    CHECK_INT(ws_read_close(c, reason, sizeof reason), 1009);
    ws_close_fd(c);
    free(over);
    free(lim);

    /* Binary: 1003. Not UTF-8: 1007 (lws's check). */
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    ws_frame_out(c, 1, 2, "\x01\x02", 2);
    CHECK_INT(ws_read_close(c, reason, sizeof reason), 1003);
    ws_close_fd(c);
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    ws_frame_out(c, 1, 1, "\xff\xfe", 2);
    CHECK_INT(ws_read_close(c, reason, sizeof reason), 1007);
    ws_close_fd(c);

    /* 1 MiB out arrives whole, in order (as several frames). */
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    ws_text(c, "big");
    int frames = 0;
    CHECK_INT(ws_msg(c, &d, &l, &frames), 1);
    CHECK_INT(l, BIG_LEN);
    size_t bad_at = 0;
    while (d && bad_at < l && d[bad_at] == (unsigned char)pattern(bad_at))
        bad_at++;
    CHECK_INT(bad_at, BIG_LEN);
    CHECK(frames > 1);
    free(d);

    /* The queue bound: 4 MiB (the default) take four 1 MiB messages, the
     * fifth is refused; all four then arrive intact. */
    ws_text(c, "flood");
    for (int i = 0; i < 4; i++) {
        CHECK_INT(ws_msg(c, &d, &l, NULL), 1);
        CHECK_INT(l, BIG_LEN);
        CHECK(d && d[0] == (unsigned char)pattern(0) && d[l - 1] == (unsigned char)pattern(l - 1));
        free(d);
    }
    ws_text(c, "flood?");
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    char want[128];
    snprintf(want, sizeof want, "0 0 0 0 %d %d 0", -ENOBUFS, 4 * BIG_LEN);
    CHECK_STR(t, want);
    ws_close_fd(c);

    /* The same on the "http" protocol (a route without subprotocol), which
     * lws sends from in 4 KiB pieces. */
    CHECK_INT(ws_open(c, a->port, "/plain", NULL), 101);
    ws_text(c, "big");
    CHECK_INT(ws_msg(c, &d, &l, &frames), 1);
    CHECK_INT(l, BIG_LEN);
    bad_at = 0;
    while (d && bad_at < l && d[bad_at] == (unsigned char)pattern(bad_at))
        bad_at++;
    CHECK_INT(bad_at, BIG_LEN);
    CHECK(frames >= BIG_LEN / 4096);
    free(d);
    ws_close_fd(c);
    free(c);
}

static void client_closes(struct app *a)
{
    struct wsc *c = calloc(1, sizeof *c);
    char t[256], reason[200];
    const char *proto = "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n";

    /* Wait for the earlier connections' on_close: then count? is exact,
     * and each step below adds exactly one. */
    CHECK(wait_count(&a->closes, atomic_load(&a->opens)));
    int closes = atomic_load(&a->closes);

    /* The server closes (after what it queued): the code and reason. */
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    ws_text(c, "first");
    ws_text(c, "close:4001:bye now");
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    CHECK_STR(t, "first");
    CHECK_INT(ws_read_close(c, reason, sizeof reason), 4001);
    CHECK_STR(reason, "bye now");
    ws_frame_out(c, 1, 8, "\x0f\xa1", 2); /* the answer */
    CHECK(ws_eof(c));
    ws_close_fd(c);
    CHECK(wait_count(&a->closes, ++closes));

    /* A code RFC 6455 reserves goes out as 1000. */
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    ws_text(c, "close:1005:reserved");
    CHECK_INT(ws_read_close(c, reason, sizeof reason), 1000);
    CHECK_STR(reason, "reserved");
    ws_close_fd(c);
    CHECK(wait_count(&a->closes, ++closes));

    /* A long reason is cut to 123 bytes, not inside a character: 62 "é"
     * (124 bytes) arrive as 61. */
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    char cmd[200] = "close:4002:";
    for (int i = 0; i < 62; i++)
        strcat(cmd, "\xc3\xa9");
    ws_text(c, cmd);
    CHECK_INT(ws_read_close(c, reason, sizeof reason), 4002);
    CHECK_INT(strlen(reason), 122);
    CHECK(strncmp(reason, cmd + 11, 122) == 0);
    ws_close_fd(c);
    CHECK(wait_count(&a->closes, ++closes));

    /* on_open closes at once. */
    CHECK_INT(ws_open(c, a->port, "/echo?close_at_open=1", proto), 101);
    CHECK_INT(ws_read_close(c, reason, sizeof reason), 4000);
    CHECK_STR(reason, "at open");
    ws_close_fd(c);
    CHECK(wait_count(&a->closes, ++closes));

    /* The client closes: its close echoed, on_close exactly once. */
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    ws_text(c, "count?");
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    CHECK_STR(t, "1");
    static const char bye[] = {0x03, (char)0xe8, 'd', 'o', 'n', 'e'}; /* 1000 */
    ws_frame_out(c, 1, 8, bye, sizeof bye);
    CHECK_INT(ws_read_close(c, reason, sizeof reason), 1000);
    CHECK_STR(reason, "done");
    CHECK(ws_eof(c));
    ws_close_fd(c);
    CHECK(wait_count(&a->closes, ++closes));
    usleep(100000);
    CHECK_INT(atomic_load(&a->closes), closes);

    /* The client vanishes without a close frame. */
    CHECK_INT(ws_open(c, a->port, "/echo", proto), 101);
    ws_close_fd(c);
    CHECK(wait_count(&a->closes, ++closes));
    usleep(100000);
    CHECK_INT(atomic_load(&a->closes), closes);
    free(c);
}

/* The ping server (ws_ping_s 1): a ping within the interval; a client that
 * stops answering is dropped by the next one. */
static void client_ping(struct app *a)
{
    struct wsc *c = calloc(1, sizeof *c);
    int closes0 = atomic_load(&a->closes);
    CHECK_INT(ws_open(c, a->port_ping, "/plain", NULL), 101);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int fin = 0, op = 0;
    unsigned char *d = NULL;
    size_t l = 0;
    CHECK(ws_frame_in(c, &fin, &op, &d, &l) == 0);
    CHECK_INT(op, 9);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(dt > 0.5 && dt < 3.0);
    ws_frame_out(c, 1, 10, d, l);
    free(d);
    CHECK(ws_frame_in(c, &fin, &op, &d, &l) == 0); /* the next ping: left unanswered */
    CHECK_INT(op, 9);
    free(d);
    CHECK(ws_eof(c));
    ws_close_fd(c);
    CHECK(wait_count(&a->closes, closes0 + 1));

    /* http_server_close from on_message: the message after it is not
     * delivered, the socket gets 1001. */
    CHECK_INT(ws_open(c, a->port_ping, "/plain", NULL), 101);
    ws_text(c, "quit");
    ws_text(c, "not delivered");
    CHECK_INT(ws_msg(c, &d, &l, NULL), 8);
    CHECK(d && l >= 2 && (d[0] << 8 | d[1]) == 1001);
    free(d);
    CHECK(ws_eof(c));
    ws_close_fd(c);
    CHECK(wait_count(&a->closes, closes0 + 2));
    /* No new socket until that server is gone: lws 4.1.6 on libuv closes
     * a context's eventfd twice (lws_destroy_event_pipe closes it, then
     * the uv close callback closes the number again), so a socket opened
     * in between that gets the same number is closed under its owner. */
    CHECK(wait_count(&a->ping_closed, 1));
    free(c);
}

/* The same over TLS: the handshake, a message, 1 MiB (its frames now go
 * through SSL_write, partial writes and all), a refusal, our close. */
static void client_tls(struct app *a)
{
    struct wsc *c = calloc(1, sizeof *c);
    char t[256], reason[200];
    const char *proto = "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n";
    CHECK_INT(ws_open_on(c, a->port_tls, 1, "/echo", proto), 101);
    CHECK_STR(head_value(c, "sec-websocket-accept", t, sizeof t), ACCEPT);
    ws_text(c, "over tls");
    CHECK(ws_read_text(c, t, sizeof t) == 0);
    CHECK_STR(t, "over tls");
    ws_text(c, "big");
    unsigned char *d;
    size_t l;
    CHECK_INT(ws_msg(c, &d, &l, NULL), 1);
    CHECK_INT(l, BIG_LEN);
    size_t ok = 0;
    while (d && ok < l && d[ok] == (unsigned char)pattern(ok))
        ok++;
    CHECK_INT(ok, BIG_LEN);
    free(d);
    ws_text(c, "close:4003:tls bye");
    CHECK_INT(ws_read_close(c, reason, sizeof reason), 4003);
    CHECK_STR(reason, "tls bye");
    ws_frame_out(c, 1, 8, "\x0f\xa3", 2);
    CHECK(ws_eof(c));
    ws_close_fd(c);

    CHECK_INT(ws_open_on(c, a->port_tls, 1, "/echo",
                         "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\nOrigin: " EVIL_ORIGIN "\r\n"),
              403);
    CHECK_STR(c->body, "forbidden\n");
    ws_close_fd(c);
    free(c);
}

static void client_main(void *arg)
{
    struct app *a = arg;
    client_handshake(a);
    client_messages(a);
    client_closes(a);
    client_tls(a);
    client_ping(a);

    /* http_server_close with sockets open: each gets 1001, then EOF. */
    struct wsc *c1 = calloc(1, sizeof *c1), *c2 = calloc(1, sizeof *c2),
               *c3 = calloc(1, sizeof *c3);
    CHECK_INT(ws_open(c1, a->port, "/echo", "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n"), 101);
    CHECK_INT(ws_open(c2, a->port, "/plain", NULL), 101);
    CHECK_INT(ws_open_on(c3, a->port_tls, 1, "/plain", NULL), 101);
    uv_async_send(&a->done);
    char reason[64];
    CHECK_INT(ws_read_close(c1, reason, sizeof reason), 1001);
    CHECK_STR(reason, "going away");
    CHECK(ws_eof(c1));
    CHECK_INT(ws_read_close(c2, reason, sizeof reason), 1001);
    CHECK(ws_eof(c2));
    CHECK_INT(ws_read_close(c3, reason, sizeof reason), 1001);
    CHECK(ws_eof(c3));
    ws_close_fd(c1);
    ws_close_fd(c2);
    ws_close_fd(c3);
    free(c1);
    free(c2);
    free(c3);
}

/* --- main thread ----------------------------------------------------------------- */

static void on_other_closed(void *ud)
{
    struct app *a = ud;
    if (++a->closed == 4)
        uv_close((uv_handle_t *)&a->done, NULL);
}

static void on_ping_closed(void *ud)
{
    struct app *a = ud;
    atomic_store(&a->ping_closed, 1);
    on_other_closed(a);
}

static void on_closed(void *ud)
{
    struct app *a = ud;
    a->srv_closed++;
    a->closes_at_closed = atomic_load(&a->closes);
    on_other_closed(a);
}

static void on_done(uv_async_t *h)
{
    struct app *a = h->data;
    a->server_closing = 1;
    http_server_close(a->srv, on_closed, a);
    http_server_close(a->srv_plain, on_other_closed, a);
    if (!a->ping_quit)
        http_server_close(a->srv_ping, on_other_closed, a);
    http_server_close(a->srv_tls, on_other_closed, a);
}

static EVP_PKEY *make_key(void)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    if (c && EVP_PKEY_keygen_init(c) == 1 &&
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(c, NID_X9_62_prime256v1) == 1)
        EVP_PKEY_keygen(c, &k);
    EVP_PKEY_CTX_free(c);
    return k;
}

/* A self-signed pair in a fresh directory: cert and key paths in a. */
static int make_pair(struct app *a)
{
    snprintf(a->dir, sizeof a->dir, "/tmp/rb-http-ws-XXXXXX");
    if (!mkdtemp(a->dir))
        return -1;
    snprintf(a->cert, sizeof a->cert, "%s/tls.crt", a->dir);
    snprintf(a->key, sizeof a->key, "%s/tls.key", a->dir);
    EVP_PKEY *k = make_key();
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"ws-test", -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_sign(x, k, EVP_sha256());
    FILE *fc = fopen(a->cert, "w"), *fk = fopen(a->key, "w");
    int ok = fc && fk && PEM_write_X509(fc, x) == 1 &&
             PEM_write_PrivateKey(fk, k, NULL, NULL, 0, NULL, NULL) == 1;
    if (fc)
        fclose(fc);
    if (fk)
        fclose(fk);
    X509_free(x);
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

static void test_ws(void)
{
    struct app *a = calloc(1, sizeof *a);
    a->big = malloc(BIG_LEN);
    for (size_t i = 0; i < BIG_LEN; i++)
        a->big[i] = pattern(i);
    uv_loop_init(&a->loop);
    uv_async_init(&a->loop, &a->done, on_done);
    a->done.data = a;
    struct http_server_opts o = {
        .ws_routes = ws_routes,
        .n_ws_routes = sizeof ws_routes / sizeof ws_routes[0],
        .ws_max_message = MAX_MESSAGE,
    };
    CHECK_INT(http_server_new_opts(&a->loop, "127.0.0.1:0", routes, 1, a, &o, &a->srv), 0);
    CHECK_INT(http_server_new(&a->loop, "127.0.0.1:0", routes, 1, a, &a->srv_plain), 0);
    struct http_server_opts po = {.ws_routes = ws_routes, .n_ws_routes = 2, .ws_ping_s = 1};
    CHECK_INT(http_server_new_opts(&a->loop, "127.0.0.1:0", NULL, 0, a, &po, &a->srv_ping), 0);
    CHECK_INT(make_pair(a), 0);
    struct http_server_opts to = {
        .tls_cert = a->cert, .tls_key = a->key, .ws_routes = ws_routes, .n_ws_routes = 2};
    CHECK_INT(http_server_new_opts(&a->loop, "127.0.0.1:0", NULL, 0, a, &to, &a->srv_tls), 0);
    tls_client = SSL_CTX_new(TLS_client_method()); /* self-signed: not verified */
    if (a->srv && a->srv_plain && a->srv_ping && a->srv_tls) {
        a->port = http_server_port(a->srv);
        a->port_plain = http_server_port(a->srv_plain);
        a->port_ping = http_server_port(a->srv_ping);
        a->port_tls = http_server_port(a->srv_tls);
        CHECK_INT(http_server_ws_count(a->srv), 0);
        uv_thread_t client;
        uv_thread_create(&client, client_main, a);
        int run = uv_run(&a->loop, UV_RUN_DEFAULT);
        uv_thread_join(&client); /* the main thread CHECKs nothing before this */
        CHECK_INT(run, 0);
        /* Every accepted connection got on_close, each before closed. */
        CHECK(atomic_load(&a->opens) > 10);
        CHECK_INT(atomic_load(&a->closes), atomic_load(&a->opens));
        CHECK_INT(a->closed, 4);
        CHECK_INT(a->srv_closed, 1);
        CHECK_INT(a->ping_quit, 1);
        CHECK_INT(a->closes_at_closed, atomic_load(&a->closes));
        CHECK_INT(a->close_after_closed, 0);
        CHECK_INT(a->open_after_close, 0);
        CHECK_INT(a->send_in_open_rc, -ENOTCONN);
        CHECK_INT(a->send_after_close_rc, -EPIPE);
        CHECK_INT(a->send_in_close_rc, -EPIPE);
    } else {
        struct http_server *all[] = {a->srv, a->srv_plain, a->srv_ping, a->srv_tls};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            if (all[i])
                http_server_close(all[i], NULL, NULL);
        uv_close((uv_handle_t *)&a->done, NULL);
        uv_run(&a->loop, UV_RUN_DEFAULT);
    }
    CHECK_INT(uv_loop_close(&a->loop), 0);
    SSL_CTX_free(tls_client);
    unlink(a->cert);
    unlink(a->key);
    rmdir(a->dir);
    free(a->big);
    free(a);
}

static void nop_message(void *ud, struct http_ws *ws, const char *data, size_t len)
{
}

static void nop_close(void *ud, struct http_ws *ws)
{
}

static int nop_open(void *ud, struct http_ws *ws, const struct http_request *req)
{
    return 0;
}

static void test_bad_opts(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct http_server *s = NULL;
    static const char *const bad_names[] = {"http", "a b", "", "1.0", "x,y", "x;y", "\"q\""};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        struct http_ws_route r = {"/ws", bad_names[i], nop_open, nop_message, nop_close};
        struct http_server_opts o = {.ws_routes = &r, .n_ws_routes = 1};
        CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", NULL, 0, NULL, &o, &s), -EINVAL);
    }
    const struct http_ws_route bad_routes[][2] = {
        {{"ws", NULL, nop_open, nop_message, nop_close}},
        {{NULL, NULL, nop_open, nop_message, nop_close}},
        {{"/ws", NULL, NULL, nop_message, nop_close}},
        {{"/ws", NULL, nop_open, NULL, nop_close}},
        {{"/ws", NULL, nop_open, nop_message, NULL}},
    };
    for (size_t i = 0; i < sizeof bad_routes / sizeof bad_routes[0]; i++) {
        struct http_server_opts o = {.ws_routes = bad_routes[i], .n_ws_routes = 1};
        CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", NULL, 0, NULL, &o, &s), -EINVAL);
    }
    static const struct http_ws_route twice[] = {
        {"/ws", "a.v1", nop_open, nop_message, nop_close},
        {"/ws", "b.v1", nop_open, nop_message, nop_close},
    };
    struct http_server_opts o = {.ws_routes = twice, .n_ws_routes = 2};
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", NULL, 0, NULL, &o, &s), -EINVAL);
    o = (struct http_server_opts){.ws_routes = NULL, .n_ws_routes = 1};
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", NULL, 0, NULL, &o, &s), -EINVAL);
    o = (struct http_server_opts){.ws_ping_s = 40000};
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", NULL, 0, NULL, &o, &s), -EINVAL);
    CHECK(s == NULL);
    /* Two routes may share a subprotocol, and names like these are fine. */
    static const struct http_ws_route ok[] = {
        {"/a", "runbook.v1", nop_open, nop_message, nop_close},
        {"/b", "runbook.v1", nop_open, nop_message, nop_close},
        {"/c", "x-chat_2", nop_open, nop_message, nop_close},
    };
    o = (struct http_server_opts){.ws_routes = ok, .n_ws_routes = 3};
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", NULL, 0, NULL, &o, &s), 0);
    if (s)
        http_server_close(s, NULL, NULL);
    /* NULL is refused without a crash. */
    CHECK_INT(http_ws_send(NULL, "x", 1), -EINVAL);
    http_ws_close(NULL, 1000, NULL);
    CHECK(http_ws_data(NULL) == NULL);
    CHECK_INT(http_ws_queued(NULL), 0);
    CHECK_INT(uv_run(&loop, UV_RUN_DEFAULT), 0);
    CHECK_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
    RUN(test_bad_opts);
    RUN(test_ws);
    return check_finish();
}
