/* Trigger spec validation: every error names its field path, wrong JSON
 * types are errors, and a valid spec is read back field by field. */
#include "check.h"
#include "trigger/trigger.h"

#include <errno.h>
#include <stdlib.h>

/* Parses `json` as a Trigger; returns the error message ("" on success). */
static const char *parse_msg(const char *json, struct trig_spec **out)
{
    static struct trig_error err;
    memset(&err, 0, sizeof err);
    struct json_object *o = json_tokener_parse(json);
    struct trig_spec *s = NULL;
    int r = trig_spec_parse(o, &s, &err);
    json_object_put(o); /* the spec keeps its own reference */
    if (r == 0) {
        if (out)
            *out = s;
        else
            trig_spec_free(s);
        return "";
    }
    CHECK_INT(r, -EINVAL);
    CHECK_STR(err.reason, TRIG_R_INVALID);
    CHECK(s == NULL);
    return err.message;
}

#define META "\"metadata\":{\"name\":\"gh\"},"
#define WREF "\"workflowRef\":{\"name\":\"build\"},"
#define HOOK "\"webhook\":{\"secretRef\":{\"name\":\"s\",\"key\":\"k\"}"

static void test_full_spec(void)
{
    struct trig_spec *s = NULL;
    const char *m = parse_msg(
        "{" META "\"spec\":{" WREF HOOK ",\"signature\":\"github\","
        "\"filter\":{\"headers\":{\"X-GitHub-Event\":[\"push\",\"ping\"]},"
        "\"body\":[{\"pointer\":\"/ref\",\"values\":[\"refs/heads/main\"]}]},"
        "\"params\":[{\"name\":\"sha\",\"pointer\":\"/after\"},{\"name\":\"ev\",\"header\":"
        "\"X-GitHub-Event\"},{\"name\":\"lit\",\"value\":\"x\"}]},"
        "\"schedule\":{\"cron\":\"0 * * * *\",\"timeZone\":\"Europe/Paris\","
        "\"startingDeadlineSeconds\":60,\"suspend\":true,\"params\":[{\"name\":\"a\",\"value\":"
        "\"1\"}]},"
        "\"runTemplate\":{\"metadata\":{\"labels\":{\"team\":\"ci\"},\"annotations\":{\"a\":\"b "
        "c\"}}}"
        "}}",
        &s);
    CHECK_STR(m, "");
    if (!s)
        return;
    CHECK_STR(s->name, "gh");
    CHECK_STR(s->workflow, "build");
    CHECK(s->has_webhook && s->has_schedule);
    CHECK_INT(s->hook.sig, TRIG_SIG_GITHUB);
    CHECK_STR(s->hook.secret_name, "s");
    CHECK_STR(s->hook.secret_key, "k");
    CHECK_INT(s->hook.n_hfilters, 1);
    CHECK_STR(s->hook.hfilters[0].header, "X-GitHub-Event");
    CHECK_INT(s->hook.n_bfilters, 1);
    CHECK_STR(s->hook.bfilters[0].pointer, "/ref");
    CHECK_INT(s->hook.n_params, 3);
    CHECK_INT(s->hook.params[0].src, TRIG_SRC_POINTER);
    CHECK_STR(s->hook.params[0].arg, "/after");
    CHECK_INT(s->hook.params[1].src, TRIG_SRC_HEADER);
    CHECK_INT(s->hook.params[2].src, TRIG_SRC_VALUE);
    CHECK_STR(s->sched.cron, "0 * * * *");
    CHECK_STR(s->sched.time_zone, "Europe/Paris");
    CHECK_INT(s->sched.starting_deadline_seconds, 60);
    CHECK_INT(s->sched.suspend, 1);
    CHECK_INT(s->sched.n_params, 1);
    CHECK_STR(kj_get_str(s->labels, "team"), "ci");
    CHECK_STR(kj_get_str(s->annotations, "a"), "b c");
    trig_spec_free(s);

    /* Minimal: generic is the default signature, schedule alone is fine. */
    s = NULL;
    CHECK_STR(parse_msg("{" META "\"spec\":{" WREF HOOK "}}}", &s), "");
    if (s) {
        CHECK_INT(s->hook.sig, TRIG_SIG_GENERIC);
        CHECK(!s->has_schedule);
        trig_spec_free(s);
    }
    s = NULL;
    CHECK_STR(parse_msg("{" META "\"spec\":{" WREF "\"schedule\":{\"cron\":\"@hourly\"}}}", &s),
              "");
    if (s) {
        CHECK(!s->has_webhook);
        CHECK_INT(s->sched.starting_deadline_seconds, -1);
        trig_spec_free(s);
    }
    trig_spec_free(NULL);
}

struct bad {
    const char *json;
    const char *msg; /* a substring of the message */
};

static void test_errors(void)
{
    static const struct bad cases[] = {
        {"[]", "a Trigger must be an object"},
        {"{\"spec\":{}}", "metadata.name is required"},
        {"{\"metadata\":{\"name\":7},\"spec\":{}}", "metadata.name is required"},
        {"{\"metadata\":{\"name\":\"a23456789012345678901234567890123456789012345678901234\"},"
         "\"spec\":{" WREF HOOK "}}}",
         "metadata.name"},
        {"{\"metadata\":{\"name\":\"Gh\"},"
         "\"spec\":{" WREF HOOK "}}}",
         "DNS label"},
        {"{" META "}", "spec is required"},
        {"{" META "\"spec\":[]}", "spec must be an object"},
        {"{" META "\"spec\":{" HOOK "}}}", "spec.workflowRef.name is required"},
        {"{" META "\"spec\":{\"workflowRef\":\"x\"," HOOK "}}}",
         "spec.workflowRef must be an object"},
        {"{" META "\"spec\":{\"workflowRef\":{\"name\":1}," HOOK "}}}",
         "spec.workflowRef.name must be a string"},
        {"{" META "\"spec\":{" WREF "\"runTemplate\":{}}}", "spec: set webhook, schedule or both"},
        {"{" META "\"spec\":{" WREF "\"webhook\":{}}}", "spec.webhook.secretRef is required"},
        {"{" META "\"spec\":{" WREF "\"webhook\":true}}", "spec.webhook must be an object"},
        {"{" META "\"spec\":{" WREF "\"webhook\":{\"secretRef\":{\"key\":\"k\"}}}}",
         "spec.webhook.secretRef.name is required"},
        {"{" META "\"spec\":{" WREF "\"webhook\":{\"secretRef\":{\"name\":\"s\"}}}}",
         "spec.webhook.secretRef.key is required"},
        {"{" META "\"spec\":{" WREF "\"webhook\":{\"secretRef\":{\"name\":\"s\",\"key\":[]}}}}",
         "spec.webhook.secretRef.key must be a string"},
        {"{" META "\"spec\":{" WREF HOOK ",\"signature\":\"bitbucket\"}}}",
         "spec.webhook.signature: \"bitbucket\" is not one of github, gitlab, generic"},
        {"{" META "\"spec\":{" WREF HOOK ",\"signature\":1}}}",
         "spec.webhook.signature must be a string"},
        {"{" META "\"spec\":{" WREF HOOK ",\"filter\":[]}}}", "spec.webhook.filter must be an"},
        {"{" META "\"spec\":{" WREF HOOK ",\"filter\":{\"headers\":[]}}}}",
         "spec.webhook.filter.headers must be an object"},
        {"{" META "\"spec\":{" WREF HOOK ",\"filter\":{\"headers\":{\"X-E\":[]}}}}}",
         "spec.webhook.filter.headers[\"X-E\"] must be a non-empty list of strings"},
        {"{" META "\"spec\":{" WREF HOOK ",\"filter\":{\"headers\":{\"X-E\":[1]}}}}}",
         "spec.webhook.filter.headers[\"X-E\"][0] must be a string"},
        {"{" META "\"spec\":{" WREF HOOK ",\"filter\":{\"headers\":{\"X E\":[\"a\"]}}}}}",
         "not a header name"},
        {"{" META "\"spec\":{" WREF HOOK ",\"filter\":{\"body\":{}}}}}",
         "spec.webhook.filter.body must be a list"},
        {"{" META "\"spec\":{" WREF HOOK ",\"filter\":{\"body\":[{\"values\":[\"a\"]}]}}}}",
         "spec.webhook.filter.body[0].pointer is required"},
        {"{" META "\"spec\":{" WREF HOOK
         ",\"filter\":{\"body\":[{\"pointer\":\"ref\",\"values\":[\"a\"]}]}}}}",
         "spec.webhook.filter.body[0].pointer: \"ref\" is not a JSON pointer"},
        {"{" META "\"spec\":{" WREF HOOK
         ",\"filter\":{\"body\":[{\"pointer\":\"/a~2\",\"values\":[\"a\"]}]}}}}",
         "is not a JSON pointer"},
        {"{" META "\"spec\":{" WREF HOOK ",\"filter\":{\"body\":[{\"pointer\":\"/r\"}]}}}}",
         "spec.webhook.filter.body[0].values must be a non-empty list"},
        {"{" META "\"spec\":{" WREF HOOK ",\"params\":{}}}}", "spec.webhook.params must be a list"},
        {"{" META "\"spec\":{" WREF HOOK ",\"params\":[1]}}}",
         "spec.webhook.params[0] must be an object"},
        {"{" META "\"spec\":{" WREF HOOK ",\"params\":[{\"value\":\"v\"}]}}}",
         "spec.webhook.params[0].name must be a string"},
        {"{" META "\"spec\":{" WREF HOOK ",\"params\":[{\"name\":\"9a\",\"value\":\"v\"}]}}}",
         "spec.webhook.params[0].name: \"9a\" is not valid"},
        {"{" META "\"spec\":{" WREF HOOK ",\"params\":[{\"name\":\"a\",\"value\":\"v\"},"
         "{\"name\":\"b\",\"value\":\"v\"},{\"name\":\"c\"}]}}}",
         "spec.webhook.params[2]: set exactly one of pointer, header, value"},
        {"{" META "\"spec\":{" WREF HOOK
         ",\"params\":[{\"name\":\"a\",\"value\":\"v\",\"pointer\":\"/x\"}]}}}",
         "spec.webhook.params[0]: set exactly one of pointer, header, value"},
        {"{" META "\"spec\":{" WREF HOOK ",\"params\":[{\"name\":\"a\",\"value\":5}]}}}",
         "spec.webhook.params[0].value must be a string"},
        {"{" META "\"spec\":{" WREF HOOK ",\"params\":[{\"name\":\"a\",\"value\":\"v\"},"
         "{\"name\":\"a\",\"header\":\"X-A\"}]}}}",
         "spec.webhook.params[1].name: duplicate parameter \"a\""},
        {"{" META "\"spec\":{" WREF HOOK ",\"params\":[{\"name\":\"a\",\"pointer\":\"a\"}]}}}",
         "spec.webhook.params[0].pointer: \"a\" is not a JSON pointer"},
        {"{" META "\"spec\":{" WREF HOOK ",\"params\":[{\"name\":\"a\",\"header\":\"\"}]}}}",
         "spec.webhook.params[0].header: \"\" is not a header name"},
        {"{" META "\"spec\":{" WREF "\"schedule\":{}}}", "spec.schedule.cron is required"},
        {"{" META "\"spec\":{" WREF "\"schedule\":{\"cron\":5}}}",
         "spec.schedule.cron must be a string"},
        {"{" META "\"spec\":{" WREF "\"schedule\":{\"cron\":\"x\",\"timeZone\":1}}}",
         "spec.schedule.timeZone must be a string"},
        {"{" META "\"spec\":{" WREF
         "\"schedule\":{\"cron\":\"x\",\"startingDeadlineSeconds\":-1}}}",
         "spec.schedule.startingDeadlineSeconds must be an integer >= 0"},
        {"{" META "\"spec\":{" WREF
         "\"schedule\":{\"cron\":\"x\",\"startingDeadlineSeconds\":\"5\"}}}",
         "spec.schedule.startingDeadlineSeconds must be an integer >= 0"},
        {"{" META "\"spec\":{" WREF "\"schedule\":{\"cron\":\"x\",\"suspend\":\"true\"}}}",
         "spec.schedule.suspend must be a boolean"},
        {"{" META "\"spec\":{" WREF
         "\"schedule\":{\"cron\":\"x\",\"params\":[{\"name\":\"a\",\"pointer\":\"/a\"}]}}}",
         "spec.schedule.params[0]: set value (a schedule has no request to read)"},
        {"{" META "\"spec\":{" WREF HOOK "},\"runTemplate\":[]}}",
         "spec.runTemplate must be an object"},
        {"{" META "\"spec\":{" WREF HOOK
         "},\"runTemplate\":{\"metadata\":{\"labels\":{\"a\":1}}}}}",
         "spec.runTemplate.metadata.labels[\"a\"] must be a string"},
        {"{" META "\"spec\":{" WREF HOOK
         "},\"runTemplate\":{\"metadata\":{\"labels\":{\"a\":\"b c\"}}}}}",
         "spec.runTemplate.metadata.labels[\"a\"]: not a valid label value"},
        {"{" META "\"spec\":{" WREF HOOK "},\"runTemplate\":{\"metadata\":{\"annotations\":[]}}}}",
         "spec.runTemplate.metadata.annotations must be an object of strings"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *m = parse_msg(cases[i].json, NULL);
        if (!strstr(m, cases[i].msg))
            check_fail(__FILE__, __LINE__, "case %zu: \"%s\" not in \"%s\"", i, cases[i].msg, m);
        else
            check_passes++;
    }
    /* A 52-character name is the longest allowed. */
    CHECK_STR(parse_msg("{\"metadata\":{\"name\":\"a234567890123456789012345678901234567890123456"
                        "789012\"},\"spec\":{" WREF HOOK "}}}",
                        NULL),
              "");
    /* A null member counts as absent. */
    CHECK_STR(
        parse_msg("{" META "\"spec\":{" WREF HOOK ",\"filter\":null,\"params\":null}}}", NULL), "");
    /* A literal over 32 KiB is refused. */
    size_t big = TRIG_VALUE_MAX + 1;
    char *json = malloc(big + 256);
    int n = snprintf(json, 256,
                     "{" META "\"spec\":{" WREF HOOK ",\"params\":[{\"name\":\"a\",\"value\":\"");
    memset(json + n, 'x', big);
    strcpy(json + n + big, "\"}]}}}");
    CHECK_CONTAINS(parse_msg(json, NULL), "spec.webhook.params[0].value: longer than 32768 bytes");
    free(json);
}

int main(void)
{
    RUN(test_full_spec);
    RUN(test_errors);
    return check_finish();
}
