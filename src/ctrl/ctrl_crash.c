/* The crash hook at the executor's single write point (test builds only).
 *
 * With RUNBOOK_TEST_HOOKS defined (the asan preset; CMake refuses it in a
 * Release build and `make test` checks the release binary has no trace of
 * it), the environment can make the process die as if SIGKILLed at a
 * chosen write, to prove a restart converges from any point:
 *
 *   RUNBOOK_CRASH_AT=write:N:before   die right before the N-th write is
 *                                     handed to the API client (never sent)
 *   RUNBOOK_CRASH_AT=write:N:after    die when the API server has answered
 *                                     the N-th write, before the executor
 *                                     sees the answer (applied, reply lost)
 *   RUNBOOK_CRASH_AT=event:N          die right after the N-th watch event
 *                                     was applied to the caches (indexes
 *                                     updated, keys enqueued), before any
 *                                     reconcile could act on it
 *   RUNBOOK_CRASH_LOG=FILE            append "N VERB RESOURCE NS/NAME" per
 *                                     write and "event N KIND RESOURCE
 *                                     NS/NAME" per event (the driver counts
 *                                     an undisturbed run's points with it)
 *
 * Writes are counted from 1 in the order the executor hands them over:
 * creates, patches, deletes and Events (reads are not writes). Events are
 * counted from 1 over the four informers in the order their handlers run,
 * relists included (a relist's objects are events to the caches too).
 * Without RUNBOOK_TEST_HOOKS this file is an empty shell: ctrl_crash_wrap
 * does nothing, whatever the environment says. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl-internal.h"
#include "kjson/kjson.h"
#include "kube/kube.h"
#include "log/log.h"

#ifdef RUNBOOK_TEST_HOOKS

struct ctrl_crash;

/* One per informer: the handlers it would have called, and their ud. */
struct crash_inf {
    struct ctrl_crash *x;
    const struct inf_handlers *h;
    void *ud;
    const char *resource;
};

struct ctrl_crash {
    struct ctrl_writer inner;
    unsigned long n, at; /* writes so far; the one to die at (0: none) */
    int after;
    unsigned long events, event_at; /* the same for watch events */
    FILE *log;
    struct crash_inf inf[CTRL_INF_MAX];
};

static void die(const struct ctrl_crash *x, const char *when)
{
    fprintf(stderr, "crash hook: SIGKILL %s write %lu\n", when, x->at);
    fflush(stderr);
    raise(SIGKILL);
}

/* Counts one write; 1 when it is the one to die after. */
static int count(struct ctrl_crash *x, const char *verb, const struct kube_resource *res,
                 const char *ns, const char *name)
{
    x->n++;
    if (x->log) {
        fprintf(x->log, "%lu %s %s %s/%s\n", x->n, verb, res->resource, ns ? ns : "",
                name ? name : "");
        fflush(x->log);
    }
    if (x->at && x->n == x->at && !x->after)
        die(x, "before");
    return x->at && x->n == x->at;
}

static void die_after(void *ud, const struct kube_result *r)
{
    (void)r;
    die(ud, "after the answer to");
}

static int c_create(void *ud, const struct kube_resource *res, const char *ns,
                    struct json_object *body, kube_cb cb, void *cb_ud)
{
    struct ctrl_crash *x = ud;
    const char *name = kj_path_str(body, "metadata", "name", NULL);
    if (count(x, "create", res, ns, name))
        return x->inner.create(x->inner.ud, res, ns, body, die_after, x);
    return x->inner.create(x->inner.ud, res, ns, body, cb, cb_ud);
}

static int c_patch(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                   const char *body, size_t len, const struct kube_patch_opts *po, kube_cb cb,
                   void *cb_ud)
{
    struct ctrl_crash *x = ud;
    if (count(x, "patch", res, ns, name))
        return x->inner.patch(x->inner.ud, res, ns, name, body, len, po, die_after, x);
    return x->inner.patch(x->inner.ud, res, ns, name, body, len, po, cb, cb_ud);
}

static int c_delete(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                    struct json_object *body, kube_cb cb, void *cb_ud)
{
    struct ctrl_crash *x = ud;
    if (count(x, "delete", res, ns, name))
        return x->inner.delete(x->inner.ud, res, ns, name, body, die_after, x);
    return x->inner.delete(x->inner.ud, res, ns, name, body, cb, cb_ud);
}

static int c_get(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                 kube_cb cb, void *cb_ud)
{
    struct ctrl_crash *x = ud;
    return x->inner.get(x->inner.ud, res, ns, name, cb, cb_ud);
}

/* Reads are not crash points: a crash before or after one is a crash
 * before the next write, or after the previous. */
static int c_list(void *ud, const struct kube_resource *res, const char *ns,
                  const struct kube_list_opts *opts, kube_cb cb, void *cb_ud)
{
    struct ctrl_crash *x = ud;
    return x->inner.list(x->inner.ud, res, ns, opts, cb, cb_ud);
}

/* Counts one applied watch event and dies when it is the chosen one. */
static void count_event(struct crash_inf *ci, const char *kind, const void *rec)
{
    struct ctrl_crash *x = ci->x;
    x->events++;
    if (x->log) {
        fprintf(x->log, "event %lu %s %s %s/%s\n", x->events, kind, ci->resource,
                inf_rec_namespace(rec), inf_rec_name(rec));
        fflush(x->log);
    }
    if (x->event_at && x->events == x->event_at) {
        fprintf(stderr, "crash hook: SIGKILL after event %lu\n", x->events);
        fflush(stderr);
        raise(SIGKILL);
    }
}

static void e_add(void *ud, const void *rec)
{
    struct crash_inf *ci = ud;
    if (ci->h->on_add)
        ci->h->on_add(ci->ud, rec);
    count_event(ci, "add", rec);
}

static void e_update(void *ud, const void *old_rec, const void *new_rec)
{
    struct crash_inf *ci = ud;
    if (ci->h->on_update)
        ci->h->on_update(ci->ud, old_rec, new_rec);
    count_event(ci, "update", new_rec);
}

static void e_delete(void *ud, const void *rec)
{
    struct crash_inf *ci = ud;
    if (ci->h->on_delete)
        ci->h->on_delete(ci->ud, rec);
    count_event(ci, "delete", rec);
}

static void e_synced(void *ud)
{
    struct crash_inf *ci = ud;
    if (ci->h->on_synced)
        ci->h->on_synced(ci->ud);
}

static const struct inf_handlers counting = {e_add, e_update, e_delete, e_synced};

const struct inf_handlers *ctrl_crash_handlers(struct ctrl_crash *x, int i,
                                               const struct inf_handlers *h, const char *resource,
                                               void **ud)
{
    if (!x || i < 0 || i >= CTRL_INF_MAX)
        return h;
    x->inf[i] = (struct crash_inf){x, h, *ud, resource};
    *ud = &x->inf[i];
    return &counting;
}

/* N >= 1 from s (no sign); *end past it. -EINVAL if malformed. */
static int parse_count(const char *s, unsigned long *n, char **end)
{
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    *n = strtoul(s, end, 10);
    return errno || *n == 0 ? -EINVAL : 0;
}

/* "write:N:before|after" or "event:N" into x; -EINVAL if malformed. */
static int parse(const char *spec, struct ctrl_crash *x)
{
    char *end = NULL;
    unsigned long n;
    if (strncmp(spec, "event:", 6) == 0) {
        if (parse_count(spec + 6, &n, &end) < 0 || *end)
            return -EINVAL;
        x->event_at = n;
        return 0;
    }
    if (strncmp(spec, "write:", 6) != 0 || parse_count(spec + 6, &n, &end) < 0 || *end != ':')
        return -EINVAL;
    if (strcmp(end + 1, "before") != 0 && strcmp(end + 1, "after") != 0)
        return -EINVAL;
    x->at = n;
    x->after = strcmp(end + 1, "after") == 0;
    return 0;
}

int ctrl_crash_wrap(struct ctrl_writer *w, struct ctrl_crash **out)
{
    const char *at = getenv("RUNBOOK_CRASH_AT"), *path = getenv("RUNBOOK_CRASH_LOG");
    *out = NULL;
    if ((!at || !*at) && (!path || !*path))
        return 0;
    struct ctrl_crash *x = calloc(1, sizeof *x);
    if (!x)
        return -ENOMEM;
    if (at && *at && parse(at, x) < 0) {
        log_kv(LOGL_ERROR, "crash hook: RUNBOOK_CRASH_AT must be write:N:before|after or event:N",
               "value", at, NULL);
        free(x);
        return -EINVAL;
    }
    if (path && *path && !(x->log = fopen(path, "a"))) {
        int e = errno;
        log_kv(LOGL_ERROR, "crash hook: cannot open RUNBOOK_CRASH_LOG", "path", path, "error",
               strerror(e), NULL);
        free(x);
        return -e;
    }
    x->inner = *w;
    *w = (struct ctrl_writer){c_create, c_patch, c_delete, c_get, c_list, x};
    *out = x;
    log_kv(LOGL_WARN, "crash hook armed (test build)", "at", at ? at : "", "log", path ? path : "",
           NULL);
    return 0;
}

void ctrl_crash_free(struct ctrl_crash *x)
{
    if (!x)
        return;
    if (x->log)
        fclose(x->log);
    free(x);
}

#else /* !RUNBOOK_TEST_HOOKS */

int ctrl_crash_wrap(struct ctrl_writer *w, struct ctrl_crash **out)
{
    (void)w;
    *out = NULL;
    return 0;
}

const struct inf_handlers *ctrl_crash_handlers(struct ctrl_crash *x, int i,
                                               const struct inf_handlers *h, const char *resource,
                                               void **ud)
{
    (void)x;
    (void)i;
    (void)resource;
    (void)ud;
    return h;
}

void ctrl_crash_free(struct ctrl_crash *x)
{
    (void)x;
}

#endif
