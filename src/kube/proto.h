/* kube/proto.h - internal to the kube module: the pure parts of the
 * protocol (URL building, Status synthesis, Retry-After, the retry policy),
 * kept apart from the transport so the unit tests can reach them. */
#ifndef RB_KUBE_PROTO_H
#define RB_KUBE_PROTO_H

#include <stddef.h>

#include <curl/curl.h>

#include "kube/kube.h"

/* A growable byte string, always NUL-terminated once anything was added. */
struct kube_buf {
    char *p;
    size_t len, cap;
};

int kube_buf_add(struct kube_buf *b, const char *s, size_t n);
int kube_buf_adds(struct kube_buf *b, const char *s);
/* Appends s percent-encoded: every byte but A-Z a-z 0-9 - . _ ~ becomes
 * %XX, so the result is safe as a path segment or a query value. */
int kube_buf_add_escaped(struct kube_buf *b, const char *s);
void kube_buf_free(struct kube_buf *b);

/* One query parameter; a NULL value means "not sent". */
struct kube_param {
    const char *key;
    const char *value;
};

/* server + "/api/v1" or "/apis/<group>/<version>", then
 * "/namespaces/<ns>" when res is namespaced and ns is given, then
 * "/<resource>", "/<name>", "/<sub>" (each optional, in that order, name
 * needed for sub), then "?k=v&..." with the non-NULL values. Segments and
 * values are percent-encoded. -EINVAL: ns given for a cluster-scoped
 * resource, an empty ns/name, or a name of "." or ".." (dot segments would
 * be folded away by URL normalization). *out is malloc'd. */
int kube_url_build(const char *server, const struct kube_resource *res, const char *ns,
                   const char *name, const char *sub, const struct kube_param *q, size_t nq,
                   char **out);

/* metav1.StatusReason for an HTTP code ("NotFound", "Conflict", ...), or
 * "Unknown". */
const char *kube_reason_for_code(long http_status);

/* Decodes the Status of a failed response: from json when it is a Status
 * (code taken from http_status when the body has none), else synthesized
 * from http_status with raw (the body, may be NULL) quoted in the message.
 * Always fills *out. */
void kube_status_decode(long http_status, struct json_object *json, const char *raw, size_t len,
                        struct kstatus *out);

/* Retry-After as delta-seconds (the only form the API server sends); -1 for
 * anything else (HTTP dates are ignored: the backoff applies instead). */
long kube_parse_retry_after(const char *value, size_t len);

/* Negative errno for a failed transfer (CURLE_OK gives 0). */
int kube_curl_errno(CURLcode code);

/* Whether an attempt may be repeated. Idempotent verbs (GET, LIST) retry on
 * transient transport errors, 429 and 5xx (except the 504 "resource version
 * too large", which needs a different request); writes only on 429 or when
 * the connection was never made, since only then did the server certainly
 * not act. Watches never (the caller reconnects). st may be NULL. */
int kube_should_retry(enum kube_verb verb, CURLcode code, long http_status,
                      const struct kstatus *st);

#endif
