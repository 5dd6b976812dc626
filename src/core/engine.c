/*
 * engine.c - the engine's life cycle and the dispatch of commands.
 *
 * bourse_engine_apply() is the entry that changes state (and, for orders,
 * cancels and replaces only, bourse_engine_apply_op(): the same work from a
 * 40-byte bourse_op).  It records where events go, dispatches on the command
 * type and returns; every event is delivered through the caller's callback
 * before it returns.  Orders, cancels and replaces reach match.c as one
 * request (req, internal.h) filled from either entry, so the two cannot
 * answer differently.  Administrative
 * commands (symbol, user, limit, open, close) are handled here; wallet.c,
 * match.c and rules.c (the venue rules of replay-v2.md) do the rest.
 */
#include "internal.h"

#include <stdlib.h>

static const char *const reason_names[BOURSE_R_COUNT_] = {
    [BOURSE_R_NONE] = "",
    [BOURSE_R_UNKNOWN_USER] = "UNKNOWN_USER",
    [BOURSE_R_UNKNOWN_SYMBOL] = "UNKNOWN_SYMBOL",
    [BOURSE_R_UNKNOWN_ORDER] = "UNKNOWN_ORDER",
    [BOURSE_R_DUPLICATE_ID] = "DUPLICATE_ID",
    [BOURSE_R_DUPLICATE_SYMBOL] = "DUPLICATE_SYMBOL",
    [BOURSE_R_DUPLICATE_USER] = "DUPLICATE_USER",
    [BOURSE_R_INSUFFICIENT_CASH] = "INSUFFICIENT_CASH",
    [BOURSE_R_INSUFFICIENT_SHARES] = "INSUFFICIENT_SHARES",
    [BOURSE_R_DAILY_LIMIT] = "DAILY_LIMIT",
    [BOURSE_R_MARKET_CLOSED] = "MARKET_CLOSED",
    [BOURSE_R_OVERFLOW] = "OVERFLOW",
    [BOURSE_R_CAPACITY] = "CAPACITY",
    [BOURSE_R_USER] = "USER",
    [BOURSE_R_IOC] = "IOC",
    [BOURSE_R_FOK] = "FOK",
    [BOURSE_R_SELF_TRADE] = "SELF_TRADE",
    [BOURSE_R_SESSION_END] = "SESSION_END",
    [BOURSE_R_BLOCKED] = "BLOCKED",
    [BOURSE_R_HALTED] = "HALTED",
    [BOURSE_R_TICK] = "TICK",
    [BOURSE_R_LOT] = "LOT",
    [BOURSE_R_MAX_QTY] = "MAX_QTY",
    [BOURSE_R_MAX_NOTIONAL] = "MAX_NOTIONAL",
    [BOURSE_R_PRICE_BAND] = "PRICE_BAND",
    [BOURSE_R_NO_BAND] = "NO_BAND",
    [BOURSE_R_KILL] = "KILL",
};

const char *bourse_reason_name(int reason)
{
    return reason >= 0 && reason < BOURSE_R_COUNT_ ? reason_names[reason] : "?";
}

void bourse__emit_simple(bourse_engine *e, int type, int reason)
{
    bourse_event ev = {.type = (uint8_t)type, .reason = (uint8_t)reason};
    emit(e, &ev);
}

void bourse__emit_order(bourse_engine *e, int type, int reason, uint32_t u, const bourse_name *oid)
{
    bourse_event ev = {.type = (uint8_t)type, .reason = (uint8_t)reason, .user = u, .oid = *oid};
    emit(e, &ev);
}

/*
 * Order ids stay taken for the whole run (or trading day), so the id map
 * deletes only in bulk, at a new day.  An entry names the pool slot the
 * order was booked in; the slot still holds that order only while it is live
 * with the same owner and id, so a finished order needs no update to the map.
 */
uint32_t bourse__idmap_live(const bourse_engine *e, uint32_t u, const bourse_name *oid, uint32_t o)
{
    if (o >= e->orders_cap)
        return NIL;
    const order *ord = &e->orders[o];
    if (ord->live && ord->user == u && memcmp(ord->oid.s, oid->s, BOURSE_NAME_LEN) == 0)
        return o;
    return NIL;
}

uint32_t bourse__idmap_find(const bourse_engine *e, uint32_t u, const bourse_name *oid, bool *used)
{
    uint32_t o = bourse__keymap_get(&e->order_by_id, u, oid);
    *used = o != MAP_EMPTY;
    return bourse__idmap_live(e, u, oid, o);
}

static bool id_is_open(const void *ctx, const keyslot *k)
{
    return bourse__idmap_live(ctx, k->owner, &k->name, k->val - 1) != NIL;
}

/* A new trading day under BOURSE_DAY_IDS: only open orders keep their ids.
 * One pass over the id map, when the market opens rather than mid-session. */
static void forget_finished_ids(bourse_engine *e)
{
    if (e->lim.flags & BOURSE_DAY_IDS)
        bourse__keymap_retain(&e->order_by_id, id_is_open, e);
}

static uint32_t or_default(uint32_t v, uint32_t def)
{
    return v ? v : def;
}

static int grow_array(void **p, uint32_t *cap, size_t size, uint32_t need)
{
    if (need <= *cap)
        return 0;
    uint64_t c = (uint64_t)*cap * 2;
    if (c < need)
        c = need;
    if (c > ID_DONE - 1)
        return -1;
    void *q = bourse__mem_retable(*p, c, size);
    if (!q)
        return -1;
    *p = q;
    *cap = (uint32_t)c;
    return 0;
}

bourse_engine *bourse_engine_new(const bourse_limits *limits)
{
    bourse_limits l = limits ? *limits : (bourse_limits){0};
    l.symbols = or_default(l.symbols, 1024);
    l.users = or_default(l.users, 65536);
    l.orders = or_default(l.orders, 1u << 20);
    l.ids = or_default(l.ids, l.orders * 2);
    l.positions = or_default(l.positions, l.users * 4);
    if (l.orders >= ID_DONE - 1 || l.symbols >= (1u << 28) || (l.flags & ~BOURSE_FLAGS_ALL))
        return NULL;
    bourse_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->lim = l;
    e->symbols_cap = l.symbols;
    e->users_cap = l.users;
    e->positions_cap = l.positions;
    e->orders_cap = e->levels_cap = l.orders;
    e->symbols = bourse__mem_table(l.symbols, sizeof *e->symbols);
    e->users = bourse__mem_table(l.users, sizeof *e->users);
    e->positions = bourse__mem_table(l.positions, sizeof *e->positions);
    e->orders = bourse__mem_table(l.orders, sizeof *e->orders);
    e->levels = bourse__mem_table(l.orders, sizeof *e->levels);
    e->orders_free = e->levels_free = NIL;
    e->day_head = e->day_tail = NIL;
    e->fees_user = NIL;
    e->is_open = true;
    int bad = !e->symbols || !e->users || !e->positions || !e->orders || !e->levels;
    bad |= bourse__u64map_init(&e->symbol_by_name, l.symbols);
    bad |= bourse__u64map_init(&e->position_by_key, l.positions);
    bad |= bourse__u64map_init(&e->level_by_key, l.orders);
    bad |= bourse__keymap_init(&e->user_by_name, l.users);
    bad |= bourse__keymap_init(&e->order_by_id, l.ids);
    if (bad) {
        bourse_engine_free(e);
        return NULL;
    }
    return e;
}

void bourse_engine_free(bourse_engine *e)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < e->nsymbols; i++) {
        bourse__book_side_free(&e->symbols[i].side[0]);
        bourse__book_side_free(&e->symbols[i].side[1]);
    }
    free(e->symbols);
    free(e->users);
    free(e->positions);
    free(e->orders);
    free(e->levels);
    bourse__u64map_free(&e->symbol_by_name);
    bourse__u64map_free(&e->position_by_key);
    bourse__u64map_free(&e->level_by_key);
    bourse__keymap_free(&e->user_by_name);
    bourse__keymap_free(&e->order_by_id);
    bourse__accounts_free(e);
    free(e);
}

void bourse_engine_reset(bourse_engine *e)
{
    for (uint32_t i = 0; i < e->nsymbols; i++) {
        bourse__book_side_free(&e->symbols[i].side[0]);
        bourse__book_side_free(&e->symbols[i].side[1]);
    }
    /* Pool slots are handed out again from the first: only those used are
     * cleared (an order slot's `live` must not outlast the reset). */
    memset(e->orders, 0, (size_t)e->orders_hwm * sizeof *e->orders);
    bourse__u64map_clear(&e->symbol_by_name);
    bourse__u64map_clear(&e->position_by_key);
    bourse__u64map_clear(&e->level_by_key);
    bourse__keymap_clear(&e->user_by_name);
    bourse__keymap_clear(&e->order_by_id);
    bourse__accounts_free(e);
    bourse_engine k = *e;
    memset(e, 0, sizeof *e);
    e->lim = k.lim;
    e->symbols = k.symbols, e->symbols_cap = k.symbols_cap;
    e->users = k.users, e->users_cap = k.users_cap;
    e->positions = k.positions, e->positions_cap = k.positions_cap;
    e->orders = k.orders, e->orders_cap = k.orders_cap;
    e->levels = k.levels, e->levels_cap = k.levels_cap;
    e->symbol_by_name = k.symbol_by_name;
    e->position_by_key = k.position_by_key;
    e->level_by_key = k.level_by_key;
    e->user_by_name = k.user_by_name;
    e->order_by_id = k.order_by_id;
    /* As bourse_engine_new() leaves them. */
    e->orders_free = e->levels_free = NIL;
    e->day_head = e->day_tail = NIL;
    e->fees_user = NIL;
    e->is_open = true;
}

int bourse_engine_reserve(bourse_engine *e)
{
    int bad = 0;
    if (e->nsymbols == e->symbols_cap)
        bad |= grow_array((void **)&e->symbols, &e->symbols_cap, sizeof *e->symbols, e->nsymbols + 1);
    if (e->nusers == e->users_cap)
        bad |= grow_array((void **)&e->users, &e->users_cap, sizeof *e->users, e->nusers + 1);
    /* A buy may open one position; a deposit one more. */
    if (e->npositions + 1 >= e->positions_cap)
        bad |= grow_array((void **)&e->positions, &e->positions_cap, sizeof *e->positions, e->npositions + 2);
    if (!bourse__order_available(e)) {
        uint32_t cap = e->orders_cap;
        bad |= grow_array((void **)&e->orders, &e->orders_cap, sizeof *e->orders, cap + 1);
        bad |= grow_array((void **)&e->levels, &e->levels_cap, sizeof *e->levels, cap + 1);
        if (e->levels_cap != e->orders_cap)
            bad = 1;
    }
    bad |= bourse__u64map_reserve(&e->symbol_by_name, e->symbols_cap - e->symbol_by_name.n);
    bad |= bourse__u64map_reserve(&e->position_by_key, e->positions_cap - e->position_by_key.n);
    bad |= bourse__u64map_reserve(&e->level_by_key, e->levels_cap - e->level_by_key.n);
    bad |= bourse__keymap_reserve(&e->user_by_name, e->users_cap - e->user_by_name.n);
    bad |= bourse__keymap_reserve(&e->order_by_id, 1);
    return bad ? -1 : 0;
}

static uint64_t symbol_key(const bourse_symbol_name *n)
{
    uint64_t k;
    memcpy(&k, n->s, sizeof k);
    return k;
}

uint32_t bourse_symbol_find(const bourse_engine *e, const char *name, size_t len)
{
    bourse_symbol_name n = {{0}};
    if (len > BOURSE_SYMBOL_LEN)
        return BOURSE_NONE;
    memcpy(n.s, name, len);
    uint32_t s = bourse__u64map_get(&e->symbol_by_name, symbol_key(&n));
    return s == MAP_EMPTY ? BOURSE_NONE : s;
}

uint32_t bourse_user_find(const bourse_engine *e, const char *name, size_t len)
{
    bourse_name n = {{0}};
    if (len > BOURSE_NAME_LEN)
        return BOURSE_NONE;
    memcpy(n.s, name, len);
    uint32_t u = bourse__keymap_get(&e->user_by_name, 0, &n);
    return u == MAP_EMPTY ? BOURSE_NONE : u;
}

void bourse_engine_resolve(const bourse_engine *e, bourse_cmd *c)
{
    /* RULES and FEES name no user: their settings fill those bytes. */
    bool settings = c->type == BOURSE_CMD_RULES || c->type == BOURSE_CMD_FEES;
    c->user = settings ? BOURSE_NONE
                       : bourse_user_find(e, c->user_name.s, strnlen(c->user_name.s, BOURSE_NAME_LEN));
    if (memcmp(c->symbol_name.s, "CASH\0\0\0\0", BOURSE_SYMBOL_LEN) == 0)
        c->symbol = BOURSE_CASH;
    else
        c->symbol = bourse_symbol_find(e, c->symbol_name.s, strnlen(c->symbol_name.s, BOURSE_SYMBOL_LEN));
}

const bourse_name *bourse_user_name(const bourse_engine *e, uint32_t user)
{
    return user < e->nusers ? &e->users[user].name : NULL;
}

const bourse_symbol_name *bourse_symbol_name_of(const bourse_engine *e, uint32_t symbol)
{
    return symbol < e->nsymbols ? &e->symbols[symbol].name : NULL;
}

static void add_symbol(bourse_engine *e, const bourse_cmd *c)
{
    uint64_t key = symbol_key(&c->symbol_name);
    if (bourse__u64map_get(&e->symbol_by_name, key) != MAP_EMPTY)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_DUPLICATE_SYMBOL);
    if (e->nsymbols == e->symbols_cap || bourse__u64map_full(&e->symbol_by_name))
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_CAPACITY);
    instrument *s = &e->symbols[e->nsymbols];
    *s = (instrument){.name = c->symbol_name};
    bourse__rules_init(s);
    if (bourse__book_side_init(&s->side[0], 0) != 0 || bourse__book_side_init(&s->side[1], 0) != 0) {
        bourse__book_side_free(&s->side[0]);
        bourse__book_side_free(&s->side[1]);
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_CAPACITY);
    }
    bourse__u64map_put(&e->symbol_by_name, key, e->nsymbols++);
    bourse__emit_simple(e, BOURSE_EV_OK, 0);
}

static void add_user(bourse_engine *e, const bourse_cmd *c)
{
    if (bourse__keymap_get(&e->user_by_name, 0, &c->user_name) != MAP_EMPTY)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_DUPLICATE_USER);
    if (e->nusers == e->users_cap || bourse__keymap_full(&e->user_by_name))
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_CAPACITY);
    e->users[e->nusers] = (account){.name = c->user_name, .positions = NIL, .day = e->day};
    if (memcmp(c->user_name.s, "FEES", 5) == 0 && !c->user_name.s[5])
        e->fees_user = e->nusers; /* the fee account (replay-v2.md, rule 16) */
    bourse__keymap_put(&e->user_by_name, 0, &c->user_name, e->nusers++);
    bourse__emit_simple(e, BOURSE_EV_OK, 0);
}

static void set_limit(bourse_engine *e, const bourse_cmd *c)
{
    if (c->user == BOURSE_NONE)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_UNKNOWN_USER);
    e->users[c->user].limit = c->qty;
    bourse__emit_simple(e, BOURSE_EV_OK, 0);
}

/* A FIX session's mark (bourse.h): only the user is checked; the event
 * carries what the shells number by, and the user's name in oid (a node
 * that numbers the session names its store and its messages by it). */
static void fix_session(bourse_engine *e, const bourse_cmd *c)
{
    if (c->user == BOURSE_NONE || c->user >= e->nusers)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_UNKNOWN_USER);
    bourse_event ev = {.type = BOURSE_EV_OK,
                       .user = c->user,
                       .side = c->side,
                       .qty = c->qty,
                       .price = c->price,
                       .oid = e->users[c->user].name};
    emit(e, &ev);
}

/* `close` answers OK first, then cancels the day orders it ends. */
static void set_session(bourse_engine *e, bool open)
{
    bool was_open = e->is_open;
    e->is_open = open;
    bourse__emit_simple(e, BOURSE_EV_OK, 0);
    if (open && !was_open) {
        e->day++;
        forget_finished_ids(e);
    } else if (!open && was_open)
        bourse__match_close(e);
}

/* An order, cancel or replace of bourse_cmd as match.c reads it: the names
 * stay where they are. */
static void match_cmd(bourse_engine *e, const bourse_cmd *c)
{
    req r = {.user = c->user,
             .symbol = c->symbol,
             .order = c->order,
             .side = c->side,
             .tif = c->tif,
             .qty = c->qty,
             .price = c->price,
             .oid = &c->oid,
             .new_oid = &c->new_oid};
    if (c->type == BOURSE_CMD_ORDER)
        bourse__match_order(e, &r);
    else if (c->type == BOURSE_CMD_CANCEL)
        bourse__match_cancel(e, &r);
    else
        bourse__match_replace(e, &r);
}

void bourse_engine_apply(bourse_engine *e, const bourse_cmd *c, bourse_event_fn fn, void *ctx)
{
    e->cmd = c;
    e->emit_fn = fn;
    e->emit_ctx = ctx;
    e->commands++;
    switch (c->type) {
    case BOURSE_CMD_ORDER:
    case BOURSE_CMD_CANCEL:
    case BOURSE_CMD_REPLACE: match_cmd(e, c); break;
    case BOURSE_CMD_SYMBOL: add_symbol(e, c); break;
    case BOURSE_CMD_USER: add_user(e, c); break;
    case BOURSE_CMD_DEPOSIT: bourse__wallet_deposit(e, c); break;
    case BOURSE_CMD_WITHDRAW: bourse__wallet_withdraw(e, c); break;
    case BOURSE_CMD_LIMIT: set_limit(e, c); break;
    case BOURSE_CMD_OPEN: set_session(e, true); break;
    case BOURSE_CMD_CLOSE: set_session(e, false); break;
    case BOURSE_CMD_BOOK: bourse__match_book(e, c); break;
    case BOURSE_CMD_BALANCE: bourse__wallet_balance(e, c); break;
    case BOURSE_CMD_RULES: bourse__rules_set(e, c); break;
    case BOURSE_CMD_FEES: bourse__fees_set(e, c); break;
    case BOURSE_CMD_HALT: bourse__rules_halt(e, c, true); break;
    case BOURSE_CMD_RESUME: bourse__rules_halt(e, c, false); break;
    case BOURSE_CMD_BLOCK: bourse__rules_block(e, c, true); break;
    case BOURSE_CMD_UNBLOCK: bourse__rules_block(e, c, false); break;
    case BOURSE_CMD_CANCELALL: bourse__rules_cancel_all(e, c); break;
    case BOURSE_CMD_HALTALL: bourse__rules_halt_all(e, true); break;
    case BOURSE_CMD_RESUMEALL: bourse__rules_halt_all(e, false); break;
    case BOURSE_CMD_ACCOUNT: bourse__account_apply(e, c); break;
    case BOURSE_CMD_FIXSESS: fix_session(e, c); break;
    default: break; /* shells validate types; an unknown one changes nothing */
    }
}

/* bourse.h: the packed id's bytes, little-endian, then zeros.  One store
 * where the machine is little-endian (a loop of byte stores was 57
 * instructions per op: gcc 12 did not merge them). */
static bourse_name unpack_oid(uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    bourse_name n = {{0}};
    memcpy(n.s, &v, sizeof v);
    return n;
}

_Static_assert(sizeof(bourse_op) == 40, "bourse_op is the 40 bytes bourse.h promises");

void bourse_engine_apply_op(bourse_engine *e, const bourse_op *op, bourse_event_fn fn, void *ctx)
{
    if (op->type != BOURSE_CMD_ORDER && op->type != BOURSE_CMD_CANCEL && op->type != BOURSE_CMD_REPLACE)
        return;
    e->cmd = NULL; /* the events' cmd (bourse.h) */
    e->emit_fn = fn;
    e->emit_ctx = ctx;
    e->commands++;
    bourse_name id = unpack_oid(op->oid);
    req r = {.user = op->user < e->nusers ? op->user : BOURSE_NONE, /* ids are not resolved here */
             .symbol = op->symbol,
             .order = op->order,
             .by_handle = true,
             .side = op->side,
             .tif = op->tif,
             .qty = op->qty,
             .price = op->price,
             .oid = &id,
             .new_oid = &id};
    if (op->type == BOURSE_CMD_ORDER)
        bourse__match_order(e, &r);
    else if (op->type == BOURSE_CMD_CANCEL)
        bourse__match_cancel(e, &r);
    else
        bourse__match_replace(e, &r);
}

void bourse_engine_query(bourse_engine *e, const bourse_cmd *c, bourse_event_fn fn, void *ctx)
{
    if (c->type != BOURSE_CMD_BOOK && c->type != BOURSE_CMD_BALANCE)
        return;
    uint64_t counted = e->commands;
    bourse_engine_apply(e, c, fn, ctx);
    e->commands = counted; /* a query is no command of the state's history */
}

/* The order a cancel or replace names: its line when the shell gave its
 * handle, else the id map's slot. */
static void prefetch_order(const bourse_engine *e, const bourse_cmd *c)
{
    if (c->order && c->order <= e->orders_cap)
        __builtin_prefetch(&e->orders[c->order - 1]);
    else
        bourse__keymap_prefetch(&e->order_by_id, c->user, &c->oid);
}

/* Only loads: the lines an apply() of c would wait for first. */
void bourse_engine_prefetch(const bourse_engine *e, const bourse_cmd *c)
{
    if (c->user >= e->nusers)
        return;
    __builtin_prefetch(&e->users[c->user]);
    switch (c->type) {
    case BOURSE_CMD_ORDER:
        /* Its share account is cached in the account's line, just asked for. */
        bourse__keymap_prefetch(&e->order_by_id, c->user, &c->oid);
        if (c->symbol < e->nsymbols && c->side <= BOURSE_SELL && c->price > 0 && c->price <= BOURSE_PRICE_MAX)
            bourse__book_prefetch(e, c->symbol, c->side, c->price);
        break;
    case BOURSE_CMD_REPLACE:
        bourse__keymap_prefetch(&e->order_by_id, c->user, &c->new_oid);
        prefetch_order(e, c);
        /* The symbol and side come from the order; a shell that knows the
         * symbol passes it, and both sides' level slots are cheap to ask. */
        if (c->symbol < e->nsymbols && c->price > 0 && c->price <= BOURSE_PRICE_MAX) {
            bourse__book_prefetch(e, c->symbol, BOURSE_BUY, c->price);
            bourse__book_prefetch(e, c->symbol, BOURSE_SELL, c->price);
        }
        break;
    case BOURSE_CMD_CANCEL: prefetch_order(e, c); break;
    default: break;
    }
}

void bourse_engine_prefault(bourse_engine *e)
{
    bourse__mem_touch(e->symbols, (size_t)e->symbols_cap * sizeof *e->symbols);
    bourse__mem_touch(e->users, (size_t)e->users_cap * sizeof *e->users);
    bourse__mem_touch(e->positions, (size_t)e->positions_cap * sizeof *e->positions);
    bourse__mem_touch(e->orders, (size_t)e->orders_cap * sizeof *e->orders);
    bourse__mem_touch(e->levels, (size_t)e->levels_cap * sizeof *e->levels);
    const u64map *u[] = {&e->symbol_by_name, &e->position_by_key, &e->level_by_key};
    for (size_t i = 0; i < sizeof u / sizeof *u; i++)
        bourse__mem_touch(u[i]->slots, ((size_t)u[i]->mask + 1) * sizeof *u[i]->slots);
    const keymap *k[] = {&e->user_by_name, &e->order_by_id};
    for (size_t i = 0; i < sizeof k / sizeof *k; i++)
        bourse__mem_touch(k[i]->slots, ((size_t)k[i]->mask + 1) * sizeof *k[i]->slots);
}

void bourse_engine_stats(const bourse_engine *e, bourse_stats *out)
{
    *out = (bourse_stats){.symbols = e->nsymbols,
                          .users = e->nusers,
                          .open_orders = e->norders,
                          .levels = e->nlevels,
                          .positions = e->npositions,
                          .ids = e->order_by_id.n,
                          .trades = e->trades,
                          .commands = e->commands,
                          .is_open = e->is_open};
}
