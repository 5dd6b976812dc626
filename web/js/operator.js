/*
 * operator.js - the operator's desk: the KYC queue with each applicant's
 * document, pending deposits and withdrawals, accounts, symbol halts.
 *
 * Everything here is an /api/v1/admin call (API.md, "Operator"); the server
 * answers 403 FORBIDDEN to anyone not an operator, so hiding the tab from
 * others is convenience, not protection.  The lists are fetched when the
 * view opens, after each decision, and every 5 s while the view is shown
 * (the queue has no push of its own).  A document is shown as an <img> when
 * it is an image, otherwise as a link that opens it: both load from the same
 * origin with the session cookie, so the CSP allows them and no byte of it is
 * parsed by the page.
 */
import {$, h, fill, toast, stateBadge} from "./dom.js";
import {api, why} from "./api.js";
import {state, on, isOperator} from "./state.js";
import {show} from "./decimal.js";
import {loadSymbols} from "./symbols.js";

let timer = 0, shown = false;
const last = {};   // the JSON each list was last drawn from

// Redraw a list only when it changed: the 5 s refresh must not replace the
// row (and its Reject reason being typed) under the operator's pointer.
function changed(name, list) {
    const j = JSON.stringify(list);
    if (last[name] === j)
        return false;
    last[name] = j;
    return true;
}

export function startOperator() {
    $("#op-refresh").addEventListener("click", refresh);
    on("view", (v) => {
        shown = v === "operator";
        clearInterval(timer);
        if (shown && isOperator()) {
            refresh();
            timer = setInterval(refresh, 5000);
        }
    });
    on("symbols", renderSymbols);
}

const U = (u) => encodeURIComponent(u);

async function act(label, path, body) {
    try {
        await api("POST", path, body);
        toast(label, "good");
    } catch (err) {
        toast(label + " failed: " + why(err), "bad");
    }
    refresh();
}

export async function refresh() {
    if (!isOperator())
        return;
    const [kyc, funding, accounts] = await Promise.all([
        api("GET", "/admin/kyc").catch((e) => (toast("KYC queue: " + why(e), "bad"), null)),
        api("GET", "/admin/funding?state=pending").catch(() => null),
        api("GET", "/admin/accounts").catch(() => null),
        loadSymbols(),
    ]);
    if (kyc && changed("kyc", kyc))
        renderKyc(kyc);
    if (funding && changed("funding", funding))
        renderFunding(funding);
    if (accounts && changed("accounts", accounts))
        renderAccounts(accounts);
}

function renderKyc(list) {
    $("#n-kyc").textContent = list.length;
    const items = list.map((k) => {
        const doc = k.document || {};
        const url = "/api/v1/admin/kyc/" + U(k.username) + "/document";
        const preview = doc.type && doc.type.startsWith("image/")
            ? h("a", {href: url, target: "_blank", rel: "noopener"}, h("img", {src: url, alt: "document of " + k.username}))
            : h("a", {href: url, target: "_blank", rel: "noopener", text: doc.type ? "Open " + doc.type.replace("application/", "").toUpperCase() : "no document"});
        const reason = h("input", {class: "inline", placeholder: "Reason to reject", "aria-label": "Reason"});
        return h("div", {class: "kyc-item", data: {user: k.username}},
                 h("div", {class: "doc"}, preview),
                 h("div", {},
                   h("div", {class: "who", text: k.legal_name || k.username}),
                   h("div", {class: "muted", text: k.username + " · " + (k.email || "")}),
                   h("div", {text: "Born " + (k.date_of_birth || "?") + " · " + (k.country || "?")}),
                   h("div", {class: "num", text: "ID " + (k.id_number || "?")}),
                   h("div", {class: "muted", text: doc.size ? doc.type + ", " + doc.size.toLocaleString() + " bytes" : ""})),
                 h("div", {class: "acts"},
                   h("button", {type: "button", class: "btn btn-ok btn-sm", "data-act": "approve", text: "Approve",
                                onclick: () => act("Approved " + k.username, "/admin/kyc/" + U(k.username) + "/approve")}),
                   reason,
                   h("button", {type: "button", class: "btn btn-no btn-sm", "data-act": "reject", text: "Reject",
                                onclick: () => {
                                    if (!reason.value.trim()) {
                                        reason.classList.add("bad");
                                        return toast("Say why the application is rejected.", "bad");
                                    }
                                    act("Rejected " + k.username, "/admin/kyc/" + U(k.username) + "/reject", {reason: reason.value.trim()});
                                }})));
    });
    fill($("#kyc-queue"), items);
    $("#kyc-empty").hidden = items.length > 0;
}

function renderFunding(list) {
    $("#n-funding").textContent = list.length;
    const rows = list.map((r) =>
        h("tr", {data: {id: r.id, user: r.username}},
          h("td", {text: r.id}), h("td", {text: r.username}), h("td", {text: r.kind}), h("td", {text: r.asset}),
          h("td", {class: "num", text: show(r.amount, r.asset === "CASH" ? 2 : 0)}),
          h("td", {class: "act"},
            h("button", {type: "button", class: "btn btn-ok btn-sm", "data-act": "approve", text: "Approve",
                         onclick: () => act("Approved " + r.kind + " #" + r.id, "/admin/funding/" + U(r.id) + "/approve")}),
            h("button", {type: "button", class: "btn btn-no btn-sm", "data-act": "reject", text: "Reject",
                         onclick: () => act("Rejected " + r.kind + " #" + r.id, "/admin/funding/" + U(r.id) + "/reject", {reason: "rejected by the operator"})}))));
    fill($("#op-funding tbody"), rows);
    $("#op-funding-empty").hidden = rows.length > 0;
}

function renderAccounts(list) {
    const rows = list.map((a) => {
        const b = (act_, label, cls) => h("button", {type: "button", class: "btn btn-sm " + cls, "data-act": act_, text: label,
                                                     onclick: () => act(label + " " + a.username, "/admin/accounts/" + U(a.username) + "/" + act_)});
        const acts = [];
        if (a.state === "active")
            acts.push(b("suspend", "Suspend", "btn-no"));
        if (a.state === "suspended")
            acts.push(b("resume", "Resume", "btn-ok"));
        if (a.state !== "closed" && a.role !== "operator")
            acts.push(b("close", "Close", "btn-ghost"));
        return h("tr", {data: {user: a.username}}, h("td", {text: a.username}), h("td", {class: "muted", text: a.email || ""}),
                 h("td", {text: a.role || "user"}), h("td", {}, stateBadge(a.state)), h("td", {class: "act"}, acts));
    });
    fill($("#op-accounts tbody"), rows);
}

function renderSymbols() {
    if (!changed("symbols", state.symbols))
        return;
    const rows = state.symbols.map((s) =>
        h("tr", {data: {symbol: s.symbol}}, h("td", {class: "mono", text: s.symbol}),
          h("td", {}, stateBadge(s.halted ? "halted" : "open")),
          h("td", {class: "act"},
            s.halted
              ? h("button", {type: "button", class: "btn btn-ok btn-sm", "data-act": "resume", text: "Resume",
                             onclick: () => act("Resumed " + s.symbol, "/admin/resume/" + U(s.symbol)).then(loadSymbols)})
              : h("button", {type: "button", class: "btn btn-no btn-sm", "data-act": "halt", text: "Halt",
                             onclick: () => act("Halted " + s.symbol, "/admin/halt/" + U(s.symbol)).then(loadSymbols)}))));
    fill($("#op-symbols tbody"), rows);
}
