/* watch decoder - split a Kubernetes watch response body into events.
 *
 * The body is a sequence of JSON objects
 *   {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}
 * usually one per line, but HTTP chunks do not line up with them: a chunk
 * may hold part of an event or several. Feed the chunks as they arrive;
 * the callback runs once per complete event, in order.
 *
 *   struct watch_decoder *d = watch_decoder_new(on_event, ctx, 0);
 *   rc = watch_decoder_feed(d, chunk, len);   // per chunk
 *   rc = watch_decoder_finish(d);             // at end of body
 *
 * Errors (negative errno, nothing is logged here; watch_decoder_error()
 * gives a short description for the caller's log line):
 *   -EBADMSG  malformed JSON, an event that is not an object, a missing or
 *             unknown "type", an "object" that is not an object, or (from
 *             finish) a truncated last event;
 *   -E2BIG    one event longer than max_event_bytes;
 *   -ENOMEM.
 * After any non-zero return from feed or finish, including a callback's
 * stop value, the decoder is stuck: feed and finish return that same value
 * until watch_decoder_reset(). The rest of the chunk is not decoded.
 *
 * Strings inside events are not checked to be UTF-8 (json-c's check breaks
 * on characters split across chunks); the API server only sends UTF-8.
 * Not thread-safe; one decoder per stream. */
#ifndef RB_WATCH_DECODER_H
#define RB_WATCH_DECODER_H

#include <stddef.h>

struct json_object;
struct watch_decoder;

enum watch_event_type { WATCH_ADDED, WATCH_MODIFIED, WATCH_DELETED, WATCH_BOOKMARK, WATCH_ERROR };

/* Default for max_event_bytes = 0. Objects are at most ~1.5 MiB in etcd,
 * their JSON somewhat more; this leaves room without trusting the peer. */
#define WATCH_DECODER_DEFAULT_MAX ((size_t)16 * 1024 * 1024)

/* Called once per event. obj is the event's "object" member (always a JSON
 * object; a Status for WATCH_ERROR), borrowed for the duration of the call:
 * json_object_get() it to keep it. Return 0 to continue, or non-zero to
 * stop: feed then returns that value (use values other than the negative
 * errnos above to tell them apart). It must not call this decoder's
 * functions; watch_decoder_free() after feed returns is fine. */
typedef int (*watch_event_fn)(void *ud, enum watch_event_type type, struct json_object *obj);

/* max_event_bytes: limit on one event's encoded size, 0 for the default.
 * Returns NULL on allocation failure. */
struct watch_decoder *watch_decoder_new(watch_event_fn fn, void *ud, size_t max_event_bytes);
void watch_decoder_free(struct watch_decoder *d);

/* Decode len bytes (len may be 0). Returns 0, the callback's stop value, or
 * an error above. */
int watch_decoder_feed(struct watch_decoder *d, const char *buf, size_t len);

/* End of body: 0, or -EBADMSG when a partial event is pending. Whitespace
 * after the last event is fine. */
int watch_decoder_finish(struct watch_decoder *d);

/* Drop any partial event and error; ready for a new stream. */
void watch_decoder_reset(struct watch_decoder *d);

/* Static text describing the last error, "" if none. */
const char *watch_decoder_error(const struct watch_decoder *d);

/* "ADDED", ... ; "UNKNOWN" for out-of-range values. */
const char *watch_event_type_name(enum watch_event_type type);

/* obj.metadata.resourceVersion, borrowed from obj, or NULL when absent or
 * not a string. A reflector saves it after every event, bookmarks
 * included. */
const char *watch_event_resource_version(struct json_object *obj);

/* True for the bookmark that ends the initial events of a streaming list
 * (metadata.annotations["k8s.io/initial-events-end"] == "true"). */
int watch_event_initial_events_end(struct json_object *obj);

#endif
