/* trig-internal.h - helpers shared by the .c files of src/trigger only. */
#ifndef RB_TRIG_INTERNAL_H
#define RB_TRIG_INTERNAL_H

#include "kjson/kjson.h"
#include "trigger/trigger.h"

#include <stddef.h>

#define TRIG_SHA256_LEN 32

/* Fills err (if not NULL) with TRIG_R_INVALID and returns -EINVAL. */
int trig_fail(struct trig_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation that aborts on failure (project rule for OOM). */
void *trig_xcalloc(size_t n, size_t size);
char *trig_xstrdup(const char *s);

/* SHA-256 over a followed by b (b may be NULL with blen 0). */
void trig_sha256(const void *a, size_t alen, const void *b, size_t blen,
                 unsigned char out[TRIG_SHA256_LEN]);
/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void trig_hex(const unsigned char *in, size_t n, char *out);

/* The text of a JSON value as params and body filters see it: a string as
 * it is, anything else as compact JSON. Borrowed from v: valid until v is
 * serialized again or freed. v must not be NULL. */
const char *trig_value_text(struct json_object *v);

/* Writes s (len bytes) into out (cap >= 8) for a log-safe message: at most
 * ~100 bytes of input, '"' and '\\' escaped, other bytes outside printable
 * ASCII as \xNN, "..." when cut. Always NUL-terminated. */
void trig_escape(const char *s, size_t len, char *out, size_t cap);

/* 0 when the request's signature is right for spec's kind, else -EACCES.
 * Constant-time in the secret. */
int trig_sig_check(enum trig_sig kind, const void *secret, size_t secret_len,
                   const struct trig_request *req, int64_t now_unix);

#endif
