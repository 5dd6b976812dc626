/*
 * dropcopy.c - the [fix] dropcopy setting: which users each FIX drop copy
 * session covers.  dropcopy.h says the format and why the coverage is kept
 * by user id on the engine thread.
 *
 * The parser is strict because the setting decides who sees whose trades:
 * a name that is not a user name (1-16 of A-Z a-z 0-9 _ -), an empty list
 * after a colon, a drop copy named twice, or too many names is refused at
 * start with the reason, never read as something else.
 */
#include "server/dropcopy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* The next word of [*p, end): its length (0 at the end), *p moved past it;
 * -1: a character no name has. */
static int word(const char **p, const char *end, const char **w, char *err, size_t errlen)
{
    const char *q = skip_space(*p, end);
    *w = q;
    while (q < end && *q != ' ' && *q != '\t') {
        if (!name_char(*q) && *q != '*') {
            snprintf(err, errlen, "dropcopy: '%c' in a name (names are 1-16 of A-Z a-z 0-9 _ -)", *q);
            return -1;
        }
        q++;
    }
    *p = q;
    if (q - *w > BOURSE_NAME_LEN) {
        snprintf(err, errlen, "dropcopy: '%.*s' is longer than %d characters", (int)(q - *w), *w,
                 BOURSE_NAME_LEN);
        return -1;
    }
    return (int)(q - *w);
}

static int add_dc(dropcopy *d, const char *w, int n, char *err, size_t errlen)
{
    if (n == 1 && *w == '*') {
        snprintf(err, errlen, "dropcopy: '*' stands for the users covered, after a colon");
        return -1;
    }
    for (uint32_t i = 0; i < d->n; i++)
        if ((int)strlen(d->dc[i].name) == n && !memcmp(d->dc[i].name, w, (size_t)n)) {
            snprintf(err, errlen, "dropcopy: '%.*s' named twice", n, w);
            return -1;
        }
    if (d->n == FIX_DC_MAX) {
        snprintf(err, errlen, "dropcopy: more than %d drop copy sessions", FIX_DC_MAX);
        return -1;
    }
    memcpy(d->dc[d->n].name, w, (size_t)n);
    d->dc[d->n].name[n] = 0;
    d->dc[d->n].all = 1;
    d->dc[d->n].first = (uint16_t)d->ncover;
    d->n++;
    return 0;
}

/* One entry: "NAME: USER...", "NAME: *", or "NAME [NAME...]" (everyone). */
static int entry(dropcopy *d, const char *p, const char *end, char *err, size_t errlen)
{
    const char *colon = memchr(p, ':', (size_t)(end - p)), *w;
    const char *names_end = colon ? colon : end;
    int n, count = 0;
    while ((n = word(&p, names_end, &w, err, errlen)) > 0) {
        if (colon && count) {
            snprintf(err, errlen, "dropcopy: one drop copy's name before a ':' (entries end with ',')");
            return -1;
        }
        if (add_dc(d, w, n, err, errlen) != 0)
            return -1;
        count++;
    }
    if (n < 0)
        return -1;
    if (!colon)
        return 0;
    if (!count) {
        snprintf(err, errlen, "dropcopy: a ':' without the drop copy's name before it");
        return -1;
    }
    int k = (int)d->n - 1, star = 0, users = 0;
    p = colon + 1;
    while ((n = word(&p, end, &w, err, errlen)) > 0) {
        if (n == 1 && *w == '*') {
            star = 1;
            continue;
        }
        if (d->ncover == FIX_DC_NAMES) {
            snprintf(err, errlen, "dropcopy: more than %d users named", FIX_DC_NAMES);
            return -1;
        }
        memcpy(d->cover[d->ncover], w, (size_t)n);
        d->cover[d->ncover++][n] = 0;
        users++;
    }
    if (n < 0)
        return -1;
    if (star && users) {
        snprintf(err, errlen, "dropcopy: %s: '*' or names, not both", d->dc[k].name);
        return -1;
    }
    if (!star && !users) {
        snprintf(err, errlen, "dropcopy: %s: no users after ':' (name them, or '*' for everyone)",
                 d->dc[k].name);
        return -1;
    }
    d->dc[k].all = (uint8_t)star;
    d->dc[k].ncover = (uint16_t)users;
    d->named |= !star;
    return 0;
}

int dropcopy_parse(const char *spec, dropcopy *out, char *err, size_t errlen)
{
    dropcopy tmp, *d = out ? out : &tmp;
    memset(d, 0, sizeof *d);
    for (const char *p = spec; *p;) {
        const char *end = p + strcspn(p, ",");
        if (entry(d, p, end, err, errlen) != 0)
            return -1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

int dropcopy_find(const dropcopy *d, const char *name)
{
    for (uint32_t i = 0; i < d->n; i++)
        if (!strcmp(d->dc[i].name, name))
            return (int)i;
    return -1;
}

uint8_t dropcopy_mask(const dropcopy *d, const char *user)
{
    uint8_t m = 0;
    for (uint32_t k = 0; k < d->n; k++)
        for (uint32_t i = d->dc[k].first; !d->dc[k].all && i < d->dc[k].first + d->dc[k].ncover; i++)
            if (!strcmp(d->cover[i], user))
                m |= (uint8_t)(1u << k);
    return m;
}

int dropcopy_alloc(dropcopy *d, uint32_t users)
{
    if (!d->named)
        return 0;
    if (!(d->table = calloc(users ? users : 1, sizeof *d->table)))
        return -1;
    d->cap = users;
    return 0;
}

void dropcopy_free(dropcopy *d)
{
    free((void *)d->table);
    d->table = NULL;
    d->cap = d->known = 0;
}

void dropcopy_learn(dropcopy *d, const bourse_engine *e, uint32_t user)
{
    if (user < d->known || user >= d->cap)
        return;
    for (uint32_t i = d->known; i <= user; i++) {
        const bourse_name *n = bourse_user_name(e, i);
        char name[BOURSE_NAME_LEN + 1] = {0};
        if (n)
            memcpy(name, n->s, BOURSE_NAME_LEN);
        atomic_store_explicit(&d->table[i], dropcopy_mask(d, name), memory_order_relaxed);
    }
    d->known = user + 1;
}
