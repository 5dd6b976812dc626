#!/bin/sh
# One node vs three (docs/benchmarks.md, "Replication"): the same orders
# through `bourse admin` to a `bourse cluster` of 1 and of 3 nodes on
# loopback, alternated RUNS times; prints orders/s of each run.  The path is
# the admin socket's (a window of 64 commands, one Raft entry per read), so
# it measures what replication adds per batch, not the OUCH gateways.
B=${1:-build/bourse}
PAIRS=${PAIRS:-10000}
RUNS=${RUNS:-3}
T=$(mktemp -d)
trap 'kill $(cat "$T"/pid* 2>/dev/null) 2>/dev/null; rm -rf "$T"' EXIT
k=0
while [ $k -lt "$PAIRS" ]; do
    echo "buy alice b$k ACME 1 1"
    echo "sell bob s$k ACME 1 2"
    k=$((k + 1))
done >"$T/orders"
run() { # NODES RUN
    d=$T/r$2-$1
    n=$1
    run=$2
    mkdir -p "$d"
    chmod 700 "$d"
    set -- $("$B" cluster --free-ports "$n")
    nodes=""
    i=1
    for p in "$@"; do nodes="$nodes $i=127.0.0.1:$p"; i=$((i + 1)); done
    printf '[cluster]\nnodes =%s\n[journal]\nsegment_mb = 64\n' "$nodes" >"$d/c.ini"
    i=1
    while [ $i -le "$n" ]; do
        mkdir -p "$d/n$i"
        chmod 700 "$d/n$i"
        "$B" cluster --config "$d/c.ini" --node $i --data "$d/n$i" 2>/dev/null &
        echo $! >"$T/pid$i"
        i=$((i + 1))
    done
    L=""
    while [ -z "$L" ]; do
        sleep 0.2
        i=1
        while [ $i -le "$n" ]; do
            "$B" admin --data "$d/n$i" cluster 2>/dev/null | grep -q ' serving$' && L=$i
            i=$((i + 1))
        done
    done
    printf 'symbol ACME\nuser alice\nuser bob\ndeposit alice CASH 100000000000\ndeposit bob ACME 100000000\n' |
        "$B" admin --data "$d/n$L" >/dev/null
    t0=$(date +%s%N)
    "$B" admin --data "$d/n$L" <"$T/orders" >/dev/null
    t1=$(date +%s%N)
    echo "nodes $n run $run: $((PAIRS * 2 * 1000000000 / (t1 - t0))) orders/s"
    kill $(cat "$T"/pid*) 2>/dev/null
    wait 2>/dev/null
    rm -f "$T"/pid*
}
r=1
while [ $r -le "$RUNS" ]; do
    run 1 $r
    run 3 $r
    r=$((r + 1))
done
