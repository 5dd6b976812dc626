/*
 * clock.h - the shell's monotonic clock, in the units its callers count in.
 *
 * Only the shell reads clocks (the core takes time in with each command), and
 * every place that measures an interval or a timeout uses these, so they all
 * agree on the clock and none carries its own copy of the timespec sum.
 */
#ifndef BOURSE_UTIL_CLOCK_H
#define BOURSE_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t mono_us(void)
{
    return mono_ns() / 1000;
}

static inline int64_t mono_ms(void)
{
    return mono_ns() / 1000000;
}

#endif
