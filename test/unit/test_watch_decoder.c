#include "check.h"
#include "kstatus/kstatus.h"
#include "watch/decoder.h"

#include <errno.h>
#include <stdlib.h>

#include <json-c/json.h>

/* Recorded events as one line of text, "TYPE ns/name;" per event, so a
 * whole sequence is compared in one CHECK_STR. */
struct rec {
    char text[2048];
    size_t len;
    int events;
    int stop_at; /* return 7 from this event on (1-based), 0 never */
};

static void rec_printf(struct rec *r, const char *type, const char *a, const char *b)
{
    int n = snprintf(r->text + r->len, sizeof r->text - r->len, "%s %s%s;", type, a, b);
    if (n > 0 && (size_t)n < sizeof r->text - r->len)
        r->len += (size_t)n;
}

static const char *md_str(struct json_object *obj, const char *key)
{
    struct json_object *md, *v;
    if (!json_object_object_get_ex(obj, "metadata", &md) || !json_object_object_get_ex(md, key, &v))
        return "?";
    return json_object_get_string(v);
}

static int on_event(void *ud, enum watch_event_type type, struct json_object *obj)
{
    struct rec *r = ud;
    const char *name = watch_event_type_name(type);
    char nsname[256];
    struct kstatus st;
    switch (type) {
    case WATCH_BOOKMARK:
        rec_printf(r, name, watch_event_resource_version(obj),
                   watch_event_initial_events_end(obj) ? " end" : "");
        break;
    case WATCH_ERROR:
        if (kstatus_parse(obj, &st) == 0) {
            snprintf(nsname, sizeof nsname, "%d", st.code);
            rec_printf(r, name, nsname, kstatus_is_gone(&st) ? " gone" : "");
        } else {
            rec_printf(r, name, "not-a-status", "");
        }
        break;
    default:
        snprintf(nsname, sizeof nsname, "%s/%s", md_str(obj, "namespace"), md_str(obj, "name"));
        rec_printf(r, name, nsname, "");
    }
    r->events++;
    return r->stop_at && r->events >= r->stop_at ? 7 : 0;
}

/* Feeds data cut at the given offsets (ascending, may repeat) and finishes.
 * Returns the first non-zero result. */
static int decode_cuts(struct watch_decoder *d, const char *data, size_t len, const size_t *cuts,
                       int ncuts)
{
    size_t from = 0;
    for (int i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        int rc = watch_decoder_feed(d, data + from, to - from);
        if (rc != 0)
            return rc;
        from = to;
    }
    return watch_decoder_finish(d);
}

static int decode_str(const char *s, size_t max, struct rec *r)
{
    memset(r, 0, sizeof *r);
    struct watch_decoder *d = watch_decoder_new(on_event, r, max);
    int rc = decode_cuts(d, s, strlen(s), NULL, 0);
    watch_decoder_free(d);
    return rc;
}

static const char *const jobs_want =
    "ADDED ci/nightly-20261125-build;ADDED ci/nightly-20261125-test;BOOKMARK 12345 end;"
    "MODIFIED ci/nightly-20261125-build;DELETED ci/nightly-20261125-test;ERROR 410 gone;";
static const char *const pods_want =
    "ADDED ci/nightly-20261125-build-x7k2p;MODIFIED ci/nightly-20261125-build-x7k2p;"
    "MODIFIED ci/nightly-20261125-build-x7k2p;DELETED ci/nightly-20261125-build-x7k2p;"
    "BOOKMARK 12410;";
static const char *const small_want = "ADDED ci/steps;BOOKMARK 42;ERROR 410 gone;";

static const struct {
    const char *file;
    const char *const *want;
} streams[] = {
    {"watch/jobs.json", &jobs_want},
    {"watch/pods.json", &pods_want},
    {"watch/small.json", &small_want},
};
#define NSTREAMS (int)(sizeof streams / sizeof streams[0])

static void test_whole_streams(void)
{
    for (int i = 0; i < NSTREAMS; i++) {
        struct rec r = {0};
        size_t len;
        char *data = check_read_data(streams[i].file, &len);
        struct watch_decoder *d = watch_decoder_new(on_event, &r, 0);
        CHECK_INT(decode_cuts(d, data, len, NULL, 0), 0);
        CHECK_STR(r.text, *streams[i].want);
        CHECK_STR(watch_decoder_error(d), "");
        watch_decoder_free(d);
        free(data);
    }
}

/* The n-th "TYPE name;" of a recorded sequence, into out. */
static void nth_event(const char *want, int n, char *out, size_t cap)
{
    for (; n > 0 && want; n--)
        want = strchr(want, ';') ? strchr(want, ';') + 1 : NULL;
    const char *end = want ? strchr(want, ';') : NULL;
    size_t len = end ? (size_t)(end - want) + 1 : 0;
    if (len >= cap)
        len = 0;
    memcpy(out, want ? want : "", len);
    out[len] = '\0';
}

/* Every single cut point. Each event (one line of the recording) is cut
 * separately: cutting the whole stream at every point would redo the
 * other events for nothing, and is too slow under valgrind. The pair test
 * and byte-at-a-time below cover cuts spanning events. */
static void test_every_split(void)
{
    for (int i = 0; i < NSTREAMS; i++) {
        size_t len;
        char *data = check_read_data(streams[i].file, &len);
        struct rec r;
        struct watch_decoder *d = watch_decoder_new(on_event, &r, 0);
        int bad = 0, line = 0;
        for (size_t from = 0; from < len; line++) {
            const char *nl = memchr(data + from, '\n', len - from);
            size_t to = nl ? (size_t)(nl - data) + 1 : len;
            char want[256];
            nth_event(*streams[i].want, line, want, sizeof want);
            for (size_t cut = 0; cut <= to - from; cut++) {
                memset(&r, 0, sizeof r);
                watch_decoder_reset(d);
                if (decode_cuts(d, data + from, to - from, &cut, 1) != 0 ||
                    strcmp(r.text, want) != 0) {
                    if (bad++ == 0)
                        check_fail(__FILE__, __LINE__, "%s line %d cut at %zu: %s", streams[i].file,
                                   line, cut, r.text);
                }
            }
            from = to;
        }
        CHECK_INT(bad, 0);
        CHECK(line >= 3);
        watch_decoder_free(d);
        free(data);
    }
}

static void test_byte_at_a_time(void)
{
    for (int i = 0; i < NSTREAMS; i++) {
        size_t len;
        char *data = check_read_data(streams[i].file, &len);
        struct rec r = {0};
        struct watch_decoder *d = watch_decoder_new(on_event, &r, 0);
        int rc = 0;
        for (size_t k = 0; k < len && rc == 0; k++)
            rc = watch_decoder_feed(d, data + k, 1);
        CHECK_INT(rc, 0);
        CHECK_INT(watch_decoder_finish(d), 0);
        CHECK_STR(r.text, *streams[i].want);
        watch_decoder_free(d);
        free(data);
    }
}

static void test_every_pair_of_splits(void)
{
    size_t len;
    char *data = check_read_data("watch/small.json", &len);
    struct rec r;
    struct watch_decoder *d = watch_decoder_new(on_event, &r, 0);
    int bad = 0, runs = 0;
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b++) {
            size_t cuts[2] = {a, b};
            memset(&r, 0, sizeof r);
            watch_decoder_reset(d);
            runs++;
            if (decode_cuts(d, data, len, cuts, 2) != 0 || strcmp(r.text, small_want) != 0) {
                if (bad++ == 0)
                    check_fail(__FILE__, __LINE__, "cuts %zu,%zu: %s", a, b, r.text);
            }
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(runs, (len + 1) * (len + 2) / 2);
    watch_decoder_free(d);
    free(data);
}

static void test_separators(void)
{
    struct rec r;
    const char *ev = "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}";
    char buf[512];
    /* CRLF, blank lines, spaces and tabs, none at all, leading ones. */
    snprintf(buf, sizeof buf, "\r\n \t%s\r\n\r\n%s%s  \n\t", ev, ev, ev);
    CHECK_INT(decode_str(buf, 0, &r), 0);
    CHECK_STR(r.text, "DELETED ?/a;DELETED ?/a;DELETED ?/a;");
    /* Whitespace inside the event is JSON's business. */
    CHECK_INT(decode_str("{ \"type\" :\n\"ADDED\" ,\t\"object\" : { } }", 0, &r), 0);
    CHECK_STR(r.text, "ADDED ?/?;");
    CHECK_INT(decode_str("", 0, &r), 0);
    CHECK_INT(decode_str(" \n\r\n\t ", 0, &r), 0);
    CHECK_INT(r.events, 0);
}

static void test_truncated(void)
{
    size_t len;
    char *data = check_read_data("watch/jobs.json", &len);
    struct rec r = {0};
    struct watch_decoder *d = watch_decoder_new(on_event, &r, 0);
    /* Cut inside the last event: earlier events still arrive. */
    CHECK_INT(watch_decoder_feed(d, data, len - 20), 0);
    CHECK_INT(r.events, 5);
    CHECK_INT(watch_decoder_finish(d), -EBADMSG);
    CHECK_CONTAINS(watch_decoder_error(d), "ended inside an event");
    /* Sticky until reset. */
    CHECK_INT(watch_decoder_feed(d, "\n", 1), -EBADMSG);
    CHECK_INT(watch_decoder_finish(d), -EBADMSG);
    watch_decoder_reset(d);
    CHECK_STR(watch_decoder_error(d), "");
    memset(&r, 0, sizeof r);
    CHECK_INT(decode_cuts(d, data, len, NULL, 0), 0);
    CHECK_STR(r.text, jobs_want);
    watch_decoder_free(d);
    free(data);

    /* Truncated inside a number or literal is still truncated. */
    CHECK_INT(decode_str("{\"type\":\"ADDED\",\"object\":{\"a\":12", 0, &r), -EBADMSG);
    CHECK_INT(decode_str("{\"type\":\"ADDED\",\"object\":{\"a\":tr", 0, &r), -EBADMSG);
    CHECK_INT(decode_str("{", 0, &r), -EBADMSG);
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        /* garbage between events */
        "{\"type\":\"ADDED\",\"object\":{}}\nxyz\n{\"type\":\"ADDED\",\"object\":{}}\n",
        /* not objects */
        "[1,2]\n",
        "\"ADDED\"\n",
        "42\n",
        "null\n",
        "true\n",
        /* bad shape */
        "{\"object\":{}}\n",
        "{\"type\":1,\"object\":{}}\n",
        "{\"type\":\"UPDATED\",\"object\":{}}\n",
        "{\"type\":\"added\",\"object\":{}}\n",
        "{\"type\":\"ADDED\"}\n",
        "{\"type\":\"ADDED\",\"object\":[]}\n",
        "{\"type\":\"ADDED\",\"object\":null}\n",
        "{\"type\":\"ADDED\",\"object\":\"x\"}\n",
        /* not strict JSON */
        "{\"type\":\"ADDED\",\"object\":{},}\n",
        "{'type':'ADDED','object':{}}\n",
        "/* c */{\"type\":\"ADDED\",\"object\":{}}\n",
        "{\"type\":\"ADDED\",\"object\":{\"a\":01}}\n",
        "{\"type\":\"ADDED\",\"object\":{\"a\":True}}\n",
        "{\"type\":\"ADDED\",\"object\":{\"a\":\"\\x\"}}",
        /* form feed is not JSON whitespace */
        "\f{\"type\":\"ADDED\",\"object\":{}}\n",
    };
    struct rec r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = decode_str(bad[i], 0, &r);
        if (rc != -EBADMSG)
            check_fail(__FILE__, __LINE__, "bad[%zu] %s: rc %d", i, bad[i], rc);
        else
            check_passes++;
    }
    CHECK_INT(decode_str(bad[0], 0, &r), -EBADMSG);
    CHECK_INT(r.events, 1);

    /* A NUL byte, inside an event and between events. */
    static const char nul1[] = "{\"type\":\"ADDED\",\"object\":{\"a\":\"x\0\"}}\n";
    static const char nul2[] = "{\"type\":\"ADDED\",\"object\":{}}\0\n";
    memset(&r, 0, sizeof r);
    struct watch_decoder *d = watch_decoder_new(on_event, &r, 0);
    CHECK_INT(watch_decoder_feed(d, nul1, sizeof nul1 - 1), -EBADMSG);
    watch_decoder_reset(d);
    CHECK_INT(watch_decoder_feed(d, nul2, sizeof nul2 - 1), -EBADMSG);
    CHECK_INT(r.events, 1);
    watch_decoder_free(d);
}

/* json-c 0.16 accepts "1-2" as 1 when the number is split before the '-';
 * the decoder must reject it at every cut, and keep valid numbers. */
static void test_split_numbers(void)
{
    static const struct {
        const char *s;
        int rc;
    } cases[] = {
        {"{\"type\":\"ADDED\",\"object\":{\"a\":1-2}}\n", -EBADMSG},
        {"{\"type\":\"ADDED\",\"object\":{\"a\":12.5-}}\n", -EBADMSG},
        {"{\"type\":\"ADDED\",\"object\":{\"a\":[10,-20,1.5e-3,-0.25E+2,3]}}\n", 0},
        {"{\"type\":\"ADDED\",\"object\":{\"n\":\"a1-2\"}}7", -EBADMSG},
        {"{\"type\":\"ADDED\",\"object\":{\"a\":--1}}\n", -EBADMSG},
        {"{\"type\":\"ADDED\",\"object\":{\"a\":1.-}}\n", -EBADMSG},
    };
    struct rec r;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].s);
        struct watch_decoder *d = watch_decoder_new(on_event, &r, 0);
        int bad = 0;
        for (size_t a = 0; a <= len; a++) {
            for (size_t b = a; b <= len; b++) {
                size_t cuts[2] = {a, b};
                memset(&r, 0, sizeof r);
                watch_decoder_reset(d);
                if (decode_cuts(d, cases[i].s, len, cuts, 2) != cases[i].rc && bad++ == 0)
                    check_fail(__FILE__, __LINE__, "case %zu cuts %zu,%zu", i, a, b);
            }
        }
        CHECK_INT(bad, 0);
        watch_decoder_free(d);
    }
}

static void test_depth(void)
{
    /* 200 levels is fine (json-c's default would stop at 32). */
    char buf[1024];
    size_t n = 0;
    n += (size_t)snprintf(buf, sizeof buf, "{\"type\":\"ADDED\",\"object\":");
    for (int i = 0; i < 200; i++)
        buf[n++] = '[';
    for (int i = 0; i < 200; i++)
        buf[n++] = ']';
    buf[n] = '\0';
    struct rec r;
    CHECK_INT(decode_str(buf, 0, &r), -EBADMSG); /* object must be an object */
    CHECK_STR(r.text, "");

    n = (size_t)snprintf(buf, sizeof buf, "{\"type\":\"ADDED\",\"object\":{\"a\":");
    for (int i = 0; i < 200; i++)
        buf[n++] = '[';
    for (int i = 0; i < 200; i++)
        buf[n++] = ']';
    snprintf(buf + n, sizeof buf - n, "}}");
    CHECK_INT(decode_str(buf, 0, &r), 0);
    CHECK_INT(r.events, 1);

    /* Too deep: an error, not a crash. */
    char *deep = malloc(100000);
    memset(deep, '[', 99999);
    deep[99999] = '\0';
    CHECK_INT(decode_str(deep, 0, &r), -EBADMSG);
    free(deep);
}

static void test_size_limit(void)
{
    /* An event of exactly `limit` bytes passes, one more byte does not,
     * whatever the chunking. */
    char ev[300];
    int n = snprintf(ev, sizeof ev, "{\"type\":\"ADDED\",\"object\":{\"pad\":\"%0200d\"}}", 0);
    size_t len = (size_t)n;
    struct rec r;
    for (size_t limit = len - 1; limit <= len + 1; limit++) {
        int want = limit >= len ? 0 : -E2BIG;
        CHECK_INT(decode_str(ev, limit, &r), want);
        memset(&r, 0, sizeof r);
        struct watch_decoder *d = watch_decoder_new(on_event, &r, limit);
        int rc = 0;
        /* Leading whitespace does not count; byte at a time. */
        CHECK_INT(watch_decoder_feed(d, "\n\n\n", 3), 0);
        for (size_t k = 0; k < len && rc == 0; k++)
            rc = watch_decoder_feed(d, ev + k, 1);
        if (rc == 0)
            rc = watch_decoder_finish(d);
        CHECK_INT(rc, want);
        if (want)
            CHECK_CONTAINS(watch_decoder_error(d), "larger than the limit");
        watch_decoder_free(d);
    }

    /* The limit is per event: many events of limit bytes are fine. */
    char many[2000] = "";
    for (int i = 0; i < 5; i++)
        strcat(many, ev);
    CHECK_INT(decode_str(many, len, &r), 0);
    CHECK_INT(r.events, 5);

    /* An endless string is refused once past the limit, not buffered. */
    size_t big = 1u << 20;
    char *huge = malloc(big + 1);
    memset(huge, 'x', big);
    memcpy(huge, "{\"type\":\"ADDED\",\"object\":{\"a\":\"", 31);
    huge[big] = '\0';
    memset(&r, 0, sizeof r);
    struct watch_decoder *d = watch_decoder_new(on_event, &r, 4096);
    CHECK_INT(watch_decoder_feed(d, huge, big), -E2BIG);
    watch_decoder_free(d);
    free(huge);
}

static void test_callback_stop(void)
{
    size_t len;
    char *data = check_read_data("watch/jobs.json", &len);
    struct rec r = {0};
    r.stop_at = 2;
    struct watch_decoder *d = watch_decoder_new(on_event, &r, 0);
    CHECK_INT(watch_decoder_feed(d, data, len), 7);
    CHECK_INT(r.events, 2);
    CHECK_INT(watch_decoder_feed(d, "\n", 1), 7);
    CHECK_INT(watch_decoder_finish(d), 7);
    CHECK_INT(r.events, 2);
    watch_decoder_reset(d);
    memset(&r, 0, sizeof r);
    CHECK_INT(decode_cuts(d, data, len, NULL, 0), 0);
    CHECK_INT(r.events, 6);
    watch_decoder_free(d);
    free(data);
}

/* Keeps the ERROR event's object past the callback. */
static int keep_last(void *ud, enum watch_event_type type, struct json_object *obj)
{
    struct json_object **keep = ud;
    json_object_put(*keep);
    *keep = json_object_get(obj);
    return 0;
}

static void test_helpers(void)
{
    CHECK_STR(watch_event_type_name(WATCH_ADDED), "ADDED");
    CHECK_STR(watch_event_type_name(WATCH_ERROR), "ERROR");
    CHECK_STR(watch_event_type_name((enum watch_event_type)99), "UNKNOWN");
    CHECK_STR(watch_event_type_name((enum watch_event_type) - 1), "UNKNOWN");

    struct json_object *o =
        json_tokener_parse("{\"metadata\":{\"resourceVersion\":\"12345\",\"annotations\":{\"k8s.io/"
                           "initial-events-end\":\"true\"}}}");
    CHECK_STR(watch_event_resource_version(o), "12345");
    CHECK(watch_event_initial_events_end(o));
    json_object_put(o);
    o = json_tokener_parse("{\"metadata\":{\"resourceVersion\":12,\"annotations\":{\"k8s.io/"
                           "initial-events-end\":\"false\"}}}");
    CHECK(watch_event_resource_version(o) == NULL);
    CHECK(!watch_event_initial_events_end(o));
    json_object_put(o);
    o = json_tokener_parse("{\"metadata\":[]}");
    CHECK(watch_event_resource_version(o) == NULL);
    CHECK(!watch_event_initial_events_end(o));
    json_object_put(o);
    CHECK(watch_event_resource_version(NULL) == NULL);
    CHECK(!watch_event_initial_events_end(NULL));

    /* The callback may keep the object; the ERROR's Status decodes. */
    struct json_object *kept = NULL;
    size_t len;
    char *data = check_read_data("watch/jobs.json", &len);
    struct watch_decoder *d = watch_decoder_new(keep_last, &kept, 0);
    CHECK_INT(decode_cuts(d, data, len, NULL, 0), 0);
    watch_decoder_free(d);
    free(data);
    struct kstatus st;
    CHECK_INT(kstatus_parse(kept, &st), 0);
    CHECK_INT(st.code, 410);
    CHECK_STR(st.reason, "Expired");
    CHECK_STR(st.message, "too old resource version: 1 (20)");
    CHECK(kstatus_is_gone(&st));
    json_object_put(kept);
}

int main(void)
{
    RUN(test_whole_streams);
    RUN(test_every_split);
    RUN(test_byte_at_a_time);
    RUN(test_every_pair_of_splits);
    RUN(test_separators);
    RUN(test_truncated);
    RUN(test_malformed);
    RUN(test_split_numbers);
    RUN(test_depth);
    RUN(test_size_limit);
    RUN(test_callback_stop);
    RUN(test_helpers);
    return check_finish();
}
