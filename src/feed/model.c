/*
 * model.c - the feed's books: order and level pools, sorted sides, trades
 * and candles.  See model.h for the design.  Orders are found by reference
 * number through the core's u64map (core/hashmap.h), the one hash table of
 * the tree; the feed grows it with bourse__u64map_reserve() before each insert,
 * since it runs on its own thread where an occasional rehash costs nothing
 * the engine would see.
 */
#include "feed/model.h"

#include "bourse/bourse.h"
#include "bourse/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- pools -------------------------------------------------------------- */

static int grow_array(void **p, uint32_t *cap, size_t size, uint32_t min)
{
    uint32_t n = *cap ? *cap * 2 : min;
    void *q = realloc(*p, (size_t)n * size);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static uint32_t order_alloc(fbook *b)
{
    if (b->order_free != FB_NIL) {
        uint32_t o = b->order_free;
        b->order_free = b->orders[o].next;
        return o;
    }
    if (b->norders == b->order_cap && grow_array((void **)&b->orders, &b->order_cap, sizeof *b->orders, 1024))
        return FB_NIL;
    return b->norders++;
}

static uint32_t level_alloc(fbook *b)
{
    if (b->level_free != FB_NIL) {
        uint32_t l = b->level_free;
        b->level_free = b->levels[l].head;
        return l;
    }
    if (b->nlevels == b->level_cap && grow_array((void **)&b->levels, &b->level_cap, sizeof *b->levels, 256))
        return FB_NIL;
    return b->nlevels++;
}

int fbook_init(fbook *b, uint32_t candle_depth)
{
    memset(b, 0, sizeof *b);
    b->order_free = b->level_free = FB_NIL;
    b->candle_depth = candle_depth ? candle_depth : 256;
    return bourse__u64map_init(&b->by_ref, 1024);
}

void fbook_free(fbook *b)
{
    for (uint32_t s = 0; s < b->nsyms; s++) {
        for (int side = 0; side < 2; side++) {
            free(b->syms[s].side[side].keys);
            free(b->syms[s].side[side].levels);
        }
        for (int i = 0; i < CANDLE_INTERVALS; i++)
            candle_ring_free(&b->syms[s].candles[i]);
    }
    free(b->syms);
    free(b->orders);
    free(b->levels);
    bourse__u64map_free(&b->by_ref);
    memset(b, 0, sizeof *b);
}

uint32_t fbook_symbol_add(fbook *b, const char *name, size_t len)
{
    if (len == 0 || len > 8)
        return FB_NIL;
    if (b->nsyms == b->sym_cap && grow_array((void **)&b->syms, &b->sym_cap, sizeof *b->syms, 16))
        return FB_NIL;
    fb_symbol *s = &b->syms[b->nsyms];
    memset(s, 0, sizeof *s);
    memcpy(s->name, name, len);
    for (int i = 0; i < CANDLE_INTERVALS; i++)
        if (candle_ring_init(&s->candles[i], b->candle_depth) < 0) {
            while (i-- > 0)
                candle_ring_free(&s->candles[i]);
            return FB_NIL;
        }
    return b->nsyms++;
}

uint32_t fbook_symbol_find(const fbook *b, const char *name)
{
    for (uint32_t s = 0; s < b->nsyms; s++)
        if (!strcmp(b->syms[s].name, name))
            return s;
    return FB_NIL;
}

uint32_t fbook_find(const fbook *b, uint64_t ref)
{
    return bourse__u64map_get(&b->by_ref, ref); /* MAP_EMPTY is FB_NIL */
}

/* ---- sides -------------------------------------------------------------- */

static int64_t side_key(int side, int64_t price)
{
    return side == BOURSE_BUY ? price : -price;
}

/* Position of key in the side: the index where it is or would go.
 * Branch-free (the halving compiles to a conditional move): the prices a
 * feed looks up are unpredictable, and the mispredicted branches of a plain
 * binary search were the publisher's biggest single cost. */
static uint32_t side_search(const fb_side *s, int64_t key)
{
    const int64_t *base = s->keys;
    uint32_t n = s->n;
    while (n > 1) {
        uint32_t half = n / 2;
        base = base[half] < key ? base + half : base;
        n -= half;
    }
    return (uint32_t)(base - s->keys) + (n == 1 && *base < key);
}

static uint32_t level_get(fbook *b, uint32_t sym, int side, int64_t price)
{
    fb_side *s = &b->syms[sym].side[side];
    int64_t key = side_key(side, price);
    uint32_t i = side_search(s, key);
    if (i < s->n && s->keys[i] == key) {
        if (b->levels[s->levels[i]].count == 0)
            s->empty--;
        return s->levels[i];
    }
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 16;
        int64_t *k = realloc(s->keys, cap * sizeof *k);
        if (!k)
            return FB_NIL;
        s->keys = k;
        uint32_t *l = realloc(s->levels, cap * sizeof *l);
        if (!l)
            return FB_NIL;
        s->levels = l;
        s->cap = cap;
    }
    uint32_t lv = level_alloc(b);
    if (lv == FB_NIL)
        return FB_NIL;
    memmove(s->keys + i + 1, s->keys + i, (s->n - i) * sizeof *s->keys);
    memmove(s->levels + i + 1, s->levels + i, (s->n - i) * sizeof *s->levels);
    s->keys[i] = key;
    s->levels[i] = lv;
    s->n++;
    b->levels[lv] = (fb_level){.price = price, .head = FB_NIL, .tail = FB_NIL};
    return lv;
}

/* A level lost its last order: leave it, unless empties have piled up. */
static void level_emptied(fbook *b, uint32_t sym, int side)
{
    fb_side *s = &b->syms[sym].side[side];
    if (++s->empty <= 16 || s->empty * 2 <= s->n)
        return;
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t lv = s->levels[i];
        if (b->levels[lv].count) {
            s->keys[k] = s->keys[i];
            s->levels[k++] = lv;
        } else {
            b->levels[lv].head = b->level_free;
            b->level_free = lv;
        }
    }
    s->n = k;
    s->empty = 0;
}

const fb_level *fbook_next(const fbook *b, uint32_t sym, int side, uint32_t *pos)
{
    if (sym >= b->nsyms)
        return NULL;
    const fb_side *s = &b->syms[sym].side[side];
    while (*pos < s->n) {
        const fb_level *l = &b->levels[s->levels[s->n - 1 - (*pos)++]];
        if (l->count)
            return l;
    }
    return NULL;
}

const fb_level *fbook_best(const fbook *b, uint32_t sym, int side)
{
    uint32_t pos = 0;
    return fbook_next(b, sym, side, &pos);
}

/* ---- orders ------------------------------------------------------------- */

uint32_t fbook_add(fbook *b, uint64_t ref, uint32_t sym, int side, uint32_t qty, int64_t price)
{
    if (sym >= b->nsyms || (side != BOURSE_BUY && side != BOURSE_SELL) || qty == 0 || price <= 0 ||
        (!b->refs_unindexed && fbook_find(b, ref) != FB_NIL))
        return FB_NIL;
    uint32_t o = order_alloc(b);
    if (o == FB_NIL)
        return FB_NIL;
    uint32_t lv = level_get(b, sym, side, price);
    if (lv == FB_NIL || (!b->refs_unindexed && bourse__u64map_reserve(&b->by_ref, 1) < 0)) {
        if (lv != FB_NIL && b->levels[lv].count == 0)
            level_emptied(b, sym, side);
        b->orders[o].next = b->order_free;
        b->order_free = o;
        return FB_NIL;
    }
    fb_level *l = &b->levels[lv];
    b->orders[o] = (fb_order){.ref = ref,
                              .price = price,
                              .qty = qty,
                              .sym = sym,
                              .level = lv,
                              .next = FB_NIL,
                              .prev = l->tail,
                              .side = (uint8_t)side};
    if (l->tail != FB_NIL)
        b->orders[l->tail].next = o;
    else
        l->head = o;
    l->tail = o;
    l->count++;
    l->qty += qty;
    if (!b->refs_unindexed)
        bourse__u64map_put(&b->by_ref, ref, o); /* absent (checked above), room reserved */
    b->open_orders++;
    b->syms[sym].book_ver++;
    return o;
}

void fbook_delete(fbook *b, uint32_t o)
{
    fb_order *ord = &b->orders[o];
    fb_level *l = &b->levels[ord->level];
    if (ord->prev != FB_NIL)
        b->orders[ord->prev].next = ord->next;
    else
        l->head = ord->next;
    if (ord->next != FB_NIL)
        b->orders[ord->next].prev = ord->prev;
    else
        l->tail = ord->prev;
    l->count--;
    l->qty -= ord->qty;
    if (l->count == 0) {
        l->head = l->tail = FB_NIL;
        level_emptied(b, ord->sym, ord->side);
    }
    if (!b->refs_unindexed) {
        bourse__u64map_del(&b->by_ref, ord->ref);
    }
    b->syms[ord->sym].book_ver++;
    b->open_orders--;
    ord->next = b->order_free;
    b->order_free = o;
}

void fbook_reduce(fbook *b, uint32_t o, uint32_t qty)
{
    fb_order *ord = &b->orders[o];
    if (qty >= ord->qty)
        return fbook_delete(b, o);
    ord->qty -= qty;
    b->levels[ord->level].qty -= qty;
    b->syms[ord->sym].book_ver++;
}

/* ---- trades ------------------------------------------------------------- */

void fbook_trade(fbook *b, uint32_t sym, int64_t ts, int64_t price, int64_t qty, int aggressor)
{
    fb_symbol *s = &b->syms[sym];
    s->last_price = price;
    s->last_qty = qty;
    s->last_side = (uint8_t)aggressor;
    s->last_ts = ts;
    s->volume += qty;
    s->trades++;
    s->trade_ver++;
    for (int i = 0; i < CANDLE_INTERVALS; i++)
        candle_ring_trade(&s->candles[i], i, ts, price, qty);
}

void fbook_new_session(fbook *b)
{
    for (uint32_t s = 0; s < b->nsyms; s++) {
        b->syms[s].volume = 0;
        b->syms[s].trades = 0;
        b->syms[s].trade_ver++;
    }
}

size_t fbook_format_levels(const fbook *b, uint32_t sym, char *buf, size_t cap)
{
    size_t len = 0;
    char line[BOURSE_TEXT_LINE_MAX];
    if (cap)
        buf[0] = 0;
    if (sym >= b->nsyms)
        return 0;
    for (int side = BOURSE_BUY; side <= BOURSE_SELL; side++) {
        const fb_level *l;
        for (uint32_t pos = 0; (l = fbook_next(b, sym, side, &pos));) {
            char price[32];
            price[bourse_text_decimal(l->price, price)] = 0;
            int n = snprintf(line, sizeof line, "LEVEL %s %s %s %lld %u\n", b->syms[sym].name,
                             side == BOURSE_BUY ? "BID" : "ASK", price, (long long)l->qty, l->count);
            if (len + (size_t)n < cap)
                memcpy(buf + len, line, (size_t)n + 1);
            len += (size_t)n;
        }
    }
    return len;
}
