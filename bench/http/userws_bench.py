#!/usr/bin/env python3
"""Private WebSocket fan-out (docs/benchmarks.md, "The private WebSocket"):

  userws_bench.py PORT KEYS N TRADES RATE SERVER_PID [SYMBOL]

KEYS has "USER KEY_ID SECRET" lines (`bourse load --proto http --setup-only --keys-out`).
Opens N private WebSockets (GET /api/v1/ws signed with each user's key), reads the server's
RSS before and after (memory per connection), then makes TRADES trades at RATE/s over the
HTTP API, one after the other: user 2j mod N rests a sell of 1 share, user 2j+1 mod N buys
it. Each trade must push a fill to both users' sockets; the delivery time of a fill is from
the moment the buy was written (the event's cause, on this host's clock) to the moment the
socket read it, and also from the fill's own "time" (the engine's, in ms). Prints the counts,
the percentiles and one line "userws result: connected C of N, fills F of 2*TRADES".
"""
import asyncio, base64, hashlib, hmac, json, os, sys, time

port, keys_path, n_users, trades, rate, spid = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                                 int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]))
sym = sys.argv[7] if len(sys.argv) > 7 else "AAPL"
users = [l.split() for l in open(keys_path) if l.strip()][:n_users]
prefix = "%04x" % (int(time.time() * 1000) & 0xffff)
sent_at = {}            # order id -> perf_counter when its trade's buy was written
lat_send, lat_engine = [], []
pushes = [0]
fills = [0]
bad = [0]
refused = []


def rss_kib():
    for line in open("/proc/%d/status" % spid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def sign(secret, method, path, body=b""):
    ts = str(int(time.time() * 1000))
    nonce = "%s-%s" % (prefix, os.urandom(8).hex())
    msg = ("%s\n%s\n%s\n%s\n" % (ts, nonce, method, path)).encode() + body
    return ts, nonce, hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


async def ws_reader(reader):
    buf = b""
    while True:
        while len(buf) < 2:
            d = await reader.read(65536)
            if not d:
                return
            buf += d
        n, off = buf[1] & 127, 2
        if n == 126:
            while len(buf) < 4:
                buf += await reader.read(65536)
            n, off = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            while len(buf) < 10:
                buf += await reader.read(65536)
            n, off = int.from_bytes(buf[2:10], "big"), 10
        while len(buf) < off + n:
            d = await reader.read(65536)
            if not d:
                return
            buf += d
        op, payload, buf = buf[0] & 15, buf[off:off + n], buf[off + n:]
        if op != 1:
            continue
        now, wall_ms = time.perf_counter(), time.time() * 1000
        pushes[0] += 1
        try:
            m = json.loads(payload)
        except ValueError:
            bad[0] += 1
            continue
        if m.get("type") == "fill" and m.get("order_id", "")[:4] == prefix:
            t = sent_at.get(m["order_id"][5:])
            fills[0] += 1
            if t is not None:
                lat_send.append(now - t)
            lat_engine.append(wall_ms - m.get("time", wall_ms))


async def open_ws(u, sem, conns):
    name, key, secret = u
    async with sem:
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            ts, nonce, sig = sign(secret, "GET", "/api/v1/ws")
            wk = base64.b64encode(os.urandom(16)).decode()
            w.write(("GET /api/v1/ws?key=%s&ts=%s&nonce=%s&sig=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: bourse-user\r\n\r\n"
                     % (key, ts, nonce, sig, port, wk)).encode())
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 60)
            if b" 101 " not in head.split(b"\r\n")[0]:
                if not refused:
                    print("userws: %s: %s" % (name, head.split(b"\r\n")[0].decode(errors="replace")))
                refused.append(name)
                return
            conns.append((w, asyncio.ensure_future(ws_reader(r))))
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            if not refused:
                print("userws: %s: %r" % (name, e))
            refused.append(name)
            return


async def http_call(r, w, u, method, path, body):
    b = json.dumps(body).encode()
    ts, nonce, sig = sign(u[2], method, path, b)
    w.write(("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bourse-Key: %s\r\nX-Bourse-Timestamp: %s\r\n"
             "X-Bourse-Nonce: %s\r\nX-Bourse-Signature: %s\r\nContent-Type: application/json\r\n"
             "Content-Length: %d\r\n\r\n" % (method, path, u[1], ts, nonce, sig, len(b))).encode() + b)
    head = await r.readuntil(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    await r.readexactly(n)
    return int(head.split(b" ")[1])


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))] * 1000 if v else float("nan")


async def main():
    rss0 = rss_kib()
    sem, conns = asyncio.Semaphore(256), []
    t0 = time.time()
    await asyncio.gather(*(open_ws(u, sem, conns) for u in users))
    t_conn = time.time() - t0
    await asyncio.sleep(2)  # the first pushes (balances) and the server settle
    rss1 = rss_kib()
    per = (rss1 - rss0) * 1024 / max(1, len(conns))
    print("userws: %d of %d private WebSockets open in %.1f s; server RSS %d -> %d MiB: %.0f bytes per "
          "connection (the socket and its queue; the user's link into the gateway was made at login, before)"
          % (len(conns), len(users), t_conn, rss0 // 1024, rss1 // 1024, per))
    sys.stdout.flush()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    tr0 = time.perf_counter()
    for j in range(trades):
        due = tr0 + j / rate
        d = due - time.perf_counter()
        if d > 0:
            await asyncio.sleep(d)
        maker, taker = users[(2 * j) % len(users)], users[(2 * j + 1) % len(users)]
        st = await http_call(r, w, maker, "POST", "/api/v1/orders",
                             {"symbol": sym, "side": "sell", "quantity": 1, "price": "100",
                              "client_order_id": "%s-m%d" % (prefix, j)})
        sent_at["m%d" % j] = sent_at["t%d" % j] = time.perf_counter()
        st2 = await http_call(r, w, taker, "POST", "/api/v1/orders",
                              {"symbol": sym, "side": "buy", "quantity": 1, "price": "100",
                               "client_order_id": "%s-t%d" % (prefix, j)})
        errors += (st != 201) + (st2 != 201)
    t_trades = time.perf_counter() - tr0
    deadline = time.time() + 30
    while fills[0] < 2 * trades and time.time() < deadline:
        await asyncio.sleep(0.05)
    print("userws: %d trades in %.1f s (%.0f/s), %d HTTP errors; %d pushes read, %d fills of %d, %d unreadable"
          % (trades, t_trades, trades / t_trades, errors, pushes[0], fills[0], 2 * trades, bad[0]))
    print("fill delivery from the buy's write: p50 %.2f ms  p99 %.2f ms  max %.2f ms (n=%d)"
          % (pct(lat_send, 50), pct(lat_send, 99), pct(lat_send, 100), len(lat_send)))
    print("fill delivery from the fill's engine time (ms clock): p50 %.1f ms  p99 %.1f ms  max %.1f ms"
          % (pct([x / 1000 for x in lat_engine], 50), pct([x / 1000 for x in lat_engine], 99),
             pct([x / 1000 for x in lat_engine], 100)))
    print("userws result: connected %d of %d, fills %d of %d, errors %d" %
          (len(conns), len(users), fills[0], 2 * trades, errors))
    for cw, task in conns:
        cw.close()
        task.cancel()
    w.close()


asyncio.run(main())
