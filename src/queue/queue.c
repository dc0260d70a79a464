#include "queue/queue.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#define NO_IDX SIZE_MAX
#define MIN_SLOTS 16

/* One per known key. It lives while the key is dirty, processing, delayed
 * or has failures counted, and is freed as soon as it is none of those. */
struct wq_entry {
    struct wq_entry *next; /* ready FIFO link */
    uint64_t hash;
    uint64_t ready_at; /* when heap_idx != NO_IDX */
    uint64_t seq;      /* heap tie-break: equal deadlines keep add order */
    size_t heap_idx;
    unsigned failures;
    /* client-go's sets: dirty = wants processing; processing = handed
     * out. The entry is in the FIFO exactly when dirty && !processing. */
    unsigned char dirty, processing;
    char key[];
};

struct wq {
    struct wq_config cfg;
    /* Open addressing, linear probing, no tombstones (backward-shift
     * delete), so lookups stay short however many keys come and go. */
    struct wq_entry **slots;
    size_t nslots, nkeys;
    uint64_t seed;
    struct wq_entry *head, *tail;
    size_t ready;
    struct wq_entry **heap; /* min-heap on (ready_at, seq) */
    size_t heap_len, heap_cap;
    uint64_t seq;
    size_t processing;
    int64_t tokens; /* token bucket, in thousandths of a token */
    uint64_t bucket_at;
    int shut;
};

void wq_config_default(struct wq_config *cfg)
{
    cfg->base_delay_ms = 5;
    cfg->max_delay_ms = 300000;
    cfg->qps = 10;
    cfg->burst = 100;
}

/* --- hash table ------------------------------------------------------------ */

/* FNV-1a with a random seed and a murmur3 finaliser. Keys are object names
 * chosen by cluster users, so the seed keeps collisions unpredictable. */
static uint64_t hash_key(uint64_t seed, const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static struct wq_entry *find(const struct wq *q, const char *key, uint64_t h)
{
    size_t mask = q->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct wq_entry *e = q->slots[i];
        if (!e)
            return NULL;
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    }
}

static void place(struct wq_entry **slots, size_t nslots, struct wq_entry *e)
{
    size_t i = e->hash & (nslots - 1);
    while (slots[i])
        i = (i + 1) & (nslots - 1);
    slots[i] = e;
}

/* Keep the load at most 1/2 so probe runs stay short. */
static int reserve_slot(struct wq *q)
{
    if ((q->nkeys + 1) * 2 <= q->nslots)
        return 0;
    size_t n = q->nslots * 2;
    /* An array of pointers: sizeof *p is its element's size (clang-tidy 14
     * misreads it). NOLINTNEXTLINE(bugprone-sizeof-expression) */
    struct wq_entry **s = calloc(n, sizeof *s);
    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < q->nslots; i++)
        if (q->slots[i])
            place(s, n, q->slots[i]);
    free(q->slots);
    q->slots = s;
    q->nslots = n;
    return 0;
}

static void unlink_slot(struct wq *q, const struct wq_entry *e)
{
    size_t mask = q->nslots - 1, i = e->hash & mask;
    while (q->slots[i] != e)
        i = (i + 1) & mask;
    /* Backward shift: move later members of the run into the hole when
     * their home slot is not between the hole and where they sit. */
    for (size_t j = (i + 1) & mask; q->slots[j]; j = (j + 1) & mask) {
        size_t home = q->slots[j]->hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            q->slots[i] = q->slots[j];
            i = j;
        }
    }
    q->slots[i] = NULL;
    q->nkeys--;
}

static int key_ok(const char *key)
{
    return key && *key;
}

static struct wq_entry *lookup(const struct wq *q, const char *key)
{
    return key_ok(key) ? find(q, key, hash_key(q->seed, key)) : NULL;
}

static int get_or_create(struct wq *q, const char *key, struct wq_entry **out)
{
    uint64_t h = hash_key(q->seed, key);
    struct wq_entry *e = find(q, key, h);
    if (!e) {
        if (reserve_slot(q) != 0)
            return -ENOMEM;
        size_t len = strlen(key);
        e = calloc(1, sizeof *e + len + 1);
        if (!e)
            return -ENOMEM;
        memcpy(e->key, key, len + 1);
        e->hash = h;
        e->heap_idx = NO_IDX;
        place(q->slots, q->nslots, e);
        q->nkeys++;
    }
    *out = e;
    return 0;
}

static void release_if_idle(struct wq *q, struct wq_entry *e)
{
    if (e->dirty || e->processing || e->heap_idx != NO_IDX || e->failures)
        return;
    unlink_slot(q, e);
    free(e);
}

/* --- delayed keys: binary min-heap ----------------------------------------- */

static int before(const struct wq_entry *a, const struct wq_entry *b)
{
    return a->ready_at < b->ready_at || (a->ready_at == b->ready_at && a->seq < b->seq);
}

static void heap_set(struct wq *q, size_t i, struct wq_entry *e)
{
    q->heap[i] = e;
    e->heap_idx = i;
}

static void sift_up(struct wq *q, size_t i)
{
    struct wq_entry *e = q->heap[i];
    while (i > 0 && before(e, q->heap[(i - 1) / 2])) {
        heap_set(q, i, q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(q, i, e);
}

static void sift_down(struct wq *q, size_t i)
{
    struct wq_entry *e = q->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->heap_len)
            break;
        if (c + 1 < q->heap_len && before(q->heap[c + 1], q->heap[c]))
            c++;
        if (!before(q->heap[c], e))
            break;
        heap_set(q, i, q->heap[c]);
        i = c;
    }
    heap_set(q, i, e);
}

static int heap_reserve(struct wq *q)
{
    if (q->heap_len < q->heap_cap)
        return 0;
    size_t n = q->heap_cap ? q->heap_cap * 2 : MIN_SLOTS;
    /* An array of pointers: sizeof *p is its element's size (clang-tidy 14
     * misreads it). NOLINTNEXTLINE(bugprone-sizeof-expression) */
    struct wq_entry **h = realloc(q->heap, n * sizeof *h);
    if (!h)
        return -ENOMEM;
    q->heap = h;
    q->heap_cap = n;
    return 0;
}

static struct wq_entry *heap_pop(struct wq *q)
{
    struct wq_entry *top = q->heap[0];
    top->heap_idx = NO_IDX;
    if (--q->heap_len > 0) {
        heap_set(q, 0, q->heap[q->heap_len]);
        sift_down(q, 0);
    }
    return top;
}

/* --- the queue --------------------------------------------------------------- */

struct wq *wq_new(const struct wq_config *cfg)
{
    struct wq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    if (cfg)
        q->cfg = *cfg;
    else
        wq_config_default(&q->cfg);
    q->nslots = MIN_SLOTS;
    /* An array of pointers: sizeof *p is its element's size (clang-tidy 14
     * misreads it). NOLINTNEXTLINE(bugprone-sizeof-expression) */
    q->slots = calloc(q->nslots, sizeof *q->slots);
    if (!q->slots) {
        free(q);
        return NULL;
    }
    if (getrandom(&q->seed, sizeof q->seed, GRND_NONBLOCK) != (ssize_t)sizeof q->seed)
        q->seed = (uint64_t)(uintptr_t)q * 0x9e3779b97f4a7c15ULL;
    q->tokens = (int64_t)q->cfg.burst * 1000;
    return q;
}

void wq_free(struct wq *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nslots; i++)
        free(q->slots[i]);
    free(q->slots);
    free(q->heap);
    free(q);
}

static void fifo_push(struct wq *q, struct wq_entry *e)
{
    e->next = NULL;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    q->ready++;
}

/* client-go's Add: dedup on dirty; a key being processed waits for done. */
static void mark_dirty(struct wq *q, struct wq_entry *e)
{
    if (e->dirty)
        return;
    e->dirty = 1;
    if (!e->processing)
        fifo_push(q, e);
}

int wq_add(struct wq *q, const char *key)
{
    if (!key_ok(key))
        return -EINVAL;
    if (q->shut)
        return 0;
    struct wq_entry *e;
    int rc = get_or_create(q, key, &e);
    if (rc != 0)
        return rc;
    mark_dirty(q, e);
    return 0;
}

/* Needs heap room reserved when e is not yet delayed. */
static void delay_entry(struct wq *q, struct wq_entry *e, uint64_t delay_ms, uint64_t now_ms)
{
    if (delay_ms == 0) {
        mark_dirty(q, e);
        return;
    }
    /* Saturate below WQ_NO_DEADLINE so a far deadline still reads as one. */
    uint64_t at = now_ms + delay_ms;
    if (at < now_ms || at == WQ_NO_DEADLINE)
        at = WQ_NO_DEADLINE - 1;
    if (e->heap_idx != NO_IDX) {
        if (at < e->ready_at) { /* the earliest deadline wins */
            e->ready_at = at;
            sift_up(q, e->heap_idx);
        }
        return;
    }
    e->ready_at = at;
    e->seq = q->seq++;
    q->heap[q->heap_len] = e;
    e->heap_idx = q->heap_len++;
    sift_up(q, e->heap_idx);
}

/* Entry for key with heap room for it, or -ENOMEM with nothing changed. */
static int prepare_delayed(struct wq *q, const char *key, struct wq_entry **out)
{
    int rc = get_or_create(q, key, out);
    if (rc != 0)
        return rc;
    if ((*out)->heap_idx == NO_IDX && heap_reserve(q) != 0) {
        release_if_idle(q, *out);
        return -ENOMEM;
    }
    return 0;
}

int wq_add_after(struct wq *q, const char *key, uint64_t delay_ms, uint64_t now_ms)
{
    if (!key_ok(key))
        return -EINVAL;
    if (q->shut)
        return 0;
    if (delay_ms == 0)
        return wq_add(q, key);
    struct wq_entry *e;
    int rc = prepare_delayed(q, key, &e);
    if (rc != 0)
        return rc;
    delay_entry(q, e, delay_ms, now_ms);
    return 0;
}

int wq_add_within(struct wq *q, const char *key, uint64_t delay_ms, uint64_t now_ms)
{
    if (!key_ok(key))
        return -EINVAL;
    if (q->shut)
        return 0;
    struct wq_entry *e = find(q, key, hash_key(q->seed, key));
    if (e && e->dirty)
        return 0; /* its processing is still to come and reads the news */
    return wq_add_after(q, key, delay_ms, now_ms);
}

static uint64_t item_backoff(const struct wq_config *c, unsigned failures)
{
    uint64_t d = c->base_delay_ms;
    for (unsigned i = 0; d && i < failures && d < c->max_delay_ms; i++)
        d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
    return d < c->max_delay_ms ? d : c->max_delay_ms;
}

/* Takes one token, going into debt like golang.org/x/time/rate's Reserve;
 * returns how long until that token exists. */
static uint64_t bucket_take(struct wq *q, uint64_t now_ms)
{
    uint64_t qps = q->cfg.qps;
    if (!qps)
        return 0;
    int64_t cap = (int64_t)q->cfg.burst * 1000;
    if (now_ms > q->bucket_at) {
        uint64_t elapsed = now_ms - q->bucket_at;
        uint64_t missing = q->tokens < cap ? (uint64_t)(cap - q->tokens) : 0;
        /* One ms refills qps thousandths; compare first, never overflow. */
        if (elapsed >= missing / qps + 1)
            q->tokens = cap;
        else
            q->tokens += (int64_t)(elapsed * qps);
        q->bucket_at = now_ms;
    }
    q->tokens -= 1000;
    if (q->tokens >= 0)
        return 0;
    return ((uint64_t)-q->tokens + qps - 1) / qps;
}

int wq_add_rate_limited(struct wq *q, const char *key, uint64_t now_ms)
{
    if (!key_ok(key))
        return -EINVAL;
    if (q->shut)
        return 0;
    struct wq_entry *e;
    int rc = prepare_delayed(q, key, &e);
    if (rc != 0)
        return rc;
    /* client-go's MaxOf(per-item exponential, overall bucket). */
    uint64_t d = item_backoff(&q->cfg, e->failures);
    uint64_t b = bucket_take(q, now_ms);
    if (e->failures < UINT_MAX)
        e->failures++;
    delay_entry(q, e, d > b ? d : b, now_ms);
    return 0;
}

void wq_forget(struct wq *q, const char *key)
{
    struct wq_entry *e = lookup(q, key);
    if (!e)
        return;
    e->failures = 0;
    release_if_idle(q, e);
}

unsigned wq_num_requeues(const struct wq *q, const char *key)
{
    struct wq_entry *e = lookup(q, key);
    return e ? e->failures : 0;
}

const char *wq_get(struct wq *q, uint64_t now_ms)
{
    if (q->shut)
        return NULL;
    while (q->heap_len > 0 && q->heap[0]->ready_at <= now_ms)
        mark_dirty(q, heap_pop(q));
    struct wq_entry *e = q->head;
    if (!e)
        return NULL;
    q->head = e->next;
    if (!q->head)
        q->tail = NULL;
    q->ready--;
    e->next = NULL;
    e->dirty = 0;
    e->processing = 1;
    q->processing++;
    return e->key;
}

void wq_done(struct wq *q, const char *key)
{
    struct wq_entry *e = lookup(q, key);
    if (!e || !e->processing)
        return;
    e->processing = 0;
    q->processing--;
    if (e->dirty)
        fifo_push(q, e);
    else
        release_if_idle(q, e);
}

uint64_t wq_next_deadline_ms(const struct wq *q)
{
    return q->heap_len && !q->shut ? q->heap[0]->ready_at : WQ_NO_DEADLINE;
}

size_t wq_len(const struct wq *q)
{
    return q->ready;
}

size_t wq_delayed_len(const struct wq *q)
{
    return q->heap_len;
}

size_t wq_processing_len(const struct wq *q)
{
    return q->processing;
}

void wq_shutdown(struct wq *q)
{
    q->shut = 1;
}
