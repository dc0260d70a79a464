/* tls.c - HTTPS: the certificate pair, and picking up a new one.
 *
 * lws loads the pair named in the options into the vhost's SSL_CTX when
 * the server starts. cert-manager renews it by rewriting the files (in a
 * Secret volume: an atomic swap of a symlinked directory), so a timer
 * looks at the files every tls_reload_ms and, when either changed, loads
 * the new pair into that same SSL_CTX: connections accepted from then on
 * use it, the ones open keep theirs, and no restart is needed.
 *
 * Not lws_tls_cert_updated: it reloads the cert and then the key from the
 * files with no check between, and OpenSSL drops the certificate when the
 * key does not match it, so catching a half-written pair would leave the
 * server with no certificate at all. Here the new pair is read into
 * memory, checked to match, and only then swapped in with one
 * SSL_CTX_use_cert_and_key; a pair that does not load or match is logged
 * and tried again on the next tick, the old one staying in use. */
#include "http/http-internal.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log/log.h"

#define HTTP_TLS_RELOAD_MS 5000

/* What identifies one version of a file, through symlinks. */
struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

struct http_tls {
    uv_timer_t timer; /* its close callback frees this struct */
    struct http_server *srv;
    SSL_CTX *ssl_ctx; /* the vhost's (lws owns it); NULL until lws made it */
    char *cert, *key;
    struct file_id cert_id, key_id; /* the pair in use */
    int bad_logged;                 /* a changed pair that would not load */
};

/* A certificate chain and its key, read and checked. */
struct pair {
    X509 *leaf;
    STACK_OF(X509) * chain;
    EVP_PKEY *pkey;
};

static void pair_free(struct pair *p)
{
    X509_free(p->leaf);
    sk_X509_pop_free(p->chain, X509_free);
    EVP_PKEY_free(p->pkey);
    memset(p, 0, sizeof *p);
}

/* -errno, never 0 (the analyzer cannot know errno is set). */
static int neg_errno(void)
{
    return errno > 0 ? -errno : -EIO;
}

static int file_id_get(const char *path, struct file_id *id)
{
    struct stat st;
    memset(id, 0, sizeof *id);
    if (stat(path, &st) < 0)
        return neg_errno();
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime = st.st_mtim;
    return 0;
}

static int file_id_same(const struct file_id *a, const struct file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* -ENOENT (or another errno) when a file cannot be opened, -EIO when it
 * holds no usable PEM or the key does not match the certificate. */
static int pair_load(const char *cert, const char *key, struct pair *p)
{
    memset(p, 0, sizeof *p);
    FILE *f = fopen(cert, "re");
    if (!f)
        return neg_errno();
    p->leaf = PEM_read_X509(f, NULL, NULL, NULL);
    p->chain = sk_X509_new_null();
    X509 *x;
    while (p->chain && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(p->chain, x)) {
            X509_free(x);
            break;
        }
    }
    fclose(f);
    f = fopen(key, "re");
    if (!f) {
        int err = neg_errno();
        pair_free(p);
        return err;
    }
    p->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ERR_clear_error(); /* the end of the chain reads as an error */
    if (!p->leaf || !p->chain || !p->pkey || X509_check_private_key(p->leaf, p->pkey) != 1) {
        ERR_clear_error();
        pair_free(p);
        return -EIO;
    }
    return 0;
}

static void tls_log(int level, const struct http_tls *t, const char *msg, int err)
{
    if (err)
        log_kv(level, msg, "cert", t->cert, "key", t->key, "error", uv_strerror(err), NULL);
    else
        log_kv(level, msg, "cert", t->cert, "key", t->key, NULL);
}

static void on_tick(uv_timer_t *h)
{
    struct http_tls *t = h->data;
    struct file_id c = {0}, k = {0};
    if (!t->ssl_ctx || file_id_get(t->cert, &c) < 0 || file_id_get(t->key, &k) < 0)
        return; /* mid-swap, or gone: the pair in use stays */
    if (file_id_same(&c, &t->cert_id) && file_id_same(&k, &t->key_id))
        return;
    struct pair p = {0};
    int err = pair_load(t->cert, t->key, &p);
    if (err == 0 && SSL_CTX_use_cert_and_key(t->ssl_ctx, p.leaf, p.pkey, p.chain, 1) != 1)
        err = -EIO;
    ERR_clear_error();
    pair_free(&p);
    if (err < 0) {
        if (!t->bad_logged)
            tls_log(LOGL_WARN, t, "http server: new TLS pair not loaded, keeping the old one", err);
        t->bad_logged = 1;
        return;
    }
    t->cert_id = c;
    t->key_id = k;
    t->bad_logged = 0;
    tls_log(LOGL_INFO, t, "http server: TLS pair reloaded", 0);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct http_tls *t = h->data;
    free(t->cert);
    free(t->key);
    free(t);
}

int http_tls_new(struct http_server *s, const struct http_server_opts *o)
{
    struct http_tls *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->srv = s;
    t->cert = strdup(o->tls_cert);
    t->key = strdup(o->tls_key);
    if (!t->cert || !t->key) {
        free(t->cert);
        free(t->key);
        free(t);
        return -ENOMEM;
    }
    /* Checked here for a clear error: lws only logs why it failed. The
     * ids are taken first, so a change after this is seen. */
    struct pair p = {0};
    int err = file_id_get(t->cert, &t->cert_id);
    if (err == 0)
        err = file_id_get(t->key, &t->key_id);
    if (err == 0)
        err = pair_load(t->cert, t->key, &p);
    if (err < 0) {
        free(t->cert);
        free(t->key);
        free(t);
        return err;
    }
    pair_free(&p);
    uv_timer_init(s->loop, &t->timer);
    t->timer.data = t;
    unsigned ms = o->tls_reload_ms ? o->tls_reload_ms : HTTP_TLS_RELOAD_MS;
    uv_timer_start(&t->timer, on_tick, ms, ms);
    s->tls = t;
    return 0;
}

void http_tls_vhost_info(const struct http_server *s, struct lws_context_creation_info *info)
{
    if (!s->tls)
        return;
    info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info->ssl_cert_filepath = s->tls->cert;
    info->ssl_private_key_filepath = s->tls->key;
    /* HTTP/1.1 only: lws would offer h2, where custom headers are not
     * kept and request bodies come differently. */
    info->alpn = "http/1.1";
}

void http_tls_set_ctx(struct http_server *s, void *ssl_ctx)
{
    if (s->tls)
        s->tls->ssl_ctx = ssl_ctx;
}

void http_tls_free(struct http_server *s)
{
    struct http_tls *t = s->tls;
    if (!t)
        return;
    s->tls = NULL;
    t->srv = NULL;
    t->ssl_ctx = NULL;
    uv_timer_stop(&t->timer);
    uv_close((uv_handle_t *)&t->timer, on_timer_closed);
}
