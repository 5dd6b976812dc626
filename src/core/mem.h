/*
 * mem.h - allocation of the core's large tables; see mem.c.
 */
#ifndef BOURSE_CORE_MEM_H
#define BOURSE_CORE_MEM_H

#include <stddef.h>

void *mem_table(size_t n, size_t size);            /* zeroed, like calloc */
void *mem_retable(void *p, size_t n, size_t size); /* like realloc */
void mem_advise(void *p, size_t bytes);            /* huge pages, where offered */
void mem_touch(void *p, size_t bytes);             /* page it all in now */

#endif
