/*
 * book.c - price levels and the queues of orders resting at them.
 *
 * A level holds the orders of one side at one price in a FIFO queue (an
 * intrusive doubly linked list through the order pool), so adding at a level,
 * removing any order and taking the head are O(1).
 *
 * Finding a level by price, and the best one, is the job of each side's
 * price index, in two parts:
 *
 *   the ladder: LADDER slots, one per price step, around the price at which
 *     the side last started from empty (slot LADDER/2).  A level in range is
 *     found, created and removed by direct index, O(1), whatever its distance
 *     from the top; a bitmap of occupied slots with a summary word over it
 *     finds the next best level when the best one empties in a few
 *     instructions.  The step is the symbol's tick when it has one above 1,
 *     else the largest of 0.01, 0.001 and 0.0001 (100, 10, 1 units) that
 *     divides that first price: prices trade on a grid, and the grid of the
 *     first order is the best guess of the others'.
 *   the far levels: any price out of the ladder's range or off its grid, in
 *     an array sorted best-last and found through the level_by_key hash
 *     table.  The best far level is the last element, so emptying it is a
 *     pop; creating or removing one elsewhere moves the elements between it
 *     and the nearer end (whichever part is shorter).
 *
 * A price's part is fixed while the side has any level (the ladder only
 * moves, to the next new level's price, when the side is empty), so the
 * two parts never hold the same price, and walking the side best first
 * merges them (bourse__side_first/next).  A market that drifts away from
 * where its side started keeps working, through the far array: the ladder
 * is a fast path, never a limit.
 *
 * The fast paths (finding a ladder level, the best level, appending an
 * order, the pools' order slots) are inline in internal.h: the matching in
 * match.c calls them on every command, and without LTO a call across files
 * cost more than their bodies.  Here is the rest.
 *
 * Orders and levels come from pools allocated at engine creation; free slots
 * are chained through `next`/`head`, so nothing here calls malloc except the
 * per-side arrays (the ladder's at listing; the far array doubles when a book
 * passes a power of two of far levels).
 */
#include "internal.h"

#include <stdlib.h>

enum { SIDE_INITIAL_LEVELS = 16 };

int bourse__book_side_init(book_side *s, uint32_t cap)
{
    *s = (book_side){.cap = cap ? cap : SIDE_INITIAL_LEVELS, .wbest = -1};
    s->keys = malloc(s->cap * sizeof *s->keys);
    s->levels = malloc(s->cap * sizeof *s->levels);
    s->win = malloc(LADDER * sizeof *s->win); /* read only where `bits` says */
    s->bits = calloc(LADDER / 64, sizeof *s->bits);
    return s->keys && s->levels && s->win && s->bits ? 0 : -1;
}

void bourse__book_side_free(book_side *s)
{
    if (s->keys)
        free(s->keys - s->front);
    if (s->levels)
        free(s->levels - s->front);
    free(s->win);
    free(s->bits);
    s->keys = NULL;
    s->levels = NULL;
    s->win = NULL;
    s->bits = NULL;
    s->front = 0;
}

/* ---- the ladder ---- */

/* The highest occupied slot at or below i, or -1. */
static int32_t win_below(const book_side *s, int32_t i)
{
    if (i < 0)
        return -1;
    uint32_t w = (uint32_t)i >> 6;
    uint64_t m = s->bits[w] & (~0ULL >> (63 - (i & 63)));
    if (m)
        return (int32_t)(w << 6) + 63 - __builtin_clzll(m);
    uint64_t sm = s->summary & ((1ULL << w) - 1);
    if (!sm)
        return -1;
    w = 63 - (uint32_t)__builtin_clzll(sm);
    return (int32_t)(w << 6) + 63 - __builtin_clzll(s->bits[w]);
}

/* Centre an empty side's ladder on the price of its first level. */
static void win_anchor(book_side *s, int64_t tick, int side, int64_t price)
{
    int64_t step = tick > 1 ? tick : price % 100 == 0 ? 100 : price % 10 == 0 ? 10 : 1;
    if (step > UINT32_MAX / LADDER) {
        s->step = 0; /* a tick that coarse: every level is far, and few */
        return;
    }
    s->step = (uint32_t)step;
    s->kbase = side_key(side, price) - (LADDER / 2) * step;
}

uint32_t bourse__side_first(const book_side *s, side_iter *it)
{
    it->s = s;
    it->wi = s->wn ? s->wbest : -1;
    it->fi = s->n;
    return bourse__side_next(it);
}

uint32_t bourse__side_next(side_iter *it)
{
    const book_side *s = it->s;
    if (it->wi >= 0 && (it->fi == 0 || s->kbase + (int64_t)it->wi * s->step > s->keys[it->fi - 1])) {
        uint32_t lv = s->win[it->wi];
        it->wi = win_below(s, it->wi - 1);
        return lv;
    }
    return it->fi ? s->levels[--it->fi] : NIL;
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

/* Double the arrays, with the levels in the middle of the new room: the
 * only place the book allocates (bourse__book_side_room). */
int bourse__side_grow(book_side *s)
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

void bourse__book_prefetch(const bourse_engine *e, uint32_t sym, int side, int64_t price)
{
    const book_side *s = &e->symbols[sym].side[side];
    uint32_t slot;
    if (win_slot(s, side_key(side, price), &slot))
        __builtin_prefetch(&s->win[slot]);
    else
        bourse__u64map_prefetch(&e->level_by_key, level_key(sym, side, price));
}

uint32_t bourse__book_level_find(const bourse_engine *e, uint32_t sym, int side, int64_t price)
{
    const book_side *s = &e->symbols[sym].side[side];
    uint32_t slot;
    if (side_levels(s) == 0)
        return NIL;
    if (win_slot(s, side_key(side, price), &slot))
        return win_has(s, slot) ? s->win[slot] : NIL;
    uint32_t lv = bourse__u64map_get(&e->level_by_key, level_key(sym, side, price));
    return lv == MAP_EMPTY ? NIL : lv;
}

/* bourse__book_level_get() past its fast path: a far level, or a new one. */
uint32_t bourse__level_get_slow(bourse_engine *e, uint32_t sym, int side, int64_t price)
{
    instrument *in = &e->symbols[sym];
    book_side *s = &in->side[side];
    int64_t k = side_key(side, price);
    uint32_t slot, lv;
    if (s->n == 0 && s->wn == 0)
        win_anchor(s, in->tick, side, price);
    bool near = win_slot(s, k, &slot);
    if (near) {
        if (win_has(s, slot))
            return s->win[slot];
    } else {
        lv = bourse__u64map_get(&e->level_by_key, level_key(sym, side, price));
        if (lv != MAP_EMPTY)
            return lv;
        if (s->n == s->cap)
            return NIL;
    }
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
    if (near) {
        s->win[slot] = lv;
        s->bits[slot >> 6] |= 1ULL << (slot & 63);
        s->summary |= 1ULL << (slot >> 6);
        if (s->wn++ == 0 || (int32_t)slot > s->wbest)
            s->wbest = (int32_t)slot;
    } else {
        uint32_t at = side_lower_bound(s, k);
        side_open(s, at);
        s->keys[at] = k;
        s->levels[at] = lv;
        bourse__u64map_put(&e->level_by_key, level_key(sym, side, price), lv);
    }
    e->nlevels++;
    return lv;
}

static void level_remove(bourse_engine *e, uint32_t lv)
{
    level *l = &e->levels[lv];
    book_side *s = &e->symbols[l->symbol].side[l->side];
    int64_t k = side_key(l->side, l->price);
    uint32_t slot;
    if (win_slot(s, k, &slot)) {
        uint64_t *w = &s->bits[slot >> 6];
        *w &= ~(1ULL << (slot & 63));
        if (!*w)
            s->summary &= ~(1ULL << (slot >> 6));
        s->wn--;
        if ((int32_t)slot == s->wbest)
            s->wbest = win_below(s, (int32_t)slot - 1);
    } else {
        if (s->levels[s->n - 1] == lv)
            s->n--; /* the best far level */
        else
            side_close(s, side_lower_bound(s, k));
        bourse__u64map_del(&e->level_by_key, level_key(l->symbol, l->side, l->price));
    }
    l->head = e->levels_free;
    e->levels_free = lv;
    e->nlevels--;
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
