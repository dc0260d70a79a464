/* The reference grammar (src/wf/wf_ref.c): what is a reference of which
 * kind, what is literal, what is refused; substitution with a lookup; and
 * `when` expressions. */
#include "check.h"
#include "wf/wf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ALL (WF_REF_PARAM | WF_REF_RESULT | WF_REF_PHASE | WF_REF_RUN_STATUS | WF_REF_MATRIX)

/* Renders the scan as text: literals as they are, references as
 * <kind:a:b>, so one string says the whole outcome. */
struct render {
    char out[512];
    size_t len;
};

static int render(void *ud, const char *lit, size_t len, const struct wf_ref *ref)
{
    struct render *r = ud;
    char piece[200];
    if (ref)
        snprintf(piece, sizeof piece, "<%d:%.*s:%.*s>", (int)ref->kind, (int)ref->alen,
                 ref->a ? ref->a : "", (int)ref->blen, ref->b ? ref->b : "");
    else
        snprintf(piece, sizeof piece, "%.*s", (int)len, lit);
    size_t n = strlen(piece);
    if (r->len + n < sizeof r->out) {
        memcpy(r->out + r->len, piece, n + 1);
        r->len += n;
    }
    return 0;
}

static void test_scan(void)
{
    struct {
        const char *in;
        unsigned kinds;
        int rc;
        const char *out;
    } cases[] = {
        {"plain", ALL, 0, "plain"},
        {"$(params.x)", ALL, 0, "<1:x:>"},
        {"a$(params.x)b$(params.y-z)c", ALL, 0, "a<1:x:>b<1:y-z:>c"},
        {"$$(params.x)", ALL, 0, "$$(params.x)"},
        {"$(params.x", ALL, 0, "$(params.x"}, /* unclosed param: literal, as always */
        {"$(steps.build.results.digest)", ALL, 0, "<2:build:digest>"},
        {"$(steps.build.phase)", ALL, 0, "<4:build:>"},
        {"$(run.status) done", ALL, 0, "<8::> done"},
        {"$(matrix.os)", ALL, 0, "<16:os:>"},
        {"$(HOME) and $(VAR_1)", ALL, 0, "$(HOME) and $(VAR_1)"}, /* the kubelet's */
        /* Kinds not live are text, exactly as before they existed. */
        {"$(steps.a.results.b) $(run.status) $(matrix.x)", WF_REF_PARAM, 0,
         "$(steps.a.results.b) $(run.status) $(matrix.x)"},
        {"$(steps.a)", WF_REF_PARAM, 0, "$(steps.a)"},
        /* Live and malformed: refused, never left as text. */
        {"$(steps.a)", ALL, -EINVAL, NULL},
        {"$(steps.a.results.)", ALL, -EINVAL, NULL},
        {"$(steps.A.results.x)", ALL, -EINVAL, NULL},
        {"$(steps.-a.phase)", ALL, -EINVAL, NULL},
        {"$(steps.a.results.1x)", ALL, -EINVAL, NULL},
        {"$(steps.a.results.x", ALL, -EINVAL, NULL},
        {"$(run.phase)", ALL, -EINVAL, NULL},
        {"$(matrix.)", ALL, -EINVAL, NULL},
        {"$(steps.a.phase)", WF_REF_RESULT, -EINVAL, NULL}, /* phase: finally steps only */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct render r = {{0}, 0};
        size_t bad = 999;
        int rc = wf_ref_scan(cases[i].in, cases[i].kinds, render, &r, &bad);
        if (rc != cases[i].rc || (cases[i].out && strcmp(r.out, cases[i].out) != 0))
            fprintf(stderr, "case %zu \"%s\": rc %d out \"%s\"\n", i, cases[i].in, rc, r.out);
        CHECK_INT(rc, cases[i].rc);
        if (cases[i].out)
            CHECK_STR(r.out, cases[i].out);
        else
            CHECK(bad == 0); /* every malformed case starts at offset 0 */
    }
}

static const char *lookup(void *ud, const struct wf_ref *ref)
{
    (void)ud;
    if (ref->kind == WF_REF_PARAM && ref->alen == 3 && memcmp(ref->a, "env", 3) == 0)
        return "prod";
    if (ref->kind == WF_REF_PARAM && ref->alen == 4 && memcmp(ref->a, "cost", 4) == 0)
        return "$5";
    if (ref->kind == WF_REF_RESULT && ref->blen == 6 && memcmp(ref->b, "digest", 6) == 0)
        return "sha256:abc";
    if (ref->kind == WF_REF_RUN_STATUS)
        return "Failed";
    return NULL;
}

static void test_subst(void)
{
    char *out = NULL;
    CHECK_INT(wf_subst_with("deploy $(steps.build.results.digest) to $(params.env)", ALL, lookup,
                            NULL, &out),
              0);
    CHECK_STR(out, "deploy sha256:abc to prod");
    free(out);
    /* A '$' in a value is doubled for the kubelet, and never read as a
     * reference, whatever it looks like. */
    CHECK_INT(wf_subst_with("$(params.cost) $$(params.env)", ALL, lookup, NULL, &out), 0);
    CHECK_STR(out, "$$5 $$(params.env)");
    free(out);
    CHECK_INT(wf_subst_with("$(params.nope)", ALL, lookup, NULL, &out), -ENOENT);
    CHECK_INT(wf_subst_with("$(steps.x)", ALL, lookup, NULL, &out), -EINVAL);
    /* Only params live: a results reference is text (today's behaviour). */
    CHECK_INT(wf_subst_with("$(steps.build.results.digest)", WF_REF_PARAM, lookup, NULL, &out), 0);
    CHECK_STR(out, "$(steps.build.results.digest)");
    free(out);
}

static struct json_object *J(const char *s)
{
    char *buf = strdup(s);
    for (char *p = buf; *p; p++)
        if (*p == '\'')
            *p = '"';
    struct json_object *o = json_tokener_parse(buf);
    free(buf);
    return o;
}

static void test_when(void)
{
    struct {
        const char *when;
        int rc;
    } cases[] = {
        {"[]", 1},
        {"[{'input':'$(params.env)','operator':'in','values':['prod','staging']}]", 1},
        {"[{'input':'$(params.env)','operator':'notin','values':['prod']}]", 0},
        {"[{'input':'$(params.env)','operator':'in','values':['dev']}]", 0},
        /* Every expression must hold. */
        {"[{'input':'$(params.env)','operator':'in','values':['prod']},"
         "{'input':'$(run.status)','operator':'in','values':['Succeeded']}]",
         0},
        /* Values are references too, and the '$' doubling is undone. */
        {"[{'input':'$(params.cost)','operator':'in','values':['$$5']}]", 1},
        {"[{'input':'$(steps.b.results.digest)','operator':'in','values':['$(steps.b.results."
         "digest)']}]",
         1},
        {"[{'input':'$(params.nope)','operator':'in','values':['x']}]", -ENOENT},
        {"[{'input':'x','operator':'IN','values':['x']}]", -EINVAL},
        {"[{'input':'x','operator':'in','values':'x'}]", -EINVAL},
        {"[{'input':'x','operator':'in','values':[1]}]", -EINVAL},
        {"[{'operator':'in','values':[]}]", -EINVAL},
        {"{}", -EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct json_object *w = J(cases[i].when);
        char why[200] = "";
        int rc = wf_when_eval(w, ALL, lookup, NULL, why, sizeof why);
        if (rc != cases[i].rc)
            fprintf(stderr, "when case %zu: %d\n", i, rc);
        CHECK_INT(rc, cases[i].rc);
        if (rc == 0)
            CHECK(strstr(why, "when[") == why);
        json_object_put(w);
    }
    char why[200];
    struct json_object *w = J("[{'input':'$(params.env)','operator':'notin','values':['prod']}]");
    CHECK_INT(wf_when_eval(w, ALL, lookup, NULL, why, sizeof why), 0);
    CHECK_STR(why, "when[0]: \"prod\" is one of its values (operator notin)");
    json_object_put(w);
    CHECK_INT(wf_when_eval(NULL, ALL, lookup, NULL, NULL, 0), 1);
}

int main(void)
{
    test_scan();
    test_subst();
    test_when();
    return check_finish();
}
