/*
 * load.h - the load generator, src/load/: simulated traders against a
 * running server (load.c), the sessions held by threads of their own
 * (hold.h) and the bare TCP echo baseline (echo.h).
 *
 * A component outside the exchange's archives: it talks to the server only
 * as any client does, through the admin socket (net/adminsock.h), the
 * password file (server/passwd.h) and SoupBinTCP/OUCH (net/ouchclient.h,
 * shared with `bourse client`).  Its histograms are bench/hist.h.
 */
#ifndef BOURSE_LOAD_LOAD_H
#define BOURSE_LOAD_LOAD_H

#include <stdint.h>
#include <stdio.h>

/* `bourse load ...` (argv[0] is "load"): parse the options (see --help and
 * docs/benchmarks.md), run, print the report; the exit status is 0, 1 when
 * the run saw errors or disconnects, 2 for a bad option. */
int load_main(int argc, char **argv);
/* `bourse load --proto fix ...` (fixload.c): FIX round trips beside OUCH
 * and the TCP echo; load_main hands such a command line over. */
int load_fix_main(int argc, char **argv);
/* `bourse load --proto http ...` (httpload.c): open-loop order round trips
 * over the HTTP API with API keys. */
int load_http_main(int argc, char **argv);

/* Both runs' users are made through the admin socket: read its answers to
 * `cmds` setup commands (each ends with a "." line); 0 when each was OK (or
 * a user that already exists), -1 with the answer said otherwise. */
int load_setup_answers(FILE *r, uint32_t cmds);

#endif
