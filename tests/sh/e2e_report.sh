#!/bin/sh
# The reporting follower beside a real server (docs/reporting.md): orders go
# in through the admin socket while `bourse report follow` runs; the server
# is killed with SIGKILL in the middle of a stream of orders and so is the
# follower; both restart; at the end the database holds every journaled
# command exactly once (reconcile: the ledger equals the core's balances
# rebuilt from the journal, at the journal's last seq).
. tests/sh/e2e_lib.sh
e2e_init
dir=$E2E/data
name=e2e_report_kill9
why=""
e2e_start "$dir" || why="server did not start: $(tail -3 "$dir.log")"
{
    echo "symbol ACME"
    echo "fees ACME maker=5 taker=10"
    for u in FEES a b c d; do echo "user $u"; done
    for u in a b c d; do echo "deposit $u CASH 100000"; echo "deposit $u ACME 1000"; done
} | "$BOURSE" admin --data "$dir" >/dev/null 2>&1 || why="${why:-setup failed}"
orders() { # $1: prefix, $2: count
    i=0
    while [ $i -lt "$2" ]; do
        echo "buy a $1b$i ACME $((1 + i % 7)) $((100 + i % 5))"
        echo "sell b $1s$i ACME $((1 + i % 5)) $((100 + i % 4))"
        echo "buy c $1c$i ACME 2 $((99 + i % 6))"
        [ $((i % 10)) -eq 0 ] && echo "cancel a $1b$((i / 2))"
        i=$((i + 1))
    done
}
"$BOURSE" report follow --data "$dir" --batch 16 --batch-ms 10 2>"$E2E/f1.err" &
FPID=$!
E2E_PIDS="$E2E_PIDS $FPID"
orders x 150 | "$BOURSE" admin --data "$dir" >/dev/null 2>&1
# A stream cut by the server's death.
orders y 3000 | "$BOURSE" admin --data "$dir" >/dev/null 2>&1 &
APID=$!
sleep 0.3
kill -9 "$PID" "$FPID"
wait "$APID" 2>/dev/null
wait "$FPID" 2>/dev/null
e2e_wait
e2e_start "$dir" || why="${why:-server did not restart: $(tail -3 "$dir.log")}"
"$BOURSE" report follow --data "$dir" --batch 16 --batch-ms 10 2>"$E2E/f2.err" &
FPID=$!
E2E_PIDS="$E2E_PIDS $FPID"
orders z 100 | "$BOURSE" admin --data "$dir" >/dev/null 2>&1
sleep 0.2
kill -9 "$FPID"
wait "$FPID" 2>/dev/null
orders w 100 | "$BOURSE" admin --data "$dir" >/dev/null 2>&1
e2e_stop
[ "$RC" = 0 ] || why="${why:-server exit $RC}"
"$BOURSE" report follow --data "$dir" --exit-at-end 2>"$E2E/f3.err" || why="${why:-final follow: $(cat "$E2E/f3.err")}"
last=$("$BOURSE" journal dump "$dir" 2>/dev/null | grep -vc '^#')
"$BOURSE" report reconcile --data "$dir" --format csv >"$E2E/rec" 2>&1 || why="${why:-reconcile: $(tail -4 "$E2E/rec" | tr '\n' '|')}"
seq=$(sed -n '/^# summary/{n;n;p}' "$E2E/rec" | cut -d, -f1)
[ "$seq" = "$last" ] || why="${why:-database at seq '$seq', journal at $last}"
trades=$("$BOURSE" report surveillance --data "$dir" --format csv | sed -n '/^# large_traders/,$p' | awk -F, 'NR > 2 {n += $2} END {print n + 0}')
[ "$trades" -gt 100 ] || why="${why:-only $trades executions}"
echo "# $name: journal and database at seq $last, $trades executions"
[ -z "$why" ] && ok $name || fail $name "$why"
