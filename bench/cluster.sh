#!/bin/sh
# Replication benchmarks (docs/benchmarks.md, "Replication"), three
# `bourse serve --node N` processes on loopback, election_ms 150 (libraft
# draws each timeout between 1x and 2x: 150-300 ms), heartbeat 30 ms.
#
#   sh bench/cluster.sh failover [KILLS]   kill -9 of the leader, KILLS
#       times (default 20): from the kill to the first order Accepted by
#       the new leader, as a client sees it (a `bourse client` per try,
#       round the surviving nodes' order ports, so a process start of a
#       few ms is included); the killed node is restarted and caught up
#       (every node at lag 0) before the next kill.  Prints each, then
#       p50/p90/p99/max.
#   sh bench/cluster.sh catchup [SECONDS] [RATE]   a follower stopped while
#       `bourse load` runs SECONDS (default 5) at RATE orders/s (default
#       5,000) on the leader, then started again: commands it applied per
#       second from its start (journal recovery and Raft's replay of its log
#       included) to reaching the leader's seq.
#   sh bench/cluster.sh load [RATE] [SECONDS]   `bourse load` (OUCH) at RATE
#       (default 50,000) for SECONDS (default 5) against one `bourse serve`
#       and then against the leader of three: its round-trip report each
#       (election_ms 1000 there: a throughput run, not a failover one).
#
# BOURSE names the binary (default build/bourse).  Keep runs short: the
# machine may be shared.
B=${BOURSE:-build/bourse}
MODE=${1:-failover}
T=$(mktemp -d)
trap 'for f in "$T"/pid*; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; rm -rf "$T"' EXIT
set -- "$@" ""
shift
ARG1=$1 ARG2=$2
# The load runs measure throughput and round trips, not failover: a longer
# election timeout there, so that a starved machine does not depose the
# leader mid-run (it did at 150 ms on a loaded 2-vCPU machine).
EL=150 HB=30
[ "$MODE" = load ] && EL=1000 HB=100
set -- $("$B" cluster --free-ports 9)
R1=$1 R2=$2 R3=$3 P1=$4 P2=$5 P3=$6 F1=$7 F2=$8 F3=$9
cat >"$T/c.ini" <<INI
[cluster]
nodes = 1=127.0.0.1:$R1/127.0.0.1:$P1, 2=127.0.0.1:$R2/127.0.0.1:$P2, 3=127.0.0.1:$R3/127.0.0.1:$P3
election_ms = $EL
heartbeat_ms = $HB
snapshot_entries = 1000000
snapshot_trailing = 1000000
[journal]
segment_mb = 64
[market]
symbols = AAPL
INI
v() { eval echo "\$$1$2"; }
start() {
    mkdir -p "$T/n$1"
    chmod 700 "$T/n$1"
    "$B" serve --config "$T/c.ini" --node "$1" --data "$T/n$1" --order-port "$(v P "$1")" \
        --feed-port "$(v F "$1")" --http-port 0 2>>"$T/log$1" &
    echo $! >"$T/pid$1"
}
status() { timeout 5 "$B" admin --data "$T/n$1" cluster 2>/dev/null; }
leader() { # the serving leader, up to 60 s
    i=0
    while [ $i -lt 600 ]; do
        for n in 1 2 3; do
            status "$n" | grep -q "^node $n leader .* serving$" && echo "$n" && return
        done
        sleep 0.1
        i=$((i + 1))
    done
}
healthy() { # every node at lag 0 and heard from, on the leader, up to 60 s
    i=0
    while [ $i -lt 600 ]; do
        l=$(leader)
        s=$(status "$l")
        [ "$(echo "$s" | grep -c '^peer [123] match [0-9]* lag 0$')" = 3 ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
ms() { echo $(($(date +%s%N) / 1000000)); }
pct() { # FILE: p50 p90 p99 max of the numbers in it
    sort -n "$1" | awk '{ a[NR] = $1 } END {
        n = NR
        i50 = int(n * 0.50 + 0.5); i90 = int(n * 0.90 + 0.5); i99 = int(n * 0.99 + 0.5)
        if (i50 < 1) i50 = 1; if (i90 < 1) i90 = 1; if (i99 < 1) i99 = 1
        printf "n %d  p50 %d ms  p90 %d ms  p99 %d ms  max %d ms\n", n, a[i50], a[i90], a[i99], a[n] }'
}

if [ "$MODE" = load ]; then
    RATE=${ARG1:-50000} SECS=${ARG2:-5}
    mkdir -p "$T/single"
    chmod 700 "$T/single"
    "$B" serve --data "$T/single" --order-port "$P1" --feed-port 0 --http-port 0 2>>"$T/logs" &
    echo $! >"$T/pid0"
    until grep -q 'ready (session' "$T/logs"; do sleep 0.1; done
    echo "== one node, $RATE orders/s, $SECS s"
    "$B" load --data "$T/single" --order-port "$P1" --users 20 --rate "$RATE" --seconds "$SECS" --symbols AAPL
    kill "$(cat "$T/pid0")"
    rm -f "$T/pid0"
    sleep 1
    for n in 1 2 3; do start $n; done
    L=$(leader)
    echo "== three nodes (leader $L), $RATE orders/s, $SECS s"
    "$B" load --data "$T/n$L" --order-port "$(v P "$L")" --users 20 --rate "$RATE" --seconds "$SECS" --symbols AAPL
    exit 0
fi

for n in 1 2 3; do start $n; done
L=$(leader)
# User load0 (password load-password, hashed at libsodium's lowest cost, as
# `bourse load` writes it: a login's hash check would otherwise be most of
# the time measured); each node has its own password file: copied.
"$B" load --data "$T/n$L" --order-port "$(v P "$L")" --users 1 --rate 0 --seconds 1 --symbols AAPL >/dev/null 2>&1
for n in 1 2 3; do [ "$n" = "$L" ] || cp "$T/n$L/passwords" "$T/n$n/passwords"; done

if [ "$MODE" = catchup ]; then
    SECS=${ARG1:-5} RATE=${ARG2:-5000}
    F=$((L % 3 + 1))
    before=$(status "$F" | sed -n 's/^node .* seq \([0-9]*\).*/\1/p')
    kill "$(cat "$T/pid$F")"
    while kill -0 "$(cat "$T/pid$F")" 2>/dev/null; do sleep 0.1; done
    "$B" load --data "$T/n$L" --order-port "$(v P "$L")" --users 20 --rate "$RATE" --seconds "$SECS" \
        --symbols AAPL >"$T/load" 2>&1
    target=$(status "$L" | sed -n 's/^node .* seq \([0-9]*\).*/\1/p')
    t0=$(ms)
    start "$F"
    while :; do
        s=$(status "$F" | sed -n 's/^node .* seq \([0-9]*\).*/\1/p')
        [ -n "$s" ] && [ "$s" -ge "$target" ] && break
        sleep 0.02
    done
    t1=$(ms)
    behind=$((target - before))
    echo "catch-up: follower $F was $behind commands behind (seq $before -> $target); from its start to" \
        "the leader's seq: $((t1 - t0)) ms, $((behind * 1000 / (t1 - t0 + 1))) commands/s"
    grep 'orders sent\|errors' "$T/load" | head -3
    exit 0
fi

# failover
K=${ARG1:-20}
k=0 id=0
: >"$T/times"
while [ $k -lt "$K" ]; do
    healthy || { echo "cluster not healthy; stopping"; break; }
    L=$(leader)
    t0=$(ms)
    kill -9 "$(cat "$T/pid$L")"
    done=""
    while [ -z "$done" ]; do
        for n in 1 2 3; do
            [ "$n" = "$L" ] && continue
            id=$((id + 1))
            if echo "buy load0 f$id AAPL 1 1" | BOURSE_PASSWORD=load-password timeout 5 "$B" client \
                --order-port "$(v P "$n")" --user load0 2>/dev/null | grep -q '^ACCEPTED'; then
                done=$n
                break
            fi
        done
    done
    t1=$(ms)
    echo "kill $((k + 1)): leader $L killed; node $done accepted an order after $((t1 - t0)) ms"
    echo $((t1 - t0)) >>"$T/times"
    start "$L"
    k=$((k + 1))
done
echo "failover (kill -9 of the leader to the first Accepted order), election_ms 150:"
pct "$T/times"
