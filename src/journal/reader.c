/*
 * reader.c - see reader.h: a segment mapped read-only, records decoded in
 * place, and at the end a look at the next segment and a backed-off sleep.
 */
#include "reader.h"

#include "segment.h"
#include "util/clock.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

enum { POLL_MIN_US = 50, POLL_MAX_US = 10000 };

struct jreader {
    char dir[SEG_PATH_MAX];
    uint64_t from_seq;
    uint32_t poll_max_us;
    uint32_t index; /* the mapped segment (0: none yet) */
    uint8_t *buf;
    size_t len;
    size_t off;    /* the next record's offset */
    rec_prev prev; /* the base of its deltas */
    uint64_t last; /* the last seq seen (delivered or skipped); 0: none */
    uint32_t sleep_us;
    seg_header header; /* of the first segment mapped */
    int have_header;
    int stop_fd;
    _Atomic int stopped;
    char error[SEG_PATH_MAX + 256];
};

static void unmap(jreader *r)
{
    if (r->buf && r->len)
        munmap(r->buf, r->len);
    r->buf = NULL;
    r->len = 0;
}

static int fail(jreader *r, const char *fmt, const char *a, unsigned long long b, const char *c)
{
    snprintf(r->error, sizeof r->error, fmt, a, b, c);
    return JREAD_ERROR;
}

/* Map segment file `index` of r's directory read-only into *buf, *len:
 * 1, 0 when it does not exist (yet), -1 with err set when it cannot be
 * mapped.  path gets its name. */
static int map_file(const jreader *r, uint32_t index, char *path, uint8_t **buf, size_t *len, char *err,
                    size_t errlen)
{
    seg_path(path, SEG_PATH_MAX, r->dir, index);
    if (access(path, F_OK) != 0)
        return 0;
    *buf = seg_map_read(path, len, err, errlen);
    return *buf ? 1 : -1;
}

/* Map segment `index`; 1, 0 when it does not exist (yet), or JREAD_ERROR. */
static int map(jreader *r, uint32_t index)
{
    char path[SEG_PATH_MAX], err[600];
    size_t len;
    uint8_t *buf;
    int m = map_file(r, index, path, &buf, &len, err, sizeof err);
    if (m <= 0) {
        if (m < 0)
            snprintf(r->error, sizeof r->error, "%s", err);
        return m < 0 ? JREAD_ERROR : 0;
    }
    seg_header h;
    const char *why = seg_header_decode(buf, len, &h);
    if (!why && h.index != index)
        why = "header names another segment";
    if (why) {
        if (len)
            munmap(buf, len);
        return fail(r, "%s: offset %llu: %s", path, 0, why);
    }
    unmap(r);
    if (!r->have_header) {
        r->header = h;
        r->have_header = 1;
    }
    r->buf = buf;
    r->len = len;
    r->index = index;
    r->off = SEG_HEADER;
    r->prev = (rec_prev){0, 0};
    return 1;
}

/* The seq of segment index's first record: 0 when it has none (yet) or
 * does not exist. */
static uint64_t first_seq_of(const jreader *r, uint32_t index)
{
    char path[SEG_PATH_MAX], err[600];
    size_t len;
    uint8_t *buf;
    if (map_file(r, index, path, &buf, &len, err, sizeof err) <= 0)
        return 0;
    uint64_t seq = 0;
    bourse_cmd c;
    rec_prev prev = {0, 0};
    const char *why;
    if (len > SEG_HEADER && rec_decode(buf + SEG_HEADER, len - SEG_HEADER, &c, &prev, &why) > 0)
        seq = c.seq;
    if (len)
        munmap(buf, len);
    return seq;
}

/* Choose the segment to start in: the last whose first record is at or
 * before from_seq (or the first segment, while none has records).  1 when
 * mapped, 0 when the directory has no segment yet, or JREAD_ERROR. */
static int locate(jreader *r)
{
    uint32_t *idx;
    size_t n;
    char err[600];
    if (seg_list(r->dir, &idx, &n, err, sizeof err) != 0) {
        snprintf(r->error, sizeof r->error, "%s", err);
        return JREAD_ERROR;
    }
    if (n == 0)
        return 0;
    uint32_t pick = idx[0];
    uint64_t first = first_seq_of(r, idx[0]);
    if (first > r->from_seq) {
        free(idx);
        snprintf(r->error, sizeof r->error,
                 "%s: seq %llu is no longer in the journal, which starts at seq %llu (archived?)", r->dir,
                 (unsigned long long)r->from_seq, (unsigned long long)first);
        return JREAD_ERROR;
    }
    for (size_t k = 1; k < n; k++) {
        uint64_t f = first_seq_of(r, idx[k]);
        if (!f || f > r->from_seq)
            break;
        pick = idx[k];
    }
    free(idx);
    return map(r, pick);
}

/* Sleep until the stop fd is written or us pass; 1 when stopped. */
static int nap(jreader *r, uint32_t us)
{
    struct pollfd p = {.fd = r->stop_fd, .events = POLLIN};
    struct timespec t = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    ppoll(&p, 1, &t, NULL);
    return atomic_load(&r->stopped);
}

/*
 * One look: JREAD_RECORD, JREAD_TIMEOUT (nothing yet: wait), JREAD_ERROR.
 */
static int look(jreader *r, bourse_cmd *c)
{
    if (!r->buf) {
        int m = locate(r);
        if (m <= 0)
            return m == 0 ? JREAD_TIMEOUT : JREAD_ERROR;
    }
    for (;;) {
        const char *why = NULL;
        rec_prev before = r->prev;
        int n = rec_decode(r->buf + r->off, r->len - r->off, c, &r->prev, &why);
        if (n > 0) {
            if (r->last && c->seq != r->last + 1) {
                char path[SEG_PATH_MAX];
                seg_path(path, sizeof path, r->dir, r->index);
                r->prev = before;
                return fail(r, "%s: offset %llu: %s", path, r->off, "sequence number out of order");
            }
            r->off += (size_t)n;
            r->last = c->seq;
            if (c->seq < r->from_seq)
                continue; /* before the start asked for */
            return JREAD_RECORD;
        }
        r->prev = before;
        /* The end of what is written here, or a record being written.
         * Has the writer moved on to the next segment? */
        if (!first_seq_of(r, r->index + 1))
            return JREAD_TIMEOUT;
        /* It has: everything in this one was written before. */
        n = rec_decode(r->buf + r->off, r->len - r->off, c, &r->prev, &why);
        r->prev = before;
        if (n > 0)
            continue;
        if (n != REC_END && !(n == REC_SHORT && r->off == r->len)) {
            char path[SEG_PATH_MAX];
            seg_path(path, sizeof path, r->dir, r->index);
            return fail(r, "%s: offset %llu: %s", path, r->off, n == REC_SHORT ? "incomplete record" : why);
        }
        int m = map(r, r->index + 1);
        if (m <= 0)
            return m == 0 ? JREAD_TIMEOUT : JREAD_ERROR;
    }
}

int jreader_next(jreader *r, bourse_cmd *c, int timeout_ms)
{
    int64_t until = timeout_ms < 0 ? INT64_MAX : mono_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        if (atomic_load(&r->stopped))
            return JREAD_STOPPED;
        int rc = look(r, c);
        if (rc != JREAD_TIMEOUT) {
            if (rc == JREAD_RECORD)
                r->sleep_us = POLL_MIN_US;
            return rc;
        }
        int64_t now = mono_ns();
        if (now >= until)
            return JREAD_TIMEOUT;
        uint64_t us = r->sleep_us;
        if (until != INT64_MAX && (uint64_t)(until - now) / 1000 + 1 < us)
            us = (uint64_t)(until - now) / 1000 + 1;
        if (nap(r, (uint32_t)us))
            return JREAD_STOPPED;
        r->sleep_us = r->sleep_us * 2 > r->poll_max_us ? r->poll_max_us : r->sleep_us * 2;
    }
}

int jreader_open(const jreader_config *cfg, jreader **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg->dir || strlen(cfg->dir) > SEG_PATH_MAX - 64) {
        snprintf(err, errlen, "journal reader: no (or too long a) data directory");
        return -1;
    }
    jreader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(r->dir, sizeof r->dir, "%s", cfg->dir);
    r->from_seq = cfg->from_seq ? cfg->from_seq : 1;
    r->poll_max_us = cfg->poll_max_us ? cfg->poll_max_us : POLL_MAX_US;
    if (r->poll_max_us < POLL_MIN_US)
        r->poll_max_us = POLL_MIN_US;
    r->sleep_us = POLL_MIN_US;
    r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->stop_fd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

uint64_t jreader_position(const jreader *r)
{
    return r->last >= r->from_seq ? r->last : r->from_seq - 1;
}

int jreader_limits(const jreader *r, bourse_limits *limits, int *grow)
{
    if (!r->have_header)
        return -1;
    *limits = r->header.limits;
    *grow = (r->header.flags & SEG_FLAG_GROW) != 0;
    return 0;
}

const char *jreader_error(const jreader *r)
{
    return r->error;
}

void jreader_stop(jreader *r)
{
    atomic_store(&r->stopped, 1);
    uint64_t one = 1;
    ssize_t w = write(r->stop_fd, &one, sizeof one);
    (void)w;
}

void jreader_close(jreader *r)
{
    if (!r)
        return;
    unmap(r);
    close(r->stop_fd);
    free(r);
}
