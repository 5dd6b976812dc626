/*
 * top.c - `bourse top --data DIR [--interval S] [--history N] [--once]`:
 * a live view of the server running on DIR (src/top/top.h does the work).
 */
#include "top/top.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void help(FILE *f)
{
    fputs("usage: bourse top [--data DIR] [--interval S] [--history N] [--once]\n\n"
          "A live view of the server running on DIR (default ./data), read\n"
          "through DIR/admin.sock (`metrics`, docs/metrics.md) every S seconds\n"
          "(default 1): commands, orders and trades per second, the engine's\n"
          "busy share, round-trip percentiles (p50, p99, p99.9) per protocol,\n"
          "journal syncs, ring depths, sessions, feed subscribers, consumer and\n"
          "replication lag, the busiest symbols, memory and CPU per thread, and\n"
          "a chart of p99 over the last N intervals (default 120).  Figures are\n"
          "of the last interval.  q or Ctrl-C leaves.  --once prints one view\n"
          "(after two readings S apart) without terminal escapes, and exits.\n",
          f);
}

int cmd_top(int argc, char **argv)
{
    top_options o = {.dir = "data", .interval_s = 1, .history = 120};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        } else if (!strcmp(a, "--once"))
            o.once = 1;
        else if (i + 1 < argc && !strcmp(a, "--data"))
            o.dir = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--history"))
            o.history = (int)cli_number(a, argv[++i], 600);
        else if (i + 1 < argc && !strcmp(a, "--interval")) {
            char *end;
            o.interval_s = strtod(argv[++i], &end);
            if (*end || !(o.interval_s >= 0.05 && o.interval_s <= 3600)) {
                cli_error("--interval: seconds from 0.05 to 3600, not '%s'", argv[i]);
                return 2;
            }
        } else {
            cli_error("top: unknown argument '%s'", a);
            help(stderr);
            return 2;
        }
    }
    return top_run(&o, stdout);
}
