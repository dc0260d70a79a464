/* ui_utf8: streamed bytes repaired into UTF-8. Table-driven (Markus
 * Kuhn's UTF-8 decoder stress test classes and Unicode's own example of
 * maximal subparts), each case fed whole, byte by byte, and cut at every
 * one and every two points; then random inputs against a validator
 * written apart from the code under test. */
#include "check.h"
#include "ui/ui_utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8_valid.h"

/* "61 C0 R" -> 61 C0 EF BF BD: hex bytes, R for U+FFFD. */
static size_t bytes(const char *s, unsigned char *out)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
        } else if (*s == 'R') {
            out[n++] = 0xEF, out[n++] = 0xBF, out[n++] = 0xBD;
            s++;
        } else {
            out[n++] = (unsigned char)strtoul((char[]){s[0], s[1], 0}, NULL, 16);
            s += 2;
        }
    }
    return n;
}

/* Cleans in[0..len) fed in pieces that end at cuts[0..ncuts) (increasing),
 * then finishes; checks each call stays within ui_utf8_max_out. */
static size_t clean_cut(const unsigned char *in, size_t len, const size_t *cuts, size_t ncuts,
                        unsigned char *out)
{
    struct ui_utf8 st = {0};
    size_t n = 0, from = 0;
    for (size_t c = 0; c <= ncuts; c++) {
        size_t to = c < ncuts ? cuts[c] : len;
        size_t got = ui_utf8_clean(&st, (const char *)in + from, to - from, (char *)out + n);
        if (got > ui_utf8_max_out(to - from))
            check_fail(__FILE__, __LINE__, "%zu bytes out of %zu in", got, to - from);
        n += got;
        from = to;
    }
    size_t tail = ui_utf8_finish(&st, (char *)out + n);
    CHECK(tail <= UI_UTF8_FINISH_MAX);
    CHECK(st.need == 0 && st.npend == 0);
    return n + tail;
}

static size_t clean_all(const unsigned char *in, size_t len, unsigned char *out)
{
    return clean_cut(in, len, NULL, 0, out);
}

struct tcase {
    const char *in, *want;
};

static const struct tcase cases[] = {
    /* 1: correct text (Kuhn 1: "kosme" in Greek), the euro sign, ASCII
     * with NUL and other control characters. */
    {"CE BA E1 BD B9 CF 83 CE BC CE B5", "CE BA E1 BD B9 CF 83 CE BC CE B5"},
    {"61 E2 82 AC 62", "61 E2 82 AC 62"},
    {"00 01 09 0A 0D 1B 1F 7F", "00 01 09 0A 0D 1B 1F 7F"},
    {"", ""},
    /* 2.1: the first character of each length; 5 and 6 bytes are gone. */
    {"00", "00"},
    {"C2 80", "C2 80"},
    {"E0 A0 80", "E0 A0 80"},
    {"F0 90 80 80", "F0 90 80 80"},
    {"F8 88 80 80 80", "R R R R R"},
    {"FC 84 80 80 80 80", "R R R R R R"},
    /* 2.2: the last of each length: U+10FFFF is, U+1FFFFF is not. */
    {"7F", "7F"},
    {"DF BF", "DF BF"},
    {"EF BF BF", "EF BF BF"},
    {"F4 8F BF BF", "F4 8F BF BF"},
    {"F7 BF BF BF", "R R R R"},
    /* 2.3: other boundaries; U+110000 is the first past the end. */
    {"ED 9F BF", "ED 9F BF"},
    {"EE 80 80", "EE 80 80"},
    {"EF BF BD", "EF BF BD"},
    {"F4 90 80 80", "R R R R"},
    {"F1 80 80 80", "F1 80 80 80"},
    /* 3.1: unexpected continuation bytes, one U+FFFD each. */
    {"80", "R"},
    {"BF", "R"},
    {"80 BF", "R R"},
    {"80 BF 80 BF 80 BF 80", "R R R R R R R"},
    /* 3.2: lonely start bytes, each followed by a space. */
    {"C0 20", "R 20"},
    {"C2 20", "R 20"},
    {"DF 20 C2 20", "R 20 R 20"},
    {"E0 20", "R 20"},
    {"E1 80 20", "R 20"},
    {"F0 20", "R 20"},
    {"F1 80 80 20", "R 20"},
    {"F8 20", "R 20"},
    {"FC 20", "R 20"},
    /* 3.3, 3.4: the last byte missing, alone and all in a row: one
     * U+FFFD per unfinished character (at the very end: by finish); the
     * overlong starts are not prefixes of anything, so one per byte. */
    {"C2", "R"},
    {"E1 80", "R"},
    {"F1 80 80", "R"},
    {"DF", "R"},
    {"EF BF", "R"},
    {"F4 8F BF", "R"},
    {"C2 E1 80 F1 80 80 DF EF BF F4 8F BF", "R R R R R R"},
    {"E2 82 41", "R 41"},
    {"C0", "R"},
    {"E0 80", "R R"},
    {"F0 80 80", "R R R"},
    {"F8 80 80 80", "R R R R"},
    {"FC 80 80 80 80", "R R R R R"},
    /* 3.5: bytes that never appear. */
    {"FE", "R"},
    {"FF", "R"},
    {"FE FE FF FF", "R R R R"},
    {"F5 80 80 80", "R R R R"},
    /* 4.1, 4.2, 4.3: overlong forms of '/', the largest overlongs, and
     * overlong NULs: the lead (or its bad second byte) ends each part. */
    {"C0 AF", "R R"},
    {"E0 80 AF", "R R R"},
    {"F0 80 80 AF", "R R R R"},
    {"F8 80 80 80 AF", "R R R R R"},
    {"FC 80 80 80 80 AF", "R R R R R R"},
    {"C1 BF", "R R"},
    {"E0 9F BF", "R R R"},
    {"F0 8F BF BF", "R R R R"},
    {"C0 80", "R R"},
    {"E0 80 80", "R R R"},
    /* 5.1, 5.2: surrogates, alone and paired (CESU-8 is not UTF-8). */
    {"ED A0 80", "R R R"},
    {"ED AD BF", "R R R"},
    {"ED AE 80", "R R R"},
    {"ED AF BF", "R R R"},
    {"ED B0 80", "R R R"},
    {"ED BF BF", "R R R"},
    {"ED A0 80 ED B0 80", "R R R R R R"},
    /* 5.3: noncharacters are valid UTF-8. */
    {"EF BF BE", "EF BF BE"},
    {"EF B7 90", "EF B7 90"},
    {"F4 8F BF BE", "F4 8F BF BE"},
    /* Unicode 15, Table 3-8: the maximal subparts example. */
    {"61 F1 80 80 E1 80 C2 62 80 63 80 BF 64", "61 R R R 62 R 63 R R 64"},
    /* A broken character, then a good one starting at the breaking byte. */
    {"E1 80 E1 80 80", "R E1 80 80"},
    {"F0 90 C2 80", "R C2 80"},
    {"C2 C2 80", "R C2 80"},
};

/* Every case whole, byte by byte, and cut at every one and two points. */
static void test_table(void)
{
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        unsigned char in[64], want[256], out[256];
        size_t len = bytes(cases[c].in, in), wlen = bytes(cases[c].want, want);
        size_t n = clean_all(in, len, out);
        if (n != wlen || memcmp(out, want, n) != 0) {
            check_fail(__FILE__, __LINE__, "case %zu (%s): wrong output", c, cases[c].in);
            continue;
        }
        check_passes++;
        CHECK(valid_utf8(out, n));
        size_t each[64];
        for (size_t i = 0; i < len; i++)
            each[i] = i;
        n = clean_cut(in, len, each, len, out);
        if (n != wlen || memcmp(out, want, n) != 0)
            check_fail(__FILE__, __LINE__, "case %zu (%s): byte by byte", c, cases[c].in);
        for (size_t i = 0; i <= len; i++) {
            for (size_t j = i; j <= len; j++) {
                size_t cuts[2] = {i, j};
                n = clean_cut(in, len, cuts, 2, out);
                if (n != wlen || memcmp(out, want, n) != 0)
                    check_fail(__FILE__, __LINE__, "case %zu (%s): cut at %zu, %zu", c, cases[c].in,
                               i, j);
            }
        }
    }
}

static void test_state(void)
{
    /* A character held across calls comes out whole with its last byte;
     * the call that holds it writes nothing for it. */
    struct ui_utf8 st = {0};
    char out[32];
    CHECK_INT(ui_utf8_clean(&st, "a\xF0\x9F", 3, out), 1);
    CHECK_INT(st.npend, 2);
    CHECK_INT(ui_utf8_clean(&st, "\x98", 1, out), 0);
    CHECK_INT(ui_utf8_clean(&st, "\x80z", 2, out), 5);
    CHECK(memcmp(out, "\xF0\x9F\x98\x80z", 5) == 0);
    CHECK_INT(ui_utf8_finish(&st, out), 0);
    CHECK_INT(ui_utf8_clean(&st, NULL, 0, out), 0);

    /* The worst growth: three held bytes found broken by an invalid byte. */
    CHECK_INT(ui_utf8_clean(&st, "\xF0\x90\x80", 3, out), 0);
    CHECK_INT(ui_utf8_clean(&st, "\xFF", 1, out), 6);
    CHECK_INT(ui_utf8_max_out(1), 6);
    CHECK(memcmp(out, "\xEF\xBF\xBD\xEF\xBF\xBD", 6) == 0);

    /* finish resets; a zeroed state is a fresh one. */
    CHECK_INT(ui_utf8_clean(&st, "\xE2\x82", 2, out), 0);
    CHECK_INT(ui_utf8_finish(&st, out), 3);
    CHECK_INT(ui_utf8_finish(&st, out), 0);
    CHECK_INT(ui_utf8_clean(&st, "\xAC", 1, out), 3); /* a lone continuation now */
    st = (struct ui_utf8){0};
    CHECK_INT(ui_utf8_clean(&st, "\xE2\x82", 2, out), 0);
    st = (struct ui_utf8){0};
    CHECK_INT(ui_utf8_clean(&st, "\xAC", 1, out), 3);

    CHECK(ui_utf8_max_out(0) >= UI_UTF8_FINISH_MAX);
    CHECK(ui_utf8_max_out(SIZE_MAX) == SIZE_MAX);
    CHECK(ui_utf8_max_out(SIZE_MAX / 3) == SIZE_MAX);
    CHECK_INT(ui_utf8_max_out(1000), 3003);
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Appends the UTF-8 of code point cp (any, surrogates included: the
 * generator wants some invalid ones). */
static size_t put_cp(unsigned char *p, uint32_t cp)
{
    if (cp < 0x80) {
        p[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (unsigned char)(0xC0 | cp >> 6);
        p[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (unsigned char)(0xE0 | cp >> 12);
        p[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        p[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (unsigned char)(0xF0 | (cp >> 18 & 0x07));
    p[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    p[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    p[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Mostly characters, some cut short, some stray bytes from the edges of
 * the ranges, so that near-valid input is common. */
static size_t gen(unsigned char *p, size_t max, int only_valid)
{
    static const unsigned char edge[] = {0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                         0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
    size_t n = 0;
    size_t want = next() % max;
    while (n + 4 <= want) {
        uint32_t r = next() % 16, cp;
        if (r < 4)
            cp = next() % 0x80;
        else if (r < 8)
            cp = next() % 0x800;
        else if (r < 12)
            cp = next() % 0x10000;
        else
            cp = next() % 0x110000;
        if (only_valid && cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD;
        size_t k = put_cp(p + n, cp);
        if (!only_valid && next() % 8 == 0)
            k = next() % k; /* cut short */
        n += k;
        if (!only_valid && next() % 8 == 0)
            p[n++] = edge[next() % sizeof edge];
    }
    return n;
}

/* Any input: valid output, the same whatever the cuts; valid input: the
 * output is the input. */
static void test_random(void)
{
    enum { MAX = 200 };
    unsigned char in[MAX], out[4 * MAX + 8], out2[4 * MAX + 8];
    int bad = 0;
    for (int iter = 0; iter < 20000 && bad < 5; iter++) {
        int random_bytes = iter % 7 == 0, only_valid = !random_bytes && iter % 4 == 0;
        size_t len = random_bytes ? next() % MAX : gen(in, MAX - 4, only_valid);
        if (random_bytes)
            for (size_t i = 0; i < len; i++)
                in[i] = (unsigned char)next();
        size_t n = clean_all(in, len, out);
        if (!valid_utf8(out, n)) {
            check_fail(__FILE__, __LINE__, "iteration %d: output not UTF-8", iter);
            bad++;
        }
        if ((only_valid || valid_utf8(in, len)) && (n != len || memcmp(in, out, len) != 0)) {
            check_fail(__FILE__, __LINE__, "iteration %d: valid input changed", iter);
            bad++;
        }
        size_t cuts[8], nc = 0;
        for (size_t c = 0; c < 8 && len; c++) {
            size_t at = next() % (len + 1);
            if (nc == 0 || at >= cuts[nc - 1])
                cuts[nc++] = at;
        }
        size_t n2 = clean_cut(in, len, cuts, nc, out2);
        if (n2 != n || memcmp(out, out2, n) != 0) {
            check_fail(__FILE__, __LINE__, "iteration %d: cuts changed the output", iter);
            bad++;
        }
    }
    check_passes++;
}

int main(void)
{
    RUN(test_table);
    RUN(test_state);
    RUN(test_random);
    return check_finish();
}
