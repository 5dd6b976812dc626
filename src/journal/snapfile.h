/*
 * snapfile.h - snapshot files: DIR/snap-SEQ.snap, the engine after command
 * SEQ (20 decimal digits, so names sort by seq).
 *
 *     64-byte header (magic, version, seq, timestamp, engine hash, body
 *     size, body CRC-32C, flags, header CRC-32C), then the body: the
 *     engine's own stream (bourse_engine_save).
 *
 * A snapshot is written to a temporary name, synced and renamed, so a
 * crash leaves either the whole file or none; loading checks both
 * checksums, loads the engine and compares its hash with the header's.
 */
#ifndef BOURSE_JOURNAL_SNAPFILE_H
#define BOURSE_JOURNAL_SNAPFILE_H

#include "bourse/bourse.h"

#include <stddef.h>
#include <stdint.h>

#define SNAP_FILE_HEADER 64

typedef struct snap_info {
    uint64_t seq;
    int64_t ts_ns; /* of command `seq` (0 when seq is 0) */
    uint64_t hash; /* bourse_engine_hash of the saved engine */
    uint64_t body_bytes;
    uint32_t body_crc;
    uint32_t flags; /* SEG_FLAG_GROW */
} snap_info;

void snap_path(char *out, size_t n, const char *dir, uint64_t seq);

/* The seqs of DIR's snapshot files, ascending (*out malloc'd). */
int snap_list(const char *dir, uint64_t **out, size_t *n, char *err, size_t errlen);

/*
 * Write a snapshot of `e` into DIR: temporary file, fdatasync, then
 * fdatasync of each of sync_fds (the journal segments holding commands up
 * to `seq`, so the journal is never behind a snapshot), rename, fsync of
 * the directory.  Uses neither malloc nor stdio streams, so it is safe in a
 * child forked from a threaded process.  0, or -1 with err set.
 */
int snap_save(const char *dir, const bourse_engine *e, const snap_info *info, const int *sync_fds, int nfds,
              char *err, size_t errlen);

/* Read and check a snapshot's header (not its body). */
int snap_read_info(const char *path, snap_info *info, char *err, size_t errlen);

/* Read, check and load a snapshot.  NULL with err set on any damage. */
bourse_engine *snap_load(const char *path, snap_info *info, char *err, size_t errlen);

#endif
