/* kjson - the one place where Kubernetes objects are read and built with
 * json-c: typed getters that never fail on a missing or mistyped member,
 * constructors that abort on out-of-memory (the project's OOM rule), RFC
 * 3339 times, the label names we read and write, metav1 conditions,
 * ownerReferences and DeleteOptions.
 *
 * Getters borrow: what they return lives as long as the object read. A
 * getter given NULL or a non-object returns its "absent" value, so paths
 * can be chained without checks: kj_get_str(kj_get(job, "metadata"),
 * "name"). Constructors return a new reference; kj_put/kj_push move val's
 * reference into the container. */
#ifndef RB_KJSON_H
#define RB_KJSON_H

#include <json-c/json.h>
#include <stdint.h>

/* How deep the JSON we parse may nest: the API server's own limit (10000,
 * k8s.io/apimachinery) plus the levels a watch event or a list adds. It
 * must be at least the server's (src/watch/decoder.c says why). */
#define KJ_MAX_DEPTH 10016

/* Labels Runbook puts on Jobs and their pod templates. */
#define KJ_LABEL_WORKFLOW "runbook.dev/workflow"
#define KJ_LABEL_RUN "runbook.dev/run"
#define KJ_LABEL_STEP "runbook.dev/step"
#define KJ_LABEL_FINALLY "runbook.dev/finally"
#define KJ_LABEL_MATRIX_INDEX "runbook.dev/matrix-index" /* a combination's Job */
/* Labels the Job controller puts on a Job's pods (the unprefixed ones are
 * the older names, still set by Kubernetes 1.27+ alongside). */
#define KJ_LABEL_JOB_NAME "batch.kubernetes.io/job-name"
#define KJ_LABEL_JOB_NAME_OLD "job-name"
#define KJ_LABEL_CONTROLLER_UID "batch.kubernetes.io/controller-uid"
#define KJ_LABEL_CONTROLLER_UID_OLD "controller-uid"
/* Argo CD's tracking label: never copied onto children (it would prune them). */
#define KJ_LABEL_ARGOCD_INSTANCE "app.kubernetes.io/instance"

/* --- reading ------------------------------------------------------------- */

/* The member `key` of object o; NULL when o is not an object or the key is
 * absent (or null). */
struct json_object *kj_get(struct json_object *o, const char *key);
/* o[k1][k2]...: a path of object keys ending with NULL. */
struct json_object *kj_path(struct json_object *o, ...) __attribute__((sentinel));
/* The string member, or NULL when absent or not a string. */
const char *kj_get_str(struct json_object *o, const char *key);
/* The string at a path (keys ending with NULL), or NULL. */
const char *kj_path_str(struct json_object *o, ...) __attribute__((sentinel));
/* A value as text: a string as it is, anything else as its JSON text
 * ('/' not escaped); NULL for NULL (JSON null). Valid while v lives. */
const char *kj_text(struct json_object *v);
/* 1 only for a boolean true. */
int kj_get_bool(struct json_object *o, const char *key);
/* An integer member; 0 when absent or not an integer (saturated to int32). */
int32_t kj_get_i32(struct json_object *o, const char *key);
/* An RFC 3339 member as ms since the epoch; 0 when absent or malformed. */
int64_t kj_get_time(struct json_object *o, const char *key);

/* metadata.labels[key] of an object's metadata, or NULL. */
const char *kj_label(struct json_object *meta, const char *key);
/* A field ("uid", "name", "kind") of the ownerReference with controller:
 * true in meta, or NULL. */
const char *kj_controller_ref(struct json_object *meta, const char *field);
/* The first element of array arr (anything else: none) whose string
 * member key is value, or NULL. */
struct json_object *kj_find(struct json_object *arr, const char *key, const char *value);
/* The condition of that type in a conditions array, or NULL. */
struct json_object *kj_cond_find(struct json_object *conds, const char *type);

/* --- building (abort on out-of-memory) ------------------------------------ */

struct json_object *kj_obj(void);
struct json_object *kj_arr(void);
struct json_object *kj_str(const char *s);
struct json_object *kj_int(long long v);
struct json_object *kj_bool(int v);
struct json_object *kj_copy(struct json_object *src); /* deep */
void kj_put(struct json_object *o, const char *key, struct json_object *val);
void kj_push(struct json_object *arr, struct json_object *val);
/* key: the RFC 3339 time of ms; nothing when ms <= 0. */
void kj_put_time(struct json_object *o, const char *key, int64_t ms);

/* Appends a metav1.Condition to arr. lastTransitionTime is carried over
 * from the condition of that type in old_conds when the status did not
 * change (so equal statuses compare equal), else it is now. */
void kj_cond_add(struct json_object *arr, struct json_object *old_conds, const char *type,
                 const char *status, const char *reason, const char *message, int64_t generation,
                 int64_t now_ms);

/* A DeleteOptions body: propagationPolicy when not NULL, preconditions.uid
 * when uid is not NULL or "". A Job deleted without a policy orphans its
 * pods: Jobs are always deleted with one. */
struct json_object *kj_delete_options(const char *propagation, const char *uid);

/* --- time ----------------------------------------------------------------- */

/* RFC 3339 ("2026-11-25T10:00:00Z", fractions and numeric offsets allowed)
 * to ms since the epoch: 0, or -EINVAL. No libc time zone state is used. */
int kj_time_parse(const char *s, int64_t *ms);
/* metav1.Time: seconds, UTC, 'Z'. */
void kj_time_format(int64_t ms, char out[32]);

/* The wall clock in ms since the epoch: what Kubernetes timestamps are
 * compared with. */
int64_t kj_now_ms(void);

#endif
