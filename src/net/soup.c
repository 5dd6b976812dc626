/*
 * soup.c - SoupBinTCP packet framing and the login packets (see soup.h).
 *
 * Parsing never trusts the peer: a length field is checked against the
 * caller's maximum before anything is read, and every text field is checked
 * character by character, so a hostile byte stream gets a reason, not a
 * crash.
 */
#include "net/soup.h"

#include <assert.h>
#include <string.h>

long soup_next(const uint8_t *buf, size_t n, size_t max_len, soup_packet *p)
{
    if (n < 2)
        return 0;
    size_t len = get_be16(buf);
    if (len == 0 || len > max_len)
        return -1;
    if (n < 2 + len)
        return 0;
    p->type = buf[2];
    p->payload = buf + 3;
    p->len = len - 1;
    return (long)(2 + len);
}

size_t soup_header(uint8_t *buf, uint8_t type, size_t payload_len)
{
    /* The length field counts the type byte too and has 16 bits: every
     * message Bourse frames is far shorter (OUCH, ITCH: under 100 bytes;
     * a handoff's held bytes are cut at 65,534). */
    assert(payload_len < 0xFFFF);
    put_be16(buf, (uint16_t)(payload_len + 1));
    buf[2] = type;
    return SOUP_HEADER;
}

size_t soup_empty(uint8_t *buf, uint8_t type)
{
    return soup_header(buf, type, 0);
}

void soup_put_alpha(uint8_t *dst, size_t width, const char *s, size_t len)
{
    if (len > width)
        len = width;
    memcpy(dst, s, len);
    memset(dst + len, ' ', width - len);
}

size_t soup_get_alpha(const uint8_t *src, size_t width, char *out)
{
    size_t a = 0, b = width;
    while (a < b && src[a] == ' ')
        a++;
    while (b > a && (src[b - 1] == ' ' || src[b - 1] == 0))
        b--;
    memcpy(out, src + a, b - a);
    out[b - a] = 0;
    return b - a;
}

/* Right-justified, space-padded decimal. */
static void put_numeric(uint8_t *dst, size_t width, uint64_t v)
{
    memset(dst, ' ', width);
    size_t i = width;
    do {
        dst[--i] = (uint8_t)('0' + v % 10);
        v /= 10;
    } while (v && i);
}

static int get_numeric(const uint8_t *src, size_t width, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    while (i < width && src[i] == ' ')
        i++;
    if (i == width) {
        *out = 0; /* all blanks: zero */
        return 0;
    }
    for (; i < width; i++) {
        if (src[i] < '0' || src[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(src[i] - '0');
    }
    *out = v;
    return 0;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

int soup_login_parse(const soup_packet *p, soup_login *out, const char **why)
{
    const uint8_t *b = p->payload;
    if (p->len != SOUP_LOGIN_LEN - 1) {
        *why = "login request of the wrong length";
        return -1;
    }
    soup_get_alpha(b, SOUP_USER_LEN, out->user);
    b += SOUP_USER_LEN;
    soup_get_alpha(b, SOUP_PASSWORD_LEN, out->password);
    b += SOUP_PASSWORD_LEN;
    soup_get_alpha(b, SOUP_SESSION_LEN, out->session);
    b += SOUP_SESSION_LEN;
    if (get_numeric(b, SOUP_SEQ_LEN, &out->seq) != 0) {
        *why = "login request with a bad sequence number";
        return -1;
    }
    if (!printable(out->user) || !printable(out->password) || !printable(out->session)) {
        *why = "login request with a non-printable character";
        return -1;
    }
    return 0;
}

size_t soup_login_write(uint8_t *buf, const soup_login *in)
{
    uint8_t *b = buf + soup_header(buf, SOUP_LOGIN_REQUEST, SOUP_LOGIN_LEN - 1);
    soup_put_alpha(b, SOUP_USER_LEN, in->user, strlen(in->user));
    b += SOUP_USER_LEN;
    soup_put_alpha(b, SOUP_PASSWORD_LEN, in->password, strlen(in->password));
    b += SOUP_PASSWORD_LEN;
    size_t sl = strlen(in->session);
    memset(b, ' ', SOUP_SESSION_LEN);
    memcpy(b + SOUP_SESSION_LEN - (sl > SOUP_SESSION_LEN ? SOUP_SESSION_LEN : sl), in->session,
           sl > SOUP_SESSION_LEN ? SOUP_SESSION_LEN : sl);
    b += SOUP_SESSION_LEN;
    put_numeric(b, SOUP_SEQ_LEN, in->seq);
    return 2 + SOUP_LOGIN_LEN;
}

size_t soup_accepted_write(uint8_t *buf, const char *session, uint64_t next_seq)
{
    uint8_t *b = buf + soup_header(buf, SOUP_LOGIN_ACCEPTED, SOUP_ACCEPTED_LEN - 1);
    size_t sl = strlen(session);
    if (sl > SOUP_SESSION_LEN)
        sl = SOUP_SESSION_LEN;
    memset(b, ' ', SOUP_SESSION_LEN);
    memcpy(b + SOUP_SESSION_LEN - sl, session, sl);
    put_numeric(b + SOUP_SESSION_LEN, SOUP_SEQ_LEN, next_seq);
    return 2 + SOUP_ACCEPTED_LEN;
}

int soup_accepted_parse(const soup_packet *p, char session[SOUP_SESSION_LEN + 1], uint64_t *next_seq)
{
    if (p->len != SOUP_ACCEPTED_LEN - 1)
        return -1;
    soup_get_alpha(p->payload, SOUP_SESSION_LEN, session);
    return get_numeric(p->payload + SOUP_SESSION_LEN, SOUP_SEQ_LEN, next_seq);
}

size_t soup_rejected_write(uint8_t *buf, uint8_t code)
{
    soup_header(buf, SOUP_LOGIN_REJECTED, 1);
    buf[3] = code;
    return 4;
}
