/*
 * futex.h - sleeping on a 32-bit word until another thread changes it, and
 * waking its sleepers: how the shell's threads wait for each other without a
 * file descriptor (one system call to sleep, one to wake).  Private futexes:
 * the words are never shared between processes.  A wait may end early
 * (a signal, a spurious wake-up), so callers re-check their word.
 */
#ifndef BOURSE_UTIL_FUTEX_H
#define BOURSE_UTIL_FUTEX_H

#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep while *word == expected, at most timeout_ns. */
static inline void futex_wait(void *word, uint32_t expected, int64_t timeout_ns)
{
    struct timespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, &ts, NULL, 0);
}

/* Wake at most n threads sleeping on word. */
static inline void futex_wake(void *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

#endif
