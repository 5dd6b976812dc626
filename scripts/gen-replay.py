#!/usr/bin/env python3
"""Generate a large, valid replay file for measuring `bourse replay` speed.

usage: scripts/gen-replay.py LINES [SEED] > FILE

Ten symbols, a thousand funded users, then a stream of day/gtc/ioc orders
around a slowly drifting mid price, with cancels and replaces of recent
orders, so that the book stays populated and about a tenth of orders trade.
"""
import random
import sys


def main():
    n = int(sys.argv[1])
    rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    out = sys.stdout
    syms = ["S%d" % i for i in range(10)]
    users = ["u%d" % i for i in range(1000)]
    lines = 0
    w = []
    for s in syms:
        w.append("symbol %s\n" % s)
    for u in users:
        w.append("user %s\n" % u)
        w.append("deposit %s CASH 100000000000\n" % u)
        for s in syms:
            w.append("deposit %s %s 100000000\n" % (u, s))
    out.write("".join(w))
    lines += len(w)
    mid = {s: 1000000 for s in syms}  # 100.0000
    recent = []
    seq = 0
    buf = []
    while lines < n:
        r = rnd.random()
        s = rnd.choice(syms)
        if r < 0.15 and recent:
            u, oid = recent[rnd.randrange(len(recent))]
            buf.append("cancel %s %s\n" % (u, oid))
        elif r < 0.30 and recent:
            i = rnd.randrange(len(recent))
            u, oid = recent[i]
            seq += 1
            new = "o%d" % seq
            recent[i] = (u, new)
            p = mid[s] + rnd.randint(-50, 50) * 100
            buf.append("replace %s %s %s %d %s\n" % (u, oid, new, rnd.randint(1, 500), dec(p)))
        else:
            u = rnd.choice(users)
            seq += 1
            oid = "o%d" % seq
            side = rnd.choice(("buy", "sell"))
            off = rnd.randint(-40, 60) * 100
            p = mid[s] - off if side == "buy" else mid[s] + off
            mid[s] += rnd.randint(-1, 1) * 100
            tif = rnd.choice(("", "", "", " gtc", " ioc"))
            buf.append("%s %s %s %s %d %s%s\n" % (side, u, oid, s, rnd.randint(1, 500), dec(p), tif))
            recent.append((u, oid))
            if len(recent) > 20000:
                recent.pop(0)
        lines += 1
        if len(buf) >= 65536:
            out.write("".join(buf))
            buf = []
    out.write("".join(buf))


def dec(v):
    i, f = divmod(v, 10000)
    return "%d.%04d" % (i, f) if f else "%d" % i


if __name__ == "__main__":
    main()
