/*
 * metrics.h - the server's counters and histograms, and their rendering in
 * the Prometheus text exposition format (docs/metrics.md).
 *
 * Who writes what: every counter and histogram here has one writer thread
 * (util/hist.h: a relaxed load and store, no lock, no system call), so the
 * engine thread counts each command and event as it runs it, a gateway
 * thread its own sessions and round trips, the journal's syncer its group
 * commits (journal_sync_hist).  Everything else is read when the metrics
 * are rendered, on whichever thread asks (the admin socket's `metrics`, the
 * HTTP port's GET /metrics): ring depths from the rings' published
 * indices, consumers' positions, the feed's stats, the Raft node's status,
 * the process's memory and each thread's CPU time from /proc.
 *
 * Round trip, per protocol: from the gateway loop's turn in which an order
 * entry message was read (srv_in.recv_ns) to the moment its first report
 * (accepted, rejected, canceled, replaced) is handed to the protocol
 * adapter on its way out (the report is durable by then).  The engine
 * carries recv_ns from the command to that report (srv_out.recv_ns, flag
 * OUT_TIMED) and the gateway adds it to the histogram of the adapter that
 * sent it.
 *
 * Other histograms can join (per-stage latencies): metrics_add_hist names
 * one that some thread keeps, before srv_start, and the renderer exports
 * it with the rest.
 */
#ifndef BOURSE_SERVER_METRICS_H
#define BOURSE_SERVER_METRICS_H

#include "bourse/bourse.h"
#include "util/hist.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct srv;

enum { METRICS_GATES = 16, METRICS_PROTOS = 8, METRICS_SYMBOLS = 1024, METRICS_EXTRA = 16 };
/* The engine thread times one command in this many (two clock reads). */
enum { METRICS_SAMPLE = 64 };

typedef struct metrics_gate {
    _Atomic uint64_t sessions;       /* live order-entry sessions at this gateway */
    _Atomic uint64_t logins;         /* sessions that went live here, ever */
    hist round_trip[METRICS_PROTOS]; /* ns, by the gateway's adapter index */
} metrics_gate;

typedef struct metrics_symbol {
    _Atomic uint64_t orders, trades;
    _Atomic int named; /* name is set (release) */
    bourse_symbol_name name;
} metrics_symbol;

typedef struct metrics_extra {
    const char *name, *help, *labels; /* labels: `stage="journal"` or "" */
    const hist *h;
    double div; /* the histogram's values / div = the exported unit (1e9: ns -> s) */
} metrics_extra;

/* The market-data feed's figures, as the server exports them; the server
 * never includes the feed, so `bourse serve` gives a function that fills
 * this (metrics_set_feed). */
typedef struct metrics_feed {
    uint64_t bin_subscribers, ws_subscribers;
    uint64_t messages;     /* sequenced messages published */
    uint64_t ring_depth;   /* records in the engine -> feed ring not yet taken */
    uint64_t engine_waits; /* times the engine found that ring full */
    uint64_t cut;          /* subscribers cut for falling behind */
    uint64_t udp_dropped;  /* datagrams the kernel would not take */
} metrics_feed;

typedef struct srv_metrics {
    int64_t started_ns;
    /* the engine thread's */
    _Atomic uint64_t commands[BOURSE_CMD_COUNT_];
    _Atomic uint64_t refused; /* commands the journal (or memory) refused */
    _Atomic uint64_t events[BOURSE_EV_COUNT_];
    _Atomic uint64_t last_seq;      /* of the last command run */
    _Atomic uint64_t idle_ns;       /* spent waiting for input */
    _Atomic uint64_t idle_since_ns; /* when it began to wait (0: it runs) */
    hist command_ns; /* one command in METRICS_SAMPLE: resolve, journal append, apply, publish */
    metrics_symbol symbols[METRICS_SYMBOLS];
    /* each gateway thread's */
    metrics_gate gates[METRICS_GATES];
    _Atomic int ready; /* srv_start is done: the gateways and rings may be read */
    /* set before srv_start */
    void (*feed_fn)(void *ctx, metrics_feed *out);
    void *feed_ctx;
    metrics_extra extra[METRICS_EXTRA];
    int nextra;
} srv_metrics;

/* srv_init calls it. */
void metrics_init(srv_metrics *m);

/* Engine thread: one event of a command (counts, busiest symbols). */
static inline void metrics_event(srv_metrics *m, const bourse_engine *e, const bourse_event *ev)
{
    uint32_t symbol_id = ev->symbol;
    if (ev->type < BOURSE_EV_COUNT_)
        counter_add(&m->events[ev->type], 1);
    if (symbol_id >= METRICS_SYMBOLS || (ev->type != BOURSE_EV_ACCEPTED && ev->type != BOURSE_EV_TRADE))
        return;
    metrics_symbol *s = &m->symbols[symbol_id];
    if (!atomic_load_explicit(&s->named, memory_order_relaxed)) { /* once per symbol */
        s->name = *bourse_symbol_name_of(e, symbol_id);
        atomic_store_explicit(&s->named, 1, memory_order_release);
    }
    counter_add(ev->type == BOURSE_EV_TRADE ? &s->trades : &s->orders, 1);
}

/* Before srv_start: also export the market-data feed's figures, which fn
 * (any thread) fills. */
void metrics_set_feed(struct srv *s, void (*fn)(void *ctx, metrics_feed *out), void *ctx);

/* Before srv_start: also export histogram h (kept by some thread as
 * hist_add does), as NAME{labels} (name with its unit: _seconds, ...).
 * 0, or -1 when there are METRICS_EXTRA already. */
int metrics_add_hist(struct srv *s, const char *name, const char *help, const char *labels, const hist *h,
                     double div);

/* The metrics in the text exposition format (version 0.0.4), any thread.
 * Returns the length of the whole text; when that is >= cap, buf holds a
 * truncated part and the caller should retry with a larger buffer. */
size_t metrics_render(struct srv *s, char *buf, size_t cap);

/* The same, in a buffer of its own (malloc; the caller frees), or NULL. */
char *metrics_text(struct srv *s, size_t *len);
/* metrics_render for a callback's void *ctx (http_set_metrics: GET /metrics
 * on the HTTP port); never returns more than cap - 1. */
size_t srv_metrics_render(void *s, char *buf, size_t cap);

/* ---- the parts, for tests and other exporters (metrics_text.c) ---- */

typedef struct mout {
    char *buf;
    size_t cap, len; /* len may pass cap: the length the whole text needs */
} mout;

void mout_printf(mout *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A label value with \, " and newline escaped (the format's rule). */
void mout_label(mout *o, const char *s, size_t n);
/* # HELP and # TYPE lines. */
void mout_head(mout *o, const char *name, const char *type, const char *help);
/* A histogram's series: NAME_bucket{labels,le="..."} (cumulative, +Inf
 * last), NAME_sum and NAME_count; bounds and sum divided by div (1e9: ns
 * to seconds).  labels: ""
 * or `k="v"` pairs already escaped. */
void mout_hist(mout *o, const char *name, const char *labels, const hist_snap *h, double div);

#endif
