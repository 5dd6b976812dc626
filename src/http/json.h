/*
 * json.h - the API's JSON: a strict reader of one flat request object and
 * a writer into a fixed buffer.
 *
 * Every request body of the API (docs/openapi.yaml) is one JSON object of
 * strings, integers, booleans and null, so that is all the reader takes:
 * nesting, duplicate keys, bad escapes, invalid UTF-8, control characters and
 * bytes after the object are refused with a short reason.  The input is
 * hostile: no recursion, no allocation, every length bounded.  Typed
 * getters then tell a missing field (MISSING_FIELD) from one of the wrong
 * type or range (BAD_FIELD: a number with a fraction where an integer is
 * wanted, a price sent as a number rather than a decimal string), so each
 * handler validates in a few lines.
 */
#ifndef BOURSE_HTTP_JSON_H
#define BOURSE_HTTP_JSON_H

#include <stddef.h>
#include <stdint.h>

enum { HJ_KEY = 32, HJ_VAL = 256, HJ_PAIRS = 16 };
enum { HJ_STRING = 1, HJ_INT, HJ_NUM, HJ_BOOL, HJ_NULL }; /* HJ_NUM: a fraction or exponent */

typedef struct hj_pair {
    char key[HJ_KEY];
    char val[HJ_VAL]; /* strings unescaped (UTF-8); integers and booleans as written */
    uint16_t len;     /* of val */
    uint8_t type;
} hj_pair;

typedef struct hj_obj {
    hj_pair p[HJ_PAIRS];
    int n;
} hj_obj;

/* Parse s[0..n) as one flat object.  0, or -1 with *why (a static text). */
int hj_parse(const char *s, size_t n, hj_obj *o, const char **why);

/* The getters: 1 found and of the type, 0 absent (or null), -1 present
 * with another type or out of range. */
int hj_str(const hj_obj *o, const char *key, const char **val, size_t *len);
int hj_int(const hj_obj *o, const char *key, int64_t min, int64_t max, int64_t *out);
int hj_bool(const hj_obj *o, const char *key, int *out);
/* A key of o that is not among the NULL-terminated known, or NULL. */
const char *hj_unknown(const hj_obj *o, const char *const *known);

/* Writer: appends into a fixed buffer; once full it stays full (check
 * w.full at the end rather than after each call). */
typedef struct hj_w {
    char *p;
    size_t len, cap;
    int full;
} hj_w;

void hj_raw(hj_w *w, const char *s, size_t n);
void hj_printf(hj_w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string, quoted and escaped. */
void hj_string(hj_w *w, const char *s, size_t n);
/* A 1/10,000 amount as a decimal string: 1012500 -> "101.25". */
void hj_amount(hj_w *w, int64_t v);

/* Parse a decimal string of at most 4 decimals into 1/10,000 units, in
 * [0, max].  0, or -1. */
int hj_parse_amount(const char *s, size_t n, int64_t max, int64_t *out);

#endif
