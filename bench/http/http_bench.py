#!/usr/bin/env python3
"""HTTP API figures (docs/benchmarks.md "The HTTP API"): http_bench.py PORT COOKIEFILE MODE ...

  orders SECONDS THREADS   closed-loop POST /api/v1/orders (resting buys), each thread on its
                           own keep-alive connection; prints the rate and p50/p90/p99/max (ms)
  logins N USER PASSWORD   N logins at once (argon2id each, on the worker pool); prints the
                           wall time and logins/s
"""
import http.client, json, sys, threading, time

port, mode = int(sys.argv[1]), sys.argv[3]

def cookies(path):
    c = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) == 7:
            c[f[5]] = f[6]
    return c

if mode == "orders":
    secs, nth = float(sys.argv[4]), int(sys.argv[5])
    ck = cookies(sys.argv[2])
    hdr = {"Content-Type": "application/json", "X-CSRF-Token": ck["bourse_csrf"],
           "Cookie": "bourse_session=%s; bourse_csrf=%s" % (ck["bourse_session"], ck["bourse_csrf"])}
    lat, errs = [], [0]
    lock = threading.Lock()
    end = time.time() + secs

    def run(t):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, i = [], 0
        while time.time() < end:
            i += 1
            body = json.dumps({"symbol": "AAPL", "side": "buy", "quantity": 1, "price": "1.%02d" % (i % 90 + 1),
                               "client_order_id": "b%d_%d" % (t, i)})
            t0 = time.perf_counter()
            c.request("POST", "/api/v1/orders", body, hdr)
            r = c.getresponse()
            r.read()
            dt = time.perf_counter() - t0
            if r.status == 201:
                mine.append(dt)
            else:
                with lock:
                    errs[0] += 1
        with lock:
            lat.extend(mine)

    th = [threading.Thread(target=run, args=(t,)) for t in range(nth)]
    t0 = time.time()
    for t in th:
        t.start()
    for t in th:
        t.join()
    wall = time.time() - t0
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    print("orders %d in %.1f s = %.0f/s, %d threads, errors %d; round trip ms p50 %.2f p90 %.2f p99 %.2f max %.2f"
          % (len(lat), wall, len(lat) / wall, nth, errs[0], q(.5), q(.9), q(.99), lat[-1] * 1000))
elif mode == "logins":
    n, user, pw = int(sys.argv[4]), sys.argv[5], sys.argv[6]
    st = []
    bar = threading.Barrier(n + 1)

    def one():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        bar.wait()
        c.request("POST", "/api/v1/login", json.dumps({"username": user, "password": pw}),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        st.append(r.status)

    th = [threading.Thread(target=one) for _ in range(n)]
    for t in th:
        t.start()
    bar.wait()
    t0 = time.time()
    for t in th:
        t.join()
    wall = time.time() - t0
    print("logins %d at once: %d ok, %d 503, wall %.2f s = %.1f logins/s"
          % (n, st.count(200), st.count(503), wall, st.count(200) / wall))
