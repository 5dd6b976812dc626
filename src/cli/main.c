/*
 * main.c - `bourse`, one program with a subcommand per job.
 */
#include "cli.h"
#include "util/args.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct subcommand {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} subcommands[] = {
    {"replay", cmd_replay, "run the matching core on replay-format text"},
    {"bench", cmd_bench, "measure the core's throughput and latency"},
    {"journal", cmd_journal, "dump or verify an event journal"},
    {"snapshot", cmd_snapshot, "write or inspect state snapshots"},
    {"serve", cmd_serve, "run the exchange server"},
    {"admin", cmd_admin, "send commands to a running server"},
    {"top", cmd_top, "live view of a running server: throughput, latency, queues"},
    {"client", cmd_client, "trade through the binary order-entry gateway"},
    {"load", cmd_load, "drive a running server with simulated traders"},
    {"feed", cmd_feed, "follow the market-data feed"},
    {"cluster", cmd_cluster, "run one node of a replicated exchange (Raft)"},
    {"report", cmd_report, "reporting database: history, statements, P&L, audit"},
};

void cli_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    arg_error("%s", msg);
}

uint64_t cli_number(const char *opt, const char *value, uint64_t max)
{
    return arg_number(opt, value, max);
}

static void usage(FILE *f)
{
    fputs("usage: bourse COMMAND [ARGS...]\n\n"
          "Bourse is a stock exchange: a deterministic matching core and the\n"
          "server, journal, gateways and market data around it.\n\ncommands:\n",
          f);
    for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
        fprintf(f, "  %-9s %s\n", subcommands[i].name, subcommands[i].summary);
    fputs("\n`bourse COMMAND --help` explains each command.\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++) {
        if (strcmp(argv[1], subcommands[i].name) != 0)
            continue;
        return subcommands[i].fn(argc - 1, argv + 1);
    }
    cli_error("unknown command '%s' (see bourse --help)", argv[1]);
    return 2;
}
