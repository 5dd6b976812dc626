/*
 * tests/fuzz/wire.c - libFuzzer target for every decoder that reads bytes
 * from a client: SoupBinTCP framing and Login Requests, OUCH inbound
 * messages (the gateway), OUCH reports and ITCH messages (what `bourse
 * client` and `bourse feed` read from a server), the replay text format
 * (admin socket, `bourse replay`), the WebSocket subscriber's JSON and
 * MoldUDP64 downstream and request packets (the UDP feed and its client),
 * FIX 4.4 tag=value messages (src/net/fix.c: framing, fields, values), and
 * the HTTP API's request bodies (src/http/json.c: the strict flat-object
 * reader, the typed getters and decimal amounts).
 * Built and run by `make fuzz` (long) and tests/sh/fuzz.sh (seconds).
 *
 * The first input byte picks the decoder; the rest is its input.  Nothing
 * may crash or read out of bounds, and what decodes must survive a round
 * trip: an inbound OUCH message that parses is written back by
 * ouch_write_cmd and must parse to the same command, and likewise for
 * reports (ouch_read/ouch_write), ITCH messages (itch_decode/encode) and
 * MoldUDP64 packets (mold_parse, then mold_writer, must give the same bytes);
 * a FIX message that frames and parses is written again field by field and
 * must frame and parse to the same fields; a JSON string value the API
 * reads, written back by hj_string, must read again as the same bytes.
 */
#include "bourse/text.h"
#include "feed/itch.h"
#include "feed/json.h"
#include "feed/mold.h"
#include "http/json.h"
#include "net/fix.h"
#include "net/ouch.h"
#include "net/soup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void same_or_die(const void *a, const void *b, size_t n, const char *what)
{
    if (memcmp(a, b, n) != 0) {
        fprintf(stderr, "round trip changed the %s\n", what);
        abort();
    }
}

/* The fields ouch_parse fills, compared after a write and a parse. */
static void check_cmd_round_trip(const bourse_cmd *c)
{
    uint8_t buf[256];
    size_t n = ouch_write_cmd(buf, c);
    bourse_cmd d;
    const char *why;
    memset(&d, 0, sizeof d);
    if (n == 0 || ouch_parse(buf, n, &d, &why) != 0) {
        fprintf(stderr, "a parsed OUCH message does not parse once written back\n");
        abort();
    }
    same_or_die(&c->type, &d.type, sizeof c->type, "type");
    if (c->type == BOURSE_CMD_ORDER) {
        same_or_die(&c->side, &d.side, sizeof c->side, "side");
        same_or_die(&c->tif, &d.tif, sizeof c->tif, "time in force");
    }
    same_or_die(&c->qty, &d.qty, sizeof c->qty, "quantity");
    same_or_die(c->oid.s, d.oid.s, sizeof c->oid.s, "token");
    if (c->type != BOURSE_CMD_CANCEL) {
        same_or_die(&c->price, &d.price, sizeof c->price, "price");
        if (c->type == BOURSE_CMD_REPLACE)
            same_or_die(c->new_oid.s, d.new_oid.s, sizeof c->new_oid.s, "new token");
        else
            same_or_die(c->symbol_name.s, d.symbol_name.s, sizeof c->symbol_name.s, "stock");
    }
}

/* A client's byte stream as the gateway cuts it: packets, logins, orders. */
static void fuzz_stream(const uint8_t *p, size_t n)
{
    soup_packet pk;
    long k;
    while (n && (k = soup_next(p, n, 128, &pk)) > 0) {
        if (pk.type == SOUP_LOGIN_REQUEST) {
            soup_login l;
            const char *why;
            soup_login_parse(&pk, &l, &why);
        } else if (pk.type == SOUP_UNSEQUENCED) {
            bourse_cmd c;
            const char *why;
            memset(&c, 0, sizeof c);
            if (ouch_parse(pk.payload, pk.len, &c, &why) == 0)
                check_cmd_round_trip(&c);
        } else if (pk.type == SOUP_LOGIN_ACCEPTED) {
            char session[SOUP_SESSION_LEN + 1];
            uint64_t seq;
            soup_accepted_parse(&pk, session, &seq);
        }
        p += k;
        n -= (size_t)k;
    }
}

/* A server's reports and feed messages, as clients decode them. */
static void fuzz_reports(const uint8_t *p, size_t n)
{
    ouch_report r;
    if (ouch_read(p, n, &r) == 0) {
        uint8_t buf[256];
        size_t m = ouch_write(buf, &r);
        ouch_report s;
        if (m == 0 || ouch_read(buf, m, &s) != 0) {
            fprintf(stderr, "a decoded OUCH report does not decode once written back\n");
            abort();
        }
    }
    itch_msg im;
    if (itch_decode(p, n, &im) == 0) {
        uint8_t buf[ITCH_MAX];
        char text[512];
        size_t m = itch_encode(&im, buf);
        itch_msg again;
        if (itch_decode(buf, m, &again) != 0) {
            fprintf(stderr, "a decoded ITCH message does not decode once encoded\n");
            abort();
        }
        itch_format(&im, text, sizeof text);
    }
}

/* A datagram as the UDP client and the request server read it: what parses
 * is written again message by message and must come out byte for byte. */
static void fuzz_mold(const uint8_t *p, size_t n)
{
    mold_packet pk;
    const char *why;
    if (mold_parse(p, n, &pk, &why) == 0) {
        static uint8_t buf[MOLD_MAX_DATAGRAM];
        size_t len;
        if (pk.count == MOLD_HEARTBEAT || pk.count == MOLD_END) {
            len = mold_empty(buf, pk.session, pk.seq, pk.count);
        } else {
            mold_writer w;
            mold_start(&w, buf, sizeof buf, pk.session, pk.seq);
            size_t off = 0, ml;
            const uint8_t *m;
            while (mold_next(&pk, &off, &m, &ml))
                if (mold_add(&w, m, ml) < 0) {
                    fprintf(stderr, "a parsed MoldUDP64 packet does not fit once written back\n");
                    abort();
                }
            len = mold_finish(&w);
        }
        mold_packet again;
        if (mold_parse(buf, len, &again, &why) != 0 || again.seq != pk.seq || again.count != pk.count ||
            strcmp(again.session, pk.session) || again.body_len != pk.body_len)
            abort();
        same_or_die(again.body, pk.body, pk.body_len, "MoldUDP64 messages");
    }
    mold_request r;
    if (mold_request_parse(p, n, &r, &why) == 0) {
        uint8_t buf[MOLD_REQUEST_LEN];
        mold_request again;
        if (mold_request_parse(buf, mold_request_write(buf, r.session, r.seq, r.count), &again, &why) != 0 ||
            again.seq != r.seq || again.count != r.count || strcmp(again.session, r.session))
            abort();
    }
}

/* A FIX byte stream as the FIX gateway cuts it: frames (garbled ones
 * skipped), fields, every getter; what parses must survive a rewrite. */
static void fuzz_fix(const uint8_t *data, size_t n)
{
    const char *p = (const char *)data;
    while (n) {
        size_t skip;
        const char *why;
        long r = fix_frame(p, n, 4096, &skip, &why);
        if (r == FIX_MORE || r == FIX_FATAL)
            return;
        if (r == FIX_GARBLED) {
            if (skip < 1 || skip > n)
                abort();
            p += skip;
            n -= skip;
            continue;
        }
        fix_msg m;
        fix_error e;
        if (fix_parse(p, (size_t)r, &m, &e) == 0) {
            uint64_t u;
            int64_t v;
            char c;
            fix_get_u64(&m, 34, &u);
            fix_get_char(&m, 54, &c);
            fix_get_decimal(&m, 44, 4, 1000000LL * 10000, &v);
            fix_get_decimal(&m, 38, 0, 100000000, &v);
            static char buf[8192];
            fix_writer w;
            size_t tl;
            const char *type = fix_get(&m, 35, &tl);
            char t[8] = {0};
            memcpy(t, type, tl < 7 ? tl : 7);
            fix_begin(&w, buf, sizeof buf, t);
            for (uint32_t i = 3; i + 1 < m.n; i++)
                fix_put(&w, m.f[i].tag, m.buf + m.f[i].off, m.f[i].len);
            const char *s;
            size_t len = fix_end(&w, &s);
            fix_msg again;
            if (tl < 8 && (len == 0 || fix_frame(s, len, sizeof buf, &skip, &why) != (long)len ||
                           fix_parse(s, len, &again, &e) != 0 || again.n != m.n)) {
                fprintf(stderr, "a parsed FIX message does not parse once written back\n");
                abort();
            }
        }
        p += r;
        n -= (size_t)r;
    }
}

static void fuzz_http_json(const uint8_t *p, size_t n)
{
    hj_obj o;
    const char *why;
    if (hj_parse((const char *)p, n, &o, &why) != 0)
        return;
    for (int i = 0; i < o.n; i++) {
        const char *s;
        size_t len;
        int64_t v, a;
        int b;
        hj_int(&o, o.p[i].key, INT64_MIN, INT64_MAX, &v);
        hj_bool(&o, o.p[i].key, &b);
        if (hj_str(&o, o.p[i].key, &s, &len) != 1)
            continue;
        hj_parse_amount(s, len, INT64_MAX, &a);
        char buf[8 * HJ_VAL + 16];
        hj_w w = {.p = buf, .cap = sizeof buf};
        hj_raw(&w, "{\"k\":", 5);
        hj_string(&w, s, len);
        hj_raw(&w, "}", 1);
        hj_obj o2;
        const char *s2;
        size_t len2;
        if (w.full || hj_parse(buf, w.len, &o2, &why) != 0 || hj_str(&o2, "k", &s2, &len2) != 1)
            same_or_die("x", "y", 1, "JSON string (written back, it does not read)");
        else if (len2 != len)
            same_or_die("x", "y", 1, "JSON string's length");
        else
            same_or_die(s, s2, len, "JSON string");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 7) {
    case 0: fuzz_stream(p, n); break;
    case 1: fuzz_reports(p, n); break;
    case 2: {
        bourse_cmd c;
        char err[200];
        bourse_text_parse((const char *)p, n, &c, err, sizeof err);
        break;
    }
    case 3: {
        json_pair pairs[JSON_PAIRS];
        const char *why;
        int k = json_flat((const char *)p, n, pairs, JSON_PAIRS, &why);
        if (k > 0)
            json_get(pairs, k, "channel");
        break;
    }
    case 4: fuzz_mold(p, n); break;
    case 5: fuzz_fix(p, n); break;
    case 6: fuzz_http_json(p, n); break;
    }
    return 0;
}
