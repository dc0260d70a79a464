/* wf_policy.c - a step's podFailurePolicy: Kubernetes Job's own rules
 * (spec.podFailurePolicy), checked the way the API server checks a Job's
 * (batch validation) as far as that is cheap, so that a mistake shows on
 * the Workflow (InvalidSpec) instead of as a Job the API server refuses in
 * the middle of a run. What passes is rebuilt from the known fields only:
 * exit codes sorted (the Job API wants them in increasing order; they are
 * a set), a missing onPodConditions status made "True" (the Job API's
 * default), anything else dropped. */
#include "wf/wf-internal.h"
#include "wf/wf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PFP_RULES_MAX 20      /* the Job API's maxPodFailurePolicyRules */
#define PFP_CODES_MAX 255     /* ... maxPodFailurePolicyOnExitCodesValues */
#define PFP_CONDITIONS_MAX 20 /* ... maxPodFailurePolicyOnPodConditionsPatterns */
#define PFP_CODE_MAX 255      /* an exit code is one byte */

static int alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A DNS-1123 subdomain: dot-separated DNS labels, at most 253. */
static int dns_subdomain(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return 0;
    char label[64];
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        size_t len = i - start;
        if (len == 0 || len > 63)
            return 0;
        memcpy(label, s + start, len);
        label[len] = '\0';
        if (!wf_is_dns_label(label))
            return 0;
        start = i + 1;
    }
    return 1;
}

/* A Kubernetes qualified name ([prefix/]name), as a condition type is:
 * name at most 63, alphanumeric at both ends, '-', '_', '.' inside. */
static int qualified_name(const char *s)
{
    const char *slash = strchr(s, '/');
    const char *name = slash ? slash + 1 : s;
    if (slash && (strchr(name, '/') || !dns_subdomain(s, (size_t)(slash - s))))
        return 0;
    size_t n = strlen(name);
    if (n == 0 || n > 63 || !alnum(name[0]) || !alnum(name[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!alnum(name[i]) && name[i] != '-' && name[i] != '_' && name[i] != '.')
            return 0;
    return 1;
}

/* containerName may name the step's container or one of the init
 * containers its podTemplate adds: the Job API's rule. */
static int container_known(const char *name, struct json_object *pod_template)
{
    if (strcmp(name, WF_CONTAINER_NAME) == 0)
        return 1;
    struct json_object *ic = kj_get(kj_get(pod_template, "spec"), "initContainers");
    size_t n = json_object_is_type(ic, json_type_array) ? json_object_array_length(ic) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = kj_get_str(json_object_array_get_idx(ic, i), "name");
        if (c && strcmp(c, name) == 0)
            return 1;
    }
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int exit_codes(const char *step, size_t r, struct json_object *oe,
                      struct json_object *pod_template, struct json_object **ret,
                      struct wf_error *err)
{
    if (!json_object_is_type(oe, json_type_object))
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy.rules[%zu].onExitCodes must be an object",
                       step, r);
    const char *op = kj_get_str(oe, "operator");
    if (!op || (strcmp(op, "In") != 0 && strcmp(op, "NotIn") != 0))
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy.rules[%zu].onExitCodes.operator must be In "
                       "or NotIn, not \"%s\"",
                       step, r, op ? op : "");
    int in = strcmp(op, "In") == 0;
    struct json_object *cn = kj_get(oe, "containerName");
    if (cn && !json_object_is_type(cn, json_type_string))
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy.rules[%zu].onExitCodes.containerName must "
                       "be a string",
                       step, r);
    if (cn && !container_known(json_object_get_string(cn), pod_template))
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy.rules[%zu].onExitCodes.containerName must "
                       "be \"%s\" (the step's container) or the name of one of its "
                       "podTemplate.spec.initContainers, not \"%.64s\"",
                       step, r, WF_CONTAINER_NAME, json_object_get_string(cn));
    struct json_object *vals = kj_get(oe, "values");
    size_t n = json_object_is_type(vals, json_type_array) ? json_object_array_length(vals) : 0;
    if (n == 0 || n > PFP_CODES_MAX)
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy.rules[%zu].onExitCodes.values must list 1 "
                       "to %d exit codes",
                       step, r, PFP_CODES_MAX);
    long long *codes = wf_xcalloc(n, sizeof *codes);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct json_object *v = json_object_array_get_idx(vals, i);
        long long c = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
        if (c < 0 || c > PFP_CODE_MAX)
            rc = wf_fail(err, WF_R_INVALID,
                         "step \"%s\": podFailurePolicy.rules[%zu].onExitCodes.values[%zu] must "
                         "be an exit code from 0 to %d",
                         step, r, i, PFP_CODE_MAX);
        else if (c == 0 && in)
            rc = wf_fail(err, WF_R_INVALID,
                         "step \"%s\": podFailurePolicy.rules[%zu].onExitCodes.values must not "
                         "contain 0 with operator In (exit code 0 is success)",
                         step, r);
        codes[i] = c;
    }
    if (rc == 0)
        qsort(codes, n, sizeof *codes, cmp_i64);
    for (size_t i = 1; i < n && rc == 0; i++)
        if (codes[i] == codes[i - 1])
            rc = wf_fail(err, WF_R_INVALID,
                         "step \"%s\": podFailurePolicy.rules[%zu].onExitCodes.values lists %lld "
                         "twice",
                         step, r, codes[i]);
    if (rc == 0) {
        struct json_object *o = kj_obj(), *arr = kj_arr();
        if (cn)
            kj_put(o, "containerName", kj_str(json_object_get_string(cn)));
        kj_put(o, "operator", kj_str(op));
        for (size_t i = 0; i < n; i++)
            kj_push(arr, kj_int(codes[i]));
        kj_put(o, "values", arr);
        *ret = o;
    }
    free(codes);
    return rc;
}

static int pod_conditions(const char *step, size_t r, struct json_object *pc,
                          struct json_object **ret, struct wf_error *err)
{
    size_t n = json_object_is_type(pc, json_type_array) ? json_object_array_length(pc) : 0;
    if (n == 0 || n > PFP_CONDITIONS_MAX)
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy.rules[%zu].onPodConditions must list 1 to "
                       "%d conditions",
                       step, r, PFP_CONDITIONS_MAX);
    struct json_object *arr = kj_arr();
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(pc, i);
        const char *type = kj_get_str(c, "type");
        if (!type || !qualified_name(type)) {
            json_object_put(arr);
            return wf_fail(err, WF_R_INVALID,
                           "step \"%s\": podFailurePolicy.rules[%zu].onPodConditions[%zu].type "
                           "must be a pod condition type such as DisruptionTarget",
                           step, r, i);
        }
        struct json_object *sv = kj_get(c, "status");
        const char *st = sv ? kj_get_str(c, "status") : "True";
        if (!st ||
            (strcmp(st, "True") != 0 && strcmp(st, "False") != 0 && strcmp(st, "Unknown") != 0)) {
            json_object_put(arr);
            return wf_fail(err, WF_R_INVALID,
                           "step \"%s\": podFailurePolicy.rules[%zu].onPodConditions[%zu].status "
                           "must be True, False or Unknown, not \"%s\"",
                           step, r, i, st ? st : "");
        }
        struct json_object *o = kj_obj();
        kj_put(o, "type", kj_str(type));
        kj_put(o, "status", kj_str(st));
        kj_push(arr, o);
    }
    *ret = arr;
    return 0;
}

static int rule(const char *step, size_t r, struct json_object *o, struct json_object *pod_template,
                struct json_object *out_rules, struct wf_error *err)
{
    if (!json_object_is_type(o, json_type_object))
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy.rules[%zu] must be an object", step, r);
    const char *action = kj_get_str(o, "action");
    if (action && strcmp(action, "FailIndex") == 0)
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy.rules[%zu].action FailIndex needs an "
                       "Indexed Job, and a step's Job is not indexed: use FailJob",
                       step, r);
    if (!action || (strcmp(action, "FailJob") != 0 && strcmp(action, "Ignore") != 0 &&
                    strcmp(action, "Count") != 0))
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy.rules[%zu].action must be FailJob, Ignore or "
                       "Count, not \"%s\"",
                       step, r, action ? action : "");
    struct json_object *oe = kj_get(o, "onExitCodes"), *pc = kj_get(o, "onPodConditions");
    if (!oe == !pc)
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy.rules[%zu] needs exactly one of onExitCodes "
                       "and onPodConditions",
                       step, r);
    struct json_object *match = NULL;
    int rc = oe ? exit_codes(step, r, oe, pod_template, &match, err)
                : pod_conditions(step, r, pc, &match, err);
    if (rc < 0)
        return rc;
    struct json_object *nr = kj_obj();
    kj_put(nr, "action", kj_str(action));
    kj_put(nr, oe ? "onExitCodes" : "onPodConditions", match);
    kj_push(out_rules, nr);
    return 0;
}

int wf_pod_failure_policy(const char *step, struct json_object *pfp,
                          struct json_object *pod_template, struct json_object **ret,
                          struct wf_error *err)
{
    *ret = NULL;
    if (!pfp)
        return 0;
    struct json_object *rules = kj_get(pfp, "rules");
    if (!json_object_is_type(rules, json_type_array))
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy must be an object with a list of rules",
                       step);
    size_t n = json_object_array_length(rules);
    if (n > PFP_RULES_MAX)
        return wf_fail(err, WF_R_INVALID,
                       "step \"%s\": podFailurePolicy has %zu rules (at most %d)", step, n,
                       PFP_RULES_MAX);
    struct json_object *out = kj_arr();
    for (size_t i = 0; i < n; i++) {
        int rc = rule(step, i, json_object_array_get_idx(rules, i), pod_template, out, err);
        if (rc < 0) {
            json_object_put(out);
            return rc;
        }
    }
    struct json_object *policy = kj_obj();
    kj_put(policy, "rules", out);
    *ret = policy;
    return 0;
}
