// terminal.mjs - the web terminal in a real browser (docs/web.md, "The browser test").
//
// Headless Debian Chromium driven over the DevTools protocol by puppeteer-core
// (installed by `make web` into build/npm), against a live `bourse serve`
// started by tests/sh/e2e_web.sh, which passes what this needs in the
// environment:
//   URL        the page (http://127.0.0.1:PORT/)
//   BOURSE     the program; DATA its data directory (admin socket), OPORT
//              the order-entry port (bourse client)
//   NPM_DIR    where puppeteer-core is installed; CHROMIUM the browser
//   ART        the folder for screenshots; PROFILE a fresh user-data-dir
//
// Part 1, market data (always): the page loads with no script error and no
// Content-Security-Policy violation, the chart library is loaded from
// /vendor/, and orders sent by `bourse client` appear live, without a reload:
// the bid in the ladder, then a trade on the tape, in the ticker and in the
// current candle.  The phone layout shows the same book.  With /vendor/
// blocked the page still shows market data and says where the chart would be.
//
// Part 2, the whole path (when the server answers /api/v1): two users sign up
// in the page, send their KYC data and a document, an operator approves both
// and their deposits in the operator section, the users place crossing orders
// in the ticket (one on a laptop-sized page, one on a phone-sized one), and
// both see the fill, the book and the candle change without reloading.
//
// Each check prints "ok NAME" or "FAIL NAME: why"; screenshots go to ART.
import {createRequire} from "node:module";
import {execFileSync} from "node:child_process";
import {mkdirSync, writeFileSync} from "node:fs";
import path from "node:path";

const env = process.env;
const require = createRequire(path.resolve(env.NPM_DIR || "build/npm") + "/package.json");
const puppeteer = require("puppeteer-core");
const URL_ = env.URL;
const ART = env.ART;
const SYM = "WEBX";
mkdirSync(ART, {recursive: true});

let failed = 0;
const ok = (n) => console.log("ok web_" + n);
const fail = (n, why) => {
    failed++;
    console.log("FAIL web_" + n + ": " + String(why).replace(/\s+/g, " ").slice(0, 400));
};
async function check(name, fn) {
    try {
        await fn();
        ok(name);
        return true;
    } catch (e) {
        fail(name, e && e.message ? e.message : e);
        return false;
    }
}

function admin(...lines) {
    return execFileSync(env.BOURSE, ["admin", "--data", env.DATA], {input: lines.join("\n") + "\n", encoding: "utf8", timeout: 20000});
}
function password(user, pw) {
    execFileSync(env.BOURSE, ["admin", "--data", env.DATA, "password", user], {input: pw + "\n", timeout: 20000});
}
function client(user, pw, line) {
    return execFileSync(env.BOURSE, ["client", "--order-port", env.OPORT, "--user", user], {
        input: line + "\n", encoding: "utf8", timeout: 20000, env: {...env, BOURSE_PASSWORD: pw}});
}

// Wait until fn() (run in the page) is truthy; the error names what was awaited.
async function until(page, what, fn, arg, ms = 10000) {
    try {
        await page.waitForFunction(fn, {timeout: ms, polling: 100}, arg);
    } catch {
        // The page as it was, to see why: build/artifacts/web/fail-*.png.
        await page.screenshot({path: path.join(ART, "fail-" + what.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 60) + ".png")}).catch(() => {});
        const msgs = await page.$$eval(".f-msg, .t-msg, .toast", (es) => es.map((e) => e.textContent).filter(Boolean).join(" / ")).catch(() => "");
        throw new Error("timed out waiting for " + what + (msgs ? " (page says: " + msgs + ")" : ""));
    }
}
// A click that tolerates the row being redrawn between finding and clicking.
async function click(page, sel) {
    for (let i = 0; ; i++) {
        try {
            await page.waitForSelector(sel, {timeout: 5000});
            return await page.click(sel);
        } catch (e) {
            if (i >= 3 || !/detached|not clickable|No element/i.test(e.message))
                throw e;
            await new Promise((r) => setTimeout(r, 200));
        }
    }
}
const text = (page, sel) => page.$eval(sel, (e) => e.textContent).catch(() => "");

async function shot(page, name) {
    await page.screenshot({path: path.join(ART, name + ".png")});
}

const LAPTOP = {width: 1366, height: 768};
const PHONE = {width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true};

async function newPage(ctx, viewport, label, problems) {
    const page = await ctx.newPage();
    await page.setViewport(viewport);
    page.on("pageerror", (e) => problems.push(label + ": page error: " + e.message));
    page.on("console", (m) => {
        const t = m.text();
        if (m.type() === "error" && !/status of 40[134]|Failed to load resource/.test(t))
            problems.push(label + ": console: " + t);
        if (/Content Security Policy/i.test(t))
            problems.push(label + ": CSP: " + t);
    });
    return page;
}

async function open(page, hash = "") {
    await page.goto(URL_ + hash, {waitUntil: "domcontentloaded"});
    await until(page, "the page to start", () => document.body.dataset.ready === "1");
    await until(page, "market data to be live", () => document.querySelector("#md-status").dataset.state === "live");
}

const browser = await puppeteer.launch({
    executablePath: env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    userDataDir: env.PROFILE,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", "--font-render-hinting=none"],
});
const problems = [];
try {
    await marketPart();
    const api = await fetch(URL_ + "api/v1/symbols").catch(() => null);
    const signup = await fetch(URL_ + "api/v1/signup", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}).catch(() => null);
    if (!api || api.status === 404 || !(api.headers.get("content-type") || "").includes("json"))
        console.log("SKIP web_full_scenario: the server has no HTTP API (/api/v1/symbols: " + (api ? api.status : "no answer") + ")");
    else
        await fullPart(signup && signup.status !== 404);
    if (problems.length)
        fail("no_script_errors", problems.slice(0, 4).join(" | "));
    else
        ok("no_script_errors");
} catch (e) {
    fail("run", e && e.stack ? e.stack : e);
} finally {
    await browser.close().catch(() => {});
}
console.log("# screenshots in " + ART);
process.exit(failed ? 1 : 0);

async function marketPart() {
    admin("symbol " + SYM, "user mm1", "user mm2", "deposit mm1 CASH 1000000", "deposit mm2 " + SYM + " 1000");
    password("mm1", "pw-mm1");
    password("mm2", "pw-mm2");
    // A book with some depth on both sides, away from the prices traded below.
    client("mm1", "pw-mm1", [["d1", "100.4", 12], ["d2", "100.3", 25], ["d3", "100.2", 40], ["d4", "100", 60]]
        .map(([id, p, q]) => `buy mm1 ${id} ${SYM} ${q} ${p} gtc`).join("\n"));
    client("mm2", "pw-mm2", [["a1", "100.7", 15], ["a2", "100.8", 30], ["a3", "101", 50], ["a4", "101.2", 80]]
        .map(([id, p, q]) => `sell mm2 ${id} ${SYM} ${q} ${p} gtc`).join("\n"));
    const ctx = await browser.createBrowserContext();
    const page = await newPage(ctx, LAPTOP, "laptop", problems);
    if (!await check("page_loads", async () => {
        await open(page, "#trade/" + SYM);
        const title = await page.title();
        if (!/Bourse/.test(title))
            throw new Error("title " + title);
    }))
        return;
    await check("chart_library_loaded", async () => {
        await until(page, "the chart library", () => /^lightweight-charts/.test(document.querySelector("#chart").dataset.library || ""));
        if (!await page.$("#chart canvas"))
            throw new Error("no canvas in #chart");
    });
    await check("book_updates_live", async () => {
        client("mm1", "pw-mm1", `buy mm1 b1 ${SYM} 7 100.5 gtc`);
        await until(page, "a bid of 7 at 100.50 in the ladder", () =>
            [...document.querySelectorAll("#ladder-bids .lrow")].some((r) => r.textContent.startsWith("100.507")));
        const bid = await text(page, "#tk-bid");
        if (!bid.startsWith("100.50"))
            throw new Error("ticker bid " + bid);
    });
    await check("trade_updates_tape_ticker_candle", async () => {
        client("mm2", "pw-mm2", `sell mm2 s1 ${SYM} 3 100.5`);
        await until(page, "the trade on the tape", () => document.querySelector("#tape .trow")?.textContent.includes("100.50"));
        await until(page, "the candle's volume 3", () => document.querySelector("#chart").dataset.volume === "3");
        await until(page, "the ladder's bid of 4 left", () =>
            [...document.querySelectorAll("#ladder-bids .lrow")].some((r) => r.textContent.startsWith("100.504")));
        const last = await text(page, "#tk-last");
        if (last !== "100.50")
            throw new Error("ticker last " + last);
        const legend = await text(page, "#legend");
        if (!/C\s*100\.50/.test(legend))
            throw new Error("legend " + legend);
    });
    await check("candle_moves_with_trades", async () => {
        client("mm1", "pw-mm1", `buy mm1 b2 ${SYM} 5 100.7`);
        await until(page, "the candle closing at 100.70 with volume 8", () =>
            document.querySelector("#chart").dataset.close === "100.7" && document.querySelector("#chart").dataset.volume === "8");
        const legend = await text(page, "#legend");
        if (!/O\s*100\.50\s*H\s*100\.70\s*L\s*100\.50\s*C\s*100\.70\s*V\s*8/.test(legend))
            throw new Error("legend " + legend);
        await until(page, "the ask of 10 left at 100.70", () =>
            [...document.querySelectorAll("#ladder-asks .lrow")].some((r) => r.textContent.startsWith("100.7010")));
    });
    await check("ladder_click_fills_ticket", async () => {
        await click(page, "#ladder-bids .lrow");
        const price = await page.$eval("#t-price", (e) => e.value);
        const sell = await page.$eval("#ticket .side-sell", (e) => e.classList.contains("on"));
        if (price !== "100.50" || !sell)
            throw new Error("price " + price + ", sell side " + sell);
    });
    await check("ticket_client_checks", async () => {
        await page.$eval("#t-price", (e) => { e.value = "100.505"; e.dispatchEvent(new Event("input")); });
        const msg = await text(page, "#t-msg");
        // Logged out, the ticket asks to log in first; the checks are run in part 2.
        if (!/Log in|tick/.test(msg))
            throw new Error("message " + msg);
    });
    await shot(page, "laptop-market");
    await check("phone_layout", async () => {
        const phone = await newPage(ctx, PHONE, "phone", problems);
        await open(phone, "#trade/" + SYM);
        await until(phone, "the candle on the phone", () => document.querySelector("#chart").dataset.volume === "8");
        const tabs = await phone.$eval("#mtabs", (e) => getComputedStyle(e).display);
        if (tabs === "none")
            throw new Error("no tab bar at 390 px");
        const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
        if (wide > 390)
            throw new Error("page is " + wide + " px wide at 390");
        await shot(phone, "phone-chart");
        await phone.click('#mtabs button[data-m="book"]');
        await until(phone, "the book on the phone", () => document.querySelector("#ladder-bids .lrow")?.offsetParent !== null);
        await shot(phone, "phone-book");
        await phone.close();
    });
    await check("works_without_chart_library", async () => {
        const bare = await ctx.newPage();
        await bare.setViewport(LAPTOP);
        await bare.setRequestInterception(true);
        bare.on("request", (r) => (r.url().includes("/vendor/") ? r.abort() : r.continue()));
        await open(bare, "#trade/" + SYM);
        await until(bare, "the missing-library message", () => document.querySelector("#chart .chart-missing") !== null);
        await until(bare, "the ladder without the library", () => document.querySelectorAll("#ladder-bids .lrow").length > 0);
        await until(bare, "the legend without the library", () => document.querySelector("#chart").dataset.volume === "8");
        await shot(bare, "laptop-no-chart-library");
        await bare.close();
    });
    await ctx.close();
}

// The "scan" each user uploads: an identity card drawn on a canvas in the
// page and saved as PNG bytes (what a phone camera would give, in small).
async function documentFile(page, user, legal) {
    const b64 = await page.evaluate((name, id) => {
        const c = document.createElement("canvas");
        c.width = 480;
        c.height = 300;
        const g = c.getContext("2d");
        g.fillStyle = "#dfe8f1";
        g.fillRect(0, 0, 480, 300);
        g.fillStyle = "#1d4f91";
        g.fillRect(0, 0, 480, 52);
        g.fillStyle = "#fff";
        g.font = "bold 24px sans-serif";
        g.fillText("IDENTITY CARD", 20, 35);
        g.fillStyle = "#9aa9b9";
        g.fillRect(20, 72, 130, 170);
        g.fillStyle = "#223";
        g.font = "20px sans-serif";
        g.fillText(name, 170, 100);
        g.font = "16px monospace";
        g.fillText("Born 1990-04-01", 170, 135);
        g.fillText("Nationality FR", 170, 165);
        g.fillText("No " + id, 170, 195);
        return c.toDataURL("image/png").split(",")[1];
    }, legal, "X" + user.toUpperCase() + "42");
    const f = path.join(env.PROFILE, "..", user + "-id.png");
    writeFileSync(f, Buffer.from(b64, "base64"));
    return f;
}

async function fill(page, form, values) {
    for (const [name, v] of Object.entries(values)) {
        const sel = `${form} [name="${name}"]`;
        await page.$eval(sel, (e) => { e.value = ""; });
        await page.type(sel, v);
    }
}

async function signupAndKyc(page, user, legal) {
    await open(page, "#account");
    if (await page.$eval("#mtabs", (e) => getComputedStyle(e).display !== "none"))
        await until(page, "the account view", () => !document.querySelector("#view-account").hidden);
    await fill(page, "#f-signup", {username: user, email: user + "@example.com", password: "Violet-Harbor-Lamp-73!"});
    await click(page, "#f-signup button[type=submit]");
    await until(page, user + " logged in and asked for KYC", () => document.querySelector("#banner").dataset.state === "kyc_required" &&
        !document.querySelector("#card-kyc").hidden);
    await fill(page, "#f-kyc", {legal_name: legal, country: "FR", id_number: "X" + user.toUpperCase() + "42"});
    await page.$eval('#f-kyc [name="date_of_birth"]', (e) => { e.value = "1990-04-01"; });
    const input = await page.$('#f-kyc [name="document"]');
    await input.uploadFile(await documentFile(page, user, legal));
    await click(page, "#f-kyc button[type=submit]");
    await until(page, user + "'s KYC pending", () => document.querySelector("#banner").dataset.state === "kyc_pending");
}

// Without sign-up on the server: alice and bob made from the command line
// (user, password, deposit), logged in through the page's form.
async function loginOnly(alice, bob) {
    admin("user alice", "user bob", "deposit alice CASH 50000", "deposit bob " + SYM + " 100");
    password("alice", "Pw-alice-2024x");
    password("bob", "Pw-bob-2024x");
    for (const [page, u] of [[alice, "alice"], [bob, "bob"]]) {
        await open(page, "#account");
        await fill(page, "#f-login", {username: u, password: "Pw-" + u + "-2024x"});
        await click(page, "#f-login button[type=submit]");
        await until(page, u + " logged in", (x) => document.querySelector("#user-name").textContent.startsWith(x), u);
        await until(page, u + "'s account feed live", () => document.querySelector("#pv-status").dataset.state === "live");
    }
}

async function fullPart(hasSignup) {
    const alice = await newPage(await browser.createBrowserContext(), LAPTOP, "alice", problems);
    const bob = await newPage(await browser.createBrowserContext(), PHONE, "bob", problems);
    const ops = await newPage(await browser.createBrowserContext(), LAPTOP, "operator", problems);
    if (!hasSignup) {
        // The server has had sign-up since #14: its absence is a failure,
        // and the trading part still runs with users made by hand.
        console.log("FAIL web_signup_kyc_operator: the server has no /api/v1/signup (404)");
        failed++;
        if (await check("login_in_page", () => loginOnly(alice, bob)))
            await tradePart(alice, bob, null);
        return;
    }
    if (!await check("signup_and_kyc_upload", async () => {
        await signupAndKyc(alice, "alice", "Alice Martin");
        await shot(alice, "laptop-kyc-pending");
        await signupAndKyc(bob, "bob", "Bob Durand");
        await shot(bob, "phone-kyc-pending");
    }))
        return;
    if (!await check("operator_approves_kyc", async () => {
        // The operator: an account made operator from the command line (API.md).
        await open(ops, "#account");
        await fill(ops, "#f-signup", {username: "ops", email: "ops@example.com", password: "Violet-Harbor-Lamp-73!"});
        await click(ops, "#f-signup button[type=submit]");
        await until(ops, "ops logged in", () => !document.querySelector("#user-name").hidden);
        // A session's role is read at login: log out, be made operator, log
        // in again.  (Made operator while logged in, the page's session is
        // ended by the change, and its private WebSocket's reconnects are
        // refused until the logout: console errors on a slow machine.)
        await click(ops, "#btn-logout");
        await until(ops, "ops logged out", () => document.querySelector("#btn-logout").hidden);
        execFileSync(env.BOURSE, ["admin", "--data", env.DATA, "account", "operator", "ops"], {timeout: 20000});
        await open(ops, "#account");
        await fill(ops, "#f-login", {username: "ops", password: "Violet-Harbor-Lamp-73!"});
        await click(ops, "#f-login button[type=submit]");
        await until(ops, "ops logged in again", () => !document.querySelector("#btn-logout").hidden);
        await open(ops, "#operator");
        await until(ops, "the operator tab", () => !document.querySelector("#nav-operator").hidden, undefined, 5000);
        await until(ops, "both users in the KYC queue", () =>
            ["alice", "bob"].every((u) => document.querySelector(`.kyc-item[data-user="${u}"]`)));
        await until(ops, "alice's document shown", () => {
            const img = document.querySelector('.kyc-item[data-user="alice"] img');
            return img && img.complete && img.naturalWidth === 480;
        });
        await shot(ops, "laptop-operator-kyc");
        for (const u of ["alice", "bob"]) {
            await click(ops, `.kyc-item[data-user="${u}"] button[data-act="approve"]`);
            await until(ops, u + " gone from the queue", (x) => !document.querySelector(`.kyc-item[data-user="${x}"]`), u);
        }
        // Without a reload, both pages learn that their account is active.
        await until(alice, "alice active", () => document.querySelector("#banner").dataset.state === "active");
        await until(bob, "bob active", () => document.querySelector("#banner").dataset.state === "active");
    }))
        return;
    if (!await check("deposits_approved", async () => {
        for (const [page, asset, amount] of [[alice, "CASH", "50000"], [bob, SYM, "100"]]) {
            await page.select("#fund-asset", asset);
            await page.type('#f-funding [name="amount"]', amount);
            await click(page, "#fund-submit");
            await until(page, "the request listed", (a) => [...document.querySelectorAll("#funding tbody tr")].some((r) => r.textContent.includes(a)), asset);
        }
        await click(ops, "#op-refresh");
        await until(ops, "two pending requests", () => document.querySelectorAll("#op-funding tbody tr").length >= 2);
        await shot(ops, "laptop-operator-funding");
        for (const u of ["alice", "bob"]) {
            await click(ops, `#op-funding tr[data-user="${u}"] button[data-act="approve"]`);
            await until(ops, u + "'s request gone", (x) => !document.querySelector(`#op-funding tr[data-user="${x}"]`), u);
        }
        await until(alice, "alice's cash", () => document.querySelector('#balances-mini tr[data-asset="CASH"]')?.textContent.includes("50,000"));
        await until(bob, "bob's shares", (s) => document.querySelector(`#balances-mini tr[data-asset="${s}"]`)?.textContent.includes("100"), SYM);
    }))
        return;
    await tradePart(alice, bob, ops);
}

async function tradePart(alice, bob, ops) {
    await check("ticket_checks_in_page", async () => {
        await open(alice, "#trade/" + SYM);
        const tryTicket = async (price, q) => {
            await alice.$eval("#t-price", (e, v) => { e.value = v; e.dispatchEvent(new Event("input")); }, price);
            await alice.$eval("#t-qty", (e, v) => { e.value = v; e.dispatchEvent(new Event("input")); }, q);
            return [await text(alice, "#t-msg"), await alice.$eval("#t-submit", (b) => b.disabled)];
        };
        const cases = [["101.005", "10", /tick/], ["101", "1.5", /whole/], ["101", "0", /positive/], ["1000", "60", /Not enough cash/]];
        for (const [p, q, want] of cases) {
            const [msg, disabled] = await tryTicket(p, q);
            if (!want.test(msg) || !disabled)
                throw new Error(`price ${p} qty ${q}: "${msg}", disabled ${disabled}`);
        }
    });
    await check("crossing_orders_fill_live", async () => {
        // alice (laptop) bids 10 at 100.60, inside the spread part 1 left
        // (100.50 / 100.70); bob (phone) sells 10 at 100.60.
        await click(alice, '#ticket .side-buy');
        await alice.$eval("#t-price", (e) => { e.value = ""; });
        await alice.$eval("#t-qty", (e) => { e.value = ""; });
        await alice.type("#t-price", "100.60");
        await alice.type("#t-qty", "10");
        await alice.select("#t-tif", "gtc");
        await click(alice, "#t-submit");
        await until(alice, "alice's open order", () => document.querySelectorAll("#orders tbody tr").length === 1);
        await until(alice, "alice's bid in the ladder", () =>
            [...document.querySelectorAll("#ladder-bids .lrow")].some((r) => r.textContent.startsWith("100.6010")));
        await shot(alice, "laptop-order-open");
        await open(bob, "#trade/" + SYM);
        await click(bob, '#mtabs button[data-m="book"]');
        await until(bob, "bob sees the bid", () =>
            [...document.querySelectorAll("#ladder-bids .lrow")].some((r) => r.textContent.startsWith("100.6010")));
        await click(bob, "#ladder-bids .lrow");
        await click(bob, '#mtabs button[data-m="trade"]');
        await bob.type("#t-qty", "10");
        await shot(bob, "phone-ticket");
        await click(bob, "#t-submit");
        for (const [page, who, side] of [[alice, "alice", "buy"], [bob, "bob", "sell"]]) {
            await until(page, who + "'s fill", (s) => [...document.querySelectorAll("#fills tbody tr")].some((r) =>
                r.textContent.includes("100.60") && r.textContent.includes(s)), side);
            await until(page, who + "'s book without the bid", () =>
                ![...document.querySelectorAll("#ladder-bids .lrow")].some((r) => r.textContent.startsWith("100.60")));
            await until(page, who + "'s candle closing at 100.60", () => document.querySelector("#chart").dataset.close === "100.6");
        }
        const open_ = await alice.$$eval("#orders tbody tr", (r) => r.length);
        if (open_ !== 0)
            throw new Error("alice still has " + open_ + " open orders");
        await click(alice, '#blotter-tabs button[data-tab="fills"]');
        await shot(alice, "laptop-filled");
        await click(bob, '#mtabs button[data-m="orders"]');
        await click(bob, '#blotter-tabs button[data-tab="fills"]');
        await shot(bob, "phone-filled");
        await click(bob, '#mtabs button[data-m="chart"]');
        await shot(bob, "phone-chart-after");
    });
    if (!ops)
        return;
    await check("operator_halts_and_resumes", async () => {
        await click(ops, `#op-symbols tr[data-symbol="${SYM}"] button[data-act="halt"]`);
        await until(ops, SYM + " halted", (s) => document.querySelector(`#op-symbols tr[data-symbol="${s}"]`)?.textContent.includes("halted"), SYM);
        await alice.reload();
        await until(alice, "the page to start", () => document.body.dataset.ready === "1");
        await until(alice, "the halt shown to alice", () => !document.querySelector("#tk-halt").hidden);
        await alice.$eval("#t-qty", (e) => { e.value = "1"; e.dispatchEvent(new Event("input")); });
        const msg = await text(alice, "#t-msg");
        if (!/halted/.test(msg))
            throw new Error("ticket says " + msg);
        await click(ops, `#op-symbols tr[data-symbol="${SYM}"] button[data-act="resume"]`);
        await until(ops, SYM + " open again", (s) => document.querySelector(`#op-symbols tr[data-symbol="${s}"]`)?.textContent.includes("open"), SYM);
    });
}
