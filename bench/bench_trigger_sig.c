/* bench_trigger_sig - what judging one webhook delivery costs, per KiB of
 * body: trig_hook_eval (src/trigger: signature, media type, JSON parse of
 * the body, params, delivery id, run name) for each signature kind
 * (github, gitlab, generic) and bodies of 1, 16, 256 and 1024 KiB; with,
 * in the same run, trig_sig_check alone (the signature step of the same
 * call) and the reference: a bare HMAC-SHA256 over the same bytes
 * (OpenSSL's one-shot HMAC()).
 *
 * In-process, no cluster. The bodies are JSON shaped like a GitHub push
 * (a "commits" array of small objects, padded to the size), so the parse
 * cost is that of real payloads, not of one long string. Every request
 * carries a delivery id header, so the run name is not a hash of the body.
 *
 * Times are CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), so
 * other work on a shared machine inflates them little; each figure is the
 * best of 3 rounds of at least 0.2 s each.
 *
 * Columns: kind, KiB, eval ns/call, eval ns/KiB, sig ns/call (the
 * signature check alone), hmac ns/call (the reference), eval/hmac and
 * sig/hmac (ratios per call).
 *
 * Usage: bench_trigger_sig [seconds per round, default 0.2] */
#define BENCH_NAME "bench_trigger_sig"
#include "bench_util.h"
#include "trigger/trig-internal.h"
#include "trigger/trigger.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char SECRET[] = "It's a Secret to Everybody";
static const int64_t NOW = 1796600000; /* any fixed time: signatures carry it */

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A push-like JSON body of exactly `size` bytes. */
static char *make_body(size_t size)
{
    char *b = malloc(size + 1);
    if (!b)
        die("out of memory");
    size_t n = (size_t)snprintf(b, size + 1,
                                "{\"ref\":\"refs/heads/main\",\"after\":\"4f1e2d3c\","
                                "\"repository\":{\"full_name\":\"acme/app\"},\"commits\":[");
    static const char tail[] = "],\"pad\":\"\"}";
    for (int i = 0;; i++) {
        char c[256];
        int k = snprintf(c, sizeof c,
                         "%s{\"id\":\"%040x\",\"message\":\"change number %d of the series\","
                         "\"author\":{\"name\":\"Dev %d\",\"email\":\"dev%d@example.com\"},"
                         "\"added\":[\"src/f%d.c\"],\"distinct\":true}",
                         i ? "," : "", (unsigned)i * 2654435761u, i, i % 17, i % 17, i);
        if (n + (size_t)k + sizeof tail - 1 > size)
            break;
        memcpy(b + n, c, (size_t)k);
        n += (size_t)k;
    }
    /* Pad inside "pad":"..." to the exact size. */
    size_t pad = size - n - (sizeof tail - 1);
    memcpy(b + n, "],\"pad\":\"", 9);
    n += 9;
    memset(b + n, 'x', pad);
    n += pad;
    memcpy(b + n, "\"}", 2);
    n += 2;
    if (n != size)
        die("body is %zu bytes, wanted %zu", n, size);
    b[n] = '\0';
    return b;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void hmac_hex(const void *data, size_t len, char out[72])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), data, len, mac, &n) || n != 32)
        die("HMAC failed");
    static const char prefix[] = "sha256=";
    memcpy(out, prefix, sizeof prefix - 1); /* hex() writes the NUL */
    hex(mac, n, out + sizeof prefix - 1);
}

static struct trig_spec *spec_of(const char *kind)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"runbook.dev/v1alpha1\",\"kind\":\"Trigger\","
             "\"metadata\":{\"name\":\"bench\",\"namespace\":\"default\",\"uid\":\"u-1\"},"
             "\"spec\":{\"workflowRef\":{\"name\":\"build\"},\"webhook\":{"
             "\"secretRef\":{\"name\":\"hook\",\"key\":\"token\"},\"signature\":\"%s\","
             "\"params\":[{\"name\":\"ref\",\"pointer\":\"/ref\"},"
             "{\"name\":\"sha\",\"pointer\":\"/after\"}]}}}",
             kind);
    struct json_object *j = json_tokener_parse(text);
    struct trig_spec *s = NULL;
    struct trig_error err;
    if (!j || trig_spec_parse(j, &s, &err) < 0)
        die("spec %s: %s", kind, j ? err.message : "not JSON");
    json_object_put(j);
    return s;
}

enum what { EVAL, SIG, HMAC_REF };

struct cas {
    const struct trig_spec *spec;
    enum trig_sig kind;
    struct trig_request req;
};

static volatile unsigned sink;

static void once(const struct cas *c, enum what w)
{
    if (w == EVAL) {
        struct trig_verdict v;
        memset(&v, 0, sizeof v);
        trig_hook_eval(c->spec, SECRET, strlen(SECRET), &c->req, NULL, "bench", "u-1", NOW, &v);
        if (v.code != 0)
            die("eval: %d %s: %s", v.code, v.reason, v.message);
        sink += (unsigned char)v.run_name[0];
        trig_verdict_clear(&v);
    } else if (w == SIG) {
        if (trig_sig_check(c->kind, SECRET, strlen(SECRET), &c->req, NOW) != 0)
            die("signature refused");
    } else {
        /* The reference: one HMAC-SHA256 over the bytes the kind signs
         * (for gitlab too, though gitlab signs nothing: the same bytes). */
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (!HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)c->req.body,
                  c->req.body_len, mac, &n))
            die("HMAC failed");
        sink += mac[0];
    }
}

/* ns per call: best of 3 rounds of at least `secs` CPU seconds each. */
static double time_ns(const struct cas *c, enum what w, double secs)
{
    double best = 1e300;
    for (int round = 0; round < 3; round++) {
        long n = 0;
        double t0 = cpu_s(), t;
        do {
            for (int i = 0; i < 4; i++)
                once(c, w);
            n += 4;
            t = cpu_s() - t0;
        } while (t < secs);
        if (t / (double)n < best)
            best = t / (double)n;
    }
    return best * 1e9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 0.2;
    if (!(secs > 0))
        die("usage: bench_trigger_sig [seconds per round, default 0.2]");
    static const size_t kib[] = {1, 16, 256, 1024};
    static const char *kinds[] = {"github", "gitlab", "generic"};
    printf("%-8s %6s %14s %12s %14s %14s %10s %10s\n", "kind", "KiB", "eval ns/call", "eval ns/KiB",
           "sig ns/call", "hmac ns/call", "eval/hmac", "sig/hmac");
    for (size_t k = 0; k < 3; k++) {
        struct trig_spec *spec = spec_of(kinds[k]);
        for (size_t s = 0; s < sizeof kib / sizeof *kib; s++) {
            size_t size = kib[s] * 1024;
            char *body = make_body(size);
            char sig[72], ts[24], *pre_body = NULL;
            struct trig_header h[4];
            size_t nh = 0;
            struct cas c = {spec, (enum trig_sig)0, {0}};
            h[nh++] = (struct trig_header){"Content-Type", "application/json"};
            if (k == 0) {
                c.kind = TRIG_SIG_GITHUB;
                hmac_hex(body, size, sig);
                h[nh++] = (struct trig_header){TRIG_H_GITHUB_SIG, sig};
                h[nh++] = (struct trig_header){TRIG_H_GITHUB_DELIVERY, "72d3162e-cc78-11e3-81ab"};
            } else if (k == 1) {
                c.kind = TRIG_SIG_GITLAB;
                h[nh++] = (struct trig_header){TRIG_H_GITLAB_TOKEN, SECRET};
                h[nh++] = (struct trig_header){TRIG_H_GITLAB_UUID, "b5ea2c8e-7b34-4f0e"};
            } else {
                c.kind = TRIG_SIG_GENERIC;
                snprintf(ts, sizeof ts, "%lld", (long long)NOW);
                pre_body = malloc(strlen(ts) + 1 + size + 1);
                if (!pre_body)
                    die("out of memory");
                int m = sprintf(pre_body, "%s.", ts);
                memcpy(pre_body + m, body, size);
                hmac_hex(pre_body, (size_t)m + size, sig);
                h[nh++] = (struct trig_header){TRIG_H_SIG, sig};
                h[nh++] = (struct trig_header){TRIG_H_TIMESTAMP, ts};
                h[nh++] = (struct trig_header){TRIG_H_IDEMPOTENCY, "delivery-000001"};
            }
            c.req = (struct trig_request){h, nh, NULL, body, size};
            double ev = time_ns(&c, EVAL, secs);
            double sg = time_ns(&c, SIG, secs);
            double hm = time_ns(&c, HMAC_REF, secs);
            printf("%-8s %6zu %14.0f %12.0f %14.0f %14.0f %10.2f %10.2f\n", kinds[k], kib[s], ev,
                   ev / (double)kib[s], sg, hm, ev / hm, sg / hm);
            fflush(stdout);
            free(pre_body);
            free(body);
        }
        trig_spec_free(spec);
    }
    return sink == 0xdeadbeef;
}
