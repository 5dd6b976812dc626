/*
 * mem.h - allocation of the core's large tables; see mem.c.
 */
#ifndef BOURSE_CORE_MEM_H
#define BOURSE_CORE_MEM_H

#include <stddef.h>

void *bourse__mem_table(size_t n, size_t size);            /* zeroed, like calloc */
void *bourse__mem_retable(void *p, size_t n, size_t size); /* like realloc */
void bourse__mem_advise(void *p, size_t bytes);            /* huge pages, where offered */
void bourse__mem_touch(void *p, size_t bytes);             /* page it all in now */

#endif
