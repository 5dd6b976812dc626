#!/bin/sh
# End to end: the HTTP/JSON API (docs/http.md) with curl against bourse
# serve.  Every endpoint and its errors: public market data, login (bad
# password, bad JSON, wrong types, lock), CSRF, orders (place, reject,
# cancel, replace, list, fills, balances), oversize bodies, authorization
# between two users, API keys with signed requests (good, stale, replayed,
# bad signature, unknown key), the private WebSocket, logout.
. tests/sh/e2e_lib.sh
command -v curl >/dev/null || { echo "ok e2e_http_skipped_no_curl"; exit 0; }
e2e_init
d=$E2E/d
if ! e2e_start "$d"; then
    fail e2e_http_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
U="http://127.0.0.1:$HP"
# the sockets on libuv's epoll, not poll() (src/feed/loop.c, [server] event_loop)
if grep -q 'market data: sockets served by libuv (epoll)' "$d.log"; then ok http_served_by_libuv
else fail http_served_by_libuv "$(grep 'market data' "$d.log" | tr '\n' '|')"; fi
printf '[server]\nevent_loop = epoll\n' >"$E2E/loop.ini"
if ! timeout 30 "$BOURSE" serve --config "$E2E/loop.ini" --data "$E2E/loopd" --order-port 0 --feed-port 0 \
    --http-port 0 2>"$E2E/loop.err" && grep -q "event_loop: 'epoll' is not libuv or poll" "$E2E/loop.err"; then
    ok http_event_loop_unknown_refused
else fail http_event_loop_unknown_refused "$(head -3 "$E2E/loop.err" | tr '\n' '|')"; fi
e2e_users alice bob
"$BOURSE" admin --data "$d" >/dev/null <<'X'
deposit alice CASH 10000
deposit bob AAPL 100
X

# req NAME WANT_STATUS WANT_GREP CURL_ARGS...: one request, its status and body
req() {
    name=$1 want=$2 grep_for=$3
    shift 3
    st=$(curl -s -o "$E2E/body" -w '%{http_code}' --max-time 10 "$@")
    if [ "$st" = "$want" ] && grep -q -- "$grep_for" "$E2E/body"; then ok "$name"
    else fail "$name" "status $st (want $want), body $(head -c 300 "$E2E/body")"; fi
}
J='Content-Type: application/json'

# ---- public market data --------------------------------------------------
req http_symbols 200 '"symbol":"AAPL","halted":false' "$U/api/v1/symbols"
req http_ticker 200 '"symbol":"AAPL","bid":null' "$U/api/v1/ticker/AAPL"
req http_ticker_unknown 404 '"code":"UNKNOWN_SYMBOL"' "$U/api/v1/ticker/NOPE"
req http_book 200 '"bids":\[\],"asks":\[\]' "$U/api/v1/book/AAPL?depth=5"
req http_book_bad_depth 400 '"code":"BAD_FIELD"' "$U/api/v1/book/AAPL?depth=0"
req http_trades 200 '^\[\]$' "$U/api/v1/trades/AAPL"
req http_candles_bad_interval 400 '"code":"BAD_FIELD"' "$U/api/v1/candles/AAPL?interval=7m"
req http_unknown_endpoint 404 '"code":"NOT_FOUND"' "$U/api/v1/nothing"
req http_wrong_method 405 '"code":"NOT_FOUND"' -X DELETE "$U/api/v1/symbols"
req http_metrics 200 '^# HELP bourse_' "$U/metrics"
st=$(curl -s -o "$E2E/openapi" -w '%{http_code}' "$U/api/v1/openapi.yaml")
if [ "$st" = 200 ] && grep -q '^openapi: 3' "$E2E/openapi"; then ok http_openapi_served
else fail http_openapi_served "status $st"; fi
if python3 -c 'import openapi_spec_validator, yaml' 2>/dev/null; then
    if python3 -c 'import sys, yaml; from openapi_spec_validator import validate_spec; validate_spec(yaml.safe_load(open(sys.argv[1])))' \
        "$E2E/openapi" 2>"$E2E/oa.err"; then ok http_openapi_valid
    else fail http_openapi_valid "$(tail -2 "$E2E/oa.err" | tr '\n' ' ')"; fi
fi
curl -s -D "$E2E/hdr" -o /dev/null "$U/api/v1/symbols"
if grep -qi "^content-security-policy: default-src 'self'" "$E2E/hdr" && grep -qi '^x-content-type-options: nosniff' "$E2E/hdr" &&
    grep -qi '^x-frame-options: DENY' "$E2E/hdr"; then ok http_security_headers
else fail http_security_headers "$(tr '\r\n' '  ' <"$E2E/hdr")"; fi
curl -s -D "$E2E/hdr" -o /dev/null "$U/"
if grep -qi "^content-security-policy:" "$E2E/hdr"; then ok http_csp_on_web_page
else fail http_csp_on_web_page "$(tr '\r\n' '  ' <"$E2E/hdr")"; fi

# ---- logins ---------------------------------------------------------------
A=$E2E/a.cookies B=$E2E/b.cookies
req http_login_bad_json 400 '"code":"BAD_JSON"' -H "$J" -d '{"username":' "$U/api/v1/login"
req http_login_not_json 415 '"code":"BAD_JSON"' -H 'Content-Type: text/plain' -d 'x' "$U/api/v1/login"
req http_login_missing 400 '"code":"MISSING_FIELD"' -H "$J" -d '{"username":"alice"}' "$U/api/v1/login"
req http_login_wrong_type 400 '"code":"BAD_FIELD"' -H "$J" -d '{"username":"alice","password":5}' "$U/api/v1/login"
req http_login_bad_password 401 '"code":"UNAUTHORIZED"' -H "$J" -d '{"username":"alice","password":"nope"}' "$U/api/v1/login"
req http_login 200 '"username":"alice"' -c "$A" -D "$E2E/hdr" -H "$J" -d '{"username":"alice","password":"pw-alice"}' "$U/api/v1/login"
if grep -i '^set-cookie: bourse_session=' "$E2E/hdr" | grep -qi 'HttpOnly; SameSite=Strict' &&
    grep -i '^set-cookie: bourse_csrf=' "$E2E/hdr" | grep -qi 'SameSite=Strict'; then ok http_cookie_flags
else fail http_cookie_flags "$(grep -i set-cookie "$E2E/hdr" | tr '\r\n' '  ')"; fi
req http_login_bob 200 '"username":"bob"' -c "$B" -H "$J" -d '{"username":"bob","password":"pw-bob"}' "$U/api/v1/login"
AC=$(awk '$6 == "bourse_csrf" {print $7}' "$A")
BC=$(awk '$6 == "bourse_csrf" {print $7}' "$B")
req http_me 200 '"username":"alice","role":"user"' -b "$A" "$U/api/v1/me"
req http_me_unauthorized 401 '"code":"UNAUTHORIZED"' "$U/api/v1/me"
req http_orders_unauthorized 401 '"code":"UNAUTHORIZED"' -H "$J" -d '{}' "$U/api/v1/orders"

# ---- orders ---------------------------------------------------------------
O='{"symbol":"AAPL","side":"buy","quantity":10,"price":"10.25","client_order_id":"a1"}'
req http_csrf_missing 403 '"code":"CSRF"' -b "$A" -H "$J" -d "$O" "$U/api/v1/orders"
req http_csrf_wrong 403 '"code":"CSRF"' -b "$A" -H "X-CSRF-Token: $BC" -H "$J" -d "$O" "$U/api/v1/orders"
AH="X-CSRF-Token: $AC"
BH="X-CSRF-Token: $BC"
req http_place 201 '"order_id":"a1","status":"open","filled":0' -b "$A" -H "$AH" -H "$J" -d "$O" "$U/api/v1/orders"
req http_place_duplicate 201 '"status":"rejected".*"reason":"DUPLICATE_ID"' -b "$A" -H "$AH" -H "$J" -d "$O" "$U/api/v1/orders"
req http_place_generated_id 201 '"order_id":"h[0-9a-z]*","status":"open"' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":1,"price":"9","tif":"gtc"}' "$U/api/v1/orders"
req http_place_no_cash 201 '"status":"rejected".*"reason":"INSUFFICIENT_CASH"' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":100000,"price":"1000"}' "$U/api/v1/orders"
req http_place_unknown_symbol 201 '"reason":"UNKNOWN_SYMBOL"' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"ZZZZ","side":"buy","quantity":1,"price":"1"}' "$U/api/v1/orders"
req http_place_missing 400 '"code":"MISSING_FIELD".*symbol' -b "$A" -H "$AH" -H "$J" \
    -d '{"side":"buy","quantity":1,"price":"1"}' "$U/api/v1/orders"
req http_place_qty_string 400 '"code":"BAD_FIELD".*quantity' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":"1","price":"1"}' "$U/api/v1/orders"
req http_place_price_number 400 '"code":"BAD_FIELD".*price' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":1,"price":10.5}' "$U/api/v1/orders"
req http_place_price_decimals 400 '"code":"BAD_FIELD".*price' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":1,"price":"1.00001"}' "$U/api/v1/orders"
req http_place_bad_side 400 '"code":"BAD_FIELD".*side' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"AAPL","side":"hold","quantity":1,"price":"1"}' "$U/api/v1/orders"
req http_place_bad_tif 400 '"code":"BAD_FIELD".*tif' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":1,"price":"1","tif":"forever"}' "$U/api/v1/orders"
req http_place_zero_qty 400 '"code":"BAD_FIELD".*quantity' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":0,"price":"1"}' "$U/api/v1/orders"
req http_place_unknown_field 400 '"code":"BAD_FIELD".*colour' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":1,"price":"1","colour":"red"}' "$U/api/v1/orders"
req http_place_bad_id 400 '"code":"BAD_FIELD".*client_order_id' -b "$A" -H "$AH" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":1,"price":"1","client_order_id":"a b"}' "$U/api/v1/orders"
head -c 70000 /dev/zero | tr '\0' ' ' >"$E2E/big"
req http_body_too_large 413 '"code":"TOO_LARGE"' -b "$A" -H "$AH" -H "$J" --data-binary "@$E2E/big" "$U/api/v1/orders"
req http_orders_open 200 '"order_id":"a1","symbol":"AAPL","side":"buy","quantity":10,"price":"10.25","tif":"day","filled":0,"status":"open"' \
    -b "$A" "$U/api/v1/orders?status=open"
req http_orders_bad_status 400 '"code":"BAD_FIELD"' -b "$A" "$U/api/v1/orders?status=some"
req http_balances 200 '"asset":"CASH","available":"9888.5","held":"111.5"' -b "$A" "$U/api/v1/balances"

# ---- authorization between users ------------------------------------------
req http_cancel_others_order 404 '"code":"NOT_FOUND"' -X DELETE -b "$B" -H "$BH" "$U/api/v1/orders/a1"
req http_replace_others_order 404 '"code":"NOT_FOUND"' -b "$B" -H "$BH" -H "$J" -d '{"quantity":1,"price":"1"}' \
    "$U/api/v1/orders/a1/replace"
st=$(curl -s -o "$E2E/body" -w '%{http_code}' -b "$B" "$U/api/v1/orders?status=all")
if [ "$st" = 200 ] && ! grep -q '"a1"' "$E2E/body"; then ok http_others_orders_unseen
else fail http_others_orders_unseen "$st $(cat "$E2E/body")"; fi
req http_others_funds_unseen 200 '^\[{"asset":"AAPL","available":"100","held":"0"}\]$' -b "$B" "$U/api/v1/balances"

# ---- a trade, replace, cancel ----------------------------------------------
req http_sell_trades 201 '"order_id":"b1","status":"filled","filled":4' -b "$B" -H "$BH" -H "$J" \
    -d '{"symbol":"AAPL","side":"sell","quantity":4,"price":"10","client_order_id":"b1"}' "$U/api/v1/orders"
req http_fills_taker 200 '"order_id":"b1","symbol":"AAPL","side":"sell","quantity":4,"price":"10.25".*"liquidity":"taker"' \
    -b "$B" "$U/api/v1/fills"
req http_fills_maker 200 '"order_id":"a1".*"quantity":4.*"liquidity":"maker"' -b "$A" "$U/api/v1/fills"
req http_ticker_after 200 '"last":"10.25","volume":4' "$U/api/v1/ticker/AAPL"
req http_trades_after 200 '"price":"10.25","quantity":4,"time":[0-9]*,"taker":"sell"' "$U/api/v1/trades/AAPL"
req http_replace 200 '"order_id":"a2","status":"open"' -b "$A" -H "$AH" -H "$J" \
    -d '{"quantity":8,"price":"10.5","client_order_id":"a2"}' "$U/api/v1/orders/a1/replace"
req http_replace_missing 400 '"code":"MISSING_FIELD"' -b "$A" -H "$AH" -H "$J" -d '{"quantity":8}' \
    "$U/api/v1/orders/a2/replace"
req http_cancel 200 '"order_id":"a2","status":"canceled","canceled":8' -X DELETE -b "$A" -H "$AH" "$U/api/v1/orders/a2"
req http_cancel_again 404 '"code":"NOT_FOUND"' -X DELETE -b "$A" -H "$AH" "$U/api/v1/orders/a2"
req http_cancel_bad_id 400 '"code":"BAD_FIELD"' -X DELETE -b "$A" -H "$AH" "$U/api/v1/orders/a.b"
req http_history 200 '"order_id":"a2".*"status":"canceled".*"order_id":"a1".*"status":"replaced"' -b "$A" \
    "$U/api/v1/orders?status=all"

# ---- API keys and signed requests --------------------------------------------
req http_key_create 201 '"key_id":"[0-9a-f]\{16\}","secret":"[0-9a-f]\{64\}"' -b "$B" -H "$BH" -H "$J" -d '{"label":"bot"}' \
    "$U/api/v1/keys"
KID=$(sed 's/.*"key_id":"\([0-9a-f]*\)".*/\1/' "$E2E/body")
SEC=$(sed 's/.*"secret":"\([0-9a-f]*\)".*/\1/' "$E2E/body")
req http_key_needs_csrf 403 '"code":"CSRF"' -b "$B" -H "$J" -d '{"label":"x"}' "$U/api/v1/keys"
NONCE=0
# signed METHOD PATH BODY [TS]: sets SH (the four headers as curl arguments in $1..)
sign() {
    NONCE=$((NONCE + 1))
    TS=${4:-$(($(date +%s) * 1000))}
    N="nonce-$$-$NONCE"
    SIG=$(printf '%s\n%s\n%s\n%s\n%s' "$TS" "$N" "$1" "$2" "$3" | openssl dgst -sha256 -hmac "$SEC" | sed 's/.* //')
}
B2='{"symbol":"AAPL","side":"sell","quantity":1,"price":"50","client_order_id":"k1"}'
sign POST /api/v1/orders "$B2"
req http_signed_order 201 '"order_id":"k1","status":"open"' -H "X-Bourse-Key: $KID" -H "X-Bourse-Timestamp: $TS" \
    -H "X-Bourse-Nonce: $N" -H "X-Bourse-Signature: $SIG" -H "$J" -d "$B2" "$U/api/v1/orders"
req http_signed_replayed 401 '"code":"REPLAYED"' -H "X-Bourse-Key: $KID" -H "X-Bourse-Timestamp: $TS" \
    -H "X-Bourse-Nonce: $N" -H "X-Bourse-Signature: $SIG" -H "$J" -d "$B2" "$U/api/v1/orders"
sign GET /api/v1/balances ''
req http_signed_get 200 '"asset":"AAPL"' -H "X-Bourse-Key: $KID" -H "X-Bourse-Timestamp: $TS" \
    -H "X-Bourse-Nonce: $N" -H "X-Bourse-Signature: $SIG" "$U/api/v1/balances"
sign GET '/api/v1/orders?status=all' ''
req http_signed_query 200 '"order_id":"k1"' -H "X-Bourse-Key: $KID" -H "X-Bourse-Timestamp: $TS" \
    -H "X-Bourse-Nonce: $N" -H "X-Bourse-Signature: $SIG" "$U/api/v1/orders?status=all"
sign GET /api/v1/balances '' $((($(date +%s) - 120) * 1000))
req http_signed_stale 401 '"code":"STALE_REQUEST"' -H "X-Bourse-Key: $KID" -H "X-Bourse-Timestamp: $TS" \
    -H "X-Bourse-Nonce: $N" -H "X-Bourse-Signature: $SIG" "$U/api/v1/balances"
sign GET /api/v1/balances ''
req http_signed_bad_signature 401 '"code":"BAD_SIGNATURE"' -H "X-Bourse-Key: $KID" -H "X-Bourse-Timestamp: $TS" \
    -H "X-Bourse-Nonce: $N" -H "X-Bourse-Signature: $SIG" "$U/api/v1/fills"
sign GET /api/v1/balances ''
req http_signed_unknown_key 401 '"code":"UNAUTHORIZED"' -H "X-Bourse-Key: 0123456789abcdef" -H "X-Bourse-Timestamp: $TS" \
    -H "X-Bourse-Nonce: $N" -H "X-Bourse-Signature: $SIG" "$U/api/v1/balances"
sign POST /api/v1/keys '{}'
req http_key_cannot_make_keys 403 '"code":"FORBIDDEN"' -H "X-Bourse-Key: $KID" -H "X-Bourse-Timestamp: $TS" \
    -H "X-Bourse-Nonce: $N" -H "X-Bourse-Signature: $SIG" -H "$J" -d '{}' "$U/api/v1/keys"
sign DELETE /api/v1/orders/a1 ''
req http_signed_cancel_others 404 '"code":"NOT_FOUND"' -X DELETE -H "X-Bourse-Key: $KID" -H "X-Bourse-Timestamp: $TS" \
    -H "X-Bourse-Nonce: $N" -H "X-Bourse-Signature: $SIG" "$U/api/v1/orders/a1"

# ---- the private WebSocket ---------------------------------------------------------
if command -v python3 >/dev/null; then
    ASESS=$(awk '$6 == "bourse_session" {print $7}' "$A")
    python3 - "$HP" "$ASESS" >"$E2E/ws.out" 2>&1 <<'PY' &
import base64, os, socket, sys
port, sess = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: bourse-user\r\n"
           "Cookie: bourse_session=%s\r\n\r\n" % (port, key, sess)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
print(head.split(b"\r\n")[0].decode())
sys.stdout.flush()
def frame():
    global buf
    while len(buf) < 2:
        buf += s.recv(4096)
    n = buf[1] & 127
    off = 2
    if n == 126:
        while len(buf) < 4: buf += s.recv(4096)
        n = int.from_bytes(buf[2:4], "big"); off = 4
    while len(buf) < off + n:
        buf += s.recv(4096)
    m = buf[off:off + n]
    buf = buf[off + n:]
    return m.decode()
for _ in range(3):
    print(frame())
    sys.stdout.flush()
PY
    WSPID=$!
    i=0
    while ! grep -q '101' "$E2E/ws.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    sleep 0.2
    req http_place_for_ws 201 '"order_id":"w1"' -b "$A" -H "$AH" -H "$J" \
        -d '{"symbol":"AAPL","side":"buy","quantity":2,"price":"50","client_order_id":"w1"}' "$U/api/v1/orders"
    i=0
    while [ "$(grep -c '"type"' "$E2E/ws.out")" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    kill "$WSPID" 2>/dev/null
    if grep -q '"type":"order","order_id":"w1"' "$E2E/ws.out" && grep -q '"type":"fill","order_id":"w1".*"liquidity":"taker"' "$E2E/ws.out"; then
        ok http_private_ws_pushes
    else fail http_private_ws_pushes "$(tr '\n' '|' <"$E2E/ws.out")"; fi
    # without a session the upgrade is refused
    st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
        -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Version: 13' \
        -H 'Sec-WebSocket-Protocol: bourse-user' "$U/api/v1/ws")
    if [ "$st" != 101 ]; then ok http_private_ws_needs_auth; else fail http_private_ws_needs_auth "upgraded"; fi
    # nor does it fall through to the market-data socket without its subprotocol
    st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -b "$A" -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
        -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Version: 13' "$U/api/v1/ws")
    if [ "$st" != 101 ]; then ok http_private_ws_needs_subprotocol; else fail http_private_ws_needs_subprotocol "upgraded"; fi
fi

# ---- logout, then locks -------------------------------------------------------------
req http_logout_needs_csrf 403 '"code":"CSRF"' -X POST -b "$A" "$U/api/v1/logout"
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST -b "$A" -H "$AH" "$U/api/v1/logout")
if [ "$st" = 204 ]; then ok http_logout; else fail http_logout "status $st"; fi
req http_after_logout 401 '"code":"UNAUTHORIZED"' -b "$A" "$U/api/v1/me"
for i in 1 2 3 4 5; do
    curl -s -o /dev/null -H "$J" -d '{"username":"bob","password":"wrong"}' "$U/api/v1/login"
done
req http_login_locked 429 '"code":"LOCKED"' -H "$J" -d '{"username":"bob","password":"pw-bob"}' "$U/api/v1/login"
e2e_stop
if [ "$RC" = 0 ]; then ok http_server_stops_clean; else fail http_server_stops_clean "exit $RC"; fi

# After a restart the key still works (DATA/api-keys), through a fresh
# session into the gateway without a password (the trusted socket), and
# the user's history comes back from the log.
if e2e_start "$d"; then
    HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
    U="http://127.0.0.1:$HP"
    sign GET '/api/v1/orders?status=all' ''
    req http_key_after_restart 200 '"order_id":"k1"' -H "X-Bourse-Key: $KID" -H "X-Bourse-Timestamp: $TS" \
        -H "X-Bourse-Nonce: $N" -H "X-Bourse-Signature: $SIG" "$U/api/v1/orders?status=all"
    e2e_stop
else
    fail http_key_after_restart "the server did not start again"
fi

# TLS ([http] tls_cert, tls_key): HTTPS only, and the cookies get Secure.
if command -v openssl >/dev/null &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$E2E/k.pem" -out "$E2E/c.pem" -days 1 -subj /CN=localhost \
        >/dev/null 2>&1; then
    printf '[http]\ntls_cert = %s\ntls_key = %s\n' "$E2E/c.pem" "$E2E/k.pem" >"$E2E/tls.ini"
    d=$E2E/t
    if e2e_start "$d" --config "$E2E/tls.ini"; then
        HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
        e2e_users tina
        req http_tls_public 200 '"symbol":"AAPL"' -k "https://127.0.0.1:$HP/api/v1/ticker/AAPL"
        if curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$HP/api/v1/ticker/AAPL"; then
            fail http_tls_only "plain HTTP answered"
        else ok http_tls_only; fi
        req http_tls_login 200 '"username":"tina"' -k -D "$E2E/hdr" -H "$J" -d '{"username":"tina","password":"pw-tina"}' \
            "https://127.0.0.1:$HP/api/v1/login"
        if [ "$(grep -ci '^set-cookie: bourse_.*; Secure' "$E2E/hdr")" = 2 ]; then ok http_tls_secure_cookies
        else fail http_tls_secure_cookies "$(grep -i set-cookie "$E2E/hdr" | tr '\r\n' '  ')"; fi
        e2e_stop
    else
        fail http_tls_start "$(tail -3 "$d.log" | tr '\n' '|')"
    fi
fi
