/* kjson.c - getters, constructors and the metav1 pieces (see kjson.h). */
#include "kjson/kjson.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* --- reading ------------------------------------------------------------- */

struct json_object *kj_get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static struct json_object *walk(struct json_object *o, va_list ap)
{
    const char *k;
    while (o && (k = va_arg(ap, const char *)))
        o = kj_get(o, k);
    return o;
}

struct json_object *kj_path(struct json_object *o, ...)
{
    va_list ap;
    va_start(ap, o);
    struct json_object *r = walk(o, ap);
    va_end(ap);
    return r;
}

static const char *as_str(struct json_object *v)
{
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const char *kj_get_str(struct json_object *o, const char *key)
{
    return as_str(kj_get(o, key));
}

const char *kj_text(struct json_object *v)
{
    if (!v)
        return NULL;
    if (json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return json_object_to_json_string_ext(v,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

const char *kj_path_str(struct json_object *o, ...)
{
    va_list ap;
    va_start(ap, o);
    struct json_object *r = walk(o, ap);
    va_end(ap);
    return as_str(r);
}

int kj_get_bool(struct json_object *o, const char *key)
{
    struct json_object *v = kj_get(o, key);
    return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

int32_t kj_get_i32(struct json_object *o, const char *key)
{
    struct json_object *v = kj_get(o, key);
    return json_object_is_type(v, json_type_int) ? json_object_get_int(v) : 0;
}

int64_t kj_get_time(struct json_object *o, const char *key)
{
    int64_t ms = 0;
    const char *s = kj_get_str(o, key);
    if (!s || kj_time_parse(s, &ms) < 0)
        return 0;
    return ms;
}

const char *kj_label(struct json_object *meta, const char *key)
{
    return kj_get_str(kj_get(meta, "labels"), key);
}

const char *kj_controller_ref(struct json_object *meta, const char *field)
{
    struct json_object *refs = kj_get(meta, "ownerReferences");
    size_t n = json_object_is_type(refs, json_type_array) ? json_object_array_length(refs) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *r = json_object_array_get_idx(refs, i);
        if (kj_get_bool(r, "controller"))
            return kj_get_str(r, field);
    }
    return NULL;
}

struct json_object *kj_find(struct json_object *arr, const char *key, const char *value)
{
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        const char *v = kj_get_str(e, key);
        if (v && strcmp(v, value) == 0)
            return e;
    }
    return NULL;
}

struct json_object *kj_cond_find(struct json_object *conds, const char *type)
{
    return kj_find(conds, "type", type);
}

/* --- building ------------------------------------------------------------- */

static struct json_object *must(struct json_object *o)
{
    if (!o)
        abort();
    return o;
}

struct json_object *kj_obj(void)
{
    return must(json_object_new_object());
}

struct json_object *kj_arr(void)
{
    return must(json_object_new_array());
}

struct json_object *kj_str(const char *s)
{
    return must(json_object_new_string(s));
}

struct json_object *kj_int(long long v)
{
    return must(json_object_new_int64(v));
}

struct json_object *kj_bool(int v)
{
    return must(json_object_new_boolean(v ? 1 : 0));
}

struct json_object *kj_copy(struct json_object *src)
{
    struct json_object *dst = NULL;
    if (json_object_deep_copy(src, &dst, NULL) != 0)
        abort();
    return dst;
}

void kj_put(struct json_object *o, const char *key, struct json_object *val)
{
    if (json_object_object_add(o, key, val) != 0)
        abort();
}

void kj_push(struct json_object *arr, struct json_object *val)
{
    if (json_object_array_add(arr, val) != 0)
        abort();
}

void kj_put_time(struct json_object *o, const char *key, int64_t ms)
{
    char buf[32];
    if (ms <= 0)
        return;
    kj_time_format(ms, buf);
    kj_put(o, key, kj_str(buf));
}

void kj_cond_add(struct json_object *arr, struct json_object *old_conds, const char *type,
                 const char *status, const char *reason, const char *message, int64_t generation,
                 int64_t now_ms)
{
    struct json_object *old = kj_cond_find(old_conds, type), *c = kj_obj();
    const char *old_status = kj_get_str(old, "status");
    const char *old_ltt = kj_get_str(old, "lastTransitionTime");
    kj_put(c, "type", kj_str(type));
    kj_put(c, "status", kj_str(status));
    kj_put(c, "observedGeneration", kj_int(generation));
    if (old_status && old_ltt && strcmp(old_status, status) == 0)
        kj_put(c, "lastTransitionTime", kj_str(old_ltt));
    else
        kj_put_time(c, "lastTransitionTime", now_ms);
    kj_put(c, "reason", kj_str(reason));
    kj_put(c, "message", kj_str(message));
    kj_push(arr, c);
}

struct json_object *kj_delete_options(const char *propagation, const char *uid)
{
    struct json_object *o = kj_obj();
    kj_put(o, "apiVersion", kj_str("v1"));
    kj_put(o, "kind", kj_str("DeleteOptions"));
    if (propagation)
        kj_put(o, "propagationPolicy", kj_str(propagation));
    if (uid && *uid) {
        struct json_object *pre = kj_obj();
        kj_put(pre, "uid", kj_str(uid));
        kj_put(o, "preconditions", pre);
    }
    return o;
}
