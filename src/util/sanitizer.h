/*
 * sanitizer.h - BOURSE_TSAN is 1 in a ThreadSanitizer build (`make tsan`).
 *
 * For the one place where the server must behave differently under the
 * tool: a gateway's own descriptor table (src/server/handoff.c).  The tool
 * keeps one table of descriptors per process and opens its report file and
 * symbolizer pipes lazily, in whichever table the reporting thread has: in
 * a gateway's own table those numbers are clients' sockets (a report went
 * out to an admin client), the close_range() that empties the new table is
 * not seen, and fd 3 of one table "races" with fd 3 of another.  So under
 * ThreadSanitizer the gateways share the process's table; everything else,
 * handoffs included, runs as in production.  Nothing else may depend on it.
 */
#ifndef BOURSE_UTIL_SANITIZER_H
#define BOURSE_UTIL_SANITIZER_H

#if defined(__SANITIZE_THREAD__)
#define BOURSE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BOURSE_TSAN 1
#endif
#endif
#ifndef BOURSE_TSAN
#define BOURSE_TSAN 0
#endif

#endif
