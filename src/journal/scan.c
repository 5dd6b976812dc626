/*
 * scan.c - see scan.h.
 */
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct mapped {
    char path[SEG_PATH_MAX];
    uint8_t *buf;
    size_t len;
} mapped;

static int map_seg(const jscan *s, uint32_t index, mapped *m, char *err, size_t errlen)
{
    seg_path(m->path, sizeof m->path, s->dir, index);
    m->buf = seg_map_read(m->path, &m->len, err, errlen);
    return m->buf ? 0 : -1;
}

static void unmap_seg(mapped *m)
{
    if (m->buf && m->len)
        munmap(m->buf, m->len);
    m->buf = NULL;
}

static int fail_at(char *err, size_t errlen, const mapped *m, uint64_t off, const char *why)
{
    snprintf(err, errlen, "%s: offset %llu: %s", m->path, (unsigned long long)off, why);
    return -1;
}

/* Header checks shared by every segment; h0 is the first segment's. */
static int check_header(const mapped *m, uint32_t index, const seg_header *h0, seg_header *h, char *err,
                        size_t errlen)
{
    const char *why = seg_header_decode(m->buf, m->len, h);
    if (!why && h->index != index)
        why = "header names another segment";
    if (!why && m->len > h->bytes)
        why = "file longer than its header says";
    if (!why && h0 && (h->flags != h0->flags || memcmp(&h->limits, &h0->limits, sizeof h->limits) != 0))
        why = "header differs from the first segment's (limits or flags)";
    return why ? fail_at(err, errlen, m, 0, why) : 0;
}

/* The seq of the segment's first record, 0 if it has no valid one. */
static uint64_t first_seq_of(const mapped *m)
{
    bourse_cmd c;
    rec_prev prev = {0, 0};
    const char *why;
    return m->len > SEG_HEADER && rec_decode(m->buf + SEG_HEADER, m->len - SEG_HEADER, &c, &prev, &why) > 0
               ? c.seq
               : 0;
}

typedef struct filter {
    jscan *s;
} filter;

static const char *deliver(void *ctx, const bourse_cmd *c, uint64_t off)
{
    (void)off;
    jscan *s = ctx;
    if (c->seq < s->from_seq || !s->on_record)
        return NULL;
    return s->on_record(s->ctx, c);
}

static size_t window_end(size_t from, uint64_t window, size_t len)
{
    return window < len - from ? from + (size_t)window : len;
}

/*
 * Pass 1: every header (sound, and agreeing with the first), the first
 * record's seq, and which segment is the active one: the last with data.
 */
static int find_active(jscan *s, const uint32_t *idx, char *err, size_t errlen)
{
    s->active_index = idx[0];
    for (uint32_t k = 0; k < s->nsegs; k++) {
        mapped m;
        seg_header h;
        if (map_seg(s, idx[k], &m, err, errlen) != 0)
            return -1;
        int rc = check_header(&m, idx[k], k ? &s->header : NULL, &h, err, errlen);
        if (rc == 0 && k == 0) {
            s->header = h;
            s->first_seq = first_seq_of(&m);
        }
        size_t end = window_end(SEG_HEADER, s->zero_check, m.len);
        if (rc == 0 && seg_dirty_end(m.buf, SEG_HEADER, end) > SEG_HEADER)
            s->active_index = idx[k];
        unmap_seg(&m);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The first segment worth reading for from_seq: skip those whose successor
 * starts at or before it. */
static uint32_t first_to_read(jscan *s, const uint32_t *idx, uint32_t nactive, char *err, size_t errlen)
{
    uint32_t k = 0;
    while (s->from_seq > 1 && k + 1 < nactive) {
        mapped m;
        if (map_seg(s, idx[k + 1], &m, err, errlen) != 0)
            return k;
        uint64_t next_first = first_seq_of(&m);
        unmap_seg(&m);
        if (!next_first || next_first > s->from_seq)
            break;
        k++;
    }
    return k;
}

static int scan_segments(jscan *s, const uint32_t *idx, char *err, size_t errlen)
{
    uint32_t nactive = s->active_index - idx[0] + 1;
    uint32_t start = first_to_read(s, idx, nactive, err, errlen);
    uint64_t expect = 0;
    for (uint32_t k = start; k < nactive; k++) {
        int active = k + 1 == nactive;
        mapped m;
        if (map_seg(s, idx[k], &m, err, errlen) != 0)
            return -1;
        seg_scan r;
        uint64_t zc = active ? s->zero_check : UINT64_MAX;
        int rc = seg_scan_records(m.buf, m.len, expect, zc, deliver, s, &r);
        if (rc != 0) {
            rc = fail_at(err, errlen, &m, r.bad_off, r.why);
        } else if (r.status != SEG_CLEAN) {
            size_t end = window_end(r.bad_off, zc, m.len);
            if (!active || r.why == seg_why_seq) {
                rc = fail_at(err, errlen, &m, r.bad_off, r.why);
            } else if (seg_valid_record_after(m.buf, r.bad_off + 1, end)) {
                char why[200];
                snprintf(why, sizeof why, "%s, and valid records follow (not a torn tail)", r.why);
                rc = fail_at(err, errlen, &m, r.bad_off, why);
            } else {
                s->torn_off = r.bad_off;
                s->torn_bytes = seg_dirty_end(m.buf, r.bad_off, end) - r.bad_off;
                s->torn_why = r.why;
            }
        } else if (!active && r.records == 0) {
            rc = fail_at(err, errlen, &m, SEG_HEADER, "segment has no records but later ones do");
        }
        if (rc == 0 && r.records) {
            s->last_seq = r.prev.seq;
            s->last_ts = r.prev.ts;
            expect = r.prev.seq + 1;
        }
        s->records += r.records;
        if (active) {
            s->active_end = r.end;
            s->active_prev = r.prev;
            seg_header h;
            seg_header_decode(m.buf, m.len, &h);
            s->active_bytes = h.bytes;
        }
        unmap_seg(&m);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int jscan_run(jscan *s, char *err, size_t errlen)
{
    if (s->zero_check == 0)
        s->zero_check = JSCAN_WINDOW;
    uint32_t *idx;
    size_t n;
    if (seg_list(s->dir, &idx, &n, err, errlen) != 0)
        return -1;
    s->nsegs = (uint32_t)n;
    if (n == 0)
        return 0;
    int rc = 0;
    for (size_t k = 1; k < n && rc == 0; k++) {
        if (idx[k] != idx[0] + k) {
            snprintf(err, errlen, "%s/%08u.seg: missing (segments must be numbered without gaps)", s->dir,
                     idx[0] + (uint32_t)k);
            rc = -1;
        }
    }
    s->first_index = idx[0];
    s->last_index = idx[n - 1];
    if (rc == 0)
        rc = find_active(s, idx, err, errlen);
    if (rc == 0)
        rc = scan_segments(s, idx, err, errlen);
    free(idx);
    return rc;
}
