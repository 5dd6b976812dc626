#!/bin/sh
# The [market] schedule in cluster mode (docs/replication.md): three
# `bourse serve --node N` started outside their market hours.  The serving
# leader proposes `close` (committed like any command, in every node's
# journal), orders are refused MARKET_CLOSED; after kill -9 of that leader
# the next one, having applied the close, does not propose it again: one
# `close` in the log, on every node.
. tests/sh/e2e_lib.sh
. tests/sh/cluster_lib.sh
e2e_init
open=$(date -d '+5 min' +%H:%M 2>/dev/null)
close=$(date -d '+10 min' +%H:%M 2>/dev/null)
if [ -z "$open" ] || [ -z "$close" ]; then
    echo "SKIP cluster_schedule_closes_market: date cannot compute times"
    exit 0
fi
C=$E2E/c.ini
set -- $("$BOURSE" cluster --free-ports 6)
R1=$1 R2=$2 R3=$3 P1=$4 P2=$5 P3=$6
cat >"$C" <<INI
[cluster]
nodes = 1=127.0.0.1:$R1/127.0.0.1:$P1, 2=127.0.0.1:$R2/127.0.0.1:$P2, 3=127.0.0.1:$R3/127.0.0.1:$P3
election_ms = 200
heartbeat_ms = 40
[market]
symbols = AAPL
open = $open
close = $close
INI
v() { eval echo "\$$1$2"; }
start() {
    mkdir -p "$E2E/n$1"
    chmod 700 "$E2E/n$1"
    "$BOURSE" serve --config "$C" --node "$1" --data "$E2E/n$1" --order-port "$(v P "$1")" --feed-port 0 \
        --http-port 0 2>>"$E2E/log$1" &
    echo $! >"$E2E/pid$1"
    E2E_PIDS="$E2E_PIDS $!"
}
leader() { cluster_serving "$@"; }
closes() { "$BOURSE" journal dump "$E2E/n$1" 2>/dev/null | grep -c '^close$'; }
until_closed() { # NODE: until its journal holds the close, 30 s
    i=0
    while [ "$(closes "$1")" = 0 ] && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
}

for n in 1 2 3; do start $n; done
L=$(leader 1 2 3)
if [ -z "$L" ]; then
    fail cluster_schedule_start "no leader within 30 s"
    exit 0
fi
until_closed "$L"
out=$(printf 'user u\ndeposit u CASH 10\nbuy u o1 AAPL 1 1\n' | timeout 20 "$BOURSE" admin --data "$E2E/n$L" 2>&1 | tr '\n' ' ')
if grep -q 'schedule: market closes' "$E2E/log$L" && [ "$out" = "OK OK REJECTED u o1 MARKET_CLOSED " ]; then
    ok cluster_schedule_closes_market
else
    fail cluster_schedule_closes_market "out '$out', log: $(grep schedule "$E2E/log$L" | tr '\n' '|')"
fi
kill -9 "$(cat "$E2E/pid$L")"
Old=$L
G=$((L % 3 + 1))
H=$((G % 3 + 1))
L=$(leader "$G" "$H")
out=$(printf 'buy u o2 AAPL 1 1\n' | timeout 20 "$BOURSE" admin --data "$E2E/n$L" 2>&1 | tr '\n' ' ')
start "$Old"
printf 'deposit u CASH 1\n' | timeout 20 "$BOURSE" admin --data "$E2E/n$L" >/dev/null 2>&1
i=0 # until every node applied that last deposit
while [ $i -lt 300 ]; do
    all=1
    for n in 1 2 3; do
        "$BOURSE" journal dump "$E2E/n$n" 2>/dev/null | grep -q '^deposit u CASH 1$' || all=0
    done
    [ $all = 1 ] && break
    sleep 0.1
    i=$((i + 1))
done
if [ -n "$L" ] && [ "$out" = "REJECTED u o2 MARKET_CLOSED " ] && [ "$(closes 1)" = 1 ] && [ "$(closes 2)" = 1 ] &&
    [ "$(closes 3)" = 1 ] && ! grep -q 'schedule: market' "$E2E/log$L"; then
    ok cluster_schedule_new_leader_does_not_repeat
else
    fail cluster_schedule_new_leader_does_not_repeat "leader '$L' out '$out' closes $(closes 1)/$(closes 2)/$(closes 3) log: $(grep schedule "$E2E/log$L" | tr '\n' '|')"
fi
for n in 1 2 3; do kill "$(cat "$E2E/pid$n")" 2>/dev/null; done
