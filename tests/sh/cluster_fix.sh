#!/bin/sh
# FIX 4.4 in cluster mode (docs/fix.md "Sessions, restarts and failover",
# docs/replication.md): three `bourse serve --node N` with a FIX port each,
# the QuickFIX initiator of tests/sh/e2e_fix.sh (tests/fix/peer.cpp) as the
# client.
#   - on the leader two FIX users log on and trade; both get their reports,
#     which leave only once committed;
#   - a follower refuses a FIX Logon (disconnected unanswered, its log names
#     the leader);
#   - bob logs out and a fill of his reaches him while he is away; alice,
#     still logged on, is cut by a kill -9 of the leader;
#   - both log on to the new leader WITHOUT ResetSeqNumFlag (the numbers of
#     both directions come from the log: docs/fix.md, "Sequence numbers from
#     the log"): bob's missed fill is resent (PossDupFlag=Y), once; alice's
#     engine, ahead of the new leader's inbound number, is asked for a
#     resend and sends its orders again as PossDup, which the venue drops
#     (the log has them) rather than answering twice; no validation error,
#     no Logout; both cancel an order from before the failover and trade;
#   - the killed node comes back; then the new leader is killed -9 and
#     restarted, takes the leadership back, and alice logs on to it without
#     ResetSeqNumFlag: both sequence numbers continue;
#   - a drop copy (risk), logged on when the leader dies, logs on to the new
#     leader without ResetSeqNumFlag and goes on receiving the reports;
#   - every node ends with the same state, the FIX orders of every leader in
#     every node's journal.
. tests/sh/e2e_lib.sh
. tests/sh/cluster_lib.sh
DICT=${FIX_DICT:-../shared/data/fix/FIX44.xml}
[ -f "$DICT" ] || DICT=shared/data/fix/FIX44.xml
if [ ! -f "$DICT" ]; then
    echo "SKIP cluster_fix: no FIX44.xml dictionary"
    exit 0
fi
if ! make -s build/fix/peer >/dev/null 2>&1; then
    echo "SKIP cluster_fix: the QuickFIX test peer does not build (libquickfix-dev, g++: scripts/deps.sh)"
    exit 0
fi
PEER=$PWD/build/fix/peer
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
[fix]
dropcopy = risk
INI

start() {
    "$BOURSE" serve --config "$C" --node "$1" --data "$E2E/n$1" --order-port "$(eval echo "\$P$1")" \
        --fix-port "$(eval echo "\$F$1")" --feed-port 0 --http-port 0 2>>"$E2E/log$1" &
    echo $! >"$E2E/pid$1"
    E2E_PIDS="$E2E_PIDS $!"
}

# The node whose admin socket takes a command (a serving leader), waiting up
# to 60 s; SKIP names a node not to ask (killed).
leader() { CLUSTER_WAIT=600 cluster_admin_leader ACME; }

store=$E2E/qf
mkdir -p "$store"
peer() { # NODE < script: each "ok NAME"/"FAIL NAME" line is a test of its own
    "$PEER" "$(eval echo "\$F$1")" "$store" "$DICT" >"$E2E/peer.out" 2>"$E2E/peer.err"
    grep -E '^(ok|FAIL)' "$E2E/peer.out"
    grep -q '^FAIL' "$E2E/peer.out" && tail -5 "$E2E/log$1" | sed 's/^/# server: /'
    return 0
}

for n in 1 2 3; do
    mkdir -p "$E2E/n$n"
    chmod 700 "$E2E/n$n"
    start $n
done
L=$(leader)
if [ -z "$L" ]; then
    fail cluster_fix_start "no leader within 60 s: $(cat "$E2E"/log* | tail -5 | tr '\n' '|')"
    exit 0
fi
printf 'user alice\nuser bob\nuser risk\ndeposit alice CASH 100000000\ndeposit bob ACME 1000\n' |
    "$BOURSE" admin --data "$E2E/n$L" >"$E2E/setup" 2>&1
# Passwords are each node's own file; a node knows the user once it has
# applied the commit: ask again for up to 30 s.
for n in 1 2 3; do
    for u in alice bob risk; do cluster_password $n $u "pw-$u"; done
done

# (with a QuickFIX store of its own: a refused Logon with ResetSeqNumFlag=Y
# still resets the initiator's numbers)
F=$((L % 3 + 1))
store=$E2E/qf-follower
mkdir -p "$store"
peer "$F" <<'X'
logon alice pw-alice reset
expect_nologon alice cluster_fix_follower_refuses_logon
X
store=$E2E/qf
if grep -q "login refused: not the leader: the leader is node $L" "$E2E/log$F"; then ok cluster_fix_follower_names_leader
else fail cluster_fix_follower_names_leader "$(grep -i 'refused' "$E2E/log$F" | tail -2 | tr '\n' '|')"; fi

peer "$L" <<X
logon alice pw-alice reset
expect_logon alice cluster_fix_logon_on_leader
logon bob pw-bob reset
expect_logon bob cluster_fix_second_user_on_leader
logon risk pw-risk reset
expect_logon risk cluster_fix_dropcopy_on_leader
order bob s1 2 ACME 100 5 0
expect bob cluster_fix_order_acked 35=8 150=0 39=0 11=s1 151=100
order alice b1 1 ACME 40 5 0
expect alice cluster_fix_fill_buyer 35=8 150=F 39=2 11=b1 32=40 31=5
expect bob cluster_fix_fill_seller 35=8 150=F 39=1 11=s1 32=40 14=40 151=60
logout bob
order alice b9 1 ACME 10 5 0
expect alice cluster_fix_fill_while_seller_away 35=8 150=F 39=2 11=b9 32=10
expect risk cluster_fix_dropcopy_before_failover 35=8 150=F 11=s1 32=10
seqs alice cluster_fix_numbers_before_failover 6 4
sh kill -9 $(cat "$E2E/pid$L")
X


# alice is logged on when the leader dies (killed from the peer's script).
Old=$L
L=$(SKIP=$Old leader)
if [ -z "$L" ]; then
    fail cluster_fix_failover "no new leader within 60 s"
    exit 0
fi
# alice: the venue sent 1 Logon, 2-3 b1 (new, fill), 4-5 b9 (new, fill);
# she sent 1 Logon, 2 b1, 3 b9, and the log's last mark of her session (her
# Logon) expects 2.  So the new leader answers her Logon (4) with 6, asks
# for a resend from 2 (7); her engine sends b1 and b9 again (PossDup,
# dropped) and gap-fills its Logon; b2 is her 5 and its acknowledgment the
# venue's 8 (her numbers are checked then, before a silence of hers could
# draw a TestRequest, which would take a number).  bob: 1 Logon, 2 s1 new, 3 its fill, 4 Logout, 5 the fill of b9
# while he was away, which his engine asks for again.
peer "$L" <<'X'
logon alice pw-alice
expect_logon alice cluster_fix_logon_on_new_leader_without_reset
never alice cluster_fix_possdup_orders_not_answered_twice 35=8 11=b1
never alice cluster_fix_possdup_b9_not_answered_twice 35=8 11=b9
order alice b2 1 ACME 20 4 0
expect alice cluster_fix_order_on_new_leader 35=8 150=0 11=b2
seqs alice cluster_fix_numbers_continue_after_failover 9 6
logon bob pw-bob
expect_logon bob cluster_fix_second_logon_on_new_leader_without_reset
logon risk pw-risk
expect_logon risk cluster_fix_dropcopy_logon_on_new_leader_without_reset
expect bob cluster_fix_missed_fill_resent 35=8 150=F 11=s1 32=10 14=50 43=Y 122~
cancel bob c1 s1 2 ACME
expect bob cluster_fix_cancel_order_from_before_failover 35=8 150=4 39=4 11=c1 41=s1 151=0
order bob s2 2 ACME 20 4 0
expect bob cluster_fix_trade_on_new_leader_seller 35=8 150=F 39=2 11=s2 32=20
expect alice cluster_fix_trade_on_new_leader_buyer 35=8 150=F 39=2 11=b2 32=20
expect risk cluster_fix_dropcopy_after_failover 35=8 150=F 11=s2 32=20
logout alice
logout bob
logout risk
never risk cluster_fix_dropcopy_no_sequence_error 58~MsgSeqNum
never bob cluster_fix_missed_fill_resent_once 35=8 11=s1 32=10
never alice cluster_fix_no_sequence_error_after_failover 58~MsgSeqNum
never bob cluster_fix_no_sequence_error_after_failover_seller 58~MsgSeqNum
X
if grep -q 'FIX PossDup D already in the log: dropped' "$E2E/log$L"; then ok cluster_fix_possdup_resend_dropped
else fail cluster_fix_possdup_resend_dropped "$(grep FIX "$E2E/log$L" | tail -4 | tr '\n' '|')"; fi

# The killed node comes back (every node applied b2, so each has the log).
start "$Old"
i=0
while [ $i -lt 600 ]; do
    all=1
    for n in 1 2 3; do
        "$BOURSE" journal dump "$E2E/n$n" 2>/dev/null | grep -q '^buy alice b2 ' || all=0
    done
    [ $all = 1 ] && break
    sleep 0.1
    i=$((i + 1))
done

# Restart of one node: kill -9 the leader that served the sessions last,
# start it again, hand it the leadership back; alice logs on WITHOUT
# ResetSeqNumFlag and both numbers continue (the node's store is its own).
K=$L
kill -9 "$(cat "$E2E/pid$K")"
L=$(SKIP=$K leader)
start "$K"
i=0
while [ -n "$L" ] && [ "$L" != "$K" ] && [ $i -lt 30 ]; do
    "$BOURSE" admin --data "$E2E/n$L" cluster transfer "$K" >/dev/null 2>&1
    sleep 2
    L=$(leader)
    i=$((i + 1))
done
if [ "$L" != "$K" ]; then
    fail cluster_fix_leadership_back "node $K did not take the leadership back (leader '$L')"
else
    peer "$K" <<'X'
logon alice pw-alice
expect_logon alice cluster_fix_restart_logon_without_reset
order alice b3 1 ACME 1 4 0
expect alice cluster_fix_order_after_restart 35=8 150=0 11=b3
seqs alice cluster_fix_restart_keeps_both_numbers 13 9
logout alice
X
fi

for n in 1 2 3; do kill "$(cat "$E2E/pid$n")"; done
for n in 1 2 3; do
    i=0
    while kill -0 "$(cat "$E2E/pid$n")" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$(cat "$E2E/pid$n")" 2>/dev/null
done
h1=$("$BOURSE" journal recover "$E2E/n1" 2>&1 | grep '^hash')
h2=$("$BOURSE" journal recover "$E2E/n2" 2>&1 | grep '^hash')
h3=$("$BOURSE" journal recover "$E2E/n3" 2>&1 | grep '^hash')
orders=$("$BOURSE" journal dump "$E2E/n$Old" 2>/dev/null | grep -c '^sell bob s1 \|^buy alice b1 \|^cancel bob s1\|^buy alice b[23] ')
if [ -n "$h1" ] && [ "$h1" = "$h2" ] && [ "$h2" = "$h3" ] && [ "$orders" = 5 ]; then
    ok cluster_fix_every_node_same_state
else
    fail cluster_fix_every_node_same_state "$h1 / $h2 / $h3, FIX orders in n$Old's journal: $orders of 5"
fi
