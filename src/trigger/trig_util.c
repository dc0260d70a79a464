/* trig_util.c - small helpers of the trigger module: errors, allocation,
 * hashing, header lookup and the text of values. */
#include "trigger/trig-internal.h"
#include "trigger/trigger.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

int trig_fail(struct trig_error *err, const char *fmt, ...)
{
    if (err) {
        snprintf(err->reason, sizeof err->reason, "%s", TRIG_R_INVALID);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

void *trig_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

char *trig_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

void trig_sha256(const void *a, size_t alen, const void *b, size_t blen,
                 unsigned char out[TRIG_SHA256_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, a, alen) != 1 || (blen && EVP_DigestUpdate(ctx, b, blen) != 1) ||
        EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != TRIG_SHA256_LEN)
        abort(); /* only fails on allocation */
    EVP_MD_CTX_free(ctx);
}

void trig_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

const char *trig_header_get(const struct trig_header *h, size_t n, const char *name)
{
    for (size_t i = 0; h && name && i < n; i++)
        if (h[i].name && strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

const char *trig_value_text(struct json_object *v)
{
    if (json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    /* Numbers keep the text they were parsed from (json-c stores it). */
    return json_object_to_json_string_ext(v,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

void trig_escape(const char *s, size_t len, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0, i = 0;
    const size_t max_in = 100;
    for (; i < len && i < max_in; i++) {
        unsigned char c = (unsigned char)s[i];
        char buf[4];
        size_t k = 0;
        if (c == '"' || c == '\\') {
            buf[k++] = '\\';
            buf[k++] = (char)c;
        } else if (c < 0x20 || c > 0x7e) {
            buf[k++] = '\\';
            buf[k++] = 'x';
            buf[k++] = digits[c >> 4];
            buf[k++] = digits[c & 15];
        } else {
            buf[k++] = (char)c;
        }
        if (o + k + 4 > cap) /* room for "..." and the NUL */
            break;
        memcpy(out + o, buf, k);
        o += k;
    }
    if (i < len && o + 4 <= cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
