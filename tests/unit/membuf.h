/*
 * membuf.h - a growing memory buffer behind the core's snapshot stream
 * callbacks (bourse_engine_save's writer, bourse_engine_load's reader), so a
 * test saves an engine and loads it back without a file.
 *
 * The reader refuses a read past what was written (-1), as a short file
 * would; tests truncate `len` or flip bytes in `p` to make damaged streams.
 */
#ifndef BOURSE_TESTS_MEMBUF_H
#define BOURSE_TESTS_MEMBUF_H

#include <stdlib.h>
#include <string.h>

typedef struct buf {
    unsigned char *p;
    size_t len, cap, pos;
} buf;

static inline int buf_write(void *ctx, const void *p, size_t n)
{
    buf *b = ctx;
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static inline int buf_read(void *ctx, void *p, size_t n)
{
    buf *b = ctx;
    if (n > b->len - b->pos)
        return -1;
    memcpy(p, b->p + b->pos, n);
    b->pos += n;
    return 0;
}

#endif
