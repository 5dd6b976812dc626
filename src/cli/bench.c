/*
 * bench.c - `bourse bench`: the benchmark harness, bench/ (bench.h).
 */
#include "bench/bench.h"
#include "cli.h"

int cmd_bench(int argc, char **argv)
{
    return bench_main(argc, argv);
}
