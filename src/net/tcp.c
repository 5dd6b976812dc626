/*
 * tcp.c - client-side socket helpers (see tcp.h).
 */
#include "net/tcp.h"
#include "util/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int tcp_connect(const char *host, uint16_t port, const char *from, int nonblock)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (from) {
        struct sockaddr_in b = {.sin_family = AF_INET};
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (inet_pton(AF_INET, from, &b.sin_addr) != 1 || bind(fd, (struct sockaddr *)&b, sizeof b) != 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (nonblock)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int tcp_write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            poll(&pf, 1, 1000);
            continue;
        }
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int soup_client_login(int fd, const soup_login *l, int timeout_ms, char session[SOUP_SESSION_LEN + 1],
                      uint64_t *next_seq)
{
    uint8_t buf[128];
    size_t n = soup_login_write(buf, l);
    if (tcp_write_all(fd, buf, n) != 0)
        return -1;
    /* Read exactly one packet: the answer (nothing else comes before it). */
    size_t have = 0;
    int64_t end = mono_ms() + timeout_ms;
    for (;;) {
        soup_packet p;
        long r = soup_next(buf, have, sizeof buf - 2, &p);
        if (r < 0)
            return -1;
        if (r > 0) {
            if (p.type == SOUP_LOGIN_ACCEPTED)
                return soup_accepted_parse(&p, session, next_seq) == 0 ? 0 : -1;
            if (p.type == SOUP_LOGIN_REJECTED && p.len == 1)
                return p.payload[0];
            return -1;
        }
        int left = (int)(end - mono_ms());
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pf, 1, left) <= 0)
            return -1;
        /* read only up to the end of the first packet */
        size_t want = have < 2 ? 2 - have : 2 + (size_t)get_be16(buf) - have;
        if (have + want > sizeof buf)
            return -1;
        ssize_t k = read(fd, buf + have, want);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0)
            return -1;
        have += (size_t)k;
    }
}
