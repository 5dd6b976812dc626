/*
 * evlog.h - a bourse_event_fn that appends each event, as replay text, to a
 * growing NUL-terminated string: for tests that compare whole runs (live
 * against recovered, saved against loaded) or print a book.
 *
 *     evlog l = {.e = engine};
 *     bourse_engine_apply(engine, &cmd, evlog_event, &l);
 *     ... l.s, l.len ...
 *     free(l.s);
 */
#ifndef BOURSE_TEST_EVLOG_H
#define BOURSE_TEST_EVLOG_H

#include "bourse/bourse.h"
#include "bourse/text.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct evlog {
    const bourse_engine *e; /* names the events' ids */
    char *s;
    size_t len, cap;
    uint64_t commands; /* for a caller's own command hook (journal recovery) */
} evlog;

__attribute__((unused)) static void evlog_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    evlog *l = ctx;
    if (l->len + BOURSE_TEXT_LINE_MAX + 1 > l->cap) {
        l->cap = l->cap * 2 + 65536;
        l->s = realloc(l->s, l->cap);
    }
    l->len += bourse_text_event(l->e, cmd, ev, l->s + l->len);
    l->s[l->len] = 0;
}

#endif
