/*
 * fsnap.h - feed snapshots: the publisher's history at a sequence number,
 * DIR/feed-SEQ.snap beside the core's DIR/snap-SEQ.snap (docs/journal.md).
 *
 * Candles, session volume and trade counts, last trades, the trades tape,
 * order reference and match numbers are all derived from every event since
 * the engine was created, and the core keeps none of them: a restarted
 * server that only seeded its feed from the recovered books (as it once
 * did) drew every chart from zero.  So the feed saves what it built at the
 * seq of each core snapshot, and recovery loads the pair: the engine and
 * the feed both at S, then every command after S replayed through both.
 *
 * What is saved is history only, plus the reference number of each resting
 * order in a canonical order (per symbol, bids then asks, best price first,
 * time priority): the orders themselves are taken from the engine at S,
 * which is the authority, and a digest of (symbol, side, price, shares,
 * ref) over both checks that the feed's book and the engine's agree.
 *
 *     64-byte header: magic "BOURFEED", version, header size, seq,
 *     publisher timestamp, body size, body CRC-32C, the feed's message
 *     count at seq and the seq its numbering starts from (0 and 0 in files
 *     of older builds; fsnap_stream_set/get), header CRC-32C; then the body
 *     (layout in fsnap.c and docs/journal.md).
 *
 * A file is refused as a whole (nothing applied) on any damage or
 * disagreement, with the reason; the caller then rebuilds the history from
 * the journal (persist.c).
 */
#ifndef BOURSE_FEED_FSNAP_H
#define BOURSE_FEED_FSNAP_H

#include "feed/publish.h"

#include <stddef.h>
#include <stdint.h>

#define FSNAP_HEADER 64

/* DIR/feed-SEQ.snap, SEQ in 20 digits like the core's snapshots. */
void fsnap_path(char *out, size_t n, const char *dir, uint64_t seq);

/* p's state (between commands) as a whole file's bytes, *out malloc'd.
 * 0, or -1 when out of memory. */
int fsnap_encode(const pub *p, uint64_t seq, uint8_t **out, size_t *len);

/* The feed's own sequence numbers at the snapshot's seq: `msgs` messages
 * sent since the command `origin`, so that a restarted feed numbers its
 * next message msgs + 1 and a subscriber resumes without a gap (persist.c).
 * set rewrites them into an encoded file (and its header checksum); get
 * reads them from one whose header was checked (fsnap_apply): 0, or -1 when
 * the file does not say (origin 0: written by an older build). */
void fsnap_stream_set(uint8_t *buf, uint64_t msgs, uint64_t origin);
int fsnap_stream_get(const uint8_t *buf, size_t len, uint64_t *msgs, uint64_t *origin);

/*
 * Check the file's bytes (checksums, seq == want_seq, every field in range,
 * symbols, market state and resting orders equal to e's, the engine at that
 * seq) and only then make p, fresh from pub_init, the publisher that was
 * saved: symbols, market state and e's resting orders under their saved
 * refs are published as feed_seed does, then the history is put back.
 * 0, or -1 with the reason in err and p untouched.
 */
int fsnap_apply(pub *p, const uint8_t *buf, size_t len, uint64_t want_seq, const bourse_engine *e, char *err,
                size_t errlen);

/* A whole file: temporary name, fdatasync, rename, directory fsync. */
int fsnap_write(const char *dir, uint64_t seq, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Read a file whole (*buf malloc'd); -1 with err (ENOENT: "missing"). */
int fsnap_read(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen);

/* Remove feed snapshots older than seq that no core snapshot pairs with
 * any more (archived, or its child failed), and leftover temporaries. */
void fsnap_prune(const char *dir, uint64_t seq);

#endif
