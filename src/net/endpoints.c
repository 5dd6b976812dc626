/*
 * endpoints.c - the list of servers a client goes round (endpoints.h).
 */
#include "net/endpoints.h"
#include "net/tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int endpoints_add_one(endpoints *l, const char *host, int port, const char **why)
{
    if (l->n >= ENDPOINTS_MAX)
        return *why = "too many addresses (at most 16)", -1;
    size_t hl = strlen(host);
    if (!hl || hl >= ENDPOINT_HOST_MAX)
        return *why = "an empty or over-long host", -1;
    if (port < 1 || port > 65535)
        return *why = "a port out of 1-65535", -1;
    memcpy(l->e[l->n].host, host, hl + 1);
    l->e[l->n].port = (uint16_t)port;
    l->n++;
    return 0;
}

int endpoints_add(endpoints *l, const char *list, const char **why)
{
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[ENDPOINT_HOST_MAX + 8];
        if (!len || len >= sizeof item)
            return *why = "an empty or over-long address (HOST:PORT)", -1;
        memcpy(item, p, len);
        item[len] = 0;
        char *colon = strrchr(item, ':'), *e;
        if (!colon)
            return *why = "an address without :PORT", -1;
        *colon = 0;
        errno = 0;
        long port = strtol(colon + 1, &e, 10);
        if (errno || e == colon + 1 || *e)
            return *why = "a port that is not a number", -1;
        if (endpoints_add_one(l, item, (int)port, why) != 0)
            return -1;
        if (!end)
            return 0;
        p = end + 1;
    }
}

void endpoints_next(endpoints *l)
{
    if (l->n)
        l->at = (l->at + 1) % l->n;
}

int endpoints_connect(endpoints *l)
{
    int err = ECONNREFUSED;
    for (int k = 0; k < l->n; k++) {
        const endpoint *e = &l->e[l->at];
        int fd = tcp_connect(e->host, e->port, NULL, 0);
        if (fd >= 0)
            return fd;
        err = errno;
        endpoints_next(l);
    }
    errno = err;
    return -1;
}

int endpoints_wait_ms(endpoints *l)
{
    if (l->tried < l->n) { /* the rest of this round at once */
        l->tried++;
        return 0;
    }
    l->tried = 1;
    if (l->answered && l->fast < ENDPOINTS_FAST_ROUNDS) {
        l->answered = 0;
        l->fast++;
        return 10;
    }
    l->answered = 0;
    l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : 10;
    if (l->backoff_ms > 250)
        l->backoff_ms = 250;
    return l->backoff_ms;
}

void endpoints_answered(endpoints *l)
{
    l->answered = 1;
}

void endpoints_ok(endpoints *l)
{
    l->backoff_ms = 0;
    l->tried = 0;
    l->answered = 0;
    l->fast = 0;
}

const char *endpoints_name(const endpoints *l, char *buf, size_t n)
{
    if (!l->n)
        snprintf(buf, n, "(none)");
    else
        snprintf(buf, n, "%s:%u", l->e[l->at].host, (unsigned)l->e[l->at].port);
    return buf;
}
