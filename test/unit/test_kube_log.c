/* kube_pod_log end to end against a scripted HTTP/1.1 server on the test's
 * own loop (a raw uv_tcp_t: src/http answers whole responses only, and
 * these tests need a body written in pieces, a stream left open and a
 * request line to look at). What is checked: the URL and query the verb
 * builds, no Accept-Encoding (a gzipped stream would be held back by
 * curl), the body delivered verbatim whatever it holds (not JSON, split
 * in the middle of a UTF-8 character, NUL and invalid bytes), the end of
 * the stream as err 0 + 200, a 400 Status refusal decoded into r->status
 * and never passed to chunk, and kube_watch_cancel from inside chunk and
 * before the request started. */
#include "check.h"
#include "kube/kube.h"
#include "kubeconfig/kubeconfig.h"
#include "log/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

static uv_loop_t loop;
static struct kube_client *kc;

/* ---- the scripted server ------------------------------------------------ */

struct piece {
    const char *p;
    size_t len;
};

/* What the server answers to the next request: head (status line and
 * headers, without the blank line), then each piece 10 ms apart (as one
 * chunk each when chunked), then the end of the body when finish is set;
 * otherwise the connection stays open until the client closes it. */
struct script {
    const char *head;
    int chunked;
    const struct piece *pieces;
    size_t npieces;
    int finish;
};

static const struct script *script;
static char last_request[4096]; /* the last request's line and headers */
static int connections;

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    char buf[4096];
    size_t len;
    size_t next; /* the next piece to write */
    int answered, closing, open_handles;
};

struct wreq {
    uv_write_t w;
    struct conn *conn;
    int close_after;
    char data[];
};

static void conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->open_handles == 0)
        free(c);
}

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->timer, conn_closed);
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void on_written(uv_write_t *w, int status)
{
    struct wreq *r = (struct wreq *)(void *)w;
    if ((status < 0 || r->close_after) && !r->conn->closing)
        conn_close(r->conn);
    free(r);
}

/* Queues a copy of p[0..len): the connection may outlive the caller's
 * buffer. A failed write closes the connection (the client went away). */
static void send_bytes(struct conn *c, const char *p, size_t len, int close_after)
{
    if (c->closing)
        return;
    struct wreq *r = malloc(sizeof *r + len + 1);
    if (!r) {
        conn_close(c);
        return;
    }
    memcpy(r->data, p, len);
    r->conn = c;
    r->close_after = close_after;
    uv_buf_t b = uv_buf_init(r->data, (unsigned)len);
    if (uv_write(&r->w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
        free(r);
        conn_close(c);
    }
}

/* One piece per tick, so the client reads them apart. */
static void on_tick(uv_timer_t *t)
{
    struct conn *c = t->data;
    const struct script *s = script;
    if (c->next < s->npieces) {
        const struct piece *p = &s->pieces[c->next++];
        if (s->chunked) {
            char size[24];
            int n = snprintf(size, sizeof size, "%zx\r\n", p->len);
            send_bytes(c, size, (size_t)n, 0);
            send_bytes(c, p->p, p->len, 0);
            send_bytes(c, "\r\n", 2, 0);
        } else {
            send_bytes(c, p->p, p->len, 0);
        }
        return;
    }
    uv_timer_stop(t);
    if (s->finish)
        send_bytes(c, s->chunked ? "0\r\n\r\n" : "", s->chunked ? 5 : 0, 1);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct conn *c = h->data;
    b->base = c->buf + c->len;
    b->len = sizeof c->buf - 1 - c->len;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct conn *c = st->data;
    if (n < 0 || (n == 0 && c->len == sizeof c->buf - 1)) {
        conn_close(c); /* EOF: the client is done with this connection */
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if (c->answered || !strstr(c->buf, "\r\n\r\n"))
        return;
    c->answered = 1;
    snprintf(last_request, sizeof last_request, "%s", c->buf);
    char head[512];
    int len = snprintf(head, sizeof head, "%s\r\nConnection: close\r\n%s\r\n", script->head,
                       script->chunked ? "Transfer-Encoding: chunked\r\n" : "");
    send_bytes(c, head, (size_t)len, 0);
    uv_timer_start(&c->timer, on_tick, 10, 10);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    uv_tcp_init(&loop, &c->tcp);
    uv_timer_init(&loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    connections++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        conn_close(c);
}

/* ---- the client side ---------------------------------------------------- */

struct got {
    char body[4096];
    size_t len;
    int chunks;
    int ends;
    int cancel_in_chunk; /* kube_watch_cancel from the first chunk */
    struct kube_stream *stream;
    int err;
    long http;
    int has_body;
    struct kstatus status;
};

static int on_chunk(void *ud, const char *data, size_t len)
{
    struct got *g = ud;
    g->chunks++;
    CHECK(g->ends == 0);
    if (g->len + len <= sizeof g->body) {
        memcpy(g->body + g->len, data, len);
        g->len += len;
    }
    if (g->cancel_in_chunk)
        kube_watch_cancel(g->stream);
    return 0;
}

static void on_end(void *ud, const struct kube_result *r)
{
    struct got *g = ud;
    g->ends++;
    g->err = r->err;
    g->http = r->http_status;
    g->has_body = r->body != NULL;
    g->status = r->status;
}

static void on_tick_count(uv_timer_t *t)
{
    (*(int *)t->data)++;
}

/* Runs the loop until end was called (or 5 s, a failure), then 50 ms more
 * so the server side sees the connection closed. A 5 ms tick keeps
 * UV_RUN_ONCE from sleeping in poll after the timer that called end. */
static void wait_end(struct got *g)
{
    uv_timer_t t;
    int ticks = 0;
    uv_timer_init(&loop, &t);
    t.data = &ticks;
    uv_timer_start(&t, on_tick_count, 5, 5);
    while (!g->ends && ticks < 1000)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK_INT(g->ends, 1);
    ticks = 0;
    while (ticks < 10) /* on_tick_count counts */
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_INT(g->ends, 1); /* exactly once */
}

/* The request line of the last request. */
static const char *request_line(void)
{
    static char line[1024];
    size_t n = strcspn(last_request, "\r");
    snprintf(line, sizeof line, "%.*s", (int)n, last_request);
    return line;
}

static int request_has_header(const char *name)
{
    char lower[sizeof last_request];
    size_t i;
    for (i = 0; last_request[i]; i++)
        lower[i] = (char)tolower((unsigned char)last_request[i]);
    lower[i] = '\0';
    char needle[64];
    snprintf(needle, sizeof needle, "\r\n%s:", name);
    return strstr(lower, needle) != NULL;
}

static void test_args(void)
{
    struct got g = {0};
    struct kube_stream *s = (struct kube_stream *)&g; /* must be cleared */
    struct kube_log_opts empty = {.container = ""}, neg_tail = {.tail_lines = -1},
                         neg_limit = {.limit_bytes = -1};
    CHECK_INT(kube_pod_log(kc, NULL, "p", NULL, on_chunk, on_end, &g, &s), -EINVAL);
    CHECK(s == NULL);
    CHECK_INT(kube_pod_log(kc, "", "p", NULL, on_chunk, on_end, &g, NULL), -EINVAL);
    CHECK_INT(kube_pod_log(kc, "ns", NULL, NULL, on_chunk, on_end, &g, NULL), -EINVAL);
    CHECK_INT(kube_pod_log(kc, "ns", "", NULL, on_chunk, on_end, &g, NULL), -EINVAL);
    CHECK_INT(kube_pod_log(kc, "ns", "..", NULL, on_chunk, on_end, &g, NULL), -EINVAL);
    CHECK_INT(kube_pod_log(kc, "ns", "p", &empty, on_chunk, on_end, &g, NULL), -EINVAL);
    CHECK_INT(kube_pod_log(kc, "ns", "p", &neg_tail, on_chunk, on_end, &g, NULL), -EINVAL);
    CHECK_INT(kube_pod_log(kc, "ns", "p", &neg_limit, on_chunk, on_end, &g, NULL), -EINVAL);
    CHECK_INT(kube_pod_log(kc, "ns", "p", NULL, NULL, on_end, &g, NULL), -EINVAL);
    CHECK_INT(kube_pod_log(kc, "ns", "p", NULL, on_chunk, NULL, &g, NULL), -EINVAL);
    CHECK_INT(kube_pod_log(NULL, "ns", "p", NULL, on_chunk, on_end, &g, NULL), -EINVAL);
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_INT(g.ends, 0); /* a refused call never calls back */
}

/* Split mid-character (the euro sign E2 82 AC), text that starts like JSON
 * but is not, a NUL and bytes that are not UTF-8 at all. */
static const char body_a[] = "2024-05-01T10:00:00Z step a starts\n{\"not\": json,\n\xe2\x82";
static const char body_b[] = "\xac 42\n";
static const char body_c[] = "raw \x00\xff\xfe bytes\n";

static void test_stream(void)
{
    static const struct piece pieces[] = {
        {body_a, sizeof body_a - 1},
        {body_b, sizeof body_b - 1},
        {body_c, sizeof body_c - 1},
    };
    static const struct script s = {"HTTP/1.1 200 OK\r\nContent-Type: text/plain", 1, pieces, 3, 1};
    script = &s;
    struct got g = {0};
    struct kube_log_opts o = {.container = "main",
                              .follow = 1,
                              .tail_lines = 100,
                              .limit_bytes = 1048576,
                              .timestamps = 1,
                              .previous = 1};
    CHECK_INT(kube_pod_log(kc, "ci", "build-1-a-x7k2p", &o, on_chunk, on_end, &g, &g.stream), 0);
    CHECK(g.stream != NULL);
    CHECK_INT(g.ends, 0); /* never from inside the call */
    wait_end(&g);
    CHECK_STR(request_line(), "GET /api/v1/namespaces/ci/pods/build-1-a-x7k2p/log?container=main"
                              "&follow=true&tailLines=100&limitBytes=1048576&timestamps=true"
                              "&previous=true HTTP/1.1");
    CHECK(!request_has_header("accept-encoding"));
    CHECK_INT(g.err, 0);
    CHECK_INT(g.http, 200);
    CHECK_INT(g.has_body, 0);
    CHECK(g.chunks >= 2);
    char want[256];
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        memcpy(want + n, pieces[i].p, pieces[i].len);
        n += pieces[i].len;
    }
    CHECK_INT(g.len, n);
    CHECK(g.len == n && memcmp(g.body, want, n) == 0);
}

/* Not chunked, not JSON, a single write: the whole log of a finished
 * container, and the defaults (no query at all). */
static void test_plain_body(void)
{
    static const char text[] = "hello\n";
    static const struct piece pieces[] = {{text, sizeof text - 1}};
    static const struct script s = {"HTTP/1.1 200 OK\r\nContent-Length: 6", 0, pieces, 1, 1};
    script = &s;
    struct got g = {0};
    CHECK_INT(kube_pod_log(kc, "ci", "p", NULL, on_chunk, on_end, &g, NULL), 0);
    wait_end(&g);
    CHECK_STR(request_line(), "GET /api/v1/namespaces/ci/pods/p/log HTTP/1.1");
    CHECK_INT(g.err, 0);
    CHECK_INT(g.http, 200);
    CHECK_INT(g.len, 6);
    CHECK(memcmp(g.body, "hello\n", 6) == 0);
}

static void test_escaping(void)
{
    static const struct script s = {"HTTP/1.1 200 OK\r\nContent-Length: 0", 0, NULL, 0, 1};
    script = &s;
    struct got g = {0};
    struct kube_log_opts o = {.container = "a b/c&d=e"};
    CHECK_INT(kube_pod_log(kc, "n s", "p/q", &o, on_chunk, on_end, &g, NULL), 0);
    wait_end(&g);
    CHECK_STR(request_line(),
              "GET /api/v1/namespaces/n%20s/pods/p%2Fq/log?container=a%20b%2Fc%26d%3De HTTP/1.1");
    CHECK_INT(g.err, 0);
    CHECK_INT(g.chunks, 0);
}

/* What the API server answers while the container is being created. */
static void test_refused(void)
{
    static char head[1024];
    static const char status[] =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"container \\\"main\\\" in pod \\\"p\\\" is waiting to start: "
        "ContainerCreating\",\"reason\":\"BadRequest\",\"code\":400}";
    static const struct piece pieces[] = {{status, sizeof status - 1}};
    snprintf(head, sizeof head,
             "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: %zu",
             sizeof status - 1);
    static struct script s = {NULL, 0, pieces, 1, 1};
    s.head = head;
    script = &s;
    struct got g = {0};
    struct kube_log_opts o = {.container = "main", .follow = 1};
    CHECK_INT(kube_pod_log(kc, "ci", "p", &o, on_chunk, on_end, &g, NULL), 0);
    wait_end(&g);
    CHECK_INT(g.chunks, 0); /* a refusal never reaches chunk */
    CHECK_INT(g.err, 0);
    CHECK_INT(g.http, 400);
    CHECK_INT(g.has_body, 1);
    CHECK_INT(g.status.code, 400);
    CHECK_STR(g.status.reason, "BadRequest");
    CHECK_STR(g.status.message, "container \"main\" in pod \"p\" is waiting to start: "
                                "ContainerCreating");

    /* A refusal without a Status body: synthesized from the code. */
    static const char text[] = "nope";
    static const struct piece tp[] = {{text, 4}};
    static const struct script s2 = {"HTTP/1.1 403 Forbidden\r\nContent-Length: 4", 0, tp, 1, 1};
    script = &s2;
    struct got g2 = {0};
    CHECK_INT(kube_pod_log(kc, "ci", "p", NULL, on_chunk, on_end, &g2, NULL), 0);
    wait_end(&g2);
    CHECK_INT(g2.chunks, 0);
    CHECK_INT(g2.err, 0);
    CHECK_INT(g2.http, 403);
    CHECK_STR(g2.status.reason, "Forbidden");
}

/* A followed log that never ends: cancelled from the first chunk, no chunk
 * after that even though the server keeps writing. */
static void test_cancel(void)
{
    static const char line[] = "tick\n";
    static const struct piece pieces[] = {
        {line, 5}, {line, 5}, {line, 5}, {line, 5}, {line, 5}, {line, 5},
    };
    static const struct script s = {"HTTP/1.1 200 OK\r\nContent-Type: text/plain", 1, pieces, 6, 0};
    script = &s;
    struct got g = {.cancel_in_chunk = 1};
    struct kube_log_opts o = {.follow = 1};
    CHECK_INT(kube_pod_log(kc, "ci", "p", &o, on_chunk, on_end, &g, &g.stream), 0);
    wait_end(&g);
    CHECK_INT(g.chunks, 1);
    CHECK_INT(g.err, -ECANCELED);

    /* Cancelled before it started: no request at all. */
    int before = connections;
    struct got g2 = {0};
    CHECK_INT(kube_pod_log(kc, "ci", "p", &o, on_chunk, on_end, &g2, &g2.stream), 0);
    kube_watch_cancel(g2.stream);
    kube_watch_cancel(g2.stream); /* idempotent */
    wait_end(&g2);
    CHECK_INT(g2.chunks, 0);
    CHECK_INT(g2.err, -ECANCELED);
    CHECK_INT(connections, before);
}

static void on_client_closed(void *ud)
{
    *(int *)ud = 1;
}

int main(void)
{
    log_setup(LOGL_OFF, LOG_FORMAT_LOGFMT, NULL);
    signal(SIGPIPE, SIG_IGN); /* the server writes on after a cancel closed the socket */
    uv_loop_init(&loop);
    uv_tcp_t server;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int alen = sizeof bound;
    uv_tcp_init(&loop, &server);
    uv_ip4_addr("127.0.0.1", 0, &addr);
    CHECK_INT(uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0), 0);
    CHECK_INT(uv_listen((uv_stream_t *)&server, 8, on_connection), 0);
    CHECK_INT(uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &alen), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d",
             ntohs(((struct sockaddr_in *)&bound)->sin_port));
    struct kcfg cfg = {.server = url};
    struct kube_options ko = {.http1_only = 1};
    CHECK_INT(kube_client_new(&loop, &cfg, &ko, &kc), 0);

    RUN(test_args);
    RUN(test_stream);
    RUN(test_plain_body);
    RUN(test_escaping);
    RUN(test_refused);
    RUN(test_cancel);

    int closed = 0;
    kube_client_close(kc, on_client_closed, &closed);
    uv_close((uv_handle_t *)&server, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(closed, 1);
    CHECK_INT(uv_loop_close(&loop), 0);
    return check_finish();
}
