/* Tables from a string key to one uint64_t (a time): when a key was queued,
 * until when a Job's accepted DELETE is trusted, when a run's status was
 * last written. One allocation per entry, the key inside it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl-internal.h"

struct stamp {
    uint64_t v;
    char key[]; /* the table's key points here */
};

static void stamp_free(struct lh_entry *e)
{
    free(lh_entry_v(e)); /* the key lives in the value */
}

struct lh_table *ctrl_stamps_new(void)
{
    return lh_kchar_table_new(256, stamp_free);
}

void ctrl_stamps_free(struct lh_table *t)
{
    if (t)
        lh_table_free(t);
}

int ctrl_stamp_set(struct lh_table *t, const char *key, uint64_t v, int keep_min)
{
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

int ctrl_stamp_get(struct lh_table *t, const char *key, uint64_t *v)
{
    struct stamp *s;
    if (!lh_table_lookup_ex(t, key, (void **)&s))
        return 0;
    *v = s->v;
    return 1;
}

void ctrl_stamp_del(struct lh_table *t, const char *key)
{
    lh_table_delete(t, key);
}
