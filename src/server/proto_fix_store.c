/*
 * proto_fix_store.c - a FIX session's message store: the two sequence
 * numbers, and every application message sent to the client, so a
 * ResendRequest can be answered after a reconnect or a restart of the
 * server.
 *
 * One file per session, DATA/fix/USER.log, appended to and never rewritten
 * (but cut to nothing by a ResetSeqNumFlag=Y Logon).  It holds records of
 * two kinds, each a 12-byte head [u32 length][u64 seq] and what follows:
 *   - a message, length > 0: the message as sent, numbered seq;
 *   - the numbers, length 0: seq is the next number to send, and 8 more
 *     bytes the next number expected from the client.
 * At open the log is read once, in large reads, to index each kept message
 * by its sequence number and to take the last numbers record; anything
 * after the last numbers record is cut (see below).  A store of the first
 * version (USER.seqnums and USER.body) is taken into an empty log.
 *
 * Cost.  The store is written on the gateway thread, so it is written once
 * per turn of the gateway's loop, not per message: fix_store_put and a
 * change of the numbers only append to the session's pending buffer in
 * memory, and fix_store_flush (called for every session with something
 * pending by the adapter's on_flush hook, which the gateway runs just
 * before it writes any connection's output) appends the buffer and one
 * numbers record with a single pwrite.  A turn that carries a hundred
 * reports to a session costs one system call, not three hundred.
 *
 * What a crash keeps.  Since the store is written before any byte of the
 * same turn reaches a socket, every message a client may have received is
 * in the file (in the page cache) before the client can see it: a crash of
 * the server process loses only messages no client was sent, and the
 * numbers record that ends each write makes a write all or nothing (a
 * tail without one is cut at open, and the numbers go back to what the
 * client could have seen).  Nothing is synced: after a crash of the
 * machine, messages the disk did not get are gap-filled on a resend, which
 * FIX allows, and the orders themselves are in the journal.
 *
 * The store is derived data now (proto_fix_mark.c): the numbers and the
 * reports come from the log, and a numbered session's store starts empty
 * (fix_store_begin, the file truncated at its first flush) and is filled
 * again at each start by the streams' rebuild (streams.c), on every node.
 * fix_store_open, which reads a log back, serves the tests and the first
 * version's files.
 */
#include "server/proto_fix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { HEAD = 12, NUMBERS = HEAD + 8 };

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

/* Room for n more pending bytes (grown by doubling, kept across turns). */
static int reserve(fix_store *st, size_t n)
{
    if (st->pend_len + n <= st->pend_cap)
        return 0;
    size_t cap = st->pend_cap ? st->pend_cap : 4096;
    while (cap < st->pend_len + n)
        cap *= 2;
    char *p = realloc(st->pend, cap);
    if (!p)
        return -1;
    st->pend = p;
    st->pend_cap = cap;
    return 0;
}

/* Read the log: index the messages, take the last numbers record, cut what
 * follows it.  Records that do not hold together end the reading. */
static void load_log(fix_store *st)
{
    struct stat sb;
    if (fstat(st->fd, &sb) != 0)
        return;
    uint64_t size = (uint64_t)sb.st_size, at = 0, good = 0;
    size_t cap = 1 << 20;
    char *b = malloc(cap);
    uint64_t b_at = 0; /* file offset of b[0] */
    size_t b_len = 0;
    while (b && at + HEAD <= size) {
        if (at + HEAD + FIX_OUT_MAX > b_at + b_len && b_at + b_len < size) { /* refill from at */
            ssize_t r = pread(st->fd, b, cap, (off_t)at);
            if (r < HEAD)
                break;
            b_at = at;
            b_len = (size_t)r;
        }
        const char *h = b + (at - b_at);
        uint32_t len;
        uint64_t seq;
        memcpy(&len, h, 4);
        memcpy(&seq, h + 4, 8);
        if (len > FIX_OUT_MAX || seq == 0 || seq > (1ULL << 40))
            break;
        uint64_t rec = len ? HEAD + len : NUMBERS;
        if (at + rec > b_at + b_len)
            break;
        if (len == 0) {
            uint64_t in;
            memcpy(&in, h + HEAD, 8);
            if (in == 0 || in > (1ULL << 40))
                break;
            st->next_out = seq;
            st->next_in = in;
            good = at + rec;
        } else if (keep_off(st, seq, at) != 0) {
            break;
        }
        at += rec;
    }
    free(b);
    /* Messages past the last numbers record were never sent: their numbers
     * (next_out and above) are used again, each indexed anew when put, and
     * none is asked for before (a resend stops below next_out). */
    st->file_end = good;
    if (good < size && ftruncate(st->fd, (off_t)good) != 0) {
        /* the tail stays; the next write overwrites it */
    }
}

/* A store of the first version (USER.seqnums: the two numbers as 20 digits
 * each; USER.body: message records in the same form as the log's) becomes
 * the log: the body's records, then a numbers record; the old files go.
 * Only into an empty log. */
static void import_old(fix_store *st, const char *dir, const char *user)
{
    char path[SRV_PATH_MAX + 64], body[SRV_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/fix/%s.seqnums", dir, user);
    snprintf(body, sizeof body, "%s/fix/%s.body", dir, user);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char b[41] = {0};
    unsigned long long in = 0, out = 0;
    int ok = read(fd, b, 40) == 40 && sscanf(b, "%20llu%20llu", &in, &out) == 2 && in >= 1 && out >= 1 &&
             in <= (1ULL << 40) && out <= (1ULL << 40);
    close(fd);
    if (!ok)
        return;
    int bfd = open(body, O_RDONLY | O_CLOEXEC);
    uint64_t at = 0;
    char chunk[65536];
    ssize_t k;
    while (bfd >= 0 && (k = read(bfd, chunk, sizeof chunk)) > 0) {
        if (pwrite(st->fd, chunk, (size_t)k, (off_t)at) != k) {
            close(bfd);
            return;
        }
        at += (uint64_t)k;
    }
    if (bfd >= 0)
        close(bfd);
    /* a torn record at the old body's end would hide the numbers: keep
     * only whole records */
    uint64_t good = 0;
    for (;;) {
        char h[HEAD];
        uint32_t len;
        if (good + HEAD > at || pread(st->fd, h, HEAD, (off_t)good) != HEAD)
            break;
        memcpy(&len, h, 4);
        if (len == 0 || len > FIX_OUT_MAX || good + HEAD + len > at)
            break;
        good += HEAD + len;
    }
    char n[NUMBERS];
    uint32_t zero = 0;
    uint64_t o = out, i = in;
    memcpy(n, &zero, 4);
    memcpy(n + 4, &o, 8);
    memcpy(n + HEAD, &i, 8);
    if (pwrite(st->fd, n, NUMBERS, (off_t)good) != NUMBERS || ftruncate(st->fd, (off_t)(good + NUMBERS)) != 0)
        return;
    unlink(path);
    unlink(body);
}

int fix_store_open(fix_store *st, const char *dir, const char *user, int reset)
{
    memset(st, 0, sizeof *st);
    st->fd = -1;
    st->next_in = st->next_out = 1;
    char path[SRV_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/fix", dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    snprintf(path, sizeof path, "%s/fix/%s.log", dir, user);
    st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (st->fd < 0)
        return -1;
    struct stat sb;
    if (!reset && fstat(st->fd, &sb) == 0 && sb.st_size == 0)
        import_old(st, dir, user);
    if (reset)
        fix_store_reset(st);
    else
        load_log(st);
    return 0;
}

int fix_store_begin(fix_store *st, const char *dir, const char *user)
{
    memset(st, 0, sizeof *st);
    st->fd = -1;
    st->next_in = st->next_out = 1;
    size_t n = strlen(dir) + strlen(user) + 16;
    if (!(st->path = malloc(n)))
        return -1;
    snprintf(st->path, n, "%s/fix/%s.log", dir, user);
    st->dirty = 1;
    return 0;
}

/* fix_store_begin's file, made now (the fix directory too). */
static int make_file(fix_store *st)
{
    char *slash = strrchr(st->path, '/');
    *slash = 0;
    int r = mkdir(st->path, 0700);
    *slash = '/';
    if (r != 0 && errno != EEXIST)
        return -1;
    st->fd = open(st->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    return st->fd < 0 ? -1 : 0;
}

void fix_store_close(fix_store *st)
{
    fix_store_flush(st);
    if (st->fd >= 0)
        close(st->fd);
    free(st->off);
    free(st->pend);
    free(st->path);
    memset(st, 0, sizeof *st);
    st->fd = -1;
}

void fix_store_reset(fix_store *st)
{
    st->next_in = st->next_out = 1;
    if (st->off)
        memset(st->off, 0, st->off_cap * sizeof *st->off);
    st->file_end = 0;
    st->pend_len = 0;
    if (ftruncate(st->fd, 0) != 0) {
        /* the old records stay; the next write overwrites them */
    }
    st->dirty = 1;
}

int fix_store_put(fix_store *st, uint64_t seq, const char *msg, size_t n)
{
    if (n == 0 || n > FIX_OUT_MAX || reserve(st, HEAD + n) != 0)
        return -1;
    uint32_t len = (uint32_t)n;
    char *h = st->pend + st->pend_len;
    memcpy(h, &len, 4);
    memcpy(h + 4, &seq, 8);
    memcpy(h + HEAD, msg, n);
    if (keep_off(st, seq, st->file_end + st->pend_len) != 0)
        return -1;
    st->pend_len += HEAD + n;
    st->dirty = 1;
    return 0;
}

int fix_store_flush(fix_store *st)
{
    if (st->fd < 0 && st->path && make_file(st) != 0) {
        st->pend_len = 0; /* kept in memory no more than on disk: gap-filled */
        for (uint64_t q = 1; q < st->off_cap; q++)
            st->off[q] = 0;
        return -1;
    }
    if (!st->dirty || st->fd < 0)
        return 0;
    st->dirty = 0;
    if (reserve(st, NUMBERS) != 0) {
        st->pend_len = 0;
        return -1;
    }
    char *h = st->pend + st->pend_len;
    uint32_t zero = 0;
    memcpy(h, &zero, 4);
    memcpy(h + 4, &st->next_out, 8);
    memcpy(h + HEAD, &st->next_in, 8);
    size_t n = st->pend_len + NUMBERS;
    ssize_t w = pwrite(st->fd, st->pend, n, (off_t)st->file_end);
    st->pend_len = 0;
    if (w != (ssize_t)n) {
        /* The disk is full: the numbers are still right in memory and the
         * messages of this turn cannot be resent (they are gap-filled);
         * the next turn writes over what part of this one got out. */
        for (uint64_t q = 1; q < st->off_cap; q++)
            if (st->off[q] && st->off[q] - 1 >= st->file_end)
                st->off[q] = 0;
        return -1;
    }
    st->file_end += n;
    return 0;
}

size_t fix_store_get(const fix_store *st, uint64_t seq, char *buf, size_t cap)
{
    if (seq >= st->off_cap || !st->off[seq])
        return 0;
    uint64_t at = st->off[seq] - 1;
    char h[HEAD];
    const char *body = NULL;
    if (at >= st->file_end) { /* still pending: this turn's */
        if (at - st->file_end + HEAD > st->pend_len)
            return 0;
        body = st->pend + (at - st->file_end);
        memcpy(h, body, HEAD);
        body += HEAD;
    } else if (pread(st->fd, h, HEAD, (off_t)at) != HEAD) {
        return 0;
    }
    uint32_t len;
    uint64_t was;
    memcpy(&len, h, 4);
    memcpy(&was, h + 4, 8);
    if (len == 0 || len > cap || was != seq)
        return 0;
    if (body)
        memcpy(buf, body, len);
    else if (pread(st->fd, buf, len, (off_t)(at + HEAD)) != (ssize_t)len)
        return 0;
    return len;
}
