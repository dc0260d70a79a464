/* Secondary indexes over the caches: owner -> names of its children.
 *
 * Without them a reconcile walks every cached Job, Pod and run to find its
 * own (O(cache) per reconcile, measured at a third of a core during 100
 * concurrent teardowns of 50 Jobs each). With them it touches only its
 * children. The sets are small (a run's steps, a Job's pods), so each is
 * one buffer of NUL-separated names: no per-name allocation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/linkhash.h>

#include "ctrl/ctrl-internal.h"

struct ctrl_idx {
    struct lh_table *t; /* "ns/owner" -> struct idx_set */
    unsigned dels;      /* see ctrl_lh_delete */
};

struct idx_set {
    size_t len, cap;
    char *names; /* "a\0b\0" */
    char key[];  /* the table's key points here */
};

static void set_free(struct lh_entry *e)
{
    struct idx_set *s = (struct idx_set *)lh_entry_v(e);
    if (s)
        free(s->names);
    free(s); /* the key lives in the value */
}

struct ctrl_idx *ctrl_idx_new(void)
{
    struct ctrl_idx *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->t = lh_kchar_table_new(16, set_free); /* grows by doubling; idle costs little */
    if (!x->t) {
        free(x);
        return NULL;
    }
    return x;
}

void ctrl_idx_free(struct ctrl_idx *x)
{
    if (!x)
        return;
    lh_table_free(x->t);
    free(x);
}

/* Namespaces are DNS labels (63), owners DNS subdomains (253). */
#define IDX_KEY_MAX (64 + 1 + PLAN_OBJ_LEN)

static int make_key(char key[IDX_KEY_MAX], const char *ns, const char *owner)
{
    int n = snprintf(key, IDX_KEY_MAX, "%s/%s", ns ? ns : "", owner);
    return n > 0 && n < IDX_KEY_MAX ? 0 : -ENAMETOOLONG;
}

/* The offset of name in s->names, or -1. */
static long find(const struct idx_set *s, const char *name)
{
    for (size_t off = 0; off < s->len; off += strlen(s->names + off) + 1)
        if (strcmp(s->names + off, name) == 0)
            return (long)off;
    return -1;
}

int ctrl_idx_add(struct ctrl_idx *x, const char *ns, const char *owner, const char *name)
{
    char key[IDX_KEY_MAX];
    if (!owner || !*owner || !name || !*name)
        return -EINVAL;
    if (make_key(key, ns, owner) < 0)
        return -ENAMETOOLONG;
    struct idx_set *s;
    if (!lh_table_lookup_ex(x->t, key, (void **)&s)) {
        size_t kl = strlen(key) + 1;
        s = calloc(1, sizeof *s + kl);
        if (!s)
            return -ENOMEM;
        memcpy(s->key, key, kl);
        if (lh_table_insert(x->t, s->key, s) != 0) {
            free(s);
            return -ENOMEM;
        }
    }
    if (find(s, name) >= 0)
        return 0;
    size_t nl = strlen(name) + 1;
    if (s->len + nl > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        while (ncap < s->len + nl)
            ncap *= 2;
        char *p = realloc(s->names, ncap);
        if (!p) {
            if (s->len == 0)
                ctrl_lh_delete(x->t, key, &x->dels); /* no empty set left behind */
            return -ENOMEM;
        }
        s->names = p;
        s->cap = ncap;
    }
    memcpy(s->names + s->len, name, nl);
    s->len += nl;
    return 0;
}

void ctrl_idx_del(struct ctrl_idx *x, const char *ns, const char *owner, const char *name)
{
    char key[IDX_KEY_MAX];
    struct idx_set *s;
    if (!owner || !*owner || !name || make_key(key, ns, owner) < 0 ||
        !lh_table_lookup_ex(x->t, key, (void **)&s))
        return;
    long off = find(s, name);
    if (off < 0)
        return;
    char *p = s->names + off;
    size_t nl = strlen(p) + 1;
    memmove(p, p + nl, (size_t)(s->names + s->len - (p + nl)));
    s->len -= nl;
    if (s->len == 0)
        ctrl_lh_delete(x->t, key, &x->dels); /* frees s */
}

const char *ctrl_idx_get(const struct ctrl_idx *x, const char *ns, const char *owner, size_t *len)
{
    char key[IDX_KEY_MAX];
    struct idx_set *s;
    *len = 0;
    if (!owner || !*owner || make_key(key, ns, owner) < 0 ||
        !lh_table_lookup_ex(x->t, key, (void **)&s))
        return NULL;
    *len = s->len;
    return s->names;
}

size_t ctrl_idx_owners(const struct ctrl_idx *x)
{
    return (size_t)x->t->count;
}
