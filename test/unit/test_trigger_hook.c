/* Webhook evaluation: signatures (GitHub's published vector, GitLab's
 * token, ours with its timestamp window), the order of the checks,
 * filters, params, delivery ids and run names. */
#include "check.h"
#include "trigger/trigger.h"
#include "trigger_spec_of.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define NOW 1795600800 /* 2026-11-25T10:00:00Z */
#define SECRET "It's a Secret to Everybody"
#define UID "0b5c7e52-3f1a-4c2e-9d7e-5a1b2c3d4e5f"

static struct trig_spec *hook_spec(const char *sig, const char *rest)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"gh\"},\"spec\":{\"workflowRef\":{\"name\":\"build\"},"
             "\"webhook\":{\"secretRef\":{\"name\":\"s\",\"key\":\"k\"},\"signature\":\"%s\"%s}}}",
             sig, rest);
    return spec_of(buf);
}

/* "sha256=<hex HMAC-SHA256(SECRET, text)>" */
static void hmac_hdr(const char *text, size_t len, char out[80])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)text, len, md, &n);
    strcpy(out, "sha256=");
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

/* A request: headers and body, the rest JSON. */
struct req {
    struct trig_header h[12];
    size_t n;
    char sig[80], ts[24];
    struct trig_request r;
};

static void req_init(struct req *q, const char *body)
{
    memset(q, 0, sizeof *q);
    q->r.headers = q->h;
    q->r.content_type = "application/json";
    q->r.body = body;
    q->r.body_len = strlen(body);
}

static void add(struct req *q, const char *name, const char *value)
{
    q->h[q->n].name = name;
    q->h[q->n++].value = value;
    q->r.n_headers = q->n;
}

/* Signs q as the generic kind would, with timestamp ts. */
static void sign_generic(struct req *q, long long ts)
{
    snprintf(q->ts, sizeof q->ts, "%lld", ts);
    char *text = malloc(strlen(q->ts) + 1 + q->r.body_len + 1);
    sprintf(text, "%s.", q->ts);
    memcpy(text + strlen(q->ts) + 1, q->r.body, q->r.body_len);
    hmac_hdr(text, strlen(q->ts) + 1 + q->r.body_len, q->sig);
    free(text);
    add(q, TRIG_H_TIMESTAMP, q->ts);
    add(q, TRIG_H_SIG, q->sig);
}

static int eval(const struct trig_spec *s, struct req *q, struct json_object *wf,
                struct trig_verdict *v)
{
    trig_hook_eval(s, SECRET, strlen(SECRET), &q->r, wf, "gh", UID, NOW, v);
    return v->code;
}

static void test_github_vector(void)
{
    /* docs.github.com, "Validating webhook deliveries". */
    struct trig_spec *s = hook_spec("github", "");
    struct req q;
    struct trig_verdict v = {0};
    req_init(&q, "Hello, World!");
    q.r.content_type = "text/plain";
    add(&q, "x-hub-signature-256",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    /* Past the signature: the body is not JSON, so 415 (text/plain). */
    CHECK_INT(eval(s, &q, NULL, &v), 415);
    CHECK_STR(v.reason, "UnsupportedMediaType");
    q.r.content_type = "application/json";
    CHECK_INT(eval(s, &q, NULL, &v), 400);
    CHECK_STR(v.reason, "BadRequest");
    /* Upper-case hex is the same signature. */
    q.h[0].value = "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17";
    CHECK_INT(eval(s, &q, NULL, &v), 400);
    /* One digit off, truncated, missing, wrong secret: one 401. */
    q.h[0].value = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18";
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    CHECK_STR(v.reason, "Unauthorized");
    char msg[sizeof v.message];
    strcpy(msg, v.message);
    q.h[0].value = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1";
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    CHECK_STR(v.message, msg);
    q.h[0].value = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    q.n = q.r.n_headers = 0;
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    CHECK_STR(v.message, msg);
    add(&q, TRIG_H_GITHUB_SIG,
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    trig_hook_eval(s, "It's a secret to everybody", 26, &q.r, NULL, "gh", UID, NOW, &v);
    CHECK_INT(v.code, 401);
    /* An empty secret authenticates nothing. */
    trig_hook_eval(s, "", 0, &q.r, NULL, "gh", UID, NOW, &v);
    CHECK_INT(v.code, 401);
    trig_verdict_clear(&v);
    trig_spec_free(s);
}

static void test_check_order(void)
{
    /* A bad signature on a non-JSON body of the wrong type is 401. */
    struct trig_spec *s = hook_spec("github", "");
    struct req q;
    struct trig_verdict v = {0};
    req_init(&q, "not json");
    q.r.content_type = "text/html";
    add(&q, TRIG_H_GITHUB_SIG, "sha256=00");
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    CHECK(strstr(v.message, "json") == NULL);
    /* Signed right: 415, then with the right type 400. */
    hmac_hdr(q.r.body, q.r.body_len, q.sig);
    q.h[0].value = q.sig;
    CHECK_INT(eval(s, &q, NULL, &v), 415);
    q.r.content_type = "Application/JSON; charset=utf-8";
    CHECK_INT(eval(s, &q, NULL, &v), 400);
    q.r.content_type = "application/jsonx";
    CHECK_INT(eval(s, &q, NULL, &v), 415);
    q.r.content_type = NULL; /* from the header then */
    CHECK_INT(eval(s, &q, NULL, &v), 415);
    add(&q, "content-type", "application/json;charset=UTF-8");
    CHECK_INT(eval(s, &q, NULL, &v), 400);
    /* Trailing garbage after a JSON value is not JSON; whitespace is. */
    q.r.body = "{} x";
    q.r.body_len = 4;
    hmac_hdr(q.r.body, q.r.body_len, q.sig);
    CHECK_INT(eval(s, &q, NULL, &v), 400);
    q.r.body = "{}\r\n";
    hmac_hdr(q.r.body, q.r.body_len, q.sig);
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    q.r.body = "12";
    q.r.body_len = 2;
    hmac_hdr(q.r.body, q.r.body_len, q.sig);
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    trig_verdict_clear(&v);
    trig_spec_free(s);

    /* A schedule-only trigger has no webhook. */
    s = spec_of("{\"metadata\":{\"name\":\"t\"},\"spec\":{\"workflowRef\":{\"name\":\"w\"},"
                "\"schedule\":{\"cron\":\"@daily\"}}}");
    CHECK_INT(eval(s, &q, NULL, &v), 404);
    trig_verdict_clear(&v);
    trig_spec_free(s);
}

static void test_gitlab(void)
{
    struct trig_spec *s = hook_spec("gitlab", "");
    struct req q;
    struct trig_verdict v = {0};
    req_init(&q, "{\"object_kind\":\"push\"}");
    add(&q, "X-Gitlab-Token", SECRET);
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    q.h[0].value = "It's a Secret to Everybod";
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    q.h[0].value = "It's a Secret to Everybody!";
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    q.h[0].value = "";
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    q.n = q.r.n_headers = 0;
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    /* A GitHub signature does not pass a gitlab trigger. */
    hmac_hdr(q.r.body, q.r.body_len, q.sig);
    add(&q, TRIG_H_GITHUB_SIG, q.sig);
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    trig_verdict_clear(&v);
    trig_spec_free(s);
}

static void test_generic_skew(void)
{
    struct trig_spec *s = hook_spec("generic", "");
    struct trig_verdict v = {0};
    static const struct {
        long long off;
        int code;
    } cases[] = {{0, 0}, {300, 0}, {-300, 0}, {301, 401}, {-301, 401}, {86400, 401}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct req q;
        req_init(&q, "{\"a\":1}");
        sign_generic(&q, NOW + cases[i].off);
        if (eval(s, &q, NULL, &v) != cases[i].code)
            check_fail(__FILE__, __LINE__, "offset %lld: %d", cases[i].off, v.code);
        else
            check_passes++;
    }
    struct req q;
    req_init(&q, "{\"a\":1}");
    sign_generic(&q, NOW);
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    /* The timestamp is signed: changing it breaks the signature. */
    q.h[0].value = "1795600801";
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    q.h[0].value = q.ts;
    /* The body is signed. */
    q.r.body = "{\"a\":2}";
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    q.r.body = "{\"a\":1}";
    /* Malformed or missing timestamps. */
    q.h[0].value = "";
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    q.h[0].value = "-1795600800";
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    q.h[0].name = "X-Other";
    q.h[0].value = q.ts;
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    /* Only the one in the header counts; GitHub's header is not ours. */
    req_init(&q, "{\"a\":1}");
    hmac_hdr(q.r.body, q.r.body_len, q.sig);
    add(&q, TRIG_H_GITHUB_SIG, q.sig);
    CHECK_INT(eval(s, &q, NULL, &v), 401);
    trig_verdict_clear(&v);
    trig_spec_free(s);
}

#define PUSH                                                                                       \
    "{\"ref\":\"refs/heads/main\",\"after\":\"abc123\",\"n\":42,\"f\":1.50,\"ok\":true,"           \
    "\"nul\":null,\"obj\":{\"a\":[1,\"x/y\"]},\"a~b\":{\"c/d\":\"esc\"}}"

/* A github request for PUSH signed right, with some headers. */
static void github_req(struct req *q, const char *body)
{
    req_init(q, body);
    hmac_hdr(q->r.body, q->r.body_len, q->sig);
    add(q, TRIG_H_GITHUB_SIG, q->sig);
    add(q, "X-GitHub-Event", "push");
}

static void test_filters(void)
{
    struct trig_spec *s = hook_spec(
        "github",
        ",\"filter\":{\"headers\":{\"x-github-event\":[\"push\",\"ping\"]},"
        "\"body\":[{\"pointer\":\"/ref\",\"values\":[\"refs/heads/main\",\"refs/heads/rel\"]},"
        "{\"pointer\":\"/n\",\"values\":[\"42\"]}]}");
    struct req q;
    struct trig_verdict v = {0};
    github_req(&q, PUSH);
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    q.h[1].value = "issues";
    CHECK_INT(eval(s, &q, NULL, &v), 202);
    CHECK_STR(v.reason, "Skipped");
    CHECK_STR(v.skipped, "header x-github-event is \"issues\"");
    CHECK_CONTAINS(v.message, "issues");
    q.n = q.r.n_headers = 1;
    CHECK_INT(eval(s, &q, NULL, &v), 202);
    CHECK_STR(v.skipped, "header x-github-event is missing");
    q.n = q.r.n_headers = 2;
    q.h[1].value = "ping";
    CHECK_INT(eval(s, &q, NULL, &v), 0);

    github_req(&q, "{\"ref\":\"refs/heads/dev\",\"n\":42}");
    CHECK_INT(eval(s, &q, NULL, &v), 202);
    CHECK_STR(v.skipped, "body /ref is \"refs/heads/dev\"");
    github_req(&q, "{\"n\":42}");
    CHECK_INT(eval(s, &q, NULL, &v), 202);
    CHECK_STR(v.skipped, "body /ref is missing");
    github_req(&q, "{\"ref\":null,\"n\":42}");
    CHECK_INT(eval(s, &q, NULL, &v), 202);
    CHECK_STR(v.skipped, "body /ref is missing");
    github_req(&q, "{\"ref\":\"refs/heads/rel\",\"n\":43}");
    CHECK_INT(eval(s, &q, NULL, &v), 202);
    CHECK_STR(v.skipped, "body /n is \"43\"");
    /* What is echoed is cut short and escaped. */
    char body[600];
    strcpy(body, "{\"ref\":\"\\\"\\u0001");
    memset(body + strlen(body), 'z', 300);
    strcpy(body + 16 + 300, "\",\"n\":42}");
    github_req(&q, body);
    CHECK_INT(eval(s, &q, NULL, &v), 202);
    CHECK(strncmp(v.skipped, "body /ref is \"\\\"\\x01zzz", 23) == 0);
    CHECK(strlen(v.skipped) < 140);
    CHECK_CONTAINS(v.skipped, "...\"");
    trig_verdict_clear(&v);
    trig_spec_free(s);
}

#define WF                                                                                         \
    "{\"spec\":{\"params\":[{\"name\":\"sha\"},{\"name\":\"ev\",\"default\":\"none\"},"            \
    "{\"name\":\"miss\",\"default\":\"dflt\"},{\"name\":\"nothing\"}]}}"

static void test_params(void)
{
    struct trig_spec *s = hook_spec(
        "github",
        ",\"params\":[{\"name\":\"sha\",\"pointer\":\"/after\"},"
        "{\"name\":\"ev\",\"header\":\"x-github-event\"},{\"name\":\"lit\",\"value\":\"v$1\"},"
        "{\"name\":\"num\",\"pointer\":\"/n\"},{\"name\":\"flt\",\"pointer\":\"/f\"},"
        "{\"name\":\"ok\",\"pointer\":\"/ok\"},{\"name\":\"obj\",\"pointer\":\"/obj\"},"
        "{\"name\":\"esc\",\"pointer\":\"/a~0b/c~1d\"},{\"name\":\"all\",\"pointer\":\"\"},"
        "{\"name\":\"el\",\"pointer\":\"/obj/a/1\"}]");
    struct json_object *wf = json_tokener_parse(WF);
    struct req q;
    struct trig_verdict v = {0};
    github_req(&q, PUSH);
    CHECK_INT(eval(s, &q, wf, &v), 0);
    CHECK_STR(v.reason, "");
    if (v.params && v.params->n == 10) {
        CHECK_STR(wf_params_get(v.params, "sha"), "abc123");
        CHECK_STR(wf_params_get(v.params, "ev"), "push");
        CHECK_STR(wf_params_get(v.params, "lit"), "v$1");
        CHECK_STR(wf_params_get(v.params, "num"), "42");
        CHECK_STR(wf_params_get(v.params, "flt"), "1.50");
        CHECK_STR(wf_params_get(v.params, "ok"), "true");
        CHECK_STR(wf_params_get(v.params, "obj"), "{\"a\":[1,\"x/y\"]}");
        CHECK_STR(wf_params_get(v.params, "esc"), "esc");
        CHECK_STR(wf_params_get(v.params, "el"), "x/y");
        CHECK_CONTAINS(wf_params_get(v.params, "all"), "\"ref\":\"refs/heads/main\"");
        CHECK_STR(v.params->kv[0].name, "sha"); /* spec order */
    } else {
        CHECK(0);
    }
    trig_verdict_clear(&v);
    trig_spec_free(s);

    /* Missing values: the Workflow's default, else 422; null is missing. */
    s = hook_spec("github", ",\"params\":[{\"name\":\"miss\",\"pointer\":\"/nope\"},"
                            "{\"name\":\"ev\",\"header\":\"X-None\"}]");
    github_req(&q, PUSH);
    CHECK_INT(eval(s, &q, wf, &v), 0);
    CHECK_STR(wf_params_get(v.params, "miss"), "dflt");
    CHECK_STR(wf_params_get(v.params, "ev"), "none");
    /* Workflow unknown: left out, the run's resolution decides. */
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    CHECK_INT(v.params->n, 0);
    trig_spec_free(s);
    s = hook_spec("github", ",\"params\":[{\"name\":\"sha\",\"pointer\":\"/nul\"}]");
    CHECK_INT(eval(s, &q, wf, &v), 422);
    CHECK_STR(v.reason, "UnprocessableEntity");
    CHECK_STR(v.message,
              "parameter \"sha\": body pointer /nul is missing and the workflow has no default");
    CHECK(v.params == NULL);
    CHECK_STR(v.run_name, "");
    trig_spec_free(s);
    s = hook_spec("github", ",\"params\":[{\"name\":\"nothing\",\"header\":\"X-None\"}]");
    CHECK_INT(eval(s, &q, wf, &v), 422);
    CHECK_CONTAINS(v.message, "header X-None is missing");
    trig_spec_free(s);

    /* Over 32 KiB: 422; exactly 32 KiB passes. */
    s = hook_spec("github", ",\"params\":[{\"name\":\"sha\",\"pointer\":\"/after\"}]");
    char *body = malloc(TRIG_VALUE_MAX + 64);
    for (int over = 0; over <= 1; over++) {
        size_t n = (size_t)TRIG_VALUE_MAX + (size_t)over;
        strcpy(body, "{\"after\":\"");
        memset(body + 10, 'a', n);
        strcpy(body + 10 + n, "\"}");
        github_req(&q, body);
        CHECK_INT(eval(s, &q, wf, &v), over ? 422 : 0);
    }
    CHECK_CONTAINS(v.message, "longer than 32768 bytes");
    free(body);
    trig_verdict_clear(&v);
    trig_spec_free(s);
    json_object_put(wf);
}

static void test_delivery_and_name(void)
{
    struct trig_spec *s = hook_spec("github", "");
    struct req q;
    struct trig_verdict v = {0};
    github_req(&q, "{}");
    /* No id header: the hex SHA-256 of the body. */
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    CHECK_STR(v.delivery, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    char first[TRIG_NAME_LEN];
    strcpy(first, v.run_name);
    CHECK_INT(strlen(first), 2 + 1 + 10);
    CHECK(strncmp(first, "gh-", 3) == 0);
    add(&q, "Idempotency-Key", "idem-1");
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    CHECK_STR(v.delivery, "idem-1");
    add(&q, "X-Gitlab-Event-UUID", "gl-1");
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    CHECK_STR(v.delivery, "gl-1");
    add(&q, "x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    CHECK_STR(v.delivery, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    /* The name: sha256(uid followed by the id), first 10 hex. */
    char want[TRIG_NAME_LEN];
    CHECK_INT(trig_run_name("gh", UID, v.delivery, want), 0);
    CHECK_STR(v.run_name, want);
    unsigned char md[32];
    char text[300];
    snprintf(text, sizeof text, "%s%s", UID, v.delivery);
    EVP_Digest(text, strlen(text), md, NULL, EVP_sha256(), NULL);
    char hex[16];
    for (int i = 0; i < 5; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    snprintf(want, sizeof want, "gh-%s", hex);
    CHECK_STR(v.run_name, want);
    /* Deterministic: the same delivery again gives the same name. */
    CHECK_INT(eval(s, &q, NULL, &v), 0);
    CHECK_STR(v.run_name, want);
    /* Another uid, another name. */
    trig_hook_eval(s, SECRET, strlen(SECRET), &q.r, NULL, "gh", "other-uid", NOW, &v);
    CHECK(strcmp(v.run_name, want) != 0);
    /* A bad id header is 400, even with a good one behind it. */
    q.h[q.n - 1].value = "";
    CHECK_INT(eval(s, &q, NULL, &v), 400);
    CHECK_CONTAINS(v.message, "X-GitHub-Delivery");
    q.h[q.n - 1].value = "a\tb";
    CHECK_INT(eval(s, &q, NULL, &v), 400);
    char longid[202];
    memset(longid, 'i', 201);
    longid[201] = '\0';
    q.h[q.n - 1].value = longid;
    CHECK_INT(eval(s, &q, NULL, &v), 400);
    longid[200] = '\0';
    CHECK_INT(eval(s, &q, NULL, &v), 0);

    /* Names: the 52-char limit gives 63. */
    char name[64];
    memset(name, 'a', 52);
    name[52] = '\0';
    CHECK_INT(trig_run_name(name, UID, "d", want), 0);
    CHECK_INT(strlen(want), 63);
    name[52] = 'a';
    name[53] = '\0';
    CHECK_INT(trig_run_name(name, UID, "d", want), -ENAMETOOLONG);
    CHECK_INT(trig_run_name("", UID, "d", want), -EINVAL);
    trig_verdict_clear(&v);
    trig_verdict_clear(&v); /* twice is fine */
    trig_spec_free(s);
}

static void test_header_get(void)
{
    const struct trig_header h[] = {{"Content-Type", "a"}, {"X-A", "1"}, {"x-a", "2"}};
    CHECK_STR(trig_header_get(h, 3, "content-type"), "a");
    CHECK_STR(trig_header_get(h, 3, "X-a"), "1");
    CHECK(trig_header_get(h, 3, "X-B") == NULL);
    CHECK(trig_header_get(h, 1, "X-A") == NULL);
    CHECK(trig_header_get(NULL, 0, "X-A") == NULL);
}

int main(void)
{
    RUN(test_github_vector);
    RUN(test_check_order);
    RUN(test_gitlab);
    RUN(test_generic_skew);
    RUN(test_filters);
    RUN(test_params);
    RUN(test_delivery_and_name);
    RUN(test_header_get);
    return check_finish();
}
