/* The pure half of the elector: the election rule, the change tracker, and
 * the Lease's JSON. No I/O and no clock, so every case is unit-tested. */
#include "lease/lease.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

/* A Lease can claim any leaseDurationSeconds; past a day it is certainly a
 * mistake, and the clamp keeps the millisecond arithmetic far from overflow. */
#define MAX_DURATION_S (24L * 3600)

static const char *nz(const char *s)
{
    return s ? s : "";
}

static long ceil_seconds(long ms)
{
    return ms <= 0 ? 0 : (ms + 999) / 1000;
}

enum lease_action lease_decide(const struct lease_input *in, struct lease_record *out,
                               uint64_t *wait_ms)
{
    const struct lease_record *seen = in->seen;
    if (wait_ms)
        *wait_ms = 0;
    *out = (struct lease_record){
        .holder = in->identity,
        .duration_s = ceil_seconds(in->duration_ms),
        .acquire_time = nz(in->now_time),
        .renew_time = nz(in->now_time),
        .transitions = 0,
    };
    if (!seen)
        return LEASE_CREATE;

    const char *holder = nz(seen->holder);
    if (strcmp(holder, in->identity) == 0) {
        /* Ours (renewing, or held by an earlier run of us under the same
         * identity): keep when we first acquired it and the count. */
        if (seen->acquire_time && seen->acquire_time[0])
            out->acquire_time = seen->acquire_time;
        out->transitions = seen->transitions;
        return LEASE_RENEW;
    }
    if (holder[0]) {
        /* Another holder: expired only once the Lease has stood still for
         * its duration on our clock. The holder's own leaseDurationSeconds
         * wins (a release writes 1), ours stands in when it has none. */
        long s = seen->duration_s > MAX_DURATION_S ? MAX_DURATION_S : seen->duration_s;
        uint64_t dur =
            s > 0 ? (uint64_t)s * 1000 : (uint64_t)(in->duration_ms > 0 ? in->duration_ms : 0);
        uint64_t elapsed = in->now_ms > in->observed_ms ? in->now_ms - in->observed_ms : 0;
        if (elapsed < dur) {
            if (wait_ms)
                *wait_ms = dur - elapsed;
            return LEASE_WAIT;
        }
    }
    /* Free or expired: a takeover. client-go counts a transition whenever
     * the previous holder was not us, a released (empty) one included. */
    out->transitions = seen->transitions + 1;
    return LEASE_ACQUIRE;
}

static int set_str(char **dst, const char *src)
{
    char *c = strdup(nz(src));
    if (!c)
        return -ENOMEM;
    free(*dst);
    *dst = c;
    return 0;
}

void lease_observed_clear(struct lease_observed *o)
{
    free(o->holder);
    free(o->renew_time);
    free(o->resource_version);
    memset(o, 0, sizeof *o);
}

int lease_observe(struct lease_observed *o, const char *holder, const char *renew_time,
                  const char *resource_version, uint64_t now_ms)
{
    if (o->valid && strcmp(o->holder, nz(holder)) == 0 &&
        strcmp(o->renew_time, nz(renew_time)) == 0 &&
        strcmp(o->resource_version, nz(resource_version)) == 0)
        return 0;
    if (set_str(&o->holder, holder) < 0 || set_str(&o->renew_time, renew_time) < 0 ||
        set_str(&o->resource_version, resource_version) < 0) {
        lease_observed_clear(o);
        return -ENOMEM;
    }
    o->changed_ms = now_ms;
    o->valid = 1;
    return 1;
}

/* A string field: absent or null reads as "". */
static int get_str(struct json_object *o, const char *key, const char **out)
{
    struct json_object *v;
    *out = "";
    if (!o || !json_object_object_get_ex(o, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return -EINVAL;
    *out = json_object_get_string(v);
    return 0;
}

static int get_long(struct json_object *o, const char *key, long *out)
{
    struct json_object *v;
    *out = 0;
    if (!o || !json_object_object_get_ex(o, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return -EINVAL;
    int64_t n = json_object_get_int64(v);
    if (n < 0 || n > 0x7fffffff)
        return -EINVAL;
    *out = (long)n;
    return 0;
}

/* The object under key, NULL when absent or null; -EINVAL when not one. */
static int get_obj(struct json_object *o, const char *key, struct json_object **out)
{
    struct json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_object))
        return -EINVAL;
    *out = v;
    return 0;
}

int lease_record_parse(struct json_object *obj, struct lease_record *out, const char **rv)
{
    struct json_object *spec, *meta;
    const char *r = "";
    if (!obj || !json_object_is_type(obj, json_type_object))
        return -EINVAL;
    if (get_obj(obj, "spec", &spec) < 0 || get_obj(obj, "metadata", &meta) < 0 ||
        get_str(meta, "resourceVersion", &r) < 0 ||
        get_str(spec, "holderIdentity", &out->holder) < 0 ||
        get_long(spec, "leaseDurationSeconds", &out->duration_s) < 0 ||
        get_str(spec, "acquireTime", &out->acquire_time) < 0 ||
        get_str(spec, "renewTime", &out->renew_time) < 0 ||
        get_long(spec, "leaseTransitions", &out->transitions) < 0)
        return -EINVAL;
    if (rv)
        *rv = r[0] ? r : NULL;
    return 0;
}

/* Adds v (NULL: an allocation failed) to o, which then owns it.
 * json_object_object_add does not take v when it fails: drop it here. */
static int add(struct json_object *o, const char *key, struct json_object *v)
{
    if (!v)
        return -ENOMEM;
    if (json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        return -ENOMEM;
    }
    return 0;
}

int lease_record_apply(struct json_object *obj, const struct lease_record *r)
{
    struct json_object *spec;
    if (!obj || !json_object_is_type(obj, json_type_object) || get_obj(obj, "spec", &spec) < 0)
        return -EINVAL;
    if (!spec) {
        spec = json_object_new_object();
        if (add(obj, "spec", spec) < 0)
            return -ENOMEM;
    }
    /* Empty times are left out rather than sent as "" (not a MicroTime). */
    int rc = add(spec, "holderIdentity", json_object_new_string(nz(r->holder)));
    if (rc == 0)
        rc = add(spec, "leaseDurationSeconds", json_object_new_int64(r->duration_s));
    if (rc == 0 && r->acquire_time && r->acquire_time[0])
        rc = add(spec, "acquireTime", json_object_new_string(r->acquire_time));
    if (rc == 0 && r->renew_time && r->renew_time[0])
        rc = add(spec, "renewTime", json_object_new_string(r->renew_time));
    if (rc == 0)
        rc = add(spec, "leaseTransitions", json_object_new_int64(r->transitions));
    return rc;
}

struct json_object *lease_object_new(const char *name, const char *ns, const struct lease_record *r)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    struct json_object *meta = json_object_new_object();
    /* metadata goes in first: from then on o owns it and one put frees all. */
    if (add(o, "metadata", meta) < 0 || add(meta, "name", json_object_new_string(name)) < 0 ||
        add(meta, "namespace", json_object_new_string(ns)) < 0 ||
        add(o, "apiVersion", json_object_new_string("coordination.k8s.io/v1")) < 0 ||
        add(o, "kind", json_object_new_string("Lease")) < 0 || lease_record_apply(o, r) < 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

int lease_format_time(int64_t sec, long nsec, char out[LEASE_TIME_LEN])
{
    struct tm tm;
    time_t t = (time_t)sec;
    if (nsec < 0 || nsec >= 1000000000L || (int64_t)t != sec || !gmtime_r(&t, &tm) ||
        tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
        return -EINVAL;
    int n = snprintf(out, LEASE_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec / 1000);
    return n == 27 ? 0 : -EINVAL;
}
