/*
 * journal.c - the writer: sequencer, group commit, segment rollover, the
 * background threads; the API of journal.h.  Opening and recovery are in
 * recover.c, snapshots and archiving in snapshots.c.
 *
 * The engine thread writes each record straight into the mapped segment
 * (rec_encode) and publishes its seq in `written`.  A syncer thread turns
 * `written` into `durable`: it sleeps on a futex while there is nothing to
 * do, is woken by the first record after a sync, waits out the rest of the
 * batch interval (or until batch_records are pending), runs fdatasync and
 * stores the new durable seq.  So the engine thread's only costs per record
 * are the encoding, one atomic store and one atomic load; it makes a system
 * call only to wake an idle syncer, which happens at most once per sync.
 *
 * Segments roll over when the next record might not fit.  The syncer makes
 * the next segment ahead of time (file, preallocation, header, mapping,
 * directory sync), so rollover on the engine thread is a pointer swap; the
 * full segment goes on a `retired` list for the syncer to sync, unmap and
 * close.  Only when the spare is not ready does the engine thread make one
 * itself (creating a file, no sync).
 *
 * A full disk.  When the next segment cannot be made, the journal turns
 * at once into a cheap degraded mode instead of trying again per command:
 * appends are refused without a system call, except cancels and `close`,
 * which go into a reserve kept at the end of every segment (reserve_of);
 * the keeper tries to make the segment again every second, and the first
 * append after it succeeded moves on as usual.  journal_open warns when
 * the disk has room for less than two segments.
 */
#include "journal_int.h"
#include "util/futex.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

enum { SLEEP_AWAKE = 0, SLEEP_IDLE = 1, SLEEP_PACING = 2 };

#define SPACE_RETRY_NS 1000000000 /* a segment that could not be made: again after this */
#define RESERVE_MAX (1u << 20)    /* at most this much of a segment kept for cancels */

/* ---- small helpers ---- */

int64_t journal_realtime_ns(void *ctx)
{
    (void)ctx;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void journal_set_error(journal *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&j->mu);
    vsnprintf(j->error, sizeof j->error, fmt, ap);
    pthread_mutex_unlock(&j->mu);
    va_end(ap);
}

const char *journal_error(const journal *j)
{
    journal *m = (journal *)j;
    pthread_mutex_lock(&m->mu);
    memcpy(m->error_copy, m->error, sizeof m->error_copy);
    pthread_mutex_unlock(&m->mu);
    return m->error_copy;
}

void journal_warn(const journal_config *cfg, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cfg && cfg->on_warning)
        cfg->on_warning(cfg->ctx, msg);
    else
        fprintf(stderr, "bourse: warning: %s\n", msg);
}

/* ---- segments ---- */

jseg *jseg_map(journal *j, int fd, uint32_t index, uint64_t bytes, char *err, size_t errlen)
{
    jseg *s = calloc(1, sizeof *s);
    void *p = s ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "%s/%08u.seg: cannot map: %s", j->dir, index,
                 s ? strerror(errno) : "no memory");
        free(s);
        return NULL;
    }
    s->index = index;
    s->fd = fd;
#ifdef MADV_POPULATE_WRITE
    struct statfs fs;
    s->populate =
        fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
#endif
    s->base = p;
    s->size = bytes;
    s->off = SEG_HEADER;
    return s;
}

/*
 * Fault the segment's pages in ahead of the writer, up to `upto`, so that
 * the page cache allocation and zeroing happen on the syncer thread, not
 * every 4 KiB on the engine thread.  On tmpfs MADV_POPULATE_WRITE maps the
 * pages writable, so the writer takes no fault at all; on a disk file
 * system it would also make them dirty, and every sync would write megabytes
 * of zeros ahead of the data, so there MADV_POPULATE_READ only brings them
 * into the page cache (the writer's fault is then a cheap page_mkwrite).
 * Both leave the contents alone, so they are safe while the writer writes
 * below.  Needs Linux 5.14; elsewhere the writer faults as usual.
 */
void jseg_prefault(jseg *s, uint64_t upto)
{
    if (upto > s->size)
        upto = s->size;
    if (upto <= s->prefaulted)
        return;
#ifdef MADV_POPULATE_WRITE
    uint64_t from = s->prefaulted & ~(uint64_t)4095;
    if (madvise(s->base + from, upto - from, s->populate) != 0) {
        atomic_store_explicit(&s->refault_at, UINT64_MAX,
                              memory_order_relaxed); /* unsupported: stop asking */
        return;
    }
#endif
    s->prefaulted = upto;
    atomic_store_explicit(&s->refault_at, upto > PREFAULT_AHEAD / 2 ? upto - PREFAULT_AHEAD / 2 : 0,
                          memory_order_relaxed);
    if (upto == s->size)
        atomic_store_explicit(&s->refault_at, UINT64_MAX, memory_order_relaxed);
}

void jseg_close(jseg *s)
{
    if (!s)
        return;
    munmap(s->base, s->size);
    close(s->fd);
    free(s);
}

/*
 * [journal] prefill: write the new segment's blocks with zeros and sync
 * them, on the keeper, before the engine thread ever writes there.
 * posix_fallocate alone leaves the blocks "unwritten" (ext4, xfs): the
 * first writeback of each part of the file must convert its extents, a
 * metadata change, so every group commit's fdatasync also commits the file
 * system's journal, and the writeback holds the pages being converted
 * locked meanwhile, which is where the engine thread was seen to wait
 * (block_page_mkwrite -> __folio_lock, 1-2 ms, docs/benchmarks.md).  Over
 * written blocks an fdatasync writes the data and flushes the disk's cache,
 * nothing else.  The price: the segment is written twice (zeros once, ahead
 * of time, off every thread a round trip waits for).
 */
int jseg_fill(int fd, uint64_t bytes)
{
    static const uint8_t zero[1 << 16];
    for (uint64_t at = SEG_HEADER; at < bytes;) {
        size_t n = bytes - at < sizeof zero ? (size_t)(bytes - at) : sizeof zero;
        ssize_t w = pwrite(fd, zero, n, (off_t)at);
        if (w <= 0)
            return -1;
        at += (uint64_t)w;
    }
    return fdatasync(fd);
}

/* Make and map segment `index`; dir_synced says whether its directory
 * entry has been synced; `fill`: prefill it (above; never on the engine
 * thread). */
static jseg *make_segment(journal *j, uint32_t index, int sync_dir, int fill, char *err, size_t errlen)
{
    seg_header h = j->hdr;
    h.index = index;
    h.bytes = j->segment_bytes;
    int fd = seg_create(j->dir, &h, err, errlen);
    if (fd < 0)
        return NULL;
    if (fill && jseg_fill(fd, h.bytes) != 0) {
        snprintf(err, errlen, "%.200s/%08u.seg: cannot fill: %s", j->dir, index,
                 strerror(errno ? errno : EIO));
        close(fd);
        char path[SEG_PATH_MAX];
        seg_path(path, sizeof path, j->dir, index);
        unlink(path);
        return NULL;
    }
    jseg *s = jseg_map(j, fd, index, h.bytes, err, errlen);
    if (!s) {
        close(fd);
        return NULL;
    }
    if (sync_dir && fsync(j->dirfd) == 0)
        s->dir_synced = 1;
    jseg_prefault(s, PREFAULT_AHEAD);
    return s;
}

/* The data of segment s up to now, and its directory entry, to disk. */
static int sync_segment(journal *j, jseg *s)
{
    while (j->stall && access(j->stall, F_OK) == 0) /* a test's slow disk (journal_int.h) */
        usleep(10000);
    if (fdatasync(s->fd) != 0) {
        journal_set_error(j, "%s/%08u.seg: fdatasync: %s", j->dir, s->index, strerror(errno));
        return -1;
    }
    if (!s->dir_synced) {
        if (fsync(j->dirfd) != 0) {
            journal_set_error(j, "%s: fsync: %s", j->dir, strerror(errno));
            return -1;
        }
        s->dir_synced = 1;
    }
    return 0;
}

/* Why there is no next segment, in words an operator can act on. */
static void space_error(journal *j, const char *err)
{
    snprintf(j->error, sizeof j->error,
             "%s (disk full?): new orders are refused, cancels still taken from the segment's reserve; "
             "trying again every second",
             err);
}

/*
 * Engine thread: switch to the next segment.  0, or -1 (error set).
 *
 * When the keeper could not make the spare (a full disk), the engine
 * thread does not try again itself: making a segment means allocating its
 * whole size, which on a nearly full disk takes tens of milliseconds before
 * it fails, and every refused command would pay it again (issue #19: 19 to
 * 42 refusals a second, every other user waiting behind them).  It refuses
 * at once instead, and the keeper tries again on its timer.
 */
static int rollover(journal *j)
{
    char err[300];
    pthread_mutex_lock(&j->mu);
    while (!j->spare && j->making && !j->space_failed)
        pthread_cond_wait(&j->made, &j->mu);
    jseg *next = j->spare;
    j->spare = NULL;
    if (!next) {
        if (j->making || mono_ns() < j->spare_retry_ns) { /* failed lately: the keeper's turn */
            pthread_mutex_unlock(&j->mu);
            return -1;
        }
        j->making = 1;
        pthread_mutex_unlock(&j->mu);
        next = make_segment(j, j->cur->index + 1, j->durability == JOURNAL_SYNC, 0, err, sizeof err);
        pthread_mutex_lock(&j->mu);
        j->making = 0;
        if (!next) {
            space_error(j, err);
            j->space_failed = 1;
            j->spare_retry_ns = mono_ns() + SPACE_RETRY_NS;
            pthread_mutex_unlock(&j->mu);
            return -1;
        }
    }
    j->space_failed = 0;
    j->cur->retired_next = j->retired;
    j->retired = j->cur;
    j->cur = next;
    pthread_mutex_unlock(&j->mu);
    j->prev = (rec_prev){0, 0};
    journal_kick_keeper(j); /* a new spare, and the full segment unmapped */
    return 0;
}

/*
 * The reserve: the end of every segment is kept for commands that take
 * risk off the market (cancels; closing the market), so that when no next
 * segment can be made traders can still pull their orders.  Normally the
 * writer moves to the spare before reaching it; only when there is none do
 * those commands (and no others) write into it.
 */
static uint64_t reserve_of(uint64_t size)
{
    uint64_t r = size / 16;
    return r < RESERVE_MAX ? r : RESERVE_MAX;
}

static int may_use_reserve(const bourse_cmd *c)
{
    return c->type == BOURSE_CMD_CANCEL || c->type == BOURSE_CMD_CLOSE;
}

/* ---- appending ---- */

/* The writer is nearing the end of the prefaulted pages: wake the keeper
 * (once; it moves refault_at on). */
static void ask_prefault(journal *j, jseg *s)
{
    atomic_store_explicit(&s->refault_at, UINT64_MAX, memory_order_relaxed);
    journal_kick_keeper(j);
}

uint64_t journal_append(journal *j, bourse_cmd *c)
{
    if (atomic_load_explicit(&j->failed, memory_order_relaxed))
        return 0; /* syncing failed: nothing more could ever become durable */
    const char *why = rec_check(c);
    if (why) {
        journal_set_error(j, "command not journaled: %s", why);
        return 0;
    }
    jseg *s = j->cur;
    if (s->off + REC_MAX + reserve_of(s->size) > s->size && rollover(j) != 0) {
        if (!may_use_reserve(c) || s->off + REC_MAX > s->size)
            return 0; /* journal_error says why */
    }
    s = j->cur;
    /* A segment is made with room for its header and far more than one
     * record, and the reserve is used only where one record still fits:
     * the record always fits. */
    assert(s->off + REC_MAX <= s->size);
    uint64_t seq = j->last_seq + 1;
    c->seq = seq;
    c->ts_ns = j->clock_ns(j->clock_ctx);
    uint64_t at = s->off;
    __atomic_store_n(&s->off, at + rec_encode(s->base + at, c, &j->prev), __ATOMIC_RELAXED);
    j->last_seq = seq;
    j->last_ts = c->ts_ns;
    if (s->off > atomic_load_explicit(&s->refault_at, memory_order_relaxed))
        ask_prefault(j, s);
    switch (j->durability) {
    case JOURNAL_BATCH: {
        /* seq_cst store, then load: pairs with the syncer's store of
         * `sleeping` and load of `written`, so a wake-up is never lost. */
        atomic_store(&j->written, seq);
        uint32_t sl = atomic_load(&j->sleeping);
        if (sl == SLEEP_IDLE ||
            (sl == SLEEP_PACING &&
             seq - atomic_load_explicit(&j->durable, memory_order_relaxed) >= j->batch_records)) {
            if (atomic_exchange(&j->sleeping, SLEEP_AWAKE) != SLEEP_AWAKE)
                futex_wake(&j->sleeping, 1);
        }
        break;
    }
    case JOURNAL_SYNC: {
        uintptr_t page = (uintptr_t)(s->base + at) & ~(uintptr_t)4095;
        if (msync((void *)page, (size_t)((uintptr_t)(s->base + s->off) - page), MS_SYNC) != 0 ||
            (!s->dir_synced && sync_segment(j, s) != 0)) {
            journal_set_error(j, "%s/%08u.seg: msync: %s", j->dir, s->index, strerror(errno));
            atomic_store(&j->failed, 1);
        } else {
            atomic_store_explicit(&j->written, seq, memory_order_release);
            atomic_store_explicit(&j->durable, seq, memory_order_release);
        }
        break;
    }
    default: atomic_store_explicit(&j->written, seq, memory_order_release);
    }
    return seq;
}

uint64_t journal_last_seq(const journal *j)
{
    return j->last_seq;
}

uint64_t journal_durable_seq(const journal *j)
{
    journal *m = (journal *)j;
    if (j->durability == JOURNAL_NONE)
        return atomic_load_explicit(&m->written, memory_order_acquire);
    return atomic_load_explicit(&m->durable, memory_order_acquire);
}

int journal_notify_fd(const journal *j)
{
    return j->notify_fd;
}

const journal_recovery *journal_recovered(const journal *j)
{
    return &j->rec;
}

int journal_wait_durable(journal *j, uint64_t seq)
{
    for (;;) {
        uint32_t ep = atomic_load(&j->epoch);
        if (journal_durable_seq(j) >= seq)
            return 0;
        if (atomic_load(&j->failed) || seq > j->last_seq)
            return -1;
        atomic_fetch_add(&j->waiters, 1);
        if (atomic_exchange(&j->sleeping, SLEEP_AWAKE) != SLEEP_AWAKE)
            futex_wake(&j->sleeping, 1);
        futex_wait(&j->epoch, ep, 50 * 1000 * 1000);
        atomic_fetch_sub(&j->waiters, 1);
    }
}

/* ---- the syncer thread ---- */

static void announce_durable(journal *j, uint64_t seq)
{
    /* Never durable past what the engine thread has written: seq was read
     * from `written` before the sync, and `written` only grows.  (Not
     * "seq > durable": with durability sync the engine thread moves
     * `durable` itself, racing this check harmlessly.) */
    assert(seq <= atomic_load(&j->written));
    atomic_store_explicit(&j->durable, seq, memory_order_release);
    atomic_fetch_add(&j->epoch, 1);
    if (atomic_load(&j->waiters))
        futex_wake(&j->epoch, INT32_MAX);
    if (j->notify_fd >= 0 && j->durability == JOURNAL_BATCH) {
        uint64_t one = 1;
        ssize_t w = write(j->notify_fd, &one, sizeof one);
        (void)w; /* a full counter (2^64) already says "readable" */
    }
}

/* Sync everything written so far: retired segments (then unmap them) and
 * the current one.  `sync` = 0 only unmaps them. */
static void sync_all(journal *j, int sync)
{
    uint64_t target = atomic_load(&j->written);
    int64_t t0 = sync ? mono_ns() : 0;
    pthread_mutex_lock(&j->mu);
    /* A retired segment the keeper is still prefaulting must stay mapped
     * until it is done (a few ms at most, once per segment): unmapping it
     * under its madvise() was a use after free (found by `make tsan`).  The
     * keeper never waits here for itself: it prefaults and syncs in turn. */
    while (j->prefaulting && j->prefaulting != j->cur)
        pthread_cond_wait(&j->made, &j->mu);
    jseg *old = j->retired, *cur = j->cur;
    j->retired = NULL;
    pthread_mutex_unlock(&j->mu);
    int ok = 1;
    /* Oldest first, so durability never skips ahead of a failed segment. */
    jseg *rev = NULL;
    while (old) {
        jseg *n = old->retired_next;
        old->retired_next = rev;
        rev = old;
        old = n;
    }
    for (jseg *s = rev; s;) {
        jseg *n = s->retired_next;
        if (sync && ok && sync_segment(j, s) != 0)
            ok = 0;
        jseg_close(s);
        s = n;
    }
    if (sync && ok && sync_segment(j, cur) != 0)
        ok = 0;
    if (!ok) {
        atomic_store(&j->failed, 1);
        return;
    }
    uint64_t before = atomic_load(&j->durable);
    if (sync && target > before) {
        hist_add(&j->sync_ns, (uint64_t)(mono_ns() - t0));
        hist_add(&j->group, target - before);
        announce_durable(j, target);
    }
}

const hist *journal_sync_hist(const journal *j, int group)
{
    return group ? &j->group : &j->sync_ns;
}

static void make_spare(journal *j)
{
    pthread_mutex_lock(&j->mu);
    int go = !j->spare && !j->making && j->cur && mono_ns() >= j->spare_retry_ns;
    uint32_t index = go ? j->cur->index + 1 : 0;
    if (go)
        j->making = 1;
    pthread_mutex_unlock(&j->mu);
    if (!go)
        return;
    char err[300];
    jseg *s = make_segment(j, index, 1, j->prefill, err, sizeof err);
    pthread_mutex_lock(&j->mu);
    j->making = 0;
    j->spare = s;
    if (!s) {
        space_error(j, err);
        j->space_failed = 1;
        j->spare_retry_ns = mono_ns() + SPACE_RETRY_NS;
    }
    pthread_cond_broadcast(&j->made);
    pthread_mutex_unlock(&j->mu);
}

/* Keep the current segment's pages faulted in ahead of the writer. */
static void prefault_current(journal *j)
{
    pthread_mutex_lock(&j->mu);
    jseg *s = j->cur;
    j->prefaulting = s; /* sync_all() leaves it mapped until we are done */
    pthread_mutex_unlock(&j->mu);
    /* s->off is the writer's; a stale value only prefaults less. */
    uint64_t off = __atomic_load_n(&s->off, __ATOMIC_RELAXED);
    if (off + PREFAULT_AHEAD / 2 > s->prefaulted)
        jseg_prefault(s, off + PREFAULT_AHEAD);
    pthread_mutex_lock(&j->mu);
    j->prefaulting = NULL;
    pthread_cond_broadcast(&j->made);
    pthread_mutex_unlock(&j->mu);
}

/* Sleep on *word (already set to `state`) unless woken, for ns. */
static void doze(_Atomic uint32_t *word, uint32_t state, int64_t ns)
{
    futex_wait(word, state, ns);
    atomic_store(word, SLEEP_AWAKE);
}

/*
 * [server] spin_us: before it sleeps, the syncer polls `written` this long
 * (with a spinning syncer `sleeping` stays SLEEP_AWAKE, so the engine
 * thread makes no futex_wake to start the next group commit, and the
 * commit starts without a wake-up).  1: records came (or stop), 0: none.
 */
static int syncer_spin(journal *j, uint64_t d, int64_t until)
{
    do {
        for (int i = 0; i < 64; i++) {
            if (atomic_load_explicit(&j->written, memory_order_acquire) != d || atomic_load(&j->stop))
                return 1;
            __builtin_ia32_pause();
        }
    } while (mono_ns() < until);
    return 0;
}

/* The syncer (durability batch only): nothing but group commits. */
static void *syncer_main(void *arg)
{
    journal *j = arg;
    int64_t last_sync = 0, spin_ns = (int64_t)j->spin_us * 1000;
    while (!atomic_load(&j->stop)) {
        uint64_t w = atomic_load(&j->written), d = atomic_load(&j->durable);
        if (w == d && spin_ns && !atomic_load(&j->failed) && syncer_spin(j, d, mono_ns() + spin_ns))
            continue;
        if (w == d || atomic_load(&j->failed)) {
            atomic_store(&j->sleeping, SLEEP_IDLE);
            if (!atomic_load(&j->stop) && (atomic_load(&j->written) == d || atomic_load(&j->failed)))
                doze(&j->sleeping, SLEEP_IDLE, 100 * 1000 * 1000);
            atomic_store(&j->sleeping, SLEEP_AWAKE);
            continue;
        }
        int64_t now = mono_ns(), due = last_sync + (int64_t)j->batch_us * 1000;
        if (now < due && w - d < j->batch_records && !atomic_load(&j->waiters)) {
            if (due - now <= spin_ns) { /* the batch's rest is short: polled, not slept */
                while (mono_ns() < due && !atomic_load(&j->stop) && !atomic_load(&j->waiters) &&
                       atomic_load_explicit(&j->written, memory_order_relaxed) - d < j->batch_records)
                    __builtin_ia32_pause();
                continue;
            }
            atomic_store(&j->sleeping, SLEEP_PACING);
            doze(&j->sleeping, SLEEP_PACING, due - now);
            continue;
        }
        last_sync = now;
        sync_all(j, 1);
        lathist_add(&j->sync_hist, (uint64_t)(mono_ns() - now), 1);
    }
    return NULL;
}

struct lathist *journal_sync_lathist(journal *j)
{
    return &j->sync_hist;
}

/* The keeper: the slow chores, off both the engine thread and the syncer's
 * path to a sync: the next segment, prefaulting, reaping snapshot children,
 * and (when no syncer does it) unmapping full segments. */
static void *keeper_main(void *arg)
{
    journal *j = arg;
    while (!atomic_load(&j->stop)) {
        journal_reap_snapshot(j, 0);
        make_spare(j);
        prefault_current(j);
        if (atomic_exchange(&j->kick, 0) && j->durability != JOURNAL_BATCH)
            sync_all(j, 1); /* full segments: to disk (unreported), unmapped */
        atomic_store(&j->keeper_sleeping, SLEEP_IDLE);
        if (!atomic_load(&j->stop) && !atomic_load(&j->kick))
            doze(&j->keeper_sleeping, SLEEP_IDLE, 100 * 1000 * 1000);
        atomic_store(&j->keeper_sleeping, SLEEP_AWAKE);
    }
    return NULL;
}

void journal_kick_keeper(journal *j)
{
    atomic_store(&j->kick, 1);
    if (atomic_exchange(&j->keeper_sleeping, SLEEP_AWAKE) != SLEEP_AWAKE)
        futex_wake(&j->keeper_sleeping, 1);
}

int journal_start(journal *j, char *err, size_t errlen)
{
    int rc = pthread_create(&j->keeper, NULL, keeper_main, j);
    if (rc == 0) {
        j->started |= 1;
        if (j->durability == JOURNAL_BATCH && (rc = pthread_create(&j->syncer, NULL, syncer_main, j)) == 0)
            j->started |= 2;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the journal's threads: %s", strerror(rc));
        return -1;
    }
    return 0;
}

/* ---- closing ---- */

void journal_free(journal *j)
{
    if (!j)
        return;
    jseg_close(j->cur);
    jseg_close(j->spare);
    for (jseg *s = j->retired; s;) {
        jseg *n = s->retired_next;
        jseg_close(s);
        s = n;
    }
    if (j->dirfd >= 0)
        close(j->dirfd);
    if (j->notify_fd >= 0)
        close(j->notify_fd);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->made);
    free(j->stall);
    free(j);
}

int journal_close(journal *j, char *err, size_t errlen)
{
    if (!j)
        return 0;
    int rc = 0;
    atomic_store(&j->stop, 1);
    if (j->started & 2) {
        if (atomic_exchange(&j->sleeping, SLEEP_AWAKE) != SLEEP_AWAKE)
            futex_wake(&j->sleeping, 1);
        pthread_join(j->syncer, NULL);
    }
    if (j->started & 1) {
        journal_kick_keeper(j);
        pthread_join(j->keeper, NULL);
    }
    /* Everything to disk, in every mode. */
    journal_reap_snapshot(j, 1);
    if (j->cur)
        sync_all(j, 1);
    if (atomic_load(&j->failed) || (j->cur && atomic_load(&j->durable) < j->last_seq)) {
        snprintf(err, errlen, "%s", j->error[0] ? j->error : "journal: final sync failed");
        rc = -1;
    }
    journal_free(j);
    return rc;
}
