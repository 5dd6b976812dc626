/*
 * record.h - one journal record: a command in binary, checksummed.
 *
 *     len:u8  body[len]  crc:u32le          crc = CRC-32C of len and body
 *     body = seq delta:varint  ts delta:zigzag varint  kind:u8  payload
 *
 * Deltas are taken from the previous record of the same segment (from zero
 * for a segment's first record), so a typical order is about 30 bytes.  A
 * zero `len` byte marks the end of a segment's records: segments are
 * preallocated full of zeros.  The exact layout is in docs/journal.md.
 *
 * Pure code: no I/O, no allocation.  The same validation (rec_check) guards
 * what is written and what is read back, so that a record that decodes can
 * always be applied to an engine whose ids it fits.
 */
#ifndef BOURSE_JOURNAL_RECORD_H
#define BOURSE_JOURNAL_RECORD_H

#include "bourse/bourse.h"

#include <stddef.h>
#include <stdint.h>

#define REC_BODY_MAX 127 /* longest body: the len byte's top bit is reserved */
#define REC_MAX (1 + REC_BODY_MAX + 4)

/* The previous record of the segment, which deltas are taken from. */
typedef struct rec_prev {
    uint64_t seq;
    int64_t ts;
} rec_prev;

/* NULL when `c` can be journaled, else why not (a range or a name the
 * replay format would not accept). */
const char *rec_check(const bourse_cmd *c);

/* Encode a command that passed rec_check into out[REC_MAX]; returns the
 * record's length and moves prev on to it. */
size_t rec_encode(uint8_t *out, const bourse_cmd *c, rec_prev *prev);

enum { REC_END = 0, REC_SHORT = -1, REC_BAD = -2 };

/*
 * Decode the record at buf[0, avail).  Returns its length (> 0) with *c
 * filled (ids as written; user_name/symbol_name only where the record has
 * them) and prev moved on; REC_END at a zero byte; REC_SHORT when the record
 * runs past avail; REC_BAD with a reason in *why when the checksum or the
 * format is wrong.
 */
int rec_decode(const uint8_t *buf, size_t avail, bourse_cmd *c, rec_prev *prev, const char **why);

#endif
