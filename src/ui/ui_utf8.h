/* ui_utf8 - streamed bytes made valid UTF-8, for a pod's log on its way to
 * a browser: WebSocket text frames and JSON strings must be UTF-8 (a
 * browser fails the connection on a bad frame), while a log is whatever
 * bytes the program wrote, split into chunks anywhere.
 *
 *   struct ui_utf8 u8 = {0};
 *   char *out = malloc(ui_utf8_max_out(len));
 *   size_t n = ui_utf8_clean(&u8, chunk, len, out);   // per chunk
 *   ...
 *   n = ui_utf8_finish(&u8, tail);                     // at the end, tail[3]
 *
 * Valid input comes out unchanged, byte for byte, however it is split (a
 * character cut by a chunk boundary is held back until its last byte
 * arrives). Anything else becomes U+FFFD (EF BF BD): one per maximal
 * subpart of an ill-formed sequence (Unicode 15, 3.9 "U+FFFD Substitution
 * of Maximal Subparts", what the WHATWG/W3C decoder and browsers do), so
 * overlong forms, surrogates (ED A0..BF), code points past U+10FFFF and
 * the never-valid bytes C0, C1, F5..FF each count. NUL and the other
 * control characters are kept: JSON escaping is the sender's job. The
 * result never depends on where the input was split. */
#ifndef RB_UI_UTF8_H
#define RB_UI_UTF8_H

#include <stddef.h>

/* The decoder state; all zeros is the start (and a reset). */
struct ui_utf8 {
    unsigned char pend[4]; /* the bytes of an unfinished character */
    unsigned char npend;   /* how many of them */
    unsigned char need;    /* its length in bytes; 0 between characters */
    unsigned char lo, hi;  /* the range its next byte must be in */
};

/* Bytes ui_utf8_finish may write: one U+FFFD. */
#define UI_UTF8_FINISH_MAX 3

/* The most ui_utf8_clean may write for len input bytes: 3 per byte (an
 * invalid byte becomes 3), plus the U+FFFD of an unfinished character
 * held from earlier calls that this call finds broken. SIZE_MAX when that
 * does not fit in a size_t. */
size_t ui_utf8_max_out(size_t len);

/* Appends the valid UTF-8 form of in[0..len) to out (room for
 * ui_utf8_max_out(len) bytes), keeping an unfinished character at the end
 * in st for the next call. Returns the bytes written. */
size_t ui_utf8_clean(struct ui_utf8 *st, const char *in, size_t len, char *out);

/* At the end of the stream: an unfinished character held in st becomes
 * one U+FFFD (at most UI_UTF8_FINISH_MAX bytes to out); st is reset. */
size_t ui_utf8_finish(struct ui_utf8 *st, char *out);

#endif
