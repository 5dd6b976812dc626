/*
 * auth.c - browser sessions, API keys, signed requests, login throttling
 * and rate limits (auth.h).
 *
 * Every table is fixed in size at start, so no flood of requests can grow
 * memory: sessions (a linear scan of hashed tokens: a few microseconds for
 * thousands), the nonce cache and the rate limiters (open addressing over
 * 64-bit SipHash keys with a per-process random key, so an attacker cannot
 * aim collisions).  Only the key list grows, and only when a logged-in user
 * creates a key.  Every signed request finds its key by id, so the keys
 * (only ever added) are indexed: open addressing over the SipHash of the
 * id, entry number + 1, at most half full, made again twice as big when it
 * would pass that; the first key of an id stays the one found, as when
 * they were searched in order.
 */
#include "http/auth.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PROBE = 16, THROTTLES = 1024, RATES = 8192, KEYS_MAX = 100000 };

typedef struct sess {
    uint8_t hash[32];
    uint8_t csrf[32];
    char user[AUTH_USER + 1];
    int op, live;
    int64_t last, saved; /* saved: the last use written to the sessions file */
} sess;

typedef struct key {
    char id[AUTH_KEY_ID + 1];
    char user[AUTH_USER + 1];
    char secret[AUTH_SECRET_HEX + 1]; /* the HMAC key is this text, as the client holds it */
} key;

typedef struct throttle {
    char name[AUTH_USER + 8];
    uint32_t fails;
    int64_t first, locked_until, seen;
} throttle;

typedef struct rate {
    uint64_t k;
    int64_t tat; /* GCRA's theoretical arrival time, microseconds */
} rate;

struct auth_state {
    auth_limits l;
    char *keys_file;
    char *sess_file;
    int sess_fd;
    uint32_t sess_lines; /* appended since the last rewrite */
    uint8_t sip[crypto_shorthash_KEYBYTES];
    sess *sess;
    key *keys;
    uint32_t nkeys, keys_cap;
    uint32_t *key_ix, key_ix_cap; /* key number + 1 by sip(id); 0 = empty */
    uint64_t *nonce_k;
    int64_t *nonce_t;
    uint32_t nonce_mask;
    throttle thr[THROTTLES];
    rate rates[RATES];
};

static void load_keys(auth_state *a);

auth_state *auth_new(const auth_limits *l, const char *keys_file)
{
    if (sodium_init() < 0)
        return NULL;
    auth_state *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->l = *l;
    if (!a->l.max_sessions)
        a->l.max_sessions = 4096;
    uint32_t n = 1024;
    while (n < (a->l.nonces ? a->l.nonces : 65536))
        n *= 2;
    a->nonce_mask = n - 1;
    a->sess = calloc(a->l.max_sessions, sizeof *a->sess);
    a->nonce_k = calloc(n, sizeof *a->nonce_k);
    a->nonce_t = calloc(n, sizeof *a->nonce_t);
    a->keys_file = keys_file ? strdup(keys_file) : NULL;
    a->sess_fd = -1;
    if (!a->sess || !a->nonce_k || !a->nonce_t || (keys_file && !a->keys_file)) {
        auth_free(a);
        return NULL;
    }
    randombytes_buf(a->sip, sizeof a->sip);
    load_keys(a);
    return a;
}

void auth_free(auth_state *a)
{
    if (!a)
        return;
    if (a->sess)
        sodium_memzero(a->sess, a->l.max_sessions * sizeof *a->sess);
    if (a->keys)
        sodium_memzero(a->keys, a->keys_cap * sizeof *a->keys);
    free(a->sess);
    free(a->keys);
    free(a->key_ix);
    free(a->nonce_k);
    free(a->nonce_t);
    free(a->keys_file);
    free(a->sess_file);
    if (a->sess_fd >= 0)
        close(a->sess_fd);
    free(a);
}

static uint64_t sip(const auth_state *a, const void *p, size_t n)
{
    uint8_t h[8];
    crypto_shorthash(h, p, n, a->sip);
    uint64_t v;
    memcpy(&v, h, 8);
    return v ? v : 1;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
    size_t bin_len = 0;
    if (strlen(s) != 2 * n || sodium_hex2bin(out, n, s, 2 * n, NULL, &bin_len, NULL) != 0 || bin_len != n)
        return -1;
    return 0;
}

/* ---- sessions ------------------------------------------------------------ */

/* The sessions file: "S HASH CSRF OP LAST_MS USER" a new session (or one
 * kept by a rewrite), "T HASH MS" its use, "E HASH" its end.  Appended with
 * one write() each (no fsync: a crash of the process loses nothing, a
 * power cut may forget the last logins, which then log in again). */
static void sess_rewrite(auth_state *a, int64_t now);

static void sess_log(auth_state *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sess_log(auth_state *a, const char *fmt, ...)
{
    if (a->sess_fd < 0)
        return;
    char line[300];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof line && write(a->sess_fd, line, (size_t)n) != n) {
        close(a->sess_fd); /* a full disk: sessions live in memory only from now on */
        a->sess_fd = -1;
    }
    a->sess_lines++;
}

static void hex32(const uint8_t b[32], char out[65])
{
    sodium_bin2hex(out, 65, b, 32);
}

static void sess_log_new(auth_state *a, const sess *s)
{
    char h[65], c[65];
    hex32(s->hash, h);
    hex32(s->csrf, c);
    sess_log(a, "S %s %s %d %lld %s\n", h, c, s->op, (long long)s->last, s->user);
}

static int expired(const auth_state *a, const sess *s, int64_t now)
{
    return !s->live || now - s->last > (int64_t)a->l.session_s * 1000;
}

uint32_t auth_session_new(auth_state *a, const char *user, int op, int64_t now,
                          char token[AUTH_TOKEN_HEX + 1], char csrf[AUTH_TOKEN_HEX + 1])
{
    for (uint32_t i = 0; i < a->l.max_sessions; i++) {
        sess *s = &a->sess[i];
        if (!expired(a, s, now))
            continue;
        uint8_t t[32];
        randombytes_buf(t, sizeof t);
        randombytes_buf(s->csrf, sizeof s->csrf);
        crypto_generichash(s->hash, sizeof s->hash, t, sizeof t, NULL, 0);
        sodium_bin2hex(token, AUTH_TOKEN_HEX + 1, t, sizeof t);
        sodium_bin2hex(csrf, AUTH_TOKEN_HEX + 1, s->csrf, sizeof s->csrf);
        sodium_memzero(t, sizeof t);
        snprintf(s->user, sizeof s->user, "%s", user);
        s->op = op;
        s->live = 1;
        s->last = s->saved = now;
        sess_log_new(a, s);
        if (a->sess_lines > 8 * a->l.max_sessions) /* uses pile up: keep the file short */
            sess_rewrite(a, now);
        return i + 1;
    }
    return 0;
}

uint32_t auth_session_find(auth_state *a, const char *token, int64_t now)
{
    uint8_t t[32], h[32];
    if (unhex(token, t, sizeof t) != 0)
        return 0;
    crypto_generichash(h, sizeof h, t, sizeof t, NULL, 0);
    for (uint32_t i = 0; i < a->l.max_sessions; i++) {
        sess *s = &a->sess[i];
        if (s->live && !sodium_memcmp(s->hash, h, sizeof h)) {
            if (expired(a, s, now)) {
                s->live = 0;
                return 0;
            }
            s->last = now;
            if (now - s->saved >= (int64_t)a->l.session_s * 250) { /* a quarter of session_s */
                char hx[65];
                hex32(s->hash, hx);
                sess_log(a, "T %s %lld\n", hx, (long long)now);
                s->saved = now;
            }
            return i + 1;
        }
    }
    return 0;
}

const char *auth_session_user(auth_state *a, uint32_t s)
{
    return s ? a->sess[s - 1].user : "";
}

int auth_session_op(auth_state *a, uint32_t s)
{
    return s ? a->sess[s - 1].op : 0;
}

void auth_session_set_op(auth_state *a, uint32_t s, int op)
{
    if (s)
        a->sess[s - 1].op = op;
}

int auth_session_csrf(auth_state *a, uint32_t s, const char *csrf)
{
    uint8_t c[32];
    if (!s || !csrf || unhex(csrf, c, sizeof c) != 0)
        return 0;
    return sodium_memcmp(c, a->sess[s - 1].csrf, sizeof c) == 0;
}

void auth_session_end(auth_state *a, uint32_t s)
{
    if (!s)
        return;
    if (a->sess[s - 1].live) {
        char hx[65];
        hex32(a->sess[s - 1].hash, hx);
        sess_log(a, "E %s\n", hx);
    }
    sodium_memzero(&a->sess[s - 1], sizeof a->sess[s - 1]);
}

static sess *sess_by_hash(auth_state *a, const uint8_t h[32])
{
    for (uint32_t i = 0; i < a->l.max_sessions; i++)
        if (a->sess[i].live && !sodium_memcmp(a->sess[i].hash, h, 32))
            return &a->sess[i];
    return NULL;
}

/* The file again, with only the live sessions: a temporary file renamed
 * over it, then appends go to the new one. */
static void sess_rewrite(auth_state *a, int64_t now)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", a->sess_file);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    int old = a->sess_fd;
    a->sess_fd = fd;
    for (uint32_t i = 0; i < a->l.max_sessions; i++)
        if (a->sess[i].live && !expired(a, &a->sess[i], now))
            sess_log_new(a, &a->sess[i]);
    if (a->sess_fd < 0 || rename(tmp, a->sess_file) != 0) {
        if (a->sess_fd >= 0)
            close(a->sess_fd);
        unlink(tmp);
        a->sess_fd = old;
        return;
    }
    if (old >= 0)
        close(old);
    a->sess_lines = 0;
}

int auth_sessions_persist(auth_state *a, const char *file, int64_t now)
{
    free(a->sess_file);
    if (!(a->sess_file = strdup(file)))
        return -1;
    FILE *f = fopen(file, "r");
    char line[400];
    while (f && fgets(line, sizeof line, f)) {
        char h[80], c[80], user[80];
        int op;
        long long ms;
        uint8_t hb[32], cb[32];
        sess *s;
        if (sscanf(line, "S %79s %79s %d %lld %79s", h, c, &op, &ms, user) == 5 && !unhex(h, hb, 32) &&
            !unhex(c, cb, 32) && strlen(user) <= AUTH_USER) {
            if (!(s = sess_by_hash(a, hb)))
                for (uint32_t i = 0; i < a->l.max_sessions && !s; i++)
                    if (expired(a, &a->sess[i], now))
                        s = &a->sess[i];
            if (!s)
                continue; /* more than the table holds: the oldest go on living in the file only */
            memcpy(s->hash, hb, 32);
            memcpy(s->csrf, cb, 32);
            snprintf(s->user, sizeof s->user, "%s", user);
            s->op = op != 0;
            s->last = s->saved = ms;
            s->live = 1;
        } else if (sscanf(line, "T %79s %lld", h, &ms) == 2 && !unhex(h, hb, 32) &&
                   (s = sess_by_hash(a, hb))) {
            if (ms > s->last)
                s->last = s->saved = ms;
        } else if (sscanf(line, "E %79s", h) == 1 && !unhex(h, hb, 32) && (s = sess_by_hash(a, hb))) {
            sodium_memzero(s, sizeof *s);
        }
    }
    if (f)
        fclose(f);
    sodium_memzero(line, sizeof line);
    for (uint32_t i = 0; i < a->l.max_sessions; i++)
        if (a->sess[i].live && expired(a, &a->sess[i], now))
            sodium_memzero(&a->sess[i], sizeof a->sess[i]);
    sess_rewrite(a, now);
    return a->sess_fd < 0 ? -1 : 0;
}

/* ---- API keys ------------------------------------------------------------ */

/* The index slot of key id: where it is, or the empty slot where it would
 * go (the index exists). */
static uint32_t *key_slot(const auth_state *a, const char *id)
{
    uint32_t mask = a->key_ix_cap - 1;
    for (uint32_t i = (uint32_t)sip(a, id, strlen(id)) & mask;; i = (i + 1) & mask) {
        uint32_t e = a->key_ix[i];
        if (!e || !strcmp(a->keys[e - 1].id, id))
            return &a->key_ix[i];
    }
}

static key *key_find(const auth_state *a, const char *id)
{
    if (!a->key_ix_cap)
        return NULL;
    uint32_t e = *key_slot(a, id);
    return e ? &a->keys[e - 1] : NULL;
}

/* Index the last key added (a->keys[a->nkeys - 1]); -1 out of memory (the
 * caller takes the key back). */
static int key_index(auth_state *a)
{
    if (a->nkeys > a->key_ix_cap / 2) {
        uint32_t cap = a->key_ix_cap ? a->key_ix_cap * 2 : 64;
        uint32_t *t = calloc(cap, sizeof *t);
        if (!t)
            return -1;
        free(a->key_ix);
        a->key_ix = t, a->key_ix_cap = cap;
        for (uint32_t i = 0; i + 1 < a->nkeys; i++) {
            uint32_t *s = key_slot(a, a->keys[i].id);
            if (!*s)
                *s = i + 1;
        }
    }
    uint32_t *s = key_slot(a, a->keys[a->nkeys - 1].id);
    if (!*s)
        *s = a->nkeys;
    return 0;
}

static key *key_add(auth_state *a)
{
    if (a->nkeys == KEYS_MAX)
        return NULL;
    if (a->nkeys == a->keys_cap) {
        uint32_t n = a->keys_cap ? a->keys_cap * 2 : 16;
        key *k = realloc(a->keys, n * sizeof *k);
        if (!k)
            return NULL;
        a->keys = k;
        a->keys_cap = n;
    }
    return &a->keys[a->nkeys++];
}

/* DATA/api-keys: "ID USER SECRET_HEX LABEL" per line; a bad line is skipped. */
static void load_keys(auth_state *a)
{
    if (!a->keys_file)
        return;
    FILE *f = fopen(a->keys_file, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char id[64], user[64], sec[128];
        if (sscanf(line, "%63s %63s %127s", id, user, sec) != 3 || strlen(id) != AUTH_KEY_ID ||
            strlen(user) > AUTH_USER)
            continue;
        key *k = key_add(a);
        if (!k)
            break;
        uint8_t raw[32];
        if (unhex(sec, raw, sizeof raw) != 0) {
            a->nkeys--;
            continue;
        }
        strcpy(k->secret, sec);
        strcpy(k->id, id);
        strcpy(k->user, user);
        if (key_index(a) != 0) {
            sodium_memzero(k, sizeof *k);
            a->nkeys--;
            break;
        }
    }
    sodium_memzero(line, sizeof line);
    fclose(f);
}

int auth_key_new(auth_state *a, const char *user, const char *label, char id[AUTH_KEY_ID + 1],
                 char secret[AUTH_SECRET_HEX + 1])
{
    key *k = key_add(a);
    if (!k)
        return -1;
    uint8_t idb[AUTH_KEY_ID / 2];
    randombytes_buf(idb, sizeof idb);
    sodium_bin2hex(k->id, sizeof k->id, idb, sizeof idb);
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    snprintf(k->user, sizeof k->user, "%s", user);
    sodium_bin2hex(k->secret, sizeof k->secret, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    strcpy(secret, k->secret);
    strcpy(id, k->id);
    if (a->keys_file) {
        mode_t old = umask(077);
        FILE *f = fopen(a->keys_file, "a");
        umask(old);
        int ok = f && fprintf(f, "%s %s %s %s\n", k->id, k->user, secret, label) > 0;
        if (f && fclose(f) != 0)
            ok = 0;
        if (!ok) {
            sodium_memzero(k, sizeof *k);
            a->nkeys--;
            return -1;
        }
    }
    if (key_index(a) != 0) { /* it is in the file: found again at the next start */
        sodium_memzero(k, sizeof *k);
        a->nkeys--;
        return -1;
    }
    return 0;
}

void auth_sign(const uint8_t *secret, size_t slen, const char *ts, const char *nonce, const char *method,
               const char *path_query, const uint8_t *body, size_t blen, char out[AUTH_SECRET_HEX + 1])
{
    crypto_auth_hmacsha256_state st;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, secret, slen);
    const char *parts[] = {ts, nonce, method, path_query};
    for (int i = 0; i < 4; i++) {
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)parts[i], strlen(parts[i]));
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)"\n", 1);
    }
    if (blen)
        crypto_auth_hmacsha256_update(&st, body, blen);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, AUTH_SECRET_HEX + 1, mac, sizeof mac);
}

static int nonce_ok(const char *n)
{
    size_t len = strlen(n);
    if (len < 8 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* 1 when the nonce was seen within the window; else records it (0), or
 * -1 when its probe run holds only live nonces. */
static int nonce_seen(auth_state *a, const char *id, const char *nonce, int64_t now)
{
    char buf[AUTH_KEY_ID + 1 + 65];
    int n = snprintf(buf, sizeof buf, "%s:%s", id, nonce);
    uint64_t k = sip(a, buf, (size_t)n);
    uint32_t free_at = UINT32_MAX;
    for (uint32_t i = 0; i < PROBE; i++) {
        uint32_t j = (uint32_t)(k + i) & a->nonce_mask;
        int live = a->nonce_k[j] && now - a->nonce_t[j] <= AUTH_NONCE_WINDOW_MS;
        if (live && a->nonce_k[j] == k)
            return 1;
        if (!live && free_at == UINT32_MAX)
            free_at = j;
    }
    if (free_at == UINT32_MAX)
        return -1;
    a->nonce_k[free_at] = k;
    a->nonce_t[free_at] = now;
    return 0;
}

int auth_key_check(auth_state *a, const char *id, const char *ts, const char *nonce, const char *sig,
                   const char *method, const char *path_query, const uint8_t *body, size_t blen, int64_t now,
                   char user[AUTH_USER + 1])
{
    key *k = key_find(a, id);
    if (!k)
        return SIG_UNKNOWN_KEY;
    char *end;
    if (!*ts || strlen(ts) > 15)
        return SIG_STALE;
    long long t = strtoll(ts, &end, 10);
    if (*end || t <= 0 || t < now - AUTH_SKEW_MS || t > now + AUTH_SKEW_MS)
        return SIG_STALE;
    if (!nonce_ok(nonce))
        return SIG_BAD_NONCE;
    char want[AUTH_SECRET_HEX + 1];
    auth_sign((const uint8_t *)k->secret, AUTH_SECRET_HEX, ts, nonce, method, path_query, body, blen, want);
    /* the signature before the nonce: a forger cannot fill the cache */
    if (strlen(sig) != AUTH_SECRET_HEX || sodium_memcmp(want, sig, AUTH_SECRET_HEX) != 0) {
        /* hex case: compare lower-cased */
        char low[AUTH_SECRET_HEX + 1];
        size_t n = strlen(sig);
        if (n != AUTH_SECRET_HEX)
            return SIG_BAD;
        for (size_t i = 0; i <= n; i++)
            low[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] + 32 : sig[i]);
        if (sodium_memcmp(want, low, AUTH_SECRET_HEX) != 0)
            return SIG_BAD;
    }
    int seen = nonce_seen(a, id, nonce, now);
    if (seen)
        return seen > 0 ? SIG_REPLAYED : SIG_BUSY;
    strcpy(user, k->user);
    return SIG_OK;
}

/* ---- throttling ---------------------------------------------------------- */

static throttle *thr_get(auth_state *a, const char *name, int create, int64_t now)
{
    throttle *old = NULL;
    for (int i = 0; i < THROTTLES; i++) {
        throttle *t = &a->thr[i];
        if (t->name[0] && !strcmp(t->name, name))
            return t;
        if (t->locked_until > now || (old && !old->name[0]))
            continue;
        if (!old || !t->name[0] || t->seen < old->seen) /* a free slot, else the least recent */
            old = t;
    }
    if (!create || !old)
        return NULL;
    memset(old, 0, sizeof *old);
    snprintf(old->name, sizeof old->name, "%s", name);
    old->first = now;
    return old;
}

static void ip_key(uint32_t ip, char out[AUTH_USER + 8])
{
    snprintf(out, AUTH_USER + 8, "@%u", ip);
}

static int locked(auth_state *a, const char *k, int64_t now)
{
    throttle *t = thr_get(a, k, 0, now);
    return t && t->locked_until > now;
}

int auth_login_allowed(auth_state *a, const char *name, uint32_t ip, int64_t now)
{
    char k[AUTH_USER + 8];
    ip_key(ip, k);
    return locked(a, name, now) || locked(a, k, now) ? -1 : 0;
}

static void fail(auth_state *a, const char *k, int64_t now)
{
    throttle *t = thr_get(a, k, 1, now);
    if (!t)
        return;
    int64_t win = (int64_t)a->l.login_lock_s * 1000;
    if (now - t->first > win) {
        t->first = now;
        t->fails = 0;
    }
    t->seen = now;
    if (++t->fails >= a->l.login_fails)
        t->locked_until = now + win;
}

void auth_login_failed(auth_state *a, const char *name, uint32_t ip, int64_t now)
{
    char k[AUTH_USER + 8];
    ip_key(ip, k);
    fail(a, name, now);
    fail(a, k, now);
}

void auth_login_ok(auth_state *a, const char *name, uint32_t ip)
{
    (void)ip;
    throttle *t = thr_get(a, name, 0, 0);
    if (t && !t->locked_until)
        memset(t, 0, sizeof *t);
}

/* ---- rate limits (GCRA) ---------------------------------------------------- */

static int gcra(auth_state *a, uint64_t k, uint32_t per_s, int64_t now_ms)
{
    if (!per_s)
        return 1;
    /* burst: two seconds' worth at once */
    int64_t now = now_ms * 1000, T = 1000000 / per_s, tau = T * ((int64_t)per_s * 2 - 1);
    rate *r = &a->rates[k % RATES];
    if (r->k != k) {
        r->k = k;
        r->tat = now;
    }
    int64_t tat = r->tat > now ? r->tat : now;
    if (tat - now > tau)
        return 0;
    r->tat = tat + T;
    return 1;
}

int auth_rate_ip(auth_state *a, uint32_t ip, int64_t now)
{
    uint8_t b[5] = {'i', (uint8_t)ip, (uint8_t)(ip >> 8), (uint8_t)(ip >> 16), (uint8_t)(ip >> 24)};
    return gcra(a, sip(a, b, sizeof b), a->l.rate_ip, now);
}

int auth_rate_key(auth_state *a, const char *who, int64_t now)
{
    char b[64];
    int n = snprintf(b, sizeof b, "k%s", who);
    return gcra(a, sip(a, b, (size_t)n), a->l.rate_key, now);
}
