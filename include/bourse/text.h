/*
 * text.h - the replay format of shared/spec/replay.md: one command or event
 * per line.  Parsing is strict (every malformed word gets a specific
 * message); formatting prints decimals in their shortest form.  Nothing here
 * allocates or does I/O.
 */
#ifndef BOURSE_TEXT_H
#define BOURSE_TEXT_H

#include "bourse/bourse.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest line bourse_text_format_* can write, newline included. */
#define BOURSE_TEXT_LINE_MAX 192

enum { BOURSE_TEXT_SKIP = 0, BOURSE_TEXT_CMD = 1, BOURSE_TEXT_BAD = -1 };

/*
 * Parse one line (without its newline; a trailing '\r' is ignored).  Returns
 * BOURSE_TEXT_CMD with *out filled (names set, ids not yet resolved: see
 * bourse_engine_resolve), BOURSE_TEXT_SKIP for a blank or comment line, or
 * BOURSE_TEXT_BAD with a one-line reason in err.
 */
int bourse_text_parse(const char *line, size_t len, bourse_cmd *out, char *err, size_t errlen);

/* Write an event as one line ending in '\n'; returns its length.  `cmd` is
 * the command that caused it (it names a user the engine does not know). */
size_t bourse_text_event(const bourse_engine *e, const bourse_cmd *cmd, const bourse_event *ev, char *buf);

/* Write a command back as a replay line ending in '\n' from its names. */
size_t bourse_text_cmd(const bourse_cmd *cmd, char *buf);

/* Shortest decimal of a 1/10,000 amount: 105000 -> "10.5".  Returns length. */
size_t bourse_text_decimal(int64_t v, char *buf);

/* Parsers of single words, for other shells (0 on success). */
int bourse_text_price(const char *s, size_t len, int64_t *out);
int bourse_text_whole(const char *s, size_t len, int64_t max, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
