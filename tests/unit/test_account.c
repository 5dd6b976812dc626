/*
 * test_account.c - the accounts' state machine in the core
 * (src/core/account.c, bourse/account.h): every transition and every
 * refusal, the fragments (lost starts, cut messages), the journal record of
 * a fragment, snapshots (version 4) and the hash, and a property test: a
 * random run of account commands mixed with orders gives the same events
 * and state applied directly, through journal records, and across a
 * snapshot taken anywhere.
 */
#include "bourse/account.h"
#include "bourse/text.h"
#include "check.h"
#include "evlog.h"
#include "journal/record.h"
#include "membuf.h"
#include "rng.h"

#include <stdlib.h>
#include <string.h>

/* The last ACCOUNT event's line, and every event's. */
typedef struct seen {
    evlog log;
    char last[256];
} seen;

static void on_ev(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    seen *s = ctx;
    evlog_event(&s->log, cmd, ev);
    if (ev->type == BOURSE_EV_ACCOUNT) {
        size_t n = bourse_text_event(s->log.e, cmd, ev, s->last);
        s->last[n - 1] = 0;
    }
}

static uint64_t seq;

static uint64_t below(uint64_t n)
{
    return rnd() % n;
}

static void send(bourse_engine *e, const bourse_account_cmd *a, seen *s)
{
    bourse_cmd f[BOURSE_ACCOUNT_FRAGMENTS];
    size_t n = bourse_account_encode(a, f);
    CHECK(n > 0);
    s->last[0] = 0;
    s->log.e = e;
    for (size_t i = 0; i < n; i++) {
        f[i].seq = ++seq;
        f[i].ts_ns = (int64_t)seq * 1000;
        bourse_engine_apply(e, &f[i], on_ev, s);
    }
}

static void text(bourse_engine *e, const char *line, seen *s)
{
    bourse_cmd c;
    char err[200];
    CHECK_EQ(bourse_text_parse(line, strlen(line), &c, err, sizeof err), BOURSE_TEXT_CMD);
    bourse_engine_resolve(e, &c);
    s->log.e = e;
    bourse_engine_apply(e, &c, on_ev, s);
}

static bourse_account_cmd op(int o, const char *user)
{
    bourse_account_cmd a = {.op = (uint8_t)o};
    strcpy(a.user, user);
    return a;
}

static void signup(bourse_engine *e, const char *user, seen *s)
{
    bourse_account_cmd a = op(BOURSE_AOP_SIGNUP, user);
    snprintf(a.email, sizeof a.email, "%s@example.com", user);
    strcpy(a.hash, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo");
    send(e, &a, s);
}

static void kyc(bourse_engine *e, const char *user, seen *s)
{
    bourse_account_cmd a = op(BOURSE_AOP_KYC, user);
    strcpy(a.legal_name, "Ada Lovelace");
    strcpy(a.dob, "1990-12-10");
    strcpy(a.country, "GB");
    strcpy(a.id_number, "P1234567");
    memset(a.doc_sha256, 'a', 64);
    strcpy(a.doc_type, "pdf");
    a.doc_size = 1234;
    send(e, &a, s);
}

static void simple(bourse_engine *e, int o, const char *user, const char *reason, seen *s)
{
    bourse_account_cmd a = op(o, user);
    strcpy(a.reason, reason);
    a.flag = 1;
    send(e, &a, s);
}

static void funding(bourse_engine *e, int o, const char *user, const char *asset, int64_t amount, int now,
                    seen *s)
{
    bourse_account_cmd a = op(o, user);
    strcpy(a.asset, asset);
    a.amount = amount;
    a.flag = (uint8_t)now;
    send(e, &a, s);
}

static void decide(bourse_engine *e, int o, uint64_t id, const char *reason, seen *s)
{
    bourse_account_cmd a = {.op = (uint8_t)o, .funding_id = id};
    strcpy(a.reason, reason);
    send(e, &a, s);
}

static int state_of(bourse_engine *e, const char *user)
{
    int i = bourse_account_find(e, user, strlen(user));
    bourse_account a;
    return i < 0 || bourse_account_at(e, (uint32_t)i, &a) ? -1 : a.state;
}

#define LAST(s, want)                                                                                        \
    do {                                                                                                     \
        if (strcmp((s)->last, want) != 0) {                                                                  \
            printf("FAIL %s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, (s)->last, want);            \
            check_failures++;                                                                                \
        }                                                                                                    \
    } while (0)

static void test_life_cycle(void)
{
    bourse_engine *e = bourse_engine_new(NULL);
    seen s = {0};
    uint64_t h0 = bourse_engine_hash(e);
    signup(e, "alice", &s);
    LAST(&s, "ACCOUNT alice signup kyc_required");
    CHECK(bourse_engine_hash(e) != h0);
    CHECK_EQ(bourse_user_find(e, "alice", 5), BOURSE_NONE); /* no core user before approval */
    simple(e, BOURSE_AOP_APPROVE, "alice", "", &s);
    LAST(&s, "ACCOUNT alice approve ERROR WRONG_STATE");
    uint64_t h1 = bourse_engine_hash(e);
    kyc(e, "alice", &s);
    CHECK(bourse_engine_hash(e) != h1); /* the hash covers the accounts' state */
    LAST(&s, "ACCOUNT alice kyc kyc_pending");
    kyc(e, "alice", &s);
    LAST(&s, "ACCOUNT alice kyc ERROR WRONG_STATE");
    simple(e, BOURSE_AOP_REJECT, "alice", "blurred photo", &s);
    LAST(&s, "ACCOUNT alice reject kyc_rejected");
    bourse_account acc;
    CHECK_EQ(bourse_account_at(e, 0, &acc), 0);
    CHECK(strcmp(acc.reason, "blurred photo") == 0);
    CHECK(strcmp(acc.legal_name, "Ada Lovelace") == 0 && strcmp(acc.email, "alice@example.com") == 0);
    kyc(e, "alice", &s); /* may send again */
    LAST(&s, "ACCOUNT alice kyc kyc_pending");
    CHECK_EQ(bourse_account_at(e, 0, &acc), 0);
    CHECK_EQ(acc.reason[0], 0);
    simple(e, BOURSE_AOP_APPROVE, "alice", "", &s);
    LAST(&s, "ACCOUNT alice approve active");
    CHECK(bourse_user_find(e, "alice", 5) != BOURSE_NONE);
    simple(e, BOURSE_AOP_RESUME, "alice", "", &s);
    LAST(&s, "ACCOUNT alice resume ERROR WRONG_STATE");
    /* suspend = the core's block: open orders canceled, new ones refused */
    text(e, "symbol ACME", &s);
    text(e, "deposit alice CASH 1000", &s);
    text(e, "buy alice o1 ACME 10 5", &s);
    simple(e, BOURSE_AOP_SUSPEND, "alice", "fraud check", &s);
    LAST(&s, "ACCOUNT alice suspend suspended");
    CHECK(strstr(s.log.s, "CANCELED alice o1 10 KILL") != NULL);
    CHECK_EQ(bourse_user_blocked(e, bourse_user_find(e, "alice", 5)), 1);
    text(e, "buy alice o2 ACME 10 5", &s);
    CHECK(strstr(s.log.s, "REJECTED alice o2 BLOCKED") != NULL);
    simple(e, BOURSE_AOP_SUSPEND, "alice", "", &s);
    LAST(&s, "ACCOUNT alice suspend ERROR WRONG_STATE");
    simple(e, BOURSE_AOP_RESUME, "alice", "", &s);
    LAST(&s, "ACCOUNT alice resume active");
    CHECK_EQ(bourse_user_blocked(e, bourse_user_find(e, "alice", 5)), 0);
    simple(e, BOURSE_AOP_OPERATOR, "alice", "", &s);
    LAST(&s, "ACCOUNT alice operator active");
    CHECK_EQ(bourse_account_at(e, 0, &acc), 0);
    CHECK_EQ(acc.operator_role, 1);
    simple(e, BOURSE_AOP_CLOSE, "alice", "asked to", &s);
    LAST(&s, "ACCOUNT alice close closed");
    CHECK_EQ(bourse_user_blocked(e, bourse_user_find(e, "alice", 5)), 1);
    simple(e, BOURSE_AOP_CLOSE, "alice", "", &s);
    LAST(&s, "ACCOUNT alice close ERROR WRONG_STATE");
    simple(e, BOURSE_AOP_RESUME, "alice", "", &s);
    LAST(&s, "ACCOUNT alice resume ERROR WRONG_STATE");
    simple(e, BOURSE_AOP_OPERATOR, "alice", "", &s);
    LAST(&s, "ACCOUNT alice operator ERROR WRONG_STATE");
    kyc(e, "alice", &s);
    LAST(&s, "ACCOUNT alice kyc ERROR WRONG_STATE");
    /* close before approval: no core user is made or blocked */
    signup(e, "bob", &s);
    simple(e, BOURSE_AOP_CLOSE, "bob", "", &s);
    LAST(&s, "ACCOUNT bob close closed");
    CHECK_EQ(bourse_user_find(e, "bob", 3), BOURSE_NONE);
    free(s.log.s);
    bourse_engine_free(e);
}

static void test_refusals(void)
{
    bourse_engine *e = bourse_engine_new(NULL);
    seen s = {0};
    text(e, "user carol", &s);
    signup(e, "carol", &s); /* a core user made the old way holds the name */
    LAST(&s, "ACCOUNT carol signup ERROR CONFLICT");
    signup(e, "dave", &s);
    signup(e, "dave", &s);
    LAST(&s, "ACCOUNT dave signup ERROR CONFLICT");
    signup(e, "bad name", &s);
    LAST(&s, "ACCOUNT bad name signup ERROR BAD_FIELD");
    bourse_account_cmd a = op(BOURSE_AOP_SIGNUP, "erin"); /* no email, no hash */
    send(e, &a, &s);
    LAST(&s, "ACCOUNT erin signup ERROR BAD_FIELD");
    for (int o = BOURSE_AOP_KYC; o <= BOURSE_AOP_WITHDRAW; o++) {
        simple(e, o, "nobody", "", &s);
        CHECK(strstr(s.last, "ERROR NOT_FOUND") != NULL);
    }
    bourse_account_cmd k = op(BOURSE_AOP_KYC, "dave"); /* KYC with fields missing */
    strcpy(k.legal_name, "Dave");
    send(e, &k, &s);
    LAST(&s, "ACCOUNT dave kyc ERROR BAD_FIELD");
    simple(e, BOURSE_AOP_REJECT, "dave", "x", &s);
    LAST(&s, "ACCOUNT dave reject ERROR WRONG_STATE");
    simple(e, BOURSE_AOP_SUSPEND, "dave", "x", &s);
    LAST(&s, "ACCOUNT dave suspend ERROR WRONG_STATE");
    funding(e, BOURSE_AOP_DEPOSIT, "dave", "CASH", 10000, 0, &s);
    LAST(&s, "ACCOUNT dave deposit ERROR NOT_ACTIVE");
    decide(e, BOURSE_AOP_FUND_APPROVE, 1, "", &s);
    LAST(&s, "ACCOUNT - fund_approve 1 ERROR NOT_FOUND");
    decide(e, BOURSE_AOP_FUND_REJECT, 0, "", &s);
    LAST(&s, "ACCOUNT - fund_reject ERROR NOT_FOUND");
    /* a field too long is refused by the encoder: never sent */
    bourse_account_cmd big = op(BOURSE_AOP_SIGNUP, "frank");
    memset(big.email, 'x', sizeof big.email);
    bourse_cmd f[BOURSE_ACCOUNT_FRAGMENTS];
    CHECK_EQ(bourse_account_encode(&big, f), 0);
    big = (bourse_account_cmd){.op = 99};
    CHECK_EQ(bourse_account_encode(&big, f), 0);
    free(s.log.s);
    bourse_engine_free(e);
}

static void active(bourse_engine *e, const char *user, seen *s)
{
    signup(e, user, s);
    kyc(e, user, s);
    simple(e, BOURSE_AOP_APPROVE, user, "", s);
}

static void test_funding(void)
{
    bourse_engine *e = bourse_engine_new(NULL);
    seen s = {0};
    text(e, "symbol ACME", &s);
    active(e, "gina", &s);
    funding(e, BOURSE_AOP_DEPOSIT, "gina", "CASH", 1000 * BOURSE_SCALE, 0, &s);
    LAST(&s, "ACCOUNT gina deposit 1 pending");
    funding(e, BOURSE_AOP_WITHDRAW, "gina", "CASH", 10 * BOURSE_SCALE, 0, &s);
    LAST(&s, "ACCOUNT gina withdraw 2 pending");
    decide(e, BOURSE_AOP_FUND_APPROVE, 2, "", &s); /* nothing to withdraw yet: rejected by the core */
    LAST(&s, "ACCOUNT gina fund_approve 2 rejected");
    bourse_funding f;
    CHECK_EQ(bourse_funding_at(e, 1, &f), 0);
    CHECK(strcmp(f.reason, "INSUFFICIENT_CASH") == 0);
    decide(e, BOURSE_AOP_FUND_APPROVE, 1, "", &s);
    LAST(&s, "ACCOUNT gina fund_approve 1 approved");
    CHECK(strstr(s.log.s, "BALANCE gina CASH 1000 0") != NULL || strstr(s.log.s, "OK\n") != NULL);
    decide(e, BOURSE_AOP_FUND_APPROVE, 1, "", &s);
    LAST(&s, "ACCOUNT gina fund_approve 1 ERROR WRONG_STATE");
    decide(e, BOURSE_AOP_FUND_REJECT, 1, "late", &s);
    LAST(&s, "ACCOUNT gina fund_reject 1 ERROR WRONG_STATE");
    funding(e, BOURSE_AOP_WITHDRAW, "gina", "CASH", 10 * BOURSE_SCALE, 0, &s);
    decide(e, BOURSE_AOP_FUND_REJECT, 3, "bank details wrong", &s);
    LAST(&s, "ACCOUNT gina fund_reject 3 rejected");
    CHECK_EQ(bourse_funding_at(e, 2, &f), 0);
    CHECK(strcmp(f.reason, "bank details wrong") == 0 && strcmp(f.user, "gina") == 0);
    funding(e, BOURSE_AOP_DEPOSIT, "gina", "ACME", 50, 1, &s); /* dev mode: approved at once */
    LAST(&s, "ACCOUNT gina deposit 4 approved");
    funding(e, BOURSE_AOP_WITHDRAW, "gina", "ACME", 1, 1, &s); /* ...deposits only */
    LAST(&s, "ACCOUNT gina withdraw 5 pending");
    funding(e, BOURSE_AOP_DEPOSIT, "gina", "NOPE", 50, 0, &s);
    LAST(&s, "ACCOUNT gina deposit ERROR UNKNOWN_SYMBOL");
    funding(e, BOURSE_AOP_DEPOSIT, "gina", "CASH", 0, 0, &s);
    LAST(&s, "ACCOUNT gina deposit ERROR BAD_FIELD");
    funding(e, BOURSE_AOP_DEPOSIT, "gina", "CASH", BOURSE_CASH_MAX + 1, 0, &s);
    LAST(&s, "ACCOUNT gina deposit ERROR BAD_FIELD");
    funding(e, BOURSE_AOP_WITHDRAW, "gina", "CASH", -5, 0, &s);
    LAST(&s, "ACCOUNT gina withdraw ERROR BAD_FIELD");
    CHECK_EQ(bourse_funding_count(e), 5);
    bourse_cmd b = {.type = BOURSE_CMD_BALANCE, .user = bourse_user_find(e, "gina", 4)};
    memcpy(b.user_name.s, "gina", 4);
    seen q = {0};
    q.log.e = e;
    bourse_engine_query(e, &b, on_ev, &q);
    CHECK(strstr(q.log.s, "BALANCE gina CASH 1000 0") != NULL);
    CHECK(strstr(q.log.s, "BALANCE gina ACME 50 0") != NULL);
    free(q.log.s);
    free(s.log.s);
    bourse_engine_free(e);
}

/* Fragments: a continuation without its start is dropped, a FIRST starts
 * afresh, a message whose length does not add up is refused. */
static void test_fragments(void)
{
    bourse_engine *e = bourse_engine_new(NULL);
    seen s = {0};
    s.log.e = e;
    bourse_account_cmd a = op(BOURSE_AOP_SIGNUP, "hank");
    strcpy(a.email, "hank@example.com");
    memset(a.hash, 'h', 100);
    bourse_cmd f[BOURSE_ACCOUNT_FRAGMENTS];
    size_t n = bourse_account_encode(&a, f);
    CHECK(n >= 3);
    CHECK_EQ(f[0].side, BOURSE_ACCOUNT_FIRST);
    CHECK_EQ(f[n - 1].side, BOURSE_ACCOUNT_LAST);
    for (size_t i = 1; i < n; i++) /* no start: nothing happens */
        bourse_engine_apply(e, &f[i], on_ev, &s);
    CHECK(s.log.len == 0 && bourse_account_count(e) == 0);
    for (size_t i = 0; i + 1 < n; i++) /* cut short (a crash), then a fresh one */
        bourse_engine_apply(e, &f[i], on_ev, &s);
    CHECK(s.log.len == 0);
    for (size_t i = 0; i < n; i++)
        bourse_engine_apply(e, &f[i], on_ev, &s);
    LAST(&s, "ACCOUNT hank signup kyc_required");
    /* a middle fragment lost: the length does not add up */
    bourse_account_cmd b = op(BOURSE_AOP_SIGNUP, "ivan");
    strcpy(b.email, "ivan@example.com");
    memset(b.hash, 'h', 100);
    n = bourse_account_encode(&b, f);
    s.last[0] = 0;
    for (size_t i = 0; i < n; i++)
        if (i != 1)
            bourse_engine_apply(e, &f[i], on_ev, &s);
    LAST(&s, "ACCOUNT - ? ERROR BAD_FIELD");
    CHECK_EQ(bourse_account_count(e), 1);
    /* more bytes than a message can have: dropped, nothing applied */
    bourse_cmd big = {.type = BOURSE_CMD_ACCOUNT, .side = BOURSE_ACCOUNT_FIRST, .tif = BOURSE_ACCOUNT_PART};
    memset(big.part, 0xab, sizeof big.part);
    s.last[0] = 0;
    for (int i = 0; i < 2 * BOURSE_ACCOUNT_FRAGMENTS; i++) {
        bourse_engine_apply(e, &big, on_ev, &s);
        big.side = i + 2 == 2 * BOURSE_ACCOUNT_FRAGMENTS ? BOURSE_ACCOUNT_LAST : 0;
    }
    CHECK_EQ(s.last[0], 0);
    big.tif = 200; /* a fragment longer than a fragment: dropped */
    big.side = BOURSE_ACCOUNT_FIRST | BOURSE_ACCOUNT_LAST;
    bourse_engine_apply(e, &big, on_ev, &s);
    CHECK_EQ(s.last[0], 0);
    CHECK_EQ(bourse_account_count(e), 1);
    free(s.log.s);
    bourse_engine_free(e);
}

/* A fragment through a journal record and back, and bad records refused. */
static void test_record(void)
{
    bourse_account_cmd a = op(BOURSE_AOP_KYC, "judy");
    strcpy(a.legal_name, "Judith Q. Public-Smith");
    strcpy(a.reason, "a reason with spaces");
    bourse_cmd f[BOURSE_ACCOUNT_FRAGMENTS];
    size_t n = bourse_account_encode(&a, f);
    rec_prev pw = {0}, pr = {0};
    for (size_t i = 0; i < n; i++) {
        f[i].seq = i + 1;
        f[i].ts_ns = 1000 + (int64_t)i;
        CHECK(rec_check(&f[i]) == NULL);
        uint8_t out[REC_MAX];
        size_t len = rec_encode(out, &f[i], &pw);
        CHECK(len <= REC_MAX);
        bourse_cmd back;
        const char *why = NULL;
        CHECK_EQ(rec_decode(out, len, &back, &pr, &why), (int)len);
        CHECK(back.type == BOURSE_CMD_ACCOUNT && back.side == f[i].side && back.tif == f[i].tif);
        CHECK(memcmp(back.part, f[i].part, f[i].tif) == 0 && back.seq == f[i].seq);
        char line[BOURSE_TEXT_LINE_MAX];
        size_t k = bourse_text_cmd(&back, line);
        CHECK(k > 8 && memcmp(line, "account ", 8) == 0);
        bourse_cmd parsed; /* the dump's line parses back to the same fragment */
        char err[200];
        CHECK_EQ(bourse_text_parse(line, k - 1, &parsed, err, sizeof err), BOURSE_TEXT_CMD);
        CHECK(parsed.type == BOURSE_CMD_ACCOUNT && parsed.side == back.side && parsed.tif == back.tif);
        CHECK(memcmp(parsed.part, back.part, back.tif) == 0);
    }
    bourse_cmd junk;
    char jerr[200];
    CHECK_EQ(bourse_text_parse("account middle 00", 17, &junk, jerr, sizeof jerr), BOURSE_TEXT_BAD);
    CHECK_EQ(bourse_text_parse("account last 0g", 15, &junk, jerr, sizeof jerr), BOURSE_TEXT_BAD);
    CHECK_EQ(bourse_text_parse("account last 0", 14, &junk, jerr, sizeof jerr), BOURSE_TEXT_BAD);
    bourse_cmd bad = f[0];
    bad.tif = BOURSE_ACCOUNT_PART + 1;
    CHECK(rec_check(&bad) != NULL);
    bad = f[0];
    bad.side = 4;
    CHECK(rec_check(&bad) != NULL);
}

static bourse_engine *save_load(const bourse_engine *e, buf *b)
{
    b->len = b->pos = 0;
    CHECK_EQ(bourse_engine_save(e, buf_write, b), 0);
    char err[200];
    bourse_engine *copy = bourse_engine_load(buf_read, b, err, sizeof err);
    if (!copy)
        printf("load failed: %s\n", err);
    return copy;
}

static void test_snapshot(void)
{
    bourse_engine *e = bourse_engine_new(NULL);
    seen s = {0};
    buf b = {0};
    /* no accounts: version 3, as before accounts existed */
    text(e, "symbol ACME", &s);
    bourse_engine *c = save_load(e, &b);
    CHECK(c && b.p[8] == 3);
    bourse_engine_free(c);
    active(e, "kate", &s);
    signup(e, "liam", &s);
    funding(e, BOURSE_AOP_DEPOSIT, "kate", "CASH", 5 * BOURSE_SCALE, 0, &s);
    /* half a message in flight: the snapshot keeps it */
    bourse_account_cmd a = op(BOURSE_AOP_SIGNUP, "mona");
    strcpy(a.email, "m@example.com");
    memset(a.hash, 'h', 100);
    bourse_cmd f[BOURSE_ACCOUNT_FRAGMENTS];
    size_t n = bourse_account_encode(&a, f);
    for (size_t i = 0; i + 1 < n; i++)
        bourse_engine_apply(e, &f[i], on_ev, &s);
    c = save_load(e, &b);
    CHECK(c != NULL && b.p[8] == 4);
    if (!c)
        return;
    CHECK(bourse_engine_hash(c) == bourse_engine_hash(e));
    CHECK_EQ(bourse_account_count(c), 2);
    CHECK_EQ(state_of(c, "kate"), BOURSE_AS_ACTIVE);
    CHECK_EQ(state_of(c, "liam"), BOURSE_AS_KYC_REQUIRED);
    seen s2 = {0};
    s2.log.e = c;
    bourse_engine_apply(c, &f[n - 1], on_ev, &s2);
    LAST(&s2, "ACCOUNT mona signup kyc_required");
    bourse_engine_apply(e, &f[n - 1], on_ev, &s);
    CHECK(bourse_engine_hash(c) == bourse_engine_hash(e));
    /* damage: every truncation is refused */
    b.len = 0;
    CHECK_EQ(bourse_engine_save(e, buf_write, &b), 0);
    size_t full = b.len;
    for (size_t cut = full - 40; cut < full; cut += 7) {
        buf t = {.p = b.p, .len = cut};
        char err[200];
        bourse_engine *x = bourse_engine_load(buf_read, &t, err, sizeof err);
        CHECK(x == NULL);
        bourse_engine_free(x);
    }
    bourse_engine_free(c);
    free(b.p);
    free(s.log.s);
    free(s2.log.s);
    bourse_engine_free(e);
}

/* Random account commands among orders: applied directly, and through
 * journal records with a snapshot taken at a random point, the same events
 * and the same hash. */
static void test_property(void)
{
    static const char *const users[] = {"u1", "u2", "u3", "u4"};
    rng_state = 0x5eed;
    for (int run = 0; run < 40; run++) {
        bourse_engine *a = bourse_engine_new(NULL), *b = bourse_engine_new(NULL);
        seen sa = {0}, sb = {0};
        buf snap = {0};
        int cut = (int)below(60);
        rec_prev pw = {0}, pr = {0};
        uint64_t s0 = 0;
        bourse_cmd sym = {.type = BOURSE_CMD_SYMBOL};
        memcpy(sym.symbol_name.s, "ACME", 4);
        for (int step = 0; step < 60; step++) {
            bourse_account_cmd m = op((int)(1 + below(BOURSE_AOP_COUNT_ - 1)), users[below(4)]);
            snprintf(m.email, sizeof m.email, "%s@x.org", m.user);
            strcpy(m.hash, "$argon2id$h");
            strcpy(m.legal_name, "L N"), strcpy(m.dob, "1980-01-01"), strcpy(m.country, "FR");
            strcpy(m.id_number, "X1"), memset(m.doc_sha256, 'b', 64), strcpy(m.doc_type, "png");
            m.doc_size = 9;
            strcpy(m.asset, below(4) ? "CASH" : "ACME");
            m.amount = (int64_t)below(3) * BOURSE_SCALE;
            m.funding_id = below(6);
            m.flag = (uint8_t)below(2);
            bourse_cmd f[BOURSE_ACCOUNT_FRAGMENTS + 2];
            size_t n = bourse_account_encode(&m, f);
            if (step == 0)
                f[n++] = sym;
            if (below(3) == 0) { /* an order of one of the users, if it exists */
                bourse_cmd o = {
                    .type = BOURSE_CMD_ORDER, .side = (uint8_t)below(2), .qty = 1, .price = BOURSE_SCALE};
                snprintf(o.oid.s, sizeof o.oid.s, "o%d", step);
                memcpy(o.user_name.s, m.user, strlen(m.user));
                memcpy(o.symbol_name.s, "ACME", 4);
                f[n++] = o;
            }
            for (size_t i = 0; i < n; i++) {
                f[i].seq = ++s0;
                f[i].ts_ns = (int64_t)s0;
                bourse_engine_resolve(a, &f[i]);
                sa.log.e = a;
                bourse_engine_apply(a, &f[i], on_ev, &sa);
                uint8_t rec[REC_MAX];
                size_t len = rec_encode(rec, &f[i], &pw);
                bourse_cmd back;
                const char *why;
                CHECK_EQ(rec_decode(rec, len, &back, &pr, &why), (int)len);
                sb.log.e = b;
                bourse_engine_apply(b, &back, on_ev, &sb);
            }
            if (step == cut) {
                bourse_engine *c = save_load(b, &snap);
                bourse_engine_free(b);
                b = c;
            }
        }
        CHECK(bourse_engine_hash(a) == bourse_engine_hash(b));
        CHECK(sa.log.len == sb.log.len && memcmp(sa.log.s, sb.log.s, sa.log.len) == 0);
        free(sa.log.s), free(sb.log.s), free(snap.p);
        bourse_engine_free(a), bourse_engine_free(b);
    }
}

int main(void)
{
    RUN(test_life_cycle);
    RUN(test_refusals);
    RUN(test_funding);
    RUN(test_fragments);
    RUN(test_record);
    RUN(test_snapshot);
    RUN(test_property);
    return CHECK_DONE();
}
