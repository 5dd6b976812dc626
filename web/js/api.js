/*
 * api.js - the one door to the HTTP API (/api/v1, API.md).
 *
 * Every call goes through api(): JSON in and out, the session cookie sent by
 * the browser (same origin), and on every state-changing request (POST,
 * DELETE) the header X-CSRF-Token copied from the bourse_csrf cookie, which
 * the server compares with its own (double-submit: a page from another site
 * cannot read our cookie, so it cannot forge the header).  Errors come back
 * as ApiError with the server's stable code and its human message, so each
 * panel can say what went wrong in the server's words.
 */
export class ApiError extends Error {
    constructor(status, code, message) {
        super(message || code);
        this.status = status;
        this.code = code;
    }
}

export function csrfToken() {
    for (const part of document.cookie.split(";")) {
        const [k, ...v] = part.trim().split("=");
        if (k === "bourse_csrf")
            return decodeURIComponent(v.join("="));
    }
    return "";
}

// api("POST", "/orders", {...}); raw bytes: api("POST", path, blob, {type}).
export async function api(method, path, body, opts = {}) {
    const headers = {Accept: "application/json"};
    let payload;
    if (method !== "GET" && method !== "HEAD") {
        const t = csrfToken();
        if (t)
            headers["X-CSRF-Token"] = t;
    }
    if (opts.type) {
        headers["Content-Type"] = opts.type;
        payload = body;
    } else if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        payload = JSON.stringify(body);
    }
    let r;
    try {
        r = await fetch("/api/v1" + path, {method, headers, body: payload, credentials: "same-origin", cache: "no-store"});
    } catch (e) {
        throw new ApiError(0, "NETWORK", "the server cannot be reached");
    }
    const text = r.status === 204 ? "" : await r.text();
    let data = null;
    if (text) {
        try {
            data = JSON.parse(text);
        } catch {
            data = null;
        }
    }
    if (!r.ok) {
        const e = (data && data.error) || {};
        throw new ApiError(r.status, e.code || "HTTP_" + r.status, e.message || r.statusText || "HTTP " + r.status);
    }
    return data;
}

// "CODE: message" for a form's message line.
export function why(e) {
    if (!(e instanceof ApiError))
        return String(e && e.message || e);
    return e.message && e.message !== e.code ? e.message + " (" + e.code + ")" : e.code;
}
