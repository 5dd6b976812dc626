/*
 * test_linkcarrier.c - the link carrier (src/http/linkcarrier.c) against a
 * unix socket this test listens on, as the gateway's trusted socket would:
 * links open, carry bytes both ways, end when the far side closes (after
 * the bytes it sent), close when asked (the far side reads EOF and no end
 * comes back), ignore an old generation's records, report a connect that
 * fails, close a link the far side does not read past out_max, stop
 * reading while up_max bytes wait for this thread (and lose nothing), and
 * close every link when stopped.  And the point of it: the links' sockets are not
 * in this thread's descriptor table (not under ThreadSanitizer, where the
 * carrier shares it).  Every wait polls with a generous limit.
 */
#include "check.h"
#include "http/linkcarrier.h"
#include "util/sanitizer.h"

#include <dirent.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { SLOTS = 64, GOT = 1 << 16 };

static struct slot {
    uint64_t id;
    char got[GOT];
    size_t n;
    int why;
    char detail[128];
} S[SLOTS];

static void on_rx(void *ctx, uint64_t id, const uint8_t *p, size_t n)
{
    (void)ctx;
    struct slot *s = &S[(uint32_t)id];
    if (s->id != id)
        return;
    size_t k = n < GOT - s->n ? n : GOT - s->n;
    memcpy(s->got + s->n, p, k);
    s->n += k;
}

static void on_closed(void *ctx, uint64_t id, int why, const char *detail)
{
    (void)ctx;
    struct slot *s = &S[(uint32_t)id];
    if (s->id != id)
        return;
    s->why = why;
    snprintf(s->detail, sizeof s->detail, "%s", detail);
}

static void quiet(void *ctx, const char *line)
{
    (void)ctx, (void)line;
}

static uint64_t new_id(uint32_t slot, uint32_t gen)
{
    memset(&S[slot], 0, sizeof S[slot]);
    S[slot].id = (uint64_t)gen << 32 | slot;
    return S[slot].id;
}

/* Drain until cond() or 20 s. */
static int drain_until(link_carrier *c, int wake, int (*cond)(void))
{
    for (int i = 0; i < 200 && !cond(); i++) {
        struct pollfd p = {.fd = wake, .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            uint64_t v;
            ssize_t r = read(wake, &v, sizeof v);
            (void)r;
        }
        lc_drain(c, on_rx, on_closed, NULL);
    }
    return cond();
}

static char dir[32], path[64]; /* a mkdtemp directory and the socket in it */
static int listener(void)
{
    snprintf(path, sizeof path, "%s/gw.sock", dir);
    unlink(path);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0)
        return -1;
    return fd;
}

static int accept_one(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, 20000) <= 0)
        return -1;
    return accept(lfd, NULL, NULL);
}

/* What the far side reads within 20 s: its length, 0 at EOF, -1 nothing. */
static ssize_t far_read(int fd, char *buf, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 20000) <= 0)
        return -1;
    return read(fd, buf, cap);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static link_carrier *start_up(const char *p, size_t out_max, size_t up_max, int *wake)
{
    lc_config cfg = {.path = p, .slots = SLOTS, .out_max = out_max, .up_max = up_max, .log = quiet};
    return lc_start(&cfg, wake);
}

static link_carrier *start(const char *p, size_t out_max, int *wake)
{
    return start_up(p, out_max, 1 << 20, wake);
}

static int cond_s0_world(void)
{
    return S[0].n == 5 && !memcmp(S[0].got, "world", 5);
}
static int cond_s1_closed(void)
{
    return S[1].why != 0;
}
static int cond_s3_closed(void)
{
    return S[3].why != 0;
}
static int cond_s4_closed(void)
{
    return S[4].why != 0;
}
static int cond_s5_all(void)
{
    return S[5].n == 16384;
}

static void carries_both_ways_and_ends(void)
{
    int lfd = listener(), wake = -1;
    CHECK(lfd >= 0);
    link_carrier *c = start(path, 1 << 20, &wake);
    CHECK(c != NULL && wake >= 0);
    if (!c || lfd < 0)
        return;
    /* open, both ways */
    uint64_t a = new_id(0, 1);
    CHECK(lc_open(c, a) == 0);
    CHECK(lc_send(c, a, "hello", 5) == 0);
    int fa = accept_one(lfd);
    CHECK(fa >= 0);
    char buf[64];
    CHECK_EQ(far_read(fa, buf, sizeof buf), 5);
    CHECK(!memcmp(buf, "hello", 5));
    CHECK(write(fa, "world", 5) == 5);
    CHECK(drain_until(c, wake, cond_s0_world));
    /* the far side closes after its last bytes: the bytes, then the end */
    uint64_t b = new_id(1, 1);
    lc_open(c, b);
    int fb = accept_one(lfd);
    CHECK(write(fb, "bye", 3) == 3);
    close(fb);
    CHECK(drain_until(c, wake, cond_s1_closed));
    CHECK_EQ(S[1].why, LC_PEER);
    CHECK(S[1].n == 3 && !memcmp(S[1].got, "bye", 3));
    /* closed from this side: the far side reads EOF, no end comes back,
     * and what the old generation is sent goes nowhere */
    CHECK(lc_close(c, a) == 0);
    CHECK_EQ(far_read(fa, buf, sizeof buf), 0);
    close(fa);
    uint64_t a2 = new_id(0, 2); /* the slot again, a new generation */
    lc_open(c, a2);
    CHECK(lc_send(c, a, "late", 4) == 0);
    lc_send(c, a2, "again", 5);
    int fa2 = accept_one(lfd);
    CHECK_EQ(far_read(fa2, buf, sizeof buf), 5);
    CHECK(!memcmp(buf, "again", 5));
    CHECK_EQ(S[0].why, 0);
    /* the links are not in this thread's table: 20 more links add only
     * the 20 accepted far ends here */
    int before = count_fds(), far[20];
    for (int i = 0; i < 20; i++)
        lc_open(c, new_id(10 + (uint32_t)i, 1));
    for (int i = 0; i < 20; i++)
        far[i] = accept_one(lfd);
    if (!BOURSE_TSAN)
        CHECK_EQ(count_fds() - before, 20);
    /* stopped: every far end reads EOF */
    lc_stop(c);
    CHECK_EQ(far_read(fa2, buf, sizeof buf), 0);
    for (int i = 0; i < 20; i++) {
        CHECK(far[i] >= 0);
        CHECK_EQ(far_read(far[i], buf, sizeof buf), 0);
        close(far[i]);
    }
    close(fa2);
    close(lfd);
    close(wake);
    unlink(path);
}

static void unreachable_and_slow(void)
{
    int wake = -1;
    link_carrier *c = start("/nonexistent/lc.sock", 64 * 1024, &wake);
    CHECK(c != NULL);
    if (!c)
        return;
    uint64_t a = new_id(3, 7);
    lc_open(c, a);
    CHECK(drain_until(c, wake, cond_s3_closed));
    CHECK_EQ(S[3].why, LC_UNREACHABLE);
    CHECK(strstr(S[3].detail, "No such file") != NULL);
    lc_stop(c);
    close(wake);

    /* a far side that never reads: past 64 KiB waiting, the link is closed */
    int lfd = listener();
    c = start(path, 64 * 1024, &wake);
    CHECK(lfd >= 0 && c != NULL);
    if (!c || lfd < 0)
        return;
    uint64_t s = new_id(4, 1);
    lc_open(c, s);
    int fs = accept_one(lfd);
    static char chunk[16384];
    for (int i = 0; i < 4096 && !S[4].why; i++) { /* 64 MiB at most, far past any socket buffer */
        lc_send(c, s, chunk, sizeof chunk);
        lc_drain(c, on_rx, on_closed, NULL);
    }
    CHECK(drain_until(c, wake, cond_s4_closed));
    CHECK_EQ(S[4].why, LC_SLOW);
    lc_stop(c);
    close(fs);
    close(lfd);
    close(wake);
    unlink(path);
}

/* While more than up_max bytes wait for this thread, the carrier reads no
 * more; once drained it goes on, and nothing is lost or reordered. */
static void stops_reading_while_behind(void)
{
    int lfd = listener(), wake = -1;
    link_carrier *c = start_up(path, 1 << 20, 1024, &wake);
    CHECK(lfd >= 0 && c != NULL);
    if (!c || lfd < 0)
        return;
    uint64_t a = new_id(5, 1);
    lc_open(c, a);
    int fa = accept_one(lfd);
    static char b1[8192], b2[8192];
    memset(b1, 'a', sizeof b1);
    memset(b2, 'b', sizeof b2);
    CHECK(write(fa, b1, sizeof b1) == (ssize_t)sizeof b1);
    struct pollfd p = {.fd = wake, .events = POLLIN}; /* the carrier read it: 8 KiB wait here */
    CHECK(poll(&p, 1, 20000) == 1);
    CHECK(write(fa, b2, sizeof b2) == (ssize_t)sizeof b2);
    usleep(200000); /* a carrier that read on would have it by now */
    lc_drain(c, on_rx, on_closed, NULL);
    CHECK_EQ(S[5].n, 8192);
    CHECK(drain_until(c, wake, cond_s5_all));
    CHECK(!memcmp(S[5].got, b1, sizeof b1) && !memcmp(S[5].got + 8192, b2, sizeof b2));
    lc_stop(c);
    close(fa);
    close(lfd);
    close(wake);
    unlink(path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lctest.XXXXXX");
    if (!mkdtemp(dir)) {
        printf("FAIL test_linkcarrier: mkdtemp\n");
        return 1;
    }
    RUN(carries_both_ways_and_ends);
    RUN(unreachable_and_slow);
    RUN(stops_reading_while_behind);
    rmdir(dir);
    return CHECK_DONE();
}
