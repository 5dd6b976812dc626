/*
 * log.h - the server's one log line format, for every part that logs.
 *
 *   2026-12-04 16:52:53.953 bourse: cannot listen on 127.0.0.1:9001: ...
 *
 * `bourse serve` writes its log to standard error, one line per call, local
 * time to the millisecond.  The server (srv_log) and the market-data feed
 * (including the lines libwebsockets emits, which feed.c routes here) use
 * this one function, so an operator's grep or log shipper sees one format,
 * never a library's own.  One write(2) per line: lines of different threads
 * never interleave.
 */
#ifndef BOURSE_UTIL_LOG_H
#define BOURSE_UTIL_LOG_H

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static inline void log_vline(const char *fmt, va_list ap)
{
    char buf[512];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, sizeof buf - n, ".%03ld bourse: ", ts.tv_nsec / 1000000);
    int k = vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
    n = k < 0 ? n : n + (size_t)k >= sizeof buf - 1 ? sizeof buf - 2 : n + (size_t)k;
    while (n > 0 && buf[n - 1] == '\n') /* a library's line brings its own */
        n--;
    buf[n++] = '\n';
    if (write(2, buf, n) < 0) {
        /* nowhere left to report it */
    }
}

static inline void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void log_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(fmt, ap);
    va_end(ap);
}

#endif
