#include "kubeconfig/kcfg_tree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <yaml.h>

char *kcfg_vstrf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *kcfg_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = kcfg_vstrf(fmt, ap);
    va_end(ap);
    return s;
}

struct anchor {
    char *name;
    struct kcfg_node *node;
};

struct builder {
    const char *name;
    const char *buf;
    size_t len;
    struct kcfg_tree *t;
    struct kcfg_node *stack[KCFG_MAX_DEPTH];
    size_t depth;
    size_t nodes; /* nodes plus alias references: what the limit counts */
    struct anchor anchors[KCFG_MAX_ANCHORS];
    size_t nanchors;
    char **errmsg;
};

static void node_free(struct kcfg_node *n)
{
    if (n->str) /* keys and tokens pass through here */
        OPENSSL_cleanse(n->str, n->len);
    free(n->str);
    free(n->kids);
    free(n->anchor);
    free(n);
}

void kcfg_tree_free(struct kcfg_tree *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nall; i++)
        node_free(t->all[i]);
    free(t->all);
    free(t);
}

static int fail_at(struct builder *b, const yaml_mark_t *m, const char *what)
{
    if (b->errmsg && !*b->errmsg)
        *b->errmsg = kcfg_strf("%s:%zu:%zu: %s", b->name, m->line + 1, m->column + 1, what);
    return -EINVAL;
}

/* The reader reports a byte offset only; count lines ourselves. */
static void offset_to_mark(const char *buf, size_t len, size_t off, yaml_mark_t *m)
{
    m->line = 0;
    m->column = 0;
    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            m->line++;
            m->column = 0;
        } else {
            m->column++;
        }
    }
}

static int syntax_error(struct builder *b, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        return -ENOMEM;
    yaml_mark_t m = p->problem_mark;
    if (p->error == YAML_READER_ERROR)
        offset_to_mark(b->buf, b->len, p->problem_offset, &m);
    const char *problem = p->problem ? p->problem : "unknown error";
    if (b->errmsg && !*b->errmsg) {
        if (p->context)
            *b->errmsg =
                kcfg_strf("%s:%zu:%zu: YAML syntax error: %s (%s started at line %zu)", b->name,
                          m.line + 1, m.column + 1, problem, p->context, p->context_mark.line + 1);
        else
            *b->errmsg = kcfg_strf("%s:%zu:%zu: YAML syntax error: %s", b->name, m.line + 1,
                                   m.column + 1, problem);
    }
    return -EINVAL;
}

static int grow_nodes(struct kcfg_node ***arr, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    while (nc < need)
        nc *= 2;
    /* An array of pointers: sizeof *p is its element's size (clang-tidy 14
     * misreads it). NOLINTNEXTLINE(bugprone-sizeof-expression) */
    struct kcfg_node **na = realloc(*arr, nc * sizeof *na);
    if (!na)
        return -ENOMEM;
    *arr = na;
    *cap = nc;
    return 0;
}

static int node_new(struct builder *b, enum kcfg_node_type type, const yaml_mark_t *m,
                    struct kcfg_node **out)
{
    struct kcfg_tree *t = b->t;
    if (grow_nodes(&t->all, &t->capall, t->nall + 1) < 0)
        return -ENOMEM;
    struct kcfg_node *n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    n->type = type;
    n->line = (unsigned)m->line + 1;
    n->col = (unsigned)m->column + 1;
    t->all[t->nall++] = n;
    *out = n;
    return 0;
}

/* Hangs n under the open collection, or makes it the root. weight is what
 * n adds to the expanded size: 1 for a new node, the whole subtree for an
 * alias. */
static int attach(struct builder *b, struct kcfg_node *n, size_t weight, const yaml_mark_t *m)
{
    b->nodes += weight;
    if (b->nodes > KCFG_MAX_NODES)
        return fail_at(b, m,
                       "too many YAML nodes, aliases expanded (a kubeconfig needs far fewer)");
    if (b->depth == 0) {
        b->t->root = n;
        return 0;
    }
    struct kcfg_node *p = b->stack[b->depth - 1];
    if (grow_nodes(&p->kids, &p->cap, p->n + 1) < 0)
        return -ENOMEM;
    p->kids[p->n++] = n;
    return 0;
}

static int anchor_add(struct builder *b, const char *name, struct kcfg_node *n,
                      const yaml_mark_t *m)
{
    if (b->nanchors == KCFG_MAX_ANCHORS)
        return fail_at(b, m, "too many YAML anchors");
    char *dup = strdup(name);
    if (!dup)
        return -ENOMEM;
    b->anchors[b->nanchors].name = dup;
    b->anchors[b->nanchors].node = n;
    b->nanchors++;
    return 0;
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    /* The latest definition of a name wins (YAML allows redefining). */
    for (size_t i = b->nanchors; i-- > 0;)
        if (strcmp(b->anchors[i].name, name) == 0)
            return attach(b, b->anchors[i].node, b->anchors[i].node->weight, &ev->start_mark);
    if (b->errmsg && !*b->errmsg)
        *b->errmsg = kcfg_strf("%s:%zu:%zu: alias *%.100s has no complete anchor before it",
                               b->name, ev->start_mark.line + 1, ev->start_mark.column + 1, name);
    return -EINVAL;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    struct kcfg_node *n;
    int rc = node_new(b, KCFG_SCALAR, &ev->start_mark, &n);
    if (rc < 0)
        return rc;
    n->len = ev->data.scalar.length;
    n->str = malloc(n->len + 1);
    if (!n->str)
        return -ENOMEM;
    memcpy(n->str, ev->data.scalar.value, n->len);
    n->str[n->len] = '\0';
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    n->weight = 1;
    if (ev->data.scalar.anchor) {
        rc = anchor_add(b, (const char *)ev->data.scalar.anchor, n, &ev->start_mark);
        if (rc < 0)
            return rc;
    }
    return attach(b, n, 1, &ev->start_mark);
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum kcfg_node_type type)
{
    if (b->depth == KCFG_MAX_DEPTH)
        return fail_at(b, &ev->start_mark, "YAML nested deeper than 64 levels");
    const yaml_char_t *anchor =
        type == KCFG_SEQ ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
    struct kcfg_node *n;
    int rc = node_new(b, type, &ev->start_mark, &n);
    if (rc < 0)
        return rc;
    /* Registered only at the end, so an alias can never point into an
     * unfinished node and make a cycle. */
    if (anchor && !(n->anchor = strdup((const char *)anchor)))
        return -ENOMEM;
    rc = attach(b, n, 1, &ev->start_mark);
    if (rc < 0)
        return rc;
    n->weight = b->nodes; /* the count at the start, until the end event */
    b->stack[b->depth++] = n;
    return 0;
}

static int on_end(struct builder *b, const yaml_event_t *ev)
{
    /* libyaml balances start and end events, but stay defensive. */
    if (b->depth == 0)
        return fail_at(b, &ev->start_mark, "unbalanced YAML collection end");
    struct kcfg_node *n = b->stack[--b->depth];
    n->weight = b->nodes - n->weight + 1;
    if (!n->anchor)
        return 0;
    int rc = anchor_add(b, n->anchor, n, &ev->start_mark);
    free(n->anchor);
    n->anchor = NULL;
    return rc;
}

static int on_event(struct builder *b, const yaml_event_t *ev, int *docs, int *done)
{
    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
    case YAML_NO_EVENT:
        return 0;
    case YAML_STREAM_END_EVENT:
        *done = 1;
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            return fail_at(b, &ev->start_mark,
                           "a second YAML document; a kubeconfig holds exactly one");
        return 0;
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, KCFG_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, KCFG_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(b, ev);
    }
    return 0;
}

int kcfg_tree_parse(const char *name, const char *buf, size_t len, struct kcfg_tree **out,
                    char **errmsg)
{
    *out = NULL;
    struct builder *b = calloc(1, sizeof *b); /* the anchor table is big for a stack */
    struct kcfg_tree *t = calloc(1, sizeof *t);
    yaml_parser_t p;
    int rc = -ENOMEM;
    if (!b || !t || !yaml_parser_initialize(&p)) {
        free(b);
        free(t);
        return -ENOMEM;
    }
    b->name = name;
    b->buf = buf;
    b->len = len;
    b->t = t;
    b->errmsg = errmsg;
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);

    int docs = 0, done = 0;
    rc = 0;
    while (!done && rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = syntax_error(b, &p);
            break;
        }
        rc = on_event(b, &ev, &docs, &done);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    for (size_t i = 0; i < b->nanchors; i++)
        free(b->anchors[i].name);
    free(b);
    if (rc < 0) {
        kcfg_tree_free(t);
        return rc;
    }
    *out = t;
    return 0;
}
