#!/bin/sh
# End to end: the server's stage clocks (src/server/stages.h) in `bourse load
# --json`.  A short run at a low rate against a server with durability batch;
# the report must carry every stage, count every order the load sent exactly
# once in the engine's stages, and agree with itself and with the client:
# along the path each stage comes after the one before, an interval is inside
# the stage it ends, the journal's syncer timed its fdatasyncs, and no stage
# took longer than the round trips the client measured (its p50 at most their
# p99, its mean at most theirs: each stage is part of some order's round trip).
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
printf '[journal]\ndurability = batch\n[market]\nsymbols = AAPL MSFT\n' >"$E2E/st.ini"
if ! e2e_start "$d" --config "$E2E/st.ini"; then
    fail e2e_stages_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
timeout 60 "$BOURSE" load --data "$d" --order-port "$PORT" --users 10 --rate 2000 --seconds 3 \
    --symbols AAPL,MSFT --json >"$E2E/out.json" 2>"$E2E/load.err"
rc=$?
why=$(python3 - "$E2E/out.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print("bad JSON: %s" % e); sys.exit()
st = r.get("server_stages_ns")
names = ["taken", "applied", "released", "written", "engine", "write", "sync"]
if not st or sorted(st) != sorted(names):
    print("stages missing: %s" % st); sys.exit()
bad = []
if r["errors"] or not r["orders"]:
    bad.append("errors %s orders %s" % (r["errors"], r["orders"]))
for k in ("taken", "applied", "engine"):  # every order, cancel and replace, once
    if st[k]["count"] != r["orders"]:
        bad.append("%s counted %d of %d orders" % (k, st[k]["count"], r["orders"]))
if st["released"]["count"] < r["accepted"] or st["written"]["count"] != st["released"]["count"]:
    bad.append("reports: released %d written %d accepted %d" % (st["released"]["count"], st["written"]["count"], r["accepted"]))
if st["sync"]["count"] < 1:
    bad.append("no fdatasync timed")
for a, b in (("taken", "applied"), ("applied", "released"), ("released", "written"), ("engine", "applied"), ("write", "written")):
    if st[a]["mean"] > st[b]["mean"]:
        bad.append("%s mean %d after %s mean %d" % (a, st[a]["mean"], b, st[b]["mean"]))
rtt = r["rtt_ns"]
for k in ("taken", "applied", "released", "written"):
    if st[k]["p50"] > rtt["p99"] or st[k]["p50"] > rtt["max"]:
        bad.append("%s p50 %d past the round trip p99 %d" % (k, st[k]["p50"], rtt["p99"]))
    # The stage clocks count every report (a fill's passive side too), the
    # round trip only the sender's own answers: close means may cross by a
    # hair on a machine so busy that both are 100+ ms; 5% is not a hair.
    if st[k]["mean"] > rtt["mean"] * 1.05:
        bad.append("%s mean %d past the round trip's %d" % (k, st[k]["mean"], rtt["mean"]))
for k in names:
    s = st[k]
    if not (s["p50"] <= s["p90"] <= s["p99"] <= s["p999"] <= s["max"]) or s["mean"] > s["max"]:
        bad.append("%s percentiles out of order: %s" % (k, s))
print("; ".join(bad))
PY
)
if [ "$rc" = 0 ] && [ -z "$why" ]; then
    ok e2e_stages_in_load_json
else
    fail e2e_stages_in_load_json "rc $rc: $why $(tail -2 "$E2E/load.err" | tr '\n' '|')"
fi
# The generator over two processes (--procs, src/load/procs.c) pinned with
# --cpu: together they send the whole rate, every order is answered once, and
# the server's stages count each order once.
timeout 60 "$BOURSE" load --data "$d" --order-port "$PORT" --users 10 --sessions 10 --rate 2000 --seconds 2 \
    --symbols AAPL,MSFT --procs 2 --cpu 0-1 --json >"$E2E/procs.json" 2>"$E2E/procs.err"
rc=$?
why=$(python3 - "$E2E/procs.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print("bad JSON: %s" % e); sys.exit()
bad = []
if r["generator_procs"] != 2: bad.append("generator_procs %s" % r["generator_procs"])
if r["orders"] != 4000: bad.append("orders %d, not 2000/s for 2 s" % r["orders"])
if r["errors"] or r["unanswered"] or r["disconnects"]: bad.append("errors %d unanswered %d" % (r["errors"], r["unanswered"]))
if r["accepted"] < 1000 or r["rtt_ns"]["count"] < 1000: bad.append("accepted %d, timed %d" % (r["accepted"], r["rtt_ns"]["count"]))
if r["send_lag_ns"]["count"] < 100: bad.append("send lag of %d batches" % r["send_lag_ns"]["count"])
if r["server_stages_ns"]["taken"]["count"] != r["orders"]: bad.append("taken %d" % r["server_stages_ns"]["taken"]["count"])
print("; ".join(bad))
PY
)
if [ "$rc" = 0 ] && [ -z "$why" ]; then
    ok e2e_load_procs
else
    fail e2e_load_procs "rc $rc: $why $(tail -2 "$E2E/procs.err" | tr '\n' '|')"
fi
# The admin socket answers `stages` itself, and `stages reset` starts over.
a=$(printf 'stages reset\nstages\n' | timeout 10 "$BOURSE" admin --data "$d" 2>&1)
if echo "$a" | grep -q '^OK stages reset' && echo "$a" | grep -q '^STAGE taken 0 ' &&
    [ "$(echo "$a" | grep -c '^STAGE ')" = 7 ]; then
    ok e2e_stages_admin
else
    fail e2e_stages_admin "$(echo "$a" | tr '\n' '|' | cut -c1-300)"
fi
e2e_stop TERM
