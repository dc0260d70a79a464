/* ui_static.c - the page's files, from memory (ui_assets.h), with the
 * headers that keep a page showing other people's strings safe: a strict
 * Content-Security-Policy (no inline script, nothing from elsewhere), no
 * MIME sniffing, no referrer, no framing. Files are revalidated with their
 * ETag (a hash of their bytes): a new operator version is seen at once,
 * an unchanged file costs a 304. */
#include <string.h>

#include "ui/ui-internal.h"
#include "ui/ui_assets.h"

#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

int ui_security_headers(struct http_response *resp)
{
    int rc = http_response_set_header(resp, "Content-Security-Policy", CSP);
    if (rc == 0)
        rc = http_response_set_header(resp, "X-Content-Type-Options", "nosniff");
    if (rc == 0)
        rc = http_response_set_header(resp, "Referrer-Policy", "no-referrer");
    if (rc == 0)
        rc = http_response_set_header(resp, "X-Frame-Options", "DENY");
    if (rc == 0)
        rc = http_response_set_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    return rc;
}

static const struct ui_asset *find(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < ui_n_assets; i++)
        if (strcmp(ui_assets[i].path, path) == 0)
            return &ui_assets[i];
    return NULL;
}

/* If-None-Match holds the ETag (one of a list, or "*"). */
static int not_modified(const struct http_request *req, const char *etag)
{
    const char *inm = http_request_header(req, "if-none-match");
    return inm && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
}

int ui_static(void *ud, const struct http_request *req, struct http_response *resp)
{
    (void)ud;
    int rc = ui_security_headers(resp);
    const struct ui_asset *a = find(req->path);
    if (rc < 0)
        return rc;
    if (!a) {
        resp->status = 404;
        return http_response_append(resp, "not found\n", 10);
    }
    if ((rc = http_response_set_header(resp, "ETag", a->etag)) < 0 ||
        (rc = http_response_set_header(resp, "Cache-Control", "no-cache")) < 0)
        return rc;
    if (not_modified(req, a->etag)) {
        resp->status = 304;
        return 0;
    }
    if ((rc = http_response_set_type(resp, a->type)) < 0)
        return rc;
    return http_response_append(resp, a->data, a->len);
}
