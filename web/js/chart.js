/*
 * chart.js - candlesticks with volume, live.
 *
 * The drawing is TradingView's lightweight-charts (Apache-2.0, from npm),
 * vendored by `make web` into /vendor/lightweight-charts.js (its standalone
 * ES module build; docs/web.md).  It is loaded with a dynamic import() so that
 * the page works without it: when the file is missing (npm absent, `make web`
 * skipped) the chart area says so and how to get it, and the legend above it
 * still shows the current candle from the feed.
 *
 * Candles come from the market-data feed's candles channel (market.js emits
 * them): a snapshot replaces the series, an update carries the changed candle
 * and any newer one, applied with series.update() in time order.  Volume is a
 * histogram on its own scale in the lower fifth, green or red as its candle.
 * The legend (O H L C V of the newest candle) is also what the browser test
 * reads to see a candle change without a reload.
 */
import {$, h} from "./dom.js";
import {on} from "./state.js";
import {show, qty} from "./decimal.js";

let LW = null, chart = null, candleSeries = null, volSeries = null;
let bars = [];          // the candles shown, oldest first, times in unix seconds
let loading = null;

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

export function startChart() {
    on("candles", onCandles);
    loading = import("../vendor/lightweight-charts.js").then((mod) => {
        LW = mod;
        makeChart();
    }, (e) => {
        console.warn("bourse: chart library not loaded:", e && e.message);
        const box = $("#chart");
        box.dataset.library = "missing";
        box.append(h("div", {class: "chart-missing"},
                     h("div", {}, h("p", {text: "The chart library is not installed on this server."}),
                       h("p", {}, "Run ", h("code", {text: "make web"}), " (npm ci) to vendor lightweight-charts into web/vendor/."),
                       h("p", {class: "muted", text: "Book, trades and the candle legend above stay live."}))));
    });
}

function makeChart() {
    const box = $("#chart");
    box.dataset.library = "lightweight-charts " + (LW.version ? LW.version() : "");
    chart = LW.createChart(box, {
        autoSize: true,
        // The library's own logo injects a <style> element, which the page's
        // CSP refuses; the attribution its NOTICE asks for is the link in
        // the chart's corner instead (.chart-attr, added below).
        layout: {background: {type: "solid", color: css("--panel")}, textColor: css("--muted"), fontSize: 11,
                 attributionLogo: false},
        grid: {vertLines: {color: "rgba(38,46,57,0.55)"}, horzLines: {color: "rgba(38,46,57,0.55)"}},
        rightPriceScale: {borderColor: css("--line"), scaleMargins: {top: 0.08, bottom: 0.25}},
        timeScale: {borderColor: css("--line"), timeVisible: true, secondsVisible: false, rightOffset: 4},
        crosshair: {mode: LW.CrosshairMode ? LW.CrosshairMode.Normal : 0},
    });
    candleSeries = chart.addSeries(LW.CandlestickSeries, {
        upColor: css("--buy"), downColor: css("--sell"), borderVisible: false,
        wickUpColor: css("--buy"), wickDownColor: css("--sell"),
        priceFormat: {type: "price", precision: 2, minMove: 0.01},
    });
    box.append(h("a", {class: "chart-attr", href: "https://www.tradingview.com/", target: "_blank", rel: "noopener",
                       text: "Charting by TradingView"}));
    volSeries = chart.addSeries(LW.HistogramSeries, {priceScaleId: "vol", priceFormat: {type: "volume"}, lastValueVisible: false, priceLineVisible: false});
    chart.priceScale("vol").applyOptions({scaleMargins: {top: 0.8, bottom: 0}});
    if (bars.length)
        setAll();
}

function toBar(c) {
    return {
        time: Math.floor(Date.parse(c.start) / 1000),
        open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close),
        volume: c.volume, raw: c,
    };
}

function volBar(b) {
    return {time: b.time, value: b.volume, color: b.close >= b.open ? "rgba(22,199,132,0.45)" : "rgba(234,57,67,0.45)"};
}

function setAll() {
    if (!candleSeries)
        return;
    candleSeries.setData(bars.map(({time, open, high, low, close}) => ({time, open, high, low, close})));
    volSeries.setData(bars.map(volBar));
}

function onCandles(m) {
    if (m.reset || m.snapshot) {
        bars = [];
        if (m.reset) {
            setAll();
            legend();
            return;
        }
    }
    for (const c of m.candles || []) {
        const b = toBar(c);
        if (!Number.isFinite(b.time))
            continue;
        const last = bars[bars.length - 1];
        if (last && last.time === b.time)
            bars[bars.length - 1] = b;
        else if (!last || b.time > last.time)
            bars.push(b);
        else
            continue;
        if (!m.snapshot && candleSeries) {
            candleSeries.update({time: b.time, open: b.open, high: b.high, low: b.low, close: b.close});
            volSeries.update(volBar(b));
        }
    }
    if (bars.length > 500)
        bars = bars.slice(-500);
    if (m.snapshot)
        setAll();
    legend();
}

function legend() {
    const el = $("#legend");
    const box = $("#chart");
    box.dataset.candles = String(bars.length);
    const b = bars[bars.length - 1];
    if (!b) {
        el.replaceChildren(h("span", {text: "no trades yet"}));
        delete box.dataset.close;
        delete box.dataset.volume;
        return;
    }
    box.dataset.close = b.raw.close;
    box.dataset.volume = String(b.volume);
    const up = b.close >= b.open;
    const v = (label, val) => [label + " ", h("b", {class: up ? "up" : "down", text: val}), "  "];
    el.replaceChildren(...v("O", show(b.raw.open)), ...v("H", show(b.raw.high)), ...v("L", show(b.raw.low)),
                       ...v("C", show(b.raw.close)), ...v("V", qty(b.volume)));
}
