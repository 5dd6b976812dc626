/*
 * httpload.c - `bourse load --proto http`: open-loop order round trips over
 * the HTTP API (docs/http.md), the way a broker's program sends them: HTTP/1.1
 * keep-alive connections, each request signed with an API key (HMAC-SHA256
 * over timestamp, nonce, method, path and body, docs/http.md).
 *
 * Open loop.  Request i is due at start + i/R whatever happened to the ones
 * before, and its round trip is measured from that due time, not from when
 * it could be written: a server (or this client) that falls behind shows
 * it as latency, rather than by quietly sending less (no coordinated
 * omission).  Requests come in pairs, a passive limit buy of 1 share far
 * below the market (it rests) then its cancel, so books stay empty however
 * long it runs; pair k goes on connection k mod C, both halves, so the
 * cancel always follows its order, and the cancel is due half a round of
 * the connections after its order (due() has the slots), so it does not
 * wait for its order's answer.  HTTP/1.1 without pipelining carries one
 * request at a time per connection: a request due while its connection
 * waits for an answer is written when the answer comes, late, and its
 * lateness is in its round trip.  C must then be well above R x the round
 * trip; the report says how late requests were written (the client's own
 * share of the time, and a sign that C is too small).
 *
 * Setup, through the admin socket, of users hl00000... : each made as a
 * sign-up would (account signup with an argon2id hash made here once, at
 * libsodium's minimum cost, since only the server's verification of it is
 * needed; identity data naming a document by hash; kyc approve; a cash
 * deposit of 10^10, small enough that 90,000 users' cash stays under the
 * venue's total, BOURSE_CASH_MAX), then one login over HTTP and one API key
 * each (POST /api/v1/keys), and a logout: the browser session is not used
 * again, and the server keeps only so many.  The server needs [http] rate_ip, rate_key and nonces
 * big enough for the rate (bench/http/bench.sh sets them).
 *
 * Every response is read with net/httpresp.h, strictly; one that is not a
 * response we can take is counted as an error ("bad_response"), its
 * connection is closed and made again, and the request it answered is
 * failed.  Errors are reported by HTTP status and the body's error code.
 * One thread, poll: it measures the API, not this program's scale.
 */
#include "bench/hist.h"
#include "load/load.h"
#include "net/adminsock.h"
#include "net/httpresp.h"
#include "net/tcp.h"
#include "util/args.h"
#include "util/clock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAXC = 4096, MAXU = 10000, IN = 1 << 16, REQ_MAX = 2048, CODES = 24, KEY_MAX = 64 };
enum { K_PLACE, K_CANCEL };

typedef struct huser {
    char name[17];
    char key[KEY_MAX + 1], secret[KEY_MAX + 1];
} huser;

typedef struct hconn {
    int fd;
    uint32_t user;
    uint64_t next;     /* the next request of this connection to write */
    int busy;          /* a request written, its answer not yet read */
    uint64_t inflight; /* which */
    size_t have;
    char in[IN];
} hconn;

typedef struct ecount {
    char what[40];
    uint64_t n;
} ecount;

typedef struct hrun {
    const char *dir, *sym, *keys_out; /* keys_out: "USER KEY SECRET" lines, for other clients */
    uint16_t port;
    uint32_t nconn, nusers;
    uint64_t rate, total;
    double seconds;
    char prefix[8];
    huser *users;
    hconn *c;
    int64_t t0, now, last_answer;
    uint64_t sent, answered, ok, failed;
    hist rtt[2], all, late; /* late: written after the due time by, ns */
    ecount err[CODES];
    uint32_t nerr;
} hrun;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void count_error(hrun *r, const char *what)
{
    uint32_t i = 0;
    while (i < r->nerr && strcmp(r->err[i].what, what))
        i++;
    if (i == r->nerr) {
        if (r->nerr == CODES)
            i = CODES - 1, what = "other";
        else
            r->nerr++;
        snprintf(r->err[i].what, sizeof r->err[i].what, "%s", what);
    }
    r->err[i].n++;
}

/* --- setup ----------------------------------------------------------------- */

/* Reads n answers (each ends with "."); a line starting "!" or holding
 * " ERROR " other than one that says the step was already done counts. */
static int admin_answers(FILE *rd, uint32_t n, uint32_t *bad)
{
    char line[512];
    while (n && fgets(line, sizeof line, rd)) {
        if (!strcmp(line, ".\n"))
            n--;
        else if ((line[0] == '!' || strstr(line, "ERROR")) && !strstr(line, "WRONG_STATE") &&
                 !strstr(line, "CONFLICT") && !strstr(line, "DUPLICATE")) {
            if (!(*bad)++)
                arg_error("load: setup: %s", line);
        }
    }
    return n ? -1 : 0;
}

static int setup_accounts(hrun *r)
{
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, "load-password", 13, crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN) != 0) {
        arg_error("load: cannot hash the password");
        return -1;
    }
    int fd = admin_connect(r->dir);
    if (fd < 0) {
        arg_error("load: cannot reach %s/admin.sock: is the server running?", r->dir);
        return -1;
    }
    FILE *w = fdopen(dup(fd), "w"), *rd = fdopen(fd, "r");
    uint32_t cmds = 0, bad = 0;
    for (uint32_t u = 0; u < r->nusers; u++) {
        const char *n = r->users[u].name;
        fprintf(
            w,
            "account signup %s %s@load.test %s\naccount kyc %s 1980-01-01 FR ID%06u sha256:%064u:pdf:10 Load "
            "Trader\nkyc approve %s\ndeposit %s CASH 10000000000\n",
            n, n, hash, n, u, u, n, n);
        cmds += 4;
        if (u % 128 == 127 || u + 1 == r->nusers) {
            fflush(w);
            if (admin_answers(rd, cmds, &bad) != 0) {
                arg_error("load: setup: the admin socket closed");
                return -1;
            }
            cmds = 0;
        }
    }
    fclose(w);
    fclose(rd);
    return bad ? -1 : 0;
}

/* One request and its answer on a blocking connection: 0 with *out, -1. */
static int call(int fd, const char *req, size_t n, char *buf, size_t cap, httpresp *out)
{
    if (tcp_write_all(fd, req, n) != 0)
        return -1;
    size_t have = 0;
    const char *why;
    int k;
    while ((k = httpresp_parse(buf, have, cap, out, &why)) == 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 30000) <= 0)
            return -1;
        ssize_t got = read(fd, buf + have, cap - have);
        if (got <= 0)
            return -1;
        have += (size_t)got;
    }
    if (k < 0)
        arg_error("load: setup: %s", why);
    return k > 0 ? 0 : -1;
}

/* The value of cookie `name` from the Set-Cookie headers, safe characters only. */
static int cookie(const char *buf, const httpresp *h, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = buf; (p = memmem(p, h->hlen - (size_t)(p - buf), name, nl)) != NULL; p += nl) {
        if (p[nl] != '=')
            continue;
        const char *v = p + nl + 1;
        size_t k = 0;
        while (v + k < buf + h->hlen && k + 1 < cap &&
               ((v[k] >= 'A' && v[k] <= 'Z') || (v[k] >= 'a' && v[k] <= 'z') ||
                (v[k] >= '0' && v[k] <= '9') || v[k] == '-' || v[k] == '_'))
            k++;
        memcpy(out, v, k);
        out[k] = 0;
        return k ? 0 : -1;
    }
    return -1;
}

/* A JSON string field's value of safe characters ("key_id", "secret"). */
static int json_field(const httpresp *h, const char *name, char *out, size_t cap)
{
    char key[32];
    int kn = snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *p = h->blen ? memmem(h->body, h->blen, key, (size_t)kn) : NULL;
    if (!p)
        return -1;
    p += kn;
    size_t k = 0;
    while (p + k < h->body + h->blen && p[k] != '"' && k + 1 < cap) {
        char c = p[k];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_'))
            return -1;
        k++;
    }
    if (p + k >= h->body + h->blen || p[k] != '"' || !k)
        return -1;
    memcpy(out, p, k);
    out[k] = 0;
    return 0;
}

static int setup_keys(hrun *r)
{
    int fd = tcp_connect("127.0.0.1", r->port, NULL, 0);
    if (fd < 0) {
        arg_error("load: connect to the HTTP port: %s", strerror(errno));
        return -1;
    }
    static char buf[IN];
    char req[REQ_MAX], sess[128], csrf[128];
    httpresp h;
    for (uint32_t u = 0; u < r->nusers; u++) {
        huser *us = &r->users[u];
        char body[128];
        int bn =
            snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"load-password\"}", us->name);
        int n =
            snprintf(req, sizeof req,
                     "POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     bn, body);
        if (call(fd, req, (size_t)n, buf, sizeof buf, &h) != 0 || h.status != 200 ||
            cookie(buf, &h, "bourse_session", sess, sizeof sess) ||
            cookie(buf, &h, "bourse_csrf", csrf, sizeof csrf)) {
            arg_error("load: %s: login over HTTP failed (status %d)", us->name, h.status);
            close(fd);
            return -1;
        }
        n = snprintf(
            req, sizeof req,
            "POST /api/v1/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Cookie: bourse_session=%s; bourse_csrf=%s\r\nX-CSRF-Token: %s\r\nContent-Length: 16\r\n\r\n"
            "{\"label\":\"load\"}",
            sess, csrf, csrf);
        if (call(fd, req, (size_t)n, buf, sizeof buf, &h) != 0 || h.status != 201 ||
            json_field(&h, "key_id", us->key, sizeof us->key) ||
            json_field(&h, "secret", us->secret, sizeof us->secret)) {
            arg_error("load: %s: no API key (status %d)", us->name, h.status);
            close(fd);
            return -1;
        }
        /* the browser session is not needed any more: the server keeps a
         * few thousand (4,096, src/http/auth.c), and 10,000 users are set up */
        n = snprintf(req, sizeof req,
                     "POST /api/v1/logout HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: bourse_session=%s; "
                     "bourse_csrf=%s\r\nX-CSRF-Token: %s\r\nContent-Length: 0\r\n\r\n",
                     sess, csrf, csrf);
        if (call(fd, req, (size_t)n, buf, sizeof buf, &h) != 0 || h.status != 204) {
            arg_error("load: %s: logout failed (status %d)", us->name, h.status);
            close(fd);
            return -1;
        }
    }
    close(fd);
    return 0;
}

/* A request signed with u's key (the signature over timestamp, nonce,
 * method, path and body, as docs/http.md says) into req; its length, 0 if
 * it does not fit. */
static size_t signed_request(char *req, size_t cap, const huser *u, const char *nonce, const char *method,
                             const char *path, const char *body, size_t bn)
{
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", (long long)wall_ms());
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const uint8_t *)u->secret, strlen(u->secret));
    const char *parts[] = {ts, nonce, method, path};
    for (int p = 0; p < 4; p++) {
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)parts[p], strlen(parts[p]));
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)"\n", 1);
    }
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, bn);
    crypto_auth_hmacsha256_final(&st, mac);
    char sig[2 * sizeof mac + 1];
    sodium_bin2hex(sig, sizeof sig, mac, sizeof mac);
    int n = snprintf(req, cap,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bourse-Key: %s\r\nX-Bourse-Timestamp: %s\r\n"
                     "X-Bourse-Nonce: %s\r\nX-Bourse-Signature: %s\r\n%sContent-Length: %zu\r\n\r\n%s",
                     method, path, u->key, ts, nonce, sig, bn ? "Content-Type: application/json\r\n" : "", bn,
                     body);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Each user's first signed request (their balances) before the clock
 * starts: it opens the user's session into the gateway, whose replay and
 * first account query are a one-off cost, not an order's round trip. */
static int warm_up(hrun *r)
{
    int fd = tcp_connect("127.0.0.1", r->port, NULL, 0);
    if (fd < 0)
        return -1;
    static char buf[IN];
    char req[REQ_MAX], nonce[40];
    httpresp h;
    for (uint32_t u = 0; u < r->nusers; u++) {
        snprintf(nonce, sizeof nonce, "%s-warm%06u", r->prefix, u);
        size_t n = signed_request(req, sizeof req, &r->users[u], nonce, "GET", "/api/v1/balances", "", 0);
        if (call(fd, req, n, buf, sizeof buf, &h) != 0 || h.status != 200) {
            arg_error("load: %s: a signed GET /api/v1/balances failed (status %d)", r->users[u].name,
                      h.status);
            close(fd);
            return -1;
        }
    }
    close(fd);
    return 0;
}

/* --- the run ---------------------------------------------------------------- */

/* Request i = 2k + kind: pair k's order is due in slot 2k, its cancel half
 * a round of the connections later (slot 2k + 2(C/2) + 1, odd, so no two
 * requests share a slot), well before the connection's next order (slot
 * 2k + 2C): the cancel does not queue behind its own order's answer. */
static int64_t due(const hrun *r, uint64_t i)
{
    uint64_t slot = i % 2 == K_PLACE ? i : i - 1 + 2 * (r->nconn / 2) + 1;
    return r->t0 + (int64_t)((double)slot * 1e9 / (double)r->rate);
}

static int conn_open(hrun *r, hconn *c)
{
    c->fd = tcp_connect("127.0.0.1", r->port, NULL, 0);
    if (c->fd < 0) {
        arg_error("load: connect to the HTTP port: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->have = 0;
    c->busy = 0;
    return 0;
}

/* The request's answer is in (or failed: ok < 0 with what). */
static void finish(hrun *r, hconn *c, int ok, const char *what)
{
    uint64_t i = c->inflight;
    c->busy = 0;
    r->answered++;
    r->last_answer = r->now;
    if (ok > 0) {
        r->ok++;
        uint64_t ns = (uint64_t)(r->now - due(r, i));
        hist_record(&r->rtt[i % 2], ns);
        hist_record(&r->all, ns);
    } else {
        r->failed++;
        count_error(r, what);
    }
}

static void conn_fail(hrun *r, hconn *c, const char *what)
{
    if (c->busy)
        finish(r, c, -1, what);
    close(c->fd);
    c->fd = -1;
}

static int send_request(hrun *r, hconn *c, uint64_t i)
{
    const huser *u = &r->users[c->user];
    uint64_t k = i / 2;
    char path[64], body[160], nonce[40], req[REQ_MAX];
    const char *method;
    int bn = 0;
    if (i % 2 == K_PLACE) {
        method = "POST";
        snprintf(path, sizeof path, "/api/v1/orders");
        bn = snprintf(body, sizeof body,
                      "{\"symbol\":\"%s\",\"side\":\"buy\",\"quantity\":1,\"price\":\"1.%02u\","
                      "\"client_order_id\":\"%so%llu\"}",
                      r->sym, (unsigned)(k % 90 + 1), r->prefix, (unsigned long long)k);
    } else {
        method = "DELETE";
        snprintf(path, sizeof path, "/api/v1/orders/%so%llu", r->prefix, (unsigned long long)k);
        body[0] = 0;
    }
    snprintf(nonce, sizeof nonce, "%s-n%08llu", r->prefix, (unsigned long long)i); /* 8-64 characters */
    size_t n = signed_request(req, sizeof req, u, nonce, method, path, body, (size_t)bn);
    if (!n || tcp_write_all(c->fd, req, n) != 0)
        return -1;
    int64_t late = r->now - due(r, i);
    hist_record(&r->late, late > 0 ? (uint64_t)late : 0);
    c->busy = 1;
    c->inflight = i;
    r->sent++;
    return 0;
}

/* The next request of connection j after i: the cancel of its pair, or the
 * order of its next pair (pairs k = j, j + C, ...). */
static uint64_t after(const hrun *r, uint64_t i)
{
    return i % 2 == 0 ? i + 1 : i + 2 * r->nconn - 1;
}

static void take(hrun *r, hconn *c)
{
    ssize_t k = read(c->fd, c->in + c->have, sizeof c->in - c->have);
    if (k <= 0) {
        conn_fail(r, c, k == 0 ? "closed" : "read_error");
        return;
    }
    c->have += (size_t)k;
    for (;;) {
        httpresp h;
        const char *why;
        int got = httpresp_parse(c->in, c->have, sizeof c->in, &h, &why);
        if (got == 0)
            return;
        if (got < 0 || !c->busy) {
            conn_fail(r, c, "bad_response");
            return;
        }
        uint64_t i = c->inflight;
        int want = i % 2 == K_PLACE ? 201 : 200;
        if (h.status == want) {
            finish(r, c, 1, NULL);
        } else {
            char code[32], what[40];
            httpresp_error_code(&h, code, sizeof code);
            snprintf(what, sizeof what, "%d %s", h.status, code[0] ? code : "-");
            finish(r, c, -1, what);
        }
        size_t used = h.hlen + h.blen;
        memmove(c->in, c->in + used, c->have - used);
        c->have -= used;
    }
}

static int run(hrun *r)
{
    hist_init(&r->rtt[0]);
    hist_init(&r->rtt[1]);
    hist_init(&r->all);
    hist_init(&r->late);
    for (uint32_t j = 0; j < r->nconn; j++) {
        hconn *c = &r->c[j];
        c->user = j % r->nusers;
        c->next = 2 * (uint64_t)j;
        if (conn_open(r, c) != 0)
            return -1;
    }
    struct pollfd *p = calloc(r->nconn, sizeof *p);
    uint32_t *which = calloc(r->nconn, sizeof *which);
    if (!p || !which)
        return -1;
    r->t0 = mono_ns() + 20000000;
    int64_t end = due(r, r->total - 1) + 10000000000LL;
    while (r->answered < r->total && (r->now = mono_ns()) < end) {
        int64_t wake = r->now + 1000000;
        uint32_t np = 0;
        for (uint32_t j = 0; j < r->nconn; j++) {
            hconn *c = &r->c[j];
            if (c->fd < 0 && (c->next < r->total || c->busy) && conn_open(r, c) != 0)
                return -1;
            if (!c->busy && c->next < r->total) {
                int64_t d = due(r, c->next);
                if (d <= r->now) {
                    if (send_request(r, c, c->next) != 0) {
                        c->busy = 1, c->inflight = c->next;
                        r->sent++;
                        conn_fail(r, c, "write_error");
                    }
                    c->next = after(r, c->next);
                } else if (d < wake) {
                    wake = d;
                }
            }
            if (c->fd >= 0) {
                p[np] = (struct pollfd){.fd = c->fd, .events = POLLIN};
                which[np++] = j;
            }
        }
        int64_t wait = wake - mono_ns();
        struct timespec ts = {.tv_sec = 0, .tv_nsec = wait > 0 ? wait : 0};
        if (ppoll(p, np, &ts, NULL) <= 0)
            continue;
        r->now = mono_ns();
        for (uint32_t q = 0; q < np; q++)
            if (p[q].revents)
                take(r, &r->c[which[q]]);
    }
    for (uint32_t j = 0; j < r->nconn; j++)
        if (r->c[j].fd >= 0)
            close(r->c[j].fd);
    free(p);
    free(which);
    return 0;
}

int load_http_main(int argc, char **argv)
{
    static hrun r;
    r.nconn = 64;
    r.nusers = 8;
    r.rate = 5000;
    r.seconds = 5;
    r.sym = "AAPL";
    int port = -1, setup_only = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--proto")) {
            i++;
        } else if (!strcmp(a, "--data") && v) {
            r.dir = v, i++;
        } else if (!strcmp(a, "--http-port") && v) {
            port = atoi(v), i++;
        } else if (!strcmp(a, "--connections") && v) {
            r.nconn = (uint32_t)atoi(v), i++;
        } else if (!strcmp(a, "--users") && v) {
            r.nusers = (uint32_t)atoi(v), i++;
        } else if (!strcmp(a, "--rate") && v) {
            r.rate = (uint64_t)atoll(v), i++;
        } else if (!strcmp(a, "--seconds") && v) {
            r.seconds = atof(v), i++;
        } else if (!strcmp(a, "--symbol") && v) {
            r.sym = v, i++;
        } else if (!strcmp(a, "--keys-out") && v) {
            r.keys_out = v, i++;
        } else if (!strcmp(a, "--setup-only")) {
            setup_only = 1;
        } else {
            arg_error("load --proto http: unknown option '%s' (--data DIR --http-port P --connections N "
                      "--users N --rate R --seconds S --symbol SYM --keys-out FILE --setup-only)",
                      a);
            return 2;
        }
    }
    if (!r.dir || port <= 0 || port > 65535 || r.nconn < 1 || r.nconn > MAXC || r.nusers < 1 ||
        r.nusers > MAXU || r.rate < 2 || r.seconds <= 0 || strlen(r.sym) > 8) {
        arg_error("load --proto http: needs --data DIR and --http-port P; 1-%d connections, 1-%d users, a "
                  "rate of 2 or more",
                  MAXC, MAXU);
        return 2;
    }
    for (const char *s = r.sym; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.')) {
            arg_error("load --proto http: --symbol must be 1-8 of A-Z 0-9 .");
            return 2;
        }
    r.port = (uint16_t)port;
    r.total = (uint64_t)((double)r.rate * r.seconds) & ~1ULL; /* whole pairs */
    r.users = calloc(r.nusers, sizeof *r.users);
    r.c = calloc(r.nconn, sizeof *r.c);
    if (!r.users || !r.c || r.total < 2 || sodium_init() < 0)
        return 2;
    for (uint32_t u = 0; u < r.nusers; u++)
        snprintf(r.users[u].name, sizeof r.users[u].name, "hl%05u", u);
    signal(SIGPIPE, SIG_IGN);
    int64_t s0 = mono_ns();
    snprintf(r.prefix, sizeof r.prefix, "%04llx", (unsigned long long)(wall_ms() & 0xffff));
    if (setup_accounts(&r) != 0 || setup_keys(&r) != 0 || warm_up(&r) != 0)
        return 1;
    if (r.keys_out) {
        FILE *f = fopen(r.keys_out, "w");
        for (uint32_t u = 0; f && u < r.nusers; u++)
            fprintf(f, "%s %s %s\n", r.users[u].name, r.users[u].key, r.users[u].secret);
        if (!f || fclose(f) != 0) {
            arg_error("load: cannot write %s: %s", r.keys_out, strerror(errno));
            return 1;
        }
    }
    if (setup_only) {
        printf("load --proto http: %u users with API keys made in %.1f s\n", r.nusers,
               (double)(mono_ns() - s0) / 1e9);
        return 0;
    }
    printf("load --proto http: %u users (accounts and API keys made in %.1f s), %u connections, %llu "
           "requests/s offered for %.1f s (order + cancel pairs, open loop, HMAC-signed)\n",
           r.nusers, (double)(mono_ns() - s0) / 1e9, r.nconn, (unsigned long long)r.rate, r.seconds);
    fflush(stdout);
    if (run(&r) != 0)
        return 1;
    hist_print_line("http place (POST)", "ok", &r.rtt[0], r.rtt[0].count, r.total / 2);
    hist_print_line("http cancel (DELETE)", "ok", &r.rtt[1], r.rtt[1].count, r.total / 2);
    hist_print_line("http round trip", "ok", &r.all, r.all.count, r.total);
    double span = r.last_answer > r.t0 ? (double)(r.last_answer - r.t0) / 1e9 : 0;
    printf("achieved %.0f answers/s (%llu in %.2f s; offered %llu/s)\n",
           span > 0 ? (double)r.answered / span : 0, (unsigned long long)r.answered, span,
           (unsigned long long)r.rate);
    hist_print_line("written after due by", "ok", &r.late, r.late.count, r.total);
    for (uint32_t e = 0; e < r.nerr; e++)
        printf("  error %-32s %llu\n", r.err[e].what, (unsigned long long)r.err[e].n);
    printf("http result: offered %llu sent %llu answered %llu ok %llu errors %llu\n",
           (unsigned long long)r.total, (unsigned long long)r.sent, (unsigned long long)r.answered,
           (unsigned long long)r.ok, (unsigned long long)r.failed);
    return r.ok == r.total ? 0 : 1;
}
