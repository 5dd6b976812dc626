/*
 * echo.c - the bare TCP baseline of `bourse load`: an echo server thread on
 * loopback, and round trips through it measured two ways.  Ping-pong (one
 * 42-byte message in flight on one connection) is the machine's best case;
 * open loop (messages due at start + i/rate over up to 64 connections, each
 * measured from its due time, as the orders are) is the fair comparison for
 * a server under load on a busy machine, since it pays the same wake-ups and
 * the same competition for CPU.
 */
#include "load/echo.h"
#include "net/ouch.h"
#include "net/tcp.h"
#include "util/clock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The echo server: one thread, epoll over every connection, writes back
 * whatever it reads, as a gateway with no work to do would. */
typedef struct echo_srv {
    int lfd, ep, stop;
} echo_srv;

static void *echo_main(void *arg)
{
    echo_srv *e = arg;
    struct epoll_event evs[256];
    uint8_t buf[1 << 16];
    while (!__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE)) {
        int n = epoll_wait(e->ep, evs, 256, 20);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == e->lfd) {
                int c = accept(e->lfd, NULL, NULL);
                if (c >= 0) {
                    int one = 1;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(e->ep, EPOLL_CTL_ADD, c, &ev);
                }
                continue;
            }
            ssize_t k = read(fd, buf, sizeof buf);
            if (k <= 0 || tcp_write_all(fd, buf, (size_t)k) != 0) {
                epoll_ctl(e->ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
            }
        }
    }
    return NULL;
}

void echo_baseline(uint32_t conns, uint64_t rate, hist *pingpong, hist *openloop)
{
    static echo_srv e;
    e.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    e.ep = epoll_create1(EPOLL_CLOEXEC);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (e.lfd < 0 || bind(e.lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(e.lfd, 128) != 0 ||
        getsockname(e.lfd, (struct sockaddr *)&a, &al) != 0)
        return;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = e.lfd};
    epoll_ctl(e.ep, EPOLL_CTL_ADD, e.lfd, &ev);
    pthread_t t;
    pthread_create(&t, NULL, echo_main, &e);
    enum { MSG = 3 + OUCH_ENTER_LEN };
    uint8_t msg[MSG] = {0}, back[MSG];
    int fd = tcp_connect("127.0.0.1", ntohs(a.sin_port), NULL, 0);
    for (int i = 0; fd >= 0 && i < 20000; i++) {
        int64_t t0 = mono_ns();
        if (tcp_write_all(fd, msg, MSG) != 0)
            break;
        size_t got = 0;
        while (got < MSG) {
            ssize_t k = read(fd, back + got, MSG - got);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        if (i >= 1000) /* warm-up */
            hist_record(pingpong, (uint64_t)(mono_ns() - t0));
    }
    if (fd >= 0)
        close(fd);
    uint32_t nc = conns < 64 ? conns : 64;
    int fds[64], ep = epoll_create1(EPOLL_CLOEXEC);
    uint32_t have[64] = {0}, outn[64] = {0};
    static uint8_t in[64][4096], out[64][4096];
    for (uint32_t c = 0; c < nc; c++) {
        fds[c] = tcp_connect("127.0.0.1", ntohs(a.sin_port), NULL, 0);
        struct epoll_event ce = {.events = EPOLLIN, .data.u32 = c};
        if (fds[c] < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fds[c], &ce) != 0)
            nc = c;
    }
    uint64_t total = rate * 2, n = 0, got = 0;
    int64_t start = mono_ns(), end = start + 4000000000LL;
    while (nc && rate && got < total && mono_ns() < end) {
        int64_t now = mono_ns();
        uint64_t due_n = (uint64_t)((double)(now - start) * (double)rate / 1e9) + 1;
        if (due_n > total)
            due_n = total;
        /* Batched per connection, one write each per turn, as `bourse load`
         * sends its orders: a write per message made this baseline the
         * bottleneck (it fell seconds behind at 215,000/s on a slow day). */
        for (; n < due_n && outn[n % nc] + MSG <= sizeof out[0]; n++) {
            int64_t due = start + (int64_t)((double)n * 1e9 / (double)rate);
            memcpy(msg, &due, sizeof due);
            memcpy(out[n % nc] + outn[n % nc], msg, MSG);
            outn[n % nc] += MSG;
        }
        for (uint32_t c = 0; c < nc; c++) {
            if (outn[c] && tcp_write_all(fds[c], out[c], outn[c]) != 0)
                nc = 0;
            outn[c] = 0;
        }
        struct epoll_event evs[64];
        struct timespec ts = {.tv_nsec = 10000};
        int k = epoll_pwait2(ep, evs, 64, &ts, NULL);
        for (int i = 0; i < k; i++) {
            uint32_t c = evs[i].data.u32;
            ssize_t r = read(fds[c], in[c] + have[c], sizeof in[c] - have[c]);
            if (r <= 0)
                continue;
            now = mono_ns(); /* per read, as `bourse load` times its reports */
            have[c] += (uint32_t)r;
            uint32_t off = 0;
            for (; have[c] - off >= MSG; off += MSG, got++) {
                int64_t due;
                memcpy(&due, in[c] + off, sizeof due);
                hist_record(openloop, (uint64_t)(now - due));
            }
            memmove(in[c], in[c] + off, have[c] - off);
            have[c] -= off;
        }
    }
    for (uint32_t c = 0; c < (conns < 64 ? conns : 64); c++)
        if (fds[c] >= 0)
            close(fds[c]);
    close(ep);
    __atomic_store_n(&e.stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    close(e.lfd);
    close(e.ep);
}
