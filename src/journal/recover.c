/*
 * recover.c - journal_open: make or recover a data directory, then set up
 * the writer where the journal ends.
 *
 * Recovery loads the newest snapshot that is sound (checksums, and the
 * loaded engine's hash equal to the one recorded), falling back to older
 * ones with a warning, then replays every later command of the journal
 * into that engine, exactly as the live engine applied them (tables grown
 * before each command if the directory was written that way).  A torn tail
 * is zeroed on disk before appending resumes over it, so it cannot be
 * mistaken later for damage in the middle of the journal.
 *
 * Nothing on disk changes before recovery has succeeded: a refusal leaves
 * the directory exactly as it was found, for an operator to look at.
 */
#include "apply.h"
#include "dirlist.h"
#include "journal_int.h"
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define DEFAULT_SEGMENT (256ull << 20)

/* A record's ids must exist in the engine it is applied to. */
const char *journal_ids_known(const bourse_engine *e, const bourse_cmd *c)
{
    if (c->user != BOURSE_NONE && !bourse_user_name(e, c->user))
        return "user id not created by any earlier command";
    if (c->symbol != BOURSE_NONE && c->symbol != BOURSE_CASH && !bourse_symbol_name_of(e, c->symbol))
        return "symbol id not created by any earlier command";
    return NULL;
}

typedef struct replay_ctx {
    japply a;
    const journal_config *cfg;
    uint64_t replayed;
} replay_ctx;

static const char *replay_one(void *ctx, const bourse_cmd *c)
{
    replay_ctx *r = ctx;
    if (r->cfg->on_command) {
        /* The hook sees the command only if it will be applied. */
        const char *why = journal_ids_known(r->a.e, c);
        if (why)
            return why;
        r->cfg->on_command(r->cfg->ctx, c);
    }
    const char *why = japply_record(&r->a, c, r->cfg->on_event, r->cfg->ctx);
    if (!why)
        r->replayed++;
    return why;
}

static int mkdirs(const char *dir)
{
    char p[SEG_PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/*
 * Every file of a data directory is made 0600 and its directories 0700:
 * the journal is every order of every user.  A directory made by someone
 * else (or before that rule) may let other local users in; say so.
 */
static void warn_readable(const journal_config *cfg)
{
    struct stat st;
    if (stat(cfg->dir, &st) == 0 && (st.st_mode & 077))
        journal_warn(cfg, "%s: other users may read the journal (mode %04o): chmod 700 %s", cfg->dir,
                     (unsigned)(st.st_mode & 07777), cfg->dir);
}

/*
 * The start-up check of space: the writer needs room for the next segment
 * (made ahead of time) besides the current one.  With less, the journal
 * soon refuses new orders (journal.c, "A full disk"); better said now.
 */
static void warn_space(const journal *j, const journal_config *cfg)
{
    struct statvfs fs;
    if (statvfs(cfg->dir, &fs) != 0)
        return;
    uint64_t free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
    if (free_bytes < 2 * j->segment_bytes)
        journal_warn(cfg,
                     "%s: %llu MiB free, less than two journal segments (%llu MiB each): new orders will be "
                     "refused once the next segment cannot be made; free space or lower segment_bytes",
                     cfg->dir, (unsigned long long)(free_bytes >> 20),
                     (unsigned long long)(j->segment_bytes >> 20));
}

/* Leftovers of a crash while making a segment or a snapshot. */
static void remove_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".tmp") == 0 &&
            (strncmp(de->d_name, "snap-", 5) == 0 || strstr(de->d_name, ".seg.tmp"))) {
            char p[SEG_PATH_MAX + 256];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    }
    closedir(d);
}

/* The newest sound snapshot, or NULL (*seq 0) when there is none. */
static bourse_engine *load_newest_snapshot(const journal_config *cfg, snap_info *info, char *err,
                                           size_t errlen)
{
    uint64_t *seqs;
    size_t n;
    memset(info, 0, sizeof *info);
    if (snap_list(cfg->dir, &seqs, &n, err, errlen) != 0)
        return NULL;
    bourse_engine *e = NULL;
    for (size_t i = n; i-- > 0 && !e;) {
        char path[SEG_PATH_MAX], why[600];
        snap_path(path, sizeof path, cfg->dir, seqs[i]);
        e = snap_load(path, info, why, sizeof why);
        if (!e)
            journal_warn(cfg, "skipping snapshot: %s", why);
        else if (info->seq != seqs[i]) {
            journal_warn(cfg, "skipping snapshot %s: its header says seq %llu", path,
                         (unsigned long long)info->seq);
            bourse_engine_free(e);
            e = NULL;
        }
    }
    free(seqs);
    if (!e)
        memset(info, 0, sizeof *info);
    return e;
}

/* Load, replay, check coverage.  On success *engine is set. */
static int recover(journal *j, const journal_config *cfg, jscan *sc, bourse_engine **engine, char *err,
                   size_t errlen)
{
    snap_info si;
    bourse_engine *e = load_newest_snapshot(cfg, &si, err, errlen);
    if (!e && err[0])
        return -1;
    /* A first pass without replaying, to learn the limits and the coverage. */
    jscan probe = {.dir = cfg->dir, .from_seq = UINT64_MAX};
    if (jscan_run(&probe, err, errlen) != 0) {
        bourse_engine_free(e);
        return -1;
    }
    uint64_t from = si.seq + 1;
    if (probe.first_seq > from) { /* 0 when damaged: the full scan below says where */
        snprintf(err, errlen,
                 "%s: the journal starts at seq %llu but %s: commands %llu to %llu are missing "
                 "(archived? move them back from %s/archive)",
                 cfg->dir, (unsigned long long)probe.first_seq,
                 e ? "the newest sound snapshot ends earlier" : "there is no snapshot",
                 (unsigned long long)from, (unsigned long long)probe.first_seq - 1, cfg->dir);
        bourse_engine_free(e);
        return -1;
    }
    if (probe.records && probe.last_seq < si.seq) {
        snprintf(err, errlen, "%s: the journal ends at seq %llu, before the snapshot at seq %llu", cfg->dir,
                 (unsigned long long)probe.last_seq, (unsigned long long)si.seq);
        bourse_engine_free(e);
        return -1;
    }
    if (probe.nsegs) {
        j->hdr = probe.header;
        if (e && (si.flags & SEG_FLAG_GROW) != (probe.header.flags & SEG_FLAG_GROW)) {
            snprintf(err, errlen, "%s: the snapshot and the journal disagree on growing tables", cfg->dir);
            bourse_engine_free(e);
            return -1;
        }
    } else if (e) {
        j->hdr.flags = si.flags;
        j->hdr.limits = cfg->limits;
    } else {
        j->hdr.flags = cfg->grow ? SEG_FLAG_GROW : 0;
        j->hdr.limits = cfg->limits;
    }
    if (!e)
        e = bourse_engine_new(&j->hdr.limits);
    if (!e) {
        snprintf(err, errlen, "out of memory for the engine");
        return -1;
    }
    replay_ctx rc = {.a = {.e = e, .grow = (j->hdr.flags & SEG_FLAG_GROW) != 0, .seq = si.seq}, .cfg = cfg};
    if (cfg->on_engine)
        cfg->on_engine(cfg->ctx, e, si.seq);
    *sc = (jscan){.dir = cfg->dir, .from_seq = from, .on_record = replay_one, .ctx = &rc};
    if (jscan_run(sc, err, errlen) != 0) {
        bourse_engine_free(e);
        return -1;
    }
    j->rec = (journal_recovery){.snapshot_seq = si.seq,
                                .replayed = rc.replayed,
                                .last_seq = sc->last_seq > si.seq ? sc->last_seq : si.seq,
                                .torn_bytes = sc->torn_bytes,
                                .hash = bourse_engine_hash(e),
                                .grow = rc.a.grow,
                                .limits = j->hdr.limits};
    if (!cfg->segment_bytes && sc->nsegs) /* new segments as big as the last */
        j->segment_bytes = sc->active_bytes;
    atomic_store(&j->snap_seq, si.seq);
    j->last_ts = sc->last_seq > si.seq ? sc->last_ts : si.ts_ns;
    if (sc->torn_bytes) {
        char path[SEG_PATH_MAX];
        seg_path(path, sizeof path, cfg->dir, sc->active_index);
        journal_warn(cfg, "%s: offset %llu: %s: torn tail of %llu bytes cut off (seq %llu is the last)", path,
                     (unsigned long long)sc->torn_off, sc->torn_why, (unsigned long long)sc->torn_bytes,
                     (unsigned long long)sc->last_seq);
    }
    *engine = e;
    return 0;
}

/* Open the active segment for appending after its last good record. */
static int resume_segment(journal *j, const jscan *sc, char *err, size_t errlen)
{
    char path[SEG_PATH_MAX];
    seg_path(path, sizeof path, j->dir, sc->active_index);
    uint64_t size;
    int fd = dir_open(path, O_RDWR, &size, err, errlen);
    if (fd < 0)
        return -1;
    if (size < sc->active_bytes && ftruncate(fd, (off_t)sc->active_bytes) != 0) {
        snprintf(err, errlen, "%s: cannot extend: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    jseg *s = jseg_map(j, fd, sc->active_index, sc->active_bytes, err, errlen);
    if (!s) {
        close(fd);
        return -1;
    }
    s->off = sc->active_end;
    s->dir_synced = 1;
    if (sc->torn_bytes) {
        memset(s->base + sc->torn_off, 0, sc->torn_bytes);
        if (msync(s->base, s->size, MS_SYNC) != 0) {
            snprintf(err, errlen, "%s: cannot cut the torn tail: %s", path, strerror(errno));
            jseg_close(s);
            return -1;
        }
    }
    jseg_prefault(s, s->off + PREFAULT_AHEAD);
    j->cur = s;
    j->prev = sc->active_prev;
    return 0;
}

/* An existing empty segment after the active one becomes the spare;
 * any further ones (there should be none) are removed. */
static void adopt_spares(journal *j, const jscan *sc)
{
    for (uint32_t i = sc->active_index + 1; i <= sc->last_index; i++) {
        char path[SEG_PATH_MAX], err[300];
        seg_path(path, sizeof path, j->dir, i);
        if (i == sc->active_index + 1 && !j->spare) {
            seg_header h;
            int fd = open(path, O_RDWR | O_CLOEXEC);
            uint8_t hb[SEG_HEADER];
            if (fd >= 0 && pread(fd, hb, sizeof hb, 0) == SEG_HEADER &&
                !seg_header_decode(hb, sizeof hb, &h)) {
                j->spare = jseg_map(j, fd, i, h.bytes, err, sizeof err);
                if (j->spare) {
                    j->spare->dir_synced = 1;
                    jseg_prefault(j->spare, PREFAULT_AHEAD);
                    continue;
                }
            }
            if (fd >= 0)
                close(fd);
        }
        unlink(path);
    }
}

int journal_open(const journal_config *cfg, journal **out, bourse_engine **engine, char *err, size_t errlen)
{
    *out = NULL;
    *engine = NULL;
    err[0] = 0;
    if (!cfg->dir || !cfg->dir[0] || strlen(cfg->dir) > SEG_PATH_MAX - 64) {
        snprintf(err, errlen, "journal: no (or too long a) data directory");
        return -1;
    }
    if (cfg->durability < JOURNAL_BATCH || cfg->durability > JOURNAL_SYNC ||
        (cfg->segment_bytes && cfg->segment_bytes < SEG_MIN_BYTES)) {
        snprintf(err, errlen, "journal: bad durability or segment size (at least %d bytes)", SEG_MIN_BYTES);
        return -1;
    }
    if (mkdirs(cfg->dir) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", cfg->dir, strerror(errno));
        return -1;
    }
    journal *j = calloc(1, sizeof *j);
    if (j) {
        hist_init(&j->sync_ns, 1000);
        hist_init(&j->group, 1);
    }
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(j->dir, sizeof j->dir, "%s", cfg->dir);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->made, NULL);
    j->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    j->dirfd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    j->durability = cfg->durability;
    j->segment_bytes = cfg->segment_bytes ? cfg->segment_bytes : DEFAULT_SEGMENT;
    j->batch_us = cfg->batch_us ? cfg->batch_us : 200;
    j->batch_records = cfg->batch_records ? cfg->batch_records : 8192;
    j->spin_us = cfg->spin_us;
    j->prefill = cfg->prefill;
    /* A test's slow disk (tests/sh/e2e_slow_disk.sh): every sync of the
     * journal's data waits while this file exists. */
    const char *stall = getenv("BOURSE_TEST_SYNC_STALL");
    if (stall && *stall)
        j->stall = strdup(stall);
    j->clock_ns = cfg->clock_ns;
    j->clock_ctx = cfg->clock_ctx;
    if (!j->clock_ns)
        j->clock_ns = journal_realtime_ns;
    if (j->dirfd < 0 || j->notify_fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", cfg->dir, strerror(errno));
        journal_free(j);
        return -1;
    }
    remove_temporaries(cfg->dir);
    warn_readable(cfg);
    jscan sc;
    bourse_engine *e = NULL;
    if (recover(j, cfg, &sc, &e, err, errlen) != 0) {
        journal_free(j);
        return -1;
    }
    warn_space(j, cfg);
    j->last_seq = j->rec.last_seq;
    atomic_store(&j->written, j->last_seq);
    atomic_store(&j->durable, j->last_seq);
    int rc;
    if (sc.nsegs) {
        rc = resume_segment(j, &sc, err, errlen);
        if (rc == 0)
            adopt_spares(j, &sc);
    } else {
        j->hdr.bytes = j->segment_bytes;
        j->hdr.index = 1;
        seg_header h = j->hdr;
        h.index = 1;
        h.bytes = j->segment_bytes;
        int fd = seg_create(j->dir, &h, err, errlen);
        if (fd >= 0 && j->prefill && jseg_fill(fd, h.bytes) != 0) {
            snprintf(err, errlen, "%.200s: cannot fill the first segment: %s", j->dir, strerror(errno));
            close(fd);
            fd = -1;
        }
        j->cur = fd >= 0 ? jseg_map(j, fd, 1, h.bytes, err, errlen) : NULL;
        if (fd >= 0 && !j->cur)
            close(fd);
        if (j->cur)
            jseg_prefault(j->cur, PREFAULT_AHEAD);
        rc = j->cur && fdatasync(fd) == 0 && fsync(j->dirfd) == 0 ? 0 : -1;
        if (j->cur)
            j->cur->dir_synced = 1;
        if (rc && !err[0])
            snprintf(err, errlen, "%s: cannot sync: %s", j->dir, strerror(errno));
    }
    if (rc == 0)
        rc = journal_start(j, err, errlen);
    if (rc != 0) {
        bourse_engine_free(e);
        journal_free(j);
        return -1;
    }
    *out = j;
    *engine = e;
    return 0;
}
