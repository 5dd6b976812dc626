/*
 * tcp.h - the few socket helpers the clients share (bourse client, load).
 */
#ifndef BOURSE_NET_TCP_H
#define BOURSE_NET_TCP_H

#include "net/soup.h"

#include <stddef.h>
#include <stdint.h>

/* Connect to host:port (IPv4), optionally from source address `from`
 * (NULL: any); blocking unless nonblock.  -1 with errno on failure. */
int tcp_connect(const char *host, uint16_t port, const char *from, int nonblock);

/* Write all of buf to a blocking socket; 0 or -1. */
int tcp_write_all(int fd, const void *buf, size_t n);

/* Log in: send the Login Request and wait (up to timeout_ms) for the answer.
 * Returns 0 with session/next_seq filled, 'A' or 'S' for Login Rejected,
 * -1 on a socket error or timeout. */
int soup_client_login(int fd, const soup_login *l, int timeout_ms, char session[SOUP_SESSION_LEN + 1],
                      uint64_t *next_seq);

#endif
