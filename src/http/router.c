/*
 * router.c - matching a request's method and path against the route
 * table (router.h).  Linear: a few dozen routes, each compared segment by
 * segment without copying, cost well under a microsecond per request.
 */
#include "http/router.h"

#include <string.h>

int route_add(router *t, const char *method, const char *pattern, uint32_t flags, void *handler)
{
    if (t->n == ROUTE_MAX || strlen(method) >= sizeof t->r[0].method || strlen(pattern) >= ROUTE_PATTERN ||
        pattern[0] != '/')
        return -1;
    route *r = &t->r[t->n++];
    strcpy(r->method, method);
    strcpy(r->pattern, pattern);
    r->flags = flags;
    r->handler = handler;
    return 0;
}

static int arg_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/* Whether path matches pattern, capturing {args}. */
static int match(const char *pattern, const char *path, route_args *a)
{
    const char *p = pattern, *q = path;
    a->n = 0;
    while (*p && *q) {
        if (*p != '/' || *q != '/')
            return 0;
        p++, q++;
        size_t pl = strcspn(p, "/"), ql = strcspn(q, "/");
        if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
            if (!ql || ql >= ROUTE_ARG || a->n == ROUTE_ARGS)
                return 0;
            for (size_t i = 0; i < ql; i++)
                if (!arg_char(q[i]))
                    return 0;
            memcpy(a->v[a->n], q, ql);
            a->v[a->n++][ql] = 0;
        } else if (pl != ql || memcmp(p, q, pl)) {
            return 0;
        }
        p += pl, q += ql;
    }
    return !*p && !*q;
}

const route *route_find(const router *t, const char *method, const char *path, route_args *a,
                        int *other_method)
{
    *other_method = 0;
    for (int i = 0; i < t->n; i++) {
        if (!match(t->r[i].pattern, path, a))
            continue;
        if (!strcmp(t->r[i].method, method))
            return &t->r[i];
        *other_method = 1;
    }
    a->n = 0;
    return NULL;
}
