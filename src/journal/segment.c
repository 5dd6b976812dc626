/*
 * segment.c - see segment.h.
 *
 * Header layout (little-endian; docs/journal.md):
 *     0  magic "BOURSJNL"      8
 *     8  version (1)           u32
 *    12  header size (64)      u32
 *    16  file size             u64
 *    24  segment index         u32
 *    28  flags                 u32
 *    32  limits: symbols, users, orders, ids, positions   5 x u32
 *    52  engine flags          u32 (bourse_limits.flags; zero before they existed)
 *    56  reserved (zero)       4
 *    60  CRC-32C of bytes 0-59 u32
 */
#include "segment.h"

#include "crc32c.h"
#include "dirlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

void seg_header_encode(uint8_t out[SEG_HEADER], const seg_header *h)
{
    memset(out, 0, SEG_HEADER);
    memcpy(out, SEG_MAGIC, 8);
    put32(out + 8, SEG_VERSION);
    put32(out + 12, SEG_HEADER);
    memcpy(out + 16, &h->bytes, 8);
    put32(out + 24, h->index);
    put32(out + 28, h->flags);
    const uint32_t lim[5] = {h->limits.symbols, h->limits.users, h->limits.orders, h->limits.ids,
                             h->limits.positions};
    memcpy(out + 32, lim, sizeof lim);
    put32(out + 52, h->limits.flags);
    put32(out + 60, crc32c(0, out, 60));
}

const char *seg_header_decode(const uint8_t *buf, size_t len, seg_header *h)
{
    if (len < SEG_HEADER)
        return "file too short for a segment header";
    if (memcmp(buf, SEG_MAGIC, 8) != 0)
        return "not a journal segment (bad magic)";
    if (crc32c(0, buf, 60) != get32(buf + 60))
        return "segment header checksum mismatch";
    if (get32(buf + 8) != SEG_VERSION || get32(buf + 12) != SEG_HEADER)
        return "unsupported segment version";
    memcpy(&h->bytes, buf + 16, 8);
    h->index = get32(buf + 24);
    h->flags = get32(buf + 28);
    uint32_t lim[5];
    memcpy(lim, buf + 32, sizeof lim);
    h->limits = (bourse_limits){lim[0], lim[1], lim[2], lim[3], lim[4], get32(buf + 52)};
    if (h->bytes < SEG_MIN_BYTES || h->flags & ~SEG_FLAG_GROW || h->limits.flags & ~BOURSE_FLAGS_ALL)
        return "bad segment header fields";
    return NULL;
}

void seg_path(char *out, size_t n, const char *dir, uint32_t index)
{
    snprintf(out, n, "%s/%08u.seg", dir, index);
}

/* NNNNNNNN.seg with a nonzero index. */
static int seg_name(const char *name, uint64_t *index)
{
    return dir_number_name(name, "", 8, ".seg", index) && *index > 0;
}

int seg_list(const char *dir, uint32_t **out, size_t *n, char *err, size_t errlen)
{
    uint64_t *all;
    *out = NULL;
    if (dir_list(dir, seg_name, &all, n, err, errlen) != 0)
        return -1;
    if (*n == 0)
        return 0; /* *out stays NULL, as callers expect of an empty directory */
    /* Indices have 8 digits, so they fit 32 bits. */
    *out = malloc(*n * sizeof **out);
    if (*out)
        for (size_t i = 0; i < *n; i++)
            (*out)[i] = (uint32_t)all[i];
    free(all);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int seg_create(const char *dir, const seg_header *h, char *err, size_t errlen)
{
    char tmp[SEG_PATH_MAX], path[SEG_PATH_MAX];
    seg_path(path, sizeof path, dir, h->index);
    snprintf(tmp, sizeof tmp, "%s/%08u.seg.tmp", dir, h->index);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    uint8_t hdr[SEG_HEADER];
    seg_header_encode(hdr, h);
    /* Allocate the blocks now so that writing through the mapping never
     * finds the disk full (a SIGBUS); fall back to a sparse file where the
     * file system cannot (the first write then allocates). */
    int rc = posix_fallocate(fd, 0, (off_t)h->bytes);
    if (rc == EOPNOTSUPP || rc == EINVAL)
        rc = ftruncate(fd, (off_t)h->bytes) == 0 ? 0 : errno;
    if (rc == 0 && pwrite(fd, hdr, SEG_HEADER, 0) != SEG_HEADER)
        rc = errno ? errno : EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = errno;
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(rc));
        close(fd);
        unlink(tmp);
        return -1;
    }
    return fd;
}

const char seg_why_seq[] = "sequence number out of order";

uint8_t *seg_map_read(const char *path, size_t *len, char *err, size_t errlen)
{
    uint64_t size;
    int fd = dir_open(path, O_RDONLY, &size, err, errlen);
    if (fd < 0)
        return NULL;
    *len = (size_t)size;
    if (*len == 0) { /* mmap refuses empty files; the header check reports it */
        close(fd);
        static uint8_t empty[1];
        return empty;
    }
    void *p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "%s: cannot map: %s", path, strerror(errno));
        return NULL;
    }
    madvise(p, *len, MADV_SEQUENTIAL);
    return p;
}

size_t seg_dirty_end(const uint8_t *buf, size_t from, size_t to)
{
    size_t end = to;
    /* Whole words first: the zeros after a segment's records are long. */
    while (end > from && (end - from) % 8)
        if (buf[--end])
            return end + 1;
    while (end > from) {
        uint64_t w;
        memcpy(&w, buf + end - 8, 8);
        if (w) {
            while (!buf[end - 1])
                end--;
            return end;
        }
        end -= 8;
    }
    return from;
}

int seg_valid_record_after(const uint8_t *buf, size_t from, size_t to)
{
    for (size_t p = from; p < to; p++) {
        if (buf[p] == 0 || buf[p] > REC_BODY_MAX || to - p < (size_t)buf[p] + 5)
            continue;
        bourse_cmd c;
        rec_prev prev = {0, 0};
        const char *why;
        if (rec_decode(buf + p, to - p, &c, &prev, &why) > 0)
            return 1;
    }
    return 0;
}

int seg_scan_records(const uint8_t *buf, size_t len, uint64_t expect_seq, uint64_t zero_check,
                     seg_record_fn fn, void *ctx, seg_scan *out)
{
    *out = (seg_scan){.status = SEG_CLEAN, .end = SEG_HEADER};
    size_t off = SEG_HEADER;
    bourse_cmd c;
    for (;;) {
        const char *why = NULL;
        rec_prev before = out->prev;
        int n = rec_decode(buf + off, len - off, &c, &out->prev, &why);
        if (n == REC_END || (n == REC_SHORT && off == len))
            break;
        if (n == REC_SHORT || n == REC_BAD) {
            out->status = SEG_BAD;
            out->bad_off = off;
            out->why = n == REC_SHORT ? "incomplete record" : why;
            return 0;
        }
        uint64_t want = out->records ? out->first_seq + out->records : expect_seq;
        if (want && c.seq != want) {
            out->status = SEG_BAD;
            out->bad_off = off;
            out->why = seg_why_seq;
            out->prev = before;
            return 0;
        }
        if (!out->records)
            out->first_seq = c.seq;
        if (fn && (out->why = fn(ctx, &c, off)) != NULL) {
            out->bad_off = off;
            return -1;
        }
        out->records++;
        off += (size_t)n;
        out->end = off;
    }
    size_t stop = zero_check < len - off ? off + zero_check : len;
    if (seg_dirty_end(buf, off, stop) > off) {
        out->status = SEG_GARBAGE;
        out->bad_off = off;
        out->why = "data after the end of the records";
    }
    return 0;
}
