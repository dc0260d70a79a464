/* headers.c - request headers, copied out of lws for handlers.
 *
 * lws 4.1 keeps a request's headers in a per-connection table (its "ah",
 * max_http_header_data bytes) that it reuses once the request is done. It
 * parses the headers it knows into tokens, which can be listed; the others
 * ("custom" headers, LWS_WITH_CUSTOM_HEADERS, on in Debian's build) it
 * keeps by name, and 4.1 has no call to list those (lws 4.3 added
 * lws_hdr_custom_name_foreach). So a request's header list is: every known
 * token present, plus the custom names the server was told to capture;
 * any other custom header is still found by http_request_header, by name,
 * while the handler runs and the table is there. */
#include "http/http-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest header name http_request_header looks up in lws's table. */
#define HTTP_HDR_NAME_MAX 128

/* The tokens that are request headers: their names end in ':'. The
 * others are the request line's pieces ("get ", "http/1.1 "), the HTTP/2
 * pseudo-headers (":path") and the query (lws's "uri-args"). */
static const char *token_header_name(int tok, size_t *nl)
{
    const char *name = (const char *)lws_token_to_string((enum lws_token_indexes)tok);
    if (!name || tok == WSI_TOKEN_HTTP_URI_ARGS || name[0] == ':')
        return NULL;
    size_t n = strlen(name);
    if (n < 2 || name[n - 1] != ':')
        return NULL;
    *nl = n - 1;
    return name;
}

struct hdr_walk {
    struct http_conn *c;
    struct lws *wsi;
    size_t count, bytes; /* pass 1: what pass 2 needs */
    char *blob;          /* pass 2: where to copy, NULL in pass 1 */
    size_t off, end;
};

static void walk_one(struct hdr_walk *w, const char *name, size_t nl, int vl, int tok)
{
    if (vl <= 0)
        return; /* absent, or empty (lws cannot tell a known token apart) */
    if (!w->blob) {
        w->count++;
        w->bytes += nl + 1 + (size_t)vl + 1;
        return;
    }
    if (w->off + nl + 1 + (size_t)vl + 1 > w->end || w->c->n_headers == w->count)
        return;
    char *n = w->blob + w->off;
    memcpy(n, name, nl);
    n[nl] = '\0';
    char *v = n + nl + 1;
    int got = tok >= 0 ? lws_hdr_copy(w->wsi, v, vl + 1, (enum lws_token_indexes)tok)
                       : lws_hdr_custom_copy(w->wsi, v, vl + 1, name, (int)nl + 1);
    if (got < 0)
        return;
    w->off += nl + 1 + (size_t)got + 1;
    w->c->headers[w->c->n_headers].name = n;
    w->c->headers[w->c->n_headers].value = v;
    w->c->n_headers++;
}

static void walk(struct hdr_walk *w)
{
    for (int tok = 0; tok < (int)_WSI_TOKEN_CLIENT_SENT_PROTOCOLS; tok++) {
        size_t nl;
        const char *name = token_header_name(tok, &nl);
        if (name)
            walk_one(w, name, nl, lws_hdr_total_length(w->wsi, (enum lws_token_indexes)tok), tok);
    }
    /* capture[] holds "name:", as lws stores custom names. */
    const struct http_server *s = w->c->srv;
    for (size_t i = 0; i < s->n_capture; i++) {
        size_t nl = strlen(s->capture[i]) - 1;
        walk_one(w, s->capture[i], nl, lws_hdr_custom_length(w->wsi, s->capture[i], (int)nl + 1),
                 -1);
    }
}

int http_headers_capture(struct http_conn *c, struct lws *wsi)
{
    struct hdr_walk w = {.c = c, .wsi = wsi};
    walk(&w);
    c->n_headers = 0;
    if (w.count == 0)
        return 0;
    c->headers = calloc(w.count, sizeof *c->headers);
    c->hdr_blob = malloc(w.bytes);
    if (!c->headers || !c->hdr_blob)
        return -ENOMEM;
    w.blob = c->hdr_blob;
    w.end = w.bytes;
    walk(&w);
    return 0;
}

/* Looks an uncaptured custom header up in lws's table; the copy lives in
 * c->extra until the request is done. */
static const char *lookup_extra(struct http_conn *c, const char *name)
{
    for (struct http_extra_hdr *e = c->extra; e; e = e->next)
        if (strcasecmp(e->name, name) == 0)
            return e->value;
    size_t nl = strlen(name);
    if (!c->wsi || nl == 0 || nl >= HTTP_HDR_NAME_MAX)
        return NULL;
    char key[HTTP_HDR_NAME_MAX + 1];
    for (size_t i = 0; i < nl; i++)
        key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + ('a' - 'A') : name[i]);
    key[nl] = ':';
    int vl = lws_hdr_custom_length(c->wsi, key, (int)nl + 1);
    if (vl <= 0)
        return NULL;
    struct http_extra_hdr *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->name = strdup(name);
    e->value = malloc((size_t)vl + 1);
    if (!e->name || !e->value ||
        lws_hdr_custom_copy(c->wsi, e->value, vl + 1, key, (int)nl + 1) < 0) {
        free(e->name);
        free(e->value);
        free(e);
        return NULL;
    }
    e->next = c->extra;
    c->extra = e;
    return e->value;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
    if (!req || !name)
        return NULL;
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return req->conn ? lookup_extra(req->conn, name) : NULL;
}
