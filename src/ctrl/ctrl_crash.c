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
 *   RUNBOOK_CRASH_LOG=FILE            append "N VERB RESOURCE NS/NAME" per
 *                                     write (the driver counts the writes
 *                                     of an undisturbed run with it)
 *
 * Writes are counted from 1 in the order the executor hands them over:
 * creates, patches, deletes and Events (reads are not writes). Without
 * RUNBOOK_TEST_HOOKS this file is an empty shell: ctrl_crash_wrap does
 * nothing, whatever the environment says. */
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

struct ctrl_crash {
    struct ctrl_writer inner;
    unsigned long n, at; /* writes so far; the one to die at (0: none) */
    int after;
    FILE *log;
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

/* "write:N:before|after" into x; -EINVAL if malformed. */
static int parse(const char *spec, struct ctrl_crash *x)
{
    if (strncmp(spec, "write:", 6) != 0 || spec[6] < '0' || spec[6] > '9') /* no sign */
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(spec + 6, &end, 10);
    if (errno || n == 0 || *end != ':')
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
        log_kv(LOGL_ERROR, "crash hook: RUNBOOK_CRASH_AT must be write:N:before|after", "value", at,
               NULL);
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
    *w = (struct ctrl_writer){c_create, c_patch, c_delete, c_get, x};
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

void ctrl_crash_free(struct ctrl_crash *x)
{
    (void)x;
}

#endif
