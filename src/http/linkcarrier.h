/*
 * linkcarrier.h - the thread that owns the sockets of the HTTP API's links
 * into the gateway, in a descriptor table of its own (linkcarrier.c says
 * why).  The HTTP thread names a link by a 64-bit id it chooses (a slot
 * below the carrier's size in the low 32 bits, a generation in the high
 * ones), asks for it to be opened, written to and closed, and hears back,
 * when it drains, the bytes each link read and how each ended.
 */
#ifndef BOURSE_HTTP_LINKCARRIER_H
#define BOURSE_HTTP_LINKCARRIER_H

#include <stddef.h>
#include <stdint.h>

typedef struct link_carrier link_carrier;

/* Why a link ended (the carrier's side of it). */
enum {
    LC_PEER = 1,    /* the gateway closed it */
    LC_UNREACHABLE, /* the connect failed (detail: strerror) */
    LC_BROKEN,      /* a read or write failed (detail: strerror) */
    LC_SLOW,        /* more than out_max bytes waited to be sent to it */
};

typedef struct lc_config {
    const char *path; /* the gateway's trusted unix socket */
    uint32_t slots;   /* ids' slots are below this */
    size_t out_max;   /* a link with more unsent bytes is closed (LC_SLOW) */
    size_t up_max;    /* the carrier stops reading while this much waits for the HTTP thread */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} lc_config;

typedef void (*lc_rx_fn)(void *ctx, uint64_t id, const uint8_t *p, size_t n);
typedef void (*lc_closed_fn)(void *ctx, uint64_t id, int why, const char *detail);

/* Start the thread; NULL on failure.  wake_fd: a descriptor of the
 * caller's table that becomes readable when there is something to drain
 * (an eventfd: read 8 bytes to clear it); the caller closes it. */
link_carrier *lc_start(const lc_config *cfg, int *wake_fd);
/* Stop the thread, close every link's socket, free it (NULL is fine). */
void lc_stop(link_carrier *c);

/* From the one thread that uses it (the HTTP thread): 0, or -1 when out
 * of memory (nothing was queued). */
int lc_open(link_carrier *c, uint64_t id);
int lc_send(link_carrier *c, uint64_t id, const void *p, size_t n);
int lc_close(link_carrier *c, uint64_t id); /* no "closed" comes back for it */
/* Everything the carrier said since the last drain, in its order: a link's
 * bytes come before its end. */
void lc_drain(link_carrier *c, lc_rx_fn rx, lc_closed_fn closed, void *ctx);

#endif
