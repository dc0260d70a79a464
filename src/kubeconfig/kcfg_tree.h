/* kcfg_tree - internal to the kubeconfig module: libyaml events to a small,
 * bounded tree with line numbers.
 *
 * libyaml's document loader has no node limit and registers anchors before
 * their node is complete (so "&a [*a]" makes a cycle); building our own tree
 * from events lets us cap nodes, depth and anchors, and keep every alias a
 * plain reference to an already-complete node (a DAG, never a cycle). */
#ifndef RB_KCFG_TREE_H
#define RB_KCFG_TREE_H

#include <stdarg.h>
#include <stddef.h>

#define KCFG_MAX_DEPTH 64
/* Aliases count at their expanded size, so walking the tree (which does
 * follow aliases) is bounded too. */
#define KCFG_MAX_NODES 200000
#define KCFG_MAX_ANCHORS 256

enum kcfg_node_type { KCFG_SCALAR, KCFG_SEQ, KCFG_MAP };

struct kcfg_node {
    enum kcfg_node_type type;
    unsigned line, col; /* 1-based start of the node */
    int plain;          /* scalar written without quotes (so "null" may mean null) */
    char *str;          /* scalar bytes, NUL-terminated; may hold NULs ("\0" escapes) */
    size_t len;
    /* Sequence items, or mapping keys and values alternating (n even).
     * Pointers into the tree: an alias puts the same node in two places. */
    struct kcfg_node **kids;
    size_t n, cap;
    char *anchor;  /* pending anchor of an unfinished collection */
    size_t weight; /* expanded size of the subtree, aliases included */
};

/* Owns every node; nodes are freed together, so shared ones are no problem. */
struct kcfg_tree {
    struct kcfg_node *root; /* NULL: the stream holds no document */
    struct kcfg_node **all;
    size_t nall, capall;
};

/* Parses len bytes of buf. On error returns -EINVAL (syntax, limits) or
 * -ENOMEM and sets *errmsg to "name:line:col: ..." (malloc'd). */
int kcfg_tree_parse(const char *name, const char *buf, size_t len, struct kcfg_tree **out,
                    char **errmsg);
void kcfg_tree_free(struct kcfg_tree *t);

/* malloc'd printf; NULL on failure. Shared by the module's error paths. */
char *kcfg_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *kcfg_vstrf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
