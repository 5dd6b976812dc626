/*
 * book.c - price levels and the queues of orders resting at them.
 *
 * A level holds the orders of one side at one price in a FIFO queue (an
 * intrusive doubly linked list through the order pool), so adding at a level,
 * removing any order and taking the head are O(1).  Levels are found by price
 * in O(1) through the engine's level_by_key hash table.  Each side of a book
 * also keeps its levels in an array sorted best-last: the best price is the
 * last element, and emptying the best level (the common case when trading)
 * is a pop.  Only creating or removing a level away from the top moves array
 * elements, and only those between it and the top.
 *
 * Orders and levels come from pools allocated at engine creation; free slots
 * are chained through `next`/`head`, so nothing here calls malloc except the
 * per-side arrays, which double when a book passes a power of two of levels.
 */
#include "internal.h"

#include <stdlib.h>

enum { SIDE_INITIAL_LEVELS = 16 };

int bourse__book_side_init(book_side *s)
{
    s->n = 0;
    s->cap = SIDE_INITIAL_LEVELS;
    s->front = 0;
    s->keys = malloc(s->cap * sizeof *s->keys);
    s->levels = malloc(s->cap * sizeof *s->levels);
    return s->keys && s->levels ? 0 : -1;
}

void bourse__book_side_free(book_side *s)
{
    if (s->keys)
        free(s->keys - s->front);
    if (s->levels)
        free(s->levels - s->front);
    s->keys = NULL;
    s->levels = NULL;
    s->front = 0;
}

/* Put the n levels `front` slots into the arrays. */
static void side_shift(book_side *s, uint32_t front)
{
    int64_t *k = s->keys - s->front + front;
    uint32_t *l = s->levels - s->front + front;
    memmove(k, s->keys, s->n * sizeof *k);
    memmove(l, s->levels, s->n * sizeof *l);
    s->keys = k, s->levels = l, s->front = front;
}

/* Double the arrays, with the levels in the middle of the new room. */
static int side_grow(book_side *s)
{
    uint32_t cap = s->cap * 2;
    side_shift(s, 0);
    int64_t *k = realloc(s->keys, cap * sizeof *k);
    if (!k)
        return -1;
    s->keys = k;
    uint32_t *l = realloc(s->levels, cap * sizeof *l);
    if (!l)
        return -1;
    s->levels = l;
    s->cap = cap;
    side_shift(s, (cap - s->n) / 2);
    return 0;
}

/* Open a hole at index `at` (0..n) by moving the shorter part outwards. */
static void side_open(book_side *s, uint32_t at)
{
    uint32_t back = s->cap - s->front - s->n;
    if (s->front == 0 && back > 1 && at < s->n / 2)
        side_shift(s, (back + 1) / 2); /* re-centre: worth it when the front part is the short one */
    back = s->cap - s->front - s->n;
    if (s->front > 0 && (at < s->n - at || back == 0)) {
        s->keys--, s->levels--, s->front--;
        memmove(s->keys, s->keys + 1, at * sizeof *s->keys);
        memmove(s->levels, s->levels + 1, at * sizeof *s->levels);
    } else {
        memmove(s->keys + at + 1, s->keys + at, (s->n - at) * sizeof *s->keys);
        memmove(s->levels + at + 1, s->levels + at, (s->n - at) * sizeof *s->levels);
    }
    s->n++;
}

/* Close the hole at index `at` (0..n-1), moving the shorter part inwards. */
static void side_close(book_side *s, uint32_t at)
{
    if (at < s->n - 1 - at) {
        memmove(s->keys + 1, s->keys, at * sizeof *s->keys);
        memmove(s->levels + 1, s->levels, at * sizeof *s->levels);
        s->keys++, s->levels++, s->front++;
    } else {
        memmove(s->keys + at, s->keys + at + 1, (s->n - at - 1) * sizeof *s->keys);
        memmove(s->levels + at, s->levels + at + 1, (s->n - at - 1) * sizeof *s->levels);
    }
    s->n--;
}

/* Index of the first key >= k (keys ascending).  Branch-free: the halving
 * compiles to a conditional move, since a new level's place is as good as
 * random and a mispredicted branch per step cost more than the search. */
static uint32_t side_lower_bound(const book_side *s, int64_t k)
{
    uint32_t n = s->n;
    if (n == 0)
        return 0;
    const int64_t *base = s->keys;
    while (n > 1) {
        uint32_t half = n / 2;
        base = base[half] < k ? base + half : base;
        n -= half;
    }
    return (uint32_t)(base - s->keys) + (*base < k);
}

/* Make sure one more level fits on this side: the only place the book may
 * allocate, doubling the index when a book passes a power of two of levels. */
bool bourse__book_side_room(bourse_engine *e, uint32_t sym, int side)
{
    book_side *s = &e->symbols[sym].side[side];
    return s->n < s->cap || side_grow(s) == 0;
}

uint32_t bourse__book_best(const bourse_engine *e, uint32_t sym, int side)
{
    const book_side *s = &e->symbols[sym].side[side];
    return s->n ? s->levels[s->n - 1] : NIL;
}

/* The level at `price`, created when missing; NIL when out of capacity. */
uint32_t bourse__book_level_get(bourse_engine *e, uint32_t sym, int side, int64_t price)
{
    uint64_t key = level_key(sym, side, price);
    uint32_t lv = bourse__u64map_get(&e->level_by_key, key);
    if (lv != MAP_EMPTY)
        return lv;
    book_side *s = &e->symbols[sym].side[side];
    if (s->n == s->cap)
        return NIL;
    if (e->levels_free != NIL) {
        lv = e->levels_free;
        e->levels_free = e->levels[lv].head;
    } else if (e->levels_hwm < e->levels_cap) {
        lv = e->levels_hwm++;
    } else {
        return NIL;
    }
    level *l = &e->levels[lv];
    *l = (level){.head = NIL, .tail = NIL, .symbol = sym, .price = price, .side = (uint8_t)side};
    int64_t k = side_key(side, price);
    uint32_t at = side_lower_bound(s, k);
    side_open(s, at);
    s->keys[at] = k;
    s->levels[at] = lv;
    bourse__u64map_put(&e->level_by_key, key, lv);
    e->nlevels++;
    return lv;
}

static void level_remove(bourse_engine *e, uint32_t lv)
{
    level *l = &e->levels[lv];
    book_side *s = &e->symbols[l->symbol].side[l->side];
    if (s->levels[s->n - 1] == lv)
        s->n--; /* the best level: the common case when trading */
    else
        side_close(s, side_lower_bound(s, side_key(l->side, l->price)));
    bourse__u64map_del(&e->level_by_key, level_key(l->symbol, l->side, l->price));
    l->head = e->levels_free;
    e->levels_free = lv;
    e->nlevels--;
}

void bourse__book_append(bourse_engine *e, uint32_t lv, uint32_t o)
{
    level *l = &e->levels[lv];
    order *ord = &e->orders[o];
    ord->level = lv;
    ord->next = NIL;
    ord->prev = l->tail;
    if (l->tail != NIL)
        e->orders[l->tail].next = o;
    else
        l->head = o;
    l->tail = o;
    l->count++;
    l->qty += ord->qty;
}

/* Take an order out of its level, removing the level when it empties. */
void bourse__book_unlink(bourse_engine *e, uint32_t o)
{
    order *ord = &e->orders[o];
    level *l = &e->levels[ord->level];
    if (ord->prev != NIL)
        e->orders[ord->prev].next = ord->next;
    else
        l->head = ord->next;
    if (ord->next != NIL)
        e->orders[ord->next].prev = ord->prev;
    else
        l->tail = ord->prev;
    l->count--;
    l->qty -= ord->qty;
    if (l->count == 0)
        level_remove(e, ord->level);
}

bool bourse__order_available(const bourse_engine *e)
{
    return e->orders_free != NIL || e->orders_hwm < e->orders_cap;
}

uint32_t bourse__order_alloc(bourse_engine *e)
{
    uint32_t o = e->orders_free;
    if (o != NIL)
        e->orders_free = e->orders[o].next;
    else if (e->orders_hwm < e->orders_cap)
        o = e->orders_hwm++;
    else
        return NIL;
    e->norders++;
    return o;
}

void bourse__order_release(bourse_engine *e, uint32_t o)
{
    e->orders[o].live = 0;
    e->orders[o].next = e->orders_free;
    e->orders_free = o;
    e->norders--;
}
