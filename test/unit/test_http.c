/* The HTTP server on a uv loop, driven by libcurl from a client thread.
 *
 * The loop (and so every handler) runs on the main thread; the client
 * thread makes the requests and does the CHECKs while the main thread only
 * serves, then the main thread closes the servers and checks the loop is
 * left with no handles. */
#include "check.h"
#include "http/http.h"
#include "metrics/metrics.h"
#include "operator/metrics.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct app {
    uv_loop_t loop;
    uv_async_t done; /* the client thread finished its requests */
    uv_sem_t closed_sem;
    struct http_server *srv, *srv2;
    int port, port2, closed, closed2;
    struct metrics_buf metrics;
    int quit_calls;
    int in_flight_at_close;
};

/* --- handlers (main thread) ------------------------------------------------ */

static int on_healthz(void *ud, const struct http_request *req, struct http_response *resp)
{
    return http_response_append(resp, "ok\n", 3);
}

static int on_metrics(void *ud, const struct http_request *req, struct http_response *resp)
{
    struct app *a = ud;
    http_response_set_type(resp, METRICS_CONTENT_TYPE);
    return http_response_append(resp, a->metrics.data, a->metrics.len);
}

/* Echoes the body; says what it saw in headers-as-body lines before it. */
static int on_echo(void *ud, const struct http_request *req, struct http_response *resp)
{
    char ctype[128];
    snprintf(ctype, sizeof ctype, "application/x-echo; was=\"%s\"", req->content_type);
    http_response_set_type(resp, ctype);
    resp->status = 201;
    http_response_printf(resp, "%s %s ?%s len=%zu\n", req->method_name, req->path, req->query,
                         req->body_len);
    return http_response_append(resp, req->body, req->body_len);
}

static int on_fail(void *ud, const struct http_request *req, struct http_response *resp)
{
    http_response_append(resp, "partial", 7);
    return -EIO;
}

static void on_srv2_closed(void *ud)
{
    struct app *a = ud;
    a->closed2++;
}

/* Closing from inside a handler: the response is dropped with the
 * connection, the server goes away cleanly. */
static int on_quit(void *ud, const struct http_request *req, struct http_response *resp)
{
    struct app *a = ud;
    a->quit_calls++;
    http_server_close(a->srv2, on_srv2_closed, a);
    http_server_close(a->srv2, on_srv2_closed, a); /* ignored */
    return http_response_append(resp, "bye\n", 4);
}

static const struct http_route routes[] = {
    {"/healthz", 0, on_healthz},
    {"/metrics", HTTP_GET, on_metrics},
    {"/echo", HTTP_POST | HTTP_PUT, on_echo},
    {"/fail", HTTP_GET, on_fail},
};

static const struct http_route routes2[] = {
    {"/healthz", HTTP_GET, on_healthz},
    {"/quit", HTTP_POST, on_quit},
};

/* --- client (thread) ---------------------------------------------------------- */

struct reply {
    long status;
    char *body;
    size_t len;
    char ctype[160];
    char allow[64];
    long long clen; /* Content-Length, -1 when none */
    long connects;  /* new connections made for this request */
    CURLcode rc;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    char *b = realloc(r->body, r->len + size * n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, p, size * n);
    r->body = b;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n;
    if (len > 6 && strncasecmp(p, "allow:", 6) == 0) {
        size_t vl = len - 6;
        while (vl && (p[6 + vl - 1] == '\r' || p[6 + vl - 1] == '\n'))
            vl--;
        snprintf(r->allow, sizeof r->allow, "%.*s", (int)vl, p + 6);
    }
    return len;
}

/* One request on h (reused, so connections are kept alive). */
static void fetch(CURL *h, int port, const char *method, const char *path, const char *body,
                  size_t body_len, struct curl_slist *hdrs, struct reply *r)
{
    char url[256];
    memset(r, 0, sizeof *r);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 100L);
    if (hdrs)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    r->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(r->ctype, sizeof r->ctype, "%s", ct ? ct : "");
    curl_off_t cl = -1;
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    r->clen = cl;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->connects);
}

static void reply_free(struct reply *r)
{
    free(r->body);
    r->body = NULL;
}

static void client_basic(struct app *a, CURL *h)
{
    struct reply r;
    fetch(h, a->port, "GET", "/healthz", NULL, 0, NULL, &r);
    CHECK_INT(r.rc, CURLE_OK);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "ok\n");
    CHECK_STR(r.ctype, "text/plain; charset=utf-8");
    reply_free(&r);

    /* Same handle: the connection is kept alive and reused. */
    fetch(h, a->port, "GET", "/metrics", NULL, 0, NULL, &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
    CHECK_INT(r.len, a->metrics.len);
    CHECK(r.body && memcmp(r.body, a->metrics.data, a->metrics.len) == 0);
    CHECK_INT(r.connects, 0);
    reply_free(&r);

    fetch(h, a->port, "HEAD", "/metrics", NULL, 0, NULL, &r);
    CHECK_INT(r.rc, CURLE_OK);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.len, 0);
    CHECK_INT(r.clen, (long long)a->metrics.len);
    reply_free(&r);

    fetch(h, a->port, "GET", "/nope", NULL, 0, NULL, &r);
    CHECK_INT(r.status, 404);
    CHECK_STR(r.body, "not found\n");
    reply_free(&r);

    fetch(h, a->port, "DELETE", "/healthz", NULL, 0, NULL, &r);
    CHECK_INT(r.status, 405);
    CHECK_STR(r.allow, " GET, HEAD");
    reply_free(&r);

    fetch(h, a->port, "GET", "/echo", NULL, 0, NULL, &r);
    CHECK_INT(r.status, 405);
    CHECK_STR(r.allow, " POST, PUT");
    reply_free(&r);

    fetch(h, a->port, "GET", "/fail", NULL, 0, NULL, &r);
    CHECK_INT(r.status, 500);
    CHECK_STR(r.body, "internal error\n");
    CHECK_INT(r.connects, 0); /* still the first connection */
    reply_free(&r);
}

static void client_bodies(struct app *a, CURL *h)
{
    struct reply r;
    struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");
    static const char body[] = "{\"run\":\"a\\u0000b\"}\0tail";
    fetch(h, a->port, "POST", "/echo?a=1&b=x%20y", body, sizeof body, json, &r);
    CHECK_INT(r.status, 201);
    CHECK_STR(r.ctype, "application/x-echo; was=\"application/json\"");
    char want[128];
    int n = snprintf(want, sizeof want, "POST /echo ?a=1&b=x y len=%zu\n", sizeof body);
    CHECK_INT(r.len, (size_t)n + sizeof body);
    CHECK(r.body && memcmp(r.body, want, (size_t)n) == 0);
    CHECK(r.body && memcmp(r.body + n, body, sizeof body) == 0);
    reply_free(&r);

    /* Up to the limit is fine; one byte more is refused. */
    char *big = malloc(HTTP_MAX_BODY + 1);
    for (size_t i = 0; i < HTTP_MAX_BODY + 1; i++)
        big[i] = (char)('a' + i % 26);
    fetch(h, a->port, "PUT", "/echo", big, HTTP_MAX_BODY, NULL, &r);
    CHECK_INT(r.status, 201);
    CHECK(r.len > HTTP_MAX_BODY && memcmp(r.body + r.len - HTTP_MAX_BODY, big, HTTP_MAX_BODY) == 0);
    reply_free(&r);
    fetch(h, a->port, "POST", "/echo", big, HTTP_MAX_BODY + 1, NULL, &r);
    CHECK_INT(r.status, 413);
    reply_free(&r);

    /* Without a length (chunked): decoded here, and the connection closes
     * after the answer (lws counts what follows the body as body). */
    struct curl_slist *chunked = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    fetch(h, a->port, "POST", "/echo", "small", 5, chunked, &r);
    CHECK_INT(r.status, 201);
    CHECK_STR(r.body, "POST /echo ? len=5\nsmall");
    reply_free(&r);
    fetch(h, a->port, "GET", "/healthz", NULL, 0, NULL, &r);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.connects, 1);
    reply_free(&r);
    curl_slist_free_all(chunked);

    /* A body sent to a path that does not take one is not read; the
     * connection closes after the answer, and the next request works. */
    fetch(h, a->port, "POST", "/healthz", "x=1", 3, NULL, &r);
    CHECK_INT(r.status, 405);
    reply_free(&r);
    fetch(h, a->port, "GET", "/healthz", NULL, 0, NULL, &r);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.connects, 1);
    reply_free(&r);
    free(big);
    curl_slist_free_all(json);
}

static void client_second_server(struct app *a, CURL *h)
{
    struct reply r;
    fetch(h, a->port2, "GET", "/healthz", NULL, 0, NULL, &r);
    CHECK_INT(r.status, 200);
    reply_free(&r);
    /* The handler closes its own server: the answer may or may not make it
     * out before the connection is dropped, but the server must go. */
    fetch(h, a->port2, "POST", "/quit", "", 0, NULL, &r);
    reply_free(&r);
    for (int i = 0; i < 100; i++) {
        fetch(h, a->port2, "GET", "/healthz", NULL, 0, NULL, &r);
        reply_free(&r);
        if (r.rc == CURLE_COULDNT_CONNECT)
            break;
        usleep(20000);
    }
    CHECK_INT(r.rc, CURLE_COULDNT_CONNECT);
}

static void client_main(void *arg)
{
    struct app *a = arg;
    CURL *h = curl_easy_init(), *idle = curl_easy_init();
    client_basic(a, h);
    client_bodies(a, h);
    client_second_server(a, h);

    /* Leave a kept-alive connection open across the server's close. */
    struct reply r;
    fetch(idle, a->port, "GET", "/healthz", NULL, 0, NULL, &r);
    CHECK_INT(r.status, 200);
    reply_free(&r);
    curl_easy_cleanup(h);

    uv_async_send(&a->done);
    uv_sem_wait(&a->closed_sem);
    fetch(idle, a->port, "GET", "/healthz", NULL, 0, NULL, &r);
    CHECK(r.rc != CURLE_OK); /* closed, and no longer listening */
    reply_free(&r);
    curl_easy_cleanup(idle);
}

/* --- main thread ---------------------------------------------------------------- */

static void on_srv_closed(void *ud)
{
    struct app *a = ud;
    a->closed++;
    uv_sem_post(&a->closed_sem);
    uv_close((uv_handle_t *)&a->done, NULL);
}

static void on_done(uv_async_t *h)
{
    struct app *a = h->data;
    /* The idle client's connection is still open, no request pending. */
    a->in_flight_at_close = (int)http_server_requests_in_flight(a->srv);
    http_server_close(a->srv, on_srv_closed, a);
}

static void test_bad_addresses(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct http_server *s = (struct http_server *)&loop;
    static const char *const bad[] = {"nope",   "8080",       "host:80",  "[::1:80",
                                      ":99999", "127.0.0.1:", "1.2.3:80", "[127.0.0.1]:80",
                                      "::1:80", ":-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(http_server_new(&loop, bad[i], routes, 1, NULL, &s), -EINVAL);
        CHECK(s == NULL);
    }
    static const struct http_route no_slash[] = {{"healthz", 0, on_healthz}};
    CHECK_INT(http_server_new(&loop, ":0", no_slash, 1, NULL, &s), -EINVAL);
    CHECK_INT(uv_run(&loop, UV_RUN_DEFAULT), 0);
    CHECK_INT(uv_loop_close(&loop), 0);
}

static void count_closed(void *ud)
{
    (*(int *)ud)++;
}

/* A port in use: an error now, and nothing left on the loop afterwards. */
static void test_port_in_use(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct http_server *a = NULL, *b = NULL;
    int closed = 0;
    CHECK_INT(http_server_new(&loop, "127.0.0.1:0", routes, 1, NULL, &a), 0);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", http_server_port(a));
    CHECK_INT(http_server_new(&loop, addr, routes, 1, NULL, &b), -EADDRINUSE);
    CHECK(b == NULL);
    /* Every interface, and IPv6 loopback when the kernel has IPv6. */
    CHECK_INT(http_server_new(&loop, ":0", routes, 1, NULL, &b), 0);
    CHECK(b && http_server_port(b) > 0);
    if (b)
        http_server_close(b, count_closed, &closed);
    if (access("/proc/net/if_inet6", F_OK) == 0) {
        CHECK_INT(http_server_new(&loop, "[::1]:0", routes, 1, NULL, &b), 0);
        CHECK(b && http_server_port(b) > 0);
        if (b)
            http_server_close(b, count_closed, &closed);
    }
    http_server_close(a, count_closed, &closed);
    CHECK_INT(uv_run(&loop, UV_RUN_DEFAULT), 0);
    CHECK_INT(closed, access("/proc/net/if_inet6", F_OK) == 0 ? 3 : 2);
    CHECK_INT(uv_loop_close(&loop), 0);
}

static void fill_metrics(struct metrics_buf *b)
{
    metrics_buf_init(b);
    metrics_render_operator(b, NULL, NULL, 0, NULL, 1, NULL);
    metrics_family(b, "rb_test_series", METRICS_GAUGE, "Enough lines for several writes.");
    char id[16];
    for (int i = 0; i < 3000; i++) {
        snprintf(id, sizeof id, "%d", i);
        metrics_sample_u64(b, "rb_test_series", (uint64_t)i * 7, "id", id, NULL);
    }
}

static void test_serve(void)
{
    struct app *a = calloc(1, sizeof *a);
    fill_metrics(&a->metrics);
    CHECK_INT(a->metrics.err, 0);
    CHECK(a->metrics.len > 64 * 1024);

    /* Push the listening fds past lws's table size (HTTP_FD_LIMIT). */
    int fds[300];
    for (int i = 0; i < 300; i++)
        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);

    uv_loop_init(&a->loop);
    uv_sem_init(&a->closed_sem, 0);
    uv_async_init(&a->loop, &a->done, on_done);
    a->done.data = a;
    CHECK_INT(http_server_new(&a->loop, "127.0.0.1:0", routes, 4, a, &a->srv), 0);
    CHECK_INT(http_server_new(&a->loop, "localhost:0", routes2, 2, a, &a->srv2), 0);
    if (!a->srv || !a->srv2)
        return;
    a->port = http_server_port(a->srv);
    a->port2 = http_server_port(a->srv2);
    CHECK(a->port > 0 && a->port2 > 0 && a->port != a->port2);

    uv_thread_t client;
    uv_thread_create(&client, client_main, a);
    int run = uv_run(&a->loop, UV_RUN_DEFAULT);
    uv_thread_join(&client); /* CHECKs are not thread-safe: none until here */
    CHECK_INT(run, 0);
    CHECK_INT(a->in_flight_at_close, 0);
    CHECK_INT(a->closed, 1);
    CHECK_INT(a->closed2, 1);
    CHECK_INT(a->quit_calls, 1);
    CHECK_INT(uv_loop_close(&a->loop), 0);
    uv_sem_destroy(&a->closed_sem);
    for (int i = 0; i < 300; i++)
        close(fds[i]);
    metrics_buf_free(&a->metrics);
    free(a);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_bad_addresses);
    RUN(test_port_in_use);
    RUN(test_serve);
    curl_global_cleanup();
    return check_finish();
}
