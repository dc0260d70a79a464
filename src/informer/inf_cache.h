/* inf_cache - the informer's store: projected records keyed by
 * namespace/name, and the pure logic that turns watch events and relists
 * into handler calls. No I/O, no loop: the unit tests and the benches drive
 * it directly; inf.c feeds it from the network.
 *
 * Each record lives in one allocation with its key and resourceVersion
 * ("ns\0name\0rv\0" after the record), chained in a power-of-two bucket
 * array: about 50 bytes of overhead per object (header, bucket slot, malloc)
 * plus the strings.
 *
 * Relist diff (store.Replace in client-go), without holding two copies:
 *   inf_cache_replace_begin(c);
 *   for each listed item: inf_cache_replace_item(c, item);  // add / update / unchanged
 *   inf_cache_replace_end(c);                              // on_delete for the rest
 * An item whose resourceVersion equals the cached one is unchanged (no
 * handler call). A relist abandoned half-way is simply begun again. */
#ifndef RB_INF_CACHE_H
#define RB_INF_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "informer/inf.h"
#include "watch/decoder.h"

struct inf_cache;

/* Copies proj and h. NULL on -ENOMEM or a bad projection (see inf_new). */
struct inf_cache *inf_cache_new(const struct inf_projection *proj, const struct inf_handlers *h,
                                void *ud);
/* Releases every record without calling handlers. NULL is fine. */
void inf_cache_free(struct inf_cache *c);

/* Applies one ADDED / MODIFIED / DELETED object (borrowed). ADDED and
 * MODIFIED are both upserts: on_add when new, on_update when the
 * resourceVersion differs, nothing for a duplicate. DELETED of an unknown
 * object does nothing. BOOKMARK and ERROR are ignored (return 0).
 * Returns 0 (a rejected projection included), or -EBADMSG when obj has no
 * usable metadata (name, namespace, resourceVersion), -ENOMEM. */
int inf_cache_apply(struct inf_cache *c, enum watch_event_type type, struct json_object *obj);

void inf_cache_replace_begin(struct inf_cache *c);
/* Same returns as inf_cache_apply. */
int inf_cache_replace_item(struct inf_cache *c, struct json_object *obj);
/* Removes, with on_delete, every record not seen since replace_begin. */
void inf_cache_replace_end(struct inf_cache *c);

const void *inf_cache_get(const struct inf_cache *c, const char *ns, const char *name);
int inf_cache_foreach(const struct inf_cache *c, int (*fn)(void *ud, const void *rec), void *ud);
size_t inf_cache_count(const struct inf_cache *c);
/* Heap bytes of records, keys and buckets (estimated malloc overhead
 * included), excluding what project() allocates. */
size_t inf_cache_bytes(const struct inf_cache *c);

/* The counters this layer keeps; the others in *st are left alone. */
void inf_cache_stats(const struct inf_cache *c, struct inf_stats *st);

/* Handlers may set this to stop a dispatch loop early (inf_close inside a
 * handler): apply and replace_* become no-ops while it is set. */
void inf_cache_mute(struct inf_cache *c, int muted);

#endif
