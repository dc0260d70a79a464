/* server.c - the lws context on a foreign uv loop: creation, listening
 * address, and the two-phase destroy.
 *
 * Destroying an lws 4.1 context that runs on a foreign libuv loop takes
 * two lws_context_destroy() calls with loop iterations between them:
 *   1. the first closes every wsi (uv_close of their poll handles); when
 *      the last one has closed, lws uv_close()s its static handles (an
 *      idle and a timer, kept inside the context);
 *   2. once those have finished closing, a second call frees the vhosts
 *      and the context and writes NULL through info.pcontext.
 * lws does not say when step 2 may run (nothing calls back for a foreign
 * loop), and calling it early frees memory libuv still points at. So the
 * server records the non-poll handles the context added to the loop at
 * creation and, from an idle handle of its own, waits until none of them
 * is on the loop any more. Both calls are made from that idle callback,
 * never from inside an lws callback, which makes http_server_close safe to
 * call from a handler. */
#include "http/http-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log/log.h"

/* Bounds lws's tables (sized from the fd ulimit by default, megabytes per
 * context when that is large); lws still accepts fds numbered above it. */
#define HTTP_FD_LIMIT 256
#define HTTP_SLOW_CLOSE_MS 5000
/* lws's header table per connection (its default is 4096); webhook
 * requests carry signatures and ids, proxies add more. */
#define HTTP_HEADER_BYTES 8192

/* --- lws's log, through src/log ------------------------------------------ */

static void lws_log_emit(int level, const char *line)
{
    /* Lines look like "[2026/11/25 10:00:00:1234] E: message\n". */
    const char *p = line;
    if (*p == '[') {
        const char *q = strstr(p, "] ");
        if (q && q[2] && q[3] == ':' && q[4] == ' ')
            p = q + 5;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "%s", p);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_kv(level & LLL_ERR ? LOGL_ERROR : LOGL_WARN, msg, "component", "libwebsockets", NULL);
}

static void lws_log_setup(void)
{
    static int done;
    if (!done) {
        lws_set_log_level(LLL_ERR, lws_log_emit);
        done = 1;
    }
}

/* --- listening address ----------------------------------------------------- */

struct http_addr {
    int family;    /* AF_INET, AF_INET6, or AF_UNSPEC for every interface */
    char host[64]; /* numeric address; "" for every interface */
    int port;
};

static int has_ipv6(void)
{
    return access("/proc/net/if_inet6", F_OK) == 0;
}

/* "host:port", "[v6]:port" or ":port"; host must be numeric (or
 * "localhost"), since lws binds to whatever it resolves, silently widening
 * to every interface when it cannot. */
static int parse_addr(const char *addr, struct http_addr *out)
{
    memset(out, 0, sizeof *out);
    if (!addr)
        return -EINVAL;
    const char *colon = strrchr(addr, ':');
    if (!colon)
        return -EINVAL;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || errno || port < 0 || port > 65535)
        return -EINVAL;
    out->port = (int)port;

    size_t hl = (size_t)(colon - addr);
    if (hl == 0) {
        out->family = AF_UNSPEC;
        return 0;
    }
    const char *h = addr;
    if (h[0] == '[') {
        if (hl < 3 || h[hl - 1] != ']')
            return -EINVAL;
        h++;
        hl -= 2;
    }
    if (hl >= sizeof out->host)
        return -EINVAL;
    memcpy(out->host, h, hl);
    out->host[hl] = '\0';
    if (strcmp(out->host, "localhost") == 0)
        snprintf(out->host, sizeof out->host, "127.0.0.1");

    unsigned char buf[sizeof(struct in6_addr)];
    if (addr[0] != '[' && inet_pton(AF_INET, out->host, buf) == 1)
        out->family = AF_INET;
    else if (addr[0] == '[' && inet_pton(AF_INET6, out->host, buf) == 1)
        out->family = AF_INET6;
    else
        return -EINVAL;
    return 0;
}

/* lws only logs why a listen socket failed; bind a throwaway socket the
 * same way to learn the errno. */
static int probe_bind(const struct http_addr *a)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    int family = a->family == AF_UNSPEC ? (has_ipv6() ? AF_INET6 : AF_INET) : a->family;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)a->port);
        if (a->host[0])
            inet_pton(AF_INET, a->host, &sin->sin_addr);
        len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)a->port);
        if (a->host[0])
            inet_pton(AF_INET6, a->host, &sin6->sin6_addr);
        len = sizeof *sin6;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1, err = -EIO;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0)
        err = -errno;
    close(fd);
    return err;
}

/* --- the handles lws puts on the loop --------------------------------------- */

struct handle_set {
    uv_handle_t **h;
    size_t n, cap;
    int oom;
};

static void collect_handle(uv_handle_t *h, void *arg)
{
    struct handle_set *set = arg;
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        /* An array of pointers: sizeof *p is its element's size (clang-tidy 14
         * misreads it). NOLINTNEXTLINE(bugprone-sizeof-expression) */
        uv_handle_t **p = realloc(set->h, cap * sizeof *p);
        if (!p) {
            set->oom = 1;
            return;
        }
        set->h = p;
        set->cap = cap;
    }
    set->h[set->n++] = h;
}

struct record_arg {
    struct http_server *s;
    const struct handle_set *before;
};

/* Poll handles belong to wsi, which lws closes before its static handles;
 * the server's own idle handle is not lws's. */
static void record_new_handle(uv_handle_t *h, void *arg)
{
    struct record_arg *ra = arg;
    for (size_t j = 0; j < ra->before->n; j++)
        if (ra->before->h[j] == h)
            return;
    if (h->type == UV_POLL || h == (uv_handle_t *)&ra->s->idle)
        return;
    if (ra->s->n_lws_handles < HTTP_MAX_LWS_HANDLES)
        ra->s->lws_handles[ra->s->n_lws_handles++] = h;
}

/* Records the static handles the context just added (no allocation here:
 * missing one would let the second destroy run too early). */
static void record_lws_handles(struct http_server *s, const struct handle_set *before)
{
    struct record_arg ra = {s, before};
    uv_walk(s->loop, record_new_handle, &ra);
}

struct find_arg {
    const struct http_server *s;
    int found;
};

static void find_lws_handle(uv_handle_t *h, void *arg)
{
    struct find_arg *fa = arg;
    for (size_t i = 0; i < fa->s->n_lws_handles; i++)
        if (fa->s->lws_handles[i] == h)
            fa->found = 1;
}

/* Compares addresses only: the recorded handles live inside the context,
 * which is not freed before the second destroy, so no other handle can be
 * at those addresses meanwhile. */
static int lws_handles_left(const struct http_server *s)
{
    struct find_arg fa = {s, 0};
    uv_walk(s->loop, find_lws_handle, &fa);
    return fa.found;
}

/* --- lifecycle ------------------------------------------------------------ */

static void on_idle_closed(uv_handle_t *h)
{
    struct http_server *s = h->data;
    void (*closed)(void *) = s->closed;
    void *closed_ud = s->closed_ud;
    free(s->routes);
    for (size_t i = 0; i < s->n_capture; i++)
        free(s->capture[i]);
    free(s->capture);
    http_ws_free_setup(s);
    free(s);
    if (closed)
        closed(closed_ud);
}

static void on_idle(uv_idle_t *h)
{
    struct http_server *s = h->data;
    if (s->state == HTTP_SRV_CLOSE_REQUESTED) {
        s->state = HTTP_SRV_DRAINING;
        s->close_started_ms = uv_now(s->loop);
        /* The app hears now, before lws drops the connections, and with
         * every handle still valid for it to look at; the WebSockets get
         * their close frame while their sockets are still there. */
        http_conns_gone_all(s);
        http_ws_close_all(s, 1);
        if (s->ctx)
            lws_context_destroy(s->ctx); /* phase 1: close every wsi */
        return;
    }
    if (s->state != HTTP_SRV_DRAINING)
        return;
    if (s->ctx && lws_handles_left(s)) {
        if (!s->slow_close_logged && uv_now(s->loop) - s->close_started_ms > HTTP_SLOW_CLOSE_MS) {
            char port[8];
            snprintf(port, sizeof port, "%d", s->port);
            log_kv(LOGL_WARN, "http server: lws still closing its handles", "port", port, NULL);
            s->slow_close_logged = 1;
        }
        return;
    }
    if (s->ctx)
        lws_context_destroy(s->ctx); /* phase 2: frees it, NULLs s->ctx */
    if (s->ctx) {
        /* Not expected with lws 4.1; a leak beats a use after free. */
        log_kv(LOGL_ERROR, "http server: lws context not freed by the second destroy", NULL);
        s->ctx = NULL;
    }
    http_ws_close_all(s, 0); /* none expected: each went with its wsi */
    http_conns_free_all(s);
    uv_idle_stop(&s->idle);
    uv_close((uv_handle_t *)&s->idle, on_idle_closed);
}

static void start_close(struct http_server *s, void (*closed)(void *), void *ud)
{
    http_tls_free(s);
    s->closed = closed;
    s->closed_ud = ud;
    s->state = HTTP_SRV_CLOSE_REQUESTED;
    uv_idle_start(&s->idle, on_idle);
}

static int copy_routes(struct http_server *s, const struct http_route *routes, size_t n)
{
    if (n && !routes)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!routes[i].path || routes[i].path[0] != '/' || !routes[i].handler)
            return -EINVAL;
        if (routes[i].flags & ~HTTP_ROUTE_PREFIX)
            return -EINVAL;
    }
    if (n) {
        s->routes = malloc(n * sizeof *s->routes);
        if (!s->routes)
            return -ENOMEM;
        memcpy(s->routes, routes, n * sizeof *s->routes);
    }
    s->n_routes = n;
    return 0;
}

static struct lws_context *create_context(struct http_server *s, unsigned max_header_bytes)
{
    void *foreign[1] = {s->loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    /* Vhosts are made separately: a failed default vhost leaves lws 4.1
     * with a half-destroyed context that can neither be used nor freed. */
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.foreign_loops = foreign; /* only read during the call */
    info.pcontext = &s->ctx;
    info.user = s;
    info.fd_limit_per_thread = HTTP_FD_LIMIT;
    if (s->tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    /* Text messages must be UTF-8 (RFC 6455 8.1); lws checks them, and
     * their fragments, as they arrive, and closes with 1007. */
    if (s->n_ws_routes)
        info.options |= LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.max_http_header_data = (unsigned short)max_header_bytes;
    return lws_create_context(&info);
}

static int create_vhost(struct http_server *s, const struct http_addr *a)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.vhost_name = "runbook";
    info.server_string = "runbook";
    http_ws_vhost_info(s, &info);
    info.port = a->port;
    info.iface = a->host[0] ? a->host : NULL;
    /* With IPv6 on, lws binds an IPv4 literal to every interface. */
    if (a->family == AF_INET || (a->family == AF_UNSPEC && !has_ipv6()))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    http_tls_vhost_info(s, &info);
    s->vh = lws_create_vhost(s->ctx, &info);
    if (!s->vh) {
        int err = probe_bind(a);
        return err < 0 ? err : -EIO;
    }
    s->port = lws_get_vhost_listen_port(s->vh);
    return 0;
}

static int add_capture(struct http_server *s, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 127)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (name[i] <= ' ' || name[i] == ':' || name[i] == 0x7f)
            return -EINVAL;
    char *key = malloc(n + 2);
    if (!key)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + ('a' - 'A') : name[i]);
    key[n] = ':';
    key[n + 1] = '\0';
    for (size_t i = 0; i < s->n_capture; i++) {
        if (strcmp(s->capture[i], key) == 0) {
            free(key);
            return 0;
        }
    }
    /* An array of pointers. NOLINTNEXTLINE(bugprone-sizeof-expression) */
    char **p = realloc(s->capture, (s->n_capture + 1) * sizeof *p);
    if (!p) {
        free(key);
        return -ENOMEM;
    }
    s->capture = p;
    s->capture[s->n_capture++] = key;
    return 0;
}

/* The webhook headers, then the app's. A standard header named here is
 * harmless: lws never stores those as custom ones, so it is not found
 * twice. */
static int set_capture(struct http_server *s, const char *const *extra)
{
    static const char *const builtin[] = {HTTP_WEBHOOK_HEADERS};
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
        int err = add_capture(s, builtin[i]);
        if (err < 0)
            return err;
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        int err = add_capture(s, extra[i]);
        if (err < 0)
            return err;
    }
    return 0;
}

static void free_unstarted(struct http_server *s)
{
    for (size_t i = 0; i < s->n_capture; i++)
        free(s->capture[i]);
    free(s->capture);
    free(s->routes);
    http_ws_free_setup(s);
    free(s);
}

static int check_opts(const struct http_server_opts *o)
{
    if (o->max_header_bytes > 65535)
        return -EINVAL;
    if (!o->tls_cert != !o->tls_key)
        return -EINVAL;
    return 0;
}

int http_server_new_opts(uv_loop_t *loop, const char *addr, const struct http_route *routes,
                         size_t n_routes, void *ud, const struct http_server_opts *opts,
                         struct http_server **out)
{
    static const struct http_server_opts defaults;
    const struct http_server_opts *o = opts ? opts : &defaults;
    struct http_addr a;
    *out = NULL;
    if (!loop || parse_addr(addr, &a) < 0 || check_opts(o) < 0)
        return -EINVAL;
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->ud = ud;
    s->max_body = o->max_body ? o->max_body : (size_t)HTTP_MAX_BODY;
    int err = copy_routes(s, routes, n_routes);
    if (err == 0)
        err = http_ws_setup(s, o);
    if (err == 0)
        err = set_capture(s, o->capture_headers);
    if (err == 0 && o->tls_cert)
        err = http_tls_new(s, o);
    if (err < 0) {
        http_tls_free(s);
        free_unstarted(s);
        return err;
    }
    lws_log_setup();
    uv_idle_init(loop, &s->idle);
    s->idle.data = s;

    struct handle_set before = {0};
    uv_walk(loop, collect_handle, &before);
    if (before.oom) {
        free(before.h);
        start_close(s, NULL, NULL);
        return -ENOMEM;
    }
    s->ctx = create_context(s, o->max_header_bytes ? o->max_header_bytes : HTTP_HEADER_BYTES);
    if (s->ctx)
        record_lws_handles(s, &before);
    free(before.h);
    if (!s->ctx) {
        log_kv(LOGL_ERROR, "http server: lws_create_context failed", "addr", addr, NULL);
        start_close(s, NULL, NULL);
        return -EIO;
    }
    err = create_vhost(s, &a);
    if (err < 0) {
        log_kv(LOGL_ERROR, "http server: cannot listen", "addr", addr, "error", uv_strerror(err),
               NULL);
        start_close(s, NULL, NULL); /* frees s once lws let go of the loop */
        return err;
    }
    *out = s;
    return 0;
}

int http_server_new(uv_loop_t *loop, const char *addr, const struct http_route *routes,
                    size_t n_routes, void *ud, struct http_server **out)
{
    return http_server_new_opts(loop, addr, routes, n_routes, ud, NULL, out);
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

size_t http_server_requests_in_flight(const struct http_server *s)
{
    return s->n_conns;
}

void http_server_close(struct http_server *s, void (*closed)(void *ud), void *ud)
{
    if (s->state != HTTP_SRV_OPEN)
        return;
    start_close(s, closed, ud);
}
