/*
 * router.h - the API's routes: a method and a path pattern to a handler.
 *
 * A pattern is a path of literal segments and `{name}` segments, each of
 * which takes one non-empty segment of the request's path (at most
 * ROUTE_ARGS of them, each under ROUTE_ARG bytes, only A-Z a-z 0-9 . _ -,
 * so a captured argument never needs escaping).  Routes are tried in the
 * order added; the first whose method and pattern match wins.  When a path
 * matches some pattern but under another method, route_find says so, so
 * the server can answer 405 rather than 404.  Pure code: no I/O, tested by
 * tests/unit/test_http.c.
 */
#ifndef BOURSE_HTTP_ROUTER_H
#define BOURSE_HTTP_ROUTER_H

#include <stddef.h>
#include <stdint.h>

enum { ROUTE_MAX = 96, ROUTE_ARGS = 3, ROUTE_ARG = 64, ROUTE_PATTERN = 96 };

typedef struct route {
    char method[8];
    char pattern[ROUTE_PATTERN];
    uint32_t flags; /* the caller's (auth needed, body limit class, ...) */
    void *handler;  /* the caller's */
} route;

typedef struct router {
    route r[ROUTE_MAX];
    int n;
} router;

typedef struct route_args {
    char v[ROUTE_ARGS][ROUTE_ARG];
    int n;
} route_args;

/* 0, or -1 when the table is full or the pattern malformed. */
int route_add(router *t, const char *method, const char *pattern, uint32_t flags, void *handler);

/* The route for method and path (no query string), with its arguments; or
 * NULL with *other_method set when the path matched under another method. */
const route *route_find(const router *t, const char *method, const char *path, route_args *a,
                        int *other_method);

#endif
