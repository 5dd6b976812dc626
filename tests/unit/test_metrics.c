/*
 * test_metrics.c - the metrics' histogram (util/hist.h) and the exposition
 * format's rules (src/server/metrics_text.c): buckets at the bounds they
 * say, cumulative output ending in +Inf == _count, label values escaped,
 * and output that never passes its buffer.  The whole /metrics text of a
 * running server is checked by promtool in tests/sh/metrics.sh.
 */
#include "check.h"
#include "rng.h"
#include "server/metrics.h"
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_hist_bounds(void)
{
    hist h;
    hist_init(&h, 1000);
    CHECK_EQ(hist_bound(&h, 0), 1000);
    CHECK_EQ(hist_bound(&h, 1), 1500);
    CHECK_EQ(hist_bound(&h, 2), 2000);
    CHECK_EQ(hist_bound(&h, 3), 3000);
    CHECK_EQ(hist_bound(&h, 4), 4000);
    CHECK_EQ(hist_index(&h, 0), 0);
    CHECK_EQ(hist_index(&h, 1000), 0);
    CHECK_EQ(hist_index(&h, 1001), 1);
    CHECK_EQ(hist_index(&h, 1500), 1);
    CHECK_EQ(hist_index(&h, 1501), 2);
    CHECK_EQ(hist_index(&h, 2000), 2);
    CHECK_EQ(hist_index(&h, 2001), 3);
    CHECK_EQ(hist_index(&h, 3000), 3);
    CHECK_EQ(hist_index(&h, 3001), 4);
    CHECK_EQ(hist_index(&h, UINT64_MAX), HIST_BOUNDS);
    CHECK_EQ(hist_index(&h, hist_bound(&h, HIST_BOUNDS - 1)), HIST_BOUNDS - 1);
    CHECK_EQ(hist_index(&h, hist_bound(&h, HIST_BOUNDS - 1) + 1), HIST_BOUNDS);
    /* every value lands in the first bucket whose bound is >= it */
    rng_state = 7;
    for (int i = 0; i < 200000; i++) {
        uint64_t v = rnd() >> (rnd() % 64);
        int k = hist_index(&h, v);
        if (k < HIST_BOUNDS)
            CHECK(v <= hist_bound(&h, k));
        else
            CHECK(v > hist_bound(&h, HIST_BOUNDS - 1));
        if (k > 0)
            CHECK(v > hist_bound(&h, k - 1));
    }
    hist one;
    hist_init(&one, 1); /* sizes: 1, 1.5 -> 1 (integer), 2, 3, 4, 6 ... */
    CHECK_EQ(hist_index(&one, 1), 0);
    CHECK_EQ(hist_index(&one, 2), 2);
    CHECK_EQ(hist_index(&one, 3), 3);
    CHECK_EQ(hist_index(&one, 5), 5);
}

/* The value of the first line that starts with `prefix`, or -1. */
static double value_of(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, prefix, n))
            return strtod(p + n, NULL);
    return -1;
}

static void test_hist_render(void)
{
    hist h;
    hist_init(&h, 1000);
    hist_add(&h, 1500);
    hist_add(&h, 1400);
    hist_add(&h, 3000);
    hist_add(&h, 1000000000000ull); /* past every bound: +Inf only */
    hist_snap s;
    hist_read(&h, &s);
    CHECK_EQ(s.count, 4);
    char buf[16384];
    mout o = {.buf = buf, .cap = sizeof buf};
    mout_head(&o, "x_seconds", "histogram", "A test.");
    mout_hist(&o, "x_seconds", "protocol=\"ouch\"", &s, 1e9);
    CHECK(o.len < sizeof buf);
    buf[o.len] = 0;
    CHECK(!strncmp(buf, "# HELP x_seconds A test.\n# TYPE x_seconds histogram\n", 51));
    CHECK(value_of(buf, "x_seconds_bucket{protocol=\"ouch\",le=\"1e-06\"} ") == 0);
    CHECK(value_of(buf, "x_seconds_bucket{protocol=\"ouch\",le=\"1.5e-06\"} ") == 2);
    CHECK(value_of(buf, "x_seconds_bucket{protocol=\"ouch\",le=\"2e-06\"} ") == 2);
    CHECK(value_of(buf, "x_seconds_bucket{protocol=\"ouch\",le=\"3e-06\"} ") == 3);
    CHECK(value_of(buf, "x_seconds_bucket{protocol=\"ouch\",le=\"+Inf\"} ") == 4);
    CHECK(value_of(buf, "x_seconds_count{protocol=\"ouch\"} ") == 4);
    CHECK(value_of(buf, "x_seconds_sum{protocol=\"ouch\"} ") == (1500 + 1400 + 3000 + 1e12) / 1e9);
    /* cumulative: le increases and so do (or stay) the counts, +Inf last */
    double last_le = -1, last_n = -1;
    int buckets = 0, inf_last = 0;
    for (char *p = buf; *p; p = strchr(p, '\n') + 1) {
        if (strncmp(p, "x_seconds_bucket", 16))
            continue;
        char *le = strstr(p, "le=\"") + 4;
        double n = strtod(strstr(p, "} ") + 2, NULL);
        CHECK(n >= last_n);
        last_n = n;
        inf_last = !strncmp(le, "+Inf", 4);
        if (!inf_last) {
            double b = strtod(le, NULL);
            CHECK(b > last_le);
            last_le = b;
        }
        buckets++;
    }
    CHECK_EQ(buckets, HIST_BUCKETS);
    CHECK(inf_last);
    /* no labels: no braces on _sum and _count */
    o = (mout){.buf = buf, .cap = sizeof buf};
    mout_hist(&o, "y", "", &s, 1);
    buf[o.len] = 0;
    CHECK(strstr(buf, "y_bucket{le=\"1000\"} 0\n") != NULL);
    CHECK(strstr(buf, "\ny_count 4\n") != NULL);
    CHECK(strstr(buf, "\ny_sum 1000000005900\n") != NULL);
}

static void test_label_escaping(void)
{
    char buf[64];
    mout o = {.buf = buf, .cap = sizeof buf};
    const char in[] = "a\\b\"c\nd";
    mout_label(&o, in, sizeof in - 1);
    buf[o.len] = 0;
    CHECK(!strcmp(buf, "a\\\\b\\\"c\\nd"));
    /* a fixed-size name (a symbol's 8 bytes) stops at its NUL */
    o = (mout){.buf = buf, .cap = sizeof buf};
    mout_label(&o, "AAPL\0\0\0\0", 8);
    buf[o.len] = 0;
    CHECK(!strcmp(buf, "AAPL"));
}

static void test_never_past_the_buffer(void)
{
    char buf[40];
    memset(buf, 'Z', sizeof buf);
    mout o = {.buf = buf, .cap = 16};
    mout_head(&o, "a_long_metric_name_total", "counter", "Help.");
    mout_label(&o, "\"\"\"\"", 4);
    hist h;
    hist_init(&h, 1);
    hist_snap s;
    hist_read(&h, &s);
    mout_hist(&o, "h", "", &s, 1);
    CHECK(o.len > 16); /* the length the whole text needs */
    for (int i = 16; i < 40; i++)
        CHECK(buf[i] == 'Z');
}

/* A server's whole text (no threads: a zeroed srv, as srv_init leaves it,
 * marked ready) with two extra histograms of one name: every family has
 * one # HELP and one # TYPE, before its samples, and its samples are
 * together; the extras are one family with both label sets. */
static srv server;

static void test_render_families(void)
{
    metrics_init(&server.metrics);
    hist a, b;
    hist_init(&a, 1000);
    hist_init(&b, 1000);
    hist_add(&a, 5000);
    CHECK_EQ(metrics_add_hist(&server, "bourse_stage_seconds", "A stage.", "stage=\"in\"", &a, 1e9), 0);
    CHECK_EQ(metrics_add_hist(&server, "bourse_stage_seconds", "A stage.", "stage=\"out\"", &b, 1e9), 0);
    atomic_store(&server.metrics.ready, 1);
    counter_add(&server.metrics.commands[BOURSE_CMD_ORDER], 7);
    size_t n;
    char *t = metrics_text(&server, &n);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_EQ(strlen(t), n);
    CHECK(strstr(t, "\nbourse_commands_total{type=\"order\"} 7\n") != NULL);
    CHECK(strstr(t, "bourse_stage_seconds_count{stage=\"in\"} 1\n") != NULL);
    CHECK(strstr(t, "bourse_stage_seconds_count{stage=\"out\"} 0\n") != NULL);
    /* families: each declared once, its samples right after it */
    char fam[256][64];
    int nf = 0, heads = 0;
    char cur[64] = "";
    for (char *p = t; *p;) {
        char *nl = strchr(p, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        *nl = 0;
        if (!strncmp(p, "# TYPE ", 7)) {
            sscanf(p + 7, "%63s", cur);
            for (int i = 0; i < nf; i++)
                CHECK(strcmp(fam[i], cur) != 0); /* declared twice */
            if (nf < 256)
                snprintf(fam[nf++], sizeof fam[0], "%s", cur);
        } else if (!strncmp(p, "# HELP ", 7))
            heads++;
        else {
            size_t k = strlen(cur);
            CHECK(k && !strncmp(p, cur, k) && strchr("{ _", p[k])); /* a sample of the family declared last */
        }
        p = nl + 1;
    }
    CHECK_EQ(heads, nf);
    free(t);
}

int main(void)
{
    RUN(test_hist_bounds);
    RUN(test_hist_render);
    RUN(test_label_escaping);
    RUN(test_never_past_the_buffer);
    RUN(test_render_families);
    return CHECK_DONE();
}
