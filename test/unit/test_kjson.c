/* kjson: getters that never fail on a missing or mistyped member, the
 * metav1 condition and DeleteOptions builders, RFC 3339 times. */
#include "check.h"
#include "kjson/kjson.h"
#include "kube/kube.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct json_object *J(const char *s)
{
    return kube_json_parse(s, strlen(s));
}

static void test_getters(void)
{
    struct json_object *o =
        J("{\"metadata\":{\"name\":\"n\",\"labels\":{\"a\":\"b\",\"n\":1},"
          "\"ownerReferences\":[{\"uid\":\"u1\"},{\"uid\":\"u2\","
          "\"controller\":true,\"name\":\"r\"}]},"
          "\"status\":{\"active\":3,\"big\":9999999999,\"t\":\"2026-11-25T10:00:00Z\","
          "\"ok\":true,\"s\":\"true\"}}");
    struct json_object *meta = kj_get(o, "metadata"), *st = kj_get(o, "status");
    CHECK_STR(kj_get_str(meta, "name"), "n");
    CHECK(kj_get_str(st, "active") == NULL); /* not a string */
    CHECK(kj_get(NULL, "x") == NULL);
    CHECK(kj_get(kj_get(meta, "name"), "x") == NULL); /* not an object */
    CHECK_STR(kj_path_str(o, "metadata", "labels", "a", NULL), "b");
    CHECK(kj_path_str(o, "metadata", "labels", "n", NULL) == NULL);
    CHECK(kj_path(o, "metadata", "nope", "x", NULL) == NULL);
    CHECK(kj_path(o, NULL) == o);
    CHECK_STR(kj_label(meta, "a"), "b");
    CHECK(kj_label(meta, "zz") == NULL);
    CHECK_STR(kj_controller_ref(meta, "uid"), "u2");
    CHECK_STR(kj_controller_ref(meta, "name"), "r");
    CHECK(kj_controller_ref(st, "uid") == NULL);
    CHECK_INT(kj_get_i32(st, "active"), 3);
    CHECK_INT(kj_get_i32(st, "missing"), 0);
    CHECK_INT(kj_get_i32(st, "big"), INT32_MAX); /* json-c saturates */
    CHECK_INT(kj_get_bool(st, "ok"), 1);
    CHECK_INT(kj_get_bool(st, "s"), 0); /* the string "true" is not true */
    CHECK_INT(kj_get_time(st, "t"), 1795600800000LL);
    CHECK_INT(kj_get_time(st, "s"), 0);
    json_object_put(o);
}

static void test_conditions(void)
{
    struct json_object *old = J("[{\"type\":\"Ready\",\"status\":\"False\","
                                "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]");
    struct json_object *arr = kj_arr();
    kj_cond_add(arr, old, "Ready", "False", "Running", "m", 2, 1795600800000LL);
    kj_cond_add(arr, old, "Stalled", "True", "X", "m", 2, 1795600800000LL);
    kj_cond_add(arr, NULL, "Ready", "True", "Done", "m", 3, 1795600800000LL);
    CHECK_STR(kj_get_str(kj_cond_find(old, "Ready"), "status"), "False");
    CHECK_STR(kj_get_str(json_object_array_get_idx(arr, 0), "lastTransitionTime"),
              "2026-01-01T00:00:00Z"); /* same status: carried over */
    CHECK_STR(kj_get_str(json_object_array_get_idx(arr, 1), "lastTransitionTime"),
              "2026-11-25T10:00:00Z");
    CHECK_INT(kj_get_i32(json_object_array_get_idx(arr, 2), "observedGeneration"), 3);
    CHECK(kj_cond_find(arr, "Nope") == NULL);
    json_object_put(arr);
    json_object_put(old);
}

static void test_delete_options(void)
{
    struct json_object *d = kj_delete_options("Foreground", "u1");
    CHECK_STR(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN),
              "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"propagationPolicy\":"
              "\"Foreground\",\"preconditions\":{\"uid\":\"u1\"}}");
    json_object_put(d);
    d = kj_delete_options(NULL, "");
    CHECK_STR(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN),
              "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\"}");
    json_object_put(d);
}

static void test_time(void)
{
    int64_t ms = 0;
    CHECK_INT(kj_time_parse("1970-01-01T00:00:00Z", &ms), 0);
    CHECK_INT(ms, 0);
    CHECK_INT(kj_time_parse("2026-11-25T10:00:00Z", &ms), 0);
    CHECK_INT(ms, 1795600800000LL);
    CHECK_INT(kj_time_parse("2026-11-25T10:00:00.123456Z", &ms), 0);
    CHECK_INT(ms, 1795600800123LL);
    CHECK_INT(kj_time_parse("2026-11-25T11:30:00+01:30", &ms), 0);
    CHECK_INT(ms, 1795600800000LL);
    CHECK_INT(kj_time_parse("2024-02-29T23:59:59Z", &ms), 0);
    CHECK_INT(ms, 1709251199000LL);
    static const char *const bad[] = {
        "", "2026-11-25", "2026-11-25T10:00:00", "2026-13-01T00:00:00Z", "2026-11-25T10:00:00.Z",
        "2026-11-25T10:00:00Zjunk", "2026-11-25T10:00:00+0100",
        /* ends inside the offset: nothing past the end is read */
        "2026-11-25T10:00:00+", "2026-11-25T10:00:00+1", "2026-11-25T10:00:00-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(kj_time_parse(bad[i], &ms), -EINVAL);
    CHECK_INT(kj_time_parse(NULL, &ms), -EINVAL);

    char buf[32];
    kj_time_format(1795600800999LL, buf);
    CHECK_STR(buf, "2026-11-25T10:00:00Z");
    kj_time_format(0, buf);
    CHECK_STR(buf, "1970-01-01T00:00:00Z");
    kj_time_format(1709251199000LL, buf);
    CHECK_STR(buf, "2024-02-29T23:59:59Z");
    /* round trip over a few years, one odd step at a time */
    for (int64_t t = 946684800000LL; t < 2000000000000LL; t += 86399 * 1000LL * 7 + 1000) {
        kj_time_format(t, buf);
        CHECK_INT(kj_time_parse(buf, &ms), 0);
        if (ms != t - t % 1000) {
            CHECK_INT(ms, t - t % 1000);
            break;
        }
    }
}

/* kube_json_parse reads a shallow document with a small tokener and
 * retries a deeper one at the full depth: every depth up to the API
 * server's reads, one past the cap does not, and garbage stays refused. */
static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);
    if (!s)
        abort();
    memset(s, '[', (size_t)depth);
    memset(s + depth, ']', (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

static void test_parse_depths(void)
{
    const int depths[] = {1, 30, 31, 32, 33, 64, 200, KJ_MAX_DEPTH};
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        char *s = nested(depths[i]);
        struct json_object *o = kube_json_parse(s, strlen(s));
        CHECK(json_object_is_type(o, json_type_array));
        json_object_put(o);
        s[depths[i] * 2 - 1] = 'x'; /* not JSON at any depth */
        CHECK(kube_json_parse(s, strlen(s)) == NULL);
        free(s);
    }
    char *s = nested(KJ_MAX_DEPTH + 1);
    CHECK(kube_json_parse(s, strlen(s)) == NULL);
    free(s);
    const char *garbage = "{\"a\":[[[1]]]} x", *spaced = "{\"a\":[[[1]]]}\n";
    CHECK(kube_json_parse(garbage, strlen(garbage)) == NULL);
    struct json_object *o = kube_json_parse(spaced, strlen(spaced));
    CHECK(json_object_is_type(o, json_type_object));
    json_object_put(o);
}

int main(void)
{
    RUN(test_getters);
    RUN(test_conditions);
    RUN(test_delete_options);
    RUN(test_time);
    RUN(test_parse_depths);
    return check_finish();
}
