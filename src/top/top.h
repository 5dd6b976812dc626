/*
 * top.h - `bourse top`: a live view of a running server for its operators,
 * made from the server's metrics (docs/metrics.md) read each second
 * through its admin socket (`metrics`), so that it needs neither the HTTP
 * port nor Prometheus.
 *
 *   sample.c  one reading of the metrics text, parsed into samples, and
 *             the figures derived from two readings: rates, percentiles
 *             of a histogram's growth between them
 *   view.c    the screen: throughput, round-trip percentiles per protocol,
 *             rings, journal, sessions, busiest symbols, feed, cluster,
 *             memory and CPU per thread, and a chart of p99 over the last
 *             minutes; the loop (ANSI terminal, q or Ctrl-C to leave)
 */
#ifndef BOURSE_TOP_TOP_H
#define BOURSE_TOP_TOP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One sample line of the text: NAME{LABELS} VALUE. */
typedef struct top_sample {
    char name[64];
    char labels[128]; /* as written, without the braces */
    double v;
} top_sample;

typedef struct top_reading {
    top_sample *s;
    size_t n, cap;
    double t; /* when it was read, seconds (monotonic) */
} top_reading;

/* sample.c */
/* Parse an exposition text (comments skipped); 0, or -1 out of memory. */
int top_parse(top_reading *r, const char *text, size_t len);
/* Read the metrics from the server on DIR (admin socket); 0, or -1 with
 * why in err. */
int top_read(top_reading *r, const char *dir, char *err, size_t errlen);
void top_reading_free(top_reading *r);
/* The sum of NAME's samples whose labels contain `has` (NULL: all). */
double top_sum(const top_reading *r, const char *name, const char *has);
/* The value of label `key` in a labels string, into out; 0 or -1. */
int top_label(const char *labels, const char *key, char *out, size_t n);
/* Quantile q (0.5, 0.99) of histogram NAME (with labels containing `has`,
 * summed) over what was added between prev and cur (prev NULL: since the
 * start), in the histogram's unit, interpolated within the bucket; -1
 * when nothing was added. */
double top_quantile(const top_reading *cur, const top_reading *prev, const char *name, const char *has,
                    double q);

/* view.c */
typedef struct top_options {
    const char *dir;
    double interval_s; /* between readings (1) */
    int once;          /* print one view (after two readings) and stop */
    int history;       /* readings the chart keeps (120 at 1 s: two minutes) */
} top_options;

/* Run the view; 0, or 1 when the server could not be read. */
int top_run(const top_options *o, FILE *out);

#endif
