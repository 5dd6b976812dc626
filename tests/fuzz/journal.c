/*
 * tests/fuzz/journal.c - libFuzzer target for everything that reads the
 * journal: record decoding, segment scanning, the torn-tail/damage
 * decision, replay of decoded commands into an engine, and snapshot
 * loading.  Built and run by `make fuzz` (long) and tests/sh/journal_fuzz.sh
 * (a few seconds in `make test`).
 *
 * The first input byte picks what the rest is:
 *   0: a whole segment file, header included, scanned as is
 *   1: a segment's records (len byte, body, 4 bytes of checksum) whose
 *      checksums the harness recomputes, so the fuzzer reaches the decoder
 *      and the engine instead of stopping at CRC mismatches; the segment is
 *      scanned and its commands applied
 *   2: an engine snapshot stream for bourse_engine_load
 *   3: like 1, then a byte of the result damaged, and the directory-level
 *      scan (torn tail or refusal) run on it from a tmpfs file
 * Nothing may crash, leak or read out of bounds; whatever decodes must be
 * applicable to an engine whose ids it fits.
 */
#include "bourse/bourse.h"
#include "journal/crc32c.h"
#include "journal/record.h"
#include "journal/scan.h"
#include "journal/segment.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { SEG = 8192 };

static void drop(void *ctx, const bourse_cmd *c, const bourse_event *ev)
{
    (void)ctx, (void)c, (void)ev;
}

static const char *apply(void *ctx, const bourse_cmd *c, uint64_t off)
{
    (void)off;
    bourse_engine *e = ctx;
    if (c->user != BOURSE_NONE && !bourse_user_name(e, c->user))
        return "unknown user id";
    if (c->symbol != BOURSE_NONE && c->symbol != BOURSE_CASH && !bourse_symbol_name_of(e, c->symbol))
        return "unknown symbol id";
    bourse_engine_apply(e, c, drop, NULL);
    return NULL;
}

/* Header + records with recomputed checksums; returns the segment length. */
static size_t build_segment(uint8_t *seg, const uint8_t *d, size_t n)
{
    seg_header h = {.bytes = SEG,
                    .index = 1,
                    .limits = {.symbols = 8, .users = 16, .orders = 64, .ids = 256, .positions = 64}};
    memset(seg, 0, SEG);
    seg_header_encode(seg, &h);
    size_t at = SEG_HEADER;
    for (size_t i = 0; i < n;) {
        size_t len = d[i++] & 0x7f;
        if (len == 0 || len > n - i || at + 1 + len + 4 > SEG)
            break;
        seg[at] = (uint8_t)len;
        memcpy(seg + at + 1, d + i, len);
        uint32_t crc = crc32c(0, seg + at, 1 + len);
        memcpy(seg + at + 1 + len, &crc, 4);
        at += 1 + len + 4;
        i += len + 4 < n - i ? len + 4 : n - i; /* skip the input's checksum bytes */
    }
    return SEG;
}

static void scan_and_apply(const uint8_t *seg, size_t len)
{
    seg_header h;
    if (seg_header_decode(seg, len, &h) != NULL)
        return;
    bourse_limits lim = {.symbols = 8, .users = 16, .orders = 64, .ids = 256, .positions = 64};
    bourse_engine *e = bourse_engine_new(&lim);
    seg_scan r;
    seg_scan_records(seg, len, 0, UINT64_MAX, apply, e, &r);
    if (r.status != SEG_CLEAN)
        seg_valid_record_after(seg, r.bad_off + 1, len);
    bourse_engine_hash(e);
    bourse_engine_free(e);
}

typedef struct mem {
    const uint8_t *p;
    size_t left;
} mem;

static int mem_read(void *ctx, void *buf, size_t n)
{
    mem *m = ctx;
    if (n > m->left)
        return -1;
    memcpy(buf, m->p, n);
    m->p += n, m->left -= n;
    return 0;
}

static void dir_scan(const uint8_t *seg, size_t len, size_t flip)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/bourse-fuzz-%d", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
                 (int)getpid());
        mkdir(dir, 0755);
    }
    char path[SEG_PATH_MAX];
    seg_path(path, sizeof path, dir, 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    uint8_t *copy = malloc(len);
    memcpy(copy, seg, len);
    copy[flip % len] ^= (uint8_t)(1u << (flip / len % 8));
    if (write(fd, copy, len) != (ssize_t)len)
        len = 0;
    close(fd);
    free(copy);
    char err[600];
    jscan s = {.dir = dir, .zero_check = UINT64_MAX};
    jscan_run(&s, err, sizeof err);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static uint8_t seg[SEG];
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0: {
        seg_scan r;
        seg_header h;
        if (seg_header_decode(d, n, &h) == NULL)
            seg_scan_records(d, n, 0, UINT64_MAX, NULL, NULL, &r);
        scan_and_apply(d, n);
        break;
    }
    case 1: scan_and_apply(seg, build_segment(seg, d, n)); break;
    case 2: {
        /* Capacities and table sizes (u32 words 5 to 14 after the magic and
         * version) are taken as asked; keep them small so the fuzzer looks
         * at parsing, not at the allocator. */
        for (size_t w = 5; w <= 14; w++) {
            uint32_t v;
            if (n >= 12 + 4 * (w + 1) && (memcpy(&v, d + 12 + 4 * w, 4), v > (1u << 16)))
                return 0;
        }
        mem m = {d, n};
        char err[200];
        bourse_engine *e = bourse_engine_load(mem_read, &m, err, sizeof err);
        if (e) {
            bourse_cmd c = {.type = BOURSE_CMD_CLOSE};
            bourse_engine_apply(e, &c, drop, NULL);
            bourse_engine_hash(e);
            bourse_engine_free(e);
        }
        break;
    }
    default: {
        size_t flip = n >= 2 ? (size_t)d[0] << 8 | d[1] : 0;
        size_t len = build_segment(seg, n >= 2 ? d + 2 : d, n >= 2 ? n - 2 : n);
        dir_scan(seg, len, flip * 7);
    }
    }
    return 0;
}
