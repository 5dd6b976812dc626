#!/bin/sh
# Crash over HTTP: kill -9 the server while clients sign up, upload KYC
# documents, ask for deposits and place orders through the HTTP API; after
# the restart every request that was answered 2xx is in the state (the
# account, the stored document with its content, the approved deposit,
# the open order), the state is whole (journal verify; the orders' cash is
# held), and the browser sessions still work.  Bounded: the load runs a few
# seconds.  The HTTP answers come only once the command is durable
# (docs/http.md), which is what this checks.
. tests/sh/e2e_lib.sh
command -v curl >/dev/null || { echo "ok e2e_http_crash_skipped_no_curl"; exit 0; }
e2e_init
d=$E2E/d
printf '[accounts]\ndev_mode = 1\n[http]\nrate_ip = 100000\nrate_key = 100000\n' >"$E2E/conf"
if ! e2e_start "$d" --config "$E2E/conf"; then
    fail e2e_http_crash_start "server did not start: $(tail -3 "$d.log" | tr '\n' '|')"
    exit 0
fi
HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
U="http://127.0.0.1:$HP/api/v1"
J='Content-Type: application/json'
adm() { timeout 20 "$BOURSE" admin --data "$d" "$@" 2>&1; }
csrf() { awk '$6 == "bourse_csrf" {print $7}' "$1"; }
post() { # BODYFILE COOKIES URL [curl args]: prints the status
    bf=$1 ck=$2 url=$3
    shift 3
    curl -s -o "$bf" -w '%{http_code}' --max-time 10 -b "$ck" -H "X-CSRF-Token: $(csrf "$ck")" "$@" "$url" 2>/dev/null
}
# trader: active, funded; kyc1: uploads documents
for u in trader:Amber-lake-0101 kycone:Brisk-wind-2202; do
    curl -s -o /dev/null --max-time 30 -H "$J" -d "{\"username\":\"${u%%:*}\",\"email\":\"x@example.com\",\"password\":\"${u#*:}\"}" "$U/signup"
done
printf '%%PDF-1.4\n%% trader\n' >"$E2E/t.pdf"
adm account kyc trader 1980-01-01 FR TR12345 "$E2E/t.pdf" Trader One >/dev/null
adm kyc approve trader >/dev/null
curl -s -o /dev/null -c "$E2E/t.ck" --max-time 30 -H "$J" -d '{"username":"trader","password":"Amber-lake-0101"}' "$U/login"
curl -s -o /dev/null -c "$E2E/k.ck" --max-time 30 -H "$J" -d '{"username":"kycone","password":"Brisk-wind-2202"}' "$U/login"
st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -b "$E2E/t.ck" -H "X-CSRF-Token: $(csrf "$E2E/t.ck")" -H "$J" \
    -d '{"asset":"CASH","amount":"1000000"}' "$U/deposits")
[ "$st" = 201 ] || fail hcrash_setup "first deposit: $st"

: >"$E2E/acked"
stop=$E2E/stop
( i=0; while [ ! -f "$stop" ]; do i=$((i + 1))
    st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "$J" \
        -d "{\"username\":\"su$i\",\"email\":\"su$i@example.com\",\"password\":\"Quiet-harbor-$i-x\"}" "$U/signup" 2>/dev/null)
    [ "$st" = 201 ] && echo "signup su$i" >>"$E2E/acked"
done ) &
L1=$!
( i=0; while [ ! -f "$stop" ]; do i=$((i + 1))
    printf '%%PDF-1.4\n%% document %s\n' "$i" >"$E2E/doc.$i"
    st=$(post "$E2E/b2" "$E2E/k.ck" "$U/kyc/document" -H 'Content-Type: application/pdf' --data-binary "@$E2E/doc.$i")
    [ "$st" = 201 ] && echo "doc $(sha256sum "$E2E/doc.$i" | cut -d' ' -f1)" >>"$E2E/acked"
done ) &
L2=$!
( i=0; while [ ! -f "$stop" ]; do i=$((i + 1))
    st=$(post "$E2E/b3" "$E2E/t.ck" "$U/deposits" -H "$J" -d '{"asset":"CASH","amount":"1.5"}')
    [ "$st" = 201 ] && echo "deposit $(sed 's/.*"id":\([0-9]*\).*/\1/' "$E2E/b3")" >>"$E2E/acked"
done ) &
L3=$!
( i=0; while [ ! -f "$stop" ]; do i=$((i + 1))
    st=$(post "$E2E/b4" "$E2E/t.ck" "$U/orders" -H "$J" -d "{\"symbol\":\"AAPL\",\"side\":\"buy\",\"quantity\":1,\"price\":\"1.25\",\"client_order_id\":\"o$i\"}")
    [ "$st" = 201 ] && echo "order o$i" >>"$E2E/acked"
done ) &
L4=$!
# kill once every kind was acknowledged at least once (30 s at most), then a moment more
i=0
while [ $i -lt 300 ]; do
    n=0
    for k in signup doc deposit order; do grep -q "^$k " "$E2E/acked" && n=$((n + 1)); done
    [ $n = 4 ] && break
    sleep 0.1
    i=$((i + 1))
done
sleep 0.5
kill -9 "$PID"
touch "$stop"
for p in $L1 $L2 $L3 $L4; do wait "$p"; done
wait "$PID" 2>/dev/null
for k in signup doc deposit order; do
    grep -q "^$k " "$E2E/acked" || fail "hcrash_load_$k" "no $k was acknowledged before the kill"
done

if ! e2e_start "$d" --config "$E2E/conf"; then
    fail hcrash_restart "server did not start again: $(tail -5 "$d.log" | tr '\n' '|')"
    exit 0
fi
HP=$(grep -o 'WebSocket on [0-9.]*:[0-9]*' "$d.log" | tail -1 | sed 's/.*://')
U="http://127.0.0.1:$HP/api/v1"
adm account list >"$E2E/accounts"
adm funding list >"$E2E/funding"
adm orders trader >"$E2E/orders"
lost=""
while read -r k v; do
    case $k in
    signup) grep -q "^ACCOUNT $v kyc_required " "$E2E/accounts" || lost="$lost $k:$v" ;;
    doc) [ -f "$d/kyc/kycone/$v.pdf" ] && [ "$(sha256sum <"$d/kyc/kycone/$v.pdf" | cut -d' ' -f1)" = "$v" ] ||
        lost="$lost $k:$v" ;;
    deposit) grep -q "^FUNDING $v trader deposit CASH 1.5 approved" "$E2E/funding" || lost="$lost $k:$v" ;;
    order) grep -q "\b$v\b" "$E2E/orders" || lost="$lost $k:$v" ;;
    esac
done <"$E2E/acked"
if [ -z "$lost" ]; then ok "hcrash_acknowledged_kept ($(wc -l <"$E2E/acked") requests)"
else fail hcrash_acknowledged_kept "lost after the restart:$lost"; fi
# no temporary document left visible under a final name, no half account
if ls "$d/kyc/kycone" | grep -v '^[0-9a-f]\{64\}\.pdf$' | grep -qv 'tmp'; then fail hcrash_documents_whole "$(ls "$d/kyc/kycone")"
else ok hcrash_documents_whole; fi
# the cash held is the open orders' (1.25 each): nothing half applied
nopen=$(grep -c '\bo[0-9]*\b' "$E2E/orders")
st=$(curl -s -o "$E2E/bal" -w '%{http_code}' --max-time 30 -b "$E2E/t.ck" "$U/balances")
held=$(sed 's/.*"asset":"CASH","available":"[0-9.]*","held":"\([0-9.]*\)".*/\1/' "$E2E/bal")
want=$(awk -v n="$nopen" 'BEGIN { printf "%g", n * 1.25 }')
if [ "$st" = 200 ] && [ "$(awk -v h="$held" 'BEGIN { printf "%g", h }')" = "$want" ]; then ok hcrash_holds_match_orders
else fail hcrash_holds_match_orders "status $st, held $held, want $want for $nopen orders: $(head -c 200 "$E2E/bal")"; fi
e2e_stop
"$BOURSE" journal verify "$d" >"$E2E/verify" 2>&1 && ok hcrash_journal_verify ||
    fail hcrash_journal_verify "$(tail -3 "$E2E/verify" | tr '\n' '|')"
