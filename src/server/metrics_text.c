/*
 * metrics_text.c - the Prometheus text exposition format's rules, apart
 * from what is exported (metrics.c), so that a test can hold each rule to
 * account (tests/unit/test_metrics.c) and `promtool check metrics` the
 * whole (tests/sh/metrics.sh).
 *
 * The rules kept here: each metric family has one `# HELP` and one
 * `# TYPE` line before its samples; a label value escapes backslash,
 * double quote and newline; a histogram's buckets are cumulative, in
 * increasing `le`, end with `le="+Inf"` equal to `_count`, and are followed
 * by `_sum` and `_count`.  Numbers are printed with %.15g where they are
 * not integers, and a bound in seconds is ns / 1e9 (not ns * 1e-9), so
 * that 1.5 us is written 1.5e-06, not 1.5000000000000002e-06.
 *
 * The output goes into a caller's buffer and never past it; the length it
 * would have needed is counted on, so that a caller can grow its buffer and
 * render again (metrics_text).
 */
#include "server/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mout_printf(mout *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static void put(mout *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t k = o->cap - o->len > n ? n : o->cap - o->len;
        memcpy(o->buf + o->len, s, k);
    }
    o->len += n;
}

void mout_label(mout *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        switch (s[i]) {
        case '\\': put(o, "\\\\", 2); break;
        case '"': put(o, "\\\"", 2); break;
        case '\n': put(o, "\\n", 2); break;
        default: put(o, &s[i], 1);
        }
    }
}

void mout_head(mout *o, const char *name, const char *type, const char *help)
{
    mout_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A number as the format takes it: an integer plainly, else %.15g. */
static void number(mout *o, double v)
{
    if (v == (double)(int64_t)v && v < 9e15 && v > -9e15)
        mout_printf(o, "%lld", (long long)v);
    else
        mout_printf(o, "%.15g", v);
}

static double scaled(uint64_t v, double div)
{
    return (double)v / div;
}

void mout_hist(mout *o, const char *name, const char *labels, const hist_snap *h, double div)
{
    const char *sep = labels[0] ? "," : "";
    uint64_t cum = 0;
    hist bounds = {.lo = h->lo};
    for (int i = 0; i < HIST_BOUNDS; i++) {
        cum += h->bucket[i];
        mout_printf(o, "%s_bucket{%s%sle=\"", name, labels, sep);
        number(o, scaled(hist_bound(&bounds, i), div));
        mout_printf(o, "\"} %llu\n", (unsigned long long)cum);
    }
    cum += h->bucket[HIST_BOUNDS];
    mout_printf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
    mout_printf(o, "%s_sum%s%s%s ", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "");
    number(o, scaled(h->sum, div));
    mout_printf(o, "\n%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
                (unsigned long long)cum);
}
