/*
 * oenames.c - the names order entry checks and makes: user names and order
 * ids (bourse.h's names: 1-16 of A-Z a-z 0-9 _ -), symbols, and the order
 * ids the API gives an order that came without one.  Split from oelink.c,
 * whose links use them, to keep that file about the links.
 */
#include "http/orders_int.h"

#include <string.h>

static size_t nlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

void oe_name_set(bourse_name *n, const char *s)
{
    memset(n, 0, sizeof *n);
    memcpy(n->s, s, nlen(s, BOURSE_NAME_LEN));
}

void oe_put_name(hj_w *w, const char *s, size_t max)
{
    hj_string(w, s, nlen(s, max));
}

int oe_id_ok(const char *s, size_t n)
{
    if (!n || n > BOURSE_NAME_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

int oe_symbol_ok(const char *s, size_t n)
{
    if (!n || n > BOURSE_SYMBOL_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
            return 0;
    return 1;
}

/* A fresh order id: "h" and base 36 of a counter that starts at the
 * clock's milliseconds x 1000, so it does not repeat across restarts. */
void oe_new_id(struct oe *o, bourse_name *out)
{
    if (!o->next_id)
        o->next_id = (uint64_t)http_now_ms() * 1000;
    uint64_t v = o->next_id++;
    char b[24], *p = b + sizeof b;
    *--p = 0;
    do
        *--p = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
    while (v /= 36);
    *--p = 'h';
    oe_name_set(out, p);
}
