/*
 * cli.h - the `bourse` subcommands and the small helpers they share.
 *
 * Each subcommand lives in its own file and exports `int cmd_NAME(int argc,
 * char **argv)` (argv[0] is the subcommand's name); the work itself is done
 * by a library of src/ or bench/.  Every subcommand is linked in: a missing
 * one fails the build, not a run.
 */
#ifndef BOURSE_CLI_H
#define BOURSE_CLI_H

#include <stdint.h>
#include <stdio.h>

int cmd_replay(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_journal(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_client(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_feed(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_cluster(int argc, char **argv);

/* Parse a whole decimal option value; exits with status 2 on a bad one. */
uint64_t cli_number(const char *opt, const char *value, uint64_t max);

/* Print "bourse: " and the message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
