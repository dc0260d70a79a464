/* test/proxy's fault proxy for the integration tests (the informers',
 * it_lease.c): build (cached), start in front of the cluster, switch faults,
 * read counters and the request log. Needs it_setup(..., IT_CLUSTER, ...). */
#ifndef IT_PROXY_H
#define IT_PROXY_H

#include "it_util.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <curl/curl.h>

extern char **environ;

struct it_proxy {
    pid_t pid;
    char url[64];
    char dir[64];
};

/* Builds (cached) and starts test/proxy in front of the cluster. */
IT_FN int it_proxy_start(struct it_proxy *p, int http1)
{
    char cmd[1200], bin[1024] = "";
    snprintf(cmd, sizeof cmd, "bash '%s/test/proxy/build.sh'", it_env.src);
    FILE *f = popen(cmd, "r");
    if (!f || !fgets(bin, sizeof bin, f)) {
        if (f)
            pclose(f);
        fprintf(stderr, "cannot build the fault proxy\n");
        return -1;
    }
    if (pclose(f) != 0)
        return -1;
    bin[strcspn(bin, "\n")] = '\0';
    snprintf(p->dir, sizeof p->dir, "/tmp/it-proxy-XXXXXX");
    if (!mkdtemp(p->dir))
        return -1;
    char port_file[128];
    snprintf(port_file, sizeof port_file, "%s/port", p->dir);
    char a_dir[] = "-cluster-dir", a_port[] = "-port-file", a_h1[] = "-http1",
         a_parent[] = "-exit-with-parent";
    char *argv[] = {bin, a_dir, it_env.dir, a_port, port_file, a_parent, http1 ? a_h1 : NULL, NULL};
    if (posix_spawn(&p->pid, bin, NULL, NULL, argv, environ) != 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        FILE *pf = fopen(port_file, "r");
        int port = 0;
        if (pf) {
            if (fscanf(pf, "%d", &port) != 1)
                port = 0;
            fclose(pf);
        }
        if (port > 0) {
            snprintf(p->url, sizeof p->url, "https://127.0.0.1:%d", port);
            return 0;
        }
        usleep(50000);
    }
    fprintf(stderr, "the fault proxy did not start\n");
    return -1;
}

IT_FN void it_proxy_stop(struct it_proxy *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/port", p->dir);
    unlink(path);
    rmdir(p->dir);
}

struct it_buf {
    char *p;
    size_t len;
};

static size_t it_curl_sink(char *ptr, size_t size, size_t n, void *ud)
{
    struct it_buf *b = ud;
    size_t k = size * n;
    char *np = realloc(b->p, b->len + k + 1);
    if (!np)
        return 0;
    memcpy(np + b->len, ptr, k);
    b->p = np;
    b->len += k;
    b->p[b->len] = '\0';
    return k;
}

/* A blocking call to the proxy's control endpoint; returns its JSON
 * answer (caller puts it) or NULL. The proxy's own TLS cert is signed by
 * the cluster CA. */
IT_FN struct json_object *it_proxy_ctl(const struct it_proxy *p, const char *path, const char *post)
{
    CURL *c = curl_easy_init();
    char url[256], ca[600];
    snprintf(url, sizeof url, "%s%s", p->url, path);
    snprintf(ca, sizeof ca, "%s/pki/ca.crt", it_env.dir);
    struct it_buf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, it_curl_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (post)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    struct json_object *out = NULL;
    if (rc != CURLE_OK || code != 200)
        fprintf(stderr, "proxy control %s: %s %ld %s\n", path, curl_easy_strerror(rc), code,
                b.p ? b.p : "");
    else
        out = json_tokener_parse(b.p ? b.p : "null");
    free(b.p);
    return out;
}

IT_FN int it_proxy_faults(const struct it_proxy *p, const char *json)
{
    struct json_object *r = it_proxy_ctl(p, "/__fault", json);
    int ok = r != NULL;
    json_object_put(r);
    return ok ? 0 : -1;
}

IT_FN int it_proxy_counter(const struct it_proxy *p, const char *name)
{
    struct json_object *r = it_proxy_ctl(p, "/__fault", NULL);
    struct json_object *counters = NULL, *v = NULL;
    int n = json_object_object_get_ex(r, "counters", &counters) &&
                    json_object_object_get_ex(counters, name, &v)
                ? json_object_get_int(v)
                : 0;
    json_object_put(r);
    return n;
}

#endif
