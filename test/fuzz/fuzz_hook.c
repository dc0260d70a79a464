/* Fuzz target: webhook requests through trig_hook_eval, and the same bytes
 * as a Trigger through trig_spec_parse.
 *
 * Input: one mode byte, then HTTP-like header lines "Name: value" ending
 * at an empty line, then the body (the rest). Mode bits:
 *   0-1  the signature kind of the fixed spec (3: github again, without
 *        filters, so params and delivery ids are reached more often)
 *   2    the harness signs the request itself with the right secret (its
 *        headers come first, so they are the ones read); otherwise the
 *        input's own headers are all there is
 *   3    the content type comes from a Content-Type line, not the field
 *   4    no Workflow (params without a value are left out)
 * Invariants abort:
 *  - the code is one the API documents, with a reason; a 401 always says
 *    the same thing; a request the harness signed is never 401;
 *  - a go-ahead has a delivery id, params, and a run name "gh-<10 hex>",
 *    and its WorkflowRun has the labels and no ownerReferences;
 *  - every answer is JSON;
 *  - a rejected Trigger has InvalidSpec and a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "trigger/trigger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_hook: %s:%d: %s\n", __FILE__, __LINE__, #c);                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define SECRET "fuzz-secret"
#define NOW 1795600800
#define MAX_HEADERS 32

static const char *const spec_rest[] = {
    /* generic */
    ("\"filter\":{\"headers\":{\"X-Event\":[\"push\"]},\"body\":[{\"pointer\":\"/ref\","
     "\"values\":[\"main\",\"1\"]}]},\"params\":[{\"name\":\"sha\",\"pointer\":\"/after\"},"
     "{\"name\":\"ev\",\"header\":\"X-Event\"},{\"name\":\"lit\",\"value\":\"x\"}]"),
    /* github */
    ("\"signature\":\"github\",\"filter\":{\"headers\":{\"X-GitHub-Event\":[\"push\",\"ping\"]}},"
     "\"params\":[{\"name\":\"sha\",\"pointer\":\"/after\"},{\"name\":\"obj\",\"pointer\":"
     "\"/o/a~1b/0\"},{\"name\":\"all\",\"pointer\":\"\"}]"),
    /* gitlab */
    ("\"signature\":\"gitlab\",\"filter\":{\"body\":[{\"pointer\":\"/object_kind\",\"values\":"
     "[\"push\"]}]},\"params\":[{\"name\":\"sha\",\"pointer\":\"/checkout_sha\"},{\"name\":"
     "\"ev\",\"header\":\"X-Gitlab-Event\"}]"),
    /* github, no filter */
    ("\"signature\":\"github\",\"params\":[{\"name\":\"sha\",\"pointer\":\"/after\"},"
     "{\"name\":\"ev\",\"header\":\"X-GitHub-Event\"},{\"name\":\"nothing\",\"pointer\":\"/x\"}]"),

};

static struct trig_spec *spec_for(unsigned kind)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"gh\"},\"spec\":{\"workflowRef\":{\"name\":\"w\"},"
             "\"webhook\":{\"secretRef\":{\"name\":\"s\",\"key\":\"k\"},%s},\"runTemplate\":"
             "{\"metadata\":{\"labels\":{\"team\":\"ci\"}}}}}",
             spec_rest[kind]);
    struct json_object *o = json_tokener_parse(buf);
    struct trig_spec *s = NULL;
    REQUIRE(trig_spec_parse(o, &s, NULL) == 0);
    json_object_put(o);
    return s;
}

static void hmac_hex(const void *a, size_t alen, const void *b, size_t blen, char out[80])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t n = 0;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA256";
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                      OSSL_PARAM_construct_end()};
    REQUIRE(EVP_MAC_init(c, (const unsigned char *)SECRET, strlen(SECRET), p) == 1);
    REQUIRE(EVP_MAC_update(c, a, alen) == 1 && (!blen || EVP_MAC_update(c, b, blen) == 1));
    REQUIRE(EVP_MAC_final(c, md, &n, sizeof md) == 1);
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(mac);
    strcpy(out, "sha256=");
    for (size_t i = 0; i < n; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

static void check_answer(const struct trig_verdict *v)
{
    char *a = trig_answer(v->code ? v->code : 201, v->code ? v->reason : "Created", v->message,
                          v->code ? NULL : "ns", v->code ? NULL : v->run_name,
                          v->code == 202 ? v->skipped : NULL);
    struct json_object *o = json_tokener_parse(a);
    REQUIRE(o && json_object_is_type(o, json_type_object));
    json_object_put(o);
    free(a);
}

static void check_go(const struct trig_spec *s, const struct trig_verdict *v)
{
    REQUIRE(v->params && v->delivery[0]);
    REQUIRE(strlen(v->run_name) == 13 && strncmp(v->run_name, "gh-", 3) == 0);
    for (size_t i = 3; i < 13; i++)
        REQUIRE(strchr("0123456789abcdef", v->run_name[i]));
    for (size_t i = 0; i < v->params->n; i++)
        REQUIRE(strlen(v->params->kv[i].value) <= TRIG_VALUE_MAX);
    struct json_object *run =
        trig_run_new(s, "gh", "ns", v->run_name, v->delivery, v->params, NULL);
    REQUIRE(strcmp(kj_path_str(run, "metadata", "labels", TRIG_LABEL_TRIGGER, NULL), "gh") == 0);
    REQUIRE(strcmp(kj_path_str(run, "metadata", "annotations", TRIG_ANN_DELIVERY, NULL),
                   v->delivery) == 0);
    REQUIRE(!kj_path(run, "metadata", "ownerReferences", NULL));
    json_object_put(run);
}

static void eval_request(const uint8_t *data, size_t size)
{
    unsigned mode = data[0];
    struct trig_header h[MAX_HEADERS + 2];
    char *copy = malloc(size);
    REQUIRE(copy);
    memcpy(copy, data + 1, size - 1);
    size_t n = 0, len = size - 1, pos = 0;
    char sig[80], ts[24];
    /* The harness's own signature first: the first header of a name wins. */
    struct trig_spec *s = spec_for(mode & 3);
    size_t first = (mode & 4) ? 2 : 0;
    n = first;
    while (pos < len) {
        char *nl = memchr(copy + pos, '\n', len - pos);
        if (!nl || nl == copy + pos) { /* no more lines, or the empty line */
            pos = nl ? pos + 1 : pos;
            break;
        }
        *nl = '\0';
        char *colon = strchr(copy + pos, ':');
        if (colon && n < MAX_HEADERS + 2) {
            *colon = '\0';
            h[n].name = copy + pos;
            h[n].value = colon + 1 + (colon[1] == ' ');
            n++;
        }
        pos = (size_t)(nl - copy) + 1;
    }
    const char *body = copy + pos;
    size_t body_len = len - pos;
    if (mode & 4) {
        switch (s->hook.sig) {
        case TRIG_SIG_GENERIC: {
            char pre[32];
            snprintf(ts, sizeof ts, "%d", NOW - 7); /* inside the window */
            snprintf(pre, sizeof pre, "%s.", ts);
            hmac_hex(pre, strlen(pre), body, body_len, sig);
        }
            h[0] = (struct trig_header){TRIG_H_TIMESTAMP, ts};
            h[1] = (struct trig_header){TRIG_H_SIG, sig};
            break;
        case TRIG_SIG_GITHUB:
            hmac_hex(body, body_len, NULL, 0, sig);
            h[0] = (struct trig_header){TRIG_H_GITHUB_SIG, sig};
            h[1] = (struct trig_header){"X-Fuzz", "1"};
            break;
        case TRIG_SIG_GITLAB:
            h[0] = (struct trig_header){TRIG_H_GITLAB_TOKEN, SECRET};
            h[1] = (struct trig_header){"X-Fuzz", "1"};
            break;
        }
    }
    struct trig_request req = {.headers = h,
                               .n_headers = n,
                               .content_type = (mode & 8) ? NULL : "application/json",
                               .body = body,
                               .body_len = body_len};
    struct json_object *wf = (mode & 16) ? NULL
                                         : json_tokener_parse("{\"spec\":{\"params\":[{\"name\":"
                                                              "\"sha\",\"default\":\"d\"},{"
                                                              "\"name\":\"ev\"}]}}");
    struct trig_verdict v = {0};
    REQUIRE(trig_hook_eval(s, SECRET, strlen(SECRET), &req, wf, "gh", "uid-1", NOW, &v) == 0);
    static const int codes[] = {0, 202, 400, 401, 415, 422};
    int known = 0;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        known |= v.code == codes[i];
    REQUIRE(known);
    REQUIRE(v.code == 0 || (v.reason[0] && v.message[0]));
    REQUIRE(v.code != 401 || strcmp(v.message, "missing or invalid signature") == 0);
    REQUIRE(v.code != 401 || !(mode & 4));
    REQUIRE((v.code == 202) == (v.skipped[0] != '\0'));
    REQUIRE(v.code == 0 || v.params == NULL);
    if (v.code == 0)
        check_go(s, &v);
    check_answer(&v);
    trig_verdict_clear(&v);
    json_object_put(wf);
    trig_spec_free(s);
    free(copy);
}

static void parse_trigger(const uint8_t *data, size_t size)
{
    struct json_tokener *tok = json_tokener_new_ex(64);
    REQUIRE(tok);
    struct json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    if (!o)
        return;
    struct trig_spec *s = NULL;
    struct trig_error err;
    memset(&err, 0, sizeof err);
    if (trig_spec_parse(o, &s, &err) < 0) {
        REQUIRE(strcmp(err.reason, TRIG_R_INVALID) == 0 && err.message[0]);
    } else {
        REQUIRE(s->workflow && s->name && strlen(s->name) <= TRIG_NAME_MAX);
        REQUIRE(s->has_webhook || s->has_schedule);
        char name[TRIG_NAME_LEN];
        REQUIRE(trig_run_name(s->name, "uid", "d", name) == 0);
        struct wf_params *p = trig_sched_params(s);
        struct json_object *run = trig_run_new(s, s->name, "ns", name, "d", p, NULL);
        json_object_put(run);
        wf_params_free(p);
        trig_spec_free(s);
    }
    json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    parse_trigger(data, size);
    eval_request(data, size);
    return 0;
}
