/*
 * proto_fix_store.c - a FIX session's message store, as QuickFIX's
 * FileStore keeps one: the two sequence numbers, and every application
 * message sent to the client, so a ResendRequest can be answered after a
 * reconnect or a restart of the server.
 *
 * Files, in DATA/fix/: USER.seqnums (the next sequence number expected
 * from the client and the next one to send, 20 digits each, rewritten in
 * place) and USER.body (records [u32 length][u64 seq][message as sent],
 * appended).  At open the body is read once to index each kept message by
 * its sequence number; a torn last record (a crash mid-write) is cut.
 * Nothing is synced to disk: a message the client did not get before a
 * crash of the machine is gap-filled rather than resent, which FIX allows,
 * and the orders themselves are in the journal.
 *
 * Later (replicas, issue #12) this store is derived data: every message is
 * a function of the journal's events and the session's own requests, so a
 * new leader rebuilds each session's numbering from the log as the OUCH
 * streams would, and these files become a cache.
 */
#include "server/proto_fix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int keep_off(fix_store *st, uint64_t seq, uint64_t off)
{
    if (seq >= st->off_cap) {
        uint64_t n = st->off_cap ? st->off_cap : 1024;
        while (n <= seq)
            n *= 2;
        uint64_t *o = realloc(st->off, n * sizeof *o);
        if (!o)
            return -1;
        memset(o + st->off_cap, 0, (n - st->off_cap) * sizeof *o);
        st->off = o;
        st->off_cap = n;
    }
    st->off[seq] = off + 1;
    return 0;
}

static void load_body(fix_store *st)
{
    uint64_t at = 0;
    for (;;) {
        uint8_t h[12];
        if (pread(st->body_fd, h, sizeof h, (off_t)at) != (ssize_t)sizeof h)
            break;
        uint32_t len;
        uint64_t seq;
        memcpy(&len, h, 4);
        memcpy(&seq, h + 4, 8);
        struct stat sb;
        if (len == 0 || len > FIX_OUT_MAX || fstat(st->body_fd, &sb) != 0 ||
            at + 12 + len > (uint64_t)sb.st_size || seq == 0 || seq > (1ULL << 40))
            break;
        if (keep_off(st, seq, at) != 0)
            break;
        at += 12 + len;
    }
    st->body_end = at;
    if (ftruncate(st->body_fd, (off_t)at) != 0) {
        /* a torn tail stays; it is overwritten by the next message */
    }
}

int fix_store_open(fix_store *st, const char *dir, const char *user, int reset)
{
    memset(st, 0, sizeof *st);
    st->seq_fd = st->body_fd = -1;
    char path[SRV_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/fix", dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    snprintf(path, sizeof path, "%s/fix/%s.seqnums", dir, user);
    st->seq_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    snprintf(path, sizeof path, "%s/fix/%s.body", dir, user);
    st->body_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (st->seq_fd < 0 || st->body_fd < 0) {
        fix_store_close(st);
        return -1;
    }
    char b[41] = {0};
    unsigned long long in = 1, out = 1;
    if (!reset && pread(st->seq_fd, b, 40, 0) == 40 && sscanf(b, "%20llu%20llu", &in, &out) == 2 && in >= 1 &&
        out >= 1) {
        st->next_in = in;
        st->next_out = out;
        load_body(st);
    } else {
        fix_store_reset(st);
    }
    return 0;
}

void fix_store_close(fix_store *st)
{
    if (st->seq_fd >= 0)
        close(st->seq_fd);
    if (st->body_fd >= 0)
        close(st->body_fd);
    free(st->off);
    memset(st, 0, sizeof *st);
    st->seq_fd = st->body_fd = -1;
}

void fix_store_seqs(fix_store *st)
{
    char b[48];
    snprintf(b, sizeof b, "%020llu%020llu", (unsigned long long)st->next_in,
             (unsigned long long)st->next_out);
    if (pwrite(st->seq_fd, b, 40, 0) != 40) {
        /* the disk is full: the numbers are still right in memory */
    }
}

void fix_store_reset(fix_store *st)
{
    st->next_in = st->next_out = 1;
    if (st->off)
        memset(st->off, 0, st->off_cap * sizeof *st->off);
    st->body_end = 0;
    if (ftruncate(st->body_fd, 0) != 0) {
        /* the old messages stay unreachable: they are no longer indexed */
    }
    fix_store_seqs(st);
}

int fix_store_put(fix_store *st, uint64_t seq, const char *msg, size_t n)
{
    uint8_t h[12];
    uint32_t len = (uint32_t)n;
    memcpy(h, &len, 4);
    memcpy(h + 4, &seq, 8);
    if (pwrite(st->body_fd, h, sizeof h, (off_t)st->body_end) != (ssize_t)sizeof h ||
        pwrite(st->body_fd, msg, n, (off_t)(st->body_end + sizeof h)) != (ssize_t)n)
        return -1;
    if (keep_off(st, seq, st->body_end) != 0)
        return -1;
    st->body_end += sizeof h + n;
    return 0;
}

size_t fix_store_get(const fix_store *st, uint64_t seq, char *buf, size_t cap)
{
    if (seq >= st->off_cap || !st->off[seq])
        return 0;
    uint64_t at = st->off[seq] - 1;
    uint8_t h[12];
    if (pread(st->body_fd, h, sizeof h, (off_t)at) != (ssize_t)sizeof h)
        return 0;
    uint32_t len;
    memcpy(&len, h, 4);
    if (len > cap || pread(st->body_fd, buf, len, (off_t)(at + sizeof h)) != (ssize_t)len)
        return 0;
    return len;
}
