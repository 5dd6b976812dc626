/*
 * workload.h - deterministic order flow for `bourse bench`.
 *
 * A workload is a setup (symbols, users, deposits and an initial book, all
 * applied untimed) and a list of timed commands generated before any timing
 * starts.  The generator models the book by running the commands through an
 * engine of its own and following the events, so moves and cancels target
 * orders that are really open, and it steers the book towards its target
 * size, price spread and trade rate as it goes (see workload.c).
 */
#ifndef BOURSE_BENCH_WORKLOAD_H
#define BOURSE_BENCH_WORKLOAD_H

#include "bourse/bourse.h"

#include <stdint.h>

/* How order ids are made (see workload.c). */
enum workload_ids { WORKLOAD_IDS_USER, WORKLOAD_IDS_GLOBAL, WORKLOAD_IDS_RANDOM };

typedef struct workload_spec {
    const char *name;
    uint32_t symbols, users;
    uint32_t symbols_per_user; /* each user trades this many symbols */
    uint32_t resting;          /* target open orders, all books together */
    uint32_t levels;           /* target price levels, all books together */
    uint64_t messages;         /* default timed commands */
    const char *about;
    /* The mix in percent of timed commands: GTC orders, IOC orders and
     * cancels; the rest are moves.  All zero: exchange-core's 9/3/6 (82%
     * moves). */
    uint8_t gtc, ioc, cancel;
    uint8_t ids;        /* the default id style (enum workload_ids) */
    uint32_t max_width; /* resting prices at most this many ticks from the centre; 0 = no cap */
} workload_spec;

/* NULL when there is no such workload. */
const workload_spec *workload_find(const char *name);
/* The table of workloads, ending with a zeroed entry. */
extern const workload_spec workload_specs[];

/* What the generation pass saw: the timed commands give the same events in
 * any engine, so these are also what the timed runs see. */
typedef struct workload_stats {
    uint64_t gtc, ioc, cancels, moves; /* commands of each kind */
    uint64_t trade_msgs;               /* commands that traded at least once */
    uint64_t trades, rejects;
    double avg_orders, avg_levels; /* book size, sampled through the run */
} workload_stats;

extern const char *const workload_id_styles[]; /* their names, NULL-terminated */

typedef struct workload {
    workload_spec spec;
    uint64_t seed;
    int ids;             /* enum workload_ids */
    int handles;         /* cancels and moves carry bourse_cmd.order, as a shell that keeps handles */
    uint64_t setup_cmds; /* applied untimed by workload_setup() */
    bourse_cmd *cmds;    /* the timed commands */
    uint64_t n;
    bourse_limits limits; /* engine capacities that fit the run */
    workload_stats stats;
} workload;

/* Generate `messages` timed commands (0 = the spec's default) with order ids
 * in the given style (enum workload_ids), cancels and moves naming their
 * order by handle too when `handles` is set.  Returns 0,
 * -1 when out of memory, or -2 when the setup was refused (a bug). */
int workload_build(workload *w, const workload_spec *spec, uint64_t messages, uint64_t seed, int ids_style,
                   int handles);
void workload_free(workload *w);

/* Apply the untimed setup to a fresh engine made with w->limits; events go to
 * fn.  Returns the number of commands that did not answer OK or ACCEPTED
 * (0 when all is well). */
uint64_t workload_setup(const workload *w, bourse_engine *e, bourse_event_fn fn, void *ctx);

/* After workload_setup: switch every venue rule of replay v2 on for every
 * symbol (tick 0.01, lot 1, maximum quantity and notional, a 100 % band
 * around 100, maker/taker fees paid to a user FEES opened last), set so
 * that no order of the workload is refused: the same commands then measure
 * what checking the rules and charging fees cost.  Returns the number of
 * commands that did not answer OK. */
uint64_t workload_rules_on(const workload *w, bourse_engine *e);

#endif
