/*
 * market.js - the public market data of the chosen symbol: the ticker strip,
 * the order book ladder, the depth chart and the trades tape.
 *
 * One WebSocket to "/" (docs/protocol.md, "WebSocket feed") carries the
 * channels l1, l2 (depth 20), trades and candles of one symbol; changing
 * symbol or candle interval unsubscribes the old channels and subscribes the
 * new ones.  Every subscribe is answered by a snapshot, so a reconnect simply
 * subscribes again and the panels are whole at once.  Candles are handed on
 * to chart.js through the "candles" topic.
 *
 * The ladder shows asks above and bids below the spread, each row with a bar
 * as wide as its size against the largest level shown; a click on a row puts
 * its price in the ticket (an ask: buy, a bid: sell), as on a desk.  The depth
 * chart draws the cumulative size against price on a canvas at the device's
 * pixel ratio.
 */
import {$, h, fill, fmtTime} from "./dom.js";
import {Socket} from "./socket.js";
import {state, on, emit} from "./state.js";
import {units, fmt, show, qty} from "./decimal.js";

const DEPTH = 20;
let feed, sub = null, interval = "1m", lastPrice = null, tape = [];

export function startMarket() {
    feed = new Socket("/", {onopen: resubscribe, onmessage: onFeed, dot: $("#md-status")});
    feed.start();
    on("symbol", resubscribe);
    on("orders", () => renderLadder());
    on("symbols", renderTicker);
    new ResizeObserver(() => drawDepth()).observe($("#depth"));
    $$intervals();
}

function $$intervals() {
    for (const b of document.querySelectorAll("#intervals button"))
        b.addEventListener("click", () => {
            for (const o of document.querySelectorAll("#intervals button"))
                o.classList.toggle("on", o === b);
            interval = b.dataset.iv;
            resubscribe();
        });
}

export const currentInterval = () => interval;

function resubscribe() {
    if (!feed || !feed.live || !state.symbol)
        return;
    if (sub) {
        for (const ch of ["l1", "l2", "trades"])
            feed.send({op: "unsubscribe", channel: ch, symbol: sub.symbol});
        feed.send({op: "unsubscribe", channel: "candles", symbol: sub.symbol, interval: sub.interval});
    }
    sub = {symbol: state.symbol, interval};
    state.l1 = state.l2 = null;
    tape = [];
    lastPrice = null;
    renderTicker();
    renderLadder();
    fill($("#tape"), []);
    emit("candles", {reset: true, interval});
    feed.send({op: "subscribe", channel: "l1", symbol: sub.symbol});
    feed.send({op: "subscribe", channel: "l2", symbol: sub.symbol, depth: DEPTH});
    feed.send({op: "subscribe", channel: "trades", symbol: sub.symbol});
    feed.send({op: "subscribe", channel: "candles", symbol: sub.symbol, interval});
}

function onFeed(m) {
    if (m.type === "error") {
        console.warn("bourse market data:", m.error);
        if (/symbol/.test(m.error || ""))
            $("#ladder-mid").textContent = "unknown symbol " + state.symbol;
        return;
    }
    if (!sub || (m.symbol && m.symbol !== sub.symbol))
        return;
    switch (m.type) {
    case "l1":
        state.l1 = m;
        renderTicker();
        emit("l1");
        break;
    case "l2":
        state.l2 = m;
        renderLadder();
        drawDepth();
        emit("l2");
        break;
    case "trades":
        onTrades(m);
        break;
    case "candles":
        if (m.interval === sub.interval)
            emit("candles", m);
        break;
    }
}

function renderTicker() {
    const m = state.l1 || {};
    const last = $("#tk-last");
    const lp = units(m.last);
    last.textContent = m.last ? show(m.last) : "–";
    last.classList.toggle("up", lastPrice !== null && lp !== null && lp > lastPrice);
    last.classList.toggle("down", lastPrice !== null && lp !== null && lp < lastPrice);
    if (lp !== null)
        lastPrice = lp;
    $("#tk-bid").textContent = m.bid ? show(m.bid) + " × " + qty(m.bid_qty) : "–";
    $("#tk-ask").textContent = m.ask ? show(m.ask) + " × " + qty(m.ask_qty) : "–";
    const b = units(m.bid), a = units(m.ask);
    $("#tk-spread").textContent = b !== null && a !== null ? fmt(a - b) : "–";
    $("#tk-vol").textContent = m.volume !== undefined ? qty(m.volume) : "–";
    $("#tk-trades").textContent = m.trades !== undefined ? qty(m.trades) : "–";
    const sym = state.symbols.find((s) => s.symbol === state.symbol);
    $("#tk-halt").hidden = !(sym && sym.halted);
    document.title = (m.last ? show(m.last) + " " : "") + (state.symbol || "") + " · Bourse";
}

function myPrices() {
    const mine = new Set();
    for (const o of state.orders.values())
        if (o.symbol === state.symbol)
            mine.add(o.side + ":" + units(o.price));
    return mine;
}

function renderLadder() {
    const l2 = state.l2 || {bids: [], asks: []};
    const mine = myPrices();
    let max = 1;
    for (const lv of l2.bids.concat(l2.asks))
        max = Math.max(max, lv[1]);
    const row = (lv, cls, cum) => {
        const side = cls === "a" ? "sell" : "buy";
        const r = h("div", {class: "lrow " + cls + (mine.has(side + ":" + units(lv[0])) ? " mine" : ""),
                            title: lv[2] + " order" + (lv[2] === 1 ? "" : "s"), data: {price: lv[0]}},
                    h("span", {class: cls === "a" ? "ask" : "bid", text: show(lv[0])}),
                    h("span", {text: qty(lv[1])}), h("span", {class: "muted", text: qty(cum)}));
        r.style.setProperty("--w", Math.round((100 * lv[1]) / max) + "%");
        r.addEventListener("click", () => emit("pick", {price: lv[0], side: cls === "a" ? "buy" : "sell"}));
        return r;
    };
    let cum = 0;
    const bids = l2.bids.map((lv) => row(lv, "b", (cum += lv[1])));
    cum = 0;
    const asks = l2.asks.map((lv) => row(lv, "a", (cum += lv[1]))).reverse();
    fill($("#ladder-asks"), asks);
    fill($("#ladder-bids"), bids);
    $("#book-sym").textContent = state.symbol;
    const mid = $("#ladder-mid");
    const b = l2.bids.length ? units(l2.bids[0][0]) : null, a = l2.asks.length ? units(l2.asks[0][0]) : null;
    const last = state.l1 && state.l1.last;
    mid.replaceChildren(h("span", {class: lastPrice !== null ? "" : "muted", text: last ? show(last) : "–"}),
                        h("small", {text: b !== null && a !== null ? "spread " + fmt(a - b) : l2.bids.length + l2.asks.length ? "one-sided" : "empty book"}));
}

function drawDepth() {
    const cv = $("#depth");
    const dpr = window.devicePixelRatio || 1;
    const W = cv.clientWidth, H = cv.clientHeight;
    if (!W || !H)
        return;
    if (cv.width !== Math.round(W * dpr) || cv.height !== Math.round(H * dpr)) {
        cv.width = Math.round(W * dpr);
        cv.height = Math.round(H * dpr);
    }
    const g = cv.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    const l2 = state.l2;
    const css = getComputedStyle(document.documentElement);
    g.font = "10px system-ui, sans-serif";
    g.fillStyle = css.getPropertyValue("--muted");
    if (!l2 || (!l2.bids.length && !l2.asks.length)) {
        g.textAlign = "center";
        g.fillText("no depth", W / 2, H / 2);
        return;
    }
    const pts = (levels) => {
        let c = 0;
        return levels.map((lv) => [Number(lv[0]), (c += lv[1])]);
    };
    const bids = pts(l2.bids), asks = pts(l2.asks);
    const prices = bids.concat(asks).map((p) => p[0]);
    let lo = Math.min(...prices), hi = Math.max(...prices);
    if (lo === hi) {
        lo -= 1;
        hi += 1;
    }
    const top = Math.max(bids.length ? bids[bids.length - 1][1] : 0, asks.length ? asks[asks.length - 1][1] : 0);
    const pad = 14;
    const x = (p) => 4 + ((p - lo) / (hi - lo)) * (W - 8);
    const y = (q) => H - pad - (q / top) * (H - pad - 6);
    const area = (ps, color, fillc, dir) => {
        if (!ps.length)
            return;
        g.beginPath();
        g.moveTo(x(ps[0][0]), H - pad);
        let prev = H - pad;
        for (const [p, q] of ps) {
            g.lineTo(x(p), prev);
            g.lineTo(x(p), y(q));
            prev = y(q);
        }
        g.lineTo(dir < 0 ? 4 : W - 4, prev);
        g.lineTo(dir < 0 ? 4 : W - 4, H - pad);
        g.closePath();
        g.fillStyle = fillc;
        g.fill();
        g.strokeStyle = color;
        g.lineWidth = 1.5;
        g.stroke();
    };
    area(bids, css.getPropertyValue("--buy"), "rgba(22,199,132,0.18)", -1);
    area(asks, css.getPropertyValue("--sell"), "rgba(234,57,67,0.18)", 1);
    g.fillStyle = css.getPropertyValue("--muted");
    g.textAlign = "left";
    g.fillText(lo.toFixed(2), 4, H - 2);
    g.textAlign = "right";
    g.fillText(hi.toFixed(2), W - 4, H - 2);
    g.fillText(qty(top), W - 4, 12);
}

function onTrades(m) {
    if (m.snapshot || m.resync)
        tape = [];
    const fresh = m.snapshot ? 0 : m.trades.length;
    tape = tape.concat(m.trades).slice(-80);
    const rows = tape.slice().reverse().map((t, i) =>
        h("div", {class: "trow" + (i < fresh ? " new" : "")},
          h("span", {class: "t", text: fmtTime(t.ts)}),
          h("span", {class: t.side === "sell" ? "ask" : "bid", text: show(t.price)}),
          h("span", {text: qty(t.qty)})));
    fill($("#tape"), rows);
}
