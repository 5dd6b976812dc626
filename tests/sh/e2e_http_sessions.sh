#!/bin/sh
# End to end: browser sessions and accounts as they are now, over real
# sockets, across a restart (docs/http.md "Sessions", "The private WebSocket").
#   Sessions survive a restart (DATA/http-sessions): the same cookies work
#   after it, CSRF included; a logout is still a logout after it.
#   A document uploaded before the restart is named by a KYC sent after it,
#   and the operator's review finds the file after another restart.
#   The role and state are read at every request: an operator whose role is
#   revoked gets 403 at once, a suspended user only reads /me (403
#   NOT_ACTIVE elsewhere) until resumed, a closed user's session ends.
#   The private WebSocket pushes {"type":"account"} (approved, suspended)
#   and {"type":"balance"} (a deposit approved, an order placed), and is
#   closed (1008) when the account is suspended; a new one is refused then.
. tests/sh/e2e_lib.sh
command -v curl >/dev/null || { echo "ok e2e_http_sessions_skipped_no_curl"; exit 0; }
command -v python3 >/dev/null || { echo "ok e2e_http_sessions_skipped_no_python3"; exit 0; }
e2e_init
d=$E2E/d
start() {
    if ! e2e_start "$d"; then
        fail "hsess_start_$1" "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
        exit 0
    fi
    HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
    U="http://127.0.0.1:$HP/api/v1"
}
restart() {
    e2e_stop
    [ "$RC" = 0 ] || fail "hsess_stop_$1" "status $RC"
    start "$1"
}
start first
adm() { timeout 20 "$BOURSE" admin --data "$d" "$@" 2>&1; }
req() { # NAME WANT_STATUS WANT_GREP CURL_ARGS...
    name=$1 want=$2 grep_for=$3
    shift 3
    st=$(curl -s -o "$E2E/body" -w '%{http_code}' --max-time 30 "$@")
    if [ "$st" = "$want" ] && { [ -z "$grep_for" ] || grep -q -- "$grep_for" "$E2E/body"; }; then ok "$name"
    else fail "$name" "status $st (want $want), body $(head -c 300 "$E2E/body")"; fi
}
J='Content-Type: application/json'
A=$E2E/a.ck B=$E2E/b.ck O=$E2E/o.ck
csrf() { awk '$6 == "bourse_csrf" {print $7}' "$1"; }
sess() { awk '$6 == "bourse_session" {print $7}' "$1"; }
# wait (30 s at most) until file $1 has a line matching $2
waitfor() {
    i=0
    while ! grep -q -- "$2" "$1" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    grep -q -- "$2" "$1" 2>/dev/null
}

for u in carol:Sunny-meadow-42 dan:River-stone-777 opal:Quiet-harbor-19; do
    n=${u%%:*} p=${u#*:}
    curl -s -o /dev/null --max-time 30 -H "$J" -d "{\"username\":\"$n\",\"email\":\"$n@example.com\",\"password\":\"$p\"}" "$U/signup"
done
printf '%%PDF-1.4\n%% operator id\n' >"$E2E/op.pdf"
adm account kyc opal 1980-01-01 FR OP12345 "$E2E/op.pdf" Opal Operator >/dev/null
adm kyc approve opal >/dev/null
adm account operator opal >/dev/null
req hsess_login_carol 200 '"state":"kyc_required"' -c "$A" -H "$J" -d '{"username":"carol","password":"Sunny-meadow-42"}' "$U/login"
req hsess_login_dan 200 '"state":"kyc_required"' -c "$B" -H "$J" -d '{"username":"dan","password":"River-stone-777"}' "$U/login"
req hsess_login_opal 200 '"role":"operator"' -c "$O" -H "$J" -d '{"username":"opal","password":"Quiet-harbor-19"}' "$U/login"
AC=$(csrf "$A") OC=$(csrf "$O") BC=$(csrf "$B")
printf '%%PDF-1.4\n%% carol identity document\n' >"$E2E/id.pdf"
sha=$(sha256sum "$E2E/id.pdf" | cut -d' ' -f1)
req hsess_doc 201 "\"sha256\":\"$sha\"" -b "$A" -H "X-CSRF-Token: $AC" -H 'Content-Type: application/pdf' \
    --data-binary "@$E2E/id.pdf" "$U/kyc/document"
req hsess_logout_dan 204 '' -b "$B" -H "X-CSRF-Token: $BC" -X POST "$U/logout"

# ---- restart: the sessions and the uploaded document are still there ----
restart second
req hsess_me_after_restart 200 '"username":"carol"' -b "$A" "$U/me"
req hsess_operator_after_restart 200 '"username":"carol"' -b "$O" "$U/admin/accounts"
req hsess_logout_stays 401 '"code":"UNAUTHORIZED"' -b "$B" "$U/me"
req hsess_csrf_after_restart 403 '"code":"CSRF"' -b "$A" -H "X-CSRF-Token: 00$AC" -H "$J" -d '{}' "$U/kyc"
K='{"legal_name":"Carol Ann Smith","date_of_birth":"1990-02-03","country":"FR","id_number":"AB12345"}'
req hsess_kyc_names_document_after_restart 200 '"state":"kyc_pending"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" -d "$K" "$U/kyc"
restart third
st=$(curl -s -o "$E2E/doc" -w '%{http_code}' --max-time 30 -b "$O" "$U/admin/kyc/carol/document")
if [ "$st" = 200 ] && cmp -s "$E2E/doc" "$E2E/id.pdf"; then ok hsess_document_review_after_restart
else fail hsess_document_review_after_restart "status $st"; fi

# ---- the private WebSocket: account and balance pushes ----
python3 tests/http/ws.py "$HP" "$(sess "$A")" 60 >"$E2E/ws.out" 2>&1 &
WSPID=$!
E2E_PIDS="$E2E_PIDS $WSPID"
waitfor "$E2E/ws.out" '101' || fail hsess_ws_open "$(cat "$E2E/ws.out")"
req hsess_approve 200 '"state":"active"' -b "$O" -H "X-CSRF-Token: $OC" -X POST "$U/admin/kyc/carol/approve"
if waitfor "$E2E/ws.out" '"type":"account","state":"active","role":"user"'; then ok hsess_push_account_approved
else fail hsess_push_account_approved "$(tr '\n' '|' <"$E2E/ws.out")"; fi
req hsess_deposit 201 '"state":"pending"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" -d '{"asset":"CASH","amount":"1000"}' "$U/deposits"
fid=$(sed 's/.*"id":\([0-9]*\).*/\1/' "$E2E/body")
req hsess_deposit_approve 200 '"state":"approved"' -b "$O" -H "X-CSRF-Token: $OC" -X POST "$U/admin/funding/$fid/approve"
if waitfor "$E2E/ws.out" '"type":"balance","balances":\[{"asset":"CASH","available":"1000","held":"0"}'; then ok hsess_push_balance_deposit
else fail hsess_push_balance_deposit "$(tr '\n' '|' <"$E2E/ws.out")"; fi
req hsess_order 201 '"status":"open"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":10,"price":"5","client_order_id":"s1"}' "$U/orders"
if waitfor "$E2E/ws.out" '"type":"balance","balances":\[{"asset":"CASH","available":"950","held":"50"}'; then ok hsess_push_balance_order
else fail hsess_push_balance_order "$(tr '\n' '|' <"$E2E/ws.out")"; fi

# ---- the role and the state, at every request ----
adm account operator opal revoke >/dev/null
req hsess_role_revoked 403 '"code":"FORBIDDEN"' -b "$O" "$U/admin/accounts"
adm account operator opal >/dev/null
req hsess_role_back 200 '"username":"carol"' -b "$O" "$U/admin/accounts"
req hsess_suspend 200 '"state":"suspended"' -b "$O" -H "X-CSRF-Token: $OC" -H "$J" -X POST \
    -d '{"reason":"under review"}' "$U/admin/accounts/carol/suspend"
if waitfor "$E2E/ws.out" '"type":"account","state":"suspended","role":"user","reason":"under review"' &&
    waitfor "$E2E/ws.out" '^CLOSE 1008'; then ok hsess_push_suspended_and_closed
else fail hsess_push_suspended_and_closed "$(tr '\n' '|' <"$E2E/ws.out")"; fi
req hsess_suspended_balances 403 '"code":"NOT_ACTIVE"' -b "$A" "$U/balances"
req hsess_suspended_order 403 '"code":"NOT_ACTIVE"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":1,"price":"5"}' "$U/orders"
req hsess_suspended_me 200 '"state":"suspended"' -b "$A" "$U/me"
python3 tests/http/ws.py "$HP" "$(sess "$A")" 10 >"$E2E/ws2.out" 2>&1
if grep -q '101' "$E2E/ws2.out"; then fail hsess_suspended_ws_refused "$(tr '\n' '|' <"$E2E/ws2.out")"
else ok hsess_suspended_ws_refused; fi
req hsess_resume 200 '"state":"active"' -b "$O" -H "X-CSRF-Token: $OC" -X POST "$U/admin/accounts/carol/resume"
req hsess_resumed_balances 200 '"asset":"CASH"' -b "$A" "$U/balances"
req hsess_close 200 '"state":"closed"' -b "$O" -H "X-CSRF-Token: $OC" -X POST "$U/admin/accounts/carol/close"
req hsess_closed_request 403 '"code":"NOT_ACTIVE"' -b "$A" "$U/me"
req hsess_closed_session_ended 401 '"code":"UNAUTHORIZED"' -b "$A" "$U/me"
kill "$WSPID" 2>/dev/null
e2e_stop
