#!/bin/sh
# `bourse load --connect` across a kill -9 (src/load/load.c): the server is
# killed while the load trades and restarted on the same port; every
# session logs in again asking for its next report and goes on trading
# (orders sent over a session after it logged in again).
# No session may see a gap (a Login Accepted past the number it asked for)
# or an order accepted twice, and every order acknowledged (before or
# after the crash) is in the final state.
. tests/sh/e2e_lib.sh
e2e_init
d=$E2E/d
if ! e2e_start "$d"; then
    fail e2e_load_reconnect_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
P=$PORT
timeout 60 "$BOURSE" load --data "$d" --connect "127.0.0.1:$P" --users 4 --rate 1000 --seconds 15 \
    --acked "$E2E/acked" >"$E2E/load.out" 2>"$E2E/load.err" &
lpid=$!
i=0 # the kill comes 1 s after the load's sessions are logged in
while ! grep -q 'logged in' "$E2E/load.err" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
e2e_stop KILL
if ! e2e_start "$d" --order-port "$P"; then
    fail e2e_load_reconnect_restart "restart on port $P failed: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
wait "$lpid"
j=$(tr '\n' '|' <"$E2E/load.out")
line=$(grep '^reconnects: ' "$E2E/load.out")
rec=$(echo "$line" | sed -n 's/^reconnects: \([0-9]*\),.*/\1/p')
gaps=$(echo "$line" | sed -n 's/.*gaps \([0-9]*\),.*/\1/p')
resumed=$(echo "$line" | sed -n 's/.*sent after a reconnect \([0-9]*\)$/\1/p')
dups=$(echo "$line" | sed -n 's/.*duplicates \([0-9]*\),.*/\1/p')
n=$(wc -l <"$E2E/acked" 2>/dev/null || echo 0)
awk '{print "buy " $1 " " $2 " AAPL 1 0.0001"}' "$E2E/acked" | "$BOURSE" admin --data "$d" >"$E2E/check" 2>&1
got=$(grep -c 'DUPLICATE_ID$' "$E2E/check")
if [ "${rec:-0}" -ge 4 ] && [ "$gaps" = 0 ] && [ "$dups" = 0 ] && [ "$got" = "$n" ] && [ "$n" -gt 0 ] &&
    [ "${resumed:-0}" -gt 0 ]; then
    ok e2e_load_reconnect_resumes_no_gap_no_duplicate
else
    fail e2e_load_reconnect_resumes_no_gap_no_duplicate \
        "reconnects=$rec gaps=$gaps duplicates=$dups sent after=$resumed acked=$n in state=$got: $(tr '\n' '|' <"$E2E/load.err") $j"
fi
e2e_stop TERM
