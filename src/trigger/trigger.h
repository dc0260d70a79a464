/* trigger - the pure part of the Trigger kind (runbook.dev/v1alpha1): parse
 * and validate a Trigger, judge one webhook request (signature, media type,
 * body, filters, params, delivery id, run name), build the WorkflowRun to
 * create and the JSON answer to send.
 *
 * No I/O, no clock (time is an argument), no logging, no global state:
 * deterministic for equal input. The HTTP listener and the Kubernetes calls
 * belong to the caller. Out of memory aborts (project rule); every other
 * error is a negative errno.
 *
 * Ownership: a struct trig_spec holds one reference to the Trigger json it
 * was parsed from and every `const char *` / `struct json_object *` in it
 * borrows from that json: do not modify the json while the spec lives.
 * A struct trig_verdict owns everything in it (trig_verdict_clear).
 *
 * Names, precisely:
 *   run name of a delivery:  "<trigger>-" + the first 10 lowercase hex
 *                            digits of SHA-256 over the bytes of the
 *                            trigger's uid followed directly by the bytes of
 *                            the delivery id (no separator, no NUL). Equal
 *                            deliveries give equal names, so a redelivery
 *                            meets AlreadyExists instead of a second run.
 *   run name of a schedule:  "<trigger>-<slot_unix / 60>" (slot in seconds).
 *   delivery id:             X-GitHub-Delivery, else X-Gitlab-Event-UUID,
 *                            else Idempotency-Key (1..200 printable ASCII
 *                            characters, else 400), else the lowercase hex
 *                            SHA-256 of the raw body.
 * The trigger name is at most 52 characters so that both names fit the 63
 * of a label value. */
#ifndef RB_TRIGGER_H
#define RB_TRIGGER_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "wf/wf.h" /* struct wf_params: the resolved {name, value} list */

#define TRIG_API_VERSION "runbook.dev/v1alpha1"
#define TRIG_NAME_MAX 52      /* the Trigger's metadata.name */
#define TRIG_NAME_LEN 64      /* a run name: 63 chars + NUL */
#define TRIG_PARAMS_MAX 100   /* per params list */
#define TRIG_VALUE_MAX 32768  /* a resolved parameter value, bytes */
#define TRIG_SKEW_SECONDS 300 /* generic signatures: |now - timestamp| allowed */
#define TRIG_DELIVERY_MAX 200 /* a delivery id taken from a header */
#define TRIG_DELIVERY_LEN 208 /* buffer: id + NUL, or "schedule/<RFC 3339>" */

/* What the runs carry. The run's labels are the template's plus
 * TRIG_LABEL_TRIGGER, its annotations the template's plus
 * TRIG_ANN_DELIVERY; ours win over template entries of the same key. */
#define TRIG_LABEL_TRIGGER "runbook.dev/trigger"
#define TRIG_ANN_DELIVERY "runbook.dev/delivery"
#define TRIG_ANN_SCHEDULED "runbook.dev/scheduled-time"

/* The request headers, as received. */
#define TRIG_H_GITHUB_SIG "X-Hub-Signature-256"
#define TRIG_H_GITLAB_TOKEN "X-Gitlab-Token"
#define TRIG_H_SIG "X-Runbook-Signature"
#define TRIG_H_TIMESTAMP "X-Runbook-Timestamp"
#define TRIG_H_GITHUB_DELIVERY "X-GitHub-Delivery"
#define TRIG_H_GITLAB_UUID "X-Gitlab-Event-UUID"
#define TRIG_H_IDEMPOTENCY "Idempotency-Key"

/* The one reason of a rejected spec (a Ready=False condition). */
#define TRIG_R_INVALID "InvalidSpec"

/* Verdict reasons (trig_verdict.reason, and trig_answer's). */
#define TRIG_R_UNAUTHORIZED "Unauthorized"              /* 401 */
#define TRIG_R_UNSUPPORTED_MEDIA "UnsupportedMediaType" /* 415 */
#define TRIG_R_BAD_REQUEST "BadRequest"                 /* 400 */
#define TRIG_R_SKIPPED "Skipped"                        /* 202 */
#define TRIG_R_UNPROCESSABLE "UnprocessableEntity"      /* 422 */
#define TRIG_R_NOT_FOUND "NotFound"                     /* 404: no spec.webhook */

/* The first problem found in a spec; message names the field path, e.g.
 * "spec.webhook.params[2]: set exactly one of pointer, header, value". */
struct trig_error {
    char reason[32]; /* TRIG_R_INVALID */
    char message[512];
};

enum trig_sig {
    TRIG_SIG_GENERIC = 0, /* X-Runbook-Signature: sha256=hex(HMAC(secret, "<ts>.<body>")) */
    TRIG_SIG_GITHUB,      /* X-Hub-Signature-256: sha256=hex(HMAC(secret, body)) */
    TRIG_SIG_GITLAB,      /* X-Gitlab-Token: the secret itself */
};

enum trig_src { TRIG_SRC_POINTER = 0, TRIG_SRC_HEADER, TRIG_SRC_VALUE };

struct trig_param {
    const char *name;
    enum trig_src src;
    const char *arg; /* the RFC 6901 pointer, the header name, or the literal */
};

/* filter.headers: the header must be present and equal one of values. */
struct trig_hfilter {
    const char *header;
    struct json_object *values; /* non-empty array of strings */
};
/* filter.body[]: the pointer must resolve to a value whose text (as for
 * params: strings as they are, other scalars and containers as compact
 * JSON) equals one of values; null and missing never match. */
struct trig_bfilter {
    const char *pointer;
    struct json_object *values; /* non-empty array of strings */
};

struct trig_webhook {
    const char *secret_name, *secret_key; /* secretRef */
    enum trig_sig sig;
    struct trig_hfilter *hfilters;
    size_t n_hfilters;
    struct trig_bfilter *bfilters;
    size_t n_bfilters;
    struct trig_param *params;
    size_t n_params;
};

struct trig_schedule {
    const char *cron;                    /* as written: validated by the schedule module */
    const char *time_zone;               /* or NULL */
    long long starting_deadline_seconds; /* -1: unset */
    int suspend;
    struct trig_param *params; /* TRIG_SRC_VALUE only */
    size_t n_params;
};

struct trig_spec {
    struct json_object *raw; /* owned reference to the Trigger */
    const char *name;        /* metadata.name */
    const char *workflow;    /* spec.workflowRef.name */
    int has_webhook, has_schedule;
    struct trig_webhook hook;
    struct trig_schedule sched;
    struct json_object *labels;      /* runTemplate.metadata.labels, or NULL */
    struct json_object *annotations; /* runTemplate.metadata.annotations, or NULL */
};

/* Parses and validates a whole Trigger object (metadata.name and spec).
 * 0 with *ret set (free with trig_spec_free; it takes its own reference to
 * `trigger`), or -EINVAL with *err filled (err may be NULL). Fields of the
 * wrong JSON type are errors; unknown fields are ignored (the CRD prunes). */
int trig_spec_parse(struct json_object *trigger, struct trig_spec **ret, struct trig_error *err);
void trig_spec_free(struct trig_spec *s);

/* --- webhook ---------------------------------------------------------------- */

struct trig_header {
    const char *name;
    const char *value;
};

/* The value of the first header named `name` (ASCII case-insensitive), or
 * NULL. */
const char *trig_header_get(const struct trig_header *h, size_t n, const char *name);

struct trig_request {
    const struct trig_header *headers;
    size_t n_headers;
    const char *content_type; /* NULL: taken from the Content-Type header */
    const char *body;         /* raw bytes, need not be NUL-terminated */
    size_t body_len;
};

/* What to do with one request. code 0: go ahead, create the run named
 * run_name with params (trig_run_new), then answer 201 (or 200 when it
 * already exists: a redelivery). Otherwise code is the HTTP status to
 * answer with reason and message (trig_answer), and skipped is set for 202.
 * Nothing of a request that failed the signature is ever parsed or
 * reflected: a 401 has one message whatever was wrong. */
struct trig_verdict {
    int code;
    char reason[32];
    char message[512];
    char skipped[320];                /* 202 only: which filter, the value seen */
    char delivery[TRIG_DELIVERY_LEN]; /* code 0 */
    char run_name[TRIG_NAME_LEN];     /* code 0 */
    struct wf_params *params;         /* code 0: in spec order; owned */
};

/* Judges a request, in this order: signature (401), media type
 * application/json with optional parameters (415), body is JSON no deeper
 * than KJ_MAX_DEPTH (400), filters (202 Skipped), params (422), delivery id
 * (400), run name. `workflow` is the Workflow object (its spec.params give
 * the defaults) or NULL when unknown: then a param whose pointer or header
 * is missing is left out of the run, whose own resolution applies the
 * default or fails with MissingParameter. With a Workflow, a missing value
 * takes the declared default, and without one the request gets 422. An
 * empty secret authenticates nothing (401). A spec without a webhook gets
 * 404. Returns 0 (the verdict says what happened); *v must be zeroed or
 * cleared before, and is cleared (trig_verdict_clear) when done with. */
int trig_hook_eval(const struct trig_spec *spec, const void *secret, size_t secret_len,
                   const struct trig_request *req, struct json_object *workflow,
                   const char *trigger_name, const char *trigger_uid, int64_t now_unix,
                   struct trig_verdict *v);
void trig_verdict_clear(struct trig_verdict *v);

/* The run name of a delivery (file comment). 0, or -ENAMETOOLONG when
 * trigger is longer than TRIG_NAME_MAX, -EINVAL when it is empty. */
int trig_run_name(const char *trigger, const char *uid, const char *delivery,
                  char out[TRIG_NAME_LEN]);

/* --- the run ---------------------------------------------------------------- */

/* A complete WorkflowRun to create: apiVersion, kind, metadata.name and
 * namespace, labels (template + TRIG_LABEL_TRIGGER=trigger), annotations
 * (template + extra_annotations + TRIG_ANN_DELIVERY=delivery),
 * spec.workflowRef.name and spec.params (omitted when params is NULL or
 * empty). No ownerReferences: runs outlive their trigger. extra_annotations
 * (an object of strings, borrowed) may be NULL. A new reference. */
struct json_object *trig_run_new(const struct trig_spec *spec, const char *trigger, const char *ns,
                                 const char *run_name, const char *delivery,
                                 const struct wf_params *params,
                                 struct json_object *extra_annotations);

/* --- the schedule path ---------------------------------------------------- */

/* "<trigger>-<slot_unix / 60>". 0, -EINVAL (empty trigger, slot < 0) or
 * -ENAMETOOLONG. */
int trig_sched_run_name(const char *trigger, int64_t slot_unix, char out[TRIG_NAME_LEN]);
/* "schedule/<RFC 3339 of the slot>", the delivery id of a scheduled run;
 * the same time text is the TRIG_ANN_SCHEDULED annotation's value. */
void trig_sched_delivery(int64_t slot_unix, char out[TRIG_DELIVERY_LEN]);
/* spec.schedule.params as a new wf_params (empty when none); free with
 * wf_params_free. */
struct wf_params *trig_sched_params(const struct trig_spec *spec);

/* --- answers -------------------------------------------------------------- */

/* {"code":201,"reason":"Created","message":"...","run":{"namespace":..,
 * "name":..},"skipped":".."}: "run" only when run_ns and run_name are both
 * set, "message" and "skipped" only when not NULL. malloc'd; caller frees. */
char *trig_answer(int code, const char *reason, const char *message, const char *run_ns,
                  const char *run_name, const char *skipped);

#endif
