/* wf_ref.c - the one grammar of $(...) references, the substitution that
 * follows it, and `when` expressions (docs/design/results-when-matrix.md).
 *
 * One scanner for the apply-time checks and for the substitution, so the
 * two can never disagree about what a reference is. Which kinds are live
 * is the caller's mask: a kind outside it is literal text, exactly as
 * before the kind existed, so a kind is switched on only together with
 * the plan that can resolve it. */
#include "wf/wf.h"
#include "wf/wf-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *prefix;
    unsigned kind; /* the kinds this prefix may open */
} prefixes[] = {
    {"$(params.", WF_REF_PARAM},
    {"$(steps.", WF_REF_RESULT | WF_REF_PHASE},
    {"$(run.", WF_REF_RUN_STATUS},
    {"$(matrix.", WF_REF_MATRIX},
};

/* The scanner's slices are not NUL-terminated: checked through a copy by
 * the one rule for each (a longer slice names nothing either way). */
static int slice_ok(const char *s, size_t n, size_t max, int (*rule)(const char *))
{
    char buf[64];
    if (n == 0 || n > max || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return rule(buf);
}

/* A step name: a DNS label of at most WF_STEP_NAME_MAX characters. */
static int step_ok(const char *s, size_t n)
{
    return slice_ok(s, n, WF_STEP_NAME_MAX, wf_is_dns_label);
}

/* A param, result or matrix name. */
static int name_ok(const char *s, size_t n)
{
    return slice_ok(s, n, 63, wf_param_name_ok);
}

/* The body of a $(steps....) reference: S.results.R or S.phase. */
static int parse_steps(const char *b, size_t n, struct wf_ref *ref)
{
    const char *dot = memchr(b, '.', n);
    if (!dot || !step_ok(b, (size_t)(dot - b)))
        return -EINVAL;
    ref->a = b;
    ref->alen = (size_t)(dot - b);
    const char *rest = dot + 1;
    size_t rn = n - ref->alen - 1;
    if (rn == 5 && memcmp(rest, "phase", 5) == 0) {
        ref->kind = WF_REF_PHASE;
        return 0;
    }
    if (rn > 8 && memcmp(rest, "results.", 8) == 0 && name_ok(rest + 8, rn - 8)) {
        ref->kind = WF_REF_RESULT;
        ref->b = rest + 8;
        ref->blen = rn - 8;
        return 0;
    }
    return -EINVAL;
}

int wf_ref_scan(const char *text, unsigned kinds, wf_ref_fn fn, void *ud, size_t *bad)
{
    const char *s = text, *lit = text;
    while (*s) {
        if (s[0] == '$' && s[1] == '$') {
            s += 2; /* escaped '$': stays literal, the kubelet unescapes it */
            continue;
        }
        size_t p = 0, np = sizeof prefixes / sizeof prefixes[0];
        while (p < np && !((prefixes[p].kind & kinds) &&
                           strncmp(s, prefixes[p].prefix, strlen(prefixes[p].prefix)) == 0))
            p++;
        if (p == np) {
            s++;
            continue;
        }
        size_t plen = strlen(prefixes[p].prefix);
        const char *body = s + plen, *close = strchr(body, ')');
        struct wf_ref ref = {0};
        int rc = 0;
        if (prefixes[p].kind == WF_REF_PARAM) {
            /* As it always was: everything up to the next ')' is the name,
             * and without one the text is literal. */
            if (!close) {
                s++;
                continue;
            }
            ref.kind = WF_REF_PARAM;
            ref.a = body;
            ref.alen = (size_t)(close - body);
        } else if (!close) {
            rc = -EINVAL; /* "$(steps.a" is a typo, never meant as text */
        } else if (prefixes[p].kind == WF_REF_RUN_STATUS) {
            rc = close - body == 6 && memcmp(body, "status", 6) == 0 ? 0 : -EINVAL;
            ref.kind = WF_REF_RUN_STATUS;
        } else if (prefixes[p].kind == WF_REF_MATRIX) {
            rc = name_ok(body, (size_t)(close - body)) ? 0 : -EINVAL;
            ref.kind = WF_REF_MATRIX;
            ref.a = body;
            ref.alen = (size_t)(close - body);
        } else {
            rc = parse_steps(body, (size_t)(close - body), &ref);
            if (rc == 0 && !(ref.kind & kinds))
                rc = -EINVAL; /* $(steps.x.phase) where only results may be */
        }
        if (rc < 0) {
            if (bad)
                *bad = (size_t)(s - text);
            return rc;
        }
        if (s > lit && (rc = fn(ud, lit, (size_t)(s - lit), NULL)) < 0)
            return rc;
        if ((rc = fn(ud, NULL, 0, &ref)) < 0)
            return rc;
        s = lit = close + 1;
    }
    return s > lit ? fn(ud, lit, (size_t)(s - lit), NULL) : 0;
}

/* --- substitution ------------------------------------------------------ */

struct subst {
    wf_lookup_fn lookup;
    void *ud;
    char *out;
    size_t len, cap;
};

static void emit(struct subst *c, const char *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 64;
        while (c->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            abort(); /* project rule for OOM (wf.h) */
        c->out = p;
        c->cap = cap;
    }
    memcpy(c->out + c->len, s, n);
    c->len += n;
    c->out[c->len] = '\0';
}

static int subst_piece(void *ud, const char *lit, size_t len, const struct wf_ref *ref)
{
    struct subst *c = ud;
    if (!ref) {
        emit(c, lit, len);
        return 0;
    }
    const char *v = c->lookup(c->ud, ref);
    if (!v)
        return -ENOENT;
    /* Every '$' doubled, so the kubelet's own expansion yields the value
     * and nothing in it is ever read as a reference. */
    for (; *v; v++) {
        emit(c, v, 1);
        if (*v == '$')
            emit(c, "$", 1);
    }
    return 0;
}

int wf_subst_with(const char *text, unsigned kinds, wf_lookup_fn lookup, void *ud, char **ret)
{
    struct subst c = {.lookup = lookup, .ud = ud};
    emit(&c, "", 0);
    int r = wf_ref_scan(text, kinds, subst_piece, &c, NULL);
    if (r < 0) {
        free(c.out);
        return r;
    }
    *ret = c.out;
    return 0;
}

/* --- when ---------------------------------------------------------------- */

/* A substituted value with the '$' doubling undone: `when` compares what
 * the references hold, not what a container would be given. */
int wf_resolve(const char *text, unsigned kinds, wf_lookup_fn lookup, void *ud, char **ret)
{
    char *s = NULL;
    int r = wf_subst_with(text, kinds, lookup, ud, &s);
    if (r < 0)
        return r;
    char *w = s;
    for (const char *p = s; *p; p++) {
        *w++ = *p;
        if (p[0] == '$' && p[1] == '$')
            p++;
    }
    *w = '\0';
    *ret = s;
    return 0;
}

int wf_when_eval(struct json_object *when, unsigned kinds, wf_lookup_fn lookup, void *ud, char *why,
                 size_t cap)
{
    size_t n = json_object_is_type(when, json_type_array) ? json_object_array_length(when) : 0;
    if (when && !json_object_is_type(when, json_type_array))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(when, i);
        const char *input = kj_get_str(e, "input"), *op = kj_get_str(e, "operator");
        struct json_object *vals = kj_get(e, "values");
        if (!input || !op || (strcmp(op, "in") != 0 && strcmp(op, "notin") != 0) ||
            !json_object_is_type(vals, json_type_array))
            return -EINVAL;
        char *in = NULL;
        int r = wf_resolve(input, kinds, lookup, ud, &in);
        if (r < 0)
            return r;
        int found = 0;
        for (size_t k = 0; k < json_object_array_length(vals) && r == 0; k++) {
            struct json_object *v = json_object_array_get_idx(vals, k);
            char *val = NULL;
            if (!json_object_is_type(v, json_type_string))
                r = -EINVAL;
            else if ((r = wf_resolve(json_object_get_string(v), kinds, lookup, ud, &val)) == 0)
                found |= strcmp(in, val) == 0;
            free(val);
        }
        if (r == 0 && found != (strcmp(op, "in") == 0)) {
            if (why)
                snprintf(why, cap, "when[%zu]: \"%.100s\" is %s its values (operator %s)", i, in,
                         found ? "one of" : "not one of", op);
            free(in);
            return 0;
        }
        free(in);
        if (r < 0)
            return r;
    }
    return 1;
}
