/*
 * hashmap.h - open-addressing hash tables with fixed-size keys.
 *
 * Two shapes cover every lookup in the core:
 *   u64map: 64-bit key -> 32-bit value, with deletion (levels, positions,
 *           symbols).  Linear probing with backward-shift deletion, so there
 *           are no tombstones and probe chains never degrade over a long run.
 *   keymap: (32-bit owner, 16-byte name) -> 32-bit value, insert-only but
 *           for a bulk bourse__keymap_retain() (user names; order ids, which stay
 *           taken for the run or, with BOURSE_DAY_IDS, the trading day).
 * Tables are sized at creation and only grow through *_reserve(), which the
 * engine calls outside of apply(); a table never fills past half, so probes
 * stay short.
 */
#ifndef BOURSE_CORE_HASHMAP_H
#define BOURSE_CORE_HASHMAP_H

#include "bourse/bourse.h"

#include <stdbool.h>
#include <stdint.h>

#define MAP_EMPTY UINT32_MAX

typedef struct u64slot {
    uint64_t key;
    uint32_t val; /* value + 1; 0 marks a free slot */
    uint32_t pad_;
} u64slot;

typedef struct u64map {
    u64slot *slots;
    uint32_t mask, n;
} u64map;

typedef struct keyslot {
    uint32_t owner;
    uint32_t val; /* value + 1; 0 marks a free slot */
    bourse_name name;
} keyslot;

typedef struct keymap {
    keyslot *slots;
    uint32_t mask, n;
} keymap;

static inline uint64_t hash_mix(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return x;
}

int bourse__u64map_init(u64map *m, uint32_t expected);
void bourse__u64map_free(u64map *m);
/* Room for `more` further keys without passing half full; -1 on no memory. */
int bourse__u64map_reserve(u64map *m, uint32_t more);
bool bourse__u64map_full(const u64map *m);
uint32_t bourse__u64map_get(const u64map *m, uint64_t key);
void bourse__u64map_put(u64map *m, uint64_t key, uint32_t val); /* key must be absent */
void bourse__u64map_del(u64map *m, uint64_t key);

/* Empty the table, keeping its memory (touched only when it held keys). */
void bourse__u64map_clear(u64map *m);
void bourse__keymap_clear(keymap *m);
int bourse__keymap_init(keymap *m, uint32_t expected);
void bourse__keymap_free(keymap *m);
int bourse__keymap_reserve(keymap *m, uint32_t more);
static inline bool bourse__keymap_full(const keymap *m)
{
    return m->n >= (m->mask + 1) / 2;
}
uint32_t bourse__keymap_get(const keymap *m, uint32_t owner, const bourse_name *name);
/* Keep only the keys for which keep() is true; one pass over the table. */
void bourse__keymap_retain(keymap *m, bool (*keep)(const void *ctx, const keyslot *k), const void *ctx);
void bourse__keymap_put(keymap *m, uint32_t owner, const bourse_name *name, uint32_t val);
/* bourse__keymap_get() that also tells, in *slot, where the key would be put: a
 * later bourse__keymap_put_at() of the same key, with no other put in between,
 * stores it there without searching again. */
uint32_t bourse__keymap_probe(const keymap *m, uint32_t owner, const bourse_name *name, uint32_t *slot);
void bourse__keymap_put_at(keymap *m, uint32_t slot, uint32_t owner, const bourse_name *name, uint32_t val);
/* Start loading the slot where a lookup of the key would begin. */
void bourse__keymap_prefetch(const keymap *m, uint32_t owner, const bourse_name *name);
void bourse__u64map_prefetch(const u64map *m, uint64_t key);

#endif
