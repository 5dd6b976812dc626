/*
 * test_ouch.c - OUCH messages (src/net/ouch.c): round trips, field
 * checks, and random bytes that must never crash the parser.
 */
#include "check.h"
#include "net/ouch.h"

#include <string.h>

static bourse_cmd order(const char *oid, int side, const char *sym, int64_t qty, int64_t price, int tif)
{
    bourse_cmd c = {
        .type = BOURSE_CMD_ORDER, .side = (uint8_t)side, .tif = (uint8_t)tif, .qty = qty, .price = price};
    memcpy(c.oid.s, oid, strlen(oid));
    memcpy(c.symbol_name.s, sym, strlen(sym));
    return c;
}

static void enter_round_trip(void)
{
    bourse_cmd in = order("b1", BOURSE_BUY, "BRK.B", 40, 110000, BOURSE_IOC), out;
    uint8_t b[OUCH_MAX_LEN];
    CHECK_EQ(ouch_write_cmd(b, &in), OUCH_ENTER_LEN);
    CHECK_EQ(b[0], 'O');
    CHECK_EQ(b[17], 'B');
    CHECK_EQ(b[38], '3');
    const char *why;
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), 0);
    CHECK_EQ(out.type, BOURSE_CMD_ORDER);
    CHECK(!memcmp(out.oid.s, in.oid.s, BOURSE_NAME_LEN));
    CHECK(!memcmp(out.symbol_name.s, in.symbol_name.s, BOURSE_SYMBOL_LEN));
    CHECK_EQ(out.qty, 40);
    CHECK_EQ(out.price, 110000);
    CHECK_EQ(out.tif, BOURSE_IOC);
    CHECK_EQ(out.side, BOURSE_BUY);
}

static void replace_and_cancel_round_trip(void)
{
    bourse_cmd in = {.type = BOURSE_CMD_REPLACE, .qty = 6, .price = 100000}, out;
    memcpy(in.oid.s, "b2", 2);
    memcpy(in.new_oid.s, "abcdefghijklmnop", 16); /* 16 characters, no terminator */
    uint8_t b[OUCH_MAX_LEN];
    const char *why;
    CHECK_EQ(ouch_write_cmd(b, &in), OUCH_REPLACE_LEN);
    CHECK_EQ(ouch_parse(b, OUCH_REPLACE_LEN, &out, &why), 0);
    CHECK(!memcmp(out.new_oid.s, "abcdefghijklmnop", 16));
    CHECK_EQ(out.qty, 6);
    in.type = BOURSE_CMD_CANCEL;
    CHECK_EQ(ouch_write_cmd(b, &in), OUCH_CANCEL_LEN);
    CHECK_EQ(ouch_parse(b, OUCH_CANCEL_LEN, &out, &why), 0);
    CHECK_EQ(out.type, BOURSE_CMD_CANCEL);
}

static void bad_fields_are_rejects_not_errors(void)
{
    uint8_t b[OUCH_MAX_LEN];
    bourse_cmd out, in = order("x1", BOURSE_SELL, "AAPL", 0, 1, BOURSE_DAY);
    const char *why;
    ouch_write_cmd(b, &in);
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), OUCH_R_BAD_QTY);
    in = order("x1", BOURSE_SELL, "AAPL", 1, BOURSE_PRICE_MAX + 1, BOURSE_DAY);
    ouch_write_cmd(b, &in);
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), OUCH_R_BAD_PRICE);
    in = order("x 1", BOURSE_SELL, "AAPL", 1, 1, BOURSE_DAY);
    ouch_write_cmd(b, &in);
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), OUCH_R_BAD_TOKEN);
    in = order("x1", BOURSE_SELL, "CASH", 1, 1, BOURSE_DAY);
    ouch_write_cmd(b, &in);
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), OUCH_R_BAD_SYMBOL);
    in = order("x1", BOURSE_SELL, "aapl", 1, 1, BOURSE_DAY);
    ouch_write_cmd(b, &in);
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), OUCH_R_BAD_SYMBOL);
    in = order("x1", BOURSE_SELL, "AAPL", 1, 1, BOURSE_DAY);
    ouch_write_cmd(b, &in);
    b[17] = 'Q';
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), OUCH_R_BAD_FIELD);
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN - 1, &out, &why), -1);
    b[0] = 'Z';
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), -1);
    CHECK_EQ(ouch_parse(b, 0, &out, &why), -1);
}

/* replay-v2.md, rule 15: price 0 is a market order, with ioc or fok only;
 * never in a Replace. */
static void market_orders(void)
{
    uint8_t b[OUCH_MAX_LEN];
    bourse_cmd out, in = order("m1", BOURSE_BUY, "AAPL", 10, BOURSE_MARKET, BOURSE_IOC);
    const char *why;
    ouch_write_cmd(b, &in);
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), 0);
    CHECK_EQ(out.price, BOURSE_MARKET);
    CHECK_EQ(out.tif, BOURSE_IOC);
    in.tif = BOURSE_FOK;
    ouch_write_cmd(b, &in);
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), 0);
    CHECK_EQ(out.tif, BOURSE_FOK);
    in.tif = BOURSE_DAY;
    ouch_write_cmd(b, &in);
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), OUCH_R_BAD_PRICE);
    in.tif = BOURSE_GTC;
    ouch_write_cmd(b, &in);
    CHECK_EQ(ouch_parse(b, OUCH_ENTER_LEN, &out, &why), OUCH_R_BAD_PRICE);
    bourse_cmd rep = {.type = BOURSE_CMD_REPLACE, .qty = 6, .price = BOURSE_MARKET};
    memcpy(rep.oid.s, "m1", 2);
    memcpy(rep.new_oid.s, "m2", 2);
    ouch_write_cmd(b, &rep);
    CHECK_EQ(ouch_parse(b, OUCH_REPLACE_LEN, &out, &why), OUCH_R_BAD_PRICE);
    /* the venue rules' rejects have codes of their own */
    CHECK_EQ(ouch_reason_code(BOURSE_R_HALTED), 'h');
    CHECK_EQ(ouch_reason_code(BOURSE_R_PRICE_BAND), 'p');
    CHECK_EQ(ouch_reason_of('k'), BOURSE_R_KILL);
}

static void reports_round_trip(void)
{
    ouch_report r = {.type = OUCH_EXECUTED,
                     .ts_ns = 123456789,
                     .qty = 30,
                     .price = 105000,
                     .liquidity = 'R',
                     .ref = 77,
                     .side = BOURSE_SELL},
                back;
    memcpy(r.token.s, "s1", 2);
    memcpy(r.stock.s, "AAPL", 4);
    uint8_t b[OUCH_MAX_LEN];
    CHECK_EQ(ouch_write(b, &r), OUCH_EXECUTED_LEN);
    CHECK_EQ(ouch_read(b, OUCH_EXECUTED_LEN, &back), 0);
    CHECK(!memcmp(&r, &back, sizeof r));
    ouch_report types[] = {{.type = OUCH_ACCEPTED, .qty = 5, .price = 1, .tif = BOURSE_GTC, .ref = 9},
                           {.type = OUCH_REPLACED, .qty = 5, .price = 1, .ref = 9},
                           {.type = OUCH_CANCELED, .qty = 5, .reason = BOURSE_R_SELF_TRADE},
                           {.type = OUCH_REJECTED, .reason = OUCH_R_RATE_LIMIT},
                           {.type = OUCH_SYSTEM, .event = OUCH_END_OF_DAY}};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        size_t n = ouch_write(b, &types[i]);
        CHECK(n > 0);
        CHECK_EQ(ouch_read(b, n, &back), 0);
        CHECK(!memcmp(&types[i], &back, sizeof back));
    }
}

static void every_reason_has_its_own_code(void)
{
    for (int a = 1; a < BOURSE_R_COUNT_; a++)
        CHECK_EQ(ouch_reason_of(ouch_reason_code(a)), a);
    for (int a = OUCH_R_RATE_LIMIT; a <= OUCH_R_BAD_FIELD; a++) {
        CHECK_EQ(ouch_reason_of(ouch_reason_code(a)), a);
        CHECK(strlen(ouch_reason_name(a)) > 0);
    }
}

static void random_bytes_never_crash(void)
{
    uint64_t x = 88172645463325252ULL;
    uint8_t b[OUCH_MAX_LEN + 8];
    bourse_cmd out;
    ouch_report r;
    const char *why;
    int ok = 0;
    for (int i = 0; i < 200000; i++) {
        for (size_t k = 0; k < sizeof b; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b[k] = (uint8_t)x;
        }
        b[0] = "OUXSACEJZ"[x % 9];
        size_t len = (size_t)(x >> 8) % sizeof b;
        ok += ouch_parse(b, len, &out, &why) == 0;
        ok += ouch_read(b, len, &r) == 0;
    }
    CHECK(ok >= 0);
}

/* The Account Query's answers (src/net/ouch_account.c): each round trips,
 * at its documented length, and a wrong length or type is malformed. */
static void account_answers_round_trip(void)
{
    uint8_t b[OUCH_MAX_LEN];
    ouch_report in = {.type = OUCH_BALANCE, .ts_ns = 7, .qty = -5, .price = 9000000}, out;
    memcpy(in.stock.s, "CASH", 4);
    CHECK_EQ(ouch_account_write(b, &in), OUCH_BALANCE_LEN);
    CHECK_EQ(ouch_account_read(b, OUCH_BALANCE_LEN, &out), 0);
    CHECK(out.type == OUCH_BALANCE && out.ts_ns == 7 && out.qty == -5 && out.price == 9000000);
    CHECK(!strcmp(out.stock.s, "CASH"));
    CHECK_EQ(ouch_account_read(b, OUCH_BALANCE_LEN - 1, &out), -1);

    in = (ouch_report){.type = OUCH_OPEN_ORDER, .side = BOURSE_SELL, .qty = 6, .price = 1500000};
    memcpy(in.token.s, "a1", 2);
    memcpy(in.stock.s, "BRK.B", 5);
    CHECK_EQ(ouch_account_write(b, &in), OUCH_OPEN_ORDER_LEN);
    CHECK_EQ(ouch_account_read(b, OUCH_OPEN_ORDER_LEN, &out), 0);
    CHECK(out.side == BOURSE_SELL && out.qty == 6 && out.price == 1500000);
    CHECK(!strcmp(out.token.s, "a1") && !strcmp(out.stock.s, "BRK.B"));

    in = (ouch_report){.type = OUCH_ACCOUNT_END, .event = OUCH_BUSY, .ref = 3};
    CHECK_EQ(ouch_account_write(b, &in), OUCH_ACCOUNT_END_LEN);
    CHECK_EQ(ouch_account_read(b, OUCH_ACCOUNT_END_LEN, &out), 0);
    CHECK(out.event == OUCH_BUSY && out.ref == 3);

    b[0] = OUCH_ACCEPTED; /* a report is no answer */
    CHECK_EQ(ouch_account_read(b, OUCH_ACCOUNT_END_LEN, &out), -1);
    in.type = OUCH_ACCEPTED;
    CHECK_EQ(ouch_account_write(b, &in), 0);
    /* the query itself is not an order: ouch_parse refuses it, the gateway
     * looks for it only then (proto_soup.c) */
    const char *why;
    bourse_cmd c;
    uint8_t q = OUCH_ACCOUNT_QUERY;
    CHECK_EQ(ouch_parse(&q, OUCH_ACCOUNT_QUERY_LEN, &c, &why), -1);
}

int main(void)
{
    RUN(enter_round_trip);
    RUN(replace_and_cancel_round_trip);
    RUN(bad_fields_are_rejects_not_errors);
    RUN(market_orders);
    RUN(reports_round_trip);
    RUN(every_reason_has_its_own_code);
    RUN(random_bytes_never_crash);
    RUN(account_answers_round_trip);
    return CHECK_DONE();
}
