/* The HTTP server with TLS: a self-signed pair made here with OpenSSL,
 * served over HTTPS, then rotated on disk the way cert-manager does (a new
 * file renamed over the old) and picked up without a restart. A rotation
 * caught half-way (a new cert with the old key) keeps the old pair.
 *
 * The loop runs on the main thread; a client thread makes the requests
 * (libcurl, reading the served certificate's subject) and rewrites the
 * files; CHECKs run after the join. */
#include "check.h"
#include "http/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct app {
    uv_loop_t loop;
    uv_async_t done;
    struct http_server *srv;
    int port, closed;
    char dir[64], cert[128], key[128];
};

static int on_hello(void *ud, const struct http_request *req, struct http_response *resp)
{
    return http_response_append(resp, "hello\n", 6);
}

static const struct http_route routes[] = {{"/hello", HTTP_GET, on_hello, 0}};

/* --- the pair ----------------------------------------------------------------- */

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

static X509 *make_cert(EVP_PKEY *k, const char *cn, long serial)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_sign(x, k, EVP_sha256());
    return x;
}

/* Written aside and renamed over path: readers see the old or the new. */
static int write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    return ok == 1 && rename(tmp, path) == 0 ? 0 : -1;
}

/* --- client (thread) ---------------------------------------------------------- */

struct seen {
    long status;
    CURLcode rc;
    char subject[128];
};

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    return size * n;
}

static void get(CURL *h, int port, const char *scheme, struct seen *s)
{
    char url[128];
    memset(s, 0, sizeof *s);
    snprintf(url, sizeof url, "%s://127.0.0.1:%d/hello", scheme, port);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* self-signed; the subject is checked */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
    s->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s->status);
    struct curl_certinfo *ci = NULL;
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci && ci->num_of_certs > 0)
        for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next)
            if (strncmp(l->data, "Subject:", 8) == 0)
                snprintf(s->subject, sizeof s->subject, "%s", l->data + 8);
}

/* A fresh connection each time (a TLS session is bound to the pair). */
static void get_new(int port, const char *scheme, struct seen *s)
{
    CURL *h = curl_easy_init();
    get(h, port, scheme, s);
    curl_easy_cleanup(h);
}

struct results {
    struct seen first, plain, half, rotated, kept;
    int waited_ms;
};

struct client_arg {
    struct app *a;
    struct results *res;
    EVP_PKEY *key1;
};

static void client_main(void *arg)
{
    struct client_arg *ca = arg;
    struct app *a = ca->a;
    struct results *res = ca->res;

    CURL *kept = curl_easy_init();
    get(kept, a->port, "https", &res->first);
    get_new(a->port, "http", &res->plain);

    /* Half a rotation: the new cert, the old key. Not taken. */
    EVP_PKEY *key2 = make_key();
    X509 *cert2 = make_cert(key2, "rb-test-2", 2);
    write_pem(a->cert, cert2, NULL);
    usleep(300 * 1000);
    get_new(a->port, "https", &res->half);

    /* The rest of it: taken within a few ticks. */
    write_pem(a->key, NULL, key2);
    for (res->waited_ms = 0; res->waited_ms < 5000; res->waited_ms += 50) {
        get_new(a->port, "https", &res->rotated);
        if (strstr(res->rotated.subject, "rb-test-2"))
            break;
        usleep(50 * 1000);
    }
    /* A connection opened before keeps working. */
    get(kept, a->port, "https", &res->kept);
    curl_easy_cleanup(kept);
    X509_free(cert2);
    EVP_PKEY_free(key2);
    uv_async_send(&a->done);
}

/* --- main thread ---------------------------------------------------------------- */

static void on_closed(void *ud)
{
    struct app *a = ud;
    a->closed++;
    uv_close((uv_handle_t *)&a->done, NULL);
}

static void on_done(uv_async_t *h)
{
    struct app *a = h->data;
    http_server_close(a->srv, on_closed, a);
}

static int make_dir(struct app *a)
{
    snprintf(a->dir, sizeof a->dir, "/tmp/rb-http-tls-XXXXXX");
    if (!mkdtemp(a->dir))
        return -1;
    snprintf(a->cert, sizeof a->cert, "%s/tls.crt", a->dir);
    snprintf(a->key, sizeof a->key, "%s/tls.key", a->dir);
    return 0;
}

static void remove_dir(struct app *a)
{
    unlink(a->cert);
    unlink(a->key);
    rmdir(a->dir);
}

static void test_tls(void)
{
    struct app *a = calloc(1, sizeof *a);
    struct results *res = calloc(1, sizeof *res);
    CHECK_INT(make_dir(a), 0);
    EVP_PKEY *key1 = make_key();
    X509 *cert1 = make_cert(key1, "rb-test-1", 1);
    CHECK_INT(write_pem(a->cert, cert1, NULL), 0);
    CHECK_INT(write_pem(a->key, NULL, key1), 0);

    uv_loop_init(&a->loop);
    uv_async_init(&a->loop, &a->done, on_done);
    a->done.data = a;
    struct http_server_opts o = {.tls_cert = a->cert, .tls_key = a->key, .tls_reload_ms = 50};
    CHECK_INT(http_server_new_opts(&a->loop, "127.0.0.1:0", routes, 1, a, &o, &a->srv), 0);
    if (a->srv) {
        a->port = http_server_port(a->srv);
        uv_thread_t client;
        struct client_arg ca = {a, res, key1};
        uv_thread_create(&client, client_main, &ca);
        CHECK_INT(uv_run(&a->loop, UV_RUN_DEFAULT), 0);
        uv_thread_join(&client);
        CHECK_INT(a->closed, 1);

        CHECK_INT(res->first.rc, CURLE_OK);
        CHECK_INT(res->first.status, 200);
        CHECK_CONTAINS(res->first.subject, "rb-test-1");
        CHECK(res->plain.status != 200); /* plain HTTP on the TLS port */
        CHECK_INT(res->half.status, 200);
        CHECK_CONTAINS(res->half.subject, "rb-test-1");
        CHECK_INT(res->rotated.status, 200);
        CHECK_CONTAINS(res->rotated.subject, "rb-test-2");
        CHECK(res->waited_ms < 5000);
        CHECK_INT(res->kept.status, 200);
    }
    CHECK_INT(uv_loop_close(&a->loop), 0);
    X509_free(cert1);
    EVP_PKEY_free(key1);
    remove_dir(a);
    free(res);
    free(a);
}

/* Missing files and a pair that does not match are refused up front. */
static void test_tls_bad(void)
{
    struct app a;
    memset(&a, 0, sizeof a);
    CHECK_INT(make_dir(&a), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct http_server *s = NULL;
    struct http_server_opts o = {.tls_cert = a.cert, .tls_key = a.key};
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", routes, 1, NULL, &o, &s), -ENOENT);

    EVP_PKEY *k1 = make_key(), *k2 = make_key();
    X509 *c1 = make_cert(k1, "rb-test-1", 1);
    write_pem(a.cert, c1, NULL);
    write_pem(a.key, NULL, k2);
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", routes, 1, NULL, &o, &s), -EIO);
    /* Not PEM at all. */
    FILE *f = fopen(a.key, "w");
    if (f) {
        fputs("not a key\n", f);
        fclose(f);
    }
    CHECK_INT(http_server_new_opts(&loop, "127.0.0.1:0", routes, 1, NULL, &o, &s), -EIO);
    CHECK(s == NULL);
    CHECK_INT(uv_run(&loop, UV_RUN_DEFAULT), 0);
    CHECK_INT(uv_loop_close(&loop), 0);
    X509_free(c1);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    remove_dir(&a);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_tls_bad);
    RUN(test_tls);
    curl_global_cleanup();
    return check_finish();
}
