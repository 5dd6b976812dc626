/*
 * check.h - the unit-test harness: no framework, one header.
 *
 * A test is a function; RUN(fn) calls it and prints "ok fn" or one
 * "FAIL file:line: expr" per failed CHECK.  tests/run.sh counts those lines
 * across every test program and prints the suite's "N passed, N failed".
 * A test binary exits non-zero when any check failed.
 */
#ifndef BOURSE_TEST_CHECK_H
#define BOURSE_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures;

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                           \
            check_failures++;                                                                                \
        }                                                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                                                       \
    do {                                                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                                                  \
        if (a_ != b_) {                                                                                      \
            printf("FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, a_, b_);             \
            check_failures++;                                                                                \
        }                                                                                                    \
    } while (0)

#define RUN(fn)                                                                                              \
    do {                                                                                                     \
        int before_ = check_failures;                                                                        \
        fn();                                                                                                \
        if (check_failures == before_)                                                                       \
            printf("ok %s\n", #fn);                                                                          \
    } while (0)

#define CHECK_DONE() (check_failures ? 1 : 0)

#endif
