#!/bin/sh
# `make load`: the server under load, on loopback only, each step bounded in
# time.  Starts `bourse serve` in a temporary directory, then runs
# `bourse load` at the rates and session counts of docs/benchmarks.md, and
# stops the server.  Usage: sh scripts/load.sh [BOURSE] [RATES...]
BOURSE=${1:-build/bourse}
shift 2>/dev/null
RATES=${*:-"215000 400000 700000 1000000"}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
start() {
    "$BOURSE" serve --data "$dir/d" --order-port 0 --feed-port 0 --http-port 0 "$@" 2>"$dir/log" &
    pid=$!
    i=0
    until grep -q 'ready (session' "$dir/log" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
        [ $i -lt 100 ] || { echo "server did not start"; cat "$dir/log"; exit 1; }
    done
    port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$dir/log" | tail -1 | sed 's/.*://')
}
stop() {
    kill -TERM "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
    rm -rf "$dir/d" "$dir/log"
}
start
for r in $RATES; do
    echo "== $r orders/s, 100 sessions, 10 s"
    "$BOURSE" load --data "$dir/d" --order-port "$port" --users 100 --rate "$r" --seconds 10
done
stop
printf '[gateway]\nmax_sessions = 60000\nsessions_per_ip = 1000\nsessions_per_user = 100\n' >"$dir/many.ini"
start --config "$dir/many.ini"
echo "== 50,000 sessions held (1,000 users x 50), 100 orders/s for 10 s"
"$BOURSE" load --data "$dir/d" --order-port "$port" --users 1000 --sessions 50000 --rate 100 --seconds 10
stop
