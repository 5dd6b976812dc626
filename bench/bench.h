/*
 * bench.h - the benchmark harness, bench/: the public entry points.
 *
 * bench/ is a component of its own, outside the exchange's archives: it is
 * linked into the `bourse` binary (as `bourse bench` and `bourse feed
 * bench`) and into nothing the exchange runs.  It may call every public
 * header of src/ (the core, the journal, the feed) and bench/hist.h is the
 * load generator's histogram too; nothing in src/ includes bench/ except
 * src/load (hist.h) and src/cli (this file).  Each entry point parses its
 * own options (they are the benchmark's interface, documented in
 * docs/benchmarks.md) and returns an exit status: 0, 1 for a failed run,
 * 2 for a bad option.
 */
#ifndef BOURSE_BENCH_BENCH_H
#define BOURSE_BENCH_BENCH_H

/* `bourse bench ...` (argv[0] is "bench"): the matching core's throughput
 * and latency (bench/core.c); `--workload journal` is bench_journal(). */
int bench_main(int argc, char **argv);

/* `bourse bench --workload journal ...`: the journal's append and
 * durability costs (bench/journal.c). */
int bench_journal(int argc, char **argv);

/* `bourse feed bench ...` (argv[0] is "bench"): the market-data publisher
 * and WebSocket fan-out (bench/feed.c). */
int bench_feed(int argc, char **argv);

#endif
