/* The webhook secrets: GET by name (the operator may not list or watch
 * Secrets, docs/operations.md), the one key kept for TRIGD_SECRET_TTL_MS so
 * a burst of deliveries costs one read; a rotated Secret is used within
 * that time. A Secret or key found missing is remembered for
 * TRIGD_SECRET_MISS_MS, so forged deliveries cannot make the operator read
 * the API server in a loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "kjson/kjson.h"
#include "log/log.h"
#include "trigd/trigd-internal.h"

struct trigd_secret {
    uint64_t expires_ms;
    unsigned char *val; /* NULL: missing, why says why */
    size_t len;
    char why[512];
};

void trigd_secret_free(struct lh_entry *e)
{
    struct trigd_secret *s = lh_entry_v(e);
    if (s && s->val) {
        OPENSSL_cleanse(s->val, s->len);
        free(s->val);
    }
    free(s);
    free(lh_entry_k(e));
}

static void key_of(const char *ns, const char *name, const char *key, char *out, size_t len)
{
    snprintf(out, len, "%s/%s/%s", ns, name, key);
}

int trigd_secret_cached(struct trigd *t, const char *ns, const char *name, const char *key,
                        const char **val, size_t *len, const char **why)
{
    char k[600];
    key_of(ns, name, key, k, sizeof k);
    struct trigd_secret *s = NULL;
    if (!lh_table_lookup_ex(t->secrets, k, (void **)&s) || s->expires_ms <= uv_now(t->loop))
        return 0;
    *val = (const char *)s->val;
    *len = s->len;
    *why = s->why;
    return 1;
}

/* One GET in flight per key: deliveries arriving meanwhile wait on it
 * (a cold cache under a burst, forged or not, costs one read). */
struct waiter {
    void (*done)(void *ud);
    void *ud;
};

struct read {
    struct trigd *t;
    char k[600];
    char *key;
    char ns[64], name[254];
    struct waiter *w;
    size_t n, cap;
};

void trigd_reading_free(struct lh_entry *e)
{
    free(lh_entry_k(e)); /* the read itself is its callback's */
}

static int add_waiter(struct read *rd, void (*done)(void *ud), void *ud)
{
    if (rd->n == rd->cap) {
        size_t cap = rd->cap ? rd->cap * 2 : 4;
        struct waiter *w = realloc(rd->w, cap * sizeof *w);
        if (!w)
            return -ENOMEM;
        rd->w = w;
        rd->cap = cap;
    }
    rd->w[rd->n++] = (struct waiter){done, ud};
    return 0;
}

/* The key's bytes from data (base64), or NULL with why. */
static unsigned char *decode(struct json_object *secret, const char *key, size_t *len, char *why,
                             size_t why_len)
{
    const char *b64 = kj_path_str(secret, "data", key, NULL);
    if (!b64) {
        snprintf(why, why_len, "the Secret has no key %s", key);
        return NULL;
    }
    size_t n = strlen(b64);
    unsigned char *out = malloc(n / 4 * 3 + 4);
    if (!out)
        return NULL;
    int m = n ? EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n) : 0;
    if (m < 0) {
        free(out);
        snprintf(why, why_len, "the Secret's key %s is not base64", key);
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    while (n && b64[n - 1] == '=' && m > 0) {
        n--;
        m--;
    }
    *len = (size_t)m;
    return out;
}

static void on_read(void *ud, const struct kube_result *r)
{
    struct read *rd = ud;
    struct trigd *t = rd->t;
    struct trigd_secret *s = calloc(1, sizeof *s);
    if (s) {
        int transient = r->err != 0 || (r->http_status != 200 && r->http_status != 404);
        if (r->err == 0 && r->http_status == 200) {
            s->val = decode(r->body, rd->key, &s->len, s->why, sizeof s->why);
            if (s->val && s->len == 0) {
                free(s->val);
                s->val = NULL;
                snprintf(s->why, sizeof s->why, "the Secret's key %s is empty", rd->key);
            }
        } else if (r->http_status == 404)
            snprintf(s->why, sizeof s->why, "Secret %s/%.253s not found", rd->ns, rd->name);
        else
            snprintf(s->why, sizeof s->why, "cannot read Secret %s/%.200s: %.200s", rd->ns,
                     rd->name, r->err ? strerror(-r->err) : r->status.message);
        if (!s->val)
            log_kv(LOGL_WARN, "webhook secret unavailable", "namespace", rd->ns, "secret", rd->name,
                   "why", s->why, NULL);
        /* A transient failure is kept a second only: the sender's retry asks
         * again, and nothing loops on the API server. */
        s->expires_ms = uv_now(t->loop) + (s->val      ? TRIGD_SECRET_TTL_MS
                                           : transient ? 1000
                                                       : TRIGD_SECRET_MISS_MS);
        char *k = strdup(rd->k);
        lh_table_delete(t->secrets, rd->k); /* one entry per key: insert does not replace */
        if (!t->closing && k && lh_table_insert(t->secrets, k, s) == 0) {
            k = NULL;
            s = NULL;
        } else if (s && s->val) {
            OPENSSL_cleanse(s->val, s->len);
            free(s->val);
        }
        free(k);
        free(s);
    }
    lh_table_delete(t->reading, rd->k);
    for (size_t i = 0; i < rd->n; i++)
        rd->w[i].done(rd->w[i].ud);
    free(rd->w);
    free(rd->key);
    free(rd);
    trigd_api_end(t);
}

int trigd_secret_read(struct trigd *t, const char *ns, const char *name, const char *key,
                      void (*done)(void *ud), void *ud)
{
    char k[600];
    key_of(ns, name, key, k, sizeof k);
    struct read *rd = NULL;
    if (lh_table_lookup_ex(t->reading, k, (void **)&rd))
        return add_waiter(rd, done, ud);
    rd = calloc(1, sizeof *rd);
    char *rk = strdup(k);
    if (!rd || !rk || !(rd->key = strdup(key)) || add_waiter(rd, done, ud) < 0 ||
        lh_table_insert(t->reading, rk, rd) != 0) {
        if (rd)
            free(rd->key), free(rd->w);
        free(rd);
        free(rk);
        return -ENOMEM;
    }
    rd->t = t;
    snprintf(rd->k, sizeof rd->k, "%s", k);
    snprintf(rd->ns, sizeof rd->ns, "%s", ns);
    snprintf(rd->name, sizeof rd->name, "%s", name);
    /* Drop a stale entry first: on_read inserts the fresh one. */
    lh_table_delete(t->secrets, rd->k);
    trigd_api_begin(t);
    int rc = kube_get(t->kc, &KUBE_SECRETS, ns, name, on_read, rd);
    if (rc < 0) {
        trigd_api_end(t);
        lh_table_delete(t->reading, rd->k);
        free(rd->w);
        free(rd->key);
        free(rd);
    }
    return rc;
}
