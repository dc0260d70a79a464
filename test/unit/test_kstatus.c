#include "check.h"
#include "kstatus/kstatus.h"

#include <errno.h>
#include <stdlib.h>

#include <json-c/json.h>

static int parse_file(const char *rel, struct kstatus *st)
{
    size_t len;
    char *body = check_read_data(rel, &len);
    int rc = kstatus_parse_json(body, len, st);
    free(body);
    return rc;
}

static void test_recorded(void)
{
    struct kstatus st;
    CHECK_INT(parse_file("kstatus/expired-410.json", &st), 0);
    CHECK_INT(st.code, 410);
    CHECK_STR(st.status, "Failure");
    CHECK_STR(st.reason, "Expired");
    CHECK_STR(st.message, "The resourceVersion for the provided list is too old.");
    CHECK(kstatus_is_gone(&st));
    CHECK(!kstatus_is_too_large_rv(&st));

    CHECK_INT(parse_file("kstatus/gone-410-old.json", &st), 0);
    CHECK_STR(st.reason, "Gone");
    CHECK(kstatus_is_gone(&st));

    CHECK_INT(parse_file("kstatus/too-large-rv-504.json", &st), 0);
    CHECK_INT(st.code, 504);
    CHECK_INT(st.retry_after_s, 1);
    CHECK(st.rv_too_large);
    CHECK(kstatus_is_too_large_rv(&st));
    CHECK(!kstatus_is_gone(&st));

    CHECK_INT(parse_file("kstatus/too-large-rv-504-1.18.json", &st), 0);
    CHECK(kstatus_is_too_large_rv(&st));

    CHECK_INT(parse_file("kstatus/too-many-requests-429.json", &st), 0);
    CHECK_INT(st.code, 429);
    CHECK_STR(st.reason, "TooManyRequests");
    CHECK_INT(st.retry_after_s, 3);
    CHECK(!kstatus_is_too_large_rv(&st));

    CHECK_INT(parse_file("kstatus/conflict-409.json", &st), 0);
    CHECK_INT(st.code, 409);
    CHECK_STR(st.reason, "Conflict");
    CHECK_CONTAINS(st.message, "the object has been modified");

    CHECK_INT(parse_file("kstatus/not-found-404.json", &st), 0);
    CHECK_INT(st.code, 404);
    CHECK_STR(st.reason, "NotFound");
    CHECK(!kstatus_is_gone(&st));

    /* Some DELETEs answer with a Success Status and no code. */
    CHECK_INT(parse_file("kstatus/success-delete.json", &st), 0);
    CHECK_STR(st.status, "Success");
    CHECK_INT(st.code, 0);
    CHECK_STR(st.reason, "");
    CHECK_STR(st.message, "");
}

static int parse_str(const char *s, struct kstatus *st)
{
    return kstatus_parse_json(s, strlen(s), st);
}

static void test_old_504_message_only(void)
{
    /* Before 1.17: no cause, only the message. */
    struct kstatus st;
    CHECK_INT(parse_str("{\"kind\":\"Status\",\"code\":504,\"reason\":\"Timeout\",\"message\":"
                        "\"Timeout: Too large non-consistent resource version: 9, current: 8\"}",
                        &st),
              0);
    CHECK(kstatus_is_too_large_rv(&st));
    CHECK_INT(parse_str("{\"kind\":\"Status\",\"code\":504,\"reason\":\"Timeout\",\"message\":"
                        "\"Timeout: request did not complete within the allotted time\"}",
                        &st),
              0);
    CHECK(!kstatus_is_too_large_rv(&st));
}

static void test_not_a_status(void)
{
    static const char *const bad[] = {
        "{\"kind\":\"Pod\",\"code\":410}",
        "{\"code\":410,\"reason\":\"Expired\"}",
        "{\"kind\":7,\"code\":410}",
        "[{\"kind\":\"Status\"}]",
        "\"Status\"",
        "null",
        "",
        "not json",
        "{\"kind\":\"Status\",\"code\":410", /* truncated body */
        "<html>502 Bad Gateway</html>",
    };
    struct kstatus st;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&st, 0x5a, sizeof st);
        int rc = parse_str(bad[i], &st);
        if (rc != -EINVAL)
            check_fail(__FILE__, __LINE__, "bad[%zu] %s: rc %d", i, bad[i], rc);
        else
            check_passes++;
        /* Zeroed, so a caller that ignores rc reads no junk. */
        CHECK_INT(st.code, 0);
        CHECK_STR(st.reason, "");
    }
    CHECK_INT(kstatus_parse(NULL, &st), -EINVAL);
}

static void test_wrong_types(void)
{
    struct kstatus st;
    CHECK_INT(parse_str("{\"kind\":\"Status\",\"code\":\"410\",\"reason\":[\"Expired\"],"
                        "\"message\":7,\"status\":null,\"details\":{\"retryAfterSeconds\":\"5\","
                        "\"causes\":{\"reason\":\"ResourceVersionTooLarge\"}}}",
                        &st),
              0);
    CHECK_INT(st.code, 0);
    CHECK_STR(st.reason, "");
    CHECK_STR(st.message, "");
    CHECK_INT(st.retry_after_s, 0);
    CHECK(!st.rv_too_large);
    CHECK(!kstatus_is_gone(&st));

    CHECK_INT(parse_str("{\"kind\":\"Status\",\"code\":99999999999,\"details\":{"
                        "\"retryAfterSeconds\":-4,\"causes\":[1,null,{\"reason\":2}]}}",
                        &st),
              0);
    CHECK_INT(st.code, 0);
    CHECK_INT(st.retry_after_s, 0);
    CHECK(!st.rv_too_large);
}

static void test_truncation(void)
{
    /* 600 two-byte characters: cut to at most 511 bytes, on a character
     * boundary, so the result is still valid UTF-8. */
    char body[2048];
    size_t n = (size_t)snprintf(body, sizeof body, "{\"kind\":\"Status\",\"message\":\"");
    for (int i = 0; i < 600; i++) {
        body[n++] = (char)0xc3;
        body[n++] = (char)0xa9;
    }
    n += (size_t)snprintf(body + n, sizeof body - n, "\",\"reason\":\"%070d\"}", 0);
    struct kstatus st;
    CHECK_INT(kstatus_parse_json(body, n, &st), 0);
    size_t mlen = strlen(st.message);
    CHECK_INT(mlen, 510);
    CHECK((unsigned char)st.message[mlen - 2] == 0xc3);
    CHECK_INT(strlen(st.reason), 63);

    /* Three-byte characters with a cut that lands mid-character. */
    n = (size_t)snprintf(body, sizeof body,
                         "{\"kind\":\"Status\",\"status\":\"\u2713\u2713\u2713"
                         "\u2713\u2713\u2713\"}");
    CHECK_INT(kstatus_parse_json(body, n, &st), 0);
    CHECK_INT(strlen(st.status), 15);
}

static void test_from_object(void)
{
    struct json_object *o = json_tokener_parse(
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"too old resource version: 1 (20)\",\"reason\":\"Expired\",\"code\":410}");
    struct kstatus st;
    CHECK_INT(kstatus_parse(o, &st), 0);
    CHECK_INT(st.code, 410);
    CHECK(kstatus_is_gone(&st));
    json_object_put(o);
}

int main(void)
{
    RUN(test_recorded);
    RUN(test_old_504_message_only);
    RUN(test_not_a_status);
    RUN(test_wrong_types);
    RUN(test_truncation);
    RUN(test_from_object);
    return check_finish();
}
