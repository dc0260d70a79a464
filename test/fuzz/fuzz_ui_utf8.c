/* Fuzz target: ui_utf8, the repair of a pod's log into UTF-8 before it
 * goes to a browser (src/ui/ui_utf8.h).
 *
 * Input: two bytes that choose a cut point, then the log bytes. The bytes
 * are cleaned whole, in two pieces cut there, and one byte at a time.
 * Invariants abort:
 *  - the output is valid UTF-8 (a checker of its own, below, that decodes
 *    code points rather than reuse the byte ranges of the code);
 *  - it is the same however the input was cut;
 *  - valid input comes out unchanged;
 *  - no call writes more than ui_utf8_max_out promised, and finish at
 *    most UI_UTF8_FINISH_MAX, leaving the state reset. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/utf8_valid.h"
#include "ui/ui_utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_ui_utf8: %s:%d: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Cleans in[0..len) in pieces of at most step bytes (0: one piece), the
 * first one ending at cut; returns the bytes written to out. */
static size_t clean(const uint8_t *in, size_t len, size_t cut, size_t step, char *out)
{
    struct ui_utf8 st = {0};
    size_t n = 0, from = 0;
    while (from < len) {
        size_t to = from < cut ? cut : step ? from + step : len;
        if (to > len)
            to = len;
        size_t got = ui_utf8_clean(&st, (const char *)in + from, to - from, out + n);
        REQUIRE(got <= ui_utf8_max_out(to - from));
        n += got;
        from = to;
    }
    size_t tail = ui_utf8_finish(&st, out + n);
    REQUIRE(tail <= UI_UTF8_FINISH_MAX);
    REQUIRE(st.need == 0 && st.npend == 0);
    REQUIRE(ui_utf8_finish(&st, out + n + tail) == 0);
    return n + tail;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t len = size - 2, cut = ((size_t)data[0] << 8 | data[1]) % (len + 1);
    const uint8_t *in = data + 2;
    /* Every byte may become 3, plus a held character's U+FFFD per call. */
    size_t cap = 6 * len + 16;
    char *whole = malloc(cap), *two = malloc(cap), *bytes = malloc(cap);
    REQUIRE(whole && two && bytes);

    size_t n = clean(in, len, 0, 0, whole);
    REQUIRE(valid_utf8((const unsigned char *)whole, n));
    if (valid_utf8(in, len))
        REQUIRE(n == len && memcmp(whole, in, len) == 0);

    size_t n2 = clean(in, len, cut, 0, two);
    REQUIRE(n2 == n && memcmp(two, whole, n) == 0);
    size_t n1 = clean(in, len, 0, 1, bytes);
    REQUIRE(n1 == n && memcmp(bytes, whole, n) == 0);

    free(whole);
    free(two);
    free(bytes);
    return 0;
}
