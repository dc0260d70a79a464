/* wf-internal.h - helpers shared by the .c files of src/wf only. */
#ifndef RB_WF_INTERNAL_H
#define RB_WF_INTERNAL_H

#include "kjson/kjson.h"
#include "wf/wf.h"

#include <stddef.h>

/* Fills err (if not NULL) and returns -EINVAL. */
int wf_fail(struct wf_error *err, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation that aborts on failure (project rule for OOM). */
void *wf_xcalloc(size_t n, size_t size);
char *wf_xstrdup(const char *s);

/* Graph checks on a parsed spec, in the order wf_spec_parse documents:
 * duplicates, unknown/cross-list dependencies, cycles; fills s->order. */
int wf_graph_check(struct wf_spec *s, struct wf_error *err);
/* A step's matrix (NULL: none): its shape and its static lists (at most
 * WF_MATRIX_MAX combinations). 0, or -EINVAL with *err filled. */
int wf_matrix_parse(struct wf_step *st, struct json_object *m, struct wf_error *err);
/* Every reference of the spec (wf_check.c): UnknownParameter for an
 * undeclared param, InvalidSpec for the rest. */
int wf_refs_check(const struct wf_spec *s, struct wf_error *err);
/* Checks a step's podFailurePolicy (NULL: none) the way the Job API does
 * (wf_policy.c) and, when it passes, sets *ret to a new object holding
 * the policy as the Job gets it (the caller owns it; NULL without one).
 * 0, or -EINVAL with *err filled (InvalidSpec). */
int wf_pod_failure_policy(const char *step, struct json_object *pfp,
                          struct json_object *pod_template, struct json_object **ret,
                          struct wf_error *err);

#endif
