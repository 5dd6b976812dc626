#!/bin/sh
# Market data across a failover (docs/replication.md, "Market data"): three
# `bourse serve --node N` processes on loopback, each with its binary feed.
# Every node numbers the feed's messages from the journal's start (its feed
# recovers through the journal as a single server's does, and applies every
# committed command), so the numbers are the same on every node.
#   - subscriber A follows the leader's feed (`bourse feed --connect
#     LEADER,B,C --tail`); the leader is killed with -9 while trades go on;
#     A resumes on another node at its next message: no gap, no duplicate,
#     no snapshot;
#   - subscriber C followed a node that was never killed from the start:
#     A's lines are C's, number for number (the same messages everywhere);
#   - the killed node, restarted, rebuilds its feed from its journal: a
#     subscriber that resumes there at message 1 gets the same lines again.
. tests/sh/e2e_lib.sh
. tests/sh/cluster_lib.sh
e2e_init
C=$E2E/c.ini
set -- $("$BOURSE" cluster --free-ports 9)
R1=$1 R2=$2 R3=$3 P1=$4 P2=$5 P3=$6 F1=$7 F2=$8 F3=$9
cat >"$C" <<INI
[cluster]
nodes = 1=127.0.0.1:$R1/127.0.0.1:$P1, 2=127.0.0.1:$R2/127.0.0.1:$P2, 3=127.0.0.1:$R3/127.0.0.1:$P3
election_ms = 200
heartbeat_ms = 40
snapshot_entries = 100000
[market]
symbols = AAPL
INI
v() { eval echo "\$$1$2"; }

start() {
    mkdir -p "$E2E/n$1"
    chmod 700 "$E2E/n$1"
    "$BOURSE" serve --config "$C" --node "$1" --data "$E2E/n$1" --order-port "$(v P "$1")" \
        --feed-port "$(v F "$1")" --http-port 0 2>>"$E2E/log$1" &
    echo $! >"$E2E/pid$1"
    E2E_PIDS="$E2E_PIDS $!"
}
status() { cluster_status "$1"; }
leader() { cluster_serving "$@"; }
wait_out() { # FILE PATTERN: up to 30 s
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q "$2" "$1" || fail cluster_feed_saw "no '$2' in $1: $(tail -5 "$1" | tr '\n' '|')"
}
trade() { # NODE PRICE (unique per call)
    printf 'sell alice s%s AAPL 3 %s gtc\nbuy bob b%s AAPL 1 %s\nbuy bob c%s AAPL 1 %s\n' "$2" "$2" "$2" "$2" "$2" "$2" |
        timeout 20 "$BOURSE" admin --data "$E2E/n$1" >/dev/null 2>&1
}

for n in 1 2 3; do start $n; done
L=$(leader 1 2 3)
if [ -z "$L" ]; then
    fail cluster_feed_start "no leader within 30 s"
    exit 0
fi
G=$((L % 3 + 1))
H=$((G % 3 + 1))
printf 'user alice\nuser bob\ndeposit alice AAPL 1000\ndeposit bob CASH 100000\n' |
    "$BOURSE" admin --data "$E2E/n$L" >/dev/null 2>&1
timeout 120 "$BOURSE" feed --connect "127.0.0.1:$(v F "$L"),127.0.0.1:$(v F "$G"),127.0.0.1:$(v F "$H")" --tail \
    --give-up 40 >"$E2E/a" 2>"$E2E/a.err" &
A=$!
timeout 120 "$BOURSE" feed --connect "127.0.0.1:$(v F "$G")" --tail --give-up 40 >"$E2E/c" 2>"$E2E/c.err" &
CP=$!
E2E_PIDS="$E2E_PIDS $A $CP"
sleep 0.5
for p in 11 21 31; do trade "$L" $p; done
wait_out "$E2E/a" "ASK 3 31$"
kill -9 "$(cat "$E2E/pid$L")"
trade "$L" 41 # to a dead node: nothing
Old=$L
L=$(leader "$G" "$H")
for p in 12 22; do trade "$L" $p; done
wait_out "$E2E/a" "ASK 3 22$"
wait_out "$E2E/c" "ASK 3 22$"

# The killed node restarts, replays its journal into its feed, catches up.
start "$Old"
trade "$L" 13
wait_out "$E2E/a" "ASK 3 13$"
wait_out "$E2E/c" "ASK 3 13$"
i=0 # its feed listens once its journal is replayed into it
while [ "$(grep -c 'binary feed' "$E2E/log$Old")" -lt 2 ] && [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
done
timeout 60 "$BOURSE" feed --connect "127.0.0.1:$(v F "$Old")" --tail --seconds 20 >"$E2E/d" 2>"$E2E/d.err" &
D=$!
E2E_PIDS="$E2E_PIDS $D"
trade "$L" 14
wait_out "$E2E/a" "ASK 3 14$"
wait_out "$E2E/d" "ASK 3 14$"
kill "$A" "$CP" "$D" 2>/dev/null

gaps=$(awk '$1 != "-" { if (prev && $1 != prev + 1) print prev " -> " $1; prev = $1 }' "$E2E/a")
resumed=$(grep -c 'feed resumed at .*next message' "$E2E/a.err")
snaps=$(grep -c 'after a snapshot' "$E2E/a.err")
if [ -z "$gaps" ] && [ "$resumed" -ge 1 ] && [ "$snaps" = 0 ] && grep -q 'ASK 3 12$' "$E2E/a" &&
    ! grep -q 'ASK 3 41$' "$E2E/a"; then
    ok cluster_feed_resumes_on_new_leader_no_gap
else
    fail cluster_feed_resumes_on_new_leader_no_gap "gaps='$gaps' resumed=$resumed snaps=$snaps err=$(tr '\n' '|' <"$E2E/a.err") out=$(tail -8 "$E2E/a" | tr '\n' '|')"
fi
# Number for number the same as the feed of a node never killed, and as
# the killed node's, rebuilt from its journal (every line of d is in a).
# The TIME column is the command's stamp, the same on every node.
join_a_c=$(awk 'NR == FNR { a[$1] = $0; next } ($1 in a) && a[$1] != $0 { print "differs: " $0 }' "$E2E/a" "$E2E/c" | head -3)
common=$(awk 'NR == FNR { a[$1] = 1; next } ($1 in a) { n++ } END { print n + 0 }' "$E2E/a" "$E2E/c")
if [ -z "$join_a_c" ] && [ "$common" -ge 10 ]; then
    ok cluster_feed_same_numbers_on_every_node
else
    fail cluster_feed_same_numbers_on_every_node "$join_a_c (common $common) c=$(tail -3 "$E2E/c" | tr '\n' '|')"
fi
d_bad=$(awk 'NR == FNR { a[$0] = 1; next } $1 != "-" && !($0 in a) { print }' "$E2E/a" "$E2E/d" | head -3)
if [ -z "$d_bad" ] && grep -q 'ASK 3 14$' "$E2E/d"; then
    ok cluster_feed_restarted_node_same_numbers
else
    fail cluster_feed_restarted_node_same_numbers "not in a: $d_bad d=$(tail -3 "$E2E/d" | tr '\n' '|') $(cat "$E2E/d.err")"
fi
for n in 1 2 3; do kill "$(cat "$E2E/pid$n")" 2>/dev/null; done
