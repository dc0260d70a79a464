/* Fuzzes the watch decoder (and the Status decoder on ERROR events).
 *
 * Input: byte 0 packs the number of cuts (bits 0-2), the event size limit
 * (bits 3-4) and an event count at which the callback stops (bits 5-7,
 * 0 = never); then two bytes per cut (an offset, taken modulo the stream
 * length); the rest is the stream.
 *
 * Invariant: chunking never changes the outcome. The stream fed whole, cut
 * at the chosen offsets, and (when short) byte at a time must give the
 * same events and the same result; anything else aborts. */
#include "kstatus/kstatus.h"
#include "watch/decoder.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
    int rc;
    int events;
    int stop_at;
    uint64_t sig; /* hash of the event types and a few fields */
};

static void mix(struct outcome *o, uint64_t v)
{
    o->sig = (o->sig ^ v) * 0x100000001b3ULL;
}

static void mix_str(struct outcome *o, const char *s)
{
    mix(o, s ? 1 : 0);
    for (; s && *s; s++)
        mix(o, (unsigned char)*s);
}

static int on_event(void *ud, enum watch_event_type type, struct json_object *obj)
{
    struct outcome *o = ud;
    mix(o, (uint64_t)type + 100);
    mix_str(o, watch_event_resource_version(obj));
    mix(o, (uint64_t)watch_event_initial_events_end(obj));
    if (type == WATCH_ERROR) {
        struct kstatus st;
        int rc = kstatus_parse(obj, &st);
        mix(o, (uint64_t)rc + 1000);
        if (rc == 0) {
            /* Fixed-size fields must come back terminated. */
            if (memchr(st.reason, '\0', sizeof st.reason) == NULL ||
                memchr(st.message, '\0', sizeof st.message) == NULL ||
                memchr(st.status, '\0', sizeof st.status) == NULL)
                abort();
            mix(o, (uint64_t)(unsigned)st.code);
            mix(o, (uint64_t)kstatus_is_gone(&st));
            mix(o, (uint64_t)kstatus_is_too_large_rv(&st));
            mix_str(o, st.reason);
        }
    }
    o->events++;
    return o->stop_at && o->events >= o->stop_at ? 5 : 0;
}

static void run(const char *s, size_t len, const size_t *cuts, int ncuts, size_t limit,
                struct outcome *o)
{
    struct watch_decoder *d = watch_decoder_new(on_event, o, limit);
    if (!d)
        abort();
    size_t from = 0;
    int rc = 0;
    for (int i = 0; i <= ncuts && rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        rc = watch_decoder_feed(d, s + from, to - from);
        from = to;
    }
    if (rc == 0)
        rc = watch_decoder_finish(d);
    o->rc = rc;
    /* Reset then reuse must work after any outcome (when the event fits). */
    static const char ev[] = "{\"type\":\"BOOKMARK\",\"object\":{}}";
    if (limit == 0 || limit >= sizeof ev - 1) {
        watch_decoder_reset(d);
        int before = o->events;
        rc = watch_decoder_feed(d, ev, sizeof ev - 1);
        if (o->events != before + 1 || rc != (o->stop_at && o->events >= o->stop_at ? 5 : 0))
            abort();
    }
    watch_decoder_free(d);
}

static void same(const struct outcome *a, const struct outcome *b)
{
    if (a->rc != b->rc || a->events != b->events || a->sig != b->sig)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t limits[] = {0, 16, 64, 1024};
    if (size < 1)
        return 0;
    int ncuts = data[0] & 7;
    size_t limit = limits[(data[0] >> 3) & 3];
    int stop_at = data[0] >> 5;
    size_t hdr = 1 + 2 * (size_t)ncuts;
    if (size < hdr)
        return 0;
    const char *s = (const char *)data + hdr;
    size_t len = size - hdr;

    size_t cuts[7];
    for (int i = 0; i < ncuts; i++) {
        size_t c = (size_t)data[1 + 2 * i] | (size_t)data[2 + 2 * i] << 8;
        cuts[i] = c % (len + 1);
        for (int j = i; j > 0 && cuts[j] < cuts[j - 1]; j--) {
            size_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    }

    struct outcome whole = {.stop_at = stop_at}, split = {.stop_at = stop_at};
    run(s, len, NULL, 0, limit, &whole);
    run(s, len, cuts, ncuts, limit, &split);
    same(&whole, &split);

    if (len <= 4096) {
        size_t bytes[4096];
        for (size_t i = 0; i < len; i++)
            bytes[i] = i + 1;
        struct outcome each = {.stop_at = stop_at};
        run(s, len, bytes, len > 0 ? (int)len - 1 : 0, limit, &each);
        same(&whole, &each);
    }

    /* The same bytes as an HTTP error body. */
    struct kstatus st;
    (void)kstatus_parse_json(s, len, &st);
    return 0;
}
