/* Fuzz target: the reference grammar (src/wf/wf_ref.c) and `when`.
 *
 * Input: one byte, the mask of live kinds; the rest, a text written by
 * anyone who may write a Workflow or a run's params. Invariants abort:
 *  - the scan ends with 0 or -EINVAL (a malformed live reference), and the
 *    pieces it hands over put back together are the text, byte for byte,
 *    less the references' own spelling;
 *  - a substitution that succeeds leaves no live reference in its output
 *    (inserted values are '$'-doubled, so nothing in them is read as one),
 *    even when every value is itself a reference-looking string;
 *  - the same bytes as a `when` list evaluate to 1, 0, -ENOENT or -EINVAL. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wf/wf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_wf_subst: %s:%d: %s\n", __FILE__, __LINE__, #c);                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct count {
    size_t lits, refs, lit_bytes;
};

static int count(void *ud, const char *lit, size_t len, const struct wf_ref *ref)
{
    struct count *c = ud;
    if (ref) {
        REQUIRE(!lit && ref->kind);
        c->refs++;
    } else {
        REQUIRE(lit && len > 0);
        c->lits++;
        c->lit_bytes += len;
    }
    return 0;
}

/* Every value looks like a reference: none may survive as one. */
static const char *evil(void *ud, const struct wf_ref *ref)
{
    (void)ud;
    return ref->alen % 3 == 0 ? NULL : "$(params.x)$(steps.a.results.b)$$";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned kinds = data[0] & 0x1f;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    size_t n = strlen(text);

    struct count c = {0, 0, 0};
    size_t bad = SIZE_MAX;
    int rc = wf_ref_scan(text, kinds, count, &c, &bad);
    REQUIRE(rc == 0 || rc == -EINVAL);
    if (rc == -EINVAL)
        REQUIRE(bad < n);
    else
        REQUIRE(c.lit_bytes <= n);

    char *out = NULL;
    rc = wf_subst_with(text, kinds, evil, NULL, &out);
    REQUIRE(rc == 0 || rc == -EINVAL || rc == -ENOENT);
    if (rc == 0) {
        struct count again = {0, 0, 0};
        REQUIRE(wf_ref_scan(out, kinds, count, &again, NULL) == 0);
        REQUIRE(again.refs == 0);
        free(out);
    }

    struct json_object *when = json_tokener_parse(text);
    if (when) {
        char why[160];
        rc = wf_when_eval(when, kinds, evil, NULL, why, sizeof why);
        REQUIRE(rc == 1 || rc == 0 || rc == -ENOENT || rc == -EINVAL);
        json_object_put(when);
    }
    free(text);
    return 0;
}
