/*
 * test_endpoints.c - the client's list of servers (src/net/endpoints.c):
 * what --connect accepts and refuses, going round the list, the growing
 * wait between rounds, and that a connect tries every address once.
 */
#include "check.h"
#include "net/endpoints.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void endpoints_parse_lists(void)
{
    endpoints l = {0};
    const char *why = NULL;
    CHECK_EQ(endpoints_add(&l, "127.0.0.1:9000,10.0.0.2:9001", &why), 0);
    CHECK_EQ(endpoints_add(&l, "host.example:1", &why), 0);
    CHECK_EQ(l.n, 3);
    CHECK(!strcmp(l.e[1].host, "10.0.0.2") && l.e[1].port == 9001);
    CHECK(!strcmp(l.e[2].host, "host.example") && l.e[2].port == 1);
    const char *bad[] = {"",     "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:9x",
                         "a:1,", ",a:1",      ":80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        endpoints m = {0};
        why = NULL;
        CHECK(endpoints_add(&m, bad[i], &why) == -1 && why != NULL);
    }
    endpoints m = {0};
    for (int i = 0; i < ENDPOINTS_MAX; i++)
        CHECK_EQ(endpoints_add(&m, "127.0.0.1:1", &why), 0);
    CHECK_EQ(endpoints_add(&m, "127.0.0.1:1", &why), -1);
}

static void endpoints_round_and_backoff(void)
{
    endpoints l = {0};
    const char *why;
    CHECK_EQ(endpoints_add(&l, "127.0.0.1:1,127.0.0.1:2", &why), 0);
    char b[64];
    CHECK(!strcmp(endpoints_name(&l, b, sizeof b), "127.0.0.1:1"));
    endpoints_next(&l);
    CHECK(!strcmp(endpoints_name(&l, b, sizeof b), "127.0.0.1:2"));
    endpoints_next(&l);
    CHECK(!strcmp(endpoints_name(&l, b, sizeof b), "127.0.0.1:1"));
    /* A round (two addresses) at once, then a wait before each further
     * round: 10 ms doubling to 250 ms; none again once a session works. */
    int w[16];
    for (int i = 0; i < 16; i++)
        w[i] = endpoints_wait_ms(&l);
    CHECK(w[0] == 0 && w[1] == 0 && w[2] == 10 && w[3] == 0 && w[4] == 20 && w[5] == 0 && w[6] == 40);
    CHECK(w[12] == 250 && w[13] == 0 && w[14] == 250 && w[15] == 0);
    endpoints_ok(&l);
    CHECK_EQ(endpoints_wait_ms(&l), 0);
    CHECK_EQ(endpoints_wait_ms(&l), 0);
    CHECK_EQ(endpoints_wait_ms(&l), 10);
}

/* A round in which a server answered and refused (a follower during an
 * election) waits 10 ms, not the doubling wait, ENDPOINTS_FAST_ROUNDS
 * times at most; a round where none answered doubles as before, from
 * where it was. */
static void endpoints_answered_rounds_are_short(void)
{
    endpoints l = {0};
    const char *why;
    CHECK_EQ(endpoints_add(&l, "127.0.0.1:1,127.0.0.1:2", &why), 0);
    for (int i = 0; i < 13; i++) /* 0 0 10 0 20 0 40 0 80 0 160 0 250 */
        endpoints_wait_ms(&l);
    CHECK_EQ(endpoints_wait_ms(&l), 0);
    endpoints_answered(&l);
    CHECK_EQ(endpoints_wait_ms(&l), 10);
    CHECK_EQ(endpoints_wait_ms(&l), 0);
    CHECK_EQ(endpoints_wait_ms(&l), 250); /* nobody answered in that round */
    int fast = 0;
    for (int r = 0; r < ENDPOINTS_FAST_ROUNDS + 5; r++) {
        CHECK_EQ(endpoints_wait_ms(&l), 0);
        endpoints_answered(&l);
        fast += endpoints_wait_ms(&l) == 10;
    }
    CHECK_EQ(fast, ENDPOINTS_FAST_ROUNDS - 1); /* one was taken above */
    endpoints_ok(&l);
    CHECK_EQ(endpoints_wait_ms(&l), 0);
    endpoints_answered(&l);
    CHECK_EQ(endpoints_wait_ms(&l), 0);
    CHECK_EQ(endpoints_wait_ms(&l), 10);
}

/* A closed port first, a listening one second: connect lands on the second
 * and leaves it current. */
static void endpoints_connect_goes_on(void)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK(bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 4) == 0);
    getsockname(ls, (struct sockaddr *)&a, &al);
    char list[64];
    snprintf(list, sizeof list, "127.0.0.1:1,127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    endpoints l = {0};
    const char *why;
    CHECK_EQ(endpoints_add(&l, list, &why), 0);
    int fd = endpoints_connect(&l);
    CHECK(fd >= 0);
    CHECK_EQ(l.at, 1);
    if (fd >= 0)
        close(fd);
    close(ls);
    endpoints none = {0};
    CHECK_EQ(endpoints_add(&none, "127.0.0.1:1", &why), 0);
    CHECK_EQ(endpoints_connect(&none), -1);
}

int main(void)
{
    RUN(endpoints_parse_lists);
    RUN(endpoints_round_and_backoff);
    RUN(endpoints_answered_rounds_are_short);
    RUN(endpoints_connect_goes_on);
    return check_failures != 0;
}
