/*
 * echo.h - the TCP echo baseline of `bourse load` (see echo.c).
 */
#ifndef BOURSE_LOAD_ECHO_H
#define BOURSE_LOAD_ECHO_H

#include "bench/hist.h"

#include <stdint.h>

/* Ping-pong round trips into `pingpong`, then 2 s open loop at `rate` over
 * min(conns, 64) connections into `openloop` (skipped when rate is 0). */
void echo_baseline(uint32_t conns, uint64_t rate, hist *pingpong, hist *openloop);

#endif
