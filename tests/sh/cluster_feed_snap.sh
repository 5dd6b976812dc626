#!/bin/sh
# Market data on a node that caught up by a snapshot install
# (docs/replication.md, "Market data"): the Raft snapshot carries the feed's
# history and message count at its seq, so a node whose journal starts at a
# snapshot numbers the feed as every other node does (same session name,
# same message numbers), and a subscriber can resume on it after a failover.
#   - three `bourse serve --node N` under a supervisor (a node that installs
#     a snapshot while running exits 75 and is started again), a snapshot
#     every 16 entries and no log kept behind it;
#   - follower W is killed and its directory wiped while trades go on; it
#     comes back by a snapshot install, restores the feed's history from it;
#   - leadership is transferred to W and the old leader killed: subscriber
#     A (`--connect OLD,W`) resumes on W at its next message, no gap, no
#     duplicate, no snapshot;
#   - A's lines are those of subscriber C on the third node, number for
#     number, and a subscriber joining W from message 1 (not held there: its
#     history starts at the snapshot) gets a snapshot, then the same numbers.
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
snapshot_entries = 16
snapshot_trailing = 0
[market]
symbols = AAPL
INI
v() { eval echo "\$$1$2"; }

start() { cluster_supervise "$1" --order-port "$(v P "$1")" --feed-port "$(v F "$1")" --http-port 0; }
cluster_trap
kill9() { cluster_kill9 "$1"; }
wait_for() { # FILE PATTERN NAME: up to 60 s
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 600 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q "$2" "$1" 2>/dev/null || fail "$3" "no '$2' in $1: $(tail -5 "$1" 2>/dev/null | tr '\n' '|')"
}
trade() { # NODE PRICE (unique per call)
    printf 'sell alice s%s AAPL 3 %s gtc\nbuy bob b%s AAPL 1 %s\nbuy bob c%s AAPL 1 %s\n' "$2" "$2" "$2" "$2" "$2" "$2" |
        timeout 20 "$BOURSE" admin --data "$E2E/n$1" >/dev/null 2>&1
}
now() { cluster_serving 1 2 3; } # the serving leader now (a busy machine may move it)
seq_of() { cluster_status "$1" | sed -n 's/^node .* seq \([0-9]*\).*/\1/p'; }

for n in 1 2 3; do start $n; done
L=$(cluster_serving 1 2 3)
if [ -z "$L" ]; then
    fail cluster_feed_snap_start "no leader within 30 s"
    exit 0
fi
O=$L
W=$((L % 3 + 1))
H=$((W % 3 + 1))
printf 'user alice\nuser bob\ndeposit alice AAPL 10000\ndeposit bob CASH 1000000\n' |
    "$BOURSE" admin --data "$E2E/n$L" >/dev/null 2>&1
timeout 150 "$BOURSE" feed --connect "127.0.0.1:$(v F "$O"),127.0.0.1:$(v F "$W")" --tail --give-up 60 \
    >"$E2E/a" 2>"$E2E/a.err" &
A=$!
timeout 150 "$BOURSE" feed --connect "127.0.0.1:$(v F "$H")" --tail --give-up 60 >"$E2E/c" 2>"$E2E/c.err" &
CP=$!
E2E_PIDS="$E2E_PIDS $A $CP"
for p in 11 12 13; do trade "$(now)" $p; done
wait_for "$E2E/a" "ASK 3 13$" cluster_feed_snap_saw

# W loses its disk while trading goes on: over 16 entries, so the leader
# snapshots and keeps no log behind it: only a snapshot can bring W back.
kill9 "$W"
rm -rf "$E2E/n$W"
for p in 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40; do trade "$(now)" $p; done
L=$(now)
wait_for "$E2E/log$L" "history saved at seq" cluster_feed_snap_leader_snapshots
start "$W"
wait_for "$E2E/log$W" "installed a snapshot" cluster_feed_snap_installs
wait_for "$E2E/log$W" "history restored from" cluster_feed_snap_history_restored
i=0 # caught up: W has applied what the leader has
while [ $i -lt 600 ]; do
    sw=$(seq_of "$W")
    [ -n "$sw" ] && [ "$sw" = "$(seq_of "$(now)")" ] && break
    sleep 0.1
    i=$((i + 1))
done
if grep -q "history restored from" "$E2E/log$W" && ! grep -q "cannot rebuild the history" "$E2E/log$W"; then
    ok cluster_feed_snap_history_in_raft_snapshot
else
    fail cluster_feed_snap_history_in_raft_snapshot "$(grep -i 'history\|snapshot' "$E2E/log$W" | tr '\n' '|')"
fi

# W takes office; the node A follows (O, the first leader) dies; A must
# resume on W.
serves() { cluster_status "$1" | grep -q "^node $1 leader .* serving$"; }
i=0
while ! serves "$W" && [ $i -lt 20 ]; do
    L=$(now)
    [ -n "$L" ] && [ "$L" != "$W" ] && "$BOURSE" admin --data "$E2E/n$L" cluster transfer "$W" >/dev/null 2>&1
    j=0
    while ! serves "$W" && [ $j -lt 50 ]; do
        sleep 0.1
        j=$((j + 1))
    done
    i=$((i + 1))
done
if ! serves "$W"; then
    fail cluster_feed_snap_transfer "node $W does not serve: $(cluster_status "$W" | tr '\n' '|')"
    exit 0
fi
trade "$W" 51
wait_for "$E2E/a" "ASK 3 51$" cluster_feed_snap_before_kill
kill9 "$O"
for p in 61 62; do trade "$W" $p; done
wait_for "$E2E/a" "ASK 3 62$" cluster_feed_snap_resumed
wait_for "$E2E/c" "ASK 3 62$" cluster_feed_snap_third_node
# D joins W from message 1, which W does not hold (its history starts at
# the snapshot): it gets a snapshot of the book, then the live messages,
# numbered as A's.  Trades until D has shown one live (it may join late).
timeout 120 "$BOURSE" feed --connect "127.0.0.1:$(v F "$W")" --tail --seconds 100 >"$E2E/d" 2>"$E2E/d.err" &
D=$!
E2E_PIDS="$E2E_PIDS $D"
k=63
while ! grep -q 'ASK 3 ' "$E2E/d" 2>/dev/null && [ $k -lt 93 ]; do
    trade "$W" $k
    i=0
    while ! grep -q "ASK 3 $k$" "$E2E/d" && [ $i -lt 20 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    k=$((k + 1))
done
k=$((k - 1))
wait_for "$E2E/a" "ASK 3 $k$" cluster_feed_snap_after_join
wait_for "$E2E/c" "ASK 3 $k$" cluster_feed_snap_after_join
kill "$A" "$CP" "$D" 2>/dev/null

gaps=$(awk '$1 != "-" { if (prev && $1 != prev + 1) print prev " -> " $1; prev = $1 }' "$E2E/a")
onw=$(grep -c "feed resumed at 127.0.0.1:$(v F "$W") .*next message" "$E2E/a.err")
snaps=$(grep -c 'after a snapshot' "$E2E/a.err")
if [ -z "$gaps" ] && [ "$onw" -ge 1 ] && [ "$snaps" = 0 ] && grep -q 'ASK 3 61$' "$E2E/a"; then
    ok cluster_feed_snap_resumes_on_installed_node
else
    fail cluster_feed_snap_resumes_on_installed_node "gaps='$gaps' on W=$onw snaps=$snaps err=$(tr '\n' '|' <"$E2E/a.err") out=$(tail -5 "$E2E/a" | tr '\n' '|')"
fi
diff_ac=$(awk 'NR == FNR { a[$1] = $0; next } ($1 in a) && a[$1] != $0 { print "differs: " $0 }' "$E2E/a" "$E2E/c" | head -3)
common=$(awk 'NR == FNR { a[$1] = 1; next } ($1 in a) { n++ } END { print n + 0 }' "$E2E/a" "$E2E/c")
d_bad=$(awk 'NR == FNR { a[$0] = 1; next } $1 != "-" && !($0 in a) { print }' "$E2E/a" "$E2E/d" | head -3)
d_first=$(awk '$1 != "-" { print $1; exit }' "$E2E/d")
if [ -z "$diff_ac" ] && [ "$common" -ge 20 ] && [ -z "$d_bad" ] && grep -q "ASK 3 $k$" "$E2E/d" &&
    [ "${d_first:-1}" -gt 1 ]; then
    ok cluster_feed_snap_same_numbers_on_every_node
else
    fail cluster_feed_snap_same_numbers_on_every_node "$diff_ac (common $common) not in a: $d_bad first in d: $d_first d=$(tail -3 "$E2E/d" | tr '\n' '|') $(tr '\n' '|' <"$E2E/d.err")"
fi
for n in 1 2 3; do kill "$(cat "$E2E/pid$n")" 2>/dev/null; done
