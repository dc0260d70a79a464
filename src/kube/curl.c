/* The libcurl side of the client: what every request shares. */
#include "kube/kube-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

#ifndef RUNBOOK_VERSION
#define RUNBOOK_VERSION "dev"
#endif

/* tls-server-name: verify the certificate against that name while
 * connecting to the configured host. curl has no option for it, so the URL
 * carries the name and CONNECT_TO sends the connection to the real host. */
static int server_name_override(struct kube_client *c, const char *server, const char *name,
                                struct curl_slist **connect_to)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *url = NULL;
    int rc = -EINVAL;
    if (!u || curl_url_set(u, CURLUPART_URL, server, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
        goto out;
    char map[512];
    int n = snprintf(map, sizeof map, "%s:%s:%s:%s", name, port, host, port);
    if (n < 0 || (size_t)n >= sizeof map)
        goto out;
    rc = -ENOMEM;
    struct curl_slist *l = curl_slist_append(NULL, map);
    if (!l || !(c->server = strdup(url))) {
        curl_slist_free_all(l);
        goto out;
    }
    *connect_to = l;
    rc = 0;
out:
    curl_free(host);
    curl_free(port);
    curl_free(url);
    curl_url_cleanup(u);
    return rc;
}

static CURLcode set_blob(CURL *e, CURLoption opt, const unsigned char *p, size_t len)
{
    /* curl_blob.data is not const, but CURL_BLOB_COPY only reads it: drop
     * the const through a union (a cast would trip -Wcast-qual). */
    union {
        const unsigned char *in;
        void *data;
    } u = {.in = p};
    struct curl_blob b = {.data = u.data, .len = len, .flags = CURL_BLOB_COPY};
    return curl_easy_setopt(e, opt, &b);
}

int kube_curl_setup(struct kube_client *c, const struct kcfg *cfg, const struct kube_options *o)
{
    c->multi = curl_multi_init();
    c->share = curl_share_init();
    c->tmpl = curl_easy_init();
    if (!c->multi || !c->share || !c->tmpl)
        return -ENOMEM;

    /* One loop thread: no lock callbacks needed. TLS sessions and DNS are
     * shared so a second connection resumes instead of a full handshake. */
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);

    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      o->max_host_connections > 0 ? o->max_host_connections : 32L);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, 250L); /* the server's default */

    struct curl_slist *connect_to = NULL;
    if (cfg->tls_server_name && *cfg->tls_server_name) {
        int rc = server_name_override(c, cfg->server, cfg->tls_server_name, &connect_to);
        if (rc < 0)
            return rc;
        c->connect_to = connect_to; /* curl does not copy lists: keep it */
    } else if (!(c->server = strdup(cfg->server))) {
        return -ENOMEM;
    }

    char ua[128];
    snprintf(ua, sizeof ua, "runbook/%s", RUNBOOK_VERSION);
    CURL *e = c->tmpl;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) KUBE_SETOPT(rc, e, opt, val)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_SHARE, c->share);
    SET(CURLOPT_PROTOCOLS_STR, "https,http");
    SET(CURLOPT_USERAGENT, o->user_agent ? o->user_agent : ua);
    SET(CURLOPT_HTTP_VERSION,
        o->http1_only ? (long)CURL_HTTP_VERSION_1_1 : (long)CURL_HTTP_VERSION_2TLS);
    /* Wait for a connection being set up to learn whether it multiplexes,
     * instead of opening one connection per concurrent request. */
    SET(CURLOPT_PIPEWAIT, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000L);
    /* Dead peers under long watches are found by TCP keepalive. */
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_TCP_KEEPIDLE, 30L);
    SET(CURLOPT_TCP_KEEPINTVL, 10L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    if (connect_to)
        SET(CURLOPT_CONNECT_TO, connect_to);

    if (cfg->insecure_skip_tls_verify) {
        log_kv(LOGL_WARN, "TLS verification of the API server is OFF (insecure-skip-tls-verify)",
               "server", cfg->server, NULL);
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        SET(CURLOPT_SSL_VERIFYPEER, 1L);
        SET(CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (cfg->ca_file)
        SET(CURLOPT_CAINFO, cfg->ca_file);
    else if (cfg->ca_data && rc == CURLE_OK)
        rc = set_blob(e, CURLOPT_CAINFO_BLOB, cfg->ca_data, cfg->ca_len);
    if (cfg->cert_file)
        SET(CURLOPT_SSLCERT, cfg->cert_file);
    else if (cfg->cert_data && rc == CURLE_OK)
        rc = set_blob(e, CURLOPT_SSLCERT_BLOB, cfg->cert_data, cfg->cert_len);
    if (cfg->key_file)
        SET(CURLOPT_SSLKEY, cfg->key_file);
    else if (cfg->key_data && rc == CURLE_OK)
        rc = set_blob(e, CURLOPT_SSLKEY_BLOB, cfg->key_data, cfg->key_len);
    SET(CURLOPT_SSLCERTTYPE, "PEM");
    SET(CURLOPT_SSLKEYTYPE, "PEM");
#undef SET
    if (rc != CURLE_OK) {
        log_kv(LOGL_ERROR, "cannot configure the API transport", "error", curl_easy_strerror(rc),
               NULL);
        return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
    }
    return 0;
}
