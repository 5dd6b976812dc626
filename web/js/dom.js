/*
 * dom.js - the few DOM helpers every panel uses.
 *
 * The terminal builds its rows with h() (createElement + textContent), never
 * with innerHTML: every string shown may come from another user (a username,
 * a KYC legal name, a rejection reason), so nothing is ever parsed as HTML.
 * Event handlers are attached with addEventListener, which a strict
 * Content-Security-Policy allows (inline on* attributes it would not).
 */
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// h("td", {class: "num", text: "10.5"}, child...)
export function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false)
            continue;
        if (k === "text")
            el.textContent = v;
        else if (k === "class")
            el.className = v;
        else if (k.startsWith("on") && typeof v === "function")
            el.addEventListener(k.slice(2), v);
        else if (k === "data")
            Object.assign(el.dataset, v);
        else
            el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat())
        if (kid !== null && kid !== undefined && kid !== false)
            el.append(kid instanceof Node ? kid : String(kid));
    return el;
}

export function fill(el, rows) {
    el.replaceChildren(...rows);
}

// A short message in the corner: kind "good", "bad" or none.
export function toast(text, kind) {
    const box = document.getElementById("toasts");
    const t = h("div", {class: "toast" + (kind ? " " + kind : ""), role: "status", text});
    box.append(t);
    while (box.children.length > 4)
        box.firstChild.remove();
    setTimeout(() => t.remove(), kind === "bad" ? 7000 : 4000);
}

// A form's message line (class f-msg or t-msg): text, kind "good" or error.
export function say(el, text, kind) {
    el.textContent = text || "";
    el.classList.toggle("good", kind === "good");
    el.classList.toggle("hint", kind === "hint");
}

export function fmtTime(t) {
    // Seconds, milliseconds, nanoseconds since the epoch or an ISO string.
    let d;
    if (typeof t === "string" && !/^\d+$/.test(t))
        d = new Date(t);
    else {
        const n = Number(t);
        d = new Date(n > 1e17 ? n / 1e6 : n > 1e11 ? n : n * 1000);
    }
    if (isNaN(d))
        return "";
    return d.toLocaleTimeString([], {hour12: false});
}

export function stateBadge(state) {
    return h("span", {class: "state state-" + String(state || "").replace(/[^a-z_]/g, ""), text: state || "–"});
}
