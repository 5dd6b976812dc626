/*
 * soup.h - SoupBinTCP 3.00 framing, as Bourse speaks it (docs/protocol.md).
 *
 * Every packet is a two-byte big-endian length (of what follows it), a
 * one-byte packet type and a payload.  The server sends sequenced data
 * packets whose sequence numbers are implicit (the client counts them), so a
 * client that loses its connection logs in again with the next number it
 * expects and the server replays from there.
 *
 * Bourse keeps the 3.00 packet set and layouts except the Login Request,
 * whose username and password fields are widened (16 and 32 bytes instead
 * of 6 and 10) to hold Bourse's user names.  Nothing here does I/O: the
 * functions cut packets out of a byte buffer and write packets into one.
 */
#ifndef BOURSE_NET_SOUP_H
#define BOURSE_NET_SOUP_H

#include <stddef.h>
#include <stdint.h>

enum soup_type {
    /* both directions */
    SOUP_DEBUG = '+',
    /* server to client */
    SOUP_LOGIN_ACCEPTED = 'A',
    SOUP_LOGIN_REJECTED = 'J',
    SOUP_SEQUENCED = 'S',
    SOUP_SERVER_HEARTBEAT = 'H',
    SOUP_END_OF_SESSION = 'Z',
    /* client to server */
    SOUP_LOGIN_REQUEST = 'L',
    SOUP_UNSEQUENCED = 'U',
    SOUP_CLIENT_HEARTBEAT = 'R',
    SOUP_LOGOUT_REQUEST = 'O',
};

/* Login Rejected reject codes. */
enum { SOUP_REJECT_AUTH = 'A', SOUP_REJECT_SESSION = 'S' };

#define SOUP_USER_LEN 16
#define SOUP_PASSWORD_LEN 32
#define SOUP_SESSION_LEN 10
#define SOUP_SEQ_LEN 20
#define SOUP_LOGIN_LEN (1 + SOUP_USER_LEN + SOUP_PASSWORD_LEN + SOUP_SESSION_LEN + SOUP_SEQ_LEN)
#define SOUP_ACCEPTED_LEN (1 + SOUP_SESSION_LEN + SOUP_SEQ_LEN)
#define SOUP_HEADER 3 /* length and type */

/* A packet cut out of a buffer: its type and payload (pointing into it). */
typedef struct soup_packet {
    uint8_t type;
    const uint8_t *payload;
    size_t len; /* payload bytes, without the type */
} soup_packet;

/*
 * Cut the first packet out of buf[0..n).  Returns its total size (header
 * included) with *p filled, 0 when more bytes are needed, or -1 when the
 * length field is 0 or larger than max_len (the packet type plus payload).
 */
long soup_next(const uint8_t *buf, size_t n, size_t max_len, soup_packet *p);

/* Write a packet header for `payload_len` bytes of payload; returns 3. */
size_t soup_header(uint8_t *buf, uint8_t type, size_t payload_len);

/* A whole packet with no payload (heartbeats, end of session, logout). */
size_t soup_empty(uint8_t *buf, uint8_t type);

/* The login request, parsed (space padding stripped, NUL-terminated). */
typedef struct soup_login {
    char user[SOUP_USER_LEN + 1];
    char password[SOUP_PASSWORD_LEN + 1];
    char session[SOUP_SESSION_LEN + 1];
    uint64_t seq; /* requested sequence number; 0 = only new messages */
} soup_login;

/* Parse a Login Request payload; 0 on success, -1 (with *why) if malformed. */
int soup_login_parse(const soup_packet *p, soup_login *out, const char **why);
/* Write a whole Login Request packet (SOUP_HEADER - 1 + SOUP_LOGIN_LEN bytes). */
size_t soup_login_write(uint8_t *buf, const soup_login *in);
/* Write a whole Login Accepted packet. */
size_t soup_accepted_write(uint8_t *buf, const char *session, uint64_t next_seq);
/* Parse a Login Accepted payload; 0 on success. */
int soup_accepted_parse(const soup_packet *p, char session[SOUP_SESSION_LEN + 1], uint64_t *next_seq);
/* Write a whole Login Rejected packet. */
size_t soup_rejected_write(uint8_t *buf, uint8_t code);

/* Field helpers shared with ouch.c: alphanumeric fields are left-justified
 * and space-padded; numeric text fields are right-justified. */
void soup_put_alpha(uint8_t *dst, size_t width, const char *s, size_t len);
/* Copy a space-padded field into out (width + 1 bytes), returns its length. */
size_t soup_get_alpha(const uint8_t *src, size_t width, char *out);

static inline void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}
static inline uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

#endif
