/*
 * wsclient.c - the minimal WebSocket client of wsclient.h.
 */
#include "feed/wsclient.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

long ws_frame(const uint8_t *buf, size_t n, int *opcode, const uint8_t **payload, size_t *plen)
{
    if (n < 2)
        return 0;
    size_t hdr = 2;
    uint64_t len = buf[1] & 0x7f;
    if (buf[1] & 0x80)
        return -1; /* servers never mask */
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)buf[2] << 8 | buf[3];
        hdr = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | buf[2 + i];
        hdr = 10;
        if (len > (1u << 30))
            return -1;
    }
    if (n < hdr + len)
        return 0;
    *opcode = buf[0] & 0x0f;
    *payload = buf + hdr;
    *plen = (size_t)len;
    return (long)(hdr + len);
}

size_t ws_frame_write(uint8_t *out, int opcode, const void *p, size_t n)
{
    static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
    size_t h = 0;
    out[h++] = (uint8_t)(0x80 | opcode);
    if (n < 126) {
        out[h++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(n >> 8);
        out[h++] = (uint8_t)n;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    memcpy(out + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        out[h + i] = ((const uint8_t *)p)[i] ^ mask[i % 4];
    return h + n;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int ws_client_open(ws_client *c, const char *host, int port, char *err, size_t errlen)
{
    c->fd = -1;
    c->len = c->used = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0) {
        snprintf(err, errlen, "cannot resolve %s", host);
        return -1;
    }
    for (struct addrinfo *a = ai; a && c->fd < 0; a = a->ai_next) {
        c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (c->fd >= 0 && connect(c->fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(c->fd);
            c->fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (c->fd < 0) {
        snprintf(err, errlen, "cannot connect to %s port %d", host, port);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     host, port);
    if (write_all(c->fd, req, (size_t)n) < 0)
        goto fail;
    for (;;) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        if (poll(&pfd, 1, 5000) <= 0)
            goto fail;
        ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
        if (r <= 0)
            goto fail;
        c->len += (size_t)r;
        c->buf[c->len] = 0;
        char *end = strstr((char *)c->buf, "\r\n\r\n");
        if (!end)
            continue;
        if (strncmp((char *)c->buf, "HTTP/1.1 101", 12) != 0)
            goto fail;
        size_t hl = (size_t)(end + 4 - (char *)c->buf);
        memmove(c->buf, c->buf + hl, c->len - hl);
        c->len -= hl;
        return 0;
    }
fail:
    snprintf(err, errlen, "WebSocket handshake with %s port %d failed", host, port);
    close(c->fd);
    c->fd = -1;
    return -1;
}

void ws_client_close(ws_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

int ws_client_send(ws_client *c, int opcode, const void *p, size_t n)
{
    static uint8_t out[(1 << 16) + 16];
    if (n > 1 << 16)
        return -1;
    return write_all(c->fd, out, ws_frame_write(out, opcode, p, n));
}

int ws_client_next(ws_client *c, int timeout_ms, const char **msg, size_t *len)
{
    memmove(c->buf, c->buf + c->used, c->len - c->used);
    c->len -= c->used;
    c->used = 0;
    for (;;) {
        int op;
        const uint8_t *p;
        size_t pl;
        long n = ws_frame(c->buf, c->len, &op, &p, &pl);
        if (n < 0)
            return -1;
        if (n > 0) {
            c->used = (size_t)n;
            if (op == WS_OP_CLOSE)
                return -1;
            *msg = (const char *)p;
            *len = pl;
            return 1;
        }
        if (c->len == sizeof c->buf)
            return -1;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int rc = poll(&pfd, 1, timeout_ms);
        if (rc == 0)
            return 0;
        if (rc < 0)
            return -1;
        ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
    }
}
