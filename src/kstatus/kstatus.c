#include "kstatus/kstatus.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <json-c/json.h>

/* Copy at most cap-1 bytes, backing off so a multi-byte UTF-8 sequence is
 * never cut in half (the result goes into logs and Events). */
static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        /* Step back over continuation bytes to the start of the cut char. */
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *get_str(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int get_int(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
        return 0;
    int64_t i = json_object_get_int64(v);
    if (i < INT_MIN || i > INT_MAX)
        return 0;
    return (int)i;
}

static int has_too_large_cause(struct json_object *details)
{
    struct json_object *causes;
    if (!json_object_object_get_ex(details, "causes", &causes) ||
        !json_object_is_type(causes, json_type_array))
        return 0;
    size_t n = json_object_array_length(causes);
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(causes, i);
        if (!json_object_is_type(c, json_type_object))
            continue;
        const char *r = get_str(c, "reason"), *m = get_str(c, "message");
        /* 1.17.0-1.18.5 servers sent only the cause message. */
        if ((r && strcmp(r, "ResourceVersionTooLarge") == 0) ||
            (m && strcmp(m, "Too large resource version") == 0))
            return 1;
    }
    return 0;
}

int kstatus_parse(struct json_object *obj, struct kstatus *out)
{
    memset(out, 0, sizeof *out);
    if (!json_object_is_type(obj, json_type_object))
        return -EINVAL;
    const char *kind = get_str(obj, "kind");
    if (!kind || strcmp(kind, "Status") != 0)
        return -EINVAL;

    const char *s;
    out->code = get_int(obj, "code");
    if ((s = get_str(obj, "status")))
        copy_trunc(out->status, sizeof out->status, s);
    if ((s = get_str(obj, "reason")))
        copy_trunc(out->reason, sizeof out->reason, s);
    if ((s = get_str(obj, "message")))
        copy_trunc(out->message, sizeof out->message, s);

    struct json_object *details;
    if (json_object_object_get_ex(obj, "details", &details) &&
        json_object_is_type(details, json_type_object)) {
        out->retry_after_s = get_int(details, "retryAfterSeconds");
        if (out->retry_after_s < 0)
            out->retry_after_s = 0;
        out->rv_too_large = has_too_large_cause(details);
    }
    return 0;
}

int kstatus_parse_json(const char *buf, size_t len, struct kstatus *out)
{
    memset(out, 0, sizeof *out);
    if (len > INT_MAX)
        return -EINVAL;
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return -ENOMEM;
    struct json_object *obj = json_tokener_parse_ex(tok, buf, (int)len);
    int rc = -EINVAL;
    /* A Status split by a short read is not a Status: require all of it. */
    if (obj && json_tokener_get_error(tok) == json_tokener_success)
        rc = kstatus_parse(obj, out);
    json_object_put(obj);
    json_tokener_free(tok);
    return rc;
}

int kstatus_is_gone(const struct kstatus *s)
{
    return s->code == 410 || strcmp(s->reason, "Expired") == 0 || strcmp(s->reason, "Gone") == 0;
}

int kstatus_is_too_large_rv(const struct kstatus *s)
{
    /* Servers before 1.17 had no cause, only this 504 Timeout message;
     * client-go matches it too. */
    return s->rv_too_large || ((s->code == 504 || strcmp(s->reason, "Timeout") == 0) &&
                               strstr(s->message, "Too large") != NULL);
}
