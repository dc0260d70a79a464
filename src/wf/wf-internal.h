/* wf-internal.h - helpers shared by the .c files of src/wf only. */
#ifndef RB_WF_INTERNAL_H
#define RB_WF_INTERNAL_H

#include "wf/wf.h"

#include <stddef.h>

/* Fills err (if not NULL) and returns -EINVAL. */
int wf_fail(struct wf_error *err, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation that aborts on failure (project rule for OOM). */
void *wf_xcalloc(size_t n, size_t size);
char *wf_xstrdup(const char *s);

/* The member `key` of object o, or NULL when o is not an object, the key is
 * absent or its value is json null. Borrowed. */
struct json_object *wf_get(struct json_object *o, const char *key);
/* The string member `key`, or NULL if absent or not a string. */
const char *wf_get_str(struct json_object *o, const char *key);

/* json-c constructors that abort on OOM; wf_put adds val under key (val's
 * reference moves into o). */
struct json_object *wf_jobj(void);
struct json_object *wf_jarr(void);
struct json_object *wf_jstr(const char *s);
struct json_object *wf_jint(long long v);
struct json_object *wf_jbool(int v);
void wf_put(struct json_object *o, const char *key, struct json_object *val);
void wf_push(struct json_object *arr, struct json_object *val);

/* Graph checks on a parsed spec, in the order wf_spec_parse documents:
 * duplicates, unknown/cross-list dependencies, cycles; fills s->order. */
int wf_graph_check(struct wf_spec *s, struct wf_error *err);
/* UnknownParameter check of every $(params.X) in command/args/env. */
int wf_params_check(const struct wf_spec *s, struct wf_error *err);

#endif
