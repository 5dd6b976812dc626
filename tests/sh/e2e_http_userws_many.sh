#!/bin/sh
# End to end: the private WebSocket (GET /api/v1/ws) for many users at
# once, each authenticated with an API key's signature in the query
# (docs/http.md): 200 users made by `bourse load --proto http --setup-only`
# (admin socket, an HTTP login and an API key each), every one's socket
# opened, then 50 trades between pairs of them over the HTTP API
# (bench/http/userws_bench.py): every socket must open, and every fill
# must reach both of its users' sockets (100 of 100), with no HTTP error.
. tests/sh/e2e_lib.sh
command -v python3 >/dev/null || { echo "ok e2e_http_userws_many_skipped_no_python"; exit 0; }
e2e_init
d=$E2E/d
printf '[http]\nrate_ip = 100000\nrate_key = 100000\n' >"$E2E/conf"
if ! e2e_start "$d" --config "$E2E/conf"; then
    fail e2e_http_userws_many_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
if timeout 120 "$BOURSE" load --proto http --data "$d" --http-port "$HP" --users 200 --setup-only \
    --keys-out "$E2E/keys" >"$E2E/setup" 2>&1 && [ "$(wc -l <"$E2E/keys")" = 200 ]; then
    ok http_userws_200_users_made
else
    fail http_userws_200_users_made "$(tr '\n' '|' <"$E2E/setup")"
fi
i=0
while [ $i -lt 200 ]; do printf 'deposit hl%05d AAPL 1000\n' $i; i=$((i + 1)); done |
    "$BOURSE" admin --data "$d" >/dev/null
timeout 120 python3 bench/http/userws_bench.py "$HP" "$E2E/keys" 200 50 50 "$PID" >"$E2E/out" 2>&1
res=$(grep '^userws result:' "$E2E/out")
if [ "$res" = "userws result: connected 200 of 200, fills 100 of 100, errors 0" ]; then
    ok http_userws_200_sockets_get_every_fill
else
    fail http_userws_200_sockets_get_every_fill "$(tr '\n' '|' <"$E2E/out" | head -c 800)"
fi
e2e_stop
