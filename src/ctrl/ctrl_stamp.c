/* Time in the controller: tables from a string key to one uint64_t (a
 * time: when a key was queued, until when an accepted DELETE is trusted,
 * when a run's status was last written; one allocation per entry, the key
 * inside it), the wall clock, and the latency histograms. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctrl/ctrl-internal.h"
#include "kjson/kjson.h"

struct stamp {
    uint64_t v;
    char key[]; /* the table's key points here */
};

struct ctrl_stamps {
    struct lh_table *t;
    unsigned dels;
};

void ctrl_lh_delete(struct lh_table *t, const void *key, unsigned *dels)
{
    if (lh_table_delete(t, key) == 0 && ++*dels >= (unsigned)t->size / 2) {
        (void)lh_table_resize(t, t->size); /* out of memory: the tombstones stay */
        *dels = 0;
    }
}

static void stamp_free(struct lh_entry *e)
{
    free(lh_entry_v(e)); /* the key lives in the value */
}

struct ctrl_stamps *ctrl_stamps_new(void)
{
    struct ctrl_stamps *st = calloc(1, sizeof *st);
    if (st && !(st->t = lh_kchar_table_new(16, stamp_free))) {
        free(st);
        st = NULL;
    }
    return st;
}

void ctrl_stamps_free(struct ctrl_stamps *st)
{
    if (!st)
        return;
    lh_table_free(st->t);
    free(st);
}

int ctrl_stamp_set(struct ctrl_stamps *st, const char *key, uint64_t v, int keep_min)
{
    struct lh_table *t = st->t;
    struct stamp *s;
    if (lh_table_lookup_ex(t, key, (void **)&s)) {
        if (!keep_min || v < s->v)
            s->v = v;
        return 0;
    }
    size_t len = strlen(key) + 1;
    if (!(s = malloc(sizeof *s + len)))
        return -ENOMEM;
    s->v = v;
    memcpy(s->key, key, len);
    if (lh_table_insert(t, s->key, s) != 0) {
        free(s);
        return -ENOMEM;
    }
    return 0;
}

int ctrl_stamp_get(const struct ctrl_stamps *st, const char *key, uint64_t *v)
{
    struct stamp *s;
    if (!st->t->count || !lh_table_lookup_ex(st->t, key, (void **)&s))
        return 0;
    *v = s->v;
    return 1;
}

void ctrl_stamp_del(struct ctrl_stamps *st, const char *key)
{
    if (st->t->count)
        ctrl_lh_delete(st->t, key, &st->dels);
}

size_t ctrl_stamps_count(const struct ctrl_stamps *st)
{
    return (size_t)st->t->count;
}

const double ctrl_hist_bounds[CTRL_HIST_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                    0.1,   0.25,   0.5,   1,    2.5,   10};

void ctrl_hist_observe(struct ctrl_hist *h, double seconds)
{
    h->count++;
    h->sum += seconds;
    for (int i = 0; i < CTRL_HIST_BUCKETS; i++)
        if (seconds <= ctrl_hist_bounds[i])
            h->buckets[i]++;
}

int64_t ctrl_wall_ms(void)
{
    return kj_now_ms();
}
