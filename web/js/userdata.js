/*
 * userdata.js - the logged-in user's own data, kept current.
 *
 * On login (and after every reconnect of the private WebSocket) the REST
 * answers give the whole picture: /me, /balances, /orders?status=open,
 * /fills, /funding.  Between those, the private WebSocket /api/v1/ws pushes
 * each change (API.md, "Private WebSocket"): an order's new state, a fill, a
 * balance, an account decision.  Fetching after the socket is open, not
 * before, means no push can fall in the gap between the two.
 *
 * The server may push only orders and fills (docs/http.md): balances are
 * fetched again after each, and an account or funding decision awaited is
 * polled for every 5 s.
 *
 * A suspended or not-yet-active account has no core user: its orders and
 * balances may answer NOT_ACTIVE, which here simply means "nothing yet".
 */
import {api} from "./api.js";
import {Socket} from "./socket.js";
import {state, emit} from "./state.js";
import {toast, $} from "./dom.js";
import {show} from "./decimal.js";

let socket = null, poll = 0;

export async function loadMe() {
    try {
        state.me = await api("GET", "/me");
    } catch (e) {
        state.me = null;
    }
    emit("me");
    return state.me;
}

export function startUser() {
    if (!socket)
        socket = new Socket("/api/v1/ws", {onopen: refreshAll, onmessage: onPush, dot: $("#pv-status"), protocol: "bourse-user"});
    $("#pv-status").hidden = false;
    socket.start();
    refreshAll();
    // What the private WebSocket may not push (an account decision, a
    // funding decision) is asked for every 5 s while one is awaited.
    clearInterval(poll);
    poll = setInterval(() => {
        if (document.hidden || !state.me)
            return;
        if (state.me.state !== "active")
            loadMe();
        if (state.funding.some((f) => f.state === "pending"))
            refreshFunding().then(refreshBalances);
    }, 5000);
}

export function stopUser() {
    if (socket)
        socket.stop();
    clearInterval(poll);
    $("#pv-status").hidden = true;
    state.balances = new Map();
    state.orders = new Map();
    state.fills = [];
    state.funding = [];
    for (const t of ["balances", "orders", "fills", "funding"])
        emit(t);
}

const quiet = (p, dflt) => p.catch(() => dflt);

export async function refreshAll() {
    if (!state.me)
        return;
    await Promise.all([refreshBalances(), refreshOrders(), refreshFills(), refreshFunding()]);
}

export async function refreshBalances() {
    const list = await quiet(api("GET", "/balances"), null);
    if (list) {
        state.balances = new Map(list.map((b) => [b.asset, b]));
        emit("balances");
    }
}

export async function refreshOrders() {
    const list = await quiet(api("GET", "/orders?status=open"), null);
    if (list) {
        state.orders = new Map(list.filter((o) => o.status === "open" || !o.status).map((o) => [String(o.order_id), o]));
        emit("orders");
    }
}

export async function refreshFills() {
    const list = await quiet(api("GET", "/fills"), null);
    if (list) {
        state.fills = list.slice().sort((a, b) => Number(b.time || 0) - Number(a.time || 0) || 0);
        emit("fills");
    }
}

export async function refreshFunding() {
    const list = await quiet(api("GET", "/funding"), null);
    if (list) {
        state.funding = list;
        emit("funding");
    }
}

function onPush(m) {
    switch (m.type) {
    case "order": {
        const id = String(m.order_id);
        const old = state.orders.get(id) || {};
        const o = Object.assign({}, old, m);
        if (m.status === "open")
            state.orders.set(id, o);
        else
            state.orders.delete(id);
        emit("orders");
        refreshBalances();
        if (m.status === "rejected")
            toast("Order " + id + " rejected: " + (m.reason || ""), "bad");
        break;
    }
    case "fill":
        state.fills.unshift(m);
        emit("fills");
        refreshBalances();
        toast((m.side === "buy" ? "Bought " : "Sold ") + m.quantity + " " + m.symbol + " @ " + show(m.price), "good");
        break;
    case "balance": // every asset as it is now (docs/http.md)
        if (Array.isArray(m.balances))
            state.balances = new Map(m.balances.map((b) => [b.asset, b]));
        else
            state.balances.set(m.asset, {asset: m.asset, available: m.available, held: m.held});
        emit("balances");
        break;
    case "account":
        if (state.me) {
            state.me.state = m.state;
            state.me.kyc = Object.assign({}, state.me.kyc, {state: m.state, reason: m.reason});
            emit("me");
            loadMe().then(refreshAll);
        }
        break;
    case "funding":
        refreshFunding();
        break;
    }
}
