#!/bin/sh
# End to end: the server is killed (SIGKILL) while `bourse load` trades;
# after a restart every order the client saw acknowledged must be in the
# recovered state.  Check: its id is taken, so entering it again is
# REJECTED ... DUPLICATE_ID.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
if ! e2e_start "$d"; then
    fail e2e_crash_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
timeout 30 "$BOURSE" load --data "$d" --order-port "$PORT" --users 4 --rate 4000 --seconds 3 \
    --acked "$E2E/acked" >"$E2E/load.out" 2>&1 &
lpid=$!
i=0 # the kill comes 1 s after the load's sessions are logged in
while ! grep -q 'logged in' "$E2E/load.out" && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
e2e_stop KILL
wait "$lpid"
n=$(wc -l <"$E2E/acked" 2>/dev/null || echo 0)
if [ "$n" -lt 100 ]; then
    fail e2e_crash_acknowledged_orders_survive "only $n orders acknowledged before the crash: $(tr '\n' '|' <"$E2E/load.out")"
    exit 0
fi
if ! e2e_start "$d"; then
    fail e2e_crash_acknowledged_orders_survive "restart failed: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
awk '{print "buy " $1 " " $2 " AAPL 1 0.0001"}' "$E2E/acked" | "$BOURSE" admin --data "$d" >"$E2E/check" 2>&1
got=$(grep -c 'DUPLICATE_ID$' "$E2E/check")
if [ "$got" = "$n" ]; then ok e2e_crash_acknowledged_orders_survive
else fail e2e_crash_acknowledged_orders_survive "$got of $n acknowledged orders recovered: $(grep -v DUPLICATE_ID "$E2E/check" | head -3 | tr '\n' '|')"; fi
e2e_stop TERM
[ "$RC" = 0 ] && ok e2e_crash_restart_clean_exit || fail e2e_crash_restart_clean_exit "exit $RC"
