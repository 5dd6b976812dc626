#!/bin/sh
# The footprint of an empty exchange, and what sizing it down costs under
# load (issue #18, item 9; docs/benchmarks.md, "Footprint of an empty
# exchange").  For each configuration: a fresh data directory, `bourse serve`
# until ready, then the data directory's size (du) and the server's resident
# memory (VmRSS from /proc); then ROUNDS alternating `bourse load` runs at
# RATE orders/s for 5 s on a fresh server of each, printing the round trips.
# Usage: sh scripts/footprint.sh [BOURSE]   (RATE=100000 ROUNDS=3)
BOURSE=${1:-build/bourse}
RATE=${RATE:-100000}
ROUNDS=${ROUNDS:-3}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
# before: the defaults up to issue #18; after: today's built-in defaults
printf '[journal]\nsegment_mb = 256\n[limits]\nids = 8388608\norders = 1048576\n' >"$tmp/before.ini"
: >"$tmp/after.ini"
start() { # NAME: a fresh server on $tmp/NAME, its pid and order port
    rm -rf "$tmp/$1"
    "$BOURSE" serve --config "$tmp/$1.ini" --data "$tmp/$1" --order-port 0 --feed-port 0 --http-port 0 \
        2>"$tmp/$1.log" &
    pid=$!
    i=0
    until grep -q 'ready (session' "$tmp/$1.log" || [ $i -gt 600 ]; do sleep 0.1; i=$((i + 1)); done
    port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$tmp/$1.log" | sed 's/.*://')
}
stop() { kill "$pid"; wait "$pid"; pid=; }
for c in before after; do
    start $c
    sleep 1
    echo "$c: data directory $(du -sm "$tmp/$c" | cut -f1) MB, server RSS" \
        "$(awk '/VmRSS/ {print int($2 / 1024)}' /proc/$pid/status) MiB before the first order"
    stop
done
r=0
while [ $r -lt "$ROUNDS" ]; do
    for c in before after; do
        start $c
        echo "$c, round $r:"
        "$BOURSE" load --data "$tmp/$c" --order-port "$port" --users 10 --rate "$RATE" --seconds 5 |
            grep -E '^(load|round trip to Accepted)'
        stop
    done
    r=$((r + 1))
done
