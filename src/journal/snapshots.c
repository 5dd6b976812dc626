/*
 * snapshots.c - taking snapshots from a running journal, and archiving what
 * they supersede.
 *
 * journal_snapshot() forks.  The child sees the engine as it was at the
 * fork (copy-on-write), so matching pauses only for the fork itself; it
 * writes the snapshot (snapfile.c: temporary file, sync, journal segments
 * synced up to its seq, rename) and exits.  The keeper thread reaps it.
 * The child runs in a copy of a threaded process, so it uses nothing that
 * another thread could have held locked at the fork: no malloc, no stdio.
 */
#include "journal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reap a finished snapshot child. */
void journal_reap_snapshot(journal *j, int block)
{
    pid_t pid = atomic_load(&j->snap_pid);
    if (pid <= 0)
        return;
    int status;
    pid_t r = waitpid(pid, &status, block ? 0 : WNOHANG);
    if (r == 0)
        return;
    char path[SEG_PATH_MAX];
    snap_path(path, sizeof path, j->dir, j->snap_running_seq);
    if (r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        atomic_store(&j->snap_seq, j->snap_running_seq);
    else if (r < 0 && access(path, F_OK) == 0) /* reaped elsewhere (SIGCHLD ignored) */
        atomic_store(&j->snap_seq, j->snap_running_seq);
    else
        journal_set_error(j, "snapshot at seq %llu failed (see the log of the child)",
                          (unsigned long long)j->snap_running_seq);
    atomic_store(&j->snap_pid, 0);
}

/* A snapshot child must not hold the parent's sockets and locks open (a
 * restarted server could not bind its ports or lock its directory until
 * the child is done): close every descriptor but stderr and the segments
 * it syncs. */
static void child_close_fds(const int *keep, int nkeep)
{
    int k[10], n = 0;
    k[n++] = 2;
    for (int i = 0; i < nkeep && n < 10; i++)
        if (keep[i] > 2)
            k[n++] = keep[i];
    for (int a = 1; a < n; a++) /* insertion sort: a handful */
        for (int b = a; b > 0 && k[b - 1] > k[b]; b--) {
            int t = k[b];
            k[b] = k[b - 1];
            k[b - 1] = t;
        }
    unsigned lo = 0;
    for (int i = 0; i < n; i++) {
        if ((unsigned)k[i] > lo)
            close_range(lo, (unsigned)k[i] - 1, 0);
        lo = (unsigned)k[i] + 1;
    }
    close_range(lo, ~0u, 0);
}

static void close_all(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

int journal_snapshot(journal *j, const bourse_engine *e)
{
    if (atomic_load(&j->snap_pid) > 0)
        return 1;
    /* The segments that may still hold unsynced commands up to `seq`.
     * Their descriptors are duplicated under the lock: the syncer closes a
     * retired segment as soon as it has synced it, and a number read here
     * could be closed (or reused by a socket, which fdatasync refuses)
     * before the fork, failing the snapshot now and then (seen in CI). */
    int fds[8], nfds = 0;
    pthread_mutex_lock(&j->mu);
    fds[nfds++] = fcntl(j->cur->fd, F_DUPFD_CLOEXEC, 3);
    for (jseg *s = j->retired; s && nfds < 8; s = s->retired_next)
        fds[nfds++] = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < nfds; i++)
        if (fds[i] < 0) {
            int dup_errno = errno;
            close_all(fds, nfds);
            journal_set_error(j, "snapshot: cannot duplicate a segment's descriptor: %s",
                              strerror(dup_errno));
            return -1;
        }
    j->snap_running_seq = j->last_seq;
    pid_t pid = fork();
    int fork_errno = errno;
    if (pid != 0)
        close_all(fds, nfds); /* the child holds its own copies */
    if (pid < 0) {
        journal_set_error(j, "snapshot: fork: %s", strerror(fork_errno));
        return -1;
    }
    if (pid == 0) {
        /* The child: only the engine's memory and plain system calls. */
        child_close_fds(fds, nfds);
        char err[512];
        snap_info in = {.seq = j->snap_running_seq, .ts_ns = j->last_ts, .flags = j->hdr.flags};
        if (snap_save(j->dir, e, &in, fds, nfds, err, sizeof err) != 0) {
            ssize_t w = write(2, "bourse: snapshot: ", 18);
            w = write(2, err, strlen(err));
            w = write(2, "\n", 1);
            (void)w;
            _exit(1);
        }
        _exit(0);
    }
    atomic_store(&j->snap_pid, pid);
    return 0;
}

uint64_t journal_snapshot_seq(const journal *j)
{
    return atomic_load(&((journal *)j)->snap_seq);
}

/* ---- archiving ---- */

/* The seq of a segment file's first record, 0 when it has none. */
static uint64_t segment_first_seq(const char *dir, uint32_t index)
{
    char path[SEG_PATH_MAX];
    seg_path(path, sizeof path, dir, index);
    uint8_t buf[REC_MAX];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf, SEG_HEADER) : -1;
    if (fd >= 0)
        close(fd);
    bourse_cmd c;
    rec_prev prev = {0, 0};
    const char *why;
    return n > 0 && rec_decode(buf, (size_t)n, &c, &prev, &why) > 0 ? c.seq : 0;
}

static int archive_file(journal *j, const char *name)
{
    char from[SEG_PATH_MAX + 64], to[SEG_PATH_MAX + 80];
    snprintf(from, sizeof from, "%s/%s", j->dir, name);
    snprintf(to, sizeof to, "%s/archive/%s", j->dir, name);
    if (rename(from, to) != 0) {
        journal_set_error(j, "%s: cannot archive: %s", from, strerror(errno));
        return -1;
    }
    return 0;
}

int journal_archive(journal *j)
{
    journal_reap_snapshot(j, 0);
    uint64_t snap = atomic_load(&j->snap_seq);
    if (!snap)
        return 0;
    char err[300], dir[SEG_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/archive", j->dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        journal_set_error(j, "%s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    int moved = 0;
    uint32_t *idx;
    size_t n;
    if (seg_list(j->dir, &idx, &n, err, sizeof err) != 0) {
        journal_set_error(j, "%s", err);
        return -1;
    }
    /* Segment k is superseded when the one after it starts at or before
     * snap + 1 (never the current one or later). */
    for (size_t k = 0; k + 1 < n && idx[k + 1] <= j->cur->index; k++) {
        uint64_t next_first = segment_first_seq(j->dir, idx[k + 1]);
        if (!next_first || next_first > snap + 1)
            break;
        char name[32];
        snprintf(name, sizeof name, "%08u.seg", idx[k]);
        if (archive_file(j, name) != 0)
            break;
        moved++;
    }
    free(idx);
    uint64_t *seqs;
    if (snap_list(j->dir, &seqs, &n, err, sizeof err) == 0) {
        for (size_t k = 0; k < n && seqs[k] < snap; k++) {
            char name[64];
            snprintf(name, sizeof name, "snap-%020llu.snap", (unsigned long long)seqs[k]);
            if (archive_file(j, name) == 0)
                moved++;
        }
        free(seqs);
    }
    fsync(j->dirfd);
    return moved;
}
