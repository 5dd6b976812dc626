/*
 * test_http.c - the HTTP API's pure parts (src/http): the strict JSON
 * reader and its typed getters, the writer, decimal amounts, the router,
 * and auth.c's sessions, CSRF values, signed requests (good, stale,
 * replayed, bad signature, bad nonce, unknown key), keys kept in a file,
 * login throttling and rate limits.  The HTTP side itself is tested end to
 * end by tests/sh/e2e_http.sh.
 */
#include "check.h"
#include "http/auth.h"
#include "http/json.h"
#include "http/router.h"
#include "http/work.h"

#include <stdatomic.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parses(const char *s)
{
    hj_obj o;
    const char *why;
    return hj_parse(s, strlen(s), &o, &why) == 0;
}

static void json_accepts(void)
{
    hj_obj o;
    const char *why = "", *s;
    size_t n;
    int64_t v;
    int b;
    const char *doc = " {\"symbol\":\"AAPL\",\"quantity\":10,\"neg\":-5,\"ok\":true,\"no\":null,"
                      "\"esc\":\"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\",\"f\":1.5e3} ";
    CHECK(hj_parse(doc, strlen(doc), &o, &why) == 0);
    CHECK_EQ(o.n, 7);
    CHECK(hj_str(&o, "symbol", &s, &n) == 1 && n == 4 && !strcmp(s, "AAPL"));
    CHECK(hj_int(&o, "quantity", 1, 100, &v) == 1 && v == 10);
    CHECK(hj_int(&o, "neg", -10, 10, &v) == 1 && v == -5);
    CHECK(hj_bool(&o, "ok", &b) == 1 && b == 1);
    CHECK(hj_str(&o, "esc", &s, &n) == 1 && !strcmp(s, "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80"));
    CHECK(hj_str(&o, "no", &s, &n) == 0);         /* null reads as absent */
    CHECK(hj_str(&o, "missing", &s, &n) == 0);    /* absent */
    CHECK(hj_int(&o, "symbol", 0, 10, &v) == -1); /* wrong type */
    CHECK(hj_str(&o, "quantity", &s, &n) == -1);
    CHECK(hj_int(&o, "quantity", 11, 100, &v) == -1); /* out of range */
    CHECK(hj_int(&o, "f", 0, 1 << 30, &v) == -1);     /* a fraction is no integer */
    static const char *const known[] = {"symbol", "quantity", "neg", "ok", "no", "esc", NULL};
    CHECK(hj_unknown(&o, known) && !strcmp(hj_unknown(&o, known), "f"));
    CHECK(parses("{}"));
    CHECK(parses("{\"a\":\"\"}"));
}

static void json_refuses(void)
{
    const char *bad[] = {
        "",                         /* empty */
        "[]",                       /* not an object */
        "{\"a\":1",                 /* unterminated */
        "{\"a\":1,}",               /* trailing comma */
        "{\"a\":{\"b\":1}}",        /* nested */
        "{\"a\":[1]}",              /* array */
        "{\"a\":1,\"a\":2}",        /* duplicate key */
        "{\"a\":01}",               /* leading zero */
        "{\"a\":1.}",               /* bad number */
        "{\"a\":\"\\x\"}",          /* bad escape */
        "{\"a\":\"\\ud800\"}",      /* lone surrogate */
        "{\"a\":\"\\u0000\"}",      /* NUL */
        "{\"a\":\"\x01\"}",         /* control character */
        "{\"a\":\"\xc3\x28\"}",     /* invalid UTF-8 */
        "{\"a\":\"\xed\xa0\x80\"}", /* an encoded surrogate */
        "{\"a\":1} x",              /* bytes after */
        "{a:1}",                    /* unquoted key */
        "{\"a\":tru}",              /* bad literal */
        "{\"a\" 1}",                /* no colon */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (parses(bad[i])) {
            printf("FAIL json_refuses: took %s\n", bad[i]);
            check_failures++;
        }
    char big[HJ_VAL + 32];
    snprintf(big, sizeof big, "{\"a\":\"%0*d\"}", HJ_VAL, 0); /* a value of HJ_VAL bytes: one too many */
    CHECK(!parses(big));
    char many[1024] = "{";
    for (int i = 0; i <= HJ_PAIRS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"k%d\":1", i ? "," : "", i);
    strcat(many, "}");
    CHECK(!parses(many));
}

static void json_writer_and_amounts(void)
{
    char buf[64];
    hj_w w = {.p = buf, .cap = sizeof buf};
    hj_string(&w, "a\"<\n", 4);
    hj_raw(&w, ",", 1);
    hj_amount(&w, 1012500);
    hj_raw(&w, ",", 1);
    hj_amount(&w, -1);
    hj_raw(&w, ",", 1);
    hj_amount(&w, 50000);
    CHECK(!w.full);
    CHECK(!strcmp(buf, "\"a\\\"\\u003c\\u000a\",\"101.25\",\"-0.0001\",\"5\""));
    hj_w s = {.p = buf, .cap = 4};
    hj_raw(&s, "12345", 5);
    CHECK(s.full);
    int64_t v;
    CHECK(hj_parse_amount("10.25", 5, 1000000000, &v) == 0 && v == 102500);
    CHECK(hj_parse_amount("7", 1, 1000000000, &v) == 0 && v == 70000);
    CHECK(hj_parse_amount("0.0001", 6, 1000000000, &v) == 0 && v == 1);
    CHECK(hj_parse_amount("1.23456", 7, 1000000000, &v) != 0); /* 5 decimals */
    CHECK(hj_parse_amount("1.", 2, 1000000000, &v) != 0);
    CHECK(hj_parse_amount(".5", 2, 1000000000, &v) != 0);
    CHECK(hj_parse_amount("-1", 2, 1000000000, &v) != 0);
    CHECK(hj_parse_amount("1e3", 3, 1000000000, &v) != 0);
    CHECK(hj_parse_amount("100001", 6, 1000000000, &v) != 0); /* above max */
    CHECK(hj_parse_amount("99999999999999999999", 20, INT64_MAX, &v) != 0);
}

static void router_matches(void)
{
    static router t;
    int a = 1, b = 2, c = 3, other;
    CHECK(route_add(&t, "GET", "/api/v1/orders", 0, &a) == 0);
    CHECK(route_add(&t, "DELETE", "/api/v1/orders/{id}", 0, &b) == 0);
    CHECK(route_add(&t, "POST", "/api/v1/orders/{id}/replace", 0, &c) == 0);
    CHECK(route_add(&t, "GET", "no-slash", 0, &c) == -1);
    route_args ar;
    const route *r = route_find(&t, "GET", "/api/v1/orders", &ar, &other);
    CHECK(r && r->handler == &a && ar.n == 0);
    r = route_find(&t, "DELETE", "/api/v1/orders/x-1_2.3", &ar, &other);
    CHECK(r && r->handler == &b && ar.n == 1 && !strcmp(ar.v[0], "x-1_2.3"));
    r = route_find(&t, "POST", "/api/v1/orders/o7/replace", &ar, &other);
    CHECK(r && r->handler == &c && !strcmp(ar.v[0], "o7"));
    CHECK(!route_find(&t, "POST", "/api/v1/orders/o7", &ar, &other) && other == 1); /* 405 */
    CHECK(!route_find(&t, "GET", "/api/v1/order", &ar, &other) && other == 0);      /* 404 */
    CHECK(!route_find(&t, "DELETE", "/api/v1/orders/", &ar, &other));               /* empty arg */
    CHECK(!route_find(&t, "DELETE", "/api/v1/orders/a%20b", &ar, &other));          /* bad char */
    CHECK(!route_find(&t, "DELETE", "/api/v1/orders/a/b", &ar, &other));
    CHECK(!route_find(&t, "GET", "/api/v1/orders/", &ar, &other));
}

static auth_state *new_auth(const char *file)
{
    auth_limits l = {.session_s = 60, .login_fails = 3, .login_lock_s = 10, .rate_ip = 5, .rate_key = 2};
    return auth_new(&l, file);
}

static void sessions_and_csrf(void)
{
    auth_state *a = new_auth(NULL);
    char tok[AUTH_TOKEN_HEX + 1], csrf[AUTH_TOKEN_HEX + 1];
    uint32_t s = auth_session_new(a, "alice", 0, 1000, tok, csrf);
    CHECK(s != 0);
    CHECK_EQ(auth_session_find(a, tok, 2000), s);
    CHECK(!strcmp(auth_session_user(a, s), "alice"));
    CHECK(auth_session_csrf(a, s, csrf));
    char wrong[AUTH_TOKEN_HEX + 1];
    strcpy(wrong, csrf);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    CHECK(!auth_session_csrf(a, s, wrong));
    CHECK(!auth_session_csrf(a, s, ""));
    CHECK(!auth_session_csrf(a, s, NULL));
    CHECK_EQ(auth_session_find(a, csrf, 2000), 0); /* the CSRF value is no session token */
    CHECK_EQ(auth_session_find(a, "zz", 2000), 0);
    CHECK_EQ(auth_session_find(a, tok, 2000 + 61000), 0); /* idle past session_s */
    s = auth_session_new(a, "bob", 1, 100000, tok, csrf);
    CHECK(auth_session_op(a, s) == 1);
    auth_session_end(a, s);
    CHECK_EQ(auth_session_find(a, tok, 100001), 0);
    auth_free(a);
}

/* Thousands of keys (the index over them is made again as it grows, and
 * again from the file at a restart): each signs for its own user, and an
 * id never made is unknown. */
static void many_keys(void)
{
    enum { K = 3000 };
    char file[] = "/tmp/test_http_manykeysXXXXXX";
    int fd = mkstemp(file);
    CHECK(fd >= 0);
    close(fd);
    unlink(file);
    static char ids[K][AUTH_KEY_ID + 1], secs[K][AUTH_SECRET_HEX + 1];
    auth_state *a = new_auth(file);
    char u[AUTH_USER + 1], user[AUTH_USER + 1], sig[AUTH_SECRET_HEX + 1], nonce[32];
    for (int i = 0; i < K; i++) {
        snprintf(u, sizeof u, "u%d", i);
        CHECK(auth_key_new(a, u, "bot", ids[i], secs[i]) == 0);
    }
    int64_t now = 1700000000000;
    for (int round = 0; round < 2; round++) {
        int bad = 0;
        for (int i = 0; i < K; i++) {
            snprintf(nonce, sizeof nonce, "nonce-%d-%d", round, i);
            auth_sign((const uint8_t *)secs[i], strlen(secs[i]), "1700000000000", nonce, "GET", "/x", NULL, 0,
                      sig);
            snprintf(u, sizeof u, "u%d", i);
            if (auth_key_check(a, ids[i], "1700000000000", nonce, sig, "GET", "/x", NULL, 0, now, user) !=
                    SIG_OK ||
                strcmp(user, u))
                bad++;
        }
        CHECK_EQ(bad, 0);
        CHECK_EQ(auth_key_check(a, "ffffffffffffffff", "1700000000000", "nonce-none", sig, "GET", "/x", NULL,
                                0, now, user),
                 SIG_UNKNOWN_KEY);
        auth_free(a); /* and again from the file */
        a = new_auth(file);
    }
    auth_free(a);
    unlink(file);
}

static void signed_requests(void)
{
    char file[] = "/tmp/test_http_keysXXXXXX";
    int fd = mkstemp(file);
    CHECK(fd >= 0);
    close(fd);
    unlink(file);
    auth_state *a = new_auth(file);
    char id[AUTH_KEY_ID + 1], sec[AUTH_SECRET_HEX + 1], sig[AUTH_SECRET_HEX + 1], user[AUTH_USER + 1];
    CHECK(auth_key_new(a, "carol", "bot", id, sec) == 0);
    CHECK_EQ(strlen(id), AUTH_KEY_ID);
    CHECK_EQ(strlen(sec), AUTH_SECRET_HEX);
    const char *body = "{\"x\":1}";
    int64_t now = 1700000000000;
    auth_sign((const uint8_t *)sec, strlen(sec), "1700000000000", "nonce-0001", "POST", "/api/v1/orders",
              (const uint8_t *)body, strlen(body), sig);
    CHECK_EQ(auth_key_check(a, id, "1700000000000", "nonce-0001", sig, "POST", "/api/v1/orders",
                            (const uint8_t *)body, strlen(body), now, user),
             SIG_OK);
    CHECK(!strcmp(user, "carol"));
    /* the same again: replayed */
    CHECK_EQ(auth_key_check(a, id, "1700000000000", "nonce-0001", sig, "POST", "/api/v1/orders",
                            (const uint8_t *)body, strlen(body), now + 5, user),
             SIG_REPLAYED);
    /* another body, method or path under the same signature: bad */
    CHECK_EQ(auth_key_check(a, id, "1700000000000", "nonce-0002", sig, "POST", "/api/v1/orders",
                            (const uint8_t *)"{\"x\":2}", 7, now, user),
             SIG_BAD);
    CHECK_EQ(auth_key_check(a, id, "1700000000000", "nonce-0003", sig, "DELETE", "/api/v1/orders",
                            (const uint8_t *)body, strlen(body), now, user),
             SIG_BAD);
    /* stale either way, and not a number */
    CHECK_EQ(auth_key_check(a, id, "1700000000000", "nonce-0004", sig, "POST", "/api/v1/orders",
                            (const uint8_t *)body, strlen(body), now + AUTH_SKEW_MS + 1, user),
             SIG_STALE);
    CHECK_EQ(auth_key_check(a, id, "1700000000000", "nonce-0005", sig, "POST", "/api/v1/orders",
                            (const uint8_t *)body, strlen(body), now - AUTH_SKEW_MS - 1, user),
             SIG_STALE);
    CHECK_EQ(auth_key_check(a, id, "17e11", "nonce-0006", sig, "POST", "/", NULL, 0, now, user), SIG_STALE);
    CHECK_EQ(auth_key_check(a, id, "1700000000000", "short", sig, "POST", "/", NULL, 0, now, user),
             SIG_BAD_NONCE);
    CHECK_EQ(auth_key_check(a, id, "1700000000000", "bad nonce!", sig, "POST", "/", NULL, 0, now, user),
             SIG_BAD_NONCE);
    CHECK_EQ(auth_key_check(a, "0000000000000000", "1700000000000", "nonce-0007", sig, "POST", "/", NULL, 0,
                            now, user),
             SIG_UNKNOWN_KEY);
    /* upper-case hex is the same signature; a fresh nonce goes */
    auth_sign((const uint8_t *)sec, strlen(sec), "1700000000000", "nonce-0008", "GET", "/api/v1/fills", NULL,
              0, sig);
    for (char *p = sig; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 32);
    CHECK_EQ(
        auth_key_check(a, id, "1700000000000", "nonce-0008", sig, "GET", "/api/v1/fills", NULL, 0, now, user),
        SIG_OK);
    /* a nonce is forgotten after its window */
    auth_sign((const uint8_t *)sec, strlen(sec), "1700000100000", "nonce-0001", "POST", "/api/v1/orders",
              (const uint8_t *)body, strlen(body), sig);
    CHECK_EQ(auth_key_check(a, id, "1700000100000", "nonce-0001", sig, "POST", "/api/v1/orders",
                            (const uint8_t *)body, strlen(body), now + 100000, user),
             SIG_OK);
    auth_free(a);
    /* the key survives a restart through its file */
    a = new_auth(file);
    auth_sign((const uint8_t *)sec, strlen(sec), "1700000000000", "nonce-0009", "GET", "/x", NULL, 0, sig);
    CHECK_EQ(auth_key_check(a, id, "1700000000000", "nonce-0009", sig, "GET", "/x", NULL, 0, now, user),
             SIG_OK);
    auth_free(a);
    unlink(file);
}

/* A known answer, from `openssl dgst -sha256 -hmac KEY`: the recipe of
 * docs/http.md, not just sign and check agreeing with each other. */
static void signature_known_answer(void)
{
    const char *key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char sig[AUTH_SECRET_HEX + 1];
    auth_sign((const uint8_t *)key, strlen(key), "1700000000000", "nonce-0001", "POST", "/api/v1/orders",
              (const uint8_t *)"{\"x\":1}", 7, sig);
    CHECK(!strcmp(sig, "b6c09c0b3521447da5c81bf1fd841362a0ee78646f40d7c5a4b90ded1cd25a49"));
}

static void throttles_and_rates(void)
{
    auth_state *a = new_auth(NULL);
    uint32_t ip1 = 0x0100007f, ip2 = 0x0200007f;
    CHECK_EQ(auth_login_allowed(a, "dave", ip1, 0), 0);
    auth_login_failed(a, "dave", ip1, 0);
    auth_login_failed(a, "dave", ip2, 1);
    CHECK_EQ(auth_login_allowed(a, "dave", ip1, 2), 0);
    auth_login_failed(a, "dave", ip2, 2); /* the third of the name: locked */
    CHECK_EQ(auth_login_allowed(a, "dave", 0x0300007f, 3), -1);
    CHECK_EQ(auth_login_allowed(a, "erin", ip1, 3), 0);              /* ip1 failed once */
    CHECK_EQ(auth_login_allowed(a, "erin", ip2, 3), 0);              /* ip2 failed twice */
    auth_login_failed(a, "frank", ip2, 4);                           /* ip2's third */
    CHECK_EQ(auth_login_allowed(a, "erin", ip2, 5), -1);             /* the address is locked */
    CHECK_EQ(auth_login_allowed(a, "dave", ip1, 10 * 1000 + 10), 0); /* locks end */
    /* rate: 5/s per address, burst 10 */
    int went = 0;
    for (int i = 0; i < 30; i++)
        went += auth_rate_ip(a, ip1, 1000);
    CHECK_EQ(went, 10);
    CHECK(auth_rate_ip(a, ip2, 1000));       /* another address has its own */
    CHECK(auth_rate_ip(a, ip1, 1000 + 200)); /* one more after a fifth of a second */
    went = 0;
    for (int i = 0; i < 30; i++)
        went += auth_rate_key(a, "alice", 5000);
    CHECK_EQ(went, 4);
    auth_free(a);
}

/* The worker pool: jobs run off the caller's thread, their done back on
 * it (work_reap), and at most `queue` are held: the next is refused. */
typedef struct tjob {
    work_job j;
    atomic_int *gate;
    int ran, reaped;
} tjob;
static atomic_int woken;
static void tjob_run(work_job *j)
{
    tjob *t = (tjob *)j;
    while (!atomic_load(t->gate))
        usleep(1000);
    t->ran = 1;
}
static void tjob_done(work_job *j)
{
    ((tjob *)j)->reaped = 1;
}
static void tjob_wake(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&woken, 1);
}

static void worker_pool(void)
{
    atomic_int gate = 0;
    work_pool *p = work_new(1, 3, tjob_wake, NULL);
    CHECK(p != NULL);
    tjob t[5];
    for (int i = 0; i < 5; i++)
        t[i] = (tjob){.j = {.run = tjob_run, .done = tjob_done}, .gate = &gate};
    CHECK_EQ(work_submit(p, &t[0].j), 0);
    CHECK_EQ(work_submit(p, &t[1].j), 0);
    CHECK_EQ(work_submit(p, &t[2].j), 0);
    CHECK_EQ(work_submit(p, &t[3].j), -1); /* three held: refused, not queued */
    CHECK_EQ(work_pending(p), 3u);
    CHECK_EQ(work_refused(p), 1u);
    CHECK_EQ(work_reap(p), 0u); /* nothing done while the gate is shut */
    atomic_store(&gate, 1);
    unsigned got = 0;
    for (int i = 0; i < 5000 && got < 3; i++) {
        got += work_reap(p);
        usleep(1000);
    }
    CHECK_EQ(got, 3u);
    CHECK(t[0].ran && t[1].ran && t[2].ran && t[0].reaped && t[2].reaped && !t[3].ran);
    CHECK(atomic_load(&woken) >= 1);
    CHECK_EQ(work_pending(p), 0u);
    CHECK_EQ(work_submit(p, &t[4].j), 0); /* room again */
    work_free(p);                         /* reaps or drops it */
    CHECK(t[4].reaped);
}

int main(void)
{
    RUN(worker_pool);
    RUN(json_accepts);
    RUN(json_refuses);
    RUN(json_writer_and_amounts);
    RUN(router_matches);
    RUN(sessions_and_csrf);
    RUN(signed_requests);
    RUN(many_keys);
    RUN(signature_known_answer);
    RUN(throttles_and_rates);
    return check_failures ? 1 : 0;
}
