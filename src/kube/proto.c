#include "kube/proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

int kube_buf_add(struct kube_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int kube_buf_adds(struct kube_buf *b, const char *s)
{
    return kube_buf_add(b, s, strlen(s));
}

static int unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

int kube_buf_add_escaped(struct kube_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char enc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
        int rc = unreserved(ch) ? kube_buf_add(b, s, 1) : kube_buf_add(b, enc, 3);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void kube_buf_free(struct kube_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int bad_segment(const char *s)
{
    return !s || !*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

static int add_segment(struct kube_buf *b, const char *s)
{
    int rc = kube_buf_add(b, "/", 1);
    return rc < 0 ? rc : kube_buf_add_escaped(b, s);
}

int kube_url_build(const char *server, const struct kube_resource *res, const char *ns,
                   const char *name, const char *sub, const struct kube_param *q, size_t nq,
                   char **out)
{
    *out = NULL;
    if (!server || !res || !res->version || !res->resource)
        return -EINVAL;
    if (ns && (!res->namespaced || bad_segment(ns)))
        return -EINVAL;
    if ((name && bad_segment(name)) || (sub && (!name || bad_segment(sub))))
        return -EINVAL;

    struct kube_buf b = {0};
    size_t slen = strlen(server);
    while (slen > 0 && server[slen - 1] == '/')
        slen--; /* "https://h:6443/" and "https://h:6443" alike */
    int rc = kube_buf_add(&b, server, slen);
    if (!rc && (!res->group || !*res->group)) {
        rc = kube_buf_adds(&b, "/api");
    } else if (!rc) {
        rc = kube_buf_adds(&b, "/apis");
        if (!rc)
            rc = add_segment(&b, res->group);
    }
    if (!rc)
        rc = add_segment(&b, res->version);
    if (!rc && ns) {
        rc = kube_buf_adds(&b, "/namespaces");
        if (!rc)
            rc = add_segment(&b, ns);
    }
    if (!rc)
        rc = add_segment(&b, res->resource);
    if (!rc && name)
        rc = add_segment(&b, name);
    if (!rc && sub)
        rc = add_segment(&b, sub);
    char sep = '?';
    for (size_t i = 0; !rc && i < nq; i++) {
        if (!q[i].value)
            continue;
        rc = kube_buf_add(&b, &sep, 1);
        if (!rc)
            rc = kube_buf_add_escaped(&b, q[i].key);
        if (!rc)
            rc = kube_buf_add(&b, "=", 1);
        if (!rc)
            rc = kube_buf_add_escaped(&b, q[i].value);
        sep = '&';
    }
    if (rc) {
        kube_buf_free(&b);
        return rc;
    }
    *out = b.p;
    return 0;
}

const char *kube_reason_for_code(long http_status)
{
    /* k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason* for each code. */
    switch (http_status) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 406:
        return "NotAcceptable";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "RequestEntityTooLarge";
    case 415:
        return "UnsupportedMediaType";
    case 422:
        return "Invalid";
    case 429:
        return "TooManyRequests";
    case 500:
        return "InternalError";
    case 503:
        return "ServiceUnavailable";
    case 504:
        return "Timeout";
    default:
        return "Unknown";
    }
}

void kube_status_decode(long http_status, struct json_object *json, const char *raw, size_t len,
                        struct kstatus *out)
{
    if (json && kstatus_parse(json, out) == 0) {
        if (!out->code)
            out->code = (int)http_status;
        if (!out->reason[0])
            snprintf(out->reason, sizeof out->reason, "%s", kube_reason_for_code(http_status));
        return;
    }
    memset(out, 0, sizeof *out);
    out->code = (int)http_status;
    snprintf(out->status, sizeof out->status, "Failure");
    snprintf(out->reason, sizeof out->reason, "%s", kube_reason_for_code(http_status));
    /* Quote the start of the body (proxies and the API server's own
     * "404 page not found" send text), printable ASCII only. */
    char snip[200];
    size_t n = 0;
    for (size_t i = 0; raw && i < len && n < sizeof snip - 1; i++) {
        unsigned char ch = (unsigned char)raw[i];
        snip[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
    }
    while (n > 0 && snip[n - 1] == ' ')
        n--;
    snip[n] = '\0';
    snprintf(out->message, sizeof out->message, "HTTP %ld%s%s", http_status, n ? ": " : "", snip);
}

long kube_parse_retry_after(const char *value, size_t len)
{
    size_t i = 0;
    while (i < len && (value[i] == ' ' || value[i] == '\t'))
        i++;
    if (i == len)
        return -1;
    long v = 0;
    for (; i < len && value[i] >= '0' && value[i] <= '9'; i++) {
        if (v > 86400)
            return 86400; /* absurd; the caller caps anyway */
        v = v * 10 + (value[i] - '0');
    }
    while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == '\r' || value[i] == '\n'))
        i++;
    return i == len ? v : -1;
}

/* The connection broke in the middle of an exchange: the request may or
 * may not have reached the server. */
static int conn_lost(CURLcode code)
{
    switch (code) {
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

int kube_curl_errno(CURLcode code)
{
    if (conn_lost(code))
        return -ECONNRESET;
    switch (code) {
    case CURLE_OK:
        return 0;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -EHOSTUNREACH;
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
        return -ECANCELED;
    case CURLE_FILESIZE_EXCEEDED:
        return -EMSGSIZE;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return -EPROTO;
    default:
        return -EIO;
    }
}

/* Transport failures after which no request reached the server. */
static int not_sent(CURLcode code)
{
    return code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT;
}

/* Transport failures worth repeating a read for. TLS verification errors
 * are not: they will not go away by themselves. */
static int transient(CURLcode code)
{
    if (conn_lost(code))
        return 1;
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR: /* a handshake cut by a restarting server */
        return 1;
    default:
        return 0;
    }
}

int kube_should_retry(enum kube_verb verb, CURLcode code, long http_status,
                      const struct kstatus *st)
{
    if (verb == KUBE_VERB_WATCH)
        return 0;
    int read = verb == KUBE_VERB_GET || verb == KUBE_VERB_LIST;
    if (code != CURLE_OK)
        return read ? transient(code) : not_sent(code);
    if (http_status == 429)
        return 1;
    if (!read || http_status < 500 || http_status > 599)
        return 0;
    if (http_status == 501 || http_status == 505)
        return 0; /* permanent by definition */
    return !(st && kstatus_is_too_large_rv(st));
}
