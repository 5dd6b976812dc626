#!/bin/sh
# End to end: the private WebSocket (GET /api/v1/ws) for many users at
# once, each authenticated with an API key's signature in the query
# (docs/http.md), and more of them than the server's one descriptor table
# could hold both their sockets and their links into the gateway for.  The
# server runs under `ulimit -n 300`; 200 users made by `bourse load --proto
# http --setup-only` (admin socket, an HTTP login and an API key each) open
# their private WebSockets signed with their keys, and 50 trades between
# pairs of them go over the HTTP API (bench/http/userws_bench.py).  The 200
# sockets are in the HTTP thread's table, the 200 links in the link
# carrier's own (src/http/linkcarrier.c); in one table the 400 would not fit
# in 300, and logins, sockets or fills would fail.  Every socket must open
# and every fill reach both of its users (100 of 100), with no HTTP error.
. tests/sh/e2e_lib.sh
command -v python3 >/dev/null || { echo "ok e2e_http_userws_fds_skipped_no_python"; exit 0; }
e2e_init
d=$E2E/d
printf '[http]\nrate_ip = 100000\nrate_key = 100000\n[gateway]\nmax_sessions = 1000\n' >"$E2E/conf"
real=$BOURSE
printf '#!/bin/sh\nulimit -n 300 || exit 1\nexec "%s" "$@"\n' "$real" >"$E2E/lowfd"
chmod +x "$E2E/lowfd"
BOURSE=$E2E/lowfd
started=0
e2e_start "$d" --config "$E2E/conf" && started=1
BOURSE=$real
if [ $started = 0 ]; then
    fail e2e_http_userws_fds_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
lim=$(awk '/^Max open files/ {print $4}' /proc/"$PID"/limits)
[ "$lim" = 300 ] && ok http_userws_fds_limit_300 || fail http_userws_fds_limit_300 "the server's limit is $lim"
HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
if timeout 120 "$BOURSE" load --proto http --data "$d" --http-port "$HP" --users 200 --setup-only \
    --keys-out "$E2E/keys" >"$E2E/setup" 2>&1 && [ "$(wc -l <"$E2E/keys")" = 200 ]; then
    ok http_userws_fds_200_users_made
else
    fail http_userws_fds_200_users_made "$(tr '\n' '|' <"$E2E/setup" | head -c 400) log: $(tail -3 "$d.log" | tr '\n' '|')"
fi
i=0
while [ $i -lt 200 ]; do printf 'deposit hl%05d AAPL 1000\n' $i; i=$((i + 1)); done |
    "$BOURSE" admin --data "$d" >/dev/null
timeout 120 python3 bench/http/userws_bench.py "$HP" "$E2E/keys" 200 50 50 "$PID" >"$E2E/out" 2>&1
res=$(grep '^userws result:' "$E2E/out")
if [ "$res" = "userws result: connected 200 of 200, fills 100 of 100, errors 0" ]; then
    ok http_userws_fds_400_descriptors_under_300
else
    fail http_userws_fds_400_descriptors_under_300 "$(tr '\n' '|' <"$E2E/out" | head -c 600) log: $(grep -i 'cannot\|error\|table' "$d.log" | tail -3 | tr '\n' '|')"
fi
e2e_stop
