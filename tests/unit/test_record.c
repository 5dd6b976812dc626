/*
 * test_record.c - the journal record's decoder against its encoder and a
 * plain reference (issue #20 made both faster: varints of up to 8 bytes in
 * word operations, names measured by their words).  Random commands of
 * every shape round-trip exactly, at every varint length and with the
 * record's end right after the last byte, cancels and replaces with their
 * order handle or without; names pass or fail the check as the
 * character-by-character rule says.
 */
#include "check.h"
#include "journal/record.h"
#include "rng.h"

#include <string.h>

/* The rule, one character at a time: 1..max characters of the class, then
 * only zeros. */
static int ref_valid(const char *s, size_t max, int symbol)
{
    size_t n = 0;
    while (n < max && s[n]) {
        char ch = s[n++];
        int alnum = (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z');
        int ok = symbol ? alnum || ch == '.' : alnum || (ch >= 'a' && ch <= 'z') || ch == '-' || ch == '_';
        if (!ok)
            return 0;
    }
    for (size_t i = n; i < max; i++)
        if (s[i])
            return 0;
    return n > 0;
}

static const char alphabet[] = "aZ09-_.%\0 \x80";

static void random_name(char *s, size_t max)
{
    memset(s, 0, max);
    size_t n = rnd() % (max + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = rnd() % 8 ? "abcXYZ019"[rnd() % 9] : alphabet[rnd() % (sizeof alphabet - 1)];
    if (rnd() % 16 == 0)
        s[rnd() % max] = (char)(rnd() % 256); /* a stray byte, perhaps in the padding */
}

/* Random values with every varint length from 1 to 10 bytes. */
static uint64_t any_width(void)
{
    int bits = (int)(rnd() % 65);
    return bits == 64 ? rnd() : rnd() & ((1ULL << bits) - 1);
}

static void test_roundtrip(void)
{
    rng_state = 11;
    rec_prev we = {0}, they = {0};
    uint8_t buf[REC_MAX + 16];
    int done = 0;
    for (int i = 0; i < 200000; i++) {
        bourse_cmd c;
        memset(&c, 0, sizeof c); /* padding too: compared with memcmp */
        c.user = (uint32_t)(rnd() % 3 ? any_width() % BOURSE_CASH : BOURSE_NONE);
        c.seq = we.seq + any_width();
        c.ts_ns = (int64_t)any_width();
        int shape = (int)(rnd() % 4);
        c.type = shape == 0   ? BOURSE_CMD_ORDER
                 : shape == 1 ? BOURSE_CMD_REPLACE
                 : shape == 2 ? BOURSE_CMD_CANCEL
                              : BOURSE_CMD_DEPOSIT;
        c.symbol = (uint32_t)(any_width() % BOURSE_CASH);
        c.side = (uint8_t)(rnd() & 1);
        c.tif = (uint8_t)(rnd() % 4);
        c.qty = 1 + (int64_t)(any_width() % BOURSE_QTY_MAX);
        c.price = 1 + (int64_t)(any_width() % BOURSE_PRICE_MAX);
        random_name(c.oid.s, BOURSE_NAME_LEN);
        random_name(c.new_oid.s, BOURSE_NAME_LEN);
        if (c.user == BOURSE_NONE)
            random_name(c.user_name.s, BOURSE_NAME_LEN);
        if (c.type == BOURSE_CMD_CANCEL)
            c.qty = c.price = 0, c.symbol = BOURSE_NONE, c.side = c.tif = 0, c.new_oid = (bourse_name){{0}};
        if (c.type == BOURSE_CMD_DEPOSIT)
            c.price = 0, c.side = c.tif = 0, c.oid = c.new_oid = (bourse_name){{0}};
        if (c.type == BOURSE_CMD_ORDER)
            c.new_oid = (bourse_name){{0}};
        if (c.type == BOURSE_CMD_REPLACE)
            c.symbol = BOURSE_NONE, c.side = c.tif = 0;
        if ((c.type == BOURSE_CMD_CANCEL || c.type == BOURSE_CMD_REPLACE) && rnd() % 2)
            c.order = (uint32_t)(1 + any_width() % UINT32_MAX); /* the handle hint travels too */
        int want_ok = (c.user != BOURSE_NONE || ref_valid(c.user_name.s, BOURSE_NAME_LEN, 0)) &&
                      (c.type == BOURSE_CMD_DEPOSIT || ref_valid(c.oid.s, BOURSE_NAME_LEN, 0)) &&
                      (c.type != BOURSE_CMD_REPLACE || ref_valid(c.new_oid.s, BOURSE_NAME_LEN, 0));
        const char *why = rec_check(&c);
        if ((why == NULL) != want_ok) {
            printf("FAIL check of '%.16s' '%.16s' '%.16s': %s\n", c.user_name.s, c.oid.s, c.new_oid.s,
                   why ? why : "passed");
            check_failures++;
            return;
        }
        if (why)
            continue;
        memset(buf, 0xff, sizeof buf);
        size_t n = rec_encode(buf, &c, &we);
        bourse_cmd d;
        int got = rec_decode(buf, n, &d, &they, &why); /* the end right after the record */
        if (got != (int)n || memcmp(&c, &d, sizeof c) != 0) {
            printf("FAIL record %d (type %d): decoded %d of %zu bytes: %s\n", i, c.type, got, n,
                   why ? why : "");
            check_failures++;
            return;
        }
        done++;
    }
    CHECK(done > 10000);
}

/* The name check alone, on many more names. */
static void test_names(void)
{
    rng_state = 12;
    int before = check_failures;
    for (int i = 0; i < 300000; i++) {
        bourse_cmd c = {.type = BOURSE_CMD_USER};
        random_name(c.user_name.s, BOURSE_NAME_LEN);
        CHECK_EQ(rec_check(&c) == NULL, ref_valid(c.user_name.s, BOURSE_NAME_LEN, 0));
        bourse_cmd s = {.type = BOURSE_CMD_SYMBOL};
        random_name(s.symbol_name.s, BOURSE_SYMBOL_LEN);
        int want =
            ref_valid(s.symbol_name.s, BOURSE_SYMBOL_LEN, 1) && memcmp(s.symbol_name.s, "CASH\0\0\0\0", 8);
        CHECK_EQ(rec_check(&s) == NULL, want);
        if (check_failures > before)
            return;
    }
}

/* A handle is written only for a cancel or replace that has one. */
static void test_handle_hint(void)
{
    bourse_cmd c;
    memset(&c, 0, sizeof c);
    c.type = BOURSE_CMD_CANCEL;
    c.seq = 1;
    memcpy(c.oid.s, "a1", 2);
    uint8_t with[REC_MAX], without[REC_MAX];
    rec_prev p1 = {0}, p2 = {0}, p3 = {0};
    size_t n0 = rec_encode(without, &c, &p1);
    c.order = 300;
    size_t n1 = rec_encode(with, &c, &p2);
    CHECK_EQ(n1, n0 + 2);
    CHECK_EQ(with[3], BOURSE_CMD_CANCEL | 0x10);
    bourse_cmd d;
    const char *why = NULL;
    CHECK_EQ(rec_decode(with, n1, &d, &p3, &why), (int)n1);
    CHECK_EQ(d.order, 300);
    c.type = BOURSE_CMD_ORDER; /* an order's bit 4 is its side: no handle */
    c.qty = c.price = 1;
    c.order = 7;
    rec_prev p4 = {0};
    size_t n2 = rec_encode(with, &c, &p4);
    rec_prev p5 = {0};
    CHECK_EQ(rec_decode(with, n2, &d, &p5, &why), (int)n2);
    CHECK_EQ(d.order, 0);
}

/* A FIX session's mark (bourse.h): its fields travel; a bad kind or number
 * is refused on append and on replay. */
static void test_fixsess(void)
{
    bourse_cmd c;
    memset(&c, 0, sizeof c);
    c.type = BOURSE_CMD_FIXSESS;
    c.seq = 9;
    c.user = 3;
    c.symbol = BOURSE_NONE;
    c.side = BOURSE_FIXSESS_RESET;
    c.qty = 1234567;
    c.price = (int64_t)1 << 61;
    CHECK(rec_check(&c) == NULL);
    uint8_t buf[REC_MAX];
    rec_prev p1 = {0}, p2 = {0};
    size_t n = rec_encode(buf, &c, &p1);
    CHECK_EQ(buf[3], 0x80 | BOURSE_CMD_FIXSESS);
    bourse_cmd d;
    const char *why = NULL;
    CHECK_EQ(rec_decode(buf, n, &d, &p2, &why), (int)n);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    bourse_cmd bad = c;
    bad.side = BOURSE_FIXSESS_COUNT_;
    CHECK(rec_check(&bad) != NULL);
    bad = c;
    bad.qty = 0;
    CHECK(rec_check(&bad) != NULL);
    bad = c;
    bad.qty = BOURSE_FIXSESS_SEQ_MAX + 1;
    CHECK(rec_check(&bad) != NULL);
    bad = c;
    bad.user = BOURSE_NONE; /* no name either */
    CHECK(rec_check(&bad) != NULL);
}

int main(void)
{
    RUN(test_roundtrip);
    RUN(test_fixsess);
    RUN(test_names);
    RUN(test_handle_hint);
    return CHECK_DONE();
}
