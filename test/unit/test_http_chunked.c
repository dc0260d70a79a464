/* The chunked body decoder (src/http/chunked.c), fed whole, one byte at a
 * time, and split at every position: the result must not depend on how
 * the bytes arrive. */
#include "check.h"
#include "http/http-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
    char buf[256];
    size_t len;
    int fail_at; /* emit returns -ENOMEM once len would pass this; 0: never */
};

static int emit(void *ud, const char *data, size_t len)
{
    struct out *o = ud;
    if (o->fail_at && o->len + len > (size_t)o->fail_at)
        return -ENOMEM;
    if (o->len + len > sizeof o->buf)
        return -E2BIG;
    memcpy(o->buf + o->len, data, len);
    o->len += len;
    return 0;
}

/* Feeds in as pieces of at most step bytes (0: split once at split).
 * Returns the final rc; *used_total counts the bytes taken. */
static int feed(const char *in, size_t len, size_t limit, size_t step, size_t split, struct out *o,
                size_t *used_total)
{
    struct http_chunked d;
    http_chunked_init(&d, limit);
    memset(o->buf, 0, sizeof o->buf);
    o->len = 0;
    *used_total = 0;
    size_t off = 0, piece = 0;
    int rc = 0;
    while (off < len && rc == 0) {
        size_t n = step ? step : (piece++ == 0 ? split : len - off);
        if (n > len - off)
            n = len - off;
        size_t used;
        rc = http_chunked_feed(&d, in + off, n, &used, emit, o);
        *used_total += used;
        off += n;
    }
    return rc;
}

struct tcase {
    const char *in;
    size_t limit;
    int rc;
    const char *out; /* decoded, when rc == 1 */
    size_t rest;     /* bytes after the body, when rc == 1 */
};

static const struct tcase cases[] = {
    {"0\r\n\r\n", 100, 1, "", 0},
    {"3\r\nabc\r\n0\r\n\r\n", 100, 1, "abc", 0},
    {"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 100, 1, "abcde", 16},
    {"A\r\n0123456789\r\n0\r\n\r\n", 100, 1, "0123456789", 0},
    {"a\r\n0123456789\r\n000\r\n\r\n", 100, 1, "0123456789", 0},
    /* extensions, with and without values, and whitespace before ';' */
    {"3;x=1\r\nabc\r\n2 ; name=\"v; w\"\r\nde\r\n0;last\r\n\r\n", 100, 1, "abcde", 0},
    /* trailers are skipped */
    {"1\r\nz\r\n0\r\nX-Trailer: t\r\nOther: u\r\n\r\n", 100, 1, "z", 0},
    /* the limit is on decoded bytes */
    {"5\r\nabcde\r\n0\r\n\r\n", 5, 1, "abcde", 0},
    {"5\r\nabcde\r\n1\r\nf\r\n0\r\n\r\n", 5, -EMSGSIZE, NULL, 0},
    {"6\r\nabcdef\r\n0\r\n\r\n", 5, -EMSGSIZE, NULL, 0},
    {"fffffffffffffff\r\n", 100, -EMSGSIZE, NULL, 0},
    /* malformed */
    {"\r\n", 100, -EINVAL, NULL, 0},
    {"zz\r\n", 100, -EINVAL, NULL, 0},
    {"-1\r\n", 100, -EINVAL, NULL, 0},
    {"+3\r\nabc\r\n0\r\n\r\n", 100, -EINVAL, NULL, 0},
    {"0x3\r\nabc\r\n0\r\n\r\n", 100, -EINVAL, NULL, 0},
    {"1fffffffffffffff\r\n", 100, -EINVAL, NULL, 0},
    {"3\nabc\r\n0\r\n\r\n", 100, -EINVAL, NULL, 0},
    {"3\r\nabcX\r\n0\r\n\r\n", 100, -EINVAL, NULL, 0},
    {"3\r\nabc\n0\r\n\r\n", 100, -EINVAL, NULL, 0},
    {"3\r\nabc\r\n0\r\n\n", 100, -EINVAL, NULL, 0},
    {"3;a\nb\r\nabc\r\n0\r\n\r\n", 100, -EINVAL, NULL, 0},
    {"3;a\001\r\nabc\r\n0\r\n\r\n", 100, -EINVAL, NULL, 0},
    {"1\r\nz\r\n0\r\nX: t\n\r\n", 100, -EINVAL, NULL, 0},
};

static void test_cases(void)
{
    struct out o = {0};
    size_t used;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct tcase *t = &cases[i];
        size_t len = strlen(t->in);
        for (size_t step = 0; step <= 3; step++) {
            /* step 0: split once at every position; else pieces of step. */
            for (size_t split = 0; split <= (step ? 0 : len); split++) {
                int rc = feed(t->in, len, t->limit, step, split, &o, &used);
                if (rc != t->rc)
                    fprintf(stderr, "case %zu step %zu split %zu\n", i, step, split);
                CHECK_INT(rc, t->rc);
                if (t->rc == 1 && rc == 1) {
                    CHECK_INT(o.len, strlen(t->out));
                    CHECK(memcmp(o.buf, t->out, o.len) == 0);
                    CHECK_INT(len - used, t->rest);
                }
            }
        }
    }
}

static void test_sticky(void)
{
    struct http_chunked d;
    struct out o = {0};
    size_t used;
    http_chunked_init(&d, 100);
    CHECK_INT(http_chunked_feed(&d, "x", 1, &used, emit, &o), -EINVAL);
    CHECK_INT(http_chunked_feed(&d, "0\r\n\r\n", 5, &used, emit, &o), -EINVAL);
    CHECK_INT(used, 0);

    http_chunked_init(&d, 100);
    CHECK_INT(http_chunked_feed(&d, "0\r\n\r\n", 5, &used, emit, &o), 1);
    CHECK_INT(http_chunked_feed(&d, "more", 4, &used, emit, &o), 1);
    CHECK_INT(used, 0);

    /* emit's error is returned, and sticks. */
    http_chunked_init(&d, 100);
    o.len = 0;
    o.fail_at = 2;
    CHECK_INT(http_chunked_feed(&d, "3\r\nabc\r\n", 8, &used, emit, &o), -ENOMEM);
    CHECK_INT(http_chunked_feed(&d, "0\r\n\r\n", 5, &used, emit, &o), -EINVAL);
}

/* Bounded extensions and trailers: a peer cannot stream framing forever. */
static void test_bounds(void)
{
    size_t n = 10000;
    char *in = malloc(n + 64);
    struct out o = {0};
    size_t used;
    /* "1;eee...e\r\nz\r\n0\r\n\r\n": an extension past the bound. */
    size_t len = (size_t)snprintf(in, n + 64, "1;%0*d\r\nz\r\n0\r\n\r\n", (int)n, 0);
    CHECK_INT(feed(in, len, 100, 0, 1, &o, &used), -EINVAL);
    /* "0\r\nX: 000...0\r\n\r\n": a trailer past the bound. */
    len = (size_t)snprintf(in, n + 64, "0\r\nX: %0*d\r\n\r\n", (int)n, 0);
    CHECK_INT(feed(in, len, 100, 0, 1, &o, &used), -EINVAL);
    free(in);
}

int main(void)
{
    RUN(test_cases);
    RUN(test_sticky);
    RUN(test_bounds);
    return check_finish();
}
