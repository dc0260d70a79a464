/* The HTTP server's webhook side: request headers, deferred answers,
 * response headers, chunked bodies and per-server options.
 *
 * As in test_http.c, the loop (and every handler) runs on the main thread
 * and a client thread makes the requests, with libcurl or, where the bytes
 * on the wire matter (chunk framing, a client that walks away), a raw
 * socket. The client thread only records; CHECKs on the main thread's
 * state run after the thread is joined. */
#include "check.h"
#include "http/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_BODY 64

struct app {
    uv_loop_t loop;
    uv_async_t done;
    uv_sem_t deferred_sem; /* a /hooks/hang/ request was deferred */
    uv_sem_t gone_sem;     /* an on_gone ran */
    struct http_server *srv;
    int port;
    /* main thread only, read after the join */
    int gone_calls, gone_in_flight[4], gone_before_closed, closed;
    int complete_after_gone_rc;
    int set_header_rc[6];
    int defer_twice_null;
    int in_flight_while_deferred;
    /* read by the client thread */
    atomic_int hang_deferred;
};

/* --- handlers (main thread) ------------------------------------------------ */

static const char *const shown[] = {
    "X-Hub-Signature-256", "x-github-delivery",   "X-GitHub-Event",      "X-Gitlab-Token",
    "X-GITLAB-EVENT-UUID", "X-Runbook-Signature", "x-runbook-timestamp", "Idempotency-Key",
    "X-Custom-Thing",      "X-Not-Captured",      "User-Agent",          "Content-Type",
};

/* Says which headers it sees: "name=value" lines, "-" for absent ones,
 * then "listed:" and whether each of them is in req->headers. */
static int on_hdr(void *ud, const struct http_request *req, struct http_response *resp)
{
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        const char *v = http_request_header(req, shown[i]);
        http_response_printf(resp, "%s=%s\n", shown[i], v ? v : "-");
    }
    http_response_printf(resp, "listed:");
    for (size_t i = 0; i < req->n_headers; i++)
        if (strncmp(req->headers[i].name, "x-", 2) == 0 ||
            strcmp(req->headers[i].name, "idempotency-key") == 0)
            http_response_printf(resp, " %s", req->headers[i].name);
    return http_response_printf(resp, "\n");
}

static int on_echo(void *ud, const struct http_request *req, struct http_response *resp)
{
    return http_response_append(resp, req->body, req->body_len);
}

/* A synchronous 503 with Retry-After; the bad headers are refused. */
static int on_retry(void *ud, const struct http_request *req, struct http_response *resp)
{
    struct app *a = ud;
    resp->status = 503;
    a->set_header_rc[0] = http_response_set_header(resp, "Retry-After", "3");
    a->set_header_rc[1] = http_response_set_header(resp, "X-Evil", "a\r\nSet-Cookie: x=1");
    a->set_header_rc[2] = http_response_set_header(resp, "X-Evil\r\nA", "b");
    a->set_header_rc[3] = http_response_set_header(resp, "Content-Length", "1");
    a->set_header_rc[4] = http_response_set_header(resp, "X Space", "b");
    a->set_header_rc[5] = http_response_set_header(resp, "Content-Type", "application/json");
    return http_response_append(resp, "{}", 2);
}

/* One deferred request; freed by whichever of its timer or on_gone ends
 * it (the timer is closed first when on_gone comes while it is armed). */
struct pending {
    uv_timer_t timer;
    struct app *a;
    struct http_deferred *d;
    int status;
    char text[256];
};

static void pending_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_gone(void *ud, struct http_deferred *d)
{
    struct pending *p = ud;
    struct app *a = p->a;
    if (a->gone_calls < 4)
        a->gone_in_flight[a->gone_calls] = (int)http_server_requests_in_flight(a->srv);
    a->gone_calls++;
    /* Invalid from here: completing it is refused, nothing freed twice. */
    a->complete_after_gone_rc = http_deferred_complete(d);
    p->d = NULL;
    uv_sem_post(&a->gone_sem);
    uv_close((uv_handle_t *)&p->timer, pending_closed);
}

static void on_later(uv_timer_t *t)
{
    struct pending *p = t->data;
    struct http_response *r = http_deferred_response(p->d);
    r->status = p->status;
    if (p->status == 503)
        http_response_set_header(r, "Retry-After", "3");
    http_response_printf(r, "%s", p->text);
    http_deferred_complete(p->d);
    p->d = NULL;
    uv_close((uv_handle_t *)&p->timer, pending_closed);
}

/* /hooks/{ok,busy,slow,hang,now,fail}/ns/trigger: answered 201 after a
 * timer, 503 after a timer, 201 after 6 s, never, from inside the handler,
 * or the handler fails after deferring. */
static int on_hook(void *ud, const struct http_request *req, struct http_response *resp)
{
    struct app *a = ud;
    struct pending *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->a = a;
    uv_timer_init(&a->loop, &p->timer);
    p->timer.data = p;
    snprintf(p->text, sizeof p->text, "%s %.*s", req->path, (int)req->body_len, req->body);
    p->d = http_response_defer(resp, on_gone, p);
    if (!p->d) {
        uv_close((uv_handle_t *)&p->timer, pending_closed);
        return -ENOMEM;
    }
    a->defer_twice_null += http_response_defer(resp, on_gone, p) == NULL;
    a->in_flight_while_deferred = (int)http_server_requests_in_flight(a->srv);
    http_response_append(resp, "ignored", 7);
    if (strncmp(req->path, "/hooks/ok/", 10) == 0 || strncmp(req->path, "/hooks/busy/", 12) == 0) {
        p->status = req->path[7] == 'o' ? 201 : 503;
        uv_timer_start(&p->timer, on_later, 50, 0);
    } else if (strncmp(req->path, "/hooks/slow/", 12) == 0) {
        /* Past lws's 5 s timeout, which it re-arms after a chunked body. */
        p->status = 201;
        uv_timer_start(&p->timer, on_later, 6000, 0);
    } else if (strncmp(req->path, "/hooks/now/", 11) == 0) {
        struct http_response *r = http_deferred_response(p->d);
        r->status = 202;
        http_response_printf(r, "now");
        http_deferred_complete(p->d);
        p->d = NULL;
        uv_close((uv_handle_t *)&p->timer, pending_closed);
    } else if (strncmp(req->path, "/hooks/fail/", 12) == 0) {
        return -EIO; /* on_gone frees p */
    } else {
        atomic_fetch_add(&a->hang_deferred, 1);
        uv_sem_post(&a->deferred_sem);
    }
    return 0;
}

static const struct http_route routes[] = {
    {"/hdr", HTTP_GET | HTTP_POST, on_hdr, 0},
    {"/echo", HTTP_POST | HTTP_PUT | HTTP_DELETE, on_echo, 0},
    {"/retry", HTTP_GET, on_retry, 0},
    {"/hooks/", HTTP_POST, on_hook, HTTP_ROUTE_PREFIX},
};

/* --- client (thread) ---------------------------------------------------------- */

struct reply {
    long status;
    char body[4096];
    size_t len;
    char retry_after[32];
    char ctype[64];
    CURLcode rc;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n, room = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, len < room ? len : room);
    r->len += len < room ? len : room;
    r->body[r->len] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0)
        snprintf(r->retry_after, sizeof r->retry_after, "%.*s", (int)strcspn(p + 12, "\r\n"),
                 p + 12);
    return len;
}

static void fetch(int port, const char *method, const char *path, const char *body, size_t body_len,
                  struct curl_slist *hdrs, struct reply *r)
{
    char url[256];
    memset(r, 0, sizeof *r);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 100L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hooktest/1");
    if (hdrs)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (strcmp(method, "GET") != 0)
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
    curl_easy_cleanup(h);
}

static int raw_connect(int port)
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

/* Sends parts (a short pause between them, so the server gets them in
 * separate reads) and reads until the server closes. Returns the status,
 * 0 when the server closed without answering, -1 on a timeout. */
static int raw_request(int port, const char *const *parts, char *out, size_t cap)
{
    int fd = raw_connect(port);
    if (fd < 0)
        return -1;
    for (size_t i = 0; parts[i]; i++) {
        if (i)
            usleep(20000);
        if (send(fd, parts[i], strlen(parts[i]), MSG_NOSIGNAL) < 0)
            break;
    }
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = recv(fd, out + len, cap - 1 - len, 0)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(fd);
    if (n < 0 && len == 0)
        return -1;
    int status = 0;
    if (sscanf(out, "HTTP/1.1 %d", &status) != 1)
        status = 0;
    return status;
}

/* The client's results, checked after the join. */
struct results {
    struct reply hdr, hdr_big, retry, ok, busy, now, fail, okchunked, slow;
    struct reply limit_ok, limit_over;
    int chunked_status[13];
    char chunked_out[13][1024];
    int hang_closed_status;
};

static void client_headers(struct app *a, struct results *res)
{
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "X-Hub-Signature-256: sha256=abc123");
    h = curl_slist_append(h, "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958");
    h = curl_slist_append(h, "x-github-event: push");
    h = curl_slist_append(h, "X-GITLAB-TOKEN: s3cret");
    h = curl_slist_append(h, "X-Gitlab-Event-UUID: 13792a34");
    h = curl_slist_append(h, "X-Runbook-Signature: t=1,v1=ff");
    h = curl_slist_append(h, "X-Runbook-Timestamp: 1700000000");
    h = curl_slist_append(h, "Idempotency-Key: key-1");
    h = curl_slist_append(h, "X-Custom-THING: mine");
    h = curl_slist_append(h, "X-Not-Captured: lazily");
    h = curl_slist_append(h, "Content-Type: application/json");
    fetch(a->port, "POST", "/hdr", "{}", 2, h, &res->hdr);
    curl_slist_free_all(h);

    /* Past max_header_bytes: lws gives up on the request. */
    char *big = malloc(10100);
    memcpy(big, "X-Big: ", 7);
    memset(big + 7, 'b', 10000);
    big[10007] = '\0';
    h = curl_slist_append(NULL, big);
    fetch(a->port, "GET", "/hdr", NULL, 0, h, &res->hdr_big);
    curl_slist_free_all(h);
    free(big);

    fetch(a->port, "GET", "/retry", NULL, 0, NULL, &res->retry);
}

static void client_deferred(struct app *a, struct results *res)
{
    fetch(a->port, "POST", "/hooks/ok/ns1/deploy", "{\"a\":1}", 7, NULL, &res->ok);
    fetch(a->port, "POST", "/hooks/busy/ns1/deploy", "", 0, NULL, &res->busy);
    fetch(a->port, "POST", "/hooks/now/ns1/deploy", "", 0, NULL, &res->now);
    fetch(a->port, "POST", "/hooks/fail/ns1/deploy", "", 0, NULL, &res->fail);
    struct curl_slist *te = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    fetch(a->port, "POST", "/hooks/ok/ns2/t", "chunky", 6, te, &res->okchunked);
    fetch(a->port, "POST", "/hooks/slow/ns2/t", "later", 5, te, &res->slow);
    curl_slist_free_all(te);

    /* A client that gives up while the answer is deferred: on_gone. */
    int fd = raw_connect(a->port);
    const char req[] = "POST /hooks/hang/ns/t HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
    send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
    uv_sem_wait(&a->deferred_sem);
    close(fd);
    uv_sem_wait(&a->gone_sem);
}

static void client_chunked(struct app *a, struct results *res)
{
    static const char *const head = "POST /echo HTTP/1.1\r\nHost: x\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n";
    const char *const reqs[][6] = {
        /* 0: chunks, extensions and a trailer, in separate reads */
        {head, "3;ext=1\r\nab", "c\r\n2 ; name=\"v\"\r\nde\r\n", "0\r\nX-Trailer: t\r\n\r\n", NULL},
        /* 1: exactly the limit */
        {head, "40\r\n", "0123456789012345678901234567890123456789012345678901234567890123",
         "\r\n0\r\n\r\n", NULL},
        /* 2: one decoded byte over, in two chunks */
        {head, "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n",
         "1\r\nx\r\n0\r\n\r\n", NULL},
        /* 3: a chunk size over the limit, announced before any data */
        {head, "ffffff\r\n", NULL},
        /* 4-7: malformed */
        {head, "zz\r\nabc\r\n0\r\n\r\n", NULL},
        {head, "3\r\nabcX\r\n0\r\n\r\n", NULL},
        {head, "3\nabc\r\n0\r\n\r\n", NULL},
        {head, "fffffffffffffffffff\r\n", NULL},
        /* 8: both framings */
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         NULL},
        /* 9: a coding the server does not decode */
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
         NULL},
        /* 10: chunked on a method lws reads no body for */
        {"DELETE /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", NULL},
        /* 11: Content-Length over max_body */
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n", NULL},
        /* 12: a negative Content-Length */
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", NULL},
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
        res->chunked_status[i] =
            raw_request(a->port, reqs[i], res->chunked_out[i], sizeof res->chunked_out[i]);

    char body[MAX_BODY + 1];
    memset(body, 'q', sizeof body);
    fetch(a->port, "POST", "/echo", body, MAX_BODY, NULL, &res->limit_ok);
    fetch(a->port, "POST", "/echo", body, MAX_BODY + 1, NULL, &res->limit_over);
}

struct client_arg {
    struct app *a;
    struct results *res;
};

static void client_main(void *arg)
{
    struct client_arg *ca = arg;
    struct app *a = ca->a;
    client_headers(a, ca->res);
    client_deferred(a, ca->res);
    client_chunked(a, ca->res);

    /* Close the server with a deferred request pending: on_gone, then the
     * connection is dropped without an answer. */
    int fd = raw_connect(a->port);
    const char req[] = "POST /hooks/hang/ns/u HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
    uv_sem_wait(&a->deferred_sem);
    uv_async_send(&a->done);
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    ca->res->hang_closed_status = (int)n; /* 0: closed without a byte */
    close(fd);
}

/* --- main thread ---------------------------------------------------------------- */

static void on_closed(void *ud)
{
    struct app *a = ud;
    a->closed++;
    a->gone_before_closed = a->gone_calls;
    uv_close((uv_handle_t *)&a->done, NULL);
}

static void on_done(uv_async_t *h)
{
    struct app *a = h->data;
    http_server_close(a->srv, on_closed, a);
}

static void check_results(struct app *a, struct results *res)
{
    struct reply *r = &res->hdr;
    CHECK_INT(r->status, 200);
    CHECK_CONTAINS(r->body, "X-Hub-Signature-256=sha256=abc123\n");
    CHECK_CONTAINS(r->body, "x-github-delivery=72d3162e-cc78-11e3-81ab-4c9367dc0958\n");
    CHECK_CONTAINS(r->body, "X-GitHub-Event=push\n");
    CHECK_CONTAINS(r->body, "X-Gitlab-Token=s3cret\n");
    CHECK_CONTAINS(r->body, "X-GITLAB-EVENT-UUID=13792a34\n");
    CHECK_CONTAINS(r->body, "X-Runbook-Signature=t=1,v1=ff\n");
    CHECK_CONTAINS(r->body, "x-runbook-timestamp=1700000000\n");
    CHECK_CONTAINS(r->body, "Idempotency-Key=key-1\n");
    CHECK_CONTAINS(r->body, "X-Custom-Thing=mine\n");
    CHECK_CONTAINS(r->body, "X-Not-Captured=lazily\n");
    CHECK_CONTAINS(r->body, "User-Agent=hooktest/1\n");
    CHECK_CONTAINS(r->body, "Content-Type=application/json\n");
    /* Listed: the captured ones, not the one only looked up by name. */
    CHECK_CONTAINS(r->body, "listed:");
    CHECK_CONTAINS(r->body, " x-hub-signature-256");
    CHECK_CONTAINS(r->body, " x-gitlab-token");
    CHECK_CONTAINS(r->body, " idempotency-key");
    CHECK_CONTAINS(r->body, " x-custom-thing");
    CHECK(strstr(r->body, " x-not-captured") == NULL);
    /* Too many header bytes: no answer (lws drops the request). */
    CHECK(res->hdr_big.status != 200);

    CHECK_INT(res->retry.status, 503);
    CHECK_STR(res->retry.retry_after, " 3");
    CHECK_STR(res->retry.ctype, "application/json");
    CHECK_STR(res->retry.body, "{}");
    CHECK_INT(a->set_header_rc[0], 0);
    CHECK_INT(a->set_header_rc[1], -EINVAL);
    CHECK_INT(a->set_header_rc[2], -EINVAL);
    CHECK_INT(a->set_header_rc[3], -EINVAL);
    CHECK_INT(a->set_header_rc[4], -EINVAL);
    CHECK_INT(a->set_header_rc[5], 0);

    CHECK_INT(res->ok.status, 201);
    CHECK_STR(res->ok.body, "/hooks/ok/ns1/deploy {\"a\":1}");
    CHECK_INT(res->busy.status, 503);
    CHECK_STR(res->busy.retry_after, " 3");
    CHECK_INT(res->now.status, 202);
    CHECK_STR(res->now.body, "now");
    CHECK_INT(res->fail.status, 500);
    CHECK_INT(res->okchunked.status, 201);
    CHECK_STR(res->okchunked.body, "/hooks/ok/ns2/t chunky");
    CHECK_INT(res->slow.status, 201);
    CHECK_STR(res->slow.body, "/hooks/slow/ns2/t later");
    CHECK(a->defer_twice_null >= 6);
    CHECK_INT(a->in_flight_while_deferred, 1);

    static const int want[] = {200, 200, 413, 413, 400, 400, 400, 400, 400, 501, 411, 413, 400};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (res->chunked_status[i] != want[i])
            fprintf(stderr, "chunked request %zu:\n%s\n", i, res->chunked_out[i]);
        CHECK_INT(res->chunked_status[i], want[i]);
        CHECK_CONTAINS(res->chunked_out[i], "connection: close\r\n");
    }
    CHECK_CONTAINS(res->chunked_out[0], "\r\n\r\nabcde");
    CHECK_CONTAINS(res->chunked_out[1],
                   "\r\n\r\n0123456789012345678901234567890123456789012345678901234567890123");
    CHECK_INT(res->limit_ok.status, 200);
    CHECK_INT(res->limit_ok.len, MAX_BODY);
    CHECK_INT(res->limit_over.status, 413);

    /* fail (on_gone at once), the client that left, the server close. */
    CHECK_INT(a->gone_calls, 3);
    CHECK_INT(a->complete_after_gone_rc, -EINVAL);
    /* Still answering 500; the connection already gone; not yet dropped. */
    CHECK_INT(a->gone_in_flight[0], 1);
    CHECK_INT(a->gone_in_flight[1], 0);
    CHECK_INT(a->gone_in_flight[2], 1);
    CHECK_INT(a->gone_before_closed, 3);
    CHECK_INT(a->closed, 1);
    CHECK_INT(res->hang_closed_status, 0);
}

static void test_hooks(void)
{
    struct app *a = calloc(1, sizeof *a);
    struct results *res = calloc(1, sizeof *res);
    uv_loop_init(&a->loop);
    uv_sem_init(&a->deferred_sem, 0);
    uv_sem_init(&a->gone_sem, 0);
    uv_async_init(&a->loop, &a->done, on_done);
    a->done.data = a;
    static const char *const capture[] = {"X-Custom-Thing", NULL};
    struct http_server_opts opts = {.max_body = MAX_BODY, .capture_headers = capture};
    CHECK_INT(http_server_new_opts(&a->loop, "127.0.0.1:0", routes, 4, a, &opts, &a->srv), 0);
    if (a->srv) {
        a->port = http_server_port(a->srv);
        uv_thread_t client;
        struct client_arg ca = {a, res};
        uv_thread_create(&client, client_main, &ca);
        int run = uv_run(&a->loop, UV_RUN_DEFAULT);
        uv_thread_join(&client);
        CHECK_INT(run, 0);
        check_results(a, res);
    } else {
        uv_close((uv_handle_t *)&a->done, NULL);
        uv_run(&a->loop, UV_RUN_DEFAULT);
    }
    CHECK_INT(uv_loop_close(&a->loop), 0);
    uv_sem_destroy(&a->deferred_sem);
    uv_sem_destroy(&a->gone_sem);
    free(res);
    free(a);
}

static int on_nothing(void *ud, const struct http_request *req, struct http_response *resp)
{
    return 0;
}

static void test_bad_opts(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct http_server *s = NULL;
    static const struct http_route r[] = {{"/x", 0, on_nothing, 0}};
    static const struct http_route bad_flags[] = {{"/x", 0, on_nothing, 8}};
    struct http_server_opts o = {.tls_cert = "/nonexistent.pem"};
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", r, 1, NULL, &o, &s), -EINVAL);
    o = (struct http_server_opts){.max_header_bytes = 70000};
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", r, 1, NULL, &o, &s), -EINVAL);
    static const char *const bad_name[] = {"X Bad", NULL};
    o = (struct http_server_opts){.capture_headers = bad_name};
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", r, 1, NULL, &o, &s), -EINVAL);
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", bad_flags, 1, NULL, NULL, &s), -EINVAL);
    CHECK(s == NULL);
    /* A response that is not a handler's cannot be deferred. */
    struct http_response resp = {.status = 200};
    CHECK(http_response_defer(&resp, NULL, NULL) == NULL);
    CHECK_INT(uv_run(&loop, UV_RUN_DEFAULT), 0);
    CHECK_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_bad_opts);
    RUN(test_hooks);
    curl_global_cleanup();
    return check_finish();
}
