#include "kjson/kjson.h"
#include "informer/inf_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* One cached object: header, record, then "ns\0name\0rv\0". The record
 * follows the header directly so a record pointer leads back to its entry
 * (inf_rec_name and friends need nothing else). */
struct entry {
    struct entry *next; /* bucket chain */
    uint32_t hash;
    uint32_t mark; /* relist generation that last saw it */
    uint32_t rec_size;
    uint16_t name_len;
    uint8_t ns_len;
    uint8_t rv_len;
};

#define REC_OFF ((sizeof(struct entry) + 7) & ~(size_t)7)
/* glibc's per-chunk header, counted so cache_bytes tracks RSS. */
#define MALLOC_OVERHEAD 16
#define NS_MAX 63     /* DNS label */
#define NAME_MAX_ 253 /* DNS subdomain */
#define RV_MAX 255
#define MIN_BUCKETS 16u

struct inf_cache {
    struct inf_projection proj;
    struct inf_handlers h;
    void *ud;
    struct entry **b;
    uint32_t nb; /* power of two */
    size_t n;
    size_t bytes; /* entry allocations */
    uint32_t gen;
    int muted;
    struct inf_stats st; /* only this layer's counters */
};

/* Records live right after their entry header, so one allocation holds
 * both. The const is dropped through a union, not an integer round trip. */
static void *rec_of(const struct entry *e)
{
    union {
        const struct entry *c;
        char *p;
    } u = {.c = e};
    return u.p + REC_OFF;
}

static struct entry *entry_of(const void *rec)
{
    union {
        const void *c;
        char *p;
    } u = {.c = rec};
    return (struct entry *)(void *)(u.p - REC_OFF);
}

static const char *ns_of(const struct entry *e)
{
    return (const char *)rec_of(e) + e->rec_size;
}

static const char *name_of(const struct entry *e)
{
    return ns_of(e) + e->ns_len + 1;
}

static const char *rv_of(const struct entry *e)
{
    return name_of(e) + e->name_len + 1;
}

const char *inf_rec_namespace(const void *rec)
{
    return ns_of(entry_of(rec));
}

const char *inf_rec_name(const void *rec)
{
    return name_of(entry_of(rec));
}

const char *inf_rec_rv(const void *rec)
{
    return rv_of(entry_of(rec));
}

static size_t entry_size(const struct entry *e)
{
    return REC_OFF + e->rec_size + e->ns_len + e->name_len + e->rv_len + 3u;
}

/* FNV-1a over "ns/name", computed without building the string. */
static uint32_t hash_key(const char *ns, size_t ns_len, const char *name, size_t name_len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < ns_len; i++)
        h = (h ^ (unsigned char)ns[i]) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (size_t i = 0; i < name_len; i++)
        h = (h ^ (unsigned char)name[i]) * 16777619u;
    return h;
}

struct inf_cache *inf_cache_new(const struct inf_projection *proj, const struct inf_handlers *h,
                                void *ud)
{
    if (!proj || !proj->project || proj->size == 0 || proj->size > INF_RECORD_MAX)
        return NULL;
    struct inf_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    /* The element is a pointer: clang 14 misreads sizeof *(T **). */
    // NOLINTNEXTLINE(bugprone-sizeof-expression)
    c->b = calloc(MIN_BUCKETS, sizeof *c->b);
    if (!c->b) {
        free(c);
        return NULL;
    }
    c->nb = MIN_BUCKETS;
    c->proj = *proj;
    if (h)
        c->h = *h;
    c->ud = ud;
    c->gen = 1;
    return c;
}

static void entry_free(struct inf_cache *c, struct entry *e)
{
    if (!e)
        return;
    if (c->proj.release)
        c->proj.release(rec_of(e));
    free(e);
}

void inf_cache_free(struct inf_cache *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->nb; i++) {
        struct entry *e = c->b[i];
        while (e) {
            struct entry *next = e->next;
            entry_free(c, e);
            e = next;
        }
    }
    free(c->b);
    free(c);
}

void inf_cache_mute(struct inf_cache *c, int muted)
{
    c->muted = muted;
}

/* Rehash into nb buckets; on allocation failure keep the old array (chains
 * only get longer). */
static void resize(struct inf_cache *c, uint32_t nb)
{
    /* The element is a pointer: clang 14 misreads sizeof *(T **). */
    // NOLINTNEXTLINE(bugprone-sizeof-expression)
    struct entry **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    for (uint32_t i = 0; i < c->nb; i++) {
        struct entry *e = c->b[i];
        while (e) {
            struct entry *next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
            e = next;
        }
    }
    free(c->b);
    c->b = b;
    c->nb = nb;
}

/* The slot pointing at ns/name's entry, or at the NULL ending its chain. */
static struct entry **find_slot(const struct inf_cache *c, uint32_t hash, const char *ns,
                                size_t ns_len, const char *name, size_t name_len)
{
    struct entry **p = &c->b[hash & (c->nb - 1)];
    for (; *p; p = &(*p)->next) {
        const struct entry *e = *p;
        if (e->hash == hash && e->ns_len == ns_len && e->name_len == name_len &&
            memcmp(name_of(e), name, name_len) == 0 && memcmp(ns_of(e), ns, ns_len) == 0)
            return p;
    }
    return p;
}

static void link_entry(struct inf_cache *c, struct entry **slot, struct entry *e)
{
    e->next = NULL;
    *slot = e;
    c->n++;
    c->bytes += entry_size(e) + MALLOC_OVERHEAD;
    if (c->n > c->nb && c->nb < (1u << 31))
        resize(c, c->nb * 2);
}

static void unlink_entry(struct inf_cache *c, struct entry **slot)
{
    struct entry *e = *slot;
    *slot = e->next;
    c->n--;
    c->bytes -= entry_size(e) + MALLOC_OVERHEAD;
}

static void maybe_shrink(struct inf_cache *c)
{
    if (c->nb > MIN_BUCKETS && c->n < c->nb / 4)
        resize(c, c->nb / 2);
}

/* An object's key and resourceVersion, borrowed from its JSON. */
struct meta {
    const char *ns, *name, *rv;
    size_t ns_len, name_len, rv_len;
    uint32_t hash;
};

static int read_meta(struct json_object *obj, struct meta *m)
{
    m->name = kj_path_str(obj, "metadata", "name", NULL);
    m->ns = kj_path_str(obj, "metadata", "namespace", NULL);
    m->rv = kj_path_str(obj, "metadata", "resourceVersion", NULL);
    if (!m->ns)
        m->ns = "";
    if (!m->name || !m->rv)
        return -EBADMSG;
    m->name_len = strlen(m->name);
    m->ns_len = strlen(m->ns);
    m->rv_len = strlen(m->rv);
    if (m->name_len == 0 || m->name_len > NAME_MAX_ || m->ns_len > NS_MAX || m->rv_len == 0 ||
        m->rv_len > RV_MAX)
        return -EBADMSG;
    m->hash = hash_key(m->ns, m->ns_len, m->name, m->name_len);
    return 0;
}

/* A projected, unlinked entry for obj. *out NULL when project() rejected it
 * (counted), which is not an error. */
static int make_entry(struct inf_cache *c, struct json_object *obj, const struct meta *m,
                      struct entry **out)
{
    *out = NULL;
    size_t sz = REC_OFF + c->proj.size + m->ns_len + m->name_len + m->rv_len + 3;
    struct entry *e = calloc(1, sz);
    if (!e)
        return -ENOMEM;
    e->hash = m->hash;
    e->rec_size = (uint32_t)c->proj.size;
    e->ns_len = (uint8_t)m->ns_len;
    e->name_len = (uint16_t)m->name_len;
    e->rv_len = (uint8_t)m->rv_len;
    e->mark = c->gen;
    char *s = (char *)rec_of(e) + c->proj.size;
    memcpy(s, m->ns, m->ns_len + 1);
    memcpy(s + m->ns_len + 1, m->name, m->name_len + 1);
    memcpy(s + m->ns_len + 1 + m->name_len + 1, m->rv, m->rv_len + 1);
    if (c->proj.project(obj, rec_of(e)) < 0) {
        entry_free(c, e);
        c->st.project_errors++;
        return 0;
    }
    *out = e;
    return 0;
}

/* Upsert for ADDED / MODIFIED and for listed items. */
static int upsert(struct inf_cache *c, struct json_object *obj, int listed)
{
    struct meta m;
    if (read_meta(obj, &m) < 0)
        return -EBADMSG;
    struct entry **slot = find_slot(c, m.hash, m.ns, m.ns_len, m.name, m.name_len);
    struct entry *old = *slot;
    if (old && old->rv_len == m.rv_len && memcmp(rv_of(old), m.rv, m.rv_len) == 0) {
        /* Same version: a relist finding it unchanged, or a replayed event. */
        old->mark = c->gen;
        if (!listed)
            c->st.duplicates++;
        return 0;
    }
    struct entry *e;
    int rc = make_entry(c, obj, &m, &e);
    if (rc < 0)
        return rc;
    if (!e) {
        if (old) /* keep the stale record rather than losing the object */
            old->mark = c->gen;
        return 0;
    }
    if (old) {
        /* Replace in place: the chain and the counts stay as they are. */
        e->next = old->next;
        *slot = e;
        c->bytes += entry_size(e);
        c->bytes -= entry_size(old);
        c->st.updates++;
        if (c->h.on_update)
            c->h.on_update(c->ud, rec_of(old), rec_of(e));
        entry_free(c, old);
    } else {
        link_entry(c, slot, e);
        c->st.adds++;
        if (c->h.on_add)
            c->h.on_add(c->ud, rec_of(e));
    }
    return 0;
}

static int remove_obj(struct inf_cache *c, struct json_object *obj)
{
    struct meta m;
    if (read_meta(obj, &m) < 0)
        return -EBADMSG;
    struct entry **slot = find_slot(c, m.hash, m.ns, m.ns_len, m.name, m.name_len);
    struct entry *old = *slot;
    if (!old)
        return 0;
    unlink_entry(c, slot);
    /* Hand out the final state when it projects; the cached one otherwise. */
    struct entry *last = NULL;
    (void)make_entry(c, obj, &m, &last);
    c->st.deletes++;
    if (c->h.on_delete)
        c->h.on_delete(c->ud, rec_of(last ? last : old));
    entry_free(c, last);
    entry_free(c, old);
    maybe_shrink(c);
    return 0;
}

int inf_cache_apply(struct inf_cache *c, enum watch_event_type type, struct json_object *obj)
{
    if (c->muted)
        return 0;
    switch (type) {
    case WATCH_ADDED:
    case WATCH_MODIFIED:
        return upsert(c, obj, 0);
    case WATCH_DELETED:
        return remove_obj(c, obj);
    case WATCH_BOOKMARK:
    case WATCH_ERROR:
        break;
    }
    return 0;
}

void inf_cache_replace_begin(struct inf_cache *c)
{
    if (++c->gen == 0)
        c->gen = 1;
}

int inf_cache_replace_item(struct inf_cache *c, struct json_object *obj)
{
    if (c->muted)
        return 0;
    return upsert(c, obj, 1);
}

void inf_cache_replace_end(struct inf_cache *c)
{
    for (uint32_t i = 0; i < c->nb && !c->muted; i++) {
        struct entry **slot = &c->b[i];
        while (*slot && !c->muted) {
            struct entry *e = *slot;
            if (e->mark == c->gen) {
                slot = &e->next;
                continue;
            }
            unlink_entry(c, slot);
            c->st.deletes++;
            if (c->h.on_delete)
                c->h.on_delete(c->ud, rec_of(e));
            entry_free(c, e);
        }
    }
    /* Shrinking here, not per delete: the loop above walks the buckets. */
    while (c->nb > MIN_BUCKETS && c->n < c->nb / 4) {
        uint32_t nb = c->nb;
        resize(c, nb / 2);
        if (c->nb == nb)
            break;
    }
}

const void *inf_cache_get(const struct inf_cache *c, const char *ns, const char *name)
{
    if (!name)
        return NULL;
    if (!ns)
        ns = "";
    size_t ns_len = strlen(ns), name_len = strlen(name);
    struct entry **slot =
        find_slot(c, hash_key(ns, ns_len, name, name_len), ns, ns_len, name, name_len);
    return *slot ? rec_of(*slot) : NULL;
}

int inf_cache_foreach(const struct inf_cache *c, int (*fn)(void *ud, const void *rec), void *ud)
{
    for (uint32_t i = 0; i < c->nb; i++) {
        for (const struct entry *e = c->b[i]; e; e = e->next) {
            int rc = fn(ud, rec_of(e));
            if (rc)
                return rc;
        }
    }
    return 0;
}

size_t inf_cache_count(const struct inf_cache *c)
{
    return c->n;
}

size_t inf_cache_bytes(const struct inf_cache *c)
{
    /* The element is a pointer: clang 14 misreads sizeof *(T **). */
    // NOLINTNEXTLINE(bugprone-sizeof-expression)
    return c->bytes + (size_t)c->nb * sizeof *c->b + MALLOC_OVERHEAD;
}

void inf_cache_stats(const struct inf_cache *c, struct inf_stats *st)
{
    st->adds = c->st.adds;
    st->updates = c->st.updates;
    st->deletes = c->st.deletes;
    st->duplicates = c->st.duplicates;
    st->project_errors = c->st.project_errors;
    st->objects = c->n;
    st->cache_bytes = inf_cache_bytes(c);
}
