#!/bin/sh
# One `bourse serve` at a time for the benchmark scripts (scripts/load.sh,
# latency.sh, latency-counts.sh source this once $BOURSE and $dir, a
# temporary directory, are set).  The server's data is $dir/d and its log
# $dir/log; ports come from the kernel.
#   start INI [BINARY]  start it (BINARY defaults to $BOURSE), wait (up to
#                       30 s) for ready; sets $pid and $port (order entry)
#   stop                SIGTERM, a bounded wait, then SIGKILL; removes the
#                       data and log, so the next start is a fresh venue
pid=
start() {
    "${2:-$BOURSE}" serve --config "$1" --data "$dir/d" --order-port 0 --feed-port 0 --http-port 0 2>"$dir/log" &
    pid=$!
    i=0
    until grep -q 'ready (session' "$dir/log" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
        [ $i -lt 300 ] || { echo "server did not start"; cat "$dir/log"; exit 1; }
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
