/*
 * socket.js - a WebSocket that comes back.
 *
 * Both feeds (public market data on "/", the user's own updates on
 * "/api/v1/ws") need the same care: reconnect after a drop with a growing
 * delay (0.5 s doubling to 8 s, so a restarting server is not hammered),
 * tell the status dot in the top bar, and call onopen again after each
 * reconnect so the owner can subscribe again and fetch what it missed.
 */
export class Socket {
    constructor(path, {onopen, onmessage, dot, protocol}) {
        this.path = path;
        this.protocol = protocol;
        this.onopen = onopen;
        this.onmessage = onmessage;
        this.dot = dot;
        this.ws = null;
        this.delay = 500;
        this.wanted = false;
        this.timer = 0;
    }

    start() {
        this.wanted = true;
        if (!this.ws)
            this.open();
    }

    stop() {
        this.wanted = false;
        clearTimeout(this.timer);
        if (this.ws) {
            const ws = this.ws;
            this.ws = null;
            ws.close();
        }
        this.mark("");
    }

    get live() {
        return !!this.ws && this.ws.readyState === WebSocket.OPEN;
    }

    send(obj) {
        if (this.live)
            this.ws.send(JSON.stringify(obj));
    }

    mark(cls) {
        if (!this.dot)
            return;
        this.dot.classList.toggle("live", cls === "live");
        this.dot.classList.toggle("down", cls === "down");
        this.dot.dataset.state = cls || "off";
    }

    open() {
        const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + this.path;
        let ws;
        try {
            ws = this.protocol ? new WebSocket(url, this.protocol) : new WebSocket(url);
        } catch {
            return this.retry();
        }
        this.ws = ws;
        ws.onopen = () => {
            this.delay = 500;
            this.mark("live");
            if (this.onopen)
                this.onopen();
        };
        ws.onmessage = (e) => {
            let m;
            try {
                m = JSON.parse(e.data);
            } catch {
                return;
            }
            this.onmessage(m);
        };
        ws.onclose = () => {
            if (this.ws !== ws)
                return;
            this.ws = null;
            this.mark("down");
            this.retry();
        };
    }

    retry() {
        if (!this.wanted)
            return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.open(), this.delay);
        this.delay = Math.min(this.delay * 2, 8000);
    }
}
