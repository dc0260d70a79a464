/* check.h - the unit tests' assertions.
 *
 * A failed CHECK prints file:line and the expression and marks the test
 * binary failed, but keeps going so one run shows every broken case.
 * main() ends with `return check_finish();`, which prints
 * "N passed, N failed" and returns non-zero on any failure. */
#ifndef RB_CHECK_H
#define RB_CHECK_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

extern int check_failures;
extern int check_passes;

void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            check_passes++;                                                                        \
        else                                                                                       \
            check_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                    \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        if (check_a_ == check_b_)                                                                  \
            check_passes++;                                                                        \
        else                                                                                       \
            check_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, check_a_, check_b_);  \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0)                               \
            check_passes++;                                                                        \
        else                                                                                       \
            check_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,                   \
                       check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");            \
    } while (0)

/* Substring match, for error messages. */
#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *check_h_ = (hay), *check_n_ = (needle);                                        \
        if (check_h_ && strstr(check_h_, check_n_))                                                \
            check_passes++;                                                                        \
        else                                                                                       \
            check_fail(__FILE__, __LINE__, "%s contains \"%s\": got \"%s\"", #hay, check_n_,       \
                       check_h_ ? check_h_ : "(null)");                                            \
    } while (0)

/* Runs one test function, naming it on failure. */
#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int check_before_ = check_failures;                                                        \
        fn();                                                                                      \
        if (check_failures != check_before_)                                                       \
            fprintf(stderr, "FAILED: %s\n", #fn);                                                  \
    } while (0)

int check_finish(void);

/* Reads a whole file under $RB_TEST_DATA (test/data) into a NUL-terminated
 * malloc'd buffer; the caller frees it. Aborts the test on error. */
char *check_read_data(const char *rel, size_t *len);

#endif
