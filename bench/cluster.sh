#!/bin/sh
# Replication benchmarks (docs/benchmarks.md, "Replication"), three
# `bourse serve --node N` processes on loopback, election_ms 150 (libraft
# draws each timeout between 1x and 2x: 150-300 ms), heartbeat 30 ms.
#
#   sh bench/cluster.sh failover [KILLS]   kill -9 of the leader, KILLS
#       times (default 20): from the kill to the first order Accepted by
#       the new leader, as a client sees it (a `bourse client` per try,
#       round the surviving nodes' order ports, so a process start of a
#       few ms is included; timed at the Accepted line, not at the client's
#       exit); the killed node is restarted and caught up (every node at
#       lag 0) before the next kill.  Prints each, with where the time went
#       (from the new leader's log: its election timeout firing, election
#       won, barrier applied; then the client), then p50/p90/p99/max of
#       each.  TRIES=1 also prints every client try.  The client is one
#       `bourse client --connect LEADER,B,C` session logged in to
#       the leader before the kill, which logs in again by itself and sends
#       the order written to it after the kill (CLIENT=session, the
#       default); CLIENT=tries starts a `bourse client` per try instead,
#       round the survivors (a process start, some 50-150 ms here, per try).
#       FAST=0 writes `fast_failover = 0` (the election timer alone: the
#       baseline of node.c's fast failover).
#   sh bench/cluster.sh catchup [SECONDS] [RATE]   a follower stopped while
#       `bourse load` runs SECONDS (default 5) at RATE orders/s (default
#       5,000) on the leader, then started again: commands it applied per
#       second from its start (journal recovery and Raft's replay of its log
#       included) to reaching the leader's seq.
#   sh bench/cluster.sh snapshot [ORDERS]   ORDERS (default 1,000,000)
#       resting orders (buys and sells that never cross, qty 1, ten users,
#       through the leader's admin socket), then a follower is stopped, its
#       directory wiped and the node started again (under a supervisor loop:
#       it exits 75 after the install, as in production): the time from its
#       start to its seq reaching the leader's, i.e. the leader's snapshot
#       sent and installed, the node's restart from it (the core and the
#       feed loaded) and the log after the snapshot applied.  Prints the
#       snapshot's size, and the time of each step from the node's log.
#       election_ms 1000 (a snapshot of a large core is taken on the Raft
#       thread: libraft's asynchronous snapshots are not used yet).
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
trap 'for f in "$T"/pidsup* "$T"/pid*; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; rm -rf "$T"' EXIT
set -- "$@" ""
shift
ARG1=$1 ARG2=$2
# The load runs measure throughput and round trips, not failover: a longer
# election timeout there, so that a starved machine does not depose the
# leader mid-run (it did at 150 ms on a loaded 2-vCPU machine).
EL=150 HB=30 SNAP=1000000 TRAIL=1000000 LIMITS=""
[ "$MODE" = load ] && EL=1000 HB=100
if [ "$MODE" = snapshot ]; then
    N=${ARG1:-1000000}
    EL=1000 HB=100 SNAP=128 TRAIL=16
    LIMITS="[limits]
orders = $((N + N / 10 + 1000))
ids = $((2 * N + 1000))"
fi
set -- $("$B" cluster --free-ports 9)
R1=$1 R2=$2 R3=$3 P1=$4 P2=$5 P3=$6 F1=$7 F2=$8 F3=$9
cat >"$T/c.ini" <<INI
[cluster]
nodes = 1=127.0.0.1:$R1/127.0.0.1:$P1, 2=127.0.0.1:$R2/127.0.0.1:$P2, 3=127.0.0.1:$R3/127.0.0.1:$P3
election_ms = $EL
heartbeat_ms = $HB
fast_failover = ${FAST:-1}
snapshot_entries = $SNAP
snapshot_trailing = $TRAIL
[journal]
segment_mb = 64
[market]
symbols = AAPL
$LIMITS
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
at() { # LOG PATTERN SINCE: the ms time of LOG's first line with PATTERN at or after SINCE
    grep -a "$2" "$1" | while read -r d t _; do
        m=$(date -d "$d $t" +%s%3N 2>/dev/null) || continue
        [ "$m" -ge "$3" ] && echo "$m" && break
    done
}
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

if [ "$MODE" = snapshot ]; then
    # Node N under a supervisor, restarted after exit status 75 only.
    sup() {
        mkdir -p "$T/n$1"
        chmod 700 "$T/n$1"
        (
            while :; do
                "$B" serve --config "$T/c.ini" --node "$1" --data "$T/n$1" --order-port "$(v P "$1")" \
                    --feed-port "$(v F "$1")" --http-port 0 2>>"$T/log$1" &
                echo $! >"$T/pid$1"
                wait $!
                [ $? = 75 ] || exit 0
            done
        ) &
        echo $! >"$T/pidsup$1"
    }
    seq_of() { status "$1" | sed -n 's/^node .* seq \([0-9]*\).*/\1/p'; }
    for n in 1 2 3; do sup $n; done
    L=$(leader)
    F=$((L % 3 + 1))
    printf 'user mm%d\ndeposit mm%d CASH 100000000000\ndeposit mm%d AAPL 10000000\n' 0 0 0 1 1 1 2 2 2 3 3 3 \
        4 4 4 5 5 5 6 6 6 7 7 7 8 8 8 9 9 9 | "$B" admin --data "$T/n$L" >/dev/null
    t0=$(ms)
    # Buys at 1..500, sells at 1001..1500: nothing crosses, every order rests.
    awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) {
        if (i % 2) printf "sell mm%d s%d AAPL 1 %d gtc\n", i % 10, i, 1001 + i % 500
        else printf "buy mm%d b%d AAPL 1 %d gtc\n", i % 10, i, 1 + i % 500 } }' |
        "$B" admin --data "$T/n$L" | grep -v '^ACCEPTED ' | cut -c1-60 | sort | uniq -c | head -5
    t1=$(ms)
    target=$(seq_of "$L")
    echo "$N resting orders placed in $((t1 - t0)) ms through the leader's admin socket (seq $target)"
    kill "$(cat "$T/pidsup$F")" 2>/dev/null
    kill -9 "$(cat "$T/pid$F")"
    while kill -0 "$(cat "$T/pid$F")" 2>/dev/null; do sleep 0.1; done
    rm -rf "$T/n$F"
    : >"$T/log$F"
    t0=$(ms)
    sup "$F"
    while :; do
        s=$(seq_of "$F")
        [ -n "$s" ] && [ "$s" -ge "$target" ] && break
        sleep 0.05
    done
    t1=$(ms)
    ls -l "$T/n$L"/raft/snapshot-* 2>/dev/null | grep -v meta | awk '{ s = $5 } END { printf "leader'"'"'s Raft snapshot: %.1f MB\n", s / 1e6 }'
    echo "snapshot install: follower $F wiped and started; at the leader's seq $target after $((t1 - t0)) ms"
    grep -a 'installed a snapshot\|installed (\|history restored\|exiting to rebuild\|recovered seq\|ready (' "$T/log$F" |
        sed 's/^\(.\{23\}\) bourse: /\1  /' | cut -c1-150
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
CLIENT=${CLIENT:-session}
k=0 id=0
: >"$T/times"
while [ $k -lt "$K" ]; do
    healthy || { echo "cluster not healthy; stopping"; break; }
    L=$(leader)
    rm -f "$T/acc"
    if [ "$CLIENT" = session ]; then
        # One client as a trader runs it: logged in to the leader (listed
        # first), the other nodes after it (--connect); an order
        # written to it right after the kill goes once it has logged in again
        # by itself (net/endpoints.c), timed when its Accepted line arrives.
        others=""
        for n in 1 2 3; do [ "$n" = "$L" ] || others="$others,127.0.0.1:$(v P "$n")"; done
        rm -f "$T/in"
        mkfifo "$T/in"
        BOURSE_PASSWORD=load-password "$B" client --connect "127.0.0.1:$(v P "$L")$others" \
            --user load0 --linger 0 <"$T/in" 2>"$T/try" |
            while read -r line; do
                case $line in "ACCEPTED load0 f"*) ms >"$T/acc" ;; "ACCEPTED load0 w"*) : >"$T/warm" ;; esac
            done &
        cp=$!
        exec 3<>"$T/in" # read-write: never blocks, even if the client is gone
        rm -f "$T/warm"
        id=$((id + 1))
        echo "buy load0 w$id AAPL 1 1" >&3
        i=0
        while [ ! -f "$T/warm" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
        t0=$(ms)
        kill -9 "$(cat "$T/pid$L")"
        echo "buy load0 f$id AAPL 1 1" >&3
        i=0
        while [ ! -s "$T/acc" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
        exec 3>&-
        wait $cp
        done=$(sed -n 's/.*logged in as load0 at 127.0.0.1:\([0-9]*\).*/\1/p' "$T/try" | tail -1)
        for n in 1 2 3; do [ "$(v P "$n")" = "$done" ] && done=$n; done
        [ -s "$T/acc" ] || { echo "kill $((k + 1)): no Accepted within 30 s: $(tr '\n' '|' <"$T/try")"; break; }
        [ "$(($(cat "$T/acc") - t0))" -lt 2000 ] || echo "kill $((k + 1)), slow: $(tr '\n' '|' <"$T/try")"
    else
    t0=$(ms)
    kill -9 "$(cat "$T/pid$L")"
    done=""
    while [ -z "$done" ]; do
        for n in 1 2 3; do
            [ "$n" = "$L" ] && continue
            id=$((id + 1))
            ta=$(ms)
            rm -f "$T/acc"
            # The time is taken when the Accepted line arrives, not when the
            # client ends (it lingers for late reports after its input).
            echo "buy load0 f$id AAPL 1 1" | BOURSE_PASSWORD=load-password timeout 5 "$B" client \
                --order-port "$(v P "$n")" --user load0 --linger 0 2>"$T/try" |
                while read -r line; do
                    case $line in ACCEPTED*) ms >"$T/acc" ;; esac
                    echo "$line" >>"$T/try"
                done
            echo "kill $((k + 1)) try at +$((ta - t0)) node $n: $(($(ms) - ta)) ms: $(tr '\n' ' ' <"$T/try" | cut -c1-100)" >>"$T/tries"
            if [ -s "$T/acc" ]; then
                done=$n
                break
            fi
        done
    done
    fi
    t1=$(cat "$T/acc")
    # Where the time went, from the new leader's log (ms clock of the same
    # machine): its election timeout firing, its election won, its barrier
    # applied (serving), and the client's first Accepted after that.
    c=$(at "$T/log$done" 'follower -> candidate\|follower -> leader' "$t0")
    w=$(at "$T/log$done" 'candidate -> leader' "$t0")
    sv=$(at "$T/log$done" 'serving as leader' "$t0")
    if [ -n "$c" ] && [ -n "$w" ] && [ -n "$sv" ]; then
        echo "$((c - t0)) $((w - c)) $((sv - w)) $((t1 - sv))" >>"$T/phases"
        ph="stood +$((c - t0)), won +$((w - c)), serving +$((sv - w)), client +$((t1 - sv))"
    else
        ph="(phases not in node $done's log)"
    fi
    echo "kill $((k + 1)): leader $L killed; node $done accepted an order after $((t1 - t0)) ms: $ph"
    echo $((t1 - t0)) >>"$T/times"
    start "$L"
    k=$((k + 1))
done
[ -n "$TRIES" ] && cat "$T/tries"
echo "failover (kill -9 of the leader to the first Accepted order), election_ms 150, fast_failover ${FAST:-1}:"
pct "$T/times"
if [ -s "$T/phases" ]; then
    for i in 1 2 3 4; do
        awk -v i=$i '{ print $i }' "$T/phases" >"$T/ph$i"
    done
    printf '  kill -> winner stood (fast failover/timer):  '
    pct "$T/ph1"
    printf '  -> election won:                             '
    pct "$T/ph2"
    printf '  -> barrier applied, serving:                 '
    pct "$T/ph3"
    printf '  -> first Accepted seen by a client:          '
    pct "$T/ph4"
fi
