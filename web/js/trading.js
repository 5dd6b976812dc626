/*
 * trading.js - the order ticket and the blotter (open orders, fills).
 *
 * The ticket checks what the page can know before the server does, so a
 * mistake is explained at once and never costs a round trip: the price is a
 * positive decimal on the 0.01 tick, the quantity a positive whole number of
 * shares, and the order fits what the account holds (a buy's price times
 * quantity against available cash, a sell's quantity against available
 * shares).  The server checks all of it again (with the symbol's real rules)
 * and its answer is shown as it comes.
 *
 * Open orders can be canceled (DELETE) or replaced (a new price and
 * quantity: the order gets a new id, API.md); fills arrive live from the
 * private WebSocket.  The small balances table under the ticket is the same
 * data as the Account view's.
 */
import {$, $$, h, fill, say, toast, fmtTime, stateBadge} from "./dom.js";
import {api, why} from "./api.js";
import {state, on, active, loggedIn} from "./state.js";
import {units, fmt, show, qty, TICK, SCALE} from "./decimal.js";
import {refreshOrders, refreshBalances} from "./userdata.js";

let side = "buy", sending = false, editing = null;

export function startTrading() {
    for (const b of $$("#ticket .side"))
        b.addEventListener("click", () => setSide(b.dataset.side));
    for (const id of ["#t-price", "#t-qty", "#t-tif"])
        $(id).addEventListener("input", check);
    $("#ticket").addEventListener("submit", submit);
    for (const b of $$("#blotter-tabs button"))
        b.addEventListener("click", () => {
            for (const o of $$("#blotter-tabs button"))
                o.classList.toggle("on", o === b);
            for (const body of $$(".p-blotter .tab-body"))
                body.hidden = body.dataset.tab !== b.dataset.tab;
        });
    on("pick", ({price, side: s}) => {
        $("#t-price").value = show(price).replace(/,/g, "");
        setSide(s);
        $("#t-qty").focus();
    });
    on("me", () => {
        check();
        renderMiniBalances();
    });
    on("symbol", check);
    on("balances", () => {
        renderMiniBalances();
        check();
    });
    on("orders", renderOrders);
    on("fills", renderFills);
    renderOrders();
    renderFills();
    renderMiniBalances();
    check();
}

function setSide(s) {
    side = s;
    for (const b of $$("#ticket .side"))
        b.classList.toggle("on", b.dataset.side === s);
    check();
}

// What is wrong with the ticket: [message, kind] or null when it can go.
function problems() {
    if (!loggedIn())
        return ["Log in to trade.", "hint"];
    if (!active())
        return ["Your account is not active yet (" + state.me.state + ").", "hint"];
    if (!state.symbol)
        return ["Choose a symbol.", "hint"];
    const sym = state.symbols.find((s) => s.symbol === state.symbol);
    if (sym && sym.halted)
        return [state.symbol + " is halted: no new orders.", ""];
    const ps = $("#t-price").value.trim(), qs = $("#t-qty").value.trim();
    const p = units(ps);
    if (!ps)
        return ["Enter a price.", "hint"];
    if (p === null || p <= 0n)
        return ["Price: a positive number like 101.25.", ""];
    if (p % TICK !== 0n)
        return ["Price must be a multiple of the tick, 0.01.", ""];
    if (!qs)
        return ["Enter a quantity.", "hint"];
    if (!/^\d+$/.test(qs) || BigInt(qs) <= 0n)
        return ["Quantity: a positive whole number of shares.", ""];
    if (BigInt(qs) > 4294967295n)
        return ["Quantity is too large.", ""];
    const q = BigInt(qs);
    if (side === "buy") {
        const cash = state.balances.get("CASH");
        const avail = cash ? units(cash.available) : null;
        if (avail !== null && p * q > avail)
            return ["Not enough cash: this order needs " + fmt(p * q) + ", " + fmt(avail) + " is available.", ""];
    } else {
        const sh = state.balances.get(state.symbol);
        const avail = sh ? units(sh.available) : 0n;
        if (avail !== null && q * SCALE > avail)
            return ["Not enough shares: you have " + fmt(avail, 0) + " " + state.symbol + " available.", ""];
    }
    return null;
}

function check() {
    const p = units($("#t-price").value.trim()), qs = $("#t-qty").value.trim();
    const q = /^\d+$/.test(qs) ? BigInt(qs) : null;
    $("#t-total").textContent = p !== null && q !== null ? fmt(p * q) : "–";
    if (side === "buy") {
        $("#t-avail-l").textContent = "Available cash";
        const c = state.balances.get("CASH");
        $("#t-avail").textContent = c ? show(c.available) : "–";
    } else {
        $("#t-avail-l").textContent = "Available " + (state.symbol || "shares");
        const s = state.balances.get(state.symbol);
        $("#t-avail").textContent = s ? show(s.available, 0) : loggedIn() ? "0" : "–";
    }
    const bad = problems();
    const pv = $("#t-price").value.trim(), qv = $("#t-qty").value.trim();
    $("#t-price").classList.toggle("bad", !!pv && (p === null || p <= 0n || p % TICK !== 0n));
    $("#t-qty").classList.toggle("bad", !!qv && (q === null || q <= 0n));
    say($("#t-msg"), bad ? bad[0] : "", bad ? bad[1] : "");
    const btn = $("#t-submit");
    btn.disabled = !!bad || sending;
    btn.className = "btn btn-block " + (side === "buy" ? "btn-buy" : "btn-sell");
    btn.textContent = (side === "buy" ? "Buy " : "Sell ") + (state.symbol || "");
}

async function submit(e) {
    e.preventDefault();
    check();
    if (problems() || sending)
        return;
    const body = {symbol: state.symbol, side, quantity: Number($("#t-qty").value.trim()),
                  price: $("#t-price").value.trim(), tif: $("#t-tif").value};
    sending = true;
    check();
    try {
        const r = await api("POST", "/orders", body);
        const what = (side === "buy" ? "Buy " : "Sell ") + body.quantity + " " + body.symbol + " @ " + body.price;
        if (r.status === "rejected")
            toast(what + " rejected: " + (r.reason || ""), "bad");
        else
            toast(what + ": " + r.status + (r.filled ? " (" + r.filled + " filled)" : ""), "good");
        say($("#t-msg"), "Order " + r.order_id + " " + r.status + (r.reason ? ": " + r.reason : ""), r.status === "rejected" ? "" : "good");
        refreshOrders();
        refreshBalances();
    } catch (err) {
        toast("Order refused: " + why(err), "bad");
        say($("#t-msg"), why(err));
        sending = false;
        check();
        say($("#t-msg"), why(err));
        return;
    }
    sending = false;
    const keep = $("#t-msg").textContent;
    check();
    if (!$("#t-msg").textContent)
        say($("#t-msg"), keep, "good");
}

function renderMiniBalances() {
    const rows = [...state.balances.values()].map((b) =>
        h("tr", {data: {asset: b.asset}}, h("td", {text: b.asset}), h("td", {class: "num", text: show(b.available, b.asset === "CASH" ? 2 : 0)}),
          h("td", {class: "num", text: show(b.held, b.asset === "CASH" ? 2 : 0)})));
    fill($("#balances-mini tbody"), rows.length ? rows : [h("tr", {}, h("td", {colspan: "3", class: "empty",
        text: loggedIn() ? "No balances yet: deposit from the Account view." : "Log in to see your balances."}))]);
}

function renderOrders() {
    const list = [...state.orders.values()].sort((a, b) => Number(b.time || 0) - Number(a.time || 0));
    $("#n-open").textContent = list.length;
    const rows = list.map((o) => {
        const id = String(o.order_id);
        if (editing === id)
            return editRow(o);
        return h("tr", {data: {id}},
                 h("td", {class: "muted", text: fmtTime(o.time)}), h("td", {text: o.symbol}),
                 h("td", {class: o.side, text: o.side}), h("td", {class: "num", text: show(o.price)}),
                 h("td", {class: "num", text: qty(o.quantity)}), h("td", {class: "num", text: qty(o.filled || 0)}),
                 h("td", {text: (o.tif || "").toUpperCase()}), h("td", {}, stateBadge(o.status || "open")),
                 h("td", {class: "act"},
                   h("button", {type: "button", class: "btn btn-ghost btn-sm", "data-act": "replace", text: "Modify",
                                onclick: () => { editing = id; renderOrders(); }}),
                   h("button", {type: "button", class: "btn btn-no btn-sm", "data-act": "cancel", text: "Cancel",
                                onclick: () => cancel(id)})));
    });
    fill($("#orders tbody"), rows);
    $("#orders-empty").hidden = rows.length > 0;
}

function editRow(o) {
    const id = String(o.order_id);
    const left = Number(o.quantity) - Number(o.filled || 0);
    const qi = h("input", {class: "inline num", value: String(left), inputmode: "numeric", "aria-label": "New quantity"});
    const pi = h("input", {class: "inline num", value: show(o.price).replace(/,/g, ""), inputmode: "decimal", "aria-label": "New price"});
    const save = async () => {
        const p = units(pi.value.trim()), q = pi && /^\d+$/.test(qi.value.trim()) ? Number(qi.value.trim()) : 0;
        pi.classList.toggle("bad", p === null || p <= 0n || p % TICK !== 0n);
        qi.classList.toggle("bad", !(q > 0));
        if (p === null || p <= 0n || p % TICK !== 0n || !(q > 0))
            return toast("Replace: price on the 0.01 tick and a positive whole quantity.", "bad");
        try {
            const r = await api("POST", "/orders/" + encodeURIComponent(id) + "/replace", {quantity: q, price: pi.value.trim()});
            toast("Order " + id + " replaced by " + r.order_id + " (" + r.status + ")", "good");
            editing = null;
            refreshOrders();
            refreshBalances();
        } catch (err) {
            toast("Replace refused: " + why(err), "bad");
        }
    };
    return h("tr", {data: {id}, class: "editing"},
             h("td", {class: "muted", text: fmtTime(o.time)}), h("td", {text: o.symbol}), h("td", {class: o.side, text: o.side}),
             h("td", {}, pi), h("td", {}, qi), h("td", {class: "num", text: qty(o.filled || 0)}),
             h("td", {text: (o.tif || "").toUpperCase()}), h("td", {}, stateBadge("editing")),
             h("td", {class: "act"},
               h("button", {type: "button", class: "btn btn-ok btn-sm", "data-act": "save", text: "Save", onclick: save}),
               h("button", {type: "button", class: "btn btn-ghost btn-sm", text: "Back", onclick: () => { editing = null; renderOrders(); }})));
}

async function cancel(id) {
    try {
        const r = await api("DELETE", "/orders/" + encodeURIComponent(id));
        toast("Order " + id + " canceled (" + r.canceled + " shares)", "good");
        state.orders.delete(id);
        renderOrders();
        refreshBalances();
    } catch (err) {
        toast("Cancel refused: " + why(err), "bad");
    }
}

function renderFills() {
    $("#n-fills").textContent = state.fills.length;
    const rows = state.fills.slice(0, 200).map((f) =>
        h("tr", {data: {order: f.order_id}},
          h("td", {class: "muted", text: fmtTime(f.time)}), h("td", {text: f.symbol}), h("td", {class: f.side, text: f.side}),
          h("td", {class: "num", text: show(f.price)}), h("td", {class: "num", text: qty(f.quantity)}),
          h("td", {text: f.liquidity || ""}), h("td", {class: "num", text: f.fee ? show(f.fee) : "–"}),
          h("td", {class: "muted", text: f.order_id})));
    fill($("#fills tbody"), rows);
    $("#fills-empty").hidden = rows.length > 0;
}
