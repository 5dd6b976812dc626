#!/bin/sh
# Membership changes at run time (docs/replication.md, "Membership"): three
# `bourse serve --node N` processes on loopback, then
#   - `cluster add 4 RAFT/ORDER` on the leader and a fourth node started
#     with --join (it bootstraps nothing): it is caught up, made a voter,
#     listed by `cluster` on every node, and applies what the others do;
#   - a second `cluster add` while node 4's is under way is refused ("a
#     membership change is in progress ... retry"), never taken and lost;
#   - `cluster remove F` of a follower: it leaves the member lines; the
#     leader's log says each step;
#   - kill -9 of the leader: the two remaining members of three are a
#     majority: one of them serves and takes orders;
#   - the killed leader, restarted with the old file (three nodes, no 4),
#     knows the membership from its Raft log, not the file;
#   - at the end the members' recovered state hashes are equal.
# Every wait polls for the state it needs, with limits of tens of seconds.
. tests/sh/e2e_lib.sh
. tests/sh/cluster_lib.sh
e2e_init
C=$E2E/c.ini
C4=$E2E/c4.ini
set -- $("$BOURSE" cluster --free-ports 9)
R1=$1 R2=$2 R3=$3 R4=$4 P1=$5 P2=$6 P3=$7 P4=$8 R5=$9
NODES="1=127.0.0.1:$R1/127.0.0.1:$P1, 2=127.0.0.1:$R2/127.0.0.1:$P2, 3=127.0.0.1:$R3/127.0.0.1:$P3"
for f in "$C" "$C4"; do
    {
        echo "[cluster]"
        [ "$f" = "$C" ] && echo "nodes = $NODES" || echo "nodes = $NODES, 4=127.0.0.1:$R4/127.0.0.1:$P4"
        printf 'election_ms = 200\nheartbeat_ms = 40\nsnapshot_entries = 100000\n[market]\nsymbols = ACME\n'
    } >"$f"
done

port() { eval echo "\$P$1"; }

start() { # NODE FILE [--join]
    mkdir -p "$E2E/n$1"
    chmod 700 "$E2E/n$1"
    "$BOURSE" serve --config "$2" --node "$1" --data "$E2E/n$1" --order-port "$(port "$1")" --feed-port 0 \
        --http-port 0 $3 2>>"$E2E/log$1" &
    echo $! >"$E2E/pid$1"
    E2E_PIDS="$E2E_PIDS $!"
}

status() { cluster_status "$1"; }

# The serving leader among the nodes given, polled for up to 30 s.
leader() { cluster_serving "$@"; }

# Poll (up to 30 s) until `cluster` on node $1 matches the grep -E pattern $2.
until_status() {
    i=0
    while [ $i -lt 300 ]; do
        status "$1" | grep -qE "$2" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# Until node $1's journal holds an order id $2 (written on apply), 30 s.
until_applied() {
    i=0
    while [ $i -lt 300 ]; do
        "$BOURSE" journal dump "$E2E/n$1" 2>/dev/null | grep -q " $2 " && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# An order through the serving leader among NODES (the order id last): on a
# loaded machine leadership may move between the poll and the login (the
# login is then refused), so it asks again, for up to 30 s; a resend under
# the same id is harmless (DUPLICATE_ID if it was committed).
order() { # NODES... ID
    eval "id=\${$#}"
    k=0
    while [ $k -lt 10 ]; do
        for n in "$@"; do
            [ "$n" = "$id" ] && break
            status "$n" | grep -q "^node $n leader .* serving$" || continue
            BOURSE_PASSWORD=pw-alice timeout 20 "$BOURSE" client --order-port "$(port "$n")" --user alice \
                >"$E2E/o.$id" 2>&1 <<CMD
buy alice $id ACME 1 5
CMD
            grep -q "^ACCEPTED alice $id$\|DUPLICATE_ID" "$E2E/o.$id" && return 0
        done
        sleep 1
        k=$((k + 1))
    done
    return 1
}

for n in 1 2 3; do start $n "$C"; done
L=$(leader 1 2 3)
if [ -z "$L" ]; then
    fail cluster_members_start "no leader within 30 s: $(cat "$E2E"/log* | tail -5 | tr '\n' '|')"
    exit 0
fi
printf 'user alice\ndeposit alice CASH 100000000\n' | "$BOURSE" admin --data "$E2E/n$L" >/dev/null 2>&1
# Passwords are each node's own file: alice's on every node once it knows her.
setpw() {
    i=0
    until echo pw-alice | "$BOURSE" admin --data "$E2E/n$1" password alice >/dev/null 2>&1 || [ $i -ge 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
}
for n in 1 2 3; do setpw $n; done
order 1 2 3 a1 || fail cluster_members_order "a1: $(tr '\n' '|' <"$E2E/o.a1")"

# Add node 4: asked on the leader, then started with --join.  While its
# change is under way (node 4 is not even started, so it cannot be caught
# up yet), a second `cluster add` is refused, not acknowledged and dropped.
"$BOURSE" admin --data "$E2E/n$L" cluster add 4 "127.0.0.1:$R4/127.0.0.1:$P4" >"$E2E/add" 2>&1
"$BOURSE" admin --data "$E2E/n$L" cluster add 5 "127.0.0.1:$R5" >"$E2E/add5" 2>&1
if grep -q 'cluster add: a membership change is in progress (adding node 4); retry' "$E2E/add5" &&
    ! grep -q 'membership: adding node 5' "$E2E/log$L"; then
    ok cluster_members_second_change_refused_while_one_runs
else
    fail cluster_members_second_change_refused_while_one_runs "$(tr '\n' '|' <"$E2E/add5") log: $(grep membership "$E2E/log$L" | tr '\n' '|')"
fi
start 4 "$C4" --join
if grep -q '^OK adding node 4' "$E2E/add" && until_status "$L" "^member 4 voter 127.0.0.1:$R4/127.0.0.1:$P4$" &&
    until_status 4 "^member 4 voter " && until_status 4 "^member $L voter " &&
    grep -q 'membership: node 4 .* added as a spare' "$E2E/log$L" &&
    grep -q 'membership: node 4 caught up and is a voter (4 nodes)' "$E2E/log$L"; then
    ok cluster_members_add_node
else
    fail cluster_members_add_node "$(tr '\n' '|' <"$E2E/add") leader: $(status "$L" | tr '\n' '|') log: $(grep membership "$E2E/log$L" | tr '\n' '|') n4: $(tail -3 "$E2E/log4" | tr '\n' '|')"
fi
# The new node applies what the others commit (the order before it joined too).
order 1 2 3 4 a2
setpw 4
if until_applied 4 a1 && until_applied 4 a2; then
    ok cluster_members_new_node_catches_up
else
    fail cluster_members_new_node_catches_up "n4's journal: $("$BOURSE" journal dump "$E2E/n4" 2>&1 | tail -3 | tr '\n' '|')"
fi
# A second add of the same node, and a remove of the leader, are refused.
"$BOURSE" admin --data "$E2E/n$L" cluster add 4 "127.0.0.1:$R4" >"$E2E/add2" 2>&1
"$BOURSE" admin --data "$E2E/n$L" cluster remove "$L" >"$E2E/rmL" 2>&1
if grep -q 'cluster add: node 4 or address .* is already a member' "$E2E/add2" &&
    grep -q "cluster remove: node $L leads" "$E2E/rmL"; then
    ok cluster_members_bad_changes_refused
else
    fail cluster_members_bad_changes_refused "$(tr '\n' '|' <"$E2E/add2") $(tr '\n' '|' <"$E2E/rmL")"
fi

# Remove a follower F (one of the first three); SURV are the two members
# left once the leader is killed below.
L=$(leader 1 2 3 4)
F=$((L % 3 + 1))
SURV=""
for n in 1 2 3 4; do [ "$n" != "$L" ] && [ "$n" != "$F" ] && SURV="$SURV $n"; done
set -- $SURV
G=$1
"$BOURSE" admin --data "$E2E/n$L" cluster remove "$F" >"$E2E/rm" 2>&1
i=0
while [ $i -lt 300 ] && status "$L" | grep -q "^member $F "; do
    sleep 0.1
    i=$((i + 1))
done
if grep -q "^OK removing node $F" "$E2E/rm" && ! status "$L" | grep -q "^member $F " &&
    until_status "$G" "^member 4 voter" && ! status "$G" | grep -q "^member $F " &&
    grep -q "membership: node $F removed (3 nodes)" "$E2E/log$L"; then
    ok cluster_members_remove_node
else
    fail cluster_members_remove_node "$(tr '\n' '|' <"$E2E/rm") leader: $(status "$L" | tr '\n' '|')"
fi
kill "$(cat "$E2E/pid$F")"

# kill -9 the leader: G and 4 are two of the three members, a majority.
kill -9 "$(cat "$E2E/pid$L")"
Old=$L
# gone before it restarts below (its lock is freed only then: a process in
# a disk sync on a busy machine dies when the sync returns)
i=0
while kill -0 "$(cat "$E2E/pid$Old")" 2>/dev/null && [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
done
L=$(leader $SURV)
if [ -n "$L" ] && order $SURV a3; then
    ok cluster_members_majority_serves_after_leader_killed
else
    fail cluster_members_majority_serves_after_leader_killed "leader '$L': $(tr '\n' '|' <"$E2E/o.a3" 2>/dev/null) G: $(tail -3 "$E2E/log$G" | tr '\n' '|') n4: $(tail -3 "$E2E/log4" | tr '\n' '|')"
fi

# The old leader restarts with the three-node file: its Raft log says the
# membership (4 in, F out), not the file; it catches up with a3.
if [ "$Old" = 4 ]; then start 4 "$C4"; else start "$Old" "$C"; fi
if until_status "$Old" "^member 4 voter" && ! status "$Old" | grep -q "^member $F " && until_applied "$Old" a3; then
    ok cluster_members_restart_keeps_membership
else
    fail cluster_members_restart_keeps_membership "$(status "$Old" | tr '\n' '|') $(tail -3 "$E2E/log$Old" | tr '\n' '|')"
fi
order "$Old" $SURV a4
for n in "$Old" $SURV; do until_applied "$n" a4; done
for n in "$Old" $SURV; do kill "$(cat "$E2E/pid$n")"; done
for n in 1 2 3 4; do
    i=0
    while kill -0 "$(cat "$E2E/pid$n")" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$(cat "$E2E/pid$n")" 2>/dev/null
done
set -- $SURV
h1=$("$BOURSE" journal recover "$E2E/n$Old" 2>&1 | grep '^hash')
h2=$("$BOURSE" journal recover "$E2E/n$1" 2>&1 | grep '^hash')
h4=$("$BOURSE" journal recover "$E2E/n$2" 2>&1 | grep '^hash')
if [ -n "$h1" ] && [ "$h1" = "$h2" ] && [ "$h2" = "$h4" ]; then
    ok cluster_members_same_state
else
    fail cluster_members_same_state "$h1 / $h2 / $h4"
fi
