/* The crash hook (src/ctrl/ctrl_crash.c): counted writes, the log the
 * crash driver reads, malformed specs refused, and the process really
 * SIGKILLed before the N-th write or when its answer comes. Without
 * RUNBOOK_TEST_HOOKS (release, memcheck) the hook must do nothing. */
#include "check.h"
#include "ctrl/ctrl-internal.h"
#include "kjson/kjson.h"
#include "informer/inf_cache.h"
#include "kube/kube.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int sent;

static int r_create(void *ud, const struct kube_resource *res, const char *ns,
                    struct json_object *body, kube_cb cb, void *cb_ud)
{
    sent++;
    struct kube_result r = {.err = 0, .http_status = 201};
    cb(cb_ud, &r); /* answered at once */
    return 0;
}

static int r_patch(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                   const char *body, size_t len, const struct kube_patch_opts *po, kube_cb cb,
                   void *cb_ud)
{
    sent++;
    struct kube_result r = {.err = 0, .http_status = 200};
    cb(cb_ud, &r);
    return 0;
}

static int r_delete(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                    struct json_object *body, kube_cb cb, void *cb_ud)
{
    sent++;
    struct kube_result r = {.err = 0, .http_status = 200};
    cb(cb_ud, &r);
    return 0;
}

static int r_get(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                 kube_cb cb, void *cb_ud)
{
    struct kube_result r = {.err = 0, .http_status = 200};
    cb(cb_ud, &r);
    return 0;
}

static int r_list(void *ud, const struct kube_resource *res, const char *ns,
                  const struct kube_list_opts *opts, kube_cb cb, void *cb_ud)
{
    struct kube_result r = {.err = 0, .http_status = 200};
    cb(cb_ud, &r);
    return 0;
}

static const struct ctrl_writer recorder = {r_create, r_patch, r_delete, r_get, r_list, NULL};

#ifdef RUNBOOK_TEST_HOOKS
static int answered;
static void on_answer(void *ud, const struct kube_result *r)
{
    answered++;
}

/* Three writes and a read through a writer wrapped by the hook. */
static void three_writes(struct ctrl_writer *w)
{
    struct json_object *job = kj_obj(), *meta = kj_obj();
    kj_put(meta, "name", kj_str("r1-a"));
    kj_put(job, "metadata", meta);
    w->create(w->ud, &KUBE_JOBS, "ci", job, on_answer, NULL);
    w->get(w->ud, &KUBE_JOBS, "ci", "r1-a", on_answer, NULL);
    w->patch(w->ud, &KUBE_JOBS, "ci", "r1", "{}", 2, NULL, on_answer, NULL);
    w->delete (w->ud, &KUBE_JOBS, "ci", "r1-a", NULL, on_answer, NULL);
    json_object_put(job);
}

static int handled;
static void h_add(void *ud, const void *rec)
{
    handled += ud == &handled;
}
static void h_update(void *ud, const void *o, const void *n)
{
    handled += ud == &handled;
}
static void h_delete(void *ud, const void *rec)
{
    handled += ud == &handled;
}
static const struct inf_handlers inner_handlers = {h_add, h_update, h_delete, NULL};

static struct json_object *job(const char *name, const char *rv)
{
    struct json_object *o = kj_obj(), *meta = kj_obj();
    kj_put(meta, "namespace", kj_str("ci"));
    kj_put(meta, "name", kj_str(name));
    kj_put(meta, "resourceVersion", kj_str(rv));
    kj_put(o, "metadata", meta);
    return o;
}

/* Three watch events (add, update, delete) through handlers wrapped by x. */
static void three_events(struct ctrl_crash *x)
{
    void *ud = &handled;
    const struct inf_handlers *h =
        ctrl_crash_handlers(x, CTRL_INF_JOBS, &inner_handlers, "jobs", &ud);
    struct inf_cache *c = inf_cache_new(&ctrl_obj_projection, h, ud);
    static const enum watch_event_type types[] = {WATCH_ADDED, WATCH_MODIFIED, WATCH_DELETED};
    for (int i = 0; i < 3; i++) {
        char rv[8];
        snprintf(rv, sizeof rv, "%d", i + 1);
        struct json_object *o = job("r1-a", rv);
        inf_cache_apply(c, types[i], o);
        json_object_put(o);
    }
    inf_cache_free(c);
}

/* Runs three_events in a child with RUNBOOK_CRASH_AT=spec; its wait status. */
static int event_child(const char *spec)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct ctrl_writer w = recorder;
        struct ctrl_crash *x = NULL;
        setenv("RUNBOOK_CRASH_AT", spec, 1);
        if (ctrl_crash_wrap(&w, &x) < 0)
            _exit(2);
        handled = 0;
        three_events(x);
        _exit(handled == 3 ? 0 : 3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

/* Runs three_writes in a child with RUNBOOK_CRASH_AT=spec; its wait status. */
static int child(const char *spec)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct ctrl_writer w = recorder;
        struct ctrl_crash *x = NULL;
        setenv("RUNBOOK_CRASH_AT", spec, 1);
        if (ctrl_crash_wrap(&w, &x) < 0)
            _exit(2);
        sent = 0;
        three_writes(&w);
        _exit(sent == 3 ? 0 : 3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}
#endif

int main(void)
{
    struct ctrl_writer w = recorder;
    struct ctrl_crash *x = (struct ctrl_crash *)&w;
    unsetenv("RUNBOOK_CRASH_AT");
    unsetenv("RUNBOOK_CRASH_LOG");
    CHECK_INT(ctrl_crash_wrap(&w, &x), 0); /* nothing asked: nothing wrapped */
    CHECK(x == NULL);
    CHECK(w.create == r_create);
#ifdef RUNBOOK_TEST_HOOKS
    char path[] = "/tmp/test_ctrl_crash.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    setenv("RUNBOOK_CRASH_LOG", path, 1);
    CHECK_INT(ctrl_crash_wrap(&w, &x), 0);
    CHECK(x != NULL);
    answered = sent = 0;
    three_writes(&w);
    CHECK_INT(sent, 3);
    CHECK_INT(answered, 4);
    ctrl_crash_free(x);
    FILE *f = fopen(path, "r");
    char buf[512] = "";
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    CHECK_STR(buf, "1 create jobs ci/r1-a\n2 patch jobs ci/r1\n3 delete jobs ci/r1-a\n");
    /* Events: the inner handlers still run, with their own ud, and each
     * event is logged. */
    CHECK_INT(ctrl_crash_wrap(&w, &x), 0);
    handled = 0;
    three_events(x);
    CHECK_INT(handled, 3);
    ctrl_crash_free(x);
    f = fopen(path, "r");
    n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    CHECK(strstr(buf, "event 1 add jobs ci/r1-a\nevent 2 update jobs ci/r1-a\n"
                      "event 3 delete jobs ci/r1-a\n") != NULL);
    unlink(path);
    unsetenv("RUNBOOK_CRASH_LOG");

    static const char *const bad[] = {"write:0:before", "write:3",          "write:3:later",
                                      "event:0",        "write:3:before:x", "write:-1:after",
                                      "event:3:after",  "event:",           "event:+2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        w = recorder;
        setenv("RUNBOOK_CRASH_AT", bad[i], 1);
        CHECK_INT(ctrl_crash_wrap(&w, &x), -EINVAL);
        CHECK(x == NULL);
    }
    unsetenv("RUNBOOK_CRASH_AT");

    int st = child("write:2:before");
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    st = child("write:3:after");
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    st = child("write:4:before"); /* never reached: the child ends normally */
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    st = event_child("event:2"); /* after the update was applied */
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    st = event_child("event:4");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
#else
    /* No hook compiled: the environment changes nothing. */
    setenv("RUNBOOK_CRASH_AT", "write:1:before", 1);
    CHECK_INT(ctrl_crash_wrap(&w, &x), 0);
    CHECK(x == NULL);
    CHECK(w.create == r_create);
    unsetenv("RUNBOOK_CRASH_AT");
#endif
    return check_finish();
}
