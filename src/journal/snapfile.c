/*
 * snapfile.c - see snapfile.h.
 *
 * Header layout (little-endian; docs/journal.md):
 *     0  magic "BOURSNAP"   8        32  engine hash       u64
 *     8  version (1)        u32      40  body size         u64
 *    12  header size (64)   u32      48  body CRC-32C      u32
 *    16  seq                u64      52  flags             u32
 *    24  timestamp (ns)     i64      56  reserved (zero)   u32
 *                                    60  CRC-32C of 0-59   u32
 */
#include "snapfile.h"

#include "crc32c.h"
#include "dirlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "BOURSNAP"
#define VERSION 1u

void snap_path(char *out, size_t n, const char *dir, uint64_t seq)
{
    snprintf(out, n, "%s/snap-%020llu.snap", dir, (unsigned long long)seq);
}

static int snap_name(const char *name, uint64_t *seq)
{
    return dir_number_name(name, "snap-", 20, ".snap", seq);
}

int snap_list(const char *dir, uint64_t **out, size_t *n, char *err, size_t errlen)
{
    return dir_list(dir, snap_name, out, n, err, errlen);
}

static void header_encode(uint8_t *h, const snap_info *in)
{
    memset(h, 0, SNAP_FILE_HEADER);
    memcpy(h, MAGIC, 8);
    uint32_t v = VERSION, hs = SNAP_FILE_HEADER;
    memcpy(h + 8, &v, 4);
    memcpy(h + 12, &hs, 4);
    memcpy(h + 16, &in->seq, 8);
    memcpy(h + 24, &in->ts_ns, 8);
    memcpy(h + 32, &in->hash, 8);
    memcpy(h + 40, &in->body_bytes, 8);
    memcpy(h + 48, &in->body_crc, 4);
    memcpy(h + 52, &in->flags, 4);
    uint32_t crc = crc32c(0, h, 60);
    memcpy(h + 60, &crc, 4);
}

static const char *header_decode(const uint8_t *h, snap_info *out)
{
    uint32_t v, hs, crc;
    memcpy(&v, h + 8, 4);
    memcpy(&hs, h + 12, 4);
    memcpy(&crc, h + 60, 4);
    if (memcmp(h, MAGIC, 8) != 0)
        return "not a snapshot (bad magic)";
    if (crc32c(0, h, 60) != crc)
        return "header checksum mismatch";
    if (v != VERSION || hs != SNAP_FILE_HEADER)
        return "unsupported snapshot version";
    memcpy(&out->seq, h + 16, 8);
    memcpy(&out->ts_ns, h + 24, 8);
    memcpy(&out->hash, h + 32, 8);
    memcpy(&out->body_bytes, h + 40, 8);
    memcpy(&out->body_crc, h + 48, 4);
    memcpy(&out->flags, h + 52, 4);
    return NULL;
}

/* ---- writing ---- */

typedef struct out_file {
    int fd;
    uint8_t buf[64 * 1024];
    size_t len;
    uint64_t total;
    uint32_t crc;
    int err; /* errno */
} out_file;

static int out_flush(out_file *o)
{
    for (size_t done = 0; done < o->len && !o->err;) {
        ssize_t w = write(o->fd, o->buf + done, o->len - done);
        if (w < 0 && errno != EINTR)
            o->err = errno;
        else if (w > 0)
            done += (size_t)w;
    }
    o->len = 0;
    return o->err;
}

static int out_write(void *ctx, const void *p, size_t n)
{
    out_file *o = ctx;
    o->crc = crc32c(o->crc, p, n);
    o->total += n;
    if (o->len + n > sizeof o->buf && out_flush(o))
        return -1;
    if (n > sizeof o->buf) { /* the engine writes 4 KiB at most; be general anyway */
        ssize_t w = write(o->fd, p, n);
        return w == (ssize_t)n ? 0 : (o->err = errno ? errno : EIO, -1);
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

int snap_save(const char *dir, const bourse_engine *e, const snap_info *info, const int *sync_fds, int nfds,
              char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    snap_path(path, sizeof path, dir, info->seq);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    out_file o = {.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (o.fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    snap_info h = *info;
    h.hash = bourse_engine_hash(e);
    uint8_t hdr[SNAP_FILE_HEADER] = {0};
    const char *step = "write";
    int rc = lseek(o.fd, SNAP_FILE_HEADER, SEEK_SET) < 0 ? errno : 0;
    if (!rc && (bourse_engine_save(e, out_write, &o) != 0 || out_flush(&o)))
        rc = o.err ? o.err : EIO;
    if (!rc) {
        h.body_bytes = o.total;
        h.body_crc = o.crc;
        header_encode(hdr, &h);
        if (pwrite(o.fd, hdr, SNAP_FILE_HEADER, 0) != SNAP_FILE_HEADER)
            rc = errno ? errno : EIO;
    }
    if (!rc && fdatasync(o.fd) != 0)
        rc = errno, step = "sync";
    for (int i = 0; !rc && i < nfds; i++)
        if (sync_fds[i] >= 0 && fdatasync(sync_fds[i]) != 0)
            rc = errno, step = "sync the journal for";
    if (!rc && rename(tmp, path) != 0)
        rc = errno, step = "rename";
    close(o.fd);
    if (rc) {
        unlink(tmp);
        snprintf(err, errlen, "%s: cannot %s: %s", path, step, strerror(rc));
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* ---- reading ---- */

int snap_read_info(const char *path, snap_info *info, char *err, size_t errlen)
{
    uint8_t hdr[SNAP_FILE_HEADER];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    ssize_t got = pread(fd, hdr, sizeof hdr, 0);
    close(fd);
    const char *why = got != (ssize_t)sizeof hdr ? "too short for a snapshot" : header_decode(hdr, info);
    if (why) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    return 0;
}

typedef struct in_mem {
    const uint8_t *p;
    size_t left;
} in_mem;

static int in_read(void *ctx, void *buf, size_t n)
{
    in_mem *m = ctx;
    if (n > m->left)
        return -1;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return 0;
}

bourse_engine *snap_load(const char *path, snap_info *info, char *err, size_t errlen)
{
    if (snap_read_info(path, info, err, errlen) != 0)
        return NULL;
    uint64_t size;
    int fd = dir_open(path, O_RDONLY, &size, err, errlen);
    if (fd < 0)
        return NULL;
    if (size != SNAP_FILE_HEADER + info->body_bytes) {
        close(fd);
        snprintf(err, errlen, "%s: size %lld, header says %llu", path, (long long)size,
                 (unsigned long long)(SNAP_FILE_HEADER + info->body_bytes));
        return NULL;
    }
    uint8_t *body = malloc(info->body_bytes ? info->body_bytes : 1);
    size_t have = 0;
    while (body && have < info->body_bytes) {
        ssize_t r = pread(fd, body + have, info->body_bytes - have, (off_t)(SNAP_FILE_HEADER + have));
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    close(fd);
    bourse_engine *e = NULL;
    if (!body)
        snprintf(err, errlen, "%s: out of memory", path);
    else if (have != info->body_bytes)
        snprintf(err, errlen, "%s: read error", path);
    else if (crc32c(0, body, have) != info->body_crc)
        snprintf(err, errlen, "%s: body checksum mismatch", path);
    else {
        in_mem m = {body, have};
        char why[160];
        e = bourse_engine_load(in_read, &m, why, sizeof why);
        if (!e)
            snprintf(err, errlen, "%s: %s", path, why);
        else if (m.left) {
            snprintf(err, errlen, "%s: trailing bytes after the engine state", path);
            bourse_engine_free(e), e = NULL;
        } else if (bourse_engine_hash(e) != info->hash) {
            snprintf(err, errlen, "%s: state hash differs from the header's", path);
            bourse_engine_free(e), e = NULL;
        }
    }
    free(body);
    return e;
}
