/*
 * stages.h - where an order's time goes inside the server: stage clocks
 * and their histograms.
 *
 * An order's path: a gateway reads it off the socket, puts it in its ring
 * to the engine, the engine takes it, sequences and journals it, applies it
 * and queues its reports; the gateway waits until the journal says it is
 * durable, takes the reports and writes them to the socket.  The clocks:
 *
 *   read      the gateway's loop turn that read it (its one clock read per
 *             turn); carried as 32 low bits in srv_in.t_read and, from the
 *             command to its reports, in srv_out.t_read (padding: the ring
 *             messages did not grow), so any delta under 2 s is exact;
 *   taken     the engine took the batch it is in off the ring;
 *   applied   the engine finished that batch: sequenced, appended to the
 *             journal, applied, its reports queued;
 *   released  the gateway took its reports off the ring (durable by then);
 *   written   the gateway's write of them to the socket returned.
 *
 * taken, applied, released and written are recorded as time since `read`,
 * so they grow along the path and each is at most the round trip the client
 * sees.  Beside them three intervals: `engine` (taken -> applied, the
 * engine's work per batch), `write` (released -> written, the gateway's
 * writing) and `sync` (one fdatasync of the journal by its syncer, the
 * disk's own figure; durability batch only).
 *
 * Each clock is read once per batch, never per order: the engine reads two
 * per batch it takes, the gateway one more per loop turn that released
 * reports.  Per order there is only an addition (its time since `read`,
 * from its stamp); a batch is recorded once, at its orders' mean, weighted
 * by how many they are.  So a stage's mean is exact, its percentiles are
 * those of batch means (a batch's orders waited about alike: they were read
 * about together), and counts are orders (taken, applied, engine) or
 * reports (released, written, write).
 *
 * The engine writes its histograms and each gateway its own (lathist.h:
 * one writer, any reader); a reader merges a stage over every gateway.
 */
#ifndef BOURSE_SERVER_STAGES_H
#define BOURSE_SERVER_STAGES_H

#include "util/lathist.h"

#include <stddef.h>
#include <stdint.h>

enum srv_stage {
    STAGE_TAKEN,
    STAGE_APPLIED,
    STAGE_RELEASED,
    STAGE_WRITTEN,
    STAGE_ENGINE,
    STAGE_WRITE,
    STAGE_SYNC,
    STAGE_N
};

struct srv;

/* The 32-bit stamp of a clock reading (never 0: 0 means "no stamp"), and
 * the ns from stamp `t` to the full reading `now`: exact below 2^31 ns, and
 * 0 when `t` is later (an order the gateway read after the engine's batch
 * began, taken in the same batch). */
static inline uint32_t stage_stamp(int64_t now)
{
    return (uint32_t)now | 1;
}
static inline uint64_t stage_since(uint32_t t, int64_t now)
{
    int32_t d = (int32_t)((uint32_t)now - t);
    return d > 0 ? (uint64_t)d : 0;
}

/* Made by srv_init, freed by srv_free; 0 or -1 (out of memory). */
int stages_init(struct srv *s);
void stages_free(struct srv *s);

/* The engine thread: a batch of n stamped orders, taken at `taken` and
 * finished at `done` (full readings); since_sum: the sum over them of the
 * ns from their read to `taken`. */
void stages_engine_batch(struct srv *s, uint64_t since_sum, int64_t taken, int64_t done, uint64_t n);

/* Gateway `gate`'s thread: n stamped reports released in its loop turn that
 * began at `turn` and written by `written`; since_sum: the sum over them of
 * the ns from their commands' read to `turn`. */
void stages_gate_turn(struct srv *s, uint32_t gate, uint64_t since_sum, int64_t turn, int64_t written,
                      uint64_t n);

/* Any thread.  A stage's name ("taken", ...), a line saying what it
 * measures, and a private copy of its histogram merged over its writers
 * (for the admin socket's `stages` and for an exporter: lathist_count_le
 * gives cumulative buckets). */
const char *stages_name(int stage);
const char *stages_help(int stage);
void stages_read(const struct srv *s, int stage, lathist *out);

/* Start every stage over (each writer clears its own at its next record). */
void stages_reset(struct srv *s);

/* One line per stage, "STAGE name count mean p50 p90 p99 p999 max\n" (ns),
 * into buf; the bytes written (the admin socket's `stages`). */
size_t stages_text(const struct srv *s, char *buf, size_t cap);

#endif
