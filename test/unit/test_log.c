#include "check.h"
#include "log/log.h"

#include <stdlib.h>

static char *capture(enum log_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    log_setup(LOGL_INFO, fmt, f);
    log_kv(LOGL_DEBUG, "hidden", "k", "v", NULL);
    log_kv(LOGL_INFO, "step started", "run", "ns/r 1", "skip", NULL, "step", "a\"b", NULL);
    fclose(f);
    log_setup(LOGL_INFO, LOG_FORMAT_LOGFMT, NULL);
    return buf;
}

static void test_logfmt(void)
{
    char *out = capture(LOG_FORMAT_LOGFMT);
    CHECK(strstr(out, "hidden") == NULL);
    CHECK_CONTAINS(out, " level=info msg=\"step started\" run=\"ns/r 1\" step=\"a\\\"b\"\n");
    CHECK(strstr(out, "skip") == NULL);
    free(out);
}

static void test_json(void)
{
    char *out = capture(LOG_FORMAT_JSON);
    CHECK_CONTAINS(out, "\"level\":\"info\",\"msg\":\"step started\",\"run\":\"ns/r 1\","
                        "\"step\":\"a\\\"b\"}\n");
    CHECK(out[0] == '{');
    free(out);
}

static void test_parse(void)
{
    enum log_level l;
    enum log_format f;
    CHECK_INT(log_level_parse("warn", &l), 0);
    CHECK_INT(l, LOGL_WARN);
    CHECK(log_level_parse("loud", &l) < 0);
    CHECK_INT(log_format_parse("json", &f), 0);
    CHECK_INT(f, LOG_FORMAT_JSON);
    CHECK(log_format_parse("xml", &f) < 0);
}

int main(void)
{
    RUN(test_logfmt);
    RUN(test_json);
    RUN(test_parse);
    return check_finish();
}
