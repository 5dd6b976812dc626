#!/bin/sh
# Two server builds alternated under the same load, for a before/after on a
# noisy machine: each round starts a fresh `serve` of build A, then of build B
# (one gateway, `durability = none`, snapshots off), runs
# `bourse load --users 10 --rate RATE --seconds SECS` against it with the load
# generator of build B (the same client for both), and prints the server's
# CPU over the run (from /proc/PID/stat), each thread's CPU ticks and
# voluntary context switches, then the load's own report.  Swap A and B for
# a second set, so that a drift of the host's load falls on both.
# Usage: sh scripts/load-ab.sh ROUNDS A B [RATE [SECS]]   (docs/benchmarks.md, "One ring")
ROUNDS=${1:?rounds}; A=${2:?build A}; B=${3:?build B}; RATE=${4:-100000}; SECS=${5:-5}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
cat >"$dir/ini" <<X
[journal]
durability = none
snapshot_every = 0
[limits]
ids = 8388608
[gateway]
sessions_per_user = 1000
rate = 1000000
burst = 100000
threads = 1
X
tck=$(getconf CLK_TCK)
for i in $(seq 1 "$ROUNDS"); do
    for bin in "$A" "$B"; do
        "$bin" serve --config "$dir/ini" --data "$dir/d" --order-port 0 --feed-port 0 --http-port 0 2>"$dir/log" &
        pid=$!
        n=0
        until grep -q 'ready (session' "$dir/log" 2>/dev/null; do
            sleep 0.1
            n=$((n + 1))
            [ $n -lt 300 ] || { echo "server did not start"; cat "$dir/log"; exit 1; }
        done
        port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$dir/log" | tail -1 | sed 's/.*://')
        c0=$(awk '{print $14 + $15}' /proc/$pid/stat)
        "$B" load --data "$dir/d" --order-port "$port" --users 10 --rate "$RATE" --seconds "$SECS" >"$dir/out" 2>&1
        c1=$(awk '{print $14 + $15}' /proc/$pid/stat)
        echo "== $bin round $i server_cpu_s=$(awk "BEGIN {print ($c1 - $c0) / $tck}") load_avg=$(cut -d' ' -f1 /proc/loadavg)"
        for t in /proc/$pid/task/*; do
            printf '   thread %s cpu_ticks=%s vol_cs=%s\n' "$(cat "$t/comm")" "$(awk '{print $14 + $15}' "$t/stat")" \
                "$(awk '/^voluntary_ctxt/ {print $2}' "$t/status")"
        done
        cat "$dir/out"
        kill -TERM "$pid"
        wait "$pid" 2>/dev/null
        pid=
        rm -rf "$dir/d" "$dir/log"
    done
done
