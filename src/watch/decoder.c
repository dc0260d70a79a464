#include "watch/decoder.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "kjson/kjson.h"

/* Whatever the API server stores, we must be able to read: it accepts JSON
 * nested up to 10000 levels (apimachinery's limit), e.g. in a status or a
 * podTemplate anyone with write access to one object can shape. A lower
 * limit here made one such object stall its whole watch, for every
 * namespace. The event wrapper and a list's items add a few levels. json-c
 * parses iteratively and frees recursively: 10000 levels take well under
 * 1 MiB of stack (checked under ASan), and the tokener's per-level stack
 * is calloc'd, untouched (not resident) until used. */
#define WATCH_MAX_DEPTH KJ_MAX_DEPTH

struct watch_decoder {
    struct json_tokener *tok;
    watch_event_fn fn;
    void *ud;
    size_t max_event;
    size_t event_bytes; /* bytes of the pending event given to tok */
    int pending;        /* inside an event (in tok, held, or both) */
    char *held;         /* bytes taken but not yet given to tok: is_hold() */
    size_t held_len, held_cap;
    int err;            /* sticky result, 0 when usable */
    const char *errmsg; /* static text */
};

static const char *const type_names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};

const char *watch_event_type_name(enum watch_event_type type)
{
    if ((unsigned)type >= sizeof type_names / sizeof type_names[0])
        return "UNKNOWN";
    return type_names[type];
}

struct watch_decoder *watch_decoder_new(watch_event_fn fn, void *ud, size_t max_event_bytes)
{
    struct watch_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->tok = json_tokener_new_ex(WATCH_MAX_DEPTH);
    if (!d->tok) {
        free(d);
        return NULL;
    }
    /* Strict: the server sends plain JSON, so comments, single quotes and
     * the like mean a broken stream. Trailing chars: the next event. */
    json_tokener_set_flags(d->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    d->fn = fn;
    d->ud = ud;
    d->max_event = max_event_bytes ? max_event_bytes : WATCH_DECODER_DEFAULT_MAX;
    d->errmsg = "";
    return d;
}

void watch_decoder_free(struct watch_decoder *d)
{
    if (!d)
        return;
    json_tokener_free(d->tok);
    free(d->held);
    free(d);
}

void watch_decoder_reset(struct watch_decoder *d)
{
    json_tokener_reset(d->tok);
    d->event_bytes = 0;
    d->pending = 0;
    d->held_len = 0;
    d->err = 0;
    d->errmsg = "";
}

const char *watch_decoder_error(const struct watch_decoder *d)
{
    return d->errmsg;
}

static int fail(struct watch_decoder *d, int err, const char *msg)
{
    d->err = err;
    d->errmsg = msg;
    return err;
}

static int parse_type(const char *s, enum watch_event_type *out)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (strcmp(s, type_names[i]) == 0) {
            *out = (enum watch_event_type)i;
            return 0;
        }
    }
    return -EBADMSG;
}

/* Check the event's shape and hand it to the callback. ev is borrowed. */
static int dispatch(struct watch_decoder *d, struct json_object *ev)
{
    struct json_object *t, *obj;
    enum watch_event_type type;
    if (!json_object_is_type(ev, json_type_object))
        return fail(d, -EBADMSG, "watch event is not a JSON object");
    if (!json_object_object_get_ex(ev, "type", &t) || !json_object_is_type(t, json_type_string))
        return fail(d, -EBADMSG, "watch event has no type");
    if (parse_type(json_object_get_string(t), &type) != 0)
        return fail(d, -EBADMSG, "watch event has an unknown type");
    if (!json_object_object_get_ex(ev, "object", &obj) ||
        !json_object_is_type(obj, json_type_object))
        return fail(d, -EBADMSG, "watch event has no object");
    int rc = d->fn(d->ud, type, obj);
    if (rc != 0)
        return fail(d, rc, "stopped by the event handler");
    return 0;
}

static int is_ws(char c)
{
    /* JSON's whitespace, the same set json-c skips. */
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Gives p[0..n) to tok, dispatching each event it completes. */
static int decode(struct watch_decoder *d, const char *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        if (!d->pending) {
            /* Skip separators ourselves so that "pending" means exactly
             * "inside an event", which finish() relies on. */
            while (off < n && is_ws(p[off]))
                off++;
            if (off == n)
                break;
        }
        /* Give tok no more than the event may still use: the limit holds
         * whatever the chunking, and tok never buffers more than it. */
        size_t room = d->max_event - d->event_bytes;
        if (room == 0)
            return fail(d, -E2BIG, "watch event larger than the limit");
        size_t m = n - off;
        if (m > room)
            m = room;
        if (m > INT_MAX)
            m = INT_MAX;

        struct json_object *ev = json_tokener_parse_ex(d->tok, p + off, (int)m);
        enum json_tokener_error je = json_tokener_get_error(d->tok);
        size_t used = json_tokener_get_parse_end(d->tok);
        if (je == json_tokener_continue) {
            if (used == 0) /* cannot happen with m > 0; never spin */
                return fail(d, -EBADMSG, "watch decoder made no progress");
            d->pending = 1;
            d->event_bytes += used;
            off += used;
            continue;
        }
        if (je != json_tokener_success) {
            json_object_put(ev);
            return fail(d, -EBADMSG, json_tokener_error_desc(je));
        }
        off += used;
        d->pending = 0;
        d->event_bytes = 0;
        json_tokener_reset(d->tok);
        /* A bare `null` parses to success with ev == NULL. */
        int rc = ev ? dispatch(d, ev) : fail(d, -EBADMSG, "watch event is not a JSON object");
        json_object_put(ev);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* json-c 0.16 mis-parses a number split across calls when the next call
 * starts with '-': "[1" then "-2]" gives [1] where "[1-2]" is an error
 * (resuming a number, it allows a sign unless the number has an 'e').
 * So no call to tok may end in a digit, '.' or '-' (unless the size limit
 * ends it: nothing follows then). Such a trailing run is held back and
 * given to tok with the bytes after it, up to one that ends a number. */
static int is_hold(char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int hold(struct watch_decoder *d, const char *p, size_t n)
{
    if (d->held_len + n > d->held_cap) {
        size_t cap = d->held_cap ? d->held_cap : 64;
        while (cap < d->held_len + n)
            cap *= 2;
        char *h = realloc(d->held, cap);
        if (!h)
            return fail(d, -ENOMEM, "out of memory");
        d->held = h;
        d->held_cap = cap;
    }
    memcpy(d->held + d->held_len, p, n);
    d->held_len += n;
    d->pending = 1; /* the run may start an event */
    return 0;
}

/* Gives the held run to tok together with the part of buf[0..len) that
 * completes it; *took says how much of buf that was. */
static int flush_held(struct watch_decoder *d, const char *buf, size_t len, size_t *took)
{
    size_t j = 0;
    while (j < len && is_hold(buf[j]))
        j++;
    size_t take = j < len ? j + 1 : len;
    size_t room = d->max_event - d->event_bytes - d->held_len;
    int full = take > room;
    if (full)
        take = room; /* tok gets up to the limit, as if unsplit */
    *took = take;
    int rc = hold(d, buf, take);
    if (rc == 0 && (full || j < len)) {
        size_t n = d->held_len;
        d->held_len = 0;
        rc = decode(d, d->held, n);
    }
    return rc;
}

int watch_decoder_feed(struct watch_decoder *d, const char *buf, size_t len)
{
    if (d->err)
        return d->err;
    size_t off = 0;
    while (off < len) {
        if (d->held_len) {
            size_t took;
            int rc = flush_held(d, buf + off, len - off, &took);
            if (rc != 0)
                return rc;
            off += took;
            continue;
        }
        size_t t = len;
        while (t > off && is_hold(buf[t - 1]))
            t--;
        int rc = decode(d, buf + off, t - off);
        if (rc != 0)
            return rc;
        /* Past the limit, decode() gives tok what fits and fails. */
        if (len - t > d->max_event - d->event_bytes)
            return decode(d, buf + t, len - t);
        if (t < len && (rc = hold(d, buf + t, len - t)) != 0)
            return rc;
        off = len;
    }
    return 0;
}

int watch_decoder_finish(struct watch_decoder *d)
{
    if (d->err)
        return d->err;
    if (d->pending)
        return fail(d, -EBADMSG, "watch stream ended inside an event");
    return 0;
}

const char *watch_event_resource_version(struct json_object *obj)
{
    struct json_object *md, *rv;
    if (!json_object_object_get_ex(obj, "metadata", &md) ||
        !json_object_object_get_ex(md, "resourceVersion", &rv) ||
        !json_object_is_type(rv, json_type_string))
        return NULL;
    return json_object_get_string(rv);
}

int watch_event_initial_events_end(struct json_object *obj)
{
    struct json_object *md, *ann, *v;
    if (!json_object_object_get_ex(obj, "metadata", &md) ||
        !json_object_object_get_ex(md, "annotations", &ann) ||
        !json_object_object_get_ex(ann, "k8s.io/initial-events-end", &v) ||
        !json_object_is_type(v, json_type_string))
        return 0;
    return strcmp(json_object_get_string(v), "true") == 0;
}
