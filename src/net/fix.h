/*
 * fix.h - the FIX 4.4 tag=value codec: cutting messages out of a byte
 * stream, splitting them into fields, and writing them.  No state, no
 * session rules (src/server/proto_fix.c has those), no allocation.
 *
 * Three steps, each distrusting the bytes it is given:
 *
 *   fix_frame  finds where a message ends: it must begin with
 *              "8=FIX.4.4<SOH>9=<digits><SOH>", its BodyLength must end on a
 *              SOH right before "10=<3 digits><SOH>", and the checksum must
 *              be the byte sum mod 256.  A message it cannot even frame (not
 *              FIX.4.4, an unreadable BodyLength, longer than the bound) is
 *              fatal: the stream has no boundaries left to trust.  A message
 *              that frames but whose BodyLength or CheckSum is wrong is
 *              *garbled*: FIX 4.4 says to ignore it (and not count its
 *              sequence number), so fix_frame says how many bytes to skip -
 *              up to the next "8=FIX.4.4<SOH>" - and the session goes on.
 *   fix_parse  splits a framed message into at most FIX_MAX_FIELDS fields
 *              (tag, offset, length into the message; nothing is copied) and
 *              checks what the standard header demands: tags are decimal
 *              without a leading zero, every value is non-empty, 8, 9, 35
 *              come first and in order, 10 last, and no tag appears twice
 *              (no message this venue accepts has a repeating group).  The
 *              first problem is described as FIX's Reject would
 *              (SessionRejectReason, RefTagID, text); the fields up to it
 *              stay readable, so the session can still see MsgSeqNum.
 *   getters    read one field as text, an unsigned integer, a price or a
 *              quantity (decimal, at most 4 significant decimals, as the
 *              core's 1/10,000 units), a character; each says whether the
 *              field is missing or badly formatted.
 *
 * The writer builds a message in the caller's buffer: the body goes after
 * FIX_HEAD_ROOM bytes, and fix_end writes "8=FIX.4.4|9=len|" right before
 * it and the checksum after it, so nothing is moved.  A message that would
 * not fit is cut (fix_end returns 0): the caller's buffer is the bound.
 */
#ifndef BOURSE_NET_FIX_H
#define BOURSE_NET_FIX_H

#include <stddef.h>
#include <stdint.h>

#define FIX_SOH '\001'
#define FIX_BEGIN "FIX.4.4"

enum {
    FIX_MAX_FIELDS = 64,
    FIX_HEAD_ROOM = 24, /* "8=FIX.4.4|9=" (12) + up to 7 digits + SOH */
    FIX_TAIL = 7,       /* "10=ddd|" */
    FIX_TAG_MAX = 99999,
};

/* fix_frame's answers (besides a length > 0: one whole, sound message) */
enum { FIX_MORE = 0, FIX_GARBLED = -1, FIX_FATAL = -2 };

/* SessionRejectReason (373) values this codec and the session use. */
enum {
    FIX_R_INVALID_TAG = 0,
    FIX_R_REQUIRED_MISSING = 1,
    FIX_R_NOT_FOR_TYPE = 2,
    FIX_R_UNDEFINED_TAG = 3,
    FIX_R_NO_VALUE = 4,
    FIX_R_BAD_VALUE = 5,
    FIX_R_BAD_FORMAT = 6,
    FIX_R_COMPID = 9,
    FIX_R_SENDING_TIME = 10,
    FIX_R_BAD_MSGTYPE = 11,
    FIX_R_DUPLICATE = 13,
    FIX_R_ORDER = 14,
    FIX_R_OTHER = 99,
};

typedef struct fix_field {
    uint32_t tag;
    uint32_t off, len; /* the value, in the message */
} fix_field;

typedef struct fix_msg {
    const char *buf;
    uint32_t len;
    uint32_t n;
    fix_field f[FIX_MAX_FIELDS];
} fix_msg;

/* What is wrong with a message, as a Reject (35=3) says it. */
typedef struct fix_error {
    int reason;       /* FIX_R_* */
    uint32_t ref_tag; /* 0 = none */
    const char *text;
} fix_error;

/* Cut one message from p[0..n).  > 0: its length (checked); FIX_MORE;
 * FIX_GARBLED: ignore *skip bytes; FIX_FATAL: close (why says why).  A
 * message is at most max bytes. */
long fix_frame(const char *p, size_t n, size_t max, size_t *skip, const char **why);

/* Split a framed message; 0, or -1 with e filled (m holds the fields read
 * before the problem). */
int fix_parse(const char *p, size_t n, fix_msg *m, fix_error *e);

/* Getters: 0 found and well-formed; -1 missing; -2 bad format or range. */
const char *fix_get(const fix_msg *m, uint32_t tag, size_t *len); /* NULL: missing */
int fix_get_u64(const fix_msg *m, uint32_t tag, uint64_t *v);     /* 0 .. 10^18 */
int fix_get_char(const fix_msg *m, uint32_t tag, char *c);        /* one byte */
/* A decimal of at most 4 significant decimals into 1/10,000 units, at
 * most max (units); a quantity is the same with max_decimals 0. */
int fix_get_decimal(const fix_msg *m, uint32_t tag, int max_decimals, int64_t max, int64_t *v);
/* Whether a value is exactly the string s. */
int fix_is(const fix_msg *m, uint32_t tag, const char *s);

typedef struct fix_writer {
    char *buf;
    size_t cap, pos;
    int full;
} fix_writer;

/* Start a message of MsgType `type` in buf (cap bytes, > FIX_HEAD_ROOM). */
void fix_begin(fix_writer *w, char *buf, size_t cap, const char *type);
void fix_put(fix_writer *w, uint32_t tag, const char *s, size_t len);
/* Decimal digits of v at out (at most 20, no terminator); how many.
 * (snprintf costs more than the rest of a report's ExecID.) */
size_t fix_fmt_u64(char *out, uint64_t v);
void fix_puts(fix_writer *w, uint32_t tag, const char *s);
void fix_put_int(fix_writer *w, uint32_t tag, int64_t v);
/* A price or quantity in 1/10,000 units, in its shortest form. */
void fix_put_decimal(fix_writer *w, uint32_t tag, int64_t v);
/* A UTCTimestamp with milliseconds, from ns since the epoch. */
void fix_put_time(fix_writer *w, uint32_t tag, int64_t ns);
/* Close it: returns its length and sets *start (inside buf); 0 if it did
 * not fit. */
size_t fix_end(fix_writer *w, const char **start);

/* The checksum field's value of p[0..n). */
unsigned fix_checksum(const char *p, size_t n);

#endif
