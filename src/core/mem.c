/*
 * mem.c - the core's large tables: huge pages, and paging them in early.
 *
 * The id map, the level map and the pools are read at random, so with 4 KiB
 * pages nearly every lookup in a large table also misses the TLB.  Tables
 * of 2 MiB and more are therefore advised onto transparent huge pages
 * (where the kernel offers them only on request, as with the common
 * "madvise" setting); this is memory management done while allocating,
 * never on the hot path.
 *
 * Fresh tables stay untouched (calloc), so capacity costs no memory until
 * used.  A shell that would rather pay up front than take page faults while
 * matching calls bourse_engine_prefault(), which writes every page once.
 */
#include "mem.h"

#include <stdint.h>

#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

enum { HUGE_PAGE = 2u << 20, SMALL_PAGE = 4096 };

void bourse__mem_advise(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (!p || bytes < HUGE_PAGE)
        return;
    /* Only whole huge pages inside the block can be backed by one. */
    uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (end > start)
        madvise((void *)start, end - start, MADV_HUGEPAGE); /* advice: failure is harmless */
#else
    (void)p;
    (void)bytes;
#endif
}

void *bourse__mem_table(size_t n, size_t size)
{
    void *p = calloc(n, size);
    bourse__mem_advise(p, n * size);
    return p;
}

void *bourse__mem_retable(void *p, size_t n, size_t size)
{
    void *q = realloc(p, n * size);
    bourse__mem_advise(q, n * size);
    return q;
}

/* Write every page once (with the value it holds) so none faults later. */
void bourse__mem_touch(void *p, size_t bytes)
{
    volatile unsigned char *b = p;
    for (size_t i = 0; p && i < bytes; i += SMALL_PAGE)
        b[i] = b[i];
}
