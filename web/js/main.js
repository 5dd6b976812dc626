/*
 * main.js - starts the terminal and switches its views.
 *
 * Views are named by the URL's hash: #trade (optionally #trade/SYM),
 * #account, #operator.  On a phone the Trade view shows one group of panes
 * at a time (chart, book, trade, orders), chosen by the bottom tab bar; the
 * tab "Account" opens the Account view.  body[data-m] carries the group so
 * the stylesheet alone decides what shows.
 *
 * Start order: the market data first (it needs nobody), then who is logged
 * in (GET /me), then the user's own data and private WebSocket when someone
 * is.  Every module talks through state.js, so none needs another's insides.
 */
import {$, $$} from "./dom.js";
import {state, on, emit} from "./state.js";
import {startMarket} from "./market.js";
import {startChart} from "./chart.js";
import {startSymbols, chooseSymbol} from "./symbols.js";
import {startAccount} from "./account.js";
import {startTrading} from "./trading.js";
import {startOperator} from "./operator.js";
import {loadMe, startUser, stopUser} from "./userdata.js";

let view = "";

function route() {
    const [name, arg] = location.hash.replace(/^#/, "").split("/");
    const v = ["trade", "account", "operator"].includes(name) ? name : "trade";
    if (v === "trade" && arg)
        chooseSymbol(decodeURIComponent(arg));
    if (v === view)
        return;
    view = v;
    for (const m of $$("main.view"))
        m.hidden = m.id !== "view-" + v;
    for (const a of $$("#views a"))
        a.classList.toggle("on", a.dataset.view === v);
    if (v === "account")
        setMobile("account", false);
    else if (document.body.dataset.m === "account")
        setMobile("chart", false);
    emit("view", v);
    window.dispatchEvent(new Event("resize"));
}

function setMobile(m, navigate = true) {
    document.body.dataset.m = m;
    for (const b of $$("#mtabs button"))
        b.classList.toggle("on", b.dataset.m === m);
    if (!navigate)
        return;
    if (m === "account")
        location.hash = "#account";
    else if (view !== "trade")
        location.hash = "#trade";
    window.dispatchEvent(new Event("resize"));
}

async function boot() {
    document.body.dataset.m = "chart";
    for (const b of $$("#mtabs button"))
        b.addEventListener("click", () => setMobile(b.dataset.m));
    startChart();
    startMarket();
    startAccount();
    startTrading();
    startOperator();
    let userOn = false;
    on("me", () => {
        if (state.me && !userOn) {
            userOn = true;
            startUser();
        } else if (!state.me && userOn) {
            userOn = false;
            stopUser();
        }
        if (view === "operator")
            emit("view", view);
    });
    window.addEventListener("hashchange", route);
    const [name, arg] = location.hash.replace(/^#/, "").split("/");
    await startSymbols(name === "trade" && arg ? decodeURIComponent(arg).toUpperCase() : "");
    route();
    await loadMe();
    document.body.dataset.ready = "1";
}

boot();
