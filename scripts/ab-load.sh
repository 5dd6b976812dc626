#!/bin/sh
# A/B of two servers under one generator (docs/benchmarks.md): sh scripts/ab-load.sh GEN SERVER_A SERVER_B ROUNDS RATES...
GEN=$1; A=$2; B=$3; ROUNDS=$4; shift 4
dir=$(mktemp -d)
cat >"$dir/ini" <<X
[journal]
durability = none
snapshot_every = 0
[limits]
ids = 8388608
[gateway]
threads = 1
rate = 1000000
burst = 100000
X
for round in $(seq "$ROUNDS"); do for r in "$@"; do for srv in "$A" "$B"; do
    rm -rf "$dir/d"; "$srv" serve --config "$dir/ini" --data "$dir/d" --order-port 0 --feed-port 0 --http-port 0 2>"$dir/log" &
    pid=$!
    i=0; until grep -q 'ready (session' "$dir/log" 2>/dev/null; do sleep 0.1; i=$((i+1)); [ $i -lt 100 ] || break; done
    port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$dir/log" | tail -1 | sed 's/.*://')
    out=$("$GEN" load --data "$dir/d" --order-port "$port" --users 10 --rate "$r" --seconds 5 --json 2>&1 | tail -1)
    echo "$round $r $(basename "$srv") $out"
    kill -TERM $pid; wait $pid 2>/dev/null
done; done; done
rm -rf "$dir"
