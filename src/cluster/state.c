/*
 * state.c - the replicated state machine: an engine and its journal.
 *
 * Every node runs the same thing on every committed batch: each command,
 * with the seq and time the leader stamped, goes through japply_command
 * (apply.h), the path a single server runs, so the journal records, the
 * events and the state hash are the same on every node.  The journal's
 * clock is the command's own stamp (state_clock), which makes
 * journal_append give the same seq and time everywhere; the seq it gives
 * is checked against the leader's.
 *
 * The journal is written with durability `none`: Raft has the command on a
 * majority's disks before it is committed, and a node that loses its page
 * cache (a machine crash) gets the lost tail again from Raft's log, where
 * the seq check below skips what its journal still has.  So the journal
 * is not a second durable copy on the hot path, yet `journal dump|verify`,
 * `bourse replay --journal` and recovery read it as on a single server.
 *
 * Snapshots are the core's own stream (bourse_engine_save) behind a short
 * header.  Installing one (a new or far-behind node) replaces the state
 * only when it is ahead of the node's own: a node that restarts has its
 * journal, which holds only committed commands, and is usually ahead of
 * Raft's last snapshot.  When it is ahead, the journal's files move to
 * DIR/replaced/ (kept for an operator, never read) and the journal starts
 * again from a snapshot file at that seq, so recovery still works.
 *
 * A snapshot may carry more than the core: what the owner's extra_save
 * gives (`bourse serve`: the market data's history and its message count,
 * taken at the same seq), after the core's stream and before a 16-byte
 * trailer (its length, then the magic "BRSXTRA1").  A snapshot without the
 * trailer (another node's extra_save gave nothing) is the core alone.  On
 * install the extra bytes go to extra_restore once the journal starts at
 * the snapshot, so the node's next start recovers the feed with the same
 * numbers as every other node's.
 */
#include "cluster/cluster.h"
#include "journal/apply.h"
#include "journal/journal.h"
#include "journal/record.h"
#include "journal/segment.h"
#include "journal/snapfile.h"

#include <dirent.h>
#include <errno.h>
#include <raft.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cluster_state {
    cluster_state_config cfg;
    char dir[CLUSTER_PATH_MAX];
    journal *j;
    bourse_engine *e;
    japply ap;
    int64_t ts;      /* the stamp of the command being applied: the journal's clock */
    int64_t last_ts; /* of the last command applied */
    _Atomic uint64_t seq;
};

static int64_t state_clock(void *ctx)
{
    return ((cluster_state *)ctx)->ts;
}

/* recover: run the recovery hooks (at open; not after an install, when
 * the consumers behind them are running: the node restarts instead). */
static int open_journal(cluster_state *st, int recover, char *err, size_t errlen)
{
    journal_config jc = {.dir = st->dir,
                         .durability = JOURNAL_NONE,
                         .segment_bytes = st->cfg.segment_bytes,
                         .limits = st->cfg.limits,
                         .grow = st->cfg.grow,
                         .clock_ns = state_clock,
                         .clock_ctx = st,
                         .on_engine = recover ? st->cfg.recover_engine : NULL,
                         .on_command = recover ? st->cfg.recover_command : NULL,
                         .on_event = recover ? st->cfg.recover_event : NULL,
                         .ctx = st->cfg.recover_ctx};
    if (journal_open(&jc, &st->j, &st->e, err, errlen) != 0)
        return -1;
    st->ap = japply_leader(st->e, st->j, 0);
    atomic_store(&st->seq, st->ap.seq);
    return 0;
}

cluster_state *cluster_state_open(const cluster_state_config *cfg, char *err, size_t errlen)
{
    cluster_state *st = calloc(1, sizeof *st);
    if (!st || strlen(cfg->dir) >= sizeof st->dir) {
        snprintf(err, errlen, "%s", st ? "data directory name too long" : "out of memory");
        free(st);
        return NULL;
    }
    st->cfg = *cfg;
    snprintf(st->dir, sizeof st->dir, "%s", cfg->dir);
    st->cfg.dir = st->dir;
    if (open_journal(st, 1, err, errlen) != 0) {
        free(st);
        return NULL;
    }
    return st;
}

void cluster_state_close(cluster_state *st)
{
    if (!st)
        return;
    char err[256];
    if (journal_close(st->j, err, sizeof err) != 0)
        fprintf(stderr, "bourse: cluster: closing the journal: %s\n", err);
    bourse_engine_free(st->e);
    free(st);
}

uint64_t cluster_state_seq(const cluster_state *st)
{
    return atomic_load(&st->seq);
}

bourse_engine *cluster_state_engine(cluster_state *st)
{
    return st->e;
}

uint64_t cluster_state_hash(cluster_state *st)
{
    return bourse_engine_hash(st->e);
}

int cluster_state_apply(cluster_state *st, const uint8_t *buf, size_t len, const char **why)
{
    int n = cluster_batch_count(buf, len);
    if (n < 0) {
        *why = "not a batch of commands (another build of bourse?)";
        return -1;
    }
    for (uint32_t i = 0; i < (uint32_t)n; i++) {
        bourse_cmd c;
        cluster_batch_get(buf, i, &c);
        if (c.seq <= st->ap.seq)
            continue; /* already in the journal: Raft replays it after a restart */
        if (c.seq != st->ap.seq + 1) {
            *why = "a command's seq leaves a gap after the last one applied";
            return -1;
        }
        uint64_t want = c.seq;
        st->ts = c.ts_ns;
        int r = japply_command(&st->ap, &c, st->cfg.on_event, st->cfg.ctx);
        if (r != JAPPLY_OK || c.seq != want) {
            *why = r == JAPPLY_NOMEM ? "out of memory growing the engine's tables"
                   : r != JAPPLY_OK  ? journal_error(st->j)
                                     : "the journal numbered a command differently from the leader";
            return -1;
        }
        st->last_ts = c.ts_ns;
        atomic_store_explicit(&st->seq, c.seq, memory_order_release);
        if (st->cfg.on_command)
            st->cfg.on_command(st->cfg.ctx, &c);
    }
    return 0;
}

/* ---- snapshots ---- */

enum { SNAP_HDR = 32, SNAP_TRAILER = 16 };
static const char snap_magic[8] = {'B', 'R', 'S', 'N', 'A', 'P', '0', '1'};
static const char extra_magic[8] = {'B', 'R', 'S', 'X', 'T', 'R', 'A', '1'};

typedef struct membuf {
    uint8_t *p;
    size_t len, cap, off;
} membuf;

static int mem_write(void *ctx, const void *buf, size_t len)
{
    membuf *m = ctx;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 1 << 16;
        while (cap < m->len + len)
            cap *= 2;
        uint8_t *p = raft_realloc(m->p, cap);
        if (!p)
            return -1;
        m->p = p, m->cap = cap;
    }
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return 0;
}

static int mem_read(void *ctx, void *buf, size_t len)
{
    membuf *m = ctx;
    if (m->off + len > m->len)
        return -1;
    memcpy(buf, m->p + m->off, len);
    m->off += len;
    return 0;
}

int cluster_state_save(cluster_state *st, void **buf, size_t *len)
{
    membuf m = {0};
    uint8_t hdr[SNAP_HDR] = {0};
    uint64_t seq = st->ap.seq;
    uint32_t grow = st->ap.grow ? 1 : 0;
    memcpy(hdr, snap_magic, 8);
    memcpy(hdr + 8, &seq, 8);
    memcpy(hdr + 16, &st->last_ts, 8);
    memcpy(hdr + 24, &grow, 4);
    if (mem_write(&m, hdr, sizeof hdr) != 0 || bourse_engine_save(st->e, mem_write, &m) != 0) {
        raft_free(m.p);
        return -1;
    }
    void *x = NULL;
    size_t xlen = 0;
    if (st->cfg.extra_save && st->cfg.extra_save(st->cfg.ctx, seq, &x, &xlen) == 0) {
        uint64_t n = xlen;
        int rc = mem_write(&m, x, xlen) || mem_write(&m, &n, 8) || mem_write(&m, extra_magic, 8);
        free(x);
        if (rc) {
            raft_free(m.p);
            return -1;
        }
    }
    *buf = m.p;
    *len = m.len;
    return 0;
}

/* Move DIR's segments and snapshots into DIR/replaced/ (emptied first). */
static int set_aside(const char *dir, char *err, size_t errlen)
{
    char to[CLUSTER_PATH_MAX + 16], from[CLUSTER_PATH_MAX + 300], dst[CLUSTER_PATH_MAX + 300];
    snprintf(to, sizeof to, "%s/replaced", dir);
    DIR *d = opendir(to);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.') {
                snprintf(dst, sizeof dst, "%s/%s", to, de->d_name);
                unlink(dst);
            }
        closedir(d);
    } else if (mkdir(to, 0700) != 0) {
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
        return -1;
    }
    if (!(d = opendir(dir))) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        int seg = n > 4 && !strcmp(de->d_name + n - 4, ".seg");
        int snap = !strncmp(de->d_name, "snap-", 5);
        if (!seg && !snap)
            continue;
        snprintf(from, sizeof from, "%s/%s", dir, de->d_name);
        snprintf(dst, sizeof dst, "%s/%s", to, de->d_name);
        if (rename(from, dst) != 0) {
            snprintf(err, errlen, "%s: %s", from, strerror(errno));
            rc = -1;
            break;
        }
    }
    closedir(d);
    return rc;
}

int cluster_state_restore(cluster_state *st, const void *buf, size_t len, char *err, size_t errlen)
{
    membuf m = {.p = (uint8_t *)buf, .len = len, .off = SNAP_HDR};
    uint64_t seq;
    uint32_t grow;
    snap_info info = {0};
    if (len < SNAP_HDR || memcmp(buf, snap_magic, 8)) {
        snprintf(err, errlen, "not a snapshot of this build's state");
        return -1;
    }
    memcpy(&seq, m.p + 8, 8);
    memcpy(&info.ts_ns, m.p + 16, 8);
    memcpy(&grow, m.p + 24, 4);
    if (seq <= st->ap.seq)
        return 0; /* our own state is a later committed one (see above) */
    const uint8_t *x = NULL;
    uint64_t xlen = 0;
    if (len >= SNAP_HDR + SNAP_TRAILER && !memcmp(m.p + len - 8, extra_magic, 8)) {
        memcpy(&xlen, m.p + len - 16, 8);
        if (xlen > len - SNAP_HDR - SNAP_TRAILER) {
            snprintf(err, errlen, "a snapshot whose trailer is damaged");
            return -1;
        }
        m.len = len - SNAP_TRAILER - xlen; /* the core's stream ends there */
        x = m.p + m.len;
    }
    bourse_engine *e = bourse_engine_load(mem_read, &m, err, errlen);
    if (!e)
        return -1;
    info.seq = seq;
    info.hash = bourse_engine_hash(e);
    info.flags = grow ? SEG_FLAG_GROW : 0;
    char jerr[256];
    if (journal_close(st->j, jerr, sizeof jerr) != 0)
        fprintf(stderr, "bourse: cluster: closing the journal: %s\n", jerr);
    st->j = NULL;
    bourse_engine_free(st->e);
    st->e = NULL;
    int rc = set_aside(st->dir, err, errlen);
    if (rc == 0)
        rc = snap_save(st->dir, e, &info, NULL, 0, err, errlen);
    bourse_engine_free(e);
    if (rc == 0)
        rc = open_journal(st, 0, err, errlen);
    if (rc == 0)
        st->last_ts = info.ts_ns;
    char xerr[300];
    if (rc == 0 && x && st->cfg.extra_restore &&
        st->cfg.extra_restore(st->cfg.ctx, seq, x, (size_t)xlen, xerr, sizeof xerr) != 0)
        fprintf(stderr, "bourse: cluster: the snapshot's market data not installed: %s\n", xerr);
    return rc;
}
