/*
 * rules.c - the venue rules of shared/spec/replay-v2.md (rules 10 to 16).
 *
 * Real venues protect their markets: an instrument has a tick size, a lot
 * size and fat-finger limits on quantity and notional; incoming prices must
 * lie in a band around a reference price (the last trade, or one set by the
 * operator); order entry on a symbol can be halted, and one user's can be
 * stopped by a kill switch.  This file holds the operator commands that set
 * all of that, and bourse__rules_check(), the one function an incoming order or a
 * replace goes through for the instrument rules.
 *
 * Every setting starts at "no constraint" (tick 1, lot 1, everything else
 * 0 = none), so an engine that is never given a rule answers exactly as
 * version 1 did.  The checks cost a few compares on fields of the
 * instrument, which the order's matching reads anyway: no allocation, no
 * loop, O(1).  Band edges are computed from the reference price at the
 * moment of the check, in integers, rounding inward (the band is never wider
 * than asked for); the products stay below 2^63 since a price is at most
 * 10^10 and a band at most 110,000 / 10,000.
 *
 * The fee rates of rule 16 are set here and applied by wallet.c (holds and
 * settlement) and match.c (which rate an order pays).
 */
#include "internal.h"

void bourse__rules_init(instrument *s)
{
    s->tick = 1;
    s->lot = 1;
    s->checked = 0;
}

/* With every instrument rule at its default, an incoming limit order has
 * nothing to check: match.c then skips the call (the common case costs one
 * byte test). */
void bourse__rules_refresh(instrument *s)
{
    s->checked = s->tick > 1 || s->lot > 1 || s->maxqty || s->maxnotional || s->band;
}

int bourse_band_edges(int64_t r, int64_t b, int64_t *lo, int64_t *hi)
{
    if (b <= 0 || r <= 0 || b > BOURSE_BAND_MAX || r > BOURSE_PRICE_MAX)
        return 0;
    if (b >= 10000) {
        *lo = 1;
    } else {
        int64_t num = r * (10000 - b);
        *lo = (num + 9999) / 10000; /* round up: inward */
    }
    int64_t up = r * (10000 + b) / 10000; /* round down: inward */
    *hi = up > BOURSE_PRICE_MAX ? BOURSE_PRICE_MAX : up;
    return 1;
}

/* The band's edges around the reference price; false when no band is in
 * force (no band set, or no reference price yet). */
static bool band_edges(const instrument *s, int64_t *lo, int64_t *hi)
{
    return s->band && s->ref && bourse_band_edges(s->ref, s->band, lo, hi);
}

int bourse__rules_check(const bourse_engine *e, uint32_t sym, int side, int64_t qty, int64_t *price)
{
    const instrument *s = &e->symbols[sym];
    bool market = *price == BOURSE_MARKET;
    if (s->tick > 1 && !market && *price % s->tick != 0)
        return BOURSE_R_TICK;
    if (s->lot > 1 && qty % s->lot != 0)
        return BOURSE_R_LOT;
    if (s->maxqty && qty > s->maxqty)
        return BOURSE_R_MAX_QTY;
    int64_t lo, hi;
    if (market) {
        if (!band_edges(s, &lo, &hi))
            return BOURSE_R_NO_BAND;
        *price = side == BOURSE_BUY ? hi : lo; /* its protection price */
    } else if (s->band && band_edges(s, &lo, &hi) && (*price < lo || *price > hi)) {
        return BOURSE_R_PRICE_BAND;
    }
    if (s->maxnotional && qty * *price > s->maxnotional)
        return BOURSE_R_MAX_NOTIONAL;
    return 0;
}

/* `rules SYM KEY=VALUE...`: keys not given keep their values.  Values were
 * range-checked by the shell (text.c, record.c); out-of-range ones are
 * ignored here rather than trusted. */
void bourse__rules_set(bourse_engine *e, const bourse_cmd *c)
{
    if (c->symbol >= e->nsymbols)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_UNKNOWN_SYMBOL);
    instrument *s = &e->symbols[c->symbol];
    const int64_t *v = c->set;
    if (v[BOURSE_RULE_TICK] >= 1 && v[BOURSE_RULE_TICK] <= BOURSE_PRICE_MAX)
        s->tick = v[BOURSE_RULE_TICK];
    if (v[BOURSE_RULE_LOT] >= 1 && v[BOURSE_RULE_LOT] <= BOURSE_QTY_MAX)
        s->lot = (uint32_t)v[BOURSE_RULE_LOT];
    if (v[BOURSE_RULE_MAXQTY] >= 0 && v[BOURSE_RULE_MAXQTY] <= BOURSE_QTY_MAX)
        s->maxqty = (uint32_t)v[BOURSE_RULE_MAXQTY];
    if (v[BOURSE_RULE_MAXNOTIONAL] >= 0 && v[BOURSE_RULE_MAXNOTIONAL] <= BOURSE_CASH_MAX)
        s->maxnotional = v[BOURSE_RULE_MAXNOTIONAL];
    if (v[BOURSE_RULE_BAND] >= 0 && v[BOURSE_RULE_BAND] <= BOURSE_BAND_MAX)
        s->band = (uint32_t)v[BOURSE_RULE_BAND];
    if (v[BOURSE_RULE_REF] >= 1 && v[BOURSE_RULE_REF] <= BOURSE_PRICE_MAX)
        s->ref = v[BOURSE_RULE_REF];
    bourse__rules_refresh(s);
    bourse_event ev = {.type = BOURSE_EV_OK, .symbol = c->symbol, .price = s->ref, .qty = s->band};
    emit(e, &ev);
}

/* `fees SYM maker=BPS taker=BPS`: only once the fee account exists, so a
 * fee always has somewhere to go. */
void bourse__fees_set(bourse_engine *e, const bourse_cmd *c)
{
    if (c->symbol >= e->nsymbols)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_UNKNOWN_SYMBOL);
    if (e->fees_user == NIL)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_UNKNOWN_USER);
    instrument *s = &e->symbols[c->symbol];
    int64_t m = c->set[BOURSE_FEE_MAKER], t = c->set[BOURSE_FEE_TAKER];
    if (m >= 0 && m <= BOURSE_FEE_RATE_MAX)
        s->maker = (uint16_t)m;
    if (t >= 0 && t <= BOURSE_FEE_RATE_MAX)
        s->taker = (uint16_t)t;
    bourse__emit_simple(e, BOURSE_EV_OK, 0);
}

void bourse__rules_halt(bourse_engine *e, const bourse_cmd *c, bool halt)
{
    if (c->symbol >= e->nsymbols)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_UNKNOWN_SYMBOL);
    e->symbols[c->symbol].halted = halt;
    bourse_event ev = {.type = BOURSE_EV_OK, .symbol = c->symbol, .side = halt};
    emit(e, &ev);
}

/* The emergency stop: a flag of its own, so that `resumeall` restores each
 * symbol's own halt exactly as it was. */
void bourse__rules_halt_all(bourse_engine *e, bool halt)
{
    e->halted_all = halt;
    bourse_event ev = {.type = BOURSE_EV_OK, .qty = halt};
    emit(e, &ev);
}

/* `block` answers first, then cancels (KILL) in booking order. */
void bourse__rules_block(bourse_engine *e, const bourse_cmd *c, bool block)
{
    if (c->user == BOURSE_NONE)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_UNKNOWN_USER);
    e->users[c->user].blocked = block;
    bourse__emit_simple(e, BOURSE_EV_OK, 0);
    if (block)
        bourse__match_cancel_all(e, c->user, BOURSE_NONE, BOURSE_R_KILL);
}

void bourse__rules_cancel_all(bourse_engine *e, const bourse_cmd *c)
{
    if (c->user == BOURSE_NONE)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_UNKNOWN_USER);
    bool all = c->symbol == BOURSE_NONE && !c->symbol_name.s[0];
    if (!all && c->symbol >= e->nsymbols)
        return bourse__emit_simple(e, BOURSE_EV_ERROR, BOURSE_R_UNKNOWN_SYMBOL);
    bourse__emit_simple(e, BOURSE_EV_OK, 0);
    bourse__match_cancel_all(e, c->user, all ? BOURSE_NONE : c->symbol, BOURSE_R_USER);
}

int bourse_symbol_state_of(const bourse_engine *e, uint32_t symbol, bourse_symbol_state *out)
{
    if (symbol >= e->nsymbols)
        return -1;
    const instrument *s = &e->symbols[symbol];
    *out = (bourse_symbol_state){.tick = s->tick,
                                 .lot = s->lot,
                                 .maxqty = s->maxqty,
                                 .maxnotional = s->maxnotional,
                                 .band = s->band,
                                 .ref = s->ref,
                                 .maker = s->maker,
                                 .taker = s->taker,
                                 .halted = s->halted,
                                 .halted_all = e->halted_all};
    return 0;
}

int bourse_user_blocked(const bourse_engine *e, uint32_t user)
{
    return user < e->nusers ? e->users[user].blocked : -1;
}
