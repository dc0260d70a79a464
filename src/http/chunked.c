/* chunked.c - decoding a chunked request body.
 *
 * lws 4.1 reads a request body by Content-Length only: for a POST, PUT or
 * PATCH without one it assumes a body of up to 100 MiB and hands over the
 * raw bytes, chunk framing included. This is the framing, decoded as it
 * arrives in pieces of any size (one byte at a time works):
 *
 *   chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk = 1*"0" [ chunk-ext ] CRLF
 *   body       = *chunk last-chunk *( trailer-field CRLF ) CRLF
 *
 * Strict where leniency lets two parsers disagree about where a body ends
 * (request smuggling through a proxy): only CRLF ends a line, sizes are
 * hex digits with no sign, space or overflow. Extensions and trailers are
 * skipped (nobody signs them), within bounds so a peer cannot keep the
 * decoder busy forever without sending body. */
#include "http/http-internal.h"

#include <errno.h>
#include <string.h>

/* A size line (digits and extensions) and the trailer section. */
#define CHUNK_LINE_MAX 4096
#define CHUNK_TRAILER_MAX 8192

enum {
    CH_SIZE = 0, /* reading hex digits */
    CH_EXT,      /* after the digits: extension bytes up to CR */
    CH_SIZE_LF,  /* CR seen after the size line */
    CH_DATA,     /* chunk data */
    CH_DATA_CR,  /* the CRLF after chunk data */
    CH_DATA_LF,  /* */
    CH_TRAILER,  /* start of a trailer line, or the final CRLF */
    CH_TRAILER_LINE,
    CH_TRAILER_LF,
    CH_END_LF, /* CR of the final empty line seen */
    CH_DONE,
    CH_FAILED,
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void http_chunked_init(struct http_chunked *d, size_t limit)
{
    memset(d, 0, sizeof *d);
    d->state = CH_SIZE;
    d->limit = limit;
}

static int fail(struct http_chunked *d, int err)
{
    d->state = CH_FAILED;
    return err;
}

/* A byte of a trailer line, other than its CR. */
static int trailer_byte(struct http_chunked *d, char c)
{
    if (c == '\n' || ++d->trailer > CHUNK_TRAILER_MAX)
        return fail(d, -EINVAL);
    return 0;
}

/* One byte of framing (anything but chunk data). 0, 1 at the end, or < 0. */
static int frame_byte(struct http_chunked *d, char c)
{
    switch (d->state) {
    case CH_SIZE: {
        int v = hexval(c);
        if (v >= 0) {
            /* 15 digits is petabytes; the limit check does the rest. */
            if (++d->digits > 15)
                return fail(d, -EINVAL);
            d->left = d->left * 16 + (uint64_t)v;
            d->line++;
            return 0;
        }
        if (d->digits == 0)
            return fail(d, -EINVAL);
        if (d->left > d->limit - d->total)
            return fail(d, -EMSGSIZE);
        if (c == '\r') {
            d->state = CH_SIZE_LF;
            return 0;
        }
        /* "; name=value", with optional whitespace before the ';'. */
        if (c != ';' && c != ' ' && c != '\t')
            return fail(d, -EINVAL);
        d->state = CH_EXT;
        d->line++;
        return 0;
    }
    case CH_EXT:
        if (c == '\r') {
            d->state = CH_SIZE_LF;
            return 0;
        }
        if (c == '\n' || (c != '\t' && (unsigned char)c < 0x20) || c == 0x7f ||
            ++d->line > CHUNK_LINE_MAX)
            return fail(d, -EINVAL);
        return 0;
    case CH_SIZE_LF:
        if (c != '\n')
            return fail(d, -EINVAL);
        d->line = 0;
        d->digits = 0;
        d->state = d->left ? CH_DATA : CH_TRAILER;
        return 0;
    case CH_DATA_CR:
        if (c != '\r')
            return fail(d, -EINVAL);
        d->state = CH_DATA_LF;
        return 0;
    case CH_DATA_LF:
        if (c != '\n')
            return fail(d, -EINVAL);
        d->state = CH_SIZE;
        return 0;
    case CH_TRAILER:
        if (c == '\r') {
            d->state = CH_END_LF;
            return 0;
        }
        d->state = CH_TRAILER_LINE;
        return trailer_byte(d, c);
    case CH_TRAILER_LINE:
        if (c == '\r') {
            d->state = CH_TRAILER_LF;
            return 0;
        }
        return trailer_byte(d, c);
    case CH_TRAILER_LF:
        if (c != '\n')
            return fail(d, -EINVAL);
        d->state = CH_TRAILER;
        return 0;
    case CH_END_LF:
        if (c != '\n')
            return fail(d, -EINVAL);
        d->state = CH_DONE;
        return 1;
    default:
        return fail(d, -EINVAL);
    }
}

int http_chunked_feed(struct http_chunked *d, const char *in, size_t len, size_t *used,
                      http_chunked_emit emit, void *ud)
{
    size_t i = 0;
    int rc = 0;
    *used = 0;
    if (d->state == CH_FAILED)
        return -EINVAL;
    if (d->state == CH_DONE)
        return 1;
    while (i < len && rc == 0) {
        if (d->state == CH_DATA) {
            size_t n = len - i;
            if ((uint64_t)n > d->left)
                n = (size_t)d->left;
            int err = emit(ud, in + i, n);
            if (err < 0)
                return fail(d, err);
            d->left -= n;
            d->total += n;
            i += n;
            if (d->left == 0)
                d->state = CH_DATA_CR;
            continue;
        }
        rc = frame_byte(d, in[i++]);
    }
    *used = i;
    return rc;
}
