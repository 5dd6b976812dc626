/*
 * test_soup.c - SoupBinTCP framing and login packets (src/net/soup.c).
 */
#include "check.h"
#include "net/soup.h"

#include <string.h>

static void frames_are_cut_by_length(void)
{
    uint8_t b[16] = {0, 3, 'U', 'a', 'b', 0, 1, 'R'};
    soup_packet p;
    CHECK_EQ(soup_next(b, 1, 100, &p), 0);
    CHECK_EQ(soup_next(b, 4, 100, &p), 0);
    CHECK_EQ(soup_next(b, 8, 100, &p), 5);
    CHECK_EQ(p.type, 'U');
    CHECK_EQ(p.len, 2);
    CHECK(!memcmp(p.payload, "ab", 2));
    CHECK_EQ(soup_next(b + 5, 3, 100, &p), 3);
    CHECK_EQ(p.type, 'R');
    CHECK_EQ(p.len, 0);
}

static void bad_lengths_are_refused(void)
{
    uint8_t zero[3] = {0, 0, 'R'}, big[3] = {0xff, 0xff, 'L'};
    soup_packet p;
    CHECK_EQ(soup_next(zero, 3, 100, &p), -1);
    CHECK_EQ(soup_next(big, 3, 100, &p), -1);
    CHECK_EQ(soup_next(big, 2, 65535, &p), 0); /* allowed, just incomplete */
}

static void login_round_trip(void)
{
    soup_login in = {.user = "alice", .password = "s3cret!", .session = "", .seq = 12345}, out;
    uint8_t b[128];
    size_t n = soup_login_write(b, &in);
    CHECK_EQ(n, 2 + SOUP_LOGIN_LEN);
    CHECK_EQ(b[0], 0);
    CHECK_EQ(b[1], 79);
    CHECK_EQ(b[2], 'L');
    CHECK(!memcmp(b + 3, "alice           ", 16));
    CHECK(!memcmp(b + 3 + 16 + 32 + 10, "               12345", 20));
    soup_packet p;
    CHECK_EQ(soup_next(b, n, 128, &p), (long)n);
    const char *why = NULL;
    CHECK_EQ(soup_login_parse(&p, &out, &why), 0);
    CHECK(!strcmp(out.user, "alice"));
    CHECK(!strcmp(out.password, "s3cret!"));
    CHECK(!strcmp(out.session, ""));
    CHECK_EQ(out.seq, 12345);
}

static void hostile_logins_are_refused(void)
{
    soup_login in = {.user = "bob", .password = "pw", .seq = 1}, out;
    uint8_t b[128];
    size_t n = soup_login_write(b, &in);
    soup_packet p;
    const char *why = NULL;
    b[n - 3] = 'x'; /* a letter in the sequence number */
    soup_next(b, n, 128, &p);
    CHECK_EQ(soup_login_parse(&p, &out, &why), -1);
    CHECK(why != NULL);
    n = soup_login_write(b, &in);
    b[4] = 0x01; /* a control character in the user name */
    soup_next(b, n, 128, &p);
    CHECK_EQ(soup_login_parse(&p, &out, &why), -1);
    soup_packet short_one = {.type = 'L', .payload = b + 3, .len = 10};
    CHECK_EQ(soup_login_parse(&short_one, &out, &why), -1);
}

static void accepted_round_trip(void)
{
    uint8_t b[64];
    size_t n = soup_accepted_write(b, "1795512380", 7);
    CHECK_EQ(n, 33);
    soup_packet p;
    CHECK_EQ(soup_next(b, n, 64, &p), 33);
    char session[SOUP_SESSION_LEN + 1];
    uint64_t seq = 0;
    CHECK_EQ(soup_accepted_parse(&p, session, &seq), 0);
    CHECK(!strcmp(session, "1795512380"));
    CHECK_EQ(seq, 7);
    CHECK_EQ(soup_rejected_write(b, SOUP_REJECT_AUTH), 4);
    CHECK_EQ(b[3], 'A');
}

int main(void)
{
    RUN(frames_are_cut_by_length);
    RUN(bad_lengths_are_refused);
    RUN(login_round_trip);
    RUN(hostile_logins_are_refused);
    RUN(accepted_round_trip);
    return CHECK_DONE();
}
