/* ui_utf8.c - repair of streamed bytes into UTF-8 (see ui_utf8.h).
 *
 * Written here because none of the libraries we link repairs: lws 4.1's
 * lws_check_utf8 only validates (and is not in its public headers), json-c
 * copies string bytes as they are, OpenSSL's UTF8_getc decodes one
 * character of a whole buffer (no state across chunks, no substitution
 * policy), and libuv, libcurl and libyaml keep their decoders private.
 *
 * The decoder is the WHATWG Encoding Standard's UTF-8 decoder, which is
 * Unicode's Table 3-7 of well-formed sequences read one byte at a time: a
 * lead byte fixes the length and the range of the second byte (narrower
 * after E0, ED, F0 and F4: that is what rules out overlong forms,
 * surrogates and code points past U+10FFFF without decoding them); every
 * later byte must be 80..BF. A byte outside the range ends the maximal
 * subpart, which becomes one U+FFFD, and is then read again as a possible
 * lead. So bytes are only ever held while they may still become a valid
 * character, and valid input is copied unchanged. */
#include "ui/ui_utf8.h"

#include <stdint.h>
#include <string.h>

static const unsigned char fffd[3] = {0xEF, 0xBF, 0xBD};

size_t ui_utf8_max_out(size_t len)
{
    if (len > (SIZE_MAX - UI_UTF8_FINISH_MAX) / 3)
        return SIZE_MAX;
    return 3 * len + UI_UTF8_FINISH_MAX;
}

/* Starts a character at lead byte b (Table 3-7): its length and where its
 * second byte must be. 0 for a byte that starts no character: 80..BF
 * (continuations), C0 and C1 (always overlong), F5..FF (past U+10FFFF, or
 * the 5- and 6-byte forms UTF-8 no longer has). */
static int start(struct ui_utf8 *st, unsigned char b)
{
    unsigned char need, lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        if (b == 0xE0)
            lo = 0xA0; /* below: overlong, U+0800 needs 3 bytes at least */
        else if (b == 0xED)
            hi = 0x9F; /* above: the surrogates D800..DFFF */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        if (b == 0xF0)
            lo = 0x90; /* below: overlong */
        else if (b == 0xF4)
            hi = 0x8F; /* above: past U+10FFFF */
    } else {
        return 0;
    }
    st->pend[0] = b;
    st->npend = 1;
    st->need = need;
    st->lo = lo;
    st->hi = hi;
    return 1;
}

size_t ui_utf8_clean(struct ui_utf8 *st, const char *in, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = p[i];
        if (st->need) {
            if (b >= st->lo && b <= st->hi) {
                st->pend[st->npend++] = b;
                st->lo = 0x80;
                st->hi = 0xBF;
                if (st->npend == st->need) {
                    memcpy(o + n, st->pend, st->npend);
                    n += st->npend;
                    st->need = st->npend = 0;
                }
                continue;
            }
            /* The maximal subpart ends before b; b is read afresh. */
            memcpy(o + n, fffd, sizeof fffd);
            n += sizeof fffd;
            st->need = st->npend = 0;
        }
        if (b < 0x80) {
            o[n++] = b;
        } else if (!start(st, b)) {
            memcpy(o + n, fffd, sizeof fffd);
            n += sizeof fffd;
        }
    }
    return n;
}

size_t ui_utf8_finish(struct ui_utf8 *st, char *out)
{
    if (!st->need)
        return 0;
    *st = (struct ui_utf8){0};
    memcpy(out, fffd, sizeof fffd);
    return sizeof fffd;
}
