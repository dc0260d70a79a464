/* wf_util.c - what every wf_*.c uses: the error filler, allocation that
 * aborts on out-of-memory (the project's rule), the DNS label check, and
 * finding a step of a parsed spec by name. */
#include "wf/wf-internal.h"
#include "wf/wf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wf_fail(struct wf_error *err, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err) {
        snprintf(err->reason, sizeof err->reason, "%s", reason);
        /* The analyzer loses va_start when it inlines a variadic callee:
         * NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    va_end(ap);
    return -EINVAL;
}

void *wf_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

char *wf_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

int wf_is_dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (c != '-' || i == 0 || i == n - 1))
            return 0;
    }
    return 1;
}

int wf_step_index(const struct wf_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_steps; i++)
        if (s->steps[i].name && strcmp(s->steps[i].name, name) == 0)
            return (int)i;
    return -1;
}
