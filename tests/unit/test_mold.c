/*
 * test_mold.c - MoldUDP64 packets (src/feed/mold.c): round trips, the bytes
 * of the header, and hostile datagrams refused with a reason.
 */
#include "check.h"
#include "feed/mold.h"

#include <arpa/inet.h>
#include <string.h>

static void downstream_round_trip(void)
{
    uint8_t buf[200];
    mold_writer w;
    mold_start(&w, buf, sizeof buf, "1795512380", 42);
    CHECK_EQ(mold_add(&w, (const uint8_t *)"hello", 5), 0);
    CHECK_EQ(mold_add(&w, (const uint8_t *)"", 0), 0); /* the spec allows empty messages */
    CHECK_EQ(mold_add(&w, (const uint8_t *)"abc", 3), 0);
    size_t n = mold_finish(&w);
    CHECK_EQ(n, MOLD_HEADER + 2 + 5 + 2 + 0 + 2 + 3);
    CHECK(!memcmp(buf, "1795512380", 10));
    CHECK(!memcmp(buf + 10,
                  "\0\0\0\0\0\0\0\x2a\0\x03\0\x05hello\0\0\0\x03"
                  "abc",
                  24));
    mold_packet pk;
    const char *why = NULL;
    CHECK_EQ(mold_parse(buf, n, &pk, &why), 0);
    CHECK(!strcmp(pk.session, "1795512380"));
    CHECK_EQ(pk.seq, 42);
    CHECK_EQ(pk.count, 3);
    size_t off = 0, len;
    const uint8_t *m;
    CHECK_EQ(mold_next(&pk, &off, &m, &len), 1);
    CHECK(len == 5 && !memcmp(m, "hello", 5));
    CHECK_EQ(mold_next(&pk, &off, &m, &len), 1);
    CHECK_EQ(len, 0);
    CHECK_EQ(mold_next(&pk, &off, &m, &len), 1);
    CHECK(len == 3 && !memcmp(m, "abc", 3));
    CHECK_EQ(mold_next(&pk, &off, &m, &len), 0);
}

static void writer_stops_when_full(void)
{
    uint8_t buf[MOLD_HEADER + 10], msg[8] = {0};
    mold_writer w;
    mold_start(&w, buf, sizeof buf, "S", 1);
    CHECK_EQ(mold_add(&w, msg, 8), 0);
    CHECK_EQ(mold_add(&w, msg, 0), -1); /* 2 bytes of length do not fit */
    CHECK_EQ(mold_finish(&w), sizeof buf);
    mold_packet pk;
    const char *why;
    CHECK_EQ(mold_parse(buf, sizeof buf, &pk, &why), 0);
    CHECK(!strcmp(pk.session, "S"));
    CHECK(!memcmp(buf, "S         ", 10)); /* alpha: left-justified, space-padded */
}

static void heartbeat_and_end(void)
{
    uint8_t buf[MOLD_HEADER + 1];
    mold_packet pk;
    const char *why;
    CHECK_EQ(mold_empty(buf, "1795512380", 7, MOLD_HEARTBEAT), MOLD_HEADER);
    CHECK_EQ(mold_parse(buf, MOLD_HEADER, &pk, &why), 0);
    CHECK(pk.count == MOLD_HEARTBEAT && pk.seq == 7 && pk.body_len == 0);
    mold_empty(buf, "1795512380", 9, MOLD_END);
    CHECK(!memcmp(buf + 18, "\xff\xff", 2));
    CHECK_EQ(mold_parse(buf, MOLD_HEADER, &pk, &why), 0);
    CHECK(pk.count == MOLD_END && pk.seq == 9);
    buf[MOLD_HEADER] = 1;
    CHECK_EQ(mold_parse(buf, MOLD_HEADER + 1, &pk, &why), -1);
    CHECK(!strcmp(why, "heartbeat or end of session with a body"));
}

static void refused(const uint8_t *p, size_t n, const char *reason)
{
    mold_packet pk;
    const char *why = NULL;
    CHECK_EQ(mold_parse(p, n, &pk, &why), -1);
    CHECK(why && !strcmp(why, reason));
    if (why && strcmp(why, reason))
        printf("  got '%s', want '%s'\n", why, reason);
}

static void hostile_downstream_refused(void)
{
    uint8_t b[64];
    mold_writer w;
    mold_start(&w, b, sizeof b, "1795512380", 5);
    mold_add(&w, (const uint8_t *)"abcd", 4);
    size_t n = mold_finish(&w);
    refused(b, 19, "shorter than the 20-byte header");
    refused(b, n - 1, "a message runs past the end of the datagram");
    refused(b, n + 1, "bytes after the last message");
    b[19] = 2; /* count 2, one message */
    refused(b, n, "fewer messages than the count");
    b[19] = 1;
    b[3] = 0x01;
    refused(b, n, "session not printable ASCII");
    b[3] = '5';
    memset(b + 10, 0, 8);
    refused(b, n, "sequence number 0");
    memset(b + 10, 0xff, 8);
    refused(b, n, "sequence numbers past 2^64");
}

static void request_round_trip_and_refusals(void)
{
    uint8_t b[MOLD_REQUEST_LEN + 1];
    mold_request r;
    const char *why = NULL;
    CHECK_EQ(mold_request_write(b, "1795512380", 100, 25), MOLD_REQUEST_LEN);
    CHECK_EQ(mold_request_parse(b, MOLD_REQUEST_LEN, &r, &why), 0);
    CHECK(!strcmp(r.session, "1795512380") && r.seq == 100 && r.count == 25);
    CHECK_EQ(mold_request_parse(b, MOLD_REQUEST_LEN + 1, &r, &why), -1);
    CHECK(!strcmp(why, "a request is 20 bytes"));
    CHECK_EQ(mold_request_parse(b, 3, &r, &why), -1);
    mold_request_write(b, "1795512380", 100, 0);
    CHECK_EQ(mold_request_parse(b, MOLD_REQUEST_LEN, &r, &why), -1);
    CHECK(!strcmp(why, "requested count 0"));
    mold_request_write(b, "1795512380", 0, 3);
    CHECK_EQ(mold_request_parse(b, MOLD_REQUEST_LEN, &r, &why), -1);
    CHECK(!strcmp(why, "sequence number 0"));
    mold_request_write(b, "1795512380", UINT64_MAX, 3);
    CHECK_EQ(mold_request_parse(b, MOLD_REQUEST_LEN, &r, &why), -1);
    mold_request_write(b, "1795512380", 1, 3);
    b[0] = 0x80;
    CHECK_EQ(mold_request_parse(b, MOLD_REQUEST_LEN, &r, &why), -1);
    CHECK(!strcmp(why, "session not printable ASCII"));
}

static void addresses(void)
{
    struct sockaddr_in a;
    const char *why = NULL;
    CHECK_EQ(mold_addr_parse("127.0.0.1:9003", &a, &why), 0);
    CHECK_EQ(ntohs(a.sin_port), 9003);
    CHECK_EQ(ntohl(a.sin_addr.s_addr), 0x7f000001);
    CHECK_EQ(mold_addr_parse("239.1.2.3:65535", &a, &why), 0);
    CHECK_EQ(mold_addr_parse("127.0.0.1:0", &a, &why), -1);
    CHECK_EQ(mold_addr_parse("127.0.0.1:65536", &a, &why), -1);
    CHECK_EQ(mold_addr_parse("127.0.0.1:", &a, &why), -1);
    CHECK_EQ(mold_addr_parse("127.0.0.1:9x", &a, &why), -1);
    CHECK_EQ(mold_addr_parse("localhost:9003", &a, &why), -1);
    CHECK_EQ(mold_addr_parse(":9003", &a, &why), -1);
    CHECK_EQ(mold_addr_parse("9003", &a, &why), -1);
}

int main(void)
{
    RUN(downstream_round_trip);
    RUN(writer_stops_when_full);
    RUN(heartbeat_and_end);
    RUN(hostile_downstream_refused);
    RUN(request_round_trip_and_refusals);
    RUN(addresses);
    return CHECK_DONE();
}
