/*
 * test_text.c - the replay codec (src/core/text.c): every command form,
 * every class of malformed word, the shortest-decimal printer, event lines,
 * and the round trip text -> command -> text on fixed and random lines.
 */
#include "check.h"
#include "lines.h"

#include <stdint.h>

static int parse(const char *line, bourse_cmd *c, char *err)
{
    return bourse_text_parse(line, strlen(line), c, err, 200);
}

/* parse(line) printed back by bourse_text_cmd, without the newline. */
static const char *normal(const char *line)
{
    static char buf[BOURSE_TEXT_LINE_MAX + 64];
    bourse_cmd c;
    char err[200];
    int rc = parse(line, &c, err);
    if (rc != BOURSE_TEXT_CMD) {
        snprintf(buf, sizeof buf, "%s: %s", rc == BOURSE_TEXT_SKIP ? "SKIP" : "BAD", err);
        return buf;
    }
    size_t n = bourse_text_cmd(&c, buf);
    CHECK(n > 0 && buf[n - 1] == '\n');
    buf[n - 1] = 0;
    return buf;
}

static void test_every_command(void)
{
    static const char *const same[] = {"symbol BRK.B",
                                       "symbol A",
                                       "symbol 12345678",
                                       "user A_b-9",
                                       "user abcdefghijklmnop",
                                       "deposit u CASH 10.5",
                                       "deposit u ACME 7",
                                       "deposit u CASH 900000000000000",
                                       "withdraw u CASH 0.0001",
                                       "withdraw u ACME 900000000000000",
                                       "limit u 0",
                                       "limit u 900000000000000",
                                       "open",
                                       "close",
                                       "buy u o1 ACME 1 0.0001",
                                       "buy u o1 ACME 100000000 1000000 gtc",
                                       "sell u o-1_X ACME 5 10.5 ioc",
                                       "sell u o1 ACME 5 10.5 fok",
                                       "cancel u o1",
                                       "replace u o1 o2 3 4.25",
                                       "book ACME",
                                       "balance u",
                                       NULL};
    for (const char *const *l = same; *l; l++)
        CHECK_STR(normal(*l), *l);
    static const char *const pairs[][2] = {
        {"buy u o1 ACME 5 10.50 day", "buy u o1 ACME 5 10.5"},
        {"  sell\tu  o1\tACME 05 010.5000  gtc  ", "sell u o1 ACME 5 10.5 gtc"},
        {"deposit u CASH 10.0", "deposit u CASH 10"},
        {"deposit u CASH 0010.1000", "deposit u CASH 10.1"},
        {"limit u 007", "limit u 7"},
        {"open\r", "open"},
        {"book ACME\r", "book ACME"},
        {"replace u a b 000001 1.0000", "replace u a b 1 1"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        CHECK_STR(normal(pairs[i][0]), pairs[i][1]);

    /* The fields themselves. */
    bourse_cmd c;
    char err[200];
    CHECK_EQ(parse("sell bob s-1 BRK.B 30 10.5 ioc", &c, err), BOURSE_TEXT_CMD);
    CHECK_EQ(c.type, BOURSE_CMD_ORDER);
    CHECK_EQ(c.side, BOURSE_SELL);
    CHECK_EQ(c.tif, BOURSE_IOC);
    CHECK_EQ(c.qty, 30);
    CHECK_EQ(c.price, 105000);
    CHECK_STR(c.user_name.s, "bob");
    CHECK_STR(c.oid.s, "s-1");
    CHECK(memcmp(c.symbol_name.s, "BRK.B\0\0\0", 8) == 0);
    CHECK_EQ(c.user, BOURSE_NONE); /* not resolved yet */
    CHECK_EQ(parse("buy bob b ACME 1 1", &c, err), BOURSE_TEXT_CMD);
    CHECK_EQ(c.tif, BOURSE_DAY);
    CHECK_EQ(c.side, BOURSE_BUY);
    CHECK_EQ(parse("replace u a b 7 2.5", &c, err), BOURSE_TEXT_CMD);
    CHECK_EQ(c.type, BOURSE_CMD_REPLACE);
    CHECK_STR(c.oid.s, "a");
    CHECK_STR(c.new_oid.s, "b");
    CHECK_EQ(c.qty, 7);
    CHECK_EQ(c.price, 25000);
    CHECK_EQ(parse("deposit u CASH 0.0001", &c, err), BOURSE_TEXT_CMD);
    CHECK_EQ(c.qty, 1);
    CHECK_EQ(parse("deposit u ACME 3", &c, err), BOURSE_TEXT_CMD);
    CHECK_EQ(c.qty, 3); /* shares, not 1/10,000 units */
    CHECK_EQ(parse("limit u 12", &c, err), BOURSE_TEXT_CMD);
    CHECK_EQ(c.qty, 12);
    /* A 16-character name fills the field with no terminator. */
    CHECK_EQ(parse("user abcdefghijklmnop", &c, err), BOURSE_TEXT_CMD);
    CHECK(memcmp(c.user_name.s, "abcdefghijklmnop", 16) == 0);
}

static void test_skipped_lines(void)
{
    static const char *const skip[] = {"", " ", "\t \t", "\r", "#", "# buy a b C 1 1", "   #x", "\t#", NULL};
    bourse_cmd c;
    char err[200];
    for (const char *const *l = skip; *l; l++)
        CHECK_EQ(parse(*l, &c, err), BOURSE_TEXT_SKIP);
    /* '#' starts a comment only as the first word. */
    CHECK_EQ(parse("open #", &c, err), BOURSE_TEXT_BAD);
    CHECK_EQ(parse("user #a", &c, err), BOURSE_TEXT_BAD);
}

/* Each bad line must fail, and the message must quote the bad word. */
static void test_malformed_words(void)
{
    static const char *const bad[][2] = {
        /* numbers: sign, exponent, 5 decimals, empty parts, separators, range */
        {"buy u o ACME +5 1", "'+5'"},
        {"buy u o ACME -5 1", "'-5'"},
        {"buy u o ACME 1e3 1", "'1e3'"},
        {"buy u o ACME 1.0 1", "'1.0'"},
        {"buy u o ACME 0 1", "'0'"},
        {"buy u o ACME 100000001 1", "'100000001'"},
        {"buy u o ACME 99999999999999999999999 1", "'99999999999999999999999'"},
        {"buy u o ACME 1 +1", "'+1'"},
        {"buy u o ACME 1 -1", "'-1'"},
        {"buy u o ACME 1 1e2", "'1e2'"},
        {"buy u o ACME 1 1E2", "'1E2'"},
        {"buy u o ACME 1 1.00001", "'1.00001'"},
        {"buy u o ACME 1 0", "'0'"},
        {"buy u o ACME 1 0.0000", "'0.0000'"},
        {"buy u o ACME 1 0.00001", "'0.00001'"},
        {"buy u o ACME 1 .5", "'.5'"},
        {"buy u o ACME 1 5.", "'5.'"},
        {"buy u o ACME 1 .", "'.'"},
        {"buy u o ACME 1 1,5", "'1,5'"},
        {"buy u o ACME 1 1..2", "'1..2'"},
        {"buy u o ACME 1 1.2.3", "'1.2.3'"},
        {"buy u o ACME 1 0x10", "'0x10'"},
        {"buy u o ACME 1 1000000.0001", "'1000000.0001'"},
        {"buy u o ACME 1 1000001", "'1000001'"},
        {"buy u o ACME 1 99999999999999999999.9", "'99999999999999999999.9'"},
        {"buy u o ACME 1 nan", "'nan'"},
        {"buy u o ACME 1 inf", "'inf'"},
        {"replace u a b 0 1", "'0'"},
        {"replace u a b 1 0", "'0'"},
        {"deposit u CASH 0", "'0'"},
        {"deposit u CASH 0.00001", "'0.00001'"},
        {"deposit u CASH -1", "'-1'"},
        {"deposit u CASH 900000000000000.0001", "'900000000000000.0001'"},
        {"deposit u ACME 1.5", "'1.5'"},
        {"deposit u ACME 0", "'0'"},
        {"deposit u ACME 900000000000001", "'900000000000001'"},
        {"withdraw u ACME 1.0", "'1.0'"},
        {"withdraw u CASH 1e1", "'1e1'"},
        {"limit u -1", "'-1'"},
        {"limit u 1.5", "'1.5'"},
        {"limit u 900000000000001", "'900000000000001'"},
        {"limit u +0", "'+0'"},
        /* names: too long, bad characters, CASH as a symbol */
        {"user abcdefghijklmnopq", "'abcdefghijklmnopq'"},
        {"user al!ce", "'al!ce'"},
        {"user al.ce", "'al.ce'"},
        {"user \xc3\xa9t\xc3\xa9", "'\\xc3\\xa9t\\xc3\\xa9'"},
        {"user a\x01", "'a\\x01'"},
        {"balance a/b", "'a/b'"},
        {"buy u o123456789abcdefg ACME 1 1", "'o123456789abcdefg'"},
        {"cancel u o:1", "'o:1'"},
        {"replace u a b+ 1 1", "'b+'"},
        {"symbol ABCDEFGHI", "'ABCDEFGHI'"},
        {"symbol acme", "'acme'"},
        {"symbol AC-ME", "'AC-ME'"},
        {"symbol AC_ME", "'AC_ME'"},
        {"book Acme", "'Acme'"},
        {"symbol CASH", "'CASH'"},
        {"book CASH", "'CASH'"},
        {"buy u o CASH 1 1", "'CASH'"},
        {"sell u o CASH 1 1", "'CASH'"},
        {"deposit u cash 1", "'cash'"},
        {"deposit u-1! CASH 1", "'u-1!'"},
        /* time in force */
        {"buy u o ACME 1 1 DAY", "'DAY'"},
        {"buy u o ACME 1 1 Gtc", "'Gtc'"},
        {"buy u o ACME 1 1 gtd", "'gtd'"},
        {"sell u o ACME 1 1 fok2", "'fok2'"},
        /* unknown words */
        {"Buy u o ACME 1 1", "'Buy'"},
        {"BUY u o ACME 1 1", "'BUY'"},
        {"order u o ACME 1 1", "'order'"},
        {"hello", "'hello'"},
        {"opened", "'opened'"},
    };
    bourse_cmd c;
    char err[200];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        int rc = parse(bad[i][0], &c, err);
        if (rc != BOURSE_TEXT_BAD || !strstr(err, bad[i][1]) || strchr(err, '\n')) {
            printf("FAIL test_malformed_words: '%s' gave %d '%s', want a message quoting %s\n", bad[i][0], rc,
                   err, bad[i][1]);
            check_failures++;
        }
    }
    /* Wrong word counts name the command. */
    static const char *const counts[] = {"buy u o ACME 1",
                                         "buy u o ACME 1 1 day x",
                                         "sell u",
                                         "cancel u",
                                         "cancel u a b",
                                         "replace u a b 1",
                                         "replace u a b 1 1 x",
                                         "open now",
                                         "close x",
                                         "symbol",
                                         "symbol A B",
                                         "user",
                                         "balance a b",
                                         "book",
                                         "limit u",
                                         "limit u 1 2",
                                         "deposit u CASH",
                                         "withdraw u CASH 1 2",
                                         "a b c d e f g h i",
                                         "buy u o ACME 1 1 day x y z",
                                         NULL};
    for (const char *const *l = counts; *l; l++) {
        err[0] = 0;
        CHECK_EQ(parse(*l, &c, err), BOURSE_TEXT_BAD);
        CHECK(err[0] != 0 && !strchr(err, '\n'));
    }
    /* A long line does not overflow the message. */
    char longline[4096];
    memset(longline, 'x', sizeof longline - 1);
    longline[sizeof longline - 1] = 0;
    memcpy(longline, "user ", 5);
    CHECK_EQ(parse(longline, &c, err), BOURSE_TEXT_BAD);
    CHECK(strlen(err) < 200);
}

static void test_word_parsers(void)
{
    int64_t v = -1;
    CHECK_EQ(bourse_text_price("0.0001", 6, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(bourse_text_price("1000000", 7, &v), 0);
    CHECK_EQ(v, BOURSE_PRICE_MAX);
    CHECK_EQ(bourse_text_price("1000000.0001", 12, &v), -1);
    CHECK_EQ(bourse_text_price("12.5", 2, &v), 0); /* length counts, not NUL */
    CHECK_EQ(v, 120000);
    CHECK_EQ(bourse_text_price("", 0, &v), -1);
    CHECK_EQ(bourse_text_whole("0", 1, 10, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(bourse_text_whole("10", 2, 10, &v), 0);
    CHECK_EQ(bourse_text_whole("11", 2, 10, &v), -1);
    CHECK_EQ(bourse_text_whole("", 0, 10, &v), -1);
    CHECK_EQ(bourse_text_whole("9223372036854775807", 19, INT64_MAX, &v), 0);
    CHECK_EQ(v, INT64_MAX);
    CHECK_EQ(bourse_text_whole("9223372036854775808", 19, INT64_MAX - 1, &v), -1); /* saturates */
}

/* Reference: printf, then strip zeros. */
static void ref_decimal(int64_t v, char *buf)
{
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    int n = sprintf(buf, "%s%llu.%04llu", v < 0 ? "-" : "", (unsigned long long)(u / 10000),
                    (unsigned long long)(u % 10000));
    while (buf[n - 1] == '0')
        buf[--n] = 0;
    if (buf[n - 1] == '.')
        buf[--n] = 0;
}

static void test_decimal_printing(void)
{
    static const struct {
        int64_t v;
        const char *s;
    } fixed[] = {{0, "0"},
                 {1, "0.0001"},
                 {10, "0.001"},
                 {1000, "0.1"},
                 {10000, "1"},
                 {105000, "10.5"},
                 {100000, "10"},
                 {1234567, "123.4567"},
                 {1230500, "123.05"},
                 {10001, "1.0001"},
                 {BOURSE_PRICE_MAX, "1000000"},
                 {BOURSE_CASH_MAX, "900000000000000"},
                 {BOURSE_CASH_MAX - 1, "899999999999999.9999"},
                 {-105000, "-10.5"},
                 {-1, "-0.0001"},
                 {INT64_MAX, "922337203685477.5807"},
                 {INT64_MIN, "-922337203685477.5808"}};
    char buf[64], ref[64];
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        size_t n = bourse_text_decimal(fixed[i].v, buf);
        CHECK_STR(buf, fixed[i].s);
        CHECK_EQ(n, strlen(fixed[i].s));
    }
    int bad = 0;
    for (int64_t v = -20000; v <= 200000 && bad < 5; v++) {
        bourse_text_decimal(v, buf);
        ref_decimal(v, ref);
        if (strcmp(buf, ref) != 0 && ++bad)
            printf("FAIL test_decimal_printing: %lld gives '%s', want '%s'\n", (long long)v, buf, ref);
    }
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 200000 && bad < 5; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t v = (int64_t)(x >> (x & 63));
        bourse_text_decimal(v, buf);
        ref_decimal(v, ref);
        if (strcmp(buf, ref) != 0 && ++bad)
            printf("FAIL test_decimal_printing: %lld gives '%s', want '%s'\n", (long long)v, buf, ref);
        /* and every price reads back as itself */
        int64_t p = 1 + (int64_t)(x % (uint64_t)BOURSE_PRICE_MAX), back = 0;
        size_t n = bourse_text_decimal(p, buf);
        if ((bourse_text_price(buf, n, &back) != 0 || back != p) && ++bad)
            printf("FAIL test_decimal_printing: price %lld prints '%s', reads %lld\n", (long long)p, buf,
                   (long long)back);
    }
    check_failures += bad;
}

static void test_event_lines(void)
{
    bourse_engine *e = bourse_engine_new(NULL);
    static const char *const setup[] = {"symbol SYMBOL12",
                                        "user abcdefghijklmnop",
                                        "user b",
                                        "deposit abcdefghijklmnop CASH 900000000000000",
                                        "deposit b SYMBOL12 100000000",
                                        NULL};
    apply_ok(e, setup);
    CHECK_LINE(e, "sell b ZYXWVUTSRQPONMLK SYMBOL12 100000000 999999.9999", "ACCEPTED b ZYXWVUTSRQPONMLK\n");
    CHECK_LINE(e, "buy abcdefghijklmnop ABCDEFGHIJKLMNOP SYMBOL12 99999999 1000000",
               "ACCEPTED abcdefghijklmnop ABCDEFGHIJKLMNOP\n"
               "TRADE SYMBOL12 99999999 999999.9999 abcdefghijklmnop ABCDEFGHIJKLMNOP b ZYXWVUTSRQPONMLK\n");
    CHECK_LINE(e, "book SYMBOL12", "LEVEL SYMBOL12 ASK 999999.9999 1 1\n");
    CHECK_LINE(e, "balance abcdefghijklmnop",
               "BALANCE abcdefghijklmnop CASH 800000001009999.9999 0\n"
               "BALANCE abcdefghijklmnop SYMBOL12 99999999 0\n");
    /* Unknown users are named from the command. */
    CHECK_LINE(e, "buy nobody n1 SYMBOL12 1 1", "REJECTED nobody n1 UNKNOWN_USER\n");
    CHECK_LINE(e, "replace nobody n1 n2 1 1", "REJECTED nobody n2 UNKNOWN_USER\n");
    CHECK_LINE(e, "cancel nobody n1", "REJECTED nobody n1 UNKNOWN_USER\n");
    CHECK_LINE(e, "replace b ZYXWVUTSRQPONMLK Z2 1 1", "REPLACED b ZYXWVUTSRQPONMLK Z2\n");
    CHECK_LINE(e, "close", "OK\nCANCELED b Z2 1 SESSION_END\n");
    bourse_engine_free(e);

    /* The longest lines fit in BOURSE_TEXT_LINE_MAX. */
    e = bourse_engine_new(NULL);
    apply_ok(
        e, (const char *const[]){"symbol SYMBOL12", "user abcdefghijklmnop", "user ponmlkjihgfedcba", NULL});
    bourse_cmd c = {.type = BOURSE_CMD_BALANCE};
    memcpy(c.user_name.s, "abcdefghijklmnop", 16);
    bourse_event evs[] = {
        {.type = BOURSE_EV_TRADE,
         .symbol = 0,
         .qty = BOURSE_QTY_MAX,
         .price = BOURSE_PRICE_MAX - 1,
         .user = 0,
         .user2 = 1},
        {.type = BOURSE_EV_BALANCE, .user = 0, .symbol = BOURSE_CASH, .qty = INT64_MIN, .count = INT64_MIN},
        /* (whole numbers are never negative; -INT64_MAX is as long as INT64_MIN) */
        {.type = BOURSE_EV_BALANCE, .user = 0, .symbol = 0, .qty = -INT64_MAX, .count = -INT64_MAX},
        {.type = BOURSE_EV_LEVEL,
         .symbol = 0,
         .price = BOURSE_PRICE_MAX - 1,
         .qty = INT64_MAX,
         .count = INT64_MAX},
        {.type = BOURSE_EV_CANCELED, .user = 0, .qty = -INT64_MAX, .reason = BOURSE_R_SESSION_END},
        {.type = BOURSE_EV_REPLACED, .user = 0},
        {.type = BOURSE_EV_REJECTED, .user = BOURSE_NONE, .reason = BOURSE_R_INSUFFICIENT_SHARES},
    };
    char buf[BOURSE_TEXT_LINE_MAX + 64];
    for (size_t i = 0; i < sizeof evs / sizeof *evs; i++) {
        memset(evs[i].oid.s, 'O', 16);
        memset(evs[i].oid2.s, 'P', 16);
        memset(buf, 0, sizeof buf);
        size_t n = bourse_text_event(e, &c, &evs[i], buf);
        CHECK(n <= BOURSE_TEXT_LINE_MAX && n == strlen(buf) && buf[n - 1] == '\n');
    }
    bourse_engine_free(e);
}

/* Random valid lines, with random spacing and padding, read back to their
 * normal form; and the normal form is a fixed point. */
static uint64_t rs = 0x853c49e6748fea9bULL;
static uint64_t rnd(void)
{
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return rs;
}

static void rand_name(char *out, const char *set, int max)
{
    int n = 1 + (int)(rnd() % (uint64_t)max);
    for (int i = 0; i < n; i++)
        out[i] = set[rnd() % strlen(set)];
    out[n] = 0;
}

static void rand_num(char *norm, char *loose, int64_t v, int decimals)
{
    if (decimals)
        bourse_text_decimal(v, norm);
    else
        sprintf(norm, "%lld", (long long)v);
    /* loose: leading zeros, trailing fractional zeros */
    int lead = rnd() % 4 == 0 ? (int)(rnd() % 3) + 1 : 0;
    sprintf(loose, "%.*s%s", lead, "000", norm);
    if (decimals && rnd() % 3 == 0) {
        char *dot = strchr(loose, '.');
        if (!dot)
            strcat(loose, ".");
        for (size_t have = dot ? strlen(dot + 1) : 0; have < 4; have++)
            strcat(loose, "0");
    }
}

static void test_round_trip_random(void)
{
    static const char *const ucs = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    static const char *const scs = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.";
    static const char *const tifs[] = {"day", "gtc", "ioc", "fok"};
    int bad = 0;
    for (int i = 0; i < 20000 && bad < 5; i++) {
        char u[20], o[20], o2[20], s[12], qn[40], ql[40], pn[40], pl[40], norm[256], loose[256];
        rand_name(u, ucs, 16), rand_name(o, ucs, 16), rand_name(o2, ucs, 16), rand_name(s, scs, 8);
        if (!strcmp(s, "CASH"))
            strcpy(s, "CASH.");
        int64_t q = 1 + (int64_t)(rnd() % BOURSE_QTY_MAX), p = 1 + (int64_t)(rnd() % BOURSE_PRICE_MAX);
        if (rnd() % 2)
            p = (p / 10000 + 1) * 10000 / (int64_t)(1 + rnd() % 3); /* rounder prices too */
        rand_num(qn, ql, q, 0);
        rand_num(pn, pl, p, 1);
        int t = (int)(rnd() % 4), k = (int)(rnd() % 8);
        const char *tif = tifs[t];
        switch (k) {
        case 0: {
            const char *side = rnd() % 2 ? "buy" : "sell";
            int say = t || rnd() % 2; /* "day" may be written out */
            sprintf(norm, "%s %s %s %s %s %s%s%s", side, u, o, s, qn, pn, t ? " " : "", t ? tif : "");
            sprintf(loose, "%s  %s %s\t%s %s %s%s%s", side, u, o, s, ql, pl, say ? " " : "", say ? tif : "");
            break;
        }
        case 1:
            sprintf(norm, "replace %s %s %s %s %s", u, o, o2, qn, pn);
            sprintf(loose, "replace\t%s %s  %s %s %s ", u, o, o2, ql, pl);
            break;
        case 2:
            sprintf(norm, "deposit %s CASH %s", u, pn);
            sprintf(loose, " deposit %s CASH %s", u, pl);
            break;
        case 3:
            sprintf(norm, "withdraw %s %s %s", u, s, qn);
            sprintf(loose, "withdraw %s %s %s\r", u, s, ql);
            break;
        case 4: sprintf(norm, "cancel %s %s", u, o), sprintf(loose, "cancel %s\t\t%s", u, o); break;
        case 5: sprintf(norm, "limit %s %s", u, qn), sprintf(loose, "limit %s %s", u, ql); break;
        case 6: sprintf(norm, "symbol %s", s), sprintf(loose, "\tsymbol %s", s); break;
        default: sprintf(norm, "balance %s", u), sprintf(loose, "balance %s ", u); break;
        }
        const char *got = normal(loose);
        if (strcmp(got, norm) != 0 && ++bad)
            printf("FAIL test_round_trip_random: '%s' reads back as '%s', want '%s'\n", loose, got, norm);
        got = normal(norm);
        if (strcmp(got, norm) != 0 && ++bad)
            printf("FAIL test_round_trip_random: '%s' reads back as '%s'\n", norm, got);
    }
    check_failures += bad;
}

/* Hostile input: lines spliced from command words, numbers, names and
 * random bytes.  Whatever comes in, the parser answers one of its three
 * values with a one-line message, and anything it accepts prints back as a
 * line that parses to the very same command. */
static void test_parse_garbage(void)
{
    static const char *const parts[] = {"buy",
                                        "sell",
                                        "cancel",
                                        "replace",
                                        "deposit",
                                        "withdraw",
                                        "limit",
                                        "open",
                                        "close",
                                        "symbol",
                                        "user",
                                        "book",
                                        "balance",
                                        "CASH",
                                        "ACME",
                                        "BRK.B",
                                        "alice",
                                        "o1",
                                        "day",
                                        "gtc",
                                        "ioc",
                                        "fok",
                                        "1",
                                        "0",
                                        "10.5",
                                        "0.0001",
                                        "1000000",
                                        "100000000",
                                        "900000000000000",
                                        "1e3",
                                        "-1",
                                        ".",
                                        "#",
                                        " ",
                                        "  ",
                                        "\t",
                                        "\r",
                                        "x"};
    int bad = 0, counts[3] = {0};
    char line[256], err[64], out[BOURSE_TEXT_LINE_MAX + 8];
    for (int i = 0; i < 100000 && bad < 5; i++) {
        size_t n = 0;
        int words = (int)(rnd() % 9);
        for (int w = 0; w < words && n < 200; w++) {
            if (w)
                line[n++] = rnd() % 8 ? ' ' : '\t';
            if (rnd() % 10 == 0) { /* random bytes, NUL included */
                for (int k = (int)(rnd() % 6); k >= 0 && n < 250; k--)
                    line[n++] = (char)(rnd() & 0xff);
            } else {
                const char *p = parts[rnd() % (sizeof parts / sizeof *parts)];
                size_t pl = strlen(p);
                memcpy(line + n, p, pl);
                n += pl;
            }
        }
        bourse_cmd c, again;
        memset(err, 'Z', sizeof err);
        int rc = bourse_text_parse(line, n, &c, err, sizeof err);
        counts[rc + 1]++; /* BAD, SKIP, CMD */
        if (rc == BOURSE_TEXT_BAD && (!memchr(err, 0, sizeof err) || strchr(err, '\n') || !err[0]) && ++bad)
            printf("FAIL test_parse_garbage: bad message for '%.*s'\n", (int)n, line);
        if (rc != BOURSE_TEXT_CMD) {
            if (rc != BOURSE_TEXT_BAD && rc != BOURSE_TEXT_SKIP && ++bad)
                printf("FAIL test_parse_garbage: parse returned %d\n", rc);
            continue;
        }
        size_t m = bourse_text_cmd(&c, out);
        if ((m > BOURSE_TEXT_LINE_MAX ||
             bourse_text_parse(out, m - 1, &again, err, sizeof err) != BOURSE_TEXT_CMD ||
             memcmp(&c, &again, sizeof c) != 0) &&
            ++bad)
            printf("FAIL test_parse_garbage: '%.*s' prints back as '%.*s'\n", (int)n, line, (int)m, out);
    }
    printf("# garbage lines: %d bad, %d skipped, %d commands\n", counts[0], counts[1], counts[2]);
    check_failures += bad;
}

/* Replay format version 2: every new word parses and prints back the same
 * (settings in key order, values in shortest form), and each malformed
 * setting names the word at fault. */
static void test_v2_commands(void)
{
    static const char *const same[] = {
        "rules ACME tick=0.05",
        "rules ACME tick=0.0001 lot=100000000 maxqty=0 maxnotional=900000000000000 "
        "band=1000 ref=1000000",
        "rules ACME lot=1 maxqty=100000000 maxnotional=0.0001 band=0 ref=0.0001",
        "rules ACME band=2.5",
        "rules ACME band=0.01",
        "fees ACME maker=0 taker=1000",
        "fees ACME taker=20",
        "halt BRK.B",
        "resume BRK.B",
        "block u",
        "unblock u",
        "cancelall u",
        "cancelall u ACME",
        "haltall",
        "resumeall",
        "buy u m1 ACME 10 market",
        "sell u m1 ACME 10 market fok",
        "fixsess u logon 1 0",
        "fixsess u reset 2 4611686018427387905",
        "fixsess u msg 1099511627776 7",
        "fixsess u in 5 0",
        NULL};
    for (const char *const *l = same; *l; l++)
        CHECK_STR(normal(*l), *l);
    static const char *const pairs[][2] = {
        {"rules ACME ref=10 tick=0.05", "rules ACME tick=0.05 ref=10"},
        {"rules ACME band=10.00 maxnotional=3000.5000", "rules ACME maxnotional=3000.5 band=10"},
        {"fees ACME taker=5 maker=1", "fees ACME maker=1 taker=5"},
        {"buy u m1 ACME 10 market ioc", "buy u m1 ACME 10 market"},
        {"rules\tACME   lot=5", "rules ACME lot=5"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        CHECK_STR(normal(pairs[i][0]), pairs[i][1]);
    bourse_cmd c;
    char err[200];
    CHECK_EQ(parse("rules ACME band=2.5 ref=10.01", &c, err), BOURSE_TEXT_CMD);
    CHECK_EQ(c.set[BOURSE_RULE_BAND], 250);
    CHECK_EQ(c.set[BOURSE_RULE_REF], 100100);
    CHECK_EQ(c.set[BOURSE_RULE_TICK], BOURSE_UNSET);
    CHECK_EQ(parse("buy u m1 ACME 10 market", &c, err), BOURSE_TEXT_CMD);
    CHECK_EQ(c.price, BOURSE_MARKET);
    CHECK_EQ(c.tif, BOURSE_IOC);
    CHECK_EQ(parse("cancelall u", &c, err), BOURSE_TEXT_CMD);
    CHECK(c.symbol_name.s[0] == 0);
    static const char *const bad[][2] = {
        {"rules ACME", "at least one"},
        {"fees ACME", "at least one"},
        {"rules ACME tick=1 tick=2", "'tick=2' given twice"},
        {"rules ACME size=1", "'size=1'"},
        {"rules ACME tick", "'tick'"},
        {"rules ACME =1", "'=1'"},
        {"rules ACME tick=0", "'tick=0'"},
        {"rules ACME tick=1000000.0001", "'tick=1000000.0001'"},
        {"rules ACME lot=0", "'lot=0'"},
        {"rules ACME maxqty=-1", "'maxqty=-1'"},
        {"rules ACME maxnotional=900000000000000.0001", "'maxnotional=900000000000000.0001'"},
        {"rules ACME band=1000.01", "'band=1000.01'"},
        {"rules ACME band=2.505", "'band=2.505'"},
        {"rules ACME band=1e2", "'band=1e2'"},
        {"rules ACME ref=", "'ref='"},
        {"rules CASH tick=1", "'CASH'"},
        {"fees ACME maker=1001", "'maker=1001'"},
        {"fees ACME maker=0.5", "'maker=0.5'"},
        {"fees ACME tick=1", "'tick=1'"},
        {"buy u m ACME 1 market day", "'day'"},
        {"buy u m ACME 1 market gtc", "'gtc'"},
        {"buy u m ACME 1 Market", "'Market'"},
        {"replace u a b 1 market", "'market'"},
        {"cancelall", "takes 1 or 2 words"},
        {"cancelall u ACME B", "takes 1 or 2 words"},
        {"halt", "takes 1 word"},
        {"resume A B", "takes 1 word"},
        {"block u v", "takes 1 word"},
        {"unblock u!", "'u!'"},
        {"haltall now", "takes 0 words"},
        {"resumeall now", "takes 0 words"},
        {"fixsess u logon 1", "takes 4 words"},
        {"fixsess u hello 1 0", "'hello'"},
        {"fixsess u msg 0 0", "'0'"},
        {"fixsess u msg 1099511627777 0", "'1099511627777'"},
        {"fixsess u msg 1 -1", "'-1'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = parse(bad[i][0], &c, err);
        CHECK_EQ(rc, BOURSE_TEXT_BAD);
        if (rc == BOURSE_TEXT_BAD && !strstr(err, bad[i][1])) {
            printf("FAIL test_v2_commands: '%s' gives '%s', want it to mention %s\n", bad[i][0], err,
                   bad[i][1]);
            check_failures++;
        }
    }
}

int main(void)
{
    RUN(test_every_command);
    RUN(test_skipped_lines);
    RUN(test_malformed_words);
    RUN(test_word_parsers);
    RUN(test_decimal_printing);
    RUN(test_event_lines);
    RUN(test_round_trip_random);
    RUN(test_parse_garbage);
    RUN(test_v2_commands);
    return CHECK_DONE();
}
