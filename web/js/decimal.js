/*
 * decimal.js - prices and money as the exchange counts them.
 *
 * The server speaks decimal strings with at most 4 decimals ("101.25") and
 * counts in integers of 1/10,000 (API.md, "General").  The page does the
 * same: a string is parsed to a BigInt of 1/10,000 units, never to a float,
 * so "0.1 + 0.2" problems cannot make the ticket refuse a valid price or
 * accept a price off the tick.  Strings from the server are shown as sent;
 * only totals the page computes are formatted here.
 */
export const SCALE = 10000n;
export const TICK = 100n; // 0.01, the tick the ticket checks (docs/web.md)

const DEC = /^(\d{1,12})(?:\.(\d{1,4}))?$/;

// "10.25" -> 102500n; null if not a plain non-negative decimal of <= 4 places.
export function units(s) {
    const m = DEC.exec(String(s ?? "").trim());
    if (!m)
        return null;
    return BigInt(m[1]) * SCALE + BigInt((m[2] || "").padEnd(4, "0"));
}

// 102500n -> "10.25" (at least `min` decimals, at most 4).
export function fmt(u, min = 2) {
    if (u === null || u === undefined)
        return "–";
    const neg = u < 0n;
    if (neg)
        u = -u;
    let frac = (u % SCALE).toString().padStart(4, "0").replace(/0+$/, "");
    if (frac.length < min)
        frac = frac.padEnd(min, "0");
    const whole = (u / SCALE).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (neg ? "-" : "") + whole + (frac ? "." + frac : "");
}

// A server string shown with grouping and at least 2 decimals.
export function show(s, min = 2) {
    const u = units(s);
    return u === null ? (s ?? "–") : fmt(u, min);
}

// Shares as integers with grouping.
export function qty(n) {
    return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US");
}
