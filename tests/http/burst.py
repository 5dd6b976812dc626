#!/usr/bin/env python3
"""Logins in a burst beside a client's GETs (tests/sh/e2e_http_workers.sh).

burst.py PORT N USER:PASSWORD...
  N logins at once (cycling over the users; a user's name with a '!' suffix
  means a wrong password), while one other client sends GET /api/v1/symbols
  round trips on one keep-alive connection until the last login is answered.
Prints one line per login ("login USER STATUS COOKIE RETRY"), then
"gets_during N" (round trips completed while logins were outstanding) and
"gets_before_first N" (before the first login was answered).
"""
import http.client, json, sys, threading, time

port, n = int(sys.argv[1]), int(sys.argv[2])
creds = [c.split(":", 1) for c in sys.argv[3:]]
results = [None] * n
answered = [0]
first_at = [None]
lock = threading.Lock()
start = threading.Barrier(n + 1)

def login(i):
    u, p = creds[i % len(creds)]
    if u.endswith("!"):
        u, p = u[:-1], p + "x"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"username": u, "password": p})
    start.wait()
    try:
        c.request("POST", "/api/v1/login", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        cookie = ""
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("bourse_session="):
                cookie = v.split(";")[0].split("=", 1)[1]
        results[i] = (u, r.status, cookie or "-", r.getheader("Retry-After") or "-")
    except Exception as e:  # noqa
        results[i] = (u, 0, "-", repr(e).replace(" ", "_"))
    with lock:
        answered[0] += 1
        if first_at[0] is None:
            first_at[0] = gets[0]

gets = [0]
threads = [threading.Thread(target=login, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
g = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
g.request("GET", "/api/v1/symbols")  # connected and warm before the burst
g.getresponse().read()
start.wait()
deadline = time.time() + 60
while time.time() < deadline:
    with lock:
        if answered[0] == n:
            break
    g.request("GET", "/api/v1/symbols")
    r = g.getresponse()
    r.read()
    if r.status == 200:
        with lock:
            if answered[0] < n:
                gets[0] += 1
for t in threads:
    t.join()
for u, st, ck, ra in results:
    print("login", u, st, ck, ra)
print("gets_during", gets[0])
print("gets_before_first", first_at[0])
