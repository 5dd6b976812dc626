/*
 * scan.h - read a data directory's journal from end to end, checking it.
 *
 * Recovery, `bourse journal dump` and `bourse journal verify` all read
 * through here, so they agree on what is sound, what is a torn tail and
 * what is damage:
 *   - segments must be numbered without gaps, with sound headers that agree
 *     (limits, flags) and records whose seqs follow on without a gap;
 *   - the "active" segment is the last one with any data; the ones after it
 *     (made ahead of time) must be empty;
 *   - a bad record (incomplete, failing its checksum, malformed) or stray
 *     bytes after the end in the active segment is a torn tail when no
 *     valid record follows it: it is reported (torn_off, torn_bytes) and
 *     the scan succeeds; anywhere else it is damage and the scan fails
 *     with "PATH: offset N: why".
 */
#ifndef BOURSE_JOURNAL_SCAN_H
#define BOURSE_JOURNAL_SCAN_H

#include "segment.h"

/* Bytes after the last record of the active segment checked for zeros
 * (and searched for valid records after a bad one) by default. */
#define JSCAN_WINDOW (1u << 20)

typedef struct jscan {
    /* in */
    const char *dir;
    uint64_t from_seq;   /* deliver records from this seq on (segments wholly before are skipped) */
    uint64_t zero_check; /* 0: JSCAN_WINDOW; UINT64_MAX: to the end of the file */
    /* Each good record from from_seq on; a non-NULL return stops the scan
     * with that reason at the record's offset. */
    const char *(*on_record)(void *ctx, const bourse_cmd *c);
    void *ctx;

    /* out */
    uint32_t nsegs;        /* segment files (0: no journal yet) */
    uint32_t first_index;  /* of the first segment file */
    uint32_t active_index; /* the last segment with data (first_index when none has) */
    uint32_t last_index;   /* the last segment file */
    seg_header header;     /* of the first segment */
    uint64_t first_seq;    /* of the first segment's first record (0: none, or damaged) */
    uint64_t last_seq;     /* of the last good record (0: none) */
    int64_t last_ts;       /* its timestamp */
    uint64_t records;      /* good records read (including skipped-over ones in read segments) */
    uint64_t active_end;   /* offset after the active segment's last good record */
    rec_prev active_prev;  /* its last good record, the base of the next delta */
    uint64_t active_bytes; /* the active segment's size per its header */
    uint64_t torn_off;     /* offset of a torn tail in the active segment, 0: none */
    uint64_t torn_bytes;   /* its length, to the last nonzero byte checked */
    const char *torn_why;
} jscan;

/* 0 (perhaps with a torn tail), or -1 with err set. */
int jscan_run(jscan *s, char *err, size_t errlen);

#endif
