/* Fuzz target: the chunked request-body decoder (src/http/chunked.c), the
 * one parser the webhook listener runs on bytes lws hands over raw. The
 * input is fed twice: whole, and split at a point the first byte chooses.
 * Invariants abort:
 *  - both feedings end the same way (done, wants more, or the same error)
 *    with the same decoded bytes: framing never depends on how TCP cut it;
 *  - the decoded body never exceeds the limit (64 bytes, or what the
 *    second byte says) and -EMSGSIZE is the only answer to more;
 *  - after the end, "used" is within the input. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_http_chunked: %s:%d: %s\n", __FILE__, __LINE__, #c);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct sink {
    char buf[4096];
    size_t len;
};

static int emit(void *ud, const char *d, size_t n)
{
    struct sink *s = ud;
    REQUIRE(n <= sizeof s->buf - s->len); /* the limit holds */
    memcpy(s->buf + s->len, d, n);
    s->len += n;
    return 0;
}

/* Feeds in pieces (cut at split, 0: whole); the last return and *consumed. */
static int feed(const char *in, size_t len, size_t split, size_t limit, struct sink *s,
                size_t *consumed)
{
    struct http_chunked d;
    http_chunked_init(&d, limit);
    size_t off = 0, used = 0;
    int rc = 0;
    size_t cuts[2] = {split && split < len ? split : len, len};
    for (int i = 0; i < 2 && off < len; i++) {
        size_t end = cuts[i];
        if (end <= off)
            continue;
        rc = http_chunked_feed(&d, in + off, end - off, &used, emit, s);
        if (rc != 0) {
            REQUIRE(rc < 0 || used <= end - off);
            *consumed = off + (rc == 1 ? used : 0);
            return rc;
        }
        off = end;
    }
    *consumed = len;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t split = data[0], limit = data[1] ? data[1] : 64;
    const char *in = (const char *)data + 2;
    size_t len = size - 2;
    struct sink *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    REQUIRE(a && b);
    size_t ua = 0, ub = 0;
    int ra = feed(in, len, 0, limit, a, &ua), rb = feed(in, len, split, limit, b, &ub);
    REQUIRE(ra == 0 || ra == 1 || ra == -EINVAL || ra == -EMSGSIZE);
    REQUIRE(ra == rb);
    REQUIRE(a->len <= limit && b->len <= limit);
    if (ra == 1) {
        REQUIRE(a->len == b->len && memcmp(a->buf, b->buf, a->len) == 0);
        REQUIRE(ua == ub && ua <= len);
    }
    free(a);
    free(b);
    return 0;
}
