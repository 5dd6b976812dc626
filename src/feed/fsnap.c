/*
 * fsnap.c - feed snapshot files (fsnap.h).
 *
 * Body, after the 64-byte header (little-endian, as the journal's files):
 *
 *   u64 next order ref, u64 next match number, i64 publisher timestamp,
 *   u32 market open (0/1), u32 symbols
 *   per symbol, in id order:
 *     name[8]; i64 last price, last shares, session volume; u64 session
 *     trades; i64 time of the last trade; u32 aggressor side of it
 *     per interval (1m 5m 1h 1d 1w 1M): u32 n, then n candles oldest first
 *       (i64 start, open, high, low, close, volume)
 *     u64 trades ever, u32 kept (= min(ever, 1024)), then the kept ones
 *       oldest first (i64 ts, price, shares; u64 match; u32 aggressor side)
 *   u64 resting orders, then their refs (u64) in canonical order
 *   u32 book digest: CRC-32C chained over (u32 symbol, u32 side, i64 price,
 *       u32 shares, u64 ref) of each resting order in that order
 *
 * Loading is two walks over the same bytes with the same code: the first
 * only checks (so a bad file changes nothing), the second applies.  Each
 * walk pairs the saved refs with the engine's resting orders, which
 * bourse_engine_each_order visits in the canonical order too.
 */
#include "feed/fsnap.h"

#include "journal/crc32c.h"
#include "journal/dirlist.h"
#include "journal/snapfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAGIC "BOURFEED"
#define VERSION 1u
#define MAX_CANDLES (1u << 20) /* per ring: far above any configured depth */

void fsnap_path(char *out, size_t n, const char *dir, uint64_t seq)
{
    snprintf(out, n, "%s/feed-%020llu.snap", dir, (unsigned long long)seq);
}

static uint32_t fold(uint32_t d, uint32_t sym, uint32_t side, int64_t price, uint32_t qty, uint64_t ref)
{
    uint8_t b[28];
    memcpy(b, &sym, 4);
    memcpy(b + 4, &side, 4);
    memcpy(b + 8, &price, 8);
    memcpy(b + 16, &qty, 4);
    memcpy(b + 20, &ref, 8);
    return crc32c(d, b, sizeof b);
}

/* ---- encoding ----------------------------------------------------------- */

typedef struct wr {
    uint8_t *p;
    size_t n, cap;
    int oom;
} wr;

static void put(wr *w, const void *v, size_t n)
{
    if (w->oom)
        return;
    if (w->n + n > w->cap) {
        size_t cap = (w->n + n) * 2;
        uint8_t *q = realloc(w->p, cap);
        if (!q) {
            w->oom = 1;
            return;
        }
        w->p = q;
        w->cap = cap;
    }
    memcpy(w->p + w->n, v, n);
    w->n += n;
}

static void put64(wr *w, uint64_t v)
{
    put(w, &v, 8);
}

static void put32(wr *w, uint32_t v)
{
    put(w, &v, 4);
}

static void put_symbol(wr *w, const pub *p, uint32_t s)
{
    const fb_symbol *sy = &p->book.syms[s];
    char name[8] = {0};
    memcpy(name, sy->name, strnlen(sy->name, 8));
    put(w, name, 8);
    put64(w, (uint64_t)sy->last_price);
    put64(w, (uint64_t)sy->last_qty);
    put64(w, (uint64_t)sy->volume);
    put64(w, sy->trades);
    put64(w, (uint64_t)sy->last_ts);
    put32(w, sy->last_side);
    for (int iv = 0; iv < CANDLE_INTERVALS; iv++) {
        const candle_ring *r = &sy->candles[iv];
        put32(w, r->n);
        for (uint32_t i = r->n; i-- > 0;)
            put(w, candle_ring_get(r, i), sizeof(candle));
    }
    const pub_tape *t = &p->tapes[s];
    uint32_t kept = t->n < PUB_TAPE ? (uint32_t)t->n : PUB_TAPE;
    put64(w, t->n);
    put32(w, kept);
    for (uint64_t i = t->n - kept; i < t->n; i++) {
        const pub_trade *tr = &t->t[i % PUB_TAPE];
        put64(w, (uint64_t)tr->ts);
        put64(w, (uint64_t)tr->price);
        put64(w, (uint64_t)tr->qty);
        put64(w, tr->match);
        put32(w, tr->side);
    }
}

static void put_orders(wr *w, const pub *p)
{
    const fbook *b = &p->book;
    put64(w, b->open_orders);
    uint32_t digest = 0;
    for (uint32_t s = 0; s < b->nsyms; s++)
        for (int side = BOURSE_BUY; side <= BOURSE_SELL; side++) {
            const fb_level *l;
            for (uint32_t pos = 0; (l = fbook_next(b, s, side, &pos));)
                for (uint32_t o = l->head; o != FB_NIL; o = b->orders[o].next) {
                    const fb_order *ord = &b->orders[o];
                    put64(w, ord->ref);
                    digest = fold(digest, s, (uint32_t)side, ord->price, ord->qty, ord->ref);
                }
        }
    put32(w, digest);
}

int fsnap_encode(const pub *p, uint64_t seq, uint8_t **out, size_t *len)
{
    wr w = {0};
    uint8_t h[FSNAP_HEADER] = {0};
    put(&w, h, sizeof h);
    put64(&w, p->next_ref);
    put64(&w, p->next_match);
    put64(&w, (uint64_t)p->ts);
    put32(&w, p->open ? 1 : 0);
    put32(&w, p->book.nsyms);
    for (uint32_t s = 0; s < p->book.nsyms; s++)
        put_symbol(&w, p, s);
    put_orders(&w, p);
    if (w.oom) {
        free(w.p);
        return -1;
    }
    uint32_t v = VERSION, hs = FSNAP_HEADER, bcrc = crc32c(0, w.p + FSNAP_HEADER, w.n - FSNAP_HEADER);
    uint64_t body = w.n - FSNAP_HEADER;
    memcpy(w.p, MAGIC, 8);
    memcpy(w.p + 8, &v, 4);
    memcpy(w.p + 12, &hs, 4);
    memcpy(w.p + 16, &seq, 8);
    memcpy(w.p + 24, &p->ts, 8);
    memcpy(w.p + 32, &body, 8);
    memcpy(w.p + 40, &bcrc, 4);
    uint32_t hcrc = crc32c(0, w.p, 60);
    memcpy(w.p + 60, &hcrc, 4);
    *out = w.p;
    *len = w.n;
    return 0;
}

void fsnap_stream_set(uint8_t *buf, uint64_t msgs, uint64_t origin)
{
    memcpy(buf + 44, &msgs, 8);
    memcpy(buf + 52, &origin, 8);
    uint32_t hcrc = crc32c(0, buf, 60);
    memcpy(buf + 60, &hcrc, 4);
}

int fsnap_stream_get(const uint8_t *buf, size_t len, uint64_t *msgs, uint64_t *origin)
{
    if (len < FSNAP_HEADER)
        return -1;
    memcpy(msgs, buf + 44, 8);
    memcpy(origin, buf + 52, 8);
    return *origin ? 0 : -1;
}

/* ---- checking and applying ---------------------------------------------- */

typedef struct rd {
    const uint8_t *p;
    size_t n, at;
    char bad[200]; /* the first problem, "" while none */
} rd;

__attribute__((format(printf, 2, 3))) static void bad(rd *r, const char *fmt, ...)
{
    if (r->bad[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->bad, sizeof r->bad, fmt, ap);
    va_end(ap);
}

static void take(rd *r, void *v, size_t n)
{
    if (r->bad[0] || r->n - r->at < n) {
        bad(r, "truncated body at byte %zu", FSNAP_HEADER + r->at);
        memset(v, 0, n);
        return;
    }
    memcpy(v, r->p + r->at, n);
    r->at += n;
}

static uint64_t g64(rd *r)
{
    uint64_t v;
    take(r, &v, 8);
    return v;
}

static uint32_t g32(rd *r)
{
    uint32_t v;
    take(r, &v, 4);
    return v;
}

/* One walk: p NULL checks only; otherwise applies (after a clean check). */
typedef struct walk {
    rd r;
    pub *p;
    const bourse_engine *e;
    uint64_t next_ref, next_match;
    int64_t ts;
    uint32_t digest;
    uint64_t *refs; /* check walk: every ref, for uniqueness */
    uint64_t nrefs;
} walk;

static void walk_candles(walk *w, fb_symbol *sy, uint32_t s)
{
    for (int iv = 0; iv < CANDLE_INTERVALS; iv++) {
        uint32_t n = g32(&w->r);
        if (n > MAX_CANDLES)
            bad(&w->r, "symbol %u: %u candles of %s", s, n, candle_interval_name(iv));
        int64_t prev = INT64_MIN;
        for (uint32_t i = 0; i < n && !w->r.bad[0]; i++) {
            candle c;
            take(&w->r, &c, sizeof c);
            int64_t lo = c.open < c.close ? c.open : c.close, hi = c.open < c.close ? c.close : c.open;
            if (c.start <= prev || candle_bucket(iv, c.start) != c.start || c.low <= 0 || c.low > lo ||
                c.high < hi || c.volume <= 0)
                bad(&w->r, "symbol %u: %s candle %u is not a candle (start %lld)", s,
                    candle_interval_name(iv), i, (long long)c.start);
            prev = c.start;
            if (w->p && !w->r.bad[0])
                candle_ring_put(&sy->candles[iv], &c);
        }
    }
}

static void walk_tape(walk *w, uint32_t s)
{
    uint64_t total = g64(&w->r);
    uint32_t kept = g32(&w->r);
    if (kept != (total < PUB_TAPE ? total : PUB_TAPE))
        bad(&w->r, "symbol %u: %u trades kept of %llu", s, kept, (unsigned long long)total);
    uint64_t prev = 0;
    for (uint32_t k = 0; k < kept && !w->r.bad[0]; k++) {
        pub_trade t;
        t.ts = (int64_t)g64(&w->r);
        t.price = (int64_t)g64(&w->r);
        t.qty = (int64_t)g64(&w->r);
        t.match = g64(&w->r);
        uint32_t side = g32(&w->r);
        t.side = (uint8_t)side;
        if (t.price <= 0 || t.qty <= 0 || side > BOURSE_SELL || t.match <= prev || t.match >= w->next_match)
            bad(&w->r, "symbol %u: trade %u of the tape is not a trade", s, k);
        prev = t.match;
        if (w->p && !w->r.bad[0])
            w->p->tapes[s].t[(total - kept + k) % PUB_TAPE] = t;
    }
    if (w->p && !w->r.bad[0])
        w->p->tapes[s].n = total;
}

static void walk_symbol(walk *w, uint32_t s)
{
    char name[8];
    take(&w->r, name, 8);
    const bourse_symbol_name *en = bourse_symbol_name_of(w->e, s);
    if (!w->r.bad[0] && (!en || strncmp(name, en->s, 8) != 0))
        bad(&w->r, "symbol %u is '%.8s' here but '%.8s' in the engine", s, name, en ? en->s : "");
    fb_symbol tmp, *sy = w->p ? &w->p->book.syms[s] : &tmp;
    sy->last_price = (int64_t)g64(&w->r);
    sy->last_qty = (int64_t)g64(&w->r);
    sy->volume = (int64_t)g64(&w->r);
    sy->trades = g64(&w->r);
    sy->last_ts = (int64_t)g64(&w->r);
    uint32_t side = g32(&w->r);
    sy->last_side = (uint8_t)side;
    if (sy->last_price < 0 || sy->last_qty < 0 || sy->volume < 0 || side > BOURSE_SELL)
        bad(&w->r, "symbol %u: last trade or volume out of range", s);
    walk_candles(w, sy, s);
    walk_tape(w, s);
}

/* Each resting order of the engine, paired with the next saved ref. */
static void walk_order(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    walk *w = ctx;
    uint64_t ref = g64(&w->r);
    if (w->r.bad[0])
        return;
    if (ref == 0 || ref >= w->next_ref)
        return bad(&w->r, "order ref %llu out of range", (unsigned long long)ref);
    w->digest = fold(w->digest, ev->symbol, ev->side, ev->price, (uint32_t)ev->qty, ref);
    if (!w->p) {
        w->refs[w->nrefs++] = ref;
        return;
    }
    feed_rec rec;
    if (!feed_rec_make(&rec, cmd, ev))
        return;
    rec.end = 1;
    rec.ts = w->ts;
    w->p->next_ref = ref;
    pub_apply(w->p, &rec);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void walk_orders(walk *w, uint32_t open_orders)
{
    uint64_t n = g64(&w->r);
    if (n != open_orders)
        return bad(&w->r, "%llu resting orders here, %u in the engine", (unsigned long long)n, open_orders);
    if (!w->p && !(w->refs = malloc((n ? n : 1) * sizeof *w->refs)))
        return bad(&w->r, "out of memory");
    bourse_engine_each_order(w->e, walk_order, w);
    uint32_t digest = g32(&w->r);
    if (digest != w->digest)
        bad(&w->r, "the resting orders differ from the engine's (book digest %08x, engine %08x)", digest,
            w->digest);
    if (w->p || w->r.bad[0])
        return;
    qsort(w->refs, w->nrefs, sizeof *w->refs, cmp_u64);
    for (uint64_t i = 1; i < w->nrefs; i++)
        if (w->refs[i] == w->refs[i - 1])
            return bad(&w->r, "order ref %llu twice", (unsigned long long)w->refs[i]);
}

/* The symbols and market state, published as feed_seed does. */
static void seed_directory(walk *w, uint32_t nsyms, int open)
{
    for (uint32_t s = 0; s < nsyms; s++) {
        feed_rec r = {.kind = REC_SYMBOL, .ts = w->ts};
        memcpy(r.name, bourse_symbol_name_of(w->e, s)->s, BOURSE_SYMBOL_LEN);
        pub_apply(w->p, &r);
    }
    if (!open)
        pub_apply(w->p, &(feed_rec){.kind = REC_CLOSE, .ts = w->ts});
}

static void walk_body(walk *w)
{
    bourse_stats st;
    bourse_engine_stats(w->e, &st);
    w->next_ref = g64(&w->r);
    w->next_match = g64(&w->r);
    w->ts = (int64_t)g64(&w->r);
    uint32_t open = g32(&w->r), nsyms = g32(&w->r);
    if (!w->next_ref || !w->next_match)
        bad(&w->r, "next order ref or match number is 0");
    if (open != (st.is_open ? 1u : 0u))
        bad(&w->r, "the market is %s here but %s in the engine", open ? "open" : "closed",
            st.is_open ? "open" : "closed");
    if (nsyms != st.symbols)
        bad(&w->r, "%u symbols here, %u in the engine", nsyms, st.symbols);
    if (w->r.bad[0])
        return;
    if (w->p)
        seed_directory(w, nsyms, (int)open);
    for (uint32_t s = 0; s < nsyms && !w->r.bad[0]; s++)
        walk_symbol(w, s);
    walk_orders(w, st.open_orders);
    if (!w->r.bad[0] && w->r.at != w->r.n)
        bad(&w->r, "%zu stray bytes after the body", w->r.n - w->r.at);
    if (w->p) {
        w->p->next_ref = w->next_ref;
        w->p->next_match = w->next_match;
        w->p->ts = w->ts;
    }
}

static const char *check_header(const uint8_t *buf, size_t len, uint64_t want_seq, char *why, size_t n)
{
    uint32_t v, hs, bcrc, hcrc;
    uint64_t seq, body;
    if (len < FSNAP_HEADER)
        return snprintf(why, n, "%zu bytes, shorter than the header", len), why;
    memcpy(&v, buf + 8, 4);
    memcpy(&hs, buf + 12, 4);
    memcpy(&seq, buf + 16, 8);
    memcpy(&body, buf + 32, 8);
    memcpy(&bcrc, buf + 40, 4);
    memcpy(&hcrc, buf + 60, 4);
    if (memcmp(buf, MAGIC, 8) != 0)
        return "not a feed snapshot (bad magic)";
    if (crc32c(0, buf, 60) != hcrc)
        return "header checksum mismatch";
    if (v != VERSION || hs != FSNAP_HEADER)
        return snprintf(why, n, "unsupported version %u (this build reads %u)", v, VERSION), why;
    if (seq != want_seq)
        return snprintf(why, n, "its header says seq %llu, not %llu", (unsigned long long)seq,
                        (unsigned long long)want_seq),
               why;
    if (body != len - FSNAP_HEADER)
        return snprintf(why, n, "the header says %llu bytes of body, the file has %zu",
                        (unsigned long long)body, len - FSNAP_HEADER),
               why;
    if (crc32c(0, buf + FSNAP_HEADER, len - FSNAP_HEADER) != bcrc)
        return "body checksum mismatch";
    return NULL;
}

int fsnap_apply(pub *p, const uint8_t *buf, size_t len, uint64_t want_seq, const bourse_engine *e, char *err,
                size_t errlen)
{
    char why[160];
    const char *hb = check_header(buf, len, want_seq, why, sizeof why);
    if (hb) {
        snprintf(err, errlen, "%s", hb);
        return -1;
    }
    if (p->book.nsyms || p->next_ref != 1) {
        snprintf(err, errlen, "the publisher has state already");
        return -1;
    }
    walk chk = {.r = {.p = buf + FSNAP_HEADER, .n = len - FSNAP_HEADER}, .e = e};
    walk_body(&chk);
    free(chk.refs);
    if (chk.r.bad[0]) {
        snprintf(err, errlen, "%s", chk.r.bad);
        return -1;
    }
    walk app = {.r = {.p = buf + FSNAP_HEADER, .n = len - FSNAP_HEADER}, .e = e, .p = p};
    walk_body(&app);
    pub_set_rules(p, e); /* halts and bands are the engine's, at the same seq */
    return 0;
}

/* ---- files -------------------------------------------------------------- */

int fsnap_write(const char *dir, uint64_t seq, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    char path[4200], tmp[4210];
    fsnap_path(path, sizeof path, dir, seq);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == len && fdatasync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(ok ? errno : saved));
        unlink(tmp);
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int fsnap_read(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    uint64_t size;
    int fd = dir_open(path, O_RDONLY, &size, err, errlen);
    if (fd < 0)
        return -1;
    uint8_t *b = size <= (1ull << 34) ? malloc(size ? size : 1) : NULL;
    if (!b) {
        snprintf(err, errlen, "%s: %llu bytes: too big to read", path, (unsigned long long)size);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = pread(fd, b + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        snprintf(err, errlen, "%s: cannot read: %s", path, got < size ? "short read" : strerror(errno));
        free(b);
        return -1;
    }
    *buf = b;
    *len = got;
    return 0;
}

static int feed_name(const char *name, uint64_t *seq)
{
    return dir_number_name(name, "feed-", 20, ".snap", seq);
}

void fsnap_prune(const char *dir, uint64_t seq)
{
    uint64_t *seqs;
    size_t n;
    char err[300], path[4200];
    if (dir_list(dir, feed_name, &seqs, &n, err, sizeof err) != 0)
        return;
    for (size_t i = 0; i < n && seqs[i] < seq; i++) {
        snap_path(path, sizeof path, dir, seqs[i]);
        if (access(path, F_OK) == 0)
            continue;
        fsnap_path(path, sizeof path, dir, seqs[i]);
        unlink(path);
    }
    free(seqs);
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (!strncmp(de->d_name, "feed-", 5) && len > 9 && !strcmp(de->d_name + len - 9, ".snap.tmp")) {
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
}
