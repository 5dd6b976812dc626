/*
 * account.js - who the user is: sign up, log in and out, identity
 * verification (KYC), the account-state banner, balances and funding.
 *
 * The account's life (API.md): kyc_required -> kyc_pending (data and a
 * document sent) -> active, or kyc_rejected with a reason (send again);
 * later perhaps suspended or closed.  The banner under the top bar always
 * says where the account stands and what to do next; it changes live when
 * the operator decides (the private WebSocket's "account" push).
 *
 * The KYC document is sent as the raw bytes of the chosen file
 * (POST /kyc/document with the file's own Content-Type), not as a multipart
 * form: the server checks the bytes themselves, so the page only checks the
 * type and the 5 MiB limit to fail early with a clear message.
 */
import {$, $$, h, fill, say, toast, stateBadge} from "./dom.js";
import {api, why} from "./api.js";
import {state, on, emit} from "./state.js";
import {units, show} from "./decimal.js";
import {loadMe, refreshFunding, refreshBalances} from "./userdata.js";

const MAX_DOC = 5 * 1024 * 1024;
const DOC_TYPES = ["image/png", "image/jpeg", "application/pdf"];
let fundKind = "deposit";

export function startAccount() {
    $("#f-login").addEventListener("submit", onLogin);
    $("#f-signup").addEventListener("submit", onSignup);
    $("#f-kyc").addEventListener("submit", onKyc);
    $("#f-kyc").elements.document.addEventListener("change", onDocChosen);
    $("#f-funding").addEventListener("submit", onFunding);
    for (const b of $$("#f-funding .side"))
        b.addEventListener("click", () => {
            fundKind = b.dataset.kind;
            for (const o of $$("#f-funding .side"))
                o.classList.toggle("on", o === b);
            $("#fund-submit").textContent = fundKind === "deposit" ? "Request deposit" : "Request withdrawal";
        });
    $("#btn-logout").addEventListener("click", onLogout);
    on("me", render);
    on("balances", renderBalances);
    on("funding", renderFunding);
    on("symbols", renderAssets);
    render();
}

function formData(form) {
    const o = {};
    for (const el of form.elements)
        if (el.name && el.type !== "file")
            o[el.name] = el.value.trim();
    return o;
}

async function busy(form, fn) {
    const btn = form.querySelector("button[type=submit]");
    btn.disabled = true;
    try {
        await fn();
    } finally {
        btn.disabled = false;
    }
}

async function onLogin(e) {
    e.preventDefault();
    const f = e.target, msg = f.querySelector(".f-msg"), d = formData(f);
    if (!d.username || !d.password)
        return say(msg, "Enter your username and password.");
    await busy(f, async () => {
        try {
            await api("POST", "/login", {username: d.username, password: d.password});
            f.reset();
            say(msg, "");
            await loadMe();
            location.hash = state.me && state.me.state === "active" ? "#trade" : "#account";
        } catch (err) {
            say(msg, err.code === "LOCKED" ? "Too many failed attempts: try again later." :
                     err.code === "UNAUTHORIZED" ? "Wrong username or password." : why(err));
        }
    });
}

async function onSignup(e) {
    e.preventDefault();
    const f = e.target, msg = f.querySelector(".f-msg"), d = formData(f);
    if (!/^[A-Za-z0-9_-]{1,16}$/.test(d.username))
        return say(msg, "Username: 1 to 16 letters, digits, _ or -.");
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(d.email))
        return say(msg, "Enter a valid email address.");
    if (d.password.length < 8)
        return say(msg, "Password: at least 8 characters.");
    await busy(f, async () => {
        try {
            await api("POST", "/signup", d);
            await api("POST", "/login", {username: d.username, password: d.password});
            f.reset();
            say(msg, "");
            toast("Welcome, " + d.username + ". Verify your identity to start trading.", "good");
            await loadMe();
            location.hash = "#account";
        } catch (err) {
            say(msg, err.code === "CONFLICT" ? "That username or email is taken." : why(err));
        }
    });
}

async function onLogout() {
    try {
        await api("POST", "/logout");
    } catch {
        /* the session is dropped here either way */
    }
    state.me = null;
    emit("me");
    location.hash = "#trade";
}

function onDocChosen(e) {
    const file = e.target.files[0];
    const msg = $("#f-kyc .f-msg");
    say(msg, "");
    if (!file)
        return;
    if (!DOC_TYPES.includes(file.type))
        return say(msg, "The document must be a PNG, a JPEG or a PDF.");
    if (file.size > MAX_DOC)
        return say(msg, "The document is over 5 MiB.");
    // No preview image: a blob: URL is not 'self', and the server's CSP
    // (default-src 'self') would refuse it.  Name, type and size say enough.
    say(msg, file.name + " · " + file.type + " · " + Math.ceil(file.size / 1024) + " KiB", "good");
}

async function onKyc(e) {
    e.preventDefault();
    const f = e.target, msg = f.querySelector(".f-msg"), d = formData(f);
    const file = f.elements.document.files[0];
    d.country = d.country.toUpperCase();
    if (!d.legal_name)
        return say(msg, "Enter your legal name.");
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d.date_of_birth))
        return say(msg, "Enter your date of birth.");
    if (!/^[A-Z]{2}$/.test(d.country))
        return say(msg, "Country: the two-letter ISO code (FR, US, DE...).");
    if (!d.id_number)
        return say(msg, "Enter the number of your identity document.");
    if (!file)
        return say(msg, "Choose a scan or photo of your identity document.");
    if (!DOC_TYPES.includes(file.type) || file.size > MAX_DOC)
        return say(msg, "The document must be a PNG, JPEG or PDF of at most 5 MiB.");
    await busy(f, async () => {
        try {
            // The document first: the server's KYC command names it (its
            // sha256), so POST /kyc needs the upload before it.
            say(msg, "Uploading the document…", "good");
            await api("POST", "/kyc/document", file, {type: file.type});
            say(msg, "Sending your details…", "good");
            await api("POST", "/kyc", d);
            f.reset();
            say(msg, "");
            toast("Documents sent: an operator will review them.", "good");
            await loadMe();
        } catch (err) {
            say(msg, why(err));
        }
    });
}

async function onFunding(e) {
    e.preventDefault();
    const f = e.target, msg = f.querySelector(".f-msg"), d = formData(f);
    const u = units(d.amount);
    if (u === null || u <= 0n)
        return say(msg, "Amount: a positive number with at most 4 decimals.");
    if (d.asset !== "CASH" && u % 10000n !== 0n)
        return say(msg, "Shares are whole numbers.");
    await busy(f, async () => {
        try {
            const r = await api("POST", fundKind === "deposit" ? "/deposits" : "/withdrawals", {asset: d.asset, amount: d.amount});
            say(msg, (fundKind === "deposit" ? "Deposit" : "Withdrawal") + " #" + r.id + " " + r.state + ".", "good");
            f.elements.amount.value = "";
            refreshFunding();
            refreshBalances();
        } catch (err) {
            say(msg, why(err));
        }
    });
}

// The banner: where the account stands and what to do next.
const BANNERS = {
    kyc_required: ["info", "Verify your identity to start trading.", "Verify now"],
    kyc_pending: ["warn", "Your identity documents are being reviewed. You can trade once they are approved.", ""],
    kyc_rejected: ["bad", "Identity verification was rejected", "Send again"],
    active: ["good", "Account active: trading enabled.", ""],
    suspended: ["bad", "Your account is suspended: trading is disabled and open orders were canceled.", ""],
    closed: ["bad", "This account is closed.", ""],
};

function renderBanner() {
    const b = $("#banner"), me = state.me;
    // An operator's own account need not be verified to run the desk.
    const spec = me && !(me.role === "operator" && me.state.startsWith("kyc")) && BANNERS[me.state];
    b.hidden = !spec;
    if (!spec)
        return;
    b.className = "banner " + spec[0];
    b.dataset.state = me.state;
    let text = spec[1];
    const reason = me.kyc && me.kyc.reason;
    if (me.state === "kyc_rejected")
        text += reason ? ": " + reason + "." : ".";
    $("#banner-text").textContent = text;
    const a = $("#banner-action");
    a.hidden = !spec[2];
    a.textContent = spec[2];
    document.documentElement.style.setProperty("--banner", b.hidden ? "0px" : b.offsetHeight + "px");
}

function render() {
    const me = state.me;
    $("#btn-login").hidden = !!me;
    $("#btn-signup").hidden = !!me;
    $("#btn-logout").hidden = !me;
    const name = $("#user-name");
    name.hidden = !me;
    if (me)
        name.replaceChildren(me.username, me.role === "operator" ? h("span", {class: "role", text: "operator"}) : "");
    $("#nav-operator").hidden = !(me && me.role === "operator");
    $("#card-login").hidden = !!me;
    $("#card-signup").hidden = !!me;
    for (const id of ["#card-profile", "#card-balances", "#card-funding", "#card-funding-list"])
        $(id).hidden = !me;
    const kycOpen = !!me && (me.state === "kyc_required" || me.state === "kyc_rejected");
    $("#card-kyc").hidden = !kycOpen;
    if (me) {
        const kv = (k, v) => [h("dt", {text: k}), h("dd", {}, v)];
        fill($("#profile"), [...kv("Username", me.username), ...kv("Email", me.email || "–"), ...kv("Role", me.role || "user"),
                             ...kv("Account", stateBadge(me.state)),
                             ...(me.kyc && me.kyc.reason ? kv("Review note", me.kyc.reason) : [])]);
    }
    renderBanner();
}

function renderBalances() {
    const rows = [...state.balances.values()].map((b) => {
        const tot = (units(b.available) ?? 0n) + (units(b.held) ?? 0n);
        return h("tr", {data: {asset: b.asset}}, h("td", {text: b.asset}), h("td", {class: "num", text: show(b.available)}),
                 h("td", {class: "num", text: show(b.held)}), h("td", {class: "num", text: show(String(tot / 10000n) + "." + String(tot % 10000n).padStart(4, "0"))}));
    });
    fill($("#balances tbody"), rows);
}

function renderFunding() {
    const rows = state.funding.slice().reverse().map((r) =>
        h("tr", {data: {id: r.id}}, h("td", {text: r.id}), h("td", {text: r.kind}), h("td", {text: r.asset}),
          h("td", {class: "num", text: show(r.amount, r.asset === "CASH" ? 2 : 0)}), h("td", {}, stateBadge(r.state)), h("td", {class: "muted", text: r.reason || ""})));
    fill($("#funding tbody"), rows);
    $("#funding-empty").hidden = rows.length > 0;
}

function renderAssets() {
    const sel = $("#fund-asset"), cur = sel.value;
    fill(sel, ["CASH", ...state.symbols.map((s) => s.symbol)].map((a) => h("option", {text: a, value: a})));
    sel.value = cur || "CASH";
    if (!sel.value)
        sel.value = "CASH";
}
