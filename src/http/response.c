/* response.c - building a response: status, type, extra headers, body.
 *
 * The same struct serves a handler answering at once and an app filling a
 * deferred answer later; the connection takes the buffers over when the
 * answer is sent (http_conn_respond). */
#include "http/http-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int http_response_set_type(struct http_response *r, const char *type)
{
    if (!type || strlen(type) >= sizeof r->content_type)
        return -EINVAL;
    for (const char *p = type; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return -EINVAL;
    memcpy(r->content_type, type, strlen(type) + 1);
    return 0;
}

/* The callers bound len, so the doubling cannot overflow. */
int http_buf_append(char **buf, size_t *used, size_t *cap, size_t first_cap, const void *data,
                    size_t len)
{
    if (*used + len + 1 > *cap) {
        size_t n = *cap ? *cap : first_cap;
        while (n < *used + len + 1)
            n *= 2;
        char *p = realloc(*buf, n);
        if (!p)
            return -ENOMEM;
        *buf = p;
        *cap = n;
    }
    if (len)
        memcpy(*buf + *used, data, len);
    *used += len;
    (*buf)[*used] = '\0';
    return 0;
}

int http_response_append(struct http_response *r, const void *data, size_t len)
{
    if (r->err)
        return r->err;
    if (len > (size_t)HTTP_MAX_BODY * 64 || r->len + len + 1 > SIZE_MAX / 2) {
        r->err = -ENOMEM;
        return r->err;
    }
    int rc = http_buf_append(&r->body, &r->len, &r->cap, 1024, data, len);
    if (rc < 0)
        r->err = rc;
    return rc;
}

int http_response_printf(struct http_response *r, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return r->err ? r->err : (r->err = -EINVAL);
    if ((size_t)n < sizeof small)
        return http_response_append(r, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return r->err ? r->err : (r->err = -ENOMEM);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = http_response_append(r, big, (size_t)n);
    free(big);
    return rc;
}

/* RFC 9110 token characters. */
static int is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int http_response_set_header(struct http_response *r, const char *name, const char *value)
{
    if (!name || !value || !name[0])
        return -EINVAL;
    for (const char *p = name; *p; p++)
        if (!is_tchar(*p))
            return -EINVAL;
    /* Tab is allowed inside a value; every other control byte is not, CR
     * and LF above all (they would start a header of the caller's making). */
    for (const char *p = value; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
            return -EINVAL;
    if (strcasecmp(name, "content-type") == 0)
        return http_response_set_type(r, value);
    /* The server frames the body itself; a second opinion would let a
     * client read the stream differently. */
    static const char *const framing[] = {"content-length", "transfer-encoding", "connection"};
    for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++)
        if (strcasecmp(name, framing[i]) == 0)
            return -EINVAL;
    size_t nl = strlen(name), vl = strlen(value);
    if (nl + vl + 4 > HTTP_MAX_RESPONSE_HEADERS - r->hdrs_len)
        return -ENOSPC;
    size_t mark = r->hdrs_len;
    int rc = http_buf_append(&r->hdrs, &r->hdrs_len, &r->hdrs_cap, 256, name, nl);
    /* Lower case like lws's own headers (and as HTTP/2 would need). */
    for (size_t i = mark; rc == 0 && i < mark + nl; i++)
        if (r->hdrs[i] >= 'A' && r->hdrs[i] <= 'Z')
            r->hdrs[i] = (char)(r->hdrs[i] + ('a' - 'A'));
    if (rc == 0)
        rc = http_buf_append(&r->hdrs, &r->hdrs_len, &r->hdrs_cap, 256, ": ", 2);
    if (rc == 0)
        rc = http_buf_append(&r->hdrs, &r->hdrs_len, &r->hdrs_cap, 256, value, vl);
    if (rc == 0)
        rc = http_buf_append(&r->hdrs, &r->hdrs_len, &r->hdrs_cap, 256, "\r\n", 2);
    if (rc < 0) {
        r->hdrs_len = mark;
        if (r->hdrs)
            r->hdrs[mark] = '\0';
    }
    return rc;
}

void http_response_release(struct http_response *r)
{
    free(r->body);
    free(r->hdrs);
    r->body = r->hdrs = NULL;
    r->len = r->cap = r->hdrs_len = r->hdrs_cap = 0;
}
