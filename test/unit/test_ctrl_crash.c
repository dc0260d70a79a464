/* The crash hook (src/ctrl/ctrl_crash.c): counted writes, the log the
 * crash driver reads, malformed specs refused, and the process really
 * SIGKILLed before the N-th write or when its answer comes. Without
 * RUNBOOK_TEST_HOOKS (release, memcheck) the hook must do nothing. */
#include "check.h"
#include "ctrl/ctrl-internal.h"
#include "kjson/kjson.h"
#include "kube/kube.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
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

static const struct ctrl_writer recorder = {r_create, r_patch, r_delete, r_get, NULL};

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
    unlink(path);
    unsetenv("RUNBOOK_CRASH_LOG");

    static const char *const bad[] = {"write:0:before", "write:3",          "write:3:later",
                                      "event:3",        "write:3:before:x", "write:-1:after"};
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
