/*
 * symbols.js - the list of listed symbols and the one the user looks at.
 *
 * The list comes from GET /api/v1/symbols (with each symbol's halt); where
 * the server has no HTTP API the picker is a free text field, and the feed
 * answers an unknown symbol with an error the ladder shows.  The chosen
 * symbol lives in the URL (#trade/ACME) and in localStorage, so a reload or
 * a shared link opens the same market.  Whether a symbol is halted is not on
 * the market-data WebSocket, so the list is fetched again every 10 s.
 */
import {$, h, fill} from "./dom.js";
import {api} from "./api.js";
import {state, emit} from "./state.js";

export async function loadSymbols() {
    let list = null;
    try {
        list = await api("GET", "/symbols");
    } catch {
        list = null;
    }
    if (Array.isArray(list)) {
        state.symbols = list.map((s) => (typeof s === "string" ? {symbol: s, halted: false} : s));
        fill($("#symbols"), state.symbols.map((s) => h("option", {value: s.symbol})));
        emit("symbols");
    }
    return list;
}

export function chooseSymbol(sym) {
    sym = String(sym || "").trim().toUpperCase();
    if (!/^[A-Z0-9.]{1,8}$/.test(sym) || sym === "CASH" || sym === state.symbol)
        return;
    state.symbol = sym;
    $("#symbol").value = sym;
    try {
        localStorage.setItem("bourse.symbol", sym);
    } catch {
        /* private mode: fine */
    }
    emit("symbol");
}

export function startSymbols(fromUrl) {
    const input = $("#symbol");
    const go = () => chooseSymbol(input.value);
    input.addEventListener("change", go);
    input.addEventListener("keydown", (e) => {
        if (e.key === "Enter")
            go();
    });
    let saved = "";
    try {
        saved = localStorage.getItem("bourse.symbol") || "";
    } catch {
        saved = "";
    }
    return loadSymbols().then(() => {
        const known = state.symbols.map((s) => s.symbol);
        const want = [fromUrl, saved].find((s) => s && (!known.length || known.includes(s))) || known[0] || "AAPL";
        chooseSymbol(want);
        // Halts are not on the market-data WebSocket: the list is asked
        // again every 10 s (a cheap GET) so a halt shows without a reload.
        setInterval(() => {
            if (!document.hidden)
                loadSymbols();
        }, 10000);
    });
}
