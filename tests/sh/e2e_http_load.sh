#!/bin/sh
# End to end: the HTTP load generator (`bourse load --proto http`,
# src/load/httpload.c) against a real server, briefly and at a low rate:
# it makes its users (admin socket, a login, an API key each), sends order
# + cancel pairs signed with the keys, and must see every one answered
# and accepted; the server's own counts (/metrics: orders and cancels
# through the engine) must equal what it says it sent.  Then its options:
# a missing port and a bad symbol are refused (exit 2).
. tests/sh/e2e_lib.sh
command -v curl >/dev/null || { echo "ok e2e_http_load_skipped_no_curl"; exit 0; }
e2e_init
d=$E2E/d
printf '[http]\nrate_ip = 100000\nrate_key = 100000\nnonces = 262144\n' >"$E2E/conf"
if ! e2e_start "$d" --config "$E2E/conf"; then
    fail e2e_http_load_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
timeout 120 "$BOURSE" load --proto http --data "$d" --http-port "$HP" --rate 200 --seconds 2 --users 3 \
    --connections 4 >"$E2E/out" 2>&1
rc=$?
res=$(grep '^http result:' "$E2E/out")
# http result: offered N sent N answered N ok N errors N
set -- $res
if [ $rc -eq 0 ] && [ "$4" = 400 ] && [ "$6" = 400 ] && [ "$8" = 400 ] && [ "${10}" = 400 ] && [ "${12}" = 0 ]; then
    ok http_load_all_answered
else
    fail http_load_all_answered "exit $rc, '$res': $(tr '\n' '|' <"$E2E/out" | head -c 600)"
fi
if grep -q '^http round trip .* 400/400 ok' "$E2E/out"; then ok http_load_round_trips_counted
else fail http_load_round_trips_counted "$(grep 'round trip' "$E2E/out")"; fi
m=$(curl -s --max-time 10 "http://127.0.0.1:$HP/metrics")
no=$(echo "$m" | grep '^bourse_commands_total{type="order"}' | awk '{print $2}')
nc=$(echo "$m" | grep '^bourse_commands_total{type="cancel"}' | awk '{print $2}')
if [ "$no" = 200 ] && [ "$nc" = 200 ]; then ok http_load_server_counts_agree
else fail http_load_server_counts_agree "server saw $no orders and $nc cancels, want 200 and 200"; fi
# every order was canceled: the users have nothing open
open=$(echo "account hl00000" | "$BOURSE" admin --data "$d" 2>&1 | grep -c '^ORDER')
if [ "$open" = 0 ]; then ok http_load_books_left_empty
else fail http_load_books_left_empty "$open orders still open"; fi

"$BOURSE" load --proto http --data "$d" --rate 10 >/dev/null 2>&1
rc1=$?
"$BOURSE" load --proto http --data "$d" --http-port "$HP" --symbol 'A"B' >/dev/null 2>&1
rc2=$?
if [ $rc1 = 2 ] && [ $rc2 = 2 ]; then ok http_load_bad_options_refused
else fail http_load_bad_options_refused "exits $rc1 and $rc2, want 2"; fi
e2e_stop
