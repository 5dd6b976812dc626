/*
 * segment.h - journal segment files: naming, header, creation, and the scan
 * of one segment's records.
 *
 * A segment is DIR/NNNNNNNN.seg (its index, from 1, in 8 decimal digits): a
 * 64-byte header, then records back to back (record.h), then zeros to the
 * end of the preallocated file.  The header is written once, when the file
 * is made, and never changes: a record's sequence number is coded relative
 * to the record before it in the same segment (the first from zero), so
 * nothing in the header depends on what is later written.
 */
#ifndef BOURSE_JOURNAL_SEGMENT_H
#define BOURSE_JOURNAL_SEGMENT_H

#include "record.h"

#include <stddef.h>
#include <stdint.h>

#define SEG_HEADER 64
#define SEG_MAGIC "BOURSJNL"
#define SEG_VERSION 1u
#define SEG_MIN_BYTES 4096
#define SEG_FLAG_GROW 1u /* the writer grew tables between commands */
#define SEG_PATH_MAX 4096

typedef struct seg_header {
    uint64_t bytes; /* the file's size when made */
    uint32_t index;
    uint32_t flags;
    bourse_limits limits; /* the engine's, for a replay from scratch */
} seg_header;

void seg_header_encode(uint8_t out[SEG_HEADER], const seg_header *h);
/* NULL when the header is sound, else why not. */
const char *seg_header_decode(const uint8_t *buf, size_t len, seg_header *h);

/* DIR/NNNNNNNN.seg */
void seg_path(char *out, size_t n, const char *dir, uint32_t index);

/* The sorted indices of DIR's segment files (*out malloc'd, may be NULL
 * when *n is 0).  0, or -1 with err set. */
int seg_list(const char *dir, uint32_t **out, size_t *n, char *err, size_t errlen);

/* Make segment `index` (header written, rest zeros, `bytes` long) under a
 * temporary name and rename it into place, so no half-made segment is
 * ever seen.  No fsync: the caller syncs the file and the directory before
 * counting anything in it durable.  Returns an open read-write fd, or -1
 * with err set. */
int seg_create(const char *dir, const seg_header *h, char *err, size_t errlen);

/* Map a whole segment file read-only; *len gets the file's size.  NULL with
 * err set on failure. */
uint8_t *seg_map_read(const char *path, size_t *len, char *err, size_t errlen);

/* ---- scanning one segment ---- */

enum seg_status {
    SEG_CLEAN = 0, /* records, then zeros (as far as checked) */
    SEG_BAD,       /* a record at bad_off is incomplete or fails its check */
    SEG_GARBAGE,   /* nonzero bytes at bad_off after the end marker */
};

typedef struct seg_scan {
    int status;       /* enum seg_status */
    uint64_t end;     /* offset just after the last good record */
    uint64_t records; /* good records */
    rec_prev prev;    /* the last good record (seq 0: none) */
    uint64_t first_seq;
    uint64_t bad_off;
    const char *why; /* for SEG_BAD / SEG_GARBAGE */
} seg_scan;

/* The `why` of a record whose seq does not follow on: never a torn tail. */
extern const char seg_why_seq[];

/* Called for each good record; a non-NULL return stops the scan and is the
 * reason for failing at that record's offset. */
typedef const char *(*seg_record_fn)(void *ctx, const bourse_cmd *c, uint64_t off);

/*
 * Scan the records of a mapped segment (buf, len: the whole file, header
 * included).  `expect_seq` is the seq the first record must have (0: any);
 * later ones must follow without a gap.  After the end marker, up to
 * `zero_check` bytes (UINT64_MAX: all) must be zero.  fn may be NULL.
 * Returns 0, or -1 when fn stopped the scan (out->why, out->bad_off say
 * where and why).
 */
int seg_scan_records(const uint8_t *buf, size_t len, uint64_t expect_seq, uint64_t zero_check,
                     seg_record_fn fn, void *ctx, seg_scan *out);

/* Is there a record with a good checksum anywhere in buf[from, to)?  Tells
 * a torn tail (nothing valid after the damage) from damage in the middle. */
int seg_valid_record_after(const uint8_t *buf, size_t from, size_t to);

/* The offset just past the last nonzero byte in buf[from, to), or from. */
size_t seg_dirty_end(const uint8_t *buf, size_t from, size_t to);

#endif
