/*
 * lines.h - drive an engine with replay lines in unit tests.
 *
 *     CHECK_LINE(e, "buy alice b1 ACME 10 5", "ACCEPTED alice b1\n");
 *
 * parses the line, resolves its names, applies it and compares every event
 * the engine wrote (as replay text) with the expected text.  Lines that do
 * not parse give "PARSE: reason\n", so a typo in a test shows up as such.
 */
#ifndef BOURSE_TEST_LINES_H
#define BOURSE_TEST_LINES_H

#include "bourse/bourse.h"
#include "bourse/text.h"
#include "check.h"

#include <string.h>

static char lines_out[1 << 16];
static size_t lines_len;

static void lines_event(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    const bourse_engine *e = ctx;
    if (lines_len + BOURSE_TEXT_LINE_MAX < sizeof lines_out)
        lines_len += bourse_text_event(e, c, ev, lines_out + lines_len);
    lines_out[lines_len] = 0;
}

/* Apply one line; the events it caused, as text. */
static const char *apply_line(bourse_engine *e, const char *line)
{
    bourse_cmd c;
    char err[200];
    lines_len = 0;
    lines_out[0] = 0;
    int rc = bourse_text_parse(line, strlen(line), &c, err, sizeof err);
    if (rc != BOURSE_TEXT_CMD) {
        snprintf(lines_out, sizeof lines_out, "PARSE: %s\n", rc == BOURSE_TEXT_SKIP ? "skipped" : err);
        return lines_out;
    }
    bourse_engine_resolve(e, &c);
    bourse_engine_apply(e, &c, lines_event, e);
    return lines_out;
}

/* Apply lines that must each answer OK (setup). */
__attribute__((unused)) static void apply_ok(bourse_engine *e, const char *const *ls)
{
    for (; *ls; ls++) {
        const char *got = apply_line(e, *ls);
        if (strcmp(got, "OK\n") != 0) {
            printf("FAIL setup '%s': %s", *ls, got);
            check_failures++;
        }
    }
}

#define CHECK_LINE(e, line, want)                                                                            \
    do {                                                                                                     \
        const char *got_ = apply_line((e), (line));                                                          \
        if (strcmp(got_, (want)) != 0) {                                                                     \
            printf("FAIL %s:%d: '%s'\n# want:\n%s# got:\n%s", __FILE__, __LINE__, (line), (want), got_);     \
            check_failures++;                                                                                \
        }                                                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                                                      \
    do {                                                                                                     \
        const char *a_ = (a), *b_ = (b);                                                                     \
        if (strcmp(a_, b_) != 0) {                                                                           \
            printf("FAIL %s:%d: %s == %s ('%s' != '%s')\n", __FILE__, __LINE__, #a, #b, a_, b_);             \
            check_failures++;                                                                                \
        }                                                                                                    \
    } while (0)

#endif
