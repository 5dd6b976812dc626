/*
 * wsclient.h - a minimal WebSocket client (RFC 6455) for the tests and the
 * fan-out benchmark: blocking handshake, masked text frames out, unmasked
 * frames in.  Enough to talk to the feed, not a general client.
 */
#ifndef BOURSE_FEED_WSCLIENT_H
#define BOURSE_FEED_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ws_client {
    int fd;
    uint8_t buf[1 << 17];
    size_t len, used; /* bytes held; bytes of the last message handed out */
} ws_client;

enum { WS_OP_TEXT = 1, WS_OP_BINARY = 2, WS_OP_CLOSE = 8 };

/* Connect and upgrade; 0, or -1 with a reason in err. */
int ws_client_open(ws_client *c, const char *host, int port, char *err, size_t errlen);
void ws_client_close(ws_client *c);
/* Send one frame (text or binary) with this payload; 0 or -1. */
int ws_client_send(ws_client *c, int opcode, const void *p, size_t n);
/* The next message: 1 with *msg and *len set (valid until the next call), 0 on
 * timeout, -1 when closed. */
int ws_client_next(ws_client *c, int timeout_ms, const char **msg, size_t *len);

/* Parse one server frame at buf[0..n): its total size (0: need more, -1:
 * malformed), with opcode and payload. */
long ws_frame(const uint8_t *buf, size_t n, int *opcode, const uint8_t **payload, size_t *plen);
/* Write a masked client frame header+payload into out; returns its size. */
size_t ws_frame_write(uint8_t *out, int opcode, const void *p, size_t n);

#endif
