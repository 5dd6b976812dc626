/*
 * args.h - the two helpers every command-line entry point shares: an error
 * line on stderr, and a whole decimal option value.
 *
 * They live here, header-only, rather than in src/cli because the tools that
 * parse their own options (bench/, src/load/) must not include src/cli: the
 * cli sits on top of every component and nothing may include it back
 * (scripts/check-includes.sh).  cli_error() and cli_number() are these.
 */
#ifndef BOURSE_UTIL_ARGS_H
#define BOURSE_UTIL_ARGS_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Print "bourse: " and the message to stderr. */
static inline void __attribute__((format(printf, 1, 2))) arg_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bourse: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Parse a whole decimal option value 0..max; exits with status 2 on a bad one. */
static inline uint64_t arg_number(const char *opt, const char *value, uint64_t max)
{
    char *end;
    errno = 0;
    if (!value || !*value || *value == '-') {
        arg_error("%s needs a whole number", opt);
        exit(2);
    }
    unsigned long long v = strtoull(value, &end, 10);
    if (errno || *end || v > max) {
        arg_error("%s: bad number '%s' (0 to %llu)", opt, value, (unsigned long long)max);
        exit(2);
    }
    return v;
}

#endif
