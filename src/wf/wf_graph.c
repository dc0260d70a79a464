/* wf_graph.c - the dependency graph of a parsed spec: duplicate names,
 * unknown and cross-list dependencies, cycles, and the topological order.
 *
 * Main steps and finally steps are two separate graphs (no edges between
 * them), so each is sorted on its own; main steps come first in `order`.
 * Kahn's algorithm picks the lowest spec index among ready steps, so the
 * order is deterministic and equals spec order for a simple chain.
 * Sizes are bounded by WF_STEPS_MAX, so the O(n^2) scans are fine. */
#include "wf/wf.h"
#include "wf/wf-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "<m>-<digits>": the Job name of a combination of matrix step m. */
static int combo_name(const char *name, const char *m)
{
    size_t n = strlen(m);
    if (strncmp(name, m, n) != 0 || name[n] != '-' || !name[n + 1])
        return 0;
    return strspn(name + n + 1, "0123456789") == strlen(name + n + 1);
}

static int check_duplicates(const struct wf_spec *s, struct wf_error *err)
{
    for (size_t i = 1; i < s->n_steps; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->steps[i].name, s->steps[j].name) == 0)
                return wf_fail(err, WF_R_DUPLICATE, "duplicate step name \"%s\"", s->steps[i].name);
    /* Both would name their Jobs "<run>-<m>-<n>". */
    for (size_t i = 0; i < s->n_steps; i++)
        for (size_t j = 0; j < s->n_steps; j++)
            if (s->steps[j].n_matrix && combo_name(s->steps[i].name, s->steps[j].name))
                return wf_fail(err, WF_R_DUPLICATE,
                               "step name \"%s\" is the name of a Job of matrix step \"%s\" "
                               "(<step>-<index>); rename one of them",
                               s->steps[i].name, s->steps[j].name);
    return 0;
}

static int resolve_deps(struct wf_spec *s, struct wf_error *err)
{
    for (size_t i = 0; i < s->n_steps; i++) {
        struct wf_step *st = &s->steps[i];
        struct json_object *deps = kj_get(st->raw, "dependsOn");
        size_t n = deps ? json_object_array_length(deps) : 0;
        st->deps = wf_xcalloc(n, sizeof *st->deps);
        for (size_t k = 0; k < n; k++) {
            const char *dep = json_object_get_string(json_object_array_get_idx(deps, k));
            int j = wf_step_index(s, dep);
            if (j < 0)
                return wf_fail(err, WF_R_UNKNOWN_DEP, "step \"%s\" depends on unknown step \"%s\"",
                               st->name, dep);
            if (st->is_finally && !s->steps[j].is_finally)
                return wf_fail(err, WF_R_INVALID,
                               "finally step \"%s\" depends on \"%s\", which is not a finally "
                               "step; finally steps may only depend on each other",
                               st->name, dep);
            if (!st->is_finally && s->steps[j].is_finally)
                return wf_fail(err, WF_R_INVALID,
                               "step \"%s\" depends on finally step \"%s\"; finally steps run "
                               "after all steps",
                               st->name, dep);
            st->deps[st->n_deps++] = (size_t)j;
        }
    }
    return 0;
}

/* Appends to a fixed buffer, ending it with "..." once full. */
static void append(char *buf, size_t cap, size_t *len, const char *s)
{
    if (*len >= cap - 1)
        return;
    int n = snprintf(buf + *len, cap - *len, "%s", s);
    if (n < 0 || (size_t)n >= cap - *len) {
        memcpy(buf + cap - 4, "...", 4);
        *len = cap - 1;
        return;
    }
    *len += (size_t)n;
}

/* Every step left unsorted has an unsorted dependency, so walking those
 * edges from any of them must come back to a step already on the path. */
static int report_cycle(const struct wf_spec *s, const unsigned char *done, size_t start,
                        struct wf_error *err)
{
    size_t *path = wf_xcalloc(s->n_steps + 1, sizeof *path);
    int *pos = wf_xcalloc(s->n_steps, sizeof *pos);
    for (size_t i = 0; i < s->n_steps; i++)
        pos[i] = -1;
    size_t n = 0, u = start;
    while (pos[u] < 0) {
        pos[u] = (int)n;
        path[n++] = u;
        const struct wf_step *st = &s->steps[u];
        size_t next = u;
        for (size_t k = 0; k < st->n_deps; k++) {
            if (!done[st->deps[k]]) {
                next = st->deps[k];
                break;
            }
        }
        u = next;
    }
    /* The cycle is path[pos[u]..n); start it at its lowest spec index. */
    size_t first = (size_t)pos[u], len = n - first, rot = 0;
    for (size_t i = 1; i < len; i++)
        if (path[first + i] < path[first + rot])
            rot = i;
    char msg[sizeof err->message - 32];
    size_t ml = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i)
            append(msg, sizeof msg, &ml, " -> ");
        append(msg, sizeof msg, &ml, s->steps[path[first + (rot + i) % len]].name);
    }
    free(path);
    free(pos);
    return wf_fail(err, WF_R_CYCLE, "steps form a cycle: %s", msg);
}

/* Sorts steps [lo, hi) into s->order + *n; -EINVAL on a cycle. */
static int kahn(struct wf_spec *s, size_t lo, size_t hi, size_t *n, struct wf_error *err)
{
    unsigned char *done = wf_xcalloc(s->n_steps, 1);
    for (size_t i = 0; i < lo; i++)
        done[i] = 1; /* main steps are sorted already when doing finally */
    int r = 0;
    for (size_t sorted = lo; sorted < hi; sorted++) {
        size_t pick = hi;
        for (size_t i = lo; i < hi && pick == hi; i++) {
            if (done[i])
                continue;
            size_t k = 0;
            while (k < s->steps[i].n_deps && done[s->steps[i].deps[k]])
                k++;
            if (k == s->steps[i].n_deps)
                pick = i;
        }
        if (pick == hi) {
            size_t start = lo;
            while (done[start])
                start++;
            r = report_cycle(s, done, start, err);
            break;
        }
        done[pick] = 1;
        s->order[(*n)++] = pick;
    }
    free(done);
    return r;
}

int wf_graph_check(struct wf_spec *s, struct wf_error *err)
{
    int r = check_duplicates(s, err);
    if (r == 0)
        r = resolve_deps(s, err);
    if (r < 0)
        return r;
    s->order = wf_xcalloc(s->n_steps, sizeof *s->order);
    size_t n = 0;
    r = kahn(s, 0, s->n_main, &n, err);
    if (r == 0)
        r = kahn(s, s->n_main, s->n_steps, &n, err);
    return r;
}
