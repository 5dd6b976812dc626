/*
 * test_fix.c - the FIX 4.4 codec (src/net/fix.c): framing, garbled and
 * fatal input, field checks, getters, the writer, and random bytes that
 * must never crash it.  Messages are written with '|' for SOH.
 */
#include "check.h"
#include "net/fix.h"

#include <stdio.h>
#include <string.h>

/* "35=D|...|" (body with '|') -> a whole message with BodyLength and
 * CheckSum right; returns its length. */
static size_t mk(char *out, const char *body)
{
    char b[2048];
    size_t n = strlen(body);
    for (size_t i = 0; i < n; i++)
        b[i] = body[i] == '|' ? FIX_SOH : body[i];
    int k = sprintf(out, "8=FIX.4.4%c9=%zu%c", FIX_SOH, n, FIX_SOH);
    memcpy(out + k, b, n);
    k += (int)n;
    k += sprintf(out + k, "10=%03u%c", fix_checksum(out, (size_t)k), FIX_SOH);
    return (size_t)k;
}

static void soh(char *s)
{
    for (; *s; s++)
        if (*s == '|')
            *s = FIX_SOH;
}

static void frames_a_whole_message(void)
{
    char m[512];
    size_t n = mk(m, "35=0|49=A|56=B|34=2|52=20260101-00:00:00|");
    size_t skip;
    const char *why;
    CHECK_EQ(fix_frame(m, n, 4096, &skip, &why), (long)n);
    for (size_t k = 0; k < n; k++)
        CHECK_EQ(fix_frame(m, k, 4096, &skip, &why), FIX_MORE);
    fix_msg f;
    fix_error e;
    CHECK_EQ(fix_parse(m, n, &f, &e), 0);
    CHECK(fix_is(&f, 35, "0"));
    CHECK(fix_is(&f, 49, "A"));
    uint64_t seq;
    CHECK_EQ(fix_get_u64(&f, 34, &seq), 0);
    CHECK_EQ(seq, 2);
    CHECK_EQ(fix_get_u64(&f, 999, &seq), -1);
    CHECK_EQ(fix_get_u64(&f, 49, &seq), -2);
}

static void bad_checksum_is_garbled_and_skipped(void)
{
    char m[1024];
    size_t n = mk(m, "35=0|34=2|");
    m[n - 2] = m[n - 2] == '9' ? '0' : (char)(m[n - 2] + 1);
    size_t n2 = mk(m + n, "35=0|34=3|");
    size_t skip;
    const char *why;
    CHECK_EQ(fix_frame(m, n + n2, 4096, &skip, &why), FIX_GARBLED);
    CHECK_EQ(skip, n);
    CHECK_EQ(fix_frame(m + skip, n2, 4096, &skip, &why), (long)n2);
}

static void wrong_body_length_is_garbled_and_resyncs(void)
{
    char m[1024], good[512];
    size_t g = mk(good, "35=0|34=2|");
    /* BodyLength 3 too short: the tail is not where CheckSum begins */
    char body[64];
    snprintf(body, sizeof body, "8=FIX.4.4|9=7|35=0|34=2|10=000|");
    soh(body);
    size_t b = strlen(body);
    memcpy(m, body, b);
    memcpy(m + b, good, g);
    size_t skip;
    const char *why;
    CHECK_EQ(fix_frame(m, b + g, 4096, &skip, &why), FIX_GARBLED);
    CHECK_EQ(skip, b);
    CHECK_EQ(fix_frame(m + skip, g, 4096, &skip, &why), (long)g);
    /* too long: it swallows the next message, which is found again */
    snprintf(body, sizeof body, "8=FIX.4.4|9=40|35=0|34=2|10=000|");
    soh(body);
    b = strlen(body);
    memcpy(m, body, b);
    memcpy(m + b, good, g);
    CHECK_EQ(fix_frame(m, b + g, 4096, &skip, &why), FIX_GARBLED);
    CHECK_EQ(skip, b);
}

static void unframeable_is_fatal(void)
{
    size_t skip;
    const char *why;
    char m[256];
    strcpy(m, "8=FIX.4.2|9=5|35=0|10=000|");
    soh(m);
    CHECK_EQ(fix_frame(m, strlen(m), 4096, &skip, &why), FIX_FATAL);
    strcpy(m, "8=FIX.4.4|9=x|");
    soh(m);
    CHECK_EQ(fix_frame(m, strlen(m), 4096, &skip, &why), FIX_FATAL);
    strcpy(m, "8=FIX.4.4|9=12345678|");
    soh(m);
    CHECK_EQ(fix_frame(m, strlen(m), 1 << 30, &skip, &why), FIX_FATAL);
    strcpy(m, "8=FIX.4.4|9=05|");
    soh(m);
    CHECK_EQ(fix_frame(m, strlen(m), 4096, &skip, &why), FIX_FATAL);
    /* a message longer than the bound is refused before it is read whole */
    strcpy(m, "8=FIX.4.4|9=1000000|35=D|");
    soh(m);
    CHECK_EQ(fix_frame(m, strlen(m), 4096, &skip, &why), FIX_FATAL);
    CHECK(strstr(why, "longer") != NULL);
    CHECK_EQ(fix_frame("GET / HTTP", 10, 4096, &skip, &why), FIX_FATAL);
}

static int parse_err(const char *body, fix_error *e)
{
    char m[1024];
    size_t n = mk(m, body);
    size_t skip;
    const char *why;
    if (fix_frame(m, n, 4096, &skip, &why) != (long)n)
        return -9;
    fix_msg f;
    return fix_parse(m, n, &f, e);
}

static void field_errors_name_reason_and_tag(void)
{
    fix_error e;
    CHECK_EQ(parse_err("35=D|11=a|11=b|", &e), -1);
    CHECK_EQ(e.reason, FIX_R_DUPLICATE);
    CHECK_EQ(e.ref_tag, 11);
    CHECK_EQ(parse_err("35=D|11=|", &e), -1);
    CHECK_EQ(e.reason, FIX_R_NO_VALUE);
    CHECK_EQ(e.ref_tag, 11);
    CHECK_EQ(parse_err("35=D|x1=a|", &e), -1);
    CHECK_EQ(e.reason, FIX_R_INVALID_TAG);
    CHECK_EQ(parse_err("35=D|011=a|", &e), -1);
    CHECK_EQ(e.reason, FIX_R_INVALID_TAG);
    CHECK_EQ(parse_err("35=D|1234567=a|", &e), -1);
    CHECK_EQ(e.reason, FIX_R_INVALID_TAG);
    CHECK_EQ(parse_err("49=A|35=D|", &e), -1);
    CHECK_EQ(e.reason, FIX_R_ORDER);
    CHECK_EQ(e.ref_tag, 49);
    CHECK_EQ(parse_err("35=D|34=1|35=D|", &e), -1);
    CHECK_EQ(e.reason, FIX_R_DUPLICATE);
    /* duplicates found whichever way the tag is remembered (a bit under
     * 1024, a scan above), and tags that share a bit word are told apart */
    static const char *dups[] = {"35=D|63=a|1=b|63=c|", "35=D|64=a|1023=b|64=c|", "35=D|1023=a|1023=b|",
                                 "35=D|1024=a|5=b|1024=c|", "35=D|99999=a|99999=b|"};
    static const uint32_t dup_tag[] = {63, 64, 1023, 1024, 99999};
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(parse_err(dups[i], &e), -1);
        CHECK_EQ(e.reason, FIX_R_DUPLICATE);
        CHECK_EQ(e.ref_tag, dup_tag[i]);
    }
    CHECK_EQ(parse_err("35=D|63=a|127=b|1=c|65=d|1024=e|2048=f|1087=g|", &e), 0);
    char many[1024] = "35=D|";
    for (int i = 0; i < FIX_MAX_FIELDS; i++)
        sprintf(many + strlen(many), "%d=1|", 100 + i);
    CHECK_EQ(parse_err(many, &e), -1);
    CHECK_EQ(e.reason, FIX_R_OTHER);
    CHECK_EQ(parse_err("35=D|34=1|", &e), 0);
}

static void decimals_and_quantities(void)
{
    char m[512];
    size_t n = mk(m, "35=D|44=10.5|45=0.0001|46=10.50000|47=1.00001|48=-1|49=12|50=1e3|51=.5|52=5.|38=100|");
    fix_msg f;
    fix_error e;
    CHECK_EQ(fix_parse(m, n, &f, &e), 0);
    int64_t v;
    CHECK_EQ(fix_get_decimal(&f, 44, 4, 1000000LL * 10000, &v), 0);
    CHECK_EQ(v, 105000);
    CHECK_EQ(fix_get_decimal(&f, 45, 4, 1000000LL * 10000, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(fix_get_decimal(&f, 46, 4, 1000000LL * 10000, &v), 0);
    CHECK_EQ(v, 105000);
    CHECK_EQ(fix_get_decimal(&f, 47, 4, 1000000LL * 10000, &v), -2);
    CHECK_EQ(fix_get_decimal(&f, 48, 4, 1000000LL * 10000, &v), -2);
    CHECK_EQ(fix_get_decimal(&f, 49, 4, 100000, &v), -2); /* 120000 > max */
    CHECK_EQ(fix_get_decimal(&f, 50, 4, 1000000LL * 10000, &v), -2);
    CHECK_EQ(fix_get_decimal(&f, 51, 4, 1000000LL * 10000, &v), -2);
    CHECK_EQ(fix_get_decimal(&f, 52, 4, 1000000LL * 10000, &v), -2);
    CHECK_EQ(fix_get_decimal(&f, 38, 0, 100000000, &v), 0);
    CHECK_EQ(v, 100);
    CHECK_EQ(fix_get_decimal(&f, 44, 0, 100000000, &v), -2); /* shares are whole */
}

static void writer_round_trip(void)
{
    char buf[512];
    fix_writer w;
    fix_begin(&w, buf, sizeof buf, "8");
    fix_puts(&w, 49, "BOURSE");
    fix_put_int(&w, 34, 12345);
    fix_put_decimal(&w, 44, 105000);
    fix_put_decimal(&w, 6, 1);
    fix_put_decimal(&w, 14, 0);
    fix_put_time(&w, 52, 1767225600123000000LL); /* 2026-01-01 00:00:00.123 */
    const char *s;
    size_t n = fix_end(&w, &s);
    CHECK(n > 0);
    size_t skip;
    const char *why;
    CHECK_EQ(fix_frame(s, n, 4096, &skip, &why), (long)n);
    fix_msg f;
    fix_error e;
    CHECK_EQ(fix_parse(s, n, &f, &e), 0);
    CHECK(fix_is(&f, 35, "8"));
    CHECK(fix_is(&f, 44, "10.5"));
    CHECK(fix_is(&f, 6, "0.0001"));
    CHECK(fix_is(&f, 14, "0"));
    CHECK(fix_is(&f, 52, "20260101-00:00:00.123"));
    /* too small a buffer: cut, never overrun */
    char small[40];
    fix_begin(&w, small, sizeof small, "8");
    fix_puts(&w, 58, "a text far longer than the room there is in this buffer");
    CHECK_EQ(fix_end(&w, &s), 0);
}

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

/* Random mutations of good messages: whatever the codec says, it stays in
 * bounds (run under ASan by the sanitizer flavour) and a frame it accepts
 * has a checksum that adds up. */
static void random_bytes_never_crash(void)
{
    char base[512], m[600];
    size_t n = mk(base, "35=D|49=A|56=B|34=9|52=20260101-00:00:00|11=o1|55=ACME|54=1|38=10|40=2|44=10|");
    int framed = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(m, base, n);
        size_t len = n;
        int k = (int)(rnd() % 4);
        for (int j = 0; j <= k; j++) {
            size_t at = rnd() % len;
            switch (rnd() % 3) {
            case 0: m[at] = (char)rnd(); break;
            case 1: m[at] = FIX_SOH; break;
            case 2: len = at + 1; break;
            }
        }
        size_t skip;
        const char *why;
        long r = fix_frame(m, len, 4096, &skip, &why);
        if (r > 0) {
            framed++;
            CHECK((size_t)r <= len);
            fix_msg f;
            fix_error e;
            if (fix_parse(m, (size_t)r, &f, &e) == 0) {
                int64_t v;
                fix_get_decimal(&f, 44, 4, 1000000LL * 10000, &v);
            }
        } else if (r == FIX_GARBLED) {
            CHECK(skip >= 1 && skip <= len);
        }
    }
    CHECK(framed > 0);
}

/* The word-at-a-time checksum against the plain sum, at every length and
 * alignment up to past two chunks, with bytes of every value (0xff is the
 * largest a lane adds). */
static void checksum_matches_the_plain_sum(void)
{
    static char b[3000];
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (char)(i % 7 == 0 ? 0xff : (i * 131 + 7) & 0xff);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= sizeof b; n += n < 40 ? 1 : 37) {
            unsigned s = 0;
            for (size_t i = 0; i < n; i++)
                s += (uint8_t)b[off + i];
            CHECK_EQ(fix_checksum(b + off, n), s % 256);
        }
    memset(b, 0xff, sizeof b);
    CHECK_EQ(fix_checksum(b, sizeof b), (3000u * 255u) % 256);
}

/* SendingTime: the part to the second is cached per second; each call
 * must still say its own time, forward and back across a second. */
static void times_across_seconds(void)
{
    static const struct {
        int64_t ns;
        const char *want;
    } t[] = {
        {1796403719132000000LL, "52=20261204-17:01:59.132"},
        {1796403719999999999LL, "52=20261204-17:01:59.999"},
        {1796403720000000000LL, "52=20261204-17:02:00.000"},
        {1796403719001000000LL, "52=20261204-17:01:59.001"},
        {1796428800000000000LL, "52=20261205-00:00:00.000"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char buf[256];
        fix_writer w;
        fix_begin(&w, buf, sizeof buf, "0");
        fix_put_time(&w, 52, t[i].ns);
        const char *m;
        size_t n = fix_end(&w, &m);
        CHECK(n > 0);
        size_t k = strlen(t[i].want);
        const char *at = memmem(m, n, t[i].want, k);
        CHECK(at != NULL && at[k] == FIX_SOH);
    }
}

int main(void)
{
    RUN(frames_a_whole_message);
    RUN(bad_checksum_is_garbled_and_skipped);
    RUN(wrong_body_length_is_garbled_and_resyncs);
    RUN(unframeable_is_fatal);
    RUN(field_errors_name_reason_and_tag);
    RUN(decimals_and_quantities);
    RUN(writer_round_trip);
    RUN(checksum_matches_the_plain_sum);
    RUN(times_across_seconds);
    RUN(random_bytes_never_crash);
    return CHECK_DONE();
}
