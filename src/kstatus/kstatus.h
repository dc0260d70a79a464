/* kstatus - decode a Kubernetes metav1.Status.
 *
 * The API server returns a Status as the body of every failed request and
 * as the object of a watch ERROR event. Callers branch on code and reason
 * (410/Expired means "relist", 504 + ResourceVersionTooLarge means "relist
 * with RV=\"\"", 429 means "back off retry_after_s"), so those are decoded
 * into a fixed-size struct: nothing to free, safe to copy. */
#ifndef RB_KSTATUS_H
#define RB_KSTATUS_H

#include <stddef.h>

struct json_object;

struct kstatus {
    int code;          /* HTTP-like code, 0 when absent */
    int retry_after_s; /* details.retryAfterSeconds, 0 when absent */
    int rv_too_large;  /* a ResourceVersionTooLarge cause was present */
    char status[16];   /* "Success" / "Failure", "" when absent */
    char reason[64];   /* e.g. "Expired", "NotFound", "" when absent */
    char message[512]; /* human text; truncated on a UTF-8 boundary */
};

/* Fill *out from a decoded Status object (borrowed, not kept). Returns 0, or
 * -EINVAL when obj is not an object with "kind":"Status" (*out is then
 * zeroed). Fields of the wrong JSON type are left empty. */
int kstatus_parse(struct json_object *obj, struct kstatus *out);

/* Same, from a raw response body of len bytes (need not be NUL-terminated).
 * Returns -EINVAL for anything that is not one complete Status object. */
int kstatus_parse_json(const char *buf, size_t len, struct kstatus *out);

/* True when the resourceVersion asked for is gone from the server's history
 * (code 410, or reason Expired, or reason Gone from servers <= 1.17):
 * the caller must relist. */
int kstatus_is_gone(const struct kstatus *s);

/* True for the "RV newer than the watch cache" 504: relist with RV="". */
int kstatus_is_too_large_rv(const struct kstatus *s);

#endif
