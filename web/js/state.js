/*
 * state.js - what the page knows, in one place, and who wants to hear of it.
 *
 * Two sources feed it: the public market-data WebSocket (book, trades,
 * candles of the chosen symbol) and the user's own data (REST answers, then
 * the private WebSocket's pushes).  Panels never call each other: they read
 * `state` and subscribe with on(topic, fn); whoever changes something calls
 * emit(topic).  Topics: "me" (login, account state), "symbol", "symbols",
 * "l1", "l2", "balances", "orders", "fills", "funding".
 */
export const state = {
    me: null,               // {username, email, role, state, kyc:{state, reason}} or null
    symbol: "",
    symbols: [],            // [{symbol, halted}] from /api/v1/symbols, [] when unknown
    l1: null,               // the market-data l1 message of `symbol`
    l2: null,               // the l2 message of `symbol`
    balances: new Map(),    // asset -> {asset, available, held}
    orders: new Map(),      // order_id -> order (open ones)
    fills: [],              // newest first
    funding: [],
};

const subs = new Map();

export function on(topic, fn) {
    if (!subs.has(topic))
        subs.set(topic, []);
    subs.get(topic).push(fn);
}

export function emit(topic, arg) {
    for (const fn of subs.get(topic) || []) {
        try {
            fn(arg);
        } catch (e) {
            console.error("bourse: " + topic + " handler:", e);
        }
    }
}

export const loggedIn = () => !!state.me;
export const active = () => !!state.me && state.me.state === "active";
export const isOperator = () => !!state.me && state.me.role === "operator";
