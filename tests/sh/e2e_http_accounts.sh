#!/bin/sh
# End to end: the account life cycle over the HTTP API (docs/http.md,
# src/http/accounts.c) with curl against bourse serve.
#   sign-up (taken name, weak password), the web login of a kyc_required
#   account, /me, the identity document (sniffed) and data, the operator's
#   queue, document, reject and approve, a deposit the operator approves,
#   an order through the order endpoint, funding lists, suspend, resume,
#   close (login refused), halts, and authorization: a user gets 403 on
#   /admin (another user's document too), and sees only their own funding.
. tests/sh/e2e_lib.sh
command -v curl >/dev/null || { echo "ok e2e_http_accounts_skipped_no_curl"; exit 0; }
e2e_init
d=$E2E/d
if ! e2e_start "$d"; then
    fail e2e_http_accounts_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
U="http://127.0.0.1:$HP/api/v1"
adm() { timeout 20 "$BOURSE" admin --data "$d" "$@" 2>&1; }
req() { # NAME WANT_STATUS WANT_GREP CURL_ARGS...
    name=$1 want=$2 grep_for=$3
    shift 3
    st=$(curl -s -o "$E2E/body" -w '%{http_code}' --max-time 10 "$@")
    if [ "$st" = "$want" ] && grep -q -- "$grep_for" "$E2E/body"; then ok "$name"
    else fail "$name" "status $st (want $want), body $(head -c 300 "$E2E/body")"; fi
}
J='Content-Type: application/json'
A=$E2E/a.cookies B=$E2E/b.cookies O=$E2E/o.cookies
csrf() { awk '$6 == "bourse_csrf" {print $7}' "$1"; }

# ---- sign-up and login before KYC ----
req hacct_signup 201 '"username":"carol","state":"kyc_required"' -H "$J" \
    -d '{"username":"carol","email":"carol@example.com","password":"Sunny-meadow-42"}' "$U/signup"
req hacct_signup_taken 409 '"code":"CONFLICT"' -H "$J" \
    -d '{"username":"carol","email":"c2@example.com","password":"Sunny-meadow-42"}' "$U/signup"
req hacct_signup_weak 400 '"code":"BAD_FIELD"' -H "$J" \
    -d '{"username":"dave","email":"d@example.com","password":"password123"}' "$U/signup"
req hacct_signup_missing 400 '"code":"MISSING_FIELD"' -H "$J" -d '{"username":"dave"}' "$U/signup"
req hacct_signup_dan 201 '"state":"kyc_required"' -H "$J" \
    -d '{"username":"dan","email":"dan@example.com","password":"River-stone-777"}' "$U/signup"
req hacct_signup_op 201 '"state":"kyc_required"' -H "$J" \
    -d '{"username":"opal","email":"opal@example.com","password":"Quiet-harbor-19"}' "$U/signup"
req hacct_login_wrong 401 '"code":"UNAUTHORIZED"' -H "$J" -d '{"username":"carol","password":"Sunny-meadow-43"}' "$U/login"
req hacct_login_kyc_required 200 '"username":"carol","role":"user","state":"kyc_required"' -c "$A" -H "$J" \
    -d '{"username":"carol","password":"Sunny-meadow-42"}' "$U/login"
req hacct_login_dan 200 '"state":"kyc_required"' -c "$B" -H "$J" -d '{"username":"dan","password":"River-stone-777"}' "$U/login"
AC=$(csrf "$A") BC=$(csrf "$B")
req hacct_me 200 '"email":"carol@example.com","kyc":{"state":"required"' -b "$A" "$U/me"

# ---- the operator: made with bourse admin ----
printf '%%PDF-1.4\n%% operator id\n' >"$E2E/op.pdf"
out=$(adm account kyc opal 1980-01-01 FR OP12345 "$E2E/op.pdf" Opal Operator)
case "$out" in *kyc_pending*) ;; *) fail hacct_operator_kyc "$out" ;; esac
adm kyc approve opal >/dev/null
adm account operator opal >/dev/null
req hacct_login_operator 200 '"role":"operator","state":"active"' -c "$O" -H "$J" \
    -d '{"username":"opal","password":"Quiet-harbor-19"}' "$U/login"
OC=$(csrf "$O")
# POST as operator: session cookie + CSRF header
opost() { req "$1" "$2" "$3" -b "$O" -H "X-CSRF-Token: $OC" -H "$J" -X POST "$4" ${5:+-d "$5"}; }

# ---- KYC: document, data ----
printf 'GIF89a not an id' >"$E2E/id.gif"
req hacct_doc_sniffed 400 '"code":"BAD_FIELD"' -b "$A" -H "X-CSRF-Token: $AC" -H 'Content-Type: image/png' \
    --data-binary "@$E2E/id.gif" "$U/kyc/document"
K='{"legal_name":"Carol Ann Smith","date_of_birth":"1990-02-03","country":"FR","id_number":"AB12345"}'
req hacct_kyc_without_doc 400 '"code":"MISSING_FIELD"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" -d "$K" "$U/kyc"
printf '%%PDF-1.4\n%% carol identity document\n' >"$E2E/id.pdf"
sha=$(sha256sum "$E2E/id.pdf" | cut -d' ' -f1)
req hacct_doc 201 "\"sha256\":\"$sha\"" -b "$A" -H "X-CSRF-Token: $AC" -H 'Content-Type: application/pdf' \
    --data-binary "@$E2E/id.pdf" "$U/kyc/document"
req hacct_kyc_csrf 403 '"code":"CSRF"' -b "$A" -H "$J" -d "$K" "$U/kyc"
req hacct_kyc_too_young 400 '"code":"BAD_FIELD"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" \
    -d '{"legal_name":"Carol","date_of_birth":"2020-02-03","country":"FR","id_number":"AB12345"}' "$U/kyc"
req hacct_kyc 200 '"state":"kyc_pending"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" -d "$K" "$U/kyc"
printf '%%PDF-1.4\n%% dan identity\n' >"$E2E/dan.pdf"
req hacct_doc_dan 201 '"type":"application/pdf"' -b "$B" -H "X-CSRF-Token: $BC" -H 'Content-Type: application/pdf' \
    --data-binary "@$E2E/dan.pdf" "$U/kyc/document"

# ---- authorization ----
req hacct_user_admin_forbidden 403 '"code":"FORBIDDEN"' -b "$B" "$U/admin/kyc"
req hacct_user_other_document 403 '"code":"FORBIDDEN"' -b "$B" "$U/admin/kyc/carol/document"
req hacct_user_approve_forbidden 403 '"code":"FORBIDDEN"' -b "$B" -H "X-CSRF-Token: $BC" -X POST "$U/admin/kyc/dan/approve"
req hacct_admin_unauthorized 401 '"code":"UNAUTHORIZED"' "$U/admin/accounts"

# ---- the operator's review ----
req hacct_queue 200 "\"username\":\"carol\",\"email\":\"carol@example.com\",\"legal_name\":\"Carol Ann Smith\".*\"sha256\":\"$sha\"" \
    -b "$O" "$U/admin/kyc"
st=$(curl -s -o "$E2E/doc" -w '%{http_code} %{content_type}' -b "$O" "$U/admin/kyc/carol/document")
if [ "$st" = "200 application/pdf" ] && cmp -s "$E2E/doc" "$E2E/id.pdf"; then ok hacct_document_review
else fail hacct_document_review "got $st"; fi
req hacct_document_none 404 '"code":"NOT_FOUND"' -b "$O" "$U/admin/kyc/dan/document"
req hacct_document_bad_name 404 '"code":"NOT_FOUND"' -b "$O" "$U/admin/kyc/a%20b/document"
opost hacct_reject 200 '"username":"carol","state":"kyc_rejected"' "$U/admin/kyc/carol/reject" '{"reason":"the photo is blurred"}'
req hacct_me_rejected 200 '"kyc":{"state":"rejected","reason":"the photo is blurred"}' -b "$A" "$U/me"
req hacct_kyc_again 200 '"state":"kyc_pending"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" -d "$K" "$U/kyc"
opost hacct_approve 200 '"username":"carol","state":"active"' "$U/admin/kyc/carol/approve"
opost hacct_approve_again 409 '"code":"CONFLICT"' "$U/admin/kyc/carol/approve"
req hacct_accounts 200 '"username":"carol","email":"carol@example.com","state":"active","role":"user"' -b "$O" "$U/admin/accounts"

# ---- funding ----
req hacct_deposit 201 '"id":1,"state":"pending"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" \
    -d '{"asset":"CASH","amount":"1000.50"}' "$U/deposits"
req hacct_deposit_bad_amount 400 '"code":"BAD_FIELD"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" \
    -d '{"asset":"CASH","amount":"1.00001"}' "$U/deposits"
req hacct_funding_pending 200 '"id":1,"kind":"deposit","asset":"CASH","amount":"1000.5' -b "$A" "$U/funding"
req hacct_admin_funding 200 '"id":1,"username":"carol"' -b "$O" "$U/admin/funding?state=pending"
opost hacct_funding_approve 200 '"id":1,"state":"approved"' "$U/admin/funding/1/approve"
req hacct_funding_other_user 200 '^\[\]$' -b "$B" "$U/funding"
req hacct_withdraw 201 '"id":2,"state":"pending"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" \
    -d '{"asset":"CASH","amount":"5000"}' "$U/withdrawals"
opost hacct_funding_reject 200 '"id":2,"state":"rejected"' "$U/admin/funding/2/reject" '{"reason":"not now"}'
req hacct_funding_reason 200 '"id":2,"kind":"withdrawal".*"state":"rejected","reason":"not now"' -b "$A" "$U/funding"

# ---- an order, then suspend, halt ----
req hacct_order 201 '"status":"open"' -b "$A" -H "X-CSRF-Token: $AC" -H "$J" \
    -d '{"symbol":"AAPL","side":"buy","quantity":10,"price":"5","client_order_id":"c1"}' "$U/orders"
req hacct_balances 200 '"asset":"CASH"' -b "$A" "$U/balances"
opost hacct_suspend 200 '"username":"carol","state":"suspended"' "$U/admin/accounts/carol/suspend" '{"reason":"under review"}'
opost hacct_resume 200 '"username":"carol","state":"active"' "$U/admin/accounts/carol/resume"
opost hacct_halt 200 '"symbol":"AAPL","halted":true' "$U/admin/halt/AAPL"
req hacct_halted 200 '"symbol":"AAPL","halted":true' "$U/symbols"
opost hacct_resume_symbol 200 '"symbol":"AAPL","halted":false' "$U/admin/resume/AAPL"
opost hacct_close 200 '"username":"dan","state":"closed"' "$U/admin/accounts/dan/close"
req hacct_login_closed 403 '"code":"NOT_ACTIVE"' -H "$J" -d '{"username":"dan","password":"River-stone-777"}' "$U/login"
e2e_stop
