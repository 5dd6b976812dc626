#!/bin/sh
# FIX beside OUCH, two server builds alternated: each round starts a fresh
# `serve` of build A, then of build B (defaults, durability DUR, --fix-port 0),
# runs `bourse load --proto fix` of build B against it (the same client for
# both: the TCP echo, then OUCH, then FIX, 8 sessions, one open-loop
# order/cancel workload) and prints the load's report with the server's CPU
# seconds over the run and the host's load average.
# Usage: sh scripts/fix-ab.sh ROUNDS A B [RATE [SECS [DUR]]]
#   (docs/benchmarks.md, "FIX 4.4 beside OUCH")
ROUNDS=${1:?rounds}; A=${2:?build A}; B=${3:?build B}; RATE=${4:-10000}; SECS=${5:-3}; DUR=${6:-batch}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
printf '[journal]\ndurability = %s\n' "$DUR" >"$dir/ini"
tck=$(getconf CLK_TCK)
for i in $(seq 1 "$ROUNDS"); do
    for bin in "$A" "$B"; do
        "$bin" serve --config "$dir/ini" --data "$dir/d" --order-port 0 --fix-port 0 --feed-port 0 --http-port 0 \
            2>"$dir/log" &
        pid=$!
        n=0
        until grep -q 'ready (session' "$dir/log" 2>/dev/null; do
            sleep 0.1
            n=$((n + 1))
            [ $n -lt 300 ] || { echo "server did not start"; cat "$dir/log"; exit 1; }
        done
        oport=$(grep -o 'OUCH) listening on [0-9.]*:[0-9]*' "$dir/log" | tail -1 | sed 's/.*://')
        fport=$(grep -o 'FIX 4.4) listening on [0-9.]*:[0-9]*' "$dir/log" | tail -1 | sed 's/.*://')
        c0=$(awk '{print $14 + $15}' /proc/$pid/stat)
        "$B" load --proto fix --data "$dir/d" --fix-port "$fport" --order-port "$oport" --rate "$RATE" \
            --seconds "$SECS" --sessions 8 >"$dir/out" 2>&1
        c1=$(awk '{print $14 + $15}' /proc/$pid/stat)
        echo "== $bin round $i rate $RATE durability $DUR server_cpu_s=$(awk "BEGIN {print ($c1 - $c0) / $tck}") load_avg=$(cut -d' ' -f1 /proc/loadavg)"
        cat "$dir/out"
        kill -TERM "$pid"
        wait "$pid" 2>/dev/null
        pid=
        rm -rf "$dir/d" "$dir/log"
    done
done
