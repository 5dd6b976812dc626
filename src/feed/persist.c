/*
 * persist.c - the feed's history across restarts: saving it beside each
 * core snapshot, and restoring it while the journal recovers.
 *
 * Why beside the core's snapshots (and not a replay of the whole journal at
 * every start): recovery already loads the core at a snapshot's seq S and
 * replays only what follows, so a feed saved at the same S needs exactly
 * the events that replay produces, and a start costs the same however long
 * the exchange has run.  Replaying from seq 1 would grow with the journal
 * without bound and is impossible once old segments are archived; it is
 * kept only as the repair when the feed's file is missing or damaged.
 *
 * Saving.  The engine thread, having started a core snapshot at S (a fork),
 * puts one REC_SNAPSHOT record in the feed's ring after command S: the only
 * cost to it, and only per snapshot.  The feed thread reaches that record
 * with exactly commands 1..S applied, so what it encodes is consistent with
 * the core's file; encoding is a copy of the history (no file I/O on the
 * feed thread), and a saver thread writes, syncs and renames the file.
 *
 * Restoring (journal_open's hooks, before any thread runs): given the
 * engine at S, load DIR/feed-S.snap (fsnap.c checks it against that
 * engine); then every replayed command's events go through the publisher
 * as they went live.  When S is 0 there is nothing to load: the replay
 * itself shows the feed everything.  A missing or refused file is said
 * once in the log and rebuilt from the journal's start through a scratch
 * engine (journal_replay_prefix), which gives exactly what an uninterrupted
 * server would show, and saved; only when the start of the journal is gone
 * (archived) does the history start empty, as before, said in the log.
 *
 * The feed's sequence numbers go on too.  Each file also holds how many
 * messages the feed had sent at S and the command its numbering started
 * from (its origin, 1 for a whole journal); a restored feed numbers its
 * next message from there, and the replay after S produces exactly the
 * messages the live feed sent (the publisher is a function of the events),
 * so a subscriber that logs in again with the next number it expects gets
 * the rest without a gap, or a snapshot when that number is from before
 * the restart (not held: seq_base).  The SoupBinTCP and MoldUDP64 session
 * name is the origin: it changes only when the history had to start empty.
 */
#include "feed/feed_int.h"
#include "feed/fsnap.h"

#include "journal/journal.h"
#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- saving ------------------------------------------------------------- */

static void *saver_main(void *arg)
{
    feed *f = arg;
    char err[600];
    uint64_t t0 = mono_us();
    if (fsnap_write(f->cfg.data_dir, f->save_seq, f->save_buf, f->save_len, err, sizeof err) != 0) {
        feed_log(f, "history at seq %llu not saved: %s", (unsigned long long)f->save_seq, err);
    } else {
        fsnap_prune(f->cfg.data_dir, f->save_seq);
        feed_log(f, "history saved at seq %llu (%zu bytes, %llu ms)", (unsigned long long)f->save_seq,
                 f->save_len, (unsigned long long)(mono_us() - t0) / 1000);
    }
    free(f->save_buf);
    f->save_buf = NULL;
    return NULL;
}

void persist_join(feed *f)
{
    if (f->saving) {
        pthread_join(f->saver, NULL);
        f->saving = 0;
    }
}

/* A copy of the encoded history for feed_replica_state (the previous one,
 * if never taken, goes). */
static void keep_for_replica(feed *f, uint64_t seq, const uint8_t *buf, size_t len)
{
    uint8_t *copy = malloc(len);
    if (copy)
        memcpy(copy, buf, len);
    else
        feed_log(f, "history at seq %llu not kept for a replica's snapshot: out of memory",
                 (unsigned long long)seq);
    pthread_mutex_lock(&f->replica_mu);
    free(f->replica_buf);
    f->replica_buf = copy;
    f->replica_len = len;
    f->replica_seq = seq;
    pthread_mutex_unlock(&f->replica_mu);
}

void persist_take(feed *f, uint64_t seq, int replica)
{
    if (!f->cfg.data_dir)
        return;
    persist_join(f); /* the previous one: snapshots are millions of commands apart */
    if (fsnap_encode(&f->p, seq, &f->save_buf, &f->save_len) != 0) {
        feed_log(f, "history at seq %llu not saved: out of memory", (unsigned long long)seq);
        return;
    }
    fsnap_stream_set(f->save_buf, f->seq, f->origin);
    f->save_seq = seq;
    if (replica)
        keep_for_replica(f, seq, f->save_buf, f->save_len);
    if (pthread_create(&f->saver, NULL, saver_main, f) == 0)
        f->saving = 1;
    else
        saver_main(f);
}

int feed_replica_state(feed *f, uint64_t seq, int wait_ms, uint8_t **buf, size_t *len)
{
    int64_t until = mono_us() + (int64_t)wait_ms * 1000;
    for (;;) {
        pthread_mutex_lock(&f->replica_mu);
        int have = f->replica_buf && f->replica_seq == seq;
        if (have) {
            *buf = f->replica_buf;
            *len = f->replica_len;
            f->replica_buf = NULL;
        }
        pthread_mutex_unlock(&f->replica_mu);
        if (have)
            return 0;
        if (mono_us() >= until)
            return -1;
        usleep(500); /* the feed thread is a ring behind: microseconds, at most a few ms */
    }
}

int feed_replica_install(const char *dir, uint64_t seq, const void *buf, size_t len, char *err, size_t errlen)
{
    uint64_t msgs, origin;
    if (len < FSNAP_HEADER || fsnap_stream_get(buf, len, &msgs, &origin) != 0) {
        snprintf(err, errlen, "not a feed history with its numbering");
        return -1;
    }
    return fsnap_write(dir, seq, buf, len, err, errlen);
}

/* ---- replaying ---------------------------------------------------------- */

/* The journal hands over commands and events but no end of command: a
 * command with records ends when the next one starts, or at the end. */
static void replay_end(feed_replay *r)
{
    if (r->open)
        pub_apply(r->p, &(feed_rec){.kind = REC_COMMIT, .ts = r->ts});
    r->open = 0;
}

static void replay_command(feed_replay *r, const bourse_cmd *cmd)
{
    replay_end(r);
    r->ts = cmd->ts_ns;
}

static void replay_event(feed_replay *r, const bourse_cmd *cmd, const bourse_event *ev)
{
    feed_rec rec;
    if (feed_rec_make(&rec, cmd, ev)) {
        pub_apply(r->p, &rec);
        r->open = 1;
    }
}

void feed_recover_command(feed *f, const bourse_cmd *cmd)
{
    replay_command(&f->replay, cmd);
}

void feed_recover_event(feed *f, const bourse_cmd *cmd, const bourse_event *ev)
{
    replay_event(&f->replay, cmd, ev);
}

/* ---- restoring ---------------------------------------------------------- */

static void scratch_command(void *ctx, const bourse_cmd *cmd)
{
    replay_command(ctx, cmd);
}

static void scratch_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    replay_event(ctx, cmd, ev);
}

static void count_message(void *ctx, const itch_msg *m)
{
    (void)m;
    ++*(uint64_t *)ctx;
}

/* The feed's numbering from a checked file: message msgs + 1 next, the
 * ones before not held (bin.c, udp.c). */
static int take_numbers(feed *f, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    uint64_t msgs, origin;
    if (fsnap_stream_get(buf, len, &msgs, &origin) != 0) {
        snprintf(err, errlen, "it does not say the feed's message count (an older build's)");
        return -1;
    }
    f->seq = f->seq_base = msgs;
    f->origin = origin;
    return 0;
}

/* The history at seq from the journal's start, applied as if loaded from a
 * file (so it is checked against e the same way), and saved. */
static int rebuild(feed *f, const bourse_engine *e, uint64_t seq, char *err, size_t errlen)
{
    pub scratch;
    uint64_t msgs = 0;
    if (pub_init(&scratch, f->cfg.candle_depth, count_message, &msgs) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    feed_replay r = {.p = &scratch};
    int rc = journal_replay_prefix(f->cfg.data_dir, seq, scratch_command, scratch_event, &r, err, errlen);
    replay_end(&r);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (rc == 0 && scratch.errors) {
        snprintf(err, errlen, "%llu events did not fit the feed's model", (unsigned long long)scratch.errors);
        rc = -1;
    }
    if (rc == 0 && fsnap_encode(&scratch, seq, &buf, &len) != 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    pub_free(&scratch);
    if (rc == 0) {
        fsnap_stream_set(buf, msgs, 1);
        rc = fsnap_apply(&f->p, buf, len, seq, e, err, errlen);
    }
    if (rc == 0)
        rc = take_numbers(f, buf, len, err, errlen);
    char werr[600];
    if (rc == 0 && fsnap_write(f->cfg.data_dir, seq, buf, len, werr, sizeof werr) != 0)
        feed_log(f, "rebuilt history not saved: %s", werr);
    free(buf);
    return rc;
}

/* DIR/feed-SEQ.snap onto the fresh publisher; -1 with the reason. */
static int load(feed *f, const bourse_engine *e, uint64_t seq, const char *path, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    char why[600];
    if (access(path, F_OK) != 0) { /* a core snapshot made without the feed, or a crash between */
        snprintf(err, errlen, "%s: missing", path);
        return -1;
    }
    if (fsnap_read(path, &buf, &len, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    /* the numbers first: a file that lacks them is rebuilt, before p
     * has taken anything */
    uint64_t msgs, origin;
    int rc = fsnap_stream_get(buf, len, &msgs, &origin) != 0 ? -1 : 0;
    if (rc != 0)
        snprintf(why, sizeof why, "it does not say the feed's message count (an older build's)");
    else
        rc = fsnap_apply(&f->p, buf, len, seq, e, why, sizeof why);
    if (rc == 0)
        rc = take_numbers(f, buf, len, why, sizeof why);
    free(buf);
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, why);
    return rc;
}

void feed_recover_begin(feed *f, const bourse_engine *e, uint64_t seq)
{
    f->recovering = 1;
    f->replay = (feed_replay){.p = &f->p};
    f->origin = 1;
    if (!seq)
        return; /* the replay from seq 1 shows the feed everything */
    if (!f->cfg.data_dir) {
        feed_log(f, "no data directory: candles, volume and last trades start empty");
        f->origin = seq + 1;
        return feed_seed(f, e);
    }
    fsnap_prune(f->cfg.data_dir, 0); /* temporaries of a crash while saving */
    char path[4200], err[5000];
    fsnap_path(path, sizeof path, f->cfg.data_dir, seq);
    uint64_t t0 = mono_us();
    if (load(f, e, seq, path, err, sizeof err) == 0) {
        feed_log(f, "history restored from %s (%llu ms)", path, (unsigned long long)(mono_us() - t0) / 1000);
        return;
    }
    feed_log(f, "feed snapshot not used: %s; rebuilding the history from the journal", err);
    t0 = mono_us();
    if (rebuild(f, e, seq, err, sizeof err) == 0) {
        feed_log(f, "history rebuilt from %llu commands of the journal (%llu ms)", (unsigned long long)seq,
                 (unsigned long long)(mono_us() - t0) / 1000);
        return;
    }
    feed_log(f,
             "cannot rebuild the history: %s; candles, volume and last trades start empty, and the feed's "
             "numbering with them (session %010llu)",
             err, (unsigned long long)(seq + 1));
    f->origin = seq + 1;
    feed_seed(f, e);
}

void feed_recover_end(feed *f, const bourse_engine *e)
{
    if (!f->recovering)
        return feed_seed(f, e); /* no journal: the engine is all there is */
    replay_end(&f->replay);
    f->recovering = 0;
    atomic_store(&f->messages, f->seq);
    /* The session names the numbering: the same across restarts while the
     * history goes on, another once it had to start again. */
    snprintf(f->session, sizeof f->session, "%010llu", (unsigned long long)(f->origin % 10000000000ULL));
}
